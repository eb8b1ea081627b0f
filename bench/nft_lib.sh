# Shared by nft_latency.sh and nft_storm.sh: a private netns per run with
# jaild (native nftables action) or the peer following a sendmail log.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
JAILD=$top_builddir/engine/jaild
DRIVER=$top_srcdir/bench/nft_driver.py
RUNS=${RUNS:-3}
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 77; }
[ -x "$JAILD" ] || { echo "no $JAILD: set top_builddir" >&2; exit 1; }
B=$(mktemp -d /tmp/jaild-bench.XXXXXX)
NS=
PID=
bench_cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	[ -n "$NS" ] && ip netns del "$NS" 2>/dev/null
	rm -rf "$B"
}
trap bench_cleanup EXIT

# bench_ns: a fresh namespace $NS with lo up.
bench_ns() {
	bench_cleanup_run
	NS=jaild-bench-$$-$RANDOM
	ip netns add "$NS" && ip netns exec "$NS" ip link set lo up
	mkdir -p "$B"
	: >"$B/mail.log"
}
bench_cleanup_run() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	[ -n "$NS" ] && ip netns del "$NS" 2>/dev/null
	PID= NS=
	rm -rf "${B:?}"/*
}

# bench_jaild MAXRETRY [ACTIONPARAMS]: start jaild in $NS on $B/mail.log.
bench_jaild() {
	mkdir -p "$B/conf/jails.d"
	cp -r "$top_srcdir/filters" "$top_srcdir/actions" "$B/conf/"
	cat >"$B/conf/jaild.conf" <<EOC
[jaild]
socket = $B/jaild.sock
dbfile = $B/jaild.db
EOC
	cat >"$B/conf/jails.d/mail.conf" <<EOC
[mail]
enabled = true
filter = sendmail-idle
action = nftables${2:-}
logpath = $B/mail.log
port = 25
maxretry = $1
findtime = 10m
bantime = 1h
EOC
	ip netns exec "$NS" "$JAILD" -f -c "$B/conf" -S "$B/jaild.sock" \
	    -D "$B/jaild.db" >"$B/jaild.log" 2>&1 &
	PID=$!
	for _ in $(seq 50); do
		ip netns exec "$NS" nft list chain inet jaild mail_in \
		    >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "jaild did not start: $(cat "$B/jaild.log")" >&2
	exit 1
}

# bench_peer MAXRETRY: the peer in $NS, with fail2ban's table and set.
bench_peer() {
	ip netns exec "$NS" nft add table inet f2b
	ip netns exec "$NS" nft add set inet f2b addr-set-mail \
	    '{ type ipv4_addr; flags timeout; }'
	ip netns exec "$NS" python3 "$DRIVER" peer "$B/mail.log" "$1" &
	PID=$!
	sleep 0.3
}

# bench_drive ARGS...: run the driver in $NS.
bench_drive() {
	ip netns exec "$NS" python3 "$DRIVER" "$@"
}
