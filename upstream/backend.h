/* upstream/backend.h: a backend's servers in one worker, weighted round
 * robin over them, and which ones failed recently. */
#ifndef PORTICO_BACKEND_H
#define PORTICO_BACKEND_H

#include <stdint.h>

struct conf;
struct conf_backend;
struct pool_set;
struct backend;
struct server;
struct pool;

/* The worker's runtime copy of CB; each server's pool comes from PS (so
 * configs that share a server share its pool). */
struct backend *backend_new(struct pool_set *ps, const struct conf *cf,
    const struct conf_backend *cb);
void backend_free(struct backend *b);           /* NULL ok */

/* The next server by smooth weighted round robin, skipping servers that
 * failed less than fail_timeout ago. When every server is failing, the
 * one that failed longest ago when ANY_OK, else NULL. */
struct server *backend_pick(struct backend *b, uint64_t now_ms, int any_ok);
/* SRV refused or timed out a connect: skip it for fail_timeout. */
void backend_mark_failed(struct server *srv, uint64_t now_ms);
void backend_mark_ok(struct server *srv);

struct pool *server_pool(struct server *srv);
const char *server_name(const struct server *srv);
const char *backend_name(const struct backend *b);
unsigned backend_nservers(const struct backend *b);

#endif
