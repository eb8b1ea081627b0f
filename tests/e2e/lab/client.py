#!/usr/bin/env python3
"""SMTP clients for the lab, each bounded in time; one JSON line on stdout.

  legit  --source A              one complete mail; exit 0 if accepted
  attack --source A... --conns N --hold S
         open N connections round-robin from the sources, say EHLO, idle
         (the incident's attacker) until S seconds pass or the server cuts
  busy   --source A --conns N --lines L --every S
         N concurrent honest deliveries, each sending its body slowly
"""
import argparse
import json
import selectors
import smtplib
import socket
import sys
import threading
import time


def legit(a):
    res = {"ok": False, "error": None}
    try:
        with smtplib.SMTP(a.target, 25, local_hostname="client.lab.example",
                          timeout=5, source_address=(a.source[0], 0)) as s:
            s.ehlo("client.lab.example")
            res["ok"] = not s.sendmail("alice@client.lab.example",
                                       ["root@mx.lab.example"],
                                       "Subject: legit\r\n\r\nhello\r\n")
    except Exception as e:  # noqa: BLE001 - report whatever broke
        res["error"] = "%s: %s" % (type(e).__name__, e)
    return res, 0 if res["ok"] else 1


def attack(a):
    st = {"attempted": 0, "connected": 0, "ehlo": 0, "refused": 0,
          "failed": 0, "cut": 0}
    sel = selectors.DefaultSelector()
    end = time.monotonic() + a.hold
    for i in range(a.conns):
        st["attempted"] += 1
        s = socket.socket()
        try:
            s.bind((a.source[i % len(a.source)], 0))
            s.settimeout(2)
            s.connect((a.target, 25))
            s.recv(512)
            s.sendall(b"EHLO x\r\n")
            s.recv(512)
        except ConnectionRefusedError:
            st["refused"] += 1
            s.close()
        except OSError:
            st["failed"] += 1
            s.close()
        else:
            st["connected"] += 1
            st["ehlo"] += 1
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
        time.sleep(a.interval)
    while sel.get_map() and time.monotonic() < end:
        for key, _ in sel.select(min(0.5, max(0.01, end - time.monotonic()))):
            try:
                data = key.fileobj.recv(512)
            except OSError:
                data = b""
            if not data:
                st["cut"] += 1
                sel.unregister(key.fileobj)
                key.fileobj.close()
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    return st, 0


def busy_one(a, out, i):
    try:
        with smtplib.SMTP(a.target, 25, local_hostname="busy.lab.example",
                          timeout=a.every * 4 + 10,
                          source_address=(a.source[0], 0)) as s:
            s.ehlo("busy.lab.example")
            for code, what in (s.mail("bob@client.lab.example"),
                               s.rcpt("root@mx.lab.example")):
                if code != 250:
                    raise RuntimeError("%d %s" % (code, what))
            code, _ = s.docmd("DATA")
            if code != 354:
                raise RuntimeError("DATA: %d" % code)
            s.send(b"Subject: slow %d\r\n\r\n" % i)
            for n in range(a.lines):
                time.sleep(a.every)
                s.send(b"line %d of a slow but honest message\r\n" % n)
            s.send(b".\r\n")
            code, _ = s.getreply()
            out[i] = code == 250
    except Exception as e:  # noqa: BLE001
        out[i] = "%s: %s" % (type(e).__name__, e)


def busy(a):
    out = [None] * a.conns
    ts = [threading.Thread(target=busy_one, args=(a, out, i))
          for i in range(a.conns)]
    for t in ts:
        t.start()
        time.sleep(0.1)
    for t in ts:
        t.join(a.lines * a.every + 30)
    ok = sum(1 for r in out if r is True)
    return {"ok": ok == a.conns, "delivered": ok, "results": out}, 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", required=True)
    ap.add_argument("mode", choices=["legit", "attack", "busy"])
    ap.add_argument("--source", action="append", required=True)
    ap.add_argument("--conns", type=int, default=40)
    ap.add_argument("--interval", type=float, default=0.05)
    ap.add_argument("--hold", type=float, default=60)
    ap.add_argument("--lines", type=int, default=10)
    ap.add_argument("--every", type=float, default=2)
    a = ap.parse_args()
    res, rc = {"legit": legit, "attack": attack, "busy": busy}[a.mode](a)
    print(json.dumps(res), flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
