/*
 * tests/integration/test_graceful.c: graceful ends lose nothing in
 * flight. HTTP/2 (TLS and h2c): keepalive_requests, max_connection_age
 * and SIGTERM end a connection in two GOAWAYs (RFC 9113 §6.8), and every
 * stream the client opened before the final one is served. HTTP/1.1: a
 * connection being drained gets "Connection: close" on its last response
 * and closes only between requests.
 *
 * The HTTP/2 client is h2graceful.py (python3-h2's framing, default
 * windows, credits as it reads), which keeps 10 streams in flight and
 * reconnects. "polite", it opens no stream after a GOAWAY, as RFC 9113
 * §6.8 asks; "eager", it keeps opening them until the final GOAWAY, and
 * those above its last id must go unprocessed (never reach the origin)
 * rather than be reset. What reached the origin is counted every time.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <check.h>

#include "client.h"
#include "harness.h"
#include "suites.h"

#define H2GRACEFUL      "tests/integration/h2graceful.py"
#define H2WATCH         "tests/integration/h2watch.py"
#define OUT_MAX         65536
#define TOOL_MS         90000           /* bound on one client run */
#define SEEN_MS         5000            /* requests reach the origin */

static struct proxy px;

/* TLS and cleartext listeners, everything to origin 0, then EXTRA. */
static void
start(const char *extra)
{
	proxy_start_origin0(&px, NULL, extra);
}

struct run {
	bool is_tls;
	const char *mode;               /* "polite" or "eager" */
};

/* h2graceful.py's argv for R, N requests of PATH, into ARGV (room for
 * 16) and its strings into BUF. */
static void
client_argv(char **argv, char buf[3][32], const struct run *r, long n,
    const char *path, bool until_refused)
{
	int i = 0;

	snprintf(buf[0], 32, "%d", r->is_tls ? px.tls_port : px.port);
	snprintf(buf[1], 32, "%ld", n);
	snprintf(buf[2], 32, "%s", r->mode);
	argv[i++] = "/usr/bin/python3";
	argv[i++] = H2GRACEFUL;
	argv[i++] = buf[0];
	argv[i++] = "--n";
	argv[i++] = buf[1];
	argv[i++] = "--mode";
	argv[i++] = buf[2];
	argv[i++] = "--path";
	argv[i++] = (char *)path;
	argv[i++] = "--time-limit";
	argv[i++] = "40";
	if (r->is_tls)
		argv[i++] = "--tls";
	if (until_refused)
		argv[i++] = "--until-refused";
	argv[i] = NULL;
}

/* Runs the client to its end; asserts it ran (exit 0). */
static void
client_run(char *out, size_t cap, const struct run *r, long n,
    const char *path)
{
	char *argv[16], buf[3][32], err[4096];
	int rc;

	client_argv(argv, buf, r, n, path, false);
	rc = run_argv(argv, out, cap, err, sizeof(err), TOOL_MS);
	ck_assert_msg(rc == 0, "h2graceful.py: exit %d\n%s\n%s", rc, out,
	    err);
}

/* What holds in every run: no reset, no loss, no one-step GOAWAY; for a
 * polite client, not one stream above a final GOAWAY's last id. */
static void
assert_nothing_lost(const char *out, const struct run *r)
{
	assert_kv(out, "error", "(absent)");
	assert_kv(out, "lost", "0");
	assert_kv(out, "refused", "0");
	assert_kv(out, "resets", "0");
	assert_kv(out, "bad_body", "0");
	assert_kv(out, "bad_goaway", "0");
	assert_kv(out, "one_step", "0");
	ck_assert_msg(kv_num(out, "finals") >= 1, "no final GOAWAY:\n%s", out);
	ck_assert_msg(kv_num(out, "notices") >= kv_num(out, "finals"),
	    "a final GOAWAY without its notice:\n%s", out);
	if (strcmp(r->mode, "polite") == 0) {
		assert_kv(out, "unprocessed", "0");
		assert_kv(out, "above_last", "0");
	}
}

/* ---- keepalive_requests ---- */

static const struct run runs[] = {
	{ true, "polite" },
	{ false, "polite" },
	{ true, "eager" },
	{ false, "eager" },
};

/* 1000 requests under keepalive_requests 200: five connections or so,
 * each ended in two steps; the streams past the 200th that were on
 * their way are served. */
START_TEST(test_goaway_keepalive_requests)
{
	static char out[OUT_MAX];
	struct stats before, after;

	start("keepalive_requests 200\n");
	before = origin_stats(&origins[0]);
	client_run(out, sizeof(out), &runs[_i], 1000, "/bytes/1000");
	after = origin_stats(&origins[0]);
	assert_nothing_lost(out, &runs[_i]);
	assert_kv(out, "completed", "1000");
	assert_kv(out, "unserved_conns", "0");
	ck_assert_msg(kv_num(out, "finals") >= 4, "%s", out);
	ck_assert_msg(kv_num(out, "server_closed") == kv_num(out, "finals"),
	    "connections left open after their final GOAWAY:\n%s", out);
	ck_assert_msg(kv_num(out, "max_served") >= 200, "%s", out);
	/* eager: the streams above a final GOAWAY never started */
	ck_assert_msg(after.reqs - before.reqs == 1000, "the origin got %ld "
	    "requests for 1000 responses:\n%s", after.reqs - before.reqs,
	    out);
	proxy_stop(&px);
}
END_TEST

/* keepalive_requests 5 and a first burst of 10 streams in one write:
 * the notice goes at the 5th, and the 5 behind it, already sent, are
 * served (the one-step GOAWAY left them unprocessed). */
START_TEST(test_goaway_burst)
{
	static char out[OUT_MAX];
	struct stats before, after;

	start("keepalive_requests 5\n");
	before = origin_stats(&origins[0]);
	client_run(out, sizeof(out), &runs[_i], 100, "/bytes/100");
	after = origin_stats(&origins[0]);
	assert_nothing_lost(out, &runs[_i]);
	assert_kv(out, "completed", "100");
	ck_assert_msg(strncmp(kv(out, "served"), "10,", 3) == 0, "the first "
	    "connection did not serve its 10 streams:\n%s", out);
	ck_assert_int_eq(after.reqs - before.reqs, 100);
	proxy_stop(&px);
}
END_TEST

/* h2load never reconnects after an HTTP/2 GOAWAY (1.52: what it has not
 * started is counted "failed" and "errored"), so 20,000 requests over 2
 * connections cannot all succeed against any keepalive_requests 1000.
 * And nghttp2 holds back a request submitted just before a GOAWAY came,
 * which h2load counts as started and failed although it never left.
 * So over h2c, h2watch.py relays it and reads the frames: every request
 * HEADERS it sent is answered, none is above a final GOAWAY's last id,
 * none reset. (The one-step GOAWAY: 2009 sent, 2000 answered, 9 above
 * the last id.) Over TLS the same from what h2load and the origin count:
 * every request that reached the origin succeeded. */
START_TEST(test_goaway_h2load)
{
	static char out[OUT_MAX];
	char url[128], err[4096], port[16];
	char *argv[] = { "/usr/bin/python3", H2WATCH, port, "/usr/bin/h2load",
	    "-n", "20000", "-c", "2", "-m", "10", url, NULL };
	struct stats before, after;
	long total, started, done, ok, failed, errored, timeout, n2xx;
	bool is_tls = _i == 0;
	const char *p;
	int rc;

	start("keepalive_requests 1000\n");
	snprintf(port, sizeof(port), "%d", px.port);
	if (is_tls)
		snprintf(url, sizeof(url), "https://127.0.0.1:%d/bytes/100",
		    px.tls_port);
	else
		snprintf(url, sizeof(url), "http://127.0.0.1:{port}/bytes/100");
	before = origin_stats(&origins[0]);
	rc = run_argv(is_tls ? argv + 3 : argv, out, sizeof(out), err,
	    sizeof(err), TOOL_MS);
	after = origin_stats(&origins[0]);
	ck_assert_msg(rc == 0, "h2load: exit %d: %s %s", rc, out, err);
	ck_assert_msg((p = strstr(out, "\nrequests: ")) != NULL, "%s", out);
	ck_assert_msg(sscanf(p, "\nrequests: %ld total, %ld started, %ld "
	    "done, %ld succeeded, %ld failed, %ld errored, %ld timeout",
	    &total, &started, &done, &ok, &failed, &errored, &timeout) == 7,
	    "%s", out);
	ck_assert_msg((p = strstr(out, "\nstatus codes: ")) != NULL &&
	    sscanf(p, "\nstatus codes: %ld 2xx", &n2xx) == 1, "%s", out);
	ck_assert_msg(total == 20000 && ok >= 2000 && n2xx == ok &&
	    timeout == 0 && failed == total - ok && errored == failed,
	    "h2load:\n%s", out);
	ck_assert_msg(after.reqs - before.reqs == ok, "the origin got %ld "
	    "requests, h2load %ld responses:\n%s", after.reqs - before.reqs,
	    ok, out);
	if (!is_tls) {
		assert_kv(out, "rc", "0");
		ck_assert_msg(kv_num(out, "sent") == ok &&
		    kv_num(out, "answered") == ok, "%s", out);
		assert_kv(out, "unanswered", "0");
		assert_kv(out, "above_last", "0");
		assert_kv(out, "resets", "0");
		assert_kv(out, "one_step", "0");
		ck_assert_msg(kv_num(out, "notices") >= 1, "%s", out);
	}
	proxy_stop(&px);
}
END_TEST

/* ---- max_connection_age ---- */

static const struct run age_runs[] = {
	{ true, "polite" },
	{ false, "eager" },
};

/* 400 requests of 50 ms, 10 at a time: 2 s, over connections of at most
 * 700 ms. */
START_TEST(test_goaway_max_connection_age)
{
	static char out[OUT_MAX];
	struct stats before, after;

	start("max_connection_age 700ms\n");
	before = origin_stats(&origins[0]);
	client_run(out, sizeof(out), &age_runs[_i], 400,
	    "/bytes/1000?delay_ms=50");
	after = origin_stats(&origins[0]);
	assert_nothing_lost(out, &age_runs[_i]);
	assert_kv(out, "completed", "400");
	assert_kv(out, "unserved_conns", "0");
	ck_assert_msg(kv_num(out, "finals") >= 2, "%s", out);
	ck_assert_int_eq(after.reqs - before.reqs, 400);
	proxy_stop(&px);
}
END_TEST

/* ---- SIGTERM ---- */

/* Waits until origins[0] counted N more requests than BEFORE. */
static void
wait_origin_reqs(const struct stats *before, long n)
{
	int64_t end = now_ms() + SEEN_MS;

	while (origin_stats(&origins[0]).reqs - before->reqs < n) {
		ck_assert_msg(now_ms() < end, "the origin got fewer than %ld "
		    "requests in %d ms", n, SEEN_MS);
		sleep_ms(20);
	}
}

/* 10 streams of 300 ms in flight at SIGTERM: they finish, the client
 * sees the two GOAWAYs, its next connect is refused, and portico exits
 * 0 once they are done. */
START_TEST(test_goaway_sigterm)
{
	static char out[OUT_MAX];
	char *argv[16], buf[3][32], outp[HARNESS_PATH], errp[HARNESS_PATH];
	const struct run *r = &age_runs[_i];
	struct stats before, after;
	int64_t t0, took;
	pid_t client;
	char *text;
	int rc;

	start("shutdown_timeout 10s\n");
	before = origin_stats(&origins[0]);
	client_argv(argv, buf, r, 100000, "/bytes/1000?delay_ms=300", true);
	snprintf(outp, sizeof(outp), "%s/client.out", px.dir);
	snprintf(errp, sizeof(errp), "%s/client.err", px.dir);
	client = run_spawn_io(argv, outp, errp);
	wait_origin_reqs(&before, 25);
	t0 = now_ms();
	ck_assert_int_eq(kill(px.pid, SIGTERM), 0);
	rc = run_wait(px.pid, 15000);
	took = now_ms() - t0;
	px.pid = 0;
	ck_assert_msg(rc == 0, "exit status %d after SIGTERM", rc);
	ck_assert_msg(took < 8000, "exited %lld ms after SIGTERM",
	    (long long)took);
	rc = run_wait(client, TOOL_MS);
	text = file_read(outp, NULL);
	snprintf(out, sizeof(out), "%s", text);
	free(text);
	ck_assert_msg(rc == 0, "h2graceful.py: exit %d\n%s", rc, out);
	after = origin_stats(&origins[0]);
	assert_nothing_lost(out, r);
	assert_kv(out, "refused_connect", "1");
	ck_assert_msg(kv_num(out, "completed") >= 25, "%s", out);
	ck_assert_msg(after.reqs - before.reqs == kv_num(out, "completed"),
	    "the origin got %ld requests for these responses:\n%s",
	    after.reqs - before.reqs, out);
}
END_TEST

/* ---- HTTP/1.1 ---- */

static struct rawc *
h1_send(const char *req)
{
	struct rawc *c = rawc_connect(px.port);

	rawc_sends(c, req);
	return c;
}

/* Reads the response on C: 200 BODY (any, if NULL), "Connection:
 * close", then EOF. */
static void
assert_last_response(struct rawc *c, const char *body, const char *what)
{
	struct resp r;
	char v[64];

	ck_assert_msg(rawc_response(c, &r, false, 10000) == 0, "%s: no "
	    "response", what);
	ck_assert_msg(r.status == 200 && r.is_complete && (body == NULL ||
	    strcmp(r.body, body) == 0), "%s: %d %s", what, r.status,
	    r.body != NULL ? r.body : "");
	ck_assert_msg(resp_field(&r, "Connection", v, sizeof(v)) &&
	    strcasecmp(v, "close") == 0, "%s: no Connection: close:\n%s",
	    what, r.head);
	resp_free(&r);
	ck_assert_msg(rawc_wait_eof(c, 3000), "%s: not closed after its "
	    "last response", what);
	rawc_close(c);
}

/* Reads a keep-alive 200 on C. */
static void
assert_kept(struct rawc *c)
{
	struct resp r;
	char v[64];

	ck_assert_int_eq(rawc_response(c, &r, false, CLIENT_WAIT_MS), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_msg(!resp_field(&r, "Connection", v, sizeof(v)) ||
	    strcasecmp(v, "close") != 0, "%s", r.head);
	resp_free(&r);
}

#define GET(path)       "GET " path " HTTP/1.1\r\nHost: a.test\r\n\r\n"

/* SIGTERM with four connections: one idle, kept alive; one waiting for
 * its response; one halfway through its second head; a new one with
 * only the "P" of a PUT, which could still be the HTTP/2 preface. The
 * idle one closes at once; the others get their responses, the last
 * ones. */
START_TEST(test_drain_h1)
{
	struct rawc *idle, *slow, *half, *first;
	struct stats before;
	int rc;

	start("shutdown_timeout 10s\n");
	idle = h1_send(GET("/status/200"));
	assert_kept(idle);
	half = h1_send(GET("/status/200"));
	assert_kept(half);
	before = origin_stats(&origins[0]);
	slow = h1_send(GET("/slow?ms=1000"));
	rawc_sends(half, "GET /slow?ms=10 HTTP/1.1\r\nHost: a");
	first = h1_send("P");
	wait_origin_reqs(&before, 1);
	sleep_ms(100);                  /* the half head is read */
	ck_assert_int_eq(kill(px.pid, SIGTERM), 0);
	ck_assert_msg(rawc_wait_eof(idle, 1000), "an idle keep-alive "
	    "connection still open 1 s after SIGTERM");
	rawc_close(idle);
	sleep_ms(200);
	rawc_sends(half, ".test\r\n\r\n");
	rawc_sends(first, "UT /echo HTTP/1.1\r\nHost: a.test\r\n"
	    "Content-Length: 0\r\n\r\n");
	assert_last_response(half, "slow\n", "the head halfway at SIGTERM");
	assert_last_response(first, NULL, "one byte of a head at SIGTERM");
	assert_last_response(slow, "slow\n", "the request in flight");
	rc = run_wait(px.pid, 15000);
	px.pid = 0;
	ck_assert_msg(rc == 0, "exit status %d after SIGTERM", rc);
}
END_TEST

/* keepalive_requests 2: the second response, a backend's or portico's
 * own (a 502 from a dead backend), says "Connection: close" and is the
 * last. */
START_TEST(test_h1_keepalive_requests)
{
	char extra[256];
	struct rawc *c;
	struct resp r;
	char v[64];

	snprintf(extra, sizeof(extra), "keepalive_requests 2\n"
	    "backend dead { server 127.0.0.1:%d }\nroute a.test/dead dead\n",
	    free_port());
	start(extra);
	c = h1_send(GET("/status/200"));
	assert_kept(c);
	rawc_sends(c, _i == 0 ? GET("/slow?ms=10") : GET("/dead"));
	if (_i == 0) {
		assert_last_response(c, "slow\n", "the second response");
	} else {
		ck_assert_int_eq(rawc_response(c, &r, false, 10000), 0);
		ck_assert_msg(r.status == 502 && resp_field(&r, "Connection",
		    v, sizeof(v)) && strcasecmp(v, "close") == 0, "%s",
		    r.head);
		resp_free(&r);
		ck_assert(rawc_wait_eof(c, 3000));
		rawc_close(c);
	}
	proxy_stop(&px);
}
END_TEST

/* max_connection_age 700ms: a response still pending at that age is the
 * last; an idle connection that reaches it closes. */
START_TEST(test_h1_max_connection_age)
{
	struct rawc *slow, *idle;
	int64_t t0 = now_ms();

	start("max_connection_age 700ms\n");
	slow = h1_send(GET("/slow?ms=1200"));
	idle = h1_send(GET("/status/200"));
	assert_kept(idle);
	ck_assert_msg(rawc_wait_eof(idle, 2000), "an idle connection still "
	    "open past max_connection_age");
	rawc_close(idle);
	assert_last_response(slow, "slow\n", "the response past the age");
	ck_assert_msg(now_ms() - t0 < 5000, "took %lld ms",
	    (long long)(now_ms() - t0));
	proxy_stop(&px);
}
END_TEST

/* ---- a client that never answers the notice's PING ---- */

/* It reaches keepalive_requests, then never ACKs the PING and keeps
 * opening streams: the final GOAWAY still comes, about one second
 * (H2_GOAWAY_RTT_MS) after the notice, every stream at or below its last
 * id is served, the connection closes, and the origin got exactly the
 * requests that were answered. */
START_TEST(test_goaway_no_ping_ack)
{
	static char out[OUT_MAX];
	char err[4096], port[16];
	char *argv[] = { "/usr/bin/python3", "tests/integration/h2noack.py",
	    port, NULL };
	struct stats before, after;
	long ms;
	int rc;

	start("keepalive_requests 5\n");
	snprintf(port, sizeof(port), "%d", px.port);
	before = origin_stats(&origins[0]);
	rc = run_argv(argv, out, sizeof(out), err, sizeof(err), TOOL_MS);
	ck_assert_msg(rc == 0, "h2noack.py: exit %d\n%s\n%s", rc, out, err);
	after = origin_stats(&origins[0]);
	assert_kv(out, "notice", "1");
	assert_kv(out, "unanswered", "0");
	assert_kv(out, "resets", "0");
	assert_kv(out, "closed", "1");
	ms = kv_num(out, "final_ms");
	ck_assert_msg(ms >= 900 && ms <= 5000, "final GOAWAY %ld ms after "
	    "the notice:\n%s", ms, out);
	ck_assert_msg(kv_num(out, "opened") > 5, "no stream opened between "
	    "the two GOAWAYs:\n%s", out);
	ck_assert_msg(after.reqs - before.reqs == kv_num(out, "answered"),
	    "the origin got %ld requests:\n%s", after.reqs - before.reqs,
	    out);
	proxy_stop(&px);
}
END_TEST

Suite *
graceful_suite(void)
{
	Suite *s = suite_create("graceful");
	TCase *tc = harness_tcase("h2", 120);

	tcase_add_loop_test(tc, test_goaway_keepalive_requests, 0,
	    NELEMS(runs));
	tcase_add_loop_test(tc, test_goaway_burst, 0, NELEMS(runs));
	tcase_add_loop_test(tc, test_goaway_h2load, 0, 2);
	tcase_add_loop_test(tc, test_goaway_max_connection_age, 0,
	    NELEMS(age_runs));
	tcase_add_loop_test(tc, test_goaway_sigterm, 0, NELEMS(age_runs));
	tcase_add_test(tc, test_goaway_no_ping_ack);
	suite_add_tcase(s, tc);
	tc = harness_tcase("h1", 60);
	tcase_add_test(tc, test_drain_h1);
	tcase_add_loop_test(tc, test_h1_keepalive_requests, 0, 2);
	tcase_add_test(tc, test_h1_max_connection_age);
	suite_add_tcase(s, tc);
	return s;
}
