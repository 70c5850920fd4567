/*
 * The contact-frequency optimizer (SPEC section 4) as a pure library: plain
 * structs in, plain structs out. No Redis, no libevent, no globals.
 *
 * The model: choose x[c,o] in {0,1} for every candidate pair (customer c,
 * offer o) to maximize sum x * (propensity * value - cost) subject to
 *   per customer:  sum over offers of channel ch   x <= room_channel[c][ch]
 *                  sum over offers of campaign cp  x <= room_campaign[c][cp]
 *                  sum over offers of category k   x <= room_category[c][k]
 *                  sum over all offers             x <= room_all[c]
 *   per offer:     sum x * cost <= budget          (if budget >= 0)
 *                  sum x        <= capacity        (if capacity >= 0)
 *   per fairness row s (segment s, [fairness]):
 *                  sum over c in s of x / |s| >= min_ratio * sum x / N
 *     (N customers in the base), kept in units of sends to the segment:
 *                  h_s = sum_c a_sc x_c >= 0,  a_sc = [c in s] - r |s| / N
 *     where x_c is customer c's sends. Sending nothing meets every row.
 * The caller folds consent, holdout, segment exclusions (drop the pair) and
 * segment caps and max_offers_per_customer (lower room_all) into the
 * instance before solving.
 *
 * Categories ([category NAME] cap) are optional: an offer is in at most one
 * (offer_category, -1 for none), and a category may cross channels and
 * campaigns. Set them with solver_instance_categories before adding
 * customers and each customer's rooms with solver_instance_category_room;
 * a room never set is SOLVER_ROOM_NONE (no cap). Scale mode solves a
 * customer whose category rooms can bind and cross its other groups by a
 * small exact branch and bound, so its bound stays certified.
 *
 * Two methods: SOLVER_EXACT is one GLPK MIP (small instances, test oracle);
 * SOLVER_SCALE (default) relaxes the per-offer rows with Lagrange prices,
 * solves each customer exactly at given prices (so the dual value is a
 * certified upper bound), repairs to a feasible plan and polishes it with a
 * small GLPK MIP around the price thresholds.
 *
 * GLPK runs on a short-lived thread of its own, whose GLPK environment is
 * freed after each solve; the library keeps no global state.
 */
#ifndef PACER_SOLVER_H
#define PACER_SOLVER_H

#include <stddef.h>
#include <stdint.h>

/* Most offers an instance may have (the pair offer index is 16 bits). */
#define SOLVER_OFFERS_MAX	65535
/*
 * Room value meaning "no cap". A customer has at most SOLVER_OFFERS_MAX
 * pairs, so no room of this size or more can bind: a larger room (a cap
 * of up to a million, max_offers_per_customer up to 1000) is stored as
 * this, exactly. See solver_room.
 */
#define SOLVER_ROOM_NONE	65535
/* Most fairness rows (a bit each in solver_instance.fair_member). */
#define SOLVER_FAIR_MAX		32
/* Most categories an instance may have. */
#define SOLVER_CATEGORIES_MAX	256

/* One offer, as the model sees it. */
struct solver_offer {
	double	 value;		/* margin if the customer responds, >= 0 */
	double	 cost;		/* cost of one send, >= 0 */
	double	 budget;	/* total spend allowed, < 0: none */
	long	 capacity;	/* most sends, < 0: none */
	int	 channel;	/* 0 .. nchannels-1 */
	int	 campaign;	/* 0 .. ncampaigns-1 */
};

/*
 * A problem instance. Candidate pairs are stored in compressed rows: the
 * pairs of customer c are pair_start[c] .. pair_start[c+1]-1, each an offer
 * index and a propensity in [0,1]. An offer appears at most once per
 * customer. Build with solver_instance_new and solver_instance_add_customer,
 * or fill the arrays directly (they are malloc'd and owned by the instance).
 */
struct solver_instance {
	int			 ncustomers;
	int			 noffers;
	int			 nchannels;
	int			 ncampaigns;
	struct solver_offer	*offers;	/* noffers */

	int64_t			*pair_start;	/* ncustomers + 1 */
	uint16_t		*pair_offer;	/* pair_start[ncustomers] */
	float			*pair_propensity; /* pair_start[ncustomers] */

	/* Per customer remaining room; SOLVER_ROOM_NONE for no cap. */
	uint16_t		*room_all;	/* ncustomers */
	uint16_t		*room_channel;	/* ncustomers * nchannels */
	uint16_t		*room_campaign;	/* ncustomers * ncampaigns */

	/*
	 * Categories, ncategories of them (0: none): offer_category has
	 * noffers entries, -1 (no category) .. ncategories-1; room_category
	 * ncustomers * ncategories, SOLVER_ROOM_NONE for no cap. Both NULL
	 * when ncategories is 0. Set with solver_instance_categories and
	 * solver_instance_category_room.
	 */
	int			 ncategories;
	int			*offer_category;	/* noffers */
	uint16_t		*room_category;	/* ncustomers * ncategories */

	/*
	 * Fairness rows (see the model above), nfair of them: fair_base is
	 * N and fair_size[s] is |s|, both counting customers of the base
	 * who have no pairs (they plan nothing); fair_member has bit s set
	 * for each customer in segment s. Set with solver_instance_fairness
	 * and solver_instance_fair_member. A member's pairs of net value
	 * <= 0 may be worth sending for a row, so they stay candidates.
	 */
	int			 nfair;
	double			 fair_min_ratio;
	long			 fair_base;
	long			*fair_size;	/* nfair */
	uint32_t		*fair_member;	/* ncustomers, NULL if nfair 0 */

	/* Allocated sizes (builder bookkeeping). */
	int			 customers_alloc;
	int64_t			 pairs_alloc;
};

enum solver_method {
	SOLVER_SCALE = 0,	/* Lagrangian relaxation + repair + polish */
	SOLVER_EXACT		/* one monolithic GLPK MIP */
};

enum solver_status {
	SOLVER_OPTIMAL = 0,	/* proved optimal (gap 0 up to rounding) */
	SOLVER_GAP_REACHED,	/* certified gap <= options gap */
	SOLVER_TIME_LIMIT,	/* stopped by time_limit_s; plan feasible */
	SOLVER_INFEASIBLE,	/* no feasible plan (cannot happen for a
				   valid instance: sending nothing is one) */
	SOLVER_EMPTY,		/* no customers or no candidate pairs */
	SOLVER_ERROR,		/* solve failed; see cause */
	SOLVER_STALLED		/* bound stopped improving above the target
				   gap; plan feasible, gap as reported */
};

/* Progress report handed to the callback; borrowed for the call only. */
struct solver_progress {
	const char	*phase;		/* "dual", "repair", "polish", "exact" */
	int		 iteration;
	double		 objective;	/* best feasible plan so far */
	double		 bound;		/* best certified upper bound so far */
	double		 gap;		/* (bound - objective) / bound */
	double		 elapsed_s;
};

/*
 * How the ranks of one distributed solve talk (mpirun -np K pacer
 * optimize): each rank holds the customers of its shard as an instance of
 * its own (same offers, channels, campaigns, categories and fairness rows;
 * fair_base and fair_size are the whole base's), and the library joins
 * them through these calls, which the caller implements (with MPI in the
 * pacer command); the library itself knows no MPI. Every call is
 * collective: each rank makes the same calls in the same order, and each
 * returns only when all have made it. A call that fails may not return
 * (MPI aborts the job); the library treats -1 as out of memory.
 */
struct solver_comm {
	int	 rank;		/* 0 .. size-1 */
	int	 size;		/* ranks in all, >= 2 (1: pass no comm) */
	void	*arg;		/* passed to every call */

	/* In place: v[0..n) becomes the sum (max) over every rank's v. */
	int	(*sum_double)(void *arg, double *v, int n);
	int	(*max_double)(void *arg, double *v, int n);
	int	(*sum_int64)(void *arg, int64_t *v, int n);
	/* In place: v[0..n) becomes the sum of the lower ranks' v (0 on 0). */
	int	(*exscan_int64)(void *arg, int64_t *v, int n);
	/*
	 * Every rank's len bytes (buf, borrowed), in rank order, to root
	 * only (all < 0: to every rank): *out (caller frees; NULL on the
	 * other ranks) holds them back to back and lens[r] (size entries,
	 * caller's memory, filled where *out is) says how many came from r.
	 */
	int	(*gather)(void *arg, const void *buf, size_t len, int root,
		    void **out, size_t *lens);
	/* len bytes of buf from rank root to every rank's buf. */
	int	(*bcast)(void *arg, void *buf, size_t len, int root);
};

struct solver_options {
	enum solver_method	 method;
	double			 gap;		/* target relative gap, e.g. 1e-4 */
	double			 time_limit_s;	/* <= 0: none */
	int			 threads;	/* <= 0: online CPUs */
	int			 polish_customers; /* 0: default, < 0: no polish */
	int			 exact_fallback; /* 1 (default): when scale mode
						    stalls above the gap, exact
						    mode on the instance if it
						    is small enough */

	/*
	 * Warm start: last run's prices, noffers each, or NULL. Budget
	 * prices are per unit of spend, capacity prices per send.
	 */
	const double		*warm_price_budget;
	const double		*warm_price_capacity;

	/*
	 * Called now and then, possibly from a library thread but never
	 * two at once and only while solver_solve runs; may be NULL.
	 */
	void			(*progress)(void *arg,
				    const struct solver_progress *);
	/* One line of GLPK or solver log (no newline); may be NULL. */
	void			(*log)(void *arg, const char *line);
	void			*arg;		/* passed to both callbacks */

	/*
	 * NULL (default): the instance is the whole problem. Else this
	 * rank's shard of a distributed solve (see struct solver_comm,
	 * borrowed): the result's selected covers this rank's pairs, and
	 * every other figure (objective, bound, gap, sends, spend, prices,
	 * fairness rows, nselected, status) is the whole problem's, the same
	 * on every rank. Exact mode solves the gathered instance on rank 0.
	 */
	const struct solver_comm *comm;
};

/*
 * The answer. Arrays are allocated by solver_solve and released by
 * solver_result_free.
 */
struct solver_result {
	enum solver_status	 status;
	double			 objective;	/* of the plan in selected */
	double			 bound;		/* certified upper bound */
	double			 gap;		/* (bound - objective) / bound,
						   0 when bound <= 0 */
	uint8_t			*selected;	/* one byte per pair: 1 chosen */
	int64_t			 nselected;	/* number of chosen pairs */

	/* Per offer (noffers each). */
	long			*sends;
	double			*spend;
	double			*price_budget;	 /* shadow price per unit of
						    spend (0 if no budget) */
	double			*price_capacity; /* shadow price per send */
	uint8_t			*binding_budget; /* another send would
						    exceed the budget */
	uint8_t			*binding_capacity; /* sends == capacity */

	/* Per fairness row (nfair each). */
	long			*fair_sends;	/* planned sends to the segment */
	double			*fair_price;	/* shadow price: expected value
						   given up per send the row
						   asks of the segment */
	uint8_t			*fair_binding;	/* one send fewer to the
						   segment would break it */

	int			 iterations;	/* dual iterations (scale) */
	int			 polish_improved; /* polish raised objective */
	int			 exact_fallback; /* scale mode stalled above the
						    gap and ran exact mode on
						    the whole instance */
	double			 seconds;	/* wall time of the solve */
};

/* solver.c */
/* Fill options with defaults: scale, gap 1e-4, no time limit, all CPUs. */
void	solver_options_init(struct solver_options *);
/*
 * A remaining room as the instance stores it: 0 for a negative room,
 * SOLVER_ROOM_NONE for any room that large or larger (it cannot bind).
 */
uint16_t solver_room(long room);
/*
 * New empty instance. offers is copied (borrowed). Returns NULL with *cause
 * set (caller frees) on bad offers. Caller frees with solver_instance_free.
 */
struct solver_instance *solver_instance_new(int noffers, int nchannels,
	    int ncampaigns, const struct solver_offer *offers, char **cause);
/* Free an instance and its arrays; accepts NULL. */
void	solver_instance_free(struct solver_instance *);
/* Preallocate room for more customers and pairs; 0 or -1 (out of memory). */
int	solver_instance_reserve(struct solver_instance *, int ncustomers,
	    int64_t npairs);
/*
 * Append a customer with npairs candidate pairs (offer, propensity arrays
 * are borrowed and copied) and remaining room: room_all (>= 0; any value
 * from SOLVER_ROOM_NONE up is no cap), room_channel with nchannels
 * entries, room_campaign ncampaigns; either may be NULL for no cap.
 * Returns the new customer's index, or -1 with *cause set (caller frees)
 * on a bad offer index, duplicate offer or propensity outside [0,1].
 */
int	solver_instance_add_customer(struct solver_instance *, int npairs,
	    const uint16_t *offer, const float *propensity, long room_all,
	    const uint16_t *room_channel, const uint16_t *room_campaign,
	    char **cause);
/*
 * Give the instance nrows fairness rows (at most SOLVER_FAIR_MAX): each
 * segment's sends per customer >= min_ratio (in [0,1]) x the base's; base
 * is N (>= 1), size[s] (borrowed, copied) the customers of segment s in the
 * base, pairs or not. Membership starts empty: see
 * solver_instance_fair_member. 0, or -1 with *cause set (caller frees).
 */
int	solver_instance_fairness(struct solver_instance *, int nrows,
	    double min_ratio, long base, const long *size, char **cause);
/*
 * Give the instance ncategories (0 .. SOLVER_CATEGORIES_MAX) categories;
 * offer_category (borrowed, copied) has noffers entries, each -1 (none) or
 * a category. Call after solver_instance_new and before adding customers
 * (customers already added get no category cap). 0, or -1 with *cause set
 * (caller frees).
 */
int	solver_instance_categories(struct solver_instance *, int ncategories,
	    const int *offer_category, char **cause);
/*
 * Set customer c's category rooms: room (borrowed) has ncategories
 * entries, SOLVER_ROOM_NONE for no cap (see solver_room). 0, or -1 for a
 * customer not yet added or an instance without categories.
 */
int	solver_instance_category_room(struct solver_instance *, int customer,
	    const uint16_t *room);
/* Set the fairness rows (bit s: row s) customer c belongs to; 0 or -1. */
int	solver_instance_fair_member(struct solver_instance *, int customer,
	    uint32_t rows);
/*
 * Fairness row s at a plan with seg_sends sends to the segment and
 * total_sends in all: h_s in sends (>= 0 when the row holds).
 */
double	solver_fair_row(const struct solver_instance *, int s, long seg_sends,
	    long total_sends);
/* 1 if that row value meets the row (up to rounding), else 0. */
int	solver_fair_holds(const struct solver_instance *, int s,
	    long seg_sends, long total_sends);
/* Check an instance's arrays; 0 or -1 with *cause set (caller frees). */
int	solver_instance_check(const struct solver_instance *, char **cause);
/*
 * Solve. res is filled (its old contents are ignored); release its arrays
 * with solver_result_free even when -1 is returned. Returns 0 when a plan
 * was produced (any status but SOLVER_ERROR), -1 with *cause set (caller
 * frees) on error. instance and options are borrowed.
 */
int	solver_solve(const struct solver_instance *,
	    const struct solver_options *, struct solver_result *,
	    char **cause);
/* Free the arrays of a result (not the struct); accepts NULL. */
void	solver_result_free(struct solver_result *);
/*
 * v rounded up to decimals places after the point (before it when
 * negative): the least such decimal not below v, as the double that prints
 * as it ("%.*f", decimals). A bound is printed through this so that what a
 * reader sees is never below the certified bound.
 */
double	solver_round_up(double v, int decimals);
/* The same at digits significant digits ("%.*g", digits). */
double	solver_round_up_digits(double v, int digits);
/* Name of a status ("optimal", "gap_reached", ...); static string. */
const char *solver_status_name(enum solver_status);
/*
 * Independent check that selection (one byte per pair, borrowed) obeys
 * every room (channel, campaign, category, all), budget, capacity and
 * fairness row. Returns 0 if feasible, else -1 with
 * *cause naming the first violation (caller frees). If objective is not
 * NULL, the plan's objective is stored there.
 */
int	solver_check_feasible(const struct solver_instance *,
	    const uint8_t *selection, double *objective, char **cause);

#endif /* PACER_SOLVER_H */
