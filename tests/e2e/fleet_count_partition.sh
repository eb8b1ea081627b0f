#!/bin/bash
# The fleet's count mode and a network partition, on a real PostgreSQL
# in a namespace of its own.  A and B reach it by its Unix socket, C over
# TCP on a veth link.  Count: an attacker spreading 2 + 2 + 1 attempts
# over the three nodes, with maxretry 5, is banned on all three at the
# fifth and not before.  Partition: C's link is set down; A's bans do not
# reach C and C's do not reach A, but C bans locally at once; when the
# link comes up both ways catch up, with one log line each way on C.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fleet_lib.sh"

FLEET_MODE=count
FLEET_MAXRETRY=5
fleet_setup
fleet_db_ns
fleet_pg_start
fleet_node a
fleet_node b
# Short TCP timeouts, so the partition is noticed within seconds.
fleet_node c "host=10.213.3.1 port=5432 user=jaild dbname=postgres
    connect_timeout=2 tcp_user_timeout=3000 keepalives_idle=1
    keepalives_interval=1 keepalives_count=2"
sed -i '/^url = /{N;N;s/\n */ /g}' "$T/c/conf/jaild.conf"
fleet_link c 3
for n in a b c; do fleet_start $n; done
e2e_wait 15 "c connected over TCP" \
    '[ "$(fjc c -j fleet | jq .connected)" = true ]' ||
	e2e_fail "c did not connect over TCP"

received() {
	fjc "$1" -j fleet | jq .received
}
banned() {
	fjc "$1" -j list | jq -e --arg a "$2" '.bans[] | select(.addr == $a)' \
	    >/dev/null
}

# --- count: 2 on A, 2 on B, then 1 on C ---
fleet_fail a 10.70.0.1 2
e2e_wait 10 "b and c count a's two" \
    '[ "$(received b)" -ge 2 ] && [ "$(received c)" -ge 2 ]' ||
	e2e_fail "a's failures did not reach b and c"
fleet_fail b 10.70.0.1 2
e2e_wait 10 "a and c count b's two" \
    '[ "$(received a)" -ge 2 ] && [ "$(received c)" -ge 4 ]' ||
	e2e_fail "b's failures did not reach a and c"
for n in a b c; do
	banned $n 10.70.0.1 && e2e_fail "10.70.0.1 banned on $n after 4"
done
fleet_fail c 10.70.0.1 1
for n in a b c; do
	e2e_wait 10 "10.70.0.1 banned on $n" fleet_in_set $n 10.70.0.1 ||
		e2e_fail "the spread attacker is not banned on $n"
done

# --- partition: C's link down ---
fleet_in c ip link set eth0 down
e2e_wait 20 "c notices the partition" \
    '[ "$(fjc c -j fleet | jq .connected)" = false ]' ||
	e2e_fail "c did not notice the partition"
fleet_fail a 10.71.0.1 5
fleet_fail c 10.72.0.1 5
e2e_wait 5 "a bans 10.71.0.1" fleet_in_set a 10.71.0.1 ||
	e2e_fail "a did not ban 10.71.0.1"
e2e_wait 5 "c bans 10.72.0.1 on its own" fleet_in_set c 10.72.0.1 ||
	e2e_fail "c did not ban locally during the partition"
e2e_wait 5 "b gets a's ban" fleet_in_set b 10.71.0.1 ||
	e2e_fail "b did not get a's ban"
sleep 1
fleet_in_set c 10.71.0.1 && e2e_fail "a's ban crossed the partition"
fleet_in_set a 10.72.0.1 && e2e_fail "c's ban crossed the partition"
fleet_in c ip link set eth0 up
for n in a b; do
	e2e_wait 30 "c's ban reaches $n" fleet_in_set $n 10.72.0.1 ||
		e2e_fail "c's ban did not reach $n after the partition"
done
e2e_wait 30 "a's ban reaches c" fleet_in_set c 10.71.0.1 ||
	e2e_fail "a's ban did not reach c after the partition"
[ "$(grep -c 'fleet: lost PostgreSQL' "$T/c/jaild.log")" = 1 ] ||
	e2e_fail "c logged the loss $(grep -c 'fleet: lost PostgreSQL' "$T/c/jaild.log") times"
[ "$(grep -c 'fleet: PostgreSQL reachable again' "$T/c/jaild.log")" = 1 ] ||
	e2e_fail "c did not log the recovery once"
fleet_done
