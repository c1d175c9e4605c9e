/* tests/unit/test_h2_request.c: proxy/h2_request.h, an HTTP/2 request's
 * pseudo-headers and fields → the req_head for the backend, or the
 * status it is refused with. */
#include <stdlib.h>
#include <string.h>

#include "h2_request.h"
#include "suites.h"

#define MAX_FIELDS 16
#define KEY "dGhlIHNhbXBsZSBub25jZQ=="

/* Row options. */
#define END     0x01            /* END_STREAM with the HEADERS */
#define TLS     0x02            /* the connection is TLS */
#define NOKEY   0x04            /* no randomness for the key */
#define FULL    0x08            /* no room for one more field */

/* A refused row: only its status and reason are checked. */
#define REFUSED(o, i, s, w) { .opts = (o), .in = (i), .status = (s), \
	.why = (w) }

static const struct h2_request_case {
	unsigned opts;
	const char *in;         /* pseudo-headers and fields, one a line */
	int status;             /* 0: accepted */
	const char *why;        /* refused: the reason; else what follows */
	/* accepted: the head */
	const char *method, *target, *authority, *scheme;
	int64_t length;
	bool has_body, is_websocket, wants_continue;
	size_t nfields;
} cases[] = {
	/* 0: a GET, its scheme as sent. */
	{ END, ":method: GET\n:path: /a\n:authority: x.test\n:scheme: https\n"
	  "accept: */*\n", 0, NULL,
	  "GET", "/a", "x.test", "https", -1, false, false, false, 1 },
	/* 1: no :scheme: the connection's. */
	{ END | TLS, ":method: GET\n:path: /\n:authority: x.test\n", 0, NULL,
	  "GET", "/", "x.test", "https", -1, false, false, false, 0 },
	{ END, ":method: GET\n:path: /\n:authority: x.test\n", 0, NULL,
	  "GET", "/", "x.test", "http", -1, false, false, false, 0 },
	/* 3: a body, its length, Expect. */
	{ 0, ":method: POST\n:path: /up\n:authority: x.test\n"
	  "content-length: 12\nexpect: 100-continue\n", 0, NULL,
	  "POST", "/up", "x.test", "http", 12, true, false, true, 2 },
	/* 4: RFC 9113 §8.3.1: Host stands in for :authority ... */
	{ END, ":method: GET\n:path: /\nhost: h.test\n", 0, NULL,
	  "GET", "/", "h.test", "http", -1, false, false, false, 1 },
	/* 5: ... and may repeat it, in any case. */
	{ END, ":method: GET\n:path: /\n:authority: X.test\nhost: x.TEST\n",
	  0, NULL, "GET", "/", "X.test", "http", -1, false, false, false, 1 },
	REFUSED(END,
	  ":method: GET\n:path: /\n:authority: x.test\nhost: y.test\n",
	    400, "Host and :authority differ"),
	/* 7: the last Host field is the one compared. */
	REFUSED(END, ":method: GET\n:path: /\n:authority: x.test\n"
	  "host: x.test\nhost: y.test\n",
	    400, "Host and :authority differ"),
	REFUSED(END, ":method: GET\n:path: /\n",
	    400, "missing :authority"),
	REFUSED(END, ":path: /\n:authority: x.test\n",
	    400, "missing :method or :path"),
	REFUSED(END, ":method: GET\n:authority: x.test\n",
	    400, "missing :method or :path"),
	/* 11: what the backend writer refuses, refused now. */
	REFUSED(END, ":method: GET\n:path: a/b\n:authority: x.test\n",
	    400, "bad request target"),
	REFUSED(END, ":method: G@T\n:path: /\n:authority: x.test\n",
	    400, "bad method"),
	/* 13: RFC 8441: the websocket CONNECT becomes a GET with our key. */
	{ 0, ":method: CONNECT\n:protocol: websocket\n:scheme: https\n"
	  ":path: /chat\n:authority: x.test\nsec-websocket-version: 13\n",
	  0, NULL, "GET", "/chat", "x.test", "https", -1, false, true,
	  false, 2 },
	/* 14: plain CONNECT, other protocols. */
	REFUSED(0, ":method: CONNECT\n:authority: x.test:443\n",
	    405, "CONNECT is not supported"),
	REFUSED(0, ":method: CONNECT\n:protocol: h3\n:path: /\n"
	  ":authority: x.test\n",
	    501, "unsupported :protocol"),
	/* 16: no key, no room for it. */
	REFUSED(NOKEY, ":method: CONNECT\n:protocol: websocket\n:path: /\n"
	  ":authority: x.test\n",
	    500, "no randomness for Sec-WebSocket-Key"),
	REFUSED(FULL, ":method: CONNECT\n:protocol: websocket\n:path: /\n"
	  ":authority: x.test\n",
	    500, "out of memory"),
	/* 18: a websocket CONNECT is checked as a GET after (it was 500,
	 * the status its key's failure would have had). */
	REFUSED(0, ":method: CONNECT\n:protocol: websocket\n:path: /\n",
	    400, "missing :authority"),
	REFUSED(0, ":method: CONNECT\n:protocol: websocket\n:path: a/b\n"
	  ":authority: x.test\n", 400, "bad request target"),
};

struct parsed {
	char *text;
	struct hfield fields[MAX_FIELDS];
	struct h2_request rq;
};

/* "name: value\n" lines: pseudo-headers to h2_request_pseudo. */
static void
parse(struct parsed *ps, const char *lines, bool is_full)
{
	char *line, *next, *colon;

	memset(ps, 0, sizeof(*ps));
	ps->text = strdup(lines);
	ck_assert_ptr_nonnull(ps->text);
	ps->rq.fields = ps->fields;
	for (line = ps->text; *line != '\0'; line = next) {
		next = strchr(line, '\n');
		ck_assert_ptr_nonnull(next);
		*next++ = '\0';
		colon = strstr(line + 1, ": ");
		ck_assert_ptr_nonnull(colon);
		*colon = '\0';
		colon += 2;
		if (line[0] == ':') {
			h2_request_pseudo(&ps->rq, line, strlen(line), colon,
			    strlen(colon));
			continue;
		}
		ck_assert_uint_lt(ps->rq.nfields, MAX_FIELDS);
		ps->fields[ps->rq.nfields++] = (struct hfield){ line, colon,
		    (uint32_t)strlen(line), (uint32_t)strlen(colon), 0 };
	}
	ps->rq.cap = is_full ? ps->rq.nfields : MAX_FIELDS;
}

static void
assert_str(const char *got, size_t len, const char *want)
{
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_int_eq(memcmp(got, want, len), 0);
}

static void
assert_head(const struct h2_request_case *c, const struct h2_request *rq)
{
	const struct req_head *h = &rq->req;

	assert_str(h->method, h->methodlen, c->method);
	assert_str(h->target, h->targetlen, c->target);
	assert_str(h->authority, h->authoritylen, c->authority);
	ck_assert_str_eq(h->scheme, c->scheme);
	ck_assert_uint_eq(h->version, 20);
	ck_assert_int_eq(h->content_length, c->length);
	ck_assert(h->has_body == c->has_body);
	ck_assert(h->is_websocket == c->is_websocket);
	ck_assert(h->wants_continue == c->wants_continue);
	ck_assert_ptr_eq(h->fields, rq->fields);
	ck_assert_uint_eq(h->nfields, c->nfields);
	if (c->is_websocket) {
		const struct hfield *k = headers_find(h->fields, h->nfields,
		    "sec-websocket-key");

		ck_assert_ptr_nonnull(k);
		assert_str(k->value, k->valuelen, KEY);
	}
}

START_TEST(test_h2_request_head)
{
	const struct h2_request_case *c = &cases[_i];
	struct parsed ps;
	const char *why = NULL;
	int status = 0, rv;

	parse(&ps, c->in, c->opts & FULL);
	ck_assert(h2_request_wants_key(&ps.rq) ==
	    (strstr(c->in, ":protocol: websocket") != NULL));
	rv = h2_request_head(&ps.rq, c->opts & END, c->opts & TLS,
	    c->opts & NOKEY ? NULL : KEY, &status, &why);
	if (c->status != 0) {
		ck_assert_msg(rv == -1, "row %d: accepted", _i);
		ck_assert_int_eq(status, c->status);
		ck_assert_str_eq(why, c->why);
	} else {
		ck_assert_msg(rv == 0, "row %d: refused: %s", _i, why);
		assert_head(c, &ps.rq);
	}
	free(ps.text);
}
END_TEST

Suite *
h2_request_suite(void)
{
	Suite *s = suite_create("h2_request");
	TCase *tc = tcase_create("h2_request");

	tcase_add_loop_test(tc, test_h2_request_head, 0, NELEMS(cases));
	suite_add_tcase(s, tc);
	return s;
}
