#!/bin/bash
# Operating jaild: man pages lint clean and document every config key; the
# systemd unit verifies; the pidfile is locked and refuses a second jaild;
# readiness reaches $NOTIFY_SOCKET (READY, RELOADING, STOPPING); metrics
# come the same through jailctl and HTTP (curl), in Prometheus format;
# jailctl's human output matches its snapshot.
. "$(dirname "$0")/lib.sh"
e2e_setup
NPID=
BGPID=

ops_cleanup() {
	if [ -n "$NPID" ]; then
		kill "$NPID" 2>/dev/null
		wait "$NPID" 2>/dev/null
	fi
	# The detached jaild is not our child: stop it by the pid it wrote.
	[ -n "$BGPID" ] && kill -KILL "$BGPID" 2>/dev/null
	e2e_cleanup
}
trap ops_cleanup EXIT

# --- Manual pages: mdoc lint, and the key lists match conf_table.c.
if command -v mandoc >/dev/null; then
	out=$(mandoc -Tlint -W warning "$top_srcdir"/doc/jaild.8 \
	    "$top_srcdir"/doc/jailctl.8 "$top_srcdir"/doc/jaild.conf.5 2>&1) ||
		e2e_fail "mandoc -Tlint: $out"
	[ -z "$out" ] || e2e_fail "mandoc -Tlint: $out"
else
	echo "(mandoc not installed: man pages not linted)"
fi
if command -v python3 >/dev/null; then
	python3 "$top_srcdir/doc/gen-keys.py" --check "$top_srcdir" ||
		e2e_fail "doc/jaild.conf.5 does not list the keys of conf_table.c"
fi
for k in $(sed -n 's/^ *{"\([a-z_.0-9]*\)", CONF_TABLE_.*/\1/p' \
    "$top_srcdir/engine/conf_table.c"); do
	grep -q "^\.It Cm $k " "$top_srcdir/doc/jaild.conf.5" ||
		e2e_fail "jaild.conf.5 does not document $k"
done

# --- The systemd unit, pointed at this build, verifies.
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$T/man/man8" "$T/man/man5"
	cp "$top_srcdir"/doc/*.8 "$T/man/man8/"
	cp "$top_srcdir"/doc/*.5 "$T/man/man5/"
	sed "s|/usr/sbin/jaild|$JAILD|g" "$top_srcdir/contrib/jaild.service" \
	    >"$T/jaild.service"
	out=$(MANPATH=$T/man timeout 60 systemd-analyze verify \
	    "$T/jaild.service" 2>&1) || e2e_fail "systemd-analyze verify: $out"
	[ -z "$out" ] || e2e_fail "systemd-analyze verify: $out"
else
	echo "(systemd-analyze not available: unit not verified)"
fi
sh -n "$top_srcdir/contrib/rc.d/jaild" || e2e_fail "rc.d script: syntax"
bash -n "$top_srcdir/contrib/bash-completion/jailctl" ||
	e2e_fail "bash completion: syntax"

# --- jailctl explains a missing daemon.
out=$(jc status 2>&1) && e2e_fail "jailctl status succeeded with no daemon"
echo "$out" | grep -q "not running" || e2e_fail "jailctl without daemon: $out"

# --- A fake service manager: a datagram socket that logs what it hears.
NOTIFY=$T/notify.sock
timeout 120 python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as f:
    while True:
        f.write(s.recv(4096).decode().replace("\n", " ") + "\n")
        f.flush()
' "$NOTIFY" "$T/notify.log" &
NPID=$!
e2e_wait 20 "notify socket" test -S "$NOTIFY" || e2e_fail "no notify socket"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
LOG=$T/mail.log
: >"$LOG"
sed -i "/^\[DEFAULT\]/i metrics_listen = 127.0.0.1:$PORT" "$CONF/jaild.conf"
cat >"$CONF/jails.d/mail.conf" <<EOC
[mail]
enabled = true
filter = sendmail-idle
action = record[file="$T/record.log"]
logpath = $LOG
maxretry = 2
bantime = 1h
EOC
PIDF=$T/run/jaild.pid
NOTIFY_SOCKET=$NOTIFY e2e_start_jaild -p "$PIDF"
e2e_wait 20 "READY=1" grep -q "^READY=1 MAINPID=$E2E_PID" "$T/notify.log" ||
	e2e_fail "no READY=1: $(cat "$T/notify.log")"
[ "$(cat "$PIDF" 2>/dev/null)" = "$E2E_PID" ] ||
	e2e_fail "pidfile holds '$(cat "$PIDF" 2>/dev/null)', not $E2E_PID"

# A second jaild on the same pidfile refuses, naming the first.
out=$(timeout 20 "$JAILD" -f -c "$CONF" -S "$T/run/other.sock" \
    -D "$T/other.db" -p "$PIDF" 2>&1) && e2e_fail "a second jaild started"
echo "$out" | grep -q "already running (pid $E2E_PID" ||
	e2e_fail "second jaild: $out"
[ "$(cat "$PIDF")" = "$E2E_PID" ] || e2e_fail "the refused jaild touched the pidfile"

# Reload is announced.
kill -HUP "$E2E_PID"
e2e_wait 20 "RELOADING=1" grep -q "^RELOADING=1 MONOTONIC_USEC=" "$T/notify.log" ||
	e2e_fail "no RELOADING=1: $(cat "$T/notify.log")"
e2e_wait 20 "READY after reload" '[ "$(grep -c "^READY=1" "$T/notify.log")" -ge 2 ]' ||
	e2e_fail "no READY=1 after reload: $(cat "$T/notify.log")"

# --- Metrics: one ban from the log, one by hand.
for i in 1 2; do e2e_idle_line 203.0.113.7 "$LOG"; done
e2e_wait 10 "203.0.113.7 banned" e2e_banned mail 203.0.113.7 ||
	e2e_fail "203.0.113.7 was not banned"
jc ban mail 2001:db8::/64 -1 >/dev/null || e2e_fail "jailctl ban"

# Every sample is jaild_NAME[{labels}] NUMBER; every family has a TYPE.
metrics_check() {
	local f=$1
	grep -v '^#' "$f" | grep -Evq '^jaild_[a-z_]+(\{[^}]*\})? [0-9.e+-]+$' &&
		e2e_fail "not Prometheus text: $(grep -v '^#' "$f" | grep -Ev '^jaild_[a-z_]+(\{[^}]*\})? [0-9.e+-]+$' | head -3)"
	grep -q '^jaild_jail_bans_active{jail="mail"} 2$' "$f" ||
		e2e_fail "bans_active: $(grep bans_active "$f")"
	grep -q "^jaild_source_lines_total{path=\"$LOG\"} 2\$" "$f" ||
		e2e_fail "source lines: $(grep source_lines "$f")"
	grep -q '^jaild_jail_matches_total{jail="mail"} 2$' "$f" ||
		e2e_fail "matches: $(grep matches_total "$f")"
	grep -q '^jaild_action_bans_total{jail="mail",action="record"} [12]$' "$f" ||
		e2e_fail "action bans: $(grep action_bans "$f")"
	grep -q '^jaild_loop_lag_seconds_count ' "$f" || e2e_fail "no loop lag"
	grep -q '^# TYPE jaild_loop_lag_seconds histogram$' "$f" ||
		e2e_fail "no lag histogram"
}
jc metrics >"$T/metrics.ctl" || e2e_fail "jailctl metrics failed"
metrics_check "$T/metrics.ctl"
curl -sf --max-time 10 -D "$T/headers" -o "$T/metrics.http" \
    "http://127.0.0.1:$PORT/metrics" || e2e_fail "curl /metrics failed"
grep -qi '^content-type: text/plain; version=0.0.4' "$T/headers" ||
	e2e_fail "content type: $(cat "$T/headers")"
metrics_check "$T/metrics.http"
diff <(grep '^# TYPE' "$T/metrics.ctl") <(grep '^# TYPE' "$T/metrics.http") ||
	e2e_fail "jailctl and HTTP give different families"
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/")
[ "$code" = 404 ] || e2e_fail "GET / gave $code"

# --- jailctl snapshots: times, paths and widths normalised; columns aligned.
normalise() {
	sed -E -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}/DATE/g' \
	    -e 's/\((in [0-9a-z]+|[0-9a-z]+ ago|now)\)/(REL)/g' \
	    -e "s|$T|T|g" -e 's/  +/  /g' -e 's/ +$//'
}
# Every row starts its cells where the header's columns start.
aligned() {
	awk 'NR == 1 { n = 0; for (i = 2; i <= length($0); i++)
		if (substr($0, i - 1, 2) ~ /^ [^ ]$/ && substr($0, i - 2, 1) == " ")
			col[++n] = i; next }
	     { for (k = 1; k <= n; k++) if (substr($0, col[k] - 1, 1) != " " ||
		substr($0, col[k], 1) == " ") bad = 1 }
	     END { exit bad }'
}
jc list mail >"$T/list.out" 2>&1 || e2e_fail "jailctl list"
aligned <"$T/list.out" || e2e_fail "list columns not aligned: $(cat "$T/list.out")"
diff -u - <(normalise <"$T/list.out") <<'EOS' || e2e_fail "jailctl list snapshot"
JAIL  ADDR  SINCE  UNTIL  FAILURES  REASON
mail  203.0.113.7  DATE (REL)  DATE (REL)  2  failures
mail  2001:db8::/64  DATE (REL)  never  0  manual
EOS
jc status mail | normalise >"$T/status.out" || e2e_fail "jailctl status mail"
diff -u - "$T/status.out" <<'EOS' || e2e_fail "jailctl status snapshot"
jail  mail
filter  sendmail-idle
actions  record
logpaths  T/mail.log
maxretry  2, findtime 10m, bantime 1h
lines  2 read, 2 matched, 0 ignored
failures  0 addresses counting, 2 in total
bans  2 active, 2 in total, 0 evicted
saturation  off (no saturation.filter)

ADDR  SINCE  UNTIL  FAILURES  REASON
203.0.113.7  DATE (REL)  DATE (REL)  2  failures
2001:db8::/64  DATE (REL)  never  0  manual
EOS
jc list mail | grep -q $'\e\[' && e2e_fail "colour when not on a terminal"

# --- Stop: STOPPING=1 is sent, the pidfile is removed.
e2e_stop_jaild
grep -q '^STOPPING=1' "$T/notify.log" || e2e_fail "no STOPPING=1"
[ -e "$PIDF" ] && e2e_fail "pidfile left behind"
rm -f "$PIDF"

# --- Detached: jaild forks, the pidfile names the daemon, syslog gets
# the log; stopped through the pid it wrote.
"$JAILD" -c "$CONF" -S "$SOCK" -D "$DB" -p "$PIDF" ||
	e2e_fail "detached jaild did not start"
e2e_wait 10 "pidfile" test -s "$PIDF" || e2e_fail "no pidfile when detached"
BGPID=$(cat "$PIDF" 2>/dev/null)
if [ -n "$BGPID" ] && kill -0 "$BGPID" 2>/dev/null; then
	e2e_wait 10 "detached jaild answers" jc status ||
		e2e_fail "detached jaild does not answer"
	kill "$BGPID"
	e2e_wait 20 "detached jaild stops" eval "! kill -0 $BGPID" || {
		kill -KILL "$BGPID"
		e2e_fail "detached jaild did not stop"
	}
	BGPID=
	[ -e "$PIDF" ] && e2e_fail "pidfile not removed by the detached jaild"
fi

e2e_done
