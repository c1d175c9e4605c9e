/* proxy/h2_stall.c: the timers of an HTTP/2 stream's phases that wait
 * on the client: client_body_timeout while it sends the request body,
 * send_timeout while it takes the response, for each stream and for
 * the connection's window.
 *
 * A stream is in its body phase while its request body is on its way,
 * an exchange takes it, and every byte of it is acknowledged (so the
 * client has window to send more) and, for an Expect: 100-continue
 * request, once the client may send (a 1xx came, or it sent anyway).
 * No DATA for client_body_timeout: 408 if no response has begun, else
 * RST_STREAM CANCEL; the exchange is freed. While the backend is slow
 * to take the body (bytes unacknowledged), the backend's timeouts rule.
 *
 * A stream is in its send phase while it has response bytes (or its
 * END_STREAM) the client has yet to take; before, the backend's timeouts
 * bound it, and its backend is paused while its buffer is full, so they
 * no longer run once the client stops taking. In the send phase the
 * stream must move: no DATA of it for send_timeout, and
 *   - its stream window shut: RST_STREAM CANCEL; its exchange is freed
 *     (the backend connection closed, not pooled), the rest go on;
 *   - the connection window shut as long: GOAWAY, every stream ends;
 *   - both open: the socket holds it (send_timeout on its write side,
 *     h2_server_new) or its turn has not come: nothing to do.
 * An RFC 8441 tunnel's bytes are under tunnel_timeout instead.
 *
 * One timer per connection sweeps the streams, rather than a timer per
 * stream: DATA going out only stamps the time (no event_add per frame),
 * nghttp2 does not tell when it defers a stream for its window (so a
 * stream timer would have to poll anyway), and a sweep at the earliest
 * deadline visits at most http2_max_concurrent_streams streams. The
 * timer runs only while some stream may be in one of these phases.
 */
#include <stdint.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "client.h"
#include "conf.h"
#include "ctx.h"
#include "h2.h"
#include "log.h"

/* A sweep comes at least this fraction of the shorter timeout after
 * the last: streams stamped a moment apart cost one sweep, not one
 * each. */
#define STALL_MIN_STEP  16

static int64_t
send_limit(const struct h2_server *h)
{
	return (int64_t)h->cf->send_timeout * 1000;
}

static int64_t
body_limit(const struct h2_server *h)
{
	return (int64_t)h->cf->client_body_timeout * 1000;
}

static bool
in_body_phase(const struct h2_stream *st)
{
	return st->state == H2S_BODY && st->x != NULL &&
	    st->ws == H2WS_NONE && st->unconsumed == 0 &&
	    (!st->rq.req.wants_continue || st->resp.is_continued ||
	    st->bytes_received > 0);
}

static bool
in_send_phase(const struct h2_stream *st)
{
	return st->resp.has_provider && h2_stream_is_live(st) &&
	    st->ws != H2WS_OPEN &&
	    (evbuffer_get_length(st->out) > 0 || st->resp.is_eof);
}

/* What the stream still holds goes, the backend connection first. */
static void
drop_response(struct h2_stream *st)
{
	h2_stream_release_exchange(st);
	evbuffer_drain(st->out, evbuffer_get_length(st->out));
	st->resp.is_eof = false;        /* the provider has nothing more */
}

static void
reset_stalled(struct h2_stream *st)
{
	drop_response(st);
	h2_stream_reset(st, NGHTTP2_CANCEL,
	    "send timeout: stream window shut");
}

/* The client stopped sending its request body. */
static void
time_out_body(struct h2_stream *st)
{
	log_conn(LOG_INFO, st->h->cl, "http2: stream %d: no request body for "
	    "client_body_timeout", (int)st->id);
	h2_stream_release_exchange(st);         /* half a request: closed */
	if (st->resp.is_started)
		h2_stream_reset(st, NGHTTP2_CANCEL, "client body timeout");
	else
		h2_stream_refuse(st, 408, "client body timeout");
}

static void
close_stalled(struct h2_server *h)
{
	struct h2_stream *st;

	log_conn(LOG_INFO, h->cl, "http2: connection window shut for "
	    "send_timeout: GOAWAY, %u streams end", h->nstreams);
	TAILQ_FOREACH(st, &h->streams, link) {
		if (st->note == NULL)
			st->note = "send timeout: connection window shut";
		drop_response(st);
		h2_stream_enter(st, H2S_REFUSED);
	}
	h2_terminate(h, NGHTTP2_NO_ERROR);
}

/* One stream in its send phase: its deadline passed (due <= now). The
 * next time to look at it, 0 if it was reset, -1 if the connection is
 * to close. */
static int64_t
check_stream(struct h2_server *h, struct h2_stream *st, int64_t now,
    int64_t limit)
{
	if (nghttp2_session_get_remote_window_size(h->session) <= 0)
		return h->data_us + limit <= now ? -1 : h->data_us + limit;
	/* it can move: not the client's window */
	if (nghttp2_session_get_stream_remote_window_size(h->session,
	    st->id) > 0)
		return now + limit;
	reset_stalled(st);
	return 0;
}

/* The timer fires by AT (or a step after NOW), unless it already fires
 * earlier. */
static void
arm(struct h2_server *h, int64_t now, int64_t at)
{
	int64_t step = send_limit(h) < body_limit(h) ? send_limit(h) :
	    body_limit(h);
	int64_t delay = at - now;
	struct timeval tv;

	if (h->state == H2C_CLOSING ||
	    (evtimer_pending(&h->stall_timer, NULL) && h->stall_at_us <= at))
		return;
	if (delay < step / STALL_MIN_STEP)
		delay = step / STALL_MIN_STEP;
	h->stall_at_us = now + delay;
	tv.tv_sec = delay / 1000000;
	tv.tv_usec = delay % 1000000;
	event_add(&h->stall_timer, &tv);
}

/* ST's request body deadline: 0 if it passed (and the stream is
 * answered), else when it is. */
static int64_t
check_body(struct h2_stream *st, int64_t now)
{
	int64_t t = st->recv_us + body_limit(st->h);

	if (t > now)
		return t;
	time_out_body(st);
	return 0;
}

static void
on_stall(evutil_socket_t fd, short what, void *arg)
{
	struct h2_server *h = arg;
	int64_t now = ctx_now_us(h->cl->ctx), next = INT64_MAX, t;
	int64_t limit = send_limit(h);
	struct h2_stream *st;
	unsigned nreset = 0, nbody = 0;

	(void)fd;
	(void)what;
	if (h->state >= H2C_TERMINATED)        /* or closing */
		return;
	h->stall_at_us = 0;
	TAILQ_FOREACH(st, &h->streams, link) {
		if (in_send_phase(st)) {
			t = st->sent_us + limit;
			if (t <= now &&
			    (t = check_stream(h, st, now, limit)) == -1) {
				close_stalled(h);
				h2_flush(h);
				return;
			}
			nreset += t == 0;
			if (t != 0 && t < next)
				next = t;
		}
		if (in_body_phase(st)) {
			t = check_body(st, now);
			nbody += t == 0;
			if (t != 0 && t < next)
				next = t;
		}
	}
	if (nreset > 0)
		log_conn(LOG_INFO, h->cl, "http2: %u streams reset: stream "
		    "window shut for send_timeout", nreset);
	if (next != INT64_MAX)
		arm(h, now, next);
	if (nreset + nbody > 0)
		h2_flush(h);
}

void
h2_stall_init(struct h2_server *h)
{
	evtimer_assign(&h->stall_timer, ctx_base(h->cl->ctx), on_stall, h);
	h->data_us = ctx_now_us(h->cl->ctx);
}

void
h2_stall_fini(struct h2_server *h)
{
	event_del(&h->stall_timer);
}

void
h2_stall_watch(struct h2_stream *st)
{
	struct h2_server *h = st->h;
	int64_t now = ctx_now_us(h->cl->ctx);

	st->sent_us = now;
	arm(h, now, now + send_limit(h));
}

void
h2_stall_sent(struct h2_stream *st)
{
	st->sent_us = st->h->data_us = ctx_now_us(st->h->cl->ctx);
}

void
h2_stall_body(struct h2_stream *st)
{
	struct h2_server *h = st->h;
	int64_t now = ctx_now_us(h->cl->ctx);

	st->recv_us = now;
	arm(h, now, now + body_limit(h));
}
