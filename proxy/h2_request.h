/* proxy/h2_request.h: an HTTP/2 request's pseudo-headers and fields made
 * into the req_head an HTTP/1.1 backend gets (RFC 9113 §8.3, the RFC 8441
 * WebSocket CONNECT as the GET of RFC 6455 §4.1). Pure: no I/O, no
 * allocation; the strings stay the caller's. */
#ifndef PORTICO_H2_REQUEST_H
#define PORTICO_H2_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "headers.h"

struct h2_request {
	struct req_head req;            /* the pseudo-headers land here */
	const char *protocol;           /* RFC 8441 :protocol, or NULL */
	struct hfield *fields;          /* the request fields, in order */
	size_t nfields, cap;            /* cap: room for one more, the key */
};

/* Pseudo-header NAME (colon included) is VALUE, kept as it is; one
 * that is not a request's is ignored (nghttp2 refused those). */
void h2_request_pseudo(struct h2_request *r, const char *name,
    size_t namelen, const char *value, size_t valuelen);
/* Whether R is an RFC 8441 CONNECT for websocket: h2_request_head needs
 * a Sec-WebSocket-Key for it, and room for it in r->fields. */
bool h2_request_wants_key(const struct h2_request *r);
/* Fills r->req for the backend (version 20, fields, content length,
 * Expect, a body unless IS_END, the scheme from IS_TLS if none) and
 * checks it; a websocket CONNECT becomes a bodiless GET with KEY (NULL:
 * no randomness) appended to the fields. 0, or -1 with *STATUS, *WHY. */
int h2_request_head(struct h2_request *r, bool is_end, bool is_tls,
    const char *key, int *status, const char **why);

#endif
