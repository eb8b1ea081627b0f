#!/usr/bin/env python3
"""Drive bench/fleet.sh: append sendmail idle lines to node A's log and time
until each address shows up in the kernel sets of the nodes, as seen by
`nft monitor new elements` run inside each node's network namespace.

  fleet_driver.py latency LOG N NS...   one address at a time, 50 ms apart:
                                        p50/p99 ms, line -> first NS's set,
                                        first NS -> each other NS
  fleet_driver.py storm LOG N NS...     N addresses in one write: ms until
                                        all N are in each NS's set
"""
import os, re, select, subprocess, sys, time

ELEM = re.compile(r"add element inet \S+ \S+ \{ (.*) \}")


def addr(i, base):
    return "10.%d.%d.%d" % (base + (i >> 16), (i >> 8) & 255, i & 255)


def line(a, q):
    return ("%s mx sm-mta[1]: 6ARF%010d: [%s] did not issue MAIL/EXPN/VRFY/"
            "ETRN during connection to IPv4\n"
            % (time.strftime("%b %e %H:%M:%S"), q, a))


class Monitor:
    """Addresses added to any set in netns ns, with their arrival times."""

    def __init__(self, ns):
        self.p = subprocess.Popen(["ip", "netns", "exec", ns, "nft",
                                   "monitor", "new", "elements"],
                                  stdout=subprocess.PIPE, bufsize=0)
        self.buf = b""
        self.seen = {}

    def poll(self, timeout):
        r, _, _ = select.select([self.p.stdout], [], [], max(timeout, 0))
        if not r:
            return
        self.buf += os.read(self.p.stdout.fileno(), 1 << 20)
        now = time.time()
        *lines, self.buf = self.buf.split(b"\n")
        for ln in lines:
            m = ELEM.search(ln.decode())
            if m:
                for el in m.group(1).split(","):
                    self.seen.setdefault(el.split()[0], now)

    def close(self):
        self.p.kill()
        self.p.wait()


def poll_all(mons, timeout):
    r, _, _ = select.select([m.p.stdout for m in mons], [], [], timeout)
    for m in mons:
        if m.p.stdout in r:
            m.poll(0)


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p * (len(v) - 1) + 0.5))]


def latency(log, n, nss):
    mons = [Monitor(ns) for ns in nss]
    time.sleep(0.3)
    local, remote = [], [[] for _ in nss[1:]]
    with open(log, "a", buffering=1) as f:
        for i in range(n):
            a = addr(i, 40)
            t0 = time.time()
            f.write(line(a, i + 1))
            deadline = t0 + 10
            while time.time() < deadline and \
                    not all(a in m.seen for m in mons):
                poll_all(mons, 0.05)
            if not all(a in m.seen for m in mons):
                print("timeout on", a, file=sys.stderr)
                continue
            local.append((mons[0].seen[a] - t0) * 1e3)
            for k, m in enumerate(mons[1:]):
                remote[k].append((m.seen[a] - mons[0].seen[a]) * 1e3)
            time.sleep(0.05)
    for m in mons:
        m.close()
    out = "n=%d line->%s p50 %.1f p99 %.1f ms" % (
        len(local), nss[0], pct(local, .5), pct(local, .99))
    for k, ns in enumerate(nss[1:]):
        out += "; %s->%s p50 %.1f p99 %.1f max %.1f ms" % (
            nss[0], ns, pct(remote[k], .5), pct(remote[k], .99),
            max(remote[k]))
    print(out)


def storm(log, n, nss):
    mons = [Monitor(ns) for ns in nss]
    time.sleep(0.3)
    want = {addr(i, 40) for i in range(n)}
    text = "".join(line(a, i + 1) for i, a in enumerate(sorted(want)))
    with open(log, "a") as f:
        t0 = time.time()
        f.write(text)
    done = {}
    while len(done) < len(mons) and time.time() < t0 + 120:
        poll_all(mons, 0.2)
        for k, m in enumerate(mons):
            if k not in done and want <= m.seen.keys():
                done[k] = max(m.seen[a] for a in want)
    for m in mons:
        m.close()
    print("storm n=%d: " % n + ", ".join(
        "all in %s %.0f ms" % (ns, (done[k] - t0) * 1e3) if k in done
        else "%s missing %d" % (ns, len(want - mons[k].seen.keys()))
        for k, ns in enumerate(nss)))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "latency":
        latency(sys.argv[2], int(sys.argv[3]), sys.argv[4:])
    elif mode == "storm":
        storm(sys.argv[2], int(sys.argv[3]), sys.argv[4:])
