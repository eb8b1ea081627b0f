/* The control protocol's codec: build, encode and check JSON-line messages. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl_proto.h"
#include "xmalloc.h"

/* Build a request; args, if given, is stolen. */
json_t *
ctl_proto_request(long id, const char *cmd, json_t *args)
{
	json_t *msg;

	msg = json_pack("{s:i, s:I, s:s}", "v", CTL_PROTO_VERSION, "id",
	    (json_int_t)id, "cmd", cmd);
	if (msg == NULL) {
		json_decref(args);
		return NULL;
	}
	if (args != NULL)
		json_object_set_new(msg, "args", args);
	return msg;
}

/* Build a success reply; result is stolen (NULL becomes null). */
json_t *
ctl_proto_reply_ok(long id, json_t *result)
{
	return json_pack("{s:i, s:I, s:b, s:o}", "v", CTL_PROTO_VERSION, "id",
	    (json_int_t)id, "ok", 1, "result",
	    result != NULL ? result : json_null());
}

/* Build an error reply with a printf-formatted message. */
json_t *
ctl_proto_reply_error(long id, const char *code, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	json_t *reply;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	reply = json_pack("{s:i, s:I, s:b, s:{s:s, s:s}}", "v",
	    CTL_PROTO_VERSION, "id", (json_int_t)id, "ok", 0, "error", "code",
	    code, "msg", msg != NULL ? msg : "out of memory");
	free(msg);
	return reply;
}

/* Encode msg as one compact line of at most max bytes, '\n' included. */
char *
ctl_proto_encode_max(const json_t *msg, size_t max)
{
	char *s, *line;
	size_t len;

	/* Control bytes are escaped by jansson, so no raw '\n' can appear. */
	s = json_dumps(msg, JSON_COMPACT | JSON_ENCODE_ANY);
	if (s == NULL)
		return NULL;
	len = strlen(s);
	if (len + 1 > max) {
		free(s);
		return NULL;
	}
	line = xmalloc(len + 2);
	memcpy(line, s, len);
	line[len] = '\n';
	line[len + 1] = '\0';
	free(s);
	return line;
}

char *
ctl_proto_encode(const json_t *msg)
{
	return ctl_proto_encode_max(msg, CTL_PROTO_MAXLINE);
}

/* Check "v": missing or other than CTL_PROTO_VERSION is an error. */
static int
ctl_proto_check_version(const json_t *msg, char **cause)
{
	json_t *v = json_object_get(msg, "v");
	char *got;

	if (v == NULL) {
		xasprintf(cause, "missing protocol version \"v\" (expected %d)",
		    CTL_PROTO_VERSION);
		return -1;
	}
	if (json_is_integer(v) && json_integer_value(v) == CTL_PROTO_VERSION)
		return 0;
	got = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
	xasprintf(cause,
	    "protocol version mismatch: got v=%.32s, expected v=%d",
	    got != NULL ? got : "?", CTL_PROTO_VERSION);
	free(got);
	return -1;
}

/* Check the shape of a reply: ok, then result or error{code,msg}. */
static int
ctl_proto_check_reply(const json_t *msg, char **cause)
{
	json_t *ok = json_object_get(msg, "ok"), *err;

	if (!json_is_boolean(ok)) {
		xasprintf(cause, "\"ok\" is not a boolean");
		return -1;
	}
	if (json_is_true(ok)) {
		if (json_object_get(msg, "result") == NULL) {
			xasprintf(cause, "reply has no \"result\"");
			return -1;
		}
		return 0;
	}
	err = json_object_get(msg, "error");
	if (!json_is_object(err) ||
	    !json_is_string(json_object_get(err, "code")) ||
	    !json_is_string(json_object_get(err, "msg"))) {
		xasprintf(cause, "\"error\" needs string \"code\" and \"msg\"");
		return -1;
	}
	return 0;
}

/* Check the shape of a request: cmd string, args object or absent. */
static int
ctl_proto_check_request(const json_t *msg, char **cause)
{
	json_t *args;

	if (!json_is_string(json_object_get(msg, "cmd"))) {
		xasprintf(cause, "\"cmd\" is missing or not a string");
		return -1;
	}
	args = json_object_get(msg, "args");
	if (args != NULL && !json_is_object(args)) {
		xasprintf(cause, "\"args\" is not an object");
		return -1;
	}
	return 0;
}

/* Replace bytes that are not printable ASCII: causes go into replies. */
static void
ctl_proto_sanitize(char *s)
{
	for (; *s != '\0'; s++) {
		if (*s < 0x20 || *s > 0x7e)
			*s = '?';
	}
}

/* Parse and check one line (a trailing '\n' is allowed). */
json_t *
ctl_proto_decode(const char *line, size_t len, char **cause)
{
	json_error_t jerr;
	json_t *msg;
	int rc;

	if (len > 0 && line[len - 1] == '\n')
		len--;
	msg = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (msg == NULL) {
		ctl_proto_sanitize(jerr.text);
		xasprintf(
		    cause, "bad JSON at column %d: %s", jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(msg)) {
		xasprintf(cause, "message is not a JSON object");
		goto fail;
	}
	if (ctl_proto_check_version(msg, cause) != 0)
		goto fail;
	if (!json_is_integer(json_object_get(msg, "id"))) {
		xasprintf(cause, "\"id\" is missing or not an integer");
		goto fail;
	}
	if (json_object_get(msg, "ok") != NULL)
		rc = ctl_proto_check_reply(msg, cause);
	else
		rc = ctl_proto_check_request(msg, cause);
	if (rc != 0)
		goto fail;
	return msg;
fail:
	json_decref(msg);
	return NULL;
}

/* Parse one request line: a reply, or anything without a "cmd", is refused. */
json_t *
ctl_proto_decode_request(const char *line, size_t len, char **cause)
{
	json_t *msg;

	if ((msg = ctl_proto_decode(line, len, cause)) == NULL)
		return NULL;
	if (json_object_get(msg, "ok") != NULL) {
		json_decref(msg);
		xasprintf(cause, "a reply is not a request: \"cmd\" is "
		                 "missing and \"ok\" is set");
		return NULL;
	}
	return msg;
}
