/*
 * libFuzzer target: the HTTP layer (daemon/http.c) on a real connection,
 * with the real routes and handlers: request heads, chunked and
 * Content-Length bodies, pipelined requests, Expect, Connection and
 * HTTP/1.0 handling. The first byte chooses how the rest is cut into
 * writes (1 to 63 bytes but at most 32 pieces, or all at once), so that
 * every parser state is also entered across reads.
 */
#include <stdint.h>
#include <stddef.h>

#include "harness.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One input: a byte of cutting, then the client's bytes. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t	 split;

	if (size < 1)
		return 0;
	split = data[0] < 192 ? (size_t)(data[0] % 63) + 1 : 0;
	/* At most 32 pieces: each costs a turn of the loop. */
	if (split > 0 && split < size / 32)
		split = size / 32;
	fuzz_http_feed(data + 1, size - 1, split);
	return 0;
}
