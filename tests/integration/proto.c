/* tests/integration/proto.c: one request over a chosen protocol, with
 * curl; see proto.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <check.h>

#include "proto.h"

#define PROTO_ARGS      64
#define PROTO_WAIT_MS   20000

const char *const proto_names[P_COUNT] = { "h1", "h1-tls", "h2-tls", "h2c" };

void
proto_proxy_start(struct proxy *p, unsigned workers, const char *fmt, ...)
{
	char text[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	memset(p, 0, sizeof(*p));
	p->workers = workers;
	proxy_start_tls(p, "%s%s", harness_tls_block(NULL), text);
}

/* The last head in HEADS (curl -D writes one per 1xx and one final). */
static char *
last_head(const char *heads)
{
	const char *p = heads, *last = heads, *end;

	while ((end = strstr(p, "\r\n\r\n")) != NULL && end[4] != '\0') {
		p = end + 4;
		last = p;
	}
	return strdup(last);
}

static void
parse_out(const char *headpath, const char *bodypath, struct resp *out)
{
	char *heads = file_read(headpath, NULL);
	const char *sp;

	memset(out, 0, sizeof(*out));
	out->head = last_head(heads != NULL ? heads : "");
	free(heads);
	out->body = file_read(bodypath, &out->bodylen);
	if (out->body == NULL)
		out->body = strdup("");
	if (strncmp(out->head, "HTTP/", 5) == 0 &&
	    (sp = strchr(out->head, ' ')) != NULL)
		out->status = atoi(sp + 1);
	out->is_complete = out->status != 0;
}

/* curl's arguments for PROTO: version flags and the URL into URL. */
static size_t
proto_args(enum proto proto, const struct proxy *p, const char *path,
    char **argv, size_t n, char *url, size_t cap, char *resolve,
    size_t rcap)
{
	int port = proto_is_tls(proto) ? p->tls_port : p->port;
	static char *const flags[P_COUNT] = { "--http1.1", "--http1.1",
	    "--http2", "--http2-prior-knowledge" };

	snprintf(resolve, rcap, "a.test:%d:127.0.0.1", port);
	snprintf(url, cap, "%s://a.test:%d%s", proto_is_tls(proto) ?
	    "https" : "http", port, path);
	argv[n++] = flags[proto];
	argv[n++] = "-k";
	argv[n++] = "--resolve";
	argv[n++] = resolve;
	return n;
}

int
proto_request_rc(enum proto proto, const struct proxy *p, const char *method,
    const char *path, const char *const *headers, const void *body,
    size_t bodylen, struct resp *out, char *ver, size_t vercap)
{
	char *argv[PROTO_ARGS] = { "/usr/bin/curl", "-s", "--path-as-is",
	    "--max-time", "10", "-w", "%{http_version}" };
	char url[512], resolve[64], headpath[HARNESS_PATH + 16];
	char bodypath[HARNESS_PATH + 16], inpath[HARNESS_PATH + 16];
	char data[HARNESS_PATH + 20];
	size_t n = 7, i;
	int rc;

	snprintf(headpath, sizeof(headpath), "%s/curl.head", p->dir);
	snprintf(bodypath, sizeof(bodypath), "%s/curl.body", p->dir);
	snprintf(inpath, sizeof(inpath), "%s/curl.in", p->dir);
	remove(headpath);
	remove(bodypath);
	n = proto_args(proto, p, path, argv, n, url, sizeof(url), resolve,
	    sizeof(resolve));
	argv[n++] = "-D";
	argv[n++] = headpath;
	argv[n++] = "-o";
	/* --head writes the head to -o as well: there is no body to keep */
	argv[n++] = strcmp(method, "HEAD") == 0 ? "/dev/null" : bodypath;
	if (strcmp(method, "HEAD") == 0)
		argv[n++] = "--head";
	else if (strcmp(method, "GET") != 0 || body != NULL) {
		argv[n++] = "-X";
		argv[n++] = (char *)method;
	}
	if (body != NULL) {
		file_write(inpath, body, bodylen);
		snprintf(data, sizeof(data), "@%s", inpath);
		argv[n++] = "--data-binary";
		argv[n++] = data;
	}
	for (i = 0; headers != NULL && headers[i] != NULL &&
	    n < PROTO_ARGS - 3; i++) {
		argv[n++] = "-H";
		argv[n++] = (char *)headers[i];
	}
	argv[n++] = url;
	argv[n] = NULL;
	rc = run_argv(argv, ver, vercap, NULL, 0, PROTO_WAIT_MS);
	parse_out(headpath, bodypath, out);
	return rc;
}

void
proto_request(enum proto proto, const struct proxy *p, const char *method,
    const char *path, const char *const *headers, const void *body,
    size_t bodylen, struct resp *out)
{
	char ver[32];
	int rc = proto_request_rc(proto, p, method, path, headers, body,
	    bodylen, out, ver, sizeof(ver));

	if (out->status == 0)
		return;
	ck_assert_msg(rc == 0, "curl %s %s over %s: exit %d", method, path,
	    proto_names[proto], rc);
	ck_assert_msg(strcmp(ver, proto_is_h2(proto) ? "2" : "1.1") == 0,
	    "%s over %s: came as HTTP/%s", path, proto_names[proto], ver);
}

/* How many times NEEDLE (any case) occurs in what origin O received. */
/* NEEDLE (any case) in HAY[0..len), or NULL: what an origin received
 * may hold NUL bytes (a WebSocket mask, a binary body), so no str*(). */
static const char *
mem_case_find(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle), i;

	for (i = 0; n <= len && i <= len - n; i++)
		if (strncasecmp(hay + i, needle, n) == 0)
			return hay + i;
	return NULL;
}

int
origin_count(const struct origin *o, const char *needle)
{
	size_t len;
	char *all = origin_received_all(o, &len);
	const char *p = all, *end = all + len;
	int n = 0;

	while ((p = mem_case_find(p, (size_t)(end - p), needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	free(all);
	return n;
}

/* The head of the last request that begins with LINE in what O
 * received, malloc'd ("" if none): the fields of that request alone. */
char *
origin_head(const struct origin *o, const char *line)
{
	size_t len, ll = strlen(line);
	char *all = origin_received_all(o, &len), *p = all + len, *end, *head;
	char *hit = all;

	while ((hit = memmem(hit, len - (size_t)(hit - all), line, ll)) !=
	    NULL)
		p = hit++;
	end = memmem(p, len - (size_t)(p - all), "\r\n\r\n", 4);
	head = strndup(p, end != NULL ? (size_t)(end - p) + 2 :
	    len - (size_t)(p - all));
	free(all);
	return head;
}

/* How many times NEEDLE (any case) occurs in HEAD. */
int
str_count(const char *head, const char *needle)
{
	const char *p = head;
	int n = 0;

	while ((p = strcasestr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	return n;
}

/* The access-log line whose "target" is TARGET, malloc'd, or NULL. */
char *
access_line(const struct proxy *p, const char *target)
{
	char *log = file_read(p->access_log, NULL), *line, *next, *found = NULL;
	char v[1024];

	ck_assert_ptr_nonnull(log);
	for (line = log; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (json_str(line, "target", v, sizeof(v)) &&
		    strcmp(v, target) == 0) {
			found = strdup(line);
			break;
		}
	}
	free(log);
	return found;
}

/* ---- h13-proxy: failure messages, curl's arguments ---- */

char proto_where[256];

void
proto_at(enum proto proto, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(proto_where, sizeof(proto_where), "%s over %s", what,
	    proto_names[proto]);
}

size_t
proto_curl_args(enum proto proto, const struct proxy *p, const char *path,
    char **argv, size_t n, char *url, size_t cap, char *resolve)
{
	return proto_args(proto, p, path, argv, n, url, cap, resolve,
	    PROTO_RESOLVE);
}

void
proto_mark(char *out, size_t cap, const char *path, const char *tag,
    int row, enum proto proto)
{
	snprintf(out, cap, "%s%c%s=%d.%s", path,
	    strchr(path, '?') != NULL ? '&' : '?', tag, row,
	    proto_names[proto]);
}

char *
origin_got(const struct origin *o, const char *method, const char *target)
{
	size_t len, ll;
	char line[1024], *all = origin_received_all(o, &len), *hit = all;
	char *last = NULL, *end;
	int n = 0;

	/* one read of the records: they grow with every request; by
	 * length, since they may hold NUL bytes */
	snprintf(line, sizeof(line), "%s %s HTTP/1.1\r\n", method, target);
	ll = strlen(line);
	while ((hit = memmem(hit, len - (size_t)(hit - all), line, ll)) !=
	    NULL) {
		last = hit++;
		n++;
	}
	ck_assert_msg(n == 1, "%s: the origin got \"%s %s\" %d times",
	    proto_where, method, target, n);
	end = memmem(last, len - (size_t)(last - all), "\r\n\r\n", 4);
	last = strndup(last, end != NULL ? (size_t)(end - last) + 2 :
	    len - (size_t)(last - all));
	free(all);
	return last;
}

const char *
proto_target(char *out, size_t cap, const char *path, enum proto proto)
{
	snprintf(out, cap, "%s%sp=%s", path, strchr(path, '?') ? "&" : "?",
	    proto_names[proto]);
	return out;
}

int
origin_requests(const struct origin *o, const char *method,
    const char *target)
{
	char line[512];

	snprintf(line, sizeof(line), "%s %s HTTP/1.1\r\n", method, target);
	return origin_count(o, line);
}

void
assert_origin_requests(const struct origin *o, const char *method,
    const char *target, int n)
{
	int got = origin_requests(o, method, target);

	ck_assert_msg(got == n, "%s %s: %d at the origin, wanted %d", method,
	    target, got, n);
}
