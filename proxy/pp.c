/* proxy/pp.c: the PROXY protocol header, versions 1 and 2; see pp.h.
 *
 * Every length is checked before the bytes it covers are read: v1 is one
 * line of at most 107 bytes, v2 a 16-byte prefix whose length field is
 * capped at PP_MAX. Nothing is taken on trust from a header that is not
 * whole: a short one is PP_MORE, a wrong byte PP_BAD at once. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "pp.h"

#define V1_MAX          107             /* the spec's longest v1 line */
#define V2_HEAD         16

static const unsigned char v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
};
static const char v1_sig[] = "PROXY ";

/* A 1-5 digit port, no sign, no leading zero but "0". */
static int
v1_port(const char *s, size_t len, uint16_t *port)
{
	unsigned v = 0;
	size_t i;

	if (len == 0 || len > 5 || (len > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* The next space-ended word of LINE at *POS into OUT (CAP with NUL). */
static int
v1_word(const char *line, size_t len, size_t *pos, char *out, size_t cap)
{
	size_t start = *pos, n;

	while (*pos < len && line[*pos] != ' ')
		(*pos)++;
	n = *pos - start;
	if (n == 0 || n >= cap)
		return -1;
	memcpy(out, line + start, n);
	out[n] = '\0';
	if (*pos < len)
		(*pos)++;               /* the one space */
	return 0;
}

/* "PROXY TCP4|TCP6 SRC DST SPORT DPORT" or "PROXY UNKNOWN[ ...]": LINE
 * without its CRLF. */
static int
v1_line(const char *line, size_t len, struct pp_addr *a, const char **why)
{
	char proto[8], src[46], dst[46], sport[6], dport[6];
	unsigned char ip[16];
	size_t pos = sizeof(v1_sig) - 1;
	uint16_t dp;

	*why = "malformed PROXY v1 line";
	if (v1_word(line, len, &pos, proto, sizeof(proto)) == -1)
		return PP_BAD;
	if (strcmp(proto, "UNKNOWN") == 0) {
		a->family = AF_UNSPEC;
		return PP_DONE;
	}
	if (strcmp(proto, "TCP4") == 0)
		a->family = AF_INET;
	else if (strcmp(proto, "TCP6") == 0)
		a->family = AF_INET6;
	else
		return PP_BAD;
	if (v1_word(line, len, &pos, src, sizeof(src)) == -1 ||
	    v1_word(line, len, &pos, dst, sizeof(dst)) == -1 ||
	    v1_word(line, len, &pos, sport, sizeof(sport)) == -1 ||
	    v1_word(line, len, &pos, dport, sizeof(dport)) == -1 ||
	    pos != len || line[len - 1] == ' ')
		return PP_BAD;
	if (inet_pton(a->family, src, a->ip) != 1 ||
	    inet_pton(a->family, dst, ip) != 1) {
		*why = "bad address in PROXY v1 line";
		return PP_BAD;
	}
	if (v1_port(sport, strlen(sport), &a->port) == -1 ||
	    v1_port(dport, strlen(dport), &dp) == -1) {
		*why = "bad port in PROXY v1 line";
		return PP_BAD;
	}
	return PP_DONE;
}

static int
parse_v1(const unsigned char *buf, size_t len, struct pp_addr *a,
    size_t *used, const char **why)
{
	const unsigned char *lf;
	size_t n = len < V1_MAX ? len : V1_MAX;

	if ((lf = memchr(buf, '\n', n)) == NULL) {
		*why = "no end to the PROXY v1 line in 107 bytes";
		return len >= V1_MAX ? PP_BAD : PP_MORE;
	}
	*why = "PROXY v1 line not ended by CRLF";
	if (lf == buf || lf[-1] != '\r' ||
	    memchr(buf, '\r', (size_t)(lf - buf) - 1) != NULL)
		return PP_BAD;
	*used = (size_t)(lf - buf) + 1;
	return v1_line((const char *)buf, (size_t)(lf - buf) - 1, a, why);
}

/* The address block of a v2 PROXY command: FAM's addresses and ports. */
static int
v2_addresses(const unsigned char *p, size_t n, unsigned fam,
    struct pp_addr *a, const char **why)
{
	*why = "PROXY v2 address block too short for its family";
	switch (fam) {
	case 0x0:                       /* AF_UNSPEC */
		a->family = AF_UNSPEC;
		return PP_DONE;
	case 0x1:                       /* AF_INET: 4 + 4 + 2 + 2 */
		if (n < 12)
			return PP_BAD;
		a->family = AF_INET;
		memcpy(a->ip, p, 4);
		a->port = (uint16_t)(p[8] << 8 | p[9]);
		return PP_DONE;
	case 0x2:                       /* AF_INET6: 16 + 16 + 2 + 2 */
		if (n < 36)
			return PP_BAD;
		a->family = AF_INET6;
		memcpy(a->ip, p, 16);
		a->port = (uint16_t)(p[32] << 8 | p[33]);
		return PP_DONE;
	case 0x3:                       /* AF_UNIX: 108 + 108, no IP */
		if (n < 216)
			return PP_BAD;
		a->family = AF_UNSPEC;
		return PP_DONE;
	}
	*why = "unknown PROXY v2 address family";
	return PP_BAD;
}

static int
parse_v2(const unsigned char *buf, size_t len, struct pp_addr *a,
    size_t *used, const char **why)
{
	size_t n;
	unsigned cmd, fam, proto;

	if (len < V2_HEAD)
		return PP_MORE;
	*why = "not PROXY protocol version 2";
	if (buf[12] >> 4 != 2)
		return PP_BAD;
	cmd = buf[12] & 0xf;
	fam = buf[13] >> 4;
	proto = buf[13] & 0xf;
	n = (size_t)buf[14] << 8 | buf[15];
	*why = "PROXY v2 header longer than portico takes";
	if (V2_HEAD + n > PP_MAX)
		return PP_BAD;
	if (len < V2_HEAD + n)
		return PP_MORE;
	*used = V2_HEAD + n;
	if (cmd == 0x0) {               /* LOCAL: the balancer's own check */
		a->family = AF_UNSPEC;
		return PP_DONE;
	}
	*why = "unknown PROXY v2 command";
	if (cmd != 0x1)
		return PP_BAD;
	*why = "PROXY v2 transport is not a stream";
	if (fam != 0x0 && proto != 0x1)
		return PP_BAD;
	return v2_addresses(buf + V2_HEAD, n, fam, a, why);
}

int
pp_parse(const unsigned char *buf, size_t len, struct pp_addr *a,
    size_t *used, const char **why)
{
	size_t n;

	memset(a, 0, sizeof(*a));
	*used = 0;
	*why = "no PROXY protocol header";
	if (len == 0)
		return PP_MORE;
	if (buf[0] == v2_sig[0]) {
		n = len < sizeof(v2_sig) ? len : sizeof(v2_sig);
		if (memcmp(buf, v2_sig, n) != 0)
			return PP_BAD;
		return parse_v2(buf, len, a, used, why);
	}
	n = len < sizeof(v1_sig) - 1 ? len : sizeof(v1_sig) - 1;
	if (memcmp(buf, v1_sig, n) != 0)
		return PP_BAD;
	if (len < sizeof(v1_sig) - 1)
		return PP_MORE;
	return parse_v1(buf, len, a, used, why);
}

int
pp_read(int fd, struct pp_reader *rd, struct pp_addr *a, const char **why)
{
	size_t used;
	ssize_t n;
	int r;

	n = recv(fd, rd->buf + rd->len, sizeof(rd->buf) - rd->len, MSG_PEEK);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return PP_MORE;
	if (n <= 0) {
		*why = n == 0 ? "closed before its PROXY protocol header" :
		    strerror(errno);
		return PP_BAD;
	}
	r = pp_parse(rd->buf, rd->len + (size_t)n, a, &used, why);
	if (r == PP_BAD)
		return PP_BAD;
	/* PP_MORE: every byte seen belongs to the header; PP_DONE: the
	 * header's last USED - LEN bytes; the peek left them in place */
	n = r == PP_DONE ? (ssize_t)(used - rd->len) : n;
	if (recv(fd, rd->buf + rd->len, (size_t)n, 0) != n) {
		*why = "PROXY protocol header lost while read";
		return PP_BAD;
	}
	rd->len += (size_t)n;
	return r;
}

void
pp_sockaddr(const struct pp_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(a->port);
		memcpy(&in->sin_addr, a->ip, 4);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(a->port);
		memcpy(&in6->sin6_addr, a->ip, 16);
	}
}
