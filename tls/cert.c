/* tls/cert.c: reading a certificate and its key, and the names a
 * certificate answers for (which group certificates into sites). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "conf.h"
#include "tls_int.h"

void
cert_names_free(struct tls_site *s)
{
	size_t i;

	for (i = 0; i < s->nnames; i++)
		free(s->names[i]);
	free(s->names);
	s->names = NULL;
	s->nnames = 0;
}

static int
name_add(struct tls_site *s, const unsigned char *data, int len)
{
	char **names, *n;
	int i;

	if (len <= 0 || memchr(data, '\0', (size_t)len) != NULL)
		return 0;               /* not a name anyone can ask for */
	if ((n = strndup((const char *)data, (size_t)len)) == NULL)
		return -1;
	for (i = 0; i < len; i++)
		if (n[i] >= 'A' && n[i] <= 'Z')
			n[i] = (char)(n[i] - 'A' + 'a');
	if ((names = realloc(s->names, (s->nnames + 1) * sizeof(*names))) ==
	    NULL) {
		free(n);
		return -1;
	}
	s->names = names;
	names[s->nnames++] = n;
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The CN, for a certificate without DNS subjectAltNames. */
static int
cn_add(X509 *x, struct tls_site *s)
{
	X509_NAME *subj = X509_get_subject_name(x);
	const ASN1_STRING *cn;
	int i = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);

	if (i < 0)
		return 0;
	cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i));
	return name_add(s, ASN1_STRING_get0_data(cn), ASN1_STRING_length(cn));
}

/* X's names into S: sorted, without duplicates. */
int
cert_names(X509 *x, struct tls_site *s)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL,
	    NULL);
	const GENERAL_NAME *g;
	size_t i, j;
	int k, rc = 0;

	for (k = 0; rc == 0 && k < sk_GENERAL_NAME_num(gens); k++) {
		g = sk_GENERAL_NAME_value(gens, k);
		if (g->type == GEN_DNS)
			rc = name_add(s, ASN1_STRING_get0_data(g->d.dNSName),
			    ASN1_STRING_length(g->d.dNSName));
	}
	GENERAL_NAMES_free(gens);
	if (rc == 0 && s->nnames == 0)
		rc = cn_add(x, s);
	if (rc == -1 || s->nnames == 0)
		return rc;
	qsort(s->names, s->nnames, sizeof(*s->names), name_cmp);
	for (i = j = 1; i < s->nnames; i++) {
		if (strcmp(s->names[i], s->names[j - 1]) == 0)
			free(s->names[i]);
		else
			s->names[j++] = s->names[i];
	}
	s->nnames = j;
	return 0;
}

bool
cert_names_equal(const struct tls_site *a, const struct tls_site *b)
{
	size_t i;

	if (a->nnames != b->nnames)
		return false;
	for (i = 0; i < a->nnames; i++)
		if (strcmp(a->names[i], b->names[i]) != 0)
			return false;
	return true;
}

static int
no_password(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return -1;              /* never prompt: encrypted keys are refused */
}

int
cert_load(const struct conf_cert *c, X509 **x, char **err)
{
	FILE *f;

	if ((f = fopen(c->cert, "r")) == NULL)
		return tls_failf(err, &c->at, "cannot read \"%s\": %s", c->cert,
		    strerror(errno));
	*x = PEM_read_X509(f, NULL, no_password, NULL);
	fclose(f);
	if (*x == NULL)
		return tls_failf(err, &c->at, "\"%s\" is not a PEM certificate",
		    c->cert);
	return 0;
}

int
cert_load_key(const struct conf_cert *c, EVP_PKEY **pk, char **err)
{
	FILE *f;

	if ((f = fopen(c->key, "r")) == NULL)
		return tls_failf(err, &c->at, "cannot read \"%s\": %s", c->key,
		    strerror(errno));
	*pk = PEM_read_PrivateKey(f, NULL, no_password, NULL);
	fclose(f);
	if (*pk == NULL)
		return tls_failf(err, &c->at, "\"%s\" is not a PEM private key "
		    "(or is encrypted)", c->key);
	return 0;
}

static const char *
fmt_time(char *buf, size_t size, const ASN1_TIME *at)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(at, &tm) != 1 ||
	    strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, size, "an unreadable date");
	return buf;
}

/* Outside its validity a certificate still loads: the operator may be
 * about to replace it, and refusing would keep every site down. */
void
cert_warn_dates(const struct conf_cert *c, X509 *x)
{
	const ASN1_TIME *before = X509_get0_notBefore(x);
	const ASN1_TIME *after = X509_get0_notAfter(x);
	char date[64];

	if (X509_cmp_current_time(after) < 0)
		tls_warnf(&c->at, "certificate \"%s\" expired on %s", c->cert,
		    fmt_time(date, sizeof(date), after));
	else if (X509_cmp_current_time(before) > 0)
		tls_warnf(&c->at, "certificate \"%s\" is not valid before %s",
		    c->cert, fmt_time(date, sizeof(date), before));
}
