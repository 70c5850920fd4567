/*
 * The store: one hiredis asynchronous connection to Redis on the daemon's
 * event loop. Every call in flight is pipelined on that connection; each has
 * its own timer because hiredis 0.14 has no command timeout; the connection
 * comes back by itself with a short backoff after Redis goes away.
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
#include "scripts.h"

#define STORE_BACKOFF_MIN_MS	50
#define STORE_BACKOFF_MAX_MS	500	/* readiness returns within a second */
#define STORE_HUNG_MS		2000	/* no reply this long with calls due: reconnect */
#define STORE_HEALTH_MS		200
#define STORE_RELOADS_MAX	3	/* library loads for one call */
#define STORE_CLOCK_EVERY	5	/* health ticks between clock measures */
#define STORE_CLOCK_KEEP_S	10	/* a measure's life, unless a better one comes */
#define STORE_LOG_EVERY_S	10	/* a repeated warning, at most this often */

/* The library's functions (daemon/embed.cmake names them). */
static const char *const store_functions[STORE_NSCRIPTS] = {
	SCRIPT_DECIDE, SCRIPT_CANCEL, SCRIPT_READ, SCRIPT_ERASE,
	SCRIPT_ERASE_AUDIT,
};

/* A warning repeated at most every STORE_LOG_EVERY_S, with what it held back. */
struct store_warning {
	double		 last;
	uint64_t	 held;
};

/* One call: lives until both its callback ran and hiredis let go of it. */
struct store_call {
	struct store	*st;
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
	int		 argc;		/* argv[0..2] left for FCALL NAME NKEYS */
	const char	**argv;		/* into the same allocation */
	size_t		*argvlen;
	char		 nkeys_text[16];
};

struct store {
	struct event_base	*base;
	redisAsyncContext	*ac;
	char			*host;
	int			 port;
	char			*password;
	char			*audit_key;	/* the OOM probe's key */
	int			 timeout_ms;
	int			 connected;
	int			 degraded;	/* calls timing out, no reply since */
	int			 loaded;	/* the function library is */
	int			 loading;	/* a FUNCTION LOAD is queued */
	struct event		*reconnect;
	struct event		*health;
	struct event		*kick;		/* writes what callbacks queued */
	int			 backoff_ms;
	int			 pending;
	double			 last_reply;
	uint64_t		 calls, errors, timeouts;
	int			 closing;
	int			 auth_failed;	/* AUTH refused: reconnect and retry */
	int			 oom;		/* Redis refuses writes (maxmemory) */
	int			 ticks;		/* health ticks */
	/* Redis's clock against ours (store_clock_offset_ms). */
	int			 clock_known;
	int			 clock_asking;
	int64_t			 clock_sent_us;
	int64_t			 clock_offset_ms, clock_rtt_ms;
	double			 clock_at;
	struct store_warning	 warn_error, warn_connect, warn_auth, warn_clock;
};

static void	store_connect(struct store *);

/* Seconds on a monotonic clock. */
static double
store_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Our wall clock in unix microseconds (not the loop's cached one). */
static int64_t
store_wall_us(void)
{
	struct timeval	 tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

/*
 * Whether a repeated warning is due now; when not, count it as held back.
 * *held is what was held back since the last one (then reset).
 */
static int
store_warning_due(struct store_warning *w, uint64_t *held)
{
	double	 now = store_now();

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
	struct store		*st = c->st;
	struct store_reply	 r = { 0, "store timeout", NULL };

	(void)fd;
	(void)ev;
	/*
	 * On a busy loop the reply may already wait in the socket while the
	 * timer fires first: take it before giving up, so that an answer the
	 * script gave in time is the one the caller gets.
	 */
	c->timing_out = 1;
	if (st->ac != NULL && st->connected && !c->answered)
		redisAsyncHandleRead(st->ac);
	c->timing_out = 0;
	if (!c->answered) {
		st->timeouts++;
		st->degraded = 1;
		store_call_answer(c, &r);
	}
	store_call_release(c);
}

static int	store_send(struct store *, struct store_call *);
static void	store_load(struct store *);

/* hiredis callback for every call. */
static void
store_reply_cb(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct store_call	*c = privdata;
	redisReply		*rr = reply;
	struct store		*st = ac->data;
	struct store_reply	 r = { 1, NULL, reply };
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
		st->last_reply = store_now();
		st->degraded = 0;
		if (rr->type == REDIS_REPLY_ERROR) {
			/*
			 * The library is gone (FUNCTION FLUSH, or a Redis that
			 * lost it): load it and call again (a few times: it
			 * may go again before the call runs).
			 */
			if (c->script >= 0 && !c->answered &&
			    c->reloads < STORE_RELOADS_MAX &&
			    strstr(rr->str, "Function not found") != NULL) {
				c->reloads++;
				log_warn("redis lost the function library, loading "
				    "it again", "detail=\"%s\"", rr->str);
				store_load(st);
				if (store_send(st, c) == 0)
					return;
			}
			r.ok = 0;
			r.error = rr->str;
			st->errors++;
			/* Out of memory: not ready until a write goes through. */
			if (strncmp(rr->str, "OOM", 3) == 0) {
				if (!st->oom)
					log_warn("redis refuses writes: out of memory "
					    "(maxmemory)", "detail=\"%s\"", rr->str);
				st->oom = 1;
			} else if (store_warning_due(&st->warn_error, &held))
				log_warn("store error", "detail=\"%s\" held=%llu",
				    rr->str, (unsigned long long)held);
		} else if (c->script == STORE_DECIDE || c->script == STORE_CANCEL ||
		    c->script == STORE_ERASE) {
			if (st->oom)
				log_warn("redis takes writes again", "%s", "");
			st->oom = 0;
		}
	}
	if (!r.ok && rr == NULL && st != NULL && !c->answered)
		st->errors++;
	store_call_answer(c, &r);
	store_call_release(c);
}

/* Hand a call to hiredis (a function as FCALL); 0 or -1. */
static int
store_send(struct store *st, struct store_call *c)
{
	int	 first = 3;

	if (st->ac == NULL || !st->connected)
		return -1;
	if (c->script >= 0) {
		c->argv[0] = "FCALL";
		c->argv[1] = store_functions[c->script];
		c->argv[2] = c->nkeys_text;
		for (int i = 0; i < 3; i++)
			c->argvlen[i] = strlen(c->argv[i]);
		first = 0;
	}
	if (redisAsyncCommandArgv(st->ac, store_reply_cb, c, c->argc - first,
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
	if (st->ac->c.flags & REDIS_IN_CALLBACK)
		event_active(st->kick, EV_TIMEOUT, 0);
	else
		redisAsyncHandleWrite(st->ac);
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
 * Make and send a call; 0, or -1 when out of memory. The call, its
 * argument vectors and a copy of the arguments are one allocation.
 */
static int
store_call(struct store *st, int script, int nkeys, int argc, const char **argv,
    const size_t *argvlen, int timeout_ms, store_cb cb, void *arg)
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
	return store_call(st, (int)s, nkeys, argc, argv, argvlen, timeout_ms, cb,
	    arg);
}

int
store_command(struct store *st, int argc, const char **argv, const size_t *argvlen,
    store_cb cb, void *arg)
{
	return store_call(st, -1, 0, argc, argv, argvlen, -1, cb, arg);
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
	struct store	*st = ac->data;
	redisReply	*rr = reply;

	if (st == NULL)
		return;
	if (privdata != NULL)
		st->loading = 0;
	if (rr == NULL)
		return;
	if (rr->type != REDIS_REPLY_ERROR) {
		st->auth_failed = 0;
		st->backoff_ms = STORE_BACKOFF_MIN_MS;
	}
	if (rr->type == REDIS_REPLY_ERROR && (strncmp(rr->str, "NOAUTH", 6) == 0 ||
	    strncmp(rr->str, "WRONGPASS", 9) == 0)) {
		/* Without a password: reconnect with backoff, as store_auth_cb. */
		uint64_t	 held;

		if (st->password == NULL) {
			st->auth_failed = 1;
			if (store_warning_due(&st->warn_auth, &held))
				log_error("redis wants a password (redis.password)",
				    "host=%s port=%d detail=\"%s\" held=%llu", st->host,
				    st->port, rr->str, (unsigned long long)held);
			st->connected = 0;
			redisAsyncDisconnect(ac);
		}
	} else if (rr->type == REDIS_REPLY_ERROR)
		log_error("redis function library not loaded (Redis 7.0 or later "
		    "is needed)", "detail=\"%s\"", rr->str);
	else if (rr->type == REDIS_REPLY_ARRAY && rr->elements == 0)
		store_load(st);
	else {
		st->loaded = 1;
		st->last_reply = store_now();
	}
}

/*
 * Queue the function library (daemon/embed.cmake), unless a load is queued
 * already: calls sent after it find it. REPLACE makes it harmless when
 * another pacerd of the same version loaded it first.
 */
static void
store_load(struct store *st)
{
	if (st->loading)
		return;
	st->loading = 1;
	redisAsyncCommand(st->ac, store_library_cb, st, "FUNCTION LOAD REPLACE %s",
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
	struct store	*st = ac->data;
	redisReply	*rr = reply;
	uint64_t	 held;

	(void)privdata;
	if (st == NULL || rr == NULL || rr->type != REDIS_REPLY_ERROR) {
		if (st != NULL && rr != NULL)
			st->auth_failed = 0;
		return;
	}
	st->auth_failed = 1;
	if (store_warning_due(&st->warn_auth, &held))
		log_error("redis AUTH failed",
		    "host=%s port=%d detail=\"%s\" held=%llu", st->host, st->port,
		    rr->str, (unsigned long long)held);
	st->connected = 0;
	redisAsyncDisconnect(ac);
}

/* TIME reply: one measure of Redis's clock against ours. */
static void
store_time_cb(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct store	*st = ac->data;
	redisReply	*rr = reply;
	int64_t		 recv_us = store_wall_us(), redis_us, rtt_ms, off_ms;
	uint64_t	 held;

	(void)privdata;
	if (st == NULL)
		return;
	st->clock_asking = 0;
	if (rr == NULL || rr->type != REDIS_REPLY_ARRAY || rr->elements != 2 ||
	    rr->element[0]->type != REDIS_REPLY_STRING ||
	    rr->element[1]->type != REDIS_REPLY_STRING)
		return;
	redis_us = strtoll(rr->element[0]->str, NULL, 10) * 1000000 +
	    strtoll(rr->element[1]->str, NULL, 10);
	rtt_ms = (recv_us - st->clock_sent_us) / 1000;
	off_ms = (redis_us - (st->clock_sent_us + recv_us) / 2) / 1000;
	/* The shortest round trip measures best; an old measure gives way. */
	if (st->clock_known && rtt_ms > st->clock_rtt_ms &&
	    store_now() - st->clock_at < STORE_CLOCK_KEEP_S)
		return;
	if ((off_ms > 1000 || off_ms < -1000) &&
	    store_warning_due(&st->warn_clock, &held))
		log_warn("our clock and redis's differ; deciding on redis's",
		    "offset_ms=%lld", (long long)off_ms);
	st->clock_offset_ms = off_ms;
	st->clock_rtt_ms = rtt_ms;
	st->clock_at = store_now();
	st->clock_known = 1;
}

/*
 * Measure Redis's clock against ours (one TIME at a time); on connect it
 * is queued behind the library's question, so readiness waits for nothing.
 */
static void
store_clock_ask(struct store *st, int connecting)
{
	if (st->ac == NULL || (!st->connected && !connecting) || st->clock_asking)
		return;
	st->clock_asking = 1;
	st->clock_sent_us = store_wall_us();
	redisAsyncCommand(st->ac, store_time_cb, NULL, "TIME");
}

/* OOM probe reply: a decide call of no decisions is a write to Redis. */
static void
store_oom_probe_cb(const struct store_reply *r, void *arg)
{
	struct store	*st = arg;

	if (r->ok && st->oom) {
		log_warn("redis takes writes again", "%s", "");
		st->oom = 0;
	}
}

/* While Redis refuses writes, ask once a health round whether it still does. */
static void
store_oom_probe(struct store *st)
{
	const char	*argv[3] = { st->audit_key, "0", "0" };
	size_t		 argvlen[3];

	for (int i = 0; i < 3; i++)
		argvlen[i] = strlen(argv[i]);
	store_call(st, STORE_DECIDE, 1, 3, argv, argvlen, -1, store_oom_probe_cb, st);
}

/* Connection established (or failed). */
static void
store_connected_cb(const redisAsyncContext *ac, int status)
{
	struct store	*st = ac->data;
	struct timeval	 tv;

	if (st == NULL)
		return;
	if (status != REDIS_OK) {
		uint64_t	 held;

		if (store_warning_due(&st->warn_connect, &held))
			log_warn("redis connect failed", "host=%s port=%d "
			    "detail=\"%s\" held=%llu", st->host, st->port, ac->errstr,
			    (unsigned long long)held);
		st->ac = NULL;	/* hiredis frees it after this callback */
		tv.tv_sec = st->backoff_ms / 1000;
		tv.tv_usec = (st->backoff_ms % 1000) * 1000;
		evtimer_add(st->reconnect, &tv);
		st->backoff_ms = st->backoff_ms * 2 > STORE_BACKOFF_MAX_MS ?
		    STORE_BACKOFF_MAX_MS : st->backoff_ms * 2;
		return;
	}
	st->connected = 1;
	st->degraded = 0;
	st->clock_known = 0;	/* it may be another Redis now */
	st->last_reply = store_now();
	if (!st->auth_failed)
		log_info("redis connected", "host=%s port=%d", st->host, st->port);
}

/* Connection lost: pending calls have been failed by hiredis. */
static void
store_disconnected_cb(const redisAsyncContext *ac, int status)
{
	struct store	*st = ac->data;
	struct timeval	 tv;

	(void)status;
	if (st == NULL || st->closing)
		return;
	st->ac = NULL;
	st->connected = 0;
	st->loaded = 0;
	st->loading = 0;
	st->clock_asking = 0;
	if (!st->auth_failed)
		log_warn("redis disconnected", "host=%s port=%d detail=\"%s\"",
		    st->host, st->port, ac->errstr);
	else
		st->backoff_ms = st->backoff_ms * 2 > STORE_BACKOFF_MAX_MS ?
		    STORE_BACKOFF_MAX_MS : st->backoff_ms * 2;
	tv.tv_sec = 0;
	tv.tv_usec = st->backoff_ms * 1000;
	evtimer_add(st->reconnect, &tv);
}

/* Start connecting; failures retry from the reconnect timer. */
static void
store_connect(struct store *st)
{
	struct timeval	 tv;

	st->ac = redisAsyncConnect(st->host, st->port);
	if (st->ac == NULL || st->ac->err) {
		log_warn("redis connect failed", "detail=\"%s\"",
		    st->ac ? st->ac->errstr : "out of memory");
		if (st->ac != NULL)
			redisAsyncFree(st->ac);
		st->ac = NULL;
		tv.tv_sec = 0;
		tv.tv_usec = st->backoff_ms * 1000;
		evtimer_add(st->reconnect, &tv);
		return;
	}
	st->ac->data = st;
	redisLibeventAttach(st->ac, st->base);
	redisAsyncSetConnectCallback(st->ac, store_connected_cb);
	redisAsyncSetDisconnectCallback(st->ac, store_disconnected_cb);
	/* Queued now, sent first once the socket connects. */
	if (st->password != NULL)
		redisAsyncCommand(st->ac, store_auth_cb, NULL, "AUTH %s", st->password);
	redisAsyncCommand(st->ac, store_library_cb, NULL,
	    "FUNCTION LIST LIBRARYNAME %s", SCRIPT_LIBRARY_NAME);
	store_clock_ask(st, 1);
}

/* Reconnect timer. */
static void
store_reconnect_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	store_connect(arg);
}

/* Health timer: a connection with calls due and no reply for long is hung. */
static void
store_health_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct store	*st = arg;

	(void)fd;
	(void)ev;
	if (++st->ticks % STORE_CLOCK_EVERY == 0 || !st->clock_known)
		store_clock_ask(st, 0);
	if (st->oom && st->loaded && st->ticks % STORE_CLOCK_EVERY == 0)
		store_oom_probe(st);
	if (st->ac != NULL && st->connected && st->degraded &&
	    (store_now() - st->last_reply) * 1000 > STORE_HUNG_MS) {
		log_warn("redis not answering, reconnecting", "pending=%d",
		    st->pending);
		/* Not ready from now on: late replies must not make it look so. */
		st->connected = 0;
		redisAsyncDisconnect(st->ac);
	}
}

/* End of a loop turn: write what calls made inside callbacks queued. */
static void
store_kick_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct store	*st = arg;

	(void)fd;
	(void)ev;
	if (st->ac != NULL && st->connected)
		redisAsyncHandleWrite(st->ac);
}

struct store *
store_new(struct event_base *base, const struct conf *conf, char **cause)
{
	struct store	*st;
	struct timeval	 tv = { 0, STORE_HEALTH_MS * 1000 };

	if ((st = calloc(1, sizeof *st)) == NULL)
		goto oom;
	st->base = base;
	st->port = conf->redis.port;
	st->timeout_ms = conf->redis.timeout_ms;
	st->backoff_ms = STORE_BACKOFF_MIN_MS;
	if ((st->host = strdup(conf->redis.host)) == NULL)
		goto oom;
	if (conf->redis.password != NULL &&
	    (st->password = strdup(conf->redis.password)) == NULL)
		goto oom;
	if ((st->audit_key = malloc(KEYS_MAX)) == NULL)
		goto oom;
	keys_global(st->audit_key, KEYS_MAX, conf->redis.prefix, "audit");
	st->reconnect = evtimer_new(base, store_reconnect_cb, st);
	st->health = event_new(base, -1, EV_PERSIST, store_health_cb, st);
	st->kick = event_new(base, -1, 0, store_kick_cb, st);
	if (st->reconnect == NULL || st->health == NULL || st->kick == NULL)
		goto oom;
	evtimer_add(st->health, &tv);
	store_connect(st);
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
	if (st->ac != NULL) {
		st->ac->data = NULL;
		redisAsyncFree(st->ac);
	}
	if (st->reconnect != NULL)
		event_free(st->reconnect);
	if (st->health != NULL)
		event_free(st->health);
	if (st->kick != NULL)
		event_free(st->kick);
	free(st->host);
	free(st->password);
	free(st->audit_key);
	free(st);
}

int
store_ready(const struct store *st)
{
	return st->ac != NULL && st->connected && !st->degraded && st->loaded &&
	    st->clock_known && !st->oom && !st->auth_failed;
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
	return st->oom;
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
