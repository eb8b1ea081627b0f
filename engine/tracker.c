/* Failure counting per address within findtime; callers pass the clock. */
#include <stdlib.h>

#include "addrmap.h"
#include "tracker.h"
#include "xmalloc.h"

/*
 * Only the newest maxretry failures of an address can decide a ban, so
 * each entry keeps a ring of that many times and no more: memory per
 * attacker is bounded whatever the attack rate.
 */
struct tracker_entry {
	time_t newest;
	int n; /* times in use */
	int head; /* next slot to write */
	time_t times[];
};

struct tracker {
	int maxretry;
	int64_t findtime;
	struct addrmap *entries;
};

struct tracker *
tracker_create(int maxretry, int64_t findtime)
{
	struct tracker *t;

	t = xcalloc(1, sizeof *t);
	t->maxretry = maxretry < 1 ? 1 : maxretry;
	t->findtime = findtime;
	t->entries = addrmap_create(free);
	return t;
}

void
tracker_free(struct tracker *t)
{
	if (t == NULL)
		return;
	addrmap_free(t->entries);
	free(t);
}

/* Count the failures of e no older than findtime before its newest one. */
static int
tracker_entry_count(
    const struct tracker *t, const struct tracker_entry *e, time_t now)
{
	time_t floor = e->newest - t->findtime;
	int i, count = 0;

	if (now - t->findtime > floor)
		floor = now - t->findtime;
	for (i = 0; i < e->n; i++) {
		if (e->times[i] >= floor)
			count++;
	}
	return count;
}

int
tracker_add(struct tracker *t, const struct addr *a, time_t when, time_t now)
{
	struct tracker_entry *e;

	if (when < now - t->findtime)
		return 0;
	e = addrmap_get(t->entries, a);
	if (e == NULL) {
		e = xcalloc(
		    1, sizeof *e + (size_t)t->maxretry * sizeof(time_t));
		addrmap_put(t->entries, a, e);
	}
	e->times[e->head] = when;
	e->head = (e->head + 1) % t->maxretry;
	if (e->n < t->maxretry)
		e->n++;
	if (when > e->newest)
		e->newest = when;
	return tracker_entry_count(t, e, now);
}

void
tracker_forget(struct tracker *t, const struct addr *a)
{
	addrmap_del(t->entries, a);
}

struct tracker_expire_arg {
	const struct tracker *t;
	time_t now;
};

static int
tracker_expire_one(const struct addr *a, void *value, void *arg)
{
	const struct tracker_entry *e = value;
	const struct tracker_expire_arg *x = arg;

	return e->newest < x->now - x->t->findtime;
}

void
tracker_expire(struct tracker *t, time_t now)
{
	struct tracker_expire_arg x = {t, now};

	addrmap_foreach(t->entries, tracker_expire_one, &x);
}

size_t
tracker_count(const struct tracker *t)
{
	return addrmap_count(t->entries);
}

int
tracker_failures(const struct tracker *t, const struct addr *a)
{
	const struct tracker_entry *e = addrmap_get(t->entries, a);

	return e == NULL ? 0 : e->n;
}
