/* tests/integration/proto.h: one request over a chosen protocol, with
 * curl, so that a table row runs over h1, TLS h1, TLS h2 and h2c alike
 * (the model: H2O's run_with_curl). */
#ifndef PORTICO_TEST_PROTO_H
#define PORTICO_TEST_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#include "client.h"
#include "harness.h"

enum proto {
	P_H1,           /* cleartext HTTP/1.1 on p->port */
	P_H1TLS,        /* HTTP/1.1 over TLS on p->tls_port (ALPN http/1.1) */
	P_H2TLS,        /* HTTP/2 over TLS on p->tls_port (ALPN h2) */
	P_H2C,          /* HTTP/2 with prior knowledge on p->port (portico
			 * sniffs the preface on the cleartext listener) */
	P_COUNT
};

extern const char *const proto_names[P_COUNT];

static inline bool
proto_is_h2(enum proto p)
{
	return p == P_H2TLS || p == P_H2C;
}

static inline bool
proto_is_tls(enum proto p)
{
	return p == P_H1TLS || p == P_H2TLS;
}

/* Starts portico with both listeners (proxy_start_tls, the test
 * certificates' tls block first) and FMT's text; WORKERS 0: 2. */
void proto_proxy_start(struct proxy *p, unsigned workers, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

/* METHOD PATH on host a.test over PROTO, with HEADERS ("Name: v", NULL
 * ended, may be NULL) and BODY (BODYLEN bytes, sent with a Content-Length;
 * NULL: none). OUT gets the last head (status line and fields, as curl
 * wrote them: h2 names lower-case) and the body; free with resp_free.
 * Asserts that curl ran and that the response came over PROTO's
 * version; 0 in out->status if no response came. */
void proto_request(enum proto proto, const struct proxy *p,
    const char *method, const char *path, const char *const *headers,
    const void *body, size_t bodylen, struct resp *out);

/* As proto_request, asserting nothing: curl's exit status (non-zero
 * for a response cut short or a stream reset), its %{http_version}
 * into VER. */
int proto_request_rc(enum proto proto, const struct proxy *p,
    const char *method, const char *path, const char *const *headers,
    const void *body, size_t bodylen, struct resp *out, char *ver,
    size_t vercap);

/* How many times NEEDLE (any case) occurs in what origin O received. */
int origin_count(const struct origin *o, const char *needle);
/* The head of the last request that begins with LINE in what O received,
 * malloc'd ("" if none): the fields of that request alone. */
char *origin_head(const struct origin *o, const char *line);
/* How many times NEEDLE (any case) occurs in HEAD. */
int str_count(const char *head, const char *needle);
/* The access-log line of P whose "target" unescapes to TARGET, malloc'd,
 * or NULL. */
char *access_line(const struct proxy *p, const char *target);

/* ---- h13-proxy: failure messages that name the row and protocol, and
 * curl's arguments for a command of one's own ---- */

/* What is being run, "ROW over PROTO", for PROTO_ASSERT and kin; set by
 * proto_at at the top of each row's turn. */
extern char proto_where[256];
void proto_at(enum proto proto, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define PROTO_ASSERT(expr) \
	ck_assert_msg((expr), "%s: %s", proto_where, #expr)
#define PROTO_INT_EQ(got, want) do { \
	long long got_ = (got), want_ = (want); \
	ck_assert_msg(got_ == want_, "%s: %s is %lld, want %lld", \
	    proto_where, #got, got_, want_); \
} while (0)
#define PROTO_STR_EQ(got, want) do { \
	const char *got_ = (got), *want_ = (want); \
	ck_assert_msg(strcmp(got_, want_) == 0, "%s: %s is \"%s\", want " \
	    "\"%s\"", proto_where, #got, got_, want_); \
} while (0)

/* curl's version flags, -k and --resolve for PROTO into ARGV[N...]; the
 * URL of PATH on a.test into URL; RESOLVE (PROTO_RESOLVE bytes) holds
 * --resolve's value. Returns the new N. */
#define PROTO_RESOLVE   64
size_t proto_curl_args(enum proto proto, const struct proxy *p,
    const char *path, char **argv, size_t n, char *url, size_t cap,
    char *resolve);

/* PATH with "TAG=ROW.PROTO" added to its query into OUT: a target no
 * other request of the TCase carries, for origin_got. */
void proto_mark(char *out, size_t cap, const char *path, const char *tag,
    int row, enum proto proto);
/* PATH with "p=NAME" of PROTO added to its query into OUT (the origin
 * ignores it): each protocol's request, and its log line, is its own. */
const char *proto_target(char *out, size_t cap, const char *path,
    enum proto proto);
/* How many requests "METHOD TARGET HTTP/1.1" O received; the assert
 * form fails unless it is N. */
int origin_requests(const struct origin *o, const char *method,
    const char *target);
void assert_origin_requests(const struct origin *o, const char *method,
    const char *target, int n);
/* The head of the request "METHOD TARGET HTTP/1.1" that O received,
 * malloc'd; asserts (naming proto_where) that O received it once. */
char *origin_got(const struct origin *o, const char *method,
    const char *target);

#endif
