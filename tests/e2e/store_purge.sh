#!/bin/bash
# Purge keeps the database bounded: history older than dbpurgeage is
# deleted (the first purge runs 5 s after start, then hourly), and the
# freed pages are reused, so a second wave of bans of the same size does
# not grow the file.  Without the purge the file doubles.
. "$(dirname "$0")/lib.sh"
e2e_setup
command -v sqlite3 >/dev/null || e2e_skip "sqlite3 is not installed"

LOG=$T/mail.log
: >"$LOG"
sed -i "/^\[jaild\]/a dbpurgeage = 2s" "$CONF/jaild.conf"
cat >"$CONF/jails.d/purge.conf" <<EOC
[purge]
enabled = true
filter = sendmail-idle
action =
logpath = $LOG
maxretry = 1
findtime = 1h
bantime = 1s
EOC

# wave N: 3000 one-line attackers 10.N.x.y, banned for 1 s each.
wave() {
	local stamp i
	stamp=$(e2e_stamp)
	for i in $(seq 0 2999); do
		printf '%s mx sm-mta[7]: 6ARN%010d: [10.%d.%d.%d] did not issue MAIL/EXPN/VRFY/ETRN during connection to IPv4\n' \
		    "$stamp" $((E2E_QID++)) "$1" $((i / 256)) $((i % 256))
	done >>"$LOG"
	e2e_wait 30 "wave $1 banned" \
	    '[ "$(jcj status purge | jq .total_bans)" -ge 3000 ]' ||
		e2e_fail "wave $1: $(jcj status purge | jq .total_bans) bans"
	e2e_wait 30 "wave $1 expired" \
	    '[ "$(jcj list purge | jq ".bans | length")" = 0 ]' ||
		e2e_fail "wave $1 did not expire"
}

rows() { sqlite3 "$DB" 'SELECT count(*) FROM bans'; }

# A restart triggers a purge 5 s later; SIZE is then the checkpointed file.
purge_and_measure() {
	e2e_stop_jaild
	: >"$T/jaild.log"
	e2e_start_jaild
	e2e_wait 20 "purge" grep -q "store: purged" "$T/jaild.log" ||
		e2e_fail "no purge logged"
	e2e_stop_jaild
	sqlite3 "$DB" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
	[ "$(rows)" = 0 ] || e2e_fail "$(rows) rows left after the purge"
	SIZE=$(stat -c %s "$DB")
}

e2e_start_jaild
wave 1
purge_and_measure
s1=$SIZE
e2e_start_jaild
wave 2
purge_and_measure
s2=$SIZE
echo "database after wave 1: $s1 bytes, after wave 2: $s2 bytes"
[ "$s2" -le $((s1 + s1 / 4)) ] ||
	e2e_fail "the database grew from $s1 to $s2 bytes across equal waves"

e2e_done
