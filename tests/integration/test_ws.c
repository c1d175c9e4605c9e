/*
 * tests/integration/test_ws.c: WebSocket tunnels through portico's TLS
 * listener, with real clients: python3-websockets over HTTP/1.1
 * (ws_h1.py), an RFC 8441 client over HTTP/2 written on python3-h2
 * (ws_h2.py), and headless Chromium, which uses RFC 8441 when portico
 * announces it. Each case checks what the client saw, what reached the
 * origin (its /ws-last and /stats) and the tunnel's access log line.
 *
 * The origin (tests/origin) echoes at /ws, refuses at /ws-refuse, answers
 * a wrong Sec-WebSocket-Accept at /ws-badaccept. a.test reaches origin 0
 * over TCP, u.a.test over its unix socket.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "client.h"
#include "harness.h"
#include "suites.h"

#define WS_H1           "tests/integration/ws_h1.py"
#define WS_H2           "tests/integration/ws_h2.py"
#define WS_H2FLOW       "tests/integration/ws_h2flow.py"
#define CHROMIUM        "/usr/bin/chromium"
#define OUT_MAX         65536
#define TOOL_MS         90000           /* bound on one client run */
#define LOG_WAIT_MS     5000            /* access log: flushed each second */
#define BIG             (16 << 20)      /* the 16 MiB message */
#define N_TUNNELS       100

static struct proxy px;

/* TLS_EXTRA: lines for the tls block (NULL: none). */
static void
start_ws_tls(const char *tls_extra, const char *extra)
{
	memset(&px, 0, sizeof(px));
	proxy_start_tls(&px, "%sbackend o { server %s }\n"
	    "backend u { server %s }\nroute * o\nroute u.a.test u\n%s",
	    harness_tls_block(tls_extra), origins[0].tcp,
	    origins[0].unix_addr, extra);
}

static void
start_ws(const char *extra)
{
	start_ws_tls(NULL, extra);
}

/* SCRIPT MODE PORT [ARG] with /usr/bin/python3; asserts exit 0. */
static void
ws_tool(const char *script, const char *mode, int port, const char *arg,
    char *out, size_t cap)
{
	char sport[16], err[8192];
	char *argv[] = { "/usr/bin/python3", (char *)script, (char *)mode,
	    sport, (char *)arg, NULL };
	int rc;

	snprintf(sport, sizeof(sport), "%d", port);
	rc = run_argv(argv, out, cap, err, sizeof(err), TOOL_MS);
	ck_assert_msg(rc == 0, "%s %s: exit %d\n%s\n%s", script, mode, rc,
	    out, err);
}

/* ---- what reached the origin, what the access log says ---- */

/* /ws-last: the upgrade reached the origin as an HTTP/1.1 GET of TARGET
 * with Upgrade: websocket, Connection: upgrade, version 13 and one key
 * (canonical base64 of 16 bytes) into KEY if not NULL. */
static void
assert_ws_last(const char *target, char *last, size_t cap, char key[64])
{
	char v[1024];

	origin_ws_last(&origins[0], last, cap);
	ck_assert_msg(json_str(last, "method", v, sizeof(v)) &&
	    strcmp(v, "GET") == 0, "method %s: %s", v, last);
	ck_assert_msg(json_str(last, "version", v, sizeof(v)) &&
	    strcmp(v, "1.1") == 0, "version %s: %s", v, last);
	ck_assert_msg(json_str(last, "target", v, sizeof(v)) &&
	    strcmp(v, target) == 0, "target %s, want %s: %s", v, target,
	    last);
	ck_assert_msg(echo_joined(last, "Upgrade", v, sizeof(v)) > 0 &&
	    strcasecmp(v, "websocket") == 0, "Upgrade: %s", last);
	ck_assert_msg(echo_joined(last, "Connection", v, sizeof(v)) > 0 &&
	    strcasestr(v, "upgrade") != NULL, "Connection: %s", last);
	ck_assert_msg(echo_field(last, "Sec-WebSocket-Version", v,
	    sizeof(v)) == 1 && strcmp(v, "13") == 0, "version: %s", last);
	ck_assert_msg(echo_field(last, "Sec-WebSocket-Key", v, sizeof(v)) ==
	    1 && strlen(v) == 24 && strcmp(v + 22, "==") == 0,
	    "one Sec-WebSocket-Key of 16 bytes: %s", last);
	if (key != NULL)
		memcpy(key, v, 25);    /* 24 characters and the NUL */
}

/* The one access log line with "target":"TARGET", malloc'd: waits for it
 * while portico runs (it is written when the tunnel ends), then stops
 * portico, which flushes the log, and asserts it is the only one. */
static char *
tunnel_line(const char *target)
{
	char needle[256], *log, *at, *end, *line;
	int n = 0;

	snprintf(needle, sizeof(needle), "\"target\":\"%s\"", target);
	ck_assert_msg(file_wait_for(px.access_log, needle, LOG_WAIT_MS),
	    "no access log line for %s within %d ms", target, LOG_WAIT_MS);
	if (px.pid > 0)
		proxy_stop(&px);
	log = file_read(px.access_log, NULL);
	for (at = log; (at = strstr(at, needle)) != NULL; at++)
		n++;
	ck_assert_msg(n == 1, "%d access log lines for %s:\n%s", n, target,
	    log);
	at = strstr(log, needle);
	while (at > log && at[-1] != '\n')
		at--;
	end = strchr(at, '\n');
	line = strndup(at, end != NULL ? (size_t)(end - at) : strlen(at));
	free(log);
	return line;
}

/* The tunnel's line: STATUS, at least MIN bytes each way, at least
 * MIN_MS long, through UPSTREAM (if not NULL), and the error ERROR (NULL:
 * none, it closed; ANY_ERROR: not checked). */
#define ANY_ERROR       "*"
static void
assert_tunnel_line(const char *line, int status, long long min,
    long long min_ms, const char *upstream, const char *error)
{
	char v[256], why[256];
	bool has_error = json_str(line, "error", why, sizeof(why));

	ck_assert_msg(json_num(line, "status") == status, "status, want "
	    "%d: %s", status, line);
	ck_assert_msg(json_num(line, "bytes_sent") >= min &&
	    json_num(line, "bytes_received") >= min, "bytes, want >= %lld "
	    "each way: %s", min, line);
	ck_assert_msg(json_num(line, "duration_ms") >= min_ms, "duration, "
	    "want >= %lld ms: %s", min_ms, line);
	if (upstream != NULL)
		ck_assert_msg(json_str(line, "upstream", v, sizeof(v)) &&
		    strcmp(v, upstream) == 0, "upstream, want %s: %s",
		    upstream, line);
	if (error == NULL)
		ck_assert_msg(!has_error, "error \"%s\": %s", why, line);
	else if (strcmp(error, ANY_ERROR) != 0)
		ck_assert_msg(has_error && strcmp(why, error) == 0, "error, "
		    "want \"%s\": %s", error, line);
}

/* portico still serves a new connection after what the test did. */
static void
assert_serving(void)
{
	char out[OUT_MAX], url[128], v[64];

	snprintf(url, sizeof(url), "https://127.0.0.1:%d/echo?still=1",
	    px.tls_port);
	ck_assert_int_eq(curl(out, sizeof(out), "-k", "--http2", url, NULL),
	    0);
	ck_assert_msg(json_str(out, "target", v, sizeof(v)) &&
	    strcmp(v, "/echo?still=1") == 0, "%s", out);
}

/* ---- echo: text, binary, 16 MiB, ping/pong, close ---- */

static const struct {
	bool is_h2;
	const char *host;               /* a.test: TCP; u.a.test: unix */
	bool is_unix;
} echo_cases[] = {
	{ false, "a.test", false },
	{ false, "u.a.test", true },
	{ true, "a.test", false },
	{ true, "u.a.test", true },
};

START_TEST(test_ws_echo)
{
	char out[OUT_MAX], last[OUT_MAX], v[256], *line;
	bool is_h2 = echo_cases[_i].is_h2;
	long sessions = origin_stat(&origins[0], "ws_sessions");

	start_ws("");
	ws_tool(is_h2 ? WS_H2 : WS_H1, "echo", px.tls_port,
	    echo_cases[_i].host, out, sizeof(out));
	assert_kv(out, "text", "ok");
	assert_kv(out, "binary", "ok");
	assert_kv(out, "big", "ok");
	assert_kv(out, "pong", "ok");
	assert_kv(out, "close_code", "4001");
	if (is_h2) {
		assert_kv(out, "enable_connect_protocol", "1");
		assert_kv(out, "status", "200");
		assert_kv(out, "protocol", "chat");     /* on the :status 200 */
		/* h1-only fields of the 101 do not reach an h2 client */
		assert_kv(out, "accept", "(absent)");
		assert_kv(out, "upgrade", "(absent)");
		/* the origin shut its side after its Close */
		assert_kv(out, "server_end", "end_stream");
		assert_kv(out, "after", "200");
	} else {
		assert_kv(out, "subprotocol", "chat");
	}

	assert_ws_last("/ws", last, sizeof(last), NULL);
	ck_assert_msg(echo_joined(last, "Sec-WebSocket-Protocol", v,
	    sizeof(v)) > 0 && strcmp(v, "chat, superchat") == 0,
	    "Sec-WebSocket-Protocol: %s", last);
	ck_assert_int_eq(echo_field(last, "Host", v, sizeof(v)), 1);
	ck_assert_msg(strncmp(v, echo_cases[_i].host,
	    strlen(echo_cases[_i].host)) == 0, "Host %s: %s", v, last);
	ck_assert_int_eq(origin_stat(&origins[0], "ws_sessions"),
	    sessions + 1);

	line = tunnel_line("/ws");
	assert_tunnel_line(line, is_h2 ? 200 : 101, BIG, 0,
	    echo_cases[_i].is_unix ? origins[0].unix_addr : origins[0].tcp,
	    NULL);
	ck_assert_msg(strstr(line, is_h2 ? "\"protocol\":\"HTTP/2.0\"" :
	    "\"protocol\":\"HTTP/1.1\"") != NULL, "%s", line);
	ck_assert_msg(json_num(line, "bytes_sent") < BIG + (1 << 20) &&
	    json_num(line, "bytes_received") < BIG + (1 << 20), "%s", line);
	free(line);
}
END_TEST

/* ---- HTTP/1.1 ---- */

/* A 403 to an upgrade is an ordinary response: the connection stays
 * HTTP and serves the next request. */
START_TEST(test_ws_h1_refused_stays_http)
{
	char out[OUT_MAX], last[OUT_MAX];

	start_ws("");
	ws_tool(WS_H1, "refuse", px.tls_port, NULL, out, sizeof(out));
	assert_kv(out, "refuse_status", "403");
	assert_kv(out, "refuse_body", "websocket refused");
	assert_kv(out, "next_status", "200");
	assert_kv(out, "next_has_target", "1");
	assert_ws_last("/ws-refuse", last, sizeof(last), NULL);
	proxy_stop(&px);
}
END_TEST

/* ---- HTTP/2, RFC 8441 ---- */

/* 100 tunnels at once on one connection, each echoing its own message,
 * and a GET served on it while they are all open. */
START_TEST(test_ws_h2_100_tunnels)
{
	char out[OUT_MAX], n[16], *log, *at;
	long sessions = origin_stat(&origins[0], "ws_sessions");
	long open0 = origin_stat(&origins[0], "ws_open"), open1;
	int64_t end;
	int lines = 0;

	/* room for the GET beside the 100 tunnels */
	start_ws("http2_max_concurrent_streams 128\n");
	snprintf(n, sizeof(n), "%d", N_TUNNELS);
	ws_tool(WS_H2, "many", px.tls_port, n, out, sizeof(out));
	assert_kv(out, "tunnels_200", n);
	assert_kv(out, "get_status", "200");
	assert_kv(out, "get_target", "/echo?meanwhile=1");
	assert_kv(out, "get_while_open", n);
	assert_kv(out, "echoed", n);
	assert_kv(out, "closed", n);
	ck_assert_int_eq(origin_stat(&origins[0], "ws_sessions"),
	    sessions + N_TUNNELS);
	end = now_ms() + 5000;
	while ((open1 = origin_stat(&origins[0], "ws_open")) != open0 &&
	    now_ms() < end)
		sleep_ms(50);
	ck_assert_msg(open1 == open0, "origin ws_open %ld, was %ld", open1,
	    open0);
	proxy_stop(&px);        /* flushes the access log */
	log = file_read(px.access_log, NULL);
	for (at = log; (at = strstr(at, "\"target\":\"/ws?n=")) != NULL;
	    at++)
		lines++;
	ck_assert_msg(lines == N_TUNNELS, "%d tunnel lines", lines);
	free(log);
}
END_TEST

/* The extensions offered pass through, the one selected comes back; each
 * tunnel gets its own fresh Sec-WebSocket-Key. */
START_TEST(test_ws_h2_fields)
{
	char out[OUT_MAX], last[OUT_MAX], v[256], key1[64], key2[64];

	start_ws("");
	ws_tool(WS_H2, "ext", px.tls_port, NULL, out, sizeof(out));
	assert_kv(out, "status", "200");
	assert_kv(out, "protocol", "chat");
	assert_kv(out, "extensions", "x-foo; a=1");
	assert_kv(out, "text", "ok");
	assert_ws_last("/ws?ext=1", last, sizeof(last), key1);
	ck_assert_msg(echo_joined(last, "Sec-WebSocket-Extensions", v,
	    sizeof(v)) > 0 && strcmp(v, "x-foo; a=1, y") == 0,
	    "Sec-WebSocket-Extensions: %s", last);
	ck_assert_msg(echo_joined(last, "Sec-WebSocket-Protocol", v,
	    sizeof(v)) > 0 && strcmp(v, "chat") == 0,
	    "Sec-WebSocket-Protocol: %s", last);
	ck_assert_int_eq(echo_field(last, ":protocol", v, sizeof(v)), 0);

	ws_tool(WS_H2, "ext", px.tls_port, NULL, out, sizeof(out));
	assert_kv(out, "status", "200");
	assert_ws_last("/ws?ext=1", last, sizeof(last), key2);
	ck_assert_msg(strcmp(key1, key2) != 0, "the same key twice: %s",
	    key1);
	proxy_stop(&px);
}
END_TEST

/* Plain CONNECT (RFC 9113 §8.5: :method and :authority only) → 405,
 * :protocol foo → 501; neither reaches the origin, and the connection
 * goes on. A non-101 answer to an extended CONNECT is passed on. */
START_TEST(test_ws_h2_connect_refused)
{
	char out[OUT_MAX];
	struct stats before, after;
	long sessions;

	start_ws("");
	before = origin_stats(&origins[0]);
	sessions = origin_stat(&origins[0], "ws_sessions");
	ws_tool(WS_H2, "refuse", px.tls_port, NULL, out, sizeof(out));
	after = origin_stats(&origins[0]);
	/* the one request that reached it: refuse mode's GET /echo after */
	ck_assert_msg(after.reqs - before.reqs == 1, "%ld requests reached "
	    "the origin, want 1 (the GET after):\n%s",
	    after.reqs - before.reqs, out);
	ck_assert_int_eq(origin_stat(&origins[0], "ws_sessions"), sessions);
	assert_kv(out, "after", "200");
	assert_kv(out, "foo_status", "501");
	assert_kv(out, "connect_status", "405");

	ws_tool(WS_H2, "refuse403", px.tls_port, NULL, out, sizeof(out));
	assert_kv(out, "refuse_status", "403");
	assert_kv(out, "refuse_body", "websocket refused");
	proxy_stop(&px);
}
END_TEST

/* h2_websocket=off: no SETTINGS_ENABLE_CONNECT_PROTOCOL, and an extended
 * CONNECT sent anyway is malformed (RFC 8441 §3: PROTOCOL_ERROR) and
 * reaches nobody; the default listener announces it. */
START_TEST(test_ws_h2_websocket_off)
{
	char out[OUT_MAX], extra[128];
	int off = free_port();
	long sessions = origin_stat(&origins[0], "ws_sessions");

	snprintf(extra, sizeof(extra), "listen 127.0.0.1:%d tls "
	    "h2_websocket=off\n", off);
	start_ws(extra);
	ws_tool(WS_H2, "settings", px.tls_port, NULL, out, sizeof(out));
	assert_kv(out, "enable_connect_protocol", "1");
	assert_kv(out, "ws", "200");
	ws_tool(WS_H2, "settings", off, NULL, out, sizeof(out));
	assert_kv(out, "enable_connect_protocol", "absent");
	assert_kv(out, "ws", "reset:1");
	ck_assert_int_eq(origin_stat(&origins[0], "ws_sessions"),
	    sessions + 1);
	proxy_stop(&px);
}
END_TEST

/* ---- bad accept key ---- */

/* Over h2 portico checks the accept value: 502, and the connection goes
 * on. Over h1 the 101 passes through as it came; the client checks it,
 * and python3-websockets refuses it. */
START_TEST(test_ws_bad_accept)
{
	char out[OUT_MAX];

	start_ws("");
	ws_tool(WS_H2, "badaccept", px.tls_port, NULL, out, sizeof(out));
	assert_kv(out, "status", "502");
	assert_kv(out, "after", "200");
	ws_tool(WS_H1, "badaccept", px.tls_port, NULL, out, sizeof(out));
	assert_kv(out, "raw_status", "101");
	assert_kv(out, "raw_accept_present", "1");
	assert_kv(out, "raw_accept_matches", "0");
	assert_kv(out, "websockets", "InvalidHandshake");
	ck_assert_msg(strstr(kv(out, "websockets_error"),
	    "Sec-WebSocket-Accept") != NULL, "%s", out);
	proxy_stop(&px);
}
END_TEST

/* ---- tunnel idle timeout, backend gone ---- */

static const struct {
	bool is_h2;
} proto_cases[] = { { false }, { true } };

/* tunnel_timeout 1s: a tunnel quiet after one echo ends about 1 s later
 * (h1: the connection closes; h2: the stream is reset or ended, the
 * connection stays), logged as such. */
START_TEST(test_ws_idle_timeout)
{
	char out[OUT_MAX], *line;
	bool is_h2 = proto_cases[_i].is_h2;
	long ms;

	start_ws("tunnel_timeout 1s\n");
	ws_tool(is_h2 ? WS_H2 : WS_H1, "idle", px.tls_port, NULL, out,
	    sizeof(out));
	if (is_h2) {
		assert_kv(out, "first", "ok");
		ck_assert_msg(strncmp(kv(out, "end"), "reset:", 6) == 0 ||
		    strcmp(kv(out, "end"), "end_stream") == 0,
		    "the idle stream did not end within 3 s:\n%s", out);
		assert_kv(out, "conn_closed", "0");
		ms = kv_num(out, "end_ms");
		fprintf(stderr, "ws: h2 idle tunnel ended by %s after %ld ms\n",
		    kv(out, "end"), ms);
	} else {
		assert_kv(out, "closed", "1");
		ms = kv_num(out, "closed_ms");
	}
	ck_assert_msg(ms >= 700 && ms <= 2500, "ended %ld ms after the last "
	    "byte, tunnel_timeout 1s:\n%s", ms, out);
	assert_serving();
	line = tunnel_line("/ws");
	assert_tunnel_line(line, is_h2 ? 200 : 101, 10, 900, NULL,
	    "tunnel idle timeout");
	free(line);
}
END_TEST

/* tunnel_timeout 1s: a tunnel with a message every 300 ms for 2.5 s is
 * not cut, and its line says it closed. */
START_TEST(test_ws_active_not_cut)
{
	char out[OUT_MAX], *line;
	bool is_h2 = proto_cases[_i].is_h2;
	long sent;

	start_ws("tunnel_timeout 1s\n");
	ws_tool(is_h2 ? WS_H2 : WS_H1, "active", px.tls_port, NULL, out,
	    sizeof(out));
	sent = kv_num(out, "sent");
	ck_assert_msg(sent >= 7 && kv_num(out, "echoed") == sent,
	    "sent %ld, echoed %ld:\n%s", sent, kv_num(out, "echoed"), out);
	assert_kv(out, is_h2 ? "end" : "open", is_h2 ? "open" : "1");
	line = tunnel_line("/ws");
	assert_tunnel_line(line, is_h2 ? 200 : 101, 7 * sent, 2400, NULL,
	    NULL);
	free(line);
}
END_TEST

/* The origin drops the connection 300 ms into the tunnel, with no Close
 * frame: the client side closes cleanly (h1: the connection closes,
 * websockets reports 1006; h2: the stream ends or is reset, the
 * connection goes on), and portico keeps serving. */
START_TEST(test_ws_backend_killed)
{
	char out[OUT_MAX], *line;
	bool is_h2 = proto_cases[_i].is_h2;
	long ms;

	start_ws("");
	ws_tool(is_h2 ? WS_H2 : WS_H1, "kill", px.tls_port, NULL, out,
	    sizeof(out));
	assert_kv(out, "first", "ok");
	assert_kv(out, "after", "200");
	if (is_h2) {
		ck_assert_msg(strncmp(kv(out, "end"), "reset:", 6) == 0 ||
		    strcmp(kv(out, "end"), "end_stream") == 0,
		    "the stream did not end within 5 s:\n%s", out);
		assert_kv(out, "conn_closed", "0");
		ms = kv_num(out, "end_ms");
		fprintf(stderr, "ws: h2 tunnel after the backend died: %s\n",
		    kv(out, "end"));
	} else {
		assert_kv(out, "closed", "1");
		assert_kv(out, "close_code", "1006");
		ms = kv_num(out, "closed_ms");
	}
	ck_assert_msg(ms <= 2000, "closed %ld ms after the echo:\n%s", ms,
	    out);
	assert_serving();
	line = tunnel_line("/ws?close_after_ms=300");
	assert_tunnel_line(line, is_h2 ? 200 : 101, 10, 250, NULL, NULL);
	free(line);
}
END_TEST

/* RFC 9113 §8.5: the backend resets its connection mid-tunnel: the h2
 * stream is reset with CONNECT_ERROR (10), never ended as if the backend
 * had half-closed, and the connection goes on. */
START_TEST(test_ws_h2_backend_reset)
{
	char out[OUT_MAX];

	start_ws("");
	ws_tool(WS_H2, "reset", px.tls_port, NULL, out, sizeof(out));
	assert_kv(out, "first", "ok");
	assert_kv(out, "end", "reset:10");
	assert_kv(out, "conn_closed", "0");
	assert_kv(out, "after", "200");
	assert_serving();
	proxy_stop(&px);
}
END_TEST

/* ---- RFC 8441 as browsers keep it: default windows (ws_h2flow.py) ---- */

/* ws_h2flow.py MODE tls|h2c PORT [ARG [ARG2]]; asserts exit 0. */
static void
flow_tool(const char *mode, bool is_h2c, const char *arg, const char *arg2,
    char *out, size_t cap)
{
	char sport[16], err[8192];
	char *argv[] = { "/usr/bin/python3", WS_H2FLOW, (char *)mode,
	    is_h2c ? "h2c" : "tls", sport, (char *)arg, (char *)arg2, NULL };
	int rc;

	snprintf(sport, sizeof(sport), "%d", is_h2c ? px.port : px.tls_port);
	rc = run_argv(argv, out, cap, err, sizeof(err), TOOL_MS);
	ck_assert_msg(rc == 0, "%s %s %s: exit %d\n%s\n%s", WS_H2FLOW, mode,
	    is_h2c ? "h2c" : "tls", rc, out, err);
}

static const struct {
	bool is_h2c;
	const char *size;
	const char *credit;     /* each: a WINDOW_UPDATE per DATA frame;
	                         * half: python3-h2's, at half a window */
} flow_cases[] = {
	{ false, "262144", "each" }, { true, "262144", "each" },
	{ false, "16777216", "each" }, { true, "16777216", "each" },
	{ false, "262144", "half" }, { true, "262144", "half" },
	{ false, "16777216", "half" }, { true, "16777216", "half" },
};

/* A 256 KiB and a 16 MiB message echoed through a tunnel whose client
 * keeps the default 65,535-byte windows (stream and connection): the
 * whole echo arrives, byte for byte. Portico must send as far as the
 * window allows and go on at each WINDOW_UPDATE, and the backend, paused
 * while the stream's buffer is full, must read again when it drains. */
START_TEST(test_ws_h2flow_echo)
{
	char out[OUT_MAX], *line;
	long size = atol(flow_cases[_i].size);

	start_ws("");
	flow_tool("echo", flow_cases[_i].is_h2c, flow_cases[_i].size,
	    flow_cases[_i].credit, out, sizeof(out));
	ck_assert_msg(strcmp(kv(out, "echo"), "ok") == 0, "%s %s bytes, "
	    "credit %s: got %s of %ld:\n%s", flow_cases[_i].is_h2c ? "h2c" :
	    "tls", flow_cases[_i].size, flow_cases[_i].credit,
	    kv(out, "got"), size, out);
	assert_kv(out, "end", "open");
	assert_kv(out, "conn_closed", "0");
	line = tunnel_line("/ws");
	assert_tunnel_line(line, 200, size, 0, NULL, ANY_ERROR);
	free(line);
}
END_TEST

static const struct {
	bool is_h2c;
} flow_protos[] = { { false }, { true } };

/* Every request-phase timer at 1 s, tunnel_timeout 6s. A tunnel idle for
 * 4 s still echoes, and a GET on its connection is served meanwhile;
 * then, 6 s after its last byte, the tunnel alone is reset (CANCEL): a
 * busy tunnel beside it goes on, and the connection serves a GET. */
#define FLOW_TIMERS     "client_header_timeout 1s\n" \
	"client_header_initial_timeout 1s\nclient_body_timeout 1s\n" \
	"keepalive_timeout 1s\nsend_timeout 1s\nbackend_read_timeout 1s\n" \
	"backend_write_timeout 1s\nbackend_keepalive_timeout 1s\n" \
	"tunnel_timeout 6s\n"
START_TEST(test_ws_h2flow_idle)
{
	char out[OUT_MAX], *line;
	long ms;

	start_ws_tls("handshake_timeout 1s\n", FLOW_TIMERS);
	flow_tool("idle", flow_protos[_i].is_h2c, "4", NULL, out,
	    sizeof(out));
	assert_kv(out, "first", "ok");
	assert_kv(out, "get_meanwhile", "200");
	assert_kv(out, "after_idle", "ok");
	assert_kv(out, "conn_closed_idle", "0");
	assert_kv(out, "end", "reset:8");               /* CANCEL */
	assert_kv(out, "conn_closed", "0");
	assert_kv(out, "keeper", "ok");
	assert_kv(out, "get_after", "200");
	ms = kv_num(out, "end_ms");
	ck_assert_msg(ms >= 5000 && ms <= 9000, "reset %ld ms after the last "
	    "byte, tunnel_timeout 6s:\n%s", ms, out);
	line = tunnel_line("/ws");
	assert_tunnel_line(line, 200, 10, 9000, NULL, "tunnel idle timeout");
	free(line);
}
END_TEST

/* A client that stops reading (it never credits the echo): the backend
 * is paused once the stream's buffer is full, and no byte moves either
 * way. tunnel_timeout still runs: 2 s later the tunnel is reset, CANCEL,
 * and portico serves a new connection. */
START_TEST(test_ws_h2flow_stuck)
{
	char out[OUT_MAX], *line;
	long ms;

	start_ws("tunnel_timeout 2s\n");
	flow_tool("stuck", flow_protos[_i].is_h2c, "1000000", NULL, out,
	    sizeof(out));
	assert_kv(out, "end", "reset:8");
	assert_kv(out, "conn_closed", "0");
	assert_kv(out, "get_after", "200");
	ms = kv_num(out, "end_ms");
	ck_assert_msg(ms >= 1500 && ms <= 5000, "reset %ld ms after the "
	    "message, tunnel_timeout 2s:\n%s", ms, out);
	line = tunnel_line("/ws");
	assert_tunnel_line(line, 200, 65535, 1500, NULL,
	    "tunnel idle timeout");
	free(line);
}
END_TEST

/* RFC 8441 §4: each side's end is its own. The client's END_STREAM right
 * after a message: the backend gets our FIN after it, and the echo and
 * then the backend's end (END_STREAM) still come back. */
START_TEST(test_ws_h2flow_client_end)
{
	char out[OUT_MAX], *line;

	start_ws("");
	flow_tool("halfclose", flow_protos[_i].is_h2c, NULL, NULL, out,
	    sizeof(out));
	assert_kv(out, "echo", "ok");
	assert_kv(out, "end", "end_stream");
	assert_kv(out, "conn_closed", "0");
	assert_kv(out, "get_after", "200");
	line = tunnel_line("/ws");
	assert_tunnel_line(line, 200, 100000, 0, NULL, NULL);
	free(line);
}
END_TEST

/* The origin shuts its side after one echo (/ws?shut_after=1): its EOF
 * becomes END_STREAM, and what the client sends after that still reaches
 * it (the marker is sent unmasked: a zero mask key). */
START_TEST(test_ws_h2flow_backend_end)
{
	char out[OUT_MAX], *got, *line;
	size_t n;

	start_ws("");
	flow_tool("backendclose", flow_protos[_i].is_h2c, NULL, NULL, out,
	    sizeof(out));
	assert_kv(out, "echo", "ok");
	assert_kv(out, "end", "end_stream");
	assert_kv(out, "after_end", "end_stream");
	assert_kv(out, "get_after", "200");
	line = tunnel_line("/ws?shut_after=1");
	assert_tunnel_line(line, 200, 13, 0, NULL, NULL);
	free(line);
	got = origin_received_all(&origins[0], &n);
	ck_assert_msg(memmem(got, n, "after-the-backend-end", 21) != NULL, "the "
	    "client's bytes after the backend's end did not reach it");
	free(got);
}
END_TEST

/* ---- a real browser ---- */

static const struct {
	bool is_off;            /* through an h2_websocket=off listener */
} chromium_cases[] = { { false }, { true } };

/* Chromium loads /ws-page over HTTP/2 through portico; the page opens
 * wss:// to portico, which Chromium does with an extended CONNECT (RFC
 * 8441) since portico announces it, and shows the echo. The origin got an
 * HTTP/1.1 GET upgrade. Through an h2_websocket=off listener the page
 * still comes over HTTP/2, but the WebSocket takes an HTTP/1.1
 * connection of its own. */
START_TEST(test_ws_chromium)
{
	char url[128], netlog[HARNESS_PATH + 16], profile[HARNESS_PATH];
	char dirarg[HARNESS_PATH + 32], logarg[HARNESS_PATH + 32];
	char last[OUT_MAX], v[512], extra[128], *dom, *err, *net, *line;
	char *argv[] = { CHROMIUM, "--headless", "--no-sandbox",
	    "--disable-gpu", "--ignore-certificate-errors",
	    "--host-resolver-rules=MAP a.test 127.0.0.1", logarg,
	    "--virtual-time-budget=5000", "--dump-dom",
	    "--disable-background-networking", "--disable-component-update",
	    "--disable-sync", "--no-first-run", "--disable-quic", dirarg, url,
	    NULL };
	bool is_off = chromium_cases[_i].is_off;
	int rc, port;

	ck_assert_msg(access(CHROMIUM, X_OK) == 0, "%s is missing: the "
	    "browser test needs Debian's chromium (make deps installs it)",
	    CHROMIUM);
	port = is_off ? free_port() : 0;
	snprintf(extra, sizeof(extra), is_off ? "listen 127.0.0.1:%d tls "
	    "h2_websocket=off\n" : "", port);
	start_ws(extra);
	if (!is_off)
		port = px.tls_port;
	harness_mkdir(profile, sizeof(profile), "chromium");
	snprintf(dirarg, sizeof(dirarg), "--user-data-dir=%s", profile);
	snprintf(netlog, sizeof(netlog), "%s/net.json", profile);
	snprintf(logarg, sizeof(logarg), "--log-net-log=%s", netlog);
	snprintf(url, sizeof(url), "https://a.test:%d/ws-page?hold_ms=500",
	    port);
	dom = malloc(OUT_MAX);
	err = malloc(OUT_MAX);
	ck_assert(dom != NULL && err != NULL);
	rc = run_argv(argv, dom, OUT_MAX, err, OUT_MAX, 60000);
	ck_assert_msg(rc == 0, "chromium: exit %d\n%s\n%s", rc, dom,
	    err + (strlen(err) > 4000 ? strlen(err) - 4000 : 0));
	ck_assert_msg(strstr(dom, "<div id=\"result\">echo:hello-portico"
	    "</div>") != NULL, "no echo in the DOM:\n%s", dom);

	/* the client side of the WebSocket was HTTP/2 (the extended CONNECT
	 * is in its net log), or HTTP/1.1 if portico did not announce it */
	net = file_read(netlog, NULL);
	ck_assert_msg(net != NULL, "no %s", netlog);
	ck_assert_msg((strstr(net, "\":method: CONNECT\"") != NULL &&
	    strstr(net, "\":protocol: websocket\"") != NULL) == !is_off,
	    "%s extended CONNECT in chromium's net log %s", is_off ?
	    "an" : "no", netlog);
	free(net);

	/* the origin got an HTTP/1.1 GET upgrade from the browser */
	assert_ws_last("/ws", last, sizeof(last), NULL);
	ck_assert_msg(echo_field(last, "User-Agent", v, sizeof(v)) == 1 &&
	    strstr(v, "HeadlessChrome") != NULL, "User-Agent: %s", last);

	/* Chromium may reset its HTTP/1.1 connection once the Close
	 * handshake is done: how it ended is its business here */
	line = tunnel_line("/ws");
	assert_tunnel_line(line, is_off ? 101 : 200, 10, 0, origins[0].tcp,
	    is_off ? ANY_ERROR : NULL);
	ck_assert_msg(strstr(line, is_off ? "\"protocol\":\"HTTP/1.1\"" :
	    "\"protocol\":\"HTTP/2.0\"") != NULL, "%s", line);
	free(line);
	line = tunnel_line("/ws-page?hold_ms=500");
	ck_assert_msg(strstr(line, "\"protocol\":\"HTTP/2.0\"") != NULL,
	    "the page did not come over HTTP/2: %s", line);
	free(line);
	free(dom);
	free(err);
}
END_TEST

Suite *
ws_suite(void)
{
	Suite *s = suite_create("ws");
	TCase *tc = harness_tcase("ws", 90);

	tcase_add_loop_test(tc, test_ws_echo, 0, NELEMS(echo_cases));
	tcase_add_test(tc, test_ws_h1_refused_stays_http);
	tcase_add_test(tc, test_ws_h2_100_tunnels);
	tcase_add_test(tc, test_ws_h2_fields);
	tcase_add_test(tc, test_ws_h2_connect_refused);
	tcase_add_test(tc, test_ws_h2_websocket_off);
	tcase_add_test(tc, test_ws_bad_accept);
	tcase_add_loop_test(tc, test_ws_idle_timeout, 0,
	    NELEMS(proto_cases));
	tcase_add_loop_test(tc, test_ws_active_not_cut, 0,
	    NELEMS(proto_cases));
	tcase_add_loop_test(tc, test_ws_backend_killed, 0,
	    NELEMS(proto_cases));
	tcase_add_test(tc, test_ws_h2_backend_reset);
	tcase_add_loop_test(tc, test_ws_chromium, 0,
	    NELEMS(chromium_cases));
	suite_add_tcase(s, tc);

	tc = harness_tcase("h2flow", 90);
	tcase_add_loop_test(tc, test_ws_h2flow_echo, 0, NELEMS(flow_cases));
	tcase_add_loop_test(tc, test_ws_h2flow_idle, 0, NELEMS(flow_protos));
	tcase_add_loop_test(tc, test_ws_h2flow_stuck, 0, NELEMS(flow_protos));
	tcase_add_loop_test(tc, test_ws_h2flow_client_end, 0,
	    NELEMS(flow_protos));
	tcase_add_loop_test(tc, test_ws_h2flow_backend_end, 0,
	    NELEMS(flow_protos));
	suite_add_tcase(s, tc);
	return s;
}
