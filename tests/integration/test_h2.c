/*
 * tests/integration/test_h2.c: the HTTP/2 frontend, over TLS unless the
 * test is about cleartext, driven by curl, nghttp, h2load and
 * h2client.py (python3-h2, and raw frames for the floods): concurrent
 * streams, big bodies both ways to TCP and unix backends, RSS with a
 * slow client and a slow backend, trailers and 103, floods, the
 * Host/:authority check, h2c, stream resets both ways.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "client.h"
#include "harness.h"
#include "suites.h"

#define H2CLIENT        "tests/integration/h2client.py"
#define OUT_MAX         65536
#define TOOL_MS         60000           /* bound on one client run */
#define BIG             (UINT64_C(50) << 20)
#define RSS_MAX_KB      (64 * 1024)
#define SLOW_RATE       "100000000"     /* B/s: client and backend */
#define TRANSFER_MS     120000

static struct proxy px;

/* TLS and cleartext listeners; u.test goes to origin 0's unix socket,
 * the rest to its TCP port. */
static void
start_h2(const char *extra)
{
	memset(&px, 0, sizeof(px));
	proxy_start_tls(&px, "%sbackend o { server %s }\n"
	    "backend u { server %s }\nroute * o\nroute u.test u\n%s",
	    harness_tls_block(NULL), origins[0].tcp, origins[0].unix_addr,
	    extra);
}

/* h2client.py MODE against the TLS listener; asserts it ran (exit 0). */
static void
h2client(char *out, size_t cap, const char *mode, int arg)
{
	char port[16], sarg[24], err[4096];
	char *argv[] = { "/usr/bin/python3", H2CLIENT, (char *)mode, port,
	    sarg, NULL };
	int rc;

	snprintf(port, sizeof(port), "%d", px.tls_port);
	snprintf(sarg, sizeof(sarg), "%d", arg);
	rc = run_argv(argv, out, cap, err, sizeof(err), TOOL_MS);
	ck_assert_msg(rc == 0, "h2client.py %s: exit %d\n%s\n%s", mode, rc,
	    out, err);
}

static void
resolve_arg(char *out, size_t cap, const char *host)
{
	snprintf(out, cap, "%s:%d:127.0.0.1", host, px.tls_port);
}

/* A normal h2 request on a new connection still works. */
static void
assert_serving(void)
{
	char out[OUT_MAX], url[128], v[64];

	snprintf(url, sizeof(url), "https://127.0.0.1:%d/echo?still=1",
	    px.tls_port);
	ck_assert_int_eq(curl(out, sizeof(out), "-k", "--http2", "-w",
	    "\n%{http_version}", url, NULL), 0);
	ck_assert_msg(strstr(out, "\n2") != NULL, "%s", out);
	ck_assert(json_str(out, "target", v, sizeof(v)));
	ck_assert_str_eq(v, "/echo?still=1");
}

/* ---- many streams ---- */

/* 100 streams at once (portico's default limit): all of them end 200
 * and, each taking 500 ms at the origin, together in far less than the
 * 50 s they would take one after another. */
START_TEST(test_nghttp_100_streams)
{
	static char out[OUT_MAX * 4];
	char url[128], err[4096];
	char *argv[] = { "/usr/bin/nghttp", "-ns", "-m", "100", url, NULL };
	struct stats before = origin_stats(&origins[0]), after;
	const char *p;
	char path[32];
	int64_t t0;
	int rc, n = 0, id, code, size;

	start_h2("");
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/slow?ms=500",
	    px.tls_port);
	t0 = now_ms();
	rc = run_argv(argv, out, sizeof(out), err, sizeof(err), TOOL_MS);
	t0 = now_ms() - t0;
	ck_assert_msg(rc == 0, "nghttp: exit %d: %s %s", rc, out, err);
	/* -s: "id responseEnd requestStart process code size path" */
	for (p = out; p != NULL && *p != '\0'; p = strchr(p, '\n')) {
		p += *p == '\n';
		if (sscanf(p, "%d %*s %*s %*s %d %d %31s", &id, &code, &size,
		    path) == 4 && code == 200 && size == 5 &&
		    strcmp(path, "/slow?ms=500") == 0)
			n++;
	}
	ck_assert_msg(n == 100, "%d of 100 streams ended 200 with 5 bytes:\n"
	    "%.3000s", n, out);
	ck_assert_msg(t0 < 10000, "100 streams of 500 ms took %lld ms: not "
	    "concurrent", (long long)t0);
	after = origin_stats(&origins[0]);
	ck_assert_int_eq(after.reqs - before.reqs, 100);
	proxy_stop(&px);
}
END_TEST

/* Every body of 100 concurrent streams, byte for byte. */
START_TEST(test_h2_100_bodies)
{
	char out[OUT_MAX];

	start_h2("");
	h2client(out, sizeof(out), "many", 100);
	assert_kv(out, "ok", "100");
	proxy_stop(&px);
}
END_TEST

START_TEST(test_h2load)
{
	static char out[OUT_MAX];
	char url[128], err[4096];
	char *argv[] = { "/usr/bin/h2load", "-n", "20000", "-c", "10", "-m",
	    "10", url, NULL };
	struct stats before = origin_stats(&origins[0]), after;
	int rc;

	start_h2("");
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/bytes/100",
	    px.tls_port);
	rc = run_argv(argv, out, sizeof(out), err, sizeof(err), TOOL_MS);
	ck_assert_msg(rc == 0, "h2load: exit %d: %s %s", rc, out, err);
	ck_assert_msg(strstr(out, "Application protocol: h2") != NULL, "%s",
	    out);
	ck_assert_msg(strstr(out, "20000 succeeded, 0 failed, 0 errored, "
	    "0 timeout") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "status codes: 20000 2xx") != NULL, "%s",
	    out);
	after = origin_stats(&origins[0]);
	ck_assert_int_eq(after.reqs - before.reqs, 20000);
	proxy_stop(&px);
}
END_TEST

/* ---- 50 MiB each way, TCP and unix backends ---- */

static const struct {
	const char *host;       /* a.test: TCP backend; u.test: unix */
	bool is_upload;
	bool has_length;        /* upload: else curl sends no content-length */
} big_cases[] = {
	{ "a.test", false, true },
	{ "u.test", false, true },
	{ "a.test", true, true },
	{ "u.test", true, true },
	{ "a.test", true, false },
	{ "u.test", true, false },
};

/* The backend that served the request, from the access log. */
static void
assert_upstream(const char *host)
{
	char *log = file_read(px.access_log, NULL), v[HARNESS_PATH];
	const char *want = strcmp(host, "u.test") == 0 ?
	    origins[0].unix_addr : origins[0].tcp;

	ck_assert_ptr_nonnull(log);
	ck_assert_msg(json_str(log, "upstream", v, sizeof(v)), "%s", log);
	ck_assert_str_eq(v, want);
	free(log);
}

static void
big_download(const char *host)
{
	char out[OUT_MAX], resolve[64], url[128], file[HARNESS_PATH], want[65];
	char got[65], w[64];

	resolve_arg(resolve, sizeof(resolve), host);
	snprintf(url, sizeof(url), "https://%s:%d/bytes/%llu", host,
	    px.tls_port, (unsigned long long)BIG);
	snprintf(file, sizeof(file), "%s/down", px.dir);
	ck_assert_int_eq(curl(out, sizeof(out), "-k", "--http2", "--resolve",
	    resolve, "-o", file, "-w", "%{http_version} %{http_code} "
	    "%{size_download}", url, NULL), 0);
	snprintf(w, sizeof(w), "2 200 %llu", (unsigned long long)BIG);
	ck_assert_str_eq(out, w);
	sha256_file(file, got);
	sha256_pattern(BIG, want);
	ck_assert_msg(strcmp(got, want) == 0, "50 MiB from %s: sha256 %s, "
	    "want %s", host, got, want);
	unlink(file);
}

static void
big_upload(const char *host, bool has_length)
{
	char out[OUT_MAX], cmd[1024], file[HARNESS_PATH], want[65], v[128];
	int rc;

	snprintf(file, sizeof(file), "%s/up", px.dir);
	pattern_file(file, BIG);
	/* -T FILE sends content-length; -T - (stdin) cannot */
	snprintf(cmd, sizeof(cmd), "curl -s --max-time 60 -k --http2 "
	    "--resolve %s:%d:127.0.0.1 -T %s 'https://%s:%d/echo' %s%s",
	    host, px.tls_port, has_length ? file : "-", host, px.tls_port,
	    has_length ? "" : "< ", has_length ? "" : file);
	rc = run_sh(cmd, out, sizeof(out), NULL, 0, TOOL_MS);
	ck_assert_msg(rc == 0, "%s: exit %d", cmd, rc);
	ck_assert_msg(json_num(out, "body_length") == (long long)BIG, "%s",
	    out);
	ck_assert(json_str(out, "body_sha256", v, sizeof(v)));
	sha256_pattern(BIG, want);
	ck_assert_str_eq(v, want);
	ck_assert(json_str(out, "version", v, sizeof(v)));
	ck_assert_str_eq(v, "1.1");
	if (has_length) {
		ck_assert_int_eq(echo_field(out, "Content-Length", v,
		    sizeof(v)), 1);
		ck_assert_int_eq(strtoll(v, NULL, 10), (long long)BIG);
		ck_assert_msg(strstr(out, "\"chunked\":false") != NULL, "%s",
		    out);
	} else {
		/* a body without content-length goes chunked */
		ck_assert_msg(strstr(out, "\"chunked\":true") != NULL, "%s",
		    out);
		ck_assert_int_eq(echo_field(out, "Content-Length", v,
		    sizeof(v)), 0);
	}
	unlink(file);
}

START_TEST(test_h2_50mb)
{
	start_h2("");
	if (big_cases[_i].is_upload)
		big_upload(big_cases[_i].host, big_cases[_i].has_length);
	else
		big_download(big_cases[_i].host);
	proxy_stop(&px);
	assert_upstream(big_cases[_i].host);
}
END_TEST

/* ---- 1 GiB with a slow peer: RSS bound ---- */

static uint64_t
rss_size(void)
{
	return harness_is_asan() ? UINT64_C(64) << 20 : UINT64_C(1) << 30;
}

static void
check_rss(const char *what, long max_kb, uint64_t n)
{
	bool is_asan = harness_is_asan();

	fprintf(stderr, "h2: %s of %llu MiB: portico max VmRSS %ld kB%s\n",
	    what, (unsigned long long)(n >> 20), max_kb, is_asan ?
	    "; PORTICO_ASAN=1, so the 64 MiB bound is not checked (ASan "
	    "inflates RSS)" : "");
	ck_assert_msg(max_kb > 0, "no VmRSS sample of portico");
	if (is_asan)
		return;
	ck_assert_msg(max_kb < RSS_MAX_KB, "h2 %s of %llu MiB: portico VmRSS "
	    "reached %ld kB (bound %d kB)", what, (unsigned long long)(n >> 20),
	    max_kb, RSS_MAX_KB);
}

/* Runs CMD under sh, sampling portico's RSS; its stdout and stderr. */
static void
run_sampled(const char *cmd, char *out, char *err, size_t cap, long *kb)
{
	char opath[HARNESS_PATH + 8], epath[HARNESS_PATH + 8];
	char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };
	char *s;
	int rc;

	snprintf(opath, sizeof(opath), "%s/cmd.out", px.dir);
	snprintf(epath, sizeof(epath), "%s/cmd.err", px.dir);
	rc = run_wait_rss(run_spawn_io(argv, opath, epath), TRANSFER_MS,
	    px.pid, kb);
	s = file_read(opath, NULL);
	snprintf(out, cap, "%s", s != NULL ? s : "");
	free(s);
	s = file_read(epath, NULL);
	snprintf(err, cap, "%s", s != NULL ? s : "");
	free(s);
	ck_assert_msg(rc == 0, "%s: exit %d: %s", cmd, rc, err);
}

START_TEST(test_h2_slow_client_rss)
{
	static char out[OUT_MAX], err[OUT_MAX];
	char cmd[1024], want[80], w[64];
	uint64_t n = rss_size();
	long kb;

	start_h2("");
	snprintf(cmd, sizeof(cmd), "curl -s --max-time 100 -k --http2 "
	    "--limit-rate " SLOW_RATE " --resolve a.test:%d:127.0.0.1 -w "
	    "'%%{stderr}%%{http_version} %%{http_code} %%{size_download}' "
	    "https://a.test:%d/bytes/%llu | sha256sum", px.tls_port,
	    px.tls_port, (unsigned long long)n);
	run_sampled(cmd, out, err, sizeof(out), &kb);
	snprintf(w, sizeof(w), "2 200 %llu", (unsigned long long)n);
	ck_assert_msg(strcmp(err, w) == 0, "curl: \"%s\", want \"%s\"", err,
	    w);
	sha256_pattern(n, want);
	strcat(want, "  -\n");
	ck_assert_str_eq(out, want);
	check_rss("download to a slow client", kb, n);
	proxy_stop(&px);
}
END_TEST

START_TEST(test_h2_slow_backend_rss)
{
	static char out[OUT_MAX], err[OUT_MAX];
	char cmd[1024], file[HARNESS_PATH], want[65], v[128];
	uint64_t n = rss_size();
	long kb;

	start_h2("");
	snprintf(file, sizeof(file), "%s/up", px.dir);
	pattern_file(file, n);
	snprintf(cmd, sizeof(cmd), "curl -s --max-time 100 -k --http2 "
	    "--resolve a.test:%d:127.0.0.1 -T %s "
	    "'https://a.test:%d/echo?rate=" SLOW_RATE "'", px.tls_port, file,
	    px.tls_port);
	run_sampled(cmd, out, err, sizeof(out), &kb);
	unlink(file);
	ck_assert_msg(json_num(out, "body_length") == (long long)n, "%s", out);
	ck_assert(json_str(out, "body_sha256", v, sizeof(v)));
	sha256_pattern(n, want);
	ck_assert_str_eq(v, want);
	check_rss("upload to a slow backend", kb, n);
	proxy_stop(&px);
}
END_TEST

/* ---- trailers and interim responses ---- */

START_TEST(test_h2_trailers)
{
	char out[OUT_MAX];

	start_h2("");
	h2client(out, sizeof(out), "trailers", 0);
	assert_kv(out, "event0", "response 200");
	assert_kv(out, "event1", "data 6");
	assert_kv(out, "event2", "trailers x-checksum:abc");
	assert_kv(out, "event3", "ended");
	assert_kv(out, "body", "hello\\n");
	proxy_stop(&px);
}
END_TEST

START_TEST(test_h2_early_hints)
{
	char out[OUT_MAX];

	start_h2("");
	h2client(out, sizeof(out), "early-hints", 0);
	assert_kv(out, "event0", "informational 103 link=</style.css>; "
	    "rel=preload");
	assert_kv(out, "event1", "response 200");
	assert_kv(out, "body", "hinted\\n");
	ck_assert_msg(strstr(out, "=ended\n") != NULL, "%s", out);
	proxy_stop(&px);
}
END_TEST

/* ---- floods ---- */

static const struct {
	const char *mode;
	int n;                  /* frames of the flood */
	const char *log;        /* portico's reason, in its error log */
} flood_cases[] = {
	{ "rapid-reset", 5000, "too many stream resets: ENHANCE_YOUR_CALM" },
	{ "continuation", 10000, "CONTINUATION" },
};

START_TEST(test_h2_flood_ends_connection)
{
	char out[OUT_MAX];

	start_h2("");
	h2client(out, sizeof(out), flood_cases[_i].mode, flood_cases[_i].n);
	fprintf(stderr, "h2: %s flood: %s", flood_cases[_i].mode, out);
	assert_kv(out, "goaway", "ENHANCE_YOUR_CALM");
	assert_kv(out, "closed", "yes");
	ck_assert_msg(file_wait_for(px.error_log, flood_cases[_i].log, 2000),
	    "no \"%s\" in %s", flood_cases[_i].log, px.error_log);
	assert_serving();
	ck_assert_int_gt(proc_rss_kb(px.pid), 0);
	proxy_stop(&px);
}
END_TEST

/* ---- requests refused or cut ---- */

/* :authority a.test with host: b.test is 400, and never reaches the
 * origin; the connection goes on serving. */
START_TEST(test_h2_host_authority_mismatch)
{
	char out[OUT_MAX];
	struct stats before, after;

	start_h2("");
	before = origin_stats(&origins[0]);
	h2client(out, sizeof(out), "mismatch", 0);
	assert_kv(out, "status", "400");
	assert_kv(out, "after", "200");
	after = origin_stats(&origins[0]);
	ck_assert_msg(after.reqs - before.reqs == 1, "the origin saw %ld "
	    "requests, want 1 (the good one after the 400)",
	    after.reqs - before.reqs);
	proxy_stop(&px);
}
END_TEST

/* RST_STREAM from the client cancels the backend request: the backend
 * connection that carried it is closed, not pooled. The client's first
 * /echo leaves connection X idle in its worker's pool (a fresh portico
 * has no other); /slow takes X (h2client checks that the origin accepted
 * no connection for it); the stream is reset; 1.3 s later, when the slow
 * reply has long been sent, /echo must arrive on a new connection: had X
 * been drained and pooled, it would come on X again. */
START_TEST(test_h2_reset_closes_backend)
{
	char out[OUT_MAX];
	long first, after;

	start_h2("");
	h2client(out, sizeof(out), "cancel", origins[0].port);
	assert_kv(out, "new_conns_for_slow", "0");
	assert_kv(out, "status", "200");
	assert_kv(out, "target", "/echo");
	first = atol(kv(out, "first"));
	after = atol(kv(out, "after"));
	ck_assert_msg(first > 0 && after > first, "after the reset, /echo came "
	    "on backend connection %ld; the reset one was %ld (pooled again?)",
	    after, first);
	proxy_stop(&px);
}
END_TEST

/* The origin closes after 10000 of 1000000 bytes: the h2 client must see
 * the stream reset (INTERNAL_ERROR), never END_STREAM. */
START_TEST(test_h2_backend_drop_resets)
{
	char out[OUT_MAX];

	start_h2("");
	h2client(out, sizeof(out), "drop", 0);
	assert_kv(out, "status", "200");
	ck_assert_msg(strstr(out, "=ended\n") == NULL, "a cut response ended "
	    "with END_STREAM:\n%s", out);
	ck_assert_msg(strstr(out, "=reset 2\n") != NULL, "no RST_STREAM "
	    "INTERNAL_ERROR:\n%s", out);
	ck_assert_int_le(atol(kv(out, "body_length")), 10000);
	proxy_stop(&px);
}
END_TEST

/* ---- cleartext ---- */

START_TEST(test_h2c_prior_knowledge)
{
	char out[OUT_MAX], url[128], v[64], *nl;

	start_h2("");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo", px.port);
	ck_assert_int_eq(curl(out, sizeof(out), "--http2-prior-knowledge",
	    "-w", "\n%{http_version}", url, NULL), 0);
	ck_assert_ptr_nonnull(nl = strrchr(out, '\n'));
	ck_assert_str_eq(nl + 1, "2");
	ck_assert(json_str(out, "version", v, sizeof(v)));
	ck_assert_str_eq(v, "1.1");
	ck_assert_int_eq(echo_field(out, "X-Forwarded-Proto", v, sizeof(v)),
	    1);
	ck_assert_str_eq(v, "http");
	proxy_stop(&px);
}
END_TEST

/* curl --http2 on cleartext asks for Upgrade: h2c; portico answers in
 * HTTP/1.1 and passes neither Upgrade nor HTTP2-Settings on. */
START_TEST(test_h2c_upgrade_ignored)
{
	char out[OUT_MAX], url[128], v[256], *nl;

	start_h2("");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo", px.port);
	ck_assert_int_eq(curl(out, sizeof(out), "--http2", "-w",
	    "\n%{http_version}", url, NULL), 0);
	ck_assert_ptr_nonnull(nl = strrchr(out, '\n'));
	ck_assert_str_eq(nl + 1, "1.1");
	ck_assert_int_eq(echo_field(out, "Upgrade", v, sizeof(v)), 0);
	ck_assert_int_eq(echo_field(out, "HTTP2-Settings", v, sizeof(v)), 0);
	if (echo_joined(out, "Connection", v, sizeof(v)) > 0)
		ck_assert_msg(strcasestr(v, "upgrade") == NULL &&
		    strcasestr(v, "http2") == NULL, "Connection: %s", v);
	proxy_stop(&px);
}
END_TEST

Suite *
h2_suite(void)
{
	Suite *s = suite_create("h2");
	TCase *tc = harness_tcase("h2", 90);

	tcase_add_test(tc, test_nghttp_100_streams);
	tcase_add_test(tc, test_h2_100_bodies);
	tcase_add_test(tc, test_h2load);
	tcase_add_loop_test(tc, test_h2_50mb, 0, NELEMS(big_cases));
	tcase_add_test(tc, test_h2_trailers);
	tcase_add_test(tc, test_h2_early_hints);
	tcase_add_loop_test(tc, test_h2_flood_ends_connection, 0,
	    NELEMS(flood_cases));
	tcase_add_test(tc, test_h2_host_authority_mismatch);
	tcase_add_test(tc, test_h2_reset_closes_backend);
	tcase_add_test(tc, test_h2_backend_drop_resets);
	tcase_add_test(tc, test_h2c_prior_knowledge);
	tcase_add_test(tc, test_h2c_upgrade_ignored);
	suite_add_tcase(s, tc);

	tc = harness_tcase("rss", 300);
	tcase_add_test(tc, test_h2_slow_client_rss);
	tcase_add_test(tc, test_h2_slow_backend_rss);
	suite_add_tcase(s, tc);
	return s;
}
