#!/bin/bash
# A jail that needs a part this build lacks (native nftables action,
# saturation response, systemd journal) is refused by jaild -n with its
# file:line, jail and key; a build that has the part accepts the jail.
. "$(dirname "$0")/lib.sh"
e2e_setup

LOG=$T/mail.log
: >"$LOG"
"$JAILD" -V | grep -Eq '^jaild [0-9.]+ \([+-]nftables [+-]sockdiag [+-]systemd\)$' ||
	e2e_fail "jaild -V: $("$JAILD" -V 2>&1)"

# check KEY-LINE PART PATTERN: a jail with KEY-LINE at line 4 of its file;
# refused naming that line and PATTERN without PART, accepted with it.
check() {
	local key=$1 part=$2 pat=$3 out rc
	rm -f "$CONF"/jails.d/*.conf
	cat >"$CONF/jails.d/j.conf" <<EOC
[j]
enabled = true
filter = sendmail-idle
$key
logpath = $LOG
EOC
	[ "$part" = systemd ] && sed -i '/^logpath/d' "$CONF/jails.d/j.conf"
	out=$("$JAILD" -n -c "$CONF" 2>&1)
	rc=$?
	if [ -z "$part" ] || e2e_has "$part"; then
		[ "$rc" = 0 ] || e2e_fail "with $part, '$key' refused: $out"
	else
		[ "$rc" = 1 ] || e2e_fail "without $part, '$key' accepted: $out"
		echo "$out" | grep -Eq "jails.d/j.conf:4: jail j: $pat.*not available in this build \(configured without $part\)" ||
			e2e_fail "without $part, no file:line error naming the key: $out"
	fi
}

check "action = nftables" nftables "action: the native nftables action"
check "saturation.filter = sendmail-saturation
action = record[file=$T/rec]" sockdiag "saturation.filter: the saturation response"
check "backend = systemd
action = record[file=$T/rec]" systemd "backend: the systemd journal"

# A shell action needs none of them: the portable core accepts it.
check "action = record[file=$T/rec]" "" ""
exit $E2E_FAILED
