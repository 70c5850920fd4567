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

static void	exact_error_hook(void *);
static int	exact_term_hook(void *, const char *);
static void	exact_callback(glp_tree *, void *);
static void	exact_free_model(struct exact_glpk *);
static int	exact_build(struct exact_glpk *);
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
	return (1);	/* never print to stdout */
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
	return (solver_pair_value(inst, k) > 0 ||
	    (inst->nfair > 0 && inst->fair_member[c] != 0));
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
	const struct solver_offer	*of;
	int				 nc, ci, c, o, row, col, nrows;
	int				 gnum, ng, *gcount = NULL, *grow = NULL;
	int64_t				 k, ncols = 0, ne = 0, maxcols, nz;
	long				*ocount = NULL;
	char				 name[32];

	nc = job->customers != NULL ? job->ncustomers : inst->ncustomers;
	maxcols = 0;
	for (ci = 0; ci < nc; ci++) {
		c = job->customers != NULL ? job->customers[ci] : ci;
		maxcols += inst->pair_start[c + 1] - inst->pair_start[c];
	}
	if (maxcols > 200000000 / 4) {
		g->cause = strdup("instance too large for one GLPK MIP");
		return (-1);
	}
	/* Groups: channels, campaigns, categories, then "all". */
	ng = inst->nchannels + inst->ncampaigns + inst->ncategories + 1;
	nz = (5 + (int64_t)inst->nfair) * maxcols + 1;
	g->colpair = calloc(maxcols + 1, sizeof *g->colpair);
	g->ia = calloc(nz, sizeof *g->ia);
	g->ja = calloc(nz, sizeof *g->ja);
	g->ar = calloc(nz, sizeof *g->ar);
	g->offer_row = calloc(inst->noffers + 1, sizeof *g->offer_row);
	ocount = calloc(inst->noffers + 1, sizeof *ocount);
	gcount = calloc(ng, sizeof *gcount);
	grow = calloc(ng, sizeof *grow);
	if (job->start != NULL)
		g->x = calloc(maxcols + 1, sizeof *g->x);
	if (g->colpair == NULL || g->ia == NULL || g->ja == NULL ||
	    g->ar == NULL || g->offer_row == NULL || ocount == NULL ||
	    gcount == NULL || grow == NULL ||
	    (job->start != NULL && g->x == NULL)) {
		g->cause = strdup("out of memory");
		goto fail;
	}

	g->lp = glp_create_prob();
	glp_set_obj_dir(g->lp, GLP_MAX);
	if (maxcols > 0)
		glp_add_cols(g->lp, (int)maxcols);
	nrows = 0;
	for (ci = 0; ci < nc; ci++) {
		int64_t	first = ncols;
		int	room[3], gi, cat, ngs;

		c = job->customers != NULL ? job->customers[ci] : ci;
		for (k = inst->pair_start[c]; k < inst->pair_start[c + 1];
		    k++) {
			if (!exact_useful(inst, c, k))
				continue;
			col = (int)++ncols;
			g->colpair[col] = k;
			of = &inst->offers[inst->pair_offer[k]];
			glp_set_col_kind(g->lp, col, GLP_BV);
			glp_set_obj_coef(g->lp, col,
			    solver_pair_value(inst, k));
			gcount[of->channel]++;
			gcount[inst->nchannels + of->campaign]++;
			if ((cat = solver_offer_category(inst,
			    inst->pair_offer[k])) >= 0)
				gcount[inst->nchannels + inst->ncampaigns +
				    cat]++;
			gcount[ng - 1]++;
			ocount[inst->pair_offer[k]]++;
			if (g->x != NULL)
				g->x[col] = job->start[k] ? 1 : 0;
		}
		/* A row per cap that can bind for this customer. */
		for (gnum = 0; gnum < ng; gnum++) {
			grow[gnum] = 0;
			if (gcount[gnum] == 0)
				continue;
			if (gnum < inst->nchannels)
				room[0] = inst->room_channel[(size_t)c *
				    inst->nchannels + gnum];
			else if (gnum < inst->nchannels + inst->ncampaigns)
				room[0] = inst->room_campaign[(size_t)c *
				    inst->ncampaigns + gnum - inst->nchannels];
			else if (gnum < ng - 1)
				room[0] = inst->room_category[(size_t)c *
				    inst->ncategories + gnum - inst->nchannels -
				    inst->ncampaigns];
			else
				room[0] = inst->room_all[c];
			if (room[0] >= gcount[gnum])
				continue;
			row = glp_add_rows(g->lp, 1);
			nrows++;
			glp_set_row_bnds(g->lp, row, GLP_UP, 0, room[0]);
			grow[gnum] = row;
		}
		for (col = (int)first + 1; col <= ncols; col++) {
			of = &inst->offers[inst->pair_offer[g->colpair[col]]];
			int gs[4] = { of->channel,
			    inst->nchannels + of->campaign, ng - 1, -1 };

			ngs = 3;
			if ((cat = solver_offer_category(inst,
			    inst->pair_offer[g->colpair[col]])) >= 0)
				gs[ngs++] = inst->nchannels +
				    inst->ncampaigns + cat;
			for (gi = 0; gi < ngs; gi++) {
				if (grow[gs[gi]] == 0)
					continue;
				ne++;
				g->ia[ne] = grow[gs[gi]];
				g->ja[ne] = col;
				g->ar[ne] = 1;
			}
		}
		for (gnum = 0; gnum < ng; gnum++)
			gcount[gnum] = 0;
	}
	g->ncols = (int)ncols;
	if (ncols < maxcols) {
		int	*del = calloc(maxcols - ncols + 1, sizeof *del);

		if (del == NULL) {
			g->cause = strdup("out of memory");
			goto fail;
		}
		for (k = ncols + 1; k <= maxcols; k++)
			del[k - ncols] = (int)k;
		glp_del_cols(g->lp, (int)(maxcols - ncols), del);
		free(del);
	}
	/* Offer rows: the send limit left after the fixed customers. */
	for (o = 0; o < inst->noffers; o++) {
		if (job->limit[o] < 0 || ocount[o] <= job->limit[o])
			continue;
		row = glp_add_rows(g->lp, 1);
		snprintf(name, sizeof name, "offer%d", o);
		glp_set_row_name(g->lp, row, name);
		glp_set_row_bnds(g->lp, row, GLP_UP, 0, (double)job->limit[o]);
		g->offer_row[o] = row;
	}
	for (col = 1; col <= ncols; col++) {
		o = inst->pair_offer[g->colpair[col]];
		if (g->offer_row[o] == 0)
			continue;
		ne++;
		g->ia[ne] = g->offer_row[o];
		g->ja[ne] = col;
		g->ar[ne] = 1;
	}
	/*
	 * Fairness rows over the job's columns: sum a_sc x >= minus what the
	 * customers outside the job contribute.
	 */
	for (int s = 0; s < inst->nfair; s++) {
		double	a, fixed = job->fair_fixed != NULL ?
			    job->fair_fixed[s] : 0;

		row = glp_add_rows(g->lp, 1);
		snprintf(name, sizeof name, "fair%d", s);
		glp_set_row_name(g->lp, row, name);
		glp_set_row_bnds(g->lp, row, GLP_LO, -fixed, 0);
		g->fair_row[s] = row;
		ci = -1;
		c = -1;
		for (col = 1; col <= ncols; col++) {
			k = g->colpair[col];
			/* Columns are in customer order: find each owner. */
			while (c < 0 || k < inst->pair_start[c] ||
			    k >= inst->pair_start[c + 1]) {
				ci++;
				c = job->customers != NULL ?
				    job->customers[ci] : ci;
			}
			if ((a = solver_fair_coef(inst, s, c)) == 0)
				continue;
			ne++;
			g->ia[ne] = row;
			g->ja[ne] = col;
			g->ar[ne] = a;
		}
	}
	if (ne > 0)
		glp_load_matrix(g->lp, (int)ne, g->ia, g->ja, g->ar);
	free(ocount);
	free(gcount);
	free(grow);
	return (0);

fail:
	free(ocount);
	free(gcount);
	free(grow);
	return (-1);
}

/*
 * Build and solve under the error hook: the LP relaxation by simplex (its
 * offer row duals are the shadow prices), then branch and bound from that
 * basis.
 */
static int
exact_glpk(struct exact_glpk *g)
{
	struct exact_job		*job = g->job;
	const struct solver_instance	*inst = job->inst;
	glp_smcp			 smcp;
	glp_iocp			 iocp;
	int				 col, st, ret, o;
	double				 tm, obj, t0 = solver_now();

	g->best_bound = HUGE_VAL;
	if (exact_build(g) != 0)
		return (-1);
	job->found = job->optimal = 0;
	job->objective = 0;
	job->bound = HUGE_VAL;
	if (g->ncols == 0) {
		job->found = job->optimal = 1;
		job->bound = 0;
		return (0);
	}

	glp_init_smcp(&smcp);
	smcp.msg_lev = job->log != NULL ? GLP_MSG_ON : GLP_MSG_OFF;
	smcp.presolve = GLP_ON;
	if (job->time_limit_s > 0)
		smcp.tm_lim = (int)(job->time_limit_s * 1000 > 2e9 ? 2e9 :
		    job->time_limit_s * 1000);
	ret = glp_simplex(g->lp, &smcp);
	if (ret != 0 || glp_get_status(g->lp) != GLP_OPT) {
		/* No LP optimum in time: report the empty plan. */
		solver_log(job->log, job->arg, "glpk: simplex stopped (%d)",
		    ret);
		job->found = 1;
		return (0);
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
		iocp.tm_lim = (int)(tm * 1000 > 2e9 ? 2e9 : tm * 1000);
	}
	ret = glp_intopt(g->lp, &iocp);
	st = glp_mip_status(g->lp);
	if (st == GLP_OPT || st == GLP_FEAS) {
		job->found = 1;
		obj = 0;
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
	} else {
		/* Nothing found in time: the empty plan (always feasible). */
		job->found = 1;
		solver_log(job->log, job->arg, "glpk: no integer plan (%d)",
		    ret);
	}
	return (0);
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
		return (NULL);
	}
	g->rv = exact_glpk(g);
	if (g->lp != NULL)
		glp_delete_prob(g->lp);
	g->lp = NULL;
	exact_free_model(g);
	glp_free_env();
	return (NULL);
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
		return (-1);
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
		return (-1);
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
	return (rv);
}

/* Solve one job; see opt.h. */
int
exact_solve(struct exact_job *job, char **cause)
{
	return (exact_solve_duals(job, NULL, cause));
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
	return (0);

fail:
	free(limit);
	free(duals);
	return (-1);
}
