/* tests/integration/test_routing.c: which backend serves a request, and
 * bodies that arrive byte for byte over TCP and unix-socket backends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "client.h"
#include "harness.h"
#include "suites.h"

#define BIG     (10 * 1024 * 1024)

static struct proxy px;

/* ---- bodies: tcp.test goes to origin 0 over TCP, unix.test to origin 1
 * over its unix socket ---- */

static const struct {
	const char *host;
	int origin;
} body_cases[] = {
	{ "tcp.test", 0 },
	{ "unix.test", 1 },
};

static void
start_bodies(void)
{
	memset(&px, 0, sizeof(px));
	proxy_start(&px, "backend tcp { server %s }\n"
	    "backend unix { server %s }\n"
	    "route tcp.test tcp\nroute unix.test unix\nroute * tcp\n",
	    origins[0].tcp, origins[1].unix_addr);
}

/* Downloads PATH with Host HOST into a file; checks it is the pattern. */
static void
download(const char *host, const char *path, uint64_t n)
{
	char dir[HARNESS_DIR], file[HARNESS_PATH], url[256], hdr[128];
	char code[16], got[65], want[65];
	size_t len = 0;
	char *s;

	harness_mkdir(dir, sizeof(dir), "dl");
	snprintf(file, sizeof(file), "%s/body", dir);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", px.port, path);
	snprintf(hdr, sizeof(hdr), "Host: %s", host);
	ck_assert_int_eq(curl(code, sizeof(code), "-o", file, "-w",
	    "%{http_code}", "-H", hdr, url, NULL), 0);
	ck_assert_str_eq(code, "200");
	s = file_read(file, &len);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(len, n);
	sha256_hex(s, len, got);
	free(s);
	sha256_pattern(n, want);
	ck_assert_str_eq(got, want);
}

/* Uploads N pattern bytes to /echo; checks what the origin counted. */
static void
upload(const char *host, uint64_t n, bool is_chunked)
{
	static char out[16384];
	char dir[HARNESS_DIR], file[HARNESS_PATH + 1], url[256], hdr[128];
	char got[128], want[65];

	harness_mkdir(dir, sizeof(dir), "ul");
	snprintf(file, sizeof(file), "@%s/body", dir);
	pattern_file(file + 1, n);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo", px.port);
	snprintf(hdr, sizeof(hdr), "Host: %s", host);
	ck_assert_int_eq(curl(out, sizeof(out), "-H", hdr, "-H",
	    is_chunked ? "Transfer-Encoding: chunked" : "X-Plain: 1",
	    "--data-binary", file, url, NULL), 0);
	ck_assert_msg(json_num(out, "body_length") == (long long)n,
	    "origin says: %.300s", out);
	ck_assert(json_str(out, "body_sha256", got, sizeof(got)));
	sha256_pattern(n, want);
	ck_assert_str_eq(got, want);
}

START_TEST(test_download)
{
	const struct origin *o = &origins[body_cases[_i].origin];
	struct stats before, after;

	start_bodies();
	before = origin_stats(o);
	download(body_cases[_i].host, "/bytes/10485760", BIG);
	after = origin_stats(o);
	ck_assert_int_eq(after.reqs - before.reqs, 1);
	proxy_stop(&px);
}
END_TEST

START_TEST(test_download_chunked)
{
	const struct origin *o = &origins[body_cases[_i].origin];
	struct stats before, after;

	start_bodies();
	before = origin_stats(o);
	download(body_cases[_i].host, "/bytes/10485760?chunked=1", BIG);
	after = origin_stats(o);
	ck_assert_int_eq(after.reqs - before.reqs, 1);
	proxy_stop(&px);
}
END_TEST

START_TEST(test_upload)
{
	const struct origin *o = &origins[body_cases[_i].origin];
	struct stats before, after;

	start_bodies();
	before = origin_stats(o);
	upload(body_cases[_i].host, BIG, false);
	after = origin_stats(o);
	ck_assert_int_eq(after.reqs - before.reqs, 1);
	proxy_stop(&px);
}
END_TEST

START_TEST(test_upload_chunked)
{
	const struct origin *o = &origins[body_cases[_i].origin];
	struct stats before, after;

	start_bodies();
	before = origin_stats(o);
	upload(body_cases[_i].host, BIG, true);
	after = origin_stats(o);
	ck_assert_int_eq(after.reqs - before.reqs, 1);
	proxy_stop(&px);
}
END_TEST

/* ---- routes: backend bN is origin N ---- */

static const char routes[] =
    "backend b0 { server %s }\nbackend b1 { server %s }\n"
    "backend b2 { server %s }\n"
    "route a.test/api/ b0\nroute a.test b1\n"
    "route *.example.test b0\nroute foo.example.test b1\n"
    "route *.sub.example.test b1\n"
    "route w.example.test/only/ b1\n"
    "route * b2\n";

static const struct {
	const char *target;
	const char *host;
	int origin;             /* the one that must serve it */
} route_cases[] = {
	{ "/api/x", "a.test", 0 },
	{ "/api", "a.test", 1 },        /* "/api/" does not prefix "/api" */
	{ "/apix", "a.test", 1 },
	{ "/echo", "a.test", 1 },
	{ "/api/y", "A.Test", 0 },      /* hosts compare without case */
	{ "/api/z", "a.test:8080", 0 }, /* the port is not the host */
	{ "/api/", "a.test.", 0 },      /* nor a trailing dot */
	{ "/echo", "x.example.test", 0 },
	{ "/echo", "a.b.example.test", 0 },
	{ "/echo", "foo.example.test", 1 },     /* exact beats wildcard */
	{ "/echo", "y.sub.example.test", 1 },   /* longest suffix */
	{ "/echo", "example.test", 2 }, /* "*.x" does not match "x" */
	{ "/echo", "other.test", 2 },
	{ "/only/1", "w.example.test", 1 },
	{ "/echo", "w.example.test", 0 },       /* no path: next host */
	{ "http://a.test/api/q", "other.test", 0 },     /* absolute-form */
};

START_TEST(test_route)
{
	struct stats before[HARNESS_ORIGINS], after;
	long got[HARNESS_ORIGINS];
	char req[512];
	struct resp r;
	int i, want = route_cases[_i].origin;

	memset(&px, 0, sizeof(px));
	proxy_start(&px, routes, origins[0].tcp, origins[1].tcp,
	    origins[2].tcp);
	for (i = 0; i < HARNESS_ORIGINS; i++)
		before[i] = origin_stats(&origins[i]);
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n",
	    route_cases[_i].target, route_cases[_i].host);
	rawc_fetch(px.port, req, &r);
	/* the origin answers 404 to paths other than its own */
	ck_assert_msg(r.status == 200 || r.status == 404, "%s -> %s",
	    req, r.head);
	resp_free(&r);
	for (i = 0; i < HARNESS_ORIGINS; i++) {
		after = origin_stats(&origins[i]);
		got[i] = after.reqs - before[i].reqs;
	}
	ck_assert_msg(got[0] == (want == 0) && got[1] == (want == 1) &&
	    got[2] == (want == 2), "Host %s, target %s: origins got %ld, %ld, "
	    "%ld requests; wanted only origin %d", route_cases[_i].host,
	    route_cases[_i].target, got[0], got[1], got[2], want);
	proxy_stop(&px);
}
END_TEST

Suite *
routing_suite(void)
{
	Suite *s = suite_create("routing");
	TCase *tc = tcase_create("bodies");

	tcase_add_unchecked_fixture(tc, harness_setup, harness_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_download, 0, NELEMS(body_cases));
	tcase_add_loop_test(tc, test_download_chunked, 0, NELEMS(body_cases));
	tcase_add_loop_test(tc, test_upload, 0, NELEMS(body_cases));
	tcase_add_loop_test(tc, test_upload_chunked, 0, NELEMS(body_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("routes");
	tcase_add_unchecked_fixture(tc, harness_setup, harness_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_route, 0, NELEMS(route_cases));
	suite_add_tcase(s, tc);
	return s;
}
