#!/bin/bash
# Fault test: the log is rotated while jaild is stopped.  At its next start
# jaild finds the rotated file (mail.log.1: same inode and first line as
# the saved position), reads it from the saved offset to its end, then the
# new mail.log from its start: no line counted twice, none skipped.  Each
# line names its own address and maxretry = 1, so the bans tell which
# lines were counted.
. "$(dirname "$0")/lib.sh"
e2e_setup

LOG=$T/mail.log
: >"$LOG"
cat >"$CONF/jails.d/rot.conf" <<EOC
[rot]
enabled = true
filter = sendmail-idle
action =
logpath = $LOG
maxretry = 1
findtime = 1h
bantime = 1d
EOC
st() { jcj status | jq -r ".jails[] | select(.name == \"rot\") | .$1"; }
lines() { # FROM TO FILE: one idle line per address 203.0.113.FROM..TO
	local i
	for i in $(seq "$1" "$2"); do e2e_idle_line "203.0.113.$i" "$3"; done
}

# Phase 1: 1-10 read, then jaild stops with its position saved.
e2e_start_jaild
lines 1 10 "$LOG"
e2e_wait 10 "10 lines" 'test "$(st matched)" = 10' || e2e_fail "phase 1: $(st matched)"
e2e_stop_jaild

# Stopped: 11-20 go to the old file, it is rotated, 21-30 go to a new one.
lines 11 20 "$LOG"
mv "$LOG" "$LOG.1"
lines 21 30 "$LOG"
# A decoy that must not be read: same first line, another inode.
cp "$LOG.1" "$LOG.2"
lines 200 210 "$LOG.2"

e2e_start_jaild
e2e_wait 10 "20 more lines" 'test "$(st matched)" = 20' ||
	e2e_fail "after restart matched $(st matched), want 20 (11-30)"
sleep 0.5
[ "$(st matched)" = 20 ] || e2e_fail "matched $(st matched), want 20"
for i in $(seq 1 30); do
	e2e_banned rot "203.0.113.$i" || e2e_fail "203.0.113.$i not counted"
done
e2e_banned rot 203.0.113.200 && e2e_fail "the decoy mail.log.2 was read"
grep -q "rotated while stopped" "$T/jaild.log" || e2e_fail "no rotation log line"

# And it goes on following the new file.
lines 31 32 "$LOG"
e2e_wait 10 "new file followed" 'test "$(st matched)" = 22' ||
	e2e_fail "new file not followed: $(st matched)"

# Stopped again, rotated again, and jaild is killed mid-way this time:
# kill -9 after the restart must not read the rotated file twice.
e2e_stop_jaild
lines 33 35 "$LOG"
mv "$LOG" "$LOG.1"
lines 36 37 "$LOG"
e2e_start_jaild
e2e_wait 10 "5 lines" 'test "$(st matched)" = 5' || e2e_fail "second rotation: $(st matched)"
sleep 1.5 # positions are saved at the end of each loop turn
e2e_stop_jaild KILL
e2e_start_jaild
sleep 1
[ "$(st matched)" = 0 ] || e2e_fail "after kill -9 a line was read again: $(st matched)"
for i in $(seq 33 37); do
	e2e_banned rot "203.0.113.$i" || e2e_fail "203.0.113.$i not counted"
done
e2e_done
