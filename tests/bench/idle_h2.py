#!/usr/bin/env python3
"""tests/bench/idle_h2.py: hold N idle HTTP/2 connections over TLS open.

    idle_h2.py HOST PORT N READY-FILE RELEASE-FILE [HOLD-MAX-SECONDS]

Opens N TLS connections one after the other (ALPN h2, certificate not
verified), and on each sends the client preface and an empty SETTINGS frame,
reads until the server's own SETTINGS frame has arrived and acknowledges it.
No request is ever sent: each connection is then idle, as a browser's is
between page loads.  When all are open it writes "OK FAILED" to READY-FILE,
then holds them until RELEASE-FILE exists (or HOLD-MAX-SECONDS, default 60,
have passed), closes them all and exits.  Standard library only; run.sh
measures the proxy's RSS while the connections are held.
"""

import os
import resource
import socket
import ssl
import struct
import sys
import time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SETTINGS = 0x4
ACK = 0x1
GOAWAY = 0x7


def frame(ftype, flags, payload=b"", stream=0):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", stream) + payload


def read_exact(s, n, buf):
    while len(buf) < n:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed by the server")
        buf += chunk
    return buf


def open_one(ctx, host, port):
    raw = socket.create_connection((host, port), timeout=5)
    try:
        s = ctx.wrap_socket(raw, server_hostname="localhost")
    except Exception:
        raw.close()
        raise
    try:
        if s.selected_alpn_protocol() != "h2":
            raise ConnectionError("ALPN gave %r" % s.selected_alpn_protocol())
        s.sendall(PREFACE + frame(SETTINGS, 0))
        buf = b""
        while True:
            buf = read_exact(s, 9, buf)
            length = int.from_bytes(buf[0:3], "big")
            ftype, flags = buf[3], buf[4]
            buf = read_exact(s, 9 + length, buf)
            buf = buf[9 + length:]
            if ftype == SETTINGS and not flags & ACK:
                break
        s.sendall(frame(SETTINGS, ACK))
        return s
    except Exception:
        s.close()
        raise


def still_open(s):
    s.setblocking(False)
    buf = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return False
            buf += chunk
    except (ssl.SSLWantReadError, BlockingIOError):
        pass
    except Exception:  # noqa: BLE001 - reset, TLS alert
        return False
    while len(buf) >= 9:
        length = int.from_bytes(buf[0:3], "big")
        if buf[3] == GOAWAY:
            return False
        buf = buf[9 + length:]
    return True


def main():
    if len(sys.argv) < 6:
        sys.exit(__doc__)
    host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    ready, release = sys.argv[4], sys.argv[5]
    hold_max = float(sys.argv[6]) if len(sys.argv) > 6 else 60.0

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.set_alpn_protocols(["h2"])
    # X25519 as run.sh sets the proxies to; Debian's python3 (3.11, OpenSSL
    # 3) refuses the name with SSLError (an OSError, not a ValueError).
    # OpenSSL's default groups then offer X25519 first, so the handshake
    # negotiates it all the same.
    try:
        ctx.set_ecdh_curve("X25519")
    except (ValueError, AttributeError, ssl.SSLError):
        pass

    # one descriptor per connection held: raise the soft limit as far as
    # the hard one allows
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < n + 64:
        want = n + 64 if hard == resource.RLIM_INFINITY else min(n + 64, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        except (ValueError, OSError):
            pass

    conns, failed, first_error = [], 0, None
    for _ in range(n):
        try:
            conns.append(open_one(ctx, host, port))
        except Exception as e:  # noqa: BLE001 - counted and reported
            failed += 1
            if first_error is None:
                first_error = "%s: %s" % (type(e).__name__, e)
    # a connection the server closed in the meantime, or sent GOAWAY on, is
    # not idle: count it as failed (SETTINGS ACK, WINDOW_UPDATE are fine)
    time.sleep(0.2)
    alive = []
    for s in conns:
        if still_open(s):
            alive.append(s)
        else:
            failed += 1
            s.close()
    tmp = ready + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d %d%s\n" % (len(alive), failed,
                               (" " + first_error) if first_error else ""))
    os.rename(tmp, ready)

    deadline = time.monotonic() + hold_max
    while not os.path.exists(release) and time.monotonic() < deadline:
        time.sleep(0.05)
    for s in alive:
        s.close()


if __name__ == "__main__":
    main()
