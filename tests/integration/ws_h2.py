#!/usr/bin/python3
"""tests/integration/ws_h2.py MODE PORT [HOST]: WebSockets over HTTP/2
(RFC 8441) through portico's TLS listener, for test_ws.c. python3-h2
speaks HTTP/2 (ALPN h2, no certificate check); the WebSocket frames are
written by hand (masked, as a client must) and parsed by hand.

It prints what it saw as "key=value" lines and exits 0 unless something
unexpected stopped it (exit 2, with error=...). Every wait is bounded.
HOST (default a.test) is the SNI name and :authority; test_ws.c routes
u.a.test to the origin's unix socket.

Modes:
  settings PORT       the server's first SETTINGS: enable_connect_protocol;
                      then how an extended CONNECT /ws?unannounced=1 ends
  echo PORT [HOST]    extended CONNECT /ws (protocols "chat, superchat"):
                      text, binary, 16 MiB, ping/pong, close 4001
  ext PORT            extended CONNECT /ws?ext=1 offering "x-foo; a=1, y"
  many PORT N         N tunnels at once on one connection, each echoing
                      its own message, and a GET /echo meanwhile
  refuse PORT         plain CONNECT; :protocol foo; then a GET /echo
  refuse403 PORT      extended CONNECT to /ws-refuse
  badaccept PORT      /ws-badaccept
  idle PORT           a tunnel left idle for 3 s: how it ended, and when
  active PORT         a message every 300 ms for 2.5 s, all echoed
  kill PORT           /ws?close_after_ms=300: how the stream ended
  reset PORT          /ws?reset_after_ms=300 (the backend resets): the same
"""
import asyncio
import hashlib
import json
import ssl
import struct
import sys
import time

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

from h2frames import out, pattern, tls_context, ws_frame, ws_parse, Failure, \
    OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT

TIMEOUT = 20.0
BIG = 16 << 20


class Stream:
    def __init__(self, sid):
        self.sid = sid
        self.headers = None     # response fields, dict of str
        self.buf = bytearray()  # DATA not yet parsed
        self.ended = False      # END_STREAM from the server
        self.reset = None       # RST_STREAM error code
        self.changed = asyncio.Event()
        self.t_end = None

    def end_kind(self):
        if self.reset is not None:
            return 'reset:%d' % self.reset
        if self.ended:
            return 'end_stream'
        return 'open'


class Conn:
    async def open(self, port, host='a.test', tls=True, big_windows=True):
        """TLS (ALPN h2) or, TLS false, h2c with prior knowledge.
        BIG_WINDOWS: 16 MiB stream and 64 MiB more connection window;
        else the default 65,535 bytes of each, as a browser keeps."""
        ctx = tls_context() if tls else None
        self.r, self.w = await asyncio.wait_for(asyncio.open_connection(
            '127.0.0.1', port, ssl=ctx,
            server_hostname=host if tls else None), TIMEOUT)
        if tls:
            alpn = self.w.get_extra_info(
                'ssl_object').selected_alpn_protocol()
            if alpn != 'h2':
                raise Failure('alpn %r' % alpn)
        self.host = host
        self.scheme = 'https' if tls else 'http'
        cfg = h2.config.H2Configuration(
            client_side=True, validate_outbound_headers=False,
            normalize_outbound_headers=False, header_encoding='latin-1')
        self.conn = h2.connection.H2Connection(config=cfg)
        self.conn.initiate_connection()
        if big_windows:
            self.conn.update_settings({
                h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 16 << 20})
            self.conn.increment_flow_control_window(64 << 20)
        self.streams = {}
        self.peer_settings = None       # the server's first SETTINGS
        self.settings_seen = asyncio.Event()
        self.window = asyncio.Event()
        self.closed = False
        self.flush()
        self.reader = asyncio.ensure_future(self.read_loop())
        await asyncio.wait_for(self.settings_seen.wait(), TIMEOUT)
        return self

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.w.write(data)

    async def read_loop(self):
        try:
            while True:
                data = await self.r.read(1 << 20)
                if not data:
                    break
                for ev in self.conn.receive_data(data):
                    self.on_event(ev)
                self.flush()
        except (ConnectionError, ssl.SSLError, OSError):
            pass
        finally:
            self.closed = True
            self.window.set()
            self.settings_seen.set()
            for st in self.streams.values():
                st.changed.set()

    def on_event(self, ev):
        st = self.streams.get(getattr(ev, 'stream_id', None))
        if isinstance(ev, h2.events.RemoteSettingsChanged):
            if self.peer_settings is None:
                self.peer_settings = {int(k): v.new_value for k, v in
                                      ev.changed_settings.items()}
                self.settings_seen.set()
            self.window.set()
        elif isinstance(ev, h2.events.WindowUpdated):
            self.window.set()
        elif isinstance(ev, h2.events.ResponseReceived) and st:
            st.headers = dict(ev.headers)
        elif isinstance(ev, h2.events.DataReceived):
            self.credit(ev)
            if st:
                st.buf += ev.data
        elif isinstance(ev, h2.events.StreamEnded) and st:
            st.ended = True
            st.t_end = time.monotonic()
        elif isinstance(ev, h2.events.StreamReset) and st:
            st.reset = ev.error_code
            st.t_end = time.monotonic()
        if st:
            st.changed.set()

    def credit(self, ev):
        """The DATA frame EV was read: its window goes back as
        self.credit_how says: "half" (the default), batched by python3-h2 at
        half the window, as browsers do; "each", at once in a
        WINDOW_UPDATE per frame for the stream and the connection;
        "none": never (a client that stopped reading)."""
        n = ev.flow_controlled_length
        how = getattr(self, 'credit_how', 'half')
        if how == 'half':
            self.conn.acknowledge_received_data(n, ev.stream_id)
            return
        if n == 0 or how == 'none':
            return
        self.conn.increment_flow_control_window(n)
        if not ev.stream_ended:
            try:
                self.conn.increment_flow_control_window(n, ev.stream_id)
            except (KeyError, h2.exceptions.StreamClosedError):
                pass

    def request(self, method, path, protocol=None, extra=(), end=False,
                scheme=True):
        sid = self.conn.get_next_available_stream_id()
        hdrs = [(':method', method)]
        if protocol is not None:
            hdrs.append((':protocol', protocol))
        if scheme:
            hdrs += [(':scheme', self.scheme), (':path', path)]
        hdrs.append((':authority', self.host if scheme else
                     self.host + ':443'))
        hdrs += list(extra)
        st = self.streams[sid] = Stream(sid)
        self.conn.send_headers(sid, hdrs, end_stream=end)
        self.flush()
        return st

    def websocket(self, path, extra=()):
        return self.request('CONNECT', path, 'websocket', [
            ('sec-websocket-version', '13')] + list(extra))

    async def wait(self, st, cond, seconds=TIMEOUT):
        """Waits until COND() holds for ST; False at the deadline."""
        deadline = time.monotonic() + seconds
        while not cond():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            st.changed.clear()
            if cond():
                break
            try:
                await asyncio.wait_for(st.changed.wait(), left)
            except asyncio.TimeoutError:
                return cond()
        return True

    async def response(self, st, seconds=TIMEOUT):
        await self.wait(st, lambda: st.headers is not None or
                        st.reset is not None or st.ended or self.closed,
                        seconds)
        if st.headers is None:
            raise Failure('no response on stream %d (%s)' %
                          (st.sid, st.end_kind()))
        return st.headers.get(':status')

    async def send(self, st, data, end=False):
        """DATA within the flow-control windows."""
        view = memoryview(data)
        deadline = time.monotonic() + TIMEOUT * 3
        while len(view) > 0:
            if self.closed or st.reset is not None:
                raise Failure('stream %d gone while sending' % st.sid)
            n = min(self.conn.local_flow_control_window(st.sid),
                    self.conn.max_outbound_frame_size, len(view))
            if n <= 0:
                self.window.clear()
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failure('no flow-control window')
                try:
                    await asyncio.wait_for(self.window.wait(), left)
                except asyncio.TimeoutError:
                    raise Failure('no flow-control window')
                continue
            self.conn.send_data(st.sid, bytes(view[:n]))
            view = view[n:]
            self.flush()
            await self.w.drain()
        if end:
            self.conn.end_stream(st.sid)
            self.flush()
        await self.w.drain()

    async def ws_send(self, st, opcode, payload):
        await self.send(st, ws_frame(opcode, payload))

    async def ws_recv(self, st, seconds=TIMEOUT):
        """One whole server frame: (fin, opcode, payload), or None if the
        stream ended or the time ran out first."""
        hdr = {}

        def parse():
            f = ws_parse(st.buf)
            if f is None:
                return False
            hdr['frame'], st.buf = f[:3], f[3]
            return True

        ok = await self.wait(st, lambda: parse() or st.reset is not None or
                             st.ended or self.closed, seconds)
        if 'frame' in hdr:
            return hdr['frame']
        if ok and parse():
            return hdr['frame']
        return None

    async def close(self):
        self.reader.cancel()
        self.w.close()
        try:
            await asyncio.wait_for(self.w.wait_closed(), 2)
        except (asyncio.TimeoutError, ConnectionError, ssl.SSLError,
                OSError):
            pass


async def echo_case(c, st, name, opcode, payload):
    await c.ws_send(st, opcode, payload)
    f = await c.ws_recv(st, TIMEOUT * 2)
    if f is None:
        out(**{name: 'none (%s)' % st.end_kind()})
    elif f[1] != opcode or f[2] != payload:
        out(**{name: 'mismatch opcode %d, %d bytes' % (f[1], len(f[2]))})
    else:
        out(**{name: 'ok'})


async def open_ws(c, path, extra=()):
    st = c.websocket(path, extra)
    status = await c.response(st)
    return st, status


async def mode_settings(port):
    c = await Conn().open(port)
    v = c.peer_settings.get(h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL)
    out(enable_connect_protocol='absent' if v is None else v)
    # an extended CONNECT anyway: how it ends
    st = c.websocket('/ws?unannounced=1')
    await c.wait(st, lambda: st.headers is not None or
                 st.reset is not None or st.ended or c.closed)
    out(ws=st.headers.get(':status') if st.headers is not None else
        'conn_closed' if c.closed and st.reset is None else st.end_kind())
    await c.close()


async def mode_echo(port, host='a.test'):
    c = await Conn().open(port, host)
    out(enable_connect_protocol=c.peer_settings.get(
        h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL, 'absent'))
    st, status = await open_ws(c, '/ws', [
        ('sec-websocket-protocol', 'chat, superchat')])
    out(status=status,
        protocol=st.headers.get('sec-websocket-protocol', '(absent)'),
        accept=st.headers.get('sec-websocket-accept', '(absent)'),
        upgrade=st.headers.get('upgrade', '(absent)'))
    if status != '200':
        return
    await echo_case(c, st, 'text', OP_TEXT, 'hello-h2-ünïcode'.encode())
    await echo_case(c, st, 'binary', OP_BINARY, bytes(range(256)) * 4)
    big = pattern(BIG)
    t0 = time.monotonic()
    await c.ws_send(st, OP_BINARY, big)
    f = await c.ws_recv(st, TIMEOUT * 3)
    out(big='ok' if f is not None and f[1] == OP_BINARY and
        hashlib.sha256(f[2]).digest() == hashlib.sha256(big).digest()
        else 'bad (%s)' % ('none' if f is None else len(f[2])),
        big_ms=int((time.monotonic() - t0) * 1000))
    await c.ws_send(st, OP_PING, b'ping-42')
    f = await c.ws_recv(st)
    out(pong='ok' if f == (True, OP_PONG, b'ping-42') else repr(f))
    await c.ws_send(st, OP_CLOSE, struct.pack('!H', 4001) + b'bye')
    f = await c.ws_recv(st)
    if f is not None and f[1] == OP_CLOSE and len(f[2]) >= 2:
        out(close_code=struct.unpack('!H', f[2][:2])[0])
    else:
        out(close_code='none (%r)' % (f,))
    # the origin shuts its side after its Close: the stream ends
    await c.wait(st, lambda: st.ended or st.reset is not None, 5)
    out(server_end=st.end_kind())
    await c.send(st, b'', end=True)
    # the connection still serves requests
    g = c.request('GET', '/echo?after=1', end=True)
    out(after=await c.response(g))
    await c.close()


async def mode_ext(port):
    c = await Conn().open(port)
    st, status = await open_ws(c, '/ws?ext=1', [
        ('sec-websocket-protocol', 'chat'),
        ('sec-websocket-extensions', 'x-foo; a=1, y')])
    out(status=status,
        protocol=st.headers.get('sec-websocket-protocol', '(absent)'),
        extensions=st.headers.get('sec-websocket-extensions', '(absent)'))
    if status == '200':
        await echo_case(c, st, 'text', OP_TEXT, b'ext-ok')
        await c.ws_send(st, OP_CLOSE, struct.pack('!H', 1000))
        await c.ws_recv(st)
    await c.close()


async def mode_many(port, n):
    c = await Conn().open(port)
    streams = [c.websocket('/ws?n=%d' % i) for i in range(n)]
    statuses = await asyncio.gather(*(c.response(st) for st in streams))
    out(tunnels_200=sum(1 for s in statuses if s == '200'))
    # all open at once: a GET on the same connection meanwhile
    g = c.request('GET', '/echo?meanwhile=1', end=True)
    get_status = await c.response(g)
    await c.wait(g, lambda: g.ended or g.reset is not None)
    try:
        target = json.loads(bytes(g.buf)).get('target')
    except ValueError:
        target = '(not json)'
    out(get_status=get_status, get_target=target,
        get_while_open=sum(1 for st in streams if st.end_kind() == 'open'))

    async def one(i, st):
        msg = ('tunnel-%d-' % i).encode() * (1 + i % 7)
        await c.ws_send(st, OP_TEXT, msg)
        f = await c.ws_recv(st)
        return f is not None and f[1] == OP_TEXT and f[2] == msg

    oks = await asyncio.gather(*(one(i, st) for i, st in
                                 enumerate(streams)))
    out(echoed=sum(oks))

    async def bye(st):
        await c.ws_send(st, OP_CLOSE, struct.pack('!H', 1000))
        f = await c.ws_recv(st)
        await c.send(st, b'', end=True)
        await c.wait(st, lambda: st.ended or st.reset is not None, 10)
        return f is not None and f[1] == OP_CLOSE and st.ended

    closes = await asyncio.gather(*(bye(st) for st in streams))
    out(closed=sum(closes))
    await c.close()


async def mode_refuse(port):
    c = await Conn().open(port)
    st = c.request('CONNECT', None, scheme=False)   # RFC 9113 §8.5
    out(connect_status=await c.response(st))
    st = c.request('CONNECT', '/ws', 'foo',
                   [('sec-websocket-version', '13')])
    out(foo_status=await c.response(st))
    # the connection still serves requests
    g = c.request('GET', '/echo?after=1', end=True)
    out(after=await c.response(g))
    await c.close()


async def mode_refuse403(port):
    c = await Conn().open(port)
    st, status = await open_ws(c, '/ws-refuse')
    await c.wait(st, lambda: st.ended or st.reset is not None)
    out(refuse_status=status, refuse_body=bytes(st.buf).decode(
        'latin-1').strip())
    await c.close()


async def mode_badaccept(port):
    c = await Conn().open(port)
    st, status = await open_ws(c, '/ws-badaccept')
    await c.wait(st, lambda: st.ended or st.reset is not None)
    out(status=status, end=st.end_kind())
    g = c.request('GET', '/echo?after=1', end=True)
    out(after=await c.response(g))
    await c.close()


async def mode_idle(port):
    c = await Conn().open(port)
    st, status = await open_ws(c, '/ws')
    out(status=status)
    await echo_case(c, st, 'first', OP_TEXT, b'then-quiet')
    t0 = time.monotonic()
    await c.wait(st, lambda: st.ended or st.reset is not None or c.closed,
                 3.0)
    out(end=st.end_kind(), conn_closed=int(c.closed),
        end_ms=int((st.t_end - t0) * 1000) if st.t_end else -1)
    await c.close()


async def mode_active(port):
    c = await Conn().open(port)
    st, status = await open_ws(c, '/ws')
    out(status=status)
    sent = echoed = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < 2.5:
        msg = b'tick-%d' % sent
        sent += 1
        await c.ws_send(st, OP_TEXT, msg)
        f = await c.ws_recv(st, 2)
        if f is not None and f[2] == msg:
            echoed += 1
        await asyncio.sleep(0.3)
    out(sent=sent, echoed=echoed, end=st.end_kind())
    await c.ws_send(st, OP_CLOSE, struct.pack('!H', 1000))
    await c.ws_recv(st)
    await c.send(st, b'', end=True)
    await c.wait(st, lambda: st.ended or st.reset is not None, 5)
    await c.close()


async def mode_kill(port, path='/ws?close_after_ms=300'):
    c = await Conn().open(port)
    st, status = await open_ws(c, path)
    out(status=status)
    await echo_case(c, st, 'first', OP_TEXT, b'before-the-kill')
    t0 = time.monotonic()
    await c.wait(st, lambda: st.ended or st.reset is not None or c.closed,
                 5.0)
    out(end=st.end_kind(), conn_closed=int(c.closed),
        end_ms=int((st.t_end - t0) * 1000) if st.t_end else -1)
    if st.ended and st.reset is None:
        await c.send(st, b'', end=True)
    g = c.request('GET', '/echo?after=1', end=True)
    out(after=await c.response(g))
    await c.close()


async def mode_reset(port):
    await mode_kill(port, '/ws?reset_after_ms=300')


MODES = {
    'settings': mode_settings, 'echo': mode_echo, 'ext': mode_ext,
    'many': mode_many, 'refuse': mode_refuse,
    'refuse403': mode_refuse403, 'badaccept': mode_badaccept,
    'idle': mode_idle, 'active': mode_active, 'kill': mode_kill,
    'reset': mode_reset,
}


def main(argv):
    mode, port = argv[1], int(argv[2])
    args = argv[3:]
    if mode == 'many':
        args = [int(args[0])]
    try:
        asyncio.run(asyncio.wait_for(MODES[mode](port, *args), 100))
    except (Failure, asyncio.TimeoutError, ConnectionError, ssl.SSLError,
            OSError, h2.exceptions.ProtocolError) as e:
        out(error='%s: %s' % (type(e).__name__, e))
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
