/*
 * Unit tests for solver/cmd/world.c: how mpirun -np K pacer optimize
 * shards the customers (contiguous Redis Cluster slot ranges, each slot
 * one rank's, a customer's slot that of its keys), and a build without
 * MPI refusing a launch of several processes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* The module under test (its no-MPI half: PACER_HAVE_MPI is unset here). */
#include "../../solver/cmd/world.c"

#include "pacer/keys.h"

/* Every slot belongs to exactly one rank, in rank order, evenly. */
static void
test_slots_cover(void **state)
{
	int	 size, r, lo, hi, prev;

	(void)state;
	for (size = 1; size <= 64; size++) {
		prev = 0;
		for (r = 0; r < size; r++) {
			cmd_world_slots(r, size, &lo, &hi);
			assert_int_equal(lo, prev);
			assert_true(hi > lo);
			/* Even: sizes differ by one slot at most. */
			assert_true(hi - lo == SLOT_COUNT / size ||
			    hi - lo == SLOT_COUNT / size + 1);
			prev = hi;
		}
		assert_int_equal(prev, SLOT_COUNT);
	}
	cmd_world_slots(0, 1, &lo, &hi);
	assert_int_equal(lo, 0);
	assert_int_equal(hi, SLOT_COUNT);
	/* Two ranks: the two halves, as a two-master cluster splits them. */
	cmd_world_slots(1, 2, &lo, &hi);
	assert_int_equal(lo, 8192);
	assert_int_equal(hi, 16384);
}

/* A customer's slot is the slot of its keys ("PREFIX:{ID}:..."). */
static void
test_slot_of_customer(void **state)
{
	char	 id[32], key[KEYS_MAX];
	int	 i, n[2] = { 0, 0 }, s, lo, hi;

	(void)state;
	cmd_world_slots(0, 2, &lo, &hi);
	for (i = 0; i < 2000; i++) {
		snprintf(id, sizeof id, "c%06d", i);
		s = cmd_world_slot(id, strlen(id));
		assert_true(s >= 0 && s < SLOT_COUNT);
		keys_customer(key, sizeof key, "pacer", id, "p");
		assert_int_equal(s, slot_of_key(key, strlen(key)));
		n[s >= lo && s < hi ? 0 : 1]++;
	}
	/* A hash: both halves get about half of a numbered id range. */
	assert_true(n[0] > 800 && n[1] > 800);
	/* The Redis Cluster specification's example: "123456789" is 0x31C3. */
	assert_int_equal(cmd_world_slot("123456789", 9), 0x31c3);
}

/* The world size a launcher gives, and refusing several without MPI. */
static void
test_launched(void **state)
{
	struct cmd_world	 w;
	char			*cause = NULL;

	(void)state;
	unsetenv("OMPI_COMM_WORLD_SIZE");
	unsetenv("PMI_SIZE");
	unsetenv("PMIX_SIZE");
	assert_int_equal(cmd_world_launched(), 1);
	assert_int_equal(cmd_world_start(&w, &cause), 0);
	assert_int_equal(w.size, 1);
	assert_null(w.solver);
	assert_int_equal(w.slot_hi - w.slot_lo, SLOT_COUNT);
	cmd_world_end(&w);
	setenv("OMPI_COMM_WORLD_SIZE", "1", 1);
	assert_int_equal(cmd_world_start(&w, &cause), 0);
	setenv("OMPI_COMM_WORLD_SIZE", "3", 1);
	assert_int_equal(cmd_world_launched(), 3);
	assert_int_equal(cmd_world_start(&w, &cause), -1);
	assert_non_null(strstr(cause, "without MPI"));
	free(cause);
	unsetenv("OMPI_COMM_WORLD_SIZE");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slots_cover),
		cmocka_unit_test(test_slot_of_customer),
		cmocka_unit_test(test_launched),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
