/* proxy/log.c: error log lines are formatted on the stack and written with
 * one write(2), so lines from several workers never interleave. The access
 * log is an evbuffer per worker, written out when it passes 32 KiB or by a
 * one-second timer, so the event loop never waits for the disk per request.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "conf.h"
#include "log.h"

#define ACCESS_FLUSH_BYTES (32 * 1024)

int log_level = LOG_INFO;
static int error_fd = STDERR_FILENO;
static char *error_path;                /* NULL: stderr */
static bool is_journal;                 /* stderr is journald's stream */

struct access_log {
	struct evbuffer *buf;
	struct event *timer;
	int fd;
	bool is_owned_fd;
	char *path;                     /* for access_log_reopen */
	enum conf_log_format format;
};

static const char *
level_name(int level)
{
	switch (level) {
	case LOG_EMERG: case LOG_ALERT: case LOG_CRIT: return "crit";
	case LOG_ERR: return "error";
	case LOG_WARNING: return "warn";
	case LOG_NOTICE: return "notice";
	case LOG_INFO: return "info";
	default: return "debug";
	}
}

/* systemd sets JOURNAL_STREAM=DEV:INODE when stderr is the journal: its
 * lines then get "<N>" priority prefixes and no timestamp of ours. */
static bool
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) == -1)
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

static int
open_error_file(const char *path, const char **why)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

	if (fd == -1) {
		*why = strerror(errno);
		return -1;
	}
	/* workers may be writing: the number they use must stay valid */
	if (error_fd == STDERR_FILENO) {
		error_fd = fd;
		return 0;
	}
	dup2(fd, error_fd);
	close(fd);
	return 0;
}

int
log_open(const struct conf *cf, const char **why)
{
	char *path;

	is_journal = stderr_is_journal();
	if (cf == NULL)
		return 0;
	if (cf->error_log == NULL || strcmp(cf->error_log, "stderr") == 0) {
		if (error_fd != STDERR_FILENO)
			dup2(STDERR_FILENO, error_fd);
		free(error_path);
		error_path = NULL;
		log_level = cf->error_log_level;
		return 0;
	}
	if ((path = strdup(cf->error_log)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	if (open_error_file(path, why) == -1) {
		free(path);
		return -1;
	}
	free(error_path);
	error_path = path;
	log_level = cf->error_log_level;
	return 0;
}

int
log_reopen(const char **why)
{
	if (error_path == NULL)
		return 0;
	return open_error_file(error_path, why);
}

void
log_close(void)
{
	if (error_fd != STDERR_FILENO)
		close(error_fd);
	error_fd = STDERR_FILENO;
	free(error_path);
	error_path = NULL;
}

static void
vlog(int level, int err, const char *fmt, va_list ap)
{
	char line[2048];
	struct timeval tv;
	struct tm tm;
	size_t n;
	int r;

	if (is_journal && error_fd == STDERR_FILENO) {
		r = snprintf(line, sizeof(line), "<%d>", level);
		n = (size_t)r;
	} else {
		gettimeofday(&tv, NULL);
		localtime_r(&tv.tv_sec, &tm);
		n = strftime(line, sizeof(line), "%Y-%m-%d %H:%M:%S", &tm);
		r = snprintf(line + n, sizeof(line) - n, ".%03d [%s] ",
		    (int)(tv.tv_usec / 1000), level_name(level));
		n += (size_t)r;
	}
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	n = r < 0 ? n : n + (size_t)r;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	if (err != 0) {
		r = snprintf(line + n, sizeof(line) - n, ": %s",
		    strerror(err));
		n = r < 0 ? n : n + (size_t)r;
		if (n > sizeof(line) - 2)
			n = sizeof(line) - 2;
	}
	line[n++] = '\n';
	if (write(error_fd, line, n) < 0)
		return;
}

void
log_write(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, 0, fmt, ap);
	va_end(ap);
}

void
log_write_errno(int level, const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(level, err, fmt, ap);
	va_end(ap);
}

static void
access_flush(struct access_log *al)
{
	while (evbuffer_get_length(al->buf) > 0)
		if (evbuffer_write(al->buf, al->fd) <= 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			evbuffer_drain(al->buf, evbuffer_get_length(al->buf));
			break;
		}
}

static void
on_flush_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	access_flush(arg);
}

struct access_log *
access_log_new(struct event_base *base, const struct conf *cf,
    const char **why)
{
	struct access_log *al;
	struct timeval sec = { 1, 0 };

	*why = "out of memory";
	if (cf->access_log == NULL || (al = calloc(1, sizeof(*al))) == NULL)
		return NULL;
	al->format = cf->access_log_format;
	al->fd = STDOUT_FILENO;
	if (strcmp(cf->access_log, "stdout") != 0) {
		al->fd = open(cf->access_log,
		    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (al->fd == -1) {
			*why = strerror(errno);
			goto fail_al;
		}
		al->is_owned_fd = true;
		if ((al->path = strdup(cf->access_log)) == NULL)
			goto fail_fd;
	}
	if ((al->buf = evbuffer_new()) == NULL)
		goto fail_fd;
	al->timer = event_new(base, -1, EV_PERSIST, on_flush_timer, al);
	if (al->timer == NULL)
		goto fail_buf;
	event_add(al->timer, &sec);
	return al;

fail_buf:
	evbuffer_free(al->buf);
fail_fd:
	if (al->is_owned_fd)
		close(al->fd);
	free(al->path);
fail_al:
	free(al);
	return NULL;
}

/* logrotate moved the file: flush to the old one, continue in a new. */
void
access_log_reopen(struct access_log *al)
{
	int fd;

	if (al->path == NULL)
		return;
	access_flush(al);
	fd = open(al->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1) {
		log_errno(LOG_ERR, "cannot reopen access log %s", al->path);
		return;
	}
	close(al->fd);
	al->fd = fd;
}

void
access_log_free(struct access_log *al)
{
	if (al == NULL)
		return;
	access_flush(al);
	event_free(al->timer);
	evbuffer_free(al->buf);
	if (al->is_owned_fd)
		close(al->fd);
	free(al->path);
	free(al);
}

/* Length of the valid UTF-8 sequence at S (N bytes left), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (n < len)
		return 0;
	cp = s[0] & (0x7f >> len);
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/* Appends S[0..n) for a quoted field: JSON escapes when IS_JSON (valid
 * UTF-8 passes, any other byte becomes \u00XX, so the line is always
 * valid JSON), else the nginx way (\xHH for quotes, backslashes and
 * non-printables). */
static void
add_escaped(struct evbuffer *b, const char *s, size_t n, bool is_json)
{
	size_t i, run = 0, u;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x20 && ch != '"' && ch != '\\' && ch < 0x7f)
			continue;
		if (is_json && ch >= 0x80 &&
		    (u = utf8_len((const unsigned char *)s + i, n - i)) > 0) {
			i += u - 1;
			continue;
		}
		evbuffer_add(b, s + run, i - run);
		run = i + 1;
		if (is_json && (ch == '"' || ch == '\\'))
			evbuffer_add_printf(b, "\\%c", ch);
		else if (is_json)
			evbuffer_add_printf(b, "\\u%04x", ch);
		else
			evbuffer_add_printf(b, "\\x%02X", ch);
	}
	evbuffer_add(b, s + run, n - run);
}

static void
add_quoted(struct evbuffer *b, const char *s, size_t n, bool is_json)
{
	evbuffer_add(b, "\"", 1);
	if (s != NULL)
		add_escaped(b, s, n, is_json);
	else if (!is_json)
		evbuffer_add(b, "-", 1);
	evbuffer_add(b, "\"", 1);
}

static void
add_combined(struct evbuffer *b, const struct access_entry *e)
{
	char when[64];
	time_t t = (time_t)(e->start_us / 1000000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%d/%b/%Y:%H:%M:%S %z", &tm);
	evbuffer_add_printf(b, "%s - - [%s] \"", e->client, when);
	add_escaped(b, e->method, e->methodlen, false);
	evbuffer_add(b, " ", 1);
	add_escaped(b, e->target, e->targetlen, false);
	evbuffer_add_printf(b, " %s\" %d %llu ", e->protocol, e->status,
	    (unsigned long long)e->bytes_sent);
	add_quoted(b, e->referer, e->refererlen, false);
	evbuffer_add(b, " ", 1);
	add_quoted(b, e->user_agent, e->user_agentlen, false);
	evbuffer_add_printf(b, " rt=%.3f ua=%s ut=", e->duration_us / 1e6,
	    e->upstream != NULL ? e->upstream : "-");
	if (e->upstream_us >= 0)
		evbuffer_add_printf(b, "%.3f", e->upstream_us / 1e6);
	else
		evbuffer_add(b, "-", 1);
	if (e->tls_version != NULL)
		evbuffer_add_printf(b, " tls=%s", e->tls_version);
	if (e->note != NULL)
		evbuffer_add_printf(b, " err=\"%s\"", e->note);
	evbuffer_add(b, "\n", 1);
}

static void
add_json(struct evbuffer *b, const struct access_entry *e)
{
	char when[64];
	time_t t = (time_t)(e->start_us / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	evbuffer_add_printf(b, "{\"time\":\"%s.%03dZ\",\"client\":", when,
	    (int)(e->start_us / 1000 % 1000));
	add_quoted(b, e->client, strlen(e->client), true);
	evbuffer_add(b, ",\"method\":", 10);
	add_quoted(b, e->method, e->methodlen, true);
	evbuffer_add(b, ",\"target\":", 10);
	add_quoted(b, e->target, e->targetlen, true);
	evbuffer_add(b, ",\"host\":", 8);
	add_quoted(b, e->host, e->hostlen, true);
	evbuffer_add_printf(b, ",\"protocol\":\"%s\",\"status\":%d,"
	    "\"bytes_sent\":%llu,\"bytes_received\":%llu,"
	    "\"duration_ms\":%.3f,\"upstream\":", e->protocol, e->status,
	    (unsigned long long)e->bytes_sent,
	    (unsigned long long)e->bytes_received, e->duration_us / 1e3);
	if (e->upstream != NULL)
		add_quoted(b, e->upstream, strlen(e->upstream), true);
	else
		evbuffer_add(b, "null", 4);
	if (e->upstream_us >= 0)
		evbuffer_add_printf(b, ",\"upstream_ms\":%.3f",
		    e->upstream_us / 1e3);
	else
		evbuffer_add(b, ",\"upstream_ms\":null", 19);
	evbuffer_add(b, ",\"referer\":", 11);
	add_quoted(b, e->referer, e->refererlen, true);
	evbuffer_add(b, ",\"user_agent\":", 14);
	add_quoted(b, e->user_agent, e->user_agentlen, true);
	if (e->tls_version != NULL)
		evbuffer_add_printf(b, ",\"tls\":\"%s\"", e->tls_version);
	if (e->note != NULL) {
		evbuffer_add(b, ",\"error\":", 9);
		add_quoted(b, e->note, strlen(e->note), true);
	}
	evbuffer_add(b, "}\n", 2);
}

void
access_log_add(struct access_log *al, const struct access_entry *e)
{
	if (al == NULL)
		return;
	if (al->format == CONF_LOG_JSON)
		add_json(al->buf, e);
	else
		add_combined(al->buf, e);
	if (evbuffer_get_length(al->buf) >= ACCESS_FLUSH_BYTES)
		access_flush(al);
}
