/* Unit tests for duration: fail2ban's duration syntax and short forms. */
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>

#include "duration.h"

/* Parse s, asserting success, and return the seconds. */
static int64_t
test_duration_ok(const char *s)
{
	int64_t v = -12345;

	cr_assert_eq(duration_parse(s, &v), 0, "rejected '%s'", s);
	return v;
}

/* Format secs and return the text. */
static const char *
test_duration_fmt(int64_t secs)
{
	static char buf[64];

	duration_format(secs, buf, sizeof buf);
	return buf;
}

Test(duration, plain_seconds)
{
	cr_assert_eq(test_duration_ok("600"), 600);
	cr_assert_eq(test_duration_ok("0"), 0);
	cr_assert_eq(test_duration_ok("  42  "), 42);
	cr_assert_eq(test_duration_ok("86400"), 86400);
}

Test(duration, units)
{
	cr_assert_eq(test_duration_ok("10m"), 600);
	cr_assert_eq(test_duration_ok("30s"), 30);
	cr_assert_eq(test_duration_ok("1h"), 3600);
	cr_assert_eq(test_duration_ok("1d"), 86400);
	cr_assert_eq(test_duration_ok("2w"), 2 * 604800);
	cr_assert_eq(test_duration_ok("1mo"), 2629800);
	cr_assert_eq(test_duration_ok("1y"), 31557600);
	cr_assert_eq(test_duration_ok("10M"), 600);
	cr_assert_eq(test_duration_ok("1H"), 3600);
}

Test(duration, long_forms)
{
	cr_assert_eq(test_duration_ok("1 day"), 86400);
	cr_assert_eq(test_duration_ok("3 hours"), 3 * 3600);
	cr_assert_eq(test_duration_ok("5mins"), 300);
	cr_assert_eq(test_duration_ok("5 minutes"), 300);
	cr_assert_eq(test_duration_ok("1 minute"), 60);
	cr_assert_eq(test_duration_ok("2 weeks"), 2 * 604800);
	cr_assert_eq(test_duration_ok("10 sec"), 10);
	cr_assert_eq(test_duration_ok("10 seconds"), 10);
	cr_assert_eq(test_duration_ok("2 days"), 2 * 86400);
	cr_assert_eq(test_duration_ok("1 month"), 2629800);
	cr_assert_eq(test_duration_ok("1 year"), 31557600);
}

Test(duration, combined)
{
	cr_assert_eq(test_duration_ok("1h30m"), 5400);
	cr_assert_eq(test_duration_ok("1d 12h"), 86400 + 12 * 3600);
	cr_assert_eq(
	    test_duration_ok("1d12h30m15s"), 86400 + 12 * 3600 + 30 * 60 + 15);
	cr_assert_eq(test_duration_ok("1 hour 30 minutes"), 5400);
	cr_assert_eq(test_duration_ok("1h30"), 3630); /* trailing seconds */
	cr_assert_eq(test_duration_ok("1.5h"), 5400);
}

Test(duration, forever)
{
	cr_assert_eq(test_duration_ok("-1"), DURATION_FOREVER);
	cr_assert_eq(test_duration_ok(" -1 "), DURATION_FOREVER);
}

Test(duration, rejects_garbage)
{
	static const char *bad[] = {"", " ", "abc", "10x", "-2", "-10", "-1s",
	    "--1", "+5", "1h-30m", "m", "10 parsecs", "1..5h", "1.h", "5 5",
	    "1h 5 5", "10m;rm -rf /", "1e9", "0x10", "1,5h", "10m\n", "h1",
	    ".5h", "-"};
	int64_t v;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		v = 777;
		cr_expect_eq(
		    duration_parse(bad[i], &v), -1, "accepted '%s'", bad[i]);
		cr_expect_eq(v, 777, "'%s' wrote the output", bad[i]);
	}
	cr_assert_eq(duration_parse(NULL, &v), -1);
}

Test(duration, rejects_overflow)
{
	int64_t v;

	cr_assert_eq(duration_parse("9223372036854775807", &v), 0);
	cr_assert_eq(v, INT64_MAX);
	cr_assert_eq(duration_parse("9223372036854775808", &v), -1);
	cr_assert_eq(duration_parse("99999999999999999999999", &v), -1);
	cr_assert_eq(duration_parse("9223372036854775807w", &v), -1);
	cr_assert_eq(duration_parse("300000000000y", &v), -1);
	cr_assert_eq(duration_parse("9223372036854775807 1s", &v), -1);
}

Test(duration, format)
{
	cr_assert_str_eq(test_duration_fmt(42), "42s");
	cr_assert_str_eq(test_duration_fmt(600), "10m");
	cr_assert_str_eq(test_duration_fmt(5400), "1h30m");
	cr_assert_str_eq(test_duration_fmt(2 * 86400 + 3 * 3600), "2d3h");
	cr_assert_str_eq(test_duration_fmt(86400 + 5), "1d5s");
	cr_assert_str_eq(test_duration_fmt(0), "0s");
	cr_assert_str_eq(test_duration_fmt(DURATION_FOREVER), "forever");
}

Test(duration, format_small_buffer)
{
	char buf[4];

	duration_format(5400, buf, sizeof buf);
	cr_assert_str_eq(buf, "1h3");
	duration_format(5400, buf, 0);
	cr_assert_str_eq(buf, "1h3");
}

Test(duration, format_parse_roundtrip)
{
	static const int64_t v[] = {1, 59, 60, 61, 3599, 3600, 86399, 86400,
	    604800, 2629800, 31557600, 123456789, INT64_MAX};
	char buf[64];
	int64_t back;
	size_t i;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		duration_format(v[i], buf, sizeof buf);
		cr_assert_eq(duration_parse(buf, &back), 0, "%s", buf);
		cr_assert_eq(back, v[i], "%s", buf);
	}
}
