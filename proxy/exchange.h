/* proxy/exchange.h: one request in flight between a frontend stream (h1
 * or h2) and a backend connection. The only object that sees both. */
#ifndef PORTICO_EXCHANGE_H
#define PORTICO_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "headers.h"

struct arena;
struct conf;
struct evbuffer;
struct wctx;
struct exchange;

/* What the frontend does with the response. The exchange calls on_head
 * for 1xx and then the final head, on_body as bytes arrive, then exactly
 * one of on_end or on_fail. After on_end/on_fail the frontend frees the
 * exchange (it may do so from inside the callback). In a tunnel (after a
 * 101 that stays with the exchange) on_end is the backend's half-close:
 * the frontend may keep the exchange for the client's side (request_body,
 * then request_end), and on_fail may still come while it does. */
struct exchange_ops {
	void (*on_head)(void *fe, const struct resp_head *r);
	void (*on_body)(void *fe, struct evbuffer *data);       /* move all */
	void (*on_end)(void *fe, const struct hfield *trailers, size_t n);
	/* STATUS: send this error (no head was delivered yet); 0: the
	 * response was cut short and must be aborted. */
	void (*on_fail)(void *fe, int status, const char *why);
	/* The backend took the queued body: client reads may resume. */
	void (*on_request_drain)(void *fe);
	/* Optional (NULL: always yes). Asked before each new backend
	 * connect, not for a pooled connection: false makes the exchange
	 * wait, with no connect, until exchange_connect(). */
	bool (*may_connect)(void *fe);
	/* Optional: a connect may_connect allowed has finished, either
	 * way, or failed at once (called before the connection is used or
	 * the next server is tried). */
	void (*on_connect_done)(void *fe);
};

/* Routes H (which, with ARENA, must outlive the exchange) and starts it;
 * H->fwd_target is set to the target route.c normalised, which is what
 * the backend gets. NULL with *status and *why when no exchange could
 * start (400: a target or authority refused; 404: no route). */
struct epoch;
/* E: the epoch whose routes and backends apply (referenced). */
struct exchange *exchange_new(struct epoch *e,
    struct req_head *h, struct arena *arena,
    const struct fwd_info *fwd, const struct exchange_ops *ops, void *fe,
    int *status, const char **why);
/* Cancels whatever is in flight (the backend connection is then closed,
 * not pooled) or releases a finished one. NULL ok. */
void exchange_free(struct exchange *x);

/* An exchange that may_connect kept waiting: it may connect now. A
 * failure is told from the loop, as from exchange_new. */
void exchange_connect(struct exchange *x);

/* Moves all of DATA (request body bytes; after the backend's 101 for a
 * WebSocket request, tunnel bytes) towards the backend. Bytes a request
 * without a body sends before any 101 are dropped, never written. */
void exchange_request_body(struct exchange *x, struct evbuffer *data);
/* The request body is complete (TRAILERS may be empty); after a 101,
 * again: the client ended its side of the tunnel. */
void exchange_request_end(struct exchange *x, const struct hfield *trailers,
    size_t n);
/* True while the body queued for the backend is above the high-water
 * mark: the frontend stops reading until on_request_drain. */
bool exchange_request_is_full(const struct exchange *x);
/* The client is slow / caught up: stop / resume reading the backend. */
void exchange_response_pause(struct exchange *x);
void exchange_response_resume(struct exchange *x);

/* From inside on_head(101) for a WebSocket request: the backend socket,
 * now the caller's, for tunnel.c; the exchange then only waits to be
 * freed. */
struct sock;
struct sock *exchange_take_sock(struct exchange *x);

/* Frees this thread's cache of exchanges; a worker calls it at exit. */
void exchange_cache_free(void);
/* Frees all but KEEP of them; an idle worker calls it. */
void exchange_cache_trim(unsigned keep);

/* For the access log. */
const char *exchange_upstream(const struct exchange *x);   /* or NULL */
int64_t exchange_upstream_us(const struct exchange *x);     /* or -1 */

#endif
