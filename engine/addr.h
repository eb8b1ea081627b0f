/* IPv4 and IPv6 addresses and prefixes: parse, normalise, compare. */
#ifndef JAILD_ADDR_H
#define JAILD_ADDR_H

#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

/* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128" and a NUL. */
#define ADDR_STRLEN 56

/*
 * A host is a prefix of full length (32 or 128).  IPv4-mapped IPv6
 * (::ffff:a.b.c.d) is stored as IPv4, so one attacker is one key.
 * Host bits beyond prefixlen are always zero.
 */
struct addr {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t prefixlen;
	uint8_t bytes[16]; /* network order; IPv4 uses the first 4 */
};

/*
 * Parse a host address of len bytes (not NUL-terminated).  Accepts dotted
 * IPv4, any IPv6 text form (compressed or sendmail's uncompressed), an
 * "IPv6:" prefix as sendmail writes it, and surrounding [brackets].
 * Rejects zone ids ("fe80::1%eth0"), prefixes, and anything else.
 */
int addr_parse_host(const char *s, size_t len, struct addr *out);

/* Parse "ADDR" or "ADDR/LEN" (NUL-terminated); host bits are cleared. */
int addr_parse(const char *s, struct addr *out);

/* Write the canonical text: "1.2.3.4", "2001:db8::1", "10.0.0.0/8". */
void addr_format(const struct addr *a, char *buf, size_t len);

int addr_is_host(const struct addr *a);
int addr_max_prefixlen(const struct addr *a); /* 32 or 128 */
int addr_equal(const struct addr *a, const struct addr *b);
int addr_cmp(const struct addr *a, const struct addr *b);
uint32_t addr_hash(const struct addr *a);

/* True if outer (a prefix or host) contains inner. */
int addr_contains(const struct addr *outer, const struct addr *inner);

/* Cut a to prefixlen bits, clearing the host bits. */
void addr_truncate(struct addr *a, int prefixlen);

#endif
