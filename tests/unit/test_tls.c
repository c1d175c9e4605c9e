/* tests/unit/test_tls.c: tls/tls.h, on certificates made by the openssl
 * command, with handshakes between an OpenSSL client and tls_ssl_new()
 * over a BIO pair (no sockets). */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "conf.h"
#include "suites.h"
#include "tls.h"

static char tmpdir[64];

/* Certificates made once per test case (an unchecked fixture), in TMPDIR:
 * NAME.pem and NAME.key. */
static const struct {
	const char *name;
	const char *args;       /* after "openssl req -x509 -nodes" */
} certs[] = {
	{ "a-rsa", "-newkey rsa:2048 -subj /CN=a.test "
	  "-addext subjectAltName=DNS:a.test,DNS:*.a.test -days 30" },
	{ "a-ec", "-newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	  "-subj /CN=a.test "
	  "-addext subjectAltName=DNS:*.a.test,DNS:A.test -days 30" },
	{ "b", "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -subj /CN=b.test "
	  "-addext subjectAltName=DNS:b.test,DNS:*.w.test -days 30" },
	{ "c", "-newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	  "-subj /CN=x.w.test -addext subjectAltName=DNS:x.w.test -days 30" },
	{ "cn", "-newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	  "-subj /CN=Cn.Only.Test -days 30" },
};

static void run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	ck_assert_msg(system(cmd) == 0, "failed: %s", cmd);
}

static void
put_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* Not valid for a year yet: the openssl command of OpenSSL 3.0 cannot set
 * notBefore, so this one is made here. */
static void
make_future(void)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n = X509_get_subject_name(x);
	char path[256];
	FILE *f;

	ck_assert(pk != NULL && x != NULL);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 365L * 86400);
	X509_gmtime_adj(X509_getm_notAfter(x), 730L * 86400);
	X509_set_pubkey(x, pk);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"future.test", -1, -1, 0);
	X509_set_issuer_name(x, n);
	ck_assert_int_gt(X509_sign(x, pk, EVP_sha256()), 0);
	snprintf(path, sizeof(path), "%s/future.pem", tmpdir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	PEM_write_X509(f, x);
	fclose(f);
	snprintf(path, sizeof(path), "%s/future.key", tmpdir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(pk);
}

/* d.test twice, RSA and ECDSA, each signed by a CA: d-KEY.pem holds the
 * leaf then the CA, as an operator's chain file does. */
static void
make_chains(void)
{
	static const char *const keys[] = { "rsa:2048",
	    "ec -pkeyopt ec_paramgen_curve:P-256" };
	static const char *const names[] = { "d-rsa", "d-ec" };
	size_t i;

	put_file("d.ext", "subjectAltName=DNS:d.test\n");
	run("cd %s && openssl req -x509 -nodes -newkey ec -pkeyopt "
	    "ec_paramgen_curve:P-256 -subj /CN=Test-CA -keyout ca.key "
	    "-out ca.pem -days 30 2>/dev/null", tmpdir);
	for (i = 0; i < NELEMS(keys); i++)
		run("cd %s && openssl req -new -nodes -newkey %s "
		    "-subj /CN=d.test -keyout %s.key -out %s.csr 2>/dev/null "
		    "&& "
		    "openssl x509 -req -in %s.csr -CA ca.pem -CAkey ca.key "
		    "-set_serial %zu -days 30 -extfile d.ext -out %s.leaf "
		    "2>/dev/null && cat %s.leaf ca.pem > %s.pem", tmpdir,
		    keys[i], names[i], names[i], names[i], i + 10, names[i],
		    names[i], names[i]);
}

static void
make_certs(void)
{
	char out[128];
	size_t i;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_tls.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	for (i = 0; i < NELEMS(certs); i++) {
		snprintf(out, sizeof(out), "%s/%s", tmpdir, certs[i].name);
		run("openssl req -x509 -nodes %s -keyout %s.key -out %s.pem "
		    "2>/dev/null", certs[i].args, out, out);
	}
	/* "-days -1": notAfter a day before now, so already expired. */
	snprintf(out, sizeof(out), "%s/exp", tmpdir);
	run("openssl req -new -nodes -newkey ec -pkeyopt "
	    "ec_paramgen_curve:P-256 -subj /CN=exp.test -keyout %s.key "
	    "-out %s.csr 2>/dev/null", out, out);
	run("openssl x509 -req -in %s.csr -signkey %s.key -days -1 "
	    "-out %s.pem 2>/dev/null", out, out, out);
	run("openssl pkey -in %s/a-ec.key -aes256 -passout pass:x "
	    "-out %s/enc.key", tmpdir, tmpdir);
	put_file("garbage.pem", "not a certificate\n");
	make_future();
	make_chains();
}

static void
remove_certs(void)
{
	run("rm -rf '%s'", tmpdir);
}

/* EXPECT with each "TMPDIR" replaced by the directory. */
static void
expand(char *buf, size_t size, const char *expect)
{
	const char *t;
	size_t n = 0;

	buf[0] = '\0';
	while ((t = strstr(expect, "TMPDIR")) != NULL) {
		n += (size_t)snprintf(buf + n, size - n, "%.*s%s",
		    (int)(t - expect), expect, tmpdir);
		expect = t + 6;
	}
	snprintf(buf + n, size - n, "%s", expect);
}

/* A config whose tls block (from line 6) is TLS, with TMPDIR expanded. */
#define HEAD \
	"listen 127.0.0.1:8443 tls\n" \
	"backend b {\n" \
	"\tserver 127.0.0.1:9000\n" \
	"}\n" \
	"route * b\n" \
	"tls {\n"

static struct conf *
conf_of(const char *tls)
{
	char text[4096], *err = NULL;
	struct conf *cf;

	expand(text, sizeof(text), tls);
	cf = conf_parse("t.conf", text, &err);
	ck_assert_msg(cf != NULL, "refused: %s", err);
	return cf;
}

/* Stderr into a file from capture_start() to capture_end(). */
static int capture_fd = -1, saved_fd = -1;

static void
capture_start(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/stderr.XXXXXX", tmpdir);
	ck_assert_int_ge(capture_fd = mkstemp(path), 0);
	unlink(path);
	fflush(stderr);
	ck_assert_int_ge(saved_fd = dup(2), 0);
	ck_assert_int_eq(dup2(capture_fd, 2), 2);
}

static void
capture_end(char *out, size_t size)
{
	ssize_t n;

	fflush(stderr);
	dup2(saved_fd, 2);
	close(saved_fd);
	n = pread(capture_fd, out, size - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(capture_fd);
}

/* tls_load's result, with what it wrote to stderr in OUT. */
static int
load_capture(struct conf *cf, char **err, char *out, size_t size)
{
	int rc;

	capture_start();
	rc = tls_load(cf, err);
	capture_end(out, size);
	return rc;
}

static struct conf *
load_ok(const char *tls)
{
	struct conf *cf = conf_of(tls);
	char *err = NULL;

	ck_assert_msg(tls_load(cf, &err) == 0, "tls_load: %s", err);
	ck_assert_ptr_nonnull(cf->tls);
	return cf;
}

/* Names */

static const struct {
	const char *pattern, *name;
	bool matches;
} names[] = {
	{ "a.test", "a.test", true },
	{ "a.test", "A.Test", true },
	{ "A.TEST", "a.test", true },
	{ "a.test", "a.test.", true },
	{ "a.test", "b.test", false },
	{ "a.test", "a.tes", false },
	{ "a.test", "xa.test", false },
	{ "a.test", "", false },
	{ "*.a.test", "x.a.test", true },
	{ "*.a.test", "X.A.TEST", true },
	{ "*.a.test", "x.a.test.", true },
	{ "*.a.test", "a.test", false },
	{ "*.a.test", ".a.test", false },
	{ "*.a.test", "y.x.a.test", false },
	{ "*.a.test", "xa.test", false },
	{ "*.a.test", "x.b.test", false },
	{ "*", "a", false },
	{ "*.", "a.", false },
	{ "", "", false },
};

START_TEST(test_tls_name_matches)
{
	ck_assert_msg(tls_name_matches(names[_i].pattern, names[_i].name) ==
	    names[_i].matches, "\"%s\" vs \"%s\"", names[_i].pattern,
	    names[_i].name);
}
END_TEST

/* Loading */

START_TEST(test_tls_load_none)
{
	char *err = NULL;
	struct conf *cf = conf_parse("t.conf", "listen 127.0.0.1:80\n"
	    "backend b { server 127.0.0.1:1 }\nroute * b\n", &err);

	ck_assert_ptr_nonnull(cf);
	ck_assert_int_eq(tls_load(cf, &err), 0);
	ck_assert_ptr_null(err);
	ck_assert_ptr_null(cf->tls);
	conf_unref(cf);
}
END_TEST

#define CERT(n) "\tcertificate TMPDIR/" n ".pem TMPDIR/" n ".key\n"

static const struct {
	const char *tls;        /* after HEAD */
	const char *err;
} load_refused[] = {
	{ "\tcertificate TMPDIR/a-rsa.pem TMPDIR/b.key\n}\n",
	  "t.conf:7: key \"TMPDIR/b.key\" does not match certificate "
	  "\"TMPDIR/a-rsa.pem\"" },
	{ CERT("a-ec") "\tcertificate TMPDIR/b.pem TMPDIR/a-ec.key\n}\n",
	  "t.conf:8: key \"TMPDIR/a-ec.key\" does not match certificate "
	  "\"TMPDIR/b.pem\"" },
	{ "\tcertificate TMPDIR/none.pem TMPDIR/b.key\n}\n",
	  "t.conf:7: cannot read \"TMPDIR/none.pem\": "
	  "No such file or directory" },
	{ "\tcertificate TMPDIR/b.pem TMPDIR/none.key\n}\n",
	  "t.conf:7: cannot read \"TMPDIR/none.key\": "
	  "No such file or directory" },
	{ "\tcertificate TMPDIR TMPDIR/b.key\n}\n",
	  "t.conf:7: \"TMPDIR\" is not a PEM certificate" },
	{ "\tcertificate TMPDIR/garbage.pem TMPDIR/b.key\n}\n",
	  "t.conf:7: \"TMPDIR/garbage.pem\" is not a PEM certificate" },
	{ "\tcertificate TMPDIR/b.key TMPDIR/b.key\n}\n",
	  "t.conf:7: \"TMPDIR/b.key\" is not a PEM certificate" },
	{ "\tcertificate TMPDIR/b.pem TMPDIR/b.pem\n}\n",
	  "t.conf:7: \"TMPDIR/b.pem\" is not a PEM private key "
	  "(or is encrypted)" },
	{ "\tcertificate TMPDIR/a-ec.pem TMPDIR/enc.key\n}\n",
	  "t.conf:7: \"TMPDIR/enc.key\" is not a PEM private key "
	  "(or is encrypted)" },
	{ CERT("a-ec") CERT("b") CERT("a-ec") "}\n",
	  "t.conf:9: certificate \"TMPDIR/a-ec.pem\" has the names and key "
	  "type of the one at line 7" },
	{ CERT("b") "\tciphers NOPE\n}\n",
	  "t.conf:8: no usable cipher in \"NOPE\"" },
	{ CERT("b") "\tciphers TLS_AES_128_GCM_SHA256\n}\n",
	  "t.conf:8: no usable cipher in \"TLS_AES_128_GCM_SHA256\"" },
	{ CERT("b") "\tciphersuites NOPE\n}\n",
	  "t.conf:8: invalid ciphersuites \"NOPE\"" },
	{ CERT("b") "\tgroups P-999\n}\n",
	  "t.conf:8: invalid groups \"P-999\"" },
};

START_TEST(test_tls_load_refused)
{
	char text[2048], want[1024], out[1024], *err = NULL;
	struct conf *cf;

	snprintf(text, sizeof(text), HEAD "%s", load_refused[_i].tls);
	cf = conf_of(text);
	ck_assert_int_eq(load_capture(cf, &err, out, sizeof(out)), -1);
	ck_assert_ptr_null(cf->tls);
	expand(want, sizeof(want), load_refused[_i].err);
	ck_assert_str_eq(err, want);
	free(err);
	conf_unref(cf);
}
END_TEST

static const struct {
	const char *tls;        /* after HEAD */
	const char *warnings;   /* all of stderr, TMPDIR expanded */
	size_t prefix;          /* >0: only that many bytes are compared */
} load_warned[] = {
	{ CERT("a-rsa") CERT("a-ec") CERT("b") CERT("c") CERT("cn")
	  "\tprotocols TLSv1.2 TLSv1.3\n"
	  "\tciphers ECDHE-ECDSA-AES256-GCM-SHA384\n"
	  "\tciphersuites TLS_AES_256_GCM_SHA384\n"
	  "\tgroups P-384\n"
	  "}\n", "", 0 },
	{ CERT("exp") "}\n",
	  "t.conf:7: warning: certificate \"TMPDIR/exp.pem\" expired on 2", 0 },
	{ CERT("future") "}\n",
	  "t.conf:7: warning: certificate \"TMPDIR/future.pem\" is not valid "
	  "before 2", 0 },
	{ CERT("a-ec") "\tprotocols TLSv1 TLSv1.1 TLSv1.2\n"
	  "\tciphers ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES128-GCM-SHA256:"
	  "AES128-GCM-SHA256:ECDHE-ECDSA-AES128-SHA256\n}\n",
	  "t.conf:8: warning: protocol TLSv1 is deprecated (RFC 8996)\n"
	  "t.conf:8: warning: protocol TLSv1.1 is deprecated (RFC 8996)\n"
	  "t.conf:9: warning: cipher ECDHE-ECDSA-AES128-SHA is weak: "
	  "CBC mode, SHA-1 MAC\n"
	  "t.conf:9: warning: cipher AES128-GCM-SHA256 is weak: "
	  "static RSA key exchange\n"
	  "t.conf:9: warning: cipher ECDHE-ECDSA-AES128-SHA256 is weak: "
	  "CBC mode\n", 0 },
};

START_TEST(test_tls_load_warned)
{
	char text[2048], want[1024], out[1024], *err = NULL;
	struct conf *cf;
	size_t n;

	snprintf(text, sizeof(text), HEAD "%s", load_warned[_i].tls);
	cf = conf_of(text);
	ck_assert_msg(load_capture(cf, &err, out, sizeof(out)) == 0,
	    "tls_load: %s", err);
	ck_assert_ptr_nonnull(cf->tls);
	expand(want, sizeof(want), load_warned[_i].warnings);
	n = strlen(want);
	if (n > 0 && want[n - 1] != '\n')       /* a prefix: a date follows */
		ck_assert_msg(strncmp(out, want, n) == 0 &&
		    strchr(out, '\n') == out + strlen(out) - 1,
		    "got \"%s\", want \"%s...\"", out, want);
	else
		ck_assert_str_eq(out, want);
	conf_unref(cf);
}
END_TEST

/* Relative paths start from the config file's directory. */
START_TEST(test_tls_load_relative)
{
	char path[128], *err = NULL;
	struct conf *cf;

	put_file("rel.conf", HEAD "\tcertificate b.pem ./b.key\n}\n");
	snprintf(path, sizeof(path), "%s/rel.conf", tmpdir);
	ck_assert_ptr_nonnull(cf = conf_load(path, &err));
	ck_assert_int_eq(tls_load(cf, &err), 0);
	ck_assert_ptr_nonnull(cf->tls);
	conf_unref(cf);
}
END_TEST

/* Handshakes over a BIO pair */

struct hs {
	int cli, srv;           /* 1 done, -1 failed, 0 still going */
	int cli_reason, srv_reason;     /* ERR_GET_REASON on failure */
};

static int
step(SSL *ssl, int *state, int *reason)
{
	int rc, e;

	if (*state != 0)
		return 0;
	if ((rc = SSL_do_handshake(ssl)) == 1) {
		*state = 1;
		return 1;
	}
	e = SSL_get_error(ssl, rc);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return 0;
	*state = -1;
	*reason = ERR_GET_REASON(ERR_peek_last_error());
	return 1;
}

/* Drives both ends until each has finished or failed (bounded). */
static struct hs
handshake(SSL *cli, SSL *srv)
{
	struct hs h = { 0, 0, 0, 0 };
	BIO *bc, *bs;
	int i, moved;

	ck_assert_int_eq(BIO_new_bio_pair(&bc, 0, &bs, 0), 1);
	SSL_set_bio(cli, bc, bc);
	SSL_set_bio(srv, bs, bs);
	SSL_set_connect_state(cli);
	SSL_set_accept_state(srv);
	for (i = 0; i < 50 && (h.cli == 0 || h.srv == 0); i++) {
		moved = step(cli, &h.cli, &h.cli_reason);
		moved |= step(srv, &h.srv, &h.srv_reason);
		if (!moved && BIO_ctrl_pending(bc) == 0 &&
		    BIO_ctrl_pending(bs) == 0 && i > 10)
			break;
	}
	return h;
}

struct client {
	const char *sni;                /* NULL: none */
	const char *alpn;               /* wire format, NULL: none */
	int max_version;                /* 0: any */
	const char *sigalgs;            /* NULL: OpenSSL's */
	const char *ciphers;            /* NULL: OpenSSL's */
};

static SSL *
client_new(const struct client *o)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl;

	ck_assert_ptr_nonnull(ctx);
	if (o->max_version != 0) {
		SSL_CTX_set_min_proto_version(ctx, 0);
		SSL_CTX_set_max_proto_version(ctx, o->max_version);
	}
	if (o->ciphers != NULL)
		ck_assert_int_eq(SSL_CTX_set_cipher_list(ctx, o->ciphers), 1);
	ck_assert_ptr_nonnull(ssl = SSL_new(ctx));
	SSL_CTX_free(ctx);                      /* the SSL holds a ref */
	if (o->sni != NULL)
		ck_assert_int_eq(SSL_set_tlsext_host_name(ssl, o->sni), 1);
	if (o->alpn != NULL)
		ck_assert_int_eq(SSL_set_alpn_protos(ssl,
		    (const unsigned char *)o->alpn, strlen(o->alpn)), 0);
	if (o->sigalgs != NULL)
		ck_assert_int_eq(SSL_set1_sigalgs_list(ssl, o->sigalgs), 1);
	return ssl;
}

/* "CN/RSA" or "CN/EC" of the certificate the client got. */
static void
peer_id(SSL *cli, char *buf, size_t size)
{
	X509 *x = SSL_get0_peer_certificate(cli);
	char cn[128] = "";

	ck_assert_ptr_nonnull(x);
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName,
	    cn, sizeof(cn));
	snprintf(buf, size, "%s/%s", cn,
	    EVP_PKEY_get_base_id(X509_get0_pubkey(x)) == EVP_PKEY_EC ?
	    "EC" : "RSA");
}

#define SITES \
	HEAD CERT("a-rsa") CERT("a-ec") CERT("b") CERT("c") CERT("cn") "}\n"

static const struct {
	const char *sni;
	const char *cn;         /* the certificate's */
} snis[] = {
	{ NULL, "a.test" },
	{ "a.test", "a.test" },
	{ "A.TEST", "a.test" },
	{ "x.a.test", "a.test" },
	{ "b.test", "b.test" },
	{ "y.w.test", "b.test" },       /* wildcard */
	{ "x.w.test", "x.w.test" },     /* exact beats the wildcard */
	{ "X.W.Test", "x.w.test" },
	{ "z.y.w.test", "a.test" },     /* one label only: the default */
	{ "c.test", "a.test" },
	{ "cn.only.test", "Cn.Only.Test" },     /* CN without SAN */
};

START_TEST(test_tls_sni)
{
	struct conf *cf = load_ok(SITES);
	struct client o = { .sni = snis[_i].sni };
	SSL *cli = client_new(&o), *srv = tls_ssl_new(cf->tls);
	struct hs h = handshake(cli, srv);
	char id[256];

	ck_assert_int_eq(h.cli, 1);
	ck_assert_int_eq(h.srv, 1);
	peer_id(cli, id, sizeof(id));
	*strchr(id, '/') = '\0';
	ck_assert_str_eq(id, snis[_i].cn);
	SSL_free(cli);
	SSL_free(srv);
	conf_unref(cf);
}
END_TEST

static const struct {
	int version;
	const char *sigalgs;
	const char *want;
} sigalgs[] = {
	{ TLS1_2_VERSION, "ECDSA+SHA256", "a.test/EC" },
	{ TLS1_2_VERSION, "RSA+SHA256", "a.test/RSA" },
	{ TLS1_2_VERSION, "RSA-PSS+SHA256", "a.test/RSA" },
	{ TLS1_3_VERSION, "ECDSA+SHA256", "a.test/EC" },
	{ TLS1_3_VERSION, "RSA-PSS+SHA256", "a.test/RSA" },
};

START_TEST(test_tls_sigalgs)
{
	struct conf *cf = load_ok(SITES);
	struct client o = { "a.test", NULL, sigalgs[_i].version,
	    sigalgs[_i].sigalgs, NULL };
	SSL *cli = client_new(&o), *srv = tls_ssl_new(cf->tls);
	struct hs h = handshake(cli, srv);
	char id[256];

	ck_assert_int_eq(h.srv, 1);
	ck_assert_int_eq(SSL_version(srv), sigalgs[_i].version);
	peer_id(cli, id, sizeof(id));
	ck_assert_str_eq(id, sigalgs[_i].want);
	SSL_free(cli);
	SSL_free(srv);
	conf_unref(cf);
}
END_TEST

static const struct {
	const char *conf;       /* alpn directive, NULL: default */
	const char *client;     /* wire format, NULL: no extension */
	enum tls_alpn want;     /* NONE: the handshake fails */
} alpns[] = {
	{ NULL, NULL, TLS_ALPN_HTTP11 },
	{ NULL, "\x02h2\x08http/1.1", TLS_ALPN_H2 },
	{ NULL, "\x08http/1.1\x02h2", TLS_ALPN_H2 },    /* ours first */
	{ NULL, "\x08http/1.1", TLS_ALPN_HTTP11 },
	{ NULL, "\x06spdy/3\x02h3\x02h2", TLS_ALPN_H2 },
	{ NULL, "\x06spdy/3\x02h3", TLS_ALPN_NONE },
	{ "http/1.1,h2", "\x02h2\x08http/1.1", TLS_ALPN_HTTP11 },
	{ "http/1.1", "\x02h2", TLS_ALPN_NONE },
	{ "http/1.1", NULL, TLS_ALPN_HTTP11 },
	{ "h2", "\x08http/1.1\x02h2", TLS_ALPN_H2 },
};

START_TEST(test_tls_alpn)
{
	char text[2048];
	struct conf *cf;
	struct client o = { .alpn = alpns[_i].client };
	SSL *cli, *srv;
	struct hs h;

	snprintf(text, sizeof(text), HEAD CERT("b") "%s%s%s}\n",
	    alpns[_i].conf ? "\talpn " : "",
	    alpns[_i].conf ? alpns[_i].conf : "",
	    alpns[_i].conf ? "\n" : "");
	cf = load_ok(text);
	cli = client_new(&o);
	srv = tls_ssl_new(cf->tls);
	ck_assert_int_eq(tls_alpn(srv), TLS_ALPN_NONE);
	h = handshake(cli, srv);
	if (alpns[_i].want == TLS_ALPN_NONE) {
		ck_assert_int_eq(h.srv, -1);
		ck_assert_int_eq(h.srv_reason, SSL_R_NO_APPLICATION_PROTOCOL);
		ck_assert_int_eq(h.cli, -1);
		ck_assert_int_eq(h.cli_reason,
		    SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL);
	} else {
		ck_assert_int_eq(h.srv, 1);
		ck_assert_int_eq(tls_alpn(srv), alpns[_i].want);
		ck_assert_str_eq(tls_version(srv), "TLSv1.3");
	}
	SSL_free(cli);
	SSL_free(srv);
	conf_unref(cf);
}
END_TEST

static const struct {
	const char *protocols;  /* NULL: default */
	int client_max;
	const char *version;    /* NULL: refused */
} versions[] = {
	{ NULL, TLS1_VERSION, NULL },
	{ NULL, TLS1_1_VERSION, NULL },
	{ NULL, TLS1_2_VERSION, "TLSv1.2" },
	{ NULL, TLS1_3_VERSION, "TLSv1.3" },
	{ "TLSv1.3", TLS1_2_VERSION, NULL },
	{ "TLSv1.2", TLS1_3_VERSION, "TLSv1.2" },
	{ "TLSv1.1 TLSv1.2 TLSv1.3", TLS1_1_VERSION, "TLSv1.1" },
};

START_TEST(test_tls_versions)
{
	char text[2048], out[1024], *err = NULL;
	struct conf *cf;
	struct client o = { NULL, NULL, versions[_i].client_max, NULL,
	    "ALL:@SECLEVEL=0" };
	SSL *cli, *srv;
	struct hs h;

	/* Weak protocols need CBC suites, which the default leaves out. */
	snprintf(text, sizeof(text), HEAD CERT("a-ec") "%s%s%s}\n",
	    versions[_i].protocols ? "\tprotocols " : "",
	    versions[_i].protocols ? versions[_i].protocols : "",
	    versions[_i].protocols ? "\n\tciphers ECDHE-ECDSA-AES128-SHA:"
	    "ECDHE-ECDSA-AES128-GCM-SHA256\n" : "");
	cf = conf_of(text);
	ck_assert_int_eq(load_capture(cf, &err, out, sizeof(out)), 0);
	cli = client_new(&o);
	srv = tls_ssl_new(cf->tls);
	h = handshake(cli, srv);
	if (versions[_i].version == NULL) {
		ck_assert_int_eq(h.srv, -1);
		ck_assert_int_eq(h.srv_reason, SSL_R_UNSUPPORTED_PROTOCOL);
		ck_assert_int_eq(h.cli, -1);
	} else {
		ck_assert_int_eq(h.srv, 1);
		ck_assert_str_eq(tls_version(srv), versions[_i].version);
	}
	SSL_free(cli);
	SSL_free(srv);
	conf_unref(cf);
}
END_TEST

/* Each certificate of a site keeps its own chain. */
static const struct {
	const char *sigalgs;
	const char *want;
} chains[] = {
	{ "ECDSA+SHA256", "d.test/EC" },
	{ "RSA+SHA256", "d.test/RSA" },
};

START_TEST(test_tls_chain)
{
	struct conf *cf = load_ok(HEAD CERT("d-rsa") CERT("d-ec") "}\n");
	struct client o = { "d.test", NULL, TLS1_2_VERSION,
	    chains[_i].sigalgs, NULL };
	SSL *cli = client_new(&o), *srv = tls_ssl_new(cf->tls);
	struct hs h = handshake(cli, srv);
	STACK_OF(X509) *chain;
	char id[256], cn[64] = "";

	ck_assert_int_eq(h.srv, 1);
	peer_id(cli, id, sizeof(id));
	ck_assert_str_eq(id, chains[_i].want);
	chain = SSL_get_peer_cert_chain(cli);   /* the leaf, then the CA */
	ck_assert_int_eq(sk_X509_num(chain), 2);
	X509_NAME_get_text_by_NID(X509_get_subject_name(sk_X509_value(chain,
	    1)), NID_commonName, cn, sizeof(cn));
	ck_assert_str_eq(cn, "Test-CA");
	SSL_free(cli);
	SSL_free(srv);
	conf_unref(cf);
}
END_TEST

/* Session resumption */

/* close_notify both ways: OpenSSL drops a session whose SSL is freed
 * without it, on the client (not resumable) and on the server (cache). */
static void
close_both(SSL *cli, SSL *srv)
{
	SSL_shutdown(cli);
	SSL_shutdown(srv);
	SSL_free(cli);
	SSL_free(srv);
}

static SSL_SESSION *
full_session(struct tls *t, int version)
{
	struct client o = { "a.test", NULL, version, NULL, NULL };
	SSL *cli = client_new(&o), *srv = tls_ssl_new(t);
	struct hs h = handshake(cli, srv);
	SSL_SESSION *sess;
	char c;

	ck_assert(h.cli == 1 && h.srv == 1);
	ck_assert(!SSL_session_reused(cli));
	/* TLS 1.3 tickets come after the handshake: let the client read. */
	ck_assert_int_le(SSL_read(cli, &c, 1), 0);
	ck_assert_ptr_nonnull(sess = SSL_get1_session(cli));
	ck_assert(SSL_SESSION_is_resumable(sess));
	close_both(cli, srv);
	return sess;
}

static bool
resumes(struct tls *t, int version, SSL_SESSION *sess)
{
	struct client o = { "a.test", NULL, version, NULL, NULL };
	SSL *cli = client_new(&o), *srv = tls_ssl_new(t);
	struct hs h;
	bool reused;

	ck_assert_int_eq(SSL_set_session(cli, sess), 1);
	h = handshake(cli, srv);
	ck_assert(h.cli == 1 && h.srv == 1);
	reused = SSL_session_reused(srv);
	ck_assert_int_eq(SSL_session_reused(cli), reused);
	close_both(cli, srv);
	return reused;
}

static const int resume_versions[] = { TLS1_2_VERSION, TLS1_3_VERSION };

START_TEST(test_tls_resume_rotation)
{
	struct conf *cf = load_ok(SITES);
	int v = resume_versions[_i];
	SSL_SESSION *old = full_session(cf->tls, v), *fresh;

	ck_assert(SSL_SESSION_has_ticket(old));
	ck_assert(resumes(cf->tls, v, old));
	tls_rotate_tickets(cf->tls);
	ck_assert(resumes(cf->tls, v, old));    /* the previous key */
	fresh = full_session(cf->tls, v);
	tls_rotate_tickets(cf->tls);
	ck_assert(!resumes(cf->tls, v, old));   /* two keys ago: gone */
	ck_assert(resumes(cf->tls, v, fresh));
	tls_rotate_tickets(cf->tls);
	ck_assert(!resumes(cf->tls, v, fresh));
	SSL_SESSION_free(old);
	SSL_SESSION_free(fresh);
	conf_unref(cf);
}
END_TEST

/* A reload keeps the keys: a ticket from the old contexts resumes on the
 * new ones, and rotation through either reaches both. */
START_TEST(test_tls_resume_reload)
{
	struct conf *cf = load_ok(SITES), *cf2 = conf_of(SITES), *cf3;
	char *err = NULL;
	SSL_SESSION *sess = full_session(cf->tls, TLS1_3_VERSION);

	ck_assert_int_eq(tls_load_keep_tickets(cf2, cf->tls, &err), 0);
	ck_assert_ptr_eq(tls_tickets(cf2->tls), tls_tickets(cf->tls));
	conf_unref(cf);
	ck_assert(resumes(cf2->tls, TLS1_3_VERSION, sess));
	cf3 = load_ok(SITES);                   /* new keys */
	ck_assert_ptr_ne(tls_tickets(cf3->tls), tls_tickets(cf2->tls));
	ck_assert(!resumes(cf3->tls, TLS1_3_VERSION, sess));
	SSL_SESSION_free(sess);
	conf_unref(cf2);
	conf_unref(cf3);
}
END_TEST

static int ntickets;

static int
count_ticket(SSL *ssl, SSL_SESSION *sess)
{
	(void)ssl;
	(void)sess;
	ntickets++;
	return 0;               /* not kept */
}

/* TLS 1.3: one ticket a handshake (OpenSSL sends two unless told). */
START_TEST(test_tls_one_ticket)
{
	struct conf *cf = load_ok(SITES);
	struct client o = { "a.test", NULL, TLS1_3_VERSION, NULL, NULL };
	SSL *cli = client_new(&o), *srv = tls_ssl_new(cf->tls);
	SSL_CTX *cctx = SSL_get_SSL_CTX(cli);
	struct hs h;
	char c;

	SSL_CTX_set_session_cache_mode(cctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(cctx, count_ticket);
	ntickets = 0;
	h = handshake(cli, srv);
	ck_assert(h.cli == 1 && h.srv == 1);
	ck_assert_int_le(SSL_read(cli, &c, 1), 0);      /* the tickets */
	ck_assert_int_eq(ntickets, 1);
	close_both(cli, srv);
	conf_unref(cf);
}
END_TEST

START_TEST(test_tls_tickets_off)
{
	struct conf *cf = load_ok(HEAD CERT("a-ec")
	    "\tsession_tickets off\n}\n");
	SSL_SESSION *sess = full_session(cf->tls, TLS1_2_VERSION);

	ck_assert(!SSL_SESSION_has_ticket(sess));
	ck_assert(resumes(cf->tls, TLS1_2_VERSION, sess));      /* by id */
	SSL_SESSION_free(sess);
	conf_unref(cf);
}
END_TEST

/* The line ends with what conn.c passes and OpenSSL's reason; the
 * server's error queue is then empty. */
static const struct {
	const char *alpn;       /* the client's, wire format */
	const char *sni;
	const char *line;       /* after the timestamp */
} failures[] = {
	{ "\x06spdy/3", "b.test", " [info] tls handshake from 192.0.2.1:4000 "
	  "for b.test failed: no application protocol\n" },
	{ "\x06spdy/3", NULL, " [info] tls handshake from 192.0.2.1:4000 "
	  "failed: no application protocol\n" },
	{ "\x06spdy/3", "a\x01.test", " [info] tls handshake from "
	  "192.0.2.1:4000 for (unprintable name) failed: no application "
	  "protocol\n" },
	{ NULL, NULL, " [info] tls handshake from 192.0.2.1:4000 failed: "
	  "connection closed\n" },
};

START_TEST(test_tls_handshake_failed)
{
	struct conf *cf = load_ok(SITES);
	struct client o = { failures[_i].sni, failures[_i].alpn, 0, NULL,
	    NULL };
	SSL *cli = client_new(&o), *srv = tls_ssl_new(cf->tls);
	unsigned long before = tls_handshake_failures();
	BIO *bc, *bs;
	char out[512], *sp;

	ck_assert_int_eq(BIO_new_bio_pair(&bc, 0, &bs, 0), 1);
	SSL_set_bio(cli, bc, bc);
	SSL_set_bio(srv, bs, bs);
	ERR_clear_error();
	if (failures[_i].alpn != NULL) {        /* ClientHello, refused */
		ck_assert_int_eq(SSL_connect(cli), -1);
		ERR_clear_error();
		ck_assert_int_eq(SSL_accept(srv), -1);
	}
	capture_start();
	tls_handshake_failed(srv, "192.0.2.1:4000");
	capture_end(out, sizeof(out));
	ck_assert_uint_eq(tls_handshake_failures(), before + 1);
	ck_assert_uint_eq(ERR_peek_error(), 0);
	ck_assert_ptr_nonnull(sp = strchr(out, ' '));
	ck_assert_ptr_nonnull(sp = strchr(sp + 1, ' '));
	ck_assert_str_eq(sp, failures[_i].line);
	SSL_free(cli);
	SSL_free(srv);
	conf_unref(cf);
}
END_TEST

Suite *
tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *tc = tcase_create("names");

	tcase_add_loop_test(tc, test_tls_name_matches, 0, NELEMS(names));
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_add_unchecked_fixture(tc, make_certs, remove_certs);
	tcase_add_test(tc, test_tls_load_none);
	tcase_add_loop_test(tc, test_tls_load_refused, 0,
	    NELEMS(load_refused));
	tcase_add_loop_test(tc, test_tls_load_warned, 0, NELEMS(load_warned));
	tcase_add_test(tc, test_tls_load_relative);
	suite_add_tcase(s, tc);

	tc = tcase_create("handshake");
	tcase_set_timeout(tc, 30);
	tcase_add_unchecked_fixture(tc, make_certs, remove_certs);
	tcase_add_loop_test(tc, test_tls_sni, 0, NELEMS(snis));
	tcase_add_loop_test(tc, test_tls_sigalgs, 0, NELEMS(sigalgs));
	tcase_add_loop_test(tc, test_tls_chain, 0, NELEMS(chains));
	tcase_add_loop_test(tc, test_tls_alpn, 0, NELEMS(alpns));
	tcase_add_loop_test(tc, test_tls_versions, 0, NELEMS(versions));
	tcase_add_loop_test(tc, test_tls_resume_rotation, 0,
	    NELEMS(resume_versions));
	tcase_add_test(tc, test_tls_resume_reload);
	tcase_add_test(tc, test_tls_tickets_off);
	tcase_add_test(tc, test_tls_one_ticket);
	tcase_add_loop_test(tc, test_tls_handshake_failed, 0,
	    NELEMS(failures));
	suite_add_tcase(s, tc);
	return s;
}
