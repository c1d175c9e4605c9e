/* proxy/daemon.c: systemd readiness and status, and the privilege drop
 * that follows binding the listeners. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "conf.h"
#include "daemon.h"

void
daemon_ready(void)
{
	sd_notify(0, "READY=1");
}

/* systemd 253's Type=notify-reload wants the time with RELOADING=1. */
void
daemon_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000);
}

void
daemon_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

void
daemon_status(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sd_notifyf(0, "STATUS=%s", buf);
}

static int
fail(const char **why, const char *what)
{
	static __thread char buf[160];

	snprintf(buf, sizeof(buf), "%s: %s", what, strerror(errno));
	*why = buf;
	return -1;
}

int
daemon_drop_privileges(const struct conf *cf, const char **why)
{
	const struct passwd *pw;
	const struct group *gr;
	gid_t gid;

	if (geteuid() != 0)
		return 0;
	if (cf->user == NULL) {
		*why = "refusing to serve as root: set \"user\" (\"user root\" "
		    "to allow it)";
		return -1;
	}
	if ((pw = getpwnam(cf->user)) == NULL) {
		*why = "unknown user";
		return -1;
	}
	if (pw->pw_uid == 0)
		return 0;               /* "user root": asked for */
	gid = pw->pw_gid;
	if (cf->group != NULL) {
		if ((gr = getgrnam(cf->group)) == NULL) {
			*why = "unknown group";
			return -1;
		}
		gid = gr->gr_gid;
	}
	if (initgroups(pw->pw_name, gid) == -1)
		return fail(why, "setgroups");
	if (setgid(gid) == -1)
		return fail(why, "setgid");
	if (setuid(pw->pw_uid) == -1)
		return fail(why, "setuid");
	/* must not be able to go back */
	if (setuid(0) != -1) {
		*why = "setuid: still able to regain root";
		return -1;
	}
	return 0;
}
