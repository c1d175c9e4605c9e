/* upstream/pool.c: idle connections wait in a LIFO list (the warmest is
 * reused first) with a read event armed, so a backend that closes an idle
 * connection, or sends bytes nobody asked for, gets it closed at once;
 * the read timeout closes it after backend_keepalive_timeout. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "conf.h"
#include "pool.h"

struct upconn {
	struct bufferevent *bev;
	struct pool *pool;
	bool is_reused;
	TAILQ_ENTRY(upconn) link;       /* in pool.idle while idle */
};

struct pool_req {
	struct upconn *uc;              /* connecting */
	pool_ready_fn *ready;
	void *arg;
};

struct pool {
	struct event_base *base;
	const struct conf_addr *addr;
	unsigned max_idle;
	unsigned nidle;
	struct timeval idle_timeout;
	struct timeval connect_timeout;
	TAILQ_HEAD(, upconn) idle;
};

struct pool *
pool_new(struct event_base *base, const struct conf_addr *addr,
    const struct conf *cf)
{
	struct pool *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->base = base;
	p->addr = addr;
	p->max_idle = cf->backend_keepalive;
	p->idle_timeout.tv_sec = cf->backend_keepalive_timeout / 1000;
	p->idle_timeout.tv_usec = cf->backend_keepalive_timeout % 1000 * 1000;
	p->connect_timeout.tv_sec = cf->backend_connect_timeout / 1000;
	p->connect_timeout.tv_usec =
	    cf->backend_connect_timeout % 1000 * 1000;
	TAILQ_INIT(&p->idle);
	return p;
}

static void
upconn_free(struct upconn *uc)
{
	bufferevent_free(uc->bev);
	free(uc);
}

void
pool_free(struct pool *p)
{
	struct upconn *uc;

	if (p == NULL)
		return;
	while ((uc = TAILQ_FIRST(&p->idle)) != NULL) {
		TAILQ_REMOVE(&p->idle, uc, link);
		upconn_free(uc);
	}
	free(p);
}

static void
unlink_idle(struct upconn *uc)
{
	TAILQ_REMOVE(&uc->pool->idle, uc, link);
	uc->pool->nidle--;
}

struct upconn *
pool_take(struct pool *p)
{
	struct upconn *uc = TAILQ_FIRST(&p->idle);

	if (uc == NULL)
		return NULL;
	unlink_idle(uc);
	/* reading stays enabled: the new owner sets its callbacks now */
	bufferevent_setcb(uc->bev, NULL, NULL, NULL, NULL);
	uc->is_reused = true;
	return uc;
}

/* Whatever an idle connection reports ends it: EOF, error, timeout, or
 * bytes no request asked for. */
static void
on_idle_read(struct bufferevent *bev, void *arg)
{
	struct upconn *uc = arg;

	(void)bev;
	unlink_idle(uc);
	upconn_free(uc);
}

static void
on_idle_event(struct bufferevent *bev, short what, void *arg)
{
	(void)what;
	on_idle_read(bev, arg);
}

void
pool_put(struct upconn *uc, bool reusable)
{
	struct pool *p = uc->pool;

	if (!reusable || p->nidle >= p->max_idle ||
	    evbuffer_get_length(bufferevent_get_input(uc->bev)) > 0 ||
	    evbuffer_get_length(bufferevent_get_output(uc->bev)) > 0) {
		upconn_free(uc);
		return;
	}
	bufferevent_setcb(uc->bev, on_idle_read, NULL, on_idle_event, uc);
	bufferevent_setwatermark(uc->bev, EV_READ | EV_WRITE, 0, 0);
	bufferevent_set_timeouts(uc->bev, &p->idle_timeout, NULL);
	bufferevent_enable(uc->bev, EV_READ);
	TAILQ_INSERT_HEAD(&p->idle, uc, link);
	p->nidle++;
}

static void
set_nodelay(struct bufferevent *bev, int family)
{
	int one = 1;

	if (family == AF_INET || family == AF_INET6)
		setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY,
		    &one, sizeof(one));
}

static void
on_connect_event(struct bufferevent *bev, short what, void *arg)
{
	struct pool_req *r = arg;
	struct upconn *uc = r->uc;
	pool_ready_fn *ready = r->ready;
	void *rarg = r->arg;
	const char *why;

	free(r);
	if (what & BEV_EVENT_CONNECTED) {
		set_nodelay(bev, uc->pool->addr->ss.ss_family);
		bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
		bufferevent_set_timeouts(bev, NULL, NULL);
		ready(uc, NULL, rarg);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		why = "connect timed out";
	else
		why = evutil_socket_error_to_string(
		    evutil_socket_geterror(bufferevent_getfd(bev)));
	upconn_free(uc);
	ready(NULL, why, rarg);
}

struct pool_req *
pool_connect(struct pool *p, pool_ready_fn *ready, void *arg,
    const char **why)
{
	struct pool_req *r;
	struct upconn *uc;

	*why = "out of memory";
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if ((uc = calloc(1, sizeof(*uc))) == NULL)
		goto fail_r;
	uc->pool = p;
	uc->bev = bufferevent_socket_new(p->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (uc->bev == NULL)
		goto fail_uc;
	r->uc = uc;
	r->ready = ready;
	r->arg = arg;
	bufferevent_setcb(uc->bev, NULL, NULL, on_connect_event, r);
	bufferevent_set_timeouts(uc->bev, &p->connect_timeout,
	    &p->connect_timeout);
	if (bufferevent_socket_connect(uc->bev,
	    (const struct sockaddr *)&p->addr->ss, (int)p->addr->len) == -1) {
		*why = strerror(errno != 0 ? errno : ECONNREFUSED);
		goto fail_bev;
	}
	return r;

fail_bev:
	bufferevent_free(uc->bev);
fail_uc:
	free(uc);
fail_r:
	free(r);
	return NULL;
}

void
pool_cancel(struct pool_req *r)
{
	upconn_free(r->uc);
	free(r);
}

struct bufferevent *
upconn_bev(struct upconn *uc)
{
	return uc->bev;
}

bool
upconn_is_reused(const struct upconn *uc)
{
	return uc->is_reused;
}

const char *
upconn_name(const struct upconn *uc)
{
	return uc->pool->addr->text;
}

unsigned
pool_idle_count(const struct pool *p)
{
	return p->nidle;
}
