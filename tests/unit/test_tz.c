/*
 * Unit tests for solver/core/tz.c: offset tables from the system zoneinfo
 * across the 2026 DST transitions, the text encoding, and quiet hours
 * evaluated in local time (tz_offset with rules_quiet).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pacer/conf.h"
#include "pacer/rules.h"
#include "pacer/tz.h"

#define HOUR		3600
#define Y2026		((int64_t)1767225600)	/* 2026-01-01 00:00:00 UTC */
#define Y2027		((int64_t)1798761600)	/* 2027-01-01 00:00:00 UTC */
#define PARIS_SUMMER	((int64_t)1774746000)	/* 2026-03-29 01:00:00 UTC */
#define PARIS_WINTER	((int64_t)1792890000)	/* 2026-10-25 01:00:00 UTC */
#define NY_SUMMER	((int64_t)1772953200)	/* 2026-03-08 07:00:00 UTC */
#define NY_WINTER	((int64_t)1793512800)	/* 2026-11-01 06:00:00 UTC */

/* UTC has one offset, 0, over any span. */
static void
test_utc(void **state)
{
	struct tz_table	 t;

	(void)state;
	assert_int_equal(tz_table("UTC", Y2026, Y2027, &t), 0);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.at[0], Y2026);
	assert_int_equal(t.offset[0], 0);
	assert_int_equal(tz_offset(&t, PARIS_SUMMER), 0);
	assert_int_equal(tz_table("Etc/UTC", Y2026, Y2027, &t), 0);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.offset[0], 0);
}

/* Europe/Paris in 2026: CET, CEST from 03-29 01:00 UTC, CET from 10-25. */
static void
test_paris_2026(void **state)
{
	struct tz_table	 t;

	(void)state;
	assert_int_equal(tz_table("Europe/Paris", Y2026, Y2027, &t), 0);
	assert_int_equal(t.n, 3);
	assert_int_equal(t.at[0], Y2026);
	assert_int_equal(t.offset[0], 3600);
	assert_int_equal(t.at[1], PARIS_SUMMER);
	assert_int_equal(t.offset[1], 7200);
	assert_int_equal(t.at[2], PARIS_WINTER);
	assert_int_equal(t.offset[2], 3600);
	assert_int_equal(tz_offset(&t, PARIS_SUMMER - 1), 3600);
	assert_int_equal(tz_offset(&t, PARIS_SUMMER), 7200);
	assert_int_equal(tz_offset(&t, PARIS_WINTER - 1), 7200);
	assert_int_equal(tz_offset(&t, PARIS_WINTER), 3600);
	/* Before the span its first offset, after it its last. */
	assert_int_equal(tz_offset(&t, Y2026 - 200 * 86400), 3600);
	assert_int_equal(tz_offset(&t, Y2027 + 100 * 86400), 3600);
	assert_int_equal(tz_offset(&t, INT64_MIN), 3600);
	assert_int_equal(tz_offset(&t, INT64_MAX), 3600);

	/* A span starting in summer starts with the summer offset. */
	assert_int_equal(tz_table("Europe/Paris", PARIS_SUMMER, PARIS_SUMMER + 86400,
	    &t), 0);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.offset[0], 7200);
	assert_int_equal(tz_table("Europe/Paris", PARIS_SUMMER - 1, PARIS_SUMMER + 1,
	    &t), 0);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.at[1], PARIS_SUMMER);
	/* Summer until winter: before the span, the offset is not known. */
	assert_int_equal(tz_offset(&t, PARIS_SUMMER - 86400), 3600);
}

/* America/New_York in 2026: EST, EDT from 03-08 07:00 UTC, EST from 11-01. */
static void
test_new_york_2026(void **state)
{
	struct tz_table	 t;

	(void)state;
	assert_int_equal(tz_table("America/New_York", Y2026, Y2027, &t), 0);
	assert_int_equal(t.n, 3);
	assert_int_equal(t.offset[0], -5 * HOUR);
	assert_int_equal(t.at[1], NY_SUMMER);
	assert_int_equal(t.offset[1], -4 * HOUR);
	assert_int_equal(t.at[2], NY_WINTER);
	assert_int_equal(t.offset[2], -5 * HOUR);
	assert_int_equal(tz_offset(&t, NY_SUMMER - 1), -5 * HOUR);
	assert_int_equal(tz_offset(&t, NY_SUMMER), -4 * HOUR);
	assert_int_equal(tz_offset(&t, NY_WINTER - 1), -4 * HOUR);
	assert_int_equal(tz_offset(&t, NY_WINTER), -5 * HOUR);
}

/* Several years fit, and the cache answers the same as the first call. */
static void
test_span_and_cache(void **state)
{
	struct tz_table	 a, b;

	(void)state;
	assert_int_equal(tz_table("Europe/Paris", Y2026, Y2026 + 3 * 365 * 86400LL,
	    &a), 0);
	assert_int_equal(a.n, 7);
	for (int i = 1; i < a.n; i++)
		assert_true(a.at[i] > a.at[i - 1]);
	assert_int_equal(tz_table("Europe/Paris", Y2026, Y2026 + 3 * 365 * 86400LL,
	    &b), 0);
	assert_memory_equal(&a, &b, sizeof a);
	/* Zones without DST: one entry. */
	assert_int_equal(tz_table("Asia/Tokyo", Y2026, Y2027, &a), 0);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.offset[0], 9 * HOUR);
	assert_int_equal(tz_table("Asia/Kolkata", Y2026, Y2027, &a), 0);
	assert_int_equal(a.offset[0], 5 * HOUR + 30 * 60);
	/* The process's TZ is left as it was. */
	setenv("TZ", "Asia/Tokyo", 1);
	assert_int_equal(tz_table("America/Chicago", Y2026, Y2027, &a), 0);
	assert_string_equal(getenv("TZ"), "Asia/Tokyo");
	unsetenv("TZ");
	assert_int_equal(tz_table("America/Denver", Y2026, Y2027, &a), 0);
	assert_null(getenv("TZ"));
}

/* Unknown zones and names that try to leave the zoneinfo folder. */
static void
test_bad_names(void **state)
{
	static const char *const bad[] = {
		"Mars/Olympus_Mons", "Europe/Pariss", "../etc/passwd",
		"/etc/passwd", "/usr/share/zoneinfo/UTC", "Europe/../../../etc/passwd",
		"Europe/..", "..", "Europe/Paris\n", "Europe/Paris ", "Europe\\Paris",
		"Europe/Paris;rm", "", "Europe", "America", "Europe/",
		"leapseconds", "zone.tab", "tzdata.zi", "posix/../UTC",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	struct tz_table	 t;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (tz_table(bad[i], Y2026, Y2027, &t) != -1)
			fail_msg("zone \"%s\" accepted", bad[i]);
	}
	assert_int_equal(tz_valid_name("Europe/Paris"), 1);
	assert_int_equal(tz_valid_name("America/Argentina/Buenos_Aires"), 1);
	assert_int_equal(tz_valid_name("Etc/GMT+5"), 1);
	assert_int_equal(tz_valid_name("America/Port-au-Prince"), 1);
	assert_int_equal(tz_valid_name("../x"), 0);
	assert_int_equal(tz_valid_name("a/../b"), 0);
	assert_int_equal(tz_valid_name("/UTC"), 0);
	assert_int_equal(tz_valid_name(""), 0);
	assert_int_equal(tz_valid_name("Europe/Paris%00"), 0);
	assert_int_equal(tz_table("Etc/GMT+5", Y2026, Y2027, &t), 0);
	assert_int_equal(t.offset[0], -5 * HOUR);
}

/* tz_encode and tz_decode are inverses. */
static void
test_encode_round_trip(void **state)
{
	struct tz_table	 t, back;
	char		 buf[2048];
	size_t		 n;

	(void)state;
	assert_int_equal(tz_table("Europe/Paris", Y2026, Y2027, &t), 0);
	n = tz_encode(&t, buf, sizeof buf);
	assert_string_equal(buf, "3600@1767225600;7200@1774746000;3600@1792890000");
	assert_int_equal(n, strlen(buf));
	assert_int_equal(tz_decode(buf, &back), 0);
	assert_int_equal(back.n, t.n);
	for (int i = 0; i < t.n; i++) {
		assert_int_equal(back.at[i], t.at[i]);
		assert_int_equal(back.offset[i], t.offset[i]);
	}
	assert_int_equal(tz_table("America/New_York", Y2026, Y2027, &t), 0);
	tz_encode(&t, buf, sizeof buf);
	assert_string_equal(buf, "-18000@1767225600;-14400@1772953200;"
	    "-18000@1793512800");
	assert_int_equal(tz_decode(buf, &back), 0);
	assert_int_equal(tz_offset(&back, NY_SUMMER), -4 * HOUR);

	/* A full table with extreme values. */
	t.n = TZ_MAX_TRANSITIONS;
	for (int i = 0; i < t.n; i++) {
		t.at[i] = INT64_MIN + 1 + i;
		t.offset[i] = i % 2 ? -86400 : 86400;
	}
	t.at[t.n - 1] = INT64_MAX;
	n = tz_encode(&t, buf, sizeof buf);
	assert_true(n > 0 && n < sizeof buf);
	assert_int_equal(tz_decode(buf, &back), 0);
	assert_memory_equal(back.at, t.at, sizeof t.at);
	assert_memory_equal(back.offset, t.offset, sizeof t.offset);
}

/* The stored table is the same all day long and moves with the day. */
static void
test_profile_table(void **state)
{
	struct tz_table	 a, b;
	char		 ta[2048], tb[2048];

	(void)state;
	assert_int_equal(tz_profile_table("Europe/Paris", Y2026 + 1, &a), 0);
	assert_int_equal(tz_profile_table("Europe/Paris", Y2026 + 86399, &b), 0);
	tz_encode(&a, ta, sizeof ta);
	tz_encode(&b, tb, sizeof tb);
	assert_string_equal(ta, tb);
	assert_int_equal(a.at[0], Y2026 - 400 * 86400LL);
	assert_int_equal(tz_offset(&a, Y2026 + 1099 * 86400LL), tz_offset(&b,
	    Y2026 + 1099 * 86400LL));
	assert_int_equal(tz_profile_table("Europe/Paris", Y2026 + 86400, &b), 0);
	assert_int_equal(b.at[0], Y2026 - 399 * 86400LL);
	assert_int_equal(tz_profile_table("Nowhere/City", Y2026, &b), -1);
}

/* A buffer too small gets "" rather than a cut-off table. */
static void
test_encode_truncated(void **state)
{
	struct tz_table	 t;
	char		 buf[64];
	struct tz_table	 back;

	(void)state;
	assert_int_equal(tz_table("Europe/Paris", Y2026, Y2027, &t), 0);
	/* "3600@1767225600;7200@1774746000;3600@1792890000" is 47 bytes. */
	assert_int_equal(tz_encode(&t, buf, 48), 47);
	memset(buf, 'x', sizeof buf);
	assert_int_equal(tz_encode(&t, buf, 47), 0);
	assert_string_equal(buf, "");
	assert_int_equal(tz_decode(buf, &back), -1);
	assert_int_equal(tz_encode(&t, buf, 20), 0);
	assert_string_equal(buf, "");
	assert_int_equal(tz_encode(&t, buf, 1), 0);
	assert_int_equal(tz_encode(&t, buf, 0), 0);
}

/* tz_decode rejects everything the encoder never writes. */
static void
test_decode_errors(void **state)
{
	static const char *const bad[] = {
		"", "3600", "3600@", "@5", "3600@5;", ";3600@5", "x@5", "3600@x",
		"3600@5x", "3600@5;;7200@6", "3600@5;7200@5", "3600@5;7200@4",
		"99999999999@5", "86401@5", "-86401@5", "3600@99999999999999999999",
		" 3600@5", "+3600@5", "3600@ 5", "3600@+5", "3600@5 ", "3600 @5",
	};
	struct tz_table	 t;
	char		 many[2048];
	size_t		 off = 0;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (tz_decode(bad[i], &t) != -1)
			fail_msg("decoded \"%s\"", bad[i]);
	}
	assert_int_equal(tz_decode("0@0", &t), 0);
	assert_int_equal(t.n, 1);
	assert_int_equal(tz_decode("-36000@-5;86400@7", &t), 0);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.offset[0], -36000);
	assert_int_equal(t.at[0], -5);
	/* TZ_MAX_TRANSITIONS entries fit; one more does not. */
	for (int i = 0; i < TZ_MAX_TRANSITIONS; i++)
		off += (size_t)snprintf(many + off, sizeof many - off, "%s0@%d",
		    i ? ";" : "", i);
	assert_int_equal(tz_decode(many, &t), 0);
	assert_int_equal(t.n, TZ_MAX_TRANSITIONS);
	snprintf(many + off, sizeof many - off, ";0@%d", TZ_MAX_TRANSITIONS);
	assert_int_equal(tz_decode(many, &t), -1);
	/* An empty table answers 0. */
	t.n = 0;
	assert_int_equal(tz_offset(&t, 12345), 0);
}

/* Seconds after local midnight at t in the zone of table. */
static int
local_seconds(const struct tz_table *table, int64_t t)
{
	return (int)(((t + tz_offset(table, t)) % 86400 + 86400) % 86400);
}

/* Email quiet hours 21:00-08:00 in Paris local time around both changes. */
static void
test_quiet_hours_across_dst(void **state)
{
	struct conf	*c;
	char		*cause = NULL;
	struct tz_table	 t;
	int64_t		 retry;
	const struct conf_channel *ch;
	int64_t		 before = PARIS_SUMMER - 29 * HOUR;	/* 03-28 20:00 UTC */
	int64_t		 after = PARIS_SUMMER + 18 * HOUR;	/* 03-29 19:00 UTC */

	(void)state;
	c = conf_load_string("[channel email]\nquiet_hours = 21:00-08:00\n", "q.conf",
	    &cause);
	assert_non_null(c);
	ch = &c->channels[0];
	assert_int_equal(tz_table("Europe/Paris", Y2026, Y2027, &t), 0);

	/* Winter (CET, +1): 21:00 local is 20:00 UTC. */
	assert_int_equal(rules_quiet(ch, local_seconds(&t, before - 1), &retry), 0);
	assert_int_equal(rules_quiet(ch, local_seconds(&t, before), &retry), 1);
	assert_int_equal(retry, 11 * HOUR);
	/* 08:00 CET on 03-28 is 07:00 UTC. */
	assert_int_equal(rules_quiet(ch, local_seconds(&t, before - 13 * HOUR - 1),
	    &retry), 1);
	assert_int_equal(retry, 1);
	assert_int_equal(rules_quiet(ch, local_seconds(&t, before - 13 * HOUR),
	    &retry), 0);

	/* Summer (CEST, +2): 21:00 local is 19:00 UTC, 08:00 is 06:00 UTC. */
	assert_int_equal(rules_quiet(ch, local_seconds(&t, after - 1), &retry), 0);
	assert_int_equal(rules_quiet(ch, local_seconds(&t, after), &retry), 1);
	assert_int_equal(rules_quiet(ch, local_seconds(&t, after + 11 * HOUR - 1),
	    &retry), 1);
	assert_int_equal(retry, 1);
	assert_int_equal(rules_quiet(ch, local_seconds(&t, after + 11 * HOUR),
	    &retry), 0);
	/* 19:30 UTC is quiet in summer (21:30) and not in winter (20:30). */
	assert_int_equal(rules_quiet(ch, local_seconds(&t, after + 86400 + 30 * 60),
	    &retry), 1);
	assert_int_equal(retry, 10 * HOUR + 30 * 60);
	assert_int_equal(rules_quiet(ch, local_seconds(&t, before - 30 * 60),
	    &retry), 0);
	/* Autumn: 20:30 local is 18:30 UTC in CEST, 19:30 UTC in CET. */
	assert_int_equal(rules_quiet(ch, local_seconds(&t, PARIS_WINTER - 86400 * 2 +
	    17 * HOUR + 30 * 60), &retry), 0);	/* 10-23 20:30 CEST */
	assert_int_equal(rules_quiet(ch, local_seconds(&t, PARIS_WINTER - 86400 * 2 +
	    18 * HOUR), &retry), 1);		/* 10-23 21:00 CEST */
	assert_int_equal(rules_quiet(ch, local_seconds(&t, PARIS_WINTER + 86400 * 2 +
	    18 * HOUR + 30 * 60), &retry), 0);	/* 10-27 20:30 CET */
	assert_int_equal(rules_quiet(ch, local_seconds(&t, PARIS_WINTER + 86400 * 2 +
	    19 * HOUR), &retry), 1);		/* 10-27 21:00 CET */

	/* Through rules_decide with the offset at "now", New York in summer. */
	{
		struct rules_customer	 cu;
		struct rules_verdict	 v;
		struct tz_table		 ny;
		int64_t			 now = NY_SUMMER + 18 * HOUR;	/* 21:00 EDT */

		assert_int_equal(tz_table("America/New_York", Y2026, Y2027, &ny), 0);
		memset(&cu, 0, sizeof cu);
		cu.consent[0] = 1;
		cu.utc_offset = tz_offset(&ny, now);
		rules_decide(c, NULL, 0, &cu, 0, -1, NULL, now, &v);
		assert_int_equal(v.reason, RULES_QUIET_HOURS);
		assert_int_equal(v.retry_after, 11 * HOUR);
		cu.utc_offset = tz_offset(&ny, now - 1);
		rules_decide(c, NULL, 0, &cu, 0, -1, NULL, now - 1, &v);
		assert_int_equal(v.reason, RULES_OK);
	}
	conf_free(c);
}

/* Run every test of this file. */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utc),
		cmocka_unit_test(test_profile_table),
		cmocka_unit_test(test_paris_2026),
		cmocka_unit_test(test_new_york_2026),
		cmocka_unit_test(test_span_and_cache),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_encode_round_trip),
		cmocka_unit_test(test_encode_truncated),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_quiet_hours_across_dst),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
