/* proxy/freelist.h: a per-thread stack of freed objects kept for reuse,
 * so that the steady state allocates nothing (exchanges, HTTP/2 streams,
 * backend clients). Declare one as
 *	static __thread struct freelist cache = { .cap = N };
 * with N at most FREELIST_MAX. The owner resets what it takes and frees
 * what does not fit; worker.c trims them when the worker goes idle. */
#ifndef PORTICO_FREELIST_H
#define PORTICO_FREELIST_H

#include <stdbool.h>

#define FREELIST_MAX 1024

struct freelist {
	unsigned n;
	unsigned cap;                   /* <= FREELIST_MAX */
	void *v[FREELIST_MAX];
};

/* The last object put, or NULL if F is empty. */
static inline void *
freelist_take(struct freelist *f)
{
	return f->n > 0 ? f->v[--f->n] : NULL;
}

/* Keeps P; false if F is full (the caller frees P then). */
static inline bool
freelist_put(struct freelist *f, void *p)
{
	if (f->n >= f->cap)
		return false;
	f->v[f->n++] = p;
	return true;
}

/* Frees, with DESTROY, all but KEEP of the objects F holds. */
static inline void
freelist_trim(struct freelist *f, unsigned keep, void (*destroy)(void *))
{
	while (f->n > keep)
		destroy(f->v[--f->n]);
}

#endif
