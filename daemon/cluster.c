/*
 * Redis Cluster for pacerd: the slot map (CLUSTER SLOTS) and what crosses
 * nodes. The store (store.c) keeps one link per master and routes every
 * call by its key's slot; here:
 *
 * - a decide call (decide.c: KEYS audit stream + customer hashes, ARGV
 *   deadline, programs, one argument per decision) is split by the master
 *   of each customer's slot into one call of decide_cluster (cluster.lua)
 *   per master, and the answers are merged back in order. Each master
 *   writes its own audit stream, PREFIX:audit:{TAG}, TAG a short string
 *   hashing into a slot it serves (the first multiple of CLUSTER_AUDIT_STEP
 *   it serves, else its first slot; while that slot moves, its last slot). A decision whose customer the master
 *   no longer serves comes back "moved" and goes again alone, routed by its
 *   key (MOVED, ASK); a sub-call that fails answers its decisions
 *   store_unavailable (on_store_failure then decides).
 * - with wait_replicas N, an allow (or a scheduled reservation) is answered
 *   only after WAIT N on the master that wrote it says N replicas have it;
 *   else store_unavailable. This also applies to one Redis with replicas.
 * - erasure's scrub of the audit stream walks every possible audit stream
 *   (one per CLUSTER_AUDIT_STEP slots, and each master's first slot), a
 *   slice at a time; the cursor "SLOT/ENTRY" says where it is.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "pacerd.h"
#include "pacer/cluster_slots.h"
#include "pacer/clock.h"
#include "pacer/slot.h"

#define CLUSTER_AUDIT_STEP	64	/* slots between audit stream candidates */
#define CLUSTER_MOVED_TRIES	3	/* a decision sent again alone */

struct cluster {
	char			*prefix;
	struct store_link	*slot[SLOT_COUNT];		/* its master */
	int			 audit_slot[STORE_LINKS_MAX];	/* per link, -1 */
	int			 audit_alt[STORE_LINKS_MAX];	/* its last slot */
	char			 audit[STORE_LINKS_MAX][2 * KEYS_MAX];
};

/* A decide call split over masters. */
struct cluster_decide {
	struct store	*st;
	store_cb	 cb;
	void		*arg;
	int		 n, nprog, remaining;
	int		 subs;		/* sub-calls not finished */
	int		 timeout_ms;
	double		 deadline;	/* monotonic seconds */
	const char	*deadline_text;
	const char	**base;		/* P's text, programs, keys, args */
	size_t		*baselen;
	const char	**prog, **key, **darg;	/* views into base */
	size_t		*proglen, *keylen, *darglen;
	char		**answer;	/* per decision, NULL until answered */
	int		*tries;
	char		*copy;		/* every argument, copied */
};

/* One sub-call: decisions idx[0..n-1] of the call, on one master. */
struct cluster_sub {
	struct cluster_decide	*p;
	int			 n;
	int			 allowed;	/* an answer reserved a contact */
	int			 idx[];
};

struct cluster *
cluster_new(const char *prefix)
{
	struct cluster	*cl;

	if ((cl = calloc(1, sizeof *cl)) == NULL)
		return NULL;
	if ((cl->prefix = strdup(prefix)) == NULL) {
		cluster_free(cl);
		return NULL;
	}
	for (int i = 0; i < STORE_LINKS_MAX; i++)
		cl->audit_slot[i] = cl->audit_alt[i] = -1;
	return cl;
}

void
cluster_free(struct cluster *cl)
{
	if (cl == NULL)
		return;
	free(cl->prefix);
	free(cl);
}

struct store_link *
cluster_link(const struct cluster *cl, int slot)
{
	return slot >= 0 && slot < SLOT_COUNT ? cl->slot[slot] : NULL;
}

/* The audit stream key of slot s: PREFIX:audit:{TAG}. */
static void
cluster_audit_name(const struct cluster *cl, int s, char *buf, size_t len)
{
	snprintf(buf, len, "%s:audit:{%s}", cl->prefix, slot_tag(s));
}

/*
 * Choose each master's audit stream from the map (see the top), and a
 * second one, in the last slot it serves: while resharding moves the
 * first one's slot away, decide_cluster writes the second.
 */
static void
cluster_audit_choose(struct cluster *cl)
{
	char	 a[KEYS_MAX], b[KEYS_MAX];

	for (int i = 0; i < STORE_LINKS_MAX; i++)
		cl->audit_slot[i] = cl->audit_alt[i] = -1;
	for (int s = 0; s < SLOT_COUNT; s += CLUSTER_AUDIT_STEP)
		if (cl->slot[s] != NULL &&
		    cl->audit_slot[store_link_id(cl->slot[s])] < 0)
			cl->audit_slot[store_link_id(cl->slot[s])] = s;
	for (int s = 0; s < SLOT_COUNT; s++)
		if (cl->slot[s] != NULL) {
			int	 id = store_link_id(cl->slot[s]);

			if (cl->audit_slot[id] < 0)
				cl->audit_slot[id] = s;
			cl->audit_alt[id] = s;
		}
	for (int i = 0; i < STORE_LINKS_MAX; i++) {
		cluster_audit_name(cl, cl->audit_slot[i] >= 0 ? cl->audit_slot[i] : 0,
		    a, sizeof a);
		cluster_audit_name(cl, cl->audit_alt[i] >= 0 ? cl->audit_alt[i] : 0,
		    b, sizeof b);
		snprintf(cl->audit[i], sizeof cl->audit[i], "%s %s", a, b);
	}
}

const char *
cluster_audit_key(const struct cluster *cl, const struct store_link *l)
{
	return cl->audit[store_link_id(l)];
}

void
cluster_set_slot(struct cluster *cl, int slot, struct store_link *l)
{
	if (slot >= 0 && slot < SLOT_COUNT && cl->slot[slot] != l) {
		cl->slot[slot] = l;
		cluster_audit_choose(cl);
	}
}

/* A new slot map, filled by cluster_slots_walk. */
struct cluster_map {
	struct store		*st;
	struct store_link	*slot[SLOT_COUNT];
};

/* One range of CLUSTER SLOTS into the map; 0, or -1 (no link). */
static int
cluster_map_range(void *arg, const struct slot_range *g)
{
	struct cluster_map	*m = arg;
	struct store_link	*l;

	/* A node that names no endpoint serves nothing yet. */
	if (*g->host == '\0')
		return 0;
	if ((l = store_link_get(m->st, g->host, g->port)) == NULL)
		return -1;
	for (int s = g->first; s <= g->last; s++)
		m->slot[s] = l;
	return 0;
}

int
cluster_read_slots(struct cluster *cl, struct store *st, const void *reply)
{
	struct cluster_map	*m;

	if ((m = calloc(1, sizeof *m)) == NULL)
		return -1;
	m->st = st;
	if (cluster_slots_walk(reply, cluster_map_range, m) != 0) {
		free(m);
		return -1;
	}
	memcpy(cl->slot, m->slot, sizeof m->slot);
	free(m);
	cluster_audit_choose(cl);
	return 0;
}

int
cluster_ready(const struct cluster *cl)
{
	const struct store_link	*last = NULL;

	for (int s = 0; s < SLOT_COUNT; s++) {
		if (cl->slot[s] == last)
			continue;
		if (!store_link_ready(cl->slot[s]))
			return 0;
		last = cl->slot[s];
	}
	return 1;
}

/* The answer of a decision whose call failed (decide.c reads the reason). */
static const char cluster_failed[] = "store_unavailable";

/* Whether a decide answer reserved a contact (an allow or a scheduled send). */
static int
cluster_reserved(const char *answer)
{
	return !strcmp(answer, "ok") || !strncmp(answer, "ok|", 3) ||
	    !strncmp(answer, "scheduled|", 10);
}

/* Free a split call (not its answers). */
static void
cluster_decide_free(struct cluster_decide *p)
{
	free(p->base);
	free(p->baselen);
	free(p->answer);
	free(p->tries);
	free(p->copy);
	free(p);
}

/* Every decision answered: merge the answers in order, answer, free. */
static void
cluster_decide_done(struct cluster_decide *p)
{
	redisReply		 top, *el, **elp;
	struct store_reply	 r = { 1, NULL, (const struct store_value *)&top };

	memset(&top, 0, sizeof top);
	el = calloc((size_t)p->n + 1, sizeof *el);
	elp = calloc((size_t)p->n + 1, sizeof *elp);
	if (el == NULL || elp == NULL) {
		r.ok = 0;
		r.error = "out of memory";
		r.value = NULL;
	} else {
		top.type = REDIS_REPLY_ARRAY;
		top.elements = (size_t)p->n;
		top.element = elp;
		for (int i = 0; i < p->n; i++) {
			const char *a = p->answer[i] ? p->answer[i] : cluster_failed;

			el[i].type = REDIS_REPLY_STRING;
			el[i].str = (char *)(uintptr_t)a;
			el[i].len = strlen(a);
			elp[i] = &el[i];
		}
	}
	p->cb(&r, p->arg);
	free(el);
	free(elp);
	for (int i = 0; i < p->n; i++)
		free(p->answer[i]);
	cluster_decide_free(p);
}

/* Set decision i's answer (copied; NULL: failed). */
static void
cluster_decide_answer(struct cluster_decide *p, int i, const char *a)
{
	if (p->answer[i] != NULL)
		return;
	p->answer[i] = strdup(a != NULL ? a : cluster_failed);
	if (p->answer[i] == NULL)
		p->answer[i] = strdup(cluster_failed);
	p->remaining--;
}

static int	cluster_decide_send(struct cluster_decide *, struct store_link *,
		    const int *, int);

/* cluster_decide_done from the loop. */
static void
cluster_decide_later(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	cluster_decide_done(arg);
}

/* Finish a sub-call: answers set; the call answers when it was the last. */
static void
cluster_sub_finish(struct cluster_sub *sub)
{
	struct cluster_decide	*p = sub->p;

	free(sub);
	if (--p->subs == 0 && p->remaining == 0)
		cluster_decide_done(p);
}

/* WAIT reply: the replicas have the reservations, or they are not answered. */
static void
cluster_wait_cb(const struct store_reply *r, void *arg)
{
	struct cluster_sub	*sub = arg;
	struct cluster_decide	*p = sub->p;
	const redisReply	*rr = (const redisReply *)r->value;
	int			 acked = r->ok && rr->type == REDIS_REPLY_INTEGER &&
				    rr->integer >= store_wait_replicas(p->st);

	for (int k = 0; k < sub->n; k++) {
		int	 i = sub->idx[k];
		char	*a = p->answer[i];

		if (!acked && a != NULL && cluster_reserved(a)) {
			free(a);
			p->answer[i] = strdup(cluster_failed);
		}
	}
	if (!acked)
		log_debug("replicas did not confirm in time", "decisions=%d",
		    sub->n);
	cluster_sub_finish(sub);
}

/* The ms left before the call's deadline, at least 1. */
static int
cluster_left_ms(const struct cluster_decide *p)
{
	int	 ms = (int)((p->deadline - clock_mono_s()) * 1000);

	return ms > 1 ? ms : 1;
}

/* A sub-call's reply: one answer per decision, "moved" to send again. */
static void
cluster_sub_cb(const struct store_reply *r, void *arg)
{
	struct cluster_sub	*sub = arg;
	struct cluster_decide	*p = sub->p;
	const redisReply	*rr = (const redisReply *)r->value;
	struct store_link	*l;
	int			 ok = r->ok && rr->type == REDIS_REPLY_ARRAY &&
				    rr->elements == (size_t)sub->n;

	for (int k = 0; ok && k < sub->n; k++)
		if (rr->element[k]->type != REDIS_REPLY_STRING)
			ok = 0;
	for (int k = 0; k < sub->n; k++) {
		int		 i = sub->idx[k];
		const char	*a = ok ? rr->element[k]->str : NULL;

		if (a != NULL && !strcmp(a, "moved")) {
			/* Its master changed: alone, where Redis says it goes. */
			if (p->tries[i]++ < CLUSTER_MOVED_TRIES &&
			    cluster_decide_send(p, NULL, &i, 1) == 0)
				continue;
			a = NULL;
		}
		cluster_decide_answer(p, i, a);
		if (a != NULL && cluster_reserved(a))
			sub->allowed = 1;
	}
	if (sub->allowed && store_wait_replicas(p->st) > 0) {
		const char	*argv[3];
		size_t		 argvlen[3];
		char		 n[16], ms[16];

		snprintf(n, sizeof n, "%d", store_wait_replicas(p->st));
		snprintf(ms, sizeof ms, "%d", cluster_left_ms(p));
		argv[0] = "WAIT";
		argv[1] = n;
		argv[2] = ms;
		for (int i = 0; i < 3; i++)
			argvlen[i] = strlen(argv[i]);
		/* WAIT counts this connection's writes: the same master's. */
		l = store_replying(p->st);
		if (l != NULL && store_call_on(p->st, l, -1, 0, 3, argv,
		    argvlen, cluster_left_ms(p) + 50, cluster_wait_cb, sub) == 0)
			return;
		cluster_wait_cb(&(struct store_reply){ 0, "store unavailable",
		    NULL }, sub);
		return;
	}
	cluster_sub_finish(sub);
}

/*
 * Send decisions idx[0..n-1] as one call: on one Redis the decide call as
 * decide.c made it; on a cluster decide_cluster on master l, or with l
 * NULL one decision alone, routed by its customer's slot. 0 or -1.
 */
static int
cluster_decide_send(struct cluster_decide *p, struct store_link *l, const int *idx,
    int n)
{
	struct cluster_sub	*sub;
	const char		**argv;
	size_t			*argvlen;
	int			 argc = 0, nkeys, rc, cl = store_clustered(p->st);
	char			 ntext[16];

	if ((sub = calloc(1, sizeof *sub + (size_t)n * sizeof *sub->idx)) == NULL)
		return -1;
	sub->p = p;
	sub->n = n;
	memcpy(sub->idx, idx, (size_t)n * sizeof *idx);
	argv = calloc((size_t)(2 * n + p->nprog + 6), sizeof *argv);
	argvlen = calloc((size_t)(2 * n + p->nprog + 6), sizeof *argvlen);
	if (argv == NULL || argvlen == NULL) {
		free(argv);
		free(argvlen);
		free(sub);
		return -1;
	}
	snprintf(ntext, sizeof ntext, "%d", n);
	if (!cl) {
		/* One Redis: the call as it came (KEYS audit, customers). */
		argv[argc] = store_audit_key(p->st);
		argvlen[argc] = strlen(argv[argc]);
		argc++;
		nkeys = 1 + n;
	} else {
		nkeys = l == NULL ? 1 : 0;
		if (l == NULL) {
			argv[argc] = p->key[idx[0]];
			argvlen[argc++] = p->keylen[idx[0]];
		}
		argv[argc] = "";	/* the audit key of its master: store_send */
		argvlen[argc++] = 0;
		argv[argc] = ntext;
		argvlen[argc] = strlen(ntext);
		argc++;
	}
	for (int k = 0; k < n; k++) {
		argv[argc] = p->key[idx[k]];
		argvlen[argc++] = p->keylen[idx[k]];
	}
	argv[argc] = p->deadline_text;
	argvlen[argc] = strlen(p->deadline_text);
	argc++;
	argv[argc] = p->base[0];	/* P, as text */
	argvlen[argc] = p->baselen[0];
	argc++;
	for (int j = 0; j < p->nprog; j++) {
		argv[argc] = p->prog[j];
		argvlen[argc++] = p->proglen[j];
	}
	for (int k = 0; k < n; k++) {
		argv[argc] = p->darg[idx[k]];
		argvlen[argc++] = p->darglen[idx[k]];
	}
	rc = store_call_on(p->st, l, cl ? STORE_DECIDE_CLUSTER : STORE_DECIDE,
	    nkeys, argc, argv, argvlen, cluster_left_ms(p), cluster_sub_cb, sub);
	free(argv);
	free(argvlen);
	if (rc != 0)
		free(sub);
	else
		p->subs++;
	return rc;
}

/*
 * Copy the call's arguments into p->copy and point base, keys and args at
 * them. argv: the audit key (each master has its own), keys 1..n, the
 * deadline, P, the programs, the decisions' args.
 */
static void
cluster_decide_copy(struct cluster_decide *p, int nkeys, int argc,
    const char **argv, const size_t *argvlen)
{
	char	*c = p->copy;

	for (int i = 0; i < argc; i++) {
		const char	**to = NULL;
		size_t		*tolen = NULL;

		memcpy(c, argv[i], argvlen[i]);
		c[argvlen[i]] = '\0';
		if (i == 0)
			;
		else if (i < nkeys) {
			to = &p->key[i - 1];
			tolen = &p->keylen[i - 1];
		} else if (i == nkeys)
			p->deadline_text = c;
		else if (i < nkeys + 2 + p->nprog) {
			to = &p->base[i - nkeys - 1];
			tolen = &p->baselen[i - nkeys - 1];
		} else {
			to = &p->darg[i - nkeys - 2 - p->nprog];
			tolen = &p->darglen[i - nkeys - 2 - p->nprog];
		}
		if (to != NULL) {
			*to = c;
			*tolen = argvlen[i];
		}
		c += argvlen[i] + 1;
	}
}

/*
 * Send the decisions as one sub-call per master, in order (idx: room for
 * n); a decision whose slot has no master, or whose sub-call cannot be
 * sent, fails at once. 0, or -1 when out of memory.
 */
static int
cluster_decide_group(struct cluster_decide *p, struct cluster *cl, int *idx)
{
	unsigned char	*done = calloc((size_t)p->n, 1);
	int		 ni;

	if (done == NULL)
		return -1;
	for (int i = 0; i < p->n; i++) {
		struct store_link *l = cluster_link(cl,
		    slot_of_key(p->key[i], p->keylen[i]));

		if (done[i])
			continue;
		ni = 0;
		for (int j = i; j < p->n; j++)
			if (!done[j] && cluster_link(cl, slot_of_key(p->key[j],
			    p->keylen[j])) == l) {
				idx[ni++] = j;
				done[j] = 1;
			}
		if (l == NULL || cluster_decide_send(p, l, idx, ni) != 0)
			for (int k = 0; k < ni; k++)
				cluster_decide_answer(p, idx[k], NULL);
	}
	free(done);
	return 0;
}

int
cluster_decide(struct store *st, struct cluster *cl, int nkeys, int argc,
    const char **argv, const size_t *argvlen, int timeout_ms, store_cb cb,
    void *arg)
{
	struct cluster_decide	*p;
	size_t			 bytes = 0;
	int			 n = nkeys - 1, nprog, *idx = NULL;

	if (n < 0 || argc < nkeys + 2 || (nprog = atoi(argv[nkeys + 1])) < 0 ||
	    argc != nkeys + 2 + nprog + n)
		return -1;
	if ((p = calloc(1, sizeof *p)) == NULL)
		return -1;
	p->st = st;
	p->cb = cb;
	p->arg = arg;
	p->n = p->remaining = n;
	p->nprog = nprog;
	p->timeout_ms = timeout_ms >= 0 ? timeout_ms : 1000;
	p->deadline = clock_mono_s() + p->timeout_ms / 1000.0;
	for (int i = 0; i < argc; i++)
		bytes += argvlen[i] + 1;
	/* One array of pointers and lengths: [P text, programs, keys, args]. */
	p->base = calloc((size_t)(1 + nprog + 2 * n) + 1, sizeof *p->base);
	p->baselen = calloc((size_t)(1 + nprog + 2 * n) + 1, sizeof *p->baselen);
	p->answer = calloc((size_t)n + 1, sizeof *p->answer);
	p->tries = calloc((size_t)n + 1, sizeof *p->tries);
	p->copy = malloc(bytes + 1);
	idx = calloc((size_t)n + 1, sizeof *idx);
	if (n == 0 || p->base == NULL || p->baselen == NULL || p->answer == NULL ||
	    p->tries == NULL || p->copy == NULL || idx == NULL)
		goto fail;
	p->prog = p->base + 1;
	p->proglen = p->baselen + 1;
	p->key = p->prog + nprog;
	p->keylen = p->proglen + nprog;
	p->darg = p->key + n;
	p->darglen = p->keylen + n;
	cluster_decide_copy(p, nkeys, argc, argv, argvlen);
	if (cl == NULL) {
		for (int i = 0; i < n; i++)
			idx[i] = i;
		if (cluster_decide_send(p, NULL, idx, n) != 0)
			for (int i = 0; i < n; i++)
				cluster_decide_answer(p, i, NULL);
	} else if (cluster_decide_group(p, cl, idx) != 0)
		goto fail;
	free(idx);
	/* Every sub-call failed at once: answer from the loop, as the store does. */
	if (p->subs == 0)
		event_base_once(store_base(st), -1, EV_TIMEOUT, cluster_decide_later,
		    p, &(struct timeval){ 0, 0 });
	return 0;
fail:
	free(idx);
	cluster_decide_free(p);
	return -1;
}

/* An erasure's scrub of the audit streams, one slice at a time. */
struct cluster_erase {
	const struct cluster	*cl;
	store_cb		 cb;
	void			*arg;
	int			 slot;		/* the audit stream scrubbed */
};

/* The next slot after s with an audit stream candidate, or -1. */
static int
cluster_audit_next(const struct cluster *cl, int s)
{
	int	 next = (s / CLUSTER_AUDIT_STEP + 1) * CLUSTER_AUDIT_STEP;

	if (next >= SLOT_COUNT)
		next = -1;
	for (int i = 0; i < STORE_LINKS_MAX; i++) {
		if (cl->audit_slot[i] > s && cl->audit_slot[i] % CLUSTER_AUDIT_STEP &&
		    (next < 0 || cl->audit_slot[i] < next))
			next = cl->audit_slot[i];
		if (cl->audit_alt[i] > s && cl->audit_alt[i] % CLUSTER_AUDIT_STEP &&
		    (next < 0 || cl->audit_alt[i] < next))
			next = cl->audit_alt[i];
	}
	return next;
}

/* A slice's reply {removed, next entry}: the caller gets the cursor. */
static void
cluster_erase_cb(const struct store_reply *r, void *arg)
{
	struct cluster_erase	*e = arg;
	const redisReply	*rr = (const redisReply *)r->value;
	redisReply		 top, el[2], *elp[2] = { &el[0], &el[1] };
	struct store_reply	 out = { 1, NULL, (const struct store_value *)&top };
	char			 cursor[64];
	int			 next;

	if (!r->ok || rr->type != REDIS_REPLY_ARRAY || rr->elements != 2 ||
	    rr->element[0]->type != REDIS_REPLY_INTEGER ||
	    rr->element[1]->type != REDIS_REPLY_STRING ||
	    rr->element[1]->len > 40) {
		out.ok = 0;
		out.error = r->ok ? "unexpected reply" : r->error;
		out.value = NULL;
		e->cb(&out, e->arg);
		free(e);
		return;
	}
	if (rr->element[1]->len > 0)
		snprintf(cursor, sizeof cursor, "%d/%s", e->slot,
		    rr->element[1]->str);
	else if ((next = cluster_audit_next(e->cl, e->slot)) >= 0)
		snprintf(cursor, sizeof cursor, "%d/-", next);
	else
		cursor[0] = '\0';
	memset(&top, 0, sizeof top);
	memset(el, 0, sizeof el);
	top.type = REDIS_REPLY_ARRAY;
	top.elements = 2;
	top.element = elp;
	el[0].type = REDIS_REPLY_INTEGER;
	el[0].integer = rr->element[0]->integer;
	el[1].type = REDIS_REPLY_STRING;
	el[1].str = cursor;
	el[1].len = strlen(cursor);
	e->cb(&out, e->arg);
	free(e);
}

int
cluster_erase_audit(struct store *st, const struct cluster *cl, int argc,
    const char **argv, const size_t *argvlen, int timeout_ms, store_cb cb,
    void *arg)
{
	struct cluster_erase	*e;
	const char		*from, *slash, *av[4];
	size_t			 avlen[4];
	char			 key[KEYS_MAX];
	int			 slot = 0;

	/* argv: audit key (one Redis's), customer, cursor, slice. */
	if (argc != 4)
		return -1;
	from = argv[2];
	(void)argvlen;
	if (strcmp(from, "-") != 0) {
		/* "SLOT/ENTRY": the stream of SLOT, from ENTRY on. */
		if ((slash = strchr(from, '/')) == NULL ||
		    (slot = atoi(from)) < 0 || slot >= SLOT_COUNT)
			return -1;
		from = slash + 1;
	}
	if ((e = calloc(1, sizeof *e)) == NULL)
		return -1;
	e->cl = cl;
	e->cb = cb;
	e->arg = arg;
	e->slot = slot;
	cluster_audit_name(cl, slot, key, sizeof key);
	av[0] = key;
	av[1] = argv[1];
	av[2] = from;
	av[3] = argv[3];
	for (int i = 0; i < 4; i++)
		avlen[i] = strlen(av[i]);
	if (store_call_on(st, NULL, STORE_ERASE_AUDIT, 1, 4, av, avlen, timeout_ms,
	    cluster_erase_cb, e) != 0) {
		free(e);
		return -1;
	}
	return 0;
}
