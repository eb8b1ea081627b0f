/* The expiry heap: every timed ban, earliest end first. */
#ifndef JAILD_BANQ_H
#define JAILD_BANQ_H

#include <stddef.h>
#include <time.h>

#include "addr.h"

struct banq_entry {
	time_t end;
	void *owner; /* the jail */
	struct addr addr;
};

struct banq;

struct banq *banq_create(void);
void banq_free(struct banq *);
void banq_push(struct banq *, time_t end, void *owner, const struct addr *);
/* The earliest end, or 0 if empty. */
time_t banq_next(const struct banq *);
/* Pop one entry whose end <= now; returns 0, or -1 when none is due. */
int banq_pop_expired(struct banq *, time_t now, struct banq_entry *out);
size_t banq_count(const struct banq *);

#endif
