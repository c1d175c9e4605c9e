/* config/conf_directives.c: the one table of directives (CONF_DIRECTIVES)
 * and their handlers.
 *
 * Each statement is looked up in the table, which gives its handler,
 * argument count and where it may appear; the same table gives
 * conf_directive_names, so the man page check sees what the parser knows.
 * The tls block keeps paths and OpenSSL lists as written, with their file
 * and line, so that tls_load can read the files and report FILE:LINE later.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include <grp.h>
#include <pwd.h>

#include "conf_int.h"

static directive_fn run_workers, run_listen, run_backend, run_server;
static directive_fn run_route, run_access_log, run_error_log;
static directive_fn run_user, run_group;
static directive_fn set_timeout, set_size, set_size64, set_count, set_flag;
static directive_fn set_age, set_count_auto;
static directive_fn run_tls, run_certificate, run_protocols, run_alpn;
static directive_fn run_hsts, run_trusted;
static directive_fn set_value;

#define M       IN_MAIN
#define MB      (IN_MAIN | IN_BACKEND)
#define TLS_V(n) set_value, 1, 1, IN_TLS, OFF(tls_conf.n), 0, 0
#define T(n)    set_timeout, 1, 1, M, OFF(n), 0, 0
#define F(n)    set_flag, 1, 1, M, OFF(n), 0, 0
/* directives: begin (tests/man_check.sh reads the names between markers) */
#define CONF_DIRECTIVES(X) \
	X("workers", run_workers, 1, 1, M, 0, 0, 0) \
	X("listen", run_listen, 1, 4, M | IS_MULTI, 0, 0, 0) \
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
	X("hsts", run_hsts, 1, 3, IN_TLS, 0, 0, 0) \
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
	    1, 1000000) \
	X("trusted_proxies", run_trusted, 1, STMT_MAX - 1, M, 0, 0, 0)
/* directives: end */

#define AS_ROW(name, ...)       { name, __VA_ARGS__ },
#define AS_NAME(name, ...)      name,
static const struct directive directives[] = { CONF_DIRECTIVES(AS_ROW) };
const char *const conf_directive_names[] = { CONF_DIRECTIVES(AS_NAME) NULL };
#define NDIRECTIVES     (sizeof(directives) / sizeof(directives[0]))
_Static_assert(NDIRECTIVES <= CONF_NDIRECTIVES_MAX,
    "struct parser has room for every directive");

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
		else if (strcmp(st->argv[i], "proxy_protocol") == 0)
			tmp.is_proxy_protocol = true;
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

/* trusted_proxies RANGE...: addresses, ranges, or "unix". */
static int
run_trusted(struct parser *p, const struct directive *d, struct stmt *st)
{
	struct conf *cf = p->cf;
	const char *why;
	int w;

	(void)d;
	free(cf->trusted);
	if ((cf->trusted = calloc((size_t)st->nwords, sizeof(*cf->trusted)))
	    == NULL)
		return fail(p, st, "out of memory");
	cf->ntrusted = 0;
	cf->has_trusted = true;
	for (w = 1; w < st->nwords; w++) {
		if (strcmp(st->argv[w], "unix") == 0) {
			cf->trusts_unix = true;
			continue;
		}
		if (conf_cidr_parse(&cf->trusted[cf->ntrusted], st->argv[w],
		    &why) == -1)
			return fail(p, st, "trusted_proxies \"%s\": %s",
			    st->argv[w], why);
		cf->ntrusted++;
	}
	return 0;
}

/* Seconds, for hsts: a plain number, or with s, m, h or d. */
static int
hsts_seconds(const char *s, uint64_t *secs)
{
	static const struct { const char *unit; uint64_t mult; } units[] = {
		{ "", 1 }, { "s", 1 }, { "m", 60 }, { "h", 3600 },
		{ "d", 86400 },
	};
	uint64_t v = 0;
	size_t i;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	for (i = 0; i < NELEMS(units); i++)
		if (strcmp(s, units[i].unit) == 0)
			break;
	if (i == NELEMS(units) || v > UINT32_MAX / units[i].mult)
		return -1;
	*secs = v * units[i].mult;
	return 0;
}

/* hsts DURATION [includeSubDomains] [preload], or hsts off. RFC 6797
 * §6.1; preload as hstspreload.org takes it: includeSubDomains and a
 * year at least. */
static int
run_hsts(struct parser *p, const struct directive *d, struct stmt *st)
{
	struct conf_tls *tc = &p->cf->tls_conf;
	bool sub = false, preload = false;
	uint64_t secs;
	int w;

	(void)d;
	if (strcmp(st->argv[1], "off") == 0 && st->nwords == 2) {
		tc->hsts[0] = '\0';
		return 0;
	}
	if (hsts_seconds(st->argv[1], &secs) == -1)
		return fail(p, st, "invalid hsts max-age \"%s\": use a duration "
		    "such as 365d, or off", st->argv[1]);
	for (w = 2; w < st->nwords; w++) {
		bool *flag = strcasecmp(st->argv[w], "includeSubDomains") == 0 ?
		    &sub : strcasecmp(st->argv[w], "preload") == 0 ? &preload :
		    NULL;

		if (flag == NULL)
			return fail(p, st, "unknown hsts option \"%s\": use "
			    "includeSubDomains or preload", st->argv[w]);
		if (*flag)
			return fail(p, st, "duplicate hsts option \"%s\"",
			    st->argv[w]);
		*flag = true;
	}
	if (preload && (!sub || secs < 365 * 86400))
		return fail(p, st, "hsts preload needs includeSubDomains and a "
		    "max-age of 365d or more");
	snprintf(tc->hsts, sizeof(tc->hsts), "max-age=%llu%s%s",
	    (unsigned long long)secs, sub ? "; includeSubDomains" : "",
	    preload ? "; preload" : "");
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

size_t
directive_index(const char *name)
{
	return (size_t)(directive_find(name) - directives);
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

int
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

