/* Longer bans for repeat offenders: fail2ban's bantime.* options. */
#ifndef JAILD_BANTIME_H
#define JAILD_BANTIME_H

#include <stddef.h>
#include <stdint.h>

struct jail_conf;
struct bantime;
struct bantime_expr;

/*
 * Read and check the jail's bantime.increment, .factor, .formula,
 * .multipliers, .maxtime, .rndtime and .overalljails.  A formula outside
 * the safe arithmetic subset is refused: *cause names its file:line.
 */
struct bantime *bantime_create(const struct jail_conf *jc, char **cause);
void bantime_free(struct bantime *);

int bantime_enabled(const struct bantime *);
/* Whether earlier bans count in every jail, not just this one. */
int bantime_overalljails(const struct bantime *);

/*
 * The ban time of an address banned count times before, from the jail's
 * base bantime; rnd in [0, 1) scales rndtime.  A permanent base (-1) or a
 * first ban keeps base.  Returns -1 (and *out = base) if the formula
 * cannot be evaluated for these values, with *cause.
 */
int bantime_compute(const struct bantime *, int64_t base, int count, double rnd,
    int64_t *out, char **cause);

/*
 * The formula language: numbers, ban.Time, ban.Count, banFactor,
 * + - * / // % ** << >>, comparisons, and/or/not, "a if c else b",
 * parentheses, min() max() abs() int() float() math.exp().
 */
struct bantime_expr *bantime_expr_parse(const char *s, char **cause);
void bantime_expr_free(struct bantime_expr *);
int bantime_expr_eval(const struct bantime_expr *, double time, double count,
    double factor, double *out, char **cause);

#endif
