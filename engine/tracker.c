/* Failure counting per address within findtime; callers pass the clock. */
#include <stdlib.h>
#include <string.h>

#include "addrmap.h"
#include "tracker.h"
#include "xmalloc.h"

/*
 * Only the newest maxretry failures of an address can decide a ban, so
 * each entry keeps a ring of that many times (and lines, when kept) and
 * no more: memory per attacker is bounded whatever the attack rate.
 */
struct tracker_entry {
	time_t newest;
	int n; /* slots in use */
	int head; /* next slot to write */
	int cap; /* maxretry */
	char **lines; /* cap slots, or NULL when lines are not kept */
	time_t times[];
};

struct tracker {
	int maxretry;
	int64_t findtime;
	int keep_lines;
	struct addrmap *entries;
};

static void
tracker_entry_free(void *p)
{
	struct tracker_entry *e = p;
	int i;

	if (e->lines != NULL) {
		for (i = 0; i < e->cap; i++)
			free(e->lines[i]);
		free(e->lines);
	}
	free(e);
}

struct tracker *
tracker_create(int maxretry, int64_t findtime, int keep_lines)
{
	struct tracker *t;

	t = xcalloc(1, sizeof *t);
	t->maxretry = maxretry < 1 ? 1 : maxretry;
	t->findtime = findtime;
	t->keep_lines = keep_lines;
	t->entries = addrmap_create(tracker_entry_free);
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

/* The entry of a, created empty if it has none. */
static struct tracker_entry *
tracker_entry_get(struct tracker *t, const struct addr *a)
{
	struct tracker_entry *e = addrmap_get(t->entries, a);

	if (e != NULL)
		return e;
	e = xcalloc(1, sizeof *e + (size_t)t->maxretry * sizeof(time_t));
	e->cap = t->maxretry;
	if (t->keep_lines)
		e->lines = xcalloc((size_t)e->cap, sizeof *e->lines);
	addrmap_put(t->entries, a, e);
	return e;
}

int
tracker_add(struct tracker *t, const struct addr *a, time_t when, time_t now,
    const char *line, size_t len)
{
	struct tracker_entry *e;

	if (when < now - t->findtime)
		return 0;
	e = tracker_entry_get(t, a);
	e->times[e->head] = when;
	if (e->lines != NULL) {
		free(e->lines[e->head]);
		e->lines[e->head] = xstrndup(
		    line, len < TRACKER_LINEMAX ? len : TRACKER_LINEMAX);
	}
	e->head = (e->head + 1) % e->cap;
	if (e->n < e->cap)
		e->n++;
	if (when > e->newest)
		e->newest = when;
	return tracker_entry_count(t, e, now);
}

char *
tracker_matches(const struct tracker *t, const struct addr *a)
{
	const struct tracker_entry *e = addrmap_get(t->entries, a);
	size_t size = 0, off = 0, len;
	char *out;
	int i, k;

	if (e == NULL || e->lines == NULL || e->n == 0)
		return NULL;
	/* The oldest slot is head once the ring is full, else slot 0. */
	for (i = 0; i < e->n; i++)
		size +=
		    strlen(e->lines[(e->head + e->cap - e->n + i) % e->cap]) +
		    1;
	out = xmalloc(size);
	for (i = 0; i < e->n; i++) {
		k = (e->head + e->cap - e->n + i) % e->cap;
		len = strlen(e->lines[k]);
		memcpy(out + off, e->lines[k], len);
		off += len;
		out[off++] = i + 1 < e->n ? '\n' : '\0';
	}
	return out;
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
