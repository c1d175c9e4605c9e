/* proxy/h2_response.c: the response side of an HTTP/2 stream: what the
 * exchange delivers (1xx and final heads, body, trailers, failures)
 * becomes HEADERS, DATA (moved from the stream's buffer by
 * h2_response_sent, for on_send_data in h2_server.c) and trailers;
 * the RFC 8441 101 becomes :status 200. A backend is paused while its
 * stream's buffer is full, and resumed once it drained, here only.
 * h2_stream.c owns the stream and its request side. */
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "client.h"
#include "conf.h"
#include "ctx.h"
#include "exchange.h"
#include "h2.h"
#include "log.h"

static const char *
lower_name(struct arena *a, const struct hfield *f)
{
	char *p = arena_alloc(a, f->namelen + 1);
	uint32_t i;

	if (p == NULL)
		return NULL;
	for (i = 0; i < f->namelen; i++) {  /* ASCII: no locale */
		unsigned char c = (unsigned char)f->name[i];

		p[i] = (char)((unsigned)(c - 'A') < 26u ? c + 32 : c);
	}
	p[i] = '\0';
	return p;
}

/* NV points at F's value and an arena copy of its name, lower-cased. */
static int
put_nv(struct arena *a, const struct hfield *f, nghttp2_nv *nv)
{
	if ((nv->name = (uint8_t *)lower_name(a, f)) == NULL)
		return -1;
	nv->namelen = f->namelen;
	nv->value = (uint8_t *)f->value;
	nv->valuelen = f->valuelen;
	nv->flags = NGHTTP2_NV_FLAG_NO_COPY_NAME |
	    NGHTTP2_NV_FLAG_NO_COPY_VALUE;
	return 0;
}

/* RFC 9113 §8.2.2: the backend's connection-specific fields do not
 * cross; names are lower-cased. Returns the count, or -1. */
static ssize_t
to_nv(struct arena *a, const struct hfield *fields, size_t n,
    nghttp2_nv *nv, size_t off)
{
	const char *why;
	size_t i, k = off;

	for (i = 0; i < n; i++) {
		const struct hfield *f = &fields[i];

		if (headers_is_hop_by_hop(fields, n, f) ||
		    headers_check_field(f, &why) == -1)
			continue;
		if (put_nv(a, f, &nv[k]) == -1)
			return -1;
		k++;
	}
	return (ssize_t)k;
}

/* The same for trailers: only what headers_is_trailer_allowed() lets
 * cross; each name is copied once, values are not copied. */
static ssize_t
trailers_to_nv(struct arena *a, const struct hfield *fields, size_t n,
    nghttp2_nv *nv)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (!headers_is_trailer_allowed(fields, n, &fields[i]))
			continue;
		if (put_nv(a, &fields[i], &nv[k]) == -1)
			return -1;
		k++;
	}
	return (ssize_t)k;
}

static ssize_t
on_data_read(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len,
    uint32_t *flags, nghttp2_data_source *src, void *arg)
{
	struct h2_stream *st = src->ptr;
	size_t n = evbuffer_get_length(st->out);

	(void)s;
	(void)id;
	(void)buf;
	(void)arg;
	if (n == 0 && !st->resp.is_eof) {
		st->resp.is_deferred = true;
		return NGHTTP2_ERR_DEFERRED;
	}
	if (n > len)
		n = len;
	*flags |= NGHTTP2_DATA_FLAG_NO_COPY;
	if (st->resp.is_eof && n == evbuffer_get_length(st->out)) {
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		if (st->ntrailers > 0 && nghttp2_submit_trailer(s, st->id,
		    st->trailers, st->ntrailers) == 0)
			*flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
	}
	return (ssize_t)n;
}

static bool
response_has_body(const struct h2_stream *st, const struct resp_head *r)
{
	bool is_head = st->rq.req.methodlen == 4 &&
	    memcmp(st->rq.req.method, "HEAD", 4) == 0;

	return !is_head && r->status != 204 && r->status != 304 &&
	    r->content_length != 0;
}

static nghttp2_nv
via_nv(unsigned version)
{
	const char *v = headers_via(version);

	return (nghttp2_nv){ (uint8_t *)"via", (uint8_t *)(uintptr_t)v, 3,
	    strlen(v), NGHTTP2_NV_FLAG_NO_COPY_NAME |
	    NGHTTP2_NV_FLAG_NO_COPY_VALUE };
}

/* On a tls listener with hsts, unless the backend sent its own. */
static bool
wants_hsts(const struct h2_server *h, const struct resp_head *r)
{
	return h->cl->is_tls && h->cf->tls_conf.hsts[0] != '\0' &&
	    headers_find(r->fields, r->nfields, "strict-transport-security") ==
	    NULL;
}

static nghttp2_nv
hsts_nv(const char *v)
{
	return (nghttp2_nv){ (uint8_t *)"strict-transport-security",
	    (uint8_t *)(uintptr_t)v, 25, strlen(v),
	    NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE };
}

static void
submit_head(struct h2_stream *st, const struct resp_head *r)
{
	nghttp2_data_provider prd = { .source.ptr = st,
	    .read_callback = on_data_read };
	nghttp2_nv *nv;
	char *status;
	ssize_t n;

	nv = arena_alloc(&st->arena, (r->nfields + 3) * sizeof(*nv));
	status = arena_alloc(&st->arena, 8);
	if (nv == NULL || status == NULL ||
	    (n = to_nv(&st->arena, r->fields, r->nfields, nv, 1)) == -1) {
		h2_stream_reset(st, NGHTTP2_INTERNAL_ERROR, "out of memory");
		return;
	}
	if (st->h->cf->via)     /* after the backend's, as over HTTP/1.1 */
		nv[n++] = via_nv(r->version);
	if (r->status >= 200 && wants_hsts(st->h, r))
		nv[n++] = hsts_nv(st->h->cf->tls_conf.hsts);
	/* three digits by hand: snprintf was 720 instructions a response */
	status[0] = (char)('0' + r->status / 100 % 10);
	status[1] = (char)('0' + r->status / 10 % 10);
	status[2] = (char)('0' + r->status % 10);
	status[3] = '\0';
	nv[0] = (nghttp2_nv){ (uint8_t *)":status", (uint8_t *)status, 7, 3,
	    NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE };
	if (r->status < 200) {
		nghttp2_submit_headers(st->h->session, NGHTTP2_FLAG_NONE,
		    st->id, NULL, nv, (size_t)n, NULL);
		st->resp.is_continued = true;   /* 100: the body may come */
		h2_stall_body(st);
		return;
	}
	st->resp.is_started = true;
	st->status = r->status;
	st->resp.has_provider = response_has_body(st, r);
	if (st->resp.has_provider)
		h2_stall_watch(st);     /* the send phase begins */
	nghttp2_submit_response(st->h->session, st->id, nv, (size_t)n,
	    st->resp.has_provider ? &prd : NULL);
}

/* The held tunnel bytes go nowhere: their window goes back to the
 * client, and later DATA is acknowledged and dropped as it comes. */
static void
drop_early_data(struct h2_stream *st)
{
	st->ws = H2WS_REFUSED;
	evbuffer_drain(st->in, evbuffer_get_length(st->in));
	h2_stream_ack(st);
}

/* The backend answered the upgrade with something that is not a tunnel
 * and cannot be relayed as an answer to the client's CONNECT. */
static void
fail_websocket(struct h2_stream *st, const char *why)
{
	log_conn(LOG_WARNING, st->h->cl, "backend: %s", why);
	drop_early_data(st);
	h2_stream_release_exchange(st);
	h2_stream_refuse(st, 502, why);
}

/* A final answer other than 101: no tunnel. RFC 8441 §5 and RFC 9113
 * §8.5: a 2xx to a CONNECT tells the client the tunnel is open, so a
 * backend's 2xx (it ignored the Upgrade and answered the GET) becomes a
 * 502; any other status (403, 404, 400...) is relayed with its body. */
static void
refuse_websocket(struct h2_stream *st, const struct resp_head *r)
{
	if (r->status < 300) {
		fail_websocket(st, "backend answered a WebSocket upgrade "
		    "without switching");
		return;
	}
	drop_early_data(st);
	submit_head(st, r);
}

/* The tunnel phase. Its one timer is the stream's: no byte either way
 * for tunnel_timeout ends the tunnel with RST_STREAM CANCEL, the stream
 * alone (the connection and its other streams go on, and the connection's
 * idle timer does not run while the stream exists). Bytes only stamp the
 * time; the timer, when it fires, expires the tunnel or waits for the
 * rest of the period. It also runs while the backend is paused for a
 * client that does not read, and after either side ended its half. */
static void
on_tunnel_idle(evutil_socket_t fd, short what, void *arg)
{
	struct h2_stream *st = arg;
	struct h2_server *h = st->h;
	int64_t limit = (int64_t)h->cf->tunnel_timeout * 1000;
	int64_t idle = ctx_now_us(h->cl->ctx) - st->tunnel_us;
	struct timeval tv;

	(void)fd;
	(void)what;
	if (!h2_stream_is_live(st))
		return;
	if (idle < limit) {
		tv = tv_ms((unsigned)((limit - idle + 999) / 1000));
		event_add(&st->tunnel_timer, &tv);
		return;
	}
	log_conn(LOG_INFO, h->cl, "http2: stream %d: tunnel idle for "
	    "tunnel_timeout: RST_STREAM CANCEL", (int)st->id);
	h2_stream_release_exchange(st);
	h2_stream_reset(st, NGHTTP2_CANCEL, "tunnel idle timeout");
	h2_flush(h);
}

static void
start_tunnel_timer(struct h2_stream *st)
{
	struct timeval tv = tv_ms(st->h->cf->tunnel_timeout);

	evtimer_assign(&st->tunnel_timer, ctx_base(st->h->cl->ctx),
	    on_tunnel_idle, st);
	st->tunnel_us = ctx_now_us(st->h->cl->ctx);
	event_add(&st->tunnel_timer, &tv);
}

void
h2_response_tunnel_active(struct h2_stream *st)
{
	if (st->ws == H2WS_OPEN)
		st->tunnel_us = ctx_now_us(st->h->cl->ctx);
}

void
h2_response_tunnel_stop(struct h2_stream *st)
{
	if (event_initialized(&st->tunnel_timer))
		event_del(&st->tunnel_timer);
}

/* After :status 200: the DATA held since the CONNECT goes first, then
 * an END_STREAM that came meanwhile becomes the tunnel's half-close. */
static void
open_tunnel(struct h2_stream *st)
{
	st->ws = H2WS_OPEN;
	start_tunnel_timer(st);
	if (evbuffer_get_length(st->in) > 0)
		exchange_request_body(st->x, st->in);
	if (st->is_ws_end_held)
		exchange_request_end(st->x, NULL, 0);
	if (!exchange_request_is_full(st->x))
		h2_stream_ack(st);
}

/* RFC 8441 §5: the backend's 101 becomes :status 200; only the fields
 * of the WebSocket handshake's outcome pass. A wrong accept value means
 * the backend did not understand the key we sent: 502. */
static void
accept_websocket(struct h2_stream *st, const struct resp_head *r)
{
	static const char *const keep[] = {
		"sec-websocket-protocol", "sec-websocket-extensions",
	};
	const struct hfield *acc = headers_find(r->fields, r->nfields,
	    "sec-websocket-accept");
	struct hfield f[2];
	struct resp_head ok = { .status = 200, .content_length = -1 };
	size_t i, n = 0;

	if (acc == NULL || !ws_accept_matches(st->ws_key, WS_KEY_LEN,
	    acc->value, acc->valuelen)) {
		fail_websocket(st, "wrong Sec-WebSocket-Accept from the "
		    "backend");
		return;
	}
	for (i = 0; i < 2; i++)
		if ((acc = headers_find(r->fields, r->nfields, keep[i])) !=
		    NULL)
			f[n++] = *acc;
	ok.fields = f;
	ok.nfields = n;
	submit_head(st, &ok);
	if (h2_stream_is_live(st))      /* not reset for want of memory */
		open_tunnel(st);
}

/* A 1xx is relayed under the high-water mark, as a body is: when the
 * client is not taking what we send, frames stay in nghttp2's queue,
 * and the backend waits until a flush has drained them
 * (h2_response_resume, after the next send). h1_client relays at most 10. */
static void
pause_after_interim(struct h2_stream *st)
{
	struct h2_server *h = st->h;

	if (st->x == NULL || st->flow.is_paused || st->flow.wants_resume ||
	    nghttp2_session_get_outbound_queue_size(h->session) == 0)
		return;
	st->flow.is_paused = true;
	exchange_response_pause(st->x);
	st->flow.wants_resume = true;
	TAILQ_INSERT_TAIL(&h->resumes, st, resume_link);
}

void
h2_response_head(void *fe, const struct resp_head *r)
{
	struct h2_stream *st = fe;

	if (!h2_stream_is_live(st))
		return;
	if (r->status == 101 && st->ws == H2WS_WAIT)
		accept_websocket(st, r);
	else if (st->ws == H2WS_WAIT && r->status >= 200)
		refuse_websocket(st, r);
	else if (r->status != 101)      /* RFC 9113 §8.6: no 101 in h2 */
		submit_head(st, r);
	/* an interim response goes at once: pause_after_interim holds the
	 * backend only while it is still queued (a client not reading) */
	if (r->status < 200 && r->status != 101) {
		h2_flush(st->h);
		pause_after_interim(st);
	} else {
		h2_flush_later(st->h);
	}
}

static void
wake_provider(struct h2_stream *st)
{
	if (st->resp.is_deferred) {
		st->resp.is_deferred = false;
		nghttp2_session_resume_data(st->h->session, st->id);
	}
}

void
h2_response_body(void *fe, struct evbuffer *data)
{
	struct h2_stream *st = fe;

	st->bytes_sent += evbuffer_get_length(data);
	h2_response_tunnel_active(st);
	if (!h2_stream_is_live(st) || !st->resp.has_provider) {
		evbuffer_drain(data, evbuffer_get_length(data));
		return;
	}
	/* bytes after a wait on the backend: the send phase again */
	if (evbuffer_get_length(st->out) == 0)
		h2_stall_watch(st);
	evbuffer_add_buffer(st->out, data);
	if (evbuffer_get_length(st->out) > H2_STREAM_HIGH &&
	    !st->flow.is_paused) {
		st->flow.is_paused = true;
		exchange_response_pause(st->x);
	}
	wake_provider(st);
	h2_flush_later(st->h);
}

int
h2_response_sent(struct h2_stream *st, struct evbuffer *out,
    const uint8_t *hd, size_t len)
{
	struct h2_server *h = st->h;
	struct evbuffer_iovec v;

	/* The frame in one extent, its payload copied once: a payload is
	 * part of a backend read's chain, so a move would copy it anyway,
	 * and the header in a chain of its own cost sock.c a pullup (a
	 * second copy) to hand OpenSSL a whole record. */
	if (evbuffer_reserve_space(out, 9 + len, &v, 1) < 1)
		return -1;
	memcpy(v.iov_base, hd, 9);
	if (evbuffer_remove(st->out, (char *)v.iov_base + 9, len) != (int)len)
		return -1;
	v.iov_len = 9 + len;
	evbuffer_commit_space(out, &v, 1);
	h2_stall_sent(st);
	if (st->flow.is_paused && !st->flow.wants_resume &&
	    evbuffer_get_length(st->out) < H2_STREAM_LOW) {
		st->flow.wants_resume = true;
		TAILQ_INSERT_TAIL(&h->resumes, st, resume_link);
	}
	return 0;
}

void
h2_response_resume(struct h2_server *h)
{
	struct h2_stream *st;

	while ((st = TAILQ_FIRST(&h->resumes)) != NULL) {
		TAILQ_REMOVE(&h->resumes, st, resume_link);
		st->flow.wants_resume = false;
		st->flow.is_paused = false;
		if (st->x != NULL)
			exchange_response_resume(st->x);
	}
}

/* Whether the backend's trailers fit the limits a response head has
 * (the h1 reader enforces them as it parses; this guards the copy). */
static bool
trailers_fit(const struct conf *cf, const struct hfield *t, size_t n)
{
	size_t i, size = 0;

	if (n > cf->backend_max_header_fields)
		return false;
	for (i = 0; i < n; i++)
		size += t[i].namelen + t[i].valuelen + 4;      /* ": ", CRLF */
	return size <= cf->backend_max_header_size;
}

/* The backend's trailers, filtered, for nghttp2_submit_trailer once the
 * body is sent. Trailers over the limits reset the stream: its body
 * must not look complete. */
static void
keep_trailers(struct h2_stream *st, const struct hfield *t, size_t n)
{
	nghttp2_nv *nv;
	ssize_t k;

	if (n == 0)
		return;
	if (!trailers_fit(st->h->cf, t, n)) {
		log_conn(LOG_WARNING, st->h->cl, "backend: trailers over the "
		    "limits");
		h2_stream_reset(st, NGHTTP2_INTERNAL_ERROR,
		    "backend trailers over the limits");
		return;
	}
	if ((nv = arena_alloc(&st->arena, n * sizeof(*nv))) == NULL ||
	    (k = trailers_to_nv(&st->arena, t, n, nv)) == -1) {
		h2_stream_reset(st, NGHTTP2_INTERNAL_ERROR, "out of memory");
		return;
	}
	if ((size_t)k < n)
		log_conn(LOG_DEBUG, st->h->cl, "http2: %zu of %zu response "
		    "trailer fields may not cross: dropped", n - (size_t)k,
		    n);
	st->trailers = nv;
	st->ntrailers = (size_t)k;
}

/* RFC 8441 §4: in a tunnel the backend's EOF is its half-close, our
 * END_STREAM; while the client has not ended its side, its DATA still
 * goes to the backend, so the exchange stays until the stream closes. */
void
h2_response_end(void *fe, const struct hfield *trailers, size_t n)
{
	struct h2_stream *st = fe;
	struct h2_server *h = st->h;
	/* (a refused stream is past H2S_BODY) */
	bool is_half = st->ws == H2WS_OPEN && st->state == H2S_BODY;

	if (!is_half)
		h2_stream_enter(st, H2S_DONE);
	if (h2_stream_is_live(st) && st->resp.has_provider) {
		keep_trailers(st, trailers, n);
		if (evbuffer_get_length(st->out) == 0)
			h2_stall_watch(st);     /* END_STREAM to send */
		st->resp.is_eof = true;
		wake_provider(st);
	}
	if (!is_half)
		h2_stream_release_exchange(st);
	h2_flush_later(h);
}

void
h2_response_error(struct h2_stream *st, int status)
{
	struct resp_head r = { .status = status, .content_length = -1 };
	struct hfield f[2] = {
		{ "content-type", "text/plain", 12, 10, HF_OTHER },
		{ "content-length", NULL, 14, 0, HF_CONTENT_LENGTH },
	};
	char *len = arena_alloc(&st->arena, 24);

	if (len == NULL) {
		h2_stream_reset(st, NGHTTP2_INTERNAL_ERROR, "out of memory");
		return;
	}
	evbuffer_add_printf(st->out, "%d %s\n", status, headers_reason(status));
	f[1].valuelen = (uint32_t)snprintf(len, 24, "%zu",
	    evbuffer_get_length(st->out));
	f[1].value = len;
	r.fields = f;
	r.nfields = 2;
	r.content_length = (int64_t)evbuffer_get_length(st->out);
	st->resp.is_eof = true;
	submit_head(st, &r);
}

/* A response cut short: what came before the cut goes first (the head
 * and body bytes a deferred flush, h2_flush_later, still holds; a
 * tunnel's 200 and data), then RST_STREAM CODE, never END_STREAM. */
static void
reset_after_sent(struct h2_stream *st, uint32_t code, const char *why)
{
	struct h2_server *h = st->h;
	int32_t id = st->id;

	h2_flush(h);
	/* the send closes no stream it sends no END_STREAM on; checked all
	 * the same, since a closed stream is freed */
	if (nghttp2_session_get_stream_user_data(h->session, id) == st)
		h2_stream_reset(st, code, why);
}

void
h2_response_fail(void *fe, int status, const char *why)
{
	struct h2_stream *st = fe;
	struct h2_server *h = st->h;

	st->note = why;
	h2_stream_enter(st, H2S_DONE);
	h2_stream_release_exchange(st);
	if (!h2_stream_is_live(st)) {
		h2_flush(h);
		return;
	}
	/* never END_STREAM after a short body; RFC 9113 §8.5: a tunnel
	 * whose backend connection failed is reset with CONNECT_ERROR */
	if (st->ws == H2WS_OPEN)
		reset_after_sent(st, NGHTTP2_CONNECT_ERROR, why);
	else if (status == 0 || st->resp.is_started)
		reset_after_sent(st, NGHTTP2_INTERNAL_ERROR, why);
	else
		h2_response_error(st, status);
	h2_flush(h);
}

void
h2_response_drain(void *fe)
{
	struct h2_stream *st = fe;

	h2_stream_ack(st);
	h2_flush(st->h);
}
