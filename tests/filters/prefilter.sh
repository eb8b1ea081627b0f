#!/bin/sh
# The prefilter's differential test: every shipped filter and every
# fail2ban filter (each mode), on every sample line (ours and fail2ban's),
# must give the same result with the literal prefilter off, on, and shared
# by all filters in one pass.  fail2ban's files join when installed.
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$here/../..}"
: "${top_builddir:=$here/../..}"
: "${F2B_FILTERS:=/etc/fail2ban/filter.d}"
: "${F2B_SAMPLES:=/usr/lib/python3/dist-packages/fail2ban/tests/files/logs}"

set -- -f "$top_srcdir/filters" -s "$top_srcdir/tests/filters"
if [ -d "$F2B_FILTERS" ] && [ -d "$F2B_SAMPLES" ]; then
	set -- "$@" -f "$F2B_FILTERS" -s "$F2B_SAMPLES"
else
	echo "note: fail2ban's filters or samples are not installed:" \
	    "checking the shipped ones only"
fi
exec "$top_builddir/tests/filters/prefilter_diff" "$@"
