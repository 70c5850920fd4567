/*
 * bench_solver: generate a synthetic instance shaped like `pacer demo-data`
 * (50 offers on email/sms/push across 12 campaigns, about half the pairs
 * eligible, skewed propensities, budgets that bind on most offers, some
 * customers already near their caps) and solve it with the scale and/or
 * exact method. One line of key=value results per solve.
 *
 *	bench_solver -n CUSTOMERS [-s SEED] [-m scale|exact] [-g GAP]
 *	    [-j THREADS] [-T SECONDS] [-p POLISH] [-v]
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
static void	bench_progress(void *, const struct solver_progress *);
static void	bench_log(void *, const char *);
static void	usage(void);
static double	solver_now_bench(void);

static const double bench_campaign_value[BENCH_CAMPAIGNS][2] = {
	{ 20, 60 }, { 30, 80 }, { 80, 220 }, { 3, 15 }, { 120, 260 },
	{ 15, 50 }, { 2, 10 }, { 30, 120 }, { 40, 150 }, { 10, 40 },
	{ 30, 90 }, { 150, 300 },
};

/* splitmix64: small, fast, deterministic. */
static uint64_t
bench_next(struct bench_rng *r)
{
	uint64_t	z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31));
}

/* Uniform in [0,1). */
static double
bench_unit(struct bench_rng *r)
{
	return ((bench_next(r) >> 11) * 0x1.0p-53);
}

/* Uniform in [a,b). */
static double
bench_between(struct bench_rng *r, double a, double b)
{
	return (a + (b - a) * bench_unit(r));
}

/* Build the instance for n customers from seed; exits on failure. */
static struct solver_instance *
bench_generate(int n, uint64_t seed)
{
	struct solver_offer	 of[BENCH_OFFERS];
	double			 mean[BENCH_OFFERS], elig[BENCH_OFFERS];
	struct solver_instance	*inst;
	struct bench_rng	 r = { seed * 7919 + 1 };
	uint16_t		 offer[BENCH_OFFERS];
	float			 prop[BENCH_OFFERS];
	uint8_t			 rch[BENCH_CHANNELS], rcp[BENCH_CAMPAIGNS];
	uint8_t			 consent, rall;
	char			*cause = NULL;
	int			 i, o, k, j, contacts;
	double			 u, affinity, p;

	for (o = 0; o < BENCH_OFFERS; o++) {
		u = bench_unit(&r);
		of[o].campaign = o % BENCH_CAMPAIGNS;
		of[o].channel = u < 0.5 ? 0 : u < 0.75 ? 1 : 2;
		of[o].value = round(bench_between(&r,
		    bench_campaign_value[of[o].campaign][0],
		    bench_campaign_value[of[o].campaign][1]));
		of[o].cost = of[o].channel == 1 ? bench_between(&r, 0.04, 0.08) :
		    of[o].channel == 2 ? bench_between(&r, 0.0005, 0.002) :
		    bench_between(&r, 0.005, 0.02);
		mean[o] = bench_between(&r, 0.01, 0.04) *
		    (of[o].value < 20 ? 3.0 : of[o].value < 80 ? 1.5 : 1.0);
		elig[o] = bench_between(&r, 0.3, 0.7);
		of[o].budget = -1;
		of[o].capacity = -1;
		/* Enough for a few percent of the customers: binds. */
		if (bench_unit(&r) < 0.85)
			of[o].budget = of[o].cost * n *
			    bench_between(&r, 0.004, 0.03);
		if (bench_unit(&r) < 0.25)
			of[o].capacity = (long)(n * bench_between(&r, 0.005,
			    0.04)) + 1;
	}
	inst = solver_instance_new(BENCH_OFFERS, BENCH_CHANNELS,
	    BENCH_CAMPAIGNS, of, &cause);
	if (inst == NULL ||
	    solver_instance_reserve(inst, n, (int64_t)n * 26) != 0) {
		fprintf(stderr, "bench_solver: %s\n", cause ? cause : "nomem");
		exit(1);
	}
	for (i = 0; i < n; i++) {
		/* Consent: most customers accept email, fewer sms and push. */
		/* One draw per statement: operand order is unspecified. */
		consent = bench_unit(&r) < 0.9;
		consent |= (bench_unit(&r) < 0.6) << 1;
		consent |= (bench_unit(&r) < 0.7) << 2;
		affinity = exp(bench_between(&r, -1, 1));
		k = 0;
		for (o = 0; o < BENCH_OFFERS; o++) {
			if (bench_unit(&r) >= elig[o])
				continue;
			if (!(consent & (1 << of[o].channel)))
				continue;
			p = -log(bench_unit(&r) + 1e-12) * mean[o] * affinity;
			if (p > 0.95)
				p = 0.95;
			/* Four decimals, as in scores.csv. */
			p = round(p * 1e4) / 1e4;
			offer[k] = (uint16_t)o;
			prop[k] = (float)p;
			k++;
		}
		/*
		 * Room as the demo config gives it: email 1/1d, sms 1/1d,
		 * push 2/1d, all channels 5/7d, campaign 1/1d, at most 4
		 * offers; recent contacts use some of it up.
		 */
		rch[0] = 1;
		rch[1] = 1;
		rch[2] = 2;
		for (j = 0; j < BENCH_CAMPAIGNS; j++)
			rcp[j] = 1;
		u = bench_unit(&r);
		contacts = u < 0.5 ? 0 : u < 0.75 ? 1 : u < 0.9 ? 2 :
		    u < 0.97 ? 4 : 5;
		rall = (uint8_t)(5 - contacts < 4 ? 5 - contacts : 4);
		for (j = 0; j < contacts && j < 2; j++) {
			/* A contact today on some channel and campaign. */
			if (bench_unit(&r) < 0.3) {
				int c = (int)(bench_unit(&r) * BENCH_CHANNELS);

				if (rch[c] > 0)
					rch[c]--;
				rcp[(int)(bench_unit(&r) *
				    BENCH_CAMPAIGNS)] = 0;
			}
		}
		if (solver_instance_add_customer(inst, k, offer, prop, rall,
		    rch, rcp, &cause) < 0) {
			fprintf(stderr, "bench_solver: %s\n", cause);
			exit(1);
		}
	}
	return (inst);
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

/* Log lines on stderr when verbose. */
static void
bench_log(void *arg, const char *line)
{
	if (arg == NULL)
		return;
	fprintf(stderr, "log: %s\n", line);
}

/* Seconds on a monotonic clock. */
static double
solver_now_bench(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec * 1e-9);
}

/* Print usage and exit. */
static void
usage(void)
{
	fprintf(stderr, "usage: bench_solver -n customers [-s seed] "
	    "[-m scale|exact] [-g gap] [-j threads] [-T seconds] "
	    "[-p polish] [-v]\n");
	exit(1);
}

int
main(int argc, char **argv)
{
	struct solver_instance	*inst;
	struct solver_options	 opts;
	struct solver_result	 res;
	char			*cause = NULL;
	int			 ch, n = 0, verbose = 0, feasible, o, nbind = 0;
	uint64_t		 seed = 1;
	double			 t0, tgen, checked;

	solver_options_init(&opts);
	while ((ch = getopt(argc, argv, "n:s:m:g:j:T:p:v")) != -1) {
		switch (ch) {
		case 'n':
			n = atoi(optarg);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 10);
			break;
		case 'm':
			if (strcmp(optarg, "exact") == 0)
				opts.method = SOLVER_EXACT;
			else if (strcmp(optarg, "scale") == 0)
				opts.method = SOLVER_SCALE;
			else
				usage();
			break;
		case 'g':
			opts.gap = atof(optarg);
			break;
		case 'j':
			opts.threads = atoi(optarg);
			break;
		case 'T':
			opts.time_limit_s = atof(optarg);
			break;
		case 'p':
			opts.polish_customers = atoi(optarg);
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (n <= 0)
		usage();
	t0 = solver_now_bench();
	inst = bench_generate(n, seed);
	tgen = solver_now_bench() - t0;
	opts.progress = bench_progress;
	opts.log = bench_log;
	opts.arg = verbose ? &verbose : NULL;
	if (solver_solve(inst, &opts, &res, &cause) != 0) {
		fprintf(stderr, "bench_solver: %s\n", cause);
		return (1);
	}
	feasible = solver_check_feasible(inst, res.selected, &checked,
	    &cause) == 0;
	if (!feasible)
		fprintf(stderr, "bench_solver: INFEASIBLE: %s\n", cause);
	for (o = 0; o < inst->noffers; o++)
		nbind += res.binding_budget[o] || res.binding_capacity[o];
	printf("n=%d pairs=%lld method=%s status=%s seconds=%.3f "
	    "generate_s=%.2f objective=%.4f bound=%.4f gap=%.3e "
	    "iterations=%d polish_improved=%d sends=%lld binding=%d "
	    "feasible=%d\n", n, (long long)inst->pair_start[n],
	    opts.method == SOLVER_EXACT ? "exact" : "scale",
	    solver_status_name(res.status), res.seconds, tgen, res.objective,
	    res.bound, res.gap, res.iterations, res.polish_improved,
	    (long long)res.nselected, nbind, feasible);
	solver_result_free(&res);
	solver_instance_free(inst);
	return (feasible ? 0 : 2);
}
