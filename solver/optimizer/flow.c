/*
 * One customer's subproblem at given prices, solved exactly (or, past a
 * node limit, bounded).
 *
 * Each item (candidate pair) belongs to one channel group, one campaign
 * group, at most one category group and the "all" group, each with a
 * room. When the groups that can bind are laminar the feasible sets form a
 * laminar matroid and greedy by value is optimal; when a campaign crosses
 * channels it is a bipartite b-matching (item = edge from its channel node
 * to its campaign node, with the total cap on the source side), solved by
 * successive shortest paths. A category that can bind and crosses the
 * others makes a third partition. When at most two of the partitions
 * (channels, campaigns, categories) can bind, those two are the flow's
 * sides; otherwise no flow models it, and the customer is solved by
 * branch and bound: at each node the flow over two partitions with the
 * third's rooms priced (a Lagrangian bound, which reduced costs from the
 * flow's thresholds tighten by fixing items). The Lagrangian dual value is
 * a certified upper bound only if each subproblem's value bounds its
 * optimum: the search's value is the largest bound of the subtrees it
 * closed or, at its node limit, left open, so it is one even when the
 * plan it returns is not the best.
 *
 * Thresholds: for each item, the reduced value it must beat to be chosen
 * with everything else fixed. The price update reads them to find, per
 * offer, the price at which demand meets the offer's limit.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "opt.h"

/*
 * Free items at or below which the search goes on depth first with the
 * cheap bound only: its flows cost more than they save on few items.
 */
#define FLOW_BB_SMALL	20

/*
 * Nodes a search may spend on one customer's plan (its thresholds share
 * as many again): past it the search returns the best plan it found and
 * an upper bound. A depth-first node counts 1, and each flow solved at a
 * node over flows FLOW_NODE_FLOW plus 1 per FLOW_NODE_SCANS edges its
 * shortest paths looked at: counted, not timed, and about half a
 * microsecond each here whatever the customer's size, so the limit stands
 * for about 50 ms (a customer with thresholds at most twice that).
 * Hard customers of 100 items needed 100-12,000 for the plan.
 */
#define FLOW_NODE_LIMIT	100000
#define FLOW_NODE_FLOW	16
#define FLOW_NODE_SCANS	128

/*
 * Subgradient steps on the prices at a search's first node and at every
 * other node (warm from the last), and the first step's scale.
 */
#define FLOW_LR_ROOT	40
#define FLOW_LR_STEPS	6
#define FLOW_LR_THETA	1.0

/* A value no more than this above the incumbent is no better (rounding). */
#define FLOW_EPS	1e-12

struct flow_work {
	int	 nitems;
	int	 ngroups;
	int	*ord;		/* items by decreasing r */
	int	*cnt;		/* per group: chosen */
	int	*size;		/* per group: items */
	double	*minsel;	/* per group: least chosen r */
	double	*gmax;		/* per group: best unchosen r blocked here */
	int	*touched;	/* groups used by this customer */
	int	 ntouched;
	uint8_t	*mark;		/* per group: in touched */
	int	*node;		/* per group: flow node, -1 none */

	/* Flow network (residual graph, edge e and e^1 are a pair). */
	int	*head;		/* per node: first edge */
	int	*next;
	int	*to;
	int	*cap;
	double	*cost;
	int	*item_edge;	/* per item: its edge or -1 */
	double	*dist;
	int	*pred;		/* edge into node on shortest path */
	int	*queue;
	uint8_t	*inq;
	int	 nedges;
	int	 nnodes, src, sink;
	long	 scans;		/* edges flow_ssp has looked at, ever */
	uint8_t	*kind;		/* per group: 1 channel node, 2 campaign */
	int	*gedge;		/* per group: its edge to or from its node */
	int	*local;		/* per group: reduced node or campaign slot */
	int	*chans;		/* channel groups of this customer */
	int	*camps;		/* campaign groups of this customer */
	int	 nch, ncp;	/* how many of each (flow_reduced) */
	double	*D;		/* reduced distances, K x K */
	/*
	 * Per campaign slot q, short lists (at q * K) of the nodes with a
	 * finite cost into the slot and out of it, and those costs: a slot
	 * touches a node or two, so lists beat dense K-wide rows.
	 */
	double	*inc;		/* cost into the slot from inc_node */
	double	*outc;		/* cost out of the slot to outc_node */
	int	*inc_node;
	int	*outc_node;
	int	*ninc;		/* per slot: entries in its lists */
	int	*noutc;

	/* Branch and bound (FLOW_SEARCH). */
	int	*bb_sorted;	/* positive items by decreasing r */
	int	 bb_npos;
	int	 bb_m;		/* items in ord at this node */
	int	 bb_small;	/* FLOW_BB_SMALL, or as a test set it */
	int	*bb_tmp;	/* per group: the bound's counts */
	int	*bb_cnt;	/* per group: the repaired plan's counts */
	uint8_t	*bb_st;		/* per item: 0 free, 1 taken, 2 left out */
	uint8_t	*bb_best;	/* per item: in the best plan found */
	uint8_t	*bb_cur;	/* per free item (ord's order): repaired plan */
	int	*bb_fix;	/* items fixed by reduced costs, a stack */
	int	 bb_nfix;
	double	 bb_value;	/* its value */
	double	 bb_ub;		/* upper bound over the subtrees left */
	long	 bb_nodes;	/* spent on this customer (see
				   FLOW_NODE_LIMIT) */
	long	 bb_start;	/* bb_nodes when this search began */
	long	 bb_budget;	/* this search's nodes */
	long	 bb_limit;	/* FLOW_NODE_LIMIT, or as a test set it */
	int	 bb_hit;	/* this search stopped at its budget */
	int	 bb_root;	/* the next node is a search's first */
	/*
	 * The partition whose rooms are priced (0 channel, 1 campaign, 2
	 * category), its groups and their prices, and the flow's two sides.
	 */
	int	 bb_dual;
	int	 bb_side[2];
	int	*bb_dg;
	int	 bb_ndg;
	double	*bb_mu;		/* per group */

	/*
	 * Two of the three partitions (channel, campaign, category) as the
	 * two sides of a flow: pair_sub over pair_work, whose groups are
	 * this work's and two more, each a side for items with no group of
	 * that partition (no category).
	 */
	struct flow_work *pair_work;
	struct flow_sub	 pair_sub;
	int	*pair_item;	/* pair_sub item -> item */
};

static void	flow_touch(struct flow_work *, int);
static void	flow_prepare(const struct flow_sub *, struct flow_work *);
static void	flow_greedy(struct flow_sub *, int, struct flow_work *);
static int	flow_tightest(const struct flow_sub *, struct flow_work *, int);
static void	flow_add_edge(struct flow_work *, int, int, int, double);
static void	flow_build(const struct flow_sub *, struct flow_work *,
		    const uint8_t *);
static void	flow_ssp(struct flow_work *);
static double	flow_collect(const struct flow_sub *, struct flow_work *,
		    uint8_t *);
static int	flow_reduced(struct flow_sub *, struct flow_work *);
static int	flow_reduced_index(const struct flow_sub *, struct flow_work *);
static void	flow_reduced_direct(const struct flow_sub *, struct flow_work *,
		    int);
static int	flow_reduced_slots(const struct flow_sub *, struct flow_work *);
static void	flow_reduced_thresholds(struct flow_sub *, struct flow_work *);
static void	flow_general(struct flow_sub *, int, struct flow_work *);
static int	flow_order_cmp(const struct flow_sub *, int, int);
static void	flow_slot_min(int *, double *, int *, int, double);
static int	flow_groups(const struct flow_sub *, int, int *);
static int	flow_in_group(const struct flow_sub *, int, int);
static int	flow_nested(const struct flow_sub *, int, int);
static int	flow_bb_fits(const struct flow_sub *, const struct flow_work *,
		    int);
static int	flow_bb_fits_empty(const struct flow_sub *, int);
static double	flow_bb_bound(const struct flow_sub *, struct flow_work *,
		    int);
static int	flow_bb_spent(struct flow_work *);
static void	flow_bb_close(struct flow_work *, double);
static void	flow_bb_count(const struct flow_sub *, int *, int, int);
static void	flow_bb_dfs(const struct flow_sub *, struct flow_work *, int,
		    double, double);
static double	flow_lr_eval(const struct flow_sub *, struct flow_work *);
static void	flow_lr_repair(const struct flow_sub *, struct flow_work *,
		    double);
static double	flow_lr_gradient(const struct flow_sub *, struct flow_work *,
		    int *);
static int	flow_lr_branch(const struct flow_sub *, struct flow_work *,
		    int);
static double	flow_lr(const struct flow_sub *, struct flow_work *,
		    double *, double, int, int *);
static void	flow_lr_clear(struct flow_work *);
static int	flow_lr_fix(const struct flow_sub *, struct flow_work *,
		    double, double *);
static void	flow_bb_order(struct flow_work *);
static void	flow_bb_unfix(const struct flow_sub *, struct flow_work *,
		    int);
static void	flow_bb_node(const struct flow_sub *, struct flow_work *,
		    double, double);
static double	flow_bb_solve(const struct flow_sub *, struct flow_work *,
		    int, int, double, uint8_t *, long);
static double	flow_bb_with(const struct flow_sub *, struct flow_work *, int);
static void	flow_bb_setup(const struct flow_sub *, struct flow_work *);
static void	flow_search_thresholds(struct flow_sub *, struct flow_work *);
static void	flow_search(struct flow_sub *, int, struct flow_work *);
static struct flow_work *flow_work_alloc(int, int, int);
static int	flow_work_groups(struct flow_work *, int);
static int	flow_work_network(struct flow_work *, int, int);
static int	flow_work_search(struct flow_work *, int, int);
static int	flow_work_pair(struct flow_work *, int, int);
static int	flow_part(const struct flow_sub *, int, int);
static int	flow_active(const struct flow_sub *, const struct flow_work *,
		    int);
static double	flow_pair(const struct flow_sub *, struct flow_work *, int,
		    int, const int *, int, int, const double *);

/* Allocate scratch memory for nitems items and ngroups groups. */
struct flow_work *
flow_work_new(int nitems, int ngroups)
{
	return flow_work_alloc(nitems, ngroups, 1);
}

/* Scratch memory, with a pair work inside when pair is set. */
static struct flow_work *
flow_work_alloc(int nitems, int ngroups, int pair)
{
	struct flow_work	*w;

	if ((w = calloc(1, sizeof *w)) == NULL)
		return NULL;
	if (nitems < 1)
		nitems = 1;
	w->nitems = nitems;
	w->ngroups = ngroups;
	w->bb_small = FLOW_BB_SMALL;
	w->bb_limit = FLOW_NODE_LIMIT;
	if (flow_work_groups(w, ngroups) != 0 ||
	    flow_work_network(w, nitems, ngroups) != 0 ||
	    flow_work_search(w, nitems, ngroups) != 0 ||
	    (pair && flow_work_pair(w, nitems, ngroups) != 0)) {
		flow_work_free(w);
		return NULL;
	}
	return w;
}

/* The per-group counters; 0 or -1. */
static int
flow_work_groups(struct flow_work *w, int ngroups)
{
	w->ord = calloc(w->nitems, sizeof *w->ord);
	w->cnt = calloc(ngroups, sizeof *w->cnt);
	w->size = calloc(ngroups, sizeof *w->size);
	w->minsel = calloc(ngroups, sizeof *w->minsel);
	w->gmax = calloc(ngroups, sizeof *w->gmax);
	w->touched = calloc(ngroups, sizeof *w->touched);
	w->mark = calloc(ngroups, sizeof *w->mark);
	w->node = calloc(ngroups, sizeof *w->node);
	w->kind = calloc(ngroups, 1);
	w->gedge = calloc(ngroups, sizeof *w->gedge);
	w->local = calloc(ngroups, sizeof *w->local);
	w->chans = calloc(ngroups, sizeof *w->chans);
	w->camps = calloc(ngroups, sizeof *w->camps);
	if (w->ord == NULL || w->cnt == NULL || w->size == NULL ||
	    w->minsel == NULL || w->gmax == NULL || w->touched == NULL ||
	    w->mark == NULL || w->node == NULL || w->kind == NULL ||
	    w->gedge == NULL || w->local == NULL || w->chans == NULL ||
	    w->camps == NULL)
		return -1;
	return 0;
}

/* The flow network and the reduced graph of flow_reduced; 0 or -1. */
static int
flow_work_network(struct flow_work *w, int nitems, int ngroups)
{
	int	nnodes = ngroups + 3, nedges = 2 * (nitems + ngroups + 2);
	size_t	slots = (size_t)ngroups * (ngroups + 3);

	w->head = calloc(nnodes, sizeof *w->head);
	w->next = calloc(nedges, sizeof *w->next);
	w->to = calloc(nedges, sizeof *w->to);
	w->cap = calloc(nedges, sizeof *w->cap);
	w->cost = calloc(nedges, sizeof *w->cost);
	w->item_edge = calloc(nitems, sizeof *w->item_edge);
	w->dist = calloc(nnodes, sizeof *w->dist);
	w->pred = calloc(nnodes, sizeof *w->pred);
	w->queue = calloc(nnodes, sizeof *w->queue);
	w->inq = calloc(nnodes, sizeof *w->inq);
	w->D = calloc((size_t)nnodes * nnodes, sizeof *w->D);
	w->inc = calloc(slots, sizeof *w->inc);
	w->outc = calloc(slots, sizeof *w->outc);
	w->inc_node = calloc(slots, sizeof *w->inc_node);
	w->outc_node = calloc(slots, sizeof *w->outc_node);
	w->ninc = calloc(ngroups, sizeof *w->ninc);
	w->noutc = calloc(ngroups, sizeof *w->noutc);
	if (w->head == NULL || w->next == NULL || w->to == NULL ||
	    w->cap == NULL || w->cost == NULL || w->item_edge == NULL ||
	    w->dist == NULL || w->pred == NULL || w->queue == NULL ||
	    w->inq == NULL || w->D == NULL || w->inc == NULL ||
	    w->outc == NULL || w->inc_node == NULL || w->outc_node == NULL ||
	    w->ninc == NULL || w->noutc == NULL)
		return -1;
	return 0;
}

/* The branch and bound's arrays; 0 or -1. */
static int
flow_work_search(struct flow_work *w, int nitems, int ngroups)
{
	w->bb_sorted = calloc(nitems, sizeof *w->bb_sorted);
	w->bb_tmp = calloc(ngroups, sizeof *w->bb_tmp);
	w->bb_cnt = calloc(ngroups, sizeof *w->bb_cnt);
	w->bb_dg = calloc(ngroups, sizeof *w->bb_dg);
	w->bb_mu = calloc(ngroups, sizeof *w->bb_mu);
	w->bb_st = calloc(nitems, 1);
	w->bb_best = calloc(nitems, 1);
	w->bb_cur = calloc(nitems, 1);
	w->bb_fix = calloc(nitems, sizeof *w->bb_fix);
	if (w->bb_sorted == NULL || w->bb_tmp == NULL || w->bb_cnt == NULL ||
	    w->bb_dg == NULL || w->bb_mu == NULL || w->bb_st == NULL ||
	    w->bb_best == NULL || w->bb_cur == NULL || w->bb_fix == NULL)
		return -1;
	return 0;
}

/* The two-partition flow the search solves at its nodes; 0 or -1. */
static int
flow_work_pair(struct flow_work *w, int nitems, int ngroups)
{
	struct flow_sub	*ps = &w->pair_sub;

	w->pair_work = flow_work_alloc(nitems, ngroups + 2, 0);
	ps->r = calloc(nitems, sizeof *ps->r);
	ps->t = calloc(nitems, sizeof *ps->t);
	ps->ch = calloc(nitems, sizeof *ps->ch);
	ps->cp = calloc(nitems, sizeof *ps->cp);
	ps->room = calloc(ngroups + 2, sizeof *ps->room);
	ps->sel = calloc(nitems, 1);
	w->pair_item = calloc(nitems, sizeof *w->pair_item);
	if (w->pair_work == NULL || ps->r == NULL || ps->t == NULL ||
	    ps->ch == NULL || ps->cp == NULL || ps->room == NULL ||
	    ps->sel == NULL || w->pair_item == NULL)
		return -1;
	return 0;
}

/* Set the search's depth-first threshold (tests: reach both methods). */
void
flow_work_search_small(struct flow_work *w, int items)
{
	w->bb_small = items;
}

/*
 * Set the search's node limit per customer (tests: reach the limit); at
 * least 1, so that the root's cheap bound is always reached.
 */
void
flow_work_node_limit(struct flow_work *w, long nodes)
{
	w->bb_limit = nodes > 0 ? nodes : 1;
}

/* Nodes the last flow_solve's search spent. */
long
flow_work_nodes(const struct flow_work *w)
{
	return w->bb_nodes;
}

/* Free scratch memory; accepts NULL. */
void
flow_work_free(struct flow_work *w)
{
	if (w == NULL)
		return;
	free(w->ord);
	free(w->cnt);
	free(w->size);
	free(w->minsel);
	free(w->gmax);
	free(w->touched);
	free(w->mark);
	free(w->node);
	free(w->head);
	free(w->next);
	free(w->to);
	free(w->cap);
	free(w->cost);
	free(w->item_edge);
	free(w->dist);
	free(w->kind);
	free(w->gedge);
	free(w->local);
	free(w->chans);
	free(w->camps);
	free(w->D);
	free(w->inc);
	free(w->outc);
	free(w->inc_node);
	free(w->outc_node);
	free(w->ninc);
	free(w->noutc);
	free(w->pred);
	free(w->queue);
	free(w->inq);
	free(w->bb_sorted);
	free(w->bb_tmp);
	free(w->bb_st);
	free(w->bb_best);
	free(w->bb_cur);
	free(w->bb_fix);
	free(w->bb_cnt);
	free(w->bb_dg);
	free(w->bb_mu);
	flow_work_free(w->pair_work);
	free(w->pair_sub.r);
	free(w->pair_sub.t);
	free(w->pair_sub.ch);
	free(w->pair_sub.cp);
	free(w->pair_sub.room);
	free(w->pair_sub.sel);
	free(w->pair_item);
	free(w);
}

/* Reset a group's counters the first time this customer uses it. */
static void
flow_touch(struct flow_work *w, int g)
{
	if (w->mark[g])
		return;
	w->mark[g] = 1;
	w->touched[w->ntouched++] = g;
	w->cnt[g] = 0;
	w->size[g] = 0;
	w->minsel[g] = DBL_MAX;
	w->gmax[g] = -DBL_MAX;
}

/* Reset the per-group counters for s's groups and count group sizes. */
static void
flow_prepare(const struct flow_sub *s, struct flow_work *w)
{
	int	i;

	for (i = 0; i < w->ntouched; i++)
		w->mark[w->touched[i]] = 0;
	w->ntouched = 0;
	flow_touch(w, s->all);
	for (i = 0; i < s->n; i++) {
		flow_touch(w, s->ch[i]);
		flow_touch(w, s->cp[i]);
		w->size[s->ch[i]]++;
		w->size[s->cp[i]]++;
		if (s->cat != NULL && s->cat[i] >= 0) {
			flow_touch(w, s->cat[i]);
			w->size[s->cat[i]]++;
		}
	}
	w->size[s->all] = s->n;
}

/* Item i's groups into gs (channel, campaign, category if any, all). */
static int
flow_groups(const struct flow_sub *s, int i, int *gs)
{
	int	n = 0;

	gs[n++] = s->ch[i];
	gs[n++] = s->cp[i];
	if (s->cat != NULL && s->cat[i] >= 0)
		gs[n++] = s->cat[i];
	gs[n++] = s->all;
	return n;
}

/* 1 if item i is in group g (group numbers never repeat across kinds). */
static int
flow_in_group(const struct flow_sub *s, int i, int g)
{
	return s->ch[i] == g || s->cp[i] == g || g == s->all ||
	    (s->cat != NULL && s->cat[i] == g);
}

/* 1 if group a's items are all in b or b's all in a. */
static int
flow_nested(const struct flow_sub *s, int a, int b)
{
	int	j, a_in_b = 1, b_in_a = 1, ina, inb;

	for (j = 0; j < s->n && (a_in_b || b_in_a); j++) {
		ina = flow_in_group(s, j, a);
		inb = flow_in_group(s, j, b);
		if (ina && !inb)
			a_in_b = 0;
		if (inb && !ina)
			b_in_a = 0;
	}
	return a_in_b || b_in_a;
}

/* Decide laminarity of the groups that can bind; see opt.h. */
int
flow_is_laminar(const struct flow_sub *s, struct flow_work *w)
{
	int	i, a, b, n, gs[4], crossing = 0, category = 0;

	flow_prepare(s, w);
	for (i = 0; i < s->n; i++) {
		n = flow_groups(s, i, gs) - 1;	/* "all" holds everything */
		if (n == 3 && s->room[gs[2]] < w->size[gs[2]])
			category = 1;
		/* One crossing pair decides; only category is left to see. */
		for (a = 0; a < n && !crossing; a++) {
			/* A group whose room covers all its items never binds. */
			if (s->room[gs[a]] >= w->size[gs[a]])
				continue;
			for (b = a + 1; b < n; b++) {
				if (s->room[gs[b]] >= w->size[gs[b]])
					continue;
				if (!flow_nested(s, gs[a], gs[b]))
					crossing = 1;
			}
		}
	}
	if (!crossing)
		return FLOW_LAMINAR;
	return category ? FLOW_SEARCH : FLOW_CROSSING;
}

/* Order of items a and b: larger r first, then lower index (stable). */
static int
flow_order_cmp(const struct flow_sub *s, int a, int b)
{
	if (s->r[a] != s->r[b])
		return s->r[a] > s->r[b] ? -1 : 1;
	return a < b ? -1 : 1;
}

/* Smallest tight group containing item i, or -1. */
static int
flow_tightest(const struct flow_sub *s, struct flow_work *w, int i)
{
	int	g, k, n, best = -1;
	int	gs[4];

	n = flow_groups(s, i, gs);
	for (k = 0; k < n; k++) {
		g = gs[k];
		if (w->cnt[g] < s->room[g])
			continue;
		if (best == -1 || w->size[g] < w->size[best])
			best = g;
	}
	return best;
}

/*
 * Greedy on a laminar matroid, with thresholds from the fundamental
 * circuits: an unchosen item enters when it beats the least chosen item
 * of its smallest tight group; a chosen item leaves when it falls below
 * the best unchosen item whose smallest tight group contains it, or 0.
 */
static void
flow_greedy(struct flow_sub *s, int thresholds, struct flow_work *w)
{
	int	 i, j, k, m, g, q, ng, gs[4];
	double	 t;

	flow_prepare(s, w);
	m = 0;
	for (i = 0; i < s->n; i++) {
		s->sel[i] = 0;
		if (s->r[i] <= 0)
			continue;
		/* Insertion sort: customers have tens of items at most. */
		for (j = m; j > 0 && flow_order_cmp(s, i, w->ord[j - 1]) < 0;
		    j--)
			w->ord[j] = w->ord[j - 1];
		w->ord[j] = i;
		m++;
	}
	s->value = 0;
	for (k = 0; k < m; k++) {
		i = w->ord[k];
		ng = flow_groups(s, i, gs);
		for (q = 0; q < ng; q++)
			if (w->cnt[gs[q]] >= s->room[gs[q]])
				break;
		if (q < ng)
			continue;
		s->sel[i] = 1;
		s->value += s->r[i];
		for (q = 0; q < ng; q++) {
			w->cnt[gs[q]]++;
			if (s->r[i] < w->minsel[gs[q]])
				w->minsel[gs[q]] = s->r[i];
		}
	}
	if (!thresholds)
		return;

	for (i = 0; i < s->n; i++) {
		if (s->sel[i])
			continue;
		g = flow_tightest(s, w, i);
		if (g == -1) {
			s->t[i] = 0;
			continue;
		}
		/* minsel is DBL_MAX when the room is 0: never enters. */
		s->t[i] = w->minsel[g] == DBL_MAX ? HUGE_VAL : w->minsel[g];
		if (s->r[i] > w->gmax[g])
			w->gmax[g] = s->r[i];
	}
	for (i = 0; i < s->n; i++) {
		if (!s->sel[i])
			continue;
		t = 0;
		ng = flow_groups(s, i, gs);
		for (q = 0; q < ng; q++)
			if (w->gmax[gs[q]] > t)
				t = w->gmax[gs[q]];
		s->t[i] = t;
	}
}

/* Add edge a->b and its reverse to the residual graph. */
static void
flow_add_edge(struct flow_work *w, int a, int b, int cap, double cost)
{
	int	e = w->nedges;

	w->to[e] = b;
	w->cap[e] = cap;
	w->cost[e] = cost;
	w->next[e] = w->head[a];
	w->head[a] = e;
	w->to[e + 1] = a;
	w->cap[e + 1] = 0;
	w->cost[e + 1] = -cost;
	w->next[e + 1] = w->head[b];
	w->head[b] = e + 1;
	w->nedges += 2;
}

/*
 * Build the flow network of s: source -> all -> channel -> (item) ->
 * campaign -> sink, with the items of init (may be NULL) already flowing.
 */
static void
flow_build(const struct flow_sub *s, struct flow_work *w, const uint8_t *init)
{
	int	 i, g, u, e, nnodes, allnode = 1, flow = 0;

	nnodes = 2;
	for (i = 0; i < w->ntouched; i++) {
		g = w->touched[i];
		w->node[g] = g == s->all ? allnode : nnodes++;
		w->kind[g] = 0;
	}
	w->src = 0;
	w->sink = nnodes++;
	w->nnodes = nnodes;
	for (u = 0; u < nnodes; u++)
		w->head[u] = -1;
	w->nedges = 0;
	flow_add_edge(w, w->src, allnode, s->room[s->all], 0);
	/* Channel groups hang off the total; campaigns feed the sink. */
	for (i = 0; i < s->n; i++) {
		g = s->ch[i];
		if (w->kind[g] == 0) {
			w->kind[g] = 1;
			w->gedge[g] = w->nedges;
			flow_add_edge(w, allnode, w->node[g], s->room[g], 0);
		}
		g = s->cp[i];
		if (w->kind[g] == 0) {
			w->kind[g] = 2;
			w->gedge[g] = w->nedges;
			flow_add_edge(w, w->node[g], w->sink, s->room[g], 0);
		}
	}
	for (i = 0; i < s->n; i++) {
		w->item_edge[i] = -1;
		if (s->r[i] <= 0)
			continue;
		e = w->item_edge[i] = w->nedges;
		flow_add_edge(w, w->node[s->ch[i]], w->node[s->cp[i]], 1,
		    -s->r[i]);
		if (init == NULL || !init[i])
			continue;
		/* One unit along source, all, channel, item, campaign. */
		w->cap[e] = 0;
		w->cap[e ^ 1] = 1;
		w->cap[w->gedge[s->ch[i]]]--;
		w->cap[w->gedge[s->ch[i]] ^ 1]++;
		w->cap[w->gedge[s->cp[i]]]--;
		w->cap[w->gedge[s->cp[i]] ^ 1]++;
		flow++;
	}
	w->cap[0] -= flow;
	w->cap[1] += flow;
}

/*
 * Successive shortest paths from the current (min-cost) flow until no
 * path of negative cost is left: path costs only grow, so that is the
 * maximum-weight b-matching.
 */
static void
flow_ssp(struct flow_work *w)
{
	int	 u, v, e, qh, qt, n = w->nnodes;
	double	 nd;

	for (;;) {
		for (u = 0; u < n; u++) {
			w->dist[u] = HUGE_VAL;
			w->pred[u] = -1;
			w->inq[u] = 0;
		}
		w->dist[w->src] = 0;
		qh = qt = 0;
		w->queue[qt++] = w->src;
		w->inq[w->src] = 1;
		while (qh != qt) {
			u = w->queue[qh];
			qh = qh + 1 == n ? 0 : qh + 1;
			w->inq[u] = 0;
			for (e = w->head[u]; e != -1; e = w->next[e]) {
				w->scans++;
				if (w->cap[e] <= 0)
					continue;
				v = w->to[e];
				nd = w->dist[u] + w->cost[e];
				if (nd < w->dist[v] - 1e-12) {
					w->dist[v] = nd;
					w->pred[v] = e;
					if (!w->inq[v]) {
						w->inq[v] = 1;
						w->queue[qt] = v;
						qt = qt + 1 == n ? 0 : qt + 1;
					}
				}
			}
		}
		if (w->dist[w->sink] >= -1e-12)
			break;
		/* Capacities are integers, so augment by one unit. */
		for (v = w->sink; v != w->src; v = w->to[e ^ 1]) {
			e = w->pred[v];
			w->cap[e] -= 1;
			w->cap[e ^ 1] += 1;
		}
	}
}

/* Read the chosen items off the flow into sel; returns their value. */
static double
flow_collect(const struct flow_sub *s, struct flow_work *w, uint8_t *sel)
{
	int	 i, e;
	double	 value = 0;

	for (i = 0; i < s->n; i++) {
		e = w->item_edge[i];
		sel[i] = e != -1 && w->cap[e] == 0;
		if (sel[i])
			value += s->r[i];
	}
	return value;
}

/* Lower node x's entry in a slot list (node, cost, n) to c, or add it. */
static void
flow_slot_min(int *node, double *cost, int *n, int x, double c)
{
	int	j;

	for (j = 0; j < *n; j++) {
		if (node[j] == x) {
			if (c < cost[j])
				cost[j] = c;
			return;
		}
	}
	node[j] = x;
	cost[j] = c;
	(*n)++;
}

/*
 * Thresholds and optimality from the residual graph of the choice in
 * s->sel. With a zero-cost edge sink -> source the optimum is a
 * circulation with no negative cycle; an unchosen item u -> v enters when
 * -r + d(v, u) < 0, a chosen one leaves when r + d(u, v) < 0 (d: residual
 * distances). Campaign nodes touch only channels and the sink, and source
 * and "all" only carry zero-cost edges, so all of them are eliminated,
 * leaving the sink and the channels (a handful of nodes) for
 * Floyd-Warshall. Returns -1 if the choice is not optimal
 * (a negative cycle), else 0 with t filled.
 */
static int
flow_reduced(struct flow_sub *s, struct flow_work *w)
{
	int	flow;

	flow = flow_reduced_index(s, w);
	flow_reduced_direct(s, w, flow);
	if (flow_reduced_slots(s, w) != 0)
		return -1;
	flow_reduced_thresholds(s, w);
	return 0;
}

/*
 * Number the customer's channels 1 .. nch (0 is the sink) and campaign
 * slots 0 .. ncp-1 in local, count the chosen items per group; returns the
 * total flow.
 */
static int
flow_reduced_index(const struct flow_sub *s, struct flow_work *w)
{
	int	i, g, flow = 0;

	w->nch = w->ncp = 0;
	for (i = 0; i < w->ntouched; i++) {
		g = w->touched[i];
		w->cnt[g] = 0;
		w->local[g] = -1;
	}
	for (i = 0; i < s->n; i++) {
		if (w->local[s->ch[i]] == -1) {
			w->local[s->ch[i]] = 1 + w->nch;
			w->chans[w->nch++] = s->ch[i];
		}
		if (w->local[s->cp[i]] == -1) {
			w->local[s->cp[i]] = w->ncp;
			w->camps[w->ncp++] = s->cp[i];
		}
		if (s->sel[i]) {
			w->cnt[s->ch[i]]++;
			w->cnt[s->cp[i]]++;
			flow++;
		}
	}
	return flow;
}

/*
 * Source and the "all" node carry only zero-cost edges, so they are
 * eliminated too: channel x reaches channel y through "all" when x has
 * flow to push back and y has room, the sink reaches y through source and
 * "all" when the total has room, x reaches the sink when it has flow.
 * Fills D (K x K, K = 1 + nch, node 0 the sink) with these direct costs.
 */
static void
flow_reduced_direct(const struct flow_sub *s, struct flow_work *w, int flow)
{
	double	*D = w->D;
	int	 K = 1 + w->nch, x, y, q, g;

	for (x = 0; x < K * K; x++)
		D[x] = HUGE_VAL;
	for (x = 0; x < K; x++)
		D[x * K + x] = 0;
	for (q = 0; q < w->nch; q++) {
		g = w->chans[q];
		if (w->cnt[g] < s->room[g]) {
			if (flow < s->room[s->all])
				D[1 + q] = 0;	/* from the sink */
			for (y = 0; y < w->nch; y++)
				if (w->cnt[w->chans[y]] > 0)
					D[(1 + y) * K + 1 + q] = 0;
		}
		if (w->cnt[g] > 0)
			D[(1 + q) * K] = 0;	/* to the sink */
	}
}

/*
 * Campaign slots: the cheapest way into and out of each from each node,
 * the paths through them into D, then all pairs' distances
 * (Floyd-Warshall). -1 on a negative cycle (the choice is not optimal).
 */
static int
flow_reduced_slots(const struct flow_sub *s, struct flow_work *w)
{
	double	*D = w->D, c;
	int	 K = 1 + w->nch, i, g, q, x, y, z, a, b;

	for (q = 0; q < w->ncp; q++) {
		g = w->camps[q];
		w->ninc[q] = w->noutc[q] = 0;
		if (w->cnt[g] > 0)
			flow_slot_min(w->inc_node + q * K, w->inc + q * K,
			    &w->ninc[q], 0, 0);
		if (w->cnt[g] < s->room[g])
			flow_slot_min(w->outc_node + q * K, w->outc + q * K,
			    &w->noutc[q], 0, 0);
	}
	for (i = 0; i < s->n; i++) {
		q = w->local[s->cp[i]];
		x = w->local[s->ch[i]];
		if (s->sel[i])
			flow_slot_min(w->outc_node + q * K, w->outc + q * K,
			    &w->noutc[q], x, s->r[i]);
		else if (s->r[i] > 0)
			flow_slot_min(w->inc_node + q * K, w->inc + q * K,
			    &w->ninc[q], x, -s->r[i]);
	}
	for (q = 0; q < w->ncp; q++)
		for (a = 0; a < w->ninc[q]; a++) {
			x = w->inc_node[q * K + a];
			for (b = 0; b < w->noutc[q]; b++) {
				y = w->outc_node[q * K + b];
				c = w->inc[q * K + a] + w->outc[q * K + b];
				if (c < D[x * K + y])
					D[x * K + y] = c;
			}
		}
	for (z = 0; z < K; z++)
		for (x = 0; x < K; x++) {
			if (D[x * K + z] == HUGE_VAL)
				continue;
			for (y = 0; y < K; y++) {
				c = D[x * K + z] + D[z * K + y];
				if (c < D[x * K + y])
					D[x * K + y] = c;
			}
		}
	for (x = 0; x < K; x++)
		if (D[x * K + x] < -1e-9)
			return -1;
	return 0;
}

/* Each item's threshold from the distances D and the slot lists. */
static void
flow_reduced_thresholds(struct flow_sub *s, struct flow_work *w)
{
	double	*D = w->D, c, best;
	int	 K = 1 + w->nch, i, q, x, y, a, b;

	for (i = 0; i < s->n; i++) {
		q = w->local[s->cp[i]];
		x = w->local[s->ch[i]];
		best = HUGE_VAL;
		if (s->sel[i]) {
			/* Leave: the cheapest way back to its campaign. */
			for (a = 0; a < w->ninc[q]; a++) {
				y = w->inc_node[q * K + a];
				c = D[x * K + y] + w->inc[q * K + a];
				if (c < best)
					best = c;
			}
			s->t[i] = best == HUGE_VAL ? 0 : -best;
		} else {
			/* Enter: the cheapest way from its campaign back. */
			for (b = 0; b < w->noutc[q]; b++) {
				y = w->outc_node[q * K + b];
				c = w->outc[q * K + b] + D[y * K + x];
				if (c < best)
					best = c;
			}
			s->t[i] = best;
		}
		if (s->t[i] < 0)
			s->t[i] = 0;
	}
}

/*
 * General subproblem. Greedy is usually optimal even when groups cross,
 * and the threshold computation proves it; otherwise solve the flow.
 */
static void
flow_general(struct flow_sub *s, int thresholds, struct flow_work *w)
{
	flow_greedy(s, 0, w);
	if (flow_reduced(s, w) == 0)
		return;
	flow_build(s, w, NULL);
	flow_ssp(w);
	s->value = flow_collect(s, w, s->sel);
	if (thresholds && flow_reduced(s, w) != 0) {
		int	i;

		/*
		 * Rounding left a cycle below flow_reduced's tolerance:
		 * each item on its edge (the search then fixes nothing).
		 */
		for (i = 0; i < s->n; i++)
			s->t[i] = s->r[i] > 0 ? s->r[i] : 0;
	}
}

/* Item i's group in partition p (0 channel, 1 campaign, 2 category). */
static int
flow_part(const struct flow_sub *s, int i, int p)
{
	if (p == 0)
		return s->ch[i];
	if (p == 1)
		return s->cp[i];
	return s->cat != NULL ? s->cat[i] : -1;
}

/* 1 if a group of partition p can bind (after flow_prepare). */
static int
flow_active(const struct flow_sub *s, const struct flow_work *w, int p)
{
	int	i, g;

	for (i = 0; i < s->n; i++) {
		g = flow_part(s, i, p);
		if (g >= 0 && s->room[g] < w->size[g])
			return 1;
	}
	return 0;
}

/*
 * Best value of items[0..m) under partitions pa and pb and the "all" room,
 * each less the branch's counts, as a flow with pa's groups on one side and
 * pb's on the other (the third partition left out: exact when it cannot
 * bind, else an upper bound). With prices mu (per group, or NULL), each
 * item's value is less the price of its group in the third partition.
 * Choice and, with thresholds, thresholds in pair_sub, item j for
 * items[j].
 */
static double
flow_pair(const struct flow_sub *s, struct flow_work *w, int pa, int pb,
    const int *items, int m, int thresholds, const double *mu)
{
	struct flow_sub	*ps = &w->pair_sub;
	int		 j, i, g, da = w->ngroups, db = w->ngroups + 1;
	int		 pc = 3 - pa - pb;

	ps->n = m;
	ps->all = s->all;
	ps->cat = NULL;
	ps->room[s->all] = s->room[s->all] - w->cnt[s->all];
	/* Items without a group of a side share one that never binds. */
	ps->room[da] = ps->room[db] = m;
	for (j = 0; j < m; j++) {
		i = items[j];
		w->pair_item[j] = i;
		ps->r[j] = s->r[i];
		if (mu != NULL && (g = flow_part(s, i, pc)) >= 0)
			ps->r[j] -= mu[g];
		g = flow_part(s, i, pa);
		ps->ch[j] = g >= 0 ? g : da;
		if (g >= 0)
			ps->room[g] = s->room[g] - w->cnt[g];
		g = flow_part(s, i, pb);
		ps->cp[j] = g >= 0 ? g : db;
		if (g >= 0)
			ps->room[g] = s->room[g] - w->cnt[g];
	}
	if (m == 0) {
		ps->value = 0;
		return 0;
	}
	flow_general(ps, thresholds, w->pair_work);
	return ps->value;
}

/* 1 if item i fits its groups' rooms on its own. */
static int
flow_bb_fits_empty(const struct flow_sub *s, int i)
{
	int	gs[4], n, q;

	n = flow_groups(s, i, gs);
	for (q = 0; q < n; q++)
		if (s->room[gs[q]] < 1)
			return 0;
	return 1;
}

/* 1 if item i fits the rooms left by the branch's counts. */
static int
flow_bb_fits(const struct flow_sub *s, const struct flow_work *w, int i)
{
	int	gs[4], n, q;

	n = flow_groups(s, i, gs);
	for (q = 0; q < n; q++)
		if (w->cnt[gs[q]] >= s->room[gs[q]])
			return 0;
	return 1;
}

/*
 * Upper bound on what the items ord[d..] add to the branch: the least of
 * three relaxations, each keeping one partition (channels, campaigns or
 * categories) and the "all" room, a laminar matroid that greedy solves
 * exactly.
 */
static double
flow_bb_bound(const struct flow_sub *s, struct flow_work *w, int d)
{
	double	sum[3] = { 0, 0, 0 }, best;
	int	nall[3] = { 0, 0, 0 }, left, k, end, i, p, g, open;

	left = s->room[s->all] - w->cnt[s->all];
	for (k = d; k < w->bb_m; k++) {
		i = w->ord[k];
		open = 0;
		for (p = 0; p < 3; p++) {
			if (nall[p] >= left)
				continue;
			open = 1;
			g = p == 0 ? s->ch[i] : p == 1 ? s->cp[i] :
			    s->cat != NULL ? s->cat[i] : -1;
			if (g >= 0) {
				if (w->cnt[g] + w->bb_tmp[g] >= s->room[g])
					continue;
				w->bb_tmp[g]++;
			}
			nall[p]++;
			sum[p] += s->r[i];
		}
		if (!open)
			break;
	}
	end = k < w->bb_m ? k + 1 : w->bb_m;
	for (k = d; k < end; k++) {
		i = w->ord[k];
		w->bb_tmp[s->ch[i]] = w->bb_tmp[s->cp[i]] = 0;
		if (s->cat != NULL && s->cat[i] >= 0)
			w->bb_tmp[s->cat[i]] = 0;
	}
	best = sum[0];
	if (sum[1] < best)
		best = sum[1];
	if (sum[2] < best)
		best = sum[2];
	return best;
}

/*
 * A plan with item i forced in, from the optimum in s->sel: i added, then
 * in each of i's groups over its room the least valuable others dropped.
 * Returns the value of the others (a floor for flow_bb_solve); i fits.
 */
static double
flow_bb_with(const struct flow_sub *s, struct flow_work *w, int i)
{
	uint8_t	*keep = w->bb_best;
	int	 gs[4], hs[4], n, m, q, x, j, least;
	double	 value = 0;

	for (j = 0; j < s->n; j++) {
		keep[j] = s->sel[j] || j == i;
		if (!keep[j])
			continue;
		m = flow_groups(s, j, hs);
		for (q = 0; q < m; q++)
			w->bb_tmp[hs[q]]++;
	}
	n = flow_groups(s, i, gs);
	for (q = 0; q < n; q++) {
		while (w->bb_tmp[gs[q]] > s->room[gs[q]]) {
			least = -1;
			for (j = 0; j < s->n; j++)
				if (keep[j] && j != i &&
				    flow_in_group(s, j, gs[q]) &&
				    (least == -1 || s->r[j] < s->r[least]))
					least = j;
			keep[least] = 0;
			m = flow_groups(s, least, hs);
			for (x = 0; x < m; x++)
				w->bb_tmp[hs[x]]--;
		}
	}
	for (j = 0; j < s->n; j++) {
		m = flow_groups(s, j, hs);
		for (q = 0; q < m; q++)
			w->bb_tmp[hs[q]] = 0;
		if (keep[j] && j != i)
			value += s->r[j];
	}
	return value;
}

/* 1 if the search has spent its budget of nodes; then it stops branching. */
static int
flow_bb_spent(struct flow_work *w)
{
	if (w->bb_nodes - w->bb_start >= w->bb_budget)
		w->bb_hit = 1;
	return w->bb_hit;
}

/*
 * A subtree left with upper bound b on its plans (pruned, solved, or left
 * open at the node limit): the search's bound must cover it.
 */
static void
flow_bb_close(struct flow_work *w, double b)
{
	if (b > w->bb_ub)
		w->bb_ub = b;
}

/* Depth-first search over ord[d..], taking each item before leaving it. */
static void
flow_bb_dfs(const struct flow_sub *s, struct flow_work *w, int d,
    double value, double bound)
{
	int	i, gs[4], n, q;
	double	b;

	if (value > w->bb_value + FLOW_EPS) {
		w->bb_value = value;
		for (i = 0; i < s->n; i++)
			w->bb_best[i] = w->bb_st[i] == 1;
	}
	if (d == w->bb_m || w->cnt[s->all] >= s->room[s->all]) {
		flow_bb_close(w, value);
		return;
	}
	if (flow_bb_spent(w)) {
		flow_bb_close(w, bound);
		return;
	}
	w->bb_nodes++;
	b = value + flow_bb_bound(s, w, d);
	if (b < bound)
		bound = b;
	if (bound <= w->bb_value + FLOW_EPS) {
		flow_bb_close(w, bound);
		return;
	}
	i = w->ord[d];
	if (flow_bb_fits(s, w, i)) {
		n = flow_groups(s, i, gs);
		for (q = 0; q < n; q++)
			w->cnt[gs[q]]++;
		w->bb_st[i] = 1;
		flow_bb_dfs(s, w, d + 1, value + s->r[i], bound);
		w->bb_st[i] = 0;
		for (q = 0; q < n; q++)
			w->cnt[gs[q]]--;
	}
	flow_bb_dfs(s, w, d + 1, value, bound);
}

/*
 * The flow over the node's free items at prices bb_mu on the rooms of
 * partition bb_dual, which it leaves out: its value plus mu * room left
 * of each priced group bounds the node's free items (weak duality, for
 * any mu >= 0). The flow's choice per priced group is counted in bb_tmp;
 * its thresholds (for flow_lr_fix) are in pair_sub.
 */
static double
flow_lr_eval(const struct flow_sub *s, struct flow_work *w)
{
	const struct flow_sub	*ps = &w->pair_sub;
	double			 v;
	long			 scans = w->pair_work->scans;
	int			 j, k, g;

	v = flow_pair(s, w, w->bb_side[0], w->bb_side[1], w->ord, w->bb_m, 1,
	    w->bb_mu);
	w->bb_nodes += FLOW_NODE_FLOW +
	    (w->pair_work->scans - scans) / FLOW_NODE_SCANS;
	for (k = 0; k < w->bb_ndg; k++) {
		g = w->bb_dg[k];
		v += w->bb_mu[g] * (s->room[g] - w->cnt[g]);
	}
	for (j = 0; j < ps->n; j++) {
		g = flow_part(s, w->ord[j], w->bb_dual);
		if (ps->sel[j] && g >= 0)
			w->bb_tmp[g]++;
	}
	return v;
}

/*
 * The last flow's choice as a plan of the node: the least valuable items
 * of each over-full priced group dropped, then the free items that still
 * fit added by value. Kept as the incumbent if better.
 */
static void
flow_lr_repair(const struct flow_sub *s, struct flow_work *w, double fixed)
{
	const struct flow_sub	*ps = &w->pair_sub;
	int			 i, j, k, g, n, gs[4];
	double			 value = fixed;

	for (k = 0; k < w->ntouched; k++)
		w->bb_cnt[w->touched[k]] = w->cnt[w->touched[k]];
	for (j = 0; j < ps->n; j++)
		if ((w->bb_cur[j] = ps->sel[j]) != 0)
			flow_bb_count(s, w->bb_cnt, w->ord[j], 1);
	for (j = ps->n - 1; j >= 0; j--) {
		g = flow_part(s, w->ord[j], w->bb_dual);
		if (w->bb_cur[j] && g >= 0 && w->bb_cnt[g] > s->room[g]) {
			w->bb_cur[j] = 0;
			flow_bb_count(s, w->bb_cnt, w->ord[j], -1);
		}
	}
	for (j = 0; j < ps->n; j++) {
		i = w->ord[j];
		if (!w->bb_cur[j]) {
			n = flow_groups(s, i, gs);
			for (k = 0; k < n; k++)
				if (w->bb_cnt[gs[k]] >= s->room[gs[k]])
					break;
			if (k < n)
				continue;
			w->bb_cur[j] = 1;
			flow_bb_count(s, w->bb_cnt, i, 1);
		}
		value += s->r[i];
	}
	if (value <= w->bb_value + FLOW_EPS)
		return;
	w->bb_value = value;
	for (i = 0; i < s->n; i++)
		w->bb_best[i] = w->bb_st[i] == 1;
	for (j = 0; j < ps->n; j++)
		if (w->bb_cur[j])
			w->bb_best[w->ord[j]] = 1;
}

/*
 * Subgradient of the last flow's bound in the prices (chosen less room
 * per priced group, projected where mu is 0) into bb_tmp, replacing the
 * counts; returns its squared norm, 0 when the flow's choice meets every
 * priced room and fills each priced one (complementary slackness: the
 * bound is then the choice's value, the node's optimum). *over is set to
 * the most over-full priced group, or -1.
 */
static double
flow_lr_gradient(const struct flow_sub *s, struct flow_work *w, int *over)
{
	double	norm = 0;
	int	k, g, d, most = 0;

	*over = -1;
	for (k = 0; k < w->bb_ndg; k++) {
		g = w->bb_dg[k];
		d = w->bb_tmp[g] - (s->room[g] - w->cnt[g]);
		if (d > most) {
			most = d;
			*over = g;
		}
		if (d < 0 && w->bb_mu[g] <= 0)
			d = 0;
		w->bb_tmp[g] = d;
		norm += (double)d * d;
	}
	return norm;
}

/*
 * The item to branch on from the last flow's choice: the least valuable
 * chosen item of the over-full group over, or with none, of a priced group
 * left with room and a price; -1 if neither.
 */
static int
flow_lr_branch(const struct flow_sub *s, struct flow_work *w, int over)
{
	const struct flow_sub	*ps = &w->pair_sub;
	int			 j, g;

	for (j = ps->n - 1; j >= 0; j--) {
		if (!ps->sel[j])
			continue;
		g = flow_part(s, w->ord[j], w->bb_dual);
		if (g < 0)
			continue;
		if (over >= 0 ? g == over : w->bb_tmp[g] < 0)
			return w->ord[j];
	}
	return -1;
}

/*
 * Lagrangian bound of a node (taken items worth *fixed) over flows, its
 * prices moved by steps subgradient steps from where the last node left
 * them (Polyak's step toward the incumbent, halved when the bound stops
 * falling). Every flow's choice, repaired, is a candidate incumbent, and
 * its reduced costs fix items (flow_lr_fix: *fixed grows with the items
 * taken; the caller undoes them). Returns the node's bound (at most
 * bound); *branch is the free item to branch on, or -1 when the node is
 * closed: its bound is no better than the incumbent, or the choice is the
 * node's optimum, or the budget is spent, or fixing closed it (then
 * -HUGE_VAL: flow_lr_fix has closed each part at its own bound).
 */
static double
flow_lr(const struct flow_sub *s, struct flow_work *w, double *fixed,
    double bound, int steps, int *branch)
{
	double	L, norm, step, theta = FLOW_LR_THETA;
	int	it, k, g, over, worse = 0;

	*branch = -1;
	for (it = 0; it < steps && !flow_bb_spent(w); it++) {
		L = *fixed + flow_lr_eval(s, w);
		flow_lr_repair(s, w, *fixed);
		norm = flow_lr_gradient(s, w, &over);
		if (L < bound) {
			bound = L;
			*branch = flow_lr_branch(s, w, over);
			worse = 0;
		} else if (++worse == 2) {
			theta /= 2;
			worse = 0;
		}
		if (norm == 0 || bound <= w->bb_value + FLOW_EPS) {
			flow_lr_clear(w);
			*branch = -1;
			return bound;
		}
		if (flow_lr_fix(s, w, L, fixed) != 0) {
			flow_lr_clear(w);
			*branch = -1;
			return -HUGE_VAL;	/* closed as it fixed */
		}
		step = theta * (L - w->bb_value) / norm;
		for (k = 0; k < w->bb_ndg; k++) {
			g = w->bb_dg[k];
			w->bb_mu[g] += step * w->bb_tmp[g];
			if (w->bb_mu[g] < 0)
				w->bb_mu[g] = 0;
		}
		flow_lr_clear(w);
	}
	if (*branch >= 0 && w->bb_st[*branch] != 0)
		*branch = -1;	/* fixed since */
	if (*branch == -1 && !w->bb_hit && w->bb_m > 0)
		*branch = w->ord[w->bb_m - 1];
	return bound;
}

/*
 * Reduced-cost fixing from the last flow, whose bound is L: an item's
 * threshold in the flow is what forcing it the other way costs the
 * bound. A chosen item without which the bound is no better than the
 * incumbent is taken; an unchosen one with which it is no better is left
 * out (the subtrees given up close at those bounds). Fixed items go on
 * bb_fix; ord is rebuilt. Returns 1 if that closes the node: an item to
 * take does not fit (a priced room is full), or no free item is left.
 */
static int
flow_lr_fix(const struct flow_sub *s, struct flow_work *w, double L,
    double *fixed)
{
	const struct flow_sub	*ps = &w->pair_sub;
	double			 other;
	int			 j, i, nfix = w->bb_nfix;

	for (j = 0; j < ps->n; j++) {
		i = w->ord[j];
		other = ps->sel[j] ? L - (ps->r[j] - ps->t[j]) :
		    L - (ps->t[j] - ps->r[j]);
		if (!(other <= w->bb_value + FLOW_EPS))
			continue;
		flow_bb_close(w, other);
		if (ps->sel[j] && !flow_bb_fits(s, w, i))
			return 1;
		w->bb_fix[w->bb_nfix++] = i;
		w->bb_st[i] = ps->sel[j] ? 1 : 2;
		if (ps->sel[j]) {
			flow_bb_count(s, w->cnt, i, 1);
			*fixed += s->r[i];
		}
	}
	if (w->bb_nfix == nfix)
		return 0;
	flow_bb_order(w);
	if (w->bb_m > 0)
		return 0;
	/* All fixed: the taken items are the node's one plan. */
	if (*fixed > w->bb_value + FLOW_EPS) {
		w->bb_value = *fixed;
		for (i = 0; i < s->n; i++)
			w->bb_best[i] = w->bb_st[i] == 1;
	}
	flow_bb_close(w, *fixed);
	return 1;
}

/* The free items by decreasing r into ord (bb_m of them). */
static void
flow_bb_order(struct flow_work *w)
{
	int	k, m = 0;

	for (k = 0; k < w->bb_npos; k++)
		if (w->bb_st[w->bb_sorted[k]] == 0)
			w->ord[m++] = w->bb_sorted[k];
	w->bb_m = m;
}

/* Undo the fixings above bb_fix[top]. */
static void
flow_bb_unfix(const struct flow_sub *s, struct flow_work *w, int top)
{
	int	i;

	while (w->bb_nfix > top) {
		i = w->bb_fix[--w->bb_nfix];
		if (w->bb_st[i] == 1)
			flow_bb_count(s, w->cnt, i, -1);
		w->bb_st[i] = 0;
	}
}

/* Zero bb_tmp on the priced groups. */
static void
flow_lr_clear(struct flow_work *w)
{
	int	k;

	for (k = 0; k < w->bb_ndg; k++)
		w->bb_tmp[w->bb_dg[k]] = 0;
}

/* Add d to the counts (per group) of item i's groups. */
static void
flow_bb_count(const struct flow_sub *s, int *cnt, int i, int d)
{
	int	gs[4], n, q;

	n = flow_groups(s, i, gs);
	for (q = 0; q < n; q++)
		cnt[gs[q]] += d;
}

/*
 * One node of the search, the items of status 1 taken (worth fixed) and
 * of status 2 left out; bound is an upper bound on its plans (the
 * parent's). Few free items: depth first. Otherwise the Lagrangian bound
 * over flows, and a branch on the item it names: leave it out, then take
 * it.
 */
static void
flow_bb_node(const struct flow_sub *s, struct flow_work *w, double fixed,
    double bound)
{
	double	b;
	int	i, top, steps;

	flow_bb_order(w);
	if (w->bb_m <= w->bb_small) {
		flow_bb_dfs(s, w, 0, fixed, bound);
		return;
	}
	if (flow_bb_spent(w)) {
		flow_bb_close(w, bound);
		return;
	}
	w->bb_nodes++;
	b = fixed + flow_bb_bound(s, w, 0);
	if (b < bound)
		bound = b;
	if (bound <= w->bb_value + FLOW_EPS) {
		flow_bb_close(w, bound);
		return;
	}
	steps = w->bb_root ? FLOW_LR_ROOT : FLOW_LR_STEPS;
	w->bb_root = 0;
	top = w->bb_nfix;
	bound = flow_lr(s, w, &fixed, bound, steps, &i);
	if (i < 0)
		flow_bb_close(w, bound);
	else {
		w->bb_st[i] = 2;
		flow_bb_node(s, w, fixed, bound);
		if (flow_bb_fits(s, w, i)) {
			flow_bb_count(s, w->cnt, i, 1);
			w->bb_st[i] = 1;
			flow_bb_node(s, w, fixed + s->r[i], bound);
			flow_bb_count(s, w->cnt, i, -1);
		}
		w->bb_st[i] = 0;
	}
	flow_bb_unfix(s, w, top);
}

/*
 * Best value found of the positive items but skip and force (-1: none)
 * with force taken, not counting force's r, within budget nodes; its
 * choice into sel when not NULL (then floor must be 0). floor is a value
 * some such plan reaches: the search keeps only better ones. -HUGE_VAL
 * when force does not fit at all. The search's upper bound is left in
 * bb_ub, and bb_hit says whether it stopped at the budget.
 */
static double
flow_bb_solve(const struct flow_sub *s, struct flow_work *w, int skip,
    int force, double floor, uint8_t *sel, long budget)
{
	int	i;

	for (i = 0; i < w->ntouched; i++)
		w->cnt[w->touched[i]] = 0;
	memset(w->bb_st, 0, s->n);
	w->bb_ub = -HUGE_VAL;
	w->bb_hit = 0;
	w->bb_nfix = 0;
	w->bb_start = w->bb_nodes;
	w->bb_budget = budget;
	if (force >= 0) {
		if (!flow_bb_fits_empty(s, force))
			return w->bb_ub;
		flow_bb_count(s, w->cnt, force, 1);
		w->bb_st[force] = 2;	/* counted, valued by the caller */
	}
	if (skip >= 0)
		w->bb_st[skip] = 2;
	memset(w->bb_best, 0, s->n);
	w->bb_value = floor > 0 ? floor : 0;
	flow_bb_node(s, w, 0, HUGE_VAL);
	if (w->bb_ub < w->bb_value)
		w->bb_ub = w->bb_value;
	if (sel != NULL)
		memcpy(sel, w->bb_best, s->n);
	return w->bb_value;
}

/*
 * Choose the partition the search prices (the one with the fewest groups
 * that can bind: the fewest prices to find) and the flow's two sides (the
 * one with fewer groups first: the channel side, whose nodes
 * flow_reduced's Floyd-Warshall runs over); list the priced groups in
 * bb_dg with price 0.
 */
static void
flow_bb_setup(const struct flow_sub *s, struct flow_work *w)
{
	int	i, p, g, binding[3], groups[3], a, b;

	for (p = 0; p < 3; p++) {
		binding[p] = groups[p] = 0;
		for (i = 0; i < s->n; i++) {
			if ((g = flow_part(s, i, p)) < 0 || w->bb_tmp[g])
				continue;
			w->bb_tmp[g] = 1;
			groups[p]++;
			binding[p] += s->room[g] < w->size[g];
		}
		for (i = 0; i < s->n; i++)
			if ((g = flow_part(s, i, p)) >= 0)
				w->bb_tmp[g] = 0;
	}
	w->bb_dual = 2;
	for (p = 1; p >= 0; p--)
		if (binding[p] < binding[w->bb_dual])
			w->bb_dual = p;
	a = (w->bb_dual + 1) % 3;
	b = (w->bb_dual + 2) % 3;
	w->bb_side[0] = groups[a] <= groups[b] ? a : b;
	w->bb_side[1] = groups[a] <= groups[b] ? b : a;
	w->bb_ndg = 0;
	for (i = 0; i < s->n; i++) {
		if ((g = flow_part(s, i, w->bb_dual)) < 0 || w->bb_tmp[g])
			continue;
		w->bb_tmp[g] = 1;
		w->bb_mu[g] = 0;
		w->bb_dg[w->bb_ndg++] = g;
	}
	flow_lr_clear(w);
}

/*
 * Thresholds of a searched customer, each from one more search: the best
 * value without the item and the best with it (t = without - (with - r)),
 * from the plan's value (chosen) and the floors these plans reach. The
 * searches share what is left of twice the node limit, each at most half
 * of it: most need little, a few much. One that stops at its share gives
 * the best it found, so t is then a guess. They start from the prices the
 * last search left: the customer barely changes, so few steps move them.
 */
static void
flow_search_thresholds(struct flow_sub *s, struct flow_work *w)
{
	long	left;
	double	other;
	int	i;

	for (i = 0; i < s->n; i++) {
		left = 2 * w->bb_limit - w->bb_nodes;
		w->bb_root = 0;
		if (s->sel[i]) {
			/* The optimum without i is a plan without i. */
			other = flow_bb_solve(s, w, i, -1,
			    s->chosen - s->r[i], NULL, left / 2);
			s->t[i] = other - (s->chosen - s->r[i]);
		} else if (flow_bb_fits_empty(s, i)) {
			other = flow_bb_solve(s, w, -1, i,
			    flow_bb_with(s, w, i), NULL, left / 2);
			s->t[i] = s->chosen - other;
		} else
			s->t[i] = HUGE_VAL;	/* a room of 0: never in */
		if (s->t[i] < 0)
			s->t[i] = 0;
	}
}

/*
 * A subproblem with a category that can bind across the other groups:
 * a flow when at most two partitions can bind, else branch and bound
 * within the node limit (value its upper bound, chosen the plan's value).
 */
static void
flow_search(struct flow_sub *s, int thresholds, struct flow_work *w)
{
	int	i, j, m = 0, p, np = 0, side[3];

	flow_prepare(s, w);
	s->exact = 1;
	/*
	 * With at most two partitions that can bind (categories and
	 * campaigns, say, the channels uncapped) the flow is exact.
	 */
	for (p = 0; p < 3; p++)
		if (flow_active(s, w, p))
			side[np++] = p;
	if (np <= 2) {
		for (p = 0; p < 3 && np < 2; p++)
			if (!flow_active(s, w, p))
				side[np++] = p;
		for (i = 0; i < s->n; i++)
			w->ord[i] = i;
		s->value = flow_pair(s, w, side[0], side[1], w->ord, s->n,
		    thresholds, NULL);
		s->chosen = s->value;
		for (i = 0; i < s->n; i++) {
			s->sel[i] = w->pair_sub.sel[i];
			if (thresholds)
				s->t[i] = w->pair_sub.t[i];
		}
		return;
	}
	for (i = 0; i < s->n; i++) {
		if (s->r[i] <= 0)
			continue;
		for (j = m; j > 0 && flow_order_cmp(s, i,
		    w->bb_sorted[j - 1]) < 0; j--)
			w->bb_sorted[j] = w->bb_sorted[j - 1];
		w->bb_sorted[j] = i;
		m++;
	}
	w->bb_npos = m;
	flow_bb_setup(s, w);
	w->bb_root = 1;
	s->chosen = flow_bb_solve(s, w, -1, -1, 0, s->sel, w->bb_limit);
	s->value = w->bb_ub;
	s->exact = !w->bb_hit;
	if (thresholds)
		flow_search_thresholds(s, w);
}

/* Solve one subproblem (exactly but at the node limit); see opt.h. */
void
flow_solve(struct flow_sub *s, int laminar, int thresholds,
    struct flow_work *w)
{
	w->bb_nodes = 0;
	if (laminar == FLOW_SEARCH) {
		flow_search(s, thresholds, w);
		return;
	}
	if (laminar)
		flow_greedy(s, thresholds, w);
	else
		flow_general(s, thresholds, w);
	s->chosen = s->value;
	s->exact = 1;
}

/* Enumerate every subset; for tests against the fast solvers. */
double
flow_brute(const struct flow_sub *s, uint8_t *sel)
{
	uint32_t	 mask, best_mask = 0;
	double		 best = 0, v;
	int		 i, ok, q, n, gs[4], cnt[256], ng;

	ng = s->all + 1;
	if (s->n > 20 || ng > 256) {
		/* Not for big customers; callers keep n small. */
		memset(sel, 0, s->n);
		return -1;
	}
	for (mask = 1; mask < (1U << s->n); mask++) {
		memset(cnt, 0, sizeof cnt);
		v = 0;
		ok = 1;
		for (i = 0; i < s->n && ok; i++) {
			if (!(mask & (1U << i)))
				continue;
			v += s->r[i];
			n = flow_groups(s, i, gs);
			for (q = 0; q < n; q++)
				if (++cnt[gs[q]] > s->room[gs[q]])
					ok = 0;
		}
		if (ok && v > best + 1e-12) {
			best = v;
			best_mask = mask;
		}
	}
	for (i = 0; i < s->n; i++)
		sel[i] = (best_mask >> i) & 1;
	return best;
}
