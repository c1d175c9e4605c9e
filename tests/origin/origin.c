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
 * on it echoes WebSocket frames (see the WebSocket section).
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

#define ORIGIN_PIECE            65536   /* largest /bytes reference added */
#define ORIGIN_CHUNK            16384   /* largest chunk of a chunked body */
#define ORIGIN_LOWAT            65536   /* refill, or go on, below this */
#define ORIGIN_HIWAT            262144  /* stop refilling above this */
#define ORIGIN_READ_MAX         262144  /* input kept before reads pause */
#define ORIGIN_HEAD_MAX         (1 << 20)       /* request head + trailers */
#define ORIGIN_BYTES_MAX        (UINT64_C(1) << 40)
#define ORIGIN_BIGHEAD_MAX      (UINT64_C(1) << 30)
#define ORIGIN_LINGER_SEC       2
#define ORIGIN_HALF_CLOSE_SEC   10      /* /ws?half_close=1: reading on */
#define ORIGIN_MAX_LISTEN       16
#define ORIGIN_NAME_MAX         32      /* field name bytes kept */
#define ORIGIN_VALUE_MAX        1024    /* field value bytes kept */
#define ORIGIN_WS_TOKEN_MAX     256     /* a subprotocol or extension */
#define ORIGIN_WS_OUT_MAX       (1 << 20)       /* echo pauses above this */

#define LEN_CHUNKED     (-1)    /* send_head: Transfer-Encoding: chunked */
#define LEN_NONE        (-2)    /* send_head: no length field, no body */

#define MIN(a, b)       ((a) < (b) ? (a) : (b))

enum conn_state {
	CONN_HEAD = 0,          /* llhttp waits for a request head */
	CONN_BODY,              /* llhttp reads the body, maybe paced */
	CONN_DELAY,             /* request read; timer before the reply */
	CONN_STREAM,            /* /bytes body goes out as output drains */
	CONN_WS,                /* after a 101: frames are echoed */
	CONN_CUT,               /* /cut: body bytes out; the timer resets */
	CONN_DRAIN,             /* reply queued; next request below LOWAT */
	CONN_CLOSING,           /* last output flushing; then linger */
	CONN_LINGER,            /* write side shut; wait for EOF or timer */
};

enum route {
	ROUTE_NOT_FOUND = 0,
	ROUTE_INDEX,
	ROUTE_ECHO,
	ROUTE_BYTES,
	ROUTE_SLOW,
	ROUTE_STATUS,
	ROUTE_DROP,
	ROUTE_CLOSE,
	ROUTE_CLOSE_NEXT,
	ROUTE_BAD,
	ROUTE_BIGHEAD,
	ROUTE_TRAILERS,
	ROUTE_EARLY_HINTS,
	ROUTE_INTERIM,
	ROUTE_STATS,
	ROUTE_WS,
	ROUTE_WS_REFUSE,
	ROUTE_WS_BADACCEPT,
	ROUTE_WS_LAST,
	ROUTE_WS_PAGE,
	ROUTE_CUT,
};

/* /cut/MODE: how the response's framing is broken (see reply_cut). */
enum cut_mode {
	CUT_LENGTH = 0,         /* Content-Length: 2N, N bytes */
	CUT_CHUNKED,            /* a chunk of 2N announced, N bytes sent */
	CUT_BADCHUNK,           /* a whole chunk of N, then a bad size line */
	CUT_CLOSE,              /* no length, no chunks: read until close */
};

/* What a request offers for a WebSocket upgrade (RFC 6455 §4.2.1). */
struct ws_offer {
	char key[32];           /* Sec-WebSocket-Key, trimmed */
	char protocol[ORIGIN_WS_TOKEN_MAX];     /* first offered subprotocol */
	char extension[ORIGIN_WS_TOKEN_MAX];    /* first offered extension */
	const char *bad;        /* why the fields make no handshake; NULL ok */
	unsigned n_keys;
	bool has_upgrade;       /* Upgrade lists websocket */
	bool has_conn_upgrade;  /* Connection lists upgrade */
	bool has_version;       /* Sec-WebSocket-Version: 13 */
};

/* The echo of one WebSocket connection, from the 101 on. */
struct ws {
	uint64_t left;          /* data frame payload bytes still to echo */
	uint64_t off;           /* payload bytes of this frame echoed */
	unsigned char mask[4];
	bool is_open;           /* counted in ws_open: no Close sent yet */
	bool in_message;        /* a fragmented message wants continuations */
	bool has_ext;           /* an extension was accepted: RSV bits ok */
	uint64_t shut_after;    /* ?shut_after=N: half-close after N echoes */
	uint64_t nmessages;     /* whole data messages echoed */
	bool wants_shut;        /* N reached: shut once the output is out */
	bool is_shut;           /* our FIN is sent; input is dropped */
	bool is_reset;          /* ?reset_after_ms: dies with a reset */
};

struct buf {
	char *p;                /* always NUL-terminated once allocated */
	size_t len, cap;
};

/* One request; zeroed at each message begin. */
struct req {
	enum route route;
	const char *query;      /* into conn.url, after '?'; "" if none */
	uint64_t n;             /* /bytes/N, /status/N */
	enum cut_mode cut;      /* /cut/MODE */
	uint64_t rate;          /* ?rate=, bytes per second; 0 = unpaced */
	uint64_t delay_ms;      /* ?delay_ms= (/slow: ?ms=) */
	uint64_t body_len;
	uint64_t head_bytes;    /* url + fields, against ORIGIN_HEAD_MAX */
	uint64_t left, off;     /* /bytes: still to add, pattern offset */
	unsigned n_headers, n_trailers;
	char name[ORIGIN_NAME_MAX];
	size_t name_len, value_len;
	char value[ORIGIN_VALUE_MAX];
	struct ws_offer ws;
	unsigned char digest[32];
	int error_status;       /* set by a callback that refuses input */
	bool in_name;           /* inside a field name */
	bool in_trailers;       /* fields now are trailers */
	bool is_head, is_chunked, has_body, is_complete;
	bool expect_continue, keep_alive, can_chunk, chunked_out;
};

struct server;

struct conn {
	TAILQ_ENTRY(conn) link;
	struct server *srv;
	struct bufferevent *bev;
	struct event *timer;    /* meaning depends on state */
	unsigned long id;       /* 1-based accept count */
	enum conn_state state;
	llhttp_t parser;
	EVP_MD_CTX *sha;
	struct buf url;
	struct evbuffer *headers;       /* JSON pairs as received */
	struct evbuffer *trailers;
	struct evbuffer *scratch;       /* a body being measured */
	struct req req;
	struct ws ws;
	uint64_t budget;        /* paced bytes left this tick */
	bool is_eof;            /* peer shut its write side */
	bool is_drop_next;      /* /close-next: drop the next request */
	bool is_half_closed;    /* /ws?half_close=1: a long linger */
	int record_fd;          /* -r: this connection's bytes go here */
};

struct listener {
	struct evconnlistener *lev;
	const char *spec;
	char bound[128];
	bool is_unix;
};

struct server {
	struct event_base *base;
	struct listener ls[ORIGIN_MAX_LISTEN];
	int n_ls;
	TAILQ_HEAD(, conn) conns;
	unsigned long n_conns, n_requests;
	unsigned long n_ws_sessions, n_ws_open;
	struct evbuffer *ws_last;       /* /ws-last JSON; empty until then */
	bool is_quiet;
	const char *record_dir;         /* -r DIR: every byte received */
};

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

static void
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

static bool
field_is(const char *s, size_t len, const char *want)
{
	return len == strlen(want) && strncasecmp(s, want, len) == 0;
}

/* Finds key=NUMBER in a k=v&k=v query; 0 if found, -1 if not. */
static int
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

static void
set_state(struct conn *c, enum conn_state state)
{
	/* A timer belongs to the state that armed it. */
	if (state != c->state)
		evtimer_del(c->timer);
	c->state = state;
}

static void
arm_timer_ms(struct conn *c, uint64_t ms)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(c->timer, &tv);
}

static void
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
static void
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

static void
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

static void
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

static void
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

/* ---- WebSocket (RFC 6455) ---- */

/*
 * After a 101 the connection echoes frames as they come: each data frame
 * goes back unmasked with the client's first byte (FIN, RSV, opcode), so a
 * fragmented message returns fragmented the same way and byte-identical.
 * Payload is unmasked straight from the input into the output, a piece at a
 * time, and input is left unread while more than ORIGIN_WS_OUT_MAX waits to
 * be written: the read high-water mark then stops reading, and on_write
 * resumes the echo below ORIGIN_LOWAT. Text is not checked for UTF-8.
 */

#define WS_GUID         "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_FIN          0x80
#define WS_RSV          0x70
#define WS_OP           0x0f
#define WS_MASKED       0x80
#define WS_OP_CONT      0x0
#define WS_OP_TEXT      0x1
#define WS_OP_BINARY    0x2
#define WS_OP_CLOSE     0x8
#define WS_OP_PING      0x9
#define WS_OP_PONG      0xa
#define WS_PROTOCOL_ERROR       1002

static const char ws_page_html[] =
	"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
	"<title>portico websocket test</title></head>\n<body>\n%s"
	"<script>\n"
	"(function () {\n"
	"\tvar done = false;\n"
	"\tfunction result(text) {\n"
	"\t\tif (done)\n\t\t\treturn;\n"
	"\t\tdone = true;\n"
	"\t\tvar d = document.createElement(\"div\");\n"
	"\t\td.id = \"result\";\n"
	"\t\td.textContent = text;\n"
	"\t\tdocument.body.appendChild(d);\n"
	"\t}\n"
	"\tvar ws = new WebSocket(\"wss://\" + location.host + \"/ws\");\n"
	"\tws.onopen = function () { ws.send(\"hello-portico\"); };\n"
	"\tws.onmessage = function (e) {\n"
	"\t\tresult(\"echo:\" + e.data);\n\t\tws.close(1000);\n\t};\n"
	"\tws.onerror = function () { result(\"error\"); };\n"
	"\tws.onclose = function () { result(\"error\"); };\n"
	"})();\n"
	"</script>\n</body></html>\n";

/* Trims optional whitespace (RFC 9110 §5.6.3) off both ends. */
static void
trim_ows(const char **p, size_t *n)
{
	while (*n > 0 && (**p == ' ' || **p == '\t')) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
		(*n)--;
}

/* The first non-empty element of a comma list, trimmed; false if none. */
static bool
list_first(const char *p, size_t n, const char **el, size_t *el_len)
{
	const char *comma;
	size_t len;

	while (n > 0) {
		comma = memchr(p, ',', n);
		len = comma ? (size_t)(comma - p) : n;
		*el = p;
		*el_len = len;
		trim_ows(el, el_len);
		if (*el_len > 0)
			return true;
		if (comma == NULL)
			break;
		n -= len + 1;
		p = comma + 1;
	}
	return false;
}

/* Whether a comma list has token, case-insensitively. */
static bool
list_has(const char *p, size_t n, const char *token)
{
	const char *el;
	size_t len;

	while (list_first(p, n, &el, &len)) {
		if (len == strlen(token) && strncasecmp(el, token, len) == 0)
			return true;
		n -= (size_t)(el + len - p);
		p = el + len;
	}
	return false;
}

/* Keeps the first list element of a field seen for the first time. */
static void
keep_first(char *dst, size_t cap, const char *p, size_t n, const char **bad)
{
	const char *el;
	size_t len;

	if (dst[0] != '\0' || !list_first(p, n, &el, &len))
		return;
	if (len >= cap) {
		*bad = "offered value too long";
		return;
	}
	memcpy(dst, el, len);
	dst[len] = '\0';
}

/* A Sec-WebSocket-Key is base64 of 16 bytes (RFC 6455 §4.1). */
static bool
is_ws_key(const char *p, size_t n)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	if (n != 24 || p[22] != '=' || p[23] != '=')
		return false;
	for (i = 0; i < 22; i++)
		if (p[i] == '\0' || strchr(b64, p[i]) == NULL)
			return false;
	/* The last character carries 2 bits and 4 zero padding bits. */
	return strchr("AQgw", p[21]) != NULL;
}

/* Notes one request field that a WebSocket handshake reads. */
static void
ws_offer_field(struct ws_offer *o, const char *name, size_t name_len,
    const char *p, size_t n)
{
	if (n > ORIGIN_VALUE_MAX) {     /* only a prefix was kept */
		if (field_is(name, name_len, "upgrade") ||
		    field_is(name, name_len, "connection") ||
		    (name_len > 14 && strncasecmp(name, "sec-websocket-",
		    14) == 0))
			o->bad = "a handshake field too long to read";
		return;
	}
	if (field_is(name, name_len, "upgrade")) {
		o->has_upgrade |= list_has(p, n, "websocket");
	} else if (field_is(name, name_len, "connection")) {
		o->has_conn_upgrade |= list_has(p, n, "upgrade");
	} else if (field_is(name, name_len, "sec-websocket-version")) {
		trim_ows(&p, &n);
		if (n == 2 && memcmp(p, "13", 2) == 0)
			o->has_version = true;
		else
			o->bad = "Sec-WebSocket-Version is not 13";
	} else if (field_is(name, name_len, "sec-websocket-key")) {
		trim_ows(&p, &n);
		if (o->n_keys++ > 0 || !is_ws_key(p, n)) {
			o->bad = "bad Sec-WebSocket-Key";
			return;
		}
		memcpy(o->key, p, n);
		o->key[n] = '\0';
	} else if (field_is(name, name_len, "sec-websocket-protocol")) {
		keep_first(o->protocol, sizeof(o->protocol), p, n, &o->bad);
	} else if (field_is(name, name_len, "sec-websocket-extensions")) {
		keep_first(o->extension, sizeof(o->extension), p, n, &o->bad);
	}
}

/* Why this request cannot be upgraded, or NULL (RFC 6455 §4.2.1). */
static const char *
ws_refusal(struct conn *c)
{
	const struct ws_offer *o = &c->req.ws;

	if (c->parser.method != HTTP_GET)
		return "not a GET";
	if (c->parser.http_major != 1 || c->parser.http_minor != 1)
		return "not HTTP/1.1";
	if (c->req.has_body)
		return "a body on an upgrade";
	if (o->bad != NULL)
		return o->bad;
	if (!o->has_upgrade)
		return "no Upgrade: websocket";
	if (!o->has_conn_upgrade)
		return "no Connection: upgrade";
	if (!o->has_version)
		return "no Sec-WebSocket-Version";
	if (o->n_keys == 0)
		return "no Sec-WebSocket-Key";
	return NULL;
}

/* base64(SHA-1(key GUID)); is_wrong gives the accept of another key. */
static void
ws_accept(const char *key, bool is_wrong, char out[29])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char in[32 + sizeof(WS_GUID)];  /* a key fits ws_offer.key */
	unsigned int md_len = 0;

	snprintf(in, sizeof(in), "%s%s", key, WS_GUID);
	EVP_Digest(in, strlen(in), md, &md_len, EVP_sha1(), NULL);
	if (is_wrong)
		md[0] ^= 0x01;
	EVP_EncodeBlock((unsigned char *)out, md, (int)md_len);
}

/* /ws-last is the JSON of the last request that asked for websocket. */
static void
ws_record(struct conn *c)
{
	struct evbuffer *b = c->srv->ws_last;

	evbuffer_drain(b, evbuffer_get_length(b));
	evbuffer_add_printf(b, "{\"method\":\"%s\",\"version\":\"%d.%d\","
	    "\"target\":\"",
	    llhttp_method_name((llhttp_method_t)c->parser.method),
	    c->parser.http_major, c->parser.http_minor);
	json_escape(b, c->url.p ? c->url.p : "", c->url.len);
	evbuffer_add(b, "\",\"headers\":[", 13);
	evbuffer_add(b, evbuffer_pullup(c->headers, -1),
	    evbuffer_get_length(c->headers));
	evbuffer_add(b, "]}\n", 3);
}

static void
ws_put_head(struct evbuffer *out, unsigned char b0, uint64_t len)
{
	unsigned char h[10];
	size_t n = 2;
	int i;

	h[0] = b0;
	if (len < 126) {
		h[1] = (unsigned char)len;
	} else if (len <= 0xffff) {
		h[1] = 126;
		h[2] = (unsigned char)(len >> 8);
		h[3] = (unsigned char)len;
		n = 4;
	} else {
		h[1] = 127;
		for (i = 0; i < 8; i++)
			h[2 + i] = (unsigned char)(len >> (56 - 8 * i));
		n = 10;
	}
	evbuffer_add(out, h, n);
}

/* The session is over for ws_open, whatever happens to the TCP after. */
static void
ws_end(struct conn *c, const char *why)
{
	if (!c->ws.is_open)
		return;
	c->ws.is_open = false;
	c->srv->n_ws_open--;
	if (!c->srv->is_quiet)
		fprintf(stderr, "origin: conn %lu: websocket ends: %s\n",
		    c->id, why);
}

/* Sends a Close (code 0: none) and ends the connection once it is out. */
static void
ws_close(struct conn *c, unsigned code, const char *why)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	unsigned char b[2] = { (unsigned char)(code >> 8),
	    (unsigned char)code };

	ws_put_head(out, WS_FIN | WS_OP_CLOSE, code ? 2 : 0);
	if (code != 0)
		evbuffer_add(out, b, 2);
	ws_end(c, why);
	conn_finish(c);
}

static void
reply_ws(struct conn *c, bool is_bad_accept)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	const struct ws_offer *o = &c->req.ws;
	const char *why = ws_refusal(c);
	char accept[29];
	uint64_t v = 0;

	if (why != NULL) {
		evbuffer_add_printf(c->scratch, "websocket: %s\n", why);
		send_body(c, 400, "text/plain", c->scratch);
		return;
	}
	ws_accept(o->key, is_bad_accept, accept);
	log_request(c, 101);
	evbuffer_add_printf(out, "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: %s\r\n", accept);
	if (o->protocol[0] != '\0')
		evbuffer_add_printf(out, "Sec-WebSocket-Protocol: %s\r\n",
		    o->protocol);
	memset(&c->ws, 0, sizeof(c->ws));
	c->ws.has_ext = o->extension[0] != '\0' &&
	    query_num(c->req.query, "ext", &v) == 0 && v == 1;
	if (c->ws.has_ext)
		evbuffer_add_printf(out, "Sec-WebSocket-Extensions: %s\r\n",
		    o->extension);
	evbuffer_add(out, "\r\n", 2);
	c->ws.is_open = true;
	c->srv->n_ws_sessions++;
	c->srv->n_ws_open++;
	set_state(c, CONN_WS);
	/* ?half_close=1: the backend shuts its write side after the 101
	 * and keeps reading (-r records what still comes) until EOF */
	if (query_num(c->req.query, "half_close", &v) == 0 && v != 0) {
		c->is_half_closed = true;
		ws_end(c, "half_close");
		conn_finish(c);
		return;
	}
	if (query_num(c->req.query, "close_after_ms", &v) == 0)
		arm_timer_ms(c, v);
	if (query_num(c->req.query, "reset_after_ms", &v) == 0) {
		c->ws.is_reset = true;
		arm_timer_ms(c, v);
	}
	if (query_num(c->req.query, "shut_after", &v) == 0)
		c->ws.shut_after = v;
}

/* A whole data message was echoed: ?shut_after counts them. */
static void
ws_message_done(struct conn *c)
{
	if (c->ws.shut_after > 0 && ++c->ws.nmessages == c->ws.shut_after)
		c->ws.wants_shut = true;
}

/*
 * ?shut_after=N: once N messages are echoed and out, the backend
 * half-closes (a FIN, no Close frame) and reads on, dropping what comes
 * (-r still records it), until the peer closes its side too.
 */
static void
ws_shut(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	evbuffer_drain(in, evbuffer_get_length(in));
	if (!c->ws.is_shut &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		shutdown(bufferevent_getfd(c->bev), SHUT_WR);
		c->ws.is_shut = true;
	}
	if (c->is_eof) {
		ws_end(c, "peer closed after our half-close");
		conn_finish(c);
	}
}

/*
 * ?close_after_ms: the backend dies, with no Close. What the socket takes
 * now still goes, so that even N = 0 leaves the 101 out before the FIN.
 */
static void
ws_die(struct conn *c)
{
	struct linger l = { 1, 0 };

	evbuffer_write(bufferevent_get_output(c->bev),
	    bufferevent_getfd(c->bev));
	if (c->ws.is_reset)
		setsockopt(bufferevent_getfd(c->bev), SOL_SOCKET, SO_LINGER,
		    &l, sizeof(l));
	ws_end(c, c->ws.is_reset ? "reset_after_ms" : "close_after_ms");
	conn_free(c);
}

static void
reply_ws_last(struct conn *c)
{
	struct evbuffer *last = c->srv->ws_last;

	if (evbuffer_get_length(last) == 0) {
		send_text(c, 404, "text/plain", "no websocket upgrade yet\n");
		return;
	}
	evbuffer_add(c->scratch, evbuffer_pullup(last, -1),
	    evbuffer_get_length(last));
	send_body(c, 200, "application/json", c->scratch);
}

/* ?hold_ms=N: an image from /slow holds the load event N ms. */
static void
reply_ws_page(struct conn *c)
{
	char hold[64] = "";
	uint64_t ms;

	if (query_num(c->req.query, "hold_ms", &ms) == 0)
		snprintf(hold, sizeof(hold),
		    "<img src=\"/slow?ms=%" PRIu64 "\" alt=\"\">\n", ms);
	evbuffer_add_printf(c->scratch, ws_page_html, hold);
	send_body(c, 200, "text/html; charset=utf-8", c->scratch);
}

/* Answers one whole control frame: b0, then payload p of n bytes. */
static void
ws_control(struct conn *c, unsigned char b0, const unsigned char *p,
    size_t n)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	switch (b0 & WS_OP) {
	case WS_OP_PING:
		ws_put_head(out, WS_FIN | WS_OP_PONG, n);
		evbuffer_add(out, p, n);
		break;
	case WS_OP_CLOSE:
		/* RFC 6455 §5.5.1: a body starts with a 2-byte code. */
		if (n == 1)
			ws_close(c, WS_PROTOCOL_ERROR, "1-byte close body");
		else
			ws_close(c, n ? (unsigned)p[0] << 8 | p[1] : 0,
			    "close handshake");
		break;
	default:                /* a pong answers nothing */
		break;
	}
}

/* Why a frame's first two bytes break RFC 6455 §5.2-5.5, or NULL. */
static const char *
ws_frame_error(const struct ws *ws, unsigned char b0, unsigned char b1)
{
	unsigned op = b0 & WS_OP;

	if (!(b1 & WS_MASKED))
		return "unmasked client frame";
	if ((b0 & WS_RSV) && !ws->has_ext)
		return "RSV bits without an extension";
	if (op >= WS_OP_CLOSE) {
		if (op > WS_OP_PONG)
			return "unknown control opcode";
		if (!(b0 & WS_FIN) || (b1 & 0x7f) > 125)
			return "fragmented or long control frame";
		return NULL;
	}
	if (op > WS_OP_BINARY)
		return "unknown data opcode";
	if (op == WS_OP_CONT && !ws->in_message)
		return "continuation outside a message";
	if (op != WS_OP_CONT && ws->in_message)
		return "new message inside a fragmented one";
	return NULL;
}

enum ws_step {
	WS_GO,                  /* made progress; try again */
	WS_WAIT,                /* needs more input */
};

/* Reads one frame head; echoes its head, or answers a control frame. */
static enum ws_step
ws_frame(struct conn *c, struct evbuffer *in)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	unsigned char h[14 + 125];
	size_t have, hlen;
	uint64_t len;
	const char *why;
	int i;

	have = (size_t)evbuffer_copyout(in, h, sizeof(h));
	if (have < 2)
		return WS_WAIT;
	if ((why = ws_frame_error(&c->ws, h[0], h[1])) != NULL) {
		ws_close(c, WS_PROTOCOL_ERROR, why);
		return WS_GO;
	}
	len = h[1] & 0x7f;
	hlen = len == 126 ? 8 : len == 127 ? 14 : 6;
	if (have < hlen)
		return WS_WAIT;
	if (len == 126)
		len = (uint64_t)h[2] << 8 | h[3];
	else if (len == 127)
		for (len = 0, i = 0; i < 8; i++)
			len = len << 8 | h[2 + i];
	if (len >> 63) {
		ws_close(c, WS_PROTOCOL_ERROR, "64-bit length with MSB set");
		return WS_GO;
	}
	memcpy(c->ws.mask, h + hlen - 4, 4);
	if ((h[0] & WS_OP) >= WS_OP_CLOSE) {
		if (have < hlen + len)
			return WS_WAIT;
		for (i = 0; i < (int)len; i++)
			h[hlen + i] ^= c->ws.mask[i & 3];
		evbuffer_drain(in, hlen + len);
		ws_control(c, h[0], h + hlen, (size_t)len);
		return WS_GO;
	}
	evbuffer_drain(in, hlen);
	ws_put_head(out, h[0], len);
	c->ws.in_message = !(h[0] & WS_FIN);
	c->ws.left = len;
	c->ws.off = 0;
	if (len == 0 && !c->ws.in_message)
		ws_message_done(c);
	return WS_GO;
}

/* Unmasks the next piece of a data frame's payload into the output. */
static enum ws_step
ws_payload(struct conn *c, struct evbuffer *in)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	struct evbuffer_iovec src, dst;
	const unsigned char *p;
	unsigned char *q;
	size_t n, i;

	if (evbuffer_peek(in, -1, NULL, &src, 1) < 1 || src.iov_len == 0)
		return WS_WAIT;
	n = (size_t)MIN(MIN(src.iov_len, c->ws.left), ORIGIN_PIECE);
	if (evbuffer_reserve_space(out, n, &dst, 1) < 1) {
		ws_end(c, "out of memory");
		conn_finish(c);
		return WS_GO;
	}
	p = src.iov_base;
	q = dst.iov_base;
	for (i = 0; i < n; i++)
		q[i] = p[i] ^ c->ws.mask[(c->ws.off + i) & 3];
	dst.iov_len = n;
	evbuffer_commit_space(out, &dst, 1);
	evbuffer_drain(in, n);
	c->ws.left -= n;
	c->ws.off += n;
	if (c->ws.left == 0 && !c->ws.in_message)
		ws_message_done(c);
	return WS_GO;
}

/* Echoes what the input holds while the output has room. */
static void
ws_process(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer *out = bufferevent_get_output(c->bev);
	enum ws_step step;

	do {
		if (c->ws.wants_shut) {
			ws_shut(c);
			return;
		}
		if (evbuffer_get_length(out) > ORIGIN_WS_OUT_MAX)
			return;         /* on_write brings us back */
		if (c->ws.left > 0)
			step = ws_payload(c, in);
		else
			step = ws_frame(c, in);
	} while (step == WS_GO && c->state == CONN_WS);
	if (c->state == CONN_WS && c->is_eof) {
		ws_end(c, "peer closed without a Close");
		conn_finish(c);
	}
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
	{ "/interim", ROUTE_INTERIM },
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
