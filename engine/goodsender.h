/* Good senders: hosts that completed a transaction, kept per jail. */
#ifndef JAILD_GOODSENDER_H
#define JAILD_GOODSENDER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "store.h"

struct goodsender;

/* An empty memory for jail that forgets a sender unseen for keep s. */
struct goodsender *goodsender_create(const char *jail, int64_t keep);
void goodsender_free(struct goodsender *);

/* Learn the jail's good senders seen within keep from the store. */
int goodsender_load(struct goodsender *, struct store *, time_t now);

/* a completed a transaction at when: remember it (written later). */
void goodsender_add(struct goodsender *, const struct addr *a, time_t when);

/* Whether host a is a good sender. */
int goodsender_is(const struct goodsender *, const struct addr *a);

/* Whether any good sender lies within prefix p. */
int goodsender_within(const struct goodsender *, const struct addr *p);

/*
 * Write what was learned since the last save, and forget (in memory and
 * in the store) senders unseen for keep, in one transaction.  On failure
 * what was learned stays to be written next time.
 */
int goodsender_save(struct goodsender *, struct store *, time_t now);

size_t goodsender_count(const struct goodsender *);

/* The up to max most recently seen senders, newest first, into out. */
size_t goodsender_recent(
    const struct goodsender *, struct store_good *out, size_t max);

#endif
