/* Durations in fail2ban's syntax: 600, 10m, 1h30m, 1d, 2w, -1. */
#ifndef JAILD_DURATION_H
#define JAILD_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* A ban of this length never ends. */
#define DURATION_FOREVER ((int64_t)-1)
/*
 * The longest finite ban a client may ask for: 100 years of 366 days, the
 * bound jaild.conf puts on bantime.  Longer is surely a typo; -1 is the
 * way to say forever.
 */
#define DURATION_MAX ((int64_t)100 * 366 * 86400)

/*
 * Parse s into seconds.  Plain numbers are seconds; units s, m, h, d, w
 * (and fail2ban's long forms: sec, min, minute(s), hour(s), day(s),
 * week(s), mo/month(s), y/year(s)) may be combined ("1h30m", "1d 12h").
 * "-1" is DURATION_FOREVER.  Returns 0 or -1 for malformed input.
 */
int duration_parse(const char *s, int64_t *out);

/* Write a short human form: "42s", "10m", "1h30m", "2d3h", "forever". */
void duration_format(int64_t secs, char *buf, size_t len);

#endif
