/* jailctl: the command-line client of jaild's control socket. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "addr.h"
#include "jailctl.h"
#include "jailctl_output.h"
#include "jailctl_test.h"
#include "jailctl_transport.h"
#include "xmalloc.h"

struct jailctl_state jailctl;

/* The command line once options are taken out: a command and operands. */
struct jailctl_line {
	const char *cmd;
	char **ops;
	int nops;
	int all; /* --all */
	int local; /* unban --local: this fleet node only */
	int help; /* -h, --help */
	int version;
	char **pass; /* test: its own options and operands, in order */
	int npass;
};

struct jailctl_cmd;
typedef int (*jailctl_run_fn)(
    const struct jailctl_cmd *, struct jailctl_line *);

/* A command: its usage, operand counts, and how it runs and prints. */
struct jailctl_cmd {
	const char *name;
	const char *args; /* operands, for the usage line */
	const char *help;
	int min, max;
	int all; /* takes --all */
	jailctl_run_fn run;
	const char *keys[3]; /* request args named by the operands */
	void (*print)(const json_t *);
};

static const struct jailctl_cmd jailctl_cmds[];

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

/* Print one command's usage line and what it does. */
static void
jailctl_usage_cmd(FILE *f, const struct jailctl_cmd *c)
{
	fprintf(f, "usage: jailctl [-j] [-S SOCKET] %s%s%s\n  %s\n", c->name,
	    *c->args != '\0' ? " " : "", c->args, c->help);
}

/* Print every command with its operands. */
static void
jailctl_usage_all(FILE *f)
{
	const struct jailctl_cmd *c;
	int w;

	fprintf(f, "usage: jailctl [-j] [-S SOCKET] COMMAND [ARGS...]\n"
	           "       jailctl COMMAND -h | help [COMMAND] | --version\n");
	for (c = jailctl_cmds; c->name != NULL; c++) {
		w = (int)(strlen(c->name) + strlen(c->args) + 1);
		fprintf(f, "  %s %s%*s%s\n", c->name, c->args,
		    w < 36 ? 36 - w : 1, "", c->help);
	}
	fprintf(f,
	    "Options go anywhere on the line.  -j prints JSON.\n"
	    "SOCKET defaults to $JAILD_SOCKET, else " JAILCTL_SOCKET ".\n");
}

static const struct jailctl_cmd *
jailctl_cmd_find(const char *name)
{
	const struct jailctl_cmd *c;

	for (c = jailctl_cmds; c->name != NULL; c++) {
		if (strcmp(c->name, name) == 0)
			return c;
	}
	return NULL;
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

/* Send c with its operands named by c->keys; print the reply. */
static int
jailctl_run_request(const struct jailctl_cmd *c, struct jailctl_line *l)
{
	json_t *args = json_object(), *result;
	const char *const *keys = c->keys;
	int i, rc = 0;

	if (l->all) {
		json_object_set_new(args, "all", json_true());
		keys++; /* unban --all [JAIL] */
	}
	if (l->local)
		json_object_set_new(args, "local", json_true());
	for (i = 0; i < l->nops; i++)
		rc |= jailctl_arg(args, keys[i], l->ops[i]);
	if (rc != 0) {
		json_decref(args);
		return 1;
	}
	result = jailctl_transport_call(c->name, args); /* takes args */
	if (result == NULL)
		return 1;
	jailctl_output_print(result, c->print);
	json_decref(result);
	return 0;
}

/* status --all: the overview, then every jail in detail. */
static int
jailctl_run_status(const struct jailctl_cmd *c, struct jailctl_line *l)
{
	json_t *all, *one, *v, *out;
	size_t i;

	if (!l->all || l->nops > 0)
		return jailctl_run_request(c, l);
	if ((all = jailctl_transport_call("status", json_object())) == NULL)
		return 1;
	out = json_array();
	json_array_foreach(json_object_get(all, "jails"), i, v)
	{
		one = jailctl_transport_call("status",
		    json_pack("{s:O}", "jail", json_object_get(v, "name")));
		if (one != NULL)
			json_array_append_new(out, one);
	}
	if (!jailctl.json)
		jailctl_output_status(all);
	json_array_foreach(out, i, v)
	{
		if (!jailctl.json)
			fputc('\n', stdout);
		jailctl_output_print(v, jailctl_output_status);
	}
	json_decref(out);
	json_decref(all);
	return 0;
}

/* banned ADDR: which bans cover ADDR; rc 1 when none does. */
static int
jailctl_banned_addr(const json_t *bans, const char *text)
{
	struct addr a, b;
	json_t *v, *hits = json_array();
	size_t i;
	int found;

	if (addr_parse(text, &a) != 0) {
		jailctl_warnx(
		    "%s is not an IPv4 or IPv6 address or prefix", text);
		json_decref(hits);
		return 2;
	}
	json_array_foreach(bans, i, v)
	{
		if (addr_parse(json_string_value(json_object_get(v, "addr")),
		        &b) == 0 &&
		    addr_contains(&b, &a))
			json_array_append(hits, v);
	}
	found = json_array_size(hits) > 0;
	if (jailctl.json)
		jailctl_output_print(hits, NULL);
	else if (!found)
		printf("%s is not banned\n", text);
	json_array_foreach(hits, i, v)
	{
		if (!jailctl.json)
			jailctl_output_banned_by(text, v);
	}
	json_decref(hits);
	return found ? 0 : 1;
}

/* banned [ADDR]: every banned address by jail, or where ADDR is. */
static int
jailctl_run_banned(const struct jailctl_cmd *c, struct jailctl_line *l)
{
	json_t *r;
	int rc = 0;

	if ((r = jailctl_transport_call("list", json_object())) == NULL)
		return 1;
	if (l->nops == 1)
		rc = jailctl_banned_addr(json_object_get(r, "bans"), l->ops[0]);
	else
		jailctl_output_print(r, jailctl_output_banned);
	json_decref(r);
	return rc;
}

/* get JAIL KEY: one setting of a running jail, as status reports it. */
static int
jailctl_run_get(const struct jailctl_cmd *c, struct jailctl_line *l)
{
	static const char *const keys[][2] = {{"bantime", "bantime"},
	    {"findtime", "findtime"}, {"maxretry", "maxretry"},
	    {"logpath", "logpaths"}, {"ignoreip", "ignoreip"},
	    {"actions", "actions"}, {"filter", "filter"}};
	json_t *r;
	size_t i;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		if (strcmp(keys[i][0], l->ops[1]) == 0)
			break;
	}
	if (i == sizeof keys / sizeof keys[0]) {
		jailctl_warnx("get: unknown setting %s (bantime, findtime, "
		              "maxretry, logpath, ignoreip, actions, filter)",
		    l->ops[1]);
		return 2;
	}
	r = jailctl_transport_call(
	    "status", json_pack("{s:s}", "jail", l->ops[0]));
	if (r == NULL)
		return 1;
	jailctl_output_value(json_object_get(r, keys[i][1]),
	    strcmp(keys[i][0], "bantime") == 0 ||
	        strcmp(keys[i][0], "findtime") == 0);
	json_decref(r);
	return 0;
}

/* help [COMMAND]: the usage on stdout. */
static int
jailctl_run_help(const struct jailctl_cmd *c, struct jailctl_line *l)
{
	const struct jailctl_cmd *h;

	if (l->nops == 0) {
		jailctl_usage_all(stdout);
		return 0;
	}
	if ((h = jailctl_cmd_find(l->ops[0])) == NULL) {
		jailctl_warnx("help: unknown command %s", l->ops[0]);
		return 2;
	}
	jailctl_usage_cmd(stdout, h);
	return 0;
}

/* test: its own option parser takes the options we passed through. */
static int
jailctl_run_test(const struct jailctl_cmd *c, struct jailctl_line *l)
{
	return jailctl_test_run(l->npass, l->pass);
}

static const struct jailctl_cmd jailctl_cmds[] = {
    {"status", "[JAIL | --all]", "jails, one jail, or every jail in detail", 0,
        1, 1, jailctl_run_status, {"jail"}, jailctl_output_status},
    {"ban", "JAIL ADDR[/LEN] [DURATION]", "ban by hand (DURATION -1: forever)",
        2, 3, 0, jailctl_run_request, {"jail", "addr", "duration"},
        jailctl_output_ban},
    {"unban", "[--local] ADDR [JAIL] | --all [JAIL]",
        "lift a ban (--local: on this fleet node only), or all of them", 1, 2,
        1, jailctl_run_request, {"addr", "jail"}, jailctl_output_unban},
    {"banned", "[ADDR]", "banned addresses, or the bans covering ADDR", 0, 1, 0,
        jailctl_run_banned, {NULL}, NULL},
    {"list", "[JAIL]", "active bans with expiry", 0, 1, 0, jailctl_run_request,
        {"jail"}, jailctl_output_list},
    {"history", "ADDR", "every ban of an address", 1, 1, 0, jailctl_run_request,
        {"addr"}, jailctl_output_history},
    {"get", "JAIL KEY",
        "bantime, findtime, maxretry, logpath, ignoreip, actions", 2, 2, 0,
        jailctl_run_get, {NULL}, NULL},
    {"ping", "", "check that jaild answers", 0, 0, 0, jailctl_run_request,
        {NULL}, jailctl_output_ping},
    {"reload", "[JAIL]", "re-read the config, keep bans and counters", 0, 1, 0,
        jailctl_run_request, {"jail"}, jailctl_output_reload},
    {"metrics", "", "Prometheus text", 0, 0, 0, jailctl_run_request, {NULL},
        jailctl_output_metrics},
    {"fleet", "", "fleet nodes, lag, queued events", 0, 0, 0,
        jailctl_run_request, {NULL}, jailctl_output_fleet},
    {"test",
        "[-c CONFDIR] [--print-matched|unmatched|ignored] "
        "FILTER... | --all LOG",
        "run filters over a log file (- for stdin), offline; several or "
        "--all: coverage per filter",
        0, 64, 0, jailctl_run_test, {NULL}, NULL},
    {"help", "[COMMAND]", "this text, or one command's", 0, 1, 0,
        jailctl_run_help, {NULL}, NULL},
    {NULL, NULL, NULL, 0, 0, 0, NULL, {NULL}, NULL},
};

/* An option is "-x" or "--x"; "-1" (a duration) and "-" are operands. */
static int
jailctl_is_option(const char *a)
{
	return a[0] == '-' && a[1] != '\0' && !isdigit((unsigned char)a[1]);
}

/* Take one option that every command knows; 0 if a is not one. */
static int
jailctl_global_option(struct jailctl_line *l, int argc, char **argv, int *i)
{
	const char *a = argv[*i];

	if (strcmp(a, "-j") == 0 || strcmp(a, "--json") == 0)
		jailctl.json = 1;
	else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
		l->help = 1;
	else if (strcmp(a, "--version") == 0)
		l->version = 1;
	else if (strcmp(a, "-S") == 0 || strcmp(a, "--socket") == 0) {
		if (++*i == argc) {
			jailctl_warnx("%s needs a socket path", a);
			return -1;
		}
		jailctl.socket = argv[*i];
		jailctl.socket_given = 1;
	} else if (strncmp(a, "-S", 2) == 0) {
		jailctl.socket = a + 2;
		jailctl.socket_given = 1;
	} else
		return 0;
	return 1;
}

/* Keep a test option (and the argument of -c) for test's own parser. */
static void
jailctl_pass(struct jailctl_line *l, int argc, char **argv, int *i)
{
	l->pass[l->npass++] = argv[*i];
	if (strcmp(argv[*i], "-c") == 0 && *i + 1 < argc)
		l->pass[l->npass++] = argv[++*i];
}

/*
 * Split argv into options and operands, wherever the options are: the
 * first operand is the command.  "--" ends the options.  Returns 0, or
 * 2 after printing what is wrong.
 */
static int
jailctl_parse(struct jailctl_line *l, int argc, char **argv)
{
	int i, rc, dashdash = 0;

	l->ops = xcalloc((size_t)argc + 1, sizeof *l->ops);
	l->pass = xcalloc((size_t)argc + 1, sizeof *l->pass);
	for (i = 1; i < argc; i++) {
		if (!dashdash && strcmp(argv[i], "--") == 0) {
			dashdash = 1;
			if (l->cmd != NULL && strcmp(l->cmd, "test") == 0)
				l->pass[l->npass++] = argv[i];
		} else if (dashdash || !jailctl_is_option(argv[i])) {
			if (l->cmd == NULL)
				l->cmd = l->pass[l->npass++] = argv[i];
			else {
				l->ops[l->nops++] = argv[i];
				l->pass[l->npass++] = argv[i];
			}
		} else if ((rc = jailctl_global_option(l, argc, argv, &i)) !=
		           0) {
			if (rc < 0)
				return 2;
		} else if (l->cmd != NULL && strcmp(l->cmd, "test") == 0)
			jailctl_pass(l, argc, argv, &i);
		else if (strcmp(argv[i], "--all") == 0)
			l->all = 1;
		else if (strcmp(argv[i], "--local") == 0)
			l->local = 1;
		else {
			jailctl_warnx("%s%sunknown option %s",
			    l->cmd != NULL ? l->cmd : "",
			    l->cmd != NULL ? ": " : "", argv[i]);
			return 2;
		}
	}
	return 0;
}

/* The required operands of c from the n-th on, e.g. "ADDR[/LEN]". */
static const char *
jailctl_missing(const struct jailctl_cmd *c, int n)
{
	static char buf[128];
	const char *p = c->args, *e;
	int i = 0;

	buf[0] = '\0';
	while (*p != '\0' && *p != '[' && *p != '|') {
		e = strchr(p, ' ');
		if (e == NULL)
			e = p + strlen(p);
		if (i++ >= n)
			snprintf(buf + strlen(buf), sizeof buf - strlen(buf),
			    "%s%.*s", buf[0] != '\0' ? " " : "", (int)(e - p),
			    p);
		p = *e == ' ' ? e + 1 : e;
	}
	return buf;
}

/* Print the usage of the command named cmd on stderr. */
void
jailctl_usage_of(const char *cmd)
{
	const struct jailctl_cmd *c = jailctl_cmd_find(cmd);

	if (c != NULL)
		jailctl_usage_cmd(stderr, c);
	else
		jailctl_usage_all(stderr);
}

/* Say what is missing or extra, then the command's usage. */
static int
jailctl_check(const struct jailctl_cmd *c, const struct jailctl_line *l)
{
	const char *what = NULL;

	if (l->all && !c->all)
		what = "--all is not an option of this command";
	else if (l->local && strcmp(c->name, "unban") != 0)
		what = "--local is not an option of this command";
	else if (l->all && l->nops > 1)
		what = "too many arguments";
	else if (!l->all && l->nops < c->min)
		what = "missing";
	else if (l->nops > c->max)
		what = "too many arguments";
	if (what == NULL)
		return 0;
	if (strcmp(what, "missing") == 0)
		jailctl_warnx(
		    "%s: missing %s", c->name, jailctl_missing(c, l->nops));
	else
		jailctl_warnx("%s: %s", c->name, what);
	jailctl_usage_cmd(stderr, c);
	return 2;
}

int
main(int argc, char **argv)
{
	struct jailctl_line l;
	const struct jailctl_cmd *c;
	const char *env;
	int rc;

	memset(&l, 0, sizeof l);
	jailctl.socket = JAILCTL_SOCKET;
	env = getenv("JAILD_SOCKET");
	if (env != NULL && *env != '\0') {
		jailctl.socket = env;
		jailctl.socket_given = 1;
	}
	if ((rc = jailctl_parse(&l, argc, argv)) != 0)
		goto usage;
	rc = 0;
	if (l.version) {
		printf("jailctl %s\n", PACKAGE_VERSION);
		goto out;
	}
	if (l.cmd == NULL) {
		jailctl_usage_all(l.help ? stdout : stderr);
		rc = l.help ? 0 : 2;
		goto out;
	}
	if ((c = jailctl_cmd_find(l.cmd)) == NULL) {
		jailctl_warnx("unknown command: %s (see jailctl help)", l.cmd);
		rc = 2;
		goto out;
	}
	if (l.help) {
		jailctl_usage_cmd(stdout, c);
		goto out;
	}
	if ((rc = jailctl_check(c, &l)) != 0)
		goto out;
	env = getenv("NO_COLOR");
	jailctl.colour = isatty(STDOUT_FILENO) && (env == NULL || *env == '\0');
	jailctl.now = time(NULL);
	rc = c->run(c, &l);
	goto out;
usage:
	jailctl_warnx("see jailctl help");
out:
	free(l.ops);
	free(l.pass);
	return rc;
}
