/*
 * Unit tests for solver/model/rules.c: rule selection, rolling-window
 * arithmetic, the order of reasons, and quiet hours across midnight.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pacer/conf.h"
#include "pacer/rules.h"

#define DAY	86400
#define HOUR	3600
#define NOW	((int64_t)1768509000)	/* 2026-01-15 20:30:00 UTC */

static const char rules_conf_text[] =
    "[consent]\n"
    "default = deny\n"
    "[channel email]\n"
    "cap = 3/7d\n"
    "cap = 1/1d\n"
    "quiet_hours = 21:00-08:00\n"
    "[channel sms]\n"
    "cap = 1/1d\n"
    "quiet_hours = 20:00-09:00\n"
    "[channel push]\n"
    "cap = 2/1d\n"
    "[all]\n"
    "cap = 5/7d\n"
    "[campaign]\n"
    "cap = 1/1d\n"
    "[segment vulnerable]\n"
    "cap = 1/7d\n"
    "exclude_offers = credit\n"
    "[segment young]\n"
    "cap = 2/1d\n"
    "exclude_offers = alcohol, gambling\n"
    "[shadow]\n"
    "cap = email 2/7d\n"
    "cap = sms 1/7d\n"
    "cap = 4/1d\n";

enum { EMAIL, SMS, PUSH };
enum { VULNERABLE = 1u << 0, YOUNG = 1u << 1 };

/* Parse text into a config; fails the test on error. */
static struct conf *
conf_from(const char *text)
{
	char		*cause = NULL;
	struct conf	*c = conf_load_string(text, "rules.conf", &cause);

	if (c == NULL)
		fail_msg("%s", cause);
	return c;
}

/* cmocka setup: the shared test config. */
static int
setup(void **state)
{
	*state = conf_from(rules_conf_text);
	return 0;
}

/* cmocka teardown. */
static int
teardown(void **state)
{
	conf_free(*state);
	return 0;
}

/* Check one selected rule. */
static void
check_rule(const struct rules_check *k, enum conf_scope scope, int channel,
    int segment, int shadow, const struct conf_cap *cap)
{
	assert_int_equal(k->scope, scope);
	assert_int_equal(k->channel, channel);
	assert_int_equal(k->segment, segment);
	assert_int_equal(k->shadow, shadow);
	assert_ptr_equal(k->cap, cap);
}

/* Which checks apply per channel, with and without a campaign. */
static void
test_select(void **state)
{
	const struct conf	*c = *state;
	struct rules_check	 k[RULES_MAX_CHECKS];
	int			 n;

	n = rules_select(c, EMAIL, 1, k, RULES_MAX_CHECKS);
	assert_int_equal(n, 8);
	check_rule(&k[0], CONF_SCOPE_CHANNEL, EMAIL, -1, 0, &c->channels[EMAIL].caps[0]);
	check_rule(&k[1], CONF_SCOPE_CHANNEL, EMAIL, -1, 0, &c->channels[EMAIL].caps[1]);
	check_rule(&k[2], CONF_SCOPE_ALL, -1, -1, 0, &c->all_caps[0]);
	check_rule(&k[3], CONF_SCOPE_CAMPAIGN, EMAIL, -1, 0, &c->campaign_caps[0]);
	check_rule(&k[4], CONF_SCOPE_ALL, -1, 0, 0, &c->segments[0].caps[0]);
	check_rule(&k[5], CONF_SCOPE_ALL, -1, 1, 0, &c->segments[1].caps[0]);
	/* Shadow checks come last; the sms one does not apply to email. */
	check_rule(&k[6], CONF_SCOPE_CHANNEL, EMAIL, -1, 1, &c->shadow[0].cap);
	check_rule(&k[7], CONF_SCOPE_ALL, -1, -1, 1, &c->shadow[2].cap);
	assert_string_equal(k[0].cap->text, "email 3/7d");
	assert_string_equal(k[3].cap->text, "campaign 1/1d");
	assert_string_equal(k[4].cap->text, "segment vulnerable 1/7d");
	assert_string_equal(k[6].cap->text, "shadow email 2/7d");
	assert_string_equal(k[7].cap->text, "shadow all 4/1d");

	/* Without a campaign the campaign cap does not apply. */
	n = rules_select(c, EMAIL, 0, k, RULES_MAX_CHECKS);
	assert_int_equal(n, 7);
	for (int i = 0; i < n; i++)
		assert_int_not_equal(k[i].scope, CONF_SCOPE_CAMPAIGN);

	n = rules_select(c, SMS, 1, k, RULES_MAX_CHECKS);
	assert_int_equal(n, 7);
	check_rule(&k[0], CONF_SCOPE_CHANNEL, SMS, -1, 0, &c->channels[SMS].caps[0]);
	check_rule(&k[2], CONF_SCOPE_CAMPAIGN, SMS, -1, 0, &c->campaign_caps[0]);
	check_rule(&k[5], CONF_SCOPE_CHANNEL, SMS, -1, 1, &c->shadow[1].cap);
	check_rule(&k[6], CONF_SCOPE_ALL, -1, -1, 1, &c->shadow[2].cap);

	n = rules_select(c, PUSH, 0, k, RULES_MAX_CHECKS);
	assert_int_equal(n, 5);
	check_rule(&k[0], CONF_SCOPE_CHANNEL, PUSH, -1, 0, &c->channels[PUSH].caps[0]);
	check_rule(&k[1], CONF_SCOPE_ALL, -1, -1, 0, &c->all_caps[0]);
	check_rule(&k[2], CONF_SCOPE_ALL, -1, 0, 0, &c->segments[0].caps[0]);
	check_rule(&k[3], CONF_SCOPE_ALL, -1, 1, 0, &c->segments[1].caps[0]);
	check_rule(&k[4], CONF_SCOPE_ALL, -1, -1, 1, &c->shadow[2].cap);

	/* out[] is never overrun. */
	memset(k, 0x5a, sizeof k);
	n = rules_select(c, EMAIL, 1, k, 3);
	assert_int_equal(n, 3);
	check_rule(&k[2], CONF_SCOPE_ALL, -1, -1, 0, &c->all_caps[0]);
	assert_int_equal(k[3].scope, 0x5a5a5a5a);
	n = rules_select(c, EMAIL, 1, k, 7);
	assert_int_equal(n, 7);
	assert_int_equal(k[6].shadow, 1);
	assert_int_equal(rules_select(c, EMAIL, 1, k, 0), 0);
}

/* A channel without caps and no other rules selects nothing. */
static void
test_select_empty(void **state)
{
	struct conf		*c = conf_from("[channel letter]\n");
	struct rules_check	 k[RULES_MAX_CHECKS];

	(void)state;
	assert_int_equal(rules_select(c, 0, 1, k, RULES_MAX_CHECKS), 0);
	conf_free(c);
}

/*
 * Window edges: (s - window, s] for every s from now to now + window (a
 * contact after now still counts in the windows that hold now).
 */
static void
test_cap_window_edges(void **state)
{
	struct conf_cap		 cap = { .limit = 2, .window = 100 };
	struct rules_check	 k = { CONF_SCOPE_ALL, -1, -1, -1, 0, &cap };
	struct rules_contact	 h[] = {
		{ 899, EMAIL, -1, -1 },	/* long gone */
		{ 900, EMAIL, -1, -1 },	/* exactly now - window: excluded */
		{ 901, SMS, -1, -1 },	/* now - window + 1: included */
		{ 1000, PUSH, -1, -1 },	/* now: included */
		{ 1001, EMAIL, -1, -1 },	/* after now: in (901, 1001] with 1000 */
	};
	int64_t			 retry = 12345;

	(void)state;
	assert_int_equal(rules_cap_used(&k, h, 5, 1000, -1, &retry), 2);
	/*
	 * 901 leaves at 1001, but (901, 1001] holds 1000 and 1001: a contact
	 * then would be a third. Room opens when 1000 leaves, at 1100.
	 */
	assert_int_equal(retry, 100);
	/* At 1001 the contacts at 1000 and 1001 fill it; 1000 leaves at 1100. */
	assert_int_equal(rules_cap_used(&k, h, 5, 1001, -1, &retry), 2);
	assert_int_equal(retry, 99);
	assert_int_equal(rules_cap_used(&k, h, 5, 1000 + 1, -1, NULL), 2);
	/* One second earlier 900 and 901 fill (899, 999]; then as above. */
	assert_int_equal(rules_cap_used(&k, h, 5, 999, -1, &retry), 2);
	assert_int_equal(retry, 1100 - 999);
	assert_int_equal(rules_cap_used(&k, h, 5, 1100, -1, &retry), 1);
	assert_int_equal(retry, -1);
	assert_int_equal(rules_cap_used(&k, h, 5, 1101, -1, &retry), 0);
	assert_int_equal(rules_cap_used(&k, h, 0, 1000, -1, &retry), 0);
	assert_int_equal(retry, -1);
}

/*
 * A contact stamped after a decision counts against it only in the
 * windows they share: one a second ahead fills 1/1d, one 30 days ahead
 * does not (issue 12: "NOW+1 then NOW" were both allowed).
 */
static void
test_cap_counts_later_contacts(void **state)
{
	struct conf_cap		 cap = { .limit = 1, .window = DAY };
	struct rules_check	 k = { CONF_SCOPE_CHANNEL, SMS, -1, -1, 0, &cap };
	struct rules_contact	 soon[] = { { NOW + 1, SMS, -1, -1 } };
	struct rules_contact	 late[] = { { NOW + 30 * DAY, SMS, -1, -1 } };
	struct rules_contact	 both[] = {
		{ NOW - DAY + 10, SMS, -1, -1 }, { NOW + DAY - 5, SMS, -1, -1 },
	};
	int64_t			 retry;

	(void)state;
	assert_int_equal(rules_cap_used(&k, soon, 1, NOW, -1, &retry), 1);
	/* Room once the later contact's window has passed too. */
	assert_int_equal(retry, DAY + 1);
	assert_int_equal(rules_cap_used(&k, late, 1, NOW, -1, &retry), 0);
	assert_int_equal(retry, -1);
	/* Exactly a window before it: (NOW + 30d - 1d, NOW + 30d] misses NOW. */
	assert_int_equal(rules_cap_used(&k, late, 1, NOW + 29 * DAY, -1, NULL), 0);
	assert_int_equal(rules_cap_used(&k, late, 1, NOW + 29 * DAY + 1, -1, NULL),
	    1);
	/*
	 * Limit 2: the past one leaves at NOW + 10 but the later one holds
	 * (NOW + 10, NOW + 1d + 10] until it leaves at NOW + 2d - 5.
	 */
	cap.limit = 2;
	assert_int_equal(rules_cap_used(&k, both, 2, NOW, -1, &retry), 1);
	cap.limit = 1;
	assert_int_equal(rules_cap_used(&k, both, 2, NOW, -1, &retry), 1);
	assert_int_equal(retry, 2 * DAY - 5);
}

/* retry_after is the wait until enough contacts leave for one more. */
static void
test_cap_retry_after(void **state)
{
	struct conf_cap		 cap = { .limit = 3, .window = 7 * DAY };
	struct rules_check	 k = { CONF_SCOPE_CHANNEL, EMAIL, -1, -1, 0, &cap };
	struct rules_contact	 h[] = {
		{ NOW - 6 * DAY, EMAIL, -1, -1 },
		{ NOW - 5 * DAY, SMS, -1, -1 },
		{ NOW - 4 * DAY, EMAIL, -1, -1 },
		{ NOW - 3 * DAY, EMAIL, -1, -1 },
		{ NOW - 2 * DAY, EMAIL, -1, -1 },
		{ NOW - HOUR, EMAIL, -1, -1 },
	};
	int64_t			 retry;

	(void)state;
	/* 5 email contacts, limit 3: the 3rd oldest (now - 3d) must leave. */
	assert_int_equal(rules_cap_used(&k, h, 6, NOW, -1, &retry), 5);
	assert_int_equal(retry, 4 * DAY);
	/* At that instant there is room; one second before there is not. */
	assert_int_equal(rules_cap_used(&k, h, 6, NOW + 4 * DAY, -1, &retry), 2);
	assert_int_equal(retry, -1);
	assert_int_equal(rules_cap_used(&k, h, 6, NOW + 4 * DAY - 1, -1, &retry), 3);
	assert_int_equal(retry, 1);
	/* Exactly at the limit: the oldest must leave. */
	cap.limit = 5;
	assert_int_equal(rules_cap_used(&k, h, 6, NOW, -1, &retry), 5);
	assert_int_equal(retry, DAY);
	/* Under the limit: nothing to wait for. */
	cap.limit = 6;
	assert_int_equal(rules_cap_used(&k, h, 6, NOW, -1, &retry), 5);
	assert_int_equal(retry, -1);
	/* Limit 0: no wait ever helps. */
	cap.limit = 0;
	assert_int_equal(rules_cap_used(&k, h, 6, NOW, -1, &retry), 5);
	assert_int_equal(retry, -1);
	assert_int_equal(rules_cap_used(&k, h, 0, NOW, -1, &retry), 0);
	assert_int_equal(retry, -1);
}

/* Campaign scope counts the decision's campaign on every channel. */
static void
test_cap_campaign_scope(void **state)
{
	struct conf_cap		 cap = { .limit = 1, .window = DAY };
	struct rules_check	 k = { CONF_SCOPE_CAMPAIGN, EMAIL, -1, -1, 0, &cap };
	struct rules_contact	 h[] = {
		{ NOW - 2 * DAY, EMAIL, 7, -1 },
		{ NOW - 10 * HOUR, SMS, 7, -1 },
		{ NOW - 5 * HOUR, EMAIL, 8, -1 },
		{ NOW - HOUR, PUSH, -1, -1 },
	};
	int64_t			 retry;

	(void)state;
	assert_int_equal(rules_cap_used(&k, h, 4, NOW, 7, &retry), 1);
	assert_int_equal(retry, 14 * HOUR);
	assert_int_equal(rules_cap_used(&k, h, 4, NOW, 8, &retry), 1);
	assert_int_equal(retry, 19 * HOUR);
	assert_int_equal(rules_cap_used(&k, h, 4, NOW, 9, &retry), 0);
	assert_int_equal(retry, -1);
	/* No campaign: contacts without one are not "the same campaign". */
	assert_int_equal(rules_cap_used(&k, h, 4, NOW, -1, &retry), 0);
	/* Channel scope ignores campaigns; all scope counts everything. */
	k.scope = CONF_SCOPE_CHANNEL;
	assert_int_equal(rules_cap_used(&k, h, 4, NOW, 7, NULL), 1);
	k.scope = CONF_SCOPE_ALL;
	assert_int_equal(rules_cap_used(&k, h, 4, NOW, 7, NULL), 3);
}

/* A customer with consent everywhere and no history. */
static void
customer_init(struct rules_customer *cu)
{
	memset(cu, 0, sizeof *cu);
	for (int i = 0; i < CONF_MAX_CHANNELS; i++)
		cu->consent[i] = 1;
}

/* Run rules_decide with the selected checks for channel. */
static void
decide(const struct conf *c, const struct rules_customer *cu, int channel,
    int campaign, const char *category, int64_t now, struct rules_verdict *v)
{
	struct rules_check	 k[RULES_MAX_CHECKS];
	int			 n;

	n = rules_select(c, channel, campaign >= 0, k, RULES_MAX_CHECKS);
	rules_decide(c, k, n, cu, channel, campaign, category, now, v);
}

/* no_consent, then suppressed, then quiet_hours, then cap. */
static void
test_decide_order(void **state)
{
	const struct conf	*c = *state;
	struct rules_customer	 cu;
	struct rules_verdict	 v;
	struct rules_contact	 h[] = {
		{ NOW - HOUR, EMAIL, 0, -1 },
	};
	int64_t			 night = NOW + 30 * 60;	/* 21:00 UTC */

	(void)state;
	customer_init(&cu);
	cu.segments = VULNERABLE;
	cu.history = h;
	cu.nhistory = 1;
	cu.consent[EMAIL] = 0;

	/* Everything denies: consent wins. */
	decide(c, &cu, EMAIL, 0, "credit", night, &v);
	assert_int_equal(v.reason, RULES_NO_CONSENT);
	assert_int_equal(v.check, -1);
	assert_int_equal(v.retry_after, -1);
	assert_string_equal(rules_reason_name(v.reason), "no_consent");
	cu.consent[EMAIL] = 1;
	decide(c, &cu, EMAIL, 0, "credit", night, &v);
	assert_int_equal(v.reason, RULES_SUPPRESSED);
	assert_int_equal(v.check, -1);
	assert_int_equal(v.retry_after, -1);
	decide(c, &cu, EMAIL, 0, "discount", night, &v);
	assert_int_equal(v.reason, RULES_QUIET_HOURS);
	/*
	 * Quiet hours end at 08:00, but vulnerable 1/7d holds until 19:30 a
	 * week later: retry_after waits for every rule together.
	 */
	assert_int_equal(v.next_allowed, NOW - HOUR + 7 * DAY);
	assert_int_equal(v.retry_after, 7 * DAY - HOUR - 30 * 60);
	assert_int_equal(v.check, -1);
	/* 20:30 UTC is not quiet: the caps answer. */
	decide(c, &cu, EMAIL, 0, "discount", NOW, &v);
	assert_int_equal(v.reason, RULES_CAP);
	assert_string_equal(rules_reason_name(v.reason), "cap");
	/* email 1/1d and campaign 1/1d deny too, but vulnerable 1/7d binds. */
	assert_int_equal(v.check, 4);
	assert_int_equal(v.retry_after, 7 * DAY - HOUR);
	/* Not in the segment any more: only email 1/1d and campaign 1/1d deny. */
	cu.segments = 0;
	decide(c, &cu, EMAIL, 0, "credit", NOW, &v);
	assert_int_equal(v.reason, RULES_CAP);
	assert_int_equal(v.check, 1);
	assert_int_equal(v.retry_after, 23 * HOUR);
	/* Push has room, the channel-free caps (all, campaign 1) do too. */
	decide(c, &cu, PUSH, 1, "credit", NOW, &v);
	assert_int_equal(v.reason, RULES_OK);
	assert_string_equal(rules_reason_name(v.reason), "ok");
	assert_int_equal(v.check, -1);
	assert_int_equal(v.retry_after, -1);
	/* Same campaign on another channel: the campaign cap denies. */
	decide(c, &cu, PUSH, 0, NULL, NOW, &v);
	assert_int_equal(v.reason, RULES_CAP);
	assert_int_equal(v.check, 2);
	assert_string_equal(c->campaign_caps[0].text, "campaign 1/1d");
}

/* No recorded consent follows [consent] default. */
static void
test_decide_consent_default(void **state)
{
	struct conf		*allow;
	const struct conf	*deny = *state;
	struct rules_customer	 cu;
	struct rules_verdict	 v;

	customer_init(&cu);
	memset(cu.consent, -1, sizeof cu.consent);
	decide(deny, &cu, PUSH, -1, NULL, NOW, &v);
	assert_int_equal(v.reason, RULES_NO_CONSENT);
	allow = conf_from("[consent]\ndefault = allow\n[channel email]\n"
	    "[channel sms]\n[channel push]\n");
	decide(allow, &cu, PUSH, -1, NULL, NOW, &v);
	assert_int_equal(v.reason, RULES_OK);
	/* A recorded refusal beats the default. */
	cu.consent[PUSH] = 0;
	decide(allow, &cu, PUSH, -1, NULL, NOW, &v);
	assert_int_equal(v.reason, RULES_NO_CONSENT);
	/* Consent is per channel. */
	decide(allow, &cu, SMS, -1, NULL, NOW - 8 * HOUR, &v);
	assert_int_equal(v.reason, RULES_OK);
	cu.consent[SMS] = 1;
	decide(deny, &cu, SMS, -1, NULL, NOW - 8 * HOUR, &v);
	assert_int_equal(v.reason, RULES_OK);
	conf_free(allow);
}

/* Segment caps and exclusions apply only to members. */
static void
test_decide_segments(void **state)
{
	const struct conf	*c = *state;
	struct rules_customer	 cu;
	struct rules_verdict	 v;
	struct rules_contact	 h[] = {
		{ NOW - 3 * DAY, SMS, -1, -1 },
		{ NOW - 2 * HOUR, PUSH, -1, -1 },
	};

	customer_init(&cu);
	cu.history = h;
	cu.nhistory = 2;
	decide(c, &cu, PUSH, -1, "credit", NOW, &v);
	assert_int_equal(v.reason, RULES_OK);
	/* vulnerable: 1/7d across channels, the oldest leaves in 4 days. */
	cu.segments = VULNERABLE;
	decide(c, &cu, PUSH, -1, "discount", NOW, &v);
	assert_int_equal(v.reason, RULES_CAP);
	assert_int_equal(v.check, 2);
	assert_int_equal(v.retry_after, 7 * DAY - 2 * HOUR);
	decide(c, &cu, PUSH, -1, "credit", NOW, &v);
	assert_int_equal(v.reason, RULES_SUPPRESSED);
	/* young: 2/1d, one contact today, still room; alcohol excluded. */
	cu.segments = YOUNG;
	decide(c, &cu, PUSH, -1, "discount", NOW, &v);
	assert_int_equal(v.reason, RULES_OK);
	decide(c, &cu, PUSH, -1, "alcohol", NOW, &v);
	assert_int_equal(v.reason, RULES_SUPPRESSED);
	decide(c, &cu, PUSH, -1, "gambling", NOW, &v);
	assert_int_equal(v.reason, RULES_SUPPRESSED);
	decide(c, &cu, PUSH, -1, "credit", NOW, &v);
	assert_int_equal(v.reason, RULES_OK);

	assert_int_equal(rules_suppressed(c, VULNERABLE | YOUNG, "credit"), 1);
	assert_int_equal(rules_suppressed(c, VULNERABLE | YOUNG, "alcohol"), 1);
	assert_int_equal(rules_suppressed(c, VULNERABLE | YOUNG, "discount"), 0);
	assert_int_equal(rules_suppressed(c, VULNERABLE, NULL), 0);
	assert_int_equal(rules_suppressed(c, VULNERABLE, ""), 0);
	assert_int_equal(rules_suppressed(c, 0, "credit"), 0);
	/* Bits past the configured segments mean nothing. */
	assert_int_equal(rules_suppressed(c, 1u << 31, "credit"), 0);
}

/* Shadow caps are flagged, never enforced. */
static void
test_decide_shadow(void **state)
{
	struct conf		*c = conf_from("[channel email]\ncap = 3/7d\n"
	    "[channel push]\ncap = 2/1d\n[channel sms]\nquiet_hours = 20:00-09:00\n"
	    "[shadow]\ncap = email 2/7d\ncap = 3/1d\n[consent]\ndefault = allow\n");
	struct rules_customer	 cu;
	struct rules_verdict	 v;
	struct rules_contact	 h[] = {
		{ NOW - 3 * DAY, 0, -1, -1 },
		{ NOW - 2 * DAY, 0, -1, -1 },
		{ NOW - 5 * HOUR, 1, -1, -1 },
		{ NOW - 4 * HOUR, 2, -1, -1 },
		{ NOW - 3 * HOUR, 1, -1, -1 },
	};

	(void)state;
	customer_init(&cu);
	cu.history = h;
	cu.nhistory = 2;
	/* Checks for email: email 3/7d, shadow email 2/7d, shadow all 3/1d. */
	decide(c, &cu, 0, -1, NULL, NOW, &v);
	assert_int_equal(v.reason, RULES_OK);
	assert_int_equal(v.check, -1);
	assert_int_equal(v.retry_after, -1);
	assert_true(v.shadow_denied == (1ULL << 1));
	/* Three contacts today: the shadow "all 3/1d" joins in. */
	cu.nhistory = 5;
	decide(c, &cu, 0, -1, NULL, NOW, &v);
	assert_int_equal(v.reason, RULES_OK);
	assert_true(v.shadow_denied == ((1ULL << 1) | (1ULL << 2)));
	/* Shadow flags come along with an enforced denial (push 2/1d). */
	decide(c, &cu, 1, -1, NULL, NOW, &v);
	assert_int_equal(v.reason, RULES_CAP);
	assert_int_equal(v.check, 0);
	assert_int_equal(v.retry_after, 19 * HOUR);
	assert_true(v.shadow_denied == (1ULL << 1));
	/* A denial before the caps (quiet hours) evaluates no shadow. */
	decide(c, &cu, 2, -1, NULL, NOW, &v);
	assert_int_equal(v.reason, RULES_QUIET_HOURS);
	assert_true(v.shadow_denied == 0);
	conf_free(c);
}

/* Several caps deny: the verdict names the one that binds longest. */
static void
test_decide_binding_cap(void **state)
{
	const struct conf	*c = *state;
	struct rules_customer	 cu;
	struct rules_verdict	 v;
	struct rules_contact	 h[] = {
		{ NOW - 7 * DAY + 10, EMAIL, -1, -1 },	/* leaves in 10 s */
		{ NOW - 3 * DAY, EMAIL, -1, -1 },
		{ NOW - 100, EMAIL, -1, -1 },
	};
	struct conf		*zero;

	customer_init(&cu);
	cu.history = h;
	cu.nhistory = 3;
	/* email 3/7d frees up in 10 s, but email 1/1d only in 86300 s. */
	decide(c, &cu, EMAIL, -1, NULL, NOW, &v);
	assert_int_equal(v.reason, RULES_CAP);
	assert_int_equal(v.check, 1);
	assert_int_equal(v.retry_after, DAY - 100);
	/* Retrying then is allowed. */
	decide(c, &cu, EMAIL, -1, NULL, NOW + DAY - 100, &v);
	assert_int_equal(v.reason, RULES_OK);
	decide(c, &cu, EMAIL, -1, NULL, NOW + DAY - 101, &v);
	assert_int_equal(v.reason, RULES_CAP);
	assert_int_equal(v.retry_after, 1);

	/* A cap of 0 binds forever: retry_after -1, whatever comes first. */
	zero = conf_from("[channel email]\ncap = 1/1d\n[all]\ncap = 0/1h\n");
	decide(zero, &cu, 0, -1, NULL, NOW, &v);
	assert_int_equal(v.reason, RULES_CAP);
	assert_int_equal(v.check, 1);
	assert_int_equal(v.retry_after, -1);
	cu.nhistory = 0;
	decide(zero, &cu, 0, -1, NULL, NOW, &v);
	assert_int_equal(v.reason, RULES_CAP);
	assert_int_equal(v.check, 1);
	assert_int_equal(v.retry_after, -1);
	conf_free(zero);
}

/* rules_quiet across midnight: 21:00-08:00. */
static void
test_quiet_midnight(void **state)
{
	const struct conf	*c = *state;
	const struct conf_channel *email = &c->channels[EMAIL];
	int64_t			 retry = 777;

	assert_int_equal(rules_quiet(email, 20 * HOUR + 59 * 60 + 59, &retry), 0);
	assert_int_equal(retry, 777);
	assert_int_equal(rules_quiet(email, 21 * HOUR, &retry), 1);
	assert_int_equal(retry, 11 * HOUR);
	assert_int_equal(rules_quiet(email, 23 * HOUR + 59 * 60 + 59, &retry), 1);
	assert_int_equal(retry, 8 * HOUR + 1);
	assert_int_equal(rules_quiet(email, 0, &retry), 1);
	assert_int_equal(retry, 8 * HOUR);
	assert_int_equal(rules_quiet(email, 7 * HOUR + 59 * 60 + 59, &retry), 1);
	assert_int_equal(retry, 1);
	retry = 777;
	assert_int_equal(rules_quiet(email, 8 * HOUR, &retry), 0);
	assert_int_equal(retry, 777);
	assert_int_equal(rules_quiet(email, 12 * HOUR, NULL), 0);
	assert_int_equal(rules_quiet(email, 22 * HOUR, NULL), 1);
	/* No quiet hours at all. */
	assert_int_equal(rules_quiet(&c->channels[PUSH], 3 * HOUR, &retry), 0);
}

/* rules_quiet within one day: 01:00-05:30. */
static void
test_quiet_same_day(void **state)
{
	struct conf	*c = conf_from("[channel e]\nquiet_hours = 01:00-05:30\n");
	int64_t		 retry;

	(void)state;
	assert_int_equal(rules_quiet(&c->channels[0], HOUR - 1, &retry), 0);
	assert_int_equal(rules_quiet(&c->channels[0], HOUR, &retry), 1);
	assert_int_equal(retry, 4 * HOUR + 30 * 60);
	assert_int_equal(rules_quiet(&c->channels[0], 5 * HOUR + 30 * 60 - 1, &retry), 1);
	assert_int_equal(retry, 1);
	assert_int_equal(rules_quiet(&c->channels[0], 5 * HOUR + 30 * 60, &retry), 0);
	assert_int_equal(rules_quiet(&c->channels[0], 23 * HOUR, &retry), 0);
	conf_free(c);
}

/* rules_decide uses the customer's UTC offset for quiet hours. */
static void
test_decide_local_time(void **state)
{
	const struct conf	*c = *state;
	struct rules_customer	 cu;
	struct rules_verdict	 v;
	int64_t			 midnight = NOW - 20 * HOUR - 30 * 60;

	customer_init(&cu);
	/* 20:30 UTC is 21:30 at +01:00: quiet until 08:00, 10.5 hours. */
	cu.utc_offset = 3600;
	decide(c, &cu, EMAIL, -1, NULL, NOW, &v);
	assert_int_equal(v.reason, RULES_QUIET_HOURS);
	assert_int_equal(v.retry_after, 10 * HOUR + 30 * 60);
	/* 01:00 UTC is 20:00 the day before at -05:00: sms quiet, email not. */
	cu.utc_offset = -5 * 3600;
	decide(c, &cu, EMAIL, -1, NULL, midnight + HOUR, &v);
	assert_int_equal(v.reason, RULES_OK);
	decide(c, &cu, SMS, -1, NULL, midnight + HOUR, &v);
	assert_int_equal(v.reason, RULES_QUIET_HOURS);
	assert_int_equal(v.retry_after, 13 * HOUR);
	/* 07:59:59 at +14:00 is 17:59:59 UTC the day before. */
	cu.utc_offset = 14 * 3600;
	decide(c, &cu, EMAIL, -1, NULL, midnight - 6 * HOUR - 1, &v);
	assert_int_equal(v.reason, RULES_QUIET_HOURS);
	assert_int_equal(v.retry_after, 1);
	decide(c, &cu, EMAIL, -1, NULL, midnight - 6 * HOUR, &v);
	assert_int_equal(v.reason, RULES_OK);
	/* Times before 1970 still map to a time of day. */
	cu.utc_offset = 0;
	decide(c, &cu, EMAIL, -1, NULL, -3 * HOUR, &v);
	assert_int_equal(v.reason, RULES_QUIET_HOURS);
	assert_int_equal(v.retry_after, 11 * HOUR);
}

/* With the zone's table, quiet hours end at local 08:00 across a clock change. */
static void
test_decide_quiet_across_dst(void **state)
{
	const struct conf	*c = *state;
	struct rules_customer	 cu;
	struct rules_verdict	 v;
	struct tz_table		 paris;
	/* 2026-10-24 21:00 in Paris (+02:00) is 19:00 UTC; clocks go back at
	 * 2026-10-25 01:00 UTC, so 08:00 (+01:00) is 07:00 UTC: 12 hours. */
	const int64_t		 evening = 1792868400;

	assert_int_equal(tz_table("Europe/Paris", evening - 86400, evening + 86400,
	    &paris), 0);
	customer_init(&cu);
	cu.zone = &paris;
	decide(c, &cu, EMAIL, -1, NULL, evening, &v);
	assert_int_equal(v.reason, RULES_QUIET_HOURS);
	assert_int_equal(v.retry_after, 12 * HOUR);
	/* Spring forward, 2026-03-28 21:00 (+01:00) = 20:00 UTC: 10 hours. */
	assert_int_equal(tz_table("Europe/Paris", 1774728000 - 86400,
	    1774728000 + 86400, &paris), 0);
	decide(c, &cu, EMAIL, -1, NULL, 1774728000, &v);
	assert_int_equal(v.reason, RULES_QUIET_HOURS);
	assert_int_equal(v.retry_after, 10 * HOUR);
}

/*
 * next_allowed: quiet hours and every cap together, at the request's
 * priority; exempt requests skip both (daemon/decide.lua, the same rules).
 */
static void
test_next_allowed(void **state)
{
	const struct conf	*c = *state;
	struct rules_customer	 cu;
	struct rules_verdict	 v;
	struct rules_check	 k[RULES_MAX_CHECKS];
	/* 20:30 UTC: an email 23 h ago fills email 1/1d until 21:30 today. */
	struct rules_contact	 h[] = { { NOW - 23 * HOUR, EMAIL, -1, -1 } };
	struct rules_request	 rq = { EMAIL, -1, NULL, 0, 0 };
	int64_t			 morning = NOW + 11 * HOUR + 30 * 60; /* 08:00 */
	int			 n = rules_select(c, EMAIL, 0, k, RULES_MAX_CHECKS);

	customer_init(&cu);
	cu.history = h;
	cu.nhistory = 1;
	/* The cap frees at 21:30, inside quiet hours: the answer is 08:00. */
	rules_decide_request(c, k, n, &cu, &rq, NOW, &v);
	assert_int_equal(v.reason, RULES_CAP);
	assert_int_equal(v.next_allowed, morning);
	assert_int_equal(v.retry_after, morning - NOW);
	assert_int_equal(v.held, 0);
	/* At 22:00 quiet hours bind first: the same instant. */
	rules_decide_request(c, k, n, &cu, &rq, NOW + 90 * 60, &v);
	assert_int_equal(v.reason, RULES_QUIET_HOURS);
	assert_int_equal(v.next_allowed, morning);
	/* One second before it is still denied, at it allowed. */
	rules_decide_request(c, k, n, &cu, &rq, morning - 1, &v);
	assert_int_equal(v.reason, RULES_QUIET_HOURS);
	rules_decide_request(c, k, n, &cu, &rq, morning, &v);
	assert_int_equal(v.reason, RULES_OK);
	assert_int_equal(v.next_allowed, -1);
	/* Exempt: consent only. */
	rq.exempt = 1;
	rules_decide_request(c, k, n, &cu, &rq, NOW + 90 * 60, &v);
	assert_int_equal(v.reason, RULES_OK);
	cu.consent[EMAIL] = 0;
	rules_decide_request(c, k, n, &cu, &rq, NOW + 90 * 60, &v);
	assert_int_equal(v.reason, RULES_NO_CONSENT);
	assert_int_equal(v.next_allowed, -1);
}

/* [priority] reserve: normal fills a cap to N - K; high to N; held says so. */
static void
test_priority_cut(void **state)
{
	const struct conf	*c = *state;
	struct rules_customer	 cu;
	struct rules_verdict	 v;
	struct rules_check	 k[RULES_MAX_CHECKS];
	struct rules_contact	 h[] = { { NOW - HOUR, PUSH, -1, -1 } };
	struct rules_request	 rq = { PUSH, -1, NULL, 1, 0 };
	int			 n = rules_select(c, PUSH, 0, k, RULES_MAX_CHECKS);

	customer_init(&cu);
	cu.history = h;
	cu.nhistory = 1;
	/* push 2/1d with one used: normal (cut 1) is held back for high. */
	rules_decide_request(c, k, n, &cu, &rq, NOW, &v);
	assert_int_equal(v.reason, RULES_CAP);
	assert_int_equal(v.held, 1);
	assert_int_equal(v.next_allowed, NOW - HOUR + DAY);
	rq.cut = 0;
	rules_decide_request(c, k, n, &cu, &rq, NOW, &v);
	assert_int_equal(v.reason, RULES_OK);
	/* Low (cut 2): push 2/1d leaves it nothing, ever. */
	rq.cut = 2;
	rules_decide_request(c, k, n, &cu, &rq, NOW, &v);
	assert_int_equal(v.reason, RULES_CAP);
	assert_int_equal(v.held, 1);
	assert_int_equal(v.next_allowed, -1);
	assert_int_equal(v.retry_after, -1);
}

/* Every reason has its API name. */
static void
test_reason_names(void **state)
{
	static const char *const want[] = { "ok", "no_consent", "quiet_hours", "cap",
	    "not_planned", "holdout", "suppressed", "store_unavailable", "paused",
	    "scheduled" };

	(void)state;
	for (int r = 0; r < RULES_NREASONS; r++)
		assert_string_equal(rules_reason_name((enum rules_reason)r), want[r]);
	assert_string_equal(rules_reason_name(RULES_NREASONS), "unknown");
	assert_string_equal(rules_reason_name((enum rules_reason)-1), "unknown");
}

/*
 * A category's cap counts the category's contacts on every channel and
 * applies only to decisions on an offer of it; exempt ones skip it.
 */
static void
test_category_cap(void **state)
{
	struct conf		*c = conf_from("[consent]\ndefault = allow\n"
	    "[channel email]\n[channel sms]\n[channel push]\n"
	    "[category credit]\ncap = 1/30d\ncap = 3/365d\n"
	    "[category discount]\ncap = 2/1d\n");
	struct rules_customer	 cu;
	struct rules_verdict	 v;
	struct rules_check	 k[RULES_MAX_CHECKS];
	/* A credit email 10 days ago, a discount push and one of no offer. */
	struct rules_contact	 h[] = {
		{ NOW - 10 * DAY, EMAIL, -1, 0 },
		{ NOW - HOUR, PUSH, -1, 1 },
		{ NOW - 60, SMS, -1, -1 },
	};
	struct rules_request	 rq = { SMS, -1, "credit", 0, 0 };
	int			 n = rules_select(c, SMS, 0, k, RULES_MAX_CHECKS);

	(void)state;
	assert_int_equal(n, 3);
	assert_int_equal(k[0].scope, CONF_SCOPE_CATEGORY);
	assert_int_equal(k[0].category, 0);
	assert_int_equal(k[2].category, 1);
	customer_init(&cu);
	cu.history = h;
	cu.nhistory = 3;
	rules_decide_request(c, k, n, &cu, &rq, NOW, &v);
	assert_int_equal(v.reason, RULES_CAP);
	assert_string_equal(v.denied_by->cap->text, "category credit 1/30d");
	assert_int_equal(v.next_allowed, NOW + 20 * DAY);
	/* Used 1 of 1 (the email): counted on another channel. */
	assert_int_equal(rules_cap_used(&k[0], h, 3, NOW, -1, NULL), 1);
	assert_int_equal(rules_cap_used(&k[2], h, 3, NOW, -1, NULL), 1);
	/* Another category, no offer, and an exempt request pass. */
	rq.category = "discount";
	rules_decide_request(c, k, n, &cu, &rq, NOW, &v);
	assert_int_equal(v.reason, RULES_OK);
	rq.category = NULL;
	rules_decide_request(c, k, n, &cu, &rq, NOW, &v);
	assert_int_equal(v.reason, RULES_OK);
	rq.category = "toys";		/* a category without caps */
	rules_decide_request(c, k, n, &cu, &rq, NOW, &v);
	assert_int_equal(v.reason, RULES_OK);
	rq.category = "credit";
	rq.exempt = 1;
	rules_decide_request(c, k, n, &cu, &rq, NOW, &v);
	assert_int_equal(v.reason, RULES_OK);
	conf_free(c);
}

/* A profile's own caps (field ucap) as checks; a removed channel skipped. */
static void
test_own_caps(void **state)
{
	const struct conf	*c = *state;
	struct conf_cap		 caps[RULES_MAX_OWN];
	struct rules_check	 k[RULES_MAX_OWN];
	int			 n;

	n = rules_own_caps(c, "email 1 604800;fax 2 86400;all 4 2592000", caps,
	    k);
	assert_int_equal(n, 2);
	assert_string_equal(caps[0].text, "customer email 1/7d");
	assert_int_equal(k[0].scope, CONF_SCOPE_CHANNEL);
	assert_int_equal(k[0].channel, EMAIL);
	assert_ptr_equal(k[0].cap, &caps[0]);
	assert_string_equal(caps[1].text, "customer all 4/30d");
	assert_int_equal(k[1].scope, CONF_SCOPE_ALL);
	assert_int_equal(k[1].category, -1);
	assert_int_equal(rules_own_caps(c, NULL, caps, k), 0);
	assert_int_equal(rules_own_caps(c, "", caps, k), 0);
	assert_int_equal(rules_own_caps(c, "email x 5", caps, k), 0);
	assert_int_equal(rules_own_caps(c, "email 1 0;sms 1 60", caps, k), 1);
	assert_int_equal(k[0].channel, SMS);
}

/* Run every test of this file. */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide_quiet_across_dst),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_select_empty),
		cmocka_unit_test(test_cap_window_edges),
		cmocka_unit_test(test_cap_counts_later_contacts),
		cmocka_unit_test(test_next_allowed),
		cmocka_unit_test(test_priority_cut),
		cmocka_unit_test(test_cap_retry_after),
		cmocka_unit_test(test_cap_campaign_scope),
		cmocka_unit_test(test_decide_order),
		cmocka_unit_test(test_decide_consent_default),
		cmocka_unit_test(test_decide_segments),
		cmocka_unit_test(test_decide_shadow),
		cmocka_unit_test(test_decide_binding_cap),
		cmocka_unit_test(test_quiet_midnight),
		cmocka_unit_test(test_quiet_same_day),
		cmocka_unit_test(test_decide_local_time),
		cmocka_unit_test(test_reason_names),
		cmocka_unit_test(test_category_cap),
		cmocka_unit_test(test_own_caps),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
