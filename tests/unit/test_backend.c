/* tests/unit/test_backend.c: weighted round robin and failed servers. */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "backend.h"
#include "conf.h"
#include "pool.h"
#include "suites.h"

static const struct {
	unsigned weights[4];
	unsigned n;
	unsigned picks;
} spreads[] = {
	{ { 1, 1 }, 2, 100 },
	{ { 3, 1 }, 2, 400 },
	{ { 5, 2, 1 }, 3, 800 },
	{ { 1, 1, 1, 7 }, 4, 1000 },
};

static struct conf_backend *
make_backend(const unsigned *weights, unsigned n)
{
	struct conf_backend *cb = calloc(1, sizeof(*cb));
	const char *why;
	unsigned i;

	cb->name = "b";
	cb->servers = calloc(n, sizeof(*cb->servers));
	cb->nservers = n;
	for (i = 0; i < n; i++) {
		char addr[32];

		snprintf(addr, sizeof(addr), "127.0.0.1:%u", 9000 + i);
		ck_assert_int_eq(conf_addr_parse(&cb->servers[i].addr, addr,
		    &why), 0);
		cb->servers[i].weight = weights[i];
	}
	return cb;
}

static struct conf
test_conf(void)
{
	struct conf cf;

	memset(&cf, 0, sizeof(cf));
	cf.backend_fail_timeout = 10000;
	cf.backend_keepalive = 4;
	cf.backend_keepalive_timeout = 1000;
	cf.backend_connect_timeout = 1000;
	return cf;
}

/* Which server index a pick returned, from its address. */
static unsigned
index_of(struct server *s)
{
	return (unsigned)atoi(strrchr(server_name(s), ':') + 1) - 9000;
}

START_TEST(test_backend_spread)
{
	struct event_base *base = event_base_new();
	struct conf cf = test_conf();
	struct conf_backend *cb = make_backend(spreads[_i].weights,
	    spreads[_i].n);
	struct pool_set *ps = pool_set_new(base);
	struct backend *b = backend_new(ps, &cf, cb);
	unsigned count[4] = { 0 }, total = 0, i, run = 0, last = 99;

	for (i = 0; i < spreads[_i].n; i++)
		total += spreads[_i].weights[i];
	for (i = 0; i < spreads[_i].picks; i++) {
		unsigned k = index_of(backend_pick(b, 1000, 0));

		count[k]++;
		/* smooth: a heavy server never runs longer than its weight */
		run = k == last ? run + 1 : 1;
		last = k;
		ck_assert_uint_le(run, spreads[_i].weights[k]);
	}
	for (i = 0; i < spreads[_i].n; i++)
		ck_assert_uint_eq(count[i], spreads[_i].picks *
		    spreads[_i].weights[i] / total);
	backend_free(b);
	pool_set_free(ps);
	free(cb->servers);
	free(cb);
	event_base_free(base);
}
END_TEST

START_TEST(test_backend_skips_failed)
{
	static const unsigned w[] = { 1, 1, 1 };
	struct event_base *base = event_base_new();
	struct conf cf = test_conf();
	struct conf_backend *cb = make_backend(w, 3);
	struct pool_set *ps = pool_set_new(base);
	struct backend *b = backend_new(ps, &cf, cb);
	struct server *s0 = backend_pick(b, 1000, 0), *s;
	unsigned i;

	backend_mark_failed(s0, 1000);
	for (i = 0; i < 10; i++) {
		s = backend_pick(b, 2000, 0);
		ck_assert_ptr_ne(s, s0);
	}
	/* fail_timeout later the server is tried again */
	for (i = 0; i < 3; i++)
		if (backend_pick(b, 11001, 0) == s0)
			break;
	ck_assert_uint_lt(i, 3);
	backend_free(b);
	pool_set_free(ps);
	free(cb->servers);
	free(cb);
	event_base_free(base);
}
END_TEST

START_TEST(test_backend_all_failed)
{
	static const unsigned w[] = { 1, 1 };
	struct event_base *base = event_base_new();
	struct conf cf = test_conf();
	struct conf_backend *cb = make_backend(w, 2);
	struct pool_set *ps = pool_set_new(base);
	struct backend *b = backend_new(ps, &cf, cb);
	struct server *a = backend_pick(b, 1000, 0);
	struct server *c = backend_pick(b, 1000, 0);

	ck_assert_ptr_ne(a, c);
	backend_mark_failed(a, 1000);
	backend_mark_failed(c, 1500);
	ck_assert_ptr_null(backend_pick(b, 2000, 0));
	/* a first try still goes somewhere: the longest-failed server */
	ck_assert_ptr_eq(backend_pick(b, 2000, 1), a);
	backend_mark_ok(c);
	ck_assert_ptr_eq(backend_pick(b, 2000, 0), c);
	backend_free(b);
	pool_set_free(ps);
	free(cb->servers);
	free(cb);
	event_base_free(base);
}
END_TEST

Suite *
backend_suite(void)
{
	Suite *s = suite_create("backend");
	TCase *tc = tcase_create("balancing");

	tcase_add_loop_test(tc, test_backend_spread, 0, NELEMS(spreads));
	tcase_add_test(tc, test_backend_skips_failed);
	tcase_add_test(tc, test_backend_all_failed);
	suite_add_tcase(s, tc);
	return s;
}
