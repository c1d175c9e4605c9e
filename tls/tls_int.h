/* tls/tls_int.h: what tls.c and cert.c share; only tls/ includes it. */
#ifndef PORTICO_TLS_INT_H
#define PORTICO_TLS_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "conf.h"

#define SITE_MAX_KEYS   4       /* RSA, RSA-PSS, EC, Ed25519 */

/* One certificate of a site: its key type, and where it was configured. */
struct site_key {
	int type;                       /* EVP_PKEY_RSA, EVP_PKEY_EC, ... */
	struct conf_at at;
};

struct tls_site {
	SSL_CTX *ctx;
	char **names;                   /* lower case, sorted, distinct */
	size_t nnames;
	struct site_key keys[SITE_MAX_KEYS];
	size_t nkeys;
};

/* Sets *err to "FILE:LINE: message"; returns -1. */
int tls_failf(char **err, const struct conf_at *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "FILE:LINE: warning: message" on stderr, where portico -t shows it. */
void tls_warnf(const struct conf_at *at, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* cert.c */
/* Frees S's names (S itself stays). */
void cert_names_free(struct tls_site *s);
/* X's DNS subjectAltNames (or its CN) into S: lower case, sorted,
 * distinct. -1: out of memory. */
int cert_names(X509 *x, struct tls_site *s);
/* Whether A and B answer for the same names. */
bool cert_names_equal(const struct tls_site *a, const struct tls_site *b);
/* C's certificate / private key (never prompting for a password); -1
 * with *err "FILE:LINE: ...". */
int cert_load(const struct conf_cert *c, X509 **x, char **err);
int cert_load_key(const struct conf_cert *c, EVP_PKEY **pk, char **err);
/* Warns (never fails) when X is outside its validity. */
void cert_warn_dates(const struct conf_cert *c, X509 *x);

#endif
