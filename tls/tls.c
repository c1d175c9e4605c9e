/* tls/tls.c: the SSL_CTXs built from the tls block.
 *
 * Certificates are grouped by their names (the DNS subjectAltNames, or the
 * CN when there is none): one SSL_CTX, a "site", per distinct set of names,
 * holding every certificate of that set, one per key type, so that OpenSSL
 * picks RSA or ECDSA by the client's signature algorithms.  sites[0] holds
 * the first certificate and serves clients that send no SNI or a name that
 * matches nothing.  The servername callback moves an SSL to the site whose
 * names match, an exact name before a wildcard.
 *
 * Every context gets the same policy, callbacks and session id context:
 * after SSL_set_SSL_CTX, OpenSSL reads some settings from the context the
 * SSL started on (ticket keys, session cache) and others from the one it
 * moved to (ALPN, certificates).
 *
 * Ticket keys (tickets.c) are refcounted, so that a reload can hand them
 * on to the next struct tls.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* asprintf, vasprintf */
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "conf.h"
#include "log.h"
#include "tickets.h"
#include "tls.h"
#include "tls_int.h"

/* DESIGN "TLS defaults": ECDHE key exchange and AEAD only, ECDSA first
 * (cheaper to sign), X25519 first. */
#define CIPHERS_DEFAULT \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define CIPHERSUITES_DEFAULT \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:" \
	"TLS_CHACHA20_POLY1305_SHA256"
#define GROUPS_DEFAULT  "X25519:P-256:P-384"
#define SESSION_ID_CTX  "portico"

struct tls {
	struct tls_site *sites;         /* sites[0]: no SNI or no match */
	size_t nsites;
	struct tls_tickets *tickets;
	unsigned char alpn[16];         /* wire format, our preference */
	size_t alpn_len;
};

static unsigned long handshake_failures;        /* atomic */

int
tls_failf(char **err, const struct conf_at *at, const char *fmt, ...)
{
	char *msg;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&msg, fmt, ap);
	va_end(ap);
	*err = NULL;
	if (rc != -1 && asprintf(err, "%s:%d: %s", at->file, at->line,
	    msg) == -1)
		*err = NULL;
	if (rc != -1)
		free(msg);
	if (*err == NULL)
		*err = strdup("out of memory");
	return -1;
}

void
tls_warnf(const struct conf_at *at, const char *fmt, ...)
{
	char *msg;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (rc == -1)
		return;
	fprintf(stderr, "%s:%d: warning: %s\n", at->file, at->line, msg);
	free(msg);
}

/* The reason of the oldest error on this thread's OpenSSL queue. */
static const char *
ssl_reason(void)
{
	const char *r = ERR_reason_error_string(ERR_peek_error());

	return r != NULL ? r : "unknown error";
}

/* Session tickets: the keys and their use are in tickets.c. */

static int
on_ticket_key(SSL *ssl, unsigned char *name, unsigned char *iv,
    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	struct tls *t = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));

	return tickets_key(t->tickets, name, iv, cctx, hctx, enc);
}

/* SNI and ALPN */

bool
tls_name_matches(const char *pattern, const char *name)
{
	size_t plen = strlen(pattern), nlen = strlen(name);
	const char *dot;

	if (nlen > 0 && name[nlen - 1] == '.')
		nlen--;
	if (nlen == 0 || plen == 0)
		return false;
	if (plen > 2 && pattern[0] == '*' && pattern[1] == '.') {
		/* "*.a.test": one non-empty label, then ".a.test". */
		if ((dot = memchr(name, '.', nlen)) == NULL || dot == name)
			return false;
		return (size_t)(name + nlen - dot) == plen - 1 &&
		    strncasecmp(dot, pattern + 1, plen - 1) == 0;
	}
	return plen == nlen && strncasecmp(pattern, name, nlen) == 0;
}

static const struct tls_site *
site_find(const struct tls *t, const char *name, bool wildcard)
{
	const struct tls_site *s;
	size_t i, j;

	for (i = 0; i < t->nsites; i++) {
		s = &t->sites[i];
		for (j = 0; j < s->nnames; j++)
			if ((s->names[j][0] == '*') == wildcard &&
			    tls_name_matches(s->names[j], name))
				return s;
	}
	return NULL;
}

/* The site for the client's server NAME (NULL: none sent). */
static const struct tls_site *
site_pick(const struct tls *t, const char *name)
{
	const struct tls_site *s;

	if (name == NULL)
		return &t->sites[0];
	if ((s = site_find(t, name, false)) != NULL ||
	    (s = site_find(t, name, true)) != NULL)
		return s;
	return &t->sites[0];
}

/* Moves SSL to the site its SNI asks for; -1 if OpenSSL refused. */
static int
use_site(SSL *ssl, const struct tls *t)
{
	const struct tls_site *s;

	s = site_pick(t, SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name));
	if (s->ctx == SSL_get_SSL_CTX(ssl))
		return 0;
	if (SSL_set_SSL_CTX(ssl, s->ctx) == NULL)
		return -1;
	SSL_set_options(ssl, SSL_CTX_get_options(s->ctx));
	return 0;
}

static int
on_servername(SSL *ssl, int *alert, void *arg)
{
	if (use_site(ssl, arg) == 0)
		return SSL_TLSEXT_ERR_OK;
	*alert = SSL_AD_INTERNAL_ERROR;
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* The first of our protocols that the client offers (server preference):
 * 0 with *out pointing into IN, or -1 when none is. */
static int
alpn_pick(const struct tls *t, const unsigned char *in, unsigned inlen,
    const unsigned char **out, unsigned char *outlen)
{
	const unsigned char *ours;
	size_t i, j;

	for (i = 0; i < t->alpn_len; i += 1 + (size_t)t->alpn[i]) {
		ours = t->alpn + i;
		for (j = 0; j < inlen && j + 1 + in[j] <= inlen;
		    j += 1 + (size_t)in[j])
			if (in[j] == ours[0] &&
			    memcmp(in + j + 1, ours + 1, ours[0]) == 0) {
				*out = in + j + 1;
				*outlen = in[j];
				return 0;
			}
	}
	return -1;
}

/* Only called when the client sent ALPN; none of ours: RFC 7301 §3.2,
 * the no_application_protocol alert, which OpenSSL sends for FATAL. */
static int
on_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned inlen, void *arg)
{
	(void)ssl;
	if (alpn_pick(arg, in, inlen, out, outlen) == 0)
		return SSL_TLSEXT_ERR_OK;
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* Policy */

static const struct {
	unsigned bit;
	int version;
	const char *name;
} versions[] = {
	{ CONF_TLS_V1_0, TLS1_VERSION, "TLSv1" },
	{ CONF_TLS_V1_1, TLS1_1_VERSION, "TLSv1.1" },
	{ CONF_TLS_V1_2, TLS1_2_VERSION, "TLSv1.2" },
	{ CONF_TLS_V1_3, TLS1_3_VERSION, "TLSv1.3" },
};
#define NVERSIONS (sizeof(versions) / sizeof(versions[0]))
#define WEAK_VERSIONS (CONF_TLS_V1_0 | CONF_TLS_V1_1)

/* conf.c made PROTOCOLS one range of versions. */
static void
set_versions(SSL_CTX *ctx, const struct conf_tls *tc, bool warn)
{
	int lo = 0, hi = 0;
	size_t i;

	for (i = 0; i < NVERSIONS; i++) {
		if (!(tc->protocols & versions[i].bit))
			continue;
		if (lo == 0)
			lo = versions[i].version;
		hi = versions[i].version;
		if (warn && (versions[i].bit & WEAK_VERSIONS))
			tls_warnf(&tc->protocols_at, "protocol %s is deprecated "
			    "(RFC 8996)", versions[i].name);
	}
	SSL_CTX_set_min_proto_version(ctx, lo);
	SSL_CTX_set_max_proto_version(ctx, hi);
	/* OpenSSL 3 refuses TLS 1.0 and 1.1 above security level 0. */
	if (tc->protocols & WEAK_VERSIONS)
		SSL_CTX_set_security_level(ctx, 0);
}

/* Why a TLS 1.2 suite fails DESIGN "TLS defaults", or NULL. */
static const char *
cipher_weakness(const SSL_CIPHER *c)
{
	int kx = SSL_CIPHER_get_kx_nid(c);

	if (kx == NID_kx_rsa)
		return "static RSA key exchange";
	if (kx != NID_kx_ecdhe && kx != NID_kx_dhe)
		return "no ECDHE or DHE key exchange";
	if (SSL_CIPHER_get_auth_nid(c) == NID_auth_null)
		return "no authentication";
	if (SSL_CIPHER_is_aead(c))
		return NULL;
	if (SSL_CIPHER_get_digest_nid(c) == NID_sha1)
		return "CBC mode, SHA-1 MAC";
	return "CBC mode";
}

/* Counts the TLS 1.3 suites (kx "any") and the others; warns about weak
 * ones when WARN. */
static void
count_ciphers(SSL_CTX *ctx, const struct conf_tls *tc, bool warn,
    int *n13, int *n12)
{
	STACK_OF(SSL_CIPHER) *sk = SSL_CTX_get_ciphers(ctx);
	const SSL_CIPHER *c;
	const char *why;
	int i;

	*n13 = *n12 = 0;
	for (i = 0; i < sk_SSL_CIPHER_num(sk); i++) {
		c = sk_SSL_CIPHER_value(sk, i);
		if (SSL_CIPHER_get_kx_nid(c) == NID_kx_any) {
			(*n13)++;
			continue;
		}
		(*n12)++;
		if (warn && (why = cipher_weakness(c)) != NULL)
			tls_warnf(&tc->ciphers.at, "cipher %s is weak: %s",
			    SSL_CIPHER_get_name(c), why);
	}
}

/* Where a list came from: its line, or the tls block for a default. */
static const struct conf_at *
value_at(const struct conf_tls *tc, const struct conf_value *v)
{
	return v->value != NULL ? &v->at : &tc->at;
}

static int
set_lists(SSL_CTX *ctx, const struct conf_tls *tc, bool warn, char **err)
{
	const char *c12 = tc->ciphers.value ? tc->ciphers.value :
	    CIPHERS_DEFAULT;
	const char *c13 = tc->ciphersuites.value ? tc->ciphersuites.value :
	    CIPHERSUITES_DEFAULT;
	const char *g = tc->groups.value ? tc->groups.value : GROUPS_DEFAULT;
	int n13, n12;

	if (SSL_CTX_set_cipher_list(ctx, c12) != 1 &&
	    (tc->protocols & ~CONF_TLS_V1_3))
		return tls_failf(err, value_at(tc, &tc->ciphers),
		    "no usable cipher in \"%s\"", c12);
	if (SSL_CTX_set_ciphersuites(ctx, c13) != 1)
		return tls_failf(err, value_at(tc, &tc->ciphersuites),
		    "invalid ciphersuites \"%s\"", c13);
	count_ciphers(ctx, tc, warn && tc->ciphers.value != NULL, &n13, &n12);
	if (n12 == 0 && (tc->protocols & ~CONF_TLS_V1_3))
		return tls_failf(err, value_at(tc, &tc->ciphers),
		    "no usable cipher in \"%s\"", c12);
	if (n13 == 0 && (tc->protocols & CONF_TLS_V1_3))
		return tls_failf(err, value_at(tc, &tc->ciphersuites),
		    "no usable TLS 1.3 ciphersuite in \"%s\"", c13);
	if (SSL_CTX_set1_groups_list(ctx, g) != 1)
		return tls_failf(err, value_at(tc, &tc->groups),
		    "invalid groups \"%s\"", g);
	return 0;
}

/* One site's context: the policy, then every callback (see the top). */
static SSL_CTX *
ctx_new(struct tls *t, const struct conf_tls *tc, bool warn, char **err)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_failf(err, &tc->at, "cannot make a TLS context: %s",
		    ssl_reason());
		return NULL;
	}
	set_versions(ctx, tc, warn);
	if (set_lists(ctx, tc, warn, err) == -1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
	    (tc->session_tickets ? 0 : SSL_OP_NO_TICKET));
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
	/* A client's FIN without close_notify is its half-close, as a
	 * close_notify is (sock.c reads both as EOF): a request it sent
	 * whole is still answered. Without this OpenSSL 3 makes it a fatal
	 * error, and nothing more could be written. */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_id_context(ctx,
	    (const unsigned char *)SESSION_ID_CTX, sizeof(SESSION_ID_CTX) - 1);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	/* As long as the two ticket keys that may decrypt a session last. */
	SSL_CTX_set_timeout(ctx, 2 * TLS_TICKET_ROTATE_SECONDS);
	SSL_CTX_set_app_data(ctx, t);
	SSL_CTX_set_tlsext_servername_callback(ctx, on_servername);
	SSL_CTX_set_tlsext_servername_arg(ctx, t);
	SSL_CTX_set_alpn_select_cb(ctx, on_alpn, t);
	if (tc->session_tickets)
		SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, on_ticket_key);
	/* TLS 1.3: one ticket a handshake, not OpenSSL's two */
	SSL_CTX_set_num_tickets(ctx, 1);
	return ctx;
}

/* The site for NAMES, made (and NAMES moved into it) if it is new. */
static struct tls_site *
site_get(struct tls *t, struct tls_site *names, const struct conf *cf,
    char **err)
{
	struct tls_site *s;
	size_t i;

	for (i = 0; i < t->nsites; i++)
		if (cert_names_equal(&t->sites[i], names))
			return &t->sites[i];
	if ((s = realloc(t->sites, (t->nsites + 1) * sizeof(*s))) == NULL) {
		tls_failf(err, &cf->tls_conf.at, "out of memory");
		return NULL;
	}
	t->sites = s;
	s += t->nsites;
	memset(s, 0, sizeof(*s));
	if ((s->ctx = ctx_new(t, &cf->tls_conf, t->nsites == 0, err)) == NULL)
		return NULL;
	t->nsites++;
	s->names = names->names;
	s->nnames = names->nnames;
	names->names = NULL;
	names->nnames = 0;
	return s;
}

/* Adds C's certificate (and chain) and key PK to site S. */
static int
site_use(struct tls_site *s, const struct conf_cert *c, EVP_PKEY *pk,
    char **err)
{
	const struct site_key *k;
	int type = EVP_PKEY_get_base_id(pk);
	size_t i;

	for (i = 0; i < s->nkeys; i++) {
		k = &s->keys[i];
		if (k->type != type)
			continue;
		if (strcmp(k->at.file, c->at.file) == 0)
			return tls_failf(err, &c->at, "certificate \"%s\" has the "
			    "names and key type of the one at line %d",
			    c->cert, k->at.line);
		return tls_failf(err, &c->at, "certificate \"%s\" has the names "
		    "and key type of the one at %s:%d", c->cert, k->at.file,
		    k->at.line);
	}
	if (s->nkeys == SITE_MAX_KEYS)
		return tls_failf(err, &c->at, "too many certificates for the "
		    "same names");
	if (SSL_CTX_use_certificate_chain_file(s->ctx, c->cert) != 1)
		return tls_failf(err, &c->at, "cannot use certificate \"%s\": %s",
		    c->cert, ssl_reason());
	if (SSL_CTX_use_PrivateKey(s->ctx, pk) != 1)
		return tls_failf(err, &c->at, "cannot use key \"%s\": %s", c->key,
		    ssl_reason());
	s->keys[s->nkeys].type = type;
	s->keys[s->nkeys++].at = c->at;
	return 0;
}

static int
cert_add(struct tls *t, const struct conf *cf, const struct conf_cert *c,
    char **err)
{
	struct tls_site names = { 0 }, *s;
	X509 *x = NULL;
	EVP_PKEY *pk = NULL;
	int rc = -1;

	if (cert_load(c, &x, err) == -1 || cert_load_key(c, &pk, err) == -1)
		goto out;
	if (X509_check_private_key(x, pk) != 1) {
		tls_failf(err, &c->at, "key \"%s\" does not match certificate "
		    "\"%s\"", c->key, c->cert);
		goto out;
	}
	cert_warn_dates(c, x);
	if (cert_names(x, &names) == -1) {
		tls_failf(err, &c->at, "out of memory");
		goto out;
	}
	if ((s = site_get(t, &names, cf, err)) != NULL &&
	    site_use(s, c, pk, err) == 0)
		rc = 0;
out:
	cert_names_free(&names);
	EVP_PKEY_free(pk);
	X509_free(x);
	ERR_clear_error();
	return rc;
}

/* The public face */

void
tls_free(struct tls *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nsites; i++) {
		SSL_CTX_free(t->sites[i].ctx);
		cert_names_free(&t->sites[i]);
	}
	free(t->sites);
	tickets_unref(t->tickets);
	free(t);
}

int
tls_load_keep_tickets(struct conf *cf, struct tls *old, char **err)
{
	const struct conf_tls *tc = &cf->tls_conf;
	struct tls *t;
	size_t i;

	*err = NULL;
	if (tc->ncerts == 0)    /* conf.c: then no tls listener either */
		return 0;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return tls_failf(err, &tc->at, "out of memory");
	memcpy(t->alpn, tc->alpn, tc->alpn_len);
	t->alpn_len = tc->alpn_len;
	if (old != NULL)
		t->tickets = tickets_ref(old->tickets);
	else if ((t->tickets = tickets_new()) == NULL) {
		tls_free(t);
		return tls_failf(err, &tc->at, "cannot make session ticket keys");
	}
	for (i = 0; i < tc->ncerts; i++)
		if (cert_add(t, cf, &tc->certs[i], err) == -1) {
			tls_free(t);
			return -1;
		}
	cf->tls = t;
	cf->tls_free = tls_free;
	return 0;
}

int
tls_load(struct conf *cf, char **err)
{
	return tls_load_keep_tickets(cf, NULL, err);
}

SSL *
tls_ssl_new(const struct tls *t)
{
	return SSL_new(t->sites[0].ctx);
}

enum tls_alpn
tls_alpn(const SSL *ssl)
{
	const unsigned char *p;
	unsigned len;

	SSL_get0_alpn_selected(ssl, &p, &len);
	if (len == 2 && memcmp(p, "h2", 2) == 0)
		return TLS_ALPN_H2;
	if (len > 0 || SSL_is_init_finished(ssl))
		return TLS_ALPN_HTTP11;         /* RFC 7301: no ALPN, h1 */
	return TLS_ALPN_NONE;
}

const char *
tls_version(const SSL *ssl)
{
	return SSL_get_version(ssl);
}

void
tls_rotate_tickets(struct tls *t)
{
	tickets_rotate(t->tickets);
}

struct tls_tickets *
tls_tickets(struct tls *t)
{
	return t->tickets;
}

/* The client's server name, if it is safe to log. */
static const char *
printable_sni(const SSL *ssl)
{
	const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	const char *c;

	for (c = sni; c != NULL && *c != '\0'; c++)
		if (*c <= ' ' || *c > '~')
			return "(unprintable name)";
	return sni;
}

void
tls_handshake_failed(SSL *ssl, const char *client)
{
	const char *sni = printable_sni(ssl);
	unsigned long e = ERR_peek_error();
	const char *why = ERR_reason_error_string(e);
	char buf[64];

	if (e == 0)
		why = "connection closed";
	else if (why == NULL) {
		snprintf(buf, sizeof(buf), "error %lx", e);
		why = buf;
	}
	__atomic_add_fetch(&handshake_failures, 1, __ATOMIC_RELAXED);
	log_msg(LOG_INFO, "tls handshake from %s%s%s failed: %s", client,
	    sni != NULL ? " for " : "", sni != NULL ? sni : "", why);
	ERR_clear_error();
}

unsigned long
tls_handshake_failures(void)
{
	return __atomic_load_n(&handshake_failures, __ATOMIC_RELAXED);
}
