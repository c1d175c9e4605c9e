#!/usr/bin/python3
"""tests/integration/ops_ws.py PORT GOFILE: a WebSocket tunnel through
portico that must outlive a reload, for test_ops.c; python3-websockets
10.4 (asyncio API) over cleartext HTTP/1.1 to ws://127.0.0.1:PORT/ws.

It opens the tunnel and checks an echo, prints "open=1", then waits
(bounded) until the file GOFILE exists (the test creates it once portico
has reloaded), then checks a text echo, a 1 MiB binary echo and a clean
close on the same tunnel. It prints "key=value" lines and exits 0 unless
something unexpected stopped it (exit 2, with error=...).
"""
import asyncio
import os
import sys
import time

import websockets
import websockets.exceptions

from h2frames import out

TIMEOUT = 20.0
BIG = 1 << 20


async def echo(ws, msg):
    await ws.send(msg)
    got = await asyncio.wait_for(ws.recv(), TIMEOUT)
    return 'ok' if got == msg else 'mismatch %d/%d bytes' % (
        len(got), len(msg))


async def wait_file(path):
    deadline = time.monotonic() + TIMEOUT
    while not os.path.exists(path):
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def main(port, gofile):
    async with websockets.connect(
            'ws://127.0.0.1:%d/ws' % port, open_timeout=TIMEOUT,
            close_timeout=5, ping_interval=None, max_size=None,
            compression=None) as ws:
        out(before=await echo(ws, 'before the reload'))
        out(open=1)
        if not await wait_file(gofile):
            out(error='no %s after %ds' % (gofile, TIMEOUT))
            return 2
        out(after=await echo(ws, 'after the reload'))
        out(big=await echo(ws, bytes(i % 251 for i in range(BIG))))
        await ws.close(code=1000)
        out(close_code=ws.close_code)
    return 0


if __name__ == '__main__':
    try:
        rc = asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
    except (OSError, asyncio.TimeoutError,
            websockets.exceptions.WebSocketException) as e:
        out(error='%s: %s' % (type(e).__name__, e))
        rc = 2
    sys.exit(rc)
