/* Shell actions: render fail2ban action commands and run them through sh. */
#include <sys/queue.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "action_shell.h"
#include "addr.h"
#include "conf_table.h"
#include "duration.h"
#include "log.h"
#include "xmalloc.h"

/*
 * How values from outside reach a command (the safety argument).
 *
 * Admin text (the action file, the jail's parameters) is shell code and is
 * copied as written.  Per-ban values are of two kinds:
 *
 * - Values whose every byte is known to be inert in any shell context are
 *   inserted as text: the address (validated by an addr_format ->
 *   addr_parse round-trip, then checked to hold only [0-9a-f.:/]), the
 *   integers (<bantime>, <failures>, <time>) and <family>.
 *
 * - Free text (<matches>, <F-*> values, an odd jail name) is never put in
 *   the command line.  It goes into the child's environment (F2B_MATCHES,
 *   ...) and the command gets a reference to the variable.  The shell
 *   never parses the result of a parameter expansion as code, so whatever
 *   the value holds ($(...), `...`, ;, quotes, newlines) it cannot run a
 *   command; the worst a template can do is split or glob it.  To keep the
 *   value one intact word, the reference is spelled for the quoting context
 *   the template puts it in, tracked by a small lexer: "${V}" unquoted,
 *   ${V} inside "...", and '"${V}"' inside '...' (close, expand, reopen).
 *   The reference is made only of [A-Z0-9_${}"'], so even a lexer mistake
 *   can change how the admin's own text parses, never inject the value.
 *
 * The limit of that argument: it holds for the shell jaild starts.  A
 * template that hands the expanded value to a second shell (sh -c "...
 * <matches>", eval, ssh host "...") has that shell parse log text as
 * code, and nothing here can prevent it.  action_shell_nested spots the
 * common shapes, and the config check warns about them.
 */

#define ACTION_SHELL_DEPTH 16 /* var nesting limit */
#define ACTION_SHELL_MAXLEN (256 * 1024) /* rendered command limit */
#define ACTION_SHELL_MAXENV (32 * 1024) /* bytes of matches passed on */
#define ACTION_SHELL_OUTPUT 4096 /* command output kept for the log */
#define ACTION_SHELL_KILLWAIT 2000 /* ms from SIGTERM to SIGKILL */
#define ACTION_SHELL_EOFWAIT 1000 /* ms to wait for output after exit */
#define ACTION_SHELL_LEXDEPTH 32

enum action_shell_q {
	ACTION_SHELL_Q_NONE, /* unquoted, also inside $(...) and `...` */
	ACTION_SHELL_Q_SINGLE,
	ACTION_SHELL_Q_DOUBLE,
	ACTION_SHELL_Q_SUBST, /* $( ... ) */
	ACTION_SHELL_Q_BACKQ /* ` ... ` */
};

/* Where the rendered text so far leaves the shell's quoting. */
struct action_shell_lex {
	int state[ACTION_SHELL_LEXDEPTH];
	int parens[ACTION_SHELL_LEXDEPTH];
	size_t open[ACTION_SHELL_LEXDEPTH]; /* where each level began */
	size_t pos; /* offset of the byte being lexed */
	int depth;
	int esc;
	int dollar;
};

/* A command being rendered. */
struct action_shell_out {
	char *buf;
	size_t len;
	size_t cap;
	struct action_shell_lex lex;
	const struct action_conf *ac;
	const struct jail_conf *jc;
	const struct action_ban *b;
	const char *stack[ACTION_SHELL_DEPTH]; /* vars being expanded */
	int depth;
	char *cause;
	char *nested; /* a log-filled tag a second shell parses, or NULL */
};

enum action_shell_kind {
	ACTION_SHELL_START,
	ACTION_SHELL_STOP,
	ACTION_SHELL_BAN,
	ACTION_SHELL_UNBAN,
	ACTION_SHELL_NOTIFY, /* a saturation episode: run once, not retried */
	ACTION_SHELL_CHECK /* before bans; failure runs actionstart again */
};

static const char *action_shell_kinds[] = {"actionstart", "actionstop",
    "actionban", "actionunban", "actionnotify", "actioncheck"};

struct action_shell_run;

/* One queued command, run until it succeeds or its attempts are used. */
struct action_shell_job {
	TAILQ_ENTRY(action_shell_job) entry;
	struct action_shell *sh;
	enum action_shell_kind kind;
	char *cmd;
	char **env;
	char *what; /* "actionban 1.2.3.4", for the log */
	int attempt;
	int busy; /* running or waiting to retry */
	uv_timer_t retry;
	int retry_open;
	struct action_shell_run *run;
};
TAILQ_HEAD(action_shell_jobs, action_shell_job);

enum action_shell_phase {
	ACTION_SHELL_RUNNING,
	ACTION_SHELL_TERMSENT,
	ACTION_SHELL_KILLSENT,
	ACTION_SHELL_EXITED
};

/*
 * One process.  It outlives its job when the action is freed while the
 * command runs: it then kills the process and frees itself once every
 * handle is closed.
 */
struct action_shell_run {
	struct action_shell_job *job;
	uv_process_t proc;
	uv_pipe_t out;
	uv_timer_t timer;
	int nopen;
	int pid;
	enum action_shell_phase phase;
	int exited;
	int eof;
	int timedout;
	int64_t status;
	int termsig;
	char buf[ACTION_SHELL_OUTPUT];
	size_t len;
	int truncated;
};

struct action_shell {
	struct action *a;
	struct action_shell_jobs jobs;
	size_t njobs;
	struct action_shell_job *check; /* an actioncheck not yet started */
	int attempts;
	uint64_t backoff_ms;
};

extern char **environ;

static int action_shell_expand(struct action_shell_out *, const char *);
static void action_shell_next(struct action_shell *);
static void action_shell_run_close(struct action_shell_run *);
static void action_shell_repair(struct action *, struct action_shell_job *);

/* Move the quoting lexer over one byte of admin text. */
static void
action_shell_lex(struct action_shell_lex *lx, char c)
{
	int *top = &lx->state[lx->depth];
	int dollar = lx->dollar;

	lx->dollar = 0;
	if (lx->esc) {
		lx->esc = 0;
		return;
	}
	if (*top == ACTION_SHELL_Q_SINGLE) {
		if (c == '\'' && lx->depth > 0)
			lx->depth--;
		return;
	}
	if (c == '\\') {
		lx->esc = 1;
		return;
	}
	if (c == '$') {
		lx->dollar = 1;
		return;
	}
	if (*top == ACTION_SHELL_Q_DOUBLE && c == '"' && lx->depth > 0) {
		lx->depth--;
		return;
	}
	if (*top == ACTION_SHELL_Q_BACKQ && c == '`' && lx->depth > 0) {
		lx->depth--;
		return;
	}
	if (*top == ACTION_SHELL_Q_SUBST && c == ')' && lx->depth > 0) {
		if (lx->parens[lx->depth]-- == 0)
			lx->depth--;
		return;
	}
	if (*top == ACTION_SHELL_Q_SUBST && c == '(' && !dollar) {
		lx->parens[lx->depth]++;
		return;
	}
	if (lx->depth + 1 >= ACTION_SHELL_LEXDEPTH)
		return;
	if (c == '(' && dollar)
		lx->state[++lx->depth] = ACTION_SHELL_Q_SUBST;
	else if (c == '`')
		lx->state[++lx->depth] = ACTION_SHELL_Q_BACKQ;
	else if (c == '"' && *top != ACTION_SHELL_Q_DOUBLE)
		lx->state[++lx->depth] = ACTION_SHELL_Q_DOUBLE;
	else if (c == '\'' && *top != ACTION_SHELL_Q_DOUBLE)
		lx->state[++lx->depth] = ACTION_SHELL_Q_SINGLE;
	else
		return;
	lx->parens[lx->depth] = 0;
	lx->open[lx->depth] = lx->pos;
}

/* Append n bytes to the command; admin text also moves the lexer. */
static int
action_shell_put(struct action_shell_out *o, const char *s, size_t n, int lex)
{
	size_t i;

	if (o->len + n > ACTION_SHELL_MAXLEN) {
		xasprintf(&o->cause, "command longer than %d bytes",
		    ACTION_SHELL_MAXLEN);
		return -1;
	}
	if (o->len + n + 1 > o->cap) {
		while (o->len + n + 1 > o->cap)
			o->cap = o->cap ? o->cap * 2 : 256;
		o->buf = xreallocarray(o->buf, 1, o->cap);
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
	for (i = 0; lex && i < n; i++) {
		o->lex.pos = o->len - n + i;
		action_shell_lex(&o->lex, s[i]);
	}
	return 0;
}

/* True for a word that makes the words after it a second shell's code. */
static int
action_shell_word_runs(const char *w, size_t n)
{
	size_t i;

	if ((n == 4 && strncmp(w, "eval", 4) == 0) ||
	    (n >= 3 && strncmp(w + n - 3, "ssh", 3) == 0 &&
	        (n == 3 || w[n - 4] == '/')))
		return 1;
	/* -c, and bundles such as -ec or -lc: sh, bash, su, python ... */
	if (n < 2 || w[0] != '-' || w[1] == '-' || w[n - 1] != 'c')
		return 0;
	for (i = 1; i < n; i++)
		if (!((w[i] >= 'a' && w[i] <= 'z') ||
		        (w[i] >= 'A' && w[i] <= 'Z')))
			return 0;
	return 1;
}

/*
 * Tell whether a value put here reaches a second shell as code: the words
 * of the command around it, up to the quoted string that holds it, include
 * eval, ssh or a -c option (sh -c "... <matches>").  A heuristic for
 * the config check: it looks back to the last ; | & ( ` or newline.
 */
static int
action_shell_nested(const struct action_shell_out *o)
{
	const struct action_shell_lex *lx = &o->lex;
	size_t end = o->len, start, i, w;
	int d = lx->depth;

	while (d > 0 && (lx->state[d] == ACTION_SHELL_Q_SINGLE ||
	                    lx->state[d] == ACTION_SHELL_Q_DOUBLE))
		end = lx->open[d--];
	for (start = end; start > 0; start--)
		if (strchr(";|&(`\n", o->buf[start - 1]) != NULL)
			break;
	for (i = start; i < end;) {
		while (i < end && (o->buf[i] == ' ' || o->buf[i] == '\t'))
			i++;
		for (w = i; i < end && o->buf[i] != ' ' && o->buf[i] != '\t';)
			i++;
		if (i > w && action_shell_word_runs(o->buf + w, i - w))
			return 1;
	}
	return 0;
}

/* Note a log-filled tag that a second shell would parse (for the check). */
static void
action_shell_note_nested(
    struct action_shell_out *o, const char *tag, size_t len)
{
	if (o->nested == NULL && action_shell_nested(o))
		xasprintf(&o->nested, "%.*s", (int)len, tag);
}

/* Append a reference to environment variable var, right for the context. */
static int
action_shell_put_ref(struct action_shell_out *o, const char *var)
{
	char ref[64];

	switch (o->lex.state[o->lex.depth]) {
	case ACTION_SHELL_Q_SINGLE:
		snprintf(ref, sizeof ref, "'\"${%s}\"'", var);
		break;
	case ACTION_SHELL_Q_DOUBLE:
		snprintf(ref, sizeof ref, "${%s}", var);
		break;
	default:
		snprintf(ref, sizeof ref, "\"${%s}\"", var);
		break;
	}
	o->lex.dollar = 0;
	return action_shell_put(o, ref, strlen(ref), 0);
}

/* Find var key (len bytes) of the action; later definitions win. */
static const struct config_var *
action_shell_var(const struct action_conf *ac, const char *key, size_t len)
{
	size_t i;

	for (i = ac->nvars; i > 0; i--) {
		if (strlen(ac->vars[i - 1].key) == len &&
		    strncmp(ac->vars[i - 1].key, key, len) == 0)
			return &ac->vars[i - 1];
	}
	return NULL;
}

/* True if s can stand in a command as it is, in any quoting context. */
static int
action_shell_inert(const char *s)
{
	if (*s == '\0')
		return 0;
	return s[strspn(s, "abcdefghijklmnopqrstuvwxyz"
	                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:/@+,=-")] ==
	       '\0';
}

/* Write b's address, checked by a round trip, into buf. */
static int
action_shell_ip(const struct action_ban *b, char *buf, size_t len, char **cause)
{
	struct addr back;

	buf[0] = '\0';
	if (b->addr.family == AF_INET || b->addr.family == AF_INET6)
		addr_format(&b->addr, buf, len);
	if (addr_parse(buf, &back) != 0 || !addr_equal(&back, &b->addr) ||
	    buf[strspn(buf, "0123456789abcdefABCDEF.:/")] != '\0') {
		xasprintf(cause, "invalid address for the command");
		return -1;
	}
	return 0;
}

/* Insert per-ban tag (len bytes at tag); 1 if not one, -1 on error. */
static int
action_shell_ban_tag(struct action_shell_out *o, const char *tag, size_t len)
{
	const struct action_ban *b = o->b;
	char buf[ADDR_STRLEN + 32];

#define ACTION_SHELL_IS(s) (len == strlen(s) && strncmp(tag, s, len) == 0)
	if (ACTION_SHELL_IS("ip") || ACTION_SHELL_IS("ip-host")) {
		if (action_shell_ip(b, buf, sizeof buf, &o->cause) != 0)
			return -1;
	} else if (ACTION_SHELL_IS("family"))
		snprintf(buf, sizeof buf, "%s",
		    b->addr.family == AF_INET6 ? "inet6" : "inet4");
	else if (ACTION_SHELL_IS("bantime"))
		snprintf(buf, sizeof buf, "%lld",
		    b->end == 0 ? -1LL : (long long)(b->end - b->start));
	else if (ACTION_SHELL_IS("failures"))
		snprintf(buf, sizeof buf, "%d", b->failures);
	else if (ACTION_SHELL_IS("time"))
		snprintf(buf, sizeof buf, "%lld", (long long)b->start);
	else if (ACTION_SHELL_IS("matches") || ACTION_SHELL_IS("ipmatches") ||
	         ACTION_SHELL_IS("ipjailmatches")) {
		action_shell_note_nested(o, tag, len);
		return action_shell_put_ref(o, "F2B_MATCHES");
	} else if (len > 2 && strncmp(tag, "F-", 2) == 0) {
		action_shell_note_nested(o, tag, len);
		return 0; /* no captured fields are passed on: empty */
	} else
		return 1;
#undef ACTION_SHELL_IS
	return action_shell_put(o, buf, strlen(buf), 1);
}

/* Insert a tag that needs no ban; 1 if not one, -1 on error. */
static int
action_shell_static_tag(struct action_shell_out *o, const char *tag, size_t len)
{
	const char *name;
	char buf[32];

	if (len == 2 && strncmp(tag, "br", 2) == 0)
		return action_shell_put(o, "\n", 1, 1);
	if (len == 4 && strncmp(tag, "name", 4) == 0) {
		name = o->b != NULL ? o->b->jail : NULL;
		if (name == NULL && o->jc != NULL)
			name = o->jc->name;
		if (name == NULL)
			return 1;
		if (action_shell_inert(name))
			return action_shell_put(o, name, strlen(name), 1);
		return action_shell_put_ref(o, "F2B_JAIL");
	}
	if (len == 7 && strncmp(tag, "bantime", 7) == 0 && o->jc != NULL) {
		snprintf(buf, sizeof buf, "%lld",
		    o->jc->bantime == DURATION_FOREVER
		        ? -1LL
		        : (long long)o->jc->bantime);
		return action_shell_put(o, buf, strlen(buf), 1);
	}
	return 1;
}

/* Replace one <tag>: ban values first, then vars, then the rest. */
static int
action_shell_tag(struct action_shell_out *o, const char *tag, size_t len)
{
	const struct config_var *var;
	int i, rc;

	if (o->b != NULL && (rc = action_shell_ban_tag(o, tag, len)) <= 0)
		return rc;
	if ((var = action_shell_var(o->ac, tag, len)) != NULL) {
		for (i = 0; i < o->depth; i++) {
			if (strlen(o->stack[i]) == len &&
			    strncmp(o->stack[i], tag, len) == 0) {
				xasprintf(&o->cause, "<%.*s> refers to itself",
				    (int)len, tag);
				return -1;
			}
		}
		if (o->depth == ACTION_SHELL_DEPTH) {
			xasprintf(&o->cause, "<%.*s> nests deeper than %d",
			    (int)len, tag, ACTION_SHELL_DEPTH);
			return -1;
		}
		o->stack[o->depth++] = var->key;
		rc = action_shell_expand(o, var->value);
		o->depth--;
		return rc;
	}
	if ((rc = action_shell_static_tag(o, tag, len)) <= 0)
		return rc;
	/* fail2ban leaves an unknown tag as written. */
	return action_shell_put(o, tag - 1, len + 2, 1);
}

/* Copy s to the command, replacing each <tag> (fail2ban: <[^ <>]+>). */
static int
action_shell_expand(struct action_shell_out *o, const char *s)
{
	size_t n;

	while (*s != '\0') {
		if (*s == '<') {
			n = strcspn(s + 1, " \t\r\n<>");
			if (n > 0 && s[1 + n] == '>') {
				if (action_shell_tag(o, s + 1, n) != 0)
					return -1;
				s += n + 2;
				continue;
			}
		}
		n = strcspn(s + 1, "<") + 1;
		if (action_shell_put(o, s, n, 1) != 0)
			return -1;
		s += n;
	}
	return 0;
}

/* Name the jail of a render for error messages. */
static const char *
action_shell_jailname(const struct jail_conf *jc, const struct action_ban *b)
{
	if (jc != NULL && jc->name != NULL)
		return jc->name;
	if (b != NULL && b->jail != NULL)
		return b->jail;
	return "?";
}

/* Render key; *nested (if asked) names a tag a second shell parses. */
static char *
action_shell_render_check(const struct action_conf *ac,
    const struct jail_conf *jc, const char *key, const struct action_ban *b,
    char **cause, char **nested)
{
	const struct config_var *var;
	struct action_shell_out o;

	var = action_shell_var(ac, key, strlen(key));
	if (var == NULL || var->value == NULL)
		return xstrdup("");
	memset(&o, 0, sizeof o);
	o.ac = ac;
	o.jc = jc;
	o.b = b;
	o.stack[o.depth++] = var->key;
	if (action_shell_expand(&o, var->value) != 0)
		goto fail;
	if (nested != NULL)
		*nested = o.nested;
	else
		free(o.nested);
	if (o.buf == NULL)
		return xstrdup("");
	return o.buf;
fail:
	xasprintf(cause, "jail %s: action %s: %s: %s",
	    action_shell_jailname(jc, b), ac->name, key, o.cause);
	free(o.cause);
	free(o.nested);
	free(o.buf);
	return NULL;
}

char *
action_shell_render(const struct action_conf *ac, const struct jail_conf *jc,
    const char *key, const struct action_ban *b, char **cause)
{
	return action_shell_render_check(ac, jc, key, b, cause, NULL);
}

char *
action_shell_quote(const char *s)
{
	size_t n = 2;
	const char *p;
	char *q, *out;

	for (p = s; *p != '\0'; p++)
		n += *p == '\'' ? 4 : 1;
	out = q = xmalloc(n + 1);
	*q++ = '\'';
	for (p = s; *p != '\0'; p++) {
		if (*p == '\'') {
			memcpy(q, "'\\''", 4);
			q += 4;
		} else
			*q++ = *p;
	}
	*q++ = '\'';
	*q = '\0';
	return out;
}

/* Add NAME=value to env at *n (value cut at max bytes). */
static void
action_shell_env_add(
    char **env, size_t *n, const char *name, const char *value, size_t max)
{
	size_t len = strlen(value);

	if (len > max)
		len = max;
	xasprintf(&env[(*n)++], "%s=%.*s", name, (int)len, value);
}

/*
 * Make the child's environment: ours without any F2B_* (so nothing
 * inherited can pose as a ban value) plus this ban's values.
 */
static char **
action_shell_env(const struct action_ban *b, const char *jail)
{
	char **env, buf[ADDR_STRLEN + 32], *ignored = NULL;
	size_t n = 0, i;

	for (i = 0; environ[i] != NULL; i++)
		;
	env = xcalloc(i + 9, sizeof *env);
	for (i = 0; environ[i] != NULL; i++) {
		if (strncmp(environ[i], "F2B_", 4) != 0)
			env[n++] = xstrdup(environ[i]);
	}
	action_shell_env_add(env, &n, "F2B_JAIL", jail, 256);
	if (b == NULL)
		return env;
	if (action_shell_ip(b, buf, sizeof buf, &ignored) == 0)
		action_shell_env_add(env, &n, "F2B_IP", buf, sizeof buf);
	free(ignored);
	action_shell_env_add(env, &n, "F2B_MATCHES",
	    b->matches != NULL ? b->matches : "", ACTION_SHELL_MAXENV);
	snprintf(buf, sizeof buf, "%d", b->failures);
	action_shell_env_add(env, &n, "F2B_FAILURES", buf, sizeof buf);
	snprintf(buf, sizeof buf, "%lld",
	    b->end == 0 ? -1LL : (long long)(b->end - b->start));
	action_shell_env_add(env, &n, "F2B_BANTIME", buf, sizeof buf);
	snprintf(buf, sizeof buf, "%lld", (long long)b->start);
	action_shell_env_add(env, &n, "F2B_TIME", buf, sizeof buf);
	return env;
}

/* Free a NULL-terminated string vector. */
static void
action_shell_strv_free(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* Release a job once its retry timer is closed. */
static void
action_shell_job_closed(uv_handle_t *h)
{
	struct action_shell_job *job = h->data;

	free(job);
}

/* Take a job off its queue and free it (its timer closes first). */
static void
action_shell_job_free(struct action_shell_job *job)
{
	if (job->sh != NULL) {
		if (job->sh->check == job)
			job->sh->check = NULL;
		TAILQ_REMOVE(&job->sh->jobs, job, entry);
		job->sh->njobs--;
		job->sh = NULL;
	}
	if (job->run != NULL)
		job->run->job = NULL;
	action_shell_strv_free(job->env);
	free(job->cmd);
	free(job->what);
	if (job->retry_open) {
		job->retry.data = job;
		uv_close((uv_handle_t *)&job->retry, action_shell_job_closed);
	} else
		free(job);
}

/* Retry the job at the head of the queue after its backoff. */
static void
action_shell_retry_cb(uv_timer_t *t)
{
	struct action_shell_job *job = t->data;

	job->busy = 0;
	if (job->sh != NULL)
		action_shell_next(job->sh);
}

/* Account for one attempt; retry it later, or take the job off. */
static void
action_shell_attempt_done(
    struct action_shell_job *job, int ok, const char *why, const char *output)
{
	struct action_shell *sh = job->sh;
	struct action *a = sh->a;
	int retry =
	    job->kind == ACTION_SHELL_BAN || job->kind == ACTION_SHELL_UNBAN;

	if (ok) {
		if (job->kind == ACTION_SHELL_BAN)
			a->stats.bans++;
		else if (job->kind == ACTION_SHELL_UNBAN)
			a->stats.unbans++;
		else if (job->kind == ACTION_SHELL_NOTIFY)
			a->stats.notifies++;
		log_debug("jail %s: action %s: %s done", sh->a->jail->name,
		    a->conf->name, job->what);
		action_shell_job_free(job);
		return;
	}
	a->stats.failures++;
	log_warnx("jail %s: action %s: %s failed (%s), attempt %d/%d%s%s",
	    a->jail->name, a->conf->name, job->what, why, job->attempt,
	    retry ? sh->attempts : 1, *output != '\0' ? ": " : "", output);
	if (job->kind == ACTION_SHELL_CHECK)
		action_shell_repair(a, job);
	if (!retry || job->attempt >= sh->attempts) {
		if (retry)
			log_warnx("jail %s: action %s: %s: giving up",
			    a->jail->name, a->conf->name, job->what);
		action_shell_job_free(job);
		return;
	}
	if (!job->retry_open) {
		uv_timer_init(a->loop, &job->retry);
		job->retry.data = job;
		job->retry_open = 1;
	}
	uv_timer_start(&job->retry, action_shell_retry_cb,
	    sh->backoff_ms << (job->attempt - 1), 0);
}

/* Free a run when the last of its handles is closed. */
static void
action_shell_run_closed(uv_handle_t *h)
{
	struct action_shell_run *run = h->data;

	if (--run->nopen == 0)
		free(run);
}

/* Close every handle of a run; it frees itself afterwards. */
static void
action_shell_run_close(struct action_shell_run *run)
{
	uv_handle_t *h[3];
	int i;

	h[0] = (uv_handle_t *)&run->proc;
	h[1] = (uv_handle_t *)&run->out;
	h[2] = (uv_handle_t *)&run->timer;
	for (i = 0; i < 3; i++) {
		if (h[i]->loop != NULL && !uv_is_closing(h[i]))
			run->nopen++;
	}
	if (run->nopen == 0) {
		free(run);
		return;
	}
	for (i = 0; i < 3; i++) {
		if (h[i]->loop != NULL && !uv_is_closing(h[i]))
			uv_close(h[i], action_shell_run_closed);
	}
}

/* The process has exited and its output is read: judge the attempt. */
static void
action_shell_run_done(struct action_shell_run *run)
{
	struct action_shell_job *job = run->job;
	struct action_shell *sh;
	char why[64], out[ACTION_SHELL_OUTPUT * 4 + 1];
	int ok;

	uv_timer_stop(&run->timer);
	run->job = NULL;
	if (job != NULL) {
		job->run = NULL;
		sh = job->sh;
		ok = !run->timedout && run->termsig == 0 && run->status == 0;
		if (run->timedout)
			snprintf(why, sizeof why, "timed out");
		else if (run->termsig != 0)
			snprintf(why, sizeof why, "signal %d", run->termsig);
		else
			snprintf(why, sizeof why, "exit %lld",
			    (long long)run->status);
		while (run->len > 0 && (run->buf[run->len - 1] == '\n' ||
		                           run->buf[run->len - 1] == '\r'))
			run->len--;
		log_escape(run->buf, run->len, out, sizeof out);
		action_shell_attempt_done(job, ok, why, out);
		action_shell_next(sh);
	}
	action_shell_run_close(run);
}

/* Signal the command's process group (it is a session leader). */
static void
action_shell_run_kill(struct action_shell_run *run, int sig)
{
	if (run->pid > 0 && kill(-run->pid, sig) != 0)
		(void)kill(run->pid, sig);
}

/* Time out: SIGTERM, then SIGKILL; or stop waiting for output. */
static void
action_shell_timer_cb(uv_timer_t *t)
{
	struct action_shell_run *run = t->data;

	switch (run->phase) {
	case ACTION_SHELL_RUNNING:
		run->timedout = 1;
		action_shell_run_kill(run, SIGTERM);
		run->phase = ACTION_SHELL_TERMSENT;
		break;
	case ACTION_SHELL_TERMSENT:
	case ACTION_SHELL_KILLSENT:
		action_shell_run_kill(run, SIGKILL);
		run->phase = ACTION_SHELL_KILLSENT;
		break;
	case ACTION_SHELL_EXITED:
		/* A background child holds the pipe: the command is over. */
		run->eof = 1;
		uv_read_stop((uv_stream_t *)&run->out);
		action_shell_run_done(run);
		return;
	}
	uv_timer_start(t, action_shell_timer_cb, ACTION_SHELL_KILLWAIT, 0);
}

/* Note the exit; judge once the output is read to its end. */
static void
action_shell_exit_cb(uv_process_t *p, int64_t status, int termsig)
{
	struct action_shell_run *run = p->data;

	run->exited = 1;
	run->status = status;
	run->termsig = termsig;
	run->phase = ACTION_SHELL_EXITED;
	run->pid = 0;
	if (run->eof) {
		action_shell_run_done(run);
		return;
	}
	uv_timer_start(
	    &run->timer, action_shell_timer_cb, ACTION_SHELL_EOFWAIT, 0);
}

/* Lend libuv a read buffer. */
static void
action_shell_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static char scratch[1024];

	buf->base = scratch;
	buf->len = sizeof scratch;
}

/* Keep the last ACTION_SHELL_OUTPUT bytes of the command's output. */
static void
action_shell_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct action_shell_run *run = s->data;
	size_t n, keep;

	if (nread > 0) {
		n = (size_t)nread;
		if (n >= sizeof run->buf) {
			memcpy(run->buf, buf->base + n - sizeof run->buf,
			    sizeof run->buf);
			run->len = sizeof run->buf;
			return;
		}
		if (run->len + n > sizeof run->buf) {
			keep = sizeof run->buf - n;
			memmove(run->buf, run->buf + run->len - keep, keep);
			run->len = keep;
		}
		memcpy(run->buf + run->len, buf->base, n);
		run->len += n;
		return;
	}
	if (nread == 0)
		return;
	run->eof = 1;
	uv_read_stop(s);
	if (run->exited)
		action_shell_run_done(run);
}

/* Spawn sh -c for the job, stdin /dev/null, stdout and stderr to fd. */
static int
action_shell_spawn_proc(
    struct action_shell_run *run, struct action_shell_job *job, int fd)
{
	uv_process_options_t opts;
	uv_stdio_container_t stdio[3];
	char *args[4];

	memset(&opts, 0, sizeof opts);
	memset(stdio, 0, sizeof stdio);
	stdio[0].flags = UV_IGNORE; /* libuv opens /dev/null */
	stdio[1].flags = stdio[2].flags = UV_INHERIT_FD;
	stdio[1].data.fd = stdio[2].data.fd = fd;
	args[0] = (char *)"sh";
	args[1] = (char *)"-c";
	args[2] = job->cmd;
	args[3] = NULL;
	opts.file = "/bin/sh";
	opts.args = args;
	opts.env = job->env;
	opts.stdio = stdio;
	opts.stdio_count = 3;
	opts.exit_cb = action_shell_exit_cb;
	opts.flags = UV_PROCESS_DETACHED; /* own process group, to kill */
	run->proc.data = run;
	return uv_spawn(job->sh->a->loop, &run->proc, &opts);
}

/* Start the job's command with its output on a pipe and a timeout. */
static int
action_shell_spawn(struct action_shell_job *job, char **cause)
{
	struct action *a = job->sh->a;
	struct action_shell_run *run;
	int fds[2] = {-1, -1}, rc;

	run = xcalloc(1, sizeof *run);
	uv_timer_init(a->loop, &run->timer);
	run->timer.data = run;
	if (pipe2(fds, O_CLOEXEC) != 0) {
		xasprintf(cause, "pipe: %s", strerror(errno));
		goto fail;
	}
	uv_pipe_init(a->loop, &run->out, 0);
	run->out.data = run;
	if ((rc = uv_pipe_open(&run->out, fds[0])) != 0) {
		close(fds[0]);
		xasprintf(cause, "pipe: %s", uv_strerror(rc));
		goto fail;
	}
	if ((rc = action_shell_spawn_proc(run, job, fds[1])) != 0) {
		xasprintf(cause, "spawn /bin/sh: %s", uv_strerror(rc));
		goto fail;
	}
	close(fds[1]);
	run->pid = run->proc.pid;
	uv_read_start((uv_stream_t *)&run->out, action_shell_alloc_cb,
	    action_shell_read_cb);
	uv_timer_start(&run->timer, action_shell_timer_cb,
	    (uint64_t)(a->conf->timeout > 0 ? a->conf->timeout : 60) * 1000, 0);
	run->job = job;
	job->run = run;
	return 0;
fail:
	if (fds[1] != -1)
		close(fds[1]);
	action_shell_run_close(run);
	return -1;
}

/* Run the head of the queue unless it is already running or waiting. */
static void
action_shell_next(struct action_shell *sh)
{
	struct action_shell_job *job;
	char *cause;

	while ((job = TAILQ_FIRST(&sh->jobs)) != NULL && !job->busy) {
		if (job == sh->check)
			sh->check =
			    NULL; /* later bans need a check of their own */
		job->busy = 1;
		job->attempt++;
		cause = NULL;
		if (action_shell_spawn(job, &cause) == 0)
			return;
		action_shell_attempt_done(job, 0, cause, "");
		free(cause);
	}
}

/*
 * The key a job of kind runs: an action file written before notify
 * existed has no actionnotify, and its actionban (mail, log, webhook) is
 * then the best report there is.  An empty actionnotify disables it.
 */
static const char *
action_shell_key(const struct action_conf *ac, enum action_shell_kind kind)
{
	const char *key = action_shell_kinds[kind];

	if (kind == ACTION_SHELL_NOTIFY &&
	    action_shell_var(ac, key, strlen(key)) == NULL)
		return action_shell_kinds[ACTION_SHELL_BAN];
	return key;
}

/*
 * Render key for b and queue it, at the tail or right after job after;
 * -1 with *cause if it cannot render.  *made (may be NULL) gets the job,
 * or NULL for an empty command, which counts as done.
 */
static int
action_shell_queue_at(struct action *a, enum action_shell_kind kind,
    const struct action_ban *b, struct action_shell_job *after,
    struct action_shell_job **made, char **cause)
{
	struct action_shell *sh = a->impl;
	struct action_shell_job *job;
	char ip[ADDR_STRLEN], *cmd;

	if (made != NULL)
		*made = NULL;
	cmd = action_shell_render(
	    a->conf, a->jail, action_shell_key(a->conf, kind), b, cause);
	if (cmd == NULL)
		return -1;
	if (*cmd == '\0') {
		free(cmd);
		if (kind == ACTION_SHELL_BAN)
			a->stats.bans++;
		else if (kind == ACTION_SHELL_UNBAN)
			a->stats.unbans++;
		return 0;
	}
	job = xcalloc(1, sizeof *job);
	job->sh = sh;
	job->kind = kind;
	job->cmd = cmd;
	job->env = action_shell_env(b, a->jail->name);
	if (b != NULL) {
		addr_format(&b->addr, ip, sizeof ip);
		xasprintf(&job->what, "%s %s", action_shell_kinds[kind], ip);
	} else
		job->what = xstrdup(action_shell_kinds[kind]);
	if (after != NULL)
		TAILQ_INSERT_AFTER(&sh->jobs, after, job, entry);
	else
		TAILQ_INSERT_TAIL(&sh->jobs, job, entry);
	sh->njobs++;
	if (made != NULL)
		*made = job;
	action_shell_next(sh);
	return 0;
}

/*
 * Queue kind for b at the tail.  A ban is preceded by actioncheck, as in
 * fail2ban, unless a check not yet started is queued already: a burst of
 * bans shares one check instead of doubling the processes it spawns.
 */
static int
action_shell_queue(struct action *a, enum action_shell_kind kind,
    const struct action_ban *b, char **cause)
{
	struct action_shell *sh = a->impl;

	if (kind == ACTION_SHELL_BAN && sh->check == NULL &&
	    action_shell_queue_at(
	        a, ACTION_SHELL_CHECK, NULL, NULL, &sh->check, cause) != 0)
		return -1;
	return action_shell_queue_at(a, kind, b, NULL, NULL, cause);
}

/*
 * actioncheck failed: the table or rule the bans go into is gone (a
 * flushed ruleset, a reloaded firewall).  Run actionstart again before
 * the ban that waits behind the check.
 */
static void
action_shell_repair(struct action *a, struct action_shell_job *check)
{
	char *cause = NULL;

	log_warnx("jail %s: action %s: actioncheck failed: running "
	          "actionstart again",
	    a->jail->name, a->conf->name);
	if (action_shell_queue_at(
	        a, ACTION_SHELL_START, NULL, check, NULL, &cause) != 0) {
		log_warnx("%s", cause);
		free(cause);
	}
}

/* Queue a ban or unban; a command that cannot render is logged. */
static void
action_shell_queue_log(
    struct action *a, enum action_shell_kind kind, const struct action_ban *b)
{
	char *cause = NULL;

	if (action_shell_queue(a, kind, b, &cause) != 0) {
		a->stats.failures++;
		log_warnx("%s", cause);
		free(cause);
	}
}

/* Queue actionstart; its outcome is logged when it has run. */
static int
action_shell_start(struct action *a, char **cause)
{
	return action_shell_queue(a, ACTION_SHELL_START, NULL, cause);
}

/* Queue actionstop; action_shell_pending() tells when it has run. */
static void
action_shell_stop(struct action *a)
{
	action_shell_queue_log(a, ACTION_SHELL_STOP, NULL);
}

static void
action_shell_ban(struct action *a, const struct action_ban *b)
{
	action_shell_queue_log(a, ACTION_SHELL_BAN, b);
}

static void
action_shell_unban(struct action *a, const struct action_ban *b)
{
	action_shell_queue_log(a, ACTION_SHELL_UNBAN, b);
}

/* Queue actionnotify (or actionban) for a saturation episode, run once. */
static void
action_shell_notify(struct action *a, const struct action_ban *b)
{
	action_shell_queue_log(a, ACTION_SHELL_NOTIFY, b);
}

/* Run actionban for every active ban, as fail2ban does at start. */
static void
action_shell_restore(struct action *a, const struct action_ban *v, size_t n)
{
	const char *skip;
	size_t i;
	int yes = 0;

	/*
	 * fail2ban's norestored: actions that report (mail, webhook) would
	 * otherwise send every active ban again at each restart.
	 */
	skip = config_var_get(a->conf->vars, a->conf->nvars, "norestored");
	if (skip != NULL && conf_table_parse_bool(skip, &yes) == 0 && yes)
		return;
	for (i = 0; i < n; i++)
		action_shell_queue_log(a, ACTION_SHELL_BAN, &v[i]);
}

/* Nothing to batch: each command is queued as it comes. */
static void
action_shell_flush(struct action *a)
{
}

/*
 * Drop the queue.  A running command is killed; its process and handles
 * are reaped by the loop afterwards, so run the loop once more.
 */
static void
action_shell_free(struct action *a)
{
	struct action_shell *sh;
	struct action_shell_job *job;

	if (a == NULL || (sh = a->impl) == NULL)
		return;
	while ((job = TAILQ_FIRST(&sh->jobs)) != NULL) {
		if (job->run != NULL)
			action_shell_run_kill(job->run, SIGKILL);
		action_shell_job_free(job);
	}
	free(sh);
	a->impl = NULL;
}

const struct action_ops action_shell_ops = {
    .name = "shell",
    .start = action_shell_start,
    .stop = action_shell_stop,
    .ban = action_shell_ban,
    .unban = action_shell_unban,
    .restore = action_shell_restore,
    .flush = action_shell_flush,
    .notify = action_shell_notify,
    .free = action_shell_free,
};

/* Render every command once with a sample ban, to find errors early. */
static int
action_shell_check(const struct action *a, char **cause)
{
	static const char *keys[] = {"actionstart", "actionstop", "actioncheck",
	    "actionban", "actionunban", "actionnotify"};
	struct action_ban b;
	char *cmd, *nested;
	size_t i;

	memset(&b, 0, sizeof b);
	b.jail = a->jail->name;
	addr_parse("192.0.2.1", &b.addr);
	b.failures = 1;
	b.matches = "";
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		nested = NULL;
		cmd = action_shell_render_check(a->conf, a->jail, keys[i],
		    i < 3 ? NULL : &b, cause, &nested);
		if (cmd == NULL)
			return -1;
		if (nested != NULL)
			log_warnx(
			    "jail %s: action %s: %s: <%s> is filled from the "
			    "log and sits inside a command that a second "
			    "shell runs (sh -c, eval, ssh): log text can run "
			    "as a command there; pass it on as "
			    "\"$F2B_MATCHES\" "
			    "single-quoted script instead",
			    a->jail->name, a->conf->name, keys[i], nested);
		free(nested);
		free(cmd);
	}
	return 0;
}

int
action_shell_attach(struct action *a, char **cause)
{
	struct action_shell *sh;

	if (action_shell_check(a, cause) != 0)
		return -1;
	sh = xcalloc(1, sizeof *sh);
	sh->a = a;
	TAILQ_INIT(&sh->jobs);
	sh->attempts = 5;
	sh->backoff_ms = 1000;
	a->impl = sh;
	return 0;
}

size_t
action_shell_pending(const struct action *a)
{
	const struct action_shell *sh = a->impl;

	return sh != NULL ? sh->njobs : 0;
}

void
action_shell_set_retry(struct action *a, int attempts, uint64_t backoff_ms)
{
	struct action_shell *sh = a->impl;

	sh->attempts = attempts > 0 ? attempts : 1;
	sh->backoff_ms = backoff_ms;
}
