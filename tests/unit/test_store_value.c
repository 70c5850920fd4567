/*
 * Unit tests for the store's typed reply accessors (store.c): handlers read
 * replies only through them, so each must answer "nothing" for a reply of
 * another shape instead of reading what is not there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "replies.h"

#include "pacerd.h"

#define V(r)	((const struct store_value *)(r))

static void
test_types(void **state)
{
	redisReply	 t, i, nil, l;
	redisReply	*items[2] = { &t, &i };
	long long	 n = 7;
	size_t		 len = 0;

	(void)state;
	reply_str(&t, "ok");
	reply_int(&i, 42);
	memset(&nil, 0, sizeof nil);
	nil.type = REDIS_REPLY_NIL;
	reply_list(&l, items, 2);
	assert_int_equal(store_type(NULL), STORE_NONE);
	assert_int_equal(store_type(V(&nil)), STORE_NONE);
	assert_int_equal(store_type(V(&t)), STORE_TEXT);
	assert_int_equal(store_type(V(&i)), STORE_INTEGER);
	assert_int_equal(store_type(V(&l)), STORE_LIST);
	assert_string_equal(store_text(V(&t), &len), "ok");
	assert_int_equal(len, 2);
	assert_null(store_text(V(&i), NULL));
	assert_null(store_text(NULL, NULL));
	assert_int_equal(store_integer(V(&i), &n), 0);
	assert_int_equal(n, 42);
	assert_int_equal(store_integer(V(&t), &n), -1);
	assert_int_equal(n, 42);	/* untouched */
	assert_int_equal(store_count(V(&l)), 2);
	assert_int_equal(store_count(V(&t)), 0);
	assert_ptr_equal(store_item(V(&l), 1), V(&i));
	assert_null(store_item(V(&l), 2));
	assert_null(store_item(V(&t), 0));
	assert_string_equal(store_item_text(V(&l), 0), "ok");
	assert_null(store_item_text(V(&l), 1));	/* an integer */
	assert_null(store_item_text(V(&l), 5));
}

/* A field/value list (HGETALL) with an odd end and a non-text member. */
static void
test_field(void **state)
{
	redisReply	 f[5], l;
	redisReply	*items[5] = { &f[0], &f[1], &f[2], &f[3], &f[4] };

	(void)state;
	reply_str(&f[0], "c:email");
	reply_str(&f[1], "1");
	reply_int(&f[2], 3);	/* not a name: skipped, never compared */
	reply_str(&f[3], "seg");
	reply_str(&f[4], "tz");	/* a name without a value */
	reply_list(&l, items, 5);
	assert_string_equal(store_field(V(&l), "c:email"), "1");
	assert_null(store_field(V(&l), "1"));	/* values are not names */
	assert_null(store_field(V(&l), "tz"));
	assert_null(store_field(V(&l), "missing"));
	assert_null(store_field(V(&f[0]), "c:email"));	/* not a list */
	assert_null(store_field(NULL, "c:email"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_field),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
