/* tests/integration/test_logs.c: portico -t, the access log in its two
 * formats (read after portico stops, which flushes it) and the error
 * log's levels and tags. Every request that can come over HTTP/1.1, TLS
 * HTTP/1.1, TLS HTTP/2 and h2c does, in a loop over enum proto inside
 * the test (one portico for the four), and reached the origin as the
 * log says. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "client.h"
#include "harness.h"
#include "proto.h"
#include "suites.h"

#define JSONLINES       "tests/integration/jsonlines.py"
#define ONE_BACKEND     "backend o { server %s }\nroute * o\n"
#define HOST_A          "Host: a.test"
#define SETTLE_MS       300     /* for a close to be logged */

static struct proxy px;

/* ---- portico -t: a config check, no connection and so no protocol ---- */

/* portico -t -c PATH: its exit status, stderr into ERR. */
static int
check_conf(const char *path, char *err, size_t cap)
{
	char *argv[] = { getenv("PORTICO") ? getenv("PORTICO") : "./portico",
	    "-t", "-c", (char *)path, NULL };

	return run_argv(argv, NULL, 0, err, cap, 10000);
}

START_TEST(test_check_good)
{
	char dir[HARNESS_DIR], path[HARNESS_PATH], err[4096], text[512];

	harness_mkdir(dir, sizeof(dir), "conf");
	snprintf(path, sizeof(path), "%s/good.conf", dir);
	snprintf(text, sizeof(text), "listen 127.0.0.1:%d\n"
	    "backend b { server %s }\nroute * b\n", free_port(),
	    origins[0].tcp);
	file_write(path, text, strlen(text));
	ck_assert_msg(check_conf(path, err, sizeof(err)) == 0, "%s", err);
}
END_TEST

static const struct {
	const char *text;
	const char *message;    /* after "FILE:" on stderr */
} bad_confs[] = {
	{ "listen 127.0.0.1:8080\nbackend b { server 127.0.0.1:9 }\n"
	  "no_such_directive 1\nroute * b\n", "3: unknown directive" },
	{ "listen 127.0.0.1:8080\nbackend b { server 127.0.0.1:9 }\n"
	  "route * nope\n", "3: route to unknown backend \"nope\"" },
	{ "listen 127.0.0.1\nbackend b { server 127.0.0.1:9 }\n"
	  "route * b\n", "1: invalid address \"127.0.0.1\": missing port" },
	{ "listen 127.0.0.1:8080\nbackend b { server 127.0.0.1:9 }\n"
	  "route * b\nmax_connections 0\n", "4: invalid max_connections "
	  "\"0\": use auto or a number from 1 to 1000000" },
	{ "listen 127.0.0.1:8080\nmax_connections 10k\n"
	  "backend b { server 127.0.0.1:9 }\nroute * b\n",
	  "2: invalid max_connections \"10k\": use auto or a number from 1 "
	  "to 1000000" },
};

START_TEST(test_check_bad)
{
	char dir[HARNESS_DIR], path[HARNESS_PATH], err[4096], want[512];

	harness_mkdir(dir, sizeof(dir), "conf");
	snprintf(path, sizeof(path), "%s/bad.conf", dir);
	file_write(path, bad_confs[_i].text, strlen(bad_confs[_i].text));
	ck_assert_int_eq(check_conf(path, err, sizeof(err)), 1);
	snprintf(want, sizeof(want), "%s:%s", path, bad_confs[_i].message);
	ck_assert_msg(strstr(err, want) != NULL, "wanted \"%s\" on stderr, "
	    "got \"%s\"", want, err);
}
END_TEST

/* ---- the access log, over every protocol ---- */

/* Stops portico and checks every access log line with JSONLINES. */
static void
stop_and_validate(void)
{
	char *argv[] = { "/usr/bin/python3", JSONLINES, px.access_log, NULL };
	char out[4096];

	proxy_stop(&px);
	ck_assert_msg(run_argv(argv, out, sizeof(out), NULL, 0, 30000) == 0,
	    "access log is not JSON lines: %s", out);
}

/* GET TARGET over PROTO with HEADERS (NULL: Host only) must get
 * STATUS. */
static void
get_over(enum proto proto, const char *target, const char *const *headers,
    int status)
{
	static const char *const host[] = { HOST_A, NULL };
	struct resp r;

	proto_request(proto, &px, "GET", target, headers != NULL ? headers :
	    host, NULL, 0, &r);
	ck_assert_msg(r.status == status, "GET %s over %s: wanted %d, got %d",
	    target, proto_names[proto], status, r.status);
	resp_free(&r);
}

/* The JSON fields every line has, as PROTO's request sets them. */
static void
assert_json_line(const char *line, enum proto proto, int status)
{
	const char *want = proto_is_h2(proto) ? "HTTP/2" : "HTTP/1.1";
	char v[256];

	ck_assert_msg(json_num(line, "status") == status, "over %s: wanted "
	    "%d: %s", proto_names[proto], status, line);
	ck_assert_msg(json_str(line, "method", v, sizeof(v)) &&
	    strcmp(v, "GET") == 0, "over %s: %s", proto_names[proto], line);
	ck_assert_msg(json_str(line, "client", v, sizeof(v)) &&
	    strcmp(v, "127.0.0.1") == 0, "over %s: %s", proto_names[proto],
	    line);
	ck_assert_msg(json_str(line, "protocol", v, sizeof(v)) &&
	    strncmp(v, want, strlen(want)) == 0, "over %s: %s",
	    proto_names[proto], line);
}

static const struct {
	const char *path;
	int status;
} json_rows[] = {
	{ "/echo?log=1", 200 },
	{ "/slow?ms=3000", 504 },       /* backend_read_timeout 1s */
	{ "/bad", 502 },                /* "HTTP/1.1 2x0 Nope" */
};

/* One line per request, naming the server it went to, which got the
 * request once. */
START_TEST(test_access_json)
{
	char target[128], v[256], *line;
	size_t k;
	int p;

	proto_proxy_start(&px, 0, ONE_BACKEND "backend_read_timeout 1s\n",
	    origins[0].tcp);
	for (p = 0; p < P_COUNT; p++)
		for (k = 0; k < NELEMS(json_rows); k++)
			get_over(p, proto_target(target, sizeof(target),
			    json_rows[k].path, p), NULL, json_rows[k].status);
	stop_and_validate();
	for (p = 0; p < P_COUNT; p++)
		for (k = 0; k < NELEMS(json_rows); k++) {
			proto_target(target, sizeof(target), json_rows[k].path,
			    p);
			line = access_line(&px, target);
			ck_assert_msg(line != NULL, "no line for %s", target);
			assert_json_line(line, p, json_rows[k].status);
			ck_assert_msg(json_str(line, "upstream", v, sizeof(v))
			    && strcmp(v, origins[0].tcp) == 0, "%s", line);
			free(line);
			assert_origin_requests(&origins[0], "GET", target, 1);
		}
}
END_TEST

/* Targets as sent; each must come back from the log as sent. */
static const struct {
	const char *target;
	bool is_accepted;       /* else any status, but still valid JSON */
	bool is_h1_only;        /* curl will not put it in a URL: sent raw */
} odd_targets[] = {
	{ "/echo?a=\"b\\c", true, false },
	{ "/echo?a=\"\x01", false, true },
	{ "/echo?a=\xff\xfe", false, false },
};

START_TEST(test_access_json_escaping)
{
	static const char *const h[] = { HOST_A, NULL };
	char req[256], target[128], *line;
	struct resp r;
	int p;

	proto_proxy_start(&px, 0, ONE_BACKEND, origins[0].tcp);
	for (p = 0; p < P_COUNT; p++) {
		proto_target(target, sizeof(target), odd_targets[_i].target, p);
		if (odd_targets[_i].is_h1_only && p != P_H1)
			continue;
		if (odd_targets[_i].is_h1_only) {
			snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\n"
			    "Host: a.test\r\n\r\n", target);
			rawc_fetch(px.port, req, &r);
		} else
			proto_request(p, &px, "GET", target, h, NULL, 0, &r);
		ck_assert_msg(!odd_targets[_i].is_accepted || r.status == 200,
		    "%s over %s: %d", target, proto_names[p], r.status);
		resp_free(&r);
	}
	stop_and_validate();
	for (p = 0; p < P_COUNT && odd_targets[_i].is_accepted; p++) {
		proto_target(target, sizeof(target), odd_targets[_i].target, p);
		line = access_line(&px, target);
		ck_assert_msg(line != NULL, "no line gives back target %s",
		    target);
		free(line);
		/* the origin got it as sent, once */
		assert_origin_requests(&origins[0], "GET", target, 1);
	}
}
END_TEST

/* Field values go into the log too; obs-text (RFC 9110 §5.5) is legal
 * in them but is not UTF-8, which JSON requires (RFC 8259 §8.1). */
static const struct {
	const char *ua;
	bool is_exact;          /* the logged user_agent unescapes to ua */
} odd_agents[] = {
	{ "a\"b\\c\td", true },
	{ "caf\xe9 \xff", false },
};

START_TEST(test_access_json_field_escaping)
{
	char target[64], ua[128], v[256], line0[160], *line, *head;
	const char *const h[] = { HOST_A, ua, NULL };
	int p;

	snprintf(ua, sizeof(ua), "User-Agent: %s", odd_agents[_i].ua);
	proto_proxy_start(&px, 0, ONE_BACKEND, origins[0].tcp);
	for (p = 0; p < P_COUNT; p++) {
		snprintf(target, sizeof(target), "/echo?ua=%d&p=%s", _i,
		    proto_names[p]);
		get_over(p, target, h, 200);
		/* the origin got the value byte for byte */
		snprintf(line0, sizeof(line0), "GET %s HTTP/1.1\r\n", target);
		head = origin_head(&origins[0], line0);
		ck_assert_msg(str_count(head, ua) == 1, "over %s the origin "
		    "got:\n%s", proto_names[p], head);
		free(head);
	}
	stop_and_validate();
	for (p = 0; p < P_COUNT; p++) {
		snprintf(target, sizeof(target), "/echo?ua=%d&p=%s", _i,
		    proto_names[p]);
		line = access_line(&px, target);
		ck_assert_msg(line != NULL, "no line for %s", target);
		ck_assert_msg(!odd_agents[_i].is_exact ||
		    (json_str(line, "user_agent", v, sizeof(v)) &&
		    strcmp(v, odd_agents[_i].ua) == 0), "over %s: %s",
		    proto_names[p], line);
		free(line);
	}
}
END_TEST

/* How many access-log lines say STATUS for TARGET over PROTO (HTTP/1.1
 * or HTTP/2, with a "tls" field or none). */
static int
lines_with(int status, const char *target, enum proto proto)
{
	char *log = file_read(px.access_log, NULL), *line, *next, v[256];
	const char *want = proto_is_h2(proto) ? "HTTP/2" : "HTTP/1.1";
	int n = 0;

	ck_assert_ptr_nonnull(log);
	for (line = log; *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) == NULL)
			next = line + strlen(line);
		else
			*next++ = '\0';
		n += json_num(line, "status") == status &&
		    json_str(line, "target", v, sizeof(v)) &&
		    strcmp(v, target) == 0 &&
		    json_str(line, "protocol", v, sizeof(v)) &&
		    strncmp(v, want, strlen(want)) == 0 &&
		    json_str(line, "tls", v, sizeof(v)) == proto_is_tls(proto);
	}
	free(log);
	return n;
}

/* A request portico refuses is logged with its status: over every
 * protocol a head over client_max_header_size (431), which the origin
 * never sees; over HTTP/1.1 also a framing error (two Content-Length),
 * HTTP/1.1 syntax that h2 has no form of. An HTTP/1.1 head refused as
 * too large is logged without its request line ("-"). */
START_TEST(test_access_refused_logged)
{
	char big[1600] = "X-Big: ", target[64], *line;
	const char *const h[] = { HOST_A, big, NULL };
	struct resp r;
	int p;

	memset(big + 7, 'x', 1500);
	big[1507] = '\0';
	proto_proxy_start(&px, 0, ONE_BACKEND "client_max_header_size 1k\n"
	    "client_max_uri_size 256\n", origins[0].tcp);
	rawc_fetch(px.port, "POST /refused HTTP/1.1\r\nHost: a.test\r\n"
	    "Content-Length: 1\r\nContent-Length: 2\r\n\r\nab", &r);
	ck_assert_int_eq(r.status, 400);
	resp_free(&r);
	for (p = 0; p < P_COUNT; p++)
		get_over(p, proto_target(target, sizeof(target), "/refused", p),
		    h, 431);
	stop_and_validate();
	line = access_line(&px, "/refused");
	ck_assert_msg(line != NULL, "a refused request left no access log "
	    "line");
	ck_assert_int_eq(json_num(line, "status"), 400);
	free(line);
	for (p = 0; p < P_COUNT; p++) {
		proto_target(target, sizeof(target), "/refused", p);
		ck_assert_msg(lines_with(431, proto_is_h2(p) ? target : "-",
		    p) == 1, "a 431 over %s: %d access log lines",
		    proto_names[p], lines_with(431, proto_is_h2(p) ? target :
		    "-", p));
		assert_origin_requests(&origins[0], "GET", target, 0);
	}
	ck_assert_int_eq(origin_count(&origins[0], "/refused"), 0);
}
END_TEST

START_TEST(test_access_combined)
{
	static const char start[] = "127.0.0.1 - - [";
	char target[64], middle[128], *log, *at, *bol;
	int p;

	memset(&px, 0, sizeof(px));
	px.access_format = "combined";
	proxy_start_tls(&px, "%s" ONE_BACKEND, harness_tls_block(NULL),
	    origins[0].tcp);
	for (p = 0; p < P_COUNT; p++)
		get_over(p, proto_target(target, sizeof(target), "/echo", p),
		    NULL, 200);
	proxy_stop(&px);
	log = file_read(px.access_log, NULL);
	ck_assert_ptr_nonnull(log);
	for (p = 0; p < P_COUNT; p++) {
		snprintf(middle, sizeof(middle), "] \"GET %s %s\" 200 ",
		    proto_target(target, sizeof(target), "/echo", p),
		    proto_is_h2(p) ? "HTTP/2.0" : "HTTP/1.1");
		at = strstr(log, middle);
		ck_assert_msg(at != NULL, "no \"%s\" in:\n%s", middle, log);
		for (bol = at; bol > log && bol[-1] != '\n'; bol--)
			;
		ck_assert_msg(strncmp(bol, start, strlen(start)) == 0 &&
		    strchr(at, '\n') != NULL, "combined line over %s: %.200s",
		    proto_names[p], bol);
		assert_origin_requests(&origins[0], "GET", target, 1);
	}
	free(log);
}
END_TEST

/* ---- the error log: tags and levels, over every protocol ---- */

/* The tag ("w0 c12 127.0.0.1:5555", " s1" over HTTP/2) before the last
 * occurrence of NEEDLE in the error log, into TAG. */
static void
last_tag(const char *needle, char *tag, size_t cap)
{
	char *log = file_read(px.error_log, NULL), *at, *last = NULL, *open;

	ck_assert_ptr_nonnull(log);
	for (at = log; (at = strstr(at, needle)) != NULL; at++)
		last = at;
	ck_assert_msg(last != NULL, "no \"%s\" in %s", needle, log);
	for (open = last; open > log && *open != '[' && *open != '\n';
	    open--)
		;
	ck_assert_msg(*open == '[' && last - open < (long)cap, "no tag "
	    "before \"%s\" in %s", needle, log);
	snprintf(tag, cap, "%.*s", (int)(last - open - 1), open + 1);
	free(log);
}

/* A backend's warning carries the client's tag ("[w0 c12 127.0.0.1:5555]"
 * and, over HTTP/2, the stream: " s1"), so a 502 line ties to its
 * request. */
START_TEST(test_backend_line_tagged)
{
	char target[64], needle[128], tag[160];
	int port = free_port(), p, n;

	proto_proxy_start(&px, 0, "backend dead { server 127.0.0.1:%d }\n"
	    "route * dead\n", port);
	snprintf(needle, sizeof(needle), "] backend dead server "
	    "127.0.0.1:%d: ", port);
	for (p = 0; p < P_COUNT; p++) {
		n = file_count(px.error_log, needle);
		get_over(p, proto_target(target, sizeof(target), "/tagged", p),
		    NULL, 502);
		ck_assert_msg(file_wait_count(px.error_log, needle, n + 1,
		    3000), "over %s, no \"%s\" in %s", proto_names[p], needle,
		    px.error_log);
		last_tag(needle, tag, sizeof(tag));
		ck_assert_msg(tag[0] == 'w' && strstr(tag, " c") != NULL &&
		    strstr(tag, " 127.0.0.1:") != NULL, "over %s: tag \"%s\"",
		    proto_names[p], tag);
		if (proto_is_h2(p))
			ck_assert_msg(strstr(tag, " s1") != NULL &&
			    strcmp(strstr(tag, " s1"), " s1") == 0,
			    "over %s: tag \"%s\"", proto_names[p], tag);
		else
			ck_assert_msg(strstr(tag, " s") == NULL, "over %s: tag "
			    "\"%s\"", proto_names[p], tag);
	}
	proxy_stop(&px);
}
END_TEST

/* Opens a connection (argv: tls 0|1, port, h2 0|1), starts a request and
 * cuts it: over HTTP/1.1 half a head, then a clean close (over TLS,
 * close_notify first); over HTTP/2 the preface and a HEADERS without
 * END_HEADERS, then a TCP reset (SO_LINGER 0): a FIN there is an
 * ordinary end of an h2 connection, logged at debug. */
static const char cut_py[] =
    "import socket, ssl, struct, sys, time\n"
    "tls, port, h2 = sys.argv[1] == '1', int(sys.argv[2]), "
    "sys.argv[3] == '1'\n"
    "s = socket.create_connection(('127.0.0.1', port), timeout=5)\n"
    "if tls:\n"
    "    c = ssl.create_default_context()\n"
    "    c.check_hostname = False\n"
    "    c.verify_mode = ssl.CERT_NONE\n"
    "    c.set_alpn_protocols(['h2' if h2 else 'http/1.1'])\n"
    "    s = c.wrap_socket(s, server_hostname='a.test')\n"
    "if h2:\n"
    "    blk = b'\\x82\\x86\\x84'\n"
    "    s.sendall(b'PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n'\n"
    "              + b'\\x00\\x00\\x00\\x04\\x00\\x00\\x00\\x00\\x00'\n"
    "              + struct.pack('>I', len(blk))[1:]\n"
    "              + b'\\x01\\x00\\x00\\x00\\x00\\x01' + blk)\n"
    "    time.sleep(0.2)\n"
    "    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,\n"
    "                 struct.pack('ii', 1, 0))\n"
    "else:\n"
    "    s.sendall(b'GET /echo HTTP/1.1\\r\\nHost: a')\n"
    "    time.sleep(0.1)\n"
    "    if tls:\n"
    "        s.settimeout(1)\n"
    "        try:\n"
    "            s.unwrap()\n"
    "        except Exception:\n"
    "            pass\n"
    "s.close()\n";

static void
cut_request(enum proto proto)
{
	char port[16], err[1024];
	char *argv[] = { "/usr/bin/python3", "-c", (char *)cut_py,
	    proto_is_tls(proto) ? "1" : "0", port,
	    proto_is_h2(proto) ? "1" : "0", NULL };

	snprintf(port, sizeof(port), "%d", proto_is_tls(proto) ?
	    px.tls_port : px.port);
	ck_assert_msg(run_argv(argv, NULL, 0, err, sizeof(err), 10000) == 0,
	    "cutting a request over %s: %s", proto_names[proto], err);
}

/* How many "closed: " lines of the error log are at LEVEL ("[info] "),
 * or at any level when LEVEL is NULL. */
static int
closed_lines(const char *level)
{
	char *log = file_read(px.error_log, NULL), *line, *next, *at;
	int n = 0;

	for (line = log; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((at = strstr(line, "] closed: ")) == NULL)
			continue;
		*at = '\0';
		n += level == NULL || strstr(line, level) != NULL;
	}
	free(log);
	return n;
}

/* A close that is an error is logged at info, a normal end at debug:
 * each protocol's normal end first, then each one's error close. The
 * harness's probe of the TLS listener at start is a failed handshake,
 * at info: counted before. */
START_TEST(test_close_levels)
{
	static const char *const cut[P_COUNT] = {
		[P_H1] = "closed: client closed inside a request head",
		[P_H1TLS] = "closed: client closed inside a request head",
		[P_H2TLS] = "closed: client error",
		[P_H2C] = "closed: client error",
	};
	int p, info, debug;

	proto_proxy_start(&px, 0, ONE_BACKEND, origins[0].tcp);
	sleep_ms(SETTLE_MS);
	info = closed_lines("[info] ");
	debug = closed_lines("[debug] ");
	for (p = 0; p < P_COUNT; p++)
		get_over(p, "/echo", NULL, 200);
	sleep_ms(SETTLE_MS);
	ck_assert_msg(closed_lines("[info] ") == info &&
	    closed_lines("[debug] ") >= debug + P_COUNT, "%d closes at debug "
	    "for %d normal ends, %d at info: %s", closed_lines("[debug] ") -
	    debug, P_COUNT, closed_lines("[info] ") - info, px.error_log);
	for (p = 0; p < P_COUNT; p++) {
		cut_request(p);
		ck_assert_msg(file_wait_count(px.error_log, cut[p],
		    p == P_H1TLS || p == P_H2C ? 2 : 1, 3000), "over %s, no "
		    "\"%s\" in %s", proto_names[p], cut[p], px.error_log);
		ck_assert_msg(closed_lines("[info] ") == info + p + 1, "over "
		    "%s, %d closes at info: %s", proto_names[p],
		    closed_lines("[info] ") - info, px.error_log);
	}
	proxy_stop(&px);
}
END_TEST

Suite *
logs_suite(void)
{
	Suite *s = suite_create("logs");
	TCase *tc = tcase_create("check");

	tcase_add_unchecked_fixture(tc, harness_setup, harness_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_check_good);
	tcase_add_loop_test(tc, test_check_bad, 0, NELEMS(bad_confs));
	suite_add_tcase(s, tc);
	tc = tcase_create("logs");              /* over TLS too: certs */
	tcase_add_unchecked_fixture(tc, harness_setup, NULL);
	tcase_add_unchecked_fixture(tc, harness_certs, harness_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_access_json);
	tcase_add_loop_test(tc, test_access_json_escaping, 0,
	    NELEMS(odd_targets));
	tcase_add_loop_test(tc, test_access_json_field_escaping, 0,
	    NELEMS(odd_agents));
	tcase_add_test(tc, test_access_refused_logged);
	tcase_add_test(tc, test_access_combined);
	tcase_add_test(tc, test_backend_line_tagged);
	tcase_add_test(tc, test_close_levels);
	suite_add_tcase(s, tc);
	return s;
}
