/* proxy/h1.c: HTTP/1.1 framing over evbuffers.
 *
 * A head is screened and its blank line found in one memchr pass over
 * its bytes as they come (each byte once), size-checked, then
 * copied once into the request's arena and parsed there by llhttp in one
 * call, so every field points into memory that lives as long as the
 * request and no field is ever split or copied again. A Content-Length
 * body bypasses llhttp: its bytes move between evbuffers without a copy.
 * Only chunked bodies run through llhttp, which hands the data out of
 * each chunk to on_body.
 */
#include <string.h>

#include <event2/buffer.h>

#include "arena.h"
#include "h1.h"
#include "log.h"

static int on_message_begin(llhttp_t *p);
static int on_method(llhttp_t *p, const char *at, size_t n);
static int on_url(llhttp_t *p, const char *at, size_t n);
static int on_status(llhttp_t *p, const char *at, size_t n);
static int on_header_field(llhttp_t *p, const char *at, size_t n);
static int on_header_field_complete(llhttp_t *p);
static int on_header_value(llhttp_t *p, const char *at, size_t n);
static int on_headers_complete(llhttp_t *p);
static int on_body(llhttp_t *p, const char *at, size_t n);
static int on_message_complete(llhttp_t *p);

static const llhttp_settings_t settings = {
	.on_message_begin = on_message_begin,
	.on_method = on_method,
	.on_url = on_url,
	.on_status = on_status,
	.on_header_field = on_header_field,
	.on_header_field_complete = on_header_field_complete,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

void
h1_reader_init(struct h1_reader *r, bool is_response, struct arena *arena)
{
	memset(r, 0, sizeof(*r));
	llhttp_init(&r->parser, is_response ? HTTP_RESPONSE : HTTP_REQUEST,
	    &settings);
	r->parser.data = r;
	r->arena = arena;
	r->is_response = is_response;
}

static int
on_message_begin(llhttp_t *p)
{
	(void)p;
	return 0;
}

static int
on_method(llhttp_t *p, const char *at, size_t n)
{
	struct h1_reader *r = p->data;

	r->req->method = at;
	r->req->methodlen = (uint32_t)n;
	return 0;
}

static int
on_url(llhttp_t *p, const char *at, size_t n)
{
	struct h1_reader *r = p->data;

	r->req->target = at;
	r->req->targetlen = (uint32_t)n;
	return 0;
}

static int
on_status(llhttp_t *p, const char *at, size_t n)
{
	struct h1_reader *r = p->data;

	r->resp->reason = at;
	r->resp->reasonlen = (uint32_t)n;
	return 0;
}

void
h1_reader_set_limits(struct h1_reader *r, unsigned max_fields,
    size_t max_trailer_size)
{
	r->max_fields = max_fields;
	r->max_trailer_size = max_trailer_size;
}

static int
fail(struct h1_reader *r, int status, const char *why)
{
	r->status = status;
	r->why = why;
	return -1;
}

/* Over a limit: a request gets 431 (RFC 6585 §5), a response is bad. */
static int
over_limit(struct h1_reader *r, const char *why)
{
	return fail(r, r->is_response ? 502 : 431, why);
}

/* Trailers arrive from evbuffer memory that is drained afterwards, and may
 * be split across any number of reads: each piece (a name or a value) is
 * joined in an arena block whose room doubles as it grows, so a long one
 * costs linear time and at most about twice its size. */
static const char *
keep(struct h1_reader *r, const char *old, uint32_t oldlen, const char *at,
    size_t n)
{
	char *p;
	size_t cap;

	if (!r->in_trailers && oldlen == 0)
		return at;
	if (!r->in_trailers && old + oldlen == at)
		return old;
	if (old != NULL && old == r->grow && oldlen + n <= r->grow_cap) {
		memcpy((char *)old + oldlen, at, n);
		return old;
	}
	cap = 2 * ((size_t)oldlen + n);
	if (cap < 64)
		cap = 64;
	if ((p = arena_alloc(r->arena, cap)) == NULL)
		return NULL;
	if (oldlen > 0)
		memcpy(p, old, oldlen);
	memcpy(p + oldlen, at, n);
	r->grow = p;
	r->grow_cap = cap;
	return p;
}

/* N more bytes of the trailer section (RFC 9112 §7.1.2): bounded like a
 * head, so that a trailer cannot do what a head may not. */
static int
count_trailer_bytes(struct h1_reader *r, size_t n)
{
	if (!r->in_trailers)
		return 0;
	r->trailer_bytes += n;
	if (r->max_trailer_size > 0 && r->trailer_bytes > r->max_trailer_size)
		return over_limit(r, "trailers too large");
	return 0;
}

/* One more field in the head, or in the trailers (counted apart). */
static int
count_field(struct h1_reader *r)
{
	size_t n = r->in_trailers ? r->nfields - r->trailer_start :
	    r->nfields;

	if (r->max_fields == 0 || n < r->max_fields)
		return 0;
	return over_limit(r, r->in_trailers ? "too many trailer fields" :
	    "too many header fields");
}

static int
add_field(struct h1_reader *r)
{
	struct hfield *v;
	size_t cap;

	if (r->nfields < r->cap)
		return 0;
	cap = r->cap == 0 ? 16 : r->cap * 2;
	if ((v = arena_alloc(r->arena, cap * sizeof(*v))) == NULL)
		return -1;
	if (r->nfields > 0)
		memcpy(v, r->fields, r->nfields * sizeof(*v));
	r->fields = v;
	r->cap = cap;
	return 0;
}

static int
on_header_field(llhttp_t *p, const char *at, size_t n)
{
	struct h1_reader *r = p->data;
	struct hfield *f;

	/* ": " and CRLF of a new field count too */
	if (count_trailer_bytes(r, r->is_name_done || r->nfields == 0 ?
	    n + 4 : n) == -1)
		return HPE_USER;
	if (r->nfields > 0 && !r->is_name_done) {
		/* the same name, continued in the next buffer */
		f = &r->fields[r->nfields - 1];
		if ((f->name = keep(r, f->name, f->namelen, at, n)) == NULL)
			return HPE_USER;
		f->namelen += (uint32_t)n;
		return 0;
	}
	if (count_field(r) == -1 || add_field(r) == -1)
		return HPE_USER;
	f = &r->fields[r->nfields++];
	r->is_name_done = false;
	f->name = NULL;
	f->namelen = 0;
	if ((f->name = keep(r, NULL, 0, at, n)) == NULL)
		return HPE_USER;
	f->namelen = (uint32_t)n;
	f->value = NULL;
	f->valuelen = 0;
	f->kind = HF_UNKNOWN;
	return 0;
}

static int
on_header_field_complete(llhttp_t *p)
{
	struct h1_reader *r = p->data;
	struct hfield *f = &r->fields[r->nfields - 1];

	r->is_name_done = true;
	f->kind = headers_classify(f->name, f->namelen);
	return 0;
}

static int
on_header_value(llhttp_t *p, const char *at, size_t n)
{
	struct h1_reader *r = p->data;
	struct hfield *f = &r->fields[r->nfields - 1];

	if (count_trailer_bytes(r, n) == -1)
		return HPE_USER;
	if ((f->value = keep(r, f->value, f->valuelen, at, n)) == NULL)
		return HPE_USER;
	f->valuelen += (uint32_t)n;
	return 0;
}

/* A field with an empty value never saw on_header_value. */
static void
fix_empty_values(struct hfield *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].value == NULL)
			v[i].value = "";
}

/* content_length is an int64_t everywhere past this point: a length
 * that does not fit (2^63 and up) would read as negative, "no body", and
 * the body would become the next message. 400 for a request, 502 for a
 * response (set by the caller's default status). */
static int
length_overflows(struct h1_reader *r)
{
	if (r->parser.content_length <= (uint64_t)INT64_MAX)
		return 0;
	r->why = "Content-Length too large";
	return -1;
}

static int
request_complete(struct h1_reader *r)
{
	struct req_head *h = r->req;
	const struct hfield *host = NULL;
	size_t i;

	h->version = r->parser.http_major * 10 + r->parser.http_minor;
	h->fields = r->fields;
	h->nfields = r->nfields;
	h->content_length = -1;
	if (r->parser.http_major != 1) {
		/* HTTP/0.9 has no head to forward; 2 and up are not h1 */
		r->status = r->parser.http_major > 1 ? 505 : 400;
		r->why = "unsupported HTTP version";
		return -1;
	}
	for (i = 0; i < r->nfields; i++) {
		if (r->fields[i].kind != HF_HOST)
			continue;
		if (host != NULL) {
			r->why = "more than one Host field";
			return -1;
		}
		host = &r->fields[i];
	}
	if (host != NULL) {
		h->authority = host->value;
		h->authoritylen = host->valuelen;
	} else if (h->version >= 11) {
		/* RFC 9112 §3.2: a 1.1 request without Host is a 400. */
		r->why = "missing Host field";
		return -1;
	}
	h->wants_continue = headers_has_token(r->fields, r->nfields,
	    "expect", "100-continue");
	/* RFC 6455 §4.1: a GET with Upgrade: websocket and Connection:
	 * upgrade; any other Upgrade is dropped as hop-by-hop. */
	h->is_websocket = headers_has_token(r->fields, r->nfields,
	    "upgrade", "websocket") && headers_has_token(r->fields,
	    r->nfields, "connection", "upgrade") && h->methodlen == 3 &&
	    memcmp(h->method, "GET", 3) == 0;
	if (r->parser.flags & F_CHUNKED) {
		h->is_chunked = h->has_body = true;
		r->body = H1_BODY_CHUNKED;
		return 0;
	}
	/* RFC 9112 §6.3: a request coding that does not end in chunked
	 * leaves the body length unknown: 400. */
	if (headers_find(r->fields, r->nfields, "transfer-encoding") != NULL) {
		r->why = "transfer coding without chunked";
		return -1;
	}
	if (r->parser.flags & F_CONTENT_LENGTH) {
		if (length_overflows(r) == -1)
			return -1;
		h->content_length = (int64_t)r->parser.content_length;
		h->has_body = h->content_length > 0;
		r->body = h->has_body ? H1_BODY_LENGTH : H1_BODY_NONE;
		r->remaining = r->parser.content_length;
	}
	return 1;
}

static int
response_complete(struct h1_reader *r)
{
	struct resp_head *h = r->resp;
	int st = r->parser.status_code;

	h->status = st;
	h->version = r->parser.http_major * 10 + r->parser.http_minor;
	h->fields = r->fields;
	h->nfields = r->nfields;
	h->content_length = -1;
	if (r->parser.flags & F_CONTENT_LENGTH) {
		if (length_overflows(r) == -1)
			return -1;
		h->content_length = (int64_t)r->parser.content_length;
	}
	h->wants_close = headers_has_token(r->fields, r->nfields,
	    "connection", "close") || (h->version < 11 &&
	    !headers_has_token(r->fields, r->nfields, "connection",
	    "keep-alive"));
	if (st < 200 || st == 204 || st == 304 || r->is_head_request)
		return 1;
	if (r->parser.flags & F_CHUNKED) {
		h->is_chunked = true;
		r->body = H1_BODY_CHUNKED;
		return 0;
	}
	if (r->parser.flags & F_CONTENT_LENGTH) {
		r->body = h->content_length > 0 ? H1_BODY_LENGTH :
		    H1_BODY_NONE;
		r->remaining = r->parser.content_length;
		return 1;
	}
	r->body = H1_BODY_UNTIL_CLOSE;
	h->wants_close = true;
	return 1;
}

/* llhttp stops right here, so that parse_head can check it agrees on
 * where the head ends; the body (if any) is read by h1_read_body. */
static int
on_headers_complete(llhttp_t *p)
{
	struct h1_reader *r = p->data;

	fix_empty_values(r->fields, r->nfields);
	if ((r->is_response ? response_complete(r) : request_complete(r)) ==
	    -1)
		return -1;
	return HPE_PAUSED;
}

static int
on_body(llhttp_t *p, const char *at, size_t n)
{
	struct h1_reader *r = p->data;

	evbuffer_add(r->sink, at, n);
	r->decoded += n;
	return 0;
}

static int
on_message_complete(llhttp_t *p)
{
	struct h1_reader *r = p->data;

	if (r->in_trailers) {
		r->trailers = r->fields + r->trailer_start;
		r->ntrailers = r->nfields - r->trailer_start;
		fix_empty_values(r->trailers, r->ntrailers);
	}
	r->is_done = true;
	return HPE_PAUSED;
}

/* RFC 9112 §2.2: ignore empty lines before a request line. */
static void
skip_empty_lines(struct evbuffer *in)
{
	unsigned char *p;

	while ((p = evbuffer_pullup(in, 2)) != NULL && p[0] == '\r' &&
	    p[1] == '\n')
		evbuffer_drain(in, 2);
}

/* A line that starts with SP or HTAB continues the previous one. */
static bool
has_obs_fold(const char *p, size_t len)
{
	const char *end = p + len;

	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL &&
	    ++p < end)
		if (*p == ' ' || *p == '\t')
			return true;
	return false;
}

/* Parses the head at IN's start, LEN bytes long, from an arena copy. */
static int
parse_head(struct h1_reader *r, struct evbuffer *in, size_t len, int bad)
{
	char *buf;
	llhttp_errno_t e;

	if ((buf = arena_alloc(r->arena, len)) == NULL)
		return fail(r, 500, "out of memory");
	evbuffer_remove(in, buf, len);
	/* RFC 9112 §5.2: obs-fold is refused (a proxy may not pass it on,
	 * and unfolding it would hide what the client really sent). */
	if (has_obs_fold(buf, len))
		return fail(r, bad, "obsolete line folding");
	e = llhttp_execute(&r->parser, buf, len);
	if (r->why != NULL)
		return fail(r, r->status != 0 ? r->status : bad, r->why);
	if (e == HPE_OK)
		return fail(r, bad, "incomplete head");
	if (e != HPE_PAUSED)
		return fail(r, bad, llhttp_get_error_reason(&r->parser));
	/* The head ends where llhttp says and where we cut it, or the two
	 * would read the message differently (a bare LF, say). */
	if (llhttp_get_error_pos(&r->parser) != buf + len)
		return fail(r, bad, "malformed head");
	llhttp_resume(&r->parser);
	if (r->body == H1_BODY_CHUNKED) {
		/* fields parsed from now on are trailers */
		r->in_trailers = true;
		r->trailer_start = r->nfields;
	}
	return 1;
}

/* RFC 9110 §5.6.2: tchar, what a method token is made of. */
static bool
is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' &&
	    strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* The first byte of P[0..n) at or past head offset MAX_LINE that is not
 * a CR, while the first line (ending at head offset STOP) lasts: where a
 * request line becomes too long. N if none. */
static size_t
too_long_at(const struct h1_reader *r, const unsigned char *p, size_t n,
    size_t stop, size_t max_line)
{
	size_t i = max_line > r->checked ? max_line - r->checked : 0;
	size_t end = stop - r->checked < n ? stop - r->checked : n;

	for (; i < end; i++)
		if (p[i] != '\r')
			return i;
	return n;
}

/* Screens N new head bytes at offset R->checked: what can only end in
 * a refusal is refused now, not after client_header_timeout; and finds
 * the blank line that ends the head (R->head_end, head bytes after it
 * are left unscreened). Each byte is looked at by memchr alone (a
 * per-byte loop and a second search for the blank line cost 3,500
 * instructions an HTTP/2 request); failures come in the order of their
 * bytes. */
static int
screen_bytes(struct h1_reader *r, const unsigned char *p, size_t n,
    size_t max_line)
{
	const unsigned char *lf = p, *end = p + n;
	size_t bare = n, first_lf = SIZE_MAX, long_at, at;

	if (r->checked == 0 && !r->is_response && !is_tchar(p[0]))
		return fail(r, 400, "no method at the start");
	/* RFC 9112 §2.2: we do not take a bare LF for a line end; a head
	 * that has one is never forwarded (a backend's is a 502 now, not
	 * after backend_read_timeout). With none, an LF two bytes after
	 * the last is the end of "\r\n\r\n". */
	while ((lf = memchr(lf, '\n', (size_t)(end - lf))) != NULL) {
		at = r->checked + (size_t)(lf - p);
		if (first_lf == SIZE_MAX)
			first_lf = (size_t)(lf - p);
		if ((lf == p ? (unsigned char)r->prev : lf[-1]) != '\r') {
			bare = (size_t)(lf - p);
			break;
		}
		if (r->lf_end != 0 && at == r->lf_end + 1) {
			r->head_end = at + 1;
			n = (size_t)(lf - p) + 1;
			break;
		}
		r->lf_end = at + 1;
		lf++;
	}
	long_at = r->line_end != 0 ? n : too_long_at(r, p, n,
	    first_lf != SIZE_MAX ? r->checked + first_lf : SIZE_MAX, max_line);
	/* long_at is N for none; N may have shrunk to the head's end */
	if (long_at < bare && long_at < n)
		return fail(r, 414, "request line too long");
	if (bare < n)
		return fail(r, r->is_response ? 502 : 400, "bare LF in the head");
	if (r->line_end == 0 && first_lf != SIZE_MAX)
		r->line_end = r->checked + first_lf;
	r->checked += n;
	r->prev = (char)p[n - 1];
	return 0;
}

/* Screens IN's bytes that were not screened yet, up to the head's end:
 * each byte of a head is looked at once, however it is split into
 * reads. The offset past the blank line, 0 if not there yet, -1 if the
 * head is refused. */
static ssize_t
screen_head(struct h1_reader *r, struct evbuffer *in, size_t max_line)
{
	struct evbuffer_ptr pos;
	struct evbuffer_iovec v[8];
	size_t len = evbuffer_get_length(in);
	int i, n;

	while (r->head_end == 0 && r->checked < len) {
		if (evbuffer_ptr_set(in, &pos, r->checked,
		    EVBUFFER_PTR_SET) == -1)
			return 0;
		n = evbuffer_peek(in, (ssize_t)(len - r->checked), &pos, v, 8);
		if (n <= 0)
			return 0;
		for (i = 0; i < n && i < 8 && r->head_end == 0; i++)
			if (v[i].iov_len > 0 && screen_bytes(r, v[i].iov_base,
			    v[i].iov_len, max_line) == -1)
				return -1;
	}
	return (ssize_t)r->head_end;
}

int
h1_read_request_head(struct h1_reader *r, struct evbuffer *in,
    struct req_head *h, size_t max_head, size_t max_line)
{
	size_t len;
	ssize_t end;

	skip_empty_lines(in);
	len = evbuffer_get_length(in);
	if (len == 1 && *evbuffer_pullup(in, 1) == '\r')
		return 0;               /* an empty line, half there */
	if ((end = screen_head(r, in, max_line)) == -1)
		return -1;
	if (end == 0) {
		if (len > max_head)
			return fail(r, 431, "request head too large");
		return 0;
	}
	if ((size_t)end > max_head)
		return fail(r, 431, "request head too large");
	memset(h, 0, sizeof(*h));
	r->req = h;
	return parse_head(r, in, (size_t)end, 400);
}

int
h1_read_response_head(struct h1_reader *r, struct evbuffer *in,
    struct resp_head *h, size_t max_head)
{
	ssize_t end;

	if ((end = screen_head(r, in, SIZE_MAX)) == -1)
		return -1;
	if (end == 0) {
		if (evbuffer_get_length(in) > max_head)
			return fail(r, 502, "response head too large");
		return 0;
	}
	if ((size_t)end > max_head)
		return fail(r, 502, "response head too large");
	memset(h, 0, sizeof(*h));
	r->resp = h;
	return parse_head(r, in, (size_t)end, 502);
}

static int
read_chunked(struct h1_reader *r, struct evbuffer *in, struct evbuffer *out,
    size_t limit)
{
	struct evbuffer_iovec v;
	llhttp_errno_t e;
	size_t n;

	r->sink = out;
	while (limit > 0 && evbuffer_get_length(in) > 0 &&
	    evbuffer_peek(in, -1, NULL, &v, 1) > 0) {
		/* a read that brought nothing (the EOF's) leaves an empty
		 * chain: executing it would loop here for ever */
		if (v.iov_len == 0) {
			evbuffer_pullup(in, 1);
			continue;
		}
		n = v.iov_len < limit ? v.iov_len : limit;
		e = llhttp_execute(&r->parser, v.iov_base, n);
		if (e == HPE_PAUSED) {
			n = (size_t)(llhttp_get_error_pos(&r->parser) -
			    (const char *)v.iov_base);
			evbuffer_drain(in, n);
			llhttp_resume(&r->parser);
			return 1;
		}
		if (e != HPE_OK && r->why != NULL)
			return -1;      /* a limit: status and why are set */
		if (e != HPE_OK)
			return fail(r, 400,
			    llhttp_get_error_reason(&r->parser));
		evbuffer_drain(in, n);
		limit -= n;
	}
	return 0;
}

int
h1_read_body(struct h1_reader *r, struct evbuffer *in, struct evbuffer *out,
    size_t limit)
{
	size_t n = evbuffer_get_length(in);

	switch (r->body) {
	case H1_BODY_NONE:
		return 1;
	case H1_BODY_LENGTH:
		if (n > r->remaining)
			n = (size_t)r->remaining;
		if (n > limit)
			n = limit;
		evbuffer_remove_buffer(in, out, n);
		r->remaining -= n;
		return r->remaining == 0;
	case H1_BODY_CHUNKED:
		return read_chunked(r, in, out, limit);
	case H1_BODY_UNTIL_CLOSE:
		evbuffer_remove_buffer(in, out, n < limit ? n : limit);
		return 0;
	}
	return -1;
}

void
h1_write_chunk(struct evbuffer *out, struct evbuffer *data)
{
	size_t n = evbuffer_get_length(data);

	if (n == 0)
		return;
	evbuffer_add_printf(out, "%zx\r\n", n);
	evbuffer_add_buffer(out, data);
	evbuffer_add(out, "\r\n", 2);
}

/* Trailers obey headers_is_trailer_allowed() whichever way they go
 * (client to backend, backend to client); what is dropped is logged once
 * per message. */
void
h1_write_last_chunk(struct evbuffer *out, const struct hfield *trailers,
    size_t n)
{
	size_t i, ndropped = 0;

	evbuffer_add(out, "0\r\n", 3);
	for (i = 0; i < n; i++) {
		if (!headers_is_trailer_allowed(trailers, n, &trailers[i])) {
			ndropped++;
			continue;
		}
		evbuffer_add(out, trailers[i].name, trailers[i].namelen);
		evbuffer_add(out, ": ", 2);
		evbuffer_add(out, trailers[i].value, trailers[i].valuelen);
		evbuffer_add(out, "\r\n", 2);
	}
	evbuffer_add(out, "\r\n", 2);
	if (ndropped > 0)
		log_msg(LOG_DEBUG, "trailers: %zu of %zu fields may not "
		    "cross (RFC 9110 6.5.1): dropped", ndropped, n);
}

bool
h1_req_keepalive(const struct req_head *h)
{
	if (headers_has_token(h->fields, h->nfields, "connection", "close"))
		return false;
	if (h->version >= 11)
		return true;
	return headers_has_token(h->fields, h->nfields, "connection",
	    "keep-alive");
}
