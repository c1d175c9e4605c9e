/* proxy/idle.c: when a worker gives memory back; see idle.h.
 *
 * Phase "busy": from a worker's first request or connection opened or
 * closed after a release, until a whole IDLE_MS passes with none and with
 * almost no CPU used (so not one still moving a long download). The timer
 * governs it, re-armed by on_check while the worker works; phase "idle"
 * follows, with no timer, until the next request or connection. Never
 * released while busy: the hot path allocates from warm caches and a warm
 * heap. */
#include <time.h>

#include <event2/event.h>

#include "exchange.h"
#include "h1_client.h"
#include "h2_server.h"
#include "heap.h"
#include "idle.h"
#include "log.h"

#define IDLE_MS         2000
#define IDLE_CPU_US     20000           /* 1% of IDLE_MS */
/* What each per-thread cache keeps then: the first requests after a
 * quiet spell still allocate nothing. */
#define IDLE_CACHE      8

static unsigned nbusy;                  /* workers busy; atomic */

static int64_t
thread_cpu_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == -1)
		return 0;
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
arm(struct idle *d)
{
	struct timeval tv = { IDLE_MS / 1000, IDLE_MS % 1000 * 1000 };

	event_add(&d->timer, &tv);
}

/* Idle: the caches shrink and the heap goes back to the kernel; every
 * arena's free pages only once no worker is busy (heap_release). */
static void
release(struct idle *d)
{
	bool is_last = __atomic_sub_fetch(&nbusy, 1, __ATOMIC_RELAXED) == 0;

	exchange_cache_trim(IDLE_CACHE);
	h1_client_cache_trim(IDLE_CACHE);
	h2_server_cache_trim(IDLE_CACHE);
	heap_release(is_last);
	log_msg(LOG_DEBUG, "worker %u: idle: memory released%s", d->id,
	    is_last ? " (all workers idle)" : "");
}

static void
on_check(evutil_socket_t fd, short what, void *arg)
{
	struct idle *d = arg;
	int64_t cpu = thread_cpu_us();

	(void)fd;
	(void)what;
	if (d->activity != d->activity_seen ||
	    cpu - d->cpu_seen_us >= IDLE_CPU_US) {
		d->activity_seen = d->activity;
		d->cpu_seen_us = cpu;
		arm(d);
		return;
	}
	d->is_busy = false;
	release(d);
}

void
idle_init(struct idle *d, struct event_base *base, unsigned id)
{
	d->id = id;
	d->activity = d->activity_seen = 0;
	d->is_busy = false;
	evtimer_assign(&d->timer, base, on_check, d);
}

void
idle_note(struct idle *d)
{
	d->activity++;
	if (d->is_busy)
		return;
	d->is_busy = true;
	__atomic_add_fetch(&nbusy, 1, __ATOMIC_RELAXED);
	d->activity_seen = d->activity;
	d->cpu_seen_us = thread_cpu_us();
	arm(d);
}

void
idle_fini(struct idle *d)
{
	event_del(&d->timer);
}
