/*
 * Unit tests for pacerd's request validation (decide_parse) and the
 * script-argument program of a channel.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pacerd.h"

static struct pacerd_rules *rules;

/* Load conf/pacer.conf with the offers file from the source tree. */
static int
setup(void **state)
{
	char	 text[8192], path[1024], *cause = NULL;
	FILE	*fp;
	size_t	 n;
	struct conf *c;
	const char *src = getenv("PACER_SOURCE_DIR");

	(void)state;
	snprintf(path, sizeof path, "%s/conf/pacer.conf", src ? src : ".");
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	n = fread(text, 1, sizeof text - 1, fp);
	fclose(fp);
	text[n] = '\0';
	/* Point the offers file at the source tree, allow client time. */
	char *o = strstr(text, "offers = offers.csv");
	if (o == NULL)
		return -1;
	char rest[8192];
	snprintf(rest, sizeof rest, "%s", o + strlen("offers = offers.csv"));
	snprintf(o, sizeof text - (size_t)(o - text), "offers = %s/conf/offers.csv%s",
	    src ? src : ".", rest);
	char *t = strstr(text, "allow_client_time = false");
	if (t != NULL)
		memcpy(t, "allow_client_time = true ", 25);
	if ((c = conf_load_string(text, "pacer.conf", &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		return -1;
	}
	if ((rules = pacerd_rules_new(c, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		return -1;
	}
	return 0;
}

/* Free the rules. */
static int
teardown(void **state)
{
	(void)state;
	pacerd_rules_unref(rules);
	return 0;
}

/* Parse text; returns decide_parse's result and fills r and cause. */
static int
parse(const char *text, struct decide_request *r, char *cause, size_t len)
{
	json_error_t	 err;
	json_t		*o = json_loads(text, 0, &err);
	int		 rc;

	assert_non_null(o);
	rc = decide_parse(rules, o, 1000, r, cause, len);
	json_decref(o);
	return rc;
}

/* Expect text to be refused with a message containing want. */
static void
refused(const char *text, const char *want)
{
	struct decide_request	 r;
	char			 cause[512] = "";

	assert_int_equal(parse(text, &r, cause, sizeof cause), -1);
	if (strstr(cause, want) == NULL)
		fail_msg("%s: got \"%s\", want \"%s\"", text, cause, want);
}

/* A full, valid request lands in every field. */
static void
test_valid(void **state)
{
	struct decide_request	 r;
	char			 cause[512];

	(void)state;
	assert_int_equal(parse("{\"customer\":\"c-1@x.y:z_\",\"channel\":\"sms\","
	    "\"offer\":\"winback_sms\",\"send_id\":\"s1\",\"time\":1234,"
	    "\"dry_run\":true}", &r, cause, sizeof cause), 0);
	assert_string_equal(r.customer, "c-1@x.y:z_");
	assert_string_equal(rules->conf->channels[r.channel].name, "sms");
	assert_string_equal(rules->offers->offer[r.offer].name, "winback_sms");
	assert_string_equal(r.campaign_name, "winback");
	assert_string_equal(r.send_id, "s1");
	assert_int_equal(r.has_send_id, 1);
	assert_int_equal(r.time, 1234);
	assert_int_equal(r.dry_run, 1);
}

/* Without time, now is used; without offer, no campaign. */
static void
test_defaults(void **state)
{
	struct decide_request	 r;
	char			 cause[512];

	(void)state;
	assert_int_equal(parse("{\"customer\":\"c\",\"channel\":\"push\"}", &r, cause,
	    sizeof cause), 0);
	assert_int_equal(r.time, 1000);
	assert_int_equal(r.offer, -1);
	assert_int_equal(r.campaign, -1);
	assert_int_equal(r.has_send_id, 0);
	assert_int_equal(r.dry_run, 0);
}

/* Every kind of bad field is named. */
static void
test_refusals(void **state)
{
	char	 big[300];

	(void)state;
	refused("[]", "JSON object");
	refused("{\"channel\":\"sms\"}", "customer: required");
	refused("{\"customer\":7,\"channel\":\"sms\"}", "customer: must be a string");
	refused("{\"customer\":\"a b\",\"channel\":\"sms\"}", "customer: must be");
	refused("{\"customer\":\"\",\"channel\":\"sms\"}", "customer: must be");
	memset(big, 'a', 129);
	big[129] = '\0';
	char text[512];
	snprintf(text, sizeof text, "{\"customer\":\"%s\",\"channel\":\"sms\"}", big);
	refused(text, "customer: must be 1-128 bytes");
	refused("{\"customer\":\"c\"}", "channel: required");
	refused("{\"customer\":\"c\",\"channel\":\"fax\"}", "unknown channel \"fax\"");
	refused("{\"customer\":\"c\",\"channel\":true}", "channel: must be a string");
	refused("{\"customer\":\"c\",\"channel\":\"sms\",\"offer\":\"nope\"}",
	    "unknown offer \"nope\"");
	refused("{\"customer\":\"c\",\"channel\":\"sms\",\"offer\":\"welcome10\"}",
	    "is sent on email, not sms");
	refused("{\"customer\":\"c\",\"channel\":\"sms\",\"campaign\":\"zzz\"}",
	    "unknown campaign");
	refused("{\"customer\":\"c\",\"channel\":\"sms\",\"offer\":\"winback_sms\","
	    "\"campaign\":\"loans\"}", "offer belongs to campaign \"winback\"");
	refused("{\"customer\":\"c\",\"channel\":\"sms\",\"send_id\":\"a/b\"}",
	    "send_id: must be");
	refused("{\"customer\":\"c\",\"channel\":\"sms\",\"time\":\"now\"}",
	    "time: must be unix seconds");
	refused("{\"customer\":\"c\",\"channel\":\"sms\",\"time\":-5}",
	    "time: must be unix seconds");
	refused("{\"customer\":\"c\",\"channel\":\"sms\",\"dry_run\":1}",
	    "dry_run: must be true or false");
	refused("{\"customer\":\"c\",\"channel\":\"sms\",\"dryrun\":true}",
	    "unknown field \"dryrun\"");
}

/* "time" is refused unless the config allows client time. */
static void
test_time_needs_permission(void **state)
{
	(void)state;
	rules->conf->server.allow_client_time = 0;
	refused("{\"customer\":\"c\",\"channel\":\"sms\",\"time\":5}",
	    "time: not allowed");
	rules->conf->server.allow_client_time = 1;
}

/* The script program of email with a campaign: every cap, in order. */
static void
test_program(void **state)
{
	const struct decide_program *p = &rules->program[0][1];

	(void)state;
	/* email 3/7d, email 1/1d, all 5/7d, campaign 1/1d, vulnerable 1/7d, shadow */
	assert_int_equal(p->ncheck, 6);
	/*
	 * The channel, consent default deny, quiet 21:00-08:00, on_store_failure deny,
	 * longest window 7d, records kept 7d, audit length, the priority reserve; then the checks
	 * by ascending limit (ties in config order).
	 */
	assert_string_equal(p->packed, "email 0 75600 28800 0 604800 604800 100000 0|"
	    "c:1:86400::0;p:1:86400::0;a:1:604800:vulnerable:0;c:2:604800::1;"
	    "c:3:604800::0;a:5:604800::0");
	assert_int_equal(p->packedlen, strlen(p->packed));
	/* Without a campaign the campaign cap is left out. */
	assert_int_equal(rules->program[0][0].ncheck, 5);
}

/* Rule descriptors from the script become the names answers carry. */
static void
test_rule_text(void **state)
{
	char	 buf[128];

	(void)state;
	pacerd_rule_text("c:3:604800:", "email", 0, buf, sizeof buf);
	assert_string_equal(buf, "email 3/7d");
	pacerd_rule_text("a:5:604800:", "email", 0, buf, sizeof buf);
	assert_string_equal(buf, "all 5/7d");
	pacerd_rule_text("p:1:86400:", "sms", 0, buf, sizeof buf);
	assert_string_equal(buf, "campaign 1/1d");
	pacerd_rule_text("a:1:604800:vulnerable", "sms", 0, buf,
	    sizeof buf);
	assert_string_equal(buf, "segment vulnerable 1/7d");
	pacerd_rule_text("c:2:604800:", "email", 1, buf, sizeof buf);
	assert_string_equal(buf, "shadow email 2/7d");
	assert_string_equal(rules->conf->shadow[0].cap.text, buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_time_needs_permission),
		cmocka_unit_test(test_program),
		cmocka_unit_test(test_rule_text),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
