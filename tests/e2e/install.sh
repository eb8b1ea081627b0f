#!/bin/bash
# make install / uninstall into a DESTDIR: the tree holds the programs,
# shipped config, man pages, completion, unit and state directory; a
# reinstall keeps an edited config file (the new one goes to FILE.dist);
# uninstall removes everything but the administrator's edits.
set -u
# Run make as a user would, not as a child of "make check" (no -w, no jobs).
unset MAKEFLAGS MFLAGS MAKELEVEL
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
E2E_NAME=install
FAILED=0
T=$(mktemp -d "${TMPDIR:-/tmp}/jaild-e2e-install.XXXXXX")
D=$T/root

fail() {
	echo "FAIL: $E2E_NAME: $*" >&2
	FAILED=1
}

cleanup() {
	if [ "$FAILED" = 0 ]; then rm -rf "$T"; else echo "kept $T" >&2; fi
}
trap cleanup EXIT

[ -f "$top_builddir/Makefile" ] || {
	echo "SKIP: $E2E_NAME: no Makefile in $top_builddir" >&2
	exit 77
}
grep -q '^install-data-local:' "$top_builddir/Makefile" || {
	echo "SKIP: $E2E_NAME: Makefile predates the install rules (autoreconf)" >&2
	exit 77
}

# The value of a make variable of the build, fully expanded.
mkvar() {
	printf 'print-var:\n\t@echo $(%s)\n' "$1" |
	    make -s --no-print-directory -C "$top_builddir" -f Makefile -f - print-var
}

minstall() {
	make -s --no-print-directory -C "$top_builddir" install DESTDIR="$D" >"$T/install.log" 2>&1
}

sbindir=$(mkvar sbindir)
conf=$(mkvar sysconfdir)/jaild
mandir=$(mkvar mandir)
state=$(mkvar localstatedir)/lib/jaild
unitdir=$(mkvar prefix)/lib/systemd/system
compdir=$(mkvar datadir)/bash-completion/completions

minstall || { fail "make install: $(tail -5 "$T/install.log")"; exit 1; }
for f in "$sbindir/jaild" "$sbindir/jailctl"; do
	[ -x "$D$f" ] || fail "$f is not installed"
done
for f in "$conf/jaild.conf" "$mandir/man8/jaild.8" "$mandir/man8/jailctl.8" \
    "$mandir/man5/jaild.conf.5" "$compdir/jailctl" "$unitdir/jaild.service"; do
	[ -f "$D$f" ] || fail "$f is not installed"
done
for d in filters actions jails.d; do
	want=$(cd "$top_srcdir/$d" && ls -- *.conf | sort)
	got=$(cd "$D$conf/$d" 2>/dev/null && ls -- *.conf | sort)
	[ "$want" = "$got" ] || fail "$conf/$d differs from the source's $d"
done
[ "$(stat -c %a "$D$state" 2>/dev/null)" = 700 ] ||
	fail "state directory $state missing or not 0700"
grep -q "^ExecStart=$sbindir/jaild -f\$" "$D$unitdir/jaild.service" ||
	fail "the unit does not start $sbindir/jaild"
"$D$sbindir/jaild" -n -c "$D$conf" >/dev/null 2>&1 ||
	fail "the installed configuration does not pass jaild -n"

# make install lists what it put in the config directory, and the unit.
grep -qx "jaild: installed $D$conf/jaild.conf" "$T/install.log" ||
	fail "make install does not list jaild.conf: $(cat "$T/install.log")"
grep -qx "jaild: installed $D$conf/filters/sendmail-idle.conf" "$T/install.log" ||
	fail "make install does not list the filters"
grep -q "^jaild: installed $D$unitdir/jaild.service " "$T/install.log" ||
	grep -q "^jaild: installed $D$(mkvar sysconfdir)/rc.d/jaild " "$T/install.log" ||
	fail "make install does not name the unit: $(cat "$T/install.log")"

# Reinstall over an edited jail file: the edit is kept.
edited=$D$conf/jails.d/sendmail.conf
echo "# my edit" >>"$edited"
cp "$edited" "$T/edited.conf"
minstall || fail "second make install: $(tail -5 "$T/install.log")"
cmp -s "$edited" "$T/edited.conf" || fail "make install overwrote $edited"
cmp -s "$edited.dist" "$top_srcdir/jails.d/sendmail.conf" ||
	fail "the new sendmail.conf was not installed as .dist"
grep -q "keeping your edited" "$T/install.log" ||
	fail "make install did not say it kept the edited file"

# Uninstall leaves exactly the edit, a .local file and the database, and
# says so.
echo "[sendmail]" >"$D$conf/jails.d/sendmail.local"
: >"$D$state/jaild.db"
run=$(mkvar runstatedir)/jaild
mkdir -p "$D$run"
make -s --no-print-directory -C "$top_builddir" uninstall DESTDIR="$D" >"$T/uninstall.log" 2>&1 ||
	fail "make uninstall: $(tail -5 "$T/uninstall.log")"
left=$(cd "$D" && find . -type f | sort)
[ "$left" = ".$conf/jails.d/sendmail.conf
.$conf/jails.d/sendmail.local
.$state/jaild.db" ] || fail "make uninstall left: $left"
for f in "$conf/jails.d/sendmail.conf" "$conf/jails.d/sendmail.local"; do
	grep -q "^jaild: left behind: $D$f (yours)$" "$T/uninstall.log" ||
		fail "make uninstall does not say it left $f: $(cat "$T/uninstall.log")"
done
grep -q "^jaild: left behind: $D$state (the ban database" "$T/uninstall.log" ||
	fail "make uninstall does not say it left the database: $(cat "$T/uninstall.log")"
grep -q "^jaild: left behind: $D$run (the run directory" "$T/uninstall.log" ||
	fail "make uninstall does not name the run directory: $(cat "$T/uninstall.log")"

if [ "$FAILED" = 0 ]; then
	echo "PASS: $E2E_NAME"
	exit 0
fi
exit 1
