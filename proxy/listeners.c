/* proxy/listeners.c: binding, systemd socket activation, and keeping
 * sockets across reloads.
 *
 * An entry holds the sockets of one address: one per worker for a TCP
 * address bound here (SO_REUSEPORT: the kernel spreads accepts), one
 * shared by every worker for a unix socket or a socket systemd passed.
 * A reload builds a new set: an address in both sets moves its entry
 * over (same sockets, same accept queue); the rest is bound anew; what
 * the new set does not take is closed once the workers let go.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "conf.h"
#include "listeners.h"
#include "log.h"

struct lentry {
	struct conf_addr addr;
	int *fds;                       /* nfds sockets */
	unsigned nfds;                  /* nworkers, or 1 when shared */
	bool is_adopted;                /* from systemd: never unlinked */
	bool is_taken;                  /* moved to a newer set */
};

struct listeners {
	struct lentry *v;               /* parallel to the conf's listens */
	size_t n;
	unsigned nworkers;
	unsigned nadopted;
};

static bool
same_addr(const struct conf_addr *a, const struct conf_addr *b)
{
	return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

static char *
errorf(const struct conf *cf, const struct conf_listen *l, const char *why)
{
	char *s;

	if (asprintf(&s, "%s:%d: cannot listen on %s: %s", cf->path, l->line,
	    l->addr.text, why) == -1)
		return NULL;
	return s;
}

/* SO_REUSEPORT would let a second portico (same user) share the port
 * silently: a plain bind first tells whether someone holds it. */
static int
check_free(const struct conf_addr *a)
{
	int fd, one = 1, rv = 0;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) == -1)
		rv = -1;
	close(fd);
	return rv;
}

static int
bind_one(const struct conf_addr *a)
{
	int fd, one = 1, family = a->ss.ss_family, err;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (family != AF_UNIX) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
		if (family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			    sizeof(one));
	} else {
		const struct sockaddr_un *un = (const void *)&a->ss;
		struct stat st;

		/* a stale socket from an earlier run */
		if (lstat(un->sun_path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(un->sun_path);
	}
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) == -1 ||
	    listen(fd, 4096) == -1) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

static void
close_entry(struct lentry *e)
{
	unsigned i;

	for (i = 0; i < e->nfds; i++)
		if (e->fds[i] != -1)
			close(e->fds[i]);
	if (e->addr.ss.ss_family == AF_UNIX && !e->is_adopted && e->nfds > 0)
		unlink(((const struct sockaddr_un *)&e->addr.ss)->sun_path);
	free(e->fds);
	e->fds = NULL;
	e->nfds = 0;
}

static int
bind_entry(struct lentry *e, unsigned nworkers)
{
	bool is_shared = e->addr.ss.ss_family == AF_UNIX;
	unsigned i, n = is_shared ? 1 : nworkers;

	if (!is_shared && check_free(&e->addr) == -1)
		return -1;
	if ((e->fds = malloc(n * sizeof(int))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if ((e->fds[i] = bind_one(&e->addr)) == -1) {
			int err = errno;

			e->nfds = i;
			close_entry(e);
			errno = err;
			return -1;
		}
	}
	e->nfds = n;
	return 0;
}

/* The address a socket systemd passed is bound to, in conf_addr form. */
static bool
fd_matches(int fd, const struct conf_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1 ||
	    ss.ss_family != a->ss.ss_family)
		return false;
	if (ss.ss_family == AF_UNIX)
		return strcmp(((struct sockaddr_un *)&ss)->sun_path,
		    ((const struct sockaddr_un *)&a->ss)->sun_path) == 0;
	return len == a->len && memcmp(&ss, &a->ss, len) == 0;
}

/* sd_listen_fds(): sockets from LISTEN_FDS, adopted for the listen lines
 * whose address they are bound to; others are closed with a warning. */
static void
adopt(struct listeners *ls, const struct conf *cf)
{
	int n = sd_listen_fds(1), i;
	size_t j;

	for (i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + i;

		for (j = 0; j < ls->n; j++)
			if (ls->v[j].nfds == 0 &&
			    fd_matches(fd, &cf->listens[j].addr))
				break;
		if (j == ls->n || (ls->v[j].fds = malloc(sizeof(int))) ==
		    NULL) {
			log_msg(LOG_WARNING, "systemd passed socket %d that "
			    "no listen line names: closed", fd);
			close(fd);
			continue;
		}
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		ls->v[j].fds[0] = fd;
		ls->v[j].nfds = 1;
		ls->v[j].is_adopted = true;
		ls->nadopted++;
	}
}

/* Moves OLD's entry for A, if any, into E. */
static bool
take_old(struct lentry *e, struct listeners *old, const struct conf_addr *a)
{
	size_t i;

	for (i = 0; old != NULL && i < old->n; i++) {
		struct lentry *o = &old->v[i];

		if (o->is_taken || o->nfds == 0 || !same_addr(&o->addr, a))
			continue;
		*e = *o;
		o->is_taken = true;
		e->is_taken = false;
		return true;
	}
	return false;
}

struct listeners *
listeners_open(const struct conf *cf, unsigned nworkers,
    struct listeners *old, char **err)
{
	struct listeners *ls;
	size_t j;

	*err = NULL;
	if ((ls = calloc(1, sizeof(*ls))) == NULL ||
	    (ls->v = calloc(cf->nlistens, sizeof(*ls->v))) == NULL)
		goto fail_oom;
	ls->n = cf->nlistens;
	ls->nworkers = nworkers;
	for (j = 0; j < ls->n; j++)
		ls->v[j].addr = cf->listens[j].addr;
	if (old == NULL)
		adopt(ls, cf);
	for (j = 0; j < ls->n; j++) {
		struct lentry *e = &ls->v[j];

		if (e->nfds > 0 || take_old(e, old, &e->addr))
			continue;
		if (bind_entry(e, nworkers) == -1) {
			*err = errorf(cf, &cf->listens[j], strerror(errno));
			goto fail;
		}
	}
	return ls;

fail_oom:
	if (ls != NULL)
		free(ls->v);
	free(ls);
	*err = strdup("out of memory");
	return NULL;
fail:
	/* give back what was taken from OLD, close what was bound */
	for (j = 0; j < ls->n; j++) {
		struct lentry *e = &ls->v[j];
		size_t i;

		for (i = 0; old != NULL && i < old->n; i++)
			if (old->v[i].is_taken && old->v[i].fds == e->fds &&
			    e->fds != NULL) {
				old->v[i].is_taken = false;
				e->fds = NULL;
				e->nfds = 0;
			}
		close_entry(e);
	}
	free(ls->v);
	free(ls);
	return NULL;
}

void
listeners_retire(struct listeners *old, const struct listeners *now)
{
	size_t i;

	(void)now;
	if (old == NULL)
		return;
	for (i = 0; i < old->n; i++)
		if (!old->v[i].is_taken)
			close_entry(&old->v[i]);
	free(old->v);
	free(old);
}

void
listeners_free(struct listeners *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		if (!l->v[i].is_taken)
			close_entry(&l->v[i]);
	free(l->v);
	free(l);
}

int
listeners_fd(const struct listeners *l, size_t i, unsigned w)
{
	const struct lentry *e = &l->v[i];

	return e->nfds == 1 ? e->fds[0] : e->fds[w];
}

size_t
listeners_count(const struct listeners *l)
{
	return l->n;
}

unsigned
listeners_adopted(const struct listeners *l)
{
	return l->nadopted;
}
