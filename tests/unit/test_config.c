/* Unit tests of config.c: whole temp CONFDIRs, filters, actions, errors. */
#include <sys/stat.h>
#include <ftw.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "conf_table.h"
#include "config.h"
#include "fleet_conf.h"
#include "duration.h"

static char cdir[64];
static struct conf_errors errs;

static int
config_test_rm(
    const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
config_test_setup(void)
{
	strcpy(cdir, "/tmp/test_config.XXXXXX");
	cr_assert_not_null(mkdtemp(cdir));
	memset(&errs, 0, sizeof errs);
}

static void
config_test_teardown(void)
{
	nftw(cdir, config_test_rm, 16, FTW_DEPTH | FTW_PHYS);
	conf_errors_clear(&errs);
}

/* Write text to CONFDIR/rel, making its directory. */
static void
config_test_put(const char *rel, const char *text)
{
	char path[256], *slash;
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", cdir, rel);
	slash = strrchr(path, '/');
	*slash = '\0';
	mkdir(path, 0755);
	*slash = '/';
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

/*
 * Assert that errs holds exactly msg, where a leading '/' and the word
 * CONFDIR stand for the temp CONFDIR.
 */
static void
config_test_has(const char *msg)
{
	char want[512];
	const char *p;
	size_t i, n = 0;

	if (msg[0] == '/')
		n = snprintf(want, sizeof want, "%s", cdir);
	for (p = msg; *p != '\0' && n + 64 < sizeof want;) {
		if (strncmp(p, "CONFDIR", 7) == 0) {
			n += snprintf(want + n, sizeof want - n, "%s", cdir);
			p += 7;
		} else
			want[n++] = *p++;
	}
	want[n] = '\0';
	for (i = 0; i < errs.n; i++) {
		if (strcmp(errs.msgs[i], want) == 0)
			return;
	}
	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "  have: %s\n", errs.msgs[i]);
	cr_assert_fail("missing error: %s", want);
}

/* A CONFDIR with a record action and a small filter, and one jail. */
static void
config_test_base(const char *jail)
{
	config_test_put("jaild.conf",
	    "[jaild]\n"
	    "socket = /tmp/x.sock\n"
	    "dbpurgeage = 7d\n"
	    "\n"
	    "[DEFAULT]\n"
	    "bantime = 1h\n"
	    "maxretry = 3\n"
	    "ignoreip = 127.0.0.1/8, ::1\n"
	    "banaction = record\n"
	    "port = any\n"
	    "action = %(banaction)s[port=\"%(port)s\"]\n");
	config_test_put("actions/record.conf",
	    "[Definition]\n"
	    "actionban = echo <ip> >> <file>\n"
	    "timeout = 5\n"
	    "[Init]\n"
	    "file = /tmp/record\n"
	    "name = default\n");
	config_test_put("filters/test-common.conf", "[DEFAULT]\n"
	                                            "__prefix = svc:\\s\n");
	config_test_put("filters/test.conf",
	    "[INCLUDES]\n"
	    "before = test-common.conf\n"
	    "[Definition]\n"
	    "failregex = ^%(__prefix)sfail from <HOST>$\n"
	    "            <mdre-<mode>>\n"
	    "ignoreregex =\n"
	    "mdre-normal =\n"
	    "mdre-aggressive = ^aggr <HOST>$\n"
	    "datepattern = ^%%Y-%%m-%%d\n"
	    "[Init]\n"
	    "mode = normal\n");
	if (jail != NULL)
		config_test_put("jails.d/a.conf", jail);
}

/* Load CONFDIR expecting failure, and at least one error. */
static void
config_test_fails(void)
{
	struct config *cfg = config_load(cdir, &errs);

	if (cfg != NULL)
		config_free(cfg);
	cr_assert_null(cfg, "config loaded despite errors");
	cr_assert_gt(errs.n, 0);
}

TestSuite(config, .init = config_test_setup, .fini = config_test_teardown);

Test(config, loads_a_whole_confdir)
{
	struct config *cfg;
	struct jail_conf *j;
	struct action_conf *a;
	char want[128];

	config_test_base("[test]\n"
	                 "enabled = yes\n"
	                 "filter = test[mode=aggressive]\n"
	                 "logpath = /var/log/a.log\n"
	                 "          /var/log/b*.log\n");
	config_test_put("jails.d/a.local", "[test]\nmaxretry = 7\n");
	cfg = config_load(cdir, &errs);
	cr_assert_not_null(cfg, "%s", errs.n ? errs.msgs[0] : "");
	cr_assert_str_eq(cfg->socket_path, "/tmp/x.sock");
	cr_assert_str_eq(cfg->db_path, "/var/lib/jaild/jaild.db");
	cr_assert_eq(cfg->dbpurgeage, 7 * 86400);
	cr_assert_null(cfg->ctl_group);
	snprintf(want, sizeof want, "%s/filters", cdir);
	cr_assert_eq(cfg->nfilter_dirs, 1);
	cr_assert_str_eq(cfg->filter_dirs[0], want);
	cr_assert_eq(cfg->njails, 1);
	j = config_jail_find(cfg, "test");
	cr_assert_not_null(j);
	cr_assert_null(config_jail_find(cfg, "other"));
	cr_assert_eq(j->line, 1);
	cr_assert_eq(j->enabled, 1);
	cr_assert_eq(j->maxretry, 7);
	cr_assert_eq(j->bantime, 3600);
	cr_assert_eq(j->findtime, 600);
	cr_assert_str_eq(j->backend, "auto");
	cr_assert_str_eq(j->port, "any");
	cr_assert_str_eq(j->protocol, "tcp");
	cr_assert_eq(j->nignoreip, 2);
	cr_assert_eq(j->ignoreip[0].prefixlen, 8);
	cr_assert_eq(j->nlogpaths, 2);
	cr_assert_str_eq(j->logpaths[0], "/var/log/a.log");
	cr_assert_str_eq(j->logpaths[1], "/var/log/b*.log");
	cr_assert_str_eq(config_var_get(j->vars, j->nvars, "maxretry"), "7");

	cr_assert_str_eq(j->filter->name, "test[mode=aggressive]");
	cr_assert_eq(j->filter->nfailregex, 2);
	cr_assert_str_eq(
	    j->filter->failregex[0].pattern, "^svc:\\sfail from <HOST>$");
	cr_assert_eq(j->filter->failregex[0].line, 4);
	cr_assert_str_eq(j->filter->failregex[1].pattern, "^aggr <HOST>$");
	cr_assert_eq(j->filter->failregex[1].line, 5);
	cr_assert_eq(j->filter->nignoreregex, 0);
	cr_assert_str_eq(j->filter->datepattern, "^%Y-%m-%d");
	cr_assert_eq(j->filter->maxlines, 1);
	cr_assert_null(j->filter->prefregex);
	cr_assert_null(j->saturation_filter);

	cr_assert_eq(j->nactions, 1);
	a = j->actions[0];
	cr_assert_str_eq(a->name, "record");
	cr_assert_eq(a->line, 11); /* jaild.conf [DEFAULT] action */
	cr_assert_null(a->native);
	cr_assert_eq(a->timeout, 5);
	cr_assert_str_eq(config_var_get(a->vars, a->nvars, "actionban"),
	    "echo <ip> >> <file>");
	cr_assert_str_eq(config_var_get(a->vars, a->nvars, "name"), "test");
	cr_assert_str_eq(config_var_get(a->vars, a->nvars, "port"), "any");
	cr_assert_str_eq(
	    config_var_get(a->vars, a->nvars, "file"), "/tmp/record");
	cr_assert_str_eq(config_var_get(a->vars, a->nvars, "bantime"), "1h");
	config_free(cfg);
	config_free(NULL);
}

Test(config, filter_defaults_to_jail_name_and_normal_mode)
{
	struct config *cfg;
	struct jail_conf *j;

	config_test_base("[test]\nenabled = true\nlogpath = -\n"
	                 "action = record[name=custom, file=\"/x, y\"]\n"
	                 "         record\n");
	cfg = config_load(cdir, &errs);
	cr_assert_not_null(cfg, "%s", errs.n ? errs.msgs[0] : "");
	j = cfg->jails[0];
	cr_assert_eq(j->filter->nfailregex, 1);
	cr_assert_str_eq(j->logpaths[0], "-");
	cr_assert_eq(j->nactions, 2);
	cr_assert_str_eq(
	    config_var_get(j->actions[0]->vars, j->actions[0]->nvars, "name"),
	    "custom");
	cr_assert_str_eq(
	    config_var_get(j->actions[0]->vars, j->actions[0]->nvars, "file"),
	    "/x, y");
	cr_assert_eq(j->actions[1]->line, 5);
	cr_assert_eq(j->actions[1]->timeout, 5);
	config_free(cfg);
}

Test(config, known_values_and_local_override)
{
	struct config *cfg;
	struct jail_conf *j;

	config_test_base("[DEFAULT]\nbantime = 2h\n"
	                 "[test]\nenabled = false\nlogpath = /a\n");
	config_test_put("jails.d/a.local", "[test]\n"
	                                   "enabled = true\n"
	                                   "logpath = %(known/logpath)s /b\n"
	                                   "bantime = -1\n"
	                                   "findtime = %(known/bantime)s\n"
	                                   "vartext = 100%% %(__name__)s\n");
	config_test_put("filters/test.local",
	    "[Definition]\n"
	    "failregex = %(known/failregex)s\n"
	    "            ^local <HOST>$\n");
	cfg = config_load(cdir, &errs);
	cr_assert_not_null(cfg, "%s", errs.n ? errs.msgs[0] : "");
	j = cfg->jails[0];
	cr_assert_eq(j->enabled, 1);
	cr_assert_eq(j->nlogpaths, 2);
	cr_assert_str_eq(j->logpaths[1], "/b");
	cr_assert_eq(j->bantime, DURATION_FOREVER);
	cr_assert_eq(j->findtime, 7200);
	cr_assert_str_eq(
	    config_var_get(j->vars, j->nvars, "vartext"), "100% test");
	cr_assert_eq(j->filter->nfailregex, 2);
	cr_assert_str_eq(j->filter->failregex[1].pattern, "^local <HOST>$");
	cr_assert_eq(j->filter->failregex[1].line, 3);
	config_free(cfg);
}

Test(config, disabled_jail_needs_no_filter)
{
	struct config *cfg;

	config_test_base("[nofilter]\nenabled = false\n");
	cfg = config_load(cdir, &errs);
	cr_assert_not_null(cfg);
	cr_assert_eq(cfg->njails, 1);
	cr_assert_null(cfg->jails[0]->filter);
	config_free(cfg);
}

Test(config, disabled_jail_values_are_not_interpolated)
{
	struct config *cfg;

	/* fail2ban ignores a disabled jail's values: no undefined-key error */
	config_test_base("[off]\nenabled = false\nlogpath = %(nowhere)s\n"
	                 "maxretry = %(undefined)s\n");
	cfg = config_load(cdir, &errs);
	cr_assert_not_null(cfg, "%s", errs.n ? errs.msgs[0] : "");
	cr_assert_eq(cfg->jails[0]->enabled, 0);
	config_free(cfg);
}

Test(config, native_action_and_saturation_filter)
{
	struct config *cfg;
	struct jail_conf *j;

	config_test_base("[test]\nenabled = true\nlogpath = /l\n"
	                 "saturation.filter = sat\nsaturation.idle = 30s\n"
	                 "action = nft\n");
	config_test_put(
	    "actions/nft.conf", "[Definition]\nnative = nftables\n");
	config_test_put("filters/sat.conf",
	    "[Definition]\n"
	    "failregex = ^rejecting connections on daemon \\S+: \\d+ children\n"
	    "maxlines = 2\n");
	cfg = config_load(cdir, &errs);
	cr_assert_not_null(cfg, "%s", errs.n ? errs.msgs[0] : "");
	j = cfg->jails[0];
	cr_assert_str_eq(j->actions[0]->native, "nftables");
	cr_assert_eq(j->actions[0]->timeout, 60);
	cr_assert_not_null(j->saturation_filter);
	cr_assert_eq(j->saturation_filter->maxlines, 2);
	cr_assert_str_eq(
	    config_var_get(j->vars, j->nvars, "saturation.idle"), "30s");
	config_free(cfg);
}

Test(config, saturation_notify_loads_like_an_action)
{
	struct config *cfg;
	struct jail_conf *j;

	config_test_base("[test]\nenabled = true\nlogpath = /l\n"
	                 "saturation.notify = mail[dest=ops]\n"
	                 "[other]\nenabled = true\nlogpath = /l\n"
	                 "filter = test\n");
	config_test_put("actions/mail.conf",
	    "[Definition]\nactionnotify = echo <dest> <name>\n"
	    "[Init]\ndest = root\n");
	cfg = config_load(cdir, &errs);
	cr_assert_not_null(cfg, "%s", errs.n ? errs.msgs[0] : "");
	j = config_jail_find(cfg, "test");
	cr_assert_not_null(j->saturation_notify);
	cr_assert_str_eq(j->saturation_notify->name, "mail");
	cr_assert_eq(j->saturation_notify->line, 4);
	cr_assert_null(j->saturation_notify->native);
	cr_assert_str_eq(config_var_get(j->saturation_notify->vars,
	                     j->saturation_notify->nvars, "dest"),
	    "ops");
	cr_assert_str_eq(config_var_get(j->saturation_notify->vars,
	                     j->saturation_notify->nvars, "name"),
	    "test");
	/* It is not one of the jail's ban actions. */
	cr_assert_eq(j->nactions, 1);
	cr_assert_str_eq(j->actions[0]->name, "record");
	cr_assert_null(config_jail_find(cfg, "other")->saturation_notify);
	config_free(cfg);
}

Test(config, error_saturation_notify_missing_or_native)
{
	config_test_base("[test]\nenabled = 1\nlogpath = /l\n"
	                 "saturation.notify = nomail[dest=x]\n"
	                 "[t2]\nenabled = 1\nlogpath = /l\nfilter = test\n"
	                 "saturation.notify = nft\n"
	                 "[t3]\nenabled = 1\nlogpath = /l\nfilter = test\n"
	                 "saturation.notify = record mail\n"
	                 "[t4]\nenabled = 0\nsaturation.notify = nope\n");
	config_test_put(
	    "actions/nft.conf", "[Definition]\nnative = nftables\n");
	config_test_fails();
	config_test_has("/jails.d/a.conf:4: action 'nomail' not found in "
	                "CONFDIR/actions");
	config_test_has("/jails.d/a.conf:9: saturation.notify: native action "
	                "'nft' cannot notify");
	config_test_has("/jails.d/a.conf:14: saturation.notify: one name "
	                "expected in 'record mail'");
	cr_assert_eq(errs.n, 3, "a disabled jail's notify is not loaded");
}

Test(config, error_bad_values_name_file_line)
{
	config_test_base("[test]\n"
	                 "enabled = maybe\n"
	                 "bantime = 10x\n"
	                 "maxretry = many\n"
	                 "findtime = 0\n"
	                 "ignoreip = 10.0.0.1\n"
	                 "           300.1.1.1, ::1\n");
	config_test_fails();
	config_test_has("/jails.d/a.conf:2: enabled: 'maybe' is not a boolean");
	config_test_has("/jails.d/a.conf:3: bantime: '10x' is not a duration");
	config_test_has("/jails.d/a.conf:4: maxretry: 'many' is not an "
	                "integer");
	config_test_has("/jails.d/a.conf:5: findtime must be between 1 and "
	                "3162240000");
	config_test_has("/jails.d/a.conf:7: ignoreip: invalid address "
	                "'300.1.1.1'");
}

Test(config, error_maxretry_range_from_default)
{
	config_test_base(
	    "[DEFAULT]\nmaxretry = 0\n[test]\nlogpath = /l\nenabled = 1\n");
	config_test_fails();
	config_test_has("/jails.d/a.conf:2: maxretry must be between 1 and "
	                "1000000");
	cr_assert_eq(errs.n, 1);
}

Test(config, error_missing_filter_and_action)
{
	config_test_base("[test]\nenabled = 1\nlogpath = /l\n"
	                 "filter = nope\naction = record\n   missing[a=b]\n");
	config_test_fails();
	config_test_has("/jails.d/a.conf:4: filter 'nope' not found in "
	                "CONFDIR/filters");
}

Test(config, error_missing_action_line)
{
	config_test_base("[test]\nenabled = 1\nlogpath = /l\n"
	                 "action = record\n   missing[a=b]\n");
	config_test_fails();
	config_test_has("/jails.d/a.conf:5: action 'missing' not found in "
	                "CONFDIR/actions");
}

Test(config, error_unbalanced_bracket)
{
	config_test_base("[test]\nenabled = 1\nlogpath = /l\n"
	                 "action = record[port=1, file=\"x\"\n");
	config_test_fails();
	config_test_has("/jails.d/a.conf:4: action: unbalanced [ in "
	                "'record[port=1, file=\"x\"'");
}

Test(config, error_include_loop)
{
	config_test_base("[test]\nenabled = 1\nlogpath = /l\nfilter = x\n");
	config_test_put("filters/x.conf",
	    "[INCLUDES]\nbefore = y.conf\n"
	    "[Definition]\nfailregex = x <HOST>\n");
	config_test_put("filters/y.conf", "[INCLUDES]\n\nafter = x.conf\n");
	config_test_fails();
	config_test_has("/filters/y.conf:3: include loop: "
	                "CONFDIR/filters/x.conf is already being read");
}

Test(config, error_interpolation_loop_and_missing_key)
{
	config_test_base("[test]\nlogpath = /l\na = %(b)s\nb = x%(a)s\n"
	                 "c = %(nokey)s\nd = %(bad\nenabled = true\n");
	config_test_fails();
	config_test_has("/jails.d/a.conf:3: interpolation loop in 'a' at "
	                "%(b)s");
	config_test_has("/jails.d/a.conf:5: unknown interpolation key "
	                "'nokey' in 'c'");
	config_test_has("/jails.d/a.conf:6: bad interpolation in 'd': "
	                "%(bad");
}

Test(config, error_duplicate_jail)
{
	config_test_base("[dup]\n");
	config_test_put("jails.d/b.conf", "\n[dup]\n");
	config_test_fails();
	config_test_has("/jails.d/b.conf:2: jail 'dup' already defined at "
	                "CONFDIR/jails.d/a.conf:1");
}

Test(config, error_no_logpath_and_bad_name)
{
	config_test_base("[test]\nenabled = on\n[bad name!]\n");
	config_test_fails();
	config_test_has("/jails.d/a.conf:1: jail 'test' has no logpath");
	config_test_has("/jails.d/a.conf:3: invalid jail name 'bad name!': "
	                "use letters, digits, _ . -");
}

Test(config, error_syntax_in_jail_file_and_unknown_daemon_key)
{
	config_test_base("[test]\nthis is not ini\n[broken\n");
	config_test_put("jaild.local", "[jaild]\nsockett = /x\n");
	config_test_fails();
	config_test_has("/jails.d/a.conf:2: syntax error: expected key = "
	                "value");
	config_test_has("/jails.d/a.conf:3: bad section header: expected "
	                "[name]");
	config_test_has("/jaild.local:2: unknown key 'sockett' in [jaild] "
	                "(did you mean socket?)");
}

Test(config, typo_suggestions)
{
	cr_assert_str_eq(
	    conf_table_suggest(CONF_TABLE_JAIL, "maxretyr"), "maxretry");
	cr_assert_str_eq(
	    conf_table_suggest(CONF_TABLE_JAIL, "bantim"), "bantime");
	cr_assert_str_eq(
	    conf_table_suggest(CONF_TABLE_DAEMON, "sokcet"), "socket");
	cr_assert_null(conf_table_suggest(CONF_TABLE_JAIL, "maxretry"));
	cr_assert_null(conf_table_suggest(CONF_TABLE_JAIL, "mta"));
	cr_assert_null(conf_table_suggest(CONF_TABLE_JAIL, "chain"));
}

Test(config, error_filter_without_failregex_and_bad_maxlines)
{
	config_test_base("[test]\nenabled = 1\nlogpath = /l\nfilter = e\n");
	config_test_put("filters/e.conf", "[Definition]\nmaxlines = 0\n"
	                                  "ignoreregex = x\n");
	config_test_fails();
	config_test_has("/filters/e.conf:2: maxlines must be between 1 and "
	                "1000");
}

Test(config, error_filter_without_failregex)
{
	config_test_base("[test]\nenabled = 1\nlogpath = /l\nfilter = e\n");
	config_test_put("filters/e.conf", "[Definition]\nfailregex =\n");
	config_test_fails();
	config_test_has("/filters/e.conf: filter has no failregex");
}

Test(config, error_missing_jaild_conf)
{
	config_test_fails();
	config_test_has("/jaild.conf: cannot open: No such file or directory");
}

Test(config, error_tag_loop)
{
	config_test_base("[test]\nenabled = 1\nlogpath = /l\nfilter = t\n");
	config_test_put("filters/t.conf",
	    "[Definition]\n"
	    "failregex = <a> <HOST>\na = <b>\nb = <a>\n");
	config_test_fails();
	config_test_has("/filters/t.conf:2: tag loop in 'failregex'");
}

Test(config, load_filter_by_path_with_params)
{
	struct filter_conf *fc;
	char ref[256];

	config_test_base(NULL);
	snprintf(
	    ref, sizeof ref, "%s/filters/test.conf[mode=aggressive]", cdir);
	fc = config_load_filter(NULL, ref, &errs);
	cr_assert_not_null(fc, "%s", errs.n ? errs.msgs[0] : "");
	cr_assert_eq(fc->nfailregex, 2);
	config_filter_free(fc);
	fc = config_load_filter(cdir, "test", &errs);
	cr_assert_not_null(fc);
	cr_assert_eq(fc->nfailregex, 1);
	config_filter_free(fc);
	config_filter_free(NULL);
	cr_assert_null(config_load_filter(cdir, "nope[x=1", &errs));
	config_test_has("nope[x=1: filter: unbalanced [ in 'nope[x=1'");
}

Test(config, filter_options_from_init_and_params)
{
	struct filter_conf *fc;

	config_test_put("filters/ml.conf", "[Definition]\n"
	                                   "failregex = ^fail <HOST>$\n"
	                                   "maxlines = 2\n"
	                                   "[Init]\n"
	                                   "maxlines = 5\n"
	                                   "journalmatch = _COMM=x\n");
	fc = config_load_filter(cdir, "ml", &errs);
	cr_assert_not_null(fc, "%s", errs.n ? errs.msgs[0] : "");
	/* fail2ban: [Init] wins over [Definition], parameters over both. */
	cr_assert_eq(fc->maxlines, 5);
	cr_assert_str_eq(fc->journalmatch, "_COMM=x");
	config_filter_free(fc);
	fc = config_load_filter(cdir, "ml[maxlines=7]", &errs);
	cr_assert_not_null(fc);
	cr_assert_eq(fc->maxlines, 7);
	config_filter_free(fc);
}

Test(config, shipped_jaild_conf_loads)
{
	const char *top = getenv("top_srcdir");
	char cmd[512];
	struct config *cfg;
	struct jail_conf *j;

	if (top == NULL)
		cr_skip_test("top_srcdir not set");
	config_test_base(NULL);
	snprintf(
	    cmd, sizeof cmd, "cp '%s/jaild.conf' '%s/jaild.conf'", top, cdir);
	cr_assert_eq(system(cmd), 0);
	config_test_put("actions/nftables.conf",
	    "[Definition]\n"
	    "native = nftables\n[Init]\nport = 0:65535\n");
	config_test_put("jails.d/t.conf", "[test]\nenabled = true\n"
	                                  "logpath = /l\n");
	cfg = config_load(cdir, &errs);
	cr_assert_not_null(cfg, "%s", errs.n ? errs.msgs[0] : "");
	j = cfg->jails[0];
	cr_assert_eq(j->bantime, 600);
	cr_assert_eq(j->maxretry, 5);
	cr_assert_eq(j->nignoreip, 2);
	cr_assert_str_eq(j->actions[0]->name, "nftables");
	cr_assert_str_eq(
	    config_var_get(j->actions[0]->vars, j->actions[0]->nvars, "chain"),
	    "input");
	config_free(cfg);
}

Test(config, every_fail2ban_filter_loads)
{
	glob_t g;
	struct filter_conf *fc;
	const char *base;
	size_t i, bad = 0, n = 0;

	if (glob("/etc/fail2ban/filter.d/*.conf", 0, NULL, &g) != 0)
		cr_skip_test("no /etc/fail2ban/filter.d");
	for (i = 0; i < g.gl_pathc; i++) {
		base = strrchr(g.gl_pathv[i], '/') + 1;
		/* Shared include files, not filters. */
		if (strcmp(base, "common.conf") == 0 ||
		    strstr(base, "-common.conf") != NULL)
			continue;
		n++;
		fc = config_load_filter(NULL, g.gl_pathv[i], &errs);
		if (fc == NULL) {
			fprintf(stderr, "failed: %s\n", g.gl_pathv[i]);
			bad++;
		}
		config_filter_free(fc);
	}
	globfree(&g);
	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "  %s\n", errs.msgs[i]);
	cr_assert_gt(n, 0);
	cr_assert_eq(bad, 0, "%zu of %zu fail2ban filters failed", bad, n);
}

/*
 * Issue #13: a FIFO in jails.d hung a reload, and a dangling link was
 * skipped in silence.  Both refuse the config, naming the file; so does a
 * filter or an action that is not a regular file.
 */
Test(config, error_entries_that_are_not_regular_files)
{
	char path[256];

	config_test_base("[test]\nenabled = 1\nlogpath = /l\nfilter = test\n");
	snprintf(path, sizeof path, "%s/jails.d/b.conf", cdir);
	cr_assert_eq(mkfifo(path, 0600), 0);
	snprintf(path, sizeof path, "%s/jails.d/c.local", cdir);
	cr_assert_eq(symlink("/nonexistent/c.local", path), 0);
	config_test_fails();
	config_test_has("/jails.d/b.conf: not a regular file (a FIFO): only "
	                "regular files, or symbolic links to them, are read");
	config_test_has("/jails.d/c.local: cannot open: a symbolic link to a "
	                "file that does not exist");
}

Test(config, error_action_that_is_not_a_regular_file)
{
	char path[256];

	config_test_base("[test]\nenabled = 1\nlogpath = /l\nfilter = test\n");
	snprintf(path, sizeof path, "%s/actions/record.local", cdir);
	cr_assert_eq(symlink("/dev/zero", path), 0);
	config_test_fails();
	config_test_has("/actions/record.local: not a regular file (a "
	                "character device): only regular files, or symbolic "
	                "links to them, are read");
}

/* [fleet]: keys checked, url needed, each jail's fleet key checked. */
Test(config, fleet_section_and_jail_key)
{
	struct config *cfg;

	config_test_base("[test]\nenabled = 1\nlogpath = /l\nfleet = sahre\n"
	                 "[other]\nenabled = 1\nlogpath = /l\nfilter = test\n"
	                 "fleet = share\n");
	config_test_fails();
	config_test_has("/jails.d/a.conf:4: fleet: 'sahre' is not off, share "
	                "or count");
	config_test_has("/jails.d/a.conf:9: fleet = share, but jaild.conf has "
	                "no [fleet] section with a url");
	conf_errors_clear(&errs);
	config_test_put("jaild.local", "[fleet]\nnode = mx1\nminprefix4 = 40\n"
	                               "colour = blue\n");
	config_test_fails();
	config_test_has("/jaild.local:1: [fleet]: url (a PostgreSQL conninfo "
	                "or URI) is needed");
	config_test_has("/jaild.local:3: minprefix4 must be between 1 and 32");
	config_test_has("/jaild.local:4: unknown key 'colour' in [fleet]");
	conf_errors_clear(&errs);
	config_test_base("[test]\nenabled = 1\nlogpath = /l\nfleet = count\n");
	config_test_put("jaild.local", "[fleet]\nurl = host=/tmp dbname=x\n");
#ifdef HAVE_LIBPQ
	cfg = config_load(cdir, &errs);
	cr_assert_not_null(cfg, "%s", errs.n > 0 ? errs.msgs[0] : "");
	cr_assert_str_eq(cfg->fleet->url, "host=/tmp dbname=x");
	cr_assert_eq(cfg->fleet->minprefix4, 16);
	cr_assert_eq(cfg->fleet->minprefix6, 32);
	cr_assert_eq(fleet_conf_mode(cfg->jails[0]), FLEET_COUNT);
	config_free(cfg);
#else
	/* Without libpq the fleet is refused, naming the section. */
	(void)cfg;
	config_test_fails();
	config_test_has("/jaild.local:1: [fleet]: this jaild was built "
	                "without libpq (PostgreSQL), so the fleet is "
	                "unavailable");
#endif
}
