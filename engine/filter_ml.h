/* Multi-line matching state of a filter: line buffer, <F-MLFID> sessions. */
#ifndef JAILD_FILTER_ML_H
#define JAILD_FILTER_ML_H

#include <stddef.h>
#include <time.h>

#include "filter.h"

#define FILTER_MLFID_BUCKETS 1024
#define FILTER_ML_IDMAX 128 /* an <F-MLFID> longer than this is cut */
#define FILTER_ML_MAXSKIP 16 /* <SKIPLINES> spans of one match */

/* A growing string (a buffered line, the joined buffer). */
struct filter_ml_buf {
	char *s;
	size_t len;
	size_t size;
};

/* What one match says about its session, besides address and user. */
struct filter_flags {
	const char *mlfid; /* in the matched text: no copy per line */
	size_t mlfidlen;
	int has_mlfid;
	int nofail;
	int gained;
	int forget;
};

struct filter_session;

/* What a filter remembers across lines; zeroed with the filter. */
struct filter_ml {
	int maxlines;
	struct filter_ml_buf
	    *lines; /* maxlines > 1: the last lines, dates cut */
	size_t nlines;
	struct filter_ml_buf joined; /* those lines, each followed by \n */
	size_t mstart, mend; /* the last failregex match in joined */
	size_t skip[FILTER_ML_MAXSKIP][2]; /* its <SKIPLINES> spans */
	size_t nskip;
	int mmatched; /* a failregex matched: trim the buffer */
	struct filter_session *buckets[FILTER_MLFID_BUCKETS];
	struct filter_session *oldest, *newest;
	size_t nsessions;
};

/* Size ml for maxlines lines (a buffer only when maxlines > 1). */
void filter_ml_init(struct filter_ml *ml, int maxlines);
/* Free what ml holds (not ml itself). */
void filter_ml_clear(struct filter_ml *ml);

/* Append a line (its date cut out), dropping the oldest when full. */
void filter_ml_lines_push(struct filter_ml *ml, const char *s, size_t len);
/* Drop the lines the last failregex match (mstart..mend) covered. */
void filter_ml_lines_trim(struct filter_ml *ml);

/*
 * Merge a match into its <F-MLFID> session (fl->mlfid); the verdict is
 * FILTER_MATCH or FILTER_NOMATCH, and res gets the session's address/user.
 */
enum filter_verdict filter_ml_session_merge(struct filter_ml *ml,
    const struct filter_flags *fl, time_t when, struct filter_result *res);

#endif
