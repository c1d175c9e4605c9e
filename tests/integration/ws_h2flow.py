#!/usr/bin/python3
"""tests/integration/ws_h2flow.py MODE tls|h2c PORT [ARG]: RFC 8441
tunnels as a browser keeps them, for test_ws.c: the default 65,535-byte
stream and connection windows, each DATA frame credited (WINDOW_UPDATE
for the stream and the connection) as soon as it is read; or, for echo
with "half", credited by python3-h2 once half a window was read, as
browsers batch it. tls: ALPN h2,
SNI a.test, no certificate check; h2c: prior knowledge. Built on
ws_h2.py's Conn; prints "key=value" lines, exit 2 with error=... if
something unexpected stopped it. Every wait is bounded.

Modes:
  echo SIZE [each|half]
                  one binary message of SIZE bytes to /ws and its echo:
                  echo=ok when it came back byte for byte
  idle SECONDS    a tunnel echoes, idles SECONDS (a GET on the same
                  connection halfway), echoes again, then idles until
                  portico ends it: how (end=reset:N), after how long, and
                  whether the connection still serves a GET; a second
                  tunnel beside it, echoing every second all along, is
                  still open and echoes after (keeper=ok)
  halfclose       a message, then END_STREAM at once: the echo still
                  comes back, then the backend's end (END_STREAM)
  stuck SIZE      a message of SIZE bytes, and its echo never credited
                  (a client that stopped reading): how the tunnel
                  ended, and when, and whether the connection still
                  serves a GET (it has its own window)
  backendclose    /ws?shut_after=1: the origin echoes one message and
                  shuts its side; END_STREAM reaches us, and a message
                  sent after it (zero mask: it is recorded as sent)
                  still reaches the origin
"""
import asyncio
import hashlib
import sys
import time

import h2.exceptions

import ws_h2
from h2frames import out, pattern, ws_frame, Failure, OP_BINARY, OP_TEXT
from ws_h2 import Conn

TIMEOUT = ws_h2.TIMEOUT
MARK = b'after-the-backend-end'


async def open_conn(proto, port, credit='each'):
    c = Conn()
    c.credit_how = credit
    return await c.open(port, tls=proto == 'tls', big_windows=False)


async def open_ws(c, path='/ws'):
    st = c.websocket(path)
    status = await c.response(st)
    if status != '200':
        raise Failure('status %s for %s' % (status, path))
    return st


async def get(c, path):
    g = c.request('GET', path, end=True)
    status = await c.response(g)
    await c.wait(g, lambda: g.ended or g.reset is not None or c.closed)
    return status


async def echo(c, st, opcode, payload, seconds=TIMEOUT):
    await c.ws_send(st, opcode, payload)
    f = await c.ws_recv(st, seconds)
    return f is not None and f[1] == opcode and f[2] == payload


async def mode_echo(proto, port, size, credit='each'):
    c = await open_conn(proto, port, credit)
    st = await open_ws(c)
    msg = pattern(int(size))
    await c.ws_send(st, OP_BINARY, msg)
    f = await c.ws_recv(st, TIMEOUT * 3)
    got = len(f[2]) if f is not None else len(st.buf)
    ok = f is not None and f[1] == OP_BINARY and \
        hashlib.sha256(f[2]).digest() == hashlib.sha256(msg).digest()
    out(echo='ok' if ok else 'bad', got=got, end=st.end_kind(),
        conn_closed=int(c.closed))
    await c.close()


async def keep_busy(c, st, done):
    """Echoes on ST every second until DONE(); the failures."""
    bad = 0
    for i in range(int(TIMEOUT * 2)):
        if done():
            break
        bad += not await echo(c, st, OP_TEXT, b'keeper-%d' % i, 5)
        await asyncio.sleep(1)
    return bad


async def mode_idle(proto, port, seconds):
    seconds = float(seconds)
    c = await open_conn(proto, port)
    st = await open_ws(c)
    keeper = await open_ws(c, '/ws?keeper=1')
    out(first='ok' if await echo(c, st, OP_TEXT, b'before-idle') else
        'bad')
    busy = asyncio.ensure_future(keep_busy(
        c, keeper, lambda: st.ended or st.reset is not None or c.closed))
    await asyncio.sleep(seconds / 2)
    out(get_meanwhile=await get(c, '/echo?meanwhile=1'))
    await asyncio.sleep(seconds / 2)
    out(after_idle='ok' if await echo(c, st, OP_TEXT, b'after-idle') else
        'bad (%s)' % st.end_kind(), conn_closed_idle=int(c.closed))
    t0 = time.monotonic()
    await c.wait(st, lambda: st.ended or st.reset is not None or c.closed,
                 TIMEOUT)
    out(end=st.end_kind(), conn_closed=int(c.closed),
        end_ms=int((st.t_end - t0) * 1000) if st.t_end else -1)
    bad = await busy
    out(keeper='ok' if bad == 0 and keeper.end_kind() == 'open' and
        await echo(c, keeper, OP_TEXT, b'keeper-after') else
        'bad (%d failed, %s)' % (bad, keeper.end_kind()))
    out(get_after=await get(c, '/echo?after=1') if not c.closed else
        'conn_closed')
    await c.close()


async def mode_halfclose(proto, port):
    c = await open_conn(proto, port)
    st = await open_ws(c)
    msg = pattern(100000)
    await c.send(st, ws_frame(OP_BINARY, msg), end=True)
    f = await c.ws_recv(st, TIMEOUT)
    out(echo='ok' if f is not None and f[1] == OP_BINARY and f[2] == msg
        else 'bad')
    await c.wait(st, lambda: st.ended or st.reset is not None or c.closed,
                 TIMEOUT)
    out(end=st.end_kind(), conn_closed=int(c.closed))
    out(get_after=await get(c, '/echo?after=1') if not c.closed else
        'conn_closed')
    await c.close()


async def mode_stuck(proto, port, size):
    c = await open_conn(proto, port, 'none')
    st = await open_ws(c)
    await c.ws_send(st, OP_BINARY, pattern(int(size)))
    t0 = time.monotonic()
    await c.wait(st, lambda: st.reset is not None or st.ended or c.closed,
                 TIMEOUT)
    out(end=st.end_kind(), conn_closed=int(c.closed), got=len(st.buf),
        end_ms=int((st.t_end - t0) * 1000) if st.t_end else -1)
    await c.close()
    # the connection window is shut too: a new connection
    c = await open_conn(proto, port)
    out(get_after=await get(c, '/echo?after=1'))
    await c.close()


async def mode_backendclose(proto, port):
    c = await open_conn(proto, port)
    st = await open_ws(c, '/ws?shut_after=1')
    out(echo='ok' if await echo(c, st, OP_TEXT, b'the-only-echo') else
        'bad')
    await c.wait(st, lambda: st.ended or st.reset is not None or c.closed,
                 TIMEOUT)
    out(end=st.end_kind(), conn_closed=int(c.closed))
    if st.ended and st.reset is None:
        # a zero mask key: the origin records MARK as it was sent
        await c.send(st, ws_frame(OP_TEXT, MARK, key=b'\0\0\0\0'))
        await asyncio.sleep(0.5)
        out(after_end=st.end_kind())
        await c.send(st, b'', end=True)
    out(get_after=await get(c, '/echo?after=1') if not c.closed else
        'conn_closed')
    await c.close()


MODES = {
    'echo': mode_echo, 'idle': mode_idle, 'halfclose': mode_halfclose,
    'backendclose': mode_backendclose, 'stuck': mode_stuck,
}


def main(argv):
    mode, proto, port = argv[1], argv[2], int(argv[3])
    try:
        asyncio.run(asyncio.wait_for(MODES[mode](proto, port, *argv[4:]),
                                     100))
    except (Failure, asyncio.TimeoutError, ConnectionError, OSError,
            h2.exceptions.ProtocolError) as e:
        out(error='%s: %s' % (type(e).__name__, e))
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
