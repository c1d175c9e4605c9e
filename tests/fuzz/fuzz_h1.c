/* tests/fuzz/fuzz_h1.c: libFuzzer over the HTTP/1.1 readers: the
 * input, split at a byte the fuzzer picks, is fed as two reads; heads,
 * bodies and pipelined requests are parsed as h1_server does; then the
 * whole input as responses, as h1_client does. Build and
 * run with "make fuzz". */
#include <stdint.h>
#include <string.h>

#include <event2/buffer.h>

#include "arena.h"
#include "h1.h"

static void
drain_requests(struct evbuffer *in, struct evbuffer *body)
{
	struct arena a;
	struct h1_reader r;
	struct req_head h;
	int i, rv;

	for (i = 0; i < 8; i++) {
		arena_init(&a);
		h1_reader_init(&r, false, &a);
		rv = h1_read_request_head(&r, in, &h, 4096, 1024);
		if (rv == 1 && h.has_body) {
			while ((rv = h1_read_body(&r, in, body, 1000)) == 0 &&
			    evbuffer_get_length(in) > 0)
				;
			evbuffer_drain(body, evbuffer_get_length(body));
		}
		arena_fini(&a);
		if (rv != 1)
			return;
	}
}

/* The same bytes as a backend's responses, as h1_client reads them. */
static void
drain_responses(struct evbuffer *in, struct evbuffer *body)
{
	struct arena a;
	struct h1_reader r;
	struct resp_head h;
	int i, rv;

	arena_init(&a);
	h1_reader_init(&r, true, &a);
	for (i = 0; i < 8; i++) {
		rv = h1_read_response_head(&r, in, &h, 4096);
		if (rv != 1)
			break;
		if (h.status < 200) {
			h1_reader_init(&r, true, &a);
			continue;
		}
		while ((rv = h1_read_body(&r, in, body, 1000)) == 0 &&
		    r.body != H1_BODY_UNTIL_CLOSE &&
		    evbuffer_get_length(in) > 0)
			;
		evbuffer_drain(body, evbuffer_get_length(body));
		if (rv != 1)
			break;
		h1_reader_init(&r, true, &a);
	}
	arena_fini(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evbuffer *in = evbuffer_new(), *body = evbuffer_new();
	size_t cut = size > 0 ? data[0] % (size + 1) : 0;

	if (size > 0) {
		data++;
		size--;
		cut = cut > size ? size : cut;
	}
	evbuffer_add(in, data, cut);
	drain_requests(in, body);
	evbuffer_add(in, data + cut, size - cut);
	drain_requests(in, body);
	evbuffer_drain(in, evbuffer_get_length(in));
	evbuffer_add(in, data, size);
	drain_responses(in, body);
	evbuffer_free(in);
	evbuffer_free(body);
	return 0;
}
