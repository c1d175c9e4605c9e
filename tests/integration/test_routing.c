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

/* ---- hostile targets (issue 11): "route api.test/v1/ a" (and
 * "[::1]/v6/") and "route * b"; backend a is origin 0, b origin 1. The
 * bug: "http://api.test:?/v1/" was routed by "/v1/" and forwarded as
 * "/?/v1/", and "/v1/../admin" went to a as it was. Now one parse picks
 * the route and is forwarded. ---- */

#define ROW_H1_ONLY     1       /* curl cannot send it over HTTP/2 */

static const struct {
	const char *target;
	const char *host;       /* Host / :authority */
	int origin;             /* 0 a, 1 b, -1 refused with a 400 */
	const char *want;       /* the request line's target at the origin */
	int flags;
} hostile_routes[] = {
	{ "/v1/x", "api.test", 0, "/v1/x", 0 },
	{ "/v1/../admin", "api.test", 1, "/admin", 0 },
	{ "/v1/%2e%2e/admin", "api.test", 1, "/admin", 0 },
	{ "/v1/%2E%2e/admin", "api.test", 1, "/admin", 0 },
	{ "/v1/%2fadmin", "api.test", -1, NULL, 0 },
	{ "/v1/%2F..%2Fadmin", "api.test", -1, NULL, 0 },
	{ "//v1/", "api.test", 0, "/v1/", 0 },
	{ "/v1/./x", "api.test", 0, "/v1/x", 0 },
	{ "/v1/.", "api.test", 0, "/v1/", 0 },
	{ "/v1/..", "api.test", 1, "/", 0 },
	{ "/x/../v1/y", "api.test", 0, "/v1/y", 0 },
	{ "/%76%31/y", "api.test", 0, "/v1/y", 0 },
	{ "/a/b/../../..", "api.test", -1, NULL, 0 },
	{ "/../x", "api.test", -1, NULL, 0 },
	{ "/v1/..;/admin", "api.test", -1, NULL, 0 },
	{ "/v1/?x=/../", "api.test", 0, "/v1/?x=/../", 0 },
	{ "/v1/../?x=/v1/", "api.test", 1, "/?x=/v1/", 0 },
	{ "/v1/x", "api.test:8080", 0, "/v1/x", 0 },
	{ "/v1/x", "API.test.", 0, "/v1/x", 0 },
	{ "/v1/x", "api.test:", -1, NULL, 0 },
	{ "/v1/x", "api.test:abc", -1, NULL, 0 },
	{ "/v1/x", "api.test:99999", -1, NULL, 0 },
	{ "/v1/x", "other.test", 1, "/v1/x", 0 },
	{ "*", "api.test", 1, "*", ROW_H1_ONLY },       /* OPTIONS */
	{ "/v1/a b", "api.test", -1, NULL, ROW_H1_ONLY },
	{ "/v1/#x", "api.test", -1, NULL, ROW_H1_ONLY },
	{ "/v1/\x01", "api.test", -1, NULL, ROW_H1_ONLY },
	{ "http://api.test/v1/x", "other.test", 0, "/v1/x", ROW_H1_ONLY },
	{ "http://api.test", "other.test", 1, "/", ROW_H1_ONLY },
	{ "http://api.test:80/v1/x", "other.test", 0, "/v1/x", ROW_H1_ONLY },
	{ "http://api.test/v1/../admin", "other.test", 1, "/admin",
	  ROW_H1_ONLY },
	{ "https://api.test//v1/", "other.test", 0, "/v1/", ROW_H1_ONLY },
	{ "http://api.test:?/v1/", "other.test", -1, NULL, ROW_H1_ONLY },
	{ "http://api.test:/v1/", "other.test", -1, NULL, ROW_H1_ONLY },
	{ "http://api.test:abc/v1/", "other.test", -1, NULL, ROW_H1_ONLY },
	{ "http://api.test:99999/v1/", "other.test", -1, NULL, ROW_H1_ONLY },
	{ "http://[::1]:8080/x", "api.test", 1, "/x", ROW_H1_ONLY },
	/* conf.c keeps an IPv6 route's brackets: they match again */
	{ "http://[::1]:8080/v6/x", "api.test", 0, "/v6/x", ROW_H1_ONLY },
	{ "/v6/x", "[::1]:8080", 0, "/v6/x", 0 },
	{ "/v6/x", "[::1", -1, NULL, 0 },
	{ "http://u@api.test/v1/", "other.test", -1, NULL, ROW_H1_ONLY },
};

enum hostile_proto {
	OVER_H1, OVER_H2C, OVER_H2_TLS,
	OVER_H2C_RAW, OVER_H2_TLS_RAW,  /* route_h2.py */
};

/* The marker of row I over PROTO, sent as "X-Row: N". */
static int
row_marker(int i, enum hostile_proto proto)
{
	return (int)proto * 1000 + i;
}

static void
start_hostile_routes(void)
{
	memset(&px, 0, sizeof(px));
	proxy_start_tls(&px, "%sbackend a { server %s }\n"
	    "backend b { server %s }\n"
	    "route api.test/v1/ a\nroute [::1]/v6/ a\nroute * b\n",
	    harness_tls_block(NULL), origins[0].tcp, origins[1].tcp);
}

/* Row I over HTTP/1.1 on a raw socket; the status the client got. */
static int
send_h1(int i, int marker)
{
	const char *t = hostile_routes[i].target;
	char req[512];
	struct resp r;
	int status;

	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: %s\r\n"
	    "X-Row: %d\r\nConnection: close\r\n\r\n",
	    t[0] == '*' ? "OPTIONS" : "GET", t, hostile_routes[i].host,
	    marker);
	rawc_fetch(px.port, req, &r);
	status = r.status;
	resp_free(&r);
	return status;
}

/* Row I with curl over h2c (prior knowledge) or TLS h2 (ALPN). */
static int
send_h2(int i, int marker, bool is_tls)
{
	char url[512], host[128], row[64], resolve[64], out[64];

	snprintf(host, sizeof(host), "Host: %s", hostile_routes[i].host);
	snprintf(row, sizeof(row), "X-Row: %d", marker);
	snprintf(resolve, sizeof(resolve), "a.test:%d:127.0.0.1",
	    px.tls_port);
	if (is_tls)
		snprintf(url, sizeof(url), "https://a.test:%d%s", px.tls_port,
		    hostile_routes[i].target);
	else
		snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", px.port,
		    hostile_routes[i].target);
	ck_assert_int_eq(curl(out, sizeof(out), "--path-as-is", "-o",
	    "/dev/null", "-w", "%{http_version} %{http_code}", "-H", host,
	    "-H", row, "-k",
	    is_tls ? "--http2" : "--http2-prior-knowledge", "--resolve",
	    resolve, url, NULL), 0);
	ck_assert_msg(strncmp(out, "2 ", 2) == 0, "%s: not HTTP/2: %s", url,
	    out);
	return atoi(out + 2);
}

/* How many heads in ALL carry "X-Row: MARKER" (any case: h2 names come
 * lower-cased); the request line of the last one into LINE. Heads are
 * contiguous: the GETs have no body. */
static int
find_row(const char *all, int marker, char *line, size_t cap)
{
	char needle[32];
	const char *p = all, *hit, *start, *eol;
	int n = 0;

	snprintf(needle, sizeof(needle), "\r\nX-Row: %d\r\n", marker);
	line[0] = '\0';
	while ((hit = strcasestr(p, needle)) != NULL) {
		n++;
		for (start = hit; start > all && !(start - all >= 4 &&
		    memcmp(start - 4, "\r\n\r\n", 4) == 0); start--)
			;
		eol = strstr(start, "\r\n");
		snprintf(line, cap, "%.*s", (int)(eol - start), start);
		p = hit + strlen(needle);
	}
	return n;
}

/* Which origin got row I's marker, and its request line, byte for byte. */
static void
assert_row_reached(int i, int marker, int status)
{
	const char *t = hostile_routes[i].target;
	int want = hostile_routes[i].origin, o, n;
	char line[512], expect[512];
	size_t len;
	char *all;

	if (want < 0)
		ck_assert_msg(status == 400, "%s (Host %s): status %d, want 400",
		    t, hostile_routes[i].host, status);
	else
		ck_assert_msg(status == 200 || status == 404, "%s (Host %s): "
		    "status %d", t, hostile_routes[i].host, status);
	for (o = 0; o < 2; o++) {
		all = origin_received_all(&origins[o], &len);
		n = find_row(all, marker, line, sizeof(line));
		free(all);
		ck_assert_msg(n == (o == want), "%s (Host %s): origin %d got "
		    "it %d times, wanted origin %d", t, hostile_routes[i].host,
		    o, n, want);
		if (o != want)
			continue;
		snprintf(expect, sizeof(expect), "%s %s HTTP/1.1",
		    t[0] == '*' ? "OPTIONS" : "GET", hostile_routes[i].want);
		ck_assert_msg(strcmp(line, expect) == 0, "%s (Host %s): origin "
		    "got \"%s\", want \"%s\"", t, hostile_routes[i].host, line,
		    expect);
	}
}

static void
run_hostile_routes(enum hostile_proto proto)
{
	int i, marker, status;

	start_hostile_routes();
	for (i = 0; i < (int)NELEMS(hostile_routes); i++) {
		if (proto != OVER_H1 &&
		    (hostile_routes[i].flags & ROW_H1_ONLY))
			continue;
		marker = row_marker(i, proto);
		if (proto == OVER_H1)
			status = send_h1(i, marker);
		else
			status = send_h2(i, marker, proto == OVER_H2_TLS);
		assert_row_reached(i, marker, status);
	}
	proxy_stop(&px);
}

START_TEST(test_hostile_route_h1)
{
	run_hostile_routes(OVER_H1);
}
END_TEST

START_TEST(test_hostile_route_h2c)
{
	run_hostile_routes(OVER_H2C);
}
END_TEST

START_TEST(test_hostile_route_h2_tls)
{
	run_hostile_routes(OVER_H2_TLS);
}
END_TEST

/* ---- the same over HTTP/2 with what curl will not send: the :path and
 * :authority bytes as given (route_h2.py) ---- */

#define ROUTE_H2        "tests/integration/route_h2.py"
#define ROUTE_H2_MS     60000

static const struct {
	const char *method;
	const char *authority;
	const char *path;
	int origin;             /* 0 a, 1 b, -1 refused (400 or a reset) */
	const char *want;       /* the request line's target at the origin */
} h2_raw_routes[] = {
	/* RFC 9113 §8.3.1: :path is origin-form or "*" */
	{ "GET", "api.test", "http://api.test/v1/x", -1, NULL },
	{ "GET", "api.test", "http://api.test:?/v1/", -1, NULL },
	{ "GET", "api.test", "*", -1, NULL },
	{ "OPTIONS", "api.test", "*", 1, "*" },
	{ "GET", "api.test", "/v1/a b", -1, NULL },
	{ "GET", "api.test", "/v1/#x", -1, NULL },
	{ "GET", "api.test", "/v1/\\..\\admin", -1, NULL },
	{ "GET", "api.test", "/v1/%2fadmin", -1, NULL },
	{ "GET", "api.test", "/v1/%2e%2e/admin", 1, "/admin" },
	{ "GET", "api.test", "//v1//x/./", 0, "/v1/x/" },
	{ "GET", "api.test:", "/v1/x", -1, NULL },
	{ "GET", "api.test:99999", "/v1/x", -1, NULL },
	{ "GET", "u@api.test", "/v1/x", -1, NULL },
	{ "GET", "[::1]:443", "/v6/y", 0, "/v6/y" },
};

static void
run_h2_raw_routes(bool is_tls)
{
	char port[16], tls[2], rows[NELEMS(h2_raw_routes)][128], key[16];
	char *argv[NELEMS(h2_raw_routes) + 5];
	char out[4096], err[4096], line[512], expect[512];
	const char *got;
	size_t i, len;
	int rc, o, n, marker;
	char *all;

	start_hostile_routes();
	snprintf(port, sizeof(port), "%d", is_tls ? px.tls_port : px.port);
	snprintf(tls, sizeof(tls), "%d", is_tls);
	argv[0] = "/usr/bin/python3";
	argv[1] = ROUTE_H2;
	argv[2] = port;
	argv[3] = tls;
	for (i = 0; i < NELEMS(h2_raw_routes); i++) {
		snprintf(rows[i], sizeof(rows[i]), "%d %s %s %s",
		    row_marker((int)i, is_tls ?
		    OVER_H2_TLS_RAW : OVER_H2C_RAW), h2_raw_routes[i].method,
		    h2_raw_routes[i].authority, h2_raw_routes[i].path);
		argv[4 + i] = rows[i];
	}
	argv[4 + i] = NULL;
	rc = run_argv(argv, out, sizeof(out), err, sizeof(err), ROUTE_H2_MS);
	ck_assert_msg(rc == 0, "route_h2.py: exit %d\n%s\n%s", rc, out, err);
	for (i = 0; i < NELEMS(h2_raw_routes); i++) {
		marker = row_marker((int)i, is_tls ?
		    OVER_H2_TLS_RAW : OVER_H2C_RAW);
		snprintf(key, sizeof(key), "r%d", marker);
		got = kv(out, key);
		if (h2_raw_routes[i].origin < 0)
			ck_assert_msg(strcmp(got, "400") == 0 ||
			    strcmp(got, "reset") == 0, ":path %s (:authority "
			    "%s): %s, want 400 or a reset",
			    h2_raw_routes[i].path, h2_raw_routes[i].authority,
			    got);
		else
			ck_assert_msg(strcmp(got, "200") == 0 ||
			    strcmp(got, "404") == 0, ":path %s: %s",
			    h2_raw_routes[i].path, got);
		for (o = 0; o < 2; o++) {
			all = origin_received_all(&origins[o], &len);
			n = find_row(all, marker, line, sizeof(line));
			free(all);
			ck_assert_msg(n == (o == h2_raw_routes[i].origin),
			    ":path %s (:authority %s): origin %d got it %d "
			    "times, wanted origin %d", h2_raw_routes[i].path,
			    h2_raw_routes[i].authority, o, n,
			    h2_raw_routes[i].origin);
			if (n == 0)
				continue;
			snprintf(expect, sizeof(expect), "%s %s HTTP/1.1",
			    h2_raw_routes[i].method, h2_raw_routes[i].want);
			ck_assert_msg(strcmp(line, expect) == 0, ":path %s: "
			    "origin got \"%s\", want \"%s\"",
			    h2_raw_routes[i].path, line, expect);
		}
	}
	proxy_stop(&px);
}

START_TEST(test_hostile_route_h2c_raw)
{
	run_h2_raw_routes(false);
}
END_TEST

START_TEST(test_hostile_route_h2_tls_raw)
{
	run_h2_raw_routes(true);
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
	tc = tcase_create("hostile_route");
	tcase_add_unchecked_fixture(tc, harness_setup, NULL);
	tcase_add_unchecked_fixture(tc, harness_certs, harness_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_hostile_route_h1);
	tcase_add_test(tc, test_hostile_route_h2c);
	tcase_add_test(tc, test_hostile_route_h2_tls);
	tcase_add_test(tc, test_hostile_route_h2c_raw);
	tcase_add_test(tc, test_hostile_route_h2_tls_raw);
	suite_add_tcase(s, tc);
	return s;
}
