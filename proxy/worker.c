/* proxy/worker.c: the workers.
 *
 * The main thread binds the listeners (listeners.c) and starts the
 * workers; after that it only talks to them through each worker's pipe:
 * 'r' (a new conf and listener set wait in the worker: switch to them),
 * 'l' (reopen the access log), 's' (drain and stop), 'q' (stop now).
 * Workers answer through one pipe to the main loop: 'a' (reload applied),
 * 'x' (stopped). The pipes' syscalls order the handed-over fields; nothing
 * else crosses threads except relaxed atomic counters and the conf's
 * atomic refcount, so event bases run without libevent's locks.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/listener.h>

#include "conf.h"
#include "conn.h"
#include "ctx.h"
#include "epoch.h"
#include "exchange.h"
#include "h1_client.h"
#include "h2_server.h"
#include "idle.h"
#include "listeners.h"
#include "log.h"
#include "pool.h"
#include "worker.h"

struct worker {
	struct wctx ctx;                /* what the layers below see */
	pthread_t thread;
	bool is_started;
	struct pool_set *pools;
	struct evconnlistener **listeners;      /* by listen line of epoch */
	size_t nlisteners;
	TAILQ_HEAD(, conn) conns;
	unsigned long nconns;           /* read by the main thread */
	bool is_draining;
	struct event *drain_timer;
	int wake[2];                    /* main thread -> worker */
	struct event *wake_ev;
	struct conf *next_cf;           /* handed over with 'r' */
	struct listeners *next_ls;
	struct event accept_timer;      /* ends a pause_accepting() */
	bool is_accept_paused;          /* out of descriptors, for a while */
	unsigned max_conns;             /* max_connections, or derived */
	bool is_full;                   /* nconns reached max_conns */
	bool is_accepting;              /* the listeners are enabled */
	uint64_t full_logged_ms;        /* the last "max_connections" line */
	struct idle idle;               /* when it gives memory back */
};

/* Out of descriptors, accepting waits this long (nginx waits 500 ms). */
#define WORKER_ACCEPT_PAUSE_MS  500
/* At most one "max_connections reached" line a second per worker. */
#define WORKER_FULL_LOG_MS      1000
/* Descriptors kept for other uses than client and backend connections
 * (logs, pipes, epoll, the tls key file...), besides the listeners. */
#define WORKER_FD_RESERVE       64
#define WORKER_MAX_CONNS        1000000 /* the directive's upper bound */

static struct worker *workers;
static unsigned nworkers;
static int back[2] = { -1, -1 };        /* workers -> main thread */
static struct event *back_ev;
static struct workers_events events;
static unsigned nacks, nstopped, nreleased;

/* Listeners. */

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct worker *w = arg;
	struct conf *cf = epoch_conf(w->ctx.epoch);
	size_t j;

	for (j = 0; j < w->nlisteners; j++)
		if (w->listeners[j] == l)
			break;
	conn_new(&w->ctx, w->ctx.epoch, &cf->listens[j], fd, sa, salen);
}

/* The listeners accept unless the worker is full or out of descriptors;
 * what they do not accept waits in the kernel's backlog. */
static void
update_accepting(struct worker *w)
{
	bool is_on = !w->is_full && !w->is_accept_paused;
	size_t j;

	if (is_on == w->is_accepting)
		return;
	w->is_accepting = is_on;
	for (j = 0; j < w->nlisteners; j++)   /* none once draining */
		if (w->listeners[j] == NULL)
			continue;
		else if (is_on)
			evconnlistener_enable(w->listeners[j]);
		else
			evconnlistener_disable(w->listeners[j]);
}

/* max_connections, or what RLIMIT_NOFILE leaves: its soft limit less
 * WORKER_FD_RESERVE and the listening sockets, shared by the workers,
 * and halved, since each client connection may hold a backend one. */
static unsigned
max_conns(const struct conf *cf)
{
	unsigned long used = WORKER_FD_RESERVE +
	    (unsigned long)cf->nlistens * nworkers, n;
	struct rlimit rl;

	if (cf->max_connections > 0)
		return cf->max_connections;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 ||
	    rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur / 2 / nworkers >=
	    WORKER_MAX_CONNS)
		return WORKER_MAX_CONNS;
	n = rl.rlim_cur > used ? (rl.rlim_cur - used) / nworkers / 2 : 0;
	return n > 0 ? (unsigned)n : 1;
}

/* At max_conns the listeners pause until a connection closes: one log
 * line a pause, at most one a WORKER_FULL_LOG_MS. */
static void
update_full(struct worker *w)
{
	bool is_full = w->nconns >= w->max_conns;
	uint64_t now;

	if (is_full == w->is_full)
		return;
	w->is_full = is_full;
	if (is_full && (now = ctx_now_ms(&w->ctx)) >= w->full_logged_ms +
	    WORKER_FULL_LOG_MS) {
		w->full_logged_ms = now;
		log_msg(LOG_WARNING, "worker %u: at max_connections (%u): "
		    "accepting paused", w->ctx.id, w->max_conns);
	}
	update_accepting(w);
}

/* The connection accept() could not take stays in the backlog, so the
 * listener is readable again at once: without a pause a worker out of
 * descriptors spins on EMFILE and floods the log. Every listener of the
 * worker pauses for WORKER_ACCEPT_PAUSE_MS, one log line a pause. */
static void
pause_accepting(struct worker *w)
{
	struct timeval tv = { 0, WORKER_ACCEPT_PAUSE_MS * 1000 };

	w->is_accept_paused = true;
	update_accepting(w);
	event_add(&w->accept_timer, &tv);
}

static void
on_accept_resume(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	w->is_accept_paused = false;
	update_accepting(w);
}

static void
on_accept_error(struct evconnlistener *l, void *arg)
{
	struct worker *w = arg;
	int err = errno;

	(void)l;
	if (err != EMFILE && err != ENFILE && err != ENOBUFS &&
	    err != ENOMEM) {
		log_errno(LOG_WARNING, "accept");
		return;
	}
	if (w->is_accept_paused)
		return;
	log_errno(LOG_WARNING, "worker %u: accept paused %d ms", w->ctx.id,
	    WORKER_ACCEPT_PAUSE_MS);
	pause_accepting(w);
}

static struct evconnlistener *
listen_on(struct worker *w, int fd)
{
	struct evconnlistener *l;

	/* the main thread owns the sockets: never closed here */
	l = evconnlistener_new(w->ctx.base, on_accept, w, LEV_OPT_REUSEABLE, 0,
	    fd);
	if (l != NULL)
		evconnlistener_set_error_cb(l, on_accept_error);
	return l;
}

static void
free_listeners(struct evconnlistener **v, size_t n)
{
	size_t j;

	for (j = 0; v != NULL && j < n; j++)
		if (v[j] != NULL)
			evconnlistener_free(v[j]);
	free(v);
}

/* The listeners for LS: those on a socket we already accept on move
 * over (no accept is lost), the others are new. */
static int
switch_listeners(struct worker *w, const struct listeners *ls)
{
	size_t n = listeners_count(ls), i, j;
	struct evconnlistener **v = calloc(n + 1, sizeof(*v));

	if (v == NULL)
		return -1;
	for (j = 0; j < n; j++) {
		int fd = listeners_fd(ls, j, w->ctx.id);

		for (i = 0; i < w->nlisteners; i++)
			if (w->listeners[i] != NULL &&
			    evconnlistener_get_fd(w->listeners[i]) == fd) {
				v[j] = w->listeners[i];
				w->listeners[i] = NULL;
				break;
			}
		if (v[j] == NULL && (v[j] = listen_on(w, fd)) == NULL) {
			free_listeners(v, n);
			return -1;
		}
	}
	free_listeners(w->listeners, w->nlisteners);
	w->listeners = v;
	w->nlisteners = n;
	for (j = 0; j < n && !w->is_accepting; j++)    /* new ones are on */
		evconnlistener_disable(v[j]);
	return 0;
}

/* Messages. */

static void
tell_main(char c)
{
	if (write(back[1], &c, 1) != 1)
		log_errno(LOG_ERR, "cannot reach the main thread");
}

static bool
same_str(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void
switch_access_log(struct worker *w, const struct conf *old,
    const struct conf *cf)
{
	struct access_log *al;
	const char *why;

	if (same_str(old->access_log, cf->access_log) &&
	    old->access_log_format == cf->access_log_format)
		return;
	al = access_log_new(w->ctx.base, cf, &why);
	if (al == NULL && cf->access_log != NULL) {
		log_msg(LOG_ERR, "worker %u: cannot open access log %s: %s",
		    w->ctx.id, cf->access_log, why);
		return;
	}
	access_log_free(w->ctx.alog);
	w->ctx.alog = al;
}

static void
apply_reload(struct worker *w)
{
	struct conf *cf = w->next_cf;
	struct epoch *e;
	unsigned n;

	w->next_cf = NULL;
	if (w->is_draining) {
		conf_unref(cf);
		tell_main('a');
		return;
	}
	if ((e = epoch_new(&w->ctx, w->pools, cf)) == NULL ||
	    switch_listeners(w, w->next_ls) == -1) {
		log_msg(LOG_ERR, "worker %u: reload failed: out of memory",
		    w->ctx.id);
		epoch_unref(e);
		tell_main('a');
		return;
	}
	switch_access_log(w, epoch_conf(w->ctx.epoch), cf);
	epoch_unref(w->ctx.epoch);
	w->ctx.epoch = e;
	if ((n = max_conns(cf)) != w->max_conns)
		log_msg(LOG_INFO, "worker %u: max_connections %u", w->ctx.id,
		    n);
	w->max_conns = n;
	update_full(w);
	tell_main('a');
}

static void
on_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	log_msg(LOG_NOTICE, "worker %u: shutdown_timeout: closing %lu "
	    "connections", w->ctx.id, w->nconns);
	event_base_loopbreak(w->ctx.base);
}

/* Graceful stop: no new connections; those open finish what they do. */
static void
start_drain(struct worker *w)
{
	unsigned ms = epoch_conf(w->ctx.epoch)->shutdown_timeout;
	struct timeval tv = { ms / 1000, ms % 1000 * 1000 };
	struct conn *c, *next;

	w->is_draining = true;
	free_listeners(w->listeners, w->nlisteners);
	w->listeners = NULL;
	w->nlisteners = 0;
	tell_main('d');                 /* the main thread may close them */
	w->drain_timer = evtimer_new(w->ctx.base, on_drain_timeout, w);
	if (w->drain_timer != NULL)
		event_add(w->drain_timer, &tv);
	for (c = TAILQ_FIRST(&w->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		conn_drain(c);
	}
	if (TAILQ_EMPTY(&w->conns))
		event_base_loopexit(w->ctx.base, NULL);
}

static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	char b;

	(void)what;
	while (read(fd, &b, 1) == 1) {
		if (b == 'q')
			event_base_loopbreak(w->ctx.base);
		else if (b == 's' && !w->is_draining)
			start_drain(w);
		else if (b == 'r')
			apply_reload(w);
		else if (b == 'l' && w->ctx.alog != NULL)
			access_log_reopen(w->ctx.alog);
	}
}

static void
send_to(struct worker *w, char c)
{
	if (w->is_started && write(w->wake[1], &c, 1) != 1)
		log_errno(LOG_ERR, "cannot reach worker %u", w->ctx.id);
}

/* News from the workers, on the main loop. */
static void
on_back(evutil_socket_t fd, short what, void *arg)
{
	char b;

	(void)what;
	(void)arg;
	while (read(fd, &b, 1) == 1) {
		if (b == 'a' && ++nacks == nworkers &&
		    events.on_reloaded != NULL)
			events.on_reloaded(events.arg);
		if (b == 'd' && ++nreleased == nworkers &&
		    events.on_released != NULL)
			events.on_released(events.arg);
		if (b == 'x' && ++nstopped == nworkers &&
		    events.on_stopped != NULL)
			events.on_stopped(events.arg);
	}
}

/* What the layers below tell the worker (wctx_hooks). */

static void
on_request(void *arg)
{
	idle_note(&((struct worker *)arg)->idle);
}

static void
on_conn_open(void *arg, struct conn *c)
{
	struct worker *w = arg;

	TAILQ_INSERT_TAIL(&w->conns, c, link);
	__atomic_store_n(&w->nconns, w->nconns + 1, __ATOMIC_RELAXED);
	idle_note(&w->idle);
	update_full(w);
}

static void
on_conn_close(void *arg, struct conn *c)
{
	struct worker *w = arg;

	TAILQ_REMOVE(&w->conns, c, link);
	__atomic_store_n(&w->nconns, w->nconns - 1, __ATOMIC_RELAXED);
	idle_note(&w->idle);
	update_full(w);
	if (w->is_draining && TAILQ_EMPTY(&w->conns))
		event_base_loopexit(w->ctx.base, NULL);
}

static const struct wctx_hooks hooks = { on_request, on_conn_open,
	on_conn_close };

/* Setup and teardown. */

static struct event_base *
new_base(void)
{
	struct event_config *ec = event_config_new();
	struct event_base *base;

	if (ec == NULL)
		return NULL;
	event_config_set_flag(ec, EVENT_BASE_FLAG_NOLOCK |
	    EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(ec);
	event_config_free(ec);
	return base;
}

static int
worker_init(struct worker *w, struct conf *cf, struct listeners *ls,
    const char **why)
{
	*why = "out of memory";
	w->ctx.hooks = &hooks;
	w->ctx.arg = w;
	TAILQ_INIT(&w->conns);
	w->wake[0] = w->wake[1] = -1;
	if ((w->ctx.base = new_base()) == NULL)
		return -1;
	evtimer_assign(&w->accept_timer, w->ctx.base, on_accept_resume, w);
	idle_init(&w->idle, w->ctx.base, w->ctx.id);
	w->is_accepting = true;
	w->max_conns = max_conns(cf);
	if ((w->pools = pool_set_new(w->ctx.base)) == NULL)
		return -1;
	if ((w->ctx.epoch = epoch_new(&w->ctx, w->pools, conf_ref(cf))) == NULL)
		return -1;
	if (pipe2(w->wake, O_NONBLOCK | O_CLOEXEC) == -1) {
		*why = "cannot create a pipe";
		return -1;
	}
	w->wake_ev = event_new(w->ctx.base, w->wake[0], EV_READ | EV_PERSIST,
	    on_wake, w);
	if (w->wake_ev == NULL || event_add(w->wake_ev, NULL) == -1)
		return -1;
	w->ctx.alog = access_log_new(w->ctx.base, cf, why);
	if (w->ctx.alog == NULL && cf->access_log != NULL)
		return -1;
	*why = "cannot listen";
	return switch_listeners(w, ls);
}

static void
worker_fini(struct worker *w)
{
	if (w->ctx.base != NULL) {
		event_del(&w->accept_timer);
		idle_fini(&w->idle);
	}
	free_listeners(w->listeners, w->nlisteners);
	if (w->drain_timer != NULL)
		event_free(w->drain_timer);
	epoch_unref(w->ctx.epoch);
	pool_set_free(w->pools);
	access_log_free(w->ctx.alog);
	if (w->wake_ev != NULL)
		event_free(w->wake_ev);
	if (w->wake[0] != -1) {
		close(w->wake[0]);
		close(w->wake[1]);
	}
	conf_unref(w->next_cf);
	if (w->ctx.base != NULL)
		event_base_free(w->ctx.base);
}

/* Once the loop is done, on the worker's own thread: the connections,
 * then the caches their requests filled. */
static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct conn *c;

	event_base_dispatch(w->ctx.base);
	while ((c = TAILQ_FIRST(&w->conns)) != NULL)
		conn_free(c);
	exchange_cache_free();
	h1_client_cache_free();
	h2_server_cache_free();
	tell_main('x');
	return NULL;
}

unsigned
workers_count(const struct conf *cf)
{
	long n;

	if (cf->workers > 0)
		return cf->workers;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

int
workers_start(struct conf *cf, struct listeners *ls, unsigned n,
    struct event_base *main_base, const struct workers_events *ev,
    const char **why)
{
	unsigned i;

	*why = "out of memory";
	events = *ev;
	nworkers = n;
	if ((workers = calloc(n, sizeof(*workers))) == NULL)
		return -1;
	if (pipe2(back, O_NONBLOCK | O_CLOEXEC) == -1) {
		*why = "cannot create a pipe";
		return -1;
	}
	back_ev = event_new(main_base, back[0], EV_READ | EV_PERSIST, on_back,
	    NULL);
	if (back_ev == NULL || event_add(back_ev, NULL) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		workers[i].ctx.id = i;
		if (worker_init(&workers[i], cf, ls, why) == -1)
			return -1;
	}
	return 0;
}

int
workers_run(const char **why)
{
	unsigned i;

	for (i = 0; i < nworkers; i++) {
		if (pthread_create(&workers[i].thread, NULL, worker_main,
		    &workers[i]) != 0) {
			*why = "cannot start a worker thread";
			return -1;
		}
		workers[i].is_started = true;
	}
	log_msg(LOG_INFO, "started %u worker%s, max_connections %u each",
	    nworkers, nworkers == 1 ? "" : "s", workers[0].max_conns);
	return 0;
}

void
workers_reload(struct conf *cf, struct listeners *ls)
{
	unsigned i;

	nacks = 0;
	for (i = 0; i < nworkers; i++) {
		workers[i].next_cf = conf_ref(cf);
		workers[i].next_ls = ls;
		send_to(&workers[i], 'r');
	}
}

void
workers_stop(bool graceful)
{
	unsigned i;

	for (i = 0; i < nworkers; i++)
		send_to(&workers[i], graceful ? 's' : 'q');
}

void
workers_reopen_logs(void)
{
	unsigned i;

	for (i = 0; i < nworkers; i++)
		send_to(&workers[i], 'l');
}

void
workers_free(void)
{
	unsigned i;

	if (workers == NULL)
		return;
	for (i = 0; i < nworkers; i++)
		if (workers[i].is_started)
			pthread_join(workers[i].thread, NULL);
	for (i = 0; i < nworkers; i++)
		worker_fini(&workers[i]);
	free(workers);
	workers = NULL;
	if (back_ev != NULL)
		event_free(back_ev);
	back_ev = NULL;
	if (back[0] != -1) {
		close(back[0]);
		close(back[1]);
	}
	back[0] = back[1] = -1;
}

uint64_t
workers_connections(void)
{
	uint64_t n = 0;
	unsigned i;

	for (i = 0; i < nworkers; i++)
		n += __atomic_load_n(&workers[i].nconns, __ATOMIC_RELAXED);
	return n;
}

uint64_t
workers_requests(void)
{
	uint64_t n = 0;
	unsigned i;

	for (i = 0; i < nworkers; i++)
		n += __atomic_load_n(&workers[i].ctx.nrequests,
		    __ATOMIC_RELAXED);
	return n;
}
