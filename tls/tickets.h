/* tls/tickets.h: session ticket keys, shared by every worker and kept
 * across a reload: the current key encrypts, the previous one decrypts. */
#ifndef PORTICO_TICKETS_H
#define PORTICO_TICKETS_H

#include <openssl/types.h>

struct tls_tickets;

/* One fresh current key, no previous one; NULL when out of memory or
 * randomness.  Refcounted: each struct tls using the keys holds one. */
struct tls_tickets *tickets_new(void);
struct tls_tickets *tickets_ref(struct tls_tickets *tk);    /* returns tk */
void tickets_unref(struct tls_tickets *tk);     /* frees at zero; NULL ok */
/* The current key becomes the previous one, a new one the current.  Any
 * thread; on failure (no randomness) logs and keeps the keys. */
void tickets_rotate(struct tls_tickets *tk);
/* The work of OpenSSL's ticket key callback (the _evp_cb): ENC 1 sets up
 * a new ticket under the current key, 1 or -1; ENC 0 finds the key NAME:
 * 1 current, 2 previous (OpenSSL then issues a new ticket), 0 unknown. */
int tickets_key(struct tls_tickets *tk, unsigned char *name,
    unsigned char *iv, EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc);

#endif
