#!/bin/bash
# Run every shipped filter, in every mode it has, over hostile.corpus:
# fail if any reports an address the attacker wrote (198.18.0.0/15,
# 2001:db8:bad::/48), or if a filter matches no line at all (then the
# corpus does not exercise it).  Exit 0 pass, 1 fail.
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$here/../..}"
: "${top_builddir:=$here/../..}"
jailctl=$top_builddir/jailctl/jailctl
corpus=$top_srcdir/tests/filters/hostile.corpus
# filters that name no address (a saturation signal)
hostless='sendmail-saturation'

if [ ! -x "$jailctl" ]; then
	echo "FAIL: $jailctl not built"
	exit 1
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
fail=0
nfilters=0
for conf in "$top_srcdir"/filters/*.conf; do
	name=$(basename "$conf" .conf)
	# include files only: no failregex of their own
	grep -q '^failregex' "$conf" || continue
	nfilters=$((nfilters + 1))
	modes=$(sed -n 's/^mdre-\([a-z]*\) *=.*/\1/p' "$conf" | sort -u)
	total=0
	for mode in "" $modes; do
		spec=$name${mode:+[mode=$mode]}
		if ! "$jailctl" -j test -c "$top_srcdir" "$spec" "$corpus" \
		    >"$out" 2>&1; then
			echo "FAIL: $spec: $(head -1 "$out")"
			fail=1
			continue
		fi
		bad=$(grep -o '"addr": *"[^"]*"' "$out" |
		    grep -E '"(198\.1[89]\.|2001:db8:bad:)' | tr '\n' ' ')
		n=$(grep -o '"matched": *[0-9]*' "$out" | grep -o '[0-9]*$')
		total=$((total + n))
		printf '%-40s %3s matched\n' "$spec" "$n"
		if [ -n "$bad" ]; then
			echo "FAIL: $spec names the attacker's address: $bad"
			fail=1
		fi
	done
	if [ "$total" -eq 0 ] && [ "$name" != "$hostless" ]; then
		echo "FAIL: $name matches no line of the corpus"
		fail=1
	fi
done
echo "$nfilters filters checked"
exit $fail
