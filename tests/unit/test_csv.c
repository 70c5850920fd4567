/*
 * Unit tests for solver/model/csv.c: quoting, line ends, empty lines, field
 * counts, header checks, number parsers and messages naming file:line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pacer/csv.h"

/* An in-memory CSV: the stream and the reader over it. */
struct mem_csv {
	FILE		*fp;
	struct csv	*csv;
};

/* Open text as "t.csv"; fails the test if the header cannot be read. */
static void
mem_open(struct mem_csv *m, const char *text)
{
	char	*cause = NULL;

	m->fp = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
	assert_non_null(m->fp);
	m->csv = csv_open_stream(m->fp, "t.csv", &cause);
	if (m->csv == NULL)
		fail_msg("%s", cause);
}

/* Close what mem_open opened. */
static void
mem_close(struct mem_csv *m)
{
	csv_close(m->csv);
	fclose(m->fp);
}

/* Opening text must fail with exactly want. */
static void
expect_open_error(const char *text, const char *want)
{
	FILE		*fp;
	char		*cause = NULL;
	struct csv	*c;

	/* fmemopen cannot open an empty buffer. */
	if (*text == '\0')
		fp = fopen("/dev/null", "r");
	else
		fp = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
	assert_non_null(fp);
	c = csv_open_stream(fp, "t.csv", &cause);
	assert_null(c);
	assert_non_null(cause);
	assert_string_equal(cause, want);
	free(cause);
	fclose(fp);
}

/* The next record must fail with exactly want. */
static void
expect_next_error(struct mem_csv *m, const char *want)
{
	char	*cause = NULL;

	assert_int_equal(csv_next(m->csv, &cause), -1);
	assert_non_null(cause);
	assert_string_equal(cause, want);
	free(cause);
}

/* The next record must hold exactly the given fields, on line. */
static void
expect_record(struct mem_csv *m, long line, int n, ...)
{
	char	*cause = NULL;
	va_list	 ap;

	if (csv_next(m->csv, &cause) != 1)
		fail_msg("no record: %s", cause ? cause : "end of file");
	assert_int_equal(m->csv->line, line);
	assert_int_equal(m->csv->nfields, n);
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		assert_string_equal(m->csv->field[i], va_arg(ap, const char *));
	va_end(ap);
}

/* The stream must be at its end (and stay there). */
static void
expect_end(struct mem_csv *m)
{
	char	*cause = NULL;

	assert_int_equal(csv_next(m->csv, &cause), 0);
	assert_int_equal(csv_next(m->csv, &cause), 0);
	assert_null(cause);
}

/* A plain file: header, records with line numbers, the end. */
static void
test_basic(void **state)
{
	struct mem_csv	 m;

	(void)state;
	mem_open(&m, "a,b,c\n1,2,3\n4,,6\n");
	assert_int_equal(m.csv->nheader, 3);
	assert_string_equal(m.csv->header[0], "a");
	assert_string_equal(m.csv->header[2], "c");
	assert_int_equal(csv_column(m.csv, "a"), 0);
	assert_int_equal(csv_column(m.csv, "c"), 2);
	assert_int_equal(csv_column(m.csv, "d"), -1);
	assert_int_equal(csv_column(m.csv, "A"), -1);
	expect_record(&m, 2, 3, "1", "2", "3");
	expect_record(&m, 3, 3, "4", "", "6");
	expect_end(&m);
	mem_close(&m);

	/* The last line needs no newline; a header alone has no records. */
	mem_open(&m, "a,b\n1,2");
	expect_record(&m, 2, 2, "1", "2");
	expect_end(&m);
	mem_close(&m);
	mem_open(&m, "only");
	assert_int_equal(m.csv->nheader, 1);
	expect_end(&m);
	mem_close(&m);
}

/* Quoted fields: commas, doubled quotes, empty quotes, newlines. */
static void
test_quoting(void **state)
{
	struct mem_csv	 m;

	(void)state;
	mem_open(&m, "a,b,c\n"
	    "\"x,y\",\"he said \"\"hi\"\"\",\"\"\n"
	    "\"line1\nline2\",\"\"\"\",plain\n"
	    "\"a\"\"\",\",\",\"\"\"\"\"\"\n"
	    "last,\"\",\"z\"\n");
	expect_record(&m, 2, 3, "x,y", "he said \"hi\"", "");
	/* The record spans lines 3 and 4; its number is its last line. */
	expect_record(&m, 4, 3, "line1\nline2", "\"", "plain");
	expect_record(&m, 5, 3, "a\"", ",", "\"\"");
	expect_record(&m, 6, 3, "last", "", "z");
	expect_end(&m);
	mem_close(&m);

	/* A quote inside a plain field is text and swallows no lines. */
	mem_open(&m, "a,b\nx\"y,2\n3,4\n5\"\",\"6\"\n");
	expect_record(&m, 2, 2, "x\"y", "2");
	expect_record(&m, 3, 2, "3", "4");
	expect_record(&m, 4, 2, "5\"\"", "6");
	expect_end(&m);
	mem_close(&m);

	/* A quoted header works like any record. */
	mem_open(&m, "\"a b\",\"c,d\"\n1,2\n");
	assert_int_equal(csv_column(m.csv, "a b"), 0);
	assert_int_equal(csv_column(m.csv, "c,d"), 1);
	mem_close(&m);
}

/* CRLF line ends, blank lines, a byte order mark. */
static void
test_line_ends(void **state)
{
	struct mem_csv	 m;

	(void)state;
	mem_open(&m, "a,b\r\n1,2\r\n\r\n\n3,\"4\"\r\n\"x\r\ny\",5\r\n\r\n");
	expect_record(&m, 2, 2, "1", "2");
	expect_record(&m, 5, 2, "3", "4");
	expect_record(&m, 7, 2, "x\r\ny", "5");
	expect_end(&m);
	mem_close(&m);

	mem_open(&m, "\n\n\xEF\xBB\xBFoffer,x\n\nA,1\n\n");
	assert_int_equal(m.csv->line, 3);
	assert_int_equal(csv_column(m.csv, "offer"), 0);
	expect_record(&m, 5, 2, "A", "1");
	expect_end(&m);
	mem_close(&m);
}

/* Wrong field counts, quoting errors, too many fields. */
static void
test_record_errors(void **state)
{
	struct mem_csv	 m;
	char		 big[256];

	(void)state;
	mem_open(&m, "a,b\n1,2,3\n1\n\"1\"x,2\n\"1,2\n3,4\n");
	expect_next_error(&m, "t.csv:2: 3 fields, the header has 2");
	expect_next_error(&m, "t.csv:3: 1 fields, the header has 2");
	expect_next_error(&m, "t.csv:4: text after a closing quote");
	expect_next_error(&m, "t.csv:6: unterminated quote");
	expect_end(&m);
	mem_close(&m);

	/* A trailing comma is one more (empty) field. */
	mem_open(&m, "a,b\n1,2,\n,\n");
	expect_next_error(&m, "t.csv:2: 3 fields, the header has 2");
	expect_record(&m, 3, 2, "", "");
	mem_close(&m);

	big[0] = '\0';
	for (int i = 0; i < CSV_MAX_FIELDS; i++)
		snprintf(big + strlen(big), sizeof big - strlen(big), "%sc%d",
		    i ? "," : "", i);
	mem_open(&m, big);
	assert_int_equal(m.csv->nheader, CSV_MAX_FIELDS);
	mem_close(&m);
	strcat(big, ",y\n");
	expect_open_error(big, "t.csv:1: more than 32 fields");
}

/* Header errors: empty file, duplicate columns, missing columns. */
static void
test_header_errors(void **state)
{
	static const char *const want[] = { "offer", "value", "budget", NULL };
	struct mem_csv	 m;
	int		 idx[3];
	char		*cause = NULL;

	(void)state;
	expect_open_error("", "t.csv:0: empty file: a header line is needed");
	expect_open_error("\n\r\n\n", "t.csv:3: empty file: a header line is needed");
	expect_open_error("a,b,a\n1,2,3\n",
	    "t.csv:1: column \"a\" appears twice in the header");
	expect_open_error("\"a\nb\n", "t.csv:2: unterminated quote");

	mem_open(&m, "value,offer,cost\nx,y,z\n");
	assert_int_equal(csv_require(m.csv, want, idx, &cause), -1);
	assert_string_equal(cause, "t.csv:1: missing column \"budget\"");
	free(cause);
	mem_close(&m);

	mem_open(&m, "cost,budget,value,offer\n");
	assert_int_equal(csv_require(m.csv, want, idx, &cause), 0);
	assert_int_equal(idx[0], 3);
	assert_int_equal(idx[1], 2);
	assert_int_equal(idx[2], 1);
	mem_close(&m);
}

/* Messages name file, line and field. */
static void
test_error_messages(void **state)
{
	struct mem_csv	 m;
	char		*msg;

	(void)state;
	mem_open(&m, "a,b\n\n1,2\n");
	expect_record(&m, 3, 2, "1", "2");
	msg = csv_error(m.csv, "b", "\"%s\" is not %s", m.csv->field[1], "good");
	assert_string_equal(msg, "t.csv:3: field b: \"2\" is not good");
	free(msg);
	msg = csv_error(m.csv, NULL, "no offers");
	assert_string_equal(msg, "t.csv:3: no offers");
	free(msg);
	mem_close(&m);
}

/* Long records grow the buffer; NUL bytes do not crash. */
static void
test_long_and_binary(void **state)
{
	struct mem_csv	 m;
	char		*text;
	size_t		 n = 100000;
	FILE		*fp;
	char		*cause = NULL;
	struct csv	*c;
	static const char nul[] = "a,b\n1\0,2\n3,4\n";

	(void)state;
	text = malloc(n + 16);
	assert_non_null(text);
	strcpy(text, "a,b\n");
	memset(text + 4, 'x', n);
	strcpy(text + 4 + n, ",\"y\"\n");
	mem_open(&m, text);
	assert_int_equal(csv_next(m.csv, &cause), 1);
	assert_int_equal(strlen(m.csv->field[0]), n);
	assert_string_equal(m.csv->field[1], "y");
	mem_close(&m);
	free(text);

	/* A NUL ends the line's text: "1" alone is one field, an error. */
	fp = fmemopen((void *)(uintptr_t)nul, sizeof nul - 1, "r");
	c = csv_open_stream(fp, "t.csv", &cause);
	assert_non_null(c);
	assert_int_equal(csv_next(c, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(csv_next(c, &cause), 1);
	assert_string_equal(c->field[1], "4");
	csv_close(c);
	fclose(fp);
}

/* csv_open on files: the example offers, a missing file. */
static void
test_open_files(void **state)
{
	char		 path[1024], *cause = NULL;
	const char	*dir = getenv("PACER_SOURCE_DIR");
	struct csv	*c;
	int		 n = 0, rc;

	(void)state;
	snprintf(path, sizeof path, "%s/conf/offers.csv", dir ? dir : ".");
	c = csv_open(path, &cause);
	assert_non_null(c);
	assert_int_equal(c->nheader, 8);
	while ((rc = csv_next(c, &cause)) == 1)
		n++;
	assert_int_equal(rc, 0);
	assert_int_equal(n, 8);
	csv_close(c);
	csv_close(NULL);

	assert_null(csv_open("/nonexistent/x.csv", &cause));
	assert_string_equal(cause, "/nonexistent/x.csv: cannot open: "
	    "No such file or directory");
	free(cause);
}

/* Strict numbers: the whole field, finite, no spaces. */
static void
test_numbers(void **state)
{
	static const char *const bad_double[] = { "", " 1", "1 ", "+", "-", "1x",
	    "x", "nan", "inf", "-inf", "1e999", "1,5", "1.2.3", "\t1" };
	static const char *const bad_long[] = { "", " 1", "1 ", "1.0", "1e3", "x",
	    "+", "-", "9223372036854775808", "-9223372036854775809", "0x", "\n1" };
	double		 d;
	long long	 l;

	(void)state;
	assert_int_equal(csv_double("0", &d), 0);
	assert_float_equal(d, 0, 0);
	assert_int_equal(csv_double("-1.5", &d), 0);
	assert_float_equal(d, -1.5, 0);
	assert_int_equal(csv_double("2.5e3", &d), 0);
	assert_float_equal(d, 2500, 0);
	assert_int_equal(csv_double(".5", &d), 0);
	assert_float_equal(d, 0.5, 0);
	assert_int_equal(csv_double("+7", &d), 0);
	assert_float_equal(d, 7, 0);
	for (size_t i = 0; i < sizeof bad_double / sizeof bad_double[0]; i++)
		if (csv_double(bad_double[i], &d) != -1)
			fail_msg("csv_double accepted \"%s\"", bad_double[i]);
	assert_int_equal(csv_long("0", &l), 0);
	assert_int_equal(l, 0);
	assert_int_equal(csv_long("-42", &l), 0);
	assert_int_equal(l, -42);
	assert_int_equal(csv_long("9223372036854775807", &l), 0);
	assert_true(l == INT64_MAX);
	assert_int_equal(csv_long("007", &l), 0);
	assert_int_equal(l, 7);
	for (size_t i = 0; i < sizeof bad_long / sizeof bad_long[0]; i++)
		if (csv_long(bad_long[i], &l) != -1)
			fail_msg("csv_long accepted \"%s\"", bad_long[i]);
}

/* Run every test of this file. */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_line_ends),
		cmocka_unit_test(test_record_errors),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_error_messages),
		cmocka_unit_test(test_long_and_binary),
		cmocka_unit_test(test_open_files),
		cmocka_unit_test(test_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
