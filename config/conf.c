/* config/conf.c: the configuration file, from bytes to struct conf.
 *
 * The parts: conf_lex.c turns each file into statements; conf_directives.c
 * holds the table of directives and their handlers; conf_value.c parses
 * sizes, durations and addresses. This file reads files, parses a block
 * (a statement ended by "{" opens one that runs to the matching "}"), runs
 * the checks that need the whole file (routes to backends defined later, a
 * listen, a catch-all route, a certificate for tls listeners, uri vs header
 * size) and owns the conf's lifetime. "include" parses other files in
 * place, in the current context. The first error stops everything; the
 * parser and the half-built conf are then freed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* asprintf */
#endif
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "conf_int.h"

static int parse_text(struct parser *p, const char *file, const char *text,
    size_t len);

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
char *
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

int
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

/* Statements up to the end of the file, or up to "}" when IN_BLOCK. */
int
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
	size_t uri = directive_index("client_max_uri_size");
	size_t head = directive_index("client_max_header_size");
	size_t at = p->seen_line[uri] != 0 ? uri : head;
	size_t ini = directive_index("client_header_initial_timeout");
	size_t ht = directive_index("client_header_timeout");
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
	free(cf->trusted);
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
