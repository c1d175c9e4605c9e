/* proxy/h2_stream.c: one HTTP/2 stream: the request as nghttp2 hands it
 * over (pseudo-headers, fields, trailers, RFC 8441 CONNECT) becomes a
 * req_head and an exchange, whose response h2_response.c turns into
 * frames. Flow control: DATA is acknowledged once the exchange's queue
 * to the backend is below its high-water mark. */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "access.h"
#include "conf.h"
#include "conn.h"
#include "epoch.h"
#include "exchange.h"
#include "freelist.h"
#include "h2.h"
#include "log.h"
#include "ctx.h"

static void release_connect(struct h2_stream *st);

/* Streams. */

/* A worker reuses freed streams and their buffers: a stream costs no
 * malloc in the steady state. */
#define H2_STREAM_CACHE 256
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
	st->epoch = epoch_ref(ctx_epoch(h->c->ctx));
	arena_init(&st->arena);
	st->start_us = ctx_now_us(h->c->ctx);
	h->nstreams++;
	TAILQ_INSERT_TAIL(&h->streams, st, link);
	event_del(&h->idle_timer);
	return st;
}

static void
log_stream(struct h2_stream *st)
{
	struct access_entry e = { 0 };

	if (ctx_access_log(st->h->c->ctx) == NULL || st->req.method == NULL)
		return;
	e.status = st->status;
	e.bytes_sent = st->bytes_sent;
	e.bytes_received = st->bytes_received;
	e.start_us = st->start_us;
	e.upstream = st->upstream;
	e.upstream_us = st->upstream_us;
	e.note = st->note;
	access_add(&e, st->h->c, &st->req, "HTTP/2.0");
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
h2_stream_free(struct h2_stream *st)
{
	struct h2_server *h = st->h;

	give_back_window(st);
	h2_tunnel_stop(st);
	if (st->wants_resume)
		TAILQ_REMOVE(&h->resumes, st, resume_link);
	TAILQ_REMOVE(&h->streams, st, link);
	h2_stream_release_exchange(st);  /* an abandoned connect: closed */
	release_connect(st);
	log_stream(st);
	epoch_unref(st->epoch);
	stream_release(st);
	if (--h->nstreams == 0 && !h->is_closing) {
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
h2_stream_reset(struct h2_stream *st, uint32_t code, const char *why)
{
	st->note = why;
	st->is_bad = true;
	st->state = H2S_DONE;
	nghttp2_submit_rst_stream(st->h->session, NGHTTP2_FLAG_NONE, st->id,
	    code);
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

	if (st->is_connecting)          /* the next server, same slot */
		return true;
	if (!h->is_reading && h->nconnecting < connect_cap(h)) {
		h->nconnecting++;
		st->is_connecting = true;
		return true;
	}
	if (!st->is_waiting) {
		st->is_waiting = true;
		TAILQ_INSERT_TAIL(&h->waiting, st, wait_link);
	}
	return false;
}

static void
release_connect(struct h2_stream *st)
{
	if (st->is_waiting) {
		st->is_waiting = false;
		TAILQ_REMOVE(&st->h->waiting, st, wait_link);
	}
	if (st->is_connecting) {
		st->is_connecting = false;
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
	if (h->is_reading || h->is_closing || h->is_terminated ||
	    h->glitches > h->cf->http2_max_glitches ||
	    !nghttp2_session_want_read(h->session))
		return;
	while (h->nconnecting < connect_cap(h) &&
	    (st = TAILQ_FIRST(&h->waiting)) != NULL) {
		TAILQ_REMOVE(&h->waiting, st, wait_link);
		st->is_waiting = false;
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

static int
add_field(struct h2_stream *st, const uint8_t *name, size_t namelen,
    const uint8_t *value, size_t valuelen)
{
	struct hfield *v, *f;

	if (st->nfields == st->cap) {
		size_t cap = st->cap == 0 ? 16 : st->cap * 2;

		if ((v = arena_alloc(&st->arena, cap * sizeof(*v))) == NULL)
			return -1;
		if (st->nfields > 0)
			memcpy(v, st->fields, st->nfields * sizeof(*v));
		st->fields = v;
		st->cap = cap;
	}
	f = &st->fields[st->nfields];
	f->name = arena_strndup(&st->arena, (const char *)name, namelen);
	f->value = arena_strndup(&st->arena, (const char *)value, valuelen);
	if (f->name == NULL || f->value == NULL)
		return -1;
	f->namelen = (uint32_t)namelen;
	f->valuelen = (uint32_t)valuelen;
	f->kind = headers_classify(f->name, namelen);
	st->nfields++;
	return 0;
}

static int
set_pseudo(struct h2_stream *st, const uint8_t *name, size_t namelen,
    const uint8_t *value, size_t valuelen)
{
	char *v = arena_strndup(&st->arena, (const char *)value, valuelen);
	uint32_t n = (uint32_t)valuelen;

	if (v == NULL)
		return -1;
	if (namelen == 7 && memcmp(name, ":method", 7) == 0) {
		st->req.method = v;
		st->req.methodlen = n;
	} else if (namelen == 5 && memcmp(name, ":path", 5) == 0) {
		st->req.target = v;
		st->req.targetlen = n;
	} else if (namelen == 10 && memcmp(name, ":authority", 10) == 0) {
		st->req.authority = v;
		st->req.authoritylen = n;
	} else if (namelen == 7 && memcmp(name, ":scheme", 7) == 0) {
		st->req.scheme = v;
	} else if (namelen == 9 && memcmp(name, ":protocol", 9) == 0) {
		st->protocol = v;
	}
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

	if (st->is_list_over)
		return false;
	if (st->state != H2S_HEADERS && !st->in_trailers) {
		st->in_trailers = true;         /* counted afresh */
		st->list_size = 0;
		st->list_fields = 0;
	}
	st->list_size += namelen + valuelen + 32;
	st->list_fields += !is_pseudo;
	if (st->list_size > h2_stream_list_limit(cf) ||
	    st->list_fields > cf->client_max_header_fields)
		st->is_list_over = true;
	return !st->is_list_over;
}

/* A request head over the limits: 431 at once (no exchange exists yet,
 * none will); the rest of the block is decoded by nghttp2 (the HPACK
 * state must stay in step) but not kept. */
static void
refuse_head(struct h2_stream *st)
{
	st->note = "request header list over the limit";
	log_conn(LOG_DEBUG, st->h->c, "http2: stream %d: %s", (int)st->id,
	    st->note);
	h2_glitch(st->h, "header lists over the limit");
	st->state = H2S_DONE;
	h2_response_error(st, 431);
	st->is_bad = true;
}

/* Trailers over the limits: the request cannot end as the client sent
 * it, so nothing of them is forwarded; the exchange is discarded (its
 * backend connection holds half a request: closed, not pooled) and the
 * stream reset. */
static void
refuse_trailers(struct h2_stream *st)
{
	log_conn(LOG_DEBUG, st->h->c, "http2: stream %d: request trailers "
	    "over the limit", (int)st->id);
	h2_glitch(st->h, "header lists over the limit");
	h2_stream_release_exchange(st);
	h2_stream_reset(st, NGHTTP2_ENHANCE_YOUR_CALM,
	    "request trailers over the limit");
}

/* Trailers are kept only while the request body is on its way to an
 * exchange; once the stream is refused or answered, nothing is kept. */
static bool
wants_fields(const struct h2_stream *st)
{
	return !st->is_bad && (st->state == H2S_HEADERS ||
	    (st->state == H2S_BODY && st->x != NULL));
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
	if (add_field(st, name, namelen, value, valuelen) == -1)
		return -1;
	if (st->fields[st->nfields - 1].kind == HF_HOST) {
		st->host = st->fields[st->nfields - 1].value;
		st->hostlen = (uint32_t)valuelen;
	}
	return 0;
}

/* RFC 8441 §4: an extended CONNECT with :protocol websocket becomes the
 * HTTP/1.1 GET of RFC 6455 §4.1, with a key of our own (the client's h2
 * request has none); the client's version, protocol and extensions
 * fields pass as they are. Plain CONNECT and other protocols: refused. */
static int
start_websocket(struct h2_stream *st, int *status, const char **why)
{
	if (st->protocol == NULL) {
		*status = 405;
		*why = "CONNECT is not supported";
		return -1;
	}
	if (strcmp(st->protocol, "websocket") != 0) {
		*status = 501;
		*why = "unsupported :protocol";
		return -1;
	}
	*status = 500;
	*why = "no randomness for Sec-WebSocket-Key";
	if (ws_make_key(st->ws_key) == -1)
		return -1;
	*why = "out of memory";
	if (add_field(st, (const uint8_t *)"Sec-WebSocket-Key", 17,
	    (const uint8_t *)st->ws_key, WS_KEY_LEN) == -1)
		return -1;
	st->req.method = "GET";
	st->req.methodlen = 3;
	st->req.fields = st->fields;
	st->req.nfields = st->nfields;
	st->ntrailer_start = st->nfields;
	st->req.is_websocket = true;
	/* RFC 9110 §9.3.6: a CONNECT has no content, so the GET has no
	 * body: the stream's DATA is tunnel bytes, held until the 101 */
	st->req.has_body = false;
	st->req.content_length = -1;
	st->ws = H2WS_WAIT;
	return 0;
}

/* What the backend request writer would refuse (method, target,
 * authority, fields) is refused now, before a backend connection is
 * opened for it. */
static int
check_forwardable(struct h2_stream *st, const char **why)
{
	return headers_check_request(&st->req, why);
}

/* RFC 9113 §8.3.1: Host, when present, must agree with :authority. */
static int
check_request(struct h2_stream *st, int *status, const char **why)
{
	struct req_head *r = &st->req;

	*status = 400;
	/* RFC 9113 §8.5: a plain CONNECT has no :path; refused as such */
	if (r->method != NULL && r->methodlen == 7 &&
	    memcmp(r->method, "CONNECT", 7) == 0 &&
	    start_websocket(st, status, why) == -1)
		return -1;
	if (r->method == NULL || r->target == NULL) {
		*why = "missing :method or :path";
		return -1;
	}
	if (r->authority == NULL && st->host != NULL) {
		r->authority = st->host;
		r->authoritylen = st->hostlen;
	} else if (st->host != NULL && (st->hostlen != r->authoritylen ||
	    strncasecmp(st->host, r->authority, st->hostlen) != 0)) {
		*why = "Host and :authority differ";
		return -1;
	}
	if (r->authority == NULL) {
		*why = "missing :authority";
		return -1;
	}
	return check_forwardable(st, why);
}

static int64_t
content_length(const struct h2_stream *st)
{
	const struct hfield *f = headers_find(st->fields, st->nfields,
	    "content-length");

	/* nghttp2 checked it is one number and polices the DATA length */
	return f != NULL ? strtoll(f->value, NULL, 10) : -1;
}

void
h2_stream_start(struct h2_stream *st, bool is_end)
{
	struct h2_server *h = st->h;
	struct fwd_info fwd = { h->c->addr, h->c->is_tls, conn_tag(h->c),
	    st->id };
	const char *why;
	int status;

	st->req.version = 20;
	st->req.fields = st->fields;
	st->req.nfields = st->nfields;
	st->ntrailer_start = st->nfields;
	st->req.content_length = content_length(st);
	st->req.wants_continue = headers_has_token(st->fields, st->nfields,
	    "expect", "100-continue");
	st->req.has_body = !is_end;
	st->state = is_end ? H2S_RESPONDING : H2S_BODY;
	if (++h->nrequests >= h->cf->keepalive_requests)
		h2_goaway(h, "keepalive_requests reached");
	if (check_request(st, &status, &why) == -1) {
		st->note = why;
		h2_glitch(h, "malformed requests");
		h2_response_error(st, status);
		st->is_bad = true;
		return;
	}
	if (st->req.scheme == NULL)
		st->req.scheme = h->c->is_tls ? "https" : "http";
	ctx_count_request(h->c->ctx);
	st->x = exchange_new(st->epoch, &st->req, &st->arena, &fwd,
	    &exchange_ops, st, &status, &why);
	if (st->x == NULL) {
		st->note = why;
		h2_response_error(st, status);
		st->is_bad = true;
		return;
	}
	/* an upgrade GET is complete at once; END_STREAM waits for its 101 */
	if (is_end || st->ws == H2WS_WAIT)
		exchange_request_end(st->x, NULL, 0);
	st->is_ws_end_held = is_end && st->ws == H2WS_WAIT;
	if (st->state == H2S_BODY)
		h2_stall_body(st);      /* the body phase begins */
}

void
h2_stream_end_request(struct h2_stream *st)
{
	size_t n = st->nfields - st->ntrailer_start;

	if (st->state != H2S_BODY)
		return;
	st->state = H2S_RESPONDING;
	if (st->ws == H2WS_WAIT) {
		st->is_ws_end_held = true;
		return;
	}
	if (st->x != NULL && st->ws != H2WS_REFUSED)
		exchange_request_end(st->x, n > 0 ?
		    st->fields + st->ntrailer_start : NULL, n);
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
h2_stream_data(struct h2_stream *st, const uint8_t *data, size_t len)
{
	st->bytes_received += len;
	st->unconsumed += len;
	h2_tunnel_active(st);
	h2_stall_body(st);
	if (st->ws == H2WS_REFUSED) {
		h2_stream_ack(st);
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
