/* proxy/ws.h: the WebSocket handshake values (RFC 6455 §4). */
#ifndef PORTICO_WS_H
#define PORTICO_WS_H

#include <stdbool.h>
#include <stddef.h>

#define WS_KEY_LEN      24      /* base64 of 16 random bytes */
#define WS_ACCEPT_LEN   28      /* base64 of a SHA-1 */

/* A fresh random Sec-WebSocket-Key, NUL-terminated; -1 if the system
 * has no randomness to give. */
int ws_make_key(char key[WS_KEY_LEN + 1]);
/* The Sec-WebSocket-Accept the server must answer KEY with. */
void ws_accept(const char *key, size_t keylen, char out[WS_ACCEPT_LEN + 1]);
/* Whether VALUE (a response's Sec-WebSocket-Accept) answers KEY. */
bool ws_accept_matches(const char *key, size_t keylen, const char *value,
    size_t valuelen);

#endif
