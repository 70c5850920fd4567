/*
 * libFuzzer target: decide_parse (daemon/decide.c), the validation of one
 * decision object against the rules of tests/fuzz/fuzz.conf.in, fed any JSON
 * value (a batch hands it each item as it comes). A refusal must say why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pacerd.h"
#include "harness.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One input: a JSON text. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pacerd		*d = fuzz_daemon();
	struct decide_request	 r;
	json_error_t		 err;
	json_t			*o;
	char			 cause[512];

	o = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES |
	    JSON_DECODE_ANY, &err);
	if (o == NULL)
		return 0;
	cause[0] = '\0';
	if (decide_parse(d->rules, o, 1790000000, &r, cause, sizeof cause) != 0) {
		if (cause[0] == '\0')
			abort();
	} else if (r.customer[0] == '\0' || r.channel < 0 ||
	    r.channel >= d->rules->conf->nchannels)
		abort();
	json_decref(o);
	return 0;
}
