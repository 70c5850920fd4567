/*
 * libFuzzer target: the tokens file parser (auth_load, server.tokens_file)
 * on any bytes, written to a private file (mode 0600, as pacerd demands).
 * Whatever it reads, it returns tokens or a "PATH:LINE: message"; loaded
 * tokens answer auth_role and auth_name for headers made of the input.
 */
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pacerd.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One file for the whole run: made once, rewritten per input. */
static char	 fuzz_path[] = "/tmp/pacer-fuzz-tokens.XXXXXX";
static int	 fuzz_fd = -1;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth	*a;
	char		*cause = NULL, header[300];
	size_t		 n;

	if (fuzz_fd < 0 && (fuzz_fd = mkstemp(fuzz_path)) < 0)
		abort();
	if (ftruncate(fuzz_fd, 0) != 0 || lseek(fuzz_fd, 0, SEEK_SET) != 0 ||
	    (size > 0 && write(fuzz_fd, data, size) != (ssize_t)size) ||
	    fchmod(fuzz_fd, 0600) != 0)
		abort();
	a = auth_load(fuzz_path, &cause);
	if (a == NULL) {
		/* Every refusal names the file and a line. */
		if (cause == NULL || strncmp(cause, fuzz_path,
		    strlen(fuzz_path)) != 0 || cause[strlen(fuzz_path)] != ':')
			abort();
		free(cause);
		return 0;
	}
	/* A header made of the input's first bytes: never a crash. */
	n = size < sizeof header - 8 ? size : sizeof header - 8;
	memcpy(header, "Bearer ", 7);
	memcpy(header + 7, data, n);
	header[7 + n] = '\0';
	(void)auth_role(a, header);
	(void)auth_name(a, header);
	(void)auth_role(a, NULL);
	auth_free(a);
	return 0;
}
