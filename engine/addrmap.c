/* A chained hash map from address to value, grown as it fills. */
#include <stdlib.h>
#include <string.h>

#include "addrmap.h"
#include "xmalloc.h"

struct addrmap_node {
	struct addr key;
	void *value;
	struct addrmap_node *next;
};

struct addrmap {
	struct addrmap_node **buckets;
	size_t nbuckets; /* a power of two */
	size_t count;
	void (*free_value)(void *);
};

struct addrmap *
addrmap_create(void (*free_value)(void *))
{
	struct addrmap *m;

	m = xcalloc(1, sizeof *m);
	m->nbuckets = 64;
	m->buckets = xcalloc(m->nbuckets, sizeof *m->buckets);
	m->free_value = free_value;
	return m;
}

/* Free one node and, through the map's destructor, its value. */
static void
addrmap_node_free(struct addrmap *m, struct addrmap_node *n)
{
	if (m->free_value != NULL)
		m->free_value(n->value);
	free(n);
}

void
addrmap_free(struct addrmap *m)
{
	struct addrmap_node *n, *next;
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nbuckets; i++) {
		for (n = m->buckets[i]; n != NULL; n = next) {
			next = n->next;
			addrmap_node_free(m, n);
		}
	}
	free(m->buckets);
	free(m);
}

static size_t
addrmap_slot(const struct addrmap *m, const struct addr *a)
{
	return addr_hash(a) & (m->nbuckets - 1);
}

/* Double the bucket array when the load passes one entry per bucket. */
static void
addrmap_grow(struct addrmap *m)
{
	struct addrmap_node **old = m->buckets, *n, *next;
	size_t oldn = m->nbuckets, i, slot;

	m->nbuckets *= 2;
	m->buckets = xcalloc(m->nbuckets, sizeof *m->buckets);
	for (i = 0; i < oldn; i++) {
		for (n = old[i]; n != NULL; n = next) {
			next = n->next;
			slot = addrmap_slot(m, &n->key);
			n->next = m->buckets[slot];
			m->buckets[slot] = n;
		}
	}
	free(old);
}

void *
addrmap_get(const struct addrmap *m, const struct addr *a)
{
	struct addrmap_node *n;

	for (n = m->buckets[addrmap_slot(m, a)]; n != NULL; n = n->next) {
		if (addr_equal(&n->key, a))
			return n->value;
	}
	return NULL;
}

void
addrmap_put(struct addrmap *m, const struct addr *a, void *value)
{
	struct addrmap_node *n;
	size_t slot = addrmap_slot(m, a);

	for (n = m->buckets[slot]; n != NULL; n = n->next) {
		if (addr_equal(&n->key, a)) {
			if (n->value != value && m->free_value != NULL)
				m->free_value(n->value);
			n->value = value;
			return;
		}
	}
	n = xmalloc(sizeof *n);
	n->key = *a;
	n->value = value;
	n->next = m->buckets[slot];
	m->buckets[slot] = n;
	if (++m->count > m->nbuckets)
		addrmap_grow(m);
}

int
addrmap_del(struct addrmap *m, const struct addr *a)
{
	struct addrmap_node **np, *n;

	for (np = &m->buckets[addrmap_slot(m, a)]; *np != NULL;
	     np = &(*np)->next) {
		n = *np;
		if (addr_equal(&n->key, a)) {
			*np = n->next;
			addrmap_node_free(m, n);
			m->count--;
			return 0;
		}
	}
	return -1;
}

size_t
addrmap_count(const struct addrmap *m)
{
	return m->count;
}

void
addrmap_foreach(struct addrmap *m,
    int (*fn)(const struct addr *, void *value, void *arg), void *arg)
{
	struct addrmap_node **np, *n;
	size_t i;

	for (i = 0; i < m->nbuckets; i++) {
		np = &m->buckets[i];
		while ((n = *np) != NULL) {
			if (fn(&n->key, n->value, arg)) {
				*np = n->next;
				addrmap_node_free(m, n);
				m->count--;
			} else
				np = &n->next;
		}
	}
}
