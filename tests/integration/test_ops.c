/*
 * tests/integration/test_ops.c: portico as a daemon, part one: SIGHUP
 * reloads in process (under h2load, across a WebSocket tunnel and long
 * downloads, with a broken file, with listeners added and removed, with
 * TLS tickets issued before it) and the graceful stop on SIGTERM. Part
 * two, test_ops_daemon.c, has sd_notify, socket activation, SIGUSR1 and
 * the privilege drop; both are suite "ops".
 *
 * Two origins stand for two backends: b0 is origins[0], b1 origins[1].
 * Which one served a request is read from their /stats request counts,
 * so every check of "the new routes" is about what reached a backend.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <check.h>

#include "client.h"
#include "harness.h"
#include "suites.h"

#define OPS_WS          "tests/integration/ops_ws.py"
#define OUT_MAX         65536
#define TOOL_MS         90000           /* bound on one client run */
#define SEEN_MS         5000            /* requests reach the origin */
#define LOAD_N          48000           /* h2load requests ... */
#define LOAD_RPS        "1000"          /* ... per client per second: 6 s */
#define RELOADS         10
#define RELOAD_GAP_MS   300
#define DL_SIZE         2000000         /* a download at DL_RATE: 2 s */
#define DL_RATE         1000000
#define RESUMES         4
#define SLOW_MS         1500
#define SCLIENT_MS      15000

static struct proxy px;

/* Two backends, b0 and b1 unless ONLY_B1, and "route * TARGET", after
 * the TLS block (certificates "a" and "b") and before EXTRA. */
static void
routes_text(char *out, size_t cap, const char *target, bool only_b1,
    const char *extra)
{
	char b0[128] = "";

	if (!only_b1)
		snprintf(b0, sizeof(b0), "backend b0 { server %s }\n",
		    origins[0].tcp);
	snprintf(out, cap, "%s%sbackend b1 { server %s }\nroute * %s\n%s",
	    harness_tls_block(NULL), b0, origins[1].tcp, target,
	    extra != NULL ? extra : "");
}

static void
start(const char *target, const char *extra)
{
	static const struct proxy_how how = { .is_tls = true };
	char text[4096];

	memset(&px, 0, sizeof(px));
	routes_text(text, sizeof(text), target, false, extra);
	proxy_start_how(&px, &how, "%s", text);
}

static void
rewrite(const char *target, bool only_b1, const char *extra)
{
	char text[4096];

	routes_text(text, sizeof(text), target, only_b1, extra);
	proxy_rewrite(&px, "%s", text);
}

/* Waits until origins[I] has counted N more requests than BEFORE. */
static void
wait_origin_reqs(int i, const struct stats *before, long n)
{
	int64_t end = now_ms() + SEEN_MS;
	struct stats s;

	for (;;) {
		s = origin_stats(&origins[i]);
		if (s.reqs - before->reqs >= n)
			return;
		ck_assert_msg(now_ms() < end, "origin %d got %ld of %ld "
		    "requests in %d ms", i, s.reqs - before->reqs, n,
		    SEEN_MS);
		sleep_ms(20);
	}
}

/* A fresh curl GET of PATH over h1 cleartext (IS_H2: h2 over TLS): 200,
 * and the index of the one origin (0 or 1) that got it. */
static int
served_by(const char *path, bool is_h2)
{
	struct stats b0 = origin_stats(&origins[0]);
	struct stats b1 = origin_stats(&origins[1]);
	char out[OUT_MAX], url[256];
	long d0, d1;

	snprintf(url, sizeof(url), "%s://127.0.0.1:%d%s", is_h2 ? "https" :
	    "http", is_h2 ? px.tls_port : px.port, path);
	ck_assert_int_eq(curl(out, sizeof(out), "-k", "-o", "/dev/null",
	    "-w", "%{http_code} %{http_version}", is_h2 ? "--http2" :
	    "--http1.1", url, NULL), 0);
	ck_assert_msg(strcmp(out, is_h2 ? "200 2" : "200 1.1") == 0,
	    "curl %s: got \"%s\"", url, out);
	d0 = origin_stats(&origins[0]).reqs - b0.reqs;
	d1 = origin_stats(&origins[1]).reqs - b1.reqs;
	ck_assert_msg(d0 + d1 == 1, "curl %s: b0 got %ld requests, b1 %ld",
	    url, d0, d1);
	return d1 == 1;
}

/* True if PID (a child, not reaped) has not exited. */
static bool
is_running(pid_t pid)
{
	siginfo_t info;

	memset(&info, 0, sizeof(info));
	return waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) ==
	    0 && info.si_pid == 0;
}

/* True if a connect to 127.0.0.1:PORT is refused within MS. */
static bool
is_refused(int port, int ms)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int64_t end = now_ms() + ms;
	int fd, rc, err;

	for (;;) {
		ck_assert_int_ne(fd = socket(AF_INET, SOCK_STREAM, 0), -1);
		rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
		err = errno;
		close(fd);
		if (rc == -1 && err == ECONNREFUSED)
			return true;
		if (now_ms() >= end)
			return false;
		sleep_ms(20);
	}
}

/* ---- reload under load ---- */

/* The configs the reloads go through: half of them change the routes,
 * half rewrite the file as it is. */
static const struct {
	const char *target;
	bool only_b1;
	const char *extra;
} load_steps[] = {
	{ "b1", false, NULL },
	{ "b0", false, "route x.test b1\n" },
	{ "b1", true, NULL },                   /* b0 gone */
	{ "b0", false, NULL },
	{ "b1", true, "route y.test b1\n" },
};

START_TEST(test_reload_under_load)
{
	char url[128], outp[HARNESS_PATH + 8], errp[HARNESS_PATH + 8], n[16];
	char *argv[] = { "/usr/bin/h2load", "-n", n, "-c", "8", "-m", "10",
	    "--rps", LOAD_RPS, url, NULL };
	struct stats b0, b1;
	char *out, want[128];
	pid_t h2load;
	int i, step = 0, rc;
	long d0, d1;

	start("b0", NULL);
	b0 = origin_stats(&origins[0]);
	b1 = origin_stats(&origins[1]);
	snprintf(n, sizeof(n), "%d", LOAD_N);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/bytes/100",
	    px.tls_port);
	snprintf(outp, sizeof(outp), "%s/h2load.out", px.dir);
	snprintf(errp, sizeof(errp), "%s/h2load.err", px.dir);
	h2load = run_spawn_io(argv, outp, errp);
	wait_origin_reqs(0, &b0, 500);
	for (i = 0; i < RELOADS; i++) {
		if (i % 2 == 0) {
			rewrite(load_steps[step].target,
			    load_steps[step].only_b1, load_steps[step].extra);
			step++;
		} else {
			rewrite(load_steps[step - 1].target,
			    load_steps[step - 1].only_b1,
			    load_steps[step - 1].extra);
		}
		proxy_reload(&px, true);
		sleep_ms(RELOAD_GAP_MS);
	}
	ck_assert_msg(is_running(h2load), "h2load ended before the last "
	    "reload: the reloads were not under load (raise LOAD_N)");
	rc = run_wait(h2load, TOOL_MS);
	out = file_read(outp, NULL);
	ck_assert_msg(rc == 0, "h2load: exit %d: %s", rc, out);
	snprintf(want, sizeof(want), "%d succeeded, 0 failed, 0 errored, "
	    "0 timeout", LOAD_N);
	ck_assert_msg(strstr(out, want) != NULL, "h2load across %d reloads: "
	    "want \"%s\" in:\n%s", RELOADS, want, out);
	snprintf(want, sizeof(want), "status codes: %d 2xx", LOAD_N);
	ck_assert_msg(strstr(out, want) != NULL, "%s", out);
	free(out);
	/* the streams after a reload took its routes, connections kept */
	d0 = origin_stats(&origins[0]).reqs - b0.reqs;
	d1 = origin_stats(&origins[1]).reqs - b1.reqs;
	ck_assert_msg(d0 > 0 && d1 > 0 && d0 + d1 == LOAD_N, "h2load's %d "
	    "requests: b0 got %ld, b1 %ld", LOAD_N, d0, d1);
	ck_assert_msg(served_by("/echo?after=h1", false) == 1,
	    "after the reloads (route * b1), h1 went to b0");
	ck_assert_msg(served_by("/echo?after=h2", true) == 1,
	    "after the reloads (route * b1), h2 went to b0");
	proxy_stop(&px);
}
END_TEST

/* ---- what is open at a reload goes on ---- */

/* A download of DL_SIZE bytes at DL_RATE into PATH, in the background. */
static pid_t
download(const char *path, bool is_h2, char *url, size_t cap)
{
	char *h1[] = { "/usr/bin/curl", "-s", "--max-time", "60", "-o",
	    (char *)path, url, NULL };
	char *h2[] = { "/usr/bin/curl", "-s", "--max-time", "60", "-k",
	    "--http2", "-o", (char *)path, url, NULL };

	snprintf(url, cap, "%s://127.0.0.1:%d/bytes/%d?rate=%d", is_h2 ?
	    "https" : "http", is_h2 ? px.tls_port : px.port, DL_SIZE,
	    DL_RATE);
	return run_spawn(is_h2 ? h2 : h1);
}

START_TEST(test_reload_keeps_tunnel_and_downloads)
{
	char go[HARNESS_PATH], wsout[HARNESS_PATH], wserr[HARNESS_PATH];
	char f1[HARNESS_PATH], f2[HARNESS_PATH], port[16];
	char u1[256], u2[256], want[65], got[65], *out;
	char *argv[] = { "/usr/bin/python3", OPS_WS, port, go, NULL };
	struct stats b0;
	pid_t ws, d1, d2;
	int rc;

	start("b0", NULL);
	snprintf(port, sizeof(port), "%d", px.port);
	snprintf(go, sizeof(go), "%s/go", px.dir);
	snprintf(wsout, sizeof(wsout), "%s/ws.out", px.dir);
	snprintf(wserr, sizeof(wserr), "%s/ws.err", px.dir);
	snprintf(f1, sizeof(f1), "%s/h1.bytes", px.dir);
	snprintf(f2, sizeof(f2), "%s/h2.bytes", px.dir);
	ws = run_spawn_io(argv, wsout, wserr);
	ck_assert_msg(file_wait_for(wsout, "open=1", 20000), "%s: no tunnel",
	    OPS_WS);
	b0 = origin_stats(&origins[0]);
	d1 = download(f1, false, u1, sizeof(u1));
	d2 = download(f2, true, u2, sizeof(u2));
	wait_origin_reqs(0, &b0, 2);
	/* b0, which serves all three, leaves the config */
	rewrite("b1", true, NULL);
	proxy_reload(&px, true);
	ck_assert_msg(is_running(d1) && is_running(d2), "a download ended "
	    "before the reload was done: they did not span it");
	file_write(go, "", 0);
	rc = run_wait(ws, 30000);
	out = file_read(wsout, NULL);
	ck_assert_msg(rc == 0, "%s: exit %d: %s", OPS_WS, rc, out);
	assert_kv(out, "before", "ok");
	assert_kv(out, "after", "ok");
	assert_kv(out, "big", "ok");
	assert_kv(out, "close_code", "1000");
	free(out);
	sha256_pattern(DL_SIZE, want);
	ck_assert_msg((rc = run_wait(d1, 30000)) == 0, "curl %s: exit %d",
	    u1, rc);
	sha256_file(f1, got);
	ck_assert_msg(strcmp(got, want) == 0, "%s: sha256 %s, want %s", u1,
	    got, want);
	ck_assert_msg((rc = run_wait(d2, 30000)) == 0, "curl %s: exit %d",
	    u2, rc);
	sha256_file(f2, got);
	ck_assert_msg(strcmp(got, want) == 0, "%s: sha256 %s, want %s", u2,
	    got, want);
	ck_assert_int_eq(served_by("/echo?after=1", false), 1);
	ck_assert_int_eq(served_by("/echo?after=2", true), 1);
	proxy_stop(&px);
}
END_TEST

/* ---- a broken file changes nothing ---- */

/* Each case breaks the file in one place, at a line it names; the file
 * also moves route * to b1, which must not happen. */
enum { BROKEN_DIRECTIVE, BROKEN_KEY, BROKEN_LISTEN };
static const struct {
	const char *what;
	const char *needle;     /* the line the message names holds it */
	const char *message;    /* after "FILE:LINE: " */
} broken_cases[] = {
	{ "an unknown directive", "frobnicate", "unknown directive" },
	{ "a key that does not match", "other.key", "key \"" },
	{ "a listen address in use", NULL,      /* the busy port's line */
	  "cannot listen on 127.0.0.1:" },
};

static void
write_broken(int i, int busy_port, char *needle, size_t cap)
{
	char text[4096], extra[512];
	const char *d = harness_dir;

	if (broken_cases[i].needle != NULL)
		snprintf(needle, cap, "%s", broken_cases[i].needle);
	if (i == BROKEN_DIRECTIVE) {
		rewrite("b1", false, "frobnicate on\n");
	} else if (i == BROKEN_KEY) {
		snprintf(text, sizeof(text), "tls {\n"
		    "\tcertificate %s/b.pem %s/b.key\n"
		    "\tcertificate %s/a.pem %s/other.key\n}\n"
		    "backend b0 { server %s }\nbackend b1 { server %s }\n"
		    "route * b1\n", d, d, d, d, origins[0].tcp,
		    origins[1].tcp);
		proxy_rewrite(&px, "%s", text);
	} else {
		snprintf(extra, sizeof(extra), "listen 127.0.0.1:%d\n",
		    busy_port);
		snprintf(needle, cap, "listen 127.0.0.1:%d", busy_port);
		rewrite("b1", false, extra);
	}
}

START_TEST(test_reload_broken_keeps_running)
{
	char needle[128], want[HARNESS_PATH + 256];
	pid_t busy;
	int busy_port = fake_start(NULL, &busy);

	start("b0", NULL);
	ck_assert_int_eq(served_by("/echo?before", false), 0);
	write_broken(_i, busy_port, needle, sizeof(needle));
	proxy_reload(&px, false);
	snprintf(want, sizeof(want), "%s:%d: %s", px.conf,
	    proxy_conf_line(&px, needle), broken_cases[_i].message);
	ck_assert_msg(file_wait_for(px.error_log, want, 1000), "a reload "
	    "with %s: want \"%s\" in the error log", broken_cases[_i].what,
	    want);
	/* still the old config, on the old listeners */
	ck_assert_msg(served_by("/echo?kept", false) == 0, "after a reload "
	    "with %s, h1 went to b1", broken_cases[_i].what);
	ck_assert_msg(served_by("/echo?kept", true) == 0, "after a reload "
	    "with %s, h2 went to b1", broken_cases[_i].what);
	if (_i == BROKEN_LISTEN)
		ck_assert_msg(!is_refused(busy_port, 0), "the fake server "
		    "holding 127.0.0.1:%d is gone", busy_port);
	/* fixed, it takes */
	rewrite("b1", false, NULL);
	proxy_reload(&px, true);
	ck_assert_int_eq(served_by("/echo?fixed", false), 1);
	ck_assert_int_eq(served_by("/echo?fixed", true), 1);
	proxy_stop(&px);
	fake_stop(busy);
}
END_TEST

/* ---- listeners added, removed, kept ---- */

START_TEST(test_reload_listeners)
{
	char extra[128], url[128], out[OUT_MAX];
	struct rawc *kept;
	struct resp r;
	int port2;

	start("b0", NULL);
	kept = rawc_connect(px.port);
	rawc_sends(kept, "GET /echo?kept=1 HTTP/1.1\r\nHost: a.test\r\n\r\n");
	ck_assert_int_eq(rawc_response(kept, &r, false, CLIENT_WAIT_MS), 0);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	do
		port2 = free_port();
	while (port2 == px.port || port2 == px.tls_port);
	snprintf(extra, sizeof(extra), "listen 127.0.0.1:%d\n", port2);
	rewrite("b0", false, extra);
	proxy_reload(&px, true);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/status/200", port2);
	ck_assert_int_eq(curl(out, sizeof(out), "-w", " %{http_code}", url,
	    NULL), 0);
	ck_assert_msg(strstr(out, " 200") != NULL, "added listener: %s", out);
	/* removed again: refused; the kept ones go on serving */
	rewrite("b1", false, NULL);
	proxy_reload(&px, true);
	ck_assert_msg(is_refused(port2, 2000), "listener 127.0.0.1:%d still "
	    "accepts after a reload without it", port2);
	rawc_sends(kept, "GET /echo?kept=2 HTTP/1.1\r\nHost: a.test\r\n\r\n");
	ck_assert_int_eq(rawc_response(kept, &r, false, CLIENT_WAIT_MS), 0);
	ck_assert_msg(r.status == 200, "a keep-alive connection across two "
	    "reloads: status %d", r.status);
	resp_free(&r);
	rawc_close(kept);
	ck_assert_int_eq(served_by("/echo?after", false), 1);
	ck_assert_int_eq(served_by("/echo?after", true), 1);
	proxy_stop(&px);
}
END_TEST

/* ---- TLS tickets survive a reload ---- */

static const struct {
	const char *version;    /* s_client flag */
	const char *reused;
	const char *tls_extra;  /* the reloaded tls block's extra lines */
} resume_cases[] = {
	{ "-tls1_2", "Reused, TLSv1.2,", NULL },
	{ "-tls1_3", "Reused, TLSv1.3,", NULL },
	{ "-tls1_2", "Reused, TLSv1.2,",
	  "\tcertificate %s/aec.pem %s/aec.key\n" },
};

/* openssl s_client with ARGS: one request, read until portico closes
 * (TLS 1.3 tickets come after the handshake). Its exit status. */
static int
s_client(const char *args, char *out, size_t cap)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "printf 'GET /status/200 HTTP/1.1\\r\\n"
	    "Host: a.test\\r\\nConnection: close\\r\\n\\r\\n' | openssl "
	    "s_client -connect 127.0.0.1:%d -servername a.test %s -ign_eof "
	    "2>&1", px.tls_port, args);
	return run_sh(cmd, out, cap, NULL, 0, SCLIENT_MS);
}

START_TEST(test_reload_keeps_tickets)
{
	static char out[OUT_MAX];
	char sess[HARNESS_PATH], args[HARNESS_PATH + 64], extra[512];
	const char *d = harness_dir;
	int i;

	start("b0", NULL);
	snprintf(sess, sizeof(sess), "%s/sess", px.dir);
	snprintf(args, sizeof(args), "%s -sess_out %s",
	    resume_cases[_i].version, sess);
	ck_assert_int_eq(s_client(args, out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "\nNew, TLSv1.") != NULL, "%s", out);
	if (resume_cases[_i].tls_extra != NULL) {
		snprintf(extra, sizeof(extra), resume_cases[_i].tls_extra, d,
		    d);
		proxy_rewrite(&px, "%sbackend b1 { server %s }\nroute * b1\n",
		    harness_tls_block(extra), origins[1].tcp);
	} else {
		rewrite("b1", false, NULL);
	}
	proxy_reload(&px, true);
	snprintf(args, sizeof(args), "%s -sess_in %s",
	    resume_cases[_i].version, sess);
	for (i = 0; i < RESUMES; i++) {
		ck_assert_int_eq(s_client(args, out, sizeof(out)), 0);
		ck_assert_msg(strstr(out, resume_cases[_i].reused) != NULL,
		    "resumption %d of %d after a reload (%s%s): %s", i + 1,
		    RESUMES, resume_cases[_i].version,
		    resume_cases[_i].tls_extra != NULL ? ", new certificate" :
		    "", out);
		ck_assert_msg(strstr(out, "HTTP/1.1 200") != NULL, "%s", out);
	}
	proxy_stop(&px);
}
END_TEST

/* ---- SIGTERM ---- */

/* Sends GET PATH on a new h1 connection; the response is read later. */
static struct rawc *
h1_send(const char *path)
{
	struct rawc *c = rawc_connect(px.port);
	char req[256];

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: a.test\r\n\r\n",
	    path);
	rawc_sends(c, req);
	return c;
}

START_TEST(test_stop_finishes_requests)
{
	char url[128], nout[HARNESS_PATH], nerr[HARNESS_PATH], v[64], *out;
	char *argv[] = { "/usr/bin/nghttp", "-v", url, NULL };
	struct rawc *slow, *idle;
	struct stats b0;
	struct resp r;
	pid_t nghttp;
	bool is_closed, is_tls_closed;
	int64_t t0, took;
	int rc;

	start("b0", "shutdown_timeout 10s\n");
	idle = h1_send("/status/200");
	ck_assert_int_eq(rawc_response(idle, &r, false, CLIENT_WAIT_MS), 0);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	b0 = origin_stats(&origins[0]);
	slow = h1_send("/slow?ms=1500");
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/slow?ms=%d",
	    px.tls_port, SLOW_MS);
	snprintf(nout, sizeof(nout), "%s/nghttp.out", px.dir);
	snprintf(nerr, sizeof(nerr), "%s/nghttp.err", px.dir);
	nghttp = run_spawn_io(argv, nout, nerr);
	wait_origin_reqs(0, &b0, 2);
	t0 = now_ms();
	ck_assert_int_eq(kill(px.pid, SIGTERM), 0);
	/* the idle keep-alive connection goes; the listeners close (man
	 * portico(8)), asserted last so that the rest is checked too */
	ck_assert_msg(rawc_wait_eof(idle, 1000), "an idle keep-alive "
	    "connection still open 1 s after SIGTERM");
	rawc_close(idle);
	is_closed = is_refused(px.port, 500);
	is_tls_closed = is_refused(px.tls_port, 500);
	/* the requests in flight complete */
	ck_assert_int_eq(rawc_response(slow, &r, false, 10000), 0);
	ck_assert_msg(r.status == 200 && r.is_complete &&
	    strcmp(r.body, "slow\n") == 0, "h1 /slow across SIGTERM: %d "
	    "%s", r.status, r.body != NULL ? r.body : "");
	ck_assert_msg(resp_field(&r, "Connection", v, sizeof(v)) &&
	    strcasecmp(v, "close") == 0, "h1 response in flight at SIGTERM "
	    "without Connection: close:\n%s", r.head);
	resp_free(&r);
	ck_assert_msg(rawc_wait_eof(slow, 2000), "h1: not closed after the "
	    "response");
	rawc_close(slow);
	rc = run_wait(nghttp, 20000);
	out = file_read(nout, NULL);
	ck_assert_msg(rc == 0, "nghttp %s: exit %d:\n%s", url, rc, out);
	ck_assert_msg(strstr(out, ":status: 200") != NULL &&
	    strstr(out, "\nslow\n") != NULL, "nghttp: no 200 \"slow\":\n%s",
	    out);
	ck_assert_msg(strstr(out, "recv GOAWAY frame") != NULL &&
	    strstr(out, "error_code=NO_ERROR") != NULL, "nghttp saw no "
	    "GOAWAY (NO_ERROR):\n%s", out);
	free(out);
	rc = run_wait(px.pid, 20000);
	took = now_ms() - t0;
	px.pid = 0;
	ck_assert_msg(rc == 0, "exit status %d after SIGTERM", rc);
	ck_assert_msg(took >= 800 && took < 8000, "exited %lld ms after "
	    "SIGTERM, with /slow?ms=%d in flight", (long long)took, SLOW_MS);
	ck_assert_msg(is_closed && is_tls_closed, "after SIGTERM, while "
	    "requests were in flight, a new connection to %s was not "
	    "refused: the kernel completed it and nobody served it",
	    !is_closed ? "the cleartext listener" : "the TLS listener");
}
END_TEST

/* A second SIGTERM, or shutdown_timeout, ends what is left. */
static const struct {
	const char *what;
	const char *extra;
	bool is_twice;
	const char *logged;
} cut_cases[] = {
	{ "a second SIGTERM", "shutdown_timeout 30s\n", true,
	  "stopping now" },
	{ "shutdown_timeout 1s", "shutdown_timeout 1s\n", false,
	  "shutdown_timeout: closing 1 connections" },
};

START_TEST(test_stop_cut_short)
{
	struct rawc *slow;
	struct stats b0;
	struct resp r;
	int64_t t0, took;
	int rc;

	start("b0", cut_cases[_i].extra);
	b0 = origin_stats(&origins[0]);
	slow = h1_send("/slow?ms=15000");
	wait_origin_reqs(0, &b0, 1);
	t0 = now_ms();
	ck_assert_int_eq(kill(px.pid, SIGTERM), 0);
	sleep_ms(300);
	ck_assert_msg(proxy_is_running(&px), "exited at once on SIGTERM "
	    "with a request in flight");
	if (cut_cases[_i].is_twice)
		ck_assert_int_eq(kill(px.pid, SIGTERM), 0);
	rc = run_wait(px.pid, 10000);
	took = now_ms() - t0;
	px.pid = 0;
	ck_assert_msg(rc == 0, "%s: exit status %d", cut_cases[_i].what, rc);
	ck_assert_msg(took < 6000, "%s: exited %lld ms after the first "
	    "SIGTERM", cut_cases[_i].what, (long long)took);
	if (!cut_cases[_i].is_twice)
		ck_assert_msg(took >= 900, "shutdown_timeout 1s: exited after "
		    "%lld ms", (long long)took);
	ck_assert_msg(file_wait_for(px.error_log, cut_cases[_i].logged, 0),
	    "%s: no \"%s\" in the error log", cut_cases[_i].what,
	    cut_cases[_i].logged);
	rc = rawc_response(slow, &r, false, 1000);
	ck_assert_msg(rc != 0 || !r.is_complete || r.status != 200,
	    "%s: /slow?ms=15000 completed", cut_cases[_i].what);
	resp_free(&r);          /* read_head allocates even on -1 */
	rawc_close(slow);
}
END_TEST

Suite *
ops_suite(void)
{
	Suite *s = suite_create("ops");
	TCase *tc = harness_tcase("reload", 90);

	tcase_add_test(tc, test_reload_under_load);
	tcase_add_test(tc, test_reload_keeps_tunnel_and_downloads);
	tcase_add_loop_test(tc, test_reload_broken_keeps_running, 0,
	    NELEMS(broken_cases));
	tcase_add_test(tc, test_reload_listeners);
	tcase_add_loop_test(tc, test_reload_keeps_tickets, 0,
	    NELEMS(resume_cases));
	tcase_add_test(tc, test_stop_finishes_requests);
	tcase_add_loop_test(tc, test_stop_cut_short, 0, NELEMS(cut_cases));
	suite_add_tcase(s, tc);
	suite_add_tcase(s, ops_daemon_tcase());
	return s;
}
