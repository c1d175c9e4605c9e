/* tests/integration/test_errors.c: oversized requests are refused before
 * they reach the origin, and backend failures map to 502 and 504 with a
 * warn line naming the backend, each over HTTP/1.1, TLS HTTP/1.1, TLS
 * HTTP/2 and h2c (a loop over enum proto inside the test, one portico
 * for the four); malformed HTTP/1.1 bytes and descriptor exhaustion,
 * which only one protocol has, are sent raw. Each case asserts what the
 * origin received as well as what the client got. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "client.h"
#include "harness.h"
#include "proto.h"
#include "suites.h"

#define LIMITS  "client_max_header_size 1k\nclient_max_uri_size 256\n" \
		"client_max_body_size 1k\nclient_header_timeout 1s\n"
#define ONE_BACKEND     "backend o { server %s }\nroute * o\n"
#define HOST_A          "Host: a.test"
#define SETTLE_MS       200     /* for a forwarded request to be counted */

static struct proxy px;

/* With both listeners (proto_proxy_start): every protocol can come. */
static void
start_limited(void)
{
	proto_proxy_start(&px, 0, ONE_BACKEND LIMITS, origins[0].tcp);
}

/* GET TARGET over PROTO must get STATUS. */
static void
expect_status(enum proto proto, const char *target, int status)
{
	static const char *const h[] = { HOST_A, NULL };
	struct resp r;

	proto_request(proto, &px, "GET", target, h, NULL, 0, &r);
	ck_assert_msg(r.status == status, "GET %s over %s: wanted %d, got %d",
	    target, proto_names[proto], status, r.status);
	resp_free(&r);
}

/* ---- over every protocol: limits on what the client sends ---- */

/* A head over client_max_header_size: 431, as an HTTP/1.1 head or as
 * a decoded HTTP/2 header list (RFC 9113 §6.5.2), and the origin sees
 * nothing of it. test_hostile_h2.c has the HPACK-bomb variants. */
START_TEST(test_head_too_large)
{
	char big[1600] = "X-Big: ";
	const char *const h[] = { HOST_A, big, NULL };
	char target[128];
	struct resp r;
	int p;

	memset(big + 7, 'x', 1500);
	big[1507] = '\0';
	start_limited();
	for (p = 0; p < P_COUNT; p++) {
		proto_target(target, sizeof(target), "/echo?big=1", p);
		proto_request(p, &px, "GET", target, h, NULL, 0, &r);
		ck_assert_msg(r.status == 431, "1.5k head over %s: %d",
		    proto_names[p], r.status);
		resp_free(&r);
		ck_assert_msg(origin_requests(&origins[0], "GET", target) ==
		    0, "a 1.5k head reached the origin over %s",
		    proto_names[p]);
	}
	ck_assert_int_eq(origin_count(&origins[0], "xxxxxxxxxxxxxxxx"), 0);
	proxy_stop(&px);
}
END_TEST

/* The :status nghttp sees for a POST of BODYLEN bytes over PROTO (h2
 * only): curl 7.88 reports the RST_STREAM NO_ERROR that follows an
 * early response (RFC 9113 §8.1) as a stream error and drops the
 * response; nghttp, like browsers, keeps it. */
static int
h2_post_status(enum proto proto, const char *target, const char *body,
    size_t bodylen)
{
	char url[256], out[16384], err[4096];
	char path[] = "/tmp/portico-h2post-XXXXXX";
	char *argv[] = { "/usr/bin/nghttp", "-v", "-d", path, "-H",
	    ":authority: a.test", "-H", "x-row: big", url, NULL };
	const char *at;
	int fd = mkstemp(path);

	ck_assert_int_ne(fd, -1);
	ck_assert(write(fd, body, bodylen) == (ssize_t)bodylen);
	close(fd);
	snprintf(url, sizeof(url), "%s://127.0.0.1:%d%s",
	    proto == P_H2TLS ? "https" : "http",
	    proto == P_H2TLS ? px.tls_port : px.port, target);
	run_argv(argv, out, sizeof(out), err, sizeof(err), 10000);
	unlink(path);
	at = strstr(out, ":status: ");
	return at != NULL ? atoi(at + 9) : 0;
}

/* 8k bodies over client_max_body_size 1k: declared (Content-Length),
 * declared with Expect: 100-continue (a final status instead of the
 * 100, RFC 9110 §10.1.1), and known only as the body comes (chunked
 * over HTTP/1.1, DATA without content-length over HTTP/2). */
static const struct {
	const char *what;
	const char *const headers[5];
	bool is_declared;
} big_bodies[] = {
	{ "declared", { HOST_A, "X-Row: big", "Expect:", NULL }, true },
	{ "declared, Expect: 100-continue", { HOST_A, "X-Row: big",
	  "Expect: 100-continue", NULL }, true },
	{ "no length", { HOST_A, "X-Row: big", "Expect:",
	  "Transfer-Encoding: chunked", NULL }, false },
};

/* 413, and no byte of the request reaches the origin. */
START_TEST(test_body_too_large)
{
	char body[8192], target[128];
	struct resp r;
	int p, status;

	start_limited();
	memset(body, 'x', sizeof(body));
	for (p = 0; p < P_COUNT; p++) {
		proto_target(target, sizeof(target), "/echo?row=big", p);
		if (big_bodies[_i].is_declared && proto_is_h2(p)) {
			status = h2_post_status(p, target, body, sizeof(body));
		} else {
			proto_request(p, &px, "POST", target,
			    big_bodies[_i].headers, body, sizeof(body), &r);
			status = r.status;
			resp_free(&r);
		}
		ck_assert_msg(status == 413, "%s over %s: status %d",
		    big_bodies[_i].what, proto_names[p], status);
		ck_assert_msg(origin_requests(&origins[0], "POST", target) ==
		    0, "%s over %s reached the origin", big_bodies[_i].what,
		    proto_names[p]);
	}
	ck_assert_int_eq(origin_count(&origins[0], "X-Row: big"), 0);
	ck_assert_int_eq(origin_count(&origins[0], "xxxxxxxxxxxxxxxx"), 0);
	proxy_stop(&px);
}
END_TEST

/* ---- HTTP/1.1 only: malformed bytes ----
 * These are HTTP/1.1 syntax (framing fields, folding, the request line),
 * which an HTTP/2 request cannot carry: its analogues (content-length
 * against DATA, upper-case names, connection-specific fields, NUL in a
 * value, a missing pseudo-header: RST_STREAM PROTOCOL_ERROR) are rows
 * of h2conform.py (test_h2conform.c). */

/* Each request is HEAD, then PAD bytes 'x', then TAIL (TAILLEN bytes, or
 * strlen when 0, so that a NUL can be sent). */
static const struct {
	const char *what;
	const char *head;
	size_t pad;
	const char *tail;
	size_t taillen;
	int status;
} bad_cases[] = {
	/* RFC 9112 §6.1 */
	{ "Content-Length with Transfer-Encoding",
	  "POST /echo HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
	  0, "", 0, 400 },
	/* RFC 9112 §6.3 */
	{ "two different Content-Length",
	  "POST /echo HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\n"
	  "Content-Length: 6\r\n\r\nhello!", 0, "", 0, 400 },
	{ "Content-Length: abc",
	  "POST /echo HTTP/1.1\r\nHost: a.test\r\nContent-Length: abc\r\n"
	  "\r\n", 0, "", 0, 400 },
	{ "Content-Length: -1",
	  "POST /echo HTTP/1.1\r\nHost: a.test\r\nContent-Length: -1\r\n"
	  "\r\n", 0, "", 0, 400 },
	/* RFC 9112 §6.3: chunked must be the final request coding */
	{ "Transfer-Encoding: gzip",
	  "POST /echo HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: gzip"
	  "\r\n\r\nhello", 0, "", 0, 400 },
	{ "chunk size \"zz\"",
	  "POST /echo HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked"
	  "\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 0, "", 0, 400 },
	/* RFC 9112 §5.2 */
	{ "obs-fold",
	  "GET /echo HTTP/1.1\r\nHost: a.test\r\nX: a\r\n b\r\n\r\n",
	  0, "", 0, 400 },
	/* RFC 9110 §5.5: CR, LF and NUL are never valid in a value */
	{ "bare CR in a value",
	  "GET /echo HTTP/1.1\r\nHost: a.test\r\nX: a\rb\r\n\r\n",
	  0, "", 0, 400 },
	{ "NUL in a value",
	  "GET /echo HTTP/1.1\r\nHost: a.test\r\nX: a", 0, "\0b\r\n\r\n", 7,
	  400 },
	/* RFC 9112 §5.1 */
	{ "space before the colon",
	  "GET /echo HTTP/1.1\r\nHost : a.test\r\n\r\n", 0, "", 0, 400 },
	/* RFC 9112 §3.2 */
	{ "HTTP/1.1 without Host", "GET /echo HTTP/1.1\r\n\r\n", 0, "", 0,
	  400 },
	{ "not a request line", "GARBAGE\r\n\r\n", 0, "", 0, 400 },
	/* HTTP/2 has no request line: its :path counts in the header list
	 * (client_max_header_size, test_head_too_large) */
	{ "400-byte request line, limit 256",
	  "GET /echo?", 400, " HTTP/1.1\r\nHost: a.test\r\n\r\n", 0, 414 },
	/* a length declared and no body byte sent, which curl cannot do;
	 * the 413s with a body are test_body_too_large's */
	{ "Content-Length: 2000, limit 1k, no body sent",
	  "POST /echo HTTP/1.1\r\nHost: a.test\r\nContent-Length: 2000\r\n"
	  "\r\n", 0, "", 0, 413 },
};

static void
send_case(struct rawc *c, size_t i)
{
	size_t n = bad_cases[i].pad;
	char *pad = malloc(n + 1);

	ck_assert_ptr_nonnull(pad);
	memset(pad, 'x', n);
	rawc_sends(c, bad_cases[i].head);
	rawc_send(c, pad, n);
	rawc_send(c, bad_cases[i].tail, bad_cases[i].taillen > 0 ?
	    bad_cases[i].taillen : strlen(bad_cases[i].tail));
	free(pad);
}

/* The response is STATUS, the connection then closes, and the origin
 * counted no request. */
static void
expect_refused(struct rawc *c, int status, const char *what,
    struct stats before)
{
	struct stats after;
	struct resp r;

	ck_assert_msg(rawc_response(c, &r, false, 5000) == 0,
	    "no response to %s (%s)", what, c->is_eof ? "closed" : "timeout");
	ck_assert_msg(r.status == status, "%s: wanted %d, got %s", what,
	    status, r.head);
	resp_free(&r);
	ck_assert_msg(rawc_wait_eof(c, 3000), "%s: still open after %d",
	    what, status);
	ck_assert_msg(c->err == 0, "%s: closed with %s, not a FIN, after %d",
	    what, strerror(c->err), status);
	sleep_ms(SETTLE_MS);
	after = origin_stats(&origins[0]);
	ck_assert_msg(after.reqs == before.reqs, "%s reached the origin",
	    what);
}

START_TEST(test_bad_request)
{
	struct stats before;
	struct rawc *c;

	start_limited();
	before = origin_stats(&origins[0]);
	c = rawc_connect(px.port);
	send_case(c, (size_t)_i);
	expect_refused(c, bad_cases[_i].status, bad_cases[_i].what, before);
	rawc_close(c);
	proxy_stop(&px);
}
END_TEST

/* HTTP/1.1 only: half a head, then silence. The HTTP/2 analogue, a
 * header block left open, gets GOAWAY after client_header_timeout
 * (test_h2_open_header_block_times_out, hostile suite); a body that
 * stops coming gets 408 over all four protocols in test_body_stall
 * (timers suite). */
START_TEST(test_header_timeout)
{
	struct stats before;
	struct rawc *c;

	start_limited();
	before = origin_stats(&origins[0]);
	c = rawc_connect(px.port);
	rawc_sends(c, "GET /echo HTTP/1.1\r\nHost: a.test\r\n");
	expect_refused(c, 408, "half a head", before);
	rawc_close(c);
	proxy_stop(&px);
}
END_TEST

/* A body that failed half way must not leave a pooled backend connection
 * expecting the rest: the next request has to arrive as itself. Over
 * HTTP/1.1 raw (TLS HTTP/1.1 reads the same bytes with the same
 * parser); over HTTP/2, curl declares content-length 100 and sends 15
 * bytes of DATA with END_STREAM (RST_STREAM PROTOCOL_ERROR, RFC 9113
 * §8.1.1). */
static const struct {
	const char *what;
	const char *raw;        /* HTTP/1.1 bytes; NULL: curl over proto */
	enum proto proto;
} broken_bodies[] = {
	{ "chunked, then a bad chunk size",
	  "POST /echo?broken=1 HTTP/1.1\r\nHost: a.test\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n", P_H1 },
	{ "Content-Length: 100, the client gone after 15 bytes",
	  "POST /echo?broken=1 HTTP/1.1\r\nHost: a.test\r\n"
	  "Content-Length: 100\r\n\r\nonly part of it", P_H1 },
	{ "content-length: 100, 15 bytes of DATA", NULL, P_H2TLS },
	{ "content-length: 100, 15 bytes of DATA", NULL, P_H2C },
};

static void
send_broken(enum proto proto, const char *raw)
{
	/* curl sends the DATA after a 100 or a second: by then the head
	 * is at the backend, on the pooled connection */
	static const char *const h[] = { HOST_A, "Expect: 100-continue",
	    "Content-Length: 100", NULL };
	struct rawc *c;
	struct resp r;
	char ver[32];

	if (raw == NULL) {
		proto_request_rc(proto, &px, "POST", "/echo?broken=1", h,
		    "only part of it", 15, &r, ver, sizeof(ver));
		ck_assert_msg(r.status != 200, "a short body over %s got %d",
		    proto_names[proto], r.status);
		resp_free(&r);
		return;
	}
	c = rawc_connect(px.port);
	rawc_sends(c, raw);
	sleep_ms(SETTLE_MS);
	rawc_close(c);          /* chunked: after its 400; else mid-body */
}

/* One worker, so that the broken request meets the pooled connection. */
START_TEST(test_pool_after_broken_body)
{
	static const char *const h[] = { HOST_A, NULL };
	enum proto p = broken_bodies[_i].proto;
	char v[256], target[64], *got;
	struct resp r;

	proto_proxy_start(&px, 1, ONE_BACKEND LIMITS, origins[0].tcp);
	expect_status(p, "/echo?warm=1", 200);
	send_broken(p, broken_bodies[_i].raw);
	sleep_ms(SETTLE_MS);
	snprintf(target, sizeof(target), "/echo?after=%d", _i);
	proto_request(p, &px, "GET", target, h, NULL, 0, &r);
	ck_assert_msg(r.status == 200, "%s over %s, then: %s",
	    broken_bodies[_i].what, proto_names[p], r.head);
	ck_assert_msg(json_str(r.body, "target", v, sizeof(v)) &&
	    strcmp(v, target) == 0 && json_str(r.body, "method", v,
	    sizeof(v)) && strcmp(v, "GET") == 0, "%s over %s, then the "
	    "origin read:\n%s", broken_bodies[_i].what, proto_names[p],
	    r.body);
	/* the connection that served it never carried the broken one */
	got = origin_received(&origins[0], (long)json_num(r.body,
	    "connection"), NULL);
	ck_assert_msg(strstr(got, "POST /echo?broken=1") == NULL, "%s over "
	    "%s: the next request went on its connection:\n%s",
	    broken_bodies[_i].what, proto_names[p], got);
	free(got);
	resp_free(&r);
	proxy_stop(&px);
}
END_TEST

/* ---- backend failures, over every protocol ---- */

/* A warning about BACKEND for PROTO's request, the Nth request of the
 * test, tagged with the client's connection. */
static void
expect_warn(const char *backend, enum proto proto, int n)
{
	char needle[128];

	snprintf(needle, sizeof(needle), "] backend %s ", backend);
	ck_assert_msg(file_wait_count(px.error_log, needle, n, 3000),
	    "over %s, not %d \"%s\" in %s", proto_names[proto], n, needle,
	    px.error_log);
	ck_assert_msg(file_count(px.error_log, "[warn] [w") > 0,
	    "no tagged warning in %s", px.error_log);
}

START_TEST(test_backend_refused)
{
	int p;

	proto_proxy_start(&px, 0, "backend dead { server 127.0.0.1:%d }\n"
	    "route * dead\n", free_port());
	for (p = 0; p < P_COUNT; p++) {
		expect_status(p, "/echo", 502);
		expect_warn("dead", p, p + 1);
	}
	proxy_stop(&px);
}
END_TEST

/* The dead server is tried first and logged; each request then reaches
 * the live one exactly once. */
START_TEST(test_backend_next_server)
{
	char needle[128], target[64];
	int port = free_port(), p, i;

	/* the dead one is picked first whatever the balancing */
	proto_proxy_start(&px, 0, "backend twin {\n\tserver 127.0.0.1:%d "
	    "weight=1000\n\tserver %s\n}\nroute * twin\n", port,
	    origins[0].tcp);
	for (p = 0; p < P_COUNT; p++) {
		proto_target(target, sizeof(target), "/echo?twin=1", p);
		for (i = 0; i < 4; i++)
			expect_status(p, target, 200);
		assert_origin_requests(&origins[0], "GET", target, 4);
	}
	snprintf(needle, sizeof(needle), "backend twin server 127.0.0.1:%d",
	    port);
	ck_assert_msg(file_wait_for(px.error_log, needle, 3000),
	    "no \"%s\" in %s", needle, px.error_log);
	proxy_stop(&px);
}
END_TEST

START_TEST(test_backend_connect_timeout)
{
	int fds[8], port = listen_full(fds), i, p;

	ck_assert_msg(port > 0, "could not fill a loopback accept queue, so "
	    "connect cannot be made to hang here");
	proto_proxy_start(&px, 0, "backend hang { server 127.0.0.1:%d }\n"
	    "route * hang\nbackend_connect_timeout 500ms\n", port);
	for (p = 0; p < P_COUNT; p++) {
		expect_status(p, "/echo", 504);
		expect_warn("hang", p, p + 1);
	}
	proxy_stop(&px);
	for (i = 0; i < 8; i++)
		if (fds[i] != -1)
			close(fds[i]);
}
END_TEST

/* Each reached the origin once: a backend that failed is not asked
 * again (nothing tells what it did with the request). */
static const struct {
	const char *target;
	int status;
} upstream_cases[] = {
	{ "/slow?ms=3000", 504 },       /* backend_read_timeout 1s */
	{ "/bad", 502 },                /* "HTTP/1.1 2x0 Nope" */
	{ "/bighead?size=100000", 502 },        /* backend_max_header_size */
	{ "/close", 502 },              /* closes without a response */
};

START_TEST(test_backend_failure)
{
	char target[128];
	int p;

	proto_proxy_start(&px, 0, ONE_BACKEND "backend_read_timeout 1s\n"
	    "backend_max_header_size 32k\n", origins[0].tcp);
	for (p = 0; p < P_COUNT; p++) {
		proto_target(target, sizeof(target), upstream_cases[_i].target,
		    p);
		expect_status(p, target, upstream_cases[_i].status);
		expect_warn("o", p, p + 1);
		assert_origin_requests(&origins[0], "GET", target, 1);
	}
	proxy_stop(&px);
}
END_TEST

/* /drop: Content-Length 1000000, 10000 bytes, then close. The response
 * has begun, so the client's must end short: the HTTP/1.1 connection
 * closes (curl: exit 18), the HTTP/2 stream is reset (exit 92), and the
 * request is not sent again. */
START_TEST(test_backend_drop)
{
	static const char *const h[] = { HOST_A, NULL };
	char target[64], ver[32];
	struct resp r;
	int p, rc;

	proto_proxy_start(&px, 0, ONE_BACKEND, origins[0].tcp);
	for (p = 0; p < P_COUNT; p++) {
		proto_target(target, sizeof(target), "/drop", p);
		rc = proto_request_rc(p, &px, "GET", target, h, NULL, 0, &r,
		    ver, sizeof(ver));
		/* curl 7.88 may drop the head of a stream reset in the
		 * same read: the status is then 0 */
		ck_assert_msg(rc == (proto_is_h2(p) ? 92 : 18) &&
		    (r.status == 200 || (proto_is_h2(p) && r.status == 0)) &&
		    r.bodylen < 1000000, "a dropped response over %s must "
		    "end short: %d, curl exit %d, %zu bytes", proto_names[p],
		    r.status, rc, r.bodylen);
		resp_free(&r);
		expect_warn("o", p, p + 1);
		assert_origin_requests(&origins[0], "GET", target, 1);
	}
	proxy_stop(&px);
}
END_TEST

/* A pooled connection the backend closes just as the next request
 * arrives (the origin's /close-next): retried once on a fresh one when no
 * body byte was sent; with a body, the client gets a 502, as nothing
 * tells whether the backend acted on it. One worker, so that the
 * requests (each a curl of its own) meet the same pool. */
static void
stale_retry(enum proto proto)
{
	static const char *const h[] = { HOST_A, NULL };
	char target[64], line[128], *armed_got, *fresh_got;
	long armed, fresh;
	struct resp r;

	proto_target(target, sizeof(target), "/echo?stale=1", proto);
	snprintf(line, sizeof(line), "GET %s HTTP/1.1\r\n", target);
	proto_request(proto, &px, "GET", "/close-next", h, NULL, 0, &r);
	ck_assert_msg(r.status == 200 && sscanf(r.body, "armed %ld",
	    &armed) == 1, "/close-next over %s: %d", proto_names[proto],
	    r.status);
	resp_free(&r);
	proto_request(proto, &px, "GET", target, h, NULL, 0, &r);
	ck_assert_msg(r.status == 200, "over %s: %d", proto_names[proto],
	    r.status);
	fresh = (long)json_num(r.body, "connection");
	ck_assert_msg(fresh > armed, "over %s, the retry must use a fresh "
	    "connection (armed %ld, served on %ld)", proto_names[proto],
	    armed, fresh);
	resp_free(&r);
	/* dropped on the armed connection, then once on the fresh one */
	armed_got = origin_received(&origins[0], armed, NULL);
	fresh_got = origin_received(&origins[0], fresh, NULL);
	ck_assert_msg(str_count(armed_got, line) == 1 &&
	    str_count(fresh_got, line) == 1, "over %s, %s: armed connection "
	    "%ld got it %d times, fresh %ld %d times", proto_names[proto],
	    target, armed, str_count(armed_got, line), fresh,
	    str_count(fresh_got, line));
	assert_origin_requests(&origins[0], "GET", target, 2);
	free(armed_got);
	free(fresh_got);
}

static void
stale_no_retry(enum proto proto)
{
	static const char *const h[] = { HOST_A, "Expect:", NULL };
	char target[64];
	struct resp r;

	proto_target(target, sizeof(target), "/echo?stale=post", proto);
	expect_status(proto, "/close-next", 200);
	proto_request(proto, &px, "POST", target, h, "hello", 5, &r);
	assert_origin_requests(&origins[0], "POST", target, 1);
	ck_assert_msg(r.status == 502, "POST over %s: %d",
	    proto_names[proto], r.status);
	resp_free(&r);
}

START_TEST(test_stale_pooled_connection)
{
	int p;

	proto_proxy_start(&px, 1, ONE_BACKEND, origins[0].tcp);
	for (p = 0; p < P_COUNT; p++) {
		stale_retry(p);
		stale_no_retry(p);
		expect_warn("o", p, p + 1);
	}
	proxy_stop(&px);
}
END_TEST

/* ---- HTTP/1.1 only: descriptors and accepting ----
 * Out of descriptors and over max_connections, the listener stops
 * accepting: a TCP matter, before any byte says which protocol comes. */

/* User plus system CPU time of PID, in clock ticks; -1 if gone. */
static long
cpu_ticks(pid_t pid)
{
	char path[64], *st, *p;
	long utime = -1, stime = -1;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((st = file_read(path, NULL)) == NULL)
		return -1;
	/* fields 14 and 15, counted after the ")" that ends the name */
	if ((p = strrchr(st, ')')) != NULL)
		sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
		    "%ld %ld", &utime, &stime);
	free(st);
	return utime < 0 || stime < 0 ? -1 : utime + stime;
}

/* prlimit --nofile=N:N on PID (portico's soft and hard limits). */
static void
set_nofile(pid_t pid, int n)
{
	char lim[32], spid[16], out[256], err[256];
	char *argv[] = { "/usr/bin/prlimit", "--pid", spid, lim, NULL };

	snprintf(spid, sizeof(spid), "%d", (int)pid);
	snprintf(lim, sizeof(lim), "--nofile=%d:%d", n, n);
	ck_assert_msg(run_argv(argv, out, sizeof(out), err, sizeof(err),
	    10000) == 0, "prlimit: %s", err);
}

/* PID's CPU time over MS milliseconds must stay under half a second. */
static void
assert_quiet_cpu(pid_t pid, int ms)
{
	long before = cpu_ticks(pid), used;

	sleep_ms(ms);
	used = cpu_ticks(pid) - before;
	fprintf(stderr, "limits: portico used %ld of %ld ticks a second in "
	    "%d ms\n", used, sysconf(_SC_CLK_TCK), ms);
	ck_assert_msg(before >= 0 && used >= 0 &&
	    used < sysconf(_SC_CLK_TCK) / 2, "portico used %ld ticks in %d "
	    "ms", used, ms);
}

static void
fetch_ok(void)
{
	struct resp r;

	rawc_fetch(px.port, "GET /echo HTTP/1.1\r\nHost: a.test\r\n"
	    "Connection: close\r\n\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
}

/* Out of descriptors (ulimit -n 64, 80 clients waiting in the backlog),
 * a worker logged 1.2 million "accept: Too many open files" lines in 3 s
 * and burned 2 CPU-seconds (issue 12): the connection it could not take
 * woke it again at once. Accepting now pauses 500 ms at a time, one line
 * a pause, and resumes once descriptors are free. The limit is lowered
 * after start, so max_connections (derived at start) does not stop the
 * workers first: this is the EMFILE path. */
START_TEST(test_out_of_fds_no_accept_spin)
{
	struct rawc *c[80];
	size_t i;
	int n;

	memset(&px, 0, sizeof(px));
	proxy_start(&px, ONE_BACKEND, origins[0].tcp);
	set_nofile(px.pid, 64);
	for (i = 0; i < NELEMS(c); i++)
		c[i] = rawc_connect(px.port);
	assert_quiet_cpu(px.pid, 3000);
	n = file_count(px.error_log, "accept");
	fprintf(stderr, "limits: %d accept lines in 3 s\n", n);
	ck_assert_msg(n < 40, "%d accept lines in 3 s", n);
	ck_assert_int_gt(file_count(px.error_log, "accept paused"), 0);
	for (i = 0; i < NELEMS(c); i++)
		rawc_close(c[i]);
	sleep_ms(1500);         /* the pause ends; the backlog is gone */
	fetch_ok();
	proxy_stop(&px);
}
END_TEST

#define KEEP_REQ        "GET /echo HTTP/1.1\r\nHost: a.test\r\n\r\n"

static void
assert_served(struct rawc *c, size_t i)
{
	struct resp r;

	ck_assert_msg(rawc_response(c, &r, false, CLIENT_WAIT_MS) == 0,
	    "connection %zu: no response", i);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
}

/* max_connections 10, one worker, 15 clients: 10 are served, 5 wait in
 * the listen backlog (connected, not refused, not answered), with one
 * log line for the pause; once 5 served ones close, the 5 waiting ones
 * are accepted and served. */
START_TEST(test_max_connections_backlog)
{
	struct rawc *c[15];
	size_t i;
	int n;

	memset(&px, 0, sizeof(px));
	px.workers = 1;
	proxy_start(&px, "max_connections 10\nbackend o { server %s }\n"
	    "route * o\n", origins[0].tcp);
	for (i = 0; i < NELEMS(c); i++) {
		c[i] = rawc_connect(px.port);   /* asserts: not refused */
		rawc_sends(c[i], KEEP_REQ);
	}
	for (i = 0; i < 10; i++)
		assert_served(c[i], i);
	for (i = 10; i < NELEMS(c); i++) {
		rawc_drain(c[i], 300);
		ck_assert_msg(c[i]->len == 0 && !c[i]->is_eof, "connection "
		    "%zu beyond max_connections: %zu bytes, %s", i, c[i]->len,
		    c[i]->is_eof ? "closed" : "open");
	}
	ck_assert_int_eq(file_count(px.error_log, "accepting paused"), 1);
	for (i = 0; i < 5; i++) {
		rawc_close(c[i]);
		c[i] = NULL;
	}
	for (i = 10; i < NELEMS(c); i++)
		assert_served(c[i], i);
	/* full again at 10: a second pause, logged if a second apart */
	n = file_count(px.error_log, "accepting paused");
	ck_assert_msg(n >= 1 && n <= 2, "%d pause lines for 2 pauses", n);
	for (i = 5; i < NELEMS(c); i++)
		rawc_close(c[i]);
	fetch_ok();
	proxy_stop(&px);
}
END_TEST

/* The default follows RLIMIT_NOFILE at start and reload: with 200
 * descriptors and 2 workers, (200 - 64 - 1 listener x 2) / 2 / 2 = 33
 * each, so 80 idle clients fill at least one worker, which pauses (one
 * line) before it runs out of descriptors: no EMFILE, no spin. */
START_TEST(test_max_connections_from_rlimit)
{
	struct rawc *c[80];
	size_t i;
	int n;

	memset(&px, 0, sizeof(px));
	proxy_start_how(&px, &(struct proxy_how){ .user = NULL },
	    "backend o { server %s }\nroute * o\n", origins[0].tcp);
	set_nofile(px.pid, 200);
	proxy_reload(&px, true);
	ck_assert(file_wait_count(px.error_log, "max_connections 33", 2,
	    5000));
	for (i = 0; i < NELEMS(c); i++)
		c[i] = rawc_connect(px.port);
	assert_quiet_cpu(px.pid, 3000);
	n = file_count(px.error_log, "accepting paused");
	ck_assert_msg(n >= 1 && n <= 2, "%d pause lines, 2 workers", n);
	ck_assert_int_eq(file_count(px.error_log, "accept paused"), 0);
	for (i = 0; i < NELEMS(c); i++)
		rawc_close(c[i]);
	fetch_ok();
	proxy_stop(&px);
}
END_TEST

Suite *
errors_suite(void)
{
	Suite *s = suite_create("errors");
	TCase *tc = tcase_create("client");

	tcase_add_unchecked_fixture(tc, harness_setup, NULL);
	tcase_add_unchecked_fixture(tc, harness_certs, harness_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_head_too_large);
	tcase_add_loop_test(tc, test_body_too_large, 0, NELEMS(big_bodies));
	tcase_add_loop_test(tc, test_bad_request, 0, NELEMS(bad_cases));
	tcase_add_test(tc, test_header_timeout);
	tcase_add_loop_test(tc, test_pool_after_broken_body, 0,
	    NELEMS(broken_bodies));
	suite_add_tcase(s, tc);
	tc = tcase_create("limits");
	tcase_add_unchecked_fixture(tc, harness_setup, harness_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_out_of_fds_no_accept_spin);
	tcase_add_test(tc, test_max_connections_backlog);
	tcase_add_test(tc, test_max_connections_from_rlimit);
	suite_add_tcase(s, tc);
	tc = tcase_create("backend");
	tcase_add_unchecked_fixture(tc, harness_setup, NULL);
	tcase_add_unchecked_fixture(tc, harness_certs, harness_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_backend_refused);
	tcase_add_test(tc, test_backend_next_server);
	tcase_add_test(tc, test_backend_connect_timeout);
	tcase_add_loop_test(tc, test_backend_failure, 0,
	    NELEMS(upstream_cases));
	tcase_add_test(tc, test_backend_drop);
	tcase_add_test(tc, test_stale_pooled_connection);
	suite_add_tcase(s, tc);
	return s;
}
