/* The saturation response: find the idle slot-holders of a full service. */
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/tcp.h>

#include "conf_table.h"
#include "daemon.h"
#include "duration.h"
#include "jail.h"
#include "log.h"
#include "port.h"
#include "saturation.h"
#include "xmalloc.h"

/* Saturation lines further apart than this belong to different episodes. */
#define SATURATION_EPISODE_GAP 60
/* After the last line, keep looking for this long at least (seconds). */
#define SATURATION_WATCH_MIN 60
/* Never look again sooner than this (ms): the kernel's clocks are coarse. */
#define SATURATION_RESCAN_MIN_MS 200
/* A margin so that a connection has crossed idle_ms when we look. */
#define SATURATION_RESCAN_SLACK_MS 100
/* A bound on the looks of one episode, whatever happens. */
#define SATURATION_RESCAN_MAX 200
/* Holders listed one by one in a notify report; the rest are counted. */
#define SATURATION_REPORT_MAX 50

struct saturation {
	struct daemon *d;
	struct jail *j;
	struct saturation_opts opts;
	uint16_t *lports; /* the jail's ports, sorted */
	size_t nlports;
	uv_timer_t timer;
	time_t episode_last; /* last line of the current episode, or 0 */
	time_t watch_until; /* look again until then */
	unsigned rescans;
	int notified; /* saturation.notify was decided for this episode */
	char *line; /* the last saturation line, for the ban's matches */
};

/* The value and place of jail key key, or NULL if unset. */
static const struct config_var *
saturation_var(const struct jail_conf *jc, const char *key)
{
	size_t i;

	for (i = 0; i < jc->nvars; i++) {
		if (strcmp(jc->vars[i].key, key) == 0)
			return &jc->vars[i];
	}
	return NULL;
}

/* Check one numeric key against the table (default dflt); *out gets it. */
static int
saturation_num(const struct jail_conf *jc, const char *key, const char *dflt,
    int64_t *out, char **cause)
{
	const struct conf_table_entry *t =
	    conf_table_find(CONF_TABLE_JAIL, key);
	const struct config_var *v = saturation_var(jc, key);
	char *why = NULL;

	if (t == NULL || conf_table_check(t, v ? v->value : dflt, out, &why)) {
		xasprintf(cause, "%s:%d: %s", v ? v->file : jc->file,
		    v ? v->line : jc->line, why ? why : key);
		free(why);
		return -1;
	}
	return 0;
}

int
saturation_opts_parse(
    const struct jail_conf *jc, struct saturation_opts *o, char **cause)
{
	const struct config_var *m = saturation_var(jc, "saturation.mode");
	int64_t idle, bytes, conns, p4, p6, ni;

	memset(o, 0, sizeof *o);
	if (saturation_num(jc, "saturation.idle", "10s", &idle, cause) ||
	    saturation_num(jc, "saturation.maxbytes", "512", &bytes, cause) ||
	    saturation_num(jc, "saturation.minconns", "2", &conns, cause) ||
	    saturation_num(jc, "saturation.prefix4", "0", &p4, cause) ||
	    saturation_num(jc, "saturation.prefix6", "0", &p6, cause) ||
	    saturation_num(jc, "saturation.notify_interval", "10m", &ni, cause))
		return -1;
	o->idle_ms = (uint32_t)(idle > 86400 ? 86400000 : idle * 1000);
	o->maxbytes = (uint64_t)bytes;
	o->minconns = (unsigned)conns;
	o->prefix4 = (int)p4;
	o->prefix6 = (int)p6;
	o->notify_interval = ni;
	o->mode = SATURATION_BAN;
	if (m == NULL || strcmp(m->value, "ban") == 0)
		return 0;
	if (strcmp(m->value, "report") == 0) {
		o->mode = SATURATION_REPORT;
		return 0;
	}
	xasprintf(cause, "%s:%d: saturation.mode: '%s' is not ban or report",
	    m->file, m->line, m->value);
	return -1;
}

int
saturation_check(const struct jail_conf *jc, struct conf_errors *errs)
{
	struct saturation_opts o;
	char *cause = NULL;

	if (saturation_opts_parse(jc, &o, &cause) == 0)
		return 0;
	/* cause already names file:line, as conf_errors_add would. */
	errs->msgs = xreallocarray(errs->msgs, errs->n + 1, sizeof *errs->msgs);
	errs->msgs[errs->n++] = cause;
	return -1;
}

/* What the sockets of one source say about it. */
struct saturation_src {
	struct addr addr;
	struct addr group; /* its prefix, or itself */
	unsigned idle; /* connections small and silent for idle_ms */
	int active; /* one sent more than maxbytes */
	uint32_t wait_ms; /* until its recent connections are idle; 0: none */
	uint64_t groupsum; /* idle connections of eligible sources in group */
};

static int
saturation_src_cmp_addr(const void *a, const void *b)
{
	return addr_cmp(&((const struct saturation_src *)a)->addr,
	    &((const struct saturation_src *)b)->addr);
}

static int
saturation_src_cmp_group(const void *a, const void *b)
{
	return addr_cmp(&((const struct saturation_src *)a)->group,
	    &((const struct saturation_src *)b)->group);
}

/* Fold one socket into its source's record. */
static void
saturation_src_add(const struct saturation_opts *o, struct saturation_src *src,
    const struct sockdiag_sock *s)
{
	uint32_t left;

	if (s->bytes_received > o->maxbytes)
		src->active = 1;
	else if (s->last_data_recv_ms < o->idle_ms) {
		left = o->idle_ms - s->last_data_recv_ms;
		if (left > src->wait_ms)
			src->wait_ms = left;
	} else
		src->idle++;
}

/* One record per remote address of the sockets that hold a slot. */
static struct saturation_src *
saturation_sources(const struct saturation_opts *o,
    const struct sockdiag_sock *socks, size_t nsocks, size_t *n)
{
	struct saturation_src *v;
	size_t i, k;

	v = xcalloc(nsocks + 1, sizeof *v);
	for (i = k = 0; i < nsocks; i++) {
		if (socks[i].state != TCP_ESTABLISHED &&
		    socks[i].state != TCP_CLOSE_WAIT)
			continue;
		v[k].addr = socks[i].remote;
		saturation_src_add(o, &v[k++], &socks[i]);
	}
	qsort(v, k, sizeof *v, saturation_src_cmp_addr);
	*n = 0;
	for (i = 0; i < k; i++) {
		if (*n > 0 && addr_equal(&v[*n - 1].addr, &v[i].addr)) {
			v[*n - 1].idle += v[i].idle;
			v[*n - 1].active |= v[i].active;
			if (v[i].wait_ms > v[*n - 1].wait_ms)
				v[*n - 1].wait_ms = v[i].wait_ms;
			continue;
		}
		v[(*n)++] = v[i];
	}
	return v;
}

/* Whether a is in one of the n ignored prefixes. */
static int
saturation_ignored(const struct addr *a, const struct addr *ignore, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (addr_contains(&ignore[i], a))
			return 1;
	}
	return 0;
}

/*
 * Sum, per prefix group, the idle connections of the sources that may be
 * taken (not active, nothing recent, not ignored).  Sorts v by group.
 */
static void
saturation_groups(const struct saturation_opts *o, struct saturation_src *v,
    size_t n, const struct addr *ignore, size_t nignore)
{
	size_t i, k, start;
	uint64_t sum;
	int plen;

	for (i = 0; i < n; i++) {
		v[i].group = v[i].addr;
		plen = v[i].addr.family == AF_INET ? o->prefix4 : o->prefix6;
		if (plen > 0)
			addr_truncate(&v[i].group, plen);
		if (v[i].active || v[i].wait_ms > 0 ||
		    saturation_ignored(&v[i].addr, ignore, nignore))
			v[i].idle = 0; /* never taken, and counts for none */
	}
	qsort(v, n, sizeof *v, saturation_src_cmp_group);
	for (start = 0; start < n; start = i) {
		sum = 0;
		for (i = start;
		     i < n && addr_equal(&v[i].group, &v[start].group); i++)
			sum += v[i].idle;
		for (k = start; k < i; k++)
			v[k].groupsum = sum;
	}
}

void
saturation_decide(const struct saturation_opts *o,
    const struct sockdiag_sock *socks, size_t nsocks, const struct addr *ignore,
    size_t nignore, struct saturation_verdict *out)
{
	struct saturation_src *v;
	size_t n, i;

	memset(out, 0, sizeof *out);
	v = saturation_sources(o, socks, nsocks, &n);
	saturation_groups(o, v, n, ignore, nignore);
	out->holders = xcalloc(n + 1, sizeof *out->holders);
	for (i = 0; i < n; i++) {
		if (v[i].wait_ms > 0 && !v[i].active &&
		    !saturation_ignored(&v[i].addr, ignore, nignore) &&
		    (out->wait_ms == 0 || v[i].wait_ms < out->wait_ms))
			out->wait_ms = v[i].wait_ms;
		if (v[i].idle == 0 ||
		    (v[i].idle < o->minconns && v[i].groupsum < o->minconns))
			continue;
		out->holders[out->nholders].addr = v[i].addr;
		out->holders[out->nholders++].conns = v[i].idle;
	}
	free(v);
}

/* The jail's ports, expanded; -1 with *cause if they are "any". */
static int
saturation_ports(
    const struct jail_conf *jc, uint16_t **lports, size_t *n, char **cause)
{
	struct port_range *r = NULL;
	size_t nr = 0;

	*lports = NULL;
	*n = 0;
	if (jc->port == NULL ||
	    port_parse_list(jc->port, jc->protocol, &r, &nr, cause) != 0)
		return -1;
	if (nr == 0 || (nr == 1 && r[0].lo == 0 && r[0].hi == 65535)) {
		free(r);
		xasprintf(cause, "the jail's port is any: set port = ...");
		return -1;
	}
	*lports = port_expand(r, nr, n);
	free(r);
	return 0;
}

/*
 * Make the state of j.  Without a port list it cannot tell the service's
 * sockets from the host's outgoing ones, so it only counts.
 */
static struct saturation *
saturation_create(uv_loop_t *loop, struct daemon *d, struct jail *j)
{
	struct saturation *s;
	char *cause = NULL;

	s = xcalloc(1, sizeof *s);
	s->d = d;
	s->j = j;
	if (saturation_opts_parse(j->conf, &s->opts, &cause) != 0 ||
	    saturation_ports(j->conf, &s->lports, &s->nlports, &cause) != 0) {
		log_warnx(
		    "jail %s: saturation response off: %s", j->name, cause);
		free(cause);
		s->nlports = 0;
	}
	uv_timer_init(loop, &s->timer);
	s->timer.data = s;
	return s;
}

static void
saturation_close_cb(uv_handle_t *h)
{
	struct saturation *s = h->data;

	free(s->lports);
	free(s->line);
	free(s);
}

void
saturation_free(struct saturation *s)
{
	if (s == NULL)
		return;
	uv_timer_stop(&s->timer);
	uv_close((uv_handle_t *)&s->timer, saturation_close_cb);
}

const char *
saturation_mode_name(const struct jail *j)
{
	struct saturation_opts o;
	uint16_t *lports = NULL;
	char *cause = NULL;
	size_t n;
	int ok;

	if (j->conf->saturation_filter == NULL)
		return "off";
	ok = saturation_opts_parse(j->conf, &o, &cause) == 0 &&
	     saturation_ports(j->conf, &lports, &n, &cause) == 0;
	free(cause);
	free(lports);
	if (!ok)
		return "off";
	return o.mode == SATURATION_REPORT ? "report" : "ban";
}

struct saturation_list {
	struct sockdiag_sock *v;
	size_t n, cap;
};

static int
saturation_list_cb(const struct sockdiag_sock *sk, void *arg)
{
	struct saturation_list *l = arg;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	l->v[l->n++] = *sk;
	return 0;
}

/* Remember a holder report mode would ban; a new one is logged once. */
static int
saturation_would(struct jail *j, const struct saturation_holder *h)
{
	struct jail_stats *st = &j->stats;
	char text[ADDR_STRLEN];
	size_t i;

	for (i = 0; i < st->sat_nwould; i++) {
		if (addr_equal(&st->sat_would[i], &h->addr))
			return 0;
	}
	if (st->sat_nwould == JAIL_SAT_WOULD_MAX) {
		memmove(&st->sat_would[0], &st->sat_would[1],
		    (JAIL_SAT_WOULD_MAX - 1) * sizeof st->sat_would[0]);
		st->sat_nwould--;
	}
	st->sat_would[st->sat_nwould++] = h->addr;
	addr_format(&h->addr, text, sizeof text);
	log_info("jail %s: saturation: would ban %s (%u idle connections)",
	    j->name, text, h->conns);
	return 1;
}

/* Ban every holder through the jail, then free the slots they hold. */
static void
saturation_ban(struct saturation *s, const struct saturation_verdict *v)
{
	struct jail *j = s->j;
	struct addr *addrs = xcalloc(v->nholders, sizeof *addrs);
	unsigned *destroyed = xcalloc(v->nholders, sizeof *destroyed);
	unsigned total = 0;
	char *cause = NULL;
	size_t i, n = 0;

	for (i = 0; i < v->nholders; i++) {
		if (jail_ignores(j, &v->holders[i].addr))
			continue;
		if (daemon_ban(s->d, j, &v->holders[i].addr, j->conf->bantime,
		        (int)v->holders[i].conns, "saturation", s->line,
		        &cause) == NULL) {
			log_warnx("jail %s: saturation: %s", j->name, cause);
			free(cause);
			cause = NULL;
			continue;
		}
		j->stats.sat_banned++;
		addrs[n++] = v->holders[i].addr;
	}
	if (sockdiag_destroy_from_list(
	        addrs, n, s->lports, s->nlports, destroyed, &cause) != 0) {
		log_warnx("jail %s: saturation: evict: %s", j->name, cause);
		free(cause);
	}
	for (i = 0; i < n; i++)
		total += destroyed[i];
	log_info("jail %s: saturation: %zu holders banned, %u connections "
	         "evicted",
	    j->name, n, total);
	free(destroyed);
	free(addrs);
}

/* What became of holder h: banned, spared, or only reported. */
static const char *
saturation_fate(const struct saturation *s, const struct saturation_holder *h)
{
	if (s->opts.mode == SATURATION_REPORT)
		return "would ban (saturation.mode = report)";
	if (jail_ban_find(s->j, &h->addr) != NULL)
		return "banned";
	return "not banned (ignored or failed)";
}

/*
 * The plain-text report a notify action gets as <matches>: the line, the
 * mode, then one holder a line.  note says why no holders were looked for.
 */
static char *
saturation_report(const struct saturation *s,
    const struct saturation_verdict *v, const char *note)
{
	char *out, *tmp, text[ADDR_STRLEN];
	size_t i;

	xasprintf(&out, "jail %s: saturation: %s\nmode %s, %zu holders found",
	    s->j->name, s->line != NULL ? s->line : "",
	    s->opts.mode == SATURATION_REPORT ? "report" : "ban", v->nholders);
	if (note != NULL) {
		xasprintf(&tmp, "%s (%s)", out, note);
		free(out);
		out = tmp;
	}
	for (i = 0; i < v->nholders && i < SATURATION_REPORT_MAX; i++) {
		addr_format(&v->holders[i].addr, text, sizeof text);
		xasprintf(&tmp, "%s\n%s: %u idle connections, %s", out, text,
		    v->holders[i].conns, saturation_fate(s, &v->holders[i]));
		free(out);
		out = tmp;
	}
	if (v->nholders > SATURATION_REPORT_MAX) {
		xasprintf(&tmp, "%s\n... and %zu more", out,
		    v->nholders - SATURATION_REPORT_MAX);
		free(out);
		out = tmp;
	}
	return out;
}

/*
 * Run the jail's saturation.notify action for this episode, once, and at
 * most once per notify_interval per jail (the time is kept in the jail's
 * stats, which outlive a reload).  The address is the first holder, or
 * 0.0.0.0/0 when none was found; failures is the number of holders.
 */
static void
saturation_notify(struct saturation *s, const struct saturation_verdict *v,
    const char *note, time_t now)
{
	struct jail *j = s->j;
	struct action_ban ab;
	char *report;

	if (j->notify == NULL || s->notified)
		return;
	s->notified = 1;
	if (j->stats.sat_notify_last != 0 &&
	    now - j->stats.sat_notify_last < s->opts.notify_interval) {
		log_info("jail %s: saturation: no notify, the last was %llds "
		         "ago (notify_interval %llds)",
		    j->name, (long long)(now - j->stats.sat_notify_last),
		    (long long)s->opts.notify_interval);
		return;
	}
	j->stats.sat_notify_last = now;
	j->stats.sat_notified++;
	log_info("jail %s: saturation: notify through action %s (%zu holders)",
	    j->name, j->notify->conf->name, v->nholders);
	memset(&ab, 0, sizeof ab);
	ab.jail = j->name;
	if (v->nholders > 0)
		ab.addr = v->holders[0].addr;
	else
		addr_parse("0.0.0.0/0", &ab.addr);
	ab.start = now;
	ab.end =
	    j->conf->bantime == DURATION_FOREVER ? 0 : now + j->conf->bantime;
	ab.failures = (int)v->nholders;
	ab.reason = "saturation";
	ab.matches = report = saturation_report(s, v, note);
	jail_notify(j, &ab);
	free(report);
}

static void saturation_timer_cb(uv_timer_t *);

/* Look at the sockets, act on the holders, and arm the next look. */
static void
saturation_scan(struct saturation *s, time_t now)
{
	const struct jail_conf *jc = s->j->conf;
	struct saturation_list l = {NULL, 0, 0};
	struct saturation_verdict v;
	char *cause = NULL;
	uint64_t delay;
	size_t i, fresh = 0;

	if (sockdiag_foreach(AF_UNSPEC, s->lports, s->nlports,
	        saturation_list_cb, &l, &cause) != 0) {
		log_warnx("jail %s: saturation: %s", s->j->name, cause);
		memset(&v, 0, sizeof v);
		saturation_notify(s, &v, "cannot list the sockets", now);
		free(cause);
		free(l.v);
		return;
	}
	saturation_decide(&s->opts, l.v, l.n, jc->ignoreip, jc->nignoreip, &v);
	log_debug("jail %s: saturation: %zu sockets, %zu holders, wait %u ms",
	    s->j->name, l.n, v.nholders, v.wait_ms);
	for (i = 0; i < v.nholders; i++) {
		if (s->opts.mode == SATURATION_REPORT)
			fresh += saturation_would(s->j, &v.holders[i]);
	}
	s->j->stats.sat_holders +=
	    s->opts.mode == SATURATION_REPORT ? fresh : v.nholders;
	if (s->opts.mode == SATURATION_BAN && v.nholders > 0)
		saturation_ban(s, &v);
	if (v.wait_ms > 0 && now < s->watch_until &&
	    s->rescans < SATURATION_RESCAN_MAX) {
		delay = (uint64_t)v.wait_ms + SATURATION_RESCAN_SLACK_MS;
		if (delay < SATURATION_RESCAN_MIN_MS)
			delay = SATURATION_RESCAN_MIN_MS;
		s->rescans++;
		uv_timer_start(&s->timer, saturation_timer_cb, delay, 0);
	}
	/* Tell once holders are known, or when no look is left to find any. */
	if (v.nholders > 0 || !uv_is_active((uv_handle_t *)&s->timer))
		saturation_notify(s, &v, NULL, now);
	free(v.holders);
	free(l.v);
}

static void
saturation_timer_cb(uv_timer_t *h)
{
	saturation_scan(h->data, time(NULL));
}

void
saturation_signal(uv_loop_t *loop, struct daemon *d, struct jail *j,
    const char *line, size_t len, time_t now)
{
	struct saturation_verdict none;
	struct saturation *s;
	int64_t watch;

	if (j->sat == NULL)
		j->sat = saturation_create(loop, d, j);
	s = j->sat;
	if (s->episode_last == 0 ||
	    now - s->episode_last > SATURATION_EPISODE_GAP) {
		j->stats.sat_episodes++;
		s->rescans = 0;
		s->notified = 0;
		log_info("jail %s: saturation episode %llu begins", j->name,
		    (unsigned long long)j->stats.sat_episodes);
	}
	s->episode_last = now;
	free(s->line);
	s->line = xstrndup(line, len);
	if (s->nlports == 0) {
		memset(&none, 0, sizeof none);
		saturation_notify(
		    s, &none, "no holders looked for: see the log", now);
		return;
	}
	watch = 3 * (int64_t)(s->opts.idle_ms / 1000);
	s->watch_until =
	    now + (watch > SATURATION_WATCH_MIN ? watch : SATURATION_WATCH_MIN);
	uv_timer_stop(&s->timer);
	saturation_scan(s, now);
}
