/* upstream/backend_error.c: the table of backend failure kinds. A
 * timeout waiting for the backend is the gateway's 504; everything else
 * it did wrong is a 502; a request the writer refuses is the client's
 * 400. Only connect failures move on to the next server, and only a
 * close before any response byte may be a stale pooled connection. */
#include <stddef.h>

#include "backend_error.h"

struct kind {
	const char *name;
	int status;                     /* before any response head */
	bool try_next;
	bool retry_stale;
};

static const struct kind kinds[] = {
	[BACKEND_CONNECT_FAILED] = { "connect failed", 502, true, false },
	[BACKEND_CONNECT_TIMEOUT] = { "connect timeout", 504, true, false },
	[BACKEND_READ_TIMEOUT] = { "read timeout", 504, false, false },
	[BACKEND_WRITE_TIMEOUT] = { "write timeout", 502, false, false },
	[BACKEND_CLOSED_EARLY] = { "closed early", 502, false, true },
	[BACKEND_CLOSED_MIDBODY] = { "closed mid-body", 502, false, false },
	[BACKEND_RESET] = { "reset", 502, false, false },
	[BACKEND_BAD_RESPONSE] = { "bad response", 502, false, false },
	[BACKEND_NO_SERVER] = { "no server left", 502, false, false },
	[BACKEND_NO_MEMORY] = { "out of memory", 502, true, false },
	[BACKEND_REQUEST_REFUSED] = { "request refused", 400, false, false },
};

static const struct kind *
lookup(enum backend_error e)
{
	static const struct kind unknown = { "unknown", 502, false, false };

	if ((size_t)e >= sizeof(kinds) / sizeof(kinds[0]) ||
	    kinds[e].name == NULL)
		return &unknown;
	return &kinds[e];
}

int
backend_error_status(enum backend_error e, bool has_response)
{
	return has_response ? 0 : lookup(e)->status;
}

bool
backend_error_may_try_next(enum backend_error e)
{
	return lookup(e)->try_next;
}

bool
backend_error_may_retry_stale(enum backend_error e)
{
	return lookup(e)->retry_stale;
}

const char *
backend_error_name(enum backend_error e)
{
	return lookup(e)->name;
}
