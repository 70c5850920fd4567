/*
 * Unit tests for solver/model/keys.c: ids, key names with their hash tag,
 * the packed history and the holdout share.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pacer/keys.h"
#include "pacer/str.h"

/* Customer and send ids: 1-128 bytes of [A-Za-z0-9_.:@-]. */
static void
test_valid_ids(void **state)
{
	static const char *const good[] = { "a", "0", "c-42", "jane.doe@example.com",
	    "tenant:42:cust_7", "ABCxyz019_.:@-" };
	static const char *const bad[] = { "", " ", "a b", "a/b", "a{b", "a}b",
	    "a|b", "a\nb", "a\tb", "a,b", "a;b", "a*b", "a#b", "a%b", "a\"b",
	    "caf\xC3\xA9", "a\x7f", "\x80" };
	char	 id[KEYS_CUSTOMER_MAX + 2];

	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		assert_int_equal(keys_valid_customer(good[i]), 1);
		assert_int_equal(keys_valid_send_id(good[i]), 1);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (keys_valid_customer(bad[i]) || keys_valid_send_id(bad[i]))
			fail_msg("accepted \"%s\"", bad[i]);
	}
	memset(id, 'x', sizeof id);
	id[128] = '\0';
	assert_int_equal(keys_valid_customer(id), 1);
	assert_int_equal(keys_valid_send_id(id), 1);
	id[128] = 'x';
	id[129] = '\0';
	assert_int_equal(keys_valid_customer(id), 0);
	assert_int_equal(keys_valid_send_id(id), 0);
	/* A bad byte anywhere, even at the very end, is caught. */
	id[127] = '/';
	id[128] = '\0';
	assert_int_equal(keys_valid_customer(id), 0);
}

/* Key names carry the customer's hash tag. */
static void
test_key_names(void **state)
{
	char	 buf[KEYS_MAX], small[8];
	size_t	 n;

	(void)state;
	n = keys_customer(buf, sizeof buf, "pacer", "c-42", "h");
	assert_string_equal(buf, "pacer:{c-42}:h");
	assert_int_equal(n, strlen(buf));
	keys_customer(buf, sizeof buf, "p", "a:b@c", "p");
	assert_string_equal(buf, "p:{a:b@c}:p");
	n = keys_global(buf, sizeof buf, "pacer", "plan:live");
	assert_string_equal(buf, "pacer:plan:live");
	assert_int_equal(n, 15);
	/* Like snprintf: the length it needs, the text cut to fit. */
	n = keys_customer(small, sizeof small, "pacer", "c-42", "h");
	assert_int_equal(n, 14);
	assert_string_equal(small, "pacer:{");
	n = keys_contact_entry(buf, sizeof buf, 1700000000, "email", "welcome", "s1", NULL);
	assert_string_equal(buf, "1700000000|email|welcome|s1\n");
	assert_int_equal(n, 28);
	keys_contact_entry(buf, sizeof buf, 5, "sms", NULL, "s2", "");
	assert_string_equal(buf, "5|sms||s2\n");
	keys_contact_entry(buf, sizeof buf, 5, "sms", "c", "s2", "credit");
	assert_string_equal(buf, "5|sms|c|s2|credit\n");
	/* The longest customer and suffix fit in KEYS_MAX. */
	{
		char	 id[KEYS_CUSTOMER_MAX + 1];

		memset(id, 'c', KEYS_CUSTOMER_MAX);
		id[KEYS_CUSTOMER_MAX] = '\0';
		n = keys_customer(buf, sizeof buf, "pacer-production", id, "h");
		assert_true(n < sizeof buf);
	}
}

/* A packed history reads back entry by entry; malformed text is refused. */
static void
test_history(void **state)
{
	static const char h[] = "1700000000|email|welcome|s1\n5|sms||\n"
	    "6|push|c|s3|credit\n";
	static const char *const bad[] = {
		"1|email|c|s", "x|email||s\n", "|email||s\n", "-1|email||s\n",
		"1|email|s\n", "1|email|c|s|t|u\n", "1|email|c|s|\n", "1||c|s\n",
		"1\n",
		"99999999999999999999|email||s\n",
	};
	struct keys_contact c;
	size_t		 pos = 0;

	(void)state;
	assert_int_equal(keys_history_next(h, sizeof h - 1, &pos, &c), 1);
	assert_int_equal(c.time, 1700000000);
	assert_int_equal(c.channel_len, 5);
	assert_memory_equal(c.channel, "email", 5);
	assert_int_equal(c.campaign_len, 7);
	assert_memory_equal(c.campaign, "welcome", 7);
	assert_int_equal(c.send_id_len, 2);
	assert_memory_equal(c.send_id, "s1", 2);
	assert_int_equal(c.category_len, 0);
	assert_int_equal(keys_history_next(h, sizeof h - 1, &pos, &c), 1);
	assert_int_equal(c.time, 5);
	assert_int_equal(c.campaign_len, 0);
	assert_int_equal(c.send_id_len, 0);
	assert_int_equal(keys_history_next(h, sizeof h - 1, &pos, &c), 1);
	assert_int_equal(c.time, 6);
	assert_int_equal(c.send_id_len, 2);
	assert_memory_equal(c.send_id, "s3", 2);
	assert_int_equal(c.category_len, 6);
	assert_memory_equal(c.category, "credit", 6);
	assert_int_equal(keys_history_next(h, sizeof h - 1, &pos, &c), 0);
	assert_int_equal(keys_history_next("", 0, &(size_t){ 0 }, &c), 0);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		pos = 0;
		assert_int_equal(keys_history_next(bad[i], strlen(bad[i]), &pos,
		    &c), -1);
	}
}

/* The holdout is deterministic and close to the share. */
static void
test_holdout(void **state)
{
	char	 id[32];
	int	 in5 = 0, in50 = 0, nested = 1;
	int	 n = 100000;

	(void)state;
	for (int i = 0; i < n; i++) {
		int	 a, b;

		snprintf(id, sizeof id, "cust-%d", i);
		a = keys_in_holdout(id, 0.05);
		assert_int_equal(a, keys_in_holdout(id, 0.05));
		b = keys_in_holdout(id, 0.5);
		in5 += a;
		in50 += b;
		/* A customer held out at 5% stays held out at 50%. */
		if (a && !b)
			nested = 0;
		assert_int_equal(keys_in_holdout(id, 0), 0);
		assert_int_equal(keys_in_holdout(id, -1), 0);
		assert_int_equal(keys_in_holdout(id, 1), 1);
	}
	/* Within 3.5 standard deviations of the expected count. */
	assert_in_range(in5, 5000 - 240, 5000 + 240);
	assert_in_range(in50, 50000 - 560, 50000 + 560);
	assert_true(nested);
	/* Similar ids land on both sides (no clumping on the last byte). */
	in5 = 0;
	for (int i = 0; i < 1000; i++) {
		snprintf(id, sizeof id, "%d", i);
		in5 += keys_in_holdout(id, 0.1);
	}
	assert_in_range(in5, 60, 140);
	/*
	 * Known answers pin the hash: every process, run and the daemon's
	 * script must agree on who is held out.
	 */
	{
		static const int want[] = { 17, 23, 27, 32, 53, 54, 64, 81, 85, 100,
		    109, 120, 143, 148, 165, 184 };
		size_t	 k = 0;

		for (int i = 0; i < 200; i++) {
			snprintf(id, sizeof id, "cust-%d", i);
			if (!keys_in_holdout(id, 0.05))
				continue;
			assert_true(k < sizeof want / sizeof want[0]);
			assert_int_equal(i, want[k]);
			k++;
		}
		assert_int_equal(k, sizeof want / sizeof want[0]);
	}
}

/* Run every test of this file. */
/* The text builder under keys_customer and the daemon's answers. */
static void
test_str_buf(void **state)
{
	char		 buf[32], tiny[6];
	struct str_buf	 b;

	(void)state;
	str_buf_init(&b, buf, sizeof buf);
	str_buf_lit(&b, "n=");
	str_buf_int(&b, -1234567890123LL);
	str_buf_lit(&b, " h=");
	str_buf_hex(&b, 0xbeef, 8);
	str_buf_lit(&b, " z=");
	str_buf_int(&b, 0);
	assert_int_equal(str_buf_end(&b), 31);
	assert_string_equal(buf, "n=-1234567890123 h=0000beef z=0");
	/* Cut like snprintf, with every byte asked for counted. */
	str_buf_init(&b, tiny, sizeof tiny);
	str_buf_cat(&b, "abc");
	str_buf_cat(&b, "defgh");
	assert_int_equal(str_buf_end(&b), -1);
	assert_int_equal(b.len, 8);
	assert_string_equal(tiny, "abcde");
	str_buf_init(&b, tiny, sizeof tiny);
	str_buf_cat(&b, "abcde");
	assert_int_equal(str_buf_end(&b), 5);
	assert_string_equal(tiny, "abcde");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_ids),
		cmocka_unit_test(test_key_names),
		cmocka_unit_test(test_history),
		cmocka_unit_test(test_holdout),
		cmocka_unit_test(test_str_buf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
