/*
 * rules_oracle: the C rule engine (solver/model/rules.c) on decisions read
 * from stdin, for integration/test_differential.py, which asks pacerd (the
 * decision script, daemon/decide.lua) the same and requires one answer.
 *
 *   rules_oracle CONFIG < cases
 *
 * One case per line, a JSON object:
 *   {"consent": {"email": true, "sms": false},   channels left out: unknown
 *    "segments": ["vulnerable"],
 *    "tzt": "3600@0;7200@..." or null            the profile's field tzt
 *    "history": [[TIME, "email", "winback"], [TIME, "sms", ""]],
 *    "channel": "email", "campaign": "winback" or null,
 *    "priority": "low"|"normal"|"high" or null   null: the campaign's default
 *    "now": TIME}
 * One answer per line, flushed, in pacerd's spelling (members left out as
 * pacerd leaves them out):
 *   {"reason": "cap", "rule": "email 1/1d", "retry_after": S,
 *    "next_allowed": T, "reserved_for": "high", "exempt": false, "cut": 1}
 * or {"error": "..."} for a case it cannot read. The checks are chosen as
 * pacerd's program for the channel (daemon/decide.c decide_program_build:
 * rules_select with campaign caps when a campaign is named), and a
 * campaign's [campaign NAME] settings give the exemption and the default
 * priority as decide_parse does.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pacer/conf.h"
#include "pacer/rules.h"
#include "pacer/tz.h"

#define ORACLE_MAX_HISTORY 4096
#define ORACLE_MAX_CAMPAIGNS 256

/* Campaign names seen so far: the engine compares ids only. */
static char	*oracle_campaigns[ORACLE_MAX_CAMPAIGNS];
static int	 oracle_ncampaigns;

/* The id of a campaign name ("" or NULL: -1, none). */
static int
oracle_campaign_id(const char *name)
{
	if (name == NULL || *name == '\0')
		return -1;
	for (int i = 0; i < oracle_ncampaigns; i++)
		if (!strcmp(oracle_campaigns[i], name))
			return i;
	if (oracle_ncampaigns >= ORACLE_MAX_CAMPAIGNS)
		return ORACLE_MAX_CAMPAIGNS;	/* distinct from every kept one */
	if ((oracle_campaigns[oracle_ncampaigns] = strdup(name)) == NULL)
		return ORACLE_MAX_CAMPAIGNS;
	return oracle_ncampaigns++;
}

/* Ascending time (ties keep no particular order: the engine needs none). */
static int
oracle_by_time(const void *a, const void *b)
{
	const struct rules_contact *x = a, *y = b;

	return (x->time > y->time) - (x->time < y->time);
}

static void
oracle_error(const char *what)
{
	json_t	*o = json_pack("{s:s}", "error", what);

	json_dumpf(o, stdout, JSON_COMPACT);
	json_decref(o);
	fputc('\n', stdout);
	fflush(stdout);
}

/*
 * Answer one case; 0, or -1 with *cause set. Long on purpose: it reads the
 * case's members in the order test_differential.py writes them, one block
 * each, so the two sides of the differential test read side by side.
 */
static int
oracle_case(const struct conf *c, json_t *in, const char **cause)
{
	static struct rules_contact hist[ORACLE_MAX_HISTORY];
	struct rules_check	 checks[RULES_MAX_CHECKS];
	struct rules_customer	 cu;
	struct rules_request	 rq;
	struct rules_verdict	 v;
	struct tz_table		 table;
	const struct conf_campaign *settings = NULL;
	enum conf_priority	 priority = CONF_PRIORITY_NORMAL;
	json_t			*consent, *segs, *tzt, *h, *e, *val, *out;
	const char		*key, *channel, *campaign = NULL, *prio = NULL;
	json_int_t		 now;
	size_t			 i;
	int			 nchecks, nh = 0;

	memset(&rq, 0, sizeof rq);
	if (!json_is_object(in) ||
	    json_unpack(in, "{s:s, s:I}", "channel", &channel, "now", &now) != 0) {
		*cause = "a case needs channel and now";
		return -1;
	}
	if ((val = json_object_get(in, "campaign")) != NULL && json_is_string(val))
		campaign = json_string_value(val);
	if ((val = json_object_get(in, "priority")) != NULL && json_is_string(val))
		prio = json_string_value(val);
	if ((val = json_object_get(in, "category")) != NULL && json_is_string(val))
		rq.category = json_string_value(val);
	memset(&cu, 0, sizeof cu);
	if ((rq.channel = conf_channel_index(c, channel)) < 0) {
		*cause = "unknown channel";
		return -1;
	}
	for (int ch = 0; ch < CONF_MAX_CHANNELS; ch++)
		cu.consent[ch] = -1;
	if ((consent = json_object_get(in, "consent")) != NULL)
		json_object_foreach(consent, key, val) {
			int ch = conf_channel_index(c, key);

			if (ch < 0 || !json_is_boolean(val)) {
				*cause = "consent: channel: true|false";
				return -1;
			}
			cu.consent[ch] = json_is_true(val) ? 1 : 0;
		}
	if ((segs = json_object_get(in, "segments")) != NULL)
		json_array_foreach(segs, i, val) {
			int s = json_is_string(val) ?
			    conf_segment_index(c, json_string_value(val)) : -1;

			if (s >= 0)
				cu.segments |= 1u << s;
		}
	if ((tzt = json_object_get(in, "tzt")) != NULL && json_is_string(tzt)) {
		if (tz_decode(json_string_value(tzt), &table) != 0) {
			*cause = "tzt: does not decode";
			return -1;
		}
		cu.zone = &table;
		cu.utc_offset = tz_offset(&table, now);
	}
	if ((h = json_object_get(in, "history")) != NULL)
		json_array_foreach(h, i, e) {
			json_int_t	 t;
			const char	*hc, *hp, *hk = NULL;

			if (nh >= ORACLE_MAX_HISTORY ||
			    json_unpack(e, "[I, s, s, s]", &t, &hc, &hp, &hk) != 0 ||
			    (hist[nh].channel = conf_channel_index(c, hc)) < 0) {
				*cause = "history: [[TIME, CHANNEL, CAMPAIGN, "
				    "CATEGORY], ...]";
				return -1;
			}
			hist[nh].time = t;
			hist[nh].campaign = oracle_campaign_id(hp);
			hist[nh].category = conf_category_index(c, hk);
			nh++;
		}
	qsort(hist, (size_t)nh, sizeof hist[0], oracle_by_time);
	cu.history = hist;
	cu.nhistory = nh;

	/* The request as decide_parse makes it. */
	rq.campaign = oracle_campaign_id(campaign);
	if (rq.campaign >= 0 && (settings = conf_campaign_find(c, campaign)) != NULL) {
		priority = settings->priority;
		rq.exempt = settings->exempt;
	}
	if (prio != NULL && conf_parse_priority(prio, &priority) != 0) {
		*cause = "priority: low|normal|high";
		return -1;
	}
	rq.cut = priority == CONF_PRIORITY_HIGH ? 0 :
	    priority == CONF_PRIORITY_LOW ? 2 * c->priority_reserve :
	    c->priority_reserve;

	/* The checks of pacerd's program for the channel. */
	nchecks = rules_select(c, rq.channel, rq.campaign >= 0, checks,
	    RULES_MAX_CHECKS);
	rules_decide_request(c, checks, nchecks, &cu, &rq, now, &v);

	out = json_pack("{s:s, s:b, s:i}", "reason", rules_reason_name(v.reason),
	    "exempt", rq.exempt, "cut", rq.cut);
	if (v.check >= 0)
		json_object_set_new(out, "rule",
		    json_string(checks[v.check].cap->text));
	if (v.retry_after >= 0)
		json_object_set_new(out, "retry_after", json_integer(v.retry_after));
	if (v.next_allowed >= 0)
		json_object_set_new(out, "next_allowed",
		    json_integer(v.next_allowed));
	if (v.held)
		json_object_set_new(out, "reserved_for", json_string("high"));
	json_dumpf(out, stdout, JSON_COMPACT);
	json_decref(out);
	fputc('\n', stdout);
	fflush(stdout);
	return 0;
}

int
main(int argc, char **argv)
{
	struct conf	*c;
	char		*cause = NULL, *line = NULL;
	size_t		 cap = 0;
	json_error_t	 jerr;

	if (argc != 2) {
		fprintf(stderr, "usage: rules_oracle CONFIG < cases\n");
		return 2;
	}
	if ((c = conf_load(argv[1], &cause)) == NULL) {
		fprintf(stderr, "rules_oracle: %s\n", cause ? cause : argv[1]);
		free(cause);
		return 1;
	}
	while (getline(&line, &cap, stdin) > 0) {
		json_t		*in;
		const char	*why = NULL;

		if (line[0] == '\n')
			continue;
		if ((in = json_loads(line, 0, &jerr)) == NULL) {
			oracle_error(jerr.text);
			continue;
		}
		if (oracle_case(c, in, &why) != 0)
			oracle_error(why);
		json_decref(in);
	}
	free(line);
	for (int i = 0; i < oracle_ncampaigns; i++)
		free(oracle_campaigns[i]);
	conf_free(c);
	return 0;
}
