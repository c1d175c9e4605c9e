/*
 * tests/origin/origin.c: the test origin, an HTTP/1.1 server that the
 * integration tests and `make demo` put behind portico.
 *
 * One thread, one event_base. Each connection runs one request at a time:
 * llhttp parses straight out of the bufferevent's input and pauses at the end
 * of each message, so pipelined requests wait in the input (bounded by the
 * read high-water mark) until the response before them has drained below
 * ORIGIN_LOWAT. Bodies are never held: request bodies go through SHA-256 and
 * are dropped; /bytes bodies are references into one static pattern buffer,
 * added as the output drains. A connection that ends after a response shuts
 * down its write side and discards input until the peer closes, so that
 * unread request bytes cannot turn our FIN into a RST that eats the reply.
 * A 101 from /ws takes the connection away from llhttp for good: from then
 * on it echoes WebSocket frames (see ws.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <llhttp.h>
#include <openssl/evp.h>

#include "origin.h"


static char pattern[ORIGIN_PIECE + 26];

static const char index_html[] =
	"<!DOCTYPE html>\n<html><head><title>portico demo origin</title>"
	"</head>\n<body><h1>portico demo origin</h1>\n<ul>\n"
	"<li><a href=\"/echo\">/echo</a>: the request as JSON</li>\n"
	"<li><a href=\"/bytes/1000\">/bytes/N</a>: N pattern bytes "
	"(?chunked=1, ?rate=B/s)</li>\n"
	"<li><a href=\"/slow?ms=1000\">/slow?ms=N</a></li>\n"
	"<li><a href=\"/status/404\">/status/N</a></li>\n"
	"<li>/drop, /close, /bad: broken responses</li>\n"
	"<li><a href=\"/bighead\">/bighead?size=N</a></li>\n"
	"<li><a href=\"/trailers\">/trailers</a>, "
	"<a href=\"/early-hints\">/early-hints</a></li>\n"
	"<li><a href=\"/stats\">/stats</a>: connections, requests and "
	"websockets</li>\n"
	"<li>/cut/length, /cut/chunked, /cut/badchunk, /cut/close"
	"?n=N&amp;fin=1: N body bytes, then a reset (fin=1: a FIN)</li>\n"
	"<li>/ws: websocket echo (?close_after_ms=N, ?ext=1, "
	"?shut_after=N, ?half_close=1, ?reset_after_ms=N: dies with a "
	"reset); /ws-refuse, "
	"/ws-badaccept; <a href=\"/ws-last\">/ws-last</a>: the last "
	"upgrade request; <a href=\"/ws-page\">/ws-page</a></li>\n"
	"</ul></body></html>\n";

static void process_input(struct conn *c);

/* ---- small helpers ---- */

static int
buf_add(struct buf *b, const char *p, size_t n)
{
	size_t cap;
	char *np;

	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL)
			return -1;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

void
json_escape(struct evbuffer *out, const char *p, size_t n)
{
	size_t i, run = 0;
	unsigned char ch;

	for (i = 0; i < n; i++) {
		ch = (unsigned char)p[i];
		if (ch >= 0x20 && ch != '"' && ch != '\\')
			continue;
		evbuffer_add(out, p + run, i - run);
		if (ch == '"' || ch == '\\')
			evbuffer_add_printf(out, "\\%c", ch);
		else
			evbuffer_add_printf(out, "\\u%04x", ch);
		run = i + 1;
	}
	evbuffer_add(out, p + run, n - run);
}

bool
field_is(const char *s, size_t len, const char *want)
{
	return len == strlen(want) && strncasecmp(s, want, len) == 0;
}

/* Finds key=NUMBER in a k=v&k=v query; 0 if found, -1 if not. */
int
query_num(const char *q, const char *key, uint64_t *out)
{
	size_t klen = strlen(key);
	char *end;

	while (q != NULL && *q != '\0') {
		if (strncmp(q, key, klen) == 0 && q[klen] == '=') {
			errno = 0;
			*out = strtoull(q + klen + 1, &end, 10);
			if (errno == 0 && end != q + klen + 1)
				return 0;
			return -1;
		}
		q = strchr(q, '&');
		if (q != NULL)
			q++;
	}
	return -1;
}

/* Parses a whole decimal string; -1 if it is not one. */
static int
parse_num(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 19)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static const char *
reason(int status)
{
	static const struct {
		int status;
		const char *text;
	} reasons[] = {
		{ 100, "Continue" }, { 101, "Switching Protocols" },
		{ 103, "Early Hints" }, { 200, "OK" },
		{ 201, "Created" }, { 202, "Accepted" }, { 204, "No Content" },
		{ 206, "Partial Content" }, { 301, "Moved Permanently" },
		{ 302, "Found" }, { 304, "Not Modified" },
		{ 307, "Temporary Redirect" }, { 400, "Bad Request" },
		{ 401, "Unauthorized" }, { 403, "Forbidden" },
		{ 404, "Not Found" }, { 405, "Method Not Allowed" },
		{ 408, "Request Timeout" }, { 413, "Content Too Large" },
		{ 414, "URI Too Long" }, { 429, "Too Many Requests" },
		{ 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
		{ 502, "Bad Gateway" }, { 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" },
	};
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].text;
	return "Status";
}

/* ---- connection lifetime ---- */

void
set_state(struct conn *c, enum conn_state state)
{
	/* A timer belongs to the state that armed it. */
	if (state != c->state)
		evtimer_del(c->timer);
	c->state = state;
}

void
arm_timer_ms(struct conn *c, uint64_t ms)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(c->timer, &tv);
}

void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	TAILQ_REMOVE(&c->srv->conns, c, link);
	if (c->ws.is_open)
		c->srv->n_ws_open--;
	event_free(c->timer);
	bufferevent_free(c->bev);
	if (c->record_fd >= 0)
		close(c->record_fd);
	EVP_MD_CTX_free(c->sha);
	evbuffer_free(c->headers);
	evbuffer_free(c->trailers);
	evbuffer_free(c->scratch);
	free(c->url.p);
	free(c);
}

/* Ends the connection once its output has gone; see settle(). */
void
conn_finish(struct conn *c)
{
	set_state(c, CONN_CLOSING);
	evbuffer_drain(bufferevent_get_input(c->bev),
	    evbuffer_get_length(bufferevent_get_input(c->bev)));
	/* The write callback now runs only once the output is empty. */
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
}

/* Runs last in every callback: it may free c. */
static void
settle(struct conn *c)
{
	struct timeval tv = { c->is_half_closed ? ORIGIN_HALF_CLOSE_SEC :
	    ORIGIN_LINGER_SEC, 0 };

	if (c->state != CONN_CLOSING ||
	    evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
		return;
	if (c->is_eof) {
		conn_free(c);
		return;
	}
	shutdown(bufferevent_getfd(c->bev), SHUT_WR);
	set_state(c, CONN_LINGER);
	evtimer_add(c->timer, &tv);
}

void
log_request(struct conn *c, int status)
{
	if (c->srv->is_quiet)
		return;
	fprintf(stderr, "origin: conn %lu: %s %s HTTP/%d.%d -> %d\n", c->id,
	    llhttp_method_name((llhttp_method_t)c->parser.method),
	    c->url.p ? c->url.p : "", c->parser.http_major,
	    c->parser.http_minor, status);
}

/* ---- responses ---- */

/* Queues a status line and fields; length is a byte count or LEN_*. */
static void
send_head(struct conn *c, int status, const char *fields, int64_t length)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	log_request(c, status);
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", status, reason(status));
	if (fields != NULL)
		evbuffer_add(out, fields, strlen(fields));
	if (length >= 0)
		evbuffer_add_printf(out, "Content-Length: %" PRId64 "\r\n",
		    length);
	else if (length == LEN_CHUNKED)
		evbuffer_add(out, "Transfer-Encoding: chunked\r\n", 28);
	if (!c->req.keep_alive)
		evbuffer_add(out, "Connection: close\r\n", 19);
	else if (c->parser.http_major == 1 && c->parser.http_minor == 0)
		evbuffer_add(out, "Connection: keep-alive\r\n", 24);
	evbuffer_add(out, "\r\n", 2);
}

/* The reply is queued: go on with the next request, or end. */
static void
response_done(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (!c->req.keep_alive || c->is_eof) {
		conn_finish(c);
		return;
	}
	if (evbuffer_get_length(out) > ORIGIN_LOWAT) {
		set_state(c, CONN_DRAIN);
		return;
	}
	set_state(c, CONN_HEAD);
	llhttp_resume(&c->parser);
}

void
send_body(struct conn *c, int status, const char *ctype,
    struct evbuffer *body)
{
	char fields[128];
	size_t len = evbuffer_get_length(body);

	snprintf(fields, sizeof(fields), "Content-Type: %s\r\n", ctype);
	send_head(c, status, fields, (int64_t)len);
	if (c->req.is_head)
		evbuffer_drain(body, len);
	else
		evbuffer_add_buffer(bufferevent_get_output(c->bev), body);
	response_done(c);
}

void
send_text(struct conn *c, int status, const char *ctype, const char *text)
{
	evbuffer_add(c->scratch, text, strlen(text));
	send_body(c, status, ctype, c->scratch);
}

static void
reply_echo(struct conn *c)
{
	struct evbuffer *b = c->scratch;
	struct req *r = &c->req;
	int i;

	evbuffer_add_printf(b, "{\"method\":\"%s\",\"target\":\"",
	    llhttp_method_name((llhttp_method_t)c->parser.method));
	json_escape(b, c->url.p, c->url.len);
	evbuffer_add_printf(b, "\",\"version\":\"%d.%d\",\"headers\":[",
	    c->parser.http_major, c->parser.http_minor);
	evbuffer_add_buffer(b, c->headers);
	evbuffer_add_printf(b, "],\"body_length\":%" PRIu64
	    ",\"body_sha256\":\"", r->body_len);
	for (i = 0; i < 32; i++)
		evbuffer_add_printf(b, "%02x", r->digest[i]);
	evbuffer_add_printf(b, "\",\"chunked\":%s,\"trailers\":[",
	    r->is_chunked ? "true" : "false");
	evbuffer_add_buffer(b, c->trailers);
	evbuffer_add_printf(b, "],\"connection\":%lu}\n", c->id);
	send_body(c, 200, "application/json", b);
}

/* Adds up to n bytes of the /bytes body, framed if chunked. */
static void
stream_add(struct conn *c, uint64_t n)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	struct req *r = &c->req;
	size_t piece;

	while (n > 0 && r->left > 0) {
		piece = (size_t)MIN(MIN(n, r->left),
		    r->chunked_out ? ORIGIN_CHUNK : ORIGIN_PIECE);
		if (r->chunked_out)
			evbuffer_add_printf(out, "%zx\r\n", piece);
		evbuffer_add_reference(out, pattern + r->off % 26, piece,
		    NULL, NULL);
		if (r->chunked_out)
			evbuffer_add(out, "\r\n", 2);
		r->off += piece;
		r->left -= piece;
		n -= piece;
	}
	if (r->left > 0)
		return;
	if (r->chunked_out)
		evbuffer_add(out, "0\r\n\r\n", 5);
	response_done(c);
}

/* Bytes per pacing tick, and the tick length that keeps to rate. */
static uint64_t
pace_tick(uint64_t rate, uint64_t *us)
{
	uint64_t per = rate / 10 ? rate / 10 : 1;

	*us = per * 1000000 / rate;
	if (*us == 0)
		*us = 1;
	return per;
}

static void
arm_pace(struct conn *c)
{
	struct timeval tv;
	uint64_t us;

	pace_tick(c->req.rate, &us);
	tv.tv_sec = (time_t)(us / 1000000);
	tv.tv_usec = (suseconds_t)(us % 1000000);
	evtimer_add(c->timer, &tv);
}

/* Sends what the pace allows now; the timer brings the rest. */
static void
stream_paced(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	uint64_t us;

	if (evbuffer_get_length(out) < ORIGIN_LOWAT)
		stream_add(c, pace_tick(c->req.rate, &us));
	if (c->state == CONN_STREAM)
		arm_pace(c);
}

static void
stream_fill(struct conn *c)
{
	size_t queued = evbuffer_get_length(bufferevent_get_output(c->bev));

	if (queued < ORIGIN_HIWAT)
		stream_add(c, ORIGIN_HIWAT - queued);
}

static void
reply_bytes(struct conn *c)
{
	struct req *r = &c->req;
	uint64_t v = 0;

	r->chunked_out = r->can_chunk &&
	    query_num(r->query, "chunked", &v) == 0 && v != 0;
	send_head(c, 200, "Content-Type: application/octet-stream\r\n",
	    r->chunked_out ? LEN_CHUNKED : (int64_t)r->n);
	if (r->is_head) {
		response_done(c);
		return;
	}
	r->left = r->n;
	set_state(c, CONN_STREAM);
	if (r->rate > 0)
		stream_paced(c);
	else
		stream_fill(c);
}

static void
reply_status(struct conn *c)
{
	int status = (int)c->req.n;
	char text[32];

	if (c->req.n < 200 || c->req.n > 999)
		status = 400;
	if (status == 204 || status == 304) {
		send_head(c, status, NULL, LEN_NONE);
		response_done(c);
		return;
	}
	snprintf(text, sizeof(text), "status %d\n", status);
	send_text(c, status, "text/plain", text);
}

static void
reply_drop(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	c->req.keep_alive = false;
	send_head(c, 200, "Content-Type: application/octet-stream\r\n",
	    1000000);
	evbuffer_add_reference(out, pattern, 10000, NULL, NULL);
	conn_finish(c);
}

static void
reply_bad(struct conn *c)
{
	static const char bad[] = "HTTP/1.1 2x0 Nope\r\n\r\n";

	log_request(c, 0);
	evbuffer_add(bufferevent_get_output(c->bev), bad, sizeof(bad) - 1);
	conn_finish(c);
}

/*
 * /cut/MODE?n=N&fin=1: a response whose body stops after N bytes (default
 * 1000), short of what its framing promised (MODE close: it promised
 * nothing). What is queued is written now; 100 ms later (on_timer) the
 * connection is reset (SO_LINGER 0), or with fin=1 closed with a FIN.
 * For a proxy that must not pass a cut body on as a complete one; a FIN
 * after /cut/close is a complete response.
 */
#define ORIGIN_CUT_MS   100

static void
reply_cut(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	struct req *r = &c->req;
	uint64_t n = 1000, off, piece;
	static const char *const fields[] = {
		[CUT_LENGTH] = "",
		[CUT_CHUNKED] = "Transfer-Encoding: chunked\r\n",
		[CUT_BADCHUNK] = "Transfer-Encoding: chunked\r\n",
		[CUT_CLOSE] = "",
	};

	query_num(r->query, "n", &n);
	if (n > ORIGIN_BIGHEAD_MAX) {
		send_text(c, 400, "text/plain", "n too large\n");
		return;
	}
	log_request(c, 200);
	evbuffer_add_printf(out, "HTTP/1.1 200 OK\r\nContent-Type: "
	    "application/octet-stream\r\nConnection: close\r\n%s",
	    fields[r->cut]);
	if (r->cut == CUT_LENGTH)
		evbuffer_add_printf(out, "Content-Length: %" PRIu64 "\r\n",
		    2 * n);
	evbuffer_add(out, "\r\n", 2);
	if (r->cut == CUT_CHUNKED)
		evbuffer_add_printf(out, "%" PRIx64 "\r\n", 2 * n);
	else if (r->cut == CUT_BADCHUNK)
		evbuffer_add_printf(out, "%" PRIx64 "\r\n", n);
	for (off = 0; off < n; off += piece) {
		piece = MIN(n - off, ORIGIN_PIECE);
		evbuffer_add_reference(out, pattern + off % 26,
		    (size_t)piece, NULL, NULL);
	}
	if (r->cut == CUT_BADCHUNK)
		evbuffer_add(out, "\r\nzz\r\n", 6);
	evbuffer_write(out, bufferevent_getfd(c->bev));
	set_state(c, CONN_CUT);
	arm_timer_ms(c, ORIGIN_CUT_MS);
}

/* The timer after reply_cut: the connection ends as fin= said. */
static void
cut_end(struct conn *c)
{
	struct linger l = { 1, 0 };
	uint64_t fin = 0;

	query_num(c->req.query, "fin", &fin);
	if (fin != 0) {
		conn_finish(c);
		settle(c);
		return;
	}
	setsockopt(bufferevent_getfd(c->bev), SOL_SOCKET, SO_LINGER, &l,
	    sizeof(l));
	conn_free(c);
}

static void
reply_bighead(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	uint64_t size = 100000, off, piece;

	query_num(c->req.query, "size", &size);
	if (size > ORIGIN_BIGHEAD_MAX) {
		send_text(c, 400, "text/plain", "size too large\n");
		return;
	}
	log_request(c, 200);
	evbuffer_add_printf(out, "HTTP/1.1 200 OK\r\nX-Big: ");
	for (off = 0; off < size; off += piece) {
		piece = MIN(size - off, ORIGIN_PIECE);
		evbuffer_add_reference(out, pattern, (size_t)piece,
		    NULL, NULL);
	}
	evbuffer_add_printf(out, "\r\nContent-Length: 0\r\n%s\r\n",
	    c->req.keep_alive ? "" : "Connection: close\r\n");
	response_done(c);
}

static void
reply_trailers(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	uint64_t bad = 0, many = 0, i;

	if (!c->req.can_chunk) {
		send_text(c, 200, "text/plain", "hello\n");
		return;
	}
	send_head(c, 200, "Content-Type: text/plain\r\nTrailer: X-Checksum\r\n",
	    LEN_CHUNKED);
	query_num(c->req.query, "bad", &bad);
	query_num(c->req.query, "many", &many);
	if (!c->req.is_head) {
		evbuffer_add_printf(out,
		    "6\r\nhello\n\r\n0\r\nX-Checksum: abc\r\n%s",
		    bad != 0 ?
		    "Host: evil.test\r\nContent-Length: 99\r\n"
		    "X-Forwarded-For: 6.6.6.6\r\nForwarded: for=6.6.6.6\r\n"
		    "Proxy-Evil: 1\r\nX-Forwarded-Host: evil.test\r\n"
		    "Connection: x-hop\r\nX-Hop: evil\r\n"
		    "X-After: ok\r\n" : "");
		for (i = 0; i < many && i < 100000; i++)
			evbuffer_add_printf(out, "X-T-%" PRIu64 ": v\r\n", i);
		evbuffer_add(out, "\r\n", 2);
	}
	response_done(c);
}

static void
reply_early_hints(struct conn *c)
{
	/* RFC 9110 §15.2: no 1xx to an HTTP/1.0 client. */
	if (c->req.can_chunk)
		evbuffer_add_printf(bufferevent_get_output(c->bev),
		    "HTTP/1.1 103 Early Hints\r\n"
		    "Link: </style.css>; rel=preload\r\n\r\n");
	send_text(c, 200, "text/plain", "hinted\n");
}

/* /interim?n=N&status=S&size=B: N interim responses (status S, 100 to
 * 199 but 101, default 103), each with an X-Pad of B bytes (default 0),
 * then 200 "interim N". For a proxy's limit on 1xx and its backpressure
 * on them. The whole is kept under 64 MiB. */
static void
reply_interim(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	uint64_t n = 1, status = 103, size = 0, i, off, piece;
	char text[48];

	query_num(c->req.query, "n", &n);
	query_num(c->req.query, "status", &status);
	query_num(c->req.query, "size", &size);
	if (status < 100 || status > 199 || status == 101 ||
	    size > ORIGIN_BIGHEAD_MAX || n > (64u << 20) / (size + 64)) {
		send_text(c, 400, "text/plain", "bad interim query\n");
		return;
	}
	for (i = 0; i < n && c->req.can_chunk; i++) {
		evbuffer_add_printf(out, "HTTP/1.1 %u Interim\r\n"
		    "Link: </%llu.css>; rel=preload\r\n", (unsigned)status,
		    (unsigned long long)i);
		if (size > 0)
			evbuffer_add(out, "X-Pad: ", 7);
		for (off = 0; off < size; off += piece) {
			piece = MIN(size - off, ORIGIN_PIECE);
			evbuffer_add_reference(out, pattern, (size_t)piece,
			    NULL, NULL);
		}
		evbuffer_add(out, size > 0 ? "\r\n\r\n" : "\r\n", size > 0 ?
		    4 : 2);
	}
	snprintf(text, sizeof(text), "interim %llu\n", (unsigned long long)n);
	send_text(c, 200, "text/plain", text);
}

static void
reply_stats(struct conn *c)
{
	evbuffer_add_printf(c->scratch, "{\"connections\":%lu,\"requests\":%lu,"
	    "\"ws_sessions\":%lu,\"ws_open\":%lu}\n", c->srv->n_conns,
	    c->srv->n_requests, c->srv->n_ws_sessions, c->srv->n_ws_open);
	send_body(c, 200, "application/json", c->scratch);
}

/* The request is read and its delay, if any, is over: answer it. */
static void
reply(struct conn *c)
{
	char buf[64];

	/* a kept-alive connection the "backend" closes just as a request
	 * arrives: what a proxy's stale pooled connection looks like */
	if (c->is_drop_next) {
		log_request(c, 0);
		conn_finish(c);
		return;
	}
	switch (c->req.route) {
	case ROUTE_INDEX:
		send_text(c, 200, "text/html; charset=utf-8", index_html);
		break;
	case ROUTE_ECHO:
		reply_echo(c);
		break;
	case ROUTE_BYTES:
		reply_bytes(c);
		break;
	case ROUTE_SLOW:
		send_text(c, 200, "text/plain", "slow\n");
		break;
	case ROUTE_STATUS:
		reply_status(c);
		break;
	case ROUTE_DROP:
		reply_drop(c);
		break;
	case ROUTE_CLOSE:
		log_request(c, 0);
		conn_finish(c);
		break;
	case ROUTE_CLOSE_NEXT:
		c->is_drop_next = true;
		snprintf(buf, sizeof(buf), "armed %lu\n", c->id);
		send_text(c, 200, "text/plain", buf);
		break;
	case ROUTE_BAD:
		reply_bad(c);
		break;
	case ROUTE_BIGHEAD:
		reply_bighead(c);
		break;
	case ROUTE_TRAILERS:
		reply_trailers(c);
		break;
	case ROUTE_EARLY_HINTS:
		reply_early_hints(c);
		break;
	case ROUTE_HSTS:
		/* a backend's own Strict-Transport-Security, for a proxy
		 * that adds one unless the backend did */
		send_head(c, 200, "Strict-Transport-Security: max-age=60\r\n"
		    "Content-Type: text/plain\r\n", 5);
		if (!c->req.is_head)
			evbuffer_add(bufferevent_get_output(c->bev), "hsts\n",
			    5);
		response_done(c);
		break;
	case ROUTE_INTERIM:
		reply_interim(c);
		break;
	case ROUTE_STATS:
		reply_stats(c);
		break;
	case ROUTE_WS:
		reply_ws(c, false);
		break;
	case ROUTE_WS_BADACCEPT:
		reply_ws(c, true);
		break;
	case ROUTE_WS_REFUSE:
		send_text(c, 403, "text/plain", "websocket refused\n");
		break;
	case ROUTE_WS_LAST:
		reply_ws_last(c);
		break;
	case ROUTE_WS_PAGE:
		reply_ws_page(c);
		break;
	case ROUTE_CUT:
		reply_cut(c);
		break;
	case ROUTE_NOT_FOUND:
		send_text(c, 404, "text/plain", "not found\n");
		break;
	}
}

/* The parser paused at the end of a message. */
static void
request_read(struct conn *c)
{
	if (c->req.delay_ms > 0) {
		set_state(c, CONN_DELAY);
		arm_timer_ms(c, c->req.delay_ms);
		return;
	}
	reply(c);
}

static void
refuse(struct conn *c, int status)
{
	c->req.keep_alive = false;
	c->req.is_head = false;
	send_text(c, status, "text/plain",
	    status == 431 ? "request head too large\n" : "bad request\n");
}

/* ---- request parsing (llhttp) ---- */

static const struct {
	const char *path;
	enum route route;
} routes[] = {
	{ "/", ROUTE_INDEX }, { "/slow", ROUTE_SLOW }, { "/drop", ROUTE_DROP },
	{ "/close", ROUTE_CLOSE }, { "/close-next", ROUTE_CLOSE_NEXT },
	{ "/bad", ROUTE_BAD },
	{ "/bighead", ROUTE_BIGHEAD }, { "/trailers", ROUTE_TRAILERS },
	{ "/early-hints", ROUTE_EARLY_HINTS }, { "/stats", ROUTE_STATS },
	{ "/interim", ROUTE_INTERIM }, { "/hsts", ROUTE_HSTS },
	{ "/ws", ROUTE_WS }, { "/ws-refuse", ROUTE_WS_REFUSE },
	{ "/ws-badaccept", ROUTE_WS_BADACCEPT }, { "/ws-last", ROUTE_WS_LAST },
	{ "/ws-page", ROUTE_WS_PAGE },
};

static bool
is_ws_route(enum route route)
{
	return route == ROUTE_WS || route == ROUTE_WS_REFUSE ||
	    route == ROUTE_WS_BADACCEPT;
}

static enum route
route_cut(struct req *r, const char *mode, size_t len)
{
	static const char *const modes[] = {
		[CUT_LENGTH] = "length", [CUT_CHUNKED] = "chunked",
		[CUT_BADCHUNK] = "badchunk", [CUT_CLOSE] = "close",
	};
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strlen(modes[i]) == len && strncmp(modes[i], mode,
		    len) == 0) {
			r->cut = (enum cut_mode)i;
			return ROUTE_CUT;
		}
	return ROUTE_NOT_FOUND;
}

static enum route
route_path(struct req *r, const char *path, size_t len)
{
	size_t i;

	if (len >= 5 && strncmp(path, "/echo", 5) == 0)
		return ROUTE_ECHO;
	if (len > 7 && strncmp(path, "/bytes/", 7) == 0)
		return parse_num(path + 7, len - 7, &r->n) == 0 &&
		    r->n <= ORIGIN_BYTES_MAX ? ROUTE_BYTES : ROUTE_NOT_FOUND;
	if (len > 8 && strncmp(path, "/status/", 8) == 0)
		return parse_num(path + 8, len - 8, &r->n) == 0 ?
		    ROUTE_STATUS : ROUTE_NOT_FOUND;
	if (len > 5 && strncmp(path, "/cut/", 5) == 0)
		return route_cut(r, path + 5, len - 5);
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (strlen(routes[i].path) == len &&
		    strncmp(routes[i].path, path, len) == 0)
			return routes[i].route;
	return ROUTE_NOT_FOUND;
}

/* Splits the target into path and query and picks the endpoint. */
static void
parse_target(struct conn *c)
{
	struct req *r = &c->req;
	const char *path = c->url.p ? c->url.p : "", *q, *s;

	/* RFC 9112 §3.2.2: absolute-form; the path starts after authority. */
	if (path[0] != '/' && (s = strstr(path, "://")) != NULL)
		path = strchr(s + 3, '/') ? strchr(s + 3, '/') : "/";
	q = strchr(path, '?');
	r->query = q ? q + 1 : "";
	r->route = route_path(r, path, q ? (size_t)(q - path) : strlen(path));
	query_num(r->query, "rate", &r->rate);
	if (r->route == ROUTE_SLOW)
		query_num(r->query, "ms", &r->delay_ms);
	else
		query_num(r->query, "delay_ms", &r->delay_ms);
}

static int
count_head(struct conn *c, size_t n)
{
	c->req.head_bytes += n;
	if (c->req.head_bytes <= ORIGIN_HEAD_MAX)
		return 0;
	c->req.error_status = 431;
	return -1;
}

static int
on_message_begin(llhttp_t *p)
{
	struct conn *c = p->data;

	memset(&c->req, 0, sizeof(c->req));
	c->url.len = 0;
	if (c->url.p != NULL)
		c->url.p[0] = '\0';
	evbuffer_drain(c->headers, evbuffer_get_length(c->headers));
	evbuffer_drain(c->trailers, evbuffer_get_length(c->trailers));
	return 0;
}

static int
on_url(llhttp_t *p, const char *at, size_t n)
{
	struct conn *c = p->data;

	if (count_head(c, n) == -1 || buf_add(&c->url, at, n) == -1)
		return -1;
	return 0;
}

static struct evbuffer *
field_list(struct conn *c)
{
	return c->req.in_trailers ? c->trailers : c->headers;
}

static int
on_header_field(llhttp_t *p, const char *at, size_t n)
{
	struct conn *c = p->data;
	struct req *r = &c->req;
	unsigned *count = r->in_trailers ? &r->n_trailers : &r->n_headers;

	if (count_head(c, n) == -1)
		return -1;
	if (!r->in_name) {
		evbuffer_add(field_list(c), *count ? ",[\"" : "[\"",
		    *count ? 3 : 2);
		(*count)++;
		r->in_name = true;
		r->name_len = r->value_len = 0;
	}
	if (r->name_len + n <= sizeof(r->name))
		memcpy(r->name + r->name_len, at, n);
	r->name_len += n;
	json_escape(field_list(c), at, n);
	return 0;
}

static int
on_header_field_complete(llhttp_t *p)
{
	struct conn *c = p->data;

	c->req.in_name = false;
	evbuffer_add(field_list(c), "\",\"", 3);
	return 0;
}

static int
on_header_value(llhttp_t *p, const char *at, size_t n)
{
	struct conn *c = p->data;
	struct req *r = &c->req;

	if (count_head(c, n) == -1)
		return -1;
	if (r->value_len + n <= sizeof(r->value))
		memcpy(r->value + r->value_len, at, n);
	r->value_len += n;
	json_escape(field_list(c), at, n);
	return 0;
}

static int
on_header_value_complete(llhttp_t *p)
{
	struct conn *c = p->data;
	struct req *r = &c->req;

	evbuffer_add(field_list(c), "\"]", 2);
	if (r->in_trailers)
		return 0;
	if (field_is(r->name, r->name_len, "expect") &&
	    field_is(r->value, r->value_len, "100-continue"))
		r->expect_continue = true;
	if (r->name_len <= sizeof(r->name))
		ws_offer_field(&r->ws, r->name, r->name_len, r->value,
		    r->value_len);
	return 0;
}

/* Returns 0, or HPE_PAUSED so that process_input starts pacing. */
static int
headers_complete(struct conn *c)
{
	struct req *r = &c->req;
	uint64_t us;

	parse_target(c);
	r->in_trailers = true;
	r->is_head = c->parser.method == HTTP_HEAD;
	r->is_chunked = (c->parser.flags & F_CHUNKED) != 0;
	r->has_body = r->is_chunked || c->parser.content_length > 0;
	r->can_chunk = c->parser.http_major > 1 ||
	    (c->parser.http_major == 1 && c->parser.http_minor >= 1);
	if (r->route != ROUTE_STATS)
		c->srv->n_requests++;
	if (r->ws.has_upgrade)
		ws_record(c);
	set_state(c, CONN_BODY);
	if (r->route != ROUTE_ECHO)
		return 0;
	EVP_DigestInit_ex(c->sha, EVP_sha256(), NULL);
	/* RFC 9110 §10.1.1: a 1.0 client never asks for 100. */
	if (r->expect_continue && r->has_body && r->can_chunk)
		evbuffer_add(bufferevent_get_output(c->bev),
		    "HTTP/1.1 100 Continue\r\n\r\n", 25);
	if (r->rate == 0 || !r->has_body)
		return 0;
	c->budget = pace_tick(r->rate, &us);
	arm_pace(c);
	return HPE_PAUSED;
}

static int
on_headers_complete(llhttp_t *p)
{
	return headers_complete(p->data);
}

static int
on_body(llhttp_t *p, const char *at, size_t n)
{
	struct conn *c = p->data;

	c->req.body_len += n;
	if (c->req.route == ROUTE_ECHO)
		EVP_DigestUpdate(c->sha, at, n);
	return 0;
}

static int
on_message_complete(llhttp_t *p)
{
	struct conn *c = p->data;
	struct req *r = &c->req;

	r->is_complete = true;
	/*
	 * An Upgrade we do not take leaves the bytes after it unparsable, but
	 * for a WebSocket GET the client waits for our 101 (RFC 6455 §4.1),
	 * so after any other answer the connection stays HTTP.
	 */
	r->keep_alive = llhttp_should_keep_alive(p) && (!p->upgrade ||
	    (is_ws_route(r->route) && p->method == HTTP_GET));
	if (r->route == ROUTE_ECHO)
		EVP_DigestFinal_ex(c->sha, r->digest, NULL);
	return HPE_PAUSED;
}

static const llhttp_settings_t settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_field_complete = on_header_field_complete,
	.on_header_value = on_header_value,
	.on_header_value_complete = on_header_value_complete,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

/* Feeds one contiguous input span to llhttp; -1 when nothing was fed. */
static int
feed(struct conn *c, struct evbuffer *in)
{
	struct evbuffer_iovec v;
	const char *base, *pos;
	enum llhttp_errno err;
	size_t len, used;
	bool is_paced = c->state == CONN_BODY && c->req.rate > 0;

	if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
		return -1;
	base = v.iov_base;
	len = v.iov_len;
	if (is_paced)
		len = (size_t)MIN(len, c->budget);
	if (len == 0)
		return -1;
	err = llhttp_execute(&c->parser, base, len);
	pos = llhttp_get_error_pos(&c->parser);
	used = err == HPE_OK || pos == NULL ? len : (size_t)(pos - base);
	if (is_paced)
		c->budget -= MIN(c->budget, used);
	evbuffer_drain(in, used);
	if (err == HPE_OK)
		return 0;
	if (err == HPE_PAUSED_UPGRADE) {
		/* A refused upgrade: the next request follows. */
		llhttp_resume_after_upgrade(&c->parser);
		return 0;
	}
	if (err != HPE_PAUSED) {
		refuse(c, c->req.error_status ? c->req.error_status : 400);
		return -1;
	}
	if (c->req.is_complete)
		request_read(c);
	else
		llhttp_resume(&c->parser);
	return 0;
}

static void
process_input(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	while (c->state == CONN_HEAD || c->state == CONN_BODY)
		if (feed(c, in) == -1)
			break;
	if (c->is_eof && evbuffer_get_length(in) == 0 &&
	    (c->state == CONN_HEAD || c->state == CONN_BODY))
		conn_finish(c);
	if (c->state == CONN_WS)
		ws_process(c);
}

/* ---- libevent callbacks ---- */

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (c->state == CONN_CLOSING || c->state == CONN_LINGER)
		evbuffer_drain(bufferevent_get_input(bev),
		    evbuffer_get_length(bufferevent_get_input(bev)));
	process_input(c);
	settle(c);
}

static void
on_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (c->state == CONN_STREAM && c->req.rate == 0)
		stream_fill(c);
	else if (c->state == CONN_DRAIN)
		response_done(c);
	process_input(c);
	settle(c);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if ((what & BEV_EVENT_ERROR) || c->state == CONN_LINGER) {
		conn_free(c);
		return;
	}
	if (what & BEV_EVENT_EOF)
		c->is_eof = true;
	process_input(c);
	settle(c);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	uint64_t us;

	(void)fd;
	(void)what;
	switch (c->state) {
	case CONN_BODY:
		c->budget = pace_tick(c->req.rate, &us);
		arm_pace(c);
		break;
	case CONN_DELAY:
		reply(c);
		break;
	case CONN_STREAM:
		stream_paced(c);
		break;
	case CONN_LINGER:
		conn_free(c);
		return;
	case CONN_WS:
		ws_die(c);
		return;
	case CONN_CUT:
		cut_end(c);
		return;
	default:
		break;
	}
	process_input(c);
	settle(c);
}

/* -r: the bytes just added to a connection's input, appended as they
 * came to DIR/ID.in, before anything parses them. */
static void
on_input_added(struct evbuffer *in, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct conn *c = arg;
	struct evbuffer_ptr at;
	char buf[16384];
	size_t done = 0, n;

	if (info->n_added == 0 ||
	    evbuffer_ptr_set(in, &at, info->orig_size, EVBUFFER_PTR_SET) == -1)
		return;
	while (done < info->n_added) {
		n = MIN(sizeof(buf), info->n_added - done);
		if (evbuffer_copyout_from(in, &at, buf, n) != (ssize_t)n ||
		    write(c->record_fd, buf, n) != (ssize_t)n)
			return;
		evbuffer_ptr_set(in, &at, n, EVBUFFER_PTR_ADD);
		done += n;
	}
}

static void
record_start(struct server *srv, struct conn *c)
{
	char path[512];

	c->record_fd = -1;
	if (srv->record_dir == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%lu.in", srv->record_dir, c->id);
	c->record_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND |
	    O_CLOEXEC, 0644);
	if (c->record_fd == -1)
		fprintf(stderr, "origin: %s: %s\n", path, strerror(errno));
	else
		evbuffer_add_cb(bufferevent_get_input(c->bev), on_input_added,
		    c);
}

static void
conn_start(struct server *srv, struct conn *c)
{
	c->srv = srv;
	c->id = ++srv->n_conns;
	record_start(srv, c);
	TAILQ_INSERT_TAIL(&srv->conns, c, link);
	llhttp_init(&c->parser, HTTP_REQUEST, &settings);
	c->parser.data = c;
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, ORIGIN_READ_MAX);
	bufferevent_setwatermark(c->bev, EV_WRITE, ORIGIN_LOWAT, 0);
	bufferevent_set_max_single_read(c->bev, ORIGIN_READ_MAX);
	bufferevent_set_max_single_write(c->bev, ORIGIN_HIWAT);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static struct conn *
conn_new(struct server *srv, evutil_socket_t fd)
{
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto fail_fd;
	c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		goto fail_c;
	if ((c->timer = evtimer_new(srv->base, on_timer, c)) == NULL)
		goto fail_bev;
	if ((c->sha = EVP_MD_CTX_new()) == NULL)
		goto fail_timer;
	if ((c->headers = evbuffer_new()) == NULL)
		goto fail_sha;
	if ((c->trailers = evbuffer_new()) == NULL)
		goto fail_headers;
	if ((c->scratch = evbuffer_new()) == NULL)
		goto fail_trailers;
	conn_start(srv, c);
	return c;

fail_trailers:
	evbuffer_free(c->trailers);
fail_headers:
	evbuffer_free(c->headers);
fail_sha:
	EVP_MD_CTX_free(c->sha);
fail_timer:
	event_free(c->timer);
fail_bev:
	bufferevent_free(c->bev);
	free(c);
	return NULL;
fail_c:
	free(c);
fail_fd:
	evutil_closesocket(fd);
	return NULL;
}

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	int one = 1;

	(void)l;
	(void)salen;
	if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (conn_new(arg, fd) == NULL)
		fprintf(stderr, "origin: out of memory for a connection\n");
}

static void
on_accept_error(struct evconnlistener *l, void *arg)
{
	(void)l;
	(void)arg;
	fprintf(stderr, "origin: accept: %s\n", strerror(errno));
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

/* ---- listeners and main ---- */

static void
format_bound(struct listener *ls)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN];
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	if (ls->is_unix) {
		snprintf(ls->bound, sizeof(ls->bound), "%s", ls->spec);
		return;
	}
	getsockname(evconnlistener_get_fd(ls->lev), (struct sockaddr *)&ss,
	    &len);
	if (ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(ls->bound, sizeof(ls->bound), "[%s]:%u", host,
		    ntohs(sin6->sin6_port));
	} else {
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(ls->bound, sizeof(ls->bound), "%s:%u", host,
		    ntohs(sin->sin_port));
	}
}

/* "1.2.3.4:PORT" or "[::1]:PORT"; PORT 0, which libevent refuses, is ok. */
static int
parse_inet(const char *spec, struct sockaddr_storage *ss, int *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	const char *colon = strrchr(spec, ':');
	bool is_v6 = spec[0] == '[';
	char host[INET6_ADDRSTRLEN];
	size_t hlen;
	uint64_t port;

	if (colon == NULL || parse_num(colon + 1, strlen(colon + 1),
	    &port) == -1 || port > 65535)
		return -1;
	hlen = (size_t)(colon - spec) - (is_v6 ? 2 : 0);
	if ((is_v6 && colon[-1] != ']') || colon - spec < 2 ||
	    hlen >= sizeof(host))
		return -1;
	memcpy(host, spec + is_v6, hlen);
	host[hlen] = '\0';
	if (is_v6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
		return inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1 ?
		    0 : -1;
	}
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	*len = sizeof(*sin);
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1;
}

static int
listen_on(struct server *srv, struct listener *ls, const char **why)
{
	const unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC;
	struct sockaddr_storage ss;
	struct sockaddr_un *sun = (struct sockaddr_un *)&ss;
	struct stat st;
	int len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	ls->is_unix = strncmp(ls->spec, "unix:", 5) == 0;
	*why = "bad address";
	if (ls->is_unix) {
		if (strlen(ls->spec + 5) >= sizeof(sun->sun_path))
			return -1;
		sun->sun_family = AF_UNIX;
		strcpy(sun->sun_path, ls->spec + 5);
		len = sizeof(*sun);
		if (stat(sun->sun_path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(sun->sun_path);
	} else if (parse_inet(ls->spec, &ss, &len) == -1) {
		return -1;
	}
	ls->lev = evconnlistener_new_bind(srv->base, on_accept, srv,
	    flags | (ls->is_unix ? 0 : LEV_OPT_REUSEABLE), 1024,
	    (struct sockaddr *)&ss, len);
	*why = strerror(errno);
	if (ls->lev == NULL)
		return -1;
	evconnlistener_set_error_cb(ls->lev, on_accept_error);
	format_bound(ls);
	return 0;
}

static int
write_ports(struct server *srv, const char *portfile)
{
	char tmp[4096];
	FILE *f = stdout;
	int i;

	if (portfile != NULL) {
		snprintf(tmp, sizeof(tmp), "%s.tmp", portfile);
		if ((f = fopen(tmp, "w")) == NULL)
			return -1;
	}
	for (i = 0; i < srv->n_ls; i++)
		fprintf(f, "%s\n", srv->ls[i].bound);
	if (portfile == NULL)
		return fflush(f) == 0 ? 0 : -1;
	if (fclose(f) != 0 || rename(tmp, portfile) == -1)
		return -1;
	return 0;
}

static void
server_fini(struct server *srv)
{
	struct conn *c;
	int i;

	while ((c = TAILQ_FIRST(&srv->conns)) != NULL)
		conn_free(c);
	for (i = 0; i < srv->n_ls; i++) {
		if (srv->ls[i].lev == NULL)
			continue;
		evconnlistener_free(srv->ls[i].lev);
		if (srv->ls[i].is_unix)
			unlink(srv->ls[i].spec + 5);
	}
	evbuffer_free(srv->ws_last);
	event_base_free(srv->base);
}

static void
usage(void)
{
	fprintf(stderr, "usage: origin [-l ADDR]... [-p PORTFILE] [-q] "
	    "[-r DIR]\n"
	    "  ADDR: 127.0.0.1:PORT, [::1]:PORT or unix:/path"
	    " (PORT 0: any)\n"
	    "  DIR: every byte received goes to DIR/N.in, N the "
	    "connection number\n");
	exit(2);
}

static int
run(struct server *srv, const char *portfile)
{
	struct event *sigint, *sigterm;
	const char *why;
	int i, rc = 1;

	sigint = evsignal_new(srv->base, SIGINT, on_signal, srv->base);
	sigterm = evsignal_new(srv->base, SIGTERM, on_signal, srv->base);
	if (sigint == NULL || sigterm == NULL)
		goto out;
	evsignal_add(sigint, NULL);
	evsignal_add(sigterm, NULL);
	for (i = 0; i < srv->n_ls; i++) {
		if (listen_on(srv, &srv->ls[i], &why) == -1) {
			fprintf(stderr, "origin: listen %s: %s\n",
			    srv->ls[i].spec, why);
			goto out;
		}
	}
	if (write_ports(srv, portfile) == -1) {
		fprintf(stderr, "origin: %s: %s\n", portfile ? portfile :
		    "stdout", strerror(errno));
		goto out;
	}
	rc = event_base_dispatch(srv->base) == -1;
out:
	if (sigint != NULL)
		event_free(sigint);
	if (sigterm != NULL)
		event_free(sigterm);
	return rc;
}

int
main(int argc, char **argv)
{
	struct server srv;
	const char *portfile = NULL;
	int opt, i, rc;

	memset(&srv, 0, sizeof(srv));
	TAILQ_INIT(&srv.conns);
	while ((opt = getopt(argc, argv, "l:p:qr:")) != -1) {
		switch (opt) {
		case 'l':
			if (srv.n_ls == ORIGIN_MAX_LISTEN)
				usage();
			srv.ls[srv.n_ls++].spec = optarg;
			break;
		case 'p':
			portfile = optarg;
			break;
		case 'q':
			srv.is_quiet = true;
			break;
		case 'r':
			srv.record_dir = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (srv.n_ls == 0)
		srv.ls[srv.n_ls++].spec = "127.0.0.1:9080";
	for (i = 0; i < (int)sizeof(pattern); i++)
		pattern[i] = (char)('a' + i % 26);
	signal(SIGPIPE, SIG_IGN);
	if ((srv.base = event_base_new()) == NULL ||
	    (srv.ws_last = evbuffer_new()) == NULL) {
		fprintf(stderr, "origin: out of memory\n");
		return 1;
	}
	rc = run(&srv, portfile);
	server_fini(&srv);
	return rc;
}
