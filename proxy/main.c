/* proxy/main.c: arguments, configuration check, lifecycle and signals.
 * The main thread never touches a client connection: it starts the
 * workers, then waits for signals. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "log.h"
#include "tls.h"
#include "worker.h"

#define PORTICO_VERSION "0.1.0"

static void
usage(FILE *f)
{
	fprintf(f, "usage: portico [-t] [-c FILE]\n"
	    "       portico -v\n"
	    "  -c FILE  configuration file (default %s)\n"
	    "  -t       check the configuration and exit\n"
	    "  -v       print the version and exit\n", CONF_DEFAULT_PATH);
}

static void
on_stop(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	log_msg(LOG_INFO, "%s: stopping", strsignal((int)sig));
	event_base_loopbreak(arg);
}

static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	(void)arg;
	log_msg(LOG_NOTICE, "SIGHUP: in-process reload is not available in "
	    "this version; restart portico to load a new configuration");
}

/* Session ticket keys rotate on a schedule; the previous key still
 * decrypts, so a ticket stays good for two periods. */
static void
on_rotate(evutil_socket_t fd, short what, void *arg)
{
	struct conf *cf = arg;

	(void)fd;
	(void)what;
	if (cf->tls != NULL)
		tls_rotate_tickets(cf->tls);
}

static int
run(struct conf *cf)
{
	struct timeval period = { TLS_TICKET_ROTATE_SECONDS, 0 };
	struct event_base *base;
	struct event *ev_int, *ev_term, *ev_hup, *ev_rotate;
	const char *why;
	int rc = 0;

	signal(SIGPIPE, SIG_IGN);
	if ((base = event_base_new()) == NULL)
		return 1;
	ev_int = evsignal_new(base, SIGINT, on_stop, base);
	ev_term = evsignal_new(base, SIGTERM, on_stop, base);
	ev_hup = evsignal_new(base, SIGHUP, on_hup, base);
	event_add(ev_int, NULL);
	event_add(ev_term, NULL);
	event_add(ev_hup, NULL);
	ev_rotate = event_new(base, -1, EV_PERSIST, on_rotate, cf);
	event_add(ev_rotate, &period);
	if (workers_start(cf, &why) == -1) {
		log_msg(LOG_ERR, "cannot start: %s", why);
		rc = 1;
	} else {
		log_msg(LOG_INFO, "portico %s running with %s",
		    PORTICO_VERSION, cf->path);
		event_base_dispatch(base);
	}
	workers_stop();
	event_free(ev_int);
	event_free(ev_term);
	event_free(ev_hup);
	event_free(ev_rotate);
	event_base_free(base);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *path = CONF_DEFAULT_PATH, *why;
	struct conf *cf;
	bool only_test = false;
	char *err;
	int ch, rc;

	while ((ch = getopt(argc, argv, "c:thv")) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
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
	if ((cf = conf_load(path, &err)) == NULL ||
	    tls_load(cf, &err) == -1) {
		fprintf(stderr, "%s\n", err);
		free(err);
		conf_unref(cf);
		return 1;
	}
	if (only_test) {
		fprintf(stderr, "%s: configuration is ok\n", path);
		conf_unref(cf);
		return 0;
	}
	if (log_open(cf, &why) == -1) {
		fprintf(stderr, "%s: cannot open error log %s: %s\n", path,
		    cf->error_log, why);
		conf_unref(cf);
		return 1;
	}
	rc = run(cf);
	conf_unref(cf);
	log_close();
	libevent_global_shutdown();
	return rc;
}
