/* proxy/h2_mem.c: nghttp2's allocator; see h2_mem.h.
 *
 * Why: every nghttp2 session allocates a 16 KiB outbound frame buffer at
 * its start, and an idle HTTP/2 connection only ever writes its first few
 * hundred bytes (SETTINGS, WINDOW_UPDATE, PING). From the heap, those
 * 16 KiB share pages with other objects and are resident from the first
 * write near them: they were 40% of an idle TLS connection's 38 KiB. In
 * pages of their own (mmap), the untouched pages cost nothing.
 *
 * Every block starts with a 16-byte header (its capacity, and where it
 * came from) so that free and realloc know what they hold; 16 keeps the
 * alignment malloc gives. Mapped blocks cost an mmap and a munmap, once a
 * session; small ones are pooled per thread (below).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "h2_mem.h"

enum block_kind { BLOCK_HEAP = 0, BLOCK_POOLED, BLOCK_MAPPED };

struct h2_block {
	size_t cap;                     /* bytes usable after the header */
	uint32_t kind;                  /* enum block_kind */
	uint32_t cls;                   /* BLOCK_POOLED: its size class */
};

#define HDR     sizeof(struct h2_block)

_Static_assert(sizeof(struct h2_block) == 16, "header keeps alignment");

/* Small blocks come from per-thread stacks by size class (64 bytes to
 * 2 KiB, each with its header besides: nghttp2 asks for powers of two,
 * such as an HPACK ring of 1 KiB, and a class that counted the header
 * would give those twice what they asked; two rings were 4 KiB of an
 * idle connection instead of 2): a stream's objects, frames and header lists
 * are a handful of allocations a request, and with hundreds of streams
 * in flight glibc's own per-thread cache (7 a size) misses; its slow path
 * was 6% of an HTTP/2 request. Each stack holds at most POOL_CAP; an idle
 * worker trims them (h2_mem_trim). A block freed by another thread goes
 * to that thread's stack: memory is memory. */
#define POOL_MIN_SHIFT  6
#define POOL_CLASSES    6               /* 64, 128, ... 2048 */
#define POOL_CAP        512

struct pool {
	unsigned n;
	struct h2_block *v[POOL_CAP];
};

static __thread struct pool pools[POOL_CLASSES];

/* The class of a SIZE-byte block, or -1 if too big. */
static int
class_of(size_t size)
{
	size_t c = (size_t)1 << POOL_MIN_SHIFT;
	int i;

	for (i = 0; i < POOL_CLASSES; i++, c <<= 1)
		if (size <= c)
			return i;
	return -1;
}

static struct h2_block *
block_of(void *p)
{
	return (struct h2_block *)((char *)p - HDR);
}

static void *
map_block(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t len = (size + HDR + page - 1) / page * page;
	struct h2_block *b;

	if (size > SIZE_MAX - HDR - page)
		return NULL;
	b = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED)
		return NULL;
	b->cap = len - HDR;
	b->kind = BLOCK_MAPPED;
	return b + 1;
}

static void *
heap_block(size_t size, bool zero)
{
	int cls = class_of(size);
	struct pool *p;
	struct h2_block *b;

	if (size > SIZE_MAX - HDR)
		return NULL;
	if (cls >= 0) {
		p = &pools[cls];
		if (p->n > 0)
			b = p->v[--p->n];
		else if ((b = malloc(HDR + ((size_t)1 <<
		    (POOL_MIN_SHIFT + cls)))) == NULL)
			return NULL;
		b->cap = (size_t)1 << (POOL_MIN_SHIFT + cls);
		b->kind = BLOCK_POOLED;
		b->cls = (uint32_t)cls;
		if (zero)
			memset(b + 1, 0, size);
		return b + 1;
	}
	b = zero ? calloc(1, size + HDR) : malloc(size + HDR);
	if (b == NULL)
		return NULL;
	b->cap = size;
	b->kind = BLOCK_HEAP;
	return b + 1;
}

/* A mapping that fails (vm.max_map_count reached, say) falls back to
 * the heap: the block costs its pages then, but the session starts. */
static void *
mem_malloc(size_t size, void *arg)
{
	void *p;

	(void)arg;
	if (size >= H2_MEM_BIG && (p = map_block(size)) != NULL)
		return p;
	return heap_block(size, false);
}

static void
mem_free(void *p, void *arg)
{
	struct h2_block *b;

	(void)arg;
	if (p == NULL)
		return;
	b = block_of(p);
	if (b->kind == BLOCK_MAPPED) {
		munmap(b, b->cap + HDR);
	} else if (b->kind == BLOCK_POOLED && pools[b->cls].n < POOL_CAP) {
		pools[b->cls].v[pools[b->cls].n++] = b;
	} else {
		free(b);
	}
}

static void *
mem_calloc(size_t n, size_t size, void *arg)
{
	void *p;

	(void)arg;
	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	/* fresh pages are zero already */
	if (n * size >= H2_MEM_BIG && (p = map_block(n * size)) != NULL)
		return p;
	return heap_block(n * size, true);
}

/* Growing moves the block (nghttp2 grows its buffers rarely, by
 * doubling); shrinking keeps it where it is. */
static void *
mem_realloc(void *p, size_t size, void *arg)
{
	struct h2_block *b;
	void *q;

	if (p == NULL)
		return mem_malloc(size, arg);
	b = block_of(p);
	if (size <= b->cap)
		return p;
	if ((q = mem_malloc(size, arg)) == NULL)
		return NULL;
	memcpy(q, p, b->cap);
	mem_free(p, arg);
	return q;
}

static nghttp2_mem mem = {
	.mem_user_data = NULL,
	.malloc = mem_malloc,
	.free = mem_free,
	.calloc = mem_calloc,
	.realloc = mem_realloc,
};

nghttp2_mem *
h2_mem(void)
{
	return &mem;
}

int
h2_mem_is_paged(const void *p)
{
	return block_of((void *)(uintptr_t)p)->kind == BLOCK_MAPPED;
}

void
h2_mem_trim(unsigned keep)
{
	struct pool *p;
	int i;

	for (i = 0; i < POOL_CLASSES; i++)
		for (p = &pools[i]; p->n > keep; )
			free(p->v[--p->n]);
}
