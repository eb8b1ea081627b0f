/* The host's own addresses, read from its interfaces (ignoreself). */
#ifndef JAILD_SELFADDR_H
#define JAILD_SELFADDR_H

#include <stddef.h>

#include "addr.h"

struct selfaddr;

/* Read the interfaces' addresses now (getifaddrs), or NULL with *cause. */
struct selfaddr *selfaddr_create(char **cause);
/* A fixed set, for tests and for hosts without getifaddrs. */
struct selfaddr *selfaddr_create_from(const struct addr *v, size_t n);
void selfaddr_free(struct selfaddr *);

/* Re-read the interfaces; on failure the old set is kept. */
int selfaddr_refresh(struct selfaddr *, char **cause);

size_t selfaddr_count(const struct selfaddr *);
const struct addr *selfaddr_get(const struct selfaddr *, size_t i);
/*
 * True if a (a host or a prefix) is one of the host's addresses or
 * contains one.  A NULL set contains nothing.
 */
int selfaddr_covers(const struct selfaddr *, const struct addr *a);

#endif
