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
#include "addrmap.h"
#include "goodsender.h"
#include "jail.h"
#include "saturation.h"
#include "sockdiag.h"
#include "store.h"
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

	for (spins = 0;
	     spins < 2000 && (action_shell_pending(f->j.notify) > 0 ||
	                         saturation_busy(f->j.sat));
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
	/* Report mode bans nothing, so it needs no ban callback. */
	struct saturation_env env = {NULL, NULL, NULL};

	if (f->j.sat == NULL)
		f->j.sat = saturation_create(&f->loop, &f->j, &env);
	saturation_signal(f->j.sat, test_sat_line, strlen(test_sat_line), now);
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

Test(saturation, level_weighs_connections_against_the_limit)
{
	struct saturation_opts o = test_sat_opts();

	o.pressure = 50;
	o.pressure_high = 80;
	cr_assert_eq(saturation_level(&o, 15, 0, 0), SATURATION_CALM,
	    "no limit known: no pressure");
	cr_assert_eq(saturation_level(&o, 0, 0, 1), SATURATION_HIGH,
	    "a refusing service is under high pressure");
	cr_assert_eq(saturation_level(&o, 7, 15, 0), SATURATION_CALM);
	cr_assert_eq(saturation_level(&o, 8, 15, 0), SATURATION_PRESSURE);
	cr_assert_eq(saturation_level(&o, 11, 15, 0), SATURATION_PRESSURE);
	cr_assert_eq(saturation_level(&o, 12, 15, 0), SATURATION_HIGH);
	o.pressure = 0;
	o.pressure_high = 0;
	cr_assert_eq(saturation_level(&o, 15, 15, 0), SATURATION_CALM);
}

Test(saturation, line_limit_is_the_max_of_the_line)
{
	static const char l1[] =
	    "sm-mta[1]: rejecting connections on daemon IPv4: 15 children, "
	    "max 15";
	static const char l2[] = "rejecting connections: 3 children, max 250";
	static const char l3[] = "rejecting connections on daemon IPv4";

	cr_assert_eq(saturation_line_limit(l1, strlen(l1)), 15);
	cr_assert_eq(saturation_line_limit(l2, strlen(l2)), 250);
	cr_assert_eq(saturation_line_limit(l3, strlen(l3)), 0);
	cr_assert_eq(saturation_line_limit("max ", 4), 0);
	cr_assert_eq(saturation_line_limit(l1, strlen(l1) - 1), 1);
}

Test(saturation, a_client_waiting_for_the_server_gets_the_longer_time)
{
	struct saturation_opts o = test_sat_opts();
	struct saturation_verdict v;

	o.idle_ms = 6000; /* pressure_idle */
	o.waiting_ms = 10000; /* saturation.idle */
	test_sat_add("192.0.2.20", 2, 40, 7000); /* the server spoke last */
	test_sat_add("192.0.2.21", 2, 40, 7000);
	test_sat_socks[2].last_data_sent_ms = 7500; /* .21 spoke last */
	test_sat_socks[3].last_data_sent_ms = 7500;
	saturation_decide(&o, test_sat_socks, test_sat_n, NULL, 0, &v);
	cr_assert_eq(test_sat_holds(&v, "192.0.2.20"), 2);
	cr_assert_eq(test_sat_holds(&v, "192.0.2.21"), 0);
	cr_assert_eq(v.wait_ms, 3000, "it is looked at again at 10 s");
	free(v.holders);
}

/* The ban callback of the watch test: record, and ban in the jail. */
struct test_sat_bans {
	struct addr v[16];
	size_t n;
};

static int
test_sat_ban_cb(void *arg, struct jail *j, const struct addr *a, int failures,
    const char *matches)
{
	struct test_sat_bans *b = arg;
	struct jail_ban jb;

	(void)failures;
	(void)matches;
	cr_assert_lt(b->n, 16);
	b->v[b->n++] = *a;
	memset(&jb, 0, sizeof jb);
	jb.addr = *a;
	jail_ban_add(j, &jb);
	return 0;
}

static int
test_sat_banned(const struct test_sat_bans *b, const char *addr)
{
	struct addr a;
	size_t i;

	cr_assert_eq(addr_parse(addr, &a), 0);
	for (i = 0; i < b->n; i++) {
		if (addr_equal(&b->v[i], &a))
			return 1;
	}
	return 0;
}

static void
test_sat_alive_cb(uv_timer_t *h)
{
	(void)h;
}

/* The sources of the watch tests: .2.9 a good sender, .3.5 a talker. */
static const char *const test_sat_wsrc[] = {"10.98.1.2", "10.98.1.3",
    "10.98.4.3", "10.98.2.2", "10.98.2.3", "10.98.2.9", "10.98.3.5"};
#define TEST_SAT_WN 7
#define TEST_SAT_WTALKER 6
#define TEST_SAT_WGOOD 5

/*
 * Connect every watch source (each says HELO, the server answers), make
 * a ban-mode response with the keys kv (pairs), then, if line is set,
 * signal it after 1.2 s; run the loop until want bans were made
 * (bounded), the talker talking all along, and until the evictions are
 * done.  The holders' sockets are then checked cut, the good sender's not.
 */
static void
test_sat_watch(const char *const *kv, size_t nkv, const char *line, size_t want,
    struct test_sat_bans *bans, struct saturation_stats *st)
{
	struct sockaddr_in l = {
	    .sin_family = AF_INET, .sin_port = htons(TEST_SAT_PORT)};
	struct saturation_env env = {test_sat_ban_cb, NULL, bans};
	struct test_sat_fx f;
	struct config_var *vars;
	struct addr good;
	uv_timer_t alive;
	int lfd, c[TEST_SAT_WN], a[TEST_SAT_WN], i, spins, one = 1;
	char cmd[96], buf[16];
	size_t k;

	test_sat_netns();
	for (i = 0; i < TEST_SAT_WN; i++) {
		snprintf(cmd, sizeof cmd, "ip addr add %s/32 dev lo",
		    test_sat_wsrc[i]);
		cr_assert_eq(system(cmd), 0, "%s", cmd);
	}
	test_sat_fx_init(&f, 0);
	vars = xcalloc(nkv / 2 + 1, sizeof *vars);
	for (k = 0; k < nkv / 2; k++)
		test_sat_var(&vars[k], kv[2 * k], kv[2 * k + 1]);
	f.jc.vars = vars;
	f.jc.nvars = nkv / 2;
	f.jc.findtime = 600;
	f.j.bans = addrmap_create(free);
	inet_pton(AF_INET, "10.98.0.1", &l.sin_addr);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	cr_assert_eq(bind(lfd, (struct sockaddr *)&l, sizeof l), 0);
	cr_assert_eq(listen(lfd, 16), 0);
	for (i = 0; i < TEST_SAT_WN; i++) {
		test_sat_connect(lfd, test_sat_wsrc[i], &c[i], &a[i]);
		/* The server answers: the idle time is the client's. */
		cr_assert_eq(send(a[i], "250 ok\r\n", 8, 0), 8);
		cr_assert_eq(recv(c[i], buf, 8, MSG_WAITALL), 8);
	}
	/* The watch's timer is unreferenced: keep the loop alive. */
	uv_timer_init(&f.loop, &alive);
	uv_timer_start(&alive, test_sat_alive_cb, 100, 100);
	f.j.sat = saturation_create(&f.loop, &f.j, &env);
	cr_assert_eq(addr_parse(test_sat_wsrc[TEST_SAT_WGOOD], &good), 0);
	saturation_good(f.j.sat, &good, time(NULL));
	if (line != NULL) {
		for (spins = 0; spins < 12; spins++) {
			test_sat_sleep(100);
			cr_assert_eq(
			    send(c[TEST_SAT_WTALKER], "NOOP\r\n", 6, 0), 6);
		}
		saturation_signal(f.j.sat, line, strlen(line), time(NULL));
	}
	for (spins = 0; spins < 1000 && bans->n < want; spins++) {
		uv_run(&f.loop, UV_RUN_NOWAIT);
		test_sat_sleep(10);
		if (spins % 20 == 0)
			cr_assert_eq(
			    send(c[TEST_SAT_WTALKER], "NOOP\r\n", 6, 0), 6);
	}
	test_sat_fx_drain(&f);
	*st = *saturation_stats(f.j.sat);
	/* Evicted off the loop: the holders' connections are cut. */
	cr_assert_leq(recv(c[0], buf, sizeof buf, 0), 0, "holder not cut");
	cr_assert_leq(recv(c[3], buf, sizeof buf, 0), 0, "holder not cut");
	cr_assert_eq(send(c[TEST_SAT_WGOOD], "NOOP\r\n", 6, 0), 6);
	cr_assert_gt(
	    recv(a[TEST_SAT_WGOOD], buf, sizeof buf, 0), 0, "good sender cut");
	for (i = 0; i < TEST_SAT_WN; i++) {
		close(c[i]);
		close(a[i]);
	}
	close(lfd);
	uv_close((uv_handle_t *)&alive, NULL);
	test_sat_fx_fini(&f);
	addrmap_free(f.j.bans);
	free(f.j.prefixes);
	for (k = 0; k < nkv / 2; k++) {
		free(vars[k].key);
		free(vars[k].value);
		free(vars[k].file);
	}
	free(vars);
}

/*
 * With no saturation line at all (watch = always, a known limit), the
 * watch takes the idle holders under high pressure: the /24 two of whose
 * hosts hold slots is banned whole, a host alone in its /24 alone, the
 * hosts whose /24 holds a good sender one by one, and the good sender,
 * idle too, never; nor the client that keeps talking.
 */
Test(saturation, watch_bans_holders_and_prefixes_but_never_good_senders)
{
	static const char *const kv[] = {"saturation.watch", "always",
	    "saturation.slots", "5", "saturation.pressure_idle", "1s",
	    "saturation.prefix4", "24", "saturation.minconns", "1",
	    "saturation.prefixhosts", "2", "saturation.mode", "ban"};
	struct test_sat_bans bans = {.n = 0};
	struct saturation_stats st;

	test_sat_watch(kv, sizeof kv / sizeof *kv, NULL, 4, &bans, &st);
	cr_assert_eq(bans.n, 4, "%zu bans", bans.n);
	cr_assert(test_sat_banned(&bans, "10.98.1.0/24"), "the prefix");
	cr_assert(test_sat_banned(&bans, "10.98.4.3"), "alone in its /24");
	cr_assert(test_sat_banned(&bans, "10.98.2.2"), "the host alone");
	cr_assert(test_sat_banned(&bans, "10.98.2.3"), "the host alone");
	cr_assert_not(test_sat_banned(&bans, "10.98.2.0/24"), "over good");
	cr_assert_not(test_sat_banned(&bans, "10.98.2.9"), "a good sender");
	cr_assert_not(test_sat_banned(&bans, "10.98.3.5"), "a talker");
	cr_assert_eq(st.prefix_banned, 1);
	cr_assert_geq(st.prefix_spared, 1);
	cr_assert_eq(st.level, SATURATION_HIGH);
	cr_assert_eq(st.limit, 5);
}

/*
 * While the service refuses and idle holders fill its slots (5 of the 6
 * the line gives), one host caught is evidence enough for its /24
 * (saturation.prefixhosts_full): 10.98.4.0/24 is banned whole too.
 */
Test(saturation, a_full_service_bans_the_prefix_of_one_holder)
{
	static const char *const kv[] = {"saturation.pressure_idle", "1s",
	    "saturation.prefix4", "24", "saturation.minconns", "1",
	    "saturation.prefixhosts", "2", "saturation.mode", "ban"};
	static const char line[] =
	    "sm-mta[1]: rejecting connections on daemon IPv4: 6 children, "
	    "max 6";
	struct test_sat_bans bans = {.n = 0};
	struct saturation_stats st;

	test_sat_watch(kv, sizeof kv / sizeof *kv, line, 4, &bans, &st);
	cr_assert_eq(bans.n, 4, "%zu bans", bans.n);
	cr_assert(test_sat_banned(&bans, "10.98.1.0/24"));
	cr_assert(test_sat_banned(&bans, "10.98.4.0/24"), "one host, full");
	cr_assert(test_sat_banned(&bans, "10.98.2.2"), "good in its /24");
	cr_assert(test_sat_banned(&bans, "10.98.2.3"), "good in its /24");
	cr_assert_not(test_sat_banned(&bans, "10.98.2.9"), "a good sender");
	cr_assert_eq(st.prefix_banned, 2);
	cr_assert_eq(st.limit, 6, "learned from the line");
	cr_assert(st.watching, "the line starts the watch");
}

Test(saturation, good_senders_newest_first_within_and_kept_in_the_store)
{
	struct store_good g[3];
	struct goodsender *gs;
	struct store *st;
	struct addr a, p;
	char *cause = NULL;

	st = store_open(":memory:", &cause);
	cr_assert_not_null(st, "%s", cause);
	gs = goodsender_create("mail", 3600);
	cr_assert_eq(addr_parse("192.0.2.1", &a), 0);
	goodsender_add(gs, &a, 1000);
	cr_assert_eq(addr_parse("192.0.2.2", &a), 0);
	goodsender_add(gs, &a, 3000);
	cr_assert_eq(addr_parse("2001:db8::1", &a), 0);
	goodsender_add(gs, &a, 2000);
	goodsender_add(gs, &a, 2500);
	cr_assert_eq(goodsender_count(gs), 3);
	cr_assert_eq(goodsender_recent(gs, g, 2), 2);
	cr_assert_eq(g[0].last, 3000);
	cr_assert_eq(g[1].last, 2500);
	cr_assert_eq(g[1].count, 2);
	cr_assert(goodsender_is(gs, &a));
	cr_assert_eq(addr_parse("192.0.2.0/24", &p), 0);
	cr_assert(goodsender_within(gs, &p));
	cr_assert_eq(addr_parse("198.51.100.0/24", &p), 0);
	cr_assert_not(goodsender_within(gs, &p));
	/* Saved at 4000: 192.0.2.1 (last 1000) is older than an hour. */
	cr_assert_eq(goodsender_save(gs, st, 4700), 0);
	cr_assert_eq(goodsender_count(gs), 2);
	goodsender_free(gs);
	gs = goodsender_create("mail", 3600);
	cr_assert_eq(goodsender_load(gs, st, 4700), 0);
	cr_assert_eq(goodsender_count(gs), 2, "kept across a restart");
	cr_assert(goodsender_is(gs, &a));
	goodsender_free(gs);
	gs = goodsender_create("other", 3600);
	cr_assert_eq(goodsender_load(gs, st, 4700), 0);
	cr_assert_eq(goodsender_count(gs), 0, "per jail");
	goodsender_free(gs);
	store_close(st);
}
