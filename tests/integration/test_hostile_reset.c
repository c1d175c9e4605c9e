/* tests/integration/test_hostile_reset.c: HTTP/2 resets as abuse (issue
 * 11). MadeYouReset (CVE-2025-8671): streams that nghttp2 resets itself
 * count as glitches and end in GOAWAY ENHANCE_YOUR_CALM, without the
 * backend connection per stream they used to cost; the backend connects
 * one client connection has in progress are capped
 * (http2_max_backend_connects), and an abandoned connect is closed and
 * frees its slot. Over TLS h2 and h2c; h2reset.py sends raw frames. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "client.h"
#include "harness.h"
#include "suites.h"

#define H2RESET         "tests/integration/h2reset.py"
#define OUT_MAX         8192
#define TOOL_MS         60000
#define STREAMS         1000
#define GLITCHES        100
#define CONCURRENT      100     /* http2_max_concurrent_streams default */

static struct proxy px;
static const char *const protos[] = { "tls", "h2c" };

static int
proto_port(int i)
{
	return strcmp(protos[i], "tls") == 0 ? px.tls_port : px.port;
}

/* h2reset.py MODE PROTO PORT ARGS (up to two); asserts it ran. */
static void
h2reset(char *out, const char *mode, int i, int a, int b)
{
	char port[16], sa[16], sb[16], err[4096];
	char *argv[] = { "/usr/bin/python3", H2RESET, (char *)mode,
	    (char *)protos[i], port, sa, sb, NULL };
	int rc;

	snprintf(port, sizeof(port), "%d", proto_port(i));
	snprintf(sa, sizeof(sa), "%d", a);
	snprintf(sb, sizeof(sb), "%d", b);
	if (b < 0)
		argv[6] = NULL;
	if (a < 0)
		argv[5] = NULL;
	rc = run_argv(argv, out, OUT_MAX, err, sizeof(err), TOOL_MS);
	ck_assert_msg(rc == 0, "h2reset.py %s %s: exit %d\n%s\n%s", mode,
	    protos[i], rc, out, err);
}

/* 1,000 streams of HEADERS (content-length: 1) + 2 bytes of DATA: each
 * is reset by nghttp2 and is a glitch, so GOAWAY ENHANCE_YOUR_CALM comes
 * after http2_max_glitches of them. The origin's connections: a stream
 * may connect only after the read that brought it (one whose DATA came
 * in the same read never does), and every stream that connects is then
 * reset, a glitch: at most GLITCHES + 1 resets plus the CONCURRENT
 * streams in flight when GOAWAY went out; without the fix, one each. */
START_TEST(test_madeyoureset_goaway)
{
	char out[OUT_MAX];
	struct stats before, after;
	long conns;

	memset(&px, 0, sizeof(px));
	proxy_start_tls(&px, "%sbackend o { server %s }\nroute * o\n"
	    "http2_max_glitches %d\n", harness_tls_block(NULL),
	    origins[0].tcp, GLITCHES);
	before = origin_stats(&origins[0]);
	h2reset(out, "madeyoureset", _i, STREAMS, -1);
	assert_kv(out, "goaway", "ENHANCE_YOUR_CALM");
	assert_kv(out, "closed", "yes");
	ck_assert_msg(atoi(kv(out, "rst_protocol_error")) > GLITCHES,
	    "%s: streams reset by portico: %s", protos[_i], out);
	ck_assert_msg(atoi(kv(out, "streams_sent")) < STREAMS,
	    "%s: GOAWAY came only after every stream: %s", protos[_i], out);
	ck_assert_int_eq(atoi(kv(out, "responses")), 0);
	after = origin_stats(&origins[0]);
	conns = after.conns - before.conns - 1;         /* -1: stats' own */
	ck_assert_msg(conns <= GLITCHES + 1 + CONCURRENT,
	    "%s: %ld backend connections for %d reset streams", protos[_i],
	    conns, STREAMS);
	ck_assert_int_eq(after.reqs, before.reqs);      /* none forwarded */
	proxy_stop(&px);
}
END_TEST

/* A head that nghttp2 accepts but that could not be written to a
 * backend (an authority with userinfo, RFC 9113 §8.3.1; the Host field
 * the same) is refused with 400 before any backend connection opens. */
START_TEST(test_bad_head_opens_no_connection)
{
	char out[OUT_MAX];
	struct stats before, after;

	proxy_start_origin0(&px, NULL, "");
	before = origin_stats(&origins[0]);
	h2reset(out, "badhead", _i, -1, -1);
	assert_kv(out, "status_400", "3");
	after = origin_stats(&origins[0]);
	ck_assert_msg(after.conns - before.conns - 1 == 0, "%s: %ld backend "
	    "connections for refused heads", protos[_i],
	    after.conns - before.conns - 1);
	ck_assert_int_eq(after.reqs, before.reqs);
	proxy_stop(&px);
}
END_TEST

/* A backend that never accepts (its queue filled by listen_full). */
static int
start_hanging(int fds[8], const char *extra)
{
	int port = listen_full(fds), i = 7;

	ck_assert_msg(port > 0, "could not fill a loopback accept queue, so "
	    "connect cannot be made to hang here");
	while (i > 0 && fds[i] == -1)
		i--;
	close(fds[i]);          /* its own connect hangs: not portico's */
	fds[i] = -1;
	memset(&px, 0, sizeof(px));
	proxy_start_tls(&px, "%sbackend hang { server 127.0.0.1:%d }\n"
	    "route * hang\n%s", harness_tls_block(NULL), port, extra);
	return port;
}

static void
close_all(int fds[8])
{
	int i;

	for (i = 0; i < 8; i++)
		if (fds[i] != -1)
			close(fds[i]);
}

/* http2_max_backend_connects 2: 6 streams whose connects hang until the
 * 400 ms connect timeout make at most 2 connects at once, in 3 rounds
 * (with no cap: 6 at once, one round), and every stream gets its 504. */
START_TEST(test_backend_connect_cap)
{
	char out[OUT_MAX];
	int fds[8], port;

	port = start_hanging(fds, "http2_max_backend_connects 2\n"
	    "backend_connect_timeout 400ms\n");
	h2reset(out, "cap", _i, port, 6);
	ck_assert_msg(atoi(kv(out, "syn_max")) == 2, "%s: connects at once "
	    "(cap 2): %s", protos[_i], out);
	assert_kv(out, "done", "6");
	assert_kv(out, "status_504", "6");
	ck_assert_msg(atoi(kv(out, "duration_ms")) >= 1000, "%s: 6 streams "
	    "in under 3 rounds of 400 ms: %s", protos[_i], out);
	proxy_stop(&px);
	close_all(fds);
}
END_TEST

/* Streams reset by the client while their connects hang: the connects
 * are closed (no socket left in SYN_SENT) and their slots free, so the
 * next streams connect at once, the cap being 2. */
START_TEST(test_abandoned_connect_frees_slot)
{
	char out[OUT_MAX];
	int fds[8], port;

	port = start_hanging(fds, "http2_max_backend_connects 2\n"
	    "backend_connect_timeout 20s\n");
	h2reset(out, "abandon", _i, port, -1);
	assert_kv(out, "syn_first", "2");
	assert_kv(out, "syn_after_reset", "0");
	assert_kv(out, "syn_after_new", "2");
	proxy_stop(&px);
	close_all(fds);
}
END_TEST

TCase *
hostile_reset_tcase(void)
{
	TCase *tc = harness_tcase("reset", 120);

	tcase_add_loop_test(tc, test_madeyoureset_goaway, 0, NELEMS(protos));
	tcase_add_loop_test(tc, test_bad_head_opens_no_connection, 0,
	    NELEMS(protos));
	tcase_add_loop_test(tc, test_backend_connect_cap, 0, NELEMS(protos));
	tcase_add_loop_test(tc, test_abandoned_connect_frees_slot, 0,
	    NELEMS(protos));
	return tc;
}
