/* proxy/tunnel.h: a byte pipe between a client and a backend socket,
 * after a 101 Switching Protocols (WebSocket over HTTP/1.1). */
#ifndef PORTICO_TUNNEL_H
#define PORTICO_TUNNEL_H

#include <stdint.h>

struct event_base;
struct sock;
struct tunnel;

/* The tunnel ended for WHY; UP: client-to-backend bytes, DOWN: back. */
typedef void tunnel_done_fn(void *arg, const char *why, uint64_t up,
    uint64_t down);

/* Joins CLIENT and BACKEND (which it then owns): bytes flow both ways,
 * pausing a side whose peer does not read; EOF on one side half-closes
 * the other (even an EOF that came before the tunnel), and the other
 * direction flows on. Ends when both sides are done and their last bytes
 * are out, on an error, or after
 * TIMEOUT_MS without a byte either way; then DONE is called once (the
 * owner may free the tunnel from inside it). Bytes already buffered on
 * either socket go first. */
struct tunnel *tunnel_new(struct event_base *base, struct sock *client,
    struct sock *backend, unsigned timeout_ms, tunnel_done_fn *done,
    void *arg);
/* Frees the tunnel and the backend socket (not the client's). NULL ok. */
void tunnel_free(struct tunnel *t);

#endif
