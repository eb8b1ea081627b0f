#!/bin/bash
# The Debian package, as piuparts would treat it: make deb builds it,
# lintian finds no error, it installs; jaild runs from the package's own
# config (plus a test jail) as root in the foreground, in a network
# namespace of its own, and bans through jailctl and a log line with the
# native nftables action; remove keeps config and database, purge
# deletes them.  Installs into /usr and /etc: it refuses to run where a
# jaild is installed already, and purges what it installed.
# Run by .ci/run (not by make check): tests/e2e/deb.sh, in a build dir
# or with top_builddir set.
. "$(dirname "$0")/lib.sh"
top_builddir=$(cd "${top_builddir:-.}" && pwd)

[ "$(id -u)" = 0 ] || e2e_skip "needs root (dpkg -i, network namespace)"
for c in dpkg-buildpackage dh fakeroot lintian ip nft jq; do
	command -v $c >/dev/null || e2e_skip "$c is not installed"
done
[ -f "$top_builddir/Makefile" ] || e2e_skip "$top_builddir is not configured"
dpkg-query -W -f='${Status}' jaild 2>/dev/null | grep -q 'ok installed' &&
	e2e_skip "a jaild package is installed here already"
for p in /etc/jaild /var/lib/jaild /run/jaild /usr/sbin/jaild; do
	[ -e "$p" ] && e2e_skip "$p exists: not touching another install"
done

T=$(mktemp -d "${TMPDIR:-/tmp}/jaild-e2e-deb.XXXXXX")
NS=jaild-deb-$$
PID=
installed=0
cleanup() {
	if [ -n "$PID" ]; then
		kill "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	ip netns del "$NS" 2>/dev/null
	rm -f /etc/jaild/jails.d/debtest.conf
	[ "$installed" = 1 ] && dpkg -P jaild >>"$T/dpkg.log" 2>&1
	if [ "$E2E_FAILED" = 0 ]; then
		rm -rf "$T"
	else
		echo "kept $T" >&2
		tail -n 30 "$T/jaild.log" "$T/dpkg.log" 2>/dev/null >&2
	fi
}
trap cleanup EXIT

# Build.
make -s --no-print-directory -C "$top_builddir" deb >"$T/build.log" 2>&1 || {
	tail -n 30 "$T/build.log" >&2
	e2e_fail "make deb failed"
	exit 1
}
DEB=$(ls -t "$top_builddir"/jaild_*_"$(dpkg --print-architecture)".deb | head -1)
[ -f "$DEB" ] || { e2e_fail "make deb made no .deb"; exit 1; }

# lintian: no error (warnings are shown, not fatal).
lintian --fail-on error "$DEB" >"$T/lintian.log" 2>&1 ||
	e2e_fail "lintian reports errors: $(grep '^E:' "$T/lintian.log")"
grep -q '^[EW]:' "$T/lintian.log" && sed 's/^/lintian: /' "$T/lintian.log" >&2

# Install.
dpkg -i "$DEB" >"$T/dpkg.log" 2>&1 || { e2e_fail "dpkg -i failed"; exit 1; }
installed=1
for f in /usr/sbin/jaild /usr/sbin/jailctl /etc/jaild/jaild.conf \
    /etc/jaild/filters/sendmail-idle.conf /etc/jaild/actions/nftables.conf \
    /lib/systemd/system/jaild.service /usr/share/man/man8/jaild.8.gz; do
	[ -e "$f" ] || e2e_fail "the package did not install $f"
done
[ "$(stat -c %a /var/lib/jaild)" = 700 ] || e2e_fail "/var/lib/jaild is not 0700"
/usr/sbin/jaild -V | grep -q '+nftables +sockdiag +systemd' ||
	e2e_fail "the packaged jaild lacks a part: $(/usr/sbin/jaild -V)"

# A test jail in the package's config; the native nftables action is
# the package's default (banaction = nftables in jaild.conf).
LOG=$T/mail.log
: >"$LOG"
cat >/etc/jaild/jails.d/debtest.conf <<EOC
[debtest]
enabled = true
filter = sendmail-idle
logpath = $LOG
maxretry = 2
EOC
/usr/sbin/jaild -n >"$T/check.log" 2>&1 ||
	e2e_fail "jaild -n refuses the package's config: $(cat "$T/check.log")"

ip netns add "$NS" || e2e_skip "cannot create a network namespace"
ip netns exec "$NS" /usr/sbin/jaild -f -v >"$T/jaild.log" 2>&1 &
PID=$!
e2e_wait 20 "jaild answers" /usr/sbin/jailctl status ||
	{ e2e_fail "the packaged jaild did not start"; exit 1; }

banned() {
	/usr/sbin/jailctl -j list debtest |
		jq -e --arg a "$1" '.bans[] | select(.addr == $a)' >/dev/null
}
/usr/sbin/jailctl ban debtest 192.0.2.7 >/dev/null || e2e_fail "jailctl ban"
for i in 1 2; do e2e_idle_line 198.51.100.9 "$LOG"; done
e2e_wait 10 "jailctl ban" banned 192.0.2.7 || e2e_fail "192.0.2.7 not banned"
e2e_wait 10 "log ban" banned 198.51.100.9 || e2e_fail "198.51.100.9 not banned"
in_nft() {
	ip netns exec "$NS" nft list table inet jaild 2>/dev/null | grep -qF "$1"
}
e2e_wait 5 "nft set" in_nft 192.0.2.7 || e2e_fail "192.0.2.7 not in nftables"
e2e_wait 5 "nft set" in_nft 198.51.100.9 || e2e_fail "198.51.100.9 not in nftables"

kill "$PID"
for i in $(seq 1 100); do
	kill -0 "$PID" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$PID" 2>/dev/null && { kill -KILL "$PID"; e2e_fail "jaild ignored TERM"; }
wait "$PID" 2>/dev/null
PID=
[ -s /var/lib/jaild/jaild.db ] || e2e_fail "no database in /var/lib/jaild"

# Remove: programs go, config and database stay.
dpkg -r jaild >>"$T/dpkg.log" 2>&1 || e2e_fail "dpkg -r failed"
[ -e /usr/sbin/jaild ] && e2e_fail "dpkg -r left /usr/sbin/jaild"
[ -f /etc/jaild/jaild.conf ] || e2e_fail "dpkg -r deleted the config"
[ -s /var/lib/jaild/jaild.db ] || e2e_fail "dpkg -r deleted the database"
dpkg-query -W -f='${Status}' jaild 2>/dev/null | grep -q 'config-files' ||
	e2e_fail "after remove: $(dpkg-query -W -f='${Status}' jaild 2>&1)"

# Purge (the test jail is the admin's own file: the admin deletes it).
rm -f /etc/jaild/jails.d/debtest.conf
dpkg -P jaild >>"$T/dpkg.log" 2>&1 || e2e_fail "dpkg -P failed"
installed=0
for p in /etc/jaild /var/lib/jaild /run/jaild; do
	[ -e "$p" ] && e2e_fail "dpkg -P left $p: $(find "$p" | head -5)"
done
dpkg-query -W jaild >/dev/null 2>&1 && e2e_fail "dpkg -P left the package known"
exit $E2E_FAILED
