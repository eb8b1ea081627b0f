#!/bin/bash
# Issue #4 in the real lab: sendmail (MaxDaemonChildren 15, Timeout.command
# 1h) saturated by clients that say EHLO and idle.  Without jaild, legit
# mail stays refused; with the shipped sendmail jail (native nftables), the
# "rejecting connections" line makes jaild ban and evict the slot-holders,
# and legit mail is accepted again within 20 s.  Scenarios: 4 attackers with
# 40 connections beside a busy honest client; 20 attackers in one /24.
#   SAT_RUNS=3 repeats each scenario (bench figures); SAT_BASELINE=0 skips
#   the run without jaild.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lab/lab.sh"

e2e_need sockdiag
e2e_need nftables
why=$(lab_missing)
[ -z "$why" ] || e2e_skip "$why"
SAT_RUNS=${SAT_RUNS:-1}
SAT_BASELINE=${SAT_BASELINE:-1}
SAT_LIMIT_MS=20000
e2e_setup
trap 'lab_down; e2e_cleanup' EXIT
lab_up || { e2e_fail "the lab did not come up: $(cat "$LAB_RUN"/*.out 2>/dev/null)"; exit 1; }
LOG=$LAB_RUN/mail.log
ATTACK_PIDS=

# The shipped jail, enabled on the lab's log, native nftables action.
cp "$top_srcdir/jails.d/sendmail.conf" "$CONF/jails.d/"
cat >"$CONF/jails.d/sendmail.local" <<EOC
[sendmail]
enabled = true
logpath = $LOG
action = nftables
EOC
# jaild runs in the server's namespace: its nftables and sockets.
cat >"$T/jaild-ns" <<EOC
#!/bin/sh
exec ip netns exec $LAB_SRV "$JAILD" "\$@"
EOC
chmod +x "$T/jaild-ns"
JAILD=$T/jaild-ns

# attack SRC...: start idle holders from the sources (round-robin).
attack() {
	local args=() a
	for a in "$@"; do args+=(--source "$a"); done
	# Not through a function: $! must be ip(8), which execs timeout(1).
	ip netns exec "$LAB_CLI" timeout 120 python3 "$LAB_DIR/client.py" \
	    --target "$LAB_SRV_IP" attack "${args[@]}" --conns "$ATTACK_CONNS" \
	    --hold 90 >>"$T/attack.json" &
	ATTACK_PIDS="$ATTACK_PIDS $!"
}

stop_attack() {
	local p
	for p in $ATTACK_PIDS; do kill "$p" 2>/dev/null; done
	for p in $ATTACK_PIDS; do wait "$p" 2>/dev/null; done
	ATTACK_PIDS=
}

rejecting_count() { grep -c "rejecting connections on daemon" "$LOG"; }
legit_ok() { lab_client legit --source "$LAB_LEGIT_IP" >/dev/null; }

# Wait for a new "rejecting" line; print the ms it was seen at.
wait_saturated() {
	local base=$1 i
	for i in $(seq 1 150); do
		[ "$(rejecting_count)" -gt "$base" ] && { lab_now_ms; return 0; }
		sleep 0.1
	done
	return 1
}

# Try legit mail every 0.5 s for up to 45 s; print the ms it succeeded at.
wait_legit() {
	local end=$(($(lab_now_ms) + 45000))
	while [ "$(lab_now_ms)" -lt "$end" ]; do
		legit_ok && { lab_now_ms; return 0; }
		sleep 0.5
	done
	return 1
}

# After a scenario: stop the attackers, lift the bans, wait until sendmail
# takes mail again (its own re-check: up to 15 s after the slots free).
recover() {
	stop_attack
	[ -n "$E2E_PID" ] && jc unban --all >/dev/null 2>&1
	wait_legit >/dev/null || e2e_fail "sendmail did not recover"
}

# scenario NAME CONNS MIN_BANNED SRC...: one measured run with jaild.
scenario() {
	local name=$1 base t0 t1 n min_banned=$3
	ATTACK_CONNS=$2
	shift 3
	base=$(rejecting_count)
	attack "$@"
	if ! t0=$(wait_saturated "$base"); then
		e2e_fail "$name: sendmail never saturated"
		recover
		return
	fi
	if t1=$(wait_legit); then
		echo "$name: legit mail accepted $((t1 - t0)) ms after the first rejecting line"
		echo "$name $((t1 - t0))" >>"$T/times"
		[ $((t1 - t0)) -le $SAT_LIMIT_MS ] ||
			e2e_fail "$name: $((t1 - t0)) ms > $SAT_LIMIT_MS ms"
	else
		e2e_fail "$name: legit mail still refused 45 s after saturation"
	fi
	# Enough of the attackers are banned, and no one else is.
	jcj list sendmail | jq -r '.bans[].addr' | sort >"$T/banned"
	printf '%s\n' "$@" | sort >"$T/sources"
	n=$(wc -l <"$T/banned")
	[ "$n" -ge "$min_banned" ] ||
		e2e_fail "$name: $n holders banned, expected $min_banned or more"
	[ -z "$(comm -23 "$T/banned" "$T/sources")" ] ||
		e2e_fail "$name: banned outside the attackers: $(comm -23 "$T/banned" "$T/sources")"
	e2e_banned sendmail "$LAB_LEGIT_IP" && e2e_fail "$name: legit banned"
	e2e_banned sendmail "$LAB_BUSY_IP" && e2e_fail "$name: busy client banned"
	jcj list sendmail | jq -e '[.bans[].reason] | all(. == "saturation")' \
	    >/dev/null || e2e_fail "$name: reasons: $(jcj list sendmail)"
	recover
}

# 1. Without jaild, legit mail is refused for the whole attack.
if [ "$SAT_BASELINE" = 1 ]; then
	ATTACK_CONNS=40
	base=$(rejecting_count)
	attack $LAB_ATK_IPS
	t0=$(wait_saturated "$base") || e2e_fail "baseline: no saturation"
	sleep 20
	legit_ok && e2e_fail "baseline: legit mail accepted 20 s into the attack without jaild"
	echo "baseline: legit mail refused 20 s after the first rejecting line"
	recover
fi

e2e_start_jaild
for run in $(seq 1 "$SAT_RUNS"); do
	# 2. Four attackers, 40 connections, beside a busy honest client.
	lab_client busy --source "$LAB_BUSY_IP" --conns 3 --lines 12 \
	    --every 2 >"$T/busy.json" &
	busy=$!
	sleep 1
	scenario "4-attackers" 40 4 $LAB_ATK_IPS
	wait "$busy"
	jq -e '.ok' "$T/busy.json" >/dev/null ||
		e2e_fail "the busy client's mail failed: $(cat "$T/busy.json")"
	# 3. Twenty attackers in one /24, one or two connections each.
	scenario "20-in-a-/24" 30 10 $LAB_SPREAD_IPS
done
jcj status sendmail | jq -e '.saturation.episodes >= 1 and .saturation.banned >= 4 and .saturation.mode == "ban"' \
    >/dev/null || e2e_fail "status: $(jcj status sendmail | jq -c .saturation)"
ip netns exec "$LAB_SRV" nft list set inet jaild ban4 >/dev/null 2>&1 ||
	ip netns exec "$LAB_SRV" nft list ruleset | grep -q jaild ||
	e2e_fail "no jaild table in the lab's nftables"
[ -s "$T/times" ] && echo "times (ms): $(tr '\n' ' ' <"$T/times")"
e2e_done
