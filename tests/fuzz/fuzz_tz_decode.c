/*
 * libFuzzer target: tz_decode (the time-zone table text stored with every
 * profile). A table it accepts must survive tz_encode and decode again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pacer/tz.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One input: decode; if accepted, round-trip and look up offsets. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tz_table	 t, back;
	char		*text, buf[2048];
	size_t		 n;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (tz_decode(text, &t) == 0) {
		if (t.n < 1 || t.n > TZ_MAX_TRANSITIONS)
			abort();
		n = tz_encode(&t, buf, sizeof buf);
		if (n == 0 || n != strlen(buf) || tz_decode(buf, &back) != 0)
			abort();
		if (back.n != t.n || memcmp(back.at, t.at, sizeof t.at[0] * (size_t)t.n) ||
		    memcmp(back.offset, t.offset, sizeof t.offset[0] * (size_t)t.n))
			abort();
		(void)tz_offset(&t, INT64_MIN);
		(void)tz_offset(&t, 0);
		(void)tz_offset(&t, INT64_MAX);
		for (int i = 0; i < t.n; i++)
			if (tz_offset(&t, t.at[i]) != t.offset[i])
				abort();
	}
	free(text);
	return 0;
}
