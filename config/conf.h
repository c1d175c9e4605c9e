/* config/conf.h: the parsed configuration, one immutable refcounted object. */
#ifndef PORTICO_CONF_H
#define PORTICO_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define CONF_DEFAULT_PATH "/etc/portico/portico.conf"

/* A socket address from "127.0.0.1:80", "[::1]:80" or "unix:/path". */
struct conf_addr {
	struct sockaddr_storage ss;     /* AF_INET, AF_INET6 or AF_UNIX */
	socklen_t len;
	char text[128];                 /* as written, for logs */
};

/* An address range of trusted_proxies. */
struct conf_cidr {
	int family;                     /* AF_INET or AF_INET6 */
	unsigned char addr[16];         /* network order, host bits zero */
	unsigned bits;                  /* prefix length */
};

struct conf_listen {
	struct conf_addr addr;
	bool is_tls;                    /* "listen ADDR tls" */
	bool is_h2_websocket_off;       /* "h2_websocket=off": no RFC 8441 */
	bool is_proxy_protocol;         /* "proxy_protocol": a PROXY v1/v2
	                                 * header first (pp.h) */
	int line;
};

struct conf_server {
	struct conf_addr addr;
	unsigned weight;                /* weight=N, default 1, 1..1000 */
};

struct conf_backend {
	char *name;
	size_t index;                   /* position in conf.backends */
	struct conf_server *servers;
	size_t nservers;
	int line;
};

/* route HOST[/PATH] NAME; host "*" catches all, "*.x" wildcards. */
struct conf_route {
	char *host;                     /* lower-case; "*" or "*.x" or "x" */
	char *path;                     /* prefix from '/'; "/" if none */
	const struct conf_backend *backend;
	int line;
};

/* Where a directive was written, for messages found after parsing. */
struct conf_at {
	const char *file;               /* NULL: not given; in conf.files */
	int line;
};

/* "certificate CERT KEY" in the tls block; tls_load reads the files. */
struct conf_cert {
	char *cert;                     /* PEM: the certificate, its chain */
	char *key;                      /* PEM private key */
	struct conf_at at;
};

/* A tls setting that OpenSSL checks when tls_load applies it. */
struct conf_value {
	char *value;                    /* NULL: not given, tls.c's default */
	struct conf_at at;
};

#define CONF_TLS_V1_0   0x01
#define CONF_TLS_V1_1   0x02
#define CONF_TLS_V1_2   0x04
#define CONF_TLS_V1_3   0x08

/* The tls { } block (issue 4). */
struct conf_tls {
	struct conf_at at;              /* the "tls {" line; file NULL: none */
	struct conf_cert *certs;        /* the first is the default */
	size_t ncerts;
	unsigned protocols;             /* CONF_TLS_V1_x: 1.2 and 1.3 */
	struct conf_at protocols_at;
	struct conf_value ciphers;      /* TLS 1.2 and below */
	struct conf_value ciphersuites; /* TLS 1.3 */
	struct conf_value groups;
	unsigned char alpn[16];         /* wire format, server preference */
	size_t alpn_len;                /* default h2, http/1.1 */
	bool session_tickets;           /* on */
	unsigned handshake_timeout;     /* ms: 10s */
	/* hsts: the Strict-Transport-Security value for responses on tls
	 * listeners ("max-age=31536000; includeSubDomains"); "": none */
	char hsts[64];
};

struct tls;
struct conf_file;

enum conf_log_format {
	CONF_LOG_COMBINED = 0,
	CONF_LOG_JSON,
};

struct conf {
	unsigned workers;               /* 0: one per online CPU ("auto") */

	struct conf_listen *listens;
	size_t nlistens;
	struct conf_backend *backends;
	size_t nbackends;
	struct conf_route *routes;      /* most specific first: routing.h */
	size_t nroutes;

	char *access_log;               /* NULL: off; "stdout"; or a path */
	enum conf_log_format access_log_format;
	char *error_log;                /* "stderr" or a path */
	int error_log_level;            /* LOG_DEBUG .. LOG_ERR (syslog.h) */
	char *user;                     /* drop to it when started as root */
	char *group;                    /* NULL: the user's primary group */

	/* Timeouts, milliseconds. */
	/* A request head must be whole client_header_initial_timeout (20s)
	 * after its first byte, plus 1s per client_header_min_rate (500)
	 * bytes received, and never later than client_header_timeout (40s)
	 * after it (Apache mod_reqtimeout's header=20-40,MinRate=500). */
	unsigned client_header_timeout;
	unsigned client_header_initial_timeout;
	unsigned client_body_timeout;   /* between body reads: 60s */
	unsigned keepalive_timeout;     /* idle client between requests: 75s */
	unsigned send_timeout;          /* client not reading a response: 60s */
	unsigned backend_connect_timeout;       /* 5s */
	unsigned backend_read_timeout;  /* between backend reads: 60s */
	unsigned backend_write_timeout; /* between backend writes: 60s */
	unsigned backend_keepalive_timeout;     /* idle pooled conn: 60s */
	unsigned backend_fail_timeout;  /* skip a failed server for: 10s */
	unsigned tunnel_timeout;        /* idle WebSocket tunnel: 1h */
	unsigned shutdown_timeout;      /* graceful stop waits at most: 30s */

	/* Limits, bytes (0 for client_max_body_size: no limit). */
	size_t client_max_header_size;  /* whole request head: 32k */
	size_t client_max_uri_size;     /* request line: 8k */
	uint64_t client_max_body_size;  /* 1g */
	size_t backend_max_header_size; /* whole response head: 32k */
	size_t client_header_min_rate;  /* bytes/s that earn 1s more: 500 */
	unsigned client_max_header_fields;      /* fields in a head: 100 */
	unsigned backend_max_header_fields;     /* in a response head: 100 */
	unsigned backend_keepalive;     /* idle conns kept per server: 256 */
	unsigned keepalive_requests;    /* per client connection: 10000 */
	unsigned max_connection_age;    /* ms, then GOAWAY/close; 0: off */
	/* Client connections per worker; 0 (auto, the default): from
	 * RLIMIT_NOFILE (see max_conns in proxy/worker.c). */
	unsigned max_connections;

	/* HTTP/2 frontend. */
	unsigned http2_max_concurrent_streams;  /* 100 */
	size_t http2_initial_window_size;       /* stream window: 65535 */
	size_t http2_max_frame_size;            /* 16k */
	size_t http2_max_header_list_size;      /* 64k */
	unsigned http2_max_glitches;    /* useless frames before GOAWAY: 1000 */
	/* Backend connections one h2 client connection may be opening at
	 * once; 0 (default): http2_max_concurrent_streams. */
	unsigned http2_max_backend_connects;

	/* Forwarded headers. */
	bool x_forwarded_for;           /* append client address: on */
	bool x_forwarded_proto;         /* set http/https: on */
	bool forwarded;                 /* RFC 7239 Forwarded: off */
	bool via;                       /* Via: 1.1 portico: off */
	/* trusted_proxies: the clients whose X-Forwarded-For and Forwarded
	 * are kept (and appended to); the others' are removed. Not given
	 * (has_trusted false): every client's are kept. */
	bool has_trusted;
	bool trusts_unix;               /* "unix": unix-socket listeners */
	struct conf_cidr *trusted;
	size_t ntrusted;

	struct conf_tls tls_conf;       /* the tls { } block */
	struct tls *tls;                /* tls_load's contexts, or NULL */
	void (*tls_free)(struct tls *); /* set by tls_load; for conf_free */

	char *path;                     /* the file loaded */
	struct conf_file *files;        /* names of the files read */
	int refs;                       /* atomic; see conf_ref() */
};

/* Loads and validates PATH. NULL on any error, with *err set to a malloc'd
 * "FILE:LINE: what is wrong" that the caller frees. */
struct conf *conf_load(const char *path, char **err);
/* Same, from a string; NAME stands for the file in messages and is the
 * base for relative includes. */
struct conf *conf_parse(const char *name, const char *text, char **err);

struct conf *conf_ref(struct conf *cf);         /* returns cf; thread-safe */
void conf_unref(struct conf *cf);               /* frees at zero; NULL ok */

/* "unix:/x", "1.2.3.4:80", "[::1]:80" → addr; -1 with *why on error. */
int conf_addr_parse(struct conf_addr *a, const char *s, const char **why);
/* "10.0.0.0/8", "192.0.2.7" (/32), "2001:db8::/32", "::1" (/128); -1 with
 * *WHY on a bad one, host bits set included. */
int conf_cidr_parse(struct conf_cidr *c, const char *s, const char **why);
/* Whether CF trusts a client at FAMILY (AF_INET, AF_INET6, AF_UNIX) and
 * IP (4 or 16 bytes, network order; an IPv4-mapped IPv6 address is taken
 * as IPv4) with its forwarded fields (trusted_proxies). */
bool conf_trusts(const struct conf *cf, int family,
    const unsigned char *ip);

/* Every directive name the parser knows, NULL-terminated. */
extern const char *const conf_directive_names[];

#endif
