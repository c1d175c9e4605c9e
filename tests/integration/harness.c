/*
 * tests/integration/harness.c: processes and files for the integration
 * suites.
 *
 * Check forks every test. The origins start once per TCase in the runner
 * (an unchecked fixture), so every test of the TCase sees them; portico
 * starts inside each test, so that the test is its parent and can assert
 * its exit status, and so that each test has its own config. Everything
 * a test forks is in its process group, which Check kills when the test
 * ends; PR_SET_PDEATHSIG covers a runner that dies.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <openssl/evp.h>

#include "client.h"
#include "harness.h"

#define START_WAIT_MS   10000   /* origin or portico ready (ASan is slow) */
#define STOP_WAIT_MS    20000   /* exit after SIGTERM (ASan leak check) */
#define PIECE           65520   /* a multiple of 26: pattern restarts */

struct origin origins[HARNESS_ORIGINS];
char harness_dir[HARNESS_DIR / 2];
static int n_made;              /* harness_mkdir, per process */

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

bool
harness_is_asan(void)
{
	const char *v = getenv("PORTICO_ASAN");

	return v != NULL && strcmp(v, "1") == 0;
}

static const char *
env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : dflt;
}

void
harness_mkdir(char *out, size_t cap, const char *what)
{
	snprintf(out, cap, "%s/%s-%d-%d", harness_dir, what, (int)getpid(),
	    n_made++);
	ck_assert_msg(mkdir(out, 0700) == 0, "mkdir %s: %s", out,
	    strerror(errno));
}

/* ---- processes ---- */

/* Forks ARGV with ENV's "NAME=value" strings (NULL: none) added to the
 * environment, stdout and stderr going to the files OUT and ERR. */
static pid_t
spawn_env(char *const argv[], char *const env[], const char *out,
    const char *err)
{
	pid_t pid = fork();
	size_t i;
	int fd;

	ck_assert_msg(pid != -1, "fork: %s", strerror(errno));
	if (pid > 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	for (i = 0; env != NULL && env[i] != NULL; i++)
		putenv(env[i]);
	if ((fd = open("/dev/null", O_RDONLY)) != -1)
		dup2(fd, STDIN_FILENO);
	if ((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600)) != -1)
		dup2(fd, STDOUT_FILENO);
	if ((fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600)) != -1)
		dup2(fd, STDERR_FILENO);
	execv(argv[0], argv);
	fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static pid_t
spawn_io(char *const argv[], const char *out, const char *err)
{
	return spawn_env(argv, NULL, out, err);
}

static int
exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int
run_wait(pid_t pid, int timeout_ms)
{
	long kb;

	return run_wait_rss(pid, timeout_ms, 0, &kb);
}

pid_t
run_spawn(char *const argv[])
{
	return spawn_io(argv, "/dev/null", "/dev/null");
}

pid_t
run_spawn_io(char *const argv[], const char *out, const char *err)
{
	return spawn_io(argv, out, err);
}

int
run_wait_rss(pid_t pid, int timeout_ms, pid_t watch, long *max_kb)
{
	int64_t end = now_ms() + timeout_ms, next = 0;
	int status;
	long kb;
	pid_t r;

	*max_kb = -1;
	for (;;) {
		if (watch > 0 && now_ms() >= next) {
			next = now_ms() + 100;
			if ((kb = proc_rss_kb(watch)) > *max_kb)
				*max_kb = kb;
		}
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return exit_code(status);
		if (r == -1 && errno != EINTR)
			return -1;
		if (now_ms() >= end)
			break;
		sleep_ms(5);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

char *
run_rss(char *const argv[], const char *dir, int timeout_ms, pid_t watch,
    long *max_kb)
{
	char opath[HARNESS_PATH + 16], epath[HARNESS_PATH + 16], cmd[512];
	char *o, *e;
	size_t n = 0;
	int rc, i;

	snprintf(opath, sizeof(opath), "%s/tool.out", dir);
	snprintf(epath, sizeof(epath), "%s/tool.err", dir);
	rc = run_wait_rss(run_spawn_io(argv, opath, epath), timeout_ms, watch,
	    max_kb);
	o = file_read(opath, NULL);
	e = file_read(epath, NULL);
	cmd[0] = '\0';
	for (i = 0; argv[i] != NULL && n < sizeof(cmd); i++)
		n += snprintf(cmd + n, sizeof(cmd) - n, "%s%s", i ? " " : "",
		    argv[i]);
	ck_assert_msg(rc == 0, "%s: exit %d\n%s\n%s", cmd, rc,
	    o != NULL ? o : "", e != NULL ? e : "");
	free(e);
	return o != NULL ? o : strdup("");
}

/* Copies file PATH into OUT (cap bytes with the NUL), then removes it. */
static void
slurp(const char *path, char *out, size_t cap)
{
	size_t n = 0;
	char *s;

	s = file_read(path, &n);
	unlink(path);
	if (out == NULL || cap == 0) {
		free(s);
		return;
	}
	if (n >= cap)
		n = cap - 1;
	memcpy(out, s != NULL ? s : "", s != NULL ? n : 0);
	out[s != NULL ? n : 0] = '\0';
	free(s);
}

int
run_argv(char *const argv[], char *out, size_t cap, char *err,
    size_t errcap, int timeout_ms)
{
	char opath[HARNESS_PATH + 32], epath[HARNESS_PATH + 32];
	int rc;

	snprintf(opath, sizeof(opath), "%s/run-%d-%d.out", harness_dir,
	    (int)getpid(), n_made);
	snprintf(epath, sizeof(epath), "%s/run-%d-%d.err", harness_dir,
	    (int)getpid(), n_made++);
	rc = run_wait(spawn_io(argv, opath, epath), timeout_ms);
	slurp(opath, out, cap);
	slurp(epath, err, errcap);
	return rc;
}

int
run_sh(const char *cmd, char *out, size_t cap, char *err, size_t errcap,
    int timeout_ms)
{
	char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };

	return run_argv(argv, out, cap, err, errcap, timeout_ms);
}

int
curl(char *out, size_t cap, ...)
{
	char *argv[160] = { "/usr/bin/curl", "-s", "--max-time", "60" };
	size_t n = 4;
	va_list ap;
	char *a;

	va_start(ap, cap);
	while ((a = va_arg(ap, char *)) != NULL && n < NELEMS(argv) - 1)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	return run_argv(argv, out, cap, NULL, 0, 90000);
}

/* ---- origins ---- */

/* Shows a file on stderr; a portico stderr is then renamed so that
 * show_leftovers() does not show it again. */
static void
print_file(const char *what, const char *path)
{
	char shown[HARNESS_PATH + 8];
	char *s = file_read(path, NULL);

	fprintf(stderr, "---- %s (%s) ----\n%s\n----\n", what, path,
	    s != NULL ? s : "(missing)");
	free(s);
	snprintf(shown, sizeof(shown), "%s.shown", path);
	if (strstr(path, "/stderr") != NULL)
		rename(path, shown);
}

/* nftw: a portico stderr nobody showed. portico logs to its error log,
 * so bytes there (an ASan report, say) explain a test that failed while
 * portico was dying: Check ends a failed test with _exit(). */
static int
show_leftover(const char *path, const struct stat *st, int flag,
    struct FTW *f)
{
	(void)flag;
	if (strcmp(path + f->base, "stderr") == 0 && st->st_size > 0 &&
	    strstr(path, "/proxy-") != NULL)
		print_file("portico stderr left by a test", path);
	return 0;
}

static void
origin_start(struct origin *o, int i)
{
	char portfile[HARNESS_PATH + 16], errfile[HARNESS_PATH + 16];
	char *ports, *nl;
	char *argv[] = { (char *)env_or("ORIGIN", "./build/origin"),
	    "-l", "127.0.0.1:0", "-l", o->unix_addr, "-p", portfile, "-q",
	    "-r", o->record_dir, NULL };
	int64_t end = now_ms() + START_WAIT_MS;

	snprintf(o->unix_addr, sizeof(o->unix_addr), "unix:%s/o%d.sock",
	    harness_dir, i);
	snprintf(o->record_dir, sizeof(o->record_dir), "%s/o%d.rec",
	    harness_dir, i);
	ck_assert_msg(mkdir(o->record_dir, 0755) == 0, "mkdir %s",
	    o->record_dir);
	snprintf(portfile, sizeof(portfile), "%s/o%d.ports", harness_dir, i);
	snprintf(errfile, sizeof(errfile), "%s/o%d.err", harness_dir, i);
	o->pid = spawn_io(argv, "/dev/null", errfile);
	while ((ports = file_read(portfile, NULL)) == NULL) {
		if (waitpid(o->pid, NULL, WNOHANG) != 0 || now_ms() >= end) {
			print_file("origin stderr", errfile);
			ck_abort_msg("origin %s did not start", argv[0]);
		}
		sleep_ms(10);
	}
	if ((nl = strchr(ports, '\n')) != NULL)
		*nl = '\0';
	ck_assert_msg(strncmp(ports, "127.0.0.1:", 10) == 0,
	    "origin ports: %s", ports);
	snprintf(o->tcp, sizeof(o->tcp), "%s", ports);
	o->port = atoi(ports + 10);
	free(ports);
}

static void
origin_stop(struct origin *o)
{
	if (o->pid <= 0)
		return;
	kill(o->pid, SIGTERM);
	run_wait(o->pid, 5000);
	o->pid = 0;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

void
harness_setup(void)
{
	int i;

	harness_teardown();     /* what a failed setup left, if any */
	snprintf(harness_dir, sizeof(harness_dir), "/tmp/portico-test-XXXXXX");
	ck_assert_msg(mkdtemp(harness_dir) != NULL, "mkdtemp: %s",
	    strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < HARNESS_ORIGINS; i++)
		origin_start(&origins[i], i);
}

void
harness_teardown(void)
{
	int i;

	for (i = 0; i < HARNESS_ORIGINS; i++)
		origin_stop(&origins[i]);
	memset(origins, 0, sizeof(origins));
	if (harness_dir[0] == '\0')
		return;
	nftw(harness_dir, show_leftover, 16, FTW_PHYS);
	nftw(harness_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	harness_dir[0] = '\0';
}

void
harness_file(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", harness_dir, name);
}

/* Runs the openssl CLI with ARGS in harness_dir; asserts success. */
static void
openssl_run(const char *args)
{
	char cmd[1024], err[4096];
	int rc;

	snprintf(cmd, sizeof(cmd), "cd %s && openssl %s", harness_dir, args);
	rc = run_sh(cmd, NULL, 0, err, sizeof(err), 30000);
	ck_assert_msg(rc == 0, "openssl %s: exit %d: %s", args, rc, err);
}

TCase *
harness_tcase(const char *name, int seconds)
{
	TCase *tc = tcase_create(name);

	tcase_add_unchecked_fixture(tc, harness_setup, NULL);
	tcase_add_unchecked_fixture(tc, harness_certs, harness_teardown);
	tcase_set_timeout(tc, seconds);
	return tc;
}

void
harness_certs(void)
{
	openssl_run("req -x509 -newkey rsa:2048 -nodes -keyout a.key "
	    "-out a.pem -days 30 -subj /CN=a.test "
	    "-addext subjectAltName=DNS:a.test,DNS:*.a.test");
	openssl_run("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	    "-nodes -keyout b.key -out b.pem -days 30 -subj /CN=b.test "
	    "-addext subjectAltName=DNS:b.test");
	openssl_run("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	    "-nodes -keyout aec.key -out aec.pem -days 30 -subj /CN=a.test "
	    "-addext subjectAltName=DNS:a.test,DNS:*.a.test");
	openssl_run("genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 "
	    "-out other.key");
}

const char *
harness_tls_block(const char *extra)
{
	static char block[4 * HARNESS_PATH + 1024];
	const char *d = harness_dir;

	snprintf(block, sizeof(block), "tls {\n"
	    "\tcertificate %s/a.pem %s/a.key\n"
	    "\tcertificate %s/b.pem %s/b.key\n%s}\n", d, d, d, d,
	    extra != NULL ? extra : "");
	return block;
}

struct stats
origin_stats(const struct origin *o)
{
	struct rawc *c = rawc_connect(o->port);
	struct stats s;
	struct resp r;

	rawc_sends(c, "GET /stats HTTP/1.1\r\nHost: origin\r\n"
	    "Connection: close\r\n\r\n");
	ck_assert_int_eq(rawc_response(c, &r, false, CLIENT_WAIT_MS), 0);
	ck_assert_int_eq(r.status, 200);
	s.conns = json_num(r.body, "connections");
	s.reqs = json_num(r.body, "requests");
	ck_assert_msg(s.conns >= 0 && s.reqs >= 0, "stats: %s", r.body);
	resp_free(&r);
	rawc_close(c);
	return s;
}

/* ---- portico ---- */

static bool
can_connect(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	ok = fd != -1 &&
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	if (fd != -1)
		close(fd);
	return ok;
}

#define CONF_MARK       "# ---- the test's text ----\n"

/* The first lines (user, workers, listeners, logs), then, if HAS_MARK,
 * CONF_MARK (proxy_rewrite keeps what is above it), then FMT's text.
 * USER as proxy_how.user. */
static void
write_conf(struct proxy *p, const char *user, bool has_mark,
    const char *fmt, va_list ap)
{
	FILE *f = fopen(p->conf, "w");

	ck_assert_msg(f != NULL, "%s: %s", p->conf, strerror(errno));
	/* portico refuses to serve as root unless the config says so */
	if (user == NULL && geteuid() == 0)
		fprintf(f, "user root\n");
	else if (user != NULL && *user != '\0')
		fprintf(f, "user %s\n", user);
	fprintf(f, "workers %u\nlisten 127.0.0.1:%d\naccess_log %s %s\n"
	    "error_log %s debug\n", p->workers > 0 ? p->workers : 2, p->port,
	    p->access_log,
	    p->access_format != NULL ? p->access_format : "json",
	    p->error_log);
	if (p->tls_port > 0)
		fprintf(f, "listen 127.0.0.1:%d tls\n", p->tls_port);
	if (has_mark)
		fprintf(f, CONF_MARK);
	vfprintf(f, fmt, ap);
	fclose(f);
}

/* 0 once portico accepts, 1 if it exited, -1 if it did neither in time. */
static int
wait_ready(const struct proxy *p)
{
	int64_t end = now_ms() + START_WAIT_MS;

	while (!can_connect(p->port) ||
	    (p->tls_port > 0 && !can_connect(p->tls_port))) {
		if (waitpid(p->pid, NULL, WNOHANG) != 0)
			return 1;
		if (now_ms() >= end)
			return -1;
		sleep_ms(10);
	}
	return 0;
}

/* Another process took the port free_port() found. */
static bool
lost_port(const struct proxy *p)
{
	return file_wait_for(p->stderr_path, "Address already in use", 0) ||
	    file_wait_for(p->error_log, "Address already in use", 0);
}

/* One attempt on fresh ports, as HOW says: wait_ready's result. */
static int
start_once(struct proxy *p, const struct proxy_how *how, bool has_mark,
    const char *fmt, va_list ap)
{
	char out[HARNESS_PATH + 16], addr[64];
	char *portico = (char *)env_or("PORTICO", "./portico");
	char *plain[] = { portico, "-c", p->conf, NULL };
	char *activated[] = { "/usr/bin/systemd-socket-activate", "-l", addr,
	    portico, "-c", p->conf, NULL };

	p->port = free_port();
	p->tls_port = 0;
	while (how->is_tls && (p->tls_port == 0 || p->tls_port == p->port))
		p->tls_port = free_port();
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", p->port);
	snprintf(out, sizeof(out), "%s/stdout", p->dir);
	write_conf(p, how->user, has_mark, fmt, ap);
	p->pid = spawn_env(how->is_activated ? activated : plain, how->env,
	    out, p->stderr_path);
	return wait_ready(p);
}

/* proxy_start, proxy_start_tls and proxy_start_how: up to 3 attempts
 * while another process takes the port free_port() found. */
static void
start_v(struct proxy *p, const struct proxy_how *how, bool has_mark,
    const char *fmt, va_list ap0)
{
	int attempt, rc;
	va_list ap;

	harness_mkdir(p->dir, sizeof(p->dir), "proxy");
	snprintf(p->conf, sizeof(p->conf), "%s/portico.conf", p->dir);
	snprintf(p->access_log, sizeof(p->access_log), "%s/access.log",
	    p->dir);
	snprintf(p->error_log, sizeof(p->error_log), "%s/error.log", p->dir);
	snprintf(p->stderr_path, sizeof(p->stderr_path), "%s/stderr",
	    p->dir);
	for (attempt = 1; ; attempt++) {
		va_copy(ap, ap0);
		rc = start_once(p, how, has_mark, fmt, ap);
		va_end(ap);
		if (rc == 0)
			return;
		if (rc == 1 && attempt < 3 && lost_port(p))
			continue;
		print_file("portico stderr", p->stderr_path);
		print_file("portico error log", p->error_log);
		print_file("config", p->conf);
		ck_abort_msg("portico did not start on port %d (%s)", p->port,
		    rc == 1 ? "it exited" : "timeout");
	}
}

void
proxy_start(struct proxy *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	start_v(p, &(struct proxy_how){ .is_tls = false }, false, fmt, ap);
	va_end(ap);
}

void
proxy_start_tls(struct proxy *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	start_v(p, &(struct proxy_how){ .is_tls = true }, false, fmt, ap);
	va_end(ap);
}

void
proxy_start_origin0(struct proxy *p, const char *tls_extra,
    const char *extra)
{
	memset(p, 0, sizeof(*p));
	proxy_start_tls(p, "%sbackend o { server %s }\nroute * o\n%s",
	    harness_tls_block(tls_extra), origins[0].tcp, extra);
}

void
proxy_stop(struct proxy *p)
{
	int rc;

	ck_assert_int_gt(p->pid, 0);
	kill(p->pid, SIGTERM);
	rc = run_wait(p->pid, STOP_WAIT_MS);
	p->pid = 0;
	if (rc != 0)
		print_file("portico stderr", p->stderr_path);
	ck_assert_msg(rc != -1, "portico still running %d ms after SIGTERM",
	    STOP_WAIT_MS);
	ck_assert_msg(rc == 0, "portico exit status %d after SIGTERM%s", rc,
	    rc > 128 ? " (killed by a signal)" : "");
}

/* ---- fake backends ---- */

static int
listen_any(int backlog, int *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, backlog), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

int
free_port(void)
{
	int port, fd = listen_any(1, &port);

	close(fd);
	return port;
}

/* One fake_start connection: head in, REPLY out, then close. */
static void
fake_serve(int fd, const char *reply)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char buf[65536];
	size_t len = 0;
	ssize_t n;

	while (len < sizeof(buf) - 1 && poll(&pfd, 1, 5000) == 1) {
		if ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL)
			break;
	}
	if (reply != NULL && write(fd, reply, strlen(reply)) < 0)
		return;
	shutdown(fd, SHUT_WR);
	while (poll(&pfd, 1, 2000) == 1 && read(fd, buf, sizeof(buf)) > 0)
		;
}

int
fake_start(const char *reply, pid_t *pid)
{
	int port, fd = listen_any(16, &port), c;

	*pid = fork();
	ck_assert_int_ne(*pid, -1);
	if (*pid > 0) {
		close(fd);
		return port;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		if ((c = accept(fd, NULL, NULL)) == -1)
			continue;
		fake_serve(c, reply);
		close(c);
	}
}

void
fake_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* Starts a non-blocking connect; true if it completes within ms. */
static bool
connects_within(int port, int ms, int *fdp)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int err = 0;
	socklen_t len = sizeof(err);

	*fdp = fd;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		return true;
	if (errno != EINPROGRESS || poll(&pfd, 1, ms) != 1)
		return false;
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	return err == 0;
}

int
listen_full(int fds[8])
{
	int port, i;

	memset(fds, -1, 8 * sizeof(int));
	fds[0] = listen_any(0, &port);
	/* Linux queues backlog + 1 connections, then drops SYNs. */
	for (i = 1; i < 8; i++)
		if (!connects_within(port, 300, &fds[i]))
			return port;
	return -1;
}

/* ---- files ---- */

char *
file_read(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "rb");
	size_t len = 0, cap = 65536, n;
	char *s;

	if (f == NULL)
		return NULL;
	s = malloc(cap + 1);
	ck_assert_ptr_nonnull(s);
	while ((n = fread(s + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			cap *= 2;
			s = realloc(s, cap + 1);
			ck_assert_ptr_nonnull(s);
		}
	}
	fclose(f);
	s[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return s;
}

void
file_write(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_uint_eq(fwrite(p, 1, n, f), n);
	ck_assert_int_eq(fclose(f), 0);
}

bool
file_wait_for(const char *path, const char *needle, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;
	char *s;
	bool found;

	for (;;) {
		s = file_read(path, NULL);
		found = s != NULL && strstr(s, needle) != NULL;
		free(s);
		if (found || now_ms() >= end)
			return found;
		sleep_ms(20);
	}
}

void
pattern_fill(char *p, uint64_t off, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (char)('a' + (off + i) % 26);
}

void
pattern_file(const char *path, uint64_t n)
{
	static char piece[PIECE];
	FILE *f = fopen(path, "wb");
	size_t k;

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	pattern_fill(piece, 0, sizeof(piece));
	for (; n > 0; n -= k) {
		k = n < sizeof(piece) ? (size_t)n : sizeof(piece);
		ck_assert_uint_eq(fwrite(piece, 1, k, f), k);
	}
	ck_assert_int_eq(fclose(f), 0);
}

/* ---- digests and /proc ---- */

static void
hex(const unsigned char *md, char out[65])
{
	int i;

	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

void
sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	ck_assert(EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) == 1);
	hex(md, out);
}

void
sha256_file(const char *path, char out[65])
{
	size_t n = 0;
	char *s = file_read(path, &n);

	ck_assert_msg(s != NULL, "%s: %s", path, strerror(errno));
	sha256_hex(s, n, out);
	free(s);
}

void
sha256_pattern(uint64_t n, char out[65])
{
	static char piece[PIECE];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[32];
	size_t k;

	ck_assert_ptr_nonnull(ctx);
	pattern_fill(piece, 0, sizeof(piece));
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (; n > 0; n -= k) {
		k = n < sizeof(piece) ? (size_t)n : sizeof(piece);
		EVP_DigestUpdate(ctx, piece, k);
	}
	EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	hex(md, out);
}

long
proc_rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* ---- origin WebSocket figures ---- */

/* GET PATH from O's TCP listener: its 200 body into *R. */
static void
origin_get(const struct origin *o, const char *path, struct resp *r)
{
	char req[256];

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: origin\r\n"
	    "Connection: close\r\n\r\n", path);
	rawc_fetch(o->port, req, r);
	ck_assert_msg(r->status == 200, "origin %s: status %d: %s", path,
	    r->status, r->body != NULL ? r->body : "");
}

long
origin_stat(const struct origin *o, const char *key)
{
	struct resp r;
	long v;

	origin_get(o, "/stats", &r);
	v = (long)json_num(r.body, key);
	ck_assert_msg(v >= 0, "stats has no %s: %s", key, r.body);
	resp_free(&r);
	return v;
}

void
origin_ws_last(const struct origin *o, char *out, size_t cap)
{
	struct resp r;

	origin_get(o, "/ws-last", &r);
	snprintf(out, cap, "%s", r.body);
	resp_free(&r);
}

/* ---- reloads, signals, environment (test_ops.c) ---- */

#define RELOAD_WAIT_MS  10000

int
file_count(const char *path, const char *needle)
{
	char *s = file_read(path, NULL), *at;
	int n = 0;

	for (at = s; at != NULL && (at = strstr(at, needle)) != NULL; n++)
		at += strlen(needle);
	free(s);
	return n;
}

bool
file_wait_count(const char *path, const char *needle, int n, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;

	for (;;) {
		if (file_count(path, needle) >= n)
			return true;
		if (now_ms() >= end)
			return false;
		sleep_ms(20);
	}
}

void
proxy_start_how(struct proxy *p, const struct proxy_how *how,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	start_v(p, how, true, fmt, ap);
	va_end(ap);
}

void
proxy_rewrite(struct proxy *p, const char *fmt, ...)
{
	char *old = file_read(p->conf, NULL), *mark;
	char tmp[HARNESS_PATH + 8];
	va_list ap;
	FILE *f;

	ck_assert_msg(old != NULL, "%s: %s", p->conf, strerror(errno));
	mark = strstr(old, CONF_MARK);
	ck_assert_msg(mark != NULL, "%s: not written by proxy_start_how",
	    p->conf);
	mark[strlen(CONF_MARK)] = '\0';
	/* a whole file or none: portico may read it at any time */
	snprintf(tmp, sizeof(tmp), "%s.tmp", p->conf);
	ck_assert_msg((f = fopen(tmp, "w")) != NULL, "%s: %s", tmp,
	    strerror(errno));
	fputs(old, f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_msg(rename(tmp, p->conf) == 0, "rename %s: %s", tmp,
	    strerror(errno));
	free(old);
}

int
proxy_conf_line(const struct proxy *p, const char *needle)
{
	char *s = file_read(p->conf, NULL), *at, *c;
	int line = 1;

	ck_assert_msg(s != NULL, "%s: %s", p->conf, strerror(errno));
	at = strstr(s, needle);
	ck_assert_msg(at != NULL, "no \"%s\" in %s", needle, p->conf);
	for (c = s; c < at; c++)
		line += *c == '\n';
	free(s);
	return line;
}

bool
proxy_is_running(const struct proxy *p)
{
	siginfo_t info;

	/* WNOWAIT: a test may still reap it and read its status */
	memset(&info, 0, sizeof(info));
	return p->pid > 0 && waitid(P_PID, (id_t)p->pid, &info,
	    WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == 0;
}

void
proxy_reload(struct proxy *p, bool is_ok)
{
	char ok[HARNESS_PATH + 16];
	const char *failed = "reload failed, keeping the running";
	int n_ok, n_failed, got = 0;
	int64_t end = now_ms() + RELOAD_WAIT_MS;

	snprintf(ok, sizeof(ok), "reloaded %s", p->conf);
	n_ok = file_count(p->error_log, ok);
	n_failed = file_count(p->error_log, failed);
	ck_assert_msg(proxy_is_running(p), "portico exited before SIGHUP");
	ck_assert_int_eq(kill(p->pid, SIGHUP), 0);
	while (got == 0 && now_ms() < end) {
		sleep_ms(10);
		if (file_count(p->error_log, ok) > n_ok)
			got = 1;
		else if (file_count(p->error_log, failed) > n_failed)
			got = 2;
	}
	if (got != (is_ok ? 1 : 2)) {
		print_file("portico error log", p->error_log);
		print_file("config", p->conf);
		ck_abort_msg("SIGHUP: want \"%s\", got %s", is_ok ? ok : failed,
		    got == 0 ? "neither line in time" : got == 1 ? ok : failed);
	}
	ck_assert_msg(proxy_is_running(p), "portico exited after SIGHUP");
}

char *
origin_received(const struct origin *o, long conn, size_t *len)
{
	char path[HARNESS_PATH + 32];
	char *p;

	snprintf(path, sizeof(path), "%s/%ld.in", o->record_dir, conn);
	if ((p = file_read(path, len)) == NULL) {
		p = calloc(1, 1);
		ck_assert_ptr_nonnull(p);
		if (len != NULL)
			*len = 0;
	}
	return p;
}

/* Connections FIRST to END - 1 of O, joined: malloc'd, NUL-ended; the
 * /stats ones left out if SKIP_STATS. */
static char *
received_range(const struct origin *o, long first, long end,
    bool skip_stats, size_t *len)
{
	size_t total = 0, cap = 1, n;
	char *all = calloc(1, 1), *one;
	long i;

	ck_assert_ptr_nonnull(all);
	for (i = first; i < end; i++) {
		one = origin_received(o, i, &n);
		/* doubled, not grown by N: a TCase's origin may have
		 * recorded thousands of connections */
		if (skip_stats && strncmp(one, "GET /stats ", 11) == 0)
			n = 0;
		if (total + n + 1 > cap) {
			cap = (total + n + 1) * 2;
			all = realloc(all, cap);
			ck_assert_ptr_nonnull(all);
		}
		memcpy(all + total, one, n);
		total += n;
		all[total] = '\0';
		free(one);
	}
	if (len != NULL)
		*len = total;
	return all;
}

char *
origin_received_all(const struct origin *o, size_t *len)
{
	/* the last connection is origin_stats' own */
	return received_range(o, 1, origin_stats(o).conns, false, len);
}

char *
origin_received_since(const struct origin *o, long since, size_t *len)
{
	return received_range(o, since + 1, origin_stats(o).conns, true, len);
}
