#!/usr/bin/python3
"""Hostile clients of jaild's control socket, for tests/e2e/hostile_client.sh.

usage: hostile_client.py shapes SOCK        crash shapes, one connection each
       hostile_client.py slowloris SOCK N SECS READY
                                            N partial-line connections held
                                            SECS seconds (READY is touched
                                            once they are open)
       hostile_client.py flood SOCK N       N clients pipelining requests
                                            they never read, and churn
Prints what it saw; exits 1 when jaild answered wrongly.
"""
import json
import os
import socket
import sys
import time

REQ = b'{"v":1,"id":1,"cmd":"status"}\n'

SHAPES = [
    b'{"v":1,"id":1,"ok":true,"result":1}',  # the crash of issue #13
    b'{"v":1,"id":1,"ok":false,"error":{"code":"x","msg":"y"}}',
    b'{"v":1,"id":1,"ok":true}',
    b'[1,2]', b'"status"', b'1', b'null', b'true', b'{}',
    b'{"v":1,"id":1}',
    b'{"v":1,"id":1,"cmd":5}',
    b'{"v":1,"id":1,"cmd":null}',
    b'{"v":1,"id":1,"cmd":["status"]}',
    b'{"v":1,"id":1,"cmd":{"a":1}}',
    b'{"v":1,"id":1,"cmd":"status","args":[1]}',
    b'{"v":1,"id":1,"cmd":"status","args":"x"}',
    b'{"v":1,"id":1,"cmd":"status","args":{"jail":5}}',
    b'{"v":1,"id":1,"cmd":"status","args":{"jail":null}}',
    b'{"v":1,"id":1,"cmd":"list","args":{"jail":{"x":[]}}}',
    b'{"v":1,"id":1,"cmd":"history","args":{"addr":7}}',
    b'{"v":1,"id":1,"cmd":"history","args":{"addr":"::ffff:1.2.3.4/200"}}',
    b'{"v":1,"id":1,"cmd":"ban","args":{"jail":[],"addr":{}}}',
    b'{"v":1,"id":1,"cmd":"ban","args":{"jail":"fast","addr":"1.2.3.4",'
    b'"duration":"0"}}',
    b'{"v":1,"id":1,"cmd":"ban","args":{"jail":"fast","addr":"1.2.3.4",'
    b'"duration":"99999999999999999999w"}}',
    b'{"v":1,"id":1,"cmd":"unban","args":{"all":"yes"}}',
    b'{"v":2,"id":1,"cmd":"status"}',
    b'{"v":"1","id":1,"cmd":"status"}',
    b'{"v":1,"id":"1","cmd":"status"}',
    b'{"v":1,"id":1e400,"cmd":"status"}',
    b'{"v":1,"id":99999999999999999999999,"cmd":"status"}',
    b'{"v":1,"v":1,"id":1,"cmd":"status"}',
    b'{"v":1,"id":1,"cmd":"sta\xfftus"}',  # invalid UTF-8
    b'{"v":1,"id":1,"cmd":"\xc0\x80"}',  # overlong UTF-8 NUL
    b'{"v":1,"id":1,"cmd":"a\\u0000b"}',
    b'{"v":1,"id":1,"cmd":"st\x00atus"}',
    b'\xff\xfe\xfd',
    b'{"v":1,"id":1,"cmd":"status"',  # unterminated
    b'[' * 5000 + b']' * 5000,  # deep nesting
    b'{"v":1,"id":1,"cmd":"' + b'x' * 60000 + b'"}',  # long, under the cap
]


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # A blocking connect waits for room in the backlog (no EAGAIN).
    s.connect(path)
    s.settimeout(10)
    return s


def read_line(s):
    buf = b''
    while not buf.endswith(b'\n'):
        try:
            got = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not got:
            break
        buf += got
    return buf


def shapes(path):
    bad = 0
    for shape in SHAPES:
        s = connect(path)
        s.sendall(shape + b'\n')
        line = read_line(s)
        s.close()
        try:
            r = json.loads(line)
            ok = r.get('ok') is False and isinstance(r['error']['code'], str)
        except (ValueError, KeyError, TypeError, AttributeError):
            ok = False
        if not ok:
            print('shape %r: bad reply %r' % (shape[:60], line[:200]))
            bad += 1
    # Over the 64 KiB cap: an error, then the server closes.
    s = connect(path)
    try:
        s.sendall(b'{"v":1,"id":1,"cmd":"' + b'y' * 70000 + b'"}\n')
    except (BrokenPipeError, ConnectionResetError):
        pass
    line = read_line(s)
    s.close()
    if b'"too-long"' not in line:
        print('huge line: got %r' % line[:200])
        bad += 1
    print('shapes: %d sent, %d bad' % (len(SHAPES) + 1, bad))
    return 1 if bad else 0


def slowloris(path, n, secs, ready):
    conns, refused = [], 0
    for _ in range(n):
        try:
            s = connect(path)
            s.sendall(b'{"v":1,"id":1,')
            conns.append(s)
        except OSError:
            refused += 1
    time.sleep(1)
    # The server closes what it refuses at once: EOF now means refused.
    open_now = []
    for s in conns:
        s.setblocking(False)
        try:
            got = s.recv(100)
            refused += 1 if got == b'' else 0
            if got != b'':
                open_now.append(s)
        except BlockingIOError:
            open_now.append(s)
        except OSError:
            refused += 1
    with open(ready, 'w') as f:
        f.write('%d\n' % len(open_now))
    deadline = time.time() + secs
    dropped = 0
    for s in open_now:
        s.settimeout(max(0.1, deadline - time.time()))
        try:
            if s.recv(100) == b'':
                dropped += 1
        except socket.timeout:
            pass
        except OSError:
            dropped += 1
    print('slowloris: %d opened, %d refused, %d held, %d dropped by '
          'timeout' % (n, refused, len(open_now), dropped))
    return 0


def flood(path, n):
    conns = []
    for _ in range(n):
        s = connect(path)
        s.setblocking(False)
        conns.append(s)
    sent = 0
    # Pipeline requests and never read a reply: jaild must drop us.
    for _ in range(200):
        for s in list(conns):
            try:
                sent += s.send(REQ * 50)
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                conns.remove(s)
        if not conns:
            break
        time.sleep(0.01)
    # Connection churn: connect, send half a line, hang up.
    churn = 0
    for _ in range(300):
        try:
            s = connect(path)
            s.sendall(b'{"v":1')
            s.close()
            churn += 1
        except OSError:
            pass
    print('flood: %d bytes of requests unread, %d of %d clients dropped, '
          '%d churned' % (sent, n - len(conns), n, churn))
    for s in conns:
        s.close()
    return 0


def main():
    mode, path = sys.argv[1], sys.argv[2]
    if mode == 'shapes':
        return shapes(path)
    if mode == 'slowloris':
        return slowloris(path, int(sys.argv[3]), float(sys.argv[4]),
                         sys.argv[5])
    if mode == 'flood':
        return flood(path, int(sys.argv[3]))
    return 2


if __name__ == '__main__':
    sys.exit(main())
