/* Find and parse the timestamp of a log line. */
#ifndef JAILD_DATETIME_H
#define JAILD_DATETIME_H

#include <stddef.h>
#include <time.h>

struct datetime;

/*
 * Compile a datepattern.  spec NULL or "" selects the default set, tried in
 * order at the start of the line and then anywhere: RFC 3339 / ISO 8601
 * (fractions, Z or +hh:mm, or local), BSD syslog "Mon dd hh:mm:ss" (no
 * year), "YYYY-mm-dd hh:mm:ss", epoch seconds with optional fraction.
 * spec may also be fail2ban's: "{^LN-BEG}" prefix (anchor at line start),
 * "{DATE}", "{EPOCH}", "{LEPOCH}", "{ISO8601}", or strptime-style
 * patterns ("%Y-%m-%d %H:%M:%S", "%b %d %H:%M:%S"...); several patterns may
 * be given one per line.  Returns NULL with *cause set on error.
 */
struct datetime *datetime_create(const char *spec, char **cause);
void datetime_free(struct datetime *);

/*
 * Find the timestamp in line[0..len).  On success returns 0 and sets
 * *when (UTC seconds), and *start and *end to the byte range of the date.
 * now decides the missing year of a BSD syslog stamp: the year that puts
 * the stamp closest to now without being more than a day in its future (a
 * December line read in January is last year's).  Times without a zone
 * are local time.  Returns -1 when no timestamp is found.
 */
int datetime_find(const struct datetime *dt, const char *line, size_t len,
    time_t now, time_t *when, size_t *start, size_t *end);

/* The pattern that matched last, for "jailctl test" reports. */
const char *datetime_describe(const struct datetime *dt);

/*
 * How far into a line a date datetime_find cuts out may start: -1 if
 * anywhere, else at most that many bytes from the start (0: no date is
 * ever cut), all of them non-word bytes when *nonword.  The literal
 * prefilter needs it: text on both sides of the cut is joined.
 */
int datetime_lead(const struct datetime *dt, int *nonword);

#endif
