/* proxy/worker.c: the main thread binds every listener up front (so a
 * bad address fails before anything runs): each TCP listen line gets one
 * SO_REUSEPORT socket per worker, so the kernel spreads accepts with no
 * lock; a unix socket is bound once and shared. Then each worker thread
 * runs its own event loop with its own backend pools. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "backend.h"
#include "conf.h"
#include "conn.h"
#include "exchange.h"
#include "h1_client.h"
#include "log.h"
#include "worker.h"

struct worker {
	unsigned id;
	pthread_t thread;
	struct event_base *base;
	struct conf *cf;
	struct backend **backends;      /* by conf_backend.index */
	struct access_log *alog;
	struct evconnlistener **listeners;      /* one per conf listen */
	int *fds;                       /* their sockets */
	uint64_t next_conn_id;
	TAILQ_HEAD(, conn) conns;
	int wake[2];                    /* main thread -> worker messages */
	struct event *wake_ev;
};

static struct worker *workers;
static unsigned nworkers;

static unsigned
count_workers(const struct conf *cf)
{
	long n;

	if (cf->workers > 0)
		return cf->workers;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

static int
bind_one(const struct conf_listen *l, bool reuseport)
{
	int fd, one = 1;
	int family = l->addr.ss.ss_family;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (family != AF_UNIX) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (reuseport)
			setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one,
			    sizeof(one));
		if (family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			    sizeof(one));
	} else {
		const struct sockaddr_un *un = (const void *)&l->addr.ss;
		struct stat st;

		/* a stale socket from an earlier run */
		if (lstat(un->sun_path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(un->sun_path);
	}
	if (bind(fd, (const struct sockaddr *)&l->addr.ss, l->addr.len) == -1
	    || listen(fd, 4096) == -1) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* SO_REUSEPORT would let a second portico (same user) share the port
 * silently: a plain bind first tells whether someone holds it. */
static int
check_free(const struct conf_listen *l)
{
	int fd, one = 1, rv = 0;

	if (l->addr.ss.ss_family == AF_UNIX)
		return 0;
	fd = socket(l->addr.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l->addr.ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&l->addr.ss, l->addr.len) == -1)
		rv = -1;
	close(fd);
	return rv;
}

/* Binds every listener for every worker; -1 after logging the error. */
static int
bind_all(struct conf *cf)
{
	unsigned i;
	size_t j;

	for (j = 0; j < cf->nlistens; j++) {
		const struct conf_listen *l = &cf->listens[j];
		bool is_unix = l->addr.ss.ss_family == AF_UNIX;
		int shared = -1;

		if (check_free(l) == -1) {
			log_errno(LOG_ERR, "%s:%d: cannot listen on %s",
			    cf->path, l->line, l->addr.text);
			return -1;
		}
		for (i = 0; i < nworkers; i++) {
			int fd = is_unix && i > 0 ? shared : bind_one(l, true);

			if (fd == -1) {
				log_errno(LOG_ERR, "%s:%d: cannot listen on %s",
				    cf->path, l->line, l->addr.text);
				return -1;
			}
			shared = fd;
			workers[i].fds[j] = fd;
		}
	}
	return 0;
}

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct worker *w = arg;
	size_t j;

	for (j = 0; j < w->cf->nlistens; j++)
		if (w->listeners[j] == l)
			break;
	conn_new(w, w->cf, &w->cf->listens[j], fd, sa, salen);
}

static void
on_accept_error(struct evconnlistener *l, void *arg)
{
	(void)l;
	(void)arg;
	log_errno(LOG_WARNING, "accept");
}

/* The main thread writes a byte to stop the worker. Event bases run
 * without libevent's locks: nothing else crosses threads. */
static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	char b;

	(void)what;
	if (read(fd, &b, 1) == 1 && b == 'q')
		event_base_loopbreak(w->base);
}

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
worker_init(struct worker *w, struct conf *cf, const char **why)
{
	size_t j;

	*why = "out of memory";
	w->cf = conf_ref(cf);
	TAILQ_INIT(&w->conns);
	if ((w->base = new_base()) == NULL)
		return -1;
	if (pipe2(w->wake, O_NONBLOCK | O_CLOEXEC) == -1) {
		*why = "cannot create a pipe";
		return -1;
	}
	w->wake_ev = event_new(w->base, w->wake[0], EV_READ | EV_PERSIST,
	    on_wake, w);
	if (w->wake_ev == NULL || event_add(w->wake_ev, NULL) == -1)
		return -1;
	w->backends = calloc(cf->nbackends, sizeof(*w->backends));
	w->listeners = calloc(cf->nlistens, sizeof(*w->listeners));
	if (w->backends == NULL || w->listeners == NULL)
		return -1;
	for (j = 0; j < cf->nbackends; j++)
		if ((w->backends[j] = backend_new(w->base, cf,
		    &cf->backends[j])) == NULL)
			return -1;
	w->alog = access_log_new(w->base, cf, why);
	if (w->alog == NULL && cf->access_log != NULL)
		return -1;
	return 0;
}

static int
worker_listen(struct worker *w)
{
	size_t j;

	for (j = 0; j < w->cf->nlistens; j++) {
		bool is_shared = w->cf->listens[j].addr.ss.ss_family == AF_UNIX;
		/* worker 0 owns a shared socket; the others borrow it */
		unsigned flags = LEV_OPT_REUSEABLE |
		    (is_shared && w->id > 0 ? 0 : LEV_OPT_CLOSE_ON_FREE);

		w->listeners[j] = evconnlistener_new(w->base, on_accept, w,
		    flags, 0, w->fds[j]);
		if (w->listeners[j] == NULL)
			return -1;
		w->fds[j] = -1;                 /* the listener has it now */
		evconnlistener_set_error_cb(w->listeners[j], on_accept_error);
	}
	return 0;
}

static void
worker_fini(struct worker *w)
{
	struct conn *c;
	size_t j;

	while ((c = TAILQ_FIRST(&w->conns)) != NULL)
		conn_free(c);
	for (j = 0; w->listeners != NULL && j < w->cf->nlistens; j++) {
		if (w->listeners[j] != NULL)
			evconnlistener_free(w->listeners[j]);
		else if (w->fds[j] != -1 && (w->id == 0 ||
		    w->cf->listens[j].addr.ss.ss_family != AF_UNIX))
			close(w->fds[j]);
	}
	for (j = 0; w->backends != NULL && j < w->cf->nbackends; j++)
		backend_free(w->backends[j]);
	access_log_free(w->alog);
	if (w->wake_ev != NULL)
		event_free(w->wake_ev);
	if (w->wake[0] != w->wake[1]) {
		close(w->wake[0]);
		close(w->wake[1]);
	}
	if (w->base != NULL)
		event_base_free(w->base);
	free(w->listeners);
	free(w->backends);
	free(w->fds);
	conf_unref(w->cf);
}

/* Once the loop is done, on the worker's own thread: the connections,
 * then the caches their requests filled. */
static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct conn *c;

	event_base_dispatch(w->base);
	while ((c = TAILQ_FIRST(&w->conns)) != NULL)
		conn_free(c);
	exchange_cache_free();
	h1_client_cache_free();
	return NULL;
}

static void
unlink_unix(const struct conf *cf)
{
	size_t j;

	for (j = 0; j < cf->nlistens; j++) {
		const struct sockaddr_un *un = (const void *)&cf->listens[j].addr.ss;

		if (un->sun_family == AF_UNIX)
			unlink(un->sun_path);
	}
}

int
workers_start(struct conf *cf, const char **why)
{
	unsigned i;

	nworkers = count_workers(cf);
	*why = "out of memory";
	if ((workers = calloc(nworkers, sizeof(*workers))) == NULL)
		return -1;
	for (i = 0; i < nworkers; i++) {
		workers[i].id = i;
		workers[i].fds = malloc(cf->nlistens * sizeof(int));
		if (workers[i].fds == NULL)
			return -1;
		memset(workers[i].fds, -1, cf->nlistens * sizeof(int));
	}
	if (bind_all(cf) == -1) {
		*why = "cannot listen";
		return -1;
	}
	for (i = 0; i < nworkers; i++)
		if (worker_init(&workers[i], cf, why) == -1 ||
		    worker_listen(&workers[i]) == -1)
			return -1;
	for (i = 0; i < nworkers; i++)
		if (pthread_create(&workers[i].thread, NULL, worker_main,
		    &workers[i]) != 0) {
			*why = "cannot start a worker thread";
			return -1;
		}
	log_msg(LOG_INFO, "started %u worker%s", nworkers,
	    nworkers == 1 ? "" : "s");
	return 0;
}

void
workers_stop(void)
{
	unsigned i;

	if (workers == NULL)
		return;
	for (i = 0; i < nworkers; i++)
		if (workers[i].thread != 0 &&
		    write(workers[i].wake[1], "q", 1) != 1)
			log_errno(LOG_ERR, "cannot stop worker %u", i);
	for (i = 0; i < nworkers; i++)
		if (workers[i].thread != 0)
			pthread_join(workers[i].thread, NULL);
	/* last first: worker 0 closes the shared sockets the others use */
	for (i = nworkers; i-- > 0;)
		if (workers[i].cf != NULL) {
			if (i == 0)
				unlink_unix(workers[0].cf);
			worker_fini(&workers[i]);
		}
	free(workers);
	workers = NULL;
}

struct event_base *
worker_base(struct worker *w)
{
	return w->base;
}

unsigned
worker_id(const struct worker *w)
{
	return w->id;
}

struct backend *
worker_backend(struct worker *w, const struct conf_backend *cb)
{
	return w->backends[cb->index];
}

struct access_log *
worker_access_log(struct worker *w)
{
	return w->alog;
}

uint64_t
worker_next_conn_id(struct worker *w)
{
	return ++w->next_conn_id;
}

int64_t
worker_now_us(struct worker *w)
{
	struct timeval tv;

	event_base_gettimeofday_cached(w->base, &tv);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

uint64_t
worker_now_ms(struct worker *w)
{
	return (uint64_t)worker_now_us(w) / 1000;
}

void
worker_add_conn(struct worker *w, struct conn *c)
{
	TAILQ_INSERT_TAIL(&w->conns, c, link);
}

void
worker_remove_conn(struct worker *w, struct conn *c)
{
	TAILQ_REMOVE(&w->conns, c, link);
}
