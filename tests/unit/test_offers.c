/*
 * Unit tests for solver/model/offers.c: the example catalogue, and every
 * error naming file, line and field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pacer/conf.h"
#include "pacer/offers.h"

#define HEADER "offer,channel,campaign,category,value,cost,budget,capacity\n"

/* What every test shares: a config and a scratch file. */
struct fixture {
	struct conf	*conf;
	char		 dir[64];
	char		 path[128];
};

/* cmocka setup: three channels and a temporary folder. */
static int
setup(void **state)
{
	struct fixture	*f = calloc(1, sizeof *f);
	char		*cause = NULL;

	if (f == NULL)
		return -1;
	f->conf = conf_load_string("[channel email]\n[channel sms]\n[channel push]\n",
	    "o.conf", &cause);
	snprintf(f->dir, sizeof f->dir, "/tmp/pacer-offers-XXXXXX");
	if (f->conf == NULL || mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof f->path, "%s/offers.csv", f->dir);
	*state = f;
	return 0;
}

/* cmocka teardown. */
static int
teardown(void **state)
{
	struct fixture	*f = *state;

	unlink(f->path);
	rmdir(f->dir);
	conf_free(f->conf);
	free(f);
	return 0;
}

/* Write text to the scratch file. */
static void
write_file(const struct fixture *f, const char *text)
{
	FILE	*fp = fopen(f->path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* Loading text must fail with "PATH:" followed by want. */
static void
expect_error(const struct fixture *f, const char *text, const char *want)
{
	char		*cause = NULL, full[512];
	struct offers	*o;

	write_file(f, text);
	o = offers_load(f->path, f->conf, &cause);
	if (o != NULL) {
		offers_free(o);
		fail_msg("loaded, but expected \"%s\" for:\n%s", want, text);
	}
	snprintf(full, sizeof full, "%s:%s", f->path, want);
	assert_non_null(cause);
	assert_string_equal(cause, full);
	free(cause);
}

/* conf/pacer.conf with conf/offers.csv: every value lands. */
static void
test_example(void **state)
{
	const char	*dir = getenv("PACER_SOURCE_DIR");
	char		 cpath[1024], opath[1024], *cause = NULL;
	struct conf	*c;
	struct offers	*o;
	const struct offer *of;

	(void)state;
	snprintf(cpath, sizeof cpath, "%s/conf/pacer.conf", dir ? dir : ".");
	snprintf(opath, sizeof opath, "%s/conf/offers.csv", dir ? dir : ".");
	c = conf_load(cpath, &cause);
	assert_non_null(c);
	o = offers_load(opath, c, &cause);
	if (o == NULL)
		fail_msg("%s", cause);
	assert_int_equal(o->n, 8);
	assert_int_equal(offers_find(o, "welcome10"), 0);
	assert_int_equal(offers_find(o, "newsletter"), 7);
	assert_int_equal(offers_find(o, "nope"), -1);
	of = &o->offer[offers_find(o, "winback_sms")];
	assert_string_equal(of->name, "winback_sms");
	assert_int_equal(of->channel, conf_channel_index(c, "sms"));
	assert_int_equal(of->campaign, offers_campaign(o, "winback"));
	assert_string_equal(of->category, "discount");
	assert_float_equal(of->value, 60, 0);
	assert_float_equal(of->cost, 0.05, 1e-12);
	assert_float_equal(of->budget, 400, 0);
	assert_int_equal(of->capacity, 8000);
	of = &o->offer[0];
	assert_float_equal(of->budget, -1, 0);
	assert_int_equal(of->capacity, -1);
	/* Campaigns are distinct, in order of first appearance. */
	assert_int_equal(o->ncampaigns, 7);
	assert_string_equal(o->campaign[0], "welcome");
	assert_string_equal(o->campaign[1], "winback");
	assert_int_equal(offers_campaign(o, "winback"), 1);
	assert_int_equal(o->offer[1].campaign, o->offer[2].campaign);
	assert_int_equal(offers_campaign(o, "nope"), -1);
	offers_free(o);
	offers_free(NULL);
	conf_free(c);
}

/* Columns in any order, extra columns, quoting, zero values, CRLF. */
static void
test_layout(void **state)
{
	struct fixture	*f = *state;
	char		*cause = NULL;
	struct offers	*o;

	write_file(f, "capacity,note,budget,cost,value,category,campaign,channel,offer\r\n"
	    "0,\"free, text\",0,0,0,misc,c1,push,o1\r\n"
	    "\r\n"
	    ",,1e3,\"0.5\",12.25,x.y,c:2,sms,o-2@x\r\n");
	o = offers_load(f->path, f->conf, &cause);
	if (o == NULL)
		fail_msg("%s", cause);
	assert_int_equal(o->n, 2);
	assert_string_equal(o->offer[0].name, "o1");
	assert_int_equal(o->offer[0].channel, 2);
	assert_int_equal(o->offer[0].capacity, 0);
	assert_float_equal(o->offer[0].budget, 0, 0);
	assert_string_equal(o->offer[1].name, "o-2@x");
	assert_int_equal(o->offer[1].channel, 1);
	assert_float_equal(o->offer[1].budget, 1000, 0);
	assert_float_equal(o->offer[1].cost, 0.5, 0);
	assert_float_equal(o->offer[1].value, 12.25, 0);
	assert_int_equal(o->offer[1].capacity, -1);
	assert_string_equal(o->campaign[1], "c:2");
	offers_free(o);
}

/* Header problems: missing columns name the column, empty catalogues. */
static void
test_header_errors(void **state)
{
	struct fixture	*f = *state;
	char		*cause = NULL;

	assert_null(offers_load("/nonexistent/offers.csv", f->conf, &cause));
	assert_string_equal(cause, "/nonexistent/offers.csv: cannot open: "
	    "No such file or directory");
	free(cause);
	expect_error(f, "offer,channel,campaign,category,value,cost,capacity\n"
	    "a,email,c,k,1,1,1\n", "1: missing column \"budget\"");
	expect_error(f, "channel,campaign,category,value,cost,budget,capacity\n",
	    "1: missing column \"offer\"");
	expect_error(f, "Offer,channel,campaign,category,value,cost,budget,capacity\n",
	    "1: missing column \"offer\"");
	expect_error(f, HEADER, "1: no offers");
	expect_error(f, HEADER "\n\n", "3: no offers");
	expect_error(f, "", "0: empty file: a header line is needed");
}

/* Bad rows: each message names the line and the field. */
static void
test_row_errors(void **state)
{
	struct fixture	*f = *state;

	expect_error(f, HEADER "a,email,c,k,1,1,,\nb,fax,c,k,1,1,,\n",
	    "3: field channel: channel \"fax\" is not configured");
	expect_error(f, HEADER "a,,c,k,1,1,,\n",
	    "2: field channel: channel \"\" is not configured");
	expect_error(f, HEADER "a,email,c,k,-1,1,,\n",
	    "2: field value: \"-1\" is not a number >= 0");
	expect_error(f, HEADER "a,email,c,k,,1,,\n",
	    "2: field value: \"\" is not a number >= 0");
	expect_error(f, HEADER "a,email,c,k,nan,1,,\n",
	    "2: field value: \"nan\" is not a number >= 0");
	expect_error(f, HEADER "a,email,c,k,1,-0.01,,\n",
	    "2: field cost: \"-0.01\" is not a number >= 0");
	expect_error(f, HEADER "a,email,c,k,1,1 ,,\n",
	    "2: field cost: \"1 \" is not a number >= 0");
	expect_error(f, HEADER "a,email,c,k,1,1,lots,\n",
	    "2: field budget: \"lots\" is not empty or a number >= 0");
	expect_error(f, HEADER "a,email,c,k,1,1,-5,\n",
	    "2: field budget: \"-5\" is not empty or a number >= 0");
	expect_error(f, HEADER "a,email,c,k,1,1,, 5\n",
	    "2: field capacity: \" 5\" is not empty or a whole number >= 0");
	expect_error(f, HEADER "a,email,c,k,1,1,,1.5\n",
	    "2: field capacity: \"1.5\" is not empty or a whole number >= 0");
	expect_error(f, HEADER "a,email,c,k,1,1,,-1\n",
	    "2: field capacity: \"-1\" is not empty or a whole number >= 0");
	expect_error(f, HEADER "a,email,c,k,1,1,,\nb,sms,c,k,1,1,,\na,push,d,k,1,1,,\n",
	    "4: field offer: offer \"a\" listed twice");
	expect_error(f, HEADER "a b,email,c,k,1,1,,\n",
	    "2: field offer: bad offer name \"a b\"");
	expect_error(f, HEADER ",email,c,k,1,1,,\n", "2: field offer: bad offer name \"\"");
	expect_error(f, HEADER "a,email,c/d,k,1,1,,\n",
	    "2: field campaign: bad campaign name \"c/d\"");
	expect_error(f, HEADER "a,email,,k,1,1,,\n",
	    "2: field campaign: bad campaign name \"\"");
	expect_error(f, HEADER "a,email,c,k|j,1,1,,\n",
	    "2: field category: bad category \"k|j\"");
	expect_error(f, HEADER "a,email,c,k,1,1,\n",
	    "2: 7 fields, the header has 8");
	expect_error(f, HEADER "a,email,c,k,1,1,,\n\"b,email,c,k,1,1,,\n",
	    "3: unterminated quote");
}

/* Names up to 63 bytes; 64 is too long. */
static void
test_name_length(void **state)
{
	struct fixture	*f = *state;
	char		 text[512], want[256], *cause = NULL;
	struct offers	*o;

	snprintf(text, sizeof text, HEADER "%063d,email,c,k,1,1,,\n", 7);
	write_file(f, text);
	o = offers_load(f->path, f->conf, &cause);
	assert_non_null(o);
	assert_int_equal(strlen(o->offer[0].name), 63);
	offers_free(o);
	snprintf(text, sizeof text, HEADER "%064d,email,c,k,1,1,,\n", 7);
	snprintf(want, sizeof want, "2: field offer: bad offer name \"%064d\"", 7);
	expect_error(f, text, want);
}

/* Many offers grow the array. */
static void
test_many(void **state)
{
	struct fixture	*f = *state;
	char		*text, *cause = NULL;
	size_t		 len = 0, cap = 1 << 20;
	struct offers	*o;

	text = malloc(cap);
	assert_non_null(text);
	len += (size_t)snprintf(text, cap, HEADER);
	for (int i = 0; i < 1000; i++)
		len += (size_t)snprintf(text + len, cap - len,
		    "o%d,push,camp%d,k,%d,0.1,,%d\n", i, i % 37, i, i);
	write_file(f, text);
	free(text);
	o = offers_load(f->path, f->conf, &cause);
	assert_non_null(o);
	assert_int_equal(o->n, 1000);
	assert_int_equal(o->ncampaigns, 37);
	assert_int_equal(offers_find(o, "o999"), 999);
	assert_int_equal(o->offer[999].capacity, 999);
	assert_int_equal(o->offer[999].campaign, offers_campaign(o, "camp0"));
	offers_free(o);
}

/* Run every test of this file. */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_row_errors),
		cmocka_unit_test(test_name_length),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
