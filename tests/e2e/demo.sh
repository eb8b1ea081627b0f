#!/bin/bash
# demo/incident.sh: says what to build when nothing is built; on success
# and on failure it leaves no jaild, no network namespace and no temp dir.
. "$(dirname "$0")/lib.sh"
e2e_setup
DEMO=$top_srcdir/demo/incident.sh
mkdir -p "$T/tmp"


demo_cleanup() {
	[ -n "$FAKEPID" ] && kill -KILL "$FAKEPID" 2>/dev/null
	e2e_cleanup
}
trap demo_cleanup EXIT

# Nothing built: the commands to run, and no temp dir.
out=$(TMPDIR=$T/tmp JAILD_BUILD=$T/empty sh "$DEMO" 2>&1) &&
	e2e_fail "demo succeeded with nothing built"
echo "$out" | grep -q 'autoreconf -fi && ./configure && make' ||
	e2e_fail "demo without a build: $out"
[ -z "$(ls "$T/tmp")" ] || e2e_fail "temp dir left: $(ls "$T/tmp")"

# A jaild that never answers: the demo gives up, kills it, cleans up.
mkdir -p "$T/fake/engine" "$T/fake/jailctl"
cat >"$T/fake/engine/jaild" <<EOS
#!/bin/sh
[ "\$1" = -V ] && { echo "jaild 0 (+nftables +sockdiag +systemd)"; exit 0; }
echo \$\$ >"$T/fake.pid"
exec sleep 300
EOS
printf '#!/bin/sh\nexit 1\n' >"$T/fake/jailctl/jailctl"
chmod +x "$T/fake/engine/jaild" "$T/fake/jailctl/jailctl"
TMPDIR=$T/tmp JAILD_BUILD=$T/fake timeout 60 sh "$DEMO" >"$T/fail.out" 2>&1 &
dpid=$!
wait $dpid && e2e_fail "demo succeeded with a jaild that never answers"
FAKEPID=$(cat "$T/fake.pid" 2>/dev/null)
[ -n "$FAKEPID" ] || e2e_fail "the fake jaild never ran: $(cat "$T/fail.out")"
[ -n "$FAKEPID" ] && kill -0 "$FAKEPID" 2>/dev/null &&
	e2e_fail "the demo left its jaild (pid $FAKEPID) running"
ip netns list 2>/dev/null | grep -q "^jaild-demo-$dpid\b" &&
	e2e_fail "the failed demo left netns jaild-demo-$dpid"
[ -z "$(ls "$T/tmp")" ] || e2e_fail "failed demo left $(ls "$T/tmp")"


# The real demo: the host is banned, and nothing is left behind.
TMPDIR=$T/tmp JAILD_BUILD=$top_builddir timeout 120 sh "$DEMO" >"$T/ok.out" 2>&1 &
dpid=$!
wait $dpid || e2e_fail "demo failed: $(tail -20 "$T/ok.out")"
grep -q '70.90.160.61' "$T/ok.out" || e2e_fail "no ban shown: $(tail -20 "$T/ok.out")"
pgrep -f "$T/tmp/jaild-demo" >/dev/null &&
	e2e_fail "the demo left jaild running: $(pgrep -af "$T/tmp/jaild-demo")"
ip netns list 2>/dev/null | grep -q "^jaild-demo-$dpid\b" &&
	e2e_fail "the demo left netns jaild-demo-$dpid"
[ -z "$(ls "$T/tmp")" ] || e2e_fail "the demo left $(ls "$T/tmp")"

e2e_done
