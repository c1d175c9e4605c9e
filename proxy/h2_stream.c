/* proxy/h2_stream.c: one HTTP/2 stream: the request as nghttp2 hands it
 * over (pseudo-headers, fields, trailers, RFC 8441 CONNECT) becomes a
 * req_head and an exchange, whose response h2_response.c turns into
 * frames. Flow control: DATA is acknowledged once the exchange's queue
 * to the backend is below its high-water mark. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "access.h"
#include "client.h"
#include "conf.h"
#include "ctx.h"
#include "epoch.h"
#include "exchange.h"
#include "freelist.h"
#include "h2.h"
#include "h2_request.h"
#include "log.h"

static void release_connect(struct h2_stream *st);

/* Streams. */

/* A worker reuses freed streams and their buffers: a stream costs no
 * malloc in the steady state. 256 missed two times in five with 640
 * streams in flight; the idle worker trims the cache (idle.c), so the
 * bound (1024 x ~3 KB) costs memory only while the load lasts. */
#define H2_STREAM_CACHE 1024
static __thread struct freelist cache = { .cap = H2_STREAM_CACHE };

static void
stream_destroy(void *p)
{
	struct h2_stream *st = p;

	evbuffer_free(st->in);
	evbuffer_free(st->out);
	free(st);
}

static struct h2_stream *
stream_alloc(void)
{
	struct h2_stream *st;
	struct evbuffer *in, *out;

	if ((st = freelist_take(&cache)) != NULL) {
		in = st->in;
		out = st->out;
		memset(st, 0, offsetof(struct h2_stream, arena));
		st->in = in;
		st->out = out;
		return st;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	if ((st->in = evbuffer_new()) == NULL ||
	    (st->out = evbuffer_new()) == NULL) {
		evbuffer_free(st->in);
		free(st);
		return NULL;
	}
	return st;
}

static void
stream_release(struct h2_stream *st)
{
	arena_fini(&st->arena);
	evbuffer_drain(st->in, evbuffer_get_length(st->in));
	evbuffer_drain(st->out, evbuffer_get_length(st->out));
	if (!freelist_put(&cache, st))
		stream_destroy(st);
}

void
h2_stream_cache_trim(unsigned keep)
{
	freelist_trim(&cache, keep, stream_destroy);
}

void
h2_stream_cache_free(void)
{
	h2_stream_cache_trim(0);
}

struct h2_stream *
h2_stream_new(struct h2_server *h, int32_t id)
{
	struct h2_stream *st;

	if ((st = stream_alloc()) == NULL)
		return NULL;
	st->h = h;
	st->id = id;
	st->upstream_us = -1;
	st->epoch = epoch_ref(ctx_epoch(h->cl->ctx));
	arena_init(&st->arena);
	st->start_us = ctx_now_us(h->cl->ctx);
	h->nstreams++;
	TAILQ_INSERT_TAIL(&h->streams, st, link);
	event_del(&h->idle_timer);
	return st;
}

static void
log_stream(struct h2_stream *st)
{
	struct access_entry e = { 0 };

	if (ctx_access_log(st->h->cl->ctx) == NULL || st->rq.req.method == NULL)
		return;
	e.status = st->status;
	e.bytes_sent = st->bytes_sent;
	e.bytes_received = st->bytes_received;
	e.start_us = st->start_us;
	e.upstream = st->upstream;
	e.upstream_us = st->upstream_us;
	e.note = st->note;
	access_add(&e, st->h->cl, &st->rq.req, "HTTP/2.0");
}

void
h2_stream_release_exchange(struct h2_stream *st)
{
	if (st->x == NULL)
		return;
	st->upstream = exchange_upstream(st->x);
	st->upstream_us = exchange_upstream_us(st->x);
	exchange_free(st->x);
	st->x = NULL;
}

void
h2_stream_ack(struct h2_stream *st)
{
	if (st->unconsumed == 0)
		return;
	nghttp2_session_consume(st->h->session, st->id, st->unconsumed);
	st->unconsumed = 0;
	h2_stall_body(st);              /* the client may send more now */
}

/* DATA never acknowledged (held before a 101 that did not come, or
 * queued for a backend that failed) still holds the connection window:
 * it goes back, or enough such streams would stall the connection. */
static void
give_back_window(struct h2_stream *st)
{
	if (st->unconsumed > 0)
		nghttp2_session_consume_connection(st->h->session,
		    st->unconsumed);
	st->unconsumed = 0;
}

void
h2_stream_free(struct h2_stream *st, const char *why)
{
	struct h2_server *h = st->h;

	if (st->note == NULL)
		st->note = why;
	give_back_window(st);
	h2_response_tunnel_stop(st);
	if (st->flow.wants_resume)
		TAILQ_REMOVE(&h->resumes, st, resume_link);
	TAILQ_REMOVE(&h->streams, st, link);
	h2_stream_release_exchange(st);  /* an abandoned connect: closed */
	release_connect(st);
	log_stream(st);
	epoch_unref(st->epoch);
	stream_release(st);
	if (--h->nstreams == 0 && h->state != H2C_CLOSING) {
		struct timeval tv = tv_ms(h->cf->keepalive_timeout);

		event_add(&h->idle_timer, &tv);
	}
	h2_stream_connect_waiting(h);
}

struct h2_stream *
h2_stream_get(struct h2_server *h, int32_t id)
{
	return nghttp2_session_get_stream_user_data(h->session, id);
}

void
h2_stream_enter(struct h2_stream *st, enum h2_stream_state state)
{
	if (state > st->state)
		st->state = state;
}

bool
h2_stream_is_live(const struct h2_stream *st)
{
	return st->state != H2S_REFUSED;
}

void
h2_stream_reset(struct h2_stream *st, uint32_t code, const char *why)
{
	st->note = why;
	h2_stream_enter(st, H2S_REFUSED);
	nghttp2_submit_rst_stream(st->h->session, NGHTTP2_FLAG_NONE, st->id,
	    code);
}

void
h2_stream_refuse(struct h2_stream *st, int status, const char *why)
{
	st->note = why;
	h2_response_error(st, status);
	h2_stream_enter(st, H2S_REFUSED);
}

/* Backend connects: at most http2_max_backend_connects in progress per
 * client connection (0: http2_max_concurrent_streams), so a client that
 * opens and abandons streams (MadeYouReset, CVE-2025-8671) cannot make
 * portico open backend connections faster than they finish. None starts
 * inside on_read: a stream that the same read resets (content-length
 * mismatch, a bad frame) never costs a connection. */
static unsigned
connect_cap(const struct h2_server *h)
{
	unsigned n = h->cf->http2_max_backend_connects;

	return n != 0 ? n : h->cf->http2_max_concurrent_streams;
}

static bool
may_connect(void *fe)
{
	struct h2_stream *st = fe;
	struct h2_server *h = st->h;

	if (st->slot.is_connecting)     /* the next server, same slot */
		return true;
	if (!h->is_reading && h->nconnecting < connect_cap(h)) {
		h->nconnecting++;
		st->slot.is_connecting = true;
		return true;
	}
	if (!st->slot.is_waiting) {
		st->slot.is_waiting = true;
		TAILQ_INSERT_TAIL(&h->waiting, st, wait_link);
	}
	return false;
}

static void
release_connect(struct h2_stream *st)
{
	if (st->slot.is_waiting) {
		st->slot.is_waiting = false;
		TAILQ_REMOVE(&st->h->waiting, st, wait_link);
	}
	if (st->slot.is_connecting) {
		st->slot.is_connecting = false;
		st->h->nconnecting--;
	}
}

static void
on_connect_done(void *fe)
{
	struct h2_stream *st = fe;

	release_connect(st);
	h2_stream_connect_waiting(st->h);
}

void
h2_stream_connect_waiting(struct h2_server *h)
{
	struct h2_stream *st;

	/* none once a connection error ends the session (its GOAWAY may
	 * still wait in the output) */
	if (h->is_reading || h->state >= H2C_TERMINATED ||
	    h->glitches > h->cf->http2_max_glitches ||
	    !nghttp2_session_want_read(h->session))
		return;
	while (h->nconnecting < connect_cap(h) &&
	    (st = TAILQ_FIRST(&h->waiting)) != NULL) {
		TAILQ_REMOVE(&h->waiting, st, wait_link);
		st->slot.is_waiting = false;
		if (st->x != NULL)      /* may_connect takes the slot */
			exchange_connect(st->x);
	}
}

static const struct exchange_ops exchange_ops = {
	.on_head = h2_response_head,
	.on_body = h2_response_body,
	.on_end = h2_response_end,
	.on_fail = h2_response_fail,
	.on_request_drain = h2_response_drain,
	.may_connect = may_connect,
	.on_connect_done = on_connect_done,
};

/* The request side, from nghttp2. */

/* Room for one more request field; -1: no memory. */
static int
grow_fields(struct h2_stream *st)
{
	struct h2_request *rq = &st->rq;
	struct hfield *v;
	size_t cap;

	if (rq->nfields < rq->cap)
		return 0;
	cap = rq->cap == 0 ? 16 : rq->cap * 2;
	if ((v = arena_alloc(&st->arena, cap * sizeof(*v))) == NULL)
		return -1;
	if (rq->nfields > 0)
		memcpy(v, rq->fields, rq->nfields * sizeof(*v));
	rq->fields = v;
	rq->cap = cap;
	return 0;
}

static int
add_field(struct h2_stream *st, const uint8_t *name, size_t namelen,
    const uint8_t *value, size_t valuelen)
{
	struct hfield *f;

	if (grow_fields(st) == -1)
		return -1;
	f = &st->rq.fields[st->rq.nfields];
	f->name = arena_strndup(&st->arena, (const char *)name, namelen);
	f->value = arena_strndup(&st->arena, (const char *)value, valuelen);
	if (f->name == NULL || f->value == NULL)
		return -1;
	f->namelen = (uint32_t)namelen;
	f->valuelen = (uint32_t)valuelen;
	f->kind = headers_classify(f->name, namelen);
	st->rq.nfields++;
	return 0;
}

static int
set_pseudo(struct h2_stream *st, const uint8_t *name, size_t namelen,
    const uint8_t *value, size_t valuelen)
{
	char *v = arena_strndup(&st->arena, (const char *)value, valuelen);

	if (v == NULL)
		return -1;
	h2_request_pseudo(&st->rq, (const char *)name, namelen, v, valuelen);
	return 0;
}

size_t
h2_stream_list_limit(const struct conf *cf)
{
	return cf->client_max_header_size < cf->http2_max_header_list_size ?
	    cf->client_max_header_size : cf->http2_max_header_list_size;
}

/* RFC 9113 §6.5.2: name + value + 32 per field as HPACK decodes it,
 * pseudo-headers included, so that a few bytes of HPACK referencing a
 * big dynamic-table entry count for what they expand to. Each cookie
 * crumb is a field of its own. Pseudo-headers are not in the field
 * count (they are the request line). False once over a limit. */
static bool
count_field(struct h2_stream *st, size_t namelen, size_t valuelen,
    bool is_pseudo)
{
	const struct conf *cf = st->h->cf;

	if (st->list.is_over)
		return false;
	if (st->state != H2S_HEADERS && !st->list.in_trailers) {
		st->list.in_trailers = true;    /* counted afresh */
		st->list.size = 0;
		st->list.nfields = 0;
	}
	st->list.size += namelen + valuelen + 32;
	st->list.nfields += !is_pseudo;
	if (st->list.size > h2_stream_list_limit(cf) ||
	    st->list.nfields > cf->client_max_header_fields)
		st->list.is_over = true;
	return !st->list.is_over;
}

/* A request head over the limits: 431 at once (no exchange exists yet,
 * none will); the rest of the block is decoded by nghttp2 (the HPACK
 * state must stay in step) but not kept. */
static void
refuse_head(struct h2_stream *st)
{
	const char *why = "request header list over the limit";

	log_conn(LOG_DEBUG, st->h->cl, "http2: stream %d: %s", (int)st->id,
	    why);
	h2_glitch(st->h, "header lists over the limit");
	h2_stream_refuse(st, 431, why);
}

/* Trailers over the limits: the request cannot end as the client sent
 * it, so nothing of them is forwarded; the exchange is discarded (its
 * backend connection holds half a request: closed, not pooled) and the
 * stream reset. */
static void
refuse_trailers(struct h2_stream *st)
{
	log_conn(LOG_DEBUG, st->h->cl, "http2: stream %d: request trailers "
	    "over the limit", (int)st->id);
	h2_glitch(st->h, "header lists over the limit");
	h2_stream_release_exchange(st);
	h2_stream_reset(st, NGHTTP2_ENHANCE_YOUR_CALM,
	    "request trailers over the limit");
}

/* Trailers are kept only while the request body is on its way to an
 * exchange; once the stream is refused (a state past these) or
 * answered, nothing is kept. */
static bool
wants_fields(const struct h2_stream *st)
{
	return st->state == H2S_HEADERS ||
	    (st->state == H2S_BODY && st->x != NULL);
}

int
h2_stream_header(struct h2_stream *st, const uint8_t *name, size_t namelen,
    const uint8_t *value, size_t valuelen)
{
	bool is_pseudo = namelen > 0 && name[0] == ':';

	if (!wants_fields(st))
		return 0;
	if (!count_field(st, namelen, valuelen, is_pseudo)) {
		if (st->state == H2S_HEADERS)
			refuse_head(st);
		else
			refuse_trailers(st);
		return 0;
	}
	if (st->state != H2S_HEADERS)           /* trailers */
		return add_field(st, name, namelen, value, valuelen);
	if (is_pseudo)
		return set_pseudo(st, name, namelen, value, valuelen);
	return add_field(st, name, namelen, value, valuelen);
}

/* RFC 8441: the key h2_request_head puts in the upgrade GET, made here
 * (NULL: no randomness), with room for its field. */
static const char *
make_ws_key(struct h2_stream *st)
{
	if (!h2_request_wants_key(&st->rq) || ws_make_key(st->ws_key) == -1)
		return NULL;
	(void)grow_fields(st);          /* none: h2_request_head says so */
	return st->ws_key;
}

/* client_max_body_size, as the HTTP/1.1 frontend applies it: a declared
 * length over it gets 413 before any backend is asked; a body that
 * grows over it is refused as it arrives (413 while no response has
 * begun, else RST_STREAM CANCEL), its exchange discarded with its
 * backend connection, and the window it held given back. */
static bool
is_body_over(const struct h2_stream *st, uint64_t n)
{
	uint64_t max = st->h->cf->client_max_body_size;

	return max > 0 && n > max;
}

static void
refuse_body(struct h2_stream *st)
{
	const char *why = "request body too large";

	evbuffer_drain(st->in, evbuffer_get_length(st->in));
	h2_stream_ack(st);
	h2_stream_release_exchange(st);
	if (st->resp.is_started)
		h2_stream_reset(st, NGHTTP2_CANCEL, why);
	else
		h2_stream_refuse(st, 413, why);
}

/* The request head is complete (IS_END: no body): check, route, start. */
static void
start_request(struct h2_stream *st, bool is_end)
{
	struct h2_server *h = st->h;
	struct fwd_info fwd = { h->cl->addr, h->cl->is_tls, h->cl->tag,
	    st->id, !conf_trusts(h->cf, h->cl->peer_family,
	    h->cl->peer_ip) };
	const char *why;
	int status, rv;

	h2_stream_enter(st, is_end ? H2S_RESPONDING : H2S_BODY);
	if (++h->nrequests >= h->cf->keepalive_requests)
		h2_goaway(h, "keepalive_requests reached");
	rv = h2_request_head(&st->rq, is_end, h->cl->is_tls, make_ws_key(st),
	    &status, &why);
	st->ntrailer_start = st->rq.nfields;
	if (st->rq.req.is_websocket)
		st->ws = H2WS_WAIT;
	if (rv == -1) {
		h2_glitch(h, "malformed requests");
		h2_stream_refuse(st, status, why);
		return;
	}
	if (st->rq.req.content_length >= 0 &&
	    is_body_over(st, (uint64_t)st->rq.req.content_length)) {
		h2_stream_refuse(st, 413, "request body too large");
		return;
	}
	ctx_count_request(h->cl->ctx);
	st->x = exchange_new(st->epoch, &st->rq.req, &st->arena, &fwd,
	    &exchange_ops, st, &status, &why);
	if (st->x == NULL) {
		h2_stream_refuse(st, status, why);
		return;
	}
	/* an upgrade GET is complete at once; END_STREAM waits for its 101 */
	if (is_end || st->ws == H2WS_WAIT)
		exchange_request_end(st->x, NULL, 0);
	st->is_ws_end_held = is_end && st->ws == H2WS_WAIT;
	if (st->state == H2S_BODY)
		h2_stall_body(st);      /* the body phase begins */
}

/* END_STREAM from the client (after DATA or trailers). */
static void
end_request(struct h2_stream *st)
{
	size_t n = st->rq.nfields - st->ntrailer_start;

	if (st->state != H2S_BODY)
		return;
	h2_stream_enter(st, H2S_RESPONDING);
	if (st->ws == H2WS_WAIT) {
		st->is_ws_end_held = true;
		return;
	}
	if (st->x != NULL && st->ws != H2WS_REFUSED)
		exchange_request_end(st->x, n > 0 ?
		    st->rq.fields + st->ntrailer_start : NULL, n);
}

void
h2_stream_recv(struct h2_stream *st, const nghttp2_frame *f)
{
	bool is_end = f->hd.flags & NGHTTP2_FLAG_END_STREAM;

	if (!h2_stream_is_live(st))
		return;
	if (f->hd.type == NGHTTP2_HEADERS && st->state == H2S_HEADERS)
		start_request(st, is_end);
	else if (is_end && (f->hd.type == NGHTTP2_DATA ||
	    f->hd.type == NGHTTP2_HEADERS))
		end_request(st);
}

bool
h2_stream_awaits_head(struct h2_server *h, int32_t id)
{
	struct h2_stream *st = h2_stream_get(h, id);

	/* H2S_REFUSED is past H2S_HEADERS */
	return st != NULL && st->state == H2S_HEADERS;
}

/* RFC 9113 §8.1: a response complete before the request (a 431, 400
 * or 404 sent at once, a backend that answered early) is followed by
 * RST_STREAM NO_ERROR, asking the client to stop sending. Without it a
 * client that never ends the stream keeps its concurrency slot, and the
 * idle timer never starts, for as long as it likes. Not for an RFC 8441
 * tunnel: there END_STREAM is the backend's half-close, and the client
 * ends its own side (RFC 8441 §4). */
static void
end_unfinished(struct h2_server *h, int32_t id)
{
	struct h2_stream *st;

	if (nghttp2_session_get_stream_remote_close(h->session, id) != 0)
		return;
	st = h2_stream_get(h, id);
	if (st != NULL && st->ws == H2WS_OPEN && h2_stream_is_live(st))
		return;
	nghttp2_submit_rst_stream(h->session, NGHTTP2_FLAG_NONE, id,
	    NGHTTP2_NO_ERROR);
}

/* RST_STREAM that nghttp2 sent by itself (content-length mismatch,
 * invalid fields, DATA on a closed stream, streams over the concurrency
 * limit ...): the client broke the protocol on that stream, a glitch as
 * its own RST_STREAM is (MadeYouReset, CVE-2025-8671). Portico's own
 * resets refuse the stream first (h2_stream_reset). */
void
h2_stream_sent(struct h2_server *h, const nghttp2_frame *f)
{
	struct h2_stream *st;

	if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
	    f->hd.flags & NGHTTP2_FLAG_END_STREAM) {
		end_unfinished(h, f->hd.stream_id);
		return;
	}
	if (f->hd.type != NGHTTP2_RST_STREAM ||
	    f->rst_stream.error_code == NGHTTP2_NO_ERROR)
		return;
	st = h2_stream_get(h, f->hd.stream_id);
	if (st == NULL || h2_stream_is_live(st))
		h2_glitch(h, "streams reset for protocol errors");
}

/* Past H2_WS_EARLY_MAX before the 101: RST_STREAM CANCEL. Not
 * REFUSED_STREAM, which would tell the client (RFC 9113 §8.7) that
 * nothing was processed and a retry is safe: the upgrade GET did reach
 * the backend. The held bytes are dropped, their connection window given
 * back, and the backend connection closed. */
static void
reset_early_data(struct h2_stream *st)
{
	evbuffer_drain(st->in, evbuffer_get_length(st->in));
	nghttp2_session_consume_connection(st->h->session, st->unconsumed);
	st->unconsumed = 0;
	st->ws = H2WS_REFUSED;
	h2_stream_release_exchange(st);
	h2_stream_reset(st, NGHTTP2_CANCEL,
	    "WebSocket data over the bound before the 101");
}

void
h2_stream_data(struct h2_server *h, int32_t id, const uint8_t *data,
    size_t len)
{
	struct h2_stream *st = h2_stream_get(h, id);

	if (st == NULL || st->x == NULL || st->state != H2S_BODY) {
		/* nobody wants it: give the window back at once */
		nghttp2_session_consume(h->session, id, len);
		return;
	}
	st->bytes_received += len;
	st->unconsumed += len;
	h2_response_tunnel_active(st);
	h2_stall_body(st);
	if (st->ws == H2WS_REFUSED) {
		h2_stream_ack(st);
		return;
	}
	if (st->ws == H2WS_NONE && is_body_over(st, st->bytes_received)) {
		refuse_body(st);        /* on_read flushes */
		return;
	}
	evbuffer_add(st->in, data, len);
	if (st->ws == H2WS_WAIT) {
		/* unacknowledged: the stream window bounds it too */
		if (evbuffer_get_length(st->in) > H2_WS_EARLY_MAX)
			reset_early_data(st);
		return;
	}
	exchange_request_body(st->x, st->in);
	if (!exchange_request_is_full(st->x))
		h2_stream_ack(st);
}
