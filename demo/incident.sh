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
T=$(mktemp -d /tmp/jaild-demo.XXXXXX)
NS=jaild-demo-$$
PID=

cleanup() {
	rc=$?
	if [ -n "$PID" ]; then
		kill "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null || true
	fi
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT INT TERM

run() { "$@"; }
action=nftables
if [ "$(id -u)" = 0 ] && ip netns add "$NS" 2>/dev/null; then
	run() { ip netns exec "$NS" "$@"; }
else
	action=log
	echo "(not root: banning through the log action instead of nftables)"
fi

mkdir -p "$T/conf/jails.d"
cp -r "$top/filters" "$top/actions" "$T/conf/"
cp "$top/jails.d/sendmail.conf" "$T/conf/jails.d/"
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

run "$JAILD" -f -c "$T/conf" >"$T/jaild.log" 2>&1 &
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
	run nft list table inet jaild
fi
