/* tests/integration/test_halfclose.c: each direction of a connection ends
 * on its own (issue 12), and a cut response is never passed on as a
 * complete one.
 *
 * Half-close: a WebSocket tunnel (HTTP/1.1 Upgrade) carries the client's
 * EOF to the backend as shutdown(SHUT_WR) and the backend's back, the
 * other direction flowing on; a client that shuts its write side after a
 * whole request (or several, pipelined) still gets every response, and
 * one that shuts it mid-request gets the connection closed. Over
 * cleartext, TLS with a close_notify, and TLS with a bare FIN ("tlsfin").
 *
 * Truncation: the origin's /cut/MODE sends N body bytes and then resets
 * the connection (or, fin=1, closes it): short of its Content-Length, mid
 * chunk, a bad chunk size, or a body read until close. HTTP/1.1 clients
 * see the connection close with no last chunk (an HTTP/1.0 client reading
 * until close: a reset), HTTP/2 clients a RST_STREAM INTERNAL_ERROR; a
 * FIN after a body read until close is a complete response. The error log
 * names the backend and its server. halfclose.py is the client. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "client.h"
#include "harness.h"
#include "suites.h"

#define HALFCLOSE       "tests/integration/halfclose.py"
#define OUT_MAX         8192
#define TOOL_MS         30000
#define LOG_WAIT_MS     5000            /* access log: flushed each second */

static struct proxy px;
static const char *const h1protos[] = { "plain", "tls", "tlsfin" };
static const char *const h2protos[] = { "tls", "h2c" };

static void
start(void)
{
	memset(&px, 0, sizeof(px));
	proxy_start_tls(&px, "%sbackend o { server %s }\nroute * o\n"
	    "backend_read_timeout 2s\nsend_timeout 2s\n"
	    "keepalive_timeout 2s\ntunnel_timeout 5s\n",
	    harness_tls_block(NULL), origins[0].tcp);
}

static int
port_of(const char *proto)
{
	return strcmp(proto, "plain") == 0 || strcmp(proto, "h2c") == 0 ?
	    px.port : px.tls_port;
}

/* halfclose.py MODE PROTO PORT ARGS (up to three); asserts it ran. */
static void
tool(char *out, const char *mode, const char *proto, const char *a,
    const char *b)
{
	char port[16], err[4096];
	char *argv[] = { "/usr/bin/python3", HALFCLOSE, (char *)mode,
	    (char *)proto, port, (char *)a, (char *)b, NULL };
	int rc;

	snprintf(port, sizeof(port), "%d", port_of(proto));
	rc = run_argv(argv, out, OUT_MAX, err, sizeof(err), TOOL_MS);
	ck_assert_msg(rc == 0, "halfclose.py %s %s: exit %d\n%s\n%s", mode,
	    proto, rc, out, err);
}

/* The connection ended cleanly: a FIN, or over TLS a close_notify (no
 * reset, no timeout). */
static void
assert_clean_end(const char *out, const char *proto)
{
	const char *end = kv(out, "end");

	ck_assert_msg(strcmp(end, strcmp(proto, "plain") == 0 ? "fin" :
	    "close_notify") == 0, "%s: ended with %s:\n%s", proto, end, out);
}

/* ---- tunnels ---- */

/* The client sends a Close and shuts its write side: the origin's Close
 * reply still reaches it (it used to be dropped at the client's EOF),
 * then the connection ends cleanly. */
START_TEST(test_ws_client_halfclose)
{
	const char *proto = h1protos[_i];
	char out[OUT_MAX];

	start();
	tool(out, "ws", proto, NULL, NULL);
	assert_kv(out, "close_code", "1000");
	assert_clean_end(out, proto);
	proxy_stop(&px);
}
END_TEST

/* What origin O received after the request head on its last connection
 * whose bytes begin with LINE, malloc'd, its length in *LEN; NULL if no
 * such connection (yet). Recorded bytes are binary (a WebSocket mask
 * may hold a NUL): lengths, never strstr/strlen, over all of them. */
static char *
after_head(const struct origin *o, const char *line, size_t *len)
{
	struct stats st = origin_stats(o);
	size_t n, head;
	char *one, *end;
	long i;

	for (i = st.conns - 1; i >= 1; i--) {
		one = origin_received(o, i, &n);
		if (n >= strlen(line) && memcmp(one, line, strlen(line)) == 0 &&
		    (end = memmem(one, n, "\r\n\r\n", 4)) != NULL) {
			head = (size_t)(end - one) + 4;
			*len = n - head;
			memmove(one, one + head, *len + 1);
			return one;
		}
		free(one);
	}
	return NULL;
}

/* The origin shuts its write side after the 101 (/ws?half_close=1): the
 * client gets that EOF, and what it sends afterwards (a NUL, then a mark)
 * reaches the origin byte for byte. This row once ran strstr over all
 * the connections' bytes, which stopped at a NUL in an earlier row's
 * random WebSocket mask (about one tcase run in 14): the mark seemed
 * lost, and the row was skipped under ASan. The NUL sent before the
 * mark keeps such a search from ever passing. */
START_TEST(test_ws_backend_halfclose)
{
	const char *proto = h1protos[_i];
	char out[OUT_MAX], mark[64], want[65], *got = NULL;
	size_t n = 0, want_len;
	int64_t deadline;

	snprintf(mark, sizeof(mark), "after-backend-eof-%s-%d", proto,
	    (int)(now_ms() % 100000));
	want[0] = '\0';
	memcpy(want + 1, mark, strlen(mark));
	want_len = 1 + strlen(mark);
	start();
	tool(out, "wsback", proto, mark, NULL);
	assert_kv(out, "backend_eof", strcmp(proto, "plain") == 0 ? "fin" :
	    "close_notify");
	assert_kv(out, "bytes", "0");
	/* polled: the bytes cross portico to the origin's record file */
	deadline = now_ms() + 10000;
	do {
		free(got);
		got = after_head(&origins[0], "GET /ws?half_close=1 ", &n);
		if (got != NULL && n >= want_len)
			break;
		sleep_ms(50);
	} while (now_ms() < deadline);
	ck_assert_msg(got != NULL, "%s: no /ws?half_close=1 connection "
	    "recorded:\n%s", proto, out);
	ck_assert_msg(n == want_len && memcmp(got, want, want_len) == 0,
	    "%s: after its half-close the origin got %zu bytes, not NUL "
	    "\"%s\" (%zu):\n%s", proto, n, mark, want_len, out);
	free(got);
	proxy_stop(&px);
}
END_TEST

/* ---- requests ---- */

/* GET then shutdown(SHUT_WR): the whole response (100,000 bytes, more
 * than one write), then a clean close. */
START_TEST(test_request_then_halfclose)
{
	const char *proto = h1protos[_i];
	char out[OUT_MAX];

	start();
	tool(out, "req", proto, "/bytes/100000", "1");
	assert_kv(out, "responses", "1");
	assert_kv(out, "status_1", "200");
	assert_kv(out, "complete_1", "yes");
	assert_kv(out, "body_1", "100000");
	assert_clean_end(out, proto);
	proxy_stop(&px);
}
END_TEST

/* Three pipelined GETs then the EOF, all in the input at once: each is
 * answered, as nginx does, and then the connection closes. */
START_TEST(test_pipelined_then_halfclose)
{
	const char *proto = h1protos[_i];
	char out[OUT_MAX];

	start();
	tool(out, "req", proto, "/echo", "3");
	assert_kv(out, "responses", "3");
	assert_kv(out, "status_3", "200");
	assert_kv(out, "complete_1", "yes");
	assert_kv(out, "complete_2", "yes");
	assert_kv(out, "complete_3", "yes");
	assert_clean_end(out, proto);
	proxy_stop(&px);
}
END_TEST

/* A head cut by the EOF: no response, the connection closes, and no
 * backend ever heard of it. */
START_TEST(test_halfclose_mid_head)
{
	const char *proto = h1protos[_i];
	char out[OUT_MAX];
	struct stats before, after;

	start();
	before = origin_stats(&origins[0]);
	tool(out, "partial", proto, "head", NULL);
	assert_kv(out, "bytes", "0");
	assert_clean_end(out, proto);
	ck_assert_msg(file_wait_for(px.error_log,
	    "client closed inside a request head", 3000),
	    "%s: no close logged", proto);
	after = origin_stats(&origins[0]);
	ck_assert_int_eq(after.conns - before.conns - 1, 0);
	proxy_stop(&px);
}
END_TEST

/* A body cut by the EOF (10 of 100 bytes): no response, the connection
 * closes, and the backend request is aborted: its connection is closed,
 * not kept for the next request. */
START_TEST(test_halfclose_mid_body)
{
	const char *proto = h1protos[_i];
	char out[OUT_MAX];
	struct stats before, after;
	struct resp r;

	start();
	before = origin_stats(&origins[0]);
	tool(out, "partial", proto, "body", NULL);
	assert_kv(out, "bytes", "0");
	assert_clean_end(out, proto);
	ck_assert_msg(file_wait_for(px.access_log,
	    "client closed inside the request body", LOG_WAIT_MS),
	    "%s: no abort in the access log", proto);
	/* one more request: over a fresh backend connection */
	rawc_fetch(px.port, "GET /echo HTTP/1.1\r\nHost: a.test\r\n"
	    "Connection: close\r\n\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	after = origin_stats(&origins[0]);
	ck_assert_int_eq(after.conns - before.conns - 1, 2);
	ck_assert_int_eq(after.reqs - before.reqs, 2);
	proxy_stop(&px);
}
END_TEST

/* ---- cut responses ---- */

static const struct cut_case {
	const char *target;
	const char *version;
	const char *framing;            /* to the client */
	bool is_complete;
	const char *end;                /* plain; NULL: a clean close */
} cuts[] = {
	{ "/cut/length", "1.1", "length", false, NULL },
	{ "/cut/length?fin=1", "1.1", "length", false, NULL },
	{ "/cut/chunked", "1.1", "chunked", false, NULL },
	{ "/cut/chunked?fin=1", "1.1", "chunked", false, NULL },
	{ "/cut/badchunk", "1.1", "chunked", false, NULL },
	{ "/cut/close", "1.1", "chunked", false, NULL },
	/* read until close by the client too: only a reset can tell */
	{ "/cut/close", "1.0", "close", false, "reset" },
	/* a FIN ends such a body: complete */
	{ "/cut/close?fin=1", "1.1", "chunked", true, NULL },
	{ "/cut/close?fin=1", "1.0", "close", true, NULL },
};

/* The failure's line names the backend and its server, once. */
static void
assert_abort_logged(const char *what)
{
	char needle[128];

	snprintf(needle, sizeof(needle), "backend o server %s: ",
	    origins[0].tcp);
	ck_assert_msg(file_wait_count(px.error_log, "(response aborted)", 1,
	    3000), "%s: no abort logged", what);
	ck_assert_msg(file_count(px.error_log, needle) == 1 &&
	    file_count(px.error_log, "(response aborted)") == 1,
	    "%s: wanted one \"%s... (response aborted)\" line", what,
	    needle);
}

static void
assert_no_abort(const char *what)
{
	sleep_ms(200);
	ck_assert_msg(file_count(px.error_log, "(response aborted)") == 0,
	    "%s: a complete response was aborted", what);
}

/* Over HTTP/1.1 (cleartext and TLS) each /cut case, read in raw bytes:
 * the client's framing shows the cut (no last chunk, short of the
 * length), and the connection ends without a timeout. */
START_TEST(test_cut_h1)
{
	const struct cut_case *k = &cuts[_i / 2];
	const char *proto = _i % 2 == 0 ? "plain" : "tls";
	char out[OUT_MAX], what[128];
	long body;

	snprintf(what, sizeof(what), "%s HTTP/%s over %s", k->target,
	    k->version, proto);
	start();
	tool(out, "cut", proto, k->target, k->version);
	ck_assert_msg(strcmp(kv(out, "timeout"), "(absent)") == 0,
	    "%s: the client waited for ever:\n%s", what, out);
	assert_kv(out, "status", "200");
	assert_kv(out, "framing", k->framing);
	assert_kv(out, "complete", k->is_complete ? "yes" : "no");
	body = atol(kv(out, "body"));
	if (k->is_complete) {
		ck_assert_int_eq(body, 1000);
		assert_no_abort(what);
	} else {
		ck_assert_msg(body <= 1000, "%s: %ld body bytes", what, body);
		assert_abort_logged(what);
	}
	if (k->end != NULL)
		assert_kv(out, "end", k->end);
	else if (!k->is_complete || strcmp(k->framing, "close") == 0)
		assert_clean_end(out, proto);
	proxy_stop(&px);
}
END_TEST

static const struct {
	const char *target;
	bool is_complete;
} h2cuts[] = {
	{ "/cut/length", false },
	{ "/cut/length?fin=1", false },
	{ "/cut/chunked", false },
	{ "/cut/badchunk", false },
	{ "/cut/close", false },
	{ "/cut/close?fin=1", true },
};

/* Over TLS HTTP/2 and h2c: RST_STREAM INTERNAL_ERROR, never END_STREAM,
 * for every cut; END_STREAM after the FIN that ends a body read until
 * close. */
START_TEST(test_cut_h2)
{
	const char *target = h2cuts[_i / 2].target;
	const char *proto = h2protos[_i % 2];
	char out[OUT_MAX], what[128];

	snprintf(what, sizeof(what), "%s over %s", target, proto);
	start();
	tool(out, "h2cut", proto, target, NULL);
	assert_kv(out, "status", "200");
	if (h2cuts[_i / 2].is_complete) {
		assert_kv(out, "end", "ended");
		assert_kv(out, "body", "1000");
		assert_no_abort(what);
	} else {
		assert_kv(out, "end", "reset:INTERNAL_ERROR");
		assert_abort_logged(what);
	}
	proxy_stop(&px);
}
END_TEST

Suite *
halfclose_suite(void)
{
	Suite *s = suite_create("halfclose");
	TCase *tc = tcase_create("tunnel");

	tcase_add_unchecked_fixture(tc, harness_setup, NULL);
	tcase_add_unchecked_fixture(tc, harness_certs, harness_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_ws_client_halfclose, 0,
	    NELEMS(h1protos));
	tcase_add_loop_test(tc, test_ws_backend_halfclose, 0,
	    NELEMS(h1protos));
	suite_add_tcase(s, tc);
	tc = tcase_create("request");
	tcase_add_unchecked_fixture(tc, harness_setup, NULL);
	tcase_add_unchecked_fixture(tc, harness_certs, harness_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_request_then_halfclose, 0,
	    NELEMS(h1protos));
	tcase_add_loop_test(tc, test_pipelined_then_halfclose, 0,
	    NELEMS(h1protos));
	tcase_add_loop_test(tc, test_halfclose_mid_head, 0, NELEMS(h1protos));
	tcase_add_loop_test(tc, test_halfclose_mid_body, 0, NELEMS(h1protos));
	suite_add_tcase(s, tc);
	tc = tcase_create("cut");
	tcase_add_unchecked_fixture(tc, harness_setup, NULL);
	tcase_add_unchecked_fixture(tc, harness_certs, harness_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_cut_h1, 0, 2 * NELEMS(cuts));
	tcase_add_loop_test(tc, test_cut_h2, 0, 2 * NELEMS(h2cuts));
	suite_add_tcase(s, tc);
	return s;
}
