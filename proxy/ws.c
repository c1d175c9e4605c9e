/* proxy/ws.c: RFC 6455 §4.2.2: accept = base64(SHA-1(key + GUID)). */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ws.h"

static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

int
ws_make_key(char key[WS_KEY_LEN + 1])
{
	unsigned char raw[16];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	EVP_EncodeBlock((unsigned char *)key, raw, sizeof(raw));
	return 0;
}

void
ws_accept(const char *key, size_t keylen, char out[WS_ACCEPT_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	out[0] = '\0';
	if (ctx == NULL)
		return;
	if (EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, key, keylen) == 1 &&
	    EVP_DigestUpdate(ctx, guid, sizeof(guid) - 1) == 1 &&
	    EVP_DigestFinal_ex(ctx, md, &mdlen) == 1)
		EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
	EVP_MD_CTX_free(ctx);
}

bool
ws_accept_matches(const char *key, size_t keylen, const char *value,
    size_t valuelen)
{
	char want[WS_ACCEPT_LEN + 1];

	while (valuelen > 0 && (value[0] == ' ' || value[0] == '\t')) {
		value++;
		valuelen--;
	}
	while (valuelen > 0 && (value[valuelen - 1] == ' ' ||
	    value[valuelen - 1] == '\t'))
		valuelen--;
	ws_accept(key, keylen, want);
	return want[0] != '\0' && valuelen == WS_ACCEPT_LEN &&
	    memcmp(want, value, WS_ACCEPT_LEN) == 0;
}
