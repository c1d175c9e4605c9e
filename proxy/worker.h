/* proxy/worker.h: one event loop per core, with its own listeners,
 * backend pools and connections. Workers share nothing mutable.
 * Each runs its current epoch (epoch.h). */
#ifndef PORTICO_WORKER_H
#define PORTICO_WORKER_H

#include <stdbool.h>
#include <stdint.h>

struct conf;
struct event_base;
struct listeners;

/* What the workers tell the main thread (from its own loop). */
struct workers_events {
	void (*on_reloaded)(void *arg);         /* every worker switched */
	void (*on_released)(void *arg);         /* stopping: none accepts */
	void (*on_stopped)(void *arg);          /* every worker is done */
	void *arg;
};

/* Prepares NWORKERS workers to serve CF on LS's sockets (their files
 * open now, with the main thread's privileges); their news reach EV
 * through MAIN_BASE. 0, or -1 with *why. */
int workers_start(struct conf *cf, struct listeners *ls, unsigned nworkers,
    struct event_base *main_base, const struct workers_events *ev,
    const char **why);
/* Starts their threads. 0, or -1 with *why. */
int workers_run(const char **why);
/* Hands CF and LS to every worker; on_reloaded follows. */
void workers_reload(struct conf *cf, struct listeners *ls);
/* Graceful: stop accepting, let requests finish (shutdown_timeout), then
 * on_stopped. Not graceful: stop at once. */
void workers_stop(bool graceful);
/* After on_stopped (or a failed start): joins and frees the workers. */
void workers_free(void);
/* SIGUSR1: every worker reopens its access log. */
void workers_reopen_logs(void);
/* Live figures summed over the workers (relaxed reads). */
uint64_t workers_connections(void);
uint64_t workers_requests(void);
unsigned workers_count(const struct conf *cf);  /* what "workers" means */

#endif
