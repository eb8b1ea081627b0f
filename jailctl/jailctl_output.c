/* jailctl_output.c: tables, time formats and the printer of each reply. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "jailctl.h"
#include "jailctl_output.h"
#include "xmalloc.h"

struct jailctl_output_table {
	size_t ncols;
	size_t nrows; /* row 0 is the header */
	char **cells;
};

/* Make a table with the given header cells. */
struct jailctl_output_table *
jailctl_output_table_create(size_t ncols, const char *const *header)
{
	struct jailctl_output_table *t;
	size_t i;

	t = xcalloc(1, sizeof *t);
	t->ncols = ncols;
	t->nrows = 1;
	t->cells = xreallocarray(NULL, ncols, sizeof *t->cells);
	for (i = 0; i < ncols; i++)
		t->cells[i] = xstrdup(header[i]);
	return t;
}

void
jailctl_output_table_free(struct jailctl_output_table *t)
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
void
jailctl_output_sanitize(char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
	}
}

/* The same for a message of several lines: line breaks are kept. */
void
jailctl_output_sanitize_text(char *s)
{
	for (; *s != '\0'; s++) {
		if (((unsigned char)*s < 0x20 && *s != '\n') || *s == 0x7f)
			*s = '?';
	}
}

/* Append a row; control bytes are replaced so a tty is never steered. */
void
jailctl_output_table_add(struct jailctl_output_table *t, const char *const *row)
{
	size_t i, base = t->nrows * t->ncols;

	t->cells = xreallocarray(
	    t->cells, (t->nrows + 1) * t->ncols, sizeof *t->cells);
	for (i = 0; i < t->ncols; i++) {
		t->cells[base + i] = xstrdup(row[i] != NULL ? row[i] : "-");
		jailctl_output_sanitize(t->cells[base + i]);
	}
	t->nrows++;
}

/* Count the characters of a UTF-8 string, for column widths. */
static size_t
jailctl_output_width(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	}
	return n;
}

/* Print a table with each column as wide as its widest cell. */
void
jailctl_output_table_print(const struct jailctl_output_table *t)
{
	size_t *w, r, i, pad;
	const char *cell;

	w = xcalloc(t->ncols, sizeof *w);
	for (r = 0; r < t->nrows; r++) {
		for (i = 0; i < t->ncols; i++) {
			pad = jailctl_output_width(t->cells[r * t->ncols + i]);
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
			pad = w[i] - jailctl_output_width(cell) + 2;
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
jailctl_output_span(long long s, char *buf, size_t len)
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
const char *
jailctl_output_fmt(const json_t *v, char *buf, size_t len)
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
const char *
jailctl_output_get(const json_t *obj, const char *key, char *buf, size_t len)
{
	return jailctl_output_fmt(json_object_get(obj, key), buf, len);
}

/* Format an epoch as local time plus "(in 42m)" or "(3h ago)". */
const char *
jailctl_output_time(const json_t *v, const char *null, char *buf, size_t len)
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
	jailctl_output_span(d < 0 ? -d : d, span, sizeof span);
	if (d == 0)
		snprintf(buf, len, "%s (now)", stamp);
	else if (d > 0)
		snprintf(buf, len, "%s (in %s)", stamp, span);
	else
		snprintf(buf, len, "%s (%s ago)", stamp, span);
	return buf;
}

/* Format a duration in seconds; -1 is forever. */
const char *
jailctl_output_duration(const json_t *v, char *buf, size_t len)
{
	if (!json_is_integer(v))
		return "-";
	if (json_integer_value(v) < 0)
		return "forever";
	jailctl_output_span(json_integer_value(v), buf, len);
	return buf;
}

/* Join an array of strings with ", ". */
char *
jailctl_output_join(const json_t *a)
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

/* Print the overview: daemon, jails, sources. */
static void
jailctl_output_status_all(const json_t *r)
{
	static const char *const jh[] = {"JAIL", "FILTER", "BANNED", "FAILURES",
	    "TOTAL BANS", "LINES", "MATCHED"};
	static const char *const sh[] = {"SOURCE", "INODE", "OFFSET", "LINES"};
	static const char *const jk[] = {"name", "filter", "banned", "failures",
	    "total_bans", "lines", "matched"};
	static const char *const sk[] = {"path", "inode", "offset", "lines"};
	struct jailctl_output_table *t;
	const char *row[7];
	char b[7][64], up[32];
	json_t *v;
	size_t i, k;

	jailctl_output_duration(json_object_get(r, "uptime"), up, sizeof up);
	printf("jaild %s, up %s\n",
	    jailctl_output_get(r, "version", b[0], sizeof b[0]), up);
	t = jailctl_output_table_create(7, jh);
	json_array_foreach(json_object_get(r, "jails"), i, v)
	{
		for (k = 0; k < 7; k++)
			row[k] =
			    jailctl_output_get(v, jk[k], b[k], sizeof b[k]);
		jailctl_output_table_add(t, row);
	}
	fputc('\n', stdout);
	jailctl_output_table_print(t);
	jailctl_output_table_free(t);
	if (json_array_size(json_object_get(r, "sources")) == 0)
		return;
	t = jailctl_output_table_create(4, sh);
	json_array_foreach(json_object_get(r, "sources"), i, v)
	{
		for (k = 0; k < 4; k++)
			row[k] =
			    jailctl_output_get(v, sk[k], b[k], sizeof b[k]);
		if (json_is_true(json_object_get(v, "waiting"))) {
			row[1] = "waiting for file";
			row[2] = "-";
		}
		jailctl_output_table_add(t, row);
	}
	fputc('\n', stdout);
	jailctl_output_table_print(t);
	jailctl_output_table_free(t);
}

/* The saturation watch and the good senders, under the saturation line. */
static void
jailctl_output_watch(const json_t *sat)
{
	const json_t *v, *good = json_object_get(sat, "good_recent");
	char b[6][64], *list, *tmp;
	size_t i;

	if (json_object_get(sat, "watching") != NULL)
		printf("            watch %s, %s/%s connections (%s), %s "
		       "prefixes banned, %s spared\n",
		    json_is_true(json_object_get(sat, "watching")) ? "on"
		                                                   : "off",
		    jailctl_output_get(sat, "connections", b[0], 64),
		    jailctl_output_get(sat, "limit", b[1], 64),
		    jailctl_output_get(sat, "level", b[2], 64),
		    jailctl_output_get(sat, "prefix_banned", b[3], 64),
		    jailctl_output_get(sat, "prefix_spared", b[4], 64));
	list = xstrdup("");
	json_array_foreach(good, i, v)
	{
		xasprintf(&tmp, "%s%s%s", list, i ? ", " : "",
		    jailctl_output_get(v, "addr", b[5], 64));
		free(list);
		list = tmp;
	}
	jailctl_output_sanitize(list);
	printf("good        %s senders%s%s%s\n",
	    jailctl_output_get(sat, "good_senders", b[0], 64),
	    *list ? " (" : "", list, *list ? ")" : "");
	free(list);
}

/* Print the saturation response of a jail, or that it has none. */
static void
jailctl_output_saturation(const json_t *sat)
{
	char b[4][64], t[64], *would;
	const char *mode = json_string_value(json_object_get(sat, "mode"));

	if (mode == NULL || strcmp(mode, "off") == 0) {
		printf("saturation  off (no saturation.filter)\n");
		return;
	}
	printf(
	    "saturation  %s signals (last %s), %s holders found, %s banned\n",
	    jailctl_output_get(sat, "count", b[0], 64),
	    jailctl_output_time(
	        json_object_get(sat, "last"), "never", t, sizeof t),
	    jailctl_output_get(sat, "holders_found", b[1], 64),
	    jailctl_output_get(sat, "banned", b[2], 64));
	would = jailctl_output_join(json_object_get(sat, "would_ban"));
	jailctl_output_sanitize(would);
	jailctl_output_get(sat, "episodes", b[3], 64);
	printf("            mode %s, %s episode%s%s%s\n", mode, b[3],
	    strcmp(b[3], "1") == 0 ? "" : "s", *would ? ", would ban " : "",
	    would);
	free(would);
	jailctl_output_watch(sat);
}

/* Print the key/value part of one jail's status. */
static void
jailctl_output_jail_summary(const json_t *r)
{
	char b[6][64], *actions, *logpaths;
	const json_t *sat = json_object_get(r, "saturation");

	actions = jailctl_output_join(json_object_get(r, "actions"));
	logpaths = jailctl_output_join(json_object_get(r, "logpaths"));
	jailctl_output_sanitize(actions);
	jailctl_output_sanitize(logpaths);
	printf("jail        %s\n", jailctl_output_get(r, "name", b[0], 64));
	printf("filter      %s\n", jailctl_output_get(r, "filter", b[0], 64));
	printf("actions     %s\n", actions);
	printf("logpaths    %s\n", logpaths);
	printf("maxretry    %s, findtime %s, bantime %s\n",
	    jailctl_output_get(r, "maxretry", b[0], 64),
	    jailctl_output_duration(json_object_get(r, "findtime"), b[1], 64),
	    jailctl_output_duration(json_object_get(r, "bantime"), b[2], 64));
	printf("lines       %s read, %s matched, %s ignored\n",
	    jailctl_output_get(r, "lines", b[0], 64),
	    jailctl_output_get(r, "matched", b[1], 64),
	    jailctl_output_get(r, "ignored", b[2], 64));
	printf("failures    %s addresses counting, %s in total\n",
	    jailctl_output_get(r, "failures", b[0], 64),
	    jailctl_output_get(r, "total_failures", b[1], 64));
	printf("bans        %zu active, %s in total, %s evicted\n",
	    json_array_size(json_object_get(r, "banned")),
	    jailctl_output_get(r, "total_bans", b[0], 64),
	    jailctl_output_get(r, "evicted", b[1], 64));
	if (json_is_object(sat))
		jailctl_output_saturation(sat);
	free(actions);
	free(logpaths);
}

/* A ban's reason, with the fleet node it came from if not this one. */
static const char *
jailctl_output_reason(const json_t *v, char *buf, size_t len)
{
	const char *origin = json_string_value(json_object_get(v, "origin"));
	char tmp[64];
	const char *reason = jailctl_output_get(v, "reason", tmp, sizeof tmp);

	if (origin == NULL)
		return reason;
	snprintf(buf, len, "%.24s (from %.24s)", reason, origin);
	return buf;
}

/* Print one jail: summary, then its bans. */
static void
jailctl_output_status_jail(const json_t *r)
{
	static const char *const h[] = {
	    "ADDR", "SINCE", "UNTIL", "FAILURES", "REASON"};
	struct jailctl_output_table *t;
	const char *row[5];
	char b[5][64];
	json_t *v;
	size_t i;

	jailctl_output_jail_summary(r);
	if (json_array_size(json_object_get(r, "banned")) == 0)
		return;
	t = jailctl_output_table_create(5, h);
	json_array_foreach(json_object_get(r, "banned"), i, v)
	{
		row[0] = jailctl_output_get(v, "addr", b[0], 64);
		row[1] = jailctl_output_time(
		    json_object_get(v, "since"), "-", b[1], 64);
		row[2] = jailctl_output_time(
		    json_object_get(v, "until"), "never", b[2], 64);
		row[3] = jailctl_output_get(v, "failures", b[3], 64);
		row[4] = jailctl_output_reason(v, b[4], 64);
		jailctl_output_table_add(t, row);
	}
	fputc('\n', stdout);
	jailctl_output_table_print(t);
	jailctl_output_table_free(t);
}

void
jailctl_output_status(const json_t *r)
{
	if (json_object_get(r, "jails") != NULL)
		jailctl_output_status_all(r);
	else
		jailctl_output_status_jail(r);
}

/* Print the active bans. */
void
jailctl_output_list(const json_t *r)
{
	static const char *const h[] = {
	    "JAIL", "ADDR", "SINCE", "UNTIL", "FAILURES", "REASON"};
	struct jailctl_output_table *t;
	const char *row[6];
	char b[6][64];
	json_t *v;
	size_t i;

	if (json_array_size(json_object_get(r, "bans")) == 0) {
		printf("no active bans\n");
		return;
	}
	t = jailctl_output_table_create(6, h);
	json_array_foreach(json_object_get(r, "bans"), i, v)
	{
		row[0] = jailctl_output_get(v, "jail", b[0], 64);
		row[1] = jailctl_output_get(v, "addr", b[1], 64);
		row[2] = jailctl_output_time(
		    json_object_get(v, "since"), "-", b[2], 64);
		row[3] = jailctl_output_time(
		    json_object_get(v, "until"), "never", b[3], 64);
		row[4] = jailctl_output_get(v, "failures", b[4], 64);
		row[5] = jailctl_output_reason(v, b[5], 64);
		jailctl_output_table_add(t, row);
	}
	jailctl_output_table_print(t);
	jailctl_output_table_free(t);
}

/* Say whether a past ban is active, lifted (by whom, when) or expired. */
static const char *
jailctl_output_history_state(const json_t *v, char *buf, size_t len)
{
	char when[64], who[64];

	if (json_is_true(json_object_get(v, "active")))
		return "active";
	if (json_object_get(v, "lifted") == NULL ||
	    json_is_null(json_object_get(v, "lifted")))
		return "expired";
	snprintf(buf, len, "lifted by %s %s",
	    jailctl_output_get(v, "lifted_by", who, sizeof who),
	    jailctl_output_time(
	        json_object_get(v, "lifted"), "-", when, sizeof when));
	return buf;
}

/* Print every ban of one address. */
void
jailctl_output_history(const json_t *r)
{
	static const char *const h[] = {
	    "JAIL", "ADDR", "START", "END", "FAILURES", "REASON", "STATE"};
	struct jailctl_output_table *t;
	const char *row[7];
	char b[7][160];
	json_t *v;
	size_t i;

	if (json_array_size(json_object_get(r, "bans")) == 0) {
		printf(
		    "no bans of %s\n", jailctl_output_get(r, "addr", b[0], 64));
		return;
	}
	t = jailctl_output_table_create(7, h);
	json_array_foreach(json_object_get(r, "bans"), i, v)
	{
		row[0] = jailctl_output_get(v, "jail", b[0], 64);
		row[1] = jailctl_output_get(v, "addr", b[1], 64);
		row[2] = jailctl_output_time(
		    json_object_get(v, "start"), "-", b[2], 64);
		row[3] = jailctl_output_time(
		    json_object_get(v, "end"), "never", b[3], 64);
		row[4] = jailctl_output_get(v, "failures", b[4], 64);
		row[5] = jailctl_output_reason(v, b[5], 64);
		row[6] = jailctl_output_history_state(v, b[6], sizeof b[6]);
		jailctl_output_table_add(t, row);
	}
	jailctl_output_table_print(t);
	jailctl_output_table_free(t);
}

void
jailctl_output_ban(const json_t *r)
{
	char b[3][64];
	const json_t *until = json_object_get(r, "until");

	printf("banned %s in %s %s%s\n",
	    jailctl_output_get(r, "addr", b[0], 64),
	    jailctl_output_get(r, "jail", b[1], 64),
	    json_is_integer(until) ? "until " : "permanently",
	    jailctl_output_time(until, "", b[2], 64));
}

void
jailctl_output_unban(const json_t *r)
{
	char b[2][64];
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(r, "unbanned"), i, v)
	{
		printf("unbanned %s from %s\n",
		    jailctl_output_get(v, "addr", b[0], 64),
		    jailctl_output_get(v, "jail", b[1], 64));
	}
}

void
jailctl_output_reload(const json_t *r)
{
	const char *restart =
	    json_string_value(json_object_get(r, "restart_needed"));
	char b[64];

	printf("reloaded: %s jails\n",
	    jailctl_output_get(r, "jails", b, sizeof b));
	if (restart != NULL)
		jailctl_warnx("restart needed for: %s (until then jaild keeps "
		              "the old setting)",
		    restart);
}

/* Print that jaild answered, and its version. */
void
jailctl_output_ping(const json_t *r)
{
	char b[64];

	printf("pong (jaild %s)\n", jailctl_output_get(r, "version", b, 64));
}

/* Print the banned addresses of each jail on one line. */
void
jailctl_output_banned(const json_t *r)
{
	const char *jail, *prev = NULL;
	char b[64];
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(r, "bans"), i, v)
	{
		jail = jailctl_output_get(v, "jail", b, sizeof b);
		if (prev == NULL || strcmp(prev, jail) != 0)
			printf("%s%s:", prev != NULL ? "\n" : "", jail);
		printf(" %s", json_string_value(json_object_get(v, "addr")));
		prev = json_string_value(json_object_get(v, "jail"));
	}
	if (prev != NULL)
		fputc('\n', stdout);
}

/* Print which ban (v) covers the address text, and until when. */
void
jailctl_output_banned_by(const char *text, const json_t *v)
{
	char b[3][64];
	const char *addr = jailctl_output_get(v, "addr", b[0], 64);

	printf("%s is banned in %s%s%s until %s\n", text,
	    jailctl_output_get(v, "jail", b[1], 64),
	    strcmp(addr, text) != 0 ? " by " : "",
	    strcmp(addr, text) != 0 ? addr : "",
	    jailctl_output_time(
	        json_object_get(v, "until"), "forever", b[2], 64));
}

/* Print one setting: a list one item a line, a duration as "10m". */
void
jailctl_output_value(const json_t *v, int duration)
{
	char b[64];
	json_t *e;
	size_t i;

	if (jailctl.json) {
		jailctl_output_print(v, NULL);
		return;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, e)
		{
			printf("%s\n", jailctl_output_fmt(e, b, sizeof b));
		}
		return;
	}
	printf("%s\n", duration ? jailctl_output_duration(v, b, sizeof b)
	                        : jailctl_output_fmt(v, b, sizeof b));
}

/* Print the Prometheus text exactly as the daemon wrote it. */
void
jailctl_output_metrics(const json_t *r)
{
	const char *text = json_string_value(json_object_get(r, "text"));

	if (text != NULL)
		fputs(text, stdout);
}

/* Print a result: compact JSON with -j, else with the command's printer. */
void
jailctl_output_print(const json_t *result, void (*print)(const json_t *))
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

/* Print this fleet node, then every node PostgreSQL knows. */
void
jailctl_output_fleet(const json_t *r)
{
	static const char *const h[] = {
	    "NODE", "LAST SEEN", "APPLIED", "BEHIND", "QUEUED"};
	struct jailctl_output_table *t;
	const char *row[5];
	char b[5][64];
	json_t *v;
	size_t i;

	printf("node        %s (%s)\n", jailctl_output_get(r, "node", b[0], 64),
	    json_is_true(json_object_get(r, "connected")) ? "connected"
	                                                  : "PostgreSQL down");
	printf("queued      %s events not yet sent\n",
	    jailctl_output_get(r, "queued", b[0], 64));
	printf("events      %s sent, %s received, %s applied, %s refused, "
	       "%s ignored here\n",
	    jailctl_output_get(r, "sent", b[0], 64),
	    jailctl_output_get(r, "received", b[1], 64),
	    jailctl_output_get(r, "applied", b[2], 64),
	    jailctl_output_get(r, "refused", b[3], 64),
	    jailctl_output_get(r, "ignored", b[4], 64));
	printf("lag         %.3f s (the last remote event)\n\n",
	    json_number_value(json_object_get(r, "lag")));
	t = jailctl_output_table_create(5, h);
	json_array_foreach(json_object_get(r, "nodes"), i, v)
	{
		row[0] = jailctl_output_get(v, "node", b[0], 64);
		row[1] = jailctl_output_time(
		    json_object_get(v, "last_seen"), "-", b[1], 64);
		row[2] = jailctl_output_get(v, "applied", b[2], 64);
		row[3] = jailctl_output_get(v, "behind", b[3], 64);
		row[4] = jailctl_output_get(v, "queued", b[4], 64);
		jailctl_output_table_add(t, row);
	}
	jailctl_output_table_print(t);
	jailctl_output_table_free(t);
}
