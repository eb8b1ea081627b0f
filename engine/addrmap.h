/* A hash map from address (host or prefix) to a value. */
#ifndef JAILD_ADDRMAP_H
#define JAILD_ADDRMAP_H

#include <stddef.h>

#include "addr.h"

struct addrmap;

/* free_value, if not NULL, is called on values the map drops. */
struct addrmap *addrmap_create(void (*free_value)(void *));
void addrmap_free(struct addrmap *);

void *addrmap_get(const struct addrmap *, const struct addr *);
/* Insert or replace; the map owns value. */
void addrmap_put(struct addrmap *, const struct addr *, void *value);
/* Remove and free; returns 0, or -1 if absent. */
int addrmap_del(struct addrmap *, const struct addr *);
size_t addrmap_count(const struct addrmap *);

/* Call fn on every entry; fn returns non-zero to delete that entry. */
void addrmap_foreach(struct addrmap *,
    int (*fn)(const struct addr *, void *value, void *arg), void *arg);

#endif
