/* upstream/pool.h: per-worker keep-alive connections to one server. */
#ifndef PORTICO_POOL_H
#define PORTICO_POOL_H

#include <stdbool.h>

#include "backend_error.h"

struct sock;
struct conf;
struct conf_addr;
struct event_base;
struct pool;
struct upconn;                  /* a backend connection, owned by pool.c */
struct pool_req;                /* a pending pool_connect() */

/* UC is connected, or NULL with E (BACKEND_CONNECT_FAILED or _TIMEOUT)
 * and WHY ("Connection refused", "connect timed out") for the log. */
typedef void pool_ready_fn(struct upconn *uc, enum backend_error e,
    const char *why, void *arg);

struct pool_set;

/* A worker's pools, one per server address. */
struct pool_set *pool_set_new(struct event_base *base);
/* Frees every pool and its idle connections (worker exit). NULL ok. */
void pool_set_free(struct pool_set *ps);
/* The pool for ADDR (new, or the one already there, referenced once
 * more); CF's limits and timeouts apply to it from now on. */
struct pool *pool_ref(struct pool_set *ps, const struct conf_addr *addr,
    const struct conf *cf);
/* Drops a reference; the last one closes idle conns and frees. NULL ok. */
void pool_unref(struct pool *p);
/* The most recently used idle connection, now the caller's; or NULL. */
struct upconn *pool_take(struct pool *p);
/* Opens a fresh connection; calls READY later (never from inside this
 * call). NULL with *e and *why when the connect fails at once. */
struct pool_req *pool_connect(struct pool *p, pool_ready_fn *ready,
    void *arg, enum backend_error *e, const char **why);
void pool_cancel(struct pool_req *r);   /* READY is then never called */
/* Takes UC back: kept idle if REUSABLE and there is room, else closed. */
void pool_put(struct upconn *uc, bool reusable);
/* Forgets UC; its socket (upconn_sock) is now the caller's alone. */
void pool_detach(struct upconn *uc);

struct sock *upconn_sock(struct upconn *uc);
bool upconn_is_reused(const struct upconn *uc); /* came from pool_take */

#endif
