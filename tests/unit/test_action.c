/* Tests for actions: rendering, safe quoting and running shell commands. */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <uv.h>

#include "action.h"
#include "action_shell.h"
#include "addr.h"
#include "conf.h"
#include "config.h"
#include "duration.h"
#include "log.h"
#include "xmalloc.h"

/* A jail, an action conf and a loop, as config.c would make them. */
struct fx {
	struct jail_conf jc;
	struct action_conf ac;
	uv_loop_t loop;
	char dir[64];
	struct action *a;
};

static void
fx_init(struct fx *f, int timeout)
{
	memset(f, 0, sizeof *f);
	f->jc.name = xstrdup("sendmail");
	f->jc.bantime = 600;
	f->ac.name = xstrdup("test");
	f->ac.timeout = timeout;
	strcpy(f->dir, "/tmp/test_action.XXXXXX");
	cr_assert_not_null(mkdtemp(f->dir));
	cr_assert_eq(uv_loop_init(&f->loop), 0);
}

static void
fx_set(struct fx *f, const char *key, const char *value)
{
	struct config_var *v;

	f->ac.vars =
	    xreallocarray(f->ac.vars, f->ac.nvars + 1, sizeof *f->ac.vars);
	v = &f->ac.vars[f->ac.nvars++];
	memset(v, 0, sizeof *v);
	v->key = xstrdup(key);
	v->value = xstrdup(value);
}

/* Copy s with each "@D" replaced by dir. */
static char *
fx_subst(const char *s, const char *dir)
{
	char *out, *o;
	size_t n = strlen(s) * (strlen(dir) + 1) + 1;

	out = o = xcalloc(1, n);
	while (*s != '\0') {
		if (s[0] == '@' && s[1] == 'D') {
			o = stpcpy(o, dir);
			s += 2;
		} else
			*o++ = *s++;
	}
	return out;
}

/* Set key to a value holding "@D" replaced by the test directory. */
static void
fx_setdir(struct fx *f, const char *key, const char *fmt)
{
	char *v;

	v = fx_subst(fmt, f->dir);
	fx_set(f, key, v);
	free(v);
}

static void
fx_guard_cb(uv_timer_t *t)
{
	*(int *)t->data = 1;
}

/* Run the loop until the action is idle; 0, or -1 after bound_ms. */
static int
fx_drain(struct fx *f, uint64_t bound_ms)
{
	uv_timer_t guard;
	int fired = 0;

	uv_timer_init(&f->loop, &guard);
	guard.data = &fired;
	uv_timer_start(&guard, fx_guard_cb, bound_ms, 0);
	while (!fired && action_shell_pending(f->a) > 0)
		uv_run(&f->loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&guard, NULL);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	return fired ? -1 : 0;
}

static void
fx_fini(struct fx *f)
{
	size_t i;
	char *cmd;
	int spins;

	action_free(f->a);
	for (spins = 0; spins < 1000 && uv_run(&f->loop, UV_RUN_NOWAIT);
	     spins++)
		usleep(10000);
	cr_assert_eq(uv_loop_close(&f->loop), 0, "handles left open");
	for (i = 0; i < f->ac.nvars; i++) {
		free(f->ac.vars[i].key);
		free(f->ac.vars[i].value);
	}
	free(f->ac.vars);
	free(f->ac.name);
	free(f->jc.name);
	xasprintf(&cmd, "rm -rf '%s'", f->dir);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
}

static void
fx_ban(struct action_ban *b, const char *ip, const char *matches)
{
	memset(b, 0, sizeof *b);
	b->jail = "sendmail";
	cr_assert_eq(addr_parse(ip, &b->addr), 0, "parse %s", ip);
	b->start = 1700000000;
	b->end = b->start + 600;
	b->failures = 5;
	b->matches = matches;
}

/* Read a whole small file into an allocated string ("" if absent). */
static char *
fx_read(const char *dir, const char *name)
{
	char path[PATH_MAX], *buf;
	FILE *fp;
	size_t n;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	buf = xcalloc(1, 65536);
	if ((fp = fopen(path, "r")) == NULL)
		return buf;
	n = fread(buf, 1, 65535, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static int
fx_exists(const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static void
fx_unlink(const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	unlink(path);
}

static char *
fx_render(struct fx *f, const char *key, const struct action_ban *b)
{
	char *cause = NULL, *cmd;

	cmd = action_shell_render(&f->ac, &f->jc, key, b, &cause);
	cr_assert_not_null(cmd, "render %s: %s", key, cause);
	return cmd;
}

Test(action, render_ip_v4_v6_prefix)
{
	struct fx f;
	struct action_ban b;
	char *cmd;

	fx_init(&f, 5);
	fx_set(
	    &f, "actionban", "add <ip> <family> <bantime> <failures> <time>");
	fx_ban(&b, "192.0.2.7", NULL);
	cmd = fx_render(&f, "actionban", &b);
	cr_assert_str_eq(cmd, "add 192.0.2.7 inet4 600 5 1700000000");
	free(cmd);
	fx_ban(&b, "2001:db8:0:0:0:0:0:1", NULL);
	b.end = 0;
	cmd = fx_render(&f, "actionban", &b);
	cr_assert_str_eq(cmd, "add 2001:db8::1 inet6 -1 5 1700000000");
	free(cmd);
	fx_ban(&b, "1.2.3.0/24", NULL);
	cmd = fx_render(&f, "actionban", &b);
	cr_assert_str_eq(cmd, "add 1.2.3.0/24 inet4 600 5 1700000000");
	free(cmd);
	fx_ban(&b, "2001:db8:1::/64", NULL);
	cmd = fx_render(&f, "actionban", &b);
	cr_assert_str_eq(cmd, "add 2001:db8:1::/64 inet6 600 5 1700000000");
	free(cmd);
	fx_fini(&f);
}

Test(action, render_recursive_and_unknown)
{
	struct fx f;
	struct action_ban b;
	char *cmd;

	fx_init(&f, 5);
	fx_set(
	    &f, "actionban", "<cmd> -t <tablename>-<name> -T add <ip> <nope>");
	fx_set(&f, "cmd", "<tool> -a f2b/<name>");
	fx_set(&f, "tool", "pfctl");
	fx_set(&f, "tablename", "f2b");
	fx_set(&f, "actionstart", "echo <<tablename>-<name>> <F-USER>x<br>y");
	fx_ban(&b, "10.0.0.1", NULL);
	cmd = fx_render(&f, "actionban", &b);
	cr_assert_str_eq(cmd,
	    "pfctl -a f2b/sendmail -t f2b-sendmail -T add 10.0.0.1 <nope>");
	free(cmd);
	cmd = fx_render(&f, "actionstart", NULL);
	cr_assert_str_eq(cmd, "echo <f2b-sendmail> <F-USER>x\ny");
	free(cmd);
	cmd = fx_render(&f, "actionstart", &b);
	cr_assert_str_eq(cmd, "echo <f2b-sendmail> x\ny");
	free(cmd);
	cmd = fx_render(&f, "actionunban", &b);
	cr_assert_str_eq(cmd, "");
	free(cmd);
	fx_fini(&f);
}

Test(action, render_later_var_wins_and_name_param)
{
	struct fx f;
	char *cmd;

	fx_init(&f, 5);
	fx_set(&f, "actionstart", "start <port> <name> <bantime>");
	fx_set(&f, "port", "25");
	fx_set(&f, "port", "smtp,465");
	cmd = fx_render(&f, "actionstart", NULL);
	cr_assert_str_eq(cmd, "start smtp,465 sendmail 600");
	free(cmd);
	fx_set(&f, "name", "SMTP");
	cmd = fx_render(&f, "actionstart", NULL);
	cr_assert_str_eq(cmd, "start smtp,465 SMTP 600");
	free(cmd);
	fx_fini(&f);
}

Test(action, render_loop_is_an_error)
{
	struct fx f;
	char *cause = NULL, *cmd;

	fx_init(&f, 5);
	fx_set(&f, "actionstart", "x <a>");
	fx_set(&f, "a", "<b>");
	fx_set(&f, "b", "<a>");
	fx_set(&f, "actionstop", "<actionstop>");
	cmd = action_shell_render(&f.ac, &f.jc, "actionstart", NULL, &cause);
	cr_assert_null(cmd);
	cr_assert_not_null(
	    strstr(cause, "jail sendmail: action test"), "%s", cause);
	cr_assert_not_null(strstr(cause, "<a> refers to itself"), "%s", cause);
	free(cause);
	cause = NULL;
	cmd = action_shell_render(&f.ac, &f.jc, "actionstop", NULL, &cause);
	cr_assert_null(cmd);
	free(cause);
	cause = NULL;
	/* action_create reports it too, before anything runs. */
	f.a = action_create(&f.loop, &f.ac, &f.jc, &cause);
	cr_assert_null(f.a);
	cr_assert_not_null(strstr(cause, "refers to itself"), "%s", cause);
	free(cause);
	fx_fini(&f);
}

Test(action, render_deep_nesting_is_bounded)
{
	struct fx f;
	char *cause = NULL, *cmd, key[16], val[16];
	int i;

	fx_init(&f, 5);
	fx_set(&f, "actionstart", "<v0>");
	for (i = 0; i < 40; i++) {
		snprintf(key, sizeof key, "v%d", i);
		snprintf(val, sizeof val, "<v%d><v%d>", i + 1, i + 1);
		fx_set(&f, key, val);
	}
	cmd = action_shell_render(&f.ac, &f.jc, "actionstart", NULL, &cause);
	cr_assert_null(cmd);
	cr_assert_not_null(cause);
	free(cause);
	fx_fini(&f);
}

Test(action, render_bad_address_refused)
{
	struct fx f;
	struct action_ban b;
	char *cause = NULL, *cmd;

	fx_init(&f, 5);
	fx_set(&f, "actionban", "ban <ip>");
	fx_ban(&b, "10.1.2.3", NULL);
	b.addr.prefixlen = 8; /* host bits set beyond the prefix */
	cmd = action_shell_render(&f.ac, &f.jc, "actionban", &b, &cause);
	cr_assert_null(cmd);
	cr_assert_not_null(strstr(cause, "invalid address"), "%s", cause);
	free(cause);
	cause = NULL;
	b.addr.family = 99;
	cmd = action_shell_render(&f.ac, &f.jc, "actionban", &b, &cause);
	cr_assert_null(cmd);
	free(cause);
	fx_fini(&f);
}

Test(action, render_matches_by_reference)
{
	struct fx f;
	struct action_ban b;
	char *cmd;

	fx_init(&f, 5);
	fx_set(&f, "actionban", "a <matches> \"b <matches>\" 'c <matches>'");
	fx_ban(&b, "10.0.0.1", "$(touch X)");
	cmd = fx_render(&f, "actionban", &b);
	cr_assert_str_eq(cmd, "a \"${F2B_MATCHES}\" \"b ${F2B_MATCHES}\" "
	                      "'c '\"${F2B_MATCHES}\"''");
	cr_assert_null(strstr(cmd, "touch"));
	free(cmd);
	fx_fini(&f);
}

Test(action, quote)
{
	char *q;

	q = action_shell_quote("it's $(x)");
	cr_assert_str_eq(q, "'it'\\''s $(x)'");
	free(q);
	q = action_shell_quote("");
	cr_assert_str_eq(q, "''");
	free(q);
}

Test(action, unknown_native_refused)
{
	struct fx f;
	char *cause = NULL;

	fx_init(&f, 5);
	f.ac.native = xstrdup("iptables-magic");
	f.a = action_create(&f.loop, &f.ac, &f.jc, &cause);
	cr_assert_null(f.a);
	cr_assert_str_eq(cause,
	    "jail sendmail: action test: unknown native action iptables-magic");
	free(cause);
	free(f.ac.native);
	fx_fini(&f);
}

#ifdef HAVE_NFTABLES
Test(action, nftables_native_dispatched)
{
	struct fx f;
	char *cause = NULL;

	fx_init(&f, 5);
	f.ac.native = xstrdup("nftables");
	f.a = action_create(&f.loop, &f.ac, &f.jc, &cause);
	cr_assert_not_null(f.a, "%s", cause);
	cr_assert_eq(f.a->ops, &action_nft_ops);
	cr_assert_null(f.a->ops->notify, "the native action cannot notify");
	action_free(f.a);
	f.a = NULL;
	free(f.ac.native);
	fx_fini(&f);
}
#else
Test(action, nftables_native_refused_without_nftables)
{
	struct fx f;
	char *cause = NULL;

	fx_init(&f, 5);
	f.ac.native = xstrdup("nftables");
	f.a = action_create(&f.loop, &f.ac, &f.jc, &cause);
	cr_assert_null(f.a);
	cr_assert_str_eq(cause,
	    "jail sendmail: action test: native action nftables is not "
	    "available in this build (configured without nftables)");
	free(cause);
	free(f.ac.native);
	fx_fini(&f);
}
#endif

/* Make the action and start it; the test's commands are set already. */
static void
fx_create(struct fx *f)
{
	char *cause = NULL;

	f->a = action_create(&f->loop, &f->ac, &f->jc, &cause);
	cr_assert_not_null(f->a, "%s", cause);
	cr_assert_eq(f->a->ops, &action_shell_ops);
	action_shell_set_retry(f->a, 3, 10);
	cr_assert_eq(f->a->ops->start(f->a, &cause), 0, "%s", cause);
}

Test(action, record_runs_in_order)
{
	struct fx f;
	struct action_ban b1, b2;
	char *got;

	fx_init(&f, 10);
	fx_setdir(&f, "actionstart", "echo start <name> >> @D/log");
	fx_setdir(&f, "actionban",
	    "echo ban <name> <ip> <failures> >> @D/log; sleep 0.05");
	fx_setdir(&f, "actionunban", "echo unban <name> <ip> >> @D/log");
	fx_setdir(&f, "actionstop", "echo stop >> @D/log");
	fx_create(&f);
	fx_ban(&b1, "192.0.2.1", "line one");
	fx_ban(&b2, "2001:db8::2", NULL);
	f.a->ops->ban(f.a, &b1);
	f.a->ops->ban(f.a, &b2);
	f.a->ops->unban(f.a, &b1);
	f.a->ops->flush(f.a);
	f.a->ops->stop(f.a);
	cr_assert_eq(action_shell_pending(f.a), 5);
	cr_assert_eq(fx_drain(&f, 20000), 0);
	got = fx_read(f.dir, "log");
	cr_assert_str_eq(got, "start sendmail\n"
	                      "ban sendmail 192.0.2.1 5\n"
	                      "ban sendmail 2001:db8::2 5\n"
	                      "unban sendmail 192.0.2.1\n"
	                      "stop\n");
	free(got);
	cr_assert_eq(f.a->stats.bans, 2);
	cr_assert_eq(f.a->stats.unbans, 1);
	cr_assert_eq(f.a->stats.failures, 0);
	fx_fini(&f);
}

Test(action, restore_bans_all)
{
	struct fx f;
	struct action_ban v[3];
	char *got;

	fx_init(&f, 10);
	fx_setdir(&f, "actionban", "echo <ip> >> @D/log");
	fx_create(&f);
	fx_ban(&v[0], "10.0.0.1", NULL);
	fx_ban(&v[1], "10.0.0.0/8", NULL);
	fx_ban(&v[2], "::1", NULL);
	f.a->ops->restore(f.a, v, 3);
	cr_assert_eq(fx_drain(&f, 20000), 0);
	got = fx_read(f.dir, "log");
	cr_assert_str_eq(got, "10.0.0.1\n10.0.0.0/8\n::1\n");
	free(got);
	cr_assert_eq(f.a->stats.bans, 3);
	fx_fini(&f);
}

Test(action, norestored_skips_restored_bans_only)
{
	struct fx f;
	struct action_ban v[2];
	char *got;

	fx_init(&f, 10);
	fx_setdir(&f, "actionban", "echo <ip> >> @D/log");
	fx_set(&f, "norestored", "true");
	fx_create(&f);
	fx_ban(&v[0], "10.0.0.1", NULL);
	fx_ban(&v[1], "10.0.0.2", NULL);
	f.a->ops->restore(f.a, v, 2);
	f.a->ops->ban(f.a, &v[1]);
	cr_assert_eq(fx_drain(&f, 20000), 0);
	/* A new ban is still reported; the restored ones are not. */
	got = fx_read(f.dir, "log");
	cr_assert_str_eq(got, "10.0.0.2\n");
	free(got);
	fx_fini(&f);
}

Test(action, timeout_kills_command)
{
	struct fx f;
	struct action_ban b;

	fx_init(&f, 1);
	fx_setdir(&f, "actionban", "sleep 30; touch @D/late");
	fx_create(&f);
	action_shell_set_retry(f.a, 1, 10);
	fx_ban(&b, "10.0.0.1", NULL);
	f.a->ops->ban(f.a, &b);
	/* 1 s timeout, then SIGTERM; far less than the 30 s sleep. */
	cr_assert_eq(fx_drain(&f, 15000), 0, "command not killed in time");
	cr_assert_eq(f.a->stats.failures, 1);
	cr_assert_eq(f.a->stats.bans, 0);
	cr_assert(!fx_exists(f.dir, "late"));
	fx_fini(&f);
}

Test(action, failed_ban_retried_then_succeeds)
{
	struct fx f;
	struct action_ban b;
	char *got;

	fx_init(&f, 10);
	/* Fails twice (counting attempts in a file), then works. */
	fx_setdir(&f, "actionban",
	    "echo try >> @D/tries; "
	    "[ $(wc -l < @D/tries) -ge 3 ] || { echo 'no luck' >&2; exit 3; }; "
	    "echo <ip> >> @D/log");
	fx_create(&f);
	fx_ban(&b, "10.0.0.9", NULL);
	f.a->ops->ban(f.a, &b);
	cr_assert_eq(fx_drain(&f, 20000), 0);
	got = fx_read(f.dir, "log");
	cr_assert_str_eq(got, "10.0.0.9\n");
	free(got);
	cr_assert_eq(f.a->stats.failures, 2);
	cr_assert_eq(f.a->stats.bans, 1);
	fx_fini(&f);
}

Test(action, failed_ban_gives_up)
{
	struct fx f;
	struct action_ban b;
	char *got;

	fx_init(&f, 10);
	fx_setdir(&f, "actionban", "echo try >> @D/tries; exit 1");
	fx_setdir(&f, "actionunban", "echo unban >> @D/tries");
	fx_create(&f);
	fx_ban(&b, "10.0.0.9", NULL);
	f.a->ops->ban(f.a, &b);
	f.a->ops->unban(f.a, &b);
	cr_assert_eq(fx_drain(&f, 20000), 0);
	got = fx_read(f.dir, "tries");
	cr_assert_str_eq(got, "try\ntry\ntry\nunban\n");
	free(got);
	cr_assert_eq(f.a->stats.failures, 3);
	cr_assert_eq(f.a->stats.bans, 0);
	cr_assert_eq(f.a->stats.unbans, 1);
	fx_fini(&f);
}

Test(action, failed_check_runs_start_again_before_the_ban)
{
	struct fx f;
	struct action_ban b;
	char *got;

	fx_init(&f, 10);
	fx_setdir(&f, "actionstart", "touch @D/ok; echo start >> @D/log");
	fx_setdir(&f, "actioncheck", "echo check >> @D/checks; test -f @D/ok");
	fx_setdir(&f, "actionban", "echo ban <ip> >> @D/log");
	fx_create(&f);
	fx_ban(&b, "192.0.2.1", NULL);
	f.a->ops->ban(f.a, &b);
	cr_assert_eq(fx_drain(&f, 20000), 0);
	/* The firewall lost the table: the check fails, start runs again. */
	fx_unlink(f.dir, "ok");
	fx_ban(&b, "192.0.2.2", NULL);
	f.a->ops->ban(f.a, &b);
	cr_assert_eq(fx_drain(&f, 20000), 0);
	got = fx_read(f.dir, "log");
	cr_assert_str_eq(got, "start\nban 192.0.2.1\nstart\nban 192.0.2.2\n");
	free(got);
	got = fx_read(f.dir, "checks");
	cr_assert_str_eq(got, "check\ncheck\n");
	free(got);
	cr_assert_eq(f.a->stats.failures, 1);
	cr_assert_eq(f.a->stats.bans, 2);
	fx_fini(&f);
}

Test(action, burst_of_bans_shares_one_check)
{
	struct fx f;
	struct action_ban b;
	char *got, ip[32];
	int i;

	fx_init(&f, 10);
	fx_setdir(&f, "actioncheck", "echo check >> @D/checks");
	fx_setdir(&f, "actionban", "echo <ip> >> @D/log");
	fx_create(&f);
	/* The first check starts at once; the three bans behind share one. */
	for (i = 1; i <= 4; i++) {
		snprintf(ip, sizeof ip, "192.0.2.%d", i);
		fx_ban(&b, ip, NULL);
		f.a->ops->ban(f.a, &b);
	}
	cr_assert_eq(action_shell_pending(f.a), 6);
	cr_assert_eq(fx_drain(&f, 20000), 0);
	got = fx_read(f.dir, "checks");
	cr_assert_str_eq(got, "check\ncheck\n");
	free(got);
	cr_assert_eq(f.a->stats.bans, 4);
	fx_fini(&f);
}

Test(action, failed_start_logged_not_fatal)
{
	struct fx f;
	struct action_ban b;
	char *got;

	fx_init(&f, 10);
	fx_set(&f, "actionstart", "exit 7");
	fx_setdir(&f, "actionban", "echo <ip> >> @D/log");
	fx_create(&f);
	fx_ban(&b, "10.0.0.2", NULL);
	f.a->ops->ban(f.a, &b);
	cr_assert_eq(fx_drain(&f, 20000), 0);
	got = fx_read(f.dir, "log");
	cr_assert_str_eq(got, "10.0.0.2\n");
	free(got);
	cr_assert_eq(f.a->stats.failures, 1);
	fx_fini(&f);
}

/*
 * The hostile strings a log line could carry, put into every place a
 * value can be in a template: bare, in "...", in '...', in $(...).
 */
Test(action, hostile_values_never_run)
{
	static const char *evil[] = {"$(touch @D/X)", "`touch @D/X`",
	    "; touch @D/X", "\ntouch @D/X\n", "' ; touch @D/X; '",
	    "\" ; touch @D/X; \"", "'$(touch @D/X)'", "\"`touch @D/X`\"",
	    "\\\"; touch @D/X #", "a'\"'\"$(touch @D/X)"};
	struct fx f;
	struct action_ban b;
	char *m, *got, *want;
	size_t i;

	fx_init(&f, 10);
	fx_setdir(&f, "actionban",
	    ": \"$(printf %s <matches>)\" `echo <matches>` <F-USER>; "
	    "printf '%s|' <matches> \"<matches>\" '<matches>' <F-USER> "
	    ">> @D/log; echo >> @D/log");
	fx_create(&f);
	for (i = 0; i < sizeof evil / sizeof evil[0]; i++) {
		m = fx_subst(evil[i], f.dir);
		fx_ban(&b, "10.0.0.3", m);
		f.a->ops->ban(f.a, &b);
		cr_assert_eq(fx_drain(&f, 20000), 0);
		cr_assert(!fx_exists(f.dir, "X"), "ran: %s", m);
		got = fx_read(f.dir, "log");
		/* Every context got the value back intact, as one word. */
		xasprintf(&want, "%s|%s|%s|\n", m, m, m);
		cr_assert_str_eq(got, want, "value %s", m);
		free(want);
		free(got);
		fx_unlink(f.dir, "log");
		free(m);
	}
	cr_assert_eq(f.a->stats.bans, sizeof evil / sizeof evil[0]);
	fx_fini(&f);
}

/* Load a shipped action file as config.c would: [Definition], [Init]. */
static void
fx_load(struct fx *f, const char *name)
{
	static const char *sections[] = {"Definition", "Init"};
	struct conf_errors errs = {NULL, 0};
	struct conf_file *cf;
	struct conf_section *s;
	const char *top = getenv("top_srcdir");
	char path[PATH_MAX];
	size_t i, j;

	snprintf(path, sizeof path, "%s/actions/%s.conf",
	    top != NULL ? top : ".", name);
	cf = conf_read(path, &errs);
	cr_assert_not_null(cf, "cannot read %s", path);
	cr_assert_eq(errs.n, 0, "%s", errs.n ? errs.msgs[0] : "");
	for (i = 0; i < 2; i++) {
		s = conf_section_find(cf, sections[i]);
		cr_assert_not_null(s, "%s: no [%s]", path, sections[i]);
		for (j = 0; j < s->nentries; j++)
			fx_set(f, s->entries[j].key, s->entries[j].value);
	}
	conf_file_free(cf);
	conf_errors_clear(&errs);
}

Test(action, ipfw_file_exact_commands)
{
	struct fx f;
	struct action_ban b;
	char *cmd;

	fx_init(&f, 5);
	fx_load(&f, "ipfw");
	fx_ban(&b, "192.0.2.7", NULL);
	cmd = fx_render(&f, "actionban", &b);
	cr_assert_str_eq(cmd,
	    "e=$(ipfw table jaild_sendmail add 192.0.2.7 2>&1)"
	    " || case \"$e\" in *\"already exists\"*) ;; *) "
	    "echo \"$e\" >&2; exit 1 ;; esac");
	free(cmd);
	fx_ban(&b, "2001:db8::/48", NULL);
	cmd = fx_render(&f, "actionunban", &b);
	cr_assert_str_eq(cmd,
	    "e=$(ipfw table jaild_sendmail delete 2001:db8::/48 2>&1)"
	    " || case \"$e\" in *\"not found\"*) ;; *) "
	    "echo \"$e\" >&2; exit 1 ;; esac");
	free(cmd);
	fx_set(&f, "port", "smtp,465");
	cmd = fx_render(&f, "actionstart", NULL);
	cr_assert_str_eq(cmd,
	    "ipfw -q table jaild_sendmail info >/dev/null 2>&1 || "
	    "ipfw -q table jaild_sendmail create type addr\n"
	    "case \"smtp,465\" in \"\"|any) ports= ;; "
	    "*) ports=\"dst-port smtp,465\" ;; esac\n"
	    "ipfw -q delete 111 2>/dev/null\n"
	    "ipfw -q add 111 deny tcp from 'table(jaild_sendmail)' to "
	    "{ me or me6 } $ports");
	free(cmd);
	cmd = fx_render(&f, "actioncheck", NULL);
	cr_assert_str_eq(
	    cmd, "ipfw show 111 | grep -q 'table(jaild_sendmail)'");
	free(cmd);
	cmd = fx_render(&f, "actionstop", NULL);
	cr_assert_str_eq(cmd, "ipfw -q delete 111\n"
	                      "ipfw -q table jaild_sendmail destroy");
	free(cmd);
	fx_fini(&f);
}

Test(action, pf_file_exact_commands)
{
	struct fx f;
	struct action_ban b;
	char *cmd;

	fx_init(&f, 5);
	fx_load(&f, "pf");
	fx_ban(&b, "192.0.2.7", NULL);
	cmd = fx_render(&f, "actionban", &b);
	cr_assert_str_eq(
	    cmd, "pfctl -a jaild/sendmail -t jaild-sendmail -T add 192.0.2.7");
	free(cmd);
	fx_ban(&b, "10.0.0.0/8", NULL);
	cmd = fx_render(&f, "actionunban", &b);
	cr_assert_str_eq(cmd,
	    "pfctl -a jaild/sendmail -t jaild-sendmail -T delete 10.0.0.0/8");
	free(cmd);
	cmd = fx_render(&f, "actionstart", NULL);
	cr_assert_not_null(
	    strstr(cmd, "\"table <jaild-sendmail> persist "
	                "counters\" \"block quick proto tcp from "
	                "<jaild-sendmail> to any $ports\" | "
	                "pfctl -a jaild/sendmail -f-"),
	    "%s", cmd);
	free(cmd);
	cmd = fx_render(&f, "actioncheck", NULL);
	cr_assert_str_eq(cmd,
	    "pfctl -a jaild/sendmail -sr | grep -q '<jaild-sendmail>'\n"
	    "pfctl -a jaild/sendmail -t jaild-sendmail -T show >/dev/null");
	free(cmd);
	cmd = fx_render(&f, "actionstop", NULL);
	cr_assert_str_eq(cmd, "pfctl -a jaild/sendmail -F rules\n"
	                      "pfctl -a jaild/sendmail -t jaild-sendmail "
	                      "-T kill");
	free(cmd);
	fx_fini(&f);
}

/* Check that cmd parses as /bin/sh code (sh -n), without running it. */
static void
fx_syntax(const char *dir, const char *cmd, const char *file, const char *key)
{
	char path[PATH_MAX], *sh;
	FILE *fp;

	snprintf(path, sizeof path, "%s/cmd.sh", dir);
	cr_assert_not_null(fp = fopen(path, "w"));
	fputs(cmd, fp);
	fclose(fp);
	xasprintf(&sh, "/bin/sh -n '%s'", path);
	cr_assert_eq(system(sh), 0, "%s: %s: %s", file, key, cmd);
	free(sh);
}

Test(action, shipped_files_render)
{
	static const char *files[] = {
	    "record", "log", "ipset", "ipfw", "pf", "mail", "webhook"};
	static const char *keys[] = {"actionstart", "actionstop", "actioncheck",
	    "actionban", "actionunban", "actionnotify"};
	struct fx f;
	struct action_ban b;
	char *cmd;
	size_t i, k;

	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		fx_init(&f, 5);
		fx_load(&f, files[i]);
		fx_ban(&b, "192.0.2.7", "$(touch /nonexistent)");
		for (k = 0; k < sizeof keys / sizeof keys[0]; k++) {
			cmd = fx_render(&f, keys[k], k < 3 ? NULL : &b);
			cr_assert_null(strstr(cmd, "<ip>"), "%s", files[i]);
			cr_assert_null(strstr(cmd, "<name>"), "%s", files[i]);
			cr_assert_null(strstr(cmd, "touch"), "%s", files[i]);
			fx_syntax(f.dir, cmd, files[i], keys[k]);
			free(cmd);
		}
		fx_fini(&f);
	}
}

Test(action, record_file_runs)
{
	struct fx f;
	struct action_ban b;
	char *got, *file;

	fx_init(&f, 10);
	fx_load(&f, "record");
	xasprintf(&file, "%s/record.log", f.dir);
	fx_set(&f, "file", file); /* the jail's record[file=...] */
	free(file);
	fx_create(&f);
	fx_ban(&b, "192.0.2.7", "x; touch /tmp/never");
	f.a->ops->ban(f.a, &b);
	f.a->ops->unban(f.a, &b);
	cr_assert_eq(fx_drain(&f, 20000), 0);
	got = fx_read(f.dir, "record.log");
	cr_assert_str_eq(got, "ban sendmail 192.0.2.7 5\n"
	                      "unban sendmail 192.0.2.7\n");
	free(got);
	fx_fini(&f);
}

Test(action, mail_file_report_is_intact)
{
	struct fx f;
	struct action_ban b;
	char *got, *mc;
	const char *lines = "sm-mta[1]: x: [192.0.2.7] did not issue MAIL\n"
	                    "evil `touch @D/X` $(touch @D/X) ' \" ;";
	char *m;

	fx_init(&f, 10);
	fx_load(&f, "mail");
	mc = fx_subst("cat > @D/mail", f.dir);
	fx_set(&f, "mailcmd", mc);
	free(mc);
	fx_create(&f);
	m = fx_subst(lines, f.dir);
	fx_ban(&b, "192.0.2.7", m);
	f.a->ops->ban(f.a, &b);
	cr_assert_eq(fx_drain(&f, 20000), 0);
	cr_assert(!fx_exists(f.dir, "X"));
	got = fx_read(f.dir, "mail");
	cr_assert_not_null(strstr(got, "Subject: [jaild] sendmail: banned "
	                               "192.0.2.7\n"),
	    "%s", got);
	cr_assert_not_null(strstr(got, "To: root\n"), "%s", got);
	cr_assert_not_null(strstr(got, m), "%s", got);
	free(got);
	free(m);
	fx_fini(&f);
}

Test(action, free_kills_running_command)
{
	struct fx f;
	struct action_ban b;
	int i;

	fx_init(&f, 60);
	fx_setdir(&f, "actionban", "sleep 30; touch @D/late");
	fx_create(&f);
	fx_ban(&b, "10.0.0.1", NULL);
	f.a->ops->ban(f.a, &b);
	for (i = 0; i < 5; i++)
		uv_run(&f.loop, UV_RUN_NOWAIT);
	cr_assert_eq(action_shell_pending(f.a), 1);
	/* fx_fini frees the action, then the loop must wind down. */
	fx_fini(&f);
}

/* A saturation episode as saturation.c describes it to notify. */
static void
fx_episode(
    struct action_ban *b, const char *first, int holders, const char *report)
{
	fx_ban(b, first, report);
	b->failures = holders;
	b->reason = "saturation";
}

Test(action, notify_renders_actionnotify)
{
	struct fx f;
	struct action_ban b;
	char *got;

	fx_init(&f, 10);
	fx_setdir(&f, "actionban", "echo ban <ip> >> @D/log");
	fx_setdir(
	    &f, "actionnotify", "echo notify <name> <ip> <failures> >> @D/log");
	fx_create(&f);
	cr_assert_not_null(f.a->ops->notify);
	fx_episode(&b, "10.66.0.10", 3, "report");
	f.a->ops->notify(f.a, &b);
	cr_assert_eq(fx_drain(&f, 20000), 0);
	got = fx_read(f.dir, "log");
	cr_assert_str_eq(got, "notify sendmail 10.66.0.10 3\n");
	free(got);
	cr_assert_eq(f.a->stats.notifies, 1);
	cr_assert_eq(f.a->stats.bans, 0, "a notify is not a ban");
	fx_fini(&f);
}

Test(action, notify_falls_back_to_actionban)
{
	struct fx f;
	struct action_ban b;
	char *got;

	fx_init(&f, 10);
	fx_setdir(&f, "actionban", "echo ban <ip> <failures> >> @D/log");
	fx_create(&f);
	/* No holder found: the episode is described as 0.0.0.0/0. */
	fx_episode(&b, "0.0.0.0/0", 0, "report");
	f.a->ops->notify(f.a, &b);
	cr_assert_eq(fx_drain(&f, 20000), 0);
	got = fx_read(f.dir, "log");
	cr_assert_str_eq(got, "ban 0.0.0.0/0 0\n");
	free(got);
	cr_assert_eq(f.a->stats.notifies, 1);
	fx_fini(&f);
}

Test(action, notify_empty_actionnotify_runs_nothing)
{
	struct fx f;
	struct action_ban b;

	fx_init(&f, 10);
	fx_setdir(&f, "actionban", "echo ban >> @D/log");
	fx_set(&f, "actionnotify", "");
	fx_create(&f);
	fx_episode(&b, "10.66.0.10", 1, "report");
	f.a->ops->notify(f.a, &b);
	cr_assert_eq(action_shell_pending(f.a), 0);
	cr_assert_eq(fx_drain(&f, 20000), 0);
	cr_assert(!fx_exists(f.dir, "log"));
	fx_fini(&f);
}

Test(action, notify_failure_not_retried)
{
	struct fx f;
	struct action_ban b;
	char *got;

	fx_init(&f, 10);
	fx_setdir(&f, "actionnotify", "echo try >> @D/tries; exit 1");
	fx_create(&f);
	fx_episode(&b, "10.66.0.10", 2, "report");
	f.a->ops->notify(f.a, &b);
	cr_assert_eq(fx_drain(&f, 20000), 0);
	got = fx_read(f.dir, "tries");
	cr_assert_str_eq(got, "try\n", "a failed notify ran again");
	free(got);
	cr_assert_eq(f.a->stats.failures, 1);
	cr_assert_eq(f.a->stats.notifies, 0);
	fx_fini(&f);
}

/* The report holds the log's saturation line: it must stay text. */
Test(action, notify_hostile_report_never_runs)
{
	static const char *evil[] = {"$(touch @D/X)", "`touch @D/X`",
	    "; touch @D/X", "\ntouch @D/X\n", "' ; touch @D/X; '",
	    "\" ; touch @D/X; \"", "a'\"'\"$(touch @D/X)"};
	struct fx f;
	struct action_ban b;
	char *m, *got, *want;
	size_t i;

	fx_init(&f, 10);
	fx_setdir(&f, "actionnotify",
	    ": \"$(printf %s <matches>)\" `echo <matches>`; "
	    "printf '%s|' <matches> \"<matches>\" '<matches>' >> @D/log");
	fx_create(&f);
	for (i = 0; i < sizeof evil / sizeof evil[0]; i++) {
		m = fx_subst(evil[i], f.dir);
		fx_episode(&b, "10.66.0.10", 1, m);
		f.a->ops->notify(f.a, &b);
		cr_assert_eq(fx_drain(&f, 20000), 0);
		cr_assert(!fx_exists(f.dir, "X"), "ran: %s", m);
		got = fx_read(f.dir, "log");
		xasprintf(&want, "%s|%s|%s|", m, m, m);
		cr_assert_str_eq(got, want, "value %s", m);
		free(want);
		free(got);
		fx_unlink(f.dir, "log");
		free(m);
	}
	cr_assert_eq(f.a->stats.notifies, sizeof evil / sizeof evil[0]);
	fx_fini(&f);
}

Test(action, record_file_notify_line)
{
	struct fx f;
	struct action_ban b;
	char *got, *file;

	fx_init(&f, 10);
	fx_load(&f, "record");
	xasprintf(&file, "%s/record.log", f.dir);
	fx_set(&f, "file", file);
	free(file);
	fx_create(&f);
	fx_episode(&b, "10.66.0.10", 3, "x; touch /tmp/never");
	f.a->ops->notify(f.a, &b);
	cr_assert_eq(fx_drain(&f, 20000), 0);
	got = fx_read(f.dir, "record.log");
	cr_assert_str_eq(got, "notify sendmail 3\n");
	free(got);
	fx_fini(&f);
}

Test(action, mail_file_notify_report)
{
	struct fx f;
	struct action_ban b;
	char *got, *mc, *m;
	const char *report =
	    "jail sendmail: saturation: sm-mta[1]: rejecting connections on "
	    "daemon IPv4: 15 children, max 15 $(touch @D/X)\n"
	    "mode ban, 1 holders found\n"
	    "10.66.0.10: 3 idle connections, banned";

	fx_init(&f, 10);
	fx_load(&f, "mail");
	mc = fx_subst("cat > @D/mail", f.dir);
	fx_set(&f, "mailcmd", mc);
	free(mc);
	fx_create(&f);
	m = fx_subst(report, f.dir);
	fx_episode(&b, "10.66.0.10", 1, m);
	f.a->ops->notify(f.a, &b);
	cr_assert_eq(fx_drain(&f, 20000), 0);
	cr_assert(!fx_exists(f.dir, "X"));
	got = fx_read(f.dir, "mail");
	cr_assert_not_null(
	    strstr(got, "Subject: [jaild] sendmail: saturation\n"), "%s", got);
	cr_assert_not_null(strstr(got, "To: root\n"), "%s", got);
	cr_assert_not_null(strstr(got, m), "%s", got);
	free(got);
	free(m);
	fx_fini(&f);
}

/* Create an action with actionban set to cmd; return what it logged. */
static char *
fx_check_log(const char *cmd)
{
	char path[128], *got;
	struct fx f;
	int fd, saved;

	fx_init(&f, 5);
	fx_set(&f, "actionban", cmd);
	snprintf(path, sizeof path, "%s/stderr", f.dir);
	log_init(1, 0);
	fflush(stderr);
	saved = dup(2);
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	cr_assert(fd != -1 && saved != -1);
	dup2(fd, 2);
	close(fd);
	fx_create(&f);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	got = fx_read(f.dir, "stderr");
	fx_fini(&f);
	return got;
}

/*
 * Issue #13: quoting protects the shell jaild starts, not a second shell
 * the template starts; the config check warns about that shape.
 */
Test(action, nested_shell_gets_a_warning)
{
	static const char *warned[] = {"sh -c \"echo <matches>\"",
	    "/usr/bin/ssh gw 'logger <matches>'", "x; eval <matches>",
	    "bash -ec 'echo <F-USER>'", "su -c \"a | b <ipmatches>\" nobody"};
	static const char *quiet[] = {"echo <matches> | mail -s \"x\" root",
	    "printf '%s' \"<matches>\" -c", "sh -c 'echo \"$F2B_MATCHES\"'",
	    "sh -c \"echo <ip>\""};
	char *got;
	size_t i;

	for (i = 0; i < sizeof warned / sizeof warned[0]; i++) {
		got = fx_check_log(warned[i]);
		cr_assert(strstr(got, "a second shell runs") != NULL,
		    "no warning for %s: %s", warned[i], got);
		free(got);
	}
	for (i = 0; i < sizeof quiet / sizeof quiet[0]; i++) {
		got = fx_check_log(quiet[i]);
		cr_assert(strstr(got, "a second shell") == NULL,
		    "warning for %s: %s", quiet[i], got);
		free(got);
	}
}
