/* Metrics: Prometheus text from the daemon's state, loop lag, listener. */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "fleet.h"
#include "log.h"
#include "metrics.h"
#include "tracker.h"
#include "xmalloc.h"

#define METRICS_LAG_PERIOD_MS 1000
#define METRICS_NBUCKETS 9

/* Upper bounds of the lag histogram's buckets, in seconds. */
static const double metrics_buckets[METRICS_NBUCKETS] = {
    0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30};

struct metrics_client {
	struct metrics *m;
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t wr;
	char buf[METRICS_MAXREQUEST];
	size_t len;
	char *reply;
	int replied;
	int closing;
	int open_handles;
	struct metrics_client *next;
};

struct metrics {
	uv_loop_t *loop;
	struct daemon *d;
	uv_timer_t lag_timer;
	uint64_t lag_expected; /* uv_hrtime() the timer should fire at */
	uint64_t lag_last, lag_max, lag_sum, lag_count; /* ns */
	uint64_t lag_hist[METRICS_NBUCKETS];
	uv_tcp_t server;
	int listening;
	int port;
	struct metrics_client *clients;
	unsigned nclients;
	int open_handles; /* freed when the last one is closed */
};

void
metrics_lag_record(struct metrics *m, uint64_t ns)
{
	size_t i;

	m->lag_last = ns;
	if (ns > m->lag_max)
		m->lag_max = ns;
	m->lag_sum += ns;
	m->lag_count++;
	for (i = 0; i < METRICS_NBUCKETS; i++) {
		if ((double)ns / 1e9 <= metrics_buckets[i]) {
			m->lag_hist[i]++;
			break;
		}
	}
}

/*
 * The lag is how late this timer fires: a busy loop (a slow callback, a
 * huge batch) delays every callback by the same amount.
 */
static void
metrics_lag_cb(uv_timer_t *h)
{
	struct metrics *m = h->data;
	uint64_t now = uv_hrtime();

	metrics_lag_record(
	    m, now > m->lag_expected ? now - m->lag_expected : 0);
	m->lag_expected = now + (uint64_t)METRICS_LAG_PERIOD_MS * 1000000;
	uv_timer_start(&m->lag_timer, metrics_lag_cb, METRICS_LAG_PERIOD_MS, 0);
}

/* Write a label value with \, " and newline escaped as the format says. */
static void
metrics_label(FILE *f, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void
metrics_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample with a single label. */
static void
metrics_one(
    FILE *f, const char *name, const char *label, const char *value, uint64_t v)
{
	fprintf(f, "%s{%s=\"", name, label);
	metrics_label(f, value);
	fprintf(f, "\"} %llu\n", (unsigned long long)v);
}

static void
metrics_render_sources(FILE *f, struct daemon *d)
{
	static const char *names[] = {"jaild_source_lines_total",
	    "jaild_source_bytes_total", "jaild_source_rotations_total",
	    "jaild_source_truncations_total", "jaild_source_lines_cut_total"};
	static const char *helps[] = {"Lines read from the log.",
	    "Bytes read from the log.", "Rotations of the log followed.",
	    "Truncations of the log followed.",
	    "Lines over the maximum line length (64 KiB): not matched."};
	const struct source_stats *st;
	struct source *s;
	uint64_t v = 0;
	size_t i, k;

	for (k = 0; k < 5; k++) {
		metrics_head(f, names[k], "counter", helps[k]);
		for (i = 0; i < daemon_nsources(d); i++) {
			if ((s = daemon_source(d, i)) == NULL)
				continue;
			st = source_stats(s);
			v = k == 0   ? st->lines
			    : k == 1 ? st->bytes
			    : k == 2 ? st->rotations
			    : k == 3 ? st->truncations
			             : source_cut(s);
			metrics_one(f, names[k], "path", source_path(s), v);
		}
	}
}

/* The value of jail counter k (the order of metrics_jail_names). */
static uint64_t
metrics_jail_value(const struct jail *j, size_t k)
{
	switch (k) {
	case 0:
		return j->stats.lines;
	case 1:
		return j->stats.matched;
	case 2:
		return j->stats.ignored;
	case 3:
		return j->stats.total_failures;
	case 4:
		return j->stats.total_bans;
	case 5:
		return jail_ban_count(j);
	case 6:
		return tracker_count(j->tracker);
	case 7:
		return j->stats.sat_count;
	case 8:
		return j->stats.sat_holders;
	case 9:
		return j->stats.sat_banned;
	case 10:
		return j->stats.sat_episodes;
	default:
		return j->stats.total_unbans;
	}
}

static void
metrics_render_jails(FILE *f, struct daemon *d)
{
	static const char *names[][3] = {
	    {"jaild_jail_lines_total", "counter", "Lines offered to the jail."},
	    {"jaild_jail_matches_total", "counter",
	        "Lines the jail's filter matched."},
	    {"jaild_jail_ignored_total", "counter",
	        "Matches ignored (ignoreregex, ignoreip)."},
	    {"jaild_jail_failures_total", "counter", "Failures counted."},
	    {"jaild_jail_bans_total", "counter", "Bans made by the jail."},
	    {"jaild_jail_bans_active", "gauge", "Bans in force now."},
	    {"jaild_jail_failures_tracked", "gauge",
	        "Addresses with failures counted within findtime."},
	    {"jaild_jail_saturation_signals_total", "counter",
	        "Saturation lines seen (the service refused connections)."},
	    {"jaild_jail_saturation_holders_total", "counter",
	        "Connection holders found during saturation."},
	    {"jaild_jail_saturation_bans_total", "counter",
	        "Bans made because of saturation."},
	    {"jaild_jail_saturation_episodes_total", "counter",
	        "Saturation episodes (signal lines less than 60 s apart)."},
	    {"jaild_jail_unbans_total", "counter",
	        "Bans lifted (expired, jailctl, reload, folded)."},
	};
	size_t i, k;

	for (k = 0; k < sizeof names / sizeof names[0]; k++) {
		metrics_head(f, names[k][0], names[k][1], names[k][2]);
		for (i = 0; i < daemon_njails(d); i++)
			metrics_one(f, names[k][0], "jail",
			    daemon_jail(d, i)->name,
			    metrics_jail_value(daemon_jail(d, i), k));
	}
}

static void
metrics_render_actions(FILE *f, struct daemon *d)
{
	static const char *names[][2] = {
	    {"jaild_action_bans_total", "Bans the action applied."},
	    {"jaild_action_unbans_total", "Bans the action lifted."},
	    {"jaild_action_failures_total",
	        "Action commands that failed or timed out."},
	    {"jaild_action_evicted_total",
	        "Held connections destroyed by the action."},
	};
	const struct action_stats *st;
	struct jail *j;
	uint64_t v;
	size_t i, a, k;

	for (k = 0; k < 4; k++) {
		metrics_head(f, names[k][0], "counter", names[k][1]);
		for (i = 0; i < daemon_njails(d); i++) {
			j = daemon_jail(d, i);
			for (a = 0; a < j->nactions; a++) {
				st = &j->actions[a]->stats;
				v = k == 0   ? st->bans
				    : k == 1 ? st->unbans
				    : k == 2 ? st->failures
				             : st->evicted;
				fprintf(f, "%s{jail=\"", names[k][0]);
				metrics_label(f, j->name);
				fputs("\",action=\"", f);
				metrics_label(f, j->actions[a]->conf->name);
				fprintf(f, "\"} %llu\n", (unsigned long long)v);
			}
		}
	}
}

static void
metrics_render_lag(FILE *f, const struct metrics *m)
{
	uint64_t cum = 0;
	size_t i;

	metrics_head(f, "jaild_loop_lag_seconds", "histogram",
	    "How late a 1 s timer fires: time the event loop was busy.");
	for (i = 0; i < METRICS_NBUCKETS; i++) {
		cum += m->lag_hist[i];
		fprintf(f, "jaild_loop_lag_seconds_bucket{le=\"%g\"} %llu\n",
		    metrics_buckets[i], (unsigned long long)cum);
	}
	fprintf(f, "jaild_loop_lag_seconds_bucket{le=\"+Inf\"} %llu\n",
	    (unsigned long long)m->lag_count);
	fprintf(
	    f, "jaild_loop_lag_seconds_sum %.9f\n", (double)m->lag_sum / 1e9);
	fprintf(f, "jaild_loop_lag_seconds_count %llu\n",
	    (unsigned long long)m->lag_count);
	metrics_head(f, "jaild_loop_lag_max_seconds", "gauge",
	    "Largest loop lag seen since start.");
	fprintf(
	    f, "jaild_loop_lag_max_seconds %.9f\n", (double)m->lag_max / 1e9);
}

char *
metrics_render(struct daemon *d, const struct metrics *m)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if ((f = open_memstream(&text, &len)) == NULL)
		return NULL;
	metrics_head(f, "jaild_build_info", "gauge", "Version of jaild.");
	fprintf(f, "jaild_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
	metrics_head(f, "jaild_start_time_seconds", "gauge",
	    "When jaild started, in seconds since the epoch.");
	fprintf(
	    f, "jaild_start_time_seconds %lld\n", (long long)daemon_started(d));
	metrics_render_sources(f, d);
	metrics_render_jails(f, d);
	metrics_render_actions(f, d);
	fleet_metrics_render(f, daemon_fleet(d));
	if (m != NULL)
		metrics_render_lag(f, m);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* Free m once its last handle has been closed. */
static void
metrics_handle_closed(uv_handle_t *h)
{
	struct metrics *m = h->data;

	if (--m->open_handles == 0)
		free(m);
}

/* Unlink a client and free it once both its handles are closed. */
static void
metrics_client_closed(uv_handle_t *h)
{
	struct metrics_client *c = h->data, **p;
	struct metrics *m = c->m;

	if (--c->open_handles > 0)
		return;
	for (p = &m->clients; *p != NULL; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	m->nclients--;
	free(c->reply);
	free(c);
	if (--m->open_handles == 0)
		free(m);
}

static void
metrics_client_close(struct metrics_client *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	uv_close((uv_handle_t *)&c->tcp, metrics_client_closed);
	uv_close((uv_handle_t *)&c->timer, metrics_client_closed);
}

static void
metrics_client_timeout_cb(uv_timer_t *h)
{
	metrics_client_close(h->data);
}

static void
metrics_client_written_cb(uv_write_t *wr, int status)
{
	metrics_client_close(wr->data);
}

/* Send status and body, then close: one request per connection. */
static void
metrics_client_reply(
    struct metrics_client *c, const char *status, const char *body)
{
	uv_buf_t b;

	c->replied = 1;
	uv_read_stop((uv_stream_t *)&c->tcp);
	xasprintf(&c->reply,
	    "HTTP/1.0 %s\r\nContent-Type: text/plain; version=0.0.4; "
	    "charset=utf-8\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n"
	    "%s",
	    status, strlen(body), body);
	b = uv_buf_init(c->reply, (unsigned)strlen(c->reply));
	c->wr.data = c;
	if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, &b, 1,
	        metrics_client_written_cb) != 0)
		metrics_client_close(c);
}

/* Answer a complete request: only GET /metrics is served. */
static void
metrics_client_request(struct metrics_client *c)
{
	char *text;

	if (strncmp(c->buf, "GET ", 4) != 0) {
		metrics_client_reply(
		    c, "405 Method Not Allowed", "only GET /metrics\n");
		return;
	}
	if (strncmp(c->buf + 4, "/metrics ", 9) != 0 &&
	    strncmp(c->buf + 4, "/metrics?", 9) != 0) {
		metrics_client_reply(c, "404 Not Found", "try /metrics\n");
		return;
	}
	if ((text = metrics_render(c->m->d, c->m)) == NULL) {
		metrics_client_reply(
		    c, "500 Internal Server Error", "out of memory\n");
		return;
	}
	metrics_client_reply(c, "200 OK", text);
	free(text);
}

static void
metrics_client_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct metrics_client *c = h->data;

	/* Keep one byte for the terminating NUL. */
	*b = uv_buf_init(
	    c->buf + c->len, (unsigned)(sizeof c->buf - 1 - c->len));
}

static void
metrics_client_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct metrics_client *c = s->data;

	if (n < 0) {
		metrics_client_close(c);
		return;
	}
	if (c->replied)
		return;
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	if (strstr(c->buf, "\r\n\r\n") != NULL ||
	    strstr(c->buf, "\n\n") != NULL)
		metrics_client_request(c);
	else if (c->len >= sizeof c->buf - 1)
		metrics_client_reply(c, "431 Request Header Fields Too Large",
		    "request too large\n");
}

/* Accept one connection; beyond the cap it is closed at once. */
static void
metrics_connection_cb(uv_stream_t *server, int status)
{
	struct metrics *m = server->data;
	struct metrics_client *c;

	if (status != 0)
		return;
	c = xcalloc(1, sizeof *c);
	c->m = m;
	uv_tcp_init(m->loop, &c->tcp);
	uv_timer_init(m->loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->open_handles = 2;
	c->next = m->clients;
	m->clients = c;
	m->nclients++;
	m->open_handles++;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 ||
	    m->nclients > METRICS_MAXCLIENTS) {
		metrics_client_close(c);
		return;
	}
	uv_timer_start(
	    &c->timer, metrics_client_timeout_cb, METRICS_CLIENT_TIMEOUT_MS, 0);
	uv_read_start((uv_stream_t *)&c->tcp, metrics_client_alloc_cb,
	    metrics_client_read_cb);
}

/* Parse "host:port" or "[v6]:port" into ss. */
static int
metrics_parse_listen(
    const char *listen, struct sockaddr_storage *ss, char **cause)
{
	char *host = xstrdup(listen), *colon = strrchr(host, ':'), *end;
	char *h = host;
	long port;
	int rc = -1;

	if (colon == NULL)
		goto fail;
	*colon = '\0';
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || port < 0 || port > 65535)
		goto fail;
	if (*h == '[' && h[strlen(h) - 1] == ']') {
		h[strlen(h) - 1] = '\0';
		rc = uv_ip6_addr(h + 1, (int)port, (struct sockaddr_in6 *)ss);
	} else
		rc = uv_ip4_addr(h, (int)port, (struct sockaddr_in *)ss);
fail:
	if (rc != 0)
		xasprintf(cause,
		    "metrics_listen %s: not ADDRESS:PORT "
		    "(127.0.0.1:9433, [::1]:9433)",
		    listen);
	free(host);
	return rc == 0 ? 0 : -1;
}

/* Bind and listen; a failure is the caller's to make fatal. */
static int
metrics_listen(struct metrics *m, const char *listen, char **cause)
{
	struct sockaddr_storage ss;
	int len = sizeof ss, rc;

	memset(&ss, 0, sizeof ss);
	if (metrics_parse_listen(listen, &ss, cause) != 0)
		return -1;
	uv_tcp_init(m->loop, &m->server);
	m->server.data = m;
	m->listening = 1;
	m->open_handles++;
	if ((rc = uv_tcp_bind(&m->server, (struct sockaddr *)&ss, 0)) != 0 ||
	    (rc = uv_listen(
	         (uv_stream_t *)&m->server, 8, metrics_connection_cb)) != 0) {
		xasprintf(
		    cause, "metrics_listen %s: %s", listen, uv_strerror(rc));
		return -1;
	}
	if (uv_tcp_getsockname(&m->server, (struct sockaddr *)&ss, &len) == 0)
		m->port = ntohs(ss.ss_family == AF_INET6
		                    ? ((struct sockaddr_in6 *)&ss)->sin6_port
		                    : ((struct sockaddr_in *)&ss)->sin_port);
	log_info(
	    "metrics: serving GET /metrics on %s (port %d)", listen, m->port);
	return 0;
}

struct metrics *
metrics_create(
    uv_loop_t *loop, struct daemon *d, const char *listen, char **cause)
{
	struct metrics *m;

	m = xcalloc(1, sizeof *m);
	m->loop = loop;
	m->d = d;
	m->port = -1;
	uv_timer_init(loop, &m->lag_timer);
	m->lag_timer.data = m;
	m->open_handles = 1;
	uv_unref((uv_handle_t *)&m->lag_timer);
	m->lag_expected =
	    uv_hrtime() + (uint64_t)METRICS_LAG_PERIOD_MS * 1000000;
	uv_timer_start(&m->lag_timer, metrics_lag_cb, METRICS_LAG_PERIOD_MS, 0);
	if (listen != NULL && *listen != '\0' &&
	    metrics_listen(m, listen, cause) != 0) {
		metrics_free(m);
		return NULL;
	}
	return m;
}

void
metrics_free(struct metrics *m)
{
	struct metrics_client *c;

	if (m == NULL)
		return;
	for (c = m->clients; c != NULL; c = c->next)
		metrics_client_close(c);
	if (m->listening)
		uv_close((uv_handle_t *)&m->server, metrics_handle_closed);
	uv_close((uv_handle_t *)&m->lag_timer, metrics_handle_closed);
}

struct metrics *
metrics_replace(struct metrics *old, const char *listen, char **cause)
{
	struct metrics *m;

	m = metrics_create(old->loop, old->d, listen, cause);
	if (m == NULL)
		return NULL;
	m->lag_last = old->lag_last;
	m->lag_max = old->lag_max;
	m->lag_sum = old->lag_sum;
	m->lag_count = old->lag_count;
	memcpy(m->lag_hist, old->lag_hist, sizeof m->lag_hist);
	metrics_free(old);
	return m;
}

int
metrics_port(const struct metrics *m)
{
	return m->port;
}
