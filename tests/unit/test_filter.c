/* Unit tests for filter.c: tag expansion, captures, hostile lines. */
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "addr.h"
#include "config.h"
#include "filter.h"
#include "filter_set.h"
#include "filtertest.h"
#include "source.h"

#define TEST_NOW ((time_t)1795996800) /* 2026-11-30T00:00:00Z */
#define IDLE_RE                                                                \
	"^\\s*(?:\\S+ )?sm-mta\\[\\d+\\]: \\w{14,20}: (?:[\\w.-]+ )?"          \
	"\\[(?:IPv6:)?<HOST>\\](?: \\(may be forged\\))? did not issue "       \
	"MAIL/EXPN/VRFY/ETRN during connection to [\\w.-]+$"

static void
test_setup(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
}

/* Build a filter from regex strings: fail[] and ign[] end with NULL. */
static struct filter *
test_filter(const char *pref, const char **fail, const char **ign, char **cause)
{
	struct config_regex fr[8], ir[8], pr;
	struct filter_conf fc;
	size_t i;

	memset(&fc, 0, sizeof fc);
	fc.name = (char *)"test";
	fc.file = (char *)"test.conf";
	for (i = 0; fail != NULL && fail[i] != NULL; i++)
		fr[i] = (struct config_regex){
		    (char *)fail[i], (char *)"test.conf", (int)(10 + i)};
	fc.failregex = fr;
	fc.nfailregex = i;
	for (i = 0; ign != NULL && ign[i] != NULL; i++)
		ir[i] = (struct config_regex){
		    (char *)ign[i], (char *)"test.conf", (int)(20 + i)};
	fc.ignoreregex = ir;
	fc.nignoreregex = i;
	if (pref != NULL) {
		pr =
		    (struct config_regex){(char *)pref, (char *)"test.conf", 5};
		fc.prefregex = &pr;
	}
	return filter_create(&fc, cause);
}

static struct filter *
test_one(const char *re)
{
	const char *fail[] = {re, NULL};
	char *cause = NULL;
	struct filter *f;

	f = test_filter(NULL, fail, NULL, &cause);
	cr_assert_not_null(f, "filter_create: %s", cause ? cause : "?");
	return f;
}

/* Match s; return the verdict and the address text in buf. */
static enum filter_verdict
test_match(struct filter *f, const char *s, struct filter_result *res,
    char *buf, size_t size)
{
	enum filter_verdict v;

	v = filter_match(f, s, strlen(s), TEST_NOW, res);
	buf[0] = '\0';
	if (v != FILTER_NOMATCH && res->has_addr)
		addr_format(&res->addr, buf, size);
	return v;
}

TestSuite(filter, .init = test_setup);

Test(filter, host_ipv4)
{
	struct filter *f = test_one("^\\s*host x: from <HOST> port \\d+$");
	struct filter_result res;
	char a[ADDR_STRLEN];

	cr_assert_eq(test_match(f,
	                 "Nov 27 23:58:22 host x: from 10.1.2.3 "
	                 "port 22",
	                 &res, a, sizeof a),
	    FILTER_MATCH);
	cr_assert_str_eq(a, "10.1.2.3");
	cr_assert_eq(res.regex, 0);
	cr_assert_eq(test_match(f,
	                 "Nov 27 23:58:22 host x: from "
	                 "999.1.2.3 port 22",
	                 &res, a, sizeof a),
	    FILTER_NOMATCH);
	cr_assert_eq(test_match(f,
	                 "Nov 27 23:58:22 host x: from "
	                 "evil.example port 22",
	                 &res, a, sizeof a),
	    FILTER_NOMATCH);
	filter_unref(f);
}

Test(filter, ipv6_forms)
{
	struct filter *f = test_one(IDLE_RE);
	struct filter_result res;
	char a[ADDR_STRLEN];
	const char *pre = "Nov 27 23:58:22 myhost sm-mta[27552]: "
	                  "6ARNwG7E027552: ";
	const char *post = " did not issue MAIL/EXPN/VRFY/ETRN during "
	                   "connection to IPv6";
	char line[512];

	snprintf(
	    line, sizeof line, "%s[IPv6:fd77:0:0:0:0:0:0:11]%s", pre, post);
	cr_assert_eq(test_match(f, line, &res, a, sizeof a), FILTER_MATCH);
	cr_assert_str_eq(a, "fd77::11");
	snprintf(line, sizeof line,
	    "%sh.example [IPv6:2001:db8::5] (may be "
	    "forged)%s",
	    pre, post);
	cr_assert_eq(test_match(f, line, &res, a, sizeof a), FILTER_MATCH);
	cr_assert_str_eq(a, "2001:db8::5");
	snprintf(line, sizeof line, "%s[IPv6:::ffff:10.9.8.7]%s", pre, post);
	cr_assert_eq(test_match(f, line, &res, a, sizeof a), FILTER_MATCH);
	cr_assert_str_eq(a, "10.9.8.7");
	cr_assert_eq(res.addr.family, AF_INET);
	filter_unref(f);
}

Test(filter, hostile_lines)
{
	struct filter *f = test_one(IDLE_RE);
	struct filter_result res;
	char a[ADDR_STRLEN];
	const char *bad[] = {
	    "Nov 27 23:58:22 myhost sm-mta[1]: 6ARNwG7E027552: "
	    "<[6.6.6.6] did not issue MAIL/EXPN/VRFY/ETRN during connection "
	    "to IPv4>... User unknown",
	    "Nov 27 23:58:22 myhost sm-mta[1]: 6ARNwG7E027552: to=<x [6.6.6.6]"
	    " did not issue MAIL/EXPN/VRFY/ETRN during connection to IPv4>",
	    "Nov 27 23:58:22 myhost sshd[1]: Invalid user 6ARNwG7E027552: "
	    "[6.6.6.6] did not issue MAIL/EXPN/VRFY/ETRN during connection to "
	    "IPv4",
	    NULL};
	size_t i;

	for (i = 0; bad[i] != NULL; i++)
		cr_assert_eq(test_match(f, bad[i], &res, a, sizeof a),
		    FILTER_NOMATCH, "line %zu matched %s", i, a);
	/* A PTR name that looks like an address is not the address. */
	cr_assert_eq(test_match(f,
	                 "Nov 27 23:58:22 myhost sm-mta[1]: "
	                 "6ARNwG7E027552: 1.2.3.4 [10.0.0.9] did not issue "
	                 "MAIL/EXPN/VRFY/ETRN during connection to IPv4",
	                 &res, a, sizeof a),
	    FILTER_MATCH);
	cr_assert_str_eq(a, "10.0.0.9");
	if (test_match(f,
	        "Nov 27 23:58:22 myhost sm-mta[1]: 6ARNwG7E027552: "
	        "[1.2.3.4] [10.0.0.9] did not issue MAIL/EXPN/VRFY/ETRN during "
	        "connection to IPv4",
	        &res, a, sizeof a) != FILTER_NOMATCH)
		cr_assert_str_eq(a, "10.0.0.9");
	filter_unref(f);
}

Test(filter, ignoreregex)
{
	const char *fail[] = {"^\\s*h x: fail from <HOST>", NULL};
	const char *ign[] = {"from 10\\.0\\.0\\.", NULL};
	struct filter *f = test_filter(NULL, fail, ign, NULL);
	struct filter_result res;
	char a[ADDR_STRLEN];

	cr_assert_not_null(f);
	cr_assert_eq(test_match(f, "Nov 27 23:58:22 h x: fail from 10.0.0.1",
	                 &res, a, sizeof a),
	    FILTER_IGNORED);
	cr_assert_eq(test_match(f, "Nov 27 23:58:22 h x: fail from 10.0.1.1",
	                 &res, a, sizeof a),
	    FILTER_MATCH);
	cr_assert_str_eq(a, "10.0.1.1");
	filter_unref(f);
}

Test(filter, prefregex_content)
{
	const char *fail[] = {"^auth failed for <F-USER>\\S+</F-USER> from "
	                      "<HOST>$",
	    "^<F-NOFAIL>session</F-NOFAIL> from <HOST>$", NULL};
	struct filter *f;
	struct filter_result res;
	char a[ADDR_STRLEN];

	f = test_filter("^\\s*h d\\[<F-ID>\\d+</F-ID>\\]: <F-CONTENT>.+"
	                "</F-CONTENT>$",
	    fail, NULL, NULL);
	cr_assert_not_null(f);
	cr_assert_eq(test_match(f,
	                 "Nov 27 23:58:22 h d[42]: auth failed for "
	                 "bob from 192.0.2.7",
	                 &res, a, sizeof a),
	    FILTER_MATCH);
	cr_assert_str_eq(a, "192.0.2.7");
	cr_assert_str_eq(res.user, "bob");
	cr_assert_str_eq(res.id, "42");
	/* failregex is anchored to the content, not the whole line */
	cr_assert_eq(test_match(f,
	                 "Nov 27 23:58:22 h e[42]: auth failed for "
	                 "bob from 192.0.2.7",
	                 &res, a, sizeof a),
	    FILTER_NOMATCH);
	cr_assert_eq(test_match(f,
	                 "Nov 27 23:58:22 h d[42]: session from "
	                 "192.0.2.7",
	                 &res, a, sizeof a),
	    FILTER_NOMATCH);
	filter_unref(f);
}

Test(filter, date_cut)
{
	struct filter *f = test_one("^ myhost x\\[\\d+\\]: bad <HOST>$");
	struct filter_result res;
	char a[ADDR_STRLEN];
	struct tm tm;

	cr_assert_eq(test_match(f,
	                 "Nov 27 23:58:22 myhost x[1]: bad "
	                 "10.77.0.11",
	                 &res, a, sizeof a),
	    FILTER_MATCH);
	cr_assert(res.has_time);
	gmtime_r(&res.when, &tm);
	cr_assert_eq(tm.tm_mon, 10);
	cr_assert_eq(tm.tm_mday, 27);
	cr_assert_eq(tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec,
	    23 * 3600 + 58 * 60 + 22);
	cr_assert_eq(test_match(f,
	                 "2026-11-27T23:58:22.318310+00:00 myhost "
	                 "x[1]: bad 10.77.0.11",
	                 &res, a, sizeof a),
	    FILTER_MATCH);
	cr_assert_eq(res.when, (time_t)1795823902);
	filter_unref(f);
}

Test(filter, hostless)
{
	struct filter *f =
	    test_one("^\\s*\\S+ sm-mta\\[\\d+\\]: rejecting "
	             "connections on daemon \\S+: \\d+ children, max \\d+$");
	struct filter_result res;
	char a[ADDR_STRLEN];

	cr_assert_eq(
	    test_match(f,
	        "Nov 27 23:58:16 myhost sm-mta[27444]: "
	        "rejecting connections on daemon IPv4: 15 children, max 15",
	        &res, a, sizeof a),
	    FILTER_MATCH);
	cr_assert_eq(res.has_addr, 0);
	filter_unref(f);
}

Test(filter, compile_error_names_file_line)
{
	const char *fail[] = {"^ok <HOST>$", "^bad (unclosed <HOST>$", NULL};
	char *cause = NULL;

	cr_assert_null(test_filter(NULL, fail, NULL, &cause));
	cr_assert_not_null(cause);
	cr_assert_not_null(strstr(cause, "test.conf:11"), "%s", cause);
	free(cause);
}

Test(filter, dns_refused)
{
	const char *fail[] = {"^from <DNS>$", NULL};
	char *cause = NULL;

	cr_assert_null(test_filter(NULL, fail, NULL, &cause));
	cr_assert_not_null(strstr(cause, "jaild does not resolve names"));
	free(cause);
}

Test(filter, literal_prefilter)
{
	struct filter *f = test_one(IDLE_RE);
	struct filter *g = test_one("^(?:a|b) <HOST>$");
	struct filter_result res;
	char a[ADDR_STRLEN];

	/* the halves of the longest run: the date may cut one of them */
	cr_assert_str_eq(
	    filter_regex_lit(f, 0)->p[0].s, " did not issue MAIL/EXPN/VRF");
	cr_assert_str_eq(
	    filter_regex_lit(f, 0)->p[1].s, "Y/ETRN during connection to ");
	cr_assert_null(filter_regex_lit(g, 0));
	cr_assert_eq(
	    test_match(g, "b 1.2.3.4", &res, a, sizeof a), FILTER_MATCH);
	cr_assert_str_eq(a, "1.2.3.4");
	filter_unref(f);
	filter_unref(g);
}

/* An option set inside a group ends with it; at the top level it does not. */
Test(filter, literal_scoped_options)
{
	struct filter *f =
	    test_one("^<HOST>: (?:(?i)expn|vrfy) \\[rejected\\]$");
	struct filter *g = test_one("^(?i)<HOST> sent EXPN$");
	struct filter *h = test_one("^<HOST> (?:x(*ACCEPT))?sent EXPN$");
	struct filter_result res;
	char a[ADDR_STRLEN];

	cr_assert_str_eq(filter_regex_lit(f, 0)->p[0].s, " [reje");
	cr_assert_str_eq(filter_regex_lit(f, 0)->p[1].s, "cted]");
	cr_assert_eq(
	    test_match(f, "1.2.3.4: EXPN [rejected]", &res, a, sizeof a),
	    FILTER_MATCH);
	cr_assert_null(filter_regex_lit(g, 0));
	cr_assert_eq(test_match(g, "1.2.3.4 SENT expn", &res, a, sizeof a),
	    FILTER_MATCH);
	/* (*ACCEPT) ends the match early: " sent EXPN" is not required */
	cr_assert_null(filter_regex_lit(h, 0));
	cr_assert_eq(
	    test_match(h, "1.2.3.4 x", &res, a, sizeof a), FILTER_MATCH);
	filter_unref(f);
	filter_unref(g);
	filter_unref(h);
}

/* The date is cut out before the regexes run: a literal may span it. */
Test(filter, literal_survives_date_cut)
{
	struct filter *f = test_one("^\\[\\]LOGIN FAILED for user: \"\\S+\" "
	                            "from IP: <HOST>$");
	struct filter_set *fs = filter_set_create();
	const char *line = "[2014-01-06 10:59:38]LOGIN FAILED for user: "
	                   "\"x\" from IP: 127.0.0.1";
	struct filter_result res;
	char a[ADDR_STRLEN];

	cr_assert(filter_prefilterable(f));
	cr_assert_eq(test_match(f, line, &res, a, sizeof a), FILTER_MATCH);
	cr_assert_str_eq(a, "127.0.0.1");
	filter_set_add(fs, f);
	filter_set_scan(fs, line, strlen(line));
	cr_assert_eq(filter_match_mask(f, line, strlen(line), TEST_NOW,
	                 filter_set_mask(fs, 0), &res),
	    FILTER_MATCH);
	filter_set_free(fs);
	filter_unref(f);
}

/*
 * A date found only at the line start (after at most two non-word bytes)
 * can split a run only at its start: one piece, less those bytes.
 */
Test(filter, literal_with_line_start_date)
{
	struct config_regex cr = {(char *)"^- from <HOST>$", (char *)"t", 1};
	struct filter_conf fc;
	struct filter_result res;
	struct filter *f;
	const char *line = "-Nov 27 23:58:22 from 1.2.3.4";
	char a[ADDR_STRLEN];

	memset(&fc, 0, sizeof fc);
	fc.name = (char *)"lnbeg";
	fc.failregex = &cr;
	fc.nfailregex = 1;
	fc.datepattern = (char *)"{^LN-BEG}";
	cr_assert_not_null(f = filter_create(&fc, NULL));
	cr_assert(filter_prefilterable(f));
	cr_assert_str_eq(filter_regex_lit(f, 0)->p[0].s, "from ");
	cr_assert_null(filter_regex_lit(f, 0)->p[1].s);
	cr_assert_eq(test_match(f, line, &res, a, sizeof a), FILTER_MATCH);
	cr_assert_str_eq(a, "1.2.3.4");
	filter_unref(f);
	/* a date anywhere: two pieces, "- fr" and "om " */
	fc.datepattern = NULL;
	cr_assert_not_null(f = filter_create(&fc, NULL));
	cr_assert_str_eq(filter_regex_lit(f, 0)->p[0].s, "- fr");
	cr_assert_str_eq(filter_regex_lit(f, 0)->p[1].s, "om ");
	cr_assert_eq(test_match(f, line, &res, a, sizeof a), FILTER_MATCH);
	filter_unref(f);
}

/* One shared pass gives every filter the mask its own search gives. */
Test(filter, filter_set_masks_agree)
{
	const char *fa[] = {
	    "^<HOST> sent EXPN$", "^bad user \\w+ from <HOST>$", NULL};
	const char *fb[] = {"^ok from <HOST>$", "^(?:a|b) <HOST>$", NULL};
	const char *fc[] = {"^user \\w+ from <HOST>$", NULL};
	const char *lines[] = {"1.2.3.4 sent EXPN", "bad user x from 1.2.3.4",
	    "noise sent EXPN from 5.6.7.8", "a 1.2.3.4", "ok from 9.9.9.9",
	    "sshd: user bob from 1.2.3.4", "user bob from 1.2.3.4", "", "se",
	    "nt EXPN", NULL};
	struct filter *f[4];
	struct filter_result r1, r2;
	struct filter_set *fs = filter_set_create();
	char *cause = NULL;
	size_t i, k;

	f[0] = test_filter(NULL, fa, NULL, &cause);
	f[1] = test_filter(NULL, fb, NULL, &cause);
	f[2] =
	    test_filter("^sshd: <F-CONTENT>.+</F-CONTENT>$", fc, NULL, &cause);
	f[3] = NULL;
	cr_assert(filter_prefilterable(f[0]));
	cr_assert(!filter_prefilterable(f[1]));
	for (k = 0; k < 4; k++)
		cr_assert_eq(filter_set_add(fs, f[k]), k);
	for (i = 0; lines[i] != NULL; i++) {
		filter_set_scan(fs, lines[i], strlen(lines[i]));
		for (k = 0; k < 3; k++) {
			cr_assert_eq(filter_set_mask(fs, k),
			    filter_prefilter(f[k], lines[i], strlen(lines[i])),
			    "line %zu filter %zu", i, k);
			cr_assert_eq(
			    filter_match_mask(f[k], lines[i], strlen(lines[i]),
			        TEST_NOW, filter_set_mask(fs, k), &r1),
			    filter_match(f[k], lines[i], strlen(lines[i]),
			        TEST_NOW, &r2));
		}
		cr_assert_eq(filter_set_mask(fs, 3), 0);
	}
	filter_set_scan(fs, "1.2.3.4 sent EXPN", 17);
	cr_assert_eq(filter_set_mask(fs, 0), 1);
	filter_set_scan(fs, "sshd: user bob from 1.2.3.4", 27);
	cr_assert_eq(filter_set_mask(fs, 2), 1);
	filter_set_scan(fs, "user bob from 1.2.3.4", 21);
	cr_assert_eq(filter_set_mask(fs, 2), 0, "the prefregex's literal");
	filter_set_free(fs);
	for (k = 0; k < 3; k++)
		filter_unref(f[k]);
}

Test(filter, subnet_and_python_syntax)
{
	struct filter *f = test_one("^net <SUBNET> by (?P<who>\\w+) "
	                            "\\((?P=who)\\)$");
	struct filter_result res;
	char a[ADDR_STRLEN];

	cr_assert_eq(
	    test_match(f, "net 10.1.2.3/16 by x (x)", &res, a, sizeof a),
	    FILTER_MATCH);
	cr_assert_str_eq(a, "10.1.0.0/16");
	cr_assert_eq(
	    test_match(f, "net 10.1.2.3/99 by x (x)", &res, a, sizeof a),
	    FILTER_NOMATCH);
	cr_assert_eq(test_match(f, "net 10.1.2.3 by x (y)", &res, a, sizeof a),
	    FILTER_NOMATCH);
	filter_unref(f);
}

Test(filter, ref_counting)
{
	struct filter *f = test_one("^x <HOST>$");

	filter_ref(f);
	filter_unref(f);
	cr_assert_str_eq(filter_name(f), "test");
	cr_assert_eq(filter_nregex(f), 1);
	cr_assert_str_eq(filter_regex_source(f, 0), "^x <HOST>$");
	filter_unref(f);
	filter_unref(NULL);
}

/* Write lines to a temporary file and run filtertest over it. */
static json_t *
test_run_file(struct filter *f, const char *text, int flags, char **out)
{
	FILE *in = tmpfile(), *o;
	size_t outlen = 0;
	json_t *rep;

	cr_assert_not_null(in);
	fputs(text, in);
	rewind(in);
	o = open_memstream(out, &outlen);
	rep = filtertest_run(f, in, flags, o);
	fclose(o);
	fclose(in);
	return rep;
}

Test(filter, filtertest_counts)
{
	const char *fail[] = {IDLE_RE,
	    "^\\s*\\S+ sm-mta\\[\\d+\\]: rejecting "
	    "connections on daemon \\S+: \\d+ children, max \\d+$",
	    NULL};
	struct filter *f = test_filter(NULL, fail, NULL, NULL);
	const char *idle = " did not issue MAIL/EXPN/VRFY/ETRN during "
	                   "connection to IPv4\n";
	char text[2048], *out = NULL;
	json_t *rep, *a;

	cr_assert_not_null(f);
	snprintf(text, sizeof text,
	    "Nov 27 23:58:22 h sm-mta[1]: 6ARNwGkE027605: [10.0.0.2]%s"
	    "Nov 27 23:58:22 h sm-mta[1]: 6ARNwGkE027606: x [10.0.0.1]%s"
	    "Nov 27 23:58:22 h sm-mta[1]: 6ARNwGkE027607: [10.0.0.2]%s"
	    "Nov 27 23:58:22 h sm-mta[1]: 6ARNwGkE027608: <[6.6.6.6]%s"
	    "Nov 27 23:58:23 h sm-mta[1]: rejecting connections on daemon "
	    "IPv4: 15 children, max 15\n"
	    "Nov 27 23:58:24 h sshd[2]: noise\n"
	    "no newline at the end: [10.0.0.3]%.*s",
	    idle, idle, idle, idle, (int)strlen(idle) - 1, idle);
	rep = test_run_file(f, text, FILTERTEST_PRINT_MATCHED, &out);
	cr_assert_eq(json_integer_value(json_object_get(rep, "lines")), 7);
	cr_assert_eq(json_integer_value(json_object_get(rep, "matched")), 4);
	cr_assert_eq(json_integer_value(json_object_get(rep, "missed")), 3);
	cr_assert_eq(json_integer_value(json_object_get(rep, "hostless")), 1);
	a = json_array_get(json_object_get(rep, "addresses"), 0);
	cr_assert_str_eq(
	    json_string_value(json_object_get(a, "addr")), "10.0.0.2");
	cr_assert_eq(json_integer_value(json_object_get(a, "count")), 2);
	cr_assert_eq(json_array_size(json_object_get(rep, "addresses")), 2);
	cr_assert_not_null(strstr(out, "[10.0.0.1]"));
	cr_assert_null(strstr(out, "6.6.6.6"));
	json_decref(rep);
	free(out);
	/* printing unmatched lines takes the line-by-line path: same counts */
	rep = test_run_file(f, text, FILTERTEST_PRINT_UNMATCHED, &out);
	cr_assert_eq(json_integer_value(json_object_get(rep, "lines")), 7);
	cr_assert_eq(json_integer_value(json_object_get(rep, "matched")), 4);
	cr_assert_not_null(strstr(out, "sshd[2]: noise"));
	json_decref(rep);
	free(out);
	filter_unref(f);
}

/*
 * Issue #13: jailctl test must skip and count overlong lines as jaild
 * does, in both of its paths (the literal prefilter, line by line).
 */
Test(filter, filtertest_skips_overlong_lines_as_jaild)
{
	struct filter *f = test_one("^fail <HOST>");
	size_t n = 3 * 256 * 1024, i, len;
	char *text = malloc(n + SOURCE_MAXLINE * 2 + 256), *out = NULL;
	json_t *rep;
	int flags[] = {0, FILTERTEST_PRINT_UNMATCHED};

	/* Over the limit by one, in a 256 KiB read chunk, past all chunks. */
	len = (size_t)sprintf(text, "fail 10.0.0.1\n");
	len += (size_t)sprintf(text + len, "fail 10.0.0.2 ");
	memset(text + len, 'x', SOURCE_MAXLINE + 1 - 14);
	len += SOURCE_MAXLINE + 1 - 14;
	text[len++] = '\n';
	len += (size_t)sprintf(text + len, "fail 10.0.0.3 ");
	for (i = 0; i < n; i++)
		text[len++] = 'y';
	text[len++] = '\n';
	/* Exactly the limit with a CR: kept, as the daemon keeps it. */
	len += (size_t)sprintf(text + len, "fail 10.0.0.4 ");
	memset(text + len, 'z', SOURCE_MAXLINE - 14);
	len += SOURCE_MAXLINE - 14;
	len += (size_t)sprintf(text + len, "\r\nfail 10.0.0.5\n");
	text[len] = '\0';
	for (i = 0; i < 2; i++) {
		rep = test_run_file(f, text, flags[i], &out);
		cr_assert_eq(
		    json_integer_value(json_object_get(rep, "lines")), 5);
		cr_assert_eq(json_integer_value(json_object_get(rep, "cut")), 2,
		    "flags %d", flags[i]);
		cr_assert_eq(
		    json_integer_value(json_object_get(rep, "matched")), 3);
		cr_assert_eq(
		    json_integer_value(json_object_get(rep, "missed")), 0);
		json_decref(rep);
		free(out);
	}
	free(text);
	filter_unref(f);
}

/* Build a multi-line filter: prefregex (or NULL), failregexes, maxlines. */
static struct filter *
test_filter_ml(const char *pref, const char **fail, int maxlines)
{
	struct config_regex fr[8], pr;
	struct filter_conf fc;
	struct filter *f;
	char *cause = NULL;
	size_t i;

	memset(&fc, 0, sizeof fc);
	fc.name = (char *)"ml";
	fc.file = (char *)"ml.conf";
	for (i = 0; fail[i] != NULL; i++)
		fr[i] = (struct config_regex){
		    (char *)fail[i], (char *)"ml.conf", (int)(10 + i)};
	fc.failregex = fr;
	fc.nfailregex = i;
	if (pref != NULL) {
		pr = (struct config_regex){(char *)pref, (char *)"ml.conf", 5};
		fc.prefregex = &pr;
	}
	fc.maxlines = maxlines;
	f = filter_create(&fc, &cause);
	cr_assert_not_null(f, "filter_create: %s", cause ? cause : "?");
	return f;
}

/* sshd's shape: the session id is the pid, the address on its own line. */
#define SSHD_PREF                                                              \
	"^<F-MLFID>\\S+ sshd\\[\\d+\\]: </F-MLFID><F-CONTENT>.+</F-CONTENT>$"
static const char *test_sshd_fail[] = {
    "^<F-NOFAIL>Connection from</F-NOFAIL> <HOST> port \\d+",
    "^Failed password for <F-USER>\\S+</F-USER>$",
    "^<F-NOFAIL><F-MLFFORGET>Disconnected</F-MLFFORGET></F-NOFAIL> from "
    "<HOST>",
    "^<F-MLFFORGET><F-MLFGAINED>Accepted password</F-MLFGAINED>"
    "</F-MLFFORGET> for <F-USER>\\S+</F-USER> from <HOST>",
    NULL};

Test(filter, mlfid_session_takes_address)
{
	struct filter *f = test_filter_ml(SSHD_PREF, test_sshd_fail, 1);
	struct filter_result res;
	char buf[ADDR_STRLEN];

	cr_assert_eq(test_match(f,
	                 "h sshd[10]: Connection from 192.0.2.7 "
	                 "port 22",
	                 &res, buf, sizeof buf),
	    FILTER_NOMATCH, "a <F-NOFAIL> line only stores its address");
	cr_assert_eq(test_match(f, "h sshd[11]: Failed password for root", &res,
	                 buf, sizeof buf),
	    FILTER_NOMATCH, "another session has no address yet");
	cr_assert_eq(test_match(f, "h sshd[10]: Failed password for root", &res,
	                 buf, sizeof buf),
	    FILTER_MATCH);
	cr_assert_str_eq(buf, "192.0.2.7");
	cr_assert_str_eq(res.user, "root");
	cr_assert_eq(res.regex, 1);
	/* the pending failure of session 11 counts once its address comes */
	cr_assert_eq(test_match(f, "h sshd[11]: Disconnected from 192.0.2.8",
	                 &res, buf, sizeof buf),
	    FILTER_MATCH);
	cr_assert_str_eq(buf, "192.0.2.8");
	filter_unref(f);
}

Test(filter, mlfid_forget_and_gained)
{
	struct filter *f = test_filter_ml(SSHD_PREF, test_sshd_fail, 1);
	struct filter_result res;
	char buf[ADDR_STRLEN];

	test_match(f, "h sshd[20]: Connection from 192.0.2.20 port 22", &res,
	    buf, sizeof buf);
	cr_assert_eq(test_match(f, "h sshd[20]: Disconnected from 192.0.2.20",
	                 &res, buf, sizeof buf),
	    FILTER_NOMATCH, "no failure in the session: nothing to count");
	cr_assert_eq(test_match(f, "h sshd[20]: Failed password for root", &res,
	                 buf, sizeof buf),
	    FILTER_NOMATCH, "the session was forgotten: no address");
	/* a successful login ends the session without a failure */
	test_match(f, "h sshd[21]: Connection from 192.0.2.21 port 22", &res,
	    buf, sizeof buf);
	cr_assert_eq(test_match(f,
	                 "h sshd[21]: Accepted password for bob from "
	                 "192.0.2.21",
	                 &res, buf, sizeof buf),
	    FILTER_NOMATCH);
	cr_assert_eq(test_match(f, "h sshd[21]: Failed password for bob", &res,
	                 buf, sizeof buf),
	    FILTER_NOMATCH, "forgotten after the login");
	filter_unref(f);
}

Test(filter, mlfid_cache_capped_against_hostile_ids)
{
	struct filter *f = test_filter_ml(SSHD_PREF, test_sshd_fail, 1);
	struct filter_result res;
	char line[128], buf[ADDR_STRLEN];
	int i;

	/* an attacker opens 5000 sessions: only the newest 1000 are kept */
	for (i = 0; i < 5000; i++) {
		snprintf(line, sizeof line,
		    "h sshd[%d]: Connection from 198.51.100.%d port 22", i,
		    i % 250 + 1);
		cr_assert_eq(
		    test_match(f, line, &res, buf, sizeof buf), FILTER_NOMATCH);
	}
	cr_assert_eq(test_match(f, "h sshd[0]: Failed password for root", &res,
	                 buf, sizeof buf),
	    FILTER_NOMATCH, "the oldest session was evicted");
	cr_assert_eq(test_match(f, "h sshd[3999]: Failed password for root",
	                 &res, buf, sizeof buf),
	    FILTER_NOMATCH, "evicted too: 1000 sessions at most");
	cr_assert_eq(test_match(f, "h sshd[4999]: Failed password for root",
	                 &res, buf, sizeof buf),
	    FILTER_MATCH);
	cr_assert_str_eq(buf, "198.51.100.250");
	filter_unref(f);
}

Test(filter, mlfid_session_expires_in_log_time)
{
	struct filter *f = test_filter_ml(SSHD_PREF, test_sshd_fail, 1);
	struct filter_result res;
	const char *l1 = "h sshd[7]: Connection from 192.0.2.70 port 22";
	const char *l2 = "h sshd[7]: Failed password for root";

	filter_match(f, l1, strlen(l1), TEST_NOW, &res);
	cr_assert_eq(filter_match(f, l2, strlen(l2), TEST_NOW + 299, &res),
	    FILTER_MATCH);
	filter_unref(f);
	f = test_filter_ml(SSHD_PREF, test_sshd_fail, 1);
	filter_match(f, l1, strlen(l1), TEST_NOW, &res);
	cr_assert_eq(filter_match(f, l2, strlen(l2), TEST_NOW + 301, &res),
	    FILTER_NOMATCH, "a pid seen 5 minutes ago is another session");
	filter_unref(f);
}

Test(filter, maxlines_buffer)
{
	const char *fail[] = {
	    "^.*\\nWARNING: Authentication attempt from <HOST> failed\\.$",
	    NULL};
	struct filter *f = test_filter_ml(NULL, fail, 2), *one;
	struct filter_result res;
	char buf[ADDR_STRLEN];
	const char *w =
	    "WARNING: Authentication attempt from 192.0.2.1 failed.";

	cr_assert_eq(
	    test_match(f, "begin", &res, buf, sizeof buf), FILTER_NOMATCH);
	cr_assert_eq(test_match(f, w, &res, buf, sizeof buf), FILTER_MATCH);
	cr_assert_str_eq(buf, "192.0.2.1");
	/* the matched lines left the buffer: no line before this one now */
	cr_assert_eq(test_match(f, w, &res, buf, sizeof buf), FILTER_NOMATCH);
	cr_assert_eq(test_match(f, w, &res, buf, sizeof buf), FILTER_MATCH);
	/* a buffer holds maxlines lines: the oldest falls out */
	cr_assert_eq(test_match(f, "a", &res, buf, sizeof buf), FILTER_NOMATCH);
	cr_assert_eq(test_match(f, "b", &res, buf, sizeof buf), FILTER_NOMATCH);
	filter_unref(f);
	one = test_filter_ml(NULL, fail, 1);
	test_match(one, "begin", &res, buf, sizeof buf);
	cr_assert_eq(test_match(one, w, &res, buf, sizeof buf), FILTER_NOMATCH,
	    "maxlines 1: one line at a time");
	filter_unref(one);
}

Test(filter, skiplines_keeps_the_lines_between)
{
	const char *fail[] = {
	    "^\\[conn(?P<__c>\\d+)\\] Failed to authenticate [^\\n]+"
	    "<SKIPLINES>\\[conn(?P=__c)\\] end connection <HOST>",
	    NULL};
	struct filter *f = test_filter_ml(NULL, fail, 10);
	struct filter_result res;
	char buf[ADDR_STRLEN];

	test_match(
	    f, "[conn1] Failed to authenticate a", &res, buf, sizeof buf);
	test_match(
	    f, "[conn2] Failed to authenticate b", &res, buf, sizeof buf);
	test_match(f, "[conn3] noise", &res, buf, sizeof buf);
	cr_assert_eq(test_match(f, "[conn1] end connection 192.0.2.1:5", &res,
	                 buf, sizeof buf),
	    FILTER_MATCH);
	cr_assert_str_eq(buf, "192.0.2.1");
	/* conn2's line was skipped over, not consumed */
	cr_assert_eq(test_match(f, "[conn2] end connection 192.0.2.2:5", &res,
	                 buf, sizeof buf),
	    FILTER_MATCH);
	cr_assert_str_eq(buf, "192.0.2.2");
	cr_assert_eq(test_match(f, "[conn1] end connection 192.0.2.1:5", &res,
	                 buf, sizeof buf),
	    FILTER_NOMATCH, "conn1's failure was consumed");
	filter_unref(f);
}

Test(filter, dateless_line_reuses_recent_date)
{
	const char *fail[] = {"^WARNING: fail from <HOST>$", NULL};
	struct filter *f = test_filter_ml(NULL, fail, 2);
	struct filter_result res;
	const char *d = "2026-11-29 23:59:30 begin";
	const char *w = "WARNING: fail from 192.0.2.5";

	filter_match(f, d, strlen(d), TEST_NOW, &res);
	cr_assert(res.has_time);
	cr_assert_eq(
	    filter_match(f, w, strlen(w), TEST_NOW, &res), FILTER_MATCH);
	cr_assert(res.has_time);
	cr_assert_eq(res.when, TEST_NOW - 30, "when %lld", (long long)res.when);
	/* a date older than a minute is not borrowed (as fail2ban) */
	cr_assert_eq(
	    filter_match(f, w, strlen(w), TEST_NOW + 61, &res), FILTER_MATCH);
	cr_assert(!res.has_time);
	filter_unref(f);
}

/*
 * <HOST> leaves an IPv6 zone id out of the address, folds IPv4-mapped
 * IPv6 to IPv4, and takes ":PORT" after a dotted ending (dropbear) but
 * not after a hex one, which would be ambiguous.
 */
Test(filter, host_zone_id_and_mapped_port)
{
	struct filter *f = test_one("^from <HOST> port$");
	struct filter *g = test_one("^from <HOST>:\\d+$");
	struct filter_result res;
	char a[ADDR_STRLEN];

	cr_assert_eq(test_match(f, "from fe80::1%eth0 port", &res, a, sizeof a),
	    FILTER_MATCH);
	cr_assert_str_eq(a, "fe80::1");
	cr_assert_eq(
	    test_match(f, "from 2001:db8::1%enp0s31f6 port", &res, a, sizeof a),
	    FILTER_MATCH);
	cr_assert_str_eq(a, "2001:db8::1");
	cr_assert_eq(
	    test_match(f, "from ::ffff:192.0.2.1 port", &res, a, sizeof a),
	    FILTER_MATCH);
	cr_assert_str_eq(a, "192.0.2.1");
	cr_assert_eq(
	    test_match(f, "from 192.0.2.1%eth0 port", &res, a, sizeof a),
	    FILTER_NOMATCH);
	cr_assert_eq(
	    test_match(g, "from ::ffff:192.0.2.2:60495", &res, a, sizeof a),
	    FILTER_MATCH);
	cr_assert_str_eq(a, "192.0.2.2");
	cr_assert_eq(test_match(g, "from 2001:db8::1:22", &res, a, sizeof a),
	    FILTER_NOMATCH);
	filter_unref(f);
	filter_unref(g);
}

/* Write path with text; path is built from dir and name. */
static void
test_write(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	cr_assert_not_null(fp = fopen(path, "w"), "%s", path);
	fputs(text, fp);
	fclose(fp);
}

/* --all: every filter of the config, one pass, coverage per filter. */
Test(filter, filtertest_all_coverage)
{
	char dir[] = "/tmp/jaild-test-all.XXXXXX", sub[600], cmd[700];
	char *cause = NULL;
	const char *log = "Nov 27 23:58:22 h a: bad from 10.0.0.1\n"
	                  "Nov 27 23:58:22 h b: worse from 10.0.0.2\n"
	                  "Nov 27 23:58:23 h a: bad from 10.0.0.3\n"
	                  "Nov 27 23:58:24 h c: noise\n";
	char *const refs[] = {(char *)"alpha", (char *)"beta"};
	json_t *rep, *fl;
	FILE *in;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(sub, sizeof sub, "%s/filters", dir);
	cr_assert_eq(mkdir(sub, 0700), 0);
	test_write(dir, "jaild.conf", "[jaild]\n");
	test_write(sub, "alpha.conf",
	    "[Definition]\nfailregex = ^\\s*\\S+ a: bad from <HOST>$\n");
	test_write(sub, "beta.conf",
	    "[Definition]\nfailregex = ^\\s*\\S+ b: worse from <HOST>$\n");
	test_write(sub, "common.conf", "[INCLUDES]\n");
	cr_assert_not_null(in = tmpfile());
	fputs(log, in);
	rewind(in);
	rep = filtertest_many(dir, NULL, 0, 1, in, 0, NULL, &cause);
	cr_assert_not_null(rep, "%s", cause ? cause : "?");
	cr_assert_eq(json_integer_value(json_object_get(rep, "lines")), 4);
	cr_assert_eq(json_integer_value(json_object_get(rep, "none")), 1);
	fl = json_object_get(rep, "filters");
	cr_assert_eq(json_array_size(fl), 2);
	cr_assert_str_eq(
	    json_string_value(json_object_get(json_array_get(fl, 0), "filter")),
	    "alpha");
	cr_assert_eq(json_integer_value(
	                 json_object_get(json_array_get(fl, 0), "matched")),
	    2);
	cr_assert_eq(json_integer_value(
	                 json_object_get(json_array_get(fl, 1), "matched")),
	    1);
	cr_assert_eq(json_array_size(json_object_get(rep, "skipped")), 1);
	json_decref(rep);
	/* named filters, and a name that does not load is an error */
	rewind(in);
	rep = filtertest_many(dir, refs, 2, 0, in, 0, NULL, &cause);
	cr_assert_not_null(rep);
	cr_assert_eq(json_integer_value(json_object_get(rep, "none")), 1);
	json_decref(rep);
	rewind(in);
	cr_assert_null(filtertest_many(dir,
	    (char *const[]){(char *)"alpha", (char *)"nosuch"}, 2, 0, in, 0,
	    NULL, &cause));
	cr_assert_not_null(cause);
	free(cause);
	fclose(in);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}
