#!/usr/bin/python3
"""tests/integration/halfclose.py MODE plain|tls|h2c PORT ARGS: half-closes
and cut responses through portico, in raw bytes, for test_halfclose.c.
TLS runs on a memory BIO, so that the client decides when its close_notify
goes and can read after it, and what ended the stream is known: a
close_notify, a bare FIN, or a reset. Prints key=value lines; exits 0
unless something unexpected stopped it (exit 2, error=...). Every wait is
bounded.

Modes (PROTO plain, tls (ALPN http/1.1), or tlsfin: TLS whose write side
ends with a bare FIN, no close_notify; h2cut: tls or h2c):
  req PROTO PORT PATH N   N pipelined GETs of PATH, then the write side
                          shut: what came back (responses=, status_I=,
                          complete_I=) and how the connection ended (end=)
  partial PROTO PORT head|body
                          an incomplete request, then the write side
                          shut: bytes= received before end=
  cut PROTO PORT PATH VERSION
                          one GET (HTTP/VERSION): status=, framing=
                          (length, chunked, close), body= bytes,
                          complete= (the framing's end came), end=
  ws PROTO PORT           /ws upgrade, a Close (1000), the write side
                          shut: close_code= of the Close that came back
  wsback PROTO PORT MARK  /ws?half_close=1 upgrade: the backend's EOF
                          arrives (backend_eof=), then a NUL byte and
                          MARK are sent (tunnel bytes are any bytes) and
                          the write side shut (sent=)
  h2cut PROTO PORT PATH   one GET over HTTP/2 (python3-h2, default
                          windows, credited as read): status=, body=,
                          end= (ended, or reset:CODE)
"""
import base64
import os
import socket
import ssl
import struct
import sys
import time

TIMEOUT = 10.0


def out(**kv):
    for k, v in kv.items():
        print('%s=%s' % (k, v))
    sys.stdout.flush()


class Failure(Exception):
    pass


class Conn:
    """A client connection, cleartext or TLS on a memory BIO. recv()
    returns b'' at the end, and self.end says what ended it."""

    def __init__(self, proto, port, alpn='http/1.1'):
        self.sock = socket.create_connection(('127.0.0.1', port),
                                             timeout=TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.end = None
        self.tls = None
        self.notify = proto != 'tlsfin'
        if proto in ('tls', 'tlsfin'):
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.set_alpn_protocols([alpn])
            self.inc, self.outg = ssl.MemoryBIO(), ssl.MemoryBIO()
            self.tls = ctx.wrap_bio(self.inc, self.outg,
                                    server_hostname='a.test')
            self._handshake()

    def _flush(self):
        data = self.outg.read()
        if data:
            self.sock.sendall(data)

    def _feed(self):
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            self.end = 'reset'
            return False
        if not data:
            self.inc.write_eof()
        else:
            self.inc.write(data)
        return True

    def _handshake(self):
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                self.tls.do_handshake()
                self._flush()
                return
            except ssl.SSLWantReadError:
                self._flush()
                if not self._feed():
                    break
        raise Failure('TLS handshake')

    def send(self, data):
        if self.tls is None:
            self.sock.sendall(data)
            return
        self.tls.write(data)
        self._flush()

    def shut_write(self):
        """The write side ends: a close_notify first over TLS."""
        if self.tls is not None and self.notify:
            try:
                self.tls.unwrap()
            except ssl.SSLWantReadError:
                pass                    # sent; the peer's comes later
            self._flush()
        self.sock.shutdown(socket.SHUT_WR)

    def recv(self):
        if self.end is not None:
            return b''
        if self.tls is None:
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                self.end = 'reset'
                return b''
            if not data:
                self.end = 'fin'
            return data
        while True:
            try:
                data = self.tls.read(65536)
                if data:
                    return data
                self.end = 'close_notify'
                return b''
            except ssl.SSLWantReadError:
                if not self._feed():
                    return b''
            except ssl.SSLZeroReturnError:
                self.end = 'close_notify'
                return b''
            except ssl.SSLEOFError:
                self.end = 'fin'        # no close_notify
                return b''
            except ssl.SSLError as e:
                self.end = 'tls_error:%s' % e.reason
                return b''

    def read_until(self, done, seconds=TIMEOUT):
        """Reads into self.buf until done(buf) or the end; False on a
        timeout."""
        deadline = time.monotonic() + seconds
        while not done(self.buf):
            if self.end is not None:
                return True
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                data = self.recv()
            except socket.timeout:
                return False
            self.buf += data
        return True

    buf = b''


# ---- HTTP/1.1 responses, parsed from bytes ----

def parse_head(buf):
    """(status, fields, rest) or None while the head is incomplete."""
    if b'\r\n\r\n' not in buf:
        return None
    head, rest = buf.split(b'\r\n\r\n', 1)
    lines = head.decode('latin-1').split('\r\n')
    fields = {}
    for ln in lines[1:]:
        k, v = ln.split(':', 1)
        fields[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), fields, rest


def parse_chunked(buf):
    """(body, complete, rest): complete once the last chunk and the empty
    line after it (no trailers here) came."""
    body = b''
    while True:
        if b'\r\n' not in buf:
            return body, False, buf
        line, after = buf.split(b'\r\n', 1)
        size = int(line.split(b';')[0], 16)
        if size == 0:
            if after.startswith(b'\r\n'):
                return body, True, after[2:]
            return body, False, buf
        if len(after) < size + 2:
            return body + after[:size], False, b''
        body += after[:size]
        buf = after[size + 2:]


def parse_response(buf, is_eof):
    """(status, framing, body, complete, rest) of the first response."""
    h = parse_head(buf)
    if h is None:
        return None
    status, fields, rest = h
    if 'content-length' in fields:
        n = int(fields['content-length'])
        return status, 'length', rest[:n], len(rest) >= n, rest[n:]
    if 'chunked' in fields.get('transfer-encoding', ''):
        body, complete, rest = parse_chunked(rest)
        return status, 'chunked', body, complete, rest
    return status, 'close', rest, is_eof, b''


def request(path, version='1.1'):
    return ('GET %s HTTP/%s\r\nHost: a.test\r\n\r\n' %
            (path, version)).encode()


def mode_req(proto, port, path, n):
    c = Conn(proto, port)
    c.send(request(path) * int(n))
    c.shut_write()
    c.read_until(lambda b: False)
    rest, i = c.buf, 0
    while rest:
        r = parse_response(rest, True)
        if r is None:
            break
        status, framing, body, complete, rest = r
        i += 1
        out(**{'status_%d' % i: status, 'complete_%d' % i:
               'yes' if complete else 'no', 'body_%d' % i: len(body)})
    out(responses=i, end=c.end)


def mode_partial(proto, port, kind):
    c = Conn(proto, port)
    if kind == 'head':
        c.send(b'GET /echo HTTP/1.1\r\nHost: a.test\r\nX-Half: ')
    else:
        c.send(b'POST /echo HTTP/1.1\r\nHost: a.test\r\n'
               b'Content-Length: 100\r\n\r\n' + b'x' * 10)
    time.sleep(0.2)             # the body's start reaches the backend
    c.shut_write()
    c.read_until(lambda b: False)
    out(bytes=len(c.buf), end=c.end)


def mode_cut(proto, port, path, version):
    c = Conn(proto, port)
    c.send(request(path, version))

    def done(b):
        r = parse_response(b, False)
        return r is not None and r[3]
    if not c.read_until(done):
        out(timeout='yes')
    r = parse_response(c.buf, c.end == 'fin' or c.end == 'close_notify')
    if r is None:
        out(status='none', end=c.end)
        return
    status, framing, body, complete, _ = r
    out(status=status, framing=framing, body=len(body),
        complete='yes' if complete else 'no', end=c.end)


# ---- WebSocket over HTTP/1.1 ----

def upgrade(c, path):
    key = base64.b64encode(os.urandom(16)).decode()
    c.send(('GET %s HTTP/1.1\r\nHost: a.test\r\nUpgrade: websocket\r\n'
            'Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n'
            'Sec-WebSocket-Key: %s\r\n\r\n' % (path, key)).encode())
    c.read_until(lambda b: parse_head(b) is not None)
    h = parse_head(c.buf)
    if h is None or h[0] != 101:
        raise Failure('no 101: %r' % c.buf[:200])
    c.buf = h[2]


def masked(b0, payload):
    mask = os.urandom(4)
    body = bytes(x ^ mask[i & 3] for i, x in enumerate(payload))
    return bytes([b0, 0x80 | len(payload)]) + mask + body


def mode_ws(proto, port):
    c = Conn(proto, port)
    upgrade(c, '/ws')
    c.send(masked(0x88, struct.pack('>H', 1000)))      # Close, 1000
    c.shut_write()
    c.read_until(lambda b: len(b) >= 4)
    b = c.buf
    if len(b) >= 4 and b[0] == 0x88 and b[1] == 2:
        out(close_code=struct.unpack('>H', b[2:4])[0])
    else:
        out(close_code='none', got=repr(b[:40]))
    c.read_until(lambda b: False)
    out(end=c.end)


def mode_wsback(proto, port, mark):
    c = Conn(proto, port)
    upgrade(c, '/ws?half_close=1')
    if not c.read_until(lambda b: False, 5):
        out(backend_eof='timeout')
        return
    out(backend_eof=c.end, bytes=len(c.buf))
    c.send(b'\0' + mark.encode())
    time.sleep(0.3)
    c.shut_write()
    out(sent=1 + len(mark))


# ---- HTTP/2 ----

def mode_h2cut(proto, port, path):
    import h2.config
    import h2.connection
    import h2.events

    c = Conn('tls' if proto == 'tls' else 'plain', port, alpn='h2')
    h2c = h2.connection.H2Connection(h2.config.H2Configuration(
        client_side=True, header_encoding='utf-8'))
    h2c.initiate_connection()
    h2c.send_headers(1, [(':method', 'GET'), (':scheme', 'https'),
                         (':authority', 'a.test'), (':path', path)],
                     end_stream=True)
    c.send(h2c.data_to_send())
    status, body, end = 'none', 0, 'none'
    deadline = time.monotonic() + TIMEOUT
    while end == 'none' and time.monotonic() < deadline:
        c.sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            data = c.recv()
        except socket.timeout:
            break
        if not data:
            end = 'closed:%s' % c.end
            break
        for ev in h2c.receive_data(data):
            if isinstance(ev, h2.events.ResponseReceived):
                status = dict(ev.headers).get(':status')
            elif isinstance(ev, h2.events.DataReceived):
                body += len(ev.data)
                h2c.acknowledge_received_data(
                    ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded):
                end = 'ended'
            elif isinstance(ev, h2.events.StreamReset):
                end = 'reset:%s' % ev.error_code.name
        c.send(h2c.data_to_send())
    out(status=status, body=body, end=end)


def main(argv):
    modes = {'req': mode_req, 'partial': mode_partial, 'cut': mode_cut,
             'ws': mode_ws, 'wsback': mode_wsback, 'h2cut': mode_h2cut}
    if len(argv) < 4 or argv[1] not in modes:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        modes[argv[1]](argv[2], int(argv[3]), *argv[4:])
    except (Failure, OSError, ssl.SSLError) as e:
        out(error=repr(e))
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
