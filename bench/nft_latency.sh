#!/bin/bash
# Time from a log line appended to the address in the kernel set, p50/p99
# over N bans (default 1000), with jaild running for real in a private
# netns (native nftables, evict on and off), beside the peer: a follower
# that runs one `nft add element` per ban as fail2ban's nftables action
# does.  RUNS runs each (default 3).
#   sudo top_builddir=BUILD bash bench/nft_latency.sh [N]
. "$(dirname "$0")/nft_lib.sh"
N=${1:-1000}
for run in $(seq "$RUNS"); do
	bench_ns
	bench_jaild 1 "[evict=false]"
	echo "run $run jaild evict=false: $(bench_drive latency "$B/mail.log" "$N")"
	bench_ns
	bench_jaild 1
	echo "run $run jaild evict=true: $(bench_drive latency "$B/mail.log" "$N")"
	bench_ns
	bench_peer 1
	echo "run $run peer nft-per-ban: $(bench_drive latency "$B/mail.log" "$N")"
done
