/* proxy/h2.h: the HTTP/2 frontend's insides, shared by h2_server.c (the
 * connection: its nghttp2 session and the callback adapters),
 * h2_stream.c (its streams and their requests), h2_response.c (their
 * responses) and h2_stall.c (their timers on the client). Only those
 * four include it. */
#ifndef PORTICO_H2_H
#define PORTICO_H2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/time.h>

#include <event2/event_struct.h>
#include <nghttp2/nghttp2.h>

#include "arena.h"
#include "h2_request.h"
#include "headers.h"
#include "ws.h"

struct client;
struct conf;
struct epoch;
struct evbuffer;
struct exchange;
struct sock;

#define H2_OUT_HIGH     (256 * 1024)    /* socket output: stop sending */
#define H2_DATA_PAYLOAD (16384 - 9)     /* a DATA frame: one TLS record */
#define H2_STREAM_HIGH  (256 * 1024)    /* stream response: pause backend */
#define H2_STREAM_LOW   (64 * 1024)     /* resume it */
#define H2_CONN_WINDOW  (16 * 1024 * 1024)
/* RFC 8441 DATA a client sends before the backend's 101 waits in the
 * stream's buffer, unacknowledged, up to this much: a first message or
 * two, sent optimistically. More is no WebSocket client's business: the
 * stream is reset. */
#define H2_WS_EARLY_MAX (64 * 1024)
#define H2_ID_WINDOW    2048            /* client stream ids remembered */

/* A stream's state only moves on, never back (h2_stream_enter). */
enum h2_stream_state {
	H2S_HEADERS = 0,        /* request headers arriving */
	H2S_BODY,               /* exchange running, request body arriving */
	H2S_RESPONDING,         /* request complete, response pending */
	H2S_DONE,               /* response complete or failed */
	H2S_REFUSED,            /* RST_STREAM sent, or portico's own answer
	                         * instead of the backend's, from any state:
	                         * what still comes for it (DATA, trailers,
	                         * a late response) is dropped, and its
	                         * reset is no glitch (h2_stream_is_live) */
};

/* An RFC 8441 stream's tunnel, apart from its request and response. */
enum h2_ws_state {
	H2WS_NONE = 0,          /* not a WebSocket stream */
	H2WS_WAIT,              /* upgrade sent: DATA held until a 101 */
	H2WS_OPEN,              /* valid 101, :status 200 sent: DATA flows */
	H2WS_REFUSED,           /* any other answer: DATA dropped */
};

/* The connection's end, one way: a stage is never left for an earlier
 * one (h2_conn_enter). */
enum h2_conn_state {
	H2C_OPEN = 0,
	H2C_NOTICE,             /* h2_goaway's first step (notice, PING) out */
	H2C_GOAWAY,             /* a final GOAWAY (or ENHANCE_YOUR_CALM)
	                         * submitted: no new stream starts */
	H2C_TERMINATED,         /* a connection error was submitted */
	H2C_CLOSING,            /* lingering or closed: nothing more sent */
};

struct h2_stream {
	struct h2_server *h;
	int32_t id;
	enum h2_stream_state state;
	enum h2_ws_state ws;
	bool is_ws_end_held;            /* END_STREAM came during H2WS_WAIT */
	struct h2_request rq;           /* its head; fields, then trailers */
	size_t ntrailer_start;          /* where the trailers begin */
	char ws_key[WS_KEY_LEN + 1];    /* the key we sent the backend */
	struct epoch *epoch;            /* the worker's when the stream began */
	struct exchange *x;
	struct evbuffer *in;            /* request DATA on its way; in
	                                 * H2WS_WAIT, the held tunnel bytes
	                                 * (at most H2_WS_EARLY_MAX; drained
	                                 * by stream_release) */
	struct evbuffer *out;           /* response body for DATA frames */
	size_t unconsumed;              /* DATA not yet acknowledged */
	nghttp2_nv *trailers;           /* response trailers, when ended */
	size_t ntrailers;
	/* The request header list (then its trailers) as counted so far,
	 * RFC 9113 §6.5.2; see h2_stream_header. */
	struct {
		size_t size;
		unsigned nfields;
		bool is_over;           /* over a limit: nothing more kept */
		bool in_trailers;       /* counting the trailers now */
	} list;
	/* The response towards the client (h2_response.c). */
	struct {
		bool is_started;        /* a final head was submitted */
		bool has_provider;      /* DATA frames will follow */
		bool is_eof;            /* the backend's body is complete */
		bool is_deferred;       /* the data provider waits for data */
		bool is_continued;      /* a 1xx went out: send the body */
	} resp;
	/* The backend's response flow, paused while out is full
	 * (h2_response.c sets and clears both). */
	struct {
		bool is_paused;
		bool wants_resume;      /* in h.resumes: resume after the
		                         * current send */
	} flow;
	/* The backend connect slot (http2_max_backend_connects). */
	struct {
		bool is_connecting;     /* holds one of h.nconnecting */
		bool is_waiting;        /* in h.waiting: may not connect yet */
	} slot;
	/* for the access log */
	int status;
	uint64_t bytes_sent, bytes_received;
	int64_t start_us;
	/* The tunnel phase of an RFC 8441 stream, from its :status 200 until
	 * the stream closes: tunnel_timeout since the last tunnel byte either
	 * way (the backend's timeouts end at its 101, see h2_response.c). */
	struct event tunnel_timer;      /* assigned once the tunnel opens */
	int64_t tunnel_us;              /* the last tunnel byte either way */
	/* The send phase (see h2_stall.c): when DATA of this stream last
	 * went out, or when it last got bytes for the client to take. */
	int64_t sent_us;
	/* The request body phase: when DATA last came, or when the client
	 * was last let send more (acknowledged, a 1xx sent). */
	int64_t recv_us;
	const char *upstream;
	int64_t upstream_us;
	const char *note;
	TAILQ_ENTRY(h2_stream) resume_link;
	TAILQ_ENTRY(h2_stream) wait_link;       /* in h2_server.waiting */
	TAILQ_ENTRY(h2_stream) link;    /* in h2_server.streams */
	struct arena arena;             /* last: not cleared on reuse */
};

struct h2_server {
	struct client *cl;
	struct sock *sk;
	const struct conf *cf;
	nghttp2_session *session;
	unsigned nstreams;              /* open stream objects */
	unsigned nrequests;             /* streams started */
	unsigned glitches;
	unsigned nsettings, npings;
	bool is_sending;                /* inside nghttp2_session_send */
	bool wants_flush;               /* a flush was asked meanwhile */
	bool is_flush_later;            /* flush_ev is active */
	struct event flush_ev;          /* h2_flush_later's */
	enum h2_conn_state state;
	bool is_reading;                /* inside on_read: no connect yet */
	unsigned nconnecting;           /* backend connects in progress */
	int32_t max_client_id;          /* highest HEADERS stream id */
	uint8_t ids_seen[H2_ID_WINDOW / 8];     /* which ids below it */
	struct event idle_timer;
	struct event age_timer;
	struct event head_timer;        /* the open header block's deadline */
	struct event goaway_timer;      /* notice → final GOAWAY, see
	                                 * h2_goaway */
	int32_t goaway_last_id;         /* the final GOAWAY's last stream */
	struct event stall_timer;       /* send_timeout: see h2_stall.c */
	int64_t data_us;                /* DATA last went out (h2_stall.c) */
	int64_t stall_at_us;            /* when stall_timer fires */
	int32_t head_id;                /* the stream that block is for */
	TAILQ_HEAD(, h2_stream) resumes;
	TAILQ_HEAD(, h2_stream) streams;
	TAILQ_HEAD(, h2_stream) waiting;        /* for a connect slot */
};

static inline struct timeval
tv_ms(unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	return tv;
}

/* h2_server.c */
/* H moves on to STATE, unless it is past it already. */
void h2_conn_enter(struct h2_server *h, enum h2_conn_state state);
/* A connection error: nghttp2 ends the session with CODE. */
void h2_terminate(struct h2_server *h, uint32_t code);
/* Sends what nghttp2 has queued; safe from exchange callbacks, never
 * from inside nghttp2's own. */
void h2_flush(struct h2_server *h);
/* The same once the current libevent callback and the others already
 * active have run: the responses a backend read completes go out in one
 * nghttp2_session_send, a short body in one DATA frame with END_STREAM. */
void h2_flush_later(struct h2_server *h);
/* A frame that did no useful work; too many end the connection. */
void h2_glitch(struct h2_server *h, const char *what);
/* Graceful end in two steps (RFC 9113 §6.8): a GOAWAY with the last id
 * 2^31-1 and a PING; one round trip later the final GOAWAY. Every stream
 * opened before that one is served; the connection closes once they are
 * done. Idempotent; a connection error (terminate) overrides it. */
void h2_goaway(struct h2_server *h, const char *why);

/* h2_stream.c */
/* A stream for a request's HEADERS (from the worker's cache). */
struct h2_stream *h2_stream_new(struct h2_server *h, int32_t id);
/* Logs it (WHY, when not NULL, is its note unless it has one already),
 * releases its exchange and gives it back to the cache. */
void h2_stream_free(struct h2_stream *st, const char *why);
struct h2_stream *h2_stream_get(struct h2_server *h, int32_t id);
/* ST moves on to STATE, unless it is past it already: so a refused
 * stream stays refused whatever else happens to it. */
void h2_stream_enter(struct h2_stream *st, enum h2_stream_state state);
/* Whether ST is still served: false once it is refused (H2S_REFUSED).
 * The one test of it: a refused stream's frames, body and response
 * events are dropped wherever they come. */
bool h2_stream_is_live(const struct h2_stream *st);
/* Portico answers ST itself with STATUS instead of the backend, noting
 * WHY, and the stream is refused. */
void h2_stream_refuse(struct h2_stream *st, int status, const char *why);
/* The largest request header list (and trailer list), RFC 9113 §6.5.2
 * size: the smaller of client_max_header_size and
 * http2_max_header_list_size; advertised in SETTINGS. */
size_t h2_stream_list_limit(const struct conf *cf);
/* One header field (or trailer) as nghttp2 delivers it; -1: no memory.
 * A list over the size or field-count limit is refused as it is decoded:
 * nothing more of it is stored, the stream gets 431 (trailers: it is
 * reset and its exchange discarded), and it counts as a glitch. */
int h2_stream_header(struct h2_stream *st, const uint8_t *name,
    size_t namelen, const uint8_t *value, size_t valuelen);
/* A frame of ST came whole: the request head starts the exchange (a
 * check, the route), END_STREAM (after DATA or trailers) ends the
 * request. */
void h2_stream_recv(struct h2_stream *st, const nghttp2_frame *f);
/* A frame went out: after the END_STREAM of a response complete before
 * its request, RST_STREAM NO_ERROR; a reset nghttp2 sent on its own is a
 * glitch. */
void h2_stream_sent(struct h2_server *h, const nghttp2_frame *f);
/* Whether stream ID's request header block is still arriving (the
 * stream exists, is not refused and has not started). */
bool h2_stream_awaits_head(struct h2_server *h, int32_t id);
/* Request DATA (or RFC 8441 tunnel bytes) for stream ID: queued for its
 * exchange and acknowledged once the backend took it; given back at
 * once when no exchange wants it. */
void h2_stream_data(struct h2_server *h, int32_t id, const uint8_t *data,
    size_t len);
void h2_stream_cache_free(void);
void h2_stream_cache_trim(unsigned keep);      /* all but KEEP */
/* RST_STREAM CODE, marked as portico's own (no glitch); WHY for the log. */
void h2_stream_reset(struct h2_stream *st, uint32_t code, const char *why);
/* Frees the exchange, keeping what the access log needs of it. */
void h2_stream_release_exchange(struct h2_stream *st);
/* Acknowledges (WINDOW_UPDATE) the DATA the backend has taken. */
void h2_stream_ack(struct h2_stream *st);
/* Streams waiting for a backend connect slot get one while there are
 * any (http2_max_backend_connects); not while inside on_read. */
void h2_stream_connect_waiting(struct h2_server *h);

/* h2_stall.c: the phases where a stream waits on its client: sending
 * the request body (client_body_timeout), taking the response
 * (send_timeout), for the stream and the connection. */
void h2_stall_init(struct h2_server *h);
void h2_stall_fini(struct h2_server *h);
/* ST has bytes for the client again (a head, a body after a wait on the
 * backend, its end): its send_timeout starts now. */
void h2_stall_watch(struct h2_stream *st);
/* DATA of ST went out: the stream and the connection moved. */
void h2_stall_sent(struct h2_stream *st);
/* ST's client sent request DATA, or may send more: client_body_timeout
 * starts now. */
void h2_stall_body(struct h2_stream *st);

/* h2_response.c: the exchange_ops a stream's exchange reports to (FE is
 * the stream), and the responses portico makes itself. */
void h2_response_head(void *fe, const struct resp_head *r);
void h2_response_body(void *fe, struct evbuffer *data);
void h2_response_end(void *fe, const struct hfield *trailers, size_t n);
void h2_response_fail(void *fe, int status, const char *why);
/* A DATA frame of ST goes out: its header HD and LEN bytes of its buffer,
 * in one extent of OUT; a paused backend is queued for h2_response_resume
 * once it drained. -1: out of memory. */
int h2_response_sent(struct h2_stream *st, struct evbuffer *out,
    const uint8_t *hd, size_t len);
/* Outside nghttp2_session_send (which it may feed at once): the queued
 * streams' backends send again. */
void h2_response_resume(struct h2_server *h);
/* The backend took the queued body: acknowledge it to the client. */
void h2_response_drain(void *fe);
/* A whole small response from portico: "<status> <reason>\n". */
void h2_response_error(struct h2_stream *st, int status);
/* A tunnel byte went one way or the other: its idle time starts again. */
void h2_response_tunnel_active(struct h2_stream *st);
/* The stream goes: its tunnel timer with it. */
void h2_response_tunnel_stop(struct h2_stream *st);

#endif
