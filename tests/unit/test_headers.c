/* tests/unit/test_headers.c: the translation tables of proxy/headers.h. */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "conf.h"
#include "h2_request.h"
#include "headers.h"
#include "suites.h"

#define MAX_FIELDS 32

/* Row options: which forwarded fields are on, and the client's side. */
#define XFF     0x01            /* x_forwarded_for */
#define XFP     0x02            /* x_forwarded_proto */
#define FWD     0x04            /* forwarded */
#define VIA     0x08            /* via */
#define TLS     0x10            /* the client came over TLS */
#define V6      0x20            /* client address 2001:db8::1 */
#define UNIX    0x40            /* client address "unix" */
#define UPG     0x80            /* upgrade=true */
#define UNTR    0x100           /* not in trusted_proxies */

/* A head parsed from "name: value\n" lines; pseudo-fields set the
 * request line as the HTTP/2 frontend sets it (h2_request_pseudo). The
 * text is copied so fields can point into it. */
struct parsed {
	char *text;
	struct hfield fields[MAX_FIELDS];
	size_t nfields;
	struct h2_request rq;
};

/* "name: value\n"...; one space after the colon is skipped, no more. */
static void
parse(struct parsed *ps, const char *lines)
{
	char *line, *next, *colon;

	memset(ps, 0, sizeof(*ps));
	ps->text = strdup(lines);
	ck_assert_ptr_nonnull(ps->text);
	for (line = ps->text; *line != '\0'; line = next) {
		next = strchr(line, '\n');
		ck_assert_ptr_nonnull(next);
		*next++ = '\0';
		colon = strchr(line + 1, ':');
		ck_assert_ptr_nonnull(colon);
		*colon++ = '\0';
		if (*colon == ' ')
			colon++;
		if (line[0] == ':') {
			h2_request_pseudo(&ps->rq, line, strlen(line), colon,
			    strlen(colon));
			continue;
		}
		ck_assert_uint_lt(ps->nfields, MAX_FIELDS);
		ps->fields[ps->nfields++] = (struct hfield){ line, colon,
		    (uint32_t)strlen(line), (uint32_t)strlen(colon), 0 };
	}
}

/* The contents of B as a NUL-terminated malloc'd string. */
static char *
drain_string(struct evbuffer *b)
{
	size_t len = evbuffer_get_length(b);
	char *s = malloc(len + 1);

	ck_assert_ptr_nonnull(s);
	evbuffer_remove(b, s, len);
	s[len] = '\0';
	return s;
}

static const struct req_case {
	unsigned version;
	unsigned opts;
	enum headers_framing framing;
	uint64_t length;
	const char *in;         /* pseudo-fields and fields, one a line */
	const char *out;        /* the head for the backend; NULL: refused */
} req_cases[] = {
	/* 0: origin-form, the Host field of an h1 request. */
	{ 11, 0, HEADERS_NO_BODY, 0,
	  ":method: GET\n:path: /a?b=1\nHost: x.test\nAccept: */*\n",
	  "GET /a?b=1 HTTP/1.1\r\nHost: x.test\r\nAccept: */*\r\n\r\n" },
	/* 1: Host first whatever its place; names keep their case. */
	{ 11, 0, HEADERS_NO_BODY, 0,
	  ":method: GET\n:path: /\nX-MiXed-Case: v\nhost: x.test\n",
	  "GET / HTTP/1.1\r\nHost: x.test\r\nX-MiXed-Case: v\r\n\r\n" },
	/* 2: the frontend's authority is used and the Host field dropped. */
	{ 11, 0, HEADERS_NO_BODY, 0,
	  ":method: GET\n:path: /\n:authority: a.test:81\nHost: a.test:81\n"
	  "Accept: x\n",
	  "GET / HTTP/1.1\r\nHost: a.test:81\r\nAccept: x\r\n\r\n" },
	/* 3: the fixed hop-by-hop set. */
	{ 11, 0, HEADERS_NO_BODY, 0,
	  ":method: GET\n:path: /\nHost: x.test\nConnection: keep-alive\n"
	  "Keep-Alive: timeout=5\nProxy-Connection: keep-alive\n"
	  "Upgrade: h2c\nHTTP2-Settings: AAMAAABkAAQAAP__\nA: 1\n",
	  "GET / HTTP/1.1\r\nHost: x.test\r\nA: 1\r\n\r\n" },
	/* 4: TE goes; Trailer is end-to-end and stays. */
	{ 11, 0, HEADERS_NO_BODY, 0,
	  ":method: GET\n:path: /\nHost: x.test\nTE: trailers\n"
	  "Trailer: X-Sum\n",
	  "GET / HTTP/1.1\r\nHost: x.test\r\nTrailer: X-Sum\r\n\r\n" },
	/* 5: fields named in Connection, any case, OWS, several fields. */
	{ 11, 0, HEADERS_NO_BODY, 0,
	  ":method: GET\n:path: /\nHost: x.test\nConnection: close, X-A\n"
	  "X-A: 1\nconnection:  x-b ,\tX-C\t\nx-b: 2\nX-C: 3\nX-D: 4\n",
	  "GET / HTTP/1.1\r\nHost: x.test\r\nX-D: 4\r\n\r\n" },
	/* 6: a token only prefixes a name: not a match. */
	{ 11, 0, HEADERS_NO_BODY, 0,
	  ":method: GET\n:path: /\nHost: x.test\nConnection: x\nX-Y: 1\n",
	  "GET / HTTP/1.1\r\nHost: x.test\r\nX-Y: 1\r\n\r\n" },
	/* 7: the client's length is replaced by the framing asked for. */
	{ 11, 0, HEADERS_LENGTH, 5,
	  ":method: POST\n:path: /up\nHost: x.test\nContent-Length: 7\n"
	  "Content-Type: text/plain\n",
	  "POST /up HTTP/1.1\r\nHost: x.test\r\nContent-Type: text/plain\r\n"
	  "Content-Length: 5\r\n\r\n" },
	/* 8: chunked framing; the client's Transfer-Encoding is hop-by-hop. */
	{ 11, 0, HEADERS_CHUNKED, 0,
	  ":method: POST\n:path: /up\nHost: x.test\n"
	  "Transfer-Encoding: gzip, chunked\n",
	  "POST /up HTTP/1.1\r\nHost: x.test\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n" },
	/* 9: a zero length is still a length. */
	{ 11, 0, HEADERS_LENGTH, 0,
	  ":method: PUT\n:path: /\nHost: x.test\n",
	  "PUT / HTTP/1.1\r\nHost: x.test\r\nContent-Length: 0\r\n\r\n" },
	/* 10: absolute-form: path kept, its authority beats Host. */
	{ 11, 0, HEADERS_NO_BODY, 0,
	  ":method: GET\n:path: http://a.test:8080/p/q?x=1\nHost: b.test\n",
	  "GET /p/q?x=1 HTTP/1.1\r\nHost: a.test:8080\r\n\r\n" },
	/* 11: absolute-form with an empty path. */
	{ 11, 0, HEADERS_NO_BODY, 0,
	  ":method: GET\n:path: https://a.test\n",
	  "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n" },
	/* 12: absolute-form with only a query; scheme case ignored. */
	{ 11, 0, HEADERS_NO_BODY, 0,
	  ":method: GET\n:path: HTTP://[2001:db8::1]:80?q\n",
	  "GET /?q HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n\r\n" },
	/* 13: asterisk-form for OPTIONS. */
	{ 11, 0, HEADERS_NO_BODY, 0,
	  ":method: OPTIONS\n:path: *\nHost: x.test\n",
	  "OPTIONS * HTTP/1.1\r\nHost: x.test\r\n\r\n" },
	/* 14: X-Forwarded-For added. */
	{ 11, XFF, HEADERS_NO_BODY, 0,
	  ":method: GET\n:path: /\nHost: x.test\nA: 1\n",
	  "GET / HTTP/1.1\r\nHost: x.test\r\nA: 1\r\n"
	  "X-Forwarded-For: 192.0.2.1\r\n\r\n" },
	/* 15: merged after the client's values, each trimmed. */
	{ 11, XFF, HEADERS_NO_BODY, 0,
	  ":method: GET\n:path: /\nHost: x.test\nX-Forwarded-For: 10.0.0.1\n"
	  "A: 1\nx-forwarded-for:  10.0.0.2, 10.0.0.3 \nX-Forwarded-For: \n",
	  "GET / HTTP/1.1\r\nHost: x.test\r\nA: 1\r\n"
	  "X-Forwarded-For: 10.0.0.1, 10.0.0.2, 10.0.0.3, 192.0.2.1\r\n"
	  "\r\n" },
	/* 16: off: the client's passes untouched, in place. */
	{ 11, 0, HEADERS_NO_BODY, 0,
	  ":method: GET\n:path: /\nHost: x.test\nX-Forwarded-For: 10.0.0.1\n"
	  "A: 1\n",
	  "GET / HTTP/1.1\r\nHost: x.test\r\nX-Forwarded-For: 10.0.0.1\r\n"
	  "A: 1\r\n\r\n" },
	/* 17: a client cannot strip ours by naming it in Connection. */
	{ 11, XFF, HEADERS_NO_BODY, 0,
	  ":method: GET\n:path: /\nHost: x.test\n"
	  "Connection: X-Forwarded-For\nX-Forwarded-For: 6.6.6.6\n",
	  "GET / HTTP/1.1\r\nHost: x.test\r\n"
	  "X-Forwarded-For: 192.0.2.1\r\n\r\n" },
	/* 18: X-Forwarded-Proto replaced. */
	{ 11, XFP, HEADERS_NO_BODY, 0,
	  ":method: GET\n:path: /\nHost: x.test\nX-Forwarded-Proto: https\n",
	  "GET / HTTP/1.1\r\nHost: x.test\r\nX-Forwarded-Proto: http\r\n\r\n" },
	/* 19: over TLS. */
	{ 11, XFP | TLS, HEADERS_NO_BODY, 0,
	  ":method: GET\n:path: /\nHost: x.test\n",
	  "GET / HTTP/1.1\r\nHost: x.test\r\nX-Forwarded-Proto: https\r\n"
	  "\r\n" },
	/* 20: off: the client's passes. */
	{ 11, XFF, HEADERS_NO_BODY, 0,
	  ":method: GET\n:path: /\nHost: x.test\nX-Forwarded-Proto: gopher\n",
	  "GET / HTTP/1.1\r\nHost: x.test\r\nX-Forwarded-Proto: gopher\r\n"
	  "X-Forwarded-For: 192.0.2.1\r\n\r\n" },
	/* 21: Forwarded, IPv4. */
	{ 11, FWD, HEADERS_NO_BODY, 0,
	  ":method: GET\n:path: /\nHost: x.test\n",
	  "GET / HTTP/1.1\r\nHost: x.test\r\n"
	  "Forwarded: for=192.0.2.1;proto=http\r\n\r\n" },
	/* 22: RFC 7239 §6: IPv6 quoted and bracketed, after existing ones. */
	{ 20, FWD | TLS | V6, HEADERS_NO_BODY, 0,
	  ":method: GET\n:path: /\n:authority: x.test\n"
	  "forwarded: for=198.51.100.17\n",
	  "GET / HTTP/1.1\r\nHost: x.test\r\nForwarded: for=198.51.100.17, "
	  "for=\"[2001:db8::1]\";proto=https\r\n\r\n" },
	/* 23: a unix-socket client. */
	{ 11, XFF | FWD | UNIX, HEADERS_NO_BODY, 0,
	  ":method: GET\n:path: /\nHost: x.test\n",
	  "GET / HTTP/1.1\r\nHost: x.test\r\nX-Forwarded-For: unix\r\n"
	  "Forwarded: for=unknown;proto=http\r\n\r\n" },
	/* 24: off: the client's Forwarded passes. */
	{ 11, 0, HEADERS_NO_BODY, 0,
	  ":method: GET\n:path: /\nHost: x.test\nForwarded: for=a\n",
	  "GET / HTTP/1.1\r\nHost: x.test\r\nForwarded: for=a\r\n\r\n" },
	/* 24b: an untrusted client's X-Forwarded-For and Forwarded are
	 * gone: ours alone, and none when forwarded is off. */
	{ 11, XFF | UNTR, HEADERS_NO_BODY, 0,
	  ":method: GET\n:path: /\nHost: x.test\nX-Forwarded-For: 6.6.6.6\n"
	  "Forwarded: for=6.6.6.6\nx-forwarded-for: 7.7.7.7\n",
	  "GET / HTTP/1.1\r\nHost: x.test\r\nX-Forwarded-For: 192.0.2.1\r\n"
	  "\r\n" },
	{ 11, FWD | UNTR, HEADERS_NO_BODY, 0,
	  ":method: GET\n:path: /\nHost: x.test\nX-Forwarded-For: 6.6.6.6\n"
	  "Forwarded: for=6.6.6.6\n",
	  "GET / HTTP/1.1\r\nHost: x.test\r\n"
	  "Forwarded: for=192.0.2.1;proto=http\r\n\r\n" },
	/* 25: Via appended. */
	{ 11, VIA, HEADERS_NO_BODY, 0,
	  ":method: GET\n:path: /\nHost: x.test\nVia: 1.0 fred\n",
	  "GET / HTTP/1.1\r\nHost: x.test\r\nVia: 1.0 fred, 1.1 portico\r\n"
	  "\r\n" },
	/* 26: RFC 9110 §7.6.3: Via names the version received. */
	{ 20, VIA, HEADERS_NO_BODY, 0,
	  ":method: GET\n:path: /\n:authority: x.test\n",
	  "GET / HTTP/1.1\r\nHost: x.test\r\nVia: 2 portico\r\n\r\n" },
	{ 10, VIA, HEADERS_NO_BODY, 0,
	  ":method: GET\n:path: /\nHost: x.test\n",
	  "GET / HTTP/1.1\r\nHost: x.test\r\nVia: 1.0 portico\r\n\r\n" },
	/* 28: off: the client's Via passes. */
	{ 11, 0, HEADERS_NO_BODY, 0,
	  ":method: GET\n:path: /\nHost: x.test\nVia: 1.1 a\n",
	  "GET / HTTP/1.1\r\nHost: x.test\r\nVia: 1.1 a\r\n\r\n" },
	/* 29: RFC 9113 §8.2.3: h2 cookie crumbs joined, at the first. */
	{ 20, 0, HEADERS_NO_BODY, 0,
	  ":method: GET\n:path: /\n:authority: x.test\ncookie: a=1\n"
	  "accept: */*\ncookie: b=2\ncookie: c=3\n",
	  "GET / HTTP/1.1\r\nHost: x.test\r\nCookie: a=1; b=2; c=3\r\n"
	  "accept: */*\r\n\r\n" },
	/* 30: h1 cookies pass as they are. */
	{ 11, 0, HEADERS_NO_BODY, 0,
	  ":method: GET\n:path: /\nHost: x.test\nCookie: a=1\nCookie: b=2\n",
	  "GET / HTTP/1.1\r\nHost: x.test\r\nCookie: a=1\r\nCookie: b=2\r\n"
	  "\r\n" },
	/* 31: h2 body without a length goes chunked; te dropped. */
	{ 20, 0, HEADERS_CHUNKED, 0,
	  ":method: POST\n:path: /up\n:authority: x.test\nte: trailers\n"
	  "content-type: a/b\n",
	  "POST /up HTTP/1.1\r\nHost: x.test\r\ncontent-type: a/b\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n" },
	/* 32: WebSocket: ours replace the client's Connection/Upgrade. */
	{ 11, UPG, HEADERS_NO_BODY, 0,
	  ":method: GET\n:path: /ws\nHost: x.test\nConnection: Upgrade\n"
	  "Upgrade: websocket\nSec-WebSocket-Key: dGhlIHNhbXBsZQ==\n"
	  "Sec-WebSocket-Version: 13\n",
	  "GET /ws HTTP/1.1\r\nHost: x.test\r\n"
	  "Sec-WebSocket-Key: dGhlIHNhbXBsZQ==\r\n"
	  "Sec-WebSocket-Version: 13\r\n"
	  "Connection: upgrade\r\nUpgrade: websocket\r\n\r\n" },
	/* 33: all on: the order of what portico adds. */
	{ 11, XFF | XFP | FWD | VIA | UPG, HEADERS_LENGTH, 3,
	  ":method: POST\n:path: /\nHost: x.test\n",
	  "POST / HTTP/1.1\r\nHost: x.test\r\nX-Forwarded-For: 192.0.2.1\r\n"
	  "X-Forwarded-Proto: http\r\nForwarded: for=192.0.2.1;proto=http\r\n"
	  "Via: 1.1 portico\r\nContent-Length: 3\r\n"
	  "Connection: upgrade\r\nUpgrade: websocket\r\n\r\n" },
	/* 34: the value is sent as received, inner and outer spaces kept. */
	{ 11, 0, HEADERS_NO_BODY, 0,
	  ":method: GET\n:path: /\nHost: x.test\nX-S:  a  b \n",
	  "GET / HTTP/1.1\r\nHost: x.test\r\nX-S:  a  b \r\n\r\n" },
};

/* Refused requests: OUT must stay empty. */
static const struct {
	const char *in;
	const char *why;
} req_refused[] = {
	{ ":method: GET\n:path: *\nHost: x.test\n", "bad request target" },
	{ ":method: GET\n:path: a/b\nHost: x.test\n", "bad request target" },
	{ ":method: GET\n:path: /a b\nHost: x.test\n", "bad request target" },
	{ ":method: GET\n:path: /a\rb\nHost: x.test\n", "bad request target" },
	{ ":method: GET\n:path: http:/a\n", "bad request target" },
	{ ":method: GET\n:path: http:///a\n", "bad request target" },
	{ ":method: GET\n:path: http://u@a.test/\n", "bad request target" },
	{ ":method: GET\n:path: /\n", "missing host" },
	{ ":method: GET\n:path: /\nHost: a.test\nhost: b.test\n",
	  "multiple host fields" },
	{ ":method: GET\n:path: /\nHost: \n", "invalid host" },
	{ ":method: GET\n:path: /\n:authority: a.test\rX: y\n",
	  "invalid host" },
	{ ":method: G@T\n:path: /\nHost: x.test\n", "bad method" },
	{ ":method: GET\n:path: /\nHost: x.test\nBad Name: x\n",
	  "invalid field name" },
	{ ":method: GET\n:path: /\nHost: x.test\nX: a\rb\n",
	  "invalid character in field value" },
};

/* Runs headers_write_request() for row C; NULL and *why if refused. */
static char *
translate(const struct req_case *c, const char *in, const char **why)
{
	struct parsed ps;
	struct req_head h;
	struct conf cf;
	struct fwd_info fwd = { .client_addr = "192.0.2.1", .is_tls = false };
	struct evbuffer *out = evbuffer_new();
	char *got = NULL;
	unsigned opts = c != NULL ? c->opts : 0;

	ck_assert_ptr_nonnull(out);
	parse(&ps, in);
	memset(&h, 0, sizeof(h));
	h.method = ps.rq.req.method;
	h.methodlen = ps.rq.req.methodlen;
	h.target = ps.rq.req.target;
	h.targetlen = ps.rq.req.targetlen;
	h.authority = ps.rq.req.authority;
	h.authoritylen = ps.rq.req.authoritylen;
	h.version = c != NULL ? c->version : 11;
	h.fields = ps.fields;
	h.nfields = ps.nfields;
	h.content_length = -1;
	memset(&cf, 0, sizeof(cf));
	cf.x_forwarded_for = (opts & XFF) != 0;
	cf.x_forwarded_proto = (opts & XFP) != 0;
	cf.forwarded = (opts & FWD) != 0;
	cf.via = (opts & VIA) != 0;
	fwd.is_tls = (opts & TLS) != 0;
	if (opts & V6)
		fwd.client_addr = "2001:db8::1";
	if (opts & UNIX)
		fwd.client_addr = "unix";
	fwd.drops_forwarded = (opts & UNTR) != 0;
	if (headers_write_request(out, &h, &fwd, &cf,
	    c != NULL ? c->framing : HEADERS_NO_BODY, c != NULL ? c->length : 0,
	    (opts & UPG) != 0, why) == 0) {
		got = drain_string(out);
		ck_assert_int_eq(headers_check_request(&h, why), 0);
	} else {
		const char *first = *why;

		ck_assert_uint_eq(evbuffer_get_length(out), 0);
		/* the check before a connect refuses it alike */
		ck_assert_int_eq(headers_check_request(&h, why), -1);
		ck_assert_str_eq(*why, first);
	}
	evbuffer_free(out);
	free(ps.text);
	return got;
}

START_TEST(test_headers_request)
{
	const struct req_case *c = &req_cases[_i];
	const char *why = NULL;
	char *got = translate(c, c->in, &why);

	ck_assert_msg(got != NULL, "row %d refused: %s", _i, why);
	ck_assert_str_eq(got, c->out);
	free(got);
}
END_TEST

START_TEST(test_headers_request_refused)
{
	const char *why = NULL;
	char *got = translate(NULL, req_refused[_i].in, &why);

	ck_assert_msg(got == NULL, "row %d accepted: %s", _i, got);
	ck_assert_str_eq(why, req_refused[_i].why);
}
END_TEST

/* An h2 frontend may leave pseudo-headers in the list: never forwarded. */
START_TEST(test_headers_request_pseudo_dropped)
{
	struct hfield f[] = {
		{ ":method", "GET", 7, 3, 0 }, { ":path", "/", 5, 1, 0 },
		{ "accept", "a", 6, 1, 0 },
	};
	struct req_head h = { .method = "GET", .methodlen = 3, .target = "/",
	    .targetlen = 1, .authority = "x.test", .authoritylen = 6,
	    .version = 20, .fields = f, .nfields = 3, .content_length = -1 };
	struct evbuffer *out = evbuffer_new();
	const char *why;
	char *got;

	ck_assert_int_eq(headers_write_request(out, &h, NULL, NULL,
	    HEADERS_NO_BODY, 0, false, &why), 0);
	got = drain_string(out);
	ck_assert_str_eq(got,
	    "GET / HTTP/1.1\r\nHost: x.test\r\naccept: a\r\n\r\n");
	free(got);
	evbuffer_free(out);
}
END_TEST

static const struct {
	int status;
	const char *reason;
	unsigned client_version;
	enum headers_framing framing;
	uint64_t length;
	bool keepalive;
	const char *fields;
	const char *out;
} resp_cases[] = {
	{ 200, "OK", 11, HEADERS_LENGTH, 5, true,
	  "Content-Type: text/html\nContent-Length: 5\n",
	  "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
	  "Content-Length: 5\r\n\r\n" },
	/* hop-by-hop and the backend's length dropped; ours written. */
	{ 200, "OK", 11, HEADERS_CHUNKED, 0, true,
	  "Connection: keep-alive, X-Hop\nKeep-Alive: timeout=5\nX-Hop: 1\n"
	  "Transfer-Encoding: chunked\nContent-Length: 99\nTrailer: X-Sum\n"
	  "ETag: \"x\"\n",
	  "HTTP/1.1 200 OK\r\nTrailer: X-Sum\r\nETag: \"x\"\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n" },
	{ 200, "OK", 11, HEADERS_LENGTH, 2, false, "",
	  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n"
	  "\r\n" },
	/* RFC 9110 §2.5: "HTTP/1.1" to a 1.0 client too. */
	{ 200, "OK", 10, HEADERS_LENGTH, 2, true, "",
	  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
	  "Connection: keep-alive\r\n\r\n" },
	{ 200, "OK", 10, HEADERS_UNTIL_CLOSE, 0, false, "",
	  "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" },
	{ 404, "", 11, HEADERS_LENGTH, 0, true, "",
	  "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n" },
	{ 200, "Fine Thanks", 11, HEADERS_LENGTH, 0, true, "",
	  "HTTP/1.1 200 Fine Thanks\r\nContent-Length: 0\r\n\r\n" },
	/* a reason that could split the response is replaced. */
	{ 200, "OK\r\nX: y", 11, HEADERS_LENGTH, 0, true, "",
	  "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" },
	/* HEAD or 304: the caller passes the backend's length. */
	{ 304, "Not Modified", 11, HEADERS_LENGTH, 1234, true,
	  "Content-Length: 1234\nETag: \"e\"\n",
	  "HTTP/1.1 304 Not Modified\r\nETag: \"e\"\r\n"
	  "Content-Length: 1234\r\n\r\n" },
	{ 204, "No Content", 11, HEADERS_NO_BODY, 0, true, "Date: d\n",
	  "HTTP/1.1 204 No Content\r\nDate: d\r\n\r\n" },
	/* a field the backend should never have sent is dropped. */
	{ 200, "OK", 11, HEADERS_LENGTH, 0, true, "X-Bad: a\rb\nX-Ok: 1\n",
	  "HTTP/1.1 200 OK\r\nX-Ok: 1\r\nContent-Length: 0\r\n\r\n" },
	/* 1xx: no framing, nothing about the connection. */
	{ 103, "Early Hints", 11, HEADERS_LENGTH, 9, false,
	  "Link: </s.css>; rel=preload\n",
	  "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n" },
	{ 101, "Switching Protocols", 11, HEADERS_NO_BODY, 0, false,
	  "Upgrade: websocket\nConnection: Upgrade\n"
	  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\n",
	  "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
	  "Connection: upgrade\r\n\r\n" },
};

START_TEST(test_headers_response)
{
	struct parsed ps;
	struct resp_head r;
	struct evbuffer *out = evbuffer_new();
	char *got;

	ck_assert_ptr_nonnull(out);
	parse(&ps, resp_cases[_i].fields);
	memset(&r, 0, sizeof(r));
	r.status = resp_cases[_i].status;
	r.reason = resp_cases[_i].reason;
	r.reasonlen = (uint32_t)strlen(r.reason);
	r.version = 11;
	r.fields = ps.fields;
	r.nfields = ps.nfields;
	r.content_length = -1;
	headers_write_response(out, &r, resp_cases[_i].client_version,
	    resp_cases[_i].framing, resp_cases[_i].length,
	    resp_cases[_i].keepalive, &(struct resp_adds){ false, NULL });
	got = drain_string(out);
	ck_assert_str_eq(got, resp_cases[_i].out);
	free(got);
	free(ps.text);
	evbuffer_free(out);
}
END_TEST

static const struct {
	int status;
	bool keepalive;
	const char *out;
} err_cases[] = {
	{ 502, false, "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\n"
	  "Content-Length: 16\r\nConnection: close\r\n\r\n502 Bad Gateway\n" },
	{ 404, true, "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n"
	  "Content-Length: 14\r\n\r\n404 Not Found\n" },
	{ 599, true, "HTTP/1.1 599 Unknown\r\nContent-Type: text/plain\r\n"
	  "Content-Length: 12\r\n\r\n599 Unknown\n" },
	{ 42, true, "HTTP/1.1 500 Internal Server Error\r\n"
	  "Content-Type: text/plain\r\nContent-Length: 26\r\n\r\n"
	  "500 Internal Server Error\n" },
};

START_TEST(test_headers_error)
{
	struct evbuffer *out = evbuffer_new();
	char *got;

	ck_assert_ptr_nonnull(out);
	headers_write_error(out, err_cases[_i].status, err_cases[_i].keepalive,
	    NULL);
	got = drain_string(out);
	ck_assert_str_eq(got, err_cases[_i].out);
	free(got);
	evbuffer_free(out);
}
END_TEST

START_TEST(test_headers_reason)
{
	ck_assert_str_eq(headers_reason(200), "OK");
	ck_assert_str_eq(headers_reason(308), "Permanent Redirect");
	ck_assert_str_eq(headers_reason(421), "Misdirected Request");
	ck_assert_str_eq(headers_reason(431),
	    "Request Header Fields Too Large");
	ck_assert_str_eq(headers_reason(511),
	    "Network Authentication Required");
	ck_assert_str_eq(headers_reason(299), "Unknown");
	ck_assert_str_eq(headers_reason(-1), "Unknown");
}
END_TEST

/* Literal name and value, NULs included. */
#define F(n, v) { n, v, sizeof(n) - 1, sizeof(v) - 1, 0 }

static const struct {
	struct hfield f;
	const char *why;        /* NULL: accepted */
} check_cases[] = {
	{ F("X-Ok", "a b\tc"), NULL },
	{ F("!#$%&'*+-.^_`|~09az", "v"), NULL },
	{ F("X", ""), NULL },
	{ F("X", " padded\t"), NULL },
	{ F("X", "caf\xc3\xa9"), NULL },                /* obs-text */
	{ F("", "v"), "invalid field name" },
	{ F("X Y", "v"), "invalid field name" },
	{ F("X:", "v"), "invalid field name" },
	{ F(":path", "/"), "invalid field name" },
	{ F("X\r\nY", "v"), "invalid field name" },
	{ F("X(", "v"), "invalid field name" },
	{ F("caf\xc3\xa9", "v"), "invalid field name" },
	{ F("X", "a\rb"), "invalid character in field value" },
	{ F("X", "a\nb"), "invalid character in field value" },
	{ F("X", "a\0b"), "invalid character in field value" },
	{ F("X", "a\x01"), "invalid character in field value" },
	{ F("X", "\x7f"), "invalid character in field value" },
	{ F("X", "a\x1b[0m"), "invalid character in field value" },
};

START_TEST(test_headers_check_field)
{
	const char *why = NULL;
	int rc = headers_check_field(&check_cases[_i].f, &why);

	if (check_cases[_i].why == NULL) {
		ck_assert_msg(rc == 0, "row %d refused: %s", _i, why);
	} else {
		ck_assert_int_eq(rc, -1);
		ck_assert_str_eq(why, check_cases[_i].why);
	}
}
END_TEST

/* Every byte value at every offset of a 19-byte value (two words and a
 * tail for the word-at-a-time check), against the byte rule of RFC 9110
 * §5.5, in a value of obs-text and in one of plain text. */
START_TEST(test_headers_field_text_every_byte)
{
	char v[19];
	struct hfield f = { .name = "X", .namelen = 1, .value = v,
	    .valuelen = sizeof(v) };
	const char *why;
	unsigned c, at;
	bool ok;

	for (c = 0; c < 256; c++)
		for (at = 0; at < sizeof(v); at++) {
			memset(v, _i == 0 ? 'a' : '\x80', sizeof(v));
			v[at] = (char)c;
			ok = (c >= 0x20 || c == '\t') && c != 0x7f;
			ck_assert_msg((headers_check_field(&f, &why) == 0) == ok,
			    "byte 0x%02x at %u", c, at);
		}
}
END_TEST

static const struct {
	const char *fields;
	const char *name;
	const char *token;
	bool has;
} token_cases[] = {
	{ "Connection: close\n", "connection", "close", true },
	{ "Connection: Close\n", "connection", "close", true },
	{ "connection: keep-alive,  CLOSE \t\n", "connection", "close", true },
	{ "Connection: keep-alive\nConnection: close\n", "connection",
	  "close", true },
	{ "Connection: ,, close ,\n", "connection", "close", true },
	{ "Connection: closed\n", "connection", "close", false },
	{ "Connection: xclose\n", "connection", "close", false },
	{ "Connection: clo se\n", "connection", "close", false },
	{ "Connection: \n", "connection", "close", false },
	{ "X-Connection: close\n", "connection", "close", false },
	{ "", "connection", "close", false },
	{ "Transfer-Encoding: gzip, chunked\n", "transfer-encoding",
	  "chunked", true },
	{ "Upgrade: WebSocket\n", "upgrade", "websocket", true },
	{ "Expect: 100-continue\n", "expect", "100-continue", true },
};

START_TEST(test_headers_has_token)
{
	struct parsed ps;

	parse(&ps, token_cases[_i].fields);
	ck_assert_msg(headers_has_token(ps.fields, ps.nfields,
	    token_cases[_i].name, token_cases[_i].token) == token_cases[_i].has,
	    "row %d", _i);
	free(ps.text);
}
END_TEST

/* via on: the response gets portico's entry after the backend's own Via
 * lines (their order is the chain's), with the version it came in. */
START_TEST(test_headers_response_via)
{
	struct hfield f[] = { F("Via", "1.0 origin"), F("X-A", "1") };
	struct resp_head r = { .version = _i == 0 ? 11 : 10, .status = 200,
	    .fields = f, .nfields = 2 };
	struct evbuffer *out = evbuffer_new();
	char *got;

	headers_write_response(out, &r, 11, HEADERS_LENGTH, 0, true,
	    &(struct resp_adds){ true, NULL });
	got = drain_string(out);
	ck_assert_msg(strstr(got, _i == 0 ? "Via: 1.0 origin\r\nX-A: 1\r\n"
	    "Via: 1.1 portico\r\n" : "Via: 1.0 origin\r\nX-A: 1\r\n"
	    "Via: 1.0 portico\r\n") != NULL, "%s", got);
	free(got);
	evbuffer_free(out);
}
END_TEST

/* hsts: on a final response the backend sent none on, after its fields;
 * never on a 1xx; a backend's own (any case) is kept and not doubled;
 * portico's error responses carry it too. */
START_TEST(test_headers_response_hsts)
{
	static const char sts[] = "max-age=31536000; includeSubDomains";
	struct hfield own[] = { F("strict-transport-Security", "max-age=5") };
	struct hfield f[] = { F("X-A", "1") };
	const struct resp_adds adds = { false, sts };
	struct resp_head r = { .version = 11, .status = 200, .fields = f,
	    .nfields = 1 };
	struct evbuffer *out = evbuffer_new();
	char *got;

	headers_write_response(out, &r, 11, HEADERS_LENGTH, 0, true, &adds);
	got = drain_string(out);
	ck_assert_msg(strstr(got, "X-A: 1\r\nStrict-Transport-Security: "
	    "max-age=31536000; includeSubDomains\r\n") != NULL, "%s", got);
	free(got);
	r.status = 103;
	headers_write_response(out, &r, 11, HEADERS_NO_BODY, 0, true, &adds);
	got = drain_string(out);
	ck_assert_msg(strstr(got, "Strict") == NULL, "%s", got);
	free(got);
	r.status = 200;
	r.fields = own;
	headers_write_response(out, &r, 11, HEADERS_LENGTH, 0, true, &adds);
	got = drain_string(out);
	ck_assert_msg(strstr(got, "strict-transport-Security: max-age=5\r\n") !=
	    NULL && strstr(got, "Strict-Transport") == NULL, "%s", got);
	free(got);
	headers_write_error(out, 502, false, sts);
	got = drain_string(out);
	ck_assert_msg(strstr(got, "\r\nStrict-Transport-Security: max-age="
	    "31536000; includeSubDomains\r\n") != NULL, "%s", got);
	free(got);
	evbuffer_free(out);
}
END_TEST

/* Each known name, in any case, and near misses of the same length and
 * first byte (the classifier looks at those first). */
static const struct {
	const char *name;
	uint8_t kind;
} classify_cases[] = {
	{ "host", HF_HOST }, { "HOST", HF_HOST }, { "hosT", HF_HOST },
	{ "connection", HF_CONNECTION }, { "Connection", HF_CONNECTION },
	{ "keep-alive", HF_KEEP_ALIVE }, { "Keep-Alive", HF_KEEP_ALIVE },
	{ "proxy-connection", HF_PROXY_CONNECTION }, { "TE", HF_TE },
	{ "te", HF_TE }, { "transfer-encoding", HF_TRANSFER_ENCODING },
	{ "Transfer-Encoding", HF_TRANSFER_ENCODING },
	{ "upgrade", HF_UPGRADE }, { "http2-settings", HF_HTTP2_SETTINGS },
	{ "HTTP2-Settings", HF_HTTP2_SETTINGS },
	{ "content-length", HF_CONTENT_LENGTH },
	{ "Content-Length", HF_CONTENT_LENGTH }, { "expect", HF_EXPECT },
	{ "cookie", HF_COOKIE }, { "Cookie", HF_COOKIE },
	{ "x-forwarded-for", HF_X_FORWARDED_FOR },
	{ "X-Forwarded-Proto", HF_X_FORWARDED_PROTO },
	{ "forwarded", HF_FORWARDED }, { "via", HF_VIA }, { "Via", HF_VIA },
	{ "referer", HF_REFERER }, { "user-agent", HF_USER_AGENT },
	{ "User-Agent", HF_USER_AGENT },
	{ "", HF_OTHER }, { "t", HF_OTHER }, { "tf", HF_OTHER },
	{ "hosts", HF_OTHER }, { "hos", HF_OTHER }, { "hozt", HF_OTHER },
	{ "connectiom", HF_OTHER }, { "keep-alivf", HF_OTHER },
	{ "user-agenu", HF_OTHER }, { "xonnection", HF_OTHER },
	{ "cookiez", HF_OTHER }, { "expecz", HF_OTHER }, { "cookif", HF_OTHER },
	{ "upgradf", HF_OTHER }, { "referex", HF_OTHER },
	{ "content-lengtx", HF_OTHER }, { "http2-settingz", HF_OTHER },
	{ "transfer-encodinh", HF_OTHER }, { "x-forwarded-prot0", HF_OTHER },
	{ "x-forwarded-fox", HF_OTHER }, { "proxy-connectiom", HF_OTHER },
	{ "forwardef", HF_OTHER }, { "vi\xe1", HF_OTHER },
	{ "ho\x01t", HF_OTHER }, { "content-type", HF_OTHER },
	{ "date", HF_OTHER }, { "server", HF_OTHER },
};

START_TEST(test_headers_classify)
{
	const char *name = classify_cases[_i].name;

	ck_assert_msg(headers_classify(name, strlen(name)) ==
	    classify_cases[_i].kind, "row %d: %s", _i, name);
}
END_TEST

START_TEST(test_headers_find_and_hop)
{
	struct parsed ps;
	const struct hfield *f;

	parse(&ps, "Host: a\nCONNECTION: x-a\nX-A: 1\nTrailer: t\nte: x\n"
	    "x-b: 2\n");
	f = headers_find(ps.fields, ps.nfields, "connection");
	ck_assert_ptr_eq(f, &ps.fields[1]);
	ck_assert_ptr_null(headers_find(ps.fields, ps.nfields, "cookie"));
	ck_assert(headers_name_is(&ps.fields[0], "host"));
	ck_assert(!headers_name_is(&ps.fields[0], "hos"));
	ck_assert(headers_is_hop_by_hop(ps.fields, ps.nfields, &ps.fields[1]));
	ck_assert(headers_is_hop_by_hop(ps.fields, ps.nfields, &ps.fields[2]));
	ck_assert(!headers_is_hop_by_hop(ps.fields, ps.nfields,
	    &ps.fields[3]));
	ck_assert(headers_is_hop_by_hop(ps.fields, ps.nfields, &ps.fields[4]));
	ck_assert(!headers_is_hop_by_hop(ps.fields, ps.nfields,
	    &ps.fields[5]));
	free(ps.text);
}
END_TEST

/* RFC 9110 §6.5.1: what a trailer section may carry across. OTHERS are
 * the rest of the section (a Connection there names fields), FIELD is the
 * one asked about. */
static const struct {
	const char *others;
	const char *field;
	bool is_allowed;
} trailer_cases[] = {
	{ "", "X-Checksum: abc", true },
	{ "", "grpc-status: 0", true },
	{ "", "Server-Timing: db;dur=53", true },
	{ "", "Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==", true },
	{ "", "Trailer: X-Checksum", true },
	{ "", "Host: evil.test", false },
	{ "", "Cookie: session=stolen", false },
	{ "", "Set-Cookie: a=1", false },
	{ "", "Authorization: Basic YTpi", false },
	{ "", "Authorization-Hint: x", true },
	{ "", "HOST: evil.test", false },
	{ "", "Content-Length: 5", false },
	{ "", "content-length: 5", false },
	{ "", "Transfer-Encoding: chunked", false },
	{ "", "X-Forwarded-For: 10.0.0.1", false },
	{ "", "X-Forwarded-Proto: https", false },
	{ "", "X-Forwarded-Host: evil.test", false },
	{ "", "x-forwarded-port: 443", false },
	{ "", "X-Forwarded: 1", true },         /* not the prefix */
	{ "", "Forwarded: for=10.0.0.1", false },
	{ "", "Via: 1.1 evil", false },
	{ "", "Connection: close", false },
	{ "", "Keep-Alive: timeout=5", false },
	{ "", "Proxy-Connection: keep-alive", false },
	{ "", "Proxy-Authorization: Basic eA==", false },
	{ "", "proxy-anything: 1", false },
	{ "", "Proxy: 1", true },               /* not the prefix */
	{ "", "TE: trailers", false },
	{ "", "Upgrade: websocket", false },
	{ "", "HTTP2-Settings: AAA", false },
	{ "", "Expect: 100-continue", false },
	{ "", ":path: /admin", false },
	{ "", ":status: 200", false },
	{ "Connection: x-secret\n", "X-Secret: 1", false },
	{ "Connection: close, X-Secret\n", "x-secret: 1", false },
	{ "Connection: x-other\n", "X-Secret: 1", true },
	{ "", "X-Bad: a\rb", false },
	{ "", "X-Bad: a\nb", false },
	{ "", "Bad Name: 1", false },
	{ "", "X-Ctl\x01: 1", false },
};

/* "name: value" split at the first ": " after the first byte (so a
 * pseudo-header keeps its colon). */
static struct hfield
field_of(const char *line)
{
	const char *sep = strstr(line + 1, ": ");

	ck_assert_ptr_nonnull(sep);
	return (struct hfield){ line, sep + 2, (uint32_t)(sep - line),
	    (uint32_t)strlen(sep + 2), 0 };
}

START_TEST(test_headers_trailer_allowed)
{
	struct parsed ps;
	struct hfield all[MAX_FIELDS];
	size_t n;

	parse(&ps, trailer_cases[_i].others);
	memcpy(all, ps.fields, ps.nfields * sizeof(all[0]));
	n = ps.nfields;
	all[n++] = field_of(trailer_cases[_i].field);
	ck_assert_msg(headers_is_trailer_allowed(all, n, &all[n - 1]) ==
	    trailer_cases[_i].is_allowed, "row %d: %s", _i,
	    trailer_cases[_i].field);
	free(ps.text);
}
END_TEST

Suite *
headers_suite(void)
{
	Suite *s = suite_create("headers");
	TCase *tc = tcase_create("headers");

	tcase_add_loop_test(tc, test_headers_request, 0, NELEMS(req_cases));
	tcase_add_loop_test(tc, test_headers_field_text_every_byte, 0, 2);
	tcase_add_loop_test(tc, test_headers_response_via, 0, 2);
	tcase_add_test(tc, test_headers_response_hsts);
	tcase_add_loop_test(tc, test_headers_classify, 0,
	    NELEMS(classify_cases));
	tcase_add_loop_test(tc, test_headers_request_refused, 0,
	    NELEMS(req_refused));
	tcase_add_test(tc, test_headers_request_pseudo_dropped);
	tcase_add_loop_test(tc, test_headers_response, 0, NELEMS(resp_cases));
	tcase_add_loop_test(tc, test_headers_error, 0, NELEMS(err_cases));
	tcase_add_test(tc, test_headers_reason);
	tcase_add_loop_test(tc, test_headers_check_field, 0,
	    NELEMS(check_cases));
	tcase_add_loop_test(tc, test_headers_has_token, 0,
	    NELEMS(token_cases));
	tcase_add_test(tc, test_headers_find_and_hop);
	tcase_add_loop_test(tc, test_headers_trailer_allowed, 0,
	    NELEMS(trailer_cases));
	suite_add_tcase(s, tc);
	return s;
}
