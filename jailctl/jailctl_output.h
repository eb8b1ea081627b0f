/* jailctl_output.h: tables, time formats and the printer of each reply. */
#ifndef JAILCTL_OUTPUT_H
#define JAILCTL_OUTPUT_H

#include <stddef.h>

#include <jansson.h>

struct jailctl_output_table;

struct jailctl_output_table *jailctl_output_table_create(
    size_t, const char *const *);
void jailctl_output_table_free(struct jailctl_output_table *);
void jailctl_output_table_add(
    struct jailctl_output_table *, const char *const *);
void jailctl_output_table_print(const struct jailctl_output_table *);

void jailctl_output_sanitize(char *);
void jailctl_output_sanitize_text(char *);
const char *jailctl_output_fmt(const json_t *, char *, size_t);
const char *jailctl_output_get(const json_t *, const char *, char *, size_t);
const char *jailctl_output_time(const json_t *, const char *, char *, size_t);
const char *jailctl_output_duration(const json_t *, char *, size_t);
char *jailctl_output_join(const json_t *);

void jailctl_output_status(const json_t *);
void jailctl_output_list(const json_t *);
void jailctl_output_history(const json_t *);
void jailctl_output_ban(const json_t *);
void jailctl_output_unban(const json_t *);
void jailctl_output_reload(const json_t *);
void jailctl_output_metrics(const json_t *);
void jailctl_output_fleet(const json_t *);
void jailctl_output_ping(const json_t *);
void jailctl_output_banned(const json_t *);
void jailctl_output_banned_by(const char *, const json_t *);
void jailctl_output_value(const json_t *, int);
void jailctl_output_print(const json_t *, void (*)(const json_t *));

#endif
