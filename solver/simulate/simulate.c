/*
 * simulate.c: replay a contact log through the rule engine
 * (include/pacer/simulate.h).
 *
 * Built for millions of contacts: the log is read once into flat arrays
 * (times, customer ids, channel, campaign and offer ids), names are
 * interned (pacer/intern.h), and each replay keeps every
 * customer's allowed history in one preallocated array, sliced by a
 * prefix sum of the customer's contact count (a customer can never have
 * more allowed contacts than contacts). Because the replay runs in time
 * order, each customer's slice is ascending and a moving start index drops
 * contacts that have left the longest cap window, so rules_decide only
 * ever sees the contacts that can still count.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "pacer/clock.h"
#include "pacer/csv.h"
#include "pacer/intern.h"
#include "pacer/keys.h"
#include "pacer/rules.h"
#include "pacer/simulate.h"
#include "pacer/str.h"
#include "pacer/tz.h"

#define SIM_MAX_ZONES	512
#define SIM_PAUSE_MAX	100000000000LL	/* as pacerd's pause_until */

struct simulate_log {
	char		*path;		/* for messages */
	long		 n;		/* contacts */
	int64_t		*time;
	int32_t		*customer;
	uint8_t		*channel;	/* id in channels */
	int32_t		*campaign;	/* id in campaigns, -1: none */
	int32_t		*offer;		/* id in offers, -1: none */
	uint32_t	*line;		/* line in the file */
	struct intern	 customers, channels, campaigns, offers;
	int64_t		*start;		/* per customer: history slice, +1 */

	/* Profiles (when read). */
	int		 profiles;
	int		 nconsent;	/* consent columns */
	char		 consent_name[CSV_MAX_FIELDS][CONF_NAME_MAX];
	signed char	*consent;	/* customers x nconsent; -1 unknown */
	uint8_t		*has_profile;
	int16_t		*zone;		/* index into zones, -1: UTC */
	size_t		*segments;	/* offset into seg_arena, or SIZE_MAX */
	size_t		*own;		/* own caps (field ucap's form) in
					   seg_arena, or SIZE_MAX */
	int64_t		*pause_until;	/* marketing paused until, 0: none */
	int64_t		 own_longest;	/* longest window of an own cap */
	int		 caps_col, pause_col; /* profiles' columns, or -1 */
	char		*seg_arena;
	size_t		 seg_len, seg_cap;
	struct tz_table	*zones;
	int		 nzones;
	char		(*zone_name)[TZ_NAME_MAX];
};


/* How many contacts the log holds. */
long
simulate_log_contacts(const struct simulate_log *log)
{
	return log->n;
}

/* How many distinct customers the log holds. */
long
simulate_log_customers(const struct simulate_log *log)
{
	return log->customers.n;
}

/* Free a log; accepts NULL. */
void
simulate_log_free(struct simulate_log *log)
{
	if (log == NULL)
		return;
	free(log->path);
	free(log->time);
	free(log->customer);
	free(log->channel);
	free(log->campaign);
	free(log->offer);
	free(log->line);
	free(log->start);
	intern_free(&log->customers);
	intern_free(&log->channels);
	intern_free(&log->campaigns);
	intern_free(&log->offers);
	free(log->consent);
	free(log->has_profile);
	free(log->zone);
	free(log->segments);
	free(log->own);
	free(log->pause_until);
	free(log->seg_arena);
	free(log->zones);
	free(log->zone_name);
	free(log);
}

/* Grow the contact arrays to hold cap contacts; 0 or -1. */
static int
sim_log_reserve(struct simulate_log *log, long cap)
{
	void	*p;

#define SIM_GROW(field) do {						\
	if ((p = realloc(log->field, (size_t)cap * sizeof *log->field)) == NULL) \
		return -1;						\
	log->field = p;							\
} while (0)
	SIM_GROW(time);
	SIM_GROW(customer);
	SIM_GROW(channel);
	SIM_GROW(campaign);
	SIM_GROW(offer);
	SIM_GROW(line);
#undef SIM_GROW
	return 0;
}

/* A contact's position in time order: time, then file order. */
struct sim_order {
	int64_t	 time;
	long	 index;
};

/* qsort order of struct sim_order. */
static int
sim_order_cmp(const void *a, const void *b)
{
	const struct sim_order *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Put the log in time order (stable); 0 or -1 when out of memory. */
static int
sim_log_sort(struct simulate_log *log)
{
	struct sim_order *o;
	long	 i;
	void	*tmp;

	for (i = 1; i < log->n; i++)
		if (log->time[i] < log->time[i - 1])
			break;
	if (i >= log->n)
		return 0;	/* already sorted: the usual case */
	if ((o = malloc((size_t)log->n * sizeof *o)) == NULL)
		return -1;
	for (i = 0; i < log->n; i++) {
		o[i].time = log->time[i];
		o[i].index = i;
	}
	qsort(o, (size_t)log->n, sizeof *o, sim_order_cmp);
	/* Permute each array through one scratch buffer of 8-byte cells. */
	if ((tmp = malloc((size_t)log->n * sizeof(int64_t))) == NULL) {
		free(o);
		return -1;
	}
#define SIM_PERMUTE(field) do {						\
	__typeof__(log->field) t_ = tmp;				\
	for (i = 0; i < log->n; i++)					\
		t_[i] = log->field[o[i].index];				\
	memcpy(log->field, t_, (size_t)log->n * sizeof *log->field);	\
} while (0)
	SIM_PERMUTE(time);
	SIM_PERMUTE(customer);
	SIM_PERMUTE(channel);
	SIM_PERMUTE(campaign);
	SIM_PERMUTE(offer);
	SIM_PERMUTE(line);
#undef SIM_PERMUTE
	free(tmp);
	free(o);
	return 0;
}

/*
 * Check the current row's fields: f gets time, customer, channel, campaign
 * and offer (the last two "" when absent), *t the time. 0, or -1 with
 * *cause (file:line: field).
 */
static int
sim_log_fields(struct csv *csv, const int col[5], const char *f[5],
    long long *t, char **cause)
{
	if (col[0] >= csv->nfields || col[1] >= csv->nfields ||
	    col[2] >= csv->nfields) {
		*cause = csv_error(csv, col[0] >= csv->nfields ? "time" :
		    (col[1] >= csv->nfields ? "customer" : "channel"),
		    "missing");
		return -1;
	}
	f[0] = csv->field[col[0]];
	f[1] = csv->field[col[1]];
	f[2] = csv->field[col[2]];
	f[3] = col[3] >= 0 && col[3] < csv->nfields ? csv->field[col[3]] : "";
	f[4] = col[4] >= 0 && col[4] < csv->nfields ? csv->field[col[4]] : "";
	if (csv_long(f[0], t) != 0 || *t < 0) {
		*cause = csv_error(csv, "time", "\"%.40s\" is not unix "
		    "seconds", f[0]);
		return -1;
	}
	if (!keys_valid_customer(f[1])) {
		*cause = csv_error(csv, "customer", "\"%.140s\" is not a "
		    "valid customer id (1-128 of A-Za-z0-9_.:@-)", f[1]);
		return -1;
	}
	if (*f[2] == '\0' || strlen(f[2]) >= CONF_NAME_MAX) {
		*cause = csv_error(csv, "channel", "\"%.80s\" is not a "
		    "channel name", f[2]);
		return -1;
	}
	return 0;
}

/*
 * Append the current row (fields f, time t, checked) as contact log->n,
 * interning its names. 0, or -1 with *cause.
 */
static int
sim_log_append(struct simulate_log *log, struct csv *csv, const char *f[5],
    long long t, char **cause)
{
	int32_t	 id;

	log->time[log->n] = t;
	if ((id = intern_add(&log->customers, f[1], strlen(f[1]), NULL)) < 0)
		goto oom;
	log->customer[log->n] = id;
	if ((id = intern_add(&log->channels, f[2], strlen(f[2]), NULL)) < 0)
		goto oom;
	if (id >= CONF_MAX_CHANNELS * 4) {
		*cause = csv_error(csv, "channel", "too many distinct "
		    "channels (%d)", id + 1);
		return -1;
	}
	log->channel[log->n] = (uint8_t)id;
	log->campaign[log->n] = -1;
	if (*f[3] != '\0' &&
	    (log->campaign[log->n] = intern_add(&log->campaigns, f[3], strlen(f[3]), NULL)) < 0)
		goto oom;
	log->offer[log->n] = -1;
	if (*f[4] != '\0' &&
	    (log->offer[log->n] = intern_add(&log->offers, f[4], strlen(f[4]), NULL)) < 0)
		goto oom;
	log->line[log->n] = (uint32_t)csv->line;
	log->n++;
	return 0;
oom:
	*cause = str_printf("out of memory");
	return -1;
}

/* History slices: customer c owns start[c] .. start[c+1]-1; 0 or -1. */
static int
sim_log_slices(struct simulate_log *log)
{
	long	 i;

	if ((log->start = calloc((size_t)log->customers.n + 1,
	    sizeof *log->start)) == NULL)
		return -1;
	for (i = 0; i < log->n; i++)
		log->start[log->customer[i] + 1]++;
	for (i = 0; i < log->customers.n; i++)
		log->start[i + 1] += log->start[i];
	return 0;
}

/* Read contacts.csv into a new log; NULL with *cause (file:line: field). */
struct simulate_log *
simulate_log_read(const char *path, simulate_progress_fn *progress, void *arg,
    char **cause)
{
	static const char *const want[] = { "time", "customer", "channel", NULL };
	struct simulate_log *log;
	struct csv	*csv = NULL;
	const char	*f[5];
	int		 col[5], rc;
	long		 cap = 0;
	long long	 t;

	if ((log = calloc(1, sizeof *log)) == NULL ||
	    (log->path = strdup(path)) == NULL) {
		*cause = str_printf("out of memory");
		free(log);
		return NULL;
	}
	if ((csv = csv_open(path, cause)) == NULL)
		goto fail;
	if (csv_require(csv, want, col, cause) != 0)
		goto fail;
	col[3] = csv_column(csv, "campaign");
	col[4] = csv_column(csv, "offer");
	while ((rc = csv_next(csv, cause)) == 1) {
		if (log->n == cap) {
			cap = cap ? cap * 2 : 65536;
			if (sim_log_reserve(log, cap) != 0)
				goto oom;
		}
		if (sim_log_fields(csv, col, f, &t, cause) != 0 ||
		    sim_log_append(log, csv, f, t, cause) != 0)
			goto fail;
		if (progress != NULL && (log->n & 262143) == 0)
			progress(arg, "read", log->n, 0);
	}
	if (rc < 0)
		goto fail;
	csv_close(csv);
	csv = NULL;
	if (sim_log_sort(log) != 0 || sim_log_slices(log) != 0)
		goto oom;
	if (progress != NULL)
		progress(arg, "read", log->n, log->n);
	return log;
oom:
	*cause = str_printf("out of memory");
fail:
	csv_close(csv);
	simulate_log_free(log);
	return NULL;
}

/* Parse a consent cell: 1, 0, -1 (empty), or -2 when malformed. */
static int
sim_consent(const char *s)
{
	if (*s == '\0')
		return -1;
	if (!strcmp(s, "1") || !strcasecmp(s, "true"))
		return 1;
	if (!strcmp(s, "0") || !strcasecmp(s, "false"))
		return 0;
	return -2;
}

/* Index of zone name in the log's zones, adding it; -1 if unknown. */
static int
sim_zone(struct simulate_log *log, const char *name)
{
	int64_t	 from = 0, to = 0;
	int	 i;

	for (i = 0; i < log->nzones; i++)
		if (!strcmp(log->zone_name[i], name))
			return i;
	if (log->nzones >= SIM_MAX_ZONES || !tz_valid_name(name) ||
	    strlen(name) >= TZ_NAME_MAX)
		return -1;
	if (log->n > 0) {
		from = log->time[0] - 86400;
		to = log->time[log->n - 1] + 86400;
	}
	if (tz_table(name, from, to, &log->zones[log->nzones]) != 0)
		return -1;
	snprintf(log->zone_name[log->nzones], TZ_NAME_MAX, "%s", name);
	return log->nzones++;
}

/*
 * Every column but customer, tz, segments and the customer's own caps and
 * pause (as pacer load reads them) is a channel's consent.
 */
static void
sim_profiles_columns(struct simulate_log *log, const struct csv *csv,
    const int col[3], int ccol[CSV_MAX_FIELDS])
{
	int	 i;

	log->nconsent = 0;
	log->caps_col = csv_column(csv, "caps");
	log->pause_col = csv_column(csv, "pause_until");
	for (i = 0; i < csv->nheader; i++) {
		if (i == col[0] || i == col[1] || i == col[2] ||
		    i == log->caps_col || i == log->pause_col)
			continue;
		ccol[log->nconsent] = i;
		snprintf(log->consent_name[log->nconsent], CONF_NAME_MAX, "%s",
		    csv->header[i]);
		log->nconsent++;
	}
}

/*
 * (Re)allocate the per customer profile arrays, every customer unknown:
 * consent -1, UTC, no segments. 0, or -1 with *cause.
 */
static int
sim_profiles_alloc(struct simulate_log *log, char **cause)
{
	size_t	 nc = (size_t)log->customers.n;

	free(log->consent);
	free(log->has_profile);
	free(log->zone);
	free(log->segments);
	free(log->own);
	free(log->pause_until);
	free(log->zones);
	free(log->zone_name);
	log->consent = malloc(nc * (size_t)(log->nconsent ? log->nconsent : 1));
	log->own = malloc((nc ? nc : 1) * sizeof *log->own);
	log->pause_until = calloc(nc ? nc : 1, sizeof *log->pause_until);
	log->has_profile = calloc(nc ? nc : 1, 1);
	log->zone = malloc((nc ? nc : 1) * sizeof *log->zone);
	log->segments = malloc((nc ? nc : 1) * sizeof *log->segments);
	log->zones = calloc(SIM_MAX_ZONES, sizeof *log->zones);
	log->zone_name = calloc(SIM_MAX_ZONES, sizeof *log->zone_name);
	log->nzones = 0;
	if ((nc > 0 && log->consent == NULL) || log->has_profile == NULL ||
	    log->zone == NULL || log->segments == NULL || log->zones == NULL ||
	    log->zone_name == NULL || log->own == NULL ||
	    log->pause_until == NULL) {
		*cause = str_printf("out of memory");
		return -1;
	}
	if (nc > 0)
		memset(log->consent, 0xff, nc * (size_t)log->nconsent);
	for (size_t c = 0; c < nc; c++) {
		log->zone[c] = -1;
		log->segments[c] = SIZE_MAX;
		log->own[c] = SIZE_MAX;
	}
	return 0;
}

/* Keep text (not empty) in the arena at *at; 0 or -1 with *cause. */
static int
sim_profiles_keep(struct simulate_log *log, const char *seg, size_t *at,
    char **cause)
{
	size_t	 len = strlen(seg);

	if (log->seg_len + len + 1 > log->seg_cap) {
		size_t	 ncap = log->seg_cap ? log->seg_cap : 65536;
		char	*p;

		while (ncap < log->seg_len + len + 1)
			ncap *= 2;
		if ((p = realloc(log->seg_arena, ncap)) == NULL) {
			*cause = str_printf("out of memory");
			return -1;
		}
		log->seg_arena = p;
		log->seg_cap = ncap;
	}
	memcpy(log->seg_arena + log->seg_len, seg, len + 1);
	*at = log->seg_len;
	log->seg_len += len + 1;
	return 0;
}

/*
 * The row's own caps and pause, checked against conf as pacer load checks
 * them, into *own (field ucap's form, RULES_OWN_TEXT_MAX bytes) and
 * *pause. 0, or -1 with *cause (file:line: field).
 */
static int
sim_profiles_own(struct simulate_log *log, const struct conf *conf,
    const struct csv *csv, char *own, int64_t *pause, char **cause)
{
	char		 why[200];
	long long	 v = 0;

	*own = '\0';
	*pause = 0;
	if (log->caps_col >= 0 && log->caps_col < csv->nfields &&
	    rules_own_caps_cell(conf, csv->field[log->caps_col], own, why,
	    sizeof why, &log->own_longest) != 0) {
		*cause = csv_error(csv, "caps", "%s", why);
		return -1;
	}
	if (log->pause_col >= 0 && log->pause_col < csv->nfields &&
	    *csv->field[log->pause_col] != '\0' &&
	    (csv_long(csv->field[log->pause_col], &v) != 0 || v < 0 ||
	    v > SIM_PAUSE_MAX)) {
		*cause = csv_error(csv, "pause_until", "want unix seconds or empty "
		    "(no pause), not \"%.40s\"", csv->field[log->pause_col]);
		return -1;
	}
	*pause = v;
	return 0;
}

/*
 * One profile row: checked whoever it names, kept only for a customer of
 * the log. 0, or -1 with *cause (file:line: field).
 */
static int
sim_profiles_row(struct simulate_log *log, const struct conf *conf,
    struct csv *csv, const int col[3], const int ccol[CSV_MAX_FIELDS],
    char **cause)
{
	const char	*id, *tz, *seg;
	char		 own[RULES_OWN_TEXT_MAX];
	int64_t		 pause;
	int32_t		 c;
	int		 z, k;

	if (col[0] >= csv->nfields || col[1] >= csv->nfields ||
	    col[2] >= csv->nfields) {
		*cause = csv_error(csv, "customer", "missing fields");
		return -1;
	}
	id = csv->field[col[0]];
	tz = csv->field[col[1]];
	seg = csv->field[col[2]];
	if (!keys_valid_customer(id)) {
		*cause = csv_error(csv, "customer", "\"%.140s\" is not a "
		    "valid customer id", id);
		return -1;
	}
	for (k = 0; k < log->nconsent; k++) {
		if (ccol[k] < csv->nfields &&
		    sim_consent(csv->field[ccol[k]]) == -2) {
			*cause = csv_error(csv, log->consent_name[k],
			    "want 1, 0, true, false or empty, not "
			    "\"%.40s\"", csv->field[ccol[k]]);
			return -1;
		}
	}
	if (sim_profiles_own(log, conf, csv, own, &pause, cause) != 0)
		return -1;
	if ((c = intern_find(&log->customers, id, strlen(id))) < 0)
		return 0;	/* never contacted: nothing to replay */
	z = -1;
	if (*tz != '\0' && (z = sim_zone(log, tz)) < 0) {
		*cause = csv_error(csv, "tz", "unknown time zone \"%.80s\"",
		    tz);
		return -1;
	}
	log->zone[c] = (int16_t)z;
	log->has_profile[c] = 1;
	for (k = 0; k < log->nconsent; k++)
		log->consent[(size_t)c * (size_t)log->nconsent + (size_t)k] =
		    (signed char)(ccol[k] < csv->nfields ?
		    sim_consent(csv->field[ccol[k]]) : -1);
	log->pause_until[c] = pause;
	if (*own != '\0' && sim_profiles_keep(log, own, &log->own[c], cause) != 0)
		return -1;
	if (*seg != '\0')
		return sim_profiles_keep(log, seg, &log->segments[c], cause);
	return 0;
}

/* Read profiles.csv for the log's customers; 0 or -1 (file:line: field). */
int
simulate_log_profiles(struct simulate_log *log, const struct conf *conf,
    const char *path, char **cause)
{
	static const char *const want[] = { "customer", "tz", "segments", NULL };
	struct csv	*csv;
	int		 col[3], ccol[CSV_MAX_FIELDS], rc;

	if ((csv = csv_open(path, cause)) == NULL)
		return -1;
	if (csv_require(csv, want, col, cause) != 0)
		goto fail;
	sim_profiles_columns(log, csv, col, ccol);
	if (sim_profiles_alloc(log, cause) != 0)
		goto fail;
	while ((rc = csv_next(csv, cause)) == 1) {
		if (sim_profiles_row(log, conf, csv, col, ccol, cause) != 0)
			goto fail;
	}
	if (rc < 0)
		goto fail;
	csv_close(csv);
	log->profiles = 1;
	return 0;
fail:
	csv_close(csv);
	return -1;
}

/* Free the arrays of res (not the struct); accepts NULL. */
void
simulate_result_free(struct simulate_result *res)
{
	if (res == NULL)
		return;
	free(res->rules);
	memset(res, 0, sizeof *res);
}

/* The rule of res called text, or NULL. */
const struct simulate_rule *
simulate_find_rule(const struct simulate_result *res, const char *text)
{
	int	 i;

	for (i = 0; i < res->nrules; i++)
		if (!strcmp(res->rules[i].text, text))
			return &res->rules[i];
	return NULL;
}

/* Name of a kind ("cap", "shadow", ...). */
const char *
simulate_kind_name(enum simulate_kind k)
{
	switch (k) {
	case SIMULATE_CAP:
		return "cap";
	case SIMULATE_SHADOW:
		return "shadow";
	case SIMULATE_CONSENT:
		return "consent";
	case SIMULATE_QUIET:
		return "quiet_hours";
	case SIMULATE_SUPPRESSED:
		return "suppressed";
	case SIMULATE_PAUSED:
		return "paused";
	}
	return "unknown";
}

/* The replay's working state for one configuration. */
struct sim_replay {
	struct simulate_rule *rules;
	int		 nrules, rcap;
	uint64_t	**seen;		/* per rule: bitmap of customers */
	/* The checks that apply on channel ch with (1) or without a campaign. */
	struct rules_check checks[CONF_MAX_CHANNELS][2][RULES_MAX_CHECKS];
	int		 nchecks[CONF_MAX_CHANNELS][2];
	int		 rule_of[CONF_MAX_CHANNELS][2][RULES_MAX_CHECKS];
	int		 consent_rule[CONF_MAX_CHANNELS];
	int		 quiet_rule[CONF_MAX_CHANNELS];
	int		 suppressed_rule;
	int		 paused_rule;	/* made at its first denial, -1 */
};

/* Index of the rule called text, adding it; -1 when out of memory. */
static int
sim_rule(struct sim_replay *r, const char *text, enum simulate_kind kind,
    size_t ncustomers)
{
	int	 i;

	for (i = 0; i < r->nrules; i++)
		if (!strcmp(r->rules[i].text, text))
			return i;
	if (r->nrules == r->rcap) {
		int	 ncap = r->rcap ? r->rcap * 2 : 32;
		void	*p;

		if ((p = realloc(r->rules, (size_t)ncap * sizeof *r->rules)) == NULL)
			return -1;
		r->rules = p;
		if ((p = realloc(r->seen, (size_t)ncap * sizeof *r->seen)) == NULL)
			return -1;
		r->seen = p;
		r->rcap = ncap;
	}
	memset(&r->rules[r->nrules], 0, sizeof r->rules[0]);
	snprintf(r->rules[r->nrules].text, sizeof r->rules[0].text, "%s", text);
	r->rules[r->nrules].kind = kind;
	if ((r->seen[r->nrules] = calloc(ncustomers / 64 + 1,
	    sizeof(uint64_t))) == NULL)
		return -1;
	return r->nrules++;
}

/* A campaign's settings as the replay applies them. */
struct sim_campaign {
	int	 cut;		/* slots of every cap its priority leaves */
	int	 exempt;	/* caps and quiet hours skipped */
	int	 counts;	/* its contacts count toward later caps */
};

/*
 * The settings of each campaign of the log under conf, and of no campaign
 * at index log->campaigns.n (caller frees); NULL when out of memory.
 */
static struct sim_campaign *
sim_campaigns(const struct simulate_log *log, const struct conf *conf)
{
	struct sim_campaign	*cs;
	const int		 reserve = conf->priority_reserve;

	if ((cs = calloc((size_t)log->campaigns.n + 1, sizeof *cs)) == NULL)
		return NULL;
	for (int k = 0; k <= log->campaigns.n; k++) {
		const struct conf_campaign *cc = k < log->campaigns.n ?
		    conf_campaign_find(conf, intern_str(&log->campaigns, k)) :
		    NULL;
		enum conf_priority pr = cc ? cc->priority : CONF_PRIORITY_NORMAL;

		cs[k].cut = pr == CONF_PRIORITY_HIGH ? 0 :
		    pr == CONF_PRIORITY_LOW ? 2 * reserve : reserve;
		cs[k].exempt = cc ? cc->exempt : 0;
		cs[k].counts = cc ? cc->exempt == 0 || cc->counts : 1;
	}
	return cs;
}

/* Count one denial of customer c under rule i. */
static void
sim_count(struct sim_replay *r, int i, int32_t c)
{
	uint64_t	 bit = 1ULL << (c & 63);

	r->rules[i].denied++;
	if (!(r->seen[i][c >> 6] & bit)) {
		r->seen[i][c >> 6] |= bit;
		r->rules[i].customers++;
	}
}

/* Bitmask of conf's segments named in "a;b;c"; unknown names ignored. */
static uint32_t
sim_segmask(const struct conf *conf, const char *list)
{
	char	 name[CONF_NAME_MAX];
	uint32_t mask = 0;
	size_t	 n;
	int	 s;

	while (*list != '\0') {
		n = strcspn(list, ";");
		if (n > 0 && n < sizeof name) {
			memcpy(name, list, n);
			name[n] = '\0';
			if ((s = conf_segment_index(conf, name)) >= 0 && s < 32)
				mask |= 1u << s;
		}
		list += n;
		if (*list == ';')
			list++;
	}
	return mask;
}

/* Set up checks and rules for conf; 0 or -1 with *cause. */
static int
sim_replay_setup(struct sim_replay *r, const struct simulate_log *log,
    const struct conf *conf, int have_categories, char **cause)
{
	size_t	 nc = (size_t)log->customers.n;
	char	 text[192];
	int	 ch, hc, k, any_exclude = 0, s;

	r->suppressed_rule = -1;
	r->paused_rule = -1;
	for (ch = 0; ch < conf->nchannels; ch++) {
		r->consent_rule[ch] = -1;
		r->quiet_rule[ch] = -1;
		if (log->profiles) {
			snprintf(text, sizeof text, "no_consent %s",
			    conf->channels[ch].name);
			if ((r->consent_rule[ch] = sim_rule(r, text,
			    SIMULATE_CONSENT, nc)) < 0)
				goto oom;
		}
		if (log->profiles && conf->channels[ch].quiet_start >= 0) {
			int qs = conf->channels[ch].quiet_start;
			int qe = conf->channels[ch].quiet_end;

			snprintf(text, sizeof text, "%s quiet_hours "
			    "%02d:%02d-%02d:%02d", conf->channels[ch].name,
			    qs / 60, qs % 60, qe / 60, qe % 60);
			if ((r->quiet_rule[ch] = sim_rule(r, text,
			    SIMULATE_QUIET, nc)) < 0)
				goto oom;
		}
	}
	for (s = 0; s < conf->nsegments; s++)
		any_exclude |= conf->segments[s].nexclude > 0;
	if (log->profiles && have_categories && any_exclude &&
	    (r->suppressed_rule = sim_rule(r, "suppressed", SIMULATE_SUPPRESSED,
	    nc)) < 0)
		goto oom;
	for (ch = 0; ch < conf->nchannels; ch++) {
		for (hc = 0; hc < 2; hc++) {
			r->nchecks[ch][hc] = rules_select(conf, ch, hc,
			    r->checks[ch][hc], RULES_MAX_CHECKS);
			for (k = 0; k < r->nchecks[ch][hc]; k++) {
				const struct rules_check *c = &r->checks[ch][hc][k];

				if ((r->rule_of[ch][hc][k] = sim_rule(r,
				    c->cap->text, c->shadow ? SIMULATE_SHADOW :
				    SIMULATE_CAP, nc)) < 0)
					goto oom;
			}
		}
	}
	return 0;
oom:
	*cause = str_printf("out of memory");
	return -1;
}

/* Free a replay's working memory (the rules move to the result first). */
static void
sim_replay_free(struct sim_replay *r)
{
	int	 i;

	for (i = 0; i < r->nrules; i++)
		free(r->seen[i]);
	free(r->seen);
	free(r->rules);
}

/* Replay the log under conf into res; 0 or -1 with *cause. */
/* What a replay keeps beside its rules: the engine's view of the log. */
struct sim_state {
	const struct simulate_log *log;
	const struct conf	*conf;
	struct conf		 noquiet;	/* conf without quiet hours */
	struct rules_contact	*hist;		/* per customer from log->start */
	int32_t			*count, *wstart; /* per customer: contacts, first
						   inside the longest window */
	uint32_t		*segmask;	/* per customer: conf segments */
	uint64_t		*denied_seen;	/* bit per customer */
	const char		**category;	/* per log offer, or NULL */
	int			*catidx;	/* per log offer: its category
						   among the config's, -1 */
	struct sim_campaign	*camps;		/* per log campaign, then none */
	int			 chanmap[CONF_MAX_CHANNELS * 4];
	int			 pcol[CONF_MAX_CHANNELS]; /* consent columns */
	int64_t			 longest;
	struct conf_cap		 own_cap[RULES_MAX_OWN];	/* the customer's */
	struct rules_check	 own[RULES_MAX_OWN];	/* own, of sim_customer */
};

static void
sim_state_free(struct sim_state *st)
{
	free(st->hist);
	free(st->count);
	free(st->wstart);
	free(st->segmask);
	free(st->denied_seen);
	free(st->category);
	free(st->catidx);
	free(st->camps);
}

/*
 * The replay's state for log under conf (offers: categories, may be NULL):
 * every channel of the log must be configured. 0, or -1 with *cause.
 */
static int
sim_state_init(struct sim_state *st, const struct simulate_log *log,
    const struct conf *conf, const struct offers *offers, char **cause)
{
	size_t	 nc = (size_t)log->customers.n;
	long	 i;

	memset(st, 0, sizeof *st);
	st->log = log;
	st->conf = conf;
	st->longest = conf_longest_window(conf);
	if (log->profiles && log->own_longest > st->longest)
		st->longest = log->own_longest;
	for (int k = 0; k < log->channels.n; k++) {
		st->chanmap[k] = conf_channel_index(conf,
		    intern_str(&log->channels, k));
		if (st->chanmap[k] >= 0)
			continue;
		for (i = 0; i < log->n && log->channel[i] != k; i++)
			;
		*cause = str_printf("%s:%u: field channel: \"%s\" is not a channel "
		    "of %s", log->path, i < log->n ? log->line[i] : 0,
		    intern_str(&log->channels, k),
		    conf->path ? conf->path : "the config");
		return -1;
	}
	if ((st->hist = malloc((log->n ? (size_t)log->n : 1) *
	    sizeof *st->hist)) == NULL ||
	    (st->count = calloc(nc + 1, sizeof *st->count)) == NULL ||
	    (st->wstart = calloc(nc + 1, sizeof *st->wstart)) == NULL ||
	    (st->segmask = calloc(nc + 1, sizeof *st->segmask)) == NULL ||
	    (st->denied_seen = calloc(nc / 64 + 1,
	    sizeof *st->denied_seen)) == NULL ||
	    (st->category = calloc((size_t)log->offers.n + 1,
	    sizeof *st->category)) == NULL ||
	    (st->catidx = calloc((size_t)log->offers.n + 1,
	    sizeof *st->catidx)) == NULL ||
	    (st->camps = sim_campaigns(log, conf)) == NULL) {
		*cause = str_printf("out of memory");
		return -1;
	}
	/* Offer categories, by the log's offer ids. */
	for (int k = 0; offers != NULL && k < log->offers.n; k++) {
		int o = offers_find(offers, intern_str(&log->offers, k));

		st->category[k] = o >= 0 ? offers->offer[o].category : NULL;
	}
	for (int k = 0; k < log->offers.n; k++)
		st->catidx[k] = conf_category_index(conf, st->category[k]);
	/* Consent columns and segments as this config names them. */
	for (int k = 0; k < conf->nchannels; k++) {
		st->pcol[k] = -1;
		for (int j = 0; log->profiles && j < log->nconsent; j++)
			if (!strcmp(log->consent_name[j], conf->channels[k].name))
				st->pcol[k] = j;
	}
	if (log->profiles)
		for (size_t c = 0; c < nc; c++)
			if (log->segments[c] != SIZE_MAX)
				st->segmask[c] = sim_segmask(conf,
				    log->seg_arena + log->segments[c]);
	/*
	 * Without profiles nothing is known of consent or time zones: the
	 * engine gets consent everywhere and a config without quiet hours.
	 */
	st->noquiet = *conf;
	for (int k = 0; k < st->noquiet.nchannels; k++)
		st->noquiet.channels[k].quiet_start = -1;
	return 0;
}

/* Customer c as the engine sees it at t: consent, segments, zone, history. */
static void
sim_customer(struct sim_state *st, int32_t c, int64_t t,
    struct rules_customer *cu)
{
	const struct simulate_log *log = st->log;
	int64_t			 base = log->start[c];

	/* Contacts that left the longest window can never count again. */
	while (st->wstart[c] < st->count[c] && st->hist[base +
	    st->wstart[c]].time <= t - st->longest)
		st->wstart[c]++;
	memset(cu, 0, sizeof *cu);
	if (log->profiles) {
		for (int k = 0; k < st->conf->nchannels; k++)
			cu->consent[k] = !log->has_profile[c] || st->pcol[k] < 0 ?
			    -1 : log->consent[(size_t)c * (size_t)log->nconsent +
			    (size_t)st->pcol[k]];
		cu->segments = st->segmask[c];
		cu->utc_offset = log->zone[c] >= 0 ?
		    tz_offset(&log->zones[log->zone[c]], t) : 0;
		cu->pause_until = log->pause_until[c];
		/* Its own caps, as this config knows their channels. */
		if (log->own[c] != SIZE_MAX) {
			cu->nown = rules_own_caps(st->conf, log->seg_arena +
			    log->own[c], st->own_cap, st->own);
			cu->own = st->own;
		}
	} else
		memset(cu->consent, 1, sizeof cu->consent);
	cu->history = st->hist + base + st->wstart[c];
	cu->nhistory = st->count[c] - st->wstart[c];
}

/* Count a denial v of customer c on channel ch (with a campaign: hc). */
static void
sim_denied(struct sim_replay *r, struct sim_state *st, int32_t c, int ch,
    int hc, const struct rules_verdict *v, struct simulate_result *res)
{
	int	 rule = -1;

	switch (v->reason) {
	case RULES_NO_CONSENT:
		rule = r->consent_rule[ch];
		break;
	case RULES_QUIET_HOURS:
		rule = r->quiet_rule[ch];
		break;
	case RULES_SUPPRESSED:
		rule = r->suppressed_rule;
		break;
	case RULES_PAUSED:
		if (r->paused_rule < 0)
			r->paused_rule = sim_rule(r, "paused", SIMULATE_PAUSED,
			    (size_t)st->log->customers.n);
		rule = r->paused_rule;
		break;
	case RULES_CAP:
		/* One of the customer's own (check -1): a row per cap as
		 * answers name it. */
		rule = v->check >= 0 ? r->rule_of[ch][hc][v->check] :
		    v->denied_by != NULL ? sim_rule(r, v->denied_by->cap->text,
		    SIMULATE_CAP, (size_t)st->log->customers.n) : -1;
		break;
	default:
		break;
	}
	if (rule >= 0)
		sim_count(r, rule, c);
	/* "schedule": true would hold it until next_allowed. */
	if (v->next_allowed >= 0) {
		if (rule >= 0)
			r->rules[rule].held++;
		res->held++;
	}
	res->denied++;
	if (!(st->denied_seen[c >> 6] & (1ULL << (c & 63)))) {
		st->denied_seen[c >> 6] |= 1ULL << (c & 63);
		res->customers_denied++;
	}
}

/* Replay the log's contact i: decide it, count it, keep it if sent. */
static void
sim_step(struct sim_replay *r, struct sim_state *st, long i,
    struct simulate_result *res)
{
	const struct simulate_log *log = st->log;
	struct rules_customer	 cu;
	struct rules_verdict	 v;
	struct rules_request	 rq;
	int32_t			 c = log->customer[i];
	int64_t			 t = log->time[i];
	int			 ch = st->chanmap[log->channel[i]];
	int			 camp = log->campaign[i], hc = camp >= 0;
	const struct sim_campaign *cs = &st->camps[camp >= 0 ? camp :
				    log->campaigns.n];
	const char		*cat = log->offer[i] >= 0 ?
				    st->category[log->offer[i]] : NULL;
	struct rules_contact	*h;

	sim_customer(st, c, t, &cu);
	/* The campaign's priority and exemption, as pacerd applies them. */
	rq.channel = ch;
	rq.campaign = camp;
	rq.category = cat;
	rq.cut = cs->cut;
	rq.exempt = cs->exempt;
	rules_decide_request(log->profiles ? st->conf : &st->noquiet,
	    r->checks[ch][hc], r->nchecks[ch][hc], &cu, &rq, t, &v);
	for (int k = 0; v.shadow_denied != 0 && k < 64 &&
	    k < r->nchecks[ch][hc]; k++)
		if (v.shadow_denied & (1ULL << k))
			sim_count(r, r->rule_of[ch][hc][k], c);
	if (v.reason != RULES_OK) {
		sim_denied(r, st, c, ch, hc, &v, res);
		return;
	}
	res->allowed++;
	if (!cs->counts)
		return;		/* exempt, not counted */
	h = &st->hist[log->start[c] + st->count[c]++];
	h->time = t;
	h->channel = ch;
	h->campaign = camp;
	h->category = log->offer[i] >= 0 ? st->catidx[log->offer[i]] : -1;
}

int
simulate_run(const struct simulate_log *log, const struct conf *conf,
    const struct offers *offers, simulate_progress_fn *progress, void *arg,
    struct simulate_result *res, char **cause)
{
	struct sim_replay	*r = NULL;
	struct sim_state	 st;
	double			 t0 = clock_mono_s();

	memset(res, 0, sizeof *res);
	if (sim_state_init(&st, log, conf, offers, cause) != 0)
		goto fail;
	if ((r = calloc(1, sizeof *r)) == NULL) {
		*cause = str_printf("out of memory");
		goto fail;
	}
	res->categories = offers != NULL;
	res->profiles = log->profiles;
	if (sim_replay_setup(r, log, conf, offers != NULL, cause) != 0)
		goto fail;
	for (long i = 0; i < log->n; i++) {
		sim_step(r, &st, i, res);
		if (progress != NULL && (i & 262143) == 262143)
			progress(arg, "replay", i + 1, log->n);
	}
	if (progress != NULL)
		progress(arg, "replay", log->n, log->n);
	res->contacts = log->n;
	res->customers = log->customers.n;
	if (log->n > 0) {
		res->first_time = log->time[0];
		res->last_time = log->time[log->n - 1];
	}
	res->rules = r->rules;
	res->nrules = r->nrules;
	r->rules = NULL;
	res->seconds = clock_mono_s() - t0;
	sim_replay_free(r);
	free(r);
	sim_state_free(&st);
	return 0;
fail:
	if (r != NULL)
		sim_replay_free(r);
	free(r);
	sim_state_free(&st);
	simulate_result_free(res);
	return -1;
}
