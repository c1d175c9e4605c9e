/* upstream/h1_client.c: the backend half of an exchange.
 *
 * The response head is parsed into the exchange's arena; its body is
 * moved (length, until-close) or decoded (chunked) into one evbuffer and
 * handed upwards, so the client side sees plain body bytes whatever the
 * backend's framing. Callbacks upwards may free this object; it is then
 * only marked, and freed once the current libevent callback is done. */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "arena.h"
#include "conf.h"
#include "freelist.h"
#include "guard.h"
#include "h1.h"
#include "h1_client.h"
#include "pool.h"
#include "sock.h"

#define H1C_READ_HIGH  (256 * 1024)     /* input kept before pausing */
#define H1C_WRITE_LOW  (64 * 1024)      /* on_drain below this */
/* 1xx heads relayed per request; one more is a 502 (each stays in the
 * request's arena, and a backend could send them forever). */
#define H1C_MAX_INTERIM 10

enum h1c_state {
	H1C_HEAD = 0,           /* waiting for a (1xx or final) head */
	H1C_BODY,               /* reading the body */
	H1C_TUNNEL,             /* after 101: raw bytes both ways */
	H1C_DONE,               /* response complete */
	H1C_FAILED,             /* an error was reported */
};

struct h1_client {
	struct upconn *uc;
	struct sock *sk;
	const struct conf *cf;
	struct arena *arena;
	const struct h1_client_ops *ops;
	void *arg;
	enum h1c_state state;
	struct h1_reader reader;
	struct resp_head head;
	struct evbuffer *body;          /* body bytes for on_body */
	enum headers_framing framing;   /* of the request body */
	bool is_head;
	bool is_upgrade;                /* the request asks for a WebSocket */
	bool has_response;              /* a response byte arrived */
	bool is_req_done;               /* the whole request was queued */
	bool is_discarded;              /* not reusable whatever happens */
	bool is_paused;
	bool is_eof;                    /* the backend closed; input remains */
	/* A tunnel's two ends, each separate (RFC 8441 §4, RFC 9293 §3.6):
	 * the backend's EOF was reported by on_end, and client bytes still
	 * go to it; the client's end became our shutdown(SHUT_WR). */
	bool is_tunnel_eof;
	bool is_tunnel_shut;
	short eof_what;                 /* the SOCK_ flags of that */
	struct guard guard;             /* our own callbacks */
	unsigned ninterim;              /* 1xx heads received */
};

static void on_read(struct sock *sk, void *arg);
static void on_write(struct sock *sk, void *arg);
static void on_event(struct sock *sk, short what, void *arg);
static void end_of_input(struct h1_client *c);
static void process(struct h1_client *c);

static struct timeval
tv_ms(unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	return tv;
}

/* As for exchanges (exchange.c says why 1024): a worker reuses freed
 * clients and their buffer. */
#define H1C_CACHE 1024
static __thread struct freelist cache = { .cap = H1C_CACHE };

static void
client_destroy(void *p)
{
	struct h1_client *c = p;

	evbuffer_free(c->body);
	free(c);
}

static struct h1_client *
client_alloc(void)
{
	struct h1_client *c;
	struct evbuffer *b;

	if ((c = freelist_take(&cache)) != NULL) {
		b = c->body;
		memset(c, 0, sizeof(*c));
		c->body = b;
		return c;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->body = evbuffer_new()) == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

static void
client_release(struct h1_client *c)
{
	evbuffer_drain(c->body, evbuffer_get_length(c->body));
	if (!freelist_put(&cache, c))
		client_destroy(c);
}

void
h1_client_cache_trim(unsigned keep)
{
	freelist_trim(&cache, keep, client_destroy);
}

void
h1_client_cache_free(void)
{
	h1_client_cache_trim(0);
}

/* For each head (the 1xx and the final one): the backend's limits. */
static void
start_reader(struct h1_client *c)
{
	h1_reader_init(&c->reader, true, c->arena);
	c->reader.is_head_request = c->is_head;
	h1_reader_set_limits(&c->reader, c->cf->backend_max_header_fields,
	    c->cf->backend_max_header_size);
}

struct h1_client *
h1_client_new(struct upconn *uc, const struct conf *cf, struct arena *arena,
    bool is_head, const struct h1_client_ops *ops, void *arg)
{
	struct h1_client *c;
	struct timeval wt = tv_ms(cf->backend_write_timeout);

	if ((c = client_alloc()) == NULL)
		return NULL;
	c->uc = uc;
	c->sk = upconn_sock(uc);
	c->cf = cf;
	c->arena = arena;
	c->is_head = is_head;
	c->ops = ops;
	c->arg = arg;
	start_reader(c);
	sock_setcb(c->sk, on_read, on_write, on_event, c);
	/* a head is parsed once whole in the input: room for the largest */
	sock_set_read_high(c->sk, cf->backend_max_header_size < H1C_READ_HIGH ?
	    H1C_READ_HIGH : cf->backend_max_header_size + 1);
	sock_set_write_low(c->sk, H1C_WRITE_LOW);
	sock_set_timeouts(c->sk, NULL, &wt);
	sock_read_enable(c->sk, true);
	return c;
}

static void
destroy(struct h1_client *c)
{
	bool reusable = c->state == H1C_DONE && !c->is_discarded &&
	    c->is_req_done && !c->head.wants_close;

	if (c->uc != NULL)
		pool_put(c->uc, reusable);
	client_release(c);
}

void
h1_client_free(struct h1_client *c)
{
	if (c == NULL)
		return;
	if (!guard_defer(&c->guard))
		destroy(c);
}

int
h1_client_send_head(struct h1_client *c, const struct req_head *h,
    const struct fwd_info *fwd, enum headers_framing framing,
    uint64_t length, bool upgrade, const char **why)
{
	c->framing = framing;
	c->is_upgrade = upgrade;
	c->is_req_done = framing == HEADERS_NO_BODY;
	return headers_write_request(sock_output(c->sk), h, fwd,
	    c->cf, framing, length, upgrade, why);
}

struct sock *
h1_client_take_sock(struct h1_client *c)
{
	struct sock *sk = c->sk;

	c->sk = NULL;
	pool_detach(c->uc);
	c->uc = NULL;
	c->state = H1C_DONE;
	return sk;
}

/* Client bytes reach the backend in two forms only: framed as the
 * request's body (its Content-Length or chunks), or as tunnel bytes once
 * the backend switched with a 101. Anything else (bytes for a request
 * without a body, or after its end, before any 101) would be parsed by
 * the backend as a request of its own: it is dropped, and the connection
 * is never reused. */
void
h1_client_send_body(struct h1_client *c, struct evbuffer *data)
{
	struct evbuffer *out = sock_output(c->sk);

	if (c->state == H1C_TUNNEL && !c->is_tunnel_shut) {
		evbuffer_add_buffer(out, data);
	} else if (c->state == H1C_TUNNEL) {
		evbuffer_drain(data, evbuffer_get_length(data));
	} else if (c->is_req_done) {
		evbuffer_drain(data, evbuffer_get_length(data));
		c->is_discarded = true;
	} else if (c->framing == HEADERS_CHUNKED) {
		h1_write_chunk(out, data);
	} else {
		evbuffer_add_buffer(out, data);
	}
}

/* The whole request is queued: from now on a silent backend times out.
 * In a tunnel: the client ended its side, the backend sees our EOF. */
void
h1_client_send_end(struct h1_client *c, const struct hfield *trailers,
    size_t n)
{
	struct timeval rt = tv_ms(c->cf->backend_read_timeout);
	struct timeval wt = tv_ms(c->cf->backend_write_timeout);

	if (c->state == H1C_TUNNEL) {
		c->is_tunnel_shut = true;
		sock_shutdown_write(c->sk);
		return;
	}
	if (c->framing == HEADERS_CHUNKED && !c->is_req_done)
		h1_write_last_chunk(sock_output(c->sk), trailers,
		    n);
	c->is_req_done = true;
	sock_set_timeouts(c->sk, &rt, &wt);
}

size_t
h1_client_pending(const struct h1_client *c)
{
	if (c->sk == NULL)
		return 0;
	return sock_pending(c->sk);
}

void
h1_client_pause(struct h1_client *c)
{
	c->is_paused = true;
	sock_read_enable(c->sk, false);
}

void
h1_client_resume(struct h1_client *c)
{
	if (!c->is_paused)
		return;
	c->is_paused = false;
	if (!c->is_eof && (c->state == H1C_HEAD || c->state == H1C_BODY ||
	    c->state == H1C_TUNNEL))
		sock_read_enable(c->sk, true);
	/* bytes may already wait in the input buffer */
	guard_enter(&c->guard);
	process(c);
	if (c->is_eof && !c->is_paused && !c->guard.is_freed)
		end_of_input(c);
	if (guard_leave(&c->guard))
		destroy(c);
}

bool
h1_client_is_tunnel(const struct h1_client *c)
{
	return c->sk != NULL && c->state == H1C_TUNNEL;
}

bool
h1_client_has_response(const struct h1_client *c)
{
	return c->has_response;
}

void
h1_client_discard(struct h1_client *c)
{
	c->is_discarded = true;
}

static void
fail(struct h1_client *c, enum backend_error e, const char *why)
{
	if (c->state == H1C_FAILED || c->state == H1C_DONE)
		return;
	c->state = H1C_FAILED;
	c->is_discarded = true;
	sock_read_enable(c->sk, false);
	c->ops->on_error(c->arg, e, why);
}

static void
finish(struct h1_client *c)
{
	c->state = H1C_DONE;
	c->ops->on_end(c->arg, c->reader.trailers, c->reader.ntrailers);
}

/* One head: 1xx heads are passed on and the next head awaited. */
/* RFC 9110 §15.2.2: after 101 the connection speaks the new protocol;
 * its bytes go up as body until the backend closes. Checked before the
 * 101 goes up, so that nothing above ever sees a switch that is not one.
 * The request's timeouts (backend_read_timeout while the 101 was
 * awaited, backend_write_timeout) end here: the tunnel phase is the
 * frontend's to time, under tunnel_timeout, with the bytes of both
 * directions in view (tunnel.c for HTTP/1.1, h2_response.c for RFC
 * 8441), also while the backend is paused for a slow client. */
static int
start_tunnel(struct h1_client *c)
{
	if (!c->is_upgrade) {
		fail(c, BACKEND_BAD_RESPONSE, "101 without an upgrade request");
		return -1;
	}
	/* RFC 9110 §7.8, RFC 6455 §4.1: the server switches after the
	 * whole request. A 101 while some of its body is unsent would make
	 * the rest of that body the new protocol's bytes. */
	if (!c->is_req_done || sock_pending(c->sk) > 0) {
		fail(c, BACKEND_BAD_RESPONSE,
		    "101 before the request was complete");
		return -1;
	}
	c->state = H1C_TUNNEL;
	c->is_discarded = true;
	sock_set_timeouts(c->sk, NULL, NULL);
	return 0;
}

static int
read_tunnel(struct h1_client *c, struct evbuffer *in)
{
	if (evbuffer_get_length(in) == 0)
		return -1;
	evbuffer_add_buffer(c->body, in);
	c->ops->on_body(c->arg, c->body);
	return -1;
}

static int
read_head(struct h1_client *c, struct evbuffer *in)
{
	int r;

	if (evbuffer_get_length(in) > 0)
		c->has_response = true;
	r = h1_read_response_head(&c->reader, in, &c->head,
	    c->cf->backend_max_header_size);
	if (r <= 0) {
		if (r == -1)
			fail(c, BACKEND_BAD_RESPONSE, c->reader.why);
		return -1;
	}
	if (c->head.status == 101 && start_tunnel(c) == -1)
		return -1;
	if (c->head.status < 200 && c->head.status != 101 &&
	    ++c->ninterim > H1C_MAX_INTERIM) {
		fail(c, BACKEND_BAD_RESPONSE, "too many interim responses");
		return -1;
	}
	c->ops->on_head(c->arg, &c->head);
	if (c->guard.is_freed || c->sk == NULL)
		return -1;              /* the exchange took the socket */
	if (c->head.status == 101)
		return 0;               /* tunnel bytes follow */
	if (c->head.status < 200) {
		start_reader(c);
		return 0;
	}
	if (c->reader.body == H1_BODY_NONE) {
		finish(c);
		return -1;
	}
	c->state = H1C_BODY;
	return 0;
}

static int
read_body(struct h1_client *c, struct evbuffer *in)
{
	int r = h1_read_body(&c->reader, in, c->body, SIZE_MAX);

	if (r == -1) {
		/* bad chunks, or trailers over the backend's limits */
		fail(c, BACKEND_BAD_RESPONSE, c->reader.why != NULL ?
		    c->reader.why : "bad chunked framing");
		return -1;
	}
	if (evbuffer_get_length(c->body) > 0)
		c->ops->on_body(c->arg, c->body);
	if (c->guard.is_freed || c->state != H1C_BODY)
		return -1;
	if (r == 1) {
		finish(c);
		return -1;
	}
	return -1;      /* all input used; wait for more */
}

static void
process(struct h1_client *c)
{
	struct evbuffer *in = sock_input(c->sk);

	while (!c->guard.is_freed && !c->is_paused) {
		if (c->state == H1C_HEAD) {
			if (read_head(c, in) == -1)
				break;
		} else if (c->state == H1C_BODY) {
			if (read_body(c, in) == -1)
				break;
		} else if (c->state == H1C_TUNNEL) {
			if (read_tunnel(c, in) == -1)
				break;
		} else {
			break;
		}
	}
}

static void
on_read(struct sock *sk, void *arg)
{
	struct h1_client *c = arg;

	(void)sk;
	guard_enter(&c->guard);
	process(c);
	if (guard_leave(&c->guard))
		destroy(c);
}

static void
on_write(struct sock *sk, void *arg)
{
	struct h1_client *c = arg;

	(void)sk;
	guard_enter(&c->guard);
	if (c->state != H1C_FAILED)
		c->ops->on_drain(c->arg);
	if (guard_leave(&c->guard))
		destroy(c);
}

/* A tunnel's backend half-closed: the end of its direction (on_end);
 * the client's bytes still go to it until the client ends its side
 * (send_end) and the frontend frees us. */
static void
end_tunnel_input(struct h1_client *c)
{
	c->is_tunnel_eof = true;
	c->ops->on_end(c->arg, NULL, 0);
}

/* The backend closed: what is already buffered is still the response's,
 * so it is read first (later, if the client is slow and we are paused). */
static void
end_of_input(struct h1_client *c)
{
	const char *why = c->eof_what & SOCK_ERROR ?
	    "backend connection reset" : "backend closed the connection";

	process(c);
	if (c->guard.is_freed || c->is_paused || c->state == H1C_DONE ||
	    c->state == H1C_FAILED || c->is_tunnel_eof)
		return;
	c->is_discarded = true;
	if (c->state == H1C_HEAD && !c->has_response)
		fail(c, BACKEND_CLOSED_EARLY, why);
	else if (c->state == H1C_HEAD)
		fail(c, BACKEND_BAD_RESPONSE, "backend closed inside the head");
	else if (c->state == H1C_TUNNEL && !(c->eof_what & SOCK_ERROR))
		end_tunnel_input(c);
	else if (c->state == H1C_TUNNEL)
		fail(c, BACKEND_CLOSED_MIDBODY, why);
	/* only a clean EOF (FIN) ends a body read until close: a reset
	 * cut it short */
	else if (c->reader.body == H1_BODY_UNTIL_CLOSE &&
	    !(c->eof_what & SOCK_ERROR))
		finish(c);
	else if (c->reader.body == H1_BODY_UNTIL_CLOSE)
		fail(c, BACKEND_CLOSED_MIDBODY, "backend connection reset inside "
		    "a body read until close");
	else
		fail(c, BACKEND_CLOSED_MIDBODY, c->eof_what & SOCK_ERROR ?
		    "backend connection reset mid-body" :
		    "backend closed mid-body");
}

static void
on_event(struct sock *sk, short what, void *arg)
{
	struct h1_client *c = arg;

	(void)sk;
	guard_enter(&c->guard);
	if (what & SOCK_TIMEOUT)
		fail(c, what & SOCK_READING ? BACKEND_READ_TIMEOUT :
		    BACKEND_WRITE_TIMEOUT, what & SOCK_READING ?
		    "backend read timed out" : "backend write timed out");
	else if (what & SOCK_ERROR && c->is_tunnel_eof)
		fail(c, BACKEND_RESET, "backend connection reset");
	/* once the input ended, a write error (the request body meeting
	 * the backend's close) changes nothing: the verdict on what came is
	 * the EOF's */
	else if (what & (SOCK_EOF | SOCK_ERROR) && !c->is_eof) {
		c->is_eof = true;
		c->eof_what = what;
		sock_read_enable(c->sk, false);
		end_of_input(c);
	}
	if (guard_leave(&c->guard))
		destroy(c);
}
