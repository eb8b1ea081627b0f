/* Port lists as jails write them: "smtp,465,submission", "1000:2000", "any". */
#ifndef JAILD_PORT_H
#define JAILD_PORT_H

#include <stddef.h>
#include <stdint.h>

/* An inclusive range of ports; a single port has lo == hi. */
struct port_range {
	uint16_t lo;
	uint16_t hi;
};

/*
 * Parse a list of ports separated by commas or blanks: numbers, service
 * names (getservbyname for proto, "tcp" when proto is NULL, "all" or a
 * list), and ranges "lo:hi" or "lo-hi" of either.  "" or "any" means all
 * ports: 0 and *n = 0.  On success *out (caller frees) holds the ranges
 * sorted and merged.  Returns -1 with *cause on the first bad item.
 */
int port_parse_list(const char *s, const char *proto, struct port_range **out,
    size_t *n, char **cause);

/* Every port the ranges hold, sorted and unique; caller frees. */
uint16_t *port_expand(const struct port_range *r, size_t n, size_t *nout);

/* The ranges as an nft set literal, "{ 25, 465, 1000-2000 }". */
char *port_format_nft(const struct port_range *r, size_t n);

#endif
