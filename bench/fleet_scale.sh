#!/bin/bash
# What the fleet costs PostgreSQL per node and per event, to reason about
# 100 and 1,000 nodes (doc/fleet.md): pgbench runs of the statements a
# node sends, against a table of 1,000,000 events and 1,000 nodes, and
# the cost of a NOTIFY as idle listeners are added (each listener is a
# psql session that ran LISTEN and waits on a pipe).
#   sudo top_builddir=BUILD bash bench/fleet_scale.sh [SECONDS]
# (LISTENERS="0 100 500": the listener counts to try)
here=$(cd "$(dirname "$0")" && pwd)
export top_srcdir=${top_srcdir:-$(cd "$here/.." && pwd)}
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/fleet_lib.sh"
E2E_NAME=fleet-scale
SECS=${1:-5}
LPIDS=

fleet_setup
sed_conf() { sed -i "s/^max_connections = .*/max_connections = 600/" "$T/pg/postgresql.conf"; }
fleet_pg_start
fleet_pg_stop
sed_conf
fleet_pg_start
# One node creates the schema.
fleet_node a
fleet_start a
fleet_stop a
fleet_psql -c "INSERT INTO jaild_events (node, epoch, seq, kind, jail, addr,
    start_at, end_at, expires) SELECT 'n' || (g % 1000), 'e', g, 'ban',
    'mail', '10.' || (g >> 16) % 256 || '.' || (g >> 8) % 256 || '.' ||
    g % 256, 0, 4102444800, 4102444800 FROM generate_series(1, 1000000) g;
    INSERT INTO jaild_nodes (node, last_seen, applied) SELECT 'n' || g, now(),
    999999 FROM generate_series(0, 999) g"
fleet_psql -c "VACUUM ANALYZE jaild_events"
fleet_psql -c "VACUUM ANALYZE jaild_nodes"
max=$(fleet_psql -c "SELECT max(id) FROM jaild_events")
echo "uptime: $(uptime)"

pgb() {
	local name=$1 clients=$2
	shift 2
	printf '%s\n' "$@" >"$T/$name.sql"
	chmod 644 "$T/$name.sql"
	pgbench -n -h "$T/pgsock" -U jaild -T "$SECS" -c "$clients" -j 2 \
	    -f "$T/$name.sql" postgres 2>"$T/pgbench.err" |
	    awk -v n="$name" -v c="$clients" '/^tps/ { printf "%-28s clients %3d  %8.0f tps\n", n, c, $3 }
	        /latency average/ { lat = $4 } END { }'
}
# A catch-up that finds the one new event (the common case).
pgb catchup-1-row 2 "SELECT id, node, kind, jail, addr, start_at, end_at,
    failures, reason, (extract(epoch FROM created) * 1000)::bigint FROM
    jaild_events WHERE id > $((max - 1)) ORDER BY id LIMIT 10000"
# A beat: one node's upsert.
pgb beat-upsert 2 "\\set n random(0, 999)
INSERT INTO jaild_nodes (node, last_seen, applied, queued) VALUES ('n' || :n,
    now(), $max, 0) ON CONFLICT (node) DO UPDATE SET last_seen = now(),
    applied = excluded.applied, queued = excluded.queued"
# The node list read every 10 s, at 1,000 nodes.
pgb node-list-1000 2 "SELECT node, extract(epoch FROM last_seen)::bigint,
    applied, queued, (SELECT coalesce(max(id), 0) FROM jaild_events) FROM
    jaild_nodes ORDER BY node"
# One ban event, as a node sends it: lock, insert, NOTIFY, commit.
notify_sql="\\set s random(1, 1000000000)
BEGIN;
SELECT pg_advisory_xact_lock(7587365523);
INSERT INTO jaild_events (node, epoch, seq, kind, jail, addr, start_at, end_at)
    VALUES ('bench', 'e', :s, 'ban', 'mail', '10.9.9.9', 0, 0)
    ON CONFLICT DO NOTHING;
NOTIFY jaild_fleet;
COMMIT;"
for want in ${LISTENERS:-0 100 500}; do
	have=$(echo $LPIDS | wc -w)
	while [ "$have" -lt "$want" ]; do
		mkfifo "$T/l$have"
		psql -X -q -h "$T/pgsock" -U jaild -d postgres <"$T/l$have" \
		    >/dev/null 2>&1 &
		LPIDS="$LPIDS $!"
		exec {fd}>"$T/l$have"
		echo "LISTEN jaild_fleet;" >&$fd
		have=$((have + 1))
	done
	sleep 2
	echo "listeners: $(fleet_psql -c "SELECT count(*) FROM
	    pg_stat_activity WHERE query LIKE 'LISTEN%'")"
	pgb "insert+notify ($want listening)" 1 "$notify_sql"
	pgb "insert+notify ($want listening)" 4 "$notify_sql"
done
for p in $LPIDS; do kill "$p" 2>/dev/null; done
tail -3 "$T/pgbench.err"
E2E_FAILED=0
