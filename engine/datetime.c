/* Timestamps in log lines: built-in fast parsers and fail2ban datepatterns. */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <sys/types.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <pcre2.h>

#include "datetime.h"
#include "xmalloc.h"

/*
 * The spec is taken as the config loader hands it over: fail2ban's "%%"
 * escape has already become "%", so "%Y" here is a directive and "%%" a
 * literal percent sign.
 */

enum datetime_kind {
	DATETIME_DEFAULT, /* {DATE}: the built-in set */
	DATETIME_ISO, /* {ISO8601} */
	DATETIME_EPOCH, /* {EPOCH} */
	DATETIME_LEPOCH, /* {LEPOCH}: seconds, milli- or microseconds */
	DATETIME_NONE, /* {NONE}: lines carry no date */
	DATETIME_REGEX, /* strptime-style, compiled to PCRE2 */
	DATETIME_EMBED, /* "PRE{DATE}POST": regexes around a default date */
	DATETIME_TAI64N, /* daemontools' "@4000000063ab0d3f2c9e1e34" */
	DATETIME_MARK, /* a regex without fields: the line has no date */
};

/* Fields a strptime-style pattern can capture, in group-name order. */
enum datetime_field {
	DATETIME_F_Y,
	DATETIME_F_y,
	DATETIME_F_m,
	DATETIME_F_b,
	DATETIME_F_d,
	DATETIME_F_H,
	DATETIME_F_I,
	DATETIME_F_M,
	DATETIME_F_S,
	DATETIME_F_p,
	DATETIME_F_j,
	DATETIME_F_s,
	DATETIME_F_z,
	DATETIME_F_Z,
	DATETIME_NFIELDS
};

static const char *const datetime_field_names[DATETIME_NFIELDS] = {"jdY", "jdy",
    "jdm", "jdb", "jdd", "jdH", "jdI", "jdM", "jdS", "jdp", "jdj", "jds", "jdz",
    "jdZ"};

struct datetime_pat {
	enum datetime_kind kind;
	int anchored; /* {^LN-BEG}: only at the start of the line */
	char *desc;
	pcre2_code *re;
	pcre2_match_data *md;
	pcre2_code *post; /* DATETIME_EMBED: what must follow the date */
	pcre2_match_data *post_md;
	int grp[DATETIME_NFIELDS]; /* capture group number, or -1 */
	int cs, ce; /* DATETIME_EMBED: groups marking the cut, or -1 */
};

/*
 * Mutable state behind the const handle (a struct datetime is used by one
 * thread): datetime_find runs once per line, and localtime_r per line
 * would dominate its cost.  UTC offsets are cached per hour (DST changes
 * on hour boundaries), keyed by the hour of now and by the local hour of
 * the stamp.  The zone is read when an entry is filled: after changing TZ
 * (and calling tzset), create a new struct datetime.
 */
#define DATETIME_NSLOTS 256 /* local hours remembered: over ten days */

struct datetime_cache {
	int64_t now_hour;
	long now_off;
	struct {
		int64_t hour; /* local hour (seconds as if UTC / 3600) */
		long off;
	} loc[DATETIME_NSLOTS];
	int64_t year_day; /* a day number, and the year it falls in */
	int year;
	int month_year, month_mon; /* a month, and its first day's number */
	int64_t month_days;
	const char *last; /* description of the pattern that matched last */
};

struct datetime {
	struct datetime_pat *pats;
	size_t npats;
	struct datetime_pat *fb; /* fail2ban's default templates, compiled */
	size_t nfb;
	struct datetime_cache *cache;
};

/*
 * fail2ban's default templates that the fast parsers do not cover, tried
 * (leftmost match wins) when they fail on a {DATE} line.
 */
static const char *const datetime_fallback[] = {
    "(?:%a )?%b %d %k:%M:%S(?:\\.%f)?(?: %ExY)?",
    "(?:%a )?%b %d %ExY %k:%M:%S(?:\\.%f)?",
    "%d(?P<_sep>[-/])%m(?P=_sep)(?:%ExY|%Exy) %k:%M:%S",
    "%d(?P<_sep>[-/])%b(?P=_sep)%ExY[ :]?%H:%M:%S(?:\\.%f)?(?: %z)?",
    "%m/%d/%ExY:%H:%M:%S",
    "%m-%d-%ExY %k:%M:%S(?:\\.%f)?",
    "<%m/%d/%Exy@%H:%M:%S>",
    "%Exy%Exm%Exd  ?%H:%M:%S",
    "%b %d, %ExY %I:%M:%S %p",
    "%b-%d-%Exy %k:%M:%S",
    "%ExY%Exm%Exd(?:T|  ?)%ExH%ExM%ExS(?:[.,]%f)?(?:\\s*%z)?",
    "(?:%Z )?(?:%a )?%b %d %k:%M:%S(?:\\.%f)?(?: %ExY)?",
    "(?:%z )?(?:%a )?%b %d %k:%M:%S(?:\\.%f)?(?: %ExY)?",
};

/* A broken-down stamp; zero year or month means "not in the text". */
struct datetime_tm {
	int year, mon, day, hour, min, sec;
	int yday; /* %j, 1-366, when no month was given */
	int has_tz;
	long off; /* seconds east of UTC when has_tz */
	int64_t epoch; /* set when the stamp is an epoch */
	int is_epoch;
};

static const char datetime_desc_bsd[] = "BSD syslog (MON DD hh:mm:ss)";
static const char datetime_desc_iso[] =
    "ISO 8601 (YYYY-mm-dd[T ]hh:mm:ss[.fff][zone])";
static const char datetime_desc_clf[] = "Apache (dd/MON/YYYY:hh:mm:ss zone)";
static const char datetime_desc_epoch[] = "epoch seconds";
static const char datetime_desc_lepoch[] = "epoch (seconds/ms/us)";

static int
datetime_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

static int
datetime_isalnum(char c)
{
	return datetime_isdigit(c) || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || c == '_';
}

/* Floor division, so negative times fall in the right hour. */
static int64_t
datetime_floordiv(int64_t a, int64_t b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant). */
static int64_t
datetime_days(int y, int m, int d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* The civil year of a day count since the epoch (Hinnant). */
static int
datetime_year_of(int64_t z)
{
	int64_t era, y;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	return (int)(y + (mp >= 10));
}

static int
datetime_mdays(int y, int m)
{
	static const int mdays[12] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return 29;
	return mdays[m - 1];
}

/* The UTC offset of local time at UTC instant t. */
static long
datetime_gmtoff(time_t t)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		return 0;
	return tm.tm_gmtoff;
}

/* The UTC offset at now, cached for the hour. */
static long
datetime_now_off(struct datetime_cache *c, time_t now)
{
	int64_t h = datetime_floordiv(now, 3600);

	if (h != c->now_hour) {
		c->now_off = datetime_gmtoff(now);
		c->now_hour = h;
	}
	return c->now_off;
}

/*
 * The UTC offset that applies to local wall time loc (seconds as if UTC),
 * cached per local hour in a direct-mapped table, so that interleaved
 * lines of a few days cost no localtime_r.  Guess with now's offset, then
 * correct once: this lands on the right side of a DST change except
 * inside its gap.
 */
static long
datetime_local_off(struct datetime_cache *c, int64_t loc, time_t now)
{
	int64_t h = datetime_floordiv(loc, 3600);
	size_t slot = (size_t)((uint64_t)h % DATETIME_NSLOTS);
	long off;

	if (c->loc[slot].hour != h) {
		off = datetime_gmtoff((time_t)(loc - datetime_now_off(c, now)));
		c->loc[slot].off = datetime_gmtoff((time_t)(loc - off));
		c->loc[slot].hour = h;
	}
	return c->loc[slot].off;
}

/*
 * Of the candidate days, pick the one whose stamp is closest to fnow
 * without being more than a day after it.  Returns -1 if none is valid.
 */
static int
datetime_pick(
    const int64_t *days, size_t n, int64_t tod, int64_t fnow, int64_t *out)
{
	int64_t t, d, best = 0, bestd = INT64_MAX;
	size_t i;

	for (i = 0; i < n; i++) {
		if (days[i] == INT64_MIN)
			continue;
		t = days[i] * 86400 + tod;
		d = t - fnow;
		if (d > 86400)
			continue;
		if (d < 0)
			d = -d;
		if (d < bestd) {
			bestd = d;
			best = t;
		}
	}
	if (bestd == INT64_MAX)
		return -1;
	*out = best;
	return 0;
}

/* The year that day number z falls in, cached. */
static int
datetime_year_cached(struct datetime_cache *c, int64_t z)
{
	if (c->year == 0 || c->year_day != z) {
		c->year = datetime_year_of(z);
		c->year_day = z;
	}
	return c->year;
}

/* The day number of y-m-d (d valid), the month's start cached. */
static int64_t
datetime_days_cached(struct datetime_cache *c, int y, int m, int d)
{
	if (c->month_year != y || c->month_mon != m) {
		c->month_days = datetime_days(y, m, 1);
		c->month_year = y;
		c->month_mon = m;
	}
	return c->month_days + d - 1;
}

/*
 * Local seconds of a stamp without a year: of last, this and next year,
 * the one closest to fnow and at most a day after it.  When this year's
 * lies between half a year before and a day after, it is that one.
 */
static int
datetime_infer_year(struct datetime_cache *c, const struct datetime_tm *tm,
    int64_t tod, int64_t fnow, int64_t *out)
{
	int64_t days[3], t;
	int y = datetime_year_cached(c, datetime_floordiv(fnow, 86400)), k;

	if (tm->day <= datetime_mdays(y, tm->mon)) {
		t = datetime_days_cached(c, y, tm->mon, tm->day) * 86400 + tod;
		if (t - fnow <= 86400 && t - fnow >= -182 * 86400) {
			*out = t;
			return 0;
		}
	}
	for (k = 0; k < 3; k++)
		days[k] = tm->day > datetime_mdays(y + k - 1, tm->mon)
		              ? INT64_MIN
		              : datetime_days(y + k - 1, tm->mon, tm->day);
	return datetime_pick(days, 3, tod, fnow, out);
}

/* Local seconds of a time of day without a date: yesterday, today... */
static int
datetime_infer_day(int64_t tod, int64_t fnow, int64_t *out)
{
	int64_t days[3], today = datetime_floordiv(fnow, 86400);
	int k;

	for (k = 0; k < 3; k++)
		days[k] = today + k - 1;
	return datetime_pick(days, 3, tod, fnow, out);
}

/* Turn a broken-down stamp into UTC seconds, inferring what is missing. */
static int
datetime_resolve(struct datetime_cache *c, const struct datetime_tm *tm,
    time_t now, time_t *when)
{
	int64_t fnow, tod, loc;
	int rc = 0;

	if (tm->is_epoch) {
		*when = (time_t)tm->epoch;
		return 0;
	}
	if (tm->hour > 23 || tm->min > 59 || tm->sec > 60)
		return -1;
	/* now on the stamp's own clock: its zone, or local time. */
	fnow = (int64_t)now + (tm->has_tz ? tm->off : datetime_now_off(c, now));
	tod = tm->hour * 3600 + tm->min * 60 + tm->sec;
	if (tm->mon == 0)
		rc = datetime_infer_day(tod, fnow, &loc);
	else if (tm->year == 0)
		rc = datetime_infer_year(c, tm, tod, fnow, &loc);
	else if (tm->day > datetime_mdays(tm->year, tm->mon))
		rc = -1;
	else
		loc = datetime_days_cached(c, tm->year, tm->mon, tm->day) *
		          86400 +
		      tod;
	if (rc != 0)
		return -1;
	loc -= tm->has_tz ? tm->off : datetime_local_off(c, loc, now);
	*when = (time_t)loc;
	return 0;
}

/* Read exactly n digits at s[i]; -1 if out of range or not all digits. */
static int
datetime_digits(const char *s, size_t len, size_t i, int n, int *out)
{
	int v = 0, k;

	if (i + (size_t)n > len)
		return -1;
	for (k = 0; k < n; k++) {
		if (!datetime_isdigit(s[i + k]))
			return -1;
		v = v * 10 + (s[i + k] - '0');
	}
	*out = v;
	return 0;
}

/* The month (1-12) named by three letters at s, any case, or 0. */
static int
datetime_month3(const char *s)
{
	uint32_t k = ((uint32_t)(unsigned char)(s[0] | 0x20) << 16) |
	             ((uint32_t)(unsigned char)(s[1] | 0x20) << 8) |
	             (uint32_t)(unsigned char)(s[2] | 0x20);

#define DATETIME_M3(a, b, c) (((uint32_t)(a) << 16) | ((b) << 8) | (c))
	switch (k) {
	case DATETIME_M3('j', 'a', 'n'):
		return 1;
	case DATETIME_M3('f', 'e', 'b'):
		return 2;
	case DATETIME_M3('m', 'a', 'r'):
		return 3;
	case DATETIME_M3('a', 'p', 'r'):
		return 4;
	case DATETIME_M3('m', 'a', 'y'):
		return 5;
	case DATETIME_M3('j', 'u', 'n'):
		return 6;
	case DATETIME_M3('j', 'u', 'l'):
		return 7;
	case DATETIME_M3('a', 'u', 'g'):
		return 8;
	case DATETIME_M3('s', 'e', 'p'):
		return 9;
	case DATETIME_M3('o', 'c', 't'):
		return 10;
	case DATETIME_M3('n', 'o', 'v'):
		return 11;
	case DATETIME_M3('d', 'e', 'c'):
		return 12;
	default:
		return 0;
	}
#undef DATETIME_M3
}

/* Parse "hh:mm:ss" at *ip. */
static int
datetime_parse_hms(
    const char *s, size_t len, size_t *ip, struct datetime_tm *tm)
{
	size_t i = *ip;

	if (datetime_digits(s, len, i, 2, &tm->hour) != 0 || i + 8 > len ||
	    s[i + 2] != ':' || s[i + 5] != ':' ||
	    datetime_digits(s, len, i + 3, 2, &tm->min) != 0 ||
	    datetime_digits(s, len, i + 6, 2, &tm->sec) != 0)
		return -1;
	if (tm->hour > 23 || tm->min > 59 || tm->sec > 60)
		return -1;
	*ip = i + 8;
	return 0;
}

/* Skip a fraction of a second (".123", ",123456") at *ip, if any. */
static void
datetime_skip_fraction(const char *s, size_t len, size_t *ip)
{
	size_t i = *ip;

	if (i + 1 < len && (s[i] == '.' || s[i] == ',') &&
	    datetime_isdigit(s[i + 1])) {
		for (i++; i < len && datetime_isdigit(s[i]); i++)
			;
		*ip = i;
	}
}

/* Parse a numeric zone "+hh", "+hhmm", "+hh:mm" at s[i]; returns length. */
static size_t
datetime_parse_offset(const char *s, size_t len, size_t i, long *off)
{
	int hh, mm = 0;
	size_t n = 3;

	if (i >= len || (s[i] != '+' && s[i] != '-') ||
	    datetime_digits(s, len, i + 1, 2, &hh) != 0)
		return 0;
	if (datetime_digits(s, len, i + 3, 2, &mm) == 0)
		n = 5;
	else if (i + 3 < len && s[i + 3] == ':' &&
	         datetime_digits(s, len, i + 4, 2, &mm) == 0)
		n = 6;
	if (i + n < len && datetime_isdigit(s[i + n]))
		return 0;
	if (hh > 23 || mm > 59)
		return 0;
	*off = (hh * 3600L + mm * 60L) * (s[i] == '-' ? -1 : 1);
	return n;
}

/* Parse an optional zone after a time: "Z", "+01:00", " +0100", " UTC". */
static void
datetime_parse_zone(
    const char *s, size_t len, size_t *ip, struct datetime_tm *tm)
{
	size_t i = *ip, n;

	if (i < len && (s[i] == 'Z' || s[i] == 'z') &&
	    (i + 1 == len || !datetime_isalnum(s[i + 1]))) {
		tm->has_tz = 1;
		tm->off = 0;
		*ip = i + 1;
		return;
	}
	if ((n = datetime_parse_offset(s, len, i, &tm->off)) != 0) {
		tm->has_tz = 1;
		*ip = i + n;
		return;
	}
	/* After a space, only unambiguous forms: "+hhmm", "+hh:mm", "UTC". */
	if (i < len && s[i] == ' ') {
		n = datetime_parse_offset(s, len, i + 1, &tm->off);
		if (n >= 5) {
			tm->has_tz = 1;
			*ip = i + 1 + n;
		} else if (i + 4 <= len &&
		           (memcmp(s + i + 1, "UTC", 3) == 0 ||
		               memcmp(s + i + 1, "GMT", 3) == 0) &&
		           (i + 4 == len || !datetime_isalnum(s[i + 4]))) {
			tm->has_tz = 1;
			tm->off = 0;
			*ip = i + 4;
		}
	}
}

/* Parse "Mmm dd [yyyy ]hh:mm:ss[.fff][ yyyy]" at s[i]. */
static int
datetime_parse_bsd(
    const char *s, size_t len, size_t i, struct datetime_tm *tm, size_t *endp)
{
	int y;

	if (i + 14 > len || s[i + 3] != ' ' ||
	    (tm->mon = datetime_month3(s + i)) == 0)
		return -1;
	i += 4;
	if (s[i] == ' ')
		i++; /* space-padded day */
	if (!datetime_isdigit(s[i]))
		return -1;
	tm->day = s[i++] - '0';
	if (i < len && datetime_isdigit(s[i]))
		tm->day = tm->day * 10 + (s[i++] - '0');
	if (tm->day < 1 || tm->day > 31 || i >= len || s[i++] != ' ')
		return -1;
	if (datetime_digits(s, len, i, 4, &y) == 0 && i + 4 < len &&
	    s[i + 4] == ' ') {
		tm->year = y;
		i += 5;
	}
	if (datetime_parse_hms(s, len, &i, tm) != 0)
		return -1;
	datetime_skip_fraction(s, len, &i);
	/* ctime's trailing year: "Wed Nov 27 23:58:15 2026". */
	if (tm->year == 0 && i < len && s[i] == ' ' &&
	    datetime_digits(s, len, i + 1, 4, &y) == 0 && y >= 1970 &&
	    y < 2100 && (i + 5 == len || !datetime_isalnum(s[i + 5]))) {
		tm->year = y;
		i += 5;
	}
	if (i < len && datetime_isdigit(s[i]))
		return -1;
	*endp = i;
	return 0;
}

/* Parse "YYYY-mm-dd[T ]hh:mm:ss[.fff][zone]" ('/' or '.' too) at s[i]. */
static int
datetime_parse_iso(
    const char *s, size_t len, size_t i, struct datetime_tm *tm, size_t *endp)
{
	char sep;

	if (i + 19 > len || datetime_digits(s, len, i, 4, &tm->year) != 0)
		return -1;
	sep = s[i + 4];
	if ((sep != '-' && sep != '/' && sep != '.') || s[i + 7] != sep ||
	    datetime_digits(s, len, i + 5, 2, &tm->mon) != 0 ||
	    datetime_digits(s, len, i + 8, 2, &tm->day) != 0)
		return -1;
	if (s[i + 10] != 'T' && s[i + 10] != ' ')
		return -1;
	if (tm->year < 1900 || tm->mon < 1 || tm->mon > 12 || tm->day < 1)
		return -1;
	i += 11;
	if (datetime_parse_hms(s, len, &i, tm) != 0)
		return -1;
	datetime_skip_fraction(s, len, &i);
	datetime_parse_zone(s, len, &i, tm);
	if (i < len && datetime_isdigit(s[i]))
		return -1;
	*endp = i;
	return 0;
}

/* Parse Apache's "dd/Mmm/yyyy:hh:mm:ss[ +zzzz]" at s[i]. */
static int
datetime_parse_clf(
    const char *s, size_t len, size_t i, struct datetime_tm *tm, size_t *endp)
{
	if (i + 20 > len || datetime_digits(s, len, i, 2, &tm->day) != 0 ||
	    s[i + 2] != '/' || s[i + 6] != '/' || s[i + 11] != ':' ||
	    (tm->mon = datetime_month3(s + i + 3)) == 0 ||
	    datetime_digits(s, len, i + 7, 4, &tm->year) != 0)
		return -1;
	if (tm->day < 1 || tm->year < 1900)
		return -1;
	i += 12;
	if (datetime_parse_hms(s, len, &i, tm) != 0)
		return -1;
	datetime_skip_fraction(s, len, &i);
	datetime_parse_zone(s, len, &i, tm);
	if (i < len && datetime_isdigit(s[i]))
		return -1;
	*endp = i;
	return 0;
}

/*
 * Parse an epoch number at s[i]: 10-11 digits of seconds; with lng also
 * 13-14 of milliseconds or 16-17 of microseconds.  A fraction may follow.
 */
static int
datetime_parse_epoch(const char *s, size_t len, size_t i, int lng,
    struct datetime_tm *tm, size_t *endp)
{
	int64_t v = 0;
	size_t n;

	for (n = 0; i + n < len && datetime_isdigit(s[i + n]) && n < 18; n++)
		v = v * 10 + (s[i + n] - '0');
	if (i + n < len && datetime_isdigit(s[i + n]))
		return -1;
	if (n == 13 || n == 14)
		v /= 1000;
	else if (n == 16 || n == 17)
		v /= 1000000;
	else if (n != 10 && n != 11)
		return -1;
	if (!lng && n > 11)
		return -1;
	i += n;
	datetime_skip_fraction(s, len, &i);
	tm->epoch = v;
	tm->is_epoch = 1;
	*endp = i;
	return 0;
}

/* Try the built-in formats at s[i]; epoch only if epoch_ok. */
static const char *
datetime_try_default(const char *s, size_t len, size_t i, int epoch_ok,
    struct datetime_tm *tm, size_t *endp)
{
	if (datetime_isdigit(s[i])) {
		if (datetime_parse_iso(s, len, i, tm, endp) == 0)
			return datetime_desc_iso;
		memset(tm, 0, sizeof *tm);
		if (datetime_parse_clf(s, len, i, tm, endp) == 0)
			return datetime_desc_clf;
		memset(tm, 0, sizeof *tm);
		if (epoch_ok &&
		    datetime_parse_epoch(s, len, i, 0, tm, endp) == 0 &&
		    (i + 10 == len || !datetime_isdigit(s[i + 10])))
			return datetime_desc_epoch;
	} else if (datetime_parse_bsd(s, len, i, tm, endp) == 0)
		return datetime_desc_bsd;
	memset(tm, 0, sizeof *tm);
	return NULL;
}

/* Try one built-in kind at s[i]; returns its description or NULL. */
static const char *
datetime_try(enum datetime_kind kind, const char *s, size_t len, size_t i,
    int at_start, struct datetime_tm *tm, size_t *endp)
{
	memset(tm, 0, sizeof *tm);
	switch (kind) {
	case DATETIME_DEFAULT:
		return datetime_try_default(s, len, i, at_start, tm, endp);
	case DATETIME_ISO:
		if (datetime_parse_iso(s, len, i, tm, endp) == 0)
			return datetime_desc_iso;
		return NULL;
	case DATETIME_EPOCH:
	case DATETIME_LEPOCH:
		if (datetime_parse_epoch(
		        s, len, i, kind == DATETIME_LEPOCH, tm, endp) == 0)
			return kind == DATETIME_LEPOCH ? datetime_desc_lepoch
			                               : datetime_desc_epoch;
		return NULL;
	default:
		return NULL;
	}
}

/* A cheap test that a default-set date may start at s[i], not at start. */
static int
datetime_maybe(const char *s, size_t len, size_t i)
{
	if (len - i < 14)
		return 0;
	if (datetime_isdigit(s[i]))
		return s[i + 2] == '/' || s[i + 4] == '-' || s[i + 4] == '/' ||
		       s[i + 4] == '.';
	return s[i + 3] == ' ';
}

/*
 * Scan for a built-in kind: first the line start (after at most two
 * non-word bytes, like fail2ban's {^LN-BEG}), then, unless anchored, every
 * later position that begins a word.
 */
static const char *
datetime_scan(const struct datetime_pat *p, const char *s, size_t len,
    struct datetime_tm *tm, size_t *start, size_t *end)
{
	const char *desc;
	size_t i;
	int at_start = 1;

	/* Every built-in form is at least 10 bytes long. */
	for (i = 0; i + 10 <= len; i++) {
		if (at_start &&
		    (i > 2 || (i > 0 && datetime_isalnum(s[i - 1]))))
			at_start = 0;
		if (!at_start && p->anchored)
			return NULL;
		if (i > 0 && datetime_isalnum(s[i - 1]))
			continue;
		if (!datetime_isalnum(s[i]) ||
		    (p->kind == DATETIME_DEFAULT && !at_start &&
		        !datetime_maybe(s, len, i)))
			continue;
		if ((desc = datetime_try(
		         p->kind, s, len, i, at_start, tm, end)) != NULL) {
			*start = i;
			return desc;
		}
	}
	return NULL;
}

/* The regex for one strptime directive, or NULL if unsupported. */
static const char *
datetime_directive(char c)
{
	switch (c) {
	case 'Y':
		return "(?<jdY>\\d{4})";
	case 'y':
		return "(?<jdy>\\d\\d)";
	case 'm':
		return "(?<jdm>1[0-2]|0[1-9]|[1-9](?!\\d))";
	case 'b':
	case 'B':
	case 'h':
		return "(?<jdb>(?i:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|"
		       "Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
		       "Sep(?:tember)?|Oct(?:ober)?|Nov(?:ember)?|"
		       "Dec(?:ember)?))";
	case 'a':
	case 'A':
		return "(?i:Mon(?:day)?|Tue(?:sday)?|Wed(?:nesday)?|"
		       "Thu(?:rsday)?|Fri(?:day)?|Sat(?:urday)?|Sun(?:day)?)";
	case 'd':
	case 'e':
		return "(?<jdd>3[01]|[12]\\d|0[1-9]|[1-9](?!\\d)| [1-9])";
	case 'H':
		return "(?<jdH>2[0-3]|[01]\\d|\\d(?!\\d))";
	case 'k':
		return "(?<jdH>2[0-3]|[01]\\d|\\s?\\d(?!\\d))";
	case 'l':
		return "(?<jdI>1[0-2]|0[1-9]|\\s?[1-9](?!\\d))";
	case 'I':
		return "(?<jdI>1[0-2]|0[1-9]|[1-9](?!\\d))";
	case 'M':
		return "(?<jdM>[0-5]\\d)";
	case 'S':
		return "(?<jdS>6[01]|[0-5]\\d)";
	case 'f':
		return "\\d+";
	case 'p':
		return "(?<jdp>(?i:[ap]m))";
	case 'j':
		return "(?<jdj>36[0-6]|3[0-5]\\d|[12]\\d\\d|0\\d\\d|\\d\\d?(?!"
		       "\\d))";
	case 's':
		return "(?<jds>\\d{1,12})";
	case 'z':
		return "(?<jdz>Z|[+-]\\d\\d(?::?\\d\\d)?)";
	case 'Z':
		return "(?<jdZ>Z|[A-Z]{2,5})"; /* as fail2ban: names in capitals
		                                */
	case 'T':
		return "(?<jdH>2[0-3]|[01]\\d):(?<jdM>[0-5]\\d):(?<jdS>6[01]|"
		       "[0-5]\\d)";
	case '%':
		return "%";
	default:
		return NULL;
	}
}

/* Append n bytes to the growing buffer *bp of used *np. */
static void
datetime_append(char **bp, size_t *np, const char *s, size_t n)
{
	*bp = xreallocarray(*bp, *np + n + 1, 1);
	memcpy(*bp + *np, s, n);
	*np += n;
	(*bp)[*np] = '\0';
}

/*
 * Translate a strptime-style pattern into a PCRE2 regex.  Text between
 * directives is regex already, as in fail2ban; Python's (?P<n>...) and
 * (?P=n) are PCRE2 syntax too.  %ExY and friends are fail2ban's "exact"
 * variants, treated here like %Y.  anchored is 1 for {^LN-BEG}, 0 for a
 * word boundary, 2 for no boundary at the start.  A leading or trailing
 * "**" is fail2ban's way to drop the word boundary on that side.
 */
static char *
datetime_translate(const char *pat, int anchored, char **cause)
{
	const char *frag, *p, *stop;
	char *out = NULL;
	size_t n = 0;
	int wordend = 1;

	stop = pat + strlen(pat);
	if (stop - pat >= 2 && strcmp(stop - 2, "**") == 0) {
		stop -= 2;
		wordend = 0;
	}
	/* fail2ban's {^LN-BEG}: the line start or up to two non-word bytes. */
	frag = anchored == 1 ? "(?<=^|^\\W|^\\W\\W)" : "(?<!\\w)";
	if (anchored == 2 ||
	    (anchored == 0 && (*pat == '^' || strncmp(pat, "\\b", 2) == 0)))
		frag = "";
	if (strncmp(pat, "**", 2) == 0) {
		pat += 2;
		frag = "";
	}
	datetime_append(&out, &n, frag, strlen(frag));
	for (p = pat; p < stop; p++) {
		if (*p != '%') {
			datetime_append(&out, &n, p, 1);
			continue;
		}
		if (p[1] == 'E' && p[2] == 'x' && p[3] != '\0')
			p += 2;
		if (p[1] == '\0' || (frag = datetime_directive(p[1])) == NULL) {
			xasprintf(cause,
			    "datepattern \"%s\": unsupported "
			    "directive %%%.1s",
			    pat, p[1] ? p + 1 : "");
			free(out);
			return NULL;
		}
		datetime_append(&out, &n, frag, strlen(frag));
		p++;
	}
	if (wordend)
		datetime_append(&out, &n, "(?!\\w)", 6);
	return out;
}

/* Compile regex re (JIT when possible); errors name the spec pat. */
static int
datetime_compile_re(pcre2_code **codep, pcre2_match_data **mdp, const char *re,
    uint32_t options, const char *pat, char **cause)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE erroff;
	int err;

	*codep = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, options,
	    &err, &erroff, NULL);
	if (*codep == NULL) {
		pcre2_get_error_message(err, msg, sizeof msg);
		xasprintf(cause, "datepattern \"%s\": %s", pat, (char *)msg);
		return -1;
	}
	(void)pcre2_jit_compile(
	    *codep, PCRE2_JIT_COMPLETE); /* else interpret */
	*mdp = pcre2_match_data_create_from_pattern(*codep, NULL);
	return 0;
}

/* Compile a strptime-style pattern into p. */
static int
datetime_compile_regex(struct datetime_pat *p, const char *pat, char **cause)
{
	char *re;
	int i, rc;

	if ((re = datetime_translate(pat, p->anchored, cause)) == NULL)
		return -1;
	rc = datetime_compile_re(&p->re, &p->md, re, 0, pat, cause);
	free(re);
	if (rc != 0)
		return -1;
	for (i = 0; i < DATETIME_NFIELDS; i++)
		p->grp[i] = pcre2_substring_number_from_name(
		    p->re, (PCRE2_SPTR)datetime_field_names[i]);
	if (strchr(pat, '%') == NULL) {
		p->kind = DATETIME_MARK; /* as fail2ban: "^WARNING:()**" */
		return 0;
	}
	if (p->grp[DATETIME_F_s] < 0 && p->grp[DATETIME_F_H] < 0 &&
	    p->grp[DATETIME_F_I] < 0) {
		xasprintf(cause,
		    "datepattern \"%s\": no hour (%%H or %%I) "
		    "nor epoch (%%s)",
		    pat);
		return -1;
	}
	return 0;
}

/* The offset of the next group opener or closer in re, or -1 at the end. */
static ssize_t
datetime_next_paren(const char *re, size_t i, int *cls)
{
	for (; re[i] != '\0'; i++) {
		if (re[i] == '\\' && re[i + 1] != '\0')
			i++;
		else if (*cls)
			*cls = re[i] != ']';
		else if (re[i] == '[') {
			*cls = 1;
			if (re[i + 1] == ']' ||
			    (re[i + 1] == '^' && re[i + 2] == ']'))
				i += re[i + 1] == ']' ? 1 : 2;
		} else if (re[i] == '(' || re[i] == ')')
			return (ssize_t)i;
	}
	return -1;
}

/*
 * fail2ban cuts the first group around {DATE} ("^[^\[]*\[({DATE})") out
 * of the line, or just the date.  Turn a group left open in *pre and its
 * closer in *post into the empty groups jdcs and jdce that mark the cut;
 * other open groups are dropped.
 */
static void
datetime_unwrap(char **pre, char **post)
{
	size_t open[32], nopen = 0, k, n;
	ssize_t i = 0;
	int cls = 0, depth = 0;
	char *s = *pre, *t;

	while ((i = datetime_next_paren(s, (size_t)i, &cls)) >= 0) {
		if (s[i] == '(' && nopen < 32)
			open[nopen++] = (size_t)i;
		else if (s[i] == ')' && nopen > 0)
			nopen--;
		i++;
	}
	n = nopen;
	while (nopen > 0) {
		k = open[--nopen] + 1; /* drop "(" and "?:", "?<n>", "?P<n>" */
		if (s[k] == '?' && s[k + 1] == ':')
			k += 2;
		else if (s[k] == '?' && strchr("P<", s[k + 1]) != NULL &&
		         (t = strchr(s + k, '>')) != NULL)
			k = (size_t)(t - s) + 1;
		xasprintf(&t, "%.*s%s%s", (int)open[nopen], s,
		    nopen == 0 ? "(?<jdcs>)" : "", s + k);
		free(s);
		s = t;
	}
	*pre = s;
	for (s = *post, i = 0, cls = 0;
	     n > 0 && (i = datetime_next_paren(s, (size_t)i, &cls)) >= 0;) {
		if (s[i] == '(' || depth-- > 0) {
			depth += s[i] == '(' ? 1 : 0;
			i++;
			continue;
		}
		depth = 0;
		xasprintf(&t, "%.*s%s%s", (int)i, s, n == 1 ? "(?<jdce>)" : "",
		    s + i + 1);
		free(s);
		s = t;
		n--;
	}
	*post = s;
}

/*
 * Compile fail2ban's "PRE{DATE}POST" (as in its lt_rfc5424 logtype): PRE
 * and POST are plain regexes, the date between them is the default set's.
 */
static int
datetime_compile_embed(struct datetime_pat *p, const char *s, char **cause)
{
	const char *d = strstr(s, "{DATE}");
	char *pre, *post;
	int rc;

	if (strstr(d + 6, "{DATE}") != NULL || strstr(s, "{^LN-BEG}") != NULL) {
		xasprintf(cause,
		    "datepattern \"%s\": {DATE} may appear once, {^LN-BEG} "
		    "only as a prefix",
		    s);
		return -1;
	}
	p->kind = DATETIME_EMBED;
	xasprintf(&pre, "%s%.*s", p->anchored ? "(?<=^|^\\W|^\\W\\W)" : "",
	    (int)(d - s), s);
	post = xstrdup(d + 6);
	datetime_unwrap(&pre, &post);
	rc = datetime_compile_re(&p->re, &p->md, pre, 0, s, cause);
	p->cs = p->ce = -1;
	if (rc == 0)
		p->cs = pcre2_substring_number_from_name(
		    p->re, (PCRE2_SPTR) "jdcs");
	if (rc == 0 && post[0] != '\0' &&
	    (rc = datetime_compile_re(
	         &p->post, &p->post_md, post, PCRE2_ANCHORED, s, cause)) == 0)
		p->ce = pcre2_substring_number_from_name(
		    p->post, (PCRE2_SPTR) "jdce");
	free(pre);
	free(post);
	return rc;
}

/* Parse one line of a spec into p: a {KEYWORD} or a strptime pattern. */
static int
datetime_compile(struct datetime_pat *p, const char *spec, char **cause)
{
	static const struct {
		const char *name;
		enum datetime_kind kind;
	} kw[] = {
	    {"", DATETIME_DEFAULT},
	    {"{DATE}", DATETIME_DEFAULT},
	    {"{ISO8601}", DATETIME_ISO},
	    {"{EPOCH}", DATETIME_EPOCH},
	    {"{LEPOCH}", DATETIME_LEPOCH},
	    {"{NONE}", DATETIME_NONE},
	    {"{TAI64N}", DATETIME_TAI64N},
	    /* fail2ban also takes these bare, in any case */
	    {"EPOCH", DATETIME_EPOCH},
	    {"LEPOCH", DATETIME_LEPOCH},
	    {"TAI64N", DATETIME_TAI64N},
	    {"ISO8601", DATETIME_ISO},
	};
	const char *s = spec;
	size_t i;

	if (strncmp(s, "{^LN-BEG}", 9) == 0) {
		p->anchored = 1;
		s += 9;
	} else if (s[0] == '^' && (strcasecmp(s + 1, "EPOCH") == 0 ||
	                              strcasecmp(s + 1, "LEPOCH") == 0 ||
	                              strcasecmp(s + 1, "TAI64N") == 0)) {
		p->anchored = 1; /* "^EPOCH" */
		s++;
	}
	for (i = 0; i < sizeof kw / sizeof kw[0]; i++) {
		if (strcasecmp(s, kw[i].name) == 0) {
			p->kind = kw[i].kind;
			xasprintf(&p->desc, "%s%s",
			    p->anchored ? "{^LN-BEG}" : "",
			    *s == '\0' ? "{DATE}" : s);
			return 0;
		}
	}
	p->desc = xstrdup(spec);
	if (strstr(s, "{DATE}") != NULL)
		return datetime_compile_embed(p, s, cause);
	if (strstr(s, "{^LN-BEG}") != NULL) {
		xasprintf(cause,
		    "datepattern \"%s\": {^LN-BEG} is only supported as a "
		    "prefix",
		    spec);
		return -1;
	}
	p->kind = DATETIME_REGEX;
	return datetime_compile_regex(p, s, cause);
}

/* The integer value of group f of the last match, or -1 if unset. */
static int64_t
datetime_group_int(
    const struct datetime_pat *p, const char *s, enum datetime_field f)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(p->md);
	PCRE2_SIZE a, b;
	int64_t v = 0;

	if (p->grp[f] < 0 || ov[2 * p->grp[f]] == PCRE2_UNSET)
		return -1;
	a = ov[2 * p->grp[f]];
	b = ov[2 * p->grp[f] + 1];
	for (; a < b && b - a <= 12; a++) {
		if (datetime_isdigit(s[a]))
			v = v * 10 + (s[a] - '0');
	}
	return v;
}

/* The text of group f of the last match, or NULL if unset. */
static const char *
datetime_group_str(const struct datetime_pat *p, const char *s,
    enum datetime_field f, size_t *n)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(p->md);

	if (p->grp[f] < 0 || ov[2 * p->grp[f]] == PCRE2_UNSET)
		return NULL;
	*n = ov[2 * p->grp[f] + 1] - ov[2 * p->grp[f]];
	return s + ov[2 * p->grp[f]];
}

/* Read the zone groups (%z, %Z) of the last match into tm. */
static void
datetime_group_zone(
    const struct datetime_pat *p, const char *s, struct datetime_tm *tm)
{
	const char *z;
	size_t n;

	if ((z = datetime_group_str(p, s, DATETIME_F_z, &n)) != NULL) {
		tm->has_tz = 1;
		if (*z == '+' || *z == '-')
			tm->has_tz =
			    datetime_parse_offset(z, n, 0, &tm->off) == n;
	} else if ((z = datetime_group_str(p, s, DATETIME_F_Z, &n)) != NULL) {
		/* Only names that are unambiguous; others mean local time. */
		if ((n == 1 && (*z == 'Z' || *z == 'z')) ||
		    (n == 2 && strncasecmp(z, "UT", 2) == 0) ||
		    (n == 3 && (strncasecmp(z, "UTC", 3) == 0 ||
		                   strncasecmp(z, "GMT", 3) == 0)))
			tm->has_tz = 1;
	}
}

/* Fill tm from the groups of the last regex match. */
static void
datetime_group_tm(
    const struct datetime_pat *p, const char *s, struct datetime_tm *tm)
{
	const char *t;
	int64_t v;
	size_t n;

	memset(tm, 0, sizeof *tm);
	if ((v = datetime_group_int(p, s, DATETIME_F_s)) >= 0) {
		tm->is_epoch = 1;
		tm->epoch = v;
		return;
	}
	if ((v = datetime_group_int(p, s, DATETIME_F_Y)) >= 0)
		tm->year = (int)v;
	else if ((v = datetime_group_int(p, s, DATETIME_F_y)) >= 0)
		tm->year = (int)(v < 69 ? 2000 + v : 1900 + v);
	if ((v = datetime_group_int(p, s, DATETIME_F_m)) >= 0)
		tm->mon = (int)v;
	else if ((t = datetime_group_str(p, s, DATETIME_F_b, &n)) != NULL)
		tm->mon = datetime_month3(t);
	if ((v = datetime_group_int(p, s, DATETIME_F_d)) >= 0)
		tm->day = (int)v;
	if (tm->mon != 0 && tm->day == 0)
		tm->day = 1;
	if ((v = datetime_group_int(p, s, DATETIME_F_j)) >= 0 && tm->mon == 0)
		tm->yday = (int)v; /* resolved by the caller */
	if ((v = datetime_group_int(p, s, DATETIME_F_H)) >= 0)
		tm->hour = (int)v;
	else if ((v = datetime_group_int(p, s, DATETIME_F_I)) >= 0) {
		/* As Python's strptime: 12 AM is 0, 1-11 PM add 12. */
		t = datetime_group_str(p, s, DATETIME_F_p, &n);
		tm->hour =
		    (int)(v % 12) + (t != NULL && (*t | 0x20) == 'p' ? 12 : 0);
	}
	if ((v = datetime_group_int(p, s, DATETIME_F_M)) >= 0)
		tm->min = (int)v;
	if ((v = datetime_group_int(p, s, DATETIME_F_S)) >= 0)
		tm->sec = (int)v;
	datetime_group_zone(p, s, tm);
}

/* Match a strptime-style pattern anywhere in the line. */
static int
datetime_match_regex(const struct datetime_pat *p, const char *s, size_t len,
    struct datetime_tm *tm, size_t *start, size_t *end)
{
	PCRE2_SIZE *ov;
	int64_t days;
	int y;

	if (pcre2_match(p->re, (PCRE2_SPTR)s, len, 0, 0, p->md, NULL) < 0)
		return -1;
	ov = pcre2_get_ovector_pointer(p->md);
	*start = ov[0];
	*end = ov[1];
	datetime_group_tm(p, s, tm);
	if (tm->yday != 0) { /* %j: day of the year */
		y = tm->year != 0 ? tm->year : 1970;
		if (tm->yday > 365 + (datetime_mdays(y, 2) == 29))
			return -1;
		days = datetime_days(y, 1, 1) + tm->yday - 1;
		tm->mon = 1;
		while (tm->mon < 12 && days >= datetime_days(y, tm->mon + 1, 1))
			tm->mon++;
		tm->day = (int)(days - datetime_days(y, tm->mon, 1)) + 1;
	}
	return 0;
}

/*
 * Try fail2ban's other default templates at s[from...]: mode 0 anywhere
 * (leftmost wins), 1 at the line start (after up to two non-word bytes),
 * 2 exactly at from.
 */
static int
datetime_match_fallback(const struct datetime *dt, const char *s, size_t len,
    size_t from, int mode, struct datetime_tm *tm, size_t *start, size_t *end)
{
	const struct datetime_pat *p;
	struct datetime_tm cur;
	PCRE2_SIZE *ov;
	size_t i, at, best = SIZE_MAX;

	for (i = 0; i < dt->nfb; i++) {
		p = &dt->fb[i];
		for (at = from; at <= from + (mode == 1 ? 2 : 0) && at <= len;
		     at++) {
			if (mode == 1 && at > 0 && datetime_isalnum(s[at - 1]))
				break;
			if (pcre2_match(p->re, (PCRE2_SPTR)s, len, at,
			        mode == 0 ? 0 : PCRE2_ANCHORED, p->md,
			        NULL) >= 0)
				break;
		}
		if (at > from + (mode == 1 ? 2 : 0) || at > len ||
		    (mode == 1 && at > 0 && datetime_isalnum(s[at - 1])))
			continue;
		ov = pcre2_get_ovector_pointer(p->md);
		if (ov[0] >= best)
			continue;
		datetime_group_tm(p, s, &cur);
		if (cur.hour < 0 || cur.mon == 0)
			continue;
		best = ov[0];
		*tm = cur;
		*start = ov[0];
		*end = ov[1];
	}
	return best == SIZE_MAX ? -1 : 0;
}

/* Find daemontools' TAI64N label "@" + 24 hex digits. */
static int
datetime_match_tai64n(const struct datetime_pat *p, const char *s, size_t len,
    struct datetime_tm *tm, size_t *start, size_t *end)
{
	const char *at = s;
	uint64_t v;
	size_t i, k;
	int c;

	while ((at = memchr(at, '@', len - (size_t)(at - s))) != NULL) {
		i = (size_t)(at - s);
		if (p->anchored && i > 2)
			return -1;
		for (k = 1, v = 0; k <= 24 && i + k < len; k++) {
			c = s[i + k] | 0x20;
			if (!datetime_isdigit(s[i + k]) && (c < 'a' || c > 'f'))
				break;
			if (k <= 16)
				v = v * 16 + (uint64_t)(c <= '9'
				                            ? c - '0'
				                            : c - 'a' + 10);
		}
		if (k == 25) {
			memset(tm, 0, sizeof *tm);
			tm->is_epoch = 1;
			tm->epoch = (int64_t)(v - 0x4000000000000000ULL);
			*start = i;
			*end = i + 25;
			return 0;
		}
		at++;
	}
	return -1;
}

/* Add one pattern, compiled from a line of the spec, to dt. */
static int
datetime_add(struct datetime *dt, const char *line, char **cause)
{
	dt->pats = xreallocarray(dt->pats, dt->npats + 1, sizeof *dt->pats);
	memset(&dt->pats[dt->npats], 0, sizeof *dt->pats);
	return datetime_compile(&dt->pats[dt->npats++], line, cause);
}

/* Match "PRE{DATE}POST": PRE's first match, a date right after, POST. */
static int
datetime_match_embed(const struct datetime *dt, const struct datetime_pat *p,
    const char *s, size_t len, struct datetime_tm *tm, size_t *start,
    size_t *end)
{
	PCRE2_SIZE *ov;
	size_t e, ds;

	if (pcre2_match(p->re, (PCRE2_SPTR)s, len, 0, 0, p->md, NULL) < 0)
		return -1;
	ov = pcre2_get_ovector_pointer(p->md);
	if ((ds = ov[1]) >= len)
		return -1;
	if (datetime_try(DATETIME_DEFAULT, s, len, ds, 1, tm, &e) == NULL &&
	    datetime_match_fallback(dt, s, len, ds, 2, tm, start, &e) != 0)
		return -1;
	/* Cut the group around {DATE} if there is one, else the match. */
	*start =
	    p->cs >= 0 && ov[2 * p->cs] != PCRE2_UNSET ? ov[2 * p->cs] : ov[0];
	*end = e;
	if (p->post != NULL) {
		if (pcre2_match(p->post, (PCRE2_SPTR)s, len, e, PCRE2_ANCHORED,
		        p->post_md, NULL) < 0)
			return -1;
		ov = pcre2_get_ovector_pointer(p->post_md);
		*end = p->ce >= 0 && ov[2 * p->ce] != PCRE2_UNSET
		           ? ov[2 * p->ce]
		           : ov[1];
	}
	return 0;
}

/* Compile the fallback templates if a pattern uses the default set. */
static int
datetime_fallback_compile(struct datetime *dt, char **cause)
{
	const size_t n = sizeof datetime_fallback / sizeof datetime_fallback[0];
	struct datetime_pat *p;
	size_t i;

	for (i = 0; i < dt->npats; i++) {
		if (dt->pats[i].kind == DATETIME_DEFAULT ||
		    dt->pats[i].kind == DATETIME_EMBED)
			break;
	}
	if (i == dt->npats)
		return 0;
	dt->fb = xcalloc(n, sizeof *dt->fb);
	for (i = 0; i < n; i++) {
		p = &dt->fb[dt->nfb++];
		p->desc = xstrdup(datetime_fallback[i]);
		p->kind = DATETIME_REGEX;
		if (datetime_compile_regex(p, datetime_fallback[i], cause) != 0)
			return -1;
	}
	return 0;
}

/* Compile a datepattern: NULL or "" for the default set; see datetime.h. */
struct datetime *
datetime_create(const char *spec, char **cause)
{
	struct datetime *dt;
	char *copy, *line, *next, *e;
	size_t i;

	dt = xcalloc(1, sizeof *dt);
	dt->cache = xcalloc(1, sizeof *dt->cache);
	dt->cache->now_hour = INT64_MIN;
	for (i = 0; i < DATETIME_NSLOTS; i++)
		dt->cache->loc[i].hour = INT64_MIN;
	copy = xstrdup(spec != NULL ? spec : "");
	for (line = copy; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		e = line + strlen(line);
		while (e > line &&
		       (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			*--e = '\0';
		if (*line == '\0' || *line == '#')
			continue;
		if (datetime_add(dt, line, cause) != 0)
			goto fail;
	}
	if (dt->npats == 0 && datetime_add(dt, "", cause) != 0)
		goto fail;
	if (datetime_fallback_compile(dt, cause) != 0)
		goto fail;
	free(copy);
	return dt;
fail:
	free(copy);
	datetime_free(dt);
	return NULL;
}

void
datetime_free(struct datetime *dt)
{
	size_t i;

	if (dt == NULL)
		return;
	for (i = 0; i < dt->npats; i++) {
		pcre2_match_data_free(dt->pats[i].md);
		pcre2_match_data_free(dt->pats[i].post_md);
		pcre2_code_free(dt->pats[i].post);
		pcre2_code_free(dt->pats[i].re);
		free(dt->pats[i].desc);
	}
	free(dt->pats);
	for (i = 0; i < dt->nfb; i++) {
		pcre2_match_data_free(dt->fb[i].md);
		pcre2_code_free(dt->fb[i].re);
		free(dt->fb[i].desc);
	}
	free(dt->fb);
	free(dt->cache);
	free(dt);
}

/* Find the timestamp in line[0..len); see datetime.h. */
int
datetime_find(const struct datetime *dt, const char *line, size_t len,
    time_t now, time_t *when, size_t *start, size_t *end)
{
	const struct datetime_pat *p;
	const char *desc;
	struct datetime_tm tm;
	size_t i, st, en;

	for (i = 0; i < dt->npats; i++) {
		p = &dt->pats[i];
		if (p->kind == DATETIME_NONE)
			continue;
		if (p->kind == DATETIME_REGEX || p->kind == DATETIME_EMBED) {
			if ((p->kind == DATETIME_REGEX
			            ? datetime_match_regex(
			                  p, line, len, &tm, &st, &en)
			            : datetime_match_embed(dt, p, line, len,
			                  &tm, &st, &en)) != 0)
				continue;
			desc = p->desc;
		} else if (p->kind == DATETIME_MARK) {
			continue; /* fail2ban: the line's date is the last one
			           */
		} else if (p->kind == DATETIME_TAI64N) {
			if (datetime_match_tai64n(p, line, len, &tm, &st, &en))
				continue;
			desc = p->desc;
		} else if ((desc = datetime_scan(
		                p, line, len, &tm, &st, &en)) == NULL) {
			if (p->kind != DATETIME_DEFAULT ||
			    datetime_match_fallback(dt, line, len, 0,
			        p->anchored, &tm, &st, &en) != 0)
				continue;
			desc = p->desc;
		}
		if (datetime_resolve(dt->cache, &tm, now, when) != 0)
			continue;
		dt->cache->last = desc;
		*start = st;
		*end = en;
		return 0;
	}
	return -1;
}

/* The pattern that matched last, or the first one if none has yet. */
const char *
datetime_describe(const struct datetime *dt)
{
	if (dt->cache->last != NULL)
		return dt->cache->last;
	return dt->pats[0].desc;
}
