/* tests/unit/test_h1.c: HTTP/1.1 heads and bodies through h1.h. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
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
	/* Content-Length 2^63 read as negative meant "no body", and the
	 * body became a second request (issue 11) */
	{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: "
	  "9223372036854775808\r\n\r\n", 400, 0 },
	{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: "
	  "18446744073709551615\r\n\r\n", 400, 0 },
	{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: "
	  "18446744073709551616\r\n\r\n", 400, 0 },
	{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: "
	  "9223372036854775807\r\n\r\n", 1, H1_BODY_LENGTH },
	/* refused at once, not after the header timeout (issue 11) */
	{ "GET / HTTP/1.1\nHost: a\n\n", 400, 0 },        /* bare LF only */
	{ "GET / HTTP/1.1\nHo", 400, 0 },
	{ "GET / HTTP/1.1\r\nHost: a\nX", 400, 0 },
	{ "\n", 400, 0 },
	{ "\r", 0, 0 },                                    /* may be CRLF */
	{ "\rX", 400, 0 },
	{ "\x16\x03\x01\x02\x00", 400, 0 },                 /* TLS to h1 */
	{ " GET / HTTP/1.1\r\n", 400, 0 },
	{ "{\"a\":1}", 400, 0 },
	{ "GET /" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 414, 0 }, /* no end */
	{ "GET /" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", 414, 0 },
	{ "GET /" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0, 0 },     /* 99 bytes */
	{ "GET /" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: a\r\n\r\n", 1,
	  H1_BODY_NONE },                                 /* 100 bytes */
	{ "GET /" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: a\r\n\r\n", 414,
	  0 },                                            /* 101 bytes */
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
	{ "HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\n",
	  false, H1_BODY_LENGTH, INT64_MAX, false },
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
		/* 2^63 would be read as -1: a body until close */
		"HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808\r\n"
		"\r\n",
		/* a bare LF is a 502 as soon as it arrives, not once the
		 * backend closes or backend_read_timeout passes */
		"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
		"HTTP/1.1 200 OK\r\nX: 1\n",
		"HTTP/1.1 200 OK\r\nX: 1\r\n\n",
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

/* A backend head is screened for bare LFs as it comes: a CRLF split
 * between two reads is no bare LF (the bare-LF rows are in
 * test_h1_bad_response). */
START_TEST(test_h1_response_crlf_split)
{
	struct evbuffer *in = evbuffer_new();
	struct arena a;
	struct h1_reader r;
	struct resp_head h;

	arena_init(&a);
	h1_reader_init(&r, true, &a);
	evbuffer_drain(in, evbuffer_get_length(in));
	evbuffer_add(in, "HTTP/1.1 200 OK\r", 16);
	ck_assert_int_eq(h1_read_response_head(&r, in, &h, 4096), 0);
	evbuffer_add(in, "\nContent-Length: 0\r\n\r\n", 22);
	ck_assert_msg(h1_read_response_head(&r, in, &h, 4096) == 1, "%s",
	    r.why);
	ck_assert_int_eq(h.status, 200);
	arena_fini(&a);
	evbuffer_free(in);
}
END_TEST

/* The head's end is found as its bytes come: fed one byte a read, and
 * as a chain of one-byte pieces (evbuffer_add_reference), the head is
 * complete exactly when its blank line is, and the body bytes after it
 * stay in the buffer (row 1 for a request, row 0 a response). */
START_TEST(test_h1_head_end_any_split)
{
	static const char *const msg[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nX: a\r\n\r\n\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n\r\n\r\n",
	};
	const char *m = msg[_i];
	size_t len = strlen(m), head = len - 4, k;
	struct evbuffer *in = evbuffer_new();
	struct arena a;
	struct h1_reader r;
	struct resp_head rh;
	struct req_head qh;
	int rc = 0, mode;

	for (mode = 0; mode < 2; mode++) {
		arena_init(&a);
		h1_reader_init(&r, _i == 0, &a);
		for (k = 0; k < len; k++) {
			if (mode == 0)
				evbuffer_add(in, m + k, 1);
			else
				evbuffer_add_reference(in, m + k, 1, NULL,
				    NULL);
			if (mode == 1 && k + 1 < len)
				continue;       /* all pieces, then one read */
			rc = _i == 0 ? h1_read_response_head(&r, in, &rh,
			    4096) : h1_read_request_head(&r, in, &qh, 4096,
			    4096);
			ck_assert_msg(rc == (mode == 1 || k + 1 >= head ? 1 :
			    0), "mode %d, byte %zu: %d (%s)", mode, k, rc,
			    r.why != NULL ? r.why : "");
			if (rc == 1)
				break;
		}
		ck_assert_int_eq(rc, 1);
		ck_assert_uint_eq(evbuffer_get_length(in),
		    mode == 0 ? 0 : 4);
		evbuffer_drain(in, evbuffer_get_length(in));
		arena_fini(&a);
	}
	evbuffer_free(in);
}
END_TEST

/* The rules of the head screening before it found the head's end itself
 * (19bf092: a search for CRLFCRLF over the buffer, then a per-byte loop),
 * as a reference: over random heads split at random points, the reader
 * must finish, refuse (status and reason) and cut the head where these
 * rules do, each read. */
struct ref_reader {
	bool is_response;
	size_t checked, line_end;
	int prev;
	const char *why;
	int status;
};

static bool
ref_is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' &&
	    strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int
ref_fail(struct ref_reader *r, int status, const char *why)
{
	r->status = status;
	r->why = why;
	return -1;
}

/* BUF[0..*len) is the buffer; 1 with *end when the head is there (its
 * LEN bytes for the parser), 0 for more, -1 refused. */
static int
ref_read(struct ref_reader *r, char *buf, size_t *len, size_t max_head,
    size_t max_line, size_t *end)
{
	const char *f;
	size_t e = SIZE_MAX, upto;
	unsigned char c;

	if (!r->is_response) {
		while (*len >= 2 && buf[0] == '\r' && buf[1] == '\n') {
			memmove(buf, buf + 2, *len - 2);
			*len -= 2;
		}
		if (*len == 1 && buf[0] == '\r')
			return 0;
	}
	f = memmem(buf, *len, "\r\n\r\n", 4);
	if (f != NULL)
		e = (size_t)(f - buf) + 4;
	upto = e == SIZE_MAX ? *len : e;
	for (; r->checked < upto; r->checked++) {
		c = (unsigned char)buf[r->checked];
		if (r->checked == 0 && !r->is_response && !ref_is_tchar(c))
			return ref_fail(r, 400, "no method at the start");
		if (c == '\n' && r->prev != '\r')
			return ref_fail(r, r->is_response ? 502 : 400,
			    "bare LF in the head");
		if (r->line_end == 0 && c == '\n')
			r->line_end = r->checked;
		else if (r->line_end == 0 && c != '\r' &&
		    r->checked >= max_line)
			return ref_fail(r, 414, "request line too long");
		r->prev = c;
	}
	if (e == SIZE_MAX) {
		if (*len > max_head)
			return ref_fail(r, r->is_response ? 502 : 431,
			    r->is_response ? "response head too large" :
			    "request head too large");
		return 0;
	}
	if (e > max_head)
		return ref_fail(r, r->is_response ? 502 : 431, r->is_response ?
		    "response head too large" : "request head too large");
	*end = e;
	return 1;
}

/* A random message: pieces that make heads, blank lines and near
 * misses (bare CR, CR CR LF, LF alone). */
static size_t
random_message(char *m, size_t cap, bool is_response, unsigned *seed)
{
	static const char *const piece[] = {
		"\r", "\n", "\r\n", "\r\n", "\r\n", "\r\n\r\n", "\r\r\n",
		"\n\r", "Host: a", "X: b", "a", " ", ":", "\t", "\r\n ",
		"Content-Length: 3", "Transfer-Encoding: chunked", "0\r\n",
		"GET / HTTP/1.1", "HTTP/1.1 200 OK", "\0",
	};
	size_t n = 0, k, plen;
	unsigned i, npieces = 1 + (unsigned)rand_r(seed) % 14;

	if (rand_r(seed) % 3 != 0) {
		k = is_response ? 15 : 14;
		memcpy(m, is_response ? "HTTP/1.1 200 OK" : "GET / HTTP/1.1",
		    k);
		n = k;
	}
	for (i = 0; i < npieces; i++) {
		k = (size_t)rand_r(seed) % NELEMS(piece);
		plen = k == NELEMS(piece) - 1 ? 1 : strlen(piece[k]);
		if (n + plen > cap)
			break;
		memcpy(m + n, piece[k], plen);
		n += plen;
	}
	return n;
}

START_TEST(test_h1_head_end_as_before)
{
	enum { CAP = 512 };
	unsigned seed = 0x5eed0000u + (unsigned)_i, iter, nreads;
	unsigned nheads = 0, nbare = 0, nlong = 0, nlarge = 0;
	char m[CAP], buf[CAP], *copy;
	size_t len, off, k, piece, blen, end, max_head, max_line;
	struct evbuffer *in = evbuffer_new();
	struct ref_reader ref;
	struct arena a;
	struct h1_reader r;
	struct resp_head rh;
	struct req_head qh;
	bool is_resp;
	int rc, want;

	for (iter = 0; iter < 4000; iter++) {
		is_resp = rand_r(&seed) % 2 == 0;
		len = random_message(m, CAP, is_resp, &seed);
		max_head = 4 + (size_t)rand_r(&seed) % 80;
		max_line = 1 + (size_t)rand_r(&seed) % 40;
		memset(&ref, 0, sizeof(ref));
		ref.is_response = is_resp;
		arena_init(&a);
		h1_reader_init(&r, is_resp, &a);
		evbuffer_drain(in, evbuffer_get_length(in));
		copy = malloc(len + 1);
		ck_assert_ptr_nonnull(copy);
		memcpy(copy, m, len);
		blen = 0;
		rc = want = 0;
		for (off = 0, nreads = 0; off < len && rc == 0; nreads++) {
			k = 1 + (size_t)rand_r(&seed) % (len - off);
			if (rand_r(&seed) % 2 == 0)
				k = 1 + (size_t)rand_r(&seed) % 4;
			if (k > len - off)
				k = len - off;
			/* a read of K bytes, as one chain or as pieces */
			for (piece = 0; piece < k; ) {
				size_t p = rand_r(&seed) % 3 == 0 ? 1 : k - piece;

				evbuffer_add_reference(in, copy + off + piece,
				    p, NULL, NULL);
				piece += p;
			}
			memcpy(buf + blen, copy + off, k);
			blen += k;
			off += k;
			want = ref_read(&ref, buf, &blen, max_head, is_resp ?
			    SIZE_MAX : max_line, &end);
			rc = is_resp ? h1_read_response_head(&r, in, &rh,
			    max_head) : h1_read_request_head(&r, in, &qh,
			    max_head, max_line);
			if (want == 1) {
				/* the parser may still refuse the head: then
				 * it is gone from the buffer all the same */
				ck_assert_msg(rc == 1 || rc == -1,
				    "iter %u read %u: %d", iter, nreads, rc);
				ck_assert_uint_eq(evbuffer_get_length(in),
				    blen - end);
				nheads += rc == 1;
				break;
			}
			ck_assert_msg(rc == want, "iter %u read %u: %d, was %d "
			    "(%s / %s)", iter, nreads, rc, want,
			    r.why != NULL ? r.why : "",
			    ref.why != NULL ? ref.why : "");
			if (rc == -1) {
				ck_assert_int_eq(r.status, ref.status);
				ck_assert_str_eq(r.why, ref.why);
				nbare += strcmp(r.why, "bare LF in the head") == 0;
				nlong += r.status == 414;
				nlarge += strstr(r.why, "too large") != NULL;
			}
			ck_assert_uint_eq(evbuffer_get_length(in), blen);
		}
		evbuffer_drain(in, evbuffer_get_length(in));
		arena_fini(&a);
		free(copy);
	}
	/* every outcome came up, or the rows test too little */
	ck_assert_msg(nheads > 100 && nbare > 100 && nlong > 100 &&
	    nlarge > 100, "heads %u, bare LF %u, 414 %u, too large %u",
	    nheads, nbare, nlong, nlarge);
	evbuffer_free(in);
}
END_TEST

/* A head of N fields: Host and N - 1 more. */
static char *
make_head(bool is_response, unsigned n)
{
	struct evbuffer *b = evbuffer_new();
	unsigned i;
	char *p;
	size_t len;

	evbuffer_add_printf(b, is_response ? "HTTP/1.1 200 OK\r\n"
	    "Host: a\r\n" : "GET / HTTP/1.1\r\nHost: a\r\n");
	for (i = 1; i < n; i++)
		evbuffer_add_printf(b, "X-%u: v\r\n", i);
	evbuffer_add(b, "\r\n", 2);
	len = evbuffer_get_length(b);
	p = malloc(len + 1);
	evbuffer_remove(b, p, len);
	p[len] = '\0';
	evbuffer_free(b);
	return p;
}

static const struct {
	bool is_response;
	unsigned nfields;
	int result;             /* 1 parsed, else the status */
} counts[] = {
	{ false, 10, 1 }, { false, 11, 431 }, { false, 500, 431 },
	{ true, 10, 1 }, { true, 11, 502 },
};

/* client_max_header_fields / backend_max_header_fields (issue 11) */
START_TEST(test_h1_field_count)
{
	struct evbuffer *in = evbuffer_new();
	char *raw = make_head(counts[_i].is_response, counts[_i].nfields);
	struct arena a;
	struct h1_reader r;
	struct req_head h;
	struct resp_head rh;
	int got;

	arena_init(&a);
	h1_reader_init(&r, counts[_i].is_response, &a);
	h1_reader_set_limits(&r, 10, 0);
	evbuffer_add(in, raw, strlen(raw));
	got = counts[_i].is_response ?
	    h1_read_response_head(&r, in, &rh, 1 << 20) :
	    h1_read_request_head(&r, in, &h, 1 << 20, 1024);
	if (got == -1)
		got = r.status;
	ck_assert_int_eq(got, counts[_i].result);
	free(raw);
	arena_fini(&a);
	evbuffer_free(in);
}
END_TEST

static const struct {
	bool is_response;
	const char *trailers;   /* after the last chunk */
	int result;             /* 1 read, else the status */
	size_t ntrailers;
} trailer_cases[] = {
	{ false, "A: 1\r\nB: 2\r\n\r\n", 1, 2 },
	{ false, "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", 1, 4 },
	{ false, "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n", 431, 0 },
	{ true, "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n", 502, 0 },
	{ false, "A: 0123456789012345678901234567890123456789012345678\r\n"
	  "\r\n", 1, 1 },                                 /* 54 + 4 < 64 */
	{ false, "A: 01234567890123456789012345678901234567890123456789"
	  "0123456789\r\n\r\n", 431, 0 },
	{ true, "A: 01234567890123456789012345678901234567890123456789"
	  "0123456789\r\n\r\n", 502, 0 },
	{ false, "Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaa", 431, 0 },          /* a name, never ending */
};

/* Trailers obey the limits of a head (issue 11), fed a byte at a time. */
START_TEST(test_h1_trailer_limits)
{
	static const char req[] = "POST / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n";
	static const char body[] = "2\r\nhi\r\n0\r\n";
	bool is_resp = trailer_cases[_i].is_response;
	const char *t = trailer_cases[_i].trailers;
	struct evbuffer *in = evbuffer_new(), *out = evbuffer_new();
	struct arena a;
	struct h1_reader r;
	struct req_head h;
	struct resp_head rh;
	size_t i;
	int got = 0;

	arena_init(&a);
	h1_reader_init(&r, is_resp, &a);
	h1_reader_set_limits(&r, 4, 64);
	evbuffer_add(in, is_resp ? resp : req, strlen(is_resp ? resp : req));
	ck_assert_int_eq(is_resp ? h1_read_response_head(&r, in, &rh, 4096) :
	    h1_read_request_head(&r, in, &h, 4096, 1024), 1);
	evbuffer_add(in, body, strlen(body));
	for (i = 0; i < strlen(t) && got == 0; i++) {
		evbuffer_add(in, t + i, 1);
		got = h1_read_body(&r, in, out, 1 << 20);
	}
	if (got == -1)
		got = r.status;
	ck_assert_int_eq(got, trailer_cases[_i].result);
	if (got == 1)
		ck_assert_uint_eq(r.ntrailers, trailer_cases[_i].ntrailers);
	arena_fini(&a);
	evbuffer_free(in);
	evbuffer_free(out);
}
END_TEST

/* One 2 MiB trailer in 64-byte reads: each read copied the whole value
 * again, so memory and time grew with its square (7 MB to 140 MB for
 * one connection, issue 11). Now the value is joined in linear time and
 * the arena holds a small multiple of it. */
START_TEST(test_h1_trailer_linear)
{
	static const char head[] = "POST / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n0\r\nX-Big: ";
	const size_t big = 2 << 20, piece = 64;
	struct evbuffer *in = evbuffer_new(), *out = evbuffer_new();
	char buf[64];
	struct arena a;
	struct h1_reader r;
	struct req_head h;
	size_t off, before, grown;
	int got = 0;

	memset(buf, 'v', sizeof(buf));
	arena_init(&a);
	h1_reader_init(&r, false, &a);
	h1_reader_set_limits(&r, 100, 4 << 20);
	evbuffer_add(in, head, strlen(head));
	ck_assert_int_eq(h1_read_request_head(&r, in, &h, 4096, 1024), 1);
	before = mallinfo2().uordblks;
	for (off = 0; off < big && got == 0; off += piece) {
		evbuffer_add(in, buf, piece);
		got = h1_read_body(&r, in, out, 1 << 20);
	}
	ck_assert_int_eq(got, 0);
	grown = mallinfo2().uordblks - before;
	evbuffer_add(in, "\r\n\r\n", 4);
	ck_assert_int_eq(h1_read_body(&r, in, out, 1 << 20), 1);
	ck_assert_uint_eq(r.ntrailers, 1);
	ck_assert_uint_eq(r.trailers[0].valuelen, big);
	ck_assert_int_eq(r.trailers[0].value[big - 1], 'v');
	ck_assert_msg(grown < 4 * big, "the arena grew by %zu bytes", grown);
	arena_fini(&a);
	evbuffer_free(in);
	evbuffer_free(out);
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
	tcase_add_test(tc, test_h1_response_crlf_split);
	tcase_add_loop_test(tc, test_h1_head_end_any_split, 0, 2);
	tcase_add_loop_test(tc, test_h1_head_end_as_before, 0, 8);
	tcase_add_loop_test(tc, test_h1_field_count, 0, NELEMS(counts));
	tcase_add_loop_test(tc, test_h1_trailer_limits, 0,
	    NELEMS(trailer_cases));
	tcase_add_test(tc, test_h1_trailer_linear);
	suite_add_tcase(s, tc);
	return s;
}
