#!/bin/bash
# Follow benchmark: jaild following a mail log appended at full speed with
# four sendmail jails on it, beside fail2ban (polling backend) following
# the same file with its stock sendmail-auth and sendmail-reject filters.
# Each engine starts on an empty file; the timer runs from the start of
# the append until the engine has handled a last sentinel line (jaild:
# its source's line count; fail2ban: the sentinel's ban).  CPU seconds are
# the engine's utime + stime (/proc/PID/stat) over that span.  Medians of
# RUNS runs, engines alternated within each run.
#
#   top_builddir=BUILD bench/follow.sh          (LINES=1000000 RUNS=3)
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
JAILD=$top_builddir/engine/jaild
JAILCTL=$top_builddir/jailctl/jailctl
GEN=${GEN:-$top_srcdir/../shared/bench/gen_maillog.py}
LINES=${LINES:-1000000}
RUNS=${RUNS:-3}
HZ=$(getconf CLK_TCK)
T=$(mktemp -d /tmp/jaild-bench-follow.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT

[ -f "$GEN" ] || GEN=/work/shared/bench/gen_maillog.py
python3 "$GEN" -n "$LINES" --seed 20240601 -o "$T/big.log" || exit 1
SENT=203.0.113.250
sentinel() {
	echo "$(LC_ALL=C date '+%b %e %H:%M:%S') mx1 sm-mta[1]: t9SebrXZ000001: ruleset=check_rcpt, arg1=<x@example.org>, relay=[$SENT], reject=550 5.7.1 <x@example.org>... Relaying denied. Proper authentication required."
}

# CPU ticks (utime + stime) of PID.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
now() { date +%s.%N; }
# Wait (at most 600 s) until COMMAND succeeds.
waitfor() {
	local i
	for i in $(seq 1 12000); do "$@" >/dev/null 2>&1 && return 0; sleep 0.05; done
	return 1
}

jaild_conf() {
	local c=$T/jconf
	rm -rf "$c" && mkdir -p "$c/jails.d"
	cp -r "$top_srcdir/filters" "$top_srcdir/actions" "$c/"
	printf '[jaild]\nsocket = %s\ndbfile = %s\n' "$T/j.sock" "$T/j.db" >"$c/jaild.conf"
	# name filter extra
	while read -r name filter extra; do
		printf '[%s]\nenabled = true\nfilter = %s\naction =\nlogpath = %s\n%s\n' \
		    "$name" "$filter" "$T/mail.log" "${extra//;/$'\n'}" >"$c/jails.d/$name.conf"
	done <<EOC
sendmail sendmail-idle saturation.filter = sendmail-saturation;maxretry = 3
sendmail-auth sendmail-auth maxretry = 5
sendmail-reject sendmail-reject maxretry = 1
sendmail-idle-slow sendmail-idle maxretry = 10;findtime = 1h
EOC
}

jaild_lines() {
	"$JAILCTL" -S "$T/j.sock" -j status | jq -e --argjson n "$1" '.sources[0].lines >= $n'
}

run_jaild() {
	local pid t0 c0 t1 c1
	rm -f "$T/j.db"* "$T/mail.log"; : >"$T/mail.log"
	"$JAILD" -f -c "$T/jconf" -S "$T/j.sock" -D "$T/j.db" 2>"$T/jaild.log" &
	pid=$!; PIDS+=("$pid")
	waitfor "$JAILCTL" -S "$T/j.sock" status || { echo "jaild did not start" >&2; exit 1; }
	c0=$(ticks "$pid"); t0=$(now)
	{ cat "$T/big.log"; sentinel; } >>"$T/mail.log"
	waitfor jaild_lines $((LINES + 1)) || { echo "jaild did not finish" >&2; exit 1; }
	t1=$(now); c1=$(ticks "$pid")
	kill "$pid"; wait "$pid" 2>/dev/null
	echo "jaild $(echo "$t1 - $t0" | bc) $(echo "scale=2; ($c1 - $c0) / $HZ" | bc)"
}

f2b_conf() {
	local f=$T/f2b
	rm -rf "$f" && mkdir -p "$f"
	cp -r /etc/fail2ban/filter.d /etc/fail2ban/action.d "$f/"
	cat >"$f/fail2ban.conf" <<EOC
[Definition]
loglevel = NOTICE
logtarget = $T/f2b.log
socket = $T/f2b.sock
pidfile = $T/f2b.pid
dbfile = $T/f2b.db
dbpurgeage = 1d
EOC
	cat >"$f/jail.conf" <<EOC
[DEFAULT]
backend = polling
action =
findtime = 10m
bantime = 1h
ignoreip = 127.0.0.1/8
[sendmail-auth]
enabled = true
filter = sendmail-auth
logpath = $T/mail.log
maxretry = 5
[sendmail-reject]
enabled = true
filter = sendmail-reject
logpath = $T/mail.log
maxretry = 1
EOC
}

f2b_banned() {
	fail2ban-client -c "$T/f2b" -s "$T/f2b.sock" status sendmail-reject | grep -q "$SENT"
}

run_f2b() {
	local pid t0 c0 t1 c1
	rm -f "$T/f2b.db" "$T/mail.log"; : >"$T/mail.log"
	fail2ban-client -c "$T/f2b" -s "$T/f2b.sock" -p "$T/f2b.pid" start >/dev/null 2>&1
	waitfor fail2ban-client -c "$T/f2b" -s "$T/f2b.sock" ping || { echo "fail2ban did not start" >&2; exit 1; }
	pid=$(cat "$T/f2b.pid"); PIDS+=("$pid")
	sleep 2 # let it take the file's (empty) position
	c0=$(ticks "$pid"); t0=$(now)
	{ cat "$T/big.log"; sentinel; } >>"$T/mail.log"
	waitfor f2b_banned || { echo "fail2ban did not finish" >&2; exit 1; }
	t1=$(now); c1=$(ticks "$pid")
	fail2ban-client -c "$T/f2b" -s "$T/f2b.sock" stop >/dev/null 2>&1
	waitfor test ! -e "/proc/$pid"
	echo "fail2ban $(echo "$t1 - $t0" | bc) $(echo "scale=2; ($c1 - $c0) / $HZ" | bc)"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

jaild_conf
f2b_conf
for r in $(seq 1 "$RUNS"); do
	run_jaild
	command -v fail2ban-server >/dev/null && run_f2b
done | tee "$T/results"
echo "lines: $LINES + 1 sentinel; runs: $RUNS; $(nproc) cores"
for e in jaild fail2ban; do
	grep -q "^$e " "$T/results" || continue
	s=$(grep "^$e " "$T/results" | awk '{ print $2 }' | median)
	c=$(grep "^$e " "$T/results" | awk '{ print $3 }' | median)
	printf '%-9s median %7.2f s  %9.0f lines/s  %6.2f CPU s\n' "$e" "$s" \
	    "$(echo "$LINES / $s" | bc)" "$c"
done
