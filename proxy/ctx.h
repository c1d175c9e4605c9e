/* proxy/ctx.h: a worker thread's context, as the layers under the worker
 * see it: the event base, the cached clock, the request counter, the
 * access log, the current epoch and the worker's id. The worker fills
 * it in and hears back through hooks, so no lower layer calls up into
 * worker.c. Thread-local by construction: only its own thread uses it,
 * except nrequests, which the main thread reads (relaxed). */
#ifndef PORTICO_CTX_H
#define PORTICO_CTX_H

#include <stdint.h>

struct access_log;
struct conn;
struct epoch;
struct event_base;

/* What the worker wants to know; ARG is wctx.arg. */
struct wctx_hooks {
	void (*on_request)(void *arg);                  /* one more */
	void (*on_conn_open)(void *arg, struct conn *c);
	void (*on_conn_close)(void *arg, struct conn *c);
};

/* Set by the worker; the layers below use the functions. */
struct wctx {
	unsigned id;
	struct event_base *base;
	struct access_log *alog;        /* NULL: no access log */
	struct epoch *epoch;            /* for new connections and requests */
	uint64_t next_conn_id;
	unsigned long nrequests;        /* read by the main thread */
	const struct wctx_hooks *hooks;
	void *arg;
};

/* The worker's event loop: every event of its connections runs there. */
struct event_base *ctx_base(struct wctx *x);
/* The worker's number, from 0 ("w0" in log tags). */
unsigned ctx_id(const struct wctx *x);
/* The worker's access log; NULL when access_log is off. */
struct access_log *ctx_access_log(struct wctx *x);
/* A new connection's number in this worker, from 1 ("c12" in tags). */
uint64_t ctx_next_conn_id(struct wctx *x);
/* Cached loop time: milliseconds and microseconds of wall clock. */
uint64_t ctx_now_ms(struct wctx *x);
int64_t ctx_now_us(struct wctx *x);
/* A request starts: counted, and the worker hears of it. */
void ctx_count_request(struct wctx *x);
/* Connections register so that a stopping worker can drain and free them. */
void ctx_add_conn(struct wctx *x, struct conn *c);
void ctx_remove_conn(struct wctx *x, struct conn *c);
/* The worker's current epoch (borrowed: take a reference to keep it). */
struct epoch *ctx_epoch(struct wctx *x);

#endif
