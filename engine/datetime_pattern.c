/*
 * Datepatterns: fail2ban's {KEYWORD}s and strptime-style patterns compiled
 * to PCRE2, and fail2ban's default templates as the fallback list.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <pcre2.h>

#include "datetime_pattern.h"
#include "xmalloc.h"

/*
 * The spec is taken as the config loader hands it over: fail2ban's "%%"
 * escape has already become "%", so "%Y" here is a directive and "%%" a
 * literal percent sign.
 */

static const char *const datetime_pattern_field_names[DATETIME_NFIELDS] = {
    "jdY", "jdy", "jdm", "jdb", "jdd", "jdH", "jdI", "jdM", "jdS", "jdp", "jdj",
    "jds", "jdz", "jdZ"};

/*
 * fail2ban's default templates that the fast parsers do not cover, tried
 * (leftmost match wins) when they fail on a {DATE} line.
 */
static const char *const datetime_pattern_templates[] = {
    "(?:%a )?%b %d %k:%M:%S(?:\\.%f)?(?: %ExY)?",
    "(?:%a )?%b %d %ExY %k:%M:%S(?:\\.%f)?",
    "%d(?P<_sep>[-/])%m(?P=_sep)(?:%ExY|%Exy) %k:%M:%S",
    "%d(?P<_sep>[-/])%b(?P=_sep)%ExY[ :]?%H:%M:%S(?:\\.%f)?(?: %z)?",
    "%m/%d/%ExY:%H:%M:%S",
    "%m-%d-%ExY %k:%M:%S(?:\\.%f)?",
    "<%m/%d/%Exy@%H:%M:%S>",
    "%Exy%Exm%Exd  ?%H:%M:%S",
    "%b %d, %ExY %I:%M:%S %p",
    "%b-%d-%Exy %k:%M:%S",
    "%ExY%Exm%Exd(?:T|  ?)%ExH%ExM%ExS(?:[.,]%f)?(?:\\s*%z)?",
    "(?:%Z )?(?:%a )?%b %d %k:%M:%S(?:\\.%f)?(?: %ExY)?",
    "(?:%z )?(?:%a )?%b %d %k:%M:%S(?:\\.%f)?(?: %ExY)?",
};

/* The regex for one strptime directive, or NULL if unsupported. */
static const char *
datetime_pattern_directive(char c)
{
	switch (c) {
	case 'Y':
		return "(?<jdY>\\d{4})";
	case 'y':
		return "(?<jdy>\\d\\d)";
	case 'm':
		return "(?<jdm>1[0-2]|0[1-9]|[1-9](?!\\d))";
	case 'b':
	case 'B':
	case 'h':
		return "(?<jdb>(?i:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|"
		       "Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
		       "Sep(?:tember)?|Oct(?:ober)?|Nov(?:ember)?|"
		       "Dec(?:ember)?))";
	case 'a':
	case 'A':
		return "(?i:Mon(?:day)?|Tue(?:sday)?|Wed(?:nesday)?|"
		       "Thu(?:rsday)?|Fri(?:day)?|Sat(?:urday)?|Sun(?:day)?)";
	case 'd':
	case 'e':
		return "(?<jdd>3[01]|[12]\\d|0[1-9]|[1-9](?!\\d)| [1-9])";
	case 'H':
		return "(?<jdH>2[0-3]|[01]\\d|\\d(?!\\d))";
	case 'k':
		return "(?<jdH>2[0-3]|[01]\\d|\\s?\\d(?!\\d))";
	case 'l':
		return "(?<jdI>1[0-2]|0[1-9]|\\s?[1-9](?!\\d))";
	case 'I':
		return "(?<jdI>1[0-2]|0[1-9]|[1-9](?!\\d))";
	case 'M':
		return "(?<jdM>[0-5]\\d)";
	case 'S':
		return "(?<jdS>6[01]|[0-5]\\d)";
	case 'f':
		return "\\d+";
	case 'p':
		return "(?<jdp>(?i:[ap]m))";
	case 'j':
		return "(?<jdj>36[0-6]|3[0-5]\\d|[12]\\d\\d|0\\d\\d|\\d\\d?(?!"
		       "\\d))";
	case 's':
		return "(?<jds>\\d{1,12})";
	case 'z':
		return "(?<jdz>Z|[+-]\\d\\d(?::?\\d\\d)?)";
	case 'Z':
		return "(?<jdZ>Z|[A-Z]{2,5})"; /* as fail2ban: names in capitals
		                                */
	case 'T':
		return "(?<jdH>2[0-3]|[01]\\d):(?<jdM>[0-5]\\d):(?<jdS>6[01]|"
		       "[0-5]\\d)";
	case '%':
		return "%";
	default:
		return NULL;
	}
}

/* Append n bytes to the growing buffer *bp of used *np. */
static void
datetime_pattern_append(char **bp, size_t *np, const char *s, size_t n)
{
	*bp = xreallocarray(*bp, *np + n + 1, 1);
	memcpy(*bp + *np, s, n);
	*np += n;
	(*bp)[*np] = '\0';
}

/*
 * Translate a strptime-style pattern into a PCRE2 regex.  Text between
 * directives is regex already, as in fail2ban; Python's (?P<n>...) and
 * (?P=n) are PCRE2 syntax too.  %ExY and friends are fail2ban's "exact"
 * variants, treated here like %Y.  anchored is 1 for {^LN-BEG}, 0 for a
 * word boundary, 2 for no boundary at the start.  A leading or trailing
 * "**" is fail2ban's way to drop the word boundary on that side.
 */
static char *
datetime_pattern_translate(const char *pat, int anchored, char **cause)
{
	const char *frag, *p, *stop;
	char *out = NULL;
	size_t n = 0;
	int wordend = 1;

	stop = pat + strlen(pat);
	if (stop - pat >= 2 && strcmp(stop - 2, "**") == 0) {
		stop -= 2;
		wordend = 0;
	}
	/* fail2ban's {^LN-BEG}: the line start or up to two non-word bytes. */
	frag = anchored == 1 ? "(?<=^|^\\W|^\\W\\W)" : "(?<!\\w)";
	if (anchored == 2 ||
	    (anchored == 0 && (*pat == '^' || strncmp(pat, "\\b", 2) == 0)))
		frag = "";
	if (strncmp(pat, "**", 2) == 0) {
		pat += 2;
		frag = "";
	}
	datetime_pattern_append(&out, &n, frag, strlen(frag));
	for (p = pat; p < stop; p++) {
		if (*p != '%') {
			datetime_pattern_append(&out, &n, p, 1);
			continue;
		}
		if (p[1] == 'E' && p[2] == 'x' && p[3] != '\0')
			p += 2;
		if (p[1] == '\0' ||
		    (frag = datetime_pattern_directive(p[1])) == NULL) {
			xasprintf(cause,
			    "datepattern \"%s\": unsupported "
			    "directive %%%.1s",
			    pat, p[1] ? p + 1 : "");
			free(out);
			return NULL;
		}
		datetime_pattern_append(&out, &n, frag, strlen(frag));
		p++;
	}
	if (wordend)
		datetime_pattern_append(&out, &n, "(?!\\w)", 6);
	return out;
}

/* Compile regex re (JIT when possible); errors name the spec pat. */
static int
datetime_pattern_compile_re(pcre2_code **codep, pcre2_match_data **mdp,
    const char *re, uint32_t options, const char *pat, char **cause)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE erroff;
	int err;

	*codep = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, options,
	    &err, &erroff, NULL);
	if (*codep == NULL) {
		pcre2_get_error_message(err, msg, sizeof msg);
		xasprintf(cause, "datepattern \"%s\": %s", pat, (char *)msg);
		return -1;
	}
	(void)pcre2_jit_compile(
	    *codep, PCRE2_JIT_COMPLETE); /* else interpret */
	*mdp = pcre2_match_data_create_from_pattern(*codep, NULL);
	return 0;
}

/* Compile a strptime-style pattern into p. */
static int
datetime_pattern_compile_regex(
    struct datetime_pat *p, const char *pat, char **cause)
{
	char *re;
	int i, rc;

	if ((re = datetime_pattern_translate(pat, p->anchored, cause)) == NULL)
		return -1;
	rc = datetime_pattern_compile_re(&p->re, &p->md, re, 0, pat, cause);
	free(re);
	if (rc != 0)
		return -1;
	for (i = 0; i < DATETIME_NFIELDS; i++)
		p->grp[i] = pcre2_substring_number_from_name(
		    p->re, (PCRE2_SPTR)datetime_pattern_field_names[i]);
	if (strchr(pat, '%') == NULL) {
		p->kind = DATETIME_MARK; /* as fail2ban: "^WARNING:()**" */
		return 0;
	}
	if (p->grp[DATETIME_F_s] < 0 && p->grp[DATETIME_F_H] < 0 &&
	    p->grp[DATETIME_F_I] < 0) {
		xasprintf(cause,
		    "datepattern \"%s\": no hour (%%H or %%I) "
		    "nor epoch (%%s)",
		    pat);
		return -1;
	}
	return 0;
}

/* The offset of the next group opener or closer in re, or -1 at the end. */
static ssize_t
datetime_pattern_next_paren(const char *re, size_t i, int *cls)
{
	for (; re[i] != '\0'; i++) {
		if (re[i] == '\\' && re[i + 1] != '\0')
			i++;
		else if (*cls)
			*cls = re[i] != ']';
		else if (re[i] == '[') {
			*cls = 1;
			if (re[i + 1] == ']' ||
			    (re[i + 1] == '^' && re[i + 2] == ']'))
				i += re[i + 1] == ']' ? 1 : 2;
		} else if (re[i] == '(' || re[i] == ')')
			return (ssize_t)i;
	}
	return -1;
}

/*
 * fail2ban cuts the first group around {DATE} ("^[^\[]*\[({DATE})") out
 * of the line, or just the date.  Turn a group left open in *pre and its
 * closer in *post into the empty groups jdcs and jdce that mark the cut;
 * other open groups are dropped.
 */
static void
datetime_pattern_unwrap(char **pre, char **post)
{
	size_t open[32], nopen = 0, k, n;
	ssize_t i = 0;
	int cls = 0, depth = 0;
	char *s = *pre, *t;

	while ((i = datetime_pattern_next_paren(s, (size_t)i, &cls)) >= 0) {
		if (s[i] == '(' && nopen < 32)
			open[nopen++] = (size_t)i;
		else if (s[i] == ')' && nopen > 0)
			nopen--;
		i++;
	}
	n = nopen;
	while (nopen > 0) {
		k = open[--nopen] + 1; /* drop "(" and "?:", "?<n>", "?P<n>" */
		if (s[k] == '?' && s[k + 1] == ':')
			k += 2;
		else if (s[k] == '?' && strchr("P<", s[k + 1]) != NULL &&
		         (t = strchr(s + k, '>')) != NULL)
			k = (size_t)(t - s) + 1;
		xasprintf(&t, "%.*s%s%s", (int)open[nopen], s,
		    nopen == 0 ? "(?<jdcs>)" : "", s + k);
		free(s);
		s = t;
	}
	*pre = s;
	for (s = *post, i = 0, cls = 0;
	     n > 0 &&
	     (i = datetime_pattern_next_paren(s, (size_t)i, &cls)) >= 0;) {
		if (s[i] == '(' || depth-- > 0) {
			depth += s[i] == '(' ? 1 : 0;
			i++;
			continue;
		}
		depth = 0;
		xasprintf(&t, "%.*s%s%s", (int)i, s, n == 1 ? "(?<jdce>)" : "",
		    s + i + 1);
		free(s);
		s = t;
		n--;
	}
	*post = s;
}

/*
 * Compile fail2ban's "PRE{DATE}POST" (as in its lt_rfc5424 logtype): PRE
 * and POST are plain regexes, the date between them is the default set's.
 */
static int
datetime_pattern_compile_embed(
    struct datetime_pat *p, const char *s, char **cause)
{
	const char *d = strstr(s, "{DATE}");
	char *pre, *post;
	int rc;

	if (strstr(d + 6, "{DATE}") != NULL || strstr(s, "{^LN-BEG}") != NULL) {
		xasprintf(cause,
		    "datepattern \"%s\": {DATE} may appear once, {^LN-BEG} "
		    "only as a prefix",
		    s);
		return -1;
	}
	p->kind = DATETIME_EMBED;
	xasprintf(&pre, "%s%.*s", p->anchored ? "(?<=^|^\\W|^\\W\\W)" : "",
	    (int)(d - s), s);
	post = xstrdup(d + 6);
	datetime_pattern_unwrap(&pre, &post);
	rc = datetime_pattern_compile_re(&p->re, &p->md, pre, 0, s, cause);
	p->cs = p->ce = -1;
	if (rc == 0)
		p->cs = pcre2_substring_number_from_name(
		    p->re, (PCRE2_SPTR) "jdcs");
	if (rc == 0 && post[0] != '\0' &&
	    (rc = datetime_pattern_compile_re(
	         &p->post, &p->post_md, post, PCRE2_ANCHORED, s, cause)) == 0)
		p->ce = pcre2_substring_number_from_name(
		    p->post, (PCRE2_SPTR) "jdce");
	free(pre);
	free(post);
	return rc;
}

/* Parse one line of a spec into p: a {KEYWORD} or a strptime pattern. */
int
datetime_pattern_compile(struct datetime_pat *p, const char *spec, char **cause)
{
	static const struct {
		const char *name;
		enum datetime_kind kind;
	} kw[] = {
	    {"", DATETIME_DEFAULT},
	    {"{DATE}", DATETIME_DEFAULT},
	    {"{ISO8601}", DATETIME_ISO},
	    {"{EPOCH}", DATETIME_EPOCH},
	    {"{LEPOCH}", DATETIME_LEPOCH},
	    {"{NONE}", DATETIME_NONE},
	    {"{TAI64N}", DATETIME_TAI64N},
	    /* fail2ban also takes these bare, in any case */
	    {"EPOCH", DATETIME_EPOCH},
	    {"LEPOCH", DATETIME_LEPOCH},
	    {"TAI64N", DATETIME_TAI64N},
	    {"ISO8601", DATETIME_ISO},
	};
	const char *s = spec;
	size_t i;

	if (strncmp(s, "{^LN-BEG}", 9) == 0) {
		p->anchored = 1;
		s += 9;
	} else if (s[0] == '^' && (strcasecmp(s + 1, "EPOCH") == 0 ||
	                              strcasecmp(s + 1, "LEPOCH") == 0 ||
	                              strcasecmp(s + 1, "TAI64N") == 0)) {
		p->anchored = 1; /* "^EPOCH" */
		s++;
	}
	for (i = 0; i < sizeof kw / sizeof kw[0]; i++) {
		if (strcasecmp(s, kw[i].name) == 0) {
			p->kind = kw[i].kind;
			xasprintf(&p->desc, "%s%s",
			    p->anchored ? "{^LN-BEG}" : "",
			    *s == '\0' ? "{DATE}" : s);
			return 0;
		}
	}
	p->desc = xstrdup(spec);
	if (strstr(s, "{DATE}") != NULL)
		return datetime_pattern_compile_embed(p, s, cause);
	if (strstr(s, "{^LN-BEG}") != NULL) {
		xasprintf(cause,
		    "datepattern \"%s\": {^LN-BEG} is only supported as a "
		    "prefix",
		    spec);
		return -1;
	}
	p->kind = DATETIME_REGEX;
	return datetime_pattern_compile_regex(p, s, cause);
}

/*
 * Compile fail2ban's default templates into a new array *fbp of *nfbp
 * patterns.  On error the patterns compiled so far are left there for
 * the caller to clear.
 */
int
datetime_pattern_fallback(struct datetime_pat **fbp, size_t *nfbp, char **cause)
{
	const size_t n = sizeof datetime_pattern_templates /
	                 sizeof datetime_pattern_templates[0];
	struct datetime_pat *p;
	size_t i;

	*fbp = xcalloc(n, sizeof **fbp);
	for (i = 0; i < n; i++) {
		p = &(*fbp)[(*nfbp)++];
		p->desc = xstrdup(datetime_pattern_templates[i]);
		p->kind = DATETIME_REGEX;
		if (datetime_pattern_compile_regex(
		        p, datetime_pattern_templates[i], cause) != 0)
			return -1;
	}
	return 0;
}

/* Free what p holds (not p itself). */
void
datetime_pattern_clear(struct datetime_pat *p)
{
	pcre2_match_data_free(p->md);
	pcre2_match_data_free(p->post_md);
	pcre2_code_free(p->post);
	pcre2_code_free(p->re);
	free(p->desc);
}
