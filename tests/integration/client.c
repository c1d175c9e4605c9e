/*
 * tests/integration/client.c: a raw HTTP/1.x client. It reads into one
 * growing buffer and parses just enough of a response to find where it
 * ends (Content-Length, chunked, or close), so that tests can send the
 * bytes curl refuses to and still read pipelined responses in order.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <check.h>

#include "client.h"
#include "harness.h"

#define READ_MIN 65536

struct rawc *
rawc_connect(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct rawc *c = calloc(1, sizeof(*c));

	ck_assert_ptr_nonnull(c);
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ne(c->fd, -1);
	ck_assert_msg(connect(c->fd, (struct sockaddr *)&sin,
	    sizeof(sin)) == 0, "connect 127.0.0.1:%d: %s", port,
	    strerror(errno));
	return c;
}

void
rawc_close(struct rawc *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	free(c->buf);
	free(c);
}

void
rawc_send(struct rawc *c, const void *p, size_t n)
{
	const char *s = p;
	ssize_t k;

	while (n > 0) {
		k = send(c->fd, s, n, MSG_NOSIGNAL);
		if (k == -1 && errno == EINTR)
			continue;
		ck_assert_msg(k > 0, "send: %s", strerror(errno));
		s += k;
		n -= (size_t)k;
	}
}

void
rawc_sends(struct rawc *c, const char *s)
{
	rawc_send(c, s, strlen(s));
}

/* Reads once, waiting until END. 1: got bytes, 0: EOF, -1: timeout. */
static int
fill(struct rawc *c, int64_t end)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	int64_t left = end - now_ms();
	ssize_t n;

	if (c->is_eof)
		return 0;
	if (left <= 0 || poll(&pfd, 1, (int)left) != 1)
		return -1;
	if (c->cap - c->len < READ_MIN) {
		c->cap = c->cap * 2 > c->len + READ_MIN ? c->cap * 2 :
		    c->len + READ_MIN;
		c->buf = realloc(c->buf, c->cap + 1);
		ck_assert_ptr_nonnull(c->buf);
	}
	n = read(c->fd, c->buf + c->len, c->cap - c->len);
	if (n <= 0) {
		c->is_eof = true;
		c->err = n < 0 ? errno : 0;
		return 0;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	return 1;
}

/* Removes the first n bytes of the buffer. */
static void
consume(struct rawc *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
	c->buf[c->len] = '\0';
}

/* Waits until the buffer holds NEEDLE; its offset, or -1. */
static long
wait_for(struct rawc *c, const char *needle, int64_t end)
{
	const char *at;

	for (;;) {
		if (c->len > 0 && (at = memmem(c->buf, c->len, needle,
		    strlen(needle))) != NULL)
			return at - c->buf;
		if (fill(c, end) != 1)
			return -1;
	}
}

/* Waits until the buffer holds n bytes; false if it never will. */
static bool
wait_len(struct rawc *c, size_t n, int64_t end)
{
	while (c->len < n)
		if (fill(c, end) != 1)
			return false;
	return true;
}

static void
body_add(struct resp *r, const char *p, size_t n)
{
	r->body = realloc(r->body, r->bodylen + n + 1);
	ck_assert_ptr_nonnull(r->body);
	memcpy(r->body + r->bodylen, p, n);
	r->bodylen += n;
	r->body[r->bodylen] = '\0';
}

static void
read_chunked(struct rawc *c, struct resp *r, int64_t end)
{
	unsigned long long size;
	long eol;

	for (;;) {
		if ((eol = wait_for(c, "\r\n", end)) < 0)
			return;
		size = strtoull(c->buf, NULL, 16);
		if (size == 0)
			break;
		consume(c, (size_t)eol + 2);
		if (!wait_len(c, size + 2, end)) {
			body_add(r, c->buf, c->len < size ? c->len : size);
			return;
		}
		body_add(r, c->buf, size);
		consume(c, size + 2);
	}
	/* last chunk: "0\r\n", trailers, "\r\n" */
	if (memcmp(c->buf + eol, "\r\n\r\n", 4) == 0 ||
	    (eol = wait_for(c, "\r\n\r\n", end)) >= 0) {
		consume(c, (size_t)eol + 4);
		r->is_complete = true;
	}
}

static void
read_body(struct rawc *c, struct resp *r, bool is_head, int64_t end)
{
	char v[64];
	unsigned long long n;

	if (is_head || r->status < 200 || r->status == 204 ||
	    r->status == 304) {
		r->is_complete = true;
		return;
	}
	if (resp_field(r, "Transfer-Encoding", v, sizeof(v)) &&
	    strcasestr(v, "chunked") != NULL) {
		read_chunked(c, r, end);
		return;
	}
	if (resp_field(r, "Content-Length", v, sizeof(v))) {
		n = strtoull(v, NULL, 10);
		r->is_complete = wait_len(c, n, end);
		n = c->len < n ? c->len : n;
		body_add(r, c->buf, n);
		consume(c, n);
		return;
	}
	while (fill(c, end) == 1)
		;
	body_add(r, c->buf, c->len);
	consume(c, c->len);
	r->is_complete = c->is_eof;
}

/* Reads a response head until END into R; 0, or -1 if none came. */
static int
read_head(struct rawc *c, struct resp *r, int64_t end)
{
	long eoh;

	memset(r, 0, sizeof(*r));
	body_add(r, "", 0);
	if ((eoh = wait_for(c, "\r\n\r\n", end)) < 0)
		return -1;
	r->head = strndup(c->buf, (size_t)eoh + 2);
	ck_assert_ptr_nonnull(r->head);
	consume(c, (size_t)eoh + 4);
	if (strncmp(r->head, "HTTP/1.", 7) == 0 && strlen(r->head) > 12)
		r->status = atoi(r->head + 9);
	return 0;
}

int
rawc_head(struct rawc *c, struct resp *r, int timeout_ms)
{
	return read_head(c, r, now_ms() + timeout_ms);
}

int
rawc_response(struct rawc *c, struct resp *r, bool is_head, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;

	if (read_head(c, r, end) == -1)
		return -1;
	read_body(c, r, is_head, end);
	return 0;
}

bool
rawc_wait_eof(struct rawc *c, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;

	while (fill(c, end) == 1)
		;
	return c->is_eof;
}

void
rawc_drain(struct rawc *c, int timeout_ms)
{
	rawc_wait_eof(c, timeout_ms);
}

void
resp_free(struct resp *r)
{
	free(r->head);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

bool
resp_field(const struct resp *r, const char *name, char *out, size_t cap)
{
	size_t nlen = strlen(name), vlen;
	const char *line, *v, *eol;

	if (r->head == NULL)
		return false;
	for (line = strstr(r->head, "\r\n"); line != NULL; line = eol) {
		line += 2;
		if ((eol = strstr(line, "\r\n")) == NULL)
			break;
		if (strncasecmp(line, name, nlen) != 0 || line[nlen] != ':')
			continue;
		for (v = line + nlen + 1; *v == ' ' || *v == '\t'; v++)
			;
		vlen = (size_t)(eol - v);
		if (vlen >= cap)
			vlen = cap - 1;
		memcpy(out, v, vlen);
		out[vlen] = '\0';
		return true;
	}
	return false;
}

/* ---- the origin's JSON ---- */

/* Unescapes the JSON string starting after its opening quote at P. */
static const char *
json_unescape(const char *p, char *out, size_t cap)
{
	size_t n = 0;
	char ch;

	for (; *p != '\0' && *p != '"'; p++) {
		ch = *p;
		if (ch == '\\') {
			p++;
			switch (*p) {
			case 'n': ch = '\n'; break;
			case 'r': ch = '\r'; break;
			case 't': ch = '\t'; break;
			case 'u': ch = (char)strtol((char[]){ p[1], p[2], p[3],
			    p[4], 0 }, NULL, 16); p += 4; break;
			default: ch = *p; break;
			}
		}
		if (n + 1 < cap)
			out[n++] = ch;
	}
	if (cap > 0)
		out[n] = '\0';
	return *p == '"' ? p + 1 : NULL;
}

bool
json_str(const char *json, const char *key, char *out, size_t cap)
{
	char pat[128];
	const char *at;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	if (json == NULL || (at = strstr(json, pat)) == NULL)
		return false;
	return json_unescape(at + strlen(pat), out, cap) != NULL;
}

long long
json_num(const char *json, const char *key)
{
	char pat[128];
	const char *at;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	if (json == NULL || (at = strstr(json, pat)) == NULL)
		return -1;
	at += strlen(pat);
	if (*at < '0' || *at > '9')
		return -1;
	return strtoll(at, NULL, 10);
}

static void
add_value(char *out, size_t cap, const char *v, int count, bool join)
{
	size_t n = strlen(out);

	if (count == 0)
		snprintf(out, cap, "%s", v);
	else if (join && n < cap)
		snprintf(out + n, cap - n, ", %s", v);
}

/* Finds NAME in the origin's "headers"; the first value or, if JOIN, all
 * values joined by ", " go into OUT. */
static int
echo_fields(const char *json, const char *name, char *out, size_t cap,
    bool join)
{
	char n[256], v[8192];
	const char *p;
	int count = 0;

	out[0] = '\0';
	if (json == NULL || (p = strstr(json, "\"headers\":[")) == NULL)
		return 0;
	p += strlen("\"headers\":[");
	while (strncmp(p, "[\"", 2) == 0) {
		if ((p = json_unescape(p + 2, n, sizeof(n))) == NULL ||
		    strncmp(p, ",\"", 2) != 0)
			break;
		if ((p = json_unescape(p + 2, v, sizeof(v))) == NULL)
			break;
		if (strcasecmp(n, name) == 0)
			add_value(out, cap, v, count++, join);
		if (*p == ']')
			p++;
		if (*p == ',')
			p++;
	}
	return count;
}

int
echo_field(const char *json, const char *name, char *out, size_t cap)
{
	return echo_fields(json, name, out, cap, false);
}

int
echo_joined(const char *json, const char *name, char *out, size_t cap)
{
	return echo_fields(json, name, out, cap, true);
}

void
rawc_fetch(int port, const char *req, struct resp *r)
{
	struct rawc *c = rawc_connect(port);

	rawc_sends(c, req);
	ck_assert_msg(rawc_response(c, r, false, CLIENT_WAIT_MS) == 0,
	    "no response to \"%.*s\" (%s)", (int)strcspn(req, "\r\n"), req,
	    c->is_eof ? "connection closed" : "timeout");
	rawc_close(c);
}

/* Tools (h2client.py, ws_*.py, ops_*.py) print "KEY=value" lines. */
const char *
kv(const char *out, const char *key)
{
	static char v[4096];
	char pat[64];
	const char *at;
	size_t n;

	snprintf(pat, sizeof(pat), "\n%s=", key);
	if (strncmp(out, pat + 1, strlen(pat + 1)) == 0)
		at = out + strlen(pat + 1);
	else if ((at = strstr(out, pat)) != NULL)
		at += strlen(pat);
	else
		return "(absent)";
	n = strcspn(at, "\n");
	n = n < sizeof(v) ? n : sizeof(v) - 1;
	memcpy(v, at, n);
	v[n] = '\0';
	return v;
}

long
kv_num(const char *out, const char *key)
{
	const char *v = kv(out, key);

	ck_assert_msg(strcmp(v, "(absent)") != 0, "no %s in:\n%s", key, out);
	return atol(v);
}

void
assert_kv(const char *out, const char *key, const char *want)
{
	const char *got = kv(out, key);

	ck_assert_msg(strcmp(got, want) == 0, "%s: want \"%s\", got \"%s\"; "
	    "all:\n%s", key, want, got, out);
}
