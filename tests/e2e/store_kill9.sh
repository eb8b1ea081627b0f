#!/bin/bash
# kill -9 in the middle of a storm of 10,000 bans, at several random points.
#
# A ban is "acknowledged" once jailctl list showed it or its action ran
# (its element is in the nftables set).  After each kill the store must hold
# every acknowledged ban, each address at most once; after the last restart
# every attacker is banned exactly once (no line skipped or counted twice),
# the nftables set holds exactly the store's active bans, and
# PRAGMA integrity_check is ok.  Runs jaild in a network namespace it makes.
. "$(dirname "$0")/lib.sh"

e2e_need nftables
[ "$(id -u)" = 0 ] || e2e_skip "needs root for a network namespace"
for c in sqlite3 nft ip; do
	command -v "$c" >/dev/null || e2e_skip "$c is not installed"
done
e2e_setup
NS=jd-kill9-$$
ip netns add "$NS" 2>/dev/null || e2e_skip "cannot create a network namespace"
WRITER=
k9_cleanup() {
	[ -n "$WRITER" ] && kill "$WRITER" 2>/dev/null
	e2e_cleanup
	ip netns del "$NS" 2>/dev/null
}
trap k9_cleanup EXIT
ip netns exec "$NS" ip link set lo up

N=${STORM_N:-10000}
KILLS=${STORM_KILLS:-4}
LOG=$T/mail.log
: >"$LOG"
cat >"$CONF/jails.d/storm.conf" <<EOC
[storm]
enabled = true
filter = sendmail-idle
action = nftables
logpath = $LOG
maxretry = 1
port = 25
findtime = 1h
bantime = 1d
EOC

# jaild in the namespace: ip netns exec execs it, so $E2E_PID is jaild's.
k9_start() {
	ip netns exec "$NS" "$JAILD" -f -v -c "$CONF" -S "$SOCK" -D "$DB" \
	    >>"$T/jaild.log" 2>&1 &
	E2E_PID=$!
	e2e_wait 20 "jaild answers" jc status || {
		e2e_fail "jaild did not start"
		exit 1
	}
}

# The addresses in the nftables sets, one a line, sorted.
k9_nft_addrs() {
	ip netns exec "$NS" nft -j list table inet jaild 2>/dev/null |
	    jq -r '.nftables[] | select(.set) | .set.elem[]? |
		if type == "object" then .elem.val else . end' | sort
}

k9_store_addrs() {
	sqlite3 "$DB" "SELECT addr FROM bans ORDER BY addr" | sort
}

k9_check_store() {
	local what=$1 dups ok
	dups=$(sqlite3 "$DB" "SELECT addr FROM bans GROUP BY jail, addr HAVING count(*) > 1 LIMIT 5")
	[ -z "$dups" ] || e2e_fail "$what: banned twice in the store: $dups"
	ok=$(sqlite3 "$DB" "PRAGMA integrity_check")
	[ "$ok" = ok ] || e2e_fail "$what: integrity_check: $ok"
}

# The storm: N distinct attackers in 100.64.0.0/10, one idle line each.
stamp=$(e2e_stamp)
awk -v n="$N" -v s="$stamp" 'BEGIN {
	for (i = 0; i < n; i++)
		printf "%s mx sm-mta[7]: 6ARN%010d: [100.%d.%d.%d] did not issue MAIL/EXPN/VRFY/ETRN during connection to IPv4\n",
		    s, i, 64 + int(i / 65536), int(i / 256) % 256, i % 256
}' >"$T/storm.lines"

# The storm arrives over a few seconds, 100 lines every 60 ms, and goes on
# while jaild is down, as a real one would.
split -l 100 "$T/storm.lines" "$T/chunk."
k9_writer() {
	local f
	for f in "$T"/chunk.*; do
		cat "$f" >>"$LOG"
		sleep 0.06
	done
}

: >"$T/acked"
for round in $(seq 1 "$KILLS"); do
	k9_start
	if [ "$round" = 1 ]; then
		k9_writer &
		WRITER=$!
	fi
	# A random point: 200..1000 ms into this run.
	sleep "0.$(printf '%03d' $((200 + RANDOM % 800)))"
	jcj list storm 2>/dev/null | jq -r '.bans[].addr' >>"$T/acked"
	e2e_stop_jaild KILL
	k9_nft_addrs >>"$T/acked"
	sort -u -o "$T/acked" "$T/acked"
	k9_store_addrs >"$T/stored"
	missing=$(comm -23 "$T/acked" "$T/stored" | head -5)
	[ -z "$missing" ] ||
		e2e_fail "round $round: acknowledged but not stored: $missing"
	k9_check_store "round $round"
	echo "round $round: killed with $(wc -l <"$T/stored") bans stored," \
	    "$(wc -l <"$T/acked") acknowledged so far" >&2
done

# The last run finishes the storm.
k9_start
wait "$WRITER"
WRITER=
k9_nactive() {
	sqlite3 "$DB" 'SELECT count(*) FROM bans WHERE active = 1' 2>/dev/null
}
k9_all() {
	test "$(k9_nactive)" = "$N"
}
e2e_wait 120 "all $N bans" k9_all ||
	e2e_fail "not every attacker was banned: $(sqlite3 "$DB" 'SELECT count(*) FROM bans')"
sleep 0.5
k9_check_store "final"
count=$(sqlite3 "$DB" "SELECT count(*) FROM bans")
[ "$count" = "$N" ] || e2e_fail "$count bans in the store for $N attackers"
jcj list storm | jq -e --argjson n "$N" '.bans | length == $n' >/dev/null ||
	e2e_fail "jailctl list does not show $N bans"
sqlite3 "$DB" "SELECT addr FROM bans WHERE active = 1" | sort >"$T/active"
k9_nft_addrs >"$T/nft"
[ "$(uniq -d "$T/nft" | wc -l)" = 0 ] || e2e_fail "duplicates in the nftables set"
diff -q "$T/active" "$T/nft" >/dev/null ||
	e2e_fail "nftables set != active store bans: $(diff "$T/active" "$T/nft" | head -5)"
e2e_stop_jaild
e2e_done
