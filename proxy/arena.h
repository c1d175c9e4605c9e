/* proxy/arena.h: a per-request bump allocator; everything is freed at once. */
#ifndef PORTICO_ARENA_H
#define PORTICO_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head;       /* newest chunk first */
	char first[2048];               /* no malloc for small requests */
	size_t used;                    /* of the current chunk's space */
	size_t size;                    /* of the current chunk's space */
	char *cur;
};

void arena_init(struct arena *a);
void arena_fini(struct arena *a);               /* frees all chunks */
void arena_reset(struct arena *a);              /* fini + init */
/* N bytes aligned to 8; NULL only when out of memory. */
void *arena_alloc(struct arena *a, size_t n);
/* A NUL-terminated copy of S[0..len). */
char *arena_strndup(struct arena *a, const char *s, size_t len);

#endif
