#!/usr/bin/python3
"""tests/integration/h2noack.py PORT: a hostile h2c client for
test_graceful.c. It opens --first streams at once (enough to reach
keepalive_requests), then never answers the GOAWAY notice's PING and
keeps opening a stream every 50 ms until the final GOAWAY comes (at most
--max streams), and reads until the server closes. Frames by hand
(python3-h2's hyperframe and hpack), default windows: it credits every
DATA byte it reads.

Prints "key=value" lines:
  notice      1 if a GOAWAY with last id 2^31-1 came
  final_ms    ms from the notice to the final GOAWAY (-1: none)
  last_id     the final GOAWAY's last stream id
  opened      streams the client opened
  answered    of those at or below last_id, ended by the server
  unanswered  at or below last_id, never ended (must be 0)
  above       opened above last_id
  resets      RST_STREAM from the server
  closed      1 if the server closed the connection in time
Bounded by TIMEOUT seconds in all."""
import socket
import sys
import time

from hpack import Encoder
from hyperframe.frame import (DataFrame, GoAwayFrame, HeadersFrame,
                              PingFrame, RstStreamFrame, SettingsFrame,
                              WindowUpdateFrame)

from h2frames import request_fields, take_frame, NOTICE_ID, PREFACE

TIMEOUT = 20.0


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(('127.0.0.1', port), timeout=2)
        self.s.settimeout(0.02)
        self.enc = Encoder()
        self.buf = b''
        self.closed = False
        self.s.sendall(PREFACE + SettingsFrame(0).serialize())

    def send(self, f):
        try:
            self.s.sendall(f.serialize())
        except OSError:
            self.closed = True

    def get(self, sid, path):
        f = HeadersFrame(sid)
        f.data = self.enc.encode(request_fields('GET', path, authority='x',
                                                scheme='http'))
        f.flags.add('END_HEADERS')
        f.flags.add('END_STREAM')
        self.send(f)

    def frames(self):
        """The whole frames read now; credits DATA, ACKs SETTINGS only."""
        out = []
        try:
            d = self.s.recv(65536)
            if not d:
                self.closed = True
            self.buf += d
        except socket.timeout:
            pass
        except OSError:
            self.closed = True
        while True:
            f, self.buf = take_frame(self.buf)
            if f is None:
                break
            if isinstance(f, SettingsFrame) and 'ACK' not in f.flags:
                a = SettingsFrame(0)
                a.flags.add('ACK')
                self.send(a)
            if isinstance(f, DataFrame) and f.flow_controlled_length > 0:
                for sid in (0, f.stream_id):
                    w = WindowUpdateFrame(sid)
                    w.window_increment = f.flow_controlled_length
                    self.send(w)
            out.append(f)
        return out


def main(argv):
    port = int(argv[1])
    first, most = 5, 60
    c = Conn(port)
    start = time.monotonic()
    sid, opened, ended, resets = 1, [], set(), 0
    notice_at, final_ms, last_id, next_at = None, -1, None, 0.0
    for _ in range(first):
        c.get(sid, '/slow?ms=200')
        opened.append(sid)
        sid += 2
    while not c.closed and time.monotonic() - start < TIMEOUT:
        for f in c.frames():
            if isinstance(f, GoAwayFrame) and f.last_stream_id == NOTICE_ID:
                notice_at = notice_at or time.monotonic()
            elif isinstance(f, GoAwayFrame) and last_id is None:
                last_id = f.last_stream_id
                if notice_at is not None:
                    final_ms = int((time.monotonic() - notice_at) * 1000)
            elif isinstance(f, (HeadersFrame, DataFrame)) and \
                    'END_STREAM' in f.flags:
                ended.add(f.stream_id)
            elif isinstance(f, RstStreamFrame):
                resets += 1
            elif isinstance(f, PingFrame):
                pass            # never ACKed: the point of this client
        now = time.monotonic()
        if notice_at is not None and last_id is None and \
                len(opened) < most and now >= next_at:
            c.get(sid, '/bytes/10')
            opened.append(sid)
            sid += 2
            next_at = now + 0.05
    below = [s for s in opened if last_id is not None and s <= last_id]
    print('notice=%d' % (notice_at is not None))
    print('final_ms=%d' % final_ms)
    print('last_id=%d' % (last_id if last_id is not None else -1))
    print('opened=%d' % len(opened))
    print('answered=%d' % len([s for s in below if s in ended]))
    print('unanswered=%d' % len([s for s in below if s not in ended]))
    print('above=%d' % (len(opened) - len(below)))
    print('resets=%d' % resets)
    print('closed=%d' % c.closed)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
