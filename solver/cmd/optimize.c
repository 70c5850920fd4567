/*
 * pacer optimize: one optimization run (SPEC sections 1, 4, 5).
 *
 * offers + scores (files) and each customer's consent, segments and recent
 * contacts (Redis, one pipelined pass) become a solver instance: pairs that
 * may not be planned (no consent, no room, holdout, segment exclusion, not
 * worth their cost) are dropped, and every cap becomes remaining room at
 * the run's start. The plan goes to the run folder (assignments.csv,
 * summary.json, report.html) and to Redis as a candidate; it goes live only
 * with --publish or optimizer.auto_publish.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "pacer/conf.h"
#include "pacer/keys.h"
#include "pacer/offers.h"
#include "pacer/report.h"
#include "pacer/rules.h"
#include "pacer/slot.h"
#include "pacer/solver.h"

#include "cmd.h"
#include "pacer/str.h"

#define OPT_ITER_MAX	20000	/* progress points kept for the report */


/* Everything one run holds. */
struct opt_run {
	const struct conf	*conf;
	struct offers		*offers;
	struct cmd_scores	 scores;
	struct cmd_state	 state;
	struct solver_instance	*inst;
	struct solver_result	 res;
	int			 have_res;
	int			*inst_customer;	/* instance index -> scores index */
	int			*scores_inst;	/* scores index -> instance, -1 */
	int8_t			*nothing;	/* scores index -> reason, -1 */
	uint32_t		*excluded;	/* per offer: segments excluding it */
	char			 run_id[REPORT_ID_MAX];
	char			 stem[KEYS_STEM_MAX];	/* its plan's keys */
	char			*run_dir;
	enum solver_method	 method;
	int64_t			 t;
	double			 t0;
	struct report_iteration	*iter;
	int			 niter;
	double			 last_print;
	double			*warm_budget;
	double			*warm_capacity;
	char			*live;
	long			 live_assignments; /* -1: no live plan */
	char			*candidate;
	long			 assignments;
	long			 assigned_customers;
	struct cmd_redis		*ctx;		/* borrowed; NULL before connecting */
	int			 hash_started;	/* PREFIX:run:ID exists */
	double			 last_status;	/* when progress last went there */
	struct cmd_world	*world;		/* borrowed: this process's rank */
	long			 customers_all;	/* every process's scores */
	long			 pairs_all;
	int64_t			 kept_pairs;	/* of those, in the instance */
	int			 others_failed;	/* another process failed */
	/* report.html and summary.json, written on a thread of their own
	   while the plan goes to Redis (rank 0) */
	pthread_t		 report_thread;
	int			 report_running;
	const struct report_run	*report_rep;
	char			*report_cause;
	double			 report_s;
};

/*
 * mpirun -np K: each process (rank) holds the customers of its slot range
 * and the solver joins them (struct solver_comm); the figures the run
 * reports are summed here through the same calls. Rank 0 alone writes
 * the run's hash, summary, report and progress; every rank writes its
 * customers' plan entries and its part of assignments.csv. With one
 * process none of this calls anything.
 */

/* n longs summed over every process, in place; 0 or -1. */
static int
opt_sum_long(struct opt_run *r, long *v, int n)
{
	const struct solver_comm *comm = r->world->solver;
	int64_t			 t[64];

	if (comm == NULL)
		return 0;
	for (int at = 0; at < n; at += 64) {
		int	 m = n - at < 64 ? n - at : 64;

		for (int i = 0; i < m; i++)
			t[i] = v[at + i];
		if (comm->sum_int64(comm->arg, t, m) != 0)
			return -1;
		for (int i = 0; i < m; i++)
			v[at + i] = (long)t[i];
	}
	return 0;
}

/*
 * The run's status over every process: the largest (CMD_NO_SERVICE over
 * CMD_BAD_INPUT over CMD_OK), so that all stop together. A process whose
 * own step went well but another's did not gets *cause saying so.
 */
static int
opt_agree(struct opt_run *r, int rc, char **cause)
{
	const struct solver_comm *comm = r->world->solver;
	double			 v = rc;

	if (comm == NULL || comm->max_double(comm->arg, &v, 1) != 0)
		return rc;
	if (rc == CMD_OK && v != CMD_OK && *cause == NULL) {
		*cause = strdup("another process of the run failed (its "
		    "message is on its standard error)");
		r->others_failed = 1;
	}
	return (int)v;
}

/* Whether this process writes the run's shared outputs (rank 0). */
static int
opt_lead(const struct opt_run *r)
{
	return r->world->rank == 0;
}

/*
 * Set fields of PREFIX:run:ID now (not pipelined): the run's status and
 * progress for whoever watches it (pacerd's GET /v1/optimize/ID). Failures
 * are ignored: the run goes on and its end reports Redis errors.
 */
static void
opt_status(struct opt_run *r, const char **fv, int n)
{
	const char	*argv[2 + 32];
	char		 key[KEYS_MAX + 128], *cause = NULL;
	redisReply	*rep;

	if (r->ctx == NULL || !opt_lead(r))
		return;
	snprintf(key, sizeof key, "%s:run:%s", r->conf->redis.prefix, r->run_id);
	argv[0] = "HSET";
	argv[1] = key;
	for (int i = 0; i < 2 * n && i < 32; i++)
		argv[2 + i] = fv[i];
	if ((rep = cmd_redis_command(r->ctx, 2 + 2 * n, argv, &cause)) != NULL)
		freeReplyObject(rep);
	free(cause);
}

/* Progress from the solver: one line on stderr, one point for the report. */
static void
opt_progress(void *arg, const struct solver_progress *p)
{
	struct opt_run	*r = arg;

	/* Bound and gap rounded up: what is printed is still a bound. */
	fprintf(stderr, "pacer optimize: %s iteration=%d objective=%.4f "
	    "bound=%.4f gap=%.5f%% elapsed=%.2fs\n", p->phase, p->iteration,
	    p->objective, solver_round_up(p->bound, 4),
	    solver_round_up(100.0 * p->gap, 5), p->elapsed_s);
	if (r->niter < OPT_ITER_MAX && isfinite(p->objective) &&
	    isfinite(p->bound)) {
		r->iter[r->niter].iteration = p->iteration;
		r->iter[r->niter].elapsed_s = p->elapsed_s;
		r->iter[r->niter].objective = p->objective;
		r->iter[r->niter].bound = p->bound;
		r->niter++;
	}
	if (clock_mono_s() - r->last_status >= 0.5) {
		char	 it[32], obj[64], bound[64], gap[64], el[32];
		const char *fv[] = { "phase", p->phase, "iteration", it,
		    "objective", obj, "bound", bound, "gap", gap, "elapsed", el };

		r->last_status = clock_mono_s();
		snprintf(it, sizeof it, "%d", p->iteration);
		snprintf(obj, sizeof obj, "%.6f", p->objective);
		snprintf(bound, sizeof bound, "%.6f", solver_round_up(p->bound, 6));
		snprintf(gap, sizeof gap, "%.8f", solver_round_up(p->gap, 8));
		snprintf(el, sizeof el, "%.2f", p->elapsed_s);
		opt_status(r, fv, 6);
	}
}

/* A line of solver or GLPK log. */
static void
opt_solver_log(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "pacer optimize: solver: %s\n", line);
}

/*
 * Read the last run's shadow prices (PREFIX:run:ID "prices", a JSON object
 * offer -> [budget price, capacity price]) as a warm start; silently none
 * when missing or unreadable.
 */
static void
opt_warm_start(struct opt_run *r, struct cmd_redis *ctx)
{
	const char	*prev = r->candidate ? r->candidate : r->live;
	char		 key[KEYS_MAX + 128], *cause = NULL;
	const char	*argv[3];
	redisReply	*rep;
	json_t		*root;
	int		 found = 0;

	if (prev == NULL)
		return;
	snprintf(key, sizeof key, "%s:run:%s", r->conf->redis.prefix, prev);
	argv[0] = "HGET";
	argv[1] = key;
	argv[2] = "prices";
	if ((rep = cmd_redis_command(ctx, 3, argv, &cause)) == NULL) {
		free(cause);
		return;
	}
	root = cmd_reply_str(rep) ? json_loads(rep->str, 0, NULL) : NULL;
	freeReplyObject(rep);
	if (!json_is_object(root)) {
		json_decref(root);
		return;
	}
	r->warm_budget = calloc((size_t)r->offers->n, sizeof *r->warm_budget);
	r->warm_capacity = calloc((size_t)r->offers->n, sizeof *r->warm_capacity);
	for (int o = 0; r->warm_budget && r->warm_capacity && o < r->offers->n;
	    o++) {
		json_t	*v = json_object_get(root, r->offers->offer[o].name);

		if (!json_is_array(v) || json_array_size(v) != 2)
			continue;
		r->warm_budget[o] = json_number_value(json_array_get(v, 0));
		r->warm_capacity[o] = json_number_value(json_array_get(v, 1));
		found++;
	}
	json_decref(root);
	if (found == 0) {
		free(r->warm_budget);
		free(r->warm_capacity);
		r->warm_budget = r->warm_capacity = NULL;
	} else
		cmd_log("optimize", "warm start: shadow prices of %d offers from "
		    "run %s", found, prev);
}

/*
 * The [fairness] rows into the instance: the base is every customer of
 * the run (scores), a segment's size its customers there, pairs or not.
 * 0 or -1 with *cause.
 */
static int
opt_fairness(struct opt_run *r, char **cause)
{
	const struct conf_fairness	*f = &r->conf->fairness;
	const struct cmd_state		*st = &r->state;
	long				 size[CONF_MAX_SEGMENTS + 1];
	long				 n;

	/* The base and the segments over every process's customers. */
	for (int i = 0; i < f->nsegments; i++) {
		size[i] = 0;
		for (int c = 0; c < r->scores.ids.n; c++)
			size[i] += (st->segments[c] >> f->segment[i]) & 1;
	}
	size[f->nsegments] = r->scores.ids.n;
	if (f->nsegments > 0 && opt_sum_long(r, size, f->nsegments + 1) != 0) {
		*cause = strdup("out of memory");
		return -1;
	}
	n = size[f->nsegments];
	if (f->nsegments == 0 || n == 0)
		return 0;
	if (solver_instance_fairness(r->inst, f->nsegments, f->min_ratio, n,
	    size, cause) != 0)
		return -1;
	for (int k = 0; k < r->inst->ncustomers; k++) {
		uint32_t	 rows = 0;
		int		 c = r->inst_customer[k];

		for (int i = 0; i < f->nsegments; i++)
			if ((st->segments[c] >> f->segment[i]) & 1)
				rows |= 1u << i;
		solver_instance_fair_member(r->inst, k, rows);
	}
	for (int i = 0; i < f->nsegments; i++)
		cmd_log("optimize", "fairness: segment %s, %ld of %ld customers, "
		    "sends per customer >= %g x the base's",
		    r->conf->segments[f->segment[i]].name, size[i], n,
		    f->min_ratio);
	return 0;
}

/* The [fairness] rows of the result into the report. 0 or -1 (memory). */
static int
opt_report_fairness(const struct opt_run *r, struct report_run *rep)
{
	const struct solver_instance	*in = r->inst;
	const struct conf		*conf = r->conf;
	double				 base_rate;

	rep->fairness_base = in->fair_base;
	if (in->nfair == 0)
		return 0;
	if ((rep->fairness = calloc((size_t)in->nfair,
	    sizeof *rep->fairness)) == NULL)
		return -1;
	rep->nfairness = in->nfair;
	base_rate = (double)r->res.nselected / (double)in->fair_base;
	for (int i = 0; i < in->nfair; i++) {
		struct report_fairness	*fr = &rep->fairness[i];

		snprintf(fr->segment, sizeof fr->segment, "%s",
		    conf->segments[conf->fairness.segment[i]].name);
		fr->customers = in->fair_size[i];
		fr->sends = r->res.fair_sends[i];
		fr->sends_per_customer = fr->customers > 0 ?
		    (double)fr->sends / (double)fr->customers : 0;
		fr->base_sends_per_customer = base_rate;
		fr->min_ratio = in->fair_min_ratio;
		fr->binding = r->res.fair_binding[i];
		fr->shadow_price = r->res.fair_price[i];
		cmd_log("optimize", "fairness: segment %s %.4f sends per customer, "
		    "base %.4f, min_ratio %g, %s, shadow price %.6f", fr->segment,
		    fr->sends_per_customer, base_rate, fr->min_ratio,
		    fr->binding ? "binding" : "slack", fr->shadow_price);
	}
	return 0;
}

/*
 * The instance without customers: the offers as the solver sees them,
 * which segments exclude each (r->excluded), and each offer's category
 * (*ocat, caller frees; NULL without [category] caps). 0, or -1 with
 * *cause.
 */
static int
opt_instance_new(struct opt_run *r, int **ocat, char **cause)
{
	const struct conf	*conf = r->conf;
	const struct offers	*of = r->offers;
	struct solver_offer	*so;
	int			 rc = -1;

	*ocat = NULL;
	if ((so = calloc((size_t)of->n + 1, sizeof *so)) == NULL ||
	    (r->excluded = calloc((size_t)of->n + 1, sizeof *r->excluded)) == NULL)
		goto oom;
	for (int o = 0; o < of->n; o++) {
		so[o].value = of->offer[o].value;
		so[o].cost = of->offer[o].cost;
		so[o].budget = of->offer[o].budget;
		so[o].capacity = of->offer[o].capacity;
		so[o].channel = of->offer[o].channel;
		so[o].campaign = of->offer[o].campaign;
		for (int g = 0; g < conf->nsegments && g < 32; g++)
			if (rules_suppressed(conf, 1u << g, of->offer[o].category))
				r->excluded[o] |= 1u << g;
	}
	if ((r->inst = solver_instance_new(of->n, conf->nchannels,
	    of->ncampaigns > 0 ? of->ncampaigns : 1, so, cause)) == NULL)
		goto done;
	rc = 0;
	/* [category NAME] caps: each offer's category among the config's. */
	if (conf->ncategories > 0) {
		rc = -1;
		if ((*ocat = malloc((size_t)of->n * sizeof **ocat + 1)) == NULL)
			goto oom;
		for (int o = 0; o < of->n; o++)
			(*ocat)[o] = conf_category_index(conf, of->offer[o].category);
		rc = solver_instance_categories(r->inst, conf->ncategories, *ocat,
		    cause);
	}
	goto done;
oom:
	*cause = strdup("out of memory");
done:
	free(so);
	return rc;
}

/*
 * Customer c's pairs the plan may choose into po and pp: consent, room
 * under every cap, holdout, segment exclusions and a positive value (or
 * a fairness row's member); how many. With none, r->nothing[c] says at
 * which of those steps its last pair fell.
 */
static int
opt_customer_pairs(struct opt_run *r, int c, const int *ocat,
    uint32_t fair_mask, uint16_t *po, float *pp)
{
	const struct offers	*of = r->offers;
	const struct cmd_scores	*s = &r->scores;
	const struct cmd_state	*st = &r->state;
	const uint16_t	*rch = st->room_channel + (size_t)c * (size_t)st->nchannels;
	const uint16_t	*rcp = st->room_campaign + (size_t)c *
			    (size_t)st->ncampaigns;
	const uint16_t	*rk = st->room_category + (size_t)c *
			    (size_t)st->ncategories;
	int		 alive[5] = { 0, 0, 0, 0, 0 }, n = 0, kat, stage = 0;
	int		 holdout = keys_in_holdout(s->ids.arena + s->ids.off[c],
			    r->conf->optimizer.holdout);

	for (int64_t k = s->start[c]; k < s->start[c + 1]; k++) {
		const struct offer	*o = &of->offer[s->offer[k]];
		double			 net;

		if (!(st->consent[c] & (1u << o->channel)))
			continue;
		alive[0]++;
		kat = ocat != NULL ? ocat[s->offer[k]] : -1;
		if (st->room_all[c] == 0 || rch[o->channel] == 0 ||
		    (st->ncampaigns > 0 && rcp[o->campaign] == 0) ||
		    (kat >= 0 && rk[kat] == 0))
			continue;
		alive[1]++;
		if (holdout)
			continue;
		alive[2]++;
		if (st->segments[c] & r->excluded[s->offer[k]])
			continue;
		alive[3]++;
		net = (double)s->prop[k] * o->value - o->cost;
		/* A [fairness] row may be worth a send at a loss. */
		if (!(net > 0) && !(st->segments[c] & fair_mask))
			continue;
		alive[4]++;
		po[n] = s->offer[k];
		pp[n++] = s->prop[k];
	}
	r->nothing[c] = -1;
	if (n > 0)
		return n;
	while (stage < 4 && alive[stage] > 0)
		stage++;
	/* Stages map one to one onto the report's reasons. */
	r->nothing[c] = (int8_t)(stage == 0 ? REPORT_NOTHING_NO_CONSENT :
	    stage == 1 ? REPORT_NOTHING_SATURATED :
	    stage == 2 ? REPORT_NOTHING_HOLDOUT :
	    stage == 3 ? REPORT_NOTHING_SUPPRESSED :
	    REPORT_NOTHING_NOT_WORTH_COST);
	return 0;
}

/*
 * Build the solver instance from the offers, scores and state: every
 * customer with a pair the plan may choose, with its rooms (the fairness
 * rows come after, from every process's customers). 0 or -1 with *cause.
 */
static int
opt_build(struct opt_run *r, char **cause)
{
	const struct conf	*conf = r->conf;
	const struct cmd_scores	*s = &r->scores;
	const struct cmd_state	*st = &r->state;
	uint16_t		*po = NULL;
	float			*pp = NULL;
	int			*ocat = NULL;	/* per offer: category, -1 */
	int			 maxpairs = 0, rc = -1, n, k;
	int64_t			 kept_total = 0;
	uint32_t		 fair_mask = 0;

	for (int i = 0; i < conf->fairness.nsegments; i++)
		fair_mask |= 1u << conf->fairness.segment[i];
	if (opt_instance_new(r, &ocat, cause) != 0)
		goto done;
	for (int c = 0; c < s->ids.n; c++)
		if (s->start[c + 1] - s->start[c] > maxpairs)
			maxpairs = (int)(s->start[c + 1] - s->start[c]);
	if ((po = malloc(((size_t)maxpairs + 1) * sizeof *po)) == NULL ||
	    (pp = malloc(((size_t)maxpairs + 1) * sizeof *pp)) == NULL ||
	    (r->scores_inst = malloc(((size_t)s->ids.n + 1) *
	    sizeof *r->scores_inst)) == NULL ||
	    (r->nothing = malloc((size_t)s->ids.n + 1)) == NULL ||
	    (r->inst_customer = malloc(((size_t)s->ids.n + 1) *
	    sizeof *r->inst_customer)) == NULL ||
	    solver_instance_reserve(r->inst, s->ids.n, s->npairs) != 0) {
		*cause = strdup("out of memory");
		goto done;
	}
	for (int c = 0; c < s->ids.n; c++) {
		r->scores_inst[c] = -1;
		if ((n = opt_customer_pairs(r, c, ocat, fair_mask, po, pp)) == 0)
			continue;
		if ((k = solver_instance_add_customer(r->inst, n, po, pp,
		    st->room_all[c], st->room_channel + (size_t)c *
		    (size_t)st->nchannels, st->ncampaigns > 0 ? st->room_campaign +
		    (size_t)c * (size_t)st->ncampaigns : NULL, cause)) < 0)
			goto done;
		if (ocat != NULL && solver_instance_category_room(r->inst, k,
		    st->room_category + (size_t)c * (size_t)st->ncategories) != 0) {
			*cause = strdup("category rooms refused by the solver");
			goto done;
		}
		r->scores_inst[c] = k;
		r->inst_customer[k] = c;
		kept_total += n;
	}
	r->kept_pairs = kept_total;
	rc = 0;
done:
	free(po);
	free(pp);
	free(ocat);
	return rc;
}

/* Add "1/7d, 2/1d" for caps to buf (len bytes). */
static void
opt_caps_text(const struct conf_cap *caps, int n, char *buf, size_t len)
{
	size_t	 off = strlen(buf);

	for (int i = 0; i < n && off < len; i++) {
		char	 d[32];
		int	 w;

		conf_format_duration(caps[i].window, d, sizeof d);
		w = snprintf(buf + off, len - off, "%s%d/%s", off ? ", " : "",
		    caps[i].limit, d);
		if (w < 0)
			break;
		off += (size_t)w;
	}
}

/* Per report segment: customers, those allocated something, their value. */
struct opt_seg_tally {
	long	*customers, *allocated;
	double	*ev;
	int	 nseen;		/* segments seen in the state; then "(no
				   segment)", then configured ones not seen */
};

/*
 * The report's arrays and names: every offer (with its shadow prices),
 * campaign, channel and segment (those seen, "(no segment)", then the
 * configured ones no customer carries, with their caps and exclusions).
 * 0, or -1 out of memory.
 */
static int
opt_report_names(struct opt_run *r, struct report_run *rep)
{
	const struct conf	*conf = r->conf;
	const struct offers	*of = r->offers;
	const struct cmd_state	*st = &r->state;
	int			 nseg = st->names.n, nrep_seg = nseg + 1;

	for (int g = 0; g < conf->nsegments; g++)
		if (intern_find(&st->names, conf->segments[g].name,
		    strlen(conf->segments[g].name)) < 0)
			nrep_seg++;
	rep->noffers = of->n;
	rep->ncampaigns = of->ncampaigns;
	rep->nsegments = nrep_seg;
	if ((rep->offers = calloc((size_t)of->n + 1, sizeof *rep->offers)) == NULL ||
	    (rep->campaigns = calloc((size_t)of->ncampaigns + 1,
	    sizeof *rep->campaigns)) == NULL ||
	    (rep->segments = calloc((size_t)nrep_seg, sizeof *rep->segments)) ==
	    NULL)
		return -1;
	for (int o = 0; o < of->n; o++) {
		struct report_offer	*ro = &rep->offers[o];
		const struct offer	*o_ = &of->offer[o];

		snprintf(ro->name, sizeof ro->name, "%s", o_->name);
		snprintf(ro->channel, sizeof ro->channel, "%s",
		    conf->channels[o_->channel].name);
		snprintf(ro->campaign, sizeof ro->campaign, "%s",
		    of->campaign[o_->campaign]);
		snprintf(ro->category, sizeof ro->category, "%s", o_->category);
		ro->value = o_->value;
		ro->cost = o_->cost;
		ro->budget = o_->budget;
		ro->capacity = o_->capacity;
		if (r->have_res) {
			ro->shadow_price_budget = r->res.price_budget[o];
			ro->shadow_price_capacity = r->res.price_capacity[o];
			ro->budget_binding = r->res.binding_budget[o];
			ro->capacity_binding = r->res.binding_capacity[o];
		}
	}
	for (int cp = 0; cp < of->ncampaigns; cp++)
		snprintf(rep->campaigns[cp].name, sizeof rep->campaigns[cp].name, "%s",
		    of->campaign[cp]);
	rep->nchannels = conf->nchannels;
	for (int ch = 0; ch < conf->nchannels; ch++)
		snprintf(rep->channels[ch].name, sizeof rep->channels[ch].name, "%s",
		    conf->channels[ch].name);
	for (int g = 0; g < nseg; g++)
		snprintf(rep->segments[g].name, sizeof rep->segments[g].name, "%s",
		    st->names.arena + st->names.off[g]);
	snprintf(rep->segments[nseg].name, sizeof rep->segments[nseg].name,
	    "(no segment)");
	for (int g = 0, k = nseg + 1; g < conf->nsegments; g++)
		if (intern_find(&st->names, conf->segments[g].name,
		    strlen(conf->segments[g].name)) < 0)
			snprintf(rep->segments[k++].name, sizeof rep->segments[0].name,
			    "%s", conf->segments[g].name);
	for (int g = 0; g < nrep_seg; g++) {
		int	 cg = conf_segment_index(conf, rep->segments[g].name);

		if (cg < 0)
			continue;
		opt_caps_text(conf->segments[cg].caps, conf->segments[cg].ncaps,
		    rep->segments[g].caps, sizeof rep->segments[g].caps);
		for (int e = 0; e < conf->segments[cg].nexclude; e++) {
			size_t	 off = strlen(rep->segments[g].exclude);

			snprintf(rep->segments[g].exclude + off,
			    sizeof rep->segments[g].exclude - off, "%s%s",
			    off ? ", " : "", conf->segments[cg].exclude[e]);
		}
	}
	return 0;
}

/* Count a customer of report segment g with its sends and their value. */
static void
opt_seg_count(struct opt_seg_tally *tally, int g, int sends, double ev)
{
	tally->customers[g]++;
	tally->allocated[g] += sends > 0;
	tally->ev[g] += ev;
}

/*
 * Customer c's planned sends: its lines of assignments.csv, and what the
 * report counts of them (per offer, channel and campaign, why nothing,
 * contacts before and after, saturation, its segments' tally).
 */
static void
opt_customer_out(struct opt_run *r, struct report_run *rep,
    struct cmd_out *out, int c, struct opt_seg_tally *tally)
{
	const struct conf	*conf = r->conf;
	const struct offers	*of = r->offers;
	const struct cmd_state	*st = &r->state;
	const struct solver_instance *in = r->inst;
	const char		*id = r->scores.ids.arena + r->scores.ids.off[c];
	int			 k = r->scores_inst[c], sends = 0, budget_hit = 0;
	int			 sends_ch[CONF_MAX_CHANNELS], before, after;
	int			 nseg = tally->nseen;
	double			 ev = 0;

	memset(sends_ch, 0, sizeof sends_ch);
	for (int64_t p = k >= 0 && r->have_res ? in->pair_start[k] : 0;
	    k >= 0 && r->have_res && p < in->pair_start[k + 1]; p++) {
		int			 o = in->pair_offer[p];
		const struct offer	*o_ = &of->offer[o];
		double			 net;

		if (!r->res.selected[p]) {
			if (r->res.binding_budget[o] || r->res.binding_capacity[o] ||
			    r->res.price_budget[o] > 0 ||
			    r->res.price_capacity[o] > 0)
				budget_hit = 1;
			continue;
		}
		net = (double)in->pair_propensity[p] * o_->value - o_->cost;
		cmd_out_str(out, id);
		cmd_out_char(out, ',');
		cmd_out_str(out, o_->name);
		cmd_out_char(out, ',');
		cmd_out_str(out, conf->channels[o_->channel].name);
		cmd_out_char(out, ',');
		cmd_out_fixed(out, net, 6);
		cmd_out_char(out, '\n');
		rep->offers[o].expected_value += net;
		rep->channels[o_->channel].sends++;
		rep->channels[o_->channel].expected_value += net;
		rep->campaigns[o_->campaign].sends++;
		rep->campaigns[o_->campaign].expected_value += net;
		sends_ch[o_->channel]++;
		sends++;
		ev += net;
	}
	if (sends > 0) {
		r->assignments += sends;
		r->assigned_customers++;
	} else if (k >= 0)
		r->nothing[c] = (int8_t)(budget_hit ?
		    REPORT_NOTHING_BUDGET_EXHAUSTED : REPORT_NOTHING_NOT_WORTH_COST);
	if (sends == 0 && r->nothing[c] >= 0)
		rep->nothing[r->nothing[c]]++;
	/* Histograms and saturation, before and after the plan. */
	before = st->contacts[c];
	after = before + sends;
	rep->hist_before[before < REPORT_HIST_BINS - 1 ? before :
	    REPORT_HIST_BINS - 1]++;
	rep->hist_after[after < REPORT_HIST_BINS - 1 ? after :
	    REPORT_HIST_BINS - 1]++;
	for (int ch = 0; ch < conf->nchannels; ch++) {
		int	 rc_ = st->room_channel[(size_t)c * (size_t)st->nchannels +
			    (size_t)ch];
		int	 ra = st->room_caps_all[c];

		if (rc_ == 0 || ra == 0)
			rep->channels[ch].saturated_before++;
		if ((rc_ != SOLVER_ROOM_NONE && rc_ - sends_ch[ch] <= 0) ||
		    (ra != SOLVER_ROOM_NONE && ra - sends <= 0))
			rep->channels[ch].saturated_after++;
	}
	/* Fairness: every segment the customer carries, or none. */
	if (st->segment_names[c] == 0)
		opt_seg_count(tally, nseg, sends, ev);
	for (int g = 0; g < nseg && g < 64; g++)
		if (st->segment_names[c] & (1ULL << g))
			opt_seg_count(tally, g, sends, ev);
}

/*
 * Several processes: the segment names every one saw, in rank order, as
 * this one's names, and its customers' segment bits renumbered to them,
 * so that the report's segments are the same list everywhere. 0 or -1.
 */
static int
opt_segments_union(struct opt_run *r)
{
	const struct solver_comm *comm = r->world->solver;
	struct cmd_state	*st = &r->state;
	struct intern		 all = { 0 };
	size_t			*lens = NULL, total = 0;
	char			*names = NULL;
	int32_t			 map[64];
	int			 rc = -1, g, n = st->names.n < 64 ? st->names.n : 64;

	if (comm == NULL)
		return 0;
	if ((lens = calloc((size_t)comm->size, sizeof *lens)) == NULL ||
	    comm->gather(comm->arg, st->names.arena, st->names.len, -1,
	    (void **)&names, lens) != 0)
		goto done;
	for (int i = 0; i < comm->size; i++)
		total += lens[i];
	for (size_t at = 0; at < total; at += strlen(names + at) + 1)
		if (intern_add(&all, names + at, strlen(names + at), NULL) < 0)
			goto done;
	for (g = 0; g < n; g++)
		map[g] = intern_find(&all, intern_str(&st->names, g),
		    strlen(intern_str(&st->names, g)));
	cmd_state_renumber(st, 0, st->n, map, n);
	intern_free(&st->names);
	st->names = all;
	memset(&all, 0, sizeof all);
	rc = 0;
done:
	intern_free(&all);
	free(lens);
	free(names);
	return rc;
}

/*
 * Several processes: the report's figures each counted over its own
 * customers (per offer, channel, campaign, reason, histogram bin and
 * segment, and the assignments) summed over all of them. 0 or -1.
 */
static int
opt_report_sum(struct opt_run *r, struct report_run *rep,
    struct opt_seg_tally *tally)
{
	const struct solver_comm *comm = r->world->solver;
	double			*v;
	size_t			 n = 0, cap;
	int			 i, pass;

	if (comm == NULL)
		return 0;
	cap = (size_t)rep->noffers + 4 * (size_t)rep->nchannels +
	    2 * (size_t)rep->ncampaigns + REPORT_NOTHING_NREASONS +
	    2 * REPORT_HIST_BINS + 3 * (size_t)rep->nsegments + 2;
	if ((v = calloc(cap, sizeof *v)) == NULL)
		return -1;
	/* Pass 0 packs, pass 1 unpacks the sums: one list of the fields. */
#define OPT_SUM(x, type)	do {					\
	if (pass == 0)							\
		v[n++] = (double)(x);					\
	else								\
		(x) = (type)v[n++];					\
} while (0)
	for (pass = 0; pass < 2; pass++) {
		n = 0;
		for (i = 0; i < rep->noffers; i++)
			OPT_SUM(rep->offers[i].expected_value, double);
		for (i = 0; i < rep->nchannels; i++) {
			OPT_SUM(rep->channels[i].sends, long);
			OPT_SUM(rep->channels[i].expected_value, double);
			OPT_SUM(rep->channels[i].saturated_before, long);
			OPT_SUM(rep->channels[i].saturated_after, long);
		}
		for (i = 0; i < rep->ncampaigns; i++) {
			OPT_SUM(rep->campaigns[i].sends, long);
			OPT_SUM(rep->campaigns[i].expected_value, double);
		}
		for (i = 0; i < REPORT_NOTHING_NREASONS; i++)
			OPT_SUM(rep->nothing[i], long);
		for (i = 0; i < REPORT_HIST_BINS; i++) {
			OPT_SUM(rep->hist_before[i], long);
			OPT_SUM(rep->hist_after[i], long);
		}
		for (i = 0; i < rep->nsegments; i++) {
			OPT_SUM(tally->customers[i], long);
			OPT_SUM(tally->allocated[i], long);
			OPT_SUM(tally->ev[i], double);
		}
		OPT_SUM(r->assignments, long);
		OPT_SUM(r->assigned_customers, long);
		/* Counts up to 2^53 add exactly as doubles. */
		if (pass == 0 && comm->sum_double(comm->arg, v, (int)n) != 0) {
			free(v);
			return -1;
		}
	}
#undef OPT_SUM
	free(v);
	return 0;
}

/* Copy fd in (from its start) to out at offset off; 0 or -1 (errno). */
static int
opt_copy_at(int in, int out, off_t off)
{
	char	*buf;
	ssize_t	 n, w, at;

	if ((buf = malloc(CMD_OUT_BUF)) == NULL)
		return -1;
	for (;;) {
		if ((n = read(in, buf, CMD_OUT_BUF)) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (at = 0; at < n; at += w, off += w) {
			if ((w = pwrite(out, buf + at, (size_t)(n - at),
			    off)) < 0 && errno == EINTR)
				w = 0;
			else if (w <= 0) {
				n = -1;
				goto done;
			}
		}
	}
done:
	free(buf);
	return n == 0 ? 0 : -1;
}

/*
 * Several processes: each wrote its customers' lines to part; the parts
 * become one file final, each written by its process at the offset of the
 * bytes of the lower ranks' parts (rank 0's starts with the header).
 * 0, or -1 with *cause, on every process.
 */
static int
opt_plan_file(struct opt_run *r, const char *part, const char *final,
    char **cause)
{
	const struct solver_comm *comm = r->world->solver;
	struct stat		 sb;
	int64_t			 off = 0, total = 0;
	int			 in = -1, out = -1, rc = CMD_OK;

	if (stat(part, &sb) != 0)
		rc = CMD_BAD_INPUT;
	off = total = rc == CMD_OK ? (int64_t)sb.st_size : 0;
	if (comm->exscan_int64(comm->arg, &off, 1) != 0 ||
	    comm->sum_int64(comm->arg, &total, 1) != 0)
		rc = CMD_BAD_INPUT;
	if (opt_lead(r) && rc == CMD_OK && ((out = open(final,
	    O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0 ||
	    ftruncate(out, (off_t)total) != 0))
		rc = CMD_BAD_INPUT;
	if (out >= 0)
		close(out);
	if (opt_agree(r, rc, cause) != CMD_OK)
		goto fail;
	if ((out = open(final, O_WRONLY)) < 0 ||
	    (in = open(part, O_RDONLY)) < 0 || opt_copy_at(in, out,
	    (off_t)off) != 0)
		rc = CMD_BAD_INPUT;
	if (out >= 0 && close(out) != 0)
		rc = CMD_BAD_INPUT;
	if (in >= 0)
		close(in);
	unlink(part);
	if (opt_agree(r, rc, cause) != CMD_OK)
		goto fail;
	return 0;
fail:
	if (*cause == NULL)
		*cause = str_printf("%s: cannot write: %s", final,
		    strerror(errno));
	unlink(part);
	return -1;
}

/*
 * Walk the plan: write assignments.csv (several processes: each its
 * part, then joined), build each customer's plan entry (handed to emit),
 * and fill the report's per-offer, channel, campaign, segment and
 * histogram figures, over every process. 0 or -1 with *cause.
 */
static int
opt_outputs(struct opt_run *r, struct report_run *rep, char **cause)
{
	struct opt_seg_tally	 tally = { NULL, NULL, NULL, 0 };
	struct cmd_out		*out = NULL;
	char			*path, *part = NULL;
	int			 rc = CMD_BAD_INPUT;

	if (opt_segments_union(r) != 0)
		return -1;
	tally.nseen = r->state.names.n;
	path = str_printf("%s/assignments.csv", r->run_dir);
	if (r->world->size > 1)
		part = str_printf("%s/.assignments.csv.%d", r->run_dir,
		    r->world->rank);
	if (path != NULL && (r->world->size == 1 || part != NULL) &&
	    (out = cmd_out_open(part != NULL ? part : path, cause)) != NULL) {
		if (opt_report_names(r, rep) != 0 ||
		    (tally.customers = calloc((size_t)rep->nsegments,
		    sizeof *tally.customers)) == NULL ||
		    (tally.allocated = calloc((size_t)rep->nsegments,
		    sizeof *tally.allocated)) == NULL ||
		    (tally.ev = calloc((size_t)rep->nsegments,
		    sizeof *tally.ev)) == NULL) {
			*cause = strdup("out of memory");
			cmd_out_close(out, cause);
			out = NULL;
		} else
			rc = CMD_OK;
	}
	if (opt_agree(r, rc, cause) != CMD_OK)
		goto fail;
	if (opt_lead(r))
		cmd_out_str(out, "customer,offer,channel,expected_value\n");
	for (int c = 0; c < r->scores.ids.n; c++)
		opt_customer_out(r, rep, out, c, &tally);
	rc = cmd_out_close(out, cause) != 0 ? CMD_BAD_INPUT : CMD_OK;
	out = NULL;
	if (opt_agree(r, rc, cause) != CMD_OK ||
	    (part != NULL && (opt_report_sum(r, rep, &tally) != 0 ||
	    opt_plan_file(r, part, path, cause) != 0)))
		goto fail;
	for (int g = 0; g < rep->nsegments; g++) {
		rep->segments[g].customers = tally.customers[g];
		rep->segments[g].allocated = tally.allocated[g];
		rep->segments[g].mean_expected_value = tally.customers[g] > 0 ?
		    tally.ev[g] / (double)tally.customers[g] : 0;
	}
	for (int o = 0; o < r->offers->n; o++) {
		rep->offers[o].sends = r->have_res ? r->res.sends[o] : 0;
		rep->offers[o].spend = r->have_res ? r->res.spend[o] : 0;
	}
	rc = CMD_OK;
	goto done;
fail:
	if (*cause == NULL)
		*cause = strdup("out of memory");
	if (part != NULL)
		unlink(part);
	rc = CMD_BAD_INPUT;
done:
	free(tally.customers);
	free(tally.allocated);
	free(tally.ev);
	free(path);
	free(part);
	return rc == CMD_OK ? 0 : -1;
}

/* HSET PREFIX:run:ID with n field/value pairs (borrowed); pipelined. */
static int
opt_run_hash(struct cmd_pipe *pipe, const struct opt_run *r, const char **fv,
    int n, char **cause)
{
	const char	*argv[2 + 64];
	char		 key[KEYS_MAX + 128];

	snprintf(key, sizeof key, "%s:run:%s", r->conf->redis.prefix, r->run_id);
	argv[0] = "HSET";
	argv[1] = key;
	for (int i = 0; i < 2 * n && i < 64; i++)
		argv[2 + i] = fv[i];
	return cmd_pipe_append(pipe, 2 + 2 * n, argv, NULL, cause);
}

/* The prices as JSON for the next run's warm start (caller frees). */
static char *
opt_prices_json(const struct opt_run *r)
{
	json_t	*root = json_object();
	char	*s;

	for (int o = 0; r->have_res && o < r->offers->n; o++) {
		json_t	*a = json_array();

		json_array_append_new(a, json_real(r->res.price_budget[o]));
		json_array_append_new(a, json_real(r->res.price_capacity[o]));
		json_object_set_new(root, r->offers->offer[o].name, a);
	}
	s = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	return s;
}

/*
 * Customer c's planned offers as "o1,o2" into *entry (grown to *cap
 * bytes); its length (0: nothing planned), or -1 out of memory.
 */
static long
opt_plan_text(const struct opt_run *r, int c, char **entry, size_t *cap)
{
	const struct solver_instance *in = r->inst;
	int			 k = r->scores_inst[c];
	size_t			 len = 0, n;
	const char		*name;
	char			*e;

	if (k < 0 || !r->have_res)
		return 0;
	for (int64_t p = in->pair_start[k]; p < in->pair_start[k + 1]; p++) {
		if (!r->res.selected[p])
			continue;
		name = r->offers->offer[in->pair_offer[p]].name;
		n = strlen(name);
		if (len + n + 2 > *cap) {
			*cap = (len + n + 2) * 2 + 256;
			if ((e = realloc(*entry, *cap)) == NULL)
				return -1;
			*entry = e;
		}
		if (len > 0)
			(*entry)[len++] = ',';
		memcpy(*entry + len, name, n);
		len += n;
		(*entry)[len] = '\0';
	}
	return (long)len;
}

/* Buckets of the plan: a slot's parts, every slot. */
#define OPT_PLAN_BUCKETS	(SLOT_COUNT * KEYS_PLAN_PARTS)

/*
 * This process's planned customers grouped by bucket (slot, part) in one
 * arena: bucket g is "\nCUSTOMER\to1,o2..." from at[g] to at[g + 1], the
 * string it is stored as. Built in two walks in customer order (the
 * instance's arrays read in order: a walk in slot order missed the cache
 * at every customer).
 */
struct opt_plan_slots {
	char		*arena;
	size_t		*at;		/* OPT_PLAN_BUCKETS + 1 */
	size_t		*fill;
	int32_t		*bucket;	/* per customer */
	char		*entry;		/* one customer's text */
	size_t		 entry_cap;
	long		 planned;
};

/* Build ps; 0, or -1 out of memory. */
static int
opt_plan_slots(const struct opt_run *r, struct opt_plan_slots *ps)
{
	const int	 n = r->scores.ids.n;
	long		 len;

	if ((ps->bucket = malloc((size_t)n * sizeof *ps->bucket + 1)) == NULL ||
	    (ps->at = calloc(OPT_PLAN_BUCKETS + 1, sizeof *ps->at)) == NULL ||
	    (ps->fill = malloc(OPT_PLAN_BUCKETS * sizeof *ps->fill)) == NULL)
		return -1;
	for (int c = 0; c < n; c++) {
		const char	*id = intern_str(&r->scores.ids, c);
		size_t		 idn = strlen(id);

		if ((len = opt_plan_text(r, c, &ps->entry, &ps->entry_cap)) < 0)
			return -1;
		if (len == 0)
			continue;
		ps->bucket[c] = cmd_world_slot(id, idn) * KEYS_PLAN_PARTS +
		    keys_plan_part(id);
		ps->at[ps->bucket[c] + 1] += idn + (size_t)len + 2;
		ps->planned++;
	}
	for (int g = 0; g < OPT_PLAN_BUCKETS; g++)
		ps->at[g + 1] += ps->at[g];
	memcpy(ps->fill, ps->at, OPT_PLAN_BUCKETS * sizeof *ps->fill);
	if ((ps->arena = malloc(ps->at[OPT_PLAN_BUCKETS] + 1)) == NULL)
		return -1;
	for (int c = 0; c < n; c++) {
		const char	*id = intern_str(&r->scores.ids, c);
		size_t		 idn = strlen(id), *f;

		if ((len = opt_plan_text(r, c, &ps->entry, &ps->entry_cap)) < 0)
			return -1;
		if (len == 0)
			continue;
		f = &ps->fill[ps->bucket[c]];
		ps->arena[(*f)++] = '\n';
		memcpy(ps->arena + *f, id, idn);
		*f += idn;
		ps->arena[(*f)++] = '\t';
		memcpy(ps->arena + *f, ps->entry, (size_t)len);
		*f += (size_t)len;
	}
	return 0;
}

/*
 * This process's plan entries: each non-empty bucket of its slots as one
 * string, PREFIX:plan:{TAG}:STEM:K (include/pacer/keys.h), expiring after
 * ttl seconds, in one SET; *written entries. 0 or -1 with *cause.
 */
static int
opt_plan_entries(struct opt_run *r, struct cmd_pipe *pipe, const char *ttl,
    long *written, char **cause)
{
	struct cmd_progress	 prog = { 0, 0 };
	struct opt_plan_slots	*ps = NULL;
	char			 key[KEYS_PLAN_MAX];
	const char		*argv[5];
	size_t			 argvlen[5];
	int			 rc = -1;

	*written = 0;
	if ((ps = calloc(1, sizeof *ps)) == NULL ||
	    opt_plan_slots(r, ps) != 0) {
		*cause = strdup("out of memory");
		goto done;
	}
	argv[0] = "SET";
	argv[1] = key;
	argv[3] = "EX";
	argv[4] = ttl;
	for (int s = r->world->slot_lo; s < r->world->slot_hi; s++) {
		for (int k = 0; k < KEYS_PLAN_PARTS; k++) {
			int	 g = s * KEYS_PLAN_PARTS + k;

			if (ps->at[g + 1] == ps->at[g])
				continue;
			argvlen[1] = keys_plan(key, sizeof key,
			    r->conf->redis.prefix, s, r->stem, k);
			argv[2] = ps->arena + ps->at[g];
			argvlen[2] = ps->at[g + 1] - ps->at[g];
			argvlen[0] = 3;
			argvlen[3] = 2;
			argvlen[4] = strlen(ttl);
			if (cmd_pipe_append(pipe, 5, argv, argvlen, cause) != 0)
				goto done;
		}
		if (cmd_progress_due(&prog))
			cmd_progress_line(&prog, "optimize", "plan: slots written",
			    (uint64_t)(s - r->world->slot_lo + 1),
			    (uint64_t)(r->world->slot_hi - r->world->slot_lo));
	}
	*written = ps->planned;
	rc = 0;
done:
	if (ps != NULL) {
		free(ps->arena);
		free(ps->at);
		free(ps->fill);
		free(ps->bucket);
		free(ps->entry);
	}
	free(ps);
	return rc;
}

/* Whether the run replaces a candidate that is neither live nor itself. */
static int
opt_plan_old_candidate(const struct opt_run *r)
{
	return r->candidate != NULL && strcmp(r->candidate, r->run_id) != 0 &&
	    (r->live == NULL || strcmp(r->candidate, r->live) != 0);
}

/*
 * The superseded candidate's buckets removed, unless it has become live
 * meanwhile: it was marked superseded first, and a superseded run is never
 * published, so once the live run is read to be another, nothing can make
 * it live. Best effort (the buckets expire with the run anyway); a failure
 * is logged.
 */
static void
opt_plan_drop_old(struct opt_run *r, struct cmd_pipe *pipe)
{
	char			 key[KEYS_PLAN_MAX], stem[KEYS_STEM_MAX];
	const char		*argv[3];
	char			*cause = NULL;
	struct redisReply	*rep = NULL;
	int			 gone;

	if (!opt_plan_old_candidate(r))
		return;
	keys_global(key, sizeof key, r->conf->redis.prefix, "plan:live");
	argv[0] = "GET";
	argv[1] = key;
	if ((rep = cmd_redis_command(r->ctx, 2, argv, &cause)) == NULL)
		goto done;
	gone = rep->type == REDIS_REPLY_NIL || (rep->type ==
	    REDIS_REPLY_STRING && strcmp(rep->str, r->candidate) != 0);
	freeReplyObject(rep);
	rep = NULL;
	if (!gone)
		goto done;
	snprintf(key, sizeof key, "%s:run:%s", r->conf->redis.prefix,
	    r->candidate);
	argv[0] = "HGET";
	argv[2] = "plan";
	if ((rep = cmd_redis_command(r->ctx, 3, argv, &cause)) == NULL)
		goto done;
	/* A run of an older pacer (no plan field) keeps its entries. */
	if (rep->type != REDIS_REPLY_STRING || rep->len >= sizeof stem)
		goto done;
	memcpy(stem, rep->str, rep->len + 1);
	argv[0] = "UNLINK";
	for (int s = 0; s < SLOT_COUNT; s++)
		for (int k = 0; k < KEYS_PLAN_PARTS; k++) {
			keys_plan(key, sizeof key, r->conf->redis.prefix, s, stem,
			    k);
			if (cmd_pipe_append(pipe, 2, argv, NULL, &cause) != 0)
				goto done;
		}
	keys_global(key, sizeof key, r->conf->redis.prefix, "plan:runs");
	argv[0] = "ZREM";
	argv[2] = stem;
	if (cmd_pipe_append(pipe, 3, argv, NULL, &cause) == 0 &&
	    cmd_pipe_flush(pipe, &cause) == 0)
		cmd_log("optimize", "plan: the entries of %s, superseded, removed",
		    r->candidate);
done:
	if (cause != NULL) {
		cmd_log("optimize", "warning: the entries of %s, superseded, "
		    "are left to expire: %s", r->candidate, cause);
		free(cause);
	}
	if (rep != NULL)
		freeReplyObject(rep);
}

/*
 * The run's hash complete with its figures (status_name the solver's),
 * PREFIX:plan:candidate set to the run, and an older candidate whose
 * entries were removed marked superseded; pipelined. 0 or -1 with *cause.
 */
static int
opt_plan_finish(struct opt_run *r, struct cmd_pipe *pipe,
    const char *status_name, char **cause)
{
	const struct conf	*conf = r->conf;
	char			 obj[64], bound[64], gap[64], ncust[32];
	char			 nassign[32], finished[32], ckey[KEYS_MAX], *prices;
	char			 okey[KEYS_MAX + 128];
	const char		*argv[4];
	int			 rc;

	snprintf(obj, sizeof obj, "%.6f", r->have_res ? r->res.objective : 0.0);
	snprintf(bound, sizeof bound, "%.6f", r->have_res ?
	    solver_round_up(r->res.bound, 6) : 0.0);
	snprintf(gap, sizeof gap, "%.8f", r->have_res ?
	    solver_round_up(r->res.gap, 8) : 0.0);
	snprintf(ncust, sizeof ncust, "%ld", r->customers_all);
	snprintf(nassign, sizeof nassign, "%ld", r->assignments);
	snprintf(finished, sizeof finished, "%lld", (long long)time(NULL));
	if ((prices = opt_prices_json(r)) == NULL) {
		*cause = strdup("out of memory");
		return -1;
	}
	{
		const char *fv[] = { "status", "complete", "solver_status",
		    status_name, "objective", obj, "bound", bound, "gap", gap,
		    "customers", ncust, "assignments", nassign, "finished", finished,
		    "prices", prices, "phase", "done" };

		rc = opt_run_hash(pipe, r, fv, 10, cause);
	}
	free(prices);
	if (rc != 0)
		return -1;
	keys_global(ckey, sizeof ckey, conf->redis.prefix, "plan:candidate");
	argv[0] = "SET";
	argv[1] = ckey;
	argv[2] = r->run_id;
	if (cmd_pipe_append(pipe, 3, argv, NULL, cause) != 0)
		return -1;
	if (!opt_plan_old_candidate(r))
		return 0;
	snprintf(okey, sizeof okey, "%s:run:%s", conf->redis.prefix,
	    r->candidate);
	argv[0] = "HSET";
	argv[1] = okey;
	argv[2] = "status";
	argv[3] = "superseded";
	return cmd_pipe_append(pipe, 4, argv, NULL, cause);
}

static void	opt_report_join(struct opt_run *);

/*
 * Write the plan to Redis as a candidate: the run's hash (status
 * writing) and its stem in PREFIX:plan:runs, every process's plan buckets
 * (at once, while rank 0's report is written), then, once all are in, the
 * hash's figures (status complete), PREFIX:plan:candidate, and the buckets
 * of the candidate it supersedes removed.
 */
static int
opt_write_plan(struct opt_run *r, struct cmd_redis *ctx, const char *status_name,
    char **cause)
{
	struct cmd_pipe		 pipe = { ctx, 0, 0, 0, NULL, 0 };
	char			 created[32], expires[32], ttl[32];
	int64_t			 ttl_s = r->conf->optimizer.horizon + 86400;
	double			 t0 = clock_mono_s();
	long			 written = 0;
	int			 rc = CMD_OK;

	snprintf(created, sizeof created, "%lld", (long long)r->t);
	snprintf(expires, sizeof expires, "%lld", (long long)(r->t + ttl_s));
	snprintf(ttl, sizeof ttl, "%lld", (long long)ttl_s);
	if (opt_lead(r)) {
		const char *fv[] = { "status", "writing", "created", created,
		    "method", r->method == SOLVER_EXACT ? "exact" : "scale",
		    "folder", r->run_dir, "expires", expires, "plan", r->stem };
		char	 key[KEYS_MAX];
		char	 now[32], gone[32];
		time_t	 t = time(NULL);
		const char *argv[] = { "ZADD", key, gone, r->stem };
		const char *prune[] = { "ZREMRANGEBYSCORE", key, "-inf", now };

		/*
		 * Registered before any entry: an erasure finds every bucket.
		 * Scored by when the keys are gone, on this clock (not the
		 * run's --now, which may be past), with an hour to spare for
		 * clocks that differ: plans gone by now leave the set.
		 */
		keys_global(key, sizeof key, r->conf->redis.prefix, "plan:runs");
		snprintf(now, sizeof now, "%lld", (long long)t);
		snprintf(gone, sizeof gone, "%lld", (long long)(t + ttl_s + 3600));
		if (opt_run_hash(&pipe, r, fv, 6, cause) != 0 ||
		    cmd_pipe_append(&pipe, 4, prune, NULL, cause) != 0 ||
		    cmd_pipe_append(&pipe, 4, argv, NULL, cause) != 0 ||
		    cmd_pipe_flush(&pipe, cause) != 0)
			rc = CMD_NO_SERVICE;
	}
	if (opt_agree(r, rc, cause) != CMD_OK)
		return -1;
	if (rc == CMD_OK && (opt_plan_entries(r, &pipe, ttl, &written,
	    cause) != 0 || cmd_pipe_flush(&pipe, cause) != 0))
		rc = CMD_NO_SERVICE;
	/* Every process's entries are in before the run is complete. */
	opt_report_join(r);
	if (opt_agree(r, rc, cause) != CMD_OK ||
	    opt_sum_long(r, &written, 1) != 0)
		return -1;
	if (opt_lead(r) && (opt_plan_finish(r, &pipe, status_name,
	    cause) != 0 || cmd_pipe_flush(&pipe, cause) != 0))
		return -1;
	if (opt_lead(r))
		opt_plan_drop_old(r, &pipe);
	cmd_log("optimize", "plan: %ld entries (%ld assignments) written to redis "
	    "in %.2fs (%.0f assignments/s); candidate is %s", written,
	    r->assignments, clock_mono_s() - t0, (double)r->assignments /
	    (clock_mono_s() - t0 + 1e-9), r->run_id);
	return 0;
}

/* Usage line. */
static int
opt_usage(void)
{
	fprintf(stderr, "usage: pacer optimize -c FILE [--offers CSV] [--scores CSV] "
	    "[--out DIR] [--publish] [--method exact|scale] [--run-id ID] "
	    "[--now UNIX]\n");
	return CMD_BAD_INPUT;
}

/* Free what a run holds. */
static void
opt_free(struct opt_run *r)
{
	offers_free(r->offers);
	cmd_scores_free(&r->scores);
	cmd_state_free(&r->state);
	solver_instance_free(r->inst);
	if (r->have_res)
		solver_result_free(&r->res);
	free(r->inst_customer);
	free(r->scores_inst);
	free(r->nothing);
	free(r->excluded);
	free(r->run_dir);
	free(r->iter);
	free(r->warm_budget);
	free(r->warm_capacity);
	free(r->live);
	free(r->candidate);
}

/* pacer optimize's options. */
struct opt_args {
	const char	*conf_path, *offers_path, *scores_path, *out_dir;
	const char	*run_id;
	int		 publish;
	long long	 now;
	enum solver_method method;
};

/* The options into a; 0, or the exit status after saying what is wrong. */
static int
opt_args(int argc, char **argv, struct opt_args *a)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "offers", required_argument, NULL, 'O' },
		{ "scores", required_argument, NULL, 'S' },
		{ "out", required_argument, NULL, 'o' },
		{ "publish", no_argument, NULL, 'p' },
		{ "method", required_argument, NULL, 'm' },
		{ "run-id", required_argument, NULL, 'r' },
		{ "now", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	char	*end;
	int	 ch;

	memset(a, 0, sizeof *a);
	a->method = SOLVER_SCALE;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			a->conf_path = optarg;
			break;
		case 'O':
			a->offers_path = optarg;
			break;
		case 'S':
			a->scores_path = optarg;
			break;
		case 'o':
			a->out_dir = optarg;
			break;
		case 'p':
			a->publish = 1;
			break;
		case 'm':
			if (!strcmp(optarg, "exact"))
				a->method = SOLVER_EXACT;
			else if (!strcmp(optarg, "scale"))
				a->method = SOLVER_SCALE;
			else {
				cmd_log("optimize", "--method: want exact or scale");
				return CMD_BAD_INPUT;
			}
			break;
		case 'r':
			a->run_id = optarg;
			break;
		case 't':
			a->now = strtoll(optarg, &end, 10);
			if (end == optarg || *end != '\0' || a->now <= 0) {
				cmd_log("optimize", "--now: want unix seconds");
				return CMD_BAD_INPUT;
			}
			break;
		default:
			return opt_usage();
		}
	}
	if (optind != argc || a->conf_path == NULL)
		return opt_usage();
	if (a->run_id != NULL && (!cmd_valid_name(a->run_id, 100) ||
	    strchr(a->run_id, ',') != NULL)) {
		cmd_log("optimize", "--run-id: 1-100 of A-Za-z0-9_.:@-");
		return CMD_BAD_INPUT;
	}
	return 0;
}

/*
 * The input files (the config's unless given): offers and scores into r,
 * and the run's id and time. 0, or -1 with *cause (every error names file,
 * line and field).
 */
static int
opt_inputs(struct opt_run *r, struct opt_args *a, char **cause)
{
	const struct conf	*conf = r->conf;

	if (a->offers_path == NULL)
		a->offers_path = conf->optimizer.offers;
	if (a->scores_path == NULL)
		a->scores_path = conf->optimizer.scores;
	if (a->out_dir == NULL)
		a->out_dir = conf->optimizer.out_dir;
	if (a->offers_path == NULL || a->scores_path == NULL || a->out_dir == NULL) {
		*cause = str_printf("%s: optimizer offers, scores and out_dir are "
		    "needed (or --offers, --scores, --out)", a->conf_path);
		return -1;
	}
	/* A missing file the config names is reported with its line. */
	if ((a->offers_path == conf->optimizer.offers &&
	    conf_check_file(conf, "optimizer", "offers", cause) != 0) ||
	    (a->scores_path == conf->optimizer.scores &&
	    conf_check_file(conf, "optimizer", "scores", cause) != 0))
		return -1;
	r->t = a->now > 0 ? a->now : (int64_t)time(NULL);
	if (a->run_id != NULL)
		snprintf(r->run_id, sizeof r->run_id, "%s", a->run_id);
	else
		cmd_run_id(r->t, r->run_id, sizeof r->run_id);
	/* New at each write of a run id: keys of an earlier write are not. */
	snprintf(r->stem, sizeof r->stem, "%s:%08x", r->run_id,
	    (unsigned)(cmd_random64() & 0xffffffffu));
	/* One run: rank 0's id, plan stem and time for every process. */
	if (r->world->solver != NULL &&
	    (r->world->comm.bcast(r->world->comm.arg, r->run_id,
	    sizeof r->run_id, 0) != 0 || r->world->comm.bcast(
	    r->world->comm.arg, r->stem, sizeof r->stem, 0) != 0 ||
	    r->world->comm.bcast(r->world->comm.arg, &r->t, sizeof r->t,
	    0) != 0)) {
		*cause = strdup("cannot share the run id");
		return -1;
	}
	cmd_log("optimize", "run %s: offers=%s scores=%s method=%s", r->run_id,
	    a->offers_path, a->scores_path,
	    r->method == SOLVER_EXACT ? "exact" : "scale");
	if ((r->offers = offers_load(a->offers_path, conf, cause)) == NULL)
		return -1;
	if (r->offers->n > SOLVER_OFFERS_MAX) {
		*cause = str_printf("%s: %d offers, at most %d", a->offers_path,
		    r->offers->n, SOLVER_OFFERS_MAX);
		return -1;
	}
	return cmd_scores_load_shard(a->scores_path, r->offers,
	    r->world->slot_lo, r->world->slot_hi, r->world->threads, &r->scores,
	    cause);
}

/*
 * What the inputs hold, over every process: customers and pairs (kept
 * for the report). 0 or -1 with *cause.
 */
static int
opt_inputs_count(struct opt_run *r, const struct opt_args *a, char **cause)
{
	long	 n[2] = { r->scores.ids.n, (long)r->scores.npairs };

	if (opt_sum_long(r, n, 2) != 0) {
		*cause = strdup("out of memory");
		return -1;
	}
	r->customers_all = n[0];
	r->pairs_all = n[1];
	if (r->world->size > 1)
		cmd_log("optimize", "%s: %ld customers, %ld pairs in %.2fs "
		    "(%d processes, this one %d customers in slots %d-%d)",
		    a->scores_path, n[0], n[1], clock_mono_s() - r->t0,
		    r->world->size, r->scores.ids.n, r->world->slot_lo,
		    r->world->slot_hi - 1);
	else
		cmd_log("optimize", "%s: %ld customers, %ld pairs in %.2fs",
		    a->scores_path, n[0], n[1], clock_mono_s() - r->t0);
	return 0;
}

/*
 * Redis: the plans, the run's record ("running") and every customer's
 * state. CMD_OK, or with *cause CMD_NO_SERVICE, or CMD_BAD_INPUT for a
 * malformed stored history.
 */
static int
opt_read_state(struct opt_run *r, struct cmd_redis *ctx, char **cause)
{
	const char	*fv[8] = { "status", "running", "created", NULL,
	    "method", r->method == SOLVER_EXACT ? "exact" : "scale",
	    "phase", "reading" };
	char		 created[32];
	double		 t1;
	int		 st;

	if (cmd_plan_current(ctx, r->conf, &r->live, &r->candidate, cause) != 0 ||
	    cmd_plan_assignments(ctx, r->conf, r->live, &r->live_assignments,
	    cause) != 0)
		return CMD_NO_SERVICE;
	opt_warm_start(r, ctx);
	r->ctx = ctx;
	snprintf(created, sizeof created, "%lld", (long long)r->t);
	fv[3] = created;
	opt_status(r, fv, 4);
	r->hash_started = 1;
	t1 = clock_mono_s();
	if ((st = cmd_state_read(ctx, r->conf, r->offers, &r->scores, r->t,
	    r->world->threads, &r->state, cause)) != CMD_OK)
		return st;
	cmd_log("optimize", "redis: state of %d customers read in %.2fs (%d "
	    "connection%s)%s", r->scores.ids.n, clock_mono_s() - t1,
	    r->state.parts, r->state.parts > 1 ? "s" : "", r->world->size > 1 ?
	    " (rank 0's shard; each process reads its own)" : "");
	return CMD_OK;
}

/*
 * Build the instance (every process its customers, then the fairness rows
 * over all of them); 0, or -1 with *cause on every process.
 */
static int
opt_instance(struct opt_run *r, char **cause)
{
	long	 n[4];
	int	 rc = CMD_OK;

	if (opt_build(r, cause) != 0 ||
	    (r->iter = calloc(OPT_ITER_MAX, sizeof *r->iter)) == NULL) {
		if (*cause == NULL)
			*cause = strdup("out of memory");
		rc = CMD_BAD_INPUT;
	}
	/* The instance holds what the rows said (1.5 GiB at 10M customers). */
	cmd_scores_drop_rows(&r->scores);
	if (opt_agree(r, rc, cause) != CMD_OK)
		return -1;
	n[0] = r->inst->ncustomers;
	n[1] = r->scores.ids.n;
	n[2] = (long)r->kept_pairs;
	n[3] = (long)r->scores.npairs;
	if (opt_sum_long(r, n, 4) != 0) {
		*cause = strdup("out of memory");
		return -1;
	}
	cmd_log("optimize", "instance: %ld of %ld customers, %ld of %ld pairs "
	    "can be planned", n[0], n[1], n[2], n[3]);
	return opt_agree(r, opt_fairness(r, cause) != 0 ? CMD_BAD_INPUT :
	    CMD_OK, cause) != CMD_OK ? -1 : 0;
}

/*
 * Build the instance and solve it; 0, or -1 with *cause. Over several
 * processes a solver failure past its checks stops them all: the others
 * wait for this one inside the solve.
 */
static int
opt_solve(struct opt_run *r, char **cause)
{
	const struct conf	*conf = r->conf;
	struct solver_options	 so;

	if (opt_instance(r, cause) != 0)
		return -1;
	solver_options_init(&so);
	so.method = r->method;
	if (conf->optimizer.gap > 0)
		so.gap = conf->optimizer.gap;
	so.time_limit_s = conf->optimizer.time_limit_s;
	so.warm_price_budget = r->warm_budget;
	so.warm_price_capacity = r->warm_capacity;
	so.progress = opt_lead(r) ? opt_progress : NULL;
	so.log = opt_lead(r) ? opt_solver_log : NULL;
	so.arg = r;
	so.threads = r->world->threads;
	so.comm = r->world->solver;
	r->have_res = 1;
	if (solver_solve(r->inst, &so, &r->res, cause) != 0) {
		char *msg = str_printf("solver: %s", *cause ? *cause : "failed");

		free(*cause);
		*cause = msg;
		if (r->world->size > 1 && r->world->err_fd >= 0)
			dprintf(r->world->err_fd, "pacer optimize: rank %d: %s\n",
			    r->world->rank, msg);
		else if (r->world->size > 1)
			cmd_log("optimize", "%s", msg);
		cmd_world_abort(r->world, CMD_BAD_INPUT);
		return -1;
	}
	if (r->res.status == SOLVER_EMPTY)
		cmd_log("optimize", "empty instance: no customer has an eligible "
		    "offer with consent, room and a positive expected value; the "
		    "plan is empty");
	else if (r->res.status == SOLVER_INFEASIBLE)
		cmd_log("optimize", "the instance is infeasible; the plan is empty");
	if (r->res.exact_fallback)
		cmd_log("optimize", "scale mode stalled above the gap: fell back to "
		    "exact mode on the whole instance");
	cmd_log("optimize", "solved: status=%s objective=%.4f bound=%.4f "
	    "gap=%.5f%% in %.2fs", solver_status_name(r->res.status),
	    r->res.objective, solver_round_up(r->res.bound, 4),
	    solver_round_up(100.0 * r->res.gap, 5), r->res.seconds);
	return 0;
}

/* The report thread: summary.json and report.html into the run folder. */
static void *
opt_report_thread(void *arg)
{
	struct opt_run	*r = arg;
	double		 t = clock_mono_s();

	if (report_write(r->report_rep, r->run_dir, &r->report_cause) != 0 &&
	    r->report_cause == NULL)
		r->report_cause = strdup("cannot write the report");
	r->report_s = clock_mono_s() - t;
	return NULL;
}

/*
 * Start writing the report (rep, which nothing changes until it is
 * joined): it reads this run's and the previous run's assignments.csv, so
 * it takes seconds at millions of customers, which the plan's write to
 * Redis (Redis's CPU, not ours) overlaps. Written here when no thread
 * can start.
 */
static void
opt_report_start(struct opt_run *r, const struct report_run *rep)
{
	r->report_rep = rep;
	if (pthread_create(&r->report_thread, NULL, opt_report_thread, r) == 0)
		r->report_running = 1;
	else
		opt_report_thread(r);
}

/* Wait for the report; a failure is logged (the run goes on). */
static void
opt_report_join(struct opt_run *r)
{
	if (r->report_running) {
		pthread_join(r->report_thread, NULL);
		r->report_running = 0;
	} else if (r->report_rep == NULL)
		return;
	if (r->report_cause != NULL)
		cmd_log("optimize", "report: %s", r->report_cause);
	else
		cmd_log("optimize", "report: summary.json and report.html written "
		    "in %.2fs", r->report_s);
	free(r->report_cause);
	r->report_cause = NULL;
	r->report_rep = NULL;
}

/*
 * The run folder out_dir/RUN_ID: assignments, summary and report; *blocked
 * says whether publishing needs --force (rep says why). 0, or -1 with
 * *cause.
 */
static int
opt_folder(struct opt_run *r, struct report_run *rep, const char *out_dir,
    int *blocked, char **cause)
{
	char	*dir, real[PATH_MAX];
	int	 rc = CMD_OK;
	double	 t1 = clock_mono_s();

	/* Several processes share the folder (one file system): 0 makes it. */
	if ((dir = str_printf("%s/%s", out_dir, r->run_id)) == NULL) {
		*cause = strdup("out of memory");
		rc = CMD_BAD_INPUT;
	} else if (opt_lead(r) && cmd_mkdirs(dir, cause) != 0)
		rc = CMD_BAD_INPUT;
	if (opt_agree(r, rc, cause) != CMD_OK) {
		free(dir);
		return -1;
	}
	r->run_dir = realpath(dir, real) ? strdup(real) : strdup(dir);
	free(dir);
	if (r->run_dir == NULL || opt_outputs(r, rep, cause) != 0)
		return -1;
	snprintf(rep->run_id, sizeof rep->run_id, "%s", r->run_id);
	report_find_previous(r->run_dir, rep->previous_run_id,
	    sizeof rep->previous_run_id);
	rep->created = r->t;
	rep->runtime_s = clock_mono_s() - r->t0;
	snprintf(rep->status, sizeof rep->status, "%s",
	    solver_status_name(r->res.status));
	snprintf(rep->method, sizeof rep->method, "%s",
	    r->method == SOLVER_EXACT ? "exact" : "scale");
	rep->exact_fallback = r->res.exact_fallback;
	rep->objective = r->res.objective;
	rep->bound = r->res.bound;
	rep->gap = r->res.gap;
	rep->customers = r->customers_all;
	rep->eligible_pairs = r->pairs_all;
	if (opt_report_fairness(r, rep) != 0) {
		*cause = strdup("out of memory");
		return -1;
	}
	rep->assignments = r->assignments;
	*blocked = cmd_plan_needs_force(solver_status_name(r->res.status),
	    r->assignments, r->live, r->live_assignments, rep->publish_blocked,
	    sizeof rep->publish_blocked);
	rep->iterations = r->iter;	/* the report owns them from here */
	rep->niterations = r->niter;
	r->iter = NULL;
	cmd_log("optimize", "run folder: %s (%ld assignments to %ld customers) "
	    "written in %.2fs", r->run_dir, r->assignments, r->assigned_customers,
	    clock_mono_s() - t1);
	if (opt_lead(r))
		opt_report_start(r, rep);
	return 0;
}

/*
 * The plan, as a candidate; live only when asked and allowed: never forced
 * from here (a run that needs --force stays the candidate for a person to
 * review). CMD_OK, or the exit status with *cause.
 */
static int
opt_plan(struct opt_run *r, const struct opt_args *a,
    const struct report_run *rep, int blocked, char **cause)
{
	const struct conf	*conf = r->conf;
	int			 publish = a->publish || conf->optimizer.auto_publish;
	int			 rc, refused;
	char			 who[160];

	if (opt_write_plan(r, r->ctx, solver_status_name(r->res.status),
	    cause) != 0)
		return CMD_NO_SERVICE;
	if (!opt_lead(r))
		return CMD_OK;	/* rank 0 publishes */
	if (publish && blocked) {
		cmd_log("optimize", "not published: publishing it needs --force: %s; "
		    "the candidate %s is staged: review it, then pacer plan publish "
		    "%s --force -c %s", rep->publish_blocked, r->run_id, r->run_id,
		    a->conf_path);
		return CMD_OK;
	}
	if (!publish) {
		cmd_log("optimize", "review, then: pacer plan publish %s -c %s",
		    r->run_id, a->conf_path);
		return CMD_OK;
	}
	snprintf(who, sizeof who, "%s (pacer optimize%s)", cmd_plan_who(),
	    a->publish ? " --publish" : ", auto_publish");
	if ((rc = cmd_plan_publish(r->ctx, conf, r->run_id, who, 0, &refused,
	    cause)) != CMD_OK && !refused)
		return rc;
	if (refused) {
		/* The live plan changed while we ran. */
		cmd_log("optimize", "not published: %s", *cause);
		free(*cause);
		*cause = NULL;
	}
	return CMD_OK;
}

/* Say why the run failed: rank 0 on stderr, another rank its own cause. */
static void
opt_fail(struct opt_run *r, int rc, const char *cause)
{
	const char *fv[] = { "status", "failed", "error",
	    cause ? cause : "out of memory" };

	if (r->world->err_fd >= 0 && !r->others_failed)
		dprintf(r->world->err_fd, "pacer optimize: rank %d: %s\n",
		    r->world->rank, fv[3]);
	cmd_log("optimize", "%s", fv[3]);
	if (r->hash_started && rc != CMD_NO_SERVICE)
		opt_status(r, fv, 2);
}

/*
 * pacer optimize, as one process or as one rank of mpirun -np K: each
 * step's status is agreed over every process before the next, so that
 * all stop together and exit with the same status.
 */
int
cmd_optimize(int argc, char **argv)
{
	struct opt_args		 a;
	struct opt_run		 r;
	struct report_run	 rep;
	struct cmd_world	 world;
	struct cmd_redis	*ctx = NULL;
	struct conf		*conf = NULL;
	char			*cause = NULL;
	int			 rc, blocked = 0;

	if ((rc = opt_args(argc, argv, &a)) != 0)
		return rc;
	if (cmd_world_start(&world, &cause) != 0) {
		cmd_log("optimize", "%s", cause);
		free(cause);
		return CMD_BAD_INPUT;
	}
	memset(&r, 0, sizeof r);
	memset(&rep, 0, sizeof rep);
	r.world = &world;
	r.t0 = clock_mono_s();
	r.method = a.method;
	rc = (conf = conf_load(a.conf_path, &cause)) == NULL ? CMD_BAD_INPUT :
	    CMD_OK;
	if ((rc = opt_agree(&r, rc, &cause)) != CMD_OK)
		goto fail;
	r.conf = conf;
	rc = opt_inputs(&r, &a, &cause) != 0 ? CMD_BAD_INPUT : CMD_OK;
	if ((rc = opt_agree(&r, rc, &cause)) != CMD_OK ||
	    (rc = opt_inputs_count(&r, &a, &cause) != 0 ? CMD_BAD_INPUT :
	    CMD_OK) != CMD_OK)
		goto fail;
	/* Redis: the customers' state (exit 2 when it cannot be reached). */
	rc = (ctx = cmd_redis_connect(r.conf, &cause)) == NULL ?
	    CMD_NO_SERVICE : opt_read_state(&r, ctx, &cause);
	if ((rc = opt_agree(&r, rc, &cause)) != CMD_OK)
		goto fail;
	rc = CMD_BAD_INPUT;
	if (opt_solve(&r, &cause) != 0 ||
	    opt_folder(&r, &rep, a.out_dir, &blocked, &cause) != 0)
		goto fail;
	rc = opt_plan(&r, &a, &rep, blocked, &cause);
	if ((rc = opt_agree(&r, rc, &cause)) != CMD_OK)
		goto fail;
	cmd_log("optimize", "done in %.2fs", clock_mono_s() - r.t0);
	goto done;
fail:
	opt_report_join(&r);
	opt_fail(&r, rc, cause);
done:
	opt_report_join(&r);
	free(cause);
	report_free(&rep);
	opt_free(&r);
	cmd_redis_free(ctx);
	conf_free(conf);
	cmd_world_end(&world);
	return rc;
}
