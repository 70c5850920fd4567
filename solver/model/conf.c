/*
 * Configuration parsing: inih reads the INI syntax, one table below says
 * what every key means. Every error names file:line.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "pacer/conf.h"
#include "pacer/slot.h"

enum conf_type {
	T_STR,		/* char *, NULL when empty */
	T_PATH,		/* char *, NULL when empty; relative to the file's folder */
	T_INT,		/* int within [min, max] */
	T_SIZE,		/* size_t within [min, max] */
	T_BOOL,		/* true/false/yes/no/1/0 */
	T_DOUBLE,	/* double within [min, max] */
	T_DURATION,	/* int64_t seconds within [min, max] */
	T_CLOCK,	/* "HH:MM" as minutes, -1 when empty */
	T_LISTEN,	/* "host:port" into server.listen_host/port */
	T_ALLOWDENY,	/* "allow" = 1, "deny" = 0 */
};

/* One key of a fixed section. */
struct conf_key {
	const char	*section;
	const char	*name;
	enum conf_type	 type;
	size_t		 offset;
	double		 min, max;
	const char	*def;		/* default, parsed like a value */
	int		 reloadable;	/* can change on SIGHUP */
};

#define OFF(f) offsetof(struct conf, f)

static const struct conf_key conf_keys[] = {
	{ "server", "listen", T_LISTEN, 0, 0, 0, "127.0.0.1:8425", 0 },
	{ "server", "max_body_bytes", T_SIZE, OFF(server.max_body_bytes),
	  256, 64 * 1024 * 1024, "65536", 1 },
	{ "server", "tokens_file", T_PATH, OFF(server.tokens_file), 0, 0, "", 1 },
	{ "server", "allow_client_time", T_BOOL, OFF(server.allow_client_time),
	  0, 1, "false", 1 },
	{ "server", "max_connections", T_INT, OFF(server.max_connections),
	  1, 100000, "4096", 1 },
	{ "server", "tls_cert", T_PATH, OFF(server.tls_cert), 0, 0, "", 1 },
	{ "server", "tls_key", T_PATH, OFF(server.tls_key), 0, 0, "", 1 },
	{ "server", "access_log", T_PATH, OFF(server.access_log), 0, 0, "", 1 },
	{ "redis", "host", T_STR, OFF(redis.host), 0, 0, "127.0.0.1", 0 },
	{ "redis", "port", T_INT, OFF(redis.port), 1, 65535, "6379", 0 },
	{ "redis", "password", T_STR, OFF(redis.password), 0, 0, "", 0 },
	{ "redis", "prefix", T_STR, OFF(redis.prefix), 0, 0, "pacer", 0 },
	{ "redis", "timeout_ms", T_INT, OFF(redis.timeout_ms), 1, 60000, "50", 1 },
	{ "redis", "nodes", T_STR, OFF(redis.nodes), 0, 0, "", 0 },
	{ "redis", "wait_replicas", T_INT, OFF(redis.wait_replicas), 0, 16, "0", 0 },
	{ "consent", "default", T_ALLOWDENY, OFF(consent_default_allow),
	  0, 1, "deny", 1 },
	{ "optimizer", "offers", T_PATH, OFF(optimizer.offers), 0, 0,
	  "offers.csv", 1 },
	{ "optimizer", "scores", T_PATH, OFF(optimizer.scores), 0, 0,
	  "scores.csv", 1 },
	{ "optimizer", "run_at", T_CLOCK, OFF(optimizer.run_at), 0, 0, "", 1 },
	{ "optimizer", "every", T_DURATION, OFF(optimizer.every), 60,
	  366 * 86400.0, "", 1 },
	{ "optimizer", "horizon", T_DURATION, OFF(optimizer.horizon), 60,
	  366 * 86400.0, "1d", 1 },
	{ "optimizer", "max_offers_per_customer", T_INT,
	  OFF(optimizer.max_offers_per_customer), 1, 1000, "4", 1 },
	{ "optimizer", "time_limit_s", T_INT, OFF(optimizer.time_limit_s), 1,
	  86400, "600", 1 },
	{ "optimizer", "gap", T_DOUBLE, OFF(optimizer.gap), 1e-9, 0.5, "0.001", 1 },
	{ "optimizer", "out_dir", T_PATH, OFF(optimizer.out_dir), 0, 0, "reports", 1 },
	{ "optimizer", "auto_publish", T_BOOL, OFF(optimizer.auto_publish), 0, 1,
	  "false", 1 },
	{ "optimizer", "holdout", T_DOUBLE, OFF(optimizer.holdout), 0, 0.99, "0", 1 },
	{ "optimizer", "enforce_plan", T_BOOL, OFF(optimizer.enforce_plan), 0, 1,
	  "false", 1 },
	{ "priority", "reserve", T_INT, OFF(priority_reserve), 0, 1000, "0", 1 },
	{ "fairness", "segments", T_STR, OFF(fairness.segments_text), 0, 0, "",
	  1 },
	{ "fairness", "min_ratio", T_DOUBLE, OFF(fairness.min_ratio), 0, 1, "0.8",
	  1 },
};
#define NKEYS (sizeof conf_keys / sizeof conf_keys[0])
_Static_assert(NKEYS <= CONF_MAX_KEYS, "raise CONF_MAX_KEYS");

/* Parser state shared by the line reader and the inih handler. */
struct conf_parse {
	struct conf	*conf;
	const char	*name;		/* file name for messages */
	char		*dir;		/* absolute folder of the file, or NULL */
	const char	*text;		/* string input, or NULL */
	FILE		*file;		/* file input, or NULL */
	int		 line;		/* line number being parsed */
	char		 section[160];	/* current section, as the file spells it */
	int		 quiet_line[CONF_MAX_CHANNELS];	/* quiet_hours set here */
	int		 failure_line[CONF_MAX_CHANNELS]; /* on_store_failure set */
	char		*cause;		/* first error */
	unsigned char	 seen[NKEYS];
	int		 seen_run_at_line, seen_every_line;
	int		 shadow_line[CONF_MAX_SHADOW];
	char		 shadow_channel[CONF_MAX_SHADOW][CONF_NAME_MAX];
};

/* Record the first error as "file:line: message". */
static int __attribute__((format(printf, 3, 4)))
conf_error(struct conf_parse *p, int line, const char *fmt, ...)
{
	char	 msg[512];
	va_list	 ap;
	int	 n;

	if (p->cause != NULL)
		return 0;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	n = snprintf(NULL, 0, "%s:%d: %s", p->name, line, msg);
	p->cause = malloc((size_t)n + 1);
	if (p->cause != NULL)
		snprintf(p->cause, (size_t)n + 1, "%s:%d: %s", p->name, line, msg);
	return 0;
}

int
conf_parse_duration(const char *text, int64_t *seconds)
{
	char		*end;
	long long	 n;
	int64_t		 unit;

	if (text == NULL || !isdigit((unsigned char)*text))
		return -1;
	errno = 0;
	n = strtoll(text, &end, 10);
	if (errno != 0 || n <= 0 || n > 100000000LL)
		return -1;
	switch (*end) {
	case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	case 'w': unit = 7 * 86400; break;
	default: return -1;
	}
	if (end[1] != '\0')
		return -1;
	if (n > INT64_MAX / unit)
		return -1;
	*seconds = n * unit;
	return 0;
}

void
conf_format_duration(int64_t s, char *buf, size_t len)
{
	if (s % (7 * 86400) == 0 && s / (7 * 86400) > 1 && s % 86400 != 0)
		snprintf(buf, len, "%lldw", (long long)(s / (7 * 86400)));
	else if (s % 86400 == 0)
		snprintf(buf, len, "%lldd", (long long)(s / 86400));
	else if (s % 3600 == 0)
		snprintf(buf, len, "%lldh", (long long)(s / 3600));
	else if (s % 60 == 0)
		snprintf(buf, len, "%lldm", (long long)(s / 60));
	else
		snprintf(buf, len, "%llds", (long long)s);
}

int
conf_parse_cap(const char *text, struct conf_cap *cap)
{
	char		*end;
	long		 n;

	if (text == NULL || !isdigit((unsigned char)*text))
		return -1;
	errno = 0;
	n = strtol(text, &end, 10);
	if (errno != 0 || n < 0 || n > 1000000 || *end != '/')
		return -1;
	if (conf_parse_duration(end + 1, &cap->window) != 0)
		return -1;
	cap->limit = (int)n;
	cap->text[0] = '\0';
	return 0;
}

int
conf_parse_clock(const char *text, int *minutes)
{
	int	 h, m;
	char	 extra;

	if (strlen(text) != 5 || text[2] != ':' ||
	    sscanf(text, "%2d:%2d%c", &h, &m, &extra) != 2)
		return -1;
	if (!isdigit((unsigned char)text[0]) || !isdigit((unsigned char)text[3]))
		return -1;
	if (h < 0 || h > 23 || m < 0 || m > 59)
		return -1;
	*minutes = h * 60 + m;
	return 0;
}

/* Parse a boolean; 0 or -1. */
static int
conf_parse_bool(const char *v, int *out)
{
	if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") ||
	    !strcmp(v, "1"))
		*out = 1;
	else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") ||
	    !strcmp(v, "0"))
		*out = 0;
	else
		return -1;
	return 0;
}

int
conf_valid_name(const char *s)
{
	size_t	 n = strlen(s);

	if (n == 0 || n >= CONF_NAME_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("_.-", *s) == NULL)
			return 0;
	return 1;
}

/* "a/b" from a folder and a relative path; NULL when out of memory. */
static char *
conf_join_path(const char *dir, const char *rel)
{
	size_t	 n = strlen(dir) + strlen(rel) + 2;
	char	*s;

	if ((s = malloc(n)) != NULL)
		snprintf(s, n, "%s/%s", dir, rel);
	return s;
}

/* The absolute folder of the file at path (caller frees), or NULL. */
static char *
conf_folder(const char *path)
{
	char	*copy, *slash, *dir;

	if ((copy = strdup(path)) == NULL)
		return NULL;
	if ((slash = strrchr(copy, '/')) == NULL)
		dir = realpath(".", NULL);
	else {
		slash[slash == copy] = '\0';	/* "/x.conf" keeps its "/" */
		dir = realpath(copy, NULL);
	}
	free(copy);
	return dir;
}

/* A string or path key; a relative path is joined to the file's folder. */
static int
conf_set_str(struct conf_parse *p, const struct conf_key *k, const char *v,
    int line)
{
	char	**dst = (char **)((char *)p->conf + k->offset);

	/* Keys with a default (paths, host, prefix) cannot be emptied. */
	if (*v == '\0' && *k->def != '\0')
		return conf_error(p, line, "%s: must not be empty", k->name);
	free(*dst);
	*dst = NULL;
	if (*v == '\0')
		return 0;
	/* Under systemd the working directory is not the config's. */
	if (k->type == T_PATH && *v != '/' && strcmp(v, "-") != 0 &&
	    p->dir != NULL)
		*dst = conf_join_path(p->dir, v);
	else
		*dst = strdup(v);
	if (*dst == NULL)
		return conf_error(p, line, "out of memory");
	return 0;
}

/* A whole number key (int or size_t) within its bounds. */
static int
conf_set_int(struct conf_parse *p, const struct conf_key *k, const char *v,
    int line)
{
	char	*base = (char *)p->conf, *end;
	long	 l;

	errno = 0;
	l = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0)
		return conf_error(p, line, "%s: \"%s\" is not a whole number",
		    k->name, v);
	if (l < k->min || l > k->max)
		return conf_error(p, line, "%s: %ld is outside %.0f..%.0f",
		    k->name, l, k->min, k->max);
	if (k->type == T_INT)
		*(int *)(base + k->offset) = (int)l;
	else
		*(size_t *)(base + k->offset) = (size_t)l;
	return 0;
}

/* A real number key within its bounds. */
static int
conf_set_double(struct conf_parse *p, const struct conf_key *k,
    const char *v, int line)
{
	char	*end;
	double	 d;

	errno = 0;
	d = strtod(v, &end);
	if (*v == '\0' || *end != '\0' || errno != 0 || !isfinite(d))
		return conf_error(p, line, "%s: \"%s\" is not a number",
		    k->name, v);
	if (d < k->min || d > k->max)
		return conf_error(p, line, "%s: %g is outside %g..%g",
		    k->name, d, k->min, k->max);
	*(double *)((char *)p->conf + k->offset) = d;
	return 0;
}

/* A duration key within its bounds; empty is 0 when it has no default. */
static int
conf_set_duration(struct conf_parse *p, const struct conf_key *k,
    const char *v, int line)
{
	int64_t	*dst = (int64_t *)((char *)p->conf + k->offset), dur;

	if (*v == '\0' && *k->def == '\0') {
		*dst = 0;
		return 0;
	}
	if (conf_parse_duration(v, &dur) != 0)
		return conf_error(p, line, "%s: \"%s\" is not a duration "
		    "(like 30s, 15m, 6h, 7d, 2w)", k->name, v);
	if (dur < k->min || dur > k->max)
		return conf_error(p, line, "%s: %s is out of range",
		    k->name, v);
	*dst = dur;
	return 0;
}

/* listen = host:port, into server.listen_host and listen_port. */
static int
conf_set_listen(struct conf_parse *p, const char *v, int line)
{
	const char	*colon = strrchr(v, ':');
	char		*host, *end;
	long		 l;

	if (colon == NULL || colon == v)
		return conf_error(p, line, "listen: \"%s\" is not host:port", v);
	errno = 0;
	l = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || l < 0 ||
	    l > 65535)
		return conf_error(p, line, "listen: bad port in \"%s\"", v);
	if ((host = strndup(v, (size_t)(colon - v))) == NULL)
		return conf_error(p, line, "out of memory");
	free(p->conf->server.listen_host);
	p->conf->server.listen_host = host;
	p->conf->server.listen_port = (int)l;
	return 0;
}

/* Set one fixed key from its text; 0 or -1 (error recorded). */
static int
conf_set_key(struct conf_parse *p, const struct conf_key *k, const char *v, int line)
{
	char		*base = (char *)p->conf;
	int		 b;

	switch (k->type) {
	case T_STR:
	case T_PATH:
		return conf_set_str(p, k, v, line);
	case T_INT:
	case T_SIZE:
		return conf_set_int(p, k, v, line);
	case T_BOOL:
		if (conf_parse_bool(v, &b) != 0)
			return conf_error(p, line, "%s: \"%s\" is not true or false",
			    k->name, v);
		*(int *)(base + k->offset) = b;
		return 0;
	case T_ALLOWDENY:
		if (strcmp(v, "allow") && strcmp(v, "deny"))
			return conf_error(p, line, "%s: \"%s\" is not allow or deny",
			    k->name, v);
		*(int *)(base + k->offset) = !strcmp(v, "allow");
		return 0;
	case T_DOUBLE:
		return conf_set_double(p, k, v, line);
	case T_DURATION:
		return conf_set_duration(p, k, v, line);
	case T_CLOCK:
		if (*v == '\0') {
			*(int *)(base + k->offset) = -1;
			return 0;
		}
		if (conf_parse_clock(v, (int *)(base + k->offset)) != 0)
			return conf_error(p, line, "%s: \"%s\" is not a time HH:MM",
			    k->name, v);
		return 0;
	case T_LISTEN:
		return conf_set_listen(p, v, line);
	}
	return conf_error(p, line, "internal: bad key type");
}

/* Add a cap to a list, naming it "label N/D". */
static int
conf_add_cap(struct conf_parse *p, struct conf_cap *caps, int *n, const char *label,
    const char *v, int line)
{
	struct conf_cap	 cap;
	char		 dur[32];

	if (conf_parse_cap(v, &cap) != 0)
		return conf_error(p, line, "cap: \"%s\" is not N/DURATION "
		    "(like 3/7d)", v);
	if (*n >= CONF_MAX_CAPS)
		return conf_error(p, line, "cap: more than %d caps in one section",
		    CONF_MAX_CAPS);
	for (int i = 0; i < *n; i++)
		if (caps[i].window == cap.window)
			return conf_error(p, line, "cap: two caps with the same "
			    "window (%s) contradict each other", v);
	conf_format_duration(cap.window, dur, sizeof dur);
	snprintf(cap.text, sizeof cap.text, "%s %d/%s", label, cap.limit, dur);
	caps[(*n)++] = cap;
	return 0;
}

/* Find or create the named channel. */
static struct conf_channel *
conf_channel_get(struct conf_parse *p, const char *name, int line)
{
	struct conf	*c = p->conf;
	int		 i = conf_channel_index(c, name);

	if (i >= 0)
		return &c->channels[i];
	if (!conf_valid_name(name)) {
		conf_error(p, line, "[channel %s]: bad channel name", name);
		return NULL;
	}
	if (!strcmp(name, "all")) {
		conf_error(p, line, "[channel all]: \"all\" is reserved");
		return NULL;
	}
	if (c->nchannels >= CONF_MAX_CHANNELS) {
		conf_error(p, line, "too many channels (at most %d)", CONF_MAX_CHANNELS);
		return NULL;
	}
	struct conf_channel *ch = &c->channels[c->nchannels++];
	memset(ch, 0, sizeof *ch);
	/* conf_valid_name bounds the length below CONF_NAME_MAX. */
	memcpy(ch->name, name, strlen(name) + 1);
	ch->quiet_start = ch->quiet_end = -1;
	ch->on_store_failure = CONF_FAIL_DENY;
	return ch;
}

/* Find or create the named segment. */
static struct conf_segment *
conf_segment_get(struct conf_parse *p, const char *name, int line)
{
	struct conf	*c = p->conf;
	int		 i = conf_segment_index(c, name);

	if (i >= 0)
		return &c->segments[i];
	if (!conf_valid_name(name)) {
		conf_error(p, line, "[segment %s]: bad segment name", name);
		return NULL;
	}
	if (c->nsegments >= CONF_MAX_SEGMENTS) {
		conf_error(p, line, "too many segments (at most %d)", CONF_MAX_SEGMENTS);
		return NULL;
	}
	struct conf_segment *s = &c->segments[c->nsegments++];
	memset(s, 0, sizeof *s);
	memcpy(s->name, name, strlen(name) + 1);
	return s;
}

/* [channel NAME] keys. */
static int
conf_channel_key(struct conf_parse *p, const char *chname, const char *key,
    const char *v, int line)
{
	struct conf_channel	*ch = conf_channel_get(p, chname, line);
	char			 a[16], b[16];
	int			 idx, end = 0;

	if (ch == NULL)
		return 0;
	idx = (int)(ch - p->conf->channels);
	if (!strcmp(key, "cap"))
		return conf_add_cap(p, ch->caps, &ch->ncaps, ch->name, v, line);
	if (!strcmp(key, "quiet_hours")) {
		if (p->quiet_line[idx] != 0)
			return conf_error(p, line, "quiet_hours: set twice in "
			    "[channel %s] (first on line %d)", ch->name,
			    p->quiet_line[idx]);
		p->quiet_line[idx] = line;
		if (*v == '\0') {
			ch->quiet_start = ch->quiet_end = -1;
			return 0;
		}
		if (sscanf(v, "%15[^-]-%15s%n", a, b, &end) != 2 || v[end] != '\0' ||
		    conf_parse_clock(a, &ch->quiet_start) != 0 ||
		    conf_parse_clock(b, &ch->quiet_end) != 0)
			return conf_error(p, line, "quiet_hours: \"%s\" is not "
			    "HH:MM-HH:MM", v);
		if (ch->quiet_start == ch->quiet_end)
			return conf_error(p, line, "quiet_hours: \"%s\" starts and "
			    "ends at the same minute", v);
		return 0;
	}
	if (!strcmp(key, "on_store_failure")) {
		if (p->failure_line[idx] != 0)
			return conf_error(p, line, "on_store_failure: set twice in "
			    "[channel %s] (first on line %d)", ch->name,
			    p->failure_line[idx]);
		p->failure_line[idx] = line;
		if (!strcmp(v, "deny"))
			ch->on_store_failure = CONF_FAIL_DENY;
		else if (!strcmp(v, "allow"))
			ch->on_store_failure = CONF_FAIL_ALLOW;
		else
			return conf_error(p, line, "on_store_failure: \"%s\" is not "
			    "deny or allow", v);
		return 0;
	}
	return conf_error(p, line, "unknown key \"%s\" in [channel %s]", key, chname);
}

int
conf_parse_priority(const char *text, enum conf_priority *out)
{
	static const char *const names[] = { "low", "normal", "high" };

	for (int i = 0; i < 3; i++)
		if (!strcmp(text, names[i])) {
			*out = (enum conf_priority)i;
			return 0;
		}
	return -1;
}

/* Find or create the named campaign's settings. */
static struct conf_campaign *
conf_campaign_get(struct conf_parse *p, const char *name, int line)
{
	struct conf		*c = p->conf;
	struct conf_campaign	*cp;

	for (int i = 0; i < c->ncampaigns; i++)
		if (!strcmp(c->campaigns[i].name, name))
			return &c->campaigns[i];
	if (!conf_valid_name(name)) {
		conf_error(p, line, "[campaign %s]: bad campaign name", name);
		return NULL;
	}
	if (c->ncampaigns >= CONF_MAX_CAMPAIGNS) {
		conf_error(p, line, "too many [campaign NAME] sections (at most %d)",
		    CONF_MAX_CAMPAIGNS);
		return NULL;
	}
	cp = &c->campaigns[c->ncampaigns++];
	snprintf(cp->name, sizeof cp->name, "%s", name);
	cp->counts = 1;
	cp->priority = CONF_PRIORITY_NORMAL;
	return cp;
}

/* [campaign NAME] keys: exempt, counts, priority. */
static int
conf_campaign_key(struct conf_parse *p, const char *cname, const char *key,
    const char *v, int line)
{
	struct conf_campaign	*cp = conf_campaign_get(p, cname, line);

	if (cp == NULL)
		return 0;
	if (!strcmp(key, "exempt")) {
		if (conf_parse_bool(v, &cp->exempt) != 0)
			return conf_error(p, line, "exempt: \"%s\" is not true or false",
			    v);
		return 0;
	}
	if (!strcmp(key, "counts")) {
		if (conf_parse_bool(v, &cp->counts) != 0)
			return conf_error(p, line, "counts: \"%s\" is not true or false",
			    v);
		return 0;
	}
	if (!strcmp(key, "priority")) {
		if (conf_parse_priority(v, &cp->priority) != 0)
			return conf_error(p, line, "priority: \"%s\" is not low, normal "
			    "or high", v);
		return 0;
	}
	return conf_error(p, line, "unknown key \"%s\" in [campaign %s]", key,
	    cname);
}

const struct conf_campaign *
conf_campaign_find(const struct conf *c, const char *name)
{
	for (int i = 0; name != NULL && i < c->ncampaigns; i++)
		if (!strcmp(c->campaigns[i].name, name))
			return &c->campaigns[i];
	return NULL;
}

/* Find or create the named category's caps. */
static struct conf_category *
conf_category_get(struct conf_parse *p, const char *name, int line)
{
	struct conf		*c = p->conf;
	struct conf_category	*k;
	int			 i = conf_category_index(c, name);

	if (i >= 0)
		return &c->categories[i];
	if (!conf_valid_name(name)) {
		conf_error(p, line, "[category %s]: bad category name", name);
		return NULL;
	}
	if (c->ncategories >= CONF_MAX_CATEGORIES) {
		conf_error(p, line, "too many [category NAME] sections (at most %d)",
		    CONF_MAX_CATEGORIES);
		return NULL;
	}
	k = &c->categories[c->ncategories++];
	memset(k, 0, sizeof *k);
	snprintf(k->name, sizeof k->name, "%s", name);
	return k;
}

/* [category NAME] cap = N/DURATION (several). */
static int
conf_category_key(struct conf_parse *p, const char *kname, const char *key,
    const char *v, int line)
{
	struct conf_category	*k = conf_category_get(p, kname, line);
	char			 label[CONF_NAME_MAX + 16];

	if (k == NULL)
		return 0;
	if (strcmp(key, "cap"))
		return conf_error(p, line, "unknown key \"%s\" in [category %s]",
		    key, kname);
	snprintf(label, sizeof label, "category %s", k->name);
	return conf_add_cap(p, k->caps, &k->ncaps, label, v, line);
}

int
conf_category_index(const struct conf *c, const char *name)
{
	for (int i = 0; name != NULL && i < c->ncategories; i++)
		if (!strcmp(c->categories[i].name, name))
			return i;
	return -1;
}

/* [segment NAME] keys. */
static int
conf_segment_key(struct conf_parse *p, const char *sname, const char *key,
    const char *v, int line)
{
	struct conf_segment	*s = conf_segment_get(p, sname, line);
	char			 label[CONF_NAME_MAX + 16];
	char			*copy, *tok, *save;

	if (s == NULL)
		return 0;
	if (!strcmp(key, "cap")) {
		snprintf(label, sizeof label, "segment %s", s->name);
		return conf_add_cap(p, s->caps, &s->ncaps, label, v, line);
	}
	if (!strcmp(key, "exclude_offers")) {
		if ((copy = strdup(v)) == NULL)
			return conf_error(p, line, "out of memory");
		for (tok = strtok_r(copy, ", ", &save); tok != NULL;
		    tok = strtok_r(NULL, ", ", &save)) {
			if (!conf_valid_name(tok)) {
				/* tok points into copy: report before freeing. */
				conf_error(p, line, "exclude_offers: bad category "
				    "\"%s\"", tok);
				free(copy);
				return 0;
			}
			if (s->nexclude >= CONF_MAX_EXCLUDE) {
				free(copy);
				return conf_error(p, line, "exclude_offers: more than "
				    "%d categories", CONF_MAX_EXCLUDE);
			}
			snprintf(s->exclude[s->nexclude++], CONF_NAME_MAX, "%s", tok);
		}
		free(copy);
		return 0;
	}
	return conf_error(p, line, "unknown key \"%s\" in [segment %s]", key, sname);
}

/* [shadow] cap = [CHANNEL|all] N/DURATION */
static int
conf_shadow_key(struct conf_parse *p, const char *key, const char *v, int line)
{
	struct conf		*c = p->conf;
	struct conf_shadow	*sh;
	char			 chan[CONF_NAME_MAX] = "all", capt[64], dur[32];
	int			 n, end = 0;

	if (strcmp(key, "cap"))
		return conf_error(p, line, "unknown key \"%s\" in [shadow]", key);
	if (c->nshadow >= CONF_MAX_SHADOW)
		return conf_error(p, line, "too many shadow caps (at most %d)",
		    CONF_MAX_SHADOW);
	sh = &c->shadow[c->nshadow];
	n = sscanf(v, "%63s%n %63s%n", chan, &end, capt, &end);
	if (n < 1 || v[end] != '\0')
		return conf_error(p, line, "cap: \"%s\" is not [CHANNEL] N/DURATION", v);
	if (n == 1) {
		snprintf(capt, sizeof capt, "%s", chan);
		snprintf(chan, sizeof chan, "all");
	}
	if (n < 1 || conf_parse_cap(capt, &sh->cap) != 0)
		return conf_error(p, line, "cap: \"%s\" is not [CHANNEL] N/DURATION", v);
	/* The channel may be declared later in the file: resolve at the end. */
	snprintf(p->shadow_channel[c->nshadow], CONF_NAME_MAX, "%s", chan);
	p->shadow_line[c->nshadow] = line;
	conf_format_duration(sh->cap.window, dur, sizeof dur);
	snprintf(sh->cap.text, sizeof sh->cap.text, "shadow %s %d/%s", chan,
	    sh->cap.limit, dur);
	c->nshadow++;
	return 0;
}

/*
 * Split "channel NAME" into kind and name (borrowed from section, which it
 * modifies); 1 when section has a name part, else 0.
 */
static int
conf_section_split(char *section, char **kind, char **name)
{
	char	*sp = strchr(section, ' ');

	*kind = section;
	*name = NULL;
	if (sp == NULL)
		return 0;
	*sp++ = '\0';
	while (*sp == ' ' || *sp == '\t')
		sp++;
	*name = sp;
	return 1;
}

/*
 * A section header was read: remember it and create the channel or segment
 * it names, so that a section without keys still counts and an unknown one
 * is an error even when empty.
 */
static void
conf_section(struct conf_parse *p, const char *text, size_t len, int line)
{
	static const char *const fixed[] = { "server", "redis", "consent", "all",
	    "campaign", "shadow", "optimizer", "priority", "fairness" };
	char	 copy[sizeof p->section], *kind, *name;

	if (len >= sizeof p->section) {
		conf_error(p, line, "section name too long");
		return;
	}
	memcpy(p->section, text, len);
	p->section[len] = '\0';
	memcpy(copy, p->section, len + 1);
	if (conf_section_split(copy, &kind, &name)) {
		if (!strcmp(kind, "channel"))
			conf_channel_get(p, name, line);
		else if (!strcmp(kind, "segment"))
			conf_segment_get(p, name, line);
		else if (!strcmp(kind, "campaign"))
			conf_campaign_get(p, name, line);
		else if (!strcmp(kind, "category"))
			conf_category_get(p, name, line);
		else
			conf_error(p, line, "unknown section [%s]", p->section);
		return;
	}
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		if (!strcmp(kind, fixed[i]))
			return;
	conf_error(p, line, "unknown section [%s]", p->section);
}

/*
 * inih callback: one key = value. The section comes from the reader (inih
 * truncates long section names to 49 bytes).
 */
static int
conf_handler(void *user, const char *inih_section, const char *key, const char *v)
{
	struct conf_parse	*p = user;
	struct conf		*c = p->conf;
	int			 line = p->line;
	char			 copy[sizeof p->section], *kind, *name;
	const char		*section = p->section;

	(void)inih_section;
	if (p->cause != NULL)
		return 0;
	memcpy(copy, p->section, sizeof copy);
	if (conf_section_split(copy, &kind, &name)) {
		if (!strcmp(kind, "channel"))
			return conf_channel_key(p, name, key, v, line) == 0 &&
			    p->cause == NULL;
		if (!strcmp(kind, "segment"))
			return conf_segment_key(p, name, key, v, line) == 0 &&
			    p->cause == NULL;
		if (!strcmp(kind, "campaign"))
			return conf_campaign_key(p, name, key, v, line) == 0 &&
			    p->cause == NULL;
		if (!strcmp(kind, "category"))
			return conf_category_key(p, name, key, v, line) == 0 &&
			    p->cause == NULL;
		return conf_error(p, line, "unknown section [%s]", section);
	}
	if (!strcmp(section, "all") || !strcmp(section, "campaign")) {
		if (strcmp(key, "cap"))
			return conf_error(p, line, "unknown key \"%s\" in [%s]", key,
			    section);
		if (!strcmp(section, "all"))
			conf_add_cap(p, c->all_caps, &c->nall_caps, "all", v, line);
		else
			conf_add_cap(p, c->campaign_caps, &c->ncampaign_caps,
			    "campaign", v, line);
		return p->cause == NULL;
	}
	if (!strcmp(section, "shadow")) {
		conf_shadow_key(p, key, v, line);
		return p->cause == NULL;
	}
	for (size_t i = 0; i < NKEYS; i++) {
		const struct conf_key *k = &conf_keys[i];

		if (strcmp(k->section, section))
			continue;
		if (strcmp(k->name, key))
			continue;
		if (p->seen[i])
			return conf_error(p, line, "%s: set twice in [%s]", key,
			    section);
		p->seen[i] = 1;
		c->key_line[i] = line;
		if (!strcmp(key, "run_at"))
			p->seen_run_at_line = line;
		if (!strcmp(key, "every"))
			p->seen_every_line = line;
		conf_set_key(p, k, v, line);
		return p->cause == NULL;
	}
	for (size_t i = 0; i < NKEYS; i++)
		if (!strcmp(conf_keys[i].section, section))
			return conf_error(p, line, "unknown key \"%s\" in [%s]", key,
			    section);
	if (*section == '\0')
		return conf_error(p, line, "\"%s\" is outside any section", key);
	return conf_error(p, line, "unknown section [%s]", section);
}

/* Look at a line before inih does: track sections (see conf_section). */
static void
conf_peek(struct conf_parse *p, char *buf)
{
	char	*s = buf, *end;

	/* inih skips a UTF-8 byte order mark on the first line. */
	if (p->line == 1 && !memcmp(s, "\xEF\xBB\xBF", 3))
		s += 3;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s != '[' || (end = strchr(s, ']')) == NULL)
		return;	/* a key, a comment or inih's syntax error */
	conf_section(p, s + 1, (size_t)(end - s - 1), p->line);
}

/*
 * inih reader: hands out one line at a time and counts lines. A line longer
 * than inih's buffer is an error: inih would read its tail as a new line.
 */
static char *
conf_reader(char *buf, int size, void *stream)
{
	struct conf_parse	*p = stream;
	size_t			 n;
	const char		*nl;
	int			 ch;

	if (p->file != NULL) {
		if (fgets(buf, size, p->file) == NULL) {
			if (ferror(p->file))
				conf_error(p, p->line, "cannot read the file");
			return NULL;
		}
		p->line++;
		n = strlen(buf);
		if (n == (size_t)size - 1 && buf[n - 1] != '\n' &&
		    (ch = getc(p->file)) != EOF) {
			while (ch != EOF && ch != '\n')
				ch = getc(p->file);
			goto too_long;
		}
	} else {
		if (*p->text == '\0')
			return NULL;
		nl = strchr(p->text, '\n');
		n = nl != NULL ? (size_t)(nl - p->text) + 1 : strlen(p->text);
		p->line++;
		if (n > (size_t)size - 1) {
			p->text += n;
			goto too_long;
		}
		memcpy(buf, p->text, n);
		buf[n] = '\0';
		p->text += n;
	}
	conf_peek(p, buf);
	return buf;

too_long:
	conf_error(p, p->line, "line longer than %d bytes", size - 2);
	buf[0] = '\0';
	return buf;
}

/*
 * [fairness] segments: every name a configured [segment NAME] (the rows
 * need the segment's members), none twice; errors name the key's line.
 */
static void
conf_fairness_resolve(struct conf_parse *p)
{
	struct conf_fairness	*f = &p->conf->fairness;
	const char		*s = f->segments_text, *end;
	char			 name[CONF_NAME_MAX];
	int			 line = 0, g;
	size_t			 len;

	for (size_t i = 0; i < NKEYS; i++)
		if (!strcmp(conf_keys[i].section, "fairness") &&
		    !strcmp(conf_keys[i].name, "segments"))
			line = p->conf->key_line[i];
	f->nsegments = 0;
	while (s != NULL && *s != '\0') {
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		if (*s == '\0')
			break;
		for (end = s; *end != '\0' && *end != ','; end++)
			;
		len = (size_t)(end - s);
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (len >= sizeof name) {
			conf_error(p, line, "segments: name too long in [fairness]");
			return;
		}
		memcpy(name, s, len);
		name[len] = '\0';
		if ((g = conf_segment_index(p->conf, name)) < 0) {
			conf_error(p, line, "segments: \"%s\" is not a configured "
			    "[segment NAME]", name);
			return;
		}
		for (int i = 0; i < f->nsegments; i++)
			if (f->segment[i] == g) {
				conf_error(p, line, "segments: \"%s\" listed twice",
				    name);
				return;
			}
		f->segment[f->nsegments++] = g;
		s = end;
	}
}

/* Checks that need the whole file: cross references and contradictions. */
static void
conf_validate(struct conf_parse *p)
{
	struct conf	*c = p->conf;

	if (c->nchannels == 0) {
		conf_error(p, p->line, "no [channel NAME] section: at least one "
		    "channel is needed");
		return;
	}
	for (int i = 0; i < c->nshadow; i++) {
		const char *ch = p->shadow_channel[i];

		if (!strcmp(ch, "all"))
			c->shadow[i].channel = -1;
		else if ((c->shadow[i].channel = conf_channel_index(c, ch)) < 0) {
			conf_error(p, p->shadow_line[i], "cap: shadow cap names "
			    "unknown channel \"%s\"", ch);
			return;
		}
	}
	conf_fairness_resolve(p);
	if (p->cause != NULL)
		return;
	if (p->seen_run_at_line && p->seen_every_line &&
	    c->optimizer.run_at >= 0 && c->optimizer.every > 0) {
		conf_error(p, p->seen_every_line, "every: run_at and every "
		    "contradict each other; set one");
		return;
	}
	/* A certificate without its key (or the other way) is half a setting. */
	if ((c->server.tls_cert == NULL) != (c->server.tls_key == NULL)) {
		const char *set = c->server.tls_cert ? "tls_cert" : "tls_key";

		conf_error(p, conf_key_line(c, "server", set), "%s: tls_cert and "
		    "tls_key go together; set both or neither", set);
		return;
	}
	if (c->redis.prefix == NULL || !conf_valid_name(c->redis.prefix)) {
		conf_error(p, p->line, "prefix: must be letters, digits, \"_.-\"");
		return;
	}
	if (c->redis.host == NULL) {
		conf_error(p, p->line, "host: the Redis host must be set");
		return;
	}
	if (c->redis.nodes != NULL) {
		char	 host[SLOT_HOST_MAX];
		size_t	 pos = 0;
		int	 port, rc;

		while ((rc = slot_next_node(c->redis.nodes, &pos, host, &port)) == 1)
			;
		for (size_t i = 0; rc < 0 && i < NKEYS; i++)
			if (!strcmp(conf_keys[i].name, "nodes")) {
				conf_error(p, c->key_line[i], "nodes: \"%s\" is not "
				    "host:port,... (Redis Cluster seed nodes)",
				    c->redis.nodes);
				return;
			}
	}
}

/* Parse from the file or string in p into a new config. */
static struct conf *
conf_parse(struct conf_parse *p, char **cause)
{
	struct conf	*c;
	int		 rc;

	if ((c = calloc(1, sizeof *c)) == NULL) {
		*cause = strdup("out of memory");
		return NULL;
	}
	p->conf = c;
	for (size_t i = 0; i < NKEYS; i++)
		if (conf_set_key(p, &conf_keys[i], conf_keys[i].def, 0) != 0 ||
		    p->cause != NULL)
			goto fail;
	if ((c->path = strdup(p->name)) == NULL)
		goto fail;

	ini_allow_multiline = false;
	ini_stop_on_first_error = true;
	rc = ini_parse_stream(conf_reader, p, conf_handler, p);
	if (p->cause == NULL && rc > 0)
		conf_error(p, rc, "syntax error: expected [section] or key = value");
	else if (p->cause == NULL && rc < 0)
		conf_error(p, 0, "cannot read the file");
	if (p->cause == NULL)
		conf_validate(p);
	if (p->cause != NULL)
		goto fail;
	return c;

fail:
	*cause = p->cause != NULL ? p->cause : strdup("out of memory");
	conf_free(c);
	return NULL;
}

struct conf *
conf_load(const char *path, char **cause)
{
	struct conf_parse	 p;
	struct conf		*c;
	char			 msg[512];

	memset(&p, 0, sizeof p);
	p.name = path;
	if ((p.file = fopen(path, "r")) == NULL) {
		snprintf(msg, sizeof msg, "%s:0: cannot open: %s", path,
		    strerror(errno));
		*cause = strdup(msg);
		return NULL;
	}
	if ((p.dir = conf_folder(path)) == NULL) {
		snprintf(msg, sizeof msg, "%s:0: cannot resolve its folder: %s",
		    path, strerror(errno));
		*cause = strdup(msg);
		fclose(p.file);
		return NULL;
	}
	c = conf_parse(&p, cause);
	fclose(p.file);
	free(p.dir);
	return c;
}

int
conf_check_file(const struct conf *c, const char *section, const char *key,
    char **cause)
{
	const char	*path;
	char		 msg[1024];
	int		 fd;

	*cause = NULL;
	for (size_t i = 0; i < NKEYS; i++) {
		const struct conf_key *k = &conf_keys[i];

		if (strcmp(k->section, section) || strcmp(k->name, key) ||
		    (k->type != T_STR && k->type != T_PATH))
			continue;
		path = *(char *const *)((const char *)c + k->offset);
		if (path == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
			if (path != NULL)
				close(fd);
			return 0;
		}
		if (c->key_line[i] > 0)
			snprintf(msg, sizeof msg, "%s:%d: %s: cannot open %s: %s",
			    c->path, c->key_line[i], key, path, strerror(errno));
		else
			snprintf(msg, sizeof msg, "%s: [%s] %s (default %s): cannot "
			    "open %s: %s", c->path, section, key, k->def, path,
			    strerror(errno));
		*cause = strdup(msg);
		return -1;
	}
	*cause = strdup("internal: conf_check_file of an unknown key");
	return -1;
}

struct conf *
conf_load_string(const char *text, const char *name, char **cause)
{
	struct conf_parse	 p;

	memset(&p, 0, sizeof p);
	p.name = name;
	p.text = text;
	return conf_parse(&p, cause);
}

void
conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	free(c->path);
	free(c->server.listen_host);
	free(c->server.tokens_file);
	free(c->server.tls_cert);
	free(c->server.tls_key);
	free(c->server.access_log);
	free(c->redis.host);
	free(c->redis.password);
	free(c->redis.prefix);
	free(c->redis.nodes);
	free(c->optimizer.offers);
	free(c->optimizer.scores);
	free(c->optimizer.out_dir);
	free(c->fairness.segments_text);
	free(c);
}

int
conf_channel_index(const struct conf *c, const char *name)
{
	for (int i = 0; i < c->nchannels; i++)
		if (!strcmp(c->channels[i].name, name))
			return i;
	return -1;
}

int
conf_segment_index(const struct conf *c, const char *name)
{
	for (int i = 0; i < c->nsegments; i++)
		if (!strcmp(c->segments[i].name, name))
			return i;
	return -1;
}

int64_t
conf_longest_window(const struct conf *c)
{
	int64_t	 w = 0;

#define LONGEST(caps, n) do {				\
	for (int j = 0; j < (n); j++)			\
		if ((caps)[j].window > w)		\
			w = (caps)[j].window;		\
} while (0)
	for (int i = 0; i < c->nchannels; i++)
		LONGEST(c->channels[i].caps, c->channels[i].ncaps);
	LONGEST(c->all_caps, c->nall_caps);
	LONGEST(c->campaign_caps, c->ncampaign_caps);
	for (int i = 0; i < c->nsegments; i++)
		LONGEST(c->segments[i].caps, c->segments[i].ncaps);
	for (int i = 0; i < c->ncategories; i++)
		LONGEST(c->categories[i].caps, c->categories[i].ncaps);
	for (int i = 0; i < c->nshadow; i++)
		if (c->shadow[i].cap.window > w)
			w = c->shadow[i].cap.window;
#undef LONGEST
	return w;
}

int
conf_key_line(const struct conf *c, const char *section, const char *key)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (!strcmp(conf_keys[i].section, section) &&
		    !strcmp(conf_keys[i].name, key))
			return c->key_line[i];
	return 0;
}

const char *
conf_restart_key(const struct conf *a, const struct conf *b)
{
	for (size_t i = 0; i < NKEYS; i++) {
		const struct conf_key	*k = &conf_keys[i];
		const char		*x, *y;

		if (k->reloadable)
			continue;
		switch (k->type) {
		case T_STR:
			x = *(char *const *)((const char *)a + k->offset);
			y = *(char *const *)((const char *)b + k->offset);
			if ((x == NULL) != (y == NULL) || (x != NULL && strcmp(x, y)))
				return k->name;
			break;
		case T_INT:
		case T_BOOL:
		case T_ALLOWDENY:
		case T_CLOCK:
			if (*(const int *)((const char *)a + k->offset) !=
			    *(const int *)((const char *)b + k->offset))
				return k->name;
			break;
		case T_LISTEN:
			if (strcmp(a->server.listen_host, b->server.listen_host) ||
			    a->server.listen_port != b->server.listen_port)
				return k->name;
			break;
		default:
			break;
		}
	}
	/* New certificates reload; TLS on or off is the listener's, at start. */
	if ((a->server.tls_cert == NULL) != (b->server.tls_cert == NULL))
		return "tls_cert";
	return NULL;
}

void
conf_keep_restart_keys(struct conf *to, const struct conf *from, char **cause)
{
	*cause = NULL;
	for (size_t i = 0; i < NKEYS; i++) {
		const struct conf_key	*k = &conf_keys[i];

		if (k->reloadable)
			continue;
		switch (k->type) {
		case T_STR: {
			char	**dst = (char **)((char *)to + k->offset);
			char	*const *src = (char *const *)((const char *)from + k->offset);

			free(*dst);
			*dst = NULL;
			if (*src != NULL && (*dst = strdup(*src)) == NULL)
				*cause = strdup("out of memory");
			break;
		}
		case T_INT:
		case T_BOOL:
		case T_ALLOWDENY:
		case T_CLOCK:
			*(int *)((char *)to + k->offset) =
			    *(const int *)((const char *)from + k->offset);
			break;
		case T_LISTEN:
			free(to->server.listen_host);
			to->server.listen_host = strdup(from->server.listen_host);
			to->server.listen_port = from->server.listen_port;
			if (to->server.listen_host == NULL)
				*cause = strdup("out of memory");
			break;
		default:
			break;
		}
	}
}
