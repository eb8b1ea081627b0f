#!/usr/bin/env python3
"""Write the key lists of jaild.conf.5 from engine/conf_table.c.

The man page documents every key of the table; this script rewrites the
regions between '.\\" BEGIN KEYS <scope>' and '.\\" END KEYS <scope>' so the
two cannot drift.  With --check it only reports whether the page is up to
date (exit 1 if not): tests/e2e/ops.sh runs that.

usage: doc/gen-keys.py [--check] [top_srcdir]
"""
import re
import sys

SCOPES = {"D": "jaild", "L": "fleet", "J": "jail", "F": "filter", "A": "action"}
TYPES = {
    "STRING": "string", "INT": "integer", "BOOL": "boolean",
    "DURATION": "duration", "REGEX_LIST": "regex list",
    "NAME_REF": "name[params]", "NAME_LIST": "name[params] list",
    "ADDR_LIST": "address list", "LIST": "list",
}
BOUNDS = {"100 * YEAR": "100 years", "YEAR": "1 year", "DAY": "1 day",
          "1 << 30": "1073741824"}


def keys(table_c):
    """Yield (scope, name, type, min, max, default, help) from the table."""
    s = open(table_c).read()
    t = s[s.index("conf_table[] = {"):s.index("const size_t conf_table_n")]
    string = r'"(?:[^"\\]|\\.)*"'
    pat = (r'\{"([^"]+)",\s*CONF_TABLE_(\w+),\s*(\w),\s*([^,]+),\s*'
           r'([^,]+),\s*(NULL|' + string + r'),\s*((?:' + string +
           r'\s*)+)\}')
    n = 0
    for m in re.finditer(pat, t):
        name, typ, sc, mn, mx, df, hl = m.groups()
        hl = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', hl))
        df = None if df == "NULL" else df[1:-1]
        n += 1
        yield sc, name, typ, mn.strip(), mx.strip(), df, hl
    if n != t.count('{"'):
        sys.exit("gen-keys: could not parse every entry of " + table_c)


def roff(text):
    """Escape text for an mdoc text line."""
    text = text.replace("\\\"", "\"").replace("\\", "\\e")
    return "\\&" + text if text[:1] in ".'" else text


def entry(name, typ, mn, mx, df, hl):
    out = [".It Cm %s Ar %s" % (name, TYPES.get(typ, typ).replace(" ", "\\ ")),
           roff(hl)]
    if typ in ("INT", "DURATION") and (mn != "0" or mx != "0"):
        out.append("From %s to %s." % (BOUNDS.get(mn, mn), BOUNDS.get(mx, mx)))
    if df is None:
        out.append("No default.")
    elif df == "":
        out.append("Default: empty.")
    else:
        out.append("Default:")
        out.append(".Ql %s ." % roff(df).replace(" ", "\\ "))
    return out


def render(all_keys, scope):
    out = [".Bl -tag -width Ds"]
    for sc, name, typ, mn, mx, df, hl in all_keys:
        if SCOPES[sc] == scope:
            out += entry(name, typ, mn, mx, df, hl)
    out.append(".El")
    return out


def main(argv):
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    top = args[0] if args else "."
    page = top + "/doc/jaild.conf.5"
    all_keys = list(keys(top + "/engine/conf_table.c"))
    lines = open(page).read().split("\n")
    new = []
    i = 0
    while i < len(lines):
        new.append(lines[i])
        m = re.match(r'\.\\" BEGIN KEYS (\w+)$', lines[i])
        if m:
            new += render(all_keys, m.group(1))
            while not lines[i].startswith('.\\" END KEYS'):
                i += 1
            new.append(lines[i])
        i += 1
    text = "\n".join(new)
    if check:
        if text != "\n".join(lines):
            print("doc/jaild.conf.5 is out of date with engine/conf_table.c:"
                  " run doc/gen-keys.py", file=sys.stderr)
            return 1
        return 0
    open(page, "w").write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
