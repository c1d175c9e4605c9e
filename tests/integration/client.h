/* tests/integration/client.h: a raw HTTP/1.x client over a TCP socket,
 * for the bytes curl will not send, and getters for the origin's JSON. */
#ifndef PORTICO_TEST_CLIENT_H
#define PORTICO_TEST_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#define CLIENT_WAIT_MS  10000   /* default bound on one response */

struct rawc {
	int fd;
	char *buf;                      /* received, not yet consumed */
	size_t len, cap;
	bool is_eof;                    /* read returned 0 or an error */
	int err;                        /* errno of that error, or 0 */
};

struct resp {
	int status;                     /* 0: no status line arrived */
	char *head;                     /* status line and fields */
	char *body;                     /* de-chunked, NUL-terminated */
	size_t bodylen;
	bool is_complete;               /* the framing was satisfied */
};

/* Connects to 127.0.0.1:PORT; asserts on failure. */
struct rawc *rawc_connect(int port);
void rawc_close(struct rawc *c);                /* NULL ok */
void rawc_send(struct rawc *c, const void *p, size_t n);       /* asserts */
void rawc_sends(struct rawc *c, const char *s);
/* Reads one response (a 1xx counts as one). IS_HEAD: it has no body.
 * 0 if a head arrived, -1 on EOF or timeout before that. Free with
 * resp_free(). */
int rawc_response(struct rawc *c, struct resp *r, bool is_head,
    int timeout_ms);
/* Reads only a head; the body bytes that came with it stay in c->buf. */
int rawc_head(struct rawc *c, struct resp *r, int timeout_ms);
/* True if the peer closes within timeout_ms; bytes read meanwhile stay in
 * c->buf. */
bool rawc_wait_eof(struct rawc *c, int timeout_ms);
/* Reads until timeout_ms passes or EOF; what came stays in c->buf. */
void rawc_drain(struct rawc *c, int timeout_ms);

/* Connects, sends REQ, reads one response (asserts that it came), closes. */
void rawc_fetch(int port, const char *req, struct resp *r);

void resp_free(struct resp *r);
/* Copies the value of field NAME (any case) of the head into OUT; false
 * if absent. */
bool resp_field(const struct resp *r, const char *name, char *out,
    size_t cap);

/* The string value of "KEY":"..." in JSON, unescaped, into OUT. */
bool json_str(const char *json, const char *key, char *out, size_t cap);
/* The number value of "KEY":N, or -1 if absent. */
long long json_num(const char *json, const char *key);
/* How many ["NAME","v"] pairs the origin's "headers" list has for NAME
 * (any case); the first value goes into OUT. */
int echo_field(const char *json, const char *name, char *out, size_t cap);
/* Same, with all the values joined by ", " (one list, RFC 9110 §5.3). */
int echo_joined(const char *json, const char *name, char *out, size_t cap);

/* The value of the "KEY=value" line of a test tool's OUT, or "(absent)";
 * static storage, overwritten by the next call. */
const char *kv(const char *out, const char *key);
/* The number that line says; asserts the line is there. */
long kv_num(const char *out, const char *key);
/* Asserts that line says WANT, printing all of OUT otherwise. */
void assert_kv(const char *out, const char *key, const char *want);
#endif
