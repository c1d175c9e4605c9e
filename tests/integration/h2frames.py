"""tests/integration/h2frames.py: what the Python test clients share:
key=value output, the body pattern, dialing portico (TLS with ALPN, or
cleartext), HTTP/2's frame layer built and parsed by hand (RFC 9113 §4),
a non-blocking raw-frame connection, and WebSocket frames (RFC 6455
§5.2) as RFC 8441 carries them in DATA. Standard library only; the
scripts beside it import it (their directory is first on sys.path).
"""
import os
import socket
import ssl
import struct
import sys
import time

PREFACE = b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'
NOTICE_ID = 2 ** 31 - 1         # the last stream id of a GOAWAY notice
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, \
    GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS, PADDED, PRIO = 0x1, 0x1, 0x4, 0x8, 0x20
CODES = {0: 'NO_ERROR', 1: 'PROTOCOL_ERROR', 2: 'INTERNAL_ERROR',
         3: 'FLOW_CONTROL_ERROR', 4: 'SETTINGS_TIMEOUT', 5: 'STREAM_CLOSED',
         6: 'FRAME_SIZE_ERROR', 7: 'REFUSED_STREAM', 8: 'CANCEL',
         9: 'COMPRESSION_ERROR', 10: 'CONNECT_ERROR',
         11: 'ENHANCE_YOUR_CALM', 12: 'INADEQUATE_SECURITY',
         13: 'HTTP_1_1_REQUIRED'}


class Failure(Exception):
    """A check that failed; the script reports it and exits 2."""


def out(**kv):
    """Prints key=value lines, for the C tests' assert_kv()."""
    for k, v in kv.items():
        print('%s=%s' % (k, v))
    sys.stdout.flush()


PIECE = bytes(range(97, 123)) * 4096     # a..z, built once


def pattern(n):
    """N bytes of a..z repeated, the body the origin's /bytes/N sends."""
    return (PIECE * (n // len(PIECE) + 1))[:n]


def tls_context(alpn='h2'):
    """No certificate check (the test CA is not ours to trust); ALPN."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols([alpn])
    return ctx


def dial(proto, port, timeout, alpn='h2', nodelay=False, rcvbuf=0,
         host='a.test'):
    """127.0.0.1:PORT, over TLS (SNI HOST) if PROTO is "tls", else in the
    clear; raises Failure if the server picks another ALPN protocol.
    RCVBUF is set before connecting, so that the window it offers holds."""
    raw = socket.socket()
    if rcvbuf:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    raw.settimeout(timeout)
    try:
        raw.connect(('127.0.0.1', port))
    except OSError:
        raw.close()
        raise
    if nodelay:
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if proto != 'tls':
        return raw
    s = tls_context(alpn).wrap_socket(raw, server_hostname=host)
    if s.selected_alpn_protocol() != alpn:
        raise Failure('alpn %r' % s.selected_alpn_protocol())
    return s


def connect(proto, port, timeout, **kw):
    """dial(), but a wrong ALPN prints error=... and exits 2."""
    try:
        return dial(proto, port, timeout, **kw)
    except Failure as e:
        out(error=e)
        sys.exit(2)


def tcp_conns(port, state):
    """Sockets towards 127.0.0.1:PORT in STATE ('01' established, '02'
    SYN_SENT), from /proc/net/tcp."""
    want = '0100007F:%04X' % port
    n = 0
    with open('/proc/net/tcp') as f:
        for line in f.readlines()[1:]:
            col = line.split()
            if col[2] == want and col[3] == state:
                n += 1
    return n


def frame(ftype, flags, sid, payload=b''):
    return struct.pack('>I', len(payload))[1:] + struct.pack(
        '>BBI', ftype, flags, sid) + payload


def take(buf):
    """The first whole frame of BUF as (type, flags, stream id, payload),
    and the bytes after it; (None, BUF) while no frame is whole."""
    if len(buf) < 9:
        return None, buf
    n = int.from_bytes(buf[:3], 'big')
    if len(buf) < 9 + n:
        return None, buf
    sid = struct.unpack('>I', buf[5:9])[0] & 0x7fffffff
    return (buf[3], buf[4], sid, bytes(buf[9:9 + n])), buf[9 + n:]


def take_frame(buf):
    """take(), for the clients built on python3-hyperframe: the first
    whole frame as a hyperframe Frame, and the bytes after it. Imported
    only here, so that the rest needs only the standard library."""
    from hyperframe.frame import Frame
    if len(buf) < 9:
        return None, buf
    f, n = Frame.parse_frame_header(memoryview(bytes(buf[:9])))
    if len(buf) < 9 + n:
        return None, buf
    f.parse_body(memoryview(bytes(buf[9:9 + n])))
    return f, buf[9 + n:]


def unpad(flags, payload, ftype=DATA):
    """A DATA or HEADERS payload without its padding (and priority)."""
    if flags & PADDED:
        payload = payload[1:len(payload) - payload[0]]
    if ftype == HEADERS and flags & PRIO:
        payload = payload[5:]
    return payload


def request_fields(method, path, extra=(), authority='a.test',
                   scheme='https'):
    return [(':method', method), (':scheme', scheme),
            (':authority', authority), (':path', path)] + list(extra)


class Raw:
    """A non-blocking connection that writes frames and parses what comes
    back: on_frame() is called for each frame (it counts them and keeps
    the GOAWAY). Every wait is bounded by TIMEOUT or its SECONDS."""

    def __init__(self, proto, port, timeout, settings=b'', preface=True,
                 nodelay=True):
        self.timeout = timeout
        self.sock = dial(proto, port, timeout, nodelay=nodelay)
        self.sock.setblocking(False)
        self.buf = b''
        self.closed = False
        self.write_failed = False
        self.read_error = 'none'
        self.goaway = None          # (last stream id, error code)
        self.frames = {}            # frame type -> count received
        if preface:
            self.send(PREFACE + frame(SETTINGS, 0, 0, settings))

    def send(self, data):
        """Writes DATA, reading meanwhile; False once the peer is gone."""
        deadline = time.monotonic() + self.timeout
        while data and not self.closed and time.monotonic() < deadline:
            try:
                n = self.sock.send(data)
                data = data[n:]
            except (ssl.SSLWantWriteError, ssl.SSLWantReadError,
                    BlockingIOError):
                self.read(0.01)
            except (ConnectionError, ssl.SSLError, OSError):
                self.write_failed = True    # what came may still be read
                break
        self.read(0)
        return not self.closed and not self.write_failed

    def read(self, seconds, until=None):
        """Reads for SECONDS at most, or until UNTIL() or the close."""
        deadline = time.monotonic() + seconds
        while not self.closed:
            if until is not None and until():
                return
            try:
                data = self.sock.recv(1 << 16)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError,
                    BlockingIOError):
                if time.monotonic() >= deadline:
                    return
                time.sleep(0.002)
                continue
            except (ConnectionError, ssl.SSLError, OSError) as e:
                self.read_error = type(e).__name__
                data = b''
            if not data:
                self.closed = True
                return
            self.buf += data
            while True:
                f, self.buf = take(self.buf)
                if f is None:
                    break
                self.frames[f[0]] = self.frames.get(f[0], 0) + 1
                self.on_frame(*f)

    def on_frame(self, ftype, flags, sid, payload):
        if ftype == GOAWAY:
            last, code = struct.unpack('>II', payload[:8])
            self.goaway = (last & 0x7fffffff, code)


# ---- WebSocket frames ----

OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 1, 2, 8, 9, 10


def ws_mask(payload, key):
    """PAYLOAD xor the 4-byte KEY repeated (RFC 6455 §5.3)."""
    if not payload:
        return payload
    n = len(payload)
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, 'big') ^
            int.from_bytes(k, 'big')).to_bytes(n, 'big')


def ws_frame(opcode, payload, fin=True, key=None):
    """A masked client frame; KEY is 4 random bytes unless given."""
    b0 = (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        head = struct.pack('!BB', b0, 0x80 | n)
    elif n < 65536:
        head = struct.pack('!BBH', b0, 0x80 | 126, n)
    else:
        head = struct.pack('!BBQ', b0, 0x80 | 127, n)
    key = os.urandom(4) if key is None else key
    return head + key + ws_mask(payload, key)


def ws_parse(buf):
    """(fin, opcode, payload, rest) of the first whole server frame in
    BUF, or None while none is whole; Failure if it is masked."""
    if len(buf) < 2:
        return None
    if buf[1] & 0x80:
        raise Failure('masked server frame')
    n, off = buf[1] & 0x7f, 2
    if n == 126:
        if len(buf) < 4:
            return None
        n, off = struct.unpack('!H', bytes(buf[2:4]))[0], 4
    elif n == 127:
        if len(buf) < 10:
            return None
        n, off = struct.unpack('!Q', bytes(buf[2:10]))[0], 10
    if len(buf) < off + n:
        return None
    return bool(buf[0] & 0x80), buf[0] & 0x0f, bytes(buf[off:off + n]), \
        buf[off + n:]
