/* The control socket server: accept, frame, check peers, dispatch. */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef HAVE_BSD_UNISTD_H
#include <bsd/unistd.h> /* getpeereid, where libbsd provides it */
#endif

#include <jansson.h>
#include <uv.h>

#include "ctl.h"
#include "ctl_proto.h"
#include "log.h"
#include "xmalloc.h"

#define CTL_MAXCLIENTS 64
#define CTL_ROOTSLOTS 4 /* of CTL_MAXCLIENTS, kept for root */
#define CTL_MAXQUEUE (1024 * 1024) /* unsent output before a drop */
#define CTL_BACKLOG 16
#define CTL_TIMEOUT_MS 10000 /* to send each complete request line */
#define CTL_BATCH 8 /* lines answered per client per loop turn */
#define CTL_PAUSEQUEUE (64 * 1024) /* unsent output that pauses a client */

struct ctl_client {
	struct ctl *ctl;
	uv_pipe_t pipe;
	uv_timer_t timer; /* drops a client that sends no whole line */
	size_t unsent; /* output queued at the last tick, SIZE_MAX: none */
	int nhandles; /* pipe and timer; freed when both are closed */
	int backlog; /* whole lines wait in buf: reading is stopped */
	struct ctl_peer peer;
	char *buf; /* CTL_PROTO_MAXLINE bytes of a partial line */
	size_t len;
	int closing;
	int counted; /* holds one of the CTL_MAXCLIENTS places */
	LIST_ENTRY(ctl_client) entry;
};

struct ctl_write {
	uv_write_t req;
	char *data;
};

struct ctl {
	uv_loop_t *loop;
	uv_pipe_t server;
	uv_idle_t idle; /* answers the lines of backlogged clients */
	char *path;
	gid_t group;
	char *group_name;
	gid_t admin; /* may run CTL_PRIVILEGED commands besides root */
	char *admin_name;
	uint64_t timeout_ms;
	const struct ctl_cmd *cmds;
	void *arg;
	unsigned nclients;
	unsigned nplain; /* clients that are not root */
	unsigned nhandles; /* open uv handles; ctl is freed at zero */
	int freed;
	LIST_HEAD(, ctl_client) clients;
};

static void ctl_client_close(struct ctl_client *);
static void ctl_client_lines(struct ctl_client *);
static void ctl_client_read(uv_stream_t *, ssize_t, const uv_buf_t *);
static void ctl_client_alloc(uv_handle_t *, size_t, uv_buf_t *);

/* Count a handle closed; release ctl once ctl_free ran and all are gone. */
static void
ctl_handle_gone(struct ctl *ctl)
{
	ctl->nhandles--;
	if (!ctl->freed || ctl->nhandles != 0)
		return;
	free(ctl->path);
	free(ctl->group_name);
	free(ctl->admin_name);
	free(ctl);
}

/*
 * Give an existing socket directory the control group, if it is ours (not
 * a shared one like /tmp: owned by us, not writable by others).
 */
static int
ctl_dir_group(const char *dir, gid_t group, char **cause)
{
	struct stat sb;

	if (group == (gid_t)-1 || stat(dir, &sb) != 0 ||
	    sb.st_uid != geteuid() || (sb.st_mode & S_IWOTH) != 0 ||
	    sb.st_gid == group)
		return 0;
	if (chown(dir, (uid_t)-1, group) != 0) {
		xasprintf(cause, "%s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* Create the socket's directory (last component only) as 0750. */
static int
ctl_mkdir(const char *path, gid_t group, char **cause)
{
	char *dir, *slash;
	int rc = -1;

	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir) {
		free(dir);
		return 0;
	}
	*slash = '\0';
	if (mkdir(dir, 0750) != 0) {
		if (errno == EEXIST) {
			rc = ctl_dir_group(dir, group, cause);
			goto out;
		}
		xasprintf(cause, "mkdir %s: %s", dir, strerror(errno));
		goto out;
	}
	/* mkdir is subject to the umask; the mode is part of the contract. */
	if (chmod(dir, 0750) != 0 ||
	    (group != (gid_t)-1 && chown(dir, (uid_t)-1, group) != 0)) {
		xasprintf(cause, "%s: %s", dir, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(dir);
	return rc;
}

/* Return 1 if a server answers at path, 0 if none (stale or absent). */
static int
ctl_answers(const struct sockaddr_un *sun, char **cause)
{
	struct stat sb;
	int fd, rc, saved;

	if (lstat(sun->sun_path, &sb) != 0) {
		if (errno == ENOENT)
			return 0;
		xasprintf(cause, "%s: %s", sun->sun_path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(sb.st_mode)) {
		xasprintf(
		    cause, "%s exists and is not a socket", sun->sun_path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		return -1;
	}
	rc = connect(fd, (const struct sockaddr *)sun, sizeof *sun);
	saved = errno;
	close(fd);
	/* EAGAIN: a listener whose backlog is full is still a listener. */
	if (rc == 0 || saved == EAGAIN || saved == EINPROGRESS)
		return 1;
	if (saved == ECONNREFUSED || saved == ENOENT)
		return 0;
	xasprintf(cause, "connect %s: %s", sun->sun_path, strerror(saved));
	return -1;
}

/* Bind and listen on path (socket 0660, group-owned); return the fd. */
static int
ctl_bind(const char *path, gid_t group, char **cause)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd = -1, rc;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		xasprintf(cause, "socket path too long: %s", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if (ctl_mkdir(path, group, cause) != 0)
		return -1;
	rc = ctl_answers(&sun, cause);
	if (rc != 0) {
		if (rc == 1)
			xasprintf(cause,
			    "jaild is already running (socket %s "
			    "answers)",
			    path);
		return -1;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		xasprintf(cause, "unlink %s: %s", path, strerror(errno));
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		return -1;
	}
	old = umask(0117);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof sun);
	umask(old);
	if (rc != 0) {
		xasprintf(cause, "bind %s: %s", path, strerror(errno));
		goto fail;
	}
	if ((group != (gid_t)-1 && chown(path, (uid_t)-1, group) != 0) ||
	    listen(fd, CTL_BACKLOG) != 0) {
		xasprintf(cause, "%s: %s", sun.sun_path, strerror(errno));
		unlink(sun.sun_path);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

#ifdef HAVE_SO_PEERCRED
/* Whether the peer on fd (uid, gid) is a member of group; -1: no group. */
static int
ctl_peer_in_group(int fd, uid_t uid, gid_t gid, gid_t group)
{
	gid_t small[64], *groups = small;
	socklen_t len = sizeof small;
	size_t i, n;
	int found = 0;

	(void)uid;
	if (group == (gid_t)-1)
		return 0;
	if (gid == group)
		return 1;
	/* SO_PEERGROUPS (Linux 4.13) is taken at connect(), so no race. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) != 0) {
		if (errno != ERANGE)
			return 0;
		groups = xmalloc(len);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) !=
		    0) {
			free(groups);
			return 0;
		}
	}
	n = len / sizeof *groups;
	for (i = 0; i < n && !found; i++)
		found = groups[i] == group;
	if (groups != small)
		free(groups);
	return found;
}
#else
/*
 * Whether the peer (uid, gid) is a member of group; -1: no group.  Without
 * SO_PEERGROUPS the group database says which groups the uid has.
 */
static int
ctl_peer_in_group(int fd, uid_t uid, gid_t gid, gid_t group)
{
	gid_t groups[256];
	struct passwd *pw;
	int i, n = 256;

	(void)fd;
	if (group == (gid_t)-1)
		return 0;
	if (gid == group)
		return 1;
	if ((pw = getpwuid(uid)) == NULL)
		return 0;
	if (getgrouplist(pw->pw_name, gid, groups, &n) == -1)
		return 0;
	for (i = 0; i < n; i++)
		if (groups[i] == group)
			return 1;
	return 0;
}
#endif

/* Read the uid, gid and (where the system tells) pid of fd's peer. */
static int
ctl_client_cred(int fd, uid_t *uid, gid_t *gid, pid_t *pid)
{
#ifdef HAVE_SO_PEERCRED
	struct ucred uc;
	socklen_t len = sizeof uc;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) != 0)
		return -1;
	*uid = uc.uid;
	*gid = uc.gid;
	*pid = uc.pid;
	return 0;
#else
	*pid = -1; /* getpeereid gives none: logs show pid -1 */
	return getpeereid(fd, uid, gid);
#endif
}

/* Fill c->peer from the socket's peer credentials. */
static int
ctl_client_peer(struct ctl_client *c)
{
	uv_os_fd_t fd;

	if (uv_fileno((uv_handle_t *)&c->pipe, &fd) != 0)
		return -1;
	if (ctl_client_cred(fd, &c->peer.uid, &c->peer.gid, &c->peer.pid) != 0)
		return -1;
	/* The socket's group reads; only root and the admin group change. */
	c->peer.privileged =
	    c->peer.uid == 0 ||
	    ctl_peer_in_group(fd, c->peer.uid, c->peer.gid, c->ctl->admin);
	return 0;
}

/* Free a client once libuv has closed its pipe and its timer. */
static void
ctl_client_closed(uv_handle_t *h)
{
	struct ctl_client *c = h->data;
	struct ctl *ctl = c->ctl;

	if (--c->nhandles == 0) {
		LIST_REMOVE(c, entry);
		free(c->buf);
		free(c);
	}
	ctl_handle_gone(ctl);
}

/* Close a client at once; pending writes are cancelled. */
static void
ctl_client_close(struct ctl_client *c)
{
	/*
	 * Give the place back now, not in the close callbacks a turn later:
	 * a flood of refused clients must not fill the table and lock root
	 * out meanwhile.
	 */
	if (c->counted) {
		c->counted = 0;
		c->ctl->nclients--;
		if (c->peer.uid != 0)
			c->ctl->nplain--;
	}
	c->closing = 1;
	if (uv_is_closing((uv_handle_t *)&c->pipe))
		return;
	uv_read_stop((uv_stream_t *)&c->pipe);
	uv_close((uv_handle_t *)&c->pipe, ctl_client_closed);
	uv_close((uv_handle_t *)&c->timer, ctl_client_closed);
}

/*
 * Drop a client that sent no whole line in time: idle or slowloris.  One
 * still reading a long reply is kept while the reply drains.
 */
static void
ctl_client_timeout(uv_timer_t *t)
{
	struct ctl_client *c = t->data;
	size_t unsent;

	unsent = uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe);
	if (unsent > 0 && unsent < c->unsent) {
		c->unsent = unsent;
		return;
	}
	if (unsent > 0)
		log_warnx("ctl: dropping client pid %ld uid %lu: it does not "
		          "read its replies",
		    (long)c->peer.pid, (unsigned long)c->peer.uid);
	else
		log_info("ctl: dropping client pid %ld uid %lu: no complete "
		         "request in %llu ms",
		    (long)c->peer.pid, (unsigned long)c->peer.uid,
		    (unsigned long long)c->ctl->timeout_ms);
	ctl_client_close(c);
}

static void
ctl_client_shutdown_done(uv_shutdown_t *req, int status)
{
	struct ctl_client *c = req->handle->data;

	free(req);
	ctl_client_close(c);
}

/* Stop reading, let queued replies drain, then close. */
static void
ctl_client_finish(struct ctl_client *c)
{
	uv_shutdown_t *req;

	c->closing = 1;
	uv_read_stop((uv_stream_t *)&c->pipe);
	req = xmalloc(sizeof *req);
	if (uv_shutdown(
	        req, (uv_stream_t *)&c->pipe, ctl_client_shutdown_done) != 0) {
		free(req);
		ctl_client_close(c);
	}
}

/* Tell whether c has so much output queued that it is not served. */
static int
ctl_client_full(struct ctl_client *c)
{
	return uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) >
	       CTL_PAUSEQUEUE;
}

/* Answer a batch of each backlogged client's lines, round robin. */
static void
ctl_idle_cb(uv_idle_t *h)
{
	struct ctl *ctl = h->data;
	struct ctl_client *c;
	int again = 0;

	/* Closing only marks a client: it stays in the list till freed. */
	LIST_FOREACH(c, &ctl->clients, entry)
	{
		if (!c->backlog || c->closing || ctl_client_full(c))
			continue;
		ctl_client_lines(c);
		again |= c->backlog && !c->closing && !ctl_client_full(c);
	}
	if (!again)
		uv_idle_stop(h);
}

static void
ctl_client_written(uv_write_t *req, int status)
{
	struct ctl_write *w = (struct ctl_write *)req;
	struct ctl_client *c = req->handle->data;

	free(w->data);
	free(w);
	/* Its replies drained: serve the lines it has waiting. */
	if (c->backlog && !c->closing && !c->ctl->freed && !ctl_client_full(c))
		uv_idle_start(&c->ctl->idle, ctl_idle_cb);
}

/* Queue one reply; a client that does not read its replies is dropped. */
static void
ctl_client_send(struct ctl_client *c, json_t *reply)
{
	uv_stream_t *s = (uv_stream_t *)&c->pipe;
	struct ctl_write *w;
	uv_buf_t buf;
	char *line;

	if (c->closing)
		return;
	line = reply != NULL ? ctl_proto_encode_max(reply, CTL_PROTO_MAXREPLY)
	                     : NULL;
	if (line == NULL)
		line = xstrdup("{\"v\":1,\"id\":0,\"ok\":false,\"error\":{"
		               "\"code\":\"internal\",\"msg\":\"reply could "
		               "not be encoded\"}}\n");
	if (uv_stream_get_write_queue_size(s) > CTL_MAXQUEUE) {
		log_warnx("ctl: dropping client pid %ld uid %lu: it does not "
		          "read its replies",
		    (long)c->peer.pid, (unsigned long)c->peer.uid);
		free(line);
		ctl_client_close(c);
		return;
	}
	w = xmalloc(sizeof *w);
	w->data = line;
	buf = uv_buf_init(line, (unsigned)strlen(line));
	if (uv_write(&w->req, s, &buf, 1, ctl_client_written) != 0) {
		free(line);
		free(w);
		ctl_client_close(c);
	}
}

/* Build the reply to a line that failed to decode: version or syntax. */
static json_t *
ctl_client_bad(const char *line, size_t len, const char *cause)
{
	json_t *msg, *v;
	json_int_t id = 0;
	const char *code = "bad-request";

	msg = json_loadb(line, len, 0, NULL);
	if (json_is_object(msg)) {
		if (json_is_integer(json_object_get(msg, "id")))
			id = json_integer_value(json_object_get(msg, "id"));
		v = json_object_get(msg, "v");
		if (!json_is_integer(v) ||
		    json_integer_value(v) != CTL_PROTO_VERSION)
			code = "version";
	}
	json_decref(msg);
	return ctl_proto_reply_error((long)id, code, "%s", cause);
}

/* Find a command by name in the table; NULL for none (or no name). */
static const struct ctl_cmd *
ctl_cmd_lookup(const struct ctl_cmd *cmds, const char *name)
{
	const struct ctl_cmd *cmd;

	if (name == NULL)
		return NULL;
	for (cmd = cmds; cmd->name != NULL; cmd++) {
		if (strcmp(cmd->name, name) == 0)
			return cmd;
	}
	return NULL;
}

/* Say who may run a privileged command. */
static json_t *
ctl_denied(
    const struct ctl_peer *peer, const char *admins, long id, const char *name)
{
	log_info("ctl: denied \"%s\" to uid %lu pid %ld", name,
	    (unsigned long)peer->uid, (long)peer->pid);
	if (admins == NULL)
		return ctl_proto_reply_error(id, "permission",
		    "\"%s\" changes state and may only be run by root "
		    "(see ctl_admin_group in jaild.conf(5))",
		    name);
	return ctl_proto_reply_error(id, "permission",
	    "\"%s\" may only be run by root or members of group %s", name,
	    admins);
}

/*
 * Check and run one decoded request; return the reply.  msg need not have
 * passed ctl_proto_decode_request: whatever its shape, the answer is an
 * error reply, never a crash.
 */
json_t *
ctl_dispatch(const struct ctl_cmd *cmds, void *arg, const struct ctl_peer *peer,
    const char *admins, const json_t *msg)
{
	const struct ctl_cmd *cmd;
	const char *name, *code = NULL;
	char safe[128], *emsg = NULL;
	json_t *args, *result, *reply;
	long id;

	id = (long)json_integer_value(json_object_get(msg, "id"));
	if ((name = json_string_value(json_object_get(msg, "cmd"))) == NULL)
		return ctl_proto_reply_error(
		    id, "bad-request", "\"cmd\" is missing or not a string");
	args = json_object_get(msg, "args");
	if (args != NULL && !json_is_object(args))
		return ctl_proto_reply_error(
		    id, "bad-request", "\"args\" is not an object");
	if ((cmd = ctl_cmd_lookup(cmds, name)) == NULL) {
		log_escape(name, strlen(name), safe, sizeof safe);
		return ctl_proto_reply_error(
		    id, "unknown-command", "unknown command \"%s\"", safe);
	}
	if ((cmd->flags & CTL_PRIVILEGED) && !peer->privileged)
		return ctl_denied(peer, admins, id, cmd->name);
	args = args != NULL ? json_incref(args) : json_object();
	log_debug("ctl: uid %lu pid %ld: %s", (unsigned long)peer->uid,
	    (long)peer->pid, cmd->name);
	result = cmd->handler(arg, peer, args, &code, &emsg);
	json_decref(args);
	if (result != NULL)
		return ctl_proto_reply_ok(id, result);
	reply = ctl_proto_reply_error(id, code != NULL ? code : "failed", "%s",
	    emsg != NULL ? emsg : "command failed");
	free(emsg);
	return reply;
}

/* Answer one line: decode, dispatch, queue the reply. */
static void
ctl_client_request(struct ctl_client *c, const char *line, size_t len)
{
	json_t *msg, *reply;
	char *cause = NULL;

	msg = ctl_proto_decode_request(line, len, &cause);
	if (msg == NULL) {
		reply = ctl_client_bad(line, len, cause);
		free(cause);
	} else {
		reply = ctl_dispatch(c->ctl->cmds, c->ctl->arg, &c->peer,
		    c->ctl->admin_name, msg);
		json_decref(msg);
	}
	ctl_client_send(c, reply);
	json_decref(reply);
}

/*
 * Stop reading c while whole lines wait in its buffer; the idle handle
 * (or, once its replies drain, the write callback) answers them.
 */
static void
ctl_client_backlog(struct ctl_client *c, int waiting)
{
	if (waiting && !c->backlog) {
		c->backlog = 1;
		uv_read_stop((uv_stream_t *)&c->pipe);
	} else if (!waiting && c->backlog) {
		c->backlog = 0;
		if (uv_read_start((uv_stream_t *)&c->pipe, ctl_client_alloc,
		        ctl_client_read) != 0)
			ctl_client_close(c);
		return;
	}
	if (waiting && !ctl_client_full(c))
		uv_idle_start(&c->ctl->idle, ctl_idle_cb);
}

/*
 * Answer up to CTL_BATCH complete lines, and none while the client's
 * replies pile up: a client pipelining requests gets its turn like the
 * others, so a flood cannot keep root's request waiting.  Refuse an
 * overlong line.
 */
static void
ctl_client_lines(struct ctl_client *c)
{
	size_t start = 0, n;
	char *nl;
	json_t *reply;
	int done = 0;

	while (!c->closing && done < CTL_BATCH && !ctl_client_full(c) &&
	       (nl = memchr(c->buf + start, '\n', c->len - start)) != NULL) {
		n = (size_t)(nl - (c->buf + start)) + 1;
		if (n > 1 && !(n == 2 && c->buf[start] == '\r'))
			ctl_client_request(c, c->buf + start, n);
		start += n;
		done++;
	}
	if (c->closing)
		return;
	/* Only a whole line buys more time: a trickle of bytes does not. */
	if (start > 0) {
		c->unsent = SIZE_MAX;
		uv_timer_again(&c->timer);
	}
	memmove(c->buf, c->buf + start, c->len - start);
	c->len -= start;
	ctl_client_backlog(c, memchr(c->buf, '\n', c->len) != NULL);
	if (c->backlog || c->closing || c->len < CTL_PROTO_MAXLINE)
		return;
	reply = ctl_proto_reply_error(
	    0, "too-long", "request longer than %d bytes", CTL_PROTO_MAXLINE);
	ctl_client_send(c, reply);
	json_decref(reply);
	ctl_client_finish(c);
}

static void
ctl_client_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct ctl_client *c = h->data;

	if (c->buf == NULL)
		c->buf = xmalloc(CTL_PROTO_MAXLINE);
	*buf = uv_buf_init(
	    c->buf + c->len, (unsigned)(CTL_PROTO_MAXLINE - c->len));
}

static void
ctl_client_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct ctl_client *c = s->data;

	if (nread == UV_EOF) {
		ctl_client_finish(c);
		return;
	}
	if (nread < 0) {
		ctl_client_close(c);
		return;
	}
	c->len += (size_t)nread;
	ctl_client_lines(c);
}

/*
 * Tell whether c is one client too many.  The last CTL_ROOTSLOTS places
 * are root's: clients that are not root (the socket's group) can never
 * fill the table and lock root out.
 */
static int
ctl_accept_full(const struct ctl *ctl, const struct ctl_client *c)
{
	if (ctl->nclients > CTL_MAXCLIENTS)
		return 1;
	return c->peer.uid != 0 && ctl->nplain > CTL_MAXCLIENTS - CTL_ROOTSLOTS;
}

/* Accept a client, identify it, start reading. */
static void
ctl_accept(uv_stream_t *server, int status)
{
	struct ctl *ctl = server->data;
	struct ctl_client *c;

	if (status < 0) {
		log_warnx("ctl: accept: %s", uv_strerror(status));
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->ctl = ctl;
	uv_pipe_init(ctl->loop, &c->pipe, 0);
	uv_timer_init(ctl->loop, &c->timer);
	c->pipe.data = c->timer.data = c;
	c->nhandles = 2;
	c->unsent = SIZE_MAX;
	c->peer.uid = 0; /* counted as root until known */
	LIST_INSERT_HEAD(&ctl->clients, c, entry);
	ctl->nclients++;
	c->counted = 1;
	ctl->nhandles += 2;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) != 0 ||
	    ctl_client_peer(c) != 0) {
		log_warn("ctl: accept");
		c->peer.uid = 0;
		ctl_client_close(c);
		return;
	}
	if (c->peer.uid != 0)
		ctl->nplain++;
	if (ctl_accept_full(ctl, c)) {
		log_warnx("ctl: too many clients, refusing pid %ld uid %lu",
		    (long)c->peer.pid, (unsigned long)c->peer.uid);
		ctl_client_close(c);
		return;
	}
	uv_timer_start(
	    &c->timer, ctl_client_timeout, ctl->timeout_ms, ctl->timeout_ms);
	if (uv_read_start((uv_stream_t *)&c->pipe, ctl_client_alloc,
	        ctl_client_read) != 0)
		ctl_client_close(c);
}

/* Remember the group's name for permission messages. */
static char *
ctl_group_name(gid_t group)
{
	struct group *gr;
	char *name;

	if (group == (gid_t)-1)
		return NULL;
	gr = getgrgid(group);
	if (gr != NULL)
		return xstrdup(gr->gr_name);
	xasprintf(&name, "%lu", (unsigned long)group);
	return name;
}

struct ctl *
ctl_create(uv_loop_t *loop, const char *path, gid_t group,
    const struct ctl_cmd *cmds, void *arg, char **cause)
{
	struct ctl *ctl;
	int fd, rc;

	fd = ctl_bind(path, group, cause);
	if (fd == -1)
		return NULL;
	ctl = xcalloc(1, sizeof *ctl);
	ctl->loop = loop;
	ctl->path = xstrdup(path);
	ctl->group = group;
	ctl->group_name = ctl_group_name(group);
	ctl->admin = (gid_t)-1;
	ctl->timeout_ms = CTL_TIMEOUT_MS;
	ctl->cmds = cmds;
	ctl->arg = arg;
	LIST_INIT(&ctl->clients);
	uv_pipe_init(loop, &ctl->server, 0);
	ctl->server.data = ctl;
	uv_idle_init(loop, &ctl->idle);
	ctl->idle.data = ctl;
	ctl->nhandles = 2;
	rc = uv_pipe_open(&ctl->server, fd);
	if (rc != 0)
		close(fd); /* the handle does not own it */
	else
		rc = uv_listen(
		    (uv_stream_t *)&ctl->server, CTL_BACKLOG, ctl_accept);
	if (rc != 0) {
		xasprintf(cause, "listen %s: %s", path, uv_strerror(rc));
		goto fail;
	}
	return ctl;
fail:
	ctl_free(ctl);
	return NULL;
}

static void
ctl_server_closed(uv_handle_t *h)
{
	ctl_handle_gone(h->data);
}

/*
 * Unlink the socket and close every handle.  Memory is released by the
 * close callbacks, so the loop must run once more (uv_run) afterwards.
 */
void
ctl_free(struct ctl *ctl)
{
	struct ctl_client *c;

	if (ctl == NULL || ctl->freed)
		return;
	ctl->freed = 1;
	unlink(ctl->path);
	LIST_FOREACH(c, &ctl->clients, entry)
	ctl_client_close(c);
	uv_close((uv_handle_t *)&ctl->server, ctl_server_closed);
	uv_close((uv_handle_t *)&ctl->idle, ctl_server_closed);
}

int
ctl_set_group(struct ctl *ctl, gid_t group, char **cause)
{
	char *dir = xstrdup(ctl->path), *slash = strrchr(dir, '/');
	int rc = 0;

	if (slash != NULL && slash != dir) {
		*slash = '\0';
		rc = ctl_dir_group(dir, group, cause);
	}
	free(dir);
	if (rc != 0)
		return -1;
	if (group != (gid_t)-1 && chown(ctl->path, (uid_t)-1, group) != 0) {
		xasprintf(cause, "%s: %s", ctl->path, strerror(errno));
		return -1;
	}
	ctl->group = group;
	free(ctl->group_name);
	ctl->group_name = ctl_group_name(group);
	return 0;
}

unsigned
ctl_clients(const struct ctl *ctl)
{
	return ctl->nclients;
}

/* Let members of group (or nobody, -1) run CTL_PRIVILEGED commands. */
void
ctl_set_admin_group(struct ctl *ctl, gid_t group)
{
	ctl->admin = group;
	free(ctl->admin_name);
	ctl->admin_name = ctl_group_name(group);
}

/* Drop clients that send no complete line for ms (tests shorten it). */
void
ctl_set_timeout(struct ctl *ctl, uint64_t ms)
{
	ctl->timeout_ms = ms > 0 ? ms : 1;
}
