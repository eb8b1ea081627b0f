#!/bin/bash
# 10,000 distinct attackers each reaching maxretry (3) within one second:
# time from the first line until all are in the kernel set, jaild (native
# nftables, default options) beside the peer (one `nft add element` per
# ban, as fail2ban's nftables action).  RUNS runs each (default 3).
#   sudo top_builddir=BUILD bash bench/nft_storm.sh [N]
. "$(dirname "$0")/nft_lib.sh"
N=${1:-10000}
for run in $(seq "$RUNS"); do
	bench_ns
	bench_jaild 3
	echo "run $run jaild: $(bench_drive storm "$B/mail.log" "$N" 3)"
	bench_ns
	bench_peer 3
	echo "run $run peer nft-per-ban: $(bench_drive storm "$B/mail.log" "$N" 3)"
done
