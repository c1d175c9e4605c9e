/* tests/unit/test_h2_mem.c: nghttp2's allocator (h2_mem.h): blocks keep
 * what is written to them through realloc, calloc zeroes, large blocks
 * have pages of their own of which only the written ones are resident,
 * and a real session runs on it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <check.h>
#include <nghttp2/nghttp2.h>

#include "h2_mem.h"
#include "suites.h"

/* How many pages of [P, P + LEN) are resident. */
static size_t
resident_pages(const void *p, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), n, i, count = 0;
	uintptr_t start = (uintptr_t)p / page * page;
	unsigned char *vec;

	n = ((uintptr_t)p + len - start + page - 1) / page;
	vec = calloc(n, 1);
	ck_assert_ptr_nonnull(vec);
	ck_assert_int_eq(mincore((void *)start, n * page, vec), 0);
	for (i = 0; i < n; i++)
		count += vec[i] & 1;
	free(vec);
	return count;
}

START_TEST(test_h2_mem_sizes)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 100, H2_MEM_BIG - 1,
	    H2_MEM_BIG, 16394, 100000 };
	nghttp2_mem *m = h2_mem();
	size_t size = sizes[_i], k;
	unsigned char *p, *z;

	p = m->malloc(size, m->mem_user_data);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq((uintptr_t)p % 16, 0);
	ck_assert_int_eq(h2_mem_is_paged(p), size >= H2_MEM_BIG);
	for (k = 0; k < size; k++)
		p[k] = (unsigned char)k;
	/* grown past the threshold and more: the bytes move with it */
	p = m->realloc(p, size * 3 + 20000, m->mem_user_data);
	ck_assert_ptr_nonnull(p);
	ck_assert(h2_mem_is_paged(p));
	for (k = 0; k < size; k++)
		ck_assert_uint_eq(p[k], (unsigned char)k);
	/* shrunk: kept where it is */
	ck_assert_ptr_eq(m->realloc(p, size, m->mem_user_data), p);
	m->free(p, m->mem_user_data);
	z = m->calloc(size + 1, 3, m->mem_user_data);
	ck_assert_ptr_nonnull(z);
	for (k = 0; k < (size + 1) * 3; k++)
		ck_assert_uint_eq(z[k], 0);
	m->free(z, m->mem_user_data);
	m->free(NULL, m->mem_user_data);
	ck_assert_ptr_null(m->calloc(SIZE_MAX / 2, 3, m->mem_user_data));
	ck_assert_ptr_null(m->malloc(SIZE_MAX - 8, m->mem_user_data));
	h2_mem_trim(0);
}
END_TEST

/* The point of it: a 16 KiB buffer of which the first 300 bytes were
 * written holds one resident page, not four or five. */
START_TEST(test_h2_mem_untouched_not_resident)
{
	nghttp2_mem *m = h2_mem();
	unsigned char *p = m->malloc(16394, m->mem_user_data);

	ck_assert_ptr_nonnull(p);
	memset(p, 'x', 300);
	ck_assert_uint_eq(resident_pages(p, 16394), 1);
	memset(p, 'y', 16394);
	ck_assert_uint_ge(resident_pages(p, 16394), 4);
	m->free(p, m->mem_user_data);
}
END_TEST

/* A small block freed is the next one of its class handed out, dirty
 * or not: calloc still zeroes it; trimming gives the rest back (ASan's
 * leak check sees what trim would miss). */
START_TEST(test_h2_mem_pool_reuse)
{
	nghttp2_mem *m = h2_mem();
	unsigned char *p = m->malloc(100, m->mem_user_data), *q;
	size_t k;

	ck_assert_ptr_nonnull(p);
	memset(p, 0xff, 100);
	m->free(p, m->mem_user_data);
	q = m->calloc(1, 100, m->mem_user_data);
	ck_assert_ptr_eq(q, p);
	for (k = 0; k < 100; k++)
		ck_assert_uint_eq(q[k], 0);
	/* grown within its class: where it is; the class holds 128
	 * bytes besides the header, not 128 with it */
	ck_assert_ptr_eq(m->realloc(q, 110, m->mem_user_data), q);
	ck_assert_ptr_eq(m->realloc(q, 128, m->mem_user_data), q);
	ck_assert_ptr_ne(q = m->realloc(q, 129, m->mem_user_data), p);
	m->free(q, m->mem_user_data);
	h2_mem_trim(0);
	q = m->malloc(100, m->mem_user_data);
	ck_assert_ptr_nonnull(q);
	m->free(q, m->mem_user_data);
	h2_mem_trim(0);
}
END_TEST

static ssize_t
sink(nghttp2_session *s, const uint8_t *data, size_t len, int flags,
    void *arg)
{
	(void)s; (void)data; (void)flags;
	*(size_t *)arg += len;
	return (ssize_t)len;
}

/* A server session on the allocator takes a client preface and a
 * request, and answers with SETTINGS; deleting it frees what it took
 * (ASan's leak check). */
START_TEST(test_h2_mem_session)
{
	static const char preface[] = NGHTTP2_CLIENT_MAGIC;
	static const uint8_t settings[] = { 0, 0, 0, 4, 0, 0, 0, 0, 0 };
	nghttp2_session_callbacks *cb;
	nghttp2_session *s;
	size_t sent = 0;

	ck_assert_int_eq(nghttp2_session_callbacks_new(&cb), 0);
	nghttp2_session_callbacks_set_send_callback(cb, sink);
	ck_assert_int_eq(nghttp2_session_server_new3(&s, cb, &sent, NULL,
	    h2_mem()), 0);
	ck_assert_int_eq(nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, NULL,
	    0), 0);
	ck_assert_int_eq(nghttp2_session_mem_recv(s, (const uint8_t *)preface,
	    sizeof(preface) - 1), (ssize_t)sizeof(preface) - 1);
	ck_assert_int_eq(nghttp2_session_mem_recv(s, settings,
	    sizeof(settings)), (ssize_t)sizeof(settings));
	ck_assert_int_eq(nghttp2_session_send(s), 0);
	ck_assert_uint_ge(sent, 9 + 9);   /* SETTINGS and the ACK */
	nghttp2_session_del(s);
	nghttp2_session_callbacks_del(cb);
	h2_mem_trim(0);
}
END_TEST

Suite *
h2_mem_suite(void)
{
	Suite *s = suite_create("h2_mem");
	TCase *tc = tcase_create("h2_mem");

	tcase_add_loop_test(tc, test_h2_mem_sizes, 0, 9);
	tcase_add_test(tc, test_h2_mem_untouched_not_resident);
	tcase_add_test(tc, test_h2_mem_pool_reuse);
	tcase_add_test(tc, test_h2_mem_session);
	suite_add_tcase(s, tc);
	return s;
}
