/* proxy/conn.c: a client connection's life: accept, hand the socket to
 * the protocol, and the single way out (close_conn). Its frontend sees
 * it as a struct client (client.h) and asks for the end, the lingering
 * close and a fresh epoch through client_ops, never by calling here. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "client.h"
#include "conf.h"
#include "conn.h"
#include "ctx.h"
#include "epoch.h"
#include "h1_server.h"
#include "h2_server.h"
#include "log.h"
#include "pp.h"
#include "sock.h"
#include "tls.h"

static void close_conn(struct conn *c, const char *why, bool is_error);
static const struct client_ops client_ops;

static void
name_peer(struct conn *c, const struct sockaddr *sa)
{
	char host[INET6_ADDRSTRLEN];
	unsigned port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
		memcpy(c->cl.peer_ip, &in->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
		memcpy(c->cl.peer_ip, &in6->sin6_addr, 16);
	} else {
		snprintf(host, sizeof(host), "unix");
	}
	c->cl.peer_family = sa->sa_family == AF_INET ||
	    sa->sa_family == AF_INET6 ? sa->sa_family : AF_UNIX;
	snprintf(c->cl.addr, sizeof(c->cl.addr), "%s", host);
	snprintf(c->cl.tag, sizeof(c->cl.tag), "w%u c%llu %s%s%s:%u",
	    ctx_id(c->cl.ctx), (unsigned long long)c->id,
	    sa->sa_family == AF_INET6 ? "[" : "", host,
	    sa->sa_family == AF_INET6 ? "]" : "", port);
}

/* RFC 9113 §3.4: a cleartext client with prior knowledge starts with
 * this; anything else is HTTP/1.1. */
static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define PREFACE_LEN (sizeof(preface) - 1)

static void
start_h1(struct conn *c)
{
	c->state = CONN_H1;
	if ((c->h1 = h1_server_new(&c->cl, c->sk)) == NULL)
		close_conn(c, "out of memory", true);
	else if (c->is_draining)
		h1_server_drain(c->h1);
}

static void
start_h2(struct conn *c)
{
	const char *why;

	c->state = CONN_H2;
	if ((c->h2 = h2_server_new(&c->cl, c->sk, &why)) == NULL)
		close_conn(c, why, true);
	else if (c->is_draining)
		h2_server_drain(c->h2);
}

static void
on_sniff_read(struct sock *sk, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = sock_input(sk);
	size_t n = evbuffer_get_length(in);
	const unsigned char *p;

	if (n > PREFACE_LEN)
		n = PREFACE_LEN;
	p = evbuffer_pullup(in, (ssize_t)n);
	if (memcmp(p, preface, n) != 0)
		start_h1(c);
	else if (n == PREFACE_LEN)
		start_h2(c);
}

static void
on_sniff_event(struct sock *sk, short what, void *arg)
{
	(void)sk;
	close_conn(arg, what & SOCK_TIMEOUT ? "idle timeout" :
	    "client closed", false);
}

/* TLS: ALPN decides the protocol once the handshake is done. */
static void
on_handshake_event(struct sock *sk, short what, void *arg)
{
	struct conn *c = arg;
	SSL *ssl = sock_ssl(sk);

	if (what & SOCK_CONNECTED) {
		c->cl.tls_version = tls_version(ssl);
		if (tls_alpn(ssl) == TLS_ALPN_H2)
			start_h2(c);
		else
			start_h1(c);
		return;
	}
	if (what & SOCK_TIMEOUT)
		log_conn(LOG_INFO, &c->cl, "tls handshake timed out");
	else
		tls_handshake_failed(ssl, c->cl.tag);
	close_conn(c, "tls handshake failed", true);
}

static void
start_handshake(struct conn *c)
{
	unsigned ms = c->cl.cf->tls_conf.handshake_timeout;
	struct timeval tv = { ms / 1000, ms % 1000 * 1000 };

	c->state = CONN_HANDSHAKE;
	c->cl.is_tls = true;
	sock_setcb(c->sk, NULL, NULL, on_handshake_event, c);
	sock_set_timeouts(c->sk, &tv, &tv);
}

static void
start_sniffing(struct conn *c)
{
	struct timeval tv = { c->cl.cf->client_header_timeout / 1000,
	    c->cl.cf->client_header_timeout % 1000 * 1000 };

	c->state = CONN_SNIFF;
	sock_setcb(c->sk, on_sniff_read, NULL, on_sniff_event, c);
	sock_set_timeouts(c->sk, &tv, NULL);
	sock_read_enable(c->sk, true);
}

static void
on_close(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	log_conn(c->close_level, &c->cl, "closed: %s", c->close_why);
	conn_free(c);
}

/* The socket is the client's: TLS first, or sniffing. -1: out of memory
 * (FD closed). */
static int
start_sock(struct conn *c, int fd)
{
	SSL *ssl = NULL;

	if (c->cl.listen.is_tls &&
	    (ssl = tls_ssl_new(c->cl.cf->tls)) == NULL) {
		close(fd);
		return -1;
	}
	if ((c->sk = sock_new(ctx_base(c->cl.ctx), fd, ssl)) == NULL)
		return -1;
	if (c->cl.listen.is_tls)
		start_handshake(c);
	else
		start_sniffing(c);
	return 0;
}

/* A connection without a valid header is closed without a response; its
 * close line (at info) names what was wrong. */
static void
on_proxy_header(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct sockaddr_storage ss;
	struct pp_addr a;
	const char *why;
	int r;

	if (what & EV_TIMEOUT) {
		r = PP_BAD;
		why = "no PROXY protocol header within client_header_timeout";
	} else if ((r = pp_read(fd, c->pp, &a, &why)) == PP_MORE) {
		return;
	}
	event_del(&c->pp_ev);
	free(c->pp);
	c->pp = NULL;
	if (r == PP_BAD) {
		close_conn(c, why, true);
		return;
	}
	if (a.family != AF_UNSPEC) {
		pp_sockaddr(&a, &ss);
		name_peer(c, (const struct sockaddr *)&ss);
	}
	c->pp_fd = -1;
	if (start_sock(c, fd) == -1)
		close_conn(c, "out of memory", true);
}

static int
wait_proxy_header(struct conn *c, int fd)
{
	struct timeval tv = { c->cl.cf->client_header_timeout / 1000,
	    c->cl.cf->client_header_timeout % 1000 * 1000 };

	if ((c->pp = malloc(sizeof(*c->pp))) == NULL)
		return -1;
	c->pp->len = 0;
	c->pp_fd = fd;
	c->state = CONN_PROXY_HEADER;
	event_assign(&c->pp_ev, ctx_base(c->cl.ctx), fd, EV_READ | EV_PERSIST,
	    on_proxy_header, c);
	event_add(&c->pp_ev, &tv);
	return 0;
}

struct conn *
conn_new(struct wctx *ctx, struct epoch *e, const struct conf_listen *l,
    int fd, const struct sockaddr *sa, int salen)
{
	struct conn *c;
	int one = 1;

	(void)salen;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return NULL;
	}
	c->cl.ctx = ctx;
	c->cl.ops = &client_ops;
	c->cl.owner = c;
	c->id = ctx_next_conn_id(ctx);
	c->cl.listen = *l;
	c->cl.cf = epoch_conf(e);
	c->pp_fd = -1;
	name_peer(c, sa);
	if (sa->sa_family != AF_UNIX)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (l->is_proxy_protocol ? wait_proxy_header(c, fd) == -1 :
	    start_sock(c, fd) == -1) {
		if (c->pp_fd == -1 && l->is_proxy_protocol)
			close(fd);
		free(c);
		return NULL;
	}
	c->cl.epoch = epoch_ref(e);
	event_assign(&c->close_ev, ctx_base(ctx), -1, 0, on_close, c);
	ctx_add_conn(ctx, c);
	return c;
}

/* IS_ERROR: a timeout, a protocol or I/O error, out of memory; its
 * line is at info level, a normal end's at debug. */
static void
close_conn(struct conn *c, const char *why, bool is_error)
{
	if (c->state == CONN_CLOSING)
		return;
	c->state = CONN_CLOSING;
	c->close_why = why;
	c->close_level = is_error ? LOG_INFO : LOG_DEBUG;
	if (c->sk != NULL)
		sock_read_enable(c->sk, false);
	if (c->pp_fd != -1)
		event_del(&c->pp_ev);   /* the fd closes with the conn */
	event_active(&c->close_ev, EV_TIMEOUT, 1);
}

void
conn_free(struct conn *c)
{
	event_del(&c->close_ev);
	if (c->pp_fd != -1) {           /* still waiting for its header */
		event_del(&c->pp_ev);
		close(c->pp_fd);
	}
	free(c->pp);
	h1_server_free(c->h1);
	h2_server_free(c->h2);
	sock_free(c->sk);
	ctx_remove_conn(c->cl.ctx, c);
	epoch_unref(c->cl.epoch);
	free(c);
}

/* Lingering close: a client may still be sending (a body we refused, a
 * pipelined request): closing now would make the kernel answer with a
 * reset that can destroy our last response before the client reads it.
 * So: send FIN, read and discard for a while, then close. */
#define CONN_LINGER_MS 2000

static void
on_linger_read(struct sock *sk, void *arg)
{
	(void)arg;
	evbuffer_drain(sock_input(sk), evbuffer_get_length(sock_input(sk)));
}

static void
on_linger_event(struct sock *sk, short what, void *arg)
{
	(void)sk;
	close_conn(arg, what & SOCK_TIMEOUT ? "linger timeout" : "done",
	    false);
}

/* The output is out; a client that already sent its EOF is done. */
static void
on_linger_drain(struct sock *sk, void *arg)
{
	if (sock_is_eof(sk) && sock_pending(sk) == 0)
		close_conn(arg, "done", false);
}

static void
linger(struct conn *c)
{
	struct timeval tv = { CONN_LINGER_MS / 1000,
	    CONN_LINGER_MS % 1000 * 1000 };
	struct evbuffer *in = sock_input(c->sk);

	if (c->state == CONN_CLOSING)
		return;
	/* the client already ended its side: nothing can come to turn our
	 * close into a reset, and no EOF is left to wait for */
	if (sock_is_eof(c->sk) &&
	    sock_pending(c->sk) == 0) {
		close_conn(c, "done", false);
		return;
	}
	evbuffer_drain(in, evbuffer_get_length(in));
	sock_setcb(c->sk, on_linger_read, on_linger_drain, on_linger_event,
	    c);
	sock_set_write_low(c->sk, 0);
	sock_set_read_high(c->sk, 0);
	sock_set_timeouts(c->sk, &tv, NULL);
	sock_read_enable(c->sk, true);
	sock_shutdown_write(c->sk);
}

static void
refresh(struct conn *c)
{
	struct epoch *now = ctx_epoch(c->cl.ctx);

	if (now == c->cl.epoch)
		return;
	epoch_unref(c->cl.epoch);
	c->cl.epoch = epoch_ref(now);
	c->cl.cf = epoch_conf(now);
}

void
conn_drain(struct conn *c)
{
	switch (c->state) {
	case CONN_SNIFF:
		/* the first bytes of a request: it is served, then the
		 * protocol drains (start_h1, start_h2) */
		if (evbuffer_get_length(sock_input(c->sk)) > 0) {
			c->is_draining = true;
			break;
		}
		close_conn(c, "shutting down", false);
		break;
	case CONN_HANDSHAKE:            /* no request yet */
	case CONN_PROXY_HEADER:
		close_conn(c, "shutting down", false);
		break;
	case CONN_H1:
		h1_server_drain(c->h1);
		break;
	case CONN_H2:
		h2_server_drain(c->h2);
		break;
	case CONN_CLOSING:
		break;
	}
}

/* The frontend's requests (client.h), OWNER the conn. */

static void
on_end(void *owner, const char *why, bool is_error)
{
	close_conn(owner, why, is_error);
}

static void
on_linger(void *owner)
{
	linger(owner);
}

static void
on_refresh(void *owner)
{
	refresh(owner);
}

static bool
on_is_closing(const void *owner)
{
	const struct conn *c = owner;

	return c->state == CONN_CLOSING;
}

static const struct client_ops client_ops = {
	.end = on_end,
	.linger = on_linger,
	.refresh = on_refresh,
	.is_closing = on_is_closing,
};
