/* tests/integration/test_protocols.c: the forwarding rows of the proxy,
 * errors and routing suites, each run over HTTP/1.1, TLS HTTP/1.1, TLS
 * HTTP/2 and h2c (the loop index is the enum proto), asserting what the
 * origin received as well as what the client got. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>

#include <check.h>

#include "client.h"
#include "harness.h"
#include "proto.h"
#include "suites.h"

#define ONE_BACKEND     "backend o { server %s }\nroute * o\n"
#define HOST_A          "Host: a.test"

static struct proxy px;

static void
start_one(const char *extra)
{
	proto_proxy_start(&px, 0, ONE_BACKEND "%s", origins[0].tcp, extra);
}

/* ---- forwarded fields, Host from Host or :authority ---- */

START_TEST(test_forwarded)
{
	static const char *const h[] = { HOST_A, "X-Forwarded-For: 1.2.3.4",
	    "X-Forwarded-Proto: ftp", "X-Row: fwd", NULL };
	struct resp r;
	char v[512], *head;

	start_one("");
	proto_request(_i, &px, "GET", "/echo?x=1", h, NULL, 0, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(json_str(r.body, "target", v, sizeof(v)));
	ck_assert_str_eq(v, "/echo?x=1");
	ck_assert_int_gt(echo_joined(r.body, "X-Forwarded-For", v, sizeof(v)),
	    0);
	ck_assert_str_eq(v, "1.2.3.4, 127.0.0.1");
	/* set, not appended: the client does not choose the scheme */
	ck_assert_int_eq(echo_field(r.body, "X-Forwarded-Proto", v,
	    sizeof(v)), 1);
	ck_assert_str_eq(v, proto_is_tls(_i) ? "https" : "http");
	/* the bytes: one Host line, from Host (h1) or :authority (h2) */
	head = origin_head(&origins[0], "GET /echo?x=1 HTTP/1.1\r\n");
	ck_assert_int_eq(str_count(head, "\r\nHost: a.test\r\n"), 1);
	ck_assert_int_eq(str_count(head, "\r\nHost:"), 1);
	ck_assert_int_eq(str_count(head, "\r\nX-Forwarded-For: 1.2.3.4, "
	    "127.0.0.1\r\n") + str_count(head, "\r\nX-Forwarded-For: "
	    "1.2.3.4\r\n"), 1);
	free(head);
	resp_free(&r);
	proxy_stop(&px);
}
END_TEST

/* ---- hop-by-hop request fields (RFC 9110 §7.6.1) ---- */

START_TEST(test_hop_by_hop_request)
{
	/* curl leaves out of HTTP/2 the connection-specific fields it may
	 * not send there (RFC 9113 §8.2.2) but for "TE: trailers", so over
	 * h2 only TE reaches portico, and Foo is no longer nominated */
	static const char *const h[] = { HOST_A, "Connection: foo",
	    "Foo: x", "Keep-Alive: timeout=5", "Proxy-Connection: keep-alive",
	    "TE: trailers", "Upgrade: h2c", "X-Keep: 1", NULL };
	static const char *const absent[] = { "Keep-Alive", "TE", "Upgrade",
	    "Proxy-Connection", "Transfer-Encoding" };
	struct resp r;
	char v[512];
	size_t i;

	start_one("");
	proto_request(_i, &px, "GET", "/echo", h, NULL, 0, &r);
	ck_assert_int_eq(r.status, 200);
	for (i = 0; i < NELEMS(absent); i++)
		ck_assert_msg(echo_field(r.body, absent[i], v, sizeof(v)) == 0,
		    "%s reached the origin over %s: %s", absent[i],
		    proto_names[_i], r.body);
	ck_assert_int_eq(echo_field(r.body, "Foo", v, sizeof(v)),
	    proto_is_h2(_i) ? 1 : 0);
	if (echo_joined(r.body, "Connection", v, sizeof(v)) > 0)
		ck_assert_msg(strcasestr(v, "foo") == NULL, "Connection: %s",
		    v);
	ck_assert_int_eq(echo_field(r.body, "X-Keep", v, sizeof(v)), 1);
	ck_assert_int_eq(origin_count(&origins[0], "\r\nTE:"), 0);
	ck_assert_int_eq(origin_count(&origins[0], "\r\nKeep-Alive:"), 0);
	resp_free(&r);
	proxy_stop(&px);
}
END_TEST

/* ---- hop-by-hop response fields ---- */

START_TEST(test_hop_by_hop_response)
{
	static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
	    "Connection: X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\n"
	    "Proxy-Connection: keep-alive\r\nUpgrade: foo\r\n"
	    "X-End: yes\r\n\r\nok";
	static const char *const absent[] = { "X-Hop", "Keep-Alive",
	    "Proxy-Connection", "Upgrade", "Connection" };
	static const char *const h[] = { HOST_A, NULL };
	struct resp r;
	char v[512];
	pid_t fake;
	size_t i;
	int port = fake_start(reply, &fake);

	proto_proxy_start(&px, 0, "backend f { server 127.0.0.1:%d }\n"
	    "route * f\n", port);
	proto_request(_i, &px, "GET", "/", h, NULL, 0, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "ok");
	ck_assert(resp_field(&r, "X-End", v, sizeof(v)));
	ck_assert_str_eq(v, "yes");
	for (i = 0; i < NELEMS(absent); i++) {
		/* h1 may say its own Connection: keep-alive or close */
		if (!proto_is_h2(_i) && strcmp(absent[i], "Connection") == 0)
			continue;
		ck_assert_msg(!resp_field(&r, absent[i], v, sizeof(v)),
		    "%s reached the client over %s", absent[i],
		    proto_names[_i]);
	}
	resp_free(&r);
	proxy_stop(&px);
	fake_stop(fake);
}
END_TEST

/* ---- request bodies, byte for byte ---- */

static const size_t body_sizes[] = { 1, 5000, 100000, 300000 };

START_TEST(test_body_length)
{
	static const char *const h[] = { HOST_A, "Expect:", NULL };
	char want[65], v[128], cl[64];
	size_t n, k;
	struct resp r;
	char *body;

	start_one("");
	for (k = 0; k < NELEMS(body_sizes); k++) {
		n = body_sizes[k];
		body = malloc(n);
		pattern_fill(body, 0, n);
		proto_request(_i, &px, "POST", "/echo", h, body, n, &r);
		ck_assert_int_eq(r.status, 200);
		ck_assert_int_eq(json_num(r.body, "body_length"), (long long)n);
		ck_assert(json_str(r.body, "body_sha256", v, sizeof(v)));
		sha256_hex(body, n, want);
		ck_assert_str_eq(v, want);
		/* curl sends content-length over h2 too: portico passes it */
		snprintf(cl, sizeof(cl), "\r\nContent-Length: %zu\r\n", n);
		ck_assert_int_eq(origin_count(&origins[0], cl), 1);
		free(body);
		resp_free(&r);
	}
	ck_assert_int_eq(origin_count(&origins[0], "Transfer-Encoding"), 0);
	proxy_stop(&px);
}
END_TEST

/* Without a length: chunked over h1 (curl chunks the body when told
 * Transfer-Encoding: chunked), DATA frames without content-length over h2
 * (curl then leaves content-length out and drops the field). portico
 * gathers a small body and sends it with a Content-Length, a larger one
 * chunked: either way one framing, and the same bytes. */
START_TEST(test_body_no_length)
{
	static const char *const h[] = { HOST_A, "Expect:",
	    "Transfer-Encoding: chunked", NULL };
	char want[65], v[128], line[64], *head;
	size_t n, k;
	struct resp r;
	char *body;
	int framings;

	start_one("");
	for (k = 0; k < NELEMS(body_sizes); k++) {
		n = body_sizes[k];
		body = malloc(n);
		pattern_fill(body, 0, n);
		proto_request(_i, &px, "POST", "/echo", h, body, n, &r);
		ck_assert_int_eq(r.status, 200);
		ck_assert_int_eq(json_num(r.body, "body_length"), (long long)n);
		ck_assert(json_str(r.body, "body_sha256", v, sizeof(v)));
		sha256_hex(body, n, want);
		ck_assert_str_eq(v, want);
		snprintf(line, sizeof(line), "POST /echo HTTP/1.1\r\n");
		head = origin_head(&origins[0], line);
		framings = str_count(head, "\r\nContent-Length:") +
		    str_count(head, "\r\nTransfer-Encoding: chunked\r\n");
		ck_assert_msg(framings == 1, "%zu bytes over %s: %d framings in "
		    "%s", n, proto_names[_i], framings, head);
		free(head);
		free(body);
		resp_free(&r);
	}
	proxy_stop(&px);
}
END_TEST

/* Response bodies from a Content-Length and a chunked backend: the same
 * bytes over every protocol; over h2 no Transfer-Encoding field (RFC
 * 9113 §8.2.2), over h1 the client sees one framing. */
START_TEST(test_response_body)
{
	static const char *const paths[] = { "/bytes/200000",
	    "/bytes/200000?chunked=1" };
	static const char *const h[] = { HOST_A, NULL };
	char want[65], got[65], v[64];
	struct resp r;
	size_t k;

	start_one("");
	sha256_pattern(200000, want);
	for (k = 0; k < NELEMS(paths); k++) {
		proto_request(_i, &px, "GET", paths[k], h, NULL, 0, &r);
		ck_assert_int_eq(r.status, 200);
		ck_assert_msg(r.bodylen == 200000, "%s over %s: %zu bytes",
		    paths[k], proto_names[_i], r.bodylen);
		sha256_hex(r.body, r.bodylen, got);
		ck_assert_str_eq(got, want);
		if (proto_is_h2(_i))
			ck_assert_msg(!resp_field(&r, "Transfer-Encoding", v,
			    sizeof(v)), "%s over %s: transfer-encoding %s",
			    paths[k], proto_names[_i], v);
		else
			ck_assert(resp_field(&r, "Content-Length", v,
			    sizeof(v)) != resp_field(&r, "Transfer-Encoding",
			    v, sizeof(v)));
		resp_free(&r);
	}
	proxy_stop(&px);
}
END_TEST

/* ---- bodiless responses: HEAD, 204, 304 ---- */

static const struct {
	const char *method, *path;
	int status;
} bodiless[] = {
	{ "HEAD", "/bytes/1000", 200 },
	{ "GET", "/status/204", 204 },
	{ "GET", "/status/304", 304 },
};

START_TEST(test_bodiless)
{
	static const char *const h[] = { HOST_A, NULL };
	char line[128];
	struct resp r;
	size_t k;

	start_one("");
	for (k = 0; k < NELEMS(bodiless); k++) {
		proto_request(_i, &px, bodiless[k].method, bodiless[k].path, h,
		    NULL, 0, &r);
		ck_assert_msg(r.status == bodiless[k].status, "%s %s over %s: "
		    "%d", bodiless[k].method, bodiless[k].path,
		    proto_names[_i], r.status);
		ck_assert_msg(r.bodylen == 0, "%s %s over %s: %zu body bytes",
		    bodiless[k].method, bodiless[k].path, proto_names[_i],
		    r.bodylen);
		resp_free(&r);
		snprintf(line, sizeof(line), "%s %s HTTP/1.1\r\n",
		    bodiless[k].method, bodiless[k].path);
		ck_assert_int_eq(origin_count(&origins[0], line), 1);
	}
	proxy_stop(&px);
}
END_TEST

/* Each row is a loop test over enum proto; every row gets fresh origins
 * (their records count from zero) through a checked fixture. */
Suite *
protocols_suite(void)
{
	Suite *s = suite_create("protocols");
	TCase *tc = tcase_create("rows");

	tcase_add_checked_fixture(tc, harness_setup, NULL);
	tcase_add_checked_fixture(tc, harness_certs, harness_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_forwarded, 0, P_COUNT);
	tcase_add_loop_test(tc, test_hop_by_hop_request, 0, P_COUNT);
	tcase_add_loop_test(tc, test_hop_by_hop_response, 0, P_COUNT);
	tcase_add_loop_test(tc, test_body_length, 0, P_COUNT);
	tcase_add_loop_test(tc, test_body_no_length, 0, P_COUNT);
	tcase_add_loop_test(tc, test_response_body, 0, P_COUNT);
	tcase_add_loop_test(tc, test_bodiless, 0, P_COUNT);
	suite_add_tcase(s, tc);
	return s;
}
