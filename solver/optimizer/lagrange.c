/*
 * Scale mode: Lagrangian relaxation of the per-offer rows.
 *
 * Budget and capacity rows of one offer have the same variables, with
 * coefficients cost and 1, so for 0/1 sends they merge into one limit
 * K_o = min(capacity, floor(budget / cost)) with one price pi_o per send.
 * Given prices, every customer's subproblem is independent and solved by
 * flow.c, so
 *	L(pi) = sum_c max_x sum_o x (w_co - pi_o) + sum_o pi_o K_o
 * is a certified upper bound for every pi >= 0. flow.c's value is the
 * subproblem's optimum, or, for a customer whose search stopped at its
 * node limit (flow_sub.exact 0), an upper bound of it: L stays a bound.
 * Its plan (sel) is always feasible; phi sums values, never sel's worth.
 * A customer's rooms are per channel, campaign, category and in all; every
 * repair step that adds a send checks all four (lagrange_queue,
 * lagrange_fits).
 *
 * Prices: each sweep also yields, for every candidate pair, the critical
 * price a_co below which the customer takes offer o (others fixed). The
 * price at which offer o's demand meets K_o is then its K_o-th largest
 * a_co: an exact coordinate minimizer of L. All offers move towards their
 * target together, damped per offer when the move changes direction
 * (offers are substitutes within a customer's room). Sweeps run on
 * customer shards, one thread each; the targets' selections run on the
 * same threads, an offer at a time.
 *
 * Primal, after every sweep: the sweep keeps each pair's choice and
 * critical price (its switch price), so the repair solves nothing again.
 * It drops, for each over-demanded offer, the sends with the lowest
 * critical price, then fills freed room and unused sends in value order
 * over all customers at once (customer order gave the last sends of an
 * offer to whoever came first and could leave the plan stuck above the
 * gap). Near the prices' fixed point a customer who lost a send often
 * wants, next, an offer with no sends left; an exchange step hands it the
 * send of that offer's weakest holder when that raises the plan's value
 * (this, not the prices, kept the plan short of the gap for several more
 * sweeps). The cut and the queueing and sorting of the fill's candidates
 * run on the shards' threads; the fill itself, one walk in value order
 * that every offer's sends left couple, and the exchange run on one. A
 * GLPK "polish" then re-solves the customers nearest their thresholds
 * with everyone else fixed, kept when it improves the plan.
 *
 * Fairness rows h_s = sum_c a_sc x_c >= 0 (solver.h) are dualized too,
 * with a price lambda_s >= 0 each: they add lambda . h(x) >= 0 for every
 * plan meeting them, so L(pi, lambda) stays an upper bound. As a_sc
 * depends only on the customer, the term is a shift of every reduced value
 * of customer c by sum_s lambda_s a_sc: a bonus per send for segment
 * members, a charge for everyone. dL/dlambda_s = h_s at the sweep's
 * choices, so the prices move by projected subgradient steps (Polyak's
 * length, halved while the bound does not improve). The repair ends by
 * adding sends to the members of a short segment, or dropping others'
 * sends, cheapest per unit of the row first; the polish MIP carries the
 * rows with what the fixed customers contribute.
 *
 * Distributed (options comm, mpirun -np K pacer optimize): each rank
 * sweeps its own customers; the bound, demand and fairness tallies are
 * summed over the ranks, and the targets and cutoffs are the same
 * selection as one process's, made exactly over every rank's critical
 * prices (dist_select: a radix selection on the float bits, one summed
 * histogram a byte), so every rank moves the prices alike and the dual
 * loop is one process's. The repair differs where it must: each rank cuts
 * its own sends at the shared cutoffs; the refill splits each offer's
 * sends left by a selection over all ranks' candidates (exact but for
 * customers' rooms); the exchange works within each rank and its share of
 * the sends left; the fairness fix walks every rank's cheapest moves in
 * one order on every rank. The polish and the exact fallback gather their
 * customers on rank 0 and send the plan back. Decisions that read a clock
 * read rank 0's.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "opt.h"

#define LAGRANGE_MAX_ITER	400
#define LAGRANGE_STALL_ITER	25
#define LAGRANGE_POLISH		500
#define LAGRANGE_FALLBACK_PAIRS	1000000	/* exact fallback: at most */
#define LAGRANGE_FALLBACK_S	120	/* its time with no time limit */
#define LAGRANGE_HOLDERS	4	/* weakest holders kept per offer */
#define LAGRANGE_REPAIR_OVER	0.02	/* see lagrange_run */
#define LAGRANGE_SPIN_S		0.005	/* a worker's busy wait for work */

enum lagrange_mode {
	LAGRANGE_INIT,		/* laminarity and bucket sizes */
	LAGRANGE_DUAL,		/* L(pi), demand, critical prices */
	LAGRANGE_REPAIR,	/* plan at pi with over-demand cut */
	LAGRANGE_QUEUE,		/* the refill's candidates, sorted */
	LAGRANGE_TARGETS	/* per offer: its critical prices gathered,
				   its target and cutoff (not by shard) */
};

/* Scratch and outputs of one customer shard. */
struct lagrange_shard {
	struct lagrange		*lg;
	int			 first, last;	/* customers */
	enum lagrange_mode	 mode;

	struct flow_work	*fw;
	struct flow_sub		 sub;
	double			*w;		/* net value per item */
	int64_t			*pair;		/* pair per item */
	int			*offer;		/* offer per item */
	int			*room;		/* per group */

	double			 phi;		/* sum of subproblem values */
	long			*fair_sends;	/* per fairness row: sends
						   chosen for its members */
	long			 total_sends;	/* sends chosen in all */
	double			 objective;	/* of the repaired plan */
	long			*demand;	/* per offer */
	int64_t			*useful;	/* per offer: items (init) */
	int64_t			*bcnt;		/* per offer: bucket entries */
	int			*touched;	/* customers that lost a send */
	int			 ntouched;
	/*
	 * Per offer with a limit, the LAGRANGE_HOLDERS kept sends with the
	 * lowest critical price (the cheapest to take away), -1 if none.
	 */
	int64_t			*hold_pair;
	float			*hold_price;
	/*
	 * The refill's candidates of the shard's customers, queued in pair
	 * order, then sorted by lagrange_cand_sort; the refill merges the
	 * shards' lists (a total order: the same plan for any split).
	 */
	struct lagrange_cand	*cand;
	int64_t			 ncand, cand_alloc;
	int			 error;		/* out of memory in a sweep */
};

/* A pair that could go into freed room, with its net value. */
struct lagrange {
	const struct solver_instance	*inst;
	const struct solver_options	*opts;
	const struct solver_comm	*comm;	/* opts->comm: NULL, one
						   process */
	int				 dist;	/* a distributed solve: this
						   rank's shard of customers */
	long				 ncustomers_all; /* every rank's */
	int64_t				 npairs_all;
	int				 nshards;
	struct lagrange_shard		*shard;
	int				 ngroups;

	/*
	 * Shards 1 .. nthreads run on threads that live for the whole solve:
	 * a sweep is a millisecond at a few thousand customers, less than
	 * starting a thread and waking an idle CPU takes, so they wait for
	 * the next sweep busy for a few milliseconds, then on cv.
	 */
	pthread_t			 thread[64];
	int				 nthreads;
	pthread_mutex_t			 mu;
	pthread_cond_t			 cv;
	int				 sync_init;
	atomic_int			 generation;	/* sweeps started */
	atomic_int			 ndone;		/* shards finished */
	atomic_int			 quit;
	atomic_int			 next_offer;	/* LAGRANGE_TARGETS:
							   the next to take */

	long		*limit;		/* sends allowed, -1 none */
	uint8_t		*active;	/* limit can bind */
	double		*pi;		/* current prices */
	double		*target;	/* coordinate minimizers */
	double		*step;		/* damping per offer */
	double		*last_move;
	double		*cutoff;	/* repair: keep a > cutoff, or -inf */
	uint8_t		*laminar;	/* per customer: FLOW_LAMINAR,
					   FLOW_CROSSING or FLOW_SEARCH */

	int64_t		*bstart;	/* (offer, shard) -> bucket offset */
	float		*bucket;	/* critical prices a > 0 */
	long		*over;		/* demand - limit at the last sweep */

	uint8_t		*choice;	/* per pair: chosen at the last
					   dual sweep's prices */
	float		*switch_price;	/* per pair: the critical price a
					   of the last dual sweep */
	int64_t		*bucket_n;	/* per offer: critical prices in its
					   bucket run (LAGRANGE_TARGETS) */
	const long	*queue_left;	/* LAGRANGE_QUEUE: sends left */
	int		 queue_any;	/* and an offer with a price has some */
	uint8_t		*plan;		/* per pair: current repaired plan */
	uint8_t		*spare;		/* per pair: scratch plan */
	double		 plan_objective;
	float		*score;		/* per customer: distance to a
					   threshold, for the polish */
	long		*usage;		/* per offer: sends in plan */
	double		 start;

	double		*lambda;	/* per fairness row: price per send */
	double		 fair_common;	/* -sum_s lambda_s r |s| / N */
	double		*fair_h;	/* rows at the last sweep's choices */
	double		*fair_stepsz;	/* per row: its price's step */
	int		*fair_dir;	/* per row: the last move's sign */

	/* The dual loop (lagrange_dual) and what follows it. */
	double		*best_pi;	/* prices of the best bound */
	double		*best_lambda;	/* fairness prices of it */
	double		 best;		/* the best bound */
	double		 gap;		/* of the result at best */
	double		 limited;	/* sends of offers whose limit binds */
	double		 trivial;	/* sum of positive net values */
	int		 it;		/* dual iterations */
	int		 timed_out;
};

/* A move that brings a short fairness row up. */
struct lagrange_fair_cand {
	double		 cost;		/* value lost per unit of the row */
	int64_t		 pair;
	int		 customer;
	int		 add;		/* 1: send pair, 0: drop it */
	int		 offer;
	int		 rank;		/* whose customer (distributed) */
	uint32_t	 member;	/* the customer's fairness rows */
};

static double	 lagrange_shift(const struct lagrange *, int);
static void	 lagrange_customer(struct lagrange_shard *, int, int);
static void	*lagrange_worker(void *);
static void	 lagrange_shard_run(struct lagrange_shard *);
static void	 lagrange_hold(struct lagrange_shard *, int, int64_t, float);
static void	 lagrange_cut(struct lagrange_shard *);
static void	*lagrange_thread(void *);
static void	 lagrange_threads_start(struct lagrange *);
static void	 lagrange_threads_stop(struct lagrange *);
static int	 lagrange_sweep(struct lagrange *, enum lagrange_mode);
static float	 lagrange_select(float *, int64_t, int64_t);
static void	 lagrange_target_set(struct lagrange *, int, float, float);
static void	 lagrange_target_one(struct lagrange *, int, float *, int64_t);
static void	 lagrange_target_offer(struct lagrange *, int);
static int	 lagrange_targets_dist(struct lagrange *, long *,
		    const int64_t *);
static int	 lagrange_targets(struct lagrange *);
static int	 lagrange_queue(struct lagrange_shard *, int, const long *, int);
static int	 lagrange_wants(const struct lagrange *, int, const long *);
static void	 lagrange_queue_shard(struct lagrange_shard *);
static int	 lagrange_fits(const struct lagrange *, int, int64_t);
static const struct lagrange_cand *lagrange_cand_next(const struct lagrange *,
		    int64_t *);
static int	 lagrange_refill(struct lagrange *, long *);
static int	 lagrange_owner(const struct lagrange *, int64_t);
static double	 lagrange_best_free(const struct lagrange *, int,
		    const long *);
static double	 lagrange_take_free(struct lagrange *, int, long *);
static double	 lagrange_exchange_holder(struct lagrange *, int, int64_t,
		    double, int64_t, const long *, int64_t *);
static void	 lagrange_exchange_find(struct lagrange *, int, const long *,
		    double, int64_t *, int64_t *, int64_t *);
static void	 lagrange_exchange_apply(struct lagrange *, int, int64_t,
		    int64_t, int64_t, long *);
static int	 lagrange_exchange(struct lagrange *, long *);
static int	 lagrange_fair_cmp(const void *, const void *);
static int	 lagrange_fair_tally(const struct lagrange *, long *, long *);
static int	 lagrange_fair_worst(const struct lagrange *, const long *,
		    long);
static int	 lagrange_fair_grow(struct lagrange_fair_cand * *, int64_t *,
		    int64_t);
static void	 lagrange_fair_note(const struct lagrange *,
		    struct lagrange_fair_cand *, int64_t *, double, int, int64_t, int);
static int64_t	 lagrange_fair_cands(struct lagrange *, int, double, double,
		    const long *, struct lagrange_fair_cand * *, int64_t *);
static int64_t	 lagrange_fair_gather(struct lagrange *, double, double,
		    double, struct lagrange_fair_cand * *, int64_t);
static void	 lagrange_fair_apply(struct lagrange *,
		    const struct lagrange_fair_cand *, int64_t, int, long *, long *, long *);
static int	 lagrange_fair_fix(struct lagrange *, long *);
static int	 lagrange_left(struct lagrange *, long *);
static void	 lagrange_repair_over(struct lagrange *, long *);
static int	 lagrange_repair_queue(struct lagrange *, const long *, int);
static int	 lagrange_refill_quota(struct lagrange *, const long *,
		    long *);
static int	 lagrange_repair_dist(struct lagrange *, long *);
static int	 lagrange_repair(struct lagrange *);
static int	 lagrange_polish_pick(struct lagrange *, int, int *);
static int	 lagrange_polish_fixed(struct lagrange *, const int *, int,
		    long *, double *, double *);
static int	 lagrange_polish_gathered(struct lagrange *,
		    struct exact_job *, const int *, int, char **);
static int	 lagrange_polish_adopt(struct lagrange *,
		    struct solver_result *, double, double);
static int	 lagrange_polish(struct lagrange *, struct solver_result *,
		    int, double, double *, double, char **);
static int	 lagrange_keep(struct lagrange *, struct solver_result *,
		    const char *);
static void	 lagrange_fair_step(struct lagrange *);
static void	 lagrange_fair_set(struct lagrange *, const double *);
static void	 lagrange_progress(struct lagrange *, const char *, int,
		    double, double);
static void	 lagrange_free(struct lagrange *);
static int	 lagrange_nshards(const struct lagrange *);
static int	 lagrange_alloc(struct lagrange *);
static int	 lagrange_shard_alloc(struct lagrange *,
		    struct lagrange_shard *);
static int	 lagrange_buckets(struct lagrange *);
static int	 lagrange_setup(struct lagrange *, char **);
static double	 lagrange_elapsed(const struct lagrange *);
static int	 lagrange_start(struct lagrange *);
static int	 lagrange_dual_value(struct lagrange *, double *);
static void	 lagrange_move(struct lagrange *);
static int	 lagrange_want_repair(const struct lagrange *);
static int	 lagrange_dual(struct lagrange *, struct solver_result *,
		    char **);
static int	 lagrange_rebuild(struct lagrange *, struct solver_result *);
static int	 lagrange_finish(struct lagrange *, struct solver_result *,
		    char **);
static int	 lagrange_result(struct lagrange *, struct solver_result *);

/* Customer c's fairness shift: sum_s lambda_s a_sc, per send. */
static double
lagrange_shift(const struct lagrange *lg, int c)
{
	const struct solver_instance	*inst = lg->inst;
	double				 shift;
	uint32_t			 m;
	int				 s;

	if (inst->nfair == 0)
		return 0;
	shift = lg->fair_common;
	m = inst->fair_member[c];
	for (s = 0; m != 0 && s < inst->nfair; s++)
		if ((m >> s) & 1)
			shift += lg->lambda[s];
	return shift;
}

/*
 * Load customer c's items and solve its subproblem at the current prices.
 * An item's w is its net value plus the fairness shift. The first sweep
 * (LAGRANGE_INIT, no prices) loads every pair a price could make worth
 * sending: the positive ones, and all of a fairness member's.
 */
static void
lagrange_customer(struct lagrange_shard *sh, int c, int thresholds)
{
	struct lagrange			*lg = sh->lg;
	const struct solver_instance	*inst = lg->inst;
	const struct solver_offer	*of;
	struct flow_sub			*s = &sh->sub;
	int64_t				 k;
	int				 n = 0, o, nch = inst->nchannels, member;
	int				 cat, catg = nch + inst->ncampaigns;
	double				 w, shift = lagrange_shift(lg, c);

	member = inst->nfair > 0 && inst->fair_member[c] != 0;
	for (k = inst->pair_start[c]; k < inst->pair_start[c + 1]; k++) {
		o = inst->pair_offer[k];
		of = &inst->offers[o];
		w = (double)inst->pair_propensity[k] * of->value - of->cost;
		if (sh->mode == LAGRANGE_INIT ? w <= 0 && !member :
		    w + shift <= 0)
			continue;
		if (sh->mode != LAGRANGE_INIT)
			w += shift;
		sh->w[n] = w;
		sh->pair[n] = k;
		sh->offer[n] = o;
		s->r[n] = w - lg->pi[o];
		s->ch[n] = of->channel;
		s->cp[n] = nch + of->campaign;
		sh->room[of->channel] =
		    inst->room_channel[(size_t)c * nch + of->channel];
		sh->room[nch + of->campaign] = inst->room_campaign[(size_t)c *
		    inst->ncampaigns + of->campaign];
		s->cat[n] = -1;
		if ((cat = solver_offer_category(inst, o)) >= 0) {
			s->cat[n] = catg + cat;
			sh->room[catg + cat] = inst->room_category[(size_t)c *
			    inst->ncategories + cat];
		}
		n++;
	}
	s->n = n;
	sh->room[s->all] = inst->room_all[c];
	if (lg->laminar != NULL)
		flow_solve(s, lg->laminar[c], thresholds, sh->fw);
}

/* Sweep one shard of customers in the shard's mode. */
static void *
lagrange_worker(void *arg)
{
	struct lagrange_shard		*sh = arg;
	struct lagrange			*lg = sh->lg;
	const struct solver_instance	*inst = lg->inst;
	struct flow_sub			*s = &sh->sub;
	int				 c, i, o, si;
	int64_t				 k, pos;
	double				 a;

	si = (int)(sh - lg->shard);
	sh->phi = 0;
	sh->total_sends = 0;
	for (i = 0; i < inst->nfair; i++)
		sh->fair_sends[i] = 0;
	sh->objective = 0;
	sh->ntouched = 0;
	for (o = 0; o < inst->noffers; o++) {
		sh->demand[o] = 0;
		sh->bcnt[o] = 0;
		if (sh->mode == LAGRANGE_INIT)
			sh->useful[o] = 0;
	}
	if (sh->mode == LAGRANGE_REPAIR) {
		lagrange_cut(sh);
		return NULL;
	}
	for (c = sh->first; c < sh->last; c++) {
		if (sh->mode == LAGRANGE_INIT) {
			lagrange_customer(sh, c, 0);
			lg->laminar[c] = (uint8_t)flow_is_laminar(s, sh->fw);
			for (i = 0; i < s->n; i++)
				sh->useful[sh->offer[i]]++;
			continue;
		}
		lagrange_customer(sh, c, 1);
		sh->phi += s->value;
		if (sh->mode == LAGRANGE_DUAL && inst->nfair > 0) {
			long	n = 0;

			for (i = 0; i < s->n; i++)
				n += s->sel[i];
			sh->total_sends += n;
			for (i = 0; n > 0 && i < inst->nfair; i++)
				if ((inst->fair_member[c] >> i) & 1)
					sh->fair_sends[i] += n;
		}
		if (sh->mode == LAGRANGE_DUAL) {
			for (k = inst->pair_start[c];
			    k < inst->pair_start[c + 1]; k++) {
				lg->choice[k] = 0;
				lg->switch_price[k] = -HUGE_VALF;
			}
			for (i = 0; i < s->n; i++) {
				o = sh->offer[i];
				a = sh->w[i] - s->t[i];
				lg->choice[sh->pair[i]] = s->sel[i];
				lg->switch_price[sh->pair[i]] = (float)a;
				if (s->sel[i])
					sh->demand[o]++;
				if (!lg->active[o])
					continue;
				if (a <= 0)
					continue;
				pos = lg->bstart[(int64_t)o * lg->nshards + si] +
				    sh->bcnt[o]++;
				lg->bucket[pos] = (float)a;
			}
		}
	}
	return NULL;
}

/*
 * Shard sh's part of the sweep that started, by its mode: its customers
 * (lagrange_worker), its refill candidates, or offers' targets.
 */
static void
lagrange_shard_run(struct lagrange_shard *sh)
{
	struct lagrange	*lg = sh->lg;
	int		 o;

	switch (sh->mode) {
	case LAGRANGE_QUEUE:
		/* Reads the cut's results: touched, demand stay as they are. */
		lagrange_queue_shard(sh);
		break;
	case LAGRANGE_TARGETS:
		/* Offers, not customers: the bcnt of every shard is read. */
		while ((o = atomic_fetch_add(&lg->next_offer, 1)) <
		    lg->inst->noffers)
			lagrange_target_offer(lg, o);
		break;
	default:
		lagrange_worker(sh);
		break;
	}
}

/* Note pair k (offer o, critical price a) if among o's weakest holders. */
static void
lagrange_hold(struct lagrange_shard *sh, int o, int64_t k, float a)
{
	int64_t	*hp = sh->hold_pair + (int64_t)o * LAGRANGE_HOLDERS;
	float	*ha = sh->hold_price + (int64_t)o * LAGRANGE_HOLDERS;
	int	 j, worst = 0;

	for (j = 0; j < LAGRANGE_HOLDERS; j++) {
		if (hp[j] == -1) {
			hp[j] = k;
			ha[j] = a;
			return;
		}
		if (ha[j] > ha[worst])
			worst = j;
	}
	if (a < ha[worst]) {
		hp[worst] = k;
		ha[worst] = a;
	}
}

/*
 * Repair pass over one shard, from the last dual sweep's choices and
 * switch prices (no subproblem is solved again): cut the sends of
 * over-demanded offers at their cutoff, note who lost one, and score each
 * customer by its distance to a price threshold for the polish.
 */
static void
lagrange_cut(struct lagrange_shard *sh)
{
	struct lagrange			*lg = sh->lg;
	const struct solver_instance	*inst = lg->inst;
	int				 c, o, lost;
	int64_t				 k;
	float				 a;
	double				 d, best;

	for (k = 0; k < (int64_t)inst->noffers * LAGRANGE_HOLDERS; k++)
		sh->hold_pair[k] = -1;
	for (c = sh->first; c < sh->last; c++) {
		lost = 0;
		best = HUGE_VAL;
		for (k = inst->pair_start[c]; k < inst->pair_start[c + 1];
		    k++) {
			lg->plan[k] = lg->choice[k];
			if (!lg->choice[k])
				continue;
			o = inst->pair_offer[k];
			a = lg->switch_price[k];
			/* Compare as floats: the bucket counted floats. */
			if (a <= (float)lg->cutoff[o]) {
				lg->plan[k] = 0;
				lost = 1;
			} else {
				sh->demand[o]++;
				sh->objective += solver_pair_value(inst, k);
				if (lg->limit[o] >= 0)
					lagrange_hold(sh, o, k, a);
			}
		}
		for (k = inst->pair_start[c]; k < inst->pair_start[c + 1];
		    k++) {
			o = inst->pair_offer[k];
			if (lg->pi[o] <= 0 || !isfinite(lg->switch_price[k]))
				continue;
			d = fabs((double)lg->switch_price[k] - lg->pi[o]);
			if (d < best)
				best = d;
		}
		lg->score[c] = (float)best;
		if (lost)
			sh->touched[sh->ntouched++] = c;
	}
}

/* A shard's thread: run a sweep of its shard each time one starts. */
static void *
lagrange_thread(void *arg)
{
	struct lagrange_shard	*sh = arg;
	struct lagrange		*lg = sh->lg;
	int			 seen = 0, spins;
	double			 since;

	for (;;) {
		since = solver_now();
		for (spins = 0; atomic_load(&lg->generation) == seen &&
		    !atomic_load(&lg->quit); spins++) {
			if ((spins & 255) != 255 ||
			    solver_now() - since < LAGRANGE_SPIN_S)
				continue;
			pthread_mutex_lock(&lg->mu);
			while (atomic_load(&lg->generation) == seen &&
			    !atomic_load(&lg->quit))
				pthread_cond_wait(&lg->cv, &lg->mu);
			pthread_mutex_unlock(&lg->mu);
		}
		if (atomic_load(&lg->quit))
			return NULL;
		seen = atomic_load(&lg->generation);
		lagrange_shard_run(sh);
		atomic_fetch_add(&lg->ndone, 1);
	}
}

/* Start a thread for each shard but the first; fewer if that fails. */
static void
lagrange_threads_start(struct lagrange *lg)
{
	int	i;

	if (lg->nshards < 2)
		return;
	if (pthread_mutex_init(&lg->mu, NULL) != 0)
		return;
	if (pthread_cond_init(&lg->cv, NULL) != 0) {
		pthread_mutex_destroy(&lg->mu);
		return;
	}
	lg->sync_init = 1;
	atomic_init(&lg->generation, 0);
	atomic_init(&lg->ndone, 0);
	atomic_init(&lg->quit, 0);
	atomic_init(&lg->next_offer, 0);
	for (i = 1; i < lg->nshards; i++) {
		if (pthread_create(&lg->thread[i], NULL, lagrange_thread,
		    &lg->shard[i]) != 0)
			break;
		lg->nthreads = i;
	}
}

/* Stop and join the shard threads. */
static void
lagrange_threads_stop(struct lagrange *lg)
{
	int	i;

	if (!lg->sync_init)
		return;
	pthread_mutex_lock(&lg->mu);
	atomic_store(&lg->quit, 1);
	pthread_cond_broadcast(&lg->cv);
	pthread_mutex_unlock(&lg->mu);
	for (i = 1; i <= lg->nthreads; i++)
		pthread_join(lg->thread[i], NULL);
	lg->nthreads = 0;
	pthread_cond_destroy(&lg->cv);
	pthread_mutex_destroy(&lg->mu);
	lg->sync_init = 0;
}

/* Run one sweep over all shards, one thread each. */
static int
lagrange_sweep(struct lagrange *lg, enum lagrange_mode mode)
{
	int	i;

	for (i = 0; i < lg->nshards; i++)
		lg->shard[i].mode = mode;
	if (lg->nthreads > 0) {
		atomic_store(&lg->ndone, 0);
		pthread_mutex_lock(&lg->mu);
		atomic_fetch_add(&lg->generation, 1);
		pthread_cond_broadcast(&lg->cv);
		pthread_mutex_unlock(&lg->mu);
	}
	lagrange_shard_run(&lg->shard[0]);
	/* A shard whose thread did not start runs here. */
	for (i = lg->nthreads + 1; i < lg->nshards; i++)
		lagrange_shard_run(&lg->shard[i]);
	while (atomic_load(&lg->ndone) < lg->nthreads)
		sched_yield();
	return 0;
}

/*
 * Rearrange v[0..n) so v[k] is the (k+1)-th largest and return it
 * (quickselect, three-way partition so ties cannot stall it).
 */
static float
lagrange_select(float *v, int64_t n, int64_t k)
{
	int64_t	lo = 0, hi = n - 1, i, lt, gt;
	float	pivot, a, b, c, tmp;

	while (lo < hi) {
		a = v[lo];
		b = v[lo + (hi - lo) / 2];
		c = v[hi];
		pivot = a < b ? (b < c ? b : (a < c ? c : a)) :
		    (a < c ? a : (b < c ? c : b));
		/* Descending: [lo,lt) > pivot, [lt,gt] == pivot, rest <. */
		lt = lo;
		gt = hi;
		i = lo;
		while (i <= gt) {
			if (v[i] > pivot) {
				tmp = v[i]; v[i] = v[lt]; v[lt] = tmp;
				lt++;
				i++;
			} else if (v[i] < pivot) {
				tmp = v[i]; v[i] = v[gt]; v[gt] = tmp;
				gt--;
			} else
				i++;
		}
		if (k < lt)
			hi = lt - 1;
		else if (k > gt)
			lo = gt + 1;
		else
			return pivot;
	}
	return v[k];
}

/*
 * Offer o's target and cutoff from its critical prices v[0..n): the
 * limit-th largest (ak) and the next below it (next); n > limit.
 */
static void
lagrange_target_set(struct lagrange *lg, int o, float ak, float next)
{
	if (lg->limit[o] == 0) {
		lg->target[o] = ak;
		lg->cutoff[o] = HUGE_VAL;
		return;
	}
	/* Any price in [next, ak] meets the limit; take the middle. */
	lg->target[o] = 0.5 * ((double)ak + (double)next);
	/*
	 * Keep a > next when that is exactly the top K; with ties at ak keep
	 * only a > ak and let the fill hand out the rest.
	 */
	if (lg->over[o] > 0)
		lg->cutoff[o] = next < ak ? next : ak;
}

/* Offer o's target and cutoff from this process's v[0..n) alone. */
static void
lagrange_target_one(struct lagrange *lg, int o, float *v, int64_t n)
{
	int64_t	i, K = lg->limit[o];
	float	ak, next;

	if (n <= K)
		return;	/* everyone who wants it fits */
	if (K == 0) {
		ak = 0;
		for (i = 0; i < n; i++)
			if (v[i] > ak)
				ak = v[i];
		lagrange_target_set(lg, o, ak, 0);
		return;
	}
	ak = lagrange_select(v, n, K - 1);
	next = 0;
	for (i = K; i < n; i++)
		if (v[i] > next)
			next = v[i];
	lagrange_target_set(lg, o, ak, next);
}

/*
 * The same over every rank's critical prices (offer o's on this rank:
 * v[0..n[o]) at base[o]): the limit-th and next largest are selected
 * exactly over all ranks, so the targets are a single process's. 0 or -1.
 */
static int
lagrange_targets_dist(struct lagrange *lg, long *n, const int64_t *base)
{
	const struct solver_instance	*inst = lg->inst;
	struct dist_query		*q;
	long				*local;
	int				 o, nq = 0, i, rv = -1;

	q = calloc(2 * (size_t)inst->noffers + 1, sizeof *q);
	local = calloc(inst->noffers + 1, sizeof *local);
	if (q == NULL || local == NULL)
		goto done;
	memcpy(local, n, inst->noffers * sizeof *n);
	if (dist_sum_long(lg->comm, n, inst->noffers) != 0)
		goto done;
	for (o = 0; o < inst->noffers; o++) {
		if (!lg->active[o] || n[o] <= lg->limit[o])
			continue;
		for (i = 0; i < 2; i++) {
			q[nq].v = lg->bucket + base[o];
			q[nq].n = local[o];
			/* K == 0: the largest, twice. */
			q[nq++].k = lg->limit[o] > 0 ? lg->limit[o] - 1 + i : 0;
		}
	}
	if (dist_select(lg->comm, q, nq) != 0)
		goto done;
	for (o = 0, i = 0; o < inst->noffers; o++) {
		if (!lg->active[o] || n[o] <= lg->limit[o])
			continue;
		lagrange_target_set(lg, o, q[i].value, q[i + 1].value);
		i += 2;
	}
	rv = 0;
done:
	free(q);
	free(local);
	return rv;
}

/*
 * Offer o's critical prices, left by the sweep in one segment per shard,
 * gathered into one run at its bucket's start (bucket_n[o] of them), and
 * in one process its target and cutoff from them. Only o's run and
 * fields are written: offers go to threads in any order
 * (LAGRANGE_TARGETS) and each comes out the same.
 */
static void
lagrange_target_offer(struct lagrange *lg, int o)
{
	int64_t	base, from, n = 0;
	int	s;

	if (!lg->active[o])
		return;
	base = lg->bstart[(int64_t)o * lg->nshards];
	for (s = 0; s < lg->nshards; s++) {
		from = lg->bstart[(int64_t)o * lg->nshards + s];
		if (from != base + n)
			memmove(lg->bucket + base + n, lg->bucket + from,
			    lg->shard[s].bcnt[o] * sizeof *lg->bucket);
		n += lg->shard[s].bcnt[o];
	}
	lg->bucket_n[o] = n;
	if (!lg->dist)
		lagrange_target_one(lg, o, lg->bucket + base, n);
}

/*
 * From the last dual sweep: per offer, the price where demand meets the
 * limit (target), and the repair cutoff (the limit-th largest critical
 * price) where demand exceeds it; the offers' selections on the shards'
 * threads. 0 or -1 (out of memory).
 */
static int
lagrange_targets(struct lagrange *lg)
{
	const struct solver_instance	*inst = lg->inst;
	int				 o, s, rv = -1;
	int64_t				*base = NULL;
	long				*demand = NULL, *count = NULL;

	demand = calloc(inst->noffers + 1, sizeof *demand);
	count = calloc(inst->noffers + 1, sizeof *count);
	base = calloc(inst->noffers + 1, sizeof *base);
	if (demand == NULL || count == NULL || base == NULL)
		goto done;
	for (o = 0; o < inst->noffers; o++)
		for (s = 0; s < lg->nshards; s++)
			demand[o] += lg->shard[s].demand[o];
	if (dist_sum_long(lg->comm, demand, inst->noffers) != 0)
		goto done;
	for (o = 0; o < inst->noffers; o++) {
		lg->over[o] = lg->limit[o] >= 0 ? demand[o] - lg->limit[o] : 0;
		lg->target[o] = 0;
		lg->cutoff[o] = -HUGE_VAL;
		lg->bucket_n[o] = 0;
	}
	atomic_store(&lg->next_offer, 0);
	if (lagrange_sweep(lg, LAGRANGE_TARGETS) != 0)
		goto done;
	for (o = 0; o < inst->noffers; o++) {
		base[o] = lg->bstart[(int64_t)o * lg->nshards];
		count[o] = (long)lg->bucket_n[o];
	}
	rv = lg->dist ? lagrange_targets_dist(lg, count, base) : 0;
done:
	free(demand);
	free(count);
	free(base);
	return rv;
}

/* Candidates by decreasing net value, then by pair (deterministic). */
int
lagrange_cand_cmp(const void *a, const void *b)
{
	const struct lagrange_cand	*x = a, *y = b;

	if (x->w != y->w)
		return x->w > y->w ? -1 : 1;
	if (x->customer != y->customer)
		return x->customer < y->customer ? -1 : 1;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* A candidate's pair as a key in pair order: customer, then at. */
static uint64_t
lagrange_cand_pair(const struct lagrange_cand *c)
{
	return (uint64_t)(uint32_t)c->customer << 16 | c->at;
}

/* A candidate's value as a key whose ascending order is w's descending. */
static uint32_t
lagrange_cand_key(float w)
{
	uint32_t	 u;

	memcpy(&u, &w, sizeof u);
	u = u & 0x80000000u ? ~u : u | 0x80000000u;	/* ascending as w */
	return ~u;
}

/*
 * One stable counting pass of an LSD radix sort: from into to by the byte
 * at shift of the pair (pair 1) or of w's key (pair 0). Skipped (returns 0)
 * when every candidate has the same byte; else 1 (to holds the order).
 */
static int
lagrange_cand_pass(const struct lagrange_cand *from, struct lagrange_cand *to,
    int64_t n, int pair, int shift)
{
	int64_t		 count[256], pos = 0, i;
	unsigned	 b;

	memset(count, 0, sizeof count);
	for (i = 0; i < n; i++) {
		b = pair ? (unsigned)(lagrange_cand_pair(&from[i]) >> shift) &
		    0xff : (lagrange_cand_key(from[i].w) >> shift) & 0xff;
		count[b]++;
	}
	for (b = 0; b < 256; b++) {
		if (count[b] == n)
			return 0;
		i = count[b];
		count[b] = pos;
		pos += i;
	}
	for (i = 0; i < n; i++) {
		b = pair ? (unsigned)(lagrange_cand_pair(&from[i]) >> shift) &
		    0xff : (lagrange_cand_key(from[i].w) >> shift) & 0xff;
		to[count[b]++] = from[i];
	}
	return 1;
}

/*
 * Sort the refill's candidates as lagrange_cand_cmp orders them (w
 * descending, then pair ascending: a total order, pairs being distinct),
 * by an LSD radix sort: the pair's bytes, then w's, each pass stable. Six
 * million candidates: a fifth of qsort's time, the same memory (glibc's
 * qsort is a merge sort with a buffer as large). qsort when there is no
 * buffer. Candidates already in pair order (as lagrange_queue_shard
 * makes them) skip the pair's passes: half the sort.
 */
void
lagrange_cand_sort(struct lagrange_cand *c, int64_t n)
{
	struct lagrange_cand	*buf, *from = c, *to, *t;
	uint64_t		 maxpair = 0, key, last = 0;
	int			 shift, ascending = 1;

	if (n < 2)
		return;
	if ((buf = malloc((size_t)n * sizeof *buf)) == NULL) {
		qsort(c, n, sizeof *c, lagrange_cand_cmp);
		return;
	}
	to = buf;
	for (int64_t i = 0; i < n; i++) {
		key = lagrange_cand_pair(&c[i]);
		if (key > maxpair)
			maxpair = key;
		if (i > 0 && key <= last)
			ascending = 0;
		last = key;
	}
	if (ascending)
		maxpair = 0;
	for (shift = 0; shift < 64 && (maxpair >> shift) != 0; shift += 8)
		if (lagrange_cand_pass(from, to, n, 1, shift)) {
			t = from;
			from = to;
			to = t;
		}
	for (shift = 0; shift < 32; shift += 8)
		if (lagrange_cand_pass(from, to, n, 0, shift)) {
			t = from;
			from = to;
			to = t;
		}
	if (from != c)
		memcpy(c, from, (size_t)n * sizeof *c);
	free(buf);
}

/*
 * Queue customer c's unchosen pairs that could still be sent into its
 * shard's list: all of them, or with priced only those of offers with a
 * price and sends left. 0 or -1 (out of memory).
 */
static int
lagrange_queue(struct lagrange_shard *sh, int c, const long *left, int priced)
{
	struct lagrange			*lg = sh->lg;
	const struct solver_instance	*inst = lg->inst;
	struct lagrange_cand		*nc;
	const struct solver_offer	*of;
	int64_t				 k, n;
	double				 w;
	int				 o, n_all = 0, cat;
	int				 nch = inst->nchannels;
	int				 catg = nch + inst->ncampaigns;
	int				*sent = sh->room + lg->ngroups;

	/* Sends per group now: a pair whose group is full cannot go in. */
	for (k = inst->pair_start[c]; k < inst->pair_start[c + 1]; k++) {
		of = &inst->offers[inst->pair_offer[k]];
		sent[of->channel] = sent[nch + of->campaign] = 0;
		if ((cat = solver_offer_category(inst,
		    inst->pair_offer[k])) >= 0)
			sent[catg + cat] = 0;
	}
	for (k = inst->pair_start[c]; k < inst->pair_start[c + 1]; k++) {
		if (!lg->plan[k])
			continue;
		of = &inst->offers[inst->pair_offer[k]];
		n_all++;
		sent[of->channel]++;
		sent[nch + of->campaign]++;
		if ((cat = solver_offer_category(inst,
		    inst->pair_offer[k])) >= 0)
			sent[catg + cat]++;
	}
	if (n_all >= inst->room_all[c])
		return 0;
	for (k = inst->pair_start[c]; k < inst->pair_start[c + 1]; k++) {
		o = inst->pair_offer[k];
		of = &inst->offers[o];
		if (lg->plan[k] || left[o] == 0 ||
		    (priced && (left[o] < 0 || lg->pi[o] <= 0)))
			continue;
		if (sent[of->channel] >= inst->room_channel[(size_t)c * nch +
		    of->channel] ||
		    sent[nch + of->campaign] >= inst->room_campaign[(size_t)c *
		    inst->ncampaigns + of->campaign])
			continue;
		if ((cat = solver_offer_category(inst, o)) >= 0 &&
		    sent[catg + cat] >= inst->room_category[(size_t)c *
		    inst->ncategories + cat])
			continue;
		if ((w = solver_pair_value(inst, k)) <= 0)
			continue;
		if (sh->ncand == sh->cand_alloc) {
			n = sh->cand_alloc > 0 ? 2 * sh->cand_alloc : 4096;
			if ((nc = realloc(sh->cand, n * sizeof *nc)) == NULL)
				return -1;
			sh->cand = nc;
			sh->cand_alloc = n;
		}
		nc = &sh->cand[sh->ncand++];
		nc->w = (float)w;
		nc->customer = c;
		nc->offer = (uint16_t)o;
		nc->at = (uint16_t)(k - inst->pair_start[c]);
	}
	return 0;
}

/*
 * 1 if customer c has room in all and an unchosen pair of an offer with a
 * price and sends left.
 */
static int
lagrange_wants(const struct lagrange *lg, int c, const long *left)
{
	const struct solver_instance	*inst = lg->inst;
	int64_t				 k;
	int				 o, want = 0, n_all = 0;

	for (k = inst->pair_start[c]; k < inst->pair_start[c + 1]; k++) {
		o = inst->pair_offer[k];
		n_all += lg->plan[k];
		if (!lg->plan[k] && left[o] > 0 && lg->pi[o] > 0)
			want = 1;
	}
	return want && n_all < inst->room_all[c];
}

/*
 * The refill's candidates of shard sh's customers (LAGRANGE_QUEUE), one
 * customer at a time in customer order, so the list is in pair order:
 * every unchosen pair of a customer who lost a send (touched, in customer
 * order too), and with queue_any the priced pairs of everyone else who
 * could take one; then sorted. sh->error on out of memory.
 */
static void
lagrange_queue_shard(struct lagrange_shard *sh)
{
	struct lagrange	*lg = sh->lg;
	const long	*left = lg->queue_left;
	int		 c, t = 0, rv = 0;

	for (c = sh->first; c < sh->last && rv == 0; c++) {
		if (t < sh->ntouched && sh->touched[t] == c) {
			t++;
			rv = lagrange_queue(sh, c, left, 0);
		} else if (lg->queue_any && lagrange_wants(lg, c, left))
			rv = lagrange_queue(sh, c, left, 1);
	}
	if (rv != 0) {
		sh->error = 1;
		return;
	}
	lagrange_cand_sort(sh->cand, sh->ncand);
}

/* 1 if customer c has room for one more send of pair k's offer. */
static int
lagrange_fits(const struct lagrange *lg, int c, int64_t pair)
{
	const struct solver_instance	*inst = lg->inst;
	const struct solver_offer	*of, *want;
	int64_t				 k;
	int				 n_all = 0, n_ch = 0, n_cp = 0, n_cat = 0;
	int				 cat;

	want = &inst->offers[inst->pair_offer[pair]];
	cat = solver_offer_category(inst, inst->pair_offer[pair]);
	for (k = inst->pair_start[c]; k < inst->pair_start[c + 1]; k++) {
		if (!lg->plan[k])
			continue;
		of = &inst->offers[inst->pair_offer[k]];
		n_all++;
		n_ch += of->channel == want->channel;
		n_cp += of->campaign == want->campaign;
		n_cat += cat >= 0 &&
		    solver_offer_category(inst, inst->pair_offer[k]) == cat;
	}
	return n_all < inst->room_all[c] &&
	    n_ch < inst->room_channel[(size_t)c * inst->nchannels +
	    want->channel] &&
	    n_cp < inst->room_campaign[(size_t)c * inst->ncampaigns +
	    want->campaign] &&
	    (cat < 0 || n_cat < inst->room_category[(size_t)c *
	    inst->ncategories + cat]);
}

/*
 * The next candidate in lagrange_cand_cmp's order over the shards' sorted
 * lists (at: each list's position, advanced), or NULL when none is left.
 */
static const struct lagrange_cand *
lagrange_cand_next(const struct lagrange *lg, int64_t *at)
{
	const struct lagrange_cand	*best = NULL, *x;
	int				 s, from = -1;

	for (s = 0; s < lg->nshards; s++) {
		if (at[s] >= lg->shard[s].ncand)
			continue;
		x = &lg->shard[s].cand[at[s]];
		if (best == NULL || lagrange_cand_cmp(x, best) < 0) {
			best = x;
			from = s;
		}
	}
	if (from >= 0)
		at[from]++;
	return best;
}

/*
 * Fill freed room and unused sends in value order over all customers at
 * once (not customer by customer, which hands the last sends of an offer
 * to whoever comes first): the queued pairs, best net value first, each
 * taken if its offer has sends left and its customer has room. left is
 * updated. Returns 0 or -1 (out of memory).
 *
 * lagrange_queue let in only pairs with room at the plan of its call, and
 * no plan changes between it and here but what this loop adds: a
 * customer's room is counted again (lagrange_fits) only once it gained a
 * send here (grew).
 */
static int
lagrange_refill(struct lagrange *lg, long *left)
{
	const struct solver_instance	*inst = lg->inst;
	const struct lagrange_cand	*cd;
	uint8_t				*grew;
	int64_t				*at, k;
	int				 o, s;

	grew = calloc((size_t)inst->ncustomers + 1, 1);
	at = calloc(lg->nshards, sizeof *at);
	if (grew == NULL || at == NULL) {
		free(grew);
		free(at);
		return -1;
	}
	while ((cd = lagrange_cand_next(lg, at)) != NULL) {
		o = cd->offer;
		if (left[o] == 0)
			continue;
		k = inst->pair_start[cd->customer] + cd->at;
		if (grew[cd->customer] && !lagrange_fits(lg, cd->customer, k))
			continue;
		grew[cd->customer] = 1;
		lg->plan[k] = 1;
		lg->plan_objective += solver_pair_value(inst, k);
		lg->usage[o]++;
		if (left[o] > 0)
			left[o]--;
	}
	for (s = 0; s < lg->nshards; s++)
		lg->shard[s].ncand = 0;
	free(grew);
	free(at);
	return 0;
}

/* The customer of pair k (binary search of pair_start). */
static int
lagrange_owner(const struct lagrange *lg, int64_t k)
{
	const int64_t	*ps = lg->inst->pair_start;
	int		 lo = 0, hi = lg->inst->ncustomers - 1, mid;

	while (lo < hi) {
		mid = lo + (hi - lo + 1) / 2;
		if (ps[mid] <= k)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/*
 * Net value of customer c's best unchosen pair that fits its room and
 * whose offer has sends left (left nonzero), or 0.
 */
static double
lagrange_best_free(const struct lagrange *lg, int c, const long *left)
{
	const struct solver_instance	*inst = lg->inst;
	int64_t				 k;
	double				 w, best = 0;

	for (k = inst->pair_start[c]; k < inst->pair_start[c + 1]; k++) {
		if (lg->plan[k] || left[inst->pair_offer[k]] == 0)
			continue;
		if ((w = solver_pair_value(inst, k)) > best &&
		    lagrange_fits(lg, c, k))
			best = w;
	}
	return best;
}

/*
 * Give customer c its best unchosen pair that fits its room and whose
 * offer has sends left; returns the pair's net value, or 0 if none.
 */
static double
lagrange_take_free(struct lagrange *lg, int c, long *left)
{
	const struct solver_instance	*inst = lg->inst;
	int64_t				 k, best_k = -1;
	double				 w, best = 0;
	int				 o;

	for (k = inst->pair_start[c]; k < inst->pair_start[c + 1]; k++) {
		if (lg->plan[k] || left[inst->pair_offer[k]] == 0)
			continue;
		if ((w = solver_pair_value(inst, k)) > best &&
		    lagrange_fits(lg, c, k)) {
			best = w;
			best_k = k;
		}
	}
	if (best_k < 0)
		return 0;
	o = inst->pair_offer[best_k];
	lg->plan[best_k] = 1;
	lg->usage[o]++;
	if (left[o] > 0)
		left[o]--;
	return best;
}

/*
 * The value of handing customer c pair k (net value w) by taking the send
 * of one of its offer's weakest holders, with c dropping kd first (kd
 * below c's pairs: nothing dropped), the holder refilling from offers
 * with sends left; the best holder's pair into *kh_best, or -1.
 */
static double
lagrange_exchange_holder(struct lagrange *lg, int c, int64_t k, double w,
    int64_t kd, const long *left, int64_t *kh_best)
{
	const struct solver_instance	*inst = lg->inst;
	int				 j, h, o = inst->pair_offer[k];
	int64_t				 kh, first = inst->pair_start[c];
	double				 delta, best = -HUGE_VAL;

	*kh_best = -1;
	for (j = 0; j < lg->nshards * LAGRANGE_HOLDERS; j++) {
		kh = lg->shard[j / LAGRANGE_HOLDERS].hold_pair[(int64_t)o *
		    LAGRANGE_HOLDERS + j % LAGRANGE_HOLDERS];
		if (kh < 0 || !lg->plan[kh])
			continue;
		h = lagrange_owner(lg, kh);
		if (h == c)
			continue;
		lg->plan[kh] = 0;
		delta = w - solver_pair_value(inst, kh) +
		    lagrange_best_free(lg, h, left);
		lg->plan[kh] = 1;
		if (kd >= first)
			delta -= solver_pair_value(inst, kd);
		if (delta > best) {
			best = delta;
			*kh_best = kh;
		}
	}
	return best;
}

/*
 * Customer c's best exchange (see lagrange_exchange): the pair it gets
 * (*bk, -1 if no exchange gains more than best), its own send it drops
 * (*bd, below its pairs for none) and the holder's pair it takes (*bkh).
 */
static void
lagrange_exchange_find(struct lagrange *lg, int c, const long *left,
    double best, int64_t *bk, int64_t *bd, int64_t *bkh)
{
	const struct solver_instance	*inst = lg->inst;
	int64_t				 k, kd, kh, first = inst->pair_start[c];
	double				 w, delta;
	int				 o, fit;

	*bk = *bd = *bkh = -1;
	for (k = first; k < inst->pair_start[c + 1]; k++) {
		o = inst->pair_offer[k];
		if (lg->plan[k] || left[o] != 0 ||
		    (w = solver_pair_value(inst, k)) <= 0)
			continue;
		/* kd: the own send dropped; first - 1: none. */
		for (kd = first - 1; kd < inst->pair_start[c + 1]; kd++) {
			if (kd >= first && !lg->plan[kd])
				continue;
			if (kd >= first)
				lg->plan[kd] = 0;
			fit = lagrange_fits(lg, c, k);
			if (kd >= first)
				lg->plan[kd] = 1;
			if (!fit)
				continue;
			delta = lagrange_exchange_holder(lg, c, k, w, kd, left,
			    &kh);
			if (kh >= 0 && delta > best) {
				best = delta;
				*bk = k;
				*bd = kd;
				*bkh = kh;
			}
		}
	}
}

/* Apply an exchange lagrange_exchange_find chose for customer c. */
static void
lagrange_exchange_apply(struct lagrange *lg, int c, int64_t bk, int64_t bd,
    int64_t bkh, long *left)
{
	const struct solver_instance	*inst = lg->inst;
	int				 o;

	if (bd >= inst->pair_start[c]) {
		o = inst->pair_offer[bd];
		lg->plan[bd] = 0;
		lg->usage[o]--;
		if (left[o] >= 0)
			left[o]++;
		lg->plan_objective -= solver_pair_value(inst, bd);
	}
	lg->plan[bkh] = 0;
	lg->plan[bk] = 1;
	lg->plan_objective += solver_pair_value(inst, bk) -
	    solver_pair_value(inst, bkh);
	/* The holder's refill is exact now. */
	lg->plan_objective += lagrange_take_free(lg, lagrange_owner(lg, bkh),
	    left);
}

/*
 * After the refill: a customer who lost a send may want, as its next best
 * choice, an offer with no sends left, which the refill cannot give, and
 * settles for much less. Try handing it the send of one of that offer's
 * weakest holders (dropping one of its own sends if its room needs it),
 * the holder refilling from offers with sends left; keep each exchange
 * that raises the plan's value. left is updated. Distributed, each rank
 * exchanges among its own customers (and holders) within its share of
 * the sends left. 0 or -1 (out of memory).
 */
static int
lagrange_exchange(struct lagrange *lg, long *left)
{
	const struct solver_instance	*inst = lg->inst;
	int				 s, i, c;
	long				 ntouched[2] = { 0, 0 };
	int64_t				 bk, bd, bkh;

	for (s = 0; s < lg->nshards; s++)
		ntouched[0] += lg->shard[s].ntouched;
	ntouched[1] = inst->ncustomers;
	if (dist_sum_long(lg->comm, ntouched, 2) != 0)
		return -1;
	/* Far from the prices' fixed point the cuts are many and crude. */
	if (ntouched[0] > 64 + ntouched[1] / 100)
		return 0;
	for (s = 0; s < lg->nshards; s++) {
		for (i = 0; i < lg->shard[s].ntouched; i++) {
			c = lg->shard[s].touched[i];
			lagrange_exchange_find(lg, c, left, 1e-9 *
			    (1 + fabs(lg->plan_objective)), &bk, &bd, &bkh);
			if (bk >= 0)
				lagrange_exchange_apply(lg, c, bk, bd, bkh,
				    left);
		}
	}
	return 0;
}

/* Fairness moves by cost per unit of the row, then by rank and pair. */
static int
lagrange_fair_cmp(const void *a, const void *b)
{
	const struct lagrange_fair_cand	*x = a, *y = b;

	if (x->cost != y->cost)
		return x->cost < y->cost ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->pair < y->pair ? -1 : x->pair > y->pair;
}

/*
 * The plan's sends per fairness row (seg, nfair + 1 entries) and in all,
 * over every rank. 0 or -1.
 */
static int
lagrange_fair_tally(const struct lagrange *lg, long *seg, long *total)
{
	int	nf = lg->inst->nfair;

	solver_fair_tally(lg->inst, lg->plan, seg, total);
	seg[nf] = *total;
	if (dist_sum_long(lg->comm, seg, nf + 1) != 0)
		return -1;
	*total = seg[nf];
	return 0;
}

/* The fairness row that falls shortest and does not hold, or -1. */
static int
lagrange_fair_worst(const struct lagrange *lg, const long *seg, long total)
{
	const struct solver_instance	*inst = lg->inst;
	int				 s, worst = -1;
	double				 h, hw = 0;

	for (s = 0; s < inst->nfair; s++) {
		h = solver_fair_row(inst, s, seg[s], total);
		if (!solver_fair_holds(inst, s, seg[s], total) &&
		    (worst < 0 || h < hw)) {
			worst = s;
			hw = h;
		}
	}
	return worst;
}

/* Room in *fc (*alloc entries) for n + 2 moves; 0 or -1. */
static int
lagrange_fair_grow(struct lagrange_fair_cand **fc, int64_t *alloc,
    int64_t n)
{
	struct lagrange_fair_cand	*nf;
	int64_t				 na;

	if (n + 2 <= *alloc)
		return 0;
	na = *alloc > 0 ? 2 * *alloc : 4096;
	while (na < n + 2)
		na *= 2;
	if ((nf = realloc(*fc, na * sizeof *nf)) == NULL)
		return -1;
	*fc = nf;
	*alloc = na;
	return 0;
}

/* Note a move of customer c's pair k at cost into fc[*n]. */
static void
lagrange_fair_note(const struct lagrange *lg, struct lagrange_fair_cand *fc,
    int64_t *n, double cost, int c, int64_t k, int add)
{
	fc[*n].cost = cost;
	fc[*n].pair = k;
	fc[*n].customer = c;
	fc[*n].add = add;
	fc[*n].offer = lg->inst->pair_offer[k];
	fc[*n].rank = lg->dist ? lg->comm->rank : 0;
	fc[*n].member = lg->inst->fair_member[c];
	(*n)++;
}

/*
 * This rank's moves for row worst (alpha: what a member's send adds to
 * it, beta what another's drop adds) into *fc, sorted: every send of a
 * non-member, and each member's best pair that fits. The count, or -1.
 */
static int64_t
lagrange_fair_cands(struct lagrange *lg, int worst, double alpha, double beta,
    const long *left, struct lagrange_fair_cand **fc, int64_t *alloc)
{
	const struct solver_instance	*inst = lg->inst;
	int64_t				 n = 0, k, best_k;
	int				 c, m;
	double				 w, best;

	for (c = 0; c < inst->ncustomers; c++) {
		m = (inst->fair_member[c] >> worst) & 1;
		for (k = inst->pair_start[c], best_k = -1, best = 0;
		    k < inst->pair_start[c + 1]; k++) {
			if (lagrange_fair_grow(fc, alloc, n) != 0)
				return -1;
			w = solver_pair_value(inst, k);
			if (!m && lg->plan[k] && beta > 0)
				lagrange_fair_note(lg, *fc, &n, w / beta, c, k,
				    0);
			else if (m && !lg->plan[k] && alpha > 0 &&
			    left[inst->pair_offer[k]] != 0 &&
			    (best_k < 0 || w > best) &&
			    lagrange_fits(lg, c, k)) {
				best_k = k;
				best = w;
			}
		}
		if (best_k >= 0)
			lagrange_fair_note(lg, *fc, &n, -best / alpha, c,
			    best_k, 1);
	}
	if (n > 1)
		qsort(*fc, n, sizeof **fc, lagrange_fair_cmp);
	return n;
}

/*
 * Distributed: every rank's cheapest moves that the row's deficit could
 * use (each move adds at least the smaller of alpha and beta; a few more
 * for adds that find no sends left), gathered in order to every rank, so
 * that each takes the same decisions. The count in *fc, or -1.
 */
static int64_t
lagrange_fair_gather(struct lagrange *lg, double deficit, double alpha,
    double beta, struct lagrange_fair_cand **fc, int64_t n)
{
	const struct solver_comm	*comm = lg->comm;
	double				 unit = fmin(alpha > 0 ? alpha : 1,
					    beta > 0 ? beta : 1);
	double				 need = ceil(deficit / unit) + 64;
	size_t				*lens, at = 0;
	void				*all = NULL;
	int64_t				 i, total;
	int				 r;

	if (need < (double)n)
		n = (int64_t)need;
	if ((lens = calloc(comm->size, sizeof *lens)) == NULL)
		return -1;
	if (comm->gather(comm->arg, *fc, n * sizeof **fc, -1, &all,
	    lens) != 0) {
		free(lens);
		return -1;
	}
	free(*fc);
	*fc = all;
	for (r = 0; r < comm->size; r++)
		at += lens[r];
	total = (int64_t)(at / sizeof **fc);
	free(lens);
	for (i = 0; i < total; i++)
		if ((*fc)[i].rank < 0 || (*fc)[i].rank >= comm->size)
			return -1;
	if (total > 1)
		qsort(*fc, total, sizeof **fc, lagrange_fair_cmp);
	return total;
}

/*
 * Apply moves fc[0..n) in order until row worst holds; seg and total (the
 * whole plan's) and left are kept up to date. Distributed, every rank
 * walks the same moves and changes only its own customers' plan: a
 * member's add still fits when it comes (a customer has one add per
 * round, and a drop is never a member's), so no rank has to ask another.
 */
static void
lagrange_fair_apply(struct lagrange *lg, const struct lagrange_fair_cand *fc,
    int64_t n, int worst, long *left, long *seg, long *total)
{
	const struct solver_instance	*inst = lg->inst;
	int64_t				 i, k;
	int				 c, o, t, own;

	for (i = 0; i < n && !solver_fair_holds(inst, worst, seg[worst],
	    *total); i++) {
		k = fc[i].pair;
		c = fc[i].customer;
		o = fc[i].offer;
		own = !lg->dist || fc[i].rank == lg->comm->rank;
		if (fc[i].add) {
			if (left[o] == 0 ||
			    (!lg->dist && !lagrange_fits(lg, c, k)))
				continue;
			if (left[o] > 0)
				left[o]--;
			(*total)++;
		} else {
			if (left[o] >= 0)
				left[o]++;
			(*total)--;
		}
		if (own) {
			lg->plan[k] = (uint8_t)fc[i].add;
			lg->usage[o] += fc[i].add ? 1 : -1;
			lg->plan_objective += (fc[i].add ? 1 : -1) *
			    solver_pair_value(inst, k);
		}
		for (t = 0; t < inst->nfair; t++)
			if ((fc[i].member >> t) & 1)
				seg[t] += fc[i].add ? 1 : -1;
	}
}

/*
 * Bring the plan's fairness rows up, the shortest first: a member of its
 * segment sending one more (its best pair that fits, even of negative
 * value: +(1 - r|s|/N) to the row) or a non-member one fewer (+r|s|/N),
 * cheapest per unit of the row first, until the row holds; a few rounds,
 * as a move can take from another row. 0 when every row holds, 1 when
 * some still does not (the checker then refuses the plan), -1 when out of
 * memory. left (the whole plan's sends left) is updated.
 */
static int
lagrange_fair_fix(struct lagrange *lg, long *left)
{
	const struct solver_instance	*inst = lg->inst;
	struct lagrange_fair_cand	*fc = NULL;
	long				 seg[SOLVER_FAIR_MAX + 1], total;
	int64_t				 n, alloc = 0;
	int				 round, s, worst;
	double				 alpha, beta;

	if (inst->nfair == 0)
		return 0;
	if (lagrange_fair_tally(lg, seg, &total) != 0)
		return -1;
	for (round = 0; round < 4 * inst->nfair + 4; round++) {
		if ((worst = lagrange_fair_worst(lg, seg, total)) < 0) {
			free(fc);
			return 0;
		}
		beta = inst->fair_min_ratio * inst->fair_size[worst] /
		    (double)inst->fair_base;
		alpha = 1 - beta;
		n = lagrange_fair_cands(lg, worst, alpha, beta, left, &fc,
		    &alloc);
		if (n >= 0 && lg->dist) {
			n = lagrange_fair_gather(lg, -solver_fair_row(inst,
			    worst, seg[worst], total), alpha, beta, &fc, n);
			alloc = n;
		}
		if (n < 0) {
			free(fc);
			return -1;
		}
		lagrange_fair_apply(lg, fc, n, worst, left, seg, &total);
	}
	free(fc);
	for (s = 0; s < inst->nfair; s++)
		if (!solver_fair_holds(inst, s, seg[s], total))
			return 1;
	return 0;
}

/*
 * Sends left per offer from the plan's usage (summed over the ranks):
 * limit minus usage, -1 for no limit. 0 or -1.
 */
static int
lagrange_left(struct lagrange *lg, long *left)
{
	int	o, no = lg->inst->noffers;

	memcpy(left, lg->usage, no * sizeof *left);
	if (dist_sum_long(lg->comm, left, no) != 0)
		return -1;
	for (o = 0; o < no; o++)
		left[o] = lg->limit[o] < 0 ? -1 : lg->limit[o] - left[o];
	return 0;
}

/*
 * Drop sends of an offer over its limit (cannot happen: the cutoffs count
 * exactly; stay safe), distributed in rank order.
 */
static void
lagrange_repair_over(struct lagrange *lg, long *left)
{
	const struct solver_instance	*inst = lg->inst;
	int64_t				 k, np = inst->pair_start[inst->ncustomers];
	long				 drop;
	int				 o;

	for (o = 0; o < inst->noffers; o++) {
		if (lg->limit[o] < 0 || left[o] >= 0)
			continue;
		drop = dist_share(lg->comm, lg->usage[o], -left[o]);
		left[o] += lg->dist ? -left[o] : 0;
		for (k = 0; k < np && drop > 0; k++) {
			if (lg->plan[k] && inst->pair_offer[k] == o) {
				lg->plan[k] = 0;
				lg->usage[o]--;
				if (!lg->dist)
					left[o]++;
				drop--;
				lg->plan_objective -= solver_pair_value(inst, k);
			}
		}
	}
}

/*
 * Queue the refill's candidates: customers who lost a send, and, when an
 * offer with a price has sends left (any), everyone with room who could
 * take one; each shard its own customers, on its thread. 0 or -1.
 */
static int
lagrange_repair_queue(struct lagrange *lg, const long *left, int any)
{
	int	s, error = 0;

	lg->queue_left = left;
	lg->queue_any = any;
	for (s = 0; s < lg->nshards; s++)
		lg->shard[s].error = 0;
	if (lagrange_sweep(lg, LAGRANGE_QUEUE) != 0)
		return -1;
	for (s = 0; s < lg->nshards; s++)
		error |= lg->shard[s].error;
	return error ? -1 : 0;
}

/*
 * Distributed refill: this rank's share (quota) of each offer's sends
 * left. Where the ranks' candidates want more than are left, the sends go
 * to the best net values over all ranks (an exact selection; ties in rank
 * order), as the refill of one process would hand them out when no
 * customer's room interferes. 0 or -1.
 */
static int
lagrange_refill_quota(struct lagrange *lg, const long *left, long *quota)
{
	const struct solver_instance	*inst = lg->inst;
	struct dist_query		*q = NULL;
	float				*v = NULL;
	const struct lagrange_shard	*sh;
	long				*cnt, *all, *gt, *eq;
	int64_t				*at = NULL, i, ncand = 0;
	int				 o, s, no = inst->noffers, nq = 0;
	int				 rv = -1;

	for (s = 0; s < lg->nshards; s++)
		ncand += lg->shard[s].ncand;
	cnt = calloc(4 * (size_t)no + 1, sizeof *cnt);
	at = calloc(no + 1, sizeof *at);
	v = calloc(ncand + 1, sizeof *v);
	q = calloc(no + 1, sizeof *q);
	if (cnt == NULL || at == NULL || v == NULL || q == NULL)
		goto done;
	all = cnt + no;
	gt = all + no;
	eq = gt + no;
	/* Candidates' values per offer, one run each. */
	for (s = 0, sh = lg->shard; s < lg->nshards; s++, sh++)
		for (i = 0; i < sh->ncand; i++)
			cnt[sh->cand[i].offer]++;
	for (o = 1; o <= no; o++)
		at[o] = at[o - 1] + cnt[o - 1];
	for (s = 0, sh = lg->shard; s < lg->nshards; s++, sh++)
		for (i = 0; i < sh->ncand; i++)
			v[at[sh->cand[i].offer]++] = sh->cand[i].w;
	memcpy(all, cnt, no * sizeof *all);
	if (dist_sum_long(lg->comm, all, no) != 0)
		goto done;
	for (o = 0; o < no; o++) {
		/* at[o] is the end of o's run; then whether o is contested. */
		q[nq].v = v + at[o] - cnt[o];
		quota[o] = left[o] < 0 ? -1 : left[o] == 0 ? 0 : cnt[o];
		at[o] = left[o] > 0 && all[o] > left[o];
		if (at[o]) {
			q[nq].n = cnt[o];
			q[nq++].k = left[o] - 1;
		}
	}
	if (dist_select(lg->comm, q, nq) != 0)
		goto done;
	for (o = 0, nq = 0; o < no; o++) {
		if (!at[o])
			continue;
		for (i = 0; i < q[nq].n; i++) {
			gt[o] += q[nq].v[i] > q[nq].value;
			eq[o] += q[nq].v[i] == q[nq].value;
		}
		cnt[o] = gt[o];	/* now: the quota before ties */
		nq++;
	}
	memcpy(all, gt, no * sizeof *all);
	if (dist_sum_long(lg->comm, all, no) != 0)
		goto done;
	memcpy(gt, eq, no * sizeof *gt);
	if (dist_exscan_long(lg->comm, gt, no) != 0)
		goto done;
	for (o = 0; o < no; o++) {
		long	need = left[o] - all[o] - gt[o];

		if (at[o])
			quota[o] = cnt[o] + (need <= 0 ? 0 : need < eq[o] ?
			    need : eq[o]);
	}
	rv = 0;
done:
	free(cnt);
	free(at);
	free(v);
	free(q);
	return rv;
}

/*
 * Distributed: the refill within this rank's quota, then the exchange
 * within its share of what is left, the whole plan's sends left after
 * each. 0 or -1.
 */
static int
lagrange_repair_dist(struct lagrange *lg, long *left)
{
	const struct solver_comm	*comm = lg->comm;
	long				*mine;
	int				 o, no = lg->inst->noffers, rv = -1;

	if ((mine = calloc(no + 1, sizeof *mine)) == NULL)
		return -1;
	if (lagrange_refill_quota(lg, left, mine) != 0 ||
	    lagrange_refill(lg, mine) != 0 || lagrange_left(lg, left) != 0)
		goto done;
	for (o = 0; o < no; o++)
		mine[o] = left[o] < 0 ? -1 : left[o] / comm->size +
		    (comm->rank < left[o] % comm->size);
	if (lagrange_exchange(lg, mine) != 0 || lagrange_left(lg, left) != 0)
		goto done;
	rv = 0;
done:
	free(mine);
	return rv;
}

/*
 * A feasible plan at the prices of the last dual sweep: cut over-demanded
 * offers, then fill freed room and unused sends in value order, then meet
 * the fairness rows. Returns 0 or -1.
 */
static int
lagrange_repair(struct lagrange *lg)
{
	const struct solver_instance	*inst = lg->inst;
	long				*left;
	int				 o, s, any = 0, rv;

	if (lagrange_sweep(lg, LAGRANGE_REPAIR) != 0)
		return -1;
	if ((left = calloc(inst->noffers + 1, sizeof *left)) == NULL)
		return -1;
	lg->plan_objective = 0;
	for (s = 0; s < lg->nshards; s++)
		lg->plan_objective += lg->shard[s].objective;
	for (o = 0; o < inst->noffers; o++) {
		lg->usage[o] = 0;
		for (s = 0; s < lg->nshards; s++)
			lg->usage[o] += lg->shard[s].demand[o];
	}
	if (lagrange_left(lg, left) != 0)
		goto nomem;
	lagrange_repair_over(lg, left);
	for (o = 0; o < inst->noffers; o++)
		if (lg->limit[o] >= 0 && left[o] > 0 && lg->pi[o] > 0)
			any = 1;
	if (lagrange_repair_queue(lg, left, any) != 0)
		goto nomem;
	if (lg->dist) {
		if (lagrange_repair_dist(lg, left) != 0)
			goto nomem;
	} else {
		if (lagrange_refill(lg, left) != 0)
			goto nomem;
		lagrange_exchange(lg, left);
	}
	if ((rv = lagrange_fair_fix(lg, left)) < 0)
		goto nomem;
	if (rv > 0)
		solver_log(lg->opts->log, lg->opts->arg, "repair: the fairness "
		    "rows cannot all be met from this plan");
	if (dist_sum_double(lg->comm, &lg->plan_objective, 1) != 0)
		goto nomem;
	free(left);
	return 0;

nomem:
	for (s = 0; s < lg->nshards; s++)
		lg->shard[s].ncand = 0;
	free(left);
	return -1;
}

/*
 * The want customers nearest a price threshold (the least scores) into
 * list, in customer order; how many, or -1. Distributed, the want least
 * over every rank (ties in rank order).
 */
static int
lagrange_polish_pick(struct lagrange *lg, int want, int *list)
{
	const struct solver_instance	*inst = lg->inst;
	struct dist_query		 q;
	float				*tmp, thr;
	long				 cnt[2] = { 0, 0 }, eq;
	int				 c, n = 0, N = inst->ncustomers;

	if ((tmp = calloc(N + 1, sizeof *tmp)) == NULL)
		return -1;
	if (lg->dist && want < lg->ncustomers_all) {
		q.v = lg->score;
		q.n = N;
		q.k = lg->ncustomers_all - want;
		if (dist_select(lg->comm, &q, 1) != 0) {
			free(tmp);
			return -1;
		}
		thr = q.value;
		for (c = 0; c < N; c++) {
			cnt[0] += lg->score[c] < thr;
			cnt[1] += lg->score[c] == thr;
		}
		eq = cnt[1];
		if (dist_sum_long(lg->comm, cnt, 1) != 0) {
			free(tmp);
			return -1;
		}
		eq = dist_share(lg->comm, eq, want - cnt[0]);
		for (c = 0; c < N; c++)
			if (lg->score[c] < thr || (lg->score[c] == thr &&
			    eq-- > 0))
				list[n++] = c;
		free(tmp);
		return n;
	}
	if (want < N) {
		memcpy(tmp, lg->score, N * sizeof *tmp);
		/* The want-th least score. */
		thr = lagrange_select(tmp, N, N - want);
	} else
		thr = HUGE_VALF;
	for (c = 0; c < N && n < want; c++)
		if (lg->score[c] <= thr)
			list[n++] = c;
	free(tmp);
	return n;
}

/*
 * For the polish of list[0..n): sends left per offer once everyone else's
 * are counted (left), what everyone else puts into each fairness row
 * (fixed), and the list's own plan value (*before), over every rank.
 * 0 or -1.
 */
static int
lagrange_polish_fixed(struct lagrange *lg, const int *list, int n,
    long *left, double *fixed, double *before)
{
	const struct solver_instance	*inst = lg->inst;
	long				 seg[SOLVER_FAIR_MAX + 1], total, sent;
	double				 own[SOLVER_FAIR_MAX];
	int				 i, c, o;
	int64_t				 k;

	*before = 0;
	memcpy(left, lg->usage, inst->noffers * sizeof *left);
	for (i = 0; i < n; i++) {
		c = list[i];
		for (k = inst->pair_start[c]; k < inst->pair_start[c + 1];
		    k++) {
			if (lg->plan[k]) {
				left[inst->pair_offer[k]]--;
				*before += solver_pair_value(inst, k);
			}
		}
	}
	if (dist_sum_long(lg->comm, left, inst->noffers) != 0 ||
	    dist_sum_double(lg->comm, before, 1) != 0)
		return -1;
	for (o = 0; o < inst->noffers; o++)
		left[o] = lg->limit[o] < 0 ? -1 : lg->limit[o] - left[o];
	if (inst->nfair == 0)
		return 0;
	if (lagrange_fair_tally(lg, seg, &total) != 0)
		return -1;
	for (o = 0; o < inst->nfair; o++) {
		fixed[o] = solver_fair_row(inst, o, seg[o], total);
		own[o] = 0;
	}
	for (i = 0; i < n; i++) {
		c = list[i];
		sent = 0;
		for (k = inst->pair_start[c]; k < inst->pair_start[c + 1]; k++)
			sent += lg->plan[k];
		for (o = 0; sent > 0 && o < inst->nfair; o++) {
			if (lg->dist)
				own[o] += sent * solver_fair_coef(inst, o, c);
			else
				fixed[o] -= sent * solver_fair_coef(inst, o, c);
		}
	}
	if (!lg->dist)
		return 0;
	if (dist_sum_double(lg->comm, own, inst->nfair) != 0)
		return -1;
	for (o = 0; o < inst->nfair; o++)
		fixed[o] -= own[o];
	return 0;
}

/*
 * Distributed polish: list[0..n) of every rank gathered on rank 0 and
 * solved there as job says; the plan back into each rank's lg->spare and
 * rank 0's found, objective and bound into job on every rank. 0 or -1.
 */
static int
lagrange_polish_gathered(struct lagrange *lg, struct exact_job *job,
    const int *list, int n, char **cause)
{
	struct solver_instance	*sub = NULL;
	uint8_t			*sub_plan = NULL, *sub_sel = NULL;
	double			 out[4] = { 0, 0, 0, 0 };
	int			 st = -1;

	if (dist_gather(lg->inst, lg->comm, list, n, lg->plan, &sub,
	    &sub_plan, cause) == 0 && lg->comm->rank == 0) {
		if ((sub_sel = calloc(sub->pair_start[sub->ncustomers] + 1,
		    1)) == NULL)
			solver_cause(cause, "out of memory");
		else {
			job->inst = sub;
			job->customers = NULL;
			job->ncustomers = sub->ncustomers;
			job->start = sub_plan;
			job->selected = sub_sel;
			st = exact_solve(job, cause);
			job->inst = lg->inst;
			out[0] = job->found;
			out[1] = job->objective;
			out[2] = job->bound;
			out[3] = job->optimal;
		}
	}
	if (dist_scatter(lg->inst, lg->comm, list, n, sub_sel,
	    lg->comm->rank == 0 ? st : 0, lg->spare) != 0) {
		if (lg->comm->rank != 0)
			solver_cause(cause, "the polish failed on rank 0");
		st = -1;
	} else {
		st = lg->comm->bcast(lg->comm->arg, out, sizeof out, 0);
		job->found = (int)out[0];
		job->objective = out[1];
		job->bound = out[2];
		job->optimal = (int)out[3];
	}
	solver_instance_free(sub);
	free(sub_plan);
	free(sub_sel);
	return st;
}

/*
 * Make the polished plan in lg->spare (of value after, before the list's
 * value before) the plan and the result when it is better and feasible;
 * 1 if it was, else 0.
 */
static int
lagrange_polish_adopt(struct lagrange *lg, struct solver_result *res,
    double before, double after)
{
	const struct solver_instance	*inst = lg->inst;
	int64_t				 k, np = inst->pair_start[inst->ncustomers];
	double				 obj;
	uint8_t				*swap;
	char				*why = NULL;
	int				 o;

	if (!(after > before + 1e-9 * (1 + fabs(before))))
		return 0;
	if (dist_check(inst, lg->comm, lg->spare, &obj, &why) != 0) {
		if (why != NULL)
			solver_log(lg->opts->log, lg->opts->arg,
			    "polish plan rejected: %s", why);
		free(why);
		return 0;
	}
	swap = lg->plan;
	lg->plan = lg->spare;
	lg->spare = swap;
	lg->plan_objective = obj;
	for (o = 0; o < inst->noffers; o++)
		lg->usage[o] = 0;
	for (k = 0; k < np; k++)
		if (lg->plan[k])
			lg->usage[inst->pair_offer[k]]++;
	memcpy(res->selected, lg->plan, np);
	res->objective = obj;
	res->polish_improved = 1;
	return 1;
}

/*
 * Polish: the want customers nearest a price threshold as one GLPK MIP
 * (solved to mip_gap) with everyone else fixed. When that is better, it is
 * the plan and the result (res, polish_improved set). If the subset is
 * every customer, *bound may be lowered to GLPK's bound. 1 if the plan
 * improved, 0 if not, -1 with *cause.
 */
static int
lagrange_polish(struct lagrange *lg, struct solver_result *res, int want,
    double mip_gap, double *bound, double time_limit, char **cause)
{
	const struct solver_instance	*inst = lg->inst;
	struct exact_job		 job;
	int				*list = NULL, n, improved = 0, rv;
	long				*left = NULL, all = 0;
	double				 fixed[SOLVER_FAIR_MAX];
	double				 before = 0, after = 0;

	if (want > lg->ncustomers_all)
		want = (int)lg->ncustomers_all;
	list = calloc((want < inst->ncustomers ? want : inst->ncustomers) + 1,
	    sizeof *list);
	left = calloc(inst->noffers + 1, sizeof *left);
	if (list == NULL || left == NULL ||
	    (n = lagrange_polish_pick(lg, want, list)) < 0 ||
	    lagrange_polish_fixed(lg, list, n, left, fixed, &before) != 0) {
		solver_cause(cause, "out of memory");
		goto fail;
	}
	all = n;
	if (dist_sum_long(lg->comm, &all, 1) != 0)
		goto fail;
	memcpy(lg->spare, lg->plan, inst->pair_start[inst->ncustomers]);
	memset(&job, 0, sizeof job);
	job.inst = inst;
	job.customers = list;
	job.ncustomers = n;
	job.limit = left;
	job.start = lg->plan;
	job.fair_fixed = inst->nfair > 0 ? fixed : NULL;
	job.time_limit_s = time_limit;
	job.mip_gap = mip_gap;
	job.log = lg->opts->log;
	job.arg = lg->opts->arg;
	job.selected = lg->spare;
	rv = lg->dist ? lagrange_polish_gathered(lg, &job, list, n, cause) :
	    exact_solve(&job, cause);
	if (rv != 0)
		goto fail;
	if (job.found) {
		after = job.objective;
		if (all == lg->ncustomers_all && job.bound < *bound)
			*bound = job.bound;
		improved = lagrange_polish_adopt(lg, res, before, after);
	}
	solver_log(lg->opts->log, lg->opts->arg, "polish: %ld customers, "
	    "%.6f -> %.6f", all, before, after);
	free(list);
	free(left);
	return improved;

fail:
	free(list);
	free(left);
	return -1;
}

/*
 * Make the current plan the result if it is better than the result's and
 * the independent checker finds it feasible: the run returns the best
 * verified plan it met, wherever it met it (a sweep's repair, the plan
 * rebuilt at the best prices, the polish). res starts as the empty plan.
 * 1 if taken, 0 if not.
 */
static int
lagrange_keep(struct lagrange *lg, struct solver_result *res,
    const char *what)
{
	const struct solver_instance	*inst = lg->inst;
	double				 obj;
	char				*why = NULL;

	if (!(lg->plan_objective > res->objective + 1e-9 *
	    (1 + fabs(res->objective))))
		return 0;
	if (dist_check(inst, lg->comm, lg->plan, &obj, &why) != 0) {
		solver_log(lg->opts->log, lg->opts->arg, "%s plan rejected: %s",
		    what, why != NULL ? why : "out of memory");
		free(why);
		return 0;
	}
	if (!(obj > res->objective))
		return 0;
	memcpy(res->selected, lg->plan, inst->pair_start[inst->ncustomers]);
	res->objective = obj;
	return 1;
}

/*
 * Move the fairness prices after a sweep. L is convex in lambda_s with
 * slope h_s at the sweep's choices, so its minimizer is where the row's
 * value crosses 0: each price moves against the sign of h_s by a step of
 * its own, grown by half while the sign stays and halved when it flips
 * (a bisection that needs no step length from the gap, which the first
 * sweeps overstate by far). Steps start at a tenth of the mean positive
 * net value of a pair, the scale of a shift that changes choices.
 */
static void
lagrange_fair_step(struct lagrange *lg)
{
	const struct solver_instance	*inst = lg->inst;
	double				 h;
	int				 s, dir;

	lg->fair_common = 0;
	for (s = 0; s < inst->nfair; s++) {
		h = lg->fair_h[s];
		dir = h < -0.5 ? 1 : h > 0.5 && lg->lambda[s] > 0 ? -1 : 0;
		if (dir != 0 && dir == -lg->fair_dir[s])
			lg->fair_stepsz[s] *= 0.5;
		else if (dir != 0 && dir == lg->fair_dir[s])
			lg->fair_stepsz[s] *= 1.5;
		if (dir != 0)
			lg->fair_dir[s] = dir;
		lg->lambda[s] = fmax(0, lg->lambda[s] + dir *
		    lg->fair_stepsz[s]);
		lg->fair_common -= lg->lambda[s] * inst->fair_min_ratio *
		    inst->fair_size[s] / (double)inst->fair_base;
	}
}

/* Set the fairness prices (and the shift they give everyone). */
static void
lagrange_fair_set(struct lagrange *lg, const double *lambda)
{
	const struct solver_instance	*inst = lg->inst;
	int				 s;

	lg->fair_common = 0;
	for (s = 0; s < inst->nfair; s++) {
		lg->lambda[s] = lambda[s];
		lg->fair_common -= lg->lambda[s] * inst->fair_min_ratio *
		    inst->fair_size[s] / (double)inst->fair_base;
	}
}

/* Report progress through the options' callback. */
static void
lagrange_progress(struct lagrange *lg, const char *phase, int it,
    double obj, double bound)
{
	struct solver_progress	pr;

	if (lg->opts->progress == NULL)
		return;
	memset(&pr, 0, sizeof pr);
	pr.phase = phase;
	pr.iteration = it;
	pr.objective = obj;
	pr.bound = bound;
	pr.gap = bound > 0 ? (bound - obj) / bound : 0;
	pr.elapsed_s = solver_now() - lg->start;
	lg->opts->progress(lg->opts->arg, &pr);
}

/* Free the working state. */
static void
lagrange_free(struct lagrange *lg)
{
	int	i;

	lagrange_threads_stop(lg);
	if (lg->shard != NULL) {
		for (i = 0; i < lg->nshards; i++) {
			struct lagrange_shard *sh = &lg->shard[i];

			flow_work_free(sh->fw);
			free(sh->sub.r);
			free(sh->sub.t);
			free(sh->sub.ch);
			free(sh->sub.cp);
			free(sh->sub.cat);
			free(sh->sub.sel);
			free(sh->w);
			free(sh->pair);
			free(sh->offer);
			free(sh->room);
			free(sh->demand);
			free(sh->useful);
			free(sh->bcnt);
			free(sh->touched);
			free(sh->hold_pair);
			free(sh->hold_price);
			free(sh->cand);
			free(sh->fair_sends);
		}
	}
	free(lg->lambda);
	free(lg->fair_h);
	free(lg->fair_stepsz);
	free(lg->fair_dir);
	free(lg->shard);
	free(lg->limit);
	free(lg->active);
	free(lg->pi);
	free(lg->target);
	free(lg->step);
	free(lg->last_move);
	free(lg->cutoff);
	free(lg->laminar);
	free(lg->bstart);
	free(lg->bucket);
	free(lg->over);
	free(lg->bucket_n);
	free(lg->plan);
	free(lg->spare);
	free(lg->choice);
	free(lg->switch_price);
	free(lg->score);
	free(lg->usage);
	free(lg->best_pi);
	free(lg->best_lambda);
}

/* How many customer shards (threads): the options', at most 64. */
static int
lagrange_nshards(const struct lagrange *lg)
{
	int	n = lg->opts->threads;
	long	ncpu;

	if (n <= 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		n = ncpu > 0 ? (int)ncpu : 1;
	}
	if (n > 64)
		n = 64;
	if (n > lg->inst->ncustomers)
		n = lg->inst->ncustomers > 0 ? lg->inst->ncustomers : 1;
	return n;
}

/* The per offer, per customer and per pair arrays; 0 or -1. */
static int
lagrange_alloc(struct lagrange *lg)
{
	const struct solver_instance	*inst = lg->inst;
	int				 no = inst->noffers + 1;
	int64_t				 np = inst->pair_start[inst->ncustomers];

	lg->shard = calloc(lg->nshards, sizeof *lg->shard);
	lg->limit = calloc(no, sizeof *lg->limit);
	lg->active = calloc(no, 1);
	lg->pi = calloc(no, sizeof *lg->pi);
	lg->target = calloc(no, sizeof *lg->target);
	lg->step = calloc(no, sizeof *lg->step);
	lg->last_move = calloc(no, sizeof *lg->last_move);
	lg->cutoff = calloc(no, sizeof *lg->cutoff);
	lg->over = calloc(no, sizeof *lg->over);
	lg->bucket_n = calloc(no, sizeof *lg->bucket_n);
	lg->usage = calloc(no, sizeof *lg->usage);
	lg->laminar = calloc(inst->ncustomers + 1, 1);
	lg->score = calloc(inst->ncustomers + 1, sizeof *lg->score);
	lg->plan = calloc(np + 1, 1);
	lg->spare = calloc(np + 1, 1);
	lg->choice = calloc(np + 1, 1);
	lg->switch_price = calloc(np + 1, sizeof *lg->switch_price);
	lg->bstart = calloc((size_t)no * lg->nshards + 1, sizeof *lg->bstart);
	lg->lambda = calloc(inst->nfair + 1, sizeof *lg->lambda);
	lg->fair_h = calloc(inst->nfair + 1, sizeof *lg->fair_h);
	lg->fair_stepsz = calloc(inst->nfair + 1, sizeof *lg->fair_stepsz);
	lg->fair_dir = calloc(inst->nfair + 1, sizeof *lg->fair_dir);
	lg->best_pi = calloc(no, sizeof *lg->best_pi);
	lg->best_lambda = calloc(inst->nfair + 1, sizeof *lg->best_lambda);
	if (lg->lambda == NULL || lg->fair_h == NULL ||
	    lg->fair_stepsz == NULL || lg->fair_dir == NULL ||
	    lg->best_pi == NULL || lg->best_lambda == NULL)
		return -1;
	if (lg->shard == NULL || lg->limit == NULL || lg->active == NULL ||
	    lg->pi == NULL || lg->target == NULL || lg->step == NULL ||
	    lg->last_move == NULL || lg->cutoff == NULL || lg->over == NULL ||
	    lg->bucket_n == NULL ||
	    lg->usage == NULL || lg->laminar == NULL || lg->score == NULL ||
	    lg->plan == NULL || lg->spare == NULL || lg->bstart == NULL ||
	    lg->choice == NULL || lg->switch_price == NULL)
		return -1;
	return 0;
}

/* Shard sh's scratch, for customers first .. last-1; 0 or -1. */
static int
lagrange_shard_alloc(struct lagrange *lg, struct lagrange_shard *sh)
{
	const struct solver_instance	*inst = lg->inst;
	int				 no = inst->noffers + 1;

	sh->lg = lg;
	sh->fw = flow_work_new(inst->noffers, lg->ngroups);
	sh->sub.r = calloc(no, sizeof *sh->sub.r);
	sh->sub.t = calloc(no, sizeof *sh->sub.t);
	sh->sub.ch = calloc(no, sizeof *sh->sub.ch);
	sh->sub.cp = calloc(no, sizeof *sh->sub.cp);
	sh->sub.cat = calloc(no, sizeof *sh->sub.cat);
	sh->sub.sel = calloc(no, 1);
	sh->sub.all = lg->ngroups - 1;
	sh->w = calloc(no, sizeof *sh->w);
	sh->pair = calloc(no, sizeof *sh->pair);
	sh->offer = calloc(no, sizeof *sh->offer);
	/* Room per group, then a second block for fill counts. */
	sh->room = calloc(2 * lg->ngroups, sizeof *sh->room);
	sh->sub.room = sh->room;
	sh->demand = calloc(no, sizeof *sh->demand);
	sh->useful = calloc(no, sizeof *sh->useful);
	sh->bcnt = calloc(no, sizeof *sh->bcnt);
	sh->touched = calloc(sh->last - sh->first + 1, sizeof *sh->touched);
	sh->hold_pair = calloc((size_t)no * LAGRANGE_HOLDERS,
	    sizeof *sh->hold_pair);
	sh->hold_price = calloc((size_t)no * LAGRANGE_HOLDERS,
	    sizeof *sh->hold_price);
	sh->fair_sends = calloc(inst->nfair + 1, sizeof *sh->fair_sends);
	if (sh->fair_sends == NULL)
		return -1;
	if (sh->fw == NULL || sh->sub.r == NULL || sh->sub.t == NULL ||
	    sh->sub.ch == NULL || sh->sub.cp == NULL || sh->sub.cat == NULL ||
	    sh->sub.sel == NULL || sh->w == NULL || sh->pair == NULL ||
	    sh->offer == NULL || sh->room == NULL || sh->demand == NULL ||
	    sh->useful == NULL || sh->bcnt == NULL || sh->touched == NULL ||
	    sh->hold_pair == NULL || sh->hold_price == NULL)
		return -1;
	return 0;
}

/*
 * After the first sweep: which limits can bind (below the candidates that
 * want the offer, over every rank) and where each shard's critical prices
 * of each such offer go in the bucket. 0 or -1.
 */
static int
lagrange_buckets(struct lagrange *lg)
{
	const struct solver_instance	*inst = lg->inst;
	long				*useful;
	int64_t				 total = 0;
	int				 o, i;

	if ((useful = calloc(inst->noffers + 1, sizeof *useful)) == NULL)
		return -1;
	for (o = 0; o < inst->noffers; o++)
		for (i = 0; i < lg->nshards; i++)
			useful[o] += lg->shard[i].useful[o];
	if (dist_sum_long(lg->comm, useful, inst->noffers) != 0) {
		free(useful);
		return -1;
	}
	for (o = 0; o < inst->noffers; o++) {
		/* Only a limit below the offer's candidates can bind. */
		lg->active[o] = lg->limit[o] >= 0 && useful[o] > lg->limit[o];
		for (i = 0; i < lg->nshards; i++) {
			lg->bstart[(int64_t)o * lg->nshards + i] = total;
			if (lg->active[o])
				total += lg->shard[i].useful[o];
		}
	}
	free(useful);
	if ((lg->bucket = calloc(total + 1, sizeof *lg->bucket)) == NULL)
		return -1;
	return 0;
}

/* Allocate the working state, split customers into shards, size buckets. */
static int
lagrange_setup(struct lagrange *lg, char **cause)
{
	const struct solver_instance	*inst = lg->inst;
	int				 i, c;
	int64_t				 np = inst->pair_start[inst->ncustomers];
	int64_t				 per, acc;

	lg->nshards = lagrange_nshards(lg);
	lg->ngroups = inst->nchannels + inst->ncampaigns + inst->ncategories +
	    1;
	if (lagrange_alloc(lg) != 0)
		goto nomem;
	/* Shards of about equal pair counts. */
	per = np / lg->nshards + 1;
	acc = 0;
	c = 0;
	for (i = 0; i < lg->nshards; i++) {
		struct lagrange_shard *sh = &lg->shard[i];

		sh->first = c;
		while (c < inst->ncustomers &&
		    (i == lg->nshards - 1 || inst->pair_start[c] - acc < per))
			c++;
		sh->last = c;
		acc = inst->pair_start[c];
		if (lagrange_shard_alloc(lg, sh) != 0)
			goto nomem;
	}
	solver_offer_limits(inst, lg->limit);
	lagrange_threads_start(lg);
	if (lagrange_sweep(lg, LAGRANGE_INIT) != 0 || lagrange_buckets(lg) != 0)
		goto nomem;
	return 0;

nomem:
	solver_cause(cause, "out of memory");
	return -1;
}

/* Seconds since the start, as rank 0 reads them (a shared decision). */
static double
lagrange_elapsed(const struct lagrange *lg)
{
	return dist_root_double(lg->comm, solver_now() - lg->start);
}

/*
 * Before the first sweep: the counts for the log, the sends of the offers
 * whose limit binds, the trivial bound (every positive pair), the
 * fairness steps and the warm start's prices. 0 or -1.
 */
static int
lagrange_start(struct lagrange *lg)
{
	const struct solver_instance	*inst = lg->inst;
	const struct solver_options	*opts = lg->opts;
	double				 v[4] = { 0, 0, 0, 0 };
	int64_t				 k, np = inst->pair_start[inst->ncustomers];
	int				 c, o;

	for (c = 0; c < inst->ncustomers; c++) {
		v[0] += lg->laminar[c] != FLOW_LAMINAR;
		v[1] += lg->laminar[c] == FLOW_SEARCH;
	}
	for (k = 0; k < np; k++)
		if (solver_pair_value(inst, k) > 0) {
			v[2] += solver_pair_value(inst, k);
			v[3]++;
		}
	if (dist_sum_double(lg->comm, v, 4) != 0)
		return -1;
	for (o = 0; o < inst->noffers; o++)
		if (lg->active[o])
			lg->limited += lg->limit[o];
	lg->trivial = v[2];
	lg->best = v[2];
	for (o = 0; o < inst->nfair; o++)
		lg->fair_stepsz[o] = 0.1 * v[2] / (v[3] > 0 ? v[3] : 1);
	solver_log(opts->log, opts->arg, "scale: %ld customers, %lld pairs, "
	    "%d offers, %d threads, %.0f crossing customers (%.0f by branch "
	    "and bound)%s", lg->ncustomers_all, (long long)lg->npairs_all,
	    inst->noffers, lg->nshards, v[0], v[1], lg->dist ? " over the "
	    "ranks, threads per rank" : "");
	/* Warm start from last run's prices, per send. */
	for (o = 0; o < inst->noffers; o++) {
		lg->step[o] = 0.5;
		if (!lg->active[o])
			continue;
		if (opts->warm_price_budget != NULL &&
		    opts->warm_price_budget[o] > 0)
			lg->pi[o] += opts->warm_price_budget[o] *
			    inst->offers[o].cost;
		if (opts->warm_price_capacity != NULL &&
		    opts->warm_price_capacity[o] > 0)
			lg->pi[o] += opts->warm_price_capacity[o];
	}
	lg->plan_objective = 0;
	return 0;
}

/*
 * The bound at the last sweep's prices (*L: the subproblems' values over
 * every rank plus the price terms) and each fairness row's value there
 * (fair_h). 0 or -1.
 */
static int
lagrange_dual_value(struct lagrange *lg, double *L)
{
	const struct solver_instance	*inst = lg->inst;
	double				 v[SOLVER_FAIR_MAX + 2];
	long				 seg, total = 0;
	int				 o, s;

	*L = 0;
	for (s = 0; s < lg->nshards; s++)
		*L += lg->shard[s].phi;
	if (lg->dist) {
		v[0] = *L;
		v[1] = 0;
		for (s = 0; s < lg->nshards; s++)
			v[1] += lg->shard[s].total_sends;
		for (o = 0; o < inst->nfair; o++) {
			v[2 + o] = 0;
			for (s = 0; s < lg->nshards; s++)
				v[2 + o] += lg->shard[s].fair_sends[o];
		}
		/* Counts add exactly as doubles. */
		if (dist_sum_double(lg->comm, v, inst->nfair + 2) != 0)
			return -1;
		*L = v[0];
	}
	for (o = 0; o < inst->noffers; o++)
		if (lg->limit[o] >= 0)
			*L += lg->pi[o] * lg->limit[o];
	if (inst->nfair == 0)
		return 0;
	for (s = 0; s < lg->nshards; s++)
		total += lg->shard[s].total_sends;
	if (lg->dist)
		total = (long)v[1];
	for (o = 0; o < inst->nfair; o++) {
		seg = 0;
		for (s = 0; s < lg->nshards; s++)
			seg += lg->shard[s].fair_sends[o];
		if (lg->dist)
			seg = (long)v[2 + o];
		lg->fair_h[o] = solver_fair_row(inst, o, seg, total);
	}
	return 0;
}

/* Damped move of the prices toward the coordinate minimizers. */
static void
lagrange_move(struct lagrange *lg)
{
	const struct solver_instance	*inst = lg->inst;
	double				 move;
	int				 o;

	for (o = 0; o < inst->noffers; o++) {
		if (!lg->active[o])
			continue;
		move = lg->target[o] - lg->pi[o];
		if (move * lg->last_move[o] < 0)
			lg->step[o] *= 0.5;
		else if (lg->step[o] < 1)
			lg->step[o] = fmin(1, lg->step[o] * 1.2);
		if (lg->step[o] < 1e-3)
			lg->step[o] = 1e-3;
		lg->last_move[o] = move;
		lg->pi[o] += lg->step[o] * move;
		if (lg->pi[o] < 0)
			lg->pi[o] = 0;
	}
	lagrange_fair_step(lg);
}

/*
 * Whether to repair at this sweep's prices. The repair reuses the sweep's
 * choices, so it costs a pass over the pairs and a refill as large as the
 * over-demand. While that is more than a few percent of all limited sends
 * the plan cannot be near the bound: the first sweeps, at prices still far
 * from the targets, are not repaired (at millions of customers the refill
 * of the first one's over-demand cost three sweeps); the loop repairs once
 * after the last sweep when none was (lagrange_dual).
 */
static int
lagrange_want_repair(const struct lagrange *lg)
{
	int64_t	over = 0;
	int	o;

	for (o = 0; o < lg->inst->noffers; o++)
		if (lg->over[o] > 0)
			over += lg->over[o];
	return over <= LAGRANGE_REPAIR_OVER * lg->limited;
}

/*
 * The dual loop: sweep at the prices, keep the best bound and its prices,
 * repair a plan, move the prices; until the gap is reached, the bound
 * stalls, the rest is integrality or the time is nearly up. 0 or -1.
 */
static int
lagrange_dual(struct lagrange *lg, struct solver_result *res, char **cause)
{
	const struct solver_instance	*inst = lg->inst;
	const struct solver_options	*opts = lg->opts;
	double				 L, bound_mark = HUGE_VAL;
	int				 stall = 0, repaired = 0, improved_it = 0;

	for (lg->it = 1; lg->it <= LAGRANGE_MAX_ITER; lg->it++) {
		if (lagrange_sweep(lg, LAGRANGE_DUAL) != 0 ||
		    lagrange_dual_value(lg, &L) != 0)
			goto nomem;
		if (L < lg->best - 1e-9 * fabs(lg->best)) {
			if (L < lg->best - 1e-7 * fabs(lg->best))
				stall = 0;
			lg->best = L;
			memcpy(lg->best_pi, lg->pi,
			    inst->noffers * sizeof *lg->best_pi);
			if (inst->nfair > 0)
				memcpy(lg->best_lambda, lg->lambda,
				    inst->nfair * sizeof *lg->best_lambda);
		} else
			stall++;
		if (lagrange_targets(lg) != 0)
			goto nomem;
		if (lagrange_want_repair(lg)) {
			if (lagrange_repair(lg) != 0)
				goto nomem;
			repaired = 1;
			if (lagrange_keep(lg, res, "repaired")) {
				improved_it = lg->it;
				bound_mark = lg->best;
			}
		}
		lg->gap = lg->best > 0 ? (lg->best - res->objective) / lg->best :
		    0;
		lagrange_progress(lg, "dual", lg->it, res->objective, lg->best);
		if (lg->gap <= opts->gap || stall >= LAGRANGE_STALL_ITER)
			break;
		/*
		 * The plan stopped improving and the bound moves by less than
		 * a tenth of the gap: the rest is integrality, for the polish.
		 */
		if (lg->it - improved_it >= 9 &&
		    bound_mark - lg->best < 0.1 * (lg->best - res->objective))
			break;
		if (opts->time_limit_s > 0 &&
		    lagrange_elapsed(lg) > opts->time_limit_s * 0.8) {
			lg->timed_out = 1;
			break;
		}
		lagrange_move(lg);
	}
	if (lg->it > LAGRANGE_MAX_ITER)
		lg->it = LAGRANGE_MAX_ITER;
	/* No sweep came near enough: the plan of the last prices. */
	if (!repaired) {
		if (lagrange_repair(lg) != 0)
			goto nomem;
		lagrange_keep(lg, res, "repaired");
		lg->gap = lg->best > 0 ? (lg->best - res->objective) /
		    lg->best : 0;
		lagrange_progress(lg, "dual", lg->it, res->objective, lg->best);
	}
	res->iterations = lg->it;
	return 0;

nomem:
	solver_cause(cause, "out of memory");
	return -1;
}

/*
 * The plan at the best prices: the result if it is the best so far; else
 * the plan goes back to the result's, to polish around the best plan, not
 * a worse one. 0 or -1.
 */
static int
lagrange_rebuild(struct lagrange *lg, struct solver_result *res)
{
	const struct solver_instance	*inst = lg->inst;
	int64_t				 k, np = inst->pair_start[inst->ncustomers];
	int				 o;

	memcpy(lg->pi, lg->best_pi, inst->noffers * sizeof *lg->pi);
	lagrange_fair_set(lg, lg->best_lambda);
	if (lagrange_sweep(lg, LAGRANGE_DUAL) != 0 ||
	    lagrange_targets(lg) != 0 || lagrange_repair(lg) != 0)
		return -1;
	if (lagrange_keep(lg, res, "rebuilt"))
		return 0;
	memcpy(lg->plan, res->selected, np);
	for (o = 0; o < inst->noffers; o++)
		lg->usage[o] = 0;
	for (k = 0; k < np; k++)
		if (lg->plan[k])
			lg->usage[inst->pair_offer[k]]++;
	lg->plan_objective = res->objective;
	return 0;
}

/*
 * After the dual loop, with the gap still open: rebuild at the best
 * prices, polish, and where that does not reach the gap either, fall back
 * to exact mode on the whole instance. 0 or -1 with *cause.
 */
static int
lagrange_finish(struct lagrange *lg, struct solver_result *res,
    char **cause)
{
	const struct solver_options	*opts = lg->opts;
	double				 remaining, target_gap = opts->gap;
	int				 want;

	if (lagrange_rebuild(lg, res) != 0) {
		solver_cause(cause, "out of memory");
		return -1;
	}
	remaining = opts->time_limit_s > 0 ? opts->time_limit_s -
	    lagrange_elapsed(lg) : 60;
	want = opts->polish_customers > 0 ? opts->polish_customers :
	    LAGRANGE_POLISH;
	res->polish_improved = 0;
	if (remaining > 0.5 && lagrange_polish(lg, res, want, 0, &lg->best,
	    remaining, cause) < 0)
		return -1;
	lg->gap = lg->best > 0 ? (lg->best - res->objective) / lg->best : 0;
	lagrange_progress(lg, "polish", lg->it, res->objective, lg->best);

	/*
	 * Still above the gap (ties leave the prices many optimal subproblem
	 * solutions, and no price vector reaches the target): what converges
	 * is one MIP over the instance, from the best plan, certified by
	 * GLPK's bound. Only where it fits: an instance past
	 * LAGRANGE_FALLBACK_PAIRS stays stalled, its gap as certified.
	 */
	remaining = opts->time_limit_s > 0 ? opts->time_limit_s -
	    lagrange_elapsed(lg) : LAGRANGE_FALLBACK_S;
	if (!(lg->gap > target_gap && opts->exact_fallback &&
	    want < lg->ncustomers_all &&
	    lg->npairs_all <= LAGRANGE_FALLBACK_PAIRS && remaining > 0.5))
		return 0;
	solver_log(opts->log, opts->arg, "scale: stalled at gap %.6f%% above "
	    "the target %.6f%%: exact mode on the whole instance (%ld "
	    "customers, %lld pairs), %.0f s at most", 100 * lg->gap,
	    100 * target_gap, lg->ncustomers_all, (long long)lg->npairs_all,
	    remaining);
	res->exact_fallback = 1;
	if (lagrange_polish(lg, res, (int)lg->ncustomers_all, target_gap,
	    &lg->best, remaining, cause) < 0)
		return -1;
	lg->gap = lg->best > 0 ? (lg->best - res->objective) / lg->best : 0;
	lagrange_progress(lg, "exact", lg->it, res->objective, lg->best);
	return 0;
}

/* The result's figures, status and prices from the run. 0 or -1. */
static int
lagrange_result(struct lagrange *lg, struct solver_result *res)
{
	const struct solver_instance	*inst = lg->inst;
	const struct solver_options	*opts = lg->opts;
	int				 s;

	if (solver_result_tally_all(inst, lg->comm, res) != 0)
		return -1;
	if (lg->best < res->objective)
		lg->best = res->objective;	/* rounding only */
	res->bound = lg->best;
	res->gap = lg->best > 0 ? (lg->best - res->objective) / lg->best : 0;
	if (res->gap <= 1e-9)
		res->status = SOLVER_OPTIMAL;
	else if (res->gap <= opts->gap)
		res->status = SOLVER_GAP_REACHED;
	else if (lg->timed_out || (opts->time_limit_s > 0 &&
	    lagrange_elapsed(lg) > opts->time_limit_s))
		res->status = SOLVER_TIME_LIMIT;
	else
		res->status = SOLVER_STALLED;
	solver_set_prices(inst, lg->limit, lg->best_pi, res);
	for (s = 0; s < inst->nfair; s++)
		res->fair_price[s] = lg->best_lambda[s];
	return 0;
}

/* Scale mode; see the top of this file. */
int
lagrange_run(const struct solver_instance *inst,
    const struct solver_options *opts, struct solver_result *res,
    char **cause)
{
	struct lagrange	 lg;
	long		 size[2];

	memset(&lg, 0, sizeof lg);
	lg.inst = inst;
	lg.opts = opts;
	lg.comm = opts->comm;
	lg.dist = dist_on(opts->comm);
	lg.start = solver_now();
	size[0] = inst->ncustomers;
	size[1] = (long)inst->pair_start[inst->ncustomers];
	if (dist_sum_long(lg.comm, size, 2) != 0) {
		solver_cause(cause, "out of memory");
		goto fail;
	}
	lg.ncustomers_all = size[0];
	lg.npairs_all = size[1];
	lg.gap = 1;
	if (lagrange_setup(&lg, cause) != 0)
		goto fail;
	if (lagrange_start(&lg) != 0) {
		solver_cause(cause, "out of memory");
		goto fail;
	}
	if (lagrange_dual(&lg, res, cause) != 0)
		goto fail;
	/* Polish the plan the best prices give, if the gap is still open. */
	if (lg.gap > opts->gap && opts->polish_customers >= 0 &&
	    !lg.timed_out && lagrange_finish(&lg, res, cause) != 0)
		goto fail;
	if (lagrange_result(&lg, res) != 0) {
		solver_cause(cause, "out of memory");
		goto fail;
	}
	lagrange_free(&lg);
	return 0;

fail:
	lagrange_free(&lg);
	return -1;
}
