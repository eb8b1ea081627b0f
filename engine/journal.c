/* Journal sources: read the systemd journal through a match, by cursor. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-journal.h>
#endif

#include "journal.h"
#include "log.h"
#include "xmalloc.h"

#define JOURNAL_BATCH 4096 /* entries per callback, then yield */
#define JOURNAL_TIMER_MS 1000 /* also look now and then: inotify can miss */

/* The handles live apart, freed by their last close callback. */
struct journal_handles {
	struct journal *j; /* NULL once the journal let go */
	int nopen;
	uv_poll_t poll;
	uv_timer_t timer;
	uv_idle_t idle;
};

struct journal {
	uv_loop_t *loop;
	char *match;
	char *ns;
	journal_line_cb cb;
	void *arg;
#ifdef HAVE_SYSTEMD
	sd_journal *sdj;
#endif
	char *cursor; /* of the last entry handed out */
	int started;
	int inpoll;
	int dying; /* journal_free called from inside a line callback */
	char *line; /* the entry being formatted, SOURCE_MAXLINE + 1 bytes */
	size_t linelen;
	uint64_t linetotal; /* its length before the buffer's limit */
	struct source_stats stats;
	struct journal_handles *h;
};

typedef int (*journal_term_cb)(const char *term, size_t len, void *arg);

/* Tell whether term is FIELD=value with a valid journal field name. */
static int
journal_term_ok(const char *term, size_t len)
{
	const char *eq = memchr(term, '=', len);
	const char *p;

	if (eq == NULL || eq == term || isdigit((unsigned char)*term))
		return 0;
	for (p = term; p < eq; p++) {
		if (!isupper((unsigned char)*p) &&
		    !isdigit((unsigned char)*p) && *p != '_')
			return 0;
	}
	return 1;
}

/*
 * Split match into blank-separated terms and hand each to cb ("+" too).
 * Stops at the first term cb refuses; returns 0 or that -1.
 */
static int
journal_match_each(const char *match, journal_term_cb cb, void *arg)
{
	const char *p = match, *end;

	while (p != NULL && *p != '\0') {
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		for (end = p; *end != '\0' && !isspace((unsigned char)*end);)
			end++;
		if (cb(p, (size_t)(end - p), arg) != 0)
			return -1;
		p = end;
	}
	return 0;
}

struct journal_check {
	char **cause;
	int terms; /* in the current alternative */
};

/* Check one term of a match (a journal_match_each callback). */
static int
journal_check_term(const char *term, size_t len, void *arg)
{
	struct journal_check *c = arg;

	if (len == 1 && *term == '+') {
		if (c->terms == 0) {
			xasprintf(c->cause, "journalmatch: '+' with nothing "
			                    "before it");
			return -1;
		}
		c->terms = 0;
		return 0;
	}
	if (!journal_term_ok(term, len)) {
		xasprintf(c->cause,
		    "journalmatch: '%.*s' is not FIELD=value (FIELD in "
		    "A-Z, 0-9, _)",
		    (int)len, term);
		return -1;
	}
	c->terms++;
	return 0;
}

/* Check a journalmatch (see journal.h). */
int
journal_match_check(const char *match, char **cause)
{
	struct journal_check c = {cause, 0};
	int seen = 0;

	if (match == NULL)
		return 0;
	if (journal_match_each(match, journal_check_term, &c) != 0)
		return -1;
	seen = strspn(match, " \t\n") != strlen(match);
	if (seen && c.terms == 0) {
		xasprintf(cause, "journalmatch: '+' with nothing after it");
		return -1;
	}
	return 0;
}

int
journal_available(void)
{
#ifdef HAVE_SYSTEMD
	return 1;
#else
	return 0;
#endif
}

const char *
journal_match(const struct journal *j)
{
	return j->match != NULL ? j->match : "";
}

const char *
journal_cursor(const struct journal *j)
{
	return j->cursor;
}

const struct source_stats *
journal_stats(const struct journal *j)
{
	return &j->stats;
}

/* Append bytes to the line being formatted, at most SOURCE_MAXLINE + 1. */
static void
journal_put(struct journal *j, const char *p, size_t len)
{
	size_t room = SOURCE_MAXLINE + 1 - j->linelen;

	j->linetotal += len;
	if (len > room)
		len = room;
	memcpy(j->line + j->linelen, p, len);
	j->linelen += len;
}

#ifdef HAVE_SYSTEMD
static void journal_idle_cb(uv_idle_t *);

/* Find field name's value in the current entry; NULL if it has none. */
static const char *
journal_field(struct journal *j, const char *name, size_t *len)
{
	const void *data;
	size_t n, nlen = strlen(name);

	if (sd_journal_get_data(j->sdj, name, &data, &n) < 0 || n <= nlen)
		return NULL;
	*len = n - nlen - 1;
	return (const char *)data + nlen + 1;
}

/* Put the first of two fields that the entry has; 0 if neither. */
static int
journal_put_field(struct journal *j, const char *a, const char *b)
{
	const char *v;
	size_t len;

	if ((v = journal_field(j, a, &len)) == NULL &&
	    (b == NULL || (v = journal_field(j, b, &len)) == NULL))
		return 0;
	journal_put(j, v, len);
	return 1;
}

/* Put the entry's time as a syslog stamp, in local time. */
static void
journal_put_stamp(struct journal *j)
{
	char b[64];
	const char *v;
	uint64_t usec = 0;
	size_t len;
	time_t t;
	struct tm tm;

	v = journal_field(j, "_SOURCE_REALTIME_TIMESTAMP", &len);
	if (v != NULL && len < 32) {
		memcpy(b, v, len);
		b[len] = '\0';
		usec = strtoull(b, NULL, 10);
	}
	if (usec == 0)
		sd_journal_get_realtime_usec(j->sdj, &usec);
	t = (time_t)(usec / 1000000);
	localtime_r(&t, &tm);
	len = strftime(b, sizeof b, "%b %e %H:%M:%S ", &tm);
	journal_put(j, b, len);
}

/*
 * Format the current entry as fail2ban does, with a syslog stamp in front
 * so that file filters match it: "STAMP HOST IDENT[PID]: MESSAGE", the
 * message's newlines written as "\n".
 */
static void
journal_format(struct journal *j)
{
	const char *msg, *nl;
	size_t len;

	j->linelen = 0;
	j->linetotal = 0;
	journal_put_stamp(j);
	if (journal_put_field(j, "_HOSTNAME", NULL))
		journal_put(j, " ", 1);
	if (journal_put_field(j, "SYSLOG_IDENTIFIER", "_COMM")) {
		journal_put(j, "[", 1);
		if (journal_put_field(j, "SYSLOG_PID", "_PID"))
			journal_put(j, "]", 1);
		else {
			j->linelen--;
			j->linetotal--;
		}
	}
	journal_put(j, ": ", 2);
	if ((msg = journal_field(j, "MESSAGE", &len)) == NULL)
		return;
	while ((nl = memchr(msg, '\n', len)) != NULL) {
		journal_put(j, msg, (size_t)(nl - msg));
		journal_put(j, "\\n", 2);
		len -= (size_t)(nl - msg) + 1;
		msg = nl + 1;
	}
	journal_put(j, msg, len);
}

/* Remember where we are: the cursor of the entry last handed out. */
static void
journal_save_cursor(struct journal *j)
{
	char *c = NULL;

	if (sd_journal_get_cursor(j->sdj, &c) < 0)
		return;
	free(j->cursor);
	j->cursor = xstrdup(c);
	free(c);
}

/* Hand out new entries: a bounded batch, then yield to the loop. */
static void
journal_read(struct journal *j)
{
	int n = 0, r;
	long len;

	while (j->started && n < JOURNAL_BATCH) {
		if ((r = sd_journal_next(j->sdj)) <= 0) {
			if (r < 0)
				log_warnx("journal: %s", strerror(-r));
			break;
		}
		n++;
		journal_format(j);
		j->stats.lines++;
		j->stats.bytes += j->linetotal;
		if ((len = source_line_trim(j->line, j->linetotal)) >= 0)
			j->cb(j, j->line, (size_t)len, j->arg);
		else
			j->stats.cut++; /* as a file's overlong line */
		if (j->started)
			journal_save_cursor(j);
	}
	if (n > 0)
		j->stats.last_read = time(NULL);
	if (n == JOURNAL_BATCH && j->h != NULL)
		uv_idle_start(&j->h->idle, journal_idle_cb);
}

/* Read whatever entries are there now (see journal.h). */
void
journal_poll(struct journal *j)
{
	if (!j->started || j->inpoll)
		return;
	j->inpoll = 1;
	sd_journal_process(j->sdj);
	journal_read(j);
	j->inpoll = 0;
	if (j->dying)
		journal_free(j);
}

static void
journal_idle_cb(uv_idle_t *idle)
{
	struct journal_handles *h = idle->data;

	uv_idle_stop(idle);
	if (h->j != NULL)
		journal_poll(h->j);
}

static void
journal_poll_cb(uv_poll_t *p, int status, int events)
{
	struct journal_handles *h = p->data;

	if (h->j != NULL)
		journal_poll(h->j);
}

static void
journal_timer_cb(uv_timer_t *t)
{
	struct journal_handles *h = t->data;

	if (h->j != NULL)
		journal_poll(h->j);
}

/* Add one term of the match to the journal (a journal_match_each cb). */
static int
journal_add_term(const char *term, size_t len, void *arg)
{
	struct journal *j = arg;

	if (len == 1 && *term == '+')
		return sd_journal_add_disjunction(j->sdj) < 0 ? -1 : 0;
	return sd_journal_add_match(j->sdj, term, len) < 0 ? -1 : 0;
}

/* Create a journal source (see journal.h). */
struct journal *
journal_create(uv_loop_t *loop, const char *match, const char *ns,
    journal_line_cb cb, void *arg, char **cause)
{
	struct journal *j;
	int r;

	if (journal_match_check(match, cause) != 0)
		return NULL;
	j = xcalloc(1, sizeof *j);
	j->loop = loop;
	j->match = match != NULL ? xstrdup(match) : NULL;
	j->ns = ns != NULL ? xstrdup(ns) : NULL;
	j->cb = cb;
	j->arg = arg;
	j->line = xmalloc(SOURCE_MAXLINE + 1);
	if (ns != NULL)
		r = sd_journal_open_namespace(&j->sdj, ns, 0);
	else
		r = sd_journal_open(&j->sdj, SD_JOURNAL_LOCAL_ONLY);
	if (r < 0) {
		xasprintf(cause, "journal: open: %s", strerror(-r));
		goto fail;
	}
	if (journal_match_each(match, journal_add_term, j) != 0) {
		xasprintf(cause, "journal: bad journalmatch '%s'", match);
		goto fail;
	}
	return j;
fail:
	journal_free(j);
	return NULL;
}

/* Free the handle block once its last handle has closed. */
static void
journal_close_cb(uv_handle_t *handle)
{
	struct journal_handles *h = handle->data;

	if (--h->nopen == 0)
		free(h);
}

/* Close the handles; their memory goes with the last close callback. */
static void
journal_stop(struct journal *j)
{
	struct journal_handles *h = j->h;

	if (h == NULL)
		return;
	h->j = NULL;
	uv_close((uv_handle_t *)&h->idle, journal_close_cb);
	uv_close((uv_handle_t *)&h->timer, journal_close_cb);
	if (h->poll.data != NULL)
		uv_close((uv_handle_t *)&h->poll, journal_close_cb);
	j->h = NULL;
	j->started = 0;
}

/* Release the journal source; from a line callback, once it returns. */
void
journal_free(struct journal *j)
{
	if (j == NULL)
		return;
	if (j->inpoll) {
		j->dying = 1;
		journal_stop(j);
		return;
	}
	journal_stop(j);
	if (j->sdj != NULL)
		sd_journal_close(j->sdj);
	free(j->match);
	free(j->ns);
	free(j->cursor);
	free(j->line);
	free(j);
}

/*
 * Place the read position: just after cursor when the journal still holds
 * that entry, at the nearest entry after it when it was vacuumed away, and
 * at the tail (new entries only) with no usable cursor.
 */
static void
journal_seek(struct journal *j, const char *cursor)
{
	if (cursor != NULL && *cursor != '\0' &&
	    sd_journal_seek_cursor(j->sdj, cursor) >= 0) {
		if (sd_journal_next(j->sdj) > 0 &&
		    sd_journal_test_cursor(j->sdj, cursor) <= 0) {
			log_info("journal: entry %.40s... is gone, reading "
			         "from the next one",
			    cursor);
			sd_journal_previous(j->sdj);
		}
		free(j->cursor);
		j->cursor = xstrdup(cursor);
		return;
	}
	sd_journal_seek_tail(j->sdj);
	sd_journal_previous(j->sdj);
}

/* Start reading after cursor, or with new entries (see journal.h). */
int
journal_start(struct journal *j, const char *cursor, char **cause)
{
	struct journal_handles *h;
	int fd;

	if (j->started) {
		xasprintf(cause, "journal: already started");
		return -1;
	}
	if ((fd = sd_journal_get_fd(j->sdj)) < 0) {
		xasprintf(cause, "journal: %s", strerror(-fd));
		return -1;
	}
	journal_seek(j, cursor);
	h = j->h = xcalloc(1, sizeof *h);
	h->j = j;
	uv_idle_init(j->loop, &h->idle);
	uv_timer_init(j->loop, &h->timer);
	h->idle.data = h->timer.data = h;
	h->nopen = 2;
	if (uv_poll_init(j->loop, &h->poll, fd) == 0) {
		h->poll.data = h;
		h->nopen++;
		uv_poll_start(&h->poll, UV_READABLE, journal_poll_cb);
	}
	uv_timer_start(
	    &h->timer, journal_timer_cb, JOURNAL_TIMER_MS, JOURNAL_TIMER_MS);
	j->started = 1;
	uv_idle_start(&h->idle, journal_idle_cb);
	return 0;
}
#else
struct journal *
journal_create(uv_loop_t *loop, const char *match, const char *ns,
    journal_line_cb cb, void *arg, char **cause)
{
	(void)journal_put;
	xasprintf(cause, "backend = systemd: jaild was built without "
	                 "libsystemd (configure --with-systemd)");
	return NULL;
}

void
journal_free(struct journal *j)
{
	if (j == NULL)
		return;
	free(j->match);
	free(j->ns);
	free(j->cursor);
	free(j->line);
	free(j);
}

int
journal_start(struct journal *j, const char *cursor, char **cause)
{
	xasprintf(cause, "built without libsystemd");
	return -1;
}

void
journal_poll(struct journal *j)
{
}
#endif
