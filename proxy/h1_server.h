/* proxy/h1_server.h: the HTTP/1.1 frontend of one client connection:
 * keep-alive, pipelining (one request at a time, responses in order),
 * strict parsing, and the response written back in the client's framing. */
#ifndef PORTICO_H1_SERVER_H
#define PORTICO_H1_SERVER_H

struct client;
struct h1_server;
struct sock;

/* Takes over SK's callbacks and starts reading requests for CL, which
 * outlives it and is ended through its client_ops. */
struct h1_server *h1_server_new(struct client *cl, struct sock *sk);
void h1_server_free(struct h1_server *s);       /* NULL ok */
/* Graceful stop: close once the request in flight is answered. */
void h1_server_drain(struct h1_server *s);

#endif
