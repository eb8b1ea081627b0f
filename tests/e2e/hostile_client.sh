#!/bin/bash
# A hostile client and a careless group member on the control socket
# (issue #13): crash shapes, a slowloris, a flood; ctl_group is read-only
# and only ctl_admin_group (or root) changes state, checked as real
# unprivileged users; manual bans that would block an ignored address, and
# absurd durations, are refused.  Root's jailctl status must answer
# throughout, and jaild must still run at the end.  Also: a FIFO or
# /dev/zero in jails.d refuses a reload at once, naming the file.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || e2e_skip "needs root (temporary users and groups)"
for c in useradd groupadd userdel groupdel setpriv /usr/bin/python3; do
	command -v $c >/dev/null || e2e_skip "$c is not installed"
done
e2e_setup

RO=jdro$$ # read-only: ctl_group
AD=jdad$$ # admin: ctl_admin_group (and ctl_group, to reach the socket)
hostile_cleanup() {
	e2e_cleanup
	userdel "$RO" 2>/dev/null
	userdel "$AD" 2>/dev/null
	groupdel "$RO" 2>/dev/null
	groupdel "$AD" 2>/dev/null
}
trap hostile_cleanup EXIT
groupadd -r "$RO" && groupadd -r "$AD" ||
	e2e_skip "cannot create groups"
useradd -r -M -N -g "$RO" -s /usr/sbin/nologin "$RO" &&
	useradd -r -M -N -g "$AD" -G "$RO" -s /usr/sbin/nologin "$AD" ||
	e2e_skip "cannot create users"

# The users must reach the socket, jailctl and the helper.
chmod 0711 "$T"
PY=$T/hostile_client.py
cp "$top_srcdir/tests/e2e/hostile_client.py" "$PY"
chmod 0755 "$PY"
as() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$u" --init-groups -- "$@"
}

LOG=$T/fast.log
REC=$T/record.log
: >"$LOG"
sed -i "/^\[jaild\]/a ctl_group = $RO\nctl_admin_group = $AD" "$CONF/jaild.conf"
cat >"$CONF/jails.d/fast.conf" <<EOC
[fast]
enabled = true
filter = sendmail-idle
action = record[file="$REC"]
logpath = $LOG
maxretry = 3
bantime = 1h
ignoreip = 127.0.0.0/8 198.51.100.0/24
EOC
e2e_start_jaild

# Root's status answers at once (bounded: 5 s) and jaild still runs.
root_ok() {
	kill -0 "$E2E_PID" 2>/dev/null || {
		e2e_fail "jaild died ($1)"
		exit 1
	}
	local t0=$(date +%s%N)
	timeout 5 "$JAILCTL" -S "$SOCK" -j status >/dev/null ||
		e2e_fail "root's status did not answer ($1)"
	echo "root status: $((($(date +%s%N) - t0) / 1000000)) ms ($1)"
}

# ---- item 2: ctl_group reads, ctl_admin_group (and root) change ----
as "$RO" "$JAILCTL" -S "$SOCK" status >/dev/null ||
	e2e_fail "ctl_group member cannot run status"
as "$RO" "$JAILCTL" -S "$SOCK" list >/dev/null ||
	e2e_fail "ctl_group member cannot run list"
as "$RO" "$JAILCTL" -S "$SOCK" metrics >/dev/null ||
	e2e_fail "ctl_group member cannot run metrics"
for cmd in "ban fast 192.0.2.1" "unban 192.0.2.1" "unban --all" reload; do
	out=$(as "$RO" "$JAILCTL" -S "$SOCK" $cmd 2>&1) &&
		e2e_fail "ctl_group member ran: $cmd"
	case $out in
	*"may only be run by root or members of group $AD"*) ;;
	*) e2e_fail "ctl_group member, $cmd: unclear refusal: $out" ;;
	esac
done
e2e_banned fast 192.0.2.1 && e2e_fail "a read-only member banned"
as "$AD" "$JAILCTL" -S "$SOCK" ban fast 192.0.2.1 >/dev/null ||
	e2e_fail "ctl_admin_group member cannot ban"
e2e_banned fast 192.0.2.1 || e2e_fail "admin's ban is not in force"
as "$AD" "$JAILCTL" -S "$SOCK" unban 192.0.2.1 >/dev/null ||
	e2e_fail "ctl_admin_group member cannot unban"
as "$AD" "$JAILCTL" -S "$SOCK" reload >/dev/null ||
	e2e_fail "ctl_admin_group member cannot reload"

# ---- item 7: no ban over an ignored address, no absurd duration ----
out=$(jc ban fast 198.51.0.0/16 2>&1) &&
	e2e_fail "a /16 holding ignoreip 198.51.100.0/24 was banned"
case $out in
*"overlaps the jail's ignoreip 198.51.100.0/24"*) ;;
*) e2e_fail "prefix over ignoreip: unclear refusal: $out" ;;
esac
jc ban fast 198.51.100.7 >/dev/null 2>&1 && e2e_fail "an ignored host was banned"
jcj list | jq -e '.bans | map(select(.addr | startswith("198.51."))) | length == 0' \
	>/dev/null || e2e_fail "a ban covers the ignored 198.51.100.0/24"
for d in 99999999999w 0 0s 36601d 99999999999999999999; do
	out=$(jc ban fast 203.0.113.9 "$d" 2>&1) &&
		e2e_fail "duration $d was accepted"
	case $out in
	*"a ban lasts from 1 second to 36600 days"* | *"is not a duration"*) ;;
	*) e2e_fail "duration $d: unclear refusal: $out" ;;
	esac
done
jc ban fast 203.0.113.9 36600d >/dev/null || e2e_fail "36600d refused"
jc ban fast 203.0.113.10 -1 >/dev/null || e2e_fail "-1 (forever) refused"
jc ban fast 198.51.101.0/24 1h >/dev/null || e2e_fail "a prefix beside ignoreip refused"

# ---- item 1 and friends: crash shapes, from a group member and root ----
as "$RO" "$PY" shapes "$SOCK" || e2e_fail "crash shapes (ctl_group member)"
root_ok "after the shapes from a group member"
"$PY" shapes "$SOCK" || e2e_fail "crash shapes (root)"
root_ok "after the shapes from root"

# ---- item 6: a slowloris of 70 partial lines cannot lock root out ----
mkdir "$T/u" && chown "$RO" "$T/u"
READY=$T/u/ready
as "$RO" "$PY" slowloris "$SOCK" 70 14 "$READY" >"$T/slowloris.out" 2>&1 &
SLOW=$!
e2e_wait 20 "slowloris connections open" "[ -s '$READY' ]" ||
	e2e_fail "slowloris did not start"
for i in 1 2 3 4 5; do
	root_ok "during the slowloris ($i)"
	sleep 1
done
wait "$SLOW"
cat "$T/slowloris.out"
held=$(sed -n 's/.* \([0-9]*\) held.*/\1/p' "$T/slowloris.out")
dropped=$(sed -n 's/.* \([0-9]*\) dropped by timeout/\1/p' "$T/slowloris.out")
# 64 places, 4 kept for root: 60 for the others, and root still gets in.
[ "${held:-0}" = 60 ] || e2e_fail "$held non-root clients held, not 60"
[ "${held:-0}" -ge 1 ] && [ "$dropped" = "$held" ] ||
	e2e_fail "idle partial-line clients were not dropped ($dropped of $held)"
grep -q "no complete request in" "$T/jaild.log" ||
	e2e_fail "the timeout drop is not logged"
as "$RO" "$JAILCTL" -S "$SOCK" status >/dev/null ||
	e2e_fail "a group member cannot connect after the slowloris"

# ---- a flood: pipelined requests never read, and connection churn ----
as "$RO" "$PY" flood "$SOCK" 20 >"$T/flood.out" 2>&1 &
FLOOD=$!
for i in 1 2 3 4 5; do
	root_ok "during the flood ($i)"
	sleep 0.5
done
wait "$FLOOD" || e2e_fail "flood client failed"
cat "$T/flood.out"
root_ok "after the flood"
# ---- item 9: a FIFO in jails.d refuses the reload, it does not hang it ----
mkfifo "$CONF/jails.d/zz.conf"
out=$(timeout 10 "$JAILCTL" -S "$SOCK" reload 2>&1)
rc=$?
[ "$rc" = 124 ] && e2e_fail "reload hangs on a FIFO in jails.d"
[ "$rc" = 0 ] && e2e_fail "reload accepted a FIFO in jails.d"
case $out in
*"jails.d/zz.conf: not a regular file (a FIFO)"*) ;;
*) e2e_fail "FIFO in jails.d: unclear refusal: $out" ;;
esac
rm -f "$CONF/jails.d/zz.conf"
ln -s /dev/zero "$CONF/jails.d/zz.conf"
out=$(timeout 10 "$JAILCTL" -S "$SOCK" reload 2>&1) &&
	e2e_fail "reload accepted /dev/zero as a jail file"
case $out in
*"jails.d/zz.conf: not a regular file (a character device)"*) ;;
*) e2e_fail "/dev/zero in jails.d: unclear refusal: $out" ;;
esac
rm -f "$CONF/jails.d/zz.conf"
jc reload >/dev/null || e2e_fail "reload fails once the FIFO is gone"
root_ok "after the refused reloads"

kill -0 "$E2E_PID" 2>/dev/null || e2e_fail "jaild is not running at the end"
e2e_done
