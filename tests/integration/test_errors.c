/* tests/integration/test_errors.c: malformed and oversized requests are
 * refused before they reach the origin, and backend failures map to 502
 * and 504 with a warn line naming the backend. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "client.h"
#include "harness.h"
#include "suites.h"

#define LIMITS  "client_max_header_size 1k\nclient_max_uri_size 256\n" \
		"client_max_body_size 1k\nclient_header_timeout 1s\n"
#define SETTLE_MS       200     /* for a forwarded request to be counted */

static struct proxy px;

static void
start_limited(void)
{
	memset(&px, 0, sizeof(px));
	proxy_start(&px, "backend o { server %s }\nroute * o\n" LIMITS,
	    origins[0].tcp);
}

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
	/* the limits of LIMITS */
	{ "1.5k head, limit 1k",
	  "GET /echo HTTP/1.1\r\nHost: a.test\r\nX-Big: ", 1500,
	  "\r\n\r\n", 0, 431 },
	{ "400-byte request line, limit 256",
	  "GET /echo?", 400, " HTTP/1.1\r\nHost: a.test\r\n\r\n", 0, 414 },
	{ "Content-Length: 2000, limit 1k, no body sent",
	  "POST /echo HTTP/1.1\r\nHost: a.test\r\nContent-Length: 2000\r\n"
	  "\r\n", 0, "", 0, 413 },
	{ "Content-Length: 2000, limit 1k, body sent",
	  "POST /echo HTTP/1.1\r\nHost: a.test\r\nContent-Length: 2000\r\n"
	  "\r\n", 2000, "", 0, 413 },
	/* RFC 9110 §10.1.1: a final status instead of the 100 */
	{ "Expect: 100-continue, Content-Length: 2000, limit 1k",
	  "POST /echo HTTP/1.1\r\nHost: a.test\r\nContent-Length: 2000\r\n"
	  "Expect: 100-continue\r\n\r\n", 0, "", 0, 413 },
	{ "chunked 2000 bytes, limit 1k",
	  "POST /echo HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked"
	  "\r\n\r\n7d0\r\n", 2000, "\r\n0\r\n\r\n", 0, 413 },
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
 * expecting the rest: the next request has to arrive as itself. */
static const char *const half_bodies[] = {
	"POST /echo HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n"
	"\r\n5\r\nhello\r\nzz\r\n",
	"POST /echo HTTP/1.1\r\nHost: a.test\r\nContent-Length: 100\r\n\r\n"
	"only part of it",
};

START_TEST(test_pool_after_broken_body)
{
	struct rawc *c;
	struct resp r;
	char v[256];

	start_limited();
	rawc_fetch(px.port, "GET /echo HTTP/1.1\r\nHost: a.test\r\n\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	c = rawc_connect(px.port);
	rawc_sends(c, half_bodies[_i]);
	sleep_ms(SETTLE_MS);
	rawc_close(c);          /* chunked: after its 400; else mid-body */
	sleep_ms(SETTLE_MS);
	rawc_fetch(px.port, "GET /echo?after=1 HTTP/1.1\r\nHost: a.test\r\n"
	    "\r\n", &r);
	ck_assert_msg(r.status == 200, "after a broken body: %s", r.head);
	ck_assert(json_str(r.body, "target", v, sizeof(v)));
	ck_assert_str_eq(v, "/echo?after=1");
	ck_assert_str_eq(json_str(r.body, "method", v, sizeof(v)) ? v : "",
	    "GET");
	resp_free(&r);
	proxy_stop(&px);
}
END_TEST

/* ---- backend failures ---- */

static void
get_expect(const char *target, int status)
{
	char req[256];
	struct resp r;

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: a.test\r\n\r\n",
	    target);
	rawc_fetch(px.port, req, &r);
	ck_assert_msg(r.status == status, "GET %s: wanted %d, got %s",
	    target, status, r.head);
	resp_free(&r);
}

/* A warning about BACKEND, tagged with the client's connection. */
static void
expect_warn(const char *backend)
{
	char needle[128];

	snprintf(needle, sizeof(needle), "] backend %s ", backend);
	ck_assert_msg(file_wait_for(px.error_log, needle, 3000),
	    "no \"%s\" in %s", needle, px.error_log);
	ck_assert_msg(file_count(px.error_log, "[warn] [w") > 0,
	    "no tagged warning in %s", px.error_log);
}

START_TEST(test_backend_refused)
{
	memset(&px, 0, sizeof(px));
	proxy_start(&px, "backend dead { server 127.0.0.1:%d }\n"
	    "route * dead\n", free_port());
	get_expect("/echo", 502);
	expect_warn("dead");
	proxy_stop(&px);
}
END_TEST

START_TEST(test_backend_next_server)
{
	char needle[128];
	int port = free_port(), i;

	memset(&px, 0, sizeof(px));
	/* the dead one is picked first whatever the balancing */
	proxy_start(&px, "backend twin {\n\tserver 127.0.0.1:%d weight=1000\n"
	    "\tserver %s\n}\nroute * twin\n", port, origins[0].tcp);
	for (i = 0; i < 4; i++)
		get_expect("/echo", 200);
	snprintf(needle, sizeof(needle), "backend twin server 127.0.0.1:%d",
	    port);
	ck_assert_msg(file_wait_for(px.error_log, needle, 3000),
	    "no \"%s\" in %s", needle, px.error_log);
	proxy_stop(&px);
}
END_TEST

START_TEST(test_backend_connect_timeout)
{
	int fds[8], port = listen_full(fds), i;

	ck_assert_msg(port > 0, "could not fill a loopback accept queue, so "
	    "connect cannot be made to hang here");
	memset(&px, 0, sizeof(px));
	proxy_start(&px, "backend hang { server 127.0.0.1:%d }\n"
	    "route * hang\nbackend_connect_timeout 500ms\n", port);
	get_expect("/echo", 504);
	expect_warn("hang");
	proxy_stop(&px);
	for (i = 0; i < 8; i++)
		if (fds[i] != -1)
			close(fds[i]);
}
END_TEST

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
	memset(&px, 0, sizeof(px));
	proxy_start(&px, "backend o { server %s }\nroute * o\n"
	    "backend_read_timeout 1s\nbackend_max_header_size 32k\n",
	    origins[0].tcp);
	get_expect(upstream_cases[_i].target, upstream_cases[_i].status);
	expect_warn("o");
	proxy_stop(&px);
}
END_TEST

START_TEST(test_backend_drop)
{
	struct rawc *c;
	struct resp r;

	memset(&px, 0, sizeof(px));
	proxy_start(&px, "backend o { server %s }\nroute * o\n",
	    origins[0].tcp);
	c = rawc_connect(px.port);
	/* /drop: Content-Length 1000000, 10000 bytes, then close */
	rawc_sends(c, "GET /drop HTTP/1.1\r\nHost: a.test\r\n\r\n");
	ck_assert_int_eq(rawc_response(c, &r, false, CLIENT_WAIT_MS), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_msg(!r.is_complete && r.bodylen < 1000000 && c->is_eof,
	    "a dropped response must end the client connection short: "
	    "%zu bytes, %s", r.bodylen, c->is_eof ? "closed" : "open");
	resp_free(&r);
	rawc_close(c);
	expect_warn("o");
	proxy_stop(&px);
}
END_TEST

/* A pooled connection the backend closes just as the next request
 * arrives (the origin's /close-next): retried once on a fresh one when no
 * body byte was sent; with a body, the client gets a 502, as nothing
 * tells whether the backend acted on it. */
START_TEST(test_stale_pooled_connection)
{
	struct rawc *c;
	struct resp r;
	struct stats before, after;
	long armed, fresh;

	memset(&px, 0, sizeof(px));
	proxy_start(&px, "backend o { server %s }\nroute * o\n",
	    origins[0].tcp);
	before = origin_stats(&origins[0]);
	c = rawc_connect(px.port);
	rawc_sends(c, "GET /close-next HTTP/1.1\r\nHost: a.test\r\n\r\n");
	ck_assert_int_eq(rawc_response(c, &r, false, CLIENT_WAIT_MS), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert(sscanf(r.body, "armed %ld", &armed) == 1);
	resp_free(&r);
	rawc_sends(c, "GET /echo HTTP/1.1\r\nHost: a.test\r\n\r\n");
	ck_assert_int_eq(rawc_response(c, &r, false, CLIENT_WAIT_MS), 0);
	ck_assert_int_eq(r.status, 200);
	fresh = (long)json_num(r.body, "connection");
	ck_assert_msg(fresh > armed, "the retry must use a fresh connection "
	    "(armed %ld, served on %ld)", armed, fresh);
	resp_free(&r);
	after = origin_stats(&origins[0]);
	/* /close-next, the dropped /echo, the retried /echo */
	ck_assert_int_eq(after.reqs - before.reqs, 3);

	/* the same with a body: not retried */
	rawc_sends(c, "GET /close-next HTTP/1.1\r\nHost: a.test\r\n\r\n");
	ck_assert_int_eq(rawc_response(c, &r, false, CLIENT_WAIT_MS), 0);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	rawc_sends(c, "POST /echo HTTP/1.1\r\nHost: a.test\r\n"
	    "Content-Length: 5\r\n\r\nhello");
	ck_assert_int_eq(rawc_response(c, &r, false, CLIENT_WAIT_MS), 0);
	ck_assert_int_eq(r.status, 502);
	resp_free(&r);
	rawc_close(c);
	expect_warn("o");
	proxy_stop(&px);
}
END_TEST

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
	proxy_start(&px, "backend o { server %s }\nroute * o\n",
	    origins[0].tcp);
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

	tcase_add_unchecked_fixture(tc, harness_setup, harness_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_bad_request, 0, NELEMS(bad_cases));
	tcase_add_test(tc, test_header_timeout);
	tcase_add_loop_test(tc, test_pool_after_broken_body, 0,
	    NELEMS(half_bodies));
	suite_add_tcase(s, tc);
	tc = tcase_create("limits");
	tcase_add_unchecked_fixture(tc, harness_setup, harness_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_out_of_fds_no_accept_spin);
	tcase_add_test(tc, test_max_connections_backlog);
	tcase_add_test(tc, test_max_connections_from_rlimit);
	suite_add_tcase(s, tc);
	tc = tcase_create("backend");
	tcase_add_unchecked_fixture(tc, harness_setup, harness_teardown);
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
