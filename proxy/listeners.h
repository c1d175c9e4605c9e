/* proxy/listeners.h: the listening sockets, owned by the main thread.
 * Bound once (or adopted from systemd), and kept across reloads for the
 * addresses that stay, so a reload drops no connection attempt. */
#ifndef PORTICO_LISTENERS_H
#define PORTICO_LISTENERS_H

#include <stdbool.h>
#include <stddef.h>

struct conf;
struct listeners;

/* The sockets for CF's listen lines, NWORKERS each for TCP (one
 * SO_REUSEPORT socket per worker) and one shared for unix sockets and
 * for sockets systemd passed (LISTEN_FDS, first start only: OLD NULL).
 * Sockets of OLD whose address CF keeps are reused, not rebound. NULL
 * with *err malloc'd "FILE:LINE: cannot listen on ADDR: why"; nothing of
 * OLD is touched then. */
struct listeners *listeners_open(const struct conf *cf, unsigned nworkers,
    struct listeners *old, char **err);
/* Closes the sockets of OLD that NOW does not use (and unlinks their unix
 * paths), then frees OLD. Workers must have stopped using them. */
void listeners_retire(struct listeners *old, const struct listeners *now);
/* Closes everything (unix paths unlinked) and frees L. NULL ok. */
void listeners_free(struct listeners *l);
/* The socket worker W accepts on for listen line I of the conf. */
int listeners_fd(const struct listeners *l, size_t i, unsigned w);
size_t listeners_count(const struct listeners *l);
/* How many sockets came from systemd. */
unsigned listeners_adopted(const struct listeners *l);

#endif
