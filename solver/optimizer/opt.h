/*
 * Private header of the optimization library (solver/optimizer). The public API
 * is include/pacer/solver.h; these are the modules behind it, also used by
 * the unit tests.
 */
#ifndef PACER_OPT_H
#define PACER_OPT_H

#include <stdint.h>

#include "pacer/solver.h"

/*
 * One customer's subproblem at given prices: choose items (candidate pairs
 * with positive net value) maximizing the sum of reduced values r under the
 * room of every group. Groups are numbered 0 .. ngroups-1: channels first,
 * then campaigns, then categories, then one "all" group (the instance
 * layout).
 */
struct flow_sub {
	int		 n;		/* items */
	double		*r;		/* reduced value per item */
	int		*ch;		/* channel group per item */
	int		*cp;		/* campaign group per item */
	int		*cat;		/* category group per item, -1 none;
					   NULL: no categories */
	int		*room;		/* per group, indexed by group number */
	int		 all;		/* the "all" group number */

	/* Out. */
	uint8_t		*sel;		/* 1 if chosen: a feasible plan */
	double		*t;		/* threshold: item i is chosen iff
					   r[i] > t[i] with the others fixed
					   (a guess where the search stopped
					   at its node limit) */
	double		 value;		/* upper bound on the best sum of r:
					   the one to add into a dual bound */
	double		 chosen;	/* sum of chosen r (<= value) */
	int		 exact;		/* 1: chosen is the best (value equals
					   it); 0: FLOW_SEARCH stopped at its
					   node limit */
};

/* Per thread scratch memory for flow_*, sized for an instance. */
struct flow_work;

/* flow.c */
/* Scratch for at most nitems items and ngroups groups; caller frees. */
struct flow_work *flow_work_new(int nitems, int ngroups);
/* Free; accepts NULL. */
void	flow_work_free(struct flow_work *);
/*
 * Free items at or below which FLOW_SEARCH goes on depth first rather than
 * over flows (default 20); for tests, to reach both on small customers.
 */
void	flow_work_search_small(struct flow_work *, int items);
/*
 * FLOW_SEARCH's node limit per customer (its thresholds' searches share as
 * many again): past it flow_solve returns the best plan found (chosen),
 * an upper bound (value) and exact 0. Tests set small limits.
 */
void	flow_work_node_limit(struct flow_work *, long nodes);
/* Nodes the last flow_solve spent searching (0: no search). */
long	flow_work_nodes(const struct flow_work *);
/* How a subproblem is solved exactly (flow_is_laminar, flow_solve). */
#define FLOW_CROSSING	0	/* a channel and a campaign that can bind
				   cross: b-matching flow */
#define FLOW_LAMINAR	1	/* the groups that can bind are laminar:
				   greedy by value */
#define FLOW_SEARCH	2	/* a category that can bind, and groups
				   that cross: branch and bound */

/*
 * FLOW_LAMINAR if the groups that can bind (room below their number of
 * items) form a laminar family, so greedy by value is exact; else
 * FLOW_SEARCH if a category group can bind (the flow network has no
 * category layer), else FLOW_CROSSING (a channel and a campaign cross).
 */
int	flow_is_laminar(const struct flow_sub *, struct flow_work *);
/*
 * Solve the subproblem by the method flow_is_laminar gave (greedy,
 * successive shortest paths on a small flow network, or branch and
 * bound, exact within its node limit): fills sel, value, chosen and
 * exact, and t when thresholds is set. s's arrays are borrowed.
 */
void	flow_solve(struct flow_sub *, int laminar, int thresholds,
	    struct flow_work *);
/* Solve by enumeration (tests only, n <= 20); returns the best value. */
double	flow_brute(const struct flow_sub *, uint8_t *sel);

/*
 * A GLPK MIP over a subset of customers with everything else fixed: the
 * exact mode (all customers) and the polish (customers near their price
 * thresholds).
 */
struct exact_job {
	const struct solver_instance	*inst;
	const int			*customers;	/* NULL: all */
	int				 ncustomers;
	const long			*limit;	/* sends left per offer, or
						   -1 for none (borrowed) */
	const uint8_t			*start;	/* per pair, may be NULL */
	const double			*fair_fixed;	/* per fairness row,
							   the customers
							   outside the job's
							   sum_c a_sc x_c;
							   NULL: all 0 */
	double				*fair_duals;	/* out, per fairness
							   row: LP dual, or
							   NULL */
	double				 time_limit_s;	/* <= 0: none */
	double				 mip_gap;
	void				(*log)(void *, const char *);
	void				*arg;

	/* Out. */
	uint8_t				*selected;	/* per pair; only the
							   subset's pairs are
							   written */
	double				 objective;	/* of the subset */
	double				 bound;		/* upper bound on it */
	int				 optimal;	/* within mip_gap */
	int				 found;		/* a plan was found */
};

/* exact.c */
/* Solve a job; 0 (see found/optimal) or -1 with *cause (caller frees). */
int	exact_solve(struct exact_job *, char **cause);
/* Whole instance as one MIP into res (solver_solve's exact mode). */
int	exact_run(const struct solver_instance *,
	    const struct solver_options *, struct solver_result *,
	    char **cause);

/* One selection of dist_select: the k-th largest of every rank's v. */
struct dist_query {
	const float	*v;		/* this rank's values, >= 0 (borrowed) */
	int64_t		 n;
	int64_t		 k;		/* from 0; below the values in all */
	float		 value;		/* out */
};

/* dist.c */
/* 1 when comm joins two ranks or more (a distributed solve). */
int	dist_on(const struct solver_comm *);
/* In place over the ranks: sum or maximum; no-ops without comm. 0 or -1. */
int	dist_sum_double(const struct solver_comm *, double *, int);
int	dist_max_double(const struct solver_comm *, double *, int);
int	dist_sum_long(const struct solver_comm *, long *, int);
/* In place: the sum over the lower ranks (0 on rank 0). 0 or -1. */
int	dist_exscan_long(const struct solver_comm *, long *, int);
/* 1 if any rank's flag is set. */
int	dist_any(const struct solver_comm *, int flag);
/* Rank 0's v on every rank. */
double	dist_root_double(const struct solver_comm *, double v);
/* Of need equal candidates over the ranks, lower ranks first: mine's. */
long	dist_share(const struct solver_comm *, long mine, long need);
/* Each query's k-th largest value over all ranks, exactly; 0 or -1. */
int	dist_select(const struct solver_comm *, struct dist_query *, int);
/* solver_check_feasible of every rank's plan together (see dist.c). */
int	dist_check(const struct solver_instance *, const struct solver_comm *,
	    const uint8_t *sel, double *objective, char **cause);
/*
 * Customers list[0..n) of every rank, with their plan bytes, as one
 * instance on rank 0 (*sub, *sub_plan: caller frees; NULL elsewhere).
 */
int	dist_gather(const struct solver_instance *,
	    const struct solver_comm *, const int *list, int n,
	    const uint8_t *plan, struct solver_instance **sub,
	    uint8_t **sub_plan, char **cause);
/*
 * Rank 0's status and, when 0, its selection of the gathered instance
 * back into each rank's sel at its customers list[0..n); the status.
 */
int	dist_scatter(const struct solver_instance *,
	    const struct solver_comm *, const int *list, int n,
	    const uint8_t *sub_sel, int status, uint8_t *sel);

/* lagrange.c */
/* Scale mode: Lagrangian relaxation, repair and polish into res. */
int	lagrange_run(const struct solver_instance *,
	    const struct solver_options *, struct solver_result *,
	    char **cause);
/*
 * A pair the repair's refill may add: its net value, customer, offer and
 * place among the customer's pairs (the pair is pair_start[customer] +
 * at; a customer has a pair per offer at most, and offers are 16-bit).
 * Twelve bytes: tens of millions are queued and sorted at 10M customers,
 * and the refill skips those of an offer with no sends left without
 * reading the pair's offer from the instance.
 */
struct lagrange_cand {
	float		 w;
	int		 customer;
	uint16_t	 offer;
	uint16_t	 at;
};
/*
 * The refill's order: w descending, then pair ascending (customer, then
 * at); qsort's cmp.
 */
int	lagrange_cand_cmp(const void *, const void *);
/* Sort n candidates in lagrange_cand_cmp's order (a radix sort). */
void	lagrange_cand_sort(struct lagrange_cand *, int64_t n);

/* solver.c */
/* Offer o's category, or -1 (none, or no categories in the instance). */
int	solver_offer_category(const struct solver_instance *, int o);
/* Net value of a pair: propensity * value - cost. */
double	solver_pair_value(const struct solver_instance *, int64_t pair);
/*
 * Sends allowed per offer: min(capacity, floor(budget / cost)), or -1 for
 * none. limit has noffers entries (caller's memory).
 */
void	solver_offer_limits(const struct solver_instance *, long *limit);
/* Coefficient a_sc of customer c's sends in fairness row s. */
double	solver_fair_coef(const struct solver_instance *, int s, int c);
/*
 * Sends of a plan (one byte per pair, borrowed) per fairness row into
 * seg_sends (nfair entries, caller's memory) and in all.
 */
void	solver_fair_tally(const struct solver_instance *, const uint8_t *,
	    long *seg_sends, long *total_sends);
/* Seconds on a monotonic clock. */
double	solver_now(void);
/* Allocate the result arrays; 0 or -1. */
int	solver_result_alloc(const struct solver_instance *,
	    struct solver_result *);
/*
 * Fill sends, spend, binding flags, nselected, objective and the fairness
 * rows from selected; with comm, summed over every rank's selection.
 */
void	solver_result_tally(const struct solver_instance *,
	    struct solver_result *);
int	solver_result_tally_all(const struct solver_instance *,
	    const struct solver_comm *, struct solver_result *);
/*
 * Shadow prices into res from one price per send per offer (pi): budget
 * price per unit of spend where the budget is the tighter limit, else a
 * capacity price.
 */
void	solver_set_prices(const struct solver_instance *, const long *limit,
	    const double *pi, struct solver_result *);
/* Log a formatted line through options (printf-checked). */
void	solver_log(void (*log)(void *, const char *), void *arg,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Allocate a printf-formatted *cause (caller frees). */
void	solver_cause(char **cause, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif /* PACER_OPT_H */
