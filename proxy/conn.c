/* proxy/conn.c: a client connection's life: accept, hand the socket to
 * the protocol, and the single way out (conn_close). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "conf.h"
#include "conn.h"
#include "epoch.h"
#include "h1_server.h"
#include "h2_server.h"
#include "log.h"
#include "sock.h"
#include "tls.h"
#include "ctx.h"

static void
name_peer(struct conn *c, const struct sockaddr *sa)
{
	char host[INET6_ADDRSTRLEN];
	unsigned port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
	} else {
		snprintf(host, sizeof(host), "unix");
	}
	snprintf(c->addr, sizeof(c->addr), "%s", host);
	snprintf(c->tag, sizeof(c->tag), "w%u c%llu %s%s%s:%u",
	    ctx_id(c->ctx), (unsigned long long)c->id,
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
	if ((c->h1 = h1_server_new(c, c->sk)) == NULL)
		conn_close_error(c, "out of memory");
	else if (c->is_draining)
		h1_server_drain(c->h1);
}

static void
start_h2(struct conn *c)
{
	const char *why;

	c->state = CONN_H2;
	if ((c->h2 = h2_server_new(c, c->sk, &why)) == NULL)
		conn_close_error(c, why);
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
	conn_close(arg, what & SOCK_TIMEOUT ? "idle timeout" :
	    "client closed");
}

/* TLS: ALPN decides the protocol once the handshake is done. */
static void
on_handshake_event(struct sock *sk, short what, void *arg)
{
	struct conn *c = arg;
	SSL *ssl = sock_ssl(sk);

	if (what & SOCK_CONNECTED) {
		c->tls_version = tls_version(ssl);
		if (tls_alpn(ssl) == TLS_ALPN_H2)
			start_h2(c);
		else
			start_h1(c);
		return;
	}
	if (what & SOCK_TIMEOUT)
		log_conn(LOG_INFO, c, "tls handshake timed out");
	else
		tls_handshake_failed(ssl, c->tag);
	conn_close_error(c, "tls handshake failed");
}

static void
start_handshake(struct conn *c)
{
	unsigned ms = c->cf->tls_conf.handshake_timeout;
	struct timeval tv = { ms / 1000, ms % 1000 * 1000 };

	c->state = CONN_HANDSHAKE;
	c->is_tls = true;
	sock_setcb(c->sk, NULL, NULL, on_handshake_event, c);
	sock_set_timeouts(c->sk, &tv, &tv);
}

static void
start_sniffing(struct conn *c)
{
	struct timeval tv = { c->cf->client_header_timeout / 1000,
	    c->cf->client_header_timeout % 1000 * 1000 };

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
	log_conn(c->close_level, c, "closed: %s", c->close_why);
	conn_free(c);
}

struct conn *
conn_new(struct wctx *ctx, struct epoch *e, const struct conf_listen *l,
    int fd, const struct sockaddr *sa, int salen)
{
	struct conn *c;
	SSL *ssl = NULL;
	int one = 1;

	(void)salen;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto fail_fd;
	c->ctx = ctx;
	c->id = ctx_next_conn_id(ctx);
	c->listen = *l;
	name_peer(c, sa);
	if (sa->sa_family != AF_UNIX)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (l->is_tls && (ssl = tls_ssl_new(epoch_conf(e)->tls)) == NULL)
		goto fail_c;
	if ((c->sk = sock_new(ctx_base(ctx), fd, ssl)) == NULL) {
		free(c);
		return NULL;
	}
	c->epoch = epoch_ref(e);
	c->cf = epoch_conf(e);
	event_assign(&c->close_ev, ctx_base(ctx), -1, 0, on_close, c);
	ctx_add_conn(ctx, c);
	if (l->is_tls)
		start_handshake(c);
	else
		start_sniffing(c);
	return c;

fail_c:
	free(c);
fail_fd:
	close(fd);
	return NULL;
}

static void
close_at(struct conn *c, const char *why, int level)
{
	if (c->state == CONN_CLOSING)
		return;
	c->state = CONN_CLOSING;
	c->close_why = why;
	c->close_level = level;
	sock_read_enable(c->sk, false);
	event_active(&c->close_ev, EV_TIMEOUT, 1);
}

void
conn_close(struct conn *c, const char *why)
{
	close_at(c, why, LOG_DEBUG);
}

void
conn_close_error(struct conn *c, const char *why)
{
	close_at(c, why, LOG_INFO);
}

void
conn_free(struct conn *c)
{
	event_del(&c->close_ev);
	h1_server_free(c->h1);
	h2_server_free(c->h2);
	sock_free(c->sk);
	ctx_remove_conn(c->ctx, c);
	epoch_unref(c->epoch);
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
	conn_close(arg, what & SOCK_TIMEOUT ? "linger timeout" : "done");
}

/* The output is out; a client that already sent its EOF is done. */
static void
on_linger_drain(struct sock *sk, void *arg)
{
	if (sock_is_eof(sk) && evbuffer_get_length(sock_output(sk)) == 0)
		conn_close(arg, "done");
}

void
conn_linger(struct conn *c)
{
	struct timeval tv = { CONN_LINGER_MS / 1000,
	    CONN_LINGER_MS % 1000 * 1000 };
	struct evbuffer *in = sock_input(c->sk);

	if (c->state == CONN_CLOSING)
		return;
	/* the client already ended its side: nothing can come to turn our
	 * close into a reset, and no EOF is left to wait for */
	if (sock_is_eof(c->sk) &&
	    evbuffer_get_length(sock_output(c->sk)) == 0) {
		conn_close(c, "done");
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

void
conn_refresh(struct conn *c)
{
	struct epoch *now = ctx_epoch(c->ctx);

	if (now == c->epoch)
		return;
	epoch_unref(c->epoch);
	c->epoch = epoch_ref(now);
	c->cf = epoch_conf(now);
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
		conn_close(c, "shutting down");
		break;
	case CONN_HANDSHAKE:            /* no request yet */
		conn_close(c, "shutting down");
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

const char *
conn_tag(const struct conn *c)
{
	return c->tag;
}
