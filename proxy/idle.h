/* proxy/idle.h: a worker's busy and idle phases: once it has been quiet
 * for a while, its per-thread caches shrink and its heap goes back to the
 * kernel (heap.c), once, until it is busy again. */
#ifndef PORTICO_IDLE_H
#define PORTICO_IDLE_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event_struct.h>

struct event_base;

struct idle {
	struct event timer;             /* phase "busy": see idle_note */
	unsigned id;                    /* the worker's, for the log line */
	unsigned long activity, activity_seen;
	int64_t cpu_seen_us;            /* this thread's CPU time then */
	bool is_busy;                   /* active since the last release */
};

/* Prepares D on BASE for worker ID, idle (nothing to release yet). */
void idle_init(struct idle *d, struct event_base *base, unsigned id);
/* A request, or a connection opened or closed: busy. */
void idle_note(struct idle *d);
void idle_fini(struct idle *d);

#endif
