#!/bin/bash
# Filter throughput: "jailctl test" against fail2ban-regex and grep -c on
# generated mail logs, in one run (this machine is shared: compare within
# a run, never across runs).  For each seed in SEEDS a LINES-line log is
# generated; jailctl and grep read all of it, fail2ban-regex its first
# F2B_LINES lines (it runs ~100x slower; its CPU time is scaled per line).
# Each command runs RUNS times; the medians of wall time and CPU time
# (user + system, /usr/bin/time) and the peak RSS are reported.  Usage:
#   top_srcdir=SRC top_builddir=BUILD bash bench/filters.sh
#       (LINES=1000000 F2B_LINES=100000 SEEDS="1 2 3" RUNS=3)
# Set NO_F2B=1 to skip fail2ban-regex.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$here/..}"
: "${top_builddir:=$top_srcdir}"
LINES=${LINES:-${1:-1000000}}
F2B_LINES=${F2B_LINES:-100000}
SEEDS=${SEEDS:-1 2 3}
RUNS=${RUNS:-3}
gen=${GEN:-$top_srcdir/../shared/bench/gen_maillog.py}
[ -f "$gen" ] || gen=/work/shared/bench/gen_maillog.py
jailctl=$top_builddir/jailctl/jailctl
f2bdir=${F2B_FILTERS:-/etc/fail2ban/filter.d}
heavy="$f2bdir/sendmail-reject.conf[mode=aggressive]"

for t in /usr/bin/time "$jailctl" "$gen"; do
	[ -e "$t" ] || { echo "missing $t" >&2; exit 77; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Run "$@" RUNS times; print "median_wall median_cpu max_rss_kib".
measure() {
	local i
	: >"$tmp/times"
	for i in $(seq "$RUNS"); do
		timeout 900 /usr/bin/time -f '%e %U %S %M' -o "$tmp/t" "$@" \
		    >"$tmp/out" 2>/dev/null
		cat "$tmp/t" >>"$tmp/times"
	done
	echo "$(awk '{ print $1 }' "$tmp/times" | median)" \
	    "$(awk '{ printf "%.2f\n", $2 + $3 }' "$tmp/times" | median)" \
	    "$(awk '$4 > m { m = $4 } END { print m }' "$tmp/times")"
}

# jailctl -j test prints JSON: pull out "matched".
matched() { sed -n 's/.*"matched":\([0-9]*\).*/\1/p' "$tmp/out" | head -1; }

row() { # name lines wall cpu rss matches
	printf '| %-52s | %7s | %6.2f | %6.2f | %5.0f | %6.0f | %s |\n' "$1" \
	    "$2" "$3" "$4" "$(awk -v k="$5" 'BEGIN { print k / 1024 }')" \
	    "$(awk -v c="$4" -v l="$2" 'BEGIN { print (c > 0 ? l / c / 1000 : 0) }')" \
	    "$6"
}

echo "# $(date -u '+%F %T') $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)," \
    "median of $RUNS"
for seed in $SEEDS; do
	log=$tmp/mail-$seed.log
	python3 "$gen" -n "$LINES" --seed "$seed" -o "$log" || exit 1
	head -n "$F2B_LINES" "$log" >"$tmp/head.log"
	echo
	echo "seed $seed"
	echo '| command | lines | wall s | CPU s | MiB | klines/CPU s | matches |'
	echo '| --- | ---: | ---: | ---: | ---: | ---: | --- |'
	read -r w c m < <(measure grep -c 'did not issue MAIL/EXPN/VRFY/ETRN' "$log")
	row "grep -c 'did not issue MAIL/EXPN/VRFY/ETRN'" "$LINES" "$w" "$c" "$m" "$(cat "$tmp/out")"
	read -r w c m < <(measure "$jailctl" -j test -c "$top_srcdir" \
	    sendmail-idle "$log")
	row "jailctl test sendmail-idle (jaild's filter)" "$LINES" "$w" "$c" "$m" "$(matched)"
	read -r w c m < <(measure "$jailctl" -j test "$heavy" "$log")
	row "jailctl test sendmail-reject[mode=aggressive]" "$LINES" "$w" "$c" "$m" "$(matched)"
	jcpu=$c
	if [ -z "${NO_F2B:-}" ] && command -v fail2ban-regex >/dev/null; then
		read -r w c m < <(measure fail2ban-regex "$tmp/head.log" "$heavy")
		row "fail2ban-regex sendmail-reject[mode=aggressive]" "$F2B_LINES" \
		    "$w" "$c" "$m" "$(sed -n 's/^Lines: .*, \([0-9]*\) matched.*/\1/p' "$tmp/out" | head -1)"
		awk -v f="$c" -v fl="$F2B_LINES" -v j="$jcpu" -v jl="$LINES" 'BEGIN {
		    printf "seed %s: fail2ban-regex %.1f us/line, jailctl %.2f us/line: %.0fx less CPU\n",
		    "'"$seed"'", f / fl * 1e6, j / jl * 1e6, (f / fl) / (j / jl) }'
	fi
done
