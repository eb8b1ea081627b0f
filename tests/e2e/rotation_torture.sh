#!/bin/bash
# Rotation torture at the daemon level: a writer appends sendmail idle
# lines, each naming its own address (its sequence number), at about
# 10,000 lines/s for 10 s, and rotates the log every 200 ms, alternating
# rename + create and copytruncate.  With maxretry = 1 every line bans its
# address, so "matched == N and banned == N" means every line was counted
# exactly once: a line read twice makes matched exceed N, a line skipped
# leaves its address unbanned.
. "$(dirname "$0")/lib.sh"
e2e_setup
command -v python3 >/dev/null || e2e_skip "python3 is not installed"

LOG=$T/mail.log
: >"$LOG"
cat >"$CONF/jails.d/torture.conf" <<EOC
[torture]
enabled = true
filter = sendmail-idle
action =
logpath = $LOG
maxretry = 1
findtime = 1h
bantime = 1d
EOC
e2e_start_jaild

# The writer and rotator.  Before a rename it waits (bounded) until jaild
# follows the current file, and before a copytruncate until jaild has
# read all of it, as the unit torture test does: what is checked is that
# jaild neither loses nor repeats a line, not the races inherent to
# copytruncate itself.
# Under the sanitizers jaild is several times slower: the writer then goes
# at a pace it can follow, so the rotations still happen every 200 ms.
rate=10000
[ -n "${JAILD_SAN:-}" ] && rate=2500
python3 - "$LOG" "$JAILCTL" "$SOCK" "$rate" >"$T/writer.out" 2>&1 <<'EOPY'
import json, os, subprocess, sys, time
path, jailctl, sock = sys.argv[1:4]
RATE, SECS, ROT = int(sys.argv[4]), 10.0, 0.2

def source():
    out = subprocess.run([jailctl, "-S", sock, "-j", "status"],
                         capture_output=True, text=True, timeout=5).stdout
    for s in json.loads(out)["sources"]:
        if s["path"] == path:
            return s
    return None

def caught_up(want):
    for _ in range(200):
        s = source()
        if s and want(s):
            return True
        time.sleep(0.005)
    return False

def openlog():
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

fd, seq, k = openlog(), 0, 0
renames = copies = skipped = 0
start = time.time()
next_rot = start + ROT
stamp = time.strftime("%b %e %H:%M:%S")
while time.time() - start < SECS:
    # Pace to RATE lines/s, in batches of 10 (one write(2) per line).
    due = int((time.time() - start) * RATE)
    while seq < due:
        for _ in range(10):
            a = "10.%d.%d.%d" % (seq >> 16, (seq >> 8) & 255, seq & 255)
            line = ("%s mx sm-mta[7]: 6ARN%010d: [%s] did not issue "
                    "MAIL/EXPN/VRFY/ETRN during connection to IPv4\n"
                    % (stamp, seq, a))
            os.write(fd, line.encode())
            seq += 1
    if time.time() >= next_rot:
        k += 1
        dst = "%s.%d" % (path, k)
        if k % 2:
            ino = os.fstat(fd).st_ino
            if caught_up(lambda s: s["inode"] == ino):
                os.rename(path, dst)
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o644))
                # Like a daemon that reopens a little late after a HUP.
                for _ in range(50):
                    a = "10.%d.%d.%d" % (seq >> 16, (seq >> 8) & 255, seq & 255)
                    os.write(fd, ("%s mx sm-mta[7]: 6ARN%010d: [%s] did not "
                                  "issue MAIL/EXPN/VRFY/ETRN during connection "
                                  "to IPv4\n" % (stamp, seq, a)).encode())
                    seq += 1
                os.close(fd)
                fd = openlog()
                renames += 1
            else:
                skipped += 1
        else:
            size = os.fstat(fd).st_size
            if caught_up(lambda s: s["offset"] == size):
                with open(path, "rb") as src, open(dst, "wb") as out:
                    out.write(src.read())
                os.truncate(path, 0)
                copies += 1
            else:
                skipped += 1
        next_rot += ROT
    time.sleep(0.001)
os.close(fd)
el = time.time() - start
print(json.dumps({"lines": seq, "seconds": round(el, 2),
                  "rate": int(seq / el), "renames": renames,
                  "copytruncates": copies, "skipped": skipped}))
EOPY
[ $? = 0 ] || e2e_fail "writer failed: $(cat "$T/writer.out")"
W=$(tail -n 1 "$T/writer.out")
echo "writer: $W"
N=$(echo "$W" | jq .lines)
[ -n "$N" ] && [ "$N" -gt $((rate * 5)) ] || e2e_fail "writer wrote too few lines: $W"
[ "$(echo "$W" | jq .renames)" -ge 10 ] || e2e_fail "too few renames: $W"
[ "$(echo "$W" | jq .copytruncates)" -ge 10 ] || e2e_fail "too few copytruncates: $W"

st() { jcj status | jq -r ".jails[] | select(.name == \"torture\") | .$1"; }
e2e_wait 60 "all $N lines matched" 'test "$(st matched)" = "$N"'
sleep 1
m=$(st matched) b=$(st banned) l=$(st lines)
echo "jaild: lines=$l matched=$m banned=$b of $N"
[ "$m" = "$N" ] || e2e_fail "matched $m lines of $N (a line read twice or lost)"
[ "$b" = "$N" ] || e2e_fail "banned $b addresses of $N (a line skipped)"
[ "$l" = "$N" ] || e2e_fail "read $l lines of $N"
e2e_done
