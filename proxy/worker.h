/* proxy/worker.h: one event loop per core, with its own listeners,
 * backend pools and connections. Workers share nothing mutable. */
#ifndef PORTICO_WORKER_H
#define PORTICO_WORKER_H

#include <stdint.h>

struct backend;
struct conf;
struct conf_backend;
struct event_base;
struct access_log;
struct worker;

/* Binds every listener of CF, then starts CF's number of workers.
 * 0, or -1 with *why (already logged details). */
int workers_start(struct conf *cf, const char **why);
/* Stops every worker's loop, joins them and frees everything. */
void workers_stop(void);

struct event_base *worker_base(struct worker *w);
unsigned worker_id(const struct worker *w);
/* This worker's runtime copy of backend CB. */
struct backend *worker_backend(struct worker *w, const struct conf_backend *cb);
struct access_log *worker_access_log(struct worker *w);
uint64_t worker_next_conn_id(struct worker *w);
/* Cached loop time: milliseconds and microseconds of wall clock. */
uint64_t worker_now_ms(struct worker *w);
int64_t worker_now_us(struct worker *w);
/* Connections register so that a stopping worker can free them. */
struct conn;
void worker_add_conn(struct worker *w, struct conn *c);
void worker_remove_conn(struct worker *w, struct conn *c);

#endif
