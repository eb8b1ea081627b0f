/* The saturation response: find the idle slot-holders of a full service. */
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/tcp.h>

#include "addrmap.h"
#include "conf_table.h"
#include "duration.h"
#include "goodsender.h"
#include "jail.h"
#include "log.h"
#include "port.h"
#include "saturation.h"
#include "selfaddr.h"
#include "store.h"
#include "xmalloc.h"

/* Saturation lines further apart than this belong to different episodes. */
#define SATURATION_EPISODE_GAP 60
/* After the last line, an episode waits this long for holders (seconds). */
#define SATURATION_WATCH_MIN 60
/* The watch looks at the ports this often (ms). */
#define SATURATION_WATCH_MS 1000
/* With saturation.watch = episode, stop after this long without pressure. */
#define SATURATION_CALM_S 3600
/* The service refuses connections for this long after its line (s). */
#define SATURATION_REFUSING_S 20
/* Holders listed one by one in a notify report; the rest are counted. */
#define SATURATION_REPORT_MAX 50

struct saturation_job;

struct saturation {
	uv_loop_t *loop;
	struct jail *j;
	struct saturation_env env;
	struct saturation_opts opts;
	uint16_t *lports; /* the jail's ports, sorted */
	size_t nlports;
	uv_timer_t watch; /* looks every second while watching */
	int nclosing; /* handles still closing at free */
	struct saturation_job *jobs; /* in the threadpool */
	struct saturation_job *look; /* the look running, or NULL */
	int again; /* a look was asked for while one ran */
	time_t again_now;
	time_t episode_start; /* first line of the current episode */
	time_t episode_last; /* last line of the current episode, or 0 */
	time_t episode_until; /* notify with no holders after this */
	time_t refusing_until; /* the service refuses until about then */
	time_t pressure_last; /* last look under pressure */
	int notified; /* saturation.notify was decided for this episode */
	char *line; /* the last saturation line, for the ban's matches */
	struct addrmap *caught; /* holders taken: host -> time, for prefixes */
	struct goodsender *good;
	uv_timer_t goodsave; /* writes the good senders learned */
	struct saturation_stats stats;
};

enum saturation_job_kind { SATURATION_JOB_LOOK, SATURATION_JOB_EVICT };

/*
 * Work for the threadpool: list the jail's sockets, or destroy the
 * sockets of banned addresses.  The job owns copies of what it reads; s
 * is NULL once the response is freed, and then the job is only freed.
 */
struct saturation_job {
	uv_work_t req;
	struct saturation *s;
	struct saturation_job *next;
	enum saturation_job_kind kind;
	uint16_t *lports;
	size_t nlports;
	struct sockdiag_sock *socks; /* LOOK: the result */
	size_t nsocks, cap;
	struct addr *addrs; /* EVICT */
	size_t naddrs;
	unsigned *counts;
	time_t now; /* LOOK: the time it stands for */
	char *why;
	int rc;
};

/* Check one numeric key against the table (default dflt); *out gets it. */
static int
saturation_num(const struct jail_conf *jc, const char *key, const char *dflt,
    int64_t *out, char **cause)
{
	const struct conf_table_entry *t =
	    conf_table_find(CONF_TABLE_JAIL, key);
	const struct config_var *v = config_var_find(jc->vars, jc->nvars, key);
	char *why = NULL;

	if (t == NULL || conf_table_check(t, v ? v->value : dflt, out, &why)) {
		xasprintf(cause, "%s:%d: %s", v ? v->file : jc->file,
		    v ? v->line : jc->line, why ? why : key);
		free(why);
		return -1;
	}
	return 0;
}

/* saturation.mode and saturation.watch: one of two words each. */
static int
saturation_words(
    const struct jail_conf *jc, struct saturation_opts *o, char **cause)
{
	const struct config_var *m =
	    config_var_find(jc->vars, jc->nvars, "saturation.mode");
	const struct config_var *w =
	    config_var_find(jc->vars, jc->nvars, "saturation.watch");

	o->mode = SATURATION_BAN;
	if (m != NULL && strcmp(m->value, "report") == 0)
		o->mode = SATURATION_REPORT;
	else if (m != NULL && strcmp(m->value, "ban") != 0) {
		xasprintf(cause,
		    "%s:%d: saturation.mode: '%s' is not ban or report",
		    m->file, m->line, m->value);
		return -1;
	}
	o->watch = SATURATION_WATCH_EPISODE;
	if (w != NULL && strcmp(w->value, "always") == 0)
		o->watch = SATURATION_WATCH_ALWAYS;
	else if (w != NULL && strcmp(w->value, "episode") != 0) {
		xasprintf(cause,
		    "%s:%d: saturation.watch: '%s' is not episode or always",
		    w->file, w->line, w->value);
		return -1;
	}
	return 0;
}

static uint32_t
saturation_ms(int64_t s)
{
	return (uint32_t)(s > 86400 ? 86400000 : s * 1000);
}

int
saturation_opts_parse(
    const struct jail_conf *jc, struct saturation_opts *o, char **cause)
{
	int64_t idle, bytes, conns, p4, p6, ni, pidle, pr, ph, slots, ph4, phf,
	    good;

	memset(o, 0, sizeof *o);
	if (saturation_num(jc, "saturation.idle", "10s", &idle, cause) ||
	    saturation_num(jc, "saturation.maxbytes", "512", &bytes, cause) ||
	    saturation_num(jc, "saturation.minconns", "2", &conns, cause) ||
	    saturation_num(jc, "saturation.prefix4", "0", &p4, cause) ||
	    saturation_num(jc, "saturation.prefix6", "0", &p6, cause) ||
	    saturation_num(
	        jc, "saturation.notify_interval", "10m", &ni, cause) ||
	    saturation_num(
	        jc, "saturation.pressure_idle", "6s", &pidle, cause) ||
	    saturation_num(jc, "saturation.pressure", "50", &pr, cause) ||
	    saturation_num(jc, "saturation.pressure_high", "80", &ph, cause) ||
	    saturation_num(jc, "saturation.slots", "0", &slots, cause) ||
	    saturation_num(jc, "saturation.prefixhosts", "2", &ph4, cause) ||
	    saturation_num(
	        jc, "saturation.prefixhosts_full", "1", &phf, cause) ||
	    saturation_num(jc, "saturation.goodtime", "30d", &good, cause))
		return -1;
	o->idle_ms = saturation_ms(idle);
	o->maxbytes = (uint64_t)bytes;
	o->minconns = (unsigned)conns;
	o->prefix4 = (int)p4;
	o->prefix6 = (int)p6;
	o->notify_interval = ni;
	o->pressure_idle_ms = saturation_ms(pidle);
	o->pressure = (unsigned)pr;
	o->pressure_high = (unsigned)ph;
	o->slots = (unsigned)slots;
	o->prefixhosts = (unsigned)ph4;
	o->prefixhosts_full = (unsigned)phf;
	o->goodtime = good;
	return saturation_words(jc, o, cause);
}

int
saturation_check(const struct jail_conf *jc, struct conf_errors *errs)
{
	struct saturation_opts o;
	char *cause = NULL;

	if (saturation_opts_parse(jc, &o, &cause) == 0)
		return 0;
	/* cause already names file:line, as conf_errors_add would. */
	errs->msgs = xreallocarray(errs->msgs, errs->n + 1, sizeof *errs->msgs);
	errs->msgs[errs->n++] = cause;
	return -1;
}

/* What the sockets of one source say about it. */
struct saturation_src {
	struct addr addr;
	struct addr group; /* its prefix, or itself */
	unsigned idle; /* connections small and silent for idle_ms */
	int active; /* one sent more than maxbytes */
	uint32_t wait_ms; /* until its recent connections are idle; 0: none */
	uint64_t groupsum; /* idle connections of eligible sources in group */
};

static int
saturation_src_cmp_addr(const void *a, const void *b)
{
	return addr_cmp(&((const struct saturation_src *)a)->addr,
	    &((const struct saturation_src *)b)->addr);
}

static int
saturation_src_cmp_group(const void *a, const void *b)
{
	return addr_cmp(&((const struct saturation_src *)a)->group,
	    &((const struct saturation_src *)b)->group);
}

/* Fold one socket into its source's record. */
static void
saturation_src_add(const struct saturation_opts *o, struct saturation_src *src,
    const struct sockdiag_sock *s)
{
	uint32_t left, need = o->idle_ms;

	/* The client spoke last: it may be waiting for the server. */
	if (s->last_data_sent_ms > s->last_data_recv_ms && o->waiting_ms > need)
		need = o->waiting_ms;
	if (s->bytes_received > o->maxbytes)
		src->active = 1;
	else if (s->last_data_recv_ms < need) {
		left = need - s->last_data_recv_ms;
		if (left > src->wait_ms)
			src->wait_ms = left;
	} else
		src->idle++;
}

/* One record per remote address of the sockets that hold a slot. */
static struct saturation_src *
saturation_sources(const struct saturation_opts *o,
    const struct sockdiag_sock *socks, size_t nsocks, size_t *n)
{
	struct saturation_src *v;
	size_t i, k;

	v = xcalloc(nsocks + 1, sizeof *v);
	for (i = k = 0; i < nsocks; i++) {
		if (socks[i].state != TCP_ESTABLISHED &&
		    socks[i].state != TCP_CLOSE_WAIT)
			continue;
		v[k].addr = socks[i].remote;
		saturation_src_add(o, &v[k++], &socks[i]);
	}
	qsort(v, k, sizeof *v, saturation_src_cmp_addr);
	*n = 0;
	for (i = 0; i < k; i++) {
		if (*n > 0 && addr_equal(&v[*n - 1].addr, &v[i].addr)) {
			v[*n - 1].idle += v[i].idle;
			v[*n - 1].active |= v[i].active;
			if (v[i].wait_ms > v[*n - 1].wait_ms)
				v[*n - 1].wait_ms = v[i].wait_ms;
			continue;
		}
		v[(*n)++] = v[i];
	}
	return v;
}

/* Whether a is in one of the n ignored prefixes. */
static int
saturation_ignored(const struct addr *a, const struct addr *ignore, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (addr_contains(&ignore[i], a))
			return 1;
	}
	return 0;
}

/*
 * Sum, per prefix group, the idle connections of the sources that may be
 * taken (not active, nothing recent, not ignored).  Sorts v by group.
 */
static void
saturation_groups(const struct saturation_opts *o, struct saturation_src *v,
    size_t n, const struct addr *ignore, size_t nignore)
{
	size_t i, k, start;
	uint64_t sum;
	int plen;

	for (i = 0; i < n; i++) {
		v[i].group = v[i].addr;
		plen = v[i].addr.family == AF_INET ? o->prefix4 : o->prefix6;
		if (plen > 0)
			addr_truncate(&v[i].group, plen);
		if (v[i].active || v[i].wait_ms > 0 ||
		    saturation_ignored(&v[i].addr, ignore, nignore))
			v[i].idle = 0; /* never taken, and counts for none */
	}
	qsort(v, n, sizeof *v, saturation_src_cmp_group);
	for (start = 0; start < n; start = i) {
		sum = 0;
		for (i = start;
		     i < n && addr_equal(&v[i].group, &v[start].group); i++)
			sum += v[i].idle;
		for (k = start; k < i; k++)
			v[k].groupsum = sum;
	}
}

void
saturation_decide(const struct saturation_opts *o,
    const struct sockdiag_sock *socks, size_t nsocks, const struct addr *ignore,
    size_t nignore, struct saturation_verdict *out)
{
	struct saturation_src *v;
	size_t n, i;

	memset(out, 0, sizeof *out);
	v = saturation_sources(o, socks, nsocks, &n);
	saturation_groups(o, v, n, ignore, nignore);
	out->holders = xcalloc(n + 1, sizeof *out->holders);
	for (i = 0; i < n; i++) {
		if (v[i].wait_ms > 0 && !v[i].active &&
		    !saturation_ignored(&v[i].addr, ignore, nignore) &&
		    (out->wait_ms == 0 || v[i].wait_ms < out->wait_ms))
			out->wait_ms = v[i].wait_ms;
		if (v[i].idle == 0 ||
		    (v[i].idle < o->minconns && v[i].groupsum < o->minconns))
			continue;
		out->holders[out->nholders].addr = v[i].addr;
		out->holders[out->nholders++].conns = v[i].idle;
	}
	free(v);
}

enum saturation_level
saturation_level(
    const struct saturation_opts *o, size_t conns, unsigned limit, int refusing)
{
	if (refusing)
		return SATURATION_HIGH;
	if (limit == 0)
		return SATURATION_CALM;
	if (o->pressure_high > 0 &&
	    (uint64_t)conns * 100 >= (uint64_t)limit * o->pressure_high)
		return SATURATION_HIGH;
	if (o->pressure > 0 &&
	    (uint64_t)conns * 100 >= (uint64_t)limit * o->pressure)
		return SATURATION_PRESSURE;
	return SATURATION_CALM;
}

unsigned
saturation_line_limit(const char *line, size_t len)
{
	const char *p, *end = line + len;
	unsigned long v = 0;

	/* The last "max " followed by a number: sendmail's "..., max 15". */
	for (p = end; p - line >= 4; p--) {
		if (memcmp(p - 4, "max ", 4) == 0 && p < end && *p >= '0' &&
		    *p <= '9')
			break;
	}
	if (p - line < 4)
		return 0;
	for (; p < end && *p >= '0' && *p <= '9' && v < 1000000; p++)
		v = v * 10 + (unsigned long)(*p - '0');
	return (unsigned)v;
}

/* The jail's ports, expanded; -1 with *cause if they are "any". */
static int
saturation_ports(
    const struct jail_conf *jc, uint16_t **lports, size_t *n, char **cause)
{
	struct port_range *r = NULL;
	size_t nr = 0;

	*lports = NULL;
	*n = 0;
	if (jc->port == NULL ||
	    port_parse_list(jc->port, jc->protocol, &r, &nr, cause) != 0)
		return -1;
	if (nr == 0 || (nr == 1 && r[0].lo == 0 && r[0].hi == 65535)) {
		free(r);
		xasprintf(cause, "the jail's port is any: set port = ...");
		return -1;
	}
	*lports = port_expand(r, nr, n);
	free(r);
	return 0;
}

const char *
saturation_mode_name(const struct jail *j)
{
	struct saturation_opts o;
	uint16_t *lports = NULL;
	char *cause = NULL;
	size_t n;
	int ok;

	if (j->conf->saturation_filter == NULL)
		return "off";
	ok = saturation_opts_parse(j->conf, &o, &cause) == 0 &&
	     saturation_ports(j->conf, &lports, &n, &cause) == 0;
	free(cause);
	free(lports);
	if (!ok)
		return "off";
	return o.mode == SATURATION_REPORT ? "report" : "ban";
}

/* Remember a holder report mode would ban; a new one is logged once. */
static int
saturation_would(struct jail *j, const struct saturation_holder *h)
{
	struct jail_stats *st = &j->stats;
	char text[ADDR_STRLEN];
	size_t i;

	for (i = 0; i < st->sat_nwould; i++) {
		if (addr_equal(&st->sat_would[i], &h->addr))
			return 0;
	}
	if (st->sat_nwould == JAIL_SAT_WOULD_MAX) {
		memmove(&st->sat_would[0], &st->sat_would[1],
		    (JAIL_SAT_WOULD_MAX - 1) * sizeof st->sat_would[0]);
		st->sat_nwould--;
	}
	st->sat_would[st->sat_nwould++] = h->addr;
	addr_format(&h->addr, text, sizeof text);
	log_info("jail %s: saturation: would ban %s (%u idle connections)",
	    j->name, text, h->conns);
	return 1;
}

/* What became of holder h: banned, spared, or only reported. */
static const char *
saturation_fate(const struct saturation *s, const struct saturation_holder *h)
{
	if (s->opts.mode == SATURATION_REPORT)
		return "would ban (saturation.mode = report)";
	if (jail_ban_find(s->j, &h->addr) != NULL)
		return "banned";
	return "not banned (ignored, good sender or failed)";
}

/*
 * The plain-text report a notify action gets as <matches>: the line, the
 * mode, then one holder a line.  note says why no holders were looked for.
 */
static char *
saturation_report(const struct saturation *s,
    const struct saturation_verdict *v, const char *note)
{
	char *out, *tmp, text[ADDR_STRLEN];
	size_t i;

	xasprintf(&out, "jail %s: saturation: %s\nmode %s, %zu holders found",
	    s->j->name, s->line != NULL ? s->line : "",
	    s->opts.mode == SATURATION_REPORT ? "report" : "ban", v->nholders);
	if (note != NULL) {
		xasprintf(&tmp, "%s (%s)", out, note);
		free(out);
		out = tmp;
	}
	for (i = 0; i < v->nholders && i < SATURATION_REPORT_MAX; i++) {
		addr_format(&v->holders[i].addr, text, sizeof text);
		xasprintf(&tmp, "%s\n%s: %u idle connections, %s", out, text,
		    v->holders[i].conns, saturation_fate(s, &v->holders[i]));
		free(out);
		out = tmp;
	}
	if (v->nholders > SATURATION_REPORT_MAX) {
		xasprintf(&tmp, "%s\n... and %zu more", out,
		    v->nholders - SATURATION_REPORT_MAX);
		free(out);
		out = tmp;
	}
	return out;
}

/*
 * Run the jail's saturation.notify action for this episode, once, and at
 * most once per notify_interval per jail (the time is kept in the jail's
 * stats, which outlive a reload).  The address is the first holder, or
 * 0.0.0.0/0 when none was found; failures is the number of holders.
 */
static void
saturation_notify(struct saturation *s, const struct saturation_verdict *v,
    const char *note, time_t now)
{
	struct jail *j = s->j;
	struct action_ban ab;
	char *report;

	if (j->notify == NULL || s->notified)
		return;
	s->notified = 1;
	if (j->stats.sat_notify_last != 0 &&
	    now - j->stats.sat_notify_last < s->opts.notify_interval) {
		log_info("jail %s: saturation: no notify, the last was %llds "
		         "ago (notify_interval %llds)",
		    j->name, (long long)(now - j->stats.sat_notify_last),
		    (long long)s->opts.notify_interval);
		return;
	}
	j->stats.sat_notify_last = now;
	j->stats.sat_notified++;
	log_info("jail %s: saturation: notify through action %s (%zu holders)",
	    j->name, j->notify->conf->name, v->nholders);
	memset(&ab, 0, sizeof ab);
	ab.jail = j->name;
	if (v->nholders > 0)
		ab.addr = v->holders[0].addr;
	else
		addr_parse("0.0.0.0/0", &ab.addr);
	ab.start = now;
	ab.end =
	    j->conf->bantime == DURATION_FOREVER ? 0 : now + j->conf->bantime;
	ab.failures = (int)v->nholders;
	ab.reason = "saturation";
	ab.matches = report = saturation_report(s, v, note);
	jail_notify(j, &ab);
	free(report);
}

/* Unlink job from s's list (s may be NULL: a job of a freed response). */
static void
saturation_job_unlink(struct saturation_job *job)
{
	struct saturation_job **pp;

	if (job->s == NULL)
		return;
	for (pp = &job->s->jobs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == job) {
			*pp = job->next;
			break;
		}
	}
	if (job->s->look == job)
		job->s->look = NULL;
}

static void
saturation_job_free(struct saturation_job *job)
{
	free(job->lports);
	free(job->socks);
	free(job->addrs);
	free(job->counts);
	free(job->why);
	free(job);
}

static int
saturation_list_cb(const struct sockdiag_sock *sk, void *arg)
{
	struct saturation_job *job = arg;

	if (job->nsocks == job->cap) {
		job->cap = job->cap ? job->cap * 2 : 64;
		job->socks =
		    xreallocarray(job->socks, job->cap, sizeof *job->socks);
	}
	job->socks[job->nsocks++] = *sk;
	return 0;
}

/* Worker: the kernel part of a job, never on the loop thread. */
static void
saturation_job_work(uv_work_t *req)
{
	struct saturation_job *job = req->data;

	if (job->kind == SATURATION_JOB_LOOK)
		job->rc = sockdiag_foreach(AF_UNSPEC, job->lports, job->nlports,
		    saturation_list_cb, job, &job->why);
	else
		job->rc = sockdiag_destroy_from_list(job->addrs, job->naddrs,
		    job->lports, job->nlports, job->counts, &job->why);
}

static void saturation_job_done(uv_work_t *req, int status);

/* A job of kind for s, with a copy of the ports, linked into s. */
static struct saturation_job *
saturation_job_new(struct saturation *s, enum saturation_job_kind kind)
{
	struct saturation_job *job = xcalloc(1, sizeof *job);

	job->s = s;
	job->kind = kind;
	job->req.data = job;
	job->lports = xreallocarray(NULL, s->nlports, sizeof *job->lports);
	memcpy(job->lports, s->lports, s->nlports * sizeof *job->lports);
	job->nlports = s->nlports;
	job->next = s->jobs;
	s->jobs = job;
	return job;
}

/* Queue job on the threadpool (run here if that fails). */
static void
saturation_job_queue(struct saturation_job *job)
{
	if (uv_queue_work(job->s->loop, &job->req, saturation_job_work,
	        saturation_job_done) != 0) {
		saturation_job_work(&job->req);
		saturation_job_done(&job->req, 0);
	}
}

/* Free the slots of the n addresses just banned, off the loop. */
static void
saturation_evict(struct saturation *s, const struct addr *addrs, size_t n)
{
	struct saturation_job *job;

	if (n == 0)
		return;
	job = saturation_job_new(s, SATURATION_JOB_EVICT);
	job->addrs = xreallocarray(NULL, n, sizeof *job->addrs);
	memcpy(job->addrs, addrs, n * sizeof *addrs);
	job->naddrs = n;
	job->counts = xcalloc(n, sizeof *job->counts);
	saturation_job_queue(job);
}

/* Whether prefix p may never be banned: ignoreip, self, a good sender. */
static int
saturation_prefix_guarded(const struct saturation *s, const struct addr *p)
{
	const struct jail_conf *jc = s->j->conf;
	size_t i;

	for (i = 0; i < jc->nignoreip; i++) {
		if (addr_contains(p, &jc->ignoreip[i]) ||
		    addr_contains(&jc->ignoreip[i], p))
			return 1;
	}
	if (s->j->ignoreself && selfaddr_covers(s->j->self, p))
		return 1;
	return goodsender_within(s->good, p);
}

struct saturation_count {
	const struct addr *p;
	time_t since;
	unsigned n;
};

/* Count the caught hosts in c->p since c->since; forget older ones. */
static int
saturation_count_one(const struct addr *key, void *value, void *arg)
{
	struct saturation_count *c = arg;
	const time_t *when = value;

	if (*when < c->since)
		return 1;
	if (addr_contains(c->p, key))
		c->n++;
	return 0;
}

/*
 * The prefix holder h's ban should cover, if the evidence is there: at
 * least need distinct hosts of it caught holding slots within findtime,
 * and nothing in it that must never be banned.
 */
static int
saturation_prefix(struct saturation *s, const struct addr *h, time_t now,
    unsigned need, struct addr *out, unsigned *hosts)
{
	struct saturation_count c;
	int len = h->family == AF_INET ? s->opts.prefix4 : s->opts.prefix6;

	if (need == 0 || len <= 0 || len >= addr_max_prefixlen(h))
		return 0;
	*out = *h;
	addr_truncate(out, len);
	c.p = out;
	c.since = now - s->j->conf->findtime;
	c.n = 0;
	addrmap_foreach(s->caught, saturation_count_one, &c);
	*hosts = c.n;
	if (c.n < need || jail_ban_get(s->j, out) != NULL)
		return 0;
	if (saturation_prefix_guarded(s, out)) {
		s->stats.prefix_spared++;
		return 0;
	}
	return 1;
}

/* Remember that host a was caught holding a slot at now. */
static void
saturation_caught(struct saturation *s, const struct addr *a, time_t now)
{
	time_t *when = xmalloc(sizeof *when);

	*when = now;
	addrmap_put(s->caught, a, when);
}

/* Ban a (host or prefix) through the owner; 0 if it is banned now. */
static int
saturation_ban_one(struct saturation *s, const struct addr *a, int failures)
{
	if (s->env.ban == NULL)
		return -1;
	return s->env.ban(s->env.arg, s->j, a, failures, s->line);
}

/*
 * Ban every holder not spared, its prefix instead when the evidence is
 * there, then free the slots they hold.  Returns how many were banned.
 */
static unsigned saturation_need(const struct saturation *s, time_t now);

static size_t
saturation_ban(
    struct saturation *s, const struct saturation_verdict *v, time_t now)
{
	struct jail *j = s->j;
	struct addr *addrs = xcalloc(2 * v->nholders + 1, sizeof *addrs);
	struct addr p;
	char text[ADDR_STRLEN];
	size_t i, n = 0;
	unsigned hosts, need;

	for (i = 0; i < v->nholders; i++)
		saturation_caught(s, &v->holders[i].addr, now);
	need = saturation_need(s, now);
	for (i = 0; i < v->nholders; i++) {
		const struct saturation_holder *h = &v->holders[i];

		if (jail_ban_find(j, &h->addr) != NULL) {
			addrs[n++] = h->addr; /* banned: still holds slots */
			continue;
		}
		if (saturation_prefix(s, &h->addr, now, need, &p, &hosts) &&
		    saturation_ban_one(s, &p, (int)hosts) == 0) {
			addr_format(&p, text, sizeof text);
			log_info("jail %s: saturation: %u hosts of %s held "
			         "slots and none is a good sender: prefix "
			         "banned",
			    j->name, hosts, text);
			s->stats.prefix_banned++;
			j->stats.sat_banned++;
			addrs[n++] = p;
			continue;
		}
		if (saturation_ban_one(s, &h->addr, (int)h->conns) != 0)
			continue;
		j->stats.sat_banned++;
		addrs[n++] = h->addr;
	}
	saturation_evict(s, addrs, n);
	free(addrs);
	return n;
}

/* Count the hosts caught since c->since (c->p unused). */
static int
saturation_since_one(const struct addr *key, void *value, void *arg)
{
	struct saturation_count *c = arg;
	const time_t *when = value;

	(void)key;
	if (*when >= c->since)
		c->n++;
	return 0;
}

/*
 * The hosts of one prefix that must be caught to ban it: prefixhosts, or
 * prefixhosts_full (if fewer) while the service refuses connections and
 * the hosts caught holding slots since its episode began number
 * saturation.pressure % of its slots or more.  Then the refusal is the
 * work of sources that send nothing, and a prefix that held one of those
 * slots and never sent mail would be back at once when the service
 * reopens (a second saturation).
 * Call it after the look's holders are counted as caught.
 */
static unsigned
saturation_need(const struct saturation *s, time_t now)
{
	const struct saturation_opts *o = &s->opts;
	struct saturation_count c = {NULL, s->episode_start, 0};

	if (o->prefixhosts == 0 || o->prefixhosts_full == 0 ||
	    o->prefixhosts_full >= o->prefixhosts || now >= s->refusing_until ||
	    o->slots == 0)
		return o->prefixhosts;
	addrmap_foreach(s->caught, saturation_since_one, &c);
	if (o->pressure == 0 ||
	    (uint64_t)c.n * 100 < (uint64_t)o->slots * o->pressure)
		return o->prefixhosts;
	return o->prefixhosts_full;
}

/* Drop the holders that are good senders or ignored; count the rest. */
static void
saturation_spare(struct saturation *s, struct saturation_verdict *v)
{
	char text[ADDR_STRLEN];
	size_t i, k;

	for (i = k = 0; i < v->nholders; i++) {
		if (goodsender_is(s->good, &v->holders[i].addr) ||
		    jail_ignores(s->j, &v->holders[i].addr)) {
			addr_format(&v->holders[i].addr, text, sizeof text);
			log_debug(
			    "jail %s: saturation: %s spared", s->j->name, text);
			continue;
		}
		v->holders[k++] = v->holders[i];
	}
	v->nholders = k;
}

/* The connections that hold a child: established or half-closed. */
static size_t
saturation_conns(const struct sockdiag_sock *socks, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		c += socks[i].state == TCP_ESTABLISHED ||
		     socks[i].state == TCP_CLOSE_WAIT;
	return c;
}

static void saturation_watch_start(struct saturation *s);

/*
 * Act on one list of the jail's sockets: weigh the pressure, take the
 * holders at the level's idle time, ban or report them.
 */
static void
saturation_act(struct saturation *s, const struct saturation_job *job)
{
	struct saturation_opts o = s->opts;
	struct saturation_verdict v;
	enum saturation_level lv;
	time_t now = job->now;
	size_t i, fresh = 0, banned = 0;
	int in_episode = s->episode_last != 0 && now <= s->episode_until;

	s->stats.looks++;
	s->stats.conns = saturation_conns(job->socks, job->nsocks);
	s->stats.limit = o.slots;
	lv = saturation_level(
	    &o, s->stats.conns, o.slots, now < s->refusing_until);
	s->stats.level = lv;
	if (lv == SATURATION_CALM && !in_episode)
		return;
	if (lv != SATURATION_CALM) {
		s->stats.pressure_looks++;
		s->pressure_last = now;
	}
	if (lv == SATURATION_HIGH && o.pressure_idle_ms < o.idle_ms) {
		o.waiting_ms = o.idle_ms; /* a client waiting for us */
		o.idle_ms = o.pressure_idle_ms;
	}
	saturation_decide(&o, job->socks, job->nsocks, s->j->conf->ignoreip,
	    s->j->conf->nignoreip, &v);
	saturation_spare(s, &v);
	log_debug("jail %s: saturation: %zu sockets, %zu connections, level "
	          "%d, %zu holders",
	    s->j->name, job->nsocks, s->stats.conns, (int)lv, v.nholders);
	for (i = 0; i < v.nholders; i++) {
		if (o.mode == SATURATION_REPORT)
			fresh += saturation_would(s->j, &v.holders[i]);
	}
	if (o.mode == SATURATION_BAN && v.nholders > 0) {
		banned = saturation_ban(s, &v, now);
		if (now >= s->refusing_until)
			s->stats.watch_banned += banned; /* before a refusal */
	}
	s->j->stats.sat_holders +=
	    o.mode == SATURATION_REPORT ? fresh : v.nholders;
	/* Tell once holders are known, or when none is about to qualify. */
	if (s->episode_last != 0 &&
	    (v.nholders > 0 || v.wait_ms == 0 || now >= s->episode_until))
		saturation_notify(s, &v, NULL, now);
	free(v.holders);
}

/* Look at the jail's sockets off the loop, now standing for time now. */
static void
saturation_look(struct saturation *s, time_t now)
{
	if (s->nlports == 0)
		return;
	if (s->look != NULL) {
		s->again = 1;
		s->again_now = now;
		return;
	}
	s->look = saturation_job_new(s, SATURATION_JOB_LOOK);
	s->look->now = now;
	saturation_job_queue(s->look);
}

/* Loop: a job is done; act on a look, report an eviction. */
static void
saturation_job_done(uv_work_t *req, int status)
{
	struct saturation_job *job = req->data;
	struct saturation *s = job->s;
	struct saturation_verdict none;
	unsigned total = 0;
	size_t i;

	saturation_job_unlink(job);
	if (s == NULL || status == UV_ECANCELED) {
		saturation_job_free(job);
		return;
	}
	if (job->rc != 0 || status != 0) {
		log_warnx("jail %s: saturation: %s", s->j->name,
		    job->why != NULL ? job->why : uv_strerror(status));
		memset(&none, 0, sizeof none);
		if (job->kind == SATURATION_JOB_LOOK && s->episode_last != 0)
			saturation_notify(
			    s, &none, "cannot list the sockets", job->now);
	} else if (job->kind == SATURATION_JOB_LOOK)
		saturation_act(s, job);
	else {
		for (i = 0; i < job->naddrs; i++)
			total += job->counts[i];
		log_info("jail %s: saturation: %zu banned, %u connections "
		         "evicted",
		    s->j->name, job->naddrs, total);
	}
	saturation_job_free(job);
	if (s->again && s->look == NULL) {
		s->again = 0;
		saturation_look(s, s->again_now);
	}
}

/* Every second while watching; with watch = episode, stop when calm. */
static void
saturation_watch_cb(uv_timer_t *h)
{
	struct saturation *s = h->data;
	time_t now = time(NULL);

	if (s->opts.watch == SATURATION_WATCH_EPISODE &&
	    now - s->pressure_last > SATURATION_CALM_S &&
	    now - s->episode_last > SATURATION_CALM_S) {
		log_info("jail %s: saturation: calm for %ds, watch stops",
		    s->j->name, SATURATION_CALM_S);
		uv_timer_stop(&s->watch);
		s->stats.watching = 0;
		return;
	}
	saturation_look(s, now);
}

static void
saturation_watch_start(struct saturation *s)
{
	if (s->stats.watching || s->nlports == 0)
		return;
	s->stats.watching = 1;
	uv_timer_start(&s->watch, saturation_watch_cb, SATURATION_WATCH_MS,
	    SATURATION_WATCH_MS);
	log_info("jail %s: saturation: watching the ports every %d ms",
	    s->j->name, SATURATION_WATCH_MS);
}

/* The owner's store, or NULL. */
static struct store *
saturation_store(const struct saturation *s)
{
	return s->env.store != NULL ? s->env.store(s->env.arg) : NULL;
}

/* Write the good senders learned, now and then. */
static void
saturation_goodsave_cb(uv_timer_t *h)
{
	struct saturation *s = h->data;

	goodsender_save(s->good, saturation_store(s), time(NULL));
}

struct saturation *
saturation_create(
    uv_loop_t *loop, struct jail *j, const struct saturation_env *env)
{
	struct saturation *s;
	char *cause = NULL;

	s = xcalloc(1, sizeof *s);
	s->loop = loop;
	s->j = j;
	s->env = *env;
	if (saturation_opts_parse(j->conf, &s->opts, &cause) != 0 ||
	    saturation_ports(j->conf, &s->lports, &s->nlports, &cause) != 0) {
		log_warnx(
		    "jail %s: saturation response off: %s", j->name, cause);
		free(cause);
		s->nlports = 0;
	}
	s->stats.limit = s->opts.slots;
	s->caught = addrmap_create(free);
	s->good = goodsender_create(j->name, s->opts.goodtime);
	if (goodsender_load(s->good, saturation_store(s), time(NULL)) != 0)
		log_warnx("jail %s: good senders: %s", j->name,
		    store_errmsg(saturation_store(s)));
	/* Neither timer alone keeps the loop (or a stop) waiting. */
	uv_timer_init(loop, &s->watch);
	s->watch.data = s;
	uv_unref((uv_handle_t *)&s->watch);
	uv_timer_init(loop, &s->goodsave);
	s->goodsave.data = s;
	uv_timer_start(&s->goodsave, saturation_goodsave_cb, 5000, 5000);
	uv_unref((uv_handle_t *)&s->goodsave);
	if (s->opts.watch == SATURATION_WATCH_ALWAYS)
		saturation_watch_start(s);
	return s;
}

static void
saturation_close_cb(uv_handle_t *h)
{
	struct saturation *s = h->data;

	if (--s->nclosing > 0)
		return;
	free(s->lports);
	free(s->line);
	addrmap_free(s->caught);
	goodsender_free(s->good);
	free(s);
}

void
saturation_free(struct saturation *s)
{
	struct saturation_job *job;

	if (s == NULL)
		return;
	for (job = s->jobs; job != NULL; job = job->next) {
		job->s = NULL; /* its done callback only frees it */
		uv_cancel((uv_req_t *)&job->req);
	}
	s->jobs = s->look = NULL;
	goodsender_save(s->good, saturation_store(s), time(NULL));
	uv_timer_stop(&s->watch);
	uv_timer_stop(&s->goodsave);
	s->nclosing = 2;
	uv_close((uv_handle_t *)&s->watch, saturation_close_cb);
	uv_close((uv_handle_t *)&s->goodsave, saturation_close_cb);
}

void
saturation_signal(
    struct saturation *s, const char *line, size_t len, time_t now)
{
	struct saturation_verdict none;
	struct jail *j = s->j;
	int64_t wait;
	unsigned limit;

	if (s->episode_last == 0 ||
	    now - s->episode_last > SATURATION_EPISODE_GAP) {
		j->stats.sat_episodes++;
		s->episode_start = now;
		s->notified = 0;
		log_info("jail %s: saturation episode %llu begins", j->name,
		    (unsigned long long)j->stats.sat_episodes);
	}
	s->episode_last = now;
	s->refusing_until = now + SATURATION_REFUSING_S;
	wait = 3 * (int64_t)(s->opts.idle_ms / 1000);
	s->episode_until =
	    now + (wait > SATURATION_WATCH_MIN ? wait : SATURATION_WATCH_MIN);
	if ((limit = saturation_line_limit(line, len)) > 0 &&
	    s->opts.slots == 0)
		s->opts.slots = limit; /* learned: the service's child limit */
	free(s->line);
	s->line = xstrndup(line, len);
	if (s->nlports == 0) {
		memset(&none, 0, sizeof none);
		saturation_notify(
		    s, &none, "no holders looked for: see the log", now);
		return;
	}
	saturation_watch_start(s);
	saturation_look(s, now);
}

void
saturation_good(struct saturation *s, const struct addr *a, time_t when)
{
	s->stats.good_learned++;
	goodsender_add(s->good, a, when);
}

int
saturation_busy(const struct saturation *s)
{
	return s != NULL && s->jobs != NULL;
}

const struct saturation_stats *
saturation_stats(const struct saturation *s)
{
	return &s->stats;
}

size_t
saturation_good_count(const struct saturation *s)
{
	return s != NULL ? goodsender_count(s->good) : 0;
}

size_t
saturation_good_recent(
    const struct saturation *s, struct store_good *out, size_t max)
{
	return s != NULL ? goodsender_recent(s->good, out, max) : 0;
}
