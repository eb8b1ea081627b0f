/* Sources: follow one log file (or stdin) and hand out whole lines. */
#ifndef JAILD_SOURCE_H
#define JAILD_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <uv.h>

#define SOURCE_MAXLINE 65536

struct source;

/* Called once per complete line, without its '\n'; line is borrowed. */
typedef void (*source_line_cb)(
    struct source *, const char *line, size_t len, void *arg);

struct source_pos {
	uint64_t inode;
	uint64_t offset;
	uint64_t headhash; /* hash of the first line, to tell files apart */
};

struct source_stats {
	uint64_t lines;
	uint64_t bytes;
	time_t last_read;
	uint64_t rotations;
	uint64_t truncations;
	uint64_t cut; /* lines over SOURCE_MAXLINE: counted, never matched */
};

/*
 * Follow path ("-" for stdin).  Lines longer than SOURCE_MAXLINE are
 * counted (stats.cut) and not handed out at all; a partial last line is
 * held until its newline.  Rotation (rename + create, copytruncate) and
 * truncation are followed; a missing file is waited for.
 */
struct source *source_create(
    uv_loop_t *, const char *path, source_line_cb cb, void *arg);
void source_free(struct source *);

/*
 * Start reading: at resume if it still describes the file (same inode and
 * first line, offset within size), else from the end of the file.
 * from_start reads a new file from its beginning (tests, "-").
 */
int source_start(struct source *, const struct source_pos *resume,
    int from_start, char **cause);
void source_stop(struct source *);

/* Read whatever is available now (also called by the watchers). */
void source_poll(struct source *);

const char *source_path(const struct source *);
/* 1 once stdin has ended and its last line was handed out. */
int source_eof(const struct source *);
/* How many lines were over SOURCE_MAXLINE, and so not handed out. */
uint64_t source_cut(const struct source *);
/*
 * The one rule for a line's length, shared by the daemon's files and
 * journals and by "jailctl test": line holds the first bytes (at least
 * SOURCE_MAXLINE + 1 of them, or all) of a line of total bytes, '\n' not
 * counted.  A final '\r' is dropped.  Returns the length to match, or -1
 * if the line is longer than SOURCE_MAXLINE: such a line is not matched
 * at all, since whoever writes the text at a cut would choose the address
 * a regex finds there.
 */
long source_line_trim(const char *line, uint64_t total);
void source_position(const struct source *, struct source_pos *);
const struct source_stats *source_stats(const struct source *);
/* Add the counts of a source this one replaces (after a reload). */
void source_stats_add(struct source *, const struct source_stats *);

#endif
