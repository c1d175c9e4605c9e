/* proxy/routing.c: a request's route, from route_parse's target and the
 * conf's sorted routes.
 *
 * It sits between config/ (whose routes it reads, in the order conf.c
 * sorted them at load) and the exchange (which asks it once per
 * request), beside route.c, whose target it takes: the bracket and "*"
 * rules below are about how route.c leaves the host and path.
 */
#include <stdbool.h>
#include <string.h>

#include "conf.h"
#include "route.h"
#include "routing.h"

static bool
host_eq(const char *a, const char *lower, size_t len)
{
	size_t i;
	char c;

	for (i = 0; i < len; i++) {
		c = a[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != lower[i])
			return false;
	}
	return true;
}

static bool
host_match(const char *pat, const char *host, size_t hostlen)
{
	size_t plen;

	if (pat[0] == '*' && pat[1] == '\0')
		return true;
	plen = strlen(pat);
	if (pat[0] == '*')      /* "*.x": ".x" ends HOST, with more before */
		return hostlen > plen - 1 &&
		    host_eq(host + hostlen - (plen - 1), pat + 1, plen - 1);
	return hostlen == plen && host_eq(host, pat, plen);
}

const struct conf_route *
routing_match(const struct conf *cf, const char *host, size_t hostlen,
    const char *path, size_t pathlen)
{
	const struct conf_route *r;
	size_t i, plen;

	if (hostlen > 0 && host[hostlen - 1] == '.')
		hostlen--;
	for (i = 0; i < cf->nroutes; i++) {
		r = &cf->routes[i];
		if (!host_match(r->host, host, hostlen))
			continue;
		plen = strlen(r->path);
		if (plen <= pathlen && memcmp(r->path, path, plen) == 0)
			return r;
	}
	return NULL;
}

/* A route keeps an IPv6 literal's brackets (conf_directives.c,
 * route_host_ok), and route_parse leaves them around RT->host: they are
 * put back for the match. */
const struct conf_route *
routing_find(const struct conf *cf, const struct route_target *rt)
{
	const char *host = rt->host, *path = rt->target;
	size_t hostlen = rt->hostlen, pathlen = rt->pathlen;

	if (rt->is_ip6) {
		host--;
		hostlen += 2;
	}
	if (path[0] == '*') {
		path = "/";
		pathlen = 1;
	}
	return routing_match(cf, host, hostlen, path, pathlen);
}
