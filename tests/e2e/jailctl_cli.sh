#!/bin/bash
# jailctl and jaild as an admin types them: options anywhere, -h per
# command, help, --version; what a missing operand is; fail2ban-client's
# banned, ping, get, status --all and reload JAIL; an unban under a prefix
# ban; messages (refused reload on several lines, stale socket, -S);
# "waiting for file"; jaild -n's warnings (missing log, did-you-mean);
# a failed detached start; [jaild] changes on reload; counters that only
# go up across reloads; bash completion's filters from filter_dirs.
. "$(dirname "$0")/lib.sh"
e2e_setup
BGPID=

cli_cleanup() {
	[ -n "$BGPID" ] && kill -KILL "$BGPID" 2>/dev/null
	e2e_cleanup
}
trap cli_cleanup EXIT

# expect RC CMD...: run CMD, check its exit status, keep its output in $out.
expect() {
	local want=$1 rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	[ "$rc" = "$want" ] || e2e_fail "$* exited $rc, not $want: $out"
}

# --- Without a daemon: parsing, help, versions.
ver=$(sed -n 's/^AC_INIT(\[jaild\], \[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")
expect 0 "$JAILCTL" --version
[ "$out" = "jailctl $ver" ] || e2e_fail "jailctl --version: $out"
expect 0 "$JAILD" --version
# jaild also names the optional parts it was built with.
case $out in
"jaild $ver ("*")") ;;
*) e2e_fail "jaild --version: $out" ;;
esac
expect 0 "$JAILCTL" --help
echo "$out" | grep -q '^  banned \[ADDR\]' || e2e_fail "jailctl --help: $out"
expect 0 "$JAILCTL" help
echo "$out" | grep -q '^  get JAIL KEY' || e2e_fail "jailctl help: $out"
expect 0 "$JAILCTL" help unban
echo "$out" | grep -q '^usage: .* unban \[--local\] ADDR \[JAIL\] | --all \[JAIL\]$' ||
	e2e_fail "jailctl help unban: $out"
expect 0 "$JAILCTL" status -h
echo "$out" | grep -q 'status \[JAIL | --all\]' || e2e_fail "status -h: $out"
expect 0 "$JAILCTL" test --help
echo "$out" | grep -q 'test .*FILTER... | --all LOG' || e2e_fail "test --help: $out"
expect 0 "$JAILD" --help
echo "$out" | grep -q '^usage: jaild' || e2e_fail "jaild --help: $out"
expect 2 "$JAILCTL" frobnicate
echo "$out" | grep -q 'unknown command: frobnicate' || e2e_fail "unknown: $out"
expect 2 "$JAILCTL" status --bogus
echo "$out" | grep -q 'unknown option --bogus' || e2e_fail "bad option: $out"

# Missing operands are named, with the one command's usage.
expect 2 "$JAILCTL" history
[ "$(echo "$out" | head -1)" = "jailctl: history: missing ADDR" ] ||
	e2e_fail "history: $out"
[ "$(echo "$out" | wc -l)" = 3 ] || e2e_fail "history printed all usage: $out"
expect 2 "$JAILCTL" ban sendmail
echo "$out" | grep -q '^jailctl: ban: missing ADDR\[/LEN\]$' || e2e_fail "ban: $out"
expect 2 "$JAILCTL" get sendmail
echo "$out" | grep -q '^jailctl: get: missing KEY$' || e2e_fail "get: $out"
expect 2 "$JAILCTL" status a b
echo "$out" | grep -q 'status: too many arguments' || e2e_fail "status a b: $out"

# Offline: test takes its options after the operands too.
printf '%s\n' "Nov  5 12:00:00 mx sm-mta[1]: 6ARN0000000001: [192.0.2.9] did not issue MAIL/EXPN/VRFY/ETRN during connection to IPv4" >"$T/one.log"
expect 0 "$JAILCTL" test -c "$CONF" sendmail-idle "$T/one.log" --print-matched
echo "$out" | grep -q '^lines .*1 matched' || e2e_fail "test --print-matched last: $out"
echo "$out" | grep -q '192.0.2.9\] did not issue' || e2e_fail "matched line not printed: $out"
expect 0 "$JAILCTL" test sendmail-idle -j "$T/one.log" -c "$CONF"
echo "$out" | jq -e '.matched == 1' >/dev/null || e2e_fail "test -j in the middle: $out"

# The same socket given by -S: no systemctl in the advice.
expect 1 "$JAILCTL" -S "$SOCK" status
echo "$out" | grep -q "no socket at $SOCK" || e2e_fail "no daemon: $out"
echo "$out" | grep -q systemctl && e2e_fail "-S suggests systemctl: $out"
echo "$out" | grep -q "jaild -S $SOCK" || e2e_fail "-S advice: $out"

# --- jaild -n: a missing log and a typo are warned about.
LOG=$T/mail.log
MISSING=$T/not-yet.log
cat >"$CONF/jails.d/mail.conf" <<EOC
[mail]
enabled = true
filter = sendmail-idle
action = record[file="$T/record.log"]
logpath = $LOG
          $MISSING
maxretry = 2
maxretyr = 5
bantime = 1h
EOC
: >"$LOG"
expect 0 "$JAILD" -n -c "$CONF"
echo "$out" | grep -q "logpath $MISSING: no such file" || e2e_fail "jaild -n missing log: $out"
echo "$out" | grep -q "mail.conf:8: unknown key 'maxretyr' in \[mail\] (did you mean maxretry?)" ||
	e2e_fail "jaild -n typo: $out"
echo "$out" | grep -q 'configuration .* is valid' || e2e_fail "jaild -n: $out"
sed -i 's/^socket = /sokcet = x\nsocket = /' "$CONF/jaild.conf"
expect 1 "$JAILD" -n -c "$CONF"
echo "$out" | grep -q "unknown key 'sokcet' in \[jaild\] (did you mean socket?)" ||
	e2e_fail "[jaild] typo: $out"
sed -i '/^sokcet = /d' "$CONF/jaild.conf"

# --- With a daemon.
e2e_start_jaild
expect 0 jc ping
echo "$out" | grep -q "^pong (jaild $ver)$" || e2e_fail "ping: $out"
expect 0 jc status -j mail
echo "$out" | jq -e '.name == "mail"' >/dev/null || e2e_fail "status -j JAIL: $out"
expect 0 jc status mail -j
echo "$out" | jq -e '.name == "mail"' >/dev/null || e2e_fail "status JAIL -j: $out"
expect 0 jc status
echo "$out" | grep -q "^$MISSING  *waiting for file  *-" ||
	e2e_fail "missing log not shown as waiting: $out"

for i in 1 2; do e2e_idle_line 203.0.113.7 "$LOG"; done
e2e_wait 10 "203.0.113.7 banned" e2e_banned mail 203.0.113.7 ||
	e2e_fail "203.0.113.7 was not banned"
expect 0 jc ban mail 198.51.100.0/24
expect 0 jc banned
echo "$out" | grep -q '^mail: .*203.0.113.7' || e2e_fail "banned: $out"
expect 0 jc banned 198.51.100.9
echo "$out" | grep -q '^198.51.100.9 is banned in mail by 198.51.100.0/24 until ' ||
	e2e_fail "banned ADDR under a prefix: $out"
expect 1 jc banned 192.0.2.1
echo "$out" | grep -q 'is not banned' || e2e_fail "banned (none): $out"
expect 0 jc get mail maxretry
[ "$out" = 2 ] || e2e_fail "get maxretry: $out"
expect 0 jc get mail bantime
[ "$out" = 1h ] || e2e_fail "get bantime: $out"
expect 0 jc get mail logpath
[ "$out" = "$LOG
$MISSING" ] || e2e_fail "get logpath: $out"
expect 0 jc get mail ignoreip
[ "$out" = "127.0.0.0/8
::1" ] || e2e_fail "get ignoreip: $out"
expect 0 jc get mail actions
[ "$out" = record ] || e2e_fail "get actions: $out"
expect 2 jc get mail colour
echo "$out" | grep -q 'unknown setting colour' || e2e_fail "get colour: $out"
expect 0 jc status --all
echo "$out" | grep -q '^jail  *mail$' || e2e_fail "status --all: $out"
expect 0 jcj status --all
echo "$out" | jq -es 'length == 1 and .[0].name == "mail"' >/dev/null ||
	e2e_fail "status --all -j: $out"

# An address under a prefix ban: the prefix, the jail and the way out.
expect 1 jc unban 198.51.100.7
echo "$out" | grep -q 'covered by the ban of 198.51.100.0/24 in jail mail; lift that with: jailctl unban 198.51.100.0/24 mail' ||
	e2e_fail "unban under a prefix: $out"
expect 1 jc unban 192.0.2.55
echo "$out" | grep -q '192.0.2.55 is not banned$' || e2e_fail "unban (none): $out"

# --- Counters survive reloads, also when a jail's actions change.
lines0=$(jcj status | jq --arg p "$LOG" '.sources[] | select(.path == $p) | .lines')
[ "$lines0" = 2 ] || e2e_fail "source lines before reload: $lines0"
ab0=$(jc metrics | sed -n 's/^jaild_action_bans_total{jail="mail",action="record"} //p')
expect 0 jc reload mail
echo "$out" | grep -q '^reloaded: 1 jails$' || e2e_fail "reload mail: $out"
expect 1 jc reload nosuch
echo "$out" | grep -q 'no jail named nosuch' || e2e_fail "reload nosuch: $out"
sed -i "s|^action = .*|action = record[file=\"$T/record2.log\"]|" "$CONF/jails.d/mail.conf"
expect 0 jc reload
jcj status | jq -e --arg p "$LOG" '.sources[] | select(.path == $p) | .lines == 2' >/dev/null ||
	e2e_fail "source lines reset by reload: $(jcj status)"
grep -q "^jaild_source_lines_total{path=\"$LOG\"} 2\$" <(jc metrics) ||
	e2e_fail "jaild_source_lines_total reset: $(jc metrics | grep source_lines)"
ab1=$(jc metrics | sed -n 's/^jaild_action_bans_total{jail="mail",action="record"} //p')
[ -n "$ab1" ] && [ "$ab1" -ge "$ab0" ] && [ "$ab0" -ge 2 ] ||
	e2e_fail "jaild_action_bans_total went from $ab0 to $ab1"
jcj status mail | jq -e '.total_bans == 2 and .lines == 2' >/dev/null ||
	e2e_fail "jail counters after reload: $(jcj status mail)"

# --- A refused reload: one error a line, no '?' for the line break.
printf 'bantime = nonsense\n' >>"$CONF/jails.d/mail.conf"
printf '[other]\nenabled = true\nfilter = nosuchfilter\nlogpath = %s\n' "$LOG" \
    >"$CONF/jails.d/other.conf"
expect 1 jc reload
echo "$out" | grep -q '?' && e2e_fail "literal ? in the refused reload: $out"
echo "$out" | grep -q '^jailctl: reload refused, the running config is kept:$' ||
	e2e_fail "refused reload: $out"
[ "$(echo "$out" | grep -c 'conf:[0-9]*: ')" -ge 2 ] ||
	e2e_fail "refused reload lists fewer than 2 errors a line: $out"
sed -i '/^bantime = nonsense$/d' "$CONF/jails.d/mail.conf"
rm "$CONF/jails.d/other.conf"

# --- [jaild] changes: metrics_listen and ctl_group applied, pidfile not.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
GROUP=$(getent group | awk -F: '$3 != 0 { print $1; exit }')
sed -i "/^\[DEFAULT\]/i metrics_listen = 127.0.0.1:$PORT\nctl_group = $GROUP\ndbpurgeage = 7d" \
    "$CONF/jaild.conf"
sed -i "/^\[DEFAULT\]/i pidfile = $T/run/new.pid" "$CONF/jaild.conf"
expect 0 jc reload
echo "$out" | grep -q '^jailctl: restart needed for: pidfile ' ||
	e2e_fail "reload with a new pidfile: $out"
echo "$out" | grep -q 'metrics_listen\|ctl_group' && e2e_fail "not applied: $out"
command -v curl >/dev/null && {
	curl -sf --max-time 10 "http://127.0.0.1:$PORT/metrics" | grep -q '^jaild_' ||
		e2e_fail "metrics_listen not bound by reload"
}
[ "$(stat -c %G "$SOCK")" = "$GROUP" ] || e2e_fail "socket group: $(stat -c %G "$SOCK")"
[ "$(stat -c %G "$(dirname "$SOCK")")" = "$GROUP" ] ||
	e2e_fail "socket directory group: $(stat -c %G "$(dirname "$SOCK")")"
sed -i '/^pidfile = /d' "$CONF/jaild.conf"

# --- kill -9 leaves a stale socket: said so, not "no socket".
e2e_stop_jaild KILL
[ -S "$SOCK" ] || e2e_fail "no stale socket after kill -9"
expect 1 jc status
echo "$out" | grep -q "not answering on $SOCK (a stale socket" ||
	e2e_fail "stale socket: $out"

# --- A detached start that fails says why, with a non-zero status.
e2e_start_jaild
expect 1 "$JAILD" -c "$CONF" -S "$SOCK" -D "$DB" -p "$T/run/second.pid"
echo "$out" | grep -q 'already running' || e2e_fail "failed detached start: $out"
pgrep -f -- "-p $T/run/second.pid" >/dev/null && e2e_fail "a second jaild runs"
e2e_stop_jaild
# A detached start that works returns 0 once the daemon answers.
expect 0 "$JAILD" -c "$CONF" -S "$SOCK" -D "$DB" -p "$T/run/bg.pid"
BGPID=$(cat "$T/run/bg.pid" 2>/dev/null)
jc ping >/dev/null 2>&1 || e2e_fail "detached jaild does not answer at once"
if [ -n "$BGPID" ]; then
	kill "$BGPID"
	e2e_wait 20 "detached jaild stops" "! kill -0 $BGPID" ||
		e2e_fail "detached jaild did not stop"
	BGPID=
fi

# --- Bash completion: filter names from CONFDIR/filters and filter_dirs.
mkdir -p "$T/more"
: >"$T/more/zz-extra.conf"
sed -i "/^\[DEFAULT\]/i filter_dirs = $T/nothere\n    $T/more" "$CONF/jaild.conf"
comp=$(bash -c '. "$1/contrib/bash-completion/jailctl"
	COMP_WORDS=(jailctl test -c "$2" ""); COMP_CWORD=4; _jailctl
	printf "%s\n" "${COMPREPLY[@]}"' _ "$top_srcdir" "$CONF")
echo "$comp" | grep -qx zz-extra || e2e_fail "completion ignores filter_dirs: $comp"
echo "$comp" | grep -qx sendmail-idle || e2e_fail "completion lacks filters/: $comp"
# Every command jailctl help lists completes.
comp=$(bash -c '. "$1/contrib/bash-completion/jailctl"
	COMP_WORDS=(jailctl ""); COMP_CWORD=1; _jailctl
	printf "%s\n" "${COMPREPLY[@]}"' _ "$top_srcdir" | sort)
want=$("$JAILCTL" help | sed -n 's/^  \([a-z][a-z]*\) .*/\1/p' | sort)
[ "$comp" = "$want" ] || e2e_fail "completion offers $comp, help lists $want"

e2e_done
