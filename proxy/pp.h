/* proxy/pp.h: the PROXY protocol header (HAProxy's proxy-protocol.txt,
 * versions 1 and 2) that a balancer in front sends first on each
 * connection of a "listen ... proxy_protocol" listener, with the
 * client's address. */
#ifndef PORTICO_PP_H
#define PORTICO_PP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* The largest header taken: v1's 107 bytes, or v2's 16 and an address
 * block with TLVs of up to PP_MAX - 16 bytes (HAProxy sends far less). */
#define PP_MAX          (16 + 2048)

enum { PP_BAD = -1, PP_MORE = 0, PP_DONE = 1 };

/* The source the header names. AF_UNSPEC: none (v1 UNKNOWN, v2 LOCAL or
 * an unspecified or unix family): the connection's own address stands. */
struct pp_addr {
	int family;                     /* AF_INET, AF_INET6 or AF_UNSPEC */
	unsigned char ip[16];           /* network order */
	uint16_t port;                  /* host order */
};

/* The header at the start of BUF (LEN bytes). PP_DONE: it is the first
 * *USED bytes, and *A its source. PP_MORE: a valid beginning, LEN bytes
 * short of the end (never more than PP_MAX in all). PP_BAD: not a
 * header, or a malformed one: *WHY says how. */
int pp_parse(const unsigned char *buf, size_t len, struct pp_addr *a,
    size_t *used, const char **why);

/* What has come of a header so far (a connection holds one while it
 * waits for its header, and frees it then). */
struct pp_reader {
	size_t len;
	unsigned char buf[PP_MAX];
};

/* Reads the header from FD (non-blocking) into RD without taking a byte
 * past it: it peeks, and takes what it saw only when all of it is the
 * header's (so a partial header leaves nothing unread for the poller to
 * report again and again). As pp_parse; PP_MORE: again once FD is
 * readable. */
int pp_read(int fd, struct pp_reader *rd, struct pp_addr *a,
    const char **why);

/* A's source as a socket address (A's family must not be AF_UNSPEC). */
void pp_sockaddr(const struct pp_addr *a, struct sockaddr_storage *ss);

#endif
