/* tests/unit/test_sock.c: sock.c's timeouts: a read timeout taken away
 * is gone, even when it expired in the loop turn that takes it away. */
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <check.h>
#include <event2/buffer.h>
#include <event2/event.h>

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

Suite *
sock_suite(void)
{
	Suite *s = suite_create("sock");
	TCase *tc = tcase_create("sock");

	tcase_add_test(tc, test_sock_timeout_dropped_when_due);
	tcase_add_test(tc, test_sock_timeout_dropped_after_read);
	suite_add_tcase(s, tc);
	return s;
}
