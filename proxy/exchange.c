/* proxy/exchange.c: where a request goes.
 *
 *   exchange_new: route the request (route.c's one parse of the target,
 *   then routing_find), pick a server of
 *   the route's backend (weighted round robin, failed servers skipped),
 *   take an idle pooled connection or open one (next server on failure),
 *   write the head, then stream the body as the frontend hands it over.
 *   The response flows back through h1_client's callbacks to the
 *   frontend's exchange_ops. Every failure goes through exchange_fail
 *   with its kind (backend_error.h), whose table gives the status (502,
 *   504, 400, or abort once the response has begun); it logs one line.
 *
 * A pooled connection the backend had closed meanwhile is retried once on
 * a fresh one, but only if nothing of the response arrived and no body
 * byte was sent (so nothing can have been half-processed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include "backend.h"
#include "backend_error.h"
#include "conf.h"
#include "epoch.h"
#include "exchange.h"
#include "freelist.h"
#include "h1_client.h"
#include "log.h"
#include "pool.h"
#include "route.h"
#include "ctx.h"
#include "routing.h"

#define EXCH_BODY_HIGH (256 * 1024)     /* body queued before pausing */

enum exch_state {
	EXCH_CONNECTING = 0,    /* waiting for pool_connect() */
	EXCH_SENDING,           /* request going out, no final head yet */
	EXCH_RESPONDING,        /* final head delivered, body streaming */
	EXCH_DONE,              /* on_end delivered */
	EXCH_FAILED,            /* on_fail delivered */
};

struct exchange {
	struct wctx *ctx;
	struct epoch *epoch;            /* a reference: its backends are ours */
	const struct conf *cf;
	const struct req_head *h;
	struct arena *arena;
	struct fwd_info fwd;
	const struct exchange_ops *ops;
	void *fe;
	enum exch_state state;
	struct backend *be;
	struct server *srv;
	struct pool_req *preq;
	struct h1_client *hc;
	struct evbuffer *pending;       /* body bytes before hc exists */
	enum headers_framing framing;
	bool is_req_ended;
	bool is_holding;                /* a body of unknown length is being
	                                 * gathered before any connect */
	uint64_t length;                /* Content-Length for the backend */
	const struct hfield *trailers;
	size_t ntrailers;
	bool has_sent_body;             /* a body byte went to a backend */
	bool has_retried;               /* the stale-connection retry */
	bool is_resp_paused;
	bool is_stale_candidate;        /* hc's connection came from the pool */
	bool is_starting;               /* inside exchange_new() */
	int failed_status;              /* for a failure inside exchange_new */
	const char *failed_why;
	struct event fail_ev;           /* delivers that one from the loop */
	unsigned tries;                 /* servers tried */
	int64_t upstream_start_us;
	int64_t upstream_us;
};

static void start_attempt(struct exchange *x);

/* The client's tag for a backend line: "w0 c12 127.0.0.1:5555", with
 * " s3" for an HTTP/2 stream, so a 502 line ties to its request. */
static const char *
exch_tag(const struct exchange *x, char *buf, size_t size)
{
	if (x->fwd.tag == NULL)
		return "-";
	if (x->fwd.stream_id == 0)
		return x->fwd.tag;
	snprintf(buf, size, "%s s%d", x->fwd.tag, (int)x->fwd.stream_id);
	return buf;
}

/* A line about X's backend: "[tag] backend B server S: ...". */
#define log_backend(lvl, x, fmt, ...) do {                            \
	if ((lvl) <= log_level) {                                       \
		char tag_[160];                                         \
		log_write((lvl), "[%s] backend %s server %s: " fmt,     \
		    exch_tag((x), tag_, sizeof(tag_)),                  \
		    backend_name((x)->be), (x)->srv != NULL ?           \
		    server_name((x)->srv) : "-", ##__VA_ARGS__);        \
	}                                                               \
} while (0)

/* The response has begun (a final head went up), or in a tunnel the
 * backend ended its side: a failure now can only abort it. */
static bool
has_response(const struct exchange *x)
{
	return x->state == EXCH_RESPONDING || x->state == EXCH_DONE;
}

static void
exchange_fail(struct exchange *x, enum backend_error e, const char *why)
{
	int status = backend_error_status(e, has_response(x));

	log_backend(LOG_WARNING, x, "%s%s", why,
	    status == 0 ? " (response aborted)" : "");
	if (x->upstream_start_us != 0)
		x->upstream_us = ctx_now_us(x->ctx) - x->upstream_start_us;
	x->state = EXCH_FAILED;
	if (x->is_starting) {
		/* the frontend does not hold x yet: tell it from the loop */
		x->failed_status = status;
		x->failed_why = why;
		event_active(&x->fail_ev, EV_TIMEOUT, 1);
		return;
	}
	x->ops->on_fail(x->fe, status, why);
}

static void
on_failed_start(evutil_socket_t fd, short what, void *arg)
{
	struct exchange *x = arg;

	(void)fd;
	(void)what;
	x->ops->on_fail(x->fe, x->failed_status, x->failed_why);
}

static void
on_head(void *arg, const struct resp_head *r)
{
	struct exchange *x = arg;

	if (r->status >= 200 || r->status == 101)
		x->state = EXCH_RESPONDING;
	x->ops->on_head(x->fe, r);
}

static void
on_body(void *arg, struct evbuffer *data)
{
	struct exchange *x = arg;

	x->ops->on_body(x->fe, data);
}

static void
on_end(void *arg, const struct hfield *trailers, size_t n)
{
	struct exchange *x = arg;

	x->state = EXCH_DONE;
	x->upstream_us = ctx_now_us(x->ctx) - x->upstream_start_us;
	x->ops->on_end(x->fe, trailers, n);
}

/* RFC 9110 §9.2.2: a request may be retried automatically only when it
 * is idempotent: GET, HEAD, OPTIONS, TRACE, and PUT and DELETE, here
 * only without body bytes (there is no copy of a body to send again).
 * POST never is, even with Content-Length: 0: the backend may have
 * acted on it before its connection died. */
static bool
can_retry_stale(const struct exchange *x)
{
	static const char *const idempotent[] = {
		"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE",
	};
	const struct req_head *h = x->h;
	size_t i;
	bool is_idempotent = false;

	for (i = 0; i < sizeof(idempotent) / sizeof(idempotent[0]); i++)
		if (h->methodlen == strlen(idempotent[i]) &&
		    memcmp(h->method, idempotent[i], h->methodlen) == 0)
			is_idempotent = true;
	return is_idempotent && !h->has_body && h->content_length <= 0 &&
	    !x->has_retried && !x->has_sent_body &&
	    x->state == EXCH_SENDING && x->hc != NULL &&
	    !h1_client_has_response(x->hc);
}

static void
on_error(void *arg, enum backend_error e, const char *why)
{
	struct exchange *x = arg;

	if (backend_error_may_retry_stale(e) && x->is_stale_candidate &&
	    can_retry_stale(x)) {
		log_backend(LOG_DEBUG, x, "idle connection was closed, "
		    "retrying");
		x->has_retried = true;
		h1_client_free(x->hc);
		x->hc = NULL;
		x->tries--;
		start_attempt(x);
		return;
	}
	exchange_fail(x, e, why);
}

static void
on_drain(void *arg)
{
	struct exchange *x = arg;

	if (!exchange_request_is_full(x))
		x->ops->on_request_drain(x->fe);
}

static const struct h1_client_ops client_ops = {
	.on_head = on_head,
	.on_body = on_body,
	.on_end = on_end,
	.on_error = on_error,
	.on_drain = on_drain,
};

static uint64_t
body_length(const struct exchange *x)
{
	return x->length;
}

/* UC is connected: the request goes out on it. */
static void
attach(struct exchange *x, struct upconn *uc)
{
	const char *why;
	bool is_head = x->h->methodlen == 4 &&
	    memcmp(x->h->method, "HEAD", 4) == 0;

	x->is_stale_candidate = upconn_is_reused(uc);
	x->state = EXCH_SENDING;
	x->hc = h1_client_new(uc, x->cf, x->arena, is_head, &client_ops, x);
	if (x->hc == NULL) {
		pool_put(uc, false);
		exchange_fail(x, BACKEND_NO_MEMORY, "out of memory");
		return;
	}
	if (h1_client_send_head(x->hc, x->h, &x->fwd, x->framing,
	    body_length(x), x->h->is_websocket, &why) == -1) {
		exchange_fail(x, BACKEND_REQUEST_REFUSED, why);
		return;
	}
	if (evbuffer_get_length(x->pending) > 0) {
		x->has_sent_body = true;
		h1_client_send_body(x->hc, x->pending);
	}
	if (x->is_req_ended)
		h1_client_send_end(x->hc, x->trailers, x->ntrailers);
	if (x->is_resp_paused)
		h1_client_pause(x->hc);
}

static void
on_ready(struct upconn *uc, enum backend_error e, const char *why,
    void *arg)
{
	struct exchange *x = arg;

	x->preq = NULL;
	if (x->ops->on_connect_done != NULL)
		x->ops->on_connect_done(x->fe);
	if (uc != NULL) {
		backend_mark_ok(x->srv);
		attach(x, uc);
		return;
	}
	log_backend(LOG_WARNING, x, "%s", why);
	backend_mark_failed(x->srv, ctx_now_ms(x->ctx));
	if (x->tries < backend_nservers(x->be) &&
	    backend_error_may_try_next(e)) {
		start_attempt(x);
		return;
	}
	exchange_fail(x, e, why);
}

static void
start_attempt(struct exchange *x)
{
	struct upconn *uc;
	enum backend_error e;
	const char *why;

	for (;;) {
		x->srv = backend_pick(x->be, ctx_now_ms(x->ctx),
		    x->tries == 0);
		if (x->srv == NULL) {
			exchange_fail(x, BACKEND_NO_SERVER,
			    "no server left to try");
			return;
		}
		x->tries++;
		if (x->upstream_start_us == 0)
			x->upstream_start_us = ctx_now_us(x->ctx);
		if (!x->has_retried &&
		    (uc = pool_take(server_pool(x->srv))) != NULL) {
			attach(x, uc);
			return;
		}
		x->state = EXCH_CONNECTING;
		if (x->ops->may_connect != NULL &&
		    !x->ops->may_connect(x->fe)) {
			x->tries--;     /* picked again by exchange_connect */
			return;
		}
		x->preq = pool_connect(server_pool(x->srv), on_ready, x, &e,
		    &why);
		if (x->preq != NULL)
			return;
		if (x->ops->on_connect_done != NULL)    /* failed at once */
			x->ops->on_connect_done(x->fe);
		log_backend(LOG_WARNING, x, "%s", why);
		backend_mark_failed(x->srv, ctx_now_ms(x->ctx));
		if (x->tries >= backend_nservers(x->be) ||
		    !backend_error_may_try_next(e)) {
			exchange_fail(x, e, why);
			return;
		}
	}
}

/* Starts the backend side from a frontend's call: a failure right away
 * is told from the loop, as the frontend still holds on to x. */
static void
begin(struct exchange *x)
{
	x->is_starting = true;
	start_attempt(x);
	x->is_starting = false;
}

/* An upgrade request's body is framed like any other: only what follows
 * a 101 is unframed (tunnel bytes, see h1_client_send_body). Unframed, a
 * body refused with a 403 would be parsed as the next request on the
 * pooled connection. */
static enum headers_framing
pick_framing(const struct req_head *h)
{
	if (h->content_length >= 0)
		return HEADERS_LENGTH;
	return h->has_body ? HEADERS_CHUNKED : HEADERS_NO_BODY;
}

/* A worker keeps freed exchanges (with their buffer) for the next
 * requests: no malloc per request in the steady state. 64 missed four
 * times in five under 640 streams in flight (h2load -c 64 -m 10); an
 * idle worker trims the cache (idle.c), so the bound costs memory only
 * while the load lasts (1024 x ~400 bytes). */
#define EXCH_CACHE 1024
static __thread struct freelist cache = { .cap = EXCH_CACHE };

static void
exchange_destroy(void *p)
{
	struct exchange *x = p;

	evbuffer_free(x->pending);
	free(x);
}

static struct exchange *
exchange_alloc(void)
{
	struct exchange *x;
	struct evbuffer *b;

	if ((x = freelist_take(&cache)) != NULL) {
		b = x->pending;
		memset(x, 0, sizeof(*x));
		x->pending = b;
		return x;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
	if ((x->pending = evbuffer_new()) == NULL) {
		free(x);
		return NULL;
	}
	return x;
}

static void
exchange_release(struct exchange *x)
{
	epoch_unref(x->epoch);
	evbuffer_drain(x->pending, evbuffer_get_length(x->pending));
	if (!freelist_put(&cache, x))
		exchange_destroy(x);
}

void
exchange_cache_trim(unsigned keep)
{
	freelist_trim(&cache, keep, exchange_destroy);
}

void
exchange_cache_free(void)
{
	exchange_cache_trim(0);
}

struct exchange *
exchange_new(struct epoch *e, struct req_head *h, struct arena *arena,
    const struct fwd_info *fwd, const struct exchange_ops *ops, void *fe,
    int *status, const char **why)
{
	const struct conf *cf = epoch_conf(e);
	struct wctx *ctx = epoch_ctx(e);
	const struct conf_route *rt;
	struct route_target target;
	struct exchange *x;
	int rc;

	/* One parse decides the route and is what the backend receives. */
	if ((rc = route_parse(h, arena, &target, why)) != 0) {
		*status = rc == -2 ? 500 : 400;
		return NULL;
	}
	if ((rt = routing_find(cf, &target)) == NULL) {
		*status = 404;
		*why = "no route";
		return NULL;
	}
	h->fwd_target = target.target;
	h->fwd_targetlen = target.targetlen;
	*status = 500;
	*why = "out of memory";
	if ((x = exchange_alloc()) == NULL)
		return NULL;
	x->ctx = ctx;
	x->cf = cf;
	x->h = h;
	x->arena = arena;
	x->fwd = *fwd;
	x->ops = ops;
	x->fe = fe;
	x->epoch = epoch_ref(e);
	x->be = epoch_backend(e, rt->backend);
	x->framing = pick_framing(h);
	x->length = h->content_length > 0 ? (uint64_t)h->content_length : 0;
	/* A body without a length is gathered first (up to the high-water
	 * mark): a small one then goes with a Content-Length, and one over
	 * a small client_max_body_size is refused before any backend sees
	 * a byte of it. Not when the client waits for 100 Continue: the
	 * backend decides that (and the body would never come). */
	x->is_holding = x->framing == HEADERS_CHUNKED && !h->wants_continue;
	x->upstream_us = -1;
	event_assign(&x->fail_ev, ctx_base(ctx), -1, 0, on_failed_start, x);
	if (!x->is_holding)
		begin(x);
	return x;
}

void
exchange_free(struct exchange *x)
{
	if (x == NULL)
		return;
	event_del(&x->fail_ev);
	if (x->preq != NULL)
		pool_cancel(x->preq);
	if (x->hc != NULL) {
		if (x->state != EXCH_DONE)
			h1_client_discard(x->hc);
		h1_client_free(x->hc);
	}
	exchange_release(x);
}

void
exchange_connect(struct exchange *x)
{
	if (x->state != EXCH_CONNECTING || x->preq != NULL ||
	    x->hc != NULL || x->is_holding)
		return;
	begin(x);
}

/* Client bytes go to the backend connection once the request is on it,
 * and in a tunnel until the client ends its side, also after the
 * backend ended its own (EXCH_DONE). */
static bool
is_backend_writable(const struct exchange *x)
{
	return x->hc != NULL && (x->state == EXCH_SENDING ||
	    x->state == EXCH_RESPONDING || h1_client_is_tunnel(x->hc));
}

void
exchange_request_body(struct exchange *x, struct evbuffer *data)
{
	if (evbuffer_get_length(data) == 0)
		return;
	if (!is_backend_writable(x)) {
		evbuffer_add_buffer(x->pending, data);
		if (x->is_holding &&
		    evbuffer_get_length(x->pending) > EXCH_BODY_HIGH) {
			x->is_holding = false;  /* too big to hold: stream it */
			begin(x);
		}
		return;
	}
	x->has_sent_body = true;
	h1_client_send_body(x->hc, data);
}

void
exchange_request_end(struct exchange *x, const struct hfield *trailers,
    size_t n)
{
	x->is_req_ended = true;
	x->trailers = trailers;
	x->ntrailers = n;
	if (x->is_holding) {
		x->is_holding = false;
		if (n == 0) {           /* trailers need chunked framing */
			x->framing = HEADERS_LENGTH;
			x->length = evbuffer_get_length(x->pending);
		}
		begin(x);
		return;
	}
	if (is_backend_writable(x))
		h1_client_send_end(x->hc, trailers, n);
}

bool
exchange_request_is_full(const struct exchange *x)
{
	size_t n = evbuffer_get_length(x->pending);

	if (x->hc != NULL)
		n += h1_client_pending(x->hc);
	return n > EXCH_BODY_HIGH;
}

void
exchange_response_pause(struct exchange *x)
{
	x->is_resp_paused = true;
	if (x->hc != NULL)
		h1_client_pause(x->hc);
}

void
exchange_response_resume(struct exchange *x)
{
	x->is_resp_paused = false;
	if (x->hc != NULL)
		h1_client_resume(x->hc);
}

struct sock *
exchange_take_sock(struct exchange *x)
{
	struct sock *sk = h1_client_take_sock(x->hc);

	x->state = EXCH_DONE;
	x->upstream_us = ctx_now_us(x->ctx) - x->upstream_start_us;
	return sk;
}

const char *
exchange_upstream(const struct exchange *x)
{
	return x->srv != NULL ? server_name(x->srv) : NULL;
}

int64_t
exchange_upstream_us(const struct exchange *x)
{
	return x->upstream_us;
}
