#!/usr/bin/python3
"""tests/integration/h2client.py MODE PORT [ARG]: an HTTP/2 client over
TLS (ALPN h2, SNI a.test, no certificate check) for what curl and nghttp
cannot show: events in order, stream resets, floods of raw frames.

It prints what it saw as "key=value" lines for test_h2.c to assert on,
and exits 0 unless something unexpected stopped it (exit 2). Every wait
is bounded by TIMEOUT seconds.

Modes:
  many PORT N        N concurrent GETs of /bytes/(1000+37*i) on one
                     connection; every body checked against the pattern
  trailers PORT      GET /trailers with te: trailers: events in order
  early-hints PORT   GET /early-hints: events in order
  mismatch PORT      :authority a.test with host: b.test
  cancel PORT OPORT  /echo, then /slow?ms=1000 reset after 200 ms, then
                     /echo after the slow reply would have come; OPORT
                     is the origin's, for its /stats
  drop PORT          GET /drop (the origin closes mid-body)
  rapid-reset PORT N N streams, each HEADERS then RST_STREAM at once
  continuation PORT N  one HEADERS without END_HEADERS, then up to N
                     CONTINUATION frames
"""
import json
import socket
import ssl
import struct
import sys
import time

import h2.config
import h2.connection
import h2.events
import h2.settings
import hpack

import h2frames
from h2frames import connect, frame, out, pattern, request_fields, CODES, \
    HEADERS, RST_STREAM, CONTINUATION, END_STREAM, END_HEADERS

TIMEOUT = 20.0


class Client:
    """An h2 connection and the events it has seen, per stream."""

    def __init__(self, port, validate=True):
        self.sock = connect('tls', port, TIMEOUT)
        cfg = h2.config.H2Configuration(
            client_side=True, validate_outbound_headers=validate,
            normalize_outbound_headers=validate)
        self.conn = h2.connection.H2Connection(config=cfg)
        self.conn.initiate_connection()
        self.conn.update_settings({
            h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 16 << 20})
        self.conn.increment_flow_control_window(64 << 20)
        self.flush()
        self.events = {}        # stream id -> [event, ...]
        self.closed = False     # the peer closed the connection
        self.goaway = None      # ConnectionTerminated

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def request(self, path, extra=(), end=True):
        sid = self.conn.get_next_available_stream_id()
        self.conn.send_headers(sid, request_fields('GET', path, extra),
                               end_stream=end)
        self.flush()
        self.events[sid] = []
        return sid

    def pump(self, deadline):
        """Reads once (until DEADLINE); False once the connection is
        gone or the time is up."""
        left = deadline - time.monotonic()
        if left <= 0 or self.closed:
            return False
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(1 << 20)
        except socket.timeout:
            return False
        except (ConnectionError, ssl.SSLError):
            data = b''
        if not data:
            self.closed = True
            return False
        for ev in self.conn.receive_data(data):
            self.on_event(ev)
        self.flush()
        return True

    def on_event(self, ev):
        sid = getattr(ev, 'stream_id', None)
        if isinstance(ev, h2.events.DataReceived):
            self.conn.acknowledge_received_data(
                ev.flow_controlled_length, ev.stream_id)
        if isinstance(ev, h2.events.ConnectionTerminated):
            self.goaway = ev
        if sid in self.events:
            self.events[sid].append(ev)

    def done(self, sid):
        return any(isinstance(e, (h2.events.StreamEnded,
                                  h2.events.StreamReset))
                   for e in self.events[sid])

    def wait(self, sids, seconds=TIMEOUT):
        deadline = time.monotonic() + seconds
        while not all(self.done(s) for s in sids):
            if not self.pump(deadline):
                break

    def body(self, sid):
        return b''.join(e.data for e in self.events[sid]
                        if isinstance(e, h2.events.DataReceived))

    def status(self, sid):
        for e in self.events[sid]:
            if isinstance(e, h2.events.ResponseReceived):
                return dict(e.headers).get(b':status', b'').decode()
        return ''


def describe(ev):
    """One line per event, for the modes that print their order."""
    if isinstance(ev, h2.events.InformationalResponseReceived):
        h = dict(ev.headers)
        return 'informational %s link=%s' % (
            h.get(b':status', b'').decode(), h.get(b'link', b'').decode())
    if isinstance(ev, h2.events.ResponseReceived):
        return 'response %s' % dict(ev.headers).get(b':status').decode()
    if isinstance(ev, h2.events.DataReceived):
        return 'data %d' % len(ev.data)
    if isinstance(ev, h2.events.TrailersReceived):
        return 'trailers %s' % ' '.join(
            '%s:%s' % (k.decode(), v.decode()) for k, v in ev.headers)
    if isinstance(ev, h2.events.StreamEnded):
        return 'ended'
    if isinstance(ev, h2.events.StreamReset):
        return 'reset %d' % ev.error_code
    return None


def print_events(c, sid):
    for i, ev in enumerate(e for e in map(describe, c.events[sid]) if e):
        print('event%d=%s' % (i, ev))
    out(body=c.body(sid)[:100].decode('latin-1').replace('\n', '\\n'))


def mode_many(port, n):
    c = Client(port)
    sids = [c.request('/bytes/%d' % (1000 + 37 * i)) for i in range(n)]
    c.wait(sids)
    ok = 0
    for i, sid in enumerate(sids):
        size = 1000 + 37 * i
        if c.status(sid) == '200' and c.body(sid) == pattern(size) and \
                c.done(sid):
            ok += 1
        else:
            out(bad='/bytes/%d status %r, %d bytes' % (
                size, c.status(sid), len(c.body(sid))))
    out(streams=n, ok=ok)


def mode_events(port, path, extra=()):
    c = Client(port)
    sid = c.request(path, extra)
    c.wait([sid])
    print_events(c, sid)


def mode_mismatch(port):
    c = Client(port, validate=False)
    sid = c.request('/echo', [('host', 'b.test')])
    c.wait([sid])
    out(status=c.status(sid))
    print_events(c, sid)
    # the connection still serves a good request
    sid = c.request('/echo')
    c.wait([sid])
    out(after=c.status(sid))


def origin_conns(port):
    """The origin's count of accepted connections, this one included."""
    s = socket.create_connection(('127.0.0.1', port), timeout=TIMEOUT)
    s.sendall(b'GET /stats HTTP/1.1\r\nHost: o\r\nConnection: close\r\n\r\n')
    data = b''
    while True:
        k = s.recv(65536)
        if not k:
            break
        data += k
    s.close()
    return json.loads(data.split(b'\r\n\r\n', 1)[1])['connections']


def mode_cancel(port, origin_port):
    c = Client(port)
    sid = c.request('/echo')
    c.wait([sid])
    first = json.loads(c.body(sid))['connection']
    before = origin_conns(origin_port)
    slow = c.request('/slow?ms=1000')
    deadline = time.monotonic() + 0.2
    while c.pump(deadline):
        pass
    during = origin_conns(origin_port)
    c.conn.reset_stream(slow, 8)        # CANCEL
    c.flush()
    deadline = time.monotonic() + 1.3   # the slow reply would be in
    while c.pump(deadline):
        pass
    sid = c.request('/echo')
    c.wait([sid])
    out(first=first, new_conns_for_slow=during - before - 1,
        slow_events=len(c.events[slow]), status=c.status(sid))
    body = json.loads(c.body(sid))
    out(after=body['connection'], target=body['target'])


def mode_drop(port):
    c = Client(port)
    sid = c.request('/drop')
    c.wait([sid])
    out(status=c.status(sid))
    print_events(c, sid)
    out(body_length=len(c.body(sid)))


# ---- raw frames, for floods the h2 state machine will not send ----

class Raw(h2frames.Raw):
    """A TLS connection that writes frames and parses what comes back."""

    def __init__(self, port):
        super().__init__('tls', port, TIMEOUT, nodelay=False)

    def flood(self, n, piece):
        """Sends PIECE(i) for i below N, 16 KiB at a time, until a GOAWAY
        or the peer is gone: how many were sent."""
        sent, batch = 0, b''
        for i in range(n):
            batch += piece(i)
            if len(batch) > 16384 or i == n - 1:
                if not self.send(batch):
                    break
                sent, batch = i + 1, b''
            if self.goaway is not None:
                break
        return sent

    def wait_end(self, seconds=5):
        """Reads until the peer closes (bounded); prints what it saw."""
        self.read(seconds)
        if self.goaway is not None:
            out(goaway=CODES.get(self.goaway[1], self.goaway[1]),
                goaway_last_stream=self.goaway[0])
        else:
            out(goaway='none')
        out(closed='yes' if self.closed else 'no',
            write_failed='yes' if self.write_failed else 'no',
            read_error=self.read_error,
            rst_received=self.frames.get(RST_STREAM, 0))


def request_block(enc, extra=()):
    return enc.encode(request_fields('GET', '/echo', extra))


def mode_rapid_reset(port, n):
    r = Raw(port)
    enc = hpack.Encoder()

    def reset(i):
        sid = 1 + 2 * i
        return frame(HEADERS, END_STREAM | END_HEADERS, sid,
                     request_block(enc)) + \
            frame(RST_STREAM, 0, sid, struct.pack('>I', 8))
    out(streams_sent=r.flood(n, reset))
    r.wait_end()


def mode_continuation(port, n):
    r = Raw(port)
    enc = hpack.Encoder()
    r.send(frame(HEADERS, END_STREAM, 1, request_block(enc)))
    piece = enc.encode([('x-flood', 'v' * 20)], huffman=False)
    out(continuations_sent=r.flood(
        n, lambda i: frame(CONTINUATION, 0, 1, piece)))
    r.wait_end()


def main(argv):
    mode, port = argv[1], int(argv[2])
    arg = int(argv[3]) if len(argv) > 3 else 0
    if mode == 'many':
        mode_many(port, arg)
    elif mode == 'trailers':
        mode_events(port, '/trailers', [('te', 'trailers')])
    elif mode == 'early-hints':
        mode_events(port, '/early-hints')
    elif mode == 'mismatch':
        mode_mismatch(port)
    elif mode == 'cancel':
        mode_cancel(port, arg)
    elif mode == 'drop':
        mode_drop(port)
    elif mode == 'rapid-reset':
        mode_rapid_reset(port, arg)
    elif mode == 'continuation':
        mode_continuation(port, arg)
    else:
        print('unknown mode %s' % mode, file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv))
    except Exception as e:      # the test shows it; it must not hang
        out(error='%s: %s' % (type(e).__name__, e))
        sys.exit(2)
