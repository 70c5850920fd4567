/*
 * libFuzzer target: the configuration parser (conf_load_string) on any
 * bytes. Whatever it is fed, it returns a config or a "name:LINE: message".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pacer/conf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One input: parse, check the answer's shape, free. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*text, *cause = NULL;
	struct conf	*c;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	c = conf_load_string(text, "fuzz.conf", &cause);
	if (c == NULL) {
		/* Every failure explains itself as "fuzz.conf:LINE: ...". */
		if (cause == NULL || strncmp(cause, "fuzz.conf:", 10) != 0)
			abort();
		free(cause);
	} else {
		if (c->nchannels < 1 || c->nchannels > CONF_MAX_CHANNELS)
			abort();
		for (int i = 0; i < c->nshadow; i++)
			if (c->shadow[i].channel < -1 ||
			    c->shadow[i].channel >= c->nchannels)
				abort();
		(void)conf_longest_window(c);
		conf_free(c);
	}
	free(text);
	return 0;
}
