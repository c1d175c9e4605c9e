/* tests/fuzz/fuzz_pp.c: libFuzzer over pp_parse, the PROXY protocol
 * header. Besides never reading past its input: a header it takes must
 * be whole within the input and at most PP_MAX bytes, a v1 one end in
 * CRLF, and every shorter prefix of a taken header must be PP_MORE (what
 * pp_read relies on to take a partial header's bytes). Build and run
 * with "make fuzz". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "pp.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pp_addr a, b;
	const char *why;
	size_t used, u2, i;
	int r = pp_parse(data, size, &a, &used, &why);

	CHECK(r == PP_BAD || r == PP_MORE || r == PP_DONE);
	CHECK(r != PP_MORE || size < PP_MAX);
	if (r != PP_DONE)
		return 0;
	CHECK(used > 0 && used <= size && used <= PP_MAX);
	CHECK(a.family == AF_INET || a.family == AF_INET6 ||
	    a.family == AF_UNSPEC);
	if (data[0] == 'P')
		CHECK(used >= 2 && data[used - 2] == '\r' &&
		    data[used - 1] == '\n');
	CHECK(pp_parse(data, used, &b, &u2, &why) == PP_DONE && u2 == used);
	for (i = 0; i < used; i++)
		CHECK(pp_parse(data, i, &b, &u2, &why) == PP_MORE);
	return 0;
}
