#!/bin/bash
# The database on a tiny filesystem that fills up: jaild logs one clear
# error, keeps banning (jailctl list and the action), and when space comes
# back writes the backlog, with one recovery line.  Nothing is lost: every
# ban is in the store once, and survives a restart.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || e2e_skip "needs root to mount a tmpfs"
command -v sqlite3 >/dev/null || e2e_skip "sqlite3 is not installed"
e2e_setup
MNT=$T/tiny
mkdir -p "$MNT"
mount -t tmpfs -o size=512k,mode=0700 jaild-e2e "$MNT" ||
	e2e_skip "cannot mount a tmpfs"
df_cleanup() {
	e2e_stop_jaild
	umount "$MNT" 2>/dev/null
	e2e_cleanup
}
trap df_cleanup EXIT
DB=$MNT/jaild.db

LOG=$T/mail.log
REC=$T/record.log
: >"$LOG"
cat >"$CONF/jails.d/mail.conf" <<EOC
[mail]
enabled = true
filter = sendmail-idle
action = record[file="$REC"]
logpath = $LOG
maxretry = 1
findtime = 1h
bantime = 1d
EOC
e2e_start_jaild

# attackers FIRST COUNT: COUNT idle lines from distinct 100.65.x.y hosts.
attackers() {
	local s
	s=$(e2e_stamp)
	awk -v a="$1" -v n="$2" -v s="$s" 'BEGIN {
		for (i = a; i < a + n; i++)
			printf "%s mx sm-mta[7]: 6ARN%010d: [100.65.%d.%d] did not issue MAIL/EXPN/VRFY/ETRN during connection to IPv4\n",
			    s, i, int(i / 256) % 256, i % 256
	}' >>"$LOG"
}
nbans() {
	jcj list mail | jq '.bans | length'
}
nstored() {
	sqlite3 "$DB" 'SELECT count(*) FROM bans'
}
nrecorded() {
	grep -c '^ban mail' "$REC"
}
# is N CMD...: does CMD print N?  (for e2e_wait, which re-runs it)
is() {
	test "$("${@:2}")" = "$1"
}

attackers 0 50
e2e_wait 10 "50 bans" is 50 nbans || e2e_fail "first bans: $(nbans)"
e2e_wait 5 "stored" is 50 nstored ||
	e2e_fail "first bans not stored"

# Fill the filesystem, then keep attacking until jaild notices.
dd if=/dev/zero of="$MNT/fill" bs=4k 2>/dev/null
sent=50
for i in $(seq 1 40); do
	grep -q "store: cannot write the database" "$T/jaild.log" && break
	attackers "$sent" 100
	sent=$((sent + 100))
	sleep 0.2
done
grep "store: cannot write the database" "$T/jaild.log" >&2 ||
	e2e_fail "no error logged with the disk full"
# Bans go on while the disk is full.
attackers "$sent" 100
sent=$((sent + 100))
e2e_wait 10 "$sent bans in memory" is "$sent" nbans ||
	e2e_fail "bans stopped with the disk full: $(nbans) of $sent"
e2e_wait 10 "the action ran" is "$sent" nrecorded ||
	e2e_fail "actions stopped: $(nrecorded) of $sent"
stored=$(sqlite3 "$DB" "SELECT count(*) FROM bans")
[ "$stored" -lt "$sent" ] || e2e_fail "the disk was never full ($stored stored)"
sleep 2.5 # a few retries
n=$(grep -c "store: cannot write the database" "$T/jaild.log")
[ "$n" = 1 ] || e2e_fail "the error was logged $n times, not once"

# Space comes back: the backlog is written, with one line saying so.
rm -f "$MNT/fill"
e2e_wait 10 "recovery" grep -q "store: writable again" "$T/jaild.log" ||
	e2e_fail "no recovery"
e2e_wait 5 "backlog stored" is "$sent" nstored ||
	e2e_fail "after recovery: $(nstored) of $sent stored"
dups=$(sqlite3 "$DB" "SELECT addr FROM bans GROUP BY addr HAVING count(*) > 1 LIMIT 3")
[ -z "$dups" ] || e2e_fail "stored twice: $dups"
[ "$(sqlite3 "$DB" 'PRAGMA integrity_check')" = ok ] || e2e_fail "integrity_check"
# A lift after recovery is stored at once.
jc unban 100.65.0.1 >/dev/null || e2e_fail "unban"
sleep 0.3
[ "$(sqlite3 "$DB" "SELECT active FROM bans WHERE addr = '100.65.0.1'")" = 0 ] ||
	e2e_fail "unban not stored"

# A restart brings every ban back, and reads no line again.
e2e_stop_jaild
e2e_start_jaild
[ "$(nbans)" = $((sent - 1)) ] || e2e_fail "after restart: $(nbans) of $((sent - 1))"
sleep 0.5
[ "$(sqlite3 "$DB" 'SELECT count(*) FROM bans')" = "$sent" ] ||
	e2e_fail "lines read twice after restart"
e2e_done
