/* Unit tests for port lists: names, numbers, ranges, "any". */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "port.h"

/* Parse s for tcp and format it as nft would see it ("" for any). */
static char *
test_port_nft(const char *s)
{
	struct port_range *r;
	char *cause = NULL, *out;
	size_t n;

	cr_assert_eq(port_parse_list(s, "tcp", &r, &n, &cause), 0, "\"%s\": %s",
	    s, cause);
	if (n == 0)
		return strdup("");
	out = port_format_nft(r, n);
	free(r);
	return out;
}

/* Check that s is refused with a cause naming the bad item. */
static void
test_port_bad(const char *s, const char *item)
{
	struct port_range *r = NULL;
	char *cause = NULL;
	size_t n = 7;

	cr_assert_eq(port_parse_list(s, "tcp", &r, &n, &cause), -1,
	    "\"%s\" accepted", s);
	cr_assert_null(r);
	cr_assert_eq(n, 0);
	cr_assert(strstr(cause, item) != NULL, "%s", cause);
	free(cause);
}

static void
test_port_expect(const char *s, const char *want)
{
	char *got = test_port_nft(s);

	cr_assert_str_eq(got, want, "\"%s\"", s);
	free(got);
}

Test(port, names_numbers_and_ranges)
{
	test_port_expect("smtp,465,submission", "{ 25, 465, 587 }");
	test_port_expect("ssh", "{ 22 }");
	test_port_expect("1000:2000", "{ 1000-2000 }");
	test_port_expect("1000-2000, 25", "{ 25, 1000-2000 }");
	test_port_expect("smtp:30", "{ 25-30 }");
	test_port_expect(" 25 , 25,26 27 ", "{ 25-27 }");
	test_port_expect("65535", "{ 65535 }");
}

Test(port, any_and_empty_mean_all_ports)
{
	test_port_expect("", "");
	test_port_expect("any", "");
	test_port_expect("ANY", "");
	test_port_expect("25,any", "");
	/* jaild.conf's default, as in fail2ban's jail.conf. */
	test_port_expect("0:65535", "");
	test_port_expect("1-65535", "");
	test_port_expect("0:1024", "{ 0-1024 }");
}

Test(port, bad_items_refused)
{
	test_port_bad("0", "\"0\"");
	test_port_bad("65536", "65536");
	test_port_bad("25,nosuchservice", "nosuchservice");
	test_port_bad("2000:1000", "2000:1000");
	test_port_bad("25;drop", "25;drop");
	test_port_bad("1:2:3", "1:2:3");
	test_port_bad("-5", "-5");
}

Test(port, expand_lists_every_port)
{
	struct port_range *r;
	char *cause = NULL;
	uint16_t *p;
	size_t n, np;

	cr_assert_eq(port_parse_list("smtp,100:102", "tcp", &r, &n, &cause), 0);
	p = port_expand(r, n, &np);
	cr_assert_eq(np, 4);
	cr_assert_eq(p[0], 25);
	cr_assert_eq(p[1], 100);
	cr_assert_eq(p[3], 102);
	free(p);
	free(r);
}
