#!/usr/bin/python3
"""tests/integration/h2hostile.py MODE PROTO PORT [ARG...]: a raw-frame
HTTP/2 client for test_hostile_h2.c: HPACK bombs, oversized header lists
and trailers, forbidden trailer fields. PROTO is "tls" (ALPN h2, SNI
a.test, no certificate check) or "h2c" (prior knowledge).

Frames are built by hand (hpack for the blocks), so nothing checks or
trims what is sent. Windows stay at the default 65,535 and are credited
as DATA is read. Prints "key=value" lines for assert_kv(); a stream's
outcome is its :status, "rst:CODE", "goaway:CODE" or "none". Exit 0
unless something unexpected stopped it (exit 2). Every wait is bounded.

Modes:
  bomb PROTO PORT REFS     stream 1: one 4,000-byte literal put in the
                           dynamic table, then REFS references to it
                           (HEADERS + CONTINUATION of 16 KiB); then GET
                           /echo?after=1 on the same connection ("after"
                           and the origin's "after_conn")
  flood PROTO PORT N REFS  up to N bomb streams, one after another, until
                           GOAWAY: how many got 431
  fields PROTO PORT N      GET /echo with N fields x-f-I
  cookies PROTO PORT N     GET /echo with N cookie crumbs c-I=v
  trailers PROTO PORT F... POST /echo: "hello", then trailers F
                           ("name:value"; a leading ':' is a pseudo-header)
  bigtrailer PROTO PORT N  POST /echo: "hello", then N bytes of trailer
                           fields of 8,000 bytes each; then GET
                           /echo?after=1
  get PROTO PORT PATH      GET PATH with te: trailers: status, body,
                           trailers
"""
import json
import socket
import ssl
import struct
import sys
import time

import hpack

from h2frames import connect, frame, out, request_fields, take, unpad, \
    DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, \
    CONTINUATION, PREFACE, END_STREAM, END_HEADERS

TIMEOUT = 30.0
FRAME = 16384


class Stream:
    def __init__(self):
        self.status = None
        self.headers = []
        self.trailers = []
        self.body = b''
        self.rst = None
        self.ended = False


class Conn:
    def __init__(self, proto, port):
        self.proto = proto
        self.sock = connect(proto, port, TIMEOUT)
        self.enc = hpack.Encoder()
        self.dec = hpack.Decoder()
        self.dec.max_header_list_size = 1 << 24
        self.settings = {}
        self.streams = {}
        self.goaway = None
        self.closed = False
        self.buf = b''
        self.block = None       # (sid, flags, bytes) of a header block
        self.next_id = 1
        self.sock.sendall(PREFACE + frame(SETTINGS, 0, 0))

    def send(self, data):
        try:
            self.sock.sendall(data)
        except (ConnectionError, ssl.SSLError, socket.timeout):
            self.closed = True

    def new_stream(self):
        sid = self.next_id
        self.next_id += 2
        self.streams[sid] = Stream()
        return sid

    def headers_frames(self, sid, block, end_stream):
        """HEADERS then CONTINUATION frames of FRAME bytes at most."""
        parts = [block[i:i + FRAME] for i in range(0, len(block), FRAME)]
        parts = parts or [b'']
        frames = []
        for i, p in enumerate(parts):
            flags = END_HEADERS if i == len(parts) - 1 else 0
            if i == 0:
                flags |= END_STREAM if end_stream else 0
            frames.append(frame(HEADERS if i == 0 else CONTINUATION, flags,
                                     sid, p))
        return b''.join(frames)

    def request(self, method, path, extra=(), end=True):
        sid = self.new_stream()
        block = self.enc.encode(request_fields(method, path, extra))
        self.send(self.headers_frames(sid, block, end))
        return sid

    def data(self, sid, payload, end):
        self.send(frame(DATA, END_STREAM if end else 0, sid, payload))

    def on_frame(self, ftype, flags, sid, payload):
        if ftype == SETTINGS and not flags & 1:
            for i in range(0, len(payload) - 5, 6):
                k, v = struct.unpack('>HI', payload[i:i + 6])
                self.settings[k] = v
            self.send(frame(SETTINGS, 1, 0, b''))
        elif ftype == PING and not flags & 1:
            self.send(frame(PING, 1, 0, payload))
        elif ftype == GOAWAY:
            self.goaway = struct.unpack('>II', payload[:8])[1]
        elif ftype == RST_STREAM and sid in self.streams:
            code = struct.unpack('>I', payload[:4])[0]
            # RFC 9113 §8.1: NO_ERROR after a complete response only
            # asks us to stop sending; the response stands
            if not (code == 0 and self.streams[sid].ended):
                self.streams[sid].rst = code
            self.streams[sid].ended = True
        elif ftype == DATA:
            self.on_data(flags, sid, payload)
        elif ftype in (HEADERS, CONTINUATION):
            self.on_block(ftype, flags, sid, payload)

    def on_data(self, flags, sid, payload):
        payload = unpad(flags, payload)
        st = self.streams.get(sid)
        if st is not None:
            st.body += payload
            st.ended = st.ended or bool(flags & END_STREAM)
        n = len(payload)
        if n > 0:
            inc = struct.pack('>I', n)
            self.send(frame(WINDOW_UPDATE, 0, 0, inc) +
                      frame(WINDOW_UPDATE, 0, sid, inc))

    def on_block(self, ftype, flags, sid, payload):
        if ftype == HEADERS:
            self.block = (sid, flags, unpad(flags, payload, HEADERS))
        else:
            self.block = (sid, self.block[1], self.block[2] + payload)
        if not flags & END_HEADERS:
            return
        sid, first, block = self.block
        self.block = None
        fields = [(k.decode() if isinstance(k, bytes) else k,
                   v.decode() if isinstance(v, bytes) else v)
                  for k, v in self.dec.decode(block)]
        st = self.streams.get(sid)
        if st is None:
            return
        status = dict(fields).get(':status')
        if st.status is None and status is not None:
            if not status.startswith('1'):
                st.status = status
                st.headers = fields
        else:
            st.trailers = fields
        st.ended = st.ended or bool(first & END_STREAM)

    def pump(self, deadline):
        """Reads once; False once the connection is gone or time is up."""
        left = deadline - time.monotonic()
        if left <= 0 or self.closed:
            return False
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(1 << 16)
        except socket.timeout:
            return False
        except (ConnectionError, ssl.SSLError, OSError):
            data = b''
        if not data:
            self.closed = True
            return False
        self.buf += data
        while True:
            f, self.buf = take(self.buf)
            if f is None:
                return True
            self.on_frame(*f)

    def wait(self, sids, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while not all(self.streams[s].ended for s in sids):
            if not self.pump(deadline):
                break

    def outcome(self, sid):
        st = self.streams[sid]
        if st.rst is not None:
            return 'rst:%d' % st.rst
        if st.status is not None and st.ended:
            return st.status
        if self.goaway is not None:
            return 'goaway:%d' % self.goaway
        return 'none'

    def after(self):
        """A normal request on the same connection, if it is still up."""
        if self.closed or self.goaway is not None:
            out(after='closed' if self.goaway is None else
                'goaway:%d' % self.goaway)
            return
        sid = self.request('GET', '/echo?after=1')
        self.wait([sid])
        try:
            conn = json.loads(self.streams[sid].body)['connection']
        except (ValueError, KeyError):
            conn = 'none'
        out(after=self.outcome(sid), after_conn=conn)

    def report(self):
        out(max_header_list_size=self.settings.get(6, 'none'),
            goaway='none' if self.goaway is None else self.goaway)


def bomb_block(c, refs):
    """Pseudo-headers, one literal indexed into the dynamic table (4,038
    bytes of it with the 32 of RFC 7541 §4.1), then REFS one-byte
    references to it: decoded, about 4 KB each."""
    big = ('x-bomb', 'A' * 4000)
    block = c.enc.encode(request_fields('GET', '/echo?bomb=1'))
    block += c.enc.encode([big], huffman=False)
    ref = c.enc.encode([big])
    return block + ref * refs


def mode_bomb(c, refs):
    sid = c.new_stream()
    c.send(c.headers_frames(sid, bomb_block(c, refs), True))
    c.wait([sid])
    out(bomb=c.outcome(sid))
    c.after()
    c.report()


def mode_flood(c, n, refs):
    sids = []
    for _ in range(n):
        if c.closed or c.goaway is not None:
            break
        sid = c.new_stream()
        c.send(c.headers_frames(sid, bomb_block(c, refs), True))
        sids.append(sid)
        c.wait([sid])
    got = [c.outcome(s) for s in sids]
    out(n431=got.count('431'), sent=len(sids))
    c.report()


def mode_fields(c, n, is_cookie):
    if is_cookie:
        extra = [('cookie', 'c-%d=v' % i) for i in range(n)]
    else:
        extra = [('x-f-%d' % i, 'v') for i in range(n)]
    sid = c.request('GET', '/echo?fields=%d' % n, extra)
    c.wait([sid])
    out(status=c.outcome(sid))
    c.after()
    c.report()


def parse_fields(specs):
    fields = []
    for s in specs:
        i = s.index(':', 1)
        fields.append((s[:i], s[i + 1:]))
    return fields


def mode_trailers(c, specs):
    sid = c.request('POST', '/echo?trailers=1', [('te', 'trailers')],
                    end=False)
    c.data(sid, b'hello', False)
    block = c.enc.encode(parse_fields(specs))
    c.send(c.headers_frames(sid, block, True))
    c.wait([sid])
    out(status=c.outcome(sid))
    c.after()
    c.report()


def mode_bigtrailer(c, size):
    sid = c.request('POST', '/echo?big=1', end=False)
    c.data(sid, b'hello', False)
    fields = [('x-t-%d' % i, 'T' * 8000) for i in range(size // 8000 + 1)]
    block = b''.join(c.enc.encode([f], huffman=False) for f in fields)
    c.send(c.headers_frames(sid, block, True))
    c.wait([sid])
    out(status=c.outcome(sid))
    c.after()
    c.report()


def mode_get(c, path):
    sid = c.request('GET', path, [('te', 'trailers')])
    c.wait([sid])
    st = c.streams[sid]
    out(status=c.outcome(sid), body=st.body.decode('latin-1').strip(),
        trailers=','.join('%s:%s' % f for f in st.trailers))


def main():
    mode, proto, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    args = sys.argv[4:]
    c = Conn(proto, port)
    if mode == 'bomb':
        mode_bomb(c, int(args[0]))
    elif mode == 'flood':
        mode_flood(c, int(args[0]), int(args[1]))
    elif mode in ('fields', 'cookies'):
        mode_fields(c, int(args[0]), mode == 'cookies')
    elif mode == 'trailers':
        mode_trailers(c, args)
    elif mode == 'bigtrailer':
        mode_bigtrailer(c, int(args[0]))
    elif mode == 'get':
        mode_get(c, args[0])
    else:
        out(error='unknown mode %s' % mode)
        sys.exit(2)


if __name__ == '__main__':
    main()
