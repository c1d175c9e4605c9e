/* tests/integration/test_routing.c: which backend serves a request, by
 * Host or :authority and path, and bodies that arrive byte for byte over
 * TCP and unix-socket backends; each row over HTTP/1.1, TLS HTTP/1.1,
 * TLS HTTP/2 and h2c (enum proto) where it can arrive on each, asserting
 * what the origin received. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <check.h>

#include "client.h"
#include "harness.h"
#include "proto.h"
#include "suites.h"

#define BIG     (10 * 1024 * 1024)

static struct proxy px;

/* ---- bodies: tcp.test goes to origin 0 over TCP, unix.test to origin 1
 * over its unix socket; each row over every protocol, one proxy per row
 * ---- */

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
	proto_proxy_start(&px, 0, "backend tcp { server %s }\n"
	    "backend unix { server %s }\n"
	    "route tcp.test tcp\nroute unix.test unix\nroute * tcp\n",
	    origins[0].tcp, origins[1].unix_addr);
}

/* The requests each of origins 0 and 1 has served so far. */
static void
reqs_now(long reqs[2])
{
	int o;

	for (o = 0; o < 2; o++)
		reqs[o] = origin_stats(&origins[o]).reqs;
}

/* That the request since BEFORE went to row ROW's origin, once, and
 * that the other origin got none: the route chosen by Host (h1) or
 * :authority (h2). */
static void
assert_served(int row, const long before[2])
{
	long after[2];
	int o;

	reqs_now(after);
	for (o = 0; o < 2; o++)
		ck_assert_msg(after[o] - before[o] ==
		    (o == body_cases[row].origin), "%s: origin %d served %ld "
		    "requests", proto_where, o, after[o] - before[o]);
}

/* GETs PATH (the pattern, N bytes) from row ROW over every protocol. */
static void
download(int row, const char *path, uint64_t n)
{
	char host[128], got[65], want[65];
	const char *h[] = { host, NULL };
	long before[2];
	struct resp r;
	enum proto p;

	start_bodies();
	snprintf(host, sizeof(host), "Host: %s", body_cases[row].host);
	sha256_pattern(n, want);
	for (p = 0; p < P_COUNT; p++) {
		proto_at(p, "GET %s from %s", path, body_cases[row].host);
		reqs_now(before);
		proto_request(p, &px, "GET", path, h, NULL, 0, &r);
		PROTO_INT_EQ(r.status, 200);
		PROTO_INT_EQ(r.bodylen, n);
		sha256_hex(r.body, r.bodylen, got);
		PROTO_STR_EQ(got, want);
		resp_free(&r);
		assert_served(row, before);
	}
	proxy_stop(&px);
}

/* POSTs N pattern bytes to /echo of row ROW over every protocol, with a
 * Content-Length or without (chunked over h1, DATA without
 * content-length over h2); checks what the origin counted and how the
 * body was framed to it. */
static void
upload(int row, uint64_t n, bool has_length)
{
	char host[128], got[128], want[65], *body = malloc(n);
	const char *h[] = { host, has_length ? "X-Plain: 1" :
	    "Transfer-Encoding: chunked", NULL };
	long before[2];
	struct resp r;
	enum proto p;
	bool has_cl, is_chunked;

	ck_assert_ptr_nonnull(body);
	start_bodies();
	snprintf(host, sizeof(host), "Host: %s", body_cases[row].host);
	pattern_fill(body, 0, n);
	sha256_pattern(n, want);
	for (p = 0; p < P_COUNT; p++) {
		proto_at(p, "POST of %llu bytes %s to %s",
		    (unsigned long long)n, has_length ? "with a length" :
		    "without a length", body_cases[row].host);
		reqs_now(before);
		proto_request(p, &px, "POST", "/echo", h, body, n, &r);
		PROTO_INT_EQ(r.status, 200);
		PROTO_INT_EQ(json_num(r.body, "body_length"), n);
		PROTO_ASSERT(json_str(r.body, "body_sha256", got,
		    sizeof(got)));
		PROTO_STR_EQ(got, want);
		/* one framing at the origin; the client's length kept */
		has_cl = echo_field(r.body, "Content-Length", got,
		    sizeof(got)) == 1;
		is_chunked = strstr(r.body, "\"chunked\":true") != NULL;
		ck_assert_msg(has_cl != is_chunked, "%s: the origin got %s",
		    proto_where, r.body);
		if (has_length)
			PROTO_INT_EQ(strtoll(got, NULL, 10), n);
		resp_free(&r);
		assert_served(row, before);
	}
	free(body);
	proxy_stop(&px);
}

START_TEST(test_download)
{
	download(_i, "/bytes/10485760", BIG);
}
END_TEST

START_TEST(test_download_chunked)
{
	download(_i, "/bytes/10485760?chunked=1", BIG);
}
END_TEST

START_TEST(test_upload)
{
	upload(_i, BIG, true);
}
END_TEST

START_TEST(test_upload_chunked)
{
	upload(_i, BIG, false);
}
END_TEST

/* The head of the last request in O's bytes that carries "X-Row:
 * MARKER" (any case: h2 names come lower-cased), malloc'd, or NULL; how
 * many carry it into *N. Heads are contiguous: the GETs have no body. */
static char *
marked_head(const struct origin *o, int marker, int *n)
{
	char needle[32], *all = origin_received_all(o, NULL), *head = NULL;
	const char *p = all, *hit, *start, *end;

	snprintf(needle, sizeof(needle), "\r\nX-Row: %d\r\n", marker);
	*n = 0;
	while ((hit = strcasestr(p, needle)) != NULL) {
		(*n)++;
		for (start = hit; start > all && !(start - all >= 4 &&
		    memcmp(start - 4, "\r\n\r\n", 4) == 0); start--)
			;
		end = strstr(hit + 2, "\r\n\r\n");
		free(head);
		head = strndup(start, end != NULL ? (size_t)(end - start) + 2 :
		    strlen(start));
		p = hit + strlen(needle);
	}
	free(all);
	return head;
}

/* ---- routes: backend bN is origin N; each row over every protocol
 * that can carry it, one proxy per row ---- */

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
	const char *host;       /* Host (h1) or :authority (h2) */
	int origin;             /* the one that must serve it */
	const char *line;       /* its request line's target; NULL: TARGET */
	const char *host_at;    /* Host at the origin; NULL: HOST */
} route_cases[] = {
	{ "/api/x", "a.test", 0, NULL, NULL },
	/* "/api/" does not prefix "/api" */
	{ "/api", "a.test", 1, NULL, NULL },
	{ "/apix", "a.test", 1, NULL, NULL },
	{ "/echo", "a.test", 1, NULL, NULL },
	/* hosts compare without case; the port is not the host, nor a
	 * trailing dot */
	{ "/api/y", "A.Test", 0, NULL, NULL },
	{ "/api/z", "a.test:8080", 0, NULL, NULL },
	{ "/api/", "a.test.", 0, NULL, NULL },
	{ "/echo", "x.example.test", 0, NULL, NULL },
	{ "/echo", "a.b.example.test", 0, NULL, NULL },
	/* exact beats wildcard; the longest suffix wins */
	{ "/echo", "foo.example.test", 1, NULL, NULL },
	{ "/echo", "y.sub.example.test", 1, NULL, NULL },
	/* "*.x" does not match "x" */
	{ "/echo", "example.test", 2, NULL, NULL },
	{ "/echo", "other.test", 2, NULL, NULL },
	{ "/only/1", "w.example.test", 1, NULL, NULL },
	/* the host's route names another path: *.example.test's */
	{ "/echo", "w.example.test", 0, NULL, NULL },
	/* HTTP/1.1 only: absolute-form is an h1 request line (RFC 9112
	 * §3.2.2: its authority replaces Host); h2 routes by :authority,
	 * the rows above */
	{ "http://a.test/api/q", "other.test", 0, "/api/q", "a.test" },
};

START_TEST(test_route)
{
	const char *target = route_cases[_i].target, *h[3];
	char host[128], row[32], want[512], *head;
	int o, n, marker, origin = route_cases[_i].origin;
	bool is_absolute = target[0] != '/';
	struct resp r;
	enum proto p;

	proto_proxy_start(&px, 0, routes, origins[0].tcp, origins[1].tcp,
	    origins[2].tcp);
	snprintf(host, sizeof(host), "Host: %s", route_cases[_i].host);
	h[0] = host;
	h[1] = row;
	h[2] = NULL;
	for (p = 0; p < P_COUNT; p++) {
		if (is_absolute && p != P_H1)
			break;
		proto_at(p, "Host %s, target %s", route_cases[_i].host, target);
		marker = _i * 10 + (int)p;
		snprintf(row, sizeof(row), "X-Row: %d", marker);
		if (is_absolute) {
			snprintf(want, sizeof(want), "GET %s HTTP/1.1\r\n%s\r\n"
			    "%s\r\n\r\n", target, host, row);
			rawc_fetch(px.port, want, &r);
		} else {
			proto_request(p, &px, "GET", target, h, NULL, 0, &r);
		}
		/* the origin answers 404 to paths other than its own */
		ck_assert_msg(r.status == 200 || r.status == 404, "%s: %d",
		    proto_where, r.status);
		resp_free(&r);
		for (o = 0; o < HARNESS_ORIGINS; o++) {
			head = marked_head(&origins[o], marker, &n);
			ck_assert_msg(n == (o == origin), "%s: origin %d got it "
			    "%d times; wanted only origin %d", proto_where, o,
			    n, origin);
			if (n == 0)
				continue;
			/* what it got: the target and Host, byte for byte */
			snprintf(want, sizeof(want), "GET %s HTTP/1.1\r\n",
			    route_cases[_i].line != NULL ?
			    route_cases[_i].line : target);
			ck_assert_msg(strncmp(head, want, strlen(want)) == 0,
			    "%s: the origin got %s", proto_where, head);
			snprintf(want, sizeof(want), "\r\nHost: %s\r\n",
			    route_cases[_i].host_at != NULL ?
			    route_cases[_i].host_at : route_cases[_i].host);
			/* as sent (case too) */
			ck_assert_msg(strstr(head, want) != NULL &&
			    str_count(head, "\r\nHost:") == 1, "%s: the origin "
			    "got %s", proto_where, head);
			free(head);
		}
	}
	proxy_stop(&px);
}
END_TEST

/* ---- hostile targets (issue 11): "route api.test/v1/ a" (and
 * "[::1]/v6/") and "route * b"; backend a is origin 0, b origin 1. The
 * bug: "http://api.test:?/v1/" was routed by "/v1/" and forwarded as
 * "/?/v1/", and "/v1/../admin" went to a as it was. Now one parse picks
 * the route and is forwarded. ---- */

#define ROW_H1_ONLY     1       /* needs a raw socket: raw bytes or
				 * absolute-form */

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

/* Markers: row I over enum proto P is P * 1000 + I; route_h2.py's rows
 * over h2c and TLS h2 come after. */
enum { OVER_H2C_RAW = P_COUNT, OVER_H2_TLS_RAW };

/* The marker of row I over OVER (an enum proto or OVER_*_RAW), sent as
 * "X-Row: N". */
static int
row_marker(int i, int over)
{
	return over * 1000 + i;
}

static void
start_hostile_routes(void)
{
	proto_proxy_start(&px, 0, "backend a { server %s }\n"
	    "backend b { server %s }\n"
	    "route api.test/v1/ a\nroute [::1]/v6/ a\nroute * b\n",
	    origins[0].tcp, origins[1].tcp);
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

/* Row I with curl over PROTO (Host becomes :authority over h2). */
static int
send_curl(int i, int marker, enum proto proto)
{
	char host[128], row[64];
	const char *h[] = { host, row, NULL };
	struct resp r;
	int status;

	snprintf(host, sizeof(host), "Host: %s", hostile_routes[i].host);
	snprintf(row, sizeof(row), "X-Row: %d", marker);
	proto_request(proto, &px, "GET", hostile_routes[i].target, h, NULL, 0,
	    &r);
	status = r.status;
	resp_free(&r);
	return status;
}

/* How many heads in O's bytes carry "X-Row: MARKER"; the request line of
 * the last one into LINE. */
static int
find_row(const struct origin *o, int marker, char *line, size_t cap)
{
	int n;
	char *head = marked_head(o, marker, &n);

	snprintf(line, cap, "%.*s", head != NULL ? (int)strcspn(head, "\r") :
	    0, head != NULL ? head : "");
	free(head);
	return n;
}

/* Which origin got row I's marker, and its request line, byte for byte. */
static void
assert_row_reached(int i, int marker, int status)
{
	const char *t = hostile_routes[i].target;
	int want = hostile_routes[i].origin, o, n;
	char line[512], expect[512];

	if (want < 0)
		ck_assert_msg(status == 400, "%s (Host %s) over %s: status %d, "
		    "want 400", t, hostile_routes[i].host, proto_where, status);
	else
		ck_assert_msg(status == 200 || status == 404, "%s (Host %s) "
		    "over %s: status %d", t, hostile_routes[i].host,
		    proto_where, status);
	for (o = 0; o < 2; o++) {
		n = find_row(&origins[o], marker, line, sizeof(line));
		ck_assert_msg(n == (o == want), "%s (Host %s) over %s: origin "
		    "%d got it %d times, wanted origin %d", t,
		    hostile_routes[i].host, proto_where, o, n, want);
		if (o != want)
			continue;
		snprintf(expect, sizeof(expect), "%s %s HTTP/1.1",
		    t[0] == '*' ? "OPTIONS" : "GET", hostile_routes[i].want);
		ck_assert_msg(strcmp(line, expect) == 0, "%s (Host %s) over "
		    "%s: origin got \"%s\", want \"%s\"", t,
		    hostile_routes[i].host, proto_where, line, expect);
	}
}

/* Every row over PROTO: all of them on a raw h1 socket; with curl over
 * TLS h1 and h2 the rows curl can send (not ROW_H1_ONLY: raw bytes and
 * absolute-form, which need the raw socket). */
START_TEST(test_hostile_route)
{
	enum proto proto = _i;
	int i, marker, status;

	start_hostile_routes();
	for (i = 0; i < (int)NELEMS(hostile_routes); i++) {
		if (proto != P_H1 && (hostile_routes[i].flags & ROW_H1_ONLY))
			continue;
		proto_at(proto, "row %d", i);
		marker = row_marker(i, proto);
		if (proto == P_H1)
			status = send_h1(i, marker);
		else
			status = send_curl(i, marker, proto);
		assert_row_reached(i, marker, status);
	}
	proxy_stop(&px);
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
	size_t i;
	int rc, o, n, marker;

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
			n = find_row(&origins[o], marker, line, sizeof(line));
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

	/* one set of origins and certificates per TCase; a row counts the
	 * requests of both origins around each of its own */
	tcase_add_unchecked_fixture(tc, harness_setup, NULL);
	tcase_add_unchecked_fixture(tc, harness_certs, harness_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_download, 0, NELEMS(body_cases));
	tcase_add_loop_test(tc, test_download_chunked, 0, NELEMS(body_cases));
	tcase_add_loop_test(tc, test_upload, 0, NELEMS(body_cases));
	tcase_add_loop_test(tc, test_upload_chunked, 0, NELEMS(body_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("routes");
	tcase_add_unchecked_fixture(tc, harness_setup, NULL);
	tcase_add_unchecked_fixture(tc, harness_certs, harness_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_route, 0, NELEMS(route_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("hostile_route");
	tcase_add_unchecked_fixture(tc, harness_setup, NULL);
	tcase_add_unchecked_fixture(tc, harness_certs, harness_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_hostile_route, 0, P_COUNT);
	tcase_add_test(tc, test_hostile_route_h2c_raw);
	tcase_add_test(tc, test_hostile_route_h2_tls_raw);
	suite_add_tcase(s, tc);
	return s;
}
