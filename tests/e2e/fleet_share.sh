#!/bin/bash
# The fleet, share mode, on a real PostgreSQL: three jaild in three
# network namespaces share one database.  A ban from log lines on A lands
# in B's and C's kernel sets, with A as its origin; an unban on C lifts it
# on A and B; "unban --local" lifts it on one node only; a bad row is
# refused; a fleet ban covering a node's ignoreip is not applied there;
# rows that ended days ago are purged.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fleet_lib.sh"

fleet_setup
fleet_pg_start
for n in a b c; do fleet_node $n; done
# C never bans 10.88.0.0/16, whoever asks.
sed -i 's|^ignoreip = .*|& 10.88.0.0/16|' "$T/c/conf/jaild.conf"
# A starts alone and creates the schema; rows that ended days ago are
# purged when the next node connects (a permanent ban stays).
fleet_start a
old=$(($(date +%s) - 3 * 86400))
fleet_psql -c "INSERT INTO jaild_events (node, epoch, seq, kind, jail, addr,
    start_at, end_at, expires) VALUES
    ('old', 'x', 1, 'ban', 'mail', '10.97.0.1', $old, $((old + 60)), $((old + 60))),
    ('old', 'x', 2, 'ban', 'mail', '10.97.0.2', $old, 0, NULL),
    ('old', 'x', 3, 'unban', 'mail', '10.97.0.2', $((old + 9)), 0, $((old + 9))),
    ('old', 'x', 4, 'ban', 'mail', '10.97.0.3', $old, 0, NULL)"
old_rows() {
	fleet_psql -c "SELECT string_agg(seq::text, ',' ORDER BY seq)
	    FROM jaild_events WHERE node = 'old'"
}
for n in b c; do fleet_start $n; done
e2e_wait 10 "old rows purged" '[ "$(old_rows)" = 4 ]' ||
	e2e_fail "after the purge the old rows left are $(old_rows), not 4"
e2e_wait 10 "three nodes in jaild_nodes" \
    '[ "$(fleet_psql -c "SELECT count(*) FROM jaild_nodes")" = 3 ]' ||
	e2e_fail "the nodes did not register"

# Two idle lines on A ban 10.99.0.1 there; B and C follow.
fleet_fail a 10.99.0.1 2
for n in a b c; do
	e2e_wait 10 "10.99.0.1 in $n's kernel set" fleet_in_set $n 10.99.0.1 ||
		e2e_fail "10.99.0.1 not in $n's kernel set"
done
fjc b -j list | jq -e '.bans[] | select(.addr == "10.99.0.1") |
    .origin == "a"' >/dev/null || e2e_fail "b's ban does not name a as origin"
fjc a -j list | jq -e '.bans[] | select(.addr == "10.99.0.1") |
    .origin == null' >/dev/null || e2e_fail "a's own ban has an origin"
fjc c list | grep -q '10.99.0.1.*(from a)' || e2e_fail "c's list shows no origin"
fleet_store_bans b | grep -qx "10.99.0.1 a" ||
	e2e_fail "b's store: $(fleet_store_bans b)"
fleet_store_bans b | grep -qx "10.97.0.3 old" ||
	e2e_fail "b's store lacks the permanent ban the purge kept"
fjc b -j history 10.99.0.1 | jq -e '.bans[0].origin == "a"' >/dev/null ||
	e2e_fail "b's history has no origin"

# An unban on C lifts it everywhere.
fjc c unban 10.99.0.1 >/dev/null || e2e_fail "unban on c failed"
for n in a b c; do
	e2e_wait 10 "10.99.0.1 gone from $n" '! fleet_in_set '$n' 10.99.0.1' ||
		e2e_fail "10.99.0.1 still in $n's kernel set"
done

# A manual ban on B, then unban --local on A: only A lets it go.
fjc b ban mail 10.99.0.2 >/dev/null
for n in a c; do
	e2e_wait 10 "10.99.0.2 on $n" fleet_in_set $n 10.99.0.2 ||
		e2e_fail "10.99.0.2 not shared to $n"
done
fjc a unban --local 10.99.0.2 >/dev/null || e2e_fail "unban --local failed"
sleep 1
fleet_in_set a 10.99.0.2 && e2e_fail "10.99.0.2 still on a after --local"
fleet_in_set b 10.99.0.2 || e2e_fail "unban --local on a lifted it on b"
fleet_in_set c 10.99.0.2 || e2e_fail "unban --local on a lifted it on c"

# A prefix ban inside C's ignoreip: applied on A, not on C.
fjc b ban mail 10.88.1.0/24 >/dev/null
e2e_wait 10 "10.88.1.0/24 on a" \
    'fjc a -j list | jq -e ".bans[] | select(.addr == \"10.88.1.0/24\")"' ||
	e2e_fail "10.88.1.0/24 not shared to a"
fjc c -j list | jq -e '.bans[] | select(.addr == "10.88.1.0/24")' \
    >/dev/null && e2e_fail "c applied a ban covering its ignoreip"
[ "$(fjc c -j fleet | jq .ignored)" = 1 ] || e2e_fail "c did not count it"
grep -q 'not applied: it covers ignoreip' "$T/c/jaild.log" ||
	e2e_fail "c did not log the ignored ban"

# Bad rows written straight into the table are refused, never applied.
fleet_psql -c "INSERT INTO jaild_events (node, epoch, seq, kind, jail, addr,
    start_at, end_at) VALUES
    ('evil', 'x', 1, 'ban', 'mail', '0.0.0.0/0', 0, 0),
    ('evil', 'x', 2, 'ban', 'mail', '10.0.0.0/8', 0, 0),
    ('evil', 'x', 3, 'ban', 'mail', 'not-an-address', 0, 0),
    ('evil', 'x', 4, 'ban', 'mail', '10.99.0.77', 0, 0); NOTIFY jaild_fleet"
e2e_wait 10 "the good row applied on a" fleet_in_set a 10.99.0.77 ||
	e2e_fail "the valid row after the bad ones was not applied"
[ "$(fjc a -j fleet | jq .refused)" = 3 ] ||
	e2e_fail "a refused $(fjc a -j fleet | jq .refused) rows, not 3"
fjc a -j list | jq -e '.bans[] | select(.addr == "0.0.0.0/0" or
    .addr == "10.0.0.0/8")' >/dev/null && e2e_fail "a bad row was applied"

# jailctl fleet and the metrics.
fjc a fleet | grep -q '^node  *a (connected)' || e2e_fail "jailctl fleet: $(fjc a fleet)"
# (the node list is read every 10 s)
e2e_wait 15 "a lists three nodes" \
    '[ "$(fjc a -j fleet | jq ".nodes | length")" = 3 ]' ||
	e2e_fail "jailctl fleet lists $(fjc a -j fleet | jq '.nodes | length') nodes"
fjc a -j fleet | jq -e '.nodes[] | select(.node == "b") | .behind >= 0' \
    >/dev/null || e2e_fail "jailctl fleet: no lag for b"
fjc b metrics | grep -q '^jaild_fleet_events_received_total [1-9]' ||
	e2e_fail "no jaild_fleet_events_received_total"
fjc a metrics | grep -q '^jaild_fleet_queue_length 0' ||
	e2e_fail "a's queue is not empty"

# Each event is in the table once.
[ "$(fleet_psql -c "SELECT count(*) FROM jaild_events WHERE node <> 'evil'
    GROUP BY node, epoch, seq HAVING count(*) > 1" | wc -l)" = 0 ] ||
	e2e_fail "duplicate events in the table"
fleet_done
