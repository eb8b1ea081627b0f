/* IPv4 and IPv6 addresses and prefixes: strict parsing, canonical text. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "addr.h"

/* Longest host text we accept: full IPv6 with embedded IPv4, plus slack. */
#define ADDR_HOSTMAX 64

static const uint8_t addr_mapped_prefix[12] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* Check strict dotted-quad syntax: four 0..255 fields, no leading zeros. */
static int
addr_check_ipv4(const char *s, size_t len)
{
	size_t i = 0, ndig;
	int field, val;

	for (field = 0; field < 4; field++) {
		if (field > 0) {
			if (i >= len || s[i] != '.')
				return -1;
			i++;
		}
		val = 0;
		for (ndig = 0; i < len && s[i] >= '0' && s[i] <= '9'; ndig++) {
			if (ndig == 3 || (ndig == 1 && val == 0))
				return -1; /* too long, or a leading zero */
			val = val * 10 + (s[i++] - '0');
		}
		if (ndig == 0 || val > 255)
			return -1;
	}
	return i == len ? 0 : -1;
}

/* True if every byte may appear in a numeric IPv6 address. */
static int
addr_ipv6_charset(const char *s, size_t len)
{
	size_t i;
	char c;

	for (i = 0; i < len; i++) {
		c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		        (c >= 'A' && c <= 'F') || c == ':' || c == '.'))
			return 0;
	}
	return 1;
}

/* Strip sendmail's "[IPv6:...]" decorations; returns -1 if unbalanced. */
static int
addr_strip(const char **sp, size_t *lenp)
{
	const char *s = *sp;
	size_t len = *lenp;

	if (len > 0 && s[0] == '[') {
		if (len < 2 || s[len - 1] != ']')
			return -1;
		s++;
		len -= 2;
	}
	if (len >= 5 && strncasecmp(s, "IPv6:", 5) == 0) {
		s += 5;
		len -= 5;
	}
	*sp = s;
	*lenp = len;
	return 0;
}

/* Parse a host; *mapped is set when it was IPv4-mapped IPv6 text. */
static int
addr_parse_host_mapped(const char *s, size_t len, struct addr *out, int *mapped)
{
	char buf[ADDR_HOSTMAX];
	struct addr a;

	*mapped = 0;
	if (s == NULL || addr_strip(&s, &len) != 0)
		return -1;
	if (len == 0 || len >= sizeof buf)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(&a, 0, sizeof a);
	if (memchr(buf, ':', len) == NULL) {
		if (addr_check_ipv4(buf, len) != 0 ||
		    inet_pton(AF_INET, buf, a.bytes) != 1)
			return -1;
		a.family = AF_INET;
		a.prefixlen = 32;
	} else {
		/* The charset check also rejects zone ids ("%eth0"). */
		if (!addr_ipv6_charset(buf, len) ||
		    inet_pton(AF_INET6, buf, a.bytes) != 1)
			return -1;
		a.family = AF_INET6;
		a.prefixlen = 128;
		if (memcmp(a.bytes, addr_mapped_prefix, 12) == 0) {
			memmove(a.bytes, a.bytes + 12, 4);
			memset(a.bytes + 4, 0, 12);
			a.family = AF_INET;
			a.prefixlen = 32;
			*mapped = 1;
		}
	}
	*out = a;
	return 0;
}

/* Parse a host address of len bytes; see addr.h for what is accepted. */
int
addr_parse_host(const char *s, size_t len, struct addr *out)
{
	int mapped;

	return addr_parse_host_mapped(s, len, out, &mapped);
}

/* Parse a decimal prefix length of 1-3 digits into *out. */
static int
addr_parse_prefixlen(const char *s, int max, int *out)
{
	size_t i;
	int val = 0;

	for (i = 0; s[i] != '\0'; i++) {
		if (i == 3 || s[i] < '0' || s[i] > '9')
			return -1;
		val = val * 10 + (s[i] - '0');
	}
	if (i == 0 || val > max)
		return -1;
	*out = val;
	return 0;
}

/* Parse "ADDR" or "ADDR/LEN"; host bits are cleared. */
int
addr_parse(const char *s, struct addr *out)
{
	const char *slash;
	struct addr a;
	int mapped, plen, max;

	if (s == NULL)
		return -1;
	slash = strchr(s, '/');
	if (slash == NULL)
		return addr_parse_host(s, strlen(s), out);
	if (addr_parse_host_mapped(s, (size_t)(slash - s), &a, &mapped) != 0)
		return -1;
	/* A mapped prefix is written in IPv6 bits: ::ffff:10.0.0.0/104. */
	max = mapped ? 128 : addr_max_prefixlen(&a);
	if (addr_parse_prefixlen(slash + 1, max, &plen) != 0)
		return -1;
	if (mapped) {
		if (plen < 96)
			return -1;
		plen -= 96;
	}
	addr_truncate(&a, plen);
	*out = a;
	return 0;
}

/* Write the canonical text, with "/len" for a prefix, truncating safely. */
void
addr_format(const struct addr *a, char *buf, size_t len)
{
	char tmp[ADDR_STRLEN], host[INET6_ADDRSTRLEN];
	int af = a->family == AF_INET ? AF_INET : AF_INET6;

	if (len == 0)
		return;
	if (inet_ntop(af, a->bytes, host, sizeof host) == NULL)
		snprintf(host, sizeof host, "?");
	if (addr_is_host(a))
		snprintf(tmp, sizeof tmp, "%s", host);
	else
		snprintf(tmp, sizeof tmp, "%s/%u", host, a->prefixlen);
	snprintf(buf, len, "%s", tmp);
}

int
addr_max_prefixlen(const struct addr *a)
{
	return a->family == AF_INET ? 32 : 128;
}

int
addr_is_host(const struct addr *a)
{
	return a->prefixlen == addr_max_prefixlen(a);
}

/* Number of meaningful bytes in a's family. */
static size_t
addr_nbytes(const struct addr *a)
{
	return a->family == AF_INET ? 4 : 16;
}

int
addr_equal(const struct addr *a, const struct addr *b)
{
	return a->family == b->family && a->prefixlen == b->prefixlen &&
	       memcmp(a->bytes, b->bytes, addr_nbytes(a)) == 0;
}

/* Order by family (IPv4 first), then address bytes, then prefix length. */
int
addr_cmp(const struct addr *a, const struct addr *b)
{
	int c;

	if (a->family != b->family)
		return a->family == AF_INET ? -1 : 1;
	c = memcmp(a->bytes, b->bytes, addr_nbytes(a));
	if (c != 0)
		return c < 0 ? -1 : 1;
	if (a->prefixlen != b->prefixlen)
		return a->prefixlen < b->prefixlen ? -1 : 1;
	return 0;
}

/* FNV-1a over family, prefix length and the family's bytes. */
uint32_t
addr_hash(const struct addr *a)
{
	uint32_t h = 2166136261u;
	size_t i, n = addr_nbytes(a);

	h = (h ^ a->family) * 16777619u;
	h = (h ^ a->prefixlen) * 16777619u;
	for (i = 0; i < n; i++)
		h = (h ^ a->bytes[i]) * 16777619u;
	return h;
}

/* True if the first bits bits of x and y are equal. */
static int
addr_bits_equal(const uint8_t *x, const uint8_t *y, int bits)
{
	int full = bits / 8, rest = bits % 8;
	uint8_t mask;

	if (memcmp(x, y, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (uint8_t)(0xff << (8 - rest));
	return (x[full] & mask) == (y[full] & mask);
}

/* True if outer (a prefix or host) contains inner; families must match. */
int
addr_contains(const struct addr *outer, const struct addr *inner)
{
	if (outer->family != inner->family)
		return 0;
	if (outer->prefixlen > inner->prefixlen)
		return 0;
	return addr_bits_equal(outer->bytes, inner->bytes, outer->prefixlen);
}

/* Cut a to prefixlen bits (clamped to the family's range). */
void
addr_truncate(struct addr *a, int prefixlen)
{
	int max = addr_max_prefixlen(a), i;

	if (prefixlen < 0)
		prefixlen = 0;
	if (prefixlen > max)
		prefixlen = max;
	a->prefixlen = (uint8_t)prefixlen;
	for (i = 0; i < 16; i++) {
		if (i * 8 >= prefixlen)
			a->bytes[i] = 0;
		else if (i * 8 + 8 > prefixlen)
			a->bytes[i] &=
			    (uint8_t)(0xff << (8 - (prefixlen - i * 8)));
	}
}
