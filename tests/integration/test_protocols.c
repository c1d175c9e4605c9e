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

/* ---- 413 over client_max_body_size: the origin sees nothing ---- */

/* The :status nghttp sees for a POST of BODYLEN bytes over PROTO (h2
 * only): curl 7.88 reports the RST_STREAM NO_ERROR that follows an
 * early response (RFC 9113 §8.1) as a stream error and drops the
 * response; nghttp, like browsers, keeps it. */
static int
h2_post_status(enum proto proto, const char *body, size_t bodylen)
{
	char url[128], out[16384], err[4096];
	char path[] = "/tmp/portico-h2post-XXXXXX";
	char *argv[] = { "/usr/bin/nghttp", "-v", "-d", path, "-H", ":authority: a.test",
	    "-H", "x-row: big", url, NULL };
	const char *at;
	int fd = mkstemp(path);

	ck_assert_int_ne(fd, -1);
	ck_assert(write(fd, body, bodylen) == (ssize_t)bodylen);
	close(fd);
	snprintf(url, sizeof(url), "%s://127.0.0.1:%d/echo",
	    proto == P_H2TLS ? "https" : "http",
	    proto == P_H2TLS ? px.tls_port : px.port);
	run_argv(argv, out, sizeof(out), err, sizeof(err), 10000);
	unlink(path);
	at = strstr(out, ":status: ");
	return at != NULL ? atoi(at + 9) : 0;
}

START_TEST(test_body_too_large)
{
	static const char *const with_len[] = { HOST_A, "X-Row: big",
	    "Expect:", NULL };
	static const char *const no_len[] = { HOST_A, "X-Row: big",
	    "Expect:", "Transfer-Encoding: chunked", NULL };
	const char *const *rows[] = { with_len, no_len };
	char body[8192];
	struct resp r;
	size_t k;

	/* declared (Content-Length), then only as the body comes (chunked
	 * over HTTP/1.1, DATA without content-length over HTTP/2) */
	start_one("client_max_body_size 1k\n");
	memset(body, 'x', sizeof(body));
	for (k = 0; k < NELEMS(rows); k++) {
		if (k == 0 && proto_is_h2(_i)) {
			r.status = h2_post_status(_i, body, sizeof(body));
			ck_assert_msg(r.status == 413, "over %s, declared: "
			    "status %d", proto_names[_i], r.status);
		} else {
			proto_request(_i, &px, "POST", "/echo", rows[k], body,
			    sizeof(body), &r);
			ck_assert_msg(r.status == 413, "over %s, row %zu: "
			    "status %d", proto_names[_i], k, r.status);
			resp_free(&r);
		}
		ck_assert_int_eq(origin_count(&origins[0], "X-Row: big"), 0);
		ck_assert_int_eq(origin_count(&origins[0], "x-row: big"), 0);
	}
	proxy_stop(&px);
}
END_TEST

/* ---- statuses made by portico ---- */

static void
expect_status(enum proto proto, const char *path, int status)
{
	static const char *const h[] = { HOST_A, NULL };
	struct resp r;

	proto_request(proto, &px, "GET", path, h, NULL, 0, &r);
	ck_assert_msg(r.status == status, "GET %s over %s: wanted %d, got %d",
	    path, proto_names[proto], status, r.status);
	resp_free(&r);
}

START_TEST(test_backend_refused)
{
	proto_proxy_start(&px, 0, "backend dead { server 127.0.0.1:%d }\n"
	    "route * dead\n", free_port());
	expect_status(_i, "/echo", 502);
	proxy_stop(&px);
}
END_TEST

START_TEST(test_backend_read_timeout)
{
	start_one("backend_read_timeout 1s\n");
	expect_status(_i, "/slow?ms=3000", 504);
	ck_assert_int_eq(origin_count(&origins[0], "GET /slow?ms=3000 "), 1);
	proxy_stop(&px);
}
END_TEST

START_TEST(test_backend_bad)
{
	start_one("");
	expect_status(_i, "/bad", 502);         /* "HTTP/1.1 2x0 Nope" */
	expect_status(_i, "/close", 502);       /* closes without a response */
	proxy_stop(&px);
}
END_TEST

/* ---- a stale pooled connection: retried once when idempotent ---- */

/* One worker, so that both requests meet the same pool. */
START_TEST(test_stale_retry)
{
	static const char *const h[] = { HOST_A, NULL };
	struct stats before, after;
	long armed, fresh;
	struct resp r;

	proto_proxy_start(&px, 1, ONE_BACKEND, origins[0].tcp);
	before = origin_stats(&origins[0]);
	proto_request(_i, &px, "GET", "/close-next", h, NULL, 0, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(sscanf(r.body, "armed %ld", &armed) == 1);
	resp_free(&r);
	proto_request(_i, &px, "GET", "/echo", h, NULL, 0, &r);
	ck_assert_msg(r.status == 200, "over %s: %d", proto_names[_i],
	    r.status);
	fresh = (long)json_num(r.body, "connection");
	ck_assert_msg(fresh > armed, "the retry must use a fresh connection "
	    "(armed %ld, served on %ld)", armed, fresh);
	resp_free(&r);
	after = origin_stats(&origins[0]);
	/* /close-next, the dropped /echo, the retried /echo */
	ck_assert_int_eq(after.reqs - before.reqs, 3);

	/* with a body: not retried, as nothing tells whether the backend
	 * acted on it */
	proto_request(_i, &px, "GET", "/close-next", h, NULL, 0, &r);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	proto_request(_i, &px, "POST", "/echo", h, "hello", 5, &r);
	ck_assert_msg(r.status == 502, "POST over %s: %d", proto_names[_i],
	    r.status);
	resp_free(&r);
	proxy_stop(&px);
}
END_TEST

/* ---- the access log: one line per request, whatever the protocol ---- */

START_TEST(test_access_log)
{
	static const struct {
		const char *target;
		int status;
	} rows[] = { { "/echo?log=1", 200 }, { "/slow?ms=3000", 504 },
	    { "/bad", 502 } };
	char *line, v[256];
	size_t k;

	start_one("backend_read_timeout 1s\n");
	for (k = 0; k < NELEMS(rows); k++)
		expect_status(_i, rows[k].target, rows[k].status);
	proxy_stop(&px);
	for (k = 0; k < NELEMS(rows); k++) {
		line = access_line(&px, rows[k].target);
		ck_assert_msg(line != NULL, "no line for %s over %s",
		    rows[k].target, proto_names[_i]);
		ck_assert_int_eq(json_num(line, "status"), rows[k].status);
		ck_assert(json_str(line, "method", v, sizeof(v)));
		ck_assert_str_eq(v, "GET");
		ck_assert(json_str(line, "client", v, sizeof(v)));
		ck_assert_str_eq(v, "127.0.0.1");
		ck_assert(json_str(line, "protocol", v, sizeof(v)));
		ck_assert_msg(strncmp(v, proto_is_h2(_i) ? "HTTP/2" :
		    "HTTP/1.1", proto_is_h2(_i) ? 6 : 8) == 0, "protocol %s "
		    "over %s", v, proto_names[_i]);
		ck_assert(json_str(line, "upstream", v, sizeof(v)));
		ck_assert_str_eq(v, origins[0].tcp);
		free(line);
	}
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
	tcase_add_loop_test(tc, test_body_too_large, 0, P_COUNT);
	tcase_add_loop_test(tc, test_backend_refused, 0, P_COUNT);
	tcase_add_loop_test(tc, test_backend_read_timeout, 0, P_COUNT);
	tcase_add_loop_test(tc, test_backend_bad, 0, P_COUNT);
	tcase_add_loop_test(tc, test_stale_retry, 0, P_COUNT);
	tcase_add_loop_test(tc, test_access_log, 0, P_COUNT);
	suite_add_tcase(s, tc);
	return s;
}
