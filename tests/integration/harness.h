/* tests/integration/harness.h: the processes around a test: test origins,
 * a portico under test, fake backends, commands, files. Every wait is
 * bounded; servers listen on 127.0.0.1 or unix sockets only. */
#ifndef PORTICO_TEST_HARNESS_H
#define PORTICO_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <check.h>

#define NELEMS(a)       (sizeof(a) / sizeof((a)[0]))
#define HARNESS_ORIGINS 3       /* origins started per TCase */
#define HARNESS_PATH    256
#define HARNESS_DIR     128     /* a directory: room for names under it */

struct origin {
	pid_t pid;
	int port;                       /* its 127.0.0.1 listener */
	char tcp[64];                   /* "127.0.0.1:PORT" */
	char unix_addr[HARNESS_PATH];   /* "unix:/tmp/.../oN.sock" */
	char record_dir[HARNESS_PATH];  /* origin -r: N.in per connection */
};

/* What an origin counted; the reader's own connection is included. */
struct stats {
	long conns;                     /* connections accepted so far */
	long reqs;                      /* requests other than /stats */
};

struct proxy {
	pid_t pid;
	int port;                       /* portico listens on 127.0.0.1:port */
	const char *access_format;      /* set before start; NULL: "json" */
	unsigned workers;               /* set before start; 0: 2 */
	char dir[HARNESS_DIR];          /* config, logs and stderr live here */
	char conf[HARNESS_PATH];
	char access_log[HARNESS_PATH];
	char error_log[HARNESS_PATH];
	char stderr_path[HARNESS_PATH];
	int tls_port;                   /* proxy_start_tls: its TLS listener */
};

extern struct origin origins[HARNESS_ORIGINS];
extern char harness_dir[HARNESS_DIR / 2];  /* per TCase; removed at teardown */

/* Unchecked fixtures: a temp dir and HARNESS_ORIGINS running origins.
 * Teardown is idempotent; setup first undoes a setup that failed. */
void harness_setup(void);
void harness_teardown(void);
bool harness_is_asan(void);             /* PORTICO_ASAN=1 in the env */
/* A fresh directory under harness_dir, unique per test process. */
void harness_mkdir(char *out, size_t cap, const char *what);

/* Unchecked fixture after harness_setup: test certificates made with the
 * openssl CLI in harness_dir: "a" (RSA, DNS a.test and *.a.test), "b"
 * (ECDSA P-256, DNS b.test), "aec" (ECDSA P-256, the names of "a"), and
 * "other.key", an RSA key that matches none: NAME.pem and NAME.key. */
void harness_certs(void);
/* A TCase NAME with the fixtures above (origins, then certificates), its
 * tests SECONDS at most each. */
TCase *harness_tcase(const char *name, int seconds);
/* harness_dir/NAME, e.g. harness_file(buf, sizeof(buf), "a.pem"). */
void harness_file(char *out, size_t cap, const char *name);
/* "tls {\n certificate a.pem a.key\n certificate b.pem b.key\n" with
 * full paths, then EXTRA's lines, then "}\n"; static storage. */
const char *harness_tls_block(const char *extra);

/* Reads /stats over a connection of its own (counted in the next call). */
struct stats origin_stats(const struct origin *o);

/* Writes a config (workers: p->workers or 2, listen, access and error
 * log) followed by FMT's text (backends, routes, limits), starts portico
 * on it and waits until it accepts. Asserts on failure, printing
 * portico's stderr. */
void proxy_start(struct proxy *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Same, with a second listener, 127.0.0.1:p->tls_port tls, written
 * before FMT's text (which holds the tls block: see harness_tls_block). */
void proxy_start_tls(struct proxy *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Clears P, then proxy_start_tls: harness_tls_block(TLS_EXTRA), one
 * backend "o" (origin 0) for every route, then EXTRA's text. */
void proxy_start_origin0(struct proxy *p, const char *tls_extra,
    const char *extra);
/* SIGTERM, waits (bounded, then SIGKILL) and asserts exit status 0,
 * which under ASan also means no leak report. */
void proxy_stop(struct proxy *p);

/* A forked server on 127.0.0.1 that, per connection, reads a request
 * head, writes REPLY (may be NULL: nothing) and closes. Returns its port;
 * fake_stop() kills it. */
int fake_start(const char *reply, pid_t *pid);
void fake_stop(pid_t pid);
/* A 127.0.0.1 listener whose accept queue is full, so that connecting to
 * it hangs; returns its port, *fds holds the sockets to close. */
int listen_full(int fds[8]);

/* Runs ARGV (NULL-terminated), stdout into OUT (NUL-terminated, may be
 * NULL), stderr into ERR; kills it after timeout_ms. Exit status, 128+sig,
 * or -1 on timeout. */
int run_argv(char *const argv[], char *out, size_t cap, char *err,
    size_t errcap, int timeout_ms);
/* curl -s --max-time 60 ARGS... (NULL-terminated); its exit status. */
int curl(char *out, size_t cap, ...) __attribute__((sentinel));
/* Runs ARGV in the background, stdout to /dev/null; reap with run_wait. */
pid_t run_spawn(char *const argv[]);
int run_wait(pid_t pid, int timeout_ms);        /* as run_argv */
/* /bin/sh -c CMD, as run_argv (for pipes). */
int run_sh(const char *cmd, char *out, size_t cap, char *err, size_t errcap,
    int timeout_ms);
/* Runs ARGV in the background, stdout and stderr into the files OUT and
 * ERR; reap with run_wait or run_wait_rss. */
pid_t run_spawn_io(char *const argv[], const char *out, const char *err);
/* As run_wait, sampling the VmRSS of WATCH (if above 0) every 100 ms
 * meanwhile; the largest sample in kB goes into *MAX_KB (-1 if none). */
int run_wait_rss(pid_t pid, int timeout_ms, pid_t watch, long *max_kb);
/* Runs ARGV to its end (TIMEOUT_MS at most; stdout and stderr in files
 * under DIR), sampling WATCH's VmRSS as run_wait_rss into *MAX_KB.
 * Asserts exit 0, printing both; returns its stdout (malloc'd). */
char *run_rss(char *const argv[], const char *dir, int timeout_ms,
    pid_t watch, long *max_kb);

char *file_read(const char *path, size_t *len); /* malloc'd, NUL-ended */
void file_write(const char *path, const void *p, size_t n);
/* Waits until PATH contains NEEDLE (error logs are written line by line). */
bool file_wait_for(const char *path, const char *needle, int timeout_ms);
void pattern_file(const char *path, uint64_t n);    /* /bytes/N content */
void pattern_fill(char *p, uint64_t off, size_t n); /* byte i: 'a'+i%26 */

void sha256_hex(const void *p, size_t n, char hex[65]);
void sha256_file(const char *path, char hex[65]);
void sha256_pattern(uint64_t n, char hex[65]);

long proc_rss_kb(pid_t pid);    /* VmRSS, -1 if gone */
int free_port(void);            /* a 127.0.0.1 port nobody listens on */
int64_t now_ms(void);           /* monotonic */
void sleep_ms(int ms);

/* The bytes connection CONN (1-based, as /echo's "connection") of O
 * received, as received: malloc'd, NUL-ended (LEN without it); empty if
 * there was no such connection. */
char *origin_received(const struct origin *o, long conn, size_t *len);
/* Every connection's bytes, in connection order, but for the one this
 * call opens for /stats (an earlier call's /stats connection is in). */
char *origin_received_all(const struct origin *o, size_t *len);
/* The same for the connections after SINCE (the conns of an earlier
 * origin_stats), with every /stats connection left out. */
char *origin_received_since(const struct origin *o, long since,
    size_t *len);

/* The number value of KEY in O's /stats ("ws_sessions", "ws_open"),
 * read over a connection of its own; asserts it is there. */
long origin_stat(const struct origin *o, const char *key);
/* O's /ws-last, the last WebSocket upgrade it received as it received
 * it, into OUT (NUL-terminated); asserts a 200. Counts as a request. */
void origin_ws_last(const struct origin *o, char *out, size_t cap);

/* ---- reloads, signals, environment (test_ops.c) ---- */

/* How proxy_start_how starts portico. */
struct proxy_how {
	bool is_tls;                    /* a TLS listener, as proxy_start_tls */
	/* The user line: NULL writes "user root" when run as root (as
	 * proxy_start does), "" writes none, else "user USER". */
	const char *user;
	char *const *env;               /* "NAME=value"..., NULL-ended, added
					 * to portico's environment; or NULL */
	/* Under systemd-socket-activate -l 127.0.0.1:port, which binds the
	 * port and passes it to portico in LISTEN_FDS. */
	bool is_activated;
};

/* As proxy_start (or proxy_start_tls), started as HOW says. The config
 * holds a marker after its first lines, so that proxy_rewrite can keep
 * them. */
void proxy_start_how(struct proxy *p, const struct proxy_how *how,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Rewrites P's config: its first lines as written at start (user,
 * workers, listeners, logs), then FMT's text. Started by proxy_start_how
 * only. */
void proxy_rewrite(struct proxy *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The line number in P's config of the first line holding NEEDLE;
 * asserts there is one. */
int proxy_conf_line(const struct proxy *p, const char *needle);
/* SIGHUP, then waits (bounded) for one more "reloaded" line in the
 * error log if IS_OK, else one more "reload failed" line; asserts that
 * it came and that portico is still running. */
void proxy_reload(struct proxy *p, bool is_ok);
/* True while P's process has not exited (it is not reaped). */
bool proxy_is_running(const struct proxy *p);
/* How many times NEEDLE occurs in the file PATH (0 if there is none). */
int file_count(const char *path, const char *needle);
/* Waits until PATH contains NEEDLE at least N times. */
bool file_wait_count(const char *path, const char *needle, int n,
    int timeout_ms);

#endif
