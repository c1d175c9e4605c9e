/* tests/unit/test_route.c: the one parse of a target, through route.h:
 * what routing matches and what the backend is sent. */
#include <string.h>

#include <event2/buffer.h>

#include "arena.h"
#include "headers.h"
#include "route.h"
#include "suites.h"

static const struct {
	const char *target;
	const char *authority;  /* Host / :authority; NULL: none */
	unsigned version;       /* 11, or 20 (h2 :path) */
	const char *want;       /* the target forwarded; NULL: a 400 */
	const char *host;       /* the host matched */
} targets[] = {
	/* dot-segments (RFC 3986 §5.2.4), encoded or not */
	{ "/v1/../admin", "a.test", 11, "/admin", "a.test" },
	{ "/v1/%2e%2e/admin", "a.test", 11, "/admin", "a.test" },
	{ "/v1/%2E%2e/admin", "a.test", 11, "/admin", "a.test" },
	{ "/v1/.%2E/admin", "a.test", 11, "/admin", "a.test" },
	{ "/v1/%2e/x", "a.test", 11, "/v1/x", "a.test" },
	{ "/v1/./x", "a.test", 11, "/v1/x", "a.test" },
	{ "/v1/.", "a.test", 11, "/v1/", "a.test" },
	{ "/v1/..", "a.test", 11, "/", "a.test" },
	{ "/v1/x/..", "a.test", 11, "/v1/", "a.test" },
	{ "/v1/x/../", "a.test", 11, "/v1/", "a.test" },
	{ "/a/b/../../..", "a.test", 11, NULL, NULL },
	{ "/../x", "a.test", 11, NULL, NULL },
	{ "/..", "a.test", 11, NULL, NULL },
	{ "/%2e%2e/x", "a.test", 11, NULL, NULL },
	{ "/.", "a.test", 11, "/", "a.test" },
	{ "/...", "a.test", 11, "/...", "a.test" },
	{ "/v1/..x/.x", "a.test", 11, "/v1/..x/.x", "a.test" },
	/* "..;" is ".." to Tomcat */
	{ "/v1/..;/admin", "a.test", 11, NULL, NULL },
	{ "/v1/.;x/admin", "a.test", 11, NULL, NULL },
	{ "/v1/%2e%2e;/admin", "a.test", 11, NULL, NULL },
	{ "/v1/x;y/z", "a.test", 11, "/v1/x;y/z", "a.test" },
	/* what a backend could split on */
	{ "/v1/%2fadmin", "a.test", 11, NULL, NULL },
	{ "/v1/%2F..%2Fadmin", "a.test", 11, NULL, NULL },
	{ "/v1/%5c..%5cadmin", "a.test", 11, NULL, NULL },
	{ "/v1\\..\\admin", "a.test", 11, NULL, NULL },
	{ "/v1/%00", "a.test", 11, NULL, NULL },
	{ "/v1/%2", "a.test", 11, NULL, NULL },
	{ "/v1/%zz", "a.test", 11, NULL, NULL },
	{ "/v1/%", "a.test", 11, NULL, NULL },
	/* unreserved characters decoded; others kept as sent */
	{ "/%76%31/x", "a.test", 11, "/v1/x", "a.test" },
	{ "/v1/%7e%41", "a.test", 11, "/v1/~A", "a.test" },
	{ "/v1/%20%3F%25", "a.test", 11, "/v1/%20%3F%25", "a.test" },
	{ "/v1/%252e%252e/", "a.test", 11, "/v1/%252e%252e/", "a.test" },
	/* empty segments merged */
	{ "//v1/", "a.test", 11, "/v1/", "a.test" },
	{ "/v1//x///y", "a.test", 11, "/v1/x/y", "a.test" },
	{ "/v1//../x", "a.test", 11, "/x", "a.test" },
	{ "///", "a.test", 11, "/", "a.test" },
	{ "/", "a.test", 11, "/", "a.test" },
	/* the query is forwarded as received */
	{ "/v1/?x=/../", "a.test", 11, "/v1/?x=/../", "a.test" },
	{ "/v1/../?x=/./%2f", "a.test", 11, "/?x=/./%2f", "a.test" },
	{ "/v1/./?", "a.test", 11, "/v1/?", "a.test" },
	{ "/v1?a?b", "a.test", 11, "/v1?a?b", "a.test" },
	/* bytes a target may not hold */
	{ "/v1/a b", "a.test", 11, NULL, NULL },
	{ "/v1/a\tb", "a.test", 11, NULL, NULL },
	{ "/v1/#x", "a.test", 11, NULL, NULL },
	{ "/v1/?q#x", "a.test", 11, NULL, NULL },
	{ "/v1/\x01", "a.test", 11, NULL, NULL },
	{ "/v1/\x7f", "a.test", 11, NULL, NULL },
	{ "", "a.test", 11, NULL, NULL },
	/* absolute-form: its authority wins over Host (RFC 9112 §3.2.2) */
	{ "http://h/", "a.test", 11, "/", "h" },
	{ "http://h", "a.test", 11, "/", "h" },
	{ "http://h:80/x", "a.test", 11, "/x", "h" },
	{ "HTTP://H/x", "a.test", 11, "/x", "H" },
	{ "https://h/x", "a.test", 11, "/x", "h" },
	{ "http://h/v1/../admin?q=1", "a.test", 11, "/admin?q=1", "h" },
	{ "http://h//v1/", "a.test", 11, "/v1/", "h" },
	{ "http://[::1]:8080/x", "a.test", 11, "/x", "::1" },
	{ "http://[::1]/x", "a.test", 11, "/x", "::1" },
	{ "http://h:/x", "a.test", 11, NULL, NULL },
	{ "http://h:?/v1/", "a.test", 11, NULL, NULL },
	{ "http://h?/v1/", "a.test", 11, NULL, NULL },
	{ "http://h:abc/", "a.test", 11, NULL, NULL },
	{ "http://h:99999/", "a.test", 11, NULL, NULL },
	{ "http://h:65536/", "a.test", 11, NULL, NULL },
	{ "http://h:65535/", "a.test", 11, "/", "h" },
	{ "http://h:-1/", "a.test", 11, NULL, NULL },
	{ "http://h:80:80/", "a.test", 11, NULL, NULL },
	{ "http:///x", "a.test", 11, NULL, NULL },
	{ "http://:80/x", "a.test", 11, NULL, NULL },
	{ "http://u@h/x", "a.test", 11, NULL, NULL },
	{ "http://u:p@h/x", "a.test", 11, NULL, NULL },
	{ "http://[::1/x", "a.test", 11, NULL, NULL },
	{ "http://[::1]x/", "a.test", 11, NULL, NULL },
	{ "http://[zz]/", "a.test", 11, NULL, NULL },
	{ "http://h%2e/", "a.test", 11, NULL, NULL },
	{ "ftp://h/x", "a.test", 11, NULL, NULL },
	{ "http:/h/x", "a.test", 11, NULL, NULL },
	{ "h/x", "a.test", 11, NULL, NULL },
	{ "h:443", "a.test", 11, NULL, NULL },  /* authority-form */
	/* HTTP/2's :path is origin-form or "*" (RFC 9113 §8.3.1) */
	{ "http://h/x", "a.test", 20, NULL, NULL },
	{ "/v1/../admin", "a.test", 20, "/admin", "a.test" },
	{ "//v1/", "a.test:443", 20, "/v1/", "a.test" },
	/* the authority of Host or :authority */
	{ "/x", "a.test:8080", 11, "/x", "a.test" },
	{ "/x", "A.Test.", 11, "/x", "A.Test." },
	{ "/x", "[::1]:8080", 11, "/x", "::1" },
	{ "/x", "[::ffff:127.0.0.1]", 11, "/x", "::ffff:127.0.0.1" },
	{ "/x", "127.0.0.1:80", 11, "/x", "127.0.0.1" },
	{ "/x", "a.test:", 11, NULL, NULL },
	{ "/x", "a.test:x", 11, NULL, NULL },
	{ "/x", "a.test:123456", 11, NULL, NULL },
	{ "/x", ":80", 11, NULL, NULL },
	{ "/x", "", 11, NULL, NULL },
	/* stands for "/x" without Host; found by fuzz_route: UBSan saw the
	 * end of a NULL authority computed before it was checked */
	{ NULL, NULL, 11, NULL, NULL },
	{ "/x", "a..test", 11, NULL, NULL },
	{ "/x", ".a.test", 11, NULL, NULL },
	{ "/x", "a.test/x", 11, NULL, NULL },
	{ "/x", "u@a.test", 11, NULL, NULL },
	{ "/x", "a.test ", 11, NULL, NULL },
	{ "/x", "[::1", 11, NULL, NULL },
	{ "/x", "::1", 11, NULL, NULL },
	/* "*" is for OPTIONS only (RFC 9112 §3.2.4) */
	{ "*", "a.test", 11, "*", "a.test" },
	{ "*", "a.test", 20, "*", "a.test" },
	{ "**", "a.test", 11, NULL, NULL },
	{ "*/x", "a.test", 11, NULL, NULL },
};

/* The method of row I: OPTIONS for "*" rows, so that GET * is tried in
 * test_route_star_get. */
static const char *
row_method(size_t i)
{
	const char *t = targets[i].target;

	return t != NULL && t[0] == '*' ? "OPTIONS" : "GET";
}

static void
row_head(struct req_head *h, size_t i)
{
	const char *t = targets[i].target, *a = targets[i].authority;

	memset(h, 0, sizeof(*h));
	h->method = row_method(i);
	h->methodlen = (uint32_t)strlen(h->method);
	h->target = t != NULL ? t : "/x";
	h->targetlen = (uint32_t)strlen(h->target);
	h->authority = a;
	h->authoritylen = a != NULL ? (uint32_t)strlen(a) : 0;
	h->version = targets[i].version;
}

START_TEST(test_route_table)
{
	struct route_target rt;
	struct req_head h;
	struct arena a;
	const char *why = NULL;
	int rc;

	arena_init(&a);
	row_head(&h, (size_t)_i);
	rc = route_parse(&h, &a, &rt, &why);
	if (targets[_i].want == NULL) {
		ck_assert_msg(rc == -1, "%s (Host %s): accepted as %.*s",
		    h.target, h.authority, (int)rt.targetlen, rt.target);
		ck_assert_ptr_nonnull(why);
	} else {
		ck_assert_msg(rc == 0, "%s (Host %s): refused: %s", h.target,
		    h.authority, why);
		ck_assert_uint_eq(rt.targetlen, strlen(targets[_i].want));
		ck_assert_mem_eq(rt.target, targets[_i].want, rt.targetlen);
		ck_assert_uint_eq(rt.hostlen, strlen(targets[_i].host));
		ck_assert_mem_eq(rt.host, targets[_i].host, rt.hostlen);
		ck_assert(rt.pathlen <= rt.targetlen);
	}
	arena_fini(&a);
}
END_TEST

/* A normalised target parses to itself (and the fuzzer checks that for
 * any input). */
START_TEST(test_route_fixed_point)
{
	struct route_target rt, again;
	struct req_head h;
	struct arena a;
	const char *why;

	if (targets[_i].want == NULL)
		return;
	arena_init(&a);
	row_head(&h, (size_t)_i);
	ck_assert_int_eq(route_parse(&h, &a, &rt, &why), 0);
	h.target = rt.target;
	h.targetlen = rt.targetlen;
	ck_assert_int_eq(route_parse(&h, &a, &again, &why), 0);
	ck_assert_uint_eq(again.targetlen, rt.targetlen);
	ck_assert_mem_eq(again.target, rt.target, rt.targetlen);
	arena_fini(&a);
}
END_TEST

START_TEST(test_route_star_get)
{
	struct route_target rt;
	struct req_head h;
	struct arena a;
	const char *why;

	arena_init(&a);
	memset(&h, 0, sizeof(h));
	h.method = "GET";
	h.methodlen = 3;
	h.target = "*";
	h.targetlen = 1;
	h.authority = "a.test";
	h.authoritylen = 6;
	h.version = 11;
	ck_assert_int_eq(route_parse(&h, &a, &rt, &why), -1);
	arena_fini(&a);
}
END_TEST

/* The request line carries exactly route.c's target; Host stays the
 * absolute-form authority (RFC 9112 §3.2.2). The bug: "http://h:?/v1/"
 * was routed by "/v1/" and forwarded as "/?/v1/". */
START_TEST(test_route_forwarded_line)
{
	static const char want[] = "GET /admin?q HTTP/1.1\r\nHost: h:80\r\n";
	struct evbuffer *out = evbuffer_new();
	struct route_target rt;
	struct req_head h;
	struct arena a;
	const char *why;
	size_t n;

	arena_init(&a);
	memset(&h, 0, sizeof(h));
	h.method = "GET";
	h.methodlen = 3;
	h.target = "http://h:80/v1/%2e%2e//admin?q";
	h.targetlen = (uint32_t)strlen(h.target);
	h.authority = "other.test";
	h.authoritylen = 10;
	h.version = 11;
	h.content_length = -1;
	ck_assert_int_eq(route_parse(&h, &a, &rt, &why), 0);
	h.fwd_target = rt.target;
	h.fwd_targetlen = rt.targetlen;
	ck_assert_int_eq(headers_write_request(out, &h, NULL, NULL,
	    HEADERS_NO_BODY, 0, false, &why), 0);
	n = evbuffer_get_length(out);
	ck_assert_uint_ge(n, sizeof(want) - 1);
	ck_assert_mem_eq(evbuffer_pullup(out, -1), want, sizeof(want) - 1);
	evbuffer_free(out);
	arena_fini(&a);
}
END_TEST

/* Found by tests/fuzz/fuzz_route.c: strchr() matched the NUL that ends
 * its set of sub-delims, so "a\0" passed as a host (and the head writer
 * then refused what routing had accepted). */
START_TEST(test_route_nul_in_host)
{
	static const char *const authorities[] = { "a\0", "\0a", "a\0:80" };
	static const uint32_t lens[] = { 2, 2, 5 };
	struct route_target rt;
	struct req_head h;
	struct arena a;
	const char *why;
	size_t i;

	arena_init(&a);
	for (i = 0; i < NELEMS(authorities); i++) {
		memset(&h, 0, sizeof(h));
		h.method = "OPTIONS";
		h.methodlen = 7;
		h.target = i == 0 ? "*" : "/x";
		h.targetlen = 1 + (uint32_t)(i > 0);
		h.authority = authorities[i];
		h.authoritylen = lens[i];
		h.version = 11;
		ck_assert_msg(route_parse(&h, &a, &rt, &why) == -1,
		    "authority %zu accepted", i);
	}
	arena_fini(&a);
}
END_TEST

Suite *
route_suite(void)
{
	Suite *s = suite_create("route");
	TCase *tc = tcase_create("targets");

	tcase_add_loop_test(tc, test_route_table, 0, NELEMS(targets));
	tcase_add_loop_test(tc, test_route_fixed_point, 0, NELEMS(targets));
	tcase_add_test(tc, test_route_star_get);
	tcase_add_test(tc, test_route_forwarded_line);
	tcase_add_test(tc, test_route_nul_in_host);
	suite_add_tcase(s, tc);
	return s;
}
