#!/bin/sh
# Check every shipped filter against its annotated samples (TAP output).
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$here/../..}"
: "${top_builddir:=$here/../..}"
"$top_builddir/tests/filters/filter_runner" "$top_srcdir/filters" \
    "$top_srcdir/tests/filters"
exit $?
