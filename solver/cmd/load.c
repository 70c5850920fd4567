/*
 * pacer load: seed Redis with customer profiles (consent, time zone,
 * segments) and past contacts. Every file is validated in full before
 * anything is written, so a bad file leaves the store untouched; then the
 * records go out pipelined (many commands per round trip).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "pacer/conf.h"
#include "pacer/csv.h"
#include "pacer/keys.h"
#include "pacer/offers.h"
#include "pacer/rules.h"
#include "pacer/tz.h"

#include "cmd.h"
#include "scripts.h"	/* the daemon's function library */
#include "pacer/str.h"

/* Rounds without progress before a load gives up on a lost library. */
#define LOAD_LOST_ROUNDS	5
/* Customers sent again per library load, once Redis lost it. */
#define LOAD_RETRY_CHUNK	128
#define LOAD_TZT_MAX	(TZ_MAX_TRANSITIONS * 32)
#define LOAD_ZONES	1024		/* distinct zones remembered */
#define LOAD_AHEAD_MAX	86400		/* contacts stamped later than now + this */
#define LOAD_OTHER_SEGMENTS 64		/* segment names not in the config */
/* The customer's own caps, bounded as pacerd's PUT bounds them. */
#define LOAD_PAUSE_MAX		100000000000LL	/* as PUT's pause_until */

/* A growing buffer of NUL-terminated strings, addressed by offset. */
struct load_arena {
	char	*buf;
	size_t	 len;
	size_t	 cap;
};

/* One validated profile; strings are offsets into the arena. */
struct load_profile {
	size_t		 customer;	/* its id in load.customers */
	size_t		 segments;
	long		 line;		/* in the profiles file */
	int		 zone;		/* index into load_zones, -1: none */
	signed char	 consent[CONF_MAX_CHANNELS];	/* 1, 0, -1: unknown */
	size_t		 own_caps;	/* "CHANNEL LIMIT WINDOW;..." as the
					   field ucap, "" when none */
	int64_t		 pause_until;	/* 0: none */
};

/* One validated contact. */
struct load_contact {
	size_t		 customer;
	size_t		 campaign;	/* offset of "" when none */
	size_t		 send_id;
	size_t		 category;	/* its offer's, offset of "" when none */
	int64_t		 time;
	int		 channel;
};

/* A zone seen in the profiles, with its encoded offset table. */
struct load_zone {
	char	 name[TZ_NAME_MAX];
	char	*tzt;			/* tz_encode text */
	size_t	 tzt_len;
};

/* Everything load holds between validation and writing. */
struct load {
	const struct conf	*conf;
	struct load_arena	 arena;
	struct load_profile	*profiles;
	size_t			 nprofiles;
	struct load_contact	*contacts;
	size_t			 ncontacts;
	size_t			 old_contacts;	/* skipped: outside every window */
	struct load_zone	*zones;
	int			 nzones;
	int64_t			 now;
	struct intern		 customers;	/* profiles' customers: id i is
						   profile i's */
	struct {
		char	 name[CONF_NAME_MAX];
		long	 first_line;
		size_t	 rows;
	}			 other[LOAD_OTHER_SEGMENTS]; /* not configured */
	int			 nother;
	int			 caps_col;	/* optional columns, -1: absent */
	int			 pause_col;
	int64_t			 own_window;	/* longest window of a loaded
						   customer's own cap */
	const struct offers	*offers;	/* the config's, for categories;
						   NULL: not readable */
	char			*segbuf;	/* a row's segments, normalized */
	size_t			 segcap;
};

/* Append a string to the arena; its offset, or (size_t)-1. */
static size_t
load_arena_add(struct load_arena *a, const char *s, size_t n)
{
	size_t	 off = a->len;

	if (a->len + n + 1 > a->cap) {
		size_t	 ncap = a->cap ? a->cap : 1 << 20;
		char	*nb;

		while (a->len + n + 1 > ncap)
			ncap *= 2;
		if ((nb = realloc(a->buf, ncap)) == NULL)
			return (size_t)-1;
		a->buf = nb;
		a->cap = ncap;
	}
	memcpy(a->buf + a->len, s, n);
	a->buf[a->len + n] = '\0';
	a->len += n + 1;
	return off;
}

/* The string at an arena offset (borrowed). */
static const char *
load_str(const struct load *l, size_t off)
{
	return l->arena.buf + off;
}

/* Index of zone (its table built on first sight), or -1 if unknown. */
static int
load_zone(struct load *l, const char *name)
{
	struct tz_table	 t;
	char		 text[LOAD_TZT_MAX];
	size_t		 n;
	void		*p;

	for (int i = 0; i < l->nzones; i++)
		if (!strcmp(l->zones[i].name, name))
			return i;
	if (l->nzones >= LOAD_ZONES || !tz_valid_name(name))
		return -1;
	if (tz_profile_table(name, l->now, &t) != 0)
		return -1;
	n = tz_encode(&t, text, sizeof text);
	if ((p = realloc(l->zones, (size_t)(l->nzones + 1) * sizeof *l->zones)) ==
	    NULL)
		return -1;
	l->zones = p;
	snprintf(l->zones[l->nzones].name, TZ_NAME_MAX, "%s", name);
	if ((l->zones[l->nzones].tzt = strdup(text)) == NULL)
		return -1;
	l->zones[l->nzones].tzt_len = n;
	return l->nzones++;
}

/* Parse a consent cell: 1, 0, or -1 for empty (unknown); -2 if malformed. */
static int
load_consent(const char *s)
{
	if (*s == '\0')
		return -1;
	if (!strcmp(s, "1") || !strcmp(s, "true"))
		return 1;
	if (!strcmp(s, "0") || !strcmp(s, "false"))
		return 0;
	return -2;
}

/*
 * Note an unconfigured segment name seen at line; 0, or -1 when there are
 * LOAD_OTHER_SEGMENTS such names already (the optimizer's reports group
 * customers by at most 64 names; more is not a segment column).
 */
static int
load_other_segment(struct load *l, const char *name, long line)
{
	int	 i;

	for (i = 0; i < l->nother; i++)
		if (!strcmp(l->other[i].name, name))
			break;
	if (i == LOAD_OTHER_SEGMENTS)
		return -1;
	if (i == l->nother) {
		snprintf(l->other[i].name, sizeof l->other[i].name, "%s", name);
		l->other[i].first_line = line;
		l->other[i].rows = 0;
		l->nother++;
	}
	l->other[i].rows++;
	return 0;
}

/*
 * Normalize "a; b;;c" into "a;b;c" in out (at least strlen(s)+1 bytes);
 * 0, or -1 with the bad name in *bad (borrowed from out) and why in *why.
 * At most CONF_MAX_SEGMENTS names, each once, as PUT takes: every decision
 * reads the cell, so it stays short. Names the config does not know are
 * kept (reports group by them) and noted for a warning.
 */
static int
load_segments(struct load *l, const char *s, char *out, long line,
    const char **bad, const char **why)
{
	char	*w = out;
	int	 count = 0;

	while (*s != '\0') {
		const char	*start, *end;
		char		*name = w;
		size_t		 n;

		while (*s == ' ' || *s == ';')
			s++;
		start = s;
		while (*s != '\0' && *s != ';')
			s++;
		end = s;
		while (end > start && end[-1] == ' ')
			end--;
		if (end == start)
			continue;
		if (w != out)
			*w++ = ';';
		name = w;
		n = (size_t)(end - start);
		memcpy(w, start, n);
		w += n;
		*w = '\0';
		*bad = name;
		if (n >= CONF_NAME_MAX || !cmd_valid_name(name, CONF_NAME_MAX - 1)) {
			*why = "is not a valid segment name";
			return -1;
		}
		if (++count > CONF_MAX_SEGMENTS) {
			*why = "is one segment too many (at most 32 a customer)";
			return -1;
		}
		for (const char *o = out; o < name; o += strcspn(o, ";") + 1)
			if (strcspn(o, ";") == n && !strncmp(o, name, n)) {
				*why = "is listed twice";
				return -1;
			}
		if (conf_segment_index(l->conf, name) < 0 &&
		    load_other_segment(l, name, line) != 0) {
			*why = "is one segment name too many: more than 64 names "
			    "that are not in the config";
			return -1;
		}
	}
	*w = '\0';
	return 0;
}

/*
 * The optional cells caps and pause_until of the current row into p; 0, or
 * -1 with *cause naming file:line and the column.
 */
static int
load_own(struct load *l, const struct csv *c, struct load_profile *p,
    char **cause)
{
	char		 text[RULES_OWN_TEXT_MAX], why[200];
	long long	 v = 0;

	*text = '\0';
	if (l->caps_col >= 0 && rules_own_caps_cell(l->conf,
	    c->field[l->caps_col], text, why, sizeof why, &l->own_window) != 0) {
		*cause = csv_error(c, "caps", "%s", why);
		return -1;
	}
	if (l->pause_col >= 0 && *c->field[l->pause_col] != '\0' &&
	    (csv_long(c->field[l->pause_col], &v) != 0 || v < 0 ||
	    v > LOAD_PAUSE_MAX)) {
		*cause = csv_error(c, "pause_until", "want unix seconds or empty "
		    "(no pause), not \"%.40s\"", c->field[l->pause_col]);
		return -1;
	}
	p->pause_until = v;
	if ((p->own_caps = load_arena_add(&l->arena, text, strlen(text))) ==
	    (size_t)-1) {
		*cause = strdup("out of memory");
		return -1;
	}
	return 0;
}

/*
 * The consent column of every configured channel, into chcol; 0, or -1
 * with *cause when one is missing.
 */
static int
load_consent_columns(const struct load *l, const struct csv *c,
    const char *path, int chcol[CONF_MAX_CHANNELS], char **cause)
{
	const struct conf	*conf = l->conf;

	for (int i = 0; i < conf->nchannels; i++) {
		if ((chcol[i] = csv_column(c, conf->channels[i].name)) < 0) {
			*cause = str_printf("%s:1: missing column \"%s\" (consent of "
			    "a configured channel)", path, conf->channels[i].name);
			return -1;
		}
	}
	return 0;
}

/*
 * Normalize the row's segments cell seg into l->segbuf (grown as needed);
 * 0, or -1 with *cause.
 */
static int
load_profile_segments(struct load *l, const struct csv *c, const char *seg,
    char **cause)
{
	const char	*bad = NULL, *why = NULL;
	size_t		 n = strlen(seg);

	/* 32 names of 63 bytes with "; " between, at the most. */
	if (n > (size_t)CONF_MAX_SEGMENTS * (CONF_NAME_MAX + 1)) {
		*cause = csv_error(c, "segments", "%zu bytes: longer than %d "
		    "segment names together", n, CONF_MAX_SEGMENTS);
		return -1;
	}
	if (n + 1 > l->segcap) {
		void	*np;

		if ((np = realloc(l->segbuf, n + 64)) == NULL) {
			*cause = strdup("out of memory");
			return -1;
		}
		l->segbuf = np;
		l->segcap = n + 64;
	}
	if (load_segments(l, seg, l->segbuf, c->line, &bad, &why) != 0) {
		*cause = csv_error(c, "segments", "\"%.80s\" %s", bad, why);
		return -1;
	}
	return 0;
}

/* The row's consent cells into p; 0, or -1 with *cause. */
static int
load_profile_consent(const struct load *l, const struct csv *c,
    const int chcol[CONF_MAX_CHANNELS], struct load_profile *p, char **cause)
{
	const struct conf	*conf = l->conf;

	for (int i = 0; i < conf->nchannels; i++) {
		int	 v = load_consent(c->field[chcol[i]]);

		if (v == -2) {
			*cause = csv_error(c, conf->channels[i].name,
			    "want 1, 0, true, false or empty, not \"%.40s\"",
			    c->field[chcol[i]]);
			return -1;
		}
		p->consent[i] = (signed char)v;
	}
	return 0;
}

/*
 * Check the current row and keep it as profile l->nprofiles (the caller
 * has made room and counts it); 0, or -1 with *cause.
 */
static int
load_profile_row(struct load *l, const struct csv *c, const int col[3],
    const int chcol[CONF_MAX_CHANNELS], char **cause)
{
	struct load_profile	*p = &l->profiles[l->nprofiles];
	const char		*id = c->field[col[0]], *tz = c->field[col[1]];
	int32_t			 earlier;
	int			 added;

	if (!keys_valid_customer(id)) {
		*cause = csv_error(c, "customer", "\"%.140s\" is not a valid "
		    "customer id (1-128 of A-Za-z0-9_.:@-)", id);
		return -1;
	}
	p->zone = -1;
	if (*tz != '\0' && (p->zone = load_zone(l, tz)) < 0) {
		*cause = csv_error(c, "tz", "unknown time zone \"%.80s\"", tz);
		return -1;
	}
	if (load_profile_segments(l, c, c->field[col[2]], cause) != 0 ||
	    load_profile_consent(l, c, chcol, p, cause) != 0 ||
	    load_own(l, c, p, cause) != 0)
		return -1;
	if ((p->segments = load_arena_add(&l->arena, l->segbuf,
	    strlen(l->segbuf))) == (size_t)-1 ||
	    (earlier = intern_add(&l->customers, id, strlen(id), &added)) < 0)
		goto oom;
	p->line = c->line;
	p->customer = (size_t)earlier;
	if (!added) {
		*cause = csv_error(c, "customer", "\"%s\" has a row already, at "
		    "line %ld (one row per customer)", id,
		    l->profiles[earlier].line);
		return -1;
	}
	return 0;
oom:
	*cause = strdup("out of memory");
	return -1;
}

/* Read and validate profiles.csv in full; 0 or -1 with *cause. */
static int
load_read_profiles(struct load *l, const char *path, char **cause)
{
	static const char *const want[] = { "customer", "tz", "segments", NULL };
	struct csv		*c;
	struct cmd_progress	 prog = { 0, 0 };
	int			 col[3], chcol[CONF_MAX_CHANNELS], rc;
	size_t			 cap = 0;

	if ((c = csv_open(path, cause)) == NULL)
		return -1;
	if (csv_require(c, want, col, cause) != 0 ||
	    load_consent_columns(l, c, path, chcol, cause) != 0)
		goto fail;
	l->caps_col = csv_column(c, "caps");
	l->pause_col = csv_column(c, "pause_until");
	while ((rc = csv_next(c, cause)) == 1) {
		if (l->nprofiles == cap) {
			void	*np;

			cap = cap ? cap * 2 : 4096;
			if ((np = realloc(l->profiles, cap *
			    sizeof *l->profiles)) == NULL) {
				*cause = strdup("out of memory");
				goto fail;
			}
			l->profiles = np;
		}
		if (load_profile_row(l, c, col, chcol, cause) != 0)
			goto fail;
		l->nprofiles++;
		if ((l->nprofiles & 16383) == 0 && cmd_progress_due(&prog))
			cmd_progress_line(&prog, "load", "profiles checked",
			    l->nprofiles, 0);
	}
	if (rc < 0)
		goto fail;
	for (int i = 0; i < l->nother; i++)
		cmd_log("load", "%s:%ld: warning: segment \"%s\" (%zu rows) is not "
		    "in the config: stored and reported, but no [segment] rule "
		    "applies to it", path, l->other[i].first_line, l->other[i].name,
		    l->other[i].rows);
	rc = 0;
	goto done;
fail:
	rc = -1;
done:
	free(l->segbuf);
	l->segbuf = NULL;
	l->segcap = 0;
	csv_close(c);
	return rc;
}

/* A deterministic send id for a loaded contact: reloading adds nothing. */
static void
load_send_id(char *buf, size_t len, long line, char *const *field,
    const int *col)
{
	uint64_t	 h = 1469598103934665603ULL;

	for (int i = 0; i < 5; i++) {
		for (const unsigned char *p = (const unsigned char *)field[col[i]];
		    *p; p++) {
			h ^= *p;
			h *= 1099511628211ULL;
		}
		h ^= 0x1f;
		h *= 1099511628211ULL;
	}
	h ^= (uint64_t)line;
	h *= 1099511628211ULL;
	snprintf(buf, len, "load-%016llx", (unsigned long long)h);
}

/*
 * How far back a contact can count: the config's longest window, or a
 * longer one of a customer's own cap in the profiles loaded with it.
 */
static int64_t
load_window(const struct load *l)
{
	int64_t	 w = conf_longest_window(l->conf);

	return l->own_window > w ? l->own_window : w;
}

/*
 * Check the current contact row: *t gets its time, *ch its channel. 0, or
 * -1 with *cause.
 */
static int
load_contact_fields(const struct load *l, const struct csv *c,
    const int col[5], long long *t, int *ch, char **cause)
{
	const char	*id = c->field[col[1]];
	const char	*campaign = c->field[col[3]];
	const char	*offer = c->field[col[4]];

	if (csv_long(c->field[col[0]], t) != 0 || *t <= 0) {
		*cause = csv_error(c, "time", "want unix seconds, not "
		    "\"%.40s\"", c->field[col[0]]);
		return -1;
	}
	if (*t > l->now + LOAD_AHEAD_MAX) {
		*cause = csv_error(c, "time", "%lld is %lld s ahead of now "
		    "(%lld): contacts stamped more than %d s in the future are "
		    "refused", *t, *t - (long long)l->now, (long long)l->now,
		    LOAD_AHEAD_MAX);
		return -1;
	}
	if (!keys_valid_customer(id)) {
		*cause = csv_error(c, "customer", "\"%.140s\" is not a valid "
		    "customer id (1-128 of A-Za-z0-9_.:@-)", id);
		return -1;
	}
	if ((*ch = conf_channel_index(l->conf, c->field[col[2]])) < 0) {
		*cause = csv_error(c, "channel", "\"%.60s\" is not a "
		    "configured channel", c->field[col[2]]);
		return -1;
	}
	if (*campaign != '\0' && !cmd_valid_name(campaign, CONF_NAME_MAX - 1)) {
		*cause = csv_error(c, "campaign", "\"%.80s\" is not a valid "
		    "campaign name", campaign);
		return -1;
	}
	if (*offer != '\0' && !cmd_valid_name(offer, CONF_NAME_MAX - 1)) {
		*cause = csv_error(c, "offer", "\"%.80s\" is not a valid "
		    "offer name", offer);
		return -1;
	}
	return 0;
}

/*
 * Keep the current row (checked: time t, channel ch) as contact
 * l->ncontacts (the caller has made room and counts it); empty is the
 * arena's "". 0, or -1 when out of memory.
 */
static int
load_contact_add(struct load *l, const struct csv *c, const int col[5],
    int64_t t, int ch, size_t empty)
{
	struct load_contact	*k = &l->contacts[l->ncontacts];
	const char		*id = c->field[col[1]];
	const char		*campaign = c->field[col[3]];
	const char		*offer = c->field[col[4]];
	char			 sid[64];
	int			 oi;

	k->time = t;
	k->channel = ch;
	load_send_id(sid, sizeof sid, c->line, c->field, col);
	if ((k->customer = load_arena_add(&l->arena, id, strlen(id))) ==
	    (size_t)-1 || (k->send_id = load_arena_add(&l->arena, sid,
	    strlen(sid))) == (size_t)-1)
		return -1;
	k->campaign = empty;
	if (*campaign != '\0' && (k->campaign = load_arena_add(&l->arena,
	    campaign, strlen(campaign))) == (size_t)-1)
		return -1;
	/* An offer's category, for the category caps (an offer no
	   longer in the offers file has none). */
	k->category = empty;
	if (*offer != '\0' && l->offers != NULL &&
	    (oi = offers_find(l->offers, offer)) >= 0 &&
	    *l->offers->offer[oi].category != '\0' &&
	    (k->category = load_arena_add(&l->arena,
	    l->offers->offer[oi].category,
	    strlen(l->offers->offer[oi].category))) == (size_t)-1)
		return -1;
	return 0;
}

/* Read and validate contacts.csv in full; 0 or -1 with *cause. */
static int
load_read_contacts(struct load *l, const char *path, char **cause)
{
	static const char *const want[] = { "time", "customer", "channel",
	    "campaign", "offer", NULL };
	struct csv		*c;
	struct cmd_progress	 prog = { 0, 0 };
	int			 col[5], rc, ch;
	size_t			 cap = 0, empty;
	int64_t			 oldest = l->now - load_window(l);
	long long		 t;

	if ((c = csv_open(path, cause)) == NULL)
		return -1;
	if (csv_require(c, want, col, cause) != 0)
		goto fail;
	if ((empty = load_arena_add(&l->arena, "", 0)) == (size_t)-1)
		goto oom;
	while ((rc = csv_next(c, cause)) == 1) {
		if (load_contact_fields(l, c, col, &t, &ch, cause) != 0)
			goto fail;
		/* Outside every window it can never count: don't store it. */
		if (t <= oldest) {
			l->old_contacts++;
			continue;
		}
		if (l->ncontacts == cap) {
			void	*np;

			cap = cap ? cap * 2 : 4096;
			if ((np = realloc(l->contacts, cap *
			    sizeof *l->contacts)) == NULL)
				goto oom;
			l->contacts = np;
		}
		if (load_contact_add(l, c, col, t, ch, empty) != 0)
			goto oom;
		l->ncontacts++;
		if ((l->ncontacts & 16383) == 0 && cmd_progress_due(&prog))
			cmd_progress_line(&prog, "load", "contacts checked",
			    l->ncontacts, 0);
	}
	if (rc < 0)
		goto fail;
	csv_close(c);
	return 0;
oom:
	*cause = strdup("out of memory");
fail:
	csv_close(c);
	return -1;
}

/* The arena the sort below compares in (qsort has no user argument). */
static const char *load_sort_base;

/* Order contacts by customer, then time. */
static int
load_contact_cmp(const void *a, const void *b)
{
	const struct load_contact	*x = a, *y = b;
	int				 r;

	if (x->customer != y->customer &&
	    (r = strcmp(load_sort_base + x->customer, load_sort_base + y->customer)))
		return r;
	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return 0;
}

/* Room for the longest HDEL or HSET of a profile. */
#define LOAD_PROFILE_ARGS	(2 + 2 * (CONF_MAX_CHANNELS + 6))

/*
 * The HDEL of profile p's fields the file leaves unknown, into argv and
 * lens after the command and key; returns the argument count (2: nothing
 * to delete). field holds "c:CHANNEL" per channel.
 */
static int
load_profile_hdel(const struct load *l, const struct load_profile *p,
    char field[][CONF_NAME_MAX + 4], const char **argv, size_t *lens)
{
	int	 n = 2;

	argv[0] = "HDEL";
	lens[0] = 4;
	for (int c = 0; c < l->conf->nchannels; c++) {
		if (p->consent[c] >= 0)
			continue;
		argv[n] = field[c];
		lens[n] = strlen(field[c]);
		n++;
	}
	if (p->zone < 0) {
		argv[n] = "tz";
		lens[n++] = 2;
		argv[n] = "tzt";
		lens[n++] = 3;
	}
	/* Optional columns: absent, the stored value stays. */
	if (l->caps_col >= 0 && *load_str(l, p->own_caps) == '\0') {
		argv[n] = "ucap";
		lens[n++] = 4;
	}
	if (l->pause_col >= 0 && p->pause_until == 0) {
		argv[n] = "pause";
		lens[n++] = 5;
	}
	return n;
}

/*
 * The HSET of profile p's known fields and pv into argv and lens after
 * the command and key; returns the argument count. pause (pause_len
 * bytes) holds the pause's text.
 */
static int
load_profile_hset(const struct load *l, const struct load_profile *p,
    char field[][CONF_NAME_MAX + 4], char *pause, size_t pause_len,
    const char **argv, size_t *lens)
{
	int	 n = 2;

	argv[0] = "HSET";
	lens[0] = 4;
	for (int c = 0; c < l->conf->nchannels; c++) {
		if (p->consent[c] < 0)
			continue;	/* unknown: the default applies */
		argv[n] = field[c];
		lens[n] = strlen(field[c]);
		n++;
		argv[n] = p->consent[c] ? "1" : "0";
		lens[n++] = 1;
	}
	if (p->zone >= 0) {
		argv[n] = "tz";
		lens[n++] = 2;
		argv[n] = l->zones[p->zone].name;
		lens[n] = strlen(argv[n]);
		n++;
		argv[n] = "tzt";
		lens[n++] = 3;
		argv[n] = l->zones[p->zone].tzt;
		lens[n++] = l->zones[p->zone].tzt_len;
	}
	argv[n] = "seg";
	lens[n++] = 3;
	argv[n] = load_str(l, p->segments);
	lens[n] = strlen(argv[n]);
	n++;
	if (*load_str(l, p->own_caps) != '\0') {
		argv[n] = "ucap";
		lens[n++] = 4;
		argv[n] = load_str(l, p->own_caps);
		lens[n] = strlen(argv[n]);
		n++;
	}
	if (p->pause_until > 0) {
		argv[n] = "pause";
		lens[n++] = 5;
		argv[n] = pause;
		lens[n++] = (size_t)snprintf(pause, pause_len, "%lld",
		    (long long)p->pause_until);
	}
	argv[n] = "pv";
	lens[n++] = 2;
	argv[n] = "1";
	lens[n++] = 1;
	return n;
}

/*
 * Write every profile: HSET of its fields and pv (a profile is stored), HDEL
 * of unknown ones, PERSIST (a key that held only decisions expires); 0 or -1.
 */
static int
load_write_profiles(struct load *l, struct cmd_redis *ctx, char **cause)
{
	const struct conf	*conf = l->conf;
	struct cmd_pipe		 pipe = { ctx, 0, 0, 0, NULL, 0 };
	struct cmd_progress	 prog = { 0, 0 };
	const char		*argv[LOAD_PROFILE_ARGS];
	size_t			 lens[LOAD_PROFILE_ARGS];
	char			 key[KEYS_MAX], pause[32];
	char			 field[CONF_MAX_CHANNELS][CONF_NAME_MAX + 4];
	double			 t0 = clock_mono_s();
	int			 n;

	for (int i = 0; i < conf->nchannels; i++)
		snprintf(field[i], sizeof field[i], "c:%s", conf->channels[i].name);
	argv[1] = key;
	for (size_t i = 0; i < l->nprofiles; i++) {
		const struct load_profile	*p = &l->profiles[i];

		lens[1] = keys_customer(key, sizeof key, conf->redis.prefix,
		    intern_str(&l->customers, (int32_t)p->customer), "p");
		/*
		 * The file's row replaces the profile: unknown consent and an
		 * empty zone remove what was stored (HDEL only when needed, so
		 * the common row costs two commands: HSET and PERSIST).
		 */
		n = load_profile_hdel(l, p, field, argv, lens);
		if (n > 2 && cmd_pipe_append(&pipe, n, argv, lens, cause) != 0)
			return -1;
		n = load_profile_hset(l, p, field, pause, sizeof pause, argv,
		    lens);
		if (cmd_pipe_append(&pipe, n, argv, lens, cause) != 0)
			return -1;
		argv[0] = "PERSIST";
		lens[0] = 7;
		if (cmd_pipe_append(&pipe, 2, argv, lens, cause) != 0)
			return -1;
		if ((i & 4095) == 0 && cmd_progress_due(&prog))
			cmd_progress_line(&prog, "load", "profiles written", i,
			    l->nprofiles);
	}
	if (cmd_pipe_flush(&pipe, cause) != 0)
		return -1;
	cmd_log("load", "profiles: %zu written in %.2fs (%.0f/s)", l->nprofiles,
	    clock_mono_s() - t0, (double)l->nprofiles / (clock_mono_s() - t0 + 1e-9));
	return 0;
}

/*
 * Load pacer's function library (the daemon's Lua files, named after their
 * code's hash, so pacerd of this version calls the same) on every master;
 * REPLACE makes loading it again harmless. 0, or -1 with *cause.
 */
static int
load_library(struct cmd_redis *ctx, char **cause)
{
	const char	*argv[4] = { "FUNCTION", "LOAD", "REPLACE", SCRIPT_LIBRARY };
	redisReply	*r;

	if ((r = cmd_redis_command(ctx, 4, argv, cause)) == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

/*
 * The history entries of contacts i..j-1 (one customer's) back to back in
 * *entries (grown as needed, *cap bytes); their length, or -1 when out of
 * memory.
 */
static long
load_merge_entries(const struct load *l, size_t i, size_t j, char **entries,
    size_t *cap)
{
	const struct conf	*conf = l->conf;
	/* The longest entry: "TIME|CHANNEL|CAMPAIGN|SEND_ID|CATEGORY\n". */
	const size_t		 slot = 24 + 3 * CONF_NAME_MAX + KEYS_SEND_ID_MAX;
	size_t			 len = 0;

	for (size_t x = i; x < j; x++) {
		const struct load_contact	*ct = &l->contacts[x];

		if (len + slot > *cap) {
			char	*p;
			size_t	 ncap = *cap ? *cap * 2 : 4096;

			if ((p = realloc(*entries, ncap)) == NULL)
				return -1;
			*entries = p;
			*cap = ncap;
		}
		len += keys_contact_entry(*entries + len, *cap - len, ct->time,
		    conf->channels[ct->channel].name,
		    load_str(l, ct->campaign), load_str(l, ct->send_id),
		    load_str(l, ct->category));
	}
	return (long)len;
}

/*
 * Mark for retry the customers whose call found the library gone: call k
 * was for customer sent_of[k]; lost[k] says it was lost. Clears the marks
 * of the g customers first.
 */
static void
load_merge_lost(uint8_t *retry, size_t g, const size_t *sent_of,
    size_t nsent, const uint8_t *lost, size_t *nretry)
{
	memset(retry, 0, g);
	*nretry = 0;
	for (size_t k = 0; k < nsent; k++)
		if (lost[k]) {
			retry[sent_of[k]] = 1;
			(*nretry)++;
		}
}

/*
 * One pass over the sorted contacts: the library's merge (daemon/load.lua)
 * once per customer, pipelined; with *nretry > 0 only the customers (by
 * their rank among the contacts' customers) retry marks. On return retry
 * marks the customers whose call found the library gone (FUNCTION FLUSH,
 * a restart, a failover), *nretry counting them. Sending again, the
 * library is loaded before every LOAD_RETRY_CHUNK customers, whose calls
 * then follow it at once. 0, or -1 with *cause.
 */
static int
load_merge_pass(struct load *l, struct cmd_redis *ctx, uint8_t *retry,
    size_t *nretry, char **cause)
{
	const struct conf	*conf = l->conf;
	struct cmd_pipe		 pipe = { ctx, 0, 0, 0, NULL, 0 };
	size_t			*sent_of = NULL, nsent = 0, g = 0, chunk = 0;
	int			 only = *nretry > 0;
	struct cmd_progress	 prog = { 0, 0 };
	const char		*argv[7];
	size_t			 lens[7], cap = 0, i = 0, j;
	char			*entries = NULL, key[KEYS_MAX], oldest[32], window[32];
	long			 len;
	int			 rc = -1;

	snprintf(oldest, sizeof oldest, "%lld", (long long)(l->now -
	    load_window(l)));
	snprintf(window, sizeof window, "%lld", (long long)load_window(l));
	argv[0] = "FCALL";
	argv[1] = SCRIPT_MERGE;
	argv[2] = "1";
	argv[3] = key;
	argv[4] = oldest;
	argv[5] = window;
	for (int k = 0; k < 6; k++)
		lens[k] = strlen(argv[k]);
	/* Which customer each call is for, and which calls found no library. */
	if ((sent_of = malloc((l->ncontacts + 1) * sizeof *sent_of)) == NULL ||
	    (pipe.lost = calloc(l->ncontacts + 1, 1)) == NULL) {
		*cause = strdup("out of memory");
		goto done;
	}
	for (; i < l->ncontacts; i = j, g++) {
		const char	*id = load_str(l, l->contacts[i].customer);

		for (j = i + 1; j < l->ncontacts &&
		    !strcmp(load_str(l, l->contacts[j].customer), id); j++)
			;
		if (only && !retry[g])
			continue;
		if (only && chunk++ % LOAD_RETRY_CHUNK == 0 &&
		    (cmd_pipe_flush(&pipe, cause) != 0 ||
		    load_library(ctx, cause) != 0))
			goto done;
		if ((len = load_merge_entries(l, i, j, &entries, &cap)) < 0) {
			*cause = strdup("out of memory");
			goto done;
		}
		lens[3] = keys_customer(key, sizeof key, conf->redis.prefix, id,
		    "p");
		argv[6] = entries;
		lens[6] = (size_t)len;
		sent_of[nsent++] = g;
		if (cmd_pipe_append(&pipe, 7, argv, lens, cause) != 0)
			goto done;
		if (cmd_progress_due(&prog))
			cmd_progress_line(&prog, "load", "contacts written", i,
			    l->ncontacts);
	}
	if (cmd_pipe_flush(&pipe, cause) != 0)
		goto done;
	rc = 0;
done:
	if (rc != 0) {
		char	*ignored = NULL;

		/* Read what is still in flight: the connection stays usable. */
		(void)cmd_pipe_flush(&pipe, &ignored);
		free(ignored);
	}
	load_merge_lost(retry, g, sent_of, rc == 0 ? nsent : 0, pipe.lost,
	    nretry);
	free(pipe.lost);
	free(sent_of);
	free(entries);
	return rc;
}

/*
 * Write the contacts grouped by customer: each customer's new entries
 * merged into the history by one script call; 0 or -1.
 */
static int
load_write_contacts(struct load *l, struct cmd_redis *ctx, char **cause)
{
	uint8_t		*retry;
	size_t		 nretry = 0, before;
	int		 rc, stuck = 0, reloads = 0;
	double		 t0 = clock_mono_s();

	load_sort_base = l->arena.buf;
	qsort(l->contacts, l->ncontacts, sizeof *l->contacts, load_contact_cmp);
	if ((retry = calloc(l->ncontacts + 1, 1)) == NULL) {
		*cause = strdup("out of memory");
		return -1;
	}
	if ((rc = load_library(ctx, cause)) == 0)
		rc = load_merge_pass(l, ctx, retry, &nretry, cause);
	/*
	 * Redis lost the library on the way (restart, failover, FUNCTION
	 * FLUSH): load it again and send the customers whose call found it
	 * gone, for as long as each round gets some through.
	 */
	while (rc == 0 && nretry > 0) {
		if (reloads++ == 0)
			cmd_log("load", "redis lost pacer's function library: loading "
			    "it again");
		before = nretry;
		rc = load_merge_pass(l, ctx, retry, &nretry, cause);
		stuck = nretry >= before ? stuck + 1 : 0;
		if (rc == 0 && stuck >= LOAD_LOST_ROUNDS) {
			*cause = str_printf("redis keeps losing pacer's function "
			    "library: %zu customers' contacts not written", nretry);
			rc = -1;
		}
	}
	free(retry);
	if (reloads > 0 && rc == 0)
		cmd_log("load", "function library loaded again %d times", reloads);
	if (rc != 0)
		return -1;
	cmd_log("load", "contacts: %zu written in %.2fs (%.0f/s)", l->ncontacts,
	    clock_mono_s() - t0, (double)l->ncontacts / (clock_mono_s() - t0 + 1e-9));
	return 0;
}

/* Usage line. */
static int
load_usage(void)
{
	fprintf(stderr, "usage: pacer load -c FILE --profiles CSV [--contacts CSV]\n");
	return CMD_BAD_INPUT;
}

/*
 * Parse pacer load's arguments into the three paths; 0, or the usage
 * exit code.
 */
static int
load_args(int argc, char **argv, const char **conf_path,
    const char **profiles, const char **contacts)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "profiles", required_argument, NULL, 'p' },
		{ "contacts", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	int	 ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			*conf_path = optarg;
			break;
		case 'p':
			*profiles = optarg;
			break;
		case 'k':
			*contacts = optarg;
			break;
		default:
			return load_usage();
		}
	}
	if (optind != argc || *conf_path == NULL ||
	    (*profiles == NULL && *contacts == NULL))
		return load_usage();
	return 0;
}

/* Free what load holds (not its config or offers). */
static void
load_free(struct load *l)
{
	for (int i = 0; i < l->nzones; i++)
		free(l->zones[i].tzt);
	free(l->zones);
	free(l->profiles);
	intern_free(&l->customers);
	free(l->contacts);
	free(l->arena.buf);
}

/*
 * Read and check the files named (profiles, then contacts with the
 * offers' categories) into l; 0, or -1 with *cause.
 */
static int
load_read(struct load *l, const char *profiles, const char *contacts,
    struct offers **offers, char **cause)
{
	const struct conf	*conf = l->conf;

	if (profiles != NULL && load_read_profiles(l, profiles, cause) != 0)
		return -1;
	if (profiles != NULL)
		cmd_log("load", "%s: %zu profiles valid", profiles, l->nprofiles);
	/*
	 * Contacts name offers: their categories come from the offers file
	 * (needed only when category caps are configured, but stored always,
	 * so that caps configured later count them).
	 */
	if (contacts != NULL && conf->optimizer.offers != NULL &&
	    (*offers = offers_load(conf->optimizer.offers, conf, cause)) ==
	    NULL) {
		if (conf->ncategories > 0)
			return -1;
		free(*cause);
		*cause = NULL;
	}
	l->offers = *offers;
	if (contacts != NULL && load_read_contacts(l, contacts, cause) != 0)
		return -1;
	if (contacts != NULL)
		cmd_log("load", "%s: %zu contacts valid, %zu older than the longest "
		    "window skipped", contacts, l->ncontacts, l->old_contacts);
	return 0;
}

/* pacer load: check the files in full, then write them to Redis. */
int
cmd_load(int argc, char **argv)
{
	const char	*conf_path = NULL, *profiles = NULL, *contacts = NULL;
	struct conf	*conf = NULL;
	struct offers	*offers = NULL;
	struct load	 l;
	struct cmd_redis	*ctx = NULL;
	char		*cause = NULL;
	int		 rc = CMD_BAD_INPUT;
	double		 t0 = clock_mono_s();

	memset(&l, 0, sizeof l);
	if ((rc = load_args(argc, argv, &conf_path, &profiles, &contacts)) != 0)
		return rc;
	rc = CMD_BAD_INPUT;
	if ((conf = conf_load(conf_path, &cause)) == NULL)
		goto fail;
	l.conf = conf;
	l.now = (int64_t)time(NULL);
	if (load_read(&l, profiles, contacts, &offers, &cause) != 0)
		goto fail;
	if ((ctx = cmd_redis_connect(conf, &cause)) == NULL) {
		rc = CMD_NO_SERVICE;
		goto fail;
	}
	rc = CMD_NO_SERVICE;
	if (load_write_profiles(&l, ctx, &cause) != 0)
		goto fail;
	if (l.ncontacts > 0 && load_write_contacts(&l, ctx, &cause) != 0)
		goto fail;
	cmd_log("load", "done: %zu profiles, %zu contacts in %.2fs", l.nprofiles,
	    l.ncontacts, clock_mono_s() - t0);
	rc = CMD_OK;
	goto done;
fail:
	cmd_log("load", "%s", cause ? cause : "out of memory");
done:
	free(cause);
	cmd_redis_free(ctx);
	load_free(&l);
	offers_free(offers);
	conf_free(conf);
	return rc;
}
