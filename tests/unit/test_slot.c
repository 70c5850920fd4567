/*
 * Unit tests for solver/model/slot.c: CRC16 and key slots as Redis Cluster
 * computes them, a tag per slot, seed node lists.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pacer/slot.h"

/* The check value of CRC16/XMODEM, and slots redis-cli CLUSTER KEYSLOT gives. */
static void
test_crc_and_slots(void **state)
{
	(void)state;
	assert_int_equal(slot_crc16("123456789", 9), 0x31c3);
	assert_int_equal(slot_of_key("foo", 3), 12182);
	assert_int_equal(slot_of_key("bar", 3), 5061);
	/* The hash tag decides; an empty one does not count. */
	assert_int_equal(slot_of_key("pacer:{c-1}:p", 13), slot_of_key("c-1", 3));
	assert_int_equal(slot_of_key("pacer:{c-1}:o", 13), slot_of_key("c-1", 3));
	assert_int_equal(slot_of_key("a{}b", 4), slot_crc16("a{}b", 4) & 16383);
	assert_int_equal(slot_of_key("{a}{b}", 6), slot_of_key("a", 1));
	assert_int_equal(slot_of_key("x{a", 3), slot_crc16("x{a", 3) & 16383);
}

/* Every slot gets a tag of at most 4 bytes that hashes to it. */
static void
test_tags(void **state)
{
	char	 key[64];

	(void)state;
	for (int s = 0; s < SLOT_COUNT; s++) {
		const char *tag = slot_tag(s);
		size_t	 n = strlen(tag);

		assert_true(n >= 1 && n <= 4);
		assert_int_equal(slot_crc16(tag, n) & 16383, s);
		n = (size_t)snprintf(key, sizeof key, "pacer:audit:{%s}", tag);
		assert_int_equal(slot_of_key(key, n), s);
	}
}

/* host:port lists, with spaces and IPv6; malformed ones refused. */
static void
test_nodes(void **state)
{
	char	 host[SLOT_HOST_MAX];
	size_t	 pos = 0;
	int	 port;
	const char *list = " 10.0.0.1:6379, redis-b:7000 ,[::1]:7001";
	static const char *const bad[] = { "host", ":6379", "h:", "h:0", "h:65536",
	    "h:12x", "[::1]7000", "a:1:2" };

	(void)state;
	assert_int_equal(slot_next_node(list, &pos, host, &port), 1);
	assert_string_equal(host, "10.0.0.1");
	assert_int_equal(port, 6379);
	assert_int_equal(slot_next_node(list, &pos, host, &port), 1);
	assert_string_equal(host, "redis-b");
	assert_int_equal(port, 7000);
	assert_int_equal(slot_next_node(list, &pos, host, &port), 1);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 7001);
	assert_int_equal(slot_next_node(list, &pos, host, &port), 0);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		pos = 0;
		assert_int_equal(slot_next_node(bad[i], &pos, host, &port), -1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc_and_slots),
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_nodes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
