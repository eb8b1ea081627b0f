#!/usr/bin/env python3
"""The lab's syslog: read syslog(3) datagrams on a unix socket and append
the mail facility's messages to a file in the classic BSD format
("Nov 27 23:42:46 mx sm-mta[123]: ...").  Runs until SIGTERM."""
import datetime
import os
import re
import signal
import socket
import sys

MSG = re.compile(rb"^<(\d{1,3})>(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d )?(.*)$",
                 re.S)


def main():
    path, out_path = sys.argv[1], sys.argv[2]
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    os.chmod(path, 0o666)
    s.settimeout(0.5)
    out = open(out_path, "a", buffering=1)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    while not stop:
        try:
            data = s.recv(65536)
        except (socket.timeout, InterruptedError):
            continue
        m = MSG.match(data)
        if not m or (int(m.group(1)) >> 3) != 2:  # LOG_MAIL
            continue
        msg = m.group(2).rstrip(b"\n\x00").decode("utf-8", "replace")
        now = datetime.datetime.now()
        out.write("%s %2d %s mx %s\n" % (now.strftime("%b"), now.day,
                                        now.strftime("%H:%M:%S"), msg))
    os.unlink(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
