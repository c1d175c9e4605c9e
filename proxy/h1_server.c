/* proxy/h1_server.c: HTTP/1.1 for one client connection.
 *
 * Requests are served one at a time: while a response is pending, reading
 * stops, so pipelined requests wait in the socket and responses leave in
 * request order. Body bytes move from the client's input buffer to the
 * exchange (evbuffer moves; chunked bodies are decoded by h1.c), and
 * reading pauses whenever the exchange reports its queue full. The
 * response goes the other way; the backend is paused while the client's
 * output buffer is above the high-water mark.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "access.h"
#include "arena.h"
#include "client.h"
#include "conf.h"
#include "ctx.h"
#include "exchange.h"
#include "h1.h"
#include "h1_server.h"
#include "h1s.h"
#include "headers.h"
#include "log.h"
#include "sock.h"
#include "tunnel.h"

#define H1S_IN_HIGH  (256 * 1024)       /* client bytes read ahead */

static void on_read(struct sock *sk, void *arg);
static void on_write(struct sock *sk, void *arg);
static void on_event(struct sock *sk, short what, void *arg);
static void process(struct h1_server *s);

static struct timeval
tv_ms(unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	return tv;
}

const char *
h1s_set_state(struct h1_server *s, enum h1s_state st)
{
	static const char *const names[] = {
		"idle", "head", "body", "wait", "linger", "tunnel",
	};

	s->state = st;
	return names[st];
}

/* Client bytes read ahead: H1S_IN_HIGH, or more when a head may be
 * larger, since a head is only parsed once it is whole in the input
 * (a 300 KB head under client_max_header_size 1m waited for 408). */
static size_t
in_high(const struct conf *cf)
{
	return cf->client_max_header_size < H1S_IN_HIGH ? H1S_IN_HIGH :
	    cf->client_max_header_size + 1;
}

/* Between requests. While the last response is still on its way out
 * (up to H1S_OUT_HIGH and the kernel's buffers, which a slow client may
 * take long to read) only send_timeout runs; keepalive_timeout starts
 * once it is all written (on_write), so it never cuts a download. */
static void
idle_timers(struct h1_server *s)
{
	struct timeval rt = tv_ms(s->cf->keepalive_timeout);
	struct timeval wt = tv_ms(s->cf->send_timeout);
	bool is_sending = sock_pending(s->sk) > 0;

	if (is_sending)
		sock_set_write_low(s->sk, 0);   /* on_write once all is out */
	sock_set_timeouts(s->sk, is_sending ? NULL : &rt, &wt);
}

static void
enter_idle(struct h1_server *s)
{
	h1s_set_state(s, H1S_IDLE);
	client_refresh(s->cl);
	s->cf = s->cl->cf;
	arena_reset(&s->arena);
	h1_reader_init(&s->reader, false, &s->arena);
	h1_reader_set_limits(&s->reader, s->cf->client_max_header_fields,
	    s->cf->client_max_header_size);
	memset(&s->req, 0, sizeof(s->req));
	s->is_resp_started = s->is_req_done = false;
	s->is_reading_paused = s->is_resp_paused = false;
	s->status = 0;
	s->bytes_sent = s->bytes_received = 0;
	s->note = NULL;
	s->upstream = NULL;
	s->upstream_us = -1;
	sock_set_read_high(s->sk, in_high(s->cf));
	idle_timers(s);
	sock_read_enable(s->sk, true);
}

void
h1s_log_access(struct h1_server *s)
{
	struct access_entry e = { 0 };

	if (ctx_access_log(s->cl->ctx) == NULL)
		return;
	e.status = s->status;
	e.bytes_sent = s->bytes_sent;
	e.bytes_received = s->bytes_received;
	e.start_us = s->start_us;
	e.upstream = s->x != NULL ? exchange_upstream(s->x) : s->upstream;
	e.upstream_us = s->x != NULL ? exchange_upstream_us(s->x) :
	    s->upstream_us;
	e.note = s->note;
	access_add(&e, s->cl, &s->req,
	    s->req.version == 10 ? "HTTP/1.0" : "HTTP/1.1");
}

/* Flush what is queued, then close. */
static void
linger(struct h1_server *s)
{
	h1s_set_state(s, H1S_LINGER);
	sock_read_enable(s->sk, false);
	sock_set_write_low(s->sk, 0);
	if (sock_pending(s->sk) == 0)
		client_linger(s->cl);
}

/* Whether this request's response may keep the connection, as far as
 * the connection goes: not when draining (graceful stop,
 * max_connection_age), nor on the keepalive_requests-th request. */
bool
h1s_may_keep_alive(const struct h1_server *s)
{
	/* a client that half-closed: only what it already sent is served */
	return !s->is_draining &&
	    s->nrequests + 1 < s->cf->keepalive_requests &&
	    (!s->is_client_eof || evbuffer_get_length(sock_input(s->sk)) > 0);
}

/* The response is complete (or failed): log it, then next request. */
void
h1s_request_done(struct h1_server *s)
{
	if (s->state == H1S_HEAD)
		event_del(&s->header_timer);
	h1s_log_access(s);
	exchange_free(s->x);
	s->x = NULL;
	s->nrequests++;
	if (!s->is_keepalive || s->is_draining ||
	    client_is_closing(s->cl) || (s->is_client_eof &&
	    evbuffer_get_length(sock_input(s->sk)) == 0)) {
		linger(s);
		return;
	}
	enter_idle(s);
	if (evbuffer_get_length(sock_input(s->sk)) > 0)
		event_active(&s->next_ev, EV_TIMEOUT, 1);
}

/* A response portico makes itself; the connection is kept only when the
 * request was read whole and the client allows it. */
struct resp_adds
h1s_adds(const struct h1_server *s)
{
	struct resp_adds a = { s->cf->via, NULL };

	if (s->cl->is_tls && s->cf->tls_conf.hsts[0] != '\0')
		a.hsts = s->cf->tls_conf.hsts;
	return a;
}

void
h1s_respond_error(struct h1_server *s, int status, const char *why)
{
	s->is_keepalive = s->is_keepalive && s->is_req_done &&
	    h1s_may_keep_alive(s);
	s->status = status;
	s->note = why;
	headers_write_error(sock_output(s->sk), status,
	    s->is_keepalive, h1s_adds(s).hsts);
	h1s_request_done(s);
}

/* The response cannot be finished. Chunked or with a length, the close
 * alone tells the client it is short; read until close, only a reset
 * does (and over TLS, no close_notify). */
void
h1s_abort_response(struct h1_server *s, const char *why)
{
	s->note = why;
	s->is_keepalive = false;
	if (s->is_resp_started && s->framing == HEADERS_UNTIL_CLOSE)
		sock_abort(s->sk);
	h1s_log_access(s);
	exchange_free(s->x);
	s->x = NULL;
	client_close_error(s->cl, why);
}

/* The request side. */

/* What must not reach a backend even though llhttp accepted it. */
static int
check_request(struct h1_server *s, int *status, const char **why)
{
	const struct req_head *h = &s->req;
	size_t i;

	*status = 400;
	for (i = 0; i < h->nfields; i++)
		if (headers_check_field(&h->fields[i], why) == -1)
			return -1;
	if (h->methodlen == 7 && memcmp(h->method, "CONNECT", 7) == 0) {
		*status = 405;
		*why = "CONNECT is not supported";
		return -1;
	}
	if (h->content_length >= 0 && s->cf->client_max_body_size > 0 &&
	    (uint64_t)h->content_length > s->cf->client_max_body_size) {
		*status = 413;
		*why = "request body too large";
		return -1;
	}
	return 0;
}

/* An HTTP/1.0 request may come without Host: the backend still needs one,
 * so it gets the address the client connected to. */
static void
default_host(struct h1_server *s)
{
	const struct conf_listen *l = &s->cl->listen;

	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN], *a;
	const void *ip;
	int port;

	s->req.authority = "localhost";
	s->req.authoritylen = 9;
	/* "listen :8080" names no host: the address the client reached is
	 * the one that means something to the backend. */
	if (l->addr.ss.ss_family == AF_UNIX ||
	    getsockname(sock_fd(s->sk), (struct sockaddr *)&ss, &len) == -1 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
		return;
	ip = ss.ss_family == AF_INET ?
	    (const void *)&((struct sockaddr_in *)&ss)->sin_addr :
	    (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
	port = ntohs(ss.ss_family == AF_INET ?
	    ((struct sockaddr_in *)&ss)->sin_port :
	    ((struct sockaddr_in6 *)&ss)->sin6_port);
	if (inet_ntop(ss.ss_family, ip, host, sizeof(host)) == NULL ||
	    (a = arena_alloc(&s->arena, sizeof(host) + 10)) == NULL)
		return;
	s->req.authority = a;
	s->req.authoritylen = (uint32_t)snprintf(a, sizeof(host) + 10,
	    ss.ss_family == AF_INET ? "%s:%d" : "[%s]:%d", host, port);
}

/* Reading stays enabled (switching it costs an epoll_ctl per request):
 * pipelined bytes wait in the input buffer, bounded by its watermark,
 * and a client that goes away is noticed. No read timeout applies. */
static void
wait_response(struct h1_server *s)
{
	struct timeval wt = tv_ms(s->cf->send_timeout);

	h1s_set_state(s, H1S_WAIT);
	sock_set_timeouts(s->sk, NULL, &wt);
}

static void
start_exchange(struct h1_server *s)
{
	int status;
	const char *why;

	s->start_us = ctx_now_us(s->cl->ctx);
	s->is_keepalive = h1_req_keepalive(&s->req);
	if (check_request(s, &status, &why) == -1) {
		s->is_keepalive = false;
		h1s_respond_error(s, status, why);
		return;
	}
	s->fwd.client_addr = s->cl->addr;
	s->fwd.is_tls = s->cl->is_tls;
	s->fwd.tag = s->cl->tag;
	s->fwd.drops_forwarded = !conf_trusts(s->cf, s->cl->peer_family,
	    s->cl->peer_ip);
	s->req.scheme = s->cl->is_tls ? "https" : "http";
	if (s->req.authority == NULL)
		default_host(s);
	ctx_count_request(s->cl->ctx);
	s->x = exchange_new(s->cl->epoch, &s->req, &s->arena, &s->fwd,
	    &h1s_exchange_ops, s, &status, &why);
	if (s->x == NULL) {
		s->is_keepalive = false;
		h1s_respond_error(s, status, why);
		return;
	}
	if (s->req.has_body) {
		struct timeval rt = tv_ms(s->cf->client_body_timeout);
		struct timeval wt = tv_ms(s->cf->send_timeout);

		h1s_set_state(s, H1S_BODY);
		sock_set_timeouts(s->sk, &rt, &wt);
		return;
	}
	s->is_req_done = true;
	exchange_request_end(s->x, NULL, 0);
	wait_response(s);
}

/* H1S_HEAD is governed by header_timer alone, as Apache mod_reqtimeout's
 * header=initial-cap,MinRate=rate: the head must be whole
 * client_header_initial_timeout after its first byte, one second later
 * for every client_header_min_rate bytes received, and never later than
 * client_header_timeout after that byte. The timer is re-armed as bytes
 * earn time (not the socket's read timeout: that is an inactivity
 * timeout, reset by every byte a slowloris sends). Before the first byte
 * (H1S_IDLE) keepalive_timeout governs; once the head is read,
 * client_body_timeout (H1S_BODY) or send_timeout (H1S_WAIT) does. */
static void
arm_header_timer(struct h1_server *s, size_t bytes)
{
	const struct conf *cf = s->cf;
	int64_t limit = cf->client_header_initial_timeout, left;
	struct timeval tv;

	s->head_credit = bytes / cf->client_header_min_rate;
	limit += (int64_t)s->head_credit * 1000;
	if (limit > cf->client_header_timeout)
		limit = cf->client_header_timeout;
	left = limit - (ctx_now_us(s->cl->ctx) - s->head_start_us) / 1000;
	tv = tv_ms(left > 0 ? (unsigned)left : 0);
	event_add(&s->header_timer, &tv);
}

/* The first bytes of a head, or more of them: the deadline moves only
 * when they earned another second. */
static void
head_progress(struct h1_server *s, size_t bytes)
{
	struct timeval ht = tv_ms(s->cf->client_header_timeout);
	struct timeval wt = tv_ms(s->cf->send_timeout);

	if (s->state == H1S_HEAD) {
		if (bytes / s->cf->client_header_min_rate > s->head_credit)
			arm_header_timer(s, bytes);
		return;
	}
	h1s_set_state(s, H1S_HEAD);
	/* the socket's read timeout is only a backstop from here on: being
	 * reset by each byte, it can never fire before header_timer;
	 * the last response may still be going out, under send_timeout */
	sock_set_timeouts(s->sk, &ht, &wt);
	arm_header_timer(s, bytes);
}

/* The head usually arrives whole in one read; the header timer is only
 * armed when it does not. */
static int
read_head(struct h1_server *s, struct evbuffer *in)
{
	int r;

	if (evbuffer_get_length(in) == 0)
		return -1;
	if (s->state == H1S_IDLE)
		s->start_us = s->head_start_us = ctx_now_us(s->cl->ctx);
	r = h1_read_request_head(&s->reader, in, &s->req,
	    s->cf->client_max_header_size, s->cf->client_max_uri_size);
	if (r == 0) {
		head_progress(s, evbuffer_get_length(in));
		return -1;
	}
	if (s->state == H1S_HEAD)
		event_del(&s->header_timer);
	if (r == -1) {
		s->is_keepalive = false;
		h1s_respond_error(s, s->reader.status, s->reader.why);
		return -1;
	}
	start_exchange(s);
	return 0;
}

void
h1s_body_failed(struct h1_server *s, int status, const char *why)
{
	s->is_keepalive = false;
	if (s->is_resp_started)
		h1s_abort_response(s, why);
	else
		h1s_respond_error(s, status, why);
}

static int
read_body(struct h1_server *s, struct evbuffer *in)
{
	uint64_t max = s->cf->client_max_body_size;
	int r = h1_read_body(&s->reader, in, s->body, H1S_IN_HIGH);
	size_t n = evbuffer_get_length(s->body);

	if (r == -1) {
		/* 400 bad framing, 431 trailers over the limits: in both
		 * cases no trailer byte went out, and the backend connection
		 * is discarded with the exchange */
		h1s_body_failed(s, s->reader.status != 0 ? s->reader.status :
		    400, s->reader.why);
		return -1;
	}
	s->bytes_received += n;
	if (max > 0 && s->bytes_received > max) {
		h1s_body_failed(s, 413, "request body too large");
		return -1;
	}
	exchange_request_body(s->x, s->body);
	if (r == 1) {
		s->is_req_done = true;
		exchange_request_end(s->x, s->reader.trailers,
		    s->reader.ntrailers);
		wait_response(s);
		return -1;
	}
	if (exchange_request_is_full(s->x)) {
		s->is_reading_paused = true;
		sock_read_enable(s->sk, false);
		return -1;
	}
	return evbuffer_get_length(in) > 0 ? 0 : -1;
}

static void
parse_input(struct h1_server *s, struct evbuffer *in)
{
	while (!client_is_closing(s->cl)) {
		if (s->state == H1S_IDLE || s->state == H1S_HEAD) {
			if (read_head(s, in) == -1)
				return;
		} else if (s->state == H1S_BODY && !s->is_reading_paused) {
			if (read_body(s, in) == -1)
				return;
		} else {
			return;
		}
	}
}

/* After the client's EOF, once its bytes are parsed: a request left
 * incomplete can never be, so the connection closes (and with it the
 * exchange of a half-sent body: the backend connection is discarded,
 * not reused). A request read whole goes on (H1S_WAIT), and so do the
 * pipelined ones behind it: h1s_request_done then closes after the last. */
static void
client_eof_check(struct h1_server *s)
{
	if (client_is_closing(s->cl))
		return;
	switch (s->state) {
	case H1S_IDLE:
		/* bytes left: a pipelined request, parsed from next_ev */
		if (evbuffer_get_length(sock_input(s->sk)) == 0)
			client_close(s->cl, "client closed");
		break;
	case H1S_HEAD:
		event_del(&s->header_timer);
		client_close_error(s->cl,
		    "client closed inside a request head");
		break;
	case H1S_BODY:
		/* paused: the body queued in the input is not parsed yet */
		if (!s->is_reading_paused)
			h1s_abort_response(s, "client closed inside the "
			    "request body");
		break;
	default:
		break;
	}
}

static void
process(struct h1_server *s)
{
	struct evbuffer *in = sock_input(s->sk);

	parse_input(s, in);
	if (s->is_client_eof)
		client_eof_check(s);
}

/* Socket and timer callbacks. */

static void
on_read(struct sock *sk, void *arg)
{
	(void)sk;
	process(arg);
}

static void
on_next(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	process(arg);
}

static void
on_write(struct sock *sk, void *arg)
{
	struct h1_server *s = arg;
	size_t left = sock_pending(sk);

	if (s->state == H1S_LINGER && left == 0) {
		client_linger(s->cl);
		return;
	}
	if (s->state == H1S_IDLE && left == 0)
		idle_timers(s);         /* all out: keepalive_timeout now */
	if (s->is_resp_paused && left <= H1S_OUT_LOW) {
		s->is_resp_paused = false;
		sock_set_write_low(sk, 0);
		if (s->x != NULL)
			exchange_response_resume(s->x);
	}
}

static void
on_header_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct h1_server *s = arg;

	(void)fd;
	(void)what;
	s->is_keepalive = false;
	h1s_respond_error(s, 408, "client header timeout");
}

static void
on_event(struct sock *sk, short what, void *arg)
{
	struct h1_server *s = arg;

	(void)sk;
	/* a half-close: the output still reaches the client */
	if (what & SOCK_EOF && !(what & SOCK_ERROR)) {
		s->is_client_eof = true;
		process(s);
		return;
	}
	if (what & SOCK_TIMEOUT && what & SOCK_READING &&
	    s->state == H1S_HEAD) {
		on_header_timeout(-1, 0, s);
		return;
	}
	if (what & SOCK_TIMEOUT && what & SOCK_READING &&
	    s->state == H1S_BODY && !s->is_resp_started) {
		h1s_body_failed(s, 408, "client body timeout");
		return;
	}
	if (s->x != NULL)
		h1s_abort_response(s, what & SOCK_TIMEOUT ?
		    "client timed out" : "client went away");
	else if (!(what & SOCK_TIMEOUT))
		client_close(s->cl, "client closed");
	else if (what & SOCK_WRITING)
		client_close_error(s->cl, "send timeout");
	else
		client_close(s->cl, "idle timeout");    /* keep-alive ends */
}

/* age_timer spans the connection's whole life, across its phases: when
 * max_connection_age is up it asks for the drain and ends nothing in
 * flight. Nothing replaces it. */
static void
on_age(evutil_socket_t fd, short what, void *arg)
{
	struct h1_server *s = arg;

	(void)fd;
	(void)what;
	log_conn(LOG_DEBUG, s->cl, "max_connection_age reached");
	h1_server_drain(s);
}

struct h1_server *
h1_server_new(struct client *cl, struct sock *sk)
{
	struct h1_server *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->body = evbuffer_new()) == NULL) {
		free(s);
		return NULL;
	}
	s->cl = cl;
	s->sk = sk;
	s->cf = cl->cf;
	arena_init(&s->arena);
	evtimer_assign(&s->header_timer, ctx_base(cl->ctx), on_header_timeout,
	    s);
	event_assign(&s->next_ev, ctx_base(cl->ctx), -1, 0, on_next, s);
	evtimer_assign(&s->age_timer, ctx_base(cl->ctx), on_age, s);
	if (s->cf->max_connection_age > 0) {
		struct timeval tv = tv_ms(s->cf->max_connection_age);

		event_add(&s->age_timer, &tv);
	}
	sock_setcb(sk, on_read, on_write, on_event, s);
	enter_idle(s);
	/* bytes read while the protocol was being chosen */
	if (evbuffer_get_length(sock_input(sk)) > 0)
		event_active(&s->next_ev, EV_TIMEOUT, 1);
	return s;
}

/* Graceful stop: an idle connection closes now, between requests; a
 * request in flight, or whose head is partly read (or waits in the input,
 * pipelined), gets "Connection: close" on its response (if its head is
 * not out yet) and the connection closes after it. Tunnels run on. */
void
h1_server_drain(struct h1_server *s)
{
	s->is_draining = true;
	event_del(&s->age_timer);
	if (s->state == H1S_IDLE &&
	    evbuffer_get_length(sock_input(s->sk)) == 0)
		client_close(s->cl, "shutting down");
}

void
h1_server_free(struct h1_server *s)
{
	if (s == NULL)
		return;
	event_del(&s->header_timer);
	event_del(&s->next_ev);
	event_del(&s->age_timer);
	tunnel_free(s->tunnel);
	exchange_free(s->x);
	evbuffer_free(s->body);
	arena_fini(&s->arena);
	free(s);
}
