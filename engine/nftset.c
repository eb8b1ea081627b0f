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
/* MNL_SOCKET_DUMP_SIZE: the most the kernel puts in one dump message. */
#define NFTSET_BUFSIZE 32768
/* Keys per lookup request; their replies must fit in NFTSET_RCVBUF. */
#define NFTSET_GET_BATCH 256
#define NFTSET_RCVBUF (8 << 20)

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

/* A batch of keys looked up, and what the replies said of each. */
struct nftset_lookup {
	const struct addr *keys;
	size_t keylen;
	size_t next; /* the key the next reply answers */
	size_t end; /* one past the last key of the request */
	uint8_t *found;
	uint64_t *expires_ms;
	int bad; /* a reply that does not answer keys[next] */
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

/*
 * Clear NLM_F_DUMP_INTR on the n bytes of messages in buf, so that a
 * loose dump reads on; note in *intr that it was set.
 */
static void
nftset_unmark(char *buf, size_t n, int *intr)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	int len = (int)n;

	for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) {
			nlh->nlmsg_flags &= (uint16_t)~NLM_F_DUMP_INTR;
			*intr = 1;
		}
	}
}

/*
 * Run one dump into d; -1 with errno (EINTR: interrupted, start again).
 * intr non-NULL: a loose dump, read to its end even if interrupted.
 */
static int
nftset_dump_once(struct mnl_socket *nl, const char *table, const char *name,
    struct nftset_dump *d, int *intr)
{
	char *buf = xmalloc(NFTSET_BUFSIZE); /* a worker may dump too */
	uint32_t seq = (uint32_t)time(NULL), portid = mnl_socket_get_portid(nl);
	ssize_t len;
	int rc = -1;

	d->n = 0;
	if (nftset_request(nl, table, name, seq) != 0)
		goto out;
	for (;;) {
		len = mnl_socket_recvfrom(nl, buf, NFTSET_BUFSIZE);
		if (len < 0 && errno == EINTR)
			continue; /* a signal, not NLM_F_DUMP_INTR */
		if (len <= 0)
			goto out;
		if (intr != NULL)
			nftset_unmark(buf, (size_t)len, intr);
		rc =
		    mnl_cb_run(buf, (size_t)len, seq, portid, nftset_msg_cb, d);
		if (rc < 0)
			goto out; /* EINTR here: NLM_F_DUMP_INTR */
		if (rc == MNL_CB_STOP)
			break;
	}
	rc = 0;
out:
	free(buf);
	return rc;
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

/*
 * Dump set table/name into d, each try on a fresh socket (an interrupted
 * dump leaves replies behind).  intr: loose (see nftset_list_loose).
 */
static int
nftset_dump(const char *table, const char *name, struct nftset_dump *d,
    int *intr, char **cause)
{
	struct mnl_socket *nl;
	int i, rc = -1;

	for (i = 0; i < NFTSET_TRIES; i++) {
		if ((nl = nftset_open(cause)) == NULL)
			return -1;
		rc = nftset_dump_once(nl, table, name, d, intr);
		mnl_socket_close(nl);
		if (rc == 0 || errno != EINTR)
			break;
	}
	if (rc != 0)
		xasprintf(cause, "cannot list set inet %s %s: %s", table, name,
		    errno == EINTR ? "kept changing" : strerror(errno));
	return rc;
}

/* Dump set table/name (see nftset.h). */
int
nftset_list(const char *table, const char *name, int af, int interval,
    struct nftset_elem **out, size_t *n, size_t *nodd, char **cause)
{
	struct nftset_dump d = {0};
	size_t odd = 0;

	*out = NULL;
	*n = 0;
	d.keylen = af == AF_INET6 ? 16 : 4;
	if (nftset_dump(table, name, &d, NULL, cause) != 0) {
		free(d.raw);
		return -1;
	}
	*out = nftset_decode(&d, af, interval, n, &odd);
	if (d.bad)
		odd++;
	if (nodd != NULL)
		*nodd = odd;
	free(d.raw);
	return 0;
}

/* Dump a hash set, even while it changes (see nftset.h). */
int
nftset_list_loose(const char *table, const char *name, int af,
    struct nftset_elem **out, size_t *n, int *interrupted, char **cause)
{
	struct nftset_dump d = {0};
	size_t odd = 0;

	*out = NULL;
	*n = 0;
	*interrupted = 0;
	d.keylen = af == AF_INET6 ? 16 : 4;
	if (nftset_dump(table, name, &d, interrupted, cause) != 0) {
		free(d.raw);
		return -1;
	}
	*out = nftset_decode(&d, af, 0, n, &odd);
	free(d.raw);
	return 0;
}

/* Record a lookup's reply: it answers keys[next], which is in the set. */
static int
nftset_get_elem_cb(struct nftnl_set_elem *e, void *arg)
{
	struct nftset_lookup *l = arg;
	const void *key;
	uint32_t len = 0;

	key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
	if (l->next >= l->end || key == NULL || len != l->keylen ||
	    memcmp(key, l->keys[l->next].bytes, len) != 0) {
		l->bad = 1; /* replies come in request order, or not at all */
		return -1;
	}
	l->found[l->next] = 1;
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION))
		l->expires_ms[l->next] =
		    nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_EXPIRATION);
	l->next++;
	return 0;
}

/* Decode one reply of a lookup (one element). */
static int
nftset_get_msg_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nftset_lookup *l = arg;
	struct nftnl_set *s;
	int rc;

	if ((s = nftnl_set_alloc()) == NULL)
		return MNL_CB_ERROR;
	rc = nftnl_set_elems_nlmsg_parse(nlh, s);
	if (rc == 0)
		nftnl_set_elem_foreach(s, nftset_get_elem_cb, l);
	nftnl_set_free(s);
	if (rc != 0 || l->bad) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

/*
 * Append to buf (at *off) one GETSETELEM request for keys[i] alone, with
 * sequence number seq: a lookup of several keys in one message stops at
 * the first missing one, a message per key never does.
 */
static void
nftset_get_put(char *buf, size_t *off, const char *table, const char *name,
    const struct nftset_lookup *l, size_t i, uint32_t seq)
{
	struct nlmsghdr *nlh;
	struct nlattr *list, *el, *key;

	nlh = nftnl_nlmsg_build_hdr(
	    buf + *off, NFT_MSG_GETSETELEM, NFPROTO_INET, 0, seq);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, name);
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	el = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	key = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
	mnl_attr_put(nlh, NFTA_DATA_VALUE, l->keylen, l->keys[i].bytes);
	mnl_attr_nest_end(nlh, key);
	mnl_attr_nest_end(nlh, el);
	mnl_attr_nest_end(nlh, list);
	*off += NLMSG_ALIGN(nlh->nlmsg_len);
}

/* Take one reply of a batch sent with sequence numbers seq0...: 0 or -1. */
static int
nftset_get_take(const struct nlmsghdr *nlh, struct nftset_lookup *l,
    size_t first, uint32_t seq0, size_t *answered)
{
	const struct nlmsgerr *e;
	size_t i = first + (nlh->nlmsg_seq - seq0);

	if (nlh->nlmsg_seq - seq0 >= l->end - first)
		return 0; /* not ours */
	(*answered)++;
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		e = mnl_nlmsg_get_payload(nlh);
		if (e->error == 0 || e->error == -ENOENT)
			return 0; /* found[i] stays 0 */
		errno = -e->error;
		return -1;
	}
	l->next = i;
	return nftset_get_msg_cb(nlh, l) == MNL_CB_OK ? 0 : -1;
}

/* Send one request per key of [first, l->end), read every answer. */
static int
nftset_get_batch(struct mnl_socket *nl, char *buf, const char *table,
    const char *name, struct nftset_lookup *l, size_t first, uint32_t seq0)
{
	struct nlmsghdr *nlh;
	size_t i, off = 0, answered = 0;
	ssize_t len;
	int n;

	for (i = first; i < l->end; i++)
		nftset_get_put(
		    buf, &off, table, name, l, i, seq0 + (uint32_t)(i - first));
	if (mnl_socket_sendto(nl, buf, off) < 0)
		return -1;
	while (answered < l->end - first) {
		len = mnl_socket_recvfrom(nl, buf, NFTSET_BUFSIZE);
		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0)
			return -1;
		n = (int)len;
		for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, n);
		     nlh = mnl_nlmsg_next(nlh, &n)) {
			if (nftset_get_take(nlh, l, first, seq0, &answered))
				return -1;
		}
	}
	return 0;
}

/*
 * Check that set table/name exists: a lookup answers ENOENT alike for a
 * missing set and a missing key.
 */
static int
nftset_exists(struct mnl_socket *nl, char *buf, const char *table,
    const char *name, uint32_t seq)
{
	struct nlmsghdr *nlh;
	struct nftnl_set *s;
	ssize_t len;
	int rc;

	if ((s = nftnl_set_alloc()) == NULL)
		return -1;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nlh = nftnl_nlmsg_build_hdr(
	    buf, NFT_MSG_GETSET, NFPROTO_INET, NLM_F_ACK, seq);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	do {
		len = mnl_socket_recvfrom(nl, buf, NFTSET_BUFSIZE);
		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0)
			return -1;
		rc = mnl_cb_run(buf, (size_t)len, seq,
		    mnl_socket_get_portid(nl), NULL, NULL);
	} while (rc == MNL_CB_OK);
	return rc == MNL_CB_STOP ? 0 : -1;
}

/* How many keys a batch may ask: every reply waits in the socket. */
static size_t
nftset_get_batchsize(struct mnl_socket *nl)
{
	int fd = mnl_socket_get_fd(nl), size = NFTSET_RCVBUF;
	socklen_t len = sizeof size;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, &len) != 0)
		return 8;
	/* A reply takes a page-sized buffer or two in the kernel. */
	size /= 16384;
	return size < 8                  ? 8
	       : size > NFTSET_GET_BATCH ? NFTSET_GET_BATCH
	                                 : (size_t)size;
}

/*
 * Whether set table/name is empty: 1 yes, 0 no, -1 unknown.  Only the
 * first message of a dump is read; the socket is then closed, which
 * ends the dump.
 */
static int
nftset_empty(const char *table, const char *name)
{
	struct nftset_dump d = {.keylen = 16};
	struct mnl_socket *nl;
	char *buf, *why = NULL;
	uint32_t seq = (uint32_t)time(NULL);
	ssize_t len;
	int rc = -1;

	if ((nl = nftset_open(&why)) == NULL) {
		free(why);
		return -1;
	}
	buf = xmalloc(NFTSET_BUFSIZE);
	if (nftset_request(nl, table, name, seq) == 0 &&
	    (len = mnl_socket_recvfrom(nl, buf, NFTSET_BUFSIZE)) > 0) {
		/* Any key length: an element makes d.n or d.bad non-zero. */
		rc = mnl_cb_run(buf, (size_t)len, seq,
		    mnl_socket_get_portid(nl), nftset_msg_cb, &d);
		rc = rc == MNL_CB_STOP && d.n == 0 && !d.bad ? 1
		     : rc == MNL_CB_ERROR                    ? -1
		                                             : 0;
	}
	free(buf);
	free(d.raw);
	mnl_socket_close(nl);
	return rc;
}

/* Look up hosts by key in batches (see nftset.h). */
int
nftset_get(const char *table, const char *name, int af, const struct addr *keys,
    size_t n, uint8_t *found, uint64_t *expires_ms, char **cause)
{
	struct nftset_lookup l = {.keys = keys,
	    .found = found,
	    .expires_ms = expires_ms,
	    .keylen = af == AF_INET6 ? 16 : 4};
	struct mnl_socket *nl;
	uint32_t seq = (uint32_t)time(NULL);
	size_t first, batch;
	char *buf;
	int rc = 0;

	memset(found, 0, n);
	memset(expires_ms, 0, n * sizeof *expires_ms);
	/* After a reboot the set is empty: n lookups would all miss. */
	if (n == 0 || nftset_empty(table, name) == 1)
		return 0;
	if ((nl = nftset_open(cause)) == NULL)
		return -1;
	batch = nftset_get_batchsize(nl);
	buf = xmalloc(NFTSET_BUFSIZE + batch * 128);
	if (nftset_exists(nl, buf, table, name, ++seq) != 0)
		rc = -1;
	for (first = 0; first < n && rc == 0; first = l.end) {
		l.end = first + (n - first < batch ? n - first : batch);
		seq += (uint32_t)batch + 1;
		rc = nftset_get_batch(nl, buf, table, name, &l, first, seq);
	}
	if (rc != 0)
		xasprintf(cause,
		    "cannot look up elements of set inet %s %s: %s", table,
		    name, strerror(errno));
	free(buf);
	mnl_socket_close(nl);
	return rc;
}
