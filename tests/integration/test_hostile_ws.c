/*
 * tests/integration/test_hostile_ws.c: smuggling through an upgrade
 * (issue 11). Client bytes may reach a backend only framed as a request
 * body, or as tunnel bytes once the backend answered 101. Each case
 * asserts what reached the origin, byte for byte, on the backend
 * connection the upgrade used (origin -r), and how many requests the
 * origin parsed.
 *
 * HTTP/1.1: an upgrade GET whose body holds a second request, or a prefix
 * request that would capture the next client's; a 101 before the body
 * was all sent. HTTP/2 (TLS and h2c, ws_h2_hostile.py, default windows):
 * DATA sent right after an extended CONNECT, over and under the bound
 * portico holds before the 101; a backend that answers 200.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "client.h"
#include "harness.h"
#include "suites.h"

#define WS_TOOL         "tests/integration/ws_h2_hostile.py"
#define TOOL_MS         60000
#define OUT_MAX         16384
#define SECOND_TRIES    16      /* 2 workers: find the pooled connection */
#define SECOND_WAIT_MS  3000    /* a captured request never gets a reply */

#define WS_FIELDS       "Upgrade: websocket\r\nConnection: upgrade\r\n" \
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" \
	"Sec-WebSocket-Version: 13\r\n"
#define SMUGGLED        "GET /smuggled HTTP/1.1\r\nHost: evil\r\n" \
	"X-Forwarded-For: 6.6.6.6\r\n\r\n"
#define PREFIX          "POST /captured HTTP/1.1\r\nHost: evil\r\n" \
	"Content-Length: 100000\r\n\r\n"
#define SECOND          "GET /echo?second=1 HTTP/1.1\r\nHost: a.test\r\n" \
	"Cookie: secret=1\r\n\r\n"

static struct proxy px;

static void
start(const char *extra)
{
	proxy_start_origin0(&px, NULL, extra);
}

/* The one connection of origin 0 opened after FROM (a /stats count)
 * whose bytes begin with PREFIX, or -1. */
static long
find_conn_opt(long from, const char *prefix)
{
	struct stats now = origin_stats(&origins[0]);
	long i, found = -1;
	size_t len;
	char *b;

	for (i = from + 1; i < now.conns; i++) {
		b = origin_received(&origins[0], i, &len);
		if (strncmp(b, prefix, strlen(prefix)) == 0) {
			ck_assert_msg(found == -1, "two connections begin with "
			    "%s: %ld and %ld", prefix, found, i);
			found = i;
		}
		free(b);
	}
	return found;
}

/* The same; asserts there is one. */
static long
find_conn(long from, const char *prefix)
{
	long found = find_conn_opt(from, prefix);

	ck_assert_msg(found != -1, "no connection began with %s", prefix);
	return found;
}

/* Past the head at P (of LEN bytes): asserts it ends in there. */
static const char *
past_head(const char *p, size_t len)
{
	const char *e = memmem(p, len, "\r\n\r\n", 4);

	ck_assert_msg(e != NULL, "no whole head in: %.*s", (int)len, p);
	return e + 4;
}

/* Asserts the head [P, END) has FIELD (a whole "Name: value" line) or,
 * if !HAS, no line starting with FIELD. */
static void
assert_head_has(const char *p, const char *end, const char *field, bool has)
{
	char needle[256];
	const char *at;

	snprintf(needle, sizeof(needle), "\r\n%s", field);
	at = memmem(p, (size_t)(end - p), needle, strlen(needle));
	ck_assert_msg((at != NULL) == has, "%s %s in the head:\n%.*s",
	    field, has ? "missing" : "found", (int)(end - p), p);
}

/* ---- HTTP/1.1 ---- */

static const struct {
	const char *name;
	const char *path;
	const char *body;
	bool is_chunked;
	int status;             /* the origin's answer */
} h1_cases[] = {
	{ "smuggle", "/ws-refuse", SMUGGLED, false, 403 },
	{ "smuggle chunked", "/ws-refuse", SMUGGLED, true, 403 },
	{ "capture", "/ws-refuse", PREFIX, false, 403 },
	{ "capture chunked", "/ws-refuse", PREFIX, true, 403 },
	/* the origin's echo refuses a body on an upgrade: 400, stays HTTP */
	{ "body to /ws", "/ws", "hello", false, 400 },
	{ "body to /ws chunked", "/ws", "hello", true, 400 },
};

static void
send_upgrade(struct rawc *c, const char *path, const char *body,
    bool is_chunked)
{
	char head[1024];
	size_t n = strlen(body);

	snprintf(head, sizeof(head), "GET %s HTTP/1.1\r\nHost: a.test\r\n"
	    WS_FIELDS "%s", path, is_chunked ?
	    "Transfer-Encoding: chunked\r\n\r\n" : "");
	if (!is_chunked)
		snprintf(head + strlen(head), sizeof(head) - strlen(head),
		    "Content-Length: %zu\r\n\r\n", n);
	rawc_sends(c, head);
	if (is_chunked) {
		snprintf(head, sizeof(head), "%zx\r\n", n);
		rawc_sends(c, head);
	}
	rawc_sends(c, body);
	if (is_chunked)
		rawc_sends(c, "\r\n0\r\n\r\n");
}

/* Second clients until one is served on backend connection WANT (the
 * two workers have a pool each); each must get its own answer, with its
 * own cookie. How many requests that took. */
static int
second_clients(long want)
{
	struct rawc *c;
	struct resp r;
	char v[256];
	long conn = -1;
	int i;

	for (i = 0; i < SECOND_TRIES && conn != want; i++) {
		c = rawc_connect(px.port);
		rawc_sends(c, SECOND);
		ck_assert_msg(rawc_response(c, &r, false, SECOND_WAIT_MS) == 0,
		    "the second client got no answer: its request was "
		    "captured");
		ck_assert_int_eq(r.status, 200);
		ck_assert_msg(echo_field(r.body, "Cookie", v, sizeof(v)) == 1 &&
		    strcmp(v, "secret=1") == 0, "cookie: %s", r.body);
		conn = (long)json_num(r.body, "connection");
		resp_free(&r);
		rawc_close(c);
	}
	ck_assert_msg(conn == want, "no second client reached backend "
	    "connection %ld in %d tries", want, SECOND_TRIES);
	return i;
}

/* The bug: an upgrade's body went to the backend unframed, and the
 * connection back to the pool after a 403. */
START_TEST(test_ws_upgrade_body_unframed)
{
	const char *body = h1_cases[_i].body, *p, *end, *rest;
	size_t n = strlen(body), len;
	struct stats before, after;
	char prefix[128], field[64], *b;
	struct rawc *c;
	struct resp r;
	long conn;
	int tries;

	start("");
	before = origin_stats(&origins[0]);
	c = rawc_connect(px.port);
	send_upgrade(c, h1_cases[_i].path, body, h1_cases[_i].is_chunked);
	ck_assert_int_eq(rawc_response(c, &r, false, CLIENT_WAIT_MS), 0);
	ck_assert_msg(r.status == h1_cases[_i].status, "%s: status %d",
	    h1_cases[_i].name, r.status);
	resp_free(&r);
	rawc_close(c);
	snprintf(prefix, sizeof(prefix), "GET %s HTTP/1.1\r\n",
	    h1_cases[_i].path);
	conn = find_conn(before.conns, prefix);
	tries = second_clients(conn);

	/* one request with exactly those N body bytes, then the second
	 * client's request as it sent it, its own */
	b = origin_received(&origins[0], conn, &len);
	end = past_head(b, len);
	snprintf(field, sizeof(field), "Content-Length: %zu\r\n", n);
	assert_head_has(b, end, field, true);
	assert_head_has(b, end, "Transfer-Encoding:", false);
	ck_assert_msg((size_t)(end - b) + n <= len &&
	    memcmp(end, body, n) == 0, "%s: the body is not the N bytes "
	    "after the head:\n%s", h1_cases[_i].name, b);
	rest = end + n;
	ck_assert_msg(strncmp(rest, "GET /echo?second=1 HTTP/1.1\r\n", 29) ==
	    0, "%s: what followed the body: %s", h1_cases[_i].name, rest);
	p = past_head(rest, len - (size_t)(rest - b));
	ck_assert_msg(p == b + len, "bytes after the second request: %s", p);
	assert_head_has(rest, p, "Cookie: secret=1\r\n", true);
	free(b);
	after = origin_stats(&origins[0]);
	ck_assert_msg(after.reqs - before.reqs == 1 + tries, "%s: the origin "
	    "parsed %ld requests, want %d", h1_cases[_i].name,
	    after.reqs - before.reqs, 1 + tries);
	proxy_stop(&px);
}
END_TEST

/* A backend that says 101 as soon as it has the head, while half the
 * body is still on its way: no tunnel (the rest of the body would be
 * read as WebSocket bytes), a 502. */
START_TEST(test_ws_101_before_body_end)
{
	struct rawc *c;
	struct resp r;
	pid_t fake;
	int port = fake_start("HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
	    &fake);

	memset(&px, 0, sizeof(px));
	proxy_start(&px, "backend f { server 127.0.0.1:%d }\nroute * f\n",
	    port);
	c = rawc_connect(px.port);
	rawc_sends(c, "GET /ws HTTP/1.1\r\nHost: a.test\r\n" WS_FIELDS
	    "Content-Length: 10\r\n\r\nhello");
	ck_assert_int_eq(rawc_response(c, &r, false, CLIENT_WAIT_MS), 0);
	ck_assert_msg(r.status == 502, "status %d:\n%s", r.status, r.head);
	resp_free(&r);
	rawc_close(c);
	proxy_stop(&px);
	fake_stop(fake);
}
END_TEST

/* A plain upgrade still tunnels: the origin gets the head, then the
 * frame, and echoes it. */
START_TEST(test_ws_h1_upgrade_tunnels)
{
	/* "hi", masked with 01 02 03 04 */
	static const unsigned char frame[] = { 0x81, 0x82, 1, 2, 3, 4,
	    'h' ^ 1, 'i' ^ 2 };
	struct stats before;
	struct rawc *c;
	struct resp r;
	const char *end;
	size_t len;
	long conn;
	char *b;
	int64_t deadline;

	start("");
	before = origin_stats(&origins[0]);
	c = rawc_connect(px.port);
	rawc_sends(c, "GET /ws?plain=1 HTTP/1.1\r\nHost: a.test\r\n" WS_FIELDS
	    "\r\n");
	ck_assert_int_eq(rawc_head(c, &r, CLIENT_WAIT_MS), 0);
	ck_assert_int_eq(r.status, 101);
	resp_free(&r);
	rawc_send(c, frame, sizeof(frame));
	deadline = now_ms() + CLIENT_WAIT_MS;
	while (c->len < 4 && !c->is_eof && now_ms() < deadline)
		rawc_drain(c, 100);
	ck_assert_msg(c->len >= 4 && memcmp(c->buf, "\x81\x02hi", 4) == 0,
	    "no echo (%zu bytes)", c->len);
	rawc_close(c);
	conn = find_conn(before.conns, "GET /ws?plain=1 HTTP/1.1\r\n");
	b = origin_received(&origins[0], conn, &len);
	end = past_head(b, len);
	ck_assert_msg(b + len - end == (long)sizeof(frame) &&
	    memcmp(end, frame, sizeof(frame)) == 0,
	    "the origin got %zu bytes after the head, want the frame",
	    (size_t)(b + len - end));
	free(b);
	proxy_stop(&px);
}
END_TEST

/* A backend that takes longer than backend_read_timeout to answer an
 * upgrade: 504 (the wait for a 101 once had no timer at all). */
START_TEST(test_ws_h1_101_timeout)
{
	struct rawc *c;
	struct resp r;
	int64_t t0;

	start("backend_read_timeout 1s\n");
	c = rawc_connect(px.port);
	t0 = now_ms();
	rawc_sends(c, "GET /ws?delay_ms=4000 HTTP/1.1\r\nHost: a.test\r\n"
	    WS_FIELDS "\r\n");
	ck_assert_int_eq(rawc_response(c, &r, false, CLIENT_WAIT_MS), 0);
	ck_assert_msg(r.status == 504 && now_ms() - t0 < 3500,
	    "status %d after %lld ms", r.status, (long long)(now_ms() - t0));
	resp_free(&r);
	rawc_close(c);
	proxy_stop(&px);
}
END_TEST

/* ---- HTTP/2, RFC 8441 ---- */

static const char *const transports[] = { "tls", "h2c" };

/* ws_h2_hostile.py MODE over transports[_i]; asserts it ran. */
static void
ws_tool(const char *mode, int i, char *out, size_t cap)
{
	char sport[16], err[4096];
	char *argv[] = { "/usr/bin/python3", WS_TOOL, (char *)mode,
	    (char *)transports[i], sport, NULL };
	int rc;

	snprintf(sport, sizeof(sport), "%d", i == 0 ? px.tls_port : px.port);
	rc = run_argv(argv, out, cap, err, sizeof(err), TOOL_MS);
	ck_assert_msg(rc == 0, "%s %s: exit %d\n%s\n%s", WS_TOOL, mode, rc,
	    out, err);
}

/* Asserts the bytes after HEAD_END on connection CONN are exactly the
 * GET /echo?after=1 head if the tool's after_conn is CONN, else none. */
static void
assert_only_after(const char *out, long conn, const char *b, size_t len,
    const char *head_end)
{
	size_t left = len - (size_t)(head_end - b);

	if (atol(kv(out, "after_conn")) != conn) {
		ck_assert_msg(left == 0, "%zu bytes after the upgrade "
		    "head:\n%s", left, b);
		return;
	}
	ck_assert_msg(strncmp(head_end, "GET /echo?after=1 HTTP/1.1\r\n", 28)
	    == 0, "after the upgrade head:\n%s", head_end);
	ck_assert_msg(past_head(head_end, left) == b + len,
	    "more than a GET after the upgrade head:\n%s", head_end);
}

/* The bug: DATA sent right after the CONNECT went to the backend before
 * its answer, and the connection back to the pool after its 403. */
START_TEST(test_ws_h2_data_before_101)
{
	char out[OUT_MAX], *b;
	struct stats before, after;
	const char *end;
	size_t len;
	long conn;

	start("");
	before = origin_stats(&origins[0]);
	ws_tool("refuse", _i, out, sizeof(out));
	assert_kv(out, "status", "403");
	assert_kv(out, "body", "websocket refused");
	assert_kv(out, "after", "200");
	conn = find_conn(before.conns, "GET /ws-refuse HTTP/1.1\r\n");
	b = origin_received(&origins[0], conn, &len);
	end = past_head(b, len);
	assert_head_has(b, end, "Content-Length:", false);
	assert_head_has(b, end, "Transfer-Encoding:", false);
	assert_only_after(out, conn, b, len, end);
	ck_assert_msg(strstr(b, "smuggled") == NULL, "%s", b);
	free(b);
	after = origin_stats(&origins[0]);
	/* /ws-refuse and /echo?after=1, no /smuggled */
	ck_assert_int_eq(after.reqs - before.reqs, 2);
	proxy_stop(&px);
}
END_TEST

static int
unhex(const char *hex, unsigned char *p, size_t cap)
{
	size_t n = 0;
	unsigned v;

	while (hex[0] != '\0' && hex[1] != '\0' && n < cap &&
	    sscanf(hex, "%2x", &v) == 1) {
		p[n++] = (unsigned char)v;
		hex += 2;
	}
	return (int)n;
}

/* A frame sent before the backend's (delayed) 101 is held, then sent
 * after it: the echo comes back; the origin got the frame after the
 * head, once. With END_STREAM after the frame, that becomes the tunnel's
 * half-close after the frame, and the origin's end comes back. */
static void
early_frame(int i, const char *mode)
{
	char out[OUT_MAX], *b;
	unsigned char frame[64];
	struct stats before;
	const char *end;
	size_t len;
	long conn;
	int n;

	start("");
	before = origin_stats(&origins[0]);
	ws_tool(mode, i, out, sizeof(out));
	assert_kv(out, "status", "200");
	assert_kv(out, "echo", "ok");
	ck_assert_msg(atol(kv(out, "status_ms")) >= 400, "the 101 came "
	    "early?\n%s", out);
	if (strcmp(mode, "early-end") == 0)
		assert_kv(out, "server_end", "end_stream");
	n = unhex(kv(out, "sent"), frame, sizeof(frame));
	ck_assert_int_gt(n, 6);
	conn = find_conn(before.conns, "GET /ws?delay_ms=500 HTTP/1.1\r\n");
	b = origin_received(&origins[0], conn, &len);
	end = past_head(b, len);
	assert_head_has(b, end, "Content-Length:", false);
	assert_head_has(b, end, "Transfer-Encoding:", false);
	ck_assert_msg(b + len - end == n && memcmp(end, frame, (size_t)n) ==
	    0, "the origin got %ld bytes after the head, want the %d of the "
	    "frame", (long)(b + len - end), n);
	free(b);
	proxy_stop(&px);
}

START_TEST(test_ws_h2_early_frame)
{
	early_frame(_i, "early");
}
END_TEST

START_TEST(test_ws_h2_early_end_stream)
{
	early_frame(_i, "early-end");
}
END_TEST

/* Over the bound (stream window 256k, so the client may send it):
 * RST_STREAM CANCEL, and not one tunnel byte reached the origin. The
 * reset may even come before the backend connection is up: then the
 * origin saw nothing of that stream at all. */
START_TEST(test_ws_h2_early_data_over_bound)
{
	char out[OUT_MAX], *b;
	struct stats before, after;
	const char *end;
	size_t len;
	long conn;

	start("http2_initial_window_size 256k\n");
	before = origin_stats(&origins[0]);
	ws_tool("over", _i, out, sizeof(out));
	assert_kv(out, "end", "reset:8");
	assert_kv(out, "status", "(none)");
	assert_kv(out, "after", "200");
	conn = find_conn_opt(before.conns,
	    "GET /ws?delay_ms=1000 HTTP/1.1\r\n");
	if (conn != -1) {
		b = origin_received(&origins[0], conn, &len);
		end = past_head(b, len);
		ck_assert_msg(end == b + len, "%zu tunnel bytes reached the "
		    "origin", (size_t)(b + len - end));
		free(b);
	}
	after = origin_stats(&origins[0]);
	ck_assert_int_eq(after.reqs - before.reqs, conn != -1 ? 2 : 1);
	proxy_stop(&px);
}
END_TEST

/* Default windows: the client can send no more than its 65,535-byte
 * stream window, which portico holds whole; after the 101 it all goes
 * to the origin (which then closes: 'x' is no frame) and is
 * acknowledged, so the client's GET afterwards is served. */
START_TEST(test_ws_h2_early_data_default_window)
{
	char out[OUT_MAX], *b;
	struct stats before;
	const char *end;
	size_t len;
	long conn;

	start("");
	before = origin_stats(&origins[0]);
	ws_tool("over", _i, out, sizeof(out));
	assert_kv(out, "status", "200");
	assert_kv(out, "after", "200");
	conn = find_conn(before.conns, "GET /ws?delay_ms=1000 HTTP/1.1\r\n");
	b = origin_received(&origins[0], conn, &len);
	end = past_head(b, len);
	ck_assert_msg(end < b + len && end[0] == 'x', "no tunnel byte after "
	    "the 101");
	free(b);
	proxy_stop(&px);
}
END_TEST

/* A backend that answers the upgrade GET with a 200 did not switch; a
 * 2xx would tell the h2 client its tunnel is open: 502. */
START_TEST(test_ws_h2_upgrade_answered_200)
{
	char out[OUT_MAX];

	start("");
	ws_tool("status200", _i, out, sizeof(out));
	assert_kv(out, "status", "502");
	proxy_stop(&px);
}
END_TEST

/* The same over HTTP/2. */
START_TEST(test_ws_h2_101_timeout)
{
	char out[OUT_MAX];

	start("backend_read_timeout 1s\n");
	ws_tool("slow101", _i, out, sizeof(out));
	assert_kv(out, "status", "504");
	ck_assert_msg(atol(kv(out, "status_ms")) < 3500, "%s", out);
	proxy_stop(&px);
}
END_TEST

/* The DATA held for a stream whose backend then failed (502) is given
 * back to the connection's window: 400 such streams of a full window
 * each (26 MB, over the 16 MiB connection window) all get their 502,
 * and the connection still serves a GET. */
START_TEST(test_ws_h2_held_window_returned)
{
	char out[OUT_MAX];

	start("");
	ws_tool("failmany", _i, out, sizeof(out));
	assert_kv(out, "status502", "400");
	assert_kv(out, "after", "200");
	proxy_stop(&px);
}
END_TEST

TCase *
hostile_ws_tcase(void)
{
	TCase *tc = harness_tcase("ws", 120);

	tcase_add_loop_test(tc, test_ws_upgrade_body_unframed, 0,
	    NELEMS(h1_cases));
	tcase_add_test(tc, test_ws_101_before_body_end);
	tcase_add_test(tc, test_ws_h1_upgrade_tunnels);
	tcase_add_test(tc, test_ws_h1_101_timeout);
	tcase_add_loop_test(tc, test_ws_h2_data_before_101, 0,
	    NELEMS(transports));
	tcase_add_loop_test(tc, test_ws_h2_early_frame, 0,
	    NELEMS(transports));
	tcase_add_loop_test(tc, test_ws_h2_early_end_stream, 0,
	    NELEMS(transports));
	tcase_add_loop_test(tc, test_ws_h2_early_data_over_bound, 0,
	    NELEMS(transports));
	tcase_add_loop_test(tc, test_ws_h2_early_data_default_window, 0,
	    NELEMS(transports));
	tcase_add_loop_test(tc, test_ws_h2_upgrade_answered_200, 0,
	    NELEMS(transports));
	tcase_add_loop_test(tc, test_ws_h2_held_window_returned, 0,
	    NELEMS(transports));
	tcase_add_loop_test(tc, test_ws_h2_101_timeout, 0,
	    NELEMS(transports));
	return tc;
}
