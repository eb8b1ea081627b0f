#!/bin/bash
# Issue #11 in the real lab: a botnet that outnumbers sendmail's slots
# (MaxDaemonChildren 15) and keeps trying, against the shipped sendmail
# jail (saturation on, native nftables).  Each attacking host holds one
# idle EHLO connection and tries again 1 s after it is closed, evicted or
# refused.  Beside it, an honest client sends a mail every 2 s and a slow
# honest sender waits 4 s between its commands, both in a prefix shared
# with ten attackers; they start 8 s before the attack, so the honest
# client is a known-good sender when it begins.
#   IPv4: 70 hosts, 30 in each of 10.77.1.0/24 and 10.77.2.0/24, 10 in
#         10.77.4.0/24 (the honest clients' prefix).
#   IPv6: 70 hosts, 30 in one /64, 30 in another, 10 in the honest
#         clients' /64.
#   SAT_SPREAD=1 spreads them thinner: IPv4 20 in each of three /24s,
#         IPv6 30 in one /64 and 15 in each of two more.  A prefix none of
#         whose hosts holds a slot when sendmail first refuses is not
#         known yet when sendmail reopens 15 s later, and saturates it
#         once more (2 of 3 IPv6 runs there); with two large attacking
#         prefixes that is rare enough for CI (well under 1 %).
# It asserts the goals: from the first recovery to the end of the attack
# at most 5 % of the honest attempts refused; 95 % of the attacking hosts
# banned within 60 s of the attack's start; no honest host banned, by host
# or by prefix; SIGTERM during the attack returns in under 2 s.
#   SAT_RUNS=3 repeats both scenarios (bench/saturation_botnet.txt).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lab/lab.sh"

e2e_need sockdiag
e2e_need nftables
why=$(lab_missing)
[ -z "$why" ] || e2e_skip "$why"
SAT_RUNS=${SAT_RUNS:-1}
SAT_SPREAD=${SAT_SPREAD:-0}
WARMUP=8
DURATION=70
SHARE_MAX=0.05
BANNED_MIN=0.95
SIGTERM_MAX_MS=2000
# Under the sanitizers jaild is several times slower: its stop may take
# longer (the goal stays 2 s for the plain build).
[ -n "${JAILD_SAN:-}" ] && SIGTERM_MAX_MS=5000
LAB_V6=1
LAB_ROUTES="10.77.0.0/16 fd77::/48"
e2e_setup
trap 'e2e_stop_jaild; lab_down; e2e_cleanup' EXIT
lab_up || { e2e_fail "the lab did not come up: $(cat "$LAB_RUN"/*.out 2>/dev/null)"; exit 1; }
LOG=$LAB_RUN/mail.log
BOT=

# The attacking hosts and the honest clients of each scenario.
if [ "$SAT_SPREAD" = 1 ]; then
	for p in 1 2 3; do seq -f "10.77.$p.%g" 10 29; done >"$T/atk4"
	{
		for i in $(seq 16 45); do printf 'fd77:0:0:a::%x\n' "$i"; done
		for i in $(seq 16 30); do printf 'fd77:0:0:b::%x\n' "$i"; done
		for i in $(seq 16 30); do printf 'fd77:0:0:d::%x\n' "$i"; done
	} >"$T/atk6"
else
	for p in 1 2; do seq -f "10.77.$p.%g" 10 39; done >"$T/atk4"
	{
		for i in $(seq 16 45); do printf 'fd77:0:0:a::%x\n' "$i"; done
		for i in $(seq 16 45); do printf 'fd77:0:0:b::%x\n' "$i"; done
	} >"$T/atk6"
fi
seq -f '10.77.4.%g' 10 19 >>"$T/atk4"
for i in $(seq 16 25); do printf 'fd77:0:0:c::%x\n' "$i"; done >>"$T/atk6"
HONEST4=10.77.4.2 SLOW4=10.77.4.3
HONEST6=fd77:0:0:c::2 SLOW6=fd77:0:0:c::3
for a in $(cat "$T/atk4") $HONEST4 $SLOW4; do
	ip -n "$LAB_CLI" addr add "$a/32" dev eth0 || e2e_fail "addr $a"
done
for a in $(cat "$T/atk6") $HONEST6 $SLOW6; do
	ip -n "$LAB_CLI" addr add "$a/128" dev eth0 nodad || e2e_fail "addr $a"
done
lab_wait 15 lab_client legit --source "$HONEST4" ||
	e2e_fail "no mail from the IPv4 honest client before the attack"
lab_cli timeout 20 python3 -c '
import smtplib, sys
with smtplib.SMTP("fd77::1", 25, timeout=5, source_address=(sys.argv[1], 0)) as s:
    s.ehlo("x"); sys.exit(1 if s.sendmail("a@client.lab.example", ["root@mx.lab.example"], "x") else 0)
' "$HONEST6" || e2e_fail "no mail over IPv6 before the attack"

# The shipped jail, enabled on the lab's log, native nftables action.
cp "$top_srcdir/jails.d/sendmail.conf" "$CONF/jails.d/"
cat >"$CONF/jails.d/sendmail.local" <<EOC
[sendmail]
enabled = true
logpath = $LOG
action = nftables
EOC
cat >"$T/jaild-ns" <<EOC
#!/bin/sh
exec ip netns exec $LAB_SRV "$JAILD" "\$@"
EOC
chmod +x "$T/jaild-ns"
JAILD=$T/jaild-ns

# Elements in jaild's nftables sets of family 4 or 6 (hosts, prefixes).
elements() {
	ip netns exec "$LAB_SRV" nft -j list table inet jaild 2>/dev/null |
	    jq --arg f "$1" '[.nftables[] | select(.set) |
	        select(.set.name | test("_[vn]" + $f + "$")) |
	        (.set.elem // []) | length] | add // 0'
}

# Is ADDR banned now or ever, by host or by a prefix covering it?
ever_banned() {
	jcj history "$1" | jq -e '.bans | length > 0' >/dev/null
}

# scenario NAME TARGET ATTACKERS HONEST SLOW RUN
scenario() {
	local name=$1 target=$2 atk=$3 honest=$4 slow=$5 run=$6 t0 t1 f m0 j0
	f=$T/$name-$run
	m0=$(wc -l <"$LOG")
	j0=$(wc -l <"$T/jaild.log" 2>/dev/null || echo 0)
	e2e_start_jaild
	if [ "$name" = v6 ]; then
		# Learned in the IPv4 scenario, kept in the store over a restart.
		jcj status sendmail | jq -e '.saturation.good_senders >= 1' \
		    >/dev/null || e2e_fail "$name: good senders lost: $(jcj status sendmail | jq -c .saturation)"
	fi
	lab_cli timeout $((WARMUP + DURATION + 60)) python3 \
	    "$LAB_DIR/botnet.py" --target "$target" --attackers "$atk" \
	    --honest "$honest" --slow "$slow" --log "$LOG" \
	    --warmup "$WARMUP" --duration "$DURATION" >"$f.json" &
	BOT=$!
	sleep $((WARMUP + 62))
	jcj status sendmail >"$f.status"
	jcj list sendmail >"$f.bans"
	jq -e --arg h "$honest" '.saturation.good_recent | map(.addr) | index($h) != null' \
	    "$f.status" >/dev/null ||
		e2e_fail "$name: $honest not a good sender: $(jq -c .saturation "$f.status")"
	for a in $honest $slow; do
		ever_banned "$a" && e2e_fail "$name: honest $a banned: $(jcj history "$a")"
	done
	elements "${name#v}" >"$f.elements"
	# SIGTERM in the middle of the attack: watch on, evictions queued.
	t0=$(lab_now_ms)
	kill -TERM "$E2E_PID"
	for _ in $(seq 1 200); do
		kill -0 "$E2E_PID" 2>/dev/null || break
		sleep 0.01
	done
	t1=$(lab_now_ms)
	kill -0 "$E2E_PID" 2>/dev/null && e2e_fail "$name: jaild still runs 2 s after SIGTERM"
	e2e_stop_jaild KILL
	echo $((t1 - t0)) >"$f.sigterm"
	wait "$BOT"
	BOT=
	# Refusals: one line per sendmail daemon (IPv4, IPv6) each time.
	tail -n +$((m0 + 1)) "$LOG" | grep -c "rejecting connections" \
	    >"$f.rejecting"
	python3 "$LAB_DIR/botnet_report.py" "$f.json" "$f.bans" "$atk" \
	    >"$f.report" || e2e_fail "$name: no report"
	jq -c --arg n "$name" --argjson e "$(cat "$f.elements")" \
	    --argjson s "$(cat "$f.sigterm")" \
	    --argjson r "$(cat "$f.rejecting")" \
	    '{run: $n, elements: $e, sigterm_ms: $s, rejecting_lines: $r} + .' \
	    "$f.report" | tee -a "$T/figures"
	if [ "$(cat "$f.rejecting")" -gt 2 ]; then
		echo "$name: sendmail refused more than once; jaild said:"
		tail -n +$((j0 + 1)) "$T/jaild.log" |
		    grep -E "episode|prefix banned|: ban |rejecting|good sender" |
		    head -60
	fi
	jq -e '.saturated' "$f.report" >/dev/null ||
		e2e_fail "$name: the botnet never saturated sendmail"
	jq -e '.recovery_ms != null' "$f.report" >/dev/null ||
		e2e_fail "$name: honest mail never accepted again"
	jq -e --argjson m "$SHARE_MAX" '.share != null and .share <= $m' \
	    "$f.report" >/dev/null ||
		e2e_fail "$name: honest refused after recovery: $(jq -c '[.refused, .attempts, .errors]' "$f.report")"
	jq -e --argjson m "$BANNED_MIN" '.banned60 >= .attackers * $m' \
	    "$f.report" >/dev/null ||
		e2e_fail "$name: banned within 60 s: $(jq -c '[.banned60, .attackers]' "$f.report")"
	[ "$(cat "$f.sigterm")" -lt "$SIGTERM_MAX_MS" ] ||
		e2e_fail "$name: SIGTERM took $(cat "$f.sigterm") ms"
	# Before the next scenario: sendmail takes mail again.
	lab_wait 40 lab_client legit --source "$LAB_LEGIT_IP" ||
		e2e_fail "$name: sendmail did not recover after the run"
}

for run in $(seq 1 "$SAT_RUNS"); do
	DB=$T/jaild-$run.db # each run starts with no bans and no good senders
	scenario v4 "$LAB_SRV_IP" "$T/atk4" "$HONEST4" "$SLOW4" "$run"
	scenario v6 "$LAB_SRV_IP6" "$T/atk6" "$HONEST6" "$SLOW6" "$run"
done
echo "figures (one JSON line per scenario and run):"
cat "$T/figures"
e2e_done
