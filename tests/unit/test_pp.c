/* tests/unit/test_pp.c: the PROXY protocol header (pp.c): v1 and v2 as
 * HAProxy's proxy-protocol.txt has them, malformed and short headers,
 * and pp_read taking the header and not a byte after it. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>

#include "pp.h"
#include "suites.h"

#define V2SIG "\r\n\r\n\0\r\nQUIT\n"

static const struct {
	const char *in;
	size_t len;             /* 0: strlen(in) */
	int result;
	size_t used;
	int family;
	const char *ip;
	unsigned port;
	const char *why;        /* PP_BAD's, NULL: not checked */
} cases[] = {
	{ "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nGET", 0, PP_DONE,
	  45, AF_INET, "192.0.2.1", 56324, NULL },
	{ "PROXY TCP6 2001:db8::1 2001:db8::2 4000 443\r\n", 0, PP_DONE, 45,
	  AF_INET6, "2001:db8::1", 4000, NULL },
	{ "PROXY UNKNOWN\r\n", 0, PP_DONE, 15, AF_UNSPEC, NULL, 0, NULL },
	{ "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\nX", 0, PP_DONE, 35, AF_UNSPEC,
	  NULL, 0, NULL },
	{ "PROXY TCP4 192.0.2.1 198.51.100.2 56324 44", 0, PP_MORE, 0, 0,
	  NULL, 0, NULL },
	{ "PRO", 0, PP_MORE, 0, 0, NULL, 0, NULL },
	{ "GET / HTTP/1.1\r\n\r\n", 0, PP_BAD, 0, 0, NULL, 0,
	  "no PROXY protocol header" },
	{ "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\n", 0, PP_BAD, 0, 0,
	  NULL, 0, "PROXY v1 line not ended by CRLF" },
	{ "PROXY TCP4 192.0.2.1  198.51.100.2 1 2\r\n", 0, PP_BAD, 0, 0, NULL,
	  0, "malformed PROXY v1 line" },
	{ "PROXY TCP4 192.0.2.1 198.51.100.2 1 2 3\r\n", 0, PP_BAD, 0, 0,
	  NULL, 0, "malformed PROXY v1 line" },
	{ "PROXY TCP4 192.0.2.1 198.51.100.2 1 2 \r\n", 0, PP_BAD, 0, 0,
	  NULL, 0, "malformed PROXY v1 line" },
	{ "PROXY tcp4 192.0.2.1 198.51.100.2 1 2\r\n", 0, PP_BAD, 0, 0, NULL,
	  0, "malformed PROXY v1 line" },
	{ "PROXY TCP4 2001:db8::1 198.51.100.2 1 2\r\n", 0, PP_BAD, 0, 0,
	  NULL, 0, "bad address in PROXY v1 line" },
	{ "PROXY TCP4 192.0.2.1 198.51.100.2 65536 2\r\n", 0, PP_BAD, 0, 0,
	  NULL, 0, "bad port in PROXY v1 line" },
	{ "PROXY TCP4 192.0.2.1 198.51.100.2 0443 2\r\n", 0, PP_BAD, 0, 0,
	  NULL, 0, "bad port in PROXY v1 line" },
	{ "PROXY TCP4 1.1.1.1 2.2.2.2 1 2\r\r\n", 0, PP_BAD, 0, 0, NULL, 0,
	  "PROXY v1 line not ended by CRLF" },
	{ "PROXY UNKNOWN xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 0,
	  PP_BAD, 0, 0, NULL, 0, "no end to the PROXY v1 line in 107 bytes" },
	/* v2, PROXY, TCP over IPv4: 192.0.2.1:56324 -> 198.51.100.2:443 */
	{ V2SIG "\x21\x11\x00\x0c\xc0\x00\x02\x01\xc6\x33\x64\x02\xdc\x04"
	  "\x01\xbb" "GET", 31, PP_DONE, 28, AF_INET, "192.0.2.1", 56324,
	  NULL },
	/* the same with a 5-byte TLV after the addresses */
	{ V2SIG "\x21\x11\x00\x11\xc0\x00\x02\x01\xc6\x33\x64\x02\xdc\x04"
	  "\x01\xbb\x04\x00\x02zz", 33, PP_DONE, 33, AF_INET, "192.0.2.1",
	  56324, NULL },
	/* v2 TCP over IPv6 */
	{ V2SIG "\x21\x21\x00\x24"
	  "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x07"
	  "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x08" "\x10\x00\x01\xbb",
	  52, PP_DONE, 52, AF_INET6, "2001:db8::7", 4096, NULL },
	/* v2 LOCAL (a health check): no address */
	{ V2SIG "\x20\x00\x00\x00", 16, PP_DONE, 16, AF_UNSPEC, NULL, 0,
	  NULL },
	{ V2SIG "\x21\x11\x00\x0c\xc0\x00", 18, PP_MORE, 0, 0, NULL, 0, NULL },
	{ V2SIG "\x21", 13, PP_MORE, 0, 0, NULL, 0, NULL },
	{ V2SIG "\x11\x11\x00\x0c", 16, PP_BAD, 0, 0, NULL, 0,
	  "not PROXY protocol version 2" },
	{ V2SIG "\x22\x11\x00\x0c\xc0\x00\x02\x01\xc6\x33\x64\x02\xdc\x04"
	  "\x01\xbb", 28, PP_BAD, 0, 0, NULL, 0, "unknown PROXY v2 command" },
	{ V2SIG "\x21\x12\x00\x0c\xc0\x00\x02\x01\xc6\x33\x64\x02\xdc\x04"
	  "\x01\xbb", 28, PP_BAD, 0, 0, NULL, 0,
	  "PROXY v2 transport is not a stream" },
	{ V2SIG "\x21\x11\x00\x08\xc0\x00\x02\x01\xc6\x33\x64\x02", 24,
	  PP_BAD, 0, 0, NULL, 0,
	  "PROXY v2 address block too short for its family" },
	{ V2SIG "\x21\x11\xff\xff", 16, PP_BAD, 0, 0, NULL, 0,
	  "PROXY v2 header longer than portico takes" },
	{ "\r\n\r\n\0\r\nQUITX", 12, PP_BAD, 0, 0, NULL, 0, NULL },
};

START_TEST(test_pp_parse)
{
	struct pp_addr a;
	const char *why = NULL;
	size_t len = cases[_i].len ? cases[_i].len : strlen(cases[_i].in);
	size_t used = 99;
	unsigned char ip[16] = { 0 };
	int r = pp_parse((const unsigned char *)cases[_i].in, len, &a, &used,
	    &why);

	ck_assert_int_eq(r, cases[_i].result);
	if (r == PP_BAD && cases[_i].why != NULL)
		ck_assert_str_eq(why, cases[_i].why);
	if (r != PP_DONE)
		return;
	ck_assert_uint_eq(used, cases[_i].used);
	ck_assert_int_eq(a.family, cases[_i].family);
	if (a.family == AF_UNSPEC)
		return;
	ck_assert_int_eq(inet_pton(a.family, cases[_i].ip, ip), 1);
	ck_assert(memcmp(ip, a.ip, a.family == AF_INET ? 4 : 16) == 0);
	ck_assert_uint_eq(a.port, cases[_i].port);
}
END_TEST

/* A header that comes in pieces is taken piece by piece (nothing left
 * for the poller to report again), then exactly to its end: the request
 * after it stays in the socket. */
START_TEST(test_pp_read_pieces)
{
	static const char hdr[] = "PROXY TCP4 203.0.113.7 192.0.2.9 1234 80\r\n";
	static struct pp_reader rd;
	struct pp_addr a;
	const char *why;
	char rest[32];
	int fds[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	rd.len = 0;
	ck_assert_int_eq(pp_read(fds[0], &rd, &a, &why), PP_MORE);
	ck_assert_int_eq(write(fds[1], hdr, 10), 10);
	ck_assert_int_eq(pp_read(fds[0], &rd, &a, &why), PP_MORE);
	ck_assert_uint_eq(rd.len, 10);
	ck_assert_int_eq(recv(fds[0], rest, 1, MSG_PEEK | MSG_DONTWAIT), -1);
	ck_assert_int_eq(write(fds[1], hdr + 10, sizeof(hdr) - 11),
	    (int)sizeof(hdr) - 11);
	ck_assert_int_eq(write(fds[1], "GET /", 5), 5);
	ck_assert_int_eq(pp_read(fds[0], &rd, &a, &why), PP_DONE);
	ck_assert_int_eq(a.family, AF_INET);
	ck_assert_uint_eq(a.port, 1234);
	ck_assert_int_eq(read(fds[0], rest, sizeof(rest)), 5);
	ck_assert(memcmp(rest, "GET /", 5) == 0);
	close(fds[1]);
	rd.len = 0;
	ck_assert_int_eq(pp_read(fds[0], &rd, &a, &why), PP_BAD);
	ck_assert_str_eq(why, "closed before its PROXY protocol header");
	close(fds[0]);
}
END_TEST

Suite *
pp_suite(void)
{
	Suite *s = suite_create("pp");
	TCase *tc = tcase_create("pp");

	tcase_add_loop_test(tc, test_pp_parse, 0, NELEMS(cases));
	tcase_add_test(tc, test_pp_read_pieces);
	suite_add_tcase(s, tc);
	return s;
}
