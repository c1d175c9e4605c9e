/* proxy/conn.h: one client connection: its socket, its identity for
 * logs, the config it started with, and the protocol that reads it. */
#ifndef PORTICO_CONN_H
#define PORTICO_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/event_struct.h>

#include "conf.h"

struct sock;
struct conf;
struct epoch;
struct h1_server;
struct h2_server;
struct wctx;

enum conn_state {
	CONN_SNIFF = 0,         /* cleartext: h2 preface or HTTP/1.1? */
	CONN_HANDSHAKE,         /* TLS handshake; no protocol chosen yet */
	CONN_H1,                /* h1_server owns the input */
	CONN_H2,                /* h2_server owns the input */
	CONN_CLOSING,           /* freed from the loop, once callbacks return */
};

struct conn {
	uint64_t id;
	struct wctx *ctx;
	struct epoch *epoch;            /* a reference; see conn_refresh */
	struct conf *cf;                /* the epoch's */
	struct conf_listen listen;      /* a copy: outlives any reload */
	struct sock *sk;
	enum conn_state state;
	bool is_tls;
	bool is_draining;               /* conn_drain came while sniffing */
	struct h1_server *h1;
	struct h2_server *h2;
	const char *tls_version;        /* once the handshake is done */
	struct event close_ev;          /* runs the deferred free */
	const char *close_why;
	int close_level;                /* LOG_DEBUG, or LOG_INFO: an error */
	char addr[64];                  /* client address, for XFF */
	char tag[112];                  /* "w0 c12 127.0.0.1:5555" for logs */
	TAILQ_ENTRY(conn) link;         /* in the worker's list */
};

/* Takes FD (accepted on L) and starts serving it with CF (referenced).
 * NULL if out of memory (FD is then closed). */
struct conn *conn_new(struct wctx *ctx, struct epoch *e,
    const struct conf_listen *l, int fd, const struct sockaddr *sa,
    int salen);
/* Between two HTTP/1.1 requests: move to the worker's current epoch, so
 * a reload applies to a kept-alive connection's next request. */
void conn_refresh(struct conn *c);
/* Graceful stop: finish what is in flight, then close. */
void conn_drain(struct conn *c);
/* Ends C for WHY, a normal end (a log line at debug level): I/O stops
 * now, the free happens from the loop after the current callback returns. */
void conn_close(struct conn *c, const char *why);
/* The same for an end that is an error (a timeout, a protocol or I/O
 * error, out of memory): its line is at info level. */
void conn_close_error(struct conn *c, const char *why);
/* Once everything queued is sent: FIN, then discard what the client still
 * sends until it closes (or 2 s), then conn_close. */
void conn_linger(struct conn *c);
/* Frees C at once; only for a stopping worker. */
void conn_free(struct conn *c);
const char *conn_tag(const struct conn *c);

#endif
