/*
 * Customers: the profile (consent, time zone, segments), the explanation of
 * everything that decides their answers, and erasure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#include "pacerd.h"
#include "pacer/str.h"
#include "pacer/tz.h"

#define CUSTOMER_MAX_SEGMENTS 32

/* A customer request waiting on the store. */
struct customer_ctx {
	struct pacerd		*d;
	struct pacerd_rules	*rules;
	struct http_request	*req;
	char			 id[KEYS_CUSTOMER_MAX + 1];
	int64_t			 now;
	long long		 removed;	/* erasure: keys and entries so far */
	char			 from[64];	/* erasure: next audit entry id */
	/* explanation: a dry run per channel, and the one held out (its
	   offer is never sent to a holdout customer), -1 none */
	struct decide_request	 ask[CONF_MAX_CHANNELS];
	int			 holdout_channel;
	/* explanation: the runs known when it was asked, and the one whose
	   bucket is the script's key 3 + i */
	struct pacerd_run	 run[PACERD_ROLES];
	int			 bucket_role[PACERD_ROLES];
	int			 nbucket;
};

/* Audit entries one erasure call looks at: Redis is never held long. */
#define CUSTOMER_ERASE_SLICE	1000

/* Now on Redis's clock, the one decisions follow (unix seconds). */
static int64_t
customer_now(struct pacerd *d)
{
	int64_t	 unc, off = store_clock_offset_ms(d->store, &unc);

	return (int64_t)time(NULL) + off / 1000;
}

/* Make a context holding a reference on the live rules. */
static struct customer_ctx *
customer_ctx_new(struct pacerd *d, struct http_request *req, const char *id)
{
	struct customer_ctx	*x;

	if ((x = calloc(1, sizeof *x)) == NULL)
		return NULL;
	x->d = d;
	x->req = req;
	x->rules = pacerd_rules_ref(d);
	x->now = customer_now(d);
	snprintf(x->id, sizeof x->id, "%s", id);
	http_hold(d);
	return x;
}

/* Drop a context. */
static void
customer_ctx_free(struct customer_ctx *x)
{
	http_release(x->d);
	pacerd_rules_unref(x->rules);
	free(x);
}

/* A consent record's source ("signup-form"): an id, at most this long. */
#define CUSTOMER_SOURCE_MAX	64

/* The customer's own caps a profile may carry (a preference centre). */
#define CUSTOMER_MAX_OWN_CAPS	RULES_MAX_OWN

/* Add the customer's own caps and pause to a profile object. */
static void
customer_own_json(json_t *o, const char *ucap, const char *pause)
{
	json_t		*caps = json_array();
	char		 chan[CONF_NAME_MAX], dur[32], text[128];
	long long	 limit, window;
	int		 used;

	while (ucap != NULL && *ucap != '\0' &&
	    sscanf(ucap, "%63[^ ;] %lld %lld%n", chan, &limit, &window, &used) == 3) {
		conf_format_duration(window, dur, sizeof dur);
		snprintf(text, sizeof text, "%s %lld/%s", chan, limit, dur);
		json_array_append_new(caps, json_string(text));
		ucap += used;
		if (*ucap == ';')
			ucap++;
	}
	json_object_set_new(o, "caps", caps);
	json_object_set_new(o, "pause_until", pause != NULL ?
	    json_integer(strtoll(pause, NULL, 10)) : json_null());
}

/*
 * The consent records of every channel that has some (fields cr:CHANNEL,
 * lines "AT|GRANTED|SOURCE|BY", newest first) as {"CHANNEL": [{"at",
 * "granted", "source", "by"}, ...]} (new reference).
 */
static json_t *
customer_consent_records(const struct conf *c, const struct store_value *h)
{
	json_t		*all = json_object();
	char		 field[CONF_NAME_MAX + 4], src[80], by[AUTH_NAME_MAX];
	const char	*v;
	long long	 at;
	int		 granted, used;

	for (int i = 0; i < c->nchannels; i++) {
		json_t	*list = json_array();

		snprintf(field, sizeof field, "cr:%s", c->channels[i].name);
		for (v = store_field(h, field); v != NULL && sscanf(v,
		    "%lld|%d|%79[^|]|%63[^\n]\n%n", &at, &granted, src, by,
		    &used) == 4; v += used)
			json_array_append_new(list, json_pack("{s:I,s:b,s:s,s:s}",
			    "at", (json_int_t)at, "granted", granted, "source", src,
			    "by", by));
		if (json_array_size(list) > 0)
			json_object_set_new(all, c->channels[i].name, list);
		else
			json_decref(list);
	}
	return all;
}

/* The profile as JSON from its hash (new reference). */
static json_t *
customer_profile_json(const struct conf *c, const char *id, const struct store_value *h)
{
	json_t		*o = json_object(), *consent = json_object(), *segs = json_array();
	const char	*tz, *seg;
	char		 field[CONF_NAME_MAX + 4];

	json_object_set_new(o, "customer", json_string(id));
	for (int i = 0; i < c->nchannels; i++) {
		const char *v;

		snprintf(field, sizeof field, "c:%s", c->channels[i].name);
		v = store_field(h, field);
		json_object_set_new(consent, c->channels[i].name, v == NULL ? json_null() :
		    json_boolean(!strcmp(v, "1")));
	}
	json_object_set_new(o, "consent", consent);
	json_object_set_new(o, "consent_default", json_string(
	    c->consent_default_allow ? "allow" : "deny"));
	tz = store_field(h, "tz");
	json_object_set_new(o, "tz", json_string(tz ? tz : "UTC"));
	if ((seg = store_field(h, "seg")) != NULL && *seg != '\0') {
		char *copy = strdup(seg), *tok, *save;

		for (tok = copy ? strtok_r(copy, ";", &save) : NULL; tok != NULL;
		    tok = strtok_r(NULL, ";", &save))
			json_array_append_new(segs, json_string(tok));
		free(copy);
	}
	json_object_set_new(o, "segments", segs);
	customer_own_json(o, store_field(h, "ucap"), store_field(h, "pause"));
	json_object_set_new(o, "consent_records", customer_consent_records(c, h));
	return o;
}

/* HGETALL after a PUT: answer with the stored profile. */
static void
customer_put_done(const struct store_reply *sr, void *arg)
{
	struct customer_ctx	*x = arg;
	json_t			*o;

	if (!sr->ok) {
		http_error(x->d, x->req, 503, "store unavailable: %s", sr->error);
	} else {
		o = customer_profile_json(x->rules->conf, x->id, sr->value);
		http_json(x->d, x->req, 200, o);
		json_decref(o);
	}
	customer_ctx_free(x);
}

/* HSET reply: read the profile back. */
static void
customer_put_written(const struct store_reply *sr, void *arg)
{
	struct customer_ctx	*x = arg;
	char			 key[KEYS_MAX];
	const char		*argv[2];
	size_t			 argvlen[2];

	if (!sr->ok) {
		http_error(x->d, x->req, 503, "store unavailable: %s", sr->error);
		customer_ctx_free(x);
		return;
	}
	keys_customer(key, sizeof key, x->rules->conf->redis.prefix, x->id, "p");
	argv[0] = "HGETALL";
	argv[1] = key;
	argvlen[0] = 7;
	argvlen[1] = strlen(key);
	if (store_command(x->d->store, 2, argv, argvlen, customer_put_done, x) != 0) {
		http_error(x->d, x->req, 503, "store unavailable");
		customer_ctx_free(x);
	}
}

/* A PUT of a profile, gathered for the profile function (daemon/read.lua). */
struct customer_change {
	const char	*set[2 * (CONF_MAX_CHANNELS + 8)];	/* field, value */
	int		 nset;
	const char	*del[2];
	int		 ndel;
	struct {
		char	 channel[CONF_NAME_MAX];
		int	 granted;
		char	 source[CUSTOMER_SOURCE_MAX + 1];
		char	 at[24];	/* "0": now */
	} consent[CONF_MAX_CHANNELS];
	int		 nconsent;
	char		 tzt[TZ_MAX_TRANSITIONS * 32];
	char		 segtext[CUSTOMER_MAX_SEGMENTS * CONF_NAME_MAX];
	char		 owntext[CUSTOMER_MAX_OWN_CAPS * (CONF_NAME_MAX + 48)];
	char		 pausetext[24];
};

/*
 * consent: {"CHANNEL": true|false|{"granted","source"?,"at"?}}; 0, or -1
 * with the 400's message in cause.
 */
static int
customer_put_consent(const struct conf *c, json_t *consent,
    struct customer_change *w, char *cause, size_t len)
{
	const char	*key, *src;
	json_t		*v, *g, *s, *at;
	int		 ch;

	if (!json_is_object(consent)) {
		snprintf(cause, len, "consent: must be an object of channel: true, "
		    "false or {\"granted\",\"source\",\"at\"}");
		return -1;
	}
	json_object_foreach(consent, key, v) {
		if ((ch = conf_channel_index(c, key)) < 0) {
			snprintf(cause, len, "consent: unknown channel \"%.64s\"", key);
			return -1;
		}
		g = json_is_object(v) ? json_object_get(v, "granted") : v;
		s = json_is_object(v) ? json_object_get(v, "source") : NULL;
		at = json_is_object(v) ? json_object_get(v, "at") : NULL;
		src = s != NULL && json_is_string(s) ? json_string_value(s) : "api";
		if (!json_is_boolean(g) || (s != NULL && (!json_is_string(s) ||
		    !str_valid_id(src, CUSTOMER_SOURCE_MAX))) ||
		    (at != NULL && (!json_is_integer(at) ||
		    json_integer_value(at) < 0 ||
		    json_integer_value(at) > 100000000000LL)) ||
		    (json_is_object(v) && json_object_size(v) != (size_t)
		    (1 + (s != NULL) + (at != NULL)))) {
			snprintf(cause, len, "consent.%s: must be true, false or "
			    "{\"granted\":bool,\"source\":\"1-%d of [A-Za-z0-9_.:@-]\","
			    "\"at\":unix seconds}", c->channels[ch].name,
			    CUSTOMER_SOURCE_MAX);
			return -1;
		}
		snprintf(w->consent[w->nconsent].channel, CONF_NAME_MAX, "%s",
		    c->channels[ch].name);
		w->consent[w->nconsent].granted = json_is_true(g);
		snprintf(w->consent[w->nconsent].source, CUSTOMER_SOURCE_MAX + 1, "%s",
		    src);
		snprintf(w->consent[w->nconsent].at, sizeof w->consent[0].at, "%lld",
		    at != NULL ? (long long)json_integer_value(at) : 0LL);
		w->nconsent++;
	}
	return 0;
}

/* tz and segments; 0, or -1 with the 400's message in cause. */
static int
customer_put_zone(json_t *o, int64_t now, struct customer_change *w, char *cause,
    size_t len)
{
	json_t		*v;
	struct tz_table	 table;
	size_t		 i, off = 0;

	if ((v = json_object_get(o, "tz")) != NULL) {
		if (!json_is_string(v)) {
			snprintf(cause, len, "tz: must be an IANA time zone name");
			return -1;
		}
		if (tz_profile_table(json_string_value(v), now, &table) != 0) {
			snprintf(cause, len, "tz: unknown time zone \"%.64s\"",
			    json_string_value(v));
			return -1;
		}
		tz_encode(&table, w->tzt, sizeof w->tzt);
		w->set[w->nset++] = "tz";
		w->set[w->nset++] = json_string_value(v);
		w->set[w->nset++] = "tzt";
		w->set[w->nset++] = w->tzt;
	}
	if ((v = json_object_get(o, "segments")) == NULL)
		return 0;
	if (!json_is_array(v) || json_array_size(v) > CUSTOMER_MAX_SEGMENTS) {
		snprintf(cause, len, "segments: must be a list of at most %d names",
		    CUSTOMER_MAX_SEGMENTS);
		return -1;
	}
	for (i = 0; i < json_array_size(v); i++) {
		json_t	*s = json_array_get(v, i);

		if (!json_is_string(s) || !conf_valid_name(json_string_value(s))) {
			snprintf(cause, len, "segments[%zu]: must be a name of "
			    "[A-Za-z0-9_.-], 1-63 bytes", i);
			return -1;
		}
		off += (size_t)snprintf(w->segtext + off, sizeof w->segtext - off,
		    "%s%s", off ? ";" : "", json_string_value(s));
	}
	w->set[w->nset++] = "seg";
	w->set[w->nset++] = w->segtext;
	return 0;
}

/*
 * The customer's own caps (they only add to the configured ones) and
 * pause; 0, or -1 with the 400's message in cause.
 */
static int
customer_put_own(const struct conf *c, json_t *o, struct customer_change *w,
    char *cause, size_t len)
{
	json_t		*v, *cv;
	size_t		 i, off = 0;

	if ((v = json_object_get(o, "caps")) != NULL) {
		if (!json_is_array(v) || json_array_size(v) > CUSTOMER_MAX_OWN_CAPS) {
			snprintf(cause, len, "caps: must be a list of at most %d caps "
			    "such as \"email 1/7d\" or \"all 4/30d\"",
			    CUSTOMER_MAX_OWN_CAPS);
			return -1;
		}
		w->owntext[0] = '\0';
		json_array_foreach(v, i, cv) {
			if (!json_is_string(cv) || rules_own_cap_item(c,
			    json_string_value(cv), w->owntext, sizeof w->owntext, &off,
			    NULL) != 0) {
				snprintf(cause, len, "caps[%zu]: must be \"CHANNEL "
				    "N/DURATION\" or \"all N/DURATION\" with a configured "
				    "channel and a window of at most 400d", i);
				return -1;
			}
		}
		if (off > 0) {
			w->set[w->nset++] = "ucap";
			w->set[w->nset++] = w->owntext;
		} else
			w->del[w->ndel++] = "ucap";
	}
	if ((v = json_object_get(o, "pause_until")) == NULL)
		return 0;
	if (!json_is_null(v) && (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > 100000000000LL)) {
		snprintf(cause, len, "pause_until: must be unix seconds, 0 or null to "
		    "lift the pause");
		return -1;
	}
	if (json_is_integer(v) && json_integer_value(v) > 0) {
		snprintf(w->pausetext, sizeof w->pausetext, "%lld",
		    (long long)json_integer_value(v));
		w->set[w->nset++] = "pause";
		w->set[w->nset++] = w->pausetext;
	} else
		w->del[w->ndel++] = "pause";
	return 0;
}

/* The profile function's reply: the stored profile, or a 409. */
static void
customer_put_applied(const struct store_reply *sr, void *arg)
{
	struct customer_ctx	*x = arg;
	const char		*said = store_text(sr->value, NULL);
	char			 ch[CONF_NAME_MAX] = "";
	long long		 newest = 0;

	if (sr->ok && said != NULL &&
	    sscanf(said, "conflict|%63[^|]|%lld", ch, &newest) == 2) {
		http_error_coded(x->d, x->req, 409, "consent_out_of_order",
		    "consent.%s: its newest record is at %lld; a change may not "
		    "lower it", ch, newest);
		customer_ctx_free(x);
		return;
	}
	if (sr->ok && (said == NULL || strcmp(said, "ok"))) {
		struct store_reply bad = { 0, "unexpected reply", NULL };

		customer_put_written(&bad, x);
		return;
	}
	if (sr->ok)
		log_audit("admin action", "action=profile by=%s customer=%s",
		    routes_caller(x->d, x->req), x->id);
	customer_put_written(sr, x);
}

/*
 * The body of a PUT into the change w: 0, or -1 after answering 400 (an
 * unknown or bad field, or nothing to store).
 */
static int
customer_put_read(struct pacerd *d, struct http_request *req, json_t *o,
    struct customer_change *w)
{
	const struct conf	*c = d->rules->conf;
	const char		*key;
	json_t			*v;
	char			 cause[512];
	int			 rc = 0;

	json_object_foreach(o, key, v) {
		if (strcmp(key, "consent") && strcmp(key, "tz") &&
		    strcmp(key, "segments") && strcmp(key, "caps") &&
		    strcmp(key, "pause_until")) {
			http_error(d, req, 400, "unknown field \"%.64s\"", key);
			return -1;
		}
	}
	if ((v = json_object_get(o, "consent")) != NULL)
		rc = customer_put_consent(c, v, w, cause, sizeof cause);
	if (rc == 0)
		rc = customer_put_zone(o, customer_now(d), w, cause, sizeof cause);
	if (rc == 0)
		rc = customer_put_own(c, o, w, cause, sizeof cause);
	if (rc != 0) {
		http_error(d, req, 400, "%s", cause);
		return -1;
	}
	if (w->nset == 0 && w->ndel == 0 && w->nconsent == 0) {
		http_error(d, req, 400, "nothing to store: give consent, tz, "
		    "segments, caps or pause_until");
		return -1;
	}
	return 0;
}

/*
 * Send the change w as one call of the library's profile function; its
 * reply answers the request. A call of the library's, it is sent again
 * when Redis lost the library (or had not loaded it yet).
 */
static void
customer_put_send(struct pacerd *d, struct http_request *req, const char *id,
    const struct customer_change *w)
{
	const struct conf	*c = d->rules->conf;
	struct customer_ctx	*x;
	const char		*argv[5 + 2 * (CONF_MAX_CHANNELS + 8) + 2 +
				    4 * CONF_MAX_CHANNELS];
	size_t			 argvlen[sizeof argv / sizeof argv[0]];
	char			 pkey[KEYS_MAX], now[24], nums[3][16];
	char			 granted[CONF_MAX_CHANNELS][2];
	int			 n = 0;

	keys_customer(pkey, sizeof pkey, c->redis.prefix, id, "p");
	snprintf(now, sizeof now, "%lld", (long long)customer_now(d));
	argv[n++] = pkey;
	argv[n++] = now;
	argv[n++] = routes_caller(d, req);	/* who recorded consent changes */
	snprintf(nums[0], sizeof nums[0], "%d", w->nset / 2);
	argv[n++] = nums[0];
	for (int i = 0; i < w->nset; i++)
		argv[n++] = w->set[i];
	snprintf(nums[1], sizeof nums[1], "%d", w->ndel);
	argv[n++] = nums[1];
	for (int i = 0; i < w->ndel; i++)
		argv[n++] = w->del[i];
	snprintf(nums[2], sizeof nums[2], "%d", w->nconsent);
	argv[n++] = nums[2];
	for (int i = 0; i < w->nconsent; i++) {
		granted[i][0] = w->consent[i].granted ? '1' : '0';
		granted[i][1] = '\0';
		argv[n++] = w->consent[i].channel;
		argv[n++] = granted[i];
		argv[n++] = w->consent[i].source;
		argv[n++] = w->consent[i].at;
	}
	for (int i = 0; i < n; i++)
		argvlen[i] = strlen(argv[i]);
	if ((x = customer_ctx_new(d, req, id)) == NULL) {
		http_error(d, req, 500, "out of memory");
		return;
	}
	if (store_script(d->store, STORE_PROFILE, 1, n, argv, argvlen, -1,
	    customer_put_applied, x) != 0) {
		http_error(d, req, 503, "store unavailable");
		customer_ctx_free(x);
	}
}

void
customer_put(struct pacerd *d, struct http_request *req, const char *id)
{
	struct customer_change	*w;
	json_t			*o;

	if ((o = http_body_json(d, req, 0)) == NULL)
		return;
	if ((w = calloc(1, sizeof *w)) == NULL)
		http_error(d, req, 500, "out of memory");
	else if (customer_put_read(d, req, o, w) == 0)
		customer_put_send(d, req, id, w);
	free(w);
	json_decref(o);
}

/*
 * Copy the field at s (up to '|' or the end) into buf, cut to fit; returns
 * where the next field starts (the end when none follows).
 */
static const char *
customer_field_copy(const char *s, char *buf, size_t len)
{
	size_t	 n = strcspn(s, "|");

	snprintf(buf, len, "%.*s", (int)n, s);
	return s[n] == '|' ? s + n + 1 : s + n;
}

/* Append a cap's state to caps: used, limit, resets_in. */
static void
customer_cap_json(json_t *caps, const struct conf *conf, const char *rule,
    const char *channel,
    const char *campaign, const struct rules_check *k,
    const struct rules_contact *hist, int nhist, int64_t now, int campaign_id)
{
	json_t	*o = json_object();
	int64_t	 oldest = -1;
	int	 used = rules_cap_used(k, hist, nhist, now, campaign_id, NULL);

	/* resets_in: when the oldest counted contact leaves the window. */
	for (int i = 0; i < nhist; i++) {
		struct rules_check one = *k;
		struct rules_contact h = hist[i];

		if (rules_cap_used(&one, &h, 1, now, campaign_id, NULL) == 1) {
			oldest = h.time;
			break;
		}
	}
	json_object_set_new(o, "rule", json_string(rule));
	if (channel != NULL)
		json_object_set_new(o, "channel", json_string(channel));
	if (k->scope == CONF_SCOPE_CATEGORY && conf != NULL)
		json_object_set_new(o, "category",
		    json_string(conf->categories[k->category].name));
	if (campaign != NULL)
		json_object_set_new(o, "campaign", json_string(campaign));
	json_object_set_new(o, "used", json_integer(used));
	json_object_set_new(o, "limit", json_integer(k->cap->limit));
	json_object_set_new(o, "resets_in", oldest >= 0 ?
	    json_integer(oldest + k->cap->window - now) : json_null());
	json_object_set_new(o, "enforced", json_boolean(!k->shadow));
	json_array_append_new(caps, o);
}

/* Human words for a wait in seconds: "3 h", "12 min", "40 s". */
static void
customer_wait_text(int64_t s, char *buf, size_t len)
{
	if (s >= 86400)
		snprintf(buf, len, "%lld d %lld h", (long long)(s / 86400),
		    (long long)(s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(buf, len, "%lld h %lld min", (long long)(s / 3600),
		    (long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(buf, len, "%lld min", (long long)((s + 59) / 60));
	else
		snprintf(buf, len, "%lld s", (long long)s);
}

/* The time field (7th) of a decision record, or 0. */
static int64_t
customer_record_time(const char *rec)
{
	for (int i = 0; i < 6 && rec != NULL; i++)
		if ((rec = strchr(rec, '|')) != NULL)
			rec++;
	return rec != NULL ? strtoll(rec, NULL, 10) : 0;
}

/*
 * A decision record "reason|retry|rule|shadow|channel|campaign|time|offer|
 * state" as JSON (new reference), or NULL when malformed.
 */
static json_t *
customer_record_json(const char *send_id, const char *rec)
{
	char	*f[9] = { 0 }, *copy = strdup(rec), *p = copy, text[256];
	int	 nf = 0;
	json_t	*e;

	while (p != NULL && nf < 9) {
		f[nf++] = p;
		if ((p = strchr(p, '|')) != NULL)
			*p++ = '\0';
	}
	if (nf < 9) {
		free(copy);
		return NULL;
	}
	e = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s}", "time",
	    (json_int_t)strtoll(f[6], NULL, 10), "send_id", send_id, "channel", f[4],
	    "campaign", f[5], "offer", f[7], "reason", f[0]);
	if (e != NULL && *f[2]) {
		pacerd_rule_text(f[2], f[4], 0, text, sizeof text);
		json_object_set_new(e, "rule", json_string(text));
	}
	if (e != NULL && *f[3]) {
		json_t	*sh = json_array();
		char	*tok, *save;

		for (tok = strtok_r(f[3], ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save)) {
			pacerd_rule_text(tok, f[4], 1, text, sizeof text);
			json_array_append_new(sh, json_string(text));
		}
		json_object_set_new(e, "shadow_denied", sh);
	}
	if (e != NULL && !strcmp(f[8], "released"))
		json_object_set_new(e, "released", json_true());
	free(copy);
	return e;
}

/*
 * Channel ch's answer from the explain script's dry run (answers: its
 * replies, one per channel) into v and rule: the decision script's own
 * verdict, so the explanation never disagrees with a decision. The denying
 * check is the program's the answer names by position, or one of the
 * customer's own caps (own, cu->nown of them) found by its text, for what
 * would change the answer.
 */
static void
customer_answer(const struct customer_ctx *x, int ch,
    const struct store_value *answers,
    const struct rules_customer *cu, const struct rules_check *own,
    struct rules_verdict *v, char *rule, size_t len)
{
	const struct conf		*c = x->rules->conf;
	const struct decide_program	*p =
	    &x->rules->program[ch][x->ask[ch].campaign >= 0];
	char				 buf[DECIDE_ANSWER_MAX];
	char				*f[DECIDE_ANSWER_FIELDS];
	const char			*said;

	memset(v, 0, sizeof *v);
	v->retry_after = v->next_allowed = -1;
	*rule = '\0';
	if (ch == x->holdout_channel) {
		v->reason = RULES_HOLDOUT;
		return;
	}
	if ((said = store_item_text(answers, (size_t)ch)) == NULL) {
		v->reason = RULES_STORE_UNAVAILABLE;
		return;
	}
	decide_answer_split(said, buf, sizeof buf, f);
	v->reason = decide_reason(f[0]);
	if (*f[1] != '\0')
		v->retry_after = strtoll(f[1], NULL, 10);
	if (*f[5] != '\0')
		v->next_allowed = strtoll(f[5], NULL, 10);
	v->held = strcmp(f[6], "high") == 0;
	if (*f[2] == '\0')
		return;
	v->denied_by = decide_rule(p, f[2], c->channels[ch].name, rule, len);
	for (int i = 0; i < cu->nown && v->denied_by == NULL; i++)
		if (!strcmp(own[i].cap->text, rule))
			v->denied_by = &own[i];
}

/*
 * What the rule engine needs of the profile at now: consent, segments and
 * the zone into cu (the zone's table into *table, which cu borrows).
 */
static void
customer_engine_profile(const struct conf *c, const struct store_value *prof,
    int64_t now, struct rules_customer *cu, struct tz_table *table)
{
	const char	*tzt, *seg;

	memset(cu, 0, sizeof *cu);
	for (int i = 0; i < c->nchannels; i++) {
		char	 f[CONF_NAME_MAX + 4];
		const char *v;

		snprintf(f, sizeof f, "c:%s", c->channels[i].name);
		v = store_field(prof, f);
		cu->consent[i] = v == NULL ? -1 : !strcmp(v, "1");
	}
	if ((seg = store_field(prof, "seg")) != NULL) {
		for (int s = 0; s < c->nsegments; s++) {
			char	 pat[CONF_NAME_MAX + 2], wrapped[4096];

			snprintf(pat, sizeof pat, ";%s;", c->segments[s].name);
			snprintf(wrapped, sizeof wrapped, ";%s;", seg);
			if (strstr(wrapped, pat) != NULL)
				cu->segments |= 1u << s;
		}
	}
	if ((tzt = store_field(prof, "tzt")) != NULL &&
	    tz_decode(tzt, table) == 0) {
		cu->utc_offset = tz_offset(table, now);
		cu->zone = table;
	}
}

/*
 * The read script's history (member "CHANNEL|CAMPAIGN|SEND_ID[|CATEGORY]",
 * time, ...) into *h (oldest first, as the rule engine wants it; caller
 * frees) and *nh; the recent contacts' JSON, newest first (new reference).
 */
static json_t *
customer_history(const struct conf *c, const struct offers *offers,
    const struct store_value *hist, struct rules_contact **hp, int *nhp)
{
	json_t			*contacts = json_array();
	struct rules_contact	*h = NULL;
	int			 nh = 0;

	size_t			 n = store_count(hist);

	if (n > 0 && (h = calloc(n / 2 + 1, sizeof *h)) != NULL) {
		for (size_t i = 0; i + 1 < n; i += 2) {
			char	 chn[CONF_NAME_MAX] = "", cmp[CONF_NAME_MAX] = "";
			char	 sid[KEYS_SEND_ID_MAX + 1] = "", cat[CONF_NAME_MAX] = "";
			const char *m = store_item_text(hist, i);
			const char *at = store_item_text(hist, i + 1);
			json_t	*e;

			if (m == NULL || at == NULL)
				continue;

			m = customer_field_copy(m, chn, sizeof chn);
			m = customer_field_copy(m, cmp, sizeof cmp);
			m = customer_field_copy(m, sid, sizeof sid);
			customer_field_copy(m, cat, sizeof cat);
			h[nh].time = strtoll(at, NULL, 10);
			h[nh].channel = conf_channel_index(c, chn);
			h[nh].campaign = offers ? offers_campaign(offers, cmp) : -1;
			h[nh].category = conf_category_index(c, cat);
			e = json_pack("{s:I,s:s,s:s,s:s}", "time",
			    (json_int_t)h[nh].time, "channel", chn, "campaign", cmp,
			    "send_id", sid);
			if (*cat != '\0')
				json_object_set_new(e, "category", json_string(cat));
			json_array_insert_new(contacts, 0, e);
			nh++;
		}
	}
	*hp = h;
	*nhp = nh;
	return contacts;
}

/*
 * Every cap that applies to the customer (cu, its own caps among them),
 * with used, limit and resets_in at now (new reference).
 */
static json_t *
customer_caps(const struct customer_ctx *x, const struct rules_customer *cu,
    int64_t now)
{
	const struct conf	*c = x->rules->conf;
	const struct offers	*offers = x->rules->offers;
	const struct rules_contact *h = cu->history;
	json_t			*caps = json_array();
	int			 nh = cu->nhistory;

	/* The customer's own caps, beside the configured ones. */
	for (int i = 0; i < cu->nown; i++)
		customer_cap_json(caps, c, cu->own[i].cap->text,
		    cu->own[i].channel >= 0 ?
		    c->channels[cu->own[i].channel].name : NULL, NULL, &cu->own[i],
		    h, nh, now, -1);
	for (int ch = 0; ch < c->nchannels; ch++) {
		const struct decide_program *p = &x->rules->program[ch][0];

		for (int i = 0; i < p->ncheck; i++) {
			const struct rules_check *k = &p->check[i];

			if (k->segment >= 0 && !(cu->segments & (1u << k->segment)))
				continue;
			/* [all], segment and category caps are shared: list
			   them once. */
			if ((k->scope == CONF_SCOPE_ALL ||
			    k->scope == CONF_SCOPE_CATEGORY) && ch > 0)
				continue;
			customer_cap_json(caps, c, k->cap->text, k->scope ==
			    CONF_SCOPE_CHANNEL ? c->channels[ch].name : NULL, NULL, k,
			    h, nh, now, -1);
		}
	}
	/* Campaign caps, for every campaign with contacts in its window. */
	if (offers != NULL && c->ncampaign_caps > 0) {
		const struct decide_program *p = &x->rules->program[0][1];

		for (int cp = 0; cp < offers->ncampaigns; cp++) {
			int	 seen = 0;

			for (int i = 0; i < nh; i++)
				seen |= h[i].campaign == cp;
			if (!seen)
				continue;
			for (int i = 0; i < p->ncheck; i++)
				if (p->check[i].scope == CONF_SCOPE_CAMPAIGN)
					customer_cap_json(caps, c, p->check[i].cap->text, NULL,
					    offers->campaign[cp], &p->check[i], h, nh, now,
					    cp);
		}
	}
	return caps;
}

/* What would change verdict v (rule: its text) on channel ch, as lines. */
static json_t *
customer_would_change(const struct conf *c, int ch,
    const struct rules_verdict *v, const char *rule,
    const struct rules_customer *cu, int64_t now)
{
	json_t	*change = json_array();
	char	 wait[64], line[320], dur[32];

	if (v->reason == RULES_CAP || v->reason == RULES_QUIET_HOURS ||
	    v->reason == RULES_PAUSED) {
		if (v->retry_after >= 0) {
			customer_wait_text(v->retry_after, wait, sizeof wait);
			snprintf(line, sizeof line, "allowed in %s", wait);
			json_array_append_new(change, json_string(line));
		}
		if (v->reason == RULES_CAP && v->denied_by != NULL) {
			const struct rules_check *k = v->denied_by;
			int used = rules_cap_used(k, cu->history, cu->nhistory, now,
			    -1, NULL);

			conf_format_duration(k->cap->window, dur, sizeof dur);
			snprintf(line, sizeof line, "allowed if %s were %d/%s", rule,
			    used + 1, dur);
			json_array_append_new(change, json_string(line));
		}
	} else if (v->reason == RULES_NO_CONSENT) {
		snprintf(line, sizeof line, "allowed once the customer consents "
		    "to %s", c->channels[ch].name);
		json_array_append_new(change, json_string(line));
	} else if (v->reason == RULES_SUPPRESSED) {
		json_array_append_new(change, json_string("never: the offer's "
		    "category is excluded for one of the customer's segments"));
	} else if (v->reason == RULES_NOT_PLANNED) {
		json_array_append_new(change, json_string("allowed once a live "
		    "plan assigns the offer to the customer"));
	}
	return change;
}

/* Channel ch's answer from the explain script's dry run (new reference). */
static json_t *
customer_channel(const struct customer_ctx *x, int ch, const struct store_value *answers,
    const struct rules_customer *cu)
{
	const struct offers	*offers = x->rules->offers;
	struct rules_verdict	 v;
	json_t			*a = json_object();
	char			 rule[256] = "";

	customer_answer(x, ch, answers, cu, cu->own, &v, rule, sizeof rule);
	json_object_set_new(a, "allow", json_boolean(v.reason == RULES_OK));
	json_object_set_new(a, "reason", json_string(rules_reason_name(v.reason)));
	if (*rule != '\0')
		json_object_set_new(a, "rule", json_string(rule));
	if (v.retry_after >= 0)
		json_object_set_new(a, "retry_after", json_integer(v.retry_after));
	if (v.next_allowed >= 0)
		json_object_set_new(a, "next_allowed", json_integer(v.next_allowed));
	if (v.held)
		json_object_set_new(a, "reserved_for", json_string("high"));
	if (x->ask[ch].offer >= 0)
		json_object_set_new(a, "offer", json_string(
		    offers->offer[x->ask[ch].offer].name));
	json_object_set_new(a, "would_change", customer_would_change(
	    x->rules->conf, ch, &v, rule, cu, x->now));
	return a;
}

/* Recent decisions: the newest records of the decisions hash (new ref). */
static json_t *
customer_decisions(const struct store_value *recs)
{
	json_t	*decisions = json_array();
	size_t	 nrec = store_count(recs) / 2, *order;

	order = calloc(nrec + 1, sizeof *order);
	for (size_t i = 0; order != NULL && i < nrec; i++)
		order[i] = i;
	/* Insertion sort by time, newest first: at most a few hundred. */
	for (size_t i = 1; order != NULL && i < nrec; i++) {
		size_t	 k = order[i], j = i;
		int64_t	 tk = customer_record_time(store_item_text(recs, 2 * k + 1));

		while (j > 0 && customer_record_time(
		    store_item_text(recs, 2 * order[j - 1] + 1)) < tk) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = k;
	}
	for (size_t i = 0; order != NULL && i < nrec && i < DECIDE_LOG_LEN; i++) {
		const char *sid = store_item_text(recs, 2 * order[i]);
		const char *rec = store_item_text(recs, 2 * order[i] + 1);
		json_t	*e = sid != NULL && rec != NULL ?
		    customer_record_json(sid, rec) : NULL;

		if (e != NULL)
			json_array_append_new(decisions, e);
	}
	free(order);
	return decisions;
}

/* "o1,o2" as a JSON array (new reference). */
static json_t *
customer_offer_list(const char *offers)
{
	json_t	*list = json_array();
	char	*copy = strdup(offers), *tok, *save;

	for (tok = copy ? strtok_r(copy, ",", &save) : NULL; tok != NULL;
	    tok = strtok_r(NULL, ",", &save))
		json_array_append_new(list, json_string(tok));
	free(copy);
	return list;
}

/*
 * The customer's plan entries (run -> offers) and the live one (new ref):
 * older runs' fields (older, run and offers in turn), then the entries in
 * the buckets of the live and candidate runs.
 */
static json_t *
customer_plan(const struct customer_ctx *x, const struct store_value *older,
    const struct store_value *entries)
{
	const struct pacerd_run	*live = &x->run[PACERD_LIVE];
	const struct pacerd_run	*cand = &x->run[PACERD_CANDIDATE];
	json_t			*pl = json_object(), *runs = json_object(), *mine;

	json_object_set_new(pl, "live_run", live->id[0] ? json_string(live->id) :
	    json_null());
	json_object_set_new(pl, "candidate_run", cand->id[0] ?
	    json_string(cand->id) : json_null());
	json_object_set_new(pl, "enforced",
	    json_boolean(x->rules->conf->optimizer.enforce_plan));
	for (size_t i = 0; i + 1 < store_count(older); i += 2) {
		const char *run = store_item_text(older, i);
		const char *offers = store_item_text(older, i + 1);

		if (run != NULL && offers != NULL)
			json_object_set_new(runs, run, customer_offer_list(offers));
	}
	for (int i = 0; i < x->nbucket; i++) {
		const char *offers = store_item_text(entries, (size_t)i);

		if (offers != NULL)
			json_object_set_new(runs, x->run[x->bucket_role[i]].id,
			    customer_offer_list(offers));
	}
	json_object_set_new(pl, "runs", runs);
	mine = live->id[0] ? json_object_get(runs, live->id) : NULL;
	json_object_set_new(pl, "offers", mine != NULL ? json_incref(mine) :
	    json_array());
	return pl;
}

/*
 * Build the explanation from the explain script's reply (new reference):
 * read's view (profile, history, decision records, plan entries), then the
 * dry runs' answers.
 */
static json_t *
customer_explain(struct customer_ctx *x, const struct store_value *rr)
{
	const struct conf	*c = x->rules->conf;
	const struct store_value *prof = store_item(rr, 0);
	const struct store_value *recs = store_item(rr, 2);
	const struct store_value *answers = store_item(rr, 5);
	json_t			*o, *chans, *contacts;
	struct rules_contact	*h;
	struct rules_customer	 cu;
	struct tz_table		 table;
	struct conf_cap		 own_cap[CUSTOMER_MAX_OWN_CAPS];
	struct rules_check	 own[CUSTOMER_MAX_OWN_CAPS];
	const char		*pause;
	int			 nh;

	o = customer_profile_json(c, x->id, prof);
	customer_engine_profile(c, prof, x->now, &cu, &table);
	json_object_set_new(o, "utc_offset", json_integer(cu.utc_offset));
	json_object_set_new(o, "holdout", json_boolean(keys_in_holdout(x->id,
	    c->optimizer.holdout)));
	json_object_set_new(o, "time", json_integer(x->now));
	contacts = customer_history(c, x->rules->offers, store_item(rr, 1), &h,
	    &nh);
	cu.history = h;
	cu.nhistory = nh;
	cu.nown = rules_own_caps(c, store_field(prof, "ucap"), own_cap, own);
	cu.own = own;
	if ((pause = store_field(prof, "pause")) != NULL)
		cu.pause_until = strtoll(pause, NULL, 10);

	chans = json_object();
	for (int ch = 0; ch < c->nchannels; ch++)
		json_object_set_new(chans, c->channels[ch].name,
		    customer_channel(x, ch, answers, &cu));
	json_object_set_new(o, "caps", customer_caps(x, &cu, x->now));
	json_object_set_new(o, "channels", chans);
	json_object_set_new(o, "recent_contacts", contacts);
	json_object_set_new(o, "recent_decisions", customer_decisions(recs));
	json_object_set_new(o, "plan", customer_plan(x, store_item(rr, 3),
	    store_item(rr, 4)));
	json_object_set_new(o, "idempotency_records", json_integer(
	    (json_int_t)(store_count(recs) / 2)));
	free(h);
	return o;
}

/* Read script reply: answer the explanation. */
static void
customer_get_done(const struct store_reply *sr, void *arg)
{
	struct customer_ctx	*x = arg;
	const struct store_value *rr = sr->value;
	json_t			*o;

	if (!sr->ok || store_count(rr) != 6) {
		http_error(x->d, x->req, 503, "store unavailable: %s",
		    sr->error ? sr->error : "unexpected reply");
	} else {
		o = customer_explain(x, rr);
		http_json(x->d, x->req, 200, o);
		json_decref(o);
	}
	customer_ctx_free(x);
}

/*
 * The ?time= of an explanation (allow_client_time only): unix seconds, a
 * whole number in the range decisions accept; 0, or -1 when malformed.
 */
static int
customer_query_time(const char *t, int64_t *now)
{
	long long	 v = 0;

	if (*t == '\0' || strlen(t) > 11)
		return -1;
	for (const char *p = t; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (v > 100000000000LL)
		return -1;
	*now = v;
	return 0;
}

/*
 * A context for a request on customer id at the request's ?time= (with
 * allow_client_time) or now; NULL when it was answered 400 or 500.
 */
static struct customer_ctx *
customer_ctx_at(struct pacerd *d, struct http_request *req, const char *id)
{
	struct customer_ctx	*x;
	char			 t[32];
	int64_t			 now = 0;
	int			 at = 0;

	if (d->rules->conf->server.allow_client_time &&
	    http_query(req, "time", t, sizeof t) != NULL) {
		if (customer_query_time(t, &now) != 0) {
			http_error(d, req, 400, "time: must be unix seconds (a whole "
			    "number >= 0)");
			return NULL;
		}
		at = 1;
	}
	if ((x = customer_ctx_new(d, req, id)) == NULL) {
		http_error(d, req, 500, "out of memory");
		return NULL;
	}
	if (at)
		x->now = now;
	return x;
}

/*
 * The explanation's questions: a dry run on every channel as decide_parse
 * makes decisions (?offer= on its channel, ?campaign= on every one), at
 * the explanation's time; 0, or -1 with the cause of a 400.
 */
static int
customer_asks(struct customer_ctx *x, struct http_request *req, char *cause,
    size_t len)
{
	const struct conf	*c = x->rules->conf;
	const struct offers	*offers = x->rules->offers;
	char			 offer[CONF_NAME_MAX], campaign[CONF_NAME_MAX];
	const char		*of = http_query(req, "offer", offer, sizeof offer);
	const char		*cp = http_query(req, "campaign", campaign,
				    sizeof campaign);
	int			 oi = -1, rc;

	x->holdout_channel = -1;
	if (of != NULL && (offers == NULL || (oi = offers_find(offers, of)) < 0)) {
		snprintf(cause, len, "offer: unknown offer \"%.64s\"", of);
		return -1;
	}
	for (int ch = 0; ch < c->nchannels; ch++) {
		json_t	*o = json_pack("{s:s, s:s, s:b}", "customer", x->id,
		    "channel", c->channels[ch].name, "dry_run", 1);

		if (o == NULL) {
			snprintf(cause, len, "out of memory");
			return -1;
		}
		if (oi >= 0 && offers->offer[oi].channel == ch)
			json_object_set_new(o, "offer", json_string(of));
		if (cp != NULL)
			json_object_set_new(o, "campaign", json_string(cp));
		rc = decide_parse(x->rules, o, x->now, &x->ask[ch], cause, len);
		json_decref(o);
		if (rc != 0)
			return -1;
		x->ask[ch].time = x->now;
		x->ask[ch].has_time = 1;
		/* As decide_handle: a planned offer never goes to a holdout. */
		if (x->ask[ch].offer >= 0 &&
		    keys_in_holdout(x->id, c->optimizer.holdout))
			x->holdout_channel = ch;
	}
	return 0;
}

/*
 * GET /v1/customers/{id}: the explain script (daemon/read.lua) reads
 * everything stored and runs the decision script dry on every channel, in
 * one atomic step.
 */
void
customer_get(struct pacerd *d, struct http_request *req, const char *id)
{
	const struct conf	*c = d->rules->conf;
	char			 arg[CONF_MAX_CHANNELS][DECIDE_ARG_MAX];
	const char		*argv[6 + 2 * CONF_MAX_CHANNELS];
	size_t			 argvlen[6 + 2 * CONF_MAX_CHANNELS];
	char			 key[2][KEYS_MAX], deadline[32], nprog[16];
	char			 bucket[PACERD_ROLES][KEYS_PLAN_MAX];
	char			 cause[256], plan[KEYS_PLAN_MAX];
	struct customer_ctx	*x;
	int			 n = 0;

	if ((x = customer_ctx_at(d, req, id)) == NULL)
		return;
	if (customer_asks(x, req, cause, sizeof cause) != 0) {
		http_error(d, req, 400, "%s", cause);
		customer_ctx_free(x);
		return;
	}
	decide_plan_arg(d, id, plan, sizeof plan);
	for (int i = 0; i < 2; i++) {
		argv[n] = key[i];
		argvlen[n++] = keys_customer(key[i], sizeof key[i], c->redis.prefix,
		    id, i == 0 ? "p" : "o");
	}
	/* The live and candidate runs' buckets (older runs' are in key 2). */
	memcpy(x->run, d->run, sizeof x->run);
	for (int role = 0; role < PACERD_ROLES; role++) {
		const struct pacerd_run *r = &x->run[role];

		if (r->stem[0] == '\0' || (role == PACERD_CANDIDATE &&
		    strcmp(r->id, x->run[PACERD_LIVE].id) == 0))
			continue;
		decide_plan_key(d, r->stem, id, bucket[x->nbucket],
		    sizeof bucket[0]);
		argv[n] = bucket[x->nbucket];
		argvlen[n] = strlen(argv[n]);
		n++;
		x->bucket_role[x->nbucket++] = role;
	}
	decide_deadline(d, c, decide_now_ms(d), deadline, sizeof deadline);
	argv[n] = deadline;
	argvlen[n++] = strlen(deadline);
	snprintf(nprog, sizeof nprog, "%d", c->nchannels);
	argv[n] = nprog;
	argvlen[n++] = strlen(nprog);
	for (int ch = 0; ch < c->nchannels; ch++) {
		const struct decide_program *p =
		    &x->rules->program[ch][x->ask[ch].campaign >= 0];

		argv[n] = p->packed;
		argvlen[n++] = p->packedlen;
	}
	/* The arguments are copied by the store before it returns. */
	for (int ch = 0; ch < c->nchannels; ch++) {
		argv[n] = arg[ch];
		argvlen[n++] = decide_pack(x->rules, &x->ask[ch], ch + 1, plan,
		    arg[ch], sizeof arg[ch]);
	}
	if (store_script(d->store, STORE_EXPLAIN, 2 + x->nbucket, n, argv,
	    argvlen, -1, customer_get_done, x) != 0) {
		http_error(d, req, 503, "store unavailable");
		customer_ctx_free(x);
	}
}

static void	customer_erase_audit(struct customer_ctx *);

/*
 * An erasure that failed part way: what is erased stays erased, and the
 * same request again finishes it (every step is idempotent).
 */
static void
customer_erase_failed(struct customer_ctx *x, const struct store_reply *sr)
{
	http_error(x->d, x->req, 503, "store unavailable (%s); repeat the "
	    "request to finish the erasure", sr->error ? sr->error :
	    "unexpected reply");
	customer_ctx_free(x);
}

/* A slice of the audit stream done: the next one, or the answer. */
static void
customer_erase_audit_done(const struct store_reply *sr, void *arg)
{
	struct customer_ctx	*x = arg;
	const char		*next;
	long long		 removed;
	size_t			 len = 0;
	json_t			*o;

	if (!sr->ok || store_count(sr->value) != 2 ||
	    store_integer(store_item(sr->value, 0), &removed) != 0 ||
	    (next = store_text(store_item(sr->value, 1), &len)) == NULL ||
	    len >= sizeof x->from) {
		customer_erase_failed(x, sr);
		return;
	}
	x->removed += removed;
	if (len > 0) {
		memcpy(x->from, next, len + 1);
		customer_erase_audit(x);
		return;
	}
	/* The erased id is not logged: the log outlives the erasure. */
	log_audit("admin action", "action=erase by=%s removed=%lld",
	    routes_caller(x->d, x->req), x->removed);
	o = json_pack("{s:b,s:I}", "erased", 1, "removed", (json_int_t)x->removed);
	http_json(x->d, x->req, 200, o);
	json_decref(o);
	customer_ctx_free(x);
}

/* Remove the customer's entries from the next slice of the audit stream. */
static void
customer_erase_audit(struct customer_ctx *x)
{
	const struct conf	*c = x->rules->conf;
	char			 key[KEYS_MAX], slice[16];
	const char		*argv[4];
	size_t			 argvlen[4];
	struct store_reply	 sr = { 0, "store unavailable", NULL };

	keys_global(key, sizeof key, c->redis.prefix, "audit");
	snprintf(slice, sizeof slice, "%d", CUSTOMER_ERASE_SLICE);
	argv[0] = key;
	argv[1] = x->id;
	argv[2] = x->from;
	argv[3] = slice;
	for (int i = 0; i < 4; i++)
		argvlen[i] = strlen(argv[i]);
	if (store_script(x->d->store, STORE_ERASE_AUDIT, 1, 4, argv, argvlen, -1,
	    customer_erase_audit_done, x) != 0)
		customer_erase_failed(x, &sr);
}

/* The customer's keys are gone: now the audit stream, a slice at a time. */
static void
customer_delete_done(const struct store_reply *sr, void *arg)
{
	struct customer_ctx	*x = arg;
	long long		 removed;

	if (!sr->ok || store_integer(sr->value, &removed) != 0) {
		customer_erase_failed(x, sr);
		return;
	}
	x->removed = removed;
	snprintf(x->from, sizeof x->from, "-");
	customer_erase_audit(x);
}

/*
 * Reply to ZRANGE PREFIX:plan:runs, the stem of every plan written: delete
 * the customer's keys and remove its entry from each plan's bucket, in one
 * call.
 */
static void
customer_erase_keys(const struct store_reply *sr, void *arg)
{
	struct customer_ctx	*x = arg;
	const struct conf	*c = x->rules->conf;
	static const char *const sfx[3] = { "p", "o", "r" };
	struct store_reply	 oom = { 0, "out of memory", NULL };
	size_t			 nk, n = 0;
	char			*keys = NULL;
	const char		**argv = NULL;
	size_t			*argvlen = NULL;

	if (!sr->ok) {
		customer_erase_failed(x, sr);
		return;
	}
	nk = 3 + store_count(sr->value);
	if ((keys = malloc(nk * KEYS_PLAN_MAX)) == NULL ||
	    (argv = calloc(nk + 1, sizeof *argv)) == NULL ||
	    (argvlen = calloc(nk + 1, sizeof *argvlen)) == NULL) {
		customer_erase_failed(x, &oom);
		goto done;
	}
	for (size_t i = 0; i < nk; i++) {
		char		*k = keys + n * KEYS_PLAN_MAX;
		const char	*stem = i < 3 ? NULL :
				    store_item_text(sr->value, i - 3);

		if (i < 3)
			keys_customer(k, KEYS_PLAN_MAX, c->redis.prefix, x->id,
			    sfx[i]);
		else if (stem != NULL && strlen(stem) < KEYS_STEM_MAX)
			decide_plan_key(x->d, stem, x->id, k, KEYS_PLAN_MAX);
		else
			continue;
		argv[n] = k;
		argvlen[n++] = strlen(k);
	}
	argv[n] = x->id;
	argvlen[n] = strlen(x->id);
	/* The arguments are copied by the store before it returns. */
	if (store_script(x->d->store, STORE_ERASE, (int)n, (int)n + 1, argv,
	    argvlen, -1, customer_delete_done, x) != 0) {
		oom.error = "store unavailable";
		customer_erase_failed(x, &oom);
	}
done:
	free(keys);
	free(argv);
	free(argvlen);
}

void
customer_delete(struct pacerd *d, struct http_request *req, const char *id)
{
	struct customer_ctx	*x;
	char			 key[KEYS_MAX];
	const char		*argv[4] = { "ZRANGE", key, "0", "-1" };
	size_t			 argvlen[4];

	if ((x = customer_ctx_at(d, req, id)) == NULL)
		return;
	keys_global(key, sizeof key, d->rules->conf->redis.prefix, "plan:runs");
	for (int i = 0; i < 4; i++)
		argvlen[i] = strlen(argv[i]);
	if (store_command(d->store, 4, argv, argvlen, customer_erase_keys,
	    x) != 0) {
		http_error(d, req, 503, "store unavailable");
		customer_ctx_free(x);
	}
}
