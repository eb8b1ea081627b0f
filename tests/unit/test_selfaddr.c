#include <sys/socket.h>

#include <sched.h>
#include <unistd.h>

#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "selfaddr.h"

static struct addr
A(const char *s) {
	struct addr a;

	cr_assert_eq(addr_parse(s, &a), 0, "%s", s);
	return a;
}

Test(selfaddr, reads_loopback_from_the_interfaces)
{
	struct selfaddr *s;
	char *cause = NULL;
	struct addr lo = A("127.0.0.1"), lonet = A("127.0.0.0/8");
	struct addr other = A("192.0.2.77");

	s = selfaddr_create(&cause);
	cr_assert_not_null(s, "%s", cause);
	cr_assert_gt(selfaddr_count(s), 0);
	cr_assert(selfaddr_covers(s, &lo));
	cr_assert(selfaddr_covers(s, &lonet));
	cr_assert_not(selfaddr_covers(s, &other));
	cr_assert_eq(selfaddr_refresh(s, &cause), 0);
	cr_assert(selfaddr_covers(s, &lo));
	selfaddr_free(s);
}

/* In a fresh network namespace only what we add is ours. */
Test(selfaddr, sees_an_address_added_after_refresh)
{
	struct selfaddr *s;
	char *cause = NULL;
	struct addr mine = A("192.0.2.77"), net = A("192.0.2.0/24");

	if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0)
		cr_skip_test("needs root for a network namespace");
	cr_assert_eq(system("ip link set lo up"), 0);
	s = selfaddr_create(&cause);
	cr_assert_not_null(s, "%s", cause);
	cr_assert_not(selfaddr_covers(s, &mine));
	cr_assert_eq(system("ip addr add 192.0.2.77/24 dev lo"), 0);
	cr_assert_eq(selfaddr_refresh(s, &cause), 0, "%s", cause);
	cr_assert(selfaddr_covers(s, &mine));
	cr_assert(selfaddr_covers(s, &net));
	selfaddr_free(s);
}

Test(selfaddr, fixed_sets_and_null)
{
	struct addr v[2] = {A("2001:db8::1"), A("198.51.100.1")};
	struct addr p6 = A("2001:db8::/64"), p4 = A("198.51.100.0/25");
	struct addr h = A("198.51.100.2");
	struct selfaddr *s = selfaddr_create_from(v, 2);

	cr_assert_eq(selfaddr_count(s), 2);
	cr_assert(addr_equal(selfaddr_get(s, 1), &v[1]));
	cr_assert_null(selfaddr_get(s, 2));
	cr_assert(selfaddr_covers(s, &p6));
	cr_assert(selfaddr_covers(s, &p4));
	cr_assert_not(selfaddr_covers(s, &h));
	cr_assert_not(selfaddr_covers(NULL, &h));
	selfaddr_free(s);
	selfaddr_free(NULL);
}
