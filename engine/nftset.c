/* nftset: one NFT_MSG_GETSETELEM dump of a set, decoded into addresses. */
#include <sys/socket.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>

#include "nftset.h"
#include "xmalloc.h"

/* A dump interrupted by a concurrent change is started again this often. */
#define NFTSET_TRIES 3

/* One element as the kernel gives it: a key, maybe the end of a range. */
struct nftset_raw {
	uint8_t key[16];
	int end; /* NFT_SET_ELEM_INTERVAL_END */
	uint64_t expires_ms;
};

struct nftset_dump {
	size_t keylen; /* 4 or 16 */
	struct nftset_raw *raw;
	size_t n;
	size_t cap;
	int bad; /* an element whose key has the wrong length */
};

/* Copy one parsed element into the dump's raw array. */
static int
nftset_elem_cb(struct nftnl_set_elem *e, void *arg)
{
	struct nftset_dump *d = arg;
	struct nftset_raw *r;
	const void *key;
	uint32_t len = 0;

	key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
	if (key == NULL || len != d->keylen) {
		d->bad = 1;
		return 0;
	}
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 1024;
		d->raw = xreallocarray(d->raw, d->cap, sizeof *d->raw);
	}
	r = &d->raw[d->n++];
	memset(r, 0, sizeof *r);
	memcpy(r->key, key, len);
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS))
		r->end = (nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) &
		             NFT_SET_ELEM_INTERVAL_END) != 0;
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION))
		r->expires_ms =
		    nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_EXPIRATION);
	return 0;
}

/* Decode one message of the dump (a batch of elements). */
static int
nftset_msg_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nftnl_set *s;
	int rc;

	if ((s = nftnl_set_alloc()) == NULL)
		return MNL_CB_ERROR;
	rc = nftnl_set_elems_nlmsg_parse(nlh, s);
	if (rc == 0)
		nftnl_set_elem_foreach(s, nftset_elem_cb, arg);
	nftnl_set_free(s);
	return rc == 0 ? MNL_CB_OK : MNL_CB_ERROR;
}

/* Send the dump request for table/name on nl. */
static int
nftset_request(
    struct mnl_socket *nl, const char *table, const char *name, uint32_t seq)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct nftnl_set *s;

	if ((s = nftnl_set_alloc()) == NULL)
		return -1;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nlh = nftnl_nlmsg_build_hdr(
	    buf, NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_DUMP | NLM_F_ACK, seq);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	return mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0 ? -1 : 0;
}

/* Run one dump into d; -1 with errno (EINTR: interrupted, start again). */
static int
nftset_dump_once(struct mnl_socket *nl, const char *table, const char *name,
    struct nftset_dump *d)
{
	static char buf[32768]; /* MNL_SOCKET_DUMP_SIZE; jaild has one loop */
	uint32_t seq = (uint32_t)time(NULL), portid = mnl_socket_get_portid(nl);
	ssize_t len;
	int rc;

	d->n = 0;
	if (nftset_request(nl, table, name, seq) != 0)
		return -1;
	for (;;) {
		len = mnl_socket_recvfrom(nl, buf, sizeof buf);
		if (len < 0 && errno == EINTR)
			continue; /* a signal, not NLM_F_DUMP_INTR */
		if (len <= 0)
			return -1;
		rc =
		    mnl_cb_run(buf, (size_t)len, seq, portid, nftset_msg_cb, d);
		if (rc < 0)
			return -1; /* EINTR here: NLM_F_DUMP_INTR */
		if (rc == MNL_CB_STOP)
			return 0;
	}
}

/* Order raw keys; at equal keys an end comes before a start. */
static int
nftset_raw_cmp(const void *a, const void *b)
{
	const struct nftset_raw *x = a, *y = b;
	int c = memcmp(x->key, y->key, sizeof x->key);

	return c != 0 ? c : y->end - x->end;
}

/* The prefix [start, end) is, or -1; end NULL: up to the top of space. */
static int
nftset_prefixlen(const uint8_t *start, const uint8_t *end, size_t keylen)
{
	uint8_t last[16];
	int bits = (int)keylen * 8, p, i, bit, want;
	size_t k;

	memset(last, 0xff, sizeof last);
	if (end != NULL) {
		memcpy(last, end, keylen); /* last = end - 1 */
		for (k = keylen; k-- > 0;) {
			if (last[k]-- != 0)
				break;
		}
	}
	/* The shortest p with start's and last's first p bits equal. */
	for (p = 0; p < bits; p++) {
		if (((start[p / 8] ^ last[p / 8]) >> (7 - p % 8)) & 1)
			break;
	}
	/* Beyond p, start must be all zeros and last all ones. */
	for (i = p; i < bits; i++) {
		bit = (start[i / 8] >> (7 - i % 8)) & 1;
		want = (last[i / 8] >> (7 - i % 8)) & 1;
		if (bit != 0 || want != 1)
			return -1;
	}
	return p;
}

/* Make an address of family af from key, cut to prefixlen bits. */
static void
nftset_addr(
    struct addr *a, int af, const uint8_t *key, size_t keylen, int prefixlen)
{
	memset(a, 0, sizeof *a);
	a->family = (uint8_t)af;
	a->prefixlen = (uint8_t)prefixlen;
	memcpy(a->bytes, key, keylen);
}

/*
 * Turn d's raw elements into hosts, or (interval) into prefixes: an
 * interval set holds each range as a start element and an end element
 * one past its last address (none if the range reaches the top).
 */
static struct nftset_elem *
nftset_decode(
    struct nftset_dump *d, int af, int interval, size_t *n, size_t *nodd)
{
	struct nftset_elem *out = xcalloc(d->n ? d->n : 1, sizeof *out);
	const uint8_t *end;
	size_t i, k = 0;
	int p;

	if (interval && d->n > 1)
		qsort(d->raw, d->n, sizeof *d->raw, nftset_raw_cmp);
	for (i = 0; i < d->n; i++) {
		if (!interval) {
			nftset_addr(&out[k].addr, af, d->raw[i].key, d->keylen,
			    (int)d->keylen * 8);
			out[k++].expires_ms = d->raw[i].expires_ms;
			continue;
		}
		if (d->raw[i].end)
			continue;
		end = i + 1 < d->n && d->raw[i + 1].end ? d->raw[i + 1].key
		                                        : NULL;
		p = end != NULL || i + 1 == d->n
		        ? nftset_prefixlen(d->raw[i].key, end, d->keylen)
		        : -1;
		if (p < 0) {
			(*nodd)++;
			continue;
		}
		nftset_addr(&out[k].addr, af, d->raw[i].key, d->keylen, p);
		out[k++].expires_ms = d->raw[i].expires_ms;
	}
	*n = k;
	return out;
}

/* Open and bind a netfilter netlink socket. */
static struct mnl_socket *
nftset_open(char **cause)
{
	struct mnl_socket *nl;

	if ((nl = mnl_socket_open(NETLINK_NETFILTER)) == NULL) {
		xasprintf(cause, "netlink: %s", strerror(errno));
		return NULL;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) != 0) {
		xasprintf(cause, "netlink bind: %s", strerror(errno));
		mnl_socket_close(nl);
		return NULL;
	}
	return nl;
}

/* Dump set table/name (see nftset.h). */
int
nftset_list(const char *table, const char *name, int af, int interval,
    struct nftset_elem **out, size_t *n, size_t *nodd, char **cause)
{
	struct nftset_dump d = {0};
	struct mnl_socket *nl;
	size_t odd = 0;
	int i, rc = -1;

	*out = NULL;
	*n = 0;
	d.keylen = af == AF_INET6 ? 16 : 4;
	if ((nl = nftset_open(cause)) == NULL)
		return -1;
	for (i = 0; i < NFTSET_TRIES; i++) {
		if ((rc = nftset_dump_once(nl, table, name, &d)) == 0 ||
		    errno != EINTR)
			break;
	}
	if (rc != 0) {
		xasprintf(cause, "cannot list set inet %s %s: %s", table, name,
		    errno == EINTR ? "kept changing" : strerror(errno));
		goto out;
	}
	*out = nftset_decode(&d, af, interval, n, &odd);
	if (d.bad)
		odd++;
	if (nodd != NULL)
		*nodd = odd;
out:
	mnl_socket_close(nl);
	free(d.raw);
	return rc;
}
