#!/bin/bash
# The native nftables action at the daemon level, on a real kernel: a server
# namespace runs jaild and a TCP listener, an attacker namespace connects
# over a veth pair.  Bans from log lines and from jailctl, v4 and v6, hosts
# and prefixes; eviction of held connections; expiry; restart and kill -9
# with reconciliation and no gap; unban after restart; no CAP_NET_ADMIN.
. "$(dirname "$0")/lib.sh"
e2e_need nftables

[ "$(id -u)" = 0 ] || e2e_skip "needs root (network namespaces, nftables)"
for c in ip nft python3 ss setpriv; do
	command -v $c >/dev/null || e2e_skip "$c is not installed"
done
e2e_setup

SRV=jaild-srv-$$
ATT=jaild-att-$$
PORT=2525
PIDS=
# Bring down what we started (by PID), then the namespaces.
nft_netns_cleanup() {
	local p
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	e2e_cleanup
	ip netns del "$SRV" 2>/dev/null
	ip netns del "$ATT" 2>/dev/null
}
trap nft_netns_cleanup EXIT

ip netns add "$SRV" && ip netns add "$ATT" ||
	e2e_skip "cannot create network namespaces"
S="ip netns exec $SRV"
A="ip netns exec $ATT"
ip link add jd-s$$ netns "$SRV" type veth peer name jd-a$$ netns "$ATT" ||
	e2e_skip "cannot create a veth pair"
$S ip link set lo up && $A ip link set lo up
$S ip link set jd-s$$ name eth0 && $A ip link set jd-a$$ name eth0
$S ip addr add 10.77.0.1/16 dev eth0
$S ip addr add fd77::1/48 dev eth0 nodad
# Attackers .10 .11 .12, legit .20, and three in or out of the prefixes.
for a in 10.77.0.10 10.77.0.11 10.77.0.12 10.77.0.20 10.77.5.7 \
    10.77.5.200 10.77.6.1; do
	$A ip addr add $a/16 dev eth0
done
for a in fd77::10 fd77::20 fd77:0:0:5::7 fd77:0:0:5::abcd fd77:0:0:6::1; do
	$A ip addr add $a/48 dev eth0 nodad
done
$S ip link set eth0 up && $A ip link set eth0 up
$S nft list ruleset >/dev/null 2>&1 || e2e_skip "nftables unusable here"

# A listener that greets and then holds every connection open.
cat >"$T/listen.py" <<'EOP'
import socket, sys, select
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", int(sys.argv[1]))); s.listen(256)
held = []
while True:
    c, _ = s.accept()
    c.sendall(b"220 hi\r\n")
    held.append(c)
EOP
# connect.py SRC DST [N]: N connections (default 1) from SRC, each must
# get the greeting within 1 s; with N > 1 hold them until killed.
cat >"$T/connect.py" <<'EOP'
import socket, sys, time
src, dst = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 1
fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
held = []
try:
    for i in range(n):
        c = socket.socket(fam, socket.SOCK_STREAM)
        c.settimeout(1.0)
        c.bind((src, 0)); c.connect((dst, int(sys.argv[4]) if len(sys.argv) > 4 else 2525))
        if not c.recv(8).startswith(b"220"):
            sys.exit(1)
        held.append(c)
except OSError:
    sys.exit(1)
if n > 1:
    print("held", flush=True)
    time.sleep(120)
EOP
$S python3 "$T/listen.py" $PORT &
PIDS="$PIDS $!"

# can SRC: SRC reaches the server (v4 or v6 by SRC's family).
can() {
	local dst=10.77.0.1
	case $1 in *:*) dst=fd77::1 ;; esac
	$A python3 "$T/connect.py" "$1" "$dst"
}
cannot() {
	! can "$1"
}
e2e_wait 5 "listener up" can 10.77.0.20 || e2e_fail "listener not reachable"

# The elements of one of the jail's sets, one a line ("addr" or "a/len").
elems() {
	$S nft -j list set inet jaild "mail_$1" | jq -r '.nftables[] |
	    .set? // empty | .elem[]? |
	    (if type == "object" and has("elem") then .elem.val else . end) |
	    if type == "object" then "\(.prefix.addr)/\(.prefix.len)" else . end'
}
# Seconds the kernel has left for ADDR in set SUFFIX (0: none).
expires() {
	$S nft -j list set inet jaild "mail_$1" | jq -r --arg a "$2" '
	    .nftables[] | .set? // empty | .elem[]? | select(type == "object"
	    and has("elem") and .elem.val == $a) | .elem.expires // 0'
}
in_set() {
	elems "$1" | grep -qxF "$2"
}
all_elems() {
	local s
	for s in v4 v6 n4 n6; do elems $s; done | sort
}

LOG=$T/mail.log
: >"$LOG"
cat >"$CONF/jails.d/mail.conf" <<EOC
[mail]
enabled = true
filter = sendmail-idle
action = nftables
logpath = $LOG
port = $PORT
protocol = tcp
maxretry = 3
findtime = 10m
bantime = 15s
EOC

start_jaild() {
	$S "$JAILD" -f -v -c "$CONF" -S "$SOCK" -D "$DB" >>"$T/jaild.log" 2>&1 &
	E2E_PID=$!
	e2e_wait 10 "jaild answers" jc status || {
		e2e_fail "jaild did not start"
		exit 1
	}
}
rules() {
	$S nft list chain inet jaild mail_in | grep -c 'saddr @'
}

"$JAILD" -n -c "$CONF" >/dev/null || e2e_fail "jaild -n refuses the config"

# Without CAP_NET_ADMIN jaild refuses to start, naming jail and action.
$S setpriv --bounding-set -net_admin --inh-caps -net_admin \
    timeout 10 "$JAILD" -f -c "$CONF" -S "$T/run/nocap.sock" -D "$T/nocap.db" \
    >"$T/nocap.log" 2>&1 && e2e_fail "jaild started without CAP_NET_ADMIN"
grep -q "mail.*nftables.*CAP_NET_ADMIN" "$T/nocap.log" ||
	e2e_fail "no clear error without CAP_NET_ADMIN: $(cat "$T/nocap.log")"

start_jaild
[ "$(rules)" = 4 ] || e2e_fail "chain mail_in has $(rules) rules, not 4"
can 10.77.0.10 && can fd77::10 || e2e_fail "attackers blocked before any ban"

# Log lines ban v4 and v6 (sendmail's uncompressed form) for 15 s: long
# enough for the checks below on a loaded machine.
for i in 1 2 3; do
	e2e_idle_line 10.77.0.10 "$LOG"
	e2e_idle_line IPv6:fd77:0:0:0:0:0:0:10 "$LOG"
done
e2e_wait 5 "10.77.0.10 in the kernel set" in_set v4 10.77.0.10 ||
	e2e_fail "10.77.0.10 not in mail_v4: $(elems v4)"
e2e_wait 5 "fd77::10 in the kernel set" in_set v6 fd77::10 ||
	e2e_fail "fd77::10 not in mail_v6: $(elems v6)"
cannot 10.77.0.10 || e2e_fail "banned 10.77.0.10 still connects"
cannot fd77::10 || e2e_fail "banned fd77::10 still connects"
can 10.77.0.20 || e2e_fail "legit 10.77.0.20 blocked"
can fd77::20 || e2e_fail "legit fd77::20 blocked"
can 10.77.0.11 || e2e_fail "unbanned attacker 10.77.0.11 blocked"
# After the 15 s ban both connect again, and the elements are gone.
e2e_wait 25 "10.77.0.10 connects again" can 10.77.0.10 ||
	e2e_fail "10.77.0.10 still blocked after its ban"
e2e_wait 5 "fd77::10 connects again" can fd77::10 ||
	e2e_fail "fd77::10 still blocked after its ban"
e2e_wait 5 "bans lifted" eval '! e2e_banned mail 10.77.0.10' ||
	e2e_fail "jaild still lists 10.77.0.10"
in_set v4 10.77.0.10 && e2e_fail "10.77.0.10 still in the set after expiry"

# Eviction: .12 holds 10 connections; the ban destroys them at once.
$A python3 "$T/connect.py" 10.77.0.12 10.77.0.1 10 >"$T/hold.out" &
HOLD=$!
PIDS="$PIDS $HOLD"
held() {
	$S ss -Htn state established "( sport = :$PORT )" dst 10.77.0.12 | wc -l
}
held_is() {
	[ "$(held)" = "$1" ]
}
e2e_wait 5 "10 held connections" held_is 10 ||
	e2e_fail "the attacker holds $(held) connections, not 10"
jc ban mail 10.77.0.12 10m >/dev/null || e2e_fail "jailctl ban 10.77.0.12"
e2e_wait 2 "held connections evicted" held_is 0 ||
	e2e_fail "server still holds $(held) connections after the ban"
in_set v4 10.77.0.12 || e2e_fail "10.77.0.12 not in the set"
cannot 10.77.0.12 || e2e_fail "10.77.0.12 connects after its ban"
kill "$HOLD" 2>/dev/null
left=$(expires v4 10.77.0.12)
[ "${left:-0}" -gt 590 ] && [ "${left:-0}" -le 600 ] ||
	e2e_fail "kernel timeout of a 10m ban: ${left}s left"

# Prefix bans block every address in them, and nothing outside.
jc ban mail 10.77.5.0/24 10m >/dev/null || e2e_fail "jailctl ban /24"
jc ban mail fd77:0:0:5::/64 10m >/dev/null || e2e_fail "jailctl ban /64"
e2e_wait 5 "/24 in the kernel" in_set n4 10.77.5.0/24 ||
	e2e_fail "10.77.5.0/24 not in mail_n4: $(elems n4)"
e2e_wait 5 "/64 in the kernel" in_set n6 fd77:0:0:5::/64 ||
	e2e_fail "fd77:0:0:5::/64 not in mail_n6: $(elems n6)"
for a in 10.77.5.7 10.77.5.200 fd77:0:0:5::7 fd77:0:0:5::abcd; do
	cannot $a || e2e_fail "$a inside a banned prefix connects"
done
can 10.77.6.1 || e2e_fail "10.77.6.1 outside the /24 is blocked"
can fd77:0:0:6::1 || e2e_fail "fd77:0:0:6::1 outside the /64 is blocked"
jc ban mail fd77::11 10m >/dev/null || e2e_fail "jailctl ban v6"

# probe: from .12 (banned), try to connect every 50 ms until killed; a
# success means a gap in the firewall.
probe() {
	while :; do
		can 10.77.0.12 && echo "gap at $(date +%T.%N)"
		sleep 0.05
	done
}
BEFORE=$(all_elems)
[ "$(echo "$BEFORE" | wc -l)" = 4 ] || e2e_fail "expected 4 elements: $BEFORE"
probe >"$T/gap.log" 2>&1 &
PROBE=$!
PIDS="$PIDS $PROBE"

# A clean stop keeps the sets (flush_on_stop = false); a restart keeps
# the same elements, no duplicate rules, and never lets .12 in.
e2e_stop_jaild
[ "$(all_elems)" = "$BEFORE" ] || e2e_fail "a clean stop changed the sets"
start_jaild
[ "$(all_elems)" = "$BEFORE" ] || e2e_fail "restart: $(all_elems)"
[ "$(rules)" = 4 ] || e2e_fail "restart duplicated rules: $(rules)"
grep -q "4 bans in the firewall (0 missing added, 0 timeouts refreshed, 0 " \
    "$T/jaild.log" || e2e_fail "restart rewrote the sets"
# The stale sweep (a dump in a worker) follows the start.
e2e_wait 5 "stale sweep" grep -q "stale sweep: 0 hosts removed" \
    "$T/jaild.log" || e2e_fail "no stale sweep after restart"

# kill -9, and the kernel edited while jaild is down: a stale element and
# a lost one.  The restart reconciles both, and the rest is untouched.
e2e_stop_jaild KILL
$S nft add element inet jaild mail_v4 '{ 10.77.0.99 }'
$S nft delete element inet jaild mail_n6 '{ fd77:0:0:5::/64 }'
start_jaild
# The missing prefix is back at once; the stale host goes with the sweep.
in_set n6 fd77:0:0:5::/64 || e2e_fail "missing prefix not restored at start"
e2e_wait 5 "stale host swept" 'test "$(all_elems)" = "$BEFORE"' ||
	e2e_fail "after kill -9: $(all_elems)"
[ "$(rules)" = 4 ] || e2e_fail "kill -9 restart duplicated rules"
grep -q "(1 missing added, 0 timeouts refreshed, 0 stale prefixes" \
    "$T/jaild.log" || e2e_fail "no reconciliation logged"
grep -q "stale sweep: 1 hosts removed" "$T/jaild.log" ||
	e2e_fail "no stale host removal logged"
cannot fd77:0:0:5::7 || e2e_fail "the lost /64 was not restored"
kill "$PROBE"
wait "$PROBE" 2>/dev/null
[ -s "$T/gap.log" ] && e2e_fail "restarts opened a gap: $(head -3 "$T/gap.log")"

# An unban after the restart leaves the kernel too.
jc unban 10.77.0.12 >/dev/null || e2e_fail "jailctl unban after restart"
e2e_wait 5 "10.77.0.12 out of the set" eval '! in_set v4 10.77.0.12' ||
	e2e_fail "10.77.0.12 still in the kernel after unban"
can 10.77.0.12 || e2e_fail "10.77.0.12 blocked after unban"
jc unban fd77:0:0:5::/64 >/dev/null || e2e_fail "jailctl unban /64"
e2e_wait 5 "/64 out of the set" eval '! in_set n6 fd77:0:0:5::/64' ||
	e2e_fail "fd77:0:0:5::/64 still in the kernel after unban"
can fd77:0:0:5::abcd || e2e_fail "fd77:0:0:5::abcd blocked after unban"

e2e_done
