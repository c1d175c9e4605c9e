/* proxy/h2_server.c: HTTP/2 for one client connection (nghttp2).
 *
 * Input: every read hands the input buffer's chains to
 * nghttp2_session_mem_recv. Output: frames are appended to the socket's
 * output buffer by on_send; DATA payloads are moved there from each
 * stream's response buffer by on_send_data (NGHTTP2_DATA_FLAG_NO_COPY),
 * so response bodies are never copied into nghttp2.
 *
 * Flow control is by hand (no automatic WINDOW_UPDATE): request body
 * bytes are acknowledged with nghttp2_session_consume only while the
 * exchange's queue towards the backend is below its high-water mark, so
 * a slow backend closes the client's stream window. Each stream's
 * response buffer pauses the backend above its high-water mark; the
 * socket's output pauses all DATA above its own.
 *
 * nghttp2 callbacks never free a stream while nghttp2 still uses it:
 * streams are freed in on_stream_close, and nghttp2_session_send is never
 * re-entered (see h2_flush).
 *
 * This file is the session and its callbacks; each callback is an
 * adapter to a named function. What a stream does with its frames, its
 * state and its fields lives in h2_stream.c (and h2_response.c,
 * h2_stall.c), behind h2.h.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>

#include "client.h"
#include "conf.h"
#include "ctx.h"
#include "h2.h"
#include "h2_mem.h"
#include "h2_server.h"
#include "log.h"
#include "sock.h"

void
h2_conn_enter(struct h2_server *h, enum h2_conn_state state)
{
	if (state > h->state)
		h->state = state;
}

void
h2_terminate(struct h2_server *h, uint32_t code)
{
	nghttp2_session_terminate_session(h->session, code);
	h2_conn_enter(h, H2C_TERMINATED);
}

/* A frame that did no useful work; too many end the connection (not
 * H2C_TERMINATED: the glitch count itself stops what that stops). */
void
h2_glitch(struct h2_server *h, const char *what)
{
	if (++h->glitches <= h->cf->http2_max_glitches)
		return;
	log_conn(LOG_INFO, h->cl, "http2: too many %s: ENHANCE_YOUR_CALM",
	    what);
	nghttp2_session_terminate_session(h->session,
	    NGHTTP2_ENHANCE_YOUR_CALM);
	h2_conn_enter(h, H2C_GOAWAY);
}

/* Graceful end, RFC 9113 §6.8. The first step is a GOAWAY whose last
 * stream id is 2^31-1, which tells the client to open no more streams but
 * refuses none, and a PING. Streams keep being accepted and served
 * (keepalive_requests included: it only starts this) until the PING's
 * ACK comes back, one round trip later: every HEADERS the client sent
 * before it saw the notice has arrived by then. The final GOAWAY then
 * names the last stream opened, and the connection closes once the
 * streams up to it are done (maybe_close). */
#define H2_GOAWAY_RTT_MS        1000    /* the ACK's longest wait */

static const uint8_t goaway_ping[8] = "goaway!";

/* The final GOAWAY: the streams opened so far are served, none after. */
static void
final_goaway(struct h2_server *h)
{
	event_del(&h->goaway_timer);
	if (h->state >= H2C_GOAWAY)
		return;
	h2_conn_enter(h, H2C_GOAWAY);
	h->goaway_last_id = nghttp2_session_get_last_proc_stream_id(h->session);
	nghttp2_submit_goaway(h->session, NGHTTP2_FLAG_NONE,
	    h->goaway_last_id, NGHTTP2_NO_ERROR, NULL, 0);
}

/* goaway_timer governs the phase between the notice and the final
 * GOAWAY: at most H2_GOAWAY_RTT_MS, cut short by the PING's ACK. It is
 * replaced by nothing of the connection's own: after the final GOAWAY
 * the streams in flight run under their own timers, then the lingering
 * close's. The idle timer may run meanwhile; it only asks for this. */
static void
on_goaway_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct h2_server *h = arg;

	(void)fd;
	(void)what;
	if (h->state >= H2C_GOAWAY)
		return;         /* a connection error came first */
	log_conn(LOG_DEBUG, h->cl, "http2: no PING ACK after the GOAWAY "
	    "notice: final GOAWAY");
	final_goaway(h);
	h2_flush(h);
}

void
h2_goaway(struct h2_server *h, const char *why)
{
	struct timeval tv = tv_ms(H2_GOAWAY_RTT_MS);

	if (h->state != H2C_OPEN)
		return;
	log_conn(LOG_DEBUG, h->cl, "http2: GOAWAY: %s", why);
	h2_conn_enter(h, H2C_NOTICE);
	if (nghttp2_submit_shutdown_notice(h->session) != 0 ||
	    nghttp2_submit_ping(h->session, NGHTTP2_FLAG_NONE,
	    goaway_ping) != 0) {
		final_goaway(h);        /* out of memory: no round trip */
		return;
	}
	event_add(&h->goaway_timer, &tv);
}

/* The ACK of h2_goaway's PING: the round trip is over. */
static void
on_ping_ack(struct h2_server *h, const nghttp2_frame *f)
{
	if (h->state == H2C_NOTICE &&
	    memcmp(f->ping.opaque_data, goaway_ping, 8) == 0)
		final_goaway(h);
}

static void
count_glitches(struct h2_server *h, const nghttp2_frame *f)
{
	switch (f->hd.type) {
	case NGHTTP2_SETTINGS:
		if (!(f->hd.flags & NGHTTP2_FLAG_ACK) && ++h->nsettings > 1)
			h2_glitch(h, "SETTINGS frames");
		break;
	case NGHTTP2_PING:
		if (!(f->hd.flags & NGHTTP2_FLAG_ACK))
			h2_glitch(h, "PING frames");
		break;
	case NGHTTP2_PRIORITY:
		h2_glitch(h, "PRIORITY frames");
		break;
	case NGHTTP2_RST_STREAM:
		h2_glitch(h, "stream resets");
		break;
	case NGHTTP2_DATA:
		if (f->hd.length == 0 &&
		    !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
			h2_glitch(h, "empty DATA frames");
		break;
	case NGHTTP2_HEADERS:
		if (f->hd.length == 0 &&
		    !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
			h2_glitch(h, "empty HEADERS frames");
		break;
	}
}

static int
on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *arg)
{
	struct h2_server *h = arg;
	struct h2_stream *st = h2_stream_get(h, f->hd.stream_id);

	(void)s;
	count_glitches(h, f);
	if (f->hd.type == NGHTTP2_HEADERS)
		event_del(&h->head_timer);      /* the block is whole */
	if (f->hd.type == NGHTTP2_PING && f->hd.flags & NGHTTP2_FLAG_ACK)
		on_ping_ack(h, f);
	if (st != NULL)
		h2_stream_recv(st, f);
	return 0;
}

/* RFC 9113 §5.1.1: a new stream's id must be greater than every id the
 * client used before, else PROTOCOL_ERROR for the connection. nghttp2
 * forgets closed streams, so it cannot tell a never-used smaller id from
 * a closed stream's (whose late trailers are fine) and ignores both:
 * portico remembers which of the last H2_ID_WINDOW client ids it saw. */
static bool
id_bit(struct h2_server *h, int32_t id, int set)
{
	uint32_t i = ((uint32_t)id >> 1) % H2_ID_WINDOW;
	uint8_t m = (uint8_t)(1u << (i % 8));

	if (set > 0)
		h->ids_seen[i / 8] |= m;
	else if (set < 0)
		h->ids_seen[i / 8] &= (uint8_t)~m;
	return h->ids_seen[i / 8] & m;
}

static bool
is_reused_id(struct h2_server *h, int32_t id)
{
	int32_t i, n;

	if (id > h->max_client_id) {
		n = (id - h->max_client_id) / 2;
		if (n > H2_ID_WINDOW)
			n = H2_ID_WINDOW;
		for (i = 0; i < n; i++)         /* skipped ids: unused */
			id_bit(h, id - 2 * i, -1);
		id_bit(h, id, 1);
		h->max_client_id = id;
		return false;
	}
	return (h->max_client_id - id) / 2 < H2_ID_WINDOW &&
	    !id_bit(h, id, 0);
}

/* RFC 9113 §6.10: a header block is one HEADERS and the CONTINUATION
 * frames right after it, so at most one is open at a time. A request's
 * block must be whole client_header_timeout after its HEADERS began, as
 * an HTTP/1.1 head must: the idle timer stops while a stream exists, so
 * a client trickling CONTINUATION (or one HEADERS payload byte at a
 * time) would otherwise hold its connection forever. */
static void
on_head_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct h2_server *h = arg;

	(void)fd;
	(void)what;
	/* the block was taken or refused since: nothing to do */
	if (!h2_stream_awaits_head(h, h->head_id))
		return;
	log_conn(LOG_INFO, h->cl, "http2: stream %d: request headers not "
	    "complete after client_header_timeout", (int)h->head_id);
	h2_terminate(h, NGHTTP2_NO_ERROR);
	h2_flush(h);
}

static void
watch_head(struct h2_server *h, const nghttp2_frame_hd *hd)
{
	struct timeval tv = tv_ms(h->cf->client_header_timeout);

	h->head_id = hd->stream_id;
	event_add(&h->head_timer, &tv);
}

static int
on_begin_frame(nghttp2_session *s, const nghttp2_frame_hd *hd, void *arg)
{
	struct h2_server *h = arg;

	(void)s;
	if (hd->type == NGHTTP2_HEADERS)
		watch_head(h, hd);
	/* even ids and id 0 are nghttp2's to refuse */
	if (hd->type != NGHTTP2_HEADERS || hd->stream_id % 2 == 0 ||
	    !is_reused_id(h, hd->stream_id))
		return 0;
	log_conn(LOG_INFO, h->cl, "http2: HEADERS on stream %d, below %d: "
	    "PROTOCOL_ERROR", hd->stream_id, h->max_client_id);
	h2_terminate(h, NGHTTP2_PROTOCOL_ERROR);
	return 0;
}

static int
on_frame_send(nghttp2_session *s, const nghttp2_frame *f, void *arg)
{
	(void)s;
	h2_stream_sent(arg, f);
	return 0;
}

static int
on_begin_headers(nghttp2_session *s, const nghttp2_frame *f, void *arg)
{
	struct h2_server *h = arg;
	struct h2_stream *st;

	if (f->hd.type != NGHTTP2_HEADERS ||
	    f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	/* after the final GOAWAY is submitted but before it is sent,
	 * nghttp2 still opens streams: above its last id, they were not
	 * processed and the client may retry them, so none may start.
	 * Without a stream object the frames go unheard, and nghttp2
	 * closes the stream once the GOAWAY is out. */
	if (h->state >= H2C_GOAWAY && f->hd.stream_id > h->goaway_last_id)
		return 0;
	if ((st = h2_stream_new(h, f->hd.stream_id)) == NULL)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	nghttp2_session_set_stream_user_data(s, f->hd.stream_id, st);
	return 0;
}

static int
on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
    size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
    void *arg)
{
	struct h2_stream *st = h2_stream_get(arg, f->hd.stream_id);

	(void)s;
	(void)flags;
	if (st == NULL)
		return 0;
	if (h2_stream_header(st, name, namelen, value, valuelen) == -1)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	return 0;
}

static int
on_data_chunk(nghttp2_session *s, uint8_t flags, int32_t id,
    const uint8_t *data, size_t len, void *arg)
{
	(void)s;
	(void)flags;
	h2_stream_data(arg, id, data, len);
	return 0;
}

static int
on_stream_close(nghttp2_session *s, int32_t id, uint32_t code, void *arg)
{
	struct h2_stream *st = h2_stream_get(arg, id);

	(void)s;
	if (st == NULL)
		return 0;
	nghttp2_session_set_stream_user_data(s, id, NULL);
	h2_stream_free(st, code != NGHTTP2_NO_ERROR ? "stream reset" : NULL);
	return 0;
}

/* Output. */

static ssize_t
on_send(nghttp2_session *s, const uint8_t *data, size_t len, int flags,
    void *arg)
{
	struct h2_server *h = arg;
	struct evbuffer *out = sock_output(h->sk);

	(void)s;
	(void)flags;
	if (evbuffer_get_length(out) > H2_OUT_HIGH)
		return NGHTTP2_ERR_WOULDBLOCK;
	evbuffer_add(out, data, len);
	return (ssize_t)len;
}


static int
on_send_data(nghttp2_session *s, nghttp2_frame *f, const uint8_t *hd,
    size_t len, nghttp2_data_source *src, void *arg)
{
	struct h2_server *h = arg;
	struct evbuffer *out = sock_output(h->sk);

	(void)s;
	(void)f;
	if (evbuffer_get_length(out) > H2_OUT_HIGH)
		return NGHTTP2_ERR_WOULDBLOCK;
	if (h2_response_sent(src->ptr, out, hd, len) == -1)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	return 0;
}

/* A DATA frame, header included, fills one 16 KiB TLS record exactly
 * (sock.c writes a contiguous record without a copy): payloads of 16,375
 * bytes, within what the windows and the peer's frame size allow. */
static ssize_t
on_data_length(nghttp2_session *s, uint8_t type, int32_t id,
    int32_t conn_window, int32_t stream_window, uint32_t max_frame,
    void *arg)
{
	ssize_t n = H2_DATA_PAYLOAD;

	(void)s;
	(void)type;
	(void)id;
	(void)arg;
	if (conn_window < n)
		n = conn_window;
	if (stream_window < n)
		n = stream_window;
	if ((ssize_t)max_frame < n)
		n = (ssize_t)max_frame;
	return n > 0 ? n : 1;
}

static void
maybe_close(struct h2_server *h)
{
	if (h->state == H2C_CLOSING)
		return;
	if (nghttp2_session_want_read(h->session) ||
	    nghttp2_session_want_write(h->session))
		if (h->state < H2C_GOAWAY || h->nstreams > 0)
			return;
	if (sock_pending(h->sk) > 0)
		return;         /* on_write comes back when it is sent */
	h2_conn_enter(h, H2C_CLOSING);
	client_linger(h->cl);   /* the GOAWAY must reach the client */
}

/* Sends what nghttp2 has queued; never nested. */
void
h2_flush(struct h2_server *h)
{
	if (h->is_sending) {
		h->wants_flush = true;
		return;
	}
	h->is_sending = true;
	do {
		h->wants_flush = false;
		if (nghttp2_session_send(h->session) != 0) {
			h->is_sending = false;
			client_close_error(h->cl, "http2 send failed");
			return;
		}
		h2_response_resume(h);
	} while (h->wants_flush);
	h->is_sending = false;
	maybe_close(h);
}

static void
on_flush_later(evutil_socket_t fd, short what, void *arg)
{
	struct h2_server *h = arg;

	(void)fd;
	(void)what;
	h->is_flush_later = false;
	h2_flush(h);
}

void
h2_flush_later(struct h2_server *h)
{
	if (h->is_sending) {
		h2_flush(h);            /* the loop in progress takes it */
		return;
	}
	if (h->is_flush_later)
		return;
	h->is_flush_later = true;
	event_active(&h->flush_ev, EV_WRITE, 1);
}

/* Socket and timer callbacks. */

static void
on_read(struct sock *sk, void *arg)
{
	struct h2_server *h = arg;
	struct evbuffer *in = sock_input(sk);
	struct evbuffer_iovec v;
	ssize_t n;

	h->is_reading = true;
	while (evbuffer_peek(in, -1, NULL, &v, 1) > 0 && v.iov_len > 0) {
		n = nghttp2_session_mem_recv(h->session, v.iov_base,
		    v.iov_len);
		if (n < 0) {
			log_conn(LOG_INFO, h->cl, "http2: %s",
			    nghttp2_strerror((int)n));
			h2_terminate(h, n == NGHTTP2_ERR_FLOODED ||
			    n == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS ?
			    NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR);
			evbuffer_drain(in, evbuffer_get_length(in));
			break;
		}
		evbuffer_drain(in, (size_t)n);
	}
	h2_flush(h);    /* the resets: their streams go, connects and all */
	h->is_reading = false;
	h2_stream_connect_waiting(h);
}

static void
on_write(struct sock *sk, void *arg)
{
	struct h2_server *h = arg;

	(void)sk;
	h2_flush(h);
}

static void
on_event(struct sock *sk, short what, void *arg)
{
	struct h2_server *h = arg;

	(void)sk;
	h2_conn_enter(h, H2C_CLOSING);
	if (what & SOCK_TIMEOUT)
		log_conn(LOG_INFO, h->cl, "http2: the client took no byte for "
		    "send_timeout: closed, %u streams end", h->nstreams);
	if (what & SOCK_EOF)
		client_close(h->cl, "client closed");
	else
		client_close_error(h->cl, what & SOCK_TIMEOUT ?
		    "client timed out" : "client error");
}

/* No stream for keepalive_timeout. A HEADERS may still be on its way,
 * crossing our GOAWAY: the two steps of h2_goaway cost one round trip
 * and let it be served rather than go unprocessed. */
static void
on_idle(evutil_socket_t fd, short what, void *arg)
{
	struct h2_server *h = arg;

	(void)fd;
	(void)what;
	h2_goaway(h, "idle timeout");
	h2_flush(h);
}

static void
on_age(evutil_socket_t fd, short what, void *arg)
{
	struct h2_server *h = arg;

	(void)fd;
	(void)what;
	h2_goaway(h, "max_connection_age reached");
	h2_flush(h);
}

static nghttp2_session_callbacks *
make_callbacks(void)
{
	nghttp2_session_callbacks *cb;

	if (nghttp2_session_callbacks_new(&cb) != 0)
		return NULL;
	nghttp2_session_callbacks_set_send_callback(cb, on_send);
	nghttp2_session_callbacks_set_send_data_callback(cb, on_send_data);
	nghttp2_session_callbacks_set_data_source_read_length_callback(cb,
	    on_data_length);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb,
	    on_frame_recv);
	nghttp2_session_callbacks_set_on_begin_frame_callback(cb,
	    on_begin_frame);
	nghttp2_session_callbacks_set_on_frame_send_callback(cb,
	    on_frame_send);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb,
	    on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb,
	    on_data_chunk);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb,
	    on_stream_close);
	return cb;
}

static int
start_session(struct h2_server *h)
{
	const struct conf *cf = h->cf;
	nghttp2_session_callbacks *cb;
	nghttp2_option *opt;
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS,
		  cf->http2_max_concurrent_streams },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE,
		  (uint32_t)cf->http2_initial_window_size },
		{ NGHTTP2_SETTINGS_MAX_FRAME_SIZE,
		  (uint32_t)cf->http2_max_frame_size },
		/* RFC 9113 §6.5.2; enforced in h2_stream_header */
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
		  (uint32_t)h2_stream_list_limit(cf) },
		{ NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1 },
	};
	int rv = -1;
	size_t niv = sizeof(iv) / sizeof(iv[0]);

	if (h->cl->listen.is_h2_websocket_off)
		niv--;          /* no SETTINGS_ENABLE_CONNECT_PROTOCOL */
	if ((cb = make_callbacks()) == NULL)
		return -1;
	if (nghttp2_option_new(&opt) != 0)
		goto fail_cb;
	nghttp2_option_set_no_auto_window_update(opt, 1);
	nghttp2_option_set_max_settings(opt, 32);
	if (nghttp2_session_server_new3(&h->session, cb, h, opt, h2_mem()) != 0)
		goto fail_opt;
	if (nghttp2_submit_settings(h->session, NGHTTP2_FLAG_NONE, iv,
	    niv) != 0 ||
	    nghttp2_session_set_local_window_size(h->session,
	    NGHTTP2_FLAG_NONE, 0, H2_CONN_WINDOW) != 0)
		goto fail_opt;
	rv = 0;
fail_opt:
	nghttp2_option_del(opt);
fail_cb:
	nghttp2_session_callbacks_del(cb);
	return rv;
}

struct h2_server *
h2_server_new(struct client *cl, struct sock *sk, const char **why)
{
	struct h2_server *h;
	struct timeval tv;

	*why = "out of memory";
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->cl = cl;
	h->sk = sk;
	h->cf = cl->cf;
	TAILQ_INIT(&h->resumes);
	TAILQ_INIT(&h->streams);
	TAILQ_INIT(&h->waiting);
	if (start_session(h) == -1) {
		nghttp2_session_del(h->session);
		free(h);
		return NULL;
	}
	event_assign(&h->flush_ev, ctx_base(cl->ctx), -1, 0, on_flush_later, h);
	evtimer_assign(&h->idle_timer, ctx_base(cl->ctx), on_idle, h);
	evtimer_assign(&h->age_timer, ctx_base(cl->ctx), on_age, h);
	evtimer_assign(&h->head_timer, ctx_base(cl->ctx), on_head_timeout, h);
	evtimer_assign(&h->goaway_timer, ctx_base(cl->ctx), on_goaway_timeout,
	    h);
	h2_stall_init(h);
	tv = tv_ms(h->cf->keepalive_timeout);
	event_add(&h->idle_timer, &tv);
	if (h->cf->max_connection_age > 0) {
		tv = tv_ms(h->cf->max_connection_age);
		event_add(&h->age_timer, &tv);
	}
	sock_setcb(sk, on_read, on_write, on_event, h);
	sock_set_write_low(sk, 0);
	/* no read timeout: idle_timer, head_timer and the streams' own
	 * phases govern; a client that stops reading TCP is cut after
	 * send_timeout without write progress (h2_stall.c: its windows) */
	tv = tv_ms(h->cf->send_timeout);
	sock_set_timeouts(sk, NULL, &tv);
	sock_read_enable(sk, true);
	on_read(sk, h);
	return h;
}

void
h2_server_cache_free(void)
{
	h2_stream_cache_free();
	h2_mem_trim(0);
}

void
h2_server_cache_trim(unsigned keep)
{
	h2_stream_cache_trim(keep);
	h2_mem_trim(keep);
}

/* Graceful stop: h2_goaway; the streams in flight finish, then it
 * closes. */
void
h2_server_drain(struct h2_server *h)
{
	h2_goaway(h, "shutting down");
	h2_flush(h);
}

void
h2_server_free(struct h2_server *h)
{
	struct h2_stream *st;

	if (h == NULL)
		return;
	event_del(&h->flush_ev);
	event_del(&h->idle_timer);
	event_del(&h->age_timer);
	event_del(&h->head_timer);
	event_del(&h->goaway_timer);
	h2_stall_fini(h);
	h2_conn_enter(h, H2C_CLOSING);
	/* nghttp2_session_del does not call on_stream_close */
	while ((st = TAILQ_FIRST(&h->streams)) != NULL)
		h2_stream_free(st, "connection closed");
	nghttp2_session_del(h->session);
	free(h);
}
