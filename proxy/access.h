/* proxy/access.h: one access-log line for a finished request, filled
 * the same way by both frontends (h1_server.c, h2_stream.c). */
#ifndef PORTICO_ACCESS_H
#define PORTICO_ACCESS_H

struct access_entry;
struct client;
struct req_head;

/* Completes E, whose response side and start_us the frontend set, with
 * what CL and H tell of the client and the request (PROTOCOL as logged,
 * "HTTP/1.1"...) and the duration so far, and adds it to the access
 * log of CL's worker. */
void access_add(struct access_entry *e, const struct client *cl,
    const struct req_head *h, const char *protocol);

#endif
