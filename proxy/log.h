/* proxy/log.h: the error log (levels, one write per line) and the
 * per-worker buffered access log. */
#ifndef PORTICO_LOG_H
#define PORTICO_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

struct conf;
struct event_base;

extern int log_level;                   /* lines above this are dropped */

/* Opens the error log CF names (stderr when CF is NULL); 0 or -1, *why. */
int log_open(const struct conf *cf, const char **why);
void log_close(void);
/* SIGUSR1: reopen the error log file (after logrotate); 0 or -1. */
int log_reopen(const char **why);

void log_write(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_write_errno(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Check the level first, so a dropped line costs no formatting. */
#define log_msg(lvl, ...) do {                                        \
	if ((lvl) <= log_level)                                       \
		log_write((lvl), __VA_ARGS__);                        \
} while (0)
#define log_errno(lvl, ...) do {                                      \
	if ((lvl) <= log_level)                                       \
		log_write_errno((lvl), __VA_ARGS__);                  \
} while (0)
/* A line about one client connection, CL its struct client (client.h):
 * "[w0 c12 127.0.0.1:5555] ...". */
#define log_conn(lvl, cl, fmt, ...) do {                              \
	if ((lvl) <= log_level)                                       \
		log_write((lvl), "[%s] " fmt, (cl)->tag, ##__VA_ARGS__); \
} while (0)

/* One finished request, as the access log records it. */
struct access_entry {
	const char *client;             /* client address */
	const char *method, *target, *protocol;
	uint32_t methodlen, targetlen;
	const char *host, *referer, *user_agent;        /* may be NULL */
	uint32_t hostlen, refererlen, user_agentlen;
	int status;                     /* 0: no response was sent */
	uint64_t bytes_sent;            /* body bytes to the client */
	uint64_t bytes_received;        /* body bytes from the client */
	int64_t start_us;               /* wall clock, microseconds */
	int64_t duration_us;
	const char *upstream;           /* server address or NULL */
	int64_t upstream_us;            /* -1: no upstream */
	const char *note;               /* why it failed, or NULL */
	const char *tls_version;        /* "TLSv1.3", or NULL: cleartext */
};

struct access_log;

/* A worker's access log for CF's access_log setting; NULL when off. */
struct access_log *access_log_new(struct event_base *base,
    const struct conf *cf, const char **why);
void access_log_free(struct access_log *al);    /* flushes; NULL ok */
/* Flushes, then reopens the file by its path (logrotate). */
void access_log_reopen(struct access_log *al);
/* Formats E into the buffer; flushed when large or once a second. */
void access_log_add(struct access_log *al, const struct access_entry *e);

#endif
