#!/usr/bin/python3
"""tests/integration/timers_client.py MODE PROTO ADDR ...: clients for
test_timers.c, printing key=value lines. HTTP/2 (python3-h2, PROTO tls
or h2c, ADDR a port): unless a mode says otherwise the client behaves as
a browser does, with the default 65,535-byte windows, each DATA frame
credited (WINDOW_UPDATE, stream and connection) once it is read. Every
wait is bounded.

Modes:
  h1get PROTO ADDR PATH RATE
      HTTP/1.1 (PROTO plain or tls; ADDR a port or a unix socket path),
      with a 16 KiB receive buffer, read at RATE bytes/s: status,
      bytes, pattern, ms.
  get PROTO PORT PATH [RATE]
      One GET; RATE (bytes/s, 0: as fast as it comes) paces the reads,
      so the credit follows. status, bytes, pattern (ok: the body is
      origin's /bytes pattern), reset, closed, ms.
  stall PROTO PORT OPORT N SIZE
      SETTINGS_INITIAL_WINDOW_SIZE 0, then N GETs of /bytes/SIZE never
      credited, and one of /bytes/200000 whose window is opened and
      credited as it is read. Then, once every stalled stream is reset
      (or WAIT passes), another GET on the same connection. Prints
      rst_cancel, rst_ms_min/max (from the requests), normal_* and
      after_* (status, bytes, pattern), backend_conns_stalled (portico's
      established connections to 127.0.0.1:OPORT while the streams are
      stalled) and backend_conns_after (once they are reset), closed,
      goaway.
  connstall PROTO PORT SIZE
      Stream windows of 16 MiB but never a connection WINDOW_UPDATE: a
      GET of /bytes/SIZE stops at 65,535 bytes. goaway (its code),
      closed, bytes, ms.
  upload PROTO ADDR SIZE SECONDS
      On one connection: HTTP/1.1 for PROTO plain or tls, HTTP/2 for
      h2-tls or h2-h2c:
      GET /echo, then POST /echo of SIZE pattern bytes sent evenly over
      SECONDS. The origin's answers: conn1 and conn2 (its connection
      numbers), status, body_length, body_sha256.
  bodystall PROTO ADDR OPORT
      POST /echo with a Content-Length of 100000, 10000 bytes of it,
      then nothing (PROTO as for upload): status, ms, backend_conns
      (portico's to 127.0.0.1:OPORT at 0.5 s) and backend_conns_after
      (once answered), closed; over HTTP/2 also reset and after_status,
      of a GET on the same connection then.
  noread PROTO PORT OPORT SIZE
      Windows wide open, a GET of /bytes/SIZE, and then the client never
      reads: backend_conns (to 127.0.0.1:OPORT) at 0.5 s, released_ms
      (when there are none left; -1: never, within WAIT), closed.
"""
import json
import socket
import ssl
import sys
import time

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings

from h2frames import connect, out, request_fields, tcp_conns, tls_context

WAIT = 20.0
NORMAL_SIZE = 200000


def dial_h1(proto, addr):
    unix = not addr.isdigit()
    raw = socket.socket(socket.AF_UNIX if unix else socket.AF_INET)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    raw.settimeout(WAIT)
    raw.connect(addr if unix else ('127.0.0.1', int(addr)))
    if proto != 'tls':
        return raw
    return tls_context('http/1.1').wrap_socket(raw, server_hostname='a.test')


def is_pattern(body):
    return all(b == 97 + i % 26 for i, b in enumerate(body))


class Client:
    """One connection; per stream, what came and when."""

    def __init__(self, proto, port, settings=None, conn_window=0,
                 rcvbuf=0):
        self.sock = connect(proto, port, WAIT, nodelay=True, rcvbuf=rcvbuf)
        self.closed = False
        self.scheme = 'http' if proto == 'h2c' else 'https'
        self.conn = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=True))
        self.conn.initiate_connection()
        if settings:
            self.conn.update_settings(settings)
        if conn_window:
            self.conn.increment_flow_control_window(conn_window)
        self.credit = set()     # streams credited as they are read
        self.flush()
        self.status, self.body, self.ended = {}, {}, {}
        self.reset = {}         # stream id -> (code, monotonic time)
        self.sent_at = {}
        self.goaway = None

    def flush(self):
        data = self.conn.data_to_send()
        if data and not self.closed:
            try:
                self.sock.sendall(data)
            except (ConnectionError, ssl.SSLError, OSError):
                self.closed = True

    def get(self, path, credit=True):
        sid = self.conn.get_next_available_stream_id()
        self.conn.send_headers(sid, request_fields('GET', path,
                                                   scheme=self.scheme),
                               end_stream=True)
        self.body[sid] = b''
        self.sent_at[sid] = time.monotonic()
        if credit:
            self.credit.add(sid)
        self.flush()
        return sid

    def on_event(self, ev):
        sid = getattr(ev, 'stream_id', None)
        if isinstance(ev, h2.events.ResponseReceived):
            self.status[sid] = dict(ev.headers).get(b':status',
                                                    b'').decode()
        elif isinstance(ev, h2.events.DataReceived):
            self.body[sid] = self.body.get(sid, b'') + ev.data
            n = ev.flow_controlled_length
            if sid in self.credit and n > 0:
                self.conn.increment_flow_control_window(n)
                try:
                    self.conn.increment_flow_control_window(
                        n, stream_id=sid)
                except h2.exceptions.StreamClosedError:
                    pass        # its last DATA
        elif isinstance(ev, h2.events.StreamEnded):
            self.ended[sid] = time.monotonic()
        elif isinstance(ev, h2.events.StreamReset):
            self.reset[sid] = (ev.error_code, time.monotonic())
        elif isinstance(ev, h2.events.ConnectionTerminated):
            self.goaway = ev.error_code

    def pump(self, deadline, chunk=1 << 20):
        """Reads once, up to CHUNK bytes; False once the connection is
        gone or DEADLINE passed."""
        left = deadline - time.monotonic()
        if left <= 0 or self.closed:
            return False
        self.sock.settimeout(min(left, 0.05))
        try:
            data = self.sock.recv(chunk)
        except socket.timeout:
            return True
        except (ConnectionError, ssl.SSLError, OSError):
            data = b''
        if not data:
            self.closed = True
            return False
        try:
            for ev in self.conn.receive_data(data):
                self.on_event(ev)
        except h2.exceptions.ProtocolError as e:
            out(protocol_error=repr(e))
            self.closed = True
            return False
        self.flush()
        return True

    def done(self, sid):
        return sid in self.ended or sid in self.reset

    def wait(self, until, seconds=WAIT):
        deadline = time.monotonic() + seconds
        while not until() and self.pump(deadline):
            pass


def name(code):
    try:
        return h2.errors.ErrorCodes(code).name
    except ValueError:
        return str(code)


def mode_get(proto, port, path, rate=0):
    c = Client(proto, port)
    t0 = time.monotonic()
    sid = c.get(path)
    deadline = t0 + 60
    got = 0
    while not c.done(sid):
        if rate > 0:
            # 4 KiB reads, no faster than RATE; credit follows reading
            time.sleep(max(0.0, t0 + got / rate - time.monotonic()))
        if not c.pump(deadline, 4096 if rate > 0 else 1 << 20):
            break
        got = len(c.body[sid])
    body = c.body[sid]
    out(status=c.status.get(sid, 'none'), bytes=len(body),
        pattern='ok' if is_pattern(body) else 'bad',
        reset=name(c.reset[sid][0]) if sid in c.reset else 'none',
        closed='yes' if c.closed else 'no',
        ms=int((time.monotonic() - t0) * 1000))


def h1_length(head):
    for line in head.split(b'\r\n')[1:]:
        k, _, v = line.partition(b':')
        if k.strip().lower() == b'content-length':
            return int(v)
    return -1


def mode_h1get(proto, addr, path, rate):
    s = dial_h1(proto, addr)
    s.sendall(b'GET %s HTTP/1.1\r\nHost: a.test\r\n\r\n' % path.encode())
    t0 = time.monotonic()
    got, head, body, want = b'', b'', b'', -1
    while time.monotonic() < t0 + 60 and (want < 0 or len(body) < want):
        time.sleep(max(0.0, t0 + len(got) / rate - time.monotonic()))
        try:
            data = s.recv(4096)
        except (OSError, ssl.SSLError):
            data = b''
        if not data:
            break
        got += data
        if want < 0 and b'\r\n\r\n' in got:
            head, _, body = got.partition(b'\r\n\r\n')
            want = h1_length(head)
        elif want >= 0:
            body += data
    out(status=head.split(b' ')[1].decode() if head else 'none',
        bytes=len(body), pattern='ok' if is_pattern(body) else 'bad',
        ms=int((time.monotonic() - t0) * 1000))


def h1_response(s, deadline):
    """One response with a Content-Length: (status, body)."""
    got = b''
    while b'\r\n\r\n' not in got and time.monotonic() < deadline:
        data = s.recv(65536)
        if not data:
            break
        got += data
    head, _, body = got.partition(b'\r\n\r\n')
    want = h1_length(head)
    while len(body) < want and time.monotonic() < deadline:
        data = s.recv(65536)
        if not data:
            break
        body += data
    return (head.split(b' ')[1].decode() if head else 'none'), body


def trickle(size, seconds, send, step=10000):
    """SIZE pattern bytes in STEP pieces, evenly over SECONDS."""
    body = bytes(97 + i % 26 for i in range(size))
    t0 = time.monotonic()
    for off in range(0, size, step):
        time.sleep(max(0.0, t0 + seconds * off / size - time.monotonic()))
        send(body[off:off + step])


def upload_h1(proto, addr, size, seconds):
    s = dial_h1(proto, addr)
    deadline = time.monotonic() + 60
    s.sendall(b'GET /echo HTTP/1.1\r\nHost: a.test\r\n\r\n')
    first = h1_response(s, deadline)[1]
    s.sendall(b'POST /echo HTTP/1.1\r\nHost: a.test\r\n'
              b'Content-Length: %d\r\n\r\n' % size)
    trickle(size, seconds, s.sendall)
    status, second = h1_response(s, deadline)
    return first, status, second


def upload_h2(proto, port, size, seconds):
    c = Client(proto, port)
    sid = c.get('/echo')
    c.wait(lambda: c.done(sid))
    first = c.body[sid]
    up = c.conn.get_next_available_stream_id()
    c.conn.send_headers(up, [
        (':method', 'POST'), (':scheme', c.scheme),
        (':authority', 'a.test'), (':path', '/echo'),
        ('content-length', str(size))])
    c.body[up] = b''
    c.credit.add(up)
    c.flush()

    def send(piece):
        if c.done(up):
            return      # answered (or reset) early: nothing more to send
        deadline = time.monotonic() + WAIT
        while c.conn.local_flow_control_window(up) < len(piece) and \
                c.pump(deadline):
            pass
        c.conn.send_data(up, piece)
        c.flush()
        c.pump(time.monotonic() + 0.001)
    trickle(size, seconds, send)
    if not c.done(up):
        c.conn.end_stream(up)
        c.flush()
    c.wait(lambda: c.done(up))
    return first, c.status.get(up, 'none'), c.body[up]


def mode_upload(proto, addr, size, seconds):
    if proto in ('plain', 'tls'):
        first, status, second = upload_h1(proto, addr, size, seconds)
    else:
        first, status, second = upload_h2(proto[3:], int(addr), size,
                                          seconds)
    a, b = json.loads(first or b'{}'), json.loads(second or b'{}')
    out(conn1=a.get('connection', -1), conn2=b.get('connection', -1),
        status=status, body_length=b.get('body_length', -1),
        body_sha256=b.get('body_sha256', ''))


def bodystall_h1(proto, addr, oport):
    s = dial_h1(proto, addr)
    t0 = time.monotonic()
    s.sendall(b'POST /echo HTTP/1.1\r\nHost: a.test\r\n'
              b'Content-Length: 100000\r\n\r\n' + b'x' * 10000)
    time.sleep(0.5)
    held = backend_conns(oport)
    status = h1_response(s, t0 + WAIT)[0]
    ms = int((time.monotonic() - t0) * 1000)
    try:
        closed = s.recv(1) == b''
    except (OSError, ssl.SSLError):
        closed = True
    out(status=status, ms=ms, backend_conns=held,
        backend_conns_after=backend_conns(oport),
        closed='yes' if closed else 'no')


def bodystall_h2(proto, port, oport):
    c = Client(proto, port)
    t0 = time.monotonic()
    sid = c.conn.get_next_available_stream_id()
    c.conn.send_headers(sid, [
        (':method', 'POST'), (':scheme', c.scheme),
        (':authority', 'a.test'), (':path', '/echo'),
        ('content-length', '100000')])
    c.conn.send_data(sid, b'x' * 10000)
    c.body[sid] = b''
    c.credit.add(sid)
    c.flush()
    c.wait(lambda: False, 0.5)
    held = backend_conns(oport)
    c.wait(lambda: c.done(sid))
    ms = int((time.monotonic() - t0) * 1000)
    released = backend_conns(oport)
    after = c.get('/echo')
    c.wait(lambda: c.done(after))
    out(status=c.status.get(sid, 'none'), ms=ms,
        reset=name(c.reset[sid][0]) if sid in c.reset else 'none',
        backend_conns=held, backend_conns_after=released,
        after_status=c.status.get(after, 'none'),
        closed='yes' if c.closed else 'no')


def backend_conns(oport):
    """Portico's established connections to 127.0.0.1:OPORT."""
    return tcp_conns(oport, '01')


def mode_stall(proto, port, oport, n, size):
    c = Client(proto, port, {
        h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0})
    stalled = [c.get('/bytes/%d' % size, credit=False) for _ in range(n)]
    normal = c.get('/bytes/%d' % NORMAL_SIZE)
    c.conn.increment_flow_control_window(65535, stream_id=normal)
    c.flush()
    t0 = time.monotonic()
    c.wait(lambda: c.done(normal), 10)
    # the backend's connections while the streams are stalled: each
    # stalled stream holds one until it is reset
    most = 0
    deadline = time.monotonic() + 0.5
    while not any(s in c.reset for s in stalled) and \
            time.monotonic() < deadline:
        most = max(most, backend_conns(oport))
        c.pump(deadline)
    c.wait(lambda: all(c.done(s) for s in stalled))
    settle = time.monotonic() + 2
    after = backend_conns(oport)
    while after > 1 and time.monotonic() < settle:
        c.pump(settle)
        after = backend_conns(oport)
    late = c.get('/bytes/%d' % NORMAL_SIZE)
    c.conn.increment_flow_control_window(65535, stream_id=late)
    c.flush()
    c.wait(lambda: c.done(late), 10)
    times = [int((c.reset[s][1] - c.sent_at[s]) * 1000)
             for s in stalled if s in c.reset]
    out(rst_cancel=sum(1 for s in stalled
                       if s in c.reset and c.reset[s][0] == 8),
        rst_ms_min=min(times) if times else -1,
        rst_ms_max=max(times) if times else -1,
        stalled_data=sum(len(c.body.get(s, b'')) for s in stalled),
        backend_conns_stalled=most, backend_conns_after=after)
    for key, sid in (('normal', normal), ('after', late)):
        body = c.body.get(sid, b'')
        out(**{key + '_status': c.status.get(sid, 'none'),
               key + '_bytes': len(body),
               key + '_pattern': 'ok' if is_pattern(body) else 'bad'})
    out(normal_ms=int((c.ended.get(normal, t0) - t0) * 1000),
        closed='yes' if c.closed else 'no',
        goaway=name(c.goaway) if c.goaway is not None else 'none')


def mode_connstall(proto, port, size):
    c = Client(proto, port, {
        h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 16 << 20})
    t0 = time.monotonic()
    sid = c.get('/bytes/%d' % size, credit=False)
    c.wait(lambda: c.closed, WAIT)
    out(goaway=name(c.goaway) if c.goaway is not None else 'none',
        closed='yes' if c.closed else 'no',
        bytes=len(c.body.get(sid, b'')),
        ms=int((time.monotonic() - t0) * 1000))


def mode_noread(proto, port, oport, size):
    c = Client(proto, port, {
        h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 16 << 20}, 64 << 20,
        16384)
    t0 = time.monotonic()
    c.get('/bytes/%d' % size, credit=False)
    time.sleep(0.5)
    held = backend_conns(oport)
    released = -1
    while time.monotonic() < t0 + WAIT:
        if backend_conns(oport) == 0:
            released = int((time.monotonic() - t0) * 1000)
            break
        time.sleep(0.05)
    c.wait(lambda: c.closed, 5)
    out(backend_conns=held, released_ms=released,
        closed='yes' if c.closed else 'no')


def main(argv):
    mode, proto = argv[1], argv[2]
    if mode == 'h1get':
        mode_h1get(proto, argv[3], argv[4], int(argv[5]))
        return 0
    if mode == 'bodystall':
        if proto in ('plain', 'tls'):
            bodystall_h1(proto, argv[3], int(argv[4]))
        else:
            bodystall_h2(proto[3:], int(argv[3]), int(argv[4]))
        return 0
    if mode == 'upload':
        mode_upload(proto, argv[3], int(argv[4]), float(argv[5]))
        return 0
    port = int(argv[3])
    if mode == 'get':
        mode_get(proto, port, argv[4], int(argv[5]) if len(argv) > 5 else 0)
    elif mode == 'stall':
        mode_stall(proto, port, int(argv[4]), int(argv[5]), int(argv[6]))
    elif mode == 'connstall':
        mode_connstall(proto, port, int(argv[4]))
    elif mode == 'noread':
        mode_noread(proto, port, int(argv[4]), int(argv[5]))
    else:
        out(error='unknown mode %s' % mode)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
