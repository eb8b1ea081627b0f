/* daemon_private: struct daemon and what its four files share. */
#ifndef JAILD_DAEMON_PRIVATE_H
#define JAILD_DAEMON_PRIVATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <uv.h>

#include "daemon.h"

/* One followed file and the jails that read it. */
struct daemon_source {
	struct daemon *d;
	char *path;
	struct source *src;
	struct jail **jails;
	size_t njails;
	struct filter_set *set; /* every jail's literals, one pass a line */
	uint64_t saved_offset;
	uint64_t saved_inode;
	int fresh; /* appeared while running: read from its start */
};

/* One journal match (backend = systemd) and the jails that read it. */
struct daemon_journal {
	struct daemon_source ds; /* path: "journal:MATCH", the store key */
	struct journal *jr;
	char *saved; /* the cursor last written to the store */
};

/*
 * One store write of a loop turn.  Writes are recorded during the turn and
 * replayed in one transaction at its end; a failed commit (disk full)
 * keeps them for the next try.  New bans get temporary negative ids until
 * their insert is committed.
 */
enum daemon_op_kind {
	DAEMON_OP_INSERT,
	DAEMON_OP_LIFT,
	DAEMON_OP_SET_END,
	DAEMON_OP_POS,
};

struct daemon_op {
	enum daemon_op_kind kind;
	struct store_ban ban; /* INSERT: the row, ban.id its temporary id */
	int64_t id; /* LIFT, SET_END: the ban (negative: temporary) */
	int64_t real; /* INSERT: the id the store gave, once replayed */
	time_t when; /* LIFT: when; SET_END: the new end */
	char by[32]; /* LIFT */
	char *path; /* POS */
	uint64_t inode, offset, headhash; /* POS */
};

/* An action call waiting for the store's commit. */
struct daemon_pending {
	struct jail *jail;
	struct jail_ban ban;
	int unban;
	char *matches;
};

struct daemon {
	uv_loop_t *loop;
	struct daemon_opts opts;
	struct config *config;
	/*
	 * The actions of jails a reload replaced whose actionstop (or a
	 * retried command) still runs: a reference each, dropped when idle.
	 */
	struct action **retiring;
	size_t nretiring;
	struct store *store;
	struct ctl *ctl;
	struct jail **jails;
	size_t njails;
	struct daemon_source **sources;
	size_t nsources;
	struct banq *banq;
	struct daemon_pending *pending;
	size_t npending, cpending;
	struct daemon_op *ops; /* store writes not yet committed */
	size_t nops, cops;
	size_t *ins; /* during a replay: indices of the INSERT ops */
	int64_t next_temp; /* the next temporary ban id, negative */
	int store_down; /* a commit failed; ops are kept and retried */
	time_t store_down_since;
	uv_timer_t store_check; /* the database's path still names it? */
	int store_lost; /* it does not, and could not be put back */
	int store_partial; /* the store may lack bans the kernel holds */
	uv_timer_t store_retry, purge;
	uv_timer_t sweep; /* forgets failures older than findtime */
	struct selfaddr *self; /* the host's addresses, for ignoreself */
	uv_timer_t expiry;
	uv_prepare_t turn_end;
	uv_signal_t sig_hup, sig_term, sig_int;
	uv_timer_t hup; /* SIGHUPs of one loop turn make one reload */
	time_t started;
	int stopping;
	struct daemon_journal **journals;
	size_t njournals;
	uv_timer_t globs; /* re-expands logpath globs */
	int globs_on;
	struct service_pidfile *pidfile;
	struct metrics *metrics;
	char *restart_needed; /* [jaild] keys the last reload left alone */
	struct fleet *fleet; /* [fleet], or NULL */
};

/* daemon.c: the life cycle, bans and the end of a turn. */
struct jail **daemon_jails_build(uv_loop_t *loop, const struct config *cf,
    size_t *n, struct conf_errors *errs);
void daemon_jails_free(struct jail **v, size_t n);
void daemon_turn_flush(struct daemon *d);
void daemon_arm_expiry(struct daemon *d);
int daemon_actions_start(
    struct daemon *d, struct jail **v, size_t n, char **cause);
void daemon_self_attach(struct daemon *d, struct jail **v, size_t n);
void daemon_apply_jaild(struct daemon *d, const struct config *old);

/* daemon_store.c: the store writes recorded during a turn. */
void daemon_store_op_insert(struct daemon *d, struct store_ban *b);
void daemon_store_op_update(
    struct daemon *d, int64_t id, time_t when, const char *by);
void daemon_store_flush(struct daemon *d);
void daemon_store_purge_cb(uv_timer_t *h);
void daemon_store_positions_save(struct daemon *d);
void daemon_store_final(struct daemon *d);
void daemon_store_watch(struct daemon *d);
int daemon_store_check(struct daemon *d);

/* daemon_reload.c: actions left running by a reload. */
void daemon_reload_reap(struct daemon *d);
void daemon_reload_reap_all(struct daemon *d);

/* daemon_source.c: log files, journals and logpath globs. */
void daemon_source_create_all(struct daemon *d);
void daemon_source_free_all(struct daemon *d);
void daemon_source_journals_save(struct daemon *d);
struct daemon_source_count {
	char *path;
	struct source_stats stats;
};
struct daemon_source_count *daemon_source_counts(
    const struct daemon *d, size_t *n);
void daemon_source_counts_restore(
    struct daemon *d, struct daemon_source_count *v, size_t n);

#endif
