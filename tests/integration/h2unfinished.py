#!/usr/bin/python3
"""tests/integration/h2unfinished.py PROTO PORT N KIND: a client that
never finishes the streams portico refused. PROTO is "tls" (ALPN h2, SNI
a.test, no certificate check) or "h2c" (prior knowledge).

N streams are opened with HEADERS and no END_STREAM, each one refused at
once by portico (KIND "fields": 101 header fields, 431; KIND "target": a
target that climbs above the root, 400), and never ended. Then one more
stream, GET /echo. With http2_max_concurrent_streams N, that stream gets
a slot only if the refused streams gave theirs back (RFC 9113 §8.1:
RST_STREAM NO_ERROR after the complete response).

KIND "block": N is ignored; one HEADERS without END_HEADERS, then
silence: prints after (goaway:CODE, "closed" or "none") and secs (how
long until then). KIND "quiet": GET /slow?ms=N, then silence: prints
after (the :status, or "closed"/"goaway:CODE" if portico cut it).

Otherwise prints key=value lines for assert_kv(): refused (responses with the
refusal's status), rst_no_error (RST_STREAM NO_ERROR on those streams),
after (the last stream's :status, "rst:CODE", "goaway:CODE" or "none").
Exit 0 unless something unexpected stopped it (exit 2). Every wait is
bounded.
"""
import socket
import ssl
import struct
import sys
import time

import hpack

from h2frames import connect, frame, request_fields, take, ACK, DATA, \
    END_HEADERS, END_STREAM, GOAWAY, HEADERS, PREFACE, RST_STREAM, \
    SETTINGS, WINDOW_UPDATE

TIMEOUT = 10.0


class Reader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b''
        self.dec = hpack.Decoder()

    def frames(self, until):
        """Yields (type, flags, sid, payload) until UNTIL() or timeout."""
        end = time.time() + TIMEOUT
        while time.time() < end and not until():
            while True:
                f, self.buf = take(self.buf)
                if f is None:
                    break
                yield f
                if until():
                    return
            try:
                b = self.sock.recv(65536)
            except (socket.timeout, ConnectionError, ssl.SSLError):
                return
            if not b:
                return
            self.buf += b


def silent(s, enc, n, kind):
    """One request (or half of one), then nothing but ACKs."""
    block = enc.encode(request_fields('GET', '/slow?ms=%d' % n))
    r = Reader(s)
    acked = [False]
    # our SETTINGS ACK must not fall inside the open block (§6.10)
    for ftype, flags, sid, p in r.frames(lambda: acked[0]):
        if ftype == SETTINGS and not flags & ACK:
            s.sendall(frame(SETTINGS, ACK, 0))
            acked[0] = True
    if kind == 'block':
        s.sendall(frame(HEADERS, END_STREAM, 1, block[:3]))
    else:
        s.sendall(frame(HEADERS, END_HEADERS | END_STREAM, 1, block))
    st = {'after': 'none'}
    t0 = time.time()
    for ftype, flags, sid, p in r.frames(lambda: st['after'] != 'none'):
        if ftype == SETTINGS and not flags & ACK:
            s.sendall(frame(SETTINGS, ACK, 0))
        elif ftype == HEADERS and sid == 1:
            st['after'] = dict(r.dec.decode(p)).get(':status')
        elif ftype == GOAWAY:
            st['after'] = 'goaway:%d' % struct.unpack('>I', p[4:8])[0]
    if st['after'] == 'none' and time.time() - t0 < TIMEOUT - 0.5:
        st['after'] = 'closed'
    print('after=%s' % st['after'])
    print('secs=%d' % round(time.time() - t0))


def main():
    proto, port, n, kind = (sys.argv[1], int(sys.argv[2]),
                            int(sys.argv[3]), sys.argv[4])
    s = connect(proto, port, TIMEOUT)
    enc = hpack.Encoder()
    s.sendall(PREFACE + frame(SETTINGS, 0, 0))
    if kind in ('block', 'quiet'):
        silent(s, enc, n, kind)
        return
    base = [(':method', 'POST'), (':scheme', 'https'),
            (':authority', 'a.test')]
    if kind == 'fields':
        head = base + [(':path', '/echo')] + \
            [('x-f-%d' % i, 'v') for i in range(101)]
        want = '431'
    else:
        head = base + [(':path', '/a/../../b')]
        want = '400'
    for i in range(n):
        s.sendall(frame(HEADERS, END_HEADERS, 1 + 2 * i, enc.encode(head)))
    r = Reader(s)
    st = {'refused': 0, 'rst_no_error': 0, 'after': 'none'}
    last = 1 + 2 * n
    sent = [False]

    def until():
        return st['after'] != 'none'
    for ftype, flags, sid, p in r.frames(until):
        if ftype == SETTINGS and not flags & ACK:
            s.sendall(frame(SETTINGS, ACK, 0))
        elif ftype == HEADERS and sid < last:
            if dict(r.dec.decode(p)).get(':status') == want:
                st['refused'] += 1
        elif ftype == HEADERS:
            st['after'] = dict(r.dec.decode(p)).get(':status')
        elif ftype == RST_STREAM and sid < last:
            if struct.unpack('>I', p)[0] == 0:
                st['rst_no_error'] += 1
        elif ftype == RST_STREAM:
            st['after'] = 'rst:%d' % struct.unpack('>I', p)[0]
        elif ftype == GOAWAY:
            st['after'] = 'goaway:%d' % struct.unpack('>I', p[4:8])[0]
        elif ftype == DATA and p:
            s.sendall(frame(WINDOW_UPDATE, 0, 0, struct.pack('>I', len(p))))
        if not sent[0] and st['refused'] == n:
            # every refusal is in: the next stream, slot or not
            sent[0] = True
            time.sleep(0.2)
            get = base[1:] + [(':method', 'GET'), (':path', '/echo')]
            s.sendall(frame(HEADERS, END_HEADERS | END_STREAM, last,
                            enc.encode(get)))
    for k, v in st.items():
        print('%s=%s' % (k, v))


if __name__ == '__main__':
    main()
