/* tests/unit/test_pool.c: the pool's contract (pool.h) on a real event
 * base against a listener on 127.0.0.1: ref, connect, take, put, cancel,
 * and the ends of idle connections (backend close, timeout, trim). */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "pool.h"
#include "suites.h"

static struct event_base *base;
static struct pool_set *set;
static struct conf cf;
static int lfd = -1;                    /* the backend's listener */
static struct conf_addr addr;           /* its address */

/* What READY reported. */
static struct {
	int calls;
	struct upconn *uc;
	enum backend_error e;
	const char *why;
} got;

static void
on_ready(struct upconn *uc, enum backend_error e, const char *why,
    void *arg)
{
	(void)arg;
	got.calls++;
	got.uc = uc;
	got.e = e;
	got.why = why;
}

/* A listener on 127.0.0.1, port chosen by the kernel, into *A. */
static int
listen_local(struct conf_addr *a)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	memset(a, 0, sizeof(*a));
	memcpy(&a->ss, &sin, sizeof(sin));
	a->len = sizeof(sin);
	return fd;
}

static void
setup(void)
{
	memset(&cf, 0, sizeof(cf));
	memset(&got, 0, sizeof(got));
	cf.backend_keepalive = 4;
	cf.backend_keepalive_timeout = 5000;
	cf.backend_connect_timeout = 1000;
	ck_assert_ptr_nonnull(base = event_base_new());
	ck_assert_ptr_nonnull(set = pool_set_new(base));
	lfd = listen_local(&addr);
}

static void
teardown(void)
{
	pool_set_free(set);
	event_base_free(base);
	close(lfd);
}

/* Runs the loop for MS milliseconds (bounded: one timed exit). */
static void
run_for(int ms)
{
	struct timeval tv = { ms / 1000, ms % 1000 * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* Runs the loop until READY was called, at most 2 s. */
static void
run_until_ready(void)
{
	int i;

	for (i = 0; i < 200 && got.calls == 0; i++)
		run_for(10);
	ck_assert_int_eq(got.calls, 1);
}

/* A fresh connection from P, asserted; READY is never called inside
 * pool_connect. */
static struct upconn *
connect_one(struct pool *p)
{
	enum backend_error e;
	const char *why;
	struct pool_req *r;

	memset(&got, 0, sizeof(got));
	ck_assert_ptr_nonnull(r = pool_connect(p, on_ready, NULL, &e, &why));
	ck_assert_int_eq(got.calls, 0);
	run_until_ready();
	ck_assert_ptr_nonnull(got.uc);
	ck_assert_ptr_null(got.why);
	return got.uc;
}

START_TEST(test_ref_shares_by_address)
{
	struct conf_addr other;
	int ofd = listen_local(&other);
	struct pool *a = pool_ref(set, &addr, &cf);
	struct pool *b = pool_ref(set, &addr, &cf);
	struct pool *c = pool_ref(set, &other, &cf);

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_eq(a, b);
	ck_assert_ptr_ne(a, c);
	pool_unref(b);
	pool_unref(a);
	pool_unref(c);
	pool_unref(NULL);
	close(ofd);
}
END_TEST

START_TEST(test_take_put)
{
	struct pool *p = pool_ref(set, &addr, &cf);
	struct upconn *uc;

	ck_assert_ptr_null(pool_take(p));
	uc = connect_one(p);
	ck_assert(!upconn_is_reused(uc));
	ck_assert_ptr_nonnull(upconn_sock(uc));
	ck_assert_ptr_null(pool_take(p));       /* in use, not idle */
	pool_put(uc, true);
	ck_assert_ptr_eq(pool_take(p), uc);     /* the same one, warm */
	ck_assert(upconn_is_reused(uc));
	ck_assert_ptr_null(pool_take(p));
	pool_put(uc, false);                    /* not reusable: closed */
	ck_assert_ptr_null(pool_take(p));
	pool_unref(p);
}
END_TEST

/* LIFO: the most recently put is taken first. */
START_TEST(test_take_warmest)
{
	struct pool *p = pool_ref(set, &addr, &cf);
	struct upconn *u1 = connect_one(p), *u2 = connect_one(p);

	pool_put(u1, true);
	pool_put(u2, true);
	ck_assert_ptr_eq(pool_take(p), u2);
	ck_assert_ptr_eq(pool_take(p), u1);
	pool_put(u1, false);
	pool_put(u2, false);
	pool_unref(p);
}
END_TEST

/* backend_keepalive 0: nothing is kept. */
START_TEST(test_put_no_keepalive)
{
	struct pool *p;
	struct upconn *uc;

	cf.backend_keepalive = 0;
	p = pool_ref(set, &addr, &cf);
	uc = connect_one(p);
	pool_put(uc, true);
	ck_assert_ptr_null(pool_take(p));
	pool_unref(p);
}
END_TEST

/* The pool's servers let go while a connection was in use: its put
 * closes it and frees the pool (ASan sees any leak). */
START_TEST(test_put_after_last_server)
{
	struct pool *p = pool_ref(set, &addr, &cf);
	struct upconn *uc = connect_one(p);

	pool_unref(p);
	pool_put(uc, true);
}
END_TEST

START_TEST(test_cancel)
{
	struct pool *p = pool_ref(set, &addr, &cf);
	enum backend_error e;
	const char *why;
	struct pool_req *r = pool_connect(p, on_ready, NULL, &e, &why);

	ck_assert_ptr_nonnull(r);
	pool_cancel(r);
	run_for(100);
	ck_assert_int_eq(got.calls, 0);         /* READY never called */
	ck_assert_ptr_null(pool_take(p));
	pool_unref(p);
}
END_TEST

START_TEST(test_connect_refused)
{
	struct conf_addr dead;
	int dfd = listen_local(&dead);
	struct pool *p;
	enum backend_error e;
	const char *why;

	close(dfd);                             /* nothing listens there */
	p = pool_ref(set, &dead, &cf);
	ck_assert_ptr_nonnull(pool_connect(p, on_ready, NULL, &e, &why));
	ck_assert_int_eq(got.calls, 0);
	run_until_ready();
	ck_assert_ptr_null(got.uc);
	ck_assert_int_eq(got.e, BACKEND_CONNECT_FAILED);
	ck_assert_ptr_nonnull(got.why);
	pool_unref(p);
}
END_TEST

/* An idle connection the backend closes leaves the pool at once. */
START_TEST(test_idle_closed_by_backend)
{
	struct pool *p = pool_ref(set, &addr, &cf);
	struct upconn *uc = connect_one(p);
	int sfd = accept(lfd, NULL, NULL);

	ck_assert_int_ge(sfd, 0);
	pool_put(uc, true);
	close(sfd);
	run_for(200);
	ck_assert_ptr_null(pool_take(p));
	pool_unref(p);
}
END_TEST

/* backend_keepalive_timeout ends an idle connection. */
START_TEST(test_idle_timeout)
{
	struct pool *p;
	struct upconn *uc;

	cf.backend_keepalive_timeout = 100;
	p = pool_ref(set, &addr, &cf);
	uc = connect_one(p);
	pool_put(uc, true);
	run_for(400);
	ck_assert_ptr_null(pool_take(p));
	pool_unref(p);
}
END_TEST

/* Over backend_keepalive, the surplus stays a while (the next burst may
 * want it), then the coldest goes and the warmest stays. */
START_TEST(test_trim)
{
	struct pool *p;
	struct upconn *u1, *u2;

	cf.backend_keepalive = 1;
	p = pool_ref(set, &addr, &cf);
	u1 = connect_one(p);
	u2 = connect_one(p);
	pool_put(u1, true);
	pool_put(u2, true);
	run_for(2600);                          /* POOL_TRIM_SECONDS, + */
	ck_assert_ptr_eq(pool_take(p), u2);
	ck_assert_ptr_null(pool_take(p));
	pool_put(u2, false);
	pool_unref(p);
}
END_TEST

Suite *
pool_suite(void)
{
	Suite *s = suite_create("pool");
	TCase *tc = tcase_create("pool");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_ref_shares_by_address);
	tcase_add_test(tc, test_take_put);
	tcase_add_test(tc, test_take_warmest);
	tcase_add_test(tc, test_put_no_keepalive);
	tcase_add_test(tc, test_put_after_last_server);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_connect_refused);
	tcase_add_test(tc, test_idle_closed_by_backend);
	tcase_add_test(tc, test_idle_timeout);
	tcase_add_test(tc, test_trim);
	suite_add_tcase(s, tc);
	return s;
}
