/*
 * libFuzzer target: query strings. http_query (daemon/http.c) over the
 * input as a URL's query, for several names and every small buffer size;
 * then the same query on GET /v1/customers/ID, whose ?time= is parsed by
 * the explanation (customer.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One input: the part of a URL after "?". */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "time", "t", "a", "", NULL };
	static const char	 path[] = "/v1/customers/fuzz-1?";
	char			*url;

	if ((url = malloc(sizeof path + size)) == NULL)
		return 0;
	memcpy(url, path, sizeof path - 1);
	memcpy(url + sizeof path - 1, data, size);
	url[sizeof path - 1 + size] = '\0';
	fuzz_http_query(url, names);
	/* A target with bytes http-parser refuses is a 400: still a path. */
	if (memchr(data, '\0', size) == NULL && strpbrk(url, " \r\n") == NULL)
		fuzz_http_request("GET", url, NULL, 0);
	free(url);
	return 0;
}
