/* proxy/client.h: a client connection as its frontend sees it: who the
 * client is, the config its requests run on, and the way to end it.
 *
 * conn.c owns the connection and sits above the frontends (h1_server,
 * h2_server and their parts): it fills this in, hands it to the frontend
 * it starts, and acts on the calls below through client_ops. So no
 * frontend includes conn.h or calls into conn.c, and the calls between
 * the layers run one way, down. */
#ifndef PORTICO_CLIENT_H
#define PORTICO_CLIENT_H

#include <stdbool.h>

#include "conf.h"

struct epoch;
struct wctx;

/* What the connection does for its frontend; OWNER is client.owner. */
struct client_ops {
	/* Ends the connection for WHY; IS_ERROR: a timeout, a protocol or
	 * I/O error, out of memory (its log line is at info level, else
	 * debug). I/O stops now; the free comes from the loop once the
	 * current callback returns, so it is safe in any callback. */
	void (*end)(void *owner, const char *why, bool is_error);
	/* Once the output is sent: FIN, then what the client still sends
	 * is discarded until it closes (or 2 s), then the end. */
	void (*linger)(void *owner);
	/* Moves epoch and cf to the worker's current epoch. */
	void (*refresh)(void *owner);
	/* Whether the end came (no more I/O: what comes is dropped). */
	bool (*is_closing)(const void *owner);
};

/* Filled in by the connection before its frontend starts; the frontend
 * reads it and changes nothing in it. */
struct client {
	struct wctx *ctx;               /* the worker's: base, clock, log */
	struct epoch *epoch;            /* a reference; see client_refresh */
	struct conf *cf;                /* the epoch's */
	struct conf_listen listen;      /* a copy: outlives any reload */
	bool is_tls;
	const char *tls_version;        /* "TLSv1.3"; NULL: cleartext */
	char addr[64];                  /* client address, for XFF */
	int peer_family;                /* AF_INET, AF_INET6 or AF_UNIX */
	unsigned char peer_ip[16];      /* its address, network order */
	char tag[112];                  /* "w0 c12 127.0.0.1:5555" for logs */
	const struct client_ops *ops;
	void *owner;
};

/* The one way out of a connection: grep client_close( for every reason
 * it ends. A normal end (a debug line). */
static inline void
client_close(struct client *cl, const char *why)
{
	cl->ops->end(cl->owner, why, false);
}

/* An end that is an error (an info line). */
static inline void
client_close_error(struct client *cl, const char *why)
{
	cl->ops->end(cl->owner, why, true);
}

/* The lingering close (client_ops.linger). */
static inline void
client_linger(struct client *cl)
{
	cl->ops->linger(cl->owner);
}

/* Between two HTTP/1.1 requests: the next one runs on the worker's
 * current epoch, so a reload applies to a kept-alive connection. */
static inline void
client_refresh(struct client *cl)
{
	cl->ops->refresh(cl->owner);
}

static inline bool
client_is_closing(const struct client *cl)
{
	return cl->ops->is_closing(cl->owner);
}

#endif
