/* proxy/main.c: arguments, configuration check, lifecycle and signals.
 * The main thread never touches a client connection: it binds the
 * listeners, starts the workers, then handles signals: SIGHUP reloads in
 * process, SIGTERM/SIGINT stop gracefully (a second one at once),
 * SIGUSR1 reopens the logs. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "daemon.h"
#include "heap.h"
#include "listeners.h"
#include "log.h"
#include "tls.h"
#include "worker.h"

#define PORTICO_VERSION "0.1.0"
#define STATUS_SECONDS  2

struct state {
	const char *path;
	struct event_base *base;
	unsigned nworkers;
	struct conf *cf;                /* the one in force */
	struct listeners *ls;
	struct conf *next_cf;           /* a reload the workers are taking */
	struct listeners *next_ls;
	bool is_stopping;
	char note[400];                 /* last reload failure, for STATUS */
	uint64_t last_requests;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: portico [-t] [-c FILE]\n"
	    "       portico -v\n"
	    "  -c FILE  configuration file (default %s)\n"
	    "  -t       check the configuration and exit\n"
	    "  -v       print the version and exit\n", CONF_DEFAULT_PATH);
}

/* A config and its TLS contexts; OLD's ticket keys are kept. */
static struct conf *
load(const char *path, struct conf *old, char **err)
{
	struct conf *cf = conf_load(path, err);

	if (cf == NULL)
		return NULL;
	if (tls_load_keep_tickets(cf, old != NULL ? old->tls : NULL, err) ==
	    -1) {
		conf_unref(cf);
		return NULL;
	}
	return cf;
}

static void
post_status(struct state *st)
{
	uint64_t n = workers_requests();
	uint64_t rate = (n - st->last_requests) / STATUS_SECONDS;

	st->last_requests = n;
	daemon_status("%llu connections, %llu req/s%s%s",
	    (unsigned long long)workers_connections(),
	    (unsigned long long)rate, st->note[0] != '\0' ? "; " : "",
	    st->note);
}

static void
reload_failed(struct state *st, const char *err)
{
	log_msg(LOG_ERR, "reload failed, keeping the running configuration: "
	    "%s", err);
	snprintf(st->note, sizeof(st->note), "reload failed: %s", err);
	post_status(st);
	daemon_ready();
}

/* SIGHUP: everything that can fail happens here, before any worker sees
 * the new config. */
static void
reload(struct state *st)
{
	struct conf *cf;
	char *err;
	const char *why;

	if (st->next_cf != NULL || st->is_stopping) {
		log_msg(LOG_NOTICE, "SIGHUP: a reload or stop is under way");
		return;
	}
	daemon_reloading();
	log_msg(LOG_INFO, "SIGHUP: reloading %s", st->path);
	if ((cf = load(st->path, st->cf, &err)) == NULL ||
	    (st->next_ls = listeners_open(cf, st->nworkers, st->ls, &err)) ==
	    NULL) {
		reload_failed(st, err != NULL ? err : "out of memory");
		free(err);
		conf_unref(cf);
		return;
	}
	if (workers_count(cf) != st->nworkers)
		log_msg(LOG_NOTICE, "the number of workers changes only at "
		    "a restart");
	if (log_open(cf, &why) == -1)
		log_msg(LOG_ERR, "cannot open error log %s: %s", cf->error_log,
		    why);
	st->next_cf = cf;
	workers_reload(cf, st->next_ls);
}

/* Every worker runs the new config: what only the old one used goes. */
static void
on_reloaded(void *arg)
{
	struct state *st = arg;

	listeners_retire(st->ls, st->next_ls);
	st->ls = st->next_ls;
	conf_unref(st->cf);
	st->cf = st->next_cf;
	st->next_cf = NULL;
	st->next_ls = NULL;
	st->note[0] = '\0';
	log_msg(LOG_INFO, "reloaded %s", st->path);
	post_status(st);
	daemon_ready();
}

/* A graceful stop began and no worker accepts any more: close the
 * listening sockets now, so that new clients are refused rather than left
 * in an accept queue nobody reads. */
static void
on_released(void *arg)
{
	struct state *st = arg;

	listeners_free(st->ls);
	st->ls = NULL;
}

static void
on_stopped(void *arg)
{
	struct state *st = arg;

	event_base_loopbreak(st->base);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct state *st = arg;
	const char *why;

	(void)what;
	if (sig == SIGHUP) {
		reload(st);
	} else if (sig == SIGUSR1) {
		log_msg(LOG_INFO, "SIGUSR1: reopening the logs");
		if (log_reopen(&why) == -1)
			log_msg(LOG_ERR, "cannot reopen the error log: %s",
			    why);
		workers_reopen_logs();
	} else if (!st->is_stopping) {
		log_msg(LOG_INFO, "%s: stopping gracefully (again: at once)",
		    strsignal((int)sig));
		st->is_stopping = true;
		daemon_stopping();
		workers_stop(true);
	} else {
		log_msg(LOG_INFO, "%s: stopping now", strsignal((int)sig));
		workers_stop(false);
	}
}

/* Session ticket keys rotate on a schedule; the previous key still
 * decrypts, so a ticket stays good for two periods. */
static void
on_rotate(evutil_socket_t fd, short what, void *arg)
{
	struct state *st = arg;

	(void)fd;
	(void)what;
	if (st->cf->tls != NULL)
		tls_rotate_tickets(st->cf->tls);
}

static void
on_status(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	post_status(arg);
}

static int
serve(struct state *st)
{
	static const struct workers_events ev = { on_reloaded, on_released,
	    on_stopped, NULL };
	struct workers_events events = ev;
	const char *why;
	char *err;

	st->nworkers = workers_count(st->cf);
	if ((st->ls = listeners_open(st->cf, st->nworkers, NULL, &err)) ==
	    NULL) {
		log_msg(LOG_ERR, "%s", err != NULL ? err : "out of memory");
		free(err);
		return 1;
	}
	events.arg = st;
	if (workers_start(st->cf, st->ls, st->nworkers, st->base, &events,
	    &why) == -1 || daemon_drop_privileges(st->cf, &why) == -1 ||
	    workers_run(&why) == -1) {
		log_msg(LOG_ERR, "cannot start: %s", why);
		workers_stop(false);
		return 1;
	}
	if (listeners_adopted(st->ls) > 0)
		log_msg(LOG_INFO, "adopted %u socket%s from systemd",
		    listeners_adopted(st->ls),
		    listeners_adopted(st->ls) == 1 ? "" : "s");
	log_msg(LOG_INFO, "portico %s running with %s", PORTICO_VERSION,
	    st->path);
	daemon_ready();
	post_status(st);
	event_base_dispatch(st->base);
	return 0;
}

static int
run(struct state *st)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1 };
	struct timeval period = { TLS_TICKET_ROTATE_SECONDS, 0 };
	struct timeval status = { STATUS_SECONDS, 0 };
	struct event *ev[6] = { NULL };
	size_t i;
	int rc;

	signal(SIGPIPE, SIG_IGN);
	heap_setup();                   /* freed memory stays while busy */
	if ((st->base = event_base_new()) == NULL)
		return 1;
	for (i = 0; i < 4; i++) {
		ev[i] = evsignal_new(st->base, sigs[i], on_signal, st);
		event_add(ev[i], NULL);
	}
	ev[4] = event_new(st->base, -1, EV_PERSIST, on_rotate, st);
	event_add(ev[4], &period);
	ev[5] = event_new(st->base, -1, EV_PERSIST, on_status, st);
	event_add(ev[5], &status);
	rc = serve(st);
	workers_free();
	listeners_free(st->ls);
	listeners_free(st->next_ls);
	conf_unref(st->next_cf);
	for (i = 0; i < 6; i++)
		if (ev[i] != NULL)
			event_free(ev[i]);
	event_base_free(st->base);
	return rc;
}

int
main(int argc, char **argv)
{
	struct state st = { .path = CONF_DEFAULT_PATH };
	bool only_test = false;
	const char *why;
	char *err;
	int ch, rc;

	while ((ch = getopt(argc, argv, "c:thv")) != -1) {
		switch (ch) {
		case 'c': st.path = optarg; break;
		case 't': only_test = true; break;
		case 'v': printf("portico %s\n", PORTICO_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}
	if ((st.cf = load(st.path, NULL, &err)) == NULL) {
		fprintf(stderr, "%s\n", err);
		free(err);
		return 1;
	}
	if (only_test) {
		fprintf(stderr, "%s: configuration is ok\n", st.path);
		conf_unref(st.cf);
		return 0;
	}
	if (log_open(st.cf, &why) == -1) {
		fprintf(stderr, "%s: cannot open error log %s: %s\n", st.path,
		    st.cf->error_log, why);
		conf_unref(st.cf);
		return 1;
	}
	rc = run(&st);
	conf_unref(st.cf);
	log_close();
	libevent_global_shutdown();
	return rc;
}
