#!/usr/bin/env python3
"""The figures of one botnet run, from botnet.py's output and the bans.

  botnet_report.py RUN.json BANS.json ATTACKERS_FILE

BANS.json is `jailctl -j list JAIL`.  Prints one JSON object:
  recovery_ms  first honest mail accepted after the first refused one,
               counted from the first "rejecting connections" line (or
               from the attack's start if that line was not seen); null
               if honest mail was never accepted again
  attempts, refused, share
               honest attempts (both clients) that began at or after the
               first recovery, and how many of them failed
  banned60, attackers
               attacking hosts covered by a ban (host or prefix) that
               began within 60 s of the attack's start
  prefix_bans, host_bans
               the bans of the attackers' address family
  saturated    whether honest mail was refused at all
"""
import ipaddress
import json
import sys


def main():
    run = json.load(open(sys.argv[1]))
    bans = json.load(open(sys.argv[2]))["bans"]
    attackers = open(sys.argv[3]).read().split()
    start = run["attack_start"]
    t0 = run["first_reject"] or start
    tries = [a for a in run["attempts"] if a["t"] >= start]
    fast = [a for a in tries if a["kind"] == "honest"]
    first_bad = next((a for a in fast if not a["ok"]), None)
    recovery = None
    if first_bad is None:
        since = start  # never refused: every attempt counts
    else:
        good = next((a for a in fast
                     if a["ok"] and a["t"] > first_bad["t"]), None)
        since = good["t"] if good else None
        if good:
            recovery = good["end"] - t0
    after = [a for a in tries if since is not None and a["t"] >= since]
    refused = sum(1 for a in after if not a["ok"])
    fam = ipaddress.ip_address(attackers[0]).version
    nets = [(ipaddress.ip_network(b["addr"], strict=False), b["since"])
            for b in bans]
    nets = [(n, t) for n, t in nets if n.version == fam]  # this scenario
    limit = start / 1000.0 + 60
    banned = 0
    for h in attackers:
        ip = ipaddress.ip_address(h)
        if any(ip in n and since_s <= limit
               for n, since_s in nets):
            banned += 1
    print(json.dumps({
        "recovery_ms": recovery,
        "saturated": first_bad is not None,
        "attempts": len(after),
        "refused": refused,
        "share": (refused / len(after)) if after else None,
        "banned60": banned,
        "attackers": len(attackers),
        "prefix_bans": sum(1 for n, _ in nets
                           if n.prefixlen < n.max_prefixlen),
        "host_bans": sum(1 for n, _ in nets
                         if n.prefixlen == n.max_prefixlen),
        "held": run["attack"].get("held", 0),
        "errors": sorted({a["error"] for a in after if a["error"]})[:5],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
