/*
 * An independent feasibility checker: recounts a plan against every room
 * (channel, campaign, category, all), budget, capacity and fairness row
 * of the instance, sharing no code with the solvers (it reads the
 * original budget rows, not the derived send limits).
 */
#include <stdlib.h>

#include "opt.h"

/* What the checker counts while it walks the customers. */
struct check_counts {
	long	*sends;			/* per offer */
	int	*per_ch;		/* one customer's sends per channel */
	int	*per_cp;		/* ... per campaign */
	int	*per_cat;		/* ... per category */
	long	 seg[SOLVER_FAIR_MAX];	/* sends to each fairness segment */
	long	 total;			/* all sends */
	double	 obj;			/* the plan's net value */
};

static int	check_customer_pairs(const struct solver_instance *,
		    const uint8_t *, int, struct check_counts *, int *,
		    char **);
static int	check_customer_rooms(const struct solver_instance *, int, int,
		    struct check_counts *, char **);
static int	check_offers(const struct solver_instance *, const long *,
		    char **);
static int	check_fairness(const struct solver_instance *,
		    const struct check_counts *, char **);

/*
 * Count customer c's selected pairs into cc (per channel, campaign,
 * category and offer, and the value); *n gets how many. 0, or -1 with
 * *cause when a selection is neither 0 nor 1.
 */
static int
check_customer_pairs(const struct solver_instance *inst,
    const uint8_t *selection, int c, struct check_counts *cc, int *n,
    char **cause)
{
	const struct solver_offer	*of;
	int64_t				 k;
	int				 o;

	*n = 0;
	for (k = inst->pair_start[c]; k < inst->pair_start[c + 1]; k++) {
		if (selection[k] > 1) {
			solver_cause(cause, "pair %lld: selection %u",
			    (long long)k, (unsigned)selection[k]);
			return -1;
		}
		if (!selection[k])
			continue;
		o = inst->pair_offer[k];
		of = &inst->offers[o];
		(*n)++;
		cc->per_ch[of->channel]++;
		cc->per_cp[of->campaign]++;
		/* Read the instance's arrays, not solver_offer_category. */
		if (inst->ncategories > 0 && inst->offer_category[o] >= 0)
			cc->per_cat[inst->offer_category[o]]++;
		cc->sends[o]++;
		cc->obj += (double)inst->pair_propensity[k] * of->value -
		    of->cost;
	}
	return 0;
}

/*
 * Customer c's n sends against their rooms (all, channel, campaign,
 * category), clearing the per customer counts. 0, or -1 with *cause.
 */
static int
check_customer_rooms(const struct solver_instance *inst, int c, int n,
    struct check_counts *cc, char **cause)
{
	int	 ch, cp, cat;

	if (n > inst->room_all[c]) {
		solver_cause(cause, "customer %d: %d offers, room %u",
		    c, n, (unsigned)inst->room_all[c]);
		return -1;
	}
	for (ch = 0; ch < inst->nchannels; ch++) {
		if (cc->per_ch[ch] > inst->room_channel[(size_t)c *
		    inst->nchannels + ch]) {
			solver_cause(cause, "customer %d: channel %d "
			    "over its room", c, ch);
			return -1;
		}
		cc->per_ch[ch] = 0;
	}
	for (cp = 0; cp < inst->ncampaigns; cp++) {
		if (cc->per_cp[cp] > inst->room_campaign[(size_t)c *
		    inst->ncampaigns + cp]) {
			solver_cause(cause, "customer %d: campaign %d "
			    "over its room", c, cp);
			return -1;
		}
		cc->per_cp[cp] = 0;
	}
	for (cat = 0; cat < inst->ncategories; cat++) {
		if (cc->per_cat[cat] > inst->room_category[(size_t)c *
		    inst->ncategories + cat]) {
			solver_cause(cause, "customer %d: category %d: "
			    "%d offers, room %u", c, cat, cc->per_cat[cat],
			    (unsigned)inst->room_category[(size_t)c *
			    inst->ncategories + cat]);
			return -1;
		}
		cc->per_cat[cat] = 0;
	}
	return 0;
}

/* Each offer's sends against its budget and capacity; 0 or -1. */
static int
check_offers(const struct solver_instance *inst, const long *sends,
    char **cause)
{
	const struct solver_offer	*of;
	double				 spend;
	int				 o;

	for (o = 0; o < inst->noffers; o++) {
		of = &inst->offers[o];
		spend = sends[o] * of->cost;
		/* Relative slack for rounding of the spend sum only. */
		if (of->budget >= 0 &&
		    spend > of->budget * (1 + 1e-12) + 1e-9) {
			solver_cause(cause, "offer %d: spend %.6f over budget "
			    "%.6f", o, spend, of->budget);
			return -1;
		}
		if (of->capacity >= 0 && sends[o] > of->capacity) {
			solver_cause(cause, "offer %d: %ld sends over capacity "
			    "%ld", o, sends[o], of->capacity);
			return -1;
		}
	}
	return 0;
}

/* Every fairness row against the sends counted; 0 or -1. */
static int
check_fairness(const struct solver_instance *inst,
    const struct check_counts *cc, char **cause)
{
	int	 s;

	for (s = 0; s < inst->nfair; s++) {
		if (!solver_fair_holds(inst, s, cc->seg[s], cc->total)) {
			solver_cause(cause, "fairness row %d: %ld sends to %ld "
			    "customers, %ld to a base of %ld, min_ratio %g", s,
			    cc->seg[s], inst->fair_size[s], cc->total,
			    inst->fair_base, inst->fair_min_ratio);
			return -1;
		}
	}
	return 0;
}

/* Check selection against inst; see solver.h. */
int
solver_check_feasible(const struct solver_instance *inst,
    const uint8_t *selection, double *objective, char **cause)
{
	struct check_counts	 cc = { 0 };
	int			 c, n, s, rv = -1;

	cc.sends = calloc(inst->noffers > 0 ? inst->noffers : 1,
	    sizeof *cc.sends);
	cc.per_ch = calloc(inst->nchannels, sizeof *cc.per_ch);
	cc.per_cp = calloc(inst->ncampaigns, sizeof *cc.per_cp);
	cc.per_cat = calloc(inst->ncategories + 1, sizeof *cc.per_cat);
	if (cc.sends == NULL || cc.per_ch == NULL || cc.per_cp == NULL ||
	    cc.per_cat == NULL) {
		solver_cause(cause, "out of memory");
		goto out;
	}
	for (c = 0; c < inst->ncustomers; c++) {
		if (check_customer_pairs(inst, selection, c, &cc, &n,
		    cause) != 0)
			goto out;
		cc.total += n;
		for (s = 0; s < inst->nfair; s++)
			if (inst->fair_member[c] & (UINT32_C(1) << s))
				cc.seg[s] += n;
		if (check_customer_rooms(inst, c, n, &cc, cause) != 0)
			goto out;
	}
	if (check_offers(inst, cc.sends, cause) != 0 ||
	    check_fairness(inst, &cc, cause) != 0)
		goto out;
	if (objective != NULL)
		*objective = cc.obj;
	rv = 0;
out:
	free(cc.sends);
	free(cc.per_ch);
	free(cc.per_cp);
	free(cc.per_cat);
	return rv;
}
