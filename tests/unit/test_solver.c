/*
 * The optimizer end to end (include/pacer/solver.h): scale mode against
 * the exact GLPK optimum, the dual bound against it, every plan through the
 * independent feasibility checker, category rooms against a brute-force
 * optimum, and the odd instances (no pairs, zero budgets, no room)
 * reported rather than crashed on. A distributed solve (solver_comm) runs
 * here on threads joined by an in-process communicator, so its path is
 * tested without MPI (and under the sanitizers).
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pacer/solver.h"

static uint64_t	rng_state;

/* splitmix64, deterministic per seed. */
static uint64_t
rng(void)
{
	uint64_t	z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0,1). */
static double
unit(void)
{
	return (rng() >> 11) * 0x1.0p-53;
}

/*
 * A random instance: noffers offers on 3 channels and 4 campaigns that
 * cross channels, tight budgets and capacities, small rooms.
 */
static struct solver_instance *
make_instance(uint64_t seed, int ncust, int noffers, int crossing)
{
	struct solver_offer	 of[16];
	struct solver_instance	*inst;
	uint16_t		 offer[16];
	float			 prop[16];
	uint16_t		 rch[3], rcp[4];
	char			*cause = NULL;
	int			 c, o, k;

	rng_state = seed;
	for (o = 0; o < noffers; o++) {
		of[o].channel = (int)(rng() % 3);
		of[o].campaign = crossing ? (int)(rng() % 4) : of[o].channel;
		of[o].value = 5 + unit() * 50;
		of[o].cost = unit() < 0.2 ? 0 : 0.05 + unit() * 0.5;
		of[o].budget = unit() < 0.7 ? of[o].cost * ncust *
		    (0.02 + unit() * 0.2) : -1;
		of[o].capacity = unit() < 0.4 ?
		    (long)(ncust * (0.02 + unit() * 0.2)) : -1;
	}
	inst = solver_instance_new(noffers, 3, 4, of, &cause);
	assert_non_null(inst);
	for (c = 0; c < ncust; c++) {
		k = 0;
		for (o = 0; o < noffers; o++) {
			if (unit() < 0.5)
				continue;
			offer[k] = (uint16_t)o;
			prop[k] = (float)(unit() < 0.1 ? unit() :
			    unit() * unit() * 0.3);
			k++;
		}
		rch[0] = (uint16_t)(rng() % 3);
		rch[1] = 1;
		rch[2] = (uint16_t)(1 + rng() % 2);
		rcp[0] = rcp[1] = 1;
		rcp[2] = (uint16_t)(rng() % 3);
		rcp[3] = SOLVER_ROOM_NONE;
		assert_true(solver_instance_add_customer(inst, k, offer, prop,
		    (long)(1 + rng() % 4), rch, rcp, &cause) == c);
	}
	return inst;
}

/* Solve with a method; checks the plan and the reported numbers. */
static void
solve(const struct solver_instance *inst, enum solver_method m, double gap,
    struct solver_result *res)
{
	struct solver_options	 opts;
	char			*cause = NULL;
	double			 obj;
	int			 o;
	long			 sends;

	solver_options_init(&opts);
	opts.method = m;
	opts.gap = gap;
	opts.threads = 2;
	if (solver_solve(inst, &opts, res, &cause) != 0)
		fail_msg("solve: %s", cause);
	if (solver_check_feasible(inst, res->selected, &obj, &cause) != 0)
		fail_msg("infeasible plan: %s", cause);
	assert_true(fabs(obj - res->objective) < 1e-6 * (1 + fabs(obj)));
	assert_true(res->bound >= res->objective - 1e-6);
	sends = 0;
	for (o = 0; o < inst->noffers; o++) {
		sends += res->sends[o];
		assert_true(res->price_budget[o] >= 0);
		assert_true(res->price_capacity[o] >= 0);
	}
	assert_int_equal(sends, res->nselected);
}

/*
 * A demo-data-shaped instance, drawn exactly as bench_solver draws it (50
 * offers on 3 channels and 12 campaigns that cross them, budgets that
 * bind on most offers, rooms of 1 per channel and campaign, some customers
 * near their caps), so the bench's seeds can be replayed here. Kept as one
 * function, draw for draw in bench_solver's order: the same seed must give
 * the same instance.
 */
static struct solver_instance *
make_demo(uint64_t seed, int n)
{
	static const double campaign_value[12][2] = {
		{ 20, 60 }, { 30, 80 }, { 80, 220 }, { 3, 15 }, { 120, 260 },
		{ 15, 50 }, { 2, 10 }, { 30, 120 }, { 40, 150 }, { 10, 40 },
		{ 30, 90 }, { 150, 300 },
	};
	struct solver_offer	 of[50];
	double			 mean[50], elig[50], u, affinity, p;
	struct solver_instance	*inst;
	uint16_t		 offer[50];
	float			 prop[50];
	uint16_t		 rch[3], rcp[12];
	uint8_t			 consent, rall;
	char			*cause = NULL;
	int			 i, o, k, j, contacts, ch;

	rng_state = seed * 7919 + 1;
	for (o = 0; o < 50; o++) {
		u = unit();
		of[o].campaign = o % 12;
		of[o].channel = u < 0.5 ? 0 : u < 0.75 ? 1 : 2;
		u = unit();
		of[o].value = round(campaign_value[of[o].campaign][0] + u *
		    (campaign_value[of[o].campaign][1] -
		    campaign_value[of[o].campaign][0]));
		u = unit();
		of[o].cost = of[o].channel == 1 ? 0.04 + 0.04 * u :
		    of[o].channel == 2 ? 0.0005 + 0.0015 * u :
		    0.005 + 0.015 * u;
		u = unit();
		mean[o] = (0.01 + 0.03 * u) * (of[o].value < 20 ? 3.0 :
		    of[o].value < 80 ? 1.5 : 1.0);
		elig[o] = 0.3 + 0.4 * unit();
		of[o].budget = -1;
		of[o].capacity = -1;
		if (unit() < 0.85)
			of[o].budget = of[o].cost * n * (0.004 + 0.026 *
			    unit());
		if (unit() < 0.25)
			of[o].capacity = (long)(n * (0.005 + 0.035 *
			    unit())) + 1;
	}
	inst = solver_instance_new(50, 3, 12, of, &cause);
	assert_non_null(inst);
	for (i = 0; i < n; i++) {
		consent = unit() < 0.9;
		consent |= (unit() < 0.6) << 1;
		consent |= (unit() < 0.7) << 2;
		affinity = exp(-1 + 2 * unit());
		k = 0;
		for (o = 0; o < 50; o++) {
			if (unit() >= elig[o])
				continue;
			if (!(consent & (1 << of[o].channel)))
				continue;
			p = -log(unit() + 1e-12) * mean[o] * affinity;
			if (p > 0.95)
				p = 0.95;
			offer[k] = (uint16_t)o;
			prop[k] = (float)(round(p * 1e4) / 1e4);
			k++;
		}
		rch[0] = 1;
		rch[1] = 1;
		rch[2] = 2;
		for (j = 0; j < 12; j++)
			rcp[j] = 1;
		u = unit();
		contacts = u < 0.5 ? 0 : u < 0.75 ? 1 : u < 0.9 ? 2 :
		    u < 0.97 ? 4 : 5;
		rall = (uint8_t)(5 - contacts < 4 ? 5 - contacts : 4);
		for (j = 0; j < contacts && j < 2; j++) {
			if (unit() < 0.3) {
				ch = (int)(unit() * 3);
				if (rch[ch] > 0)
					rch[ch]--;
				rcp[(int)(unit() * 12)] = 0;
			}
		}
		assert_true(solver_instance_add_customer(inst, k, offer, prop,
		    rall, rch, rcp, &cause) == i);
	}
	return inst;
}

/* The run reached the gap of 1e-4, certified (never "stalled" above). */
static void
certified(int seed, const struct solver_result *res)
{
	if (res->status != SOLVER_OPTIMAL && res->status != SOLVER_GAP_REACHED)
		fail_msg("seed %d: %s at gap %.3e", seed,
		    solver_status_name(res->status), res->gap);
	assert_true(res->gap <= 1e-4);
}

/*
 * Demo-shaped instances over ten seeds: scale mode reaches the requested
 * gap every time (never "stalled" above it), with a feasible plan.
 */
static void
test_no_stall_across_seeds(void **state)
{
	struct solver_instance	*inst;
	struct solver_result	 res;
	int			 seed;

	(void)state;
	for (seed = 1; seed <= 10; seed++) {
		inst = make_demo(seed, 1200);
		solve(inst, SOLVER_SCALE, 1e-4, &res);
		certified(seed, &res);
		solver_result_free(&res);
		solver_instance_free(inst);
	}
}

/*
 * The repair alone (no polish, gap 0 so it runs at every sweep and the
 * refill in value order is exercised on over-demanded offers): every plan
 * keeps every budget and capacity, on one thread and on several.
 */
static void
test_repair_keeps_budgets(void **state)
{
	struct solver_instance	*inst;
	struct solver_options	 opts;
	struct solver_result	 res;
	char			*cause = NULL;
	int			 seed, o, threads;

	(void)state;
	for (seed = 100; seed < 130; seed++) {
		inst = make_instance(seed, 120 + seed % 7 * 20, 12, seed % 2);
		/* Budgets for a few sends only: every offer over-demanded. */
		for (o = 0; o < inst->noffers; o++)
			if (inst->offers[o].cost > 0)
				inst->offers[o].budget = inst->offers[o].cost *
				    (1 + seed % 5) * (o + 1) + 1e-3;
		for (threads = 1; threads <= 3; threads += 2) {
			solver_options_init(&opts);
			opts.polish_customers = -1;
			opts.gap = 0;
			opts.threads = threads;
			assert_int_equal(solver_solve(inst, &opts, &res,
			    &cause), 0);
			if (solver_check_feasible(inst, res.selected, NULL,
			    &cause) != 0)
				fail_msg("seed %d threads %d: %s", seed,
				    threads, cause);
			for (o = 0; o < inst->noffers; o++) {
				if (inst->offers[o].budget >= 0)
					assert_true(res.spend[o] <=
					    inst->offers[o].budget + 1e-9);
				if (inst->offers[o].capacity >= 0)
					assert_true(res.sends[o] <=
					    inst->offers[o].capacity);
			}
			assert_true(res.bound >= res.objective - 1e-6);
			solver_result_free(&res);
		}
		solver_instance_free(inst);
	}
}

/*
 * The repair's parallel parts (each shard queues and sorts its customers'
 * refill candidates, the refill merges the lists in one total order) do
 * not depend on the threads' timing: on 1, 2 and 3 threads, gap 0 so
 * every sweep repairs, no polish, a second run gives the same plan to the
 * byte, objective and bound to the bit. (Between thread counts the bound
 * is summed by shard and the exchange's holders are kept per shard, so
 * the runs may differ there.)
 */
static void
test_threads_repeat(void **state)
{
	struct solver_instance	*inst;
	struct solver_options	 opts;
	struct solver_result	 res[2];
	char			*cause = NULL;
	int			 seed, threads, run;

	(void)state;
	for (seed = 200; seed < 212; seed++) {
		inst = make_instance(seed, 400 + seed % 5 * 100, 12, seed % 2);
		for (threads = 1; threads <= 3; threads++) {
			for (run = 0; run < 2; run++) {
				solver_options_init(&opts);
				opts.polish_customers = -1;
				opts.gap = 0;
				opts.threads = threads;
				assert_int_equal(solver_solve(inst, &opts,
				    &res[run], &cause), 0);
			}
			assert_int_equal(res[0].iterations, res[1].iterations);
			assert_memory_equal(&res[0].objective,
			    &res[1].objective, sizeof res[0].objective);
			assert_memory_equal(&res[0].bound, &res[1].bound,
			    sizeof res[0].bound);
			assert_memory_equal(res[0].selected, res[1].selected,
			    (size_t)inst->pair_start[inst->ncustomers]);
			solver_result_free(&res[0]);
			solver_result_free(&res[1]);
		}
		solver_instance_free(inst);
	}
}

/* Scale mode within 0.01% of exact; its bound above the optimum. */
static void
test_scale_vs_exact(void **state)
{
	struct solver_instance	*inst;
	struct solver_result	 ex, sc;
	int			 seed;

	(void)state;
	for (seed = 1; seed <= 12; seed++) {
		inst = make_instance(seed, 150 + 25 * seed, 12, seed % 3 != 0);
		solve(inst, SOLVER_EXACT, 0, &ex);
		assert_int_equal(ex.status, SOLVER_OPTIMAL);
		solve(inst, SOLVER_SCALE, 1e-4, &sc);
		/* The Lagrangian bound is an upper bound on the optimum. */
		if (sc.bound < ex.objective - 1e-6 * ex.objective)
			fail_msg("seed %d: bound %.6f below optimum %.6f",
			    seed, sc.bound, ex.objective);
		if (sc.objective < ex.objective * (1 - 1e-4))
			fail_msg("seed %d: scale %.6f exact %.6f", seed,
			    sc.objective, ex.objective);
		assert_true(sc.objective <= ex.objective + 1e-6 *
		    (1 + ex.objective));
		assert_true(sc.status == SOLVER_OPTIMAL ||
		    sc.status == SOLVER_GAP_REACHED);
		solver_result_free(&ex);
		solver_result_free(&sc);
		solver_instance_free(inst);
	}
}

/* The dual bound of scale mode without polish still bounds the optimum. */
static void
test_bound_without_polish(void **state)
{
	struct solver_instance	*inst;
	struct solver_options	 opts;
	struct solver_result	 ex, sc;
	char			*cause = NULL;
	int			 seed;

	(void)state;
	for (seed = 20; seed < 40; seed++) {
		inst = make_instance(seed, 60 + seed, 8, 1);
		solve(inst, SOLVER_EXACT, 0, &ex);
		solver_options_init(&opts);
		opts.polish_customers = -1;
		opts.gap = 0;
		assert_int_equal(solver_solve(inst, &opts, &sc, &cause), 0);
		assert_int_equal(solver_check_feasible(inst, sc.selected, NULL,
		    &cause), 0);
		if (sc.bound < ex.objective - 1e-7 * (1 + ex.objective))
			fail_msg("seed %d: bound %.9f below optimum %.9f",
			    seed, sc.bound, ex.objective);
		assert_true(sc.objective <= ex.objective + 1e-6);
		solver_result_free(&ex);
		solver_result_free(&sc);
		solver_instance_free(inst);
	}
}

/* No customers, or customers without pairs: empty, not a crash. */
static void
test_empty(void **state)
{
	struct solver_offer	 of = { 10, 1, -1, -1, 0, 0 };
	struct solver_instance	*inst;
	struct solver_result	 res;
	char			*cause = NULL;

	(void)state;
	inst = solver_instance_new(1, 1, 1, &of, &cause);
	assert_non_null(inst);
	assert_int_equal(solver_solve(inst, NULL, &res, &cause), 0);
	assert_int_equal(res.status, SOLVER_EMPTY);
	solver_result_free(&res);
	assert_int_equal(solver_instance_add_customer(inst, 0, NULL, NULL, 3,
	    NULL, NULL, &cause), 0);
	assert_int_equal(solver_solve(inst, NULL, &res, &cause), 0);
	assert_int_equal(res.status, SOLVER_EMPTY);
	assert_true(res.objective == 0);
	solver_result_free(&res);
	solver_instance_free(inst);
}

/* Zero budgets and no room: a plan of nothing, optimal, no crash. */
static void
test_zero_budgets(void **state)
{
	struct solver_instance	*inst;
	struct solver_result	 res;
	int			 o, m;

	(void)state;
	for (m = 0; m < 2; m++) {
		inst = make_instance(7, 100, 6, 1);
		for (o = 0; o < inst->noffers; o++) {
			inst->offers[o].cost = 1;
			inst->offers[o].budget = 0;
		}
		solve(inst, m == 0 ? SOLVER_SCALE : SOLVER_EXACT, 1e-4, &res);
		assert_int_equal(res.nselected, 0);
		assert_true(res.objective == 0);
		assert_int_equal(res.status, SOLVER_OPTIMAL);
		solver_result_free(&res);
		/* Budgets back, but nobody has room. */
		for (o = 0; o < inst->noffers; o++)
			inst->offers[o].budget = -1;
		memset(inst->room_all, 0, inst->ncustomers *
		    sizeof *inst->room_all);
		solve(inst, m == 0 ? SOLVER_SCALE : SOLVER_EXACT, 1e-4, &res);
		assert_int_equal(res.nselected, 0);
		solver_result_free(&res);
		solver_instance_free(inst);
	}
}

/* Bad input is refused with a cause. */
static void
test_bad_input(void **state)
{
	struct solver_offer	 of = { 10, 1, -1, -1, 0, 0 };
	struct solver_instance	*inst;
	uint16_t		 offer[2] = { 0, 0 };
	float			 prop[2] = { 0.5f, 0.5f };
	char			*cause = NULL;

	(void)state;
	of.channel = 5;
	assert_null(solver_instance_new(1, 1, 1, &of, &cause));
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	of.channel = 0;
	inst = solver_instance_new(1, 1, 1, &of, &cause);
	assert_int_equal(solver_instance_add_customer(inst, 2, offer, prop, 3,
	    NULL, NULL, &cause), -1);
	free(cause);
	cause = NULL;
	prop[0] = 1.5f;
	assert_int_equal(solver_instance_add_customer(inst, 1, offer, prop, 3,
	    NULL, NULL, &cause), -1);
	free(cause);
	solver_instance_free(inst);
}

/* The checker catches each kind of violation. */
static void
test_checker(void **state)
{
	struct solver_offer	 of[2] = {
		{ 10, 1, 1.5, -1, 0, 0 },	/* budget: one send */
		{ 10, 0, -1, 1, 0, 1 },		/* capacity: one send */
	};
	struct solver_instance	*inst;
	uint16_t		 offer[2] = { 0, 1 };
	float			 prop[2] = { 0.5f, 0.5f };
	uint8_t			 sel[4], one = 1;
	char			*cause = NULL;

	(void)state;
	inst = solver_instance_new(2, 1, 2, of, &cause);
	solver_instance_add_customer(inst, 2, offer, prop, 2, NULL, NULL,
	    &cause);
	solver_instance_add_customer(inst, 2, offer, prop, 2, NULL, NULL,
	    &cause);
	memset(sel, 0, sizeof sel);
	sel[0] = sel[1] = 1;
	assert_int_equal(solver_check_feasible(inst, sel, NULL, &cause), 0);
	sel[2] = 1;	/* second send of offer 0: over budget */
	assert_int_equal(solver_check_feasible(inst, sel, NULL, &cause), -1);
	free(cause);
	sel[2] = 0;
	sel[3] = 1;	/* second send of offer 1: over capacity */
	assert_int_equal(solver_check_feasible(inst, sel, NULL, &cause), -1);
	free(cause);
	sel[3] = 0;
	inst->room_channel[0] = one;	/* customer 0: one send on ch 0 */
	assert_int_equal(solver_check_feasible(inst, sel, NULL, &cause), -1);
	free(cause);
	solver_instance_free(inst);
}

/* Warm prices from a previous run give the same answer. */
static void
test_warm_start(void **state)
{
	struct solver_instance	*inst;
	struct solver_options	 opts;
	struct solver_result	 a, b;
	char			*cause = NULL;

	(void)state;
	inst = make_instance(99, 400, 12, 1);
	solve(inst, SOLVER_SCALE, 1e-4, &a);
	solver_options_init(&opts);
	opts.warm_price_budget = a.price_budget;
	opts.warm_price_capacity = a.price_capacity;
	assert_int_equal(solver_solve(inst, &opts, &b, &cause), 0);
	assert_int_equal(solver_check_feasible(inst, b.selected, NULL, &cause),
	    0);
	assert_true(b.iterations <= a.iterations);
	assert_true(b.gap <= 1e-4);
	solver_result_free(&a);
	solver_result_free(&b);
	solver_instance_free(inst);
}

/*
 * One customer, 500 offers, no caps but max_offers_per_customer = 300: a
 * room past 255 must not be cut to a byte (nor 255 taken as a limit), so
 * both methods find the top 300 and a bound at or above them; with no room
 * limit at all, every offer.
 */
static void
test_wide_room(void **state)
{
	struct solver_offer	 of[500];
	struct solver_instance	*inst;
	struct solver_result	 res;
	uint16_t		 offer[500];
	float			 prop[500];
	double			 best, v[500], tmp;
	char			*cause = NULL;
	int			 o, j, m, r, room[2] = { 300, SOLVER_ROOM_NONE };

	(void)state;
	rng_state = 4242;
	for (o = 0; o < 500; o++) {
		of[o].value = 10 + o % 37;
		of[o].cost = 0.01 * (o % 5);
		of[o].budget = -1;
		of[o].capacity = -1;
		of[o].channel = 0;
		of[o].campaign = 0;
		offer[o] = (uint16_t)o;
		prop[o] = (float)(0.05 + 0.9 * unit());
		v[o] = (double)prop[o] * of[o].value - of[o].cost;
	}
	/* The optimum: the largest values, by selection sort. */
	for (o = 0; o < 500; o++)
		for (j = o + 1; j < 500; j++)
			if (v[j] > v[o]) {
				tmp = v[o];
				v[o] = v[j];
				v[j] = tmp;
			}
	for (r = 0; r < 2; r++) {
		inst = solver_instance_new(500, 1, 1, of, &cause);
		assert_non_null(inst);
		assert_int_equal(solver_instance_add_customer(inst, 500, offer,
		    prop, room[r], NULL, NULL, &cause), 0);
		best = 0;
		for (o = 0; o < (r == 0 ? 300 : 500); o++)
			best += v[o];
		for (m = 0; m < 2; m++) {
			solve(inst, m == 0 ? SOLVER_SCALE : SOLVER_EXACT, 1e-4,
			    &res);
			if (fabs(res.objective - best) > 1e-6 * best)
				fail_msg("room %d method %d: objective %.6f, "
				    "optimum %.6f", room[r], m, res.objective,
				    best);
			assert_int_equal(res.nselected, r == 0 ? 300 : 500);
			assert_true(res.bound >= best - 1e-9 * best);
			assert_true(res.status == SOLVER_OPTIMAL ||
			    res.status == SOLVER_GAP_REACHED);
			solver_result_free(&res);
		}
		solver_instance_free(inst);
	}
}

/*
 * Tight budgets and capacities, one offer per customer, propensities on
 * three levels (ties): the instance shape where scale mode threw away the
 * plan it rebuilt at the best prices because a polish too small to help
 * did not improve on it, and returned an older plan 5-13% below the
 * optimum. The best plan met anywhere in the run is the one returned.
 */
static struct solver_instance *
make_single_offer(uint64_t seed, int ncust)
{
	struct solver_offer	 of[12];
	struct solver_instance	*inst;
	uint16_t		 offer[12];
	float			 prop[12];
	char			*cause = NULL;
	int			 c, o, k;

	rng_state = seed;
	for (o = 0; o < 12; o++) {
		of[o].channel = (int)(rng() % 3);
		of[o].campaign = (int)(rng() % 4);
		of[o].value = 5 + unit() * 50;
		of[o].cost = 0.1 + unit();
		of[o].budget = unit() < 0.7 ? of[o].cost * ncust *
		    (0.01 + unit() * 0.08) : -1;
		of[o].capacity = unit() < 0.6 ?
		    (long)(ncust * (0.01 + unit() * 0.08)) : -1;
	}
	inst = solver_instance_new(12, 3, 4, of, &cause);
	assert_non_null(inst);
	for (c = 0; c < ncust; c++) {
		k = 0;
		for (o = 0; o < 12; o++) {
			if (unit() < 0.4)
				continue;
			offer[k] = (uint16_t)o;
			prop[k++] = (float)(0.05 * (double)(1 + rng() % 3));
		}
		assert_int_equal(solver_instance_add_customer(inst, k, offer,
		    prop, 1, NULL, NULL, &cause), c);
	}
	return inst;
}

/* Scale mode returns the best plan it found, not an older one. */
/*
 * A run stopped by its time limit at the first sweep, whose prices are far
 * from the targets (no sweep is repaired in the loop then), still returns a
 * plan: the one repaired at the last prices, feasible and not empty.
 */
static void
test_time_limit_still_plans(void **state)
{
	struct solver_instance	*inst;
	struct solver_options	 opts;
	struct solver_result	 res;
	char			*cause = NULL;
	double			 obj;

	(void)state;
	inst = make_demo(3, 20000);
	solver_options_init(&opts);
	opts.threads = 2;
	opts.gap = 1e-6;
	opts.time_limit_s = 1e-6;
	if (solver_solve(inst, &opts, &res, &cause) != 0)
		fail_msg("solve: %s", cause);
	assert_int_equal(res.status, SOLVER_TIME_LIMIT);
	assert_true(res.iterations <= 2);
	assert_int_equal(solver_check_feasible(inst, res.selected, &obj, &cause),
	    0);
	assert_true(res.nselected > 1000);
	assert_true(obj > 0 && fabs(obj - res.objective) < 1e-6 * obj);
	assert_true(res.bound >= res.objective);
	solver_result_free(&res);
	solver_instance_free(inst);
}

static void
test_keeps_best_plan(void **state)
{
	struct solver_instance	*inst;
	struct solver_options	 opts;
	struct solver_result	 ex, sc;
	char			*cause = NULL;
	int			 seed;

	(void)state;
	for (seed = 1; seed <= 7; seed++) {
		inst = make_single_offer(seed, 600);
		solve(inst, SOLVER_EXACT, 0, &ex);
		assert_int_equal(ex.status, SOLVER_OPTIMAL);
		solver_options_init(&opts);
		opts.threads = 2;
		opts.polish_customers = 1;
		opts.exact_fallback = 0;	/* the plan of the prices alone */
		assert_int_equal(solver_solve(inst, &opts, &sc, &cause), 0);
		assert_int_equal(solver_check_feasible(inst, sc.selected, NULL,
		    &cause), 0);
		if (sc.objective < ex.objective * (1 - 0.025))
			fail_msg("seed %d: scale %.4f (%s), exact %.4f", seed,
			    sc.objective, solver_status_name(sc.status),
			    ex.objective);
		assert_true(sc.bound >= ex.objective * (1 - 1e-9));
		solver_result_free(&ex);
		solver_result_free(&sc);
		solver_instance_free(inst);
	}
}

/*
 * A bound printed at d decimals is the least such decimal not below it
 * (rounding to nearest printed 1234.5678 for a bound of 1234.56781, below
 * a plan worth 1234.56785).
 */
static void
test_round_up(void **state)
{
	char	 buf[64], *end;
	double	 v, r, p;
	int	 i, d;

	(void)state;
	snprintf(buf, sizeof buf, "%.4f", solver_round_up(1234.56781, 4));
	assert_string_equal(buf, "1234.5679");
	snprintf(buf, sizeof buf, "%.2f", solver_round_up(97.5, 2));
	assert_string_equal(buf, "97.50");
	snprintf(buf, sizeof buf, "%.1f", solver_round_up(0.1 + 0.2, 1));
	assert_string_equal(buf, "0.4");	/* 0.30000000000000004 */
	snprintf(buf, sizeof buf, "%.1f", solver_round_up(-2.25, 1));
	assert_string_equal(buf, "-2.2");
	snprintf(buf, sizeof buf, "%.12g", solver_round_up_digits(
	    100.0000000000004, 12));
	assert_string_equal(buf, "100.000000001");
	snprintf(buf, sizeof buf, "%.12g", solver_round_up_digits(
	    1234567.8901234, 12));
	assert_string_equal(buf, "1234567.89013");
	rng_state = 77;
	for (i = 0; i < 100000; i++) {
		v = (unit() - 0.1) * pow(10, (double)(rng() % 9));
		d = (int)(rng() % 7);
		r = solver_round_up(v, d);
		snprintf(buf, sizeof buf, "%.*f", d, r);
		p = strtod(buf, &end);
		/* Not below v, and one unit less would be (to rounding). */
		if (!(p >= v) || !(p - pow(10, -d) < v + 1e-15 * fabs(v)))
			fail_msg("%.17g at %d: %s", v, d, buf);
		r = solver_round_up_digits(v, 12);
		snprintf(buf, sizeof buf, "%.12g", r);
		if (!(strtod(buf, &end) >= v))
			fail_msg("%.17g at 12 digits: %s", v, buf);
	}
}

/*
 * Ties: propensities on three levels leave scale mode's prices short of
 * the gap (it ended "stalled" 0.03-2% below the optimum); it falls back to
 * exact mode on the instance, says so, and reaches the gap, certified.
 */
static void
test_ties_reach_gap(void **state)
{
	struct solver_instance	*inst;
	struct solver_result	 ex, sc;
	int			 seed, fallbacks = 0;

	(void)state;
	for (seed = 1; seed <= 7; seed++) {
		inst = make_single_offer(seed, 1000);
		solve(inst, SOLVER_EXACT, 0, &ex);
		solve(inst, SOLVER_SCALE, 1e-4, &sc);
		certified(seed, &sc);
		assert_true(sc.objective >= ex.objective * (1 - 1e-4));
		assert_true(sc.bound >= ex.objective * (1 - 1e-9));
		fallbacks += sc.exact_fallback;
		solver_result_free(&ex);
		solver_result_free(&sc);
		solver_instance_free(inst);
	}
	assert_true(fallbacks > 0);
}

/*
 * A small fairness instance for the brute-force oracle: ncust customers
 * (at most 12 pairs in all) on 2 channels and 2 campaigns, tight rooms,
 * budgets and capacities; two rows, the first segment's customers of low
 * propensity (so the row binds), some of its pairs of negative net value;
 * min_ratio tenths/10; the base has extra customers without pairs.
 */
static struct solver_instance *
make_fair(uint64_t seed, int *tenths)
{
	struct solver_offer	 of[4];
	struct solver_instance	*inst;
	uint16_t		 offer[4], rch[2], rcp[2];
	float			 prop[4];
	uint32_t		 member[8];
	long			 size[2] = { 0, 0 }, base;
	char			*cause = NULL;
	int			 c, o, k, ncust, np = 0, noffers = 3;

	rng_state = seed * 7919 + 17;
	ncust = 4 + (int)(rng() % 3);
	for (o = 0; o < noffers; o++) {
		of[o].channel = o % 2;
		of[o].campaign = (int)(rng() % 2);
		of[o].value = 10 + unit() * 40;
		of[o].cost = 0.5 + unit() * 2;
		of[o].budget = unit() < 0.5 ? of[o].cost * (1 + (int)(rng() %
		    3)) : -1;
		of[o].capacity = unit() < 0.5 ? (long)(1 + rng() % 3) : -1;
	}
	inst = solver_instance_new(noffers, 2, 2, of, &cause);
	assert_non_null(inst);
	for (c = 0; c < ncust; c++) {
		member[c] = (c % 3 == 0 ? 1u : 0) | (c % 2 == 1 ? 2u : 0);
		k = 0;
		for (o = 0; o < noffers && np + k < 12; o++) {
			if (unit() < 0.35)
				continue;
			offer[k] = (uint16_t)o;
			/* Row 0's members respond less, some below cost. */
			prop[k] = (float)((member[c] & 1) ? unit() * 0.12 :
			    0.1 + unit() * 0.5);
			k++;
		}
		np += k;
		rch[0] = (uint16_t)(1 + rng() % 2);
		rch[1] = 1;
		rcp[0] = (uint16_t)(1 + rng() % 2);
		rcp[1] = SOLVER_ROOM_NONE;
		assert_true(solver_instance_add_customer(inst, k, offer, prop,
		    (long)(1 + rng() % 3), rch, rcp, &cause) == c);
		size[0] += member[c] & 1;
		size[1] += (member[c] >> 1) & 1;
	}
	base = ncust + (long)(rng() % 3);
	/* A base customer without pairs may be in row 1's segment. */
	if (base > ncust)
		size[1]++;
	*tenths = 5 + (int)(rng() % 6);
	assert_int_equal(solver_instance_fairness(inst, 2, *tenths / 10.0,
	    base, size, &cause), 0);
	for (c = 0; c < ncust; c++)
		assert_int_equal(solver_instance_fair_member(inst, c,
		    member[c]), 0);
	return inst;
}

/*
 * The optimum by enumerating every plan, each recounted here against
 * rooms, budgets, capacities and (in integers: 10 S N >= t |s| T) the
 * fairness rows; with fair 0 the rows are left out. -1 if no plan has a
 * pair (cannot happen: the empty plan is one).
 */
static double
brute_fair(const struct solver_instance *inst, int tenths, int fair)
{
	int64_t		 np = inst->pair_start[inst->ncustomers], k;
	uint32_t	 mask;
	double		 best = -1, obj;
	long		 sends[4], seg[2], total;
	int		 c, o, n, ch[2], cp[2], ok, s;

	assert_true(np <= 12);
	for (mask = 0; mask < (1u << np); mask++) {
		obj = 0;
		ok = 1;
		total = seg[0] = seg[1] = 0;
		memset(sends, 0, sizeof sends);
		for (c = 0; c < inst->ncustomers && ok; c++) {
			n = ch[0] = ch[1] = cp[0] = cp[1] = 0;
			for (k = inst->pair_start[c];
			    k < inst->pair_start[c + 1]; k++) {
				const struct solver_offer *of;

				if (!((mask >> k) & 1))
					continue;
				o = inst->pair_offer[k];
				of = &inst->offers[o];
				n++;
				ch[of->channel]++;
				cp[of->campaign]++;
				sends[o]++;
				obj += inst->pair_propensity[k] * of->value -
				    of->cost;
			}
			ok = n <= inst->room_all[c] &&
			    ch[0] <= inst->room_channel[2 * c] &&
			    ch[1] <= inst->room_channel[2 * c + 1] &&
			    cp[0] <= inst->room_campaign[2 * c] &&
			    cp[1] <= inst->room_campaign[2 * c + 1];
			total += n;
			for (s = 0; s < 2; s++)
				if ((inst->fair_member[c] >> s) & 1)
					seg[s] += n;
		}
		for (o = 0; ok && o < inst->noffers; o++) {
			const struct solver_offer *of = &inst->offers[o];

			if ((of->capacity >= 0 && sends[o] > of->capacity) ||
			    (of->budget >= 0 && sends[o] * of->cost >
			    of->budget + 1e-9))
				ok = 0;
		}
		for (s = 0; fair && ok && s < 2; s++)
			if (10 * seg[s] * inst->fair_base < tenths *
			    inst->fair_size[s] * total)
				ok = 0;
		if (ok && obj > best)
			best = obj;
	}
	return best;
}

/*
 * Fairness rows against the brute-force optimum: exact mode finds it,
 * scale mode's plan meets every row and its bound is never below the
 * optimum (the rows' prices have the right sign), with and without the
 * polish and fallback; on most instances the rows cost value, and the
 * reported sends and binding flags match the plan.
 */
static void
test_fairness_oracle(void **state)
{
	struct solver_instance	*inst;
	struct solver_result	 ex, sc, raw;
	struct solver_options	 opts;
	char			*cause = NULL;
	double			 opt, free_opt, tol, obj;
	int			 seed, tenths, binding = 0, priced = 0, s;
	int			 scale_optimal = 0, n = 60;
	long			 seg[2], total;

	(void)state;
	for (seed = 1; seed <= n; seed++) {
		inst = make_fair((uint64_t)seed, &tenths);
		opt = brute_fair(inst, tenths, 1);
		free_opt = brute_fair(inst, tenths, 0);
		tol = 1e-6 * (1 + fabs(opt));
		assert_true(opt >= 0 && free_opt >= opt - tol);
		binding += free_opt > opt + tol;

		solve(inst, SOLVER_EXACT, 0, &ex);
		if (fabs(ex.objective - opt) > tol)
			fail_msg("seed %d: exact %.9f, oracle %.9f", seed,
			    ex.objective, opt);
		assert_true(ex.bound >= opt - tol);
		for (s = 0; s < 2; s++)
			priced += ex.fair_price[s] > 1e-9;

		solve(inst, SOLVER_SCALE, 1e-4, &sc);
		if (sc.objective > opt + tol || sc.bound < opt - tol)
			fail_msg("seed %d: scale %.9f bound %.9f, oracle %.9f",
			    seed, sc.objective, sc.bound, opt);
		scale_optimal += sc.objective >= opt - tol;

		/* The dual loop alone: still a bound, still a fair plan. */
		solver_options_init(&opts);
		opts.polish_customers = -1;
		opts.exact_fallback = 0;
		opts.threads = 1 + seed % 2;
		if (solver_solve(inst, &opts, &raw, &cause) != 0)
			fail_msg("seed %d: %s", seed, cause);
		if (solver_check_feasible(inst, raw.selected, &obj, &cause))
			fail_msg("seed %d: %s", seed, cause);
		if (raw.bound < opt - tol)
			fail_msg("seed %d: dual bound %.9f below the optimum "
			    "%.9f", seed, raw.bound, opt);
		for (s = 0; s < 2; s++)
			assert_true(raw.fair_price[s] >= 0);

		total = 0;
		seg[0] = seg[1] = 0;
		for (int c = 0; c < inst->ncustomers; c++)
			for (int64_t k = inst->pair_start[c];
			    k < inst->pair_start[c + 1]; k++) {
				if (!sc.selected[k])
					continue;
				total++;
				for (s = 0; s < 2; s++)
					seg[s] += (inst->fair_member[c] >> s) & 1;
			}
		for (s = 0; s < 2; s++) {
			assert_int_equal(sc.fair_sends[s], seg[s]);
			assert_int_equal(sc.fair_binding[s], seg[s] > 0 &&
			    10 * (seg[s] - 1) * inst->fair_base < tenths *
			    inst->fair_size[s] * (total - 1));
		}
		solver_result_free(&ex);
		solver_result_free(&sc);
		solver_result_free(&raw);
		solver_instance_free(inst);
	}
	/* The rows must bind often enough for this to test anything. */
	assert_true(binding >= n / 4);
	assert_true(priced > 0);
	assert_true(scale_optimal >= n * 9 / 10);
}

/*
 * Fairness at scale: 3,000 customers, a segment of low responders; both
 * methods' plans meet the row, scale mode within the gap of exact mode,
 * and the row binds with a positive price in both.
 */
static void
test_fairness_scale(void **state)
{
	struct solver_instance	*inst;
	struct solver_result	 ex, sc;
	char			*cause = NULL;
	long			 size;
	int			 c, n = 3000;

	(void)state;
	inst = make_demo(5, n);
	size = 0;
	for (c = 0; c < n; c++)
		size += c % 5 == 0;
	assert_int_equal(solver_instance_fairness(inst, 1, 1.0, n, &size,
	    &cause), 0);
	/* The segment: every fifth customer, its propensities cut to a third. */
	for (c = 0; c < n; c++) {
		if (c % 5 != 0)
			continue;
		assert_int_equal(solver_instance_fair_member(inst, c, 1), 0);
		for (int64_t k = inst->pair_start[c];
		    k < inst->pair_start[c + 1]; k++)
			inst->pair_propensity[k] /= 3;
	}
	solve(inst, SOLVER_EXACT, 1e-5, &ex);
	solve(inst, SOLVER_SCALE, 1e-4, &sc);
	print_message("fairness 3000: exact %.4f (price %.4f) scale %.4f "
	    "bound %.4f price %.4f status %s sends %ld/%ld\n", ex.objective,
	    ex.fair_price[0], sc.objective, sc.bound, sc.fair_price[0],
	    solver_status_name(sc.status), sc.fair_sends[0], sc.nselected);
	assert_true(sc.objective >= ex.objective * (1 - 2e-4));
	assert_true(sc.bound >= ex.objective * (1 - 1e-5));
	assert_true(ex.fair_binding[0] && sc.fair_binding[0]);
	assert_true(ex.fair_price[0] > 0 && sc.fair_price[0] > 0);
	solver_result_free(&ex);
	solver_result_free(&sc);
	solver_instance_free(inst);
}

/* A room drawn from 0, 1, 2 and none. */
static uint16_t
category_room(void)
{
	static const uint16_t	rooms[4] = { 0, 1, 2, SOLVER_ROOM_NONE };

	return rooms[rng() % 4];
}

/*
 * A small instance with categories for the brute-force oracle: ncust
 * customers (at most maxpairs pairs in all) over noffers offers on 2
 * channels and 3 campaigns that cross them, in 2 or 3 categories that cross
 * both (some offers in none); rooms 0, 1, 2 or none; tight budgets and
 * capacities on some offers. With maxpairs 0, no pair limit.
 */
static struct solver_instance *
make_category(uint64_t seed, int ncust, int noffers, int maxpairs)
{
	struct solver_offer	 of[16];
	struct solver_instance	*inst;
	uint16_t		 offer[16], rch[2], rcp[3], rk[3];
	float			 prop[16];
	int			 cat[16], ncat, c, o, k, np = 0;
	char			*cause = NULL;

	rng_state = seed * 104729 + 3;
	ncat = 2 + (int)(rng() % 2);
	for (o = 0; o < noffers; o++) {
		of[o].channel = (int)(rng() % 2);
		of[o].campaign = (int)(rng() % 3);
		of[o].value = 10 + unit() * 40;
		of[o].cost = unit() < 0.2 ? 0 : 0.2 + unit();
		of[o].budget = unit() < 0.3 && of[o].cost > 0 ? of[o].cost *
		    (1 + (int)(rng() % (ncust / 2 + 1))) : -1;
		of[o].capacity = unit() < 0.3 ?
		    (long)(1 + rng() % (ncust / 2 + 1)) : -1;
		cat[o] = unit() < 0.15 ? -1 : (int)(rng() % ncat);
	}
	inst = solver_instance_new(noffers, 2, 3, of, &cause);
	assert_non_null(inst);
	if (solver_instance_categories(inst, ncat, cat, &cause) != 0)
		fail_msg("categories: %s", cause);
	for (c = 0; c < ncust; c++) {
		k = 0;
		for (o = 0; o < noffers; o++) {
			if (unit() < 0.4 || (maxpairs > 0 && np + k >= maxpairs))
				continue;
			offer[k] = (uint16_t)o;
			prop[k] = (float)(0.05 + unit() * 0.5);
			k++;
		}
		np += k;
		rch[0] = rng() % 3 == 0 ? SOLVER_ROOM_NONE :
		    (uint16_t)(1 + rng() % 3);
		rch[1] = (uint16_t)(1 + rng() % 3);
		rcp[0] = rcp[1] = rcp[2] = SOLVER_ROOM_NONE;
		rcp[rng() % 3] = (uint16_t)(1 + rng() % 2);
		assert_true(solver_instance_add_customer(inst, k, offer, prop,
		    rng() % 4 == 0 ? SOLVER_ROOM_NONE : (long)(1 + rng() % 4),
		    rch, rcp, &cause) == c);
		/* Some customers keep no category cap at all. */
		if (rng() % 5 == 0)
			continue;
		for (o = 0; o < ncat; o++)
			rk[o] = category_room();
		assert_int_equal(solver_instance_category_room(inst, c, rk), 0);
	}
	return inst;
}

/*
 * The optimum by enumerating every plan (at most 16 pairs), each recounted
 * here against every room, budget and capacity; with categories 0 the
 * category rooms are left out.
 */
static double
brute_category(const struct solver_instance *inst, int categories)
{
	int64_t		 np = inst->pair_start[inst->ncustomers], k;
	uint32_t	 mask;
	double		 best = -1, obj;
	long		 sends[16];
	int		 c, o, n, ch[2], cp[3], kc[4], ok, j, cat;

	assert_true(np <= 16 && inst->noffers <= 16);
	for (mask = 0; mask < (1u << np); mask++) {
		obj = 0;
		ok = 1;
		memset(sends, 0, sizeof sends);
		for (c = 0; c < inst->ncustomers && ok; c++) {
			n = 0;
			memset(ch, 0, sizeof ch);
			memset(cp, 0, sizeof cp);
			memset(kc, 0, sizeof kc);
			for (k = inst->pair_start[c];
			    k < inst->pair_start[c + 1]; k++) {
				const struct solver_offer *of;

				if (!((mask >> k) & 1))
					continue;
				o = inst->pair_offer[k];
				of = &inst->offers[o];
				n++;
				ch[of->channel]++;
				cp[of->campaign]++;
				if ((cat = inst->offer_category[o]) >= 0)
					kc[cat]++;
				sends[o]++;
				obj += inst->pair_propensity[k] * of->value -
				    of->cost;
			}
			ok = n <= inst->room_all[c];
			for (j = 0; j < 2; j++)
				ok &= ch[j] <= inst->room_channel[2 * c + j];
			for (j = 0; j < 3; j++)
				ok &= cp[j] <= inst->room_campaign[3 * c + j];
			for (j = 0; categories && j < inst->ncategories; j++)
				ok &= kc[j] <= inst->room_category[(size_t)c *
				    inst->ncategories + j];
		}
		for (o = 0; ok && o < inst->noffers; o++) {
			const struct solver_offer *of = &inst->offers[o];

			if ((of->capacity >= 0 && sends[o] > of->capacity) ||
			    (of->budget >= 0 && sends[o] * of->cost >
			    of->budget * (1 + 1e-12) + 1e-9))
				ok = 0;
		}
		if (ok && obj > best)
			best = obj;
	}
	return best;
}

/*
 * Category rooms against the brute-force optimum: exact mode finds it,
 * scale mode (with its polish, and its dual loop alone) plans feasibly
 * within the gap and never bounds below it; on most instances the rooms
 * bind (ignoring them would plan more than the optimum).
 */
static void
test_category_oracle(void **state)
{
	struct solver_instance	*inst;
	struct solver_result	 ex, sc, raw;
	struct solver_options	 opts;
	char			*cause = NULL;
	double			 opt, free_opt, tol;
	int			 seed, binding = 0, n = 150, scale_optimal = 0;

	(void)state;
	for (seed = 1; seed <= n; seed++) {
		inst = make_category((uint64_t)seed, 3 + seed % 4, 6 + seed % 5,
		    15);
		opt = brute_category(inst, 1);
		free_opt = brute_category(inst, 0);
		tol = 1e-6 * (1 + fabs(opt));
		assert_true(opt >= 0 && free_opt >= opt - tol);
		binding += free_opt > opt + tol;

		solve(inst, SOLVER_EXACT, 0, &ex);
		if (fabs(ex.objective - opt) > tol)
			fail_msg("seed %d: exact %.9f, oracle %.9f", seed,
			    ex.objective, opt);
		assert_true(ex.bound >= opt - tol);

		solve(inst, SOLVER_SCALE, 1e-4, &sc);
		if (sc.objective > opt + tol || sc.bound < opt - tol ||
		    sc.objective < opt * (1 - 1e-4) - tol)
			fail_msg("seed %d: scale %.9f bound %.9f, oracle %.9f",
			    seed, sc.objective, sc.bound, opt);
		scale_optimal += sc.objective >= opt - tol;

		/* The dual loop alone: still a bound, still a feasible plan. */
		solver_options_init(&opts);
		opts.polish_customers = -1;
		opts.exact_fallback = 0;
		opts.gap = 0;
		opts.threads = 1 + seed % 2;
		if (solver_solve(inst, &opts, &raw, &cause) != 0)
			fail_msg("seed %d: %s", seed, cause);
		if (solver_check_feasible(inst, raw.selected, NULL, &cause))
			fail_msg("seed %d: %s", seed, cause);
		if (raw.bound < opt - tol || raw.objective > opt + tol)
			fail_msg("seed %d: dual bound %.9f plan %.9f, optimum "
			    "%.9f", seed, raw.bound, raw.objective, opt);
		solver_result_free(&ex);
		solver_result_free(&sc);
		solver_result_free(&raw);
		solver_instance_free(inst);
	}
	assert_true(binding >= n / 3);
	assert_true(scale_optimal == n);
}

/*
 * Bigger instances with categories (too many pairs for brute force):
 * scale mode within the gap of exact mode, its bound above exact's
 * optimum, with and without the polish.
 */
static void
test_category_scale_vs_exact(void **state)
{
	struct solver_instance	*inst;
	struct solver_result	 ex, sc, raw;
	struct solver_options	 opts;
	char			*cause = NULL;
	int			 seed;

	(void)state;
	for (seed = 1; seed <= 8; seed++) {
		inst = make_category((uint64_t)seed + 1000, 100 + 40 * seed,
		    8 + seed, 0);
		solve(inst, SOLVER_EXACT, 0, &ex);
		assert_int_equal(ex.status, SOLVER_OPTIMAL);
		solve(inst, SOLVER_SCALE, 1e-4, &sc);
		if (sc.bound < ex.objective - 1e-6 * (1 + ex.objective))
			fail_msg("seed %d: bound %.6f below optimum %.6f",
			    seed, sc.bound, ex.objective);
		if (sc.objective < ex.objective * (1 - 1e-4) - 1e-6)
			fail_msg("seed %d: scale %.6f exact %.6f (%s)", seed,
			    sc.objective, ex.objective,
			    solver_status_name(sc.status));
		assert_true(sc.objective <= ex.objective + 1e-6 *
		    (1 + ex.objective));
		solver_options_init(&opts);
		opts.polish_customers = -1;
		opts.exact_fallback = 0;
		opts.gap = 0;
		opts.threads = 2;
		assert_int_equal(solver_solve(inst, &opts, &raw, &cause), 0);
		if (solver_check_feasible(inst, raw.selected, NULL, &cause))
			fail_msg("seed %d: %s", seed, cause);
		if (raw.bound < ex.objective - 1e-6 * (1 + ex.objective))
			fail_msg("seed %d: dual bound %.6f below optimum %.6f",
			    seed, raw.bound, ex.objective);
		solver_result_free(&ex);
		solver_result_free(&sc);
		solver_result_free(&raw);
		solver_instance_free(inst);
	}
}

/*
 * One customer, two offers of one category (room 1) on different channels
 * and campaigns: both methods send one, the better; the checker refuses
 * both. Ignoring the room would send both.
 */
static void
test_category_room_binds(void **state)
{
	struct solver_offer	 of[3] = {
		{ 100, 1, -1, -1, 0, 0 },
		{ 80, 1, -1, -1, 1, 1 },
		{ 10, 1, -1, -1, 1, 0 },
	};
	struct solver_instance	*inst;
	struct solver_result	 res;
	struct solver_options	 opts;
	uint16_t		 offer[3] = { 0, 1, 2 }, rk[2] = { 1, 0 };
	float			 prop[3] = { 0.5f, 0.5f, 0.5f };
	uint8_t			 sel[3] = { 1, 1, 0 };
	int			 cat[3] = { 0, 0, 1 }, m;
	char			*cause = NULL;

	(void)state;
	inst = solver_instance_new(3, 2, 2, of, &cause);
	assert_non_null(inst);
	assert_int_equal(solver_instance_categories(inst, 2, cat, &cause), 0);
	assert_int_equal(solver_instance_add_customer(inst, 3, offer, prop,
	    SOLVER_ROOM_NONE, NULL, NULL, &cause), 0);
	assert_int_equal(solver_instance_category_room(inst, 0, rk), 0);
	assert_int_equal(solver_check_feasible(inst, sel, NULL, &cause), -1);
	assert_non_null(strstr(cause, "category 0"));
	free(cause);
	cause = NULL;
	for (m = 0; m < 2; m++) {
		solve(inst, m == 0 ? SOLVER_SCALE : SOLVER_EXACT, 0, &res);
		assert_int_equal(res.selected[0], 1);
		assert_int_equal(res.selected[1], 0);
		assert_int_equal(res.selected[2], 0);	/* category 1: room 0 */
		assert_true(fabs(res.objective - 49) < 1e-9);
		assert_true(res.bound >= 49 - 1e-9 && res.bound < 49 + 1e-6);
		solver_result_free(&res);
	}
	/* The dual bound alone: the subproblem itself honours the room. */
	solver_options_init(&opts);
	opts.polish_customers = -1;
	opts.exact_fallback = 0;
	assert_int_equal(solver_solve(inst, &opts, &res, &cause), 0);
	assert_true(fabs(res.objective - 49) < 1e-9);
	assert_true(res.bound >= 49 - 1e-9 && res.bound < 49 + 1e-6);
	solver_result_free(&res);
	solver_instance_free(inst);
}

/* Bad categories are refused with a cause; none at all is fine. */
static void
test_category_input(void **state)
{
	struct solver_offer	 of[2] = {
		{ 10, 1, -1, -1, 0, 0 },
		{ 10, 1, -1, -1, 0, 0 },
	};
	struct solver_instance	*inst;
	uint16_t		 offer[2] = { 0, 1 }, rk[1] = { 1 };
	float			 prop[2] = { 0.5f, 0.5f };
	int			 cat[2] = { 0, 1 }, bad[2] = { 0, -2 };
	char			*cause = NULL;

	(void)state;
	inst = solver_instance_new(2, 1, 1, of, &cause);
	assert_non_null(inst);
	assert_int_equal(solver_instance_categories(inst, 1, cat, &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	assert_int_equal(solver_instance_categories(inst, 2, bad, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(solver_instance_categories(inst,
	    SOLVER_CATEGORIES_MAX + 1, cat, &cause), -1);
	free(cause);
	cause = NULL;
	/* Without categories a category room cannot be set. */
	assert_int_equal(solver_instance_categories(inst, 0, NULL, &cause), 0);
	assert_int_equal(solver_instance_add_customer(inst, 2, offer, prop, 2,
	    NULL, NULL, &cause), 0);
	assert_int_equal(solver_instance_category_room(inst, 0, rk), -1);
	assert_int_equal(solver_instance_check(inst, &cause), 0);
	solver_instance_free(inst);

	/* Customers added first get no cap; later ones are set. */
	inst = solver_instance_new(2, 1, 1, of, &cause);
	assert_int_equal(solver_instance_reserve(inst, 3000, 6000), 0);
	assert_int_equal(solver_instance_add_customer(inst, 2, offer, prop, 2,
	    NULL, NULL, &cause), 0);
	cat[1] = 0;
	assert_int_equal(solver_instance_categories(inst, 1, cat, &cause), 0);
	for (int c = 1; c < 3000; c++)
		assert_int_equal(solver_instance_add_customer(inst, 2, offer,
		    prop, 2, NULL, NULL, &cause), c);
	assert_int_equal(inst->room_category[0], SOLVER_ROOM_NONE);
	assert_int_equal(inst->room_category[2999], SOLVER_ROOM_NONE);
	assert_int_equal(solver_instance_category_room(inst, 2999, rk), 0);
	assert_int_equal(solver_instance_category_room(inst, 3000, rk), -1);
	assert_int_equal(inst->room_category[2999], 1);
	assert_int_equal(solver_instance_check(inst, &cause), 0);
	/* A category out of range, written directly, is caught. */
	inst->offer_category[1] = 1;
	assert_int_equal(solver_instance_check(inst, &cause), -1);
	assert_non_null(cause);
	free(cause);
	solver_instance_free(inst);
}

#define WORLD_MAX	4

/*
 * An in-process communicator: WORLD_MAX ranks at most, one thread each.
 * Every call posts the rank's buffer, waits for all, computes its answer
 * from everyone's into scratch, waits again (no buffer is written while
 * another rank may read it) and copies the answer out.
 */
struct world {
	int			 size;
	pthread_barrier_t	 bar;
	const void		*buf[WORLD_MAX];
	size_t			 len[WORLD_MAX];
};

struct world_rank {
	struct world		*w;
	struct solver_comm	 comm;
	struct solver_instance	*inst;
	struct solver_options	 opts;
	struct solver_result	 res;
	int			 rv;
	char			*cause;
};

/* Post buf (len bytes) and wait for every rank's. */
static void
world_post(struct world_rank *wr, const void *buf, size_t len)
{
	wr->w->buf[wr->comm.rank] = buf;
	wr->w->len[wr->comm.rank] = len;
	pthread_barrier_wait(&wr->w->bar);
}

/* Doubles combined over every rank (sum, or max when max). */
static int
world_doubles(struct world_rank *wr, double *v, int n, int max)
{
	double	*t = calloc(n, sizeof *t);
	int	 r, i;

	world_post(wr, v, 0);
	for (i = 0; i < n; i++) {
		t[i] = max ? -HUGE_VAL : 0;
		for (r = 0; r < wr->w->size; r++) {
			double x = ((const double *)wr->w->buf[r])[i];

			t[i] = max ? fmax(t[i], x) : t[i] + x;
		}
	}
	pthread_barrier_wait(&wr->w->bar);
	memcpy(v, t, n * sizeof *v);
	free(t);
	return 0;
}

/* solver_comm's sum_double. */
static int
world_sum_double(void *arg, double *v, int n)
{
	return world_doubles(arg, v, n, 0);
}

/* solver_comm's max_double. */
static int
world_max_double(void *arg, double *v, int n)
{
	return world_doubles(arg, v, n, 1);
}

/* int64s summed over the ranks below upto. */
static int
world_int64(struct world_rank *wr, int64_t *v, int n, int upto)
{
	int64_t	*t = calloc(n + 1, sizeof *t);
	int	 r, i;

	world_post(wr, v, 0);
	for (i = 0; i < n; i++)
		for (r = 0; r < upto; r++)
			t[i] += ((const int64_t *)wr->w->buf[r])[i];
	pthread_barrier_wait(&wr->w->bar);
	memcpy(v, t, n * sizeof *v);
	free(t);
	return 0;
}

/* solver_comm's sum_int64. */
static int
world_sum_int64(void *arg, int64_t *v, int n)
{
	struct world_rank *wr = arg;

	return world_int64(wr, v, n, wr->w->size);
}

/* solver_comm's exscan_int64. */
static int
world_exscan_int64(void *arg, int64_t *v, int n)
{
	struct world_rank *wr = arg;

	return world_int64(wr, v, n, wr->comm.rank);
}

/* solver_comm's gather: to root, or (root < 0) to every rank. */
static int
world_gather(void *arg, const void *buf, size_t len, int root, void **out,
    size_t *lens)
{
	struct world_rank	*wr = arg;
	size_t			 total = 0;
	uint8_t			*all;
	int			 r;

	world_post(wr, buf, len);
	*out = NULL;
	if (root < 0 || root == wr->comm.rank) {
		for (r = 0; r < wr->w->size; r++)
			total += lens[r] = wr->w->len[r];
		all = malloc(total + 1);
		for (total = 0, r = 0; r < wr->w->size; r++) {
			if (wr->w->len[r] > 0)
				memcpy(all + total, wr->w->buf[r],
				    wr->w->len[r]);
			total += wr->w->len[r];
		}
		*out = all;
	}
	pthread_barrier_wait(&wr->w->bar);
	return 0;
}

/* solver_comm's bcast. */
static int
world_bcast(void *arg, void *buf, size_t len, int root)
{
	struct world_rank	*wr = arg;
	void			*t = malloc(len + 1);

	world_post(wr, buf, len);
	memcpy(t, wr->w->buf[root], len);
	pthread_barrier_wait(&wr->w->bar);
	memcpy(buf, t, len);
	free(t);
	return 0;
}

/* One rank's solve. */
static void *
world_run(void *arg)
{
	struct world_rank	*wr = arg;

	wr->rv = solver_solve(wr->inst, &wr->opts, &wr->res, &wr->cause);
	return NULL;
}

/* The rank of customer c among size: a hash, so shards interleave. */
static int
world_shard(int c, int size)
{
	return (int)(((uint32_t)c * 2654435761u) >> 8) % size;
}

/*
 * Customer c of inst into part (same offers, categories and fairness
 * rows, the whole base's sizes).
 */
static void
world_copy_customer(const struct solver_instance *inst, int c,
    struct solver_instance *part)
{
	int64_t	 k = inst->pair_start[c];
	char	*cause = NULL;
	int	 i;

	i = solver_instance_add_customer(part, (int)(inst->pair_start[c + 1] -
	    k), inst->pair_offer + k, inst->pair_propensity + k,
	    inst->room_all[c], inst->room_channel + (size_t)c *
	    inst->nchannels, inst->room_campaign + (size_t)c *
	    inst->ncampaigns, &cause);
	assert_true(i >= 0);
	if (inst->ncategories > 0)
		assert_int_equal(solver_instance_category_room(part, i,
		    inst->room_category + (size_t)c * inst->ncategories), 0);
	if (inst->nfair > 0)
		assert_int_equal(solver_instance_fair_member(part, i,
		    inst->fair_member[c]), 0);
}

/*
 * Solve inst split over size ranks (threads) with method and gap; the
 * ranks' plans merged back in inst's pair order into *sel (caller frees)
 * and rank 0's result in *res (release with solver_result_free). Every
 * rank must report the same figures.
 */
static void
world_solve(const struct solver_instance *inst, int size,
    enum solver_method m, double gap, struct solver_result *res,
    uint8_t **sel)
{
	struct world		 w;
	struct world_rank	 wr[WORLD_MAX];
	pthread_t		 th[WORLD_MAX];
	int64_t			 at[WORLD_MAX];
	char			*cause = NULL;
	int			 r, c;

	memset(&w, 0, sizeof w);
	w.size = size;
	pthread_barrier_init(&w.bar, NULL, size);
	for (r = 0; r < size; r++) {
		struct solver_instance *part;

		part = solver_instance_new(inst->noffers, inst->nchannels,
		    inst->ncampaigns, inst->offers, &cause);
		assert_non_null(part);
		if (inst->ncategories > 0)
			assert_int_equal(solver_instance_categories(part,
			    inst->ncategories, inst->offer_category, &cause), 0);
		if (inst->nfair > 0)
			assert_int_equal(solver_instance_fairness(part,
			    inst->nfair, inst->fair_min_ratio, inst->fair_base,
			    inst->fair_size, &cause), 0);
		for (c = 0; c < inst->ncustomers; c++)
			if (world_shard(c, size) == r)
				world_copy_customer(inst, c, part);
		memset(&wr[r], 0, sizeof wr[r]);
		wr[r].w = &w;
		wr[r].inst = part;
		wr[r].comm.rank = r;
		wr[r].comm.size = size;
		wr[r].comm.arg = &wr[r];
		wr[r].comm.sum_double = world_sum_double;
		wr[r].comm.max_double = world_max_double;
		wr[r].comm.sum_int64 = world_sum_int64;
		wr[r].comm.exscan_int64 = world_exscan_int64;
		wr[r].comm.gather = world_gather;
		wr[r].comm.bcast = world_bcast;
		solver_options_init(&wr[r].opts);
		wr[r].opts.method = m;
		wr[r].opts.gap = gap;
		wr[r].opts.threads = 2;
		wr[r].opts.comm = &wr[r].comm;
	}
	for (r = 0; r < size; r++)
		assert_int_equal(pthread_create(&th[r], NULL, world_run,
		    &wr[r]), 0);
	for (r = 0; r < size; r++)
		pthread_join(th[r], NULL);
	pthread_barrier_destroy(&w.bar);
	*sel = calloc(inst->pair_start[inst->ncustomers] + 1, 1);
	for (r = 0; r < size; r++) {
		if (wr[r].rv != 0)
			fail_msg("rank %d: %s", r, wr[r].cause);
		assert_int_equal(wr[r].res.status, wr[0].res.status);
		assert_true(wr[r].res.objective == wr[0].res.objective);
		assert_true(wr[r].res.bound == wr[0].res.bound);
		assert_int_equal(wr[r].res.nselected, wr[0].res.nselected);
		at[r] = 0;
	}
	for (c = 0; c < inst->ncustomers; c++) {
		r = world_shard(c, size);
		for (int64_t k = inst->pair_start[c];
		    k < inst->pair_start[c + 1]; k++)
			(*sel)[k] = wr[r].res.selected[at[r]++];
	}
	*res = wr[0].res;
	for (r = 1; r < size; r++)
		solver_result_free(&wr[r].res);
	for (r = 0; r < size; r++)
		solver_instance_free(wr[r].inst);
}

/*
 * Distributed solves against one process: over 2 and 3 ranks the merged
 * plan is feasible for the whole instance, its objective is the one
 * reported, the bound is certified and both reach the gap; in exact
 * mode (gathered on rank 0) the optimum is the same.
 */
static void
world_check(const struct solver_instance *inst, enum solver_method m,
    double gap, const char *what)
{
	struct solver_result	 one, many;
	uint8_t			*sel;
	char			*cause = NULL;
	double			 obj;
	int			 size;

	solve(inst, m, gap, &one);
	for (size = 2; size <= 3; size++) {
		world_solve(inst, size, m, gap, &many, &sel);
		if (solver_check_feasible(inst, sel, &obj, &cause) != 0)
			fail_msg("%s over %d ranks: %s", what, size, cause);
		print_message("%s: 1 rank %.4f bound %.4f %s; %d ranks %.4f "
		    "bound %.4f %s\n", what, one.objective, one.bound,
		    solver_status_name(one.status), size, many.objective,
		    many.bound, solver_status_name(many.status));
		assert_true(fabs(obj - many.objective) < 1e-6 * (1 + obj));
		assert_true(many.bound >= many.objective - 1e-6);
		/* Both certified: each objective within gap of the other. */
		assert_true(many.objective >= one.bound * (1 - gap) - 1e-6);
		assert_true(one.objective >= many.bound * (1 - gap) - 1e-6);
		if (m == SOLVER_EXACT)
			assert_true(fabs(many.objective - one.objective) <
			    1e-6 * (1 + one.objective));
		free(sel);
		solver_result_free(&many);
	}
	solver_result_free(&one);
}

/* Distributed solves of several shapes against one process. */
static void
test_distributed(void **state)
{
	struct solver_instance	*inst;
	long			 size = 0;
	int			 c, n = 3000;

	(void)state;
	inst = make_instance(41, 400, 12, 1);
	world_check(inst, SOLVER_EXACT, 0, "exact 400");
	world_check(inst, SOLVER_SCALE, 1e-4, "scale 400");
	solver_instance_free(inst);

	/* Binding budgets and a binding fairness row, as test_fairness_scale. */
	inst = make_demo(5, n);
	for (c = 0; c < n; c++)
		size += c % 5 == 0;
	assert_int_equal(solver_instance_fairness(inst, 1, 1.0, n, &size,
	    NULL), 0);
	for (c = 0; c < n; c += 5) {
		assert_int_equal(solver_instance_fair_member(inst, c, 1), 0);
		for (int64_t k = inst->pair_start[c];
		    k < inst->pair_start[c + 1]; k++)
			inst->pair_propensity[k] /= 3;
	}
	world_check(inst, SOLVER_SCALE, 1e-4, "scale fair 3000");
	solver_instance_free(inst);

	inst = make_demo(9, 20000);
	world_check(inst, SOLVER_SCALE, 1e-4, "scale 20000");
	solver_instance_free(inst);

	/* Tight single-offer limits with ties: the polish and fallback. */
	for (c = 1; c <= 3; c++) {
		inst = make_single_offer(c, 1000);
		world_check(inst, SOLVER_SCALE, 1e-4, "scale ties 1000");
		solver_instance_free(inst);
	}

	/* Fewer customers than ranks: a rank with none takes part too. */
	inst = make_demo(3, 2);
	world_check(inst, SOLVER_SCALE, 1e-4, "scale 2");
	world_check(inst, SOLVER_EXACT, 0, "exact 2");
	solver_instance_free(inst);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scale_vs_exact),
		cmocka_unit_test(test_bound_without_polish),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_zero_budgets),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_checker),
		cmocka_unit_test(test_warm_start),
		cmocka_unit_test(test_no_stall_across_seeds),
		cmocka_unit_test(test_repair_keeps_budgets),
		cmocka_unit_test(test_threads_repeat),
		cmocka_unit_test(test_wide_room),
		cmocka_unit_test(test_keeps_best_plan),
		cmocka_unit_test(test_time_limit_still_plans),
		cmocka_unit_test(test_round_up),
		cmocka_unit_test(test_ties_reach_gap),
		cmocka_unit_test(test_fairness_oracle),
		cmocka_unit_test(test_fairness_scale),
		cmocka_unit_test(test_category_room_binds),
		cmocka_unit_test(test_category_input),
		cmocka_unit_test(test_category_oracle),
		cmocka_unit_test(test_category_scale_vs_exact),
		cmocka_unit_test(test_distributed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
