#!/bin/bash
# The FreeBSD port (contrib/freebsd): its pkg-plist names exactly what
# make install puts under the prefix (a filter, action or jail added
# without its plist line fails here), less the systemd unit, plus the
# FreeBSD-only rc.d script and state directory; and the jaild.conf its
# post-patch makes is accepted by jaild -n with the shipped jails on,
# in any build (it needs no Linux part: pf, on any port).
set -u
unset MAKEFLAGS MFLAGS MAKELEVEL
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
PLIST=$top_srcdir/contrib/freebsd/pkg-plist
T=$(mktemp -d "${TMPDIR:-/tmp}/jaild-e2e-plist.XXXXXX")
trap 'rm -rf "$T"' EXIT
D=$T/root

skip() {
	echo "SKIP: freebsd_port: $*" >&2
	exit 77
}
[ -f "$top_builddir/Makefile" ] || skip "no Makefile in $top_builddir"
mkvar() {
	printf 'print-var:\n\t@echo $(%s)\n' "$1" |
	    make -s --no-print-directory -C "$top_builddir" -f Makefile -f - print-var
}
prefix=$(mkvar prefix)
# The port's layout: GNU_CONFIGURE gives these under ${PREFIX}.
[ "$(mkvar sysconfdir)" = "$prefix/etc" ] &&
	[ "$(mkvar sbindir)" = "$prefix/sbin" ] &&
	[ "$(mkvar mandir)" = "$prefix/share/man" ] ||
	skip "configured with another layout than the port's"

make -s --no-print-directory -C "$top_builddir" install DESTDIR="$D" \
    >"$T/install.log" 2>&1 || {
	echo "FAIL: freebsd_port: make install: $(tail -5 "$T/install.log")" >&2
	exit 1
}
(cd "$D$prefix" && find . -type f -o -type l) | sed 's|^\./||' |
	grep -v '^lib/systemd/' | sed 's|^share/man/.*|&.gz|' | sort >"$T/installed"
grep -v '^@' "$PLIST" | grep -v '^etc/rc.d/jaild$' | sort >"$T/plist"
if ! diff -u "$T/plist" "$T/installed" >"$T/diff"; then
	echo "FAIL: freebsd_port: pkg-plist (-) differs from make install (+):" >&2
	grep '^[-+][^-+]' "$T/diff" >&2
	exit 1
fi
grep -qx 'etc/rc.d/jaild' "$PLIST" || { echo "FAIL: no rc.d script in pkg-plist" >&2; exit 1; }
grep -qx '@dir(root,wheel,0700) /var/db/jaild' "$PLIST" ||
	{ echo "FAIL: no state directory in pkg-plist" >&2; exit 1; }

# The port's post-patch recipe, run on a copy of the shipped config
# (REINPLACE_CMD is sed -i, WRKSRC the source tree).
C=$T/conf
mkdir -p "$C"
cp -r "$top_srcdir/filters" "$top_srcdir/actions" "$top_srcdir/jails.d" \
    "$top_srcdir/jaild.conf" "$C/"
awk '/^post-patch:/ { p = 1; next } p && !/^\t/ { p = 0 } p' \
    "$top_srcdir/contrib/freebsd/Makefile" | sed -e ':a' -e '/\\$/N; s/\\\n//; ta' |
	sed -e 's/\${REINPLACE_CMD}/sed -i/' -e "s|\${WRKSRC}|$C|g" \
	    -e 's/\$\$/$/g' >"$T/post-patch.sh"
[ "$(grep -c '^[[:space:]]*sed -i' "$T/post-patch.sh")" = 3 ] ||
	{ echo "FAIL: post-patch: $(cat "$T/post-patch.sh")" >&2; exit 1; }
bash -e "$T/post-patch.sh" || { echo "FAIL: post-patch failed" >&2; exit 1; }
grep -qx 'banaction = pf' "$C/jaild.conf" &&
	grep -qx 'banaction_allports = pf' "$C/jaild.conf" &&
	grep -qx 'port = any' "$C/jaild.conf" &&
	grep -qx 'logpath = /var/log/maillog' "$C/jails.d/sendmail.conf" &&
	grep -q '^#saturation.filter' "$C/jails.d/sendmail.conf" ||
	{ echo "FAIL: post-patch did not edit the config as it says" >&2; exit 1; }
: >"$T/mail.log"
for j in "$C"/jails.d/*.conf; do
	n=$(basename "$j" .conf)
	printf '[%s]\nenabled = true\nlogpath = %s\n' "$n" "$T/mail.log" >"$C/jails.d/$n.local"
done
"$top_builddir/engine/jaild" -n -c "$C" >"$T/check.log" 2>&1 || {
	echo "FAIL: jaild -n refuses the port's config: $(cat "$T/check.log")" >&2
	exit 1
}
exit 0
