/* Tests of the control protocol: the codec, the ctl server, jailctl. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>
#include <uv.h>

#include "ctl.h"
#include "ctl_proto.h"
#include "xmalloc.h"

#define TEST_GROUP 4242
#define TEST_NOBODY 65534
#define TEST_ROUNDS 4000 /* loop turns of at most 5 ms: 20 s at worst */

static char test_dir[64];
static char test_env_nocolor[] = "NO_COLOR=1";
static char test_env_tz[] = "TZ=UTC";
static char test_sock[128];
static uv_loop_t test_loop;
static struct ctl *test_ctl;
static json_t *test_last_args;

/* ---- the codec ---------------------------------------------------- */

Test(ctl_proto, request_roundtrip)
{
	json_t *req, *back;
	char *line, *cause = NULL;

	req = ctl_proto_request(7, "ban",
	    json_pack("{s:s, s:s}", "jail", "sendmail", "addr", "1.2.3.4"));
	line = ctl_proto_encode(req);
	cr_assert_not_null(line);
	cr_assert_str_eq(line,
	    "{\"v\":1,\"id\":7,\"cmd\":\"ban\",\"args\":"
	    "{\"jail\":\"sendmail\",\"addr\":\"1.2.3.4\"}}\n");
	back = ctl_proto_decode(line, strlen(line), &cause);
	cr_assert_not_null(back, "%s", cause);
	cr_assert(json_equal(req, back));
	json_decref(req);
	json_decref(back);
	free(line);
}

Test(ctl_proto, replies_roundtrip)
{
	json_t *ok, *err, *back;
	char *line, *cause = NULL;

	ok = ctl_proto_reply_ok(3, json_pack("{s:i}", "jails", 2));
	line = ctl_proto_encode(ok);
	cr_assert_str_eq(
	    line, "{\"v\":1,\"id\":3,\"ok\":true,\"result\":{\"jails\":2}}\n");
	free(line);
	err = ctl_proto_reply_error(
	    4, "not-banned", "%s is not banned", "1.2.3.4");
	line = ctl_proto_encode(err);
	back = ctl_proto_decode(line, strlen(line), &cause);
	cr_assert_not_null(back, "%s", cause);
	cr_assert_str_eq(json_string_value(json_object_get(
	                     json_object_get(back, "error"), "msg")),
	    "1.2.3.4 is not banned");
	cr_assert(json_is_false(json_object_get(back, "ok")));
	free(line);
	json_decref(ok);
	json_decref(err);
	json_decref(back);
}

Test(ctl_proto, encode_refuses_too_long)
{
	char *big = xmalloc(CTL_PROTO_MAXLINE);
	json_t *req;

	memset(big, 'a', CTL_PROTO_MAXLINE - 1);
	big[CTL_PROTO_MAXLINE - 1] = '\0';
	req = ctl_proto_request(1, "ban", json_pack("{s:s}", "addr", big));
	cr_assert_null(ctl_proto_encode(req));
	json_decref(req);
	free(big);
}

/* Decode s and expect failure with a cause containing want. */
static void
test_decode_fails(const char *s, const char *want)
{
	char *cause = NULL;
	json_t *msg;

	msg = ctl_proto_decode(s, strlen(s), &cause);
	cr_assert_null(msg, "accepted %s", s);
	cr_assert_not_null(cause);
	cr_assert(strstr(cause, want) != NULL, "%s: cause \"%s\" lacks \"%s\"",
	    s, cause, want);
	free(cause);
}

Test(ctl_proto, decode_rejects_bad_messages)
{
	test_decode_fails("{\"v\":1,\"id\":1,\"cmd\":\"x\"", "bad JSON");
	test_decode_fails("[1,2]", "not a JSON object");
	test_decode_fails("{\"id\":1,\"cmd\":\"x\"}", "version");
	test_decode_fails("{\"v\":2,\"id\":1,\"cmd\":\"x\"}", "v=2");
	test_decode_fails("{\"v\":\"1\",\"id\":1,\"cmd\":\"x\"}", "version");
	test_decode_fails("{\"v\":1,\"id\":\"1\",\"cmd\":\"x\"}", "\"id\"");
	test_decode_fails("{\"v\":1,\"cmd\":\"x\"}", "\"id\"");
	test_decode_fails("{\"v\":1,\"id\":1}", "\"cmd\"");
	test_decode_fails("{\"v\":1,\"id\":1,\"cmd\":5}", "\"cmd\"");
	test_decode_fails(
	    "{\"v\":1,\"id\":1,\"cmd\":\"x\",\"args\":[]}", "\"args\"");
	test_decode_fails("{\"v\":1,\"id\":1,\"ok\":1}", "\"ok\"");
	test_decode_fails("{\"v\":1,\"id\":1,\"ok\":false}", "\"error\"");
	test_decode_fails("{\"v\":1,\"id\":1,\"ok\":true}", "\"result\"");
	test_decode_fails(
	    "{\"v\":1,\"v\":1,\"id\":1,\"cmd\":\"x\"}", "duplicate");
}

Test(ctl_proto, decode_rejects_nul_and_bad_utf8)
{
	static const char nul[] = "{\"v\":1,\"id\":1,\"cmd\":\"a\0b\"}";
	char *cause = NULL;

	cr_assert_null(ctl_proto_decode(nul, sizeof nul - 1, &cause));
	free(cause);
	cause = NULL;
	test_decode_fails("{\"v\":1,\"id\":1,\"cmd\":\"a\\u0000b\"}", "JSON");
	test_decode_fails("{\"v\":1,\"id\":1,\"cmd\":\"\xff\xfe\"}", "JSON");
}

Test(ctl_proto, decode_request_refuses_replies)
{
	const char *s = "{\"v\":1,\"id\":1,\"ok\":true,\"result\":1}";
	char *cause = NULL;

	cr_assert_null(ctl_proto_decode_request(s, strlen(s), &cause));
	cr_assert_not_null(cause);
	cr_assert(strstr(cause, "not a request") != NULL, "%s", cause);
	free(cause);
}

Test(ctl_proto, decode_accepts_trailing_newline_and_absent_args)
{
	const char *s = "{\"v\":1,\"id\":9,\"cmd\":\"reload\"}\n";
	char *cause = NULL;
	json_t *msg;

	msg = ctl_proto_decode(s, strlen(s), &cause);
	cr_assert_not_null(msg, "%s", cause);
	cr_assert_eq(json_integer_value(json_object_get(msg, "id")), 9);
	cr_assert_null(json_object_get(msg, "args"));
	json_decref(msg);
}

/* ---- the server, with a test command table ------------------------ */

static json_t *
test_cmd_echo(void *arg, const struct ctl_peer *peer, json_t *args,
    const char **code, char **msg)
{
	return json_pack("{s:O, s:I, s:b}", "args", args, "uid",
	    (json_int_t)peer->uid, "privileged", peer->privileged);
}

static json_t *
test_cmd_fail(void *arg, const struct ctl_peer *peer, json_t *args,
    const char **code, char **msg)
{
	*code = "no-such-jail";
	xasprintf(msg, "no such jail: %s",
	    json_string_value(json_object_get(args, "jail")));
	return NULL;
}

/* Reply with 60,000 bytes, to fill a slow reader's queue. */
static json_t *
test_cmd_big(void *arg, const struct ctl_peer *peer, json_t *args,
    const char **code, char **msg)
{
	char *s = xmalloc(60001);
	json_t *r;

	memset(s, 'x', 60000);
	s[60000] = '\0';
	r = json_pack("{s:s}", "blob", s);
	free(s);
	return r;
}

/* Canned daemon answers for jailctl, by command; args are remembered. */
static json_t *
test_canned_answer(const char *cmd, json_t *args, const char **code, char **msg)
{
	const char *jail = json_string_value(json_object_get(args, "jail"));
	long now = (long)time(NULL);

	json_decref(test_last_args);
	test_last_args = json_incref(args);
	if (jail != NULL && strcmp(jail, "nosuch") == 0) {
		*code = "no-such-jail";
		xasprintf(msg, "no such jail: %s", jail);
		return NULL;
	}
	if (strcmp(cmd, "status") == 0 && jail == NULL)
		return json_pack("{s:s, s:i, s:[{s:s, s:s, s:i, s:i, s:i, "
		                 "s:i, s:i}], s:[]}",
		    "version", "0.1.0", "uptime", 3600, "jails", "name",
		    "sendmail", "filter", "sendmail-idle", "banned", 1,
		    "failures", 2, "total_bans", 3, "lines", 400, "matched", 5,
		    "sources");
	if (strcmp(cmd, "status") == 0)
		return json_pack("{s:s, s:s, s:[s], s:[s], s:i, s:i, s:i, "
		                 "s:[{s:s, s:I, s:n, s:i, s:s}]}",
		    "name", jail, "filter", "sendmail-idle", "actions",
		    "nftables", "logpaths", "/var/log/maillog", "maxretry", 5,
		    "findtime", 600, "bantime", -1, "banned", "addr",
		    "192.0.2.77", "since", (json_int_t)(now - 7230), "until",
		    "failures", 5, "reason", "failures");
	if (strcmp(cmd, "list") == 0)
		return json_pack("{s:[{s:s, s:s, s:I, s:n, s:i, s:s}, "
		                 "{s:s, s:s, s:I, s:I, s:i, s:s}]}",
		    "bans", "jail", "sendmail", "addr", "192.0.2.77", "since",
		    (json_int_t)(now - 7200), "until", "failures", 5, "reason",
		    "failures", "jail", "sshd", "addr", "2001:db8::/64",
		    "since", (json_int_t)(now - 60), "until",
		    (json_int_t)(now + 3600), "failures", 12, "reason",
		    "manual");
	return json_pack("{s:O, s:n}", "args", args, "until");
}

static json_t *
test_cmd_status(void *arg, const struct ctl_peer *peer, json_t *args,
    const char **code, char **msg)
{
	return test_canned_answer("status", args, code, msg);
}

static json_t *
test_cmd_list(void *arg, const struct ctl_peer *peer, json_t *args,
    const char **code, char **msg)
{
	return test_canned_answer("list", args, code, msg);
}

static json_t *
test_cmd_other(void *arg, const struct ctl_peer *peer, json_t *args,
    const char **code, char **msg)
{
	return test_canned_answer("other", args, code, msg);
}

static const struct ctl_cmd test_cmds[] = {
    {"echo", test_cmd_echo, 0},
    {"secret", test_cmd_echo, CTL_PRIVILEGED},
    {"fail", test_cmd_fail, 0},
    {"big", test_cmd_big, 0},
    {NULL, NULL, 0},
};

static int
test_rm(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	return remove(path);
}

/* Make a temp dir and a loop; the socket goes in a subdirectory. */
static void
test_setup(void)
{
	strcpy(test_dir, "/tmp/test_ctl.XXXXXX");
	cr_assert_not_null(mkdtemp(test_dir));
	snprintf(test_sock, sizeof test_sock, "%s/run/jaild.sock", test_dir);
	cr_assert_eq(uv_loop_init(&test_loop), 0);
}

/* Start the server on test_sock with cmds. */
static void
test_start(const struct ctl_cmd *cmds, gid_t group, void *arg)
{
	char *cause = NULL;

	test_ctl = ctl_create(&test_loop, test_sock, group, cmds, arg, &cause);
	cr_assert_not_null(test_ctl, "ctl_create: %s", cause);
}

static void
test_teardown(void)
{
	ctl_free(test_ctl);
	test_ctl = NULL;
	uv_run(&test_loop, UV_RUN_DEFAULT);
	cr_expect_eq(uv_loop_close(&test_loop), 0);
	json_decref(test_last_args);
	test_last_args = NULL;
	nftw(test_dir, test_rm, 8, FTW_DEPTH | FTW_PHYS);
}

static void
test_setup_started(void)
{
	test_setup();
	test_start(test_cmds, (gid_t)-1, NULL);
}

/* Connect a plain blocking client socket. */
static int
test_connect(void)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, test_sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_neq(fd, -1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Send out (if any), then turn the loop until nlines reply lines or EOF
 * arrived; return the bytes read into in (NUL-terminated).
 */
static size_t
test_exchange(int fd, const char *out, int nlines, char *in, size_t size)
{
	size_t len = 0;
	int i, seen = 0;
	ssize_t n;
	char *p;

	if (out != NULL)
		cr_assert_eq(write(fd, out, strlen(out)), (ssize_t)strlen(out));
	for (i = 0; i < TEST_ROUNDS && seen < nlines && len + 1 < size; i++) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};

		uv_run(&test_loop, UV_RUN_NOWAIT);
		if (poll(&pfd, 1, 5) != 1)
			continue;
		n = read(fd, in + len, size - len - 1);
		if (n <= 0)
			break;
		for (p = in + len; p < in + len + n; p++)
			seen += *p == '\n';
		len += (size_t)n;
	}
	in[len] = '\0';
	return len;
}

/* Send one line and decode the one reply. */
static json_t *
test_call(int fd, const char *line)
{
	char buf[4096], *cause = NULL;
	size_t len;
	json_t *reply;

	len = test_exchange(fd, line, 1, buf, sizeof buf);
	cr_assert_gt(len, 0, "no reply to %s", line);
	reply = ctl_proto_decode(buf, len, &cause);
	cr_assert_not_null(reply, "%s: %s", cause, buf);
	return reply;
}

/* The reply's error code, or "" for a success. */
static const char *
test_code(const json_t *reply)
{
	const char *code;

	code = json_string_value(
	    json_object_get(json_object_get(reply, "error"), "code"));
	return code != NULL ? code : "";
}

TestSuite(ctl, .init = test_setup_started, .fini = test_teardown);

Test(ctl, socket_modes)
{
	struct stat sb;
	char dir[128];

	snprintf(dir, sizeof dir, "%s/run", test_dir);
	cr_assert_eq(stat(dir, &sb), 0);
	cr_assert_eq(sb.st_mode & 07777, 0750);
	cr_assert_eq(lstat(test_sock, &sb), 0);
	cr_assert(S_ISSOCK(sb.st_mode));
	cr_assert_eq(sb.st_mode & 0777, 0660);
}

Test(ctl, handler_gets_args_and_peer)
{
	int fd = test_connect();
	json_t *r;

	r = test_call(fd, "{\"v\":1,\"id\":42,\"cmd\":\"echo\",\"args\":"
	                  "{\"jail\":\"sshd\"}}\n");
	cr_assert(json_is_true(json_object_get(r, "ok")));
	cr_assert_eq(json_integer_value(json_object_get(r, "id")), 42);
	cr_assert_str_eq(
	    json_string_value(json_object_get(
	        json_object_get(json_object_get(r, "result"), "args"), "jail")),
	    "sshd");
	cr_assert_eq(json_integer_value(
	                 json_object_get(json_object_get(r, "result"), "uid")),
	    (json_int_t)getuid());
	json_decref(r);
	close(fd);
}

Test(ctl, absent_args_become_empty_object)
{
	int fd = test_connect();
	json_t *r, *args;

	r = test_call(fd, "{\"v\":1,\"id\":1,\"cmd\":\"echo\"}\n");
	args = json_object_get(json_object_get(r, "result"), "args");
	cr_assert(json_is_object(args));
	cr_assert_eq(json_object_size(args), 0);
	json_decref(r);
	close(fd);
}

Test(ctl, pipelined_requests_answered_in_order)
{
	char buf[4096], *line, *save = NULL;
	int fd = test_connect(), id = 0;
	json_t *r;

	test_exchange(fd,
	    "{\"v\":1,\"id\":1,\"cmd\":\"echo\"}\n"
	    "{\"v\":1,\"id\":2,\"cmd\":\"fail\",\"args\":{\"jail\":\"x\"}}\n"
	    "\n"
	    "{\"v\":1,\"id\":3,\"cmd\":\"echo\"}\n",
	    3, buf, sizeof buf);
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		r = ctl_proto_decode(line, strlen(line), NULL);
		cr_assert_not_null(r);
		cr_assert_eq(
		    json_integer_value(json_object_get(r, "id")), ++id);
		json_decref(r);
	}
	cr_assert_eq(id, 3);
	close(fd);
}

Test(ctl, error_codes)
{
	int fd = test_connect();
	json_t *r;

	r = test_call(fd, "{\"v\":2,\"id\":5,\"cmd\":\"echo\"}\n");
	cr_assert_str_eq(test_code(r), "version");
	cr_assert_eq(json_integer_value(json_object_get(r, "id")), 5);
	json_decref(r);
	r = test_call(fd, "{\"v\":1,\"id\":6,\"cmd\":\"nope\\u001b\"}\n");
	cr_assert_str_eq(test_code(r), "unknown-command");
	json_decref(r);
	r = test_call(fd, "this is not json\n");
	cr_assert_str_eq(test_code(r), "bad-request");
	json_decref(r);
	r = test_call(fd, "{\"v\":1,\"id\":7,\"cmd\":\"fail\",\"args\":"
	                  "{\"jail\":\"web\"}}\n");
	cr_assert_str_eq(test_code(r), "no-such-jail");
	cr_assert_str_eq(json_string_value(json_object_get(
	                     json_object_get(r, "error"), "msg")),
	    "no such jail: web");
	json_decref(r);
	/* The connection survives every one of those. */
	r = test_call(fd, "{\"v\":1,\"id\":8,\"cmd\":\"echo\"}\n");
	cr_assert(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	close(fd);
}

/* Issue #13: a reply-shaped line had a NULL command and crashed jaild. */
Test(ctl, reply_shaped_line_is_an_error)
{
	int fd = test_connect();
	json_t *r;

	r = test_call(fd, "{\"v\":1,\"id\":1,\"ok\":true,\"result\":1}\n");
	cr_assert_str_eq(test_code(r), "bad-request");
	json_decref(r);
	r = test_call(fd, "{\"v\":1,\"id\":2,\"ok\":false,\"error\":"
	                  "{\"code\":\"x\",\"msg\":\"y\"}}\n");
	cr_assert_str_eq(test_code(r), "bad-request");
	json_decref(r);
	r = test_call(fd, "{\"v\":1,\"id\":8,\"cmd\":\"echo\"}\n");
	cr_assert(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	close(fd);
}

/* Dispatch answers any message, even one the decoder would refuse. */
Test(ctl, dispatch_answers_any_shape)
{
	static const char *bad[] = {"{\"id\":1}", "{\"id\":1,\"cmd\":7}",
	    "{\"id\":1,\"cmd\":null}", "[1]", "\"echo\"",
	    "{\"id\":1,\"cmd\":\"echo\",\"args\":[]}",
	    "{\"id\":1,\"ok\":true,\"result\":1}"};
	struct ctl_peer peer = {0, 0, 1, 0};
	json_t *msg, *r;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		msg = json_loads(bad[i], JSON_DECODE_ANY, NULL);
		cr_assert_not_null(msg);
		r = ctl_dispatch(test_cmds, NULL, &peer, NULL, msg);
		cr_assert_str_eq(test_code(r), "bad-request", "%s", bad[i]);
		json_decref(r);
		json_decref(msg);
	}
	msg = json_loads("{\"id\":3,\"cmd\":\"secret\"}", 0, NULL);
	r = ctl_dispatch(test_cmds, NULL, &peer, NULL, msg);
	cr_assert_str_eq(test_code(r), "permission");
	json_decref(r);
	json_decref(msg);
}

/* Wait (bounded) until the server has n clients. */
static void
test_wait_clients(unsigned n)
{
	int i;

	for (i = 0; i < TEST_ROUNDS && ctl_clients(test_ctl) != n; i++) {
		uv_run(&test_loop, UV_RUN_NOWAIT);
		poll(NULL, 0, 5);
	}
	cr_assert_eq(ctl_clients(test_ctl), n);
}

/*
 * A client pipelining requests is answered a batch per loop turn, and not
 * at all while its replies pile up: another client is answered meanwhile.
 */
Test(ctl, pipelining_client_does_not_starve_others)
{
	char *flood = xmalloc(64 * 30 + 1);
	int greedy = test_connect(), fd = test_connect();
	size_t i;
	json_t *r;

	flood[0] = '\0';
	for (i = 0; i < 64; i++)
		strcat(flood, "{\"v\":1,\"id\":1,\"cmd\":\"big\"}\n");
	cr_assert_eq(
	    write(greedy, flood, strlen(flood)), (ssize_t)strlen(flood));
	/* greedy reads nothing; the other still gets its answer. */
	r = test_call(fd, "{\"v\":1,\"id\":2,\"cmd\":\"echo\"}\n");
	cr_assert(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	/* greedy, paused with a full queue, has not been served all 64. */
	cr_assert_eq(ctl_clients(test_ctl), 2);
	close(fd);
	close(greedy);
	free(flood);
}

Test(ctl, partial_and_idle_clients_time_out)
{
	int idle, partial, fd;
	json_t *r;

	ctl_set_timeout(test_ctl, 200);
	idle = test_connect();
	partial = test_connect();
	cr_assert_eq(write(partial, "{\"v\":1,", 7), 7);
	test_wait_clients(2);
	/* Both are dropped: neither ever sends a whole line. */
	test_wait_clients(0);
	close(idle);
	close(partial);
	/* A client that does send a line is answered as before. */
	fd = test_connect();
	r = test_call(fd, "{\"v\":1,\"id\":1,\"cmd\":\"echo\"}\n");
	cr_assert(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	close(fd);
}

Test(ctl, overlong_line_gets_error_then_close)
{
	char *big = xmalloc(CTL_PROTO_MAXLINE + 2), buf[4096];
	int fd = test_connect();
	size_t len;

	memset(big, 'a', CTL_PROTO_MAXLINE + 1);
	big[CTL_PROTO_MAXLINE + 1] = '\0';
	/* A blocking write of 64 KiB would stall: the loop must run. */
	cr_assert_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	len = 0;
	for (int i = 0; i < TEST_ROUNDS && len < strlen(big); i++) {
		ssize_t n = write(fd, big + len, strlen(big) - len);

		if (n > 0)
			len += (size_t)n;
		else
			cr_assert(n == -1 && errno == EAGAIN, "write: %s",
			    strerror(errno));
		uv_run(&test_loop, UV_RUN_NOWAIT);
	}
	cr_assert_eq(fcntl(fd, F_SETFL, 0), 0);
	len = test_exchange(fd, NULL, 2, buf, sizeof buf);
	cr_assert(strstr(buf, "\"too-long\"") != NULL, "got %s", buf);
	cr_assert_lt(len, sizeof buf - 1);
	free(big);
	close(fd);
}

Test(ctl, eof_after_request_still_gets_reply)
{
	char buf[4096];
	int fd = test_connect();

	cr_assert_eq(
	    write(fd, "{\"v\":1,\"id\":1,\"cmd\":\"echo\"}\n", 29), 29);
	shutdown(fd, SHUT_WR);
	test_exchange(fd, NULL, 1, buf, sizeof buf);
	cr_assert(strstr(buf, "\"ok\":true") != NULL, "got %s", buf);
	close(fd);
}

Test(ctl, second_server_refused_stale_socket_replaced)
{
	struct ctl *other;
	char *cause = NULL;

	other = ctl_create(
	    &test_loop, test_sock, (gid_t)-1, test_cmds, NULL, &cause);
	cr_assert_null(other);
	cr_assert(strstr(cause, "already running") != NULL, "%s", cause);
	free(cause);
	cr_assert_eq(access(test_sock, F_OK), 0);
	/* Closing leaves no socket; a new server may start. */
	ctl_free(test_ctl);
	uv_run(&test_loop, UV_RUN_DEFAULT);
	cr_assert_neq(access(test_sock, F_OK), 0);
	test_start(test_cmds, (gid_t)-1, NULL);
}

Test(ctl, stale_socket_is_replaced_regular_file_is_not)
{
	struct sockaddr_un sun;
	char *cause = NULL;
	int fd;

	ctl_free(test_ctl);
	test_ctl = NULL;
	uv_run(&test_loop, UV_RUN_DEFAULT);
	/* A socket bound by a dead daemon: nobody listens. */
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, test_sock);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	close(fd);
	test_start(test_cmds, (gid_t)-1, NULL);
	ctl_free(test_ctl);
	test_ctl = NULL;
	uv_run(&test_loop, UV_RUN_DEFAULT);
	fd = open(test_sock, O_CREAT | O_WRONLY, 0600);
	close(fd);
	cr_assert_null(ctl_create(
	    &test_loop, test_sock, (gid_t)-1, test_cmds, NULL, &cause));
	cr_assert(strstr(cause, "not a socket") != NULL, "%s", cause);
	free(cause);
	cr_assert_eq(access(test_sock, F_OK), 0, "the file was removed");
}

Test(ctl, client_cap)
{
	int fds[70], i, n, extra;
	char buf[64];

	/* Accept as we go: a blocking connect waits on a full backlog. */
	for (i = 0; i < 64; i++) {
		cr_assert_neq(fds[i] = test_connect(), -1);
		for (n = 0;
		     n < TEST_ROUNDS && ctl_clients(test_ctl) < (unsigned)i + 1;
		     n++)
			uv_run(&test_loop, UV_RUN_NOWAIT);
	}
	cr_assert_eq(ctl_clients(test_ctl), 64);
	extra = test_connect();
	cr_assert_neq(extra, -1);
	/* The 65th is accepted and closed at once: EOF, no reply. */
	cr_assert_eq(test_exchange(extra, NULL, 1, buf, sizeof buf), 0);
	close(extra);
	for (i = 0; i < 64; i++)
		close(fds[i]);
	for (n = 0; n < TEST_ROUNDS && ctl_clients(test_ctl) > 0; n++) {
		uv_run(&test_loop, UV_RUN_NOWAIT);
		poll(NULL, 0, 1);
	}
	cr_assert_eq(ctl_clients(test_ctl), 0);
}

Test(ctl, slow_reader_dropped)
{
	const char *req = "{\"v\":1,\"id\":1,\"cmd\":\"big\"}\n";
	int fd = test_connect(), n, i;

	/* Its replies stop moving: dropped at the second tick. */
	ctl_set_timeout(test_ctl, 100);
	for (n = 0; n < TEST_ROUNDS && ctl_clients(test_ctl) < 1; n++)
		uv_run(&test_loop, UV_RUN_NOWAIT);
	cr_assert_eq(ctl_clients(test_ctl), 1);
	/* 40 replies of 60 KB: 2.4 MB, more than the socket and the cap. */
	for (i = 0; i < 40; i++)
		cr_assert_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	for (n = 0; n < TEST_ROUNDS && ctl_clients(test_ctl) > 0; n++) {
		uv_run(&test_loop, UV_RUN_NOWAIT);
		poll(NULL, 0, 1);
	}
	cr_assert_eq(ctl_clients(test_ctl), 0, "slow reader not dropped");
	close(fd);
}

/* ---- peers with other credentials: a real child process ----------- */

/*
 * Fork a child that takes gid and groups (ngroups of them) and uid
 * TEST_NOBODY, sends line, and writes the reply to test_dir/reply.
 * Return the reply's error code ("" for success).
 */
static char *
test_call_as(gid_t gid, const gid_t *groups, size_t ngroups, const char *line)
{
	char path[128], buf[4096];
	int status = -1, n, fd, ofd;
	size_t len;
	pid_t pid;
	json_t *r;
	char *code;

	snprintf(path, sizeof path, "%s/reply", test_dir);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		/* Opened before the privileges go: test_dir is root's. */
		ofd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
		if (ofd == -1 || setgroups(ngroups, groups) != 0 ||
		    setgid(gid) != 0 || setuid(TEST_NOBODY) != 0)
			_exit(3);
		fd = test_connect();
		if (fd == -1)
			_exit(4);
		if (write(fd, line, strlen(line)) != (ssize_t)strlen(line))
			_exit(5);
		len = 0;
		for (n = 0; n < 2000 && memchr(buf, '\n', len) == NULL; n++) {
			struct pollfd pfd = {.fd = fd, .events = POLLIN};
			ssize_t got;

			if (poll(&pfd, 1, 10) != 1)
				continue;
			got = read(fd, buf + len, sizeof buf - len);
			if (got <= 0)
				break;
			len += (size_t)got;
		}
		_exit(write(ofd, buf, len) == (ssize_t)len ? 0 : 6);
	}
	for (n = 0; n < TEST_ROUNDS; n++) {
		uv_run(&test_loop, UV_RUN_NOWAIT);
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		poll(NULL, 0, 5);
	}
	if (n == TEST_ROUNDS) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "child failed: status %d", status);
	fd = open(path, O_RDONLY);
	len = (size_t)read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[len] = '\0';
	r = ctl_proto_decode(buf, len, NULL);
	cr_assert_not_null(r, "bad reply %s", buf);
	code = xstrdup(test_code(r));
	if (*code == '\0') {
		free(code);
		code = xstrdup(json_is_true(json_object_get(
		                   json_object_get(r, "result"), "privileged"))
		                   ? "privileged"
		                   : "plain");
	} else if (strcmp(code, "permission") == 0)
		cr_assert(
		    strstr(buf, "may only be run by root") != NULL, "%s", buf);
	json_decref(r);
	return code;
}

/* Restart the server with TEST_GROUP and let others reach the socket. */
static void
test_setup_group(void)
{
	char dir[128];

	test_setup();
	if (geteuid() != 0)
		return;
	test_start(test_cmds, TEST_GROUP, NULL);
	snprintf(dir, sizeof dir, "%s/run", test_dir);
	chmod(test_dir, 0755);
	chmod(dir, 0755);
	chmod(test_sock, 0666);
}

TestSuite(ctl_peer, .init = test_setup_group, .fini = test_teardown);

Test(ctl_peer, group_owns_socket)
{
	struct stat sb;

	if (geteuid() != 0)
		cr_skip_test("needs root to change credentials");
	cr_assert_eq(stat(test_sock, &sb), 0);
	cr_assert_eq(sb.st_gid, TEST_GROUP);
}

Test(ctl_peer, unprivileged_peer_refused_privileged_command)
{
	const char *secret = "{\"v\":1,\"id\":1,\"cmd\":\"secret\"}\n";
	const char *echo = "{\"v\":1,\"id\":1,\"cmd\":\"echo\"}\n";
	char *code;

	if (geteuid() != 0)
		cr_skip_test("needs root to change credentials");
	code = test_call_as(TEST_NOBODY, NULL, 0, secret);
	cr_assert_str_eq(code, "permission");
	free(code);
	code = test_call_as(TEST_NOBODY, NULL, 0, echo);
	cr_assert_str_eq(code, "plain");
	free(code);
}

/* Issue #13: the socket's group is read-only. */
Test(ctl_peer, group_members_are_read_only)
{
	const char *secret = "{\"v\":1,\"id\":1,\"cmd\":\"secret\"}\n";
	const char *echo = "{\"v\":1,\"id\":1,\"cmd\":\"echo\"}\n";
	gid_t g = TEST_GROUP;
	char *code;

	if (geteuid() != 0)
		cr_skip_test("needs root to change credentials");
	code = test_call_as(TEST_GROUP, NULL, 0, secret);
	cr_assert_str_eq(code, "permission");
	free(code);
	code = test_call_as(TEST_NOBODY, &g, 1, secret);
	cr_assert_str_eq(code, "permission");
	free(code);
	code = test_call_as(TEST_NOBODY, &g, 1, echo);
	cr_assert_str_eq(code, "plain");
	free(code);
}

Test(ctl_peer, admin_group_members_are_privileged)
{
	const char *secret = "{\"v\":1,\"id\":1,\"cmd\":\"secret\"}\n";
	gid_t g[2] = {TEST_GROUP, TEST_GROUP + 1};
	char *code;

	if (geteuid() != 0)
		cr_skip_test("needs root to change credentials");
	ctl_set_admin_group(test_ctl, TEST_GROUP + 1);
	code = test_call_as(TEST_GROUP + 1, NULL, 0, secret);
	cr_assert_str_eq(code, "privileged");
	free(code);
#ifdef HAVE_SO_PEERCRED
	/*
	 * Only a supplementary group: SO_PEERGROUPS must find it.  Without
	 * it (getpeereid) membership comes from the group database, which
	 * has no such group; tests/e2e/hostile_client.sh checks that path
	 * with real users.
	 */
	code = test_call_as(TEST_NOBODY, g, 2, secret);
	cr_assert_str_eq(code, "privileged");
	free(code);
#else
	(void)g;
#endif
	code = test_call_as(TEST_GROUP, NULL, 0, secret);
	cr_assert_str_eq(code, "permission");
	free(code);
}

/* Issue #13: clients that are not root never take root's last slots. */
Test(ctl_peer, root_keeps_a_slot)
{
	int fds[70], fd, i, pipefd[2], n;
	char c;
	json_t *r;
	pid_t pid;

	if (geteuid() != 0)
		cr_skip_test("needs root to change credentials");
	cr_assert_eq(pipe(pipefd), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		close(pipefd[1]);
		if (setgid(TEST_GROUP) != 0 || setuid(TEST_NOBODY) != 0)
			_exit(3);
		for (i = 0; i < 70; i++)
			fds[i] = test_connect();
		/* Hold them (no line sent) until the parent closes the pipe. */
		n = (int)read(pipefd[0], &c, 1);
		for (i = 0; i < 70; i++)
			close(fds[i]);
		_exit(n < 0 ? 4 : 0);
	}
	close(pipefd[0]);
	/* 60 are kept, the 10 others refused; wait for that to settle. */
	for (n = 0; n < TEST_ROUNDS && ctl_clients(test_ctl) < 60; n++) {
		uv_run(&test_loop, UV_RUN_NOWAIT);
		poll(NULL, 0, 5);
	}
	for (n = 0; n < 50; n++) {
		uv_run(&test_loop, UV_RUN_NOWAIT);
		poll(NULL, 0, 5);
	}
	cr_assert_eq(ctl_clients(test_ctl), 60);
	fd = test_connect();
	cr_assert_neq(fd, -1);
	r = test_call(fd, "{\"v\":1,\"id\":1,\"cmd\":\"secret\"}\n");
	cr_assert(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	close(fd);
	close(pipefd[1]);
	waitpid(pid, NULL, 0);
}

Test(ctl_peer, root_is_privileged)
{
	int fd;
	json_t *r;

	if (geteuid() != 0)
		cr_skip_test("needs root");
	fd = test_connect();
	r = test_call(fd, "{\"v\":1,\"id\":1,\"cmd\":\"secret\"}\n");
	cr_assert(json_is_true(
	    json_object_get(json_object_get(r, "result"), "privileged")));
	json_decref(r);
	close(fd);
}

/* ---- jailctl against a server with canned answers ----------------- */

static const struct ctl_cmd test_canned[] = {
    {"status", test_cmd_status, 0},
    {"ban", test_cmd_other, CTL_PRIVILEGED},
    {"unban", test_cmd_other, CTL_PRIVILEGED},
    {"list", test_cmd_list, 0},
    {NULL, NULL, 0},
};

struct test_run {
	int exited;
	int64_t status;
	char out[8192];
	char err[4096];
};

static void
test_run_exit(uv_process_t *p, int64_t status, int sig)
{
	struct test_run *run = p->data;

	run->exited = 1;
	run->status = sig != 0 ? 128 + sig : status;
	uv_close((uv_handle_t *)p, NULL);
}

/* The jailctl binary: $JAILCTL, else $top_builddir/jailctl/jailctl. */
static void
test_jailctl_path(char *buf, size_t len)
{
	const char *p = getenv("JAILCTL"), *top = getenv("top_builddir");

	if (p != NULL)
		snprintf(buf, len, "%s", p);
	else
		snprintf(buf, len, "%s/jailctl/jailctl", top ? top : ".");
	if (access(buf, X_OK) != 0)
		cr_skip_test("%s not built", buf);
}

/* Read a whole small file into buf. */
static void
test_slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	cr_assert_neq(fd, -1);
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
}

/* Run jailctl with args (NULL-terminated) while serving the socket. */
static void
test_jailctl(struct test_run *run, const char *const *args)
{
	char bin[256], out[128], err[128], *argv[16];
	char *env[] = {test_env_nocolor, test_env_tz, NULL};
	uv_process_options_t o;
	uv_stdio_container_t io[3];
	uv_process_t proc;
	int i, ofd, efd;

	test_jailctl_path(bin, sizeof bin);
	snprintf(out, sizeof out, "%s/out", test_dir);
	snprintf(err, sizeof err, "%s/err", test_dir);
	ofd = open(out, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	efd = open(err, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	argv[0] = bin;
	for (i = 0; args[i] != NULL && i < 14; i++)
		argv[i + 1] = (char *)args[i];
	argv[i + 1] = NULL;
	memset(&o, 0, sizeof o);
	memset(run, 0, sizeof *run);
	io[0].flags = UV_IGNORE;
	io[1].flags = UV_INHERIT_FD;
	io[1].data.fd = ofd;
	io[2].flags = UV_INHERIT_FD;
	io[2].data.fd = efd;
	o.file = bin;
	o.args = argv;
	o.env = env;
	o.stdio = io;
	o.stdio_count = 3;
	o.exit_cb = test_run_exit;
	proc.data = run;
	cr_assert_eq(uv_spawn(&test_loop, &proc, &o), 0);
	close(ofd);
	close(efd);
	for (i = 0; i < TEST_ROUNDS && !run->exited; i++) {
		uv_run(&test_loop, UV_RUN_NOWAIT);
		poll(NULL, 0, 5);
	}
	if (!run->exited)
		uv_process_kill(&proc, SIGKILL);
	while (!run->exited)
		uv_run(&test_loop, UV_RUN_ONCE);
	uv_run(&test_loop, UV_RUN_NOWAIT); /* the process handle's close */
	test_slurp(out, run->out, sizeof run->out);
	test_slurp(err, run->err, sizeof run->err);
}

static void
test_setup_canned(void)
{
	test_setup();
	test_start(test_canned, (gid_t)-1, NULL);
}

TestSuite(jailctl, .init = test_setup_canned, .fini = test_teardown);

Test(jailctl, json_status_is_the_result_verbatim)
{
	const char *args[] = {"-S", test_sock, "-j", "status", NULL};
	struct test_run run;

	test_jailctl(&run, args);
	cr_assert_eq(run.status, 0, "stderr: %s", run.err);
	cr_assert_str_eq(run.out,
	    "{\"version\":\"0.1.0\",\"uptime\":3600,\"jails\":[{\"name\":"
	    "\"sendmail\",\"filter\":\"sendmail-idle\",\"banned\":1,"
	    "\"failures\":2,\"total_bans\":3,\"lines\":400,\"matched\":5}],"
	    "\"sources\":[]}\n");
}

Test(jailctl, human_status_of_a_jail)
{
	const char *args[] = {"-S", test_sock, "status", "sendmail", NULL};
	struct test_run run;

	test_jailctl(&run, args);
	cr_assert_eq(run.status, 0, "stderr: %s", run.err);
	cr_assert(
	    strstr(run.out, "jail        sendmail\n") != NULL, "%s", run.out);
	cr_assert(strstr(run.out, "bantime forever") != NULL, "%s", run.out);
	cr_assert(strstr(run.out, "192.0.2.77") != NULL, "%s", run.out);
	/* 2h30s: "2h" whichever second either side reads the clock in. */
	cr_assert(strstr(run.out, "(2h ago)") != NULL, "%s", run.out);
	cr_assert(strstr(run.out, "never") != NULL, "%s", run.out);
	cr_assert(strchr(run.out, '\033') == NULL, "colour without a tty");
}

Test(jailctl, list_columns_align)
{
	const char *args[] = {"-S", test_sock, "list", NULL};
	struct test_run run;
	char *l1, *l2, *l3;

	test_jailctl(&run, args);
	cr_assert_eq(run.status, 0, "stderr: %s", run.err);
	l1 = run.out;
	l2 = strchr(l1, '\n') + 1;
	l3 = strchr(l2, '\n') + 1;
	cr_assert(strncmp(l1, "JAIL      ADDR           SINCE", 30) == 0, "%s",
	    run.out);
	cr_assert(
	    strncmp(l2, "sendmail  192.0.2.77     20", 27) == 0, "%s", run.out);
	cr_assert(
	    strncmp(l3, "sshd      2001:db8::/64  20", 27) == 0, "%s", run.out);
	cr_assert(strstr(l3, "(in 1h)") != NULL, "%s", run.out);
}

Test(jailctl, ban_sends_args_as_typed)
{
	const char *args[] = {
	    "-S", test_sock, "ban", "sendmail", "10.0.0.0/24", "1h", NULL};
	struct test_run run;
	json_t *want;

	test_jailctl(&run, args);
	cr_assert_eq(run.status, 0, "stderr: %s", run.err);
	want = json_pack("{s:s, s:s, s:s}", "jail", "sendmail", "addr",
	    "10.0.0.0/24", "duration", "1h");
	cr_assert(json_equal(test_last_args, want));
	json_decref(want);
}

Test(jailctl, unban_all)
{
	const char *args[] = {"-S", test_sock, "unban", "--all", "sshd", NULL};
	struct test_run run;
	json_t *want;

	test_jailctl(&run, args);
	cr_assert_eq(run.status, 0, "stderr: %s", run.err);
	want = json_pack("{s:b, s:s}", "all", 1, "jail", "sshd");
	cr_assert(json_equal(test_last_args, want));
	json_decref(want);
}

Test(jailctl, daemon_error_exits_1)
{
	const char *args[] = {"-S", test_sock, "status", "nosuch", NULL};
	struct test_run run;

	test_jailctl(&run, args);
	cr_assert_eq(run.status, 1);
	cr_assert_str_eq(run.err, "jailctl: no such jail: nosuch\n");
	cr_assert_str_eq(run.out, "");
}

Test(jailctl, not_running)
{
	char path[128];
	const char *args[] = {"-S", path, "status", NULL};
	struct test_run run;

	snprintf(path, sizeof path, "%s/none.sock", test_dir);
	test_jailctl(&run, args);
	cr_assert_eq(run.status, 1);
	cr_assert(strstr(run.err, "jailctl: jaild is not running (no socket "
	                          "at ") != NULL,
	    "%s", run.err);
}

Test(jailctl, usage_errors_exit_2)
{
	const char *a1[] = {"-S", test_sock, "ban", "sendmail", NULL};
	const char *a2[] = {"-S", test_sock, "frobnicate", NULL};
	const char *a3[] = {NULL};
	struct test_run run;

	test_jailctl(&run, a1);
	cr_assert_eq(run.status, 2);
	cr_assert(strstr(run.err, "usage:") != NULL);
	test_jailctl(&run, a2);
	cr_assert_eq(run.status, 2);
	test_jailctl(&run, a3);
	cr_assert_eq(run.status, 2);
}
