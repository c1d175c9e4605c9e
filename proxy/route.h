/* proxy/route.h: the one parse of a request's target and authority. What
 * it yields is both what routing matches and what the backend receives,
 * so the two can never disagree. */
#ifndef PORTICO_ROUTE_H
#define PORTICO_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

struct arena;
struct req_head;

struct route_target {
	const char *host;               /* for matching: no port, no [ ] */
	uint32_t hostlen;
	bool is_ip6;                    /* host was an IPv6 literal */
	/* The origin-form target to forward: the normalised path, then the
	 * query as received ("*" for OPTIONS *). In the arena. */
	const char *target;
	uint32_t targetlen;
	uint32_t pathlen;               /* of TARGET, without the query */
};

/* Parses H's target (origin-form, absolute-form "http[s]://authority/...",
 * or "*" for OPTIONS; HTTP/2's :path is origin-form or "*") and the
 * authority that applies (an absolute-form target's, else H->authority).
 * The path is normalised: "%XX" of unreserved characters decoded (so
 * "%2e" is a dot), empty segments merged, dot-segments removed (RFC 3986
 * §5.2.4, §6.2.2). Refused: a path that climbs above "/", "%2F", "%5C",
 * "%00", "\", a "." or ".." segment with ";" parameters, bad "%",
 * controls, spaces and "#" anywhere, an authority with userinfo, an
 * empty host, an empty, non-numeric or too large port. 0; -1 with *why
 * when refused (the client gets a 400); -2 when out of memory (500). */
int route_parse(const struct req_head *h, struct arena *a,
    struct route_target *rt, const char **why);

#endif
