/*
 * Decisions: validate a request, run the rules that need no store (holdout),
 * then one script call that checks consent, segments, plan, quiet hours and
 * every cap and reserves the contact atomically.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "pacerd.h"
#include "pacer/clock.h"
#include "pacer/str.h"

#define DECIDE_DEADLINE_MARGIN_MS 2	/* clock skew between us and Redis */
#define DECIDE_CALL_MAX 64	/* decisions in one script call */
/*
 * Script calls in flight: while four are, new decisions wait for one to
 * come back and go in the next call. Redis then always has a call to run
 * while pacerd answers the last one and gathers the next; but it answers
 * the calls it reads at once only after running them all, so many calls
 * in its socket hold back answers (at 64 connections 4 did 9% better than
 * 2, and 8 or 64 worse).
 */
#define DECIDE_CALLS_INFLIGHT 4

/* One decision waiting on the store. */
struct decide_ctx {
	struct pacerd		*d;
	struct pacerd_rules	*rules;		/* reference held */
	struct http_request	*req;		/* single decision, or NULL */
	struct decide_batch	*batch;		/* batch item, or NULL */
	int			 index;
	struct decide_request	 r;
	double			 started;
	int64_t			 arrived_ms;	/* loop's clock, unix ms */
};

/*
 * The module's state: decisions waiting for the next script call, calls in
 * flight, and the count in the send ids pacerd makes (after the salt).
 */
struct decide_queue {
	struct decide_call	*pending;	/* decisions for the next call */
	int			 calls;		/* calls in flight */
	struct event		*flush;		/* sends them at the end of the
						   loop turn */
	uint64_t		 send_seq;
};

/* The decisions of one script call. */
struct decide_call {
	struct pacerd		*d;
	int			 n;
	double			 started;
	struct decide_ctx	*item[DECIDE_CALL_MAX];
};

/* A batch waiting on its items. */
struct decide_batch {
	struct pacerd		*d;
	struct http_request	*req;
	int			 n;
	int			 remaining;
	char			**result;	/* JSON text per item */
};

/* The loop's cached wall clock in unix ms. */
static int64_t
decide_loop_ms(struct pacerd *d)
{
	struct timeval	 tv;

	event_base_gettimeofday_cached(d->base, &tv);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

char *
decide_suppress_build(const struct conf *c, const char *category)
{
	char	*s = strdup(""), *t;

	for (int i = 0; s != NULL && i < c->nsegments; i++)
		for (int e = 0; e < c->segments[i].nexclude; e++)
			if (!strcmp(c->segments[i].exclude[e], category)) {
				t = str_printf("%s%s%s;", s, *s ? "" : ";",
				    c->segments[i].name);
				free(s);
				s = t;
				break;
			}
	return s;
}

void
decide_program_build(const struct conf *c, int ch, int has_campaign,
    struct decide_program *p)
{
	const struct conf_channel *cc = &c->channels[ch];
	int64_t	 window = conf_longest_window(c);
	size_t	 off;
	int	 n, order[RULES_MAX_CHECKS];

	memset(p, 0, sizeof *p);
	/* The fixed part of the script's program (daemon/decide.lua). */
	n = snprintf(p->packed, sizeof p->packed, "%s %d %d %d %d %lld %lld %d %d|",
	    cc->name, c->consent_default_allow, cc->quiet_start >= 0 ? cc->quiet_start * 60 : -1,
	    cc->quiet_end >= 0 ? cc->quiet_end * 60 : -1,
	    cc->on_store_failure == CONF_FAIL_ALLOW, (long long)window,
	    (long long)(window > DECIDE_IDEMPOTENCY_S ? window : DECIDE_IDEMPOTENCY_S),
	    DECIDE_AUDIT_LEN, c->priority_reserve);
	off = n > 0 ? (size_t)n : 0;
	p->ncheck = rules_select(c, ch, has_campaign, p->check, RULES_MAX_CHECKS);
	/*
	 * The script takes the checks by ascending limit and stops at the first
	 * above the contacts in the window (usually at once).
	 */
	for (int i = 0; i < p->ncheck; i++)
		order[i] = i;
	for (int i = 1; i < p->ncheck; i++)
		for (int j = i; j > 0 && p->check[order[j - 1]].cap->limit >
		    p->check[order[j]].cap->limit; j--) {
			int	 t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (int i = 0; i < p->ncheck; i++) {
		const struct rules_check *k = &p->check[order[i]];

		/* A category's cap names its category in the segment's place. */
		n = snprintf(p->packed + off, sizeof p->packed - off, "%s%s:%d:%lld:%s:%d",
		    i ? ";" : "", k->scope == CONF_SCOPE_CHANNEL ? "c" :
		    k->scope == CONF_SCOPE_ALL ? "a" :
		    k->scope == CONF_SCOPE_CATEGORY ? "k" : "p", k->cap->limit,
		    (long long)k->cap->window, k->segment >= 0 ?
		    c->segments[k->segment].name :
		    k->scope == CONF_SCOPE_CATEGORY ?
		    c->categories[k->category].name : "", k->shadow);
		if (n < 0 || (size_t)n >= sizeof p->packed - off)
			break;
		off += (size_t)n;
		p->order[p->norder++] = order[i];
	}
	p->packedlen = off;
}

/* Copy a JSON string member into buf; 1 present, 0 absent, -1 bad. */
static int
decide_string(json_t *o, const char *key, char *buf, size_t len, char *cause,
    size_t causelen)
{
	json_t	*v = json_object_get(o, key);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		snprintf(cause, causelen, "%s: must be a string", key);
		return -1;
	}
	if (json_string_length(v) >= len) {
		snprintf(cause, causelen, "%s: longer than %zu bytes", key, len - 1);
		return -1;
	}
	memcpy(buf, json_string_value(v), json_string_length(v) + 1);
	if (strlen(buf) != json_string_length(v)) {
		snprintf(cause, causelen, "%s: contains a NUL byte", key);
		return -1;
	}
	return 1;
}

/* decide_string for a member that must be there; 0, or -1 with the cause. */
static int
decide_required(json_t *o, const char *key, char *buf, size_t len, char *cause,
    size_t causelen)
{
	int	 rc = decide_string(o, key, buf, len, cause, causelen);

	if (rc == 0)
		snprintf(cause, causelen, "%s: required", key);
	return rc == 1 ? 0 : -1;
}

/*
 * Who and what a decision is about: customer, channel, offer (its
 * campaign) and campaign into r; 0, or -1 with the cause.
 */
static int
decide_parse_target(const struct pacerd_rules *rules, json_t *o,
    struct decide_request *r, char *cause, size_t causelen)
{
	const struct conf	*c = rules->conf;
	char			 name[256];
	int			 rc;

	/* customer */
	if (decide_required(o, "customer", name, sizeof name, cause, causelen) != 0)
		return -1;
	if (!keys_valid_customer(name)) {
		snprintf(cause, causelen, "customer: must be 1-128 bytes of "
		    "[A-Za-z0-9_.:@-]");
		return -1;
	}
	memcpy(r->customer, name, strlen(name) + 1);	/* validated: <= 128 */
	/* channel */
	if (decide_required(o, "channel", name, sizeof name, cause, causelen) != 0)
		return -1;
	if ((r->channel = conf_channel_index(c, name)) < 0) {
		snprintf(cause, causelen, "channel: unknown channel \"%.64s\"", name);
		return -1;
	}
	/* offer */
	rc = decide_string(o, "offer", name, sizeof name, cause, causelen);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		if (rules->offers == NULL ||
		    (r->offer = offers_find(rules->offers, name)) < 0) {
			snprintf(cause, causelen, "offer: unknown offer \"%.64s\"", name);
			return -1;
		}
		if (rules->offers->offer[r->offer].channel != r->channel) {
			snprintf(cause, causelen, "offer: \"%.64s\" is sent on %s, not %s",
			    name, c->channels[rules->offers->offer[r->offer].channel].name,
			    c->channels[r->channel].name);
			return -1;
		}
		r->campaign = rules->offers->offer[r->offer].campaign;
	}
	/* campaign */
	rc = decide_string(o, "campaign", name, sizeof name, cause, causelen);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		int	 cp = rules->offers ? offers_campaign(rules->offers, name) : -1;

		if (cp < 0) {
			snprintf(cause, causelen, "campaign: unknown campaign \"%.64s\"",
			    name);
			return -1;
		}
		if (r->offer >= 0 && cp != r->campaign) {
			snprintf(cause, causelen, "campaign: offer belongs to campaign "
			    "\"%s\", not \"%.64s\"",
			    rules->offers->campaign[r->campaign], name);
			return -1;
		}
		r->campaign = cp;
	}
	if (r->campaign >= 0)
		snprintf(r->campaign_name, sizeof r->campaign_name, "%s",
		    rules->offers->campaign[r->campaign]);
	return 0;
}

/* The send id and the client's time into r; 0, or -1 with the cause. */
static int
decide_parse_send(const struct pacerd_rules *rules, json_t *o,
    struct decide_request *r, char *cause, size_t causelen)
{
	const struct conf	*c = rules->conf;
	json_t			*v;
	char			 name[256];
	int			 rc;

	/* send_id */
	rc = decide_string(o, "send_id", name, sizeof name, cause, causelen);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		if (!keys_valid_send_id(name)) {
			snprintf(cause, causelen, "send_id: must be 1-128 bytes of "
			    "[A-Za-z0-9_.:@-]");
			return -1;
		}
		memcpy(r->send_id, name, strlen(name) + 1);	/* validated: <= 128 */
		r->has_send_id = 1;
	}
	/* time */
	if ((v = json_object_get(o, "time")) != NULL && !json_is_null(v)) {
		if (!c->server.allow_client_time) {
			snprintf(cause, causelen, "time: not allowed (server."
			    "allow_client_time = false)");
			return -1;
		}
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 100000000000LL) {
			snprintf(cause, causelen, "time: must be unix seconds (a whole "
			    "number >= 0)");
			return -1;
		}
		r->time = json_integer_value(v);
		r->has_time = 1;
	}
	return 0;
}

/* A boolean member into *out (absent or null: unchanged); 0 or -1. */
static int
decide_bool(json_t *o, const char *key, int *out, char *cause,
    size_t causelen)
{
	json_t	*v = json_object_get(o, key);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v)) {
		snprintf(cause, causelen, "%s: must be true or false", key);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

int
decide_parse(const struct pacerd_rules *rules, json_t *o, int64_t now,
    struct decide_request *r, char *cause, size_t causelen)
{
	const struct conf	*c = rules->conf;
	const struct conf_campaign *settings;
	const char		*key;
	json_t			*v;

	memset(r, 0, sizeof *r);
	r->campaign = r->offer = r->channel = -1;
	r->time = now;
	if (!json_is_object(o)) {
		snprintf(cause, causelen, "a decision must be a JSON object");
		return -1;
	}
	json_object_foreach(o, key, v) {
		if (strcmp(key, "customer") && strcmp(key, "channel") &&
		    strcmp(key, "campaign") && strcmp(key, "offer") &&
		    strcmp(key, "send_id") && strcmp(key, "time") &&
		    strcmp(key, "dry_run") && strcmp(key, "schedule") &&
		    strcmp(key, "priority")) {
			snprintf(cause, causelen, "unknown field \"%.64s\"", key);
			return -1;
		}
	}
	if (decide_parse_target(rules, o, r, cause, causelen) != 0 ||
	    decide_parse_send(rules, o, r, cause, causelen) != 0 ||
	    decide_bool(o, "dry_run", &r->dry_run, cause, causelen) != 0 ||
	    /* schedule: hold the send until every rule allows it */
	    decide_bool(o, "schedule", &r->schedule, cause, causelen) != 0)
		return -1;
	/* priority: the request's, else its campaign's, else normal */
	settings = r->campaign >= 0 ? conf_campaign_find(c,
	    rules->offers->campaign[r->campaign]) : NULL;
	r->priority = settings != NULL ? settings->priority : CONF_PRIORITY_NORMAL;
	r->exempt = settings != NULL && settings->exempt;
	r->counts = settings == NULL || settings->counts;
	if ((v = json_object_get(o, "priority")) != NULL && !json_is_null(v)) {
		if (!json_is_string(v) ||
		    conf_parse_priority(json_string_value(v), &r->priority) != 0) {
			snprintf(cause, causelen, "priority: must be \"low\", "
			    "\"normal\" or \"high\"");
			return -1;
		}
	}
	return 0;
}

/* A fresh send id: unique per process run. */
static void
decide_new_send_id(struct pacerd *d, char *buf, size_t len)
{
	struct str_buf	 b;

	str_buf_init(&b, buf, len);
	str_buf_lit(&b, "p");
	str_buf_hex(&b, d->salt, 16);
	str_buf_lit(&b, "-");
	str_buf_int(&b, (long long)++d->decide->send_seq);
	str_buf_end(&b);
}

/*
 * Render an answer as JSON text (caller frees). Names are validated ids.
 * next_allowed (-1: none) is the send time of a scheduled answer; held
 * says a cap's reserve for priority high denied.
 */
static char *
decide_answer(enum rules_reason reason, int allow, const char *rule,
    int64_t retry_after, int64_t next_allowed, int held, const char *send_id)
{
	char		 buf[1024];
	struct str_buf	 b;

	str_buf_init(&b, buf, sizeof buf);
	str_buf_cat(&b, allow ? "{\"allow\":true,\"reason\":\"" :
	    "{\"allow\":false,\"reason\":\"");
	str_buf_cat(&b, rules_reason_name(reason));
	if (rule != NULL && *rule != '\0') {
		str_buf_lit(&b, "\",\"rule\":\"");
		str_buf_cat(&b, rule);
	}
	str_buf_lit(&b, "\"");
	if (held)
		str_buf_lit(&b, ",\"reserved_for\":\"high\"");
	if (reason == RULES_SCHEDULED && next_allowed >= 0) {
		str_buf_lit(&b, ",\"send_at\":");
		str_buf_int(&b, (long long)next_allowed);
	} else {
		if (retry_after >= 0) {
			str_buf_lit(&b, ",\"retry_after\":");
			str_buf_int(&b, (long long)retry_after);
		}
		if (next_allowed >= 0) {
			str_buf_lit(&b, ",\"next_allowed\":");
			str_buf_int(&b, (long long)next_allowed);
		}
	}
	str_buf_lit(&b, ",\"send_id\":\"");
	str_buf_cat(&b, send_id);
	str_buf_lit(&b, "\"}");
	str_buf_end(&b);	/* names and ids are bounded: it fits */
	return strdup(buf);
}

/*
 * How an answer names a rule (decide.lua), as the API names it, into buf:
 * the position of a check in the program p, or the text a record keeps
 * (a customer's own cap, or a check the running program no longer has).
 * Returns the check a position names, or NULL.
 */
const struct rules_check *
decide_rule(const struct decide_program *p, const char *rule,
    const char *channel, char *buf, size_t len)
{
	char	*end;
	long	 i;

	if (*rule >= '1' && *rule <= '9') {
		i = strtol(rule, &end, 10);
		if (*end == '\0' && i <= p->norder) {
			const struct rules_check *k = &p->check[p->order[i - 1]];

			snprintf(buf, len, "%s", k->cap->text);
			return k;
		}
	}
	pacerd_rule_text(rule, channel, 0, buf, len);
	return NULL;
}

enum rules_reason
decide_reason(const char *s)
{
	for (int i = 0; i < RULES_NREASONS; i++)
		if (!strcmp(s, rules_reason_name((enum rules_reason)i)))
			return (enum rules_reason)i;
	return RULES_STORE_UNAVAILABLE;
}

/* Answer a batch whose items are all done, and free it. */
static void
decide_batch_send(struct pacerd *d, struct decide_batch *b)
{
	struct evbuffer	*buf = evbuffer_new();

	evbuffer_add(buf, "{\"results\":[", 12);
	for (int i = 0; i < b->n; i++) {
		if (i > 0)
			evbuffer_add(buf, ",", 1);
		if (b->result[i] != NULL)
			evbuffer_add(buf, b->result[i], strlen(b->result[i]));
		else
			evbuffer_add(buf, "{\"error\":\"out of memory\"}", 25);
		free(b->result[i]);
	}
	evbuffer_add(buf, "]}", 2);
	http_send_text(d, b->req, 200, (const char *)evbuffer_pullup(buf, -1),
	    evbuffer_get_length(buf), "application/json");
	evbuffer_free(buf);
	free(b->result);
	free(b);
	http_release(d);
}

/*
 * Deliver one finished answer (takes ownership of json): a decision, or
 * with status >= 400 an error object (a batch item carries it as it is).
 */
static void
decide_finish(struct decide_ctx *x, int status, char *json)
{
	struct pacerd	*d = x->d;

	if (status >= 400)
		metrics_http_error(d->metrics, status);
	if (x->batch != NULL) {
		x->batch->result[x->index] = json;
		if (--x->batch->remaining == 0)
			decide_batch_send(d, x->batch);
	} else {
		if (json == NULL)
			http_error(d, x->req, 500, "out of memory");
		else
			http_send_text(d, x->req, status, json, strlen(json),
			    "application/json");
		free(json);
		http_release(d);
	}
	pacerd_rules_unref(x->rules);
	free(x);
}

/*
 * Answer a decision from its script answer (NULL: none): "ok", or
 * "reason|retry_after|rule|shadow_rules|duplicate" (daemon/decide.lua).
 */
static void
decide_done(struct decide_ctx *x, const char *answer)
{
	const struct conf	*c = x->rules->conf;
	const struct conf_channel *ch = &c->channels[x->r.channel];
	const struct decide_program *p =
	    &x->rules->program[x->r.channel][x->r.campaign >= 0];
	enum rules_reason	 reason;
	char			 rule[256] = "", buf[DECIDE_ANSWER_MAX];
	char			*f[DECIDE_ANSWER_FIELDS], *save, text[256];
	int64_t			 retry = -1, next_allowed = -1;
	double			 took = clock_mono_s() - x->started;

	if (answer == NULL) {
		reason = RULES_STORE_UNAVAILABLE;
		metrics_decision(x->d->metrics, x->r.channel, reason, took);
		if (ch->on_store_failure == CONF_FAIL_ALLOW)
			metrics_fail_open(x->d->metrics, x->r.channel);
		decide_finish(x, 200, decide_answer(reason,
		    ch->on_store_failure == CONF_FAIL_ALLOW, NULL, -1, -1, 0,
		    x->r.send_id));
		return;
	}
	if (strncmp(answer, "conflict|", 9) == 0) {
		/* Nothing was stored: the send id belongs to another send. */
		decide_finish(x, 409, strdup("{\"error\":\"send_id: already used for "
		    "another channel, campaign or offer\",\"code\":"
		    "\"send_id_conflict\"}"));
		return;
	}
	decide_answer_split(answer, buf, sizeof buf, f);
	reason = decide_reason(f[0]);
	if (*f[1] != '\0')
		retry = strtoll(f[1], NULL, 10);
	if (*f[5] != '\0')
		next_allowed = strtoll(f[5], NULL, 10);
	if (*f[2] != '\0')
		decide_rule(p, f[2], ch->name, rule, sizeof rule);
	/* Shadow denials count once: not again for a repeated send id. */
	if (strcmp(f[4], "1") != 0)
		for (char *tok = strtok_r(f[3], ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save)) {
			decide_rule(p, tok, ch->name, text, sizeof text);
			metrics_shadow(x->d->metrics, text);
		}
	metrics_decision(x->d->metrics, x->r.channel, reason, took);
	if (reason == RULES_STORE_UNAVAILABLE && ch->on_store_failure ==
	    CONF_FAIL_ALLOW && strcmp(f[4], "1") != 0)
		metrics_fail_open(x->d->metrics, x->r.channel);
	decide_finish(x, 200, decide_answer(reason, reason == RULES_OK ||
	    (reason == RULES_STORE_UNAVAILABLE &&
	    ch->on_store_failure == CONF_FAIL_ALLOW), rule, retry, next_allowed,
	    strcmp(f[6], "high") == 0, x->r.send_id));
}

static void	decide_flush(struct pacerd *, int force);

/*
 * A text of a script argument as a MessagePack string (fixstr, str8 or
 * str16: texts are bounded well below 64 KiB).
 */
static void
decide_arg_text(struct str_buf *b, const char *s)
{
	size_t		 n = strlen(s);
	unsigned char	 h[3];
	size_t		 hn;

	if (n < 32) {
		h[0] = (unsigned char)(0xa0 | n);
		hn = 1;
	} else if (n < 256) {
		h[0] = 0xd9;
		h[1] = (unsigned char)n;
		hn = 2;
	} else {
		h[0] = 0xda;
		h[1] = (unsigned char)(n >> 8);
		h[2] = (unsigned char)n;
		hn = 3;
	}
	str_buf_mem(b, h, hn);
	str_buf_cat(b, s);
}

void
decide_plan_key(const struct pacerd *d, const char *stem, const char *customer,
    char *buf, size_t len)
{
	int	 slot = slot_crc16(customer, strlen(customer)) & (SLOT_COUNT - 1);

	keys_plan(buf, len, d->rules->conf->redis.prefix, slot, stem,
	    keys_plan_part(customer));
}

void
decide_plan_arg(const struct pacerd *d, const char *customer, char *buf,
    size_t len)
{
	const struct pacerd_run *live = &d->run[PACERD_LIVE];

	if (live->id[0] == '\0')
		snprintf(buf, len, "-");
	else if (live->stem[0] == '\0')
		snprintf(buf, len, "=%s", live->id);
	else
		decide_plan_key(d, live->stem, customer, buf, len);
}

size_t
decide_pack(const struct pacerd_rules *rules, const struct decide_request *r,
    int prog, const char *plan, char *buf, size_t len)
{
	const struct offer *of = r->offer >= 0 ? &rules->offers->offer[r->offer] :
	    NULL;
	struct str_buf	 b;
	char		 byte[2], now[24];
	int		 n;

	/* MessagePack values, one after another (decide.lua). */
	/* No client time: "", Redis's clock decides. */
	str_buf_init(&b, now, sizeof now);
	if (r->has_time)
		str_buf_int(&b, (long long)r->time);
	str_buf_end(&b);
	str_buf_init(&b, buf, len);
	decide_arg_text(&b, now);	/* the time as text, or "" */
	byte[0] = (char)prog;		/* fixints: 1..DECIDE_CALL_MAX */
	/* FLAGS (decide.lua): a positive fixint, every bit below 128. */
	byte[1] = (char)((r->dry_run ? 1 : 0) + (r->has_send_id ? 0 : 2) +
	    (r->schedule ? 4 : 0) + (r->exempt ? 8 : 0) +
	    (r->exempt && !r->counts ? 16 : 0) +
	    (r->priority == CONF_PRIORITY_LOW ? 32 : 0) +
	    (r->priority == CONF_PRIORITY_HIGH ? 64 : 0));
	str_buf_mem(&b, byte, sizeof byte);
	decide_arg_text(&b, r->send_id);
	decide_arg_text(&b, r->customer);
	decide_arg_text(&b, r->campaign_name);
	decide_arg_text(&b, of != NULL ? of->name : "");
	decide_arg_text(&b, of != NULL && rules->conf->optimizer.enforce_plan ?
	    plan : "");
	decide_arg_text(&b, of != NULL ? rules->suppress[r->offer] : "");
	decide_arg_text(&b, of != NULL ? of->category : "");
	n = str_buf_end(&b);	/* DECIDE_ARG_MAX holds the longest */
	return n > 0 ? (size_t)n : 0;
}

void
decide_deadline(struct pacerd *d, const struct conf *c, int64_t first,
    char *buf, size_t len)
{
	int64_t	 offset, unc;

	/*
	 * The script judges lateness on Redis's clock: the deadline goes
	 * there by the measured offset, less its uncertainty (so a script
	 * never thinks itself in time when our timer has answered).
	 */
	offset = store_clock_offset_ms(d->store, &unc);
	snprintf(buf, len, "%lld", (long long)(first + c->redis.timeout_ms +
	    offset - unc - (c->redis.timeout_ms > 10 ?
	    DECIDE_DEADLINE_MARGIN_MS : 0)));
}

int64_t
decide_now_ms(struct pacerd *d)
{
	return decide_loop_ms(d);
}

int
decide_answer_split(const char *answer, char *buf, size_t len,
    char *f[DECIDE_ANSWER_FIELDS])
{
	char	*next;
	int	 nf = 0;

	snprintf(buf, len, "%s", answer);
	for (next = buf; next != NULL && nf < DECIDE_ANSWER_FIELDS; nf++)
		f[nf] = strsep(&next, "|");
	for (int i = nf; i < DECIDE_ANSWER_FIELDS; i++)
		f[i] = "";
	return strcmp(f[0], "conflict") == 0 ? -1 : 0;
}

/* Script reply for a call: one answer per decision, in order. */
static void
decide_call_cb(const struct store_reply *sr, void *arg)
{
	struct decide_call	*k = arg;
	const struct store_value *v = sr->value;
	int			 ok = sr->ok;

	metrics_store_rtt(k->d->metrics, clock_mono_s() - k->started, sr->ok);
	if (ok && store_count(v) != (size_t)k->n)
		ok = 0;
	for (int i = 0; ok && i < k->n; i++)
		if (store_item_text(v, (size_t)i) == NULL)
			ok = 0;
	if (sr->ok && !ok)
		log_warn("unexpected script reply", "decisions=%d", k->n);
	for (int i = 0; i < k->n; i++)
		decide_done(k->item[i], ok ? store_item_text(v, (size_t)i) : NULL);
	k->d->decide->calls--;
	decide_flush(k->d, 0);
	free(k);
}

/*
 * Send the decisions waiting for a script call as one call (daemon/
 * decide.lua documents its arguments). Each program the call's decisions
 * use goes once.
 */
static void
decide_flush(struct pacerd *d, int force)
{
	struct decide_call	*k = d->decide->pending;
	const struct conf	*c;
	const char		*argv[3 + 3 * DECIDE_CALL_MAX];
	size_t			 argvlen[3 + 3 * DECIDE_CALL_MAX];
	const struct decide_program *prog[DECIDE_CALL_MAX];
	char			 key[1 + DECIDE_CALL_MAX][KEYS_MAX];
	char			 arg[DECIDE_CALL_MAX][DECIDE_ARG_MAX];
	char			 deadline[32], nprog[16];
	char			 plan[KEYS_PLAN_MAX];
	int			 n = 0, np = 0, pi[DECIDE_CALL_MAX], wait_ms;
	int64_t			 first;

	if (k == NULL || (!force && d->decide->calls >= DECIDE_CALLS_INFLIGHT))
		return;
	d->decide->pending = NULL;
	c = k->item[0]->rules->conf;
	k->started = clock_mono_s();
	/* Keys: the audit stream, then each decision's hash (ids fit KEYS_MAX). */
	argv[n] = key[0];
	argvlen[n++] = keys_global(key[0], sizeof key[0], c->redis.prefix, "audit");
	for (int i = 0; i < k->n; i++) {
		argv[n] = key[1 + i];
		argvlen[n++] = keys_customer(key[1 + i], sizeof key[0],
		    c->redis.prefix, k->item[i]->r.customer, "p");
	}
	/*
	 * The deadline after which our timer has answered for the store: the
	 * configured timeout from the first decision's arrival on the loop's
	 * clock (a decision may have waited for a call to come back). The
	 * timer counts from the same clock, so it never fires before this
	 * deadline. A little early is safe: a script past its deadline answers
	 * store_unavailable itself, which is what the timer would say.
	 */
	first = k->item[0]->arrived_ms;
	for (int i = 1; i < k->n; i++)
		if (k->item[i]->arrived_ms < first)
			first = k->item[i]->arrived_ms;
	wait_ms = (int)(first + c->redis.timeout_ms - decide_loop_ms(d));
	if (wait_ms < 0)
		wait_ms = 0;
	decide_deadline(d, c, first, deadline, sizeof deadline);
	argv[n] = deadline;
	argvlen[n++] = strlen(deadline);
	for (int i = 0; i < k->n; i++) {
		const struct decide_request *r = &k->item[i]->r;
		const struct decide_program *p =
		    &k->item[i]->rules->program[r->channel][r->campaign >= 0];

		for (pi[i] = 0; pi[i] < np && prog[pi[i]] != p; pi[i]++)
			;
		if (pi[i] == np)
			prog[np++] = p;
	}
	snprintf(nprog, sizeof nprog, "%d", np);
	argv[n] = nprog;
	argvlen[n++] = strlen(nprog);
	for (int j = 0; j < np; j++) {
		argv[n] = prog[j]->packed;
		argvlen[n++] = prog[j]->packedlen;
	}
	for (int i = 0; i < k->n; i++) {
		const struct decide_request *r = &k->item[i]->r;

		plan[0] = '\0';
		if (r->offer >= 0 &&
		    k->item[i]->rules->conf->optimizer.enforce_plan)
			decide_plan_arg(d, r->customer, plan, sizeof plan);
		argv[n] = arg[i];
		argvlen[n++] = decide_pack(k->item[i]->rules, r, pi[i] + 1, plan,
		    arg[i], sizeof arg[i]);
	}
	d->decide->calls++;
	if (store_script(d->store, STORE_DECIDE, 1 + k->n, n, argv, argvlen,
	    wait_ms, decide_call_cb, k) != 0) {
		d->decide->calls--;
		for (int i = 0; i < k->n; i++)
			decide_done(k->item[i], NULL);
		free(k);
	}
}

/* End of the loop turn: send what waits. */
static void
decide_flush_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	decide_flush(arg, 0);
}

int
decide_init(struct pacerd *d)
{
	struct decide_queue	*q;

	if ((q = calloc(1, sizeof *q)) == NULL)
		return -1;
	d->decide = q;
	q->flush = event_new(d->base, -1, 0, decide_flush_cb, d);
	return q->flush != NULL ? 0 : -1;
}

void
decide_shutdown(struct pacerd *d)
{
	if (d->decide == NULL)
		return;
	decide_flush(d, 1);
	if (d->decide->flush != NULL)
		event_free(d->decide->flush);
	free(d->decide);
	d->decide = NULL;
}

/*
 * Start a parsed decision: holdout needs no store; the rest joins the next
 * script call, sent at the end of this loop turn (so decisions that arrive
 * together share a call) or when the call is full.
 */
static void
decide_start(struct decide_ctx *x)
{
	struct pacerd		*d = x->d;
	const struct conf	*c = x->rules->conf;
	const struct decide_request *r = &x->r;
	struct decide_call	*k = d->decide->pending;

	x->started = clock_mono_s();
	x->arrived_ms = decide_loop_ms(d);
	/* Holdout customers are never contacted with a planned offer. */
	if (r->offer >= 0 && keys_in_holdout(r->customer, c->optimizer.holdout)) {
		metrics_decision(d->metrics, r->channel, RULES_HOLDOUT, 0);
		decide_finish(x, 200, decide_answer(RULES_HOLDOUT, 0, NULL, -1, -1,
		    0, r->send_id));
		return;
	}
	/* One call holds decisions under one configuration. */
	if (k != NULL && k->item[0]->rules != x->rules) {
		decide_flush(d, 1);
		k = NULL;
	}
	if (k == NULL) {
		if ((k = calloc(1, sizeof *k)) == NULL) {
			decide_done(x, NULL);
			return;
		}
		k->d = d;
		d->decide->pending = k;
		event_active(d->decide->flush, EV_TIMEOUT, 0);
	}
	k->item[k->n++] = x;
	if (k->n == DECIDE_CALL_MAX)
		decide_flush(d, 1);
}

/* Current time, or -1 when out of range. */
static int64_t
decide_now(void)
{
	return (int64_t)time(NULL);
}

void
decide_handle(struct pacerd *d, struct http_request *req)
{
	struct decide_ctx	*x;
	json_t			*o;
	char			 cause[512];

	if ((o = http_body_json(d, req, 0)) == NULL)
		return;
	if ((x = calloc(1, sizeof *x)) == NULL) {
		json_decref(o);
		http_error(d, req, 500, "out of memory");
		return;
	}
	x->d = d;
	x->rules = pacerd_rules_ref(d);
	x->req = req;
	if (decide_parse(x->rules, o, decide_now(), &x->r, cause, sizeof cause) != 0) {
		json_decref(o);
		pacerd_rules_unref(x->rules);
		free(x);
		http_error(d, req, 400, "%s", cause);
		return;
	}
	json_decref(o);
	if (!x->r.has_send_id)
		decide_new_send_id(d, x->r.send_id, sizeof x->r.send_id);
	http_hold(d);
	decide_start(x);
}

/*
 * Batch item i into a new decision of b (NULL when it is answered already:
 * an invalid item, or out of memory).
 */
static struct decide_ctx *
decide_batch_item(struct pacerd *d, struct decide_batch *b,
    const struct pacerd_rules *rules, json_t *item, int i)
{
	struct decide_ctx	*x;
	char			 cause[512], code[HTTP_CODE_MAX], *txt;
	json_t			*e;

	if ((x = calloc(1, sizeof *x)) == NULL) {
		b->result[i] = strdup("{\"error\":\"out of memory\"}");
		b->remaining--;
		return NULL;
	}
	x->d = d;
	x->batch = b;
	x->index = i;
	if (decide_parse(rules, item, decide_now(), &x->r, cause,
	    sizeof cause) != 0) {
		http_error_code(400, cause, code, sizeof code);
		e = json_pack("{s:s,s:s}", "error", cause, "code", code);
		txt = e != NULL ? json_dumps(e, JSON_COMPACT) : NULL;
		json_decref(e);
		b->result[i] = txt != NULL ? txt :
		    strdup("{\"error\":\"invalid\"}");
		b->remaining--;
		free(x);
		metrics_http_error(d->metrics, 400);
		return NULL;
	}
	if (!x->r.has_send_id)
		decide_new_send_id(d, x->r.send_id, sizeof x->r.send_id);
	x->rules = pacerd_rules_ref(d);
	return x;
}

/* The batch's requests list, or NULL after answering a 400. */
static json_t *
decide_batch_list(struct pacerd *d, struct http_request *req, json_t *o)
{
	json_t	*list = json_object_get(o, "requests");

	if (!json_is_array(list) || json_object_size(o) != 1) {
		http_error(d, req, 400, "body must be {\"requests\":[...]}");
		return NULL;
	}
	if (json_array_size(list) > DECIDE_BATCH_MAX) {
		http_error(d, req, 400, "requests: %zu items, at most %d",
		    json_array_size(list), DECIDE_BATCH_MAX);
		return NULL;
	}
	return list;
}

void
decide_batch_handle(struct pacerd *d, struct http_request *req)
{
	struct decide_batch	*b;
	struct decide_ctx	**ctx;
	struct pacerd_rules	*rules;
	json_t			*o, *list;
	size_t			 n;

	if ((o = http_body_json(d, req, 1)) == NULL)
		return;
	if ((list = decide_batch_list(d, req, o)) == NULL) {
		json_decref(o);
		return;
	}
	if ((n = json_array_size(list)) == 0) {
		json_decref(o);
		http_send_text(d, req, 200, "{\"results\":[]}", 14, "application/json");
		return;
	}
	if ((b = calloc(1, sizeof *b)) == NULL ||
	    (b->result = calloc(n, sizeof *b->result)) == NULL ||
	    (ctx = calloc(n, sizeof *ctx)) == NULL) {
		if (b != NULL)
			free(b->result);
		free(b);
		json_decref(o);
		http_error(d, req, 500, "out of memory");
		return;
	}
	b->d = d;
	b->req = req;
	b->n = b->remaining = (int)n;
	http_hold(d);
	/* Parse every item first: a batch's answers keep its order. */
	rules = pacerd_rules_ref(d);
	for (size_t i = 0; i < n; i++)
		ctx[i] = decide_batch_item(d, b, rules, json_array_get(list, i),
		    (int)i);
	json_decref(o);
	pacerd_rules_unref(rules);
	if (b->remaining == 0)
		decide_batch_send(d, b);	/* every item was invalid */
	else
		for (size_t i = 0; i < n; i++)
			if (ctx[i] != NULL)
				decide_start(ctx[i]);
	free(ctx);
}

/* One cancel waiting on the store. */
struct cancel_ctx {
	struct pacerd		*d;
	struct http_request	*req;
};

/* Script reply for a cancel. */
static void
decide_cancel_cb(const struct store_reply *sr, void *arg)
{
	struct cancel_ctx	*x = arg;
	long long		 released = 0;

	http_release(x->d);
	if (!sr->ok || store_integer(sr->value, &released) != 0)
		http_error(x->d, x->req, 503, "store unavailable: %s",
		    sr->error ? sr->error : "unexpected reply");
	else if (released == 1)
		http_send_text(x->d, x->req, 200, "{\"released\":true}", 17,
		    "application/json");
	else
		http_send_text(x->d, x->req, 200, "{\"released\":false}", 18,
		    "application/json");
	free(x);
}

void
decide_cancel_handle(struct pacerd *d, struct http_request *req)
{
	const struct conf	*c = d->rules->conf;
	struct cancel_ctx	*x;
	json_t			*o;
	const char		*key, *argv[2];
	size_t			 argvlen[2];
	char			 customer[256], send_id[256], cause[512], k[KEYS_MAX];
	json_t			*v;

	if ((o = http_body_json(d, req, 0)) == NULL)
		return;
	json_object_foreach(o, key, v) {
		if (strcmp(key, "customer") && strcmp(key, "send_id")) {
			/* key lives in o: answer before letting it go. */
			http_error(d, req, 400, "unknown field \"%.64s\"", key);
			json_decref(o);
			return;
		}
	}
	if (decide_string(o, "customer", customer, sizeof customer, cause,
	    sizeof cause) != 1 || !keys_valid_customer(customer)) {
		json_decref(o);
		http_error(d, req, 400, "customer: required, 1-128 bytes of "
		    "[A-Za-z0-9_.:@-]");
		return;
	}
	if (decide_string(o, "send_id", send_id, sizeof send_id, cause,
	    sizeof cause) != 1 || !keys_valid_send_id(send_id)) {
		json_decref(o);
		http_error(d, req, 400, "send_id: required, 1-128 bytes of "
		    "[A-Za-z0-9_.:@-]");
		return;
	}
	json_decref(o);
	if ((x = calloc(1, sizeof *x)) == NULL) {
		http_error(d, req, 500, "out of memory");
		return;
	}
	x->d = d;
	x->req = req;
	keys_customer(k, sizeof k, c->redis.prefix, customer, "p");
	argv[0] = k;
	argv[1] = send_id;
	for (int i = 0; i < 2; i++)
		argvlen[i] = strlen(argv[i]);
	http_hold(d);
	if (store_script(d->store, STORE_CANCEL, 1, 2, argv, argvlen, -1,
	    decide_cancel_cb, x) != 0) {
		http_release(d);
		free(x);
		http_error(d, req, 503, "store unavailable");
	}
}
