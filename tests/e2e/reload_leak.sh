#!/bin/bash
# Reloads free what they replace: 1,000 reloads (jailctl reload), then a
# burst of SIGHUPs, keep jaild's VmRSS within 2 MB of where it stood after
# a warm-up.  Half the reloads change one jail's action (its actions are
# stopped and new ones started), so both the kept and the replaced paths
# run; every jail keeps a ban across all of it.
. "$(dirname "$0")/lib.sh"

e2e_setup
N=${RELOADS:-1000}
LOG=$T/mail.log
REC=$T/record.log
: >"$LOG"
for j in a b c d e f; do
	cat >"$CONF/jails.d/$j.conf" <<EOC
[$j]
enabled = true
filter = sendmail-idle
action = record[file=$REC]
logpath = $LOG
maxretry = 1
bantime = 1d
EOC
done
# Jail f flips between two actions, so a reload replaces its action.
flip() {
	local extra=
	[ $(($1 % 2)) = 1 ] && extra="
         log"
	cat >"$CONF/jails.d/f.conf" <<EOC
[f]
enabled = true
filter = sendmail-idle
action = record[file=$REC]$extra
logpath = $LOG
maxretry = 1
bantime = 1d
EOC
}
e2e_start_jaild
for i in 1 2 3; do
	echo "$(e2e_stamp) mx sm-mta[100$i]: 6ARN000000000$i: [203.0.113.$i] did not issue MAIL/EXPN/VRFY/ETRN during connection to IPv4"
done >>"$LOG"
e2e_wait 10 "3 bans in a" '[ "$(jcj status a | jq ".banned | length")" = 3 ]' ||
	e2e_fail "no bans"

rss() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$E2E_PID/status"
}
reload_n() {
	local i
	for i in $(seq 1 "$1"); do
		flip "$i"
		jc reload >/dev/null || { e2e_fail "reload $i failed"; return 1; }
	done
}

# ASan's quarantine holds freed memory: there LeakSanitizer, at exit,
# checks that reloads free what they replace, and RSS is not bounded.
bound=2048
if ldd "$JAILD" 2>/dev/null | grep -q libasan; then
	bound=10000000
	N=${RELOADS:-200} # LeakSanitizer needs no more, ASan is slow
fi

reload_n 50 # warm-up: caches, arenas, the allocator's high-water marks
base=$(rss)
reload_n "$N"
after=$(rss)
echo "VmRSS: $base kB after the warm-up, $after kB after $N reloads"
[ "$after" -le $((base + bound)) ] ||
	e2e_fail "RSS grew by $((after - base)) kB over $N reloads"

# Bursts of SIGHUPs: 100 as fast as the shell sends them, then 100 in
# about a second.
for i in $(seq 1 100); do kill -HUP "$E2E_PID"; done
for i in $(seq 1 100); do kill -HUP "$E2E_PID"; sleep 0.01; done
e2e_wait 30 "jaild answers after the burst" jc status || e2e_fail "no answer"
jc reload >/dev/null || e2e_fail "reload after the burst failed"
burst=$(rss)
echo "VmRSS: $burst kB after 200 SIGHUPs"
[ "$burst" -le $((base + bound)) ] ||
	e2e_fail "RSS grew by $((burst - base)) kB after the SIGHUP burst"

for j in a b c d e f; do
	[ "$(jcj status $j | jq '.banned | length')" = 3 ] ||
		e2e_fail "jail $j lost its bans across the reloads"
done
e2e_stop_jaild
grep -q "Sanitizer" "$T/jaild.log" && e2e_fail "a sanitizer reported an error"
e2e_done
