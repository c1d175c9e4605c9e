/* proxy/tunnel.c: two sockets, two directions. Each direction moves
 * whole evbuffer chains from one socket's input to the other's output
 * (no copy); above TUNNEL_HIGH queued, reading the source stops until the
 * destination drains to TUNNEL_LOW. The idle timer is not re-armed per
 * chunk: each read stamps the time, and the timer, when it fires, either
 * expires the tunnel or waits for the rest of the period. */
#include <stdbool.h>
#include <stdlib.h>
#include <sys/time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include "sock.h"
#include "tunnel.h"

#define TUNNEL_HIGH (256 * 1024)
#define TUNNEL_LOW  (64 * 1024)

struct tunnel {
	struct event_base *base;
	struct sock *client, *backend;
	uint64_t up, down;              /* bytes client->backend, back */
	bool is_client_eof, is_backend_eof;
	bool is_done;
	unsigned timeout_ms;
	struct timeval last;            /* last byte either way */
	struct event timer;
	tunnel_done_fn *done;
	void *arg;
};

static void
finish(struct tunnel *t, const char *why)
{
	if (t->is_done)
		return;
	t->is_done = true;
	event_del(&t->timer);
	sock_read_enable(t->client, false);
	sock_read_enable(t->backend, false);
	t->done(t->arg, why, t->up, t->down);
}

static struct sock *
peer(struct tunnel *t, struct sock *s)
{
	return s == t->client ? t->backend : t->client;
}

static void
pump(struct tunnel *t, struct sock *from)
{
	struct sock *to = peer(t, from);
	struct evbuffer *in = sock_input(from);
	size_t n = evbuffer_get_length(in);

	if (n == 0)
		return;
	event_base_gettimeofday_cached(t->base, &t->last);
	if (from == t->client)
		t->up += n;
	else
		t->down += n;
	evbuffer_add_buffer(sock_output(to), in);
	if (evbuffer_get_length(sock_output(to)) > TUNNEL_HIGH)
		sock_read_enable(from, false);
}

static void
on_read(struct sock *s, void *arg)
{
	pump(arg, s);
}

/* Both sides ended: the tunnel is done once the last bytes (and the
 * shutdowns behind them) are out on both sockets. */
static void
finish_if_flushed(struct tunnel *t)
{
	if (!t->is_client_eof || !t->is_backend_eof ||
	    sock_pending(t->client) > 0 ||
	    sock_pending(t->backend) > 0)
		return;
	finish(t, "closed");
}

/* S drained below the low mark: its peer may send again. */
static void
on_drain(struct sock *s, void *arg)
{
	struct tunnel *t = arg;
	struct sock *from = peer(t, s);
	bool is_eof = from == t->client ? t->is_client_eof : t->is_backend_eof;

	if (!t->is_done && !is_eof)
		sock_read_enable(from, true);
	if (!t->is_done)
		finish_if_flushed(t);
}

/* S sent its EOF: the peer gets one (shutdown(SHUT_WR), or a TLS
 * close_notify) once the bytes before it are out, and the other
 * direction flows on until it ends too. */
static void
side_ended(struct tunnel *t, struct sock *s)
{
	pump(t, s);
	if (s == t->client)
		t->is_client_eof = true;
	else
		t->is_backend_eof = true;
	sock_shutdown_write(peer(t, s));
	if (t->is_client_eof && t->is_backend_eof) {
		/* from now on on_drain comes only once an output is empty */
		sock_set_write_low(t->client, 0);
		sock_set_write_low(t->backend, 0);
		finish_if_flushed(t);
	}
}

static void
on_event(struct sock *s, short what, void *arg)
{
	struct tunnel *t = arg;

	if (what & SOCK_EOF && !(what & SOCK_ERROR)) {
		side_ended(t, s);
		return;
	}
	if (what & SOCK_TIMEOUT)
		return;
	finish(t, s == t->client ? "client connection reset" :
	    "backend connection reset");
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct tunnel *t = arg;
	struct timeval now, idle, left, limit = { t->timeout_ms / 1000,
	    t->timeout_ms % 1000 * 1000 };

	(void)fd;
	(void)what;
	event_base_gettimeofday_cached(t->base, &now);
	timersub(&now, &t->last, &idle);
	if (timercmp(&idle, &limit, >=)) {
		finish(t, "tunnel idle timeout");
		return;
	}
	timersub(&limit, &idle, &left);
	event_add(&t->timer, &left);
}

struct tunnel *
tunnel_new(struct event_base *base, struct sock *client, struct sock *backend,
    unsigned timeout_ms, tunnel_done_fn *done, void *arg)
{
	struct tunnel *t;
	struct timeval tv = { timeout_ms / 1000, timeout_ms % 1000 * 1000 };

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->base = base;
	t->client = client;
	t->backend = backend;
	t->timeout_ms = timeout_ms;
	t->done = done;
	t->arg = arg;
	event_base_gettimeofday_cached(base, &t->last);
	evtimer_assign(&t->timer, base, on_timer, t);
	event_add(&t->timer, &tv);
	sock_setcb(client, on_read, on_drain, on_event, t);
	sock_setcb(backend, on_read, on_drain, on_event, t);
	sock_set_timeouts(client, NULL, NULL);
	sock_set_timeouts(backend, NULL, NULL);
	sock_set_read_high(client, TUNNEL_HIGH);
	sock_set_read_high(backend, TUNNEL_HIGH);
	sock_set_write_low(client, TUNNEL_LOW);
	sock_set_write_low(backend, TUNNEL_LOW);
	sock_read_enable(client, true);
	sock_read_enable(backend, true);
	pump(t, client);
	pump(t, backend);
	/* an EOF that came before the tunnel (the client half-closed after
	 * its upgrade request) was reported to the previous owner */
	if (sock_is_eof(client))
		side_ended(t, client);
	if (sock_is_eof(backend) && !t->is_done)
		side_ended(t, backend);
	return t;
}

void
tunnel_free(struct tunnel *t)
{
	if (t == NULL)
		return;
	event_del(&t->timer);
	sock_free(t->backend);
	free(t);
}
