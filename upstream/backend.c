/* upstream/backend.c: smooth weighted round robin (each pick adds every
 * server's weight to its current value, takes the largest and subtracts
 * the total from it), which spreads a weight-3 server's turns evenly
 * instead of in bursts. Each worker has its own copy: no locks. */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "conf.h"
#include "pool.h"

struct server {
	const struct conf_server *cs;
	struct pool *pool;
	int64_t current;                /* smooth WRR state */
	uint64_t failed_at;             /* ms; 0: not failing */
	uint64_t fail_timeout;
};

struct backend {
	const struct conf_backend *cb;
	struct server *servers;
	unsigned nservers;
	int64_t total_weight;
};

struct backend *
backend_new(struct pool_set *ps, const struct conf *cf,
    const struct conf_backend *cb)
{
	struct backend *b;
	unsigned i;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	if ((b->servers = calloc(cb->nservers, sizeof(*b->servers))) == NULL)
		goto fail;
	b->cb = cb;
	for (i = 0; i < cb->nservers; i++) {
		struct server *s = &b->servers[i];

		s->cs = &cb->servers[i];
		s->fail_timeout = cf->backend_fail_timeout;
		b->total_weight += s->cs->weight;
		b->nservers++;
		if ((s->pool = pool_ref(ps, &s->cs->addr, cf)) == NULL)
			goto fail;
	}
	return b;

fail:
	backend_free(b);
	return NULL;
}

void
backend_free(struct backend *b)
{
	unsigned i;

	if (b == NULL)
		return;
	for (i = 0; i < b->nservers; i++)
		pool_unref(b->servers[i].pool);
	free(b->servers);
	free(b);
}

static int
is_failing(const struct server *s, uint64_t now_ms)
{
	return s->failed_at != 0 && now_ms - s->failed_at < s->fail_timeout;
}

struct server *
backend_pick(struct backend *b, uint64_t now_ms, int any_ok)
{
	struct server *best = NULL, *oldest = NULL;
	int64_t total = 0;
	unsigned i;

	for (i = 0; i < b->nservers; i++) {
		struct server *s = &b->servers[i];

		if (is_failing(s, now_ms)) {
			if (oldest == NULL || s->failed_at < oldest->failed_at)
				oldest = s;
			continue;
		}
		s->current += s->cs->weight;
		total += s->cs->weight;
		if (best == NULL || s->current > best->current)
			best = s;
	}
	if (best != NULL) {
		best->current -= total;
		return best;
	}
	return any_ok ? oldest : NULL;
}

void
backend_mark_failed(struct server *srv, uint64_t now_ms)
{
	srv->failed_at = now_ms == 0 ? 1 : now_ms;
}

void
backend_mark_ok(struct server *srv)
{
	srv->failed_at = 0;
}

struct pool *
server_pool(struct server *srv)
{
	return srv->pool;
}

const char *
server_name(const struct server *srv)
{
	return srv->cs->addr.text;
}

const char *
backend_name(const struct backend *b)
{
	return b->cb->name;
}

unsigned
backend_nservers(const struct backend *b)
{
	return b->nservers;
}
