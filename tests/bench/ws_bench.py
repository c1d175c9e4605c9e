#!/usr/bin/python3
"""tests/bench/ws_bench.py: WebSocket figures through one proxy.

  ws_bench.py idle PORT N PID   hold N idle WebSockets to ws://127.0.0.1:PORT/ws
                                and print "held failed rss_before rss_with"
                                (RSS of PID in KiB, read while they are held)
  ws_bench.py echo PORT C M     C connections, each M echo round trips of a
                                32-byte message, in turn; prints "done failed secs"
Uses python3-websockets (asyncio API); bounded in count and time.
"""
import asyncio
import sys
import time

import websockets


def rss_kib(pid):
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def idle(port, n, pid):
    url = "ws://127.0.0.1:%d/ws" % port
    before = rss_kib(pid)
    conns, failed = [], 0
    for i in range(0, n, 50):
        batch = [websockets.connect(url, compression=None, open_timeout=10,
                                    ping_interval=None)
                 for _ in range(min(50, n - i))]
        for r in await asyncio.gather(*batch, return_exceptions=True):
            if isinstance(r, Exception):
                failed += 1
            else:
                conns.append(r)
    await asyncio.sleep(1.0)
    with_idle = rss_kib(pid)
    # each one still works
    for ws in conns[:: max(1, len(conns) // 20)]:
        await ws.send("x")
        await asyncio.wait_for(ws.recv(), 5)
    await asyncio.gather(*(ws.close() for ws in conns),
                         return_exceptions=True)
    print(len(conns), failed, before, with_idle)


async def one_echo(url, m):
    async with websockets.connect(url, compression=None, open_timeout=10,
                                  ping_interval=None) as ws:
        msg = "m" * 32
        for _ in range(m):
            await ws.send(msg)
            if await asyncio.wait_for(ws.recv(), 10) != msg:
                raise ValueError("echo differs")
    return m


async def echo(port, c, m):
    url = "ws://127.0.0.1:%d/ws" % port
    t = time.monotonic()
    rs = await asyncio.gather(*(one_echo(url, m) for _ in range(c)),
                              return_exceptions=True)
    secs = time.monotonic() - t
    done = sum(r for r in rs if isinstance(r, int))
    failed = sum(1 for r in rs if isinstance(r, Exception))
    print(done, failed, "%.3f" % secs)


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "idle":
        coro = idle(port, int(sys.argv[3]), sys.argv[4])
    else:
        coro = echo(port, int(sys.argv[3]), int(sys.argv[4]))
    asyncio.run(asyncio.wait_for(coro, 120))


main()
