/* proxy/h1.h: HTTP/1.1 message framing shared by the client side
 * (h1_server) and the backend side (h1_client): reading a head into a
 * request's arena, decoding a body, and chunked encoding. */
#ifndef PORTICO_H1_H
#define PORTICO_H1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <llhttp.h>

#include "headers.h"

struct arena;
struct evbuffer;

enum h1_body {
	H1_BODY_NONE = 0,               /* message ends with its head */
	H1_BODY_LENGTH,                 /* Content-Length bytes follow */
	H1_BODY_CHUNKED,                /* chunked, decoded through llhttp */
	H1_BODY_UNTIL_CLOSE,            /* response read until EOF */
};

struct h1_reader {
	llhttp_t parser;
	struct arena *arena;            /* head bytes and fields live here */
	bool is_response;
	bool is_head_request;           /* response: answers a HEAD */
	enum h1_body body;
	uint64_t remaining;             /* H1_BODY_LENGTH: bytes left */
	bool is_done;                   /* message complete */
	size_t checked;                 /* head bytes already screened */
	size_t lf_end;                  /* past the last LF screened, or 0 */
	size_t head_end;                /* past the blank line, or 0 */
	size_t line_end;                /* end of the first line, or 0 */
	char prev;                      /* the byte before CHECKED */
	unsigned max_fields;            /* per head, per trailers; 0: any */
	size_t max_trailer_size;        /* trailer section bytes; 0: any */
	size_t trailer_bytes;           /* trailer section bytes so far */
	const char *grow;               /* the trailer piece being joined */
	size_t grow_cap;                /* its room in the arena */
	/* Filled while parsing. */
	struct req_head *req;
	struct resp_head *resp;
	struct hfield *fields;          /* head fields, then trailers */
	size_t nfields, cap;
	size_t trailer_start;           /* index of the first trailer */
	struct hfield *trailers;        /* set when the message is done */
	size_t ntrailers;
	bool in_trailers;
	bool is_name_done;              /* the last field's name is whole */
	struct evbuffer *sink;          /* where decoded chunk data goes */
	uint64_t decoded;               /* chunked bytes decoded so far */
	const char *why;                /* on error */
	int status;                     /* on error: 400, 414, 431 or 502 */
};

/* Prepares R for one message; heads go in ARENA. */
void h1_reader_init(struct h1_reader *r, bool is_response,
    struct arena *arena);
/* Most fields in the head, and separately in the trailers (0: no limit),
 * and the largest trailer section (0: no limit). Over them a request
 * fails with 431, a response with 502. Call after h1_reader_init. */
void h1_reader_set_limits(struct h1_reader *r, unsigned max_fields,
    size_t max_trailer_size);

/* Reads a whole request head from IN: 1 when R->req is filled (and its
 * bytes drained from IN), 0 when more is needed, -1 with R->why and
 * R->status (414 line too long, 431 head too large or too many fields,
 * 400 malformed). A head that can only fail fails as soon as that is
 * known: a bare LF, a first byte that cannot start a method, a request
 * line of MAX_LINE bytes without its end. */
int h1_read_request_head(struct h1_reader *r, struct evbuffer *in,
    struct req_head *h, size_t max_head, size_t max_line);
/* The same for a response head (-1 means 502). */
int h1_read_response_head(struct h1_reader *r, struct evbuffer *in,
    struct resp_head *h, size_t max_head);

/* Moves at most LIMIT body bytes from IN to OUT (decoding chunks):
 * 1 when the body is complete, 0 when more is needed, -1 on bad framing
 * (R->why; R->status 400, or 431/502 for trailers over the limits).
 * For H1_BODY_UNTIL_CLOSE it never returns 1: EOF ends it. */
int h1_read_body(struct h1_reader *r, struct evbuffer *in,
    struct evbuffer *out, size_t limit);

/* Chunked encoding: moves all of DATA into OUT as one chunk. */
void h1_write_chunk(struct evbuffer *out, struct evbuffer *data);
/* The last chunk and TRAILERS (n may be 0). */
void h1_write_last_chunk(struct evbuffer *out, const struct hfield *trailers,
    size_t n);

/* Whether the peer of message H wants the connection kept after it. */
bool h1_req_keepalive(const struct req_head *h);

#endif
