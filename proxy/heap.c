/* proxy/heap.c: when glibc gives freed memory back.
 *
 * Serving, buffers come and go per request; trimming would return them
 * to the kernel only to fault them back in (perf showed the faults), so
 * the trim threshold is set far above what a worker frees at once.
 * Idle, that memory should go back. glibc has two places for it:
 *  - free chunks inside a heap: malloc_trim(0) madvises their pages away,
 *    in every arena;
 *  - the top chunk of a worker thread's arena (memory freed at the end of
 *    its heap), which malloc_trim leaves alone: only a free of 64 KiB or
 *    more on that thread, with the top above the trim threshold, shrinks
 *    it. So heap_release lowers the threshold for a moment and frees such
 *    a block on the worker's own thread.
 * The threshold is process-wide: a mutex keeps two idle workers from
 * restoring it under each other. A busy worker that frees a large block
 * in that moment trims its own top too; the cost is a few page faults. */
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "heap.h"

#define HEAP_BUSY_TRIM  (128 * 1024 * 1024)     /* serving: never trim */
#define HEAP_IDLE_TRIM  (128 * 1024)            /* glibc's default */
/* Above glibc's 64 KiB consolidation mark, below its 128 KiB mmap
 * threshold (fixed once M_TRIM_THRESHOLD is set): from the heap. */
#define HEAP_NUDGE      (96 * 1024)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void
heap_setup(void)
{
	mallopt(M_TRIM_THRESHOLD, HEAP_BUSY_TRIM);
}

void
heap_release(bool is_all)
{
	void *volatile p;               /* volatile: the pair stays */

	pthread_mutex_lock(&lock);
	mallopt(M_TRIM_THRESHOLD, HEAP_IDLE_TRIM);
	if ((p = malloc(HEAP_NUDGE)) != NULL)
		free(p);
	if (is_all)
		malloc_trim(0);
	mallopt(M_TRIM_THRESHOLD, HEAP_BUSY_TRIM);
	pthread_mutex_unlock(&lock);
}
