/* tests/integration/test_timers.c: timeouts by phase (issue 12). Each
 * phase of a connection or stream has its own timer, and no timer of an
 * earlier phase survives into the next: over HTTP/1.1, TLS HTTP/1.1,
 * TLS HTTP/2 and h2c, with every client-side timeout at 1 s, a backend
 * slower than all of them, a download longer than all of them and a
 * client reading slowly get their whole response; an upload on a reused
 * backend connection outlives backend_keepalive_timeout, and a body
 * that stops coming gets 408, over HTTP/2 as over HTTP/1.1. Over HTTP/2,
 * send_timeout bounds each stream (a stream window shut: RST_STREAM
 * CANCEL, its backend connection closed, the others served), the
 * connection window (GOAWAY) and the socket (a client that stops
 * reading TCP). timers_client.py is the client where curl cannot be. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "client.h"
#include "harness.h"
#include "suites.h"

#define TCLIENT         "tests/integration/timers_client.py"
#define OUT_MAX         8192
#define TOOL_MS         60000
#define SLOW_MS         3000    /* the origin's delay: over every client
				 * timeout, under backend_read_timeout */
#define TRICKLE         "/bytes/300000?rate=100000"     /* 3 s */
#define TRICKLE_LEN     300000
#define READ_LEN        400000  /* read by the client at READ_RATE */
#define READ_RATE       150000
#define UPLOAD_LEN      300000
#define UPLOAD_SECONDS  "2.5"
#define STALLED         5       /* stalled streams next to a normal one */
#define STALL_SIZE      1048576
#define MANY_STALLED    50
#define MIB_KB          1024
#define STALL_HELD_KB   768     /* the most a stalled stream may hold */
#define STALL_ROUNDS    4

/* Client-side timeouts all at 1 s but send_timeout (SEND); the backend
 * may take 8 s. */
#define TIMERS_CONF \
	"client_header_timeout 1s\nclient_header_initial_timeout 1s\n" \
	"client_body_timeout 1s\nkeepalive_timeout 1s\nsend_timeout %s\n" \
	"backend_read_timeout 8s\nbackend_keepalive_timeout 1s\n"

static struct proxy px;
static char plain_sock[HARNESS_PATH], tls_sock[HARNESS_PATH];

enum proto { P_H1, P_TLS_H1, P_TLS_H2, P_H2C, P_COUNT };
static const char *const proto_names[] = {
	"HTTP/1.1", "TLS HTTP/1.1", "TLS HTTP/2", "h2c",
};

/* Also listens on two unix sockets (plain and TLS): their fixed, small
 * kernel buffers let a slow reader's response wait in portico. */
static void
start(const char *send_timeout)
{
	snprintf(plain_sock, sizeof(plain_sock), "%s/p%d.sock", harness_dir,
	    (int)getpid());
	snprintf(tls_sock, sizeof(tls_sock), "%s/t%d.sock", harness_dir,
	    (int)getpid());
	memset(&px, 0, sizeof(px));
	proxy_start_tls(&px, "%slisten unix:%s\nlisten unix:%s tls\n"
	    "backend o { server %s }\nroute * o\n" TIMERS_CONF,
	    harness_tls_block("\thandshake_timeout 1s\n"), plain_sock, tls_sock,
	    origins[0].tcp, send_timeout);
}

/* timers_client.py ARGS... (NULL-ended); asserts it ran. */
static void
tclient(char *out, const char *mode, ...)
{
	char *argv[12] = { "/usr/bin/python3", TCLIENT, (char *)mode };
	char err[4096];
	va_list ap;
	int i = 3, rc;

	va_start(ap, mode);
	while (i < 11 && (argv[i] = va_arg(ap, char *)) != NULL)
		i++;
	va_end(ap);
	argv[i] = NULL;
	rc = run_argv(argv, out, OUT_MAX, err, sizeof(err), TOOL_MS);
	ck_assert_msg(rc == 0, "timers_client.py %s: exit %d\n%s\n%s", mode,
	    rc, out, err);
}

static const char *
h2_proto(enum proto p)
{
	return p == P_TLS_H2 ? "tls" : "h2c";
}

static const char *
port_of(enum proto p, char *buf, size_t cap)
{
	snprintf(buf, cap, "%d", p == P_TLS_H1 || p == P_TLS_H2 ?
	    px.tls_port : px.port);
	return buf;
}

/* GET PATH with curl over P (HTTP/1.1 or TLS HTTP/1.1) into FILE;
 * "code size" into OUT. */
static void
curl_h1(enum proto p, const char *path, const char *file, char *out)
{
	char url[256];

	snprintf(url, sizeof(url), "%s://127.0.0.1:%d%s", p == P_H1 ?
	    "http" : "https", p == P_H1 ? px.port : px.tls_port, path);
	ck_assert_int_eq(curl(out, OUT_MAX, "-k", "--http1.1", "-o", file,
	    "-w", "%{http_code} %{size_download}", url, NULL), 0);
}

/* The whole response to GET PATH over P: its status and size, and with
 * IS_PATTERN, its bytes the origin's /bytes pattern. */
static void
assert_get(enum proto p, const char *path, const char *status, long size,
    bool is_pattern)
{
	char out[OUT_MAX], port[16], file[HARNESS_PATH], want[64];
	char h1[65], h2[65];

	if (p == P_H1 || p == P_TLS_H1) {
		snprintf(file, sizeof(file), "%s/body%d", harness_dir,
		    (int)getpid());
		curl_h1(p, path, file, out);
		snprintf(want, sizeof(want), "%s %ld", status, size);
		ck_assert_msg(strcmp(out, want) == 0, "%s %s: %s, want %s",
		    proto_names[p], path, out, want);
		if (is_pattern) {
			sha256_file(file, h1);
			sha256_pattern((uint64_t)size, h2);
			ck_assert_str_eq(h1, h2);
		}
		unlink(file);
		return;
	}
	tclient(out, "get", h2_proto(p), port_of(p, port, sizeof(port)), path,
	    NULL);
	snprintf(want, sizeof(want), "%ld", size);
	assert_kv(out, "status", status);
	assert_kv(out, "bytes", want);
	assert_kv(out, "reset", "none");
	if (is_pattern)
		assert_kv(out, "pattern", "ok");
}

/* ---- every protocol ---- */

/* The origin answers after 3 s: longer than keepalive_timeout, the
 * header timeouts, handshake_timeout and the h2 preface sniffing, none
 * of which may still run once the request is read. */
START_TEST(test_slow_response)
{
	char path[64];
	int64_t t0;

	start("2s");
	snprintf(path, sizeof(path), "/slow?ms=%d", SLOW_MS);
	t0 = now_ms();
	assert_get(_i, path, "200", 5, false);
	/* the premise: the response did outlive the client timeouts */
	ck_assert_int_ge(now_ms() - t0, SLOW_MS - 100);
	proxy_stop(&px);
}
END_TEST

/* A body the origin trickles over 3 s arrives whole. */
START_TEST(test_slow_download)
{
	start("2s");
	assert_get(_i, TRICKLE, "200", TRICKLE_LEN, true);
	proxy_stop(&px);
}
END_TEST

/* A client that reads at 150 kB/s gets all 400 kB. Over HTTP/1.1 the
 * last of it is still in portico's output when the backend is done and
 * the connection goes idle: keepalive_timeout used to start then and cut
 * the download short (the unix listeners make that tail a sure thing:
 * their kernel buffers are small). Over HTTP/2 the client's credit paces
 * it: send_timeout never fires on a stream that moves. send_timeout is
 * 3 s: a kernel wakes a writer only once a good part of its buffer is
 * free, which at this rate may take more than a second. */
START_TEST(test_slow_reader)
{
	char out[OUT_MAX], port[16], path[64], rate[16], want[16];

	start("3s");
	snprintf(path, sizeof(path), "/bytes/%d", READ_LEN);
	snprintf(rate, sizeof(rate), "%d", READ_RATE);
	if (_i == P_H1 || _i == P_TLS_H1)
		tclient(out, "h1get", _i == P_H1 ? "plain" : "tls",
		    _i == P_H1 ? plain_sock : tls_sock, path, rate, NULL);
	else
		tclient(out, "get", h2_proto(_i), port_of(_i, port,
		    sizeof(port)), path, rate, NULL);
	snprintf(want, sizeof(want), "%d", READ_LEN);
	assert_kv(out, "status", "200");
	assert_kv(out, "bytes", want);
	assert_kv(out, "pattern", "ok");
	proxy_stop(&px);
}
END_TEST

/* GET /echo, then on the same client connection a POST sent over 2.5 s:
 * it goes out on the backend connection the GET left in the pool, whose
 * backend_keepalive_timeout (1 s) must not run while it carries the
 * upload. The origin got it all, on that one connection. */
START_TEST(test_pooled_upload)
{
	static const char *const protos[] = { "plain", "tls", "h2-tls",
	    "h2-h2c" };
	char out[OUT_MAX], port[16], size[16], want[16], sha[65];
	char *got;
	size_t n;
	long conn;

	start("2s");
	snprintf(size, sizeof(size), "%d", UPLOAD_LEN);
	tclient(out, "upload", protos[_i], port_of(_i, port, sizeof(port)),
	    size, UPLOAD_SECONDS, NULL);
	assert_kv(out, "status", "200");
	assert_kv(out, "body_length", size);
	sha256_pattern(UPLOAD_LEN, sha);
	assert_kv(out, "body_sha256", sha);
	conn = atol(kv(out, "conn1"));
	ck_assert_msg(conn > 0 && conn == atol(kv(out, "conn2")),
	    "%s: the upload did not reuse the pooled connection:\n%s",
	    proto_names[_i], out);
	/* what the origin recorded on that connection: both requests */
	got = origin_received(&origins[0], conn, &n);
	ck_assert_msg(strstr(got, "GET /echo") != NULL &&
	    strstr(got, "POST /echo") != NULL, "%s: connection %ld got:\n"
	    "%.500s", proto_names[_i], conn, got);
	snprintf(want, sizeof(want), "%zu", n);
	ck_assert_msg(n > UPLOAD_LEN, "%s: the origin's connection got %s "
	    "bytes", proto_names[_i], want);
	free(got);
	proxy_stop(&px);
}
END_TEST

/* A request body that stops coming: client_body_timeout (1 s) ends it
 * with 408 and closes the backend connection, which held half a
 * request; over HTTP/2 the stream's own timer does it, and the
 * connection serves the next stream. */
START_TEST(test_body_stall)
{
	static const char *const protos[] = { "plain", "tls", "h2-tls",
	    "h2-h2c" };
	char out[OUT_MAX], port[16], oport[16];

	start("2s");
	snprintf(oport, sizeof(oport), "%d", origins[0].port);
	tclient(out, "bodystall", protos[_i], port_of(_i, port,
	    sizeof(port)), oport, NULL);
	assert_kv(out, "status", "408");
	assert_kv(out, "backend_conns", "1");
	assert_kv(out, "backend_conns_after", "0");
	if (_i == P_H1 || _i == P_TLS_H1) {
		assert_kv(out, "closed", "yes");
	} else {
		assert_kv(out, "after_status", "200");
		assert_kv(out, "closed", "no");
	}
	proxy_stop(&px);
}
END_TEST

/* ---- HTTP/2 send_timeout ---- */

/* 5 streams whose window the client keeps shut, next to one it credits:
 * after send_timeout (1 s) each of the 5 is reset with CANCEL and its
 * backend connection closed, while the other is served, and so is a
 * stream opened after the resets; the connection lives on. */
START_TEST(test_stalled_streams_reset)
{
	char out[OUT_MAX], port[16], oport[16], n[16], size[16];
	enum proto p = _i == 0 ? P_TLS_H2 : P_H2C;
	char *log;
	size_t len;

	start("1s");
	snprintf(oport, sizeof(oport), "%d", origins[0].port);
	snprintf(n, sizeof(n), "%d", STALLED);
	snprintf(size, sizeof(size), "%d", STALL_SIZE);
	tclient(out, "stall", h2_proto(p), port_of(p, port, sizeof(port)),
	    oport, n, size, NULL);
	assert_kv(out, "rst_cancel", n);
	assert_kv(out, "stalled_data", "0");
	ck_assert_msg(atoi(kv(out, "rst_ms_min")) >= 900, "reset before "
	    "send_timeout:\n%s", out);
	ck_assert_msg(atoi(kv(out, "backend_conns_stalled")) >= STALLED,
	    "the stalled streams held no backend connection:\n%s", out);
	ck_assert_msg(atoi(kv(out, "backend_conns_after")) <= 1,
	    "backend connections kept after the resets:\n%s", out);
	assert_kv(out, "normal_status", "200");
	assert_kv(out, "normal_bytes", "200000");
	assert_kv(out, "normal_pattern", "ok");
	assert_kv(out, "after_status", "200");
	assert_kv(out, "after_bytes", "200000");
	assert_kv(out, "after_pattern", "ok");
	assert_kv(out, "closed", "no");
	assert_kv(out, "goaway", "none");
	ck_assert(file_wait_for(px.error_log, "stream window shut for "
	    "send_timeout", 2000));
	proxy_stop(&px);
	log = file_read(px.access_log, &len);
	ck_assert_msg(file_count(px.access_log, "send timeout: stream window "
	    "shut") == STALLED, "access log:\n%s", log);
	free(log);
}
END_TEST

/* Stream windows open but the connection window never credited: the
 * response stops at 65,535 bytes, and after send_timeout the connection
 * ends with GOAWAY. */
START_TEST(test_connection_window_goaway)
{
	char out[OUT_MAX], port[16], size[16];
	enum proto p = _i == 0 ? P_TLS_H2 : P_H2C;

	start("1s");
	snprintf(size, sizeof(size), "%d", STALL_SIZE);
	tclient(out, "connstall", h2_proto(p), port_of(p, port,
	    sizeof(port)), size, NULL);
	assert_kv(out, "goaway", "NO_ERROR");
	assert_kv(out, "closed", "yes");
	assert_kv(out, "bytes", "65535");
	ck_assert(file_wait_for(px.error_log, "connection window shut for "
	    "send_timeout", 2000));
	proxy_stop(&px);
}
END_TEST

/* Windows wide open, but the client stops reading TCP: the socket's
 * write side is under send_timeout, and the backend connection goes
 * with the connection. */
START_TEST(test_h2_client_not_reading)
{
	char out[OUT_MAX], port[16], oport[16];
	enum proto p = _i == 0 ? P_TLS_H2 : P_H2C;

	start("1s");
	snprintf(oport, sizeof(oport), "%d", origins[0].port);
	tclient(out, "noread", h2_proto(p), port_of(p, port, sizeof(port)),
	    oport, "64000000", NULL);
	assert_kv(out, "backend_conns", "1");
	ck_assert_msg(atoi(kv(out, "released_ms")) > 0, "the backend "
	    "connection was never released:\n%s", out);
	assert_kv(out, "closed", "yes");
	proxy_stop(&px);
}
END_TEST

/* 50 streams of 1 MiB with windows shut (the 100 backend
 * connections and 27 MB, held for ever): all reset after send_timeout,
 * what they held bounded while they stall, and the memory they held is
 * freed: later rounds reuse it rather than add to it. (RSS back at idle
 * once the worker is idle is the idle trim's part: glibc keeps freed
 * chunks until malloc_trim.) */
static long
stall_round(char *out, long *peak_kb)
{
	char port[16], oport[16], n[16], size[16], path[HARNESS_PATH];
	char *argv[] = { "/usr/bin/python3", TCLIENT, "stall", "tls", port,
	    oport, n, size, NULL };
	char *got;
	size_t len;
	pid_t pid;

	snprintf(port, sizeof(port), "%d", px.tls_port);
	snprintf(oport, sizeof(oport), "%d", origins[0].port);
	snprintf(n, sizeof(n), "%d", MANY_STALLED);
	snprintf(size, sizeof(size), "%d", STALL_SIZE);
	snprintf(path, sizeof(path), "%s/stall%d.out", harness_dir,
	    (int)getpid());
	pid = run_spawn_io(argv, path, "/dev/null");
	ck_assert_int_eq(run_wait_rss(pid, TOOL_MS, px.pid, peak_kb), 0);
	got = file_read(path, &len);
	snprintf(out, OUT_MAX, "%s", got);
	free(got);
	unlink(path);
	return atol(kv(out, "rst_cancel"));
}

/* Whether portico's RSS comes back within twice IDLE (and a MiB) in
 * 10 s, polled. */
static bool
rss_settles(long idle)
{
	int i;

	for (i = 0; i < 100; i++) {
		if (proc_rss_kb(px.pid) <= 2 * idle + MIB_KB)
			return true;
		usleep(100 * 1000);
	}
	return false;
}

START_TEST(test_many_stalled_streams_bounded)
{
	char out[OUT_MAX];
	long idle, peak, first = 0, most = 0;
	int round;

	start("1s");
	idle = proc_rss_kb(px.pid);
	for (round = 0; round < STALL_ROUNDS; round++) {
		ck_assert_int_eq(stall_round(out, &peak), MANY_STALLED);
		assert_kv(out, "after_status", "200");
		assert_kv(out, "after_pattern", "ok");
		ck_assert_msg(atoi(kv(out, "backend_conns_after")) <= 1,
		    "backend connections kept after the resets:\n%s", out);
		/* a stalled stream holds its buffer and the backend's
		 * input, each bounded at 256 KiB (and a read more); under
		 * ASan, freed memory waits in quarantine: the first round */
		ck_assert_msg((round > 0 && harness_is_asan()) ||
		    peak - idle < MANY_STALLED * STALL_HELD_KB,
		    "RSS %ld kB idle, %ld kB with %d stalled streams", idle,
		    peak, MANY_STALLED);
		if (round == 0)
			first = peak - idle;
		most = peak > most ? peak : most;
	}
	/* each round lands on one of the 2 workers, whose malloc arena
	 * keeps what the round freed and reuses it the next time: at most
	 * two rounds' worth, however many rounds */
	ck_assert_msg(harness_is_asan() ||
	    most - idle <= 2 * first + first / 4 + 2 * MIB_KB,
	    "RSS grew round after round: idle %ld kB, first peak %ld kB, "
	    "highest after %d rounds %ld kB", idle, idle + first,
	    STALL_ROUNDS, most);
	/* once the workers idle, they give it back (worker.c, heap.c) */
	ck_assert_msg(harness_is_asan() || rss_settles(idle),
	    "RSS %ld kB idle, still %ld kB 10 s after the stalled rounds",
	    idle, proc_rss_kb(px.pid));
	proxy_stop(&px);
}
END_TEST

Suite *
timers_suite(void)
{
	Suite *s = suite_create("timers");
	TCase *all = harness_tcase("phases", 60);
	TCase *h2 = harness_tcase("h2_send_timeout", 90);

	tcase_add_loop_test(all, test_slow_response, 0, P_COUNT);
	tcase_add_loop_test(all, test_slow_download, 0, P_COUNT);
	tcase_add_loop_test(all, test_slow_reader, 0, P_COUNT);
	tcase_add_loop_test(all, test_pooled_upload, 0, P_COUNT);
	tcase_add_loop_test(all, test_body_stall, 0, P_COUNT);
	suite_add_tcase(s, all);
	tcase_add_loop_test(h2, test_stalled_streams_reset, 0, 2);
	tcase_add_loop_test(h2, test_connection_window_goaway, 0, 2);
	tcase_add_loop_test(h2, test_h2_client_not_reading, 0, 2);
	tcase_add_test(h2, test_many_stalled_streams_bounded);
	suite_add_tcase(s, h2);
	return s;
}
