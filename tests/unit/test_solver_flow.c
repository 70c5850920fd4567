/*
 * The per-customer subproblem (solver/optimizer/flow.c) against brute force:
 * values, choices and thresholds, on random small customers with laminar
 * and crossing channel / campaign groups, and category groups that cross
 * both; the branch and bound on customers whose every kind of room binds
 * (against brute force, and at 100 items against a GLPK MIP), and at its
 * node limit (a feasible plan and a value that still bounds the optimum).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <glpk.h>

#include "../../solver/optimizer/opt.h"

#define MAXN	20	/* flow_brute's limit */
#define MAXG	(4 * MAXN + 1)
#define BIGN	100	/* items of a customer for the GLPK oracle */
#define BIGG	32

struct case_ {
	struct flow_sub	 s;
	double		 r[MAXN], t[MAXN];
	int		 ch[MAXN], cp[MAXN], cat[MAXN], room[MAXG];
	uint8_t		 sel[MAXN];
};

static uint64_t	rng_state = 88172645463325252ULL;

/* xorshift64: deterministic across platforms. */
static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Uniform in [0,1). */
static double
rng_unit(void)
{
	return (rng() >> 11) * (1.0 / 9007199254740992.0);
}

/* A random customer: nch channels, ncp campaigns, small rooms. */
static void
make_case(struct case_ *k, int crossing)
{
	int	i, n, nch, ncp;

	memset(k, 0, sizeof *k);
	n = 1 + (int)(rng() % 10);
	nch = 1 + (int)(rng() % 3);
	ncp = 1 + (int)(rng() % 4);
	for (i = 0; i < n; i++) {
		k->ch[i] = (int)(rng() % nch);
		/* Laminar: campaigns nested in channels. */
		k->cp[i] = crossing ? nch + (int)(rng() % ncp) :
		    nch + k->ch[i] * ncp + (int)(rng() % ncp);
		k->r[i] = rng_unit() * 4 - 1;
	}
	for (i = 0; i < nch + nch * ncp; i++)
		k->room[i] = (int)(rng() % 4);
	k->room[nch + nch * ncp] = (int)(rng() % 5);
	k->s.n = n;
	k->s.r = k->r;
	k->s.t = k->t;
	k->s.ch = k->ch;
	k->s.cp = k->cp;
	k->s.room = k->room;
	k->s.sel = k->sel;
	k->s.all = nch + nch * ncp;
}

/* Point s's arrays at a case's (borrowed). */
static void
point_sub(struct flow_sub *s, double *r, double *t, int *ch, int *cp,
    int *cat, int *room, uint8_t *sel)
{
	s->r = r;
	s->t = t;
	s->ch = ch;
	s->cp = cp;
	s->cat = cat;
	s->room = room;
	s->sel = sel;
}

/*
 * A random customer with categories: nch channels, ncp campaigns crossing
 * them, ncat categories crossing both (some items in none), category
 * rooms 0 .. 2 mostly below their sizes so they bind.
 */
static void
make_category_case(struct case_ *k)
{
	int	i, n, nch, ncp, ncat, catg;

	memset(k, 0, sizeof *k);
	n = 2 + (int)(rng() % 11);
	nch = 1 + (int)(rng() % 3);
	ncp = 1 + (int)(rng() % 4);
	ncat = 1 + (int)(rng() % 3);
	catg = nch + ncp;
	for (i = 0; i < n; i++) {
		k->ch[i] = (int)(rng() % nch);
		k->cp[i] = nch + (int)(rng() % ncp);
		k->cat[i] = rng() % 5 == 0 ? -1 : catg + (int)(rng() % ncat);
		k->r[i] = rng_unit() * 4 - 1;
	}
	for (i = 0; i < nch + ncp; i++)
		k->room[i] = 1 + (int)(rng() % 3);
	for (i = 0; i < ncat; i++)
		k->room[catg + i] = (int)(rng() % 3);
	k->room[catg + ncat] = 1 + (int)(rng() % 6);
	point_sub(&k->s, k->r, k->t, k->ch, k->cp, k->cat, k->room, k->sel);
	k->s.n = n;
	k->s.all = catg + ncat;
}

/* Threshold of item i by brute force: best without i minus best with. */
static double
brute_threshold(struct case_ *k, int i)
{
	uint8_t	sel[MAXN];
	double	keep = k->r[i], without, with;

	k->r[i] = -1e9;
	without = flow_brute(&k->s, sel);
	k->r[i] = 1e6;
	with = flow_brute(&k->s, sel);
	k->r[i] = keep;
	if (!sel[i])
		return HUGE_VAL;
	return without - (with - 1e6);
}

/*
 * Check a solved case against brute force: value, choice, and every
 * threshold (chosen exactly when r is above it, others fixed).
 */
static void
check_case(struct case_ *k, int trial)
{
	uint8_t	bsel[MAXN];
	double	best, bt, got, sum;
	int	i;

	best = flow_brute(&k->s, bsel);
	if (fabs(k->s.value - best) > 1e-9)
		fail_msg("trial %d: value %.12g, brute %.12g", trial,
		    k->s.value, best);
	sum = 0;
	for (i = 0; i < k->s.n; i++)
		if (k->sel[i])
			sum += k->r[i];
	assert_true(fabs(sum - best) < 1e-9);
	for (i = 0; i < k->s.n; i++) {
		bt = brute_threshold(k, i);
		got = k->t[i];
		if (isinf(bt)) {
			assert_true(isinf(got) || got > 1e5);
			continue;
		}
		if (fabs(got - bt) > 1e-9)
			fail_msg("trial %d item %d: threshold %g, brute %g",
			    trial, i, got, bt);
		assert_int_equal(k->sel[i], k->r[i] > got);
	}
}

/* Check one solver (laminar or general) on many random customers. */
static void
check_many(int crossing, int laminar_solver)
{
	struct flow_work	*w;
	struct case_		 k;
	uint8_t			 bsel[MAXN];
	double			 best, bt, got, sum;
	int			 trial, i, checked = 0;

	w = flow_work_new(MAXN, MAXG);
	assert_non_null(w);
	for (trial = 0; trial < 3000; trial++) {
		make_case(&k, crossing);
		if (laminar_solver && !flow_is_laminar(&k.s, w))
			continue;
		checked++;
		flow_solve(&k.s, laminar_solver, 1, w);
		best = flow_brute(&k.s, bsel);
		assert_true(fabs(k.s.value - best) < 1e-9);
		/* The choice is feasible and worth what it says. */
		sum = 0;
		for (i = 0; i < k.s.n; i++)
			if (k.sel[i])
				sum += k.r[i];
		assert_true(fabs(sum - best) < 1e-9);
		for (i = 0; i < k.s.n; i++) {
			bt = brute_threshold(&k, i);
			got = k.t[i];
			if (isinf(bt)) {
				assert_true(isinf(got) || got > 1e5);
				continue;
			}
			if (fabs(got - bt) > 1e-9)
				fail_msg("trial %d item %d: threshold %g, "
				    "brute %g", trial, i, got, bt);
			/* Chosen exactly when above the threshold. */
			assert_int_equal(k.sel[i], k.r[i] > got);
		}
	}
	assert_true(checked > 200);
	flow_work_free(w);
}

/* Greedy on laminar customers. */
static void
test_greedy_laminar(void **state)
{
	(void)state;
	check_many(0, 1);
}

/* Greedy also holds when crossing groups cannot bind. */
static void
test_greedy_nonbinding_crossing(void **state)
{
	(void)state;
	check_many(1, 1);
}

/* Flow on laminar and crossing customers. */
static void
test_flow_general(void **state)
{
	(void)state;
	check_many(0, 0);
	check_many(1, 0);
}

/* Crossing groups that bind are detected. */
static void
test_laminar_detection(void **state)
{
	struct flow_work	*w;
	struct case_		 k;

	(void)state;
	w = flow_work_new(MAXN, MAXG);
	memset(&k, 0, sizeof k);
	/* Items: (ch0,cpA) (ch0,cpB) (ch1,cpA), all rooms 1: crossing. */
	k.s.n = 3;
	k.ch[0] = 0; k.cp[0] = 2;
	k.ch[1] = 0; k.cp[1] = 3;
	k.ch[2] = 1; k.cp[2] = 2;
	k.room[0] = k.room[1] = k.room[2] = k.room[3] = 1;
	k.room[4] = 3;
	k.s.r = k.r; k.s.t = k.t; k.s.ch = k.ch; k.s.cp = k.cp;
	k.s.room = k.room; k.s.sel = k.sel; k.s.all = 4;
	assert_int_equal(flow_is_laminar(&k.s, w), 0);
	/* Campaign rooms that cover their items: laminar again. */
	k.room[2] = k.room[3] = 2;
	assert_int_equal(flow_is_laminar(&k.s, w), 1);
	flow_work_free(w);
}

/*
 * Categories crossing channels and campaigns: each customer solved the way
 * flow_is_laminar says (greedy, flow or branch and bound), and also by
 * branch and bound regardless (depth first and over flows), against brute
 * force.
 */
static void
test_categories(void **state)
{
	struct flow_work	*w;
	struct case_		 k;
	int			 trial, shape, searched = 0, laminar = 0;
	int			 binding = 0;
	uint8_t			 nsel[MAXN];
	double			 free_best;

	(void)state;
	w = flow_work_new(MAXN, MAXG);
	assert_non_null(w);
	for (trial = 0; trial < 1500; trial++) {
		make_category_case(&k);
		shape = flow_is_laminar(&k.s, w);
		searched += shape == FLOW_SEARCH;
		laminar += shape == FLOW_LAMINAR;
		flow_solve(&k.s, shape, 1, w);
		check_case(&k, trial);
		flow_solve(&k.s, FLOW_SEARCH, 1, w);
		check_case(&k, trial);
		/* The search over flows, not depth first, at every node. */
		flow_work_search_small(w, 0);
		flow_solve(&k.s, FLOW_SEARCH, 1, w);
		check_case(&k, trial);
		flow_work_search_small(w, 20);
		/* Without its categories the customer would get more. */
		k.s.cat = NULL;
		free_best = flow_brute(&k.s, nsel);
		k.s.cat = k.cat;
		binding += free_best > k.s.value + 1e-9;
	}
	assert_true(searched > 300);
	assert_true(laminar > 50);
	assert_true(binding > 300);
	flow_work_free(w);
}

/* A category that crosses a channel and a campaign makes a search. */
static void
test_category_detection(void **state)
{
	struct flow_work	*w;
	struct case_		 k;

	(void)state;
	w = flow_work_new(MAXN, MAXG);
	memset(&k, 0, sizeof k);
	/* Items: (ch0,cp2,cat4) (ch0,cp3,-) (ch1,cp2,cat4); groups 0..4. */
	k.s.n = 3;
	k.ch[0] = 0; k.cp[0] = 2; k.cat[0] = 4;
	k.ch[1] = 0; k.cp[1] = 3; k.cat[1] = -1;
	k.ch[2] = 1; k.cp[2] = 2; k.cat[2] = 4;
	k.room[0] = k.room[1] = 2;
	k.room[2] = k.room[3] = 2;
	k.room[4] = 1;
	k.room[5] = 3;
	k.s.r = k.r; k.s.t = k.t; k.s.ch = k.ch; k.s.cp = k.cp;
	k.s.cat = k.cat; k.s.room = k.room; k.s.sel = k.sel; k.s.all = 5;
	/* The category equals campaign 2: nested, greedy holds. */
	assert_int_equal(flow_is_laminar(&k.s, w), FLOW_LAMINAR);
	/* Channel 0 binds and crosses the category. */
	k.room[0] = 1;
	assert_int_equal(flow_is_laminar(&k.s, w), FLOW_SEARCH);
	/* A category room that covers its items never binds. */
	k.room[4] = 2;
	assert_int_equal(flow_is_laminar(&k.s, w), FLOW_LAMINAR);
	/* Channel and campaign cross, the category does not bind: flow. */
	k.room[2] = 1;
	assert_int_equal(flow_is_laminar(&k.s, w), FLOW_CROSSING);
	/* ... and with the category binding too: search. */
	k.room[4] = 1;
	assert_int_equal(flow_is_laminar(&k.s, w), FLOW_SEARCH);
	/* Brute force and the search agree on it. */
	k.r[0] = 3; k.r[1] = 2; k.r[2] = 2.5;
	flow_solve(&k.s, FLOW_SEARCH, 1, w);
	check_case(&k, -1);
	/* Best: item 0 (cat, ch0, cp2) alone or 1 + 2: 4.5. */
	assert_true(fabs(k.s.value - 4.5) < 1e-12);
	flow_work_free(w);
}

/* A customer of BIGN items for the GLPK oracle. */
struct big_case {
	struct flow_sub	 s;
	double		 r[BIGN], t[BIGN];
	int		 ch[BIGN], cp[BIGN], cat[BIGN], room[BIGG];
	uint8_t		 sel[BIGN];
};

/*
 * Point s at its arrays and fill a customer whose every kind of room
 * binds: n items over nch channels, ncp campaigns and ncat categories that
 * cross (one item in ten in none), each kind's rooms summing to about
 * total, below their items, and values close together (uniform) or spread
 * with some negative. That is the shape the search found hard.
 */
static void
fill_hard(struct flow_sub *s, int n, int nch, int ncp, int ncat, int total,
    int uniform)
{
	int	i, catg = nch + ncp;

	s->n = n;
	s->all = catg + ncat;
	for (i = 0; i < n; i++) {
		s->ch[i] = (int)(rng() % nch);
		s->cp[i] = nch + (int)(rng() % ncp);
		s->cat[i] = rng() % 10 == 0 ? -1 : catg + (int)(rng() % ncat);
		s->r[i] = uniform ? 1 + 0.3 * rng_unit() :
		    rng_unit() * rng_unit() * 3 - 0.3;
	}
	for (i = 0; i < nch; i++)
		s->room[i] = total / nch + (int)(rng() % 3) - 1;
	for (i = 0; i < ncp; i++)
		s->room[nch + i] = (total + ncp - 1) / ncp +
		    (int)(rng() % 2) - (int)(rng() % 2);
	for (i = 0; i < ncat; i++)
		s->room[catg + i] = total / ncat + (int)(rng() % 3) - 1;
	s->room[s->all] = total + (int)(rng() % 3) - 1;
	for (i = 0; i <= s->all; i++)
		if (s->room[i] < 0)
			s->room[i] = 0;
}

/* A small hard customer in k (n items, brute force can check it). */
static void
make_hard_case(struct case_ *k, int n)
{
	memset(k, 0, sizeof *k);
	point_sub(&k->s, k->r, k->t, k->ch, k->cp, k->cat, k->room, k->sel);
	fill_hard(&k->s, n, 2 + (int)(rng() % 2), 3 + (int)(rng() % 2),
	    2 + (int)(rng() % 2), n / 3 + (int)(rng() % 3), (int)(rng() % 2));
}

/* The value of sel; fails the test if it breaks a room. */
static double
plan_value(const struct flow_sub *s, const uint8_t *sel)
{
	int	cnt[MAXG + BIGG] = { 0 }, i;
	double	v = 0;

	for (i = 0; i < s->n; i++) {
		if (!sel[i])
			continue;
		v += s->r[i];
		cnt[s->ch[i]]++;
		cnt[s->cp[i]]++;
		if (s->cat[i] >= 0)
			cnt[s->cat[i]]++;
		cnt[s->all]++;
	}
	for (i = 0; i <= s->all; i++)
		if (cnt[i] > s->room[i])
			fail_msg("group %d: %d chosen, room %d", i, cnt[i],
			    s->room[i]);
	return v;
}

/*
 * Customers whose channel, campaign and category rooms all bind: the
 * search (over flows at every node, and depth first below 20 free items)
 * against brute force, values, choices and thresholds; it proves each
 * optimum (exact, value = chosen).
 */
static void
test_search_hard(void **state)
{
	struct flow_work	*w;
	struct case_		 k;
	int			 trial, small, searched = 0;

	(void)state;
	w = flow_work_new(MAXN, MAXG);
	assert_non_null(w);
	for (trial = 0; trial < 400; trial++) {
		make_hard_case(&k, 8 + (int)(rng() % 5));
		if (flow_is_laminar(&k.s, w) != FLOW_SEARCH)
			continue;
		searched++;
		for (small = 0; small <= 20; small += 20) {
			flow_work_search_small(w, small);
			flow_solve(&k.s, FLOW_SEARCH, 1, w);
			assert_int_equal(k.s.exact, 1);
			assert_true(fabs(k.s.value - k.s.chosen) < 1e-12);
			check_case(&k, trial);
		}
	}
	flow_work_search_small(w, 20);
	assert_true(searched > 200);
	flow_work_free(w);
}

/*
 * Optimum of s by GLPK's MIP (one row per group), with item fix (-1: none)
 * fixed to fix_to.
 */
static double
glpk_optimum(const struct flow_sub *s, int fix, int fix_to)
{
	glp_prob	*lp;
	glp_iocp	 parm;
	int		 ia[1 + 4 * BIGN], ja[1 + 4 * BIGN], i, g, ne = 0;
	double		 ar[1 + 4 * BIGN], v;

	lp = glp_create_prob();
	glp_set_obj_dir(lp, GLP_MAX);
	glp_add_rows(lp, s->all + 1);
	for (g = 0; g <= s->all; g++)
		glp_set_row_bnds(lp, g + 1, GLP_UP, 0, s->room[g]);
	glp_add_cols(lp, s->n);
	for (i = 0; i < s->n; i++) {
		glp_set_col_kind(lp, i + 1, GLP_BV);
		glp_set_obj_coef(lp, i + 1, s->r[i]);
		ia[++ne] = s->ch[i] + 1, ja[ne] = i + 1, ar[ne] = 1;
		ia[++ne] = s->cp[i] + 1, ja[ne] = i + 1, ar[ne] = 1;
		if (s->cat[i] >= 0)
			ia[++ne] = s->cat[i] + 1, ja[ne] = i + 1, ar[ne] = 1;
		ia[++ne] = s->all + 1, ja[ne] = i + 1, ar[ne] = 1;
	}
	glp_load_matrix(lp, ne, ia, ja, ar);
	if (fix >= 0) {
		glp_set_col_kind(lp, fix + 1, GLP_CV);
		glp_set_col_bnds(lp, fix + 1, GLP_FX, fix_to, fix_to);
	}
	glp_init_iocp(&parm);
	parm.presolve = GLP_ON;
	parm.msg_lev = GLP_MSG_OFF;
	parm.mip_gap = 0;
	assert_int_equal(glp_intopt(lp, &parm), 0);
	assert_int_equal(glp_mip_status(lp), GLP_OPT);
	v = glp_mip_obj_val(lp);
	glp_delete_prob(lp);
	return v;
}

/*
 * Item i's threshold by GLPK: the best without it less the best with it
 * (not counting its r).
 */
static double
glpk_threshold(const struct flow_sub *s, int i)
{
	return glpk_optimum(s, i, 0) - (glpk_optimum(s, i, 1) - s->r[i]);
}

/*
 * 100 items over 3 channels, 12 campaigns and 5 categories, every kind of
 * room binding (the shape that took a minute): the search proves the
 * optimum well inside its node limit, equal to GLPK's; with thresholds,
 * some of them against GLPK's.
 */
static void
test_search_hundred(void **state)
{
	static struct big_case	 k;
	struct flow_work	*w;
	int			 trial, total, i;
	double			 opt, bt;

	(void)state;
	w = flow_work_new(BIGN, BIGG);
	assert_non_null(w);
	point_sub(&k.s, k.r, k.t, k.ch, k.cp, k.cat, k.room, k.sel);
	for (trial = 0; trial < 8; trial++) {
		total = 20 + 5 * (trial % 5);
		fill_hard(&k.s, BIGN, 3, 12, 5, total, trial % 4 != 3);
		assert_int_equal(flow_is_laminar(&k.s, w), FLOW_SEARCH);
		flow_solve(&k.s, FLOW_SEARCH, trial < 2, w);
		assert_int_equal(k.s.exact, 1);
		/* A fifth of the limit; the plans took 130 - 7,700. */
		if (trial >= 2 && flow_work_nodes(w) > 20000)
			fail_msg("trial %d: %ld nodes", trial,
			    flow_work_nodes(w));
		opt = glpk_optimum(&k.s, -1, 0);
		if (fabs(k.s.value - opt) > 1e-7)
			fail_msg("trial %d: value %.12g, GLPK %.12g", trial,
			    k.s.value, opt);
		assert_true(fabs(plan_value(&k.s, k.sel) - k.s.chosen) <
		    1e-9);
		assert_true(fabs(k.s.chosen - k.s.value) < 1e-9);
		for (i = 0; trial < 2 && i < BIGN; i += 9) {
			if (k.r[i] <= 0)
				continue;
			bt = glpk_threshold(&k.s, i);
			if (fabs(k.t[i] - (bt > 0 ? bt : 0)) > 1e-7)
				fail_msg("trial %d item %d: threshold %.12g, "
				    "GLPK %.12g", trial, i, k.t[i], bt);
		}
	}
	flow_work_free(w);
}

/*
 * Stopped at a node limit (from one node up), the search still returns a
 * feasible plan worth chosen, and value bounds the optimum (brute force)
 * from above; when it says exact, both are the optimum. Over flows at
 * every node and depth first; with thresholds too (then guesses, but the
 * plan stays feasible).
 */
static void
test_search_node_limit(void **state)
{
	static const long	 limits[] = { 1, 30, 120, 500, 3000 };
	struct flow_work	*w;
	struct case_		 k;
	uint8_t			 bsel[MAXN];
	int			 trial, j, hit = 0, exact = 0;
	double			 opt;

	(void)state;
	w = flow_work_new(MAXN, MAXG);
	assert_non_null(w);
	for (trial = 0; trial < 60; trial++) {
		make_hard_case(&k, 16 + (int)(rng() % 3));
		if (flow_is_laminar(&k.s, w) != FLOW_SEARCH)
			continue;
		opt = flow_brute(&k.s, bsel);
		for (j = 0; j < 10; j++) {
			flow_work_node_limit(w, limits[j % 5]);
			flow_work_search_small(w, j < 5 ? 0 : 20);
			flow_solve(&k.s, FLOW_SEARCH, trial % 2, w);
			if (k.s.value < opt - 1e-9)
				fail_msg("trial %d limit %ld: bound %.12g "
				    "below the optimum %.12g", trial,
				    limits[j % 5], k.s.value, opt);
			assert_true(k.s.chosen <= k.s.value);
			assert_true(fabs(plan_value(&k.s, k.sel) -
			    k.s.chosen) < 1e-9);
			if (k.s.exact) {
				exact++;
				assert_true(fabs(k.s.chosen - opt) < 1e-9);
				assert_true(fabs(k.s.value - opt) < 1e-9);
			} else
				hit++;
		}
	}
	flow_work_node_limit(w, 100000);
	flow_work_search_small(w, 20);
	assert_true(hit > 100);
	assert_true(exact > 100);
	flow_work_free(w);
}

/*
 * The refill's radix sort against qsort with the order's comparator: ties
 * in w (many, as tied propensities give), negative and tiny values,
 * customers past 2^24 and places past 2^8 (every byte of the pair's key),
 * in no order and in pair order (as each shard queues them: the sort
 * skips the pair's passes), and the sizes where passes are skipped.
 */
static void
test_cand_sort(void **state)
{
	static const int	 sizes[] = { 0, 1, 2, 3, 255, 256, 1000, 70000 };
	struct lagrange_cand	*a, *b;
	uint64_t		 x = 12345;

	(void)state;
	for (size_t z = 0; z < 2 * sizeof sizes / sizeof sizes[0]; z++) {
		int	 n = sizes[z / 2], ascending = z % 2;

		a = calloc((size_t)n + 1, sizeof *a);
		b = calloc((size_t)n + 1, sizeof *b);
		assert_non_null(a);
		assert_non_null(b);
		for (int i = 0; i < n; i++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			/* Values from 20 levels, a few negative or tiny. */
			a[i].w = (float)((int)(x >> 59) - 4) * 0.25f +
			    ((x >> 40) & 1 ? 1e-30f : 0);
			a[i].offer = (uint16_t)(x >> 20);
			/* Distinct pairs, shuffled, some past 2^24. */
			a[i].customer = (int)(((uint64_t)i * 2654435761u) %
			    1000003u) + (i % 3 == 0 ? 1 << 25 : 0);
			a[i].at = (uint16_t)(i % 7 == 0 ? 300 + i % 5 : i % 4);
			if (ascending) {
				a[i].customer = i * 5 + (i > n / 2 ? 1 << 25 :
				    0);
				a[i].at = (uint16_t)(i % 2 ? 700 : 3);
			}
		}
		memcpy(b, a, (size_t)n * sizeof *a);
		lagrange_cand_sort(a, n);
		qsort(b, (size_t)n, sizeof *b, lagrange_cand_cmp);
		for (int i = 0; i < n; i++) {
			assert_true(a[i].w == b[i].w);
			assert_int_equal(a[i].customer, b[i].customer);
			assert_int_equal(a[i].at, b[i].at);
			assert_int_equal(a[i].offer, b[i].offer);
		}
		free(a);
		free(b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_greedy_laminar),
		cmocka_unit_test(test_greedy_nonbinding_crossing),
		cmocka_unit_test(test_flow_general),
		cmocka_unit_test(test_laminar_detection),
		cmocka_unit_test(test_categories),
		cmocka_unit_test(test_category_detection),
		cmocka_unit_test(test_search_hard),
		cmocka_unit_test(test_search_hundred),
		cmocka_unit_test(test_search_node_limit),
		cmocka_unit_test(test_cand_sort),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
