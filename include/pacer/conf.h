/*
 * pacer configuration model, shared by pacerd and the pacer command.
 *
 * A configuration is parsed from an INI file (SPEC section 2) into one
 * struct conf. Parsing never touches a running configuration: callers parse
 * into a new struct and swap it in only when conf_load() succeeds.
 */
#ifndef PACER_CONF_H
#define PACER_CONF_H

#include <stddef.h>
#include <stdint.h>

#define CONF_NAME_MAX	 64	/* channel, segment, category names */
#define CONF_MAX_CHANNELS 16
#define CONF_MAX_CAPS	 8	/* caps per scope */
#define CONF_MAX_SEGMENTS 32
#define CONF_MAX_EXCLUDE 16	/* excluded offer categories per segment */
#define CONF_MAX_SHADOW	 16
#define CONF_MAX_KEYS	 40	/* keys of the fixed sections (conf.c's table) */
#define CONF_MAX_CAMPAIGNS 64	/* [campaign NAME] sections */
#define CONF_MAX_CATEGORIES 32	/* [category NAME] sections */

/* What a scope of caps counts. */
enum conf_scope {
	CONF_SCOPE_CHANNEL,	/* contacts on the decision's channel */
	CONF_SCOPE_ALL,		/* contacts on every channel */
	CONF_SCOPE_CAMPAIGN,	/* contacts of the decision's campaign */
	CONF_SCOPE_CATEGORY,	/* contacts of offers of the decision's offer's
				   category, every channel */
};

/* One rolling-window cap: at most limit contacts in (now - window, now]. */
struct conf_cap {
	int	 limit;
	int64_t	 window;		/* seconds */
	char	 text[160];		/* how answers name it: "email 3/7d" */
};

/* What a channel does when Redis cannot answer in time. */
enum conf_store_failure {
	CONF_FAIL_DENY,
	CONF_FAIL_ALLOW,
};

struct conf_channel {
	char		 name[CONF_NAME_MAX];
	struct conf_cap	 caps[CONF_MAX_CAPS];
	int		 ncaps;
	int		 quiet_start;	/* minutes after local midnight, -1: none */
	int		 quiet_end;
	enum conf_store_failure on_store_failure;
};

/* Extra rules for customers carrying a segment (e.g. "vulnerable"). */
struct conf_segment {
	char		 name[CONF_NAME_MAX];
	struct conf_cap	 caps[CONF_MAX_CAPS];	/* all channels together */
	int		 ncaps;
	char		 exclude[CONF_MAX_EXCLUDE][CONF_NAME_MAX]; /* categories */
	int		 nexclude;
};

/* A decision's priority: how much of a nearly full cap it may take. */
enum conf_priority {
	CONF_PRIORITY_LOW,	/* leaves 2 x [priority] reserve of every cap */
	CONF_PRIORITY_NORMAL,	/* leaves [priority] reserve */
	CONF_PRIORITY_HIGH,	/* may take every slot */
};

/* Settings of one campaign ([campaign NAME]; the offers file names it). */
struct conf_campaign {
	char			 name[CONF_NAME_MAX];
	int			 exempt;	/* caps and quiet hours skipped */
	int			 counts;	/* its contacts count toward caps */
	enum conf_priority	 priority;	/* default of its decisions */
};

/*
 * Caps across every offer of one category ([category NAME]; the offers
 * file gives each offer its category), every channel together.
 */
struct conf_category {
	char		 name[CONF_NAME_MAX];
	struct conf_cap	 caps[CONF_MAX_CAPS];
	int		 ncaps;
};

/* A cap that is evaluated and counted, never enforced. */
struct conf_shadow {
	int		 channel;	/* index into channels, -1: all channels */
	struct conf_cap	 cap;
};

struct conf_optimizer {
	char	*offers;		/* path of offers.csv */
	char	*scores;		/* path of scores.csv */
	int	 run_at;		/* minutes after local midnight, -1: none */
	int64_t	 every;			/* seconds, 0: none */
	int64_t	 horizon;		/* seconds the plan stays live */
	int	 max_offers_per_customer;
	int	 time_limit_s;
	double	 gap;			/* relative gap at which to stop */
	char	*out_dir;
	int	 auto_publish;
	double	 holdout;		/* share of customers never planned */
	int	 enforce_plan;
};

/*
 * [fairness]: each listed segment's planned sends per customer are at least
 * min_ratio x the sends per customer of the whole base (SPEC section 4).
 */
struct conf_fairness {
	char	*segments_text;		/* "a,b,c" as written, NULL: none */
	int	 segment[CONF_MAX_SEGMENTS]; /* indices into conf segments */
	int	 nsegments;
	double	 min_ratio;		/* in [0, 1] */
};

struct conf {
	char	*path;			/* the file it came from */
	int	 key_line[CONF_MAX_KEYS]; /* line setting each fixed key, 0: default */

	struct {
		char	*listen_host;
		int	 listen_port;
		size_t	 max_body_bytes;
		char	*tokens_file;	/* NULL: no authentication */
		int	 allow_client_time;
		int	 max_connections;
		char	*tls_cert;	/* PEM certificate (chain), NULL: plain HTTP */
		char	*tls_key;	/* PEM private key, with tls_cert */
		char	*access_log;	/* one line per request, "-": stderr;
					   NULL: none */
	} server;

	struct {
		char	*host;
		int	 port;
		char	*password;	/* NULL: no AUTH */
		char	*prefix;
		int	 timeout_ms;
		char	*nodes;		/* Redis Cluster seeds "host:port,...";
					   NULL: one Redis at host:port */
		int	 wait_replicas;	/* an allow waits for N replicas */
	} redis;

	int			 consent_default_allow;

	struct conf_channel	 channels[CONF_MAX_CHANNELS];
	int			 nchannels;
	struct conf_cap		 all_caps[CONF_MAX_CAPS];
	int			 nall_caps;
	struct conf_cap		 campaign_caps[CONF_MAX_CAPS];
	int			 ncampaign_caps;
	struct conf_segment	 segments[CONF_MAX_SEGMENTS];
	int			 nsegments;
	struct conf_shadow	 shadow[CONF_MAX_SHADOW];
	int			 nshadow;
	int			 priority_reserve; /* [priority] reserve: slots kept for high */
	struct conf_campaign	 campaigns[CONF_MAX_CAMPAIGNS];
	int			 ncampaigns;
	struct conf_category	 categories[CONF_MAX_CATEGORIES];
	int			 ncategories;

	struct conf_fairness	 fairness;
	struct conf_optimizer	 optimizer;
};

/* conf.c */
/*
 * Parse and validate the file at path. Returns a new config (caller frees
 * with conf_free) or NULL with *cause set to "file:line: message" (caller
 * frees *cause). Relative paths in it (tokens_file, offers, scores,
 * out_dir, defaults included) are made absolute against the folder of the
 * file, never the working directory.
 */
struct conf	*conf_load(const char *path, char **cause);
/*
 * Same as conf_load, but from a string; name is used in messages. Relative
 * paths stay as written (relative to the working directory).
 */
struct conf	*conf_load_string(const char *text, const char *name, char **cause);
/*
 * Whether the file that [section] key names can be read: 0, or -1 with
 * *cause (caller frees) naming the config line that points at it, as in
 * "pacer.conf:57: offers: cannot open /etc/pacer/offers.csv: No such file
 * or directory".
 */
int		 conf_check_file(const struct conf *, const char *section,
		    const char *key, char **cause);
/* The line that set [section] key, 0 when it has its default. */
int		 conf_key_line(const struct conf *, const char *section,
		    const char *key);
/* Free a config; accepts NULL. */
void		 conf_free(struct conf *);
/* Whether s is a usable channel or segment name: 1-63 of [A-Za-z0-9_.-]. */
int		 conf_valid_name(const char *s);
/* Index of the channel called name, or -1. */
int		 conf_channel_index(const struct conf *, const char *name);
/* The settings of the campaign called name, or NULL (the defaults apply). */
const struct conf_campaign *conf_campaign_find(const struct conf *, const char *name);
/* Parse "low", "normal" or "high"; 0 or -1. */
int		 conf_parse_priority(const char *text, enum conf_priority *out);
/* Index of the category called name (NULL: none), or -1. */
int		 conf_category_index(const struct conf *, const char *name);
/* Index of the segment called name, or -1. */
int		 conf_segment_index(const struct conf *, const char *name);
/* Parse "30s", "15m", "6h", "7d", "2w" into seconds; 0 or -1. */
int		 conf_parse_duration(const char *text, int64_t *seconds);
/* Parse "N/DURATION" into a cap (text left empty); 0 or -1. */
int		 conf_parse_cap(const char *text, struct conf_cap *cap);
/* Parse "HH:MM" into minutes after midnight; 0 or -1. */
int		 conf_parse_clock(const char *text, int *minutes);
/* Write a duration the way the config spells it ("7d", "90m"). */
void		 conf_format_duration(int64_t seconds, char *buf, size_t len);
/*
 * The name of the first key that only a restart may change (the table's
 * reloadable = 0: listen, the Redis location and password, the prefix;
 * and tls_cert when TLS is turned on or off) whose value differs between
 * a and b, or NULL.
 */
const char	*conf_restart_key(const struct conf *a, const struct conf *b);
/*
 * Copy every restart-only key of from into to, so a reload keeps them;
 * *cause is NULL, or set (caller frees) when out of memory.
 */
void		 conf_keep_restart_keys(struct conf *to, const struct conf *from,
		    char **cause);
/* The longest window of any cap (enforced or shadow), in seconds. */
int64_t		 conf_longest_window(const struct conf *);

#endif /* PACER_CONF_H */
