/* proxy/route.c: the one parse of a request target (RFC 9112 §3.2, RFC
 * 9113 §8.3.1) and of the authority that goes with it.
 *
 * The path is brought to one canonical form, which is what routes are
 * matched against and what the backend receives, so a backend can never
 * read a request as being outside the route that picked it:
 *   - "%XX" of an unreserved character is decoded (RFC 3986 §6.2.2.2),
 *     so "%2e" is ".", and "%2e%2e" is a dot-segment like "..";
 *   - empty segments are merged ("//v1/" is "/v1/"), as nginx does;
 *   - dot-segments are removed (RFC 3986 §5.2.4); a ".." at the root is
 *     refused, as nginx does, rather than clamped;
 *   - what a backend could read as a separator or a dot-segment that we
 *     did not see is refused: "%2F", "%5C", "\", "%00", and "." or ".."
 *     with ";" parameters (Tomcat reads "..;" as "..").
 * The query is forwarded as received.
 */
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "headers.h"
#include "route.h"

static bool
is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* RFC 3986 §2.3. */
static bool
is_unreserved(unsigned char c)
{
	return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 9112 §3.2 and RFC 3986 §3.5: no control, space or fragment. Bytes
 * above 0x7f pass, as nginx and the HTTP/1.1 reader let them. */
static bool
is_target_text(const char *s, size_t len)
{
	size_t i;
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c <= 0x20 || c == 0x7f || c == '#')
			return false;
	}
	return true;
}

/* The decoded value of "%XX" at P (END bounds it), or -1. */
static int
pct_value(const char *p, const char *end)
{
	int hi, lo;

	if (end - p < 3)
		return -1;
	hi = hex_value((unsigned char)p[1]);
	lo = hex_value((unsigned char)p[2]);
	return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

/* Copies the segment P..END to OUT with unreserved "%XX" decoded; its
 * length, or -1 with *why for what a backend could split on. */
static long
copy_segment(const char *p, const char *end, char *out, const char **why)
{
	char *o = out;
	int v;

	for (; p < end; p++) {
		if (*p == '\\') {
			*why = "backslash in path";
			return -1;
		}
		if (*p != '%') {
			*o++ = *p;
			continue;
		}
		if ((v = pct_value(p, end)) < 0) {
			*why = "bad percent-encoding in path";
			return -1;
		}
		if (v == '/' || v == '\\' || v == 0) {
			*why = "encoded slash, backslash or NUL in path";
			return -1;
		}
		if (is_unreserved((unsigned char)v)) {
			*o++ = (char)v;
		} else {
			memcpy(o, p, 3);
			o += 3;
		}
		p += 2;
	}
	return (long)(o - out);
}

/* OUT[0..o) ends with "/": drops its last segment (RFC 3986 §5.2.4 E). */
static size_t
pop_segment(const char *out, size_t o)
{
	o--;
	while (out[o - 1] != '/')
		o--;
	return o;
}

/* What the segment S (decoded, N bytes) is: 0 a name, 1 ".", 2 "..", -1
 * a dot-segment with parameters, which some backends read as one. */
static int
dot_kind(const char *s, long n)
{
	if (n == 1 && s[0] == '.')
		return 1;
	if (n == 2 && s[0] == '.' && s[1] == '.')
		return 2;
	if ((n >= 2 && s[0] == '.' && s[1] == ';') ||
	    (n >= 3 && s[0] == '.' && s[1] == '.' && s[2] == ';'))
		return -1;
	return 0;
}

/* Normalises the path P[0..len) (P[0] is '/') into OUT (room for len
 * bytes); the length written, or -1 with *why. */
static long
normalise_path(const char *p, size_t len, char *out, const char **why)
{
	const char *end = p + len, *s = p + 1, *e;
	size_t o = 1;
	long n;
	int kind;

	out[0] = '/';
	for (; s <= end; s = e + 1) {
		if ((e = memchr(s, '/', (size_t)(end - s))) == NULL)
			e = end;
		if ((n = copy_segment(s, e, out + o, why)) < 0)
			return -1;
		kind = dot_kind(out + o, n);
		if (kind == -1) {
			*why = "dot-segment with parameters in path";
			return -1;
		}
		if (kind == 2 && o == 1) {
			*why = "path climbs above the root";
			return -1;
		}
		if (kind == 2)
			o = pop_segment(out, o);
		else if (kind == 0 && n > 0)
			o += (size_t)n + (e < end ? 1 : 0);
		if (kind == 0 && n > 0 && e < end)
			out[o - 1] = '/';
	}
	return (long)o;
}

/* RFC 3986 §3.2.2: a reg-name of unreserved and sub-delims characters
 * (no "%", no empty label), or the inside of an IPv6 literal. */
static bool
is_reg_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || s[0] == '.')
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] == '.' && i > 0 && s[i - 1] == '.')
			return false;
		/* strchr() would find the NUL that ends its set */
		if (!is_unreserved((unsigned char)s[i]) && (s[i] == '\0' ||
		    strchr("!$&'()*+,;=", s[i]) == NULL))
			return false;
	}
	return true;
}

static bool
is_ip6_literal(const char *s, size_t n)
{
	size_t i;

	if (n < 2 || memchr(s, ':', n) == NULL)
		return false;
	for (i = 0; i < n; i++)
		if (hex_value((unsigned char)s[i]) < 0 && s[i] != ':' &&
		    s[i] != '.')
			return false;
	return true;
}

/* RFC 3986 §3.2.3: after the host, nothing, or ":" and 1-5 digits up to
 * 65535. An empty port is refused, though the grammar allows it. */
static bool
is_port(const char *s, size_t n)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0)
		return true;
	if (s[0] != ':' || n < 2 || n > 6)
		return false;
	for (i = 1; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v <= 65535;
}

/* Splits the authority A[0..n) into RT's host; -1 with *why. */
static int
parse_authority(const char *a, size_t n, struct route_target *rt,
    const char **why)
{
	const char *end, *h = a, *he;

	*why = "missing host";
	if (a == NULL || n == 0)
		return -1;
	end = a + n;
	*why = "invalid host";
	if (a[0] == '[') {
		if ((he = memchr(a, ']', n)) == NULL ||
		    !is_ip6_literal(a + 1, (size_t)(he - a - 1)))
			return -1;
		h = a + 1;
		rt->is_ip6 = true;
	} else {
		if ((he = memchr(a, ':', n)) == NULL)
			he = end;
		if (!is_reg_name(a, (size_t)(he - a)))
			return -1;
	}
	rt->host = h;
	rt->hostlen = (uint32_t)(he - h);
	if (he < end && *he == ']')
		he++;
	*why = "invalid port";
	return is_port(he, (size_t)(end - he)) ? 0 : -1;
}

/* RFC 9112 §3.2.2: "http://" or "https://" (any case); its length or 0. */
static size_t
scheme_len(const char *t, size_t len)
{
	if (len >= 7 && strncasecmp(t, "http://", 7) == 0)
		return 7;
	if (len >= 8 && strncasecmp(t, "https://", 8) == 0)
		return 8;
	return 0;
}

/* Normalises the origin-form P[0..len) into RT->target, in A; -2 when
 * out of memory. */
static int
normalise(const char *p, size_t len, struct arena *a,
    struct route_target *rt, const char **why)
{
	const char *q = memchr(p, '?', len);
	size_t plen = q != NULL ? (size_t)(q - p) : len;
	char *out;
	long n;

	*why = "out of memory";
	if ((out = arena_alloc(a, len + 2)) == NULL)
		return -2;
	if (plen == 0)          /* absolute-form without a path */
		n = normalise_path("/", 1, out, why);
	else
		n = normalise_path(p, plen, out, why);
	if (n < 0)
		return -1;
	memcpy(out + n, p + plen, len - plen);
	out[n + (long)(len - plen)] = '\0';
	rt->target = out;
	rt->pathlen = (uint32_t)n;
	rt->targetlen = (uint32_t)(n + (long)(len - plen));
	return 0;
}

/* RFC 9112 §3.2.2: the authority of an absolute-form target, which wins
 * over Host; then the path, which must start with "/" or be absent. */
static int
parse_absolute(const char *t, size_t len, struct arena *a,
    struct route_target *rt, const char **why)
{
	size_t skip = scheme_len(t, len), alen;

	*why = "bad request target";
	if (skip == 0)
		return -1;
	for (alen = 0; skip + alen < len; alen++)
		if (t[skip + alen] == '/' || t[skip + alen] == '?')
			break;
	if (skip + alen < len && t[skip + alen] != '/')
		return -1;
	if (parse_authority(t + skip, alen, rt, why) == -1)
		return -1;
	return normalise(t + skip + alen, len - skip - alen, a, rt, why);
}

static bool
is_options(const struct req_head *h)
{
	return h->methodlen == 7 && memcmp(h->method, "OPTIONS", 7) == 0;
}

int
route_parse(const struct req_head *h, struct arena *a,
    struct route_target *rt, const char **why)
{
	const char *t = h->target;
	size_t len = t != NULL ? h->targetlen : 0;

	memset(rt, 0, sizeof(*rt));
	*why = "bad request target";
	if (len == 0 || !is_target_text(t, len))
		return -1;
	if (t[0] != '/' && t[0] != '*')
		return h->version == 20 ? -1 : parse_absolute(t, len, a, rt,
		    why);
	if (parse_authority(h->authority, h->authoritylen, rt, why) == -1)
		return -1;
	if (t[0] == '/')
		return normalise(t, len, a, rt, why);
	*why = "\"*\" is only for OPTIONS";     /* RFC 9112 §3.2.4 */
	if (len != 1 || !is_options(h))
		return -1;
	rt->target = "*";
	rt->targetlen = rt->pathlen = 1;
	return 0;
}
