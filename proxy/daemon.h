/* proxy/daemon.h: what makes portico a well-behaved service: systemd
 * notifications and dropping root. */
#ifndef PORTICO_DAEMON_H
#define PORTICO_DAEMON_H

struct conf;

/* sd_notify(3) messages; nothing is sent without NOTIFY_SOCKET. */
void daemon_ready(void);
void daemon_reloading(void);            /* RELOADING=1 + MONOTONIC_USEC */
void daemon_stopping(void);
void daemon_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Started as root: become CF's user and group (supplementary groups of
 * the user, or none). Refused (-1, *why) when CF names no user: portico
 * does not serve as root unless "user root" says so. Not root: 0. */
int daemon_drop_privileges(const struct conf *cf, const char **why);

#endif
