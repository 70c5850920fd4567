/*
 * The public face of the optimizer: options, the instance builder, results
 * and the dispatch to the exact or the scale method.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "opt.h"

static int	solver_grow_customers(struct solver_instance *, int);
static int	solver_grow_pairs(struct solver_instance *, int64_t);

/* Fill options with defaults. */
void
solver_options_init(struct solver_options *o)
{
	memset(o, 0, sizeof *o);
	o->method = SOLVER_SCALE;
	o->gap = 1e-4;
	o->time_limit_s = 0;
	o->threads = 0;
	o->polish_customers = 0;
	o->exact_fallback = 1;
}

/* A room clamped to what the instance stores. */
uint16_t
solver_room(long room)
{
	if (room <= 0)
		return 0;
	return room >= SOLVER_ROOM_NONE ? SOLVER_ROOM_NONE : (uint16_t)room;
}

/* New empty instance over a copy of offers. */
struct solver_instance *
solver_instance_new(int noffers, int nchannels, int ncampaigns,
    const struct solver_offer *offers, char **cause)
{
	struct solver_instance	*inst;
	int			 o;

	if (noffers < 0 || noffers > SOLVER_OFFERS_MAX) {
		solver_cause(cause, "bad number of offers: %d", noffers);
		return NULL;
	}
	if (nchannels < 1 || ncampaigns < 1) {
		solver_cause(cause, "need at least one channel and campaign");
		return NULL;
	}
	for (o = 0; o < noffers; o++) {
		const struct solver_offer *of = &offers[o];

		if (!isfinite(of->value) || of->value < 0 ||
		    !isfinite(of->cost) || of->cost < 0 ||
		    !isfinite(of->budget)) {
			solver_cause(cause, "offer %d: bad value, cost or "
			    "budget", o);
			return NULL;
		}
		if (of->channel < 0 || of->channel >= nchannels ||
		    of->campaign < 0 || of->campaign >= ncampaigns) {
			solver_cause(cause, "offer %d: bad channel or campaign",
			    o);
			return NULL;
		}
	}
	if ((inst = calloc(1, sizeof *inst)) == NULL)
		goto nomem;
	inst->noffers = noffers;
	inst->nchannels = nchannels;
	inst->ncampaigns = ncampaigns;
	inst->offers = calloc(noffers > 0 ? noffers : 1, sizeof *inst->offers);
	inst->pair_start = calloc(1, sizeof *inst->pair_start);
	if (inst->offers == NULL || inst->pair_start == NULL)
		goto nomem;
	if (noffers > 0)
		memcpy(inst->offers, offers, noffers * sizeof *offers);
	return inst;

nomem:
	solver_instance_free(inst);
	solver_cause(cause, "out of memory");
	return NULL;
}

/* Free an instance; accepts NULL. */
void
solver_instance_free(struct solver_instance *inst)
{
	if (inst == NULL)
		return;
	free(inst->offers);
	free(inst->pair_start);
	free(inst->pair_offer);
	free(inst->pair_propensity);
	free(inst->room_all);
	free(inst->room_channel);
	free(inst->room_campaign);
	free(inst->offer_category);
	free(inst->room_category);
	free(inst->fair_size);
	free(inst->fair_member);
	free(inst);
}

/* Make room for at least n customers. */
static int
solver_grow_customers(struct solver_instance *inst, int n)
{
	int64_t		*ps;
	uint16_t	*ra, *rch, *rcp;
	int		 na;

	if (n <= inst->customers_alloc)
		return 0;
	na = inst->customers_alloc > 0 ? inst->customers_alloc : 1024;
	while (na < n)
		na = na > (1 << 29) ? n : na * 2;
	if ((ps = realloc(inst->pair_start, (na + 1) * sizeof *ps)) == NULL)
		return -1;
	inst->pair_start = ps;
	if ((ra = realloc(inst->room_all, na * sizeof *ra)) == NULL)
		return -1;
	inst->room_all = ra;
	if ((rch = realloc(inst->room_channel,
	    (size_t)na * inst->nchannels * sizeof *rch)) == NULL)
		return -1;
	inst->room_channel = rch;
	if ((rcp = realloc(inst->room_campaign,
	    (size_t)na * inst->ncampaigns * sizeof *rcp)) == NULL)
		return -1;
	inst->room_campaign = rcp;
	if (inst->ncategories > 0) {
		uint16_t	*rk;

		if ((rk = realloc(inst->room_category, (size_t)na *
		    inst->ncategories * sizeof *rk)) == NULL)
			return -1;
		inst->room_category = rk;
	}
	if (inst->fair_member != NULL) {
		uint32_t	*fm;

		if ((fm = realloc(inst->fair_member, na * sizeof *fm)) == NULL)
			return -1;
		memset(fm + inst->customers_alloc, 0,
		    (size_t)(na - inst->customers_alloc) * sizeof *fm);
		inst->fair_member = fm;
	}
	inst->customers_alloc = na;
	return 0;
}

/* Make room for at least n pairs. */
static int
solver_grow_pairs(struct solver_instance *inst, int64_t n)
{
	uint16_t	*po;
	float		*pp;
	int64_t		 na;

	if (n <= inst->pairs_alloc)
		return 0;
	na = inst->pairs_alloc > 0 ? inst->pairs_alloc : 16384;
	while (na < n)
		na *= 2;
	if ((po = realloc(inst->pair_offer, na * sizeof *po)) == NULL)
		return -1;
	inst->pair_offer = po;
	if ((pp = realloc(inst->pair_propensity, na * sizeof *pp)) == NULL)
		return -1;
	inst->pair_propensity = pp;
	inst->pairs_alloc = na;
	return 0;
}

/* Preallocate for ncustomers customers and npairs pairs in all. */
int
solver_instance_reserve(struct solver_instance *inst, int ncustomers,
    int64_t npairs)
{
	if (solver_grow_customers(inst, ncustomers) != 0 ||
	    solver_grow_pairs(inst, npairs) != 0)
		return -1;
	return 0;
}

/* Append one customer; see solver.h. */
int
solver_instance_add_customer(struct solver_instance *inst, int npairs,
    const uint16_t *offer, const float *propensity, long room_all,
    const uint16_t *room_channel, const uint16_t *room_campaign, char **cause)
{
	uint16_t	*rch, *rcp;
	int64_t		 base;
	int		 c, i, j;

	if (room_all < 0) {
		solver_cause(cause, "customer %d: negative room %ld",
		    inst->ncustomers, room_all);
		return -1;
	}
	if (npairs < 0 || npairs > inst->noffers) {
		solver_cause(cause, "customer %d: bad number of pairs %d",
		    inst->ncustomers, npairs);
		return -1;
	}
	for (i = 0; i < npairs; i++) {
		if (offer[i] >= inst->noffers) {
			solver_cause(cause, "customer %d: unknown offer %u",
			    inst->ncustomers, (unsigned)offer[i]);
			return -1;
		}
		if (!(propensity[i] >= 0 && propensity[i] <= 1)) {
			solver_cause(cause, "customer %d: propensity %g "
			    "outside [0,1]", inst->ncustomers,
			    (double)propensity[i]);
			return -1;
		}
		/* Quadratic, but a customer has at most tens of pairs. */
		for (j = 0; j < i && npairs <= 64; j++) {
			if (offer[j] == offer[i]) {
				solver_cause(cause, "customer %d: offer %u "
				    "twice", inst->ncustomers,
				    (unsigned)offer[i]);
				return -1;
			}
		}
	}
	if (inst->ncustomers == 0x7fffffff)
		goto nomem;
	c = inst->ncustomers;
	base = inst->pair_start[c];
	if (solver_grow_customers(inst, c + 1) != 0 ||
	    solver_grow_pairs(inst, base + npairs) != 0)
		goto nomem;
	if (npairs > 0) {
		memcpy(inst->pair_offer + base, offer, npairs * sizeof *offer);
		memcpy(inst->pair_propensity + base, propensity,
		    npairs * sizeof *propensity);
	}
	inst->pair_start[c + 1] = base + npairs;
	inst->room_all[c] = solver_room(room_all);
	rch = inst->room_channel + (size_t)c * inst->nchannels;
	for (i = 0; i < inst->nchannels; i++)
		rch[i] = room_channel != NULL ? room_channel[i] :
		    SOLVER_ROOM_NONE;
	rcp = inst->room_campaign + (size_t)c * inst->ncampaigns;
	for (i = 0; i < inst->ncampaigns; i++)
		rcp[i] = room_campaign != NULL ? room_campaign[i] :
		    SOLVER_ROOM_NONE;
	/* No category cap until solver_instance_category_room says one. */
	for (i = 0; i < inst->ncategories; i++)
		inst->room_category[(size_t)c * inst->ncategories + i] =
		    SOLVER_ROOM_NONE;
	inst->ncustomers = c + 1;
	return c;

nomem:
	solver_cause(cause, "out of memory");
	return -1;
}

/* Give the instance its fairness rows; see solver.h. */
int
solver_instance_fairness(struct solver_instance *inst, int nrows,
    double min_ratio, long base, const long *size, char **cause)
{
	long		*fs;
	uint32_t	*fm;
	int		 s, na;

	if (nrows < 0 || nrows > SOLVER_FAIR_MAX || !(min_ratio >= 0) ||
	    min_ratio > 1 || (nrows > 0 && base < 1)) {
		solver_cause(cause, "bad fairness rows: %d rows, min_ratio %g, "
		    "base %ld", nrows, min_ratio, base);
		return -1;
	}
	for (s = 0; s < nrows; s++) {
		if (size[s] < 0 || size[s] > base) {
			solver_cause(cause, "fairness row %d: %ld customers of "
			    "a base of %ld", s, size[s], base);
			return -1;
		}
	}
	na = inst->customers_alloc > inst->ncustomers ? inst->customers_alloc :
	    inst->ncustomers;
	fs = calloc(nrows + 1, sizeof *fs);
	fm = calloc((size_t)na + 1, sizeof *fm);
	if (fs == NULL || fm == NULL) {
		free(fs);
		free(fm);
		solver_cause(cause, "out of memory");
		return -1;
	}
	if (nrows > 0)
		memcpy(fs, size, nrows * sizeof *fs);
	free(inst->fair_size);
	free(inst->fair_member);
	inst->fair_size = fs;
	inst->fair_member = fm;
	inst->nfair = nrows;
	inst->fair_min_ratio = min_ratio;
	inst->fair_base = base;
	return 0;
}

/* Give the instance its categories; see solver.h. */
int
solver_instance_categories(struct solver_instance *inst, int ncategories,
    const int *offer_category, char **cause)
{
	int		*oc = NULL;
	uint16_t	*rk = NULL;
	size_t		 na, i;
	int		 o;

	if (ncategories < 0 || ncategories > SOLVER_CATEGORIES_MAX) {
		solver_cause(cause, "bad number of categories: %d (at most "
		    "%d)", ncategories, SOLVER_CATEGORIES_MAX);
		return -1;
	}
	if (ncategories > 0 && inst->noffers > 0 && offer_category == NULL) {
		solver_cause(cause, "categories without offer categories");
		return -1;
	}
	for (o = 0; ncategories > 0 && o < inst->noffers; o++) {
		if (offer_category[o] < -1 ||
		    offer_category[o] >= ncategories) {
			solver_cause(cause, "offer %d: bad category %d of %d",
			    o, offer_category[o], ncategories);
			return -1;
		}
	}
	if (ncategories > 0) {
		na = inst->customers_alloc > inst->ncustomers ?
		    (size_t)inst->customers_alloc : (size_t)inst->ncustomers;
		if (na == 0)
			na = 1;
		oc = calloc(inst->noffers > 0 ? inst->noffers : 1, sizeof *oc);
		rk = calloc(na * ncategories, sizeof *rk);
		if (oc == NULL || rk == NULL) {
			free(oc);
			free(rk);
			solver_cause(cause, "out of memory");
			return -1;
		}
		if (inst->noffers > 0)
			memcpy(oc, offer_category, inst->noffers * sizeof *oc);
		/* Customers added before have no category cap. */
		for (i = 0; i < na * ncategories; i++)
			rk[i] = SOLVER_ROOM_NONE;
	}
	free(inst->offer_category);
	free(inst->room_category);
	inst->offer_category = oc;
	inst->room_category = rk;
	inst->ncategories = ncategories;
	return 0;
}

/* Set customer c's category rooms; see solver.h. */
int
solver_instance_category_room(struct solver_instance *inst, int c,
    const uint16_t *room)
{
	if (inst->ncategories == 0 || inst->room_category == NULL ||
	    room == NULL || c < 0 || c >= inst->ncustomers)
		return -1;
	memcpy(inst->room_category + (size_t)c * inst->ncategories, room,
	    inst->ncategories * sizeof *room);
	return 0;
}

/* Offer o's category, or -1 (none, or an instance without categories). */
int
solver_offer_category(const struct solver_instance *inst, int o)
{
	if (inst->ncategories <= 0 || inst->offer_category == NULL)
		return -1;
	return inst->offer_category[o];
}

/* Set the fairness rows customer c belongs to. */
int
solver_instance_fair_member(struct solver_instance *inst, int c,
    uint32_t rows)
{
	if (inst->fair_member == NULL || c < 0 || c >= inst->ncustomers)
		return -1;
	inst->fair_member[c] = rows;
	return 0;
}

/* Row s's value at a plan, in sends: S - r |s| T / N. */
double
solver_fair_row(const struct solver_instance *inst, int s, long seg_sends,
    long total_sends)
{
	return (double)seg_sends - inst->fair_min_ratio *
	    (double)inst->fair_size[s] * (double)total_sends /
	    (double)inst->fair_base;
}

/* Whether row s holds at a plan, up to the rounding of its terms. */
int
solver_fair_holds(const struct solver_instance *inst, int s, long seg_sends,
    long total_sends)
{
	double	need = inst->fair_min_ratio * (double)inst->fair_size[s] *
		    (double)total_sends / (double)inst->fair_base;

	return (double)seg_sends >= need - 1e-9 * (1 + need);
}

/* Coefficient of customer c's sends in fairness row s. */
double
solver_fair_coef(const struct solver_instance *inst, int s, int c)
{
	return ((inst->fair_member[c] >> s) & 1) - inst->fair_min_ratio *
	    (double)inst->fair_size[s] / (double)inst->fair_base;
}

/* Sends per fairness row and in all of a plan. */
void
solver_fair_tally(const struct solver_instance *inst,
    const uint8_t *selection, long *seg_sends, long *total_sends)
{
	int	c, s, n;
	int64_t	k;

	*total_sends = 0;
	for (s = 0; s < inst->nfair; s++)
		seg_sends[s] = 0;
	for (c = 0; c < inst->ncustomers; c++) {
		n = 0;
		for (k = inst->pair_start[c]; k < inst->pair_start[c + 1]; k++)
			n += selection[k] != 0;
		*total_sends += n;
		for (s = 0; n > 0 && s < inst->nfair; s++)
			if ((inst->fair_member[c] >> s) & 1)
				seg_sends[s] += n;
	}
}

/* The sizes, fairness rows and categories of an instance; 0 or -1. */
static int
solver_check_shape(const struct solver_instance *inst, char **cause)
{
	if (inst->ncustomers < 0 || inst->noffers < 0 ||
	    inst->noffers > SOLVER_OFFERS_MAX || inst->nchannels < 1 ||
	    inst->ncampaigns < 1) {
		solver_cause(cause, "bad instance sizes");
		return -1;
	}
	if (inst->pair_start == NULL || inst->pair_start[0] != 0) {
		solver_cause(cause, "bad pair_start");
		return -1;
	}
	if (inst->nfair < 0 || inst->nfair > SOLVER_FAIR_MAX ||
	    (inst->nfair > 0 && (inst->fair_member == NULL ||
	    inst->fair_size == NULL || inst->fair_base < inst->ncustomers ||
	    inst->fair_base < 1 || !(inst->fair_min_ratio >= 0) ||
	    inst->fair_min_ratio > 1))) {
		solver_cause(cause, "bad fairness rows");
		return -1;
	}
	for (int s = 0; s < inst->nfair; s++) {
		long	members = 0;

		for (int c = 0; c < inst->ncustomers; c++)
			members += (inst->fair_member[c] >> s) & 1;
		if (inst->fair_size[s] < members ||
		    inst->fair_size[s] > inst->fair_base) {
			solver_cause(cause, "fairness row %d: size %ld, %ld "
			    "members, base %ld", s, inst->fair_size[s], members,
			    inst->fair_base);
			return -1;
		}
	}
	if (inst->ncategories < 0 ||
	    inst->ncategories > SOLVER_CATEGORIES_MAX ||
	    (inst->ncategories > 0 && (inst->offer_category == NULL ||
	    (inst->ncustomers > 0 && inst->room_category == NULL)))) {
		solver_cause(cause, "bad categories: %d, offer_category %s, "
		    "room_category %s", inst->ncategories,
		    inst->offer_category != NULL ? "set" : "missing",
		    inst->room_category != NULL ? "set" : "missing");
		return -1;
	}
	return 0;
}

/* Each offer's category and fields; 0 or -1. */
static int
solver_check_offers(const struct solver_instance *inst, char **cause)
{
	int	o;

	for (o = 0; inst->ncategories > 0 && o < inst->noffers; o++) {
		if (inst->offer_category[o] < -1 ||
		    inst->offer_category[o] >= inst->ncategories) {
			solver_cause(cause, "offer %d: bad category %d of %d",
			    o, inst->offer_category[o], inst->ncategories);
			return -1;
		}
	}
	for (o = 0; o < inst->noffers; o++) {
		const struct solver_offer *of = &inst->offers[o];

		if (!isfinite(of->value) || of->value < 0 ||
		    !isfinite(of->cost) || of->cost < 0 ||
		    !isfinite(of->budget) || of->channel < 0 ||
		    of->channel >= inst->nchannels || of->campaign < 0 ||
		    of->campaign >= inst->ncampaigns) {
			solver_cause(cause, "offer %d: bad fields", o);
			return -1;
		}
	}
	return 0;
}

/* Every customer's pairs: in order, known offers once, propensities. */
static int
solver_check_pairs(const struct solver_instance *inst, char **cause)
{
	uint8_t		*seen;
	int64_t		 k;
	int		 c, o;

	if ((seen = calloc(inst->noffers > 0 ? inst->noffers : 1, 1)) == NULL) {
		solver_cause(cause, "out of memory");
		return -1;
	}
	for (c = 0; c < inst->ncustomers; c++) {
		if (inst->pair_start[c + 1] < inst->pair_start[c]) {
			solver_cause(cause, "customer %d: bad pair_start", c);
			goto fail;
		}
		for (k = inst->pair_start[c]; k < inst->pair_start[c + 1];
		    k++) {
			float p = inst->pair_propensity[k];

			o = inst->pair_offer[k];
			if (o >= inst->noffers || seen[o]) {
				solver_cause(cause, "customer %d: bad or "
				    "repeated offer %d", c, o);
				goto fail;
			}
			seen[o] = 1;
			if (!(p >= 0 && p <= 1)) {
				solver_cause(cause, "customer %d: propensity "
				    "%g outside [0,1]", c, (double)p);
				goto fail;
			}
		}
		for (k = inst->pair_start[c]; k < inst->pair_start[c + 1]; k++)
			seen[inst->pair_offer[k]] = 0;
	}
	free(seen);
	return 0;

fail:
	free(seen);
	return -1;
}

/* Check the arrays of an instance (for callers that filled them). */
int
solver_instance_check(const struct solver_instance *inst, char **cause)
{
	if (solver_check_shape(inst, cause) != 0 ||
	    solver_check_offers(inst, cause) != 0 ||
	    solver_check_pairs(inst, cause) != 0)
		return -1;
	return 0;
}

/* Net value of one pair. */
double
solver_pair_value(const struct solver_instance *inst, int64_t k)
{
	const struct solver_offer *of = &inst->offers[inst->pair_offer[k]];

	return (double)inst->pair_propensity[k] * of->value - of->cost;
}

/* Sends allowed per offer, from capacity and budget. */
void
solver_offer_limits(const struct solver_instance *inst, long *limit)
{
	const struct solver_offer	*of;
	double				 k;
	int				 o;

	for (o = 0; o < inst->noffers; o++) {
		of = &inst->offers[o];
		limit[o] = of->capacity >= 0 ? of->capacity : -1;
		if (of->budget < 0 || of->cost <= 0)
			continue;
		/* Tolerate rounding: 10 sends of 0.1 fit a budget of 1. */
		k = floor(of->budget / of->cost * (1 + 1e-12) + 1e-9);
		if (k > 2e9)
			continue;
		if (limit[o] < 0 || (long)k < limit[o])
			limit[o] = (long)k;
	}
}

/* Seconds on a monotonic clock. */
double
solver_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Allocate the arrays of a result for inst. */
int
solver_result_alloc(const struct solver_instance *inst,
    struct solver_result *res)
{
	size_t	no = inst->noffers > 0 ? inst->noffers : 1;
	size_t	np = inst->pair_start[inst->ncustomers] > 0 ?
		    (size_t)inst->pair_start[inst->ncustomers] : 1;

	res->selected = calloc(np, 1);
	res->sends = calloc(no, sizeof *res->sends);
	res->spend = calloc(no, sizeof *res->spend);
	res->price_budget = calloc(no, sizeof *res->price_budget);
	res->price_capacity = calloc(no, sizeof *res->price_capacity);
	res->binding_budget = calloc(no, 1);
	res->binding_capacity = calloc(no, 1);
	res->fair_sends = calloc(inst->nfair + 1, sizeof *res->fair_sends);
	res->fair_price = calloc(inst->nfair + 1, sizeof *res->fair_price);
	res->fair_binding = calloc(inst->nfair + 1, 1);
	if (res->fair_sends == NULL || res->fair_price == NULL ||
	    res->fair_binding == NULL)
		return -1;
	if (res->selected == NULL || res->sends == NULL ||
	    res->spend == NULL || res->price_budget == NULL ||
	    res->price_capacity == NULL || res->binding_budget == NULL ||
	    res->binding_capacity == NULL)
		return -1;
	return 0;
}

/* Count sends, nselected, objective and fairness sends of selected. */
static void
solver_result_count(const struct solver_instance *inst,
    struct solver_result *res, long *total)
{
	int64_t		 k, np = inst->pair_start[inst->ncustomers];
	int		 o;
	double		 obj = 0;

	res->nselected = 0;
	for (o = 0; o < inst->noffers; o++) {
		res->sends[o] = 0;
		res->spend[o] = 0;
	}
	for (k = 0; k < np; k++) {
		if (!res->selected[k])
			continue;
		res->sends[inst->pair_offer[k]]++;
		res->nselected++;
		obj += solver_pair_value(inst, k);
	}
	res->objective = obj;
	*total = 0;
	if (inst->nfair > 0)
		solver_fair_tally(inst, res->selected, res->fair_sends, total);
}

/* Spend and binding flags from the counted sends (total in all). */
static void
solver_result_flags(const struct solver_instance *inst,
    struct solver_result *res, long total)
{
	const struct solver_offer	*of;
	int				 o, s;

	for (o = 0; o < inst->noffers; o++) {
		of = &inst->offers[o];
		res->spend[o] = res->sends[o] * of->cost;
		res->binding_budget[o] = of->budget >= 0 && of->cost > 0 &&
		    res->spend[o] + of->cost > of->budget * (1 + 1e-12) + 1e-9;
		res->binding_capacity[o] = of->capacity >= 0 &&
		    res->sends[o] >= of->capacity;
	}
	for (s = 0; s < inst->nfair; s++)
		res->fair_binding[s] = res->fair_sends[s] > 0 &&
		    !solver_fair_holds(inst, s, res->fair_sends[s] - 1,
		    total - 1);
}

/* Tally sends, spend, binding flags and objective of res->selected. */
void
solver_result_tally(const struct solver_instance *inst,
    struct solver_result *res)
{
	long	total;

	solver_result_count(inst, res, &total);
	solver_result_flags(inst, res, total);
}

/* The same over every rank's selection (comm may be NULL); 0 or -1. */
int
solver_result_tally_all(const struct solver_instance *inst,
    const struct solver_comm *comm, struct solver_result *res)
{
	long	*v, total;
	int	 no = inst->noffers, nf = inst->nfair, i;

	solver_result_count(inst, res, &total);
	if (dist_on(comm)) {
		if ((v = calloc(no + nf + 2, sizeof *v)) == NULL)
			return -1;
		for (i = 0; i < no; i++)
			v[i] = res->sends[i];
		for (i = 0; i < nf; i++)
			v[no + i] = res->fair_sends[i];
		v[no + nf] = total;
		v[no + nf + 1] = (long)res->nselected;
		if (dist_sum_long(comm, v, no + nf + 2) != 0 ||
		    dist_sum_double(comm, &res->objective, 1) != 0) {
			free(v);
			return -1;
		}
		for (i = 0; i < no; i++)
			res->sends[i] = v[i];
		for (i = 0; i < nf; i++)
			res->fair_sends[i] = v[no + i];
		total = v[no + nf];
		res->nselected = v[no + nf + 1];
		free(v);
	}
	solver_result_flags(inst, res, total);
	return 0;
}

/* Free the arrays of a result; accepts NULL. */
void
solver_result_free(struct solver_result *res)
{
	if (res == NULL)
		return;
	free(res->selected);
	free(res->sends);
	free(res->spend);
	free(res->price_budget);
	free(res->price_capacity);
	free(res->binding_budget);
	free(res->binding_capacity);
	free(res->fair_sends);
	free(res->fair_price);
	free(res->fair_binding);
	res->fair_sends = NULL;
	res->fair_price = NULL;
	res->fair_binding = NULL;
	res->selected = NULL;
	res->sends = NULL;
	res->spend = NULL;
	res->price_budget = NULL;
	res->price_capacity = NULL;
	res->binding_budget = NULL;
	res->binding_capacity = NULL;
}

/* Round v up at decimals places; see solver.h. */
double
solver_round_up(double v, int decimals)
{
	double	s, k;

	if (!isfinite(v) || decimals > 22 || decimals < -22)
		return v;
	s = pow(10, abs(decimals));	/* exact up to 1e22 */
	if (decimals >= 0) {
		if (fabs(v * s) >= 0x1p52)
			return v;	/* no digit that far: v is exact */
		/* fma: the sign of v * s - k, rounded once, is exact. */
		k = ceil(v * s);
		if (fma(v, s, -k) > 0)
			k += 1;
		else if (fma(v, s, -(k - 1)) <= 0)
			k -= 1;
		return k / s;
	}
	k = ceil(v / s);
	if (fma(k, s, -v) < 0)
		k += 1;
	else if (fma(k - 1, s, -v) >= 0)
		k -= 1;
	return k * s;
}

/* Round v up at digits significant digits; see solver.h. */
double
solver_round_up_digits(double v, int digits)
{
	if (!isfinite(v) || v == 0)
		return v;
	return solver_round_up(v, digits - 1 - (int)floor(log10(fabs(v))));
}

/* Name of a status. */
const char *
solver_status_name(enum solver_status st)
{
	switch (st) {
	case SOLVER_OPTIMAL:
		return "optimal";
	case SOLVER_GAP_REACHED:
		return "gap_reached";
	case SOLVER_TIME_LIMIT:
		return "time_limit";
	case SOLVER_INFEASIBLE:
		return "infeasible";
	case SOLVER_EMPTY:
		return "empty";
	case SOLVER_ERROR:
		return "error";
	case SOLVER_STALLED:
		return "stalled";
	}
	return "unknown";
}

/*
 * Exact mode over every rank's shard: the instance gathered on rank 0 and
 * solved there as one MIP; the plan goes back to each rank's pairs and
 * rank 0's figures to every rank. 0 or -1 with *cause.
 */
static int
solver_exact_gathered(const struct solver_instance *inst,
    const struct solver_options *opts, struct solver_result *res,
    char **cause)
{
	const struct solver_comm *comm = opts->comm;
	struct solver_options	 one = *opts;
	struct solver_instance	*sub = NULL;
	struct solver_result	 sr;
	uint8_t			*sub_plan = NULL;
	int			*list = NULL, c, rv = -1, no = inst->noffers;
	double			*fig = NULL;
	size_t			 nfig = 6 + 2 * (size_t)no + inst->nfair;

	memset(&sr, 0, sizeof sr);
	one.comm = NULL;
	list = calloc(inst->ncustomers + 1, sizeof *list);
	fig = calloc(nfig, sizeof *fig);
	if (list == NULL || fig == NULL) {
		solver_cause(cause, "out of memory");
		goto done;
	}
	for (c = 0; c < inst->ncustomers; c++)
		list[c] = c;
	if (dist_gather(inst, comm, list, inst->ncustomers, res->selected,
	    &sub, &sub_plan, cause) == 0 && comm->rank == 0) {
		solver_log(opts->log, opts->arg, "exact: %d ranks' customers "
		    "gathered: %d customers, %lld pairs", comm->size,
		    sub->ncustomers, (long long)sub->pair_start[sub->ncustomers]);
		rv = solver_solve(sub, &one, &sr, cause);
	}
	if (dist_scatter(inst, comm, list, inst->ncustomers, sr.selected,
	    comm->rank == 0 ? rv : 0, res->selected) != 0) {
		if (comm->rank != 0)
			solver_cause(cause, "exact mode failed on rank 0");
		rv = -1;
		goto done;
	}
	/* Rank 0's figures; the plan's counts are summed over the ranks. */
	if (comm->rank == 0) {
		fig[0] = sr.status;
		fig[1] = sr.objective;
		fig[2] = sr.bound;
		fig[3] = sr.gap;
		fig[4] = sr.iterations;
		fig[5] = sr.exact_fallback;
		memcpy(fig + 6, sr.price_budget, no * sizeof *fig);
		memcpy(fig + 6 + no, sr.price_capacity, no * sizeof *fig);
		memcpy(fig + 6 + 2 * no, sr.fair_price,
		    inst->nfair * sizeof *fig);
	}
	if (comm->bcast(comm->arg, fig, nfig * sizeof *fig, 0) != 0 ||
	    solver_result_tally_all(inst, comm, res) != 0) {
		solver_cause(cause, "out of memory");
		rv = -1;
		goto done;
	}
	res->status = (enum solver_status)fig[0];
	res->objective = fig[1];
	res->bound = fig[2];
	res->gap = fig[3];
	res->iterations = (int)fig[4];
	res->exact_fallback = (int)fig[5];
	memcpy(res->price_budget, fig + 6, no * sizeof *fig);
	memcpy(res->price_capacity, fig + 6 + no, no * sizeof *fig);
	memcpy(res->fair_price, fig + 6 + 2 * no, inst->nfair * sizeof *fig);
	rv = 0;
done:
	solver_result_free(&sr);
	solver_instance_free(sub);
	free(sub_plan);
	free(list);
	free(fig);
	return rv;
}

/*
 * Check the instance and the options, allocate res; with a communicator
 * every rank learns whether any refused. 0 or -1 with *cause.
 */
static int
solver_prepare(const struct solver_instance *inst,
    const struct solver_options *opts, struct solver_result *res,
    char **cause)
{
	int	bad = 0;

	if (solver_instance_check(inst, cause) != 0)
		bad = 1;
	else if (!(opts->gap >= 0) || opts->gap >= 1) {
		solver_cause(cause, "gap must be in [0,1): %g", opts->gap);
		bad = 1;
	} else if (solver_result_alloc(inst, res) != 0) {
		solver_cause(cause, "out of memory");
		bad = 1;
	}
	if (dist_any(opts->comm, bad)) {
		if (!bad)
			solver_cause(cause, "another rank's instance was "
			    "refused");
		return -1;
	}
	return 0;
}

/* Solve with the method of the options. */
int
solver_solve(const struct solver_instance *inst,
    const struct solver_options *opts, struct solver_result *res,
    char **cause)
{
	struct solver_options	 defaults;
	double			 start = solver_now();
	long			 size[2];
	int			 rv;

	memset(res, 0, sizeof *res);
	res->status = SOLVER_ERROR;
	if (opts == NULL) {
		solver_options_init(&defaults);
		opts = &defaults;
	}
	if (solver_prepare(inst, opts, res, cause) != 0)
		return -1;
	size[0] = inst->ncustomers;
	size[1] = (long)inst->pair_start[inst->ncustomers];
	if (dist_sum_long(opts->comm, size, 2) != 0) {
		solver_cause(cause, "out of memory");
		return -1;
	}
	if (size[0] == 0 || size[1] == 0) {
		/* Nothing to choose: report it rather than solve. */
		solver_result_tally(inst, res);
		res->status = SOLVER_EMPTY;
		res->seconds = solver_now() - start;
		return 0;
	}
	if (opts->method == SOLVER_EXACT && dist_on(opts->comm))
		rv = solver_exact_gathered(inst, opts, res, cause);
	else if (opts->method == SOLVER_EXACT)
		rv = exact_run(inst, opts, res, cause);
	else
		rv = lagrange_run(inst, opts, res, cause);
	res->seconds = solver_now() - start;
	if (rv != 0)
		res->status = SOLVER_ERROR;
	return rv;
}

/* Split each offer's price per send into budget and capacity prices. */
void
solver_set_prices(const struct solver_instance *inst, const long *limit,
    const double *pi, struct solver_result *res)
{
	const struct solver_offer	*of;
	int				 o;

	for (o = 0; o < inst->noffers; o++) {
		of = &inst->offers[o];
		res->price_budget[o] = res->price_capacity[o] = 0;
		if (limit[o] < 0 || pi[o] <= 0)
			continue;
		/* The budget is the limit when capacity does not cut deeper. */
		if (of->budget >= 0 && of->cost > 0 &&
		    (of->capacity < 0 || limit[o] < of->capacity))
			res->price_budget[o] = pi[o] / of->cost;
		else
			res->price_capacity[o] = pi[o];
	}
}

/* Log a formatted line if there is a log callback. */
void
solver_log(void (*log)(void *, const char *), void *arg, const char *fmt,
    ...)
{
	char	buf[512];
	va_list	ap;

	if (log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	log(arg, buf);
}

/* Set *cause to a formatted message (caller frees); cause may be NULL. */
void
solver_cause(char **cause, const char *fmt, ...)
{
	va_list	ap;
	char	buf[512];

	if (cause == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	*cause = strdup(buf);
}
