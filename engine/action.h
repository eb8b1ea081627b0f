/* Actions: what a jail does to ban and unban, shell or native. */
#ifndef JAILD_ACTION_H
#define JAILD_ACTION_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <uv.h>

#include "addr.h"
#include "config.h"

/* What an action is told about one ban. */
struct action_ban {
	const char *jail;
	struct addr addr;
	time_t start;
	time_t end; /* 0: permanent */
	int failures;
	const char *reason;
	const char *matches; /* the matched lines, '\n'-separated, or NULL */
};

struct action;

struct action_ops {
	const char *name;
	/* Prepare (actionstart, create sets); errors name jail and action. */
	int (*start)(struct action *, char **cause);
	/* Tear down at a clean stop (actionstop). */
	void (*stop)(struct action *);
	/* Queue or run a ban/unban; failures are retried, not returned. */
	void (*ban)(struct action *, const struct action_ban *);
	void (*unban)(struct action *, const struct action_ban *);
	/* At start: make the firewall hold exactly these active bans. */
	void (*restore)(struct action *, const struct action_ban *, size_t n);
	/* End of a loop turn: send what was queued (one batch). */
	void (*flush)(struct action *);
	/*
	 * Report a saturation episode (actionnotify); not retried.  NULL
	 * for an action that cannot notify (the native nftables one).
	 */
	void (*notify)(struct action *, const struct action_ban *);
	void (*free)(struct action *);
};

struct action_stats {
	uint64_t bans;
	uint64_t unbans;
	uint64_t failures; /* commands that failed or timed out */
	uint64_t evicted; /* sockets destroyed (native evict) */
	uint64_t notifies; /* actionnotify commands that succeeded */
};

/*
 * Counted: its jail holds it, and so does the daemon while a retired
 * jail's actionstop runs.  It holds a reference on the config its conf
 * and jail point into (none for a jail_conf made by hand, as in tests).
 */
struct action {
	int references;
	const struct action_ops *ops;
	const struct action_conf *conf; /* in config */
	const struct jail_conf *jail; /* in config */
	struct config *config; /* a reference, or NULL */
	/*
	 * Set by the daemon when the store may lack bans (it is new, or was
	 * written back from memory): restore then adds and never removes.
	 */
	int keep_unknown;
	uv_loop_t *loop;
	struct action_stats stats;
	void *impl;
};

/*
 * Make the action conf describes, for jail: a shell action, or the native
 * one its file names.  Returns NULL with *cause naming jail and action.
 */
struct action *action_create(uv_loop_t *, const struct action_conf *,
    const struct jail_conf *, char **cause);
/* Take another reference; returns a. */
struct action *action_ref(struct action *a);
/*
 * Drop a reference; the last one releases the action, killing a shell
 * command still running.  action_free is the same.
 */
void action_unref(struct action *);
void action_free(struct action *);
/* Whether commands are queued or running (an actionstop included). */
int action_busy(const struct action *);

/* Implementations. */
extern const struct action_ops action_shell_ops;
extern const struct action_ops action_nft_ops;

#endif
