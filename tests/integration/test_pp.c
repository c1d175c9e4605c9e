/* tests/integration/test_pp.c: "listen ... proxy_protocol" (issue 15):
 * the address a PROXY v1 or v2 header carries is the client's, at the
 * origin (X-Forwarded-For) and in the access log; a connection without
 * a valid header is closed with no response and an info line. Clients:
 * curl --haproxy-protocol from 127.0.0.2 (v1, cleartext and TLS, h1 and
 * h2), raw v2 headers, and Debian's HAProxy in TCP mode with
 * send-proxy-v2 in front. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>

#include "client.h"
#include "harness.h"
#include "proto.h"
#include "suites.h"

static struct proxy px;
static int pp_port, pp_tls_port;

/* Until PORT accepts (portico's other listeners are up by then). */
static void
wait_port(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int i, fd, rc;

	for (i = 0; i < 400; i++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
		close(fd);
		if (rc == 0)
			return;
		usleep(25 * 1000);
	}
	ck_abort_msg("127.0.0.1:%d never accepted", port);
}

static void
start(void)
{
	memset(&px, 0, sizeof(px));
	pp_port = free_port();
	pp_tls_port = free_port();
	proxy_start_tls(&px, "%slisten 127.0.0.1:%d proxy_protocol\n"
	    "listen 127.0.0.1:%d tls proxy_protocol\n"
	    "backend o { server %s }\nroute * o\n", harness_tls_block(NULL),
	    pp_port, pp_tls_port, origins[0].tcp);
	wait_port(pp_port);
	wait_port(pp_tls_port);
}

/* The X-Forwarded-For the origin got for TARGET is ADDR, and so is the
 * access log's client address, checked once portico has stopped (its
 * workers write the log as they go; stopping flushes it). */
static struct {
	char target[64];
	char addr[48];
} seen[8];
static size_t nseen;

static void
assert_client(const char *target, const char *addr)
{
	char want[96], *head;

	head = origin_got(&origins[0], "GET", target);
	snprintf(want, sizeof(want), "\r\nX-Forwarded-For: %s\r\n", addr);
	ck_assert_msg(str_count(head, want) == 1, "%s: %s", target, head);
	free(head);
	ck_assert_uint_lt(nseen, NELEMS(seen));
	snprintf(seen[nseen].target, sizeof(seen[nseen].target), "%s", target);
	snprintf(seen[nseen].addr, sizeof(seen[nseen].addr), "%s", addr);
	nseen++;
}

static void
stop_and_check_log(void)
{
	char want[64], *line;
	size_t i;

	proxy_stop(&px);
	for (i = 0; i < nseen; i++) {
		line = access_line(&px, seen[i].target);
		ck_assert_msg(line != NULL, "%s: no access line",
		    seen[i].target);
		snprintf(want, sizeof(want), "\"%s\"", seen[i].addr);
		ck_assert_msg(strstr(line, want) != NULL, "%s: %s",
		    seen[i].target, line);
		free(line);
	}
	nseen = 0;
}

/* curl --haproxy-protocol sends a v1 line with its own source address
 * (127.0.0.2 here) before TLS or HTTP. */
START_TEST(test_pp_v1_curl)
{
	static const char *const kinds[] = { "--http1.1", "--http1.1",
	    "--http2", "--http2-prior-knowledge" };
	char url[160], t[64], out[4096];
	int i;

	start();
	for (i = 0; i < 4; i++) {
		snprintf(t, sizeof(t), "/echo?pp=v1-%d", i);
		snprintf(url, sizeof(url), "%s://127.0.0.1:%d%s",
		    i == 1 || i == 2 ? "https" : "http",
		    i == 1 || i == 2 ? pp_tls_port : pp_port, t);
		ck_assert_int_eq(curl(out, sizeof(out), "-k",
		    "--haproxy-protocol", "--interface", "127.0.0.2", "-H",
		    "Host: a.test", (char *)kinds[i], "-o", "/dev/null", "-w",
		    "%{http_code}", url, NULL), 0);
		ck_assert_str_eq(out, "200");
		assert_client(t, "127.0.0.2");
	}
	stop_and_check_log();
}
END_TEST

/* A v2 header naming 203.0.113.7 (IPv4) and 2001:db8::7 (IPv6), then a
 * request on the same connection; a LOCAL header leaves the connection's
 * own address. */
START_TEST(test_pp_v2_raw)
{
	static const char sig[] = "\r\n\r\n\0\r\nQUIT\n";
	static const unsigned char v4[] = { 0x21, 0x11, 0x00, 0x0c, 203, 0,
	    113, 7, 192, 0, 2, 9, 0x30, 0x39, 0x00, 0x50 };
	static const unsigned char v6[] = { 0x21, 0x21, 0x00, 0x24, 0x20, 0x01,
	    0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0x20, 0x01, 0x0d,
	    0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0x30, 0x39, 0x00, 0x50 };
	static const unsigned char local[] = { 0x20, 0x00, 0x00, 0x00 };
	static const struct {
		const unsigned char *rest;
		size_t len;
		const char *addr;
	} hdrs[] = {
		{ v4, sizeof(v4), "203.0.113.7" },
		{ v6, sizeof(v6), "2001:db8::7" },
		{ local, sizeof(local), "127.0.0.1" },
	};
	char req[128], t[64];
	struct rawc *c;
	struct resp r;
	size_t i;

	start();
	for (i = 0; i < NELEMS(hdrs); i++) {
		snprintf(t, sizeof(t), "/echo?pp=v2-%zu", i);
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: a.test\r\n"
		    "\r\n", t);
		c = rawc_connect(pp_port);
		rawc_send(c, sig, 12);
		rawc_send(c, hdrs[i].rest, hdrs[i].len);
		rawc_sends(c, req);
		ck_assert_int_eq(rawc_response(c, &r, false, 5000), 0);
		ck_assert_int_eq(r.status, 200);
		resp_free(&r);
		rawc_close(c);
		assert_client(t, hdrs[i].addr);
	}
	stop_and_check_log();
}
END_TEST

/* No header, a malformed one, or a TLS ClientHello straight away: closed,
 * no byte answered, one info line each; no request reaches the origin. */
START_TEST(test_pp_refused)
{
	static const char *const bad[] = {
		"GET /echo?pp=none HTTP/1.1\r\nHost: a.test\r\n\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\nGET /echo?pp=lf HTTP/1.1\r\n"
		"Host: a.test\r\n\r\n",
		"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
	};
	char *log;
	struct rawc *c;
	size_t i;

	start();
	for (i = 0; i < NELEMS(bad); i++) {
		c = rawc_connect(i == 2 ? pp_tls_port : pp_port);
		rawc_sends(c, bad[i]);
		ck_assert(rawc_wait_eof(c, 5000));
		ck_assert_uint_eq(c->len, 0);
		rawc_close(c);
	}
	ck_assert_int_eq(origin_count(&origins[0], "pp=none"), 0);
	ck_assert_int_eq(origin_count(&origins[0], "pp=lf"), 0);
	proxy_stop(&px);
	log = file_read(px.error_log, NULL);
	ck_assert_msg(str_count(log, "[info]") > 0 && str_count(log,
	    "closed: no PROXY protocol header") == 2 && str_count(log,
	    "closed: PROXY v1 line not ended by CRLF") == 1, "%s", log);
	free(log);
}
END_TEST

/* Debian's HAProxy in TCP mode, send-proxy-v2, in front of both
 * listeners; curl reaches it from 127.0.0.2. */
START_TEST(test_pp_haproxy)
{
	char dir[HARNESS_PATH], cfg[HARNESS_PATH + 16], url[128], out[64];
	char *argv[] = { "/usr/sbin/haproxy", "-db", "-f", cfg, NULL };
	int hp = free_port(), hps = free_port(), i;
	pid_t pid;
	FILE *f;

	/* make deps installs it (Makefile DEB_PKGS) */
	ck_assert_msg(access("/usr/sbin/haproxy", X_OK) == 0,
	    "no /usr/sbin/haproxy: run make deps");
	start();
	harness_mkdir(dir, sizeof(dir), "haproxy");
	snprintf(cfg, sizeof(cfg), "%s/h.cfg", dir);
	ck_assert_ptr_nonnull(f = fopen(cfg, "w"));
	fprintf(f, "defaults\n\tmode tcp\n\ttimeout connect 5s\n"
	    "\ttimeout client 30s\n\ttimeout server 30s\n"
	    "listen plain\n\tbind 127.0.0.1:%d\n"
	    "\tserver p 127.0.0.1:%d send-proxy-v2\n"
	    "listen tls\n\tbind 127.0.0.1:%d\n"
	    "\tserver p 127.0.0.1:%d send-proxy-v2\n", hp, pp_port, hps,
	    pp_tls_port);
	fclose(f);
	pid = run_spawn(argv);
	wait_port(hp);
	wait_port(hps);
	for (i = 0; i < 3; i++) {
		char t[64];

		snprintf(t, sizeof(t), "/echo?pp=haproxy-%d", i);
		snprintf(url, sizeof(url), "%s://127.0.0.1:%d%s",
		    i == 0 ? "http" : "https", i == 0 ? hp : hps, t);
		ck_assert_int_eq(curl(out, sizeof(out), "-k", "--interface",
		    "127.0.0.2", "-H", "Host: a.test", i == 2 ? "--http2" :
		    "--http1.1", "-o", "/dev/null", "-w", "%{http_code}", url,
		    NULL), 0);
		ck_assert_str_eq(out, "200");
		assert_client(t, "127.0.0.2");
	}
	kill(pid, SIGTERM);
	run_wait(pid, 10000);
	stop_and_check_log();
}
END_TEST

Suite *
pp_suite(void)
{
	Suite *s = suite_create("proxy_protocol");
	TCase *tc = tcase_create("proxy_protocol");

	tcase_add_unchecked_fixture(tc, harness_setup, NULL);
	tcase_add_unchecked_fixture(tc, harness_certs, harness_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_pp_v1_curl);
	tcase_add_test(tc, test_pp_v2_raw);
	tcase_add_test(tc, test_pp_refused);
	tcase_add_test(tc, test_pp_haproxy);
	suite_add_tcase(s, tc);
	return s;
}
