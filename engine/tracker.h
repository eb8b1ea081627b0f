/* Failure counting per address within findtime. Pure: callers pass now. */
#ifndef JAILD_TRACKER_H
#define JAILD_TRACKER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"

struct tracker;

struct tracker *tracker_create(int maxretry, int64_t findtime);
void tracker_free(struct tracker *);

/*
 * Record a failure of a at time when.  A failure older than findtime at now
 * counts for nothing.  Returns how many failures of a fall within findtime
 * of the newest one, this one included.
 */
int tracker_add(
    struct tracker *, const struct addr *a, time_t when, time_t now);
void tracker_forget(struct tracker *, const struct addr *a);
/* Drop addresses whose newest failure is older than findtime. */
void tracker_expire(struct tracker *, time_t now);
size_t tracker_count(const struct tracker *);
int tracker_failures(const struct tracker *, const struct addr *a);

#endif
