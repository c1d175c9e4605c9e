/* proxy/guard.h: a free that waits for the callbacks to unwind. An
 * object whose owner may free it from inside one of the object's own
 * callbacks enters its guard around each of them; a free during one
 * only marks the object (guard_defer), and the outermost callback's
 * leave destroys it. Single-threaded, like everything in a worker. */
#ifndef PORTICO_GUARD_H
#define PORTICO_GUARD_H

#include <stdbool.h>

struct guard {
	int depth;                      /* nesting of the object's callbacks */
	bool is_freed;                  /* a free came during one */
};

/* A callback of the object starts. */
static inline void
guard_enter(struct guard *g)
{
	g->depth++;
}

/* It returns: true if the object must be destroyed now (freed during
 * it, and it was the outermost). */
static inline bool
guard_leave(struct guard *g)
{
	return --g->depth == 0 && g->is_freed;
}

/* A free: true if it must wait for guard_leave (the object is marked
 * freed); false if the caller destroys the object now. */
static inline bool
guard_defer(struct guard *g)
{
	if (g->depth == 0)
		return false;
	g->is_freed = true;
	return true;
}

#endif
