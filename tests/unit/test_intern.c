/*
 * Unit tests for the interner (solver/model/intern.c): ids in order of first
 * appearance, stable through growth, strings found by their bytes only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pacer/intern.h"

static void
test_ids_in_order(void **state)
{
	struct intern	 t = { 0 };
	int		 added;

	(void)state;
	assert_int_equal(intern_find(&t, "a", 1), -1);	/* empty: no table */
	assert_int_equal(intern_add(&t, "email", 5, &added), 0);
	assert_true(added);
	assert_int_equal(intern_add(&t, "sms", 3, &added), 1);
	assert_int_equal(intern_add(&t, "email", 5, &added), 0);
	assert_false(added);
	/* By its n bytes: a prefix of a longer text, or a longer one. */
	assert_int_equal(intern_add(&t, "smsX", 3, NULL), 1);
	assert_int_equal(intern_find(&t, "emai", 4), -1);
	assert_int_equal(intern_find(&t, "emails", 6), -1);
	assert_int_equal(intern_add(&t, "", 0, &added), 2);	/* empty: a name */
	assert_true(added);
	assert_string_equal(intern_str(&t, 0), "email");
	assert_string_equal(intern_str(&t, 1), "sms");
	assert_string_equal(intern_str(&t, 2), "");
	intern_free(&t);
	assert_int_equal(t.n, 0);
	intern_free(NULL);
}

/* Enough strings to grow every array several times, ids unchanged. */
static void
test_growth(void **state)
{
	struct intern	 t = { 0 };
	char		 s[32];
	enum { N = 300000 };

	(void)state;
	for (int i = 0; i < N; i++) {
		int	 n = snprintf(s, sizeof s, "customer-%ld", (long)i * 7919);

		assert_int_equal(intern_add(&t, s, (size_t)n, NULL), i);
	}
	assert_int_equal(t.n, N);
	assert_true(t.tcap >= 2 * (size_t)N);
	for (int i = 0; i < N; i += 997) {
		int	 n = snprintf(s, sizeof s, "customer-%ld", (long)i * 7919);

		assert_int_equal(intern_find(&t, s, (size_t)n), i);
		assert_string_equal(intern_str(&t, i), s);
	}
	assert_int_equal(intern_find(&t, "customer-1", 10), -1);
	intern_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids_in_order),
		cmocka_unit_test(test_growth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
