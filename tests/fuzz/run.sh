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
	    tests/fuzz/fuzz_ctl_request tests/fuzz/fuzz_prefilter) || exit 1

corpus=$build/fuzz-corpus
rm -rf "$corpus"
mkdir -p "$corpus/conf" "$corpus/filter" "$corpus/ctl" "$corpus/prefilter"
for d in filters actions jails.d; do
	for f in "$top/$d"/*.conf; do cp "$f" "$corpus/conf/$d-$(basename "$f")"; done
done
grep -hv '^#' "$top"/tests/filters/*.log | head -n 500 | split -l 1 - "$corpus/filter/line"
printf '%s\n' '{"v":1,"id":1,"cmd":"status","args":{}}' >"$corpus/ctl/status"
printf '%s\n' '{"v":1,"id":2,"cmd":"ban","args":{"jail":"x","addr":"1.2.3.4"}}' >"$corpus/ctl/ban"

# prefilter: a failregex, then a line (the date may sit inside the match)
n=0
while read -r re && read -r line; do
	n=$((n + 1))
	printf '%s\n%s\n' "$re" "$line" >"$corpus/prefilter/seed$n"
done <<'EOS'
^\[\]LOGIN FAILED for user: "\S+" from IP: <HOST>$
[2014-01-06 10:59:38]LOGIN FAILED for user: "x" from IP: 127.0.0.1
^<HOST> - \S+ \[\] "[^"]*" 400
12.34.56.78 - - [20/Jan/2015:19:53:28 +0100] "" 400 47 "-"
^\s*(?:\S+ )?sm-mta\[\d+\]: \w+: \[<HOST>\] did not issue MAIL/EXPN/VRFY/ETRN during connection to \w+$
Nov 27 23:58:22 mx sm-mta[1]: 6ARNwGLa027604: [10.77.0.11] did not issue MAIL/EXPN/VRFY/ETRN during connection to IPv4
^<HOST>: (?:(?i)expn|vrfy) \S+ \[rejected\]$
1.2.3.4: EXPN root [rejected]
^(?i)<HOST> sent EXPN$
1.2.3.4 SENT expn
^<HOST> (?:x(*ACCEPT))?sent EXPN$
1.2.3.4 x
^Failed \S+ for <F-USER>\S+</F-USER> from <HOST> port \d+
Nov 27 23:58:22 h sshd[1]: Failed password for root from ::1 port 22
{^LN-BEG}^- from <HOST>$
-Nov 27 23:58:22 from 1.2.3.4
{^LN-BEG}^\[\]LOGIN FAILED for user: "\S+" from IP: <HOST>$
[2014-01-06 10:59:38]LOGIN FAILED for user: "x" from IP: 127.0.0.1
EOS

status=0
for t in conf_parse:conf filter_match:filter ctl_request:ctl prefilter:prefilter; do
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
