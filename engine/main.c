/* jaild: the jail engine daemon's command line. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "platform.h"
#include "service.h"

#ifndef JAILD_CONFDIR
#define JAILD_CONFDIR "/etc/jaild"
#endif

static const struct option main_opts[] = {{"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0}};

static void __attribute__((noreturn)) main_usage(FILE *f, int rc)
{
	fprintf(f, "usage: jaild [-fnvV] [-c confdir] [-S socket] "
	           "[-D database] [-p pidfile]\n"
	           "       jaild -h | --help | --version\n");
	exit(rc);
}

/* Print every config problem, one "file:line: message" per line. */
static void
main_print_errors(const struct conf_errors *errs)
{
	size_t i;

	for (i = 0; i < errs->n; i++)
		fprintf(stderr, "jaild: %s\n", errs->msgs[i]);
	fprintf(stderr, "jaild: %zu error%s: configuration refused\n", errs->n,
	    errs->n == 1 ? "" : "s");
}

/*
 * Detach from the terminal as daemon(3) does, except that the parent
 * waits: the child's stderr is a pipe to it until the child says it is
 * ready (a NUL byte) or exits.  A failed start is so reported on the
 * terminal, with exit status 1, instead of only to syslog.
 */
static void
main_detach(void)
{
	char buf[4096];
	ssize_t n;
	int p[2], null, ready = 0;

	if (pipe(p) != 0)
		fatal("pipe");
	switch (fork()) {
	case -1:
		fatal("fork");
	case 0:
		close(p[0]);
		if (setsid() == -1 || chdir("/") != 0 ||
		    (null = open("/dev/null", O_RDWR)) == -1)
			fatal("detach");
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		close(null);
		close(p[1]);
		return;
	}
	close(p[1]);
	while ((n = read(p[0], buf, sizeof buf)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			break;
		ready = buf[n - 1] == '\0';
		fwrite(buf, 1, (size_t)(ready ? n - 1 : n), stderr);
		if (ready)
			break; /* an action may hold the pipe open */
	}
	if (!ready)
		fprintf(stderr, "jaild: the daemon did not start\n");
	exit(ready ? 0 : 1);
}

/* Tell the waiting parent that we run, and stop writing to it. */
static void
main_detached_ready(void)
{
	int null = open("/dev/null", O_RDWR);

	if (write(STDERR_FILENO, "", 1) != 1)
		log_warn("telling the parent");
	if (null != -1) {
		dup2(null, STDERR_FILENO);
		close(null);
	}
}

int
main(int argc, char **argv)
{
	struct daemon_opts opts;
	struct conf_errors errs = {NULL, 0};
	struct daemon *d;
	char *cause = NULL;
	int ch, check = 0, verbose = 0;

	memset(&opts, 0, sizeof opts);
	opts.confdir = JAILD_CONFDIR;
	while ((ch = getopt_long(
	            argc, argv, "fnvVhc:S:D:p:", main_opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			main_usage(stdout, 0);
		case 'f':
			opts.foreground = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'V':
			printf("jaild %s (%s)\n", PACKAGE_VERSION,
			    platform_describe());
			return 0;
		case 'c':
			opts.confdir = optarg;
			break;
		case 'S':
			opts.socket_path = optarg;
			break;
		case 'D':
			opts.db_path = optarg;
			break;
		case 'p':
			opts.pidfile = optarg;
			break;
		default:
			main_usage(stderr, 2);
		}
	}
	if (optind != argc)
		main_usage(stderr, 2);
	signal(SIGPIPE, SIG_IGN);

	if (check) {
		log_init(1, verbose);
		if (daemon_check_config(opts.confdir, &errs) != 0) {
			main_print_errors(&errs);
			return 1;
		}
		printf("jaild: configuration %s is valid\n", opts.confdir);
		return 0;
	}

	log_init(1, verbose);
	/* Refuse a bad config on the terminal, before detaching from it. */
	if (!opts.foreground && daemon_check_config(opts.confdir, &errs) != 0) {
		main_print_errors(&errs);
		return 1;
	}
	if (!opts.foreground)
		main_detach();
	log_init(opts.foreground, verbose);
	d = daemon_create(uv_default_loop(), &opts, &errs, &cause);
	if (d == NULL) {
		if (errs.n > 0) {
			main_print_errors(&errs);
			return 1;
		}
		if (!opts.foreground)
			fprintf(stderr, "jaild: %s\n", cause);
		fatalx("%s", cause);
	}
	if (!opts.foreground)
		main_detached_ready();
	service_notifyf("READY=1\nMAINPID=%ld\nSTATUS=running", (long)getpid());
	daemon_run(d);
	service_notify("STOPPING=1");
	daemon_free(d);
	uv_loop_close(uv_default_loop());
	log_info("stopped");
	return 0;
}
