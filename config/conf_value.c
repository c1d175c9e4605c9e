/* config/conf_value.c: the values directives take: numbers, sizes,
 * durations and listen/server addresses (host:port, [v6]:port, unix:PATH).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include "conf_int.h"

/* Values */

static int
parse_digits(const char *s, uint64_t *v, const char **rest)
{
	uint64_t n = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (n > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	*v = n;
	*rest = s;
	return 0;
}

int
parse_number(const char *s, uint64_t *v)
{
	const char *rest;

	if (parse_digits(s, v, &rest) == -1 || *rest != '\0')
		return -1;
	return 0;
}

int
parse_size(const char *s, uint64_t *v)
{
	const char *rest;
	uint64_t mult;

	if (parse_digits(s, v, &rest) == -1)
		return -1;
	if (strcmp(rest, "") == 0)
		mult = 1;
	else if (strcmp(rest, "k") == 0 || strcmp(rest, "K") == 0)
		mult = KIB;
	else if (strcmp(rest, "m") == 0 || strcmp(rest, "M") == 0)
		mult = MIB;
	else if (strcmp(rest, "g") == 0 || strcmp(rest, "G") == 0)
		mult = 1024 * MIB;
	else
		return -1;
	if (*v > UINT64_MAX / mult)
		return -1;
	*v *= mult;
	return 0;
}

/* Milliseconds; a plain number is seconds. */
int
parse_duration(const char *s, unsigned *ms)
{
	const char *rest;
	uint64_t v, mult;

	if (parse_digits(s, &v, &rest) == -1)
		return -1;
	if (strcmp(rest, "ms") == 0)
		mult = 1;
	else if (strcmp(rest, "") == 0 || strcmp(rest, "s") == 0)
		mult = 1000;
	else if (strcmp(rest, "m") == 0)
		mult = 60 * 1000;
	else if (strcmp(rest, "h") == 0)
		mult = 3600 * 1000;
	else
		return -1;
	if (v > UINT_MAX / mult)
		return -1;
	*ms = (unsigned)(v * mult);
	return 0;
}

/* "1m", "16k" or "300", for messages. */
const char *
fmt_size(char *buf, size_t size, uint64_t v)
{
	if (v != 0 && v % MIB == 0)
		snprintf(buf, size, "%llum", (unsigned long long)(v / MIB));
	else if (v != 0 && v % KIB == 0)
		snprintf(buf, size, "%lluk", (unsigned long long)(v / KIB));
	else
		snprintf(buf, size, "%llu", (unsigned long long)v);
	return buf;
}

/* Address ranges (trusted_proxies) */

int
conf_cidr_parse(struct conf_cidr *c, const char *s, const char **why)
{
	char host[64];
	const char *slash = strchr(s, '/');
	size_t len = slash != NULL ? (size_t)(slash - s) : strlen(s), i;
	uint64_t bits;
	unsigned max;

	memset(c, 0, sizeof(*c));
	*why = "not an IPv4 or IPv6 address or range";
	if (len == 0 || len >= sizeof(host))
		return -1;
	memcpy(host, s, len);
	host[len] = '\0';
	if (inet_pton(AF_INET, host, c->addr) == 1)
		c->family = AF_INET;
	else if (inet_pton(AF_INET6, host, c->addr) == 1)
		c->family = AF_INET6;
	else
		return -1;
	max = c->family == AF_INET ? 32 : 128;
	bits = max;
	if (slash != NULL && (parse_number(slash + 1, &bits) == -1 ||
	    bits > max)) {
		*why = c->family == AF_INET ? "prefix length not 0 to 32" :
		    "prefix length not 0 to 128";
		return -1;
	}
	c->bits = (unsigned)bits;
	for (i = 0; i < max / 8; i++) {
		unsigned keep = c->bits >= (i + 1) * 8 ? 8 : c->bits > i * 8 ?
		    c->bits - (unsigned)i * 8 : 0;
		unsigned char mask = (unsigned char)(0xff00 >> keep);

		if (c->addr[i] & ~mask) {
			*why = "address has bits set past its prefix length";
			return -1;
		}
	}
	return 0;
}

static bool
cidr_has(const struct conf_cidr *c, const unsigned char *ip)
{
	unsigned full = c->bits / 8, rest = c->bits % 8;

	if (memcmp(c->addr, ip, full) != 0)
		return false;
	return rest == 0 || ((c->addr[full] ^ ip[full]) &
	    (unsigned char)(0xff00 >> rest)) == 0;
}

bool
conf_trusts(const struct conf *cf, int family, const unsigned char *ip)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0xff, 0xff };
	size_t i;

	if (!cf->has_trusted)
		return true;
	if (family == AF_UNIX)
		return cf->trusts_unix;
	if (family == AF_INET6 && memcmp(ip, mapped, 12) == 0) {
		family = AF_INET;
		ip += 12;
	}
	for (i = 0; i < cf->ntrusted; i++)
		if (cf->trusted[i].family == family &&
		    cidr_has(&cf->trusted[i], ip))
			return true;
	return false;
}

/* Addresses */

static int
parse_port(const char *s, in_port_t *port, const char **why)
{
	uint64_t v;

	*why = "missing port";
	if (*s == '\0')
		return -1;
	*why = "bad port";
	if (parse_number(s, &v) == -1 || v == 0 || v > 65535)
		return -1;
	*port = htons((in_port_t)v);
	return 0;
}

static int
parse_unix(struct conf_addr *a, const char *path, const char **why)
{
	struct sockaddr_un *sa = (struct sockaddr_un *)&a->ss;
	size_t len = strlen(path);

	*why = "empty unix path";
	if (len == 0)
		return -1;
	*why = "unix path too long";
	if (len >= sizeof(sa->sun_path))
		return -1;
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, len + 1);
	a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	return 0;
}

static int
parse_inet6(struct conf_addr *a, const char *s, const char **why)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->ss;
	const char *close = strchr(s, ']');
	char host[INET6_ADDRSTRLEN];

	*why = "bad IPv6 address";
	if (close == NULL || (size_t)(close - s - 1) >= sizeof(host))
		return -1;
	memcpy(host, s + 1, (size_t)(close - s - 1));
	host[close - s - 1] = '\0';
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
		return -1;
	*why = "missing port";
	if (close[1] != ':')
		return -1;
	if (parse_port(close + 2, &sin6->sin6_port, why) == -1)
		return -1;
	sin6->sin6_family = AF_INET6;
	a->len = sizeof(*sin6);
	return 0;
}

/* "1.2.3.4:80"; ":80" and "*:80" mean every IPv4 address. */
static int
parse_inet(struct conf_addr *a, const char *s, const char **why)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&a->ss;
	const char *colon = strrchr(s, ':');
	char host[INET_ADDRSTRLEN];
	size_t len;

	*why = "missing port";
	if (colon == NULL)
		return -1;
	*why = "bad IPv4 address";
	if ((len = (size_t)(colon - s)) >= sizeof(host))
		return -1;
	memcpy(host, s, len);
	host[len] = '\0';
	if (strcmp(host, "") == 0 || strcmp(host, "*") == 0)
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return -1;
	if (parse_port(colon + 1, &sin->sin_port, why) == -1)
		return -1;
	sin->sin_family = AF_INET;
	a->len = sizeof(*sin);
	return 0;
}

int
conf_addr_parse(struct conf_addr *a, const char *s, const char **why)
{
	memset(a, 0, sizeof(*a));
	*why = "address too long";
	if (strlen(s) >= sizeof(a->text))
		return -1;
	memcpy(a->text, s, strlen(s) + 1);
	if (strncmp(s, "unix:", 5) == 0)
		return parse_unix(a, s + 5, why);
	if (s[0] == '[')
		return parse_inet6(a, s, why);
	return parse_inet(a, s, why);
}

int
addr_arg(struct parser *p, struct stmt *st, struct conf_addr *a,
    const char *s)
{
	const char *why;

	if (conf_addr_parse(a, s, &why) == -1)
		return fail(p, st, "invalid address \"%s\": %s", s, why);
	return 0;
}

