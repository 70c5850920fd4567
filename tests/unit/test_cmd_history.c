/*
 * Unit tests for solver/cmd/cmd_history.c: a packed history (field h) read
 * into the rule engine's contacts, as pacer optimize counts them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* The module under test, included so its static helpers are in reach. */
#include "../../solver/cmd/cmd_history.c"

/* What every test shares: three channels and two campaigns. */
struct fixture {
	struct conf	*conf;
	struct offers	 offers;
	char		 campaign[2][CONF_NAME_MAX];
};

static struct fixture fixture = {
	.offers = { .campaign = fixture.campaign, .ncampaigns = 2 },
	.campaign = { "winback", "welcome" },
};

/* cmocka setup. */
static int
setup(void **state)
{
	char	*cause = NULL;

	fixture.conf = conf_load_string("[channel email]\n[channel sms]\n"
	    "[channel push]\n[category credit]\ncap = 1/30d\n", "h.conf",
	    &cause);
	free(cause);
	*state = &fixture;
	return fixture.conf == NULL ? -1 : 0;
}

/* cmocka teardown. */
static int
teardown(void **state)
{
	struct fixture	*f = *state;

	conf_free(f->conf);
	f->conf = NULL;
	return 0;
}

/* Read h in (from, to] into out; the count. */
static int
read_h(struct fixture *f, const char *h, int64_t from, int64_t to,
    struct rules_contact *out, int max)
{
	return cmd_history_contacts(h, strlen(h), f->conf, &f->offers, from, to,
	    out, max);
}

/* Channels and campaigns become indexes; unknown ones -1. */
static void
test_indexes(void **state)
{
	struct fixture		*f = *state;
	struct rules_contact	 c[8];
	static const char	 h[] =
	    "100|email|winback|s1\n"
	    "101|sms||s2\n"
	    "102|push|welcome|s3\n"
	    "103|fax|winback|s4\n"		/* channel no longer configured */
	    "104|email|spring|s5\n"		/* campaign of no offer */
	    "105|sms|winback|s6|credit\n"	/* an offer of a category */
	    "106|sms|winback|s7|toys\n";	/* a category without caps */

	assert_int_equal(read_h(f, h, 0, 1000, c, 8), 7);
	assert_int_equal(c[0].category, -1);
	assert_int_equal(c[5].category, 0);
	assert_int_equal(c[5].campaign, 0);
	assert_int_equal(c[6].category, -1);
	assert_int_equal(c[0].time, 100);
	assert_int_equal(c[0].channel, 0);
	assert_int_equal(c[0].campaign, 0);
	assert_int_equal(c[1].channel, 1);
	assert_int_equal(c[1].campaign, -1);
	assert_int_equal(c[2].channel, 2);
	assert_int_equal(c[2].campaign, 1);
	assert_int_equal(c[3].channel, -1);
	assert_int_equal(c[3].campaign, 0);
	assert_int_equal(c[4].channel, 0);
	assert_int_equal(c[4].campaign, -1);
	assert_int_equal(c[4].time, 104);
}

/* Only (from, to] is kept, in stored order; an empty history is none. */
static void
test_window(void **state)
{
	struct fixture		*f = *state;
	struct rules_contact	 c[8];
	static const char	 h[] =
	    "300|email||a\n"
	    "100|email||b\n"			/* == from: outside */
	    "101|sms||c\n"
	    "200|push||d\n"			/* == to: inside */
	    "201|email||e\n";			/* after to */

	assert_int_equal(read_h(f, h, 100, 200, c, 8), 2);
	assert_int_equal(c[0].time, 101);
	assert_int_equal(c[1].time, 200);
	assert_int_equal(read_h(f, "", 0, 1000, c, 8), 0);
	assert_int_equal(cmd_history_contacts(NULL, 0, f->conf, &f->offers, 0,
	    1000, c, 8), 0);
}

/*
 * At most max are kept, but the rest is still checked, and counted so that
 * the caller can read them all: past 4096 in the window (once the most the
 * optimizer read), the newest contacts are there on the second read.
 */
static void
test_max(void **state)
{
	struct fixture		*f = *state;
	struct rules_contact	 c[2], *many;
	char			*h, *p;
	int			 i, n = 5000;

	assert_int_equal(read_h(f, "1|email||a\n2|email||b\n3|email||c\n", 0,
	    10, c, 2), 3);
	assert_int_equal(c[1].time, 2);
	assert_int_equal(read_h(f, "1|email||a\n2|email||b\n3|email\n", 0, 10,
	    c, 2), -1);

	assert_non_null(h = p = malloc((size_t)n * 32));
	assert_non_null(many = calloc((size_t)n, sizeof *many));
	for (i = 0; i < n; i++)
		p += sprintf(p, "%d|%s||s%d\n", 1000 + i, i < n - 1 ? "sms" :
		    "email", i);
	assert_int_equal(read_h(f, h, 0, 1000000, many, 4096), n);
	assert_int_equal(many[4095].time, 1000 + 4095);
	assert_int_equal(read_h(f, h, 0, 1000000, many, n), n);
	assert_int_equal(many[n - 1].time, 1000 + n - 1);
	assert_int_equal(many[n - 1].channel, 0);
	free(many);
	free(h);
}

/* Malformed text is refused wherever it is, in the window or not. */
static void
test_malformed(void **state)
{
	struct fixture		*f = *state;
	struct rules_contact	 c[8];
	static const char *const bad[] = {
		"garbage\n", "100|email||s1", "100|email||s1\n\n",
		"100|email||s1\nx|sms||s2\n", "5|email||old\n100|email\n",
		"100||c|s\n", "-5|email||s\n", "100|email|c|s|t|u\n",
		"100|email|c|s|\n",
	};
	char	 name[CONF_NAME_MAX + 8];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (read_h(f, bad[i], 50, 1000, c, 8) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
	/* Too long a channel name is unknown, not an overflow. */
	memset(name, 'e', sizeof name);
	name[sizeof name - 1] = '\0';
	{
		char	 h[256];

		snprintf(h, sizeof h, "100|%s|%s|s\n", name, name);
		assert_int_equal(read_h(f, h, 0, 1000, c, 8), 1);
		assert_int_equal(c[0].channel, -1);
		assert_int_equal(c[0].campaign, -1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_indexes),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_max),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
