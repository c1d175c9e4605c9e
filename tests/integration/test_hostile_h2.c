/*
 * tests/integration/test_hostile_h2.c: header limits on the decoded
 * HTTP/2 header list, and the fields no trailer may carry across (issue
 * 11). h2hostile.py sends the raw frames (HPACK bombs, oversized lists
 * and trailers) over TLS h2 and h2c; raw sockets send the HTTP/1.1
 * cases. Each case asserts what the client got and, from origin 0's
 * recording, what reached the backend.
 *
 * The rule these cases hold portico to: a header list (or trailer list)
 * over the RFC 9113 §6.5.2 size or the field count is refused as it is
 * decoded; a head gets 431 and the connection goes on serving; trailers
 * reset the stream. Each refusal is a glitch: a flood of them ends the
 * connection with GOAWAY ENHANCE_YOUR_CALM.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "client.h"
#include "harness.h"
#include "suites.h"

#define TOOL            "tests/integration/h2hostile.py"
#define OUT_MAX         65536
#define TOOL_MS         60000
#define LIST_LIMIT      "32768"         /* min(client_max_header_size 32k,
					 * http2_max_header_list_size 64k) */
#define RSS_GROWTH_KB   (16 * 1024)     /* allowed during one attack */
#define ASAN_GROWTH_KB  (96 * 1024)
#define H2_ENHANCE_YOUR_CALM "11"

static struct proxy px;

static void
start(const char *extra)
{
	proxy_start_origin0(&px, NULL, extra);
}

static long
growth_max_kb(void)
{
	return harness_is_asan() ? ASAN_GROWTH_KB : RSS_GROWTH_KB;
}

static int
port_of(const char *proto)
{
	return strcmp(proto, "tls") == 0 ? px.tls_port : px.port;
}

/* h2hostile.py MODE PROTO PORT ARGS... (at most 12); its output in OUT;
 * portico's largest RSS meanwhile in *max_kb (may be NULL). */
static void
tool(char *out, size_t cap, long *max_kb, const char *mode,
    const char *proto, const char *const *args)
{
	char port[16];
	char *argv[20] = { "/usr/bin/python3", TOOL, (char *)mode,
	    (char *)proto, port };
	char *o;
	long kb;
	int i;

	snprintf(port, sizeof(port), "%d", port_of(proto));
	for (i = 0; args != NULL && args[i] != NULL && i < 12; i++)
		argv[5 + i] = (char *)args[i];
	o = run_rss(argv, px.dir, TOOL_MS, px.pid, &kb);
	snprintf(out, cap, "%s", o);
	fprintf(stderr, "h2hostile %s %s: %s", mode, proto, out);
	free(o);
	if (max_kb != NULL)
		*max_kb = kb;
}

/* What origin 0 received on the connections it accepted after MARK (an
 * origin_stats() taken before), /stats connections left out. */
static char *
received_since(const struct stats *mark)
{
	return origin_received_since(&origins[0], mark->conns, NULL);
}

/* The first connection after MARK whose bytes hold NEEDLE; 0: none. */
static long
conn_with(const struct stats *mark, const char *needle)
{
	struct stats now = origin_stats(&origins[0]);
	long i, found = 0;
	char *one;

	for (i = mark->conns + 1; i < now.conns && found == 0; i++) {
		one = origin_received(&origins[0], i, NULL);
		if (strstr(one, needle) != NULL)
			found = i;
		free(one);
	}
	return found;
}

static void
assert_absent(const char *got, const char *needle, const char *what)
{
	ck_assert_msg(strcasestr(got, needle) == NULL, "%s: \"%s\" reached "
	    "it:\n%.4000s", what, needle, got);
}

static void
assert_present(const char *got, const char *needle, const char *what)
{
	ck_assert_msg(strcasestr(got, needle) != NULL, "%s: no \"%s\" in:\n"
	    "%.4000s", what, needle, got);
}

/* The drop of forbidden trailer fields is logged once per message, at
 * debug (the harness logs at debug). */
static void
assert_logged_once(const char *needle)
{
	ck_assert_msg(file_wait_count(px.error_log, needle, 1, 5000),
	    "no \"%s\" in %s", needle, px.error_log);
	ck_assert_int_eq(file_count(px.error_log, needle), 1);
}

/* ---- HPACK amplification ---- */

static const struct {
	const char *proto;
	const char *refs;       /* references to one 4,000-byte entry */
} bomb_cases[] = {
	{ "tls", "3000" },      /* the 7 KB frame that decoded to 12 MB */
	{ "h2c", "3000" },
	{ "tls", "16000" },     /* 64 MB decoded */
	{ "h2c", "130000" },    /* 520 MB, HEADERS and 8 CONTINUATION */
};

/* Regression: SETTINGS_MAX_HEADER_LIST_SIZE was advertised, never
 * enforced, and a bomb reached the backend as megabytes of fields. Now
 * the stream gets 431 while the block is decoded, the origin sees
 * nothing of it, RSS stays flat, and the connection serves the next
 * request (one glitch is not a flood). */
START_TEST(test_h2_hpack_bomb_refused)
{
	const char *args[] = { bomb_cases[_i].refs, NULL };
	char out[OUT_MAX], *got;
	struct stats mark;
	long before, max_kb;

	start("");
	mark = origin_stats(&origins[0]);
	before = proc_rss_kb(px.pid);
	tool(out, sizeof(out), &max_kb, "bomb", bomb_cases[_i].proto, args);
	assert_kv(out, "max_header_list_size", LIST_LIMIT);
	assert_kv(out, "bomb", "431");
	assert_kv(out, "after", "200");
	assert_kv(out, "goaway", "none");
	fprintf(stderr, "bomb %s: RSS %ld -> %ld kB\n", bomb_cases[_i].refs,
	    before, max_kb);
	ck_assert_msg(max_kb - before < growth_max_kb(), "RSS grew from %ld "
	    "to %ld kB during the bomb", before, max_kb);
	got = received_since(&mark);
	assert_absent(got, "x-bomb", "origin");
	assert_absent(got, "bomb=1", "origin");
	assert_present(got, "after=1", "origin");
	free(got);
	proxy_stop(&px);
}
END_TEST

/* Each refused list is a glitch: with http2_max_glitches 5, five bombs
 * get 431 and the sixth ends the connection with GOAWAY
 * ENHANCE_YOUR_CALM. */
START_TEST(test_h2_hpack_bomb_flood_calm)
{
	const char *args[] = { "10", "3000", NULL };
	char out[OUT_MAX], *got;
	struct stats mark;

	start("http2_max_glitches 5\n");
	mark = origin_stats(&origins[0]);
	tool(out, sizeof(out), NULL, "flood", "tls", args);
	assert_kv(out, "goaway", H2_ENHANCE_YOUR_CALM);
	assert_kv(out, "n431", "5");    /* the sixth is one too many */
	got = received_since(&mark);
	assert_absent(got, "x-bomb", "origin");
	free(got);
	proxy_stop(&px);
}
END_TEST

/* ---- field counts and sizes ---- */

static const struct {
	const char *mode;       /* "fields" or "cookies" */
	const char *proto;
	const char *n;
	const char *extra;      /* config */
	const char *status;
} count_cases[] = {
	{ "fields", "tls", "100", "", "200" },
	{ "fields", "tls", "101", "", "431" },
	{ "fields", "h2c", "101", "", "431" },
	{ "cookies", "tls", "100", "", "200" },
	{ "cookies", "tls", "101", "", "431" },
	{ "cookies", "h2c", "101", "", "431" },
	/* 1000 crumbs "c-I=v": 15 KB of bytes, joined 9 KB, but 47 KB
	 * counted with 32 per crumb: over 32k */
	{ "cookies", "tls", "1000", "client_max_header_fields 10000\n",
	  "431" },
	{ "cookies", "h2c", "500", "client_max_header_fields 10000\n",
	  "200" },
	{ "cookies", "h2c", "1000", "client_max_header_fields 10000\n",
	  "431" },
};

/* client_max_header_fields (100) counts HTTP/2 fields as they arrive,
 * each cookie crumb one; the size counts 32 more per crumb. */
START_TEST(test_h2_field_limits)
{
	const char *args[] = { count_cases[_i].n, NULL };
	char out[OUT_MAX], marker[32], *got;
	struct stats mark;

	start(count_cases[_i].extra);
	mark = origin_stats(&origins[0]);
	tool(out, sizeof(out), NULL, count_cases[_i].mode,
	    count_cases[_i].proto, args);
	assert_kv(out, "status", count_cases[_i].status);
	assert_kv(out, "after", "200");
	snprintf(marker, sizeof(marker), "fields=%s ", count_cases[_i].n);
	got = received_since(&mark);
	if (strcmp(count_cases[_i].status, "431") == 0)
		assert_absent(got, marker, "origin");
	else
		assert_present(got, marker, "origin");
	free(got);
	proxy_stop(&px);
}
END_TEST

/* ---- trailers: which fields cross ---- */

/* The fields no trailer may carry; their values are all marked "evil"
 * or 6.6.6.6, so the origin's bytes can be searched for them. */
#define H1_BAD_TRAILERS \
	"Host: evil.test\r\nContent-Length: 5\r\n" \
	"X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Host: evil.test\r\n" \
	"Forwarded: for=6.6.6.6\r\nVia: 1.1 evil\r\nProxy-Evil: 1\r\n" \
	"Connection: x-hop\r\nX-Hop: evil\r\nKeep-Alive: evil\r\n"

static const struct {
	const char *trailers;
	int status;             /* 0: refused somehow (not 200) */
} h1_trailer_cases[] = {
	{ H1_BAD_TRAILERS "X-Checksum: abc\r\n", 200 },
	/* the h1 reader refuses the request (400) */
	{ "Transfer-Encoding: evil\r\nX-Checksum: abc\r\n", 0 },
	{ "TE: evil\r\nUpgrade: evil\r\nX-Checksum: abc\r\n", 200 },
	{ ":path: /evil\r\nX-Checksum: abc\r\n", 200 },
};

/* Regression: Host, Content-Length and X-Forwarded-For in chunked
 * request trailers reached the backend. */
START_TEST(test_h1_request_trailers_filtered)
{
	char req[2048], *got;
	struct stats mark;
	struct rawc *c;
	struct resp r;

	start("");
	mark = origin_stats(&origins[0]);
	snprintf(req, sizeof(req), "POST /echo?h1trailers=1 HTTP/1.1\r\n"
	    "Host: a.test\r\nTransfer-Encoding: chunked\r\n"
	    "Connection: close\r\n\r\n5\r\nhello\r\n0\r\n%s\r\n",
	    h1_trailer_cases[_i].trailers);
	c = rawc_connect(px.port);
	rawc_sends(c, req);
	memset(&r, 0, sizeof(r));
	if (rawc_response(c, &r, false, CLIENT_WAIT_MS) == 0 &&
	    h1_trailer_cases[_i].status != 0)
		ck_assert_int_eq(r.status, h1_trailer_cases[_i].status);
	else if (h1_trailer_cases[_i].status != 0)
		ck_abort_msg("no response");
	else
		ck_assert_int_ne(r.status, 200);
	resp_free(&r);
	rawc_close(c);
	got = received_since(&mark);
	assert_absent(got, "evil", "origin");
	assert_absent(got, "6.6.6.6", "origin");
	if (h1_trailer_cases[_i].status == 200) {
		assert_present(got, "\r\n0\r\nX-Checksum: abc\r\n\r\n",
		    "origin");
		assert_logged_once("fields may not cross");
	}
	free(got);
	proxy_stop(&px);
}
END_TEST

static const struct {
	const char *proto;
	const char *fields[12];
	const char *status;     /* NULL: refused somehow (not 200) */
} h2_trailer_cases[] = {
	{ "tls", { "host:evil.test", "x-forwarded-for:6.6.6.6",
	  "x-forwarded-host:evil.test", "forwarded:for=6.6.6.6",
	  "via:1.1 evil", "proxy-evil:1", "x-checksum:abc", NULL }, "200" },
	{ "h2c", { "host:evil.test", "x-forwarded-for:6.6.6.6",
	  "x-forwarded-proto:evil", "proxy-authorization:evil",
	  "x-checksum:abc", NULL }, "200" },
	{ "tls", { "content-length:5", "x-checksum:abc", NULL }, "200" },
	{ "tls", { "transfer-encoding:evil", "x-checksum:abc", NULL }, NULL },
	{ "h2c", { "connection:evil", "x-checksum:abc", NULL }, NULL },
	{ "tls", { ":path:/evil", "x-checksum:abc", NULL }, NULL },
};

/* The same over HTTP/2: a stream's trailers go to the backend as the
 * chunked request's trailer section, without what may not cross.
 * Connection-specific fields and pseudo-headers make nghttp2 reset the
 * stream (RFC 9113 §8.2.2, §8.3): nothing of them reaches the origin. */
START_TEST(test_h2_request_trailers_filtered)
{
	char out[OUT_MAX], *got;
	struct stats mark;

	start("");
	mark = origin_stats(&origins[0]);
	tool(out, sizeof(out), NULL, "trailers", h2_trailer_cases[_i].proto,
	    h2_trailer_cases[_i].fields);
	if (h2_trailer_cases[_i].status != NULL)
		assert_kv(out, "status", h2_trailer_cases[_i].status);
	else
		ck_assert_str_ne(kv(out, "status"), "200");
	assert_kv(out, "after", "200");
	got = received_since(&mark);
	assert_absent(got, "evil", "origin");
	assert_absent(got, "6.6.6.6", "origin");
	if (h2_trailer_cases[_i].status != NULL) {
		assert_present(got, "\r\n0\r\nx-checksum: abc\r\n\r\n",
		    "origin");
		assert_logged_once("fields may not cross");
	}
	free(got);
	proxy_stop(&px);
}
END_TEST

/* Regression: a backend's response trailers crossed unfiltered. With
 * /trailers?bad=1 the origin adds Host, Content-Length, X-Forwarded-*,
 * Forwarded, Proxy-*, and a field its Connection names; an HTTP/1.1
 * client gets only X-Checksum and X-After in the trailer section. */
START_TEST(test_h1_response_trailers_filtered)
{
	struct rawc *c;
	const char *end;

	start("");
	c = rawc_connect(px.port);
	rawc_sends(c, "GET /trailers?bad=1 HTTP/1.1\r\nHost: a.test\r\n"
	    "TE: trailers\r\nConnection: close\r\n\r\n");
	ck_assert(rawc_wait_eof(c, CLIENT_WAIT_MS));
	ck_assert_ptr_nonnull(end = strstr(c->buf, "\r\n\r\n"));
	ck_assert_msg(strstr(end, "\r\n0\r\nX-Checksum: abc\r\n"
	    "X-After: ok\r\n\r\n") != NULL, "trailers:\n%s", c->buf);
	assert_absent(end, "evil", "client");
	assert_absent(end, "6.6.6.6", "client");
	assert_absent(end, "Proxy-Evil", "client");
	assert_absent(end, "Content-Length", "client");
	assert_logged_once("fields may not cross");
	rawc_close(c);
	proxy_stop(&px);
}
END_TEST

static const char *const resp_protos[] = { "tls", "h2c" };

/* The same to an HTTP/2 client: its trailers HEADERS holds only
 * x-checksum and x-after. */
START_TEST(test_h2_response_trailers_filtered)
{
	const char *args[] = { "/trailers?bad=1", NULL };
	char out[OUT_MAX];

	start("");
	tool(out, sizeof(out), NULL, "get", resp_protos[_i], args);
	assert_kv(out, "status", "200");
	assert_kv(out, "body", "hello");
	assert_kv(out, "trailers", "x-checksum:abc,x-after:ok");
	assert_logged_once("response trailer fields may not cross");
	proxy_stop(&px);
}
END_TEST

/* A backend's trailers over backend_max_header_fields (150 fields from
 * /trailers?many=150) never reach an HTTP/2 client, and its stream does
 * not end as if complete: INTERNAL_ERROR. */
START_TEST(test_h2_backend_trailers_over_limit)
{
	const char *args[] = { "/trailers?many=150", NULL };
	char out[OUT_MAX];

	start("");
	tool(out, sizeof(out), NULL, "get", resp_protos[_i], args);
	assert_kv(out, "status", "rst:2");
	assert_kv(out, "trailers", "");
	proxy_stop(&px);
}
END_TEST

/* ---- trailer size ---- */

static const struct {
	const char *proto;
	const char *size;
	bool is_served_after;   /* the connection goes on */
} big_trailer_cases[] = {
	{ "tls", "40000", true },       /* over 32k in 3 frames: RST */
	{ "h2c", "40000", true },
	{ "tls", "2097152", false },    /* 2 MiB: also a CONTINUATION flood */
	{ "h2c", "2097152", false },
};

/* Regression: a 2 MiB trailer took a worker from 7 MB to 140 MB, and
 * trailers had no limit. Trailers over the list limit reset the stream
 * (ENHANCE_YOUR_CALM) with nothing of them forwarded; the backend
 * connection that carried half the request is closed, not pooled (the
 * next request arrives on another one); RSS stays flat. */
START_TEST(test_h2_big_trailer_refused)
{
	const char *args[] = { big_trailer_cases[_i].size, NULL };
	char out[OUT_MAX], *got;
	struct stats mark;
	long before, max_kb, conn;

	start("");
	mark = origin_stats(&origins[0]);
	before = proc_rss_kb(px.pid);
	tool(out, sizeof(out), &max_kb, "bigtrailer",
	    big_trailer_cases[_i].proto, args);
	ck_assert_str_ne(kv(out, "status"), "200");
	ck_assert_msg(strncmp(kv(out, "status"), "rst:", 4) == 0 ||
	    strncmp(kv(out, "status"), "goaway:", 7) == 0, "%s", out);
	if (big_trailer_cases[_i].is_served_after) {
		assert_kv(out, "status", "rst:" H2_ENHANCE_YOUR_CALM);
		assert_kv(out, "after", "200");
	}
	fprintf(stderr, "trailer %s: RSS %ld -> %ld kB\n",
	    big_trailer_cases[_i].size, before, max_kb);
	ck_assert_msg(max_kb - before < growth_max_kb(), "RSS grew from %ld "
	    "to %ld kB during the trailer", before, max_kb);
	got = received_since(&mark);
	assert_absent(got, "x-t-", "origin");
	assert_absent(got, "TTTTTTTT", "origin");
	assert_absent(got, "\r\n0\r\n", "origin");
	free(got);
	/* the body may have been held, never sent: then no connection */
	if (big_trailer_cases[_i].is_served_after &&
	    (conn = conn_with(&mark, "big=1")) > 0)
		ck_assert_msg(atol(kv(out, "after_conn")) != conn,
		    "the request after came on backend connection %ld, the "
		    "one the reset stream had (pooled again?)", conn);
	proxy_stop(&px);
}
END_TEST

static const struct {
	const char *proto;
	const char *kind;       /* h2unfinished.py: how portico refuses */
} unfinished_cases[] = {
	{ "tls", "fields" },    /* 101 fields: 431 */
	{ "h2c", "fields" },
	{ "tls", "target" },    /* /a/../../b: 400 */
	{ "h2c", "target" },
};

/* Regression: a stream refused at once (431, 400) that the client never
 * ended kept its concurrency slot for good: with all of them refused,
 * the next stream was over http2_max_concurrent_streams (GOAWAY
 * PROTOCOL_ERROR), and the connection never went idle. RFC 9113 §8.1:
 * the complete response is followed by RST_STREAM NO_ERROR. */
START_TEST(test_h2_refused_unfinished_gives_slot_back)
{
	char port[16], out[OUT_MAX], err[OUT_MAX];
	char *argv[] = { "/usr/bin/python3",
	    "tests/integration/h2unfinished.py",
	    (char *)unfinished_cases[_i].proto, port, "8",
	    (char *)unfinished_cases[_i].kind, NULL };
	int rc;

	start("http2_max_concurrent_streams 8\n");
	snprintf(port, sizeof(port), "%d",
	    port_of(unfinished_cases[_i].proto));
	rc = run_argv(argv, out, sizeof(out), err, sizeof(err), TOOL_MS);
	ck_assert_msg(rc == 0, "h2unfinished.py: exit %d\n%s\n%s", rc, out,
	    err);
	assert_kv(out, "refused", "8");
	assert_kv(out, "rst_no_error", "8");
	assert_kv(out, "after", "200");
	proxy_stop(&px);
}
END_TEST

/* h2unfinished.py PROTO - N KIND against px: its output in OUT. */
static void
unfinished_tool(const char *proto, const char *n, const char *kind,
    char *out, size_t cap)
{
	char port[16], err[OUT_MAX];
	char *argv[] = { "/usr/bin/python3",
	    "tests/integration/h2unfinished.py", (char *)proto, port,
	    (char *)n, (char *)kind, NULL };
	int rc;

	snprintf(port, sizeof(port), "%d", port_of(proto));
	rc = run_argv(argv, out, cap, err, sizeof(err), TOOL_MS);
	ck_assert_msg(rc == 0, "h2unfinished.py %s: exit %d\n%s\n%s", kind,
	    rc, out, err);
	fprintf(stderr, "h2unfinished %s %s: %s", kind, proto, out);
}

/* Regression: an HTTP/2 request header block left open (HEADERS without
 * END_HEADERS, then nothing) held its connection forever, as the idle
 * timer stops while a stream exists. The block must be whole by
 * client_header_timeout, as an HTTP/1.1 head must. */
START_TEST(test_h2_open_header_block_times_out)
{
	const char *proto = resp_protos[_i];
	char out[OUT_MAX];

	start("client_header_initial_timeout 1s\n"
	    "client_header_timeout 2s\n");
	unfinished_tool(proto, "0", "block", out, sizeof(out));
	assert_kv(out, "after", "goaway:0");
	ck_assert_int_le(atoi(kv(out, "secs")), 4);
	proxy_stop(&px);
}
END_TEST

/* Regression: h2c kept the read timeout of protocol sniffing
 * (client_header_timeout): a client that then waited in silence for a
 * slow response was cut after that long (libevent re-arms a persistent
 * event's old timeout; see sock_set_timeouts). */
START_TEST(test_h2_quiet_client_not_cut)
{
	const char *proto = resp_protos[_i];
	char out[OUT_MAX];

	start("client_header_initial_timeout 1s\n"
	    "client_header_timeout 1s\n");
	unfinished_tool(proto, "2500", "quiet", out, sizeof(out));
	assert_kv(out, "after", "200");
	proxy_stop(&px);
}
END_TEST

TCase *
hostile_h2_tcase(void)
{
	TCase *tc = harness_tcase("hostile_h2", 120);

	tcase_add_loop_test(tc, test_h2_hpack_bomb_refused, 0,
	    NELEMS(bomb_cases));
	tcase_add_test(tc, test_h2_hpack_bomb_flood_calm);
	tcase_add_loop_test(tc, test_h2_field_limits, 0,
	    NELEMS(count_cases));
	tcase_add_loop_test(tc, test_h1_request_trailers_filtered, 0,
	    NELEMS(h1_trailer_cases));
	tcase_add_loop_test(tc, test_h2_request_trailers_filtered, 0,
	    NELEMS(h2_trailer_cases));
	tcase_add_test(tc, test_h1_response_trailers_filtered);
	tcase_add_loop_test(tc, test_h2_response_trailers_filtered, 0,
	    NELEMS(resp_protos));
	tcase_add_loop_test(tc, test_h2_backend_trailers_over_limit, 0,
	    NELEMS(resp_protos));
	tcase_add_loop_test(tc, test_h2_big_trailer_refused, 0,
	    NELEMS(big_trailer_cases));
	tcase_add_loop_test(tc, test_h2_refused_unfinished_gives_slot_back, 0,
	    NELEMS(unfinished_cases));
	tcase_add_loop_test(tc, test_h2_open_header_block_times_out, 0,
	    NELEMS(resp_protos));
	tcase_add_loop_test(tc, test_h2_quiet_client_not_cut, 0,
	    NELEMS(resp_protos));
	return tc;
}
