/*
 * libFuzzer target: the scores file reader (pacer optimize --scores) on
 * any bytes, written to a private file. It is read whole and in three
 * parts (one thread each, cut wherever the input allows): both answer
 * alike, the same rows or the same error with the same line; an error
 * names the file and a line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The reader, included so its parts can be forced small. */
#include "../../solver/cmd/cmd_scores.c"
#include "../../solver/cmd/world.c"
#include "../../solver/cmd/cmd_util.c"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_OFFERS	4

static struct offer	 fuzz_offer[FUZZ_OFFERS] = {
	{ .name = "o0" }, { .name = "o1" }, { .name = "a" }, { .name = "b,c" },
};
static struct offers	 fuzz_offers = { fuzz_offer, FUZZ_OFFERS, NULL, 0 };

/* One file for the whole run: made once, rewritten per input. */
static char	 fuzz_path[] = "/tmp/pacer-fuzz-scores.XXXXXX";
static int	 fuzz_fd = -1;

/* Whether two reads gave the same rows. */
static int
fuzz_same(const struct cmd_scores *a, const struct cmd_scores *b)
{
	if (a->ids.n != b->ids.n || a->npairs != b->npairs ||
	    a->lines != b->lines ||
	    memcmp(a->start, b->start, ((size_t)a->ids.n + 1) *
	    sizeof *a->start) != 0 ||
	    (a->npairs > 0 && (memcmp(a->offer, b->offer, (size_t)a->npairs *
	    sizeof *a->offer) != 0 || memcmp(a->prop, b->prop,
	    (size_t)a->npairs * sizeof *a->prop) != 0)))
		return 0;
	for (int32_t c = 0; c < a->ids.n; c++)
		if (strcmp(intern_str(&a->ids, c), intern_str(&b->ids, c)) != 0)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cmd_scores	 whole, parts;
	char			*c1 = NULL, *c2 = NULL;
	int			 r1, r2;

	if (fuzz_fd < 0 && (fuzz_fd = mkstemp(fuzz_path)) < 0)
		abort();
	if (ftruncate(fuzz_fd, 0) != 0 || lseek(fuzz_fd, 0, SEEK_SET) != 0 ||
	    (size > 0 && write(fuzz_fd, data, size) != (ssize_t)size))
		abort();
	r1 = scores_load(fuzz_path, &fuzz_offers, 0, SLOT_COUNT, 1, 1, &whole,
	    &c1);
	r2 = scores_load(fuzz_path, &fuzz_offers, 0, SLOT_COUNT, 3, 1, &parts,
	    &c2);
	if (r1 != r2)
		abort();
	if (r1 != 0) {
		/* "PATH:LINE: ..." or "PATH: ...", alike from both. */
		if (c1 == NULL || c2 == NULL || strncmp(c1, fuzz_path,
		    strlen(fuzz_path)) != 0 || c1[strlen(fuzz_path)] != ':')
			abort();
		/* An ungrouped duplicate may be found in a part's own rows. */
		if (strcmp(c1, c2) != 0 && strstr(c1, "twice") == NULL)
			abort();
		free(c1);
		free(c2);
		return 0;
	}
	if (!fuzz_same(&whole, &parts))
		abort();
	cmd_scores_free(&whole);
	cmd_scores_free(&parts);
	return 0;
}
