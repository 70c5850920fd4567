/*
 * One customer's subproblem at given prices, solved exactly.
 *
 * Each item (candidate pair) belongs to one channel group, one campaign
 * group and the "all" group, each with a room. When the groups that can
 * bind are laminar the feasible sets form a laminar matroid and greedy by
 * value is optimal; when a campaign crosses channels it is a bipartite
 * b-matching (item = edge from its channel node to its campaign node, with
 * the total cap on the source side), solved by successive shortest paths.
 * Exactness matters: the Lagrangian dual value is a certified upper bound
 * only if every subproblem is solved to optimality.
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
	uint8_t	*kind;		/* per group: 1 channel node, 2 campaign */
	int	*gedge;		/* per group: its edge to or from its node */
	int	*local;		/* per group: reduced node or campaign slot */
	int	*chans;		/* channel groups of this customer */
	int	*camps;		/* campaign groups of this customer */
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
static void	flow_general(struct flow_sub *, int, struct flow_work *);
static int	flow_order_cmp(const struct flow_sub *, int, int);
static void	flow_slot_min(int *, double *, int *, int, double);

/* Allocate scratch memory for nitems items and ngroups groups. */
struct flow_work *
flow_work_new(int nitems, int ngroups)
{
	struct flow_work	*w;
	int			 nnodes, nedges;

	if ((w = calloc(1, sizeof *w)) == NULL)
		return (NULL);
	if (nitems < 1)
		nitems = 1;
	w->nitems = nitems;
	w->ngroups = ngroups;
	nnodes = ngroups + 3;
	nedges = 2 * (nitems + ngroups + 2);
	w->ord = calloc(nitems, sizeof *w->ord);
	w->cnt = calloc(ngroups, sizeof *w->cnt);
	w->size = calloc(ngroups, sizeof *w->size);
	w->minsel = calloc(ngroups, sizeof *w->minsel);
	w->gmax = calloc(ngroups, sizeof *w->gmax);
	w->touched = calloc(ngroups, sizeof *w->touched);
	w->mark = calloc(ngroups, sizeof *w->mark);
	w->node = calloc(ngroups, sizeof *w->node);
	w->head = calloc(nnodes, sizeof *w->head);
	w->next = calloc(nedges, sizeof *w->next);
	w->to = calloc(nedges, sizeof *w->to);
	w->cap = calloc(nedges, sizeof *w->cap);
	w->cost = calloc(nedges, sizeof *w->cost);
	w->item_edge = calloc(nitems, sizeof *w->item_edge);
	w->dist = calloc(nnodes, sizeof *w->dist);
	w->kind = calloc(ngroups, 1);
	w->gedge = calloc(ngroups, sizeof *w->gedge);
	w->local = calloc(ngroups, sizeof *w->local);
	w->chans = calloc(ngroups, sizeof *w->chans);
	w->camps = calloc(ngroups, sizeof *w->camps);
	w->D = calloc((size_t)(ngroups + 3) * (ngroups + 3), sizeof *w->D);
	w->inc = calloc((size_t)ngroups * (ngroups + 3), sizeof *w->inc);
	w->outc = calloc((size_t)ngroups * (ngroups + 3), sizeof *w->outc);
	w->inc_node = calloc((size_t)ngroups * (ngroups + 3),
	    sizeof *w->inc_node);
	w->outc_node = calloc((size_t)ngroups * (ngroups + 3),
	    sizeof *w->outc_node);
	w->ninc = calloc(ngroups, sizeof *w->ninc);
	w->noutc = calloc(ngroups, sizeof *w->noutc);
	w->pred = calloc(nnodes, sizeof *w->pred);
	w->queue = calloc(nnodes, sizeof *w->queue);
	w->inq = calloc(nnodes, sizeof *w->inq);
	if (w->ord == NULL || w->cnt == NULL || w->size == NULL ||
	    w->minsel == NULL || w->gmax == NULL || w->touched == NULL ||
	    w->mark == NULL || w->node == NULL ||
	    w->head == NULL || w->next == NULL || w->to == NULL ||
	    w->cap == NULL || w->cost == NULL || w->item_edge == NULL ||
	    w->dist == NULL || w->kind == NULL || w->gedge == NULL ||
	    w->local == NULL || w->chans == NULL || w->camps == NULL ||
	    w->D == NULL || w->inc == NULL || w->outc == NULL ||
	    w->inc_node == NULL || w->outc_node == NULL || w->ninc == NULL ||
	    w->noutc == NULL ||
	    w->pred == NULL || w->queue == NULL ||
	    w->inq == NULL) {
		flow_work_free(w);
		return (NULL);
	}
	return (w);
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
	}
	w->size[s->all] = s->n;
}

/* Decide laminarity of the groups that can bind. */
int
flow_is_laminar(const struct flow_sub *s, struct flow_work *w)
{
	int	i, j, chg, cpg, ch_in_cp, cp_in_ch;

	flow_prepare(s, w);
	for (i = 0; i < s->n; i++) {
		chg = s->ch[i];
		cpg = s->cp[i];
		/* A group whose room covers all its items never binds. */
		if (s->room[chg] >= w->size[chg] ||
		    s->room[cpg] >= w->size[cpg])
			continue;
		ch_in_cp = cp_in_ch = 1;
		for (j = 0; j < s->n; j++) {
			if (s->ch[j] == chg && s->cp[j] != cpg)
				ch_in_cp = 0;
			if (s->cp[j] == cpg && s->ch[j] != chg)
				cp_in_ch = 0;
		}
		if (!ch_in_cp && !cp_in_ch)
			return (0);
	}
	return (1);
}

/* Order of items a and b: larger r first, then lower index (stable). */
static int
flow_order_cmp(const struct flow_sub *s, int a, int b)
{
	if (s->r[a] != s->r[b])
		return (s->r[a] > s->r[b] ? -1 : 1);
	return (a < b ? -1 : 1);
}

/* Smallest tight group containing item i, or -1. */
static int
flow_tightest(const struct flow_sub *s, struct flow_work *w, int i)
{
	int	g, k, best = -1;
	int	gs[3];

	gs[0] = s->ch[i];
	gs[1] = s->cp[i];
	gs[2] = s->all;
	for (k = 0; k < 3; k++) {
		g = gs[k];
		if (w->cnt[g] < s->room[g])
			continue;
		if (best == -1 || w->size[g] < w->size[best])
			best = g;
	}
	return (best);
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
	int	 i, j, k, m, g, chg, cpg;
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
		chg = s->ch[i];
		cpg = s->cp[i];
		if (w->cnt[chg] >= s->room[chg] ||
		    w->cnt[cpg] >= s->room[cpg] ||
		    w->cnt[s->all] >= s->room[s->all])
			continue;
		s->sel[i] = 1;
		w->cnt[chg]++;
		w->cnt[cpg]++;
		w->cnt[s->all]++;
		s->value += s->r[i];
		if (s->r[i] < w->minsel[chg])
			w->minsel[chg] = s->r[i];
		if (s->r[i] < w->minsel[cpg])
			w->minsel[cpg] = s->r[i];
		if (s->r[i] < w->minsel[s->all])
			w->minsel[s->all] = s->r[i];
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
		if (w->gmax[s->ch[i]] > t)
			t = w->gmax[s->ch[i]];
		if (w->gmax[s->cp[i]] > t)
			t = w->gmax[s->cp[i]];
		if (w->gmax[s->all] > t)
			t = w->gmax[s->all];
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
	return (value);
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
	enum { T };
	int	 i, g, q, x, y, z, a, b, K, nch = 0, ncp = 0, flow = 0;
	double	*D = w->D, c, best;

	for (i = 0; i < w->ntouched; i++) {
		g = w->touched[i];
		w->cnt[g] = 0;
		w->local[g] = -1;
	}
	for (i = 0; i < s->n; i++) {
		if (w->local[s->ch[i]] == -1) {
			w->local[s->ch[i]] = 1 + nch;
			w->chans[nch++] = s->ch[i];
		}
		if (w->local[s->cp[i]] == -1) {
			w->local[s->cp[i]] = ncp;
			w->camps[ncp++] = s->cp[i];
		}
		if (s->sel[i]) {
			w->cnt[s->ch[i]]++;
			w->cnt[s->cp[i]]++;
			flow++;
		}
	}
	/*
	 * Source and the "all" node carry only zero-cost edges, so they are
	 * eliminated too: channel x reaches channel y through "all" when x
	 * has flow to push back and y has room, the sink reaches y through
	 * source and "all" when the total has room, x reaches the sink when
	 * it has flow.
	 */
	K = 1 + nch;
	for (x = 0; x < K * K; x++)
		D[x] = HUGE_VAL;
	for (x = 0; x < K; x++)
		D[x * K + x] = 0;
	for (q = 0; q < nch; q++) {
		g = w->chans[q];
		if (w->cnt[g] < s->room[g]) {
			if (flow < s->room[s->all])
				D[T * K + 1 + q] = 0;
			for (y = 0; y < nch; y++)
				if (w->cnt[w->chans[y]] > 0)
					D[(1 + y) * K + 1 + q] = 0;
		}
		if (w->cnt[g] > 0)
			D[(1 + q) * K + T] = 0;
	}
	/* Campaign slots: cheapest way in from, and out to, each node. */
	for (q = 0; q < ncp; q++) {
		g = w->camps[q];
		w->ninc[q] = w->noutc[q] = 0;
		if (w->cnt[g] > 0)
			flow_slot_min(w->inc_node + q * K, w->inc + q * K,
			    &w->ninc[q], T, 0);
		if (w->cnt[g] < s->room[g])
			flow_slot_min(w->outc_node + q * K, w->outc + q * K,
			    &w->noutc[q], T, 0);
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
	for (q = 0; q < ncp; q++) {
		for (a = 0; a < w->ninc[q]; a++) {
			x = w->inc_node[q * K + a];
			for (b = 0; b < w->noutc[q]; b++) {
				y = w->outc_node[q * K + b];
				c = w->inc[q * K + a] + w->outc[q * K + b];
				if (c < D[x * K + y])
					D[x * K + y] = c;
			}
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
			return (-1);

	for (i = 0; i < s->n; i++) {
		q = w->local[s->cp[i]];
		x = w->local[s->ch[i]];
		best = HUGE_VAL;
		if (s->sel[i]) {
			/* Leave: the cheapest way back round to its campaign. */
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
	return (0);
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
	if (thresholds)
		(void)flow_reduced(s, w);
}

/* Solve one subproblem exactly; see opt.h. */
void
flow_solve(struct flow_sub *s, int laminar, int thresholds,
    struct flow_work *w)
{
	if (laminar)
		flow_greedy(s, thresholds, w);
	else
		flow_general(s, thresholds, w);
}

/* Enumerate every subset; for tests against the fast solvers. */
double
flow_brute(const struct flow_sub *s, uint8_t *sel)
{
	uint32_t	 mask, best_mask = 0;
	double		 best = 0, v;
	int		 i, ok, g, cnt[3 * 20 + 1], ng;

	ng = s->all + 1;
	if (s->n > 20 || ng > 3 * 20 + 1) {
		/* Not for big customers; callers keep n small. */
		memset(sel, 0, s->n);
		return (-1);
	}
	for (mask = 1; mask < (1U << s->n); mask++) {
		memset(cnt, 0, sizeof cnt);
		v = 0;
		ok = 1;
		for (i = 0; i < s->n && ok; i++) {
			if (!(mask & (1U << i)))
				continue;
			v += s->r[i];
			g = s->ch[i];
			if (++cnt[g] > s->room[g])
				ok = 0;
			g = s->cp[i];
			if (++cnt[g] > s->room[g])
				ok = 0;
			if (++cnt[s->all] > s->room[s->all])
				ok = 0;
		}
		if (ok && v > best + 1e-12) {
			best = v;
			best_mask = mask;
		}
	}
	for (i = 0; i < s->n; i++)
		sel[i] = (best_mask >> i) & 1;
	return (best);
}
