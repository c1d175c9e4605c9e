/* tests/integration/test_proxy.c: what portico forwards to the origin and
 * back: forwarded fields, hop-by-hop fields, keep-alive, pipelining,
 * 100-continue, HEAD, HTTP/1.0 and absolute-form targets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <check.h>

#include "client.h"
#include "harness.h"
#include "suites.h"

#define ONE_BACKEND     "backend o { server %s }\nroute * o\n"

static struct proxy px;

static void
start_one(const char *extra)
{
	memset(&px, 0, sizeof(px));
	proxy_start(&px, ONE_BACKEND "%s", origins[0].tcp, extra);
}

/* GET /echo with FIELDS ("Name: v\r\n"...) and Host a.test, raw. */
static void
get_echo(const char *fields, struct resp *r)
{
	char req[4096];

	snprintf(req, sizeof(req), "GET /echo HTTP/1.1\r\nHost: a.test\r\n"
	    "%s\r\n", fields);
	rawc_fetch(px.port, req, r);
	ck_assert_int_eq(r->status, 200);
}

START_TEST(test_get_forwarded_fields)
{
	struct resp r;
	char v[512];

	start_one("");
	rawc_fetch(px.port, "GET /echo?x=1 HTTP/1.1\r\nHost: a.test\r\n"
	    "X-Forwarded-Proto: https\r\n\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(json_str(r.body, "method", v, sizeof(v)));
	ck_assert_str_eq(v, "GET");
	ck_assert(json_str(r.body, "target", v, sizeof(v)));
	ck_assert_str_eq(v, "/echo?x=1");
	ck_assert_int_eq(echo_field(r.body, "Host", v, sizeof(v)), 1);
	ck_assert_str_eq(v, "a.test");
	ck_assert_int_eq(echo_field(r.body, "X-Forwarded-For", v, sizeof(v)),
	    1);
	ck_assert_str_eq(v, "127.0.0.1");
	/* set, not appended: the client does not choose the scheme */
	ck_assert_int_eq(echo_field(r.body, "X-Forwarded-Proto", v,
	    sizeof(v)), 1);
	ck_assert_str_eq(v, "http");
	resp_free(&r);
	proxy_stop(&px);
}
END_TEST

static const struct {
	const char *fields;     /* sent by the client */
	const char *xff;        /* X-Forwarded-For at the origin, one list */
} xff_cases[] = {
	{ "X-Forwarded-For: 1.2.3.4\r\n", "1.2.3.4, 127.0.0.1" },
	{ "X-Forwarded-For: 1.2.3.4\r\nX-Forwarded-For: 5.6.7.8\r\n",
	  "1.2.3.4, 5.6.7.8, 127.0.0.1" },
	{ "x-forwarded-for: 10.0.0.1, 10.0.0.2\r\n",
	  "10.0.0.1, 10.0.0.2, 127.0.0.1" },
};

START_TEST(test_xff_appended)
{
	struct resp r;
	char v[512];

	start_one("");
	get_echo(xff_cases[_i].fields, &r);
	ck_assert_int_gt(echo_joined(r.body, "X-Forwarded-For", v, sizeof(v)),
	    0);
	ck_assert_str_eq(v, xff_cases[_i].xff);
	resp_free(&r);
	proxy_stop(&px);
}
END_TEST

static const struct {
	const char *fields;     /* sent by the client */
	int n;                  /* X-Forwarded-For lines at the origin */
	const char *xff;        /* their value when n > 0 */
} xff_off_cases[] = {
	{ "", 0, NULL },
	{ "X-Forwarded-For: 1.2.3.4\r\n", 1, "1.2.3.4" },
};

START_TEST(test_xff_off)
{
	struct resp r;
	char v[512];

	start_one("x_forwarded_for off\n");
	get_echo(xff_off_cases[_i].fields, &r);
	ck_assert_int_eq(echo_joined(r.body, "X-Forwarded-For", v, sizeof(v)),
	    xff_off_cases[_i].n);
	if (xff_off_cases[_i].n > 0)
		ck_assert_str_eq(v, xff_off_cases[_i].xff);
	/* only X-Forwarded-For is off */
	ck_assert_int_eq(echo_field(r.body, "X-Forwarded-Proto", v,
	    sizeof(v)), 1);
	resp_free(&r);
	proxy_stop(&px);
}
END_TEST

START_TEST(test_post_body)
{
	char out[8192], url[128], v[128], want[65];

	start_one("");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo/post", px.port);
	ck_assert_int_eq(curl(out, sizeof(out), "-H", "Host: a.test",
	    "--data-binary", "hello", url, NULL), 0);
	ck_assert(json_str(out, "method", v, sizeof(v)));
	ck_assert_str_eq(v, "POST");
	ck_assert(json_str(out, "target", v, sizeof(v)));
	ck_assert_str_eq(v, "/echo/post");
	ck_assert_int_eq(echo_field(out, "Host", v, sizeof(v)), 1);
	ck_assert_str_eq(v, "a.test");
	ck_assert_int_eq(json_num(out, "body_length"), 5);
	ck_assert(json_str(out, "body_sha256", v, sizeof(v)));
	sha256_hex("hello", 5, want);
	ck_assert_str_eq(v, want);
	proxy_stop(&px);
}
END_TEST

/* RFC 9110 §7.6.1: fields named in Connection, and the fixed hop-by-hop
 * ones, are for the next hop only. */
static const struct {
	const char *fields;     /* sent by the client with X-Keep: 1 */
	const char *absent;     /* must not reach the origin */
} hop_cases[] = {
	{ "Connection: foo\r\nFoo: x\r\n", "Foo" },
	{ "Connection: keep-alive, Foo, bar\r\nFoo: x\r\nBar: y\r\n", "Bar" },
	{ "Connection: X-Custom\r\nx-custom: 1\r\n", "X-Custom" },
	{ "Keep-Alive: timeout=5\r\n", "Keep-Alive" },
	{ "Proxy-Connection: keep-alive\r\n", "Proxy-Connection" },
	{ "TE: trailers\r\n", "TE" },
	{ "Upgrade: h2c\r\n", "Upgrade" },
};

START_TEST(test_hop_by_hop_request)
{
	char fields[512], v[512];
	struct resp r;

	start_one("");
	snprintf(fields, sizeof(fields), "%sX-Keep: 1\r\n",
	    hop_cases[_i].fields);
	get_echo(fields, &r);
	ck_assert_msg(echo_field(r.body, hop_cases[_i].absent, v,
	    sizeof(v)) == 0, "%s reached the origin: %s",
	    hop_cases[_i].absent, r.body);
	if (echo_joined(r.body, "Connection", v, sizeof(v)) > 0)
		ck_assert_msg(strcasestr(v, "foo") == NULL &&
		    strcasestr(v, "custom") == NULL, "Connection: %s", v);
	ck_assert_int_eq(echo_field(r.body, "X-Keep", v, sizeof(v)), 1);
	resp_free(&r);
	proxy_stop(&px);
}
END_TEST

START_TEST(test_hop_by_hop_response)
{
	static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
	    "Connection: X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\n"
	    "Proxy-Connection: keep-alive\r\nUpgrade: foo\r\n"
	    "X-End: yes\r\n\r\nok";
	static const char *const absent[] = { "X-Hop", "Keep-Alive",
	    "Proxy-Connection", "Upgrade" };
	struct resp r;
	char v[512];
	pid_t fake;
	size_t i;
	int port = fake_start(reply, &fake);

	memset(&px, 0, sizeof(px));
	proxy_start(&px, "backend f { server 127.0.0.1:%d }\nroute * f\n",
	    port);
	rawc_fetch(px.port, "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "ok");
	ck_assert(resp_field(&r, "X-End", v, sizeof(v)));
	ck_assert_str_eq(v, "yes");
	for (i = 0; i < NELEMS(absent); i++)
		ck_assert_msg(!resp_field(&r, absent[i], v, sizeof(v)),
		    "%s reached the client: %s", absent[i], r.head);
	if (resp_field(&r, "Connection", v, sizeof(v)))
		ck_assert_msg(strcasestr(v, "hop") == NULL, "Connection: %s",
		    v);
	resp_free(&r);
	proxy_stop(&px);
	fake_stop(fake);
}
END_TEST

/* Counts the distinct "connection" numbers in curl's bodies, one a line. */
static int
distinct_connections(const char *out, int *nbodies)
{
	long long ids[64];
	int n = 0, i;
	const char *line;

	*nbodies = 0;
	for (line = out; line != NULL && *line != '\0';
	    line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		long long id = json_num(line, "connection");

		if (id < 0)
			continue;
		(*nbodies)++;
		for (i = 0; i < n && ids[i] != id; i++)
			;
		if (i == n && n < (int)NELEMS(ids))
			ids[n++] = id;
	}
	return n;
}

START_TEST(test_keepalive_reuse)
{
	static char urls[50][96], out[65536];
	char *argv[64] = { "/usr/bin/curl", "-s", "--max-time", "60" };
	struct stats before, after;
	int i, n = 4, nbodies;

	start_one("");
	for (i = 0; i < 50; i++) {
		snprintf(urls[i], sizeof(urls[i]),
		    "http://127.0.0.1:%d/echo?i=%d", px.port, i);
		argv[n++] = urls[i];
	}
	before = origin_stats(&origins[0]);
	ck_assert_int_eq(run_argv(argv, out, sizeof(out), NULL, 0, 90000), 0);
	after = origin_stats(&origins[0]);
	ck_assert_int_eq(after.reqs - before.reqs, 50);
	/* 2 workers may each open some; +1 is the stats reader's own */
	ck_assert_int_le(after.conns - before.conns, 4 + 1);
	ck_assert_int_le(distinct_connections(out, &nbodies), 4);
	ck_assert_int_eq(nbodies, 50);
	proxy_stop(&px);
}
END_TEST

START_TEST(test_pipelining)
{
	struct rawc *c;
	struct resp r;
	struct stats before, after;
	char v[256], want[32];
	int i;

	start_one("");
	before = origin_stats(&origins[0]);
	c = rawc_connect(px.port);
	rawc_sends(c, "GET /echo?n=1 HTTP/1.1\r\nHost: a.test\r\n\r\n"
	    "GET /echo?n=2 HTTP/1.1\r\nHost: a.test\r\n\r\n"
	    "GET /echo?n=3 HTTP/1.1\r\nHost: a.test\r\n\r\n");
	for (i = 1; i <= 3; i++) {
		ck_assert_int_eq(rawc_response(c, &r, false, CLIENT_WAIT_MS),
		    0);
		ck_assert_int_eq(r.status, 200);
		ck_assert(json_str(r.body, "target", v, sizeof(v)));
		snprintf(want, sizeof(want), "/echo?n=%d", i);
		ck_assert_str_eq(v, want);
		resp_free(&r);
	}
	rawc_close(c);
	after = origin_stats(&origins[0]);
	ck_assert_int_eq(after.reqs - before.reqs, 3);
	proxy_stop(&px);
}
END_TEST

/* The backend decides on 100 Continue; with a chunked body too: portico
 * gathers a body of unknown length before choosing a backend, but not
 * one the client holds back until it hears 100 Continue (they would wait
 * on each other). */
static const struct {
	const char *framing;    /* the framing field */
	bool is_chunked;
} expects[] = {
	{ "Content-Length: 1000", false },
	{ "Transfer-Encoding: chunked", true },
};

START_TEST(test_expect_continue)
{
	char body[1000], want[65], v[128], head[256];
	struct rawc *c;
	struct resp r;
	int i;

	start_one("");
	c = rawc_connect(px.port);
	snprintf(head, sizeof(head), "POST /echo HTTP/1.1\r\nHost: a.test\r\n"
	    "Expect: 100-continue\r\n%s\r\n\r\n", expects[_i].framing);
	rawc_sends(c, head);
	ck_assert_int_eq(rawc_response(c, &r, false, 5000), 0);
	ck_assert_msg(r.status == 100, "wanted 100 Continue before the body, "
	    "got: %s", r.head);
	resp_free(&r);
	pattern_fill(body, 0, sizeof(body));
	if (expects[_i].is_chunked)
		rawc_sends(c, "3e8\r\n");
	rawc_send(c, body, sizeof(body));
	if (expects[_i].is_chunked)
		rawc_sends(c, "\r\n0\r\n\r\n");
	/* more 1xx may come (RFC 9110 §15.2); the final one is the 200 */
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(rawc_response(c, &r, false, CLIENT_WAIT_MS),
		    0);
		if (r.status >= 200)
			break;
		resp_free(&r);
	}
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(json_num(r.body, "body_length"), 1000);
	ck_assert(json_str(r.body, "body_sha256", v, sizeof(v)));
	sha256_hex(body, sizeof(body), want);
	ck_assert_str_eq(v, want);
	resp_free(&r);
	rawc_close(c);
	proxy_stop(&px);
}
END_TEST

START_TEST(test_head_then_get)
{
	struct rawc *c;
	struct resp r;
	char v[256];

	start_one("");
	c = rawc_connect(px.port);
	rawc_sends(c, "HEAD /bytes/1000 HTTP/1.1\r\nHost: a.test\r\n\r\n");
	ck_assert_int_eq(rawc_response(c, &r, true, CLIENT_WAIT_MS), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert(resp_field(&r, "Content-Length", v, sizeof(v)));
	ck_assert_str_eq(v, "1000");
	resp_free(&r);
	rawc_drain(c, 300);
	ck_assert_msg(c->len == 0 && !c->is_eof, "after HEAD: %zu bytes%s",
	    c->len, c->is_eof ? ", then EOF" : "");
	rawc_sends(c, "GET /echo HTTP/1.1\r\nHost: a.test\r\n\r\n");
	ck_assert_int_eq(rawc_response(c, &r, false, CLIENT_WAIT_MS), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert(json_str(r.body, "target", v, sizeof(v)));
	ck_assert_str_eq(v, "/echo");
	resp_free(&r);
	rawc_close(c);
	proxy_stop(&px);
}
END_TEST

START_TEST(test_http10_closes)
{
	struct rawc *c;
	struct resp r;

	start_one("");
	c = rawc_connect(px.port);
	rawc_sends(c, "GET /echo HTTP/1.0\r\nHost: a.test\r\n\r\n");
	ck_assert_int_eq(rawc_response(c, &r, false, CLIENT_WAIT_MS), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert(r.is_complete);
	ck_assert(strstr(r.body, "\"target\":\"/echo\"") != NULL);
	ck_assert_msg(rawc_wait_eof(c, 3000), "HTTP/1.0 connection stayed "
	    "open");
	resp_free(&r);
	rawc_close(c);
	proxy_stop(&px);
}
END_TEST

/* An HTTP/1.0 request may lack Host; the backend gets the address the
 * client reached (a listener written ":PORT" names no host of its own,
 * and "Host: :PORT" would be refused by route.c). */
START_TEST(test_http10_without_host)
{
	char want[64], *got;
	struct resp r;

	start_one("");
	rawc_fetch(px.port, "GET /echo HTTP/1.0\r\n\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	snprintf(want, sizeof(want), "GET /echo HTTP/1.1\r\nHost: "
	    "127.0.0.1:%d\r\n", px.port);
	got = origin_received_all(&origins[0], NULL);
	ck_assert_msg(strstr(got, want) != NULL, "origin got:\n%s", got);
	free(got);
	proxy_stop(&px);
}
END_TEST

START_TEST(test_http10_keepalive)
{
	struct rawc *c;
	struct resp r;
	char v[128];
	int i;

	start_one("");
	c = rawc_connect(px.port);
	for (i = 0; i < 2; i++) {
		rawc_sends(c, "GET /echo HTTP/1.0\r\nHost: a.test\r\n"
		    "Connection: keep-alive\r\n\r\n");
		ck_assert_int_eq(rawc_response(c, &r, false, CLIENT_WAIT_MS),
		    0);
		ck_assert_int_eq(r.status, 200);
		/* RFC 9112 §9.3: a 1.0 client keeps the connection only if
		 * the response says keep-alive; it needs a length too. */
		ck_assert_msg(resp_field(&r, "Connection", v, sizeof(v)) &&
		    strcasestr(v, "keep-alive") != NULL, "head: %s", r.head);
		ck_assert(resp_field(&r, "Content-Length", v, sizeof(v)));
		resp_free(&r);
	}
	rawc_close(c);
	proxy_stop(&px);
}
END_TEST

START_TEST(test_http10_chunked_backend)
{
	char want[1000], v[128];
	struct rawc *c;
	struct resp r;

	start_one("");
	c = rawc_connect(px.port);
	rawc_sends(c, "GET /bytes/1000?chunked=1 HTTP/1.0\r\nHost: a.test"
	    "\r\n\r\n");
	ck_assert_int_eq(rawc_response(c, &r, false, CLIENT_WAIT_MS), 0);
	ck_assert_int_eq(r.status, 200);
	/* RFC 9112 §7: a 1.0 recipient does not know chunked */
	ck_assert_msg(!resp_field(&r, "Transfer-Encoding", v, sizeof(v)),
	    "Transfer-Encoding: %s to an HTTP/1.0 client", v);
	ck_assert(r.is_complete);
	ck_assert_uint_eq(r.bodylen, 1000);
	pattern_fill(want, 0, sizeof(want));
	ck_assert(memcmp(r.body, want, sizeof(want)) == 0);
	resp_free(&r);
	rawc_close(c);
	proxy_stop(&px);
}
END_TEST

/* RFC 9112 §3.2.2: the target's authority replaces Host. */
static const struct {
	const char *req;
	const char *target;     /* at the origin */
	const char *host;       /* at the origin */
} absolute_cases[] = {
	{ "GET http://a.test/echo HTTP/1.1\r\nHost: a.test\r\n\r\n",
	  "/echo", "a.test" },
	{ "GET http://a.test/echo?q=1 HTTP/1.1\r\nHost: other.test\r\n\r\n",
	  "/echo?q=1", "a.test" },
};

START_TEST(test_absolute_form)
{
	struct resp r;
	char v[256];

	start_one("");
	rawc_fetch(px.port, absolute_cases[_i].req, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(json_str(r.body, "target", v, sizeof(v)));
	ck_assert_str_eq(v, absolute_cases[_i].target);
	ck_assert_int_eq(echo_field(r.body, "Host", v, sizeof(v)), 1);
	ck_assert_str_eq(v, absolute_cases[_i].host);
	resp_free(&r);
	proxy_stop(&px);
}
END_TEST

Suite *
proxy_suite(void)
{
	Suite *s = suite_create("proxy");
	TCase *tc = tcase_create("forwarding");

	tcase_add_unchecked_fixture(tc, harness_setup, harness_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_get_forwarded_fields);
	tcase_add_loop_test(tc, test_xff_appended, 0, NELEMS(xff_cases));
	tcase_add_loop_test(tc, test_xff_off, 0, NELEMS(xff_off_cases));
	tcase_add_test(tc, test_post_body);
	tcase_add_loop_test(tc, test_hop_by_hop_request, 0,
	    NELEMS(hop_cases));
	tcase_add_test(tc, test_hop_by_hop_response);
	tcase_add_test(tc, test_keepalive_reuse);
	tcase_add_test(tc, test_pipelining);
	tcase_add_loop_test(tc, test_expect_continue, 0, NELEMS(expects));
	tcase_add_test(tc, test_head_then_get);
	tcase_add_test(tc, test_http10_closes);
	tcase_add_test(tc, test_http10_without_host);
	tcase_add_test(tc, test_http10_keepalive);
	tcase_add_test(tc, test_http10_chunked_backend);
	tcase_add_loop_test(tc, test_absolute_form, 0,
	    NELEMS(absolute_cases));
	suite_add_tcase(s, tc);
	return s;
}
