#!/usr/bin/env python3
"""Drive bench/nft_latency.sh and nft_storm.sh: append sendmail idle lines to
a log and time until each address shows up in the kernel set, as seen by
`nft monitor new elements` (runs inside the caller's network namespace).

  nft_driver.py latency LOG N          one address at a time, 50 ms apart;
                                       p50/p99 in ms
  nft_driver.py storm LOG N R          N addresses x R lines within 1 s;
                                       ms until all N are in the kernel
  nft_driver.py peer LOG R             the peer: follow LOG (10 ms polls),
                                       one `nft add element` process per
                                       ban, as fail2ban's nftables action
"""
import os, re, select, subprocess, sys, time

ELEM = re.compile(r"add element inet \S+ \S+ \{ (.*) \}")


def addr(i):
    return "10.%d.%d.%d" % (64 + (i >> 16), (i >> 8) & 255, i & 255)


def line(a, q):
    return ("%s mx sm-mta[1]: 6ARN%010d: [%s] did not issue MAIL/EXPN/VRFY/"
            "ETRN during connection to IPv4\n"
            % (time.strftime("%b %e %H:%M:%S"), q, a))


class Monitor:
    """Addresses added to any set, as nft monitor reports them."""

    def __init__(self):
        self.p = subprocess.Popen(["nft", "monitor", "new", "elements"],
                                  stdout=subprocess.PIPE, bufsize=0)
        self.buf = b""
        time.sleep(0.3)

    def read(self, timeout):
        """Wait up to timeout s; return {addr: arrival time} seen."""
        seen = {}
        r, _, _ = select.select([self.p.stdout], [], [], timeout)
        if not r:
            return seen
        self.buf += os.read(self.p.stdout.fileno(), 1 << 20)
        now = time.monotonic()
        *lines, self.buf = self.buf.split(b"\n")
        for ln in lines:
            m = ELEM.search(ln.decode())
            if m:
                for el in m.group(1).split(","):
                    seen[el.split()[0]] = now
        return seen

    def close(self):
        self.p.kill()
        self.p.wait()


def latency(log, n):
    mon, lat, q = Monitor(), [], 0
    with open(log, "a", buffering=1) as f:
        for i in range(n):
            a = addr(i)
            q += 1
            t0 = time.monotonic()
            f.write(line(a, q))
            deadline = t0 + 5
            while time.monotonic() < deadline:
                seen = mon.read(deadline - time.monotonic())
                if a in seen:
                    lat.append((seen[a] - t0) * 1e3)
                    break
            else:
                print("timeout on", a, file=sys.stderr)
            # Let the ban's aftermath (eviction) end: bans are not
            # back-to-back here, the storm bench does that.
            time.sleep(0.05)
    mon.close()
    lat.sort()
    print("latency n=%d p50 %.2f ms p99 %.2f ms max %.2f ms" % (
        len(lat), lat[len(lat) // 2], lat[int(0.99 * (len(lat) - 1) + 0.5)],
        lat[-1]))


def storm(log, n, r):
    mon, pending, q = Monitor(), {addr(i) for i in range(n)}, 0
    chunks = 20
    with open(log, "a") as f:
        t0 = time.monotonic()
        for c in range(chunks):
            out = []
            for k in range(r):
                for i in range(c * n // chunks, (c + 1) * n // chunks):
                    q += 1
                    out.append(line(addr(i), q))
            f.write("".join(out))
            f.flush()
            pending -= mon.read(0).keys()
            time.sleep(max(0, t0 + (c + 1) / chunks - time.monotonic()))
    t1 = time.monotonic()
    last = t1
    while pending and time.monotonic() < t1 + 600:
        seen = mon.read(1.0)
        if seen:
            last = max(seen.values())
        pending -= seen.keys()
    mon.close()
    print("storm n=%d lines=%d written in %.0f ms; all banned %.0f ms after "
          "the first line (%d missing)" % (n, n * r, (t1 - t0) * 1e3,
                                            (last - t0) * 1e3, len(pending)))


def peer(log, r):
    count, pos, rest = {}, 0, ""
    pat = re.compile(r"\[([0-9.]+)\] did not issue")
    while True:
        with open(log) as f:
            f.seek(pos)
            data = f.read()
            pos = f.tell()
        if not data:
            time.sleep(0.01)
            continue
        data, rest = rest + data, ""
        *lines, rest = data.split("\n")
        for ln in lines:
            m = pat.search(ln)
            if not m:
                continue
            a = m.group(1)
            count[a] = count.get(a, 0) + 1
            if count[a] == r:
                subprocess.run(["nft", "add", "element", "inet", "f2b",
                                "addr-set-mail", "{ %s timeout 600s }" % a],
                               check=False)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "latency":
        latency(sys.argv[2], int(sys.argv[3]))
    elif mode == "storm":
        storm(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        peer(sys.argv[2], int(sys.argv[3]))
