/* jailctl_transport.c: one request to jaild's socket and its reply. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl_proto.h"
#include "jailctl.h"
#include "jailctl_output.h"
#include "jailctl_transport.h"
#include "xmalloc.h"

#define JAILCTL_TIMEOUT_MS 30000

/*
 * Say that jaild is not running: no socket, or a socket nobody answers
 * on (left by a killed jaild).  Suggest how to start it: with the socket
 * given by -S, jaild must be told the same one.
 */
static void
jailctl_transport_not_running(const char *path, int err)
{
	char start[64 + sizeof(((struct sockaddr_un *)0)->sun_path)];

	if (jailctl.socket_given)
		snprintf(start, sizeof start,
		    "start it with `jaild -S %s` (or socket = %s in "
		    "[jaild])",
		    path, path);
	else
		snprintf(start, sizeof start, "%s",
		    "start it with `jaild` or `systemctl start jaild`");
	if (err == ECONNREFUSED)
		jailctl_warnx("jaild is not answering on %s (a stale socket: "
		              "jaild was killed or has stopped): %s",
		    path, start);
	else
		jailctl_warnx(
		    "jaild is not running (no socket at %s): %s", path, start);
}

/* Connect to the daemon, or say it is not running. */
static int
jailctl_transport_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		jailctl_warnx("socket path too long: %s", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		jailctl_warnx("socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0)
		return fd;
	if (errno == ENOENT || errno == ECONNREFUSED || errno == ENOTDIR)
		jailctl_transport_not_running(path, errno);
	else if (errno == EACCES)
		jailctl_warnx("cannot connect to %s: %s (run as root or as a "
		              "member of jaild's control group)",
		    path, strerror(errno));
	else
		jailctl_warnx(
		    "cannot connect to %s: %s", path, strerror(errno));
	close(fd);
	return -1;
}

/* Milliseconds left until deadline (CLOCK_MONOTONIC), at least 0. */
static int
jailctl_transport_remaining(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
	     (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : (int)ms;
}

/* Wait for fd to be ready for events, until the deadline. */
static int
jailctl_transport_wait(int fd, short events, const struct timespec *deadline)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int n;

	do
		n = poll(&pfd, 1, jailctl_transport_remaining(deadline));
	while (n == -1 && errno == EINTR);
	if (n == 0) {
		jailctl_warnx("no reply from jaild within %d s",
		    JAILCTL_TIMEOUT_MS / 1000);
		return -1;
	}
	if (n == -1) {
		jailctl_warnx("poll: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Write the whole request line. */
static int
jailctl_transport_send(
    int fd, const char *line, const struct timespec *deadline)
{
	size_t off = 0, len = strlen(line);
	ssize_t n;

	while (off < len) {
		if (jailctl_transport_wait(fd, POLLOUT, deadline) != 0)
			return -1;
		n = send(fd, line + off, len - off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			jailctl_warnx("send: %s", strerror(errno));
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

/* Read one reply line (without its '\n'); *lenp gets its length. */
static char *
jailctl_transport_recv(int fd, size_t *lenp, const struct timespec *deadline)
{
	size_t len = 0, size = 65536;
	char *buf = xmalloc(size), *nl;
	ssize_t n;

	for (;;) {
		if (len == size) {
			if (size >= CTL_PROTO_MAXREPLY) {
				jailctl_warnx("reply longer than %d bytes",
				    CTL_PROTO_MAXREPLY);
				goto fail;
			}
			size *= 2;
			buf = xreallocarray(buf, size, 1);
		}
		if (jailctl_transport_wait(fd, POLLIN, deadline) != 0)
			goto fail;
		n = read(fd, buf + len, size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			jailctl_warnx("jaild closed the connection without "
			              "replying%s%s",
			    n == -1 ? ": " : "",
			    n == -1 ? strerror(errno) : "");
			goto fail;
		}
		nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
		if (nl != NULL) {
			*lenp = (size_t)(nl - buf);
			return buf;
		}
	}
fail:
	free(buf);
	return NULL;
}

/* Send one request and return the reply's result, or NULL (printed). */
json_t *
jailctl_transport_call(const char *cmd, json_t *args)
{
	struct timespec deadline;
	json_t *req, *reply = NULL, *result = NULL, *err;
	char *line, *cause = NULL;
	size_t len;
	int fd;

	req = ctl_proto_request(1, cmd, args);
	line = req != NULL ? ctl_proto_encode(req) : NULL;
	json_decref(req);
	if (line == NULL) {
		jailctl_warnx("arguments are too long or not valid UTF-8");
		return NULL;
	}
	fd = jailctl_transport_connect(jailctl.socket);
	if (fd == -1)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += JAILCTL_TIMEOUT_MS / 1000;
	if (jailctl_transport_send(fd, line, &deadline) != 0)
		goto out;
	free(line);
	line = jailctl_transport_recv(fd, &len, &deadline);
	if (line == NULL)
		goto out;
	reply = ctl_proto_decode(line, len, &cause);
	if (reply == NULL || json_object_get(reply, "ok") == NULL) {
		jailctl_warnx("bad reply from jaild: %s",
		    cause != NULL ? cause : "not a reply");
		goto out;
	}
	if (json_is_true(json_object_get(reply, "ok"))) {
		result = json_incref(json_object_get(reply, "result"));
		goto out;
	}
	err = json_object_get(reply, "error");
	free(cause);
	cause = xstrdup(json_string_value(json_object_get(err, "msg")));
	jailctl_output_sanitize_text(cause);
	jailctl_warnx("%s", cause);
out:
	if (fd != -1)
		close(fd);
	free(line);
	free(cause);
	json_decref(reply);
	return result;
}
