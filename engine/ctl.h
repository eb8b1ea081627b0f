/* The control socket server: accept, frame, check peers, dispatch. */
#ifndef JAILD_CTL_H
#define JAILD_CTL_H

#include <sys/types.h>

#include <jansson.h>
#include <uv.h>

#define CTL_PRIVILEGED 0x1 /* uid 0 or a member of the ctl group */

/* What a handler knows of its caller. */
struct ctl_peer {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	int privileged;
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
 * are identified with SO_PEERCRED; group (or -1) may run privileged
 * commands besides root.  cmds ends with a {NULL} entry.
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

#endif
