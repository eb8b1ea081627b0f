/* Unit tests for saturation: who holds the slots, on lists and for real. */
#include <sys/socket.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <criterion/criterion.h>
#include <uv.h>

#include "action.h"
#include "action_shell.h"
#include "addr.h"
#include "jail.h"
#include "saturation.h"
#include "sockdiag.h"
#include "xmalloc.h"

#define TEST_SAT_PORT 2525
#define TEST_SAT_MAX 64

static struct sockdiag_sock test_sat_socks[TEST_SAT_MAX];
static size_t test_sat_n;

/* Default options, as a jail without saturation.* keys gets them. */
static struct saturation_opts
test_sat_opts(void)
{
	struct saturation_opts o = {.idle_ms = 10000,
	    .maxbytes = 512,
	    .minconns = 2,
	    .mode = SATURATION_BAN};

	return o;
}

/* Add count sockets from peer with bytes received, silent for idle_ms. */
static void
test_sat_add(const char *peer, int count, uint64_t bytes, uint32_t idle_ms)
{
	struct sockdiag_sock *s;
	int i;

	for (i = 0; i < count; i++) {
		cr_assert_lt(test_sat_n, TEST_SAT_MAX);
		s = &test_sat_socks[test_sat_n++];
		memset(s, 0, sizeof *s);
		s->state = TCP_ESTABLISHED;
		cr_assert_eq(addr_parse(peer, &s->remote), 0, "%s", peer);
		s->family = s->remote.family;
		s->lport = 25;
		s->bytes_received = bytes;
		s->last_data_recv_ms = idle_ms;
	}
}

/* Whether peer is among the verdict's holders, with how many conns. */
static unsigned
test_sat_holds(const struct saturation_verdict *v, const char *peer)
{
	struct addr a;
	size_t i;

	cr_assert_eq(addr_parse(peer, &a), 0);
	for (i = 0; i < v->nholders; i++) {
		if (addr_equal(&v->holders[i].addr, &a))
			return v->holders[i].conns;
	}
	return 0;
}

static void
test_sat_reset(void)
{
	test_sat_n = 0;
}

TestSuite(saturation, .init = test_sat_reset);

Test(saturation, idle_helo_only_sources_are_holders)
{
	struct saturation_opts o = test_sat_opts();
	struct saturation_verdict v;

	test_sat_add("203.0.113.7", 4, 40, 30000);
	test_sat_add("203.0.113.8", 3, 512, 12000);
	test_sat_add("198.51.100.1", 1, 40, 30000); /* one only */
	saturation_decide(&o, test_sat_socks, test_sat_n, NULL, 0, &v);
	cr_assert_eq(v.nholders, 2);
	cr_assert_eq(test_sat_holds(&v, "203.0.113.7"), 4);
	cr_assert_eq(test_sat_holds(&v, "203.0.113.8"), 3);
	cr_assert_eq(test_sat_holds(&v, "198.51.100.1"), 0);
	cr_assert_eq(v.wait_ms, 0);
	free(v.holders);
}

Test(saturation, a_source_sending_is_never_touched)
{
	struct saturation_opts o = test_sat_opts();
	struct saturation_verdict v;

	/* Idle connections, but one more that carries a message. */
	test_sat_add("192.0.2.10", 5, 40, 30000);
	test_sat_add("192.0.2.10", 1, 4096, 30000);
	/* Small but recent: it may be a slow honest client. */
	test_sat_add("192.0.2.11", 5, 40, 30000);
	test_sat_add("192.0.2.11", 1, 100, 2000);
	saturation_decide(&o, test_sat_socks, test_sat_n, NULL, 0, &v);
	cr_assert_eq(v.nholders, 0);
	/* The recent one may go idle: look again when it would. */
	cr_assert_eq(v.wait_ms, 8000);
	free(v.holders);
}

Test(saturation, young_connections_wait_then_qualify)
{
	struct saturation_opts o = test_sat_opts();
	struct saturation_verdict v;

	test_sat_add("203.0.113.9", 15, 11, 700);
	test_sat_add("203.0.113.9", 1, 11, 900);
	saturation_decide(&o, test_sat_socks, test_sat_n, NULL, 0, &v);
	cr_assert_eq(v.nholders, 0);
	cr_assert_eq(v.wait_ms, 9300, "the source is ready when all are");
	free(v.holders);
	test_sat_reset();
	test_sat_add("203.0.113.9", 16, 11, 10000);
	saturation_decide(&o, test_sat_socks, test_sat_n, NULL, 0, &v);
	cr_assert_eq(test_sat_holds(&v, "203.0.113.9"), 16);
	free(v.holders);
}

Test(saturation, ignoreip_always_wins)
{
	struct saturation_opts o = test_sat_opts();
	struct saturation_verdict v;
	struct addr ign[2];

	cr_assert_eq(addr_parse("10.0.0.0/8", &ign[0]), 0);
	cr_assert_eq(addr_parse("2001:db8::/32", &ign[1]), 0);
	o.prefix4 = 24;
	test_sat_add("10.1.2.3", 6, 0, 60000);
	test_sat_add("2001:db8::5", 6, 0, 60000);
	test_sat_add("2001:db9::5", 6, 0, 60000);
	/* Young and ignored: no reason to look again for it. */
	test_sat_add("10.1.2.4", 6, 0, 10);
	saturation_decide(&o, test_sat_socks, test_sat_n, ign, 2, &v);
	cr_assert_eq(v.nholders, 1);
	cr_assert_eq(test_sat_holds(&v, "2001:db9::5"), 6);
	cr_assert_eq(v.wait_ms, 0);
	free(v.holders);
}

Test(saturation, prefix_catches_the_distributed_case)
{
	struct saturation_opts o = test_sat_opts();
	struct saturation_verdict v;
	char peer[32];
	int i;

	for (i = 0; i < 20; i++) {
		snprintf(peer, sizeof peer, "10.77.0.%d", 100 + i);
		test_sat_add(peer, 1, 12, 15000);
	}
	test_sat_add("10.77.0.2", 1, 2000, 15000); /* the legit one */
	test_sat_add("10.78.0.9", 1, 12, 15000); /* alone in its /24 */
	saturation_decide(&o, test_sat_socks, test_sat_n, NULL, 0, &v);
	cr_assert_eq(v.nholders, 0, "per source, one each is not enough");
	free(v.holders);
	o.prefix4 = 24;
	saturation_decide(&o, test_sat_socks, test_sat_n, NULL, 0, &v);
	cr_assert_eq(v.nholders, 20);
	cr_assert_eq(test_sat_holds(&v, "10.77.0.119"), 1);
	cr_assert_eq(test_sat_holds(&v, "10.77.0.2"), 0);
	cr_assert_eq(test_sat_holds(&v, "10.78.0.9"), 0);
	free(v.holders);
}

Test(saturation, prefix6_groups_ipv6_and_keeps_families_apart)
{
	struct saturation_opts o = test_sat_opts();
	struct saturation_verdict v;

	o.prefix6 = 64;
	test_sat_add("2001:db8:1::10", 1, 12, 15000);
	test_sat_add("2001:db8:1::11", 1, 12, 15000);
	test_sat_add("2001:db8:2::11", 1, 12, 15000);
	test_sat_add("192.0.2.1", 1, 12, 15000);
	test_sat_add("192.0.2.2", 1, 12, 15000);
	saturation_decide(&o, test_sat_socks, test_sat_n, NULL, 0, &v);
	cr_assert_eq(v.nholders, 2);
	cr_assert(test_sat_holds(&v, "2001:db8:1::10"));
	cr_assert(test_sat_holds(&v, "2001:db8:1::11"));
	free(v.holders);
}

Test(saturation, listening_and_handshaking_sockets_do_not_count)
{
	struct saturation_opts o = test_sat_opts();
	struct saturation_verdict v;

	test_sat_add("192.0.2.50", 3, 0, 60000);
	test_sat_socks[0].state = TCP_SYN_RECV;
	test_sat_socks[1].state = TCP_SYN_RECV;
	saturation_decide(&o, test_sat_socks, test_sat_n, NULL, 0, &v);
	cr_assert_eq(v.nholders, 0);
	test_sat_socks[1].state = TCP_CLOSE_WAIT;
	free(v.holders);
	saturation_decide(&o, test_sat_socks, test_sat_n, NULL, 0, &v);
	cr_assert_eq(test_sat_holds(&v, "192.0.2.50"), 2);
	free(v.holders);
}

static char test_sat_file[] = "t.conf", test_sat_name[] = "t";
static char test_sat_k1[] = "saturation.idle", test_sat_v1[] = "3s";
static char test_sat_k2[] = "saturation.prefix4", test_sat_v2[8] = "24";
static char test_sat_k3[] = "saturation.mode", test_sat_v3[8] = "report";

/* A jail_conf holding only the given saturation.* vars. */
static void
test_sat_conf(struct jail_conf *jc, struct config_var *vars, size_t n)
{
	memset(jc, 0, sizeof *jc);
	jc->name = test_sat_name;
	jc->file = test_sat_file;
	jc->line = 1;
	jc->vars = vars;
	jc->nvars = n;
}

Test(saturation, opts_defaults_and_errors_name_file_line)
{
	struct config_var vars[] = {
	    {test_sat_k1, test_sat_v1, test_sat_file, 4},
	    {test_sat_k2, test_sat_v2, test_sat_file, 5},
	    {test_sat_k3, test_sat_v3, test_sat_file, 6},
	};
	struct saturation_opts o;
	struct jail_conf jc;
	char *cause = NULL;

	test_sat_conf(&jc, vars, 0);
	cr_assert_eq(saturation_opts_parse(&jc, &o, &cause), 0, "%s", cause);
	cr_assert_eq(o.idle_ms, 10000);
	cr_assert_eq(o.maxbytes, 512);
	cr_assert_eq(o.minconns, 2);
	cr_assert_eq(o.prefix4, 0);
	cr_assert_eq(o.mode, SATURATION_BAN);
	cr_assert_eq(o.notify_interval, 600);
	test_sat_conf(&jc, vars, 3);
	cr_assert_eq(saturation_opts_parse(&jc, &o, &cause), 0, "%s", cause);
	cr_assert_eq(o.idle_ms, 3000);
	cr_assert_eq(o.prefix4, 24);
	cr_assert_eq(o.mode, SATURATION_REPORT);
	strcpy(test_sat_v3, "kill");
	cr_assert_eq(saturation_opts_parse(&jc, &o, &cause), -1);
	cr_assert_str_eq(
	    cause, "t.conf:6: saturation.mode: 'kill' is not ban or report");
	free(cause);
	strcpy(test_sat_v3, "ban");
	strcpy(test_sat_v2, "33");
	cr_assert_eq(saturation_opts_parse(&jc, &o, &cause), -1);
	cr_assert(strncmp(cause, "t.conf:5: ", 10) == 0, "%s", cause);
	free(cause);
}

/* Enter a fresh network namespace with lo up and the test's addresses. */
static void
test_sat_netns(void)
{
	static const char *const addrs[] = {
	    "10.98.0.1/32", "10.98.0.2/32", "10.98.0.3/32"};
	char cmd[128];
	size_t i;

#ifndef HAVE_SOCKDIAG
	cr_skip_test("built without sockdiag: no connection lister");
#endif
	if (geteuid() != 0)
		cr_skip_test("needs root (CAP_NET_ADMIN)");
	if (unshare(CLONE_NEWNET) != 0)
		cr_skip_test("no network namespaces: %s", strerror(errno));
	if (system("ip link set lo up") != 0)
		cr_skip_test("cannot run ip(8)");
	for (i = 0; i < sizeof addrs / sizeof *addrs; i++) {
		snprintf(cmd, sizeof cmd, "ip addr add %s dev lo", addrs[i]);
		cr_assert_eq(system(cmd), 0, "%s", cmd);
	}
}

/* Connect from src to 10.98.0.1:port, accept, and send a HELO. */
static void
test_sat_connect(int lfd, const char *src, int *cfd, int *afd)
{
	struct sockaddr_in s = {.sin_family = AF_INET};
	struct sockaddr_in d = {
	    .sin_family = AF_INET, .sin_port = htons(TEST_SAT_PORT)};
	char buf[16];

	inet_pton(AF_INET, src, &s.sin_addr);
	inet_pton(AF_INET, "10.98.0.1", &d.sin_addr);
	*cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(*cfd, 0);
	cr_assert_eq(bind(*cfd, (struct sockaddr *)&s, sizeof s), 0);
	cr_assert_eq(connect(*cfd, (struct sockaddr *)&d, sizeof d), 0, "%s",
	    strerror(errno));
	*afd = accept(lfd, NULL, NULL);
	cr_assert_geq(*afd, 0);
	cr_assert_eq(send(*cfd, "HELO x\r\n", 8, 0), 8);
	cr_assert_eq(recv(*afd, buf, 8, MSG_WAITALL), 8);
}

static int
test_sat_collect(const struct sockdiag_sock *s, void *arg)
{
	(void)arg;
	if (test_sat_n < TEST_SAT_MAX)
		test_sat_socks[test_sat_n++] = *s;
	return 0;
}

/* Sleep ms milliseconds. */
static void
test_sat_sleep(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

Test(saturation, real_sockets_idle_holder_found_busy_client_spared)
{
	struct sockaddr_in l = {
	    .sin_family = AF_INET, .sin_port = htons(TEST_SAT_PORT)};
	struct saturation_opts o = test_sat_opts();
	struct saturation_verdict v;
	const uint16_t port = TEST_SAT_PORT;
	int lfd, c[6], a[6], i, one = 1;
	unsigned destroyed[1];
	char *cause = NULL, buf[64];

	test_sat_netns();
	inet_pton(AF_INET, "10.98.0.1", &l.sin_addr);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	cr_assert_eq(bind(lfd, (struct sockaddr *)&l, sizeof l), 0);
	cr_assert_eq(listen(lfd, 16), 0);
	/* .2 holds three idle sessions; .3 three that keep talking. */
	for (i = 0; i < 6; i++)
		test_sat_connect(
		    lfd, i < 3 ? "10.98.0.2" : "10.98.0.3", &c[i], &a[i]);
	o.idle_ms = 300;
	for (i = 0; i < 5; i++) {
		test_sat_sleep(150);
		cr_assert_eq(send(c[3 + i % 3], "NOOP\r\n", 6, 0), 6);
	}
	cr_assert_eq(sockdiag_foreach(
	                 AF_UNSPEC, &port, 1, test_sat_collect, NULL, &cause),
	    0, "%s", cause);
	cr_assert_eq(test_sat_n, 6, "listed %zu", test_sat_n);
	saturation_decide(&o, test_sat_socks, test_sat_n, NULL, 0, &v);
	cr_assert_eq(v.nholders, 1);
	cr_assert_eq(test_sat_holds(&v, "10.98.0.2"), 3);
	cr_assert_eq(test_sat_holds(&v, "10.98.0.3"), 0);
	cr_assert_gt(v.wait_ms, 0, "the talking client is looked at again");
	/* Evicting the holder frees exactly its three slots. */
	cr_assert_eq(sockdiag_destroy_from_list(
	                 &v.holders[0].addr, 1, &port, 1, destroyed, &cause),
	    0, "%s", cause);
	cr_assert_eq(destroyed[0], 3);
	cr_assert_leq(recv(c[0], buf, sizeof buf, 0), 0, "holder not cut");
	cr_assert_eq(send(c[3], "NOOP\r\n", 6, 0), 6);
	cr_assert_gt(recv(a[3], buf, sizeof buf, 0), 0, "busy client cut");
	free(v.holders);
	for (i = 0; i < 6; i++) {
		close(c[i]);
		close(a[i]);
	}
	close(lfd);
}

/*
 * A report-mode jail on a port no one listens on, whose saturation.notify
 * is a shell action appending "notify <name> <failures>" to dir/log.
 */
struct test_sat_fx {
	uv_loop_t loop;
	struct config_var jvars[3];
	struct config_var avars[1];
	struct jail_conf jc;
	struct action_conf ac;
	struct jail j;
	char dir[64];
};

static void
test_sat_var(struct config_var *v, const char *key, const char *value)
{
	v->key = xstrdup(key);
	v->value = xstrdup(value);
	v->file = xstrdup("t.conf");
	v->line = 9;
}

/* Set f up; own_ns: in a network namespace of its own, if allowed. */
static void
test_sat_fx_init(struct test_sat_fx *f, int own_ns)
{
	char *cmd, *cause = NULL;

	memset(f, 0, sizeof *f);
	/* A namespace of its own, if allowed, so no socket is on the port. */
	if (own_ns && geteuid() == 0)
		(void)unshare(CLONE_NEWNET);
	strcpy(f->dir, "/tmp/test_saturation.XXXXXX");
	cr_assert_not_null(mkdtemp(f->dir));
	cr_assert_eq(uv_loop_init(&f->loop), 0);
	test_sat_var(&f->jvars[0], "saturation.mode", "report");
	test_sat_var(&f->jvars[1], "saturation.notify_interval", "10m");
	test_sat_var(&f->jvars[2], "saturation.idle", "1s");
	test_sat_conf(&f->jc, f->jvars, 3);
	f->jc.port = xstrdup("2525");
	f->jc.protocol = xstrdup("tcp");
	f->jc.bantime = 600;
	xasprintf(&cmd,
	    "echo notify <name> <failures> >> %s/log; "
	    "printf '%%s\\n' <matches> >> %s/report",
	    f->dir, f->dir);
	test_sat_var(&f->avars[0], "actionnotify", cmd);
	free(cmd);
	f->ac.name = xstrdup("rec");
	f->ac.timeout = 10;
	f->ac.vars = f->avars;
	f->ac.nvars = 1;
	f->j.name = test_sat_name;
	f->j.conf = &f->jc;
	f->j.notify = action_create(&f->loop, &f->ac, &f->jc, &cause);
	cr_assert_not_null(f->j.notify, "%s", cause);
}

/* Run the loop until the notify action is idle (bounded). */
static void
test_sat_fx_drain(struct test_sat_fx *f)
{
	int spins;

	for (spins = 0; spins < 2000 && action_shell_pending(f->j.notify) > 0;
	     spins++) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		test_sat_sleep(5);
	}
	cr_assert_eq(action_shell_pending(f->j.notify), 0, "notify hangs");
}

static void
test_sat_fx_fini(struct test_sat_fx *f)
{
	char *cmd;
	size_t i;
	int spins;

	saturation_free(f->j.sat);
	action_free(f->j.notify);
	for (spins = 0; spins < 1000 && uv_run(&f->loop, UV_RUN_NOWAIT);
	     spins++)
		test_sat_sleep(10);
	cr_assert_eq(uv_loop_close(&f->loop), 0, "handles left open");
	for (i = 0; i < 3; i++) {
		free(f->jvars[i].key);
		free(f->jvars[i].value);
		free(f->jvars[i].file);
	}
	free(f->avars[0].key);
	free(f->avars[0].value);
	free(f->avars[0].file);
	free(f->ac.name);
	free(f->jc.port);
	free(f->jc.protocol);
	xasprintf(&cmd, "rm -rf '%s'", f->dir);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
}

/* Read dir/name into buf (empty if absent). */
static void
test_sat_fx_read(
    const struct test_sat_fx *f, const char *name, char *buf, size_t len)
{
	char path[128];
	FILE *fp;
	size_t n = 0;

	snprintf(path, sizeof path, "%s/%s", f->dir, name);
	if ((fp = fopen(path, "r")) != NULL) {
		n = fread(buf, 1, len - 1, fp);
		fclose(fp);
	}
	buf[n] = '\0';
}

/* Count the lines of dir/log. */
static int
test_sat_fx_lines(const struct test_sat_fx *f)
{
	char path[128];
	FILE *fp;
	int c, n = 0;

	snprintf(path, sizeof path, "%s/log", f->dir);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	while ((c = fgetc(fp)) != EOF)
		n += c == '\n';
	fclose(fp);
	return n;
}

static const char test_sat_line[] =
    "sm-mta[1]: rejecting connections on daemon IPv4: 15 children, max 15";

/* Signal a saturation line at time now, as the daemon does. */
static void
test_sat_fx_signal(struct test_sat_fx *f, time_t now)
{
	/* Report mode bans nothing, so it needs no daemon. */
	saturation_signal(
	    &f->loop, NULL, &f->j, test_sat_line, strlen(test_sat_line), now);
	test_sat_fx_drain(f);
}

Test(saturation, notify_once_per_episode_and_rate_limited)
{
	struct test_sat_fx f;
	const time_t t0 = 1700000000;

	test_sat_fx_init(&f, 1);
	test_sat_fx_signal(&f, t0);
	cr_assert_eq(test_sat_fx_lines(&f), 1, "the first episode notifies");
	test_sat_fx_signal(&f, t0 + 1);
	cr_assert_eq(test_sat_fx_lines(&f), 1, "same episode notified twice");
	/* A new episode (60 s apart) within notify_interval (10m): quiet. */
	test_sat_fx_signal(&f, t0 + 100);
	cr_assert_eq(f.j.stats.sat_episodes, 2);
	cr_assert_eq(test_sat_fx_lines(&f), 1, "notify_interval ignored");
	test_sat_fx_signal(&f, t0 + 700);
	cr_assert_eq(f.j.stats.sat_episodes, 3);
	cr_assert_eq(test_sat_fx_lines(&f), 2, "notify after the interval");
	cr_assert_eq(f.j.stats.sat_notified, 2);
	cr_assert_eq(f.j.stats.sat_notify_last, t0 + 700);
	test_sat_fx_fini(&f);
}

Test(saturation, notify_once_per_episode_without_interval)
{
	struct test_sat_fx f;
	const time_t t0 = 1700000000;

	test_sat_fx_init(&f, 1);
	free(f.jvars[1].value);
	f.jvars[1].value = xstrdup("0");
	test_sat_fx_signal(&f, t0);
	test_sat_fx_signal(&f, t0 + 1);
	test_sat_fx_signal(&f, t0 + 30);
	cr_assert_eq(test_sat_fx_lines(&f), 1, "one episode, one notify");
	test_sat_fx_signal(&f, t0 + 100);
	cr_assert_eq(test_sat_fx_lines(&f), 2, "a new episode notifies");
	test_sat_fx_fini(&f);
}

Test(saturation, notify_without_holders_tells_zero)
{
	struct test_sat_fx f;
	char buf[1024];

#ifndef HAVE_SOCKDIAG
	cr_skip_test("built without sockdiag: no connection lister");
#endif
	test_sat_fx_init(&f, 1);
	test_sat_fx_signal(&f, 1700000000);
	test_sat_fx_read(&f, "log", buf, sizeof buf);
	cr_assert_str_eq(buf, "notify t 0\n");
	test_sat_fx_read(&f, "report", buf, sizeof buf);
	cr_assert_str_eq(buf, "jail t: saturation: sm-mta[1]: rejecting "
	                      "connections on daemon IPv4: 15 children, max "
	                      "15\nmode report, 0 holders found\n");
	test_sat_fx_fini(&f);
}

Test(saturation, notify_reports_real_holders)
{
	struct sockaddr_in l = {
	    .sin_family = AF_INET, .sin_port = htons(TEST_SAT_PORT)};
	struct test_sat_fx f;
	int lfd, c[3], a[3], i, one = 1;
	char buf[1024];

	test_sat_netns();
	test_sat_fx_init(&f, 0);
	inet_pton(AF_INET, "10.98.0.1", &l.sin_addr);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	cr_assert_eq(bind(lfd, (struct sockaddr *)&l, sizeof l), 0);
	cr_assert_eq(listen(lfd, 16), 0);
	for (i = 0; i < 3; i++)
		test_sat_connect(lfd, "10.98.0.2", &c[i], &a[i]);
	test_sat_sleep(1300); /* past saturation.idle = 1s */
	test_sat_fx_signal(&f, time(NULL));
	test_sat_fx_read(&f, "log", buf, sizeof buf);
	cr_assert_str_eq(buf, "notify t 1\n");
	test_sat_fx_read(&f, "report", buf, sizeof buf);
	cr_assert_not_null(strstr(buf, "\nmode report, 1 holders found\n"
	                               "10.98.0.2: 3 idle connections, would "
	                               "ban (saturation.mode = report)\n"),
	    "%s", buf);
	cr_assert_eq(f.j.stats.sat_nwould, 1, "report mode lists it too");
	for (i = 0; i < 3; i++) {
		close(c[i]);
		close(a[i]);
	}
	close(lfd);
	test_sat_fx_fini(&f);
}
