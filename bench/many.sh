#!/bin/bash
# Many jails on one file: jaild following a 1M-line mail log appended at
# full speed with 20 or more jails reading it, beside fail2ban (polling
# backend) following a LINES_F2B-line cut of the same log with the same
# fail2ban filters (scaled per line).  Two jail sets:
#   f2b      20 of fail2ban's stock mail filters, loaded by jaild through
#            filter_dirs = /etc/fail2ban/filter.d (fail2ban runs these too)
#   shipped  every jail in jails.d/ enabled on the one file, topped up with
#            the f2b set's filters to at least 20 jails
# The timer runs from the start of the append until the engine has handled
# a last sentinel line (jaild: its source's line count; fail2ban: the
# sentinel's ban).  CPU seconds are utime + stime (/proc/PID/stat) over
# that span.  Medians of RUNS runs.
#
#   top_builddir=BUILD bench/many.sh   (LINES=1000000 LINES_F2B=100000
#                                       RUNS=3 SETS="f2b shipped" NO_F2B=)
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
JAILD=$top_builddir/engine/jaild
JAILCTL=$top_builddir/jailctl/jailctl
GEN=${GEN:-$top_srcdir/../shared/bench/gen_maillog.py}
LINES=${LINES:-1000000}
LINES_F2B=${LINES_F2B:-100000}
RUNS=${RUNS:-3}
SETS=${SETS:-f2b shipped}
F2B_FILTERS=${F2B_FILTERS:-/etc/fail2ban/filter.d}
HZ=$(getconf CLK_TCK)
T=$(mktemp -d /tmp/jaild-bench-many.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT

# The f2b set: jail name and fail2ban filter reference.
F2B_SET="postfix postfix
postfix-aggr postfix[mode=aggressive]
postfix-rbl postfix[mode=rbl]
postfix-auth postfix[mode=auth]
dovecot dovecot
exim exim
exim-spam exim-spam
sendmail-auth sendmail-auth
sendmail-reject sendmail-reject
sendmail-reject-aggr sendmail-reject[mode=aggressive]
courier-auth courier-auth
courier-smtp courier-smtp
cyrus-imap cyrus-imap
qmail qmail
uwimap-auth uwimap-auth
perdition perdition
sieve sieve
solid-pop3d solid-pop3d
domino-smtp domino-smtp
assp assp"

[ -f "$GEN" ] || GEN=/work/shared/bench/gen_maillog.py
python3 "$GEN" -n "$LINES" --seed 20240601 -o "$T/big.log" || exit 1
head -n "$LINES_F2B" "$T/big.log" >"$T/small.log"
SENT=203.0.113.250
sentinel() {
	echo "$(LC_ALL=C date '+%b %e %H:%M:%S') mx1 sm-mta[1]: t9SebrXZ000001: ruleset=check_rcpt, arg1=<x@example.org>, relay=[$SENT], reject=550 5.7.1 <x@example.org>... Relaying denied. Proper authentication required."
}

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
now() { date +%s.%N; }
waitfor() {
	local i
	for i in $(seq 1 12000); do "$@" >/dev/null 2>&1 && return 0; sleep 0.05; done
	return 1
}

# jaild_conf SET: write $T/jconf with that set's jails on $T/mail.log.
jaild_conf() {
	local c=$T/jconf n=0 name filter f
	rm -rf "$c" && mkdir -p "$c/jails.d" "$c/filters"
	printf '[jaild]\nsocket = %s\ndbfile = %s\nfilter_dirs = %s\n' \
	    "$T/j.sock" "$T/j.db" "$F2B_FILTERS" >"$c/jaild.conf"
	if [ "$1" = shipped ]; then
		cp -r "$top_srcdir/filters" "$top_srcdir/actions" "$c/"
		for f in "$top_srcdir"/jails.d/*.conf; do
			sed -e "s|^enabled *=.*|enabled = true|" \
			    -e "s|^logpath *=.*|logpath = $T/mail.log|" \
			    -e "s|^action *=.*|action =|" \
			    -e "s|^backend *=.*|backend = auto|" "$f" \
			    >"$c/jails.d/$(basename "$f")"
			n=$((n + $(grep -c '^\[' "$f")))
		done
	fi
	while read -r name filter; do
		[ "$n" -ge 20 ] && [ "$1" = shipped ] && break
		[ -e "$c/jails.d/$name.conf" ] && continue
		printf '[%s]\nenabled = true\nfilter = %s\naction =\nlogpath = %s\nmaxretry = 5\n' \
		    "f2b-$name" "$filter" "$T/mail.log" >"$c/jails.d/f2b-$name.conf"
		n=$((n + 1))
	done <<<"$F2B_SET"
	# the sentinel bans in every set: a reject jail with maxretry 1
	printf '[zz-sentinel]\nenabled = true\nfilter = sendmail-reject\naction =\nlogpath = %s\nmaxretry = 1\n' \
	    "$T/mail.log" >"$c/jails.d/zz-sentinel.conf"
	NJAILS=$((n + 1))
}

jaild_lines() {
	"$JAILCTL" -S "$T/j.sock" -j status | jq -e --argjson n "$1" '.sources[0].lines >= $n'
}

run_jaild() {
	local pid t0 c0 t1 c1
	rm -f "$T/j.db"* "$T/mail.log"; : >"$T/mail.log"
	"$JAILD" -f -c "$T/jconf" -S "$T/j.sock" -D "$T/j.db" 2>"$T/jaild.log" &
	pid=$!; PIDS+=("$pid")
	waitfor "$JAILCTL" -S "$T/j.sock" status || { cat "$T/jaild.log" >&2; echo "jaild did not start" >&2; exit 1; }
	c0=$(ticks "$pid"); t0=$(now)
	{ cat "$T/big.log"; sentinel; } >>"$T/mail.log"
	waitfor jaild_lines $((LINES + 1)) || { echo "jaild did not finish" >&2; exit 1; }
	t1=$(now); c1=$(ticks "$pid")
	kill "$pid"; wait "$pid" 2>/dev/null
	echo "jaild-$1 $(echo "$t1 - $t0" | bc) $(echo "scale=2; ($c1 - $c0) / $HZ" | bc) $NJAILS"
}

f2b_conf() {
	local f=$T/f2b name filter
	rm -rf "$f" && mkdir -p "$f"
	cp -r "$F2B_FILTERS" "$f/filter.d"
	cp -r /etc/fail2ban/action.d "$f/"
	cat >"$f/fail2ban.conf" <<EOC
[Definition]
loglevel = NOTICE
logtarget = $T/f2b.log
socket = $T/f2b.sock
pidfile = $T/f2b.pid
dbfile = $T/f2b.db
dbpurgeage = 1d
EOC
	printf '[DEFAULT]\nbackend = polling\naction =\nfindtime = 10m\nbantime = 1h\nmaxretry = 5\nlogpath = %s\n' \
	    "$T/mail.log" >"$f/jail.conf"
	while read -r name filter; do
		printf '[%s]\nenabled = true\nfilter = %s\n' "$name" "$filter" >>"$f/jail.conf"
	done <<<"$F2B_SET"
	printf '[zz-sentinel]\nenabled = true\nfilter = sendmail-reject\nmaxretry = 1\n' >>"$f/jail.conf"
}

f2b_banned() {
	fail2ban-client -c "$T/f2b" -s "$T/f2b.sock" status zz-sentinel | grep -q "$SENT"
}

run_f2b() {
	local pid t0 c0 t1 c1
	rm -f "$T/f2b.db" "$T/mail.log"; : >"$T/mail.log"
	fail2ban-client -c "$T/f2b" -s "$T/f2b.sock" -p "$T/f2b.pid" start >/dev/null 2>&1
	waitfor fail2ban-client -c "$T/f2b" -s "$T/f2b.sock" ping || { echo "fail2ban did not start" >&2; exit 1; }
	pid=$(cat "$T/f2b.pid"); PIDS+=("$pid")
	sleep 2 # let it take the file's (empty) position
	c0=$(ticks "$pid"); t0=$(now)
	{ cat "$T/small.log"; sentinel; } >>"$T/mail.log"
	waitfor f2b_banned || { echo "fail2ban did not finish" >&2; exit 1; }
	t1=$(now); c1=$(ticks "$pid")
	fail2ban-client -c "$T/f2b" -s "$T/f2b.sock" stop >/dev/null 2>&1
	waitfor test ! -e "/proc/$pid"
	echo "fail2ban-f2b $(echo "$t1 - $t0" | bc) $(echo "scale=2; ($c1 - $c0) / $HZ" | bc) 21"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "# $(date -u '+%F %T') $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
f2b_conf
for r in $(seq 1 "$RUNS"); do
	for s in $SETS; do
		jaild_conf "$s"
		run_jaild "$s"
	done
	[ -z "${NO_F2B:-}" ] && command -v fail2ban-server >/dev/null && run_f2b
done | tee "$T/results"
echo "jaild: $LINES lines, fail2ban: $LINES_F2B lines (+1 sentinel); runs: $RUNS"
echo "| engine | jails | wall s | lines/s | CPU s | CPU us/line |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for e in $(awk '{ print $1 }' "$T/results" | sort -u); do
	n=$LINES; [ "${e%%-*}" = fail2ban ] && n=$LINES_F2B
	s=$(grep "^$e " "$T/results" | awk '{ print $2 }' | median)
	c=$(grep "^$e " "$T/results" | awk '{ print $3 }' | median)
	j=$(grep "^$e " "$T/results" | awk '{ print $4 }' | head -1)
	printf '| %s | %s | %.2f | %.0f | %.2f | %.2f |\n' "$e" "$j" "$s" \
	    "$(echo "$n / $s" | bc)" "$c" "$(echo "scale=4; $c * 1000000 / $n" | bc)"
done
