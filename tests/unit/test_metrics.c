/* Metrics: rendered from a real daemon, served over real loopback HTTP. */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <uv.h>

#include "addr.h"
#include "conf.h"
#include "daemon.h"
#include "metrics.h"

static char dir[] = "/tmp/test_metrics.XXXXXX";
static uv_loop_t loop;

/* Write a config dir with one jail; extra goes into [jaild]. */
static void
test_metrics_setup_conf(const char *extra)
{
	char path[512], cmd[1024];
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(cmd, sizeof cmd,
	    "mkdir -p %s/conf/jails.d && cp -r "
	    "%s/filters %s/actions %s/conf/ && : > %s/mail.log",
	    dir, getenv("top_srcdir") ? getenv("top_srcdir") : ".",
	    getenv("top_srcdir") ? getenv("top_srcdir") : ".", dir, dir);
	cr_assert_eq(system(cmd), 0);
	snprintf(path, sizeof path, "%s/conf/jaild.conf", dir);
	cr_assert_not_null(f = fopen(path, "w"));
	fprintf(f, "[jaild]\nsocket = %s/s.sock\ndbfile = %s/db\n%s\n", dir,
	    dir, extra);
	fclose(f);
	snprintf(path, sizeof path, "%s/conf/jails.d/mail.conf", dir);
	cr_assert_not_null(f = fopen(path, "w"));
	fprintf(f,
	    "[mail]\nenabled = true\nfilter = sendmail-idle\n"
	    "action = record[file=\"%s/rec\"]\nlogpath = %s/mail.log\n",
	    dir, dir);
	fclose(f);
}

/* Make a daemon on the private loop; NULL with *cause on failure. */
static struct daemon *
test_metrics_daemon(const char *extra, char **cause)
{
	struct daemon_opts opts;
	struct conf_errors errs = {NULL, 0};
	struct daemon *d;
	char confdir[512];

	test_metrics_setup_conf(extra);
	snprintf(confdir, sizeof confdir, "%s/conf", dir);
	memset(&opts, 0, sizeof opts);
	opts.confdir = confdir;
	opts.foreground = 1;
	uv_loop_init(&loop);
	d = daemon_create(&loop, &opts, &errs, cause);
	cr_assert_eq(
	    errs.n, 0, "config errors: %s", errs.n ? errs.msgs[0] : "");
	return d;
}

static void
test_metrics_teardown(struct daemon *d)
{
	char cmd[600];

	daemon_free(d);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	system(cmd);
}

/* Every sample line is "jaild_NAME{labels} VALUE" or "jaild_NAME VALUE". */
static void
test_metrics_check_format(const char *text)
{
	char *copy = strdup(text), *line, *save = NULL, *sp, *end;

	for (line = strtok_r(copy, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# HELP jaild_", 13) == 0 ||
		    strncmp(line, "# TYPE jaild_", 13) == 0)
			continue;
		cr_assert(strncmp(line, "jaild_", 6) == 0, "line: %s", line);
		cr_assert_not_null(sp = strrchr(line, ' '), "line: %s", line);
		strtod(sp + 1, &end);
		cr_assert(end != sp + 1 && *end == '\0', "value: %s", line);
	}
	free(copy);
}

Test(metrics, renders_daemon_state)
{
	struct daemon *d;
	struct addr a;
	char *cause = NULL, *text;

	d = test_metrics_daemon("", &cause);
	cr_assert_not_null(d, "daemon_create: %s", cause);
	cr_assert_eq(addr_parse("203.0.113.7", &a), 0);
	cr_assert_not_null(daemon_ban(d, daemon_jail_find(d, "mail"), &a, 600,
	    3, "failures", NULL, &cause));
	uv_run(&loop, UV_RUN_NOWAIT);
	metrics_lag_record(daemon_metrics(d), 2000000); /* 2 ms */
	text = metrics_render(d, daemon_metrics(d));
	cr_assert_not_null(text);
	test_metrics_check_format(text);
	cr_assert_not_null(
	    strstr(text, "jaild_jail_bans_active{jail=\"mail\"} 1\n"), "%s",
	    text);
	cr_assert_not_null(
	    strstr(text, "jaild_jail_bans_total{jail=\"mail\"} 1\n"));
	cr_assert_not_null(
	    strstr(text, "jaild_jail_unbans_total{jail=\"mail\"} 0\n"));
	cr_assert_not_null(strstr(
	    text, "jaild_jail_saturation_episodes_total{jail=\"mail\"} 0\n"));
	free(text);
	cr_assert_eq(
	    daemon_unban(d, daemon_jail_find(d, "mail"), &a, "test"), 0);
	uv_run(&loop, UV_RUN_NOWAIT);
	text = metrics_render(d, daemon_metrics(d));
	cr_assert_not_null(
	    strstr(text, "jaild_jail_unbans_total{jail=\"mail\"} 1\n"), "%s",
	    text);
	cr_assert_not_null(
	    strstr(text, "jaild_jail_bans_active{jail=\"mail\"} 0\n"));
	free(text);
	cr_assert_not_null(daemon_ban(d, daemon_jail_find(d, "mail"), &a, 600,
	    3, "failures", NULL, &cause));
	uv_run(&loop, UV_RUN_NOWAIT);
	text = metrics_render(d, daemon_metrics(d));
	cr_assert_not_null(
	    strstr(text, "# TYPE jaild_source_lines_total counter\n"));
	cr_assert_not_null(strstr(text, "jaild_source_lines_total{path=\""));
	cr_assert_not_null(strstr(text, "jaild_action_failures_total{jail="
	                                "\"mail\",action=\"record\"} 0\n"));
	/* The 2 ms sample is above the 1 ms bucket and within 5 ms. */
	cr_assert_not_null(
	    strstr(text, "jaild_loop_lag_seconds_bucket{le=\"0.001\"} 0\n"),
	    "%s", text);
	cr_assert_not_null(
	    strstr(text, "jaild_loop_lag_seconds_bucket{le=\"0.005\"} 1\n"));
	cr_assert_not_null(strstr(text, "jaild_loop_lag_max_seconds 0.002"));
	free(text);
	test_metrics_teardown(d);
}

struct test_metrics_get {
	int port;
	const char *request;
	char reply[65536];
	uv_async_t done;
};

/* A blocking HTTP client on its own thread, so the loop can serve it. */
static void *
test_metrics_client(void *arg)
{
	struct test_metrics_get *g = arg;
	struct sockaddr_in sin;
	size_t off = 0;
	ssize_t n;
	int fd;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)g->port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0) {
		(void)write(fd, g->request, strlen(g->request));
		while (off < sizeof g->reply - 1 &&
		       (n = read(
		            fd, g->reply + off, sizeof g->reply - 1 - off)) > 0)
			off += (size_t)n;
	}
	g->reply[off] = '\0';
	close(fd);
	uv_async_send(&g->done);
	return NULL;
}

static void
test_metrics_done_cb(uv_async_t *h)
{
	uv_stop(h->loop);
}

/* Send request to the daemon's listener; the reply is in g->reply. */
static void
test_metrics_http(
    struct daemon *d, struct test_metrics_get *g, const char *request)
{
	pthread_t t;

	g->port = metrics_port(daemon_metrics(d));
	g->request = request;
	cr_assert_gt(g->port, 0);
	uv_async_init(&loop, &g->done, test_metrics_done_cb);
	pthread_create(&t, NULL, test_metrics_client, g);
	uv_run(&loop, UV_RUN_DEFAULT);
	pthread_join(t, NULL);
	uv_close((uv_handle_t *)&g->done, NULL);
	uv_run(&loop, UV_RUN_NOWAIT);
}

Test(metrics, serves_get_metrics_over_http)
{
	static struct test_metrics_get g;
	struct daemon *d;
	char *cause = NULL;

	d = test_metrics_daemon("metrics_listen = 127.0.0.1:0", &cause);
	cr_assert_not_null(d, "daemon_create: %s", cause);
	test_metrics_http(d, &g, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert(
	    strncmp(g.reply, "HTTP/1.0 200 OK\r\n", 17) == 0, "%s", g.reply);
	cr_assert_not_null(strstr(g.reply, "text/plain; version=0.0.4"));
	cr_assert_not_null(strstr(g.reply, "\r\n\r\n# HELP jaild_build_info"));
	test_metrics_check_format(strstr(g.reply, "\r\n\r\n") + 4);
	cr_assert_not_null(
	    strstr(g.reply, "jaild_jail_bans_active{jail=\"mail\"} 0\n"));

	test_metrics_http(d, &g, "GET / HTTP/1.0\r\n\r\n");
	cr_assert(strncmp(g.reply, "HTTP/1.0 404 ", 13) == 0, "%s", g.reply);
	test_metrics_http(d, &g, "POST /metrics HTTP/1.0\r\n\r\n");
	cr_assert(strncmp(g.reply, "HTTP/1.0 405 ", 13) == 0, "%s", g.reply);
	test_metrics_teardown(d);
}

Test(metrics, refuses_an_oversized_request)
{
	static struct test_metrics_get g;
	static char big[METRICS_MAXREQUEST + 100];
	struct daemon *d;
	char *cause = NULL;

	memset(big, 'x', sizeof big - 1);
	memcpy(big, "GET /metrics HTTP/1.0\r\nX: ", 26);
	d = test_metrics_daemon("metrics_listen = 127.0.0.1:0", &cause);
	cr_assert_not_null(d, "daemon_create: %s", cause);
	test_metrics_http(d, &g, big);
	cr_assert(strncmp(g.reply, "HTTP/1.0 431 ", 13) == 0, "%s", g.reply);
	test_metrics_teardown(d);
}

Test(metrics, bind_failure_is_fatal)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	struct daemon *d;
	char extra[64], *cause = NULL;
	int fd;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	cr_assert_eq(listen(fd, 1), 0);
	getsockname(fd, (struct sockaddr *)&sin, &len);
	snprintf(extra, sizeof extra, "metrics_listen = 127.0.0.1:%d",
	    ntohs(sin.sin_port));
	d = test_metrics_daemon(extra, &cause);
	cr_assert_null(d);
	cr_assert_not_null(
	    strstr(cause, "address already in use"), "%s", cause);
	free(cause);
	close(fd);
	test_metrics_teardown(NULL);
}

Test(metrics, rejects_a_bad_listen_address)
{
	struct daemon *d;
	char *cause = NULL;

	d = test_metrics_daemon("metrics_listen = localhost", &cause);
	cr_assert_null(d);
	cr_assert_not_null(strstr(cause, "ADDRESS:PORT"), "%s", cause);
	free(cause);
	test_metrics_teardown(NULL);
}
