/*
 * An independent feasibility checker: recounts a plan against every room
 * (channel, campaign, category, all), budget, capacity and fairness row
 * of the instance, sharing no code with the solvers (it reads the
 * original budget rows, not the derived send limits).
 */
#include <stdlib.h>

#include "opt.h"

/* Check selection against inst; see solver.h. */
int
solver_check_feasible(const struct solver_instance *inst,
    const uint8_t *selection, double *objective, char **cause)
{
	const struct solver_offer	*of;
	long				*sends = NULL, seg[SOLVER_FAIR_MAX];
	long				 total = 0;
	int				*per_ch = NULL, *per_cp = NULL;
	int				*per_cat = NULL;
	int				 c, o, n, ch, cp, s, cat;
	int64_t				 k;
	double				 obj = 0, spend;

	sends = calloc(inst->noffers > 0 ? inst->noffers : 1, sizeof *sends);
	per_ch = calloc(inst->nchannels, sizeof *per_ch);
	per_cp = calloc(inst->ncampaigns, sizeof *per_cp);
	per_cat = calloc(inst->ncategories + 1, sizeof *per_cat);
	if (sends == NULL || per_ch == NULL || per_cp == NULL ||
	    per_cat == NULL) {
		solver_cause(cause, "out of memory");
		goto fail;
	}
	for (s = 0; s < inst->nfair; s++)
		seg[s] = 0;
	for (c = 0; c < inst->ncustomers; c++) {
		n = 0;
		for (k = inst->pair_start[c]; k < inst->pair_start[c + 1];
		    k++) {
			if (selection[k] > 1) {
				solver_cause(cause, "pair %lld: selection %u",
				    (long long)k, (unsigned)selection[k]);
				goto fail;
			}
			if (!selection[k])
				continue;
			o = inst->pair_offer[k];
			of = &inst->offers[o];
			n++;
			per_ch[of->channel]++;
			per_cp[of->campaign]++;
			/* Read the instance's arrays, not solver_offer_category. */
			if (inst->ncategories > 0 &&
			    inst->offer_category[o] >= 0)
				per_cat[inst->offer_category[o]]++;
			sends[o]++;
			obj += (double)inst->pair_propensity[k] * of->value -
			    of->cost;
		}
		total += n;
		for (s = 0; s < inst->nfair; s++)
			if (inst->fair_member[c] & (UINT32_C(1) << s))
				seg[s] += n;
		if (n > inst->room_all[c]) {
			solver_cause(cause, "customer %d: %d offers, room %u",
			    c, n, (unsigned)inst->room_all[c]);
			goto fail;
		}
		for (ch = 0; ch < inst->nchannels; ch++) {
			if (per_ch[ch] > inst->room_channel[(size_t)c *
			    inst->nchannels + ch]) {
				solver_cause(cause, "customer %d: channel %d "
				    "over its room", c, ch);
				goto fail;
			}
			per_ch[ch] = 0;
		}
		for (cp = 0; cp < inst->ncampaigns; cp++) {
			if (per_cp[cp] > inst->room_campaign[(size_t)c *
			    inst->ncampaigns + cp]) {
				solver_cause(cause, "customer %d: campaign %d "
				    "over its room", c, cp);
				goto fail;
			}
			per_cp[cp] = 0;
		}
		for (cat = 0; cat < inst->ncategories; cat++) {
			if (per_cat[cat] > inst->room_category[(size_t)c *
			    inst->ncategories + cat]) {
				solver_cause(cause, "customer %d: category %d: "
				    "%d offers, room %u", c, cat, per_cat[cat],
				    (unsigned)inst->room_category[(size_t)c *
				    inst->ncategories + cat]);
				goto fail;
			}
			per_cat[cat] = 0;
		}
	}
	for (o = 0; o < inst->noffers; o++) {
		of = &inst->offers[o];
		spend = sends[o] * of->cost;
		/* Relative slack for rounding of the spend sum only. */
		if (of->budget >= 0 &&
		    spend > of->budget * (1 + 1e-12) + 1e-9) {
			solver_cause(cause, "offer %d: spend %.6f over budget "
			    "%.6f", o, spend, of->budget);
			goto fail;
		}
		if (of->capacity >= 0 && sends[o] > of->capacity) {
			solver_cause(cause, "offer %d: %ld sends over capacity "
			    "%ld", o, sends[o], of->capacity);
			goto fail;
		}
	}
	for (s = 0; s < inst->nfair; s++) {
		if (!solver_fair_holds(inst, s, seg[s], total)) {
			solver_cause(cause, "fairness row %d: %ld sends to %ld "
			    "customers, %ld to a base of %ld, min_ratio %g", s,
			    seg[s], inst->fair_size[s], total, inst->fair_base,
			    inst->fair_min_ratio);
			goto fail;
		}
	}
	if (objective != NULL)
		*objective = obj;
	free(sends);
	free(per_ch);
	free(per_cp);
	free(per_cat);
	return (0);

fail:
	free(sends);
	free(per_ch);
	free(per_cp);
	free(per_cat);
	return (-1);
}
