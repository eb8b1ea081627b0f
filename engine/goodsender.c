/* Good senders: hosts that completed a transaction, kept per jail. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrmap.h"
#include "goodsender.h"
#include "log.h"
#include "xmalloc.h"

struct goodsender_ent {
	struct store_good g;
	int dirty; /* learned since the last save */
};

struct goodsender {
	char *jail;
	int64_t keep;
	struct addrmap *map; /* host -> struct goodsender_ent */
	size_t ndirty;
};

struct goodsender *
goodsender_create(const char *jail, int64_t keep)
{
	struct goodsender *g = xcalloc(1, sizeof *g);

	g->jail = xstrdup(jail);
	g->keep = keep;
	g->map = addrmap_create(free);
	return g;
}

void
goodsender_free(struct goodsender *g)
{
	if (g == NULL)
		return;
	addrmap_free(g->map);
	free(g->jail);
	free(g);
}

static int
goodsender_load_one(const struct store_good *sg, void *arg)
{
	struct goodsender *g = arg;
	struct goodsender_ent *e = xcalloc(1, sizeof *e);

	e->g = *sg;
	addrmap_put(g->map, &sg->addr, e);
	return 0;
}

int
goodsender_load(struct goodsender *g, struct store *st, time_t now)
{
	if (st == NULL)
		return 0;
	return store_good_foreach(
	    st, g->jail, now - (time_t)g->keep, goodsender_load_one, g);
}

void
goodsender_add(struct goodsender *g, const struct addr *a, time_t when)
{
	struct goodsender_ent *e = addrmap_get(g->map, a);
	char text[ADDR_STRLEN];

	if (e == NULL) {
		e = xcalloc(1, sizeof *e);
		snprintf(e->g.jail, sizeof e->g.jail, "%s", g->jail);
		e->g.addr = *a;
		e->g.first = when;
		addrmap_put(g->map, a, e);
		addr_format(a, text, sizeof text);
		log_info("jail %s: good sender %s", g->jail, text);
	}
	if (when > e->g.last)
		e->g.last = when;
	e->g.count++;
	if (!e->dirty)
		g->ndirty++;
	e->dirty = 1;
}

int
goodsender_is(const struct goodsender *g, const struct addr *a)
{
	return g != NULL && addrmap_get(g->map, a) != NULL;
}

struct goodsender_find {
	const struct addr *p;
	int found;
};

static int
goodsender_within_one(const struct addr *key, void *value, void *arg)
{
	struct goodsender_find *f = arg;

	(void)value;
	if (!f->found && addr_contains(f->p, key))
		f->found = 1;
	return 0;
}

int
goodsender_within(const struct goodsender *g, const struct addr *p)
{
	struct goodsender_find f = {p, 0};

	if (g == NULL)
		return 0;
	/* Rare (a prefix ban is being weighed) and the map is small. */
	addrmap_foreach(g->map, goodsender_within_one, &f);
	return f.found;
}

struct goodsender_pass {
	struct goodsender *g;
	struct store *st;
	time_t cutoff;
	int failed;
};

/* Write one dirty entry; drop entries unseen since the cutoff. */
static int
goodsender_save_one(const struct addr *key, void *value, void *arg)
{
	struct goodsender_pass *p = arg;
	struct goodsender_ent *e = value;

	(void)key;
	if (e->g.last < p->cutoff)
		return 1;
	if (e->dirty && !p->failed && store_good_save(p->st, &e->g) != 0)
		p->failed = 1;
	return 0;
}

static int
goodsender_clean_one(const struct addr *key, void *value, void *arg)
{
	struct goodsender_ent *e = value;

	(void)key;
	(void)arg;
	e->dirty = 0;
	return 0;
}

int
goodsender_save(struct goodsender *g, struct store *st, time_t now)
{
	struct goodsender_pass p = {g, st, now - (time_t)g->keep, 0};

	if (st == NULL)
		return 0;
	if (store_begin(st) != 0)
		return -1;
	addrmap_foreach(g->map, goodsender_save_one, &p);
	if (!p.failed && store_good_purge(st, p.cutoff) < 0)
		p.failed = 1;
	if (store_commit(st) != 0 || p.failed) {
		log_warnx("jail %s: cannot save good senders: %s", g->jail,
		    store_errmsg(st));
		return -1;
	}
	addrmap_foreach(g->map, goodsender_clean_one, NULL);
	g->ndirty = 0;
	return 0;
}

size_t
goodsender_count(const struct goodsender *g)
{
	return g != NULL ? addrmap_count(g->map) : 0;
}

struct goodsender_top {
	struct store_good *out;
	size_t n, max;
};

/* Keep the max newest entries, newest first (insertion sort: max small). */
static int
goodsender_top_one(const struct addr *key, void *value, void *arg)
{
	struct goodsender_top *t = arg;
	const struct goodsender_ent *e = value;
	size_t i;

	(void)key;
	for (i = t->n; i > 0 && t->out[i - 1].last < e->g.last; i--) {
		if (i < t->max)
			t->out[i] = t->out[i - 1];
	}
	if (i < t->max) {
		t->out[i] = e->g;
		if (t->n < t->max)
			t->n++;
	}
	return 0;
}

size_t
goodsender_recent(
    const struct goodsender *g, struct store_good *out, size_t max)
{
	struct goodsender_top t = {out, 0, max};

	if (g == NULL || max == 0)
		return 0;
	addrmap_foreach(g->map, goodsender_top_one, &t);
	return t.n;
}
