/* Netlink sock_diag for TCP: dump sockets with tcp_info, SOCK_DESTROY them. */
#include <sys/socket.h>
#include <sys/time.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>

#include "sockdiag.h"
#include "xmalloc.h"

_Static_assert(sizeof(struct inet_diag_sockid) ==
                   sizeof(((struct sockdiag_sock *)0)->raw_id),
    "raw_id must hold an inet_diag_sockid");

/* Enough for a full dump datagram (the kernel uses up to 32 KiB). */
#define SOCKDIAG_BUFSIZE 65536
/* A dump that stalls this long is an error, not a hang. */
#define SOCKDIAG_TIMEOUT_S 5

struct sockdiag_req {
	struct nlmsghdr nlh;
	struct inet_diag_req_v2 r;
};

/* Open a sock_diag netlink socket with a receive timeout. */
static int
sockdiag_open(char **cause)
{
	struct timeval tv = {.tv_sec = SOCKDIAG_TIMEOUT_S};
	int fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd == -1) {
		xasprintf(cause, "sock_diag socket: %s", strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	return fd;
}

/* Send one request of type (dump or destroy) for family and id. */
static int
sockdiag_send(int fd, uint16_t type, uint16_t flags, uint8_t family,
    const struct inet_diag_sockid *id, uint32_t seq)
{
	struct sockdiag_req req;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};

	memset(&req, 0, sizeof req);
	req.nlh.nlmsg_len = sizeof req;
	req.nlh.nlmsg_type = type;
	req.nlh.nlmsg_flags = NLM_F_REQUEST | flags;
	req.nlh.nlmsg_seq = seq;
	req.r.sdiag_family = family;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = SOCKDIAG_STATES;
	req.r.idiag_ext = 1 << (INET_DIAG_INFO - 1);
	if (id != NULL)
		req.r.id = *id;
	if (sendto(fd, &req, sizeof req, 0, (struct sockaddr *)&sa,
	        sizeof sa) != (ssize_t)sizeof req)
		return -1;
	return 0;
}

/* Fill a from a sock_diag address; IPv4-mapped IPv6 becomes IPv4. */
static void
sockdiag_addr(struct addr *a, uint8_t family, const __be32 *w)
{
	static const uint8_t mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	memset(a, 0, sizeof *a);
	if (family == AF_INET6 && memcmp(w, mapped, sizeof mapped) != 0) {
		a->family = AF_INET6;
		a->prefixlen = 128;
		memcpy(a->bytes, w, 16);
		return;
	}
	a->family = AF_INET;
	a->prefixlen = 32;
	memcpy(a->bytes, family == AF_INET6 ? (const void *)&w[3] : w, 4);
}

/* Copy what the kernel reported of tcp_info into s. */
static void
sockdiag_parse_info(struct sockdiag_sock *s, const void *data, size_t len)
{
	struct tcp_info ti;

	memset(&ti, 0, sizeof ti);
	memcpy(&ti, data, len < sizeof ti ? len : sizeof ti);
	s->bytes_received = ti.tcpi_bytes_received;
	s->bytes_acked = ti.tcpi_bytes_acked;
	s->segs_in = ti.tcpi_segs_in;
	s->last_data_recv_ms = ti.tcpi_last_data_recv;
	s->last_data_sent_ms = ti.tcpi_last_data_sent;
	s->last_ack_recv_ms = ti.tcpi_last_ack_recv;
	s->rtt_us = ti.tcpi_rtt;
}

/* Decode one inet_diag_msg and its attributes into s. */
static int
sockdiag_parse(const struct nlmsghdr *nlh, struct sockdiag_sock *s)
{
	const struct inet_diag_msg *m = NLMSG_DATA(nlh);
	const struct rtattr *rta;
	int len;

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof *m))
		return -1;
	memset(s, 0, sizeof *s);
	s->family = m->idiag_family;
	s->state = m->idiag_state;
	sockdiag_addr(&s->local, m->idiag_family, m->id.idiag_src);
	sockdiag_addr(&s->remote, m->idiag_family, m->id.idiag_dst);
	s->lport = ntohs(m->id.idiag_sport);
	s->rport = ntohs(m->id.idiag_dport);
	s->inode = m->idiag_inode;
	s->uid = m->idiag_uid;
	s->rqueue = m->idiag_rqueue;
	s->wqueue = m->idiag_wqueue;
	memcpy(&s->cookie, m->id.idiag_cookie, sizeof s->cookie);
	memcpy(s->raw_id, &m->id, sizeof s->raw_id);
	rta = (const struct rtattr *)(m + 1);
	len = (int)(nlh->nlmsg_len - NLMSG_LENGTH(sizeof *m));
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == INET_DIAG_INFO)
			sockdiag_parse_info(s, RTA_DATA(rta), RTA_PAYLOAD(rta));
	}
	return 0;
}

static int
sockdiag_port_cmp(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;

	return (x > y) - (x < y);
}

/* NLMSG_OK, without comparing the u32 message length with an int. */
static int
sockdiag_msg_ok(const struct nlmsghdr *nlh, int len)
{
	return len >= (int)sizeof *nlh && nlh->nlmsg_len >= sizeof *nlh &&
	       nlh->nlmsg_len <= (unsigned int)len;
}

/* Handle one datagram of a dump: 1 at its end, 0 for more, -1 on error. */
static int
sockdiag_dump_chunk(const char *buf, size_t n, const uint16_t *lports,
    size_t nlports, sockdiag_cb cb, void *arg, char **cause)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	const struct nlmsgerr *e;
	struct sockdiag_sock s;
	int len = (int)n;

	for (; sockdiag_msg_ok(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
		if (nlh->nlmsg_type == NLMSG_DONE)
			return 1;
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			e = NLMSG_DATA(nlh);
			xasprintf(
			    cause, "sock_diag dump: %s", strerror(-e->error));
			return -1;
		}
		if (sockdiag_parse(nlh, &s) != 0)
			continue;
		if (nlports != 0 &&
		    bsearch(&s.lport, lports, nlports, sizeof *lports,
		        sockdiag_port_cmp) == NULL)
			continue;
		if (cb(&s, arg) != 0)
			return 2;
	}
	return 0;
}

/* Dump the TCP sockets of one family, calling cb for each that matches. */
static int
sockdiag_dump(int fd, uint8_t family, const uint16_t *lports, size_t nlports,
    sockdiag_cb cb, void *arg, char **cause)
{
	char *buf = xmalloc(SOCKDIAG_BUFSIZE);
	ssize_t n;
	int rc = 0;

	if (sockdiag_send(
	        fd, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, family, NULL, 1) != 0) {
		xasprintf(cause, "sock_diag request: %s", strerror(errno));
		goto fail;
	}
	/* A stopped dump leaves the socket unusable: callers close it. */
	while (rc == 0) {
		n = recv(fd, buf, SOCKDIAG_BUFSIZE, 0);
		if (n <= 0) {
			xasprintf(cause, "sock_diag receive: %s",
			    n == 0 ? "end of file" : strerror(errno));
			goto fail;
		}
		rc = sockdiag_dump_chunk(
		    buf, (size_t)n, lports, nlports, cb, arg, cause);
		if (rc == -1)
			goto fail;
	}
	free(buf);
	return 0;
fail:
	free(buf);
	return -1;
}

/* List TCP sockets by local port (see sockdiag.h). */
int
sockdiag_foreach(uint8_t family, const uint16_t *lports, size_t nlports,
    sockdiag_cb cb, void *arg, char **cause)
{
	int fd, rc = 0;

	if (family != AF_INET && family != AF_INET6 && family != AF_UNSPEC) {
		xasprintf(cause, "sock_diag: bad family %u", family);
		return -1;
	}
	if (family != AF_INET6) {
		if ((fd = sockdiag_open(cause)) == -1)
			return -1;
		rc =
		    sockdiag_dump(fd, AF_INET, lports, nlports, cb, arg, cause);
		close(fd);
	}
	if (rc == 0 && family != AF_INET) {
		if ((fd = sockdiag_open(cause)) == -1)
			return -1;
		rc = sockdiag_dump(
		    fd, AF_INET6, lports, nlports, cb, arg, cause);
		close(fd);
	}
	return rc;
}

/* Destroy one socket on fd: 0 done, 1 already gone, -1 with *cause. */
static int
sockdiag_destroy_fd(
    int fd, const struct sockdiag_sock *s, uint32_t seq, char **cause)
{
	struct inet_diag_sockid id;
	char buf[1024];
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	const struct nlmsgerr *e;
	ssize_t n;

	memcpy(&id, s->raw_id, sizeof id);
	if (sockdiag_send(fd, SOCK_DESTROY, NLM_F_ACK, s->family, &id, seq) !=
	    0) {
		xasprintf(cause, "sock_diag destroy: %s", strerror(errno));
		return -1;
	}
	n = recv(fd, buf, sizeof buf, 0);
	if (n < (ssize_t)NLMSG_LENGTH(sizeof *e) ||
	    nlh->nlmsg_type != NLMSG_ERROR) {
		xasprintf(cause, "sock_diag destroy: %s",
		    n < 0 ? strerror(errno) : "short reply");
		return -1;
	}
	e = NLMSG_DATA(nlh);
	if (e->error == 0)
		return 0;
	if (e->error == -ENOENT)
		return 1;
	xasprintf(cause, "sock_diag destroy: %s%s", strerror(-e->error),
	    e->error == -EOPNOTSUPP ? " (kernel without "
	                              "CONFIG_INET_DIAG_DESTROY)"
	                            : "");
	return -1;
}

/* Destroy one socket listed by sockdiag_foreach (see sockdiag.h). */
int
sockdiag_destroy(const struct sockdiag_sock *s, char **cause)
{
	int fd, rc;

	if ((fd = sockdiag_open(cause)) == -1)
		return -1;
	rc = sockdiag_destroy_fd(fd, s, 1, cause);
	close(fd);
	return rc == -1 ? -1 : 0;
}

/* Sockets matched during a dump, destroyed after it. */
struct sockdiag_match {
	const struct addr *prefixes;
	size_t nprefixes;
	struct sockdiag_sock *socks;
	size_t *owner; /* index into prefixes of each socket */
	size_t n;
	size_t cap;
};

/* Remember s if its peer is in one of the prefixes. */
static int
sockdiag_match_cb(const struct sockdiag_sock *s, void *arg)
{
	struct sockdiag_match *m = arg;
	size_t i;

	for (i = 0; i < m->nprefixes; i++) {
		if (addr_contains(&m->prefixes[i], &s->remote))
			break;
	}
	if (i == m->nprefixes)
		return 0;
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 16;
		m->socks = xreallocarray(m->socks, m->cap, sizeof *m->socks);
		m->owner = xreallocarray(m->owner, m->cap, sizeof *m->owner);
	}
	m->socks[m->n] = *s;
	m->owner[m->n++] = i;
	return 0;
}

/* Which socket families can hold peers in these prefixes. */
static uint8_t
sockdiag_families(const struct addr *prefixes, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (prefixes[i].family == AF_INET)
			return AF_UNSPEC; /* v4 and v4-mapped on v6 */
	}
	return AF_INET6;
}

/* Destroy the sockets of peers in any of n prefixes (see sockdiag.h). */
int
sockdiag_destroy_from_list(const struct addr *prefixes, size_t n,
    const uint16_t *lports, size_t nlports, unsigned *destroyed, char **cause)
{
	struct sockdiag_match m = {.prefixes = prefixes, .nprefixes = n};
	size_t i;
	int fd = -1, rc;

	memset(destroyed, 0, n * sizeof *destroyed);
	if (n == 0)
		return 0;
	if (sockdiag_foreach(sockdiag_families(prefixes, n), lports, nlports,
	        sockdiag_match_cb, &m, cause) != 0)
		goto fail;
	if (m.n != 0 && (fd = sockdiag_open(cause)) == -1)
		goto fail;
	for (i = 0; i < m.n; i++) {
		rc = sockdiag_destroy_fd(
		    fd, &m.socks[i], (uint32_t)i + 1, cause);
		if (rc == -1)
			goto fail;
		if (rc == 0)
			destroyed[m.owner[i]]++;
	}
	if (fd != -1)
		close(fd);
	free(m.socks);
	free(m.owner);
	return 0;
fail:
	if (fd != -1)
		close(fd);
	free(m.socks);
	free(m.owner);
	return -1;
}

/* Destroy the sockets of peers in one prefix (see sockdiag.h). */
int
sockdiag_destroy_from(const struct addr *prefix, const uint16_t *lports,
    size_t nlports, unsigned *destroyed, char **cause)
{
	return sockdiag_destroy_from_list(
	    prefix, 1, lports, nlports, destroyed, cause);
}
