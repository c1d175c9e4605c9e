/* proxy/epoch.c: a conf and its runtime backends, as one worker runs
 * them, reference-counted by the connections and requests using it. */
#include <stdlib.h>

#include "backend.h"
#include "conf.h"
#include "epoch.h"

struct epoch {
	struct wctx *ctx;
	struct conf *cf;                /* a reference */
	struct backend **backends;      /* by conf_backend.index */
	unsigned refs;                  /* worker-local */
};

static void
epoch_free(struct epoch *e)
{
	size_t j;

	for (j = 0; e->backends != NULL && j < e->cf->nbackends; j++)
		backend_free(e->backends[j]);
	free(e->backends);
	conf_unref(e->cf);
	free(e);
}

struct epoch *
epoch_new(struct wctx *ctx, struct pool_set *pools, struct conf *cf)
{
	struct epoch *e;
	size_t j;

	if ((e = calloc(1, sizeof(*e))) == NULL) {
		conf_unref(cf);
		return NULL;
	}
	e->ctx = ctx;
	e->cf = cf;
	e->refs = 1;
	if ((e->backends = calloc(cf->nbackends, sizeof(*e->backends))) ==
	    NULL)
		goto fail;
	for (j = 0; j < cf->nbackends; j++)
		if ((e->backends[j] = backend_new(pools, cf,
		    &cf->backends[j])) == NULL)
			goto fail;
	return e;

fail:
	epoch_free(e);
	return NULL;
}

struct epoch *
epoch_ref(struct epoch *e)
{
	e->refs++;
	return e;
}

void
epoch_unref(struct epoch *e)
{
	if (e != NULL && --e->refs == 0)
		epoch_free(e);
}

struct conf *
epoch_conf(const struct epoch *e)
{
	return e->cf;
}

struct wctx *
epoch_ctx(const struct epoch *e)
{
	return e->ctx;
}

struct backend *
epoch_backend(struct epoch *e, const struct conf_backend *cb)
{
	return e->backends[cb->index];
}
