/* jailctl: the command-line client of jaild's control socket. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "conf.h"
#include "config.h"
#include "ctl_proto.h"
#include "filter.h"
#include "filtertest.h"
#include "xmalloc.h"

#ifndef JAILD_CONFDIR
#define JAILD_CONFDIR "/etc/jaild"
#endif
#define JAILCTL_SOCKET "/run/jaild/jaild.sock"
#define JAILCTL_TIMEOUT_MS 30000
#define JAILCTL_TOP_ADDRS 20

/* Command-line state shared by the printers. */
static struct {
	const char *socket;
	int json;
	int colour;
	time_t now;
} jailctl;

struct jailctl_table {
	size_t ncols;
	size_t nrows; /* row 0 is the header */
	char **cells;
};

/* Print "jailctl: message" on stderr. */
static void __attribute__((format(printf, 1, 2)))
jailctl_warnx(const char *fmt, ...)
{
	va_list ap;

	fputs("jailctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
jailctl_usage(void)
{
	fprintf(stderr,
	    "usage: jailctl [-S SOCKET] [-j] COMMAND ...\n"
	    "  status [JAIL]                 jails, or one jail in detail\n"
	    "  ban JAIL ADDR[/LEN] [DURATION]\n"
	    "  unban [--local] ADDR [JAIL]   unban --all [JAIL]\n"
	    "  list [JAIL]                   active bans with expiry\n"
	    "  history ADDR                  every ban of an address\n"
	    "  reload                        re-read the config, keep bans\n"
	    "  metrics                       Prometheus text\n"
	    "  fleet                         fleet nodes, lag, queued events\n"
	    "  test [-c CONFDIR] [--print-matched] [--print-unmatched]\n"
	    "       [--print-ignored] FILTER LOGFILE|-   offline filter run\n"
	    "SOCKET defaults to $JAILD_SOCKET, else " JAILCTL_SOCKET ".\n");
}

/* Make a table with the given header cells. */
static struct jailctl_table *
jailctl_table_create(size_t ncols, const char *const *header)
{
	struct jailctl_table *t;
	size_t i;

	t = xcalloc(1, sizeof *t);
	t->ncols = ncols;
	t->nrows = 1;
	t->cells = xreallocarray(NULL, ncols, sizeof *t->cells);
	for (i = 0; i < ncols; i++)
		t->cells[i] = xstrdup(header[i]);
	return t;
}

static void
jailctl_table_free(struct jailctl_table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

/* Replace control bytes so daemon text never steers a terminal. */
static void
jailctl_sanitize(char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
	}
}

/* Append a row; control bytes are replaced so a tty is never steered. */
static void
jailctl_table_add(struct jailctl_table *t, const char *const *row)
{
	size_t i, base = t->nrows * t->ncols;

	t->cells = xreallocarray(
	    t->cells, (t->nrows + 1) * t->ncols, sizeof *t->cells);
	for (i = 0; i < t->ncols; i++) {
		t->cells[base + i] = xstrdup(row[i] != NULL ? row[i] : "-");
		jailctl_sanitize(t->cells[base + i]);
	}
	t->nrows++;
}

/* Count the characters of a UTF-8 string, for column widths. */
static size_t
jailctl_width(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	}
	return n;
}

/* Print a table with each column as wide as its widest cell. */
static void
jailctl_table_print(const struct jailctl_table *t)
{
	size_t *w, r, i, pad;
	const char *cell;

	w = xcalloc(t->ncols, sizeof *w);
	for (r = 0; r < t->nrows; r++) {
		for (i = 0; i < t->ncols; i++) {
			pad = jailctl_width(t->cells[r * t->ncols + i]);
			if (pad > w[i])
				w[i] = pad;
		}
	}
	for (r = 0; r < t->nrows; r++) {
		if (r == 0 && jailctl.colour)
			fputs("\033[1m", stdout);
		for (i = 0; i < t->ncols; i++) {
			cell = t->cells[r * t->ncols + i];
			fputs(cell, stdout);
			if (i + 1 == t->ncols)
				break;
			pad = w[i] - jailctl_width(cell) + 2;
			printf("%*s", (int)pad, "");
		}
		if (r == 0 && jailctl.colour)
			fputs("\033[0m", stdout);
		fputc('\n', stdout);
	}
	free(w);
}

/* Format a span of seconds shortly: "42s", "42m", "3h5m", "2d3h". */
static void
jailctl_fmt_span(long long s, char *buf, size_t len)
{
	if (s < 60)
		snprintf(buf, len, "%llds", s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm", s / 60);
	else if (s < 86400 && s % 3600 / 60 != 0)
		snprintf(buf, len, "%lldh%lldm", s / 3600, s % 3600 / 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh", s / 3600);
	else if (s % 86400 / 3600 != 0)
		snprintf(buf, len, "%lldd%lldh", s / 86400, s % 86400 / 3600);
	else
		snprintf(buf, len, "%lldd", s / 86400);
}

/* Format any JSON scalar for a table cell; "-" when absent or null. */
static const char *
jailctl_fmt(const json_t *v, char *buf, size_t len)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%.3g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%s", json_is_true(v) ? "yes" : "no");
	else
		snprintf(buf, len, "-");
	return buf;
}

/* The same for obj[key]. */
static const char *
jailctl_get(const json_t *obj, const char *key, char *buf, size_t len)
{
	return jailctl_fmt(json_object_get(obj, key), buf, len);
}

/* Format an epoch as local time plus "(in 42m)" or "(3h ago)". */
static const char *
jailctl_fmt_time(const json_t *v, const char *null, char *buf, size_t len)
{
	char stamp[24], span[24];
	struct tm tm;
	time_t t;
	long long d;

	if (!json_is_integer(v))
		return null;
	t = (time_t)json_integer_value(v);
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(stamp, sizeof stamp, "@%lld", (long long)t);
	d = (long long)t - (long long)jailctl.now;
	jailctl_fmt_span(d < 0 ? -d : d, span, sizeof span);
	if (d == 0)
		snprintf(buf, len, "%s (now)", stamp);
	else if (d > 0)
		snprintf(buf, len, "%s (in %s)", stamp, span);
	else
		snprintf(buf, len, "%s (%s ago)", stamp, span);
	return buf;
}

/* Format a duration in seconds; -1 is forever. */
static const char *
jailctl_fmt_duration(const json_t *v, char *buf, size_t len)
{
	if (!json_is_integer(v))
		return "-";
	if (json_integer_value(v) < 0)
		return "forever";
	jailctl_fmt_span(json_integer_value(v), buf, len);
	return buf;
}

/* Join an array of strings with ", ". */
static char *
jailctl_join(const json_t *a)
{
	size_t i, len = 1;
	json_t *v;
	char *s;

	json_array_foreach(a, i, v)
	{
		if (json_is_string(v))
			len += strlen(json_string_value(v)) + 2;
	}
	s = xcalloc(1, len);
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v))
			continue;
		if (*s != '\0')
			strcat(s, ", ");
		strcat(s, json_string_value(v));
	}
	return s;
}

/* Connect to the daemon, or say it is not running. */
static int
jailctl_connect(const char *path)
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
		jailctl_warnx("jaild is not running (no socket at %s): start "
		              "it with `jaild` or `systemctl start jaild`",
		    path);
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
jailctl_remaining(const struct timespec *deadline)
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
jailctl_wait(int fd, short events, const struct timespec *deadline)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int n;

	do
		n = poll(&pfd, 1, jailctl_remaining(deadline));
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
jailctl_send(int fd, const char *line, const struct timespec *deadline)
{
	size_t off = 0, len = strlen(line);
	ssize_t n;

	while (off < len) {
		if (jailctl_wait(fd, POLLOUT, deadline) != 0)
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
jailctl_recv(int fd, size_t *lenp, const struct timespec *deadline)
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
		if (jailctl_wait(fd, POLLIN, deadline) != 0)
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
static json_t *
jailctl_call(const char *cmd, json_t *args)
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
	fd = jailctl_connect(jailctl.socket);
	if (fd == -1)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += JAILCTL_TIMEOUT_MS / 1000;
	if (jailctl_send(fd, line, &deadline) != 0)
		goto out;
	free(line);
	line = jailctl_recv(fd, &len, &deadline);
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
	jailctl_sanitize(cause);
	jailctl_warnx("%s", cause);
out:
	if (fd != -1)
		close(fd);
	free(line);
	free(cause);
	json_decref(reply);
	return result;
}

/* Print the overview: daemon, jails, sources. */
static void
jailctl_print_status_all(const json_t *r)
{
	static const char *const jh[] = {"JAIL", "FILTER", "BANNED", "FAILURES",
	    "TOTAL BANS", "LINES", "MATCHED"};
	static const char *const sh[] = {"SOURCE", "INODE", "OFFSET", "LINES"};
	static const char *const jk[] = {"name", "filter", "banned", "failures",
	    "total_bans", "lines", "matched"};
	static const char *const sk[] = {"path", "inode", "offset", "lines"};
	struct jailctl_table *t;
	const char *row[7];
	char b[7][64], up[32];
	json_t *v;
	size_t i, k;

	jailctl_fmt_duration(json_object_get(r, "uptime"), up, sizeof up);
	printf("jaild %s, up %s\n",
	    jailctl_get(r, "version", b[0], sizeof b[0]), up);
	t = jailctl_table_create(7, jh);
	json_array_foreach(json_object_get(r, "jails"), i, v)
	{
		for (k = 0; k < 7; k++)
			row[k] = jailctl_get(v, jk[k], b[k], sizeof b[k]);
		jailctl_table_add(t, row);
	}
	fputc('\n', stdout);
	jailctl_table_print(t);
	jailctl_table_free(t);
	if (json_array_size(json_object_get(r, "sources")) == 0)
		return;
	t = jailctl_table_create(4, sh);
	json_array_foreach(json_object_get(r, "sources"), i, v)
	{
		for (k = 0; k < 4; k++)
			row[k] = jailctl_get(v, sk[k], b[k], sizeof b[k]);
		jailctl_table_add(t, row);
	}
	fputc('\n', stdout);
	jailctl_table_print(t);
	jailctl_table_free(t);
}

/* Print the saturation response of a jail, or that it has none. */
static void
jailctl_print_saturation(const json_t *sat)
{
	char b[4][64], t[64], *would;
	const char *mode = json_string_value(json_object_get(sat, "mode"));

	if (mode == NULL || strcmp(mode, "off") == 0) {
		printf("saturation  off (no saturation.filter)\n");
		return;
	}
	printf(
	    "saturation  %s signals (last %s), %s holders found, %s banned\n",
	    jailctl_get(sat, "count", b[0], 64),
	    jailctl_fmt_time(
	        json_object_get(sat, "last"), "never", t, sizeof t),
	    jailctl_get(sat, "holders_found", b[1], 64),
	    jailctl_get(sat, "banned", b[2], 64));
	would = jailctl_join(json_object_get(sat, "would_ban"));
	jailctl_sanitize(would);
	jailctl_get(sat, "episodes", b[3], 64);
	printf("            mode %s, %s episode%s%s%s\n", mode, b[3],
	    strcmp(b[3], "1") == 0 ? "" : "s", *would ? ", would ban " : "",
	    would);
	free(would);
}

/* Print the key/value part of one jail's status. */
static void
jailctl_print_jail_summary(const json_t *r)
{
	char b[6][64], *actions, *logpaths;
	const json_t *sat = json_object_get(r, "saturation");

	actions = jailctl_join(json_object_get(r, "actions"));
	logpaths = jailctl_join(json_object_get(r, "logpaths"));
	jailctl_sanitize(actions);
	jailctl_sanitize(logpaths);
	printf("jail        %s\n", jailctl_get(r, "name", b[0], 64));
	printf("filter      %s\n", jailctl_get(r, "filter", b[0], 64));
	printf("actions     %s\n", actions);
	printf("logpaths    %s\n", logpaths);
	printf("maxretry    %s, findtime %s, bantime %s\n",
	    jailctl_get(r, "maxretry", b[0], 64),
	    jailctl_fmt_duration(json_object_get(r, "findtime"), b[1], 64),
	    jailctl_fmt_duration(json_object_get(r, "bantime"), b[2], 64));
	printf("lines       %s read, %s matched, %s ignored\n",
	    jailctl_get(r, "lines", b[0], 64),
	    jailctl_get(r, "matched", b[1], 64),
	    jailctl_get(r, "ignored", b[2], 64));
	printf("failures    %s addresses counting, %s in total\n",
	    jailctl_get(r, "failures", b[0], 64),
	    jailctl_get(r, "total_failures", b[1], 64));
	printf("bans        %zu active, %s in total, %s evicted\n",
	    json_array_size(json_object_get(r, "banned")),
	    jailctl_get(r, "total_bans", b[0], 64),
	    jailctl_get(r, "evicted", b[1], 64));
	if (json_is_object(sat))
		jailctl_print_saturation(sat);
	free(actions);
	free(logpaths);
}

/* A ban's reason, with the fleet node it came from if not this one. */
static const char *
jailctl_reason(const json_t *v, char *buf, size_t len)
{
	const char *origin = json_string_value(json_object_get(v, "origin"));
	char tmp[64];
	const char *reason = jailctl_get(v, "reason", tmp, sizeof tmp);

	if (origin == NULL)
		return reason;
	snprintf(buf, len, "%.24s (from %.24s)", reason, origin);
	return buf;
}

/* Print one jail: summary, then its bans. */
static void
jailctl_print_status_jail(const json_t *r)
{
	static const char *const h[] = {
	    "ADDR", "SINCE", "UNTIL", "FAILURES", "REASON"};
	struct jailctl_table *t;
	const char *row[5];
	char b[5][64];
	json_t *v;
	size_t i;

	jailctl_print_jail_summary(r);
	if (json_array_size(json_object_get(r, "banned")) == 0)
		return;
	t = jailctl_table_create(5, h);
	json_array_foreach(json_object_get(r, "banned"), i, v)
	{
		row[0] = jailctl_get(v, "addr", b[0], 64);
		row[1] = jailctl_fmt_time(
		    json_object_get(v, "since"), "-", b[1], 64);
		row[2] = jailctl_fmt_time(
		    json_object_get(v, "until"), "never", b[2], 64);
		row[3] = jailctl_get(v, "failures", b[3], 64);
		row[4] = jailctl_reason(v, b[4], 64);
		jailctl_table_add(t, row);
	}
	fputc('\n', stdout);
	jailctl_table_print(t);
	jailctl_table_free(t);
}

static void
jailctl_print_status(const json_t *r)
{
	if (json_object_get(r, "jails") != NULL)
		jailctl_print_status_all(r);
	else
		jailctl_print_status_jail(r);
}

/* Print the active bans. */
static void
jailctl_print_list(const json_t *r)
{
	static const char *const h[] = {
	    "JAIL", "ADDR", "SINCE", "UNTIL", "FAILURES", "REASON"};
	struct jailctl_table *t;
	const char *row[6];
	char b[6][64];
	json_t *v;
	size_t i;

	if (json_array_size(json_object_get(r, "bans")) == 0) {
		printf("no active bans\n");
		return;
	}
	t = jailctl_table_create(6, h);
	json_array_foreach(json_object_get(r, "bans"), i, v)
	{
		row[0] = jailctl_get(v, "jail", b[0], 64);
		row[1] = jailctl_get(v, "addr", b[1], 64);
		row[2] = jailctl_fmt_time(
		    json_object_get(v, "since"), "-", b[2], 64);
		row[3] = jailctl_fmt_time(
		    json_object_get(v, "until"), "never", b[3], 64);
		row[4] = jailctl_get(v, "failures", b[4], 64);
		row[5] = jailctl_reason(v, b[5], 64);
		jailctl_table_add(t, row);
	}
	jailctl_table_print(t);
	jailctl_table_free(t);
}

/* Say whether a past ban is active, lifted (by whom, when) or expired. */
static const char *
jailctl_history_state(const json_t *v, char *buf, size_t len)
{
	char when[64], who[64];

	if (json_is_true(json_object_get(v, "active")))
		return "active";
	if (json_object_get(v, "lifted") == NULL ||
	    json_is_null(json_object_get(v, "lifted")))
		return "expired";
	snprintf(buf, len, "lifted by %s %s",
	    jailctl_get(v, "lifted_by", who, sizeof who),
	    jailctl_fmt_time(
	        json_object_get(v, "lifted"), "-", when, sizeof when));
	return buf;
}

/* Print every ban of one address. */
static void
jailctl_print_history(const json_t *r)
{
	static const char *const h[] = {
	    "JAIL", "ADDR", "START", "END", "FAILURES", "REASON", "STATE"};
	struct jailctl_table *t;
	const char *row[7];
	char b[7][160];
	json_t *v;
	size_t i;

	if (json_array_size(json_object_get(r, "bans")) == 0) {
		printf("no bans of %s\n", jailctl_get(r, "addr", b[0], 64));
		return;
	}
	t = jailctl_table_create(7, h);
	json_array_foreach(json_object_get(r, "bans"), i, v)
	{
		row[0] = jailctl_get(v, "jail", b[0], 64);
		row[1] = jailctl_get(v, "addr", b[1], 64);
		row[2] = jailctl_fmt_time(
		    json_object_get(v, "start"), "-", b[2], 64);
		row[3] = jailctl_fmt_time(
		    json_object_get(v, "end"), "never", b[3], 64);
		row[4] = jailctl_get(v, "failures", b[4], 64);
		row[5] = jailctl_reason(v, b[5], 64);
		row[6] = jailctl_history_state(v, b[6], sizeof b[6]);
		jailctl_table_add(t, row);
	}
	jailctl_table_print(t);
	jailctl_table_free(t);
}

static void
jailctl_print_ban(const json_t *r)
{
	char b[3][64];
	const json_t *until = json_object_get(r, "until");

	printf("banned %s in %s %s%s\n", jailctl_get(r, "addr", b[0], 64),
	    jailctl_get(r, "jail", b[1], 64),
	    json_is_integer(until) ? "until " : "permanently",
	    jailctl_fmt_time(until, "", b[2], 64));
}

static void
jailctl_print_unban(const json_t *r)
{
	char b[2][64];
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(r, "unbanned"), i, v)
	{
		printf("unbanned %s from %s\n",
		    jailctl_get(v, "addr", b[0], 64),
		    jailctl_get(v, "jail", b[1], 64));
	}
}

static void
jailctl_print_reload(const json_t *r)
{
	char b[64];

	printf("reloaded: %s jails\n", jailctl_get(r, "jails", b, sizeof b));
}

/* Print the Prometheus text exactly as the daemon wrote it. */
static void
jailctl_print_metrics(const json_t *r)
{
	const char *text = json_string_value(json_object_get(r, "text"));

	if (text != NULL)
		fputs(text, stdout);
}

/* Print this fleet node, then every node PostgreSQL knows. */
static void
jailctl_print_fleet(const json_t *r)
{
	static const char *const h[] = {
	    "NODE", "LAST SEEN", "APPLIED", "BEHIND", "QUEUED"};
	struct jailctl_table *t;
	const char *row[5];
	char b[5][64];
	json_t *v;
	size_t i;

	printf("node        %s (%s)\n", jailctl_get(r, "node", b[0], 64),
	    json_is_true(json_object_get(r, "connected")) ? "connected"
	                                                  : "PostgreSQL down");
	printf("queued      %s events not yet sent\n",
	    jailctl_get(r, "queued", b[0], 64));
	printf("events      %s sent, %s received, %s applied, %s refused, "
	       "%s ignored here\n",
	    jailctl_get(r, "sent", b[0], 64),
	    jailctl_get(r, "received", b[1], 64),
	    jailctl_get(r, "applied", b[2], 64),
	    jailctl_get(r, "refused", b[3], 64),
	    jailctl_get(r, "ignored", b[4], 64));
	printf("lag         %.3f s (the last remote event)\n\n",
	    json_number_value(json_object_get(r, "lag")));
	t = jailctl_table_create(5, h);
	json_array_foreach(json_object_get(r, "nodes"), i, v)
	{
		row[0] = jailctl_get(v, "node", b[0], 64);
		row[1] = jailctl_fmt_time(
		    json_object_get(v, "last_seen"), "-", b[1], 64);
		row[2] = jailctl_get(v, "applied", b[2], 64);
		row[3] = jailctl_get(v, "behind", b[3], 64);
		row[4] = jailctl_get(v, "queued", b[4], 64);
		jailctl_table_add(t, row);
	}
	jailctl_table_print(t);
	jailctl_table_free(t);
}

/* Set obj[key] to a command-line string; -1 if it is not UTF-8. */
static int
jailctl_arg(json_t *obj, const char *key, const char *value)
{
	json_t *v = json_string(value);

	if (v == NULL) {
		jailctl_warnx("%s is not valid UTF-8", key);
		return -1;
	}
	return json_object_set_new(obj, key, v);
}

/* Map "CMD OPERANDS..." to request args; NULL after a printed error. */
static json_t *
jailctl_args(int argc, char **argv)
{
	json_t *args = json_object();
	const char *cmd = argv[0];
	int rc = 0;

	if (strcmp(cmd, "ban") == 0) {
		rc |= jailctl_arg(args, "jail", argv[1]);
		rc |= jailctl_arg(args, "addr", argv[2]);
		if (argc > 3)
			rc |= jailctl_arg(args, "duration", argv[3]);
	} else if (strcmp(cmd, "unban") == 0) {
		if (argc > 2 && strcmp(argv[1], "--local") == 0) {
			json_object_set_new(args, "local", json_true());
			argv++;
			argc--;
		}
		if (strcmp(argv[1], "--all") == 0)
			json_object_set_new(args, "all", json_true());
		else
			rc |= jailctl_arg(args, "addr", argv[1]);
		if (argc > 2)
			rc |= jailctl_arg(args, "jail", argv[2]);
	} else if (strcmp(cmd, "history") == 0) {
		rc |= jailctl_arg(args, "addr", argv[1]);
	} else if (argc > 1) { /* status JAIL, list JAIL */
		rc |= jailctl_arg(args, "jail", argv[1]);
	}
	if (rc != 0) {
		json_decref(args);
		return NULL;
	}
	return args;
}

/* Print a filter test report for people. */
static void
jailctl_print_test(const json_t *r)
{
	static const char *const rh[] = {"#", "HITS", "REGEX"};
	static const char *const ah[] = {"ADDRESS", "COUNT"};
	struct jailctl_table *t;
	const char *row[3];
	char b[5][64];
	json_t *v;
	size_t i;

	printf("filter       %s\n", jailctl_get(r, "filter", b[0], 64));
	printf("datepattern  %s\n", jailctl_get(r, "datepattern", b[0], 64));
	printf("lines        %s read: %s matched, %s ignored, %s missed, "
	       "%s without address\n",
	    jailctl_get(r, "lines", b[0], 64),
	    jailctl_get(r, "matched", b[1], 64),
	    jailctl_get(r, "ignored", b[2], 64),
	    jailctl_get(r, "missed", b[3], 64),
	    jailctl_get(r, "hostless", b[4], 64));
	printf("time         %.3f s, %.0f lines/s\n",
	    json_number_value(json_object_get(r, "seconds")),
	    json_number_value(json_object_get(r, "lines_per_second")));
	t = jailctl_table_create(3, rh);
	json_array_foreach(json_object_get(r, "regexes"), i, v)
	{
		snprintf(b[0], 64, "%zu", i + 1);
		row[0] = b[0];
		row[1] = jailctl_get(v, "hits", b[1], 64);
		row[2] = jailctl_get(v, "regex", b[2], 64);
		jailctl_table_add(t, row);
	}
	fputc('\n', stdout);
	jailctl_table_print(t);
	jailctl_table_free(t);
	if (json_array_size(json_object_get(r, "addresses")) == 0)
		return;
	t = jailctl_table_create(2, ah);
	json_array_foreach(json_object_get(r, "addresses"), i, v)
	{
		if (i == JAILCTL_TOP_ADDRS)
			break;
		row[0] = jailctl_get(v, "addr", b[0], 64);
		row[1] = jailctl_get(v, "count", b[1], 64);
		jailctl_table_add(t, row);
	}
	fputc('\n', stdout);
	jailctl_table_print(t);
	jailctl_table_free(t);
}

/* Load and compile a filter as a jail would; errors are printed. */
static struct filter *
jailctl_test_filter(const char *confdir, const char *ref)
{
	struct conf_errors errs = {NULL, 0};
	struct filter_conf *fc;
	struct filter *f;
	char *cause = NULL;
	size_t i;

	fc = config_load_filter(confdir, ref, &errs);
	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	conf_errors_clear(&errs);
	if (fc == NULL) {
		if (i == 0)
			jailctl_warnx("cannot load filter %s", ref);
		return NULL;
	}
	f = filter_create(fc, &cause);
	config_filter_free(fc);
	if (f == NULL) {
		jailctl_warnx("%s", cause != NULL ? cause : "bad filter");
		free(cause);
	}
	return f;
}

/* Print a result: compact JSON with -j, else with the command's printer. */
static void
jailctl_print(const json_t *result, void (*print)(const json_t *))
{
	char *s;

	if (jailctl.json) {
		s = json_dumps(result, JSON_COMPACT | JSON_ENCODE_ANY);
		if (s != NULL)
			printf("%s\n", s);
		free(s);
	} else
		print(result);
}

/* jailctl test: run a filter over a log file, offline. */
static int
jailctl_test(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"print-matched", no_argument, NULL, 'm'},
	    {"print-unmatched", no_argument, NULL, 'u'},
	    {"print-ignored", no_argument, NULL, 'i'}, {NULL, 0, NULL, 0}};
	const char *confdir = JAILD_CONFDIR, *path;
	struct filter *f;
	json_t *report;
	FILE *in;
	int ch, flags = 0;

	optind = 0; /* glibc: rescan from argv[1] */
	while ((ch = getopt_long(argc, argv, "+c:", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			confdir = optarg;
			break;
		case 'm':
			flags |= FILTERTEST_PRINT_MATCHED;
			break;
		case 'u':
			flags |= FILTERTEST_PRINT_UNMATCHED;
			break;
		case 'i':
			flags |= FILTERTEST_PRINT_IGNORED;
			break;
		default:
			jailctl_usage();
			return 2;
		}
	}
	if (argc - optind != 2) {
		jailctl_usage();
		return 2;
	}
	path = argv[optind + 1];
	in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (in == NULL) {
		jailctl_warnx("%s: %s", path, strerror(errno));
		return 1;
	}
	f = jailctl_test_filter(confdir, argv[optind]);
	report = f != NULL ? filtertest_run(f, in, flags, stdout) : NULL;
	if (in != stdin)
		fclose(in);
	filter_unref(f);
	if (report == NULL)
		return 1;
	jailctl_print(report, jailctl_print_test);
	json_decref(report);
	return 0;
}

/* The commands sent to the daemon, with their operand counts. */
static const struct jailctl_cmd {
	const char *name;
	int min, max;
	void (*print)(const json_t *);
} jailctl_cmds[] = {
    {"status", 0, 1, jailctl_print_status},
    {"ban", 2, 3, jailctl_print_ban},
    {"unban", 1, 3, jailctl_print_unban},
    {"list", 0, 1, jailctl_print_list},
    {"history", 1, 1, jailctl_print_history},
    {"reload", 0, 0, jailctl_print_reload},
    {"metrics", 0, 0, jailctl_print_metrics},
    {"fleet", 0, 0, jailctl_print_fleet},
    {NULL, 0, 0, NULL},
};

/* Run one daemon command; argv[0] is its name. */
static int
jailctl_run(int argc, char **argv)
{
	const struct jailctl_cmd *c;
	json_t *args, *result;

	for (c = jailctl_cmds; c->name != NULL; c++) {
		if (strcmp(c->name, argv[0]) == 0)
			break;
	}
	if (c->name == NULL || argc - 1 < c->min || argc - 1 > c->max) {
		if (c->name == NULL)
			jailctl_warnx("unknown command: %s", argv[0]);
		jailctl_usage();
		return 2;
	}
	args = jailctl_args(argc, argv);
	if (args == NULL)
		return 1;
	result = jailctl_call(c->name, args);
	if (result == NULL)
		return 1;
	jailctl_print(result, c->print);
	json_decref(result);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *env;
	int ch;

	jailctl.socket = JAILCTL_SOCKET;
	env = getenv("JAILD_SOCKET");
	if (env != NULL && *env != '\0')
		jailctl.socket = env;
	while ((ch = getopt(argc, argv, "+S:jh")) != -1) {
		switch (ch) {
		case 'S':
			jailctl.socket = optarg;
			break;
		case 'j':
			jailctl.json = 1;
			break;
		default:
			jailctl_usage();
			return ch == 'h' ? 0 : 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		jailctl_usage();
		return 2;
	}
	env = getenv("NO_COLOR");
	jailctl.colour = isatty(STDOUT_FILENO) && (env == NULL || *env == '\0');
	jailctl.now = time(NULL);
	if (strcmp(argv[0], "test") == 0)
		return jailctl_test(argc, argv);
	return jailctl_run(argc, argv);
}
