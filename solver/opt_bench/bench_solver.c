/*
 * bench_solver: generate a synthetic instance shaped like `pacer demo-data`
 * (50 offers on email/sms/push across 12 campaigns, about half the pairs
 * eligible, skewed propensities, budgets that bind on most offers, some
 * customers already near their caps) and solve it with the scale or exact
 * method of the library, or as the BENCH.md reference: the whole instance
 * as one GLPK MIP handed to glp_intopt with its presolver on (-m glpk,
 * built here so it shares nothing with the library's exact mode). One
 * line of key=value results per solve, with where the wall time went:
 * build_s (generating the instance in memory: what stands for reading
 * scores.csv in `pacer optimize`), solve_s, check_s (the feasibility check
 * and objective recount), free_s and total_s.
 *
 * -t builds the ties-heavy instance instead (BENCH.md 2): most
 * propensities from a handful of values and offer values and costs from a
 * few levels, so many pairs have the same net value; one offer per
 * customer at most and budgets and capacities that all bind. That is the
 * shape on which a price vector leaves many optimal subproblem answers and
 * scale mode used to stall short of the gap. -F turns the library's exact
 * fallback off, to see what scale mode alone reaches.
 *
 *	bench_solver -n CUSTOMERS [-s SEED] [-m scale|exact|glpk] [-g GAP]
 *	    [-j THREADS] [-T SECONDS] [-p POLISH] [-t] [-F] [-v]
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glpk.h>

#include "pacer/solver.h"

#define BENCH_OFFERS	50
#define BENCH_CHANNELS	3	/* email, sms, push */
#define BENCH_CAMPAIGNS	12

struct bench_rng {
	uint64_t	s;
};

static uint64_t	bench_next(struct bench_rng *);
static double	bench_unit(struct bench_rng *);
static double	bench_between(struct bench_rng *, double, double);
static struct solver_instance *bench_generate(int, uint64_t);
static struct solver_instance *bench_generate_ties(int, uint64_t);
static void	bench_progress(void *, const struct solver_progress *);
static void	bench_log(void *, const char *);
static void	usage(void);
static double	solver_now_bench(void);
static int	bench_glpk(const struct solver_instance *, double, double,
		    struct solver_result *);
static int	bench_glpk_term(void *, const char *);

static const double bench_campaign_value[BENCH_CAMPAIGNS][2] = {
	{ 20, 60 }, { 30, 80 }, { 80, 220 }, { 3, 15 }, { 120, 260 },
	{ 15, 50 }, { 2, 10 }, { 30, 120 }, { 40, 150 }, { 10, 40 },
	{ 30, 90 }, { 150, 300 },
};

/* The ties instance: the few values its pairs draw from. */
static const double bench_tie_value[] = { 20, 50, 100 };
static const double bench_tie_cost[BENCH_CHANNELS] = { 0.01, 0.05, 0.001 };
static const double bench_tie_propensity[] = { 0.01, 0.02, 0.04, 0.08 };
#define BENCH_NELEM(a)	(sizeof (a) / sizeof (a)[0])

/* splitmix64: small, fast, deterministic. */
static uint64_t
bench_next(struct bench_rng *r)
{
	uint64_t	z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0,1). */
static double
bench_unit(struct bench_rng *r)
{
	return (bench_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [a,b). */
static double
bench_between(struct bench_rng *r, double a, double b)
{
	return a + (b - a) * bench_unit(r);
}

/* The demo instance's offers for n customers, and each one's propensity. */
struct bench_demo {
	struct solver_offer	 of[BENCH_OFFERS];
	double			 mean[BENCH_OFFERS];	/* propensity scale */
	double			 elig[BENCH_OFFERS];	/* share eligible */
};

/* Draw the offers (budgets and capacities that bind) from r. */
static void
bench_demo_offers(struct bench_demo *b, int n, struct bench_rng *r)
{
	struct solver_offer	*of = b->of;
	double			 u;

	for (int o = 0; o < BENCH_OFFERS; o++) {
		u = bench_unit(r);
		of[o].campaign = o % BENCH_CAMPAIGNS;
		of[o].channel = u < 0.5 ? 0 : u < 0.75 ? 1 : 2;
		of[o].value = round(bench_between(r,
		    bench_campaign_value[of[o].campaign][0],
		    bench_campaign_value[of[o].campaign][1]));
		of[o].cost = of[o].channel == 1 ? bench_between(r, 0.04, 0.08) :
		    of[o].channel == 2 ? bench_between(r, 0.0005, 0.002) :
		    bench_between(r, 0.005, 0.02);
		b->mean[o] = bench_between(r, 0.01, 0.04) *
		    (of[o].value < 20 ? 3.0 : of[o].value < 80 ? 1.5 : 1.0);
		b->elig[o] = bench_between(r, 0.3, 0.7);
		of[o].budget = -1;
		of[o].capacity = -1;
		/* Enough for a few percent of the customers: binds. */
		if (bench_unit(r) < 0.85)
			of[o].budget = of[o].cost * n *
			    bench_between(r, 0.004, 0.03);
		if (bench_unit(r) < 0.25)
			of[o].capacity = (long)(n * bench_between(r, 0.005,
			    0.04)) + 1;
	}
}

/* Draw one customer from r and add it to inst; exits on failure. */
static void
bench_demo_customer(const struct bench_demo *b, struct solver_instance *inst,
    struct bench_rng *r)
{
	const struct solver_offer *of = b->of;
	uint16_t		 offer[BENCH_OFFERS];
	float			 prop[BENCH_OFFERS];
	uint16_t		 rch[BENCH_CHANNELS], rcp[BENCH_CAMPAIGNS];
	uint8_t			 consent, rall;
	char			*cause = NULL;
	int			 o, k = 0, j, contacts;
	double			 u, affinity, p;

	/* Consent: most customers accept email, fewer sms and push. */
	/* One draw per statement: operand order is unspecified. */
	consent = bench_unit(r) < 0.9;
	consent |= (bench_unit(r) < 0.6) << 1;
	consent |= (bench_unit(r) < 0.7) << 2;
	affinity = exp(bench_between(r, -1, 1));
	for (o = 0; o < BENCH_OFFERS; o++) {
		if (bench_unit(r) >= b->elig[o])
			continue;
		if (!(consent & (1 << of[o].channel)))
			continue;
		p = -log(bench_unit(r) + 1e-12) * b->mean[o] * affinity;
		if (p > 0.95)
			p = 0.95;
		/* Four decimals, as in scores.csv. */
		p = round(p * 1e4) / 1e4;
		offer[k] = (uint16_t)o;
		prop[k] = (float)p;
		k++;
	}
	/*
	 * Room as the demo config gives it: email 1/1d, sms 1/1d, push 2/1d,
	 * all channels 5/7d, campaign 1/1d, at most 4 offers; recent contacts
	 * use some of it up.
	 */
	rch[0] = 1;
	rch[1] = 1;
	rch[2] = 2;
	for (j = 0; j < BENCH_CAMPAIGNS; j++)
		rcp[j] = 1;
	u = bench_unit(r);
	contacts = u < 0.5 ? 0 : u < 0.75 ? 1 : u < 0.9 ? 2 : u < 0.97 ? 4 : 5;
	rall = (uint8_t)(5 - contacts < 4 ? 5 - contacts : 4);
	for (j = 0; j < contacts && j < 2; j++) {
		/* A contact today on some channel and campaign. */
		if (bench_unit(r) < 0.3) {
			int c = (int)(bench_unit(r) * BENCH_CHANNELS);

			if (rch[c] > 0)
				rch[c]--;
			rcp[(int)(bench_unit(r) * BENCH_CAMPAIGNS)] = 0;
		}
	}
	if (solver_instance_add_customer(inst, k, offer, prop, rall, rch, rcp,
	    &cause) < 0) {
		fprintf(stderr, "bench_solver: %s\n", cause);
		exit(1);
	}
}

/* Build the instance for n customers from seed; exits on failure. */
static struct solver_instance *
bench_generate(int n, uint64_t seed)
{
	struct bench_demo	 b;
	struct solver_instance	*inst;
	struct bench_rng	 r = { seed * 7919 + 1 };
	char			*cause = NULL;

	bench_demo_offers(&b, n, &r);
	inst = solver_instance_new(BENCH_OFFERS, BENCH_CHANNELS,
	    BENCH_CAMPAIGNS, b.of, &cause);
	if (inst == NULL ||
	    solver_instance_reserve(inst, n, (int64_t)n * 26) != 0) {
		fprintf(stderr, "bench_solver: %s\n", cause ? cause : "nomem");
		exit(1);
	}
	for (int i = 0; i < n; i++)
		bench_demo_customer(&b, inst, &r);
	return inst;
}

/*
 * Build the ties-heavy instance for n customers from seed (see the top of
 * the file); exits on failure. Every offer has a budget for 0.2-1% of the
 * customers and half of them a capacity as tight, so with one offer per
 * customer about a third of the customers can get one: every limit binds.
 */
static struct solver_instance *
bench_generate_ties(int n, uint64_t seed)
{
	struct solver_offer	 of[BENCH_OFFERS];
	struct solver_instance	*inst;
	struct bench_rng	 r = { seed * 7919 + 2 };
	uint16_t		 offer[BENCH_OFFERS];
	float			 prop[BENCH_OFFERS];
	uint16_t		 rch[BENCH_CHANNELS], rcp[BENCH_CAMPAIGNS];
	uint8_t			 consent;
	char			*cause = NULL;
	int			 i, o, k, j;
	double			 u, p;

	for (o = 0; o < BENCH_OFFERS; o++) {
		u = bench_unit(&r);
		of[o].campaign = o % BENCH_CAMPAIGNS;
		of[o].channel = u < 0.5 ? 0 : u < 0.75 ? 1 : 2;
		of[o].value = bench_tie_value[(int)(bench_unit(&r) *
		    BENCH_NELEM(bench_tie_value))];
		of[o].cost = bench_tie_cost[of[o].channel];
		of[o].budget = of[o].cost * n * bench_between(&r, 0.002, 0.01);
		of[o].capacity = -1;
		if (bench_unit(&r) < 0.5)
			of[o].capacity = (long)(n * bench_between(&r, 0.002,
			    0.01)) + 1;
	}
	inst = solver_instance_new(BENCH_OFFERS, BENCH_CHANNELS,
	    BENCH_CAMPAIGNS, of, &cause);
	if (inst == NULL ||
	    solver_instance_reserve(inst, n, (int64_t)n * 26) != 0) {
		fprintf(stderr, "bench_solver: %s\n", cause ? cause : "nomem");
		exit(1);
	}
	for (i = 0; i < n; i++) {
		/* One draw per statement: operand order is unspecified. */
		consent = bench_unit(&r) < 0.9;
		consent |= (bench_unit(&r) < 0.6) << 1;
		consent |= (bench_unit(&r) < 0.7) << 2;
		k = 0;
		for (o = 0; o < BENCH_OFFERS; o++) {
			if (bench_unit(&r) >= 0.5)
				continue;
			if (!(consent & (1 << of[o].channel)))
				continue;
			/* Nine in ten from the handful; the rest spread. */
			if (bench_unit(&r) < 0.9)
				p = bench_tie_propensity[(int)(bench_unit(&r) *
				    BENCH_NELEM(bench_tie_propensity))];
			else
				p = round(bench_between(&r, 0.005, 0.1) * 1e4) /
				    1e4;
			offer[k] = (uint16_t)o;
			prop[k] = (float)p;
			k++;
		}
		/* max_offers_per_customer = 1; channel and campaign 1/1d. */
		for (j = 0; j < BENCH_CHANNELS; j++)
			rch[j] = 1;
		for (j = 0; j < BENCH_CAMPAIGNS; j++)
			rcp[j] = 1;
		if (solver_instance_add_customer(inst, k, offer, prop, 1, rch,
		    rcp, &cause) < 0) {
			fprintf(stderr, "bench_solver: %s\n", cause);
			exit(1);
		}
	}
	return inst;
}

/* Progress on stderr when verbose. */
static void
bench_progress(void *arg, const struct solver_progress *p)
{
	if (arg == NULL)
		return;
	fprintf(stderr, "%s it=%d obj=%.4f bound=%.4f gap=%.3e t=%.2fs\n",
	    p->phase, p->iteration, p->objective, p->bound, p->gap,
	    p->elapsed_s);
}

/*
 * Log lines on stderr when verbose, with the seconds since the solve began
 * (arg: its start on solver_now_bench's clock), so the setup before the
 * first dual iteration shows up.
 */
static void
bench_log(void *arg, const char *line)
{
	if (arg == NULL)
		return;
	fprintf(stderr, "log: t=%.2fs %s\n",
	    solver_now_bench() - *(const double *)arg, line);
}

/* Seconds on a monotonic clock. */
static double
solver_now_bench(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Drop GLPK's terminal output (msg_lev is off; this catches the rest). */
static int
bench_glpk_term(void *arg, const char *s)
{
	(void)arg;
	(void)s;
	return 1;
}

/*
 * The BENCH.md reference: the instance as one monolithic MIP, solved by
 * glp_intopt with presolve on (GLPK solves the LP relaxation itself),
 * mip_gap gap, tm_lim seconds (<= 0: none). Columns are the pairs with a
 * positive net value; rows are every customer cap that can bind and every
 * offer's send limit. Fills res like
 * solver_solve (status, objective, bound, selected, seconds); 0 or -1.
 */
/* The monolithic MIP being built: its columns' pairs and its matrix. */
struct bench_mip {
	glp_prob	*lp;
	int64_t		*colpair;	/* column -> pair */
	int64_t		 ncols, ne;
	int		*ia, *ja;	/* the matrix's entries, 1-based */
	double		*ar;
};

/*
 * Customer c's columns (its pairs of positive net value) and the rows of
 * its caps that can bind (grow, gcount: ng groups of scratch).
 */
static void
bench_glpk_customer(const struct solver_instance *inst, struct bench_mip *m,
    int c, int *grow, int *gcount)
{
	const struct solver_offer	*of;
	int				 ng = inst->nchannels + inst->ncampaigns + 1;
	int64_t				 first = m->ncols;
	double				 room, v;
	int				 col;

	for (int64_t k = inst->pair_start[c]; k < inst->pair_start[c + 1]; k++) {
		of = &inst->offers[inst->pair_offer[k]];
		v = (double)inst->pair_propensity[k] * of->value - of->cost;
		if (v <= 0)
			continue;
		col = glp_add_cols(m->lp, 1);
		m->colpair[col] = k;
		m->ncols = col;
		glp_set_col_kind(m->lp, col, GLP_BV);
		glp_set_obj_coef(m->lp, col, v);
		gcount[of->channel]++;
		gcount[inst->nchannels + of->campaign]++;
		gcount[ng - 1]++;
	}
	for (int g = 0; g < ng; g++) {
		grow[g] = 0;
		if (gcount[g] == 0)
			continue;
		room = g < inst->nchannels ?
		    inst->room_channel[(size_t)c * inst->nchannels + g] :
		    g < ng - 1 ? inst->room_campaign[(size_t)c *
		    inst->ncampaigns + g - inst->nchannels] :
		    inst->room_all[c];
		if (room < gcount[g]) {
			grow[g] = glp_add_rows(m->lp, 1);
			glp_set_row_bnds(m->lp, grow[g], GLP_UP, 0, room);
		}
		gcount[g] = 0;
	}
	for (col = (int)first + 1; col <= m->ncols; col++) {
		of = &inst->offers[inst->pair_offer[m->colpair[col]]];
		int gs[3] = { of->channel, inst->nchannels + of->campaign,
		    ng - 1 };

		for (int g = 0; g < 3; g++) {
			if (grow[gs[g]] == 0)
				continue;
			m->ne++;
			m->ia[m->ne] = grow[gs[g]];
			m->ja[m->ne] = col;
			m->ar[m->ne] = 1;
		}
	}
}

/*
 * Offer rows. For 0/1 sends, cost * x <= budget and x <= capacity are one
 * row x <= min(capacity, floor(budget / cost)): the same integer program,
 * and the form GLPK does far better on (with the raw budget rows its
 * branch and bound runs for many minutes even at 2,000 customers).
 * limit_row: noffers of scratch.
 */
static void
bench_glpk_offers(const struct solver_instance *inst, struct bench_mip *m,
    int *limit_row)
{
	const struct solver_offer	*of;
	double				 room, v;
	int				 o, row;

	for (o = 0; o < inst->noffers; o++) {
		of = &inst->offers[o];
		room = of->capacity >= 0 ? (double)of->capacity : -1;
		if (of->budget >= 0 && of->cost > 0) {
			v = floor(of->budget / of->cost * (1 + 1e-12) + 1e-9);
			if (room < 0 || v < room)
				room = v;
		}
		if (room >= 0) {
			limit_row[o] = glp_add_rows(m->lp, 1);
			glp_set_row_bnds(m->lp, limit_row[o], GLP_UP, 0, room);
		}
	}
	for (int col = 1; col <= m->ncols; col++) {
		o = inst->pair_offer[m->colpair[col]];
		if ((row = limit_row[o]) != 0) {
			m->ne++;
			m->ia[m->ne] = row;
			m->ja[m->ne] = col;
			m->ar[m->ne] = 1;
		}
	}
}

/* Solve the loaded MIP and read its plan into res. */
static void
bench_glpk_solve(const struct solver_instance *inst, struct bench_mip *m,
    double gap, double seconds, struct solver_result *res)
{
	glp_iocp	 iocp;
	int		 ret, st;

	glp_init_iocp(&iocp);
	iocp.msg_lev = GLP_MSG_OFF;
	iocp.presolve = GLP_ON;
	iocp.mip_gap = gap;
	if (seconds > 0)
		iocp.tm_lim = (int)(seconds * 1000 > 2e9 ? 2e9 :
		    seconds * 1000);
	ret = glp_intopt(m->lp, &iocp);
	st = glp_mip_status(m->lp);
	res->status = ret == 0 && st == GLP_OPT ? SOLVER_OPTIMAL :
	    st == GLP_FEAS ? SOLVER_TIME_LIMIT : SOLVER_ERROR;
	if (st == GLP_OPT || st == GLP_FEAS) {
		for (int col = 1; col <= m->ncols; col++) {
			int64_t	 k = m->colpair[col];
			const struct solver_offer *of;

			res->selected[k] = glp_mip_col_val(m->lp, col) > 0.5;
			if (!res->selected[k])
				continue;
			of = &inst->offers[inst->pair_offer[k]];
			res->nselected++;
			res->objective += (double)inst->pair_propensity[k] *
			    of->value - of->cost;
		}
	}
	res->bound = res->status == SOLVER_OPTIMAL ? res->objective : NAN;
	res->gap = res->status == SOLVER_OPTIMAL ? 0 : NAN;
}

static int
bench_glpk(const struct solver_instance *inst, double gap, double seconds,
    struct solver_result *res)
{
	struct bench_mip	 m;
	int			*grow, *gcount, *limit_row;
	int			 ng = inst->nchannels + inst->ncampaigns + 1;
	int64_t			 np = inst->pair_start[inst->ncustomers];
	double			 t0 = solver_now_bench();

	memset(res, 0, sizeof *res);
	memset(&m, 0, sizeof m);
	m.colpair = calloc(np + 1, sizeof *m.colpair);
	m.ia = calloc(6 * np + 1, sizeof *m.ia);
	m.ja = calloc(6 * np + 1, sizeof *m.ja);
	m.ar = calloc(6 * np + 1, sizeof *m.ar);
	grow = calloc(ng, sizeof *grow);
	gcount = calloc(ng, sizeof *gcount);
	limit_row = calloc(inst->noffers + 1, sizeof *limit_row);
	res->selected = calloc(np + 1, 1);
	if (m.colpair == NULL || m.ia == NULL || m.ja == NULL || m.ar == NULL ||
	    grow == NULL || gcount == NULL || limit_row == NULL ||
	    res->selected == NULL || np > INT32_MAX / 6)
		return -1;
	glp_term_hook(bench_glpk_term, NULL);
	m.lp = glp_create_prob();
	glp_set_obj_dir(m.lp, GLP_MAX);
	for (int c = 0; c < inst->ncustomers; c++)
		bench_glpk_customer(inst, &m, c, grow, gcount);
	bench_glpk_offers(inst, &m, limit_row);
	if (m.ne > 0)
		glp_load_matrix(m.lp, (int)m.ne, m.ia, m.ja, m.ar);
	free(m.ia);
	free(m.ja);
	free(m.ar);
	bench_glpk_solve(inst, &m, gap, seconds, res);
	glp_delete_prob(m.lp);
	glp_free_env();
	free(m.colpair);
	free(grow);
	free(gcount);
	free(limit_row);
	res->seconds = solver_now_bench() - t0;
	return 0;
}

/* Print usage and exit. */
static void
usage(void)
{
	fprintf(stderr, "usage: bench_solver -n customers [-s seed] "
	    "[-m scale|exact|glpk] [-g gap] [-j threads] [-T seconds] "
	    "[-p polish] [-t] [-F] [-v]\n");
	exit(1);
}

/* What the command line asks for. */
struct bench_args {
	int		 n;		/* customers */
	uint64_t	 seed;
	int		 verbose, reference, ties;
};

/* Read the command line into a and opts; exits on bad usage. */
static void
bench_args(int argc, char **argv, struct bench_args *a,
    struct solver_options *opts)
{
	int	 ch;

	while ((ch = getopt(argc, argv, "n:s:m:g:j:T:p:tFv")) != -1) {
		switch (ch) {
		case 'n': a->n = atoi(optarg); break;
		case 's': a->seed = strtoull(optarg, NULL, 10); break;
		case 'm':
			if (strcmp(optarg, "exact") == 0)
				opts->method = SOLVER_EXACT;
			else if (strcmp(optarg, "scale") == 0)
				opts->method = SOLVER_SCALE;
			else if (strcmp(optarg, "glpk") == 0)
				a->reference = 1;
			else
				usage();
			break;
		case 'g': opts->gap = atof(optarg); break;
		case 'j': opts->threads = atoi(optarg); break;
		case 'T': opts->time_limit_s = atof(optarg); break;
		case 'p': opts->polish_customers = atoi(optarg); break;
		case 't': a->ties = 1; break;
		case 'F': opts->exact_fallback = 0; break;
		case 'v': a->verbose = 1; break;
		default: usage();
		}
	}
	if (a->n <= 0)
		usage();
}

int
main(int argc, char **argv)
{
	struct solver_instance	*inst;
	struct solver_options	 opts;
	struct solver_result	 res;
	struct bench_args	 a = { 0, 1, 0, 0, 0 };
	char			*cause = NULL;
	int			 feasible, o, nbind = 0, n;
	int64_t			 npairs;
	double			 t0, t1, tbuild, tsolve, tcheck, tfree, checked;
	const char		*method;

	solver_options_init(&opts);
	bench_args(argc, argv, &a, &opts);
	n = a.n;
	t0 = solver_now_bench();
	inst = a.ties ? bench_generate_ties(n, a.seed) : bench_generate(n, a.seed);
	t1 = solver_now_bench();
	tbuild = t1 - t0;
	opts.progress = bench_progress;
	opts.log = bench_log;
	opts.arg = a.verbose ? &t1 : NULL;
	if (a.reference) {
		method = "glpk";
		if (bench_glpk(inst, opts.gap, opts.time_limit_s, &res) != 0) {
			fprintf(stderr, "bench_solver: glpk reference failed\n");
			return 1;
		}
	} else {
		method = opts.method == SOLVER_EXACT ? "exact" : "scale";
		if (solver_solve(inst, &opts, &res, &cause) != 0) {
			fprintf(stderr, "bench_solver: %s\n", cause);
			return 1;
		}
	}
	tsolve = solver_now_bench() - t1;
	t1 = solver_now_bench();
	feasible = solver_check_feasible(inst, res.selected, &checked,
	    &cause) == 0;
	tcheck = solver_now_bench() - t1;
	if (!feasible)
		fprintf(stderr, "bench_solver: INFEASIBLE: %s\n", cause);
	for (o = 0; o < inst->noffers && res.binding_budget != NULL; o++)
		nbind += res.binding_budget[o] || res.binding_capacity[o];
	npairs = inst->pair_start[n];
	t1 = solver_now_bench();
	solver_result_free(&res);
	solver_instance_free(inst);
	tfree = solver_now_bench() - t1;
	/* seconds is the library's own figure; solve_s is around the call. */
	printf("n=%d pairs=%lld instance=%s method=%s status=%s seconds=%.3f "
	    "objective=%.4f bound=%.4f gap=%.3e iterations=%d "
	    "polish_improved=%d fallback=%d sends=%lld binding=%d "
	    "feasible=%d build_s=%.2f solve_s=%.2f check_s=%.2f free_s=%.2f "
	    "total_s=%.2f\n", n, (long long)npairs, a.ties ? "ties" : "demo",
	    method, solver_status_name(res.status), res.seconds,
	    res.objective, res.bound, res.gap, res.iterations,
	    res.polish_improved, res.exact_fallback, (long long)res.nselected,
	    nbind, feasible, tbuild, tsolve, tcheck, tfree,
	    solver_now_bench() - t0);
	return feasible ? 0 : 2;
}
