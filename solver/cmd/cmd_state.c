/*
 * What the optimizer needs of each customer, read from Redis in one
 * pipelined pass (one HMGET of the profile hash for consent, segments and
 * the packed contact history) and turned into remaining room under every
 * cap at the run's start t (SPEC section 4), with the same rule engine the
 * daemon uses. The customers are read in parts, one thread and connection
 * each: Redis serves one command at a time, but turning its replies into
 * rooms is ours, and one thread of it kept Redis a third idle.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "pacer/conf.h"
#include "pacer/keys.h"
#include "pacer/offers.h"
#include "pacer/rules.h"
#include "pacer/solver.h"

#include "cmd.h"
#include "pacer/str.h"

#define STATE_BATCH	1024	/* customers per pipelined round trip */
#define STATE_PARTS_MAX	8	/* readers, each on a connection of its own */
#define STATE_HIST_INIT	4096	/* contacts buffer, grown as needed */
#define STATE_OWN_MAX	RULES_MAX_OWN	/* the customer's own caps */
#define STATE_NFIELDS(nch) ((nch) + 4)	/* c:CH..., seg, h, ucap, pause */

/* A customer's own caps (field ucap) as checks; they point into caps. */
struct state_own {
	struct conf_cap		 caps[STATE_OWN_MAX];
	struct rules_check	 check[STATE_OWN_MAX];
	int			 n;
	int64_t			 longest;	/* the longest own window */
};

/* The enforced checks, sorted by what they limit. */
struct state_checks {
	struct rules_check	 channel[CONF_MAX_CHANNELS][RULES_MAX_CHECKS];
	int			 nchannel[CONF_MAX_CHANNELS];
	struct rules_check	 all[RULES_MAX_CHECKS];	/* incl. segment caps */
	int			 nall;
	struct rules_check	 campaign[RULES_MAX_CHECKS];
	int			 ncampaign;
	struct rules_check	 category[CONF_MAX_CATEGORIES][CONF_MAX_CAPS];
	int			 ncategory[CONF_MAX_CATEGORIES];
};

/* Sort rules_select's checks for every channel into state_checks. */
static void
state_checks_build(const struct conf *conf, struct state_checks *sc)
{
	struct rules_check	 k[RULES_MAX_CHECKS];
	int			 n;

	memset(sc, 0, sizeof *sc);
	for (int ch = 0; ch < conf->nchannels; ch++) {
		n = rules_select(conf, ch, 1, k, RULES_MAX_CHECKS);
		for (int i = 0; i < n; i++) {
			if (k[i].shadow)
				continue;	/* counted, never enforced */
			if (k[i].scope == CONF_SCOPE_CHANNEL)
				sc->channel[ch][sc->nchannel[ch]++] = k[i];
			/* All-channel and campaign checks are the same for
			   every channel: take them once. */
			else if (ch == 0 && k[i].scope == CONF_SCOPE_ALL)
				sc->all[sc->nall++] = k[i];
			else if (ch == 0 && k[i].scope == CONF_SCOPE_CAMPAIGN)
				sc->campaign[sc->ncampaign++] = k[i];
			else if (ch == 0 && k[i].scope == CONF_SCOPE_CATEGORY &&
			    sc->ncategory[k[i].category] < CONF_MAX_CAPS)
				sc->category[k[i].category]
				    [sc->ncategory[k[i].category]++] = k[i];
		}
	}
}

/*
 * Room left under checks for a customer: min(limit - used), as the solver
 * stores it (solver_room: a cap of a million is no cap to a customer with
 * at most SOLVER_OFFERS_MAX pairs, so the clamp is exact).
 */
static uint16_t
state_room(const struct rules_check *k, int n, uint32_t segments,
    const struct rules_contact *hist, int nhist, int64_t t, int campaign)
{
	long	 room = SOLVER_ROOM_NONE;

	for (int i = 0; i < n; i++) {
		long	 r;

		if (k[i].segment >= 0 && !(segments & (1u << k[i].segment)))
			continue;
		r = k[i].cap->limit - rules_cap_used(&k[i], hist, nhist, t, campaign,
		    NULL);
		if (r < room)
			room = r;
	}
	return solver_room(room);
}

/*
 * Parse the field ucap into own (the model's parser, the explanation's
 * too), with its longest window.
 */
static void
state_own_parse(const struct conf *conf, const char *text,
    struct state_own *own)
{
	own->n = rules_own_caps(conf, text, own->caps, own->check);
	own->longest = 0;
	for (int i = 0; i < own->n; i++)
		if (own->caps[i].window > own->longest)
			own->longest = own->caps[i].window;
}

/*
 * Lower customer c's rooms by its own caps (they only add to the
 * configured ones), and to nothing when its pause lasts past the run's
 * start.
 */
static void
state_own_room(struct cmd_state *st, int c, const struct state_own *own,
    int64_t pause_until, const struct rules_contact *h, int nh)
{
	struct rules_check	 k[STATE_OWN_MAX];
	const size_t		 base = (size_t)c * (size_t)st->nchannels;
	uint16_t		 r;
	int			 n;

	for (int ch = -1; ch < st->nchannels; ch++) {
		n = 0;
		for (int i = 0; i < own->n; i++)
			if ((ch < 0 && own->check[i].scope == CONF_SCOPE_ALL) ||
			    (ch >= 0 && own->check[i].scope == CONF_SCOPE_CHANNEL &&
			    own->check[i].channel == ch))
				k[n++] = own->check[i];
		if (n == 0)
			continue;
		r = state_room(k, n, 0, h, nh, st->t, -1);
		if (ch >= 0 && r < st->room_channel[base + (size_t)ch])
			st->room_channel[base + (size_t)ch] = r;
		if (ch < 0 && r < st->room_caps_all[c])
			st->room_caps_all[c] = r;
		if (ch < 0 && r < st->room_all[c])
			st->room_all[c] = r;
	}
	if (pause_until > st->t) {
		st->room_all[c] = 0;
		for (int ch = 0; ch < st->nchannels; ch++)
			st->room_channel[base + (size_t)ch] = 0;
	}
}

void
cmd_state_free(struct cmd_state *st)
{
	if (st == NULL)
		return;
	free(st->consent);
	free(st->segments);
	free(st->segment_names);
	free(st->room_all);
	free(st->room_caps_all);
	free(st->room_channel);
	free(st->room_campaign);
	free(st->room_category);
	free(st->contacts);
	intern_free(&st->names);
	memset(st, 0, sizeof *st);
}

/* What one customer's profile reply says. */
struct state_row {
	struct state_own own;		/* its own caps */
	uint16_t	 consent;	/* a bit per channel */
	uint32_t	 segs;		/* config segments as rule bits */
	uint64_t	 names;		/* every segment as a name bit */
	int64_t		 pause_until;	/* 0: none */
	int		 nh;		/* contacts read into the buffer */
};

/* The channels the profile reply consents to, as bits. */
static uint16_t
state_consent(const struct conf *conf, const redisReply *prof)
{
	uint16_t	 consent = 0;

	for (int ch = 0; ch < conf->nchannels; ch++) {
		const char	*v = cmd_reply_str(prof->element[ch]);
		int		 yes = v == NULL ? conf->consent_default_allow :
				    !strcmp(v, "1");

		if (yes)
			consent |= (uint16_t)(1u << ch);
	}
	return consent;
}

/*
 * seg = "a;b": config segments as rule bits, all as bits of names (the
 * first 64 seen), into row.
 */
static void
state_segments(struct intern *names, const struct conf *conf,
    const char *seg, struct state_row *row)
{
	while (seg != NULL && *seg != '\0') {
		const char	*end = strchr(seg, ';');
		size_t		 n = end ? (size_t)(end - seg) : strlen(seg);
		char		 name[CONF_NAME_MAX];
		int		 i;

		if (n > 0 && n < sizeof name) {
			memcpy(name, seg, n);
			name[n] = '\0';
			if ((i = conf_segment_index(conf, name)) >= 0 && i < 32)
				row->segs |= 1u << i;
			if ((i = intern_find(names, name, n)) < 0 &&
			    names->n < 64)
				i = intern_add(names, name, n, NULL);
			if (i >= 0 && i < 64)
				row->names |= 1ULL << i;
		}
		seg = end ? end + 1 : NULL;
	}
}

/*
 * The contacts of history hr in (from, t] into *hp (*hcap entries, grown
 * to hold them all), how many into *nh: CMD_OK, or with *cause
 * CMD_BAD_INPUT (malformed) or CMD_NO_SERVICE (out of memory).
 */
static int
state_history(const struct conf *conf, const struct offers *offers,
    const redisReply *hr, const char *id, int64_t from, int64_t t,
    struct rules_contact **hp, int *hcap, int *nh, char **cause)
{
	struct rules_contact *h = *hp;

	if (hr->type != REDIS_REPLY_STRING)
		return CMD_OK;
	if ((*nh = cmd_history_contacts(hr->str, hr->len, conf, offers, from,
	    t, h, *hcap)) < 0) {
		*cause = str_printf("customer %s: malformed contact history "
		    "(field h of %s:{%s}:p)", id, conf->redis.prefix, id);
		return CMD_BAD_INPUT;
	}
	if (*nh > *hcap) {
		/* Every contact counts, however many: read again. */
		if ((h = realloc(h, (size_t)*nh * sizeof *h)) == NULL) {
			*cause = strdup("out of memory");
			return CMD_NO_SERVICE;
		}
		*hp = h;
		*hcap = *nh;
		*nh = cmd_history_contacts(hr->str, hr->len, conf, offers,
		    from, t, h, *hcap);
	}
	return CMD_OK;
}

/*
 * Parse the profile reply (an array of STATE_NFIELDS) into row, its
 * contacts into *hp as state_history does. CMD_OK or as state_history.
 */
static int
state_profile(struct cmd_state *st, struct intern *names,
    const struct conf *conf, const struct offers *offers,
    const redisReply *prof, const char *id, struct rules_contact **hp,
    int *hcap, struct state_row *row, char **cause)
{
	int		 nch = conf->nchannels;
	const char	*pause = cmd_reply_str(prof->element[nch + 3]);
	int64_t		 from = st->t - conf_longest_window(conf);

	/* The customer's own windows may be longer than every
	   configured one: read as far back as the longest. */
	state_own_parse(conf, cmd_reply_str(prof->element[nch + 2]), &row->own);
	if (st->t - row->own.longest < from)
		from = st->t - row->own.longest;
	if (pause != NULL)
		row->pause_until = strtoll(pause, NULL, 10);
	row->consent = state_consent(conf, prof);
	state_segments(names, conf, cmd_reply_str(prof->element[nch]), row);
	/* Contacts in (t - longest window, t]: what counts at t. */
	return state_history(conf, offers, prof->element[nch + 1], id, from,
	    st->t, hp, hcap, &row->nh, cause);
}

/* Customer c's contact count and rooms under every cap, from row and h. */
static void
state_rooms(struct cmd_state *st, const struct conf *conf,
    const struct state_checks *sc, int c, const struct state_row *row,
    const struct rules_contact *h)
{
	int		 nch = conf->nchannels, nh = row->nh, ncounted = 0;
	uint32_t	 segs = row->segs;
	const int64_t	 t = st->t;

	/* The configured longest window's contacts, as reports count them. */
	for (int i = 0; i < nh; i++)
		if (h[i].time > t - conf_longest_window(conf))
			ncounted++;
	st->contacts[c] = (uint16_t)(ncounted > 65535 ? 65535 : ncounted);
	for (int ch = 0; ch < nch; ch++)
		st->room_channel[(size_t)c * (size_t)nch + (size_t)ch] =
		    state_room(sc->channel[ch], sc->nchannel[ch], segs, h, nh, t, -1);
	st->room_caps_all[c] = state_room(sc->all, sc->nall, segs, h, nh, t, -1);
	st->room_all[c] = st->room_caps_all[c];
	if (conf->optimizer.max_offers_per_customer > 0 &&
	    conf->optimizer.max_offers_per_customer < st->room_all[c])
		st->room_all[c] = solver_room(conf->optimizer.max_offers_per_customer);
	for (int cp = 0; cp < st->ncampaigns; cp++)
		st->room_campaign[(size_t)c * (size_t)st->ncampaigns + (size_t)cp] =
		    state_room(sc->campaign, sc->ncampaign, segs, h, nh, t, cp);
	for (int k = 0; k < st->ncategories; k++)
		st->room_category[(size_t)c * (size_t)st->ncategories + (size_t)k] =
		    state_room(sc->category[k], sc->ncategory[k], segs, h, nh, t,
		    -1);
}

/*
 * Parse the replies of customer c (named id) into st: CMD_OK, or with
 * *cause CMD_BAD_INPUT (a malformed history) or CMD_NO_SERVICE (an error
 * reply, out of memory). *hp (*hcap entries, caller frees) is the contacts
 * buffer, grown to hold every contact in the longest window.
 */
static int
state_customer(struct cmd_state *st, struct intern *names,
    const struct conf *conf, const struct offers *offers,
    const struct state_checks *sc, int c, const char *id,
    const redisReply *prof, struct rules_contact **hp, int *hcap,
    char **cause)
{
	struct state_row row = { .nh = 0 };
	int		 rc;

	if (prof->type == REDIS_REPLY_ERROR) {
		*cause = str_printf("redis: %s", prof->str);
		return CMD_NO_SERVICE;
	}
	if (prof->type == REDIS_REPLY_ARRAY &&
	    prof->elements == (size_t)STATE_NFIELDS(conf->nchannels) &&
	    (rc = state_profile(st, names, conf, offers, prof, id, hp, hcap,
	    &row, cause)) != CMD_OK)
		return rc;
	st->consent[c] = row.consent;
	st->segments[c] = row.segs;
	st->segment_names[c] = row.names;
	state_rooms(st, conf, sc, c, &row, *hp);
	state_own_room(st, c, &row.own, row.pause_until, *hp, row.nh);
	return CMD_OK;
}

/*
 * Append the read of customers b..e-1: profile fields with the history.
 * 0, or -1 with *cause when they cannot be buffered.
 */
static int
state_append(struct cmd_redis *ctx, const struct conf *conf,
    const struct cmd_scores *scores, int b, int e,
    char field[][CONF_NAME_MAX + 4], char **cause)
{
	const char	*argv[CONF_MAX_CHANNELS + 10];
	size_t		 lens[CONF_MAX_CHANNELS + 10];
	char		 kp[KEYS_MAX];
	const int	 nch = conf->nchannels;

	for (int c = b; c < e; c++) {
		const char	*id = scores->ids.arena + scores->ids.off[c];
		int		 k = 0;

		argv[k] = "HMGET";
		lens[k++] = 5;
		argv[k] = kp;
		lens[k++] = keys_customer(kp, sizeof kp, conf->redis.prefix, id, "p");
		for (int ch = 0; ch < nch; ch++) {
			argv[k] = field[ch];
			lens[k] = strlen(field[ch]);
			k++;
		}
		argv[k] = "seg";
		lens[k++] = 3;
		argv[k] = "h";
		lens[k++] = 1;
		argv[k] = "ucap";
		lens[k++] = 4;
		argv[k] = "pause";
		lens[k++] = 5;
		if (cmd_redis_append(ctx, k, argv, lens, cause) != 0)
			return -1;
	}
	return 0;
}

/*
 * One reader of the state: customers [b, e) on a connection of its own
 * (the first part on the caller's), writing their rows of the shared
 * arrays and no others.
 */
struct state_part {
	struct cmd_redis	*ctx;
	int			 own_ctx;	/* connected by the part */
	const struct conf	*conf;
	const struct offers	*offers;
	const struct cmd_scores	*scores;
	const struct state_checks *sc;
	struct cmd_state	*st;
	struct intern		 names;		/* segment names it saw */
	int			 b, e;
	int			 lead;		/* prints the progress */
	atomic_long		*done;		/* customers read, all parts */
	int			 rc;
	char			*cause;
	pthread_t		 thread;
	int			 started;
};

/* Read the part's customers, two batches in flight. */
static void *
state_part_run(void *arg)
{
	struct state_part	*p = arg;
	const struct conf	*conf = p->conf;
	struct cmd_progress	 prog = { 0, 0 };
	struct rules_contact	*h = NULL;
	char			 field[CONF_MAX_CHANNELS][CONF_NAME_MAX + 4];
	redisReply		*rep = NULL;
	int			 hcap = STATE_HIST_INIT, r;
	const int		 n = p->e, nall = p->scores->ids.n;

	p->rc = CMD_NO_SERVICE;
	if (p->ctx == NULL) {
		if ((p->ctx = cmd_redis_connect(conf, &p->cause)) == NULL)
			return NULL;
		p->own_ctx = 1;
	}
	if ((h = malloc((size_t)hcap * sizeof *h)) == NULL) {
		p->cause = strdup("out of memory");
		return NULL;
	}
	for (int ch = 0; ch < conf->nchannels; ch++)
		snprintf(field[ch], sizeof field[ch], "c:%s", conf->channels[ch].name);
	/*
	 * Two batches in flight: append batch b+1 before reading the replies
	 * of batch b, so Redis answers while we compute rooms.
	 */
	if (p->b < n && state_append(p->ctx, conf, p->scores, p->b,
	    p->b + STATE_BATCH < n ? p->b + STATE_BATCH : n, field,
	    &p->cause) != 0)
		goto done;
	for (int b = p->b; b < n; b += STATE_BATCH) {
		int	 e = b + STATE_BATCH < n ? b + STATE_BATCH : n;

		if (e < n && state_append(p->ctx, conf, p->scores, e,
		    e + STATE_BATCH < n ? e + STATE_BATCH : n, field,
		    &p->cause) != 0)
			goto done;
		for (int c = b; c < e; c++) {
			if (cmd_redis_reply(p->ctx, &rep, &p->cause) != 0)
				goto done;
			if ((r = state_customer(p->st, &p->names, conf, p->offers,
			    p->sc, c, intern_str(&p->scores->ids, c), rep, &h,
			    &hcap, &p->cause)) != CMD_OK) {
				p->rc = r;
				goto done;
			}
			freeReplyObject(rep);
			rep = NULL;
		}
		atomic_fetch_add(p->done, e - b);
		if (p->lead && cmd_progress_due(&prog))
			cmd_progress_line(&prog, "optimize", "customers read from redis",
			    (uint64_t)atomic_load(p->done), (uint64_t)nall);
	}
	p->rc = CMD_OK;
done:
	if (rep != NULL)
		freeReplyObject(rep);
	free(h);
	return NULL;
}

void
cmd_state_renumber(struct cmd_state *st, int b, int e, const int32_t *map,
    int n)
{
	if (n > 64)
		n = 64;
	for (int c = b; c < e; c++) {
		uint64_t	 bits = 0;

		for (int g = 0; g < n; g++)
			if ((st->segment_names[c] >> g) & 1 && map[g] >= 0 &&
			    map[g] < 64)
				bits |= 1ULL << map[g];
		st->segment_names[c] = bits;
	}
}

/*
 * The parts' segment names as one list, in part order (what one reader
 * would have seen first: a part's first 64 hold every name of its that
 * the joined first 64 take), and each part's customers' name bits
 * renumbered to it. 0, or -1 out of memory.
 */
static int
state_names_join(struct cmd_state *st, struct state_part *part, int nparts)
{
	int32_t	 map[64];

	st->names = part[0].names;
	memset(&part[0].names, 0, sizeof part[0].names);
	for (int i = 1; i < nparts; i++) {
		struct state_part *p = &part[i];

		for (int g = 0; g < p->names.n && g < 64; g++) {
			const char	*name = intern_str(&p->names, g);
			size_t		 len = strlen(name);

			if ((map[g] = intern_find(&st->names, name, len)) < 0 &&
			    st->names.n < 64 && (map[g] = intern_add(&st->names,
			    name, len, NULL)) < 0)
				return -1;
		}
		cmd_state_renumber(st, p->b, p->e, map, p->names.n);
	}
	return 0;
}

/* Parts for n customers on threads CPUs (0: every one). */
static int
state_nparts(int n, int threads)
{
	int	 k = threads > 0 ? threads : (int)sysconf(_SC_NPROCESSORS_ONLN);

	if (k > STATE_PARTS_MAX)
		k = STATE_PARTS_MAX;
	if (k > n / STATE_BATCH)
		k = n / STATE_BATCH;
	return k < 1 ? 1 : k;
}

int
cmd_state_read(struct cmd_redis *ctx, const struct conf *conf,
    const struct offers *offers, const struct cmd_scores *scores,
    int64_t t, int threads, struct cmd_state *st, char **cause)
{
	struct state_checks	*sc = NULL;
	struct state_part	 part[STATE_PARTS_MAX];
	atomic_long		 done = 0;
	const int		 n = scores->ids.n, nch = conf->nchannels;
	int			 rc = CMD_NO_SERVICE, nparts = state_nparts(n, threads);

	memset(st, 0, sizeof *st);
	memset(part, 0, sizeof part);
	st->n = n;
	st->nchannels = nch;
	st->ncampaigns = offers->ncampaigns;
	st->ncategories = conf->ncategories;
	st->t = t;
	st->parts = nparts;
	if ((sc = malloc(sizeof *sc)) == NULL ||
	    (st->consent = calloc((size_t)n + 1, sizeof *st->consent)) == NULL ||
	    (st->segments = calloc((size_t)n + 1, sizeof *st->segments)) == NULL ||
	    (st->segment_names = calloc((size_t)n + 1,
	    sizeof *st->segment_names)) == NULL ||
	    (st->room_all = calloc((size_t)n + 1, sizeof *st->room_all)) == NULL ||
	    (st->room_caps_all = calloc((size_t)n + 1,
	    sizeof *st->room_caps_all)) == NULL ||
	    (st->room_channel = calloc((size_t)n * (size_t)nch + 1,
	    sizeof *st->room_channel)) == NULL ||
	    (st->room_campaign = calloc((size_t)n * (size_t)st->ncampaigns + 1,
	    sizeof *st->room_campaign)) == NULL ||
	    (st->room_category = calloc((size_t)n * (size_t)st->ncategories + 1,
	    sizeof *st->room_category)) == NULL ||
	    (st->contacts = calloc((size_t)n + 1, sizeof *st->contacts)) == NULL) {
		*cause = strdup("out of memory");
		goto done;
	}
	state_checks_build(conf, sc);
	/* Redis answers one connection at a time, but the rooms are ours. */
	for (int i = 0; i < nparts; i++) {
		struct state_part *p = &part[i];

		p->ctx = i == 0 ? ctx : NULL;
		p->conf = conf;
		p->offers = offers;
		p->scores = scores;
		p->sc = sc;
		p->st = st;
		p->b = (int)((int64_t)n * i / nparts);
		p->e = (int)((int64_t)n * (i + 1) / nparts);
		p->lead = i == 0;
		p->done = &done;
		if (i > 0 && pthread_create(&p->thread, NULL, state_part_run,
		    p) == 0)
			p->started = 1;
	}
	for (int i = 0; i < nparts; i++) {
		if (part[i].started)
			pthread_join(part[i].thread, NULL);
		else
			state_part_run(&part[i]);
	}
	/* The first failure in customer order is the one one reader meets. */
	rc = CMD_OK;
	for (int i = 0; i < nparts && rc == CMD_OK; i++)
		if ((rc = part[i].rc) != CMD_OK) {
			*cause = part[i].cause;
			part[i].cause = NULL;
		}
	if (rc == CMD_OK && state_names_join(st, part, nparts) != 0) {
		*cause = strdup("out of memory");
		rc = CMD_NO_SERVICE;
	}
done:
	for (int i = 0; i < nparts; i++) {
		free(part[i].cause);
		intern_free(&part[i].names);
		if (part[i].own_ctx)
			cmd_redis_free(part[i].ctx);
	}
	free(sc);
	if (rc != CMD_OK)
		cmd_state_free(st);
	return rc;
}
