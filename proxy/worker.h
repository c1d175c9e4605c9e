/* proxy/worker.h: one event loop per core, with its own listeners,
 * backend pools and connections. Workers share nothing mutable.
 * Each runs its current epoch (epoch.h). */
#ifndef PORTICO_WORKER_H
#define PORTICO_WORKER_H

#include <stdbool.h>
#include <stdint.h>

struct access_log;
struct conf;
struct conn;
struct epoch;
struct event_base;
struct listeners;
struct worker;

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

struct event_base *worker_base(struct worker *w);
unsigned worker_id(const struct worker *w);
struct access_log *worker_access_log(struct worker *w);
uint64_t worker_next_conn_id(struct worker *w);
/* Cached loop time: milliseconds and microseconds of wall clock. */
uint64_t worker_now_ms(struct worker *w);
int64_t worker_now_us(struct worker *w);
void worker_count_request(struct worker *w);
/* Connections register so that a stopping worker can drain and free them. */
void worker_add_conn(struct worker *w, struct conn *c);
void worker_remove_conn(struct worker *w, struct conn *c);

/* The worker's current epoch (borrowed: take a reference to keep it). */
struct epoch *worker_epoch(struct worker *w);

#endif
