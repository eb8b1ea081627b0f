# shellcheck shell=bash
# The mail lab for end-to-end tests: real sendmail with MaxDaemonChildren=15
# in a network namespace of its own, clients in a second one joined by a
# veth pair, and a private syslog listener writing the mail log.  Nothing is
# added to the host: its port 25, firewall, /dev/log and /etc are untouched.
# Source it, then: lab_up; ...; lab_down (also from an EXIT trap).
#
#   netns $LAB_SRV  eth0 10.77.0.1/24          <-> netns $LAB_CLI  eth0
#                   sendmail :25, syslog, jaild      10.77.0.2 (legit)
#                                                     10.77.0.3 (busy, honest)
#                                                     10.77.0.10-13 attackers
#                                                     10.77.0.100-119 (spread)
# LAB_V6=1 adds fd77::1/64 (server, a second sendmail daemon "IPv6") and
# fd77::2/64 (client); LAB_ROUTES lists more client prefixes the server
# reaches on the link (addresses in them are the caller's to add).

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_SENDMAIL=${LAB_SENDMAIL:-/usr/libexec/sendmail/sendmail}
LAB_SRV_IP=10.77.0.1
LAB_LEGIT_IP=10.77.0.2
LAB_BUSY_IP=10.77.0.3
LAB_ATK_IPS="10.77.0.10 10.77.0.11 10.77.0.12 10.77.0.13"
LAB_SPREAD_IPS=$(seq -f '10.77.0.%g' 100 119 | tr '\n' ' ')
LAB_SRV_IP6=fd77::1
LAB_V6=${LAB_V6:-0}
LAB_ROUTES=${LAB_ROUTES:-}
LAB_SRV=
LAB_CLI=
LAB_RUN=
LAB_SYSLOG_PID=

# Why the lab cannot run here, or nothing.
lab_missing() {
	[ "$(id -u)" = 0 ] || { echo "not root (needs netns, nft)"; return; }
	[ -x "$LAB_SENDMAIL" ] ||
		{ echo "sendmail-bin is not installed"; return; }
	[ -f /usr/share/sendmail/cf/m4/cf.m4 ] ||
		{ echo "sendmail-cf is not installed"; return; }
	local t
	for t in m4 ip nft python3 unshare; do
		command -v $t >/dev/null || { echo "$t is missing"; return; }
	done
}

lab_srv() { ip netns exec "$LAB_SRV" "$@"; }
lab_cli() { ip netns exec "$LAB_CLI" "$@"; }

# Run a command in the server netns with a private mount namespace whose
# /dev/log is the lab's syslog socket and /etc/hosts etc. the lab's.
lab_srv_priv() {
	ip netns exec "$LAB_SRV" unshare --mount --propagation private -- \
	    /bin/bash -c '
	set -e
	run=$1; shift
	mount -t tmpfs -o mode=0755,size=64k lab-dev /dev
	mknod -m 666 /dev/null c 1 3
	mknod -m 666 /dev/zero c 1 5
	mknod -m 666 /dev/urandom c 1 9
	mknod -m 666 /dev/random c 1 8
	ln -s /proc/self/fd /dev/fd
	ln -s "$run/log.sock" /dev/log
	for f in hosts nsswitch.conf resolv.conf host.conf; do
		[ -e "/etc/$f" ] && mount --bind "$run/etc/$f" "/etc/$f"
	done
	exec "$@"' lab-priv "$LAB_RUN" "$@"
}

# lab_wait SECONDS COMMAND...: retry every 0.1 s for SECONDS of time.
lab_wait() {
	local end=$(($(date +%s) + $1))
	shift
	while [ "$(date +%s)" -lt "$end" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

lab_now_ms() { date +%s%3N; }

# Write the name service files and sendmail.cf into $LAB_RUN.
lab_files() {
	mkdir -m 755 "$LAB_RUN/etc" "$LAB_RUN/mqueue"
	chmod 700 "$LAB_RUN/mqueue"
	printf '127.0.0.1 localhost\n%s mx.lab.example mx\n%s client.lab.example\n' \
	    "$LAB_SRV_IP" "$LAB_LEGIT_IP" >"$LAB_RUN/etc/hosts"
	printf 'hosts: files\nnetworks: files\npasswd: files\ngroup: files\n' \
	    >"$LAB_RUN/etc/nsswitch.conf"
	printf 'options timeout:1 attempts:1\n' >"$LAB_RUN/etc/resolv.conf"
	printf 'multi off\n' >"$LAB_RUN/etc/host.conf"
	printf 'hosts\tfiles\naliases\tfiles\n' >"$LAB_RUN/service.switch"
	printf 'postmaster: root\n' >"$LAB_RUN/aliases"
	: >"$LAB_RUN/statistics"
	: >"$LAB_RUN/trusted-users"
	echo mx.lab.example >"$LAB_RUN/local-host-names"
	chmod 644 "$LAB_RUN"/etc/* "$LAB_RUN/service.switch" "$LAB_RUN/aliases"
	local d6=
	[ "$LAB_V6" = 1 ] && d6="DAEMON_OPTIONS(\`Family=inet6, Name=IPv6, Port=smtp, Addr=$LAB_SRV_IP6')"
	sed -e "s|@RUN@|$LAB_RUN|g" -e "s|@SRV@|$LAB_SRV_IP|g" \
	    -e "s|@DAEMON6@|$d6|" \
	    "$LAB_DIR/sendmail.mc.in" >"$LAB_RUN/lab.mc"
	m4 "$LAB_RUN/lab.mc" >"$LAB_RUN/sendmail.cf" || return 1
	chmod 644 "$LAB_RUN/sendmail.cf"
}

# Namespaces, veth, addresses; syslog; sendmail.  Returns 1 on failure.
lab_up() {
	local id=$$ a
	LAB_SRV=jsat-srv-$id
	LAB_CLI=jsat-cli-$id
	LAB_RUN=$(mktemp -d /run/jaild-lab.XXXXXX) # sendmail refuses /tmp
	chmod 755 "$LAB_RUN"
	ip netns add "$LAB_SRV" || return 1
	ip netns add "$LAB_CLI" || return 1
	lab_srv ip link set lo up
	lab_cli ip link set lo up
	ip -n "$LAB_SRV" link add eth0 type veth peer name eth0 netns "$LAB_CLI"
	ip -n "$LAB_SRV" addr add "$LAB_SRV_IP/24" dev eth0
	for a in $LAB_LEGIT_IP $LAB_BUSY_IP $LAB_ATK_IPS $LAB_SPREAD_IPS; do
		ip -n "$LAB_CLI" addr add "$a/24" dev eth0
	done
	if [ "$LAB_V6" = 1 ]; then
		ip -n "$LAB_SRV" addr add "$LAB_SRV_IP6/64" dev eth0 nodad
		ip -n "$LAB_CLI" addr add fd77::2/64 dev eth0 nodad
	fi
	ip -n "$LAB_SRV" link set eth0 up
	ip -n "$LAB_CLI" link set eth0 up
	for a in $LAB_ROUTES; do
		ip -n "$LAB_SRV" route add "$a" dev eth0 || return 1
	done
	lab_files || return 1
	lab_srv python3 "$LAB_DIR/syslogd.py" "$LAB_RUN/log.sock" \
	    "$LAB_RUN/mail.log" >"$LAB_RUN/syslogd.out" 2>&1 &
	LAB_SYSLOG_PID=$!
	lab_wait 10 test -S "$LAB_RUN/log.sock" || return 1
	lab_srv_priv "$LAB_SENDMAIL" -C "$LAB_RUN/sendmail.cf" -bi \
	    >"$LAB_RUN/newaliases.out" 2>&1 || return 1
	lab_srv_priv "$LAB_SENDMAIL" -C "$LAB_RUN/sendmail.cf" -bd -L sm-mta \
	    >"$LAB_RUN/sendmail.out" 2>&1 || return 1
	lab_wait 15 lab_client legit --source "$LAB_LEGIT_IP"
}

# lab_client MODE SRC... [-- ARGS]: run client.py in the client netns.
lab_client() {
	local mode=$1
	shift
	lab_cli timeout 120 python3 "$LAB_DIR/client.py" --target "$LAB_SRV_IP" \
	    "$mode" "$@"
}

# End every process in the two namespaces (only ours can be there), then
# delete them and the run directory.
lab_down() {
	local ns p i
	for ns in $LAB_CLI $LAB_SRV; do
		for i in 1 2 3; do
			p=$(ip netns pids "$ns" 2>/dev/null)
			[ -n "$p" ] || break
			# shellcheck disable=SC2086
			kill $([ $i = 3 ] && echo -KILL) $p 2>/dev/null
			sleep 0.3
		done
		ip netns del "$ns" 2>/dev/null
	done
	[ -n "$LAB_SYSLOG_PID" ] && wait "$LAB_SYSLOG_PID" 2>/dev/null
	case "$LAB_RUN" in /run/jaild-lab.*) rm -rf -- "$LAB_RUN" ;; esac
	LAB_SRV= LAB_CLI= LAB_RUN=
}
