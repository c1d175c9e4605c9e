/* proxy/sock.c: socket I/O over evbuffers, cleartext or TLS.
 *
 * Reading: a persistent read event; each readable event reads into space
 * reserved in the input buffer (cleartext: one readv; TLS: SSL_read until
 * OpenSSL has nothing left), then calls on_read. Writing: every add to the
 * output buffer schedules (event_active, no syscall) one flush that runs
 * after the current callback; the flush writes what it can with writev or
 * SSL_write and arms the write event only if the kernel refused some.
 *
 * TLS records do not go to the socket one write(2) each: OpenSSL writes
 * them through a BIO of ours into the wire buffer, and a flush hands the
 * kernel all of them with one writev (a 1 MiB HTTP/2 response was 65
 * writes, one a record, each paying loopback TCP's send and receive
 * path). The wire holds at most SOCK_WIRE_HIGH and one record.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "guard.h"
#include "sock.h"

#define SOCK_READ_CHUNK (32 * 1024)
#define SOCK_TLS_RECORD (16 * 1024)
#define SOCK_WIRE_HIGH  (64 * 1024)     /* records batched per writev */
#define SOCK_TLS_READ   (64 * 1024)     /* OpenSSL's read-ahead buffer */
/* Dynamic record size: records that fit one TCP segment (1300 bytes and
 * TLS's 22 fit an IPv6 segment with options) until SOCK_TLS_WARM bytes
 * are out, and again after SOCK_TLS_COOL_MS without a write; 16 KiB in
 * between. A client decrypts nothing of a record before all of it has
 * come: a 16 KiB one is 12 segments, more than a new connection's first
 * window, so a response's first bytes would wait a round trip more. */
#define SOCK_TLS_SMALL  1300
#define SOCK_TLS_WARM   (1024 * 1024)
#define SOCK_TLS_COOL_MS 1000

enum sock_state {
	SOCK_S_CONNECTING = 0,  /* connect() in progress */
	SOCK_S_HANDSHAKE,       /* TLS handshake in progress */
	SOCK_S_OPEN,            /* data flows */
	SOCK_S_DEAD,            /* an error was reported */
};

struct sock {
	int fd;
	SSL *ssl;
	enum sock_state state;
	struct evbuffer *in, *out;
	struct evbuffer *wire;          /* TLS: records not yet written */
	struct event rev, wev, flush_ev;
	struct timeval rtv, wtv;
	bool has_rtv, has_wtv;
	bool is_reading;                /* the owner wants input */
	bool is_read_armed;             /* rev is added */
	bool is_write_armed;            /* wev is added */
	bool is_flush_pending;
	bool is_eof;                    /* no more input will come; output
	                                 * still goes (a half-close) */
	bool wants_shutdown;            /* shut writing once output is out */
	bool is_shut;
	bool is_aborted;                /* closes with a reset (sock_abort) */
	/* read_tls stopped at READ_HIGH before OpenSSL asked for more: what
	 * it read ahead may hold whole records no read event will announce */
	bool is_tls_held;
	size_t tls_warm;                /* written since the last cool-down,
	                                 * up to SOCK_TLS_WARM */
	struct timeval tls_last;        /* the last SSL_write (loop time) */
	size_t read_high, write_low;
	sock_data_fn *on_read, *on_drain;
	sock_event_fn *on_event;
	void *arg;
	struct guard guard;             /* our libevent callbacks */
};

static void do_flush(struct sock *s);
static void schedule_flush(struct sock *s);

static void destroy(struct sock *s);

/* Owners may free the sock from any callback: the free then waits until
 * the outermost libevent callback returns (leave). */
static void
enter(struct sock *s)
{
	guard_enter(&s->guard);
}

static void
leave(struct sock *s)
{
	if (guard_leave(&s->guard))
		destroy(s);
}

/* An EOF ends the input only: the peer half-closed, and what the owner
 * still queues is written (RFC 9293 §3.6; a tunnel carries each
 * direction's end separately). An error ends both. */
static void
report(struct sock *s, short what)
{
	if (what & SOCK_ERROR)
		s->state = SOCK_S_DEAD;
	if (s->on_event != NULL)
		s->on_event(s, what, s->arg);
}

/* The read event is armed when the owner reads, input has room, and
 * input can still come. */
static void
update_read(struct sock *s)
{
	bool want = !s->guard.is_freed && s->is_reading && !s->is_eof &&
	    s->state != SOCK_S_DEAD &&
	    (s->read_high == 0 || evbuffer_get_length(s->in) < s->read_high);

	if (s->state == SOCK_S_HANDSHAKE || s->state == SOCK_S_CONNECTING)
		want = s->state == SOCK_S_HANDSHAKE;
	if (want == s->is_read_armed) {
		/* armed all along, and the owner took the input that stopped
		 * read_tls: the records it left inside OpenSSL are read now */
		if (want && s->is_tls_held) {
			s->is_tls_held = false;
			event_active(&s->rev, EV_READ, 1);
		}
		return;
	}
	if (want)
		event_add(&s->rev, s->has_rtv ? &s->rtv : NULL);
	else
		event_del(&s->rev);
	s->is_read_armed = want;
	/* OpenSSL may hold records it read ahead: no read event would come
	 * for them, as the kernel has nothing left */
	if (want && s->ssl != NULL && s->state == SOCK_S_OPEN &&
	    SSL_has_pending(s->ssl))
		event_active(&s->rev, EV_READ, 1);
}

static void
arm_write(struct sock *s, bool on)
{
	if (on == s->is_write_armed)
		return;
	if (on)
		event_add(&s->wev, s->has_wtv ? &s->wtv : NULL);
	else
		event_del(&s->wev);
	s->is_write_armed = on;
}

/* The wire: OpenSSL's records, written out in one writev. */

static int
wire_write(BIO *b, const char *data, size_t len, size_t *written)
{
	BIO_clear_retry_flags(b);
	if (evbuffer_add(BIO_get_data(b), data, len) != 0)
		return 0;               /* out of memory: an SSL error */
	*written = len;
	return 1;
}

static long
wire_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	return cmd == BIO_CTRL_FLUSH;   /* flushed by write_wire */
}

static BIO_METHOD *wire_method;
static pthread_once_t wire_once = PTHREAD_ONCE_INIT;

static void
wire_method_init(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() |
	    BIO_TYPE_SOURCE_SINK, "portico wire");

	if (m != NULL && (!BIO_meth_set_write_ex(m, wire_write) ||
	    !BIO_meth_set_ctrl(m, wire_ctrl))) {
		BIO_meth_free(m);
		m = NULL;
	}
	wire_method = m;
}

/* Reads from the socket (OpenSSL's own BIO, read-ahead); writes into
 * WIRE. The BIOs go with the SSL. */
static bool
wire_attach(SSL *ssl, int fd, struct evbuffer *wire)
{
	BIO *r, *w;

	pthread_once(&wire_once, wire_method_init);
	if (wire_method == NULL)
		return false;
	if ((r = BIO_new_socket(fd, BIO_NOCLOSE)) == NULL)
		return false;
	if ((w = BIO_new(wire_method)) == NULL) {
		BIO_free(r);
		return false;
	}
	BIO_set_data(w, wire);
	BIO_set_init(w, 1);
	SSL_set_bio(ssl, r, w);
	return true;
}

static size_t
wire_length(const struct sock *s)
{
	return s->wire != NULL ? evbuffer_get_length(s->wire) : 0;
}

static int
write_wire(struct sock *s)
{
	if (wire_length(s) == 0)
		return 0;
	if (evbuffer_write(s->wire, s->fd) < 0 && errno != EAGAIN &&
	    errno != EINTR)
		return SOCK_ERROR;
	return 0;
}

/* Input. */

static int
read_plain(struct sock *s)
{
	struct evbuffer_iovec v[2];
	struct iovec iov[2];
	int n = evbuffer_reserve_space(s->in, SOCK_READ_CHUNK, v, 2), i;
	ssize_t r;

	for (i = 0; i < n; i++) {
		iov[i].iov_base = v[i].iov_base;
		iov[i].iov_len = v[i].iov_len;
	}
	r = readv(s->fd, iov, n);
	if (r <= 0) {
		evbuffer_commit_space(s->in, v, 0);
		if (r == 0)
			return SOCK_EOF;
		return errno == EAGAIN || errno == EINTR ? 0 : SOCK_ERROR;
	}
	for (i = 0; i < n && r > 0; i++) {
		if ((size_t)r < v[i].iov_len)
			v[i].iov_len = (size_t)r;
		r -= (ssize_t)v[i].iov_len;
	}
	evbuffer_commit_space(s->in, v, i);
	return 0;
}

/* OpenSSL may hold whole records already read from the socket, which no
 * read event would announce: read until it asks for more. */
static int
read_tls(struct sock *s)
{
	struct evbuffer_iovec v;
	int r, err;

	s->is_tls_held = false;
	for (;;) {
		if (s->read_high > 0 && evbuffer_get_length(s->in) >=
		    s->read_high) {
			s->is_tls_held = true;
			return 0;
		}
		if (evbuffer_reserve_space(s->in, SOCK_TLS_RECORD, &v, 1) < 1)
			return SOCK_ERROR;
		r = SSL_read(s->ssl, v.iov_base, (int)v.iov_len);
		if (r > 0) {
			v.iov_len = (size_t)r;
			evbuffer_commit_space(s->in, &v, 1);
			continue;
		}
		evbuffer_commit_space(s->in, &v, 0);
		err = SSL_get_error(s->ssl, r);
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
			return 0;
		ERR_clear_error();
		/* ZERO_RETURN: a close_notify, or (server contexts set
		 * SSL_OP_IGNORE_UNEXPECTED_EOF, tls.c) a bare FIN from the
		 * client. A context without that option reports a FIN with no
		 * close_notify as SSL_ERROR_SSL: an error, never a clean end,
		 * so a truncated stream is not taken for a complete one.
		 * SYSCALL is a socket error (a reset). */
		return err == SSL_ERROR_ZERO_RETURN ? SOCK_EOF : SOCK_ERROR;
	}
}

/* A read that found nothing leaves the space it reserved (a 16 or 32 KiB
 * chain) in an empty input buffer, and libevent's drain of an empty
 * buffer frees nothing: each idle connection kept one (massif: 16 KiB of
 * an idle TLS connection's 32). A byte added and drained frees it. */
static void
drop_spare(struct evbuffer *in)
{
	static const char b;

	if (evbuffer_get_length(in) == 0 && evbuffer_add(in, &b, 1) == 0)
		evbuffer_drain(in, 1);
}

static void
do_read(struct sock *s)
{
	size_t before = evbuffer_get_length(s->in);
	int what;

	if (s->is_eof)
		return;
	what = s->ssl != NULL ? read_tls(s) : read_plain(s);
	if (wire_length(s) > 0)
		schedule_flush(s);
	if (before == 0)
		drop_spare(s->in);

	if (evbuffer_get_length(s->in) > before && s->on_read != NULL)
		s->on_read(s, s->arg);
	if (s->guard.is_freed)
		return;
	update_read(s);                 /* the input may be at its mark */
	if (what == 0 || s->state == SOCK_S_DEAD || s->is_eof)
		return;
	s->is_eof = true;
	update_read(s);
	report(s, (short)(what | SOCK_READING));
}

/* A flush after the current callback: for output the owner added, and
 * for records OpenSSL made while reading (a KeyUpdate's answer). */
static void
schedule_flush(struct sock *s)
{
	if (!s->is_flush_pending && !s->guard.is_freed &&
	    !s->is_write_armed) {
		s->is_flush_pending = true;
		event_active(&s->flush_ev, EV_WRITE, 1);
	}
}

/* TLS handshake. Its flights go out through the wire; the write event
 * waits for the kernel only when some of a flight is left there. */

static void
do_handshake(struct sock *s)
{
	int r = SSL_do_handshake(s->ssl);
	int err = r == 1 ? SSL_ERROR_NONE : SSL_get_error(s->ssl, r);

	if (write_wire(s) != 0)
		err = SSL_ERROR_SYSCALL;
	if (err == SSL_ERROR_NONE) {
		s->state = SOCK_S_OPEN;
		arm_write(s, wire_length(s) > 0);
		update_read(s);
		report(s, SOCK_CONNECTED);
		/* early application data may already be decrypted */
		if (!s->guard.is_freed && s->state == SOCK_S_OPEN &&
		    s->is_reading)
			do_read(s);
		return;
	}
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
		arm_write(s, err == SSL_ERROR_WANT_WRITE ||
		    wire_length(s) > 0);
		return;
	}
	report(s, SOCK_ERROR | SOCK_READING);
}

/* Output. */

static int
write_plain(struct sock *s)
{
	int r = evbuffer_write(s->out, s->fd);

	if (r < 0 && errno != EAGAIN && errno != EINTR)
		return SOCK_ERROR;
	return 0;
}

/* Where the next record's N bytes start: in the buffer's first extent
 * when it holds them (an HTTP/2 DATA frame is written as one record's
 * worth, h2_response_sent), taken as it is; else the pieces are joined
 * first (a pullup, a copy), so that a record is never a piece of a few
 * bytes. */
static const void *
record_at(struct evbuffer *out, size_t n)
{
	struct evbuffer_iovec v;

	if (evbuffer_peek(out, -1, NULL, &v, 1) == 1 && v.iov_len >= n)
		return v.iov_base;
	return evbuffer_pullup(out, (ssize_t)n);
}

/* The next record's most plaintext (see SOCK_TLS_SMALL), on the loop's
 * cached time: no syscall. */
static size_t
record_max(struct sock *s)
{
	struct timeval now, d;

	event_base_gettimeofday_cached(event_get_base(&s->wev), &now);
	timersub(&now, &s->tls_last, &d);
	if (d.tv_sec * 1000 + d.tv_usec / 1000 >= SOCK_TLS_COOL_MS)
		s->tls_warm = 0;
	s->tls_last = now;
	return s->tls_warm < SOCK_TLS_WARM ? SOCK_TLS_SMALL : SOCK_TLS_RECORD;
}

/* Records go into the wire until it holds SOCK_WIRE_HIGH, then out in
 * one writev; what the kernel refused stays there, and SSL_write waits
 * (the write event) until it is gone. */
static int
write_tls(struct sock *s)
{
	size_t n, max = record_max(s);
	int r, err;

	while ((n = evbuffer_get_length(s->out)) > 0) {
		if (wire_length(s) >= SOCK_WIRE_HIGH) {
			if (write_wire(s) != 0)
				return SOCK_ERROR;
			if (wire_length(s) >= SOCK_WIRE_HIGH)
				return 0;
		}
		if (n > max)
			n = max;
		r = SSL_write(s->ssl, record_at(s->out, n), (int)n);
		if (r > 0) {
			evbuffer_drain(s->out, (size_t)r);
			if (s->tls_warm < SOCK_TLS_WARM &&
			    (s->tls_warm += (size_t)r) >= SOCK_TLS_WARM)
				max = SOCK_TLS_RECORD;
			continue;
		}
		err = SSL_get_error(s->ssl, r);
		if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ)
			break;
		ERR_clear_error();
		return SOCK_ERROR;
	}
	return write_wire(s);
}

/* What the owner queued and the kernel has not taken yet. */
static size_t
pending(const struct sock *s)
{
	return evbuffer_get_length(s->out) + wire_length(s);
}

static void
shut_write(struct sock *s)
{
	if (s->is_shut)
		return;
	s->is_shut = true;
	if (s->ssl != NULL) {
		SSL_shutdown(s->ssl);   /* close_notify; reading goes on */
		ERR_clear_error();
		if (write_wire(s) == 0)
			arm_write(s, wire_length(s) > 0);
	} else {
		shutdown(s->fd, SHUT_WR);
	}
}

static void
do_flush(struct sock *s)
{
	size_t left;
	int what;

	s->is_flush_pending = false;
	if (s->state != SOCK_S_OPEN || pending(s) == 0)
		return;
	what = s->ssl != NULL ? write_tls(s) : write_plain(s);
	if (what != 0) {
		arm_write(s, false);
		report(s, (short)(what | SOCK_WRITING));
		return;
	}
	left = pending(s);
	arm_write(s, left > 0);
	if (left == 0 && s->wants_shutdown)
		shut_write(s);
	if (left <= s->write_low && s->on_drain != NULL)
		s->on_drain(s, s->arg);
}

static void
on_out_changed(struct evbuffer *b, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct sock *s = arg;

	(void)b;
	if (info->n_added > 0)
		schedule_flush(s);
}

/* The owner took input: reading may resume below the mark. */
static void
on_in_changed(struct evbuffer *b, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct sock *s = arg;

	(void)b;
	if (info->n_deleted > 0 && !s->is_read_armed)
		update_read(s);
}

/* libevent callbacks. */

static void
finish_connect(struct sock *s)
{
	int err = 0;
	socklen_t len = sizeof(err);

	getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	arm_write(s, false);
	if (err != 0) {
		errno = err;
		report(s, SOCK_ERROR | SOCK_WRITING);
		return;
	}
	s->state = SOCK_S_OPEN;
	update_read(s);
	report(s, SOCK_CONNECTED);
	if (!s->guard.is_freed && s->state == SOCK_S_OPEN &&
	    evbuffer_get_length(s->out) > 0)
		do_flush(s);
}

static void
on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct sock *s = arg;

	(void)fd;
	enter(s);
	if (what & EV_TIMEOUT)
		report(s, SOCK_TIMEOUT | SOCK_READING);
	else if (s->state == SOCK_S_HANDSHAKE)
		do_handshake(s);
	else if (s->state == SOCK_S_OPEN)
		do_read(s);
	/* TLS: a write may have waited for this read */
	if (!s->guard.is_freed && s->ssl != NULL &&
	    s->state == SOCK_S_OPEN && s->is_write_armed)
		do_flush(s);
	leave(s);
}

static void
on_writable(evutil_socket_t fd, short what, void *arg)
{
	struct sock *s = arg;

	(void)fd;
	enter(s);
	if (what & EV_TIMEOUT)
		report(s, SOCK_TIMEOUT | (s->state == SOCK_S_OPEN ?
		    SOCK_WRITING : SOCK_READING));
	else if (s->state == SOCK_S_CONNECTING)
		finish_connect(s);
	else if (s->state == SOCK_S_HANDSHAKE)
		do_handshake(s);
	else
		do_flush(s);
	leave(s);
}

static void
on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct sock *s = arg;

	(void)fd;
	(void)what;
	enter(s);
	do_flush(s);
	leave(s);
}

static struct sock *
sock_alloc(struct event_base *base, int fd)
{
	struct sock *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->in = evbuffer_new()) == NULL ||
	    (s->out = evbuffer_new()) == NULL) {
		evbuffer_free(s->in);
		free(s);
		return NULL;
	}
	s->fd = fd;
	s->is_reading = true;
	event_assign(&s->rev, base, fd, EV_READ | EV_PERSIST, on_readable, s);
	event_assign(&s->wev, base, fd, EV_WRITE | EV_PERSIST, on_writable,
	    s);
	event_assign(&s->flush_ev, base, -1, 0, on_flush, s);
	evbuffer_add_cb(s->out, on_out_changed, s);
	evbuffer_add_cb(s->in, on_in_changed, s);
	return s;
}

struct sock *
sock_new(struct event_base *base, int fd, SSL *ssl)
{
	struct sock *s = sock_alloc(base, fd);

	if (s == NULL) {
		SSL_free(ssl);
		close(fd);
		return NULL;
	}
	s->state = SOCK_S_OPEN;
	if (ssl != NULL) {
		s->ssl = ssl;
		s->state = SOCK_S_HANDSHAKE;
		if ((s->wire = evbuffer_new()) == NULL ||
		    !wire_attach(ssl, fd, s->wire)) {
			destroy(s);
			return NULL;
		}
		SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
		    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
		    SSL_MODE_RELEASE_BUFFERS);
		/* one read(2) for several records, not two per record,
		 * and up to SOCK_TLS_READ of them (OpenSSL's default buffer
		 * holds one: a 1 MiB upload took 98 reads); released with
		 * the other buffers when idle */
		SSL_set_read_ahead(ssl, 1);
		SSL_set_default_read_buffer_len(ssl, SOCK_TLS_READ);
		SSL_set_accept_state(ssl);
	}
	update_read(s);
	return s;
}

struct sock *
sock_connect(struct event_base *base, const struct sockaddr *sa,
    socklen_t len, const struct timeval *timeout, const char **why)
{
	struct sock *s;
	int fd;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		*why = strerror(errno);
		return NULL;
	}
	if ((s = sock_alloc(base, fd)) == NULL) {
		*why = "out of memory";
		close(fd);
		return NULL;
	}
	s->state = SOCK_S_CONNECTING;
	if (timeout != NULL) {
		s->wtv = *timeout;
		s->has_wtv = true;
	}
	if (connect(fd, sa, len) == -1 && errno != EINPROGRESS) {
		*why = strerror(errno);
		sock_free(s);
		return NULL;
	}
	/* completion (or an immediate success) is reported from the loop */
	arm_write(s, true);
	return s;
}

void
sock_free(struct sock *s)
{
	if (s == NULL)
		return;
	if (guard_defer(&s->guard)) {
		/* stop everything now; free once the callback unwinds */
		s->on_read = s->on_drain = NULL;
		s->on_event = NULL;
		event_del(&s->rev);
		event_del(&s->wev);
		event_del(&s->flush_ev);
		/* a connect that failed or timed out has nothing to send:
		 * its fd goes now, before the caller tries the next one (a
		 * connect cap counts sockets, not structs) */
		if (s->ssl == NULL && (s->state == SOCK_S_CONNECTING ||
		    s->state == SOCK_S_DEAD)) {
			close(s->fd);
			s->fd = -1;
		}
		return;
	}
	destroy(s);
}

static void
destroy(struct sock *s)
{
	event_del(&s->rev);
	event_del(&s->wev);
	event_del(&s->flush_ev);
	evbuffer_free(s->in);
	evbuffer_free(s->out);
	if (s->is_aborted) {
		struct linger l = { 1, 0 };

		setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	}
	if (s->ssl != NULL) {
		if (s->state == SOCK_S_OPEN && !s->is_shut && !s->is_aborted)
			SSL_shutdown(s->ssl);
		if (!s->is_aborted)
			write_wire(s);  /* what the kernel takes now */
		SSL_free(s->ssl);
		ERR_clear_error();
	}
	if (s->wire != NULL)
		evbuffer_free(s->wire);
	if (s->fd != -1)
		close(s->fd);
	free(s);
}

struct evbuffer *
sock_input(struct sock *s)
{
	return s->in;
}

struct evbuffer *
sock_output(struct sock *s)
{
	return s->out;
}

size_t
sock_pending(const struct sock *s)
{
	return pending(s);
}

int
sock_fd(const struct sock *s)
{
	return s->fd;
}

SSL *
sock_ssl(const struct sock *s)
{
	return s->ssl;
}

void
sock_setcb(struct sock *s, sock_data_fn *on_read, sock_data_fn *on_drain,
    sock_event_fn *on_event, void *arg)
{
	s->on_read = on_read;
	s->on_drain = on_drain;
	s->on_event = on_event;
	s->arg = arg;
}

void
sock_read_enable(struct sock *s, bool on)
{
	s->is_reading = on;
	update_read(s);
}

/* A persistent event keeps its last timeout through event_add() with
 * none and through event_del(), and re-arms it on every activation:
 * only event_assign() or event_remove_timer() forgets it. Without this,
 * h2c (sniffed under client_header_timeout, then set to no read timeout)
 * was cut that long after any read followed by silence. An armed event
 * loses its timer alone: a del and re-add in one loop turn cost an
 * EPOLL_CTL_MOD, one a request on a pooled backend connection (strace). */
static void
forget_timeout(struct event *ev)
{
	/* an event whose timeout fired this loop turn is pending "on
	 * EV_TIMEOUT" too (its callback queued, its timer gone):
	 * event_remove_timer leaves it and its timeout alone, so only the
	 * del takes back that callback and the assign the timeout */
	if (event_pending(ev, EV_TIMEOUT, NULL)) {
		event_remove_timer(ev);
		if (!event_pending(ev, EV_TIMEOUT, NULL))
			return;
	}
	event_del(ev);
	event_assign(ev, event_get_base(ev), event_get_fd(ev),
	    event_get_events(ev), event_get_callback(ev),
	    event_get_callback_arg(ev));
}

void
sock_set_timeouts(struct sock *s, const struct timeval *read,
    const struct timeval *write)
{
	bool had = s->has_rtv, had_w = s->has_wtv;

	s->has_rtv = read != NULL;
	if (read != NULL)
		s->rtv = *read;
	s->has_wtv = write != NULL;
	if (write != NULL)
		s->wtv = *write;
	if (had && !s->has_rtv)
		forget_timeout(&s->rev);
	if (had_w && !s->has_wtv)
		forget_timeout(&s->wev);
	/* re-add an armed event so its new timeout applies */
	if (s->is_read_armed && (had || s->has_rtv))
		event_add(&s->rev, s->has_rtv ? &s->rtv : NULL);
	if (s->is_write_armed)
		event_add(&s->wev, s->has_wtv ? &s->wtv : NULL);
}

void
sock_set_read_high(struct sock *s, size_t n)
{
	s->read_high = n;
	update_read(s);
}

void
sock_shutdown_write(struct sock *s)
{
	s->wants_shutdown = true;
	if (s->state == SOCK_S_OPEN && evbuffer_get_length(s->out) == 0)
		shut_write(s);
}

bool
sock_is_eof(const struct sock *s)
{
	return s->is_eof;
}

void
sock_abort(struct sock *s)
{
	s->is_aborted = true;
}

void
sock_set_write_low(struct sock *s, size_t n)
{
	s->write_low = n;
}
