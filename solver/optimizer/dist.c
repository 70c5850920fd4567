/*
 * A distributed solve's shared steps (struct solver_comm, solver.h): each
 * rank holds the customers of its shard; sums, selections, checks and the
 * gathering of a few customers to rank 0 go through the caller's
 * collective calls. Every function here is collective: all ranks call it
 * at the same point with their own data. Without a communicator (or with
 * one rank) each is the single-process step or a no-op.
 */
#include <stdlib.h>
#include <string.h>

#include "opt.h"

#define DIST_BINS	256	/* radix of dist_select: 8 bits a round */

/* Whether comm joins more than one rank. */
int
dist_on(const struct solver_comm *comm)
{
	return comm != NULL && comm->size > 1;
}

/* v[0..n) summed over the ranks, in place; 0 or -1. */
int
dist_sum_double(const struct solver_comm *comm, double *v, int n)
{
	if (!dist_on(comm) || n <= 0)
		return 0;
	return comm->sum_double(comm->arg, v, n);
}

/* v[0..n) as the maximum over the ranks, in place; 0 or -1. */
int
dist_max_double(const struct solver_comm *comm, double *v, int n)
{
	if (!dist_on(comm) || n <= 0)
		return 0;
	return comm->max_double(comm->arg, v, n);
}

/*
 * v[0..n) summed over the ranks (sum) or summed over the lower ranks
 * (exscan), through int64 whatever the width of long; 0 or -1.
 */
static int
dist_long(const struct solver_comm *comm, long *v, int n, int exscan)
{
	int64_t	*t;
	int	 i, rv;

	if (!dist_on(comm) || n <= 0)
		return 0;
	if ((t = malloc(n * sizeof *t)) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		t[i] = v[i];
	rv = exscan ? comm->exscan_int64(comm->arg, t, n) :
	    comm->sum_int64(comm->arg, t, n);
	for (i = 0; i < n; i++)
		v[i] = (long)t[i];
	free(t);
	return rv;
}

/* v[0..n) summed over the ranks, in place; 0 or -1. */
int
dist_sum_long(const struct solver_comm *comm, long *v, int n)
{
	return dist_long(comm, v, n, 0);
}

/* v[0..n) summed over the ranks below this one, in place; 0 or -1. */
int
dist_exscan_long(const struct solver_comm *comm, long *v, int n)
{
	return dist_long(comm, v, n, 1);
}

/* 1 if any rank's flag is nonzero (a decision every rank must share). */
int
dist_any(const struct solver_comm *comm, int flag)
{
	double	v = flag != 0;

	if (dist_max_double(comm, &v, 1) != 0)
		return 1;
	return v > 0;
}

/* Rank 0's v on every rank (a clock reading all ranks must act on). */
double
dist_root_double(const struct solver_comm *comm, double v)
{
	if (dist_on(comm))
		comm->bcast(comm->arg, &v, sizeof v, 0);
	return v;
}

/*
 * How many of this rank's mine equal candidates to take when need of
 * them are taken over all ranks, the lower ranks first.
 */
long
dist_share(const struct solver_comm *comm, long mine, long need)
{
	long	before = 0;

	if (!dist_on(comm))
		return mine < need ? mine : need;
	if (dist_exscan_long(comm, &before, 1) != 0)
		return 0;
	need -= before;
	return need <= 0 ? 0 : need < mine ? need : mine;
}

/* A value's key for dist_select: the bits of a float >= 0 sort as it. */
static uint32_t
dist_key(float v)
{
	uint32_t	u;

	if (!(v > 0))
		return 0;
	memcpy(&u, &v, sizeof u);
	return u;
}

/*
 * Each query's k-th largest (from 0) of the values of every rank, exactly:
 * a radix selection on the float bits, 8 of them a round, each round one
 * sum of a histogram per query. 0 or -1.
 */
int
dist_select(const struct solver_comm *comm, struct dist_query *q, int nq)
{
	int64_t		*hist, k;
	uint32_t	*prefix, high, key;
	int		 shift, i, b;
	int64_t		 j;

	if (nq <= 0)
		return 0;
	hist = malloc((size_t)nq * DIST_BINS * sizeof *hist);
	prefix = calloc(nq, sizeof *prefix);
	if (hist == NULL || prefix == NULL) {
		free(hist);
		free(prefix);
		return -1;
	}
	for (shift = 24; shift >= 0; shift -= 8) {
		high = shift == 24 ? 0 : ~UINT32_C(0) << (shift + 8);
		memset(hist, 0, (size_t)nq * DIST_BINS * sizeof *hist);
		for (i = 0; i < nq; i++) {
			for (j = 0; j < q[i].n; j++) {
				key = dist_key(q[i].v[j]);
				if ((key & high) == (prefix[i] & high))
					hist[(size_t)i * DIST_BINS +
					    ((key >> shift) & 255)]++;
			}
		}
		if (dist_on(comm) && comm->sum_int64(comm->arg, hist,
		    nq * DIST_BINS) != 0)
			goto fail;
		for (i = 0; i < nq; i++) {
			k = q[i].k;
			for (b = DIST_BINS - 1; b > 0; b--) {
				if (k < hist[(size_t)i * DIST_BINS + b])
					break;
				k -= hist[(size_t)i * DIST_BINS + b];
			}
			prefix[i] |= (uint32_t)b << shift;
			q[i].k = k;
		}
	}
	for (i = 0; i < nq; i++)
		memcpy(&q[i].value, &prefix[i], sizeof q[i].value);
	free(hist);
	free(prefix);
	return 0;

fail:
	free(hist);
	free(prefix);
	return -1;
}

/*
 * solver_check_feasible over every rank's plan: each rank checks its own
 * customers' rooms, and the sends per offer and per fairness row are
 * summed before the budgets, capacities and rows are checked. The same
 * answer on every rank; *cause (caller frees) says what failed, on the
 * rank that found it or as "on another rank".
 */
int
dist_check(const struct solver_instance *inst,
    const struct solver_comm *comm, const uint8_t *sel, double *objective,
    char **cause)
{
	struct solver_instance	 local;
	const struct solver_offer *of;
	double			*v;
	long			*sends, seg[SOLVER_FAIR_MAX], total;
	char			*why = NULL;
	int			 o, s, no = inst->noffers, nf = inst->nfair;
	int			 rv = -1;

	if (!dist_on(comm))
		return solver_check_feasible(inst, sel, objective, cause);
	/* Rooms and this shard's own sends; the rows need every rank. */
	local = *inst;
	local.nfair = 0;
	v = calloc(no + nf + 3, sizeof *v);
	sends = calloc(no + 1, sizeof *sends);
	if (v == NULL || sends == NULL) {
		solver_cause(cause, "out of memory");
		goto done;
	}
	if (solver_check_feasible(&local, sel, &v[0], &why) != 0)
		v[1] = 1;
	solver_fair_tally(inst, sel, seg, &total);
	for (int64_t k = 0; k < inst->pair_start[inst->ncustomers]; k++)
		if (sel[k])
			v[3 + inst->pair_offer[k]] += 1;
	for (s = 0; s < nf; s++)
		v[3 + no + s] = seg[s];
	v[2] = total;
	/* Counts up to 2^53 add exactly as doubles. */
	if (dist_sum_double(comm, v, no + nf + 3) != 0) {
		solver_cause(cause, "out of memory");
		goto done;
	}
	if (v[1] > 0) {
		*cause = why != NULL ? why : NULL;
		if (why == NULL)
			solver_cause(cause, "a customer over its room on "
			    "another rank");
		why = NULL;
		goto done;
	}
	for (o = 0; o < no; o++) {
		of = &inst->offers[o];
		sends[o] = (long)v[3 + o];
		if ((of->budget >= 0 && sends[o] * of->cost >
		    of->budget * (1 + 1e-12) + 1e-9) ||
		    (of->capacity >= 0 && sends[o] > of->capacity)) {
			solver_cause(cause, "offer %d: %ld sends over its "
			    "budget or capacity", o, sends[o]);
			goto done;
		}
	}
	for (s = 0; s < nf; s++) {
		if (!solver_fair_holds(inst, s, (long)v[3 + no + s],
		    (long)v[2])) {
			solver_cause(cause, "fairness row %d: %ld sends to the "
			    "segment, %ld in all", s, (long)v[3 + no + s],
			    (long)v[2]);
			goto done;
		}
	}
	if (objective != NULL)
		*objective = v[0];
	rv = 0;
done:
	free(why);
	free(v);
	free(sends);
	return rv;
}

/* A growing byte buffer for packing customers. */
struct dist_buf {
	uint8_t	*p;
	size_t	 len, cap;
	int	 failed;
};

/* Append n bytes to b. */
static void
dist_put(struct dist_buf *b, const void *v, size_t n)
{
	uint8_t	*np;
	size_t	 cap;

	if (b->failed || n == 0)
		return;
	if (b->len + n > b->cap) {
		cap = b->cap > 0 ? 2 * b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL) {
			b->failed = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, v, n);
	b->len += n;
}

/* Customer c with its plan bytes, packed as dist_unpack reads it. */
static void
dist_pack(struct dist_buf *b, const struct solver_instance *inst, int c,
    const uint8_t *plan)
{
	int64_t		first = inst->pair_start[c];
	int32_t		n = (int32_t)(inst->pair_start[c + 1] - first);
	uint32_t	member = inst->nfair > 0 ? inst->fair_member[c] : 0;

	dist_put(b, &n, sizeof n);
	dist_put(b, &member, sizeof member);
	dist_put(b, &inst->room_all[c], sizeof inst->room_all[c]);
	dist_put(b, inst->room_channel + (size_t)c * inst->nchannels,
	    inst->nchannels * sizeof *inst->room_channel);
	dist_put(b, inst->room_campaign + (size_t)c * inst->ncampaigns,
	    inst->ncampaigns * sizeof *inst->room_campaign);
	if (inst->ncategories > 0)
		dist_put(b, inst->room_category + (size_t)c *
		    inst->ncategories, inst->ncategories *
		    sizeof *inst->room_category);
	dist_put(b, inst->pair_offer + first, n * sizeof *inst->pair_offer);
	dist_put(b, inst->pair_propensity + first,
	    n * sizeof *inst->pair_propensity);
	dist_put(b, plan + first, n);
}

/*
 * Add the packed customer at *at (moved past it) to sub and its plan
 * bytes to plan (sub's pairs so far are plan's); 0 or -1 with *cause.
 */
static int
dist_unpack(struct solver_instance *sub, const uint8_t **at, uint8_t *plan,
    char **cause)
{
	const uint8_t	*p = *at;
	uint16_t	 room_all, *rch, *rcp, *rcat = NULL, *po;
	float		*pp;
	int32_t		 n;
	uint32_t	 member;
	int		 c, rv = -1;
	size_t		 nch = sub->nchannels, ncp = sub->ncampaigns;
	size_t		 ncat = sub->ncategories;

	memcpy(&n, p, sizeof n);
	p += sizeof n;
	memcpy(&member, p, sizeof member);
	p += sizeof member;
	memcpy(&room_all, p, sizeof room_all);
	p += sizeof room_all;
	/* Unaligned in the buffer: copy out. */
	rch = malloc((nch + ncp + ncat + 1) * sizeof *rch);
	po = malloc((n + 1) * sizeof *po);
	pp = malloc((n + 1) * sizeof *pp);
	if (rch == NULL || po == NULL || pp == NULL) {
		solver_cause(cause, "out of memory");
		goto done;
	}
	rcp = rch + nch;
	memcpy(rch, p, (nch + ncp + ncat) * sizeof *rch);
	p += (nch + ncp + ncat) * sizeof *rch;
	if (ncat > 0)
		rcat = rch + nch + ncp;
	memcpy(po, p, n * sizeof *po);
	p += n * sizeof *po;
	memcpy(pp, p, n * sizeof *pp);
	p += n * sizeof *pp;
	memcpy(plan + sub->pair_start[sub->ncustomers], p, n);
	p += n;
	if ((c = solver_instance_add_customer(sub, n, po, pp, room_all, rch,
	    rcp, cause)) < 0)
		goto done;
	if ((rcat != NULL && solver_instance_category_room(sub, c,
	    rcat) != 0) || (sub->nfair > 0 &&
	    solver_instance_fair_member(sub, c, member) != 0)) {
		solver_cause(cause, "gathered customer refused");
		goto done;
	}
	*at = p;
	rv = 0;
done:
	free(rch);
	free(po);
	free(pp);
	return rv;
}

/* An empty instance with inst's offers, categories and fairness rows. */
static struct solver_instance *
dist_sub_new(const struct solver_instance *inst, char **cause)
{
	struct solver_instance	*sub;

	if ((sub = solver_instance_new(inst->noffers, inst->nchannels,
	    inst->ncampaigns, inst->offers, cause)) == NULL)
		return NULL;
	if ((inst->ncategories > 0 && solver_instance_categories(sub,
	    inst->ncategories, inst->offer_category, cause) != 0) ||
	    (inst->nfair > 0 && solver_instance_fairness(sub, inst->nfair,
	    inst->fair_min_ratio, inst->fair_base, inst->fair_size,
	    cause) != 0)) {
		solver_instance_free(sub);
		return NULL;
	}
	return sub;
}

/*
 * Gather customers list[0..n) of every rank's instance, with their plan
 * bytes, to rank 0 as one instance: *sub and *sub_plan (one byte per pair
 * of sub) on rank 0, customers in rank order then list order; NULL on the
 * others. Caller frees both. 0 or -1 with *cause (on rank 0: the others
 * learn of it from dist_scatter's status).
 */
int
dist_gather(const struct solver_instance *inst,
    const struct solver_comm *comm, const int *list, int n,
    const uint8_t *plan, struct solver_instance **sub, uint8_t **sub_plan,
    char **cause)
{
	struct dist_buf	 b = { NULL, 0, 0, 0 };
	size_t		*lens = NULL, total = 0, np;
	void		*all = NULL;
	const uint8_t	*at, *end;
	int		 i, r, rv = -1;

	*sub = NULL;
	*sub_plan = NULL;
	for (i = 0; i < n; i++)
		dist_pack(&b, inst, list[i], plan);
	if (b.failed || (lens = calloc(comm->size, sizeof *lens)) == NULL) {
		solver_cause(cause, "out of memory");
		goto done;
	}
	if (comm->gather(comm->arg, b.p, b.len, 0, &all, lens) != 0) {
		solver_cause(cause, "gather failed");
		goto done;
	}
	if (comm->rank != 0) {
		rv = 0;
		goto done;
	}
	for (r = 0; r < comm->size; r++)
		total += lens[r];
	/* Each customer packs at least one byte per pair. */
	np = total + 1;
	if ((*sub = dist_sub_new(inst, cause)) == NULL)
		goto done;
	if ((*sub_plan = calloc(np, 1)) == NULL) {
		solver_cause(cause, "out of memory");
		goto done;
	}
	at = all;
	end = at + total;
	while (at < end)
		if (dist_unpack(*sub, &at, *sub_plan, cause) != 0)
			goto done;
	rv = 0;
done:
	if (rv != 0) {
		solver_instance_free(*sub);
		free(*sub_plan);
		*sub = NULL;
		*sub_plan = NULL;
	}
	free(b.p);
	free(all);
	free(lens);
	return rv;
}

/*
 * The other way: rank 0's status (0 or -1) and, when 0, sub_sel (one byte
 * per pair of the gathered instance, read on rank 0 only) back into each
 * rank's sel at the pairs of its customers list[0..n). Returns the status
 * (-1 also when a call fails).
 */
int
dist_scatter(const struct solver_instance *inst,
    const struct solver_comm *comm, const int *list, int n,
    const uint8_t *sub_sel, int status, uint8_t *sel)
{
	int64_t		 hdr[2], mine = 0, before;
	uint8_t		*all = NULL;
	int		 i;
	int64_t		 k, at;

	for (i = 0; i < n; i++)
		mine += inst->pair_start[list[i] + 1] -
		    inst->pair_start[list[i]];
	before = mine;
	if (comm->exscan_int64(comm->arg, &before, 1) != 0)
		return -1;
	hdr[0] = status;
	hdr[1] = mine;
	if (comm->sum_int64(comm->arg, &hdr[1], 1) != 0 ||
	    comm->bcast(comm->arg, &hdr[0], sizeof hdr[0], 0) != 0)
		return -1;
	if (hdr[0] != 0)
		return -1;
	if ((all = malloc(hdr[1] + 1)) == NULL)
		return -1;	/* the job aborts: see solver_comm */
	if (comm->rank == 0 && hdr[1] > 0)
		memcpy(all, sub_sel, hdr[1]);
	if (comm->bcast(comm->arg, all, hdr[1], 0) != 0) {
		free(all);
		return -1;
	}
	at = before;
	for (i = 0; i < n; i++)
		for (k = inst->pair_start[list[i]];
		    k < inst->pair_start[list[i] + 1]; k++)
			sel[k] = all[at++];
	free(all);
	return 0;
}
