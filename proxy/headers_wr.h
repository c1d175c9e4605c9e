/* proxy/headers_wr.h: the two-pass head writer that headers.c and
 * headers_resp.c share: each emit function runs once to count, once to
 * copy into one reserved extent. Only those two include it. */
#ifndef PORTICO_HEADERS_WR_H
#define PORTICO_HEADERS_WR_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <event2/buffer.h>

#include "headers.h"

/* Where emit_*() writes: P NULL only counts. */
struct wr {
	char *p;
	size_t n;
};

typedef void emit_fn(struct wr *w, const void *arg);

/* RFC 9110 §5.5: field-vchar / SP / HTAB; obs-text (0x80-0xff) passes. */
static inline bool
is_field_byte(unsigned char c)
{
	return (c >= 0x20 || c == '\t') && c != 0x7f;
}

/* Eight bytes at a time: a word with no byte below 0x20 and none equal to
 * 0x7f is text (the usual case, ~1 instruction a byte); one that has one
 * is looked at byte by byte, since HTAB is allowed. Every field value of
 * every message passes here. */
static inline bool
is_field_text(const char *s, size_t len)
{
	const uint64_t ones = 0x0101010101010101ull, highs = ones << 7;
	uint64_t x, del;
	size_t i = 0, j;

	for (; i + 8 <= len; i += 8) {
		memcpy(&x, s + i, 8);
		del = x ^ (0x7f * ones);
		if ((((x - 0x20 * ones) & ~x) | ((del - ones) & ~del)) & highs)
			for (j = i; j < i + 8; j++)
				if (!is_field_byte((unsigned char)s[j]))
					return false;
	}
	for (; i < len; i++)
		if (!is_field_byte((unsigned char)s[i]))
			return false;
	return true;
}

static inline void
put(struct wr *w, const char *s, size_t len)
{
	if (w->p != NULL)
		memcpy(w->p + w->n, s, len);
	w->n += len;
}

static inline void
put_str(struct wr *w, const char *s)
{
	put(w, s, strlen(s));
}

static inline void
put_u64(struct wr *w, uint64_t v)
{
	char buf[20];
	size_t i = sizeof(buf);

	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	put(w, buf + i, sizeof(buf) - i);
}

static inline void
put_field(struct wr *w, const struct hfield *f)
{
	put(w, f->name, f->namelen);
	put(w, ": ", 2);
	put(w, f->value, f->valuelen);
	put(w, "\r\n", 2);
}

/* Runs EMIT once to measure, once to copy into OUT; OUT gains all or
 * nothing. */
static inline int
emit_into(struct evbuffer *out, emit_fn *emit, const void *arg)
{
	struct wr w = { NULL, 0 };
	struct evbuffer_iovec v;

	emit(&w, arg);
	if (evbuffer_reserve_space(out, (ev_ssize_t)w.n, &v, 1) != 1)
		return -1;
	w.p = v.iov_base;
	w.n = 0;
	emit(&w, arg);
	v.iov_len = w.n;
	return evbuffer_commit_space(out, &v, 1);
}

static inline void
put_framing(struct wr *w, enum headers_framing framing, uint64_t length)
{
	switch (framing) {
	case HEADERS_LENGTH:
		put_str(w, "Content-Length: ");
		put_u64(w, length);
		put(w, "\r\n", 2);
		break;
	case HEADERS_CHUNKED:
		put_str(w, "Transfer-Encoding: chunked\r\n");
		break;
	case HEADERS_NO_BODY:
	case HEADERS_UNTIL_CLOSE:
		break;
	}
}

#endif
