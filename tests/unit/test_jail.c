#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "addrmap.h"
#include "jail.h"
#include "selfaddr.h"
#include "tracker.h"

/* A jail on the sendmail idle line, with no actions. */
struct fixture {
	struct config_regex fail, sat, good;
	struct filter_conf fc, sc;
	struct addr ignore[2];
	struct jail_conf jc;
	uv_loop_t loop;
	struct jail *j;
};

static struct fixture fx;

/* Writable copies: the config structs hold char *, as config.c makes them. */
static char fail_re[] = "\\[(?:IPv6:)?<HOST>\\](?: \\(may be forged\\))? "
                        "did not issue MAIL/EXPN/VRFY/ETRN";
static char sat_re[] = "rejecting connections on daemon \\S+: \\d+ "
                       "children, max \\d+";
static char good_re[] = "from=<[^>]*>, size=\\d+, class=-?\\d+, "
                        "nrcpts=[1-9]\\d*, .*relay=(?:[\\w.-]+ )?"
                        "\\[(?:IPv6:)?<HOST>\\]";
static char test_conf[] = "test.conf", sat_conf[] = "sat.conf";
static char idle_name[] = "idle", sat_name[] = "sat";
static char jail_name[] = "sendmail", jail_file[] = "jails.d/sendmail.conf";

static void
setup(void)
{
	char *cause = NULL;

	setenv("TZ", "UTC", 1);
	memset(&fx, 0, sizeof fx);
	fx.fail.pattern = fail_re;
	fx.fail.file = test_conf;
	fx.fail.line = 3;
	fx.fc.name = idle_name;
	fx.fc.file = test_conf;
	fx.fc.failregex = &fx.fail;
	fx.fc.nfailregex = 1;
	fx.sat.pattern = sat_re;
	fx.sat.file = sat_conf;
	fx.sat.line = 1;
	fx.sc.name = sat_name;
	fx.sc.file = sat_conf;
	fx.sc.failregex = &fx.sat;
	fx.sc.nfailregex = 1;
	fx.good.pattern = good_re;
	fx.good.file = sat_conf;
	fx.good.line = 2;
	fx.sc.goodregex = &fx.good;
	fx.sc.ngoodregex = 1;
	cr_assert_eq(addr_parse("127.0.0.0/8", &fx.ignore[0]), 0);
	cr_assert_eq(addr_parse("192.0.2.0/24", &fx.ignore[1]), 0);
	fx.jc.name = jail_name;
	fx.jc.file = jail_file;
	fx.jc.line = 1;
	fx.jc.enabled = 1;
	fx.jc.filter = &fx.fc;
	fx.jc.saturation_filter = &fx.sc;
	fx.jc.maxretry = 3;
	fx.jc.findtime = 600;
	fx.jc.bantime = 3600;
	fx.jc.ignoreip = fx.ignore;
	fx.jc.nignoreip = 2;
	uv_loop_init(&fx.loop);
	fx.j = jail_create(&fx.loop, &fx.jc, &cause);
	cr_assert_not_null(fx.j, "jail_create: %s", cause);
}

static void
teardown(void)
{
	jail_free(fx.j);
	uv_loop_close(&fx.loop);
}

#define NOW 1795737600 /* 2026-11-27 00:00:00 UTC */

static enum jail_verdict
offer(const char *host, struct jail_event *ev)
{
	char line[512];

	snprintf(line, sizeof line,
	    "Nov 27 00:00:00 mx sm-mta[1]: q1: x.example [%s] did not issue "
	    "MAIL/EXPN/VRFY/ETRN during connection to IPv4",
	    host);
	return jail_offer_line(fx.j, line, strlen(line), NOW, ev);
}

Test(jail, bans_at_maxretry, .init = setup, .fini = teardown)
{
	struct jail_event ev;
	char text[ADDR_STRLEN];

	cr_assert_eq(offer("203.0.113.7", &ev), JAIL_FAILURE);
	cr_assert_eq(offer("203.0.113.7", &ev), JAIL_FAILURE);
	cr_assert_eq(offer("203.0.113.7", &ev), JAIL_BAN);
	addr_format(&ev.addr, text, sizeof text);
	cr_assert_str_eq(text, "203.0.113.7");
	cr_assert_eq(ev.failures, 3);
	cr_assert_eq(fx.j->stats.matched, 3);
}

Test(jail, ipv6_uncompressed_is_normalised, .init = setup, .fini = teardown)
{
	struct jail_event ev;
	char text[ADDR_STRLEN];

	offer("IPv6:2001:db8:0:0:0:0:0:10", &ev);
	offer("IPv6:2001:db8::10", &ev);
	cr_assert_eq(offer("IPv6:2001:0db8:0:0:0:0:0:10", &ev), JAIL_BAN);
	addr_format(&ev.addr, text, sizeof text);
	cr_assert_str_eq(text, "2001:db8::10");
}

Test(jail, ignoreip_is_never_counted, .init = setup, .fini = teardown)
{
	struct jail_event ev;
	int i;

	for (i = 0; i < 10; i++) {
		cr_assert_eq(offer("192.0.2.44", &ev), JAIL_IGNORED);
		cr_assert_eq(offer("127.0.0.1", &ev), JAIL_IGNORED);
	}
	cr_assert_eq(tracker_count(fx.j->tracker), 0);
}

/* Issue #13: a manual ban of 192.0.0.0/16 would block 192.0.2.0/24. */
Test(
    jail, prefix_overlapping_ignoreip_is_found, .init = setup, .fini = teardown)
{
	struct addr a, hit, self;
	struct selfaddr *sa;
	char text[ADDR_STRLEN];

	cr_assert_eq(addr_parse("192.0.0.0/16", &a), 0);
	cr_assert_eq(jail_ignore_overlap(fx.j, &a, &hit), 1);
	addr_format(&hit, text, sizeof text);
	cr_assert_str_eq(text, "192.0.2.0/24");
	cr_assert_eq(addr_parse("192.0.2.7", &a), 0);
	cr_assert_eq(jail_ignore_overlap(fx.j, &a, &hit), 1);
	cr_assert_eq(addr_parse("192.0.3.0/24", &a), 0);
	cr_assert_eq(jail_ignore_overlap(fx.j, &a, &hit), 0);
	/* ignoreself: a prefix holding one of the host's addresses. */
	cr_assert_eq(addr_parse("198.51.100.9", &self), 0);
	fx.j->self = sa = selfaddr_create_from(&self, 1);
	fx.j->ignoreself = 1;
	cr_assert_eq(addr_parse("198.51.0.0/16", &a), 0);
	cr_assert_eq(jail_ignore_overlap(fx.j, &a, &hit), 2);
	cr_assert_eq(addr_parse("198.51.101.0/24", &a), 0);
	cr_assert_eq(jail_ignore_overlap(fx.j, &a, &hit), 0);
	fx.j->self = NULL;
	selfaddr_free(sa);
}

Test(jail, banned_address_is_not_banned_again, .init = setup, .fini = teardown)
{
	struct jail_event ev;
	struct jail_ban b;

	memset(&b, 0, sizeof b);
	cr_assert_eq(addr_parse("198.51.100.0/24", &b.addr), 0);
	b.start = NOW;
	b.end = NOW + 60;
	jail_ban_add(fx.j, &b);
	cr_assert_eq(offer("198.51.100.9", &ev), JAIL_BANNED);
	cr_assert_eq(tracker_count(fx.j->tracker), 0);
	jail_ban_remove(fx.j, &b.addr);
	cr_assert_eq(offer("198.51.100.9", &ev), JAIL_FAILURE);
}

Test(jail, old_lines_cannot_ban, .init = setup, .fini = teardown)
{
	const char *line = "Nov 26 00:00:00 mx sm-mta[1]: q1: [203.0.113.9] "
	                   "did not issue MAIL/EXPN/VRFY/ETRN during "
	                   "connection to IPv4";
	struct jail_event ev;
	int i;

	for (i = 0; i < 5; i++)
		cr_assert_eq(
		    jail_offer_line(fx.j, line, strlen(line), NOW, &ev),
		    JAIL_OLD);
	cr_assert_eq(fx.j->stats.matched, 5);
}

Test(jail, saturation_line_is_counted, .init = setup, .fini = teardown)
{
	const char *line = "Nov 27 00:00:00 mx sm-mta[9]: rejecting "
	                   "connections on daemon IPv4: 15 children, max 15";
	struct jail_event ev;

	cr_assert_eq(jail_offer_line(fx.j, line, strlen(line), NOW, &ev),
	    JAIL_SATURATION);
	cr_assert_eq(fx.j->stats.sat_count, 1);
	cr_assert_eq(fx.j->stats.sat_last, NOW);
}

Test(jail, goodregex_names_a_good_sender, .init = setup, .fini = teardown)
{
	const char *line =
	    "Nov 27 00:00:05 mx sm-mta[7]: 6ARNwFSm027505: "
	    "from=<alice@client.lab.example>, size=99, class=0, nrcpts=1, "
	    "msgid=<1@mx>, proto=ESMTP, daemon=IPv6, "
	    "relay=client.lab.example [IPv6:fd77:0:0:0:0:0:0:2]";
	const char *none = "Nov 27 00:00:05 mx sm-mta[7]: 6ARNwFSm027506: "
	                   "from=<x@y>, size=0, class=0, nrcpts=0, "
	                   "proto=ESMTP, daemon=IPv4, relay=[10.0.0.9]";
	struct jail_event ev;
	struct addr want;

	cr_assert_eq(
	    jail_offer_line(fx.j, line, strlen(line), NOW, &ev), JAIL_GOOD);
	cr_assert_eq(addr_parse("fd77::2", &want), 0);
	cr_assert(addr_equal(&ev.addr, &want));
	cr_assert_eq(ev.when, NOW + 5);
	/* No recipient accepted: not a completed transaction. */
	cr_assert_eq(
	    jail_offer_line(fx.j, none, strlen(none), NOW, &ev), JAIL_NONE);
	cr_assert_eq(fx.j->stats.matched, 0, "a good line is no failure");
}

Test(jail, unmatched_line_is_nothing, .init = setup, .fini = teardown)
{
	const char *line = "Nov 27 00:00:00 mx sm-mta[1]: q1: [6.6.6.6] "
	                   "[bad] did not issue MAIL/EXPN/VRFY/ETRN during "
	                   "connection to IPv4";
	struct jail_event ev;

	cr_assert_eq(
	    jail_offer_line(fx.j, line, strlen(line), NOW, &ev), JAIL_NONE);
	cr_assert_eq(fx.j->stats.lines, 1);
	cr_assert_eq(fx.j->stats.matched, 0);
}

Test(jail, ban_list_is_sorted_and_find_sees_prefixes, .init = setup,
    .fini = teardown)
{
	struct jail_ban b, **v;
	struct addr probe;
	size_t n;

	memset(&b, 0, sizeof b);
	addr_parse("203.0.113.9", &b.addr);
	jail_ban_add(fx.j, &b);
	addr_parse("198.51.100.0/24", &b.addr);
	jail_ban_add(fx.j, &b);
	v = jail_ban_list(fx.j, &n);
	cr_assert_eq(n, 2);
	cr_assert(addr_cmp(&v[0]->addr, &v[1]->addr) < 0);
	free(v);
	addr_parse("198.51.100.200", &probe);
	cr_assert_not_null(jail_ban_find(fx.j, &probe));
	cr_assert_null(jail_ban_get(fx.j, &probe));
}

Test(jail, remove_through_the_bans_own_address, .init = setup, .fini = teardown)
{
	struct jail_ban b, *in;
	struct addr probe;

	memset(&b, 0, sizeof b);
	addr_parse("198.51.100.0/24", &b.addr);
	in = jail_ban_add(fx.j, &b);
	cr_assert_eq(fx.j->nprefixes, 1);
	/* The key lives in the ban that removal frees. */
	jail_ban_remove(fx.j, &in->addr);
	cr_assert_eq(fx.j->nprefixes, 0);
	addr_parse("198.51.100.9", &probe);
	cr_assert_null(jail_ban_find(fx.j, &probe));
}

Test(jail, ban_carries_the_counted_lines_when_an_action_reports_them,
    .init = setup, .fini = teardown)
{
	static char k_ban[] = "actionban", v_ban[] = "echo <matches>";
	static char a_name[] = "m", a_file[] = "m.conf";
	struct config_var var = {k_ban, v_ban, a_file, 1};
	struct action_conf ac = {0}, *acs[1] = {&ac};
	struct jail_event ev;
	char *cause = NULL;
	int i;

	ac.name = a_name;
	ac.file = a_file;
	ac.timeout = 5;
	ac.vars = &var;
	ac.nvars = 1;
	jail_free(fx.j);
	fx.jc.actions = acs;
	fx.jc.nactions = 1;
	fx.j = jail_create(&fx.loop, &fx.jc, &cause);
	cr_assert_not_null(fx.j, "%s", cause);
	for (i = 0; i < 2; i++)
		cr_assert_eq(offer("203.0.113.7", &ev), JAIL_FAILURE);
	cr_assert_null(ev.matches);
	cr_assert_eq(offer("203.0.113.7", &ev), JAIL_BAN);
	cr_assert_not_null(ev.matches);
	/* Three lines, the three failures. */
	cr_assert_not_null(strchr(ev.matches, '\n'));
	cr_assert_not_null(strchr(strchr(ev.matches, '\n') + 1, '\n'));
	cr_assert_not_null(strstr(ev.matches, "[203.0.113.7] did not issue"));
	free(ev.matches);
	jail_free(fx.j);
	fx.j = NULL;
	fx.jc.actions = NULL;
	fx.jc.nactions = 0;
	uv_run(&fx.loop, UV_RUN_DEFAULT);
}
