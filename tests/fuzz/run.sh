#!/bin/bash
# Build the libFuzzer targets with clang and run each for SECONDS (default
# 20), seeded from the filter samples and the shipped config files.
# Usage: tests/fuzz/run.sh [SECONDS]
set -u
secs=${1:-20}
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD:-$top/_build-fuzz}
command -v clang >/dev/null || { echo "fuzz: clang is not installed" >&2; exit 77; }
mkdir -p "$build"
(cd "$build" && "$top/configure" -q CC=clang --enable-fuzzing --enable-werror &&
	make -j2 -s tests/fuzz/fuzz_conf_parse tests/fuzz/fuzz_filter_match \
	    tests/fuzz/fuzz_ctl_request) || exit 1

corpus=$build/fuzz-corpus
rm -rf "$corpus"
mkdir -p "$corpus/conf" "$corpus/filter" "$corpus/ctl"
for d in filters actions jails.d; do
	for f in "$top/$d"/*.conf; do cp "$f" "$corpus/conf/$d-$(basename "$f")"; done
done
grep -hv '^#' "$top"/tests/filters/*.log | head -n 500 | split -l 1 - "$corpus/filter/line"
printf '%s\n' '{"v":1,"id":1,"cmd":"status","args":{}}' >"$corpus/ctl/status"
printf '%s\n' '{"v":1,"id":2,"cmd":"ban","args":{"jail":"x","addr":"1.2.3.4"}}' >"$corpus/ctl/ban"

status=0
for t in conf_parse:conf filter_match:filter ctl_request:ctl; do
	name=${t%%:*}
	dir=${t##*:}
	dict=
	[ -f "$top/tests/fuzz/fuzz_$name.dict" ] && dict=-dict=$top/tests/fuzz/fuzz_$name.dict
	echo "fuzz_$name: ${secs}s"
	"$build/tests/fuzz/fuzz_$name" -max_total_time="$secs" -max_len=4096 \
	    $dict "$corpus/$dir" >"$build/fuzz_$name.log" 2>&1 || {
		echo "fuzz_$name found a crash:"
		tail -n 40 "$build/fuzz_$name.log"
		status=1
	}
	grep -E '^(#[0-9]+ +DONE|Done)' "$build/fuzz_$name.log" | tail -n 1
done
exit $status
