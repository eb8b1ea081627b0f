/* The INI reader: fail2ban-style files into sections of raw key/values. */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "xmalloc.h"

#define CONF_LINE_MAX 65536 /* longer lines are refused */
#define CONF_VALUE_MAX 1048576 /* a value with its continuations */
#define CONF_ERRORS_MAX 50 /* per file, then give up on it */

/* Parser state for one file. */
struct conf_parse {
	struct conf_file *cf;
	struct conf_errors *errs;
	struct conf_section *sect; /* current section or NULL */
	struct conf_entry *ent; /* entry continuations extend */
	int pending; /* blank lines inside a value */
	int broken; /* last key or header was bad */
	int lost; /* inside a bad section header */
	int nerrs;
	int lineno;
};

/* Append "file:line: message" to errs. */
void
conf_errors_add(
    struct conf_errors *errs, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	char *msg, *full;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = xstrdup(fmt);
	va_end(ap);
	if (line > 0)
		xasprintf(&full, "%s:%d: %s", file, line, msg);
	else
		xasprintf(&full, "%s: %s", file, msg);
	free(msg);
	errs->msgs = xreallocarray(errs->msgs, errs->n + 1, sizeof *errs->msgs);
	errs->msgs[errs->n++] = full;
}

/* Free every message and empty errs. */
void
conf_errors_clear(struct conf_errors *errs)
{
	size_t i;

	for (i = 0; i < errs->n; i++)
		free(errs->msgs[i]);
	free(errs->msgs);
	errs->msgs = NULL;
	errs->n = 0;
}

/* Record one error of the file being parsed, counting toward the cap. */
static void __attribute__((format(printf, 2, 3)))
conf_parse_error(struct conf_parse *p, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	conf_errors_add(
	    p->errs, p->cf->path, p->lineno, "%s", msg != NULL ? msg : fmt);
	free(msg);
	p->nerrs++;
	p->broken = 1;
}

struct conf_section *
conf_section_find(const struct conf_file *cf, const char *name)
{
	size_t i;

	for (i = 0; i < cf->nsections; i++) {
		if (strcmp(cf->sections[i].name, name) == 0)
			return &cf->sections[i];
	}
	return NULL;
}

struct conf_entry *
conf_entry_find(const struct conf_section *s, const char *key)
{
	size_t i;

	if (s == NULL)
		return NULL;
	for (i = 0; i < s->nentries; i++) {
		if (strcmp(s->entries[i].key, key) == 0)
			return &s->entries[i];
	}
	return NULL;
}

const char *
conf_get(const struct conf_section *s, const char *key)
{
	struct conf_entry *e = conf_entry_find(s, key);

	return e != NULL ? e->value : NULL;
}

/* Set (add or replace) key in s; a replaced key keeps its position. */
void
conf_set(struct conf_section *s, const char *key, const char *value, int line)
{
	struct conf_entry *e = conf_entry_find(s, key);

	if (e == NULL) {
		s->entries = xreallocarray(
		    s->entries, s->nentries + 1, sizeof *s->entries);
		e = &s->entries[s->nentries++];
		e->key = xstrdup(key);
	} else
		free(e->value);
	e->value = xstrdup(value);
	e->line = line;
}

/* Find or add the section name (a repeated header merges into the first). */
static struct conf_section *
conf_section_add(struct conf_file *cf, const char *name, int line)
{
	struct conf_section *s = conf_section_find(cf, name);

	if (s != NULL)
		return s;
	cf->sections = xreallocarray(
	    cf->sections, cf->nsections + 1, sizeof *cf->sections);
	s = &cf->sections[cf->nsections++];
	memset(s, 0, sizeof *s);
	s->name = xstrdup(name);
	s->line = line;
	return s;
}

void
conf_file_free(struct conf_file *cf)
{
	size_t i, j;

	if (cf == NULL)
		return;
	for (i = 0; i < cf->nsections; i++) {
		for (j = 0; j < cf->sections[i].nentries; j++) {
			free(cf->sections[i].entries[j].key);
			free(cf->sections[i].entries[j].value);
		}
		free(cf->sections[i].entries);
		free(cf->sections[i].name);
	}
	free(cf->sections);
	free(cf->path);
	free(cf);
}

/* Refuse NUL and control bytes: binary junk is not a config line. */
static int
conf_line_check(struct conf_parse *p, const char *line, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (line[i] == '\0' ||
		    (iscntrl((unsigned char)line[i]) && line[i] != '\t')) {
			conf_parse_error(p, "control character 0x%02x in line",
			    (unsigned char)line[i]);
			return -1;
		}
	}
	return 0;
}

/*
 * Extend the current value with an indented line.  Blank and comment
 * lines inside the value become empty lines, so that line n of the value
 * is line n of the file after the key: regexes keep exact line numbers.
 */
static void
conf_parse_continue(struct conf_parse *p, const char *text)
{
	struct conf_entry *e = p->ent;
	size_t old = strlen(e->value), add = strlen(text);
	char *v;

	if (old + add + p->pending + 2 > CONF_VALUE_MAX) {
		conf_parse_error(p, "value of '%s' too long", e->key);
		p->ent = NULL;
		return;
	}
	v = xmalloc(old + p->pending + add + 2);
	memcpy(v, e->value, old);
	memset(v + old, '\n', p->pending + 1);
	memcpy(v + old + p->pending + 1, text, add + 1);
	free(e->value);
	e->value = v;
	p->pending = 0;
}

/* Parse a "[name]" header. */
static void
conf_parse_header(struct conf_parse *p, char *line)
{
	size_t len = strlen(line);
	char *name;

	p->ent = NULL;
	if (len < 3 || line[len - 1] != ']') {
		conf_parse_error(p, "bad section header: expected [name]");
		p->sect = NULL;
		p->lost = 1;
		return;
	}
	line[len - 1] = '\0';
	name = line + 1;
	while (isspace((unsigned char)*name))
		name++;
	len = strlen(name);
	while (len > 0 && isspace((unsigned char)name[len - 1]))
		name[--len] = '\0';
	if (len == 0 || strpbrk(name, "[]") != NULL) {
		conf_parse_error(p, "bad section name '%s'", name);
		p->sect = NULL;
		p->lost = 1;
		return;
	}
	p->sect = conf_section_add(p->cf, name, p->lineno);
	p->broken = 0;
	p->lost = 0;
}

/* Parse "key = value" or "key: value" (the first delimiter wins). */
static void
conf_parse_keyvalue(struct conf_parse *p, char *line)
{
	char *delim, *key, *value, *end;

	p->ent = NULL;
	delim = line + strcspn(line, "=:");
	if (*delim == '\0') {
		conf_parse_error(p, "syntax error: expected key = value");
		return;
	}
	if (p->sect == NULL) {
		if (!p->lost)
			conf_parse_error(p, "key outside of a section");
		return;
	}
	*delim = '\0';
	key = line;
	end = delim;
	while (end > key && isspace((unsigned char)end[-1]))
		*--end = '\0';
	if (*key == '\0') {
		conf_parse_error(p, "syntax error: empty key");
		return;
	}
	value = delim + 1;
	while (isspace((unsigned char)*value))
		value++;
	conf_set(p->sect, key, value, p->lineno);
	p->ent = conf_entry_find(p->sect, key);
	p->pending = 0;
	p->broken = 0;
}

/* Parse one line, already stripped of its newline and trailing blanks. */
static void
conf_parse_line(struct conf_parse *p, char *line)
{
	char *s = line;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0' || *s == '#' || *s == ';') {
		if (p->ent != NULL)
			p->pending++;
		return;
	}
	if (s != line) {
		if (p->ent != NULL)
			conf_parse_continue(p, s);
		else if (!p->broken)
			conf_parse_error(p, "indented line continues no key");
		return;
	}
	if (*s == '[')
		conf_parse_header(p, s);
	else
		conf_parse_keyvalue(p, s);
}

/* Say why path could not be opened: a dangling link reads as ENOENT. */
static void
conf_open_error(const char *path, int saved, struct conf_errors *errs)
{
	struct stat sb;

	if (saved == ENOENT && lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode))
		conf_errors_add(errs, path, 0,
		    "cannot open: a symbolic link to a file that does not "
		    "exist");
	else if (saved == ELOOP)
		conf_errors_add(errs, path, 0,
		    "cannot open: a symbolic link loop (or too many links)");
	else
		conf_errors_add(
		    errs, path, 0, "cannot open: %s", strerror(saved));
}

static const char *
conf_file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a regular file";
}

/*
 * Open path for reading if it is a regular file (after symlinks) of at
 * most CONF_FILE_MAX bytes.  O_NONBLOCK keeps a FIFO from hanging the open;
 * fstat then refuses it, and /dev/zero and the like, before any read.
 */
static FILE *
conf_open(const char *path, struct conf_errors *errs)
{
	struct stat sb;
	FILE *f;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		conf_open_error(path, errno, errs);
		return NULL;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		conf_errors_add(errs, path, 0,
		    "not a regular file (%s): only regular files, or symbolic "
		    "links to them, are read",
		    conf_file_kind(sb.st_mode));
		goto fail;
	}
	if (sb.st_size > CONF_FILE_MAX) {
		conf_errors_add(errs, path, 0,
		    "file of %lld bytes is larger than the limit of %d",
		    (long long)sb.st_size, CONF_FILE_MAX);
		goto fail;
	}
	if (fcntl(fd, F_SETFL, 0) != 0 || (f = fdopen(fd, "r")) == NULL) {
		conf_errors_add(
		    errs, path, 0, "cannot read: %s", strerror(errno));
		goto fail;
	}
	return f;
fail:
	close(fd);
	return NULL;
}

/* Read path into a new conf_file; errors go to errs. */
struct conf_file *
conf_read(const char *path, struct conf_errors *errs)
{
	struct conf_parse p;
	FILE *f;
	char *line = NULL;
	size_t cap = 0, total = 0;
	ssize_t n;

	if ((f = conf_open(path, errs)) == NULL)
		return NULL;
	memset(&p, 0, sizeof p);
	p.errs = errs;
	p.cf = xcalloc(1, sizeof *p.cf);
	p.cf->path = xstrdup(path);
	while ((n = getline(&line, &cap, f)) != -1) {
		p.lineno++;
		/* A file that grows while it is read is still capped. */
		if ((total += (size_t)n) > CONF_FILE_MAX) {
			conf_parse_error(&p,
			    "file grew past the limit of %d "
			    "bytes while read",
			    CONF_FILE_MAX);
			break;
		}
		if (n > CONF_LINE_MAX) {
			conf_parse_error(&p, "line too long");
			p.ent = NULL;
		} else {
			if (n > 0 && line[n - 1] == '\n')
				n--;
			while (n > 0 && isspace((unsigned char)line[n - 1]))
				n--;
			if (conf_line_check(&p, line, n) == 0) {
				line[n] = '\0';
				conf_parse_line(&p, line);
			} else
				p.ent = NULL;
		}
		if (p.nerrs >= CONF_ERRORS_MAX) {
			conf_parse_error(&p, "too many errors, giving up");
			break;
		}
	}
	if (ferror(f))
		conf_errors_add(errs, path, 0, "read error");
	free(line);
	fclose(f);
	return p.cf;
}
