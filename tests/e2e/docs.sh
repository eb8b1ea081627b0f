#!/bin/bash
# The docs agree with the code and with themselves: each man page renders
# (mandoc) without nested quotes; every default jaild.conf(5) renders and
# every default in the README's key table is the one in conf_table.c; the
# README and jaild.conf(5) describe <matches> alike; jailctl(8) and the
# README name every jailctl command that jailctl help lists.
. "$(dirname "$0")/lib.sh"
command -v mandoc >/dev/null || e2e_skip "mandoc is not installed"
command -v python3 >/dev/null || e2e_skip "python3 is not installed"
e2e_setup

for page in jaild.8 jailctl.8 jaild.conf.5; do
	mandoc -Tascii "$top_srcdir/doc/$page" >"$T/$page.txt" 2>"$T/$page.err" ||
		e2e_fail "mandoc $page: $(cat "$T/$page.err")"
done

python3 - "$top_srcdir" "$T" <<'EOP' || e2e_fail "docs disagree (above)"
import re, sys
top, tmp = sys.argv[1], sys.argv[2]
sys.path.insert(0, top + "/doc")
gen = __import__("gen-keys")
bad = []

def text(page):
    # mandoc -Tascii overstrikes bold and underlined characters.
    t = re.sub(".\b", "", open("%s/%s.txt" % (tmp, page)).read())
    return re.sub(r"-\n\s+", "-", re.sub(r"[ \t]*\n[ \t]*", "\n", t))

# Nested quotes, as .Pq Ql a , Ql b renders: `a, `b''.
for page in ("jaild.8", "jailctl.8", "jaild.conf.5"):
    for line in text(page).split("\n"):
        if "''" in line or re.search(r"`[^'\n]*`", line):
            bad.append("%s renders nested quotes: %s" % (page, line.strip()))

# Every default of the table, as jaild.conf(5) renders it in the key's
# entry (from its tag line to the next line indented as little).
raw = re.sub(".\b", "", open(tmp + "/jaild.conf.5.txt").read()).split("\n")
conf5 = " ".join(" ".join(raw).split())
keys = list(gen.keys(top + "/engine/conf_table.c"))
for sc, name, typ, mn, mx, df, hl in keys:
    tag = "%s %s" % (name, gen.TYPES.get(typ, typ))
    starts = [i for i, l in enumerate(raw) if l.strip() == tag]
    if not starts:
        bad.append("jaild.conf(5) has no entry for %s" % name)
        continue
    i = starts[0]
    ind = len(raw[i]) - len(raw[i].lstrip())
    body = []
    for l in raw[i + 1:]:
        if l.strip() and len(l) - len(l.lstrip()) <= ind:
            break
        body.append(l.strip())
    body = " ".join(" ".join(body).split())
    want = ("No default." if df is None else "Default: empty." if df == ""
            else "Default: `%s'." % " ".join(df.split()))
    if want not in body:
        bad.append("jaild.conf(5) %s: want %r in %r" % (name, want, body))

# The README's jail key table: its default column against the table's.
# Words the README uses for a default it explains rather than quotes:
SAYS = {"%(__name__)s": "the jail's name", "0:65535": "any", "": "",
        None: "none"}
readme = open(top + "/README.md").read()
table = readme[readme.index("### Jail keys"):]
table = table[:table.index("\n\n", table.index("| ---"))]
dflt = {name: df for sc, name, typ, mn, mx, df, hl in keys if sc == "J"}
for row in table.split("\n")[3:]:
    cells = [c.strip() for c in row.strip("|").split("|")]
    for key in re.findall(r"`([^`]+)`", cells[0]):
        if key not in dflt:
            bad.append("README key table: %s is not a jail key" % key)
            continue
        said = cells[2].strip("`")
        want = SAYS.get(dflt[key], dflt[key])
        if dflt[key] is None and said in ("", "none"):
            continue
        if said != want and said != dflt[key]:
            bad.append("README: default of %s is %r, conf_table says %r"
                       % (key, said, dflt[key]))

# <matches>: one description, in the README and in jaild.conf(5).
m = re.search(r"\| `<matches>` \| ([^|]*) \|", readme)
words = lambda s: " ".join(re.sub(r"[`*]", "", s).split())
if not m or words(m.group(1)) not in conf5.replace("'", "").replace(
        "`", ""):
    bad.append("jaild.conf(5) does not describe <matches> as the README "
               "does: %r" % (m.group(1) if m else None))

for b in bad:
    print("FAIL: docs: " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOP

# Every jailctl command is in jailctl(8) and the README.
for cmd in $("$JAILCTL" help | sed -n 's/^  \([a-z][a-z]*\) .*/\1/p'); do
	grep -q "^\.It Cm $cmd\b" "$top_srcdir/doc/jailctl.8" ||
		e2e_fail "jailctl(8) does not document $cmd"
	grep -q "jailctl $cmd\b" "$top_srcdir/README.md" ||
		e2e_fail "the README does not mention jailctl $cmd"
done

e2e_done
