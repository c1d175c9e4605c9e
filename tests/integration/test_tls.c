/*
 * tests/integration/test_tls.c: portico's TLS listener driven by curl and
 * the openssl CLI: HTTP/2 and HTTP/1.1 chosen by ALPN on one listener,
 * the certificate chosen by SNI (and by key type for one name), the
 * versions refused and accepted,
 * resumption, ALPN with nothing portico speaks, `-t` with a key that does
 * not match its certificate, and what the access log records.
 *
 * The certificates are made at TCase setup (harness_certs): "a" is RSA
 * for a.test and *.a.test and comes first (the default), "b" is ECDSA
 * for b.test, "aec" is ECDSA for the names of "a".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "client.h"
#include "harness.h"
#include "suites.h"

#define OUT_MAX         65536
#define SCLIENT_MS      15000
#define REQUEST         "GET /status/200 HTTP/1.1\\r\\nHost: a.test\\r\\n" \
	"Connection: close\\r\\n\\r\\n"

static struct proxy px;

static void
start_tls(const char *tls_extra, const char *top_extra)
{
	proxy_start_origin0(&px, tls_extra, top_extra);
}

/* openssl s_client to the TLS listener with ARGS, stdout and stderr both
 * into OUT. With IS_REQUEST it sends an HTTP/1.1 request and reads until
 * portico closes (so that TLS 1.3 tickets arrive); else it closes right
 * after the handshake. Its exit status. */
static int
s_client(const char *args, bool is_request, char *out, size_t cap)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "%s openssl s_client -connect "
	    "127.0.0.1:%d %s %s 2>&1", is_request ? "printf '" REQUEST "' |" :
	    "", px.tls_port, args, is_request ? "-ign_eof" : "< /dev/null");
	return run_sh(cmd, out, cap, NULL, 0, SCLIENT_MS);
}

/* The access log line holding NEEDLE, malloc'd; asserts it is there. */
static char *
log_line(const char *needle)
{
	char *log = file_read(px.access_log, NULL), *at, *start, *line;

	ck_assert_msg(log != NULL, "no access log %s", px.access_log);
	at = strstr(log, needle);
	ck_assert_msg(at != NULL, "no \"%s\" in the access log: %s", needle,
	    log);
	for (start = at; start > log && start[-1] != '\n'; start--)
		;
	line = strndup(start, (size_t)(strchrnul(at, '\n') - start));
	ck_assert_ptr_nonnull(line);
	free(log);
	return line;
}

/* ---- curl: ALPN picks the protocol ---- */

static const struct {
	const char *flag;       /* curl's */
	const char *version;    /* %{http_version} */
	const char *log;        /* access log "protocol" */
} curl_cases[] = {
	{ "--http2", "2", "HTTP/2.0" },
	{ "--http1.1", "1.1", "HTTP/1.1" },
};

START_TEST(test_curl_h2_and_h1_one_listener)
{
	char out[OUT_MAX], resolve[64], url[128], v[256], *nl, *log;
	size_t i;

	start_tls(NULL, "");
	snprintf(resolve, sizeof(resolve), "a.test:%d:127.0.0.1", px.tls_port);
	for (i = 0; i < NELEMS(curl_cases); i++) {
		snprintf(url, sizeof(url), "https://a.test:%d/echo?c=%zu",
		    px.tls_port, i);
		ck_assert_int_eq(curl(out, sizeof(out), "-k", "--resolve",
		    resolve, curl_cases[i].flag, "-H",
		    "X-Forwarded-Proto: http", "-w", "\n%{http_version}", url,
		    NULL), 0);
		ck_assert_ptr_nonnull(nl = strrchr(out, '\n'));
		ck_assert_msg(strcmp(nl + 1, curl_cases[i].version) == 0,
		    "curl %s over TLS: HTTP version %s", curl_cases[i].flag,
		    nl + 1);
		/* as the origin got it */
		ck_assert(json_str(out, "version", v, sizeof(v)));
		ck_assert_str_eq(v, "1.1");
		ck_assert_int_eq(echo_field(out, "X-Forwarded-Proto", v,
		    sizeof(v)), 1);
		ck_assert_str_eq(v, "https");
		ck_assert_int_eq(echo_field(out, "Host", v, sizeof(v)), 1);
		snprintf(url, sizeof(url), "a.test:%d", px.tls_port);
		ck_assert_str_eq(v, url);
	}
	proxy_stop(&px);
	for (i = 0; i < NELEMS(curl_cases); i++) {
		snprintf(url, sizeof(url), "\"target\":\"/echo?c=%zu\"", i);
		log = log_line(url);
		ck_assert(json_str(log, "protocol", v, sizeof(v)));
		ck_assert_str_eq(v, curl_cases[i].log);
		ck_assert(json_str(log, "tls", v, sizeof(v)));
		ck_assert_str_eq(v, "TLSv1.3");
		free(log);
	}
}
END_TEST

/* The TLS version in the access log is the negotiated one; cleartext
 * requests have none. */
START_TEST(test_access_log_tls_version)
{
	char out[OUT_MAX], url[128], v[64], *line;

	start_tls(NULL, "");
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/status/200?t=12",
	    px.tls_port);
	ck_assert_int_eq(curl(out, sizeof(out), "-k", "--http2", "--tlsv1.2",
	    "--tls-max", "1.2", url, NULL), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/status/200?t=none",
	    px.port);
	ck_assert_int_eq(curl(out, sizeof(out), url, NULL), 0);
	proxy_stop(&px);
	line = log_line("/status/200?t=12");
	ck_assert(json_str(line, "protocol", v, sizeof(v)));
	ck_assert_str_eq(v, "HTTP/2.0");
	ck_assert(json_str(line, "tls", v, sizeof(v)));
	ck_assert_str_eq(v, "TLSv1.2");
	free(line);
	line = log_line("/status/200?t=none");
	ck_assert(json_str(line, "protocol", v, sizeof(v)));
	ck_assert_str_eq(v, "HTTP/1.1");
	ck_assert_msg(!json_str(line, "tls", v, sizeof(v)) || v[0] == '\0',
	    "cleartext request logged with tls \"%s\"", v);
	free(line);
}
END_TEST

/* ---- SNI ---- */

static const struct {
	const char *args;
	const char *subject;    /* of the certificate served */
} sni_cases[] = {
	{ "-servername a.test", "subject=CN = a.test" },
	{ "-servername b.test", "subject=CN = b.test" },
	{ "-servername B.Test", "subject=CN = b.test" },        /* any case */
	{ "-servername x.a.test", "subject=CN = a.test" },      /* *.a.test */
	{ "-noservername", "subject=CN = a.test" },             /* first */
	{ "-servername nobody.test", "subject=CN = a.test" },
	{ "-servername x.b.test", "subject=CN = a.test" },      /* no * */
};

START_TEST(test_sni_picks_certificate)
{
	static char out[OUT_MAX];
	int rc;

	start_tls(NULL, "");
	rc = s_client(sni_cases[_i].args, true, out, sizeof(out));
	ck_assert_msg(rc == 0, "s_client %s: exit %d: %s", sni_cases[_i].args,
	    rc, out);
	ck_assert_msg(strstr(out, sni_cases[_i].subject) != NULL,
	    "s_client %s: want \"%s\", got: %s", sni_cases[_i].args,
	    sni_cases[_i].subject, out);
	ck_assert_msg(strstr(out, "HTTP/1.1 200") != NULL, "%s", out);
	proxy_stop(&px);
}
END_TEST

/* An RSA and an ECDSA certificate for a.test: each client gets the one
 * its signature algorithms allow, over TLS 1.2 and 1.3. */
static const struct {
	const char *args;
	const char *want;
} key_type_cases[] = {
	{ "-tls1_2 -sigalgs ECDSA+SHA256", "Peer signature type: ECDSA" },
	{ "-tls1_2 -sigalgs RSA-PSS+SHA256:RSA+SHA256",
	  "Peer signature type: RSA-PSS" },
	{ "-tls1_3 -sigalgs ECDSA+SHA256", "Peer signature type: ECDSA" },
	{ "-tls1_3 -sigalgs RSA-PSS+SHA256", "Peer signature type: RSA-PSS" },
};

START_TEST(test_sni_key_type)
{
	static char out[OUT_MAX];
	char args[256];
	const char *d = harness_dir;
	int rc;

	memset(&px, 0, sizeof(px));
	proxy_start_tls(&px, "tls {\n\tcertificate %s/a.pem %s/a.key\n"
	    "\tcertificate %s/aec.pem %s/aec.key\n"
	    "\tcertificate %s/b.pem %s/b.key\n}\n"
	    "backend o { server %s }\nroute * o\n", d, d, d, d, d, d,
	    origins[0].tcp);
	snprintf(args, sizeof(args), "-servername a.test %s",
	    key_type_cases[_i].args);
	rc = s_client(args, true, out, sizeof(out));
	ck_assert_msg(rc == 0, "s_client %s: exit %d: %s", args, rc, out);
	ck_assert_msg(strstr(out, "subject=CN = a.test") != NULL &&
	    strstr(out, key_type_cases[_i].want) != NULL, "s_client %s: want "
	    "a.test and \"%s\", got: %s", args, key_type_cases[_i].want, out);
	proxy_stop(&px);
}
END_TEST

/* ---- versions ---- */

static const struct {
	const char *args;
	bool is_accepted;
	const char *want;       /* in s_client's output */
} version_cases[] = {
	/* OpenSSL 3's client needs security level 0 to offer TLS 1.1 at
	 * all; the alert shows that portico is the one refusing. */
	{ "-tls1_1 -cipher DEFAULT@SECLEVEL=0", false,
	  "alert protocol version" },
	{ "-tls1 -cipher DEFAULT@SECLEVEL=0", false,
	  "alert protocol version" },
	{ "-tls1_2", true, "New, TLSv1.2," },
	{ "-tls1_3", true, "New, TLSv1.3," },
};

START_TEST(test_tls_versions)
{
	static char out[OUT_MAX];
	int rc;

	start_tls(NULL, "");
	rc = s_client(version_cases[_i].args, version_cases[_i].is_accepted,
	    out, sizeof(out));
	if (version_cases[_i].is_accepted)
		ck_assert_msg(rc == 0 && strstr(out, "HTTP/1.1 200") != NULL,
		    "s_client %s: exit %d: %s", version_cases[_i].args, rc,
		    out);
	else
		ck_assert_msg(rc != 0, "s_client %s connected: %s",
		    version_cases[_i].args, out);
	ck_assert_msg(strstr(out, version_cases[_i].want) != NULL,
	    "s_client %s: want \"%s\", got: %s", version_cases[_i].args,
	    version_cases[_i].want, out);
	proxy_stop(&px);
}
END_TEST

/* ---- resumption ---- */

static const struct {
	const char *version;    /* s_client flag */
	const char *tls_extra;  /* in the tls block */
	const char *reused;     /* s_client's line for a resumed session */
} resume_cases[] = {
	{ "-tls1_2", "", "Reused, TLSv1.2," },
	{ "-tls1_3", "", "Reused, TLSv1.3," },
	{ "-tls1_2", "\tsession_tickets off\n", "Reused, TLSv1.2," },
	{ "-tls1_3", "\tsession_tickets off\n", "Reused, TLSv1.3," },
};

/* Both workers see some of the connections: each resumption must work
 * whichever took it. */
#define RESUMES 6

START_TEST(test_resumption)
{
	static char out[OUT_MAX];
	char sess[HARNESS_PATH], args[HARNESS_PATH + 128];
	int i;

	start_tls(resume_cases[_i].tls_extra, "");
	snprintf(sess, sizeof(sess), "%s/sess", px.dir);
	snprintf(args, sizeof(args), "-servername a.test %s -sess_out %s",
	    resume_cases[_i].version, sess);
	ck_assert_int_eq(s_client(args, true, out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "\nNew, TLSv1.") != NULL, "%s", out);
	for (i = 0; i < RESUMES; i++) {
		snprintf(args, sizeof(args), "-servername a.test %s -sess_in "
		    "%s", resume_cases[_i].version, sess);
		ck_assert_int_eq(s_client(args, true, out, sizeof(out)), 0);
		ck_assert_msg(strstr(out, resume_cases[_i].reused) != NULL,
		    "resumption %d of %d (%s%s): %s", i + 1, RESUMES,
		    resume_cases[_i].version, resume_cases[_i].tls_extra, out);
	}
	proxy_stop(&px);
}
END_TEST

/* ---- ALPN ---- */

static const struct {
	const char *args;
	bool is_accepted;
	const char *want;
} alpn_cases[] = {
	{ "-alpn foo", false, "alert no application protocol" },
	{ "-alpn foo,bar", false, "alert no application protocol" },
	{ "-alpn h2", true, "ALPN protocol: h2" },
	{ "-alpn foo,h2", true, "ALPN protocol: h2" },
	{ "-alpn http/1.1", true, "ALPN protocol: http/1.1" },
	{ "-alpn http/1.1,h2", true, "ALPN protocol: h2" },  /* ours first */
	{ "", true, "No ALPN negotiated" },
};

START_TEST(test_alpn)
{
	static char out[OUT_MAX];
	int rc;

	start_tls(NULL, "");
	rc = s_client(alpn_cases[_i].args, false, out, sizeof(out));
	if (alpn_cases[_i].is_accepted)
		ck_assert_msg(rc == 0, "s_client %s: exit %d: %s",
		    alpn_cases[_i].args, rc, out);
	else
		ck_assert_msg(rc != 0, "s_client %s connected: %s",
		    alpn_cases[_i].args, out);
	ck_assert_msg(strstr(out, alpn_cases[_i].want) != NULL,
	    "s_client %s: want \"%s\", got: %s", alpn_cases[_i].args,
	    alpn_cases[_i].want, out);
	proxy_stop(&px);
}
END_TEST

/* ---- portico -t ---- */

static const struct {
	const char *key;        /* for a.pem, in harness_dir */
	int status;
	const char *want;       /* on stderr */
} check_cases[] = {
	{ "other.key", 1, ":4: key \"" },
	{ "b.key", 1, ":4: key \"" },
	{ "a.key", 0, "configuration is ok" },
};

START_TEST(test_check_key_mismatch)
{
	char conf[HARNESS_PATH], err[4096], out[4096], want[HARNESS_PATH + 16];
	char *argv[] = { getenv("PORTICO") != NULL ? getenv("PORTICO") :
	    "./portico", "-t", "-c", conf, NULL };
	const char *d = harness_dir;
	FILE *f;
	int rc;

	snprintf(conf, sizeof(conf), "%s/check-%d.conf", d, _i);
	ck_assert_ptr_nonnull(f = fopen(conf, "w"));
	fprintf(f, "listen 127.0.0.1:1 tls\ntls {\n"
	    "\tcertificate %s/b.pem %s/b.key\n"
	    "\tcertificate %s/a.pem %s/%s\n}\n"
	    "backend o { server 127.0.0.1:2 }\nroute * o\n", d, d, d, d,
	    check_cases[_i].key);
	fclose(f);
	rc = run_argv(argv, out, sizeof(out), err, sizeof(err), 20000);
	ck_assert_msg(rc == check_cases[_i].status, "portico -t with key %s: "
	    "exit %d, stderr: %s", check_cases[_i].key, rc, err);
	snprintf(want, sizeof(want), "%s%s", rc != 0 ? conf : "",
	    check_cases[_i].want);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0 ||
	    (rc == 0 && strstr(err, want) != NULL) ||
	    (rc == 0 && strstr(out, want) != NULL), "portico -t with key %s: "
	    "want \"%s\" first, got stderr: %s", check_cases[_i].key, want,
	    err);
	if (rc != 0)
		ck_assert_msg(strstr(err, "does not match") != NULL, "%s", err);
}
END_TEST

Suite *
tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *tc = harness_tcase("tls", 60);

	tcase_add_test(tc, test_curl_h2_and_h1_one_listener);
	tcase_add_test(tc, test_access_log_tls_version);
	tcase_add_loop_test(tc, test_sni_picks_certificate, 0,
	    NELEMS(sni_cases));
	tcase_add_loop_test(tc, test_sni_key_type, 0,
	    NELEMS(key_type_cases));
	tcase_add_loop_test(tc, test_tls_versions, 0, NELEMS(version_cases));
	tcase_add_loop_test(tc, test_resumption, 0, NELEMS(resume_cases));
	tcase_add_loop_test(tc, test_alpn, 0, NELEMS(alpn_cases));
	tcase_add_loop_test(tc, test_check_key_mismatch, 0,
	    NELEMS(check_cases));
	suite_add_tcase(s, tc);
	return s;
}
