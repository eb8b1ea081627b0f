/* jaild: the jail engine daemon's command line. */
#include <errno.h>
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

static void __attribute__((noreturn)) main_usage(void)
{
	fprintf(stderr, "usage: jaild [-fnvV] [-c confdir] [-S socket] "
	                "[-D database] [-p pidfile]\n");
	exit(2);
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
	while ((ch = getopt(argc, argv, "fnvVc:S:D:p:")) != -1) {
		switch (ch) {
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
			main_usage();
		}
	}
	if (optind != argc)
		main_usage();
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
	if (!opts.foreground && daemon(0, 0) != 0)
		fatal("daemon");
	log_init(opts.foreground, verbose);
	d = daemon_create(uv_default_loop(), &opts, &errs, &cause);
	if (d == NULL) {
		if (errs.n > 0) {
			main_print_errors(&errs);
			return 1;
		}
		fatalx("%s", cause);
	}
	service_notifyf("READY=1\nMAINPID=%ld\nSTATUS=running", (long)getpid());
	daemon_run(d);
	service_notify("STOPPING=1");
	daemon_free(d);
	uv_loop_close(uv_default_loop());
	log_info("stopped");
	return 0;
}
