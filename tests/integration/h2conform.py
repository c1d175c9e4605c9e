#!/usr/bin/python3
"""tests/integration/h2conform.py tls|h2c PORT [ROW...]: HTTP/2
conformance of portico's frontend, one row per section h2spec tests
(RFC 9113 §§3.4-8.3, RFC 7541 decoding errors), in raw frames so that
what is sent is exactly what the row says.

Each row: what is sent after the preface and SETTINGS, and what must
come back: a GOAWAY with a code, a RST_STREAM with a code, a response
(:status), or the connection closed. Prints "ROW=ok" or "ROW=FAIL
(what came)" for every row run, then rows=N failed=N, for
test_h2conform.c. `list` prints the row names. Every wait is bounded.

Also a library: h2reset.py uses Conn.
"""
import struct
import sys

import hpack

from h2frames import Raw, frame, out, request_fields, unpad, CODES, \
    DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PING, GOAWAY, \
    WINDOW_UPDATE, CONTINUATION, END_STREAM, ACK, END_HEADERS, PADDED, \
    PRIO

TIMEOUT = 5.0


class Conn(Raw):
    """One connection: writes frames, parses what comes back."""

    def __init__(self, proto, port, settings=b'', preface=True):
        self.rst = {}               # stream id -> code name
        self.status = {}            # stream id -> :status
        self.ended = set()          # streams the server ended
        self.dec = hpack.Decoder()
        self.enc = hpack.Encoder()
        self.got_settings = False
        super().__init__(proto, port, TIMEOUT, settings, preface)

    def on_frame(self, ftype, flags, sid, payload):
        if ftype == GOAWAY:
            last, code = struct.unpack('>II', payload[:8])
            self.goaway = (last & 0x7fffffff, CODES.get(code, code))
        elif ftype == RST_STREAM:
            self.rst[sid] = CODES.get(struct.unpack('>I', payload)[0])
        elif ftype == SETTINGS and not flags & ACK:
            self.got_settings = True
            self.send(frame(SETTINGS, ACK, 0))
        elif ftype == HEADERS:
            self.on_headers(flags, sid, payload)
        if ftype in (DATA, HEADERS) and flags & END_STREAM:
            self.ended.add(sid)

    def on_headers(self, flags, sid, payload):
        try:
            for k, v in self.dec.decode(unpad(flags, payload, HEADERS)):
                if k in (':status', b':status'):
                    v = v.decode() if isinstance(v, bytes) else v
                    self.status.setdefault(sid, v)
        except Exception:       # not ours to judge here
            pass

    def block(self, fields=None, method='GET', path='/echo', extra=()):
        if fields is None:
            fields = request_fields(method, path)
        return self.enc.encode(list(fields) + list(extra))

    def request(self, sid, end=True, **kw):
        flags = END_HEADERS | (END_STREAM if end else 0)
        return frame(HEADERS, flags, sid, self.block(**kw))


# ---- the table ----
#
# Each row: (name, function of a Conn returning the bytes to send, the
# expectation). Expectations: ('goaway', CODE) a connection error with
# that code (or, where the RFC allows it, the connection closed);
# ('rst', SID, CODE) a stream error on SID; ('status', SID, S) a
# response; ('alive',) the connection still answers a PING.


def hdr(c, sid=1, end=True, **kw):
    return c.request(sid, end=end, **kw)


def settings(ident, value):
    return frame(SETTINGS, 0, 0, struct.pack('>HI', ident, value))


def wu(sid, n):
    return frame(WINDOW_UPDATE, 0, sid, struct.pack('>I', n))


def prio(sid, dep, weight=15):
    return frame(PRIORITY, 0, sid, struct.pack('>IB', dep, weight))


def post(c, sid, cl=None, end=False):
    extra = [('content-length', cl)] if cl is not None else []
    return c.request(sid, end=end, method='POST', extra=extra)


def lit(name, value):
    """A literal field without indexing, no Huffman (RFC 7541 §6.2.2)."""
    def s(b):
        return bytes([len(b)]) + b
    return b'\x00' + s(name) + s(value)


BASE = request_fields('GET', '/echo')

ROWS = [
    # RFC 9113 §3.4: the preface
    ('3.4/invalid-preface',
     lambda c: b'INVALID CONNECTION PREFACE\r\n\r\n',
     ('goaway', 'PROTOCOL_ERROR'), {'preface': False, 'h2c_close': True}),
    # §4.1 frame format
    ('4.1/unknown-frame-type-ignored',
     lambda c: frame(0x16, 0, 0, b'x' * 8), ('alive',)),
    ('4.1/unknown-flags-ignored',
     lambda c: frame(PING, 0x16, 0, b'\0' * 8), ('alive',)),
    ('4.1/reserved-bit-ignored',
     lambda c: frame(PING, 0, 0x80000000, b'\0' * 8)[:5] +
     b'\x80\0\0\0' + b'\0' * 8, ('alive',)),
    # §4.2 frame size
    ('4.2/data-over-max-frame-size',
     lambda c: post(c, 1) + frame(DATA, 0, 1, b'x' * 16385),
     ('goaway', 'FRAME_SIZE_ERROR')),
    ('4.2/headers-over-max-frame-size',
     lambda c: frame(HEADERS, END_HEADERS | END_STREAM, 1, c.block() +
                     c.enc.encode([('x-big', 'v' * 16400)], huffman=False)),
     ('goaway', 'FRAME_SIZE_ERROR')),
    ('4.2/settings-wrong-length',
     lambda c: frame(SETTINGS, 0, 0, b'\0' * 5),
     ('goaway', 'FRAME_SIZE_ERROR')),
    # §4.3 header compression
    ('4.3/invalid-header-block',
     lambda c: frame(HEADERS, END_HEADERS | END_STREAM, 1, b'\x40'),
     ('goaway', 'COMPRESSION_ERROR')),
    ('4.3/headers-interleaved-with-priority',
     lambda c: frame(HEADERS, END_STREAM, 1, c.block()) + prio(1, 0),
     ('goaway', 'PROTOCOL_ERROR')),
    # §5.1 stream states
    ('5.1/data-on-idle-stream',
     lambda c: frame(DATA, END_STREAM, 1, b'x'),
     ('goaway', 'PROTOCOL_ERROR')),
    ('5.1/rst-on-idle-stream',
     lambda c: frame(RST_STREAM, 0, 1, b'\0\0\0\x08'),
     ('goaway', 'PROTOCOL_ERROR')),
    ('5.1/window-update-on-idle-stream',
     lambda c: wu(1, 100), ('goaway', 'PROTOCOL_ERROR')),
    ('5.1/continuation-on-idle-stream',
     lambda c: frame(CONTINUATION, END_HEADERS, 1, c.block()),
     ('goaway', 'PROTOCOL_ERROR')),
    ('5.1/data-on-half-closed-remote',
     lambda c: hdr(c, 1, path='/slow?ms=500') + frame(DATA, 0, 1, b'x'),
     ('rst-or-goaway', 1, 'STREAM_CLOSED')),
    ('5.1/headers-on-half-closed-remote',
     lambda c: hdr(c, 1, path='/slow?ms=500') + hdr(c, 1),
     ('rst-or-goaway', 1, 'STREAM_CLOSED')),
    ('5.1/data-on-closed-stream',
     lambda c: hdr(c, 1) + frame(RST_STREAM, 0, 1, b'\0\0\0\x08') +
     frame(DATA, 0, 1, b'x'),
     ('goaway', 'STREAM_CLOSED')),
    ('5.1.1/even-stream-id',
     lambda c: hdr(c, 2), ('goaway', 'PROTOCOL_ERROR')),
    ('5.1.1/stream-id-below-previous',
     lambda c: hdr(c, 5) + hdr(c, 3), ('goaway', 'PROTOCOL_ERROR')),
    # a stream portico reset, whose trailers were on their way: not an
    # id below the highest (that is for ids never used)
    ('5.1.1/late-trailers-after-server-reset-ignored',
     lambda c: [post(c, 1, '1') + frame(DATA, 0, 1, b'xx') + hdr(c, 3),
                frame(HEADERS, END_HEADERS | END_STREAM, 1,
                      c.enc.encode([('x-t', '1')])) + hdr(c, 5)],
     ('status', 5, '200')),
    ('5.1.2/over-max-concurrent-streams',
     lambda c: b''.join(hdr(c, 1 + 2 * i, path='/slow?ms=300')
                        for i in range(101)),
     ('goaway', 'PROTOCOL_ERROR')),        # §5.4.1: nghttp2's choice
    # §5.3 priority
    ('5.3.1/stream-depends-on-itself',
     lambda c: prio(1, 1), ('rst-or-goaway', 1, 'PROTOCOL_ERROR')),
    # §5.4 error handling
    ('5.4.1/goaway-then-close',
     lambda c: frame(PING, 0, 1, b'\0' * 8), ('goaway', 'PROTOCOL_ERROR')),
    # §5.5 extensions
    ('5.5/unknown-extension-frame-ignored',
     lambda c: frame(0xff, 0, 0, b'hello'), ('alive',)),
    ('5.5/unknown-frame-inside-header-block',
     lambda c: frame(HEADERS, END_STREAM, 1, c.block()) +
     frame(0xff, 0, 1, b'x'), ('goaway', 'PROTOCOL_ERROR')),
    # §6.1 DATA
    ('6.1/data-on-stream-0',
     lambda c: frame(DATA, 0, 0, b'x'), ('goaway', 'PROTOCOL_ERROR')),
    ('6.1/data-padding-too-long',
     lambda c: post(c, 1) + frame(DATA, PADDED, 1, b'\x05xx'),
     ('goaway', 'PROTOCOL_ERROR')),
    # §6.2 HEADERS
    ('6.2/headers-on-stream-0',
     lambda c: frame(HEADERS, END_HEADERS, 0, c.block()),
     ('goaway', 'PROTOCOL_ERROR')),
    ('6.2/headers-padding-too-long',
     lambda c: frame(HEADERS, END_HEADERS | PADDED, 1,
                     b'\x40' + c.block()),
     ('goaway', 'PROTOCOL_ERROR')),
    ('6.2/headers-without-end-headers-then-other',
     lambda c: frame(HEADERS, END_STREAM, 1, c.block()) + hdr(c, 3),
     ('goaway', 'PROTOCOL_ERROR')),
    ('6.2/headers-with-priority',
     lambda c: frame(HEADERS, END_HEADERS | END_STREAM | PRIO, 1,
                     struct.pack('>IB', 0, 15) + c.block()),
     ('status', 1, '200')),
    # §6.3 PRIORITY
    ('6.3/priority-on-stream-0',
     lambda c: prio(0, 1), ('goaway', 'PROTOCOL_ERROR')),
    ('6.3/priority-wrong-length',
     lambda c: frame(PRIORITY, 0, 1, b'\0' * 4),
     ('rst-or-goaway', 1, 'FRAME_SIZE_ERROR')),
    # §6.4 RST_STREAM
    ('6.4/rst-on-stream-0',
     lambda c: frame(RST_STREAM, 0, 0, b'\0\0\0\x08'),
     ('goaway', 'PROTOCOL_ERROR')),
    ('6.4/rst-wrong-length',
     lambda c: hdr(c, 1, path='/slow?ms=300') +
     frame(RST_STREAM, 0, 1, b'\0\0\x08'),
     ('goaway', 'FRAME_SIZE_ERROR')),
    # §6.5 SETTINGS
    ('6.5/settings-ack-with-payload',
     lambda c: frame(SETTINGS, ACK, 0, b'\0' * 6),
     ('goaway', 'FRAME_SIZE_ERROR')),
    ('6.5/settings-on-stream',
     lambda c: frame(SETTINGS, 0, 1, b''), ('goaway', 'PROTOCOL_ERROR')),
    ('6.5.2/enable-push-2',
     lambda c: settings(2, 2), ('goaway', 'PROTOCOL_ERROR')),
    ('6.5.2/initial-window-over-max',
     lambda c: settings(4, 1 << 31), ('goaway', 'FLOW_CONTROL_ERROR')),
    ('6.5.2/max-frame-size-too-small',
     lambda c: settings(5, 16383), ('goaway', 'PROTOCOL_ERROR')),
    ('6.5.2/max-frame-size-too-big',
     lambda c: settings(5, 1 << 24), ('goaway', 'PROTOCOL_ERROR')),
    ('6.5.2/unknown-setting-ignored',
     lambda c: settings(0xff, 1), ('alive',)),
    # §6.7 PING
    ('6.7/ping-on-stream',
     lambda c: frame(PING, 0, 1, b'\0' * 8), ('goaway', 'PROTOCOL_ERROR')),
    ('6.7/ping-wrong-length',
     lambda c: frame(PING, 0, 0, b'\0' * 6), ('goaway', 'FRAME_SIZE_ERROR')),
    # §6.8 GOAWAY
    ('6.8/goaway-on-stream',
     lambda c: frame(GOAWAY, 0, 1, b'\0' * 8), ('goaway', 'PROTOCOL_ERROR')),
    # §6.9 WINDOW_UPDATE
    ('6.9/window-update-zero-connection',
     lambda c: wu(0, 0), ('goaway', 'PROTOCOL_ERROR')),
    ('6.9/window-update-zero-stream',
     lambda c: hdr(c, 1, path='/slow?ms=300') + wu(1, 0),
     ('rst-or-goaway', 1, 'PROTOCOL_ERROR')),
    ('6.9/window-update-wrong-length',
     lambda c: frame(WINDOW_UPDATE, 0, 0, b'\0\0\1'),
     ('goaway', 'FRAME_SIZE_ERROR')),
    ('6.9.1/connection-window-overflow',
     lambda c: wu(0, 0x7fffffff) + wu(0, 0x7fffffff),
     ('goaway', 'FLOW_CONTROL_ERROR')),
    ('6.9.1/stream-window-overflow',
     lambda c: hdr(c, 1, path='/slow?ms=300') + wu(1, 0x7fffffff) +
     wu(1, 0x7fffffff), ('rst', 1, 'FLOW_CONTROL_ERROR')),
    ('6.9.2/initial-window-overflow',
     lambda c: hdr(c, 1, path='/slow?ms=300') + wu(1, 0x7fffffff - 65535) +
     settings(4, 65536), ('rst-or-goaway', 1, 'FLOW_CONTROL_ERROR')),
    # §6.10 CONTINUATION
    ('6.10/continuation-after-end-headers',
     lambda c: hdr(c, 1, path='/slow?ms=300') +
     frame(CONTINUATION, END_HEADERS, 1, c.block()),
     ('goaway', 'PROTOCOL_ERROR')),
    ('6.10/continuation-on-stream-0',
     lambda c: frame(HEADERS, END_STREAM, 1, c.block()) +
     frame(CONTINUATION, END_HEADERS, 0, b''), ('goaway', 'PROTOCOL_ERROR')),
    ('6.10/continuation-other-stream',
     lambda c: frame(HEADERS, END_STREAM, 1, c.block()) +
     frame(CONTINUATION, END_HEADERS, 3, b''), ('goaway', 'PROTOCOL_ERROR')),
    ('6.10/continuation-completes-block',
     lambda c: (lambda b: frame(HEADERS, END_STREAM, 1, b[:5]) +
                frame(CONTINUATION, END_HEADERS, 1, b[5:]))(c.block()),
     ('status', 1, '200')),
    # §7 error codes: an unknown code is not an error
    ('7/unknown-error-code-in-rst',
     lambda c: hdr(c, 1, path='/slow?ms=300') +
     frame(RST_STREAM, 0, 1, b'\0\0\0\xff') + hdr(c, 3), ('status', 3, '200')),
    # §8.1 messages
    ('8.1/data-beyond-content-length',
     lambda c: post(c, 1, '1') + frame(DATA, END_STREAM, 1, b'xx'),
     ('rst', 1, 'PROTOCOL_ERROR')),
    ('8.1/data-short-of-content-length',
     lambda c: post(c, 1, '3') + frame(DATA, END_STREAM, 1, b'xx'),
     ('rst', 1, 'PROTOCOL_ERROR')),
    ('8.1/trailers-without-end-stream',
     lambda c: post(c, 1) + frame(DATA, 0, 1, b'x') +
     frame(HEADERS, END_HEADERS, 1, c.enc.encode([('x-t', '1')])),
     ('rst-or-goaway', 1, 'PROTOCOL_ERROR')),
    # issue 11: a content-length that does not fit in 63 bits is no
    # length at all: the stream is refused, never read as "no body"
    ('8.1/content-length-2^63',
     lambda c: post(c, 1, '9223372036854775808') + frame(DATA, 0, 1, b'x'),
     ('rst', 1, 'PROTOCOL_ERROR')),
    ('8.1/content-length-2^64',
     lambda c: post(c, 1, '18446744073709551616') + frame(DATA, 0, 1, b'x'),
     ('rst', 1, 'PROTOCOL_ERROR')),
    ('8.1/content-length-2^63-then-alive',
     lambda c: post(c, 1, '9223372036854775808', end=True) + hdr(c, 3),
     ('status', 3, '200')),
    ('8.1/request-with-body',
     lambda c: post(c, 1, '2') + frame(DATA, END_STREAM, 1, b'xx'),
     ('status', 1, '200')),
    # §8.2 fields
    ('8.2/uppercase-field-name',
     lambda c: hdr(c, 1, extra=[('X-Upper', '1')]),
     ('rst', 1, 'PROTOCOL_ERROR')),
    ('8.2.2/connection-specific-field',
     lambda c: hdr(c, 1, extra=[('connection', 'keep-alive')]),
     ('rst', 1, 'PROTOCOL_ERROR')),
    ('8.2.2/te-not-trailers',
     lambda c: hdr(c, 1, extra=[('te', 'gzip')]),
     ('rst', 1, 'PROTOCOL_ERROR')),
    ('8.2.1/field-value-with-nul',
     lambda c: frame(HEADERS, END_HEADERS | END_STREAM, 1,
                     c.block() + lit(b'x-bad', b'a\0b')),
     ('rst', 1, 'PROTOCOL_ERROR')),
    # §8.3 pseudo-headers
    ('8.3/unknown-pseudo-header',
     lambda c: hdr(c, 1, fields=BASE + [(':foo', 'x')]),
     ('rst', 1, 'PROTOCOL_ERROR')),
    ('8.3/response-pseudo-in-request',
     lambda c: hdr(c, 1, fields=BASE + [(':status', '200')]),
     ('rst', 1, 'PROTOCOL_ERROR')),
    ('8.3/pseudo-after-regular',
     lambda c: hdr(c, 1, fields=BASE[:3] + [('x-a', '1'), BASE[3]]),
     ('rst', 1, 'PROTOCOL_ERROR')),
    ('8.3/pseudo-in-trailers',
     lambda c: post(c, 1) + frame(HEADERS, END_HEADERS | END_STREAM, 1,
                                  c.enc.encode([(':path', '/x')])),
     ('rst', 1, 'PROTOCOL_ERROR')),
    ('8.3.1/missing-method',
     lambda c: hdr(c, 1, fields=BASE[1:]), ('rst', 1, 'PROTOCOL_ERROR')),
    ('8.3.1/missing-path',
     lambda c: hdr(c, 1, fields=BASE[:3]), ('rst', 1, 'PROTOCOL_ERROR')),
    ('8.3.1/empty-path',
     lambda c: hdr(c, 1, fields=BASE[:3] + [(':path', '')]),
     ('rst', 1, 'PROTOCOL_ERROR')),
    ('8.3.1/duplicate-path',
     lambda c: hdr(c, 1, fields=BASE + [(':path', '/x')]),
     ('rst', 1, 'PROTOCOL_ERROR')),
    ('8.3.1/missing-scheme',
     lambda c: hdr(c, 1, fields=[BASE[0], BASE[2], BASE[3]]),
     ('rst', 1, 'PROTOCOL_ERROR')),
    # RFC 7541: decoding errors are connection errors (RFC 9113 §4.3)
    ('hpack-2.3.3/index-out-of-range',
     lambda c: frame(HEADERS, END_HEADERS | END_STREAM, 1, b'\xff\x3f'),
     ('goaway', 'COMPRESSION_ERROR')),
    ('hpack-4.2/table-size-over-settings',
     lambda c: frame(HEADERS, END_HEADERS | END_STREAM, 1,
                     b'\x3f\xe2\x1f' + c.block()),
     ('goaway', 'COMPRESSION_ERROR')),
    ('hpack-4.2/table-size-update-after-field',
     lambda c: frame(HEADERS, END_HEADERS | END_STREAM, 1,
                     b'\x82' + b'\x20' + c.block()),
     ('goaway', 'COMPRESSION_ERROR')),
    ('hpack-5.2/huffman-eos-in-string',
     lambda c: frame(HEADERS, END_HEADERS | END_STREAM, 1,
                     c.block() + b'\x00\x81\xff\x01a'),
     ('goaway', 'COMPRESSION_ERROR')),
    ('hpack-5.2/huffman-padding-too-long',
     lambda c: frame(HEADERS, END_HEADERS | END_STREAM, 1,
                     c.block() + b'\x00\x83\x1f\xff\xff\x01a'),
     ('goaway', 'COMPRESSION_ERROR')),
    ('hpack-6.1/index-0',
     lambda c: frame(HEADERS, END_HEADERS | END_STREAM, 1, b'\x80'),
     ('goaway', 'COMPRESSION_ERROR')),
]


def judge(c, want):
    """Reads until WANT can be decided; returns None (ok) or what came."""
    kind = want[0]
    if kind == 'alive':
        c.send(frame(PING, 0, 0, b'portico!'))
        c.read(TIMEOUT, until=lambda: c.frames.get(PING, 0) > 0 or
               c.goaway is not None)
        if c.frames.get(PING, 0) > 0 and c.goaway is None:
            return None
    elif kind == 'goaway':
        c.read(TIMEOUT, until=lambda: c.goaway is not None)
        if c.goaway is not None and c.goaway[1] == want[1]:
            return None
    elif kind in ('rst', 'rst-or-goaway'):
        sid, code = want[1], want[2]
        c.read(TIMEOUT, until=lambda: sid in c.rst or c.goaway is not None)
        if c.rst.get(sid) == code:
            return None
        if kind == 'rst-or-goaway' and c.goaway is not None and \
                c.goaway[1] == code:
            return None
    elif kind == 'status':
        sid = want[1]
        c.read(TIMEOUT, until=lambda: sid in c.ended or sid in c.rst or
               c.goaway is not None)
        if c.status.get(sid) == want[2] and sid in c.ended:
            return None
    return 'goaway=%s rst=%s status=%s closed=%s' % (
        c.goaway, c.rst, c.status, c.closed)


def run_row(proto, port, row):
    name, make, want = row[0], row[1], row[2]
    opts = row[3] if len(row) > 3 else {}
    c = Conn(proto, port, preface=opts.get('preface', True))
    if opts.get('preface', True):
        # the server's SETTINGS first: errors then count from here
        c.read(TIMEOUT, until=lambda: c.got_settings)
    todo = make(c)
    for i, data in enumerate(todo if isinstance(todo, list) else [todo]):
        if i > 0:
            c.read(0.3)         # the server's answer to the step before
        c.send(data)
    why = judge(c, want)
    # cleartext: not a preface is an HTTP/1.1 request, and garbage
    if why is not None and opts.get('h2c_close') and proto == 'h2c':
        c.read(TIMEOUT)
        why = None if c.closed else why
    c.sock.close()
    return why


def main(argv):
    if len(argv) > 1 and argv[1] == 'list':
        for r in ROWS:
            print(r[0])
        return 0
    proto, port = argv[1], int(argv[2])
    names = argv[3:]
    rows = [r for r in ROWS if not names or r[0] in names]
    failed = 0
    for r in rows:
        try:
            why = run_row(proto, port, r)
        except Exception as e:      # the row failed; the others still run
            why = 'exception %s: %s' % (type(e).__name__, e)
        if why is None:
            print('%s=ok' % r[0])
        else:
            failed += 1
            print('%s=FAIL (%s)' % (r[0], why))
        sys.stdout.flush()
    out(rows=len(rows), failed=failed)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
