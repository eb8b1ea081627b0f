#!/bin/bash
# The fleet when things break, on a real PostgreSQL and three nodes:
# a node killed with -9 during a 10,000-ban storm on another catches up
# when it restarts; PostgreSQL stopped for 30 s while A and B ban (and B
# unbans), then started: banning went on locally at once, the queued
# events are sent once, and the three kernel sets and three stores
# converge, nothing lost or duplicated; one log line at the loss and one
# at the recovery.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fleet_lib.sh"

STORM=${FLEET_STORM:-10000}
FLEET_MAXRETRY=1
fleet_setup
fleet_pg_start
for n in a b c; do fleet_node $n; done
for n in a b c; do fleet_start $n; done

# --- kill -9 during a storm ---
fleet_storm a 10.50 "$STORM"
e2e_wait 30 "c applying the storm" \
    '[ "$(fjc c -j fleet | jq .applied)" -gt 0 ]' ||
	e2e_fail "c applied nothing of the storm"
fleet_stop c KILL
e2e_wait 60 "$STORM bans in b's kernel set" \
    '[ "$(fleet_count b)" = '"$STORM"' ]' ||
	e2e_fail "b holds $(fleet_count b) of $STORM"
fleet_start c
e2e_wait 60 "$STORM bans in c's kernel set after its restart" \
    '[ "$(fleet_count c)" = '"$STORM"' ]' ||
	e2e_fail "c holds $(fleet_count c) of $STORM after catching up"
[ "$(sqlite3 "$T/c/jaild.db" "SELECT count(*) FROM bans WHERE active = 1
    AND origin = 'a'")" = "$STORM" ] || e2e_fail "c's store lacks storm bans"
[ "$(sqlite3 "$T/c/jaild.db" "SELECT count(*) FROM (SELECT addr FROM bans
    WHERE active = 1 GROUP BY addr HAVING count(*) > 1)")" = 0 ] ||
	e2e_fail "c's store holds duplicate active bans"

# --- PostgreSQL down for 30 s ---
fleet_pg_stop
down=$(date +%s)
e2e_wait 10 "a sees PostgreSQL gone" \
    '[ "$(fjc a -j fleet | jq .connected)" = false ]' ||
	e2e_fail "a did not notice PostgreSQL stopped"
for i in $(seq 1 20); do
	fleet_fail a 10.60.0.$i
	fleet_fail b 10.61.0.$i
done
fjc b unban 10.50.0.5 >/dev/null || e2e_fail "unban on b failed"
# Local banning goes on without PostgreSQL.
e2e_wait 5 "a's own bans while PostgreSQL is down" \
    '[ "$(fleet_elems a | grep -c "^10\.60\.")" = 20 ]' ||
	e2e_fail "a banned $(fleet_elems a | grep -c '^10\.60\.') of 20 locally"
e2e_wait 5 "b's own bans while PostgreSQL is down" \
    '[ "$(fleet_elems b | grep -c "^10\.61\.")" = 20 ]' ||
	e2e_fail "b banned $(fleet_elems b | grep -c '^10\.61\.') of 20 locally"
[ "$(fjc b -j fleet | jq .queued)" = 21 ] ||
	e2e_fail "b queues $(fjc b -j fleet | jq .queued) events, not 21"
fjc a metrics | grep -q '^jaild_fleet_queue_length 20$' ||
	e2e_fail "a's metrics do not show 20 queued"
fleet_in_set c 10.60.0.1 && e2e_fail "c got a's ban with PostgreSQL down"
left=$((30 - ($(date +%s) - down)))
[ "$left" -gt 0 ] && sleep "$left"
fleet_pg_start

# Everything converges: 10,000 - 1 + 40 everywhere, the same sets.
want=$((STORM - 1 + 40))
for n in a b c; do
	e2e_wait 30 "$n converged" '[ "$(fleet_count '$n')" = '$want' ]' ||
		e2e_fail "$n holds $(fleet_count $n), not $want"
done
[ "$(fleet_elems a)" = "$(fleet_elems b)" ] || e2e_fail "a and b differ"
[ "$(fleet_elems a)" = "$(fleet_elems c)" ] || e2e_fail "a and c differ"
fleet_in_set a 10.50.0.5 && e2e_fail "b's queued unban did not reach a"
for n in a b c; do
	sqlite3 "$T/$n/jaild.db" "SELECT addr FROM bans WHERE active = 1
	    ORDER BY addr" >"$T/$n.active"
	[ "$(wc -l <"$T/$n.active")" = $want ] ||
		e2e_fail "$n's store has $(wc -l <"$T/$n.active") active bans"
done
cmp -s "$T/a.active" "$T/b.active" && cmp -s "$T/a.active" "$T/c.active" ||
	e2e_fail "the three stores differ"
# Sent once: one ban event per address, one unban, queues empty.
[ "$(fleet_psql -c "SELECT count(*) FROM (SELECT addr FROM jaild_events
    WHERE kind = 'ban' GROUP BY addr HAVING count(*) > 1) d")" = 0 ] ||
	e2e_fail "an address has more than one ban event"
[ "$(fleet_psql -c "SELECT count(*) FROM jaild_events
    WHERE kind = 'ban'")" = $((STORM + 40)) ] ||
	e2e_fail "not $((STORM + 40)) ban events in the table"
[ "$(fleet_psql -c "SELECT count(*) FROM jaild_events
    WHERE kind = 'unban'")" = 1 ] || e2e_fail "not one unban event"
for n in a b; do
	e2e_wait 10 "$n's queue empty" \
	    '[ "$(fjc '$n' -j fleet | jq .queued)" = 0 ]' ||
		e2e_fail "$n still queues events"
	[ "$(sqlite3 "$T/$n/jaild.db" "SELECT count(*) FROM fleet_outbox")" = 0 ] ||
		e2e_fail "$n's outbox is not empty"
	[ "$(grep -c 'fleet: lost PostgreSQL' "$T/$n/jaild.log")" = 1 ] ||
		e2e_fail "$n logged the loss $(grep -c 'fleet: lost PostgreSQL' "$T/$n/jaild.log") times"
	[ "$(grep -c 'fleet: PostgreSQL reachable again' "$T/$n/jaild.log")" = 1 ] ||
		e2e_fail "$n did not log the recovery once"
done
fleet_done
