/* Filter sets: the filters reading one log share a single literal pass. */
#ifndef JAILD_FILTER_SET_H
#define JAILD_FILTER_SET_H

#include <stddef.h>
#include <stdint.h>

#include "filter.h"

struct filter_set;

/*
 * A set of filters that see the same lines.  filter_set_scan looks for
 * every literal of every filter in one pass over the line (instead of one
 * pass per regex per filter); filter_set_mask then gives each filter the
 * mask filter_match_mask wants.  Filters are borrowed: they must outlive
 * the set.
 */
struct filter_set *filter_set_create(void);
void filter_set_free(struct filter_set *);

/* Add f (may be NULL: its mask is then 0); returns its slot. */
size_t filter_set_add(struct filter_set *, struct filter *f);
size_t filter_set_size(const struct filter_set *);

/* Look for every literal in line[0..len); call before filter_set_mask. */
void filter_set_scan(struct filter_set *, const char *line, size_t len);

/*
 * Find a place in buf[0..len) (many lines) near which some literal of
 * the set occurs: the returned pointer lies within the occurrence (at
 * one of its anchors), so the line around it holds a literal.  NULL if
 * none does.  Lines without one need no look when filter_set_prefilterable.
 */
const char *filter_set_find(struct filter_set *, const char *buf, size_t len);
int filter_set_prefilterable(const struct filter_set *);

/* The mask of slot for the line scanned last (FILTER_MASK_ALL if the
 * filter is not prefilterable). */
uint64_t filter_set_mask(const struct filter_set *, size_t slot);

#endif
