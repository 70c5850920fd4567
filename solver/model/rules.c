/*
 * The rule engine (see pacer/rules.h).
 */
#include <stdio.h>
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
		out[n].category = -1;
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
	for (int k = 0; k < c->ncategories; k++) {
		int	 from = n;

		n = rules_add(out, n, max, c->categories[k].caps,
		    c->categories[k].ncaps, CONF_SCOPE_CATEGORY, -1, -1, 0);
		for (int i = from; i < n; i++)
			out[i].category = k;
	}
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
rules_own_caps(const struct conf *c, const char *text, struct conf_cap *caps,
    struct rules_check *checks)
{
	char		 chan[CONF_NAME_MAX], dur[32];
	long long	 limit, window;
	int		 n = 0, used, ch;

	while (text != NULL && *text != '\0' && n < RULES_MAX_OWN) {
		if (sscanf(text, "%63[^ ;] %lld %lld%n", chan, &limit, &window,
		    &used) != 3)
			break;
		text += used;
		if (*text == ';')
			text++;
		ch = strcmp(chan, "all") ? conf_channel_index(c, chan) : -1;
		if ((strcmp(chan, "all") && ch < 0) || limit < 0 || window <= 0)
			continue;
		caps[n].limit = (int)limit;
		caps[n].window = window;
		conf_format_duration(window, dur, sizeof dur);
		snprintf(caps[n].text, sizeof caps[n].text, "customer %s %lld/%s",
		    chan, limit, dur);
		checks[n].scope = ch >= 0 ? CONF_SCOPE_CHANNEL : CONF_SCOPE_ALL;
		checks[n].channel = ch;
		checks[n].category = -1;
		checks[n].segment = -1;
		checks[n].shadow = 0;
		checks[n].cap = &caps[n];
		n++;
	}
	return n;
}

int
rules_own_cap_item(const struct conf *c, const char *item, char *out,
    size_t len, size_t *off, int64_t *window)
{
	char		 chan[CONF_NAME_MAX], capt[64];
	struct conf_cap	 cap;
	int		 end = 0, n;

	if (sscanf(item, "%63s %63s%n", chan, capt, &end) != 2 ||
	    item[end] != '\0' || conf_parse_cap(capt, &cap) != 0 ||
	    cap.window > RULES_OWN_WINDOW_MAX ||
	    (strcmp(chan, "all") != 0 && conf_channel_index(c, chan) < 0))
		return -1;
	n = snprintf(out + *off, len - *off, "%s%s %d %lld", *off ? ";" : "",
	    chan, cap.limit, (long long)cap.window);
	if (n < 0 || (size_t)n >= len - *off)
		return -1;
	*off += (size_t)n;
	if (window != NULL)
		*window = cap.window;
	return 0;
}

int
rules_own_caps_cell(const struct conf *c, const char *cell, char *out,
    char *why, size_t len, int64_t *longest)
{
	char	 item[CONF_NAME_MAX + 32];
	size_t	 off = 0, n;
	int64_t	 window;
	int	 count = 0;

	*out = '\0';
	for (; *cell != '\0'; cell += n + (cell[n] == ';')) {
		n = strcspn(cell, ";");
		if (strspn(cell, " ") >= n)
			continue;	/* an empty item: "a;;b", "a;" */
		if (++count > RULES_MAX_OWN) {
			snprintf(why, len, "at most %d caps a customer",
			    RULES_MAX_OWN);
			return -1;
		}
		/* A cell's items may end in spaces ("email 1/7d ; all 4/30d"). */
		snprintf(item, sizeof item, "%.*s", (int)n, cell);
		for (size_t e = strlen(item); e > 0 && item[e - 1] == ' '; e--)
			item[e - 1] = '\0';
		if (n >= sizeof item || rules_own_cap_item(c, item, out,
		    RULES_OWN_TEXT_MAX, &off, &window) != 0) {
			snprintf(why, len, "\"%.80s\" is not \"CHANNEL N/DURATION\" "
			    "or \"all N/DURATION\" with a configured channel and a "
			    "window of at most 400d", item);
			return -1;
		}
		if (window > *longest)
			*longest = window;
	}
	return 0;
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
	case CONF_SCOPE_CATEGORY:
		return h->category >= 0 && h->category == k->category;
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

/*
 * The earliest instant after t at which one more contact fits under limit
 * in every window of check k, or -1 (a limit of 0 or less: never). Room
 * opens only when a counted contact leaves a window (its time + window);
 * past the last one no window holds a contact.
 */
static int64_t
rules_next_room(const struct rules_check *k, const struct rules_contact *hist,
    int n, int64_t t, int campaign, int limit)
{
	int64_t	 best = -1, at;

	if (limit <= 0)
		return -1;
	for (int i = 0; i < n; i++) {
		if (!rules_counts(k, &hist[i], campaign))
			continue;
		at = hist[i].time + k->cap->window;
		if (at <= t || (best >= 0 && at >= best))
			continue;
		if (rules_peak(k, hist, n, at, campaign) < limit)
			best = at;
	}
	return best;
}

int
rules_cap_used(const struct rules_check *k, const struct rules_contact *hist, int n,
    int64_t now, int campaign, int64_t *retry_after)
{
	int	 used = rules_peak(k, hist, n, now, campaign);
	int64_t	 at;

	if (retry_after == NULL)
		return used;
	*retry_after = -1;
	if (used < k->cap->limit)
		return used;
	if ((at = rules_next_room(k, hist, n, now, campaign, k->cap->limit)) >= 0)
		*retry_after = at - now;
	return used;
}

/* The customer's UTC offset at t. */
static int32_t
rules_offset(const struct rules_customer *cu, int64_t t)
{
	return cu->zone != NULL ? tz_offset(cu->zone, t) : cu->utc_offset;
}

/*
 * When the channel's quiet hours hold t in the customer's zone, the
 * instant they end (a clock change on the way moves it), else -1.
 */
static int64_t
rules_quiet_until(const struct conf_channel *ch, const struct rules_customer *cu,
    int64_t t)
{
	int32_t	 offset = rules_offset(cu, t), later;
	int64_t	 local = ((t + offset) % 86400 + 86400) % 86400, retry;

	if (!rules_quiet(ch, (int)local, &retry))
		return -1;
	if (cu->zone != NULL && (later = tz_offset(cu->zone, t + retry)) != offset)
		retry -= later - offset;
	return t + retry;
}

/*
 * Whether check k (one of the customer's own when own) applies to this
 * customer and request: its segment's members only, a category's caps to
 * decisions on an offer of that category (category: the request's, an
 * index into conf->categories or -1), and a customer's own channel cap to
 * decisions on its channel only.
 */
static int
rules_applies(const struct rules_check *k, int own,
    const struct rules_customer *cu, const struct rules_request *rq,
    int category)
{
	if (k->segment >= 0 && !(cu->segments & (1u << k->segment)))
		return 0;
	if (k->scope == CONF_SCOPE_CATEGORY &&
	    (category < 0 || k->category != category))
		return 0;
	return !(own && k->scope == CONF_SCOPE_CHANNEL &&
	    k->channel != rq->channel);
}

/*
 * The earliest instant from now at which every rule time can cure allows
 * together: quiet hours, and each enforced cap the customer's segments
 * bring at the request's priority. Each moves t to its own next allowed
 * instant until none moves it (daemon/decide.lua's allowed_from). -1 when
 * no wait helps. category: the request's, as rules_applies takes it.
 */
static int64_t
rules_next_allowed(const struct conf *c, const struct rules_check *checks,
    int nchecks, const struct rules_customer *cu,
    const struct rules_request *rq, int category, int64_t now)
{
	const struct conf_channel *ch = &c->channels[rq->channel];
	int64_t	 t = cu->pause_until > now ? cu->pause_until : now, e;
	int	 moved, eff;

	for (int round = 0; round < 64; round++) {
		moved = 0;
		if ((e = rules_quiet_until(ch, cu, t)) >= 0) {
			t = e;
			moved = 1;
		}
		for (int i = 0; i < nchecks + cu->nown; i++) {
			const struct rules_check *k = i < nchecks ? &checks[i] :
			    &cu->own[i - nchecks];

			if (k->shadow || !rules_applies(k, i >= nchecks, cu, rq,
			    category))
				continue;
			eff = k->cap->limit - rq->cut;
			if (rules_peak(k, cu->history, cu->nhistory, t,
			    rq->campaign) < eff)
				continue;
			if ((e = rules_next_room(k, cu->history, cu->nhistory, t,
			    rq->campaign, eff)) < 0)
				return -1;
			t = e;
			moved = 1;
		}
		if (!moved)
			return t;
	}
	return -1;
}

/* Decide a normal priority request that is not exempt; see rules.h. */
void
rules_decide(const struct conf *c, const struct rules_check *checks, int nchecks,
    const struct rules_customer *cu, int channel, int campaign,
    const char *category, int64_t now, struct rules_verdict *v)
{
	struct rules_request	 rq = { channel, campaign, category,
	    c->priority_reserve, 0 };

	rules_decide_request(c, checks, nchecks, cu, &rq, now, v);
}

/*
 * The order the script checks caps in (daemon/decide.c sorts its
 * program's checks): by ascending limit, ties as configured, the
 * customer's own after; of caps that hold equally long, the first names
 * the denial. Fills order with check indexes (own caps from nchecks on)
 * and returns how many.
 */
static int
rules_check_order(const struct rules_check *checks, int nchecks,
    const struct rules_customer *cu, int order[RULES_MAX_CHECKS + 8])
{
	int	 n = 0;

	for (int i = 0; i < nchecks && n < RULES_MAX_CHECKS; i++) {
		int	 j = n++;

		for (; j > 0 && checks[order[j - 1]].cap->limit >
		    checks[i].cap->limit; j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	for (int i = 0; i < cu->nown && n < RULES_MAX_CHECKS + 8; i++)
		order[n++] = nchecks + i;
	return n;
}

/*
 * The rules before the caps: consent, suppression, exemption, then the
 * customer's pause and quiet hours. 1 when they decide alone (v final),
 * 0 when the caps are to be judged (v->reason OK, paused or quiet).
 */
static int
rules_before_caps(const struct conf *c, const struct rules_customer *cu,
    const struct rules_request *rq, int64_t now, struct rules_verdict *v)
{
	int	 consent = cu->consent[rq->channel];

	if (consent < 0)
		consent = c->consent_default_allow;
	if (!consent) {
		v->reason = RULES_NO_CONSENT;
		return 1;
	}
	if (rules_suppressed(c, cu->segments, rq->category)) {
		v->reason = RULES_SUPPRESSED;
		return 1;
	}
	/* Exempt messages skip quiet hours and caps; consent still applies. */
	if (rq->exempt) {
		v->reason = RULES_OK;
		return 1;
	}
	v->reason = RULES_OK;
	if (cu->pause_until > 0 && cu->pause_until > now)
		v->reason = RULES_PAUSED;
	else if (rules_quiet_until(&c->channels[rq->channel], cu, now) >= 0)
		v->reason = RULES_QUIET_HOURS;
	return 0;
}

/*
 * Judge every cap that applies, in the script's order, while the request
 * is still allowed or denied by a cap; shadow caps only mark. Returns 1
 * when a denying cap is truly full (not only into the priority reserve).
 */
static int
rules_judge_caps(const struct rules_check *checks, int nchecks,
    const struct rules_customer *cu, const struct rules_request *rq,
    int category, int64_t now, struct rules_verdict *v)
{
	int	 order[RULES_MAX_CHECKS + 8], n, used, eff, full = 0;
	int64_t	 retry, at;

	n = rules_check_order(checks, nchecks, cu, order);
	for (int o = 0; (v->reason == RULES_OK || v->reason == RULES_CAP) &&
	    o < n; o++) {
		int	 i = order[o];
		const struct rules_check *k = i < nchecks ? &checks[i] :
		    &cu->own[i - nchecks];

		if (!rules_applies(k, i >= nchecks, cu, rq, category))
			continue;
		/* Shadow rules judge as configured; enforced ones leave the
		 * reserve of the request's priority. */
		eff = k->shadow ? k->cap->limit : k->cap->limit - rq->cut;
		used = rules_peak(k, cu->history, cu->nhistory, now, rq->campaign);
		if (used < eff)
			continue;
		if (k->shadow) {
			if (i < 64)
				v->shadow_denied |= 1ULL << i;
			continue;
		}
		at = rules_next_room(k, cu->history, cu->nhistory, now,
		    rq->campaign, eff);
		retry = at >= 0 ? at - now : -1;
		/* Reserved for high only if no denying cap is truly full. */
		if (used >= k->cap->limit)
			full = 1;
		/*
		 * Several caps may deny: name the one that binds longest, so
		 * that retrying after retry_after is not denied by another
		 * (-1, no wait helps, binds longest of all).
		 */
		if (v->reason == RULES_OK || (v->retry_after >= 0 &&
		    (retry < 0 || retry > v->retry_after))) {
			v->reason = RULES_CAP;
			v->check = i < nchecks ? i : -1;
			v->denied_by = k;
			v->retry_after = retry;
		}
	}
	return full;
}

/* Decide one request against every rule; see rules.h. */
void
rules_decide_request(const struct conf *c, const struct rules_check *checks,
    int nchecks, const struct rules_customer *cu, const struct rules_request *rq,
    int64_t now, struct rules_verdict *v)
{
	int	 category = conf_category_index(c, rq->category), full;

	memset(v, 0, sizeof *v);
	v->check = -1;
	v->retry_after = -1;
	v->next_allowed = -1;
	if (rules_before_caps(c, cu, rq, now, v))
		return;
	full = rules_judge_caps(checks, nchecks, cu, rq, category, now, v);
	v->held = v->reason == RULES_CAP && !full;
	/* Time can cure these: when every rule allows together. */
	if (v->reason == RULES_QUIET_HOURS || v->reason == RULES_CAP ||
	    v->reason == RULES_PAUSED) {
		v->next_allowed = rules_next_allowed(c, checks, nchecks, cu, rq,
		    category, now);
		v->retry_after = v->next_allowed >= 0 ? v->next_allowed - now : -1;
	}
}
