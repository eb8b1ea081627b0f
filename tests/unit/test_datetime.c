/* Unit tests for datetime: built-in formats, year inference, patterns. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "datetime.h"

/* Every test runs in UTC unless it sets another zone itself. */
static void
test_datetime_utc(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
}

TestSuite(datetime, .init = test_datetime_utc);

/* UTC seconds of a civil date and time. */
static time_t
test_datetime_utc_at(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return timegm(&tm);
}

/* Compile spec, asserting success. */
static struct datetime *
test_datetime_new(const char *spec)
{
	struct datetime *dt;
	char *cause = NULL;

	dt = datetime_create(spec, &cause);
	cr_assert_not_null(
	    dt, "spec '%s': %s", spec ? spec : "(null)", cause ? cause : "?");
	return dt;
}

/* Find a date in line at now; returns the time or -1 if none. */
static time_t
test_datetime_find(const struct datetime *dt, const char *line, time_t now)
{
	time_t when = 0;
	size_t start = 0, end = 0;

	if (datetime_find(dt, line, strlen(line), now, &when, &start, &end) !=
	    0)
		return -1;
	cr_assert_leq(start, end);
	cr_assert_leq(end, strlen(line));
	return when;
}

/* Find a date in line and return the matched text in buf. */
static const char *
test_datetime_span(const struct datetime *dt, const char *line, time_t now)
{
	static char buf[256];
	time_t when;
	size_t start, end;

	if (datetime_find(dt, line, strlen(line), now, &when, &start, &end) !=
	    0)
		return "";
	memcpy(buf, line + start, end - start);
	buf[end - start] = '\0';
	return buf;
}

Test(datetime, bsd_syslog)
{
	struct datetime *dt = test_datetime_new(NULL);
	time_t now = test_datetime_utc_at(2026, 11, 28, 0, 0, 0);

	cr_assert_eq(
	    test_datetime_find(
	        dt, "Nov 27 23:58:15 mx sm-mta[812]: did not issue MAIL", now),
	    test_datetime_utc_at(2026, 11, 27, 23, 58, 15));
	cr_assert_eq(test_datetime_find(dt, "Nov  5 01:02:03 host x", now),
	    test_datetime_utc_at(2026, 11, 5, 1, 2, 3));
	cr_assert_eq(test_datetime_find(dt, "Nov 5 01:02:03 host x", now),
	    test_datetime_utc_at(2026, 11, 5, 1, 2, 3));
	cr_assert_eq(test_datetime_find(dt, "Nov 05 01:02:03 host x", now),
	    test_datetime_utc_at(2026, 11, 5, 1, 2, 3));
	cr_assert_eq(test_datetime_find(dt, "nov 05 01:02:03", now),
	    test_datetime_utc_at(2026, 11, 5, 1, 2, 3));
	cr_assert_str_eq(test_datetime_span(dt, "Nov  5 01:02:03 host", now),
	    "Nov  5 01:02:03");
	cr_assert_str_eq(datetime_describe(dt), "BSD syslog (MON DD hh:mm:ss)");
	datetime_free(dt);
}

Test(datetime, bsd_fraction_and_year)
{
	struct datetime *dt = test_datetime_new("");
	time_t now = test_datetime_utc_at(2026, 11, 28, 0, 0, 0);

	cr_assert_eq(test_datetime_find(dt, "Nov 27 23:58:15.397 host", now),
	    test_datetime_utc_at(2026, 11, 27, 23, 58, 15));
	cr_assert_str_eq(test_datetime_span(dt, "Nov 27 23:58:15.397 h", now),
	    "Nov 27 23:58:15.397");
	cr_assert_eq(test_datetime_find(dt, "Nov 27 2024 23:58:15 host", now),
	    test_datetime_utc_at(2024, 11, 27, 23, 58, 15));
	/* ctime: weekday first, year last. */
	cr_assert_eq(test_datetime_find(dt,
	                 "[Wed Nov 27 23:58:15.123456 2024] [error] x", now),
	    test_datetime_utc_at(2024, 11, 27, 23, 58, 15));
	cr_assert_str_eq(
	    test_datetime_span(dt, "Wed Nov 27 23:58:15 2024 x", now),
	    "Nov 27 23:58:15 2024");
	datetime_free(dt);
}

Test(datetime, year_rollover_december_read_in_january)
{
	struct datetime *dt = test_datetime_new(NULL);
	time_t now = test_datetime_utc_at(2027, 1, 1, 0, 0, 10);

	cr_assert_eq(test_datetime_find(dt, "Dec 31 23:59:59 h x", now),
	    test_datetime_utc_at(2026, 12, 31, 23, 59, 59));
	cr_assert_eq(test_datetime_find(dt, "Jan  1 00:00:05 h x", now),
	    test_datetime_utc_at(2027, 1, 1, 0, 0, 5));
	/* A little in the future (clock skew) stays this year. */
	cr_assert_eq(test_datetime_find(dt, "Jan  1 00:05:00 h x", now),
	    test_datetime_utc_at(2027, 1, 1, 0, 5, 0));
	datetime_free(dt);
}

Test(datetime, year_rollover_january_read_in_december)
{
	struct datetime *dt = test_datetime_new(NULL);
	time_t now = test_datetime_utc_at(2026, 12, 31, 23, 30, 0);

	/* Within a day ahead: next year. */
	cr_assert_eq(test_datetime_find(dt, "Jan  1 00:10:00 h x", now),
	    test_datetime_utc_at(2027, 1, 1, 0, 10, 0));
	/* More than a day ahead: this year's January, long past. */
	cr_assert_eq(test_datetime_find(dt, "Jan  2 12:00:00 h x", now),
	    test_datetime_utc_at(2026, 1, 2, 12, 0, 0));
	/* Tomorrow-ish in the same year is fine within a day. */
	now = test_datetime_utc_at(2026, 6, 10, 12, 0, 0);
	cr_assert_eq(test_datetime_find(dt, "Jun 11 11:00:00 h x", now),
	    test_datetime_utc_at(2026, 6, 11, 11, 0, 0));
	cr_assert_eq(test_datetime_find(dt, "Jun 11 13:00:00 h x", now),
	    test_datetime_utc_at(2025, 6, 11, 13, 0, 0));
	datetime_free(dt);
}

Test(datetime, leap_day_without_year)
{
	struct datetime *dt = test_datetime_new(NULL);

	cr_assert_eq(test_datetime_find(dt, "Feb 29 12:00:00 h x",
	                 test_datetime_utc_at(2025, 3, 1, 0, 0, 0)),
	    test_datetime_utc_at(2024, 2, 29, 12, 0, 0));
	/* No leap year among last, this and next (within a day): none. */
	cr_assert_eq(test_datetime_find(dt, "Feb 29 12:00:00 h x",
	                 test_datetime_utc_at(2026, 3, 1, 0, 0, 0)),
	    -1);
	cr_assert_eq(test_datetime_find(dt, "Feb 30 12:00:00 h x",
	                 test_datetime_utc_at(2024, 3, 1, 0, 0, 0)),
	    -1);
	datetime_free(dt);
}

Test(datetime, iso8601_zones)
{
	struct datetime *dt = test_datetime_new(NULL);
	time_t now = test_datetime_utc_at(2026, 11, 28, 0, 0, 0);
	time_t t = test_datetime_utc_at(2026, 11, 27, 23, 58, 15);

	cr_assert_eq(test_datetime_find(
	                 dt, "2026-11-27T23:58:15.397078+00:00 mx x", now),
	    t);
	cr_assert_str_eq(test_datetime_span(
	                     dt, "2026-11-27T23:58:15.397078+00:00 mx x", now),
	    "2026-11-27T23:58:15.397078+00:00");
	cr_assert_eq(test_datetime_find(dt, "2026-11-27T23:58:15Z x", now), t);
	cr_assert_eq(
	    test_datetime_find(dt, "2026-11-28T00:58:15+0100 x", now), t);
	cr_assert_eq(
	    test_datetime_find(dt, "2026-11-28T00:58:15+01 x", now), t);
	cr_assert_eq(
	    test_datetime_find(dt, "2026-11-27T18:58:15-05:00 x", now), t);
	cr_assert_eq(
	    test_datetime_find(dt, "2026-11-28 00:58:15 +0100 x", now), t);
	cr_assert_eq(
	    test_datetime_find(dt, "2026-11-27 23:58:15 UTC x", now), t);
	cr_assert_eq(test_datetime_find(dt, "2026-11-27 23:58:15 x", now), t);
	cr_assert_str_eq(datetime_describe(dt),
	    "ISO 8601 (YYYY-mm-dd[T ]hh:mm:ss[.fff][zone])");
	datetime_free(dt);
}

Test(datetime, ymd_variants)
{
	struct datetime *dt = test_datetime_new(NULL);
	time_t now = test_datetime_utc_at(2026, 11, 28, 0, 0, 0);
	time_t t = test_datetime_utc_at(2026, 11, 27, 23, 58, 15);

	cr_assert_eq(
	    test_datetime_find(dt, "2026-11-27 23:58:15,123 INFO x", now), t);
	cr_assert_eq(
	    test_datetime_find(dt, "2026/11/27 23:58:15 [error] 1#1", now), t);
	cr_assert_eq(test_datetime_find(dt, "2026.11.27 23:58:15 x", now), t);
	/* Mixed separators, bad fields: not a date. */
	cr_assert_eq(test_datetime_find(dt, "2026-11/27 23:58:15 x", now), -1);
	cr_assert_eq(test_datetime_find(dt, "2026-13-27 23:58:15 x", now), -1);
	cr_assert_eq(test_datetime_find(dt, "2026-11-31 23:58:15 x", now), -1);
	cr_assert_eq(test_datetime_find(dt, "2026-11-27 24:00:00 x", now), -1);
	cr_assert_eq(test_datetime_find(dt, "2026-11-27 23:60:00 x", now), -1);
	datetime_free(dt);
}

Test(datetime, apache_clf)
{
	struct datetime *dt = test_datetime_new(NULL);
	time_t now = test_datetime_utc_at(2026, 11, 28, 0, 0, 0);

	cr_assert_eq(
	    test_datetime_find(dt,
	        "192.0.2.1 - - [27/Nov/2026:23:58:15 +0100] \"GET /\"", now),
	    test_datetime_utc_at(2026, 11, 27, 22, 58, 15));
	cr_assert_str_eq(
	    datetime_describe(dt), "Apache (dd/MON/YYYY:hh:mm:ss zone)");
	datetime_free(dt);
}

Test(datetime, date_in_middle_of_line)
{
	struct datetime *dt = test_datetime_new(NULL);
	time_t now = test_datetime_utc_at(2026, 11, 28, 0, 0, 0);
	const char *line = "sshd[12]: at 2026-11-27 23:58:15 failed";
	time_t when;
	size_t start, end;

	cr_assert_eq(
	    datetime_find(dt, line, strlen(line), now, &when, &start, &end), 0);
	cr_assert_eq(start, 13);
	cr_assert_eq(end, 32);
	cr_assert_eq(when, test_datetime_utc_at(2026, 11, 27, 23, 58, 15));
	/* A month name inside a word is not a date. */
	cr_assert_eq(test_datetime_find(dt, "xNov 27 23:58:15 y", now), -1);
	cr_assert_eq(
	    test_datetime_find(dt, "id=12026-11-27 23:58:15", now), -1);
	datetime_free(dt);
}

Test(datetime, no_date)
{
	struct datetime *dt = test_datetime_new(NULL);
	time_t now = test_datetime_utc_at(2026, 11, 28, 0, 0, 0);
	static const char *lines[] = {"", "hello world", "12:34:56 only",
	    "Nov 27", "Nov 27 23:58", "Nov 99 12:00:00 x", "Nov 27 25:00:00",
	    "Nov 27 23:61:00", "Foo 27 23:58:15", "2026-11-27",
	    "2026-11-27T23:58", "in the middle: x 1700000000",
	    "Nov 27 23:58:150", "Nov 127 23:58:15"};
	size_t i;

	for (i = 0; i < sizeof lines / sizeof lines[0]; i++)
		cr_expect_eq(test_datetime_find(dt, lines[i], now), -1,
		    "found a date in '%s'", lines[i]);
	datetime_free(dt);
}

Test(datetime, length_is_respected)
{
	struct datetime *dt = test_datetime_new(NULL);
	time_t now = test_datetime_utc_at(2026, 11, 28, 0, 0, 0), when;
	char *line;
	size_t start, end;

	/* An exact-size heap copy: ASan catches any read past len. */
	line = malloc(15);
	cr_assert_not_null(line);
	memcpy(line, "Nov 27 23:58:15", 15);
	cr_assert_eq(datetime_find(dt, line, 15, now, &when, &start, &end), 0);
	cr_assert_eq(end, 15);
	cr_assert_eq(datetime_find(dt, line, 14, now, &when, &start, &end), -1);
	memcpy(line, "2026-11-27T23:5", 15);
	cr_assert_eq(datetime_find(dt, line, 15, now, &when, &start, &end), -1);
	free(line);
	datetime_free(dt);
}

Test(datetime, epoch_default_at_line_start_only)
{
	struct datetime *dt = test_datetime_new(NULL);
	time_t now = 1700000100;

	cr_assert_eq(
	    test_datetime_find(dt, "1700000000.123 x y", now), 1700000000);
	cr_assert_eq(
	    test_datetime_find(dt, "[1700000000] x y", now), 1700000000);
	cr_assert_str_eq(datetime_describe(dt), "epoch seconds");
	cr_assert_eq(test_datetime_find(dt, "user 1700000000 x", now), -1);
	cr_assert_eq(test_datetime_find(dt, "17000000001 x", now), -1);
	datetime_free(dt);
}

Test(datetime, epoch_patterns)
{
	struct datetime *dt = test_datetime_new("{EPOCH}");
	struct datetime *lt = test_datetime_new("{LEPOCH}");
	time_t now = 1700000100;

	cr_assert_eq(
	    test_datetime_find(dt, "type=x msg=audit(1700000000.5:1)", now),
	    1700000000);
	cr_assert_eq(
	    test_datetime_find(dt, "at 1700000000 x", now), 1700000000);
	cr_assert_eq(test_datetime_find(dt, "at 1700000000123 x", now), -1);
	cr_assert_eq(test_datetime_find(dt, "at 170000000 x", now), -1);
	cr_assert_eq(
	    test_datetime_find(lt, "1700000000123 x", now), 1700000000);
	cr_assert_eq(
	    test_datetime_find(lt, "1700000000123456 x", now), 1700000000);
	cr_assert_eq(test_datetime_find(lt, "1700000000 x", now), 1700000000);
	cr_assert_eq(test_datetime_find(lt, "170000000012 x", now), -1);
	datetime_free(dt);
	datetime_free(lt);
}

Test(datetime, line_begin_anchor)
{
	struct datetime *dt = test_datetime_new("{^LN-BEG}");
	time_t now = test_datetime_utc_at(2026, 11, 28, 0, 0, 0);
	time_t t = test_datetime_utc_at(2026, 11, 27, 23, 58, 15);

	cr_assert_eq(test_datetime_find(dt, "Nov 27 23:58:15 h x", now), t);
	cr_assert_eq(test_datetime_find(dt, "  Nov 27 23:58:15 h x", now), t);
	cr_assert_eq(test_datetime_find(dt, "[2026-11-27 23:58:15] x", now), t);
	cr_assert_eq(test_datetime_find(dt, "host Nov 27 23:58:15 x", now), -1);
	cr_assert_eq(test_datetime_find(dt, "   Nov 27 23:58:15 x", now), -1);
	datetime_free(dt);
	dt = test_datetime_new("{^LN-BEG}%Y-%m-%d %H:%M:%S");
	cr_assert_eq(test_datetime_find(dt, "[2026-11-27 23:58:15] x", now), t);
	cr_assert_eq(
	    test_datetime_find(dt, "x 2026-11-27 23:58:15 x", now), -1);
	datetime_free(dt);
}

Test(datetime, iso8601_keyword)
{
	struct datetime *dt = test_datetime_new("{ISO8601}");
	time_t now = test_datetime_utc_at(2026, 11, 28, 0, 0, 0);

	cr_assert_eq(test_datetime_find(dt, "x 2026-11-27T23:58:15Z y", now),
	    test_datetime_utc_at(2026, 11, 27, 23, 58, 15));
	cr_assert_eq(test_datetime_find(dt, "Nov 27 23:58:15 y", now), -1);
	datetime_free(dt);
}

Test(datetime, strptime_basic)
{
	struct datetime *dt = test_datetime_new("%Y-%m-%d %H:%M:%S");
	time_t now = test_datetime_utc_at(2026, 11, 28, 0, 0, 0);

	cr_assert_eq(test_datetime_find(dt, "a 2026-11-27 23:58:15 b", now),
	    test_datetime_utc_at(2026, 11, 27, 23, 58, 15));
	cr_assert_str_eq(test_datetime_span(dt, "a 2026-11-27 23:58:15 b", now),
	    "2026-11-27 23:58:15");
	cr_assert_str_eq(datetime_describe(dt), "%Y-%m-%d %H:%M:%S");
	cr_assert_eq(test_datetime_find(dt, "Nov 27 23:58:15 b", now), -1);
	cr_assert_eq(test_datetime_find(dt, "2026-02-30 23:58:15 b", now), -1);
	datetime_free(dt);
}

Test(datetime, strptime_fail2ban_exact)
{
	struct datetime *dt = test_datetime_new(
	    "{^LN-BEG}%ExY(?P<_sep>[-/.])%m(?P=_sep)%d[T ]%H:%M:%S"
	    "(?:[.,]%f)?(?:\\s*%z)?");
	time_t now = test_datetime_utc_at(2026, 11, 28, 0, 0, 0);
	time_t t = test_datetime_utc_at(2026, 11, 27, 23, 58, 15);

	cr_assert_eq(
	    test_datetime_find(dt, "2026/11/27 23:58:15.123 x", now), t);
	cr_assert_eq(
	    test_datetime_find(dt, "2026-11-28T01:58:15,5 +0200 x", now), t);
	cr_assert_eq(test_datetime_find(dt, "2026-11/27 23:58:15 x", now), -1);
	datetime_free(dt);
}

Test(datetime, strptime_names_and_12h)
{
	struct datetime *dt;
	time_t now = test_datetime_utc_at(2026, 11, 28, 0, 0, 0);

	dt = test_datetime_new("%d/%b/%Y:%H:%M:%S %z");
	cr_assert_eq(
	    test_datetime_find(dt, "[27/Nov/2026:23:58:15 -0100]", now),
	    test_datetime_utc_at(2026, 11, 28, 0, 58, 15));
	datetime_free(dt);
	dt = test_datetime_new("%m/%d/%y %I:%M:%S %p");
	cr_assert_eq(test_datetime_find(dt, "11/27/26 11:58:15 PM x", now),
	    test_datetime_utc_at(2026, 11, 27, 23, 58, 15));
	cr_assert_eq(test_datetime_find(dt, "11/27/26 12:05:00 am x", now),
	    test_datetime_utc_at(2026, 11, 27, 0, 5, 0));
	cr_assert_eq(test_datetime_find(dt, "11/27/26 12:05:00 PM x", now),
	    test_datetime_utc_at(2026, 11, 27, 12, 5, 0));
	datetime_free(dt);
	dt = test_datetime_new("%a %B %e %H:%M:%S %Y");
	cr_assert_eq(
	    test_datetime_find(dt, "Friday November  6 01:02:03 2026", now),
	    test_datetime_utc_at(2026, 11, 6, 1, 2, 3));
	datetime_free(dt);
}

Test(datetime, strptime_missing_year_and_date)
{
	struct datetime *dt;
	time_t now = test_datetime_utc_at(2027, 1, 1, 0, 0, 10);

	dt = test_datetime_new("%b %d %H:%M:%S");
	cr_assert_eq(test_datetime_find(dt, "Dec 31 23:59:59 h", now),
	    test_datetime_utc_at(2026, 12, 31, 23, 59, 59));
	datetime_free(dt);
	dt = test_datetime_new("%H:%M:%S");
	cr_assert_eq(test_datetime_find(dt, "at 23:59:59 x", now),
	    test_datetime_utc_at(2026, 12, 31, 23, 59, 59));
	cr_assert_eq(test_datetime_find(dt, "at 00:00:01 x", now),
	    test_datetime_utc_at(2027, 1, 1, 0, 0, 1));
	datetime_free(dt);
}

Test(datetime, strptime_epoch_and_doy)
{
	struct datetime *dt;
	time_t now = test_datetime_utc_at(2026, 11, 28, 0, 0, 0);

	dt = test_datetime_new("%s");
	cr_assert_eq(test_datetime_find(dt, "t=1700000000 x", now), 1700000000);
	datetime_free(dt);
	dt = test_datetime_new("%Y.%j %H:%M:%S");
	cr_assert_eq(test_datetime_find(dt, "2024.060 10:00:00", now),
	    test_datetime_utc_at(2024, 2, 29, 10, 0, 0));
	cr_assert_eq(test_datetime_find(dt, "2025.366 10:00:00", now), -1);
	datetime_free(dt);
}

Test(datetime, several_patterns_first_wins)
{
	struct datetime *dt = test_datetime_new(
	    "%Y-%m-%d %H:%M:%S\n  %b %d %H:%M:%S  \n\n# comment\n");
	time_t now = test_datetime_utc_at(2026, 11, 28, 0, 0, 0);

	/* Both present: the first pattern wins even though it is later. */
	cr_assert_eq(test_datetime_find(
	                 dt, "Nov 26 10:00:00 h at 2026-11-27 23:58:15", now),
	    test_datetime_utc_at(2026, 11, 27, 23, 58, 15));
	cr_assert_eq(test_datetime_find(dt, "Nov 26 10:00:00 h x", now),
	    test_datetime_utc_at(2026, 11, 26, 10, 0, 0));
	cr_assert_str_eq(datetime_describe(dt), "%b %d %H:%M:%S");
	cr_assert_eq(test_datetime_find(dt, "nothing here", now), -1);
	datetime_free(dt);
}

Test(datetime, pattern_errors)
{
	static const char *bad[] = {"%Q %H:%M", "%Y-%m-%d %H:%M:%", "%H:(%M",
	    "%Y-%m-%d", "{DATE} {DATE}", "%T %H", "a{^LN-BEG}%H:%M",
	    "(x{DATE}[", "{DATE}(y"};
	char *cause;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		cr_expect_null(
		    datetime_create(bad[i], &cause), "accepted '%s'", bad[i]);
		cr_expect_not_null(cause, "no cause for '%s'", bad[i]);
		free(cause);
	}
	cause = NULL;
	cr_assert_null(datetime_create("%Y-%m-%d %H:%M:%S\n%Q", &cause));
	cr_assert_not_null(strstr(cause, "%Q"), "cause: %s", cause);
	free(cause);
	datetime_free(NULL);
}

Test(datetime, describe_before_match)
{
	struct datetime *dt = test_datetime_new(NULL);

	cr_assert_str_eq(datetime_describe(dt), "{DATE}");
	datetime_free(dt);
	dt = test_datetime_new("{NONE}");
	cr_assert_eq(test_datetime_find(dt, "Nov 27 23:58:15 x", 0), -1);
	datetime_free(dt);
}

Test(datetime, local_time_and_dst)
{
	struct datetime *dt;
	time_t now = test_datetime_utc_at(2026, 11, 28, 0, 0, 0);
	int i;

	/* A POSIX TZ string needs no tzdata: CET, CEST in summer. */
	setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
	tzset();
	dt = test_datetime_new(NULL);
	/* Alternate seasons on one handle: the offset cache must follow. */
	for (i = 0; i < 3; i++) {
		cr_assert_eq(
		    test_datetime_find(dt, "2026-07-01 12:00:00 x", now),
		    test_datetime_utc_at(2026, 7, 1, 10, 0, 0));
		cr_assert_eq(
		    test_datetime_find(dt, "2026-01-15 12:00:00 x", now),
		    test_datetime_utc_at(2026, 1, 15, 11, 0, 0));
		cr_assert_eq(test_datetime_find(dt, "Jul  1 12:00:00 h x", now),
		    test_datetime_utc_at(2026, 7, 1, 10, 0, 0));
	}
	/* Around the autumn change: 01:30 CEST, then 03:30 CET. */
	cr_assert_eq(test_datetime_find(dt, "2026-10-25 01:30:00 x", now),
	    test_datetime_utc_at(2026, 10, 24, 23, 30, 0));
	cr_assert_eq(test_datetime_find(dt, "2026-10-25 03:30:00 x", now),
	    test_datetime_utc_at(2026, 10, 25, 2, 30, 0));
	/* An explicit zone ignores the local one. */
	cr_assert_eq(test_datetime_find(dt, "2026-07-01T12:00:00Z x", now),
	    test_datetime_utc_at(2026, 7, 1, 12, 0, 0));
	datetime_free(dt);
}

Test(datetime, bsd_year_uses_local_now)
{
	struct datetime *dt;
	/* 23:30 UTC on Dec 31 is already Jan 1 in UTC+2. */
	time_t now = test_datetime_utc_at(2026, 12, 31, 23, 30, 0);

	setenv("TZ", "EET-2", 1);
	tzset();
	dt = test_datetime_new(NULL);
	cr_assert_eq(test_datetime_find(dt, "Jan  1 01:29:00 h x", now),
	    test_datetime_utc_at(2026, 12, 31, 23, 29, 0));
	datetime_free(dt);
}

Test(datetime, random_bytes_do_not_crash)
{
	struct datetime *def = test_datetime_new(NULL);
	struct datetime *pat = test_datetime_new("%b %d %H:%M:%S");
	static const char alpha[] = "JanNovDec0123456789 :-/.,+TZ[]";
	char line[64];
	time_t when;
	size_t start, end, len, k;
	unsigned seed = 12345;
	int i;

	for (i = 0; i < 20000; i++) {
		len = (size_t)(rand_r(&seed) % sizeof line);
		for (k = 0; k < len; k++)
			line[k] =
			    (i & 1) ? (char)rand_r(&seed)
			            : alpha[rand_r(&seed) % (sizeof alpha - 1)];
		if (datetime_find(
		        def, line, len, 1700000000, &when, &start, &end) == 0)
			cr_assert(start < end && end <= len);
		if (datetime_find(
		        pat, line, len, 1700000000, &when, &start, &end) == 0)
			cr_assert(start < end && end <= len);
	}
	datetime_free(def);
	datetime_free(pat);
}

Test(datetime, embedded_date_rfc5424)
{
	struct datetime *dt = test_datetime_new("^<\\d+>\\d+\\s+{DATE}");
	time_t now = test_datetime_utc_at(2026, 11, 28, 0, 0, 0);
	const char *line = "<34>1 2026-11-27T23:58:15.003Z mx sshd 12 - - x";
	time_t when;
	size_t start, end;

	cr_assert_eq(
	    datetime_find(dt, line, strlen(line), now, &when, &start, &end), 0);
	cr_assert_eq(when, test_datetime_utc_at(2026, 11, 27, 23, 58, 15));
	/* The prefix is cut with the date, as the filter's prefix expects. */
	cr_assert_eq(start, 0);
	cr_assert_eq(end, 30);
	cr_assert_eq(
	    test_datetime_find(dt, "x <34>1 2026-11-27T23:58:15Z", now), -1);
	cr_assert_eq(
	    test_datetime_find(dt, "<34>1 no date here at all", now), -1);
	datetime_free(dt);
	dt = test_datetime_new("\\[{DATE}\\]");
	cr_assert_str_eq(test_datetime_span(dt, "a [Nov 27 23:58:15] b", now),
	    "[Nov 27 23:58:15]");
	cr_assert_eq(test_datetime_find(dt, "a [Nov 27 23:58:15 b", now), -1);
	datetime_free(dt);
}

Test(datetime, date_never_ends_before_a_digit)
{
	struct datetime *dt = test_datetime_new(NULL);
	time_t now = test_datetime_utc_at(2026, 11, 28, 0, 0, 0);
	static const char *lines[] = {"from 10.0.0.27/Nov/2026:23:58:155 x",
	    "from 10.0.0.Nov 27 23:58:155 x", "a 2026-11-27 23:58:155 x"};
	size_t i;

	/* Cutting such a date would glue digits onto the text before it. */
	for (i = 0; i < sizeof lines / sizeof lines[0]; i++)
		cr_expect_eq(test_datetime_find(dt, lines[i], now), -1,
		    "found a date in '%s'", lines[i]);
	/* A malformed zone is left out, not half taken. */
	cr_assert_str_eq(
	    test_datetime_span(dt, "a 2026-11-27T23:58:15+01005 x", now),
	    "2026-11-27T23:58:15");
	/* A fraction is taken whole, never split. */
	cr_assert_str_eq(test_datetime_span(dt, "x Nov 27 23:58:15.4 y", now),
	    "Nov 27 23:58:15.4");
	datetime_free(dt);
}

Test(datetime, fail2ban_default_templates_beyond_the_fast_parsers)
{
	struct datetime *dt = test_datetime_new("{^LN-BEG}");
	time_t now = test_datetime_utc_at(2013, 8, 1, 0, 0, 0);

	/* asctime with weekday and year, inside Apache's brackets */
	cr_assert_eq(
	    test_datetime_find(
	        dt, "[Thu Jul 11 01:21:41 2013] [error] [client 1.2.3.4]", now),
	    test_datetime_utc_at(2013, 7, 11, 1, 21, 41));
	cr_assert_str_eq(
	    test_datetime_span(dt, "[Thu Jul 11 01:21:41 2013] x", now),
	    "Thu Jul 11 01:21:41 2013");
	/* 3proxy: dd-mm-YYYY with a zone */
	cr_assert_eq(test_datetime_find(dt, "11-06-2013 02:09:40 PROXY", now),
	    test_datetime_utc_at(2013, 6, 11, 2, 9, 40));
	datetime_free(dt);
}

Test(datetime, embedded_date_cuts_only_the_group)
{
	struct datetime *dt = test_datetime_new("^[^\\[]*\\[({DATE})");
	struct datetime *dt2 = test_datetime_new("^[^\\[]*(\\[{DATE}\\s*\\])");
	const char *line = "1.2.3.4 - - [05/Mar/2007:14:39:21 +0100] \"GET\"";
	time_t now = test_datetime_utc_at(2007, 3, 6, 0, 0, 0);

	cr_assert_eq(test_datetime_find(dt, line, now),
	    test_datetime_utc_at(2007, 3, 5, 13, 39, 21));
	cr_assert_str_eq(
	    test_datetime_span(dt, line, now), "05/Mar/2007:14:39:21 +0100");
	cr_assert_str_eq(
	    test_datetime_span(dt2, line, now), "[05/Mar/2007:14:39:21 +0100]");
	datetime_free(dt);
	datetime_free(dt2);
}

Test(datetime, bare_keywords_tai64n_and_markers)
{
	struct datetime *dt = test_datetime_new("{^LN-BEG}Epoch");
	struct datetime *tai = test_datetime_new("{^LN-BEG}TAI64N");
	struct datetime *mark = test_datetime_new("^WARNING:()**");

	cr_assert_eq(test_datetime_find(dt, "1386543323.000 x", 0), 1386543323);
	/* 2^62 + 1284616260 seconds, then nanoseconds */
	cr_assert_eq(
	    test_datetime_find(tai, "@400000004c91c1c42ab8c5ec dovecot: x", 0),
	    (time_t)0x4c91c1c4);
	cr_assert_eq(test_datetime_find(mark, "WARNING: x", 0), -1);
	datetime_free(dt);
	datetime_free(tai);
	datetime_free(mark);
}
