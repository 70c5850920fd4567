/*
 * Unit tests for solver/cmd/cmd_scores.c: a scores file read in several
 * parts, one thread each, gives what reading it whole gives: the same
 * customers in the same order, the same rows, the same first error with
 * the same line number.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* The module under test, included so its static helpers are in reach. */
#include "../../solver/cmd/cmd_scores.c"
#include "../../solver/cmd/world.c"
#include "../../solver/cmd/cmd_util.c"

#define NOFFERS	6

static struct offer	 offer[NOFFERS];
static struct offers	 offers = { offer, NOFFERS, NULL, 0 };

/* A scratch file holding text; its path in path (PATH_MAX bytes). */
static void
write_file(char *path, size_t len, const char *text)
{
	FILE	*f;
	int	 fd;

	snprintf(path, len, "/tmp/test_cmd_scores.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/*
 * A file of n customers, each with the offers i % NOFFERS.. (some rows
 * quoted); grouped by customer, or with every customer's rows in two
 * places (ungrouped).
 */
static char *
make_scores(int n, int grouped)
{
	size_t	 cap = (size_t)n * NOFFERS * 48 + 64, len = 0;
	char	*s = malloc(cap);

	assert_non_null(s);
	len += (size_t)snprintf(s + len, cap - len,
	    "\r\n\ncustomer,offer,propensity\r\n");
	for (int half = 0; half < (grouped ? 1 : 2); half++)
		for (int c = 0; c < n; c++)
			for (int k = 0; k < 1 + c % NOFFERS; k++) {
				int	 o = (c + k) % NOFFERS;

				if (!grouped && (k % 2) != half)
					continue;
				len += (size_t)snprintf(s + len, cap - len,
				    c % 7 == 3 ? "\"c%d\",%s,0.%03d\n" :
				    "c%d,%s,0.%03d\n", c, offer[o].name,
				    (c * 31 + k) % 1000);
			}
	return s;
}

/* Read the customers of slots [lo, hi) of text in nparts parts. */
static int
read_shard(const char *text, int lo, int hi, int nparts, off_t part_min,
    struct cmd_scores *out, char **cause)
{
	char	 path[64];
	int	 rc;

	write_file(path, sizeof path, text);
	*cause = NULL;
	rc = scores_load(path, &offers, lo, hi, nparts, part_min, out, cause);
	unlink(path);
	return rc;
}

/* Read text in nparts parts of at least part_min bytes. */
static int
read_text(const char *text, int nparts, off_t part_min,
    struct cmd_scores *out, char **cause)
{
	return read_shard(text, 0, SLOT_COUNT, nparts, part_min, out, cause);
}

static void
assert_same_scores(const struct cmd_scores *a, const struct cmd_scores *b)
{
	assert_int_equal(a->ids.n, b->ids.n);
	assert_int_equal(a->npairs, b->npairs);
	assert_int_equal(a->lines, b->lines);
	for (int c = 0; c < a->ids.n; c++)
		assert_string_equal(intern_str(&a->ids, c), intern_str(&b->ids, c));
	assert_memory_equal(a->start, b->start, ((size_t)a->ids.n + 1) *
	    sizeof *a->start);
	assert_memory_equal(a->offer, b->offer, (size_t)a->npairs *
	    sizeof *a->offer);
	assert_memory_equal(a->prop, b->prop, (size_t)a->npairs *
	    sizeof *a->prop);
}

/* Parts of every size, grouped or not: the rows reading whole gives. */
static void
test_parts_read_as_whole(void **state)
{
	(void)state;
	for (int grouped = 0; grouped < 2; grouped++) {
		char			*text = make_scores(3000, grouped);
		struct cmd_scores	 whole, parts;
		char			*cause;

		assert_int_equal(read_text(text, 1, 1, &whole, &cause), 0);
		assert_int_equal(whole.ids.n, 3000);
		for (int n = 2; n <= SCORES_PARTS_MAX; n++) {
			assert_int_equal(read_text(text, n, 1, &parts, &cause), 0);
			assert_same_scores(&whole, &parts);
			cmd_scores_free(&parts);
		}
		cmd_scores_free(&whole);
		free(text);
	}
}

/*
 * Two processes' shards (slots halves), grouped or not, in one part or
 * three: each holds its customers alone, with the rows the whole read
 * gives them (a process skips another's lines unread when the customer
 * repeats), and together every customer.
 */
static void
test_shards_split_whole(void **state)
{
	(void)state;
	for (int grouped = 0; grouped < 2; grouped++) {
		char			*text = make_scores(3000, grouped), *cause;
		struct cmd_scores	 whole, half;
		int64_t			 pairs = 0;
		int			 customers = 0;

		assert_int_equal(read_text(text, 1, 1, &whole, &cause), 0);
		for (int h = 0; h < 4; h++) {
			int	 lo = (h % 2) * SLOT_COUNT / 2;
			int	 hi = lo + SLOT_COUNT / 2;

			assert_int_equal(read_shard(text, lo, hi, 1 + 2 * (h / 2), 1,
			    &half, &cause), 0);
			for (int c = 0; c < half.ids.n; c++) {
				const char *id = intern_str(&half.ids, c);
				int	 w = intern_find(&whole.ids, id, strlen(id));
				int	 s = cmd_world_slot(id, strlen(id));
				int64_t	 n = half.start[c + 1] - half.start[c];

				assert_true(s >= lo && s < hi && w >= 0);
				assert_int_equal(n, whole.start[w + 1] -
				    whole.start[w]);
				assert_memory_equal(half.offer + half.start[c],
				    whole.offer + whole.start[w],
				    (size_t)n * sizeof *half.offer);
				assert_memory_equal(half.prop + half.start[c],
				    whole.prop + whole.start[w],
				    (size_t)n * sizeof *half.prop);
			}
			if (h < 2) {
				customers += half.ids.n;
				pairs += half.npairs;
			}
			cmd_scores_free(&half);
		}
		assert_int_equal(customers, whole.ids.n);
		assert_int_equal(pairs, whole.npairs);
		cmd_scores_free(&whole);
		free(text);
	}
}

/* The parts really are several: each cut at a change of customer. */
static void
test_cuts_at_customer_changes(void **state)
{
	char			*text = make_scores(3000, 1), path[64];
	struct scores_part	 pt[4];
	int			 fd, n;

	(void)state;
	write_file(path, sizeof path, text);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	memset(pt, 0, sizeof pt);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(scores_part_init(&pt[i], i, path, &offers, 0,
		    SLOT_COUNT, fd, (off_t)strlen(text), NULL), 0);
	}
	assert_int_equal(scores_header_first(&pt[0]), 0);
	assert_int_equal(pt[0].r.line, 3);	/* two blank lines first */
	n = scores_cut_parts(pt, 4, (off_t)strlen(text));
	assert_int_equal(n, 4);
	for (int i = 1; i < n; i++) {
		const char	*at = text + pt[i].r.from, *before = at - 2;

		assert_int_equal(pt[i - 1].r.to, pt[i].r.from);
		assert_int_equal(at[-1], '\n');
		while (before > text && before[-1] != '\n')
			before--;
		/* The customer before the cut is not the one after it (a
		 * quoted line is cut at as it comes). */
		if (at[0] != '"')
			assert_true(strncmp(before, at, (size_t)(strchr(at, ',') -
			    at + 1)) != 0);
	}
	for (int i = 0; i < 4; i++)
		scores_reader_free(&pt[i].r);
	close(fd);
	unlink(path);
	free(text);
}

/* A bad line in a later part: its line number over the whole file. */
static void
test_error_line_over_parts(void **state)
{
	char			*text = make_scores(3000, 1), *at, *c1, *c2;
	struct cmd_scores	 out;
	const char		*bad[] = { "zz,0.5", "o1,1.5", "o1,x" };

	(void)state;
	for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
		char	*edited = strdup(text);

		/* Row of customer c2500 (in the last part): a bad offer/value. */
		at = strstr(edited, "\nc2500,") + 1;
		at = strchr(at, ',') + 1;
		memcpy(at, bad[b], strlen(bad[b]));
		assert_int_equal(read_text(edited, 1, 1, &out, &c1), -1);
		assert_int_equal(read_text(edited, 4, 1, &out, &c2), -1);
		assert_non_null(strstr(c1, ": field "));
		/* The same message, path aside. */
		assert_string_equal(strchr(c1, ':'), strchr(c2, ':'));
		free(c1);
		free(c2);
		free(edited);
	}
	free(text);
}

/* Errors in two parts: the first in the file is the one reported. */
static void
test_first_error_wins(void **state)
{
	char			*text = make_scores(3000, 1), *c1, *c2, *at;
	struct cmd_scores	 out;

	(void)state;
	at = strchr(strstr(text, "\nc2800,") + 1, ',') + 1;
	memcpy(at, "zz", 2);
	at = strchr(strstr(text, "\nc100,") + 1, ',') + 1;
	memcpy(at, "o1,7", 4);
	assert_int_equal(read_text(text, 1, 1, &out, &c1), -1);
	assert_int_equal(read_text(text, 4, 1, &out, &c2), -1);
	assert_non_null(strstr(c1, "propensity"));
	assert_string_equal(strchr(c1, ':'), strchr(c2, ':'));
	free(c1);
	free(c2);
	free(text);
}

/* A pair twice, once in each of two parts: found as in one read. */
static void
test_duplicate_across_parts(void **state)
{
	char			*text = make_scores(3000, 1), *c1, *c2, *all;
	struct cmd_scores	 out;
	size_t			 n = strlen(text);

	(void)state;
	all = malloc(n + 32);
	assert_non_null(all);
	memcpy(all, text, n);
	strcpy(all + n, "c5,o5,0.5\n");	/* c5's first row is o5 */
	assert_int_equal(read_text(all, 1, 1, &out, &c1), -1);
	assert_int_equal(read_text(all, 4, 1, &out, &c2), -1);
	assert_non_null(strstr(c1, "appears twice"));
	assert_string_equal(strchr(c1, ':'), strchr(c2, ':'));
	free(c1);
	free(c2);
	free(all);
	free(text);
}

/* No header, or a file too small to cut: read whole, as before. */
static void
test_small_and_headless(void **state)
{
	struct cmd_scores	 out;
	char			*cause;

	(void)state;
	assert_int_equal(read_text("\n\n", 4, 1, &out, &cause), -1);
	assert_string_equal(strchr(cause, ':'),
	    ":1: empty file: a header line is needed");
	free(cause);
	assert_int_equal(read_text("customer,offer\nc1,o1\n", 4, 1, &out,
	    &cause), -1);
	assert_string_equal(strchr(cause, ':'),
	    ":1: missing column \"propensity\"");
	free(cause);
	assert_int_equal(read_text("customer,offer,propensity\nc1,o1,0.5\n", 4,
	    1 << 20, &out, &cause), 0);
	assert_int_equal(out.npairs, 1);
	cmd_scores_free(&out);
}

/* A part holding only a blank line (cut where the customer "" starts). */
/*
 * A customer id holding a NUL byte is refused, read whole or in parts: it
 * was taken for the id before it ("x") when that one was the last, so the
 * reads disagreed (found by fuzz_scores).
 */
static void
test_nul_in_customer(void **state)
{
	static const char	 text[] = "customer,offer,propensity\n"
				    "x,o0,0.5\nx\0\0,o0,0.5\ny,o1,0.5\n";
	char			 path[64], *c1 = NULL, *c2 = NULL;
	struct cmd_scores	 out;
	int			 fd;

	(void)state;
	snprintf(path, sizeof path, "/tmp/test_cmd_scores.XXXXXX");
	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, text, sizeof text - 1),
	    (ssize_t)(sizeof text - 1));
	close(fd);
	assert_int_equal(scores_load(path, &offers, 0, SLOT_COUNT, 1, 1, &out,
	    &c1), -1);
	assert_non_null(strstr(c1, ":3: field customer: not a valid customer"));
	for (int n = 2; n <= 3; n++) {
		assert_int_equal(scores_load(path, &offers, 0, SLOT_COUNT, n, 1,
		    &out, &c2), -1);
		assert_string_equal(c1, c2);
		free(c2);
		c2 = NULL;
	}
	unlink(path);
	free(c1);
}

static void
test_part_of_blank_lines(void **state)
{
	const char		*text = "customer,offer,propensity\nc0,o0,0.5\n"
				    "c1,o2,0.25\nc2,o1,1\nc3,\"o3\",0.125\n"
				    "c2,o2,0\n\n";
	struct cmd_scores	 whole, parts;
	char			*cause;

	(void)state;
	assert_int_equal(read_text(text, 1, 1, &whole, &cause), 0);
	for (int n = 2; n <= SCORES_PARTS_MAX; n++) {
		assert_int_equal(read_text(text, n, 1, &parts, &cause), 0);
		assert_same_scores(&whole, &parts);
		cmd_scores_free(&parts);
	}
	cmd_scores_free(&whole);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parts_read_as_whole),
		cmocka_unit_test(test_shards_split_whole),
		cmocka_unit_test(test_cuts_at_customer_changes),
		cmocka_unit_test(test_error_line_over_parts),
		cmocka_unit_test(test_first_error_wins),
		cmocka_unit_test(test_duplicate_across_parts),
		cmocka_unit_test(test_small_and_headless),
		cmocka_unit_test(test_part_of_blank_lines),
		cmocka_unit_test(test_nul_in_customer),
	};

	for (int i = 0; i < NOFFERS; i++)
		snprintf(offer[i].name, sizeof offer[i].name, "o%d", i);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
