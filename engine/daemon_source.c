/* daemon_source: the daemon's log files, journals and logpath globs. */
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon_private.h"
#include "filter_set.h"
#include "fleet.h"
#include "jail.h"
#include "journal.h"
#include "log.h"
#include "saturation.h"
#include "source.h"
#include "store.h"
#include "xmalloc.h"

#define DAEMON_GLOB_MS 5000 /* logpath globs looked at again this often */

static int daemon_source_journal_attach(struct daemon *, struct jail *);
static void daemon_source_journals_start(struct daemon *);
static void daemon_source_journals_free(struct daemon *);
static void daemon_source_globs_arm(struct daemon *);

/*
 * Look for the literals of every jail's filters in one pass over the
 * line.  The set is built again when jails were attached since.
 */
static void
daemon_source_prefilter(struct daemon_source *ds, const char *line, size_t len)
{
	size_t i;

	if (ds->set == NULL || filter_set_size(ds->set) != 2 * ds->njails) {
		filter_set_free(ds->set);
		ds->set = filter_set_create();
		for (i = 0; i < ds->njails; i++) {
			filter_set_add(ds->set, ds->jails[i]->filter);
			filter_set_add(ds->set, ds->jails[i]->sat_filter);
		}
	}
	filter_set_scan(ds->set, line, len);
}

/* Offer one line to every jail reading this source. */
static void
daemon_source_line_cb(
    struct source *src, const char *line, size_t len, void *arg)
{
	struct daemon_source *ds = arg;
	struct jail_event ev;
	struct jail *j;
	char *cause = NULL, *copy;
	time_t now = time(NULL);
	uint64_t mask[2];
	size_t i;

	daemon_source_prefilter(ds, line, len);
	for (i = 0; i < ds->njails; i++) {
		j = ds->jails[i];
		mask[0] = filter_set_mask(ds->set, 2 * i);
		mask[1] = filter_set_mask(ds->set, 2 * i + 1);
		switch (jail_offer_masked(j, line, len, now, mask, &ev)) {
		case JAIL_BAN:
			copy = ev.matches != NULL ? ev.matches
			                          : xstrndup(line, len);
			if (daemon_ban(ds->d, j, &ev.addr, j->conf->bantime,
			        ev.failures, "failures", copy,
			        &cause) == NULL) {
				log_warnx("jail %s: %s", j->name, cause);
				free(cause);
				cause = NULL;
			}
			free(copy);
			break;
		case JAIL_FAILURE:
			fleet_publish(daemon_fleet(ds->d), j, FLEET_FAILURE,
			    &ev.addr, ev.when, 0, 1, "failure");
			break;
		case JAIL_SATURATION:
			log_info("jail %s: saturation signal (%llu seen)",
			    j->name, (unsigned long long)j->stats.sat_count);
			if (j->sat != NULL)
				saturation_signal(j->sat, line, len, now);
			break;
		case JAIL_GOOD:
			if (j->sat != NULL)
				saturation_good(j->sat, &ev.addr, ev.when);
			break;
		default:
			break;
		}
	}
}

/* The saturation response bans through the daemon (store first). */
static int
daemon_source_sat_ban(void *arg, struct jail *j, const struct addr *a,
    int failures, const char *matches)
{
	char *cause = NULL;

	if (daemon_ban(arg, j, a, j->conf->bantime, failures, "saturation",
	        matches, &cause) != NULL)
		return 0;
	log_warnx("jail %s: saturation: %s", j->name, cause);
	free(cause);
	return -1;
}

static struct store *
daemon_source_sat_store(void *arg)
{
	return ((struct daemon *)arg)->store;
}

/* Give each jail with a saturation.filter its response, if it has none. */
static void
daemon_source_saturation_start(struct daemon *d)
{
	struct saturation_env env = {
	    daemon_source_sat_ban, daemon_source_sat_store, d};
	size_t i;

	for (i = 0; i < d->njails; i++) {
		if (d->jails[i]->conf->saturation_filter != NULL &&
		    d->jails[i]->sat == NULL)
			d->jails[i]->sat =
			    saturation_create(d->loop, d->jails[i], &env);
	}
}

/* Find the source for path, creating it. */
static struct daemon_source *
daemon_source_get(struct daemon *d, const char *path)
{
	struct daemon_source *ds;
	size_t i;

	for (i = 0; i < d->nsources; i++) {
		if (strcmp(d->sources[i]->path, path) == 0)
			return d->sources[i];
	}
	ds = xcalloc(1, sizeof *ds);
	ds->d = d;
	ds->path = xstrdup(path);
	d->sources =
	    xreallocarray(d->sources, d->nsources + 1, sizeof *d->sources);
	d->sources[d->nsources++] = ds;
	return ds;
}

static void
daemon_source_attach(struct daemon *d, const char *path, struct jail *j)
{
	struct daemon_source *ds = daemon_source_get(d, path);

	ds->jails = xreallocarray(ds->jails, ds->njails + 1, sizeof *ds->jails);
	ds->jails[ds->njails++] = j;
}

/* Expand j's logpaths (globs) and attach j to each file. */
static void
daemon_source_jail_attach(struct daemon *d, struct jail *j)
{
	const struct jail_conf *jc = j->conf;
	glob_t g;
	size_t i, k;

	for (i = 0; i < jc->nlogpaths; i++) {
		if (strpbrk(jc->logpaths[i], "*?[") == NULL) {
			daemon_source_attach(d, jc->logpaths[i], j);
			continue;
		}
		memset(&g, 0, sizeof g);
		if (glob(jc->logpaths[i], 0, NULL, &g) != 0) {
			log_warnx("jail %s: logpath %s matches no file yet",
			    j->name, jc->logpaths[i]);
			globfree(&g);
			continue;
		}
		for (k = 0; k < g.gl_pathc; k++)
			daemon_source_attach(d, g.gl_pathv[k], j);
		globfree(&g);
	}
}

/* Start following one source where the store says it stopped. */
static void
daemon_source_start(struct daemon *d, struct daemon_source *ds)
{
	struct store_pos pos;
	struct source_pos sp, *resume = NULL;
	char *cause = NULL;
	int stdin_src = strcmp(ds->path, "-") == 0;

	ds->src = source_create(d->loop, ds->path, daemon_source_line_cb, ds);
	stdin_src |= ds->fresh; /* read a fresh file, or stdin, whole */
	if (!stdin_src && store_pos_load(d->store, ds->path, &pos) == 0) {
		sp.inode = pos.inode;
		sp.offset = pos.offset;
		sp.headhash = pos.headhash;
		resume = &sp;
		ds->saved_offset = pos.offset;
		ds->saved_inode = pos.inode;
	}
	if (source_start(ds->src, resume, stdin_src, &cause) != 0) {
		log_warnx("source %s: %s", ds->path, cause);
		free(cause);
	}
}

void
daemon_source_create_all(struct daemon *d)
{
	size_t i;

	daemon_source_saturation_start(d);
	for (i = 0; i < d->njails; i++) {
		if (daemon_source_journal_attach(d, d->jails[i]) != 0)
			daemon_source_jail_attach(d, d->jails[i]);
	}
	for (i = 0; i < d->nsources; i++)
		daemon_source_start(d, d->sources[i]);
	daemon_source_journals_start(d);
	daemon_source_globs_arm(d);
}

/*
 * The counts of every file source, by path, so that a reload can hand
 * them to the sources it makes: Prometheus counters only go up.
 */
struct daemon_source_count *
daemon_source_counts(const struct daemon *d, size_t *n)
{
	struct daemon_source_count *v;
	size_t i;

	v = xcalloc(d->nsources + 1, sizeof *v);
	for (i = 0; i < d->nsources; i++) {
		v[i].path = xstrdup(d->sources[i]->path);
		if (d->sources[i]->src != NULL)
			v[i].stats = *source_stats(d->sources[i]->src);
	}
	*n = d->nsources;
	return v;
}

/* Add the saved counts to the sources of the same path; free them. */
void
daemon_source_counts_restore(
    struct daemon *d, struct daemon_source_count *v, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		for (k = 0; k < d->nsources; k++) {
			if (d->sources[k]->src != NULL &&
			    strcmp(d->sources[k]->path, v[i].path) == 0) {
				source_stats_add(
				    d->sources[k]->src, &v[i].stats);
				break;
			}
		}
		free(v[i].path);
	}
	free(v);
}

void
daemon_source_free_all(struct daemon *d)
{
	size_t i;

	daemon_store_positions_save(d);
	daemon_source_journals_free(d);
	for (i = 0; i < d->nsources; i++) {
		source_free(d->sources[i]->src);
		filter_set_free(d->sources[i]->set);
		free(d->sources[i]->jails);
		free(d->sources[i]->path);
		free(d->sources[i]);
	}
	free(d->sources);
	d->sources = NULL;
	d->nsources = 0;
}

/* Offer a journal entry to the journal's jails, as a file line is. */
static void
daemon_source_journal_line_cb(
    struct journal *jr, const char *line, size_t len, void *arg)
{
	struct daemon_journal *dj = arg;

	daemon_source_line_cb(NULL, line, len, &dj->ds);
}

/*
 * Attach j to the journal source of its filter's journalmatch when its
 * backend is systemd (jails with the same match share one); returns -1
 * for a jail that follows files.
 */
static int
daemon_source_journal_attach(struct daemon *d, struct jail *j)
{
	const char *match =
	    j->conf->filter != NULL ? j->conf->filter->journalmatch : NULL;
	struct daemon_journal *dj = NULL;
	char *name;
	size_t i;

	if (j->conf->backend == NULL || strcmp(j->conf->backend, "systemd"))
		return -1;
	xasprintf(&name, "journal:%s", match != NULL ? match : "");
	for (i = 0; i < d->njournals && dj == NULL; i++) {
		if (strcmp(d->journals[i]->ds.path, name) == 0)
			dj = d->journals[i];
	}
	if (dj == NULL) {
		dj = xcalloc(1, sizeof *dj);
		dj->ds.d = d;
		dj->ds.path = name;
		d->journals = xreallocarray(
		    d->journals, d->njournals + 1, sizeof *d->journals);
		d->journals[d->njournals++] = dj;
	} else
		free(name);
	dj->ds.jails = xreallocarray(
	    dj->ds.jails, dj->ds.njails + 1, sizeof *dj->ds.jails);
	dj->ds.jails[dj->ds.njails++] = j;
	return 0;
}

/* Open every journal source and start it at its saved cursor. */
static void
daemon_source_journals_start(struct daemon *d)
{
	struct daemon_journal *dj;
	const char *match;
	char *cause = NULL;
	size_t i;

	for (i = 0; i < d->njournals; i++) {
		dj = d->journals[i];
		match = dj->ds.path + strlen("journal:");
		dj->jr = journal_create(d->loop, match, NULL,
		    daemon_source_journal_line_cb, dj, &cause);
		if (dj->jr != NULL) {
			dj->saved = store_cursor_load(d->store, dj->ds.path);
			if (journal_start(dj->jr, dj->saved, &cause) == 0)
				continue;
		}
		log_warnx("source %s: %s", dj->ds.path, cause);
		free(cause);
		cause = NULL;
	}
}

/* Write the cursors that moved, in a transaction of their own. */
void
daemon_source_journals_save(struct daemon *d)
{
	struct daemon_journal *dj;
	const char *c;
	size_t i;
	int begun = 0;

	for (i = 0; i < d->njournals && !d->store_down; i++) {
		dj = d->journals[i];
		c = dj->jr != NULL ? journal_cursor(dj->jr) : NULL;
		if (c == NULL || (dj->saved != NULL && !strcmp(c, dj->saved)))
			continue;
		if (!begun++ && store_begin(d->store) != 0)
			break;
		if (store_cursor_save(d->store, dj->ds.path, c) != 0)
			break;
		free(dj->saved);
		dj->saved = xstrdup(c);
	}
	if (begun && store_commit(d->store) != 0)
		log_warnx("store: journal cursor: %s", store_errmsg(d->store));
}

/* Save the cursors and close every journal source. */
static void
daemon_source_journals_free(struct daemon *d)
{
	struct daemon_journal *dj;
	size_t i;

	daemon_source_journals_save(d);
	for (i = 0; i < d->njournals; i++) {
		dj = d->journals[i];
		journal_free(dj->jr);
		filter_set_free(dj->ds.set);
		free(dj->ds.jails);
		free(dj->ds.path);
		free(dj->saved);
		free(dj);
	}
	free(d->journals);
	d->journals = NULL;
	d->njournals = 0;
}

/* Attach j to path if it is not there yet; start the path if new. */
static void
daemon_source_glob_add(struct daemon *d, const char *path, struct jail *j)
{
	struct daemon_source *ds = NULL;
	size_t i;

	for (i = 0; i < d->nsources && ds == NULL; i++) {
		if (strcmp(d->sources[i]->path, path) == 0)
			ds = d->sources[i];
	}
	for (i = 0; ds != NULL && i < ds->njails; i++) {
		if (ds->jails[i] == j)
			return;
	}
	log_info("jail %s: logpath glob now matches %s", j->name, path);
	daemon_source_attach(d, path, j);
	if (ds != NULL)
		return;
	ds = d->sources[d->nsources - 1];
	ds->fresh = 1;
	daemon_source_start(d, ds);
}

/* Expand every logpath glob again: files that appeared are followed. */
static void
daemon_source_globs_cb(uv_timer_t *h)
{
	struct daemon *d = h->data;
	const struct jail_conf *jc;
	glob_t g;
	size_t i, k, n;

	for (i = 0; i < d->njails; i++) {
		jc = d->jails[i]->conf;
		if (jc->backend != NULL && strcmp(jc->backend, "systemd") == 0)
			continue;
		for (k = 0; k < jc->nlogpaths; k++) {
			if (strpbrk(jc->logpaths[k], "*?[") == NULL)
				continue;
			memset(&g, 0, sizeof g);
			if (glob(jc->logpaths[k], 0, NULL, &g) == 0) {
				for (n = 0; n < g.gl_pathc; n++)
					daemon_source_glob_add(
					    d, g.gl_pathv[n], d->jails[i]);
			}
			globfree(&g);
		}
	}
}

/* Start the glob timer once; it then runs until the daemon stops. */
static void
daemon_source_globs_arm(struct daemon *d)
{
	if (d->globs_on)
		return;
	uv_timer_init(d->loop, &d->globs);
	d->globs.data = d;
	uv_timer_start(
	    &d->globs, daemon_source_globs_cb, DAEMON_GLOB_MS, DAEMON_GLOB_MS);
	d->globs_on = 1;
}
