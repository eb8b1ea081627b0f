/* Failure counting per address within findtime. Pure: callers pass now. */
#ifndef JAILD_TRACKER_H
#define JAILD_TRACKER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"

struct tracker;

/* Longest part of a line kept for <matches>. */
#define TRACKER_LINEMAX 1024

/*
 * keep_lines: also keep the line of each failure (its first
 * TRACKER_LINEMAX bytes), for actions that report <matches>.
 */
struct tracker *tracker_create(int maxretry, int64_t findtime, int keep_lines);
void tracker_free(struct tracker *);

/*
 * Record a failure of a at time when, from line[0..len).  A failure older
 * than findtime at now counts for nothing.  Returns how many failures of a
 * fall within findtime of the newest one, this one included.
 */
int tracker_add(struct tracker *, const struct addr *a, time_t when, time_t now,
    const char *line, size_t len);
/*
 * The kept lines of a's failures, oldest first, joined with '\n'
 * (allocated), or NULL when none are kept.
 */
char *tracker_matches(const struct tracker *, const struct addr *a);
void tracker_forget(struct tracker *, const struct addr *a);
/* Drop addresses whose newest failure is older than findtime. */
void tracker_expire(struct tracker *, time_t now);
size_t tracker_count(const struct tracker *);
int tracker_failures(const struct tracker *, const struct addr *a);

#endif
