#!/bin/bash
# Repeat offenders and subnets: bantime.increment grows a ban with the
# address's earlier bans, read from the store across restarts; three hosts
# of one /24 fold into a prefix ban, never one holding an ignoreip address.
. "$(dirname "$0")/lib.sh"
e2e_setup

LOG=$T/mail.log
REC=$T/record.log
: >"$LOG"
cat >"$CONF/jails.d/mail.conf" <<EOC
[mail]
enabled = true
filter = sendmail-idle
action = record[file="$REC"]
logpath = $LOG
maxretry = 1
bantime = 10m
bantime.increment = true
bantime.maxtime = 1h
subnet.threshold = 3
ignoreip = 127.0.0.0/8 100.66.0.99
EOC
"$JAILD" -n -c "$CONF" >/dev/null || e2e_fail "jaild -n refuses a good config"

# length ADDR: the seconds ADDR's ban lasts, from jailctl list.
length() {
	jcj list mail | jq --arg a "$1" '.bans[] | select(.addr == $a) | .until - now | round'
}
near() { # near VALUE TARGET: within 5 s
	[ -n "$1" ] && [ "$1" -ge $(($2 - 5)) ] && [ "$1" -le "$2" ]
}
offend() {
	e2e_idle_line "$1" "$LOG"
	e2e_wait 10 "$1 banned" e2e_banned mail "$1" || e2e_fail "$1 not banned"
}

e2e_start_jaild
offend 203.0.113.7
near "$(length 203.0.113.7)" 600 || e2e_fail "first ban: $(length 203.0.113.7)"
jc unban 203.0.113.7 >/dev/null
offend 203.0.113.7
near "$(length 203.0.113.7)" 1200 || e2e_fail "second ban: $(length 203.0.113.7)"
# The count comes from the store, so it survives a restart.
e2e_stop_jaild
e2e_start_jaild
jc unban 203.0.113.7 >/dev/null
offend 203.0.113.7
near "$(length 203.0.113.7)" 2400 || e2e_fail "third ban: $(length 203.0.113.7)"
jc unban 203.0.113.7 >/dev/null
offend 203.0.113.7
near "$(length 203.0.113.7)" 3600 || e2e_fail "maxtime: $(length 203.0.113.7)"

# Three hosts of 198.51.100.0/24: one prefix ban, the hosts folded into it.
offend 198.51.100.1
offend 198.51.100.2
e2e_idle_line 198.51.100.3 "$LOG"
e2e_wait 10 "prefix ban" e2e_banned mail 198.51.100.0/24 || e2e_fail "no prefix ban"
jcj list mail | jq -e '[.bans[].addr | select(startswith("198.51.100."))] == ["198.51.100.0/24"]' >/dev/null ||
	e2e_fail "hosts not folded: $(jcj list mail)"
jcj history 198.51.100.2 | jq -e '[.bans[] | .reason] | index("subnet") != null' >/dev/null ||
	e2e_fail "history: $(jcj history 198.51.100.2)"
jcj history 198.51.100.2 | jq -e '[.bans[] | .lifted_by] | index("folded") != null' >/dev/null ||
	e2e_fail "history lacks the fold: $(jcj history 198.51.100.2)"
e2e_wait 5 "action on the prefix" grep -q "^ban mail 198.51.100.0/24" "$REC" ||
	e2e_fail "the action did not hear of the prefix"
# A new line from inside the prefix is already banned.
e2e_idle_line 198.51.100.77 "$LOG"
sleep 0.3
e2e_banned mail 198.51.100.77 && e2e_fail "a host inside the prefix was banned alone"

# Never a prefix that holds an ignoreip address.
for h in 100.66.0.1 100.66.0.2 100.66.0.3; do offend "$h"; done
e2e_banned mail 100.66.0.0/24 && e2e_fail "banned a prefix holding ignoreip 100.66.0.99"
e2e_done
