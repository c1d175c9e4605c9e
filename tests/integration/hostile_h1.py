#!/usr/bin/python3
"""tests/integration/hostile_h1.py MODE PORT [ARGS]: HTTP/2 over TLS
(ALPN h2, SNI a.test, no certificate check), or h2c with prior
knowledge when PORT is written c:PORT, for test_hostile_h1.c: the
stale-connection retry and interim responses. Prints "key=value" lines;
exit 2 if something unexpected stopped it. Every wait is bounded.

Modes:
  retry PORT METHOD     GET /close-next, then METHOD /echo with
                        content-length: 0 and no DATA, on one connection
  interim PORT N SIZE   GET /interim?n=N&size=SIZE: 1xx count, final status
  noread PORT N SIZE MS the same, then MS ms without reading a byte
"""
import sys
import time

import h2.config
import h2.connection
import h2.events

import h2frames
from h2frames import out, request_fields

TIMEOUT = 20.0


def connect(port):
    """PORT "c:N" is h2c to port N, else TLS."""
    proto = 'h2c' if port.startswith('c:') else 'tls'
    s = h2frames.connect(proto, int(port.split(':')[-1]), TIMEOUT)
    conn = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=True, header_encoding='utf-8'))
    conn.initiate_connection()
    s.sendall(conn.data_to_send())
    return s, conn


def request(s, conn, method, path, extra=()):
    sid = conn.get_next_available_stream_id()
    conn.send_headers(sid, request_fields(method, path, extra),
                      end_stream=True)
    s.sendall(conn.data_to_send())
    return sid


def response(s, conn, sid):
    """(status, number of 1xx, body) of stream SID; status 0 on a reset."""
    status, interim, body = 0, 0, b''
    deadline = time.time() + TIMEOUT
    while time.time() < deadline:
        data = s.recv(65536)
        if not data:
            break
        for ev in conn.receive_data(data):
            if getattr(ev, 'stream_id', None) != sid:
                continue
            if isinstance(ev, h2.events.InformationalResponseReceived):
                interim += 1
            elif isinstance(ev, h2.events.ResponseReceived):
                status = int(dict(ev.headers)[':status'])
            elif isinstance(ev, h2.events.DataReceived):
                body += ev.data
                conn.acknowledge_received_data(
                    ev.flow_controlled_length, sid)
            elif isinstance(ev, h2.events.StreamReset):
                return status, interim, body
            elif isinstance(ev, h2.events.StreamEnded):
                s.sendall(conn.data_to_send())
                return status, interim, body
        s.sendall(conn.data_to_send())
    out(error='timeout')
    sys.exit(2)


def retry(port, method):
    s, conn = connect(port)
    st, _, body = response(s, conn, request(s, conn, 'GET', '/close-next'))
    out(status1=st, body1=body.decode().strip())
    extra = [('content-length', '0')] if method != 'GET' else []
    st, _, body = response(s, conn, request(s, conn, method, '/echo', extra))
    out(status2=st)
    s.close()


def interim(port, n, size):
    s, conn = connect(port)
    sid = request(s, conn, 'GET', '/interim?n=%s&size=%s' % (n, size))
    st, k, body = response(s, conn, sid)
    out(status=st, interim=k, body=body.decode().strip())
    s.close()


def noread(port, n, size, ms):
    s, conn = connect(port)
    request(s, conn, 'GET', '/interim?n=%s&size=%s' % (n, size))
    time.sleep(int(ms) / 1000.0)
    out(slept=ms)
    s.close()


def main():
    mode, port = sys.argv[1], sys.argv[2]
    if mode == 'retry':
        retry(port, sys.argv[3])
    elif mode == 'interim':
        interim(port, sys.argv[3], sys.argv[4])
    elif mode == 'noread':
        noread(port, sys.argv[3], sys.argv[4], sys.argv[5])
    else:
        out(error='mode %s' % mode)
        sys.exit(2)


main()
