/*
 * The rule engine: which rules apply to a decision, and how a customer's
 * history, consent, segments and clock answer them. pacerd compiles the
 * selected checks into its Redis script (the atomic check-and-reserve);
 * pacer simulate and the optimizer evaluate the same checks in memory.
 */
#ifndef PACER_RULES_H
#define PACER_RULES_H

#include <stdint.h>

#include "pacer/conf.h"
#include "pacer/tz.h"

#define RULES_MAX_CHECKS (2 * CONF_MAX_CAPS + CONF_MAX_CAPS * CONF_MAX_SEGMENTS + \
    CONF_MAX_CAPS + CONF_MAX_SHADOW + CONF_MAX_CAPS * CONF_MAX_CATEGORIES)

/* Why a decision came out as it did (SPEC section 3). */
enum rules_reason {
	RULES_OK,
	RULES_NO_CONSENT,
	RULES_QUIET_HOURS,
	RULES_CAP,
	RULES_NOT_PLANNED,
	RULES_HOLDOUT,
	RULES_SUPPRESSED,
	RULES_STORE_UNAVAILABLE,
	RULES_PAUSED,		/* the customer's own pause */
	RULES_SCHEDULED,	/* held: reserved at next_allowed */
	RULES_NREASONS
};

/* One cap to check for a decision. */
struct rules_check {
	enum conf_scope		 scope;
	int			 channel;	/* CHANNEL scope: which channel */
	int			 category;	/* CATEGORY scope: index into
						   conf->categories */
	int			 segment;	/* -1: everyone; else members only */
	int			 shadow;	/* counted, never enforced */
	const struct conf_cap	*cap;		/* borrowed from the config */
};

/* One past contact. */
struct rules_contact {
	int64_t	 time;			/* unix seconds */
	int	 channel;		/* index into conf->channels */
	int	 campaign;		/* caller's campaign id, -1: none */
	int	 category;		/* its offer's category, index into
					   conf->categories, -1: none */
};

/* What the engine needs to know of one customer. */
struct rules_customer {
	signed char	 consent[CONF_MAX_CHANNELS];	/* 1, 0, -1: unknown */
	uint32_t	 segments;	/* bit i: member of conf->segments[i] */
	int32_t		 utc_offset;	/* seconds east of UTC at "now" */
	const struct rules_contact *history;	/* ascending time, borrowed */
	int		 nhistory;
	/* The zone's offsets (borrowed), or NULL: utc_offset holds throughout. */
	const struct tz_table *zone;
	/*
	 * The customer's own caps (borrowed; a preference centre sets them):
	 * they only add to the configured ones. A CHANNEL-scope one applies
	 * to decisions on its channel only.
	 */
	const struct rules_check *own;
	int		 nown;
	int64_t		 pause_until;	/* marketing paused until, 0: none */
};

/* A decision's request-side settings. */
struct rules_request {
	int		 channel;	/* index into conf->channels */
	int		 campaign;	/* caller's campaign id, -1: none */
	const char	*category;	/* the offer's category, or NULL */
	int		 cut;		/* slots of each enforced cap its priority
					 * leaves: 0 high, reserve normal, 2 x low */
	int		 exempt;	/* its campaign skips quiet hours and caps */
};

/* The engine's answer. */
struct rules_verdict {
	enum rules_reason reason;
	int		 check;		/* index of the denying check, -1 */
	const struct rules_check *denied_by; /* the denying check (also one of
					 * the customer's own), NULL */
	int64_t		 retry_after;	/* seconds, -1: not known */
	int64_t		 next_allowed;	/* when every rule allows, -1: none */
	int		 held;		/* only the reserve for high denied */
	uint64_t	 shadow_denied;	/* bit i: shadow check i would deny */
};

/* rules.c */
/* The reason's name as the API spells it ("no_consent"). */
const char	*rules_reason_name(enum rules_reason);
/*
 * Fill out[] with every check that applies to a decision on channel (with a
 * campaign when has_campaign), enforced ones first; returns how many.
 * Segment checks are included with their segment set: they apply only to
 * members; every category's caps are included: they apply only to
 * decisions on an offer of their category.
 */
int		 rules_select(const struct conf *, int channel, int has_campaign,
		    struct rules_check *out, int max);
/* Most of a customer's own caps a profile keeps (a preference centre). */
#define RULES_MAX_OWN	8
/*
 * Parse a profile's own caps, field ucap "CHANNEL|all LIMIT WINDOW;..." (as
 * pacerd stores a PUT's caps; NULL: none), into at most RULES_MAX_OWN caps
 * (named as answers name them: "customer email 1/7d") and checks (CHANNEL
 * scope with its channel, or ALL); returns how many. An item naming a
 * channel the config no longer has is skipped, as the script skips it.
 */
int		 rules_own_caps(const struct conf *, const char *text,
		    struct conf_cap *caps, struct rules_check *checks);
/* The longest window of a customer's own cap. */
#define RULES_OWN_WINDOW_MAX	(400 * 86400)
/* Bytes of field ucap's text for RULES_MAX_OWN caps. */
#define RULES_OWN_TEXT_MAX	(RULES_MAX_OWN * (CONF_NAME_MAX + 32))
/*
 * One of a customer's own caps as a person writes it, "email 1/7d" or
 * "all 4/30d" (a configured channel, a window of at most 400 days; no
 * space after it), added
 * to field ucap's text out (len bytes, *off used) as "email 1 604800";
 * *window (may be NULL) gets its window. 0, or -1 when it is not one.
 */
int		 rules_own_cap_item(const struct conf *, const char *item,
		    char *out, size_t len, size_t *off, int64_t *window);
/*
 * A caps cell of profiles.csv, "email 1/7d; all 4/30d" (empty items
 * skipped), as field ucap's text into out (RULES_OWN_TEXT_MAX bytes);
 * *longest raised to the longest window. 0, or -1 with the message in why
 * (len bytes).
 */
int		 rules_own_caps_cell(const struct conf *, const char *cell,
		    char *out, char *why, size_t len, int64_t *longest);
/* Whether category is excluded for a customer with these segments. */
int		 rules_suppressed(const struct conf *, uint32_t segments,
		    const char *category);
/*
 * Whether local time of day (seconds after local midnight) falls inside the
 * channel's quiet hours; if so *retry_after is the seconds until they end.
 */
int		 rules_quiet(const struct conf_channel *, int local_seconds,
		    int64_t *retry_after);
/*
 * Contacts counted by check for a decision at now on campaign: the most in
 * any window (s - window, s] holding now (contacts stamped after now count
 * too: a new contact must fit in every window it falls in); *retry_after
 * (may be NULL) becomes the seconds until one more fits in every window,
 * -1 when no wait helps.
 */
int		 rules_cap_used(const struct rules_check *, const struct rules_contact *,
		    int n, int64_t now, int campaign, int64_t *retry_after);
/*
 * Evaluate a decision in memory: consent, segment exclusion, quiet hours,
 * then every cap. Holdout and plan checks are the caller's (they need the
 * plan).
 */
void		 rules_decide(const struct conf *, const struct rules_check *, int nchecks,
		    const struct rules_customer *, int channel, int campaign,
		    const char *category, int64_t now, struct rules_verdict *);
/*
 * rules_decide for a request with its priority and exemption: the same
 * rules as daemon/decide.lua, next_allowed included (a time-curable denial,
 * quiet_hours or cap, says when every rule allows together, and
 * retry_after is the wait until then).
 */
void		 rules_decide_request(const struct conf *, const struct rules_check *,
		    int nchecks, const struct rules_customer *,
		    const struct rules_request *, int64_t now, struct rules_verdict *);

#endif /* PACER_RULES_H */
