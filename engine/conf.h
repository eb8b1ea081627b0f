/* The INI reader: fail2ban-style files into sections of raw key/values. */
#ifndef JAILD_CONF_H
#define JAILD_CONF_H

#include <stddef.h>

/* Every problem found, as "file:line: message", in the order found. */
struct conf_errors {
	char **msgs;
	size_t n;
};

void conf_errors_add(struct conf_errors *, const char *file, int line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void conf_errors_clear(struct conf_errors *);

struct conf_entry {
	char *key;
	char *value; /* raw: continuation lines joined with '\n' */
	int line;
};

struct conf_section {
	char *name;
	int line;
	struct conf_entry *entries;
	size_t nentries;
};

struct conf_file {
	char *path;
	struct conf_section *sections;
	size_t nsections;
};

/*
 * Read path.  Handles [section] headers, "key = value" and "key: value",
 * '#' and ';' comment lines, indented continuation lines (joined with
 * '\n', comment lines inside them dropped), raw values (no escapes).
 * A later duplicate key in the same section replaces the earlier one.
 * Errors go to errs; returns NULL if the file cannot be read at all.
 * Only a regular file (symbolic links are followed) of at most
 * CONF_FILE_MAX bytes is read: a FIFO, a device, a directory, a dangling
 * or looping link is an error naming the file and the reason.
 */
#define CONF_FILE_MAX (4 * 1024 * 1024)
struct conf_file *conf_read(const char *path, struct conf_errors *errs);
void conf_file_free(struct conf_file *);

struct conf_section *conf_section_find(
    const struct conf_file *, const char *name);
struct conf_entry *conf_entry_find(
    const struct conf_section *, const char *key);
const char *conf_get(const struct conf_section *, const char *key);

/* Set (add or replace) key in s. */
void conf_set(
    struct conf_section *s, const char *key, const char *value, int line);

#endif
