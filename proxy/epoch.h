/* proxy/epoch.h: an epoch is one configuration as a worker runs it: the
 * conf and the worker's runtime backends for it. A reload gives every
 * worker a new epoch for new connections and requests; what is in flight
 * keeps the epoch it started with, freed when its last user lets go.
 * Epochs are worker-local: their reference count takes no lock. */
#ifndef PORTICO_EPOCH_H
#define PORTICO_EPOCH_H

struct backend;
struct conf;
struct conf_backend;
struct epoch;
struct pool_set;
struct wctx;

/* CF (a reference, now the epoch's) as the worker of CTX runs it, its
 * backends' connections kept in POOLS; one reference. NULL if out of
 * memory (CF is then released). */
struct epoch *epoch_new(struct wctx *ctx, struct pool_set *pools,
    struct conf *cf);
/* One more reference to E; returns E. */
struct epoch *epoch_ref(struct epoch *e);
/* One less; the last frees E, its backends and its conf reference. */
void epoch_unref(struct epoch *e);              /* NULL ok */
/* The configuration E runs (E's reference: valid while E is). */
struct conf *epoch_conf(const struct epoch *e);
/* The context of the worker that runs E. */
struct wctx *epoch_ctx(const struct epoch *e);
/* The epoch's runtime copy of backend CB (CB from epoch_conf). */
struct backend *epoch_backend(struct epoch *e, const struct conf_backend *cb);

#endif
