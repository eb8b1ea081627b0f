/* TCP sockets seen through netlink sock_diag: list them, destroy them. */
#ifndef JAILD_SOCKDIAG_H
#define JAILD_SOCKDIAG_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/*
 * States listed and destroyed: the ones that hold a server's slot
 * (ESTABLISHED, SYN_RECV, CLOSE_WAIT), as a TCPF_* bit mask.
 */
#define SOCKDIAG_STATES ((1u << 1) | (1u << 3) | (1u << 8))

/*
 * One TCP socket.  local/remote are hosts (IPv4-mapped IPv6 peers of an
 * AF_INET6 socket are given as IPv4).  The tcp_info fields are zero if the
 * kernel did not report them.  The kernel does not give a connection's
 * age: last_data_recv_ms is the time since the peer last sent data (for a
 * client that said HELO and went idle, the idle time), last_ack_recv_ms
 * since it last acknowledged anything; a caller that needs the age can
 * remember when it first saw a cookie.
 */
struct sockdiag_sock {
	uint8_t family; /* of the socket: AF_INET or AF_INET6 */
	uint8_t state; /* TCP_ESTABLISHED, ... */
	struct addr local;
	struct addr remote;
	uint16_t lport; /* host order */
	uint16_t rport;
	uint32_t inode; /* 0 for sockets no process holds */
	uint32_t uid;
	uint64_t cookie; /* stable identity while the socket lives */
	uint64_t bytes_received; /* tcpi_bytes_received */
	uint64_t bytes_acked; /* tcpi_bytes_acked: bytes we sent, acked */
	uint32_t segs_in;
	uint32_t last_data_recv_ms;
	uint32_t last_data_sent_ms;
	uint32_t last_ack_recv_ms;
	uint32_t rtt_us;
	uint32_t rqueue; /* bytes not yet read by the application */
	uint32_t wqueue;
	unsigned char raw_id[48]; /* struct inet_diag_sockid, for destroy */
};

typedef int (*sockdiag_cb)(const struct sockdiag_sock *, void *arg);

/*
 * Call cb for every TCP socket of family (AF_INET, AF_INET6, or AF_UNSPEC
 * for both) in SOCKDIAG_STATES whose local port is one of lports (sorted
 * ascending; nlports 0: any port).  cb returns non-zero to stop.  Returns
 * 0 or -1 with *cause.
 */
int sockdiag_foreach(uint8_t family, const uint16_t *lports, size_t nlports,
    sockdiag_cb cb, void *arg, char **cause);

/* Destroy one socket listed by sockdiag_foreach (SOCK_DESTROY). */
int sockdiag_destroy(const struct sockdiag_sock *, char **cause);

/*
 * Destroy every socket (IPv4, IPv6 and v4-mapped on IPv6) in
 * SOCKDIAG_STATES whose remote address is in prefix and local port in
 * lports (sorted; nlports 0: any).  *destroyed gets the count.  Needs
 * CAP_NET_ADMIN and CONFIG_INET_DIAG_DESTROY; returns -1 with *cause
 * if a socket could not be destroyed (sockets already gone are skipped).
 */
int sockdiag_destroy_from(const struct addr *prefix, const uint16_t *lports,
    size_t nlports, unsigned *destroyed, char **cause);

/*
 * The same for n prefixes in one pass over the sockets: destroyed[i]
 * (n entries, set to 0 first) counts the sockets of prefixes[i].
 */
int sockdiag_destroy_from_list(const struct addr *prefixes, size_t n,
    const uint16_t *lports, size_t nlports, unsigned *destroyed, char **cause);

#endif
