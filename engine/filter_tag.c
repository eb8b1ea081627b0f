/* Tags: fail2ban's <HOST>, <F-ID>... in a regex, written out as PCRE2. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "filter_tag.h"
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

#define FILTER_RE_SKIPLINES "\\n(?<skiplines>(?:(?:.*\\n)*?))"

#define FILTER_TAG_MAXNAME 30 /* a field name's length, after "F-" */

/* A growing string: the pattern being written. */
struct filter_tag_buf {
	char *s;
	size_t len;
	size_t size;
};

/* Append n bytes to b. */
static void
filter_tag_buf_add(struct filter_tag_buf *b, const char *s, size_t n)
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
filter_tag_buf_str(struct filter_tag_buf *b, const char *s)
{
	filter_tag_buf_add(b, s, strlen(s));
}

/* Map a fail2ban field name (after "F-") to a PCRE2 group name. */
static int
filter_tag_field_name(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i;

	if (n == 0 || n + 1 >= outlen || n > FILTER_TAG_MAXNAME)
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
filter_tag_field(const char *p, struct filter_tag_buf *b)
{
	const char *q, *name;
	int closing = p[1] == '/';
	char gname[32];

	name = p + (closing ? 4 : 3);
	if (strncmp(p + (closing ? 2 : 1), "F-", 2) != 0)
		return 0;
	if ((q = strchr(name, '>')) == NULL)
		return 0;
	if (filter_tag_field_name(
	        name, (size_t)(q - name), gname, sizeof gname))
		return 0;
	if (closing)
		filter_tag_buf_str(b, ")");
	else {
		filter_tag_buf_str(b, "(?<");
		filter_tag_buf_str(b, gname);
		filter_tag_buf_str(b, ">");
	}
	return (size_t)(q - p) + 1;
}

/* Expand the <TAG> at p into b; returns its length, 0 if not a tag. */
static size_t
filter_tag_one(const char *p, struct filter_tag_buf *b, int *dns)
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
			filter_tag_buf_str(b, tags[i].re);
			return n;
		}
	}
	if (strncmp(p, "<DNS>", 5) == 0) {
		*dns = 1;
		return 5;
	}
	return filter_tag_field(p, b);
}

/*
 * Turn a fail2ban regex into PCRE2 syntax.  Python's (?P<name>...) and
 * (?P=name) are PCRE2 syntax already; only the tags need work.
 */
char *
filter_tag_expand(const char *src, const char *fname, char **cause)
{
	struct filter_tag_buf b = {NULL, 0, 0};
	const char *p;
	size_t n;
	int dns = 0;

	filter_tag_buf_add(&b, "", 0);
	for (p = src; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0') {
			filter_tag_buf_add(&b, p, 2);
			p++;
			continue;
		}
		if (*p == '<' && (n = filter_tag_one(p, &b, &dns)) != 0) {
			p += n - 1;
			continue;
		}
		filter_tag_buf_add(&b, p, 1);
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
