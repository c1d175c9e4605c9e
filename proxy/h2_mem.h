/* proxy/h2_mem.h: the allocator every nghttp2 session gets: its large
 * buffers live in pages of their own, so what a connection never wrote
 * is never resident, and an idle connection can give written pages back.
 */
#ifndef PORTICO_H2_MEM_H
#define PORTICO_H2_MEM_H

#include <stddef.h>

#include <nghttp2/nghttp2.h>

/* Allocations of at least this many bytes get their own pages. nghttp2's
 * are few and long-lived: the outbound frame buffer (16 KiB and a few
 * bytes, one per session, written from its start) and the chunks of a
 * large header block. */
#define H2_MEM_BIG      (8 * 1024)

/* The allocator, for nghttp2_session_server_new3. Thread-safe: what it
 * keeps for reuse is per thread. */
nghttp2_mem *h2_mem(void);

/* Whether P, which the allocator returned, has pages of its own. */
int h2_mem_is_paged(const void *p);

/* Frees all but KEEP of the small blocks this thread keeps for reuse, in
 * each size class (an idle worker; 0 when a worker ends). */
void h2_mem_trim(unsigned keep);

#endif
