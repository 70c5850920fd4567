/*
 * Unit tests for the SVG writer (solver/report/svg.c): well-formed output,
 * escaping, empty data, scales and the numbers beside the bars.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pacer/svg.h"

/*
 * A small XML well-formedness check: tags nest and close, attribute values
 * are quoted, and '&' only starts one of the five entities we write (or a
 * numeric one). Returns 0 if well-formed, else -1 and prints why. One
 * scanner's loop over the text, kept whole so its states read together.
 */
static int
xml_check(const char *s)
{
	char	 stack[64][32];
	int	 depth = 0, roots = 0;
	const char *p = s;

	while (*p != '\0') {
		if (*p == '&') {
			static const char *const ent[] = { "&amp;", "&lt;", "&gt;",
			    "&quot;", "&#39;" };
			size_t i, ok = 0;

			for (i = 0; i < 5; i++)
				if (!strncmp(p, ent[i], strlen(ent[i])))
					ok = 1;
			if (!ok) {
				fprintf(stderr, "bad entity at %.20s\n", p);
				return -1;
			}
			p++;
			continue;
		}
		if (*p == '>') {
			fprintf(stderr, "stray > at %.20s\n", p);
			return -1;
		}
		if (*p != '<') {
			p++;
			continue;
		}
		p++;
		if (*p == '/') {
			size_t n = strcspn(p + 1, ">");

			if (depth == 0 || strlen(stack[depth - 1]) != n ||
			    strncmp(stack[depth - 1], p + 1, n) != 0) {
				fprintf(stderr, "mismatched close at %.20s\n", p);
				return -1;
			}
			depth--;
			p += n + 2;
			continue;
		}
		{
			size_t n = strcspn(p, " />");
			int self = 0;

			if (n == 0 || n >= sizeof stack[0] || depth == 64)
				return -1;
			memcpy(stack[depth], p, n);
			stack[depth][n] = '\0';
			p += n;
			/* Attributes: name="value" with no '<' inside. */
			for (;;) {
				while (*p == ' ')
					p++;
				if (*p == '>')
					break;
				if (*p == '/' && p[1] == '>') {
					self = 1;
					p++;
					break;
				}
				while (*p != '=' && *p != '\0' && *p != '>' && *p != ' ')
					p++;
				if (*p != '=' || (p[1] != '"')) {
					fprintf(stderr, "unquoted attribute at %.20s\n", p);
					return -1;
				}
				p += 2;
				while (*p != '"' && *p != '\0') {
					if (*p == '<') {
						fprintf(stderr, "< in attribute\n");
						return -1;
					}
					p++;
				}
				if (*p != '"')
					return -1;
				p++;
			}
			if (*p != '>')
				return -1;
			p++;
			if (!self) {
				if (depth == 0)
					roots++;
				depth++;
			} else if (depth == 0)
				roots++;
		}
	}
	if (depth != 0) {
		fprintf(stderr, "unclosed <%s>\n", stack[depth - 1]);
		return -1;
	}
	return roots >= 1 ? 0 : -1;
}

/* Count occurrences of needle in s. */
static int
count(const char *s, const char *needle)
{
	int n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s += strlen(needle);
	}
	return n;
}

/* Escaping covers the five XML specials and leaves the rest alone. */
static void
test_escape(void **state)
{
	struct svg_buf b;

	(void)state;
	svg_buf_init(&b);
	svg_escape(&b, "a<b>&\"c'd é");
	assert_string_equal(b.data, "a&lt;b&gt;&amp;&quot;c&#39;d é");
	assert_int_equal(b.len, strlen(b.data));
	svg_buf_free(&b);
	svg_buf_free(NULL);
}

/* The buffer grows past its first allocation and stays NUL-terminated. */
static void
test_buf_grows(void **state)
{
	struct svg_buf b;
	int i;

	(void)state;
	svg_buf_init(&b);
	for (i = 0; i < 10000; i++)
		svg_printf(&b, "%d,", i % 10);
	assert_int_equal(b.len, 20000);
	assert_int_equal(strlen(b.data), 20000);
	assert_false(b.failed);
	svg_buf_free(&b);
}

/* Numbers: thousands separators, automatic and fixed decimals. */
static void
test_number(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(svg_number(0, -1, buf, sizeof buf), "0");
	assert_string_equal(svg_number(1234567, -1, buf, sizeof buf), "1,234,567");
	assert_string_equal(svg_number(-1234.5, 1, buf, sizeof buf), "-1,234.5");
	assert_string_equal(svg_number(12.5, -1, buf, sizeof buf), "12.5");
	assert_string_equal(svg_number(12.0, 2, buf, sizeof buf), "12.00");
	assert_string_equal(svg_number(0.125, -1, buf, sizeof buf), "0.125");
	assert_string_equal(svg_number(999.6, -1, buf, sizeof buf), "1,000");
	assert_string_equal(svg_number(-0.0001, 2, buf, sizeof buf), "0.00");
	assert_string_equal(svg_number(100, 0, buf, sizeof buf), "100");
	assert_string_equal(svg_number(0.0 / 0.0, -1, buf, sizeof buf), "n/a");
}

/* Horizontal bars: well-formed, escaped labels, limits, notes, scale. */
static void
test_hbars(void **state)
{
	struct svg_buf b;
	struct svg_bar bars[3] = {
		{ "<credit&card>", 750, 1000, NULL, 0 },
		{ "phone \"x\"", 1000, 1000, "1,000 / 1,000 binding", 1 },
		{ "free", 40, -1, NULL, 0 },
	};
	struct svg_chart c = { "Spend vs budget", "spend", NULL, 600, 0 };

	(void)state;
	svg_buf_init(&b);
	svg_hbars(&b, &c, bars, 3);
	assert_false(b.failed);
	assert_int_equal(xml_check(b.data), 0);
	assert_non_null(strstr(b.data, "&lt;credit&amp;card&gt;"));
	assert_null(strstr(b.data, "<credit"));
	assert_non_null(strstr(b.data, "phone &quot;x&quot;"));
	assert_non_null(strstr(b.data, "<title>Spend vs budget</title>"));
	assert_non_null(strstr(b.data, ">750 / 1,000<"));
	assert_non_null(strstr(b.data, ">1,000 / 1,000 binding<"));
	assert_non_null(strstr(b.data, ">40<"));
	/* Two limit markers, none for the bar without a limit. */
	assert_int_equal(count(b.data, "class=\"limit\""), 2);
	/* Scale runs to 1000: plot width 600-150-190 = 260, so 750 -> 195. */
	assert_non_null(strstr(b.data, "width=\"195.0\""));
	assert_non_null(strstr(b.data, "width=\"260.0\""));
	/* Highlighted bar in the warning colour. */
	assert_non_null(strstr(b.data, "fill=\"#c0392b\""));
	assert_null(strstr(b.data, "http"));
	svg_buf_free(&b);
}

/* Empty data draws a "no data" box, still well-formed. */
static void
test_empty(void **state)
{
	struct svg_buf b;
	struct svg_series s = { "x", NULL };
	double x = 1;

	(void)state;
	svg_buf_init(&b);
	svg_hbars(&b, NULL, NULL, 0);
	svg_vbars(&b, NULL, NULL, 0, &s, 1);
	svg_line(&b, NULL, &x, 0, &s, 1);
	assert_int_equal(count(b.data, "no data"), 3);
	assert_int_equal(count(b.data, "<svg"), 3);
	/* Three sibling roots: wrap to check. */
	{
		struct svg_buf w;

		svg_buf_init(&w);
		svg_printf(&w, "<div>%s</div>", b.data);
		assert_int_equal(xml_check(w.data), 0);
		svg_buf_free(&w);
	}
	svg_buf_free(&b);
}

/* All-zero bars: no division by zero, bars of width 0. */
static void
test_zero_values(void **state)
{
	struct svg_buf b;
	struct svg_bar bars[2] = { { "a", 0, -1, NULL, 0 }, { "b", 0, -1, NULL, 0 } };

	(void)state;
	svg_buf_init(&b);
	svg_hbars(&b, NULL, bars, 2);
	assert_int_equal(xml_check(b.data), 0);
	assert_null(strstr(b.data, "nan"));
	assert_null(strstr(b.data, "inf"));
	assert_int_equal(count(b.data, "width=\"0.0\""), 2);
	svg_buf_free(&b);
}

/* Grouped vertical bars: one rect per value, values printed, legend. */
static void
test_vbars(void **state)
{
	struct svg_buf b;
	const char *const cats[4] = { "0", "1", "2", "3+" };
	double before[4] = { 5, 3, 2, 0 }, after[4] = { 1, 4, 3, 2 };
	struct svg_series s[2] = { { "before", before }, { "after <plan>", after } };
	struct svg_chart c = { "Contacts per customer", "contacts",
	    "customers", 0, 0 };

	(void)state;
	svg_buf_init(&b);
	svg_vbars(&b, &c, cats, 4, s, 2);
	assert_int_equal(xml_check(b.data), 0);
	/* 8 bars + 2 legend squares. */
	assert_int_equal(count(b.data, "<rect"), 10);
	assert_non_null(strstr(b.data, ">3+<"));
	assert_non_null(strstr(b.data, "after &lt;plan&gt;"));
	assert_non_null(strstr(b.data, ">customers<"));
	/* y axis rounds 5 up to a nice 5 with steps of 1.25 -> 2: 0..6. */
	assert_non_null(strstr(b.data, ">6<"));
	svg_buf_free(&b);
}

/* Line chart: one polyline per series through every point. */
static void
test_line(void **state)
{
	struct svg_buf b;
	double x[3] = { 0, 1, 2 }, obj[3] = { 10, 20, 30 }, bnd[3] = { 50, 40, 31 };
	struct svg_series s[2] = { { "objective", obj }, { "bound", bnd } };
	struct svg_chart c = { "Objective and bound", "seconds", NULL, 0, -1 };
	const char *p;

	(void)state;
	svg_buf_init(&b);
	svg_line(&b, &c, x, 3, s, 2);
	assert_int_equal(xml_check(b.data), 0);
	assert_int_equal(count(b.data, "<polyline"), 2);
	p = strstr(b.data, "points=\"");
	assert_non_null(p);
	/* Three points: two spaces between them. */
	assert_int_equal(count(p, " ") >= 2, 1);
	assert_non_null(strstr(b.data, ">31<"));
	/* One point only still draws a visible dot. */
	svg_buf_free(&b);
	svg_buf_init(&b);
	svg_line(&b, &c, x, 1, s, 1);
	assert_int_equal(xml_check(b.data), 0);
	assert_int_equal(count(b.data, "<circle"), 1);
	svg_buf_free(&b);
}

/* Negative values in a bar chart stay inside the plot. */
static void
test_negative(void **state)
{
	struct svg_buf b;
	const char *const cats[2] = { "a", "b" };
	double v[2] = { -4, 8 };
	struct svg_series s = { "net", v };

	(void)state;
	svg_buf_init(&b);
	svg_vbars(&b, NULL, cats, 2, &s, 1);
	assert_int_equal(xml_check(b.data), 0);
	assert_non_null(strstr(b.data, ">-4<"));
	assert_null(strstr(b.data, "height=\"-"));
	svg_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_buf_grows),
		cmocka_unit_test(test_number),
		cmocka_unit_test(test_hbars),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_zero_values),
		cmocka_unit_test(test_vbars),
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_negative),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
