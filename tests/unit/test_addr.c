/* Unit tests for addr: parsing, normalisation, prefixes, comparison. */
#include <sys/socket.h>
#include <string.h>

#include <criterion/criterion.h>

#include "addr.h"

/* Parse s as a host and return its canonical text ("" on failure). */
static const char *
test_addr_host(const char *s)
{
	static char buf[ADDR_STRLEN];
	struct addr a;

	if (addr_parse_host(s, strlen(s), &a) != 0)
		return "";
	addr_format(&a, buf, sizeof buf);
	return buf;
}

/* Parse s with addr_parse and return its canonical text ("" on failure). */
static const char *
test_addr_any(const char *s)
{
	static char buf[ADDR_STRLEN];
	struct addr a;

	if (addr_parse(s, &a) != 0)
		return "";
	addr_format(&a, buf, sizeof buf);
	return buf;
}

Test(addr, ipv4_valid)
{
	cr_assert_str_eq(test_addr_host("1.2.3.4"), "1.2.3.4");
	cr_assert_str_eq(test_addr_host("0.0.0.0"), "0.0.0.0");
	cr_assert_str_eq(test_addr_host("255.255.255.255"), "255.255.255.255");
	cr_assert_str_eq(test_addr_host("10.77.0.12"), "10.77.0.12");
	cr_assert_str_eq(test_addr_host("[10.77.0.12]"), "10.77.0.12");
}

Test(addr, ipv4_invalid)
{
	static const char *bad[] = {"", "1.2.3", "1.2.3.4.5", "256.1.1.1",
	    "010.1.1.1", "1.2.3.04", "00.1.1.1", "1..2.3", ".1.2.3", "1.2.3.",
	    "1.2.3.4 ", " 1.2.3.4", "1.2.3.4\n", "0x1.2.3.4", "1.2.3.4a",
	    "1.2.3.-4", "1.2.3.4/24", "1234.1.1.1", "1.2.3.4]", "[1.2.3.4",
	    "[]", "[", "localhost", "a.b.c.d", "1.2.3.4; rm -rf /", "$(reboot)",
	    "1.2.3.4`id`"};
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect_str_eq(
		    test_addr_host(bad[i]), "", "accepted '%s'", bad[i]);
}

Test(addr, ipv6_forms)
{
	cr_assert_str_eq(test_addr_host("2001:db8::1"), "2001:db8::1");
	cr_assert_str_eq(test_addr_host("2001:DB8:0:0:0:0:0:1"), "2001:db8::1");
	cr_assert_str_eq(test_addr_host("::1"), "::1");
	cr_assert_str_eq(test_addr_host("::"), "::");
	cr_assert_str_eq(test_addr_host("fd77:0:0:0:0:0:0:10"), "fd77::10");
	cr_assert_str_eq(
	    test_addr_host("IPv6:fd77:0:0:0:0:0:0:10"), "fd77::10");
	cr_assert_str_eq(
	    test_addr_host("[IPv6:fd77:0:0:0:0:0:0:10]"), "fd77::10");
	cr_assert_str_eq(test_addr_host("[fd77::10]"), "fd77::10");
	cr_assert_str_eq(test_addr_host("ipv6:fd77::10"), "fd77::10");
	cr_assert_str_eq(
	    test_addr_host("64:ff9b::1.2.3.4"), "64:ff9b::102:304");
}

Test(addr, ipv6_invalid)
{
	static const char *bad[] = {"fe80::1%eth0", "fe80::1%1", "[fe80::1%lo]",
	    "1:2:3:4:5:6:7:8:9", "1::2::3", ":::", "2001:db8::g",
	    "2001:db8::1/64", "IPv6:", "[IPv6:]", "IPv6:1.2.3.4x",
	    "::ffff:010.1.1.1", "2001:db8:: 1", "12345::1", "IPv4:1.2.3.4",
	    "[2001:db8::1", "2001:db8::1]",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:"
	    "ffff:ffff:ffff:ffff:ffff"};
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect_str_eq(
		    test_addr_host(bad[i]), "", "accepted '%s'", bad[i]);
}

Test(addr, mapped_is_ipv4)
{
	struct addr a, b;

	cr_assert_eq(addr_parse_host("::ffff:1.2.3.4", 14, &a), 0);
	cr_assert_eq(a.family, AF_INET);
	cr_assert_eq(a.prefixlen, 32);
	cr_assert_eq(addr_parse_host("1.2.3.4", 7, &b), 0);
	cr_assert(addr_equal(&a, &b));
	cr_assert_eq(addr_hash(&a), addr_hash(&b));
	cr_assert_str_eq(
	    test_addr_host("[IPv6:0:0:0:0:0:ffff:102:304]"), "1.2.3.4");
	cr_assert_str_eq(test_addr_host("::FFFF:10.0.0.1"), "10.0.0.1");
	/* ::1.2.3.4 (compatible, not mapped) stays IPv6. */
	cr_assert_str_eq(test_addr_host("::1.2.3.4"), "::1.2.3.4");
}

Test(addr, len_not_nul_terminated)
{
	const char *line = "from 192.0.2.17, port 25";
	struct addr a;
	char buf[ADDR_STRLEN];

	cr_assert_eq(addr_parse_host(line + 5, 10, &a), 0);
	addr_format(&a, buf, sizeof buf);
	cr_assert_str_eq(buf, "192.0.2.17");
	/* One byte too many takes the comma and must fail. */
	cr_assert_eq(addr_parse_host(line + 5, 11, &a), -1);
	cr_assert_eq(addr_parse_host(line + 5, 0, &a), -1);
	cr_assert_eq(addr_parse_host(NULL, 3, &a), -1);
}

Test(addr, embedded_nul_rejected)
{
	struct addr a;

	cr_assert_eq(addr_parse_host("1.2.3.4\0.5", 10, &a), -1);
	cr_assert_eq(addr_parse_host("::1\0", 4, &a), -1);
}

Test(addr, overlong_rejected)
{
	char big[4096];
	struct addr a;

	memset(big, '1', sizeof big);
	cr_assert_eq(addr_parse_host(big, sizeof big, &a), -1);
	memset(big, ':', sizeof big);
	cr_assert_eq(addr_parse_host(big, sizeof big, &a), -1);
}

Test(addr, prefixes)
{
	cr_assert_str_eq(test_addr_any("10.1.2.3/8"), "10.0.0.0/8");
	cr_assert_str_eq(test_addr_any("10.1.2.3/32"), "10.1.2.3");
	cr_assert_str_eq(test_addr_any("10.1.2.3/0"), "0.0.0.0/0");
	cr_assert_str_eq(test_addr_any("192.168.1.255/23"), "192.168.0.0/23");
	cr_assert_str_eq(test_addr_any("2001:db8:1:2::5/32"), "2001:db8::/32");
	cr_assert_str_eq(test_addr_any("2001:db8::1/128"), "2001:db8::1");
	cr_assert_str_eq(test_addr_any("::/0"), "::/0");
	cr_assert_str_eq(test_addr_any("[2001:db8::1]/64"), "2001:db8::/64");
	cr_assert_str_eq(test_addr_any("::ffff:10.1.2.3/104"), "10.0.0.0/8");
	cr_assert_str_eq(test_addr_any("1.2.3.4"), "1.2.3.4");
}

Test(addr, prefixes_invalid)
{
	static const char *bad[] = {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1",
	    "10.0.0.0/8/8", "10.0.0.0/ 8", "10.0.0.0/8 ", "10.0.0.0/0x8",
	    "::/129", "::/1000", "/8", "::ffff:1.2.3.4/95", "10.0.0/8",
	    "fe80::%eth0/64", "10.0.0.0/0008"};
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect_str_eq(
		    test_addr_any(bad[i]), "", "accepted '%s'", bad[i]);
}

Test(addr, contains)
{
	struct addr net, host, v6net, v6host, all4;

	cr_assert_eq(addr_parse("10.0.0.0/8", &net), 0);
	cr_assert_eq(addr_parse("10.200.3.4", &host), 0);
	cr_assert(addr_contains(&net, &host));
	cr_assert(addr_contains(&net, &net));
	cr_assert(addr_contains(&host, &host));
	cr_assert_not(addr_contains(&host, &net));
	cr_assert_eq(addr_parse("11.0.0.1", &host), 0);
	cr_assert_not(addr_contains(&net, &host));
	cr_assert_eq(addr_parse("0.0.0.0/0", &all4), 0);
	cr_assert(addr_contains(&all4, &host));
	cr_assert_eq(addr_parse("2001:db8::/33", &v6net), 0);
	cr_assert_eq(addr_parse("2001:db8:7fff::1", &v6host), 0);
	cr_assert(addr_contains(&v6net, &v6host));
	cr_assert_eq(addr_parse("2001:db8:8000::1", &v6host), 0);
	cr_assert_not(addr_contains(&v6net, &v6host));
	/* Across families nothing is contained, not even by /0. */
	cr_assert_not(addr_contains(&all4, &v6host));
	cr_assert_eq(addr_parse("::/0", &v6net), 0);
	cr_assert_not(addr_contains(&v6net, &host));
}

Test(addr, equal_cmp_hash)
{
	struct addr a, b, c, d;

	cr_assert_eq(addr_parse("192.0.2.1", &a), 0);
	cr_assert_eq(addr_parse("192.0.2.1", &b), 0);
	cr_assert_eq(addr_parse("192.0.2.2", &c), 0);
	cr_assert_eq(addr_parse("::1", &d), 0);
	cr_assert(addr_equal(&a, &b));
	cr_assert_eq(addr_cmp(&a, &b), 0);
	cr_assert_eq(addr_hash(&a), addr_hash(&b));
	cr_assert_not(addr_equal(&a, &c));
	cr_assert_lt(addr_cmp(&a, &c), 0);
	cr_assert_gt(addr_cmp(&c, &a), 0);
	cr_assert_lt(addr_cmp(&c, &d), 0); /* IPv4 before IPv6 */
	cr_assert_neq(addr_hash(&a), addr_hash(&c));
	b = a;
	addr_truncate(&b, 24);
	cr_assert_not(addr_equal(&a, &b));
	cr_assert_lt(addr_cmp(&b, &a), 0); /* shorter prefix first */
}

Test(addr, truncate_and_flags)
{
	struct addr a;
	char buf[ADDR_STRLEN];

	cr_assert_eq(addr_parse("2001:db8:abcd:1234::1", &a), 0);
	cr_assert(addr_is_host(&a));
	cr_assert_eq(addr_max_prefixlen(&a), 128);
	addr_truncate(&a, 36);
	cr_assert_not(addr_is_host(&a));
	addr_format(&a, buf, sizeof buf);
	cr_assert_str_eq(buf, "2001:db8:a000::/36");
	addr_truncate(&a, 999);
	cr_assert_eq(a.prefixlen, 128);
	cr_assert_eq(addr_parse("1.2.3.4", &a), 0);
	cr_assert_eq(addr_max_prefixlen(&a), 32);
	addr_truncate(&a, -5);
	addr_format(&a, buf, sizeof buf);
	cr_assert_str_eq(buf, "0.0.0.0/0");
}

Test(addr, format_truncates_safely)
{
	struct addr a;
	char buf[8];

	cr_assert_eq(addr_parse("2001:db8::/32", &a), 0);
	memset(buf, 'x', sizeof buf);
	addr_format(&a, buf, sizeof buf);
	cr_assert_str_eq(buf, "2001:db");
	addr_format(&a, buf, 0); /* must not write */
	cr_assert_str_eq(buf, "2001:db");
}

Test(addr, longest_text_fits)
{
	struct addr a;
	char buf[ADDR_STRLEN];

	cr_assert_eq(
	    addr_parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/127", &a), 0);
	addr_format(&a, buf, sizeof buf);
	cr_assert_str_eq(buf, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127");
}

Test(addr, roundtrip_format_parse)
{
	static const char *in[] = {"1.2.3.4", "10.0.0.0/8", "2001:db8::/48",
	    "fd77::10", "::", "0.0.0.0/0", "::ffff:0:0/96"};
	struct addr a, b;
	char buf[ADDR_STRLEN];
	size_t i;

	for (i = 0; i < sizeof in / sizeof in[0]; i++) {
		cr_assert_eq(addr_parse(in[i], &a), 0, "%s", in[i]);
		addr_format(&a, buf, sizeof buf);
		cr_assert_eq(addr_parse(buf, &b), 0, "%s -> %s", in[i], buf);
		cr_assert(addr_equal(&a, &b), "%s -> %s", in[i], buf);
	}
}
