/* proxy/headers_resp.c: the HTTP/1.1 response heads portico writes: a
 * backend's head for an HTTP/1.x client, portico's own small error
 * responses, and the reason phrases. */
#include <string.h>

#include <event2/buffer.h>

#include "headers.h"
#include "headers_wr.h"

struct resp_plan {
	const struct resp_head *r;
	unsigned client_version;
	enum headers_framing framing;
	uint64_t length;
	bool keepalive;
	const struct resp_adds *adds;
};

struct err_plan {
	int status;
	bool keepalive;
	const char *hsts;
};

static void
put_hsts(struct wr *w, const char *hsts)
{
	put_str(w, "Strict-Transport-Security: ");
	put_str(w, hsts);
	put(w, "\r\n", 2);
}

static void
put_status_line(struct wr *w, int status, const char *reason,
    size_t reasonlen)
{
	put_str(w, "HTTP/1.1 ");
	put_u64(w, (uint64_t)status);
	put(w, " ", 1);
	put(w, reason, reasonlen);
	put(w, "\r\n", 2);
}

static void
put_response_fields(struct wr *w, const struct resp_head *r)
{
	const struct hfield *f;
	const char *why;
	size_t i;

	for (i = 0; i < r->nfields; i++) {
		f = &r->fields[i];
		/* Never let a backend split the client's response. */
		if (headers_check_field(f, &why) == -1)
			continue;
		if (r->status == 101 && headers_kind(f) == HF_UPGRADE) {
			put_field(w, f);
			continue;
		}
		if (headers_is_hop_by_hop(r->fields, r->nfields, f) ||
		    headers_kind(f) == HF_CONTENT_LENGTH)
			continue;
		put_field(w, f);
	}
}

static void
emit_response(struct wr *w, const void *arg)
{
	const struct resp_plan *p = arg;
	const struct resp_head *r = p->r;
	const char *reason = r->reason;
	size_t reasonlen = r->reasonlen;

	if (reason == NULL || reasonlen == 0 ||
	    !is_field_text(reason, reasonlen))
		reasonlen = strlen(reason = headers_reason(r->status));
	put_status_line(w, r->status, reason, reasonlen);
	put_response_fields(w, r);
	if (p->adds->via) {
		put_str(w, "Via: ");
		put_str(w, headers_via(r->version));
		put(w, "\r\n", 2);
	}
	if (p->adds->hsts != NULL && r->status >= 200 && headers_find(
	    r->fields, r->nfields, "strict-transport-security") == NULL)
		put_hsts(w, p->adds->hsts);
	/* RFC 9110 §15.2: a 1xx ends at its blank line and says nothing
	 * about the connection, except 101 which switches it. */
	if (r->status < 200) {
		if (r->status == 101)
			put_str(w, "Connection: upgrade\r\n");
		put(w, "\r\n", 2);
		return;
	}
	put_framing(w, p->framing, p->length);
	if (!p->keepalive)
		put_str(w, "Connection: close\r\n");
	else if (p->client_version == 10)
		put_str(w, "Connection: keep-alive\r\n");
	put(w, "\r\n", 2);
}

void
headers_write_response(struct evbuffer *out, const struct resp_head *r,
    unsigned client_version, enum headers_framing framing, uint64_t length,
    bool keepalive, const struct resp_adds *adds)
{
	struct resp_plan p = { r, client_version, framing, length, keepalive,
	    adds };

	(void)emit_into(out, emit_response, &p);
}

static void
put_error_body(struct wr *w, int status)
{
	put_u64(w, (uint64_t)status);
	put(w, " ", 1);
	put_str(w, headers_reason(status));
	put(w, "\n", 1);
}

static void
emit_error(struct wr *w, const void *arg)
{
	const struct err_plan *p = arg;
	const char *reason = headers_reason(p->status);
	struct wr body = { NULL, 0 };

	put_error_body(&body, p->status);
	put_status_line(w, p->status, reason, strlen(reason));
	put_str(w, "Content-Type: text/plain\r\nContent-Length: ");
	put_u64(w, body.n);
	put(w, "\r\n", 2);
	if (p->hsts != NULL)
		put_hsts(w, p->hsts);
	if (!p->keepalive)
		put_str(w, "Connection: close\r\n");
	put(w, "\r\n", 2);
	put_error_body(w, p->status);
}

void
headers_write_error(struct evbuffer *out, int status, bool keepalive,
    const char *hsts)
{
	struct err_plan p = { status, keepalive, hsts };

	if (status < 100 || status > 999)
		p.status = 500;
	(void)emit_into(out, emit_error, &p);
}

static const struct {
	int status;
	const char *reason;
} reasons[] = {
	{ 100, "Continue" }, { 101, "Switching Protocols" },
	{ 103, "Early Hints" }, { 200, "OK" }, { 201, "Created" },
	{ 202, "Accepted" }, { 203, "Non-Authoritative Information" },
	{ 204, "No Content" }, { 205, "Reset Content" },
	{ 206, "Partial Content" }, { 300, "Multiple Choices" },
	{ 301, "Moved Permanently" }, { 302, "Found" }, { 303, "See Other" },
	{ 304, "Not Modified" }, { 305, "Use Proxy" },
	{ 307, "Temporary Redirect" }, { 308, "Permanent Redirect" },
	{ 400, "Bad Request" }, { 401, "Unauthorized" },
	{ 402, "Payment Required" }, { 403, "Forbidden" },
	{ 404, "Not Found" }, { 405, "Method Not Allowed" },
	{ 406, "Not Acceptable" }, { 407, "Proxy Authentication Required" },
	{ 408, "Request Timeout" }, { 409, "Conflict" }, { 410, "Gone" },
	{ 411, "Length Required" }, { 412, "Precondition Failed" },
	{ 413, "Content Too Large" }, { 414, "URI Too Long" },
	{ 415, "Unsupported Media Type" }, { 416, "Range Not Satisfiable" },
	{ 417, "Expectation Failed" }, { 418, "I'm a teapot" },
	{ 421, "Misdirected Request" }, { 422, "Unprocessable Content" },
	{ 425, "Too Early" }, { 426, "Upgrade Required" },
	{ 428, "Precondition Required" }, { 429, "Too Many Requests" },
	{ 431, "Request Header Fields Too Large" },
	{ 451, "Unavailable For Legal Reasons" },
	{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
	{ 502, "Bad Gateway" }, { 503, "Service Unavailable" },
	{ 504, "Gateway Timeout" }, { 505, "HTTP Version Not Supported" },
	{ 511, "Network Authentication Required" },
};

const char *
headers_reason(int status)
{
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return "Unknown";
}
