/*
 * The run report (SPEC section 5): every figure of one optimization run in
 * one plain struct, written as summary.json (machine-readable) and
 * report.html (one self-contained page for analysts), and read back from a
 * previous run's summary.json to show what changed.
 *
 * Who fills what: `pacer optimize` fills a struct report_run from the
 * instance, the solver result and the customers' histories, writes
 * assignments.csv into the run folder, then calls report_write(). The
 * writer computes the derived figures itself (shares, disparity flags, the
 * comparison with the previous run).
 *
 * Money figures are in the offers' currency. "Expected value" is always the
 * net figure the model maximizes: sum of propensity * value - cost over the
 * planned sends, so the per-offer, per-channel and per-campaign figures
 * each sum to the objective.
 */
#ifndef PACER_REPORT_H
#define PACER_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "pacer/conf.h"

/*
 * Contacts-per-customer histogram bins: bin k counts customers with k
 * contacts, for k < REPORT_HIST_BINS - 1; the last bin counts customers
 * with REPORT_HIST_BINS - 1 or more.
 */
#define REPORT_HIST_BINS	11

#define REPORT_ID_MAX		128
#define REPORT_TEXT_MAX		256

/*
 * Why a customer got nothing in the plan: the first reason that applies,
 * in this order.
 */
enum report_nothing {
	REPORT_NOTHING_NO_CONSENT,	/* no consent on any channel of an
					   eligible offer */
	REPORT_NOTHING_SATURATED,	/* no remaining room under some cap */
	REPORT_NOTHING_HOLDOUT,		/* in the holdout group */
	REPORT_NOTHING_SUPPRESSED,	/* every eligible offer excluded by
					   a segment (e.g. credit for
					   vulnerable customers) */
	REPORT_NOTHING_NOT_WORTH_COST,	/* every eligible offer's
					   propensity * value <= cost, or not
					   worth its shadow price */
	REPORT_NOTHING_BUDGET_EXHAUSTED, /* worth it, but every such offer's
					   budget or capacity ran out */
	REPORT_NOTHING_NREASONS
};

/* One offer's figures. */
struct report_offer {
	char	 name[CONF_NAME_MAX];
	char	 channel[CONF_NAME_MAX];
	char	 campaign[CONF_NAME_MAX];
	char	 category[CONF_NAME_MAX];
	double	 value;			/* margin if the customer responds */
	double	 cost;			/* cost of one send */
	double	 budget;		/* total spend allowed, < 0: none */
	long	 capacity;		/* most sends, < 0: none */
	long	 sends;			/* planned sends */
	double	 spend;			/* sends * cost */
	double	 expected_value;	/* net: sum propensity*value - cost */
	double	 shadow_price_budget;	/* objective gained per extra unit of
					   budget (0 when no budget) */
	double	 shadow_price_capacity;	/* objective gained per extra send of
					   capacity (0 when no capacity) */
	int	 budget_binding;	/* another send would exceed budget */
	int	 capacity_binding;	/* sends == capacity */
};

/* One channel's figures. */
struct report_channel {
	char	 name[CONF_NAME_MAX];
	long	 sends;			/* planned sends on this channel */
	double	 expected_value;	/* net, of those sends */
	long	 saturated_before;	/* customers with no room left under
					   this channel's caps (or all-channel
					   caps) at the run's start */
	long	 saturated_after;	/* the same once the plan is sent */
};

/* One campaign's figures. */
struct report_campaign {
	char	 name[CONF_NAME_MAX];
	long	 sends;
	double	 expected_value;	/* net */
};

/*
 * One customer segment (as carried by profiles), for the fairness section.
 * Customers in several segments count in each.
 */
struct report_segment {
	char	 name[CONF_NAME_MAX];
	long	 customers;		/* customers of the run in the segment */
	long	 allocated;		/* of those, with at least one send */
	double	 mean_expected_value;	/* net EV of the segment / customers */
	char	 caps[REPORT_TEXT_MAX];	/* configured segment caps, "1/7d";
					   "" when the config has none */
	char	 exclude[REPORT_TEXT_MAX]; /* excluded categories, "credit";
					   "" when none */
	int	 flagged;		/* allocation rate < 4/5 of the highest
					   segment's. Set by
					   report_load_summary; report_write
					   computes it and ignores this */
};

/*
 * One [fairness] row of the model: the segment's planned sends per customer
 * must be at least min_ratio x the base's (SPEC section 4).
 */
struct report_fairness {
	char	 segment[CONF_NAME_MAX];
	long	 customers;		/* the segment's customers in the base */
	long	 sends;			/* planned sends to them */
	double	 sends_per_customer;	/* sends / customers */
	double	 base_sends_per_customer; /* all planned sends / the base */
	double	 min_ratio;
	int	 binding;		/* one send fewer to the segment would
					   break the row */
	double	 shadow_price;		/* the expected value given up per
					   send the row asks of the segment */
};

/* One progress point of the solve (objective and bound over time). */
struct report_iteration {
	int	 iteration;
	double	 elapsed_s;
	double	 objective;		/* best feasible plan so far */
	double	 bound;			/* best certified bound so far */
};

/*
 * Everything about one run. Arrays are malloc'd and owned by the struct
 * (report_free releases them); fixed-size text is NUL-terminated.
 */
struct report_run {
	char	 run_id[REPORT_ID_MAX];
	char	 previous_run_id[REPORT_ID_MAX]; /* "" when none; its folder
					   is a sibling of this run's */
	int64_t	 created;		/* unix seconds, run start */
	double	 runtime_s;		/* wall time of the whole run */
	char	 status[32];		/* solver_status_name() */
	char	 method[16];		/* "scale" or "exact" */
	double	 objective;		/* net expected value of the plan */
	double	 bound;			/* certified upper bound */
	double	 gap;			/* (bound - objective) / bound */
	int	 exact_fallback;	/* scale mode stalled above the gap
					   and ran exact mode on the whole
					   instance */

	/*
	 * Why publishing this run needs pacer plan publish --force (it is
	 * not certified, or plans nothing over a live plan that plans
	 * something), so --publish and auto_publish left it staged; "" when
	 * it may be published as it is.
	 */
	char	 publish_blocked[256];

	long	 customers;		/* customers considered */
	long	 eligible_pairs;	/* candidate (customer, offer) pairs */
	long	 assignments;		/* planned sends */

	struct report_offer	*offers;
	int			 noffers;

	/*
	 * Contacts per customer, over the customers of the run: before is
	 * contacts in the history within the longest cap window at the run's
	 * start; after adds the planned sends.
	 */
	long	 hist_before[REPORT_HIST_BINS];
	long	 hist_after[REPORT_HIST_BINS];

	struct report_channel	 channels[CONF_MAX_CHANNELS];
	int			 nchannels;

	struct report_campaign	*campaigns;
	int			 ncampaigns;

	long	 nothing[REPORT_NOTHING_NREASONS]; /* customers per reason */

	struct report_segment	*segments;
	int			 nsegments;

	struct report_fairness	*fairness;	/* [fairness] rows */
	int			 nfairness;
	long			 fairness_base;	/* customers in the base */

	struct report_iteration	*iterations;	/* may be NULL */
	int			 niterations;
};

/* One offer in the comparison of two runs. */
struct report_offer_change {
	char	 name[CONF_NAME_MAX];
	int	 in_before, in_after;	/* present in each run */
	long	 sends_before, sends_after;
	double	 shadow_budget_before, shadow_budget_after;
	double	 shadow_capacity_before, shadow_capacity_after;
};

/* What changed between two runs. Arrays owned (report_changes_free). */
struct report_changes {
	char	 before_id[REPORT_ID_MAX];
	char	 after_id[REPORT_ID_MAX];
	double	 objective_before, objective_after;
	double	 gap_before, gap_after;
	long	 assignments_before, assignments_after;
	long	 new_assignments;	/* (customer, offer) pairs only in
					   after; -1 when an assignments.csv
					   is missing */
	long	 dropped_assignments;	/* only in before; -1 likewise */
	struct report_offer_change *offers;
	int	 noffers;
};

/* report.c */
/*
 * Write dir/summary.json and dir/report.html for run (borrowed). When
 * run->previous_run_id is set and dirname(dir)/previous_run_id/summary.json
 * loads, both files carry the changes against it (new and dropped
 * assignments come from the two folders' assignments.csv, so write this
 * run's first). Returns 0, or -1 with *cause set (caller frees).
 */
int	 report_write(const struct report_run *run, const char *dir, char **cause);
/* Write only dir/summary.json (changes as in report_write); 0 or -1. */
int	 report_write_summary(const struct report_run *run, const char *dir,
	    char **cause);
/*
 * Read a summary.json written by report_write into run (its old contents
 * are ignored; release with report_free). Returns 0, or -1 with *cause
 * naming the file and the field (caller frees).
 */
int	 report_load_summary(const char *path, struct report_run *run,
	    char **cause);
/* Release the arrays of run (not the struct) and zero it; accepts NULL. */
void	 report_free(struct report_run *run);
/*
 * Compare two runs (borrowed). before_dir and after_dir (may be NULL) are
 * their folders, searched for assignments.csv. Fills changes (release with
 * report_changes_free). Returns 0, or -1 with *cause set (caller frees) on
 * a malformed assignments.csv.
 */
int	 report_compare(const struct report_run *before, const char *before_dir,
	    const struct report_run *after, const char *after_dir,
	    struct report_changes *changes, char **cause);
/* Release the arrays of changes and zero it; accepts NULL. */
void	 report_changes_free(struct report_changes *changes);
/*
 * The most recent run folder next to run_dir (same parent, holding a
 * summary.json; latest "created" time wins) other than run_dir itself: its
 * run id (the folder's name) is copied into id (len bytes). Returns 1 if
 * found, 0 if not. Call before writing this run's summary.json or not: the
 * run's own folder is skipped either way.
 */
int	 report_find_previous(const char *run_dir, char *id, size_t len);
/* Whether segment i's allocation rate is below 4/5 of the highest one's. */
int	 report_segment_flagged(const struct report_run *run, int i);
/* Name of a nothing-reason as summary.json spells it ("no_consent"). */
const char *report_nothing_name(enum report_nothing);

#endif /* PACER_REPORT_H */
