/* tests/origin/origin.h: what the test origin's two halves share:
 * origin.c (HTTP/1.1: connections, requests, responses, main) and ws.c
 * (the WebSocket handshake and echo after a 101). Only they include it.
 */
#ifndef ORIGIN_ORIGIN_H
#define ORIGIN_ORIGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <llhttp.h>
#include <openssl/evp.h>

#define ORIGIN_PIECE            65536   /* largest /bytes reference added */
#define ORIGIN_CHUNK            16384   /* largest chunk of a chunked body */
#define ORIGIN_LOWAT            65536   /* refill, or go on, below this */
#define ORIGIN_HIWAT            262144  /* stop refilling above this */
#define ORIGIN_READ_MAX         262144  /* input kept before reads pause */
#define ORIGIN_HEAD_MAX         (1 << 20)       /* request head + trailers */
#define ORIGIN_BYTES_MAX        (UINT64_C(1) << 40)
#define ORIGIN_BIGHEAD_MAX      (UINT64_C(1) << 30)
#define ORIGIN_LINGER_SEC       2
#define ORIGIN_HALF_CLOSE_SEC   10      /* /ws?half_close=1: reading on */
#define ORIGIN_MAX_LISTEN       16
#define ORIGIN_NAME_MAX         32      /* field name bytes kept */
#define ORIGIN_VALUE_MAX        1024    /* field value bytes kept */
#define ORIGIN_WS_TOKEN_MAX     256     /* a subprotocol or extension */
#define ORIGIN_WS_OUT_MAX       (1 << 20)       /* echo pauses above this */

#define LEN_CHUNKED     (-1)    /* send_head: Transfer-Encoding: chunked */
#define LEN_NONE        (-2)    /* send_head: no length field, no body */

#define MIN(a, b)       ((a) < (b) ? (a) : (b))

enum conn_state {
	CONN_HEAD = 0,          /* llhttp waits for a request head */
	CONN_BODY,              /* llhttp reads the body, maybe paced */
	CONN_DELAY,             /* request read; timer before the reply */
	CONN_STREAM,            /* /bytes body goes out as output drains */
	CONN_WS,                /* after a 101: frames are echoed */
	CONN_CUT,               /* /cut: body bytes out; the timer resets */
	CONN_DRAIN,             /* reply queued; next request below LOWAT */
	CONN_CLOSING,           /* last output flushing; then linger */
	CONN_LINGER,            /* write side shut; wait for EOF or timer */
};

enum route {
	ROUTE_NOT_FOUND = 0,
	ROUTE_INDEX,
	ROUTE_ECHO,
	ROUTE_BYTES,
	ROUTE_SLOW,
	ROUTE_STATUS,
	ROUTE_DROP,
	ROUTE_CLOSE,
	ROUTE_CLOSE_NEXT,
	ROUTE_BAD,
	ROUTE_BIGHEAD,
	ROUTE_TRAILERS,
	ROUTE_EARLY_HINTS,
	ROUTE_HSTS,
	ROUTE_INTERIM,
	ROUTE_STATS,
	ROUTE_WS,
	ROUTE_WS_REFUSE,
	ROUTE_WS_BADACCEPT,
	ROUTE_WS_LAST,
	ROUTE_WS_PAGE,
	ROUTE_CUT,
};

/* /cut/MODE: how the response's framing is broken (see reply_cut). */
enum cut_mode {
	CUT_LENGTH = 0,         /* Content-Length: 2N, N bytes */
	CUT_CHUNKED,            /* a chunk of 2N announced, N bytes sent */
	CUT_BADCHUNK,           /* a whole chunk of N, then a bad size line */
	CUT_CLOSE,              /* no length, no chunks: read until close */
};

/* What a request offers for a WebSocket upgrade (RFC 6455 §4.2.1). */
struct ws_offer {
	char key[32];           /* Sec-WebSocket-Key, trimmed */
	char protocol[ORIGIN_WS_TOKEN_MAX];     /* first offered subprotocol */
	char extension[ORIGIN_WS_TOKEN_MAX];    /* first offered extension */
	const char *bad;        /* why the fields make no handshake; NULL ok */
	unsigned n_keys;
	bool has_upgrade;       /* Upgrade lists websocket */
	bool has_conn_upgrade;  /* Connection lists upgrade */
	bool has_version;       /* Sec-WebSocket-Version: 13 */
};

/* The echo of one WebSocket connection, from the 101 on. */
struct ws {
	uint64_t left;          /* data frame payload bytes still to echo */
	uint64_t off;           /* payload bytes of this frame echoed */
	unsigned char mask[4];
	bool is_open;           /* counted in ws_open: no Close sent yet */
	bool in_message;        /* a fragmented message wants continuations */
	bool has_ext;           /* an extension was accepted: RSV bits ok */
	uint64_t shut_after;    /* ?shut_after=N: half-close after N echoes */
	uint64_t nmessages;     /* whole data messages echoed */
	bool wants_shut;        /* N reached: shut once the output is out */
	bool is_shut;           /* our FIN is sent; input is dropped */
	bool is_reset;          /* ?reset_after_ms: dies with a reset */
};

struct buf {
	char *p;                /* always NUL-terminated once allocated */
	size_t len, cap;
};

/* One request; zeroed at each message begin. */
struct req {
	enum route route;
	const char *query;      /* into conn.url, after '?'; "" if none */
	uint64_t n;             /* /bytes/N, /status/N */
	enum cut_mode cut;      /* /cut/MODE */
	uint64_t rate;          /* ?rate=, bytes per second; 0 = unpaced */
	uint64_t delay_ms;      /* ?delay_ms= (/slow: ?ms=) */
	uint64_t body_len;
	uint64_t head_bytes;    /* url + fields, against ORIGIN_HEAD_MAX */
	uint64_t left, off;     /* /bytes: still to add, pattern offset */
	unsigned n_headers, n_trailers;
	char name[ORIGIN_NAME_MAX];
	size_t name_len, value_len;
	char value[ORIGIN_VALUE_MAX];
	struct ws_offer ws;
	unsigned char digest[32];
	int error_status;       /* set by a callback that refuses input */
	bool in_name;           /* inside a field name */
	bool in_trailers;       /* fields now are trailers */
	bool is_head, is_chunked, has_body, is_complete;
	bool expect_continue, keep_alive, can_chunk, chunked_out;
};

struct server;

struct conn {
	TAILQ_ENTRY(conn) link;
	struct server *srv;
	struct bufferevent *bev;
	struct event *timer;    /* meaning depends on state */
	unsigned long id;       /* 1-based accept count */
	enum conn_state state;
	llhttp_t parser;
	EVP_MD_CTX *sha;
	struct buf url;
	struct evbuffer *headers;       /* JSON pairs as received */
	struct evbuffer *trailers;
	struct evbuffer *scratch;       /* a body being measured */
	struct req req;
	struct ws ws;
	uint64_t budget;        /* paced bytes left this tick */
	bool is_eof;            /* peer shut its write side */
	bool is_drop_next;      /* /close-next: drop the next request */
	bool is_half_closed;    /* /ws?half_close=1: a long linger */
	int record_fd;          /* -r: this connection's bytes go here */
};

struct listener {
	struct evconnlistener *lev;
	const char *spec;
	char bound[128];
	bool is_unix;
};

struct server {
	struct event_base *base;
	struct listener ls[ORIGIN_MAX_LISTEN];
	int n_ls;
	TAILQ_HEAD(, conn) conns;
	unsigned long n_conns, n_requests;
	unsigned long n_ws_sessions, n_ws_open;
	struct evbuffer *ws_last;       /* /ws-last JSON; empty until then */
	bool is_quiet;
	const char *record_dir;         /* -r DIR: every byte received */
};

/* origin.c, for ws.c */

/* Finds key=NUMBER in a k=v&k=v query; 0 if found, -1 if not. */
int query_num(const char *q, const char *key, uint64_t *out);
/* Appends P (N bytes) to OUT as the inside of a JSON string. */
void json_escape(struct evbuffer *out, const char *p, size_t n);
/* Whether field name S (LEN bytes) is WANT, case-insensitively. */
bool field_is(const char *s, size_t len, const char *want);
/* Moves C to STATE; a timer armed in the old state is dropped. */
void set_state(struct conn *c, enum conn_state state);
/* Arms C's timer MS milliseconds from now. */
void arm_timer_ms(struct conn *c, uint64_t ms);
/* Frees C and closes its socket now. */
void conn_free(struct conn *c);
/* Ends the connection once its output has gone; see settle(). */
void conn_finish(struct conn *c);
/* The access line on stderr, unless -q. */
void log_request(struct conn *c, int status);
/* A whole response of BODY (drained) with STATUS and CTYPE. */
void send_body(struct conn *c, int status, const char *ctype,
    struct evbuffer *body);
/* A whole response of TEXT. */
void send_text(struct conn *c, int status, const char *ctype,
    const char *text);

/* ws.c, for origin.c */

/* Notes one request field that a WebSocket handshake reads. */
void ws_offer_field(struct ws_offer *o, const char *name, size_t name_len,
    const char *p, size_t n);
/* Keeps C's request as the answer to the next /ws-last. */
void ws_record(struct conn *c);
/* /ws: the 101 and the echo from then on, or a 400 saying why not. */
void reply_ws(struct conn *c, bool is_bad_accept);
/* /ws-last: the JSON of the last request that asked for websocket. */
void reply_ws_last(struct conn *c);
/* /ws-page: a page whose script opens a websocket to /ws. */
void reply_ws_page(struct conn *c);
/* Echoes what the input holds while the output has room. */
void ws_process(struct conn *c);
/* The timer of a CONN_WS connection: it dies (close_after_ms, reset). */
void ws_die(struct conn *c);

#endif
