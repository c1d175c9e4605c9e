/* proxy/ctx.c: a worker thread's context (see ctx.h). */
#include <event2/event.h>

#include "ctx.h"

struct event_base *
ctx_base(struct wctx *x)
{
	return x->base;
}

unsigned
ctx_id(const struct wctx *x)
{
	return x->id;
}

struct access_log *
ctx_access_log(struct wctx *x)
{
	return x->alog;
}

uint64_t
ctx_next_conn_id(struct wctx *x)
{
	return ++x->next_conn_id;
}

int64_t
ctx_now_us(struct wctx *x)
{
	struct timeval tv;

	event_base_gettimeofday_cached(x->base, &tv);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

uint64_t
ctx_now_ms(struct wctx *x)
{
	return (uint64_t)ctx_now_us(x) / 1000;
}

void
ctx_count_request(struct wctx *x)
{
	__atomic_store_n(&x->nrequests, x->nrequests + 1, __ATOMIC_RELAXED);
	x->hooks->on_request(x->arg);
}

void
ctx_add_conn(struct wctx *x, struct conn *c)
{
	x->hooks->on_conn_open(x->arg, c);
}

void
ctx_remove_conn(struct wctx *x, struct conn *c)
{
	x->hooks->on_conn_close(x->arg, c);
}

struct epoch *
ctx_epoch(struct wctx *x)
{
	return x->epoch;
}
