/*
 * The rule engine (see pacer/rules.h).
 */
#include <string.h>

#include "pacer/rules.h"

static const char *const rules_reason_names[RULES_NREASONS] = {
	"ok", "no_consent", "quiet_hours", "cap", "not_planned", "holdout",
	"suppressed", "store_unavailable", "paused", "scheduled",
};

const char *
rules_reason_name(enum rules_reason r)
{
	if ((int)r < 0 || r >= RULES_NREASONS)
		return "unknown";
	return rules_reason_names[r];
}

/* Append checks for every cap in caps; returns the new count. */
static int
rules_add(struct rules_check *out, int n, int max, const struct conf_cap *caps,
    int ncaps, enum conf_scope scope, int channel, int segment, int shadow)
{
	for (int i = 0; i < ncaps && n < max; i++) {
		out[n].scope = scope;
		out[n].channel = channel;
		out[n].segment = segment;
		out[n].shadow = shadow;
		out[n].cap = &caps[i];
		n++;
	}
	return n;
}

int
rules_select(const struct conf *c, int channel, int has_campaign,
    struct rules_check *out, int max)
{
	const struct conf_channel	*ch = &c->channels[channel];
	int				 n = 0;

	n = rules_add(out, n, max, ch->caps, ch->ncaps, CONF_SCOPE_CHANNEL, channel,
	    -1, 0);
	n = rules_add(out, n, max, c->all_caps, c->nall_caps, CONF_SCOPE_ALL, -1, -1,
	    0);
	if (has_campaign)
		n = rules_add(out, n, max, c->campaign_caps, c->ncampaign_caps,
		    CONF_SCOPE_CAMPAIGN, channel, -1, 0);
	for (int s = 0; s < c->nsegments; s++)
		n = rules_add(out, n, max, c->segments[s].caps, c->segments[s].ncaps,
		    CONF_SCOPE_ALL, -1, s, 0);
	for (int i = 0; i < c->nshadow && n < max; i++) {
		const struct conf_shadow *sh = &c->shadow[i];

		if (sh->channel >= 0 && sh->channel != channel)
			continue;
		n = rules_add(out, n, max, &sh->cap, 1, sh->channel >= 0 ?
		    CONF_SCOPE_CHANNEL : CONF_SCOPE_ALL, sh->channel, -1, 1);
	}
	return n;
}

int
rules_suppressed(const struct conf *c, uint32_t segments, const char *category)
{
	if (category == NULL || *category == '\0')
		return 0;
	for (int s = 0; s < c->nsegments; s++) {
		if (!(segments & (1u << s)))
			continue;
		for (int i = 0; i < c->segments[s].nexclude; i++)
			if (!strcmp(c->segments[s].exclude[i], category))
				return 1;
	}
	return 0;
}

int
rules_quiet(const struct conf_channel *ch, int local_seconds, int64_t *retry_after)
{
	int	 start, end, in;

	if (ch->quiet_start < 0)
		return 0;
	start = ch->quiet_start * 60;
	end = ch->quiet_end * 60;
	/* A window like 21:00-08:00 wraps past midnight. */
	if (start < end)
		in = local_seconds >= start && local_seconds < end;
	else
		in = local_seconds >= start || local_seconds < end;
	if (in && retry_after != NULL)
		*retry_after = ((end - local_seconds) + 86400) % 86400;
	return in;
}

/* Whether contact h is counted by check k for a decision on campaign. */
static int
rules_counts(const struct rules_check *k, const struct rules_contact *h,
    int campaign)
{
	switch (k->scope) {
	case CONF_SCOPE_CHANNEL:
		return h->channel == k->channel;
	case CONF_SCOPE_ALL:
		return 1;
	case CONF_SCOPE_CAMPAIGN:
		return campaign >= 0 && h->campaign == campaign;
	}
	return 0;
}

/* Counted contacts of check k in the window (s - window, s]. */
static int
rules_window_count(const struct rules_check *k, const struct rules_contact *hist,
    int n, int64_t s, int campaign)
{
	int64_t	 from = s - k->cap->window;
	int	 used = 0;

	for (int i = 0; i < n; i++)
		if (hist[i].time > from && hist[i].time <= s &&
		    rules_counts(k, &hist[i], campaign))
			used++;
	return used;
}

/*
 * The most counted contacts in one window (s - window, s] that holds t,
 * for s from t to t + window: the count only rises at a contact, so s = t
 * and the counted contacts in (t, t + window) are the places to look
 * (daemon/decide.lua's peak, the same rule).
 */
static int
rules_peak(const struct rules_check *k, const struct rules_contact *hist, int n,
    int64_t t, int campaign)
{
	int	 best = rules_window_count(k, hist, n, t, campaign), used;

	for (int i = 0; i < n; i++) {
		if (hist[i].time <= t || hist[i].time >= t + k->cap->window ||
		    !rules_counts(k, &hist[i], campaign))
			continue;
		used = rules_window_count(k, hist, n, hist[i].time, campaign);
		if (used > best)
			best = used;
	}
	return best;
}

int
rules_cap_used(const struct rules_check *k, const struct rules_contact *hist, int n,
    int64_t now, int campaign, int64_t *retry_after)
{
	int	 used = rules_peak(k, hist, n, now, campaign);
	int64_t	 best = -1, at;

	if (retry_after == NULL)
		return used;
	*retry_after = -1;
	if (used < k->cap->limit || k->cap->limit == 0)
		return used;
	/*
	 * Room opens only when a counted contact leaves a window (its time
	 * + window): the earliest such instant with room in every window
	 * holding it. Past the last one no window holds a contact.
	 */
	for (int i = 0; i < n; i++) {
		if (!rules_counts(k, &hist[i], campaign))
			continue;
		at = hist[i].time + k->cap->window;
		if (at <= now || (best >= 0 && at >= best))
			continue;
		if (rules_peak(k, hist, n, at, campaign) < k->cap->limit)
			best = at;
	}
	if (best >= 0)
		*retry_after = best - now;
	return used;
}

void
rules_decide(const struct conf *c, const struct rules_check *checks, int nchecks,
    const struct rules_customer *cu, int channel, int campaign,
    const char *category, int64_t now, struct rules_verdict *v)
{
	int	 consent = cu->consent[channel];
	int64_t	 local, retry;
	int32_t	 offset;

	memset(v, 0, sizeof *v);
	v->check = -1;
	v->retry_after = -1;
	if (consent < 0)
		consent = c->consent_default_allow;
	if (!consent) {
		v->reason = RULES_NO_CONSENT;
		return;
	}
	if (rules_suppressed(c, cu->segments, category)) {
		v->reason = RULES_SUPPRESSED;
		return;
	}
	offset = cu->zone != NULL ? tz_offset(cu->zone, now) : cu->utc_offset;
	local = ((now + offset) % 86400 + 86400) % 86400;
	if (rules_quiet(&c->channels[channel], (int)local, &retry)) {
		/* A clock change before quiet hours end moves that instant. */
		if (cu->zone != NULL) {
			int32_t	 later = tz_offset(cu->zone, now + retry);

			if (later != offset)
				retry -= later - offset;
		}
		v->reason = RULES_QUIET_HOURS;
		v->retry_after = retry;
		return;
	}
	v->reason = RULES_OK;
	for (int i = 0; i < nchecks; i++) {
		const struct rules_check *k = &checks[i];

		if (k->segment >= 0 && !(cu->segments & (1u << k->segment)))
			continue;
		if (rules_cap_used(k, cu->history, cu->nhistory, now, campaign,
		    &retry) < k->cap->limit)
			continue;
		if (k->shadow) {
			if (i < 64)
				v->shadow_denied |= 1ULL << i;
			continue;
		}
		/*
		 * Several caps may deny: name the one that binds longest, so
		 * that retrying after retry_after is not denied by another
		 * (-1, no wait helps, binds longest of all).
		 */
		if (v->reason == RULES_OK || (v->retry_after >= 0 &&
		    (retry < 0 || retry > v->retry_after))) {
			v->reason = RULES_CAP;
			v->check = i;
			v->retry_after = retry;
		}
	}
}
