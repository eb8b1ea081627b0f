/* Filters: compile a filter's regexes (PCRE2 JIT) and match lines. */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcre2.h>

#include "datetime.h"
#include "filter.h"
#include "filter_lit.h"
#include "filter_ml.h"
#include "filter_tag.h"
#include "log.h"
#include "xmalloc.h"

#define FILTER_MAXGROUPS 16 /* per kind, per regex */
/* filter_mark keeps every <SKIPLINES> span of a match in struct filter_ml */
_Static_assert(FILTER_MAXGROUPS <= FILTER_ML_MAXSKIP, "skip spans");

#define FILTER_DATE_REUSE 60 /* s: a dateless line takes a date this recent */

/* What a named group captures. */
enum filter_kind {
	FILTER_KIND_IP4,
	FILTER_KIND_IP6,
	FILTER_KIND_CIDR,
	FILTER_KIND_ID,
	FILTER_KIND_USER,
	FILTER_KIND_ALTUSER,
	FILTER_KIND_NOFAIL,
	FILTER_KIND_CONTENT,
	FILTER_KIND_MLFID,
	FILTER_KIND_MLFFORGET,
	FILTER_KIND_MLFGAINED,
	FILTER_KIND_SKIPLINES,
	FILTER_KIND_COUNT
};

struct filter_re {
	pcre2_code *code;
	int jit; /* JIT compiled: use pcre2_jit_match */
	char *source; /* as written, tags and all */
	char *file;
	int line;
	struct filter_lit lit; /* a literal every match contains, or none */
	uint16_t groups[FILTER_KIND_COUNT][FILTER_MAXGROUPS];
	uint8_t ngroups[FILTER_KIND_COUNT];
};

struct filter {
	int refs;
	char *name;
	char *datepattern;
	struct datetime *dt;
	struct filter_re *pref; /* NULL if none */
	struct filter_re *fail;
	size_t nfail;
	struct filter_re *ign;
	size_t nign;
	int prefilter; /* every failregex has a literal */
	int noprefilter; /* turned off: every line goes to the regexes */
	pcre2_match_data *md;
	char *scratch; /* the line with its date cut out */
	size_t scratchsize;
	int maxlines;
	int has_mlfid; /* some regex captures <F-MLFID> */
	int has_lastdate;
	time_t lastdate; /* the last date seen, for dateless lines */
	struct filter_ml ml; /* the line buffer and <F-MLFID> sessions */
};

/* Sort one named group into the kinds filter_match looks at. */
static void
filter_re_group(struct filter_re *re, const char *name, int num)
{
	enum filter_kind k;

	if (strcmp(name, "ip4") == 0)
		k = FILTER_KIND_IP4;
	else if (strcmp(name, "ip6") == 0)
		k = FILTER_KIND_IP6;
	else if (strcmp(name, "cidr") == 0)
		k = FILTER_KIND_CIDR;
	else if (strcmp(name, "fid") == 0)
		k = FILTER_KIND_ID;
	else if (strcmp(name, "user") == 0)
		k = FILTER_KIND_USER;
	else if (strncmp(name, "alt_", 4) == 0)
		k = FILTER_KIND_ALTUSER;
	else if (strcmp(name, "nofail") == 0)
		k = FILTER_KIND_NOFAIL;
	else if (strcmp(name, "content") == 0)
		k = FILTER_KIND_CONTENT;
	else if (strcmp(name, "mlfid") == 0)
		k = FILTER_KIND_MLFID;
	else if (strcmp(name, "mlfforget") == 0)
		k = FILTER_KIND_MLFFORGET;
	else if (strcmp(name, "mlfgained") == 0)
		k = FILTER_KIND_MLFGAINED;
	else if (strcmp(name, "skiplines") == 0)
		k = FILTER_KIND_SKIPLINES;
	else
		return;
	if (re->ngroups[k] < FILTER_MAXGROUPS)
		re->groups[k][re->ngroups[k]++] = (uint16_t)num;
}

/* Record the group numbers of every named group, in pattern order. */
static void
filter_re_scan(struct filter_re *re)
{
	PCRE2_SPTR table, e;
	uint32_t count, size, cap, i, num;
	const char **names;

	pcre2_pattern_info(re->code, PCRE2_INFO_NAMECOUNT, &count);
	pcre2_pattern_info(re->code, PCRE2_INFO_NAMEENTRYSIZE, &size);
	pcre2_pattern_info(re->code, PCRE2_INFO_NAMETABLE, &table);
	pcre2_pattern_info(re->code, PCRE2_INFO_CAPTURECOUNT, &cap);
	/* The table is sorted by name; the preference order is by number. */
	names = xcalloc(cap + 1, sizeof *names);
	for (i = 0; i < count; i++) {
		e = table + i * size;
		num = ((uint32_t)e[0] << 8) | e[1];
		if (num <= cap)
			names[num] = (const char *)e + 2;
	}
	for (num = 1; num <= cap; num++)
		if (names[num] != NULL)
			filter_re_group(re, names[num], (int)num);
	free(names);
}

/* Compile one regex; errors name its file:line. */
static int
filter_re_compile(struct filter_re *re, const struct config_regex *cr,
    const char *fname, uint32_t opts, char **cause)
{
	char *pat, msg[256];
	int err;
	PCRE2_SIZE off;

	re->source = xstrdup(cr->pattern);
	re->file = xstrdup(cr->file != NULL ? cr->file : fname);
	re->line = cr->line;
	if ((pat = filter_tag_expand(cr->pattern, fname, cause)) == NULL)
		return -1;
	re->code = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
	    PCRE2_DUPNAMES | opts, &err, &off, NULL);
	if (re->code == NULL) {
		pcre2_get_error_message(err, (PCRE2_UCHAR *)msg, sizeof msg);
		xasprintf(cause, "%s:%d: filter %s: bad regex: %s: %s",
		    re->file, re->line, fname, msg, cr->pattern);
		free(pat);
		return -1;
	}
	re->jit = pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE) == 0;
	free(pat);
	filter_re_scan(re);
	return 0;
}

/*
 * Find re's literal pieces, now that the datepattern says where a date
 * may be cut out of a line (datetime_lead).
 */
static void
filter_re_lit(struct filter_re *re, const char *fname, int lead, int nonword)
{
	char *pat, *why = NULL;

	if ((pat = filter_tag_expand(re->source, fname, &why)) == NULL) {
		free(why); /* cannot happen: it compiled */
		return;
	}
	filter_lit_extract(pat, lead, nonword, &re->lit);
	free(pat);
}

static void
filter_re_clear(struct filter_re *re)
{
	pcre2_code_free(re->code);
	free(re->source);
	free(re->file);
	filter_lit_clear(&re->lit);
}

/* Compile n regexes into a new array. */
static struct filter_re *
filter_re_compile_all(const struct config_regex *cr, size_t n,
    const char *fname, uint32_t opts, uint32_t *maxcap, char **cause)
{
	struct filter_re *res;
	uint32_t cap;
	size_t i;

	res = xcalloc(n + 1, sizeof *res);
	for (i = 0; i < n; i++) {
		if (filter_re_compile(&res[i], &cr[i], fname, opts, cause) != 0)
			goto fail;
		pcre2_pattern_info(res[i].code, PCRE2_INFO_CAPTURECOUNT, &cap);
		if (cap > *maxcap)
			*maxcap = cap;
	}
	return res;
fail:
	for (; i != (size_t)-1; i--)
		filter_re_clear(&res[i]);
	free(res);
	return NULL;
}

static void
filter_free(struct filter *f)
{
	size_t i;

	if (f->pref != NULL)
		filter_re_clear(f->pref);
	free(f->pref);
	for (i = 0; i < f->nfail; i++)
		filter_re_clear(&f->fail[i]);
	free(f->fail);
	for (i = 0; i < f->nign; i++)
		filter_re_clear(&f->ign[i]);
	free(f->ign);
	pcre2_match_data_free(f->md);
	datetime_free(f->dt);
	free(f->name);
	free(f->datepattern);
	free(f->scratch);
	filter_ml_clear(&f->ml);
	free(f);
}

/* Compile every regex of fc and its datepattern. */
struct filter *
filter_create(const struct filter_conf *fc, char **cause)
{
	struct filter *f;
	uint32_t maxcap = 0;
	size_t i;
	const char *name = fc->name != NULL ? fc->name : "(unnamed)";
	char *why = NULL;
	int lead, nonword;

	f = xcalloc(1, sizeof *f);
	f->refs = 1;
	f->name = xstrdup(name);
	if (fc->datepattern != NULL)
		f->datepattern = xstrdup(fc->datepattern);
	if (fc->nfailregex == 0) {
		xasprintf(cause, "%s: filter %s: no failregex",
		    fc->file != NULL ? fc->file : name, name);
		goto fail;
	}
	if (fc->prefregex != NULL &&
	    (f->pref = filter_re_compile_all(
	         fc->prefregex, 1, name, 0, &maxcap, cause)) == NULL)
		goto fail;
	/* as fail2ban: failregexes see the buffer as lines when maxlines > 1 */
	f->maxlines = fc->maxlines > 1 ? fc->maxlines : 1;
	f->fail = filter_re_compile_all(fc->failregex, fc->nfailregex, name,
	    f->maxlines > 1 ? PCRE2_MULTILINE : 0, &maxcap, cause);
	if (f->fail == NULL)
		goto fail;
	f->nfail = fc->nfailregex;
	f->ign = filter_re_compile_all(
	    fc->ignoreregex, fc->nignoreregex, name, 0, &maxcap, cause);
	if (f->ign == NULL)
		goto fail;
	f->nign = fc->nignoreregex;
	if ((f->dt = datetime_create(fc->datepattern, &why)) == NULL) {
		xasprintf(cause, "%s: filter %s: datepattern: %s",
		    fc->file != NULL ? fc->file : name, name,
		    why != NULL ? why : "invalid");
		free(why);
		goto fail;
	}
	lead = datetime_lead(f->dt, &nonword);
	if (f->pref != NULL)
		filter_re_lit(f->pref, name, lead, nonword);
	/* a buffer's match may hold its literal on an earlier line */
	f->prefilter = f->nfail <= 64 && f->maxlines == 1;
	for (i = 0; i < f->nfail; i++) {
		filter_re_lit(&f->fail[i], name, lead, nonword);
		if (f->fail[i].lit.p[0].s == NULL)
			f->prefilter = 0;
		if (f->fail[i].ngroups[FILTER_KIND_MLFID] > 0)
			f->has_mlfid = 1;
	}
	if (f->pref != NULL && f->pref->ngroups[FILTER_KIND_MLFID] > 0)
		f->has_mlfid = 1;
	filter_ml_init(&f->ml, f->maxlines);
	f->md = pcre2_match_data_create(maxcap + 1, NULL);
	return f;
fail:
	filter_free(f);
	return NULL;
}

void
filter_ref(struct filter *f)
{
	f->refs++;
}

void
filter_unref(struct filter *f)
{
	if (f != NULL && --f->refs == 0)
		filter_free(f);
}

/* Run re on s[0..len); returns 1 on a match. */
static int
filter_exec(
    struct filter *f, const struct filter_re *re, const char *s, size_t len)
{
	int rc;

	if (re->jit)
		rc = pcre2_jit_match(
		    re->code, (PCRE2_SPTR)s, len, 0, 0, f->md, NULL);
	else
		rc = pcre2_match(
		    re->code, (PCRE2_SPTR)s, len, 0, 0, f->md, NULL);
	return rc > 0;
}

/* Return group num's span, or 0 if it did not take part in the match. */
static int
filter_group(struct filter *f, int num, size_t *start, size_t *len)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(f->md);

	if (ov[2 * num] == PCRE2_UNSET)
		return 0;
	*start = ov[2 * num];
	*len = ov[2 * num + 1] - ov[2 * num];
	return 1;
}

/* Copy the first set group of kind k into buf. */
static int
filter_copy(struct filter *f, const struct filter_re *re, enum filter_kind k,
    const char *s, char *buf, size_t size)
{
	size_t i, start, len;

	for (i = 0; i < re->ngroups[k]; i++) {
		if (!filter_group(f, re->groups[k][i], &start, &len))
			continue;
		if (len >= size)
			len = size - 1;
		memcpy(buf, s + start, len);
		buf[len] = '\0';
		return 1;
	}
	return 0;
}

/*
 * Take the address a regex captured: ip4 groups first, then ip6, as
 * fail2ban prefers.  Returns 1 with res->addr set, 0 if the regex has no
 * address groups, -1 if it has some but none holds a valid address: a
 * hostile line must never produce a wrong address, so that is no match.
 */
static int
filter_take_addr(struct filter *f, const struct filter_re *re, const char *s,
    struct addr *out)
{
	static const enum filter_kind kinds[] = {
	    FILTER_KIND_IP4, FILTER_KIND_IP6};
	size_t i, k, start, len;
	char cidr[8];
	long plen;

	if (re->ngroups[FILTER_KIND_IP4] + re->ngroups[FILTER_KIND_IP6] == 0)
		return 0;
	for (k = 0; k < 2; k++) {
		for (i = 0; i < re->ngroups[kinds[k]]; i++) {
			if (!filter_group(
			        f, re->groups[kinds[k]][i], &start, &len))
				continue;
			if (addr_parse_host(s + start, len, out) != 0)
				return -1;
			goto cidr;
		}
	}
	return -1;
cidr:
	if (filter_copy(f, re, FILTER_KIND_CIDR, s, cidr, sizeof cidr)) {
		plen = strtol(cidr, NULL, 10);
		if (plen < 0 || plen > addr_max_prefixlen(out))
			return -1;
		addr_truncate(out, (int)plen);
	}
	return 1;
}

/* Collect what a matched regex captured into res. */
static int
filter_take(struct filter *f, const struct filter_re *re, const char *s,
    struct filter_result *res)
{
	int rc;

	if ((rc = filter_take_addr(f, re, s, &res->addr)) < 0)
		return -1;
	if (rc > 0)
		res->has_addr = 1;
	filter_copy(f, re, FILTER_KIND_ID, s, res->id, sizeof res->id);
	if (!filter_copy(
	        f, re, FILTER_KIND_USER, s, res->user, sizeof res->user))
		filter_copy(
		    f, re, FILTER_KIND_ALTUSER, s, res->user, sizeof res->user);
	return 0;
}

/* Tell whether group kind k of re took part in the match, non-empty. */
static int
filter_flag(struct filter *f, const struct filter_re *re, enum filter_kind k)
{
	size_t i, start, len;

	for (i = 0; i < re->ngroups[k]; i++)
		if (filter_group(f, re->groups[k][i], &start, &len))
			return len > 0;
	return 0;
}

/*
 * Collect a match's session fields; later regexes override earlier.  The
 * id stays in the matched text: this runs on every line a prefregex with
 * <F-MLFID> matches, so it must not copy.
 */
static void
filter_take_flags(struct filter *f, const struct filter_re *re, const char *s,
    struct filter_flags *fl)
{
	size_t i, start, len;

	for (i = 0; i < re->ngroups[FILTER_KIND_MLFID]; i++) {
		if (!filter_group(
		        f, re->groups[FILTER_KIND_MLFID][i], &start, &len))
			continue;
		fl->mlfid = s + start;
		fl->mlfidlen =
		    len < FILTER_ML_IDMAX ? len : FILTER_ML_IDMAX - 1;
		fl->has_mlfid = 1;
		break;
	}
	fl->nofail |= filter_flag(f, re, FILTER_KIND_NOFAIL);
	fl->gained |= filter_flag(f, re, FILTER_KIND_MLFGAINED);
	fl->forget |= filter_flag(f, re, FILTER_KIND_MLFFORGET);
}

/* Remember where failregex re matched, base bytes into the buffer. */
static void
filter_mark(struct filter *f, const struct filter_re *re, size_t base)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(f->md);
	size_t i, start, len;

	f->ml.mmatched = 1;
	f->ml.mstart = base + ov[0];
	f->ml.mend = base + ov[1];
	f->ml.nskip = 0;
	for (i = 0; i < re->ngroups[FILTER_KIND_SKIPLINES]; i++) {
		if (!filter_group(
		        f, re->groups[FILTER_KIND_SKIPLINES][i], &start, &len))
			continue;
		f->ml.skip[f->ml.nskip][0] = base + start;
		f->ml.skip[f->ml.nskip++][1] = base + start + len;
	}
}

/* Mark which failregexes can match line, by their literals. */
uint64_t
filter_prefilter(const struct filter *f, const char *line, size_t len)
{
	uint64_t mask = 0;
	size_t i;

	if (!filter_prefilterable(f))
		return FILTER_MASK_ALL;
	if (f->pref != NULL && f->pref->lit.p[0].s != NULL &&
	    !filter_lit_find(&f->pref->lit, line, len))
		return 0;
	for (i = 0; i < f->nfail; i++)
		if (filter_lit_find(&f->fail[i].lit, line, len))
			mask |= (uint64_t)1 << i;
	return mask;
}

/*
 * Find the date and return the text the regexes see: the line before the
 * date followed by the line after it, as fail2ban does.
 */
static const char *
filter_cut_date(struct filter *f, const char *line, size_t len, time_t now,
    struct filter_result *res, size_t *outlen)
{
	size_t start, end;

	if (datetime_find(f->dt, line, len, now, &res->when, &start, &end) !=
	    0) {
		/* fail2ban: a dateless line belongs to a recent dated one */
		if (f->has_lastdate && f->lastdate >= now - FILTER_DATE_REUSE) {
			res->has_time = 1;
			res->when = f->lastdate;
		}
		*outlen = len;
		return line;
	}
	res->has_time = 1;
	f->has_lastdate = 1;
	f->lastdate = res->when;
	if (start == 0) {
		*outlen = len - end;
		return line + end;
	}
	if (f->scratchsize < len + 1) {
		f->scratchsize = len + 1;
		f->scratch = xreallocarray(f->scratch, 1, f->scratchsize);
	}
	memcpy(f->scratch, line, start);
	memcpy(f->scratch + start, line + end, len - end);
	*outlen = start + len - end;
	return f->scratch;
}

/* Match the prefregex; narrow s to its <F-CONTENT> and take its fields. */
static int
filter_match_pref(struct filter *f, const char **s, size_t *len,
    struct filter_result *res, struct filter_flags *fl)
{
	const struct filter_re *re = f->pref;
	size_t start, n;

	if (!filter_exec(f, re, *s, *len))
		return -1;
	if (filter_take(f, re, *s, res) != 0)
		return -1;
	filter_take_flags(f, re, *s, fl);
	if (re->ngroups[FILTER_KIND_CONTENT] > 0 &&
	    filter_group(f, re->groups[FILTER_KIND_CONTENT][0], &start, &n)) {
		*s += start;
		*len = n;
	}
	return 0;
}

/*
 * Match the text the regexes see (a line with its date cut out, or the
 * joined buffer): prefregex, failregexes, ignoreregexes, then the
 * <F-MLFID> session if the match names one.
 */
static enum filter_verdict
filter_match_text(struct filter *f, const char *s, size_t slen, uint64_t mask,
    time_t now, struct filter_result *res)
{
	const struct filter_re *re;
	const char *base = s;
	struct filter_flags fl;
	struct addr paddr;
	size_t i;
	int phas;

	memset(&fl, 0, sizeof fl);
	if (f->pref != NULL && filter_match_pref(f, &s, &slen, res, &fl) != 0)
		return FILTER_NOMATCH;
	paddr = res->addr;
	phas = res->has_addr;
	for (i = 0; i < f->nfail; i++) {
		re = &f->fail[i];
		if (i < 64 && (mask & ((uint64_t)1 << i)) == 0)
			continue;
		if (!filter_exec(f, re, s, slen))
			continue;
		if (f->maxlines > 1)
			filter_mark(f, re, (size_t)(s - base));
		res->has_addr = 0;
		if (filter_take(f, re, s, res) != 0)
			return FILTER_NOMATCH;
		if (!res->has_addr && phas) {
			res->addr = paddr;
			res->has_addr = 1;
		}
		filter_take_flags(f, re, s, &fl);
		res->regex = (int)i;
		for (i = 0; i < f->nign; i++)
			if (filter_exec(f, &f->ign[i], s, slen))
				return (res->verdict = FILTER_IGNORED);
		if (fl.has_mlfid)
			res->verdict = filter_ml_session_merge(
			    &f->ml, &fl, res->has_time ? res->when : now, res);
		else
			res->verdict =
			    fl.nofail ? FILTER_NOMATCH : FILTER_MATCH;
		if (res->verdict == FILTER_NOMATCH)
			res->regex = -1;
		return res->verdict;
	}
	return FILTER_NOMATCH;
}

/* Match with a buffer of the last maxlines lines (multi-line regexes). */
static enum filter_verdict
filter_match_lines(struct filter *f, const char *line, size_t len, time_t now,
    struct filter_result *res)
{
	enum filter_verdict v;
	const char *s;
	size_t slen;

	s = filter_cut_date(f, line, len, now, res, &slen);
	filter_ml_lines_push(&f->ml, s, slen);
	f->ml.mmatched = 0;
	v = filter_match_text(
	    f, f->ml.joined.s, f->ml.joined.len, ~(uint64_t)0, now, res);
	if (f->ml.mmatched)
		filter_ml_lines_trim(&f->ml);
	return v;
}

/* Match one line: date, prefregex, failregexes, ignoreregexes. */
enum filter_verdict
filter_match(struct filter *f, const char *line, size_t len, time_t now,
    struct filter_result *res)
{
	uint64_t mask = FILTER_MASK_ALL;

	if (f->maxlines == 1)
		mask = filter_prefilter(f, line, len);
	return filter_match_mask(f, line, len, now, mask, res);
}

/* Match one line whose literals were looked for already (mask). */
enum filter_verdict
filter_match_mask(struct filter *f, const char *line, size_t len, time_t now,
    uint64_t mask, struct filter_result *res)
{
	const char *s;
	size_t slen;

	if (mask == 0 && f->maxlines == 1 && filter_prefilterable(f)) {
		/* most lines end here: keep it cheaper than the memset */
		res->verdict = FILTER_NOMATCH;
		res->has_addr = res->has_time = 0;
		res->regex = -1;
		return FILTER_NOMATCH;
	}
	memset(res, 0, sizeof *res);
	res->regex = -1;
	if (f->maxlines > 1)
		return filter_match_lines(f, line, len, now, res);
	s = filter_cut_date(f, line, len, now, res, &slen);
	return filter_match_text(f, s, slen, mask, now, res);
}

/* Tell whether a line without any of f's literals can be skipped. */
int
filter_prefilterable(const struct filter *f)
{
	return f->prefilter && !f->noprefilter;
}

/* Turn the literal prefilter off (on = 0) or back on. */
void
filter_prefilter_set(struct filter *f, int on)
{
	f->noprefilter = !on;
}

/* The literal the prefregex requires, or NULL. */
const struct filter_lit *
filter_pref_lit(const struct filter *f)
{
	return f->pref != NULL && f->pref->lit.p[0].s != NULL ? &f->pref->lit
	                                                      : NULL;
}

/* The literal failregex i requires, or NULL. */
const struct filter_lit *
filter_regex_lit(const struct filter *f, size_t i)
{
	return i < f->nfail && f->fail[i].lit.p[0].s != NULL ? &f->fail[i].lit
	                                                     : NULL;
}

const char *
filter_name(const struct filter *f)
{
	return f->name;
}

size_t
filter_nregex(const struct filter *f)
{
	return f->nfail;
}

const char *
filter_regex_source(const struct filter *f, size_t i)
{
	return i < f->nfail ? f->fail[i].source : NULL;
}

const char *
filter_datepattern(const struct filter *f)
{
	return f->datepattern;
}
