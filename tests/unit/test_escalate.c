#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "escalate.h"
#include "jail.h"
#include "selfaddr.h"

#define NOW 1700000000

static struct jail_ban pool[64];
static struct jail_ban *bans[64];
static size_t nbans;
static struct escalate_conf ec = {3, 24, 64, 3600};

static struct addr
A(const char *s) {
	struct addr a;

	cr_assert_eq(addr_parse(s, &a), 0, "%s", s);
	return a;
}

/* Add a ban of s, started ago seconds before NOW. */
static void
ban(const char *s, time_t ago)
{
	memset(&pool[nbans], 0, sizeof pool[nbans]);
	pool[nbans].addr = A(s);
	pool[nbans].start = NOW - ago;
	bans[nbans] = &pool[nbans];
	nbans++;
}

static void
setup(void)
{
	nbans = 0;
}

static int
decide(const char *s, const struct escalate_guard *g, char *out)
{
	struct addr a = A(s), p;

	if (!escalate_decide(&ec, bans, nbans, &a, NOW, g, &p))
		return 0;
	addr_format(&p, out, ADDR_STRLEN);
	return 1;
}

Test(escalate, threshold_distinct_hosts_ban_the_prefix, .init = setup)
{
	char p[ADDR_STRLEN];

	ban("203.0.113.7", 10);
	cr_assert_not(decide("203.0.113.8", NULL, p));
	ban("203.0.113.8", 5);
	/* The new host is counted once, whether or not it is in bans. */
	cr_assert(decide("203.0.113.9", NULL, p));
	cr_assert_str_eq(p, "203.0.113.0/24");
	ban("203.0.113.9", 0);
	cr_assert(decide("203.0.113.9", NULL, p));
}

Test(escalate, other_prefixes_and_old_bans_do_not_count, .init = setup)
{
	char p[ADDR_STRLEN];

	ban("203.0.113.7", 7200); /* outside the window */
	ban("203.0.114.8", 5); /* another /24 */
	ban("2001:db8::7", 5); /* another family */
	ban("203.0.113.8", 5);
	cr_assert_not(decide("203.0.113.9", NULL, p));
	ec.window = 0; /* any time */
	cr_assert(decide("203.0.113.9", NULL, p));
	ec.window = 3600;
}

Test(escalate, ipv6_uses_prefix6, .init = setup)
{
	char p[ADDR_STRLEN];

	ban("2001:db8:0:1::7", 5);
	ban("2001:db8:0:1:ffff::8", 5);
	cr_assert(decide("2001:db8:0:1::9", NULL, p));
	cr_assert_str_eq(p, "2001:db8:0:1::/64");
}

Test(escalate, never_twice_nor_when_off, .init = setup)
{
	char p[ADDR_STRLEN];
	struct escalate_conf off = {0, 24, 64, 0};
	struct addr a = A("203.0.113.9"), out;

	ban("203.0.113.7", 5);
	ban("203.0.113.8", 5);
	cr_assert_not(escalate_decide(&off, bans, nbans, &a, NOW, NULL, &out));
	ban("203.0.113.0/24", 5);
	cr_assert_not(decide("203.0.113.9", NULL, p));
	/* A wider prefix ban already covers it too. */
	nbans--;
	ban("203.0.0.0/16", 5);
	cr_assert_not(decide("203.0.113.9", NULL, p));
	/* A prefix is not a host: it never escalates itself. */
	a = A("198.51.100.0/25");
	cr_assert_not(escalate_decide(&ec, bans, nbans, &a, NOW, NULL, &out));
}

Test(escalate, guarded_by_ignoreip_and_own_addresses, .init = setup)
{
	char p[ADDR_STRLEN];
	struct addr ign[2] = {A("127.0.0.0/8"), A("203.0.113.250")};
	struct addr wide = A("203.0.0.0/16"), own = A("198.51.100.1");
	struct escalate_guard g = {ign, 2, NULL};
	struct selfaddr *self = selfaddr_create_from(&own, 1);

	ban("203.0.113.7", 5);
	ban("203.0.113.8", 5);
	cr_assert_not(decide("203.0.113.9", &g, p));
	g.nignore = 1;
	cr_assert(decide("203.0.113.9", &g, p));
	/* An ignoreip prefix around the subnet guards it too. */
	g.ignore = &wide;
	cr_assert_not(decide("203.0.113.9", &g, p));
	g.nignore = 0;
	nbans = 0;
	ban("198.51.100.7", 5);
	ban("198.51.100.8", 5);
	g.self = self;
	cr_assert_not(decide("198.51.100.9", &g, p));
	g.self = NULL; /* ignoreself = false */
	cr_assert(decide("198.51.100.9", &g, p));
	selfaddr_free(self);
}

Test(escalate, folds_only_hosts_inside)
{
	struct addr p = A("203.0.113.0/24");
	struct addr in = A("203.0.113.5"), out = A("203.0.114.5");
	struct addr sub = A("203.0.113.128/25");

	cr_assert(escalate_folds(&p, &in));
	cr_assert_not(escalate_folds(&p, &out));
	cr_assert_not(escalate_folds(&p, &sub));
	cr_assert_not(escalate_folds(&p, &p));
}
