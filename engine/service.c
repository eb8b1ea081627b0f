/* Service plumbing: the pidfile and readiness notification to a manager. */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "service.h"
#include "xmalloc.h"

struct service_pidfile {
	char *path;
	int fd;
};

/* Read the pid written in an open pidfile, or -1. */
static pid_t
service_pidfile_read(int fd)
{
	char buf[32];
	ssize_t n;
	long v;
	char *end;

	n = pread(fd, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	v = strtol(buf, &end, 10);
	if (end == buf || v <= 0)
		return -1;
	return (pid_t)v;
}

pid_t
service_pidfile_owner(const char *path)
{
	pid_t pid = -1;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	/* A lock we can take means nobody holds it: the file is stale. */
	if (flock(fd, LOCK_SH | LOCK_NB) == -1 && errno == EWOULDBLOCK)
		pid = service_pidfile_read(fd);
	close(fd);
	return pid;
}

int
service_pidfile_update(struct service_pidfile *pf, char **cause)
{
	char buf[32];
	int len;

	len = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (ftruncate(pf->fd, 0) == -1 ||
	    pwrite(pf->fd, buf, (size_t)len, 0) != len) {
		xasprintf(cause, "pidfile %s: %s", pf->path, strerror(errno));
		return -1;
	}
	return 0;
}

struct service_pidfile *
service_pidfile_create(const char *path, char **cause)
{
	struct service_pidfile *pf;
	pid_t other;
	int saved;

	pf = xcalloc(1, sizeof *pf);
	pf->path = xstrdup(path);
	pf->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (pf->fd == -1) {
		xasprintf(cause, "pidfile %s: %s", path, strerror(errno));
		goto fail;
	}
	if (flock(pf->fd, LOCK_EX | LOCK_NB) == -1) {
		saved = errno;
		other = service_pidfile_read(pf->fd);
		if (saved == EWOULDBLOCK)
			xasprintf(cause,
			    "jaild is already running (pid %ld, "
			    "pidfile %s): stop it first, or use jailctl "
			    "reload",
			    (long)other, path);
		else
			xasprintf(cause, "pidfile %s: lock: %s", path,
			    strerror(saved));
		goto fail;
	}
	if (service_pidfile_update(pf, cause) != 0) {
		unlink(path);
		goto fail;
	}
	return pf;
fail:
	if (pf->fd != -1)
		close(pf->fd);
	free(pf->path);
	free(pf);
	return NULL;
}

void
service_pidfile_free(struct service_pidfile *pf)
{
	if (pf == NULL)
		return;
	/* Unlink while still locked so no one sees a stale, unlocked file. */
	unlink(pf->path);
	close(pf->fd);
	free(pf->path);
	free(pf);
}

/* Fill sun from $NOTIFY_SOCKET ('@' is Linux's abstract namespace). */
static int
service_notify_addr(const char *env, struct sockaddr_un *sun, socklen_t *len)
{
	size_t n = strlen(env);

	if ((env[0] != '/' && env[0] != '@') || n < 2 ||
	    n >= sizeof sun->sun_path) {
		errno = EINVAL;
		return -1;
	}
	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, env, n);
	if (env[0] == '@')
		sun->sun_path[0] = '\0';
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	                   (env[0] == '@' ? 0 : 1));
	return 0;
}

int
service_notify(const char *state)
{
	const char *env = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	socklen_t len;
	ssize_t n;
	int fd, saved;

	if (env == NULL || *env == '\0')
		return 0;
	if (service_notify_addr(env, &sun, &len) != 0)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	n = sendto(fd, state, strlen(state), 0, (struct sockaddr *)&sun, len);
	saved = errno;
	close(fd);
	errno = saved;
	return n == (ssize_t)strlen(state) ? 0 : -1;
}

int
service_notifyf(const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int rc;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0) {
		va_end(ap);
		return -1;
	}
	va_end(ap);
	rc = service_notify(msg);
	free(msg);
	return rc;
}
