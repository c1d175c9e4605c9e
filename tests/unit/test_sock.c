/* tests/unit/test_sock.c: sock.c's timeouts (a read timeout taken away
 * is gone, even when it expired in the loop turn that takes it away) and
 * its TLS wire (records batched for the kernel, none lost or reordered
 * when the kernel refuses them). */
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <check.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "sock.h"
#include "suites.h"

static unsigned ntimeouts;

static void
count_timeouts(struct sock *s, short what, void *arg)
{
	(void)s;
	(void)arg;
	if (what & SOCK_TIMEOUT)
		ntimeouts++;
}

static void
drop_read_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sock_set_timeouts(arg, NULL, NULL);
}

/* A timer due before the read timeout runs first in the loop turn in
 * which both are due, and takes the read timeout away: the read
 * timeout, already queued to run, must neither run nor come back (its
 * stale timeout re-armed on every activation of the persistent event,
 * the bug forget_timeout exists for). */
START_TEST(test_sock_timeout_dropped_when_due)
{
	struct event_base *base = event_base_new();
	struct timeval rt = { 0, 20 * 1000 }, early = { 0, 5 * 1000 };
	struct timeval run = { 0, 150 * 1000 };
	struct event *t;
	struct sock *s;
	int fds[2];

	ck_assert_ptr_nonnull(base);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	ck_assert_ptr_nonnull(s = sock_new(base, fds[0], NULL));
	sock_setcb(s, NULL, NULL, count_timeouts, NULL);
	ntimeouts = 0;
	sock_set_timeouts(s, &rt, NULL);
	t = evtimer_new(base, drop_read_timeout, s);
	evtimer_add(t, &early);
	usleep(60 * 1000);      /* both due when the loop first looks */
	event_base_loopexit(base, &run);
	event_base_dispatch(base);
	ck_assert_uint_eq(ntimeouts, 0);
	event_free(t);
	sock_free(s);
	close(fds[1]);
	event_base_free(base);
}
END_TEST

/* The usual case: the timeout taken away in a read callback. */
static void
read_then_drop(struct sock *s, void *arg)
{
	(void)arg;
	evbuffer_drain(sock_input(s), evbuffer_get_length(sock_input(s)));
	sock_set_timeouts(s, NULL, NULL);
}

START_TEST(test_sock_timeout_dropped_after_read)
{
	struct event_base *base = event_base_new();
	struct timeval rt = { 0, 20 * 1000 }, run = { 0, 150 * 1000 };
	struct sock *s;
	int fds[2];

	ck_assert_ptr_nonnull(base);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	ck_assert_ptr_nonnull(s = sock_new(base, fds[0], NULL));
	sock_setcb(s, read_then_drop, NULL, count_timeouts, NULL);
	ntimeouts = 0;
	sock_set_timeouts(s, &rt, NULL);
	ck_assert_int_eq(write(fds[1], "x", 1), 1);
	event_base_loopexit(base, &run);
	event_base_dispatch(base);
	ck_assert_uint_eq(ntimeouts, 0);
	sock_free(s);
	close(fds[1]);
	event_base_free(base);
}
END_TEST

/* TLS: a server sock over a socketpair, an OpenSSL client on the other
 * end; both non-blocking, driven in turns from this thread. */
struct tls_pair {
	struct event_base *base;
	SSL_CTX *sctx, *cctx;
	SSL *client;
	struct sock *s;
	int fds[2];
	bool is_connected;
	unsigned ndrains;
};

static void
on_tls_event(struct sock *s, short what, void *arg)
{
	struct tls_pair *p = arg;

	(void)s;
	ck_assert_msg(!(what & (SOCK_ERROR | SOCK_TIMEOUT)), "event %d",
	    what);
	if (what & SOCK_CONNECTED)
		p->is_connected = true;
}

static void
on_tls_drain(struct sock *s, void *arg)
{
	(void)s;
	((struct tls_pair *)arg)->ndrains++;
}

/* A self-signed P-256 certificate, made in memory. */
static SSL_CTX *
server_ctx(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();

	ck_assert(ctx != NULL && pk != NULL && x != NULL);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, pk);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"wire.test", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	ck_assert_int_gt(X509_sign(x, pk, EVP_sha256()), 0);
	ck_assert_int_eq(SSL_CTX_use_certificate(ctx, x), 1);
	ck_assert_int_eq(SSL_CTX_use_PrivateKey(ctx, pk), 1);
	X509_free(x);
	EVP_PKEY_free(pk);
	return ctx;
}

static void
tls_pair_open(struct tls_pair *p)
{
	int small = 16 * 1024, i, r = 0;

	memset(p, 0, sizeof(*p));
	ck_assert_ptr_nonnull(p->base = event_base_new());
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, p->fds), 0);
	for (i = 0; i < 2; i++) {
		fcntl(p->fds[i], F_SETFL, O_NONBLOCK);
		setsockopt(p->fds[i], SOL_SOCKET, i == 0 ? SO_SNDBUF :
		    SO_RCVBUF, &small, sizeof(small));
	}
	p->sctx = server_ctx();
	ck_assert_ptr_nonnull(p->cctx = SSL_CTX_new(TLS_client_method()));
	ck_assert_ptr_nonnull(p->s = sock_new(p->base, p->fds[0],
	    SSL_new(p->sctx)));
	sock_setcb(p->s, NULL, on_tls_drain, on_tls_event, p);
	ck_assert_ptr_nonnull(p->client = SSL_new(p->cctx));
	SSL_set_fd(p->client, p->fds[1]);
	SSL_set_connect_state(p->client);
	for (i = 0; i < 1000 && (r != 1 || !p->is_connected); i++) {
		if (r != 1)
			r = SSL_do_handshake(p->client);
		event_base_loop(p->base, EVLOOP_NONBLOCK);
	}
	ck_assert_msg(r == 1 && p->is_connected, "no handshake");
}

static void
tls_pair_close(struct tls_pair *p)
{
	sock_free(p->s);
	SSL_free(p->client);
	close(p->fds[1]);
	SSL_CTX_free(p->sctx);
	SSL_CTX_free(p->cctx);
	event_base_free(p->base);
	ERR_clear_error();
}

#define WIRE_BODY (1024 * 1024)

/* 1 MiB queued at once to a client that reads nothing yet: the kernel
 * takes a little, records for at most the wire's bound (64 KiB and one
 * record) wait, the rest stays plaintext; then the client reads it all,
 * in order, and the close_notify comes after the last byte. */
START_TEST(test_sock_tls_wire_keeps_order)
{
	static unsigned char body[WIRE_BODY], got[WIRE_BODY];
	struct tls_pair p;
	size_t n = 0, i, out;
	int r = 1, err = SSL_ERROR_NONE;

	for (i = 0; i < sizeof(body); i++)
		body[i] = (unsigned char)(i * 7 + i / 251);
	tls_pair_open(&p);
	evbuffer_add(sock_output(p.s), body, sizeof(body));
	sock_shutdown_write(p.s);
	for (i = 0; i < 10; i++)
		event_base_loop(p.base, EVLOOP_NONBLOCK);
	out = evbuffer_get_length(sock_output(p.s));
	ck_assert_uint_gt(out, 0);
	ck_assert_uint_lt(out, sizeof(body));
	ck_assert_uint_le(sock_pending(p.s) - out, 80 * 1024 + 512);
	ck_assert_uint_eq(p.ndrains, 0);
	for (i = 0; i < 200000 && err != SSL_ERROR_ZERO_RETURN; i++) {
		r = SSL_read(p.client, got + n, (int)(sizeof(got) - n));
		if (r > 0) {
			n += (size_t)r;
			continue;
		}
		err = SSL_get_error(p.client, r);
		ck_assert_msg(err == SSL_ERROR_WANT_READ ||
		    err == SSL_ERROR_ZERO_RETURN, "client read: %d", err);
		event_base_loop(p.base, EVLOOP_NONBLOCK);
	}
	ck_assert_int_eq(err, SSL_ERROR_ZERO_RETURN);
	ck_assert_uint_eq(n, sizeof(body));
	ck_assert(memcmp(got, body, sizeof(body)) == 0);
	ck_assert_uint_eq(sock_pending(p.s), 0);
	ck_assert_uint_ge(p.ndrains, 1);
	tls_pair_close(&p);
}
END_TEST

/* The lengths of the encrypted records the client reads, in order. */
struct records {
	size_t n, len[4096];
};

static void
on_record(int write_p, int version, int type, const void *buf, size_t len,
    SSL *ssl, void *arg)
{
	const unsigned char *h = buf;
	struct records *r = arg;

	(void)version;
	(void)ssl;
	if (write_p || type != SSL3_RT_HEADER || len < 5 ||
	    h[0] != SSL3_RT_APPLICATION_DATA || r->n == 4096)
		return;
	r->len[r->n++] = (size_t)h[3] << 8 | h[4];
}

/* Queues N bytes and has the client read them all. */
static void
send_and_read(struct tls_pair *p, size_t n)
{
	static unsigned char buf[64 * 1024];
	size_t got = 0, i, k;
	int r;

	memset(buf, 'x', sizeof(buf));
	for (k = 0; k < n; k += sizeof(buf))
		evbuffer_add(sock_output(p->s), buf, sizeof(buf));
	for (i = 0; i < 200000 && got < k; i++) {
		r = SSL_read(p->client, buf, (int)sizeof(buf));
		if (r > 0) {
			got += (size_t)r;
			continue;
		}
		ck_assert_int_eq(SSL_get_error(p->client, r),
		    SSL_ERROR_WANT_READ);
		event_base_loop(p->base, EVLOOP_NONBLOCK);
	}
	ck_assert_uint_eq(got, k);
}

/* 1300 bytes and TLS 1.3's 17 (content type, tag) */
#define SMALL_RECORD (1300 + 17)

/* Small records for the first MiB, 16 KiB ones after it, small again
 * after a second with nothing to send. */
START_TEST(test_sock_tls_record_sizes)
{
	static struct records recs;
	struct tls_pair p;
	size_t i, small_bytes = 0, first_big = 0, nbig = 0, from;

	tls_pair_open(&p);
	memset(&recs, 0, sizeof(recs));
	SSL_set_msg_callback(p.client, on_record);
	SSL_set_msg_callback_arg(p.client, &recs);
	send_and_read(&p, 2 * 1024 * 1024);
	for (i = 0; i < recs.n; i++) {
		if (recs.len[i] > SMALL_RECORD) {
			if (nbig++ == 0)
				first_big = i;
			ck_assert_uint_le(recs.len[i], 16384 + 17);
		} else if (nbig == 0) {
			small_bytes += recs.len[i] - 17;
		}
	}
	ck_assert_uint_gt(nbig, 0);
	ck_assert_uint_ge(small_bytes, 1024 * 1024);
	ck_assert_uint_le(small_bytes, 1024 * 1024 + 1300 + 1024);
	ck_assert_uint_gt(first_big, 700);
	usleep(1100 * 1000);
	from = recs.n;
	send_and_read(&p, 64 * 1024);
	ck_assert_uint_gt(recs.n, from + 40);
	for (i = from; i < recs.n; i++)
		ck_assert_uint_le(recs.len[i], SMALL_RECORD);
	tls_pair_close(&p);
}
END_TEST

/* A read that brings no data (here a TLS 1.3 KeyUpdate, and the read
 * after the handshake) leaves no input chain behind on an idle
 * connection: it was 16 KiB reserved (a 32 KiB chain) and never freed.
 * Seen from libevent: a byte reserved in the input comes in a new small
 * chain, not in the rest of a big one. */
START_TEST(test_sock_idle_read_keeps_nothing)
{
	struct evbuffer_iovec v;
	struct tls_pair p;
	int i;

	tls_pair_open(&p);
	ck_assert_int_eq(SSL_key_update(p.client,
	    SSL_KEY_UPDATE_NOT_REQUESTED), 1);
	ck_assert_int_eq(SSL_do_handshake(p.client), 1);
	for (i = 0; i < 20; i++)
		event_base_loop(p.base, EVLOOP_NONBLOCK);
	ck_assert_uint_eq(evbuffer_get_length(sock_input(p.s)), 0);
	ck_assert_int_eq(evbuffer_reserve_space(sock_input(p.s), 1, &v, 1), 1);
	ck_assert_msg(v.iov_len < 8192, "a spare input chain of %zu bytes",
	    v.iov_len);
	evbuffer_commit_space(sock_input(p.s), &v, 0);
	tls_pair_close(&p);
}
END_TEST

Suite *
sock_suite(void)
{
	Suite *s = suite_create("sock");
	TCase *tc = tcase_create("sock");

	tcase_add_test(tc, test_sock_timeout_dropped_when_due);
	tcase_add_test(tc, test_sock_timeout_dropped_after_read);
	tcase_add_test(tc, test_sock_tls_wire_keeps_order);
	tcase_add_test(tc, test_sock_tls_record_sizes);
	tcase_add_test(tc, test_sock_idle_read_keeps_nothing);
	suite_add_tcase(s, tc);
	return s;
}
