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
#include "datetime_pattern.h"
#include "xmalloc.h"

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
	return datetime_pattern_compile(&dt->pats[dt->npats++], line, cause);
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
	size_t i;

	for (i = 0; i < dt->npats; i++) {
		if (dt->pats[i].kind == DATETIME_DEFAULT ||
		    dt->pats[i].kind == DATETIME_EMBED)
			break;
	}
	if (i == dt->npats)
		return 0;
	return datetime_pattern_fallback(&dt->fb, &dt->nfb, cause);
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
	for (i = 0; i < dt->npats; i++)
		datetime_pattern_clear(&dt->pats[i]);
	free(dt->pats);
	for (i = 0; i < dt->nfb; i++)
		datetime_pattern_clear(&dt->fb[i]);
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

/* How far into a line a date this finds may start; see datetime.h. */
int
datetime_lead(const struct datetime *dt, int *nonword)
{
	const struct datetime_pat *p;
	int lead = 0;
	size_t i;

	*nonword = 1;
	for (i = 0; i < dt->npats; i++) {
		p = &dt->pats[i];
		if (p->kind == DATETIME_NONE || p->kind == DATETIME_MARK)
			continue;
		if (p->anchored != 1 || p->kind == DATETIME_EMBED)
			return -1;
		/* TAI64N's "@" may follow a word byte; the others may not */
		if (p->kind == DATETIME_TAI64N)
			*nonword = 0;
		lead = 2;
	}
	return lead;
}
