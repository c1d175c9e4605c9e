#!/usr/bin/python3
"""tests/integration/route_h2.py PORT TLS ROW...: HTTP/2 requests whose
:path or :authority curl will not send, for test_routing.c.

Each ROW is "MARKER METHOD AUTHORITY PATH" (space-separated; PATH is the
rest, so it may hold spaces). Each goes on a connection of its own (TLS
1: ALPN h2, SNI a.test, no certificate check; 0: h2c prior knowledge),
with an "x-row: MARKER" field, and the outbound header checks of
python3-h2 off so that the bytes go as given. For each row it prints
"rMARKER=STATUS", "rMARKER=reset" (RST_STREAM or GOAWAY) or
"rMARKER=closed". Every wait is bounded by TIMEOUT seconds; exit 2 if
something unexpected stopped it.
"""
import socket
import sys

import h2.config
import h2.connection
import h2.events

from h2frames import dial

TIMEOUT = 10.0


def outcome(sock, conn, sid):
    status = None
    while True:
        try:
            data = sock.recv(65536)
        except (socket.timeout, OSError):
            return 'closed'
        if not data:
            return status or 'closed'
        for ev in conn.receive_data(data):
            if isinstance(ev, h2.events.ResponseReceived):
                status = dict(ev.headers).get(b':status', b'?').decode()
            elif isinstance(ev, h2.events.DataReceived):
                conn.acknowledge_received_data(ev.flow_controlled_length,
                                               ev.stream_id)
            elif isinstance(ev, (h2.events.StreamReset,
                                 h2.events.ConnectionTerminated)):
                return status or 'reset'
            elif isinstance(ev, h2.events.StreamEnded) and \
                    ev.stream_id == sid:
                return status or 'closed'
        sock.sendall(conn.data_to_send())


def run_row(port, is_tls, row):
    marker, method, authority, path = row.split(' ', 3)
    sock = dial('tls' if is_tls else 'h2c', port, TIMEOUT)
    cfg = h2.config.H2Configuration(client_side=True,
                                    validate_outbound_headers=False,
                                    normalize_outbound_headers=False,
                                    validate_inbound_headers=False)
    conn = h2.connection.H2Connection(config=cfg)
    conn.initiate_connection()
    sid = conn.get_next_available_stream_id()
    conn.send_headers(sid, [(b':method', method.encode()),
                            (b':scheme', b'https' if is_tls else b'http'),
                            (b':authority', authority.encode()),
                            (b':path', path.encode('latin-1')),
                            (b'x-row', marker.encode())], end_stream=True)
    sock.sendall(conn.data_to_send())
    result = outcome(sock, conn, sid)
    sock.close()
    print('r%s=%s' % (marker, result))
    sys.stdout.flush()


def main():
    if len(sys.argv) < 3:
        print('usage: route_h2.py PORT TLS ROW...', file=sys.stderr)
        sys.exit(2)
    port, is_tls = int(sys.argv[1]), sys.argv[2] == '1'
    for row in sys.argv[3:]:
        run_row(port, is_tls, row)


if __name__ == '__main__':
    main()
