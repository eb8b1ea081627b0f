/* Subnet escalation: when enough hosts of one prefix are banned, ban it. */
#ifndef JAILD_ESCALATE_H
#define JAILD_ESCALATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"

struct jail_ban;
struct jail_conf;
struct selfaddr;

struct escalate_conf {
	int threshold; /* distinct banned hosts; 0: never escalate */
	int prefix4; /* subnet.prefix4, 24 */
	int prefix6; /* subnet.prefix6, 64 */
	int64_t window; /* hosts banned within this many seconds count */
};

/* What the decision must never ban: ignoreip and the host's addresses. */
struct escalate_guard {
	const struct addr *ignore;
	size_t nignore;
	const struct selfaddr *self; /* NULL: ignoreself is off */
};

/* Read subnet.threshold, .prefix4, .prefix6 and .window of jc. */
int escalate_conf_load(
    const struct jail_conf *jc, struct escalate_conf *ec, char **cause);

/*
 * Decide whether banning host a (just banned, or about to be) should ban
 * its prefix instead: at least threshold distinct hosts of the prefix
 * among bans (a counted once) with start within window of now, and the
 * prefix neither banned already nor overlapping anything in guard.
 * Returns 1 and the prefix in *out, or 0.
 */
int escalate_decide(const struct escalate_conf *ec,
    struct jail_ban *const *bans, size_t n, const struct addr *a, time_t now,
    const struct escalate_guard *guard, struct addr *out);

/* True if b is a host ban inside prefix p that an escalation folds. */
int escalate_folds(const struct addr *p, const struct addr *b);

#endif
