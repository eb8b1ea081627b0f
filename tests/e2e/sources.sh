#!/bin/bash
# Log sources at the daemon level: several jails on one file read it once,
# late creation, a glob picking up a new file, truncation, binary junk,
# per-source status JSON, and stdin mode (logpath = -) from a file and a
# pipe.
. "$(dirname "$0")/lib.sh"
e2e_setup

LOG=$T/mail.log
LATE=$T/late/late.log
GLOBDIR=$T/glob
REC=$T/record.log
mkdir -p "$GLOBDIR" "$T/late"
: >"$LOG"
: >"$GLOBDIR/a.log"
# Three jails on mail.log, one on a file that does not exist yet, one on a
# glob: none may ban (maxretry is high), they count.
jail() { # NAME FILTER LOGPATH
	cat >"$CONF/jails.d/$1.conf" <<EOC
[$1]
enabled = true
filter = $2
action = record[file="$REC"]
logpath = $3
maxretry = 100000
findtime = 1h
bantime = 1h
EOC
}
jail idle1 sendmail-idle "$LOG"
jail idle2 sendmail-idle "$LOG"
jail reject sendmail-reject "$LOG"
jail late sendmail-idle "$LATE"
jail globbed sendmail-idle "$GLOBDIR/*.log"
e2e_start_jaild

# jq over "status -j": jail NAME's field, or the source of PATH's field.
jfield() { jcj status | jq -r --arg n "$1" ".jails[] | select(.name == \$n) | .$2"; }
sfield() { jcj status | jq -r --arg p "$1" "[.sources[] | select(.path == \$p)] | if length == 1 then .[0].$2 else \"count=\(length)\" end"; }
matched_is() { [ "$(jfield "$1" matched)" = "$2" ]; }

# One file, three jails, one source: each line offered to each jail once.
for i in $(seq 1 20); do e2e_idle_line "192.0.2.$i" "$LOG"; done
e2e_wait 10 "20 lines on mail.log" matched_is idle1 20 ||
	e2e_fail "idle1 matched $(jfield idle1 matched), want 20"
matched_is idle2 20 || e2e_fail "idle2 matched $(jfield idle2 matched)"
[ "$(jfield reject lines)" = 20 ] || e2e_fail "reject saw $(jfield reject lines) lines"
[ "$(jcj status | jq --arg p "$LOG" '[.sources[] | select(.path == $p)] | length')" = 1 ] ||
	e2e_fail "mail.log is not one source: $(jcj status | jq -c .sources)"
[ "$(sfield "$LOG" lines)" = 20 ] || e2e_fail "source lines $(sfield "$LOG" lines), want 20"

# Status per source: path, inode, offset, lines, last_read, backend.
size=$(stat -c %s "$LOG")
ino=$(stat -c %i "$LOG")
[ "$(sfield "$LOG" offset)" = "$size" ] || e2e_fail "offset $(sfield "$LOG" offset), size $size"
[ "$(sfield "$LOG" inode)" = "$ino" ] || e2e_fail "inode $(sfield "$LOG" inode), want $ino"
[ "$(sfield "$LOG" backend)" = file ] || e2e_fail "backend $(sfield "$LOG" backend)"
[ "$(sfield "$LOG" last_read)" != null ] || e2e_fail "no last_read"

# Truncation: the file starts over, the new lines count.
: >"$LOG"
for i in 1 2 3; do e2e_idle_line "198.51.100.$i" "$LOG"; done
e2e_wait 10 "lines after truncation" matched_is idle1 23 ||
	e2e_fail "after truncation idle1 matched $(jfield idle1 matched), want 23"

# Binary junk (NUL, invalid UTF-8, a 100 KiB line) harms nothing.
{
	head -c 4096 /dev/urandom
	printf '\n\0\0\377\376 did not issue MAIL \0 [192.0.2.99]\n'
	head -c 102400 /dev/zero | tr '\0' 'x'
	echo
} >>"$LOG"
e2e_idle_line 198.51.100.9 "$LOG"
e2e_wait 10 "the line after the junk" matched_is idle1 24 ||
	e2e_fail "after junk idle1 matched $(jfield idle1 matched), want 24"
kill -0 "$E2E_PID" || e2e_fail "jaild died on binary junk"

# Late creation: the directory exists, the file appears and is read whole.
for i in 1 2; do e2e_idle_line "203.0.113.$i" "$LATE.tmp"; done
mv "$LATE.tmp" "$LATE"
e2e_idle_line 203.0.113.3 "$LATE"
e2e_wait 10 "late file read" matched_is late 3 ||
	e2e_fail "late jail matched $(jfield late matched), want 3"

# A glob picks up a file that appears while running (within ~5 s).
e2e_idle_line 203.0.113.50 "$GLOBDIR/a.log"
e2e_idle_line 203.0.113.51 "$GLOBDIR/b.log"
e2e_idle_line 203.0.113.52 "$GLOBDIR/b.log"
e2e_wait 15 "glob finds b.log" matched_is globbed 3 ||
	e2e_fail "globbed jail matched $(jfield globbed matched), want 3"
[ "$(sfield "$GLOBDIR/b.log" lines)" = 2 ] ||
	e2e_fail "b.log source: $(sfield "$GLOBDIR/b.log" lines)"
e2e_idle_line 203.0.113.53 "$GLOBDIR/b.log"
e2e_wait 10 "b.log followed" matched_is globbed 4 ||
	e2e_fail "b.log not followed: $(jfield globbed matched)"
e2e_stop_jaild

# stdin: logpath = -, jaild -f < file reads the whole file.
rm -f "$CONF/jails.d/"*.conf
jail stdin sendmail-idle -
IN=$T/stdin.log
: >"$IN"
for i in $(seq 1 50); do e2e_idle_line "192.0.2.$i" "$IN"; done
printf 'no newline at the end did not issue MAIL' >>"$IN"
"$JAILD" -f -v -c "$CONF" -S "$SOCK" -D "$DB" <"$IN" >>"$T/jaild.log" 2>&1 &
E2E_PID=$!
e2e_wait 10 "jaild answers" jc status || e2e_fail "jaild (stdin file) did not start"
e2e_wait 10 "stdin file read" matched_is stdin 50 ||
	e2e_fail "stdin file: matched $(jfield stdin matched), want 50"
[ "$(jfield stdin lines)" = 51 ] || e2e_fail "stdin file: lines $(jfield stdin lines), want 51"
[ "$(sfield - backend)" = stdin ] || e2e_fail "stdin backend $(sfield - backend)"
e2e_stop_jaild

# stdin from a pipe that stays open: lines arrive as they are written.
FIFO=$T/fifo
mkfifo "$FIFO"
"$JAILD" -f -v -c "$CONF" -S "$SOCK" -D "$DB" <"$FIFO" >>"$T/jaild.log" 2>&1 &
E2E_PID=$!
exec 9>"$FIFO"
e2e_wait 10 "jaild answers" jc status || e2e_fail "jaild (stdin pipe) did not start"
for i in 1 2 3; do e2e_idle_line "192.0.2.$i" /dev/fd/9; done
e2e_wait 10 "pipe lines" matched_is stdin 3 ||
	e2e_fail "stdin pipe: matched $(jfield stdin matched), want 3"
e2e_idle_line 192.0.2.4 /dev/fd/9
e2e_wait 10 "pipe line 4" matched_is stdin 4 ||
	e2e_fail "stdin pipe: matched $(jfield stdin matched), want 4"
exec 9>&-
e2e_stop_jaild

e2e_done
