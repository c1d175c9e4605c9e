/* proxy/routing.h: which of the conf's routes a request takes. The conf
 * keeps its routes sorted (conf.c, at load: exact hosts, then wildcards
 * longest first, then "*"; within one host, longest path first), so the
 * first route that matches is the best. Per request: no allocation. */
#ifndef PORTICO_ROUTING_H
#define PORTICO_ROUTING_H

#include <stddef.h>

struct conf;
struct conf_route;
struct route_target;

/* The route for HOST (as the route names it: no port, any case, one
 * trailing dot ignored, an IPv6 literal with its brackets) and PATH, by
 * host then longest path prefix. NULL when none matches. */
const struct conf_route *routing_match(const struct conf *cf,
    const char *host, size_t hostlen, const char *path, size_t pathlen);

/* The route for RT, route_parse's target: an IPv6 literal's brackets are
 * put back and "*" (OPTIONS *) is matched as "/". NULL when none. */
const struct conf_route *routing_find(const struct conf *cf,
    const struct route_target *rt);

#endif
