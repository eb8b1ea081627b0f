#!/bin/bash
# Filter throughput: "jailctl test" against fail2ban-regex and grep -c on
# the same 1M-line mail log, in one run (this machine is shared: compare
# within a run, never across runs).  Median of $RUNS runs; peak RSS from
# /usr/bin/time.  Usage:
#   top_srcdir=/work/main top_builddir=BUILD bash bench/filters.sh [LINES]
# Set NO_F2B=1 to skip fail2ban-regex (about 40 s a run).
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$here/..}"
: "${top_builddir:=$top_srcdir}"
lines=${1:-1000000}
RUNS=${RUNS:-3}
gen=${GEN:-$top_srcdir/../shared/bench/gen_maillog.py}
[ -f "$gen" ] || gen=/work/shared/bench/gen_maillog.py
jailctl=$top_builddir/jailctl/jailctl
f2bdir=${F2B_FILTERS:-/etc/fail2ban/filter.d}

for t in /usr/bin/time "$jailctl" "$gen"; do
	[ -e "$t" ] || { echo "missing $t" >&2; exit 77; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log=$tmp/mail.log
python3 "$gen" -n "$lines" --seed 1 -o "$log" || exit 1

# Run "$@" RUNS times; print "median_seconds max_rss_kib last_output".
measure() {
	local i out
	: >"$tmp/times"
	for i in $(seq "$RUNS"); do
		timeout 600 /usr/bin/time -f '%e %M' -o "$tmp/t" "$@" \
		    >"$tmp/out" 2>/dev/null
		cat "$tmp/t" >>"$tmp/times"
	done
	out=$(tail -c 200 "$tmp/out" | tr -d '\n' | tail -c 60)
	sort -n "$tmp/times" | awk -v n="$RUNS" -v o="$out" '
	    { t[NR] = $1; if ($2 > m) m = $2 }
	    END { printf "%s %d %s\n", t[int((n + 1) / 2)], m, o }'
}

# jailctl -j test prints JSON: pull out "matched".
matched() { sed -n 's/.*"matched":\([0-9]*\).*/\1/p' "$tmp/out"; }

row() { # name seconds rss matches
	printf '| %-58s | %8.2f | %9.0f | %6.1f | %s |\n' "$1" "$2" \
	    "$(awk -v k="$3" 'BEGIN { print k / 1024 }')" \
	    "$(awk -v s="$2" -v l="$lines" 'BEGIN { print l / s / 1000 }')" "$4"
}

echo "# $(date -u +%F) $(nproc) cores, $lines lines, median of $RUNS"
echo '| command | seconds | peak MiB | klines/s | matches |'
echo '| --- | ---: | ---: | ---: | --- |'
read -r s m _ < <(measure grep -c 'did not issue MAIL/EXPN/VRFY/ETRN' "$log")
row "grep -c 'did not issue MAIL/EXPN/VRFY/ETRN'" "$s" "$m" "$(cat "$tmp/out")"
grep_s=$s
read -r s m _ < <(measure "$jailctl" -j test -c "$top_srcdir" sendmail-idle \
    "$log")
row "jailctl test sendmail-idle (jaild's filter)" "$s" "$m" "$(matched)"
idle_s=$s
read -r s m _ < <(measure "$jailctl" -j test \
    "$f2bdir/sendmail-reject.conf[mode=aggressive]" "$log")
row "jailctl test fail2ban's sendmail-reject[mode=aggressive]" "$s" "$m" \
    "$(matched)"
jf_s=$s
if [ -z "${NO_F2B:-}" ] && command -v fail2ban-regex >/dev/null; then
	read -r s m _ < <(measure fail2ban-regex "$log" \
	    "$f2bdir/sendmail-reject.conf[mode=aggressive]")
	row "fail2ban-regex sendmail-reject[mode=aggressive]" "$s" "$m" \
	    "$(sed -n 's/^Lines: .* \([0-9]*\) matched.*/\1/p;s/^Lines:.*, \([0-9]*\) matched.*/\1/p' "$tmp/out" | head -1)"
	awk -v a="$s" -v b="$jf_s" \
	    'BEGIN { printf "jailctl vs fail2ban-regex, same filter: %.0fx\n", a / b }'
fi
awk -v a="$idle_s" -v b="$grep_s" \
    'BEGIN { printf "sendmail-idle vs grep -c: %.1fx the time of grep\n", a / b }'
