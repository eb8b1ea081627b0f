#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "bantime.h"
#include "config.h"

static char jname[] = "sshd", jfile[] = "jails.d/sshd.conf";
static struct config_var vars[16];
static size_t nvars;
static struct jail_conf jc;

/* A jail_conf with the given key = value pairs, each on its own line. */
static void
conf(const char *k1, const char *v1, const char *k2, const char *v2)
{
	const char *kv[4] = {k1, v1, k2, v2};
	size_t i;

	memset(&jc, 0, sizeof jc);
	nvars = 0;
	jc.name = jname;
	jc.file = jfile;
	jc.line = 1;
	for (i = 0; i < 4 && kv[i] != NULL; i += 2) {
		vars[nvars].key = (char *)kv[i];
		vars[nvars].value = (char *)kv[i + 1];
		vars[nvars].file = jfile;
		vars[nvars].line = (int)(10 + nvars);
		nvars++;
	}
	vars[nvars].key = (char *)"bantime.increment";
	vars[nvars].value = (char *)"true";
	vars[nvars].file = jfile;
	vars[nvars].line = 9;
	nvars++;
	jc.vars = vars;
	jc.nvars = nvars;
}

static double
eval(const char *s, double t, double c, double f)
{
	struct bantime_expr *e;
	char *cause = NULL;
	double r = -12345;

	e = bantime_expr_parse(s, &cause);
	cr_assert_not_null(e, "%s: %s", s, cause);
	cr_assert_eq(
	    bantime_expr_eval(e, t, c, f, &r, &cause), 0, "%s: %s", s, cause);
	bantime_expr_free(e);
	return r;
}

static void
refused(const char *s, const char *why)
{
	char *cause = NULL;

	cr_assert_null(bantime_expr_parse(s, &cause), "accepted %s", s);
	cr_assert_not_null(strstr(cause, why), "%s: %s", s, cause);
	free(cause);
}

Test(bantime, formula_arithmetic_follows_python)
{
	cr_assert_float_eq(eval("1 + 2 * 3", 0, 0, 1), 7, 1e-9);
	cr_assert_float_eq(eval("(1 + 2) * 3", 0, 0, 1), 9, 1e-9);
	cr_assert_float_eq(eval("2 ** 3 ** 2", 0, 0, 1), 512, 1e-9);
	cr_assert_float_eq(eval("-2 ** 2", 0, 0, 1), -4, 1e-9);
	cr_assert_float_eq(eval("2 ** -1", 0, 0, 1), 0.5, 1e-9);
	cr_assert_float_eq(eval("7 / 2", 0, 0, 1), 3.5, 1e-9);
	cr_assert_float_eq(eval("7 // 2", 0, 0, 1), 3, 1e-9);
	cr_assert_float_eq(eval("-7 % 3", 0, 0, 1), 2, 1e-9);
	cr_assert_float_eq(eval("1 << 10 >> 2", 0, 0, 1), 256, 1e-9);
	cr_assert_float_eq(eval("1 + 1 << 2", 0, 0, 1), 8, 1e-9);
	cr_assert_float_eq(eval("1 < 2 < 3", 0, 0, 1), 1, 1e-9);
	cr_assert_float_eq(eval("3 > 2 > 2", 0, 0, 1), 0, 1e-9);
	cr_assert_float_eq(eval("1 if 0 else 2 if 1 else 3", 0, 0, 1), 2, 1e-9);
	cr_assert_float_eq(eval("min(3, 1, 2) + max(4, 5)", 0, 0, 1), 6, 1e-9);
	cr_assert_float_eq(eval("not 0 and 5 or 6", 0, 0, 1), 5, 1e-9);
	cr_assert_float_eq(eval("1.5e1 + .5", 0, 0, 1), 15.5, 1e-9);
}

Test(bantime, documented_formulas_evaluate)
{
	/* jail.conf's default: doubles per ban, up to 2^20. */
	const char *dflt = "ban.Time * (1<<(ban.Count if ban.Count<20 else "
	                   "20)) * banFactor";
	/* jail.conf's "more aggressive example". */
	const char *aggr = "ban.Time * math.exp(float(ban.Count+1)*banFactor)/"
	                   "math.exp(1*banFactor)";

	cr_assert_float_eq(eval(dflt, 600, 1, 1), 1200, 1e-9);
	cr_assert_float_eq(eval(dflt, 600, 3, 2), 600 * 8 * 2, 1e-9);
	cr_assert_float_eq(eval(dflt, 600, 50, 1), 600.0 * (1 << 20), 1e-3);
	cr_assert_float_eq(eval(aggr, 600, 0, 1), 600, 1e-6);
	cr_assert_float_eq(eval(aggr, 600, 2, 0.5), 600 * 2.718281828, 1e-3);
}

Test(bantime, anything_else_is_refused)
{
	refused("__import__('os').system('id')", "unknown name '__import__'");
	refused("ban.Time; 1", "unexpected ';");
	refused("open('/etc/passwd')", "unknown name 'open'");
	refused("ban.Time * ", "unexpected end");
	refused("(1 + 2", "expected ')'");
	refused("1 if 2", "expected 'else'");
	refused("0x10", "unexpected 'x10'");
	refused("ban.Time = 3", "unexpected");
	refused("min(1)", "two arguments");
	refused("[1, 2][0]", "unexpected '['");
	refused("lambda: 1", "unknown name 'lambda'");
	refused("ban.__class__", "unknown name");
	refused("((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((("
	        "((((((((((((((((1))))))))))))))))))))))))))))))))))))))))))))"
	        "))))))))))))))))))))))))))))",
	    "nested too deeply");
}

Test(bantime, evaluation_errors_are_reported)
{
	struct bantime_expr *e;
	char *cause = NULL;
	double r;

	e = bantime_expr_parse("ban.Time / ban.Count", &cause);
	cr_assert_not_null(e);
	cr_assert_eq(bantime_expr_eval(e, 10, 0, 1, &r, &cause), -1);
	cr_assert_str_eq(cause, "division by zero");
	free(cause);
	bantime_expr_free(e);
	e = bantime_expr_parse("1 << ban.Count", &cause);
	cr_assert_eq(bantime_expr_eval(e, 10, 99, 1, &r, &cause), -1);
	cr_assert_str_eq(cause, "shift count out of range");
	free(cause);
	bantime_expr_free(e);
}

Test(bantime, default_formula_doubles_per_earlier_ban)
{
	struct bantime *bt;
	char *cause = NULL;
	int64_t t;

	conf(NULL, NULL, NULL, NULL);
	bt = bantime_create(&jc, &cause);
	cr_assert_not_null(bt, "%s", cause);
	cr_assert(bantime_enabled(bt));
	cr_assert_eq(bantime_compute(bt, 600, 0, 0, &t, &cause), 0);
	cr_assert_eq(t, 600);
	cr_assert_eq(bantime_compute(bt, 600, 1, 0, &t, &cause), 0);
	cr_assert_eq(t, 1200);
	cr_assert_eq(bantime_compute(bt, 600, 4, 0, &t, &cause), 0);
	cr_assert_eq(t, 9600);
	/* Permanent stays permanent. */
	cr_assert_eq(bantime_compute(bt, -1, 4, 0, &t, &cause), 0);
	cr_assert_eq(t, -1);
	bantime_free(bt);
}

Test(bantime, multipliers_win_and_maxtime_caps)
{
	struct bantime *bt;
	char *cause = NULL;
	int64_t t;

	conf("bantime.multipliers", " 1 5 30 ", "bantime.maxtime", "1h");
	bt = bantime_create(&jc, &cause);
	cr_assert_not_null(bt, "%s", cause);
	cr_assert_eq(bantime_compute(bt, 60, 1, 0, &t, &cause), 0);
	cr_assert_eq(t, 300);
	cr_assert_eq(bantime_compute(bt, 60, 2, 0, &t, &cause), 0);
	cr_assert_eq(t, 1800);
	/* The last multiplier repeats; maxtime caps. */
	cr_assert_eq(bantime_compute(bt, 600, 9, 0, &t, &cause), 0);
	cr_assert_eq(t, 3600);
	bantime_free(bt);
}

Test(bantime, factor_and_rndtime)
{
	struct bantime *bt;
	char *cause = NULL;
	int64_t t;

	conf("bantime.factor", "2.0 / 2", "bantime.rndtime", "100");
	bt = bantime_create(&jc, &cause);
	cr_assert_not_null(bt, "%s", cause);
	cr_assert_eq(bantime_compute(bt, 600, 1, 0.0, &t, &cause), 0);
	cr_assert_eq(t, 1200);
	cr_assert_eq(bantime_compute(bt, 600, 1, 0.5, &t, &cause), 0);
	cr_assert_eq(t, 1250);
	bantime_free(bt);
	/* A formula never gives less than the base time. */
	conf("bantime.formula", "ban.Time / 10", NULL, NULL);
	bt = bantime_create(&jc, &cause);
	cr_assert_eq(bantime_compute(bt, 600, 3, 0, &t, &cause), 0);
	cr_assert_eq(t, 600);
	bantime_free(bt);
}

Test(bantime, bad_config_names_file_and_line)
{
	char *cause = NULL;

	conf("bantime.maxtime", "1h", "bantime.formula", "ban.Time * os.x");
	cr_assert_null(bantime_create(&jc, &cause));
	cr_assert_str_eq(cause, "jails.d/sshd.conf:11: bantime.formula: "
	                        "unknown name 'os.x' at column 12");
	free(cause);
	conf("bantime.multipliers", "1 2 x", NULL, NULL);
	cr_assert_null(bantime_create(&jc, &cause));
	cr_assert_not_null(
	    strstr(cause, "sshd.conf:10: bantime.multipliers"), "%s", cause);
	free(cause);
	conf("bantime.factor", "-1", NULL, NULL);
	cr_assert_null(bantime_create(&jc, &cause));
	cr_assert_not_null(strstr(cause, "must not be negative"), "%s", cause);
	free(cause);
}
