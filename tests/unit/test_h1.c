/* tests/unit/test_h1.c: HTTP/1.1 heads and bodies through h1.h. */
#include <string.h>

#include <event2/buffer.h>

#include "arena.h"
#include "h1.h"
#include "suites.h"

static const struct {
	const char *raw;
	int result;             /* 1 parsed, 0 incomplete, else the status */
	int body;               /* enum h1_body when parsed */
} heads[] = {
	{ "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 1, H1_BODY_NONE },
	{ "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 1, H1_BODY_NONE },
	{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", 1,
	  H1_BODY_LENGTH },
	{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
	  1, H1_BODY_CHUNKED },
	{ "GET / HTTP/1.0\r\n\r\n", 1, H1_BODY_NONE },
	{ "GET / HTTP/1.1\r\nHost: a\r\n", 0, 0 },
	{ "GET / HTTP/1.1\r\n\r\n", 400, 0 },                   /* no Host */
	{ "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, 0 },
	{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n", 400, 0 },
	{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
	  "Content-Length: 2\r\n\r\n", 400, 0 },
	{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: x1\r\n\r\n", 400, 0 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400, 0 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n", 400, 0 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400, 0 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nX : b\r\n\r\n", 400, 0 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
	  400, 0 },
	{ "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, 0 },
	/* found by tests/fuzz/fuzz_h1.c: llhttp ended this head at the bare
	 * LF, before the blank line portico cut at, and read the rest as a
	 * chunked body */
	{ "GET /\nHost: a\r\nTransfer-Encoding: chunked\r\n\nC8\r\n82\r"
	  "\r\n\r\n", 400, 0 },
	{ "GET / HTTP/1.1\nHost: a\r\n\nX: y\r\n\r\n", 400, 0 },
	{ "GET /" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  " HTTP/1.1\r\nHost: a\r\n\r\n", 414, 0 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nX: "
	  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	  "\r\n\r\n", 431, 0 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nX: "
	  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
	  431, 0 },                                   /* incomplete, too big */
};

START_TEST(test_h1_request_head)
{
	struct evbuffer *in = evbuffer_new();
	struct arena a;
	struct h1_reader r;
	struct req_head h;
	int got;

	arena_init(&a);
	h1_reader_init(&r, false, &a);
	evbuffer_add(in, heads[_i].raw, strlen(heads[_i].raw));
	got = h1_read_request_head(&r, in, &h, 200, 100);
	if (got == -1)
		got = r.status;
	ck_assert_int_eq(got, heads[_i].result);
	if (got == 1)
		ck_assert_int_eq((int)r.body, heads[_i].body);
	arena_fini(&a);
	evbuffer_free(in);
}
END_TEST

/* A chunked body fed a byte at a time, with a trailer and a pipelined
 * request behind it that must stay in the buffer. */
START_TEST(test_h1_chunked_body)
{
	static const char head[] = "POST / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n";
	static const char body[] = "5\r\nhello\r\n6;ext=1\r\n world\r\n"
	    "0\r\nX-Sum: 42\r\n\r\nGET /next";
	struct evbuffer *in = evbuffer_new(), *out = evbuffer_new();
	struct arena a;
	struct h1_reader r;
	struct req_head h;
	size_t i;
	int got = 0;
	char rest[16] = { 0 };

	arena_init(&a);
	h1_reader_init(&r, false, &a);
	evbuffer_add(in, head, strlen(head));
	ck_assert_int_eq(h1_read_request_head(&r, in, &h, 4096, 1024), 1);
	for (i = 0; i < strlen(body) && got == 0; i++) {
		evbuffer_add(in, body + i, 1);
		got = h1_read_body(&r, in, out, 1 << 20);
	}
	ck_assert_int_eq(got, 1);
	ck_assert_uint_eq(evbuffer_get_length(out), 11);
	ck_assert_int_eq(memcmp(evbuffer_pullup(out, -1), "hello world", 11),
	    0);
	ck_assert_uint_eq(r.ntrailers, 1);
	ck_assert_int_eq(memcmp(r.trailers[0].name, "X-Sum", 5), 0);
	ck_assert_int_eq(memcmp(r.trailers[0].value, "42", 2), 0);
	evbuffer_add(in, body + i, strlen(body) - i);
	evbuffer_remove(in, rest, sizeof(rest) - 1);
	ck_assert_str_eq(rest, "GET /next");
	arena_fini(&a);
	evbuffer_free(in);
	evbuffer_free(out);
}
END_TEST

START_TEST(test_h1_bad_chunk)
{
	static const char msg[] = "POST / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: chunked\r\n\r\nzz\r\n";
	struct evbuffer *in = evbuffer_new(), *out = evbuffer_new();
	struct arena a;
	struct h1_reader r;
	struct req_head h;

	arena_init(&a);
	h1_reader_init(&r, false, &a);
	evbuffer_add(in, msg, strlen(msg));
	ck_assert_int_eq(h1_read_request_head(&r, in, &h, 4096, 1024), 1);
	ck_assert_int_eq(h1_read_body(&r, in, out, 1 << 20), -1);
	arena_fini(&a);
	evbuffer_free(in);
	evbuffer_free(out);
}
END_TEST

static const struct {
	const char *raw;
	bool is_head;
	int body;
	int64_t length;
	bool wants_close;
} responses[] = {
	{ "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", false,
	  H1_BODY_LENGTH, 3, false },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", true,
	  H1_BODY_NONE, 3, false },
	{ "HTTP/1.1 204 No Content\r\n\r\n", false, H1_BODY_NONE, -1, false },
	{ "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", false,
	  H1_BODY_NONE, 9, false },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false,
	  H1_BODY_CHUNKED, -1, false },
	{ "HTTP/1.1 200 OK\r\n\r\n", false, H1_BODY_UNTIL_CLOSE, -1, true },
	{ "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false,
	  H1_BODY_NONE, 0, true },
	{ "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n",
	  false, H1_BODY_LENGTH, 1, true },
	{ "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", false,
	  H1_BODY_NONE, -1, false },
};

START_TEST(test_h1_response_head)
{
	struct evbuffer *in = evbuffer_new();
	struct arena a;
	struct h1_reader r;
	struct resp_head h;

	arena_init(&a);
	h1_reader_init(&r, true, &a);
	r.is_head_request = responses[_i].is_head;
	evbuffer_add(in, responses[_i].raw, strlen(responses[_i].raw));
	ck_assert_int_eq(h1_read_response_head(&r, in, &h, 4096), 1);
	ck_assert_int_eq((int)r.body, responses[_i].body);
	ck_assert_int_eq(h.content_length, responses[_i].length);
	ck_assert_int_eq(h.wants_close, responses[_i].wants_close);
	arena_fini(&a);
	evbuffer_free(in);
}
END_TEST

START_TEST(test_h1_bad_response)
{
	static const char *const bad[] = {
		"HTTP/1.1 2x0 Nope\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
		"garbage\r\n\r\n",
	};
	struct evbuffer *in = evbuffer_new();
	struct arena a;
	struct h1_reader r;
	struct resp_head h;
	size_t i;

	for (i = 0; i < NELEMS(bad); i++) {
		arena_init(&a);
		h1_reader_init(&r, true, &a);
		evbuffer_drain(in, evbuffer_get_length(in));
		evbuffer_add(in, bad[i], strlen(bad[i]));
		ck_assert_int_eq(h1_read_response_head(&r, in, &h, 4096), -1);
		ck_assert_int_eq(r.status, 502);
		arena_fini(&a);
	}
	evbuffer_free(in);
}
END_TEST

Suite *
h1_suite(void)
{
	Suite *s = suite_create("h1");
	TCase *tc = tcase_create("framing");

	tcase_add_loop_test(tc, test_h1_request_head, 0, NELEMS(heads));
	tcase_add_test(tc, test_h1_chunked_body);
	tcase_add_test(tc, test_h1_bad_chunk);
	tcase_add_loop_test(tc, test_h1_response_head, 0, NELEMS(responses));
	tcase_add_test(tc, test_h1_bad_response);
	suite_add_tcase(s, tc);
	return s;
}
