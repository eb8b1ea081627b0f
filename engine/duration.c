/* Durations in fail2ban's syntax, parsed to and formatted from seconds. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "duration.h"

struct duration_unit {
	const char *name;
	int64_t secs;
};

/*
 * fail2ban's unit spellings (mytime.py), plus common plurals.  A month is
 * a twelfth and a year is 365.25 days, as fail2ban computes them.
 */
static const struct duration_unit duration_units[] = {
    {"s", 1},
    {"sec", 1},
    {"secs", 1},
    {"second", 1},
    {"seconds", 1},
    {"m", 60},
    {"mm", 60},
    {"mi", 60},
    {"min", 60},
    {"mins", 60},
    {"minute", 60},
    {"minutes", 60},
    {"h", 3600},
    {"hh", 3600},
    {"hr", 3600},
    {"hrs", 3600},
    {"hour", 3600},
    {"hours", 3600},
    {"d", 86400},
    {"dd", 86400},
    {"da", 86400},
    {"day", 86400},
    {"days", 86400},
    {"w", 604800},
    {"ww", 604800},
    {"wee", 604800},
    {"week", 604800},
    {"weeks", 604800},
    {"mo", 2629800},
    {"mon", 2629800},
    {"month", 2629800},
    {"months", 2629800},
    {"y", 31557600},
    {"yy", 31557600},
    {"yea", 31557600},
    {"year", 31557600},
    {"years", 31557600},
};

/* Look up a unit word of len bytes; returns its seconds or 0. */
static int64_t
duration_unit_secs(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof duration_units / sizeof duration_units[0]; i++) {
		if (strlen(duration_units[i].name) == len &&
		    strncasecmp(duration_units[i].name, s, len) == 0)
			return duration_units[i].secs;
	}
	return 0;
}

static int
duration_isspace(char c)
{
	return c == ' ' || c == '\t';
}

static int
duration_isalpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Parse digits [. digits] at *sp into an integer and a fraction in 1e-6. */
static int
duration_number(const char **sp, int64_t *whole, int64_t *micro)
{
	const char *s = *sp;
	int64_t w = 0, f = 0, scale = 100000;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (w > (INT64_MAX - (*s - '0')) / 10)
			return -1;
		w = w * 10 + (*s - '0');
	}
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return -1;
		for (; *s >= '0' && *s <= '9'; s++) {
			f += (*s - '0') * scale;
			scale /= 10;
		}
	}
	*whole = w;
	*micro = f;
	*sp = s;
	return 0;
}

/* Add n units of u seconds (plus a fraction) to *total, checking overflow. */
static int
duration_add(int64_t *total, int64_t whole, int64_t micro, int64_t u)
{
	int64_t v;

	if (__builtin_mul_overflow(whole, u, &v))
		return -1;
	if (__builtin_add_overflow(v, micro * u / 1000000, &v))
		return -1;
	if (__builtin_add_overflow(*total, v, total))
		return -1;
	return 0;
}

/* Parse s into seconds: "600", "10m", "1h30m", "1 day", "-1" (forever). */
int
duration_parse(const char *s, int64_t *out)
{
	const char *p, *w;
	int64_t total = 0, whole, micro, u;
	int unitless;

	if (s == NULL)
		return -1;
	while (duration_isspace(*s))
		s++;
	p = s;
	if (*p == '-') {
		p++;
		if (*p++ != '1')
			return -1;
		while (duration_isspace(*p))
			p++;
		if (*p != '\0')
			return -1;
		*out = DURATION_FOREVER;
		return 0;
	}
	if (*p == '\0')
		return -1;
	while (*p != '\0') {
		if (duration_number(&p, &whole, &micro) != 0)
			return -1;
		while (duration_isspace(*p))
			p++;
		for (w = p; duration_isalpha(*p); p++)
			;
		u = 1;
		unitless = p == w;
		if (!unitless &&
		    (u = duration_unit_secs(w, (size_t)(p - w))) == 0)
			return -1;
		if (duration_add(&total, whole, micro, u) != 0)
			return -1;
		while (duration_isspace(*p))
			p++;
		if (unitless && *p != '\0')
			return -1; /* "5 5": only the last part may omit a unit
			            */
	}
	*out = total;
	return 0;
}

/* Write a short human form: "42s", "10m", "1h30m", "2d3h", "forever". */
void
duration_format(int64_t secs, char *buf, size_t len)
{
	static const struct duration_unit parts[] = {
	    {"d", 86400},
	    {"h", 3600},
	    {"m", 60},
	    {"s", 1},
	};
	char tmp[64];
	size_t i, o = 0;
	int64_t n;

	if (len == 0)
		return;
	if (secs < 0) {
		snprintf(buf, len, "forever");
		return;
	}
	if (secs == 0) {
		snprintf(buf, len, "0s");
		return;
	}
	tmp[0] = '\0';
	for (i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		n = secs / parts[i].secs;
		secs %= parts[i].secs;
		if (n != 0)
			o += (size_t)snprintf(tmp + o, sizeof tmp - o, "%lld%s",
			    (long long)n, parts[i].name);
	}
	snprintf(buf, len, "%s", tmp);
}
