/* tls/tickets.c: session ticket keys (RFC 5077; TLS 1.3 tickets too).
 *
 * A ticket is the session state, encrypted with AES-256-CBC and
 * authenticated with HMAC-SHA256 by OpenSSL, under keys that only portico
 * knows; every worker shares them, so a ticket from one worker resumes on
 * any other.  The main thread rotates them under the write lock; a
 * handshake copies one key under the read lock, never holding it while
 * OpenSSL works.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "log.h"
#include "tickets.h"

struct tls_key {
	unsigned char name[16];         /* in each ticket: which key */
	unsigned char aes[32];          /* AES-256-CBC */
	unsigned char hmac[32];         /* HMAC-SHA256 */
};

struct tls_tickets {
	pthread_rwlock_t lock;          /* write: rotation; read: handshakes */
	struct tls_key cur;             /* encrypts and decrypts */
	struct tls_key prev;            /* decrypts, then the ticket renews */
	bool has_prev;
	EVP_CIPHER *cipher;             /* fetched once */
	int refs;                       /* atomic: one per struct tls */
};

static int
key_make(struct tls_key *k)
{
	return RAND_bytes(k->name, sizeof(k->name)) == 1 &&
	    RAND_priv_bytes(k->aes, sizeof(k->aes)) == 1 &&
	    RAND_priv_bytes(k->hmac, sizeof(k->hmac)) == 1 ? 0 : -1;
}

struct tls_tickets *
tickets_new(void)
{
	struct tls_tickets *tk;

	if ((tk = calloc(1, sizeof(*tk))) == NULL)
		return NULL;
	if (pthread_rwlock_init(&tk->lock, NULL) != 0)
		goto fail_tk;
	if ((tk->cipher = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL)) == NULL)
		goto fail_lock;
	if (key_make(&tk->cur) == -1)
		goto fail_cipher;
	tk->refs = 1;
	return tk;

fail_cipher:
	EVP_CIPHER_free(tk->cipher);
fail_lock:
	pthread_rwlock_destroy(&tk->lock);
fail_tk:
	free(tk);
	return NULL;
}

struct tls_tickets *
tickets_ref(struct tls_tickets *tk)
{
	__atomic_add_fetch(&tk->refs, 1, __ATOMIC_RELAXED);
	return tk;
}

void
tickets_unref(struct tls_tickets *tk)
{
	if (tk == NULL || __atomic_sub_fetch(&tk->refs, 1, __ATOMIC_ACQ_REL))
		return;
	EVP_CIPHER_free(tk->cipher);
	pthread_rwlock_destroy(&tk->lock);
	OPENSSL_cleanse(tk, sizeof(*tk));
	free(tk);
}

void
tickets_rotate(struct tls_tickets *tk)
{
	struct tls_key k;

	if (key_make(&k) == -1) {
		log_msg(LOG_ERR, "tls: no random bytes for a new ticket key; "
		    "keeping the current one");
		return;
	}
	pthread_rwlock_wrlock(&tk->lock);
	tk->prev = tk->cur;
	tk->has_prev = true;
	tk->cur = k;
	pthread_rwlock_unlock(&tk->lock);
	OPENSSL_cleanse(&k, sizeof(k));
}

static int
hmac_init(EVP_MAC_CTX *hctx, struct tls_key *k)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, k->hmac,
		    sizeof(k->hmac)),
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
		    (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};

	return EVP_MAC_CTX_set_params(hctx, params) == 1 ? 0 : -1;
}

/* A new ticket: the current key, a fresh IV.  1 done, -1 error. */
static int
encrypt_key(struct tls_tickets *tk, unsigned char *name,
    unsigned char *iv, EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx)
{
	struct tls_key k;
	int rc = -1;

	pthread_rwlock_rdlock(&tk->lock);
	k = tk->cur;
	pthread_rwlock_unlock(&tk->lock);
	if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(tk->cipher)) == 1 &&
	    EVP_EncryptInit_ex(cctx, tk->cipher, NULL, k.aes, iv) == 1 &&
	    hmac_init(hctx, &k) == 0) {
		memcpy(name, k.name, sizeof(k.name));
		rc = 1;
	}
	OPENSSL_cleanse(&k, sizeof(k));
	return rc;
}

/* A ticket the client sent: 1 current key, 2 previous key (OpenSSL then
 * issues a new ticket), 0 unknown key (full handshake), -1 error. */
static int
decrypt_key(struct tls_tickets *tk, const unsigned char *name,
    unsigned char *iv, EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx)
{
	struct tls_key k;
	int rc = 0;

	pthread_rwlock_rdlock(&tk->lock);
	if (memcmp(name, tk->cur.name, sizeof(k.name)) == 0) {
		k = tk->cur;
		rc = 1;
	} else if (tk->has_prev &&
	    memcmp(name, tk->prev.name, sizeof(k.name)) == 0) {
		k = tk->prev;
		rc = 2;
	}
	pthread_rwlock_unlock(&tk->lock);
	if (rc == 0)
		return 0;
	if (EVP_DecryptInit_ex(cctx, tk->cipher, NULL, k.aes, iv) != 1 ||
	    hmac_init(hctx, &k) == -1)
		rc = -1;
	OPENSSL_cleanse(&k, sizeof(k));
	return rc;
}

int
tickets_key(struct tls_tickets *tk, unsigned char *name, unsigned char *iv,
    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	if (enc)
		return encrypt_key(tk, name, iv, cctx, hctx);
	return decrypt_key(tk, name, iv, cctx, hctx);
}
