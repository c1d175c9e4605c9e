/* config/conf.c: the configuration file, from bytes to struct conf.
 *
 * A lexer turns each file into words, "{", "}" and ends of statement (a
 * newline or ";").  A statement is its words up to one of those; a statement
 * ended by "{" opens a block that runs to the matching "}".  Each statement is
 * looked up in one table of directives (CONF_DIRECTIVES), which gives its
 * handler, argument count and where it may appear; the same table gives
 * conf_directive_names, so the man page check sees what the parser knows.
 * "include" parses other files in place, in the current context.  Checks that
 * need the whole file (routes to backends defined later, a listen, a
 * catch-all route, a certificate for tls listeners, uri vs header size) run
 * after parsing.  The first error stops everything; the parser and the
 * half-built conf are then freed.  The tls block keeps paths and OpenSSL
 * lists as written, with their file and line (the conf keeps every file
 * name), so that tls_load can read the files and report FILE:LINE later.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* asprintf, vasprintf */
#endif
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <grp.h>
#include <pwd.h>

#include "conf.h"

#define CONF_MAX_DEPTH  8       /* include nesting, stops include loops */
#define STMT_MAX        6       /* words kept; more only count */

#define IN_MAIN         0x01    /* allowed at top level */
#define IN_BACKEND      0x02    /* allowed inside backend { } */
#define HAS_BLOCK       0x04    /* needs "{" */
#define IS_MULTI        0x08    /* may appear more than once */
#define IN_TLS          0x10    /* allowed inside tls { } */

#define OFF(f)          offsetof(struct conf, f)
#define NELEMS(a)       (sizeof(a) / sizeof((a)[0]))
#define KIB             1024ULL
#define MIB             (1024ULL * 1024)
#define ALPN_DEFAULT    "\x02h2\x08http/1.1"

struct parser;
struct stmt;
struct directive;

typedef int directive_fn(struct parser *p, const struct directive *d,
    struct stmt *st);

struct directive {
	const char *name;
	directive_fn *run;
	int min, max;           /* arguments after the name */
	unsigned flags;
	size_t off;             /* field in struct conf, for generic handlers */
	uint64_t lo, hi;        /* accepted range, for sizes and counts */
};

static directive_fn run_workers, run_listen, run_backend, run_server;
static directive_fn run_route, run_access_log, run_error_log, run_include;
static directive_fn run_user, run_group;
static directive_fn set_timeout, set_size, set_size64, set_count, set_flag;
static directive_fn set_age, set_count_auto;
static directive_fn run_tls, run_certificate, run_protocols, run_alpn;
static directive_fn set_value;

#define M       IN_MAIN
#define MB      (IN_MAIN | IN_BACKEND)
#define TLS_V(n) set_value, 1, 1, IN_TLS, OFF(tls_conf.n), 0, 0
#define T(n)    set_timeout, 1, 1, M, OFF(n), 0, 0
#define F(n)    set_flag, 1, 1, M, OFF(n), 0, 0
/* directives: begin (tests/man_check.sh reads the names between markers) */
#define CONF_DIRECTIVES(X) \
	X("workers", run_workers, 1, 1, M, 0, 0, 0) \
	X("listen", run_listen, 1, 3, M | IS_MULTI, 0, 0, 0) \
	X("backend", run_backend, 1, 1, M | HAS_BLOCK | IS_MULTI, 0, 0, 0) \
	X("server", run_server, 1, 2, IN_BACKEND | IS_MULTI, 0, 0, 0) \
	X("route", run_route, 2, 2, M | IS_MULTI, 0, 0, 0) \
	X("include", run_include, 1, 1, MB | IN_TLS | IS_MULTI, 0, 0, 0) \
	X("tls", run_tls, 0, 0, M | HAS_BLOCK, 0, 0, 0) \
	X("certificate", run_certificate, 2, 2, IN_TLS | IS_MULTI, 0, 0, 0) \
	X("protocols", run_protocols, 1, 4, IN_TLS, 0, 0, 0) \
	X("ciphers", TLS_V(ciphers)) \
	X("ciphersuites", TLS_V(ciphersuites)) \
	X("groups", TLS_V(groups)) \
	X("alpn", run_alpn, 1, 1, IN_TLS, 0, 0, 0) \
	X("session_tickets", set_flag, 1, 1, IN_TLS, \
	    OFF(tls_conf.session_tickets), 0, 0) \
	X("handshake_timeout", set_timeout, 1, 1, IN_TLS, \
	    OFF(tls_conf.handshake_timeout), 0, 0) \
	X("access_log", run_access_log, 1, 2, M, 0, 0, 0) \
	X("error_log", run_error_log, 1, 2, M, 0, 0, 0) \
	X("user", run_user, 1, 1, M, 0, 0, 0) \
	X("group", run_group, 1, 1, M, 0, 0, 0) \
	X("shutdown_timeout", T(shutdown_timeout)) \
	X("client_header_timeout", T(client_header_timeout)) \
	X("client_header_initial_timeout", \
	    T(client_header_initial_timeout)) \
	X("client_header_min_rate", set_size, 1, 1, M, \
	    OFF(client_header_min_rate), 1, MIB) \
	X("client_body_timeout", T(client_body_timeout)) \
	X("keepalive_timeout", T(keepalive_timeout)) \
	X("send_timeout", T(send_timeout)) \
	X("backend_connect_timeout", T(backend_connect_timeout)) \
	X("backend_read_timeout", T(backend_read_timeout)) \
	X("backend_write_timeout", T(backend_write_timeout)) \
	X("backend_keepalive_timeout", T(backend_keepalive_timeout)) \
	X("backend_fail_timeout", T(backend_fail_timeout)) \
	X("tunnel_timeout", T(tunnel_timeout)) \
	X("client_max_header_size", set_size, 1, 1, M, \
	    OFF(client_max_header_size), KIB, MIB) \
	X("client_max_uri_size", set_size, 1, 1, M, \
	    OFF(client_max_uri_size), 256, MIB) \
	X("client_max_body_size", set_size64, 1, 1, M, \
	    OFF(client_max_body_size), 0, UINT64_MAX) \
	X("backend_max_header_size", set_size, 1, 1, M, \
	    OFF(backend_max_header_size), KIB, MIB) \
	X("client_max_header_fields", set_count, 1, 1, M, \
	    OFF(client_max_header_fields), 8, 10000) \
	X("backend_max_header_fields", set_count, 1, 1, M, \
	    OFF(backend_max_header_fields), 8, 10000) \
	X("backend_keepalive", set_count, 1, 1, M, \
	    OFF(backend_keepalive), 0, 10000) \
	X("keepalive_requests", set_count, 1, 1, M, \
	    OFF(keepalive_requests), 1, 1000000) \
	X("x_forwarded_for", F(x_forwarded_for)) \
	X("x_forwarded_proto", F(x_forwarded_proto)) \
	X("forwarded", F(forwarded)) \
	X("via", F(via)) \
	X("http2_max_concurrent_streams", set_count, 1, 1, M, \
	    OFF(http2_max_concurrent_streams), 1, 100000) \
	X("http2_initial_window_size", set_size, 1, 1, M, \
	    OFF(http2_initial_window_size), 0, 2147483647) \
	X("http2_max_frame_size", set_size, 1, 1, M, \
	    OFF(http2_max_frame_size), 16384, 16777215) \
	X("http2_max_header_list_size", set_size, 1, 1, M, \
	    OFF(http2_max_header_list_size), KIB, 16 * MIB) \
	X("http2_max_glitches", set_count, 1, 1, M, \
	    OFF(http2_max_glitches), 1, 1000000) \
	X("http2_max_backend_connects", set_count, 1, 1, M, \
	    OFF(http2_max_backend_connects), 0, 100000) \
	X("max_connection_age", set_age, 1, 1, M, OFF(max_connection_age), \
	    0, 0) \
	X("max_connections", set_count_auto, 1, 1, M, OFF(max_connections), \
	    1, 1000000)
/* directives: end */

#define AS_ROW(name, ...)       { name, __VA_ARGS__ },
#define AS_NAME(name, ...)      name,
static const struct directive directives[] = { CONF_DIRECTIVES(AS_ROW) };
const char *const conf_directive_names[] = { CONF_DIRECTIVES(AS_NAME) NULL };
#define NDIRECTIVES     (sizeof(directives) / sizeof(directives[0]))

enum tok {
	TOK_WORD = 0,
	TOK_END,                /* newline or ";" */
	TOK_OPEN,               /* "{" */
	TOK_CLOSE,              /* "}" */
	TOK_EOF,
	TOK_ERR,                /* parser error already set */
};

struct lex {
	const char *file;       /* owned by parser.files */
	const char *s, *end;
	int line;               /* of the next byte */
	int tokline;            /* of the last token */
	char *buf;              /* the last word, NUL-terminated */
	size_t len, cap;
};

struct stmt {
	char *argv[STMT_MAX];   /* the first words, malloc'd */
	int nwords;             /* all words, even those not kept */
	int line;
	const char *file;
	enum tok term;          /* what ended it */
};

struct conf_file {
	struct conf_file *next;
	char name[];
};

/* A route's backend by name, resolved once every backend is known. */
struct pending {
	char *backend;
	const char *file;
};

struct parser {
	struct conf *cf;
	char *err;
	struct lex *lx;                 /* the file being read */
	bool is_backend;                /* inside backend { } */
	bool is_tls;                    /* inside tls { } */
	size_t cur;                     /* that backend's index */
	int depth;                      /* include nesting */
	int main_last_line;
	const char *main_file;
	const char **listen_file;       /* per listen */
	const char **backend_file;      /* per backend */
	struct pending *pending;        /* per route */
	int seen_line[NDIRECTIVES];     /* single directives: first use */
	const char *seen_file[NDIRECTIVES];
};

static int parse_text(struct parser *p, const char *file, const char *text,
    size_t len);
static int parse_body(struct parser *p, bool in_block, int open_line);

static int fail_at(struct parser *p, const char *file, int line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
fail_at(struct parser *p, const char *file, int line, const char *fmt, ...)
{
	char *msg;
	va_list ap;
	int rc;

	if (p->err != NULL)
		return -1;
	va_start(ap, fmt);
	rc = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (rc == -1)
		return -1;      /* parse_main then reports "out of memory" */
	if (asprintf(&p->err, "%s:%d: %s", file, line, msg) == -1)
		p->err = NULL;
	free(msg);
	return -1;
}

#define fail(p, st, ...)        fail_at(p, (st)->file, (st)->line, __VA_ARGS__)

/* "line N", or "FILE:N" when the first sighting was in another file. */
static const char *
first_at(char *buf, size_t size, const char *file, int line, const char *cur)
{
	if (strcmp(file, cur) == 0)
		snprintf(buf, size, "line %d", line);
	else
		snprintf(buf, size, "%s:%d", file, line);
	return buf;
}

/* ARR of N elements grown by one zeroed element; NULL when out of memory,
 * ARR then unchanged. */
static void *
grow(void *arr, size_t n, size_t size)
{
	char *a;

	if ((a = realloc(arr, (n + 1) * size)) == NULL)
		return NULL;
	memset(a + n * size, 0, size);
	return a;
}

/* NAME, kept as long as the conf: struct conf_at points to it. */
static const char *
keep_name(struct parser *p, const char *name)
{
	size_t len = strlen(name);
	struct conf_file *f;

	if ((f = malloc(sizeof(*f) + len + 1)) == NULL)
		return NULL;
	memcpy(f->name, name, len + 1);
	f->next = p->cf->files;
	p->cf->files = f;
	return f->name;
}

/* Lexer */

static int
lex_push(struct parser *p, struct lex *lx, char c)
{
	char *b;

	if (lx->len + 1 >= lx->cap) {
		if ((b = realloc(lx->buf, lx->cap * 2 + 64)) == NULL)
			return fail_at(p, lx->file, lx->line, "out of memory");
		lx->buf = b;
		lx->cap = lx->cap * 2 + 64;
	}
	lx->buf[lx->len++] = c;
	lx->buf[lx->len] = '\0';
	return 0;
}

static bool
is_delim(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';' ||
	    c == '{' || c == '}';
}

static enum tok
lex_quoted(struct parser *p, struct lex *lx)
{
	char c;

	for (lx->s++; lx->s < lx->end && *lx->s != '\n'; lx->s++) {
		c = *lx->s;
		if (c == '"') {
			lx->s++;
			if (lx->s < lx->end && !is_delim(*lx->s) &&
			    *lx->s != '#') {
				fail_at(p, lx->file, lx->line,
				    "missing space after string");
				return TOK_ERR;
			}
			return TOK_WORD;
		}
		if (c == '\\') {
			if (lx->s + 1 == lx->end ||
			    (lx->s[1] != '"' && lx->s[1] != '\\')) {
				fail_at(p, lx->file, lx->line,
				    "invalid escape in string");
				return TOK_ERR;
			}
			c = *++lx->s;
		}
		if (lex_push(p, lx, c) == -1)
			return TOK_ERR;
	}
	fail_at(p, lx->file, lx->line, "unterminated string");
	return TOK_ERR;
}

static enum tok
lex_bare(struct parser *p, struct lex *lx)
{
	for (; lx->s < lx->end && !is_delim(*lx->s); lx->s++)
		if (lex_push(p, lx, *lx->s) == -1)
			return TOK_ERR;
	return TOK_WORD;
}

static enum tok
lex_next(struct parser *p, struct lex *lx)
{
	for (;;) {
		while (lx->s < lx->end && (*lx->s == ' ' || *lx->s == '\t' ||
		    *lx->s == '\r'))
			lx->s++;
		lx->tokline = lx->line;
		if (lx->s == lx->end)
			return TOK_EOF;
		if (*lx->s != '#')
			break;
		while (lx->s < lx->end && *lx->s != '\n')
			lx->s++;
	}
	lx->len = 0;
	switch (*lx->s) {
	case '\n':
		lx->line++;
		/* FALLTHROUGH */
	case ';':
		lx->s++;
		return TOK_END;
	case '{':
		lx->s++;
		return TOK_OPEN;
	case '}':
		lx->s++;
		return TOK_CLOSE;
	case '"':
		return lex_quoted(p, lx);
	default:
		return lex_bare(p, lx);
	}
}

static void
stmt_clear(struct stmt *st)
{
	int i;

	for (i = 0; i < st->nwords && i < STMT_MAX; i++)
		free(st->argv[i]);
	memset(st, 0, sizeof(*st));
}

/* The next statement: its words and what ended it.  Skips empty ones. */
static int
stmt_read(struct parser *p, struct stmt *st)
{
	struct lex *lx = p->lx;
	enum tok t;

	st->file = lx->file;
	for (;;) {
		if ((t = lex_next(p, lx)) == TOK_ERR)
			return -1;
		if (st->nwords == 0)
			st->line = lx->tokline;
		if (t == TOK_END && st->nwords == 0)
			continue;
		if (t != TOK_WORD)
			break;
		if (lx->len == 0)
			return fail_at(p, lx->file, lx->tokline,
			    "empty string");
		if (st->nwords < STMT_MAX &&
		    (st->argv[st->nwords] = strdup(lx->buf)) == NULL)
			return fail_at(p, lx->file, lx->tokline,
			    "out of memory");
		st->nwords++;
	}
	st->term = t;
	return 0;
}

/* Values */

static int
parse_digits(const char *s, uint64_t *v, const char **rest)
{
	uint64_t n = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (n > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	*v = n;
	*rest = s;
	return 0;
}

static int
parse_number(const char *s, uint64_t *v)
{
	const char *rest;

	if (parse_digits(s, v, &rest) == -1 || *rest != '\0')
		return -1;
	return 0;
}

static int
parse_size(const char *s, uint64_t *v)
{
	const char *rest;
	uint64_t mult;

	if (parse_digits(s, v, &rest) == -1)
		return -1;
	if (strcmp(rest, "") == 0)
		mult = 1;
	else if (strcmp(rest, "k") == 0 || strcmp(rest, "K") == 0)
		mult = KIB;
	else if (strcmp(rest, "m") == 0 || strcmp(rest, "M") == 0)
		mult = MIB;
	else if (strcmp(rest, "g") == 0 || strcmp(rest, "G") == 0)
		mult = 1024 * MIB;
	else
		return -1;
	if (*v > UINT64_MAX / mult)
		return -1;
	*v *= mult;
	return 0;
}

/* Milliseconds; a plain number is seconds. */
static int
parse_duration(const char *s, unsigned *ms)
{
	const char *rest;
	uint64_t v, mult;

	if (parse_digits(s, &v, &rest) == -1)
		return -1;
	if (strcmp(rest, "ms") == 0)
		mult = 1;
	else if (strcmp(rest, "") == 0 || strcmp(rest, "s") == 0)
		mult = 1000;
	else if (strcmp(rest, "m") == 0)
		mult = 60 * 1000;
	else if (strcmp(rest, "h") == 0)
		mult = 3600 * 1000;
	else
		return -1;
	if (v > UINT_MAX / mult)
		return -1;
	*ms = (unsigned)(v * mult);
	return 0;
}

/* "1m", "16k" or "300", for messages. */
static const char *
fmt_size(char *buf, size_t size, uint64_t v)
{
	if (v != 0 && v % MIB == 0)
		snprintf(buf, size, "%llum", (unsigned long long)(v / MIB));
	else if (v != 0 && v % KIB == 0)
		snprintf(buf, size, "%lluk", (unsigned long long)(v / KIB));
	else
		snprintf(buf, size, "%llu", (unsigned long long)v);
	return buf;
}

/* Addresses */

static int
parse_port(const char *s, in_port_t *port, const char **why)
{
	uint64_t v;

	*why = "missing port";
	if (*s == '\0')
		return -1;
	*why = "bad port";
	if (parse_number(s, &v) == -1 || v == 0 || v > 65535)
		return -1;
	*port = htons((in_port_t)v);
	return 0;
}

static int
parse_unix(struct conf_addr *a, const char *path, const char **why)
{
	struct sockaddr_un *sa = (struct sockaddr_un *)&a->ss;
	size_t len = strlen(path);

	*why = "empty unix path";
	if (len == 0)
		return -1;
	*why = "unix path too long";
	if (len >= sizeof(sa->sun_path))
		return -1;
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, len + 1);
	a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	return 0;
}

static int
parse_inet6(struct conf_addr *a, const char *s, const char **why)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->ss;
	const char *close = strchr(s, ']');
	char host[INET6_ADDRSTRLEN];

	*why = "bad IPv6 address";
	if (close == NULL || (size_t)(close - s - 1) >= sizeof(host))
		return -1;
	memcpy(host, s + 1, (size_t)(close - s - 1));
	host[close - s - 1] = '\0';
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
		return -1;
	*why = "missing port";
	if (close[1] != ':')
		return -1;
	if (parse_port(close + 2, &sin6->sin6_port, why) == -1)
		return -1;
	sin6->sin6_family = AF_INET6;
	a->len = sizeof(*sin6);
	return 0;
}

/* "1.2.3.4:80"; ":80" and "*:80" mean every IPv4 address. */
static int
parse_inet(struct conf_addr *a, const char *s, const char **why)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&a->ss;
	const char *colon = strrchr(s, ':');
	char host[INET_ADDRSTRLEN];
	size_t len;

	*why = "missing port";
	if (colon == NULL)
		return -1;
	*why = "bad IPv4 address";
	if ((len = (size_t)(colon - s)) >= sizeof(host))
		return -1;
	memcpy(host, s, len);
	host[len] = '\0';
	if (strcmp(host, "") == 0 || strcmp(host, "*") == 0)
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return -1;
	if (parse_port(colon + 1, &sin->sin_port, why) == -1)
		return -1;
	sin->sin_family = AF_INET;
	a->len = sizeof(*sin);
	return 0;
}

int
conf_addr_parse(struct conf_addr *a, const char *s, const char **why)
{
	memset(a, 0, sizeof(*a));
	*why = "address too long";
	if (strlen(s) >= sizeof(a->text))
		return -1;
	memcpy(a->text, s, strlen(s) + 1);
	if (strncmp(s, "unix:", 5) == 0)
		return parse_unix(a, s + 5, why);
	if (s[0] == '[')
		return parse_inet6(a, s, why);
	return parse_inet(a, s, why);
}

static int
addr_arg(struct parser *p, struct stmt *st, struct conf_addr *a,
    const char *s)
{
	const char *why;

	if (conf_addr_parse(a, s, &why) == -1)
		return fail(p, st, "invalid address \"%s\": %s", s, why);
	return 0;
}

/* Directives */

static int
run_workers(struct parser *p, const struct directive *d, struct stmt *st)
{
	uint64_t v;

	(void)d;
	if (strcmp(st->argv[1], "auto") == 0) {
		p->cf->workers = 0;
		return 0;
	}
	if (parse_number(st->argv[1], &v) == -1)
		return fail(p, st, "invalid number \"%s\"", st->argv[1]);
	if (v < 1 || v > 256)
		return fail(p, st,
		    "\"workers\" must be auto or between 1 and 256");
	p->cf->workers = (unsigned)v;
	return 0;
}

static int
run_listen(struct parser *p, const struct directive *d, struct stmt *st)
{
	struct conf *cf = p->cf;
	struct conf_listen *l, tmp;
	const char **lf;
	char at[300];
	size_t i;

	(void)d;
	memset(&tmp, 0, sizeof(tmp));
	if (addr_arg(p, st, &tmp.addr, st->argv[1]) == -1)
		return -1;
	for (i = 2; i < (size_t)st->nwords; i++) {
		if (strcmp(st->argv[i], "tls") == 0)
			tmp.is_tls = true;
		else if (strcmp(st->argv[i], "h2_websocket=off") == 0)
			tmp.is_h2_websocket_off = true;
		else if (strcmp(st->argv[i], "h2_websocket=on") != 0)
			return fail(p, st, "unknown listen option \"%s\"",
			    st->argv[i]);
	}
	for (i = 0; i < cf->nlistens; i++) {
		l = &cf->listens[i];
		if (l->addr.len == tmp.addr.len &&
		    memcmp(&l->addr.ss, &tmp.addr.ss, tmp.addr.len) == 0)
			return fail(p, st, "duplicate listen \"%s\" "
			    "(first at %s)", st->argv[1], first_at(at,
			    sizeof(at), p->listen_file[i], l->line, st->file));
	}
	if ((lf = grow(p->listen_file, i, sizeof(*lf))) == NULL)
		return fail(p, st, "out of memory");
	p->listen_file = lf;
	lf[i] = st->file;
	if ((l = grow(cf->listens, i, sizeof(*l))) == NULL)
		return fail(p, st, "out of memory");
	cf->listens = l;
	l += cf->nlistens++;
	*l = tmp;
	l->line = st->line;
	return 0;
}

static bool
is_name(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("-_.", *s) != NULL))
			return false;
	return true;
}

static int
backend_add(struct parser *p, struct stmt *st)
{
	struct conf *cf = p->cf;
	struct conf_backend *b;
	const char **bf;
	size_t n = cf->nbackends;

	if ((bf = grow(p->backend_file, n, sizeof(*bf))) == NULL)
		return fail(p, st, "out of memory");
	p->backend_file = bf;
	bf[n] = st->file;
	if ((b = grow(cf->backends, n, sizeof(*b))) == NULL)
		return fail(p, st, "out of memory");
	cf->backends = b;
	b += cf->nbackends++;
	b->index = n;
	b->line = st->line;
	if ((b->name = strdup(st->argv[1])) == NULL)
		return fail(p, st, "out of memory");
	return 0;
}

static int
run_backend(struct parser *p, const struct directive *d, struct stmt *st)
{
	struct conf *cf = p->cf;
	char at[300];
	size_t i;

	(void)d;
	if (!is_name(st->argv[1]))
		return fail(p, st, "invalid backend name \"%s\"", st->argv[1]);
	for (i = 0; i < cf->nbackends; i++)
		if (strcmp(cf->backends[i].name, st->argv[1]) == 0)
			return fail(p, st, "duplicate backend \"%s\" "
			    "(first defined at %s)", st->argv[1],
			    first_at(at, sizeof(at), p->backend_file[i],
			    cf->backends[i].line, st->file));
	if (backend_add(p, st) == -1)
		return -1;
	p->is_backend = true;
	p->cur = cf->nbackends - 1;
	if (parse_body(p, true, st->line) == -1)
		return -1;
	p->is_backend = false;
	if (cf->backends[p->cur].nservers == 0)
		return fail(p, st, "backend \"%s\" has no server",
		    st->argv[1]);
	return 0;
}

static int
run_server(struct parser *p, const struct directive *d, struct stmt *st)
{
	struct conf_backend *b = &p->cf->backends[p->cur];
	struct conf_server *s, tmp;
	uint64_t w = 1;

	(void)d;
	memset(&tmp, 0, sizeof(tmp));
	if (addr_arg(p, st, &tmp.addr, st->argv[1]) == -1)
		return -1;
	if (st->nwords == 3) {
		if (strncmp(st->argv[2], "weight=", 7) != 0)
			return fail(p, st, "unknown server option \"%s\"",
			    st->argv[2]);
		if (parse_number(st->argv[2] + 7, &w) == -1)
			return fail(p, st, "invalid number \"%s\"",
			    st->argv[2] + 7);
		if (w < 1 || w > 1000)
			return fail(p, st,
			    "weight must be between 1 and 1000");
	}
	if ((s = grow(b->servers, b->nservers, sizeof(*s))) == NULL)
		return fail(p, st, "out of memory");
	b->servers = s;
	s += b->nservers++;
	*s = tmp;
	s->weight = (unsigned)w;
	return 0;
}

/* Lower-cases HOST in place, drops one trailing dot, and checks it is "*",
 * "*.suffix" or a plain name (an IPv6 literal in brackets included). */
static bool
route_host_ok(char *h)
{
	size_t len = strlen(h);
	const char *s = h;
	char *c;

	for (c = h; *c != '\0'; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	if (len > 1 && h[len - 1] == '.' && strcmp(h, "*.") != 0)
		h[--len] = '\0';
	if (strcmp(h, "*") == 0)
		return true;
	if (strncmp(h, "*.", 2) == 0 && len > 2)
		s = h + 2;
	if (*s == '.' || (strchr(s, ':') != NULL && *s != '['))
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    strchr("-_.:[]", *s) != NULL))
			return false;
	return true;
}

static int
route_fill(struct parser *p, struct stmt *st, struct conf_route *r)
{
	const char *arg = st->argv[1];
	const char *slash = strchr(arg, '/');
	size_t hlen = slash != NULL ? (size_t)(slash - arg) : strlen(arg);

	if ((r->host = strndup(arg, hlen)) == NULL ||
	    (r->path = strdup(slash != NULL ? slash : "/")) == NULL)
		return fail(p, st, "out of memory");
	if (hlen == 0 || !route_host_ok(r->host))
		return fail(p, st, "invalid route host \"%.*s\"", (int)hlen,
		    arg);
	r->line = st->line;
	return 0;
}

static int
run_route(struct parser *p, const struct directive *d, struct stmt *st)
{
	struct conf *cf = p->cf;
	struct conf_route tmp = { 0 }, *r;
	struct pending *pd;
	char at[300];
	size_t i, n = cf->nroutes;

	(void)d;
	if (route_fill(p, st, &tmp) == -1)
		goto fail;
	for (i = 0; i < n; i++) {
		r = &cf->routes[i];
		if (strcmp(r->host, tmp.host) == 0 &&
		    strcmp(r->path, tmp.path) == 0) {
			fail(p, st, "duplicate route \"%s\" (first at %s)",
			    st->argv[1], first_at(at, sizeof(at),
			    p->pending[i].file, r->line, st->file));
			goto fail;
		}
	}
	if ((pd = grow(p->pending, n, sizeof(*pd))) == NULL)
		goto oom;
	p->pending = pd;
	pd[n].file = st->file;
	if ((pd[n].backend = strdup(st->argv[2])) == NULL)
		goto oom;
	if ((r = grow(cf->routes, n, sizeof(*r))) == NULL) {
		free(pd[n].backend);
		goto oom;
	}
	cf->routes = r;
	r[cf->nroutes++] = tmp;
	return 0;

oom:
	fail(p, st, "out of memory");
fail:
	free(tmp.host);
	free(tmp.path);
	return -1;
}

static int
set_string(struct parser *p, struct stmt *st, char **field, const char *s)
{
	free(*field);
	if ((*field = strdup(s)) == NULL)
		return fail(p, st, "out of memory");
	return 0;
}

static int
run_access_log(struct parser *p, const struct directive *d, struct stmt *st)
{
	struct conf *cf = p->cf;
	const char *fmt = st->nwords == 3 ? st->argv[2] : "combined";

	(void)d;
	if (strcmp(st->argv[1], "off") == 0 && st->nwords == 3)
		return fail(p, st, "\"access_log off\" takes no format");
	if (strcmp(fmt, "combined") == 0)
		cf->access_log_format = CONF_LOG_COMBINED;
	else if (strcmp(fmt, "json") == 0)
		cf->access_log_format = CONF_LOG_JSON;
	else
		return fail(p, st, "invalid log format \"%s\"", fmt);
	if (strcmp(st->argv[1], "off") == 0) {
		free(cf->access_log);
		cf->access_log = NULL;
		return 0;
	}
	return set_string(p, st, &cf->access_log, st->argv[1]);
}

static int
run_error_log(struct parser *p, const struct directive *d, struct stmt *st)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {
		{ "debug", LOG_DEBUG }, { "info", LOG_INFO },
		{ "notice", LOG_NOTICE }, { "warn", LOG_WARNING },
		{ "error", LOG_ERR },
	};
	const char *lv = st->nwords == 3 ? st->argv[2] : "info";
	size_t i;

	(void)d;
	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcmp(levels[i].name, lv) == 0)
			break;
	if (i == sizeof(levels) / sizeof(levels[0]))
		return fail(p, st, "invalid log level \"%s\"", lv);
	p->cf->error_log_level = levels[i].level;
	return set_string(p, st, &p->cf->error_log, st->argv[1]);
}

/* Checked now, so -t catches a typo before a reload or a start does. */
static int
run_user(struct parser *p, const struct directive *d, struct stmt *st)
{
	(void)d;
	if (getpwnam(st->argv[1]) == NULL)
		return fail(p, st, "unknown user \"%s\"", st->argv[1]);
	return set_string(p, st, &p->cf->user, st->argv[1]);
}

static int
run_group(struct parser *p, const struct directive *d, struct stmt *st)
{
	(void)d;
	if (getgrnam(st->argv[1]) == NULL)
		return fail(p, st, "unknown group \"%s\"", st->argv[1]);
	return set_string(p, st, &p->cf->group, st->argv[1]);
}

static int
set_timeout(struct parser *p, const struct directive *d, struct stmt *st)
{
	unsigned ms;

	if (parse_duration(st->argv[1], &ms) == -1)
		return fail(p, st, "invalid duration \"%s\"", st->argv[1]);
	if (ms == 0)
		return fail(p, st, "\"%s\" must be positive", d->name);
	*(unsigned *)((char *)p->cf + d->off) = ms;
	return 0;
}

/* A duration where 0 or "off" means no limit. */
static int
set_age(struct parser *p, const struct directive *d, struct stmt *st)
{
	unsigned ms = 0;

	if (strcmp(st->argv[1], "off") != 0 &&
	    parse_duration(st->argv[1], &ms) == -1)
		return fail(p, st, "invalid duration \"%s\"", st->argv[1]);
	*(unsigned *)((char *)p->cf + d->off) = ms;
	return 0;
}

static int
size_arg(struct parser *p, const struct directive *d, struct stmt *st,
    uint64_t *v)
{
	char lo[32], hi[32];

	if (parse_size(st->argv[1], v) == -1)
		return fail(p, st, "invalid size \"%s\"", st->argv[1]);
	if (*v < d->lo || *v > d->hi)
		return fail(p, st, "\"%s\" must be between %s and %s",
		    d->name, fmt_size(lo, sizeof(lo), d->lo),
		    fmt_size(hi, sizeof(hi), d->hi));
	return 0;
}

static int
set_size(struct parser *p, const struct directive *d, struct stmt *st)
{
	uint64_t v = 0;

	if (size_arg(p, d, st, &v) == -1)
		return -1;
	*(size_t *)((char *)p->cf + d->off) = (size_t)v;
	return 0;
}

static int
set_size64(struct parser *p, const struct directive *d, struct stmt *st)
{
	uint64_t v = 0;

	if (size_arg(p, d, st, &v) == -1)
		return -1;
	*(uint64_t *)((char *)p->cf + d->off) = v;
	return 0;
}

static int
set_count(struct parser *p, const struct directive *d, struct stmt *st)
{
	uint64_t v;

	if (parse_number(st->argv[1], &v) == -1)
		return fail(p, st, "invalid number \"%s\"", st->argv[1]);
	if (v < d->lo || v > d->hi)
		return fail(p, st, "\"%s\" must be between %llu and %llu",
		    d->name, (unsigned long long)d->lo,
		    (unsigned long long)d->hi);
	*(unsigned *)((char *)p->cf + d->off) = (unsigned)v;
	return 0;
}

/* A count, or "auto" (0): worked out when it is used. */
static int
set_count_auto(struct parser *p, const struct directive *d, struct stmt *st)
{
	uint64_t v;

	if (strcmp(st->argv[1], "auto") == 0)
		v = 0;
	else if (parse_number(st->argv[1], &v) == -1 || v < d->lo ||
	    v > d->hi)
		return fail(p, st, "invalid %s \"%s\": use auto or a number "
		    "from %llu to %llu", d->name, st->argv[1],
		    (unsigned long long)d->lo, (unsigned long long)d->hi);
	*(unsigned *)((char *)p->cf + d->off) = (unsigned)v;
	return 0;
}

static int
set_flag(struct parser *p, const struct directive *d, struct stmt *st)
{
	bool *field = (bool *)((char *)p->cf + d->off);

	if (strcmp(st->argv[1], "on") == 0)
		*field = true;
	else if (strcmp(st->argv[1], "off") == 0)
		*field = false;
	else
		return fail(p, st, "invalid flag \"%s\": use on or off",
		    st->argv[1]);
	return 0;
}

/* Files and includes */

/* The whole of PATH in a malloc'd *text; errors name FILE:LINE. */
static int
read_file(struct parser *p, const char *file, int line, const char *path,
    char **text, size_t *len)
{
	FILE *f;
	char *b = NULL, *nb;
	size_t n = 0, cap = 0;

	if ((f = fopen(path, "r")) == NULL)
		return fail_at(p, file, line, "cannot read \"%s\": %s", path,
		    strerror(errno));
	for (;;) {
		if (n == cap) {
			if ((nb = realloc(b, cap * 2 + 4096)) == NULL)
				break;
			b = nb;
			cap = cap * 2 + 4096;
		}
		if ((n += fread(b + n, 1, cap - n, f)) < cap)
			break;
	}
	if (n < cap && ferror(f) == 0) {
		fclose(f);
		*text = b;
		*len = n;
		return 0;
	}
	fail_at(p, file, line, "cannot read \"%s\": %s", path,
	    ferror(f) ? strerror(errno) : "out of memory");
	fclose(f);
	free(b);
	return -1;
}

static int
include_one(struct parser *p, struct stmt *st, const char *path)
{
	const char *name;
	char *text;
	size_t len;
	int rc;

	if ((name = keep_name(p, path)) == NULL)
		return fail(p, st, "out of memory");
	if (read_file(p, st->file, st->line, path, &text, &len) == -1)
		return -1;
	p->depth++;
	rc = parse_text(p, name, text, len);
	p->depth--;
	free(text);
	return rc;
}

/* GLOB relative to the including file's directory. */
static char *
include_pattern(const char *file, const char *glb)
{
	const char *slash = strrchr(file, '/');
	char *pat;

	if (glb[0] == '/' || slash == NULL)
		return strdup(glb);
	if (asprintf(&pat, "%.*s/%s", (int)(slash - file), file, glb) == -1)
		return NULL;
	return pat;
}

static int
run_include(struct parser *p, const struct directive *d, struct stmt *st)
{
	glob_t g;
	char *pat;
	size_t i;
	int rc;

	(void)d;
	if (p->depth >= CONF_MAX_DEPTH)
		return fail(p, st, "includes nested more than %d deep",
		    CONF_MAX_DEPTH);
	if ((pat = include_pattern(st->file, st->argv[1])) == NULL)
		return fail(p, st, "out of memory");
	rc = glob(pat, GLOB_ERR, NULL, &g);
	free(pat);
	if (rc == GLOB_NOMATCH)
		return fail(p, st, "include \"%s\" matches no file",
		    st->argv[1]);
	if (rc != 0)
		return fail(p, st, "include \"%s\": cannot read directory",
		    st->argv[1]);
	for (i = 0, rc = 0; i < g.gl_pathc && rc == 0; i++)
		rc = include_one(p, st, g.gl_pathv[i]);
	globfree(&g);
	return rc;
}

/* The tls block: paths and names here; tls_load checks the rest. */

static int
run_tls(struct parser *p, const struct directive *d, struct stmt *st)
{
	(void)d;
	p->cf->tls_conf.at.file = st->file;
	p->cf->tls_conf.at.line = st->line;
	p->is_tls = true;
	if (parse_body(p, true, st->line) == -1)
		return -1;
	p->is_tls = false;
	return 0;
}

static int
run_certificate(struct parser *p, const struct directive *d,
    struct stmt *st)
{
	struct conf_tls *tc = &p->cf->tls_conf;
	struct conf_cert *c;

	(void)d;
	if ((c = grow(tc->certs, tc->ncerts, sizeof(*c))) == NULL)
		return fail(p, st, "out of memory");
	tc->certs = c;
	c += tc->ncerts++;
	c->at.file = st->file;
	c->at.line = st->line;
	/* Relative paths start from the file's directory, as for include. */
	if ((c->cert = include_pattern(st->file, st->argv[1])) == NULL ||
	    (c->key = include_pattern(st->file, st->argv[2])) == NULL)
		return fail(p, st, "out of memory");
	return 0;
}

static const struct {
	const char *name;
	unsigned bit;
} tls_versions[] = {
	{ "TLSv1", CONF_TLS_V1_0 }, { "TLSv1.1", CONF_TLS_V1_1 },
	{ "TLSv1.2", CONF_TLS_V1_2 }, { "TLSv1.3", CONF_TLS_V1_3 },
};

static int
run_protocols(struct parser *p, const struct directive *d, struct stmt *st)
{
	struct conf_tls *tc = &p->cf->tls_conf;
	unsigned set = 0, low;
	size_t i;
	int w;

	(void)d;
	for (w = 1; w < st->nwords; w++) {
		for (i = 0; i < NELEMS(tls_versions); i++)
			if (strcmp(st->argv[w], tls_versions[i].name) == 0)
				break;
		if (i == NELEMS(tls_versions))
			return fail(p, st, "unknown protocol \"%s\": use "
			    "TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3",
			    st->argv[w]);
		if (set & tls_versions[i].bit)
			return fail(p, st, "duplicate protocol \"%s\"",
			    st->argv[w]);
		set |= tls_versions[i].bit;
	}
	/* One range, min to max version, as OpenSSL sets it. */
	low = set & -set;
	if (((set + low) & set) != 0)
		return fail(p, st, "protocols must be consecutive versions");
	tc->protocols = set;
	tc->protocols_at.file = st->file;
	tc->protocols_at.line = st->line;
	return 0;
}

/* "h2,http/1.1" into ALPN's wire format, in the order given. */
static int
run_alpn(struct parser *p, const struct directive *d, struct stmt *st)
{
	static const char *const known[] = { "h2", "http/1.1" };
	struct conf_tls *tc = &p->cf->tls_conf;
	const char *s = st->argv[1], *comma;
	unsigned char wire[sizeof(tc->alpn)];
	size_t n = 0, len, i;
	unsigned seen = 0;

	(void)d;
	for (;; s = comma + 1) {
		comma = strchr(s, ',');
		len = comma != NULL ? (size_t)(comma - s) : strlen(s);
		for (i = 0; i < NELEMS(known); i++)
			if (strlen(known[i]) == len &&
			    memcmp(known[i], s, len) == 0)
				break;
		if (len == 0)
			return fail(p, st, "empty ALPN protocol in \"%s\"",
			    st->argv[1]);
		if (i == NELEMS(known))
			return fail(p, st, "unknown ALPN protocol \"%.*s\": "
			    "use h2 or http/1.1", (int)len, s);
		if (seen & (1u << i))
			return fail(p, st, "duplicate ALPN protocol \"%s\"",
			    known[i]);
		seen |= 1u << i;
		wire[n++] = (unsigned char)len;
		memcpy(wire + n, s, len);
		n += len;
		if (comma == NULL)
			break;
	}
	memcpy(tc->alpn, wire, n);
	tc->alpn_len = n;
	return 0;
}

static int
set_value(struct parser *p, const struct directive *d, struct stmt *st)
{
	struct conf_value *v = (struct conf_value *)((char *)p->cf + d->off);

	v->at.file = st->file;
	v->at.line = st->line;
	return set_string(p, st, &v->value, st->argv[1]);
}

/* Statements and blocks */

static const struct directive *
directive_find(const char *name)
{
	size_t i;

	for (i = 0; i < NDIRECTIVES; i++)
		if (strcmp(directives[i].name, name) == 0)
			return &directives[i];
	return NULL;
}

static int
check_nargs(struct parser *p, const struct directive *d, struct stmt *st)
{
	int n = st->nwords - 1;

	if (n >= d->min && n <= d->max)
		return 0;
	if (d->min == d->max)
		return fail(p, st, "\"%s\" takes %d argument%s", d->name,
		    d->min, d->min == 1 ? "" : "s");
	if (d->max == d->min + 1)
		return fail(p, st, "\"%s\" takes %d or %d arguments",
		    d->name, d->min, d->max);
	return fail(p, st, "\"%s\" takes %d to %d arguments", d->name,
	    d->min, d->max);
}

static int
check_place(struct parser *p, const struct directive *d, struct stmt *st)
{
	size_t i = (size_t)(d - directives);
	char at[300];

	if (p->is_backend && !(d->flags & IN_BACKEND))
		return fail(p, st, "\"%s\" not allowed inside a backend block",
		    d->name);
	if (p->is_tls && !(d->flags & IN_TLS))
		return fail(p, st, "\"%s\" not allowed inside a tls block",
		    d->name);
	if (!p->is_backend && !p->is_tls && !(d->flags & IN_MAIN))
		return fail(p, st, "\"%s\" outside a %s block", d->name,
		    (d->flags & IN_TLS) ? "tls" : "backend");
	if (d->flags & IS_MULTI)
		return 0;
	if (p->seen_line[i] != 0)
		return fail(p, st, "duplicate \"%s\" (first at %s)", d->name,
		    first_at(at, sizeof(at), p->seen_file[i],
		    p->seen_line[i], st->file));
	p->seen_line[i] = st->line;
	p->seen_file[i] = st->file;
	return 0;
}

static int
stmt_run(struct parser *p, struct stmt *st)
{
	const struct directive *d = directive_find(st->argv[0]);

	if (d == NULL)
		return fail(p, st, "unknown directive \"%s\"", st->argv[0]);
	if (check_place(p, d, st) == -1 || check_nargs(p, d, st) == -1)
		return -1;
	if ((d->flags & HAS_BLOCK) && st->term != TOK_OPEN)
		return fail(p, st, "\"%s\" needs a \"{\" block", d->name);
	if (!(d->flags & HAS_BLOCK) && st->term == TOK_OPEN)
		return fail(p, st, "unexpected \"{\"");
	return d->run(p, d, st);
}

/* Statements up to the end of the file, or up to "}" when IN_BLOCK. */
static int
parse_body(struct parser *p, bool in_block, int open_line)
{
	struct stmt st;
	enum tok term;
	int rc;

	for (;;) {
		memset(&st, 0, sizeof(st));
		rc = stmt_read(p, &st);
		if (rc == 0 && st.nwords > 0)
			rc = stmt_run(p, &st);
		else if (rc == 0 && st.term == TOK_OPEN)
			rc = fail(p, &st, "unexpected \"{\"");
		if (rc == 0 && st.term == TOK_CLOSE && !in_block)
			rc = fail_at(p, st.file, p->lx->tokline,
			    "unexpected \"}\"");
		if (rc == 0 && st.term == TOK_EOF && in_block)
			rc = fail_at(p, st.file, open_line,
			    "missing \"}\" at end of file");
		term = st.term;
		stmt_clear(&st);
		if (rc == -1)
			return -1;
		if (term == TOK_CLOSE || term == TOK_EOF)
			return 0;
	}
}

/* The line of TEXT[off]. */
static int
line_of(const char *text, size_t off)
{
	const char *s, *end = text + off;
	int n = 1;

	for (s = text; (s = memchr(s, '\n', (size_t)(end - s))) != NULL; s++)
		n++;
	return n;
}

static int
parse_text(struct parser *p, const char *file, const char *text, size_t len)
{
	struct lex lx = { .file = file, .s = text, .end = text + len,
	    .line = 1 };
	struct lex *outer = p->lx;
	bool was_backend = p->is_backend, was_tls = p->is_tls;
	const char *nul = memchr(text, '\0', len);
	int rc;

	if (nul != NULL)
		return fail_at(p, file, line_of(text, (size_t)(nul - text)),
		    "NUL byte in file");
	p->lx = &lx;
	rc = parse_body(p, false, 0);
	p->lx = outer;
	p->is_backend = was_backend;
	p->is_tls = was_tls;
	free(lx.buf);
	return rc;
}

/* Checks on the whole configuration */

static int
resolve_routes(struct parser *p)
{
	struct conf *cf = p->cf;
	struct conf_route *r;
	size_t i, j;

	for (i = 0; i < cf->nroutes; i++) {
		r = &cf->routes[i];
		for (j = 0; j < cf->nbackends; j++)
			if (strcmp(cf->backends[j].name,
			    p->pending[i].backend) == 0)
				r->backend = &cf->backends[j];
		if (r->backend == NULL)
			return fail_at(p, p->pending[i].file, r->line,
			    "route to unknown backend \"%s\"",
			    p->pending[i].backend);
	}
	return 0;
}

static int
check_limits(struct parser *p)
{
	const struct conf *cf = p->cf;
	size_t uri = (size_t)(directive_find("client_max_uri_size") -
	    directives);
	size_t head = (size_t)(directive_find("client_max_header_size") -
	    directives);
	size_t at = p->seen_line[uri] != 0 ? uri : head;
	size_t ini = (size_t)(directive_find(
	    "client_header_initial_timeout") - directives);
	size_t ht = (size_t)(directive_find("client_header_timeout") -
	    directives);
	char a[32], b[32];

	/* "client_header_timeout 10s" alone, as nginx users write it, is a
	 * plain 10 s limit: the initial part shrinks to fit. */
	if (cf->client_header_initial_timeout > cf->client_header_timeout &&
	    p->seen_line[ini] == 0)
		p->cf->client_header_initial_timeout =
		    cf->client_header_timeout;
	if (cf->client_header_initial_timeout > cf->client_header_timeout) {
		at = p->seen_line[ini] != 0 ? ini : ht;
		return fail_at(p, p->seen_file[at], p->seen_line[at],
		    "client_header_initial_timeout (%ums) must not exceed "
		    "client_header_timeout (%ums)",
		    cf->client_header_initial_timeout,
		    cf->client_header_timeout);
	}
	if (cf->client_max_uri_size <= cf->client_max_header_size)
		return 0;
	return fail_at(p, p->seen_file[at], p->seen_line[at],
	    "client_max_uri_size (%s) must not exceed "
	    "client_max_header_size (%s)",
	    fmt_size(a, sizeof(a), cf->client_max_uri_size),
	    fmt_size(b, sizeof(b), cf->client_max_header_size));
}

static int
route_class(const struct conf_route *r)
{
	if (strcmp(r->host, "*") == 0)
		return 2;
	return r->host[0] == '*' ? 1 : 0;
}

/* Exact hosts, then wildcards longest first, then "*"; within one host,
 * longest path first.  The first route that matches is then the best. */
static int
route_cmp(const void *va, const void *vb)
{
	const struct conf_route *a = va, *b = vb;
	int ca = route_class(a), cb = route_class(b), c;
	size_t la = strlen(a->host), lb = strlen(b->host);

	if (ca != cb)
		return ca - cb;
	if (ca == 1 && la != lb)
		return la > lb ? -1 : 1;
	if ((c = strcmp(a->host, b->host)) != 0)
		return c;
	la = strlen(a->path);
	lb = strlen(b->path);
	if (la != lb)
		return la > lb ? -1 : 1;
	return strcmp(a->path, b->path);
}

/* A tls listener needs a certificate; a tls block needs one too. */
static int
check_tls(struct parser *p)
{
	const struct conf *cf = p->cf;
	const struct conf_tls *tc = &cf->tls_conf;
	size_t i;

	if (tc->ncerts > 0)
		return 0;
	for (i = 0; i < cf->nlistens; i++)
		if (cf->listens[i].is_tls)
			return fail_at(p, p->listen_file[i],
			    cf->listens[i].line,
			    "tls listener needs a certificate in a tls block");
	if (tc->at.file != NULL)
		return fail_at(p, tc->at.file, tc->at.line,
		    "tls block has no certificate");
	return 0;
}

static int
check_whole(struct parser *p)
{
	struct conf *cf = p->cf;
	size_t i;

	if (resolve_routes(p) == -1 || check_limits(p) == -1 ||
	    check_tls(p) == -1)
		return -1;
	if (cf->nlistens == 0)
		return fail_at(p, p->main_file, p->main_last_line,
		    "no listen directive");
	for (i = 0; i < cf->nroutes; i++)
		if (strcmp(cf->routes[i].host, "*") == 0 &&
		    strcmp(cf->routes[i].path, "/") == 0)
			break;
	if (i == cf->nroutes)
		return fail_at(p, p->main_file, p->main_last_line,
		    "no route catches every host: add \"route * BACKEND\"");
	qsort(cf->routes, cf->nroutes, sizeof(*cf->routes), route_cmp);
	return 0;
}

/* The conf object */

static void
tls_conf_free(struct conf_tls *tc)
{
	size_t i;

	for (i = 0; i < tc->ncerts; i++) {
		free(tc->certs[i].cert);
		free(tc->certs[i].key);
	}
	free(tc->certs);
	free(tc->ciphers.value);
	free(tc->ciphersuites.value);
	free(tc->groups.value);
}

static void
conf_free(struct conf *cf)
{
	struct conf_file *f;
	size_t i;

	if (cf == NULL)
		return;
	if (cf->tls_free != NULL)
		cf->tls_free(cf->tls);
	for (i = 0; i < cf->nbackends; i++) {
		free(cf->backends[i].name);
		free(cf->backends[i].servers);
	}
	for (i = 0; i < cf->nroutes; i++) {
		free(cf->routes[i].host);
		free(cf->routes[i].path);
	}
	free(cf->listens);
	free(cf->backends);
	free(cf->routes);
	free(cf->access_log);
	free(cf->error_log);
	free(cf->user);
	free(cf->group);
	free(cf->path);
	tls_conf_free(&cf->tls_conf);
	while ((f = cf->files) != NULL) {
		cf->files = f->next;
		free(f);
	}
	free(cf);
}

static struct conf *
conf_new(const char *path)
{
	struct conf *cf;

	if ((cf = calloc(1, sizeof(*cf))) == NULL)
		return NULL;
	cf->refs = 1;
	cf->access_log_format = CONF_LOG_COMBINED;
	cf->error_log_level = LOG_INFO;
	cf->client_header_timeout = 40 * 1000;
	cf->client_header_initial_timeout = 20 * 1000;
	cf->client_header_min_rate = 500;
	cf->client_body_timeout = 60 * 1000;
	cf->keepalive_timeout = 75 * 1000;
	cf->send_timeout = 60 * 1000;
	cf->backend_connect_timeout = 5 * 1000;
	cf->backend_read_timeout = 60 * 1000;
	cf->backend_write_timeout = 60 * 1000;
	cf->backend_keepalive_timeout = 60 * 1000;
	cf->backend_fail_timeout = 10 * 1000;
	cf->tunnel_timeout = 3600 * 1000;
	cf->shutdown_timeout = 30 * 1000;
	cf->client_max_header_size = 32 * KIB;
	cf->client_max_uri_size = 8 * KIB;
	cf->client_max_body_size = 1024 * MIB;
	cf->backend_max_header_size = 32 * KIB;
	cf->client_max_header_fields = 100;
	cf->backend_max_header_fields = 100;
	cf->backend_keepalive = 256;
	cf->keepalive_requests = 10000;
	cf->http2_max_concurrent_streams = 100;
	cf->http2_initial_window_size = 65535;
	cf->http2_max_frame_size = 16384;
	cf->http2_max_header_list_size = 64 * KIB;
	cf->http2_max_glitches = 1000;
	cf->x_forwarded_for = true;
	cf->x_forwarded_proto = true;
	cf->tls_conf.protocols = CONF_TLS_V1_2 | CONF_TLS_V1_3;
	cf->tls_conf.alpn_len = sizeof(ALPN_DEFAULT) - 1;
	memcpy(cf->tls_conf.alpn, ALPN_DEFAULT, sizeof(ALPN_DEFAULT) - 1);
	cf->tls_conf.session_tickets = true;
	cf->tls_conf.handshake_timeout = 10 * 1000;
	if ((cf->error_log = strdup("stderr")) == NULL ||
	    (cf->path = strdup(path)) == NULL) {
		conf_free(cf);
		return NULL;
	}
	return cf;
}

static void
parser_fini(struct parser *p)
{
	size_t i;

	for (i = 0; p->pending != NULL && i < p->cf->nroutes; i++)
		free(p->pending[i].backend);
	free(p->pending);
	free(p->backend_file);
	free(p->listen_file);
}

/* The last line of TEXT: a final newline does not start another. */
static int
last_line(const char *text, size_t len)
{
	if (len > 0 && text[len - 1] == '\n')
		len--;
	return line_of(text, len);
}

static struct conf *
parse_main(const char *name, const char *text, size_t len, char **err)
{
	struct parser p;
	struct conf *cf;
	int rc = -1;

	memset(&p, 0, sizeof(p));
	if ((p.cf = cf = conf_new(name)) == NULL ||
	    (p.main_file = keep_name(&p, name)) == NULL) {
		conf_free(cf);
		*err = strdup("out of memory");
		return NULL;
	}
	p.main_last_line = last_line(text, len);
	if (parse_text(&p, p.main_file, text, len) == 0)
		rc = check_whole(&p);
	parser_fini(&p);
	*err = p.err;
	if (rc == 0)
		return cf;
	if (*err == NULL)
		*err = strdup("out of memory");
	conf_free(cf);
	return NULL;
}

struct conf *
conf_parse(const char *name, const char *text, char **err)
{
	return parse_main(name, text, strlen(text), err);
}

struct conf *
conf_load(const char *path, char **err)
{
	struct parser p;
	struct conf *cf;
	char *text;
	size_t len;

	memset(&p, 0, sizeof(p));
	*err = NULL;
	if (read_file(&p, path, 1, path, &text, &len) == -1) {
		*err = p.err != NULL ? p.err : strdup("out of memory");
		return NULL;
	}
	cf = parse_main(path, text, len, err);
	free(text);
	return cf;
}

struct conf *
conf_ref(struct conf *cf)
{
	__atomic_add_fetch(&cf->refs, 1, __ATOMIC_RELAXED);
	return cf;
}

void
conf_unref(struct conf *cf)
{
	if (cf == NULL)
		return;
	if (__atomic_sub_fetch(&cf->refs, 1, __ATOMIC_ACQ_REL) == 0)
		conf_free(cf);
}

/* Routing, per request: no allocation. */

static bool
host_eq(const char *a, const char *lower, size_t len)
{
	size_t i;
	char c;

	for (i = 0; i < len; i++) {
		c = a[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != lower[i])
			return false;
	}
	return true;
}

static bool
host_match(const char *pat, const char *host, size_t hostlen)
{
	size_t plen;

	if (pat[0] == '*' && pat[1] == '\0')
		return true;
	plen = strlen(pat);
	if (pat[0] == '*')      /* "*.x": ".x" ends HOST, with more before */
		return hostlen > plen - 1 &&
		    host_eq(host + hostlen - (plen - 1), pat + 1, plen - 1);
	return hostlen == plen && host_eq(host, pat, plen);
}

const struct conf_route *
conf_route_find(const struct conf *cf, const char *host, size_t hostlen,
    const char *path, size_t pathlen)
{
	const struct conf_route *r;
	size_t i, plen;

	if (hostlen > 0 && host[hostlen - 1] == '.')
		hostlen--;
	for (i = 0; i < cf->nroutes; i++) {
		r = &cf->routes[i];
		if (!host_match(r->host, host, hostlen))
			continue;
		plen = strlen(r->path);
		if (plen <= pathlen && memcmp(r->path, path, plen) == 0)
			return r;
	}
	return NULL;
}
