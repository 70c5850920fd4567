/*
 * GLPK integer programs: the exact mode (the whole instance as one MIP) and
 * the polish (a subset of customers, everyone else fixed).
 *
 * GLPK runs on a thread of its own so that its environment (thread local)
 * can be released after every solve without touching the caller's, and so
 * that an error inside GLPK ends in glp_error_hook -> glp_free_env ->
 * longjmp instead of abort(). Its terminal output goes to the log callback
 * one line at a time.
 */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glpk.h>

#include "opt.h"

struct exact_glpk {
	struct exact_job	*job;
	jmp_buf			 jb;
	char			 line[1024];	/* partial terminal line */
	size_t			 len;
	char			 last[256];	/* last complete line */
	char			*cause;

	/* Model, kept here so the error path can free it. */
	glp_prob		*lp;
	int64_t			*colpair;	/* column -> pair (1-based) */
	int			 ncols;
	int			*ia, *ja;
	double			*ar;
	double			*x;		/* heuristic start, 1-based */
	int			*offer_row;	/* offer -> row or 0 */
	int			 fair_row[SOLVER_FAIR_MAX]; /* row or 0 */
	double			 best_bound;	/* from the search tree */
	int			 heur_given;
	double			*duals;		/* per offer, or NULL */
	int			 rv;
};

/* What exact_build counts while it adds one customer after another. */
struct exact_build_state {
	const struct solver_instance	*inst;
	long		*ocount;	/* columns per offer */
	int		*gcount;	/* columns per cap group */
	int		*grow;		/* row per cap group, or 0 */
	int		 ng;		/* channel, campaign, category, all */
	int64_t		 ncols;		/* columns so far */
	int64_t		 ne;		/* matrix entries so far */
};

static void	exact_error_hook(void *);
static int	exact_term_hook(void *, const char *);
static void	exact_callback(glp_tree *, void *);
static void	exact_free_model(struct exact_glpk *);
static int	exact_customer(const struct exact_job *, int);
static int64_t	exact_max_cols(const struct exact_job *);
static int	exact_offer_groups(const struct exact_build_state *, int,
		    int[4]);
static void	exact_customer_cols(struct exact_glpk *,
		    struct exact_build_state *, int);
static int	exact_group_room(const struct exact_build_state *, int, int);
static void	exact_customer_rows(struct exact_glpk *,
		    struct exact_build_state *, int);
static void	exact_entry(struct exact_glpk *, struct exact_build_state *,
		    int, int, double);
static void	exact_customer_entries(struct exact_glpk *,
		    struct exact_build_state *, int64_t);
static int	exact_drop_cols(struct exact_glpk *, int64_t, int64_t);
static void	exact_offer_rows(struct exact_glpk *,
		    struct exact_build_state *);
static void	exact_fair_rows(struct exact_glpk *,
		    struct exact_build_state *);
static int	exact_alloc(struct exact_glpk *, struct exact_build_state *,
		    int64_t);
static int	exact_build(struct exact_glpk *);
static int	exact_ms(double);
static int	exact_relaxation(struct exact_glpk *);
static int	exact_branch(struct exact_glpk *, double);
static void	exact_read_plan(struct exact_glpk *, int, int);
static int	exact_glpk(struct exact_glpk *);
static void	*exact_thread(void *);
static int	exact_solve_duals(struct exact_job *, double *, char **);

/* GLPK hit an error: free its environment and jump back (never returns). */
static void
exact_error_hook(void *info)
{
	struct exact_glpk	*g = info;

	glp_free_env();
	longjmp(g->jb, 1);
}

/* Collect GLPK terminal output into lines for the log callback. */
static int
exact_term_hook(void *info, const char *s)
{
	struct exact_glpk	*g = info;
	struct exact_job	*job = g->job;

	for (; *s != '\0'; s++) {
		if (*s != '\n' && g->len < sizeof g->line - 1) {
			g->line[g->len++] = *s;
			continue;
		}
		if (*s != '\n')
			continue;
		g->line[g->len] = '\0';
		snprintf(g->last, sizeof g->last, "%.200s", g->line);
		if (job->log != NULL && g->len > 0)
			solver_log(job->log, job->arg, "glpk: %s", g->line);
		g->len = 0;
	}
	return 1;	/* never print to stdout */
}

/* Branch-and-bound callback: track the best bound, offer the start plan. */
static void
exact_callback(glp_tree *tree, void *info)
{
	struct exact_glpk	*g = info;
	int			 p;
	double			 b;

	if (glp_ios_reason(tree) == GLP_IHEUR && g->x != NULL &&
	    !g->heur_given) {
		g->heur_given = 1;
		glp_ios_heur_sol(tree, g->x);
	}
	if ((p = glp_ios_best_node(tree)) != 0) {
		b = glp_ios_node_bound(tree, p);
		if (b < g->best_bound)
			g->best_bound = b;
	}
}

/* Free what exact_build allocated (not the GLPK problem). */
static void
exact_free_model(struct exact_glpk *g)
{
	free(g->colpair);
	free(g->ia);
	free(g->ja);
	free(g->ar);
	free(g->x);
	free(g->offer_row);
	g->colpair = NULL;
	g->ia = g->ja = NULL;
	g->ar = g->x = NULL;
	g->offer_row = NULL;
}

/* 1 if pair k (of customer c) can be worth a column. */
static int
exact_useful(const struct solver_instance *inst, int c, int64_t k)
{
	/* A fairness row may pay for a member's send of negative value. */
	return solver_pair_value(inst, k) > 0 ||
	    (inst->nfair > 0 && inst->fair_member[c] != 0);
}

/* The customer of entry ci of the job (all customers when it names none). */
static int
exact_customer(const struct exact_job *job, int ci)
{
	return job->customers != NULL ? job->customers[ci] : ci;
}

/* Pairs of the job's customers: the most columns the MIP can have. */
static int64_t
exact_max_cols(const struct exact_job *job)
{
	const struct solver_instance	*inst = job->inst;
	int				 nc, ci, c;
	int64_t				 maxcols = 0;

	nc = job->customers != NULL ? job->ncustomers : inst->ncustomers;
	for (ci = 0; ci < nc; ci++) {
		c = exact_customer(job, ci);
		maxcols += inst->pair_start[c + 1] - inst->pair_start[c];
	}
	return maxcols;
}

/*
 * The cap groups that hold a send of offer o, in the order their entries
 * go into the matrix: channel, campaign, all, then category if it has one.
 */
static int
exact_offer_groups(const struct exact_build_state *b, int o, int gs[4])
{
	const struct solver_instance	*inst = b->inst;
	const struct solver_offer	*of = &inst->offers[o];
	int				 n = 0, cat;

	gs[n++] = of->channel;
	gs[n++] = inst->nchannels + of->campaign;
	gs[n++] = b->ng - 1;
	if ((cat = solver_offer_category(inst, o)) >= 0)
		gs[n++] = inst->nchannels + inst->ncampaigns + cat;
	return n;
}

/* A column per useful pair of customer c, counted per group and offer. */
static void
exact_customer_cols(struct exact_glpk *g, struct exact_build_state *b, int c)
{
	const struct solver_instance	*inst = b->inst;
	int64_t				 k;
	int				 col, gs[4], n, gi;

	for (k = inst->pair_start[c]; k < inst->pair_start[c + 1]; k++) {
		if (!exact_useful(inst, c, k))
			continue;
		col = (int)++b->ncols;
		g->colpair[col] = k;
		glp_set_col_kind(g->lp, col, GLP_BV);
		glp_set_obj_coef(g->lp, col, solver_pair_value(inst, k));
		n = exact_offer_groups(b, inst->pair_offer[k], gs);
		for (gi = 0; gi < n; gi++)
			b->gcount[gs[gi]]++;
		b->ocount[inst->pair_offer[k]]++;
		if (g->x != NULL)
			g->x[col] = g->job->start[k] ? 1 : 0;
	}
}

/* Customer c's room in cap group gnum. */
static int
exact_group_room(const struct exact_build_state *b, int c, int gnum)
{
	const struct solver_instance	*inst = b->inst;

	if (gnum < inst->nchannels)
		return inst->room_channel[(size_t)c * inst->nchannels +
		    gnum];
	if (gnum < inst->nchannels + inst->ncampaigns)
		return inst->room_campaign[(size_t)c * inst->ncampaigns +
		    gnum - inst->nchannels];
	if (gnum < b->ng - 1)
		return inst->room_category[(size_t)c * inst->ncategories +
		    gnum - inst->nchannels - inst->ncampaigns];
	return inst->room_all[c];
}

/* A row per cap that can bind for customer c (more columns than room). */
static void
exact_customer_rows(struct exact_glpk *g, struct exact_build_state *b, int c)
{
	int	gnum, room, row;

	for (gnum = 0; gnum < b->ng; gnum++) {
		b->grow[gnum] = 0;
		if (b->gcount[gnum] == 0)
			continue;
		if ((room = exact_group_room(b, c, gnum)) >= b->gcount[gnum])
			continue;
		row = glp_add_rows(g->lp, 1);
		glp_set_row_bnds(g->lp, row, GLP_UP, 0, room);
		b->grow[gnum] = row;
	}
}

/* Add matrix entry (row, col) = a. */
static void
exact_entry(struct exact_glpk *g, struct exact_build_state *b, int row, int col,
    double a)
{
	b->ne++;
	g->ia[b->ne] = row;
	g->ja[b->ne] = col;
	g->ar[b->ne] = a;
}

/* Columns first+1 .. ncols (one customer's) into the rows of their caps. */
static void
exact_customer_entries(struct exact_glpk *g, struct exact_build_state *b,
    int64_t first)
{
	const struct solver_instance	*inst = b->inst;
	int				 col, gs[4], n, gi, gnum;

	for (col = (int)first + 1; col <= b->ncols; col++) {
		n = exact_offer_groups(b, inst->pair_offer[g->colpair[col]],
		    gs);
		for (gi = 0; gi < n; gi++) {
			if (b->grow[gs[gi]] != 0)
				exact_entry(g, b, b->grow[gs[gi]], col, 1);
		}
	}
	for (gnum = 0; gnum < b->ng; gnum++)
		b->gcount[gnum] = 0;
}

/* Delete the columns added for pairs that were not useful. */
static int
exact_drop_cols(struct exact_glpk *g, int64_t ncols, int64_t maxcols)
{
	int	*del;
	int64_t	 k;

	if (ncols >= maxcols)
		return 0;
	if ((del = calloc(maxcols - ncols + 1, sizeof *del)) == NULL) {
		g->cause = strdup("out of memory");
		return -1;
	}
	for (k = ncols + 1; k <= maxcols; k++)
		del[k - ncols] = (int)k;
	glp_del_cols(g->lp, (int)(maxcols - ncols), del);
	free(del);
	return 0;
}

/* Offer rows: the send limit left after the fixed customers. */
static void
exact_offer_rows(struct exact_glpk *g, struct exact_build_state *b)
{
	const struct solver_instance	*inst = b->inst;
	const struct exact_job		*job = g->job;
	char				 name[32];
	int				 o, row, col;

	for (o = 0; o < inst->noffers; o++) {
		if (job->limit[o] < 0 || b->ocount[o] <= job->limit[o])
			continue;
		row = glp_add_rows(g->lp, 1);
		snprintf(name, sizeof name, "offer%d", o);
		glp_set_row_name(g->lp, row, name);
		glp_set_row_bnds(g->lp, row, GLP_UP, 0, (double)job->limit[o]);
		g->offer_row[o] = row;
	}
	for (col = 1; col <= b->ncols; col++) {
		o = inst->pair_offer[g->colpair[col]];
		if (g->offer_row[o] != 0)
			exact_entry(g, b, g->offer_row[o], col, 1);
	}
}

/*
 * Fairness rows over the job's columns: sum a_sc x >= minus what the
 * customers outside the job contribute.
 */
static void
exact_fair_rows(struct exact_glpk *g, struct exact_build_state *b)
{
	const struct solver_instance	*inst = b->inst;
	const struct exact_job		*job = g->job;
	char				 name[32];
	int				 s, row, col, ci, c;
	int64_t				 k;
	double				 a, fixed;

	for (s = 0; s < inst->nfair; s++) {
		fixed = job->fair_fixed != NULL ? job->fair_fixed[s] : 0;
		row = glp_add_rows(g->lp, 1);
		snprintf(name, sizeof name, "fair%d", s);
		glp_set_row_name(g->lp, row, name);
		glp_set_row_bnds(g->lp, row, GLP_LO, -fixed, 0);
		g->fair_row[s] = row;
		ci = -1;
		c = -1;
		for (col = 1; col <= b->ncols; col++) {
			k = g->colpair[col];
			/* Columns are in customer order: find each owner. */
			while (c < 0 || k < inst->pair_start[c] ||
			    k >= inst->pair_start[c + 1])
				c = exact_customer(job, ++ci);
			if ((a = solver_fair_coef(inst, s, c)) != 0)
				exact_entry(g, b, row, col, a);
		}
	}
}

/* Allocate the model's arrays and the build's counters; 0 or -1. */
static int
exact_alloc(struct exact_glpk *g, struct exact_build_state *b, int64_t maxcols)
{
	const struct solver_instance	*inst = b->inst;
	int64_t				 nz;

	nz = (5 + (int64_t)inst->nfair) * maxcols + 1;
	g->colpair = calloc(maxcols + 1, sizeof *g->colpair);
	g->ia = calloc(nz, sizeof *g->ia);
	g->ja = calloc(nz, sizeof *g->ja);
	g->ar = calloc(nz, sizeof *g->ar);
	g->offer_row = calloc(inst->noffers + 1, sizeof *g->offer_row);
	b->ocount = calloc(inst->noffers + 1, sizeof *b->ocount);
	b->gcount = calloc(b->ng, sizeof *b->gcount);
	b->grow = calloc(b->ng, sizeof *b->grow);
	if (g->job->start != NULL)
		g->x = calloc(maxcols + 1, sizeof *g->x);
	if (g->colpair == NULL || g->ia == NULL || g->ja == NULL ||
	    g->ar == NULL || g->offer_row == NULL || b->ocount == NULL ||
	    b->gcount == NULL || b->grow == NULL ||
	    (g->job->start != NULL && g->x == NULL)) {
		g->cause = strdup("out of memory");
		return -1;
	}
	return 0;
}

/*
 * Build the MIP of the job: one binary column per pair with a positive net
 * value (the others are never worth sending, but for fairness members),
 * rows only for the caps (channel, campaign, category, all) that can bind,
 * a row per fairness row.
 */
static int
exact_build(struct exact_glpk *g)
{
	struct exact_job		*job = g->job;
	const struct solver_instance	*inst = job->inst;
	struct exact_build_state		 b;
	int				 nc, ci, rv = -1;
	int64_t				 maxcols, first;

	memset(&b, 0, sizeof b);
	b.inst = inst;
	maxcols = exact_max_cols(job);
	if (maxcols > 200000000 / 4) {
		g->cause = strdup("instance too large for one GLPK MIP");
		return -1;
	}
	/* Groups: channels, campaigns, categories, then "all". */
	b.ng = inst->nchannels + inst->ncampaigns + inst->ncategories + 1;
	if (exact_alloc(g, &b, maxcols) != 0)
		goto out;

	g->lp = glp_create_prob();
	glp_set_obj_dir(g->lp, GLP_MAX);
	if (maxcols > 0)
		glp_add_cols(g->lp, (int)maxcols);
	nc = job->customers != NULL ? job->ncustomers : inst->ncustomers;
	for (ci = 0; ci < nc; ci++) {
		first = b.ncols;
		exact_customer_cols(g, &b, exact_customer(job, ci));
		exact_customer_rows(g, &b, exact_customer(job, ci));
		exact_customer_entries(g, &b, first);
	}
	g->ncols = (int)b.ncols;
	if (exact_drop_cols(g, b.ncols, maxcols) != 0)
		goto out;
	exact_offer_rows(g, &b);
	exact_fair_rows(g, &b);
	if (b.ne > 0)
		glp_load_matrix(g->lp, (int)b.ne, g->ia, g->ja, g->ar);
	rv = 0;
out:
	free(b.ocount);
	free(b.gcount);
	free(b.grow);
	return rv;
}

/* A time limit in seconds as GLPK's milliseconds, at most 2e9. */
static int
exact_ms(double seconds)
{
	return (int)(seconds * 1000 > 2e9 ? 2e9 : seconds * 1000);
}

/*
 * The LP relaxation by simplex: its objective bounds the job, its offer
 * and fairness row duals are the shadow prices. 0 when it reached the LP
 * optimum, -1 when it stopped short (the job is then the empty plan).
 */
static int
exact_relaxation(struct exact_glpk *g)
{
	struct exact_job		*job = g->job;
	const struct solver_instance	*inst = job->inst;
	glp_smcp			 smcp;
	int				 ret, o;

	glp_init_smcp(&smcp);
	smcp.msg_lev = job->log != NULL ? GLP_MSG_ON : GLP_MSG_OFF;
	smcp.presolve = GLP_ON;
	if (job->time_limit_s > 0)
		smcp.tm_lim = exact_ms(job->time_limit_s);
	ret = glp_simplex(g->lp, &smcp);
	if (ret != 0 || glp_get_status(g->lp) != GLP_OPT) {
		/* No LP optimum in time: report the empty plan. */
		solver_log(job->log, job->arg, "glpk: simplex stopped (%d)",
		    ret);
		job->found = 1;
		return -1;
	}
	if (glp_get_obj_val(g->lp) < job->bound)
		job->bound = glp_get_obj_val(g->lp);
	if (g->duals != NULL) {
		for (o = 0; o < inst->noffers; o++)
			g->duals[o] = g->offer_row[o] == 0 ? 0 :
			    fabs(glp_get_row_dual(g->lp, g->offer_row[o]));
	}
	for (o = 0; job->fair_duals != NULL && o < inst->nfair; o++)
		job->fair_duals[o] = g->fair_row[o] == 0 ? 0 :
		    fabs(glp_get_row_dual(g->lp, g->fair_row[o]));
	return 0;
}

/* Branch and bound from the relaxation's basis; returns glp_intopt's. */
static int
exact_branch(struct exact_glpk *g, double t0)
{
	struct exact_job	*job = g->job;
	glp_iocp		 iocp;
	double			 tm;

	glp_init_iocp(&iocp);
	iocp.msg_lev = job->log != NULL ? GLP_MSG_ON : GLP_MSG_OFF;
	iocp.presolve = GLP_OFF;
	iocp.mip_gap = job->mip_gap;
	iocp.cb_func = exact_callback;
	iocp.cb_info = g;
	iocp.gmi_cuts = GLP_ON;
	iocp.mir_cuts = GLP_ON;
	iocp.cov_cuts = GLP_ON;
	iocp.br_tech = GLP_BR_PCH;
	iocp.bt_tech = GLP_BT_BLB;
	if (job->time_limit_s > 0) {
		tm = job->time_limit_s - (solver_now() - t0);
		if (tm < 0.1)
			tm = 0.1;
		iocp.tm_lim = exact_ms(tm);
	}
	return glp_intopt(g->lp, &iocp);
}

/* Read the integer plan GLPK found (st feasible or optimal) into the job. */
static void
exact_read_plan(struct exact_glpk *g, int ret, int st)
{
	struct exact_job		*job = g->job;
	const struct solver_instance	*inst = job->inst;
	int				 col;
	double				 obj = 0, tm;

	job->found = 1;
	for (col = 1; col <= g->ncols; col++) {
		int64_t	k = g->colpair[col];

		job->selected[k] = glp_mip_col_val(g->lp, col) > 0.5;
		if (job->selected[k])
			obj += solver_pair_value(inst, k);
	}
	job->objective = obj;
	if (g->best_bound < job->bound &&
	    g->best_bound >= obj - 1e-6 * (1 + fabs(obj)))
		job->bound = g->best_bound;
	/*
	 * Solved, or stopped because the gap fell to mip_gap
	 * (GLP_EMIPGAP, status feasible): both within mip_gap.
	 */
	if ((ret == 0 && st == GLP_OPT) || ret == GLP_EMIPGAP) {
		/* GLPK stops at |mip - bound| <= gap * |mip|. */
		job->optimal = 1;
		tm = glp_mip_obj_val(g->lp) + job->mip_gap *
		    (fabs(glp_mip_obj_val(g->lp)) + DBL_EPSILON) +
		    1e-9 * (1 + fabs(obj));
		if (tm < job->bound)
			job->bound = tm;
	}
}

/*
 * Build and solve under the error hook: the LP relaxation by simplex (its
 * offer row duals are the shadow prices), then branch and bound from that
 * basis.
 */
static int
exact_glpk(struct exact_glpk *g)
{
	struct exact_job	*job = g->job;
	int			 st, ret;
	double			 t0 = solver_now();

	g->best_bound = HUGE_VAL;
	if (exact_build(g) != 0)
		return -1;
	job->found = job->optimal = 0;
	job->objective = 0;
	job->bound = HUGE_VAL;
	if (g->ncols == 0) {
		job->found = job->optimal = 1;
		job->bound = 0;
		return 0;
	}
	if (exact_relaxation(g) != 0)
		return 0;
	ret = exact_branch(g, t0);
	st = glp_mip_status(g->lp);
	if (st == GLP_OPT || st == GLP_FEAS)
		exact_read_plan(g, ret, st);
	else {
		/* Nothing found in time: the empty plan (always feasible). */
		job->found = 1;
		solver_log(job->log, job->arg, "glpk: no integer plan (%d)",
		    ret);
	}
	return 0;
}

/* GLPK thread: run exact_glpk with the error hook armed. */
static void *
exact_thread(void *arg)
{
	struct exact_glpk	*g = arg;

	glp_error_hook(exact_error_hook, g);
	glp_term_hook(exact_term_hook, g);
	if (setjmp(g->jb) != 0) {
		/* The hook has freed the environment and g->lp with it. */
		g->lp = NULL;
		exact_free_model(g);
		free(g->cause);
		g->cause = NULL;
		solver_cause(&g->cause, "GLPK error: %s", g->last);
		g->rv = -1;
		return NULL;
	}
	g->rv = exact_glpk(g);
	if (g->lp != NULL)
		glp_delete_prob(g->lp);
	g->lp = NULL;
	exact_free_model(g);
	glp_free_env();
	return NULL;
}

/* Run a job on a GLPK thread; duals (per offer) may be NULL. */
static int
exact_solve_duals(struct exact_job *job, double *duals, char **cause)
{
	struct exact_glpk	*g;
	pthread_attr_t		 attr;
	pthread_t		 tid;
	int			 rv;

	if ((g = calloc(1, sizeof *g)) == NULL) {
		solver_cause(cause, "out of memory");
		return -1;
	}
	g->job = job;
	g->duals = duals;
	/* GLPK recurses in places; give it a generous stack. */
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 << 20);
	if (pthread_create(&tid, &attr, exact_thread, g) != 0) {
		pthread_attr_destroy(&attr);
		free(g);
		solver_cause(cause, "cannot start the GLPK thread");
		return -1;
	}
	pthread_attr_destroy(&attr);
	pthread_join(tid, NULL);
	rv = g->rv;
	if (rv != 0) {
		if (cause != NULL) {
			*cause = g->cause;
			g->cause = NULL;
			if (*cause == NULL)
				solver_cause(cause, "GLPK failed");
		}
	}
	free(g->cause);
	free(g);
	return rv;
}

/* Solve one job; see opt.h. */
int
exact_solve(struct exact_job *job, char **cause)
{
	return exact_solve_duals(job, NULL, cause);
}

/* The exact mode: the whole instance as one MIP. */
int
exact_run(const struct solver_instance *inst,
    const struct solver_options *opts, struct solver_result *res,
    char **cause)
{
	struct exact_job	 job;
	struct solver_progress	 pr;
	long			*limit = NULL;
	double			*duals = NULL, trivial = 0, t0 = solver_now();
	int64_t			 k;

	limit = calloc(inst->noffers + 1, sizeof *limit);
	duals = calloc(inst->noffers + 1, sizeof *duals);
	if (limit == NULL || duals == NULL) {
		solver_cause(cause, "out of memory");
		goto fail;
	}
	solver_offer_limits(inst, limit);
	memset(&job, 0, sizeof job);
	job.inst = inst;
	job.limit = limit;
	job.time_limit_s = opts->time_limit_s;
	job.mip_gap = opts->gap;
	job.log = opts->log;
	job.arg = opts->arg;
	job.selected = res->selected;
	job.fair_duals = res->fair_price;
	if (exact_solve_duals(&job, duals, cause) != 0)
		goto fail;

	solver_result_tally(inst, res);
	for (k = 0; k < inst->pair_start[inst->ncustomers]; k++) {
		if (solver_pair_value(inst, k) > 0)
			trivial += solver_pair_value(inst, k);
	}
	res->bound = job.bound < trivial ? job.bound : trivial;
	if (res->bound < res->objective)
		res->bound = res->objective;
	res->gap = res->bound > 0 ?
	    (res->bound - res->objective) / res->bound : 0;
	if (job.optimal)
		res->status = res->gap <= 1e-9 ? SOLVER_OPTIMAL :
		    SOLVER_GAP_REACHED;
	else
		res->status = SOLVER_TIME_LIMIT;
	solver_set_prices(inst, limit, duals, res);
	if (opts->progress != NULL) {
		memset(&pr, 0, sizeof pr);
		pr.phase = "exact";
		pr.objective = res->objective;
		pr.bound = res->bound;
		pr.gap = res->gap;
		pr.elapsed_s = solver_now() - t0;
		opts->progress(opts->arg, &pr);
	}
	free(limit);
	free(duals);
	return 0;

fail:
	free(limit);
	free(duals);
	return -1;
}
