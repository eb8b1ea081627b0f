/* Unit tests for the native nftables action, each in a private netns. */
#include <sys/socket.h>
#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <criterion/criterion.h>
#include <nftables/libnftables.h>
#include <uv.h>

#include "action.h"
#include "action_nft.h"
#include "addr.h"
#include "config.h"
#include "nftset.h"
#include "sockdiag.h"
#include "xmalloc.h"

#define TEST_NFT_PORT 2525
#define TEST_NFT_MAXVARS 8

struct test_nft {
	struct config_var vars[TEST_NFT_MAXVARS];
	struct action_conf ac;
	struct jail_conf jc;
	struct action a;
};

/* Run a shell command the test needs; fail the test if it fails. */
static void
test_nft_sh(const char *cmd)
{
	cr_assert_eq(system(cmd), 0, "failed: %s", cmd);
}

/* Skip unless the kernel takes an nftables transaction here. */
static void
test_nft_need_nftables(void)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	int rc;

	if (nft == NULL)
		cr_skip_test("no nftables context");
	nft_ctx_buffer_output(nft);
	nft_ctx_buffer_error(nft);
	rc = nft_run_cmd_from_buffer(
	    nft, "add table inet jaild_probe\ndelete table inet jaild_probe\n");
	nft_ctx_free(nft);
	if (rc != 0)
		cr_skip_test("nftables unusable here (no nf_tables?)");
}

/*
 * Enter a fresh network namespace (it dies with this test's process) with
 * lo up and the test's addresses: 10.99.0.1 and fd99::1 the server,
 * .2/::2 attackers, .3/::3 legit, and two more prefixes.
 */
static void
test_nft_netns(void)
{
	static const char *const addrs[] = {"10.99.0.1", "10.99.0.2",
	    "10.99.0.3", "10.99.0.4", "10.99.1.7", "10.99.1.200", "fd99::1",
	    "fd99::2", "fd99::3", "fd99:1::7", "fd99:1::abcd"};
	char cmd[128];
	size_t i;

	if (geteuid() != 0)
		cr_skip_test("needs root (CAP_NET_ADMIN)");
	if (unshare(CLONE_NEWNET) != 0)
		cr_skip_test("no network namespaces: %s", strerror(errno));
	if (system("ip link set lo up") != 0)
		cr_skip_test("cannot run ip(8)");
	for (i = 0; i < sizeof addrs / sizeof *addrs; i++) {
		snprintf(cmd, sizeof cmd, "ip addr add %s/%s dev lo%s",
		    addrs[i], strchr(addrs[i], ':') ? "128" : "32",
		    strchr(addrs[i], ':') ? " nodad" : "");
		test_nft_sh(cmd);
	}
	test_nft_need_nftables();
}

/* Set option key of the action (as [Init] or a jail parameter would). */
static void
test_nft_var(struct test_nft *t, const char *key, const char *value)
{
	cr_assert_lt(t->ac.nvars, TEST_NFT_MAXVARS);
	t->vars[t->ac.nvars].key = (char *)key;
	t->vars[t->ac.nvars++].value = (char *)value;
}

/* Make an (unstarted) nftables action for jail on TEST_NFT_PORT/tcp. */
static void
test_nft_init(struct test_nft *t, const char *jail)
{
	memset(t, 0, sizeof *t);
	t->ac.name = (char *)"nftables";
	t->ac.native = (char *)"nftables";
	t->ac.vars = t->vars;
	t->jc.name = (char *)jail;
	t->jc.port = (char *)"2525";
	t->jc.protocol = (char *)"tcp";
	t->a.ops = &action_nft_ops;
	t->a.conf = &t->ac;
	t->a.jail = &t->jc;
}

static void
test_nft_start(struct test_nft *t)
{
	char *cause = NULL;

	cr_assert_eq(t->a.ops->start(&t->a, &cause), 0, "start: %s", cause);
}

/* Ban (or unban) addr for secs seconds (0: permanent; <0: already over). */
static void
test_nft_ban(struct test_nft *t, const char *addr, int secs, int unban)
{
	struct action_ban b;

	memset(&b, 0, sizeof b);
	b.jail = t->jc.name;
	b.start = time(NULL);
	b.end = secs == 0 ? 0 : b.start + secs;
	cr_assert_eq(addr_parse(addr, &b.addr), 0, "bad address %s", addr);
	if (unban)
		t->a.ops->unban(&t->a, &b);
	else
		t->a.ops->ban(&t->a, &b);
}

/* A dual-stack listener on [::]:TEST_NFT_PORT. */
static int
test_nft_listen(void)
{
	struct sockaddr_in6 sin6 = {
	    .sin6_family = AF_INET6, .sin6_port = htons(TEST_NFT_PORT)};
	int fd, zero = 0, one = 1;

	fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin6, sizeof sin6), 0);
	cr_assert_eq(listen(fd, 128), 0);
	return fd;
}

/* Fill ss with host:port; returns its length. */
static socklen_t
test_nft_sockaddr(const char *host, uint16_t port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		return sizeof *sin;
	}
	cr_assert_eq(inet_pton(AF_INET6, host, &sin6->sin6_addr), 1);
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	return sizeof *sin6;
}

/*
 * Connect from src to dst:TEST_NFT_PORT, waiting at most 300 ms.  Returns
 * the connected socket, or -1 with errno (ETIMEDOUT when dropped).
 */
static int
test_nft_connect(const char *src, const char *dst)
{
	struct sockaddr_storage s, d;
	socklen_t slen, dlen, elen;
	struct pollfd pfd;
	int fd, err = 0;

	slen = test_nft_sockaddr(src, 0, &s);
	dlen = test_nft_sockaddr(dst, TEST_NFT_PORT, &d);
	fd = socket(s.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&s, slen), 0, "bind %s", src);
	if (connect(fd, (struct sockaddr *)&d, dlen) == 0)
		return fd;
	cr_assert_eq(errno, EINPROGRESS);
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, 300) == 1) {
		elen = sizeof err;
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
		if (err == 0)
			return fd;
	} else
		err = ETIMEDOUT;
	close(fd);
	errno = err;
	return -1;
}

/* 1 if src can connect to dst now, 0 if not. */
static int
test_nft_can_connect(const char *src, const char *dst)
{
	int fd = test_nft_connect(src, dst);

	if (fd == -1)
		return 0;
	close(fd);
	return 1;
}

/* Wait (at most secs) until src can connect to dst again. */
static int
test_nft_wait_connect(const char *src, const char *dst, int secs)
{
	time_t until = time(NULL) + secs;

	while (time(NULL) <= until) {
		if (test_nft_can_connect(src, dst))
			return 1;
		usleep(100000);
	}
	return 0;
}

/* Sort and format the kernel's elements, joined by spaces. */
static char *
test_nft_elements(struct test_nft *t)
{
	struct addr *a = NULL;
	char *cause = NULL, *out, buf[ADDR_STRLEN];
	size_t i, j, n = 0;
	struct addr tmp;

	cr_assert_eq(action_nft_list(&t->a, &a, &n, &cause), 0, "%s", cause);
	for (i = 1; i < n; i++) {
		for (j = i; j > 0 && addr_cmp(&a[j - 1], &a[j]) > 0; j--) {
			tmp = a[j];
			a[j] = a[j - 1];
			a[j - 1] = tmp;
		}
	}
	out = xcalloc(1, n * (ADDR_STRLEN + 1) + 1);
	for (i = 0; i < n; i++) {
		addr_format(&a[i], buf, sizeof buf);
		strcat(out, i ? " " : "");
		strcat(out, buf);
	}
	free(a);
	return out;
}

/* How many rules the jail's chain holds. */
static int
test_nft_rules(const char *chain)
{
	char cmd[128], line[512];
	FILE *fp;
	int n = 0;

	snprintf(cmd, sizeof cmd, "nft list chain inet jaild %s", chain);
	fp = popen(cmd, "r");
	cr_assert_not_null(fp);
	while (fgets(line, sizeof line, fp) != NULL)
		n += strstr(line, "saddr @") != NULL;
	cr_assert_eq(pclose(fp), 0, "%s", cmd);
	return n;
}

/* Count one server-side socket. */
static int
test_nft_count_cb(const struct sockdiag_sock *s, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

/* How many sockets the server holds on TEST_NFT_PORT. */
static int
test_nft_count_server_socks(void)
{
	const uint16_t port = TEST_NFT_PORT;
	char *cause = NULL;
	int n = 0;

	cr_assert_eq(sockdiag_foreach(
	                 AF_UNSPEC, &port, 1, test_nft_count_cb, &n, &cause),
	    0, "%s", cause);
	return n;
}

Test(nft, ban_blocks_v4_and_v6_until_timeout)
{
	struct test_nft t;
	int lfd;

	test_nft_netns();
	lfd = test_nft_listen();
	test_nft_init(&t, "sendmail");
	test_nft_start(&t);
	cr_assert(test_nft_can_connect("10.99.0.2", "10.99.0.1"));
	test_nft_ban(&t, "10.99.0.2", 2, 0);
	test_nft_ban(&t, "fd99::2", 2, 0);
	t.a.ops->flush(&t.a);
	cr_assert_eq(test_nft_connect("10.99.0.2", "10.99.0.1"), -1);
	cr_assert_eq(errno, ETIMEDOUT, "dropped, not refused");
	cr_assert_not(test_nft_can_connect("fd99::2", "fd99::1"));
	cr_assert(test_nft_can_connect("10.99.0.3", "10.99.0.1"));
	cr_assert(test_nft_can_connect("fd99::3", "fd99::1"));
	/* The kernel lifts the bans by itself: no unban was sent. */
	cr_assert(test_nft_wait_connect("10.99.0.2", "10.99.0.1", 8));
	cr_assert(test_nft_wait_connect("fd99::2", "fd99::1", 8));
	cr_assert_eq(t.a.stats.bans, 2);
	cr_assert_eq(t.a.stats.failures, 0);
	t.a.ops->free(&t.a);
	close(lfd);
}

Test(nft, prefix_ban_blocks_every_address_in_it)
{
	struct test_nft t;
	int lfd;

	test_nft_netns();
	lfd = test_nft_listen();
	test_nft_init(&t, "sendmail");
	test_nft_start(&t);
	test_nft_ban(&t, "10.99.1.0/24", 600, 0);
	test_nft_ban(&t, "fd99:1::/64", 600, 0);
	t.a.ops->flush(&t.a);
	cr_assert_not(test_nft_can_connect("10.99.1.7", "10.99.0.1"));
	cr_assert_not(test_nft_can_connect("10.99.1.200", "10.99.0.1"));
	cr_assert_not(test_nft_can_connect("fd99:1::7", "fd99::1"));
	cr_assert_not(test_nft_can_connect("fd99:1::abcd", "fd99::1"));
	cr_assert(test_nft_can_connect("10.99.0.3", "10.99.0.1"));
	cr_assert(test_nft_can_connect("fd99::3", "fd99::1"));
	test_nft_ban(&t, "10.99.1.0/24", 0, 1);
	t.a.ops->flush(&t.a);
	cr_assert(test_nft_can_connect("10.99.1.7", "10.99.0.1"));
	cr_assert_eq(t.a.stats.failures, 0);
	t.a.ops->free(&t.a);
	close(lfd);
}

Test(nft, unban_of_missing_element_is_harmless)
{
	struct test_nft t;
	char *els;

	test_nft_netns();
	test_nft_init(&t, "sendmail");
	test_nft_start(&t);
	test_nft_ban(&t, "10.99.0.2", 0, 0);
	test_nft_ban(&t, "10.99.0.4", 600, 0);
	t.a.ops->flush(&t.a);
	/* 10.99.0.3 and the prefix were never there (or expired already). */
	test_nft_ban(&t, "10.99.0.3", 0, 1);
	test_nft_ban(&t, "10.99.0.2", 0, 1);
	test_nft_ban(&t, "10.99.7.0/24", 0, 1);
	t.a.ops->flush(&t.a);
	els = test_nft_elements(&t);
	cr_assert_str_eq(els, "10.99.0.4");
	cr_assert_eq(t.a.stats.failures, 0);
	free(els);
	t.a.ops->free(&t.a);
}

Test(nft, restore_makes_sets_hold_exactly_the_store)
{
	struct test_nft t, t2;
	struct action_ban store[6];
	const char *want[] = {"10.99.0.3", "10.99.0.4", "10.99.6.0/24",
	    "fd99::4", "10.99.0.3", "10.99.0.9"};
	char *els;
	size_t i;

	test_nft_netns();
	test_nft_init(&t, "sendmail");
	test_nft_start(&t);
	test_nft_ban(&t, "10.99.0.2", 600, 0);
	test_nft_ban(&t, "10.99.0.3", 600, 0);
	test_nft_ban(&t, "10.99.5.0/24", 600, 0);
	test_nft_ban(&t, "fd99::2", 0, 0);
	t.a.ops->flush(&t.a);
	t.a.ops->free(&t.a); /* a crash: nothing is removed */
	/* The restarted daemon: start again, then reconcile with the store. */
	test_nft_init(&t2, "sendmail");
	test_nft_start(&t2);
	memset(store, 0, sizeof store);
	for (i = 0; i < 6; i++) {
		cr_assert_eq(addr_parse(want[i], &store[i].addr), 0);
		store[i].jail = "sendmail";
		store[i].end = time(NULL) + 300 + (time_t)i;
	}
	store[3].end = 0; /* permanent */
	store[5].end = time(NULL) - 5; /* over while we were down */
	t2.a.ops->restore(&t2.a, store, 6);
	els = test_nft_elements(&t2);
	cr_assert_str_eq(els, "10.99.0.3 10.99.0.4 10.99.6.0/24 fd99::4");
	free(els);
	cr_assert_eq(test_nft_rules("sendmail_in"), 4, "rules duplicated");
	cr_assert_eq(t2.a.stats.failures, 0);
	t2.a.ops->free(&t2.a);
}

Test(nft, bad_element_in_batch_loses_nothing_else)
{
	struct test_nft t;
	char *els;

	test_nft_netns();
	test_nft_init(&t, "sendmail");
	test_nft_start(&t);
	/* Overlapping intervals: nft refuses the second, and so the batch. */
	test_nft_ban(&t, "10.99.0.2", 600, 0);
	test_nft_ban(&t, "10.99.2.0/24", 600, 0);
	test_nft_ban(&t, "10.99.0.0/16", 600, 0);
	test_nft_ban(&t, "fd99::2", 600, 0);
	t.a.ops->flush(&t.a);
	els = test_nft_elements(&t);
	cr_assert_str_eq(els, "10.99.0.2 10.99.2.0/24 fd99::2");
	cr_assert_eq(t.a.stats.failures, 1);
	free(els);
	t.a.ops->free(&t.a);
}

Test(nft, reject_blocktype_refuses_at_once)
{
	struct test_nft t;
	int lfd;

	test_nft_netns();
	lfd = test_nft_listen();
	test_nft_init(&t, "sendmail");
	test_nft_var(&t, "blocktype", "reject");
	test_nft_start(&t);
	test_nft_ban(&t, "10.99.0.2", 600, 0);
	t.a.ops->flush(&t.a);
	cr_assert_eq(test_nft_connect("10.99.0.2", "10.99.0.1"), -1);
	cr_assert_eq(errno, ECONNREFUSED, "%s", strerror(errno));
	cr_assert(test_nft_can_connect("10.99.0.3", "10.99.0.1"));
	t.a.ops->free(&t.a);
	close(lfd);
}

Test(nft, other_ports_stay_open)
{
	struct test_nft t;
	int lfd;

	test_nft_netns();
	lfd = test_nft_listen();
	test_nft_init(&t, "sshd");
	test_nft_var(&t, "port", "ssh,2000:2100");
	test_nft_start(&t);
	test_nft_ban(&t, "10.99.0.2", 600, 0);
	t.a.ops->flush(&t.a);
	cr_assert(test_nft_can_connect("10.99.0.2", "10.99.0.1"));
	t.a.ops->free(&t.a);
	close(lfd);
}

Test(nft, stop_keeps_sets_unless_flush_on_stop)
{
	struct test_nft t;
	char *els;

	test_nft_netns();
	test_nft_init(&t, "sendmail");
	test_nft_start(&t);
	test_nft_ban(&t, "10.99.0.2", 600, 0);
	t.a.ops->stop(&t.a); /* sends what was queued, keeps the set */
	els = test_nft_elements(&t);
	cr_assert_str_eq(els, "10.99.0.2");
	free(els);
	t.a.ops->free(&t.a);
	test_nft_init(&t, "sendmail");
	test_nft_var(&t, "flush_on_stop", "true");
	test_nft_start(&t);
	t.a.ops->stop(&t.a);
	cr_assert_neq(system("nft list set inet jaild sendmail_v4 "
	                     ">/dev/null 2>&1"),
	    0, "set still there");
	t.a.ops->free(&t.a);
}

Test(nft, evict_destroys_held_connections)
{
	struct sockaddr_storage peer;
	struct test_nft t;
	socklen_t plen;
	int lfd, fds[14], acc[14], i, n, legit = -1, held = 0;
	char c;

	test_nft_netns();
	lfd = test_nft_listen();
	test_nft_init(&t, "sendmail");
	test_nft_start(&t);
	for (i = 0; i < 14; i++) {
		fds[i] = test_nft_connect(i < 10   ? "10.99.0.2"
		                          : i < 13 ? "fd99::2"
		                                   : "10.99.0.3",
		    i < 10 || i == 13 ? "10.99.0.1" : "fd99::1");
		cr_assert_geq(fds[i], 0, "connect %d: %s", i, strerror(errno));
		plen = sizeof peer;
		acc[i] = accept(lfd, (struct sockaddr *)&peer, &plen);
		cr_assert_geq(acc[i], 0);
	}
	legit = acc[13];
	test_nft_ban(&t, "10.99.0.2", 600, 0);
	test_nft_ban(&t, "fd99::2", 600, 0);
	t.a.ops->flush(&t.a);
	cr_assert_eq(t.a.stats.evicted, 13);
	for (i = 0; i < 13; i++) {
		n = (int)recv(acc[i], &c, 1, MSG_DONTWAIT);
		cr_assert(n == 0 || (n == -1 && (errno == ECONNRESET ||
		                                    errno == ECONNABORTED)),
		    "socket %d: n=%d %s", i, n, strerror(errno));
	}
	cr_assert_eq(recv(legit, &c, 1, MSG_DONTWAIT), -1);
	cr_assert_eq(errno, EAGAIN, "legit connection touched");
	held = test_nft_count_server_socks();
	cr_assert_eq(held, 1, "server still holds %d", held);
	for (i = 0; i < 14; i++) {
		close(fds[i]);
		close(acc[i]);
	}
	t.a.ops->free(&t.a);
	close(lfd);
}

Test(nft, start_without_cap_net_admin_fails_clearly)
{
	struct test_nft t;
	char *cause = NULL;

	test_nft_netns();
	test_nft_init(&t, "sendmail");
	/* Leave root: no capabilities at all in this forked test. */
	cr_assert_eq(setgid(65534), 0);
	cr_assert_eq(setuid(65534), 0);
	cr_assert_eq(t.a.ops->start(&t.a, &cause), -1);
	cr_assert_not_null(cause);
	cr_assert(strstr(cause, "jail sendmail") != NULL, "%s", cause);
	cr_assert(strstr(cause, "action nftables") != NULL, "%s", cause);
	cr_assert(strstr(cause, "CAP_NET_ADMIN") != NULL, "%s", cause);
	free(cause);
	t.a.ops->free(&t.a);
}

Test(nft, bad_options_refused_with_jail_and_action)
{
	static const char *const bad[][2] = {{"blocktype", "tarpit"},
	    {"evict", "maybe"}, {"family", "bridge"},
	    {"table", "x; flush ruleset"}, {"port", "25;drop"},
	    {"protocol", "tcp; flush ruleset"}};
	struct test_nft t;
	char *cause;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		test_nft_init(&t, "sendmail");
		test_nft_var(&t, bad[i][0], bad[i][1]);
		cause = NULL;
		cr_assert_eq(
		    t.a.ops->start(&t.a, &cause), -1, "%s accepted", bad[i][1]);
		cr_assert(
		    strstr(cause, "jail sendmail: action nftables:") == cause,
		    "%s", cause);
		free(cause);
		t.a.ops->free(&t.a);
	}
}

Test(nft, jail_names_map_to_safe_identifiers)
{
	char *a, *b, *c;

	a = action_nft_name("sendmail");
	cr_assert_str_eq(a, "sendmail");
	free(a);
	a = action_nft_name("my-jail");
	b = action_nft_name("my_jail");
	c = action_nft_name("my-jail");
	cr_assert_str_eq(b, "my_jail");
	cr_assert_neq(strcmp(a, b), 0, "collision");
	cr_assert_str_eq(a, c, "not deterministic");
	cr_assert_eq(strncmp(a, "my_jail_", 8), 0, "%s", a);
	free(a);
	free(b);
	free(c);
	a = action_nft_name("2fa; flush ruleset");
	cr_assert_eq(a[0], 'j');
	cr_assert_eq(strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
	                       "VWXYZ0123456789_"),
	    strlen(a), "%s", a);
	free(a);
	a = action_nft_name("a_very_long_jail_name_that_goes_on_and_on");
	cr_assert_lt(strlen(a), 45);
	free(a);
}

Test(nft, hostile_jail_name_cannot_inject)
{
	struct test_nft t;
	char *els;

	test_nft_netns();
	test_nft_sh("nft add table inet victim");
	test_nft_init(&t, "x { } ; delete table inet victim ;");
	test_nft_start(&t);
	test_nft_ban(&t, "10.99.0.2", 600, 0);
	t.a.ops->flush(&t.a);
	els = test_nft_elements(&t);
	cr_assert_str_eq(els, "10.99.0.2");
	free(els);
	test_nft_sh("nft list table inet victim >/dev/null");
	t.a.ops->free(&t.a);
}

/* Format the n elements of e, sorted, as "addr:seconds-left" joined. */
static char *
test_nft_format_elems(struct nftset_elem *e, size_t n)
{
	struct nftset_elem tmp;
	char buf[ADDR_STRLEN], *out;
	size_t i, j;

	for (i = 1; i < n; i++) {
		for (j = i; j > 0 && addr_cmp(&e[j - 1].addr, &e[j].addr) > 0;
		     j--) {
			tmp = e[j];
			e[j] = e[j - 1];
			e[j - 1] = tmp;
		}
	}
	out = xcalloc(1, n * (ADDR_STRLEN + 16) + 1);
	for (i = 0; i < n; i++) {
		addr_format(&e[i].addr, buf, sizeof buf);
		sprintf(out + strlen(out), "%s%s:%d", i ? " " : "", buf,
		    (int)((e[i].expires_ms + 999) / 1000));
	}
	return out;
}

Test(nft, netlink_listing_decodes_hosts_prefixes_and_time_left)
{
	struct nftset_elem *e = NULL;
	size_t n = 0, odd = 0;
	char *cause = NULL, *s;

	test_nft_netns();
	test_nft_sh(
	    "nft add table inet jt && "
	    "nft add set inet jt h4 '{ type ipv4_addr; flags timeout; }'"
	    " && nft add set inet jt n4 '{ type ipv4_addr; "
	    "flags interval,timeout; }' && nft add set inet jt n6 "
	    "'{ type ipv6_addr; flags interval; }'");
	test_nft_sh("nft add element inet jt h4 '{ 10.0.0.1 timeout 100s, "
	            "10.0.0.2, 255.255.255.255 timeout 5s }'");
	test_nft_sh("nft add element inet jt n4 '{ 10.1.0.0/24 timeout 50s, "
	            "10.2.0.0/25, 10.2.0.128/25, 255.255.255.0/24, "
	            "0.0.0.0/8, 10.3.0.1-10.3.0.5, 10.4.0.9 }'");
	test_nft_sh("nft add element inet jt n6 '{ fd99:1::/64, ::/16, "
	            "ffff::/16 }'");
	cr_assert_eq(
	    nftset_list("jt", "h4", AF_INET, 0, &e, &n, &odd, &cause), 0);
	s = test_nft_format_elems(e, n);
	cr_assert_str_eq(s, "10.0.0.1:100 10.0.0.2:0 255.255.255.255:5");
	free(s);
	free(e);
	cr_assert_eq(
	    nftset_list("jt", "n4", AF_INET, 1, &e, &n, &odd, &cause), 0);
	s = test_nft_format_elems(e, n);
	cr_assert_str_eq(s, "0.0.0.0/8:0 10.1.0.0/24:50 10.2.0.0/25:0 "
	                    "10.2.0.128/25:0 10.4.0.9:0 255.255.255.0/24:0");
	cr_assert_eq(odd, 1, "the range 10.3.0.1-5 is not a prefix");
	free(s);
	free(e);
	cr_assert_eq(
	    nftset_list("jt", "n6", AF_INET6, 1, &e, &n, &odd, &cause), 0);
	s = test_nft_format_elems(e, n);
	cr_assert_str_eq(s, "::/16:0 fd99:1::/64:0 ffff::/16:0");
	free(s);
	free(e);
	cr_assert_eq(
	    nftset_list("jt", "nope", AF_INET, 0, &e, &n, &odd, &cause), -1);
	cr_assert_not_null(strstr(cause, "inet jt nope"), "%s", cause);
	free(cause);
}

/* Seconds the kernel has left on addr in the jail's sets (-1: absent). */
static int
test_nft_left(struct test_nft *t, const char *set, const char *addr)
{
	struct nftset_elem *e = NULL;
	struct addr want;
	char *cause = NULL;
	size_t i, n = 0;
	int left = -1;

	cr_assert_eq(addr_parse(addr, &want), 0);
	cr_assert_eq(
	    nftset_list("jaild", set, want.family, 0, &e, &n, NULL, &cause), 0,
	    "%s", cause);
	for (i = 0; i < n; i++) {
		if (addr_equal(&e[i].addr, &want))
			left = (int)((e[i].expires_ms + 999) / 1000);
	}
	free(e);
	(void)t;
	return left;
}

Test(nft, restore_leaves_right_timeouts_and_fixes_wrong_ones)
{
	struct test_nft t;
	struct action_ban store[3];
	const char *addrs[] = {"10.99.0.2", "10.99.0.3", "10.99.0.4"};
	size_t i;

	test_nft_netns();
	test_nft_init(&t, "sendmail");
	test_nft_start(&t);
	for (i = 0; i < 3; i++)
		test_nft_ban(&t, addrs[i], 600, 0);
	t.a.ops->flush(&t.a);
	memset(store, 0, sizeof store);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(addr_parse(addrs[i], &store[i].addr), 0);
		store[i].jail = "sendmail";
	}
	store[0].end = time(NULL) + 601; /* within the slack: untouched */
	store[1].end = time(NULL) + 3000; /* lengthened while down */
	store[2].end = 0; /* made permanent while down */
	t.a.ops->restore(&t.a, store, 3);
	cr_assert_leq(test_nft_left(&t, "sendmail_v4", "10.99.0.2"), 600,
	    "a right timeout was rewritten");
	cr_assert_geq(test_nft_left(&t, "sendmail_v4", "10.99.0.2"), 590);
	cr_assert_geq(test_nft_left(&t, "sendmail_v4", "10.99.0.3"), 2990);
	cr_assert_eq(test_nft_left(&t, "sendmail_v4", "10.99.0.4"), 0);
	cr_assert_eq(t.a.stats.failures, 0);
	t.a.ops->free(&t.a);
}

Test(nft, lookup_by_key_finds_present_and_missing_across_batches)
{
	struct addr *keys = xcalloc(2000, sizeof *keys);
	uint64_t *left = xcalloc(2000, sizeof *left);
	uint8_t *found = xcalloc(2000, 1);
	char *cause = NULL, cmd[64];
	FILE *fp;
	size_t i;

	test_nft_netns();
	test_nft_sh("nft add table inet jt && nft add set inet jt h4 "
	            "'{ type ipv4_addr; flags timeout; }' && nft add set "
	            "inet jt h6 '{ type ipv6_addr; flags timeout; }'");
	/* Every third of 2,000 keys missing: many batches, many restarts. */
	fp = popen("nft -f -", "w");
	cr_assert_not_null(fp);
	for (i = 0; i < 2000; i++) {
		snprintf(cmd, sizeof cmd, "10.7.%zu.%zu", i / 256, i % 256);
		cr_assert_eq(addr_parse(cmd, &keys[i]), 0);
		if (i % 3 != 0)
			fprintf(fp, "add element inet jt h4 { %s%s }\n", cmd,
			    i == 1 ? " timeout 100s" : "");
	}
	cr_assert_eq(pclose(fp), 0);
	cr_assert_eq(
	    nftset_get("jt", "h4", AF_INET, keys, 2000, found, left, &cause), 0,
	    "%s", cause);
	for (i = 0; i < 2000; i++)
		cr_assert_eq(found[i], i % 3 != 0, "key %zu", i);
	cr_assert(left[1] > 95000 && left[1] <= 100000, "%llu",
	    (unsigned long long)left[1]);
	cr_assert_eq(left[2], 0);
	/* v6, an empty set, and a set that is not there. */
	cr_assert_eq(addr_parse("fd99::2", &keys[0]), 0);
	cr_assert_eq(
	    nftset_get("jt", "h6", AF_INET6, keys, 1, found, left, &cause), 0,
	    "%s", cause);
	cr_assert_eq(found[0], 0);
	cr_assert_eq(
	    nftset_get("jt", "nope", AF_INET6, keys, 1, found, left, &cause),
	    -1);
	cr_assert_not_null(strstr(cause, "inet jt nope"), "%s", cause);
	free(cause);
	free(keys);
	free(left);
	free(found);
}

/* Accept one connection from src to the server, for held slots. */
static void
test_nft_hold(int lfd, const char *src, const char *dst, int *c, int *s)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof peer;

	*c = test_nft_connect(src, dst);
	cr_assert_geq(*c, 0, "connect %s: %s", src, strerror(errno));
	*s = accept(lfd, (struct sockaddr *)&peer, &plen);
	cr_assert_geq(*s, 0);
}

Test(nft, evict_runs_off_the_loop_one_job_at_a_time)
{
	struct test_nft t;
	uv_loop_t loop;
	int lfd, c[5], s[5], i, n;
	char ch;

	test_nft_netns();
	lfd = test_nft_listen();
	cr_assert_eq(uv_loop_init(&loop), 0);
	test_nft_init(&t, "sendmail");
	t.a.loop = &loop;
	test_nft_start(&t);
	for (i = 0; i < 5; i++)
		test_nft_hold(lfd,
		    i < 3   ? "10.99.0.2"
		    : i < 4 ? "fd99::2"
		            : "10.99.0.3",
		    i == 3 ? "fd99::1" : "10.99.0.1", &c[i], &s[i]);
	test_nft_ban(&t, "10.99.0.2", 600, 0);
	t.a.ops->flush(&t.a);
	/* The set holds it at once; the count comes with the loop. */
	cr_assert_geq(test_nft_left(&t, "sendmail_v4", "10.99.0.2"), 590);
	cr_assert_eq(t.a.stats.evicted, 0, "evicted on the loop thread");
	/* A second turn's ban waits for the running job, then runs. */
	test_nft_ban(&t, "fd99::2", 600, 0);
	t.a.ops->flush(&t.a);
	cr_assert_eq(t.a.stats.evicted, 0);
	cr_assert_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
	cr_assert_eq(t.a.stats.evicted, 4);
	cr_assert_eq(t.a.stats.failures, 0);
	for (i = 0; i < 4; i++) {
		n = (int)recv(s[i], &ch, 1, MSG_DONTWAIT);
		cr_assert(n == 0 || (n == -1 && (errno == ECONNRESET ||
		                                    errno == ECONNABORTED)),
		    "socket %d kept: n=%d %s", i, n, strerror(errno));
	}
	cr_assert_eq(recv(s[4], &ch, 1, MSG_DONTWAIT), -1);
	cr_assert_eq(errno, EAGAIN, "legit connection touched");
	for (i = 0; i < 5; i++) {
		close(c[i]);
		close(s[i]);
	}
	t.a.ops->free(&t.a);
	cr_assert_eq(uv_loop_close(&loop), 0);
	close(lfd);
}

Test(nft, stale_sweep_after_restore_removes_only_what_store_lacks)
{
	struct test_nft t, t2;
	struct action_ban store[3];
	const char *want[] = {"10.99.0.3", "fd99::3", "10.99.6.0/24"};
	uv_loop_t loop;
	char *els;
	size_t i;

	test_nft_netns();
	test_nft_init(&t, "sendmail");
	test_nft_start(&t);
	test_nft_ban(&t, "10.99.0.2", 600, 0);
	test_nft_ban(&t, "10.99.0.3", 600, 0);
	test_nft_ban(&t, "10.99.0.4", 600, 0);
	test_nft_ban(&t, "fd99::2", 0, 0);
	t.a.ops->flush(&t.a);
	t.a.ops->free(&t.a);
	cr_assert_eq(uv_loop_init(&loop), 0);
	test_nft_init(&t2, "sendmail");
	t2.a.loop = &loop;
	test_nft_start(&t2);
	memset(store, 0, sizeof store);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(addr_parse(want[i], &store[i].addr), 0);
		store[i].jail = "sendmail";
		store[i].end = time(NULL) + 300;
	}
	t2.a.ops->restore(&t2.a, store, 3);
	/* Right after restore: every ban in, the stale hosts not yet out. */
	els = test_nft_elements(&t2);
	cr_assert_str_eq(els, "10.99.0.2 10.99.0.3 10.99.0.4 10.99.6.0/24 "
	                      "fd99::2 fd99::3");
	free(els);
	/* Banned again while the sweep runs: the sweep must keep it. */
	test_nft_ban(&t2, "10.99.0.4", 600, 0);
	t2.a.ops->flush(&t2.a);
	cr_assert_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
	els = test_nft_elements(&t2);
	cr_assert_str_eq(els, "10.99.0.3 10.99.0.4 10.99.6.0/24 fd99::3");
	free(els);
	cr_assert_eq(t2.a.stats.failures, 0);
	t2.a.ops->free(&t2.a);
	cr_assert_eq(uv_loop_close(&loop), 0);
}
