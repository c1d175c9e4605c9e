/* upstream/h1_client.h: one request on a backend connection: writes the
 * HTTP/1.1 request, parses the response, and reports it upwards. */
#ifndef PORTICO_H1_CLIENT_H
#define PORTICO_H1_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend_error.h"
#include "headers.h"

struct arena;
struct conf;
struct evbuffer;
struct upconn;
struct h1_client;

struct h1_client_ops {
	/* A response head; 1xx heads come first, then one final head. */
	void (*on_head)(void *arg, const struct resp_head *r);
	/* Body bytes: the callee moves what it wants out of DATA. */
	void (*on_body)(void *arg, struct evbuffer *data);
	/* The response is complete; TRAILERS from a chunked body. In a
	 * tunnel: the backend ended its side; the client's bytes still go
	 * (send_body, then send_end), and an error may still follow. */
	void (*on_end)(void *arg, const struct hfield *trailers, size_t n);
	/* E: what failed (backend_error.h); WHY: its words for the log. */
	void (*on_error)(void *arg, enum backend_error e, const char *why);
	/* The request output fell below the low-water mark. */
	void (*on_drain)(void *arg);
};

/* Takes over UC's callbacks for one exchange. The response head goes in
 * ARENA; IS_HEAD: the request is a HEAD, the response has no body. */
struct h1_client *h1_client_new(struct upconn *uc, const struct conf *cf,
    struct arena *arena, bool is_head, const struct h1_client_ops *ops,
    void *arg);
/* Frees this thread's cache of clients; a worker calls it at exit. */
void h1_client_cache_free(void);
/* Frees all but KEEP of them; an idle worker calls it. */
void h1_client_cache_trim(unsigned keep);
/* Gives UC back to its pool (kept only if the response ended cleanly and
 * the backend allows keep-alive). NULL ok. */
void h1_client_free(struct h1_client *c);

/* Writes the head; the body (if any) follows with FRAMING. UPGRADE: a
 * WebSocket request; a 101 that comes once the whole request is written
 * turns the connection into a tunnel whose bytes come up through on_body
 * until the backend closes its side (on_end), and go down through
 * send_body until send_end half-closes ours: each direction ends on its
 * own. A tunnel has no timeouts of its own (the frontend's tunnel_timeout
 * governs it). An earlier 101 is a bad response. */
int h1_client_send_head(struct h1_client *c, const struct req_head *h,
    const struct fwd_info *fwd, enum headers_framing framing,
    uint64_t length, bool upgrade, const char **why);
/* From inside on_head(101): the backend socket, now the caller's (its
 * buffered bytes included); the client reports nothing more. */
struct sock *h1_client_take_sock(struct h1_client *c);
/* Moves all of DATA to the backend (chunk-framed when the head said so);
 * bytes that fit no framing (no body, or past its end, and no tunnel)
 * are dropped and the connection is not reused. */
void h1_client_send_body(struct h1_client *c, struct evbuffer *data);
/* The request is complete: ends a chunked body (with TRAILERS); in a
 * tunnel, shuts the backend's write side. */
void h1_client_send_end(struct h1_client *c, const struct hfield *trailers,
    size_t n);
/* Bytes queued for the backend, not yet written. */
size_t h1_client_pending(const struct h1_client *c);
/* Stop/resume reading the response (the client is slow). */
void h1_client_pause(struct h1_client *c);
void h1_client_resume(struct h1_client *c);
/* After a 101: tunnel bytes may go down (until send_end), even once the
 * backend ended its side. */
bool h1_client_is_tunnel(const struct h1_client *c);
/* Whether any byte of a response arrived. */
bool h1_client_has_response(const struct h1_client *c);
/* The connection is not reusable (the request was cut short). */
void h1_client_discard(struct h1_client *c);

#endif
