/* Sources: tail one log file (or stdin) through rotation, hand out lines. */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "log.h"
#include "source.h"
#include "xmalloc.h"

#define SOURCE_CHUNK (64 * 1024) /* one read(2) */
#define SOURCE_ROUNDS 16 /* reads per callback (1 MiB), then yield */
#define SOURCE_HEADMAX 4096 /* bytes of the first line hashed */
#define SOURCE_TIMER_MS 1000 /* fallback poll for event-less fs */

/*
 * libuv handles live in their own block, freed by the last close callback:
 * source_free can then release struct source at once, and the handles'
 * memory goes when the loop next runs its close callbacks.
 */
struct source_handles {
	struct source *s; /* NULL once the source let go */
	int nopen; /* handles initialised and not yet closed */
	uv_fs_event_t file_ev;
	uv_fs_event_t dir_ev;
	uv_timer_t timer;
	uv_idle_t idle;
	union {
		uv_handle_t h;
		uv_stream_t stream;
		uv_pipe_t pipe;
		uv_tty_t tty;
	} in;
	char rbuf[SOURCE_CHUNK];
};

struct source {
	uv_loop_t *loop;
	char *path;
	char *dir;
	char *base;
	source_line_cb cb;
	void *arg;

	int is_stdin;
	int started;
	int eof;
	int inpoll;
	int dying; /* source_free called from inside a line callback */

	int fd; /* file being read, -1 while waiting for it */
	dev_t dev;
	ino_t ino;
	uint64_t off; /* next byte to read */
	uint64_t lineend; /* end of the last complete line handed out */
	uint64_t head;
	int headvalid;
	int rotating; /* a new file is at path: drain the old once more */
	int warned;

	char *buf; /* the line being assembled, SOURCE_MAXLINE + 1 bytes */
	size_t buflen;
	uint64_t linelen; /* whole length of that line, cut bytes included */
	int skipping; /* started mid-line: drop up to the next newline */

	char *chunk;
	struct source_stats stats;
	struct source_handles *h;
};

static void source_idle_cb(uv_idle_t *);

/* Hash with 64-bit FNV-1a. */
static uint64_t
source_fnv(const char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/*
 * Hash fd's first line (up to its newline, at most SOURCE_HEADMAX bytes).
 * Returns 1 if the head is complete, 0 if the file is empty or its first
 * line is still being written (*hash is then 0), -1 on a read error.
 */
static int
source_headhash(int fd, uint64_t *hash)
{
	char b[SOURCE_HEADMAX];
	ssize_t n;
	char *nl;

	*hash = 0;
	n = pread(fd, b, sizeof b, 0);
	if (n == -1)
		return -1;
	nl = memchr(b, '\n', (size_t)n);
	if (nl != NULL) {
		*hash = source_fnv(b, (size_t)(nl - b));
		return 1;
	}
	if ((size_t)n == sizeof b) {
		*hash = source_fnv(b, sizeof b);
		return 1;
	}
	return 0;
}

/* Create a source following path ("-" for stdin); nothing is read yet. */
struct source *
source_create(uv_loop_t *loop, const char *path, source_line_cb cb, void *arg)
{
	struct source *s;
	char *tmp;

	s = xcalloc(1, sizeof *s);
	s->loop = loop;
	s->path = xstrdup(path);
	s->cb = cb;
	s->arg = arg;
	s->fd = -1;
	s->is_stdin = strcmp(path, "-") == 0;
	tmp = xstrdup(path);
	s->dir = xstrdup(dirname(tmp));
	free(tmp);
	tmp = xstrdup(path);
	s->base = xstrdup(basename(tmp));
	free(tmp);
	s->buf = xmalloc(SOURCE_MAXLINE + 1);
	s->chunk = xmalloc(SOURCE_CHUNK);
	return s;
}

/* Release the source; see source_stop for its libuv handles. */
void
source_free(struct source *s)
{
	if (s == NULL)
		return;
	if (s->inpoll) {
		/* Called from a line callback: source_poll frees on return. */
		s->dying = 1;
		source_stop(s);
		return;
	}
	source_stop(s);
	free(s->path);
	free(s->dir);
	free(s->base);
	free(s->buf);
	free(s->chunk);
	free(s);
}

/* Append bytes of the current line, keeping at most SOURCE_MAXLINE + 1. */
static void
source_append(struct source *s, const char *p, size_t len)
{
	size_t room = SOURCE_MAXLINE + 1 - s->buflen;

	if (s->skipping)
		return;
	if (len > room)
		len = room;
	memcpy(s->buf + s->buflen, p, len);
	s->buflen += len;
}

long
source_line_trim(const char *line, uint64_t total)
{
	if (total > SOURCE_MAXLINE + 1)
		return -1;
	if (total > 0 && line[total - 1] == '\r')
		total--;
	return total > SOURCE_MAXLINE ? -1 : (long)total;
}

/* Hand out the assembled line without its CR; count an overlong one. */
static void
source_emit(struct source *s)
{
	long len;

	if (s->skipping) {
		s->skipping = 0;
		s->buflen = 0;
		s->linelen = 0;
		return;
	}
	len = source_line_trim(s->buf, s->linelen);
	s->stats.lines++;
	if (len < 0) {
		/* Warn once per source; the count is in status and metrics. */
		if (s->stats.cut++ == 0)
			log_warnx("%s: line of %llu bytes is longer than %d: "
			          "not matched (counted as cut)",
			    s->path, (unsigned long long)s->linelen,
			    SOURCE_MAXLINE);
		s->buflen = 0;
		s->linelen = 0;
		return;
	}
	s->buflen = 0;
	s->linelen = 0;
	s->cb(s, s->buf, (size_t)len, s->arg);
}

/*
 * Split p into lines, advancing s->off over what was consumed; stops early
 * if a callback stopped the source, so no byte is lost or read twice.
 */
static void
source_feed(struct source *s, const char *p, size_t n)
{
	const char *nl;
	size_t used = 0, seg;

	while (used < n && s->started) {
		nl = memchr(p + used, '\n', n - used);
		seg = nl != NULL ? (size_t)(nl - (p + used)) : n - used;
		source_append(s, p + used, seg);
		s->linelen += seg;
		used += seg;
		s->off += seg;
		if (nl == NULL)
			break;
		used++;
		s->off++;
		s->lineend = s->off;
		source_emit(s);
	}
}

/* Flush a partial last line (end of stdin, or of a rotated-away file). */
static void
source_flush(struct source *s)
{
	if (s->linelen > 0 && !s->skipping)
		source_emit(s);
	s->buflen = 0;
	s->linelen = 0;
	s->skipping = 0;
}

/* Ask for a poll on the next loop turn: coalesces bursts of events. */
static void
source_kick(struct source *s)
{
	if (s->h != NULL && !uv_is_closing((uv_handle_t *)&s->h->idle))
		uv_idle_start(&s->h->idle, source_idle_cb);
}

/* Run a poll requested by source_kick. */
static void
source_idle_cb(uv_idle_t *idle)
{
	struct source_handles *h = idle->data;

	uv_idle_stop(idle);
	if (h->s != NULL)
		source_poll(h->s);
}

/* Poll when the file itself changes. */
static void
source_file_cb(uv_fs_event_t *ev, const char *name, int events, int status)
{
	struct source_handles *h = ev->data;

	if (h->s != NULL)
		source_kick(h->s);
}

/* Poll when our name in the directory changes (create, rename, delete). */
static void
source_dir_cb(uv_fs_event_t *ev, const char *name, int events, int status)
{
	struct source_handles *h = ev->data;

	if (h->s == NULL)
		return;
	if (status == 0 && name != NULL && strcmp(name, h->s->base) != 0)
		return;
	source_kick(h->s);
}

/* Poll now and then, for filesystems that send no events (NFS, FUSE). */
static void
source_timer_cb(uv_timer_t *timer)
{
	struct source_handles *h = timer->data;

	if (h->s != NULL)
		source_poll(h->s);
}

/* Free the handle block once its last handle has closed. */
static void
source_close_cb(uv_handle_t *handle)
{
	struct source_handles *h = handle->data;

	if (--h->nopen == 0)
		free(h);
}

/* Close one handle of the block, if it was initialised. */
static void
source_close_handle(uv_handle_t *handle)
{
	if (handle->data != NULL && !uv_is_closing(handle))
		uv_close(handle, source_close_cb);
}

/* (Re)watch the file now at path; events then follow that inode. */
static void
source_watch_file(struct source *s)
{
	int error;

	uv_fs_event_stop(&s->h->file_ev);
	error = uv_fs_event_start(&s->h->file_ev, source_file_cb, s->path, 0);
	if (error != 0)
		log_debug("%s: watch: %s", s->path, uv_strerror(error));
}

/* Forget the file being read: its fd, offsets, head and partial line. */
static void
source_reset(struct source *s)
{
	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
	s->ino = 0;
	s->dev = 0;
	s->off = 0;
	s->lineend = 0;
	s->head = 0;
	s->headvalid = 0;
	s->rotating = 0;
	s->buflen = 0;
	s->linelen = 0;
	s->skipping = 0;
}

/*
 * Open the file at path.  Returns 0 with s->fd set, or -1 with errno (and
 * *cause for errors other than ENOENT, the file-not-there-yet case).
 */
static int
source_open(struct source *s, struct stat *st, char **cause)
{
	int fd;

	fd = open(s->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1)
		goto fail;
	if (fstat(fd, st) == -1)
		goto fail;
	if (!S_ISREG(st->st_mode)) {
		errno = S_ISDIR(st->st_mode) ? EISDIR : EINVAL;
		goto fail;
	}
	s->fd = fd;
	s->dev = st->st_dev;
	s->ino = st->st_ino;
	s->headvalid = source_headhash(fd, &s->head) == 1;
	return 0;

fail:
	if (fd != -1) {
		int saved = errno;

		close(fd);
		errno = saved;
	}
	if (errno != ENOENT && cause != NULL)
		xasprintf(cause, "%s: %s", s->path, strerror(errno));
	return -1;
}

/* Tell whether resume still describes the open file (see source.h). */
static int
source_resume_ok(
    struct source *s, const struct source_pos *resume, const struct stat *st)
{
	char c;

	if (resume == NULL || resume->inode != (uint64_t)st->st_ino)
		return 0;
	if (resume->offset > (uint64_t)st->st_size)
		return 0;
	if (resume->offset == 0)
		return 1;
	if (!s->headvalid || s->head != resume->headhash)
		return 0;
	/* A saved position always follows a newline. */
	if (pread(s->fd, &c, 1, (off_t)resume->offset - 1) != 1 || c != '\n')
		return 0;
	return 1;
}

/*
 * Open the file of the directory entry name if it is resume's file: same
 * inode, same first line, the saved offset within it after a newline.
 */
static int
source_open_rotated(
    struct source *s, const char *name, const struct source_pos *resume)
{
	struct stat st;
	char *full;
	int fd;

	xasprintf(&full, "%s/%s", s->dir, name);
	fd = open(full, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	free(full);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -1;
	}
	s->fd = fd;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->headvalid = source_headhash(fd, &s->head) == 1;
	if (!source_resume_ok(s, resume, &st)) {
		source_reset(s);
		return -1;
	}
	s->off = s->lineend = resume->offset;
	return 0;
}

/*
 * The file at path is not the one resume describes: it was rotated while
 * we were stopped.  Look in the same directory for the saved inode (e.g.
 * mail.log.1) and, if it is still the same file, read it from the saved
 * offset; source_at_eof then moves to the file at path, from its start.
 * Returns 0 if such a file is being read.
 */
static int
source_resume_rotated(struct source *s, const struct source_pos *resume)
{
	struct stat st;
	struct dirent *de;
	DIR *dir;
	int found = -1;

	if (resume == NULL || resume->inode == 0)
		return -1;
	if (stat(s->path, &st) == 0 && (uint64_t)st.st_ino == resume->inode)
		return -1; /* not rotated: source_place decides */
	if ((dir = opendir(s->dir)) == NULL)
		return -1;
	while (found == -1 && (de = readdir(dir)) != NULL) {
		if ((uint64_t)de->d_ino != resume->inode ||
		    strcmp(de->d_name, s->base) == 0)
			continue;
		if (source_open_rotated(s, de->d_name, resume) == 0) {
			log_info("%s: rotated while stopped, finishing %s/%s "
			         "from offset %llu",
			    s->path, s->dir, de->d_name,
			    (unsigned long long)resume->offset);
			found = 0;
		}
	}
	closedir(dir);
	return found;
}

/* Place the first read: at resume, at the start, or at the end. */
static void
source_place(struct source *s, const struct source_pos *resume, int from_start,
    const struct stat *st)
{
	char c;

	if (source_resume_ok(s, resume, st)) {
		s->off = s->lineend = resume->offset;
		return;
	}
	if (from_start || st->st_size == 0)
		return;
	s->off = s->lineend = (uint64_t)st->st_size;
	/* Never hand out the tail of a line whose start we skipped. */
	if (pread(s->fd, &c, 1, st->st_size - 1) == 1 && c != '\n')
		s->skipping = 1;
}

/* Initialise the handle block's handles for a file source. */
static int
source_start_handles(struct source *s, char **cause)
{
	struct source_handles *h;
	int error;

	h = s->h = xcalloc(1, sizeof *h);
	h->s = s;
	uv_idle_init(s->loop, &h->idle);
	uv_timer_init(s->loop, &h->timer);
	h->idle.data = h->timer.data = h;
	h->nopen = 2;
	if (s->is_stdin)
		return 0;
	uv_fs_event_init(s->loop, &h->file_ev);
	uv_fs_event_init(s->loop, &h->dir_ev);
	h->file_ev.data = h->dir_ev.data = h;
	h->nopen += 2;
	error = uv_timer_start(
	    &h->timer, source_timer_cb, SOURCE_TIMER_MS, SOURCE_TIMER_MS);
	if (error != 0) {
		xasprintf(cause, "%s: timer: %s", s->path, uv_strerror(error));
		return -1;
	}
	/* Without the directory watch the timer still sees rotations. */
	error = uv_fs_event_start(&h->dir_ev, source_dir_cb, s->dir, 0);
	if (error != 0)
		log_debug("%s: watch: %s", s->dir, uv_strerror(error));
	return 0;
}

/* Read stdin when it is a pipe or a terminal. */
static void
source_stdin_alloc_cb(uv_handle_t *handle, size_t size, uv_buf_t *buf)
{
	struct source_handles *h = handle->data;

	buf->base = h->rbuf;
	buf->len = sizeof h->rbuf;
}

/* Feed what stdin gave; at its end, flush the partial line and stop. */
static void
source_stdin_read_cb(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
	struct source_handles *h = stream->data;
	struct source *s = h->s;

	if (s == NULL || n == 0)
		return;
	s->inpoll = 1;
	if (n > 0) {
		s->stats.bytes += (uint64_t)n;
		s->stats.last_read = time(NULL);
		source_feed(s, buf->base, (size_t)n);
	} else {
		if (n != UV_EOF)
			log_warnx("stdin: %s", uv_strerror((int)n));
		uv_read_stop(stream);
		source_flush(s);
		s->eof = 1;
	}
	s->inpoll = 0;
	if (s->dying)
		source_free(s);
}

/* Start reading stdin: a stream through libuv, a file with read(2). */
static int
source_start_stdin(struct source *s, char **cause)
{
	struct source_handles *h = s->h;
	uv_handle_type type = uv_guess_handle(0);
	int fd, error;

	/* A dup, so that closing the handle leaves fd 0 alone. */
	if ((fd = dup(0)) == -1) {
		xasprintf(cause, "stdin: %s", strerror(errno));
		return -1;
	}
	if (type != UV_NAMED_PIPE && type != UV_TTY) {
		s->fd = fd; /* regular file or device: plain reads */
		source_kick(s);
		return 0;
	}
	if (type == UV_TTY)
		error = uv_tty_init(s->loop, &h->in.tty, fd, 1);
	else
		error = uv_pipe_init(s->loop, &h->in.pipe, 0);
	if (error != 0)
		goto fail;
	h->in.h.data = h;
	h->nopen++;
	if (type == UV_NAMED_PIPE && (error = uv_pipe_open(&h->in.pipe, fd)))
		goto fail;
	fd = -1; /* the handle owns it now */
	error = uv_read_start(
	    &h->in.stream, source_stdin_alloc_cb, source_stdin_read_cb);
	if (error != 0)
		goto fail;
	return 0;

fail:
	if (fd != -1)
		close(fd);
	xasprintf(cause, "stdin: %s", uv_strerror(error));
	return -1;
}

/* Start reading (see source.h). */
int
source_start(struct source *s, const struct source_pos *resume, int from_start,
    char **cause)
{
	struct stat st;

	if (s->started) {
		xasprintf(cause, "%s: already started", s->path);
		return -1;
	}
	source_reset(s);
	s->eof = 0;
	if (source_start_handles(s, cause) != 0)
		goto fail;
	s->started = 1;
	if (s->is_stdin) {
		if (source_start_stdin(s, cause) != 0)
			goto fail;
		return 0;
	}
	if (source_resume_rotated(s, resume) == 0)
		source_watch_file(s);
	else if (source_open(s, &st, cause) == 0) {
		source_place(s, resume, from_start, &st);
		source_watch_file(s);
	} else if (errno != ENOENT)
		goto fail;
	else
		log_debug("%s: not there yet, waiting", s->path);
	source_kick(s);
	return 0;

fail:
	source_stop(s);
	return -1;
}

/*
 * Stop reading and close the fd; the position stays readable.  The handles
 * are uv_close()d: their memory is freed by their close callbacks, so run
 * the loop once more (uv_run(loop, UV_RUN_NOWAIT)) before uv_loop_close.
 */
void
source_stop(struct source *s)
{
	struct source_handles *h = s->h;

	if (h != NULL) {
		h->s = NULL;
		source_close_handle((uv_handle_t *)&h->idle);
		source_close_handle((uv_handle_t *)&h->timer);
		source_close_handle((uv_handle_t *)&h->file_ev);
		source_close_handle((uv_handle_t *)&h->dir_ev);
		source_close_handle(&h->in.h);
		s->h = NULL;
	}
	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
	s->started = 0;
}

/* Start over at offset 0 of the same file: it was truncated. */
static void
source_truncated(struct source *s, const char *why)
{
	log_info("%s: %s, reading from its start", s->path, why);
	if (s->linelen > 0)
		log_debug("%s: partial line of %llu bytes dropped", s->path,
		    (unsigned long long)s->linelen);
	s->stats.truncations++;
	s->off = 0;
	s->lineend = 0;
	s->buflen = 0;
	s->linelen = 0;
	s->skipping = 0;
	s->headvalid = source_headhash(s->fd, &s->head) == 1;
}

/*
 * Check the file after a read of n bytes at s->off.  A changed first line
 * means it was truncated and grew again (copytruncate): what was read
 * belongs to the new file at the wrong offset, so it is discarded (returns
 * 1).  A file shorter than where we are was truncated after the read: the
 * data read is still good, so it is kept and the truncation handled at the
 * next read.
 */
static int
source_changed(struct source *s, struct stat *st)
{
	uint64_t head;
	int valid;

	if (fstat(s->fd, st) == -1) {
		st->st_size = (off_t)s->off;
		return 0;
	}
	if (!s->headvalid) {
		if (s->lineend > 0 || (uint64_t)st->st_size < s->off)
			return 0;
		s->headvalid = source_headhash(s->fd, &s->head) == 1;
		return 0;
	}
	valid = source_headhash(s->fd, &head);
	if (valid == -1 || (valid == 1 && head == s->head))
		return 0;
	source_truncated(s, "first line changed");
	return 1;
}

/*
 * At the end of the current file: switch to a new file at path, if any.
 * A writer keeps writing to the renamed (or deleted) file until it reopens,
 * so the switch waits until the new file holds data, i.e. the writer has
 * moved, and drains the old file once more before leaving it.  Returns 1
 * if reading should go on.
 */
static int
source_at_eof(struct source *s)
{
	struct stat st;

	if (stat(s->path, &st) == -1) {
		if (errno != ENOENT && !s->warned++)
			log_warn("%s", s->path);
		return 0;
	}
	s->warned = 0;
	if (st.st_ino == s->ino && st.st_dev == s->dev) {
		s->rotating = 0;
		return 0;
	}
	if (st.st_size == 0 && S_ISREG(st.st_mode))
		return 0;
	if (!s->rotating) {
		s->rotating = 1;
		return 1;
	}
	log_info("%s: rotated, following the new file", s->path);
	source_flush(s);
	source_reset(s);
	s->stats.rotations++;
	if (source_open(s, &st, NULL) == -1)
		return 0;
	source_watch_file(s);
	return 1;
}

/* Open the file once it appears, to read it from its start. */
static int
source_reopen(struct source *s)
{
	struct stat st;
	char *cause = NULL;

	if (source_open(s, &st, &cause) == 0) {
		log_info("%s: appeared, reading it", s->path);
		s->warned = 0;
		source_watch_file(s);
		return 0;
	}
	if (cause != NULL && !s->warned++)
		log_warnx("%s", cause);
	free(cause);
	return -1;
}

/* Read the file: a bounded batch, then yield to the loop. */
static void
source_poll_file(struct source *s)
{
	struct stat st;
	int rounds = 0;
	ssize_t n;

	if (s->fd == -1 && source_reopen(s) == -1)
		return;
	while (s->started && s->fd != -1) {
		if (rounds++ == SOURCE_ROUNDS) {
			source_kick(s);
			return;
		}
		n = pread(s->fd, s->chunk, SOURCE_CHUNK, (off_t)s->off);
		if (n == -1) {
			if (errno != EINTR && errno != EAGAIN && !s->warned++)
				log_warn("%s: read", s->path);
			return;
		}
		if (source_changed(s, &st))
			continue;
		if (n == 0) {
			if ((uint64_t)st.st_size < s->off)
				source_truncated(s, "truncated");
			else if (!source_at_eof(s))
				return;
			continue;
		}
		s->stats.bytes += (uint64_t)n;
		s->stats.last_read = time(NULL);
		source_feed(s, s->chunk, (size_t)n);
	}
}

/* Read stdin redirected from a file or device, up to its end. */
static void
source_poll_stdin(struct source *s)
{
	int rounds = 0;
	ssize_t n;

	while (s->started && s->fd != -1 && !s->eof) {
		if (rounds++ == SOURCE_ROUNDS) {
			source_kick(s);
			return;
		}
		n = read(s->fd, s->chunk, SOURCE_CHUNK);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			return;
		if (n <= 0) {
			if (n == -1)
				log_warn("stdin");
			source_flush(s);
			s->eof = 1;
			return;
		}
		s->stats.bytes += (uint64_t)n;
		s->stats.last_read = time(NULL);
		source_feed(s, s->chunk, (size_t)n);
	}
}

/* Read whatever is available now (see source.h). */
void
source_poll(struct source *s)
{
	if (!s->started || s->inpoll)
		return;
	s->inpoll = 1;
	if (s->is_stdin)
		source_poll_stdin(s);
	else
		source_poll_file(s);
	s->inpoll = 0;
	if (s->dying)
		source_free(s);
}

const char *
source_path(const struct source *s)
{
	return s->path;
}

/* Give the end of the last complete line handed out, in the file read. */
void
source_position(const struct source *s, struct source_pos *pos)
{
	pos->inode = (uint64_t)s->ino;
	pos->offset = s->lineend;
	pos->headhash = s->headvalid ? s->head : 0;
}

const struct source_stats *
source_stats(const struct source *s)
{
	return &s->stats;
}

void
source_stats_add(struct source *s, const struct source_stats *from)
{
	s->stats.lines += from->lines;
	s->stats.bytes += from->bytes;
	s->stats.rotations += from->rotations;
	s->stats.truncations += from->truncations;
	if (from->last_read > s->stats.last_read)
		s->stats.last_read = from->last_read;
}

int
source_eof(const struct source *s)
{
	return s->eof;
}

uint64_t
source_cut(const struct source *s)
{
	return s->stats.cut;
}
