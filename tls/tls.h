/* tls/tls.h: the server's TLS contexts: one SSL_CTX per certificate name
 * set, SNI and ALPN selection, protocol policy, session ticket keys. */
#ifndef PORTICO_TLS_H
#define PORTICO_TLS_H

#include <stdbool.h>

struct conf;
struct tls;                     /* a conf's contexts, freed with the conf */
struct tls_tickets;             /* ticket keys, shared across reloads */
typedef struct ssl_st SSL;

/* How often the main thread should call tls_rotate_tickets(). */
#define TLS_TICKET_ROTATE_SECONDS 3600

/* Builds the SSL_CTXs for cf's tls block and attaches them: cf->tls, freed
 * by conf_unref through cf->tls_free.  Main thread, once per conf, before
 * workers see it.  No tls listener and no tls block: 0, cf->tls NULL.
 * -1 with a malloc'd *err "FILE:LINE: what is wrong": an unreadable file,
 * not a PEM certificate or key, a key that does not match, a policy list
 * OpenSSL refuses.  Warnings (certificate expired or not yet valid, weak
 * protocol or cipher asked for) go to stderr as "FILE:LINE: warning: ...". */
int tls_load(struct conf *cf, char **err);
/* The same, but the new contexts use OLD's ticket keys (NULL: new keys),
 * so sessions resume across a reload. */
int tls_load_keep_tickets(struct conf *cf, struct tls *old, char **err);
void tls_free(struct tls *t);           /* NULL ok; conf_unref calls it */

/* A server-side SSL for one accepted connection, from the default context;
 * SNI may switch it to another of t's contexts.  NULL when out of memory.
 * The SSL must not outlive the conf that holds t. */
SSL *tls_ssl_new(const struct tls *t);

enum tls_alpn {
	TLS_ALPN_NONE = 0,      /* handshake not finished */
	TLS_ALPN_HTTP11,        /* "http/1.1", or the client sent no ALPN */
	TLS_ALPN_H2,            /* "h2" */
};
enum tls_alpn tls_alpn(const SSL *ssl);         /* after the handshake */
const char *tls_version(const SSL *ssl);        /* "TLSv1.3" */

/* Ticket keys: the current one encrypts, the previous one still decrypts.
 * Called by the main thread on a timer; workers read the keys under a
 * read lock, so rotation never stops a handshake for long. */
void tls_rotate_tickets(struct tls *t);
struct tls_tickets *tls_tickets(struct tls *t); /* borrowed */

/* After a failed handshake: logs one info line with CLIENT and the reason
 * from this thread's OpenSSL error queue (then cleared), and counts it. */
void tls_handshake_failed(SSL *ssl, const char *client);
unsigned long tls_handshake_failures(void);     /* since start, all threads */

/* A certificate name PATTERN against a host NAME: exact or "*." wildcard
 * for exactly one label, case-insensitive, one trailing dot ignored. */
bool tls_name_matches(const char *pattern, const char *name);

#endif
