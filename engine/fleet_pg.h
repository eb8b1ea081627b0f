/* fleet_pg: the fleet's worker thread, the only code that talks to libpq. */
#ifndef JAILD_FLEET_PG_H
#define JAILD_FLEET_PG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "fleet.h"

struct fleet_pg;

/*
 * Start the worker: it connects to url (retrying while it cannot),
 * creates or migrates the schema, sends what fleet_pg_send queues and
 * fetches every event after cursor.  It rings bell (uv_async_send) when
 * events arrived, were acknowledged, or the connection changed.
 */
struct fleet_pg *fleet_pg_start(const char *url, const char *node,
    const char *epoch, int64_t cursor, uv_async_t *bell, char **cause);
/* Stop the worker and wait for it (at most its network timeouts). */
void fleet_pg_stop(struct fleet_pg *);

/* Queue events (copied) to send, in order; seq (id) ascending. */
void fleet_pg_send(struct fleet_pg *, const struct fleet_event *v, size_t n);

/*
 * Take what the worker has for the loop: up to max incoming events
 * (the caller frees *v), and the highest seq PostgreSQL acknowledged.
 * Returns how many events; *more says whether some are left.
 */
size_t fleet_pg_take(struct fleet_pg *, struct fleet_event **v, size_t max,
    int64_t *acked, int *more);
/* Tell the worker the id applied last (reported to the other nodes). */
void fleet_pg_applied(struct fleet_pg *, int64_t id);
/* Whether connected now. */
int fleet_pg_connected(struct fleet_pg *);
/* The nodes as last read: [{node, last_seen, applied, behind}]. */
json_t *fleet_pg_nodes(struct fleet_pg *);

#endif
