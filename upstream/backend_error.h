/* upstream/backend_error.h: the one vocabulary of backend failures.
 * pool.c (connects) and h1_client.c (the exchange on a connection) name
 * what went wrong with a kind; exchange.c maps the kind, through the
 * table in backend_error.c, to what the client gets and to whether a
 * retry is allowed. The WHY strings that go with a kind stay for the
 * log line only. */
#ifndef PORTICO_BACKEND_ERROR_H
#define PORTICO_BACKEND_ERROR_H

#include <stdbool.h>

enum backend_error {
	BACKEND_CONNECT_FAILED = 1,     /* refused, unreachable, ... */
	BACKEND_CONNECT_TIMEOUT,        /* no connect in backend_connect_timeout */
	BACKEND_READ_TIMEOUT,           /* no byte within backend_read_timeout */
	BACKEND_WRITE_TIMEOUT,          /* request not taken in backend_write_timeout */
	BACKEND_CLOSED_EARLY,           /* closed/reset before any response byte */
	BACKEND_CLOSED_MIDBODY,         /* closed/reset before the body was complete */
	BACKEND_RESET,                  /* write error (reset) sending the request */
	BACKEND_BAD_RESPONSE,           /* malformed or oversized head, bad chunks */
	BACKEND_NO_SERVER,              /* every server of the backend is down */
	BACKEND_NO_MEMORY,              /* out of memory on our side */
	BACKEND_REQUEST_REFUSED,        /* the request cannot be written as is */
};

/* What the client gets for E: a status (502, 504, 400), or 0 (abort)
 * once HAS_RESPONSE (a final head was delivered). */
int backend_error_status(enum backend_error e, bool has_response);
/* While connecting: whether the next server of the backend may be tried. */
bool backend_error_may_try_next(enum backend_error e);
/* Whether a request on a pooled connection may go again on a fresh one
 * (the idle connection was stale); the request's own checks still apply. */
bool backend_error_may_retry_stale(enum backend_error e);
/* A short name for E ("read timeout"), for logs and tests. */
const char *backend_error_name(enum backend_error e);

#endif
