/* tests/fuzz/fuzz_route.c: libFuzzer over route_parse. Input: one flag
 * byte (bit 0: HTTP/2, bit 1: OPTIONS), then the target, "\n", the
 * authority (none without the "\n"). Besides never crashing, a target it
 * accepts must be a fixed point (parsing it again yields the same bytes),
 * hold no dot-segment and no empty segment, and be the request line's
 * target, byte for byte, of what headers_write_request sends (which
 * must not refuse it). Build and
 * run with "make fuzz". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "arena.h"
#include "headers.h"
#include "route.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

/* No "." or ".." segment, and no "//", in the path P[0..n). */
static void
check_segments(const char *p, size_t n)
{
	size_t i, start = 1, len;

	CHECK(n >= 1 && p[0] == '/');
	for (i = 1; i <= n; i++) {
		if (i < n && p[i] != '/')
			continue;
		len = i - start;
		CHECK(!(len == 1 && p[start] == '.'));
		CHECK(!(len == 2 && p[start] == '.' && p[start + 1] == '.'));
		CHECK(len > 0 || i == n);
		start = i + 1;
	}
}

static void
check_fixed_point(struct req_head *h, struct arena *a,
    const struct route_target *rt)
{
	struct route_target again;
	const char *why;

	h->target = rt->target;
	h->targetlen = rt->targetlen;
	h->authority = rt->is_ip6 ? rt->host - 1 : rt->host;
	h->authoritylen = rt->hostlen + (rt->is_ip6 ? 2 : 0);
	CHECK(route_parse(h, a, &again, &why) == 0);
	CHECK(again.targetlen == rt->targetlen && again.pathlen == rt->pathlen);
	CHECK(memcmp(again.target, rt->target, rt->targetlen) == 0);
}

/* What the backend is sent starts with "METHOD TARGET HTTP/1.1\r\n". */
static void
check_request_line(struct req_head *h, const struct route_target *rt)
{
	struct evbuffer *out = evbuffer_new();
	const char *why;
	size_t m = h->methodlen, n = rt->targetlen;
	const unsigned char *s;

	CHECK(out != NULL);
	h->fwd_target = rt->target;
	h->fwd_targetlen = rt->targetlen;
	h->content_length = -1;
	/* what route.c accepts, the head writer must not refuse */
	CHECK(headers_write_request(out, h, NULL, NULL, HEADERS_NO_BODY, 0,
	    false, &why) == 0);
	CHECK(evbuffer_get_length(out) > m + n + 11);
	s = evbuffer_pullup(out, (ssize_t)(m + n + 11));
	CHECK(memcmp(s, h->method, m) == 0 && s[m] == ' ');
	CHECK(memcmp(s + m + 1, rt->target, n) == 0);
	CHECK(memcmp(s + m + 1 + n, " HTTP/1.1\r\n", 11) == 0);
	evbuffer_free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data + 1, *nl;
	struct route_target rt;
	struct req_head h;
	struct arena a;
	const char *why;
	size_t n;

	if (size < 1)
		return 0;
	n = size - 1;
	memset(&h, 0, sizeof(h));
	h.version = data[0] & 1 ? 20 : 11;
	h.method = data[0] & 2 ? "OPTIONS" : "GET";
	h.methodlen = (uint32_t)strlen(h.method);
	h.target = p;
	h.targetlen = (uint32_t)n;
	if ((nl = memchr(p, '\n', n)) != NULL) {
		h.targetlen = (uint32_t)(nl - p);
		h.authority = nl + 1;
		h.authoritylen = (uint32_t)(n - h.targetlen - 1);
	}
	arena_init(&a);
	if (route_parse(&h, &a, &rt, &why) == 0) {
		CHECK(rt.pathlen <= rt.targetlen);
		if (rt.target[0] != '*')
			check_segments(rt.target, rt.pathlen);
		CHECK(memchr(rt.target, '#', rt.targetlen) == NULL);
		check_request_line(&h, &rt);
		h.version = 20;         /* origin-form now, as HTTP/2 sends */
		check_fixed_point(&h, &a, &rt);
	}
	arena_fini(&a);
	return 0;
}
