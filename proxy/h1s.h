/* proxy/h1s.h: the HTTP/1.1 frontend's insides, shared by h1_server.c
 * (the connection and the request side) and h1_response.c (the response
 * as the exchange delivers it). Only those two include it. */
#ifndef PORTICO_H1S_H
#define PORTICO_H1S_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event_struct.h>

#include "arena.h"
#include "h1.h"
#include "headers.h"

struct client;
struct conf;
struct evbuffer;
struct exchange;
struct exchange_ops;
struct sock;
struct tunnel;

#define H1S_OUT_HIGH (256 * 1024)       /* pause the backend above this */
#define H1S_OUT_LOW  (64 * 1024)        /* resume it below this */

enum h1s_state {
	H1S_IDLE = 0,           /* between requests (keepalive_timeout) */
	H1S_HEAD,               /* a head is arriving (header_timer) */
	H1S_BODY,               /* the request body is being forwarded */
	H1S_WAIT,               /* request read; the response is pending */
	H1S_LINGER,             /* last response flushing, then close */
	H1S_TUNNEL,             /* after 101: tunnel.c moves the bytes */
};

struct h1_server {
	struct client *cl;
	struct sock *sk;
	const struct conf *cf;
	enum h1s_state state;
	struct arena arena;             /* the current request's bytes */
	struct h1_reader reader;
	struct req_head req;
	struct fwd_info fwd;
	struct exchange *x;
	struct tunnel *tunnel;          /* after a 101 */
	struct evbuffer *body;          /* decoded body on its way */
	struct event header_timer;      /* H1S_HEAD: the head's deadline */
	int64_t head_start_us;          /* the head's first byte */
	size_t head_credit;             /* seconds its bytes earned so far */
	struct event next_ev;           /* starts a pipelined request */
	struct event age_timer;         /* max_connection_age: drain */
	enum headers_framing framing;   /* of the response to the client */
	bool is_resp_started;           /* a final head went out */
	bool is_req_done;               /* the whole request was read */
	bool is_keepalive;              /* keep the connection after this */
	bool is_reading_paused;         /* the exchange's queue is full */
	bool is_resp_paused;            /* our output is full */
	bool is_draining;               /* shutting down: close after this */
	/* the client shut its write side: what it sent whole is answered,
	 * then the connection closes; what it left incomplete is dropped */
	bool is_client_eof;
	unsigned nrequests;
	/* for the access log */
	int status;
	uint64_t bytes_sent;
	uint64_t bytes_received;
	int64_t start_us;
	const char *note;
	const char *upstream;           /* kept when the exchange is gone */
	int64_t upstream_us;
};

/* What the exchange calls with the response (h1_response.c). */
extern const struct exchange_ops h1s_exchange_ops;

/* Switches S to ST; its name, for logs. */
const char *h1s_set_state(struct h1_server *s, enum h1s_state st);
/* Whether the connection may serve one more request after this one. */
bool h1s_may_keep_alive(const struct h1_server *s);
/* What this connection adds to a response head: Via (via on), and HSTS
 * on a tls listener with hsts. */
struct resp_adds h1s_adds(const struct h1_server *s);
/* Adds the request's line to the access log, if there is one. */
void h1s_log_access(struct h1_server *s);
/* The response is complete (or failed): log it, then next request. */
void h1s_request_done(struct h1_server *s);
/* Answers STATUS (a response portico makes itself), noting WHY. */
void h1s_respond_error(struct h1_server *s, int status, const char *why);
/* The response cannot be finished: log, then close the connection. */
void h1s_abort_response(struct h1_server *s, const char *why);
/* The request body failed: STATUS to the client, or an abort once the
 * response started. */
void h1s_body_failed(struct h1_server *s, int status, const char *why);

#endif
