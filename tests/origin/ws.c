/*
 * tests/origin/ws.c: the test origin's WebSocket side (RFC 6455): which
 * requests may upgrade, the 101, and the echo of frames after it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <llhttp.h>
#include <openssl/evp.h>

#include "origin.h"

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
void
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
void
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

void
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
void
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

void
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
void
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
void
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
