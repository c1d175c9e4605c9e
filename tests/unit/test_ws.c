/* tests/unit/test_ws.c: WebSocket accept keys (RFC 6455 §1.3 example). */
#include <string.h>

#include "suites.h"
#include "ws.h"

static const struct {
	const char *key;
	const char *accept;
} cases[] = {
	{ "dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" },
	{ "x3JJHMbDL1EzLkh9GBhXDw==", "HSmrc0sMlYUkAGmm5OPpG2HaGWk=" },
};

START_TEST(test_ws_accept)
{
	char got[WS_ACCEPT_LEN + 1];

	ws_accept(cases[_i].key, strlen(cases[_i].key), got);
	ck_assert_str_eq(got, cases[_i].accept);
	ck_assert(ws_accept_matches(cases[_i].key, strlen(cases[_i].key),
	    cases[_i].accept, strlen(cases[_i].accept)));
	ck_assert(!ws_accept_matches(cases[_i].key, strlen(cases[_i].key),
	    cases[1 - _i].accept, strlen(cases[1 - _i].accept)));
	ck_assert(!ws_accept_matches(cases[_i].key, strlen(cases[_i].key),
	    "", 0));
}
END_TEST

START_TEST(test_ws_make_key)
{
	char a[WS_KEY_LEN + 1], b[WS_KEY_LEN + 1];

	ck_assert_int_eq(ws_make_key(a), 0);
	ck_assert_int_eq(ws_make_key(b), 0);
	ck_assert_uint_eq(strlen(a), WS_KEY_LEN);
	ck_assert_str_ne(a, b);
	ck_assert(a[22] == '=' && a[23] == '=');
}
END_TEST

Suite *
ws_suite(void)
{
	Suite *s = suite_create("ws");
	TCase *tc = tcase_create("handshake");

	tcase_add_loop_test(tc, test_ws_accept, 0, NELEMS(cases));
	tcase_add_test(tc, test_ws_make_key);
	suite_add_tcase(s, tc);
	return s;
}
