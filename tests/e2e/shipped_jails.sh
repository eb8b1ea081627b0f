#!/bin/bash
# The shipped jail files, as a user enables them in .local files: sshd in
# mode aggressive on an RFC 3339 (Debian 12 rsyslog) log with IPv6 zone ids
# and IPv4-mapped addresses, dropbear on the same file, and recidive on
# jaild's own log, which bans an address that the other two banned.
. "$(dirname "$0")/lib.sh"
e2e_setup

LOG=$T/auth.log
REC=$T/record.log
: >"$LOG"
: >"$T/jaild.log"
cp "$top_srcdir"/jails.d/*.conf "$CONF/jails.d/"
enable() { # JAIL EXTRA-LINES
	cat >"$CONF/jails.d/$1.local" <<EOC
[$1]
enabled = true
action = record[file="$REC"]
$2
EOC
}
enable sshd "filter = sshd[mode=aggressive]
logpath = $LOG
maxretry = 2"
enable dropbear "logpath = $LOG
maxretry = 2"
# jaild -f writes its log to stderr, which e2e_start_jaild appends here
enable recidive "logpath = $T/jaild.log
maxretry = 2"
e2e_start_jaild

stamp() { date -u '+%Y-%m-%dT%H:%M:%S.%6N+00:00'; }
sshd() { echo "$(stamp) host sshd[$$]: $*" >>"$LOG"; }

# A zone id is stripped, a mapped address is folded to IPv4
sshd "Invalid user a from 2001:db8::7%eth0 port 22"
sshd "Failed password for invalid user a from 2001:db8::7%eth0 port 22 ssh2"
sshd "ROOT LOGIN REFUSED FROM ::ffff:192.0.2.9 port 1 [preauth]"
sshd "Did not receive identification string from ::ffff:192.0.2.9 port 2"
e2e_wait 10 "sshd bans 2001:db8::7" e2e_banned sshd 2001:db8::7 ||
	e2e_fail "sshd: $(jcj status sshd | jq -c .banned)"
e2e_wait 10 "sshd bans 192.0.2.9" e2e_banned sshd 192.0.2.9 ||
	e2e_fail "sshd: $(jcj status sshd | jq -c .banned)"

# An address that names another one in its user name is not that one
sshd "Failed password for invalid user x from 198.18.6.6 port 1 ssh2 from 192.0.2.10 port 22 ssh2"
sshd "Failed password for invalid user y from 198.18.6.6 port 1 ssh2 from 192.0.2.10 port 22 ssh2"
e2e_wait 10 "sshd bans 192.0.2.10" e2e_banned sshd 192.0.2.10 ||
	e2e_fail "sshd: $(jcj status sshd | jq -c .banned)"
e2e_banned sshd 198.18.6.6 && e2e_fail "sshd banned the address in the user name"

# Not recidive yet: each address was banned once
e2e_banned recidive 192.0.2.9 && e2e_fail "recidive banned after one ban"

# dropbear bans 192.0.2.9 too: its second ban in jaild's log
for i in 1 2; do
	echo "$(stamp) host dropbear[$i]: Bad password attempt for 'root' from ::ffff:192.0.2.9:5543" >>"$LOG"
done
e2e_wait 10 "dropbear bans 192.0.2.9" e2e_banned dropbear 192.0.2.9 ||
	e2e_fail "dropbear: $(jcj status dropbear | jq -c .banned)"
e2e_wait 10 "recidive bans 192.0.2.9" e2e_banned recidive 192.0.2.9 ||
	e2e_fail "recidive: $(jcj status recidive | jq -c .)"
e2e_banned recidive 2001:db8::7 && e2e_fail "recidive banned a single ban"
grep -q "^ban recidive 192.0.2.9 " "$REC" ||
	e2e_fail "no recidive ban recorded: $(cat "$REC")"
e2e_done
