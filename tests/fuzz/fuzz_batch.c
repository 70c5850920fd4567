/*
 * libFuzzer target: a batch body, {"requests":[...]}, through POST /v1/decide/batch, on a real connection into the real
 * handler (the store is never there: a body that passes validation is
 * answered 503, one that does not 4xx).
 */
#include <stdint.h>
#include <stddef.h>

#include "harness.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One input: the request body. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_http_request("POST", "/v1/decide/batch", data, size);
	return 0;
}
