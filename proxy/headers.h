/* proxy/headers.h: the protocol-neutral request/response head and the
 * translation rules between a client (h1 or h2) and an HTTP/1.1 backend. */
#ifndef PORTICO_HEADERS_H
#define PORTICO_HEADERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct conf;

/* One field as received; bytes live in the request's arena (not NUL-ended
 * unless the producer chose so). */
struct hfield {
	const char *name;
	const char *value;
	uint32_t namelen;
	uint32_t valuelen;
	uint8_t kind;                   /* enum hfield_kind; 0: not known yet */
};

/* The names the rules look at, classified once when a field arrives so
 * that each rule is an integer compare, not a string compare. */
enum hfield_kind {
	HF_UNKNOWN = 0,                 /* not classified (computed on use) */
	HF_OTHER,
	HF_HOST,
	HF_CONNECTION,
	HF_KEEP_ALIVE,
	HF_PROXY_CONNECTION,
	HF_TE,
	HF_TRANSFER_ENCODING,
	HF_UPGRADE,
	HF_HTTP2_SETTINGS,
	HF_CONTENT_LENGTH,
	HF_EXPECT,
	HF_COOKIE,
	HF_X_FORWARDED_FOR,
	HF_X_FORWARDED_PROTO,
	HF_FORWARDED,
	HF_VIA,
	HF_REFERER,
	HF_USER_AGENT,
};

/* The kind of a field name (any case). */
uint8_t headers_classify(const char *name, size_t len);
/* F's kind, classifying it now if its producer did not. */
uint8_t headers_kind(const struct hfield *f);

/* A request head, as either frontend produced it. */
struct req_head {
	const char *method;
	const char *target;             /* as received: origin/absolute form */
	const char *authority;          /* Host, :authority, or NULL */
	const char *scheme;             /* "http" or "https" */
	/* The origin-form target route.c made of TARGET, written to the
	 * backend as it is; NULL: TARGET is reduced to origin-form here. */
	const char *fwd_target;
	uint32_t fwd_targetlen;
	uint32_t methodlen, targetlen, authoritylen;
	unsigned version;               /* 10, 11 or 20 */
	struct hfield *fields;          /* in arrival order */
	size_t nfields;
	int64_t content_length;         /* -1: none given */
	bool is_chunked;                /* h1: Transfer-Encoding: chunked */
	bool has_body;                  /* a body follows (length>0 or chunked
	                                 * or h2 without END_STREAM) */
	bool wants_continue;            /* Expect: 100-continue */
	bool is_websocket;              /* Upgrade: websocket asked for */
};

/* A response head from the backend. */
struct resp_head {
	int status;
	const char *reason;
	uint32_t reasonlen;
	unsigned version;               /* 10 or 11 */
	struct hfield *fields;
	size_t nfields;
	int64_t content_length;         /* -1: none given */
	bool is_chunked;
	bool wants_close;               /* Connection: close, or HTTP/1.0
	                                 * without keep-alive */
};

/* What portico adds for the backend. */
struct fwd_info {
	const char *client_addr;        /* "192.0.2.1", "2001:db8::1", "unix" */
	bool is_tls;                    /* the client reached us over TLS */
	/* For log lines only: the client connection's tag (client.h; it
	 * outlives the request) and the HTTP/2 stream id (0: HTTP/1.1). */
	const char *tag;
	int32_t stream_id;
	/* the client is not in trusted_proxies: its X-Forwarded-For and
	 * Forwarded are removed, not appended to (conf_trusts) */
	bool drops_forwarded;
};

/* How the body sent to the backend (or to an h1 client) is framed. */
enum headers_framing {
	HEADERS_NO_BODY = 0,            /* no body: no length field written */
	HEADERS_LENGTH,                 /* Content-Length: n */
	HEADERS_CHUNKED,                /* Transfer-Encoding: chunked */
	HEADERS_UNTIL_CLOSE,            /* neither; ends when the conn closes */
};

/* Case-insensitive name comparison against a lower-case literal. */
bool headers_name_is(const struct hfield *f, const char *lower);

/* True if F is hop-by-hop (RFC 9110 §7.6.1): the fixed set (connection,
 * keep-alive, proxy-connection, te, transfer-encoding, upgrade,
 * http2-settings) or any token listed in a Connection field of FIELDS.
 * Trailer is end-to-end and not in the set. */
bool headers_is_hop_by_hop(const struct hfield *fields, size_t n,
    const struct hfield *f);

/* Finds the first field named LOWER; NULL if absent. */
const struct hfield *headers_find(const struct hfield *fields, size_t n,
    const char *lower);

/* True if the comma-separated list in FIELDS named LOWER contains TOKEN
 * (case-insensitive), e.g. ("connection", "close"). */
bool headers_has_token(const struct hfield *fields, size_t n,
    const char *lower, const char *token);

/* Rejects what must never reach a backend: a value or name with CR, LF,
 * NUL or another control byte (HTAB allowed in values), an empty or
 * non-token name. 0, or -1 with *why. */
int headers_check_field(const struct hfield *f, const char **why);

/* Whether trailer field F of the trailer section FIELDS[0..n) may cross
 * (RFC 9110 §6.5.1): not a field headers_check_field() refuses, a
 * pseudo-header, a hop-by-hop field (headers_is_hop_by_hop()), framing
 * (Content-Length, Transfer-Encoding), routing (Host), identity
 * (X-Forwarded-*, Forwarded, Via), Expect, nor any Proxy-* field. */
bool headers_is_trailer_allowed(const struct hfield *fields, size_t n,
    const struct hfield *f);

/* Appends the request head for the backend to OUT: the request line with
 * an origin-form target (H->fwd_target when set; else absolute-form is
 * reduced to its path; an absolute-form authority becomes Host), Host
 * first, the client's end-to-end fields
 * (h2 cookies joined), the forwarded fields CF asks for (appended to the
 * client's X-Forwarded-For, Forwarded and Via; FWD or CF NULL: none),
 * then the framing field. With UPGRADE set (a WebSocket request),
 * "Connection: upgrade" and "Upgrade: websocket" are written. Refuses a
 * bad method or target ("*" only for OPTIONS), a missing, repeated or
 * malformed Host, and any field headers_check_field() refuses: -1 with
 * *why and OUT untouched; else 0. */
int headers_write_request(struct evbuffer *out, const struct req_head *h,
    const struct fwd_info *fwd, const struct conf *cf,
    enum headers_framing framing, uint64_t length, bool upgrade,
    const char **why);

/* The checks headers_write_request makes, without writing: what a
 * frontend asks before any backend connection is opened for H. */
int headers_check_request(const struct req_head *h, const char **why);

/* What portico adds to a response head. */
struct resp_adds {
	bool via;               /* a Via entry after the backend's (via on) */
	const char *hsts;       /* Strict-Transport-Security for a final
	                         * response the backend sent none on (a tls
	                         * listener with hsts); NULL: none */
};

/* Appends an HTTP/1.1 response head for a client (RFC 9110 §2.5: 1.1
 * even to a 1.0 client): the status line (the backend's reason, or
 * headers_reason()), the backend's end-to-end fields (hop-by-hop,
 * Content-Length and fields headers_check_field() refuses dropped), the
 * framing field, and "Connection: close" when !KEEPALIVE (or
 * "Connection: keep-alive" to a 1.0 client when KEEPALIVE). A 1xx gets
 * no framing or Connection field; a 101 keeps the backend's Upgrade and
 * gets "Connection: upgrade". ADDS: see struct resp_adds (headers_via).
 * The caller sends no 1xx to a 1.0 client. */
void headers_write_response(struct evbuffer *out, const struct resp_head *r,
    unsigned client_version, enum headers_framing framing, uint64_t length,
    bool keepalive, const struct resp_adds *adds);

/* The Via entry portico adds (via on) to a message received as HTTP
 * VERSION (10, 11 or 20): "1.1 portico" (RFC 9110 §7.6.3). */
const char *headers_via(unsigned version);

/* A whole small response generated by portico itself (errors):
 * status line, Content-Type text/plain, Content-Length, optional
 * Connection: close, and the body "<status> <reason>\n". */
void headers_write_error(struct evbuffer *out, int status, bool keepalive,
    const char *hsts);

/* The reason phrase for STATUS ("Bad Gateway"); "Unknown" if none. */
const char *headers_reason(int status);

#endif
