/*
 * tests/integration/test_ops_daemon.c: portico as a daemon, part two
 * (suite "ops", with test_ops.c): the sd_notify messages read from a test
 * NOTIFY_SOCKET, socket activation by systemd-socket-activate, SIGUSR1
 * after logrotate moved the logs, and the privilege drop of a portico
 * started as root (CI runs the suites as root; elsewhere those tests fail
 * and say why).
 */
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <check.h>

#include "client.h"
#include "harness.h"
#include "suites.h"

#define OUT_MAX         65536
#define NOTIFY_MS       10000           /* bound on one sd_notify message */
#define LOG_WAIT_MS     5000            /* access log: flushed each second */

static struct proxy px;

/* GET PATH over h1 cleartext with curl: asserts a 200. */
static void
get_200(int port, const char *path)
{
	char out[OUT_MAX], url[256];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	ck_assert_int_eq(curl(out, sizeof(out), "-o", "/dev/null", "-w",
	    "%{http_code}", url, NULL), 0);
	ck_assert_msg(strcmp(out, "200") == 0, "GET %s: %s", url, out);
}

static const char *
routes(void)
{
	static char text[4096];

	snprintf(text, sizeof(text), "%sbackend b0 { server %s }\n"
	    "route * b0\n", harness_tls_block(NULL), origins[0].tcp);
	return text;
}

/* ---- sd_notify ---- */

struct notify {
	int fd;
	char path[108];                 /* sun_path's size */
	char env[128];                  /* "NOTIFY_SOCKET=path" */
	char seen[8192];                /* every message, "|"-separated */
	char last_status[512];
	int nstatus;
};

static void
notify_open(struct notify *n)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };

	memset(n, 0, sizeof(*n));
	snprintf(n->path, sizeof(n->path), "%s/notify-%d", harness_dir,
	    (int)getpid());
	memcpy(un.sun_path, n->path, sizeof(un.sun_path));
	snprintf(n->env, sizeof(n->env), "NOTIFY_SOCKET=%s", n->path);
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(n->fd, -1);
	ck_assert_msg(bind(n->fd, (struct sockaddr *)&un, sizeof(un)) == 0,
	    "bind %s: %s", n->path, strerror(errno));
}

/* The next message into MSG; false if none came within MS. */
static bool
notify_recv(struct notify *n, char *msg, size_t cap, int ms)
{
	struct pollfd pfd = { .fd = n->fd, .events = POLLIN };
	ssize_t len;

	if (poll(&pfd, 1, ms) != 1)
		return false;
	len = recv(n->fd, msg, cap - 1, 0);
	ck_assert_int_gt(len, 0);
	msg[len] = '\0';
	snprintf(n->seen + strlen(n->seen), sizeof(n->seen) - strlen(n->seen),
	    "%s|", msg);
	if (strncmp(msg, "STATUS=", 7) == 0) {
		snprintf(n->last_status, sizeof(n->last_status), "%s", msg + 7);
		n->nstatus++;
	}
	return true;
}

/* Reads past STATUS= messages to the next other one, which must start
 * with WANT; the STATUS lines passed are left in n->seen. */
static void
notify_expect(struct notify *n, const char *want, char *msg, size_t cap)
{
	int64_t end = now_ms() + NOTIFY_MS;

	for (;;) {
		ck_assert_msg(notify_recv(n, msg, cap, (int)(end - now_ms())),
		    "sd_notify: no \"%s\" within %d ms; got: %s", want,
		    NOTIFY_MS, n->seen);
		if (strncmp(msg, "STATUS=", 7) != 0)
			break;
	}
	ck_assert_msg(strncmp(msg, want, strlen(want)) == 0, "sd_notify: "
	    "want \"%s\", got \"%s\"; all: %s", want, msg, n->seen);
}

/* Waits for a STATUS= of "C connections, R req/s" with C == CONNS (if
 * not -1) and R >= MIN_RATE. */
static void
notify_wait_status(struct notify *n, long conns, long min_rate, int ms)
{
	int64_t end = now_ms() + ms;
	char msg[1024];
	long c, r;

	for (;;) {
		ck_assert_msg(notify_recv(n, msg, sizeof(msg),
		    (int)(end - now_ms())), "sd_notify: no STATUS=%ld "
		    "connections, >= %ld req/s within %d ms; got: %s", conns,
		    min_rate, ms, n->seen);
		if (sscanf(msg, "STATUS=%ld connections, %ld req/s", &c,
		    &r) == 2 && (conns == -1 || c == conns) && r >= min_rate)
			return;
		ck_assert_msg(strncmp(msg, "STATUS=", 7) == 0, "sd_notify: "
		    "\"%s\" while waiting for a STATUS", msg);
	}
}

static uint64_t
monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* RELOADING=1 with MONOTONIC_USEC= near now (systemd 253 wants it). */
static void
notify_expect_reloading(struct notify *n)
{
	char msg[1024];
	const char *at;
	unsigned long long usec;
	uint64_t now = monotonic_usec();

	notify_expect(n, "RELOADING=1", msg, sizeof(msg));
	at = strstr(msg, "\nMONOTONIC_USEC=");
	ck_assert_msg(at != NULL && sscanf(at, "\nMONOTONIC_USEC=%llu",
	    &usec) == 1, "RELOADING=1 without MONOTONIC_USEC=: \"%s\"", msg);
	ck_assert_msg(usec + 10000000 > now && usec < now + 10000000,
	    "MONOTONIC_USEC=%llu, CLOCK_MONOTONIC is %llu", usec,
	    (unsigned long long)now);
}

START_TEST(test_sd_notify)
{
	struct notify n;
	char *env[2] = { NULL, NULL };
	struct proxy_how how = { .is_tls = true, .env = env };
	char msg[1024], want[HARNESS_PATH + 64];
	struct rawc *c;
	struct resp r;
	int i, rc;

	notify_open(&n);
	env[0] = n.env;
	memset(&px, 0, sizeof(px));
	proxy_start_how(&px, &how, "%s", routes());
	ck_assert_msg(notify_recv(&n, msg, sizeof(msg), NOTIFY_MS),
	    "sd_notify: nothing within %d ms of the start", NOTIFY_MS);
	ck_assert_msg(strcmp(msg, "READY=1") == 0, "sd_notify: the first "
	    "message is \"%s\", not READY=1", msg);
	notify_wait_status(&n, -1, 0, 3000);
	/* live figures: one connection open, 40 requests on it */
	c = rawc_connect(px.port);
	for (i = 0; i < 40; i++) {
		rawc_sends(c, "GET /status/200 HTTP/1.1\r\n"
		    "Host: a.test\r\n\r\n");
		ck_assert_int_eq(rawc_response(c, &r, false, CLIENT_WAIT_MS),
		    0);
		ck_assert_int_eq(r.status, 200);
		resp_free(&r);
	}
	notify_wait_status(&n, 1, 1, 4500);
	rawc_close(c);
	/* a reload, then one that fails */
	ck_assert_int_eq(kill(px.pid, SIGHUP), 0);
	notify_expect_reloading(&n);
	notify_expect(&n, "READY=1", msg, sizeof(msg));
	proxy_rewrite(&px, "%sfrobnicate on\n", routes());
	ck_assert_int_eq(kill(px.pid, SIGHUP), 0);
	notify_expect_reloading(&n);
	n.last_status[0] = '\0';
	notify_expect(&n, "READY=1", msg, sizeof(msg));
	snprintf(want, sizeof(want), "reload failed: %s:%d: unknown directive",
	    px.conf, proxy_conf_line(&px, "frobnicate"));
	ck_assert_msg(strstr(n.last_status, want) != NULL, "sd_notify after "
	    "a failed reload: want a STATUS with \"%s\" before READY=1; all: "
	    "%s", want, n.seen);
	ck_assert_int_eq(kill(px.pid, SIGTERM), 0);
	notify_expect(&n, "STOPPING=1", msg, sizeof(msg));
	rc = run_wait(px.pid, 20000);
	px.pid = 0;
	ck_assert_msg(rc == 0, "exit status %d after SIGTERM", rc);
	close(n.fd);
}
END_TEST

/* ---- socket activation ---- */

START_TEST(test_socket_activation)
{
	struct proxy_how how = { .is_tls = true, .is_activated = true };
	char out[OUT_MAX], url[128];

	memset(&px, 0, sizeof(px));
	proxy_start_how(&px, &how, "%s", routes());
	ck_assert_msg(file_wait_for(px.error_log, "adopted 1 socket from "
	    "systemd", 5000), "no \"adopted 1 socket from systemd\" in %s",
	    px.error_log);
	get_200(px.port, "/status/200?activated");
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/status/200",
	    px.tls_port);
	ck_assert_int_eq(curl(out, sizeof(out), "-k", "-o", "/dev/null",
	    "-w", "%{http_code}", url, NULL), 0);
	ck_assert_msg(strcmp(out, "200") == 0, "GET %s: %s", url, out);
	/* the adopted socket is kept across a reload */
	proxy_reload(&px, true);
	get_200(px.port, "/status/200?reloaded");
	ck_assert_msg(file_count(px.error_log, "adopted") == 1, "adopted "
	    "again on reload");
	proxy_stop(&px);
	/* systemd-socket-activate exec'd portico (same pid); its lines are
	 * no portico stderr for the harness to show */
	ck_assert_msg(file_wait_for(px.stderr_path, "Execing ", 0), "no "
	    "\"Execing\" from systemd-socket-activate in %s", px.stderr_path);
	ck_assert_int_eq(truncate(px.stderr_path, 0), 0);
}
END_TEST

/* ---- SIGUSR1 ---- */

static void
rename_ok(const char *from, const char *suffix)
{
	char to[HARNESS_PATH + 8];

	snprintf(to, sizeof(to), "%s%s", from, suffix);
	ck_assert_msg(rename(from, to) == 0, "mv %s %s: %s", from, to,
	    strerror(errno));
}

static bool
file_wait_exists(const char *path, int ms)
{
	int64_t end = now_ms() + ms;
	struct stat st;

	while (stat(path, &st) == -1) {
		if (now_ms() >= end)
			return false;
		sleep_ms(20);
	}
	return true;
}

START_TEST(test_sigusr1_reopens_logs)
{
	char old_access[HARNESS_PATH + 8], old_error[HARNESS_PATH + 8];
	char path[64], *s;
	int i;

	memset(&px, 0, sizeof(px));
	proxy_start_how(&px, &(struct proxy_how){ .is_tls = true }, "%s",
	    routes());
	get_200(px.port, "/status/200?n=first");
	ck_assert_msg(file_wait_for(px.access_log, "n=first", LOG_WAIT_MS),
	    "first request not in %s", px.access_log);
	snprintf(old_access, sizeof(old_access), "%s.1", px.access_log);
	snprintf(old_error, sizeof(old_error), "%s.1", px.error_log);
	rename_ok(px.access_log, ".1");
	rename_ok(px.error_log, ".1");
	ck_assert_int_eq(kill(px.pid, SIGUSR1), 0);
	ck_assert_msg(file_wait_for(old_error, "SIGUSR1", 5000), "no SIGUSR1 "
	    "line in the moved error log");
	ck_assert_msg(file_wait_exists(px.error_log, 5000), "SIGUSR1: no new "
	    "%s", px.error_log);
	ck_assert_msg(file_wait_exists(px.access_log, 5000), "SIGUSR1: no "
	    "new %s", px.access_log);
	/* new connections: both workers get some */
	for (i = 0; i < 8; i++) {
		snprintf(path, sizeof(path), "/status/200?n=second-%d", i);
		get_200(px.port, path);
	}
	for (i = 0; i < 8; i++) {
		snprintf(path, sizeof(path), "n=second-%d\"", i);
		ck_assert_msg(file_wait_for(px.access_log, path, LOG_WAIT_MS),
		    "after SIGUSR1, request %s not in the new access log",
		    path);
	}
	/* curl's connections closing are logged at debug */
	ck_assert_msg(file_wait_for(px.error_log, "closed", LOG_WAIT_MS),
	    "after SIGUSR1, nothing logged in the new error log");
	proxy_stop(&px);
	s = file_read(old_access, NULL);
	ck_assert_msg(s != NULL && strstr(s, "n=first") != NULL &&
	    strstr(s, "n=second") == NULL, "moved access log: %s", s);
	free(s);
	s = file_read(px.access_log, NULL);
	ck_assert_msg(s != NULL && strstr(s, "n=first") == NULL, "new access "
	    "log has the first request: %s", s);
	free(s);
	s = file_read(px.error_log, NULL);
	ck_assert_msg(s != NULL && strstr(s, "running with") == NULL, "new "
	    "error log has the start lines: %s", s);
	free(s);
}
END_TEST

/* ---- the journal ---- */

/* With stderr the journal's stream (JOURNAL_STREAM=DEV:INODE of it), the
 * error log's lines carry syslog priorities: <6> info, <3> error. */
START_TEST(test_journal_priorities)
{
	char dir[HARNESS_DIR], conf[HARNESS_PATH], err[HARNESS_PATH];
	char text[1024], cmd[3 * HARNESS_PATH + 256];
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	const char *portico = getenv("PORTICO") != NULL ? getenv("PORTICO") :
	    "./portico";
	int port = free_port(), rc;
	pid_t pid;

	harness_mkdir(dir, sizeof(dir), "journal");
	snprintf(conf, sizeof(conf), "%s/portico.conf", dir);
	snprintf(err, sizeof(err), "%s/journal", dir);
	snprintf(text, sizeof(text), "%sworkers 2\nlisten 127.0.0.1:%d\n"
	    "error_log stderr info\nbackend b0 { server %s }\nroute * b0\n",
	    geteuid() == 0 ? "user root\n" : "", port, origins[0].tcp);
	file_write(conf, text, strlen(text));
	file_write(err, "", 0);
	snprintf(cmd, sizeof(cmd), "JOURNAL_STREAM=$(stat -c %%d:%%i %s) "
	    "exec %s -c %s 2>>%s", err, portico, conf, err);
	pid = run_spawn(argv);
	ck_assert_msg(file_wait_for(err, "running with", 10000), "portico "
	    "did not start: %s", err);
	ck_assert_msg(file_wait_for(err, "<6>portico ", 0), "under the "
	    "journal, the start line has no <6> prefix");
	file_write(conf, "frobnicate on\n", 14);
	ck_assert_int_eq(kill(pid, SIGHUP), 0);
	ck_assert_msg(file_wait_for(err, "<3>reload failed", 10000), "under "
	    "the journal, no \"<3>reload failed\" line");
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	rc = run_wait(pid, 20000);
	ck_assert_msg(rc == 0, "exit status %d after SIGTERM", rc);
}
END_TEST

/* ---- privileges ---- */

#define NEED_ROOT(what) ck_assert_msg(geteuid() == 0, "%s needs the test " \
	"suite to run as root (CI does): run it with sudo", what)

static const struct {
	const char *user;
	const char *group;      /* NULL: the user's own */
} drop_cases[] = {
	{ "nobody", NULL },
	{ "nobody", "daemon" },
};

/* Every thread's "FIELD:\tA\tB\tC\tD" line of /proc/PID/status is WANT
 * four times; CapEff is all zero; Groups has no 0. */
static void
assert_ids(pid_t pid, unsigned uid, unsigned gid)
{
	char dir[64], path[400], line[512], want_uid[64], want_gid[64];
	struct dirent *e;
	int ntasks = 0;
	DIR *d;
	FILE *f;

	snprintf(want_uid, sizeof(want_uid), "Uid:\t%u\t%u\t%u\t%u\n", uid,
	    uid, uid, uid);
	snprintf(want_gid, sizeof(want_gid), "Gid:\t%u\t%u\t%u\t%u\n", gid,
	    gid, gid, gid);
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	ck_assert_ptr_nonnull(d = opendir(dir));
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/status", dir, e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		ntasks++;
		while (fgets(line, sizeof(line), f) != NULL) {
			if (strncmp(line, "Uid:", 4) == 0)
				ck_assert_msg(strcmp(line, want_uid) == 0,
				    "thread %s: %s, want %s", e->d_name, line,
				    want_uid);
			if (strncmp(line, "Gid:", 4) == 0)
				ck_assert_msg(strcmp(line, want_gid) == 0,
				    "thread %s: %s, want %s", e->d_name, line,
				    want_gid);
			if (strncmp(line, "Groups:", 7) == 0)
				ck_assert_msg(strstr(line, "\t0 ") == NULL &&
				    strstr(line, " 0 ") == NULL, "thread %s "
				    "kept group 0: %s", e->d_name, line);
			if (strncmp(line, "CapEff:", 7) == 0)
				ck_assert_msg(strcmp(line, "CapEff:\t"
				    "0000000000000000\n") == 0, "thread %s: %s",
				    e->d_name, line);
		}
		fclose(f);
	}
	closedir(d);
	ck_assert_msg(ntasks >= 3, "portico has %d threads: want the main "
	    "one and 2 workers", ntasks);
}

START_TEST(test_drop_privileges)
{
	struct proxy_how how = { .is_tls = true, .user = drop_cases[_i].user };
	const struct passwd *pw;
	const struct group *gr;
	char group[64] = "";
	unsigned gid;

	NEED_ROOT("dropping privileges");
	ck_assert_ptr_nonnull(pw = getpwnam(drop_cases[_i].user));
	gid = pw->pw_gid;
	if (drop_cases[_i].group != NULL) {
		ck_assert_ptr_nonnull(gr = getgrnam(drop_cases[_i].group));
		gid = gr->gr_gid;
		snprintf(group, sizeof(group), "group %s\n",
		    drop_cases[_i].group);
	}
	memset(&px, 0, sizeof(px));
	proxy_start_how(&px, &how, "%s%s", group, routes());
	get_200(px.port, "/status/200?dropped");
	assert_ids(px.pid, pw->pw_uid, gid);
	proxy_stop(&px);
}
END_TEST

/* Started as root with no user line: it says why and exits 1, and
 * serves nothing meanwhile. */
START_TEST(test_refuses_root)
{
	char dir[HARNESS_DIR], conf[HARNESS_PATH], text[1024];
	char out[4096], err[8192];
	char *argv[] = { getenv("PORTICO") != NULL ? getenv("PORTICO") :
	    "./portico", "-c", conf, NULL };
	int rc;

	NEED_ROOT("refusing to serve as root");
	harness_mkdir(dir, sizeof(dir), "root");
	snprintf(conf, sizeof(conf), "%s/portico.conf", dir);
	snprintf(text, sizeof(text), "workers 2\nlisten 127.0.0.1:%d\n"
	    "backend b0 { server %s }\nroute * b0\n", free_port(),
	    origins[0].tcp);
	file_write(conf, text, strlen(text));
	rc = run_argv(argv, out, sizeof(out), err, sizeof(err), 10000);
	ck_assert_msg(rc == 1, "portico as root without \"user\": exit %d, "
	    "want 1; stderr: %s", rc, err);
	ck_assert_msg(strstr(err, "refusing to serve as root") != NULL,
	    "portico as root without \"user\": stderr: %s", err);
}
END_TEST

TCase *
ops_daemon_tcase(void)
{
	TCase *tc = harness_tcase("daemon", 60);

	tcase_add_test(tc, test_sd_notify);
	tcase_add_test(tc, test_socket_activation);
	tcase_add_test(tc, test_sigusr1_reopens_logs);
	tcase_add_test(tc, test_journal_priorities);
	tcase_add_loop_test(tc, test_drop_privileges, 0, NELEMS(drop_cases));
	tcase_add_test(tc, test_refuses_root);
	return tc;
}
