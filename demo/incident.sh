#!/bin/sh
# Replay the incident that started jaild: one host opens SMTP connection
# after connection, says HELO and idles, until sendmail hits its child
# limit.  jaild follows the replayed mail log with the shipped sendmail
# jail, bans the host in a kernel set (nftables, in a private network
# namespace so the host's own firewall is untouched), and jailctl shows it.
# Without root (no namespace, no nftables) the ban goes to the log action.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${JAILD_BUILD:-$top}
JAILD=$build/engine/jaild
JAILCTL=$build/jailctl/jailctl
if [ ! -x "$JAILD" ] || [ ! -x "$JAILCTL" ]; then
	echo "demo: jaild is not built in $build." >&2
	echo "demo: build it first, in $top:" >&2
	echo "    .ci/deps && autoreconf -fi && ./configure && make -j2" >&2
	echo "demo: or point JAILD_BUILD at a build directory." >&2
	exit 1
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/jaild-demo.XXXXXX")
NS=jaild-demo-$$
NSUP=
PID=

# Stop jaild (by the pid it wrote, else the one we started), drop the
# namespace and the temp dir, on success, failure or interrupt alike.
cleanup() {
	rc=$?
	trap - EXIT INT TERM
	[ -s "$T/jaild.pid" ] && PID=$(cat "$T/jaild.pid")
	if [ -n "$PID" ]; then
		kill "$PID" 2>/dev/null || true
		i=0
		while kill -0 "$PID" 2>/dev/null && [ $i -lt 50 ]; do
			i=$((i + 1))
			sleep 0.1
		done
		kill -KILL "$PID" 2>/dev/null || true
	fi
	[ -n "$NSUP" ] && ip netns del "$NS" 2>/dev/null || true
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# "ip netns exec" execs its command, so $! below is jaild's own pid.
run=
action=nftables
parts=$(timeout 10 "$JAILD" -V 2>/dev/null)
if ! echo "$parts" | grep -q '+nftables'; then
	action=log
	echo "(this jaild is built without nftables: banning through the log action)"
elif [ "$(id -u)" = 0 ] && ip netns add "$NS" 2>/dev/null; then
	NSUP=1
	run="ip netns exec $NS"
else
	action=log
	echo "(not root: banning through the log action instead of nftables)"
fi

mkdir -p "$T/conf/jails.d"
cp -r "$top/filters" "$top/actions" "$T/conf/"
cp "$top/jails.d/sendmail.conf" "$T/conf/jails.d/"
# The saturation response needs the connection lister (sockdiag).
echo "$parts" | grep -q '+sockdiag' ||
	sed -i 's/^saturation\.filter/#&/' "$T/conf/jails.d/sendmail.conf"
cat >"$T/conf/jaild.conf" <<EOC
[jaild]
socket = $T/jaild.sock
dbfile = $T/jaild.db

[DEFAULT]
ignoreip = 127.0.0.0/8 ::1
EOC
cat >"$T/conf/jails.d/sendmail.local" <<EOC
[sendmail]
enabled = true
logpath = $T/mail.log
action = $action
EOC
: >"$T/mail.log"

$run "$JAILD" -f -c "$T/conf" -p "$T/jaild.pid" >"$T/jaild.log" 2>&1 &
PID=$!
i=0
until "$JAILCTL" -S "$T/jaild.sock" status >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 100 ] || { cat "$T/jaild.log"; exit 1; }
	sleep 0.1
done

# The incident's lines, stamped now, as sendmail would write them.
echo "== replaying demo/incident.log ($(wc -l <"$top/demo/incident.log") lines)"
stamp=$(LC_ALL=C date '+%b %e %H:%M:%S')
cut -c17- "$top/demo/incident.log" | sed "s/^/$stamp /" >>"$T/mail.log"
i=0
until "$JAILCTL" -S "$T/jaild.sock" -j status sendmail | grep -q 70.90.160.61; do
	i=$((i + 1))
	[ $i -lt 100 ] || { cat "$T/jaild.log"; exit 1; }
	sleep 0.1
done

echo "== jaild's log"
cat "$T/jaild.log"
echo
echo "== jailctl status sendmail"
"$JAILCTL" -S "$T/jaild.sock" status sendmail
if [ "$action" = nftables ]; then
	echo
	echo "== the kernel set (nft list table inet jaild)"
	$run nft list table inet jaild
fi
