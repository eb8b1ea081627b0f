#!/bin/bash
# The fleet's figures, on a real PostgreSQL (a cluster of its own, run as
# nobody, fsync off) and three jaild in three network namespaces sharing
# it by its Unix socket (tests/e2e/fleet_lib.sh).  Times are taken from
# `nft monitor new elements` in each namespace (bench/fleet_driver.py).
#   sudo top_builddir=BUILD bash bench/fleet.sh [N_LAT] [N_STORM] [N_CATCHUP]
# N_LAT bans one at a time (default 300): line on A -> A's kernel set ->
# B's and C's, p50/p99; N_STORM bans in one write on A (default 10000):
# until all are in B's and C's sets; N_CATCHUP bans made while C is down
# (default 100000): from C's start until all are in its set.
# Runs as root; leaves nothing behind (nodes stopped by pid, namespaces
# and the cluster removed).
here=$(cd "$(dirname "$0")" && pwd)
export top_srcdir=${top_srcdir:-$(cd "$here/.." && pwd)}
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/fleet_lib.sh"
E2E_NAME=fleet-bench
NLAT=${1:-300}
NSTORM=${2:-10000}
NCATCH=${3:-100000}
FLEET_MAXRETRY=1
FLEET_BANTIME=1d
DRV="python3 $here/fleet_driver.py"

fleet_setup
fleet_pg_start
for n in a b c; do fleet_node $n; done
for n in a b c; do fleet_start $n; done
ns() { echo "jf-$1-$$"; }
echo "uptime: $(uptime)"

# Latency, one ban at a time.
$DRV latency "$T/a/mail.log" "$NLAT" "$(ns a)" "$(ns b)" "$(ns c)"
# A storm in one write.  A fresh pair of address ranges (10.40 + ...)
# would clash with the latency run: clear every node's bans first.
for n in a b c; do fjc $n unban --local --all >/dev/null; done
sleep 1
$DRV storm "$T/a/mail.log" "$NSTORM" "$(ns a)" "$(ns b)" "$(ns c)"

# Catch-up: C down while A bans NCATCH addresses (B gets them), then
# C starts and applies them all from the table.
for n in a b c; do fjc $n unban --local --all >/dev/null; done
fleet_stop c
$DRV storm "$T/a/mail.log" "$NCATCH" "$(ns a)" "$(ns b)" | sed 's/^/(c down) /'
# Timed by polling: C's applied cursor (jailctl, cheap) every 20 ms, then
# its kernel set every 100 ms (nft monitor misses the elements of a set
# created after it started).
target=$(fleet_psql -c "SELECT max(id) FROM jaild_events")
t0=$(date +%s%N)
fleet_start c
while [ "$(fjc c -j fleet | jq .cursor)" -lt "$target" ]; do
	sleep 0.02
	[ $(($(date +%s%N) - t0)) -gt 120000000000 ] && break
done
t1=$(date +%s%N)
while [ "$(fleet_count c)" -lt "$NCATCH" ]; do
	sleep 0.1
	[ $(($(date +%s%N) - t0)) -gt 120000000000 ] && break
done
t2=$(date +%s%N)
echo "catch-up of $NCATCH events: cursor reached $(((t1 - t0) / 1000000)) ms" \
    "after c's start, all $(fleet_count c) in its kernel set by" \
    "$(((t2 - t0) / 1000000)) ms; c applied $(fjc c -j fleet | jq .applied)"
E2E_FAILED=0
