#!/usr/bin/python3
"""tests/integration/ws_h1.py MODE PORT [HOST]: WebSockets over HTTP/1.1
and TLS (wss://, ALPN http/1.1, no certificate check) through portico,
for test_ws.c: python3-websockets 10.4 (asyncio API) as the client, and a
raw TLS socket where the bytes matter.

It prints what it saw as "key=value" lines and exits 0 unless something
unexpected stopped it (exit 2, with error=...). Every wait is bounded.
HOST (default a.test) is the SNI name and Host; test_ws.c routes u.a.test
to the origin's unix socket.

Modes:
  echo PORT [HOST]  text, binary, 16 MiB, ping/pong, close 4001
  refuse PORT       raw: an upgrade to /ws-refuse, then GET /echo on the
                    same connection
  badaccept PORT    raw: the 101 from /ws-badaccept as it came; then
                    websockets on the same path
  idle PORT         a tunnel left idle for 3 s: whether and when it closed
  active PORT       a message every 300 ms for 2.5 s, all echoed
  kill PORT         /ws?close_after_ms=300: how the client side ended
"""
import asyncio
import base64
import hashlib
import os
import ssl
import sys
import time

import websockets
import websockets.exceptions

from h2frames import dial, out, pattern, tls_context, Failure

TIMEOUT = 20.0
BIG = 16 << 20
GUID = b'258EAFA5-E914-47DA-95CA-C5AB0DC85B11'


def connect(port, host, path, **kw):
    return websockets.connect(
        'wss://%s:%d%s' % (host, port, path), ssl=tls_context('http/1.1'),
        host='127.0.0.1', port=port, server_hostname=host,
        open_timeout=TIMEOUT, close_timeout=5, ping_interval=None,
        max_size=None, compression=None, **kw)


async def mode_echo(port, host='a.test'):
    async with connect(port, host, '/ws',
                       subprotocols=['chat', 'superchat']) as ws:
        out(subprotocol=ws.subprotocol)
        msg = 'hello-h1-ünïcode'
        await ws.send(msg)
        got = await asyncio.wait_for(ws.recv(), TIMEOUT)
        out(text='ok' if got == msg else repr(got))
        msg = bytes(range(256)) * 4
        await ws.send(msg)
        got = await asyncio.wait_for(ws.recv(), TIMEOUT)
        out(binary='ok' if got == msg else repr(got[:40]))
        big = pattern(BIG)
        t0 = time.monotonic()
        await asyncio.wait_for(ws.send(big), TIMEOUT * 3)
        got = await asyncio.wait_for(ws.recv(), TIMEOUT * 3)
        out(big='ok' if isinstance(got, bytes) and
            hashlib.sha256(got).digest() == hashlib.sha256(big).digest()
            else 'bad (%d bytes)' % len(got),
            big_ms=int((time.monotonic() - t0) * 1000))
        pong = await ws.ping(b'ping-42')
        latency = await asyncio.wait_for(pong, TIMEOUT)
        out(pong='ok' if latency is not None else 'none')
        await asyncio.wait_for(ws.close(code=4001, reason='bye'), TIMEOUT)
        # the origin's Close code, as websockets received it
        out(close_code=ws.close_code)


def raw_connect(port, host='a.test'):
    return dial('tls', port, TIMEOUT, alpn='http/1.1', host=host)


def read_response(s, buf):
    """One response with a Content-Length body (or none): (status, head,
    body, rest)."""
    while b'\r\n\r\n' not in buf:
        k = s.recv(65536)
        if not k:
            raise Failure('EOF before a response head: %r' % buf[:200])
        buf += k
    head, buf = buf.split(b'\r\n\r\n', 1)
    lines = head.decode('latin-1').split('\r\n')
    status = int(lines[0].split()[1])
    fields = {}
    for ln in lines[1:]:
        k, v = ln.split(':', 1)
        fields[k.strip().lower()] = v.strip()
    n = int(fields.get('content-length', '0'))
    if status == 101 or 100 <= status < 200 or status in (204, 304):
        n = 0
    while len(buf) < n:
        k = s.recv(65536)
        if not k:
            raise Failure('EOF in a body')
        buf += k
    return status, fields, buf[:n], buf[n:]


def upgrade_request(path, key):
    return ('GET %s HTTP/1.1\r\nHost: a.test\r\nUpgrade: websocket\r\n'
            'Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n'
            'Sec-WebSocket-Key: %s\r\n\r\n' % (path, key)).encode()


async def mode_refuse(port):
    s = raw_connect(port)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(upgrade_request('/ws-refuse', key))
    status, fields, body, rest = read_response(s, b'')
    out(refuse_status=status, refuse_body=body.decode().strip(),
        refuse_connection=fields.get('connection', '(absent)'))
    s.sendall(b'GET /echo?after-refuse=1 HTTP/1.1\r\nHost: a.test\r\n\r\n')
    status, fields, body, rest = read_response(s, rest)
    out(next_status=status,
        next_has_target=int(b'"target":"/echo?after-refuse=1"' in body))
    s.close()


async def mode_badaccept(port):
    s = raw_connect(port)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(upgrade_request('/ws-badaccept', key))
    status, fields, body, rest = read_response(s, b'')
    want = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest())
    acc = fields.get('sec-websocket-accept', '')
    out(raw_status=status, raw_accept_matches=int(acc == want.decode()),
        raw_accept_present=int(acc != ''))
    s.close()
    try:
        async with connect(port, 'a.test', '/ws-badaccept') as ws:
            out(websockets='connected (it should not have)')
    except websockets.exceptions.InvalidHandshake as e:
        out(websockets='InvalidHandshake',
            websockets_error='%s: %s' % (type(e).__name__, e))


async def wait_closed(ws, seconds):
    """Seconds until the connection closed, or None."""
    t0 = time.monotonic()
    try:
        await asyncio.wait_for(ws.wait_closed(), seconds)
    except asyncio.TimeoutError:
        return None
    return time.monotonic() - t0


async def mode_idle(port):
    async with connect(port, 'a.test', '/ws') as ws:
        await ws.send('then-quiet')
        await asyncio.wait_for(ws.recv(), TIMEOUT)
        t = await wait_closed(ws, 3.0)
        out(closed=int(t is not None),
            closed_ms=-1 if t is None else int(t * 1000),
            close_code=ws.close_code)


async def mode_active(port):
    async with connect(port, 'a.test', '/ws') as ws:
        sent = echoed = 0
        t0 = time.monotonic()
        try:
            while time.monotonic() - t0 < 2.5:
                msg = 'tick-%d' % sent
                sent += 1
                await ws.send(msg)
                if await asyncio.wait_for(ws.recv(), 2) == msg:
                    echoed += 1
                await asyncio.sleep(0.3)
        except (websockets.exceptions.ConnectionClosed,
                asyncio.TimeoutError) as e:
            out(stopped=type(e).__name__)
        out(sent=sent, echoed=echoed, open=int(ws.open))


async def mode_kill(port):
    async with connect(port, 'a.test', '/ws?close_after_ms=300') as ws:
        await ws.send('before-the-kill')
        got = await asyncio.wait_for(ws.recv(), TIMEOUT)
        out(first='ok' if got == 'before-the-kill' else repr(got))
        t = await wait_closed(ws, 5.0)
        # 1006: the TCP connection closed with no Close frame
        out(closed=int(t is not None),
            closed_ms=-1 if t is None else int(t * 1000),
            close_code=ws.close_code)
    s = raw_connect(port)
    s.sendall(b'GET /echo?after=1 HTTP/1.1\r\nHost: a.test\r\n\r\n')
    out(after=read_response(s, b'')[0])
    s.close()


MODES = {
    'echo': mode_echo, 'refuse': mode_refuse, 'badaccept': mode_badaccept,
    'idle': mode_idle, 'active': mode_active, 'kill': mode_kill,
}


def main(argv):
    mode, port = argv[1], int(argv[2])
    try:
        asyncio.run(asyncio.wait_for(MODES[mode](port, *argv[3:]), 100))
    except (Failure, asyncio.TimeoutError, ConnectionError, ssl.SSLError,
            OSError, websockets.exceptions.WebSocketException) as e:
        out(error='%s: %s' % (type(e).__name__, e))
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
