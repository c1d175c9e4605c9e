/* proxy/h2_server.h: the HTTP/2 frontend of one client connection: one
 * nghttp2 server session; each stream becomes one exchange. */
#ifndef PORTICO_H2_SERVER_H
#define PORTICO_H2_SERVER_H

struct client;
struct h2_server;
struct sock;

/* Takes over SK's callbacks, sends SETTINGS and reads the preface and
 * frames (some may already wait in SK's input) for CL, which outlives
 * it and is ended through its client_ops. NULL with *why. */
struct h2_server *h2_server_new(struct client *cl, struct sock *sk,
    const char **why);
void h2_server_free(struct h2_server *h);       /* NULL ok */
/* Graceful stop: GOAWAY, then close once the streams in flight end. */
void h2_server_drain(struct h2_server *h);
/* Frees this thread's cache of streams; a worker calls it at exit. */
void h2_server_cache_free(void);
/* Frees all but KEEP of them; an idle worker calls it. */
void h2_server_cache_trim(unsigned keep);

#endif
