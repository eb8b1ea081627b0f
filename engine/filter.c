/* Filters: fail2ban tags to PCRE2, JIT compile, literal prefilter, match. */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcre2.h>

#include "datetime.h"
#include "filter.h"
#include "filter_ml.h"
#include "log.h"
#include "xmalloc.h"

/*
 * Address shapes.  They only find candidate text: addr_parse_host decides
 * whether it is an address.  The lookarounds stop a match from starting or
 * ending inside a longer run of digits ("11.2.3.45"), so a filter cannot
 * take a piece of a number for an address.  An IPv6 address that ends in
 * dotted IPv4 (::ffff:1.2.3.4) may be followed by ":PORT", as dropbear
 * writes it; one that ends in hex may not, as that is ambiguous.
 */
#define FILTER_RE_IP4 "(?<![0-9.])(?:\\d{1,3}\\.){3}\\d{1,3}(?!\\d|\\.\\d)"
#define FILTER_RE_IP6                                                          \
	"(?<![0-9a-fA-F])(?:[0-9a-fA-F]{1,4}::?|::?){1,7}"                     \
	"(?:(?<=:)(?:\\d{1,3}\\.){3}\\d{1,3}(?!\\d|\\.\\d)"                    \
	"|(?:[0-9a-fA-F]{1,4}|(?<=:):)(?![0-9a-fA-F:]|\\.\\d))"
/*
 * An IPv6 zone id ("fe80::1%eth0") is matched but left out of the ip6
 * group: the address is the same host whatever interface it came in on.
 */
#define FILTER_RE_ZONE "(?:%[0-9A-Za-z_.-]{1,16})?"
#define FILTER_RE_ADDR                                                         \
	"(?:(?<ip4>" FILTER_RE_IP4 ")|(?<ip6>" FILTER_RE_IP6                   \
	")" FILTER_RE_ZONE ")"
#define FILTER_RE_CIDR "(?<cidr>\\d{1,3})"

#define FILTER_MAXGROUPS 16 /* per kind, per regex */
#define FILTER_MINLITERAL 3 /* shorter literals do not pay for memmem */
#define FILTER_RE_SKIPLINES "\\n(?<skiplines>(?:(?:.*\\n)*?))"
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
	char *lit; /* a literal every match contains, or NULL */
	size_t litlen;
	size_t litrare; /* index of its rarest byte: memchr looks for that */
	uint16_t groups[FILTER_KIND_COUNT][FILTER_MAXGROUPS];
	uint8_t ngroups[FILTER_KIND_COUNT];
};

/* A growing string (patterns, literals). */
struct filter_buf {
	char *s;
	size_t len;
	size_t size;
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
	pcre2_match_data *md;
	char *scratch; /* the line with its date cut out */
	size_t scratchsize;
	int maxlines;
	int has_mlfid; /* some regex captures <F-MLFID> */
	int has_lastdate;
	time_t lastdate; /* the last date seen, for dateless lines */
	struct filter_ml ml; /* the line buffer and <F-MLFID> sessions */
};

/* Append n bytes to b. */
static void
filter_buf_add(struct filter_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->size) {
		b->size = (b->len + n + 1) * 2;
		b->s = xreallocarray(b->s, 1, b->size);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
filter_buf_str(struct filter_buf *b, const char *s)
{
	filter_buf_add(b, s, strlen(s));
}

/* Map a fail2ban field name (after "F-") to a PCRE2 group name. */
static int
filter_field_name(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i;

	if (n == 0 || n + 1 >= outlen || n > 30)
		return -1;
	if (n == 2 && strncmp(s, "ID", 2) == 0) {
		strcpy(out, "fid");
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return -1;
		out[i] = s[i] == '-' ? '_' : (char)tolower((unsigned char)s[i]);
	}
	out[n] = '\0';
	if (isdigit((unsigned char)out[0]))
		return -1;
	return 0;
}

/* Expand one <F-NAME> or </F-NAME> tag at p; returns its length or 0. */
static size_t
filter_expand_field(const char *p, struct filter_buf *b)
{
	const char *q, *name;
	int closing = p[1] == '/';
	char gname[32];

	name = p + (closing ? 4 : 3);
	if (strncmp(p + (closing ? 2 : 1), "F-", 2) != 0)
		return 0;
	if ((q = strchr(name, '>')) == NULL)
		return 0;
	if (filter_field_name(name, (size_t)(q - name), gname, sizeof gname))
		return 0;
	if (closing)
		filter_buf_str(b, ")");
	else {
		filter_buf_str(b, "(?<");
		filter_buf_str(b, gname);
		filter_buf_str(b, ">");
	}
	return (size_t)(q - p) + 1;
}

/* Expand the <TAG> at p into b; returns its length, 0 if not a tag. */
static size_t
filter_expand_tag(const char *p, struct filter_buf *b, int *dns)
{
	static const struct {
		const char *tag;
		const char *re;
	} tags[] = {
	    {"<HOST>", FILTER_RE_ADDR},
	    {"<ADDR>", FILTER_RE_ADDR},
	    {"<IP4>", "(?<ip4>" FILTER_RE_IP4 ")"},
	    {"<IP6>", "(?<ip6>" FILTER_RE_IP6 ")" FILTER_RE_ZONE},
	    {"<CIDR>", FILTER_RE_CIDR},
	    {"<SUBNET>", FILTER_RE_ADDR "(?:/" FILTER_RE_CIDR ")?"},
	    {"<SKIPLINES>", FILTER_RE_SKIPLINES},
	};
	size_t i, n;

	for (i = 0; i < sizeof tags / sizeof tags[0]; i++) {
		n = strlen(tags[i].tag);
		if (strncmp(p, tags[i].tag, n) == 0) {
			filter_buf_str(b, tags[i].re);
			return n;
		}
	}
	if (strncmp(p, "<DNS>", 5) == 0) {
		*dns = 1;
		return 5;
	}
	return filter_expand_field(p, b);
}

/*
 * Turn a fail2ban regex into PCRE2 syntax.  Python's (?P<name>...) and
 * (?P=name) are PCRE2 syntax already; only the tags need work.
 */
static char *
filter_expand(const char *src, const char *fname, char **cause)
{
	struct filter_buf b = {NULL, 0, 0};
	const char *p;
	size_t n;
	int dns = 0;

	filter_buf_add(&b, "", 0);
	for (p = src; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0') {
			filter_buf_add(&b, p, 2);
			p++;
			continue;
		}
		if (*p == '<' && (n = filter_expand_tag(p, &b, &dns)) != 0) {
			p += n - 1;
			continue;
		}
		filter_buf_add(&b, p, 1);
	}
	if (dns) {
		xasprintf(cause,
		    "filter %s: <DNS>/hostnames are not supported, jaild does "
		    "not resolve names",
		    fname);
		free(b.s);
		return NULL;
	}
	return b.s;
}

/* Skip a character class starting at p ('['); returns past its ']'. */
static const char *
filter_skip_class(const char *p)
{
	p++;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	while (*p != '\0' && *p != ']') {
		if (*p == '\\' && p[1] != '\0')
			p++;
		else if (p[0] == '[' && p[1] == ':') {
			const char *e = strstr(p + 2, ":]");
			if (e != NULL)
				p = e + 1;
		}
		p++;
	}
	return *p == ']' ? p + 1 : NULL;
}

/* Skip a group starting at p ('('); returns past its ')', or NULL. */
static const char *
filter_skip_group(const char *p)
{
	int depth = 0;

	while (*p != '\0') {
		if (*p == '\\') {
			if (*++p == '\0')
				return NULL;
		} else if (*p == '[') {
			if ((p = filter_skip_class(p)) == NULL)
				return NULL;
			continue;
		} else if (*p == '(')
			depth++;
		else if (*p == ')' && --depth == 0)
			return p + 1;
		p++;
	}
	return NULL;
}

/* Skip a quantifier at p, if there is one; *opt says it allows zero. */
static const char *
filter_skip_quant(const char *p, int *opt)
{
	const char *q;

	*opt = 0;
	if (*p == '*' || *p == '?')
		*opt = 1;
	else if (*p == '{') {
		q = p + 1;
		if (!isdigit((unsigned char)*q))
			return p;
		*opt = *q == '0' && !isdigit((unsigned char)q[1]);
		q += strspn(q, "0123456789,");
		if (*q != '}')
			return p;
		p = q;
	} else if (*p != '+')
		return p;
	p++;
	if (*p == '?' || *p == '+')
		p++;
	return p;
}

/* Keep the longer of the current run and the best one. */
static void
filter_lit_flush(struct filter_buf *cur, struct filter_buf *best)
{
	if (cur->len > best->len) {
		best->len = 0;
		filter_buf_add(best, cur->s, cur->len);
	}
	cur->len = 0;
}

/*
 * Find the longest literal that every match of the PCRE2 pattern p must
 * contain: a run of plain characters at the top level of the pattern.
 * Anything unusual (top-level '|', option settings, \Q) gives up: no
 * literal only costs speed, a wrong one would lose matches.
 */
static char *
filter_literal(const char *p, size_t *len)
{
	struct filter_buf cur = {NULL, 0, 0}, best = {NULL, 0, 0};
	const char *q;
	int opt, lit;
	char c;

	filter_buf_add(&cur, "", 0);
	filter_buf_add(&best, "", 0);
	if (strstr(p, "(?i") != NULL || strstr(p, "(?x") != NULL ||
	    strstr(p, "(?-") != NULL || strstr(p, "(?^") != NULL ||
	    strstr(p, "\\Q") != NULL)
		goto none;
	while (*p != '\0') {
		lit = 0;
		if (*p == '|')
			goto none;
		if (*p == '(')
			q = filter_skip_group(p);
		else if (*p == '[')
			q = filter_skip_class(p);
		else if (*p == '\\') {
			c = p[1];
			if (c == '\0' || strchr("cxopPgkNE", c) != NULL)
				goto none;
			lit = !isalnum((unsigned char)c);
			q = p + 2;
		} else {
			c = *p;
			lit = strchr(".^$*+?{)", c) == NULL;
			q = p + 1;
		}
		if (q == NULL)
			goto none;
		q = filter_skip_quant(q, &opt);
		if (lit && q == p + (*p == '\\' ? 2 : 1))
			filter_buf_add(&cur, &c, 1);
		else
			filter_lit_flush(&cur, &best);
		p = q;
	}
	filter_lit_flush(&cur, &best);
	free(cur.s);
	if (best.len < FILTER_MINLITERAL) {
		free(best.s);
		return NULL;
	}
	*len = best.len;
	return best.s;
none:
	free(cur.s);
	free(best.s);
	return NULL;
}

/* Guess how rare byte c is in log text: higher is rarer. */
static int
filter_rarity(unsigned char c)
{
	static const char order[] = "etaoinsrhldcumfpgwybvkxjqz";
	const char *p;

	if (c == ' ' || isdigit(c))
		return 0;
	if ((p = strchr(order, tolower(c))) != NULL)
		return 2 + (int)(p - order) + (isupper(c) ? 30 : 0);
	return isalnum(c) ? 1 : 20; /* punctuation: in between */
}

/* Pick the rarest byte of the literal for memchr. */
static void
filter_lit_rare(struct filter_re *re)
{
	size_t i;

	re->litrare = 0;
	for (i = 1; i < re->litlen; i++)
		if (filter_rarity((unsigned char)re->lit[i]) >
		    filter_rarity((unsigned char)re->lit[re->litrare]))
			re->litrare = i;
}

/*
 * Find re's literal in s[0..len): memchr for its rarest byte, then
 * compare.  Several times faster than memmem on log text, where the
 * literal's first bytes (often a space) are everywhere.
 */
static const char *
filter_lit_find(const struct filter_re *re, const char *s, size_t len)
{
	const char *p, *end, *q;
	unsigned char c;

	if (len < re->litlen)
		return NULL;
	c = (unsigned char)re->lit[re->litrare];
	p = s + re->litrare;
	end = s + len - (re->litlen - re->litrare - 1);
	while (p < end && (q = memchr(p, c, (size_t)(end - p))) != NULL) {
		if (memcmp(q - re->litrare, re->lit, re->litlen) == 0)
			return q - re->litrare;
		p = q + 1;
	}
	return NULL;
}

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
	if ((pat = filter_expand(cr->pattern, fname, cause)) == NULL)
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
	if ((re->lit = filter_literal(pat, &re->litlen)) != NULL)
		filter_lit_rare(re);
	free(pat);
	filter_re_scan(re);
	return 0;
}

static void
filter_re_clear(struct filter_re *re)
{
	pcre2_code_free(re->code);
	free(re->source);
	free(re->file);
	free(re->lit);
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
	/* a buffer's match may hold its literal on an earlier line */
	f->prefilter = f->nfail <= 64 && f->maxlines == 1;
	for (i = 0; i < f->nfail; i++) {
		if (f->fail[i].lit == NULL)
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
static uint64_t
filter_prefilter(const struct filter *f, const char *line, size_t len)
{
	uint64_t mask = 0;
	size_t i;

	if (!f->prefilter)
		return ~(uint64_t)0;
	if (f->pref != NULL && f->pref->lit != NULL &&
	    filter_lit_find(f->pref, line, len) == NULL)
		return 0;
	for (i = 0; i < f->nfail; i++)
		if (filter_lit_find(&f->fail[i], line, len) != NULL)
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
	const char *s;
	size_t slen;
	uint64_t mask;

	memset(res, 0, sizeof *res);
	res->regex = -1;
	if (f->maxlines > 1)
		return filter_match_lines(f, line, len, now, res);
	if ((mask = filter_prefilter(f, line, len)) == 0)
		return FILTER_NOMATCH;
	s = filter_cut_date(f, line, len, now, res, &slen);
	return filter_match_text(f, s, slen, mask, now, res);
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

/* The literal failregex i requires, or NULL; for tests and reports. */
const char *
filter_regex_literal(const struct filter *f, size_t i)
{
	return i < f->nfail ? f->fail[i].lit : NULL;
}

/* Find failregex i's literal in buf[0..len), or NULL (none, or no literal). */
const char *
filter_regex_find(const struct filter *f, size_t i, const char *buf, size_t len)
{
	if (i >= f->nfail || f->fail[i].lit == NULL)
		return NULL;
	return filter_lit_find(&f->fail[i], buf, len);
}
