#!/bin/bash
# The shipped Linux shell actions on a real kernel, through the daemon:
# jaild runs in a server namespace with ipset (iptables match and nft
# match), mail (a capturing mailcmd, and the real sendmail -t queueing into
# a private queue) and webhook (curl to a local HTTP listener); a client
# namespace connects over a veth pair.  Hostile user names in the log
# lines must arrive as text and never run.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || e2e_skip "needs root (network namespaces, ipset)"
for c in ip ipset iptables ip6tables nft python3 curl; do
	command -v $c >/dev/null || e2e_skip "$c is not installed"
done
e2e_setup

SRV=jaild-shs-$$
CLI=jaild-shc-$$
PIDS=
MQ=
ETCNETNS=
# Stop jaild first (its actionstop runs in the namespace), then the rest.
shell_actions_cleanup() {
	local p
	e2e_cleanup
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	ip netns del "$SRV" 2>/dev/null
	ip netns del "$CLI" 2>/dev/null
	rm -rf "/etc/netns/$SRV"
	[ -n "$ETCNETNS" ] && rmdir /etc/netns 2>/dev/null
	[ -n "$MQ" ] && rm -rf "$MQ"
}
trap shell_actions_cleanup EXIT

ip netns add "$SRV" && ip netns add "$CLI" ||
	e2e_skip "cannot create network namespaces"
S="ip netns exec $SRV"
C="ip netns exec $CLI"
ip link add sh-s$$ netns "$SRV" type veth peer name sh-c$$ netns "$CLI" ||
	e2e_skip "cannot create a veth pair"
$S ip link set lo up && $C ip link set lo up
$S ip link set sh-s$$ name eth0 && $C ip link set sh-c$$ name eth0
$S ip addr add 10.78.0.1/24 dev eth0
$S ip addr add fd78::1/64 dev eth0 nodad
# .2 is banned by the iptables jail, .4 by the nft one, .3 stays legit.
for a in 2 3 4; do
	$C ip addr add 10.78.0.$a/24 dev eth0
	$C ip addr add fd78::$a/64 dev eth0 nodad
done
$S ip link set eth0 up && $C ip link set eth0 up
$S ipset list -n >/dev/null 2>&1 || e2e_skip "ipset unusable here"
$S iptables -S INPUT >/dev/null 2>&1 || e2e_skip "iptables unusable here"

# listen PORT...: accept and close, on v4 and v6.  hook PORT FILE: append
# each POSTed body as one line.  connect SRC DST PORT: exit 0 if it connects.
cat >"$T/lab.py" <<'EOP'
import http.server, socket, sys, threading
def listen(port):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", port)); s.listen(64)
    while True:
        s.accept()[0].close()
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(sys.argv[3], "ab") as f:
            f.write(body.replace(b"\n", b"\\n") + b"\n")
        self.send_response(204); self.end_headers()
    def log_message(self, *a):
        pass
if sys.argv[1] == "listen":
    for p in sys.argv[3:]:
        threading.Thread(target=listen, args=(int(p),), daemon=True).start()
    listen(int(sys.argv[2]))
elif sys.argv[1] == "hook":
    srv = http.server.HTTPServer(("127.0.0.1", int(sys.argv[2])), Hook)
    srv.serve_forever()
else:
    fam = socket.AF_INET6 if ":" in sys.argv[3] else socket.AF_INET
    c = socket.socket(fam, socket.SOCK_STREAM); c.settimeout(0.7)
    try:
        c.bind((sys.argv[2], 0)); c.connect((sys.argv[3], int(sys.argv[4])))
    except OSError:
        sys.exit(1)
EOP
$S python3 "$T/lab.py" listen 2525 2526 &
PIDS="$PIDS $!"
$S python3 "$T/lab.py" hook 8088 "$T/hook.out" &
PIDS="$PIDS $!"
# can SRC PORT: does a TCP connect from client address SRC get through?
can() {
	local dst=10.78.0.1
	case $1 in *:*) dst=fd78::1 ;; esac
	$C python3 "$T/lab.py" connect "$1" "$dst" "$2"
}
e2e_wait 5 "listener" can 10.78.0.3 2525 || e2e_fail "the listener is not up"
e2e_wait 5 "listener" can fd78::3 2526 || e2e_fail "the v6 listener is not up"

# The real sendmail -t, queue only, into a private queue: it refuses to
# start until its host name is qualified, so the namespace gets its own
# /etc/hosts (ip netns exec binds /etc/netns/NS/hosts); the host's own
# mail is not touched.
SENDMAIL=
if command -v sendmail >/dev/null && getent passwd smmsp >/dev/null; then
	SENDMAIL=yes
	[ -d /etc/netns ] || ETCNETNS=made
	mkdir -p "/etc/netns/$SRV"
	printf '127.0.0.1 jaild-mx.test localhost %s\n::1 localhost\n' \
	    "$(hostname)" >"/etc/netns/$SRV/hosts"
	MQ=$(mktemp -d /tmp/jaild-e2e-mqueue.XXXXXX)
	chown smmsp:smmsp "$MQ" && chmod 770 "$MQ"
else
	echo "note: no sendmail/smmsp, the real sendmail -t is not tried" >&2
fi

# The capturing mailcmd: what sendmail -t would read, one file per mail.
cat >"$T/capture.sh" <<EOS
#!/bin/sh
cat >"$T/mail.\$\$"
EOS
chmod +x "$T/capture.sh"

IPTLOG=$T/ipt.log
NFTLOG=$T/nft.log
AUTHLOG=$T/auth.log
PWN=$T/pwn
mkdir "$PWN"
: >"$IPTLOG"; : >"$NFTLOG"; : >"$AUTHLOG"
cat >"$CONF/jails.d/shell.conf" <<EOC
[ipt]
enabled = true
filter = sendmail-idle
action = ipset
# The jail's port, not a parameter: the action must take it from the jail.
port = 2525
logpath = $IPTLOG
maxretry = 2
bantime = 1h

[nftm]
enabled = true
filter = sendmail-idle
action = ipset[match=nft, nfttable=jaild-test, port=2526]
logpath = $NFTLOG
maxretry = 2
bantime = 1h

[mailcap]
enabled = true
filter = sendmail-auth
action = mail[dest="postmaster@example.org", mailcmd="$T/capture.sh"]
logpath = $AUTHLOG
maxretry = 3

[hook]
enabled = true
filter = sendmail-auth
action = webhook[url="http://127.0.0.1:8088/jaild", maxtime=3]
logpath = $AUTHLOG
maxretry = 3
EOC
if [ -n "$SENDMAIL" ]; then
	cat >>"$CONF/jails.d/shell.conf" <<EOC

[mailsm]
enabled = true
filter = sendmail-auth
action = mail[dest=root, mailcmd="sendmail -t -odq -oQ$MQ"]
logpath = $AUTHLOG
maxretry = 3
EOC
fi

"$JAILD" -n -c "$CONF" >/dev/null || e2e_fail "jaild -n refuses the config"
# jaild in the server namespace; its socket is on the shared filesystem.
shell_actions_start() {
	$S "$JAILD" -f -v -c "$CONF" -S "$SOCK" -D "$DB" >>"$T/jaild.log" 2>&1 &
	E2E_PID=$!
	e2e_wait 10 "jaild answers" jc status || {
		e2e_fail "jaild did not start"
		exit 1
	}
}
shell_actions_start

# --- ipset: bans from log lines, v4 and v6, in both match variants.
ipt_rule() { $S iptables -S INPUT | grep -q -- '--match-set f2b-ipt-4 src'; }
ip6t_rule() { $S ip6tables -S INPUT | grep -q -- '--match-set f2b-ipt-6 src'; }
nft_chain() { $S nft list chain inet jaild-test f2b-nftm >/dev/null 2>&1; }
e2e_wait 5 "iptables rule" ipt_rule || e2e_fail "actionstart: no iptables rule"
e2e_wait 5 "ip6tables rule" ip6t_rule ||
	e2e_fail "actionstart: no ip6tables rule"
e2e_wait 5 "nft chain" nft_chain || e2e_fail "actionstart: no nft chain"
$S iptables -S INPUT | grep -q -- '--dports 2525 .*-j DROP' ||
	e2e_fail "the iptables rule is not for port 2525: $($S iptables -S INPUT)"
$S nft list chain inet jaild-test f2b-nftm | grep -Eq 'tcp dport (\{ *)?2526' ||
	e2e_fail "the nft rule is not for port 2526"

for i in 1 2; do
	e2e_idle_line 10.78.0.2 "$IPTLOG"
	e2e_idle_line IPv6:fd78:0:0:0:0:0:0:2 "$IPTLOG"
	e2e_idle_line 10.78.0.4 "$NFTLOG"
	e2e_idle_line IPv6:fd78:0:0:0:0:0:0:4 "$NFTLOG"
done
e2e_wait 10 "ipt v4 in ipset" $S ipset test f2b-ipt-4 10.78.0.2 ||
	e2e_fail "10.78.0.2 not in ipset f2b-ipt-4"
e2e_wait 5 "ipt v6 in ipset" $S ipset test f2b-ipt-6 fd78::2 ||
	e2e_fail "fd78::2 not in ipset f2b-ipt-6"
nft_elem() {
	$S nft get element inet jaild-test "f2b-nftm-$1" "{ $2 }" >/dev/null 2>&1
}
e2e_wait 5 "nft v4 element" nft_elem 4 10.78.0.4 ||
	e2e_fail "10.78.0.4 not in nft set f2b-nftm-4"
e2e_wait 5 "nft v6 element" nft_elem 6 fd78::4 ||
	e2e_fail "fd78::4 not in nft set f2b-nftm-6"
$S ipset test f2b-ipt-4 10.78.0.3 2>/dev/null && e2e_fail "legit .3 in the set"
$S ipset list f2b-ipt-4 | grep -Eq '^10\.78\.0\.2 timeout 3[0-5][0-9]{2}$' ||
	e2e_fail "no 1h timeout on the element: $($S ipset list f2b-ipt-4)"
e2e_banned ipt 10.78.0.2 && e2e_banned ipt fd78::2 ||
	e2e_fail "jailctl does not show the ipt bans"

# The kernel drops what the sets hold, on the jail's port only.
for a in 10.78.0.2 fd78::2; do
	can $a 2525 && e2e_fail "$a still connects to 2525 after its ban"
	can $a 2526 || e2e_fail "$a is blocked on 2526 (not its jail's port)"
done
for a in 10.78.0.4 fd78::4; do
	can $a 2526 && e2e_fail "$a still connects to 2526 after its ban"
	can $a 2525 || e2e_fail "$a is blocked on 2525 (not its jail's port)"
done
for a in 10.78.0.3 fd78::3; do
	can $a 2525 && can $a 2526 || e2e_fail "legit $a cannot connect"
done

# jailctl unban takes the address out of the set: it connects again.
jc unban 10.78.0.2 ipt >/dev/null || e2e_fail "jailctl unban 10.78.0.2"
jc unban fd78::4 nftm >/dev/null || e2e_fail "jailctl unban fd78::4"
e2e_wait 5 "ipset del" eval "! $S ipset test f2b-ipt-4 10.78.0.2" ||
	e2e_fail "10.78.0.2 still in the ipset after unban"
e2e_wait 5 "nft delete element" eval "! nft_elem 6 fd78::4" ||
	e2e_fail "fd78::4 still in the nft set after unban"
can 10.78.0.2 2525 || e2e_fail "10.78.0.2 blocked after unban"
can fd78::4 2526 || e2e_fail "fd78::4 blocked after unban"
can fd78::2 2525 && e2e_fail "unbanning 10.78.0.2 freed fd78::2"

# --- mail and webhook: hostile user names, three strikes each.
au() {
	echo "$(e2e_stamp) mx sm-mta[4242]: $(e2e_qid): AUTH failure (LOGIN): authentication failure (-13) SASL(-13): authentication failure: checkpass failed, user=$1, relay=[$2]" >>"$AUTHLOG"
}
# <matches> is the line that triggered the ban (README): the third one,
# so it carries every kind of hostile text at once.
H1='$(touch '"$PWN"'/subst1)'
H2='`touch '"$PWN"'/backq1`; touch '"$PWN"'/semi1'
H3='$(touch '"$PWN"'/subst) `touch '"$PWN"'/backq`; touch '"$PWN"'/semi'
H3="$H3 a'b\"c' \"; touch $PWN/quote #\\n|&>$PWN/redir \${IFS}\$F2B_IP"
for a in 192.0.2.77 IPv6:2001:db8:0:0:0:0:0:77; do
	au "$H1" $a
	au "$H2" $a
	au "$H3" $a
done
e2e_wait 10 "mailcap bans" e2e_banned mailcap 2001:db8::77 ||
	e2e_fail "the mailcap jail did not ban 2001:db8::77"
nfiles() { ls "$@" 2>/dev/null | wc -l; }
e2e_wait 10 "two captured mails" eval '[ "$(nfiles "$T"/mail.*)" = 2 ]' ||
	e2e_fail "the mail action did not run twice: $(ls "$T")"
e2e_wait 10 "webhook ban events" eval '[ "$(nfiles "$T"/hook.out)" = 1 ]' &&
    e2e_wait 10 "two ban events" eval '[ "$(wc -l <"$T/hook.out")" -ge 2 ]' ||
	e2e_fail "the webhook did not POST twice"

# One report per ban: headers, jail, address, the hostile line verbatim.
m4=$(grep -l 'banned 192.0.2.77$' "$T"/mail.* 2>/dev/null | head -n 1)
m6=$(grep -l 'banned 2001:db8::77$' "$T"/mail.* 2>/dev/null | head -n 1)
[ -n "$m4" ] && [ -n "$m6" ] || e2e_fail "no report for each ban"
for m in $m4 $m6; do
	sed -n 1p "$m" | grep -Eq '^Subject: \[jaild\] mailcap: banned ' ||
		e2e_fail "$m: no Subject first: $(head -n 3 "$m")"
	grep -qx 'To: postmaster@example.org' "$m" || e2e_fail "$m: no To header"
	grep -qx 'From: jaild <jaild@localhost>' "$m" || e2e_fail "$m: no From"
	grep -q '^jaild banned .* in jail mailcap after 3 failures' "$m" ||
		e2e_fail "$m: no jail/failures line"
done
grep -qxF "$(sed -n 3p "$AUTHLOG")" "$m4" ||
	e2e_fail "the report lacks the hostile line verbatim: $(cat "$m4")"
grep -qxF "$(sed -n 6p "$AUTHLOG")" "$m6" ||
	e2e_fail "the v6 report lacks the hostile line verbatim: $(cat "$m6")"

# The webhook JSON parses and names event, jail and address.
jq -e -s 'map(select(.event == "ban" and .jail == "hook")) | map(.ip) |
    sort == ["192.0.2.77", "2001:db8::77"]' "$T/hook.out" >/dev/null ||
	e2e_fail "webhook bans: $(cat "$T/hook.out")"
jq -e -s 'all(.failures == 3 and .bantime > 0 and .time > 0)' \
    "$T/hook.out" >/dev/null || e2e_fail "webhook fields: $(cat "$T/hook.out")"
jc unban 192.0.2.77 hook >/dev/null || e2e_fail "jailctl unban (hook)"
e2e_wait 5 "webhook unban" jq -e -s \
    'any(.event == "unban" and .jail == "hook" and .ip == "192.0.2.77")' \
    "$T/hook.out" || e2e_fail "no unban event: $(cat "$T/hook.out")"

# The real sendmail -t queued both reports in the private queue.
if [ -n "$SENDMAIL" ]; then
	e2e_wait 10 "sendmail queued 2" eval '[ "$(nfiles "$MQ"/qf*)" = 2 ]' ||
		e2e_fail "sendmail -t did not queue two reports: $(ls -l "$MQ")"
	q4=$(grep -l '^H??Subject: \[jaild\] mailsm: banned 192.0.2.77$' \
	    "$MQ"/qf* 2>/dev/null | head -n 1)
	[ -n "$q4" ] || e2e_fail "no queued report for 192.0.2.77"
	if [ -n "$q4" ]; then
		grep -q '^rRFC822; root@' "$q4" ||
			e2e_fail "queued report not to root: $(cat "$q4")"
		d4="$MQ/df${q4##*/qf}"
		grep -qxF "$(sed -n 3p "$AUTHLOG")" "$d4" ||
			e2e_fail "queued body lacks the hostile line: $(cat "$d4")"
	fi
fi

# Nothing of what the hostile names asked for ran.
[ -z "$(ls -A "$PWN")" ] || e2e_fail "a hostile value ran: $(ls "$PWN")"

# --- a clean stop runs actionstop: the rules go, the sets stay.
jc ban ipt 10.78.0.3 >/dev/null || e2e_fail "jailctl ban 10.78.0.3"
e2e_wait 5 "manual ban in ipset" $S ipset test f2b-ipt-4 10.78.0.3 ||
	e2e_fail "a jailctl ban did not reach the ipset"
can 10.78.0.3 2525 && e2e_fail "10.78.0.3 connects after jailctl ban"
e2e_stop_jaild
ipt_rule && e2e_fail "actionstop left the iptables rule"
ip6t_rule && e2e_fail "actionstop left the ip6tables rule"
nft_chain && e2e_fail "actionstop left the nft chain"
$S ipset test f2b-ipt-4 10.78.0.3 2>/dev/null ||
	e2e_fail "the ipset (element with its timeout) did not outlive jaild"
can 10.78.0.3 2525 || e2e_fail "10.78.0.3 still blocked with jaild stopped"

# A restart puts the rules back and re-applies the stored bans.
shell_actions_start
e2e_wait 5 "iptables rule back" ipt_rule || e2e_fail "no rule after restart"
e2e_wait 5 "nft element back" nft_elem 4 10.78.0.4 ||
	e2e_fail "10.78.0.4 not re-applied at restart"
can 10.78.0.3 2525 && e2e_fail "10.78.0.3 connects after restart"
can fd78::2 2525 && e2e_fail "fd78::2 connects after restart"
[ -z "$(ls -A "$PWN")" ] || e2e_fail "a hostile value ran: $(ls "$PWN")"

e2e_done
