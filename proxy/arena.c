/* proxy/arena.c: bump allocation in chunks, released together. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

struct arena_chunk {
	struct arena_chunk *next;
	size_t size;
	char data[];
};

void
arena_init(struct arena *a)
{
	a->head = NULL;
	a->cur = a->first;
	a->used = 0;
	a->size = sizeof(a->first);
}

void
arena_fini(struct arena *a)
{
	struct arena_chunk *c, *next;

	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
}

void
arena_reset(struct arena *a)
{
	arena_fini(a);
	arena_init(a);
}

void *
arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk *c;
	size_t off = (a->used + 7) & ~(size_t)7;
	size_t size;

	if (n <= a->size && off <= a->size - n) {
		a->used = off + n;
		return a->cur + off;
	}
	size = n > 16384 ? n : 16384;
	if ((c = malloc(sizeof(*c) + size)) == NULL)
		return NULL;
	c->size = size;
	c->next = a->head;
	a->head = c;
	a->cur = c->data;
	a->size = size;
	a->used = n;
	return c->data;
}

char *
arena_strndup(struct arena *a, const char *s, size_t len)
{
	char *p = arena_alloc(a, len + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}
