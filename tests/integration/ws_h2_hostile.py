#!/usr/bin/python3
"""tests/integration/ws_h2_hostile.py MODE TRANSPORT PORT: RFC 8441
streams that try to get bytes to a backend before it has switched, for
test_hostile_ws.c. TRANSPORT is tls (ALPN h2, SNI a.test, no certificate
check) or h2c (prior knowledge, on the cleartext listener). The client
keeps the default windows and credits DATA as it reads it, as a browser
does; it sends only within the windows the server gives.

It prints what it saw as "key=value" lines and exits 0 unless something
unexpected stopped it (exit 2, with error=...). Every wait is bounded.

Modes:
  refuse     CONNECT /ws-refuse, then at once DATA holding a request
             (GET /smuggled); then a GET /echo?after=1 on the connection
  early      CONNECT /ws?delay_ms=500, then at once one WebSocket frame;
             the echo, when the :status came
  early-end  as early, with END_STREAM right after the frame: the echo,
             then how the stream ends
  over       CONNECT /ws?delay_ms=1000, then at once 65537 bytes (one
             more than portico holds before a 101); then a GET /echo
  status200  CONNECT /echo (the origin answers 200, it does not switch)
  slow101    CONNECT /ws?delay_ms=4000: the status, and after how long
  failmany   400 CONNECTs to /close?delay_ms=100 (the origin closes
             without a reply: 502), 50 at a time, each with a full
             stream window of DATA (65,535 bytes) right after HEADERS:
             the window of what portico held must come back, or the
             connection's 16 MiB run out after about 256 streams
"""
import json
import select
import ssl
import sys
import time

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from h2frames import dial, out, ws_frame, ws_parse, Failure, OP_TEXT

TIMEOUT = 10.0
EARLY_MAX = 64 * 1024           # H2_WS_EARLY_MAX in proxy/h2.h


class Stream:
    def __init__(self):
        self.headers = None
        self.t_headers = None
        self.data = bytearray()
        self.ended = False
        self.reset = None

    def end_kind(self):
        if self.reset is not None:
            return 'reset:%d' % self.reset
        return 'end_stream' if self.ended else 'open'


class Client:
    def __init__(self, transport, port):
        self.sock = dial(transport, port, TIMEOUT)
        self.scheme = 'https' if transport == 'tls' else 'http'
        cfg = h2.config.H2Configuration(
            client_side=True, validate_outbound_headers=False,
            normalize_outbound_headers=False, header_encoding='latin-1')
        self.conn = h2.connection.H2Connection(config=cfg)
        self.conn.initiate_connection()
        self.streams = {}
        self.closed = False
        self.has_settings = False
        self.flush()
        self.wait(lambda: self.has_settings)

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def pump(self, seconds):
        """Reads what comes within SECONDS and handles its events."""
        if self.closed:
            return
        pending = isinstance(self.sock, ssl.SSLSocket) and \
            self.sock.pending() > 0
        if not pending:
            r, _, _ = select.select([self.sock], [], [], max(seconds, 0))
            if not r:
                return
        try:
            data = self.sock.recv(1 << 16)
        except (ConnectionError, ssl.SSLError, OSError):
            data = b''
        if not data:
            self.closed = True
            return
        for ev in self.conn.receive_data(data):
            self.on_event(ev)
        self.flush()

    def on_event(self, ev):
        st = self.streams.get(getattr(ev, 'stream_id', None))
        if isinstance(ev, h2.events.RemoteSettingsChanged):
            self.has_settings = True
        elif isinstance(ev, h2.events.ResponseReceived) and st:
            st.headers = dict(ev.headers)
            st.t_headers = time.monotonic()
        elif isinstance(ev, h2.events.DataReceived):
            # credited as read, as a browser does
            self.conn.acknowledge_received_data(
                ev.flow_controlled_length, ev.stream_id)
            if st:
                st.data += ev.data
        elif isinstance(ev, h2.events.StreamEnded) and st:
            st.ended = True
        elif isinstance(ev, h2.events.StreamReset) and st:
            st.reset = ev.error_code

    def wait(self, cond, seconds=TIMEOUT):
        deadline = time.monotonic() + seconds
        while not cond() and not self.closed:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.pump(left)
        return cond()

    def open(self, method, path, protocol=None, end=False):
        sid = self.conn.get_next_available_stream_id()
        hdrs = [(':method', method)]
        if protocol is not None:
            hdrs.append((':protocol', protocol))
        hdrs += [(':scheme', self.scheme), (':path', path),
                 (':authority', 'a.test')]
        if protocol is not None:
            hdrs.append(('sec-websocket-version', '13'))
        self.streams[sid] = Stream()
        self.conn.send_headers(sid, hdrs, end_stream=end)
        self.flush()
        return sid

    def send(self, sid, data, end=False):
        """DATA within the windows the server gives."""
        view = memoryview(data)
        while len(view) > 0:
            n = min(self.conn.local_flow_control_window(sid),
                    self.conn.max_outbound_frame_size, len(view))
            if n <= 0:
                before = self.conn.local_flow_control_window(sid)
                if not self.wait(lambda: self.conn.local_flow_control_window(
                        sid) > before or self.streams[sid].reset is not None):
                    raise Failure('no window for stream %d' % sid)
                if self.streams[sid].reset is not None:
                    return
                continue
            self.conn.send_data(sid, bytes(view[:n]))
            view = view[n:]
        if end:
            self.conn.end_stream(sid)
        self.flush()

    def response(self, sid):
        st = self.streams[sid]
        self.wait(lambda: st.headers is not None or st.reset is not None
                  or st.ended)
        return st.headers.get(':status') if st.headers else st.end_kind()

    def finish(self, sid):
        st = self.streams[sid]
        self.wait(lambda: st.ended or st.reset is not None)
        return st

    def get_after(self):
        """GET /echo?after=1: its status and the origin's connection."""
        sid = self.open('GET', '/echo?after=1', end=True)
        status = self.response(sid)
        st = self.finish(sid)
        try:
            conn = json.loads(bytes(st.data)).get('connection', -1)
        except ValueError:
            conn = -1
        out(after=status, after_conn=conn)


def echo_of(c, sid):
    st = c.streams[sid]
    got = {}

    def have():
        f = ws_parse(st.data)
        if f is not None:
            got['f'] = f[1:3]       # (opcode, payload)
        return f is not None or st.ended or st.reset is not None

    c.wait(have)
    return got.get('f')


def mode_refuse(c):
    sid = c.open('CONNECT', '/ws-refuse', 'websocket')
    c.send(sid, b'GET /smuggled HTTP/1.1\r\nHost: evil\r\n\r\n')
    out(status=c.response(sid))
    st = c.finish(sid)
    out(body=bytes(st.data).decode('latin-1').strip(), end=st.end_kind())
    c.get_after()


def early(c, end):
    sid = c.open('CONNECT', '/ws?delay_ms=500', 'websocket')
    frame = ws_frame(OP_TEXT, b'early-frame')
    t0 = time.monotonic()
    c.send(sid, frame, end=end)
    out(sent=frame.hex(), status=c.response(sid))
    st = c.streams[sid]
    if st.t_headers is not None:
        out(status_ms=int((st.t_headers - t0) * 1000))
    f = echo_of(c, sid)
    out(echo='ok' if f is not None and f[:2] == (OP_TEXT, b'early-frame')
        else repr(f))
    if end:
        out(server_end=c.finish(sid).end_kind())


def mode_early(c):
    early(c, False)


def mode_early_end(c):
    early(c, True)


def mode_over(c):
    sid = c.open('CONNECT', '/ws?delay_ms=1000', 'websocket')
    c.send(sid, b'x' * (EARLY_MAX + 1))
    out(window=c.conn.local_flow_control_window(sid))
    c.wait(lambda: c.streams[sid].reset is not None or
           c.streams[sid].headers is not None)
    st = c.streams[sid]
    out(status=st.headers.get(':status') if st.headers else '(none)',
        end=st.end_kind())
    c.get_after()


def mode_status200(c):
    sid = c.open('CONNECT', '/echo', 'websocket')
    out(status=c.response(sid))
    st = c.finish(sid)
    out(body=bytes(st.data).decode('latin-1').strip(), end=st.end_kind())


def mode_slow101(c):
    t0 = time.monotonic()
    sid = c.open('CONNECT', '/ws?delay_ms=4000', 'websocket')
    out(status=c.response(sid), status_ms=int((time.monotonic() - t0) *
                                              1000))


def mode_failmany(c):
    n502 = 0
    for _ in range(8):
        sids = [c.open('CONNECT', '/close?delay_ms=100', 'websocket')
                for _ in range(50)]
        for sid in sids:
            c.send(sid, b'x' * 65535)
        for sid in sids:
            if c.response(sid) == '502':
                n502 += 1
            st = c.finish(sid)
            if st.reset is None:
                c.conn.reset_stream(sid)
        c.flush()
    out(status502=n502)
    c.get_after()


MODES = {
    'refuse': mode_refuse, 'early': mode_early, 'early-end': mode_early_end,
    'over': mode_over, 'status200': mode_status200,
    'failmany': mode_failmany, 'slow101': mode_slow101,
}


def main(argv):
    mode, transport, port = argv[1], argv[2], int(argv[3])
    try:
        c = Client(transport, port)
        MODES[mode](c)
        c.sock.close()
    except (Failure, ConnectionError, ssl.SSLError, OSError,
            h2.exceptions.ProtocolError) as e:
        out(error='%s: %s' % (type(e).__name__, e))
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
