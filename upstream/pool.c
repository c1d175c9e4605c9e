/* upstream/pool.c: idle connections wait in a LIFO list (the warmest is
 * reused first) with a read event armed, so a backend that closes an idle
 * connection, or sends bytes nobody asked for, gets it closed at once;
 * the read timeout closes it after backend_keepalive_timeout.
 *
 * A worker's pools live in its pool set, one per server address, shared
 * by every config the worker runs: a reload that keeps a server keeps its
 * warm connections. A pool is referenced by the servers that name it and
 * by its connections in use, and goes when the last of them lets go. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "conf.h"
#include "pool.h"
#include "sock.h"

struct upconn {
	struct sock *sk;
	struct pool *pool;
	bool is_reused;
	struct timeval idle_since;
	TAILQ_ENTRY(upconn) link;       /* in pool.idle while idle */
};

struct pool_req {
	struct upconn *uc;              /* connecting */
	pool_ready_fn *ready;
	void *arg;
};

struct pool {
	struct pool_set *set;
	struct event_base *base;
	struct conf_addr addr;
	unsigned refs;
	TAILQ_ENTRY(pool) link;         /* in set.pools */
	unsigned max_idle;
	unsigned nidle;
	struct event *trim_ev;          /* closes idle ones above max_idle */
	struct timeval idle_timeout;
	struct timeval connect_timeout;
	TAILQ_HEAD(upconn_list, upconn) idle;
};

#define POOL_TRIM_SECONDS 2

static void on_trim(evutil_socket_t fd, short what, void *arg);

struct pool_set {
	struct event_base *base;
	TAILQ_HEAD(, pool) pools;
};

/* The newest config's limits apply to a pool that several share. */
static void
configure(struct pool *p, const struct conf *cf)
{
	p->max_idle = cf->backend_keepalive;
	p->idle_timeout.tv_sec = cf->backend_keepalive_timeout / 1000;
	p->idle_timeout.tv_usec = cf->backend_keepalive_timeout % 1000 * 1000;
	p->connect_timeout.tv_sec = cf->backend_connect_timeout / 1000;
	p->connect_timeout.tv_usec =
	    cf->backend_connect_timeout % 1000 * 1000;
}

struct pool_set *
pool_set_new(struct event_base *base)
{
	struct pool_set *ps;

	if ((ps = calloc(1, sizeof(*ps))) == NULL)
		return NULL;
	ps->base = base;
	TAILQ_INIT(&ps->pools);
	return ps;
}

static bool
same_addr(const struct conf_addr *a, const struct conf_addr *b)
{
	return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

struct pool *
pool_ref(struct pool_set *ps, const struct conf_addr *addr,
    const struct conf *cf)
{
	struct pool *p;

	TAILQ_FOREACH(p, &ps->pools, link)
		if (same_addr(&p->addr, addr)) {
			p->refs++;
			configure(p, cf);
			return p;
		}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->set = ps;
	p->base = ps->base;
	p->addr = *addr;
	p->refs = 1;
	configure(p, cf);
	TAILQ_INIT(&p->idle);
	if ((p->trim_ev = evtimer_new(ps->base, on_trim, p)) == NULL) {
		free(p);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&ps->pools, p, link);
	return p;
}

static void
upconn_free(struct upconn *uc)
{
	sock_free(uc->sk);
	free(uc);
}

static void
pool_free(struct pool *p)
{
	struct upconn *uc;

	if (p->trim_ev != NULL)
		event_free(p->trim_ev);
	while ((uc = TAILQ_FIRST(&p->idle)) != NULL) {
		TAILQ_REMOVE(&p->idle, uc, link);
		upconn_free(uc);
	}
	TAILQ_REMOVE(&p->set->pools, p, link);
	free(p);
}

void
pool_unref(struct pool *p)
{
	if (p != NULL && --p->refs == 0)
		pool_free(p);
}

void
pool_set_free(struct pool_set *ps)
{
	struct pool *p;

	if (ps == NULL)
		return;
	while ((p = TAILQ_FIRST(&ps->pools)) != NULL)
		pool_free(p);
	free(ps);
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
	sock_setcb(uc->sk, NULL, NULL, NULL, NULL);
	uc->is_reused = true;
	p->refs++;                      /* a connection in use */
	return uc;
}

/* Whatever an idle connection reports ends it: EOF, error, timeout, or
 * bytes no request asked for. */
static void
on_idle_read(struct sock *sk, void *arg)
{
	struct upconn *uc = arg;

	(void)sk;
	unlink_idle(uc);
	upconn_free(uc);
}

static void
on_idle_event(struct sock *sk, short what, void *arg)
{
	(void)what;
	on_idle_read(sk, arg);
}

void
pool_put(struct upconn *uc, bool reusable)
{
	struct pool *p = uc->pool;

	if (!reusable || p->max_idle == 0 || p->refs == 1 ||
	    evbuffer_get_length(sock_input(uc->sk)) > 0 ||
	    sock_pending(uc->sk) > 0) {
		upconn_free(uc);
		pool_unref(p);
		return;
	}
	sock_setcb(uc->sk, on_idle_read, NULL, on_idle_event, uc);
	sock_set_read_high(uc->sk, 0);
	sock_set_write_low(uc->sk, 0);
	sock_set_timeouts(uc->sk, &p->idle_timeout, NULL);
	sock_read_enable(uc->sk, true);
	event_base_gettimeofday_cached(p->base, &uc->idle_since);
	TAILQ_INSERT_HEAD(&p->idle, uc, link);
	p->nidle++;
	p->refs--;                      /* idle: no longer in use */
	if (p->nidle > p->max_idle && !evtimer_pending(p->trim_ev, NULL)) {
		struct timeval tv = { POOL_TRIM_SECONDS, 0 };

		evtimer_add(p->trim_ev, &tv);
	}
}

/* An h2 client's burst of streams finishes in one loop pass and comes
 * back a moment later: closing whatever goes over max_idle at once would
 * mean reconnecting for the next burst. The surplus is closed only once
 * it has been idle for POOL_TRIM_SECONDS, coldest first (reuse is LIFO,
 * so the coldest are at the tail); a busy pool keeps what it uses. */
static void
on_trim(evutil_socket_t fd, short what, void *arg)
{
	struct pool *p = arg;
	struct timeval now, age, left, limit = { POOL_TRIM_SECONDS, 0 };
	struct upconn *uc;

	(void)fd;
	(void)what;
	event_base_gettimeofday_cached(p->base, &now);
	while (p->nidle > p->max_idle &&
	    (uc = TAILQ_LAST(&p->idle, upconn_list)) != NULL) {
		timersub(&now, &uc->idle_since, &age);
		if (timercmp(&age, &limit, <)) {
			/* the rest of its time, not a whole period: the
			 * timer may fire a hair before the clock says */
			timersub(&limit, &age, &left);
			evtimer_add(p->trim_ev, &left);
			return;
		}
		unlink_idle(uc);
		upconn_free(uc);
	}
}

static void
set_nodelay(struct sock *sk, int family)
{
	int one = 1;

	if (family == AF_INET || family == AF_INET6)
		setsockopt(sock_fd(sk), IPPROTO_TCP, TCP_NODELAY,
		    &one, sizeof(one));
}

static void
on_connect_event(struct sock *sk, short what, void *arg)
{
	struct pool_req *r = arg;
	struct upconn *uc = r->uc;
	pool_ready_fn *ready = r->ready;
	void *rarg = r->arg;
	const char *why;
	enum backend_error e;

	free(r);
	if (what & SOCK_CONNECTED) {
		set_nodelay(sk, uc->pool->addr.ss.ss_family);
		sock_setcb(sk, NULL, NULL, NULL, NULL);
		sock_set_timeouts(sk, NULL, NULL);
		ready(uc, 0, NULL, rarg);
		return;
	}
	/* our timer, or the kernel's (ETIMEDOUT: SYNs unanswered) */
	e = what & SOCK_TIMEOUT || errno == ETIMEDOUT ?
	    BACKEND_CONNECT_TIMEOUT : BACKEND_CONNECT_FAILED;
	why = what & SOCK_TIMEOUT ? "connect timed out" : strerror(errno);
	pool_unref(uc->pool);
	upconn_free(uc);
	ready(NULL, e, why, rarg);
}

struct pool_req *
pool_connect(struct pool *p, pool_ready_fn *ready, void *arg,
    enum backend_error *e, const char **why)
{
	struct pool_req *r;
	struct upconn *uc;

	*e = BACKEND_NO_MEMORY;
	*why = "out of memory";
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if ((uc = calloc(1, sizeof(*uc))) == NULL)
		goto fail_r;
	uc->pool = p;
	uc->sk = sock_connect(p->base, (const struct sockaddr *)&p->addr.ss,
	    p->addr.len, &p->connect_timeout, why);
	if (uc->sk == NULL) {
		*e = BACKEND_CONNECT_FAILED;
		goto fail_uc;
	}
	p->refs++;                      /* a connection in use */
	r->uc = uc;
	r->ready = ready;
	r->arg = arg;
	sock_setcb(uc->sk, NULL, NULL, on_connect_event, r);
	return r;

fail_uc:
	free(uc);
fail_r:
	free(r);
	return NULL;
}

void
pool_detach(struct upconn *uc)
{
	pool_unref(uc->pool);
	free(uc);
}

void
pool_cancel(struct pool_req *r)
{
	struct pool *p = r->uc->pool;

	upconn_free(r->uc);
	free(r);
	pool_unref(p);
}

struct sock *
upconn_sock(struct upconn *uc)
{
	return uc->sk;
}

bool
upconn_is_reused(const struct upconn *uc)
{
	return uc->is_reused;
}
