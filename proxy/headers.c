/* proxy/headers.c: field checks and the h1/h2 → HTTP/1.1 request head
 * translation (responses: headers_resp.c).
 *
 * A head is written in two passes over the same emit function: the first
 * only counts bytes, the second copies them into one extent reserved in the
 * output evbuffer, which is then committed whole. So a head costs at most
 * one buffer chain, no malloc of ours, and never leaves half a head in OUT.
 *
 * Everything a request can be refused for (target, host, field bytes) is
 * checked before anything is written.
 */
#include <string.h>

#include <event2/buffer.h>

#include "conf.h"
#include "headers.h"
#include "headers_wr.h"

/* The request after checks: what emit_request() needs besides its input. */
struct req_plan {
	const struct req_head *h;
	const struct fwd_info *fwd;     /* NULL: add no forwarded field */
	const struct conf *cf;
	const char *path;               /* target to write, origin-form */
	size_t pathlen;
	bool path_needs_slash;          /* absolute-form with "" or "?q" path */
	const char *host;
	size_t hostlen;
	enum headers_framing framing;
	uint64_t length;
	bool upgrade;
};

static bool
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_alnum(unsigned char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9');
}

/* The RFC 9110 §5.6.2 tchar set, as a table: this runs per header byte. */
static const unsigned char tchar[256] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
	['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
	['`'] = 1, ['|'] = 1, ['~'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
	['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
};

static bool
is_tchar(unsigned char c)
{
	return tchar[c] != 0;
}

static bool
is_token(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++)
		if (!is_tchar((unsigned char)s[i]))
			return false;
	return true;
}

/* ASCII lower case by table: one load a byte where the names are
 * compared for every field of every message. */
static const unsigned char lower_of[256] = {
#define L4(n) (n), (n) + 1, (n) + 2, (n) + 3
#define L16(n) L4(n), L4((n) + 4), L4((n) + 8), L4((n) + 12)
	L16(0x00), L16(0x10), L16(0x20), L16(0x30),
	0x40, L4(0x61), L4(0x65), L4(0x69), L4(0x6d), L4(0x71), L4(0x75),
	0x79, 0x7a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
	L16(0x60), L16(0x70), L16(0x80), L16(0x90), L16(0xa0), L16(0xb0),
	L16(0xc0), L16(0xd0), L16(0xe0), L16(0xf0),
#undef L16
#undef L4
};

static unsigned char
to_lower(unsigned char c)
{
	return lower_of[c];
}

static bool
eq_nocase(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i;

	if (alen != blen)
		return false;
	for (i = 0; i < alen; i++)
		if (to_lower((unsigned char)a[i]) !=
		    to_lower((unsigned char)b[i]))
			return false;
	return true;
}

/* Strips RFC 9110 §5.6.3 OWS from both ends of S[0..*len). */
static const char *
trim_ows(const char *s, size_t *len)
{
	while (*len > 0 && (s[0] == ' ' || s[0] == '\t')) {
		s++;
		(*len)--;
	}
	while (*len > 0 && (s[*len - 1] == ' ' || s[*len - 1] == '\t'))
		(*len)--;
	return s;
}

/* True if the comma list V[0..len) has an element equal to TOKEN. */
static bool
list_has(const char *v, size_t len, const char *token, size_t toklen)
{
	const char *end = v + len, *comma, *elem;
	size_t elemlen;

	while (v < end) {
		comma = memchr(v, ',', (size_t)(end - v));
		elemlen = (size_t)((comma != NULL ? comma : end) - v);
		elem = trim_ows(v, &elemlen);
		if (eq_nocase(elem, elemlen, token, toklen))
			return true;
		if (comma == NULL)
			break;
		v = comma + 1;
	}
	return false;
}

/* Whether NAME[0..len) is WANT (lower case, LEN bytes) in any case. */
static bool
is_lower(const char *name, const char *want, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (to_lower((unsigned char)name[i]) != (unsigned char)want[i])
			return false;
	return true;
}

static uint8_t
kind_if(const char *name, size_t len, const char *want, uint8_t kind)
{
	return is_lower(name, want, len) ? kind : HF_OTHER;
}

/* Every field of every request and response passes here (a table scan
 * cost ~230 instructions a field, 6% of an HTTP/2 request): the length
 * and the first byte leave at most one candidate, compared once. */
uint8_t
headers_classify(const char *name, size_t len)
{
	unsigned char c = len > 0 ? to_lower((unsigned char)name[0]) : 0;

	switch (len) {
	case 2: return kind_if(name, len, "te", HF_TE);
	case 3: return kind_if(name, len, "via", HF_VIA);
	case 4: return kind_if(name, len, "host", HF_HOST);
	case 6: return c == 'e' ? kind_if(name, len, "expect", HF_EXPECT) :
		    kind_if(name, len, "cookie", HF_COOKIE);
	case 7: return c == 'u' ? kind_if(name, len, "upgrade", HF_UPGRADE) :
		    kind_if(name, len, "referer", HF_REFERER);
	case 9: return kind_if(name, len, "forwarded", HF_FORWARDED);
	case 10:
		if (c == 'c')
			return kind_if(name, len, "connection", HF_CONNECTION);
		if (c == 'k')
			return kind_if(name, len, "keep-alive", HF_KEEP_ALIVE);
		return kind_if(name, len, "user-agent", HF_USER_AGENT);
	case 14: return c == 'h' ? kind_if(name, len, "http2-settings",
		    HF_HTTP2_SETTINGS) : kind_if(name, len, "content-length",
		    HF_CONTENT_LENGTH);
	case 15: return kind_if(name, len, "x-forwarded-for",
		    HF_X_FORWARDED_FOR);
	case 16: return kind_if(name, len, "proxy-connection",
		    HF_PROXY_CONNECTION);
	case 17: return c == 't' ? kind_if(name, len, "transfer-encoding",
		    HF_TRANSFER_ENCODING) : kind_if(name, len,
		    "x-forwarded-proto", HF_X_FORWARDED_PROTO);
	}
	return HF_OTHER;
}

uint8_t
headers_kind(const struct hfield *f)
{
	return f->kind != HF_UNKNOWN ? f->kind :
	    headers_classify(f->name, f->namelen);
}

static bool
is_kind(const struct hfield *f, uint8_t kind)
{
	return headers_kind(f) == kind;
}

/* Whether field F is named NAME, whose kind is KIND (HF_OTHER: compare
 * the names). */
static bool
is_named(const struct hfield *f, const char *name, uint8_t kind)
{
	return kind != HF_OTHER ? is_kind(f, kind) :
	    headers_name_is(f, name);
}

static bool
fields_have_token(const struct hfield *fields, size_t n, const char *name,
    const char *token, size_t toklen)
{
	uint8_t kind = headers_classify(name, strlen(name));
	size_t i;

	for (i = 0; i < n; i++)
		if (is_named(&fields[i], name, kind) && list_has(
		    fields[i].value, fields[i].valuelen, token, toklen))
			return true;
	return false;
}

/* The Connection-listed check, with the kind known: no strlen. */
static bool
connection_lists(const struct hfield *fields, size_t n, const char *token,
    size_t toklen)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (is_kind(&fields[i], HF_CONNECTION) && list_has(
		    fields[i].value, fields[i].valuelen, token, toklen))
			return true;
	return false;
}

/* NAME is lower case: most fields fail on the first byte, before any
 * strlen. */
bool
headers_name_is(const struct hfield *f, const char *name)
{
	if (f->namelen == 0 || to_lower((unsigned char)f->name[0]) !=
	    (unsigned char)name[0])
		return false;
	return eq_nocase(f->name, f->namelen, name, strlen(name));
}

/* RFC 9110 §7.6.1, and RFC 9113 §8.2.2 for the h2-only names. */
bool
headers_is_hop_by_hop(const struct hfield *fields, size_t n,
    const struct hfield *f)
{
	switch (headers_kind(f)) {
	case HF_CONNECTION: case HF_KEEP_ALIVE: case HF_PROXY_CONNECTION:
	case HF_TE: case HF_TRANSFER_ENCODING: case HF_UPGRADE:
	case HF_HTTP2_SETTINGS:
		return true;
	}
	return connection_lists(fields, n, f->name, f->namelen);
}

const struct hfield *
headers_find(const struct hfield *fields, size_t n, const char *name)
{
	uint8_t kind = headers_classify(name, strlen(name));
	size_t i;

	for (i = 0; i < n; i++)
		if (is_named(&fields[i], name, kind))
			return &fields[i];
	return NULL;
}

bool
headers_has_token(const struct hfield *fields, size_t n, const char *name,
    const char *token)
{
	return fields_have_token(fields, n, name, token, strlen(token));
}

int
headers_check_field(const struct hfield *f, const char **why)
{
	if (!is_token(f->name, f->namelen)) {
		*why = "invalid field name";
		return -1;
	}
	if (!is_field_text(f->value, f->valuelen)) {
		*why = "invalid character in field value";
		return -1;
	}
	return 0;
}

/* Whether F's name starts with the lower-case PREFIX. */
static bool
has_prefix(const struct hfield *f, const char *prefix, size_t len)
{
	return f->namelen >= len && eq_nocase(f->name, len, prefix, len);
}

/* RFC 9110 §6.5.1: a trailer must not carry what frames, routes or
 * identifies the message; a backend that merges trailers into the head
 * would otherwise take them as the client's (or portico's) word. The
 * same section names authentication and state: Authorization, Cookie
 * and Set-Cookie stay out of trailers too. */
bool
headers_is_trailer_allowed(const struct hfield *fields, size_t n,
    const struct hfield *f)
{
	const char *why;

	if (f->namelen > 0 && f->name[0] == ':')
		return false;
	if (headers_check_field(f, &why) == -1 ||
	    headers_is_hop_by_hop(fields, n, f))
		return false;
	switch (headers_kind(f)) {
	case HF_HOST: case HF_CONTENT_LENGTH: case HF_EXPECT:
	case HF_X_FORWARDED_FOR: case HF_X_FORWARDED_PROTO:
	case HF_FORWARDED: case HF_VIA: case HF_COOKIE:
		return false;
	}
	return !has_prefix(f, "x-forwarded-", 12) &&
	    !has_prefix(f, "proxy-", 6) &&
	    !headers_name_is(f, "authorization") &&
	    !headers_name_is(f, "set-cookie");
}

/* Writes the values of the fields named NAME that are forwarded, trimmed,
 * empty ones skipped, with SEP between them; *ANY says whether something
 * precedes, and is set once a value is written. */
static void
put_values(struct wr *w, const struct req_head *h, const char *name,
    const char *sep, bool *any)
{
	uint8_t kind = headers_classify(name, strlen(name));
	const struct hfield *f;
	const char *v;
	size_t i, len;

	for (i = 0; i < h->nfields; i++) {
		f = &h->fields[i];
		if (!is_named(f, name, kind) ||
		    headers_is_hop_by_hop(h->fields, h->nfields, f))
			continue;
		len = f->valuelen;
		v = trim_ows(f->value, &len);
		if (len == 0)
			continue;
		if (*any)
			put_str(w, sep);
		put(w, v, len);
		*any = true;
	}
}

/* "NAME: " + the client's NAME values + ", " + ours, for a list field;
 * with CLIENTS false, ours alone. */
static void
put_appended(struct wr *w, const struct req_head *h, const char *wire,
    const char *name, bool clients)
{
	bool any = false;

	put_str(w, wire);
	put(w, ": ", 2);
	if (clients)
		put_values(w, h, name, ", ", &any);
	if (any)
		put(w, ", ", 2);
}

/* RFC 7239 §6: IPv6 is bracketed and quoted; a non-IP peer (a unix
 * socket) is "unknown". */
static void
put_forwarded_node(struct wr *w, const char *addr)
{
	size_t len = strlen(addr);

	if (memchr(addr, ':', len) != NULL) {
		put(w, "\"[", 2);
		put(w, addr, len);
		put(w, "]\"", 2);
	} else if (len > 0 && strspn(addr, "0123456789.") == len) {
		put(w, addr, len);
	} else {
		put_str(w, "unknown");
	}
}

/* RFC 9110 §7.6.3: the protocol version this hop received. */
const char *
headers_via(unsigned version)
{
	switch (version) {
	case 10:
		return "1.0 portico";
	case 20:
		return "2 portico";
	default:
		return "1.1 portico";
	}
}

static void
put_forwarding(struct wr *w, const struct req_plan *p)
{
	const struct req_head *h = p->h;
	const char *addr = p->fwd->client_addr;
	bool clients = !p->fwd->drops_forwarded;

	if (addr == NULL)
		addr = "unknown";
	if (p->cf->x_forwarded_for) {
		put_appended(w, h, "X-Forwarded-For", "x-forwarded-for",
		    clients);
		put_str(w, addr);
		put(w, "\r\n", 2);
	}
	if (p->cf->x_forwarded_proto) {
		put_str(w, "X-Forwarded-Proto: ");
		put_str(w, p->fwd->is_tls ? "https\r\n" : "http\r\n");
	}
	if (p->cf->forwarded) {
		put_appended(w, h, "Forwarded", "forwarded", clients);
		put_str(w, "for=");
		put_forwarded_node(w, addr);
		put_str(w, p->fwd->is_tls ? ";proto=https\r\n" :
		    ";proto=http\r\n");
	}
	if (p->cf->via) {
		put_appended(w, h, "Via", "via", true);
		put_str(w, headers_via(h->version));
		put(w, "\r\n", 2);
	}
}

/* RFC 9113 §8.2.3: h2 cookie crumbs become one field for h1. */
static void
put_cookie(struct wr *w, const struct req_head *h)
{
	bool any = false;

	put_str(w, "Cookie: ");
	put_values(w, h, "cookie", "; ", &any);
	put(w, "\r\n", 2);
}

/* True if F is one portico writes itself, so the client's copy is
 * dropped (or merged into ours by put_forwarding / put_cookie). */
static bool
is_replaced(const struct req_plan *p, const struct hfield *f)
{
	const struct conf *cf = p->cf;

	switch (headers_kind(f)) {
	case HF_HOST: case HF_CONTENT_LENGTH:
		return true;
	case HF_X_FORWARDED_FOR:
		return p->fwd != NULL && (cf->x_forwarded_for ||
		    p->fwd->drops_forwarded);
	case HF_X_FORWARDED_PROTO:
		return p->fwd != NULL && cf->x_forwarded_proto;
	case HF_FORWARDED:
		return p->fwd != NULL && (cf->forwarded ||
		    p->fwd->drops_forwarded);
	case HF_VIA:
		return p->fwd != NULL && cf->via;
	}
	return false;
}

static void
put_request_fields(struct wr *w, const struct req_plan *p)
{
	const struct req_head *h = p->h;
	const struct hfield *f;
	bool has_cookie = false;
	size_t i;

	for (i = 0; i < h->nfields; i++) {
		f = &h->fields[i];
		if (f->namelen > 0 && f->name[0] == ':')
			continue;               /* h2 pseudo-header */
		if (headers_is_hop_by_hop(h->fields, h->nfields, f) ||
		    is_replaced(p, f))
			continue;
		if (h->version == 20 && is_kind(f, HF_COOKIE)) {
			if (!has_cookie)
				put_cookie(w, h);
			has_cookie = true;
			continue;
		}
		put_field(w, f);
	}
}

static void
emit_request(struct wr *w, const void *arg)
{
	const struct req_plan *p = arg;
	const struct req_head *h = p->h;

	put(w, h->method, h->methodlen);
	put(w, " ", 1);
	if (p->path_needs_slash)
		put(w, "/", 1);
	put(w, p->path, p->pathlen);
	put_str(w, " HTTP/1.1\r\nHost: ");
	put(w, p->host, p->hostlen);
	put(w, "\r\n", 2);
	put_request_fields(w, p);
	if (p->fwd != NULL)
		put_forwarding(w, p);
	put_framing(w, p->framing, p->length);
	if (p->upgrade)
		put_str(w, "Connection: upgrade\r\nUpgrade: websocket\r\n");
	put(w, "\r\n", 2);
}

/* RFC 3986 §3.2.2-3.2.3: reg-name, IP-literal and port characters only,
 * so no userinfo, no path and nothing that could end the field. */
static bool
is_authority(const char *s, size_t len)
{
	size_t i;
	unsigned char c;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (!is_alnum(c) && c != '.' && c != ':' && c != '-' &&
		    (c == '\0' || strchr("_~!$&'()*+,;=[]%", c) == NULL))
			return false;
	}
	return true;
}

/* RFC 3986 §3.1 scheme, then "://"; the length up to the authority, or 0. */
static size_t
scheme_len(const char *s, size_t len)
{
	size_t i;
	unsigned char c;

	if (len == 0 || !is_alpha((unsigned char)s[0]))
		return 0;
	for (i = 1; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == ':')
			break;
		if (!is_alnum(c) && c != '+' && c != '-' && c != '.')
			return 0;
	}
	if (len - i < 3 || memcmp(s + i, "://", 3) != 0)
		return 0;
	return i + 3;
}

/* RFC 9112 §3.2: picks the target to write and, for absolute-form, the
 * authority that overrides Host. */
static int
plan_target(struct req_plan *p, const char **why)
{
	const struct req_head *h = p->h;
	const char *t = h->target;
	size_t len = h->targetlen, skip, alen;

	*why = "bad request target";
	if (len == 0 || !is_field_text(t, len) || memchr(t, ' ', len) != NULL ||
	    memchr(t, '\t', len) != NULL)
		return -1;
	p->path = t;
	p->pathlen = len;
	if (t[0] == '/')
		return 0;
	if (len == 1 && t[0] == '*')    /* RFC 9112 §3.2.4 */
		return h->methodlen == 7 &&
		    memcmp(h->method, "OPTIONS", 7) == 0 ? 0 : -1;
	if ((skip = scheme_len(t, len)) == 0)
		return -1;
	for (alen = 0; skip + alen < len; alen++)
		if (strchr("/?#", t[skip + alen]) != NULL)
			break;
	if (!is_authority(t + skip, alen))
		return -1;
	p->host = t + skip;
	p->hostlen = alen;
	p->path = t + skip + alen;
	p->pathlen = len - skip - alen;
	p->path_needs_slash = p->pathlen == 0 || p->path[0] != '/';
	return 0;
}

/* The target route.c normalised, when the exchange set one, is what the
 * backend gets, so that it is exactly what the route was picked by. */
static int
plan_fwd_target(struct req_plan *p, const char **why)
{
	const struct req_head *h = p->h;

	if (plan_target(p, why) == -1)
		return -1;
	if (h->fwd_target == NULL)
		return 0;
	p->path = h->fwd_target;
	p->pathlen = h->fwd_targetlen;
	p->path_needs_slash = false;
	return 0;
}

/* RFC 9112 §3.2.2 and §3.2: the absolute-form authority, else the
 * :authority or Host the frontend set, else the one Host field. */
static int
plan_host(struct req_plan *p, const char **why)
{
	const struct req_head *h = p->h;
	const struct hfield *f = NULL;
	size_t i, len;

	if (p->host != NULL)
		return 0;
	if (h->authority != NULL) {
		p->host = h->authority;
		p->hostlen = h->authoritylen;
	} else {
		for (i = 0; i < h->nfields; i++) {
			if (!is_kind(&h->fields[i], HF_HOST))
				continue;
			*why = "multiple host fields";
			if (f != NULL)
				return -1;
			f = &h->fields[i];
		}
		*why = "missing host";
		if (f == NULL)
			return -1;
		len = f->valuelen;
		p->host = trim_ows(f->value, &len);
		p->hostlen = len;
	}
	*why = "invalid host";
	return is_authority(p->host, p->hostlen) ? 0 : -1;
}

/* Every check a request can fail, before a byte is written. */
static int
plan_request(struct req_plan *p, const char **why)
{
	const struct req_head *h = p->h;
	const struct hfield *f;
	size_t i;

	*why = "bad method";
	if (!is_token(h->method, h->methodlen))
		return -1;
	if (plan_fwd_target(p, why) == -1 || plan_host(p, why) == -1)
		return -1;
	for (i = 0; i < h->nfields; i++) {
		f = &h->fields[i];
		if (f->namelen > 0 && f->name[0] == ':')
			continue;
		if (headers_check_field(f, why) == -1)
			return -1;
	}
	return 0;
}

int
headers_check_request(const struct req_head *h, const char **why)
{
	struct req_plan p;

	memset(&p, 0, sizeof(p));
	p.h = h;
	return plan_request(&p, why);
}

int
headers_write_request(struct evbuffer *out, const struct req_head *h,
    const struct fwd_info *fwd, const struct conf *cf,
    enum headers_framing framing, uint64_t length, bool upgrade,
    const char **why)
{
	struct req_plan p;

	memset(&p, 0, sizeof(p));
	p.h = h;
	p.fwd = cf != NULL ? fwd : NULL;
	p.cf = cf;
	p.framing = framing;
	p.length = length;
	p.upgrade = upgrade;
	if (plan_request(&p, why) == -1)
		return -1;
	*why = "out of memory";
	return emit_into(out, emit_request, &p);
}
