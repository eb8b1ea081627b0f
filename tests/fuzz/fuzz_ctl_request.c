/* libFuzzer target: decode and dispatch hostile request lines to a daemon. */
#include <sys/stat.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "conf.h"
#include "ctl.h"
#include "ctl_cmd.h"
#include "ctl_proto.h"
#include "daemon.h"
#include "log.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static uv_loop_t fuzz_loop;
static struct daemon *fuzz_daemon;
static char fuzz_dir[] = "/tmp/fuzz_ctl.XXXXXX";

/* Remove the temp config at exit (libFuzzer exits without cleanup). */
static void
fuzz_cleanup(void)
{
	static const char *files[] = {"sock", "log", "jaild.conf",
	    "filters/fuzz.conf", "jails.d/fuzz.conf", "filters", "jails.d", ""};
	char path[512];
	size_t i;

	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", fuzz_dir, files[i]);
		remove(path);
	}
}

/* Write text to dir/name. */
static void
fuzz_write(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL || fputs(text, f) == EOF)
		abort();
	fclose(f);
}

/*
 * A minimal real daemon: one jail without actions, the store in memory,
 * the socket and the log in a temp dir.  The commands run against it as
 * they do in jaild, so a handler that trusts its args is found too.
 */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *dir = fuzz_dir;
	struct daemon_opts opts;
	struct conf_errors errs = {NULL, 0};
	char buf[1024], *cause = NULL, sub[600];

	if (mkdtemp(dir) == NULL)
		abort();
	atexit(fuzz_cleanup);
	log_init(1, 0);
	snprintf(sub, sizeof sub, "%s/filters", dir);
	mkdir(sub, 0700);
	snprintf(sub, sizeof sub, "%s/jails.d", dir);
	mkdir(sub, 0700);
	fuzz_write(dir, "log", "");
	fuzz_write(dir, "filters/fuzz.conf",
	    "[Definition]\nfailregex = ^fail <HOST>$\n");
	snprintf(buf, sizeof buf,
	    "[jaild]\nsocket = %s/sock\ndbfile = :memory:\n", dir);
	fuzz_write(dir, "jaild.conf", buf);
	snprintf(buf, sizeof buf,
	    "[fuzz]\nenabled = true\nfilter = fuzz\naction =\n"
	    "logpath = %s/log\nignoreip = 10.0.0.0/8\n",
	    dir);
	fuzz_write(dir, "jails.d/fuzz.conf", buf);
	memset(&opts, 0, sizeof opts);
	opts.confdir = dir;
	opts.foreground = 1;
	uv_loop_init(&fuzz_loop);
	fuzz_daemon = daemon_create(&fuzz_loop, &opts, &errs, &cause);
	if (fuzz_daemon == NULL) {
		fprintf(stderr, "fuzz_ctl: daemon: %s\n",
		    errs.n > 0 ? errs.msgs[0] : cause);
		abort();
	}
	return 0;
}

/*
 * Dispatch must answer whatever JSON it is handed, even what the decoder
 * refuses (issue #13: a reply-shaped line reached it with no "cmd").
 */
static void
fuzz_dispatch_raw(const uint8_t *data, size_t size)
{
	struct ctl_peer root = {0, 0, 1, 1};
	json_t *any, *reply;

	any = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (any == NULL)
		return;
	reply = ctl_dispatch(ctl_cmd_table, fuzz_daemon, &root, NULL, any);
	if (reply == NULL || !json_is_object(reply))
		abort(); /* every message gets a reply */
	json_decref(reply);
	json_decref(any);
}

/*
 * Decode one line as the server does and dispatch what passes, as root
 * or as a read-only peer; then check the codec round-trips.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_peer root = {0, 0, 1, 1}, reader = {1000, 1000, 2, 0};
	json_t *msg, *again, *reply;
	char *cause = NULL, *line;

	if (size > CTL_PROTO_MAXLINE)
		return 0;
	fuzz_dispatch_raw(data, size);
	uv_run(&fuzz_loop, UV_RUN_NOWAIT);
	msg = ctl_proto_decode_request((const char *)data, size, &cause);
	if (msg == NULL) {
		if (cause == NULL)
			abort(); /* every failure must say why */
		free(cause);
		return 0;
	}
	reply = ctl_dispatch(ctl_cmd_table, fuzz_daemon,
	    size > 0 && data[0] == ' ' ? &reader : &root, NULL, msg);
	if (reply == NULL || !json_is_object(reply))
		abort(); /* every request gets a reply */
	json_decref(reply);
	uv_run(&fuzz_loop, UV_RUN_NOWAIT);
	line = ctl_proto_encode(msg);
	if (line != NULL) {
		if (strchr(line, '\n') != line + strlen(line) - 1)
			abort(); /* one message, one line */
		again = ctl_proto_decode_request(line, strlen(line), &cause);
		if (again == NULL || !json_equal(msg, again))
			abort();
		json_decref(again);
		free(line);
	}
	json_decref(msg);
	return 0;
}
