/* tests/fuzz/fuzz_conf.c: libFuzzer over the config parser: any text is
 * either a config or a "t.conf:LINE: ..." error, with nothing leaked. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *err = NULL;
	struct conf *cf;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	/* includes would read the disk: not here */
	if (strstr(text, "include") == NULL) {
		cf = conf_parse("t.conf", text, &err);
		if (cf == NULL && (err == NULL || strncmp(err, "t.conf:", 7) != 0))
			abort();
		conf_unref(cf);
		free(err);
	}
	free(text);
	return 0;
}
