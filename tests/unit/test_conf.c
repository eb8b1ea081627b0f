/* Unit tests of the INI reader (conf.c), on real files in a temp dir. */
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "conf.h"

static char tdir[64];
static char tpath[128];
static struct conf_errors errs;

static void
conf_test_setup(void)
{
	strcpy(tdir, "/tmp/test_conf.XXXXXX");
	cr_assert_not_null(mkdtemp(tdir));
	snprintf(tpath, sizeof tpath, "%s/t.conf", tdir);
	memset(&errs, 0, sizeof errs);
}

static void
conf_test_teardown(void)
{
	unlink(tpath);
	rmdir(tdir);
	conf_errors_clear(&errs);
}

/* Write len bytes of text to the test file. */
static void
conf_test_write(const char *text, size_t len)
{
	FILE *f = fopen(tpath, "w");

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(text, 1, len, f), len);
	fclose(f);
}

static struct conf_file *
conf_test_read(const char *text)
{
	conf_test_write(text, strlen(text));
	return conf_read(tpath, &errs);
}

/* The error i without the temp dir prefix. */
static const char *
conf_test_err(size_t i)
{
	cr_assert_lt(i, errs.n);
	cr_assert_eq(strncmp(errs.msgs[i], tpath, strlen(tpath)), 0);
	return errs.msgs[i] + strlen(tpath);
}

TestSuite(conf, .init = conf_test_setup, .fini = conf_test_teardown);

Test(conf, sections_keys_and_lines)
{
	struct conf_file *cf = conf_test_read("# comment\n"
	                                      "; another\n"
	                                      "[Definition]\n"
	                                      "failregex = ^a <HOST>$   \n"
	                                      "key: value with = inside\n"
	                                      "\n"
	                                      "[Init]\r\n"
	                                      "mode=normal\r\n");
	struct conf_section *s;
	struct conf_entry *e;

	cr_assert_not_null(cf);
	cr_assert_eq(errs.n, 0);
	cr_assert_eq(cf->nsections, 2);
	s = conf_section_find(cf, "Definition");
	cr_assert_not_null(s);
	cr_assert_eq(s->line, 3);
	e = conf_entry_find(s, "failregex");
	cr_assert_str_eq(e->value, "^a <HOST>$");
	cr_assert_eq(e->line, 4);
	cr_assert_str_eq(conf_get(s, "key"), "value with = inside");
	cr_assert_str_eq(
	    conf_get(conf_section_find(cf, "Init"), "mode"), "normal");
	cr_assert_null(conf_get(s, "nope"));
	conf_file_free(cf);
}

Test(conf, continuation_keeps_line_slots)
{
	struct conf_file *cf = conf_test_read("[Definition]\n"
	                                      "failregex = first\n"
	                                      "            second \\d+\n"
	                                      "\n"
	                                      "# a comment inside\n"
	                                      "            third\n"
	                                      "\n"
	                                      "next = x\n");
	struct conf_entry *e;

	cr_assert_not_null(cf);
	cr_assert_eq(errs.n, 0);
	e = conf_entry_find(conf_section_find(cf, "Definition"), "failregex");
	cr_assert_str_eq(e->value, "first\nsecond \\d+\n\n\nthird");
	cr_assert_eq(e->line, 2);
	cr_assert_str_eq(
	    conf_get(conf_section_find(cf, "Definition"), "next"), "x");
	conf_file_free(cf);
}

Test(conf, empty_first_line_of_list)
{
	struct conf_file *cf = conf_test_read("[a]\nk =\n  one\n  two\n");

	cr_assert_str_eq(
	    conf_get(conf_section_find(cf, "a"), "k"), "\none\ntwo");
	conf_file_free(cf);
}

Test(conf, duplicate_key_and_section_merge)
{
	struct conf_file *cf = conf_test_read("[a]\nk = 1\nj = 2\n[b]\n"
	                                      "[a]\nk = 3\n");
	struct conf_section *s;

	cr_assert_eq(errs.n, 0);
	cr_assert_eq(cf->nsections, 2);
	s = conf_section_find(cf, "a");
	cr_assert_eq(s->nentries, 2);
	cr_assert_str_eq(conf_get(s, "k"), "3");
	cr_assert_eq(conf_entry_find(s, "k")->line, 6);
	conf_file_free(cf);
}

Test(conf, syntax_errors_have_lines)
{
	struct conf_file *cf = conf_test_read("key = early\n"
	                                      "[ok]\n"
	                                      "this line is junk\n"
	                                      "[broken\n"
	                                      "x = 1\n"
	                                      "[]\n"
	                                      "[fine]\n"
	                                      "= nokey\n"
	                                      "   lost continuation\n"
	                                      "good = yes\n");

	cr_assert_not_null(cf);
	cr_assert_eq(errs.n, 5, "got %zu errors", errs.n);
	cr_assert_str_eq(conf_test_err(0), ":1: key outside of a section");
	cr_assert_str_eq(
	    conf_test_err(1), ":3: syntax error: expected key = value");
	cr_assert_str_eq(
	    conf_test_err(2), ":4: bad section header: expected [name]");
	cr_assert_str_eq(conf_test_err(3), ":6: bad section header: "
	                                   "expected [name]");
	cr_assert_str_eq(conf_test_err(4), ":8: syntax error: empty key");
	cr_assert_str_eq(
	    conf_get(conf_section_find(cf, "fine"), "good"), "yes");
	conf_file_free(cf);
}

Test(conf, indented_line_without_key)
{
	struct conf_file *cf = conf_test_read("[a]\n  orphan\n");

	cr_assert_eq(errs.n, 1);
	cr_assert_str_eq(
	    conf_test_err(0), ":2: indented line continues no key");
	conf_file_free(cf);
}

Test(conf, binary_junk_is_an_error)
{
	static const char junk[] = "[a]\nk = v\x01\x02\n\0\0\0\xff\n"
	                           "ok = 1\n";
	struct conf_file *cf;

	conf_test_write(junk, sizeof junk - 1);
	cf = conf_read(tpath, &errs);
	cr_assert_not_null(cf);
	cr_assert_eq(errs.n, 2);
	cr_assert_str_eq(
	    conf_test_err(0), ":2: control character 0x01 in line");
	cr_assert_str_eq(
	    conf_test_err(1), ":3: control character 0x00 in line");
	cr_assert_null(conf_get(conf_section_find(cf, "a"), "k"));
	cr_assert_str_eq(conf_get(conf_section_find(cf, "a"), "ok"), "1");
	conf_file_free(cf);
}

Test(conf, huge_line_is_an_error)
{
	size_t n = 200000;
	char *big = malloc(n + 32);
	struct conf_file *cf;

	strcpy(big, "[a]\nk = ");
	memset(big + 8, 'x', n);
	strcpy(big + 8 + n, "\nok = 1\n");
	conf_test_write(big, strlen(big));
	free(big);
	cf = conf_read(tpath, &errs);
	cr_assert_eq(errs.n, 1);
	cr_assert_str_eq(conf_test_err(0), ":2: line too long");
	cr_assert_str_eq(conf_get(conf_section_find(cf, "a"), "ok"), "1");
	conf_file_free(cf);
}

Test(conf, too_many_errors_gives_up)
{
	char buf[4096] = "";
	struct conf_file *cf;
	int i;

	for (i = 0; i < 100; i++)
		strcat(buf, "junk\n");
	cf = conf_test_read(buf);
	cr_assert_eq(errs.n, 51);
	cr_assert_str_eq(conf_test_err(50), ":50: too many errors, giving up");
	conf_file_free(cf);
}

Test(conf, missing_file)
{
	char path[160];

	snprintf(path, sizeof path, "%s/none.conf", tdir);
	cr_assert_null(conf_read(path, &errs));
	cr_assert_eq(errs.n, 1);
	cr_assert(strstr(errs.msgs[0], "none.conf: cannot open: ") != NULL);
}

/* Issue #13: a FIFO hung the reader, /dev/zero ate memory. */
Test(conf, only_regular_files_are_read)
{
	static const struct {
		const char *target; /* NULL: a FIFO */
		const char *why;
	} cases[] = {
	    {NULL, ": not a regular file (a FIFO)"},
	    {"/dev/zero", ": not a regular file (a character device)"},
	    {"/", ": not a regular file (a directory)"},
	    {"nowhere.conf", ": cannot open: a symbolic link to a file that "
	                     "does not exist"},
	    {"t.conf", ": cannot open: a symbolic link loop"},
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		unlink(tpath);
		if (cases[i].target == NULL)
			cr_assert_eq(mkfifo(tpath, 0600), 0);
		else
			cr_assert_eq(symlink(cases[i].target, tpath), 0);
		cr_assert_null(conf_read(tpath, &errs));
		cr_assert_eq(errs.n, 1);
		cr_assert(strncmp(conf_test_err(0), cases[i].why,
		              strlen(cases[i].why)) == 0,
		    "%s", errs.msgs[0]);
		conf_errors_clear(&errs);
	}
}

Test(conf, oversized_file_is_refused)
{
	char *big = malloc(CONF_FILE_MAX + 2);

	cr_assert_not_null(big);
	memset(big, '#', CONF_FILE_MAX + 1);
	big[CONF_FILE_MAX] = '\n';
	conf_test_write(big, CONF_FILE_MAX + 1);
	cr_assert_null(conf_read(tpath, &errs));
	cr_assert_eq(errs.n, 1);
	cr_assert(strstr(conf_test_err(0), "larger than the limit") != NULL,
	    "%s", errs.msgs[0]);
	free(big);
}

Test(conf, set_and_errors_format)
{
	struct conf_section s;

	memset(&s, 0, sizeof s);
	conf_set(&s, "a", "1", 3);
	conf_set(&s, "a", "2", 4);
	conf_set(&s, "b", "x", 5);
	cr_assert_eq(s.nentries, 2);
	cr_assert_str_eq(conf_get(&s, "a"), "2");
	cr_assert_eq(conf_entry_find(&s, "a")->line, 4);
	free(s.entries[0].key);
	free(s.entries[0].value);
	free(s.entries[1].key);
	free(s.entries[1].value);
	free(s.entries);
	conf_errors_add(&errs, "f.conf", 7, "bad %s", "thing");
	conf_errors_add(&errs, "g.conf", 0, "whole file");
	cr_assert_str_eq(errs.msgs[0], "f.conf:7: bad thing");
	cr_assert_str_eq(errs.msgs[1], "g.conf: whole file");
	conf_file_free(NULL);
}
