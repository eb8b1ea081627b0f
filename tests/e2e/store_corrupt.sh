#!/bin/bash
# A corrupt database at start: jaild moves it aside, says so, starts a
# fresh one (mode 0600) and goes on banning.  A database from a newer
# jaild is refused with a clear message instead.
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || e2e_skip "sqlite3 is not installed"
e2e_setup

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
bantime = 1h
EOC

e2e_start_jaild
jc ban mail 203.0.113.7 >/dev/null || e2e_fail "ban"
e2e_stop_jaild
[ "$(sqlite3 "$DB" 'SELECT count(*) FROM bans')" = 1 ] || e2e_fail "not stored"

# corrupt HOW: "junk" overwrites the whole file, "page" one page inside.
corrupt_start() {
	rm -f "$DB"-wal "$DB"-shm
	if [ "$1" = junk ]; then
		head -c 20000 /dev/urandom >"$DB"
	else
		sqlite3 "$DB" "CREATE TABLE IF NOT EXISTS pad (x); INSERT INTO pad
		    SELECT randomblob(900) FROM generate_series(1, 40)" 2>/dev/null ||
		sqlite3 "$DB" "CREATE TABLE IF NOT EXISTS pad (x);
		    WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 40)
		    INSERT INTO pad SELECT randomblob(900) FROM c"
		sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
		for p in 1 2 3 4; do # the headers of pages 2 to 5
			printf 'ZZZZZZZZZZZZZZZZZZZZZZZZ' |
			    dd of="$DB" bs=1 seek=$((4096 * p)) conv=notrunc 2>/dev/null
		done
	fi
	: >"$T/jaild.log"
	e2e_start_jaild
	grep -q "is corrupt" "$T/jaild.log" ||
		e2e_fail "$1: no message about the corrupt file"
	ls "$DB".corrupt-* >/dev/null 2>&1 || e2e_fail "$1: the file was not kept aside"
	[ "$(stat -c %a "$DB")" = 600 ] || e2e_fail "$1: mode $(stat -c %a "$DB")"
	[ "$(sqlite3 "$DB" 'PRAGMA integrity_check')" = ok ] ||
		e2e_fail "$1: the fresh database is not sound"
	e2e_idle_line 198.51.100.9 "$LOG"
	e2e_wait 10 "ban after recovery" e2e_banned mail 198.51.100.9 ||
		e2e_fail "$1: no ban after starting fresh"
	e2e_stop_jaild
	[ "$(sqlite3 "$DB" "SELECT count(*) FROM bans WHERE addr = '198.51.100.9'")" = 1 ] ||
		e2e_fail "$1: the new ban is not in the fresh database"
	mkdir -p "$T/aside.$1"
	mv "$DB".corrupt-* "$T/aside.$1/"
}
corrupt_start junk
corrupt_start page

# A database from a newer jaild: refused, not overwritten.
sqlite3 "$DB" "PRAGMA user_version = 99"
"$JAILD" -f -c "$CONF" -S "$SOCK" -D "$DB" >"$T/newer.log" 2>&1 &
pid=$!
for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
	kill "$pid"
	e2e_fail "jaild ran on a database from a newer version"
fi
wait "$pid" 2>/dev/null
grep -q "schema version 99" "$T/newer.log" ||
	e2e_fail "no clear message: $(cat "$T/newer.log")"
[ "$(sqlite3 "$DB" 'PRAGMA user_version')" = 99 ] || e2e_fail "the newer database was changed"
e2e_done
