#!/usr/bin/python3
"""tests/integration/h2graceful.py [options] PORT: an HTTP/2 client that
always keeps --inflight streams open (GET --path) until --n responses are
complete, across the graceful GOAWAYs of keepalive_requests,
max_connection_age and a graceful stop. For test_graceful.c.

It behaves as a browser does: default SETTINGS (65,535-byte windows),
every DATA frame credited (stream and connection WINDOW_UPDATE) as it is
read, PINGs answered. It speaks frames itself (python3-h2's hyperframe
and hpack): h2's H2Connection takes any GOAWAY, even the 2^31-1 notice,
as the end and reads nothing more.

  --mode polite  after any GOAWAY, no new stream on that connection: the
                 next ones go to a new connection, opened at once (as
                 browsers do), while the old one finishes. Every stream
                 opened must then be answered.
  --mode eager   streams keep being opened on the connection until the
                 final GOAWAY (the one with a real last stream id); a
                 stream above that id was not processed (RFC 9113 §6.8)
                 and is sent again on a new connection.
  --until-refused  a refused connect (the listeners closed: graceful
                 stop) ends the run without error.

Every response must be 200 with the /bytes/N pattern, whole. Results are
"key=value" lines:
  completed   responses complete and correct
  lost        streams at or below the final GOAWAY's last id (or on a
              connection without one) that ended without their response
  refused     RST_STREAM REFUSED_STREAM received
  resets      RST_STREAM of any code received
  unprocessed streams above a final GOAWAY's last id (eager: retried)
  above_last  streams opened above the last id of a final GOAWAY
              received later (polite: must be 0)
  notices     GOAWAYs with last id 2^31-1, each before its final
  finals      final GOAWAYs; one_step: those without a notice before
  bad_goaway  GOAWAYs with an error code, or a notice after a final
  conns, server_closed (connections the server closed after its final
  GOAWAY), served (responses per connection, in order), max_served
  after_notice  streams opened after a notice arrived and then served
  refused_connect  1 if a connect was refused (--until-refused)
  unserved_conns  connections that ended before the server sent a frame
              (its SETTINGS come first: nothing on them was processed,
              their streams are retried); only a closing listener does it
Exits 0 unless something unexpected stopped it (2). Every wait is
bounded by --time-limit seconds.
"""
import argparse
import select
import ssl
import sys
import time

import hpack
from hyperframe.frame import (ContinuationFrame, DataFrame, GoAwayFrame,
                              HeadersFrame, PingFrame, RstStreamFrame,
                              SettingsFrame, WindowUpdateFrame)

from h2frames import dial, out, pattern, request_fields, take_frame, \
    NOTICE_ID, PREFACE

REFUSED_STREAM = 7
CLOSE_WAIT = 5.0        # after the final GOAWAY, for the server's close

stats = dict(completed=0, lost=0, refused=0, resets=0, unprocessed=0,
             above_last=0, notices=0, finals=0, one_step=0, bad_goaway=0,
             conns=0, server_closed=0, after_notice=0, refused_connect=0,
             bad_body=0, unserved_conns=0)
served = []


def body_length(path):
    return int(path.split('?')[0].rsplit('/', 1)[1])


class Stream:
    def __init__(self, sid, after_notice):
        self.id = sid
        self.status = None
        self.body = bytearray()
        self.after_notice = after_notice


class Conn:
    def __init__(self, args):
        self.sock = dial('tls' if args.tls else 'h2c', args.port,
                         args.time_limit)
        self.args = args
        self.enc = hpack.Encoder()
        self.dec = hpack.Decoder()
        self.buf = bytearray()
        self.next_id = 1
        self.streams = {}       # open streams by id
        self.block = None       # (frame, bytes) of an unfinished block
        self.notice = False
        self.last_id = None     # the final GOAWAY's
        self.final_at = None
        self.eof = False
        self.got_frame = False
        self.served = 0
        self.opened_ids = []
        self.send(PREFACE + SettingsFrame(0).serialize())
        stats['conns'] += 1

    def send(self, data):
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            self.eof = True

    def accepts(self):
        if self.eof or self.last_id is not None:
            return False
        return not (self.args.mode == 'polite' and self.notice)

    def open_stream(self):
        sid = self.next_id
        self.next_id += 2
        hdrs = request_fields('GET', self.args.path,
                              scheme='https' if self.args.tls else 'http')
        f = HeadersFrame(sid, self.enc.encode(hdrs),
                         flags=['END_HEADERS', 'END_STREAM'])
        self.streams[sid] = Stream(sid, self.notice)
        self.opened_ids.append(sid)
        return f.serialize()

    def pending(self):
        return isinstance(self.sock, ssl.SSLSocket) and self.sock.pending()

    def read(self):
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError):
            data = b''
        if not data:
            self.eof = True
            return
        self.buf += data
        reply = bytearray()
        while True:
            f, self.buf = take_frame(self.buf)
            if f is None:
                break
            self.got_frame = True
            reply += self.frame(f)
        if reply:
            self.send(bytes(reply))

    def frame(self, f):
        if isinstance(f, SettingsFrame) and 'ACK' not in f.flags:
            return SettingsFrame(0, flags=['ACK']).serialize()
        if isinstance(f, PingFrame) and 'ACK' not in f.flags:
            return PingFrame(0, f.opaque_data, flags=['ACK']).serialize()
        if isinstance(f, GoAwayFrame):
            self.goaway(f)
            return b''
        st = self.streams.get(f.stream_id)
        if isinstance(f, RstStreamFrame):
            stats['resets'] += 1
            if f.error_code == REFUSED_STREAM:
                stats['refused'] += 1
            if st is not None:
                self.fail(st)
            return b''
        if isinstance(f, (HeadersFrame, ContinuationFrame)):
            return self.headers(f, st)
        if isinstance(f, DataFrame):
            return self.data(f, st)
        return b''

    def goaway(self, f):
        if f.error_code != 0:
            stats['bad_goaway'] += 1
        if f.last_stream_id == NOTICE_ID:
            if self.last_id is not None:
                stats['bad_goaway'] += 1
            elif not self.notice:
                stats['notices'] += 1
            self.notice = True
            return
        if self.last_id is not None:
            return
        stats['finals'] += 1
        if not self.notice:
            stats['one_step'] += 1
        self.last_id = f.last_stream_id
        self.final_at = time.monotonic()
        stats['above_last'] += sum(1 for i in self.opened_ids
                                   if i > self.last_id)
        for sid in [s for s in self.streams if s > self.last_id]:
            del self.streams[sid]
            retry('unprocessed')

    def headers(self, f, st):
        if self.block is not None:
            self.block[1].extend(f.data)
            f0 = self.block[0]
        else:
            self.block = (f, bytearray(f.data))
            f0 = f
        if 'END_HEADERS' not in f.flags:
            return b''
        fields = self.dec.decode(bytes(self.block[1]))
        self.block = None
        st = self.streams.get(f0.stream_id)
        if st is None:
            return b''
        status = dict(fields).get(':status')
        if status is not None and not status.startswith('1'):
            st.status = status
        if 'END_STREAM' in f0.flags:
            self.end(st)
        return b''

    def data(self, f, st):
        n = f.flow_controlled_length
        credit = b''
        if n > 0:
            credit = WindowUpdateFrame(0, n).serialize()
        if st is None:
            return credit
        st.body += f.data
        if 'END_STREAM' in f.flags:
            self.end(st)
        elif n > 0:
            credit += WindowUpdateFrame(st.id, n).serialize()
        return credit

    def end(self, st):
        del self.streams[st.id]
        want = body_length(self.args.path)
        if st.status != '200' or len(st.body) != want or \
                bytes(st.body) != pattern(want):
            stats['bad_body'] += 1
            self.fail(st, gone=True)
            return
        stats['completed'] += 1
        self.served += 1
        if st.after_notice:
            stats['after_notice'] += 1

    def fail(self, st, gone=False):
        if not gone:
            self.streams.pop(st.id, None)
        retry('lost')

    def close(self):
        if not self.got_frame:
            stats['unserved_conns'] += 1
            for _ in self.streams:
                retry('unprocessed')
            self.streams.clear()
        for st in list(self.streams.values()):
            self.fail(st)
        if self.eof and self.last_id is not None:
            stats['server_closed'] += 1
        served.append(self.served)
        self.sock.close()


todo = 0


def retry(what):
    global todo
    stats[what] += 1
    todo += 1


def current(conns, args, stopping):
    for c in conns:
        if c.accepts():
            return c
    if stopping:
        return None
    try:
        c = Conn(args)
    except (ConnectionRefusedError, ConnectionResetError, ssl.SSLError):
        if not args.until_refused:
            raise
        stats['refused_connect'] = 1
        return None
    conns.append(c)
    return c


def fill(conns, args, stopping):
    inflight = sum(len(c.streams) for c in conns)
    batch = {}
    while inflight < args.inflight and todo > 0 and \
            stats['completed'] < args.n:
        c = current(conns, args, stopping)
        if c is None:
            return True
        batch.setdefault(c, bytearray()).extend(c.open_stream())
        take()
        inflight += 1
    for c, b in batch.items():
        c.send(bytes(b))
    return stopping


def take():
    global todo
    todo -= 1


def done_with(c):
    if c.eof:
        return True
    if c.last_id is not None and not c.streams:
        return time.monotonic() - c.final_at > CLOSE_WAIT
    return False


def run(args):
    global todo
    todo = args.n
    conns = []
    stopping = False
    deadline = time.monotonic() + args.time_limit
    while time.monotonic() < deadline:
        stopping = fill(conns, args, stopping)
        if not conns:
            break
        ready = [c for c in conns if c.pending()]
        if not ready:
            r, _, _ = select.select([c.sock for c in conns], [], [], 0.2)
            ready = [c for c in conns if c.sock in r]
        for c in ready:
            c.read()
        for c in [c for c in conns if done_with(c) or (
                stats['completed'] >= args.n and not c.streams and
                c.last_id is None)]:
            conns.remove(c)
            c.close()
        if not conns and (stopping or stats['completed'] >= args.n):
            break
    else:
        out(error='time limit')
    for c in conns:
        c.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('port', type=int)
    ap.add_argument('--tls', action='store_true')
    ap.add_argument('--n', type=int, default=1000)
    ap.add_argument('--inflight', type=int, default=10)
    ap.add_argument('--path', default='/bytes/1000')
    ap.add_argument('--mode', choices=['polite', 'eager'], default='polite')
    ap.add_argument('--until-refused', action='store_true')
    ap.add_argument('--time-limit', type=float, default=60.0)
    args = ap.parse_args()
    try:
        run(args)
    except Exception as e:      # reported, and the run counts as broken
        out(error='%s: %s' % (type(e).__name__, e))
        out(**stats)
        sys.exit(2)
    out(**stats)
    out(served=','.join(str(n) for n in served),
        max_served=max(served) if served else 0)


if __name__ == '__main__':
    main()
