/*
 * Multi-line matching: the buffer of the last maxlines lines, and the
 * <F-MLFID> session cache with its NOFAIL/FORGET/GAINED handling.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "filter_ml.h"
#include "xmalloc.h"

/*
 * <F-MLFID> sessions.  Attackers choose these ids (a pid, a connection
 * number, a whole prefix line), so the cache is capped: the oldest session
 * goes first, as in fail2ban's Utils.Cache(maxCount=100, maxTime=5*60),
 * and a session idle for FILTER_MLFID_TTL seconds of log time is forgotten.
 */
#define FILTER_MLFID_MAX 1000
#define FILTER_MLFID_TTL 300

/* One <F-MLFID> session: what its earlier lines said. */
struct filter_session {
	char id[FILTER_ML_IDMAX];
	size_t idlen;
	time_t seen; /* log time it was created */
	int has_addr;
	struct addr addr;
	char user[128];
	int multiuser; /* more than one user tried: never a "nofail" */
	int nofail;
	int gained;
	int pending; /* a failure waits for the session's address */
	struct filter_session *hnext; /* hash chain */
	struct filter_session *prev, *next; /* age order, oldest first */
};

/* Append n bytes to b. */
static void
filter_ml_buf_add(struct filter_ml_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->size) {
		b->size = (b->len + n + 1) * 2;
		b->s = xreallocarray(b->s, 1, b->size);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* Hash an <F-MLFID> to its bucket (FNV-1a; chains stay short: capped). */
static size_t
filter_ml_session_hash(const char *id, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)id[i]) * 16777619u;
	return h % FILTER_MLFID_BUCKETS;
}

/* Copy the string s into buf[size] (truncating), without printf's cost. */
static void
filter_ml_strcpy(char *buf, size_t size, const char *s)
{
	size_t n = strnlen(s, size - 1);

	memcpy(buf, s, n);
	buf[n] = '\0';
}

/* Unlink session s from its chain and from the age list; free it. */
static void
filter_ml_session_drop(struct filter_ml *ml, struct filter_session *s)
{
	struct filter_session **pp;

	pp = &ml->buckets[filter_ml_session_hash(s->id, s->idlen)];
	while (*pp != s)
		pp = &(*pp)->hnext;
	*pp = s->hnext;
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		ml->oldest = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	else
		ml->newest = s->prev;
	ml->nsessions--;
	free(s);
}

/* Find session id; one older than FILTER_MLFID_TTL is forgotten. */
static struct filter_session *
filter_ml_session_find(
    struct filter_ml *ml, const char *id, size_t len, time_t when)
{
	struct filter_session *s;

	s = ml->buckets[filter_ml_session_hash(id, len)];
	for (; s != NULL; s = s->hnext) {
		if (s->idlen != len || memcmp(s->id, id, len) != 0)
			continue;
		if (when - s->seen > FILTER_MLFID_TTL) {
			filter_ml_session_drop(ml, s);
			return NULL;
		}
		return s;
	}
	return NULL;
}

/* Start session id: expired sessions go first, then the oldest if full. */
static struct filter_session *
filter_ml_session_add(
    struct filter_ml *ml, const char *id, size_t len, time_t when)
{
	struct filter_session *s;
	size_t h;

	while (ml->oldest != NULL &&
	       (ml->nsessions >= FILTER_MLFID_MAX ||
	           when - ml->oldest->seen > FILTER_MLFID_TTL))
		filter_ml_session_drop(ml, ml->oldest);
	s = xcalloc(1, sizeof *s);
	memcpy(s->id, id, len); /* len < sizeof s->id: filter_take_flags */
	s->idlen = len;
	s->seen = when;
	h = filter_ml_session_hash(s->id, len);
	s->hnext = ml->buckets[h];
	ml->buckets[h] = s;
	s->prev = ml->newest;
	if (ml->newest != NULL)
		ml->newest->next = s;
	else
		ml->oldest = s;
	ml->newest = s;
	ml->nsessions++;
	return s;
}

/* Fold this match's address, user and nofail state into session s. */
static int
filter_ml_session_update(struct filter_session *s,
    const struct filter_flags *fl, struct filter_result *res)
{
	int pending;

	if (res->user[0] != '\0') {
		if (s->user[0] != '\0' && strcmp(s->user, res->user) != 0)
			s->multiuser = 1;
		filter_ml_strcpy(s->user, sizeof s->user, res->user);
	}
	if (fl->gained)
		s->pending = 0; /* a login resets the failures before it */
	if (res->has_addr) {
		s->addr = res->addr;
		s->has_addr = 1;
	}
	s->nofail = fl->nofail || fl->gained;
	s->gained = fl->gained;
	pending = s->pending;
	s->pending = 0;
	res->addr = s->addr;
	res->has_addr = s->has_addr;
	filter_ml_strcpy(res->user, sizeof res->user, s->user);
	return pending;
}

/*
 * Merge a match into its <F-MLFID> session, as fail2ban's _mergeFailure
 * and findFailure do: a line without an address takes the session's; a
 * <F-NOFAIL> line only stores what it knows; <F-MLFFORGET> ends the
 * session; a failure met before any address stays pending until one
 * comes.  Several users tried in one session always count as failures.
 */
enum filter_verdict
filter_ml_session_merge(struct filter_ml *ml, const struct filter_flags *fl,
    time_t when, struct filter_result *res)
{
	struct filter_session *s;
	int nofail = fl->nofail || fl->gained, fresh = 0, pending, multi;

	s = filter_ml_session_find(ml, fl->mlfid, fl->mlfidlen, when);
	if (s == NULL) {
		if (fl->forget)
			return nofail || !res->has_addr ? FILTER_NOMATCH
			                                : FILTER_MATCH;
		s = filter_ml_session_add(ml, fl->mlfid, fl->mlfidlen, when);
		fresh = 1;
	}
	pending = filter_ml_session_update(s, fl, res) && !fresh;
	multi = s->multiuser;
	if (pending || multi)
		nofail = s->nofail = s->gained = 0;
	if (!nofail && !res->has_addr)
		s->pending = 1; /* fail2ban's mlfpending */
	if (fl->forget)
		filter_ml_session_drop(ml, s);
	if (nofail || !res->has_addr)
		return FILTER_NOMATCH;
	return FILTER_MATCH;
}

/* Rebuild the joined buffer: every line followed by \n, as fail2ban's. */
static void
filter_ml_lines_join(struct filter_ml *ml)
{
	size_t i;

	ml->joined.len = 0;
	filter_ml_buf_add(&ml->joined, "", 0);
	for (i = 0; i < ml->nlines; i++) {
		filter_ml_buf_add(
		    &ml->joined, ml->lines[i].s, ml->lines[i].len);
		filter_ml_buf_add(&ml->joined, "\n", 1);
	}
}

/* Append a line (its date cut out), dropping the oldest when full. */
void
filter_ml_lines_push(struct filter_ml *ml, const char *s, size_t len)
{
	struct filter_ml_buf tmp;

	if (ml->nlines == (size_t)ml->maxlines) {
		tmp = ml->lines[0];
		memmove(ml->lines, ml->lines + 1,
		    (ml->nlines - 1) * sizeof *ml->lines);
		ml->lines[--ml->nlines] = tmp;
	}
	ml->lines[ml->nlines].len = 0;
	filter_ml_buf_add(&ml->lines[ml->nlines++], s, len);
	filter_ml_lines_join(ml);
}

/* Tell whether joined[start..end) lies inside a <SKIPLINES> span. */
static int
filter_ml_lines_skipped(const struct filter_ml *ml, size_t start, size_t end)
{
	size_t i;

	for (i = 0; i < ml->nskip; i++)
		if (ml->skip[i][0] <= start && end <= ml->skip[i][1])
			return 1;
	return 0;
}

/*
 * Drop the lines a failregex matched from the buffer, as fail2ban's
 * getUnmatchedTupleLines: lines before and after the match stay, and so
 * do the lines <SKIPLINES> stepped over, so they can start another match.
 */
void
filter_ml_lines_trim(struct filter_ml *ml)
{
	struct filter_ml_buf tmp;
	size_t i, n = 0, pos = 0, end, last;

	last = ml->mend > ml->mstart ? ml->mend - 1 : ml->mstart;
	for (i = 0; i < ml->nlines; i++) {
		end = pos + ml->lines[i].len + 1;
		if (pos > last || end <= ml->mstart ||
		    filter_ml_lines_skipped(ml, pos, end)) {
			tmp = ml->lines[n];
			ml->lines[n++] = ml->lines[i];
			ml->lines[i] = tmp;
		}
		pos = end;
	}
	ml->nlines = n;
	filter_ml_lines_join(ml);
}

/* Size ml for maxlines lines (a buffer only when maxlines > 1). */
void
filter_ml_init(struct filter_ml *ml, int maxlines)
{
	ml->maxlines = maxlines;
	if (ml->maxlines > 1)
		ml->lines = xcalloc((size_t)ml->maxlines, sizeof *ml->lines);
}

/* Free what ml holds: its buffered lines and every session. */
void
filter_ml_clear(struct filter_ml *ml)
{
	size_t i;

	for (i = 0; ml->lines != NULL && i < (size_t)ml->maxlines; i++)
		free(ml->lines[i].s);
	free(ml->lines);
	free(ml->joined.s);
	while (ml->oldest != NULL)
		filter_ml_session_drop(ml, ml->oldest);
}
