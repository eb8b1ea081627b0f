/* jailctl: the command-line client of jaild's control socket. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "jailctl.h"
#include "jailctl_output.h"
#include "jailctl_test.h"
#include "jailctl_transport.h"

struct jailctl_state jailctl;

/* Print "jailctl: message" on stderr. */
void
jailctl_warnx(const char *fmt, ...)
{
	va_list ap;

	fputs("jailctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
jailctl_usage(void)
{
	fprintf(stderr,
	    "usage: jailctl [-S SOCKET] [-j] COMMAND ...\n"
	    "  status [JAIL]                 jails, or one jail in detail\n"
	    "  ban JAIL ADDR[/LEN] [DURATION]\n"
	    "  unban ADDR [JAIL]             unban --all [JAIL]\n"
	    "  list [JAIL]                   active bans with expiry\n"
	    "  history ADDR                  every ban of an address\n"
	    "  reload                        re-read the config, keep bans\n"
	    "  metrics                       Prometheus text\n"
	    "  test [-c CONFDIR] [--print-matched] [--print-unmatched]\n"
	    "       [--print-ignored] FILTER LOGFILE|-   offline filter run\n"
	    "SOCKET defaults to $JAILD_SOCKET, else " JAILCTL_SOCKET ".\n");
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

/* The commands sent to the daemon, with their operand counts. */
static const struct jailctl_cmd {
	const char *name;
	int min, max;
	void (*print)(const json_t *);
} jailctl_cmds[] = {
    {"status", 0, 1, jailctl_output_status},
    {"ban", 2, 3, jailctl_output_ban},
    {"unban", 1, 2, jailctl_output_unban},
    {"list", 0, 1, jailctl_output_list},
    {"history", 1, 1, jailctl_output_history},
    {"reload", 0, 0, jailctl_output_reload},
    {"metrics", 0, 0, jailctl_output_metrics},
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
	result = jailctl_transport_call(c->name, args);
	if (result == NULL)
		return 1;
	jailctl_output_print(result, c->print);
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
		return jailctl_test_run(argc, argv);
	return jailctl_run(argc, argv);
}
