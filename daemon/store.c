/*
 * The store: hiredis asynchronous connections to Redis on the daemon's
 * event loop, one "link" per Redis: one link to the Redis at host:port, or
 * with [redis] nodes one link per master of a Redis Cluster (the slot map
 * and what crosses nodes are daemon/cluster.c's). Every call in flight is
 * pipelined on its link; each has its own timer because hiredis 0.14 has
 * no command timeout; a link comes back by itself with a short backoff
 * after its Redis goes away. On a cluster a call goes to the master of
 * its key's slot and follows MOVED (the map is read again) and ASK (ASKING,
 * then the call at the importing node); TRYAGAIN, CLUSTERDOWN and the like
 * are store faults, answered as a timeout would be.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <hiredis/adapters/libevent.h>

#include "pacerd.h"
#include "pacer/clock.h"
#include "pacer/slot.h"
#include "scripts.h"

#define STORE_BACKOFF_MIN_MS	50
#define STORE_BACKOFF_MAX_MS	500	/* readiness returns within a second */
#define STORE_HUNG_MS		2000	/* no reply this long with calls due: reconnect */
#define STORE_HEALTH_MS		200
#define STORE_RELOADS_MAX	3	/* library loads for one call */
#define STORE_REDIRECTS_MAX	5	/* MOVED and ASK followed for one call */
#define STORE_CLOCK_EVERY	5	/* health ticks between clock measures */
#define STORE_CLOCK_KEEP_S	10	/* a measure's life, unless a better one comes */
#define STORE_LOG_EVERY_S	10	/* a repeated warning, at most this often */
#define STORE_MAP_EVERY		5	/* health ticks between slot map reads */

/* The library's functions (daemon/embed.cmake names them). */
static const char *const store_functions[STORE_NFUNCTIONS] = {
	SCRIPT_DECIDE, SCRIPT_CANCEL, SCRIPT_READ, SCRIPT_ERASE,
	SCRIPT_ERASE_AUDIT, SCRIPT_EXPLAIN, SCRIPT_PROFILE, SCRIPT_DECIDE_CLUSTER,
};

/* A warning repeated at most every STORE_LOG_EVERY_S, with what it held back. */
struct store_warning {
	double		 last;
	uint64_t	 held;
};

/* One connection, to the one Redis or to one master of a cluster. */
struct store_link {
	struct store		*st;
	int			 id;		/* index in st->link */
	redisAsyncContext	*ac;
	char			*host;
	int			 port;
	int			 connected;
	int			 degraded;	/* calls timing out, no reply since */
	int			 loaded;	/* the function library is */
	int			 loading;	/* a FUNCTION LOAD is queued */
	int			 listing;	/* a FUNCTION LIST is queued */
	int			 auth_failed;	/* AUTH refused: reconnect and retry */
	int			 oom;		/* refuses writes (maxmemory) */
	struct event		*reconnect;
	struct event		*kick;		/* writes what callbacks queued */
	int			 backoff_ms;
	double			 last_reply;
	int			 clock_asking;
	int64_t			 clock_sent_us;
	struct store_warning	 warn_connect, warn_auth;
};

/* One call: lives until both its callback ran and hiredis let go of it. */
struct store_call {
	struct store	*st;
	struct store_link *link;	/* where it goes (or went) */
	store_cb	 cb;
	void		*arg;
	struct event	*timer;
	int		 answered;	/* cb has run */
	int		 in_redis;	/* hiredis will still call us */
	int		 timing_out;	/* inside its timer: keep it alive */
	int		 sending;	/* inside store_send from store_call */
	int		 send_failed;	/* the connection broke while sending */
	int		 script;	/* -1: plain command */
	int		 reloads;	/* library loaded again for this call */
	int		 slot;		/* cluster: the slot it routes by, -1 none */
	int		 redirects;	/* MOVED and ASK followed */
	int		 asking;	/* send ASKING first (an ASK redirection) */
	int		 audit_arg;	/* decide_cluster: argv index of the audit key */
	int		 argc;		/* argv[0..2] left for FCALL NAME NKEYS */
	const char	**argv;		/* into the same allocation */
	size_t		*argvlen;
	char		 nkeys_text[16];
};

struct store {
	struct event_base	*base;
	struct store_link	*link[STORE_LINKS_MAX];
	int			 nlinks;
	struct cluster		*cluster;	/* NULL: one Redis at host:port */
	char			*password;
	char			*audit_key;	/* the OOM probe's key (one Redis) */
	int			 timeout_ms;
	int			 wait_replicas;
	struct event		*health;
	int			 pending;
	uint64_t		 calls, errors, timeouts;
	int			 closing;
	int			 ticks;		/* health ticks */
	int			 map_asking;	/* a CLUSTER SLOTS is in flight */
	int			 map_wanted;	/* read the map at the next tick */
	int			 map_next;	/* the link to ask next */
	struct store_link	*replying;	/* whose reply a callback has */
	/* Redis's clock against ours (store_clock_offset_ms). */
	int			 clock_known;
	int64_t			 clock_offset_ms, clock_rtt_ms;
	double			 clock_at;
	struct store_warning	 warn_error, warn_clock, warn_cluster;
};

static void	store_connect(struct store_link *);

/*
 * Whether a repeated warning is due now; when not, count it as held back.
 * *held is what was held back since the last one (then reset).
 */
static int
store_warning_due(struct store_warning *w, uint64_t *held)
{
	double	 now = clock_mono_s();

	if (w->last != 0 && now - w->last < STORE_LOG_EVERY_S) {
		w->held++;
		return 0;
	}
	w->last = now;
	*held = w->held;
	w->held = 0;
	return 1;
}

/* Free a call once nobody refers to it. */
static void
store_call_release(struct store_call *c)
{
	if (c->in_redis || !c->answered || c->timing_out)
		return;
	if (c->timer != NULL)
		event_free(c->timer);
	free(c);
}

/*
 * The accessors of struct store_value: a store_value is a hiredis reply,
 * seen as one only here and in cluster.c.
 */
enum store_type
store_type(const struct store_value *v)
{
	const redisReply	*r = (const redisReply *)v;

	if (r == NULL)
		return STORE_NONE;
	switch (r->type) {
	case REDIS_REPLY_STRING:
	case REDIS_REPLY_STATUS:
		return STORE_TEXT;
	case REDIS_REPLY_INTEGER:
		return STORE_INTEGER;
	case REDIS_REPLY_ARRAY:
		return STORE_LIST;
	default:
		return STORE_NONE;
	}
}

const char *
store_text(const struct store_value *v, size_t *len)
{
	const redisReply	*r = (const redisReply *)v;

	if (store_type(v) != STORE_TEXT)
		return NULL;
	if (len != NULL)
		*len = r->len;
	return r->str;
}

int
store_integer(const struct store_value *v, long long *out)
{
	if (store_type(v) != STORE_INTEGER)
		return -1;
	*out = ((const redisReply *)v)->integer;
	return 0;
}

size_t
store_count(const struct store_value *v)
{
	return store_type(v) == STORE_LIST ? ((const redisReply *)v)->elements : 0;
}

const struct store_value *
store_item(const struct store_value *v, size_t i)
{
	if (i >= store_count(v))
		return NULL;
	return (const struct store_value *)((const redisReply *)v)->element[i];
}

const char *
store_item_text(const struct store_value *v, size_t i)
{
	return store_text(store_item(v, i), NULL);
}

const char *
store_field(const struct store_value *v, const char *name)
{
	size_t		 n = store_count(v);
	const char	*f;

	for (size_t i = 0; i + 1 < n; i += 2)
		if ((f = store_item_text(v, i)) != NULL && !strcmp(f, name))
			return store_item_text(v, i + 1);
	return NULL;
}

/* Run the caller's callback once. */
static void
store_call_answer(struct store_call *c, const struct store_reply *r)
{
	if (c->answered)
		return;
	c->answered = 1;
	if (c->timer != NULL)
		evtimer_del(c->timer);
	if (c->st != NULL)
		c->st->pending--;
	c->cb(r, c->arg);
}

/* A call's timer: answer with a failure; the late reply is dropped. */
static void
store_call_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct store_call	*c = arg;
	struct store_link	*l = c->link;
	struct store_reply	 r = { 0, "store timeout", NULL };

	(void)fd;
	(void)ev;
	/*
	 * On a busy loop the reply may already wait in the socket while the
	 * timer fires first: take it before giving up, so that an answer the
	 * script gave in time is the one the caller gets.
	 */
	c->timing_out = 1;
	if (l != NULL && l->ac != NULL && l->connected && !c->answered)
		redisAsyncHandleRead(l->ac);
	c->timing_out = 0;
	if (!c->answered) {
		c->st->timeouts++;
		if (l != NULL)
			l->degraded = 1;
		store_call_answer(c, &r);
	}
	store_call_release(c);
}

static int	store_send(struct store *, struct store_call *);
static void	store_load(struct store_link *);
static void	store_map_ask(struct store *);

/*
 * A cluster's redirection of a call: MOVED (the slot has a new master:
 * note it, read the whole map again, call there) or ASK (the slot is
 * moving: ASKING and the call at the importing node, this once). 1 when
 * the call was sent again, else 0.
 */
static int
store_redirect(struct store *st, struct store_call *c, const char *err)
{
	char			 host[SLOT_HOST_MAX], addr[SLOT_HOST_MAX + 16];
	struct store_link	*to;
	size_t			 pos = 0;
	int			 slot, port, ask = err[0] == 'A';

	if (st->cluster == NULL || c->answered ||
	    c->redirects >= STORE_REDIRECTS_MAX ||
	    sscanf(err, "%*s %d %271s", &slot, addr) != 2 || slot < 0 ||
	    slot >= SLOT_COUNT || slot_next_node(addr, &pos, host, &port) != 1 ||
	    (to = store_link_get(st, host, port)) == NULL)
		return 0;
	c->redirects++;
	if (!ask) {
		cluster_set_slot(st->cluster, slot, to);
		st->map_wanted = 1;
		store_map_ask(st);
	}
	c->link = to;
	c->asking = ask;
	return store_send(st, c) == 0;
}

/* hiredis callback for every call. */
static void
store_reply_cb(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct store_call	*c = privdata;
	redisReply		*rr = reply;
	struct store_link	*l = ac->data;
	struct store		*st = c->st;
	struct store_reply	 r = { 1, NULL, (const struct store_value *)reply };
	uint64_t		 held;

	c->in_redis = 0;
	if (rr == NULL && c->sending) {
		/* Lost while store_call writes: it answers, from the loop. */
		c->send_failed = 1;
		st->errors++;
		return;
	}
	if (rr == NULL) {
		r.ok = 0;
		r.error = "store connection lost";
	} else {
		if (l != NULL) {
			l->last_reply = clock_mono_s();
			l->degraded = 0;
		}
		if (rr->type == REDIS_REPLY_ERROR) {
			/*
			 * The library is gone (FUNCTION FLUSH, or a Redis that
			 * lost it): load it and call again (a few times: it
			 * may go again before the call runs).
			 */
			if (c->script >= 0 && !c->answered && l != NULL &&
			    c->reloads < STORE_RELOADS_MAX &&
			    strstr(rr->str, "Function not found") != NULL) {
				c->reloads++;
				log_warn("redis lost the function library, loading "
				    "it again", "host=%s port=%d detail=\"%s\"", l->host,
				    l->port, rr->str);
				store_load(l);
				if (store_send(st, c) == 0)
					return;
			}
			if ((!strncmp(rr->str, "MOVED ", 6) ||
			    !strncmp(rr->str, "ASK ", 4)) &&
			    store_redirect(st, c, rr->str))
				return;
			/* A cluster between maps: read it again soon. */
			if (st->cluster != NULL && (!strncmp(rr->str, "MOVED", 5) ||
			    !strncmp(rr->str, "ASK", 3) ||
			    !strncmp(rr->str, "TRYAGAIN", 8) ||
			    !strncmp(rr->str, "CLUSTERDOWN", 11) ||
			    !strncmp(rr->str, "READONLY", 8) ||
			    !strncmp(rr->str, "MASTERDOWN", 10)))
				st->map_wanted = 1;
			r.ok = 0;
			r.error = rr->str;
			st->errors++;
			/* Out of memory: not ready until a write goes through. */
			if (strncmp(rr->str, "OOM", 3) == 0 && l != NULL) {
				if (!l->oom)
					log_warn("redis refuses writes: out of memory "
					    "(maxmemory)", "host=%s port=%d detail=\"%s\"",
					    l->host, l->port, rr->str);
				l->oom = 1;
			} else if (store_warning_due(&st->warn_error, &held))
				log_warn("store error", "detail=\"%s\" held=%llu",
				    rr->str, (unsigned long long)held);
		} else if (l != NULL && (c->script == STORE_DECIDE ||
		    c->script == STORE_CANCEL || c->script == STORE_ERASE ||
		    c->script == STORE_DECIDE_CLUSTER)) {
			if (l->oom)
				log_warn("redis takes writes again", "host=%s port=%d",
				    l->host, l->port);
			l->oom = 0;
		}
	}
	if (!r.ok && rr == NULL && !c->answered)
		st->errors++;
	st->replying = l;
	store_call_answer(c, &r);
	st->replying = NULL;
	store_call_release(c);
}

/* Hand a call to hiredis on its link (a function as FCALL); 0 or -1. */
static int
store_send(struct store *st, struct store_call *c)
{
	struct store_link	*l;
	int			 first = 3;

	if (st->cluster != NULL && c->slot >= 0 && c->redirects == 0)
		c->link = cluster_link(st->cluster, c->slot);
	if ((l = c->link) == NULL || l->ac == NULL || !l->connected)
		return -1;
	if (c->script >= 0) {
		c->argv[0] = "FCALL";
		c->argv[1] = store_functions[c->script];
		c->argv[2] = c->nkeys_text;
		for (int i = 0; i < 3; i++)
			c->argvlen[i] = strlen(c->argv[i]);
		first = 0;
	}
	/* decide_cluster writes the audit stream of the node it runs on. */
	if (c->audit_arg > 0) {
		c->argv[c->audit_arg] = cluster_audit_key(st->cluster, l);
		c->argvlen[c->audit_arg] = strlen(c->argv[c->audit_arg]);
	}
	if (c->asking && redisAsyncCommand(l->ac, NULL, NULL, "ASKING") != REDIS_OK)
		return -1;
	if (redisAsyncCommandArgv(l->ac, store_reply_cb, c, c->argc - first,
	    c->argv + first, c->argvlen + first) != REDIS_OK)
		return -1;
	c->in_redis = 1;
	/*
	 * Write in this turn of the loop rather than after the next wait for
	 * events: Redis starts on it sooner (what the socket does not take
	 * waits for the write event as before). Inside a hiredis callback a
	 * broken connection must not be freed under hiredis's feet, so the
	 * write goes to the end of the turn; otherwise it happens here, and
	 * if the connection breaks hiredis fails the call at once
	 * (store_reply_cb sees c->sending).
	 */
	if (l->ac->c.flags & REDIS_IN_CALLBACK)
		event_active(l->kick, EV_TIMEOUT, 0);
	else
		redisAsyncHandleWrite(l->ac);
	return 0;
}

/* Deferred failure, so callbacks never run inside the caller's call. */
static void
store_fail_later(evutil_socket_t fd, short ev, void *arg)
{
	struct store_call	*c = arg;
	struct store_reply	 r = { 0, "store unavailable", NULL };

	(void)fd;
	(void)ev;
	store_call_answer(c, &r);
	store_call_release(c);
}

/*
 * The slot a call routes by on a cluster: its first key (FCALL) or its
 * first argument (a plain command names its key first), -1 for none.
 */
static int
store_call_slot(int script, int nkeys, int argc, const char **argv,
    const size_t *argvlen)
{
	if (script >= 0)
		return nkeys > 0 && argc > 0 ? slot_of_key(argv[0], argvlen[0]) : -1;
	return argc > 1 ? slot_of_key(argv[1], argvlen[1]) : -1;
}

int
store_call_on(struct store *st, struct store_link *pin, int script, int nkeys,
    int argc, const char **argv, const size_t *argvlen, int timeout_ms,
    store_cb cb, void *arg)
{
	struct store_call	*c;
	struct timeval		 tv;
	size_t			 bytes = 0, nargs = (size_t)argc + 3;
	char			*p;
	int			 rc;

	for (int i = 0; i < argc; i++)
		bytes += argvlen[i] + 1;
	if ((c = calloc(1, sizeof *c + nargs * (sizeof *c->argv +
	    sizeof *c->argvlen) + bytes)) == NULL)
		return -1;
	c->st = st;
	c->cb = cb;
	c->arg = arg;
	c->script = script;
	c->link = pin != NULL ? pin : st->link[0];
	c->slot = pin == NULL && st->cluster != NULL ?
	    store_call_slot(script, nkeys, argc, argv, argvlen) : -1;
	/* decide_cluster: ARGV[1] is the audit key of the node it runs on. */
	if (script == STORE_DECIDE_CLUSTER)
		c->audit_arg = 3 + nkeys;
	snprintf(c->nkeys_text, sizeof c->nkeys_text, "%d", nkeys);
	c->argc = (int)nargs;
	c->argvlen = (size_t *)(c + 1);
	c->argv = (const char **)(c->argvlen + nargs);
	p = (char *)(c->argv + nargs);
	for (int i = 0; i < argc; i++) {
		memcpy(p, argv[i], argvlen[i]);
		p[argvlen[i]] = '\0';
		c->argv[3 + i] = p;
		c->argvlen[3 + i] = argvlen[i];
		p += argvlen[i] + 1;
	}
	st->calls++;
	st->pending++;
	c->sending = 1;
	rc = store_send(st, c);
	c->sending = 0;
	if (rc != 0 || c->send_failed) {
		c->timer = evtimer_new(st->base, store_fail_later, c);
		tv.tv_sec = 0;
		tv.tv_usec = 0;
	} else {
		c->timer = evtimer_new(st->base, store_call_timeout, c);
		if (timeout_ms < 0)
			timeout_ms = st->timeout_ms;
		tv.tv_sec = timeout_ms / 1000;
		tv.tv_usec = (timeout_ms % 1000) * 1000;
	}
	if (c->timer == NULL) {
		st->pending--;
		if (c->in_redis) {
			/* hiredis owns it now; answer when it calls back. */
			c->answered = 1;
			return -1;
		}
		free(c);
		return -1;
	}
	evtimer_add(c->timer, &tv);
	return 0;
}

int
store_script(struct store *st, enum store_script s, int nkeys, int argc,
    const char **argv, const size_t *argvlen, int timeout_ms, store_cb cb,
    void *arg)
{
	/* What crosses nodes, or waits for replicas, is cluster.c's. */
	if (s == STORE_DECIDE && (st->cluster != NULL || st->wait_replicas > 0))
		return cluster_decide(st, st->cluster, nkeys, argc, argv, argvlen,
		    timeout_ms, cb, arg);
	if (s == STORE_ERASE_AUDIT && st->cluster != NULL)
		return cluster_erase_audit(st, st->cluster, argc, argv, argvlen,
		    timeout_ms, cb, arg);
	return store_call_on(st, NULL, (int)s, nkeys, argc, argv, argvlen,
	    timeout_ms, cb, arg);
}

int
store_command(struct store *st, int argc, const char **argv, const size_t *argvlen,
    store_cb cb, void *arg)
{
	return store_call_on(st, NULL, -1, 0, argc, argv, argvlen, -1, cb, arg);
}

int
store_wait_replicas(const struct store *st)
{
	return st->wait_replicas;
}

/*
 * Reply to FUNCTION LIST LIBRARYNAME (asked first, on connect: it is small,
 * and Redis drops a client that sends a large command before it
 * authenticated) or FUNCTION LOAD (privdata set): the library is there,
 * or an empty list says to load it.
 */
static void
store_library_cb(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct store_link	*l = ac->data;
	redisReply		*rr = reply;

	if (l == NULL)
		return;
	if (privdata != NULL)
		l->loading = 0;
	else
		l->listing = 0;
	if (rr == NULL)
		return;
	if (rr->type != REDIS_REPLY_ERROR) {
		l->auth_failed = 0;
		l->backoff_ms = STORE_BACKOFF_MIN_MS;
	}
	if (rr->type == REDIS_REPLY_ERROR && (strncmp(rr->str, "NOAUTH", 6) == 0 ||
	    strncmp(rr->str, "WRONGPASS", 9) == 0)) {
		/* Without a password: reconnect with backoff, as store_auth_cb. */
		uint64_t	 held;

		if (l->st->password == NULL) {
			l->auth_failed = 1;
			if (store_warning_due(&l->warn_auth, &held))
				log_error("redis wants a password (redis.password)",
				    "host=%s port=%d detail=\"%s\" held=%llu", l->host,
				    l->port, rr->str, (unsigned long long)held);
			l->connected = 0;
			redisAsyncDisconnect(ac);
		}
	} else if (rr->type == REDIS_REPLY_ERROR &&
	    strncmp(rr->str, "READONLY", 8) == 0)
		/* A cluster's replica (a seed): its master's library comes by
		 * replication; pacerd calls masters only. */
		log_debug("redis replica: the library comes from its master",
		    "host=%s port=%d", l->host, l->port);
	else if (rr->type == REDIS_REPLY_ERROR)
		log_error("redis function library not loaded (Redis 7.0 or later "
		    "is needed)", "host=%s port=%d detail=\"%s\"", l->host, l->port,
		    rr->str);
	else if (rr->type == REDIS_REPLY_ARRAY && rr->elements == 0)
		store_load(l);
	else {
		l->loaded = 1;
		l->last_reply = clock_mono_s();
	}
}

/* Ask whether the library is there (one FUNCTION LIST at a time). */
static void
store_library_ask(struct store_link *l)
{
	if (l->listing || l->ac == NULL)
		return;
	l->listing = 1;
	redisAsyncCommand(l->ac, store_library_cb, NULL,
	    "FUNCTION LIST LIBRARYNAME %s", SCRIPT_LIBRARY_NAME);
}

/*
 * Queue the function library (daemon/embed.cmake), unless a load is queued
 * already: calls sent after it find it. REPLACE makes it harmless when
 * another pacerd of the same version loaded it first.
 */
static void
store_load(struct store_link *l)
{
	if (l->loading || l->ac == NULL)
		return;
	l->loading = 1;
	redisAsyncCommand(l->ac, store_library_cb, l, "FUNCTION LOAD REPLACE %s",
	    SCRIPT_LIBRARY);
}

/*
 * AUTH reply. A refused password (or a Redis that wants one) leaves the
 * store not ready; the connection is dropped and made again with backoff,
 * so that fixing the password in Redis (or in the config and reloading)
 * brings pacerd back by itself.
 */
static void
store_auth_cb(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct store_link	*l = ac->data;
	redisReply		*rr = reply;
	uint64_t		 held;

	(void)privdata;
	if (l == NULL || rr == NULL || rr->type != REDIS_REPLY_ERROR) {
		if (l != NULL && rr != NULL)
			l->auth_failed = 0;
		return;
	}
	l->auth_failed = 1;
	if (store_warning_due(&l->warn_auth, &held))
		log_error("redis AUTH failed",
		    "host=%s port=%d detail=\"%s\" held=%llu", l->host, l->port,
		    rr->str, (unsigned long long)held);
	l->connected = 0;
	redisAsyncDisconnect(ac);
}

/* TIME reply: one measure of Redis's clock against ours. */
static void
store_time_cb(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct store_link	*l = ac->data;
	struct store		*st;
	redisReply		*rr = reply;
	int64_t			 recv_us = clock_wall_us(), redis_us, rtt_ms, off_ms;
	uint64_t		 held;

	(void)privdata;
	if (l == NULL)
		return;
	st = l->st;
	l->clock_asking = 0;
	if (rr == NULL || rr->type != REDIS_REPLY_ARRAY || rr->elements != 2 ||
	    rr->element[0]->type != REDIS_REPLY_STRING ||
	    rr->element[1]->type != REDIS_REPLY_STRING)
		return;
	redis_us = strtoll(rr->element[0]->str, NULL, 10) * 1000000 +
	    strtoll(rr->element[1]->str, NULL, 10);
	rtt_ms = (recv_us - l->clock_sent_us) / 1000;
	off_ms = (redis_us - (l->clock_sent_us + recv_us) / 2) / 1000;
	/* The shortest round trip measures best; an old measure gives way. */
	if (st->clock_known && rtt_ms > st->clock_rtt_ms &&
	    clock_mono_s() - st->clock_at < STORE_CLOCK_KEEP_S)
		return;
	if ((off_ms > 1000 || off_ms < -1000) &&
	    store_warning_due(&st->warn_clock, &held))
		log_warn("our clock and redis's differ; deciding on redis's",
		    "offset_ms=%lld", (long long)off_ms);
	st->clock_offset_ms = off_ms;
	st->clock_rtt_ms = rtt_ms;
	st->clock_at = clock_mono_s();
	st->clock_known = 1;
}

/*
 * Measure Redis's clock against ours (one TIME at a time); on connect it
 * is queued behind the library's question, so readiness waits for nothing.
 * On a cluster every master is asked in turn: their clocks are meant to
 * agree (NTP), and the measure with the shortest round trip counts.
 */
static void
store_clock_ask(struct store_link *l, int connecting)
{
	if (l == NULL || l->ac == NULL || (!l->connected && !connecting) ||
	    l->clock_asking)
		return;
	l->clock_asking = 1;
	l->clock_sent_us = clock_wall_us();
	redisAsyncCommand(l->ac, store_time_cb, NULL, "TIME");
}

/* OOM probe reply: a decide call of no decisions is a write to Redis. */
static void
store_oom_probe_cb(const struct store_reply *r, void *arg)
{
	struct store_link	*l = arg;

	if (r->ok && l->oom) {
		log_warn("redis takes writes again", "host=%s port=%d", l->host,
		    l->port);
		l->oom = 0;
	}
}

/* While a Redis refuses writes, ask once a health round whether it still does. */
static void
store_oom_probe(struct store *st, struct store_link *l)
{
	const char	*argv[4];
	size_t		 argvlen[4];
	int		 argc = 3;

	if (st->cluster == NULL) {
		argv[0] = st->audit_key;
		argv[1] = argv[2] = "0";
	} else {
		/* decide_cluster of no decisions: ARGV audit, N, deadline, P. */
		argv[0] = "";	/* the link's audit key (store_send) */
		argv[1] = argv[2] = argv[3] = "0";
		argc = 4;
	}
	for (int i = 0; i < argc; i++)
		argvlen[i] = strlen(argv[i]);
	store_call_on(st, l, st->cluster == NULL ? STORE_DECIDE :
	    STORE_DECIDE_CLUSTER, st->cluster == NULL ? 1 : 0, argc, argv, argvlen,
	    -1, store_oom_probe_cb, l);
}

/* Connection established (or failed). */
static void
store_connected_cb(const redisAsyncContext *ac, int status)
{
	struct store_link	*l = ac->data;
	struct timeval		 tv;

	if (l == NULL)
		return;
	if (status != REDIS_OK) {
		uint64_t	 held;

		if (store_warning_due(&l->warn_connect, &held))
			log_warn("redis connect failed", "host=%s port=%d "
			    "detail=\"%s\" held=%llu", l->host, l->port, ac->errstr,
			    (unsigned long long)held);
		l->ac = NULL;	/* hiredis frees it after this callback */
		tv.tv_sec = l->backoff_ms / 1000;
		tv.tv_usec = (l->backoff_ms % 1000) * 1000;
		evtimer_add(l->reconnect, &tv);
		l->backoff_ms = l->backoff_ms * 2 > STORE_BACKOFF_MAX_MS ?
		    STORE_BACKOFF_MAX_MS : l->backoff_ms * 2;
		return;
	}
	l->connected = 1;
	l->degraded = 0;
	if (l->id == 0)
		l->st->clock_known = 0;	/* it may be another Redis now */
	l->last_reply = clock_mono_s();
	if (!l->auth_failed)
		log_info("redis connected", "host=%s port=%d", l->host, l->port);
	/* A cluster node that comes (back) may say where the slots are now. */
	if (l->st->cluster != NULL) {
		l->st->map_wanted = 1;
		store_map_ask(l->st);
	}
}

/* Connection lost: pending calls have been failed by hiredis. */
static void
store_disconnected_cb(const redisAsyncContext *ac, int status)
{
	struct store_link	*l = ac->data;
	struct timeval		 tv;

	(void)status;
	if (l == NULL || l->st->closing)
		return;
	l->ac = NULL;
	l->connected = 0;
	l->loaded = 0;
	l->loading = 0;
	l->listing = 0;
	l->clock_asking = 0;
	if (!l->auth_failed)
		log_warn("redis disconnected", "host=%s port=%d detail=\"%s\"",
		    l->host, l->port, ac->errstr);
	else
		l->backoff_ms = l->backoff_ms * 2 > STORE_BACKOFF_MAX_MS ?
		    STORE_BACKOFF_MAX_MS : l->backoff_ms * 2;
	if (l->st->cluster != NULL)
		l->st->map_wanted = 1;
	tv.tv_sec = 0;
	tv.tv_usec = l->backoff_ms * 1000;
	evtimer_add(l->reconnect, &tv);
}

/* Start connecting; failures retry from the reconnect timer. */
static void
store_connect(struct store_link *l)
{
	struct timeval	 tv;

	l->ac = redisAsyncConnect(l->host, l->port);
	if (l->ac == NULL || l->ac->err) {
		log_warn("redis connect failed", "host=%s port=%d detail=\"%s\"",
		    l->host, l->port, l->ac ? l->ac->errstr : "out of memory");
		if (l->ac != NULL)
			redisAsyncFree(l->ac);
		l->ac = NULL;
		tv.tv_sec = 0;
		tv.tv_usec = l->backoff_ms * 1000;
		evtimer_add(l->reconnect, &tv);
		return;
	}
	l->ac->data = l;
	redisLibeventAttach(l->ac, l->st->base);
	redisAsyncSetConnectCallback(l->ac, store_connected_cb);
	redisAsyncSetDisconnectCallback(l->ac, store_disconnected_cb);
	/* Queued now, sent first once the socket connects. */
	if (l->st->password != NULL)
		redisAsyncCommand(l->ac, store_auth_cb, NULL, "AUTH %s",
		    l->st->password);
	store_library_ask(l);
	store_clock_ask(l, 1);
}

/* Reconnect timer. */
static void
store_reconnect_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	store_connect(arg);
}

/* End of a loop turn: write what calls made inside callbacks queued. */
static void
store_kick_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct store_link	*l = arg;

	(void)fd;
	(void)ev;
	if (l->ac != NULL && l->connected)
		redisAsyncHandleWrite(l->ac);
}

struct store_link *
store_link_get(struct store *st, const char *host, int port)
{
	struct store_link	*l;

	for (int i = 0; i < st->nlinks; i++)
		if (st->link[i]->port == port && !strcmp(st->link[i]->host, host))
			return st->link[i];
	if (st->nlinks == STORE_LINKS_MAX || (l = calloc(1, sizeof *l)) == NULL)
		return NULL;
	l->st = st;
	l->id = st->nlinks;
	l->port = port;
	l->backoff_ms = STORE_BACKOFF_MIN_MS;
	l->host = strdup(host);
	l->reconnect = evtimer_new(st->base, store_reconnect_cb, l);
	l->kick = event_new(st->base, -1, 0, store_kick_cb, l);
	if (l->host == NULL || l->reconnect == NULL || l->kick == NULL) {
		free(l->host);
		if (l->reconnect != NULL)
			event_free(l->reconnect);
		if (l->kick != NULL)
			event_free(l->kick);
		free(l);
		return NULL;
	}
	st->link[st->nlinks++] = l;
	store_connect(l);
	return l;
}

int
store_link_ready(const struct store_link *l)
{
	return l != NULL && l->ac != NULL && l->connected && !l->degraded &&
	    l->loaded && !l->oom && !l->auth_failed;
}

/* CLUSTER SLOTS reply: the slot map, read by cluster.c. */
static void
store_map_cb(const struct store_reply *r, void *arg)
{
	struct store	*st = arg;
	uint64_t	 held;

	st->map_asking = 0;
	if (!r->ok || cluster_read_slots(st->cluster, st, (const redisReply *)r->value) != 0) {
		st->map_wanted = 1;
		if (store_warning_due(&st->warn_cluster, &held))
			log_warn("redis cluster: no slot map", "detail=\"%s\" "
			    "held=%llu", r->ok ? "unexpected CLUSTER SLOTS reply" :
			    r->error, (unsigned long long)held);
	}
}

/*
 * Read the cluster's slot map (CLUSTER SLOTS) from the next connected
 * node, one question at a time.
 */
static void
store_map_ask(struct store *st)
{
	const char		*argv[2] = { "CLUSTER", "SLOTS" };
	size_t			 argvlen[2] = { 7, 5 };
	struct store_link	*l = NULL;

	if (st->cluster == NULL || st->map_asking || st->closing)
		return;
	for (int i = 0; i < st->nlinks && l == NULL; i++) {
		struct store_link *k = st->link[(st->map_next + i) % st->nlinks];

		if (k->ac != NULL && k->connected && !k->auth_failed)
			l = k;
	}
	if (l == NULL)
		return;
	st->map_next = (l->id + 1) % st->nlinks;
	st->map_asking = 1;
	st->map_wanted = 0;
	if (store_call_on(st, l, -1, 0, 2, argv, argvlen, -1, store_map_cb,
	    st) != 0)
		st->map_asking = 0;
}

/*
 * Health timer: a connection with calls due and no reply for long is hung;
 * the clock is measured; a cluster's map is read again every second, and
 * at every tick while some slot's master cannot be reached (a failover).
 */
static void
store_health_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct store	*st = arg;

	(void)fd;
	(void)ev;
	++st->ticks;
	if (st->ticks % STORE_CLOCK_EVERY == 0 || !st->clock_known) {
		int	 i = st->ticks / STORE_CLOCK_EVERY % st->nlinks;

		store_clock_ask(st->link[i], 0);
		if (!st->clock_known)
			for (i = 0; i < st->nlinks; i++)
				store_clock_ask(st->link[i], 0);
	}
	if (st->cluster != NULL && (st->map_wanted ||
	    st->ticks % STORE_MAP_EVERY == 0 || !cluster_ready(st->cluster)))
		store_map_ask(st);
	for (int i = 0; i < st->nlinks; i++) {
		struct store_link *l = st->link[i];

		if (l->oom && l->loaded && st->ticks % STORE_CLOCK_EVERY == 0)
			store_oom_probe(st, l);
		/*
		 * A replica seed answered READONLY to the load: once failover
		 * makes it a master (its library came by replication), it is
		 * ready only when it says so.
		 */
		if (st->cluster != NULL && l->ac != NULL && l->connected &&
		    !l->loaded && !l->loading && !l->auth_failed)
			store_library_ask(l);
		if (l->ac != NULL && l->connected && l->degraded &&
		    (clock_mono_s() - l->last_reply) * 1000 > STORE_HUNG_MS) {
			log_warn("redis not answering, reconnecting", "host=%s "
			    "port=%d pending=%d", l->host, l->port, st->pending);
			/* Not ready from now on: late replies must not make it look so. */
			l->connected = 0;
			redisAsyncDisconnect(l->ac);
		}
	}
}

struct store *
store_new(struct event_base *base, const struct conf *conf, char **cause)
{
	struct store	*st;
	struct timeval	 tv = { 0, STORE_HEALTH_MS * 1000 };
	char		 host[SLOT_HOST_MAX];
	size_t		 pos = 0;
	int		 port;

	if ((st = calloc(1, sizeof *st)) == NULL)
		goto oom;
	st->base = base;
	st->timeout_ms = conf->redis.timeout_ms;
	st->wait_replicas = conf->redis.wait_replicas;
	if (conf->redis.password != NULL &&
	    (st->password = strdup(conf->redis.password)) == NULL)
		goto oom;
	if ((st->audit_key = malloc(KEYS_MAX)) == NULL)
		goto oom;
	keys_global(st->audit_key, KEYS_MAX, conf->redis.prefix, "audit");
	st->health = event_new(base, -1, EV_PERSIST, store_health_cb, st);
	if (st->health == NULL)
		goto oom;
	if (conf->redis.nodes != NULL) {
		/* A cluster: its seeds now, its masters as the map names them. */
		if ((st->cluster = cluster_new(conf->redis.prefix)) == NULL)
			goto oom;
		while (slot_next_node(conf->redis.nodes, &pos, host, &port) == 1)
			if (store_link_get(st, host, port) == NULL)
				goto oom;
		if (st->nlinks == 0) {
			*cause = strdup("redis: [redis] nodes names no node");
			store_free(st);
			return NULL;
		}
	} else if (store_link_get(st, conf->redis.host, conf->redis.port) == NULL)
		goto oom;
	evtimer_add(st->health, &tv);
	return st;
oom:
	*cause = strdup("out of memory");
	store_free(st);
	return NULL;
}

void
store_free(struct store *st)
{
	if (st == NULL)
		return;
	st->closing = 1;
	for (int i = 0; i < st->nlinks; i++) {
		struct store_link *l = st->link[i];

		if (l->ac != NULL) {
			l->ac->data = NULL;
			redisAsyncFree(l->ac);
		}
		event_free(l->reconnect);
		event_free(l->kick);
		free(l->host);
		free(l);
	}
	if (st->health != NULL)
		event_free(st->health);
	cluster_free(st->cluster);
	free(st->password);
	free(st->audit_key);
	free(st);
}

int
store_ready(const struct store *st)
{
	if (!st->clock_known)
		return 0;
	if (st->cluster != NULL)
		return cluster_ready(st->cluster);
	return store_link_ready(st->link[0]);
}

int64_t
store_clock_offset_ms(const struct store *st, int64_t *uncertainty_ms)
{
	*uncertainty_ms = st->clock_known ? (st->clock_rtt_ms + 1) / 2 + 1 : 0;
	return st->clock_known ? st->clock_offset_ms : 0;
}

int
store_oom(const struct store *st)
{
	for (int i = 0; i < st->nlinks; i++)
		if (st->link[i]->oom)
			return 1;
	return 0;
}

void
store_set_timeout(struct store *st, int timeout_ms)
{
	st->timeout_ms = timeout_ms;
}

void
store_stats(const struct store *st, uint64_t *calls, uint64_t *errors,
    uint64_t *timeouts)
{
	*calls = st->calls;
	*errors = st->errors;
	*timeouts = st->timeouts;
}

int
store_link_id(const struct store_link *l)
{
	return l->id;
}

int
store_clustered(const struct store *st)
{
	return st->cluster != NULL;
}

const char *
store_audit_key(const struct store *st)
{
	return st->audit_key;
}

struct event_base *
store_base(const struct store *st)
{
	return st->base;
}

struct store_link *
store_replying(const struct store *st)
{
	return st->replying;
}
