/* The native nftables action: per-jail sets and a chain in table inet jaild. */
#include <sys/types.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <nftables/libnftables.h>

#include "action.h"
#include "action_nft.h"
#include "config.h"
#include "log.h"
#include "nftset.h"
#include "port.h"
#include "sockdiag.h"
#include "xmalloc.h"

/* Hosts v4, hosts v6 (hash sets), prefixes v4, prefixes v6 (interval). */
#define ACTION_NFT_NSETS 4
#define ACTION_NFT_NAMEMAX 32
/* A kernel timeout this close to the store's (seconds) is left alone. */
#define ACTION_NFT_SLACK 3
/* A sweep that would remove more hosts than this, and than the store
 * holds, doubts the store instead. */
#define ACTION_NFT_SWEEP_DOUBT 100

enum action_nft_kind {
	ACTION_NFT_ADD,
	ACTION_NFT_DEL,
};

/* One queued change of one set element. */
struct action_nft_op {
	struct addr addr;
	int64_t timeout; /* seconds; 0: none */
	enum action_nft_kind kind;
};

struct action_nft_buf {
	char *s;
	size_t len;
	size_t cap;
};

struct action_nft_evjob;
struct action_nft_sweep;

struct action_nft {
	struct nft_ctx *nft;
	char *table;
	char *chain;
	char *sets[ACTION_NFT_NSETS];
	int reject;
	int flush_on_stop;
	int evict;
	char *match; /* "meta l4proto tcp th dport { 25 } ", or "" */
	int tcp_only; /* reject with tcp reset */
	int tcp; /* the protocol includes tcp: eviction makes sense */
	uint16_t *lports;
	size_t nlports;
	struct action_nft_op *ops;
	size_t nops;
	size_t capops;
	struct addr *evq; /* banned this turn, or while a job ran */
	size_t nevq;
	size_t capevq;
	struct action_nft_evjob *evjob; /* the eviction running, or NULL */
	struct action_nft_sweep *sweep; /* the stale sweep running, or NULL */
	struct addr *since; /* hosts banned since the sweep began */
	size_t nsince;
	size_t capsince;
	struct action_nft_buf buf;
};

/*
 * An eviction run by a libuv worker: sock_diag walks the host's whole
 * TCP hash table (~12 ms on a busy host), too long for the loop thread.
 * The job owns copies of what it reads; n is NULL once the action is
 * freed, and then the after-work callback only frees the job.
 */
struct action_nft_evjob {
	uv_work_t req;
	struct action *a;
	struct action_nft *n;
	struct addr *addrs;
	size_t naddrs;
	uint16_t *lports;
	size_t nlports;
	unsigned *counts;
	char *why;
	int rc;
};

/*
 * The stale sweep after a restore: the kernel's hash sets dumped by a
 * worker (a dump is quadratic in the set's size), then what the store
 * does not hold deleted on the loop.  want is the restore's hosts,
 * sorted; like the eviction job it outlives its action if need be.
 */
struct action_nft_sweep {
	uv_work_t req;
	struct action *a;
	struct action_nft *n;
	struct addr *want;
	size_t nwant;
	char *table;
	char *sets[2];
	struct nftset_elem *have;
	size_t nhave;
	int keep; /* the store may lack bans: remove nothing */
	int interrupted;
	char *why;
	int rc;
};

static const char *const action_nft_suffix[ACTION_NFT_NSETS] = {
    "_v4", "_v6", "_n4", "_n6"};

/* Append printf output to b. */
static void __attribute__((format(printf, 2, 3)))
action_nft_buf_printf(struct action_nft_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < b->cap - b->len)
			break;
		b->cap = b->cap * 2 + (size_t)(n > 0 ? n : 0) + 256;
		b->s = xreallocarray(b->s, b->cap, 1);
	}
	b->len += (size_t)n;
}

static void
action_nft_buf_reset(struct action_nft_buf *b)
{
	if (b->s == NULL) {
		b->cap = 4096;
		b->s = xmalloc(b->cap);
	}
	b->len = 0;
	b->s[0] = '\0';
}

/* Map a jail name to an nft identifier (see action_nft.h). */
char *
action_nft_name(const char *jail)
{
	char out[ACTION_NFT_NAMEMAX + 16];
	uint32_t h = 2166136261u;
	size_t i, k = 0;
	int changed = 0;

	for (i = 0; jail[i] != '\0'; i++)
		h = (h ^ (uint8_t)jail[i]) * 16777619u;
	if (!isalpha((unsigned char)jail[0])) {
		out[k++] = 'j';
		changed = 1;
	}
	for (i = 0; jail[i] != '\0'; i++) {
		if (k == ACTION_NFT_NAMEMAX) {
			changed = 1;
			break;
		}
		if (isascii((unsigned char)jail[i]) &&
		    (isalnum((unsigned char)jail[i]) || jail[i] == '_'))
			out[k++] = jail[i];
		else {
			out[k++] = '_';
			changed = 1;
		}
	}
	out[k] = '\0';
	if (changed)
		snprintf(out + k, sizeof out - k, "_%08x", h);
	return xstrdup(out);
}

/* Check that s is a plain nft identifier (for the table option). */
static int
action_nft_ident_ok(const char *s)
{
	size_t i;

	if (!isalpha((unsigned char)s[0]))
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (!isascii((unsigned char)s[i]) ||
		    (!isalnum((unsigned char)s[i]) && s[i] != '_'))
			return 0;
	}
	return i <= ACTION_NFT_NAMEMAX;
}

/* The value of option key: action params and [Init], or NULL. */
static const char *
action_nft_opt(const struct action *a, const char *key)
{
	const char *v;

	v = config_var_get(a->conf->vars, a->conf->nvars, key);
	if (v != NULL && *v == '\0')
		return NULL;
	return v;
}

/* Read boolean option key into *out (def if unset); -1 if malformed. */
static int
action_nft_opt_bool(
    const struct action *a, const char *key, int def, int *out, char **cause)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	const char *v = action_nft_opt(a, key);
	size_t i;

	*out = def;
	if (v == NULL)
		return 0;
	for (i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	xasprintf(cause, "%s = \"%s\": not a boolean", key, v);
	return -1;
}

/* Render protocol list proto as "meta l4proto ..." into b; sets tcp flags. */
static int
action_nft_protocol(struct action_nft *n, const char *proto, int ports,
    struct action_nft_buf *b, char **cause)
{
	static const char *const known[] = {
	    "tcp", "udp", "udplite", "sctp", "dccp", NULL};
	char *copy, *tok, *save = NULL;
	size_t i, count = 0;

	copy = xstrdup(proto != NULL && *proto != '\0' ? proto : "tcp");
	if (strcasecmp(copy, "all") == 0) {
		n->tcp = 1;
		free(copy);
		if (ports)
			action_nft_buf_printf(b, "meta l4proto { tcp, udp, "
			                         "udplite, sctp, dccp } ");
		return 0;
	}
	action_nft_buf_printf(b, "meta l4proto { ");
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t", &save)) {
		for (i = 0; known[i] != NULL; i++) {
			if (strcasecmp(tok, known[i]) == 0)
				break;
		}
		if (known[i] == NULL) {
			xasprintf(cause, "unknown protocol \"%s\"", tok);
			free(copy);
			return -1;
		}
		action_nft_buf_printf(b, "%s%s", count++ ? ", " : "", known[i]);
		if (i == 0)
			n->tcp = 1;
	}
	action_nft_buf_printf(b, " } ");
	n->tcp_only = n->tcp && count == 1;
	free(copy);
	return 0;
}

/* Build the rule's match from the jail's port and protocol. */
static int
action_nft_match(struct action *a, struct action_nft *n, char **cause)
{
	struct action_nft_buf b = {0};
	struct port_range *r = NULL;
	const char *port, *proto;
	size_t nr = 0;
	char *set;

	port = action_nft_opt(a, "port");
	if (port == NULL)
		port = a->jail->port;
	proto = action_nft_opt(a, "protocol");
	if (proto == NULL)
		proto = a->jail->protocol;
	if (port_parse_list(port, proto, &r, &nr, cause) != 0)
		return -1;
	action_nft_buf_reset(&b);
	if (action_nft_protocol(n, proto, nr != 0, &b, cause) != 0)
		goto fail;
	if (nr != 0) {
		set = port_format_nft(r, nr);
		action_nft_buf_printf(&b, "th dport %s ", set);
		free(set);
		free(n->lports);
		n->lports = port_expand(r, nr, &n->nlports);
	}
	free(n->match);
	n->match = b.s;
	free(r);
	return 0;
fail:
	free(b.s);
	free(r);
	return -1;
}

/* Read the action's options: blocktype, flush_on_stop, evict, table, family. */
static int
action_nft_options(struct action *a, struct action_nft *n, char **cause)
{
	const char *v;
	char *base;
	size_t i;

	v = action_nft_opt(a, "blocktype");
	if (v != NULL && strcasecmp(v, "drop") != 0 &&
	    strcasecmp(v, "reject") != 0) {
		xasprintf(cause, "blocktype = \"%s\": drop or reject", v);
		return -1;
	}
	n->reject = v != NULL && strcasecmp(v, "reject") == 0;
	if (action_nft_opt_bool(
	        a, "flush_on_stop", 0, &n->flush_on_stop, cause) != 0 ||
	    action_nft_opt_bool(a, "evict", 1, &n->evict, cause) != 0)
		return -1;
	v = action_nft_opt(a, "family");
	if (v != NULL && strcmp(v, "inet") != 0) {
		xasprintf(cause, "family = \"%s\": only inet is supported", v);
		return -1;
	}
	v = action_nft_opt(a, "table");
	if (v == NULL)
		v = "jaild";
	if (!action_nft_ident_ok(v)) {
		xasprintf(cause, "table = \"%s\": not an nft identifier", v);
		return -1;
	}
	free(n->table);
	n->table = xstrdup(v);
	/* A suffix on every name keeps jail names off nft's keywords. */
	base = action_nft_name(a->jail->name);
	free(n->chain);
	xasprintf(&n->chain, "%s_in", base);
	for (i = 0; i < ACTION_NFT_NSETS; i++) {
		free(n->sets[i]);
		xasprintf(&n->sets[i], "%s%s", base, action_nft_suffix[i]);
	}
	free(base);
	return 0;
}

/* The first line of nft's error output, without "Error: "; allocated. */
static char *
action_nft_error(struct nft_ctx *nft)
{
	const char *e = nft_ctx_get_error_buffer(nft);
	size_t len;

	if (e == NULL || *e == '\0')
		return xstrdup("unknown nftables error");
	if (strncmp(e, "netlink: ", 9) == 0)
		e += 9;
	if (strncmp(e, "Error: ", 7) == 0)
		e += 7;
	/* nft echoes the command after the message: it may be huge. */
	len = strcspn(e, "\n");
	return xstrndup(e, len > 300 ? 300 : len);
}

/* Run buf (commands, one a line) as one transaction; -1 with *cause. */
static int
action_nft_run(struct action_nft *n, const char *buf, char **cause)
{
	int rc;

	rc = nft_run_cmd_from_buffer(n->nft, buf);
	if (rc != 0 && cause != NULL)
		*cause = action_nft_error(n->nft);
	(void)nft_ctx_get_output_buffer(n->nft);
	(void)nft_ctx_get_error_buffer(n->nft);
	return rc == 0 ? 0 : -1;
}

/* Make the private state: an nft context with buffered output. */
static struct action_nft *
action_nft_impl_create(char **cause)
{
	struct action_nft *n = xcalloc(1, sizeof *n);

	n->nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (n->nft == NULL) {
		free(n);
		xasprintf(cause, "cannot create an nftables context");
		return NULL;
	}
	if (nft_ctx_buffer_output(n->nft) != 0 ||
	    nft_ctx_buffer_error(n->nft) != 0) {
		nft_ctx_free(n->nft);
		free(n);
		xasprintf(cause, "cannot buffer nftables output");
		return NULL;
	}
	action_nft_buf_reset(&n->buf);
	return n;
}

/* Free the private state. */
static void
action_nft_impl_free(struct action_nft *n)
{
	size_t i;

	if (n == NULL)
		return;
	/* Jobs still running finish without it (see action_nft_evjob). */
	if (n->evjob != NULL)
		n->evjob->n = NULL;
	if (n->sweep != NULL)
		n->sweep->n = NULL;
	if (n->nft != NULL)
		nft_ctx_free(n->nft);
	free(n->table);
	free(n->chain);
	for (i = 0; i < ACTION_NFT_NSETS; i++)
		free(n->sets[i]);
	free(n->match);
	free(n->lports);
	free(n->ops);
	free(n->evq);
	free(n->since);
	free(n->buf.s);
	free(n);
}

/* Render the commands that create table, sets, chain and rules. */
static void
action_nft_render_setup(struct action_nft *n)
{
	struct action_nft_buf *b = &n->buf;
	const char *verdict;
	size_t i;

	verdict = !n->reject    ? "drop"
	          : n->tcp_only ? "reject with tcp reset"
	                        : "reject";
	action_nft_buf_reset(b);
	action_nft_buf_printf(b, "add table inet %s\n", n->table);
	for (i = 0; i < ACTION_NFT_NSETS; i++) {
		action_nft_buf_printf(b,
		    "add set inet %s %s { type %s; flags %stimeout; }\n",
		    n->table, n->sets[i], i % 2 ? "ipv6_addr" : "ipv4_addr",
		    i >= 2 ? "interval," : "");
	}
	action_nft_buf_printf(b,
	    "add chain inet %s %s { type filter hook input priority -10; "
	    "policy accept; }\nflush chain inet %s %s\n",
	    n->table, n->chain, n->table, n->chain);
	for (i = 0; i < ACTION_NFT_NSETS; i++) {
		action_nft_buf_printf(b,
		    "add rule inet %s %s %s%s saddr @%s counter %s\n", n->table,
		    n->chain, n->match, i % 2 ? "ip6" : "ip", n->sets[i],
		    verdict);
	}
}

/* Create table, sets and chain (idempotent); refill the chain's rules. */
static int
action_nft_start(struct action *a, char **cause)
{
	struct action_nft *n = a->impl;
	char *why = NULL;

	if (n == NULL) {
		if ((n = action_nft_impl_create(&why)) == NULL)
			goto fail;
		a->impl = n;
	}
	if (action_nft_options(a, n, &why) != 0 ||
	    action_nft_match(a, n, &why) != 0)
		goto fail;
	action_nft_render_setup(n);
	/* One transaction: the sets (and their elements) are never flushed. */
	if (action_nft_run(n, n->buf.s, &why) != 0) {
		xasprintf(cause,
		    "jail %s: action %s: cannot set up nftables table inet %s:"
		    " %s%s",
		    a->jail->name, a->conf->name, n->table, why,
		    strstr(why, "not permitted") != NULL
		        ? " (jaild needs CAP_NET_ADMIN)"
		        : "");
		free(why);
		return -1;
	}
	log_debug("%s: %s: chain inet %s %s ready", a->jail->name,
	    a->conf->name, n->table, n->chain);
	return 0;
fail:
	xasprintf(
	    cause, "jail %s: action %s: %s", a->jail->name, a->conf->name, why);
	free(why);
	return -1;
}

/* Which set holds addr: hosts in hash sets, prefixes in interval sets. */
static size_t
action_nft_set_index(const struct addr *addr)
{
	return (addr_is_host(addr) ? 0 : 2) + (addr->family == AF_INET6);
}

/* Queue one element change for the next flush. */
static void
action_nft_queue(struct action_nft *n, const struct addr *addr, int64_t timeout,
    enum action_nft_kind kind)
{
	struct action_nft_op *op;

	if (n->nops == n->capops) {
		n->capops = n->capops ? n->capops * 2 : 64;
		n->ops = xreallocarray(n->ops, n->capops, sizeof *n->ops);
	}
	op = &n->ops[n->nops++];
	op->addr = *addr;
	/* Host bits must be clear or nft refuses the prefix. */
	addr_truncate(&op->addr, op->addr.prefixlen);
	op->timeout = timeout;
	op->kind = kind;
}

/* Check that b carries a usable address; log and count it if not. */
static int
action_nft_check(struct action *a, const struct action_ban *b)
{
	if (a->impl != NULL &&
	    (b->addr.family == AF_INET || b->addr.family == AF_INET6) &&
	    b->addr.prefixlen <= addr_max_prefixlen(&b->addr))
		return 0;
	log_warnx("%s: %s: %s", a->jail->name, a->conf->name,
	    a->impl == NULL ? "not started" : "bad address");
	a->stats.failures++;
	return -1;
}

/* The kernel timeout for a ban ending at end: 0 none, -1 already over. */
static int64_t
action_nft_timeout(time_t end, time_t now)
{
	if (end == 0)
		return 0;
	if (end <= now)
		return -1;
	/* Longer than nft allows: jaild's own expiry timer lifts it. */
	if ((int64_t)(end - now) > ACTION_NFT_TIMEOUT_MAX)
		return 0;
	return (int64_t)(end - now);
}

/* Queue a ban (and its eviction) for the next flush. */
static void
action_nft_ban(struct action *a, const struct action_ban *b)
{
	struct action_nft *n = a->impl;
	int64_t t;

	if (action_nft_check(a, b) != 0)
		return;
	if ((t = action_nft_timeout(b->end, time(NULL))) == -1) {
		log_debug(
		    "%s: %s: ban already over", a->jail->name, a->conf->name);
		return;
	}
	action_nft_queue(n, &b->addr, t, ACTION_NFT_ADD);
	a->stats.bans++;
	if (n->sweep != NULL && addr_is_host(&b->addr)) {
		/* The sweep's dump may predate this ban: keep it. */
		if (n->nsince == n->capsince) {
			n->capsince = n->capsince ? n->capsince * 2 : 16;
			n->since = xreallocarray(
			    n->since, n->capsince, sizeof *n->since);
		}
		n->since[n->nsince++] = b->addr;
	}
	if (!n->evict || !n->tcp)
		return;
	if (n->nevq == n->capevq) {
		n->capevq = n->capevq ? n->capevq * 2 : 16;
		n->evq = xreallocarray(n->evq, n->capevq, sizeof *n->evq);
	}
	n->evq[n->nevq++] = n->ops[n->nops - 1].addr;
}

/* Queue an unban for the next flush. */
static void
action_nft_unban(struct action *a, const struct action_ban *b)
{
	if (action_nft_check(a, b) != 0)
		return;
	action_nft_queue(a->impl, &b->addr, 0, ACTION_NFT_DEL);
	a->stats.unbans++;
}

/* Render "VERB element" for ops[0..n), all of one set. */
static void
action_nft_render_run(struct action_nft *n, const char *verb,
    const struct action_nft_op *ops, size_t nops, int timeouts)
{
	struct action_nft_buf *b = &n->buf;
	char s[ADDR_STRLEN];
	size_t i;

	action_nft_buf_printf(b, "%s element inet %s %s { ", verb, n->table,
	    n->sets[action_nft_set_index(&ops[0].addr)]);
	for (i = 0; i < nops; i++) {
		/* Only addr_format output, never text from a log line. */
		addr_format(&ops[i].addr, s, sizeof s);
		action_nft_buf_printf(b, "%s%s", i ? ", " : "", s);
		if (timeouts && ops[i].timeout > 0)
			action_nft_buf_printf(
			    b, " timeout %llds", (long long)ops[i].timeout);
	}
	action_nft_buf_printf(b, " }\n");
}

/*
 * Render ops as few commands as order allows: one per run of the same
 * set and kind.  A delete is "add" then "delete" in the same transaction,
 * so an element the kernel already expired cannot fail the batch.
 */
static void
action_nft_render_ops(
    struct action_nft *n, const struct action_nft_op *ops, size_t nops)
{
	size_t i, j, set;

	action_nft_buf_reset(&n->buf);
	for (i = 0; i < nops; i = j) {
		set = action_nft_set_index(&ops[i].addr);
		for (j = i + 1; j < nops && ops[j].kind == ops[i].kind &&
		                action_nft_set_index(&ops[j].addr) == set;
		     j++)
			;
		if (ops[i].kind == ACTION_NFT_ADD)
			action_nft_render_run(n, "add", ops + i, j - i, 1);
		else {
			action_nft_render_run(n, "add", ops + i, j - i, 0);
			action_nft_render_run(n, "delete", ops + i, j - i, 0);
		}
	}
}

/* Report one change that failed alone; a delete is retried plainly. */
static void
action_nft_send_one(struct action *a, const struct action_nft_op *op, char *why)
{
	struct action_nft *n = a->impl;
	char s[ADDR_STRLEN];

	addr_format(&op->addr, s, sizeof s);
	if (op->kind == ACTION_NFT_DEL) {
		free(why);
		why = NULL;
		action_nft_buf_reset(&n->buf);
		action_nft_render_run(n, "delete", op, 1, 0);
		if (action_nft_run(n, n->buf.s, &why) == 0)
			return;
		if (strstr(why, "No such file") != NULL) {
			log_debug("%s: %s: %s already gone", a->jail->name,
			    a->conf->name, s);
			free(why);
			return;
		}
	}
	log_warnx("%s: %s: cannot %s %s: %s", a->jail->name, a->conf->name,
	    op->kind == ACTION_NFT_ADD ? "ban" : "unban", s, why);
	a->stats.failures++;
	free(why);
}

/*
 * Send ops in one transaction.  If the kernel refuses it (one bad element
 * fails the whole batch), halve it until the culprits stand alone, so
 * every good change still lands in a few transactions.
 */
static void
action_nft_send(struct action *a, const struct action_nft_op *ops, size_t nops)
{
	struct action_nft *n = a->impl;
	char *why = NULL;

	if (nops == 0)
		return;
	action_nft_render_ops(n, ops, nops);
	if (action_nft_run(n, n->buf.s, &why) == 0)
		return;
	if (nops == 1) {
		action_nft_send_one(a, ops, why);
		return;
	}
	log_debug("%s: %s: batch of %zu refused (%s), splitting", a->jail->name,
	    a->conf->name, nops, why);
	free(why);
	action_nft_send(a, ops, nops / 2);
	action_nft_send(a, ops + nops / 2, nops - nops / 2);
}

/* Log and count the connections an eviction destroyed. */
static void
action_nft_evict_report(struct action *a, const struct addr *addrs,
    size_t naddrs, const unsigned *counts)
{
	char s[ADDR_STRLEN];
	uint64_t total = 0;
	size_t i;

	for (i = 0; i < naddrs; i++) {
		if (counts[i] == 0)
			continue;
		addr_format(&addrs[i], s, sizeof s);
		log_info("%s: %s: evicted %u connection%s from %s",
		    a->jail->name, a->conf->name, counts[i],
		    counts[i] == 1 ? "" : "s", s);
		total += counts[i];
	}
	a->stats.evicted += total;
}

/* Worker: destroy the held connections of the job's addresses. */
static void
action_nft_evjob_work(uv_work_t *req)
{
	struct action_nft_evjob *j = req->data;

	j->rc = sockdiag_destroy_from_list(
	    j->addrs, j->naddrs, j->lports, j->nlports, j->counts, &j->why);
}

static void action_nft_evict_start(struct action *);

/* Loop: report a finished eviction, then start the one queued meanwhile. */
static void
action_nft_evjob_done(uv_work_t *req, int status)
{
	struct action_nft_evjob *j = req->data;
	struct action_nft *n = j->n;
	struct action *a = j->a;

	if (n != NULL) {
		if (n->evjob == j)
			n->evjob = NULL;
		if (j->rc != 0 || status != 0) {
			log_warnx("%s: %s: cannot evict connections: %s",
			    a->jail->name, a->conf->name,
			    j->why != NULL ? j->why : uv_strerror(status));
			a->stats.failures++;
		}
		action_nft_evict_report(a, j->addrs, j->naddrs, j->counts);
	}
	free(j->addrs);
	free(j->lports);
	free(j->counts);
	free(j->why);
	free(j);
	if (n != NULL && n->nevq != 0 && n->evjob == NULL)
		action_nft_evict_start(a);
}

/*
 * Hand the queued addresses to one worker job (in this thread if the
 * action has no loop).  The firewall already drops them: the job only
 * frees the slots they hold, so it may lag the ban by a few ms.
 */
static void
action_nft_evict_start(struct action *a)
{
	struct action_nft *n = a->impl;
	struct action_nft_evjob *j = xcalloc(1, sizeof *j);

	j->a = a;
	j->n = n;
	j->addrs = n->evq;
	j->naddrs = n->nevq;
	n->evq = NULL;
	n->nevq = n->capevq = 0;
	if (n->nlports != 0) {
		j->lports = xreallocarray(NULL, n->nlports, sizeof *j->lports);
		memcpy(j->lports, n->lports, n->nlports * sizeof *j->lports);
		j->nlports = n->nlports;
	}
	j->counts = xcalloc(j->naddrs, sizeof *j->counts);
	j->req.data = j;
	if (a->loop == NULL ||
	    uv_queue_work(a->loop, &j->req, action_nft_evjob_work,
	        action_nft_evjob_done) != 0) {
		action_nft_evjob_work(&j->req);
		action_nft_evjob_done(&j->req, 0);
		return;
	}
	n->evjob = j;
}

/*
 * Send everything queued this turn in one batch, then evict off the
 * loop: one job at a time, bans of later turns wait for the next.
 */
static void
action_nft_flush(struct action *a)
{
	struct action_nft *n = a->impl;

	if (n == NULL)
		return;
	if (n->nops != 0) {
		action_nft_send(a, n->ops, n->nops);
		n->nops = 0;
	}
	if (n->nevq != 0 && n->evjob == NULL)
		action_nft_evict_start(a);
}

/* Send what is queued; delete chain and sets only if flush_on_stop. */
static void
action_nft_stop(struct action *a)
{
	struct action_nft *n = a->impl;
	char *why = NULL;
	size_t i;

	if (n == NULL)
		return;
	action_nft_flush(a);
	if (!n->flush_on_stop)
		return;
	action_nft_buf_reset(&n->buf);
	action_nft_buf_printf(&n->buf,
	    "flush chain inet %s %s\ndelete chain inet %s %s\n", n->table,
	    n->chain, n->table, n->chain);
	for (i = 0; i < ACTION_NFT_NSETS; i++)
		action_nft_buf_printf(
		    &n->buf, "delete set inet %s %s\n", n->table, n->sets[i]);
	if (action_nft_run(n, n->buf.s, &why) != 0) {
		log_warnx("%s: %s: cannot remove chain and sets: %s",
		    a->jail->name, a->conf->name, why);
		free(why);
	}
}

/* Read the elements of set i with their time left, unsorted. */
static int
action_nft_have_set(struct action_nft *n, size_t i, struct nftset_elem **out,
    size_t *nout, char **cause)
{
	size_t odd = 0;

	if (nftset_list(n->table, n->sets[i], i % 2 ? AF_INET6 : AF_INET,
	        i >= 2, out, nout, &odd, cause) != 0)
		return -1;
	if (odd != 0)
		log_warnx("set %s: ignoring %zu elements jaild did not add",
		    n->sets[i], odd);
	return 0;
}

/* Read the elements of all four sets, with their time left, unsorted. */
static int
action_nft_have(
    struct action_nft *n, struct nftset_elem **out, size_t *nout, char **cause)
{
	struct nftset_elem *e;
	size_t i, ne;

	*out = NULL;
	*nout = 0;
	for (i = 0; i < ACTION_NFT_NSETS; i++) {
		if (action_nft_have_set(n, i, &e, &ne, cause) != 0) {
			free(*out);
			*out = NULL;
			*nout = 0;
			return -1;
		}
		*out = xreallocarray(*out, *nout + ne + 1, sizeof **out);
		if (ne != 0)
			memcpy(*out + *nout, e, ne * sizeof *e);
		*nout += ne;
		free(e);
	}
	return 0;
}

/* Read the elements of all four sets (see action_nft.h). */
int
action_nft_list(struct action *a, struct addr **out, size_t *n, char **cause)
{
	struct nftset_elem *e;
	size_t i;

	*out = NULL;
	*n = 0;
	if (a->impl == NULL) {
		xasprintf(cause, "action not started");
		return -1;
	}
	if (action_nft_have(a->impl, &e, n, cause) != 0)
		return -1;
	*out = xcalloc(*n ? *n : 1, sizeof **out);
	for (i = 0; i < *n; i++)
		(*out)[i] = e[i].addr;
	free(e);
	return 0;
}

static int
action_nft_elem_cmp(const void *a, const void *b)
{
	const struct nftset_elem *x = a, *y = b;

	return addr_cmp(&x->addr, &y->addr);
}

static int
action_nft_op_cmp(const void *a, const void *b)
{
	const struct action_nft_op *x = a, *y = b;

	return addr_cmp(&x->addr, &y->addr);
}

/* The bans still running, as sorted unique adds (the longest ban wins). */
static struct action_nft_op *
action_nft_wanted(const struct action_ban *bans, size_t n, size_t *nout)
{
	struct action_nft_op *w = xcalloc(n ? n : 1, sizeof *w);
	time_t now = time(NULL);
	size_t i, k = 0;
	int64_t t;

	for (i = 0; i < n; i++) {
		t = action_nft_timeout(bans[i].end, now);
		if (t == -1 || (bans[i].addr.family != AF_INET &&
		                   bans[i].addr.family != AF_INET6))
			continue;
		w[k].addr = bans[i].addr;
		addr_truncate(&w[k].addr, w[k].addr.prefixlen);
		w[k].timeout = t;
		w[k++].kind = ACTION_NFT_ADD;
	}
	qsort(w, k, sizeof *w, action_nft_op_cmp);
	for (i = 0, *nout = 0; i < k; i++) {
		if (*nout > 0 && addr_equal(&w[*nout - 1].addr, &w[i].addr)) {
			if (w[*nout - 1].timeout != 0 &&
			    (w[i].timeout == 0 ||
			        w[i].timeout > w[*nout - 1].timeout))
				w[*nout - 1].timeout = w[i].timeout;
			continue;
		}
		w[(*nout)++] = w[i];
	}
	return w;
}

/* Whether the kernel's time left for e matches the wanted timeout t. */
static int
action_nft_same_timeout(const struct nftset_elem *e, int64_t t)
{
	int64_t left = (int64_t)(e->expires_ms / 1000);

	if (t == 0 || e->expires_ms == 0)
		return t == 0 && e->expires_ms == 0;
	return left - t <= ACTION_NFT_SLACK && t - left <= ACTION_NFT_SLACK;
}

/*
 * Queue into ops what makes have (sorted) equal want (sorted): deletes of
 * what the store lacks, adds of what the kernel lacks, and re-adds where
 * the kernel's timeout is off (a re-add sets the new timeout).  Elements
 * already right are left alone: a normal restart sends nearly nothing.
 */
static size_t
action_nft_diff(const struct nftset_elem *have, size_t nhave,
    const struct action_nft_op *want, size_t nwant, struct action_nft_op *ops,
    size_t *missing, size_t *stale)
{
	size_t i = 0, j = 0, k = 0;
	int c;

	*missing = *stale = 0;
	while (i < nhave || j < nwant) {
		if (i == nhave)
			c = 1;
		else if (j == nwant)
			c = -1;
		else
			c = addr_cmp(&have[i].addr, &want[j].addr);
		if (c < 0) {
			ops[k].addr = have[i++].addr;
			ops[k].timeout = 0;
			ops[k++].kind = ACTION_NFT_DEL;
			(*stale)++;
			continue;
		}
		if (c > 0)
			(*missing)++;
		if (c > 0 ||
		    !action_nft_same_timeout(&have[i], want[j].timeout))
			ops[k++] = want[j];
		if (c == 0)
			i++;
		j++;
	}
	return k;
}

static int
action_nft_addr_cmp(const void *a, const void *b)
{
	return addr_cmp(a, b);
}

/* Worker: dump the hash sets, twice if a change interrupted the first. */
static void
action_nft_sweep_work(uv_work_t *req)
{
	struct action_nft_sweep *sw = req->data;
	struct nftset_elem *e;
	size_t i, ne, try;
	int intr;

	for (i = 0; i < 2; i++) {
		for (try = 0; try < 2; try++) {
			if (nftset_list_loose(sw->table, sw->sets[i],
			        i ? AF_INET6 : AF_INET, &e, &ne, &intr,
			        &sw->why) != 0) {
				sw->rc = -1;
				return;
			}
			sw->have = xreallocarray(
			    sw->have, sw->nhave + ne + 1, sizeof *sw->have);
			memcpy(sw->have + sw->nhave, e, ne * sizeof *e);
			sw->nhave += ne;
			free(e);
			sw->interrupted = intr;
			if (!intr)
				break;
		}
	}
}

/* Delete what the sweep found that neither the store nor a later ban has. */
static void
action_nft_sweep_apply(struct action_nft_sweep *sw)
{
	struct action_nft *n = sw->n;
	struct action_nft_op *ops;
	const struct addr *x;
	size_t i, k = 0;

	ops = xcalloc(sw->nhave + 1, sizeof *ops);
	if (n->nsince > 1)
		qsort(
		    n->since, n->nsince, sizeof *n->since, action_nft_addr_cmp);
	for (i = 0; i < sw->nhave; i++) {
		x = &sw->have[i].addr;
		if (bsearch(x, sw->want, sw->nwant, sizeof *sw->want,
		        action_nft_addr_cmp) != NULL ||
		    (n->nsince != 0 &&
		        bsearch(x, n->since, n->nsince, sizeof *n->since,
		            action_nft_addr_cmp) != NULL))
			continue;
		ops[k].addr = *x;
		ops[k++].kind = ACTION_NFT_DEL;
	}
	/* A twice-read dump repeats elements: delete each once. */
	qsort(ops, k, sizeof *ops, action_nft_op_cmp);
	for (i = 0, sw->nhave = 0; i < k; i++) {
		if (sw->nhave == 0 ||
		    !addr_equal(&ops[sw->nhave - 1].addr, &ops[i].addr))
			ops[sw->nhave++] = ops[i];
	}
	/*
	 * Never empty the kernel's sets on the word of a store that is new,
	 * or that lacks far more than it holds (replaced by an old copy):
	 * its bans may be all that stops those hosts.
	 */
	if ((sw->keep && sw->nhave > 0) ||
	    (sw->nhave > ACTION_NFT_SWEEP_DOUBT && sw->nhave > sw->nwant)) {
		log_warnx("%s: %s: stale sweep: the kernel holds %zu hosts "
		          "the store does not (it has %zu%s): kept, they "
		          "leave at their kernel timeouts",
		    sw->a->jail->name, sw->a->conf->name, sw->nhave, sw->nwant,
		    sw->keep ? ", and is new" : "");
		free(ops);
		return;
	}
	action_nft_send(sw->a, ops, sw->nhave);
	log_info("%s: %s: stale sweep: %zu hosts removed%s", sw->a->jail->name,
	    sw->a->conf->name, sw->nhave,
	    sw->interrupted ? " (the sets changed while read)" : "");
	free(ops);
}

/* Loop: apply a finished sweep, unless its action is gone or restored. */
static void
action_nft_sweep_done(uv_work_t *req, int status)
{
	struct action_nft_sweep *sw = req->data;
	struct action_nft *n = sw->n;

	if (n != NULL) {
		n->sweep = NULL;
		if (sw->rc != 0 || status != 0) {
			log_warnx("%s: %s: stale sweep: %s", sw->a->jail->name,
			    sw->a->conf->name,
			    sw->why != NULL ? sw->why : uv_strerror(status));
			sw->a->stats.failures++;
		} else
			action_nft_sweep_apply(sw);
		n->nsince = 0;
	}
	free(sw->want);
	free(sw->table);
	free(sw->sets[0]);
	free(sw->sets[1]);
	free(sw->have);
	free(sw->why);
	free(sw);
}

/*
 * Find and delete the hosts the kernel holds and the store does not,
 * after the restore's adds (so there is no gap), off the loop: the dump
 * takes over a second at 100,000 elements.  want: sorted.
 */
static void
action_nft_sweep_start(
    struct action *a, const struct action_nft_op *want, size_t nwant)
{
	struct action_nft *n = a->impl;
	struct action_nft_sweep *sw = xcalloc(1, sizeof *sw);
	size_t i;

	sw->a = a;
	sw->n = n;
	sw->keep = a->keep_unknown;
	sw->want = xcalloc(nwant + 1, sizeof *sw->want);
	for (i = 0; i < nwant; i++) {
		if (addr_is_host(&want[i].addr))
			sw->want[sw->nwant++] = want[i].addr;
	}
	sw->table = xstrdup(n->table);
	sw->sets[0] = xstrdup(n->sets[0]);
	sw->sets[1] = xstrdup(n->sets[1]);
	if (n->sweep != NULL)
		n->sweep->n =
		    NULL; /* an older restore's: this one replaces it */
	n->sweep = sw;
	n->nsince = 0;
	sw->req.data = sw;
	if (a->loop == NULL ||
	    uv_queue_work(a->loop, &sw->req, action_nft_sweep_work,
	        action_nft_sweep_done) != 0) {
		action_nft_sweep_work(&sw->req);
		action_nft_sweep_done(&sw->req, 0);
	}
}

/*
 * Queue into ops the hosts of want (sorted) in set i that the kernel
 * lacks or holds with a wrong timeout, found by key: linear, where a
 * dump of the set is quadratic.  Returns how many were queued.
 */
static size_t
action_nft_restore_hosts(struct action *a, const struct action_nft_op *want,
    size_t nwant, size_t set, struct action_nft_op *ops, size_t *missing)
{
	struct action_nft *n = a->impl;
	struct nftset_elem e = {0};
	struct addr *keys = xcalloc(nwant + 1, sizeof *keys);
	size_t *idx = xcalloc(nwant + 1, sizeof *idx), i, nk = 0, k = 0;
	uint64_t *left;
	uint8_t *found;
	char *why = NULL;

	for (i = 0; i < nwant; i++) {
		if (action_nft_set_index(&want[i].addr) == set) {
			idx[nk] = i;
			keys[nk++] = want[i].addr;
		}
	}
	found = xcalloc(nk + 1, 1);
	left = xcalloc(nk + 1, sizeof *left);
	if (nftset_get(n->table, n->sets[set], set ? AF_INET6 : AF_INET, keys,
	        nk, found, left, &why) != 0) {
		log_warnx("%s: %s: adding every ban: %s", a->jail->name,
		    a->conf->name, why);
		free(why);
		memset(found, 0, nk);
	}
	for (i = 0; i < nk; i++) {
		e.expires_ms = left[i];
		if (!found[i])
			(*missing)++;
		if (!found[i] ||
		    !action_nft_same_timeout(&e, want[idx[i]].timeout))
			ops[k++] = want[idx[i]];
	}
	free(keys);
	free(idx);
	free(found);
	free(left);
	return k;
}

/* Keep only the adds and refreshes of ops[0..k); returns how many. */
static size_t
action_nft_drop_dels(struct action_nft_op *ops, size_t k)
{
	size_t i, n = 0;

	for (i = 0; i < k; i++) {
		if (ops[i].kind != ACTION_NFT_DEL)
			ops[n++] = ops[i];
	}
	return n;
}

/*
 * Queue into ops what makes prefix set i hold exactly the prefixes of
 * want (sorted): a dump and a diff, as prefix sets stay small.
 */
static size_t
action_nft_restore_prefixes(struct action *a, const struct action_nft_op *want,
    size_t nwant, size_t set, struct action_nft_op **ops, size_t *nops,
    size_t *missing, size_t *stale)
{
	struct action_nft *n = a->impl;
	struct action_nft_op *w = xcalloc(nwant + 1, sizeof *w);
	struct nftset_elem *have = NULL;
	size_t i, nw = 0, nhave = 0, k, m, st;
	char *why = NULL;

	for (i = 0; i < nwant; i++) {
		if (action_nft_set_index(&want[i].addr) == set)
			w[nw++] = want[i];
	}
	if (action_nft_have_set(n, set, &have, &nhave, &why) != 0) {
		log_warnx("%s: %s: cannot read set %s, adding every ban: %s",
		    a->jail->name, a->conf->name, n->sets[set], why);
		free(why);
	}
	if (nhave > 1)
		qsort(have, nhave, sizeof *have, action_nft_elem_cmp);
	*ops = xreallocarray(*ops, *nops + nhave + nw + 1, sizeof **ops);
	k = action_nft_diff(have, nhave, w, nw, *ops + *nops, &m, &st);
	if (a->keep_unknown && st > 0) {
		k = action_nft_drop_dels(*ops + *nops, k);
		log_warnx("%s: %s: the store is new: %zu prefixes it lacks "
		          "kept in set %s",
		    a->jail->name, a->conf->name, st, n->sets[set]);
		st = 0;
	}
	*nops += k;
	*missing += m;
	*stale += st;
	free(w);
	free(have);
	return k;
}

/*
 * Make the sets hold exactly bans, with their remaining time: nothing is
 * flushed, so a banned address is never let in while this runs, and
 * nothing already right is touched.  Hosts are checked by key and the
 * prefix sets diffed, on the critical path; stale hosts are swept after.
 */
static void
action_nft_restore(
    struct action *a, const struct action_ban *bans, size_t nbans)
{
	struct action_nft *n = a->impl;
	struct action_nft_op *want, *ops;
	size_t nwant, k = 0, i, missing = 0, stale = 0;

	if (n == NULL)
		return;
	want = action_nft_wanted(bans, nbans, &nwant);
	ops = xcalloc(nwant + 1, sizeof *ops);
	for (i = 0; i < 2; i++)
		k += action_nft_restore_hosts(
		    a, want, nwant, i, ops + k, &missing);
	for (i = 2; i < ACTION_NFT_NSETS; i++)
		action_nft_restore_prefixes(
		    a, want, nwant, i, &ops, &k, &missing, &stale);
	action_nft_send(a, ops, k);
	log_info("%s: %s: %zu ban%s in the firewall (%zu missing added, %zu "
	         "timeouts refreshed, %zu stale prefixes removed)",
	    a->jail->name, a->conf->name, nwant, nwant == 1 ? "" : "s", missing,
	    k - stale - missing, stale);
	free(ops);
	action_nft_sweep_start(a, want, nwant);
	free(want);
}

/* Free the private state; the struct action itself is action_free's. */
static void
action_nft_free(struct action *a)
{
	action_nft_impl_free(a->impl);
	a->impl = NULL;
}

const struct action_ops action_nft_ops = {
    .name = "nftables",
    .start = action_nft_start,
    .stop = action_nft_stop,
    .ban = action_nft_ban,
    .unban = action_nft_unban,
    .restore = action_nft_restore,
    .flush = action_nft_flush,
    .free = action_nft_free,
};
