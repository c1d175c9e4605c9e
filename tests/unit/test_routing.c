/* tests/unit/test_routing.c: proxy/routing.h, which route a request
 * takes: exact and wildcard hosts, longest path prefix, the order conf.c
 * sorts routes in, and, through route_parse's target, IPv6 literals,
 * "*" (OPTIONS), ports, queries and absolute-form targets. */
#include <string.h>

#include <event2/buffer.h>

#include "arena.h"
#include "conf.h"
#include "headers.h"
#include "route.h"
#include "routing.h"
#include "suites.h"

static struct conf *
parse_ok(const char *text)
{
	char *err = NULL;
	struct conf *cf = conf_parse("t.conf", text, &err);

	ck_assert_msg(cf != NULL, "refused: %s", err);
	ck_assert_ptr_null(err);
	return cf;
}

/* Routing on the host and path as the route names them. */
#define ROUTES \
	"listen 127.0.0.1:80\n" \
	"backend any { server 127.0.0.1:1 }\n" \
	"backend anystatic { server 127.0.0.1:1 }\n" \
	"backend ex { server 127.0.0.1:1 }\n" \
	"backend exapi { server 127.0.0.1:1 }\n" \
	"backend exapi2 { server 127.0.0.1:1 }\n" \
	"backend wild { server 127.0.0.1:1 }\n" \
	"backend wilda { server 127.0.0.1:1 }\n" \
	"backend other { server 127.0.0.1:1 }\n" \
	"backend cart { server 127.0.0.1:1 }\n" \
	"backend up { server 127.0.0.1:1 }\n" \
	"route * any\n" \
	"route */static/ anystatic\n" \
	"route example.com ex\n" \
	"route example.com/api/ exapi\n" \
	"route example.com/api/v2/ exapi2\n" \
	"route *.example.com wild\n" \
	"route *.a.example.com wilda\n" \
	"route api.other.org/v1/ other\n" \
	"route *.shop.test/cart/ cart\n" \
	"route Upper.Example.COM. up\n"

static const struct {
	const char *host;
	size_t hostlen;         /* 0: strlen(host) */
	const char *path;
	const char *backend;    /* NULL: no route */
} matches[] = {
	{ "example.com", 0, "/", "ex" },
	{ "example.com", 0, "/api/x", "exapi" },
	{ "example.com", 0, "/api/v2/x", "exapi2" },
	{ "example.com", 0, "/api", "ex" },
	{ "EXAMPLE.COM", 0, "/api/", "exapi" },
	{ "example.com.", 0, "/api/", "exapi" },
	{ "example.com:8080", 11, "/api/", "exapi" },
	{ "a.example.com", 0, "/", "wild" },
	{ "b.c.example.com", 0, "/", "wild" },
	{ "A.Example.Com.", 0, "/", "wild" },
	{ "x.a.example.com", 0, "/", "wilda" },
	{ "a.example.com", 0, "/static/x", "wild" },
	{ "xexample.com", 0, "/", "any" },
	{ "example.org", 0, "/", "any" },
	{ "example.org", 0, "/static/a.css", "anystatic" },
	{ "", 0, "/", "any" },
	{ "api.other.org", 0, "/v1/users", "other" },
	{ "api.other.org", 0, "/v2", "any" },
	{ "x.shop.test", 0, "/cart/1", "cart" },
	{ "x.shop.test", 0, "/", "any" },
	{ "shop.test", 0, "/cart/1", "any" },
	{ "upper.example.com", 0, "/", "up" },
	{ "example.org", 0, "*", NULL },
};

START_TEST(test_routing_match)
{
	struct conf *cf = parse_ok(ROUTES);
	const char *host = matches[_i].host, *path = matches[_i].path;
	size_t hlen = matches[_i].hostlen ? matches[_i].hostlen : strlen(host);
	const struct conf_route *r;

	r = routing_match(cf, host, hlen, path, strlen(path));
	if (matches[_i].backend == NULL)
		ck_assert_ptr_null(r);
	else
		ck_assert_str_eq(r->backend->name, matches[_i].backend);
	conf_unref(cf);
}
END_TEST

START_TEST(test_routing_order)
{
	struct conf *cf = parse_ok(ROUTES);
	const struct conf_route *r;
	size_t i;

	ck_assert_uint_eq(cf->nroutes, 10);
	r = routing_match(cf, "upper.example.com", 17, "/", 1);
	ck_assert_str_eq(r->host, "upper.example.com");
	ck_assert_str_eq(r->path, "/");
	ck_assert_int_eq(r->line, 21);
	r = routing_match(cf, "x", 1, "/static/", 8);
	ck_assert_str_eq(r->host, "*");
	ck_assert_str_eq(r->path, "/static/");
	/* Sorted most specific first: "*" routes come last. */
	for (i = 0; i < cf->nroutes - 2; i++)
		ck_assert_str_ne(cf->routes[i].host, "*");
	ck_assert_str_eq(cf->routes[cf->nroutes - 1].path, "/");
	conf_unref(cf);
}
END_TEST

#define ROUTES_IP6 \
	"listen 127.0.0.1:80\n" \
	"backend any { server 127.0.0.1:1 }\n" \
	"backend v6 { server 127.0.0.1:1 }\n" \
	"backend v6api { server 127.0.0.1:1 }\n" \
	"backend v4 { server 127.0.0.1:1 }\n" \
	"route * any\n" \
	"route [::1] v6\n" \
	"route [::1]/api/ v6api\n" \
	"route 127.0.0.1 v4\n"

/* Routing on a request: its target and Host, through route_parse. */
static const struct {
	const char *routes;
	const char *target;
	const char *authority;  /* Host / :authority */
	const char *backend;    /* NULL: no route */
} requests[] = {
	{ ROUTES, "/api/x", "example.com", "exapi" },
	{ ROUTES, "/api/x", "EXAMPLE.COM.:8080", "exapi" },
	{ ROUTES, "/api?/api/", "example.com", "ex" },
	{ ROUTES, "/api/?q", "example.com", "exapi" },
	{ ROUTES, "/v1/../api/v2/", "example.com", "exapi2" },
	{ ROUTES, "/%61pi/", "example.com", "exapi" },
	{ ROUTES, "http://example.com/api/", "other.test", "exapi" },
	{ ROUTES, "/", "x.a.example.com:443", "wilda" },
	{ ROUTES, "/cart/", "b.shop.test", "cart" },
	{ ROUTES, "/static/x", "nohost.test", "anystatic" },
	{ ROUTES, "*", "example.org", "any" },
	{ ROUTES, "*", "example.com", "ex" },
	{ ROUTES, "*", "api.other.org", "any" },
	{ ROUTES_IP6, "/", "[::1]", "v6" },
	{ ROUTES_IP6, "/", "[::1]:8080", "v6" },
	{ ROUTES_IP6, "/api/x", "[::1]", "v6api" },
	{ ROUTES_IP6, "*", "[::1]", "v6" },
	{ ROUTES_IP6, "/", "[::2]", "any" },
	{ ROUTES_IP6, "/api/", "127.0.0.1:80", "v4" },
	{ ROUTES_IP6, "/", "::1", NULL },               /* refused: no [ ] */
	{ "listen 127.0.0.1:80\n"
	  "backend a { server 127.0.0.1:1 }\n"
	  "route a.test/ a\n"
	  "route */x/ a\n"
	  "route * a\n", "/y", "b.test", "a" },
};

static void
request_head(struct req_head *h, size_t i)
{
	const char *t = requests[i].target;

	memset(h, 0, sizeof(*h));
	h->method = t[0] == '*' ? "OPTIONS" : "GET";
	h->methodlen = (uint32_t)strlen(h->method);
	h->target = t;
	h->targetlen = (uint32_t)strlen(t);
	h->authority = requests[i].authority;
	h->authoritylen = (uint32_t)strlen(h->authority);
	h->version = 11;
}

START_TEST(test_routing_find)
{
	struct conf *cf = parse_ok(requests[_i].routes);
	const struct conf_route *r;
	struct route_target rt;
	struct req_head h;
	struct arena a;
	const char *why = NULL;

	arena_init(&a);
	request_head(&h, (size_t)_i);
	if (requests[_i].backend == NULL) {
		ck_assert_int_eq(route_parse(&h, &a, &rt, &why), -1);
	} else {
		ck_assert_msg(route_parse(&h, &a, &rt, &why) == 0,
		    "%s (Host %s): %s", h.target, h.authority, why);
		r = routing_find(cf, &rt);
		ck_assert_msg(r != NULL, "%s (Host %s): no route", h.target,
		    h.authority);
		ck_assert_str_eq(r->backend->name, requests[_i].backend);
	}
	arena_fini(&a);
	conf_unref(cf);
}
END_TEST

Suite *
routing_suite(void)
{
	Suite *s = suite_create("routing");
	TCase *tc = tcase_create("match");

	tcase_add_loop_test(tc, test_routing_match, 0, NELEMS(matches));
	tcase_add_test(tc, test_routing_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("find");
	tcase_add_loop_test(tc, test_routing_find, 0, NELEMS(requests));
	suite_add_tcase(s, tc);
	return s;
}
