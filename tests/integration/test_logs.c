/* tests/integration/test_logs.c: portico -t, and the access log in its
 * two formats, read after portico stops (which flushes it). */
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

static struct proxy px;

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

START_TEST(test_access_json)
{
	struct resp r;
	char *line, v[256];

	memset(&px, 0, sizeof(px));
	proxy_start(&px, "backend o { server %s }\nroute * o\n",
	    origins[0].tcp);
	rawc_fetch(px.port, "GET /echo?j=1 HTTP/1.1\r\nHost: a.test\r\n\r\n",
	    &r);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	stop_and_validate();
	line = access_line(&px, "/echo?j=1");
	ck_assert_msg(line != NULL, "no line for /echo?j=1");
	ck_assert_int_eq(json_num(line, "status"), 200);
	ck_assert(json_str(line, "client", v, sizeof(v)));
	ck_assert_str_eq(v, "127.0.0.1");
	ck_assert(json_str(line, "method", v, sizeof(v)));
	ck_assert_str_eq(v, "GET");
	ck_assert(json_str(line, "upstream", v, sizeof(v)));
	ck_assert_str_eq(v, origins[0].tcp);
	free(line);
}
END_TEST

/* Targets sent raw; each must come back from the log as sent. */
static const struct {
	const char *target;
	bool is_accepted;       /* else any status, but still valid JSON */
} odd_targets[] = {
	{ "/echo?a=\"b\\c", true },
	{ "/echo?a=\"\x01", false },
	{ "/echo?a=\xff\xfe", false },
};

START_TEST(test_access_json_escaping)
{
	char req[256], *line;
	struct resp r;

	memset(&px, 0, sizeof(px));
	proxy_start(&px, "backend o { server %s }\nroute * o\n",
	    origins[0].tcp);
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: a.test\r\n\r\n",
	    odd_targets[_i].target);
	rawc_fetch(px.port, req, &r);
	if (odd_targets[_i].is_accepted)
		ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	stop_and_validate();
	if (!odd_targets[_i].is_accepted)
		return;
	line = access_line(&px, odd_targets[_i].target);
	ck_assert_msg(line != NULL, "no line gives back target %s",
	    odd_targets[_i].target);
	free(line);
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
	char req[256], v[256], *line;
	struct resp r;

	memset(&px, 0, sizeof(px));
	proxy_start(&px, "backend o { server %s }\nroute * o\n",
	    origins[0].tcp);
	snprintf(req, sizeof(req), "GET /echo?ua=%d HTTP/1.1\r\nHost: a.test"
	    "\r\nUser-Agent: %s\r\n\r\n", _i, odd_agents[_i].ua);
	rawc_fetch(px.port, req, &r);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	stop_and_validate();
	snprintf(req, sizeof(req), "/echo?ua=%d", _i);
	line = access_line(&px, req);
	ck_assert_msg(line != NULL, "no line for %s", req);
	if (odd_agents[_i].is_exact) {
		ck_assert(json_str(line, "user_agent", v, sizeof(v)));
		ck_assert_str_eq(v, odd_agents[_i].ua);
	}
	free(line);
}
END_TEST

START_TEST(test_access_refused_logged)
{
	struct resp r;
	char *line;

	memset(&px, 0, sizeof(px));
	proxy_start(&px, "backend o { server %s }\nroute * o\n",
	    origins[0].tcp);
	rawc_fetch(px.port, "POST /refused HTTP/1.1\r\nHost: a.test\r\n"
	    "Content-Length: 1\r\nContent-Length: 2\r\n\r\nab", &r);
	ck_assert_int_eq(r.status, 400);
	resp_free(&r);
	stop_and_validate();
	line = access_line(&px, "/refused");
	ck_assert_msg(line != NULL, "a refused request left no access log "
	    "line");
	ck_assert_int_eq(json_num(line, "status"), 400);
	free(line);
}
END_TEST

START_TEST(test_access_combined)
{
	static const char start[] = "127.0.0.1 - - [";
	static const char middle[] = "] \"GET /echo HTTP/1.1\" 200 ";
	struct resp r;
	char *log, *at;

	memset(&px, 0, sizeof(px));
	px.access_format = "combined";
	proxy_start(&px, "backend o { server %s }\nroute * o\n",
	    origins[0].tcp);
	rawc_fetch(px.port, "GET /echo HTTP/1.1\r\nHost: a.test\r\n\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	proxy_stop(&px);
	log = file_read(px.access_log, NULL);
	ck_assert_ptr_nonnull(log);
	ck_assert_msg(strncmp(log, start, strlen(start)) == 0 &&
	    (at = strstr(log, middle)) != NULL && strchr(log, '\n') > at,
	    "combined line: %s", log);
	free(log);
}
END_TEST

/* A backend's warning carries the client's tag ("[w0 c12 127.0.0.1:5555]"
 * and, over HTTP/2, the stream: " s1"), so a 502 line ties to its
 * request. */
START_TEST(test_backend_line_tagged)
{
	char out[4096], url[128], needle[128], tag[160], *log, *at, *open;
	int port = free_port();
	bool is_h2 = _i == 1;

	memset(&px, 0, sizeof(px));
	proxy_start_tls(&px, "%sbackend dead { server 127.0.0.1:%d }\n"
	    "route * dead\n", harness_tls_block(NULL), port);
	if (is_h2)
		snprintf(url, sizeof(url), "https://127.0.0.1:%d/tagged",
		    px.tls_port);
	else
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/tagged",
		    px.port);
	ck_assert_int_eq(curl(out, sizeof(out), "-k", is_h2 ? "--http2" :
	    "--http1.1", "-o", "/dev/null", "-w", "%{http_code}", url,
	    NULL), 0);
	ck_assert_str_eq(out, "502");
	snprintf(needle, sizeof(needle), "] backend dead server "
	    "127.0.0.1:%d: ", port);
	ck_assert(file_wait_for(px.error_log, needle, 3000));
	proxy_stop(&px);
	log = file_read(px.error_log, NULL);
	ck_assert_ptr_nonnull(log);
	at = strstr(log, needle);
	for (open = at; open > log && *open != '[' && *open != '\n'; open--)
		;
	ck_assert_msg(*open == '[' && at - open < (long)sizeof(tag),
	    "no tag before \"%s\" in %s", needle, log);
	snprintf(tag, sizeof(tag), "%.*s", (int)(at - open - 1), open + 1);
	free(log);
	ck_assert_msg(tag[0] == 'w' && strstr(tag, " c") != NULL &&
	    strstr(tag, " 127.0.0.1:") != NULL, "tag \"%s\"", tag);
	if (is_h2)
		ck_assert_msg(strstr(tag, " s1") != NULL &&
		    strcmp(strstr(tag, " s1"), " s1") == 0, "tag \"%s\"", tag);
	else
		ck_assert_msg(strstr(tag, " s") == NULL, "tag \"%s\"", tag);
}
END_TEST

/* Whether the error log line holding NEEDLE has LEVEL ("[info]"). */
static bool
line_has_level(const char *needle, const char *level)
{
	char *log = file_read(px.error_log, NULL), *at, *bol;
	bool ok = false;

	if (log != NULL && (at = strstr(log, needle)) != NULL) {
		for (bol = at; bol > log && bol[-1] != '\n'; bol--)
			;
		ok = strstr(bol, level) != NULL && strstr(bol, level) < at;
	}
	free(log);
	return ok;
}

/* A close that is an error is logged at info, a normal end at debug. */
START_TEST(test_close_levels)
{
	static const char cut[] = "closed: client closed inside a request head";
	struct rawc *c;
	struct resp r;

	memset(&px, 0, sizeof(px));
	proxy_start(&px, "backend o { server %s }\nroute * o\n",
	    origins[0].tcp);
	rawc_fetch(px.port, "GET /echo HTTP/1.1\r\nHost: a.test\r\n"
	    "Connection: close\r\n\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	c = rawc_connect(px.port);
	rawc_sends(c, "GET /echo HTTP/1.1\r\nHost: a");
	sleep_ms(100);
	rawc_close(c);
	ck_assert(file_wait_for(px.error_log, cut, 3000));
	proxy_stop(&px);
	ck_assert_msg(line_has_level(cut, "[info] "), "%s", px.error_log);
	ck_assert_msg(line_has_level("closed: done", "[debug] "), "%s",
	    px.error_log);
}
END_TEST

Suite *
logs_suite(void)
{
	Suite *s = suite_create("logs");
	TCase *tc = tcase_create("logs");

	tcase_add_unchecked_fixture(tc, harness_setup, harness_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_check_good);
	tcase_add_loop_test(tc, test_check_bad, 0, NELEMS(bad_confs));
	tcase_add_test(tc, test_access_json);
	tcase_add_loop_test(tc, test_access_json_escaping, 0,
	    NELEMS(odd_targets));
	tcase_add_loop_test(tc, test_access_json_field_escaping, 0,
	    NELEMS(odd_agents));
	tcase_add_test(tc, test_access_refused_logged);
	tcase_add_test(tc, test_access_combined);
	tcase_add_test(tc, test_close_levels);
	suite_add_tcase(s, tc);
	tc = tcase_create("backend_lines");        /* over TLS too: certs */
	tcase_add_unchecked_fixture(tc, harness_setup, NULL);
	tcase_add_unchecked_fixture(tc, harness_certs, harness_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_backend_line_tagged, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}
