#!/bin/bash
# Per service, run jaild's shipped filter and fail2ban's own filter (with
# fail2ban-regex, fail2ban's own engine) over fail2ban's sample log, and
# fail if jaild catches fewer of the failures.  A failure is a line the
# sample annotates "match": true (so fail2ban's <F-NOFAIL> helper lines,
# which fail2ban-regex also counts as matched, count for neither side).
# Lines fail2ban catches and jaild does not are listed.  The lines in
# coverage.refused, which can be read as naming two different addresses,
# are left out of both counts.
# Then every annotated line of those samples is checked with jaild's
# filters (filter_runner --fail2ban, in the modes the sample names): a
# match with another address than fail2ban's annotation fails the test.
# Exit 0 pass, 1 fail, 77 skip (fail2ban missing).
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$here/../..}"
: "${top_builddir:=$here/../..}"
: "${F2B_FILTERS:=/etc/fail2ban/filter.d}"
: "${F2B_SAMPLES:=/usr/lib/python3/dist-packages/fail2ban/tests/files/logs}"
jailctl=$top_builddir/jailctl/jailctl
runner=$top_builddir/tests/filters/filter_runner
refused=$top_srcdir/tests/filters/coverage.refused

if ! command -v fail2ban-regex >/dev/null || [ ! -d "$F2B_SAMPLES" ]; then
	echo "SKIP: fail2ban-regex or its samples ($F2B_SAMPLES) not installed"
	exit 77
fi
if [ ! -x "$jailctl" ] || [ ! -x "$runner" ]; then
	echo "FAIL: $jailctl or $runner not built"
	exit 1
fi

# sample  jaild filter  fail2ban filter (same options unless given)
rows='sshd sshd sshd
sshd sshd[mode=ddos] sshd[mode=ddos]
sshd sshd[mode=aggressive] sshd[mode=aggressive]
dropbear dropbear dropbear
postfix postfix postfix[mode=more]
postfix postfix[mode=aggressive] postfix[mode=aggressive]
dovecot dovecot dovecot
dovecot dovecot[mode=aggressive] dovecot[mode=aggressive]
exim exim exim
exim exim[mode=aggressive] exim[mode=aggressive]
courier-auth courier-auth courier-auth
courier-smtp courier-smtp courier-smtp
cyrus-imap cyrus-imap cyrus-imap
sendmail-auth sendmail-auth sendmail-auth
sendmail-reject sendmail-reject sendmail-reject
sendmail-reject sendmail-reject[mode=aggressive] sendmail-reject[mode=aggressive]
nginx-http-auth nginx-http-auth nginx-http-auth
nginx-http-auth nginx-http-auth[mode=aggressive] nginx-http-auth[mode=aggressive]
nginx-limit-req nginx-limit-req nginx-limit-req
nginx-bad-request nginx-bad-request nginx-bad-request
nginx-botsearch nginx-botsearch nginx-botsearch
apache-auth apache-auth apache-auth
vsftpd vsftpd vsftpd
proftpd proftpd proftpd
pure-ftpd pure-ftpd pure-ftpd'

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
printf '%-18s %-34s %8s %8s %6s\n' sample filter fail2ban jaild true
while read -r sample ours theirs; do
	log=$F2B_SAMPLES/$sample
	awk '/^# failJSON:.*"match": *true/ { t = 1; next }
	    /^#/ || /^$/ { next } t { print; t = 0 }' "$log" | sort -u |
	    comm -23 - <(sed -n "s/^$sample\t//p" "$refused" | sort -u) \
	    >"$tmp/true"
	# fail2ban's matches: the "|  " lines after "Matched line(s):"
	fail2ban-regex --print-all-matched "$log" \
	    "$F2B_FILTERS/${theirs%%[*}.conf${theirs#"${theirs%%[*}"}" \
	    >"$tmp/f2b" 2>&1
	sed -n '/^|- Matched line(s):/,/^`-/p' "$tmp/f2b" |
	    sed -n 's/^|  //p' | sort -u | comm -12 - "$tmp/true" \
	    >"$tmp/f2b.lines"
	grep -q '^Lines: ' "$tmp/f2b" && nf=$(wc -l <"$tmp/f2b.lines") || nf=
	if ! "$jailctl" test -c "$top_srcdir" --print-matched "$ours" "$log" \
	    >"$tmp/jd" 2>"$tmp/jd.err"; then
		echo "FAIL: jailctl test $ours: $(cat "$tmp/jd.err")"
		fail=1
		continue
	fi
	sed -n '/^filter  /q;p' "$tmp/jd" | sort -u | comm -12 - "$tmp/true" \
	    >"$tmp/jd.lines"
	nj=$(wc -l <"$tmp/jd.lines")
	total=$(wc -l <"$tmp/true")
	printf '%-18s %-34s %8s %8s %6s\n' "$sample" "$ours" "${nf:-?}" \
	    "$nj" "$total"
	comm -23 "$tmp/f2b.lines" "$tmp/jd.lines" | sed 's/^/    only fail2ban: /'
	comm -13 "$tmp/f2b.lines" "$tmp/jd.lines" | sed 's/^/    only jaild: /'
	if [ -z "$nf" ] || [ "$nj" -lt "$nf" ]; then
		echo "FAIL: $ours matches $nj lines of $sample, fail2ban ${nf:-?}"
		fail=1
	fi
done <<<"$rows"

# Wrong addresses on fail2ban's own annotations
mkdir "$tmp/samples"
while read -r sample _; do
	cp "$F2B_SAMPLES/$sample" "$tmp/samples/"
done <<<"$rows"
TZ=Europe/Zurich "$runner" --fail2ban "$top_srcdir/filters" "$tmp/samples" \
    >"$tmp/runner" 2>&1
wrong=$(grep -c 'expected host' "$tmp/runner")
echo "fail2ban's annotations: $(grep -c '^ok' "$tmp/runner") agree," \
    "$(grep -c 'expected a match' "$tmp/runner") missed," \
    "$(grep -c 'expected no match' "$tmp/runner") more," \
    "$wrong with another address"
grep '^not ok' "$tmp/runner" | sed 's/^not ok [0-9]* - /  /'
if [ "$wrong" -ne 0 ]; then
	echo "FAIL: $wrong lines matched with another address"
	fail=1
fi
exit $fail
