/* proxy/conn.h: one client connection: its socket, the client as its
 * frontend sees it (client.h), and the protocol that reads it. */
#ifndef PORTICO_CONN_H
#define PORTICO_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/event_struct.h>

#include "client.h"

struct conf_listen;
struct epoch;
struct h1_server;
struct h2_server;
struct sock;
struct wctx;

enum conn_state {
	CONN_SNIFF = 0,         /* cleartext: h2 preface or HTTP/1.1? */
	CONN_PROXY_HEADER,      /* proxy_protocol: the balancer's header,
	                         * before any sock (pp.h) */
	CONN_HANDSHAKE,         /* TLS handshake; no protocol chosen yet */
	CONN_H1,                /* h1_server owns the input */
	CONN_H2,                /* h2_server owns the input */
	CONN_CLOSING,           /* freed from the loop, once callbacks return */
};

struct conn {
	uint64_t id;
	struct client cl;               /* what the frontend sees */
	struct sock *sk;
	enum conn_state state;
	bool is_draining;               /* conn_drain came while sniffing */
	struct h1_server *h1;
	struct h2_server *h2;
	struct event close_ev;          /* runs the deferred free */
	/* CONN_PROXY_HEADER: the fd, its read event (client_header_timeout,
	 * then the handshake's or sniffing's timeouts take over) and what
	 * has come of the header; freed once it is whole */
	int pp_fd;
	struct event pp_ev;
	struct pp_reader *pp;
	const char *close_why;
	int close_level;                /* LOG_DEBUG, or LOG_INFO: an error */
	TAILQ_ENTRY(conn) link;         /* in the worker's list */
};

/* Takes FD (accepted on L) and starts serving it on epoch E (referenced).
 * NULL if out of memory (FD is then closed). */
struct conn *conn_new(struct wctx *ctx, struct epoch *e,
    const struct conf_listen *l, int fd, const struct sockaddr *sa,
    int salen);
/* Graceful stop: finish what is in flight, then close. */
void conn_drain(struct conn *c);
/* Frees C at once; only for a stopping worker. */
void conn_free(struct conn *c);

#endif
