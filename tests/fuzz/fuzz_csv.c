/*
 * libFuzzer target: the CSV reader over fmemopen, with the strict number
 * parsers on every field.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pacer/csv.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One input: read every record, parse every field as numbers. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const want[] = { "offer", "channel", "value", NULL };
	FILE		*fp;
	struct csv	*c;
	char		*cause = NULL;
	int		 idx[3], rc;
	double		 d;
	long long	 l;

	if (size == 0)
		return 0;
	if ((fp = fmemopen((void *)(uintptr_t)data, size, "r")) == NULL)
		return 0;
	if ((c = csv_open_stream(fp, "fuzz.csv", &cause)) == NULL) {
		if (cause == NULL)
			abort();
		free(cause);
		fclose(fp);
		return 0;
	}
	if (csv_require(c, want, idx, &cause) != 0)
		free(cause);
	cause = NULL;
	while ((rc = csv_next(c, &cause)) != 0) {
		if (rc < 0) {
			/* Errors name the file; reading on must stay safe. */
			if (cause == NULL || strncmp(cause, "fuzz.csv:", 9) != 0)
				abort();
			free(cause);
			cause = NULL;
			continue;
		}
		if (c->nfields != c->nheader)
			abort();
		for (int i = 0; i < c->nfields; i++) {
			(void)csv_double(c->field[i], &d);
			(void)csv_long(c->field[i], &l);
		}
	}
	csv_close(c);
	fclose(fp);
	return 0;
}
