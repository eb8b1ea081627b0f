/* Ban time increment: fail2ban's bantime.* options and a safe formula. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bantime.h"
#include "conf_table.h"
#include "config.h"
#include "duration.h"
#include "xmalloc.h"

#define BANTIME_MAX_DEPTH 64
#define BANTIME_MAX_LEN 1024
#define BANTIME_MAX_MULT 64
/* A ban time is capped at 100 years, like the bantime key itself. */
#define BANTIME_CAP ((double)100 * 366 * 24 * 3600)
/* fail2ban's default: double per earlier ban, up to 2^20. */
#define BANTIME_DEFAULT_FORMULA                                                \
	"ban.Time * (1<<(ban.Count if ban.Count<20 else 20)) * banFactor"

enum bantime_op {
	BANTIME_NUM,
	BANTIME_TIME,
	BANTIME_COUNT,
	BANTIME_FACTOR,
	BANTIME_NEG,
	BANTIME_NOT,
	BANTIME_ADD,
	BANTIME_SUB,
	BANTIME_MUL,
	BANTIME_DIV,
	BANTIME_FLOORDIV,
	BANTIME_MOD,
	BANTIME_POW,
	BANTIME_SHL,
	BANTIME_SHR,
	BANTIME_LT,
	BANTIME_LE,
	BANTIME_GT,
	BANTIME_GE,
	BANTIME_EQ,
	BANTIME_NE,
	BANTIME_AND,
	BANTIME_OR,
	BANTIME_IF, /* a if b else c */
	BANTIME_MIN,
	BANTIME_MAX,
	BANTIME_ABS,
	BANTIME_INT,
	BANTIME_FLOAT,
	BANTIME_EXP,
};

struct bantime_node {
	enum bantime_op op;
	double num;
	int a, b, c; /* child node indices, -1 if unused */
};

struct bantime_expr {
	struct bantime_node *nodes;
	size_t n;
	int root;
};

struct bantime {
	int increment;
	int overalljails;
	double factor;
	struct bantime_expr *formula;
	int64_t mult[BANTIME_MAX_MULT];
	size_t nmult;
	int64_t maxtime; /* 0: none */
	int64_t rndtime; /* 0: none */
};

/* The parser's state over one formula. */
struct bantime_parse {
	const char *s;
	size_t pos;
	int depth;
	char *cause;
	struct bantime_expr *e;
};

/* Record the first parse error, with the column it was found at. */
static int bantime_parse_fail(struct bantime_parse *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static int
bantime_parse_fail(struct bantime_parse *p, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (p->cause != NULL)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	xasprintf(
	    &p->cause, "%s at column %zu", msg ? msg : "error", p->pos + 1);
	free(msg);
	return -1;
}

/* Append a node; returns its index. */
static int
bantime_node_add(struct bantime_parse *p, enum bantime_op op, double num, int a,
    int b, int c)
{
	struct bantime_expr *e = p->e;

	e->nodes = xreallocarray(e->nodes, e->n + 1, sizeof *e->nodes);
	e->nodes[e->n].op = op;
	e->nodes[e->n].num = num;
	e->nodes[e->n].a = a;
	e->nodes[e->n].b = b;
	e->nodes[e->n].c = c;
	return (int)e->n++;
}

static void
bantime_skip_space(struct bantime_parse *p)
{
	while (
	    p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n')
		p->pos++;
}

/* Consume the operator tok if it comes next (not a prefix of a longer). */
static int
bantime_accept(struct bantime_parse *p, const char *tok)
{
	size_t len = strlen(tok);
	char next;

	bantime_skip_space(p);
	if (strncmp(p->s + p->pos, tok, len) != 0)
		return 0;
	next = p->s[p->pos + len];
	if (isalpha((unsigned char)tok[0])) {
		if (isalnum((unsigned char)next) || next == '_' || next == '.')
			return 0;
	} else if (len == 1 && strchr("*/<>=", tok[0]) != NULL &&
	           next != '\0' && strchr("*/<>=", next) != NULL)
		return 0; /* "*" must not eat the first half of "**" */
	p->pos += len;
	return 1;
}

/* Read a dotted name ("ban.Time", "math.exp") into buf, or fail. */
static int
bantime_name(struct bantime_parse *p, char *buf, size_t len)
{
	size_t start = p->pos, n;

	while (
	    isalnum((unsigned char)p->s[p->pos]) || p->s[p->pos] == '_' ||
	    (p->s[p->pos] == '.' && isalpha((unsigned char)p->s[p->pos + 1])))
		p->pos++;
	n = p->pos - start;
	if (n == 0 || n >= len)
		return bantime_parse_fail(p, "unexpected '%.1s'", p->s + start);
	memcpy(buf, p->s + start, n);
	buf[n] = '\0';
	return 0;
}

static int bantime_parse_expr(struct bantime_parse *);

/* A decimal number: digits, a fraction, an exponent; no hex, no inf. */
static int
bantime_parse_number(struct bantime_parse *p)
{
	const char *s = p->s + p->pos;
	size_t n = strspn(s, "0123456789");
	char buf[64];

	if (s[n] == '.')
		n += 1 + strspn(s + n + 1, "0123456789");
	if ((s[n] == 'e' || s[n] == 'E') &&
	    (isdigit((unsigned char)s[n + 1]) ||
	        ((s[n + 1] == '+' || s[n + 1] == '-') &&
	            isdigit((unsigned char)s[n + 2])))) {
		n += 2;
		n += strspn(s + n, "0123456789");
	}
	if (n >= sizeof buf || (n == 1 && s[0] == '.'))
		return bantime_parse_fail(p, "bad number");
	memcpy(buf, s, n);
	buf[n] = '\0';
	p->pos += n;
	return bantime_node_add(p, BANTIME_NUM, strtod(buf, NULL), -1, -1, -1);
}

/* fn(args): min and max take two or more, the others exactly one. */
static int
bantime_parse_call(struct bantime_parse *p, enum bantime_op op)
{
	int a, b, nargs = 1;

	if (!bantime_accept(p, "("))
		return bantime_parse_fail(p, "expected '('");
	if ((a = bantime_parse_expr(p)) < 0)
		return -1;
	while (bantime_accept(p, ",")) {
		if (op != BANTIME_MIN && op != BANTIME_MAX)
			return bantime_parse_fail(p, "one argument expected");
		if ((b = bantime_parse_expr(p)) < 0)
			return -1;
		a = bantime_node_add(p, op, 0, a, b, -1);
		nargs++;
	}
	if (!bantime_accept(p, ")"))
		return bantime_parse_fail(p, "expected ')'");
	if ((op == BANTIME_MIN || op == BANTIME_MAX) && nargs < 2)
		return bantime_parse_fail(p, "min/max need two arguments");
	if (op == BANTIME_MIN || op == BANTIME_MAX)
		return a;
	return bantime_node_add(p, op, 0, a, -1, -1);
}

/* A name: one of the three variables, or a function call. */
static int
bantime_parse_name(struct bantime_parse *p)
{
	static const struct {
		const char *name;
		enum bantime_op op;
		int call;
	} names[] = {
	    {"ban.Time", BANTIME_TIME, 0},
	    {"ban.Count", BANTIME_COUNT, 0},
	    {"banFactor", BANTIME_FACTOR, 0},
	    {"min", BANTIME_MIN, 1},
	    {"max", BANTIME_MAX, 1},
	    {"abs", BANTIME_ABS, 1},
	    {"int", BANTIME_INT, 1},
	    {"float", BANTIME_FLOAT, 1},
	    {"math.exp", BANTIME_EXP, 1},
	};
	size_t start = p->pos, i;
	char name[64];

	if (bantime_name(p, name, sizeof name) != 0)
		return -1;
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strcmp(name, names[i].name) != 0)
			continue;
		if (names[i].call)
			return bantime_parse_call(p, names[i].op);
		return bantime_node_add(p, names[i].op, 0, -1, -1, -1);
	}
	p->pos = start;
	return bantime_parse_fail(p, "unknown name '%s'", name);
}

/* primary := number | name | name(args) | ( expr ) */
static int
bantime_parse_primary(struct bantime_parse *p)
{
	char c;
	int a;

	bantime_skip_space(p);
	c = p->s[p->pos];
	if (isdigit((unsigned char)c) || c == '.')
		return bantime_parse_number(p);
	if (isalpha((unsigned char)c) || c == '_')
		return bantime_parse_name(p);
	if (bantime_accept(p, "(")) {
		if ((a = bantime_parse_expr(p)) < 0)
			return -1;
		if (!bantime_accept(p, ")"))
			return bantime_parse_fail(p, "expected ')'");
		return a;
	}
	if (c == '\0')
		return bantime_parse_fail(p, "unexpected end");
	return bantime_parse_fail(p, "unexpected '%c'", c);
}

static int bantime_parse_unary(struct bantime_parse *);

/* power := primary ['**' unary]: right-associative, above unary minus. */
static int
bantime_parse_power(struct bantime_parse *p)
{
	int a, b;

	if ((a = bantime_parse_primary(p)) < 0)
		return -1;
	if (!bantime_accept(p, "**"))
		return a;
	if ((b = bantime_parse_unary(p)) < 0)
		return -1;
	return bantime_node_add(p, BANTIME_POW, 0, a, b, -1);
}

static int
bantime_parse_unary(struct bantime_parse *p)
{
	int a;

	if (++p->depth > BANTIME_MAX_DEPTH)
		return bantime_parse_fail(p, "nested too deeply");
	if (bantime_accept(p, "-")) {
		if ((a = bantime_parse_unary(p)) >= 0)
			a = bantime_node_add(p, BANTIME_NEG, 0, a, -1, -1);
	} else if (bantime_accept(p, "+"))
		a = bantime_parse_unary(p);
	else
		a = bantime_parse_power(p);
	p->depth--;
	return a;
}

struct bantime_binop {
	const char *tok;
	enum bantime_op op;
};

/* One left-associative level: next (op next)*, ops tried in order. */
static int
bantime_parse_level(struct bantime_parse *p, const struct bantime_binop *ops,
    int (*next)(struct bantime_parse *))
{
	const struct bantime_binop *o;
	int a, b;

	if ((a = next(p)) < 0)
		return -1;
	for (;;) {
		for (o = ops; o->tok != NULL; o++) {
			if (bantime_accept(p, o->tok))
				break;
		}
		if (o->tok == NULL)
			return a;
		if ((b = next(p)) < 0)
			return -1;
		a = bantime_node_add(p, o->op, 0, a, b, -1);
	}
}

static int
bantime_parse_term(struct bantime_parse *p)
{
	static const struct bantime_binop ops[] = {{"**", BANTIME_POW},
	    {"//", BANTIME_FLOORDIV}, {"*", BANTIME_MUL}, {"/", BANTIME_DIV},
	    {"%", BANTIME_MOD}, {NULL, 0}};

	/* "**" is listed so that accept() never splits it; power took it. */
	return bantime_parse_level(p, ops + 1, bantime_parse_unary);
}

static int
bantime_parse_arith(struct bantime_parse *p)
{
	static const struct bantime_binop ops[] = {
	    {"+", BANTIME_ADD}, {"-", BANTIME_SUB}, {NULL, 0}};

	return bantime_parse_level(p, ops, bantime_parse_term);
}

static int
bantime_parse_shift(struct bantime_parse *p)
{
	static const struct bantime_binop ops[] = {
	    {"<<", BANTIME_SHL}, {">>", BANTIME_SHR}, {NULL, 0}};

	return bantime_parse_level(p, ops, bantime_parse_arith);
}

/* Comparisons chain as in Python: a < b < c is a < b and b < c. */
static int
bantime_parse_compare(struct bantime_parse *p)
{
	static const struct bantime_binop ops[] = {{"<=", BANTIME_LE},
	    {">=", BANTIME_GE}, {"==", BANTIME_EQ}, {"!=", BANTIME_NE},
	    {"<", BANTIME_LT}, {">", BANTIME_GT}, {NULL, 0}};
	const struct bantime_binop *o;
	int a, b, cmp, all = -1;

	if ((a = bantime_parse_shift(p)) < 0)
		return -1;
	for (;;) {
		for (o = ops; o->tok != NULL && !bantime_accept(p, o->tok);)
			o++;
		if (o->tok == NULL)
			return all >= 0 ? all : a;
		if ((b = bantime_parse_shift(p)) < 0)
			return -1;
		cmp = bantime_node_add(p, o->op, 0, a, b, -1);
		all = all < 0
		          ? cmp
		          : bantime_node_add(p, BANTIME_AND, 0, all, cmp, -1);
		a = b;
	}
}

static int
bantime_parse_not(struct bantime_parse *p)
{
	int a;

	if (!bantime_accept(p, "not"))
		return bantime_parse_compare(p);
	if (++p->depth > BANTIME_MAX_DEPTH)
		return bantime_parse_fail(p, "nested too deeply");
	if ((a = bantime_parse_not(p)) >= 0)
		a = bantime_node_add(p, BANTIME_NOT, 0, a, -1, -1);
	p->depth--;
	return a;
}

static int
bantime_parse_and(struct bantime_parse *p)
{
	static const struct bantime_binop ops[] = {
	    {"and", BANTIME_AND}, {NULL, 0}};

	return bantime_parse_level(p, ops, bantime_parse_not);
}

static int
bantime_parse_or(struct bantime_parse *p)
{
	static const struct bantime_binop ops[] = {
	    {"or", BANTIME_OR}, {NULL, 0}};

	return bantime_parse_level(p, ops, bantime_parse_and);
}

/* expr := or ['if' or 'else' expr] */
static int
bantime_parse_expr(struct bantime_parse *p)
{
	int a, c, b;

	if (++p->depth > BANTIME_MAX_DEPTH)
		return bantime_parse_fail(p, "nested too deeply");
	if ((a = bantime_parse_or(p)) < 0)
		return -1;
	if (bantime_accept(p, "if")) {
		if ((c = bantime_parse_or(p)) < 0)
			return -1;
		if (!bantime_accept(p, "else"))
			return bantime_parse_fail(p, "expected 'else'");
		if ((b = bantime_parse_expr(p)) < 0)
			return -1;
		a = bantime_node_add(p, BANTIME_IF, 0, a, c, b);
	}
	p->depth--;
	return a;
}

struct bantime_expr *
bantime_expr_parse(const char *s, char **cause)
{
	struct bantime_parse p;

	memset(&p, 0, sizeof p);
	p.s = s;
	p.e = xcalloc(1, sizeof *p.e);
	if (strlen(s) > BANTIME_MAX_LEN) {
		xasprintf(cause, "longer than %d characters", BANTIME_MAX_LEN);
		goto fail;
	}
	p.e->root = bantime_parse_expr(&p);
	bantime_skip_space(&p);
	if (p.e->root >= 0 && p.s[p.pos] != '\0')
		bantime_parse_fail(&p, "unexpected '%.8s'", p.s + p.pos);
	if (p.cause != NULL) {
		*cause = p.cause;
		goto fail;
	}
	return p.e;
fail:
	bantime_expr_free(p.e);
	return NULL;
}

void
bantime_expr_free(struct bantime_expr *e)
{
	if (e == NULL)
		return;
	free(e->nodes);
	free(e);
}

/* The values a formula sees. */
struct bantime_vars {
	double time, count, factor;
	const char *err;
};

/* Shift a by b bits as Python would on ints, refusing what overflows. */
static double
bantime_shift(struct bantime_vars *v, double a, double b, int left)
{
	if (a != floor(a) || b != floor(b) || fabs(a) > 9007199254740992.0) {
		v->err = "shift of a non-integer";
		return 0;
	}
	if (b < 0 || b > 62) {
		v->err = "shift count out of range";
		return 0;
	}
	return left ? ldexp(a, (int)b) : floor(ldexp(a, -(int)b));
}

static double bantime_eval_node(
    const struct bantime_expr *, int, struct bantime_vars *);

/* Evaluate a binary arithmetic or comparison node. */
static double
bantime_eval_binary(
    enum bantime_op op, double a, double b, struct bantime_vars *v)
{
	switch (op) {
	case BANTIME_ADD:
		return a + b;
	case BANTIME_SUB:
		return a - b;
	case BANTIME_MUL:
		return a * b;
	case BANTIME_POW:
		return pow(a, b);
	case BANTIME_DIV:
	case BANTIME_FLOORDIV:
	case BANTIME_MOD:
		if (b == 0) {
			v->err = "division by zero";
			return 0;
		}
		if (op == BANTIME_DIV)
			return a / b;
		if (op == BANTIME_FLOORDIV)
			return floor(a / b);
		return a - b * floor(a / b); /* Python's sign rule */
	case BANTIME_SHL:
		return bantime_shift(v, a, b, 1);
	case BANTIME_SHR:
		return bantime_shift(v, a, b, 0);
	case BANTIME_LT:
		return a < b;
	case BANTIME_LE:
		return a <= b;
	case BANTIME_GT:
		return a > b;
	case BANTIME_GE:
		return a >= b;
	case BANTIME_EQ:
		return a == b;
	case BANTIME_NE:
		return a != b;
	case BANTIME_MIN:
		return a < b ? a : b;
	case BANTIME_MAX:
		return a > b ? a : b;
	default:
		v->err = "bad operator";
		return 0;
	}
}

static double
bantime_eval_node(const struct bantime_expr *e, int i, struct bantime_vars *v)
{
	const struct bantime_node *n = &e->nodes[i];
	double a;

	switch (n->op) {
	case BANTIME_NUM:
		return n->num;
	case BANTIME_TIME:
		return v->time;
	case BANTIME_COUNT:
		return v->count;
	case BANTIME_FACTOR:
		return v->factor;
	case BANTIME_NEG:
		return -bantime_eval_node(e, n->a, v);
	case BANTIME_NOT:
		return !bantime_eval_node(e, n->a, v);
	case BANTIME_ABS:
		return fabs(bantime_eval_node(e, n->a, v));
	case BANTIME_INT:
		return trunc(bantime_eval_node(e, n->a, v));
	case BANTIME_FLOAT:
		return bantime_eval_node(e, n->a, v);
	case BANTIME_EXP:
		return exp(bantime_eval_node(e, n->a, v));
	/* Python's and/or return an operand and short-circuit. */
	case BANTIME_AND:
		a = bantime_eval_node(e, n->a, v);
		return a == 0 ? a : bantime_eval_node(e, n->b, v);
	case BANTIME_OR:
		a = bantime_eval_node(e, n->a, v);
		return a != 0 ? a : bantime_eval_node(e, n->b, v);
	case BANTIME_IF:
		return bantime_eval_node(e, n->b, v) != 0
		           ? bantime_eval_node(e, n->a, v)
		           : bantime_eval_node(e, n->c, v);
	default:
		return bantime_eval_binary(n->op, bantime_eval_node(e, n->a, v),
		    bantime_eval_node(e, n->b, v), v);
	}
}

int
bantime_expr_eval(const struct bantime_expr *e, double time, double count,
    double factor, double *out, char **cause)
{
	struct bantime_vars v = {time, count, factor, NULL};
	double r;

	r = bantime_eval_node(e, e->root, &v);
	if (v.err == NULL && !isfinite(r))
		v.err = "result is not a finite number";
	if (v.err != NULL) {
		xasprintf(cause, "%s", v.err);
		return -1;
	}
	*out = r;
	return 0;
}

/* The value of key with blanks trimmed into buf, or the table default. */
static const char *
bantime_value(const struct jail_conf *jc, const char *key, char *buf,
    size_t len, const struct config_var **where)
{
	const struct conf_table_entry *t;
	const char *v;
	size_t n;

	*where = config_var_find(jc->vars, jc->nvars, key);
	if (*where != NULL)
		v = (*where)->value;
	else if ((t = conf_table_find(CONF_TABLE_JAIL, key)) != NULL)
		v = t->dflt;
	else
		v = NULL;
	if (v == NULL)
		return NULL;
	v += strspn(v, " \t\n");
	n = strlen(v);
	while (n > 0 && strchr(" \t\n", v[n - 1]) != NULL)
		n--;
	if (n >= len)
		n = len - 1;
	memcpy(buf, v, n);
	buf[n] = '\0';
	return n > 0 ? buf : NULL;
}

/* Prefix why with key's file:line (or the jail's) and set *cause. */
static int
bantime_fail(const struct jail_conf *jc, const struct config_var *where,
    const char *key, const char *why, char **cause)
{
	xasprintf(cause, "%s:%d: %s: %s", where ? where->file : jc->file,
	    where ? where->line : jc->line, key, why);
	return -1;
}

/* Read a table-checked number key (bool, duration) into *out. */
static int
bantime_number(
    const struct jail_conf *jc, const char *key, int64_t *out, char **cause)
{
	const struct config_var *where;
	char buf[256], *why = NULL;
	int rc;

	*out = 0;
	if (bantime_value(jc, key, buf, sizeof buf, &where) == NULL)
		return 0;
	rc = conf_table_check(
	    conf_table_find(CONF_TABLE_JAIL, key), buf, out, &why);
	if (rc != 0) {
		bantime_fail(jc, where, key, why, cause);
		free(why);
	}
	return rc;
}

/* bantime.factor: a number, or an arithmetic expression as fail2ban. */
static int
bantime_load_factor(
    struct bantime *bt, const struct jail_conf *jc, char **cause)
{
	const struct config_var *where;
	struct bantime_expr *e;
	char buf[BANTIME_MAX_LEN + 1], *why = NULL;
	int rc;

	bt->factor = 1;
	if (bantime_value(jc, "bantime.factor", buf, sizeof buf, &where) ==
	    NULL)
		return 0;
	if ((e = bantime_expr_parse(buf, &why)) == NULL ||
	    bantime_expr_eval(e, 0, 0, 1, &bt->factor, &why) != 0)
		rc = -1;
	else if (bt->factor < 0 && (why = xstrdup("must not be negative")))
		rc = -1;
	else
		rc = 0;
	if (rc != 0)
		bantime_fail(jc, where, "bantime.factor", why, cause);
	free(why);
	bantime_expr_free(e);
	return rc;
}

/* bantime.multipliers: blank-separated non-negative integers. */
static int
bantime_load_multipliers(
    struct bantime *bt, const struct jail_conf *jc, char **cause)
{
	const struct config_var *where;
	char buf[1024], *tok, *save = NULL, *why = NULL;
	int64_t v;

	if (bantime_value(jc, "bantime.multipliers", buf, sizeof buf, &where) ==
	    NULL)
		return 0;
	for (tok = strtok_r(buf, " \t\n", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		if (conf_table_parse_int(tok, &v) != 0 || v < 0 || v > 1000000)
			xasprintf(
			    &why, "'%s' is not an integer 0..1000000", tok);
		else if (bt->nmult == BANTIME_MAX_MULT)
			xasprintf(
			    &why, "more than %d multipliers", BANTIME_MAX_MULT);
		if (why != NULL) {
			bantime_fail(
			    jc, where, "bantime.multipliers", why, cause);
			free(why);
			return -1;
		}
		bt->mult[bt->nmult++] = v;
	}
	return 0;
}

/* bantime.formula: parsed now, so a bad one is refused at load. */
static int
bantime_load_formula(
    struct bantime *bt, const struct jail_conf *jc, char **cause)
{
	const struct config_var *where;
	char buf[BANTIME_MAX_LEN + 2], *why = NULL;
	const char *f;

	f = bantime_value(jc, "bantime.formula", buf, sizeof buf, &where);
	if (f == NULL)
		f = BANTIME_DEFAULT_FORMULA;
	bt->formula = bantime_expr_parse(f, &why);
	if (bt->formula != NULL)
		return 0;
	bantime_fail(jc, where, "bantime.formula", why, cause);
	free(why);
	return -1;
}

struct bantime *
bantime_create(const struct jail_conf *jc, char **cause)
{
	struct bantime *bt = xcalloc(1, sizeof *bt);
	int64_t v;

	if (bantime_number(jc, "bantime.increment", &v, cause) != 0)
		goto fail;
	bt->increment = v != 0;
	if (bantime_number(jc, "bantime.overalljails", &v, cause) != 0)
		goto fail;
	bt->overalljails = v != 0;
	if (bantime_number(jc, "bantime.maxtime", &bt->maxtime, cause) != 0 ||
	    bantime_number(jc, "bantime.rndtime", &bt->rndtime, cause) != 0)
		goto fail;
	if (bantime_load_factor(bt, jc, cause) != 0 ||
	    bantime_load_multipliers(bt, jc, cause) != 0 ||
	    bantime_load_formula(bt, jc, cause) != 0)
		goto fail;
	return bt;
fail:
	bantime_free(bt);
	return NULL;
}

void
bantime_free(struct bantime *bt)
{
	if (bt == NULL)
		return;
	bantime_expr_free(bt->formula);
	free(bt);
}

int
bantime_enabled(const struct bantime *bt)
{
	return bt != NULL && bt->increment;
}

int
bantime_overalljails(const struct bantime *bt)
{
	return bt != NULL && bt->overalljails;
}

/*
 * As fail2ban's observer: multipliers, when set, win over the formula
 * (the last one repeats); a formula never shortens the base time; then
 * maxtime caps and rndtime adds up to rndtime seconds.
 */
int
bantime_compute(const struct bantime *bt, int64_t base, int count, double rnd,
    int64_t *out, char **cause)
{
	double t = (double)base, r;
	size_t k;

	*out = base;
	if (!bantime_enabled(bt) || base <= 0 || count <= 0)
		return 0;
	if (bt->nmult > 0) {
		k = (size_t)count < bt->nmult ? (size_t)count : bt->nmult - 1;
		r = t * bt->factor * (double)bt->mult[k];
	} else {
		if (bantime_expr_eval(
		        bt->formula, t, count, bt->factor, &r, cause) != 0)
			return -1;
		r = r > t ? r : t;
	}
	if (bt->maxtime > 0 && r > (double)bt->maxtime)
		r = (double)bt->maxtime;
	if (bt->rndtime > 0)
		r += rnd * (double)bt->rndtime;
	if (r > BANTIME_CAP)
		r = BANTIME_CAP;
	*out = r < 1 ? 1 : (int64_t)r;
	return 0;
}
