/* proxy/h1_response.c: the HTTP/1.1 frontend's response side: the
 * exchange's response written back in the client's framing (1xx, head,
 * body, trailers), the backend paused above the high-water mark, and
 * the switch to a tunnel after a 101. */
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "client.h"
#include "conf.h"
#include "ctx.h"
#include "exchange.h"
#include "h1.h"
#include "h1s.h"
#include "headers.h"
#include "log.h"
#include "sock.h"
#include "tunnel.h"

static void
on_tunnel_done(void *arg, const char *why, uint64_t up, uint64_t down)
{
	struct h1_server *s = arg;

	s->bytes_received = up;
	s->bytes_sent = down;
	s->note = strcmp(why, "closed") == 0 ? NULL : why;
	log_conn(LOG_DEBUG, s->cl, "tunnel ended: %s", why);
	h1s_log_access(s);
	if (s->note != NULL)            /* not a clean end of both sides */
		client_close_error(s->cl, why);
	else
		client_close(s->cl, why);
}

/* The backend said 101 to our WebSocket request: the client gets it,
 * then both connections are one byte pipe. */
static void
start_tunnel(struct h1_server *s, const struct resp_head *r)
{
	struct resp_adds adds = h1s_adds(s);
	struct sock *backend;

	s->status = 101;
	headers_write_response(sock_output(s->sk), r, s->req.version,
	    HEADERS_NO_BODY, 0, true, &adds);
	backend = exchange_take_sock(s->x);
	s->upstream = exchange_upstream(s->x);
	s->upstream_us = exchange_upstream_us(s->x);
	exchange_free(s->x);
	s->x = NULL;
	h1s_set_state(s, H1S_TUNNEL);
	s->tunnel = tunnel_new(ctx_base(s->cl->ctx), s->sk, backend,
	    s->cf->tunnel_timeout, on_tunnel_done, s);
	if (s->tunnel == NULL) {
		sock_free(backend);
		client_close_error(s->cl, "out of memory");
	}
}

/* Above the high-water mark the backend waits until on_write sees the
 * output drain: a slow client never makes us hold more than that. */
static void
pause_if_full(struct h1_server *s)
{
	if (evbuffer_get_length(sock_output(s->sk)) > H1S_OUT_HIGH &&
	    !s->is_resp_paused) {
		s->is_resp_paused = true;
		sock_set_write_low(s->sk, H1S_OUT_LOW);
		exchange_response_pause(s->x);
	}
}

/* A 1xx goes out under the same high-water mark as a body (h1_client
 * relays at most 10 of them). */
static void
send_interim(struct h1_server *s, const struct resp_head *r)
{
	struct resp_adds adds;

	/* h1_client passes a 101 up only once the whole request, body
	 * included, went out; this is a second guard, as a 101 ignored here
	 * would leave tunnel bytes to pose as a response */
	if (r->status == 101 && s->req.is_websocket && s->is_req_done) {
		start_tunnel(s, r);
		return;
	}
	if (r->status == 101) {
		h1s_body_failed(s, 502, "101 before the request was complete");
		return;
	}
	/* RFC 9110 §15.2: no 1xx to an HTTP/1.0 client */
	if (s->req.version < 11)
		return;
	adds = h1s_adds(s);
	headers_write_response(sock_output(s->sk), r,
	    s->req.version, HEADERS_NO_BODY, 0, true, &adds);
	pause_if_full(s);
}

static enum headers_framing
response_framing(const struct h1_server *s, const struct resp_head *r)
{
	bool is_head = s->req.methodlen == 4 &&
	    memcmp(s->req.method, "HEAD", 4) == 0;

	if (is_head || r->status == 204 || r->status == 304)
		return r->content_length >= 0 && r->status != 204 ?
		    HEADERS_LENGTH : HEADERS_NO_BODY;
	if (r->content_length >= 0)
		return HEADERS_LENGTH;
	return s->req.version >= 11 ? HEADERS_CHUNKED : HEADERS_UNTIL_CLOSE;
}

static void
on_resp_head(void *fe, const struct resp_head *r)
{
	struct h1_server *s = fe;
	struct resp_adds adds;

	if (client_is_closing(s->cl))
		return;
	if (r->status < 200) {
		send_interim(s, r);
		return;
	}
	s->framing = response_framing(s, r);
	s->is_keepalive = s->is_keepalive && s->is_req_done &&
	    s->framing != HEADERS_UNTIL_CLOSE && h1s_may_keep_alive(s);
	s->status = r->status;
	s->is_resp_started = true;
	adds = h1s_adds(s);
	headers_write_response(sock_output(s->sk), r,
	    s->req.version, s->framing,
	    r->content_length >= 0 ? (uint64_t)r->content_length : 0,
	    s->is_keepalive, &adds);
}

static void
on_resp_body(void *fe, struct evbuffer *data)
{
	struct h1_server *s = fe;
	struct evbuffer *out = sock_output(s->sk);

	s->bytes_sent += evbuffer_get_length(data);
	if (client_is_closing(s->cl)) {
		evbuffer_drain(data, evbuffer_get_length(data));
		return;
	}
	if (s->framing == HEADERS_CHUNKED)
		h1_write_chunk(out, data);
	else
		evbuffer_add_buffer(out, data);
	pause_if_full(s);
}

static void
on_resp_end(void *fe, const struct hfield *trailers, size_t n)
{
	struct h1_server *s = fe;

	if (s->framing == HEADERS_CHUNKED)
		h1_write_last_chunk(sock_output(s->sk), trailers,
		    n);
	h1s_request_done(s);
}

static void
on_resp_fail(void *fe, int status, const char *why)
{
	struct h1_server *s = fe;

	if (status == 0 || s->is_resp_started) {
		/* never present a short body as complete */
		h1s_abort_response(s, why);
		return;
	}
	h1s_respond_error(s, status, why);
}

static void
on_request_drain(void *fe)
{
	struct h1_server *s = fe;

	if (!s->is_reading_paused || s->state != H1S_BODY)
		return;
	s->is_reading_paused = false;
	sock_read_enable(s->sk, true);
	event_active(&s->next_ev, EV_TIMEOUT, 1);
}

const struct exchange_ops h1s_exchange_ops = {
	.on_head = on_resp_head,
	.on_body = on_resp_body,
	.on_end = on_resp_end,
	.on_fail = on_resp_fail,
	.on_request_drain = on_request_drain,
};
