#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tracker.h"

static struct addr
host(const char *s)
{
	struct addr a;

	cr_assert_eq(addr_parse(s, &a), 0, "parse %s", s);
	return a;
}

Test(tracker, counts_within_findtime)
{
	struct tracker *t = tracker_create(3, 600, 0);
	struct addr a = host("192.0.2.1");

	cr_assert_eq(tracker_add(t, &a, 1000, 1000, "", 0), 1);
	cr_assert_eq(tracker_add(t, &a, 1100, 1100, "", 0), 2);
	cr_assert_eq(tracker_add(t, &a, 1200, 1200, "", 0), 3);
	tracker_free(t);
}

Test(tracker, failures_outside_the_window_do_not_count)
{
	struct tracker *t = tracker_create(3, 600, 0);
	struct addr a = host("192.0.2.1");

	cr_assert_eq(tracker_add(t, &a, 1000, 1000, "", 0), 1);
	cr_assert_eq(tracker_add(t, &a, 1500, 1500, "", 0), 2);
	/* 1000 is now more than 600 s before the newest failure. */
	cr_assert_eq(tracker_add(t, &a, 1700, 1700, "", 0), 2);
	tracker_free(t);
}

Test(tracker, old_lines_count_for_nothing)
{
	struct tracker *t = tracker_create(2, 600, 0);
	struct addr a = host("2001:db8::1");

	cr_assert_eq(tracker_add(t, &a, 100, 5000, "", 0), 0);
	cr_assert_eq(tracker_add(t, &a, 200, 5000, "", 0), 0);
	cr_assert_eq(tracker_count(t), 0);
	tracker_free(t);
}

Test(tracker, addresses_are_counted_apart)
{
	struct tracker *t = tracker_create(5, 600, 0);
	struct addr a = host("192.0.2.1"), b = host("192.0.2.2");

	tracker_add(t, &a, 1000, 1000, "", 0);
	tracker_add(t, &a, 1001, 1001, "", 0);
	cr_assert_eq(tracker_add(t, &b, 1002, 1002, "", 0), 1);
	cr_assert_eq(tracker_failures(t, &a), 2);
	tracker_forget(t, &a);
	cr_assert_eq(tracker_failures(t, &a), 0);
	cr_assert_eq(tracker_count(t), 1);
	tracker_free(t);
}

Test(tracker, expire_drops_quiet_addresses)
{
	struct tracker *t = tracker_create(5, 600, 0);
	struct addr a = host("192.0.2.1"), b = host("192.0.2.2");

	tracker_add(t, &a, 1000, 1000, "", 0);
	tracker_add(t, &b, 1500, 1500, "", 0);
	tracker_expire(t, 1700);
	cr_assert_eq(tracker_failures(t, &a), 0);
	cr_assert_eq(tracker_failures(t, &b), 1);
	tracker_free(t);
}

Test(tracker, memory_per_address_is_bounded_by_maxretry)
{
	struct tracker *t = tracker_create(3, 600, 0);
	struct addr a = host("192.0.2.1");
	int i, n = 0;

	for (i = 0; i < 1000; i++)
		n = tracker_add(t, &a, 1000 + i / 10, 1000 + i / 10, "", 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(tracker_failures(t, &a), 3);
	tracker_free(t);
}

Test(tracker, keeps_the_lines_of_the_counted_failures)
{
	struct tracker *t = tracker_create(3, 600, 1);
	struct addr a = host("192.0.2.1"), b = host("192.0.2.2");
	char line[16], *m;
	int i;

	cr_assert_null(tracker_matches(t, &a));
	for (i = 1; i <= 5; i++) {
		snprintf(line, sizeof line, "line %d", i);
		tracker_add(t, &a, 1000 + i, 1000 + i, line, strlen(line));
	}
	tracker_add(t, &b, 1000, 1000, "other", 5);
	/* The ring keeps the newest maxretry lines, oldest first. */
	m = tracker_matches(t, &a);
	cr_assert_str_eq(m, "line 3\nline 4\nline 5");
	free(m);
	m = tracker_matches(t, &b);
	cr_assert_str_eq(m, "other");
	free(m);
	tracker_forget(t, &a);
	cr_assert_null(tracker_matches(t, &a));
	tracker_free(t);
}

Test(tracker, keeps_no_lines_unless_asked_and_cuts_long_ones)
{
	struct tracker *t = tracker_create(2, 600, 0), *k;
	struct addr a = host("192.0.2.1");
	char *big = malloc(TRACKER_LINEMAX * 2), *m;

	memset(big, 'x', TRACKER_LINEMAX * 2);
	tracker_add(t, &a, 1000, 1000, "seen", 4);
	cr_assert_null(tracker_matches(t, &a));
	k = tracker_create(2, 600, 1);
	tracker_add(k, &a, 1000, 1000, big, TRACKER_LINEMAX * 2);
	m = tracker_matches(k, &a);
	cr_assert_eq(strlen(m), TRACKER_LINEMAX);
	free(m);
	free(big);
	tracker_free(k);
	tracker_free(t);
}
