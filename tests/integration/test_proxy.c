/* tests/integration/test_proxy.c: what portico forwards to the origin and
 * back. The forwarding cases run over HTTP/1.1, TLS HTTP/1.1, TLS HTTP/2
 * and h2c (enum proto; one proxy per row, shared by the four) and assert
 * what the origin received as well as what the client got: forwarded
 * fields, hop-by-hop fields, bodies with and without a length, bodiless
 * responses, keep-alive. The HTTP/1.1 cases (pipelining, 100-continue,
 * the bytes after a HEAD, HTTP/1.0, absolute-form) each say why they
 * have no h2 column. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <check.h>

#include "client.h"
#include "harness.h"
#include "proto.h"
#include "suites.h"

#define ONE_BACKEND     "backend o { server %s }\nroute * o\n"
#define HOST_A          "Host: a.test"

static struct proxy px;

/* A cleartext-only proxy, for the HTTP/1.1 cases. */
static void
start_one(const char *extra)
{
	memset(&px, 0, sizeof(px));
	proxy_start(&px, ONE_BACKEND "%s", origins[0].tcp, extra);
}

/* Both listeners, for the cases run over every protocol. */
static void
start_all(const char *extra)
{
	proto_proxy_start(&px, 0, ONE_BACKEND "%s", origins[0].tcp, extra);
}

/* HOST_A, then FIELDS (up to 3, NULL-ended), then X-Keep: 1, into H. */
static void
with_host(const char *h[6], const char *const fields[3])
{
	size_t i, n = 0;

	h[n++] = HOST_A;
	for (i = 0; i < 3 && fields[i] != NULL; i++)
		h[n++] = fields[i];
	h[n++] = "X-Keep: 1";
	h[n] = NULL;
}

/* The value of field NAME in HEAD (a request head the origin got). */
static bool
head_field(char *head, const char *name, char *out, size_t cap)
{
	struct resp r = { .head = head };

	return resp_field(&r, name, out, cap);
}

/* ---- forwarded fields; Host from Host (h1) or :authority (h2) ---- */

START_TEST(test_forwarded)
{
	/* the client's X-Forwarded-Proto is replaced, not appended: the
	 * client does not choose the scheme; X-Forwarded-Host, which
	 * portico does not write, passes as sent */
	static const char *const h[] = { HOST_A, "X-Forwarded-Proto: ftp",
	    "X-Forwarded-Host: edge.test", NULL };
	char t[128], v[512], want[64], *head;
	struct resp r;
	enum proto p;

	start_all("");
	for (p = 0; p < P_COUNT; p++) {
		proto_at(p, "GET with forwarded fields");
		proto_mark(t, sizeof(t), "/echo?x=1", "fwd", 0, p);
		proto_request(p, &px, "GET", t, h, NULL, 0, &r);
		PROTO_INT_EQ(r.status, 200);
		PROTO_ASSERT(json_str(r.body, "method", v, sizeof(v)));
		PROTO_STR_EQ(v, "GET");
		PROTO_ASSERT(json_str(r.body, "target", v, sizeof(v)));
		PROTO_STR_EQ(v, t);
		resp_free(&r);
		snprintf(want, sizeof(want), "\r\nX-Forwarded-Proto: %s\r\n",
		    proto_is_tls(p) ? "https" : "http");
		head = origin_got(&origins[0], "GET", t);
		PROTO_INT_EQ(str_count(head, "\r\nHost: a.test\r\n"), 1);
		PROTO_INT_EQ(str_count(head, "\r\nHost:"), 1);
		PROTO_INT_EQ(str_count(head, "\r\nX-Forwarded-For: "
		    "127.0.0.1\r\n"), 1);
		PROTO_INT_EQ(str_count(head, "\r\nX-Forwarded-For:"), 1);
		PROTO_INT_EQ(str_count(head, want), 1);
		PROTO_INT_EQ(str_count(head, "\r\nX-Forwarded-Proto:"), 1);
		PROTO_INT_EQ(str_count(head, "\r\nX-Forwarded-Host: "
		    "edge.test\r\n"), 1);
		PROTO_INT_EQ(str_count(head, "\r\nX-Forwarded-Host:"), 1);
		/* both off by default */
		PROTO_INT_EQ(str_count(head, "\r\nForwarded:"), 0);
		PROTO_INT_EQ(str_count(head, "\r\nVia:"), 0);
		free(head);
	}
	proxy_stop(&px);
}
END_TEST

/* forwarded on, via on: the client's elements, then portico's; Via names
 * the version portico received (RFC 9110 §7.6.3). */
START_TEST(test_forwarded_via)
{
	static const char *const h[] = { HOST_A, "Forwarded: for=1.2.3.4",
	    "Via: 1.1 edge", NULL };
	char t[128], fwd[128], via[128], *head;
	struct resp r;
	enum proto p;

	start_all("forwarded on\nvia on\n");
	for (p = 0; p < P_COUNT; p++) {
		proto_at(p, "forwarded on, via on");
		proto_mark(t, sizeof(t), "/echo", "via", 0, p);
		proto_request(p, &px, "GET", t, h, NULL, 0, &r);
		PROTO_INT_EQ(r.status, 200);
		/* the response too (RFC 9110 §7.6.3): it came over 1.1 */
		PROTO_INT_EQ(str_count(r.head, "\nvia: 1.1 portico\r\n"), 1);
		PROTO_INT_EQ(str_count(r.head, "\nvia:"), 1);
		resp_free(&r);
		snprintf(fwd, sizeof(fwd), "\r\nForwarded: for=1.2.3.4, "
		    "for=127.0.0.1;proto=%s\r\n", proto_is_tls(p) ? "https" :
		    "http");
		snprintf(via, sizeof(via), "\r\nVia: 1.1 edge, %s portico\r\n",
		    proto_is_h2(p) ? "2" : "1.1");
		head = origin_got(&origins[0], "GET", t);
		PROTO_INT_EQ(str_count(head, fwd), 1);
		PROTO_INT_EQ(str_count(head, "\r\nForwarded:"), 1);
		PROTO_INT_EQ(str_count(head, via), 1);
		PROTO_INT_EQ(str_count(head, "\r\nVia:"), 1);
		free(head);
	}
	proxy_stop(&px);
}
END_TEST

/* hsts: Strict-Transport-Security on each final response over TLS, a
 * backend's and portico's own (a 502), never over cleartext; a backend's
 * own is passed on, and alone. */
START_TEST(test_hsts)
{
	static const char *const h[] = { HOST_A, NULL };
	static const char sts[] = "\nstrict-transport-security: max-age="
	    "31536000; includeSubDomains\r\n";
	char t[128];
	struct resp r;
	enum proto p;

	memset(&px, 0, sizeof(px));
	proxy_start_tls(&px, "%s" ONE_BACKEND "backend dead { server "
	    "127.0.0.1:1 }\nroute a.test/dead/ dead\n",
	    harness_tls_block("\thsts 365d includeSubDomains\n"),
	    origins[0].tcp);
	for (p = 0; p < P_COUNT; p++) {
		proto_at(p, "hsts");
		proto_mark(t, sizeof(t), "/echo", "hsts", 0, p);
		proto_request(p, &px, "GET", t, h, NULL, 0, &r);
		PROTO_INT_EQ(r.status, 200);
		PROTO_INT_EQ(str_count(r.head, sts), proto_is_tls(p) ? 1 : 0);
		PROTO_INT_EQ(str_count(r.head, "\nstrict-transport-security:"),
		    proto_is_tls(p) ? 1 : 0);
		resp_free(&r);
		proto_request(p, &px, "GET", "/dead/x", h, NULL, 0, &r);
		PROTO_INT_EQ(r.status, 502);
		PROTO_INT_EQ(str_count(r.head, sts), proto_is_tls(p) ? 1 : 0);
		resp_free(&r);
		proto_request(p, &px, "GET", "/hsts", h, NULL, 0, &r);
		PROTO_INT_EQ(r.status, 200);
		PROTO_INT_EQ(str_count(r.head, "\nstrict-transport-security: "
		    "max-age=60\r\n"), 1);
		PROTO_INT_EQ(str_count(r.head, "\nstrict-transport-security:"),
		    1);
		resp_free(&r);
	}
	proxy_stop(&px);
}
END_TEST

/* trusted_proxies: the client (127.0.0.1, or ::1 for none of these)
 * in the ranges keeps its X-Forwarded-For and Forwarded, appended to;
 * outside them, both are gone before portico adds its own. */
static const struct {
	const char *ranges;
	bool trusted;
} trust_cases[] = {
	{ "10.0.0.0/8 192.168.1.7", false },
	{ "10.0.0.0/8 127.0.0.0/8 ::1", true },
	{ "127.0.0.1", true },
	{ "unix ::1", false },
};

START_TEST(test_trusted_proxies)
{
	static const char *const h[] = { HOST_A, "X-Forwarded-For: 6.6.6.6",
	    "Forwarded: for=6.6.6.6", NULL };
	char t[128], conf[160], *head;
	bool trusted = trust_cases[_i].trusted;
	struct resp r;
	enum proto p;

	snprintf(conf, sizeof(conf), "trusted_proxies %s\nforwarded on\n",
	    trust_cases[_i].ranges);
	start_all(conf);
	for (p = 0; p < P_COUNT; p++) {
		proto_at(p, "trusted_proxies %s", trust_cases[_i].ranges);
		proto_mark(t, sizeof(t), "/echo", "trust", _i, p);
		proto_request(p, &px, "GET", t, h, NULL, 0, &r);
		PROTO_INT_EQ(r.status, 200);
		resp_free(&r);
		head = origin_got(&origins[0], "GET", t);
		PROTO_INT_EQ(str_count(head, trusted ?
		    "\r\nX-Forwarded-For: 6.6.6.6, 127.0.0.1\r\n" :
		    "\r\nX-Forwarded-For: 127.0.0.1\r\n"), 1);
		PROTO_INT_EQ(str_count(head, "\r\nX-Forwarded-For:"), 1);
		PROTO_INT_EQ(str_count(head, trusted ?
		    "\r\nForwarded: for=6.6.6.6, for=127.0.0.1;" :
		    "\r\nForwarded: for=127.0.0.1;"), 1);
		PROTO_INT_EQ(str_count(head, "6.6.6.6"), trusted ? 2 : 0);
		free(head);
	}
	proxy_stop(&px);
}
END_TEST

static const struct {
	const char *fields[3];  /* sent by the client */
	const char *xff;        /* the one X-Forwarded-For at the origin */
} xff_cases[] = {
	{ { "X-Forwarded-For: 1.2.3.4" }, "1.2.3.4, 127.0.0.1" },
	{ { "X-Forwarded-For: 1.2.3.4", "X-Forwarded-For: 5.6.7.8" },
	  "1.2.3.4, 5.6.7.8, 127.0.0.1" },
	{ { "x-forwarded-for: 10.0.0.1, 10.0.0.2" },
	  "10.0.0.1, 10.0.0.2, 127.0.0.1" },
};

START_TEST(test_xff_appended)
{
	char t[128], line[256], v[512], *head;
	const char *h[6];
	struct resp r;
	enum proto p;

	start_all("");
	with_host(h, xff_cases[_i].fields);
	snprintf(line, sizeof(line), "\r\nX-Forwarded-For: %s\r\n",
	    xff_cases[_i].xff);
	for (p = 0; p < P_COUNT; p++) {
		proto_at(p, "%s", xff_cases[_i].fields[0]);
		proto_mark(t, sizeof(t), "/echo", "xff", _i, p);
		proto_request(p, &px, "GET", t, h, NULL, 0, &r);
		PROTO_INT_EQ(r.status, 200);
		PROTO_INT_EQ(echo_joined(r.body, "X-Forwarded-For", v,
		    sizeof(v)), 1);
		PROTO_STR_EQ(v, xff_cases[_i].xff);
		resp_free(&r);
		/* one list, one line */
		head = origin_got(&origins[0], "GET", t);
		PROTO_INT_EQ(str_count(head, line), 1);
		PROTO_INT_EQ(str_count(head, "\r\nX-Forwarded-For:"), 1);
		free(head);
	}
	proxy_stop(&px);
}
END_TEST

static const struct {
	const char *fields[3];  /* sent by the client */
	int n;                  /* X-Forwarded-For lines at the origin */
	const char *xff;        /* their value when n > 0 */
} xff_off_cases[] = {
	{ { NULL }, 0, NULL },
	{ { "X-Forwarded-For: 1.2.3.4" }, 1, "1.2.3.4" },
};

START_TEST(test_xff_off)
{
	char t[128], v[512], *head;
	const char *h[6];
	struct resp r;
	enum proto p;

	start_all("x_forwarded_for off\n");
	with_host(h, xff_off_cases[_i].fields);
	for (p = 0; p < P_COUNT; p++) {
		proto_at(p, "x_forwarded_for off, row %d", _i);
		proto_mark(t, sizeof(t), "/echo", "xffoff", _i, p);
		proto_request(p, &px, "GET", t, h, NULL, 0, &r);
		PROTO_INT_EQ(r.status, 200);
		PROTO_INT_EQ(echo_joined(r.body, "X-Forwarded-For", v,
		    sizeof(v)), xff_off_cases[_i].n);
		if (xff_off_cases[_i].n > 0)
			PROTO_STR_EQ(v, xff_off_cases[_i].xff);
		resp_free(&r);
		head = origin_got(&origins[0], "GET", t);
		PROTO_INT_EQ(str_count(head, "\r\nX-Forwarded-For:"),
		    xff_off_cases[_i].n);
		/* only X-Forwarded-For is off */
		PROTO_INT_EQ(str_count(head, "\r\nX-Forwarded-Proto:"), 1);
		free(head);
	}
	proxy_stop(&px);
}
END_TEST

/* ---- hop-by-hop fields (RFC 9110 §7.6.1): fields named in Connection,
 * and the fixed hop-by-hop ones, are for the next hop only ---- */

/* curl leaves out of HTTP/2 the connection-specific fields it may not
 * send there (RFC 9113 §8.2.2) but "TE: trailers": over h2 a field that
 * only Connection made hop-by-hop is an ordinary one and arrives, and TE
 * is the one that portico itself must drop. */
static const struct {
	const char *fields[3];  /* sent by the client with X-Keep: 1 */
	const char *absent;     /* must not reach the origin */
	bool is_named;          /* hop-by-hop only as named in Connection */
} hop_cases[] = {
	{ { "Connection: foo", "Foo: x" }, "Foo", true },
	{ { "Connection: keep-alive, Foo, bar", "Foo: x", "Bar: y" }, "Bar",
	  true },
	{ { "Connection: X-Custom", "x-custom: 1" }, "X-Custom", true },
	{ { "Keep-Alive: timeout=5" }, "Keep-Alive", false },
	{ { "Proxy-Connection: keep-alive" }, "Proxy-Connection", false },
	{ { "TE: trailers" }, "TE", false },
	{ { "Upgrade: h2c" }, "Upgrade", false },
};

START_TEST(test_hop_by_hop_request)
{
	char t[128], field[64], v[512], *head;
	const char *h[6];
	struct resp r;
	enum proto p;
	int want;

	start_all("");
	with_host(h, hop_cases[_i].fields);
	snprintf(field, sizeof(field), "\r\n%s:", hop_cases[_i].absent);
	for (p = 0; p < P_COUNT; p++) {
		proto_at(p, "%s", hop_cases[_i].fields[0]);
		proto_mark(t, sizeof(t), "/echo", "hop", _i, p);
		proto_request(p, &px, "GET", t, h, NULL, 0, &r);
		PROTO_INT_EQ(r.status, 200);
		resp_free(&r);
		want = proto_is_h2(p) && hop_cases[_i].is_named;
		head = origin_got(&origins[0], "GET", t);
		ck_assert_msg(str_count(head, field) == want, "%s: %s %s the "
		    "origin: %s", proto_where, hop_cases[_i].absent, want ?
		    "did not reach" : "reached", head);
		PROTO_INT_EQ(str_count(head, "\r\nTE:"), 0);
		PROTO_INT_EQ(str_count(head, "\r\nKeep-Alive:"), 0);
		PROTO_INT_EQ(str_count(head, "\r\nUpgrade:"), 0);
		PROTO_INT_EQ(str_count(head, "\r\nProxy-Connection:"), 0);
		PROTO_INT_EQ(str_count(head, "\r\nTransfer-Encoding:"), 0);
		PROTO_INT_EQ(str_count(head, "\r\nX-Keep: 1\r\n"), 1);
		/* portico's own Connection, if any, names nothing of the
		 * client's */
		if (head_field(head, "Connection", v, sizeof(v)))
			ck_assert_msg(strcasestr(v, "foo") == NULL &&
			    strcasestr(v, "custom") == NULL &&
			    strcasestr(v, "bar") == NULL, "%s: Connection: %s",
			    proto_where, v);
		free(head);
	}
	proxy_stop(&px);
}
END_TEST

START_TEST(test_hop_by_hop_response)
{
	static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
	    "Connection: X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\n"
	    "Proxy-Connection: keep-alive\r\nUpgrade: foo\r\n"
	    "X-End: yes\r\n\r\nok";
	static const char *const absent[] = { "X-Hop", "Keep-Alive",
	    "Proxy-Connection", "Upgrade", "Connection" };
	static const char *const h[] = { HOST_A, NULL };
	struct resp r;
	char v[512];
	pid_t fake;
	size_t i;
	int port = fake_start(reply, &fake);
	enum proto p;

	proto_proxy_start(&px, 0, "backend f { server 127.0.0.1:%d }\n"
	    "route * f\n", port);
	for (p = 0; p < P_COUNT; p++) {
		proto_at(p, "a response with hop-by-hop fields");
		proto_request(p, &px, "GET", "/", h, NULL, 0, &r);
		PROTO_INT_EQ(r.status, 200);
		PROTO_STR_EQ(r.body, "ok");
		PROTO_ASSERT(resp_field(&r, "X-End", v, sizeof(v)));
		PROTO_STR_EQ(v, "yes");
		for (i = 0; i < NELEMS(absent); i++) {
			/* h1 may say its own Connection: keep-alive or close,
			 * but not the backend's */
			if (!proto_is_h2(p) &&
			    strcmp(absent[i], "Connection") == 0) {
				if (resp_field(&r, "Connection", v, sizeof(v)))
					ck_assert_msg(strcasestr(v, "hop") ==
					    NULL, "%s: Connection: %s",
					    proto_where, v);
				continue;
			}
			ck_assert_msg(!resp_field(&r, absent[i], v, sizeof(v)),
			    "%s: %s reached the client: %s", proto_where,
			    absent[i], r.head);
		}
		resp_free(&r);
	}
	proxy_stop(&px);
	fake_stop(fake);
}
END_TEST

/* ---- request bodies, byte for byte ---- */

static const size_t body_sizes[] = { 0, 1, 5, 5000, 100000, 300000 };

/* POSTs row K of body_sizes over P with H; checks what the origin got
 * and returns the head it received, malloc'd. */
static char *
post_row(enum proto p, const char *tag, size_t k, const char *const *h)
{
	size_t n = body_sizes[k];
	char t[128], want[65], v[128], *body = malloc(n + 1), *head;
	struct resp r;

	ck_assert_ptr_nonnull(body);
	pattern_fill(body, 0, n);
	proto_at(p, "POST of %zu bytes (%s)", n, tag);
	proto_mark(t, sizeof(t), "/echo/post", tag, (int)k, p);
	proto_request(p, &px, "POST", t, h, body, n, &r);
	PROTO_INT_EQ(r.status, 200);
	PROTO_ASSERT(json_str(r.body, "method", v, sizeof(v)));
	PROTO_STR_EQ(v, "POST");
	PROTO_ASSERT(json_str(r.body, "target", v, sizeof(v)));
	PROTO_STR_EQ(v, t);
	PROTO_INT_EQ(json_num(r.body, "body_length"), n);
	PROTO_ASSERT(json_str(r.body, "body_sha256", v, sizeof(v)));
	sha256_hex(body, n, want);
	PROTO_STR_EQ(v, want);
	resp_free(&r);
	free(body);
	head = origin_got(&origins[0], "POST", t);
	PROTO_INT_EQ(str_count(head, "\r\nHost: a.test\r\n"), 1);
	return head;
}

/* With a Content-Length (curl sends content-length over h2 too): the
 * origin gets that length and no other framing. */
START_TEST(test_body_length)
{
	static const char *const h[] = { HOST_A, "Expect:", NULL };
	char cl[64], *head;
	enum proto p;
	size_t k;

	start_all("");
	for (k = 0; k < NELEMS(body_sizes); k++)
		for (p = 0; p < P_COUNT; p++) {
			head = post_row(p, "len", k, h);
			snprintf(cl, sizeof(cl), "\r\nContent-Length: %zu\r\n",
			    body_sizes[k]);
			PROTO_INT_EQ(str_count(head, cl), 1);
			PROTO_INT_EQ(str_count(head, "\r\nContent-Length:"), 1);
			PROTO_INT_EQ(str_count(head, "\r\nTransfer-Encoding:"),
			    0);
			free(head);
		}
	proxy_stop(&px);
}
END_TEST

/* Without a length: chunked over h1 (curl chunks the body when told
 * Transfer-Encoding: chunked), DATA frames without content-length over h2
 * (curl then leaves content-length out and drops the field). portico
 * gathers a small body and sends it with a Content-Length, a larger one
 * chunked: either way one framing, and the same bytes. */
START_TEST(test_body_no_length)
{
	static const char *const h[] = { HOST_A, "Expect:",
	    "Transfer-Encoding: chunked", NULL };
	enum proto p;
	char *head;
	size_t k;
	int framings;

	start_all("");
	for (k = 0; k < NELEMS(body_sizes); k++)
		for (p = 0; p < P_COUNT; p++) {
			head = post_row(p, "nolen", k, h);
			framings = str_count(head, "\r\nContent-Length:") +
			    str_count(head, "\r\nTransfer-Encoding: "
			    "chunked\r\n");
			ck_assert_msg(framings == 1 && str_count(head,
			    "\r\nTransfer-Encoding:") <= 1, "%s: %d framings "
			    "in %s", proto_where, framings, head);
			free(head);
		}
	proxy_stop(&px);
}
END_TEST

/* ---- response bodies: from a Content-Length and a chunked backend, the
 * same bytes over every protocol; over h2 no Transfer-Encoding field (RFC
 * 9113 §8.2.2), over h1 one framing ---- */

static const struct {
	const char *path;
	bool is_chunked;        /* the backend chunks it */
} resp_cases[] = {
	{ "/bytes/200000", false },
	{ "/bytes/200000?chunked=1", true },
	{ "/bytes/0", false },
	{ "/bytes/0?chunked=1", true },
};

START_TEST(test_response_body)
{
	static const char *const h[] = { HOST_A, NULL };
	char t[128], want[65], got[65], v[64], *head;
	const char *slash;
	struct resp r;
	enum proto p;
	size_t n;

	start_all("");
	slash = strrchr(resp_cases[_i].path, '/');
	n = strtoul(slash + 1, NULL, 10);
	sha256_pattern(n, want);
	for (p = 0; p < P_COUNT; p++) {
		proto_at(p, "GET %s", resp_cases[_i].path);
		proto_mark(t, sizeof(t), resp_cases[_i].path, "resp", _i, p);
		proto_request(p, &px, "GET", t, h, NULL, 0, &r);
		PROTO_INT_EQ(r.status, 200);
		PROTO_INT_EQ(r.bodylen, n);
		sha256_hex(r.body, r.bodylen, got);
		PROTO_STR_EQ(got, want);
		if (proto_is_h2(p))
			ck_assert_msg(!resp_field(&r, "Transfer-Encoding", v,
			    sizeof(v)), "%s: transfer-encoding %s",
			    proto_where, v);
		else
			ck_assert_msg(resp_field(&r, "Content-Length", v,
			    sizeof(v)) != resp_field(&r, "Transfer-Encoding",
			    v, sizeof(v)), "%s: %s", proto_where, r.head);
		/* a length the backend gave is passed on */
		if (!resp_cases[_i].is_chunked) {
			PROTO_ASSERT(resp_field(&r, "Content-Length", v,
			    sizeof(v)));
			PROTO_INT_EQ(strtoll(v, NULL, 10), n);
		}
		resp_free(&r);
		head = origin_got(&origins[0], "GET", t);
		free(head);
	}
	proxy_stop(&px);
}
END_TEST

/* ---- bodiless responses: HEAD, 204, 304 ---- */

static const struct {
	const char *method, *path;
	int status;
	const char *length;     /* the Content-Length the client sees */
} bodiless[] = {
	{ "HEAD", "/bytes/1000", 200, "1000" },
	{ "HEAD", "/bytes/1000?chunked=1", 200, NULL },
	{ "GET", "/status/204", 204, NULL },
	{ "GET", "/status/304", 304, NULL },
};

START_TEST(test_bodiless)
{
	static const char *const h[] = { HOST_A, NULL };
	char t[128], v[64], *head;
	struct resp r;
	enum proto p;

	start_all("");
	for (p = 0; p < P_COUNT; p++) {
		proto_at(p, "%s %s", bodiless[_i].method, bodiless[_i].path);
		proto_mark(t, sizeof(t), bodiless[_i].path, "bodiless", _i, p);
		proto_request(p, &px, bodiless[_i].method, t, h, NULL, 0, &r);
		PROTO_INT_EQ(r.status, bodiless[_i].status);
		PROTO_INT_EQ(r.bodylen, 0);
		if (bodiless[_i].length != NULL) {
			PROTO_ASSERT(resp_field(&r, "Content-Length", v,
			    sizeof(v)));
			PROTO_STR_EQ(v, bodiless[_i].length);
		}
		resp_free(&r);
		head = origin_got(&origins[0], bodiless[_i].method, t);
		free(head);
	}
	proxy_stop(&px);
}
END_TEST

/* ---- keep-alive: many requests on one client connection (h2: many
 * streams at once), few backend connections ---- */

/* Counts the distinct "connection" numbers in curl's bodies, one a line;
 * the sum of the "nc=N" lines (curl's new connections) into *CONNECTS. */
static int
distinct_connections(const char *out, int *nbodies, int *connects)
{
	long long ids[64];
	int n = 0, i;
	const char *line;

	*nbodies = 0;
	*connects = 0;
	for (line = out; line != NULL && *line != '\0';
	    line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		/* json_num looks past the line's end: bodies only */
		long long id = line[0] == '{' ? json_num(line, "connection") :
		    -1;

		if (strncmp(line, "nc=", 3) == 0)
			*connects += atoi(line + 3);
		if (id < 0)
			continue;
		(*nbodies)++;
		for (i = 0; i < n && ids[i] != id; i++)
			;
		if (i == n && n < (int)NELEMS(ids))
			ids[n++] = id;
	}
	return n;
}

#define KEEPALIVE_N     50
#define KEEPALIVE_PAR   "10"    /* h2: streams at once */

/* curl for KEEPALIVE_N GETs over P (h2: KEEPALIVE_PAR at once), each
 * followed by a line "nc=N", N the new connections curl made for it;
 * stdout into OUT. */
static void
curl_many(enum proto p, char *out, size_t cap)
{
	static char urls[KEEPALIVE_N][128];
	char *argv[KEEPALIVE_N + 32] = { "/usr/bin/curl", "-s", "--max-time",
	    "60", "-H", HOST_A, "-w", "\nnc=%{num_connects}\n" };
	char base[64], resolve[PROTO_RESOLVE], err[1024];
	size_t n = 8;
	int i, rc;

	if (proto_is_h2(p)) {
		argv[n++] = "--parallel";
		argv[n++] = "--parallel-max";
		argv[n++] = KEEPALIVE_PAR;
	}
	n = proto_curl_args(p, &px, "", argv, n, base, sizeof(base), resolve);
	for (i = 0; i < KEEPALIVE_N; i++) {
		snprintf(urls[i], sizeof(urls[i]), "%s/echo?ka=%d.%s", base, i,
		    proto_names[p]);
		argv[n++] = urls[i];
	}
	argv[n] = NULL;
	rc = run_argv(argv, out, cap, err, sizeof(err), 90000);
	ck_assert_msg(rc == 0, "%s: curl exit %d: %s", proto_where, rc, err);
}

/* h2load for h2c: curl 7.88 fails a second request on a prior-knowledge
 * connection ("Error in the HTTP2 framing layer", curl issue 10634,
 * fixed in 8.0). One client connection (-c 1), KEEPALIVE_PAR streams at
 * once. */
static void
h2load_many(void)
{
	char url[128], n[16], out[8192], err[1024], want[64];
	char *argv[] = { "/usr/bin/h2load", "-n", n, "-c", "1", "-m",
	    KEEPALIVE_PAR, "-H", ":authority: a.test", url, NULL };
	int rc;

	snprintf(n, sizeof(n), "%d", KEEPALIVE_N);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo?ka=h2c", px.port);
	rc = run_argv(argv, out, sizeof(out), err, sizeof(err), 90000);
	ck_assert_msg(rc == 0, "%s: h2load exit %d: %s", proto_where, rc, err);
	snprintf(want, sizeof(want), "status codes: %d 2xx,", KEEPALIVE_N);
	ck_assert_msg(strstr(out, want) != NULL, "%s: %s", proto_where, out);
}

START_TEST(test_keepalive_reuse)
{
	static char out[65536];
	struct stats before, after;
	int nbodies, connects, ids, most;
	enum proto p;

	start_all("");
	for (p = 0; p < P_COUNT; p++) {
		proto_at(p, "%d GETs on one connection", KEEPALIVE_N);
		before = origin_stats(&origins[0]);
		if (p == P_H2C)
			h2load_many();
		else
			curl_many(p, out, sizeof(out));
		after = origin_stats(&origins[0]);
		PROTO_INT_EQ(after.reqs - before.reqs, KEEPALIVE_N);
		/* 2 workers may each open some; h2 has KEEPALIVE_PAR in
		 * flight; +1 is the stats reader's own */
		most = proto_is_h2(p) ? atoi(KEEPALIVE_PAR) : 4;
		ck_assert_msg(after.conns - before.conns <= most + 1, "%s: %ld "
		    "backend connections", proto_where,
		    after.conns - before.conns);
		if (p == P_H2C)
			continue;
		ids = distinct_connections(out, &nbodies, &connects);
		PROTO_INT_EQ(nbodies, KEEPALIVE_N);
		/* one client connection for all of them */
		PROTO_INT_EQ(connects, 1);
		PROTO_ASSERT(ids <= most);
	}
	proxy_stop(&px);
}
END_TEST

/* ======== HTTP/1.1 only ======== */

/* HTTP/1.1 only: pipelining is requests queued on one HTTP/1.1 byte
 * stream; h2 multiplexes instead (test_keepalive_reuse). */
START_TEST(test_pipelining)
{
	struct rawc *c;
	struct resp r;
	struct stats before, after;
	char v[256], want[32];
	int i;

	start_one("");
	before = origin_stats(&origins[0]);
	c = rawc_connect(px.port);
	rawc_sends(c, "GET /echo?n=1 HTTP/1.1\r\nHost: a.test\r\n\r\n"
	    "GET /echo?n=2 HTTP/1.1\r\nHost: a.test\r\n\r\n"
	    "GET /echo?n=3 HTTP/1.1\r\nHost: a.test\r\n\r\n");
	for (i = 1; i <= 3; i++) {
		ck_assert_int_eq(rawc_response(c, &r, false, CLIENT_WAIT_MS),
		    0);
		ck_assert_int_eq(r.status, 200);
		ck_assert(json_str(r.body, "target", v, sizeof(v)));
		snprintf(want, sizeof(want), "/echo?n=%d", i);
		ck_assert_str_eq(v, want);
		resp_free(&r);
	}
	rawc_close(c);
	after = origin_stats(&origins[0]);
	ck_assert_int_eq(after.reqs - before.reqs, 3);
	proxy_stop(&px);
}
END_TEST

/* HTTP/1.1 only: the client holds its body back on the raw connection
 * until it reads 100 Continue; curl sends no Expect over h2.
 * The backend decides on 100 Continue; with a chunked body too: portico
 * gathers a body of unknown length before choosing a backend, but not
 * one the client holds back until it hears 100 Continue (they would wait
 * on each other). */
static const struct {
	const char *framing;    /* the framing field */
	bool is_chunked;
} expects[] = {
	{ "Content-Length: 1000", false },
	{ "Transfer-Encoding: chunked", true },
};

START_TEST(test_expect_continue)
{
	char body[1000], want[65], v[128], head[256];
	struct rawc *c;
	struct resp r;
	int i;

	start_one("");
	c = rawc_connect(px.port);
	snprintf(head, sizeof(head), "POST /echo HTTP/1.1\r\nHost: a.test\r\n"
	    "Expect: 100-continue\r\n%s\r\n\r\n", expects[_i].framing);
	rawc_sends(c, head);
	ck_assert_int_eq(rawc_response(c, &r, false, 5000), 0);
	ck_assert_msg(r.status == 100, "wanted 100 Continue before the body, "
	    "got: %s", r.head);
	resp_free(&r);
	pattern_fill(body, 0, sizeof(body));
	if (expects[_i].is_chunked)
		rawc_sends(c, "3e8\r\n");
	rawc_send(c, body, sizeof(body));
	if (expects[_i].is_chunked)
		rawc_sends(c, "\r\n0\r\n\r\n");
	/* more 1xx may come (RFC 9110 §15.2); the final one is the 200 */
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(rawc_response(c, &r, false, CLIENT_WAIT_MS),
		    0);
		if (r.status >= 200)
			break;
		resp_free(&r);
	}
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(json_num(r.body, "body_length"), 1000);
	ck_assert(json_str(r.body, "body_sha256", v, sizeof(v)));
	sha256_hex(body, sizeof(body), want);
	ck_assert_str_eq(v, want);
	resp_free(&r);
	rawc_close(c);
	proxy_stop(&px);
}
END_TEST

/* HTTP/1.1 only: that no body bytes follow a HEAD on the same byte
 * stream; h2 frames each response (test_bodiless covers HEAD there). */
START_TEST(test_head_then_get)
{
	struct rawc *c;
	struct resp r;
	char v[256];

	start_one("");
	c = rawc_connect(px.port);
	rawc_sends(c, "HEAD /bytes/1000 HTTP/1.1\r\nHost: a.test\r\n\r\n");
	ck_assert_int_eq(rawc_response(c, &r, true, CLIENT_WAIT_MS), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert(resp_field(&r, "Content-Length", v, sizeof(v)));
	ck_assert_str_eq(v, "1000");
	resp_free(&r);
	rawc_drain(c, 300);
	ck_assert_msg(c->len == 0 && !c->is_eof, "after HEAD: %zu bytes%s",
	    c->len, c->is_eof ? ", then EOF" : "");
	rawc_sends(c, "GET /echo HTTP/1.1\r\nHost: a.test\r\n\r\n");
	ck_assert_int_eq(rawc_response(c, &r, false, CLIENT_WAIT_MS), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert(json_str(r.body, "target", v, sizeof(v)));
	ck_assert_str_eq(v, "/echo");
	resp_free(&r);
	rawc_close(c);
	proxy_stop(&px);
}
END_TEST

/* HTTP/1.0 only: its connection ends after the response. */
START_TEST(test_http10_closes)
{
	struct rawc *c;
	struct resp r;

	start_one("");
	c = rawc_connect(px.port);
	rawc_sends(c, "GET /echo HTTP/1.0\r\nHost: a.test\r\n\r\n");
	ck_assert_int_eq(rawc_response(c, &r, false, CLIENT_WAIT_MS), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert(r.is_complete);
	ck_assert(strstr(r.body, "\"target\":\"/echo\"") != NULL);
	ck_assert_msg(rawc_wait_eof(c, 3000), "HTTP/1.0 connection stayed "
	    "open");
	resp_free(&r);
	rawc_close(c);
	proxy_stop(&px);
}
END_TEST

/* HTTP/1.0 only (h2 always has :authority): an HTTP/1.0 request may
 * lack Host; the backend gets the address the client reached (a
 * listener written ":PORT" names no host of its own, and "Host: :PORT"
 * would be refused by route.c). */
START_TEST(test_http10_without_host)
{
	char want[64], *got;
	struct resp r;

	start_one("");
	rawc_fetch(px.port, "GET /echo HTTP/1.0\r\n\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	snprintf(want, sizeof(want), "GET /echo HTTP/1.1\r\nHost: "
	    "127.0.0.1:%d\r\n", px.port);
	got = origin_received_all(&origins[0], NULL);
	ck_assert_msg(strstr(got, want) != NULL, "origin got:\n%s", got);
	free(got);
	proxy_stop(&px);
}
END_TEST

/* HTTP/1.0 only: keep-alive as 1.0 asks for it. */
START_TEST(test_http10_keepalive)
{
	struct rawc *c;
	struct resp r;
	char v[128];
	int i;

	start_one("");
	c = rawc_connect(px.port);
	for (i = 0; i < 2; i++) {
		rawc_sends(c, "GET /echo HTTP/1.0\r\nHost: a.test\r\n"
		    "Connection: keep-alive\r\n\r\n");
		ck_assert_int_eq(rawc_response(c, &r, false, CLIENT_WAIT_MS),
		    0);
		ck_assert_int_eq(r.status, 200);
		/* RFC 9112 §9.3: a 1.0 client keeps the connection only if
		 * the response says keep-alive; it needs a length too. */
		ck_assert_msg(resp_field(&r, "Connection", v, sizeof(v)) &&
		    strcasestr(v, "keep-alive") != NULL, "head: %s", r.head);
		ck_assert(resp_field(&r, "Content-Length", v, sizeof(v)));
		resp_free(&r);
	}
	rawc_close(c);
	proxy_stop(&px);
}
END_TEST

/* HTTP/1.0 only: a 1.0 client cannot take chunked. */
START_TEST(test_http10_chunked_backend)
{
	char want[1000], v[128];
	struct rawc *c;
	struct resp r;

	start_one("");
	c = rawc_connect(px.port);
	rawc_sends(c, "GET /bytes/1000?chunked=1 HTTP/1.0\r\nHost: a.test"
	    "\r\n\r\n");
	ck_assert_int_eq(rawc_response(c, &r, false, CLIENT_WAIT_MS), 0);
	ck_assert_int_eq(r.status, 200);
	/* RFC 9112 §7: a 1.0 recipient does not know chunked */
	ck_assert_msg(!resp_field(&r, "Transfer-Encoding", v, sizeof(v)),
	    "Transfer-Encoding: %s to an HTTP/1.0 client", v);
	ck_assert(r.is_complete);
	ck_assert_uint_eq(r.bodylen, 1000);
	pattern_fill(want, 0, sizeof(want));
	ck_assert(memcmp(r.body, want, sizeof(want)) == 0);
	resp_free(&r);
	rawc_close(c);
	proxy_stop(&px);
}
END_TEST

/* HTTP/1.1 only: absolute-form is an h1 request line; h2 has :scheme
 * and :authority (routing by :authority: test_routing.c). */
/* RFC 9112 §3.2.2: the target's authority replaces Host. */
static const struct {
	const char *req;
	const char *target;     /* at the origin */
	const char *host;       /* at the origin */
} absolute_cases[] = {
	{ "GET http://a.test/echo HTTP/1.1\r\nHost: a.test\r\n\r\n",
	  "/echo", "a.test" },
	{ "GET http://a.test/echo?q=1 HTTP/1.1\r\nHost: other.test\r\n\r\n",
	  "/echo?q=1", "a.test" },
};

START_TEST(test_absolute_form)
{
	struct resp r;
	char v[256];

	start_one("");
	rawc_fetch(px.port, absolute_cases[_i].req, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(json_str(r.body, "target", v, sizeof(v)));
	ck_assert_str_eq(v, absolute_cases[_i].target);
	ck_assert_int_eq(echo_field(r.body, "Host", v, sizeof(v)), 1);
	ck_assert_str_eq(v, absolute_cases[_i].host);
	resp_free(&r);
	proxy_stop(&px);
}
END_TEST

Suite *
proxy_suite(void)
{
	Suite *s = suite_create("proxy");
	TCase *tc = tcase_create("forwarding");

	/* one set of origins and certificates per TCase: each row marks its
	 * target (proto_mark), so that origin_got finds its own request */
	tcase_add_unchecked_fixture(tc, harness_setup, NULL);
	tcase_add_unchecked_fixture(tc, harness_certs, harness_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_forwarded);
	tcase_add_test(tc, test_forwarded_via);
	tcase_add_test(tc, test_hsts);
	tcase_add_loop_test(tc, test_trusted_proxies, 0,
	    NELEMS(trust_cases));
	tcase_add_loop_test(tc, test_xff_appended, 0, NELEMS(xff_cases));
	tcase_add_loop_test(tc, test_xff_off, 0, NELEMS(xff_off_cases));
	tcase_add_loop_test(tc, test_hop_by_hop_request, 0,
	    NELEMS(hop_cases));
	tcase_add_test(tc, test_hop_by_hop_response);
	tcase_add_test(tc, test_body_length);
	tcase_add_test(tc, test_body_no_length);
	tcase_add_loop_test(tc, test_response_body, 0, NELEMS(resp_cases));
	tcase_add_loop_test(tc, test_bodiless, 0, NELEMS(bodiless));
	tcase_add_test(tc, test_keepalive_reuse);
	suite_add_tcase(s, tc);
	tc = tcase_create("http1");
	tcase_add_unchecked_fixture(tc, harness_setup, harness_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_pipelining);
	tcase_add_loop_test(tc, test_expect_continue, 0, NELEMS(expects));
	tcase_add_test(tc, test_head_then_get);
	tcase_add_test(tc, test_http10_closes);
	tcase_add_test(tc, test_http10_without_host);
	tcase_add_test(tc, test_http10_keepalive);
	tcase_add_test(tc, test_http10_chunked_backend);
	tcase_add_loop_test(tc, test_absolute_form, 0,
	    NELEMS(absolute_cases));
	suite_add_tcase(s, tc);
	return s;
}
