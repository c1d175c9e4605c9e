/* proxy/sock.h: a non-blocking socket with an input and an output
 * evbuffer, in cleartext or TLS (OpenSSL on the fd).
 *
 * Unlike a libevent bufferevent, output is written as soon as the current
 * callback returns, without waiting for a write event: one is armed only
 * when the kernel's buffer is full. Reads need no FIONREAD. So a request
 * costs one read and one write per socket and no epoll_ctl. */
#ifndef PORTICO_SOCK_H
#define PORTICO_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/time.h>

struct event_base;
struct evbuffer;
struct sock;
typedef struct ssl_st SSL;

/* What on_event reports; READING/WRITING say which side it concerns.
 * SOCK_EOF ends the input only: output is still written (half-close)
 * until the owner frees the sock or an error comes. */
#define SOCK_READING    0x01
#define SOCK_WRITING    0x02
#define SOCK_EOF        0x10
#define SOCK_ERROR      0x20
#define SOCK_TIMEOUT    0x40
#define SOCK_CONNECTED  0x80    /* connect or TLS handshake completed */

typedef void sock_data_fn(struct sock *s, void *arg);
typedef void sock_event_fn(struct sock *s, short what, void *arg);

/* Takes FD (accepted). With SSL (a server-side SSL, owned from now on)
 * the TLS handshake runs first and ends with SOCK_CONNECTED (or an error
 * event). Reading starts enabled. NULL when out of memory (FD closed,
 * SSL freed). */
struct sock *sock_new(struct event_base *base, int fd, SSL *ssl);
/* Connects to SA; SOCK_CONNECTED or SOCK_ERROR/SOCK_TIMEOUT follow from
 * the loop (never from inside this call). NULL with *why when the connect
 * fails at once. */
struct sock *sock_connect(struct event_base *base, const struct sockaddr *sa,
    socklen_t len, const struct timeval *timeout, const char **why);
void sock_free(struct sock *s);                 /* closes; NULL ok */

struct evbuffer *sock_input(struct sock *s);
struct evbuffer *sock_output(struct sock *s);
int sock_fd(const struct sock *s);
SSL *sock_ssl(const struct sock *s);            /* NULL: cleartext */
/* Bytes queued and not yet taken by the kernel: the output, and on TLS
 * the records made from it. 0: everything is written. */
size_t sock_pending(const struct sock *s);

/* ON_READ: new input. ON_DRAIN: a write left sock_pending at or below
 * the write low-water mark. ON_EVENT: SOCK_* flags; after SOCK_EOF (the peer
 * half-closed) output is still written. Any may be NULL. */
void sock_setcb(struct sock *s, sock_data_fn *on_read,
    sock_data_fn *on_drain, sock_event_fn *on_event, void *arg);
void sock_read_enable(struct sock *s, bool on);
/* NULL: none. The read timeout runs while reading is enabled; the write
 * timeout while output waits for the kernel. */
void sock_set_timeouts(struct sock *s, const struct timeval *read,
    const struct timeval *write);
/* Reading pauses while the input holds N bytes or more (0: no limit). */
void sock_set_read_high(struct sock *s, size_t n);
void sock_set_write_low(struct sock *s, size_t n);
/* Half-close: once the queued output is written, nothing more is sent
 * (shutdown(SHUT_WR), or a TLS close_notify); reading goes on. */
void sock_shutdown_write(struct sock *s);
/* The peer ended its side (SOCK_EOF was reported): no more input. */
bool sock_is_eof(const struct sock *s);
/* When freed, the socket closes with a reset (SO_LINGER 0) and no TLS
 * close_notify: for a stream whose end marks the message's end, a clean
 * close would pass a cut one off as complete. */
void sock_abort(struct sock *s);

#endif
