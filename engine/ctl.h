/* The control socket server: accept, frame, check peers, dispatch. */
#ifndef JAILD_CTL_H
#define JAILD_CTL_H

#include <sys/types.h>

#include <stdint.h>

#include <jansson.h>
#include <uv.h>

/*
 * A command that changes state (ban, unban, reload): uid 0 or a member of
 * the admin group only.  Others are read-only and open to anyone who can
 * reach the socket (root and the socket's group).
 */
#define CTL_PRIVILEGED 0x1

/* What a handler knows of its caller. */
struct ctl_peer {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	int privileged; /* may run CTL_PRIVILEGED commands */
};

/*
 * A handler returns the reply's "result" (new reference) or NULL with
 * *code and *msg (allocated) set for an error reply.
 */
typedef json_t *(*ctl_handler)(void *arg, const struct ctl_peer *, json_t *args,
    const char **code, char **msg);

struct ctl_cmd {
	const char *name;
	ctl_handler handler;
	int flags;
};

struct ctl;

/*
 * Listen on path: refuse if a daemon already answers there, else unlink
 * and bind under umask 0117 (socket 0660, directory created 0750).  Peers
 * are identified with SO_PEERCRED; group (or -1) owns the socket, so its
 * members may connect and run read-only commands.  cmds ends with a {NULL}
 * entry.
 */
struct ctl *ctl_create(uv_loop_t *, const char *path, gid_t group,
    const struct ctl_cmd *cmds, void *arg, char **cause);
/* Close every client and the socket, and unlink it. */
void ctl_free(struct ctl *);
/*
 * Make group (or -1: root only) the control group from now on; the socket
 * and a directory of ours get it.  Clearing it leaves the files' group.
 */
int ctl_set_group(struct ctl *, gid_t group, char **cause);
unsigned ctl_clients(const struct ctl *);
/* Let members of group (-1: none) run CTL_PRIVILEGED commands too. */
void ctl_set_admin_group(struct ctl *, gid_t group);
/* Drop a client that sends no complete line for ms (default 10 s). */
void ctl_set_timeout(struct ctl *, uint64_t ms);
/*
 * Answer one decoded message as peer: look its "cmd" up in cmds, check
 * the peer may run it (admins names who else may, for the error), run the
 * handler with arg.  Any message, whatever its shape, gets a reply.
 */
json_t *ctl_dispatch(const struct ctl_cmd *cmds, void *arg,
    const struct ctl_peer *peer, const char *admins, const json_t *msg);

#endif
