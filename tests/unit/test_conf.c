/* tests/unit/test_conf.c: config/conf.h, accepted and refused files. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "conf.h"
#include "routing.h"
#include "suites.h"

/* A valid file of 5 lines: refused rows add their mistake at line 6. */
#define BASE \
	"listen 127.0.0.1:8080\n" \
	"backend b {\n" \
	"\tserver 127.0.0.1:9000\n" \
	"}\n" \
	"route * b\n"

#define X10 "xxxxxxxxxx"
#define LONG_PATH "/" X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10

static const struct {
	const char *text;
	const char *err;        /* the whole message, file and line */
} refused[] = {
	{ "foo 1\n", "t.conf:1: unknown directive \"foo\"" },
	{ BASE "workers\n", "t.conf:6: \"workers\" takes 1 argument" },
	{ BASE "listen\n", "t.conf:6: \"listen\" takes 1 to 4 arguments" },
	{ BASE "listen 127.0.0.1:81 tls x\n",
	  "t.conf:6: unknown listen option \"x\"" },
	{ BASE "listen 127.0.0.1:81 tls h2_websocket=off x\n",
	  "t.conf:6: unknown listen option \"x\"" },
	{ BASE "listen 127.0.0.1:81 tls h2_websocket=off proxy_protocol x\n",
	  "t.conf:6: \"listen\" takes 1 to 4 arguments" },
	{ BASE "listen 127.0.0.1:81 h2_websocket=no\n",
	  "t.conf:6: unknown listen option \"h2_websocket=no\"" },
	{ BASE "route a b c\n", "t.conf:6: \"route\" takes 2 arguments" },
	{ BASE "user no-such-user-here\n",
	  "t.conf:6: unknown user \"no-such-user-here\"" },
	{ BASE "group no-such-group-here\n",
	  "t.conf:6: unknown group \"no-such-group-here\"" },
	{ BASE "shutdown_timeout 0\n",
	  "t.conf:6: \"shutdown_timeout\" must be positive" },
	{ BASE "tunnel_timeout x\n", "t.conf:6: invalid duration \"x\"" },
	{ BASE "listen 127.0.0.1\n",
	  "t.conf:6: invalid address \"127.0.0.1\": missing port" },
	{ BASE "listen 127.0.0.1:\n",
	  "t.conf:6: invalid address \"127.0.0.1:\": missing port" },
	{ BASE "listen 127.0.0.1:99999\n",
	  "t.conf:6: invalid address \"127.0.0.1:99999\": bad port" },
	{ BASE "listen 127.0.0.1:0\n",
	  "t.conf:6: invalid address \"127.0.0.1:0\": bad port" },
	{ BASE "listen 127.0.0.1:8x\n",
	  "t.conf:6: invalid address \"127.0.0.1:8x\": bad port" },
	{ BASE "listen [::1:80\n",
	  "t.conf:6: invalid address \"[::1:80\": bad IPv6 address" },
	{ BASE "listen [::g]:80\n",
	  "t.conf:6: invalid address \"[::g]:80\": bad IPv6 address" },
	{ BASE "listen [::1]80\n",
	  "t.conf:6: invalid address \"[::1]80\": missing port" },
	{ BASE "listen 300.1.1.1:80\n",
	  "t.conf:6: invalid address \"300.1.1.1:80\": bad IPv4 address" },
	{ BASE "listen unix:\n",
	  "t.conf:6: invalid address \"unix:\": empty unix path" },
	{ BASE "listen unix:" LONG_PATH "\n",
	  "t.conf:6: invalid address \"unix:" LONG_PATH
	  "\": unix path too long" },
	{ BASE "listen 127.0.0.1:8080\n", "t.conf:6: duplicate listen "
	  "\"127.0.0.1:8080\" (first at line 1)" },
	{ BASE "listen 127.0.0.1:81 ssl\n",
	  "t.conf:6: unknown listen option \"ssl\"" },
	{ BASE "workers 0\n",
	  "t.conf:6: \"workers\" must be auto or between 1 and 256" },
	{ BASE "workers 257\n",
	  "t.conf:6: \"workers\" must be auto or between 1 and 256" },
	{ BASE "workers many\n", "t.conf:6: invalid number \"many\"" },
	{ BASE "workers -1\n", "t.conf:6: invalid number \"-1\"" },
	{ BASE "keepalive_timeout 0\n",
	  "t.conf:6: \"keepalive_timeout\" must be positive" },
	{ BASE "backend_fail_timeout 0ms\n",
	  "t.conf:6: \"backend_fail_timeout\" must be positive" },
	{ BASE "send_timeout 5x\n", "t.conf:6: invalid duration \"5x\"" },
	{ BASE "send_timeout s\n", "t.conf:6: invalid duration \"s\"" },
	{ BASE "send_timeout 9999999h\n",
	  "t.conf:6: invalid duration \"9999999h\"" },
	{ BASE "client_max_header_size 1q\n",
	  "t.conf:6: invalid size \"1q\"" },
	{ BASE "client_max_body_size 99999999999999999999\n",
	  "t.conf:6: invalid size \"99999999999999999999\"" },
	{ BASE "client_max_body_size 99999999999g\n",
	  "t.conf:6: invalid size \"99999999999g\"" },
	{ BASE "client_max_header_size 512\n", "t.conf:6: "
	  "\"client_max_header_size\" must be between 1k and 1m" },
	{ BASE "backend_max_header_size 2m\n", "t.conf:6: "
	  "\"backend_max_header_size\" must be between 1k and 1m" },
	{ BASE "client_max_uri_size 100\n",
	  "t.conf:6: \"client_max_uri_size\" must be between 256 and 1m" },
	{ BASE "client_max_header_size 4k\nclient_max_uri_size 8k\n",
	  "t.conf:7: client_max_uri_size (8k) must not exceed "
	  "client_max_header_size (4k)" },
	{ BASE "client_max_header_size 4k\n",
	  "t.conf:6: client_max_uri_size (8k) must not exceed "
	  "client_max_header_size (4k)" },
	{ BASE "client_header_timeout 10s\nclient_header_initial_timeout 11s\n",
	  "t.conf:7: client_header_initial_timeout (11000ms) must not exceed "
	  "client_header_timeout (10000ms)" },
	{ BASE "client_header_timeout 50s\nclient_header_initial_timeout 1m\n",
	  "t.conf:7: client_header_initial_timeout (60000ms) must not exceed "
	  "client_header_timeout (50000ms)" },
	{ BASE "client_max_header_fields 7\n", "t.conf:6: "
	  "\"client_max_header_fields\" must be between 8 and 10000" },
	{ BASE "client_header_min_rate 0\n", "t.conf:6: "
	  "\"client_header_min_rate\" must be between 1 and 1m" },
	{ BASE "backend_keepalive 10001\n",
	  "t.conf:6: \"backend_keepalive\" must be between 0 and 10000" },
	{ BASE "keepalive_requests 0\n",
	  "t.conf:6: \"keepalive_requests\" must be between 1 and 1000000" },
	{ BASE "max_connections 0\n", "t.conf:6: invalid max_connections "
	  "\"0\": use auto or a number from 1 to 1000000" },
	{ BASE "max_connections 1000001\n", "t.conf:6: invalid "
	  "max_connections \"1000001\": use auto or a number from 1 to "
	  "1000000" },
	{ BASE "max_connections -5\n", "t.conf:6: invalid max_connections "
	  "\"-5\": use auto or a number from 1 to 1000000" },
	{ BASE "max_connections many\n", "t.conf:6: invalid "
	  "max_connections \"many\": use auto or a number from 1 to "
	  "1000000" },
	{ BASE "max_connections\n",
	  "t.conf:6: \"max_connections\" takes 1 argument" },
	{ BASE "max_connections 10\nmax_connections 20\n",
	  "t.conf:7: duplicate \"max_connections\" (first at line 6)" },
	{ BASE "via yes\n", "t.conf:6: invalid flag \"yes\": use on or off" },
	{ BASE "workers 2\nworkers 3\n",
	  "t.conf:7: duplicate \"workers\" (first at line 6)" },
	{ BASE "access_log stdout xml\n",
	  "t.conf:6: invalid log format \"xml\"" },
	{ BASE "access_log off json\n",
	  "t.conf:6: \"access_log off\" takes no format" },
	{ BASE "error_log stderr loud\n",
	  "t.conf:6: invalid log level \"loud\"" },
	{ "listen 127.0.0.1:80\nroute * nope\n",
	  "t.conf:2: route to unknown backend \"nope\"" },
	{ BASE "route * b\n",
	  "t.conf:6: duplicate route \"*\" (first at line 5)" },
	{ BASE "route example.com/ b\nroute EXAMPLE.com. b\n", "t.conf:7: "
	  "duplicate route \"EXAMPLE.com.\" (first at line 6)" },
	{ BASE "route exa*mple.com b\n",
	  "t.conf:6: invalid route host \"exa*mple.com\"" },
	{ BASE "route /api b\n", "t.conf:6: invalid route host \"\"" },
	{ BASE "route *. b\n", "t.conf:6: invalid route host \"*.\"" },
	{ BASE "route *.*.x b\n", "t.conf:6: invalid route host \"*.*.x\"" },
	{ BASE "route example.com:80 b\n",
	  "t.conf:6: invalid route host \"example.com:80\"" },
	{ BASE "backend b {\n\tserver 127.0.0.1:1\n}\n",
	  "t.conf:6: duplicate backend \"b\" (first defined at line 2)" },
	{ BASE "backend b@d {\n\tserver 127.0.0.1:1\n}\n",
	  "t.conf:6: invalid backend name \"b@d\"" },
	{ BASE "backend c {\n}\n", "t.conf:6: backend \"c\" has no server" },
	{ BASE "backend c\n", "t.conf:6: \"backend\" needs a \"{\" block" },
	{ BASE "backend c {\n\tserver 127.0.0.1:1 weight=0\n}\n",
	  "t.conf:7: weight must be between 1 and 1000" },
	{ BASE "backend c {\n\tserver 127.0.0.1:1 weight=1001\n}\n",
	  "t.conf:7: weight must be between 1 and 1000" },
	{ BASE "backend c {\n\tserver 127.0.0.1:1 weight=x\n}\n",
	  "t.conf:7: invalid number \"x\"" },
	{ BASE "backend c {\n\tserver 127.0.0.1:1 max=1\n}\n",
	  "t.conf:7: unknown server option \"max=1\"" },
	{ BASE "backend c {\n\tserver localhost:80\n}\n", "t.conf:7: "
	  "invalid address \"localhost:80\": bad IPv4 address" },
	{ "backend b {\n\tserver 127.0.0.1:1\n}\nroute * b\n",
	  "t.conf:4: no listen directive" },
	{ "", "t.conf:1: no listen directive" },
	{ "# nothing\n\n", "t.conf:2: no listen directive" },
	{ "listen 127.0.0.1:80\nbackend b {\n\tserver 127.0.0.1:1\n}\n"
	  "route example.com b\n", "t.conf:5: no route catches every host: "
	  "add \"route * BACKEND\"" },
	{ "listen 127.0.0.1:80\nbackend b {\n\tserver 127.0.0.1:1\n}\n"
	  "route */api/ b", "t.conf:5: no route catches every host: "
	  "add \"route * BACKEND\"" },
	{ BASE "}\n", "t.conf:6: unexpected \"}\"" },
	{ BASE "workers 2 }\n", "t.conf:6: unexpected \"}\"" },
	{ BASE "backend c {\n\tserver 127.0.0.1:1\n",
	  "t.conf:6: missing \"}\" at end of file" },
	{ BASE "access_log \"/tmp/x\n", "t.conf:6: unterminated string" },
	{ BASE "access_log \"a\\q\"\n", "t.conf:6: invalid escape in string" },
	{ BASE "access_log \"\"\n", "t.conf:6: empty string" },
	{ BASE "access_log \"a\"b\n", "t.conf:6: missing space after string" },
	{ BASE "server 127.0.0.1:1\n",
	  "t.conf:6: \"server\" outside a backend block" },
	{ "backend c {\n\tworkers 2\n}\n",
	  "t.conf:2: \"workers\" not allowed inside a backend block" },
	{ "backend c {\n\tbackend d {\n",
	  "t.conf:2: \"backend\" not allowed inside a backend block" },
	{ BASE "workers 2 {\n}\n", "t.conf:6: unexpected \"{\"" },
	{ BASE "{\n", "t.conf:6: unexpected \"{\"" },
	{ BASE "include no-such-file-*.conf\n",
	  "t.conf:6: include \"no-such-file-*.conf\" matches no file" },
	{ BASE "include\n", "t.conf:6: \"include\" takes 1 argument" },
	{ BASE "x_forwarded_for\n",
	  "t.conf:6: \"x_forwarded_for\" takes 1 argument" },
	{ "listen 127.0.0.1:80\r\nbogus\r\n",
	  "t.conf:2: unknown directive \"bogus\"" },
	/* The tls block; tls_load checks files and lists (test_tls.c). */
	{ BASE "listen 127.0.0.1:8443 tls\n",
	  "t.conf:6: tls listener needs a certificate in a tls block" },
	{ BASE "tls {\n}\nlisten 127.0.0.1:8443 tls\n",
	  "t.conf:8: tls listener needs a certificate in a tls block" },
	{ BASE "tls {\n\tprotocols TLSv1.3\n}\n",
	  "t.conf:6: tls block has no certificate" },
	{ BASE "tls\n", "t.conf:6: \"tls\" needs a \"{\" block" },
	{ BASE "tls x {\n}\n", "t.conf:6: \"tls\" takes 0 arguments" },
	{ BASE "tls {\n\tcertificate a b\n}\ntls {\n}\n",
	  "t.conf:9: duplicate \"tls\" (first at line 6)" },
	{ BASE "tls {\n\tcertificate a b\n",
	  "t.conf:6: missing \"}\" at end of file" },
	{ BASE "certificate a b\n",
	  "t.conf:6: \"certificate\" outside a tls block" },
	{ BASE "alpn h2\n", "t.conf:6: \"alpn\" outside a tls block" },
	{ BASE "tls {\n\tworkers 2\n}\n",
	  "t.conf:7: \"workers\" not allowed inside a tls block" },
	{ BASE "tls {\n\tserver 127.0.0.1:1\n}\n",
	  "t.conf:7: \"server\" not allowed inside a tls block" },
	{ BASE "tls {\n\ttls {\n",
	  "t.conf:7: \"tls\" not allowed inside a tls block" },
	{ BASE "backend c {\n\tcertificate a b\n}\n",
	  "t.conf:7: \"certificate\" not allowed inside a backend block" },
	{ BASE "backend c {\n\ttls {\n",
	  "t.conf:7: \"tls\" not allowed inside a backend block" },
	{ BASE "tls {\n\tcertificate a\n}\n",
	  "t.conf:7: \"certificate\" takes 2 arguments" },
	{ BASE "tls {\n\tcertificate a b c\n}\n",
	  "t.conf:7: \"certificate\" takes 2 arguments" },
	{ BASE "tls {\n\tprotocols\n}\n",
	  "t.conf:7: \"protocols\" takes 1 to 4 arguments" },
	{ BASE "tls {\n\tprotocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3 x\n}\n",
	  "t.conf:7: \"protocols\" takes 1 to 4 arguments" },
	{ BASE "tls {\n\tprotocols SSLv3\n}\n", "t.conf:7: unknown protocol "
	  "\"SSLv3\": use TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3" },
	{ BASE "tls {\n\tprotocols tlsv1.2\n}\n", "t.conf:7: unknown protocol "
	  "\"tlsv1.2\": use TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3" },
	{ BASE "tls {\n\tprotocols TLSv1.2 TLSv1.2\n}\n",
	  "t.conf:7: duplicate protocol \"TLSv1.2\"" },
	{ BASE "tls {\n\tprotocols TLSv1.1 TLSv1.3\n}\n",
	  "t.conf:7: protocols must be consecutive versions" },
	{ BASE "tls {\n\tprotocols TLSv1.3\n\tprotocols TLSv1.3\n}\n",
	  "t.conf:8: duplicate \"protocols\" (first at line 7)" },
	{ BASE "tls {\n\talpn h3\n}\n",
	  "t.conf:7: unknown ALPN protocol \"h3\": use h2 or http/1.1" },
	{ BASE "tls {\n\talpn h2,HTTP/1.1\n}\n",
	  "t.conf:7: unknown ALPN protocol \"HTTP/1.1\": use h2 or http/1.1" },
	{ BASE "tls {\n\talpn h2,h2\n}\n",
	  "t.conf:7: duplicate ALPN protocol \"h2\"" },
	{ BASE "tls {\n\talpn h2,\n}\n",
	  "t.conf:7: empty ALPN protocol in \"h2,\"" },
	{ BASE "tls {\n\talpn h2 http/1.1\n}\n",
	  "t.conf:7: \"alpn\" takes 1 argument" },
	{ BASE "tls {\n\tsession_tickets yes\n}\n",
	  "t.conf:7: invalid flag \"yes\": use on or off" },
	{ BASE "tls {\n\thandshake_timeout 0\n}\n",
	  "t.conf:7: \"handshake_timeout\" must be positive" },
	{ BASE "tls {\n\tciphers\n}\n",
	  "t.conf:7: \"ciphers\" takes 1 argument" },
	{ BASE "tls {\n\tgroups \"\"\n}\n", "t.conf:7: empty string" },
	{ BASE "tls {\n\thsts 1y\n}\n", "t.conf:7: invalid hsts max-age "
	  "\"1y\": use a duration such as 365d, or off" },
	{ BASE "tls {\n\thsts 365d subdomains\n}\n", "t.conf:7: unknown hsts "
	  "option \"subdomains\": use includeSubDomains or preload" },
	{ BASE "tls {\n\thsts 365d preload preload\n}\n",
	  "t.conf:7: duplicate hsts option \"preload\"" },
	{ BASE "tls {\n\thsts 30d includeSubDomains preload\n}\n",
	  "t.conf:7: hsts preload needs includeSubDomains and a max-age of "
	  "365d or more" },
	{ BASE "tls {\n\thsts 365d preload\n}\n",
	  "t.conf:7: hsts preload needs includeSubDomains and a max-age of "
	  "365d or more" },
	{ BASE "tls {\n\thsts\n}\n", "t.conf:7: \"hsts\" takes 1 to 3 "
	  "arguments" },
	{ BASE "trusted_proxies 10.0.0.1/8\n", "t.conf:6: trusted_proxies "
	  "\"10.0.0.1/8\": address has bits set past its prefix length" },
	{ BASE "trusted_proxies ::1 10.0.0.0/33\n", "t.conf:6: "
	  "trusted_proxies \"10.0.0.0/33\": prefix length not 0 to 32" },
	{ BASE "trusted_proxies ::/129\n", "t.conf:6: trusted_proxies "
	  "\"::/129\": prefix length not 0 to 128" },
	{ BASE "trusted_proxies lb.example\n", "t.conf:6: trusted_proxies "
	  "\"lb.example\": not an IPv4 or IPv6 address or range" },
	{ BASE "trusted_proxies 10.0.0.0/x\n", "t.conf:6: trusted_proxies "
	  "\"10.0.0.0/x\": prefix length not 0 to 32" },
};

START_TEST(test_conf_refused)
{
	char *err = NULL;
	struct conf *cf = conf_parse("t.conf", refused[_i].text, &err);

	ck_assert_ptr_null(cf);
	ck_assert_ptr_nonnull(err);
	ck_assert_str_eq(err, refused[_i].err);
	free(err);
}
END_TEST

static struct conf *
parse_ok(const char *text)
{
	char *err = NULL;
	struct conf *cf = conf_parse("t.conf", text, &err);

	ck_assert_msg(cf != NULL, "refused: %s", err);
	ck_assert_ptr_null(err);
	return cf;
}

START_TEST(test_conf_defaults)
{
	struct conf *cf = parse_ok(BASE);

	ck_assert_uint_eq(cf->workers, 0);
	ck_assert_ptr_null(cf->access_log);
	ck_assert_int_eq(cf->access_log_format, CONF_LOG_COMBINED);
	ck_assert_str_eq(cf->error_log, "stderr");
	ck_assert_int_eq(cf->error_log_level, LOG_INFO);
	ck_assert_uint_eq(cf->client_header_timeout, 40000);
	ck_assert_uint_eq(cf->client_header_initial_timeout, 20000);
	ck_assert_uint_eq(cf->client_header_min_rate, 500);
	ck_assert_uint_eq(cf->client_max_header_fields, 100);
	ck_assert_uint_eq(cf->backend_max_header_fields, 100);
	ck_assert_uint_eq(cf->http2_max_backend_connects, 0);
	conf_unref(cf);
	cf = parse_ok(BASE "client_header_timeout 10s\n");
	ck_assert_uint_eq(cf->client_header_initial_timeout, 10000);
	ck_assert_uint_eq(cf->client_body_timeout, 60000);
	ck_assert_uint_eq(cf->keepalive_timeout, 75000);
	ck_assert_uint_eq(cf->send_timeout, 60000);
	ck_assert_uint_eq(cf->backend_connect_timeout, 5000);
	ck_assert_uint_eq(cf->backend_read_timeout, 60000);
	ck_assert_uint_eq(cf->backend_write_timeout, 60000);
	ck_assert_uint_eq(cf->backend_keepalive_timeout, 60000);
	ck_assert_uint_eq(cf->backend_fail_timeout, 10000);
	ck_assert_uint_eq(cf->client_max_header_size, 32768);
	ck_assert_uint_eq(cf->client_max_uri_size, 8192);
	ck_assert_uint_eq(cf->client_max_body_size, 1073741824ULL);
	ck_assert_uint_eq(cf->backend_max_header_size, 32768);
	ck_assert_uint_eq(cf->backend_keepalive, 256);
	ck_assert_uint_eq(cf->keepalive_requests, 10000);
	ck_assert_uint_eq(cf->max_connection_age, 0);
	ck_assert_uint_eq(cf->max_connections, 0);      /* auto */
	ck_assert_uint_eq(cf->shutdown_timeout, 30000);
	ck_assert_uint_eq(cf->tunnel_timeout, 3600000);
	ck_assert_ptr_null(cf->user);
	ck_assert_ptr_null(cf->group);
	ck_assert_uint_eq(cf->http2_max_concurrent_streams, 100);
	ck_assert_uint_eq(cf->http2_initial_window_size, 65535);
	ck_assert_uint_eq(cf->http2_max_frame_size, 16384);
	ck_assert_uint_eq(cf->http2_max_header_list_size, 65536);
	ck_assert_uint_eq(cf->http2_max_glitches, 1000);
	ck_assert(cf->x_forwarded_for && cf->x_forwarded_proto);
	ck_assert(!cf->forwarded && !cf->via);
	ck_assert_str_eq(cf->path, "t.conf");
	ck_assert_int_eq(cf->refs, 1);
	ck_assert_ptr_null(cf->tls_conf.at.file);
	ck_assert_uint_eq(cf->tls_conf.ncerts, 0);
	ck_assert_uint_eq(cf->tls_conf.protocols,
	    CONF_TLS_V1_2 | CONF_TLS_V1_3);
	ck_assert_ptr_null(cf->tls_conf.ciphers.value);
	ck_assert_ptr_null(cf->tls_conf.ciphersuites.value);
	ck_assert_ptr_null(cf->tls_conf.groups.value);
	ck_assert_uint_eq(cf->tls_conf.alpn_len, 12);
	ck_assert_mem_eq(cf->tls_conf.alpn, "\x02h2\x08http/1.1", 12);
	ck_assert(cf->tls_conf.session_tickets);
	ck_assert_uint_eq(cf->tls_conf.handshake_timeout, 10000);
	ck_assert_str_eq(cf->tls_conf.hsts, "");
	ck_assert_ptr_null(cf->tls);
	conf_unref(cf);
	cf = parse_ok(BASE "max_connections auto\n");
	ck_assert_uint_eq(cf->max_connections, 0);
	conf_unref(cf);
}
END_TEST

/* trusted_proxies: ranges, single addresses, IPv4-mapped IPv6 taken as
 * IPv4, "unix"; without the directive every client is trusted. */
START_TEST(test_conf_trusted)
{
	struct conf *cf = parse_ok(BASE
	    "trusted_proxies 10.0.0.0/8 192.168.1.7 ::1 2001:db8::/32 "
	    "172.16.0.0/12 unix\n");
	static const struct {
		int family;
		const char *ip;
		bool trusted;
	} cases[] = {
		{ AF_INET, "10.1.2.3", true }, { AF_INET, "11.0.0.1", false },
		{ AF_INET, "192.168.1.7", true },
		{ AF_INET, "192.168.1.8", false },
		{ AF_INET, "172.31.255.255", true },
		{ AF_INET, "172.32.0.0", false },
		{ AF_INET6, "::1", true }, { AF_INET6, "::2", false },
		{ AF_INET6, "2001:db8:ffff::1", true },
		{ AF_INET6, "2001:db9::1", false },
		{ AF_INET6, "::ffff:10.0.0.5", true },
		{ AF_INET6, "::ffff:11.0.0.5", false },
	};
	unsigned char ip[16] = { 0 };
	size_t i;

	ck_assert(cf->has_trusted);
	ck_assert(cf->trusts_unix);
	ck_assert_uint_eq(cf->ntrusted, 5);
	for (i = 0; i < NELEMS(cases); i++) {
		ck_assert_int_eq(inet_pton(cases[i].family, cases[i].ip, ip), 1);
		ck_assert_msg(conf_trusts(cf, cases[i].family, ip) ==
		    cases[i].trusted, "%s", cases[i].ip);
	}
	ck_assert(conf_trusts(cf, AF_UNIX, ip));
	conf_unref(cf);
	cf = parse_ok(BASE "trusted_proxies 0.0.0.0/0\n");
	ck_assert(!conf_trusts(cf, AF_UNIX, ip));
	ck_assert(conf_trusts(cf, AF_INET, ip));
	ck_assert(!conf_trusts(cf, AF_INET6, (unsigned char[16]){ 0x20 }));
	conf_unref(cf);
	cf = parse_ok(BASE);
	ck_assert(!cf->has_trusted);
	ck_assert(conf_trusts(cf, AF_INET, ip));
	ck_assert(conf_trusts(cf, AF_UNIX, ip));
	conf_unref(cf);
}
END_TEST

START_TEST(test_conf_tls)
{
	struct conf *cf = parse_ok(BASE
	    "listen 127.0.0.1:8443 tls\n"
	    "tls {\n"
	    "\tcertificate /etc/p/a.pem /etc/p/a.key\n"
	    "\tcertificate b.pem keys/b.key;  certificate /c.pem c.key\n"
	    "\tprotocols TLSv1.1 TLSv1.2\n"
	    "\tciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA\n"
	    "\tciphersuites TLS_AES_256_GCM_SHA384\n"
	    "\tgroups P-256:X25519\n"
	    "\talpn http/1.1,h2\n"
	    "\tsession_tickets off\n"
	    "\thandshake_timeout 2500ms\n"
	    "\thsts 365d includesubdomains PRELOAD\n"
	    "}\n");
	const struct conf_tls *tc = &cf->tls_conf;

	ck_assert(cf->listens[1].is_tls);
	ck_assert_str_eq(tc->at.file, "t.conf");
	ck_assert_int_eq(tc->at.line, 7);
	ck_assert_uint_eq(tc->ncerts, 3);
	ck_assert_str_eq(tc->certs[0].cert, "/etc/p/a.pem");
	ck_assert_str_eq(tc->certs[0].key, "/etc/p/a.key");
	ck_assert_int_eq(tc->certs[0].at.line, 8);
	ck_assert_str_eq(tc->certs[1].cert, "b.pem");
	ck_assert_str_eq(tc->certs[1].key, "keys/b.key");
	ck_assert_str_eq(tc->certs[1].at.file, "t.conf");
	ck_assert_int_eq(tc->certs[2].at.line, 9);
	ck_assert_uint_eq(tc->protocols, CONF_TLS_V1_1 | CONF_TLS_V1_2);
	ck_assert_int_eq(tc->protocols_at.line, 10);
	ck_assert_str_eq(tc->ciphers.value,
	    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA");
	ck_assert_int_eq(tc->ciphers.at.line, 11);
	ck_assert_str_eq(tc->ciphersuites.value, "TLS_AES_256_GCM_SHA384");
	ck_assert_int_eq(tc->ciphersuites.at.line, 12);
	ck_assert_str_eq(tc->groups.value, "P-256:X25519");
	ck_assert_int_eq(tc->groups.at.line, 13);
	ck_assert_uint_eq(tc->alpn_len, 12);
	ck_assert_mem_eq(tc->alpn, "\x08http/1.1\x02h2", 12);
	ck_assert(!tc->session_tickets);
	ck_assert_uint_eq(tc->handshake_timeout, 2500);
	ck_assert_str_eq(tc->hsts,
	    "max-age=31536000; includeSubDomains; preload");
	conf_unref(cf);
	cf = parse_ok(BASE "tls {\n\tcertificate a.pem a.key\n\thsts 2h\n}\n");
	ck_assert_str_eq(cf->tls_conf.hsts, "max-age=7200");
	conf_unref(cf);
	cf = parse_ok(BASE "tls {\n\tcertificate a.pem a.key\n\thsts 600 includeSubDomains\n}\n");
	ck_assert_str_eq(cf->tls_conf.hsts, "max-age=600; includeSubDomains");
	conf_unref(cf);
	cf = parse_ok(BASE "tls {\n\tcertificate a.pem a.key\n\thsts off\n}\n");
	ck_assert_str_eq(cf->tls_conf.hsts, "");
	conf_unref(cf);
}
END_TEST

static const struct {
	const char *line;
	unsigned protocols;
	const char *alpn;
} tls_lists[] = {
	{ "protocols TLSv1.3", CONF_TLS_V1_3, NULL },
	{ "protocols TLSv1.3 TLSv1.2", CONF_TLS_V1_2 | CONF_TLS_V1_3, NULL },
	{ "protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3", 0x0f, NULL },
	{ "protocols TLSv1", CONF_TLS_V1_0, NULL },
	{ "alpn h2", 0, "\x02h2" },
	{ "alpn http/1.1", 0, "\x08http/1.1" },
	{ "alpn h2,http/1.1", 0, "\x02h2\x08http/1.1" },
};

START_TEST(test_conf_tls_lists)
{
	char text[512];
	struct conf *cf;

	snprintf(text, sizeof(text), BASE "tls {\n\tcertificate a b\n"
	    "\t%s\n}\n", tls_lists[_i].line);
	cf = parse_ok(text);
	if (tls_lists[_i].protocols != 0)
		ck_assert_uint_eq(cf->tls_conf.protocols,
		    tls_lists[_i].protocols);
	if (tls_lists[_i].alpn != NULL) {
		ck_assert_uint_eq(cf->tls_conf.alpn_len,
		    strlen(tls_lists[_i].alpn));
		ck_assert_mem_eq(cf->tls_conf.alpn, tls_lists[_i].alpn,
		    strlen(tls_lists[_i].alpn));
	}
	conf_unref(cf);
}
END_TEST

START_TEST(test_conf_values)
{
	struct conf *cf = parse_ok(BASE
	    "workers 4;\n"
	    "client_max_header_size 16k  # comment\n"
	    "client_max_uri_size 300\n"
	    "client_max_body_size 2g\n"
	    "backend_max_header_size 1m\n"
	    "send_timeout 500ms\n"
	    "keepalive_timeout 5m\n"
	    "backend_fail_timeout 1h\n"
	    "client_body_timeout 30\n"
	    "backend_connect_timeout 2s\n"
	    "backend_keepalive 0\n"
	    "keepalive_requests 1000000\n"
	    "max_connections 1000000\n"
	    "x_forwarded_for off\n"
	    "x_forwarded_proto off\n"
	    "forwarded on\n"
	    "via on ;\n"
	    "access_log \"/var/log/with space \\\"q\\\" \\\\.log\" json\n"
	    "error_log /var/log/portico.err debug\n");

	ck_assert_uint_eq(cf->workers, 4);
	ck_assert_uint_eq(cf->client_max_header_size, 16384);
	ck_assert_uint_eq(cf->client_max_uri_size, 300);
	ck_assert_uint_eq(cf->client_max_body_size, 2147483648ULL);
	ck_assert_uint_eq(cf->backend_max_header_size, 1048576);
	ck_assert_uint_eq(cf->send_timeout, 500);
	ck_assert_uint_eq(cf->keepalive_timeout, 300000);
	ck_assert_uint_eq(cf->backend_fail_timeout, 3600000);
	ck_assert_uint_eq(cf->client_body_timeout, 30000);
	ck_assert_uint_eq(cf->backend_connect_timeout, 2000);
	ck_assert_uint_eq(cf->backend_keepalive, 0);
	ck_assert_uint_eq(cf->keepalive_requests, 1000000);
	ck_assert_uint_eq(cf->max_connections, 1000000);
	ck_assert(!cf->x_forwarded_for && !cf->x_forwarded_proto);
	ck_assert(cf->forwarded && cf->via);
	ck_assert_str_eq(cf->access_log, "/var/log/with space \"q\" \\.log");
	ck_assert_int_eq(cf->access_log_format, CONF_LOG_JSON);
	ck_assert_str_eq(cf->error_log, "/var/log/portico.err");
	ck_assert_int_eq(cf->error_log_level, LOG_DEBUG);
	conf_unref(cf);
}
END_TEST

static const struct {
	const char *line;
	const char *log;        /* NULL: off */
	int format;
	int level;
} logs[] = {
	{ "access_log off\n", NULL, CONF_LOG_COMBINED, LOG_INFO },
	{ "access_log stdout\n", "stdout", CONF_LOG_COMBINED, LOG_INFO },
	{ "access_log /a.log combined\n", "/a.log", CONF_LOG_COMBINED,
	  LOG_INFO },
	{ "error_log stderr notice\n", NULL, CONF_LOG_COMBINED, LOG_NOTICE },
	{ "error_log stderr warn\n", NULL, CONF_LOG_COMBINED, LOG_WARNING },
	{ "error_log stderr error\n", NULL, CONF_LOG_COMBINED, LOG_ERR },
	{ "error_log stderr info\n", NULL, CONF_LOG_COMBINED, LOG_INFO },
};

START_TEST(test_conf_logs)
{
	char text[256];
	struct conf *cf;

	snprintf(text, sizeof(text), "%s%s", BASE, logs[_i].line);
	cf = parse_ok(text);
	if (logs[_i].log == NULL)
		ck_assert_ptr_null(cf->access_log);
	else
		ck_assert_str_eq(cf->access_log, logs[_i].log);
	ck_assert_int_eq(cf->access_log_format, logs[_i].format);
	ck_assert_int_eq(cf->error_log_level, logs[_i].level);
	ck_assert_str_eq(cf->error_log, "stderr");
	conf_unref(cf);
}
END_TEST

START_TEST(test_conf_addresses)
{
	struct conf *cf = parse_ok("listen 127.0.0.1:8080\n"
	    "listen [::1]:8443 tls\n"
	    "listen unix:/run/portico.sock proxy_protocol\n"
	    "listen :8081 h2_websocket=off tls proxy_protocol\n"
	    "backend app { server unix:/run/app.sock weight=5 }\n"
	    "backend two {\n"
	    "\tserver 10.0.0.1:9000 weight=1000\n"
	    "\tserver [2001:db8::1]:80\n"
	    "}\n"
	    "route * app\n"
	    "tls { certificate /x.pem /x.key }\n");
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	const struct sockaddr_un *sa_un;
	const struct conf_backend *b;
	struct in6_addr v6;

	ck_assert_uint_eq(cf->nlistens, 4);
	sin = (const struct sockaddr_in *)&cf->listens[0].addr.ss;
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_uint_eq(ntohs(sin->sin_port), 8080);
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), 0x7f000001);
	ck_assert_uint_eq(cf->listens[0].addr.len, sizeof(*sin));
	ck_assert_str_eq(cf->listens[0].addr.text, "127.0.0.1:8080");
	ck_assert(!cf->listens[0].is_tls);
	ck_assert_int_eq(cf->listens[0].line, 1);

	sin6 = (const struct sockaddr_in6 *)&cf->listens[1].addr.ss;
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
	ck_assert_uint_eq(ntohs(sin6->sin6_port), 8443);
	ck_assert(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
	ck_assert(cf->listens[1].is_tls);
	ck_assert_str_eq(cf->listens[1].addr.text, "[::1]:8443");
	ck_assert(!cf->listens[0].is_proxy_protocol);
	ck_assert(!cf->listens[1].is_proxy_protocol);
	ck_assert(cf->listens[2].is_proxy_protocol);
	ck_assert(cf->listens[3].is_proxy_protocol);
	ck_assert(cf->listens[3].is_tls && cf->listens[3].is_h2_websocket_off);

	sa_un = (const struct sockaddr_un *)&cf->listens[2].addr.ss;
	ck_assert_int_eq(sa_un->sun_family, AF_UNIX);
	ck_assert_str_eq(sa_un->sun_path, "/run/portico.sock");

	sin = (const struct sockaddr_in *)&cf->listens[3].addr.ss;
	ck_assert_uint_eq(sin->sin_addr.s_addr, htonl(INADDR_ANY));
	ck_assert_uint_eq(ntohs(sin->sin_port), 8081);

	ck_assert_uint_eq(cf->nbackends, 2);
	b = &cf->backends[0];
	ck_assert_str_eq(b->name, "app");
	ck_assert_uint_eq(b->index, 0);
	ck_assert_int_eq(b->line, 5);
	ck_assert_uint_eq(b->nservers, 1);
	ck_assert_uint_eq(b->servers[0].weight, 5);
	ck_assert_int_eq(b->servers[0].addr.ss.ss_family, AF_UNIX);
	b = &cf->backends[1];
	ck_assert_uint_eq(b->index, 1);
	ck_assert_uint_eq(b->nservers, 2);
	ck_assert_uint_eq(b->servers[0].weight, 1000);
	ck_assert_uint_eq(b->servers[1].weight, 1);
	sin6 = (const struct sockaddr_in6 *)&b->servers[1].addr.ss;
	inet_pton(AF_INET6, "2001:db8::1", &v6);
	ck_assert_mem_eq(&sin6->sin6_addr, &v6, sizeof(v6));
	ck_assert_ptr_eq(cf->routes[0].backend, &cf->backends[0]);
	conf_unref(cf);
}
END_TEST

static const struct {
	const char *s;
	int family;             /* 0: refused */
	unsigned port;
	const char *why;
} addrs[] = {
	{ "1.2.3.4:80", AF_INET, 80, NULL },
	{ "*:65535", AF_INET, 65535, NULL },
	{ "[::]:443", AF_INET6, 443, NULL },
	{ "[fe80::1%lo]:80", 0, 0, "bad IPv6 address" },
	{ "unix:/x", AF_UNIX, 0, NULL },
	{ "unix:rel.sock", AF_UNIX, 0, NULL },
	{ "1.2.3.4", 0, 0, "missing port" },
	{ "1.2.3.4:65536", 0, 0, "bad port" },
	{ "[::1]", 0, 0, "missing port" },
	{ "example.com:80", 0, 0, "bad IPv4 address" },
	{ "unix:" LONG_PATH, 0, 0, "unix path too long" },
};

START_TEST(test_conf_addr_parse)
{
	struct conf_addr a;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&a.ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a.ss;
	const struct sockaddr_un *sa_un = (const struct sockaddr_un *)&a.ss;
	const char *why = NULL;
	int rc = conf_addr_parse(&a, addrs[_i].s, &why);

	if (addrs[_i].family == 0) {
		ck_assert_int_eq(rc, -1);
		ck_assert_str_eq(why, addrs[_i].why);
		return;
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(a.ss.ss_family, addrs[_i].family);
	ck_assert_str_eq(a.text, addrs[_i].s);
	if (addrs[_i].family == AF_INET)
		ck_assert_uint_eq(ntohs(sin->sin_port), addrs[_i].port);
	if (addrs[_i].family == AF_INET6)
		ck_assert_uint_eq(ntohs(sin6->sin6_port), addrs[_i].port);
	if (addrs[_i].family == AF_UNIX)
		ck_assert_str_eq(sa_un->sun_path, addrs[_i].s + 5);
}
END_TEST

/* Routing */

START_TEST(test_conf_route_later_backend)
{
	struct conf *cf = parse_ok("listen 127.0.0.1:80\nroute * late\n"
	    "backend late {\n\tserver 127.0.0.1:1\n}\n");

	ck_assert_str_eq(cf->routes[0].backend->name, "late");
	conf_unref(cf);
}
END_TEST

START_TEST(test_conf_refcount)
{
	struct conf *cf = parse_ok(BASE);

	ck_assert_ptr_eq(conf_ref(cf), cf);
	ck_assert_int_eq(cf->refs, 2);
	conf_unref(cf);
	ck_assert_int_eq(cf->refs, 1);
	conf_unref(cf);
	conf_unref(NULL);
}
END_TEST

/* Every name in the table is a directive the parser knows. */
START_TEST(test_conf_directive_names)
{
	char text[128], *err = NULL;
	bool has_server = false, has_include = false;
	size_t i;

	for (i = 0; conf_directive_names[i] != NULL; i++) {
		snprintf(text, sizeof(text), "%s\n", conf_directive_names[i]);
		ck_assert_ptr_null(conf_parse("t.conf", text, &err));
		ck_assert_ptr_null(strstr(err, "unknown directive"));
		free(err);
		has_server |= strcmp(conf_directive_names[i], "server") == 0;
		has_include |= strcmp(conf_directive_names[i], "include") == 0;
	}
	ck_assert(has_server && has_include);
	ck_assert_uint_ge(i, 27);
}
END_TEST

/* Includes, in a temporary directory */

static char tmpdir[64];

static void
put_bytes(const char *name, const char *text, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static void
put_file(const char *name, const char *text)
{
	put_bytes(name, text, strlen(text));
}

static void
make_tmpdir(void)
{
	char path[128];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_conf.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/conf.d", tmpdir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	put_file("main.conf", "listen 127.0.0.1:80\n"
	    "include conf.d/*.conf\n"
	    "backend b {\n"
	    "\tinclude servers.inc\n"
	    "}\n"
	    "route * b\n");
	put_file("servers.inc", "server 127.0.0.1:1\nserver 127.0.0.1:2\n");
	put_file("conf.d/20-b.conf", "listen 127.0.0.1:82\n");
	put_file("conf.d/10-a.conf", "listen 127.0.0.1:81\nworkers 3\n");
	put_file("conf.d/empty.conf", "");
	put_file("conf.d/ignored.txt", "bogus\n");
	put_file("bad.conf", "listen 127.0.0.1:80\ninclude conf.d/bad.inc\n");
	put_file("conf.d/bad.inc", "workers 1\nbogus\n");
	put_file("loop.conf", "include loop.conf\n");
	put_file("unclosed.conf", "include conf.d/open.inc\n}\n");
	put_file("conf.d/open.inc", "backend x {\n\tserver 127.0.0.1:1\n");
	put_file("dup.conf", BASE "include conf.d/dup.inc\n");
	put_file("conf.d/dup.inc", "\nlisten 127.0.0.1:8080\n");
	put_bytes("nul.conf", "listen 127.0.0.1:80\nwor\0kers\n", 29);
}

static void
remove_tmpdir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

static struct conf *
load(const char *name, char **err)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return conf_load(path, err);
}

START_TEST(test_conf_include)
{
	char *err = NULL;
	struct conf *cf;

	make_tmpdir();
	cf = load("main.conf", &err);
	ck_assert_msg(cf != NULL, "refused: %s", err);
	ck_assert_uint_eq(cf->nlistens, 3);
	ck_assert_str_eq(cf->listens[1].addr.text, "127.0.0.1:81");
	ck_assert_str_eq(cf->listens[2].addr.text, "127.0.0.1:82");
	ck_assert_int_eq(cf->listens[2].line, 1);
	ck_assert_uint_eq(cf->workers, 3);
	ck_assert_uint_eq(cf->backends[0].nservers, 2);
	conf_unref(cf);
	remove_tmpdir();
}
END_TEST

/* A tls block in an included file: messages name that file, which the conf
 * keeps, and relative paths start from its directory. */
START_TEST(test_conf_include_tls)
{
	char want[256], *err = NULL;
	struct conf *cf;
	const struct conf_cert *c;

	make_tmpdir();
	put_file("tls.conf", BASE "listen 127.0.0.1:443 tls\n"
	    "include conf.d/tls.inc\n");
	put_file("conf.d/tls.inc", "\ntls {\n"
	    "\tcertificate site.pem /abs/site.key\n"
	    "\tciphers ECDHE-RSA-AES128-GCM-SHA256\n}\n");
	cf = load("tls.conf", &err);
	ck_assert_msg(cf != NULL, "refused: %s", err);
	c = &cf->tls_conf.certs[0];
	snprintf(want, sizeof(want), "%s/conf.d/site.pem", tmpdir);
	ck_assert_str_eq(c->cert, want);
	ck_assert_str_eq(c->key, "/abs/site.key");
	snprintf(want, sizeof(want), "%s/conf.d/tls.inc", tmpdir);
	ck_assert_str_eq(c->at.file, want);
	ck_assert_int_eq(c->at.line, 3);
	ck_assert_str_eq(cf->tls_conf.ciphers.at.file, want);
	ck_assert_int_eq(cf->tls_conf.ciphers.at.line, 4);
	ck_assert_str_eq(cf->tls_conf.at.file, want);
	conf_unref(cf);
	remove_tmpdir();
}
END_TEST

static const struct {
	const char *file;
	const char *err;        /* after "TMPDIR/" */
} include_refused[] = {
	{ "bad.conf", "conf.d/bad.inc:2: unknown directive \"bogus\"" },
	{ "loop.conf", "loop.conf:1: includes nested more than 8 deep" },
	{ "unclosed.conf", "conf.d/open.inc:1: missing \"}\" at end of file" },
	{ "dup.conf", "conf.d/dup.inc:2: duplicate listen \"127.0.0.1:8080\" "
	  "(first at TMPDIR/dup.conf:1)" },
	{ "nul.conf", "nul.conf:2: NUL byte in file" },
	{ "none.conf", "none.conf:1: cannot read \"TMPDIR/none.conf\": "
	  "No such file or directory" },
};

/* EXPECT with each "TMPDIR" replaced by the directory. */
static void
expand(char *buf, size_t size, const char *expect)
{
	const char *t;
	size_t n = 0;

	n += (size_t)snprintf(buf, size, "%s/", tmpdir);
	while ((t = strstr(expect, "TMPDIR")) != NULL) {
		n += (size_t)snprintf(buf + n, size - n, "%.*s%s",
		    (int)(t - expect), expect, tmpdir);
		expect = t + 6;
	}
	snprintf(buf + n, size - n, "%s", expect);
}

START_TEST(test_conf_include_refused)
{
	char want[512], *err = NULL;

	make_tmpdir();
	ck_assert_ptr_null(load(include_refused[_i].file, &err));
	expand(want, sizeof(want), include_refused[_i].err);
	ck_assert_str_eq(err, want);
	free(err);
	remove_tmpdir();
}
END_TEST

/* The example used by "make demo"; tests run from the repository root. */
START_TEST(test_conf_example_file)
{
	char *err = NULL;
	struct conf *cf = conf_load("config/portico.conf", &err);
	const struct conf_route *r;

	ck_assert_msg(cf != NULL, "refused: %s", err);
	ck_assert_str_eq(cf->listens[0].addr.text, "127.0.0.1:8080");
	ck_assert_str_eq(cf->access_log, "stdout");
	ck_assert_str_eq(cf->error_log, "stderr");
	ck_assert_int_eq(cf->error_log_level, LOG_INFO);
	r = routing_match(cf, "localhost", 9, "/", 1);
	ck_assert_str_eq(r->backend->name, "demo");
	ck_assert_str_eq(r->backend->servers[0].addr.text, "127.0.0.1:9080");
	conf_unref(cf);
}
END_TEST

Suite *
conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_conf_refused, 0, NELEMS(refused));
	tcase_add_test(tc, test_conf_defaults);
	tcase_add_test(tc, test_conf_tls);
	tcase_add_test(tc, test_conf_trusted);
	tcase_add_loop_test(tc, test_conf_tls_lists, 0, NELEMS(tls_lists));
	tcase_add_test(tc, test_conf_values);
	tcase_add_loop_test(tc, test_conf_logs, 0, NELEMS(logs));
	tcase_add_test(tc, test_conf_addresses);
	tcase_add_loop_test(tc, test_conf_addr_parse, 0, NELEMS(addrs));
	tcase_add_test(tc, test_conf_refcount);
	tcase_add_test(tc, test_conf_directive_names);
	tcase_add_test(tc, test_conf_example_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("include");
	tcase_add_test(tc, test_conf_include);
	tcase_add_test(tc, test_conf_include_tls);
	tcase_add_loop_test(tc, test_conf_include_refused, 0,
	    NELEMS(include_refused));
	suite_add_tcase(s, tc);

	tc = tcase_create("route");
	tcase_add_test(tc, test_conf_route_later_backend);
	suite_add_tcase(s, tc);
	return s;
}
