/*
 * Unit tests for solver/model/tz.c: offset tables from the system zoneinfo
 * across the 2026 DST transitions, the text encoding, and quiet hours
 * evaluated in local time (tz_offset with rules_quiet). tz.c decodes the
 * zone files itself: every system zone is held against the C library's
 * answer, footer rules against the C library reading the same rule, and the
 * process's TZ must never move (another thread's local time stays put) nor
 * a zone's file be read twice.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* The C library's offset at t in the zone TZ is set to (test only). */
static int32_t
libc_offset(int64_t t)
{
	time_t		 tt = (time_t)t;
	struct tm	 tm;

	assert_non_null(localtime_r(&tt, &tm));
	return (int32_t)tm.tm_gmtoff;
}

/*
 * Hold table (of the zone in TZ, over [from, to]) against the C library:
 * every 5 hours, and on both sides of every change. The number of
 * disagreements (printed).
 */
static int
compare_with_libc(const char *what, const struct tz_table *t, int64_t from,
    int64_t to)
{
	int	 bad = 0;

	for (int64_t s = from; s <= to && bad < 3; s += 5 * HOUR) {
		if (tz_offset(t, s) != libc_offset(s)) {
			printf("%s: at %lld ours %d, libc %d\n", what, (long long)s,
			    (int)tz_offset(t, s), (int)libc_offset(s));
			bad++;
		}
	}
	for (int i = 1; i < t->n && bad < 3; i++) {
		if (tz_offset(t, t->at[i] - 1) != libc_offset(t->at[i] - 1) ||
		    tz_offset(t, t->at[i]) != libc_offset(t->at[i])) {
			printf("%s: change at %lld: ours %d, libc %d then %d\n", what,
			    (long long)t->at[i], (int)t->offset[i],
			    (int)libc_offset(t->at[i] - 1), (int)libc_offset(t->at[i]));
			bad++;
		}
	}
	return bad;
}

/* Walk dir/prefix for zone files; compare each; counts into *zones, *bad. */
static void
walk_zones(const char *dir, const char *prefix, int *zones, int *bad)
{
	char		 path[2048], name[1024];
	DIR		*d;
	struct dirent	*de;
	struct stat	 sb;
	struct tz_table	 t;
	static const int64_t spans[][2] = {
		{ Y2026 - 400 * 86400LL, Y2026 + 1100 * 86400LL },	/* profile */
		{ 2208988800LL, 2208988800LL + 3 * 366 * 86400LL },	/* 2040: rules */
	};

	snprintf(path, sizeof path, "%s/%s", dir, prefix);
	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "right") ||
		    !strcmp(de->d_name, "posix") || !strcmp(de->d_name, "localtime") ||
		    !strcmp(de->d_name, "posixrules") || !strcmp(de->d_name, "Factory"))
			continue;
		snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "/" : "",
		    de->d_name);
		snprintf(path, sizeof path, "%s/%s", dir, name);
		if (stat(path, &sb) != 0)
			continue;
		if (S_ISDIR(sb.st_mode)) {
			walk_zones(dir, name, zones, bad);
			continue;
		}
		if (strlen(name) >= TZ_NAME_MAX || !tz_valid_name(name) ||
		    tz_table(name, spans[0][0], spans[0][1], &t) != 0)
			continue;	/* zone.tab, leapseconds, ... */
		setenv("TZ", name, 1);
		tzset();
		for (size_t k = 0; k < sizeof spans / sizeof spans[0]; k++) {
			assert_int_equal(tz_table(name, spans[k][0], spans[k][1], &t), 0);
			*bad += compare_with_libc(name, &t, spans[k][0], spans[k][1]);
		}
		(*zones)++;
	}
	closedir(d);
}

/* Every zone of the system's zoneinfo agrees with the C library. */
static void
test_every_zone_matches_libc(void **state)
{
	int	 zones = 0, bad = 0;

	(void)state;
	walk_zones("/usr/share/zoneinfo", "", &zones, &bad);
	unsetenv("TZ");
	tzset();
	printf("%d zones compared\n", zones);
	assert_true(zones > 300);
	assert_int_equal(bad, 0);
}

/* Write a TZif v2 file at path: no transitions, one type, footer rule. */
static void
write_tzif(const char *path, int32_t utoff, const char *rule)
{
	unsigned char	 head[44], block[7];
	FILE		*fp;

	memset(head, 0, sizeof head);
	memcpy(head, "TZif2", 5);
	head[20 + 4 * 4 + 3] = 1;	/* typecnt */
	head[20 + 5 * 4 + 3] = 1;	/* charcnt */
	block[0] = (unsigned char)((uint32_t)utoff >> 24);
	block[1] = (unsigned char)((uint32_t)utoff >> 16);
	block[2] = (unsigned char)((uint32_t)utoff >> 8);
	block[3] = (unsigned char)utoff;
	block[4] = block[5] = block[6] = 0;	/* isdst, desigidx, "" */
	assert_non_null(fp = fopen(path, "wb"));
	for (int i = 0; i < 2; i++) {
		fwrite(head, 1, sizeof head, fp);
		fwrite(block, 1, sizeof block, fp);
	}
	fprintf(fp, "\n%s\n", rule);
	assert_int_equal(fclose(fp), 0);
}

/*
 * Footer rules (slim zone files, years past the last transition): southern
 * hemisphere, negative and past-24h change times, Julian days, half hours;
 * each held against the C library given the same rule as TZ.
 */
static void
test_footer_rules(void **state)
{
	static const char *const rules[] = {
		"CET-1CEST,M3.5.0,M10.5.0/3", "AEST-10AEDT,M10.1.0,M4.1.0/3",
		"<-02>2<-01>,M3.5.0/-1,M10.5.0/0",
		"IST-2IDT,M3.4.4/26,M10.5.0", "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
		"NZST-12NZDT,M9.5.0,M4.1.0/3", "<-03>3", "WET0WEST,M3.5.0/1,M10.5.0",
		"XST3XDT,J60/2,J300/2", "YST3YDT,59/2,299/2", "<+0545>-5:45",
	};
	/* Rule11 below: a name no rule above takes. */
	char		 dir[] = "/tmp/pacer-tz-XXXXXX", path[256], name[32];
	struct tz_table	 t;
	int		 bad = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	setenv("TZDIR", dir, 1);
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
		snprintf(name, sizeof name, "Test/Rule%zu", i);
		snprintf(path, sizeof path, "%s/Test", dir);
		mkdir(path, 0700);
		snprintf(path, sizeof path, "%s/%s", dir, name);
		write_tzif(path, 0, rules[i]);
		for (int64_t from = Y2026 - 3 * 366 * 86400LL; from < Y2026 +
		    40 * 366 * 86400LL; from += 9 * 366 * 86400LL) {
			if (tz_table(name, from, from + 3 * 366 * 86400LL, &t) != 0)
				fail_msg("rule \"%s\" refused", rules[i]);
			setenv("TZ", rules[i], 1);
			tzset();
			bad += compare_with_libc(rules[i], &t, from,
			    from + 3 * 366 * 86400LL);
			unsetenv("TZ");
		}
		unlink(path);
	}
	/*
	 * Daylight time all year (RFC 8536 3.3.1): glibc answers EST for the
	 * first hours of each year, where DST starts as the last one ends.
	 */
	snprintf(path, sizeof path, "%s/Test/Always", dir);
	write_tzif(path, -4 * HOUR, "EST5EDT,0/0,J365/25");
	assert_int_equal(tz_table("Test/Always", Y2026, Y2027 + 86400, &t), 0);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.offset[0], -4 * HOUR);
	assert_int_equal(tz_offset(&t, Y2027), -4 * HOUR);
	unlink(path);
	/* Malformed footers are no zone. */
	snprintf(path, sizeof path, "%s/Test/Rule11", dir);
	write_tzif(path, 0, "CET-1CEST,M13.5.0,M10.5.0/3");
	assert_int_equal(tz_table("Test/Rule11", Y2026, Y2027, &t), -1);
	snprintf(path, sizeof path, "%s/Test/Bad", dir);
	write_tzif(path, 0, "CE");
	assert_int_equal(tz_table("Test/Bad", Y2026, Y2027, &t), -1);
	unlink(path);
	snprintf(path, sizeof path, "%s/Test/Rule11", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/Test", dir);
	rmdir(path);
	rmdir(dir);
	unsetenv("TZDIR");
	tzset();
	assert_int_equal(bad, 0);
}

/* A zone file is read once; a later span of it needs no file at all. */
static void
test_zone_read_once(void **state)
{
	char		 dir[] = "/tmp/pacer-tz-XXXXXX", path[256];
	struct tz_table	 a, b;
	FILE		*in, *out;
	char		 buf[4096];
	size_t		 n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/Copy", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/Copy/Paris", dir);
	assert_non_null(in = fopen("/usr/share/zoneinfo/Europe/Paris", "rb"));
	assert_non_null(out = fopen(path, "wb"));
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	assert_int_equal(fclose(out), 0);
	setenv("TZDIR", dir, 1);
	assert_int_equal(tz_table("Copy/Paris", Y2026, Y2027, &a), 0);
	unlink(path);
	/* The file is gone: the zone is known all the same, any span. */
	assert_int_equal(tz_table("Copy/Paris", Y2026, Y2027, &b), 0);
	assert_memory_equal(&a, &b, sizeof a);
	assert_int_equal(tz_profile_table("Copy/Paris", Y2026 + 77 * 86400, &b), 0);
	assert_int_equal(tz_offset(&b, PARIS_SUMMER), 7200);
	/* An unknown name is remembered too: no second look. */
	assert_int_equal(tz_table("Copy/Later", Y2026, Y2027, &a), -1);
	snprintf(path, sizeof path, "%s/Copy/Later", dir);
	write_tzif(path, 3600, "CET-1");
	assert_int_equal(tz_table("Copy/Later", Y2026, Y2027, &a), -1);
	unlink(path);
	snprintf(path, sizeof path, "%s/Copy", dir);
	rmdir(path);
	rmdir(dir);
	unsetenv("TZDIR");
}

/* Set by the watcher thread when it saw its local time move. */
static volatile int watcher_stop, watcher_moved;

/* Read local time (TZ=Asia/Tokyo, +9) over and over, as a daemon's thread. */
static void *
watcher(void *arg)
{
	(void)arg;
	while (!watcher_stop) {
		time_t		 now = time(NULL);
		struct tm	*tm = localtime(&now);	/* re-reads TZ */

		if (tm == NULL || tm->tm_gmtoff != 9 * HOUR)
			watcher_moved = 1;
	}
	return NULL;
}

/* Building tables never touches the process's TZ, even for a moment. */
static void
test_tz_untouched(void **state)
{
	pthread_t	 th;
	struct tz_table	 t;
	static const char *const zones[] = {
		"Europe/Paris", "America/New_York", "Australia/Sydney", "UTC",
		"America/Sao_Paulo", "Asia/Kolkata",
	};

	(void)state;
	setenv("TZ", "Asia/Tokyo", 1);
	tzset();
	watcher_stop = watcher_moved = 0;
	assert_int_equal(pthread_create(&th, NULL, watcher, NULL), 0);
	for (int i = 0; i < 3000; i++)
		tz_table(zones[i % 6], Y2026 + i * 86400LL, Y2027 + i * 86400LL, &t);
	watcher_stop = 1;
	pthread_join(th, NULL);
	assert_string_equal(getenv("TZ"), "Asia/Tokyo");
	unsetenv("TZ");
	tzset();
	assert_int_equal(watcher_moved, 0);
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
		cmocka_unit_test(test_every_zone_matches_libc),
		cmocka_unit_test(test_footer_rules),
		cmocka_unit_test(test_zone_read_once),
		cmocka_unit_test(test_tz_untouched),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
