# Shared helpers for the end-to-end tests: a temp config, a jaild in the
# foreground, jailctl against its socket, and bounded waits.
# Each test sources this file, calls e2e_setup, and exits 0 or 1.

set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
JAILD=$top_builddir/engine/jaild
JAILCTL=$top_builddir/jailctl/jailctl
E2E_NAME=$(basename "$0" .sh)
E2E_PID=
E2E_FAILED=0

e2e_fail() {
	echo "FAIL: $E2E_NAME: $*" >&2
	E2E_FAILED=1
}

e2e_skip() {
	echo "SKIP: $E2E_NAME: $*" >&2
	exit 77
}

e2e_cleanup() {
	e2e_stop_jaild
	if [ "$E2E_FAILED" = 0 ]; then
		rm -rf "$T"
	else
		echo "kept $T; jaild log:" >&2
		tail -n 50 "$T/jaild.log" >&2 2>/dev/null
	fi
}

# e2e_has PART: true if this jaild was built with PART (nftables, sockdiag
# or systemd), as jaild -V reports it.
e2e_has() {
	"$JAILD" -V 2>/dev/null | grep -q "+$1"
}

# e2e_need PART: skip the test if this build lacks PART.
e2e_need() {
	e2e_has "$1" || e2e_skip "built without $1 (configure --without-$1)"
}

# Make $T with a config dir holding the shipped filters and actions.
e2e_setup() {
	command -v jq >/dev/null || e2e_skip "jq is not installed"
	T=$(mktemp -d "${TMPDIR:-/tmp}/jaild-e2e-$E2E_NAME.XXXXXX")
	trap e2e_cleanup EXIT
	CONF=$T/conf
	SOCK=$T/run/jaild.sock
	DB=$T/jaild.db
	mkdir -p "$CONF/jails.d" "$T/run"
	cp -r "$top_srcdir/filters" "$top_srcdir/actions" "$CONF/"
	cat >"$CONF/jaild.conf" <<EOC
[jaild]
socket = $SOCK
dbfile = $DB

[DEFAULT]
ignoreip = 127.0.0.0/8 ::1
EOC
}

# Start jaild -f on $CONF; wait (bounded) until its socket answers.
e2e_start_jaild() {
	"$JAILD" -f -v -c "$CONF" -S "$SOCK" -D "$DB" "$@" \
	    >>"$T/jaild.log" 2>&1 &
	E2E_PID=$!
	e2e_wait 10 "jaild answers" jc status || {
		e2e_fail "jaild did not start"
		exit 1
	}
}

# Stop our jaild with SIGTERM, or the given signal; wait for it to end.
e2e_stop_jaild() {
	local sig=${1:-TERM} i
	[ -n "$E2E_PID" ] || return 0
	kill -s "$sig" "$E2E_PID" 2>/dev/null
	for i in $(seq 1 100); do
		kill -0 "$E2E_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$E2E_PID" 2>/dev/null && kill -s KILL "$E2E_PID"
	{ wait "$E2E_PID"; } 2>/dev/null
	E2E_PID=
}

jc() {
	"$JAILCTL" -S "$SOCK" "$@"
}

jcj() {
	"$JAILCTL" -S "$SOCK" -j "$@"
}

# e2e_wait SECONDS WHAT COMMAND...: retry COMMAND until it succeeds.
# A single argument is a shell condition, evaluated afresh each time:
#   e2e_wait 10 "10 lines" '[ "$(st matched)" = 10 ]'
# (written as separate words, "$(st matched)" would be expanded once,
# before the first try, and the wait could never see it change).
e2e_wait() {
	local secs=$1 what=$2 i
	shift 2
	for i in $(seq 1 $((secs * 10))); do
		if [ $# = 1 ]; then
			eval "$1" >/dev/null 2>&1 && return 0
		else
			"$@" >/dev/null 2>&1 && return 0
		fi
		sleep 0.1
	done
	echo "timed out after ${secs}s waiting for: $what" >&2
	return 1
}

# A syslog stamp for now, as sendmail writes it ("Nov  5 12:00:00").
e2e_stamp() {
	LC_ALL=C date '+%b %e %H:%M:%S'
}

# A fresh sendmail queue id (14 characters, as sendmail 8.17 writes them).
E2E_QID=0
e2e_qid() {
	E2E_QID=$((E2E_QID + 1))
	printf '6ARN%010d' "$E2E_QID"
}

# Append sendmail's idle line for HOST (as it appears inside [...]).
e2e_idle_line() {
	echo "$(e2e_stamp) mx sm-mta[$$]: $(e2e_qid): [$1] did not issue MAIL/EXPN/VRFY/ETRN during connection to IPv4" >>"$2"
}

# Is ADDR among the bans of JAIL?
e2e_banned() {
	jcj status "$1" | jq -e --arg a "$2" '.banned | map(.addr) | index($a) != null' >/dev/null
}

e2e_done() {
	if [ "$E2E_FAILED" = 0 ]; then
		echo "PASS: $E2E_NAME"
		exit 0
	fi
	exit 1
}
