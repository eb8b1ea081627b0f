#!/bin/bash
# The spine: a sendmail line in, a ban through a recording action, the ban
# in SQLite, shown by jailctl, kept across restarts and kill -9, lifted by
# jailctl unban and by expiry.
. "$(dirname "$0")/lib.sh"
e2e_setup

LOG=$T/mail.log
REC=$T/record.log
: >"$LOG"
# The saturation signal is counted only where the saturation response is
# built (sockdiag); the rest of the spine is the portable core.
sat="saturation.filter = sendmail-saturation"
satcount=1
e2e_has sockdiag || { sat="#$sat"; satcount=0; }
cat >"$CONF/jails.d/mail.conf" <<EOC
[mail]
enabled = true
filter = sendmail-idle
$sat
action = record[file="$REC"]
logpath = $LOG
maxretry = 3
findtime = 10m
bantime = 1h
EOC

"$JAILD" -n -c "$CONF" >/dev/null || e2e_fail "jaild -n refuses a good config"
e2e_start_jaild

# Three strikes for .7, two for .8, and hostile lines naming 6.6.6.6.
for i in 1 2 3; do e2e_idle_line 203.0.113.7 "$LOG"; done
for i in 1 2; do e2e_idle_line 203.0.113.8 "$LOG"; done
for i in 1 2 3 4; do
	echo "$(e2e_stamp) mx sm-mta[1]: $(e2e_qid): [6.6.6.6] [10.0.0.1] did not issue MAIL/EXPN/VRFY/ETRN during connection to IPv4" >>"$LOG"
	echo "$(e2e_stamp) mx sm-mta[1]: $(e2e_qid): from=<[6.6.6.6] did not issue MAIL/EXPN/VRFY/ETRN during connection to IPv4>, relay=x [192.0.2.1]" >>"$LOG"
done
echo "$(e2e_stamp) mx sm-mta[1]: rejecting connections on daemon IPv4: 15 children, max 15" >>"$LOG"

e2e_wait 10 "203.0.113.7 banned" e2e_banned mail 203.0.113.7 ||
	e2e_fail "203.0.113.7 was not banned"
e2e_wait 5 "record action ran" grep -q "^ban mail 203.0.113.7 3" "$REC" ||
	e2e_fail "the record action did not run: $(cat "$REC" 2>/dev/null)"
e2e_banned mail 203.0.113.8 && e2e_fail "203.0.113.8 banned after 2 failures"
e2e_banned mail 6.6.6.6 && e2e_fail "a hostile line banned 6.6.6.6"
jcj status mail | jq -e --argjson s $satcount '.failures == 1 and (.saturation.count // 0) == $s' >/dev/null ||
	e2e_fail "status: $(jcj status mail)"
until1=$(jcj list mail | jq '.bans[] | select(.addr == "203.0.113.7") | .until')
[ "$until1" -gt "$(date +%s)" ] || e2e_fail "bad until: $until1"
jc status mail | grep -q 203.0.113.7 || e2e_fail "human status lacks the ban"

# A clean restart keeps the ban and its end, and re-applies the action.
e2e_stop_jaild
e2e_start_jaild
e2e_banned mail 203.0.113.7 || e2e_fail "ban lost across restart"
until2=$(jcj list mail | jq '.bans[] | select(.addr == "203.0.113.7") | .until')
[ "$until1" = "$until2" ] || e2e_fail "until changed: $until1 -> $until2"
e2e_wait 5 "action restored" '[ "$(grep -c "^ban mail 203.0.113.7" "$REC")" -ge 2 ]' ||
	e2e_fail "the ban was not re-applied at start"

# Lines read before the restart are not read again.
for i in 1 2; do e2e_idle_line 203.0.113.9 "$LOG"; done
sleep 0.5
jcj status mail | jq -e '.failures == 1' >/dev/null ||
	e2e_fail "failures after restart: $(jcj status mail | jq .failures)"

# kill -9 loses no ban: manual ban of a prefix and an IPv6 host, then -9.
jc ban mail 198.51.100.0/24 >/dev/null || e2e_fail "jailctl ban prefix"
jc ban mail 2001:db8::66 30m >/dev/null || e2e_fail "jailctl ban v6"
e2e_stop_jaild KILL
e2e_start_jaild
e2e_banned mail 198.51.100.0/24 || e2e_fail "prefix ban lost after kill -9"
e2e_banned mail 2001:db8::66 || e2e_fail "v6 ban lost after kill -9"

# jailctl unban runs the action's unban and is recorded in history.
jc unban 203.0.113.7 >/dev/null || e2e_fail "jailctl unban failed"
e2e_wait 5 "unban action" grep -q "^unban mail 203.0.113.7" "$REC" ||
	e2e_fail "the unban action did not run"
e2e_banned mail 203.0.113.7 && e2e_fail "still banned after unban"
jc unban 203.0.113.7 >/dev/null 2>&1 && e2e_fail "unban of a free address succeeded"
jcj history 203.0.113.7 | jq -e '.bans | length == 1 and .[0].lifted_by == "jailctl" and .[0].active == false' >/dev/null ||
	e2e_fail "history: $(jcj history 203.0.113.7)"
jcj history 198.51.100.7 | jq -e '.bans[0].addr == "198.51.100.0/24"' >/dev/null ||
	e2e_fail "history of an address inside a prefix ban"

# A short ban expires on time and runs the unban.
jc ban mail 192.0.2.200 2s >/dev/null || e2e_fail "short ban"
e2e_wait 8 "expiry" grep -q "^unban mail 192.0.2.200" "$REC" ||
	e2e_fail "the 2s ban did not expire"
jcj history 192.0.2.200 | jq -e '.bans[0].lifted_by == "expired"' >/dev/null ||
	e2e_fail "expiry not recorded: $(jcj history 192.0.2.200)"

# ignoreip wins over a manual ban, unknown jails are errors.
jc ban mail 127.0.0.5 >/dev/null 2>&1 && e2e_fail "banned an ignoreip address"
jc status nosuchjail >/dev/null 2>&1 && e2e_fail "status of a missing jail succeeded"

# A bad config is refused whole, with file:line, and the daemon keeps going.
cp "$CONF/jails.d/mail.conf" "$T/mail.conf.good"
sed -i 's/^maxretry = 3/maxretry = three/' "$CONF/jails.d/mail.conf"
"$JAILD" -n -c "$CONF" 2>"$T/check.err" && e2e_fail "jaild -n accepted a bad config"
grep -q "mail.conf:7:" "$T/check.err" || e2e_fail "no file:line in: $(cat "$T/check.err")"
jc reload >/dev/null 2>&1 && e2e_fail "reload accepted a bad config"
e2e_banned mail 2001:db8::66 || e2e_fail "bad reload lost bans"
cp "$T/mail.conf.good" "$CONF/jails.d/mail.conf"
jc reload >/dev/null || e2e_fail "reload of a good config failed"
e2e_banned mail 2001:db8::66 || e2e_fail "reload lost bans"
kill -HUP "$E2E_PID"
sleep 0.3
e2e_banned mail 198.51.100.0/24 || e2e_fail "SIGHUP lost bans"

# unban --all lifts every ban of the jail, prefixes too.
jc unban --all mail >/dev/null || e2e_fail "unban --all failed"
jcj list mail | jq -e '.bans | length == 0' >/dev/null ||
	e2e_fail "bans left after unban --all: $(jcj list mail)"
e2e_wait 5 "prefix unbanned" grep -q "^unban mail 198.51.100.0/24" "$REC" ||
	e2e_fail "unban --all did not run the action for the prefix"

e2e_done
