#!/usr/bin/python3
"""tests/integration/h2reset.py MODE tls|h2c PORT ...: streams that
portico (nghttp2) must reset itself, and the backend connects they may
cost, in raw frames (h2conform.py's Conn). Prints key=value lines for
test_hostile_reset.c; every wait is bounded.

Modes:
  madeyoureset PROTO PORT N
      MadeYouReset (CVE-2025-8671): N streams, each HEADERS (POST,
      content-length: 1, no END_STREAM) then 2 bytes of DATA, which
      nghttp2 answers with RST_STREAM. At most 100 streams in flight, as
      an attacker keeping under SETTINGS_MAX_CONCURRENT_STREAMS would.
  cap PROTO PORT BPORT N
      N GETs at once; while they run, the most sockets in SYN_SENT
      towards 127.0.0.1:BPORT (a backend that never accepts) at once.
  abandon PROTO PORT BPORT
      2 GETs whose connects hang, reset by the client; then 2 more on
      the same connection: the abandoned connects must be gone
      (syn_after_reset=0) and not hold their slots (syn_after_new=2).
  badhead PROTO PORT
      requests that nghttp2 accepts but the backend request writer
      refuses (an :authority with '@', a method with '{' in the absolute
      form's authority): status_N counts.
"""
import struct
import sys
import time

from h2conform import Conn
from h2frames import frame, out, tcp_conns, DATA, HEADERS, RST_STREAM, \
    END_STREAM, END_HEADERS

WAIT = 20.0
SYN_SENT = '02'                 # a state in /proc/net/tcp


def madeyoureset(proto, port, n):
    c = Conn(proto, port)
    sent = 0
    deadline = time.monotonic() + WAIT
    while sent < n and c.goaway is None and not c.closed and \
            time.monotonic() < deadline:
        busy = sent - len(c.rst) - len(c.ended)
        batch = b''
        while busy < 100 and sent < n:
            sid = 1 + 2 * sent
            batch += frame(HEADERS, END_HEADERS, sid, c.block(
                method='POST', extra=[('content-length', '1')]))
            batch += frame(DATA, END_STREAM, sid, b'xx')
            sent += 1
            busy += 1
        if batch and not c.send(batch):
            break
        c.read(0.02)
    c.read(5, until=lambda: c.closed)
    out(streams_sent=sent, rst_received=len(c.rst),
        rst_protocol_error=sum(1 for v in c.rst.values()
                               if v == 'PROTOCOL_ERROR'),
        responses=len(c.status),
        goaway=c.goaway[1] if c.goaway else 'none',
        closed='yes' if c.closed else 'no')


def wait_syn(c, bport, want, seconds):
    deadline = time.monotonic() + seconds
    n = tcp_conns(bport, SYN_SENT)
    while n != want and time.monotonic() < deadline:
        c.read(0.01)
        n = tcp_conns(bport, SYN_SENT)
    return n


def cap(proto, port, bport, n):
    c = Conn(proto, port)
    t0 = time.monotonic()
    c.send(b''.join(c.request(1 + 2 * i) for i in range(n)))
    most = 0
    deadline = t0 + WAIT
    sids = set(1 + 2 * i for i in range(n))
    while not sids <= (c.ended | set(c.rst)) and not c.closed and \
            time.monotonic() < deadline:
        most = max(most, tcp_conns(bport, SYN_SENT))
        c.read(0.005)
    statuses = {}
    for v in c.status.values():
        statuses[v] = statuses.get(v, 0) + 1
    out(syn_max=most, done=len(sids & (c.ended | set(c.rst))),
        duration_ms=int((time.monotonic() - t0) * 1000))
    for k in sorted(statuses):
        out(**{'status_' + k: statuses[k]})


def abandon(proto, port, bport):
    c = Conn(proto, port)
    c.send(c.request(1) + c.request(3))
    out(syn_first=wait_syn(c, bport, 2, 5))
    c.send(frame(RST_STREAM, 0, 1, struct.pack('>I', 8)) +
           frame(RST_STREAM, 0, 3, struct.pack('>I', 8)))
    out(syn_after_reset=wait_syn(c, bport, 0, 5))
    c.send(c.request(5) + c.request(7))
    out(syn_after_new=wait_syn(c, bport, 2, 5))


BAD_HEADS = [
    [(':method', 'GET'), (':scheme', 'https'), (':authority', 'a.test@b'),
     (':path', '/echo')],
    [(':method', 'GET'), (':scheme', 'https'), (':authority', 'a.test'),
     (':path', '/echo'), ('host', 'a.test@b')],
    [(':method', 'GET'), (':scheme', 'https'), (':authority', 'u@a.test'),
     (':path', '/echo')],
]


def badhead(proto, port):
    c = Conn(proto, port)
    sids = []
    for i, fields in enumerate(BAD_HEADS):
        sid = 1 + 2 * i
        sids.append(sid)
        c.send(frame(HEADERS, END_STREAM | END_HEADERS, sid,
                     c.enc.encode(fields, huffman=False)))
    c.read(WAIT, until=lambda: all(s in c.ended or s in c.rst
                                   for s in sids))
    statuses = {}
    for s in sids:
        k = c.status.get(s, 'rst_' + str(c.rst.get(s)))
        statuses[k] = statuses.get(k, 0) + 1
    for k in sorted(statuses):
        out(**{'status_' + k: statuses[k]})


def main(argv):
    mode, proto, port = argv[1], argv[2], int(argv[3])
    args = [int(a) for a in argv[4:]]
    if mode == 'madeyoureset':
        madeyoureset(proto, port, args[0])
    elif mode == 'cap':
        cap(proto, port, args[0], args[1])
    elif mode == 'badhead':
        badhead(proto, port)
    elif mode == 'abandon':
        abandon(proto, port, args[0])
    else:
        out(error='unknown mode %s' % mode)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
