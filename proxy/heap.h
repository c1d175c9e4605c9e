/* proxy/heap.h: glibc's heap: freed memory is kept while workers serve
 * (no trim, no page faults on the hot path) and given back to the kernel
 * once a worker has been idle for a while (worker.c decides when). */
#ifndef PORTICO_HEAP_H
#define PORTICO_HEAP_H

#include <stdbool.h>

/* At start, before any thread: glibc never trims by itself. */
void heap_setup(void);
/* On an idle worker's thread: returns the free top of this thread's
 * arena to the kernel; with IS_ALL also the free pages inside every
 * arena (malloc_trim), which takes each arena's lock in turn, so only
 * when every worker is idle. */
void heap_release(bool is_all);

#endif
