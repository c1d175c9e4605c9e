/* proxy/h2_request.c: the request head of an HTTP/2 stream, from its
 * pseudo-headers and fields, checked as the backend request writer
 * would check it, so that nothing is refused after a backend connection
 * was opened for it. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "h2_request.h"
#include "ws.h"

static bool
name_is(const char *name, size_t namelen, const char *pseudo)
{
	return namelen == strlen(pseudo) && memcmp(name, pseudo, namelen) == 0;
}

void
h2_request_pseudo(struct h2_request *r, const char *name, size_t namelen,
    const char *value, size_t valuelen)
{
	uint32_t n = (uint32_t)valuelen;

	if (name_is(name, namelen, ":method")) {
		r->req.method = value;
		r->req.methodlen = n;
	} else if (name_is(name, namelen, ":path")) {
		r->req.target = value;
		r->req.targetlen = n;
	} else if (name_is(name, namelen, ":authority")) {
		r->req.authority = value;
		r->req.authoritylen = n;
	} else if (name_is(name, namelen, ":scheme")) {
		r->req.scheme = value;
	} else if (name_is(name, namelen, ":protocol")) {
		r->protocol = value;
	}
}

static bool
is_connect(const struct req_head *h)
{
	return h->method != NULL && h->methodlen == 7 &&
	    memcmp(h->method, "CONNECT", 7) == 0;
}

bool
h2_request_wants_key(const struct h2_request *r)
{
	return is_connect(&r->req) && r->protocol != NULL &&
	    strcmp(r->protocol, "websocket") == 0;
}

/* RFC 8441 §4: an extended CONNECT with :protocol websocket becomes the
 * HTTP/1.1 GET of RFC 6455 §4.1, with a key of our own (the client's h2
 * request has none); the client's version, protocol and extensions
 * fields pass as they are. Plain CONNECT and other protocols: refused. */
static int
to_websocket(struct h2_request *r, const char *key, int *status,
    const char **why)
{
	if (r->protocol == NULL) {
		*status = 405;
		*why = "CONNECT is not supported";
		return -1;
	}
	if (strcmp(r->protocol, "websocket") != 0) {
		*status = 501;
		*why = "unsupported :protocol";
		return -1;
	}
	*status = 500;
	*why = "no randomness for Sec-WebSocket-Key";
	if (key == NULL)
		return -1;
	*why = "out of memory";
	if (r->nfields >= r->cap)
		return -1;
	r->fields[r->nfields++] = (struct hfield){ "Sec-WebSocket-Key", key,
	    17, WS_KEY_LEN, headers_classify("Sec-WebSocket-Key", 17) };
	r->req.method = "GET";
	r->req.methodlen = 3;
	r->req.fields = r->fields;
	r->req.nfields = r->nfields;
	r->req.is_websocket = true;
	/* RFC 9110 §9.3.6: a CONNECT has no content, so the GET has no
	 * body: the stream's DATA is tunnel bytes, held until the 101 */
	r->req.has_body = false;
	r->req.content_length = -1;
	*status = 400;          /* the GET's checks follow */
	return 0;
}

/* The last Host field, or NULL. */
static const struct hfield *
host_field(const struct h2_request *r)
{
	const struct hfield *host = NULL;
	size_t i;

	for (i = 0; i < r->nfields; i++)
		if (headers_kind(&r->fields[i]) == HF_HOST)
			host = &r->fields[i];
	return host;
}

/* RFC 9113 §8.3.1: Host, when present, must agree with :authority. */
static int
check_authority(struct req_head *h, const struct hfield *host,
    const char **why)
{
	if (h->authority == NULL && host != NULL) {
		h->authority = host->value;
		h->authoritylen = host->valuelen;
	} else if (host != NULL && (host->valuelen != h->authoritylen ||
	    strncasecmp(host->value, h->authority, host->valuelen) != 0)) {
		*why = "Host and :authority differ";
		return -1;
	}
	if (h->authority == NULL) {
		*why = "missing :authority";
		return -1;
	}
	return 0;
}

static int
check(struct h2_request *r, const char *key, int *status, const char **why)
{
	const struct hfield *host = host_field(r);
	struct req_head *h = &r->req;

	*status = 400;
	/* RFC 9113 §8.5: a plain CONNECT has no :path; refused as such */
	if (is_connect(h) && to_websocket(r, key, status, why) == -1)
		return -1;
	if (h->method == NULL || h->target == NULL) {
		*why = "missing :method or :path";
		return -1;
	}
	if (check_authority(h, host, why) == -1)
		return -1;
	/* what the backend request writer would refuse */
	return headers_check_request(h, why);
}

static int64_t
content_length(const struct h2_request *r)
{
	const struct hfield *f = headers_find(r->fields, r->nfields,
	    "content-length");

	/* nghttp2 checked it is one number and polices the DATA length */
	return f != NULL ? strtoll(f->value, NULL, 10) : -1;
}

int
h2_request_head(struct h2_request *r, bool is_end, bool is_tls,
    const char *key, int *status, const char **why)
{
	struct req_head *h = &r->req;

	h->version = 20;
	h->fields = r->fields;
	h->nfields = r->nfields;
	h->content_length = content_length(r);
	h->wants_continue = headers_has_token(r->fields, r->nfields,
	    "expect", "100-continue");
	h->has_body = !is_end;
	if (check(r, key, status, why) == -1)
		return -1;
	if (h->scheme == NULL)
		h->scheme = is_tls ? "https" : "http";
	return 0;
}
