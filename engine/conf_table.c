/* The table of known configuration keys, and checking values against it. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "conf_table.h"
#include "duration.h"
#include "xmalloc.h"

#define D CONF_TABLE_DAEMON
#define J CONF_TABLE_JAIL
#define F CONF_TABLE_FILTER
#define A CONF_TABLE_ACTION
#define L CONF_TABLE_FLEET
#define DAY ((int64_t)24 * 3600)
#define YEAR (366 * DAY)

const struct conf_table_entry conf_table[] = {
    /* [jaild] */
    {"socket", CONF_TABLE_STRING, D, 0, 0, "/run/jaild/jaild.sock",
        "Path of the control socket jailctl connects to."},
    {"dbfile", CONF_TABLE_STRING, D, 0, 0, "/var/lib/jaild/jaild.db",
        "SQLite database holding every ban, so bans survive restarts; "
        "put back if deleted or replaced while jaild runs (jaild(8))."},
    {"dbpurgeage", CONF_TABLE_DURATION, D, 0, 100 * YEAR, "30d",
        "Expired bans older than this are deleted from the database."},
    {"ctl_group", CONF_TABLE_STRING, D, 0, 0, NULL,
        "Group allowed to use jailctl besides root, for read-only commands "
        "(status, list, history, metrics); it owns the socket."},
    {"ctl_admin_group", CONF_TABLE_STRING, D, 0, 0, NULL,
        "Group whose members may also run the commands that change state "
        "(ban, unban, reload); unset: root only; its members must also "
        "reach the socket (be in ctl_group too, if that is set)."},
    {"filter_dirs", CONF_TABLE_LIST, D, 0, 0, "",
        "More directories of filter files, searched after CONFDIR/filters "
        "(e.g. /etc/fail2ban/filter.d)."},
    {"pidfile", CONF_TABLE_STRING, D, 0, 0, NULL,
        "File holding jaild's pid, locked while it runs; without it, "
        "RUNDIR/jaild.pid when jaild detaches, none with -f."},
    {"metrics_listen", CONF_TABLE_STRING, D, 0, 0, NULL,
        "ADDRESS:PORT to serve Prometheus metrics on over HTTP "
        "(e.g. 127.0.0.1:9433); unset: only jailctl metrics."},

    /* [fleet] */
    {"url", CONF_TABLE_STRING, L, 0, 0, NULL,
        "PostgreSQL database the fleet shares, as a libpq conninfo or URI "
        "(TLS, passwords and .pgpass work as in libpq)."},
    {"node", CONF_TABLE_STRING, L, 0, 0, NULL,
        "This server's name in the fleet; default: the host name."},
    {"minprefix4", CONF_TABLE_INT, L, 1, 32, "16",
        "Fleet bans of IPv4 prefixes shorter than this are refused."},
    {"minprefix6", CONF_TABLE_INT, L, 1, 128, "32",
        "Fleet bans of IPv6 prefixes shorter than this are refused."},

    /* jails */
    {"enabled", CONF_TABLE_BOOL, J, 0, 1, "false",
        "Whether the jail runs (true/false, yes/no, on/off, 1/0)."},
    {"filter", CONF_TABLE_NAME_REF, J, 0, 0, "%(__name__)s",
        "Filter to read the log with: name[param=value, ...], looked up "
        "as <name>.conf in the filter directories."},
    {"saturation.filter", CONF_TABLE_NAME_REF, J, 0, 0, NULL,
        "Filter whose matches signal a saturated service (lines without "
        "an address), loaded like filter."},
    {"action", CONF_TABLE_NAME_LIST, J, 0, 0, "%(banaction)s",
        "Actions run on ban and unban, one name[param=value, ...] per "
        "line, from CONFDIR/actions/<name>.conf."},
    {"banaction", CONF_TABLE_STRING, J, 0, 0, "nftables",
        "Default banning action, used by the default action."},
    {"logpath", CONF_TABLE_LIST, J, 0, 0, NULL,
        "Log files to follow, blank or line separated; globs allowed; "
        "\"-\" reads standard input."},
    {"backend", CONF_TABLE_STRING, J, 0, 0, "auto",
        "How logs are followed: auto, polling or systemd."},
    {"maxretry", CONF_TABLE_INT, J, 1, 1000000, "5",
        "Failures within findtime that ban an address."},
    {"findtime", CONF_TABLE_DURATION, J, 1, 100 * YEAR, "10m",
        "Window in which maxretry failures must fall (e.g. 10m, 1h30m)."},
    {"bantime", CONF_TABLE_DURATION, J, -1, 100 * YEAR, "10m",
        "How long a ban lasts; -1 bans for ever."},
    {"ignoreip", CONF_TABLE_ADDR_LIST, J, 0, 0, "",
        "Addresses and CIDR prefixes never banned, blank or comma "
        "separated."},
    {"port", CONF_TABLE_STRING, J, 0, 0, "0:65535",
        "Ports the actions block: names, numbers, ranges a:b, commas."},
    {"protocol", CONF_TABLE_STRING, J, 0, 0, "tcp",
        "Protocol the actions block: tcp, udp or all."},
    {"bantime.increment", CONF_TABLE_BOOL, J, 0, 1, "false",
        "Lengthen the ban of an address each time it is banned again."},
    {"bantime.factor", CONF_TABLE_STRING, J, 0, 0, "1",
        "Multiplier of the incremented ban time (banFactor): a number "
        "or an arithmetic expression."},
    {"bantime.formula", CONF_TABLE_STRING, J, 0, 0, NULL,
        "Ban time of a repeat offender, fail2ban's arithmetic over "
        "ban.Time, ban.Count and banFactor; default doubles per ban."},
    {"bantime.multipliers", CONF_TABLE_STRING, J, 0, 0, NULL,
        "Integers: ban time * factor * the one at the earlier-ban count "
        "(the last repeats); wins over formula."},
    {"bantime.maxtime", CONF_TABLE_DURATION, J, 0, 100 * YEAR, NULL,
        "Upper bound of an incremented ban time."},
    {"bantime.rndtime", CONF_TABLE_DURATION, J, 0, 100 * YEAR, NULL,
        "Random 0..rndtime seconds added to an incremented ban time."},
    {"bantime.overalljails", CONF_TABLE_BOOL, J, 0, 1, "false",
        "Count earlier bans of an address in every jail, not just this "
        "one, when incrementing."},
    {"saturation.idle", CONF_TABLE_DURATION, J, 1, DAY, "10s",
        "When the service is saturated, a connection silent this long "
        "may be a slot-holder's."},
    {"saturation.maxbytes", CONF_TABLE_INT, J, 0, 1 << 30, "512",
        "A slot-holder's connection has received at most this many "
        "bytes from its client (a HELO, no MAIL)."},
    {"saturation.minconns", CONF_TABLE_INT, J, 1, 1000000, "2",
        "Idle connections a source (or its prefix) must hold to be "
        "banned as a slot-holder."},
    {"saturation.prefix4", CONF_TABLE_INT, J, 0, 32, "0",
        "Also count idle connections per IPv4 prefix of this length "
        "(0: per source only)."},
    {"saturation.prefix6", CONF_TABLE_INT, J, 0, 128, "0",
        "Also count idle connections per IPv6 prefix of this length "
        "(0: per source only)."},
    {"saturation.mode", CONF_TABLE_STRING, J, 0, 0, "ban",
        "ban: ban and evict the slot-holders; report: only log and "
        "show them in jailctl status."},
    {"saturation.notify", CONF_TABLE_NAME_REF, J, 0, 0, NULL,
        "Action run once per saturation episode (its actionnotify), "
        "e.g. mail[dest=root]."},
    {"saturation.notify_interval", CONF_TABLE_DURATION, J, 0, YEAR, "10m",
        "Least time between two saturation notifications."},
    {"saturation.watch", CONF_TABLE_STRING, J, 0, 0, "episode",
        "episode: watch the jail's ports every second from the first "
        "saturation line until an hour passes without pressure; always: "
        "from the start."},
    {"saturation.slots", CONF_TABLE_INT, J, 0, 1000000, "0",
        "The service's connection limit (0: learn it from the saturation "
        "line's \"max N\")."},
    {"saturation.pressure", CONF_TABLE_INT, J, 0, 100, "50",
        "Open connections, in % of the limit, that put the service under "
        "pressure: idle holders are taken at saturation.idle (0: never)."},
    {"saturation.pressure_high", CONF_TABLE_INT, J, 0, 100, "80",
        "Open connections, in % of the limit, that make the pressure high, "
        "as does a saturation line in the last 20 s: holders are taken at "
        "saturation.pressure_idle (0: only the line)."},
    {"saturation.pressure_idle", CONF_TABLE_DURATION, J, 1, DAY, "6s",
        "Silence that makes a slot-holder under high pressure; a client "
        "that spoke last (waiting for the server) still gets "
        "saturation.idle."},
    {"saturation.prefixhosts", CONF_TABLE_INT, J, 0, 1000000, "2",
        "Hosts of one saturation.prefix4/prefix6 prefix caught holding "
        "slots within findtime that ban the prefix, unless it holds an "
        "ignoreip address or a good sender (0: never)."},
    {"saturation.prefixhosts_full", CONF_TABLE_INT, J, 0, 1000000, "1",
        "saturation.prefixhosts while the service refuses connections and "
        "the hosts caught holding its slots since the episode began number "
        "saturation.pressure % of its slots or more (0, or not below "
        "prefixhosts: the same)."},
    {"saturation.goodtime", CONF_TABLE_DURATION, J, 1, 100 * YEAR, "30d",
        "How long a good sender (a goodregex match) is remembered."},
    {"subnet.threshold", CONF_TABLE_INT, J, 0, 1000000, "0",
        "Banned hosts within one prefix that ban the whole prefix "
        "(0: never)."},
    {"subnet.prefix4", CONF_TABLE_INT, J, 8, 32, "24",
        "IPv4 prefix length subnet.threshold counts in."},
    {"subnet.prefix6", CONF_TABLE_INT, J, 16, 128, "64",
        "IPv6 prefix length subnet.threshold counts in."},
    {"subnet.window", CONF_TABLE_DURATION, J, 0, 100 * YEAR, "1h",
        "Only hosts banned within this window count toward "
        "subnet.threshold (0: any time)."},
    {"fleet", CONF_TABLE_STRING, J, 0, 0, "off",
        "off; share: bans made on any node of the [fleet] apply here "
        "too; count: also, failures on every node count toward "
        "maxretry."},
    {"ignoreself", CONF_TABLE_BOOL, J, 0, 1, "true",
        "Never ban the host's own interface addresses, nor a subnet "
        "holding one."},

    /* filters */
    {"failregex", CONF_TABLE_REGEX_LIST, F, 0, 0, NULL,
        "Regexes, one a line, that recognise a failure; <HOST> captures "
        "the address."},
    {"ignoreregex", CONF_TABLE_REGEX_LIST, F, 0, 0, NULL,
        "Regexes that cancel a failregex match on the same line."},
    {"goodregex", CONF_TABLE_REGEX_LIST, F, 0, 0, NULL,
        "In a saturation.filter: regexes whose <HOST> completed a "
        "transaction (a good sender, never banned by the saturation "
        "response, nor a prefix holding it)."},
    {"prefregex", CONF_TABLE_STRING, F, 0, 0, NULL,
        "Regex every line must match first; <F-CONTENT> is what "
        "failregex then sees."},
    {"datepattern", CONF_TABLE_STRING, F, 0, 0, NULL,
        "strftime-like pattern of the line's timestamp, or {^LN-BEG}."},
    {"maxlines", CONF_TABLE_INT, F, 1, 1000, "1",
        "Lines a multi-line failregex may span."},
    {"journalmatch", CONF_TABLE_STRING, F, 0, 0, NULL,
        "systemd journal match for the systemd backend."},

    /* actions */
    {"native", CONF_TABLE_STRING, A, 0, 0, NULL,
        "In-process implementation (nftables) instead of shell "
        "commands."},
    {"timeout", CONF_TABLE_DURATION, A, 1, DAY, "60",
        "Seconds a shell command may run before it is killed."},
    {"actionstart", CONF_TABLE_STRING, A, 0, 0, NULL,
        "Shell commands run when the jail starts."},
    {"actionstop", CONF_TABLE_STRING, A, 0, 0, NULL,
        "Shell commands run when the jail stops."},
    {"actioncheck", CONF_TABLE_STRING, A, 0, 0, NULL,
        "Shell commands run before a ban (bans queued together share "
        "one run); failure runs actionstart again before the ban."},
    {"actionban", CONF_TABLE_STRING, A, 0, 0, NULL,
        "Shell commands that ban <ip>."},
    {"actionunban", CONF_TABLE_STRING, A, 0, 0, NULL,
        "Shell commands that lift the ban of <ip>."},
    {"actionnotify", CONF_TABLE_STRING, A, 0, 0, NULL,
        "Shell commands run as saturation.notify, once per episode "
        "(default: actionban)."},
    {"norestored", CONF_TABLE_BOOL, A, 0, 1, "false",
        "Do not run actionban again for the bans restored at start "
        "(reporting actions: mail, webhook)."},
};
const size_t conf_table_n = sizeof conf_table / sizeof conf_table[0];

const struct conf_table_entry *
conf_table_find(int scope, const char *name)
{
	size_t i;

	for (i = 0; i < conf_table_n; i++) {
		if ((conf_table[i].scope & scope) &&
		    strcmp(conf_table[i].name, name) == 0)
			return &conf_table[i];
	}
	return NULL;
}

/* Edit distance of a and b, a swap of neighbours counting as one. */
static size_t
conf_table_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, k, c, best;
	size_t d[32][32];

	if (la >= 32 || lb >= 32)
		return SIZE_MAX;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (k = 0; k <= lb; k++)
		d[0][k] = k;
	for (i = 1; i <= la; i++) {
		for (k = 1; k <= lb; k++) {
			c = a[i - 1] != b[k - 1];
			best = d[i - 1][k - 1] + c;
			if (d[i - 1][k] + 1 < best)
				best = d[i - 1][k] + 1;
			if (d[i][k - 1] + 1 < best)
				best = d[i][k - 1] + 1;
			if (i > 1 && k > 1 && a[i - 1] == b[k - 2] &&
			    a[i - 2] == b[k - 1] && d[i - 2][k - 2] + 1 < best)
				best = d[i - 2][k - 2] + 1;
			d[i][k] = best;
		}
	}
	return d[la][lb];
}

const char *
conf_table_suggest(int scope, const char *name)
{
	const char *best = NULL;
	size_t i, dist, min = 3;

	if (conf_table_find(scope, name) != NULL)
		return NULL;
	for (i = 0; i < conf_table_n; i++) {
		if (!(conf_table[i].scope & scope))
			continue;
		dist = conf_table_distance(name, conf_table[i].name);
		if (dist < min && dist < strlen(conf_table[i].name) / 2) {
			min = dist;
			best = conf_table[i].name;
		}
	}
	return best;
}

const char *
conf_table_type_name(enum conf_table_type t)
{
	switch (t) {
	case CONF_TABLE_STRING:
		return "string";
	case CONF_TABLE_INT:
		return "integer";
	case CONF_TABLE_BOOL:
		return "boolean";
	case CONF_TABLE_DURATION:
		return "duration";
	case CONF_TABLE_REGEX_LIST:
		return "regex list";
	case CONF_TABLE_NAME_REF:
		return "name[params]";
	case CONF_TABLE_NAME_LIST:
		return "name[params] list";
	case CONF_TABLE_ADDR_LIST:
		return "address list";
	case CONF_TABLE_LIST:
		return "list";
	}
	return "?";
}

int
conf_table_parse_bool(const char *s, int *out)
{
	static const char *yes[] = {"true", "yes", "on", "1"};
	static const char *no[] = {"false", "no", "off", "0"};
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

int
conf_table_parse_int(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (*s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* Check every address of a blank- or comma-separated list. */
static int
conf_table_check_addrs(const char *value, char **cause)
{
	char *copy = xstrdup(value), *tok, *save = NULL;
	struct addr a;

	for (tok = strtok_r(copy, " \t\n,", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t\n,", &save)) {
		if (addr_parse(tok, &a) != 0) {
			xasprintf(cause, "invalid address '%s'", tok);
			free(copy);
			return -1;
		}
	}
	free(copy);
	return 0;
}

/* Check a number against the entry's range. */
static int
conf_table_check_range(
    const struct conf_table_entry *e, int64_t v, char **cause)
{
	if (v < e->min || v > e->max) {
		xasprintf(cause, "%s must be between %lld and %lld", e->name,
		    (long long)e->min, (long long)e->max);
		return -1;
	}
	return 0;
}

int
conf_table_check(const struct conf_table_entry *e, const char *value,
    int64_t *out, char **cause)
{
	int64_t v = 0;
	int b;

	switch (e->type) {
	case CONF_TABLE_INT:
		if (conf_table_parse_int(value, &v) != 0) {
			xasprintf(cause, "%s: '%s' is not an integer", e->name,
			    value);
			return -1;
		}
		break;
	case CONF_TABLE_BOOL:
		if (conf_table_parse_bool(value, &b) != 0) {
			xasprintf(
			    cause, "%s: '%s' is not a boolean", e->name, value);
			return -1;
		}
		v = b;
		break;
	case CONF_TABLE_DURATION:
		if (duration_parse(value, &v) != 0) {
			xasprintf(cause, "%s: '%s' is not a duration", e->name,
			    value);
			return -1;
		}
		break;
	case CONF_TABLE_ADDR_LIST:
		return conf_table_check_addrs(value, cause);
	default:
		return 0;
	}
	if (e->type != CONF_TABLE_BOOL && conf_table_check_range(e, v, cause))
		return -1;
	if (out != NULL)
		*out = v;
	return 0;
}
