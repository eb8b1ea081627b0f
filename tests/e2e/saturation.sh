#!/bin/bash
# The saturation response without sendmail: in a network namespace of its
# own, a TCP listener on port 2525 holds idle clients (HELO, then silence)
# from 10.66.0.10, an honest talking client from 10.66.0.11 and an idle one
# from ignoreip 10.66.0.12.  A saturation line in report mode lists whom it
# would ban and bans no one; in ban mode it bans the idle source (reason
# "saturation"), evicts its sockets, and spares the others.  The
# saturation.notify action runs once per episode, in report mode too, and
# at most once per saturation.notify_interval, across a reload.
. "$(dirname "$0")/lib.sh"

e2e_need sockdiag
[ "$(id -u)" = 0 ] || e2e_skip "not root (needs a network namespace)"
command -v python3 >/dev/null || e2e_skip "python3 is missing"
e2e_setup
NS=jsat-e2e-$$
PIDS=
stop_all() {
	local p
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
}
trap 'e2e_stop_jaild; stop_all; e2e_cleanup' EXIT
ip netns add "$NS" || e2e_skip "cannot create a network namespace"
ip -n "$NS" link set lo up
for a in 10.66.0.1 10.66.0.10 10.66.0.11 10.66.0.12; do
	ip -n "$NS" addr add "$a/32" dev lo
done

# A server that accepts, greets, and reads whatever comes (bounded: 60 s).
ip netns exec "$NS" timeout 60 python3 -c '
import selectors, socket
sel = selectors.DefaultSelector()
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("10.66.0.1", 2525)); l.listen(64); sel.register(l, selectors.EVENT_READ)
while True:
    for k, _ in sel.select():
        if k.fileobj is l:
            c, _ = l.accept(); c.sendall(b"220 hi\r\n")
            sel.register(c, selectors.EVENT_READ)
        else:
            try: data = k.fileobj.recv(4096)
            except OSError: data = b""  # evicted: ECONNABORTED
            if not data:
                sel.unregister(k.fileobj); k.fileobj.close()
' &
PIDS="$PIDS $!"
sleep 0.5
# clients SRC COUNT TALK: COUNT connections that say HELO, then idle or talk.
clients() {
	ip netns exec "$NS" timeout 60 python3 -c '
import socket, sys, time
src, n, talk = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
socks = []
for i in range(n):
    s = socket.socket(); s.bind((src, 0)); s.connect(("10.66.0.1", 2525))
    s.recv(64); s.sendall(b"HELO x\r\n"); socks.append(s)
cut = 0
for t in range(600):
    time.sleep(0.1)
    for s in socks:
        try:
            if talk: s.sendall(b"NOOP\r\n")
        except OSError: pass
' "$@" &
	PIDS="$PIDS $!"
}
clients 10.66.0.10 3 0
clients 10.66.0.11 3 1
clients 10.66.0.12 3 0

LOG=$T/mail.log
: >"$LOG"
cat >"$CONF/jails.d/mail.conf" <<EOC
[mail]
enabled = true
filter = sendmail-idle
saturation.filter = sendmail-saturation
action = record[file="$T/record.log"]
logpath = $LOG
port = 2525
ignoreip = 127.0.0.0/8 10.66.0.12
# the clients are on this host's lo, in the test's namespace
ignoreself = false
saturation.idle = 1s
saturation.mode = report
saturation.notify = record[file="$T/notify.log"]
saturation.notify_interval = 1h
EOC
"$JAILD" -n -c "$CONF" >/dev/null || e2e_fail "jaild -n refuses the config"
cat >"$T/jaild-ns" <<EOC
#!/bin/sh
exec ip netns exec $NS "$JAILD" "\$@"
EOC
chmod +x "$T/jaild-ns"
JAILD=$T/jaild-ns
e2e_start_jaild
sat_line() {
	echo "$(e2e_stamp) mx sm-mta[1]: rejecting connections on daemon IPv4: 15 children, max 15" >>"$LOG"
}
conns_from() {
	ip netns exec "$NS" ss -Htn state established "( sport = :2525 )" |
	    grep -c "$1:"
}

all_connected() {
	[ "$(conns_from 10.66.0.10)" = 3 ] && [ "$(conns_from 10.66.0.11)" = 3 ] &&
	    [ "$(conns_from 10.66.0.12)" = 3 ]
}
e2e_wait 10 "clients connected" all_connected || e2e_fail "clients did not connect"
sat_line
e2e_wait 10 "report lists 10.66.0.10" sh -c \
    "'$JAILCTL' -S '$SOCK' -j status mail | jq -e '.saturation.would_ban == [\"10.66.0.10\"]'" ||
	e2e_fail "report: $(jcj status mail | jq -c .saturation)"
jcj status mail | jq -e '.saturation.mode == "report" and .saturation.episodes == 1 and .saturation.banned == 0 and (.banned | length) == 0' \
    >/dev/null || e2e_fail "report mode banned: $(jcj status mail | jq -c .)"
[ "$(conns_from 10.66.0.10)" = 3 ] || e2e_fail "report mode evicted"
# A second line 1 s later is the same episode: still one notify.
sleep 1
sat_line
e2e_wait 10 "report mode notifies" grep -q "^notify mail 1$" "$T/notify.log" ||
	e2e_fail "no notify in report mode: $(cat "$T/notify.log" 2>&1)"
e2e_wait 10 "second line read" sh -c \
    "'$JAILCTL' -S '$SOCK' -j status mail | jq -e '.saturation.count == 2'" ||
	e2e_fail "second line: $(jcj status mail | jq -c .saturation)"

sed -i 's/^saturation.mode = report/saturation.mode = ban/' "$CONF/jails.d/mail.conf"
jc reload >/dev/null || e2e_fail "reload to ban mode"
sat_line
e2e_wait 10 "10.66.0.10 banned" e2e_banned mail 10.66.0.10 ||
	e2e_fail "ban mode did not ban: $(jcj status mail | jq -c .saturation)"
jcj list mail | jq -e '.bans | length == 1 and .[0].reason == "saturation"' \
    >/dev/null || e2e_fail "bans: $(jcj list mail)"
e2e_wait 5 "sockets evicted" 'test "$(conns_from 10.66.0.10)" = 0' ||
	e2e_fail "10.66.0.10 still holds $(conns_from 10.66.0.10) connections"
[ "$(conns_from 10.66.0.11)" = 3 ] || e2e_fail "the talking client was cut"
[ "$(conns_from 10.66.0.12)" = 3 ] || e2e_fail "the ignoreip client was cut"
jcj history 10.66.0.10 | jq -e '.bans[0].reason == "saturation"' >/dev/null ||
	e2e_fail "history: $(jcj history 10.66.0.10)"
e2e_wait 5 "record action" grep -q "^ban mail 10.66.0.10" "$T/record.log" ||
	e2e_fail "the jail's action did not run"
jcj status mail | jq -e '.saturation.banned == 1 and .saturation.mode == "ban"' \
    >/dev/null || e2e_fail "status: $(jcj status mail | jq -c .saturation)"
jc status mail | grep -q "mode ban, 2 episodes" || e2e_fail "human status: $(jc status mail | grep -A1 saturation)"
# The ban-mode episode came within notify_interval (1h): no second notify.
e2e_wait 10 "notify rate-limited" grep -q "saturation: no notify, the last was" "$T/jaild.log" ||
	e2e_fail "the second episode was not rate-limited"
[ "$(grep -c '^notify ' "$T/notify.log")" = 1 ] ||
	e2e_fail "notify lines: $(cat "$T/notify.log")"
grep -q '^notify' "$T/record.log" && e2e_fail "notify ran the jail's action"
# Stopping is fast in an episode: the talking client is always too recent
# to judge, so the response keeps looking (issue #11: this held SIGTERM
# for up to a minute, the episode's watch).
sat_line
e2e_wait 10 "third line read" sh -c \
    "'$JAILCTL' -S '$SOCK' -j status mail | jq -e '.saturation.count == 4'" ||
	e2e_fail "third line: $(jcj status mail | jq -c .saturation)"
sleep 1
t0=$(date +%s%3N)
kill -TERM "$E2E_PID"
for _ in $(seq 1 1000); do
	kill -0 "$E2E_PID" 2>/dev/null || break
	sleep 0.01
done
t1=$(date +%s%3N)
e2e_stop_jaild KILL
echo "SIGTERM in an episode: $((t1 - t0)) ms"
[ $((t1 - t0)) -lt 2000 ] || e2e_fail "SIGTERM took $((t1 - t0)) ms"
e2e_done
