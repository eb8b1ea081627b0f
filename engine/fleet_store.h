/* fleet_store: the fleet's outbox in the local SQLite store. */
#ifndef JAILD_FLEET_STORE_H
#define JAILD_FLEET_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "fleet.h"

struct fleet_store;
struct store;

/* Prepare the outbox statements on st's database (borrowed). */
struct fleet_store *fleet_store_open(struct store *st, char **cause);
void fleet_store_close(struct fleet_store *);

/* Add e to the outbox, in the open transaction; sets e->id (its seq). */
int fleet_store_outbox_add(struct fleet_store *, struct fleet_event *e);
/* Drop the events PostgreSQL acknowledged (seq <= upto). */
int fleet_store_outbox_drop(struct fleet_store *, int64_t upto);
/* Every event still in the outbox, seq ascending; the caller frees *v. */
int fleet_store_outbox_load(
    struct fleet_store *, struct fleet_event **v, size_t *n);
/* The reason of the last failure. */
const char *fleet_store_errmsg(struct fleet_store *);

#endif
