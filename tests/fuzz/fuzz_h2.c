/* tests/fuzz/fuzz_h2.c: libFuzzer over the HTTP/2 frontend. The input,
 * after the client preface that this target sends first, is the byte
 * stream a client sends, cut into reads at places the input chooses.
 *
 * Real: nghttp2's session, proxy/h2_server.c and proxy/h2_stream.c (all
 * of them: streams, checks, flow control, responses, the glitch count,
 * the backend connect cap), headers.c, arena.c, ws.c, and the config
 * from config/conf.c. Stubbed here: the socket (two evbuffers; what
 * portico writes is read and dropped at once), the connection and
 * worker (no event loop runs: the idle timers never fire), the log, and
 * the exchange, which answers every request from memory: it asks
 * may_connect like the real one, "connects" on the next loop pass
 * (on_connect_done), then sends a 200 head, a body and the end, one
 * step per pass; a path starting /fail gets on_fail 502, /404 gets no
 * route.
 *
 * The first input byte picks http2_max_backend_connects (0-3) and the
 * read size (1 + byte / 4 * 7 bytes); the rest is the client's bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "client.h"
#include "conf.h"
#include "exchange.h"
#include "h2_server.h"
#include "log.h"
#include "sock.h"
#include "access.h"
#include "ctx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- stubs: log, worker context, the connection (client_ops) ---- */

int log_level = -1;                     /* nothing is written */

void
log_write(int level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

void
access_log_add(struct access_log *al, const struct access_entry *e)
{
	(void)al;
	(void)e;
}

static struct event_base *base;
static int fake_epoch;
static int64_t now_us;
static bool is_closed;

struct event_base *
ctx_base(struct wctx *w)
{
	(void)w;
	return base;
}

struct access_log *
ctx_access_log(struct wctx *w)
{
	(void)w;
	return NULL;
}

int64_t
ctx_now_us(struct wctx *w)
{
	(void)w;
	return now_us += 1000;
}

void
ctx_count_request(struct wctx *w)
{
	(void)w;
}

struct epoch *
ctx_epoch(struct wctx *w)
{
	(void)w;
	return (struct epoch *)&fake_epoch;
}

struct epoch *
epoch_ref(struct epoch *e)
{
	return e;
}

void
epoch_unref(struct epoch *e)
{
	(void)e;
}

void
access_add(struct access_entry *e, const struct client *cl,
    const struct req_head *h, const char *protocol)
{
	(void)e;
	(void)cl;
	(void)h;
	(void)protocol;
}

static void
on_end(void *owner, const char *why, bool is_error)
{
	(void)owner;
	(void)why;
	(void)is_error;
	is_closed = true;
}

static void
on_linger(void *owner)
{
	(void)owner;
	is_closed = true;
}

static void
on_refresh(void *owner)
{
	(void)owner;
}

static bool
on_is_closing(const void *owner)
{
	(void)owner;
	return is_closed;
}

static const struct client_ops client_ops = {
	.end = on_end,
	.linger = on_linger,
	.refresh = on_refresh,
	.is_closing = on_is_closing,
};

/* ---- stub: the socket ---- */

struct sock {
	struct evbuffer *in, *out;
	sock_data_fn *on_read, *on_write;
	sock_event_fn *on_event;
	void *arg;
};

struct evbuffer *
sock_input(struct sock *s)
{
	return s->in;
}

struct evbuffer *
sock_output(struct sock *s)
{
	return s->out;
}

void
sock_setcb(struct sock *s, sock_data_fn *on_read, sock_data_fn *on_write,
    sock_event_fn *on_event, void *arg)
{
	s->on_read = on_read;
	s->on_write = on_write;
	s->on_event = on_event;
	s->arg = arg;
}

void
sock_read_enable(struct sock *s, bool on)
{
	(void)s;
	(void)on;
}

void
sock_set_timeouts(struct sock *s, const struct timeval *rd,
    const struct timeval *wr)
{
	(void)s;
	(void)rd;
	(void)wr;
}

void
sock_set_write_low(struct sock *s, size_t n)
{
	(void)s;
	(void)n;
}

/* ---- stub: the exchange ---- */

enum { X_WAITING, X_CONNECTING, X_HEAD, X_BODY, X_END };

struct exchange {
	const struct exchange_ops *ops;
	void *fe;
	int state;
	bool is_fail;
	int slot;
};

#define MAX_X 1024
static struct exchange *live[MAX_X];

static void
ask(struct exchange *x)
{
	if (x->ops->may_connect == NULL || x->ops->may_connect(x->fe))
		x->state = X_CONNECTING;
}

struct exchange *
exchange_new(struct epoch *e, struct req_head *h, struct arena *arena,
    const struct fwd_info *fwd, const struct exchange_ops *ops, void *fe,
    int *status, const char **why)
{
	struct exchange *x;
	int i;

	(void)e;
	(void)arena;
	(void)fwd;
	*status = 404;
	*why = "no route";
	if (h->targetlen >= 4 && memcmp(h->target, "/404", 4) == 0)
		return NULL;
	for (i = 0; i < MAX_X && live[i] != NULL; i++)
		;
	*status = 500;
	*why = "out of memory";
	if (i == MAX_X || (x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
	x->ops = ops;
	x->fe = fe;
	x->slot = i;
	x->is_fail = h->targetlen >= 5 && memcmp(h->target, "/fail", 5) == 0;
	live[i] = x;
	ask(x);
	return x;
}

void
exchange_connect(struct exchange *x)
{
	if (x->state == X_WAITING)
		ask(x);
}

void
exchange_free(struct exchange *x)
{
	if (x == NULL)
		return;
	live[x->slot] = NULL;
	free(x);
}

void
exchange_request_body(struct exchange *x, struct evbuffer *data)
{
	(void)x;
	evbuffer_drain(data, evbuffer_get_length(data));
}

void
exchange_request_end(struct exchange *x, const struct hfield *t, size_t n)
{
	(void)x;
	(void)t;
	(void)n;
}

bool
exchange_request_is_full(const struct exchange *x)
{
	(void)x;
	return false;
}

void
exchange_response_pause(struct exchange *x)
{
	(void)x;
}

void
exchange_response_resume(struct exchange *x)
{
	(void)x;
}

const char *
exchange_upstream(const struct exchange *x)
{
	(void)x;
	return "stub";
}

int64_t
exchange_upstream_us(const struct exchange *x)
{
	(void)x;
	return -1;
}

/* One step of X; any callback may free X (and others): return after. */
static void
step(struct exchange *x)
{
	static struct hfield f = { "content-type", "text/plain", 12, 10,
	    HF_OTHER };
	struct resp_head r = { .status = 200, .content_length = 5,
	    .fields = &f, .nfields = 1 };
	struct evbuffer *b;

	switch (x->state) {
	case X_CONNECTING:
		x->state = X_HEAD;
		if (x->ops->on_connect_done != NULL)
			x->ops->on_connect_done(x->fe);
		break;
	case X_HEAD:
		x->state = X_BODY;
		if (x->is_fail)
			x->ops->on_fail(x->fe, 502, "stub failure");
		else
			x->ops->on_head(x->fe, &r);
		break;
	case X_BODY:
		x->state = X_END;
		if ((b = evbuffer_new()) == NULL)
			break;
		evbuffer_add(b, "hello", 5);
		x->ops->on_body(x->fe, b);
		evbuffer_free(b);
		break;
	case X_END:
		x->ops->on_end(x->fe, NULL, 0);
		break;
	}
}

/* ---- the target ---- */

static struct conf *cf;

static void
init(void)
{
	char *err = NULL;

	base = event_base_new();
	cf = conf_parse("fuzz.conf", "listen 127.0.0.1:1\n"
	    "backend o {\n\tserver 127.0.0.1:2\n}\nroute * o\n", &err);
	if (base == NULL || cf == NULL)
		abort();
}

/* The client reads everything portico wrote; then the loop's pass. */
static void
pass(struct sock *sk)
{
	int i;

	evbuffer_drain(sk->out, evbuffer_get_length(sk->out));
	if (sk->on_write != NULL && !is_closed)
		sk->on_write(sk, sk->arg);
	for (i = 0; i < MAX_X && !is_closed; i++)
		if (live[i] != NULL)
			step(live[i]);
	evbuffer_drain(sk->out, evbuffer_get_length(sk->out));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
	    "\0\0\0\4\0\0\0\0\0";       /* and an empty SETTINGS */
	struct client cl;
	struct sock sk = { 0 };
	struct h2_server *h;
	const char *why;
	size_t chunk, off = 1;
	int i;

	if (size < 1)
		return 0;
	if (base == NULL)
		init();
	cf->http2_max_backend_connects = data[0] % 4;
	chunk = 1 + (size_t)(data[0] / 4) * 7;
	memset(&cl, 0, sizeof(cl));
	cl.cf = cf;
	cl.is_tls = data[0] & 1;
	strcpy(cl.addr, "127.0.0.1");
	strcpy(cl.tag, "fuzz");
	cl.ops = &client_ops;
	sk.in = evbuffer_new();
	sk.out = evbuffer_new();
	is_closed = false;
	evbuffer_add(sk.in, preface, sizeof(preface) - 1);
	if ((h = h2_server_new(&cl, &sk, &why)) == NULL)
		abort();
	while (!is_closed && off < size) {
		size_t n = size - off < chunk ? size - off : chunk;

		evbuffer_add(sk.in, data + off, n);
		off += n;
		sk.on_read(&sk, sk.arg);
		pass(&sk);
	}
	for (i = 0; i < 8 && !is_closed; i++)   /* let responses finish */
		pass(&sk);
	h2_server_free(h);
	for (i = 0; i < MAX_X; i++)
		if (live[i] != NULL)
			abort();        /* an exchange nobody freed: a leak */
	evbuffer_free(sk.in);
	evbuffer_free(sk.out);
	return 0;
}
