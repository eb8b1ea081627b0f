#!/bin/bash
# The database deleted, locked and replaced while jaild runs and bans, and
# then a restart, a restart on an empty store and one with a directory at
# the database's path.  No ban is lost: after each fault every
# acknowledged ban (shown by jailctl) is in the store exactly once and in
# the nftables set of the network namespace jaild runs in.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || e2e_skip "needs root for a network namespace"
for c in sqlite3 nft ip; do
	command -v "$c" >/dev/null || e2e_skip "$c is not installed"
done
e2e_need nftables # the kernel set is half of "no ban lost"
e2e_setup
NS=jd-faults-$$
ip netns add "$NS" 2>/dev/null || e2e_skip "cannot create a network namespace"
LOCKER=
sf_cleanup() {
	[ -n "$LOCKER" ] && kill "$LOCKER" 2>/dev/null
	e2e_cleanup
	ip netns del "$NS" 2>/dev/null
}
trap sf_cleanup EXIT
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" nft list ruleset >/dev/null 2>&1 ||
	e2e_skip "nftables unusable here"

LOG=$T/mail.log
: >"$LOG"
cat >"$CONF/jails.d/mail.conf" <<EOC
[mail]
enabled = true
filter = sendmail-idle
action = nftables
logpath = $LOG
maxretry = 1
port = 25
findtime = 1h
bantime = 1d
EOC

sf_start() {
	ip netns exec "$NS" "$JAILD" -f -v -c "$CONF" -S "$SOCK" -D "$DB" \
	    >>"$T/jaild.log" 2>&1 &
	E2E_PID=$!
	e2e_wait 20 "jaild answers" jc status || {
		e2e_fail "jaild did not start"
		exit 1
	}
}
# Host number i (1..) as an address.
sf_addr() {
	echo "10.9.$(($1 / 250)).$(($1 % 250 + 1))"
}
# Ban hosts FROM..TO: one idle line each, in one write.
FED=0
sf_feed() {
	local i stamp
	stamp=$(e2e_stamp)
	for i in $(seq "$1" "$2"); do
		printf '%s mx sm-mta[%d]: 6ARN%010d: [%s] did not issue MAIL/EXPN/VRFY/ETRN during connection to IPv4\n' \
		    "$stamp" $((20000 + i)) "$i" "$(sf_addr "$i")"
	done >>"$LOG"
	FED=$2
}
sf_expected() {
	local i
	for i in $(seq 1 "$FED"); do sf_addr "$i"; done | sort
}
sf_listed() {
	jcj status mail | jq -r '.banned[].addr' | sort
}
sf_store() {
	sqlite3 -cmd ".timeout 5000" "$DB" \
	    "SELECT addr FROM bans WHERE active = 1 AND jail = 'mail'" | sort
}
sf_kernel() {
	ip netns exec "$NS" nft -j list set inet jaild mail_v4 2>/dev/null |
	    jq -r '.nftables[] | select(.set) | .set.elem[]? |
		if type == "object" then .elem.val else . end' | sort
}
# Every host fed so far is acknowledged, in the store once, in the kernel.
sf_check() {
	local what=$1
	e2e_wait 20 "$what: jailctl lists $FED bans" \
	    '[ "$(sf_listed)" = "$(sf_expected)" ]' ||
		e2e_fail "$what: jailctl lists $(sf_listed | wc -l) of $FED"
	e2e_wait 20 "$what: the store holds each ban once" \
	    '[ "$(sf_store)" = "$(sf_expected)" ]' ||
		e2e_fail "$what: the store holds $(sf_store | wc -l) active bans, $(sf_store | sort -u | wc -l) distinct, of $FED"
	e2e_wait 20 "$what: the kernel set holds every ban" \
	    '[ "$(sf_kernel)" = "$(sf_expected)" ]' ||
		e2e_fail "$what: the kernel set holds $(sf_kernel | wc -l) of $FED"
}

sf_start
sf_feed 1 20
sf_check "start"
sqlite3 "$DB" ".backup $T/old.db" # an old copy, for the replacement

# 1. Locked: another process holds BEGIN EXCLUSIVE for 8 s.
{ echo "BEGIN EXCLUSIVE;"; sleep 8; echo "ROLLBACK;"; } |
    sqlite3 "$DB" &
LOCKER=$!
e2e_wait 5 "the lock is held" \
    '! sqlite3 "$DB" "BEGIN IMMEDIATE; ROLLBACK;" 2>/dev/null' ||
	e2e_fail "locked: the sqlite3 CLI did not take the lock"
sf_feed 21 40
sleep 0.5 # jaild has read the lines and tries to write them
t0=$(date +%s%N)
jc status >/dev/null || e2e_fail "locked: jailctl status failed"
ms=$((($(date +%s%N) - t0) / 1000000))
echo "jailctl status took $ms ms with the database locked"
[ "$ms" -lt 3000 ] || e2e_fail "locked: jailctl status took $ms ms"
e2e_wait 3 "bans reach the kernel while locked" \
    '[ "$(sf_kernel | wc -l)" = 40 ]' ||
	e2e_fail "locked: the kernel set holds $(sf_kernel | wc -l) of 40"
kill -0 "$LOCKER" 2>/dev/null ||
	e2e_fail "locked: the lock went before the bans were checked"
wait "$LOCKER"
LOCKER=
sf_check "locked"

# 2. Deleted: the file goes (its -wal and -shm stay, as after rm FILE).
rm -f "$DB"
sf_feed 41 60
e2e_wait 10 "the database is back" '[ -f "$DB" ]' ||
	e2e_fail "deleted: jaild did not put the database back"
grep -q "was deleted or replaced" "$T/jaild.log" ||
	e2e_fail "deleted: nothing logged"
sf_check "deleted"

# 3. Replaced: an old copy moved over it.
mv "$T/old.db" "$DB"
sf_feed 61 80
e2e_wait 10 "the replacement moved aside" \
    'ls "$DB".replaced-* >/dev/null 2>&1' ||
	e2e_fail "replaced: the new file was not moved aside"
sf_check "replaced"

# 4. A directory where the file was.
rm -f "$DB"
mkdir "$DB"
sf_feed 81 90
e2e_wait 10 "the directory moved aside" '[ -f "$DB" ]' ||
	e2e_fail "directory: jaild did not put the database back"
sf_check "directory"

# 5. A restart: nothing is read again (the positions were kept), nothing
# lost.
e2e_stop_jaild
sf_start
sf_check "restart"
[ "$(jcj status mail | jq .lines)" = 0 ] ||
	e2e_fail "restart: $(jcj status mail | jq .lines) lines read again"
[ "$(sqlite3 "$DB" "SELECT count(*) FROM bans")" = 90 ] ||
	e2e_fail "restart: the store holds other bans than the 90"

# 6. A restart on an empty store: the kernel's bans are kept.
e2e_stop_jaild
rm -f "$DB" "$DB-wal" "$DB-shm"
mkdir "$DB" # and at start, a directory is moved aside too
sf_start
e2e_wait 20 "the sweep kept the kernel's bans" \
    'grep -q "stale sweep: the kernel holds 90 hosts the store does not" "$T/jaild.log"' ||
	e2e_fail "empty store: no word of the kernel's bans"
[ "$(sf_kernel)" = "$(sf_expected)" ] ||
	e2e_fail "empty store: the kernel set holds $(sf_kernel | wc -l) of 90"
ls -d "$DB".notafile-* >/dev/null 2>&1 ||
	e2e_fail "the directory at start was not moved aside"

[ "$(sqlite3 "$DB" "PRAGMA integrity_check")" = ok ] ||
	e2e_fail "integrity_check failed"
e2e_stop_jaild
grep -q "Sanitizer" "$T/jaild.log" && e2e_fail "a sanitizer reported an error"
e2e_done
