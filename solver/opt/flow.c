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
	double	*dist2;
	int	*pred;		/* edge into node on shortest path */
	int	*queue;
	uint8_t	*inq;
	int	 nedges;
	int	 nnodes, src, sink;
	uint8_t	*kind;		/* per group: 1 channel node, 2 campaign */
};

static void	flow_touch(struct flow_work *, int);
static void	flow_prepare(const struct flow_sub *, struct flow_work *);
static void	flow_greedy(struct flow_sub *, int, struct flow_work *);
static int	flow_tightest(const struct flow_sub *, struct flow_work *, int);
static void	flow_add_edge(struct flow_work *, int, int, int, double);
static double	flow_mcf(const struct flow_sub *, struct flow_work *,
		    uint8_t *);
static void	flow_bellman(struct flow_work *, int, int, double *);
static void	flow_general(struct flow_sub *, int, struct flow_work *);
static int	flow_order_cmp(const struct flow_sub *, int, int);

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
	w->dist2 = calloc(nnodes, sizeof *w->dist2);
	w->kind = calloc(ngroups, 1);
	w->pred = calloc(nnodes, sizeof *w->pred);
	w->queue = calloc(nnodes, sizeof *w->queue);
	w->inq = calloc(nnodes, sizeof *w->inq);
	if (w->ord == NULL || w->cnt == NULL || w->size == NULL ||
	    w->minsel == NULL || w->gmax == NULL || w->touched == NULL ||
	    w->mark == NULL || w->node == NULL ||
	    w->head == NULL || w->next == NULL || w->to == NULL ||
	    w->cap == NULL || w->cost == NULL || w->item_edge == NULL ||
	    w->dist == NULL || w->dist2 == NULL || w->kind == NULL ||
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
	free(w->dist2);
	free(w->kind);
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
 * Maximum-weight b-matching by successive shortest paths. Stores the
 * choice in sel and returns its value; the residual graph stays in w for
 * the thresholds. Path costs only grow, so stopping at the first
 * non-negative path is optimal.
 */
static double
flow_mcf(const struct flow_sub *s, struct flow_work *w, uint8_t *sel)
{
	int	 i, g, u, v, e, nnodes, src, allnode, sink, qh, qt;
	double	 value, nd;

	src = 0;
	allnode = 1;
	nnodes = 2;
	for (i = 0; i < w->ntouched; i++) {
		g = w->touched[i];
		w->node[g] = g == s->all ? allnode : nnodes++;
	}
	sink = nnodes++;
	w->nnodes = nnodes;
	w->src = src;
	w->sink = sink;
	for (u = 0; u < nnodes; u++)
		w->head[u] = -1;
	w->nedges = 0;
	flow_add_edge(w, src, allnode, s->room[s->all], 0);
	/* Channel groups hang off the total; campaigns feed the sink. */
	for (i = 0; i < w->ntouched; i++)
		w->kind[w->touched[i]] = 0;
	for (i = 0; i < s->n; i++) {
		g = s->ch[i];
		if (w->kind[g] == 0) {
			w->kind[g] = 1;
			flow_add_edge(w, allnode, w->node[g], s->room[g], 0);
		}
	}
	for (i = 0; i < s->n; i++) {
		g = s->cp[i];
		if (w->kind[g] == 0) {
			w->kind[g] = 2;
			flow_add_edge(w, w->node[g], sink, s->room[g], 0);
		}
	}
	for (i = 0; i < s->n; i++) {
		sel[i] = 0;
		w->item_edge[i] = -1;
		if (s->r[i] <= 0)
			continue;
		w->item_edge[i] = w->nedges;
		flow_add_edge(w, w->node[s->ch[i]], w->node[s->cp[i]], 1,
		    -s->r[i]);
	}

	for (;;) {
		/* Bellman-Ford with a FIFO queue (no negative cycles). */
		for (u = 0; u < nnodes; u++) {
			w->dist[u] = HUGE_VAL;
			w->pred[u] = -1;
			w->inq[u] = 0;
		}
		w->dist[src] = 0;
		qh = qt = 0;
		w->queue[qt++] = src;
		w->inq[src] = 1;
		while (qh != qt) {
			u = w->queue[qh];
			qh = (qh + 1) % nnodes;
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
						qt = (qt + 1) % nnodes;
					}
				}
			}
		}
		if (w->dist[sink] >= -1e-12)
			break;
		/* Capacities are integers, so augment by one unit. */
		for (v = sink; v != src; v = w->to[e ^ 1]) {
			e = w->pred[v];
			w->cap[e] -= 1;
			w->cap[e ^ 1] += 1;
		}
	}
	value = 0;
	for (i = 0; i < s->n; i++) {
		e = w->item_edge[i];
		if (e != -1 && w->cap[e] == 0) {
			sel[i] = 1;
			value += s->r[i];
		}
	}
	return (value);
}

/*
 * Shortest residual distances from root (reverse = 0) or to root (reverse
 * = 1) into dist; HUGE_VAL where unreachable. The residual graph of an
 * optimal flow has no negative cycle, so a FIFO Bellman-Ford ends.
 */
static void
flow_bellman(struct flow_work *w, int root, int reverse, double *dist)
{
	int	 u, v, e, f, qh, qt, n = w->nnodes;
	double	 nd;

	for (u = 0; u < n; u++) {
		dist[u] = HUGE_VAL;
		w->inq[u] = 0;
	}
	dist[root] = 0;
	qh = qt = 0;
	w->queue[qt++] = root;
	w->inq[root] = 1;
	while (qh != qt) {
		u = w->queue[qh];
		qh = (qh + 1) % n;
		w->inq[u] = 0;
		for (e = w->head[u]; e != -1; e = w->next[e]) {
			/* Backwards, edge e^1 (to[e] -> u) is the one used. */
			f = reverse ? e ^ 1 : e;
			if (w->cap[f] <= 0)
				continue;
			v = w->to[e];
			nd = dist[u] + w->cost[f];
			if (nd < dist[v] - 1e-12) {
				dist[v] = nd;
				if (!w->inq[v]) {
					w->inq[v] = 1;
					w->queue[qt] = v;
					qt = (qt + 1) % n;
				}
			}
		}
	}
}

/*
 * General subproblem: flow, then thresholds by sensitivity analysis. With
 * a zero-cost edge sink -> source the optimum is a circulation with no
 * negative cycle; an unchosen item u -> v enters when -r + d(v, u) < 0,
 * a chosen one leaves when r + d(u, v) < 0 (d: residual distances).
 */
static void
flow_general(struct flow_sub *s, int thresholds, struct flow_work *w)
{
	int	 i, g, u, e, flow;

	flow_prepare(s, w);
	s->value = flow_mcf(s, w, s->sel);
	if (!thresholds)
		return;
	flow = s->room[s->all] - w->cap[0];
	/* Edge 0 is source -> all; close the circulation. */
	flow_add_edge(w, w->sink, w->src, 1 << 20, 0);
	w->cap[w->nedges - 1] = flow;
	for (i = 0; i < s->n; i++)
		s->t[i] = HUGE_VAL;
	for (i = 0; i < w->ntouched; i++) {
		g = w->touched[i];
		if (g == s->all || w->kind[g] != 1)
			continue;
		u = w->node[g];
		flow_bellman(w, u, 0, w->dist);
		flow_bellman(w, u, 1, w->dist2);
		for (e = 0; e < s->n; e++) {
			if (s->ch[e] != g)
				continue;
			if (s->sel[e])
				s->t[e] = -w->dist[w->node[s->cp[e]]];
			else
				s->t[e] = w->dist2[w->node[s->cp[e]]];
			if (s->t[e] < 0)
				s->t[e] = 0;
		}
	}
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
