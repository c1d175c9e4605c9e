#!/usr/bin/python3
"""tests/integration/h2watch.py PORT CMD ARG...: runs CMD (an h2c client
such as h2load; "{port}" in an ARG becomes the relay's port) through a
relay to 127.0.0.1:PORT that reads the frames both ways (python3-h2's
hyperframe), to tell what the client really sent from what it only
counted: h2load counts a request whose HEADERS nghttp2 then held back,
after a GOAWAY came, as started and failed.

Prints CMD's output, then "key=value" lines:
  rc          CMD's exit status
  conns       connections relayed
  sent        request HEADERS the client sent
  answered    of those, the streams the server ended (END_STREAM)
  unanswered  sent, never ended by the server, at or below the final
              GOAWAY's last id (or on a connection without one)
  above_last  sent, above the final GOAWAY's last id
  resets      RST_STREAM from the server
  notices     GOAWAYs with last id 2^31-1; finals: the others
  one_step    connections whose final GOAWAY came without a notice
Exits 0 unless the relay itself failed (2). Bounded by TIMEOUT.
"""
import socket
import subprocess
import sys
import threading

from hyperframe.frame import (DataFrame, GoAwayFrame, HeadersFrame,
                              RstStreamFrame)

from h2frames import take_frame, NOTICE_ID, PREFACE

TIMEOUT = 120.0


class Watch:
    """One relayed connection and the frames seen on it."""

    def __init__(self):
        self.sent = set()
        self.ended = set()
        self.resets = 0
        self.notice = False
        self.last_id = None
        self.one_step = False
        self.notices = 0
        self.finals = 0

    def client_frame(self, f):
        if isinstance(f, HeadersFrame):
            self.sent.add(f.stream_id)

    def server_frame(self, f):
        if isinstance(f, (HeadersFrame, DataFrame)) and \
                'END_STREAM' in f.flags:
            self.ended.add(f.stream_id)
        elif isinstance(f, RstStreamFrame):
            self.resets += 1
        elif isinstance(f, GoAwayFrame):
            if f.last_stream_id == NOTICE_ID:
                self.notices += 1
                self.notice = True
            elif self.last_id is None:
                self.finals += 1
                self.one_step = not self.notice
                self.last_id = f.last_stream_id


def pump(src, dst, on_frame, skip):
    buf = bytearray()
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
            buf += data
            if skip:
                if len(buf) < len(PREFACE):
                    continue
                del buf[:len(PREFACE)]
                skip = False
            while True:
                f, buf = take_frame(buf)
                if f is None:
                    break
                on_frame(f)
    except OSError:
        pass
    for s in (dst, src):
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def serve(ls, port, watches, threads):
    while True:
        try:
            c, _ = ls.accept()
        except OSError:
            return
        c.settimeout(TIMEOUT)
        s = socket.create_connection(('127.0.0.1', port), timeout=TIMEOUT)
        w = Watch()
        watches.append(w)
        for args in ((c, s, w.client_frame, True),
                     (s, c, w.server_frame, False)):
            t = threading.Thread(target=pump, args=args, daemon=True)
            t.start()
            threads.append(t)


def main():
    port = int(sys.argv[1])
    ls = socket.socket()
    ls.bind(('127.0.0.1', 0))
    ls.listen(64)
    rport = ls.getsockname()[1]
    watches, threads = [], []
    threading.Thread(target=serve, args=(ls, port, watches, threads),
                     daemon=True).start()
    cmd = [a.replace('{port}', str(rport)) for a in sys.argv[2:]]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=TIMEOUT)
    for t in list(threads):
        t.join(5.0)
    ls.close()
    sys.stdout.write(p.stdout.decode(errors='replace'))
    r = dict(rc=p.returncode, conns=len(watches), sent=0, answered=0,
             unanswered=0, above_last=0, resets=0, notices=0, finals=0,
             one_step=0)
    for w in watches:
        last = w.last_id if w.last_id is not None else NOTICE_ID
        r['sent'] += len(w.sent)
        r['answered'] += len(w.sent & w.ended)
        r['unanswered'] += len([i for i in w.sent - w.ended if i <= last])
        r['above_last'] += len([i for i in w.sent if i > last])
        r['resets'] += w.resets
        r['notices'] += w.notices
        r['finals'] += w.finals
        r['one_step'] += w.one_step
    for k, v in r.items():
        print('%s=%s' % (k, v))


if __name__ == '__main__':
    try:
        main()
    except Exception as e:
        print('error=%s: %s' % (type(e).__name__, e))
        sys.exit(2)
