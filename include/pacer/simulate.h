/*
 * What-if for marketing ops (`pacer simulate`): replay a contact log
 * (contacts.csv, SPEC section 4) through the rule engine of
 * include/pacer/rules.h under a configuration, and count per rule how many
 * contacts it would have denied and how many customers that affects.
 *
 * Each contact is checked against the caps given the customer's earlier
 * contacts that the replay *allowed* (a denied contact is not sent, so it
 * does not count against later ones). Contacts are replayed in time order
 * (the log is sorted if needed; ties keep file order). Without profiles,
 * consent and quiet hours are not evaluated (nothing is known of them) and
 * no customer carries a segment; with profiles, consent, time zones and
 * segments are the profile's, exactly as pacerd would see them (no time
 * zone: UTC; no profile: the config's consent default).
 *
 * Pure library code: no output; progress through a callback.
 */
#ifndef PACER_SIMULATE_H
#define PACER_SIMULATE_H

#include <stddef.h>
#include <stdint.h>

#include "pacer/conf.h"
#include "pacer/offers.h"

/* What kind of rule a counted rule is. */
enum simulate_kind {
	SIMULATE_CAP,		/* an enforced cap ("email 3/7d") */
	SIMULATE_SHADOW,	/* a shadow cap: counted, never enforced */
	SIMULATE_CONSENT,	/* no consent on a channel */
	SIMULATE_QUIET,		/* a channel's quiet hours */
	SIMULATE_SUPPRESSED,	/* segment exclusion of the offer's category */
	SIMULATE_PAUSED,	/* the customer's own pause (profiles) */
};

/* One rule's count. */
struct simulate_rule {
	char		 text[192];	/* "email 3/7d", "no_consent email" */
	enum simulate_kind kind;
	long		 denied;	/* contacts it denied (shadow: would) */
	long		 customers;	/* distinct customers among them */
	long		 held;		/* of denied, those "schedule": true
					   would have held (next_allowed known) */
};

/* The replay of one configuration. */
struct simulate_result {
	long		 contacts;	/* contacts replayed */
	long		 customers;	/* distinct customers in the log */
	long		 allowed;
	long		 denied;	/* by enforced rules */
	long		 held;		/* of denied, held by "schedule": true */
	long		 customers_denied; /* with at least one contact denied */
	int64_t		 first_time, last_time;	/* span of the log */
	int		 profiles;	/* consent/tz/segments were known */
	int		 categories;	/* offer categories were known */
	struct simulate_rule *rules;	/* owned; simulate_result_free */
	int		 nrules;
	double		 seconds;	/* time the replay took */
};

/* A contact log (and optional profiles) held in memory. Opaque. */
struct simulate_log;

/* Progress: phase ("read", "replay"), done of total (0: unknown). */
typedef void simulate_progress_fn(void *arg, const char *phase, long done,
    long total);

/* simulate.c */
/*
 * Read contacts.csv (time,customer,channel,campaign,offer; campaign and
 * offer may be empty or absent) into memory. Returns a new log (caller
 * frees with simulate_log_free) or NULL with *cause naming file, line and
 * field (caller frees). progress may be NULL.
 */
struct simulate_log *simulate_log_read(const char *path,
	    simulate_progress_fn *progress, void *arg, char **cause);
/*
 * Read profiles.csv (customer,tz,segments, one consent column per channel
 * named like the channel, and optionally caps and pause_until, the
 * customer's own, as pacer load reads them and checked against conf) for
 * the customers of the log; others are checked and skipped. Returns 0, or
 * -1 with *cause naming file, line and field.
 */
int	 simulate_log_profiles(struct simulate_log *, const struct conf *,
	    const char *path, char **cause);
/* Free a log; accepts NULL. */
void	 simulate_log_free(struct simulate_log *);
/* How many contacts and distinct customers the log holds. */
long	 simulate_log_contacts(const struct simulate_log *);
long	 simulate_log_customers(const struct simulate_log *);
/*
 * Replay the log under conf (borrowed). offers (borrowed, may be NULL)
 * gives the offers' categories for segment exclusions. Fills res (release
 * with simulate_result_free). Returns 0, or -1 with *cause set (caller
 * frees), e.g. a channel of the log that conf does not configure, named
 * by file and line.
 */
int	 simulate_run(const struct simulate_log *, const struct conf *conf,
	    const struct offers *offers, simulate_progress_fn *progress,
	    void *arg, struct simulate_result *res, char **cause);
/* Free the arrays of res (not the struct); accepts NULL. */
void	 simulate_result_free(struct simulate_result *);
/* The rule of res called text, or NULL. */
const struct simulate_rule *simulate_find_rule(const struct simulate_result *,
	    const char *text);
/* Name of a kind ("cap", "shadow", ...). */
const char *simulate_kind_name(enum simulate_kind);

/* simulate_html.c */
/*
 * Write the replay as a self-contained HTML page at path: per rule, denied
 * contacts and customers affected under the proposed config, and against
 * the current one when current is not NULL. Names are borrowed and only
 * shown. Returns 0, or -1 with *cause set (caller frees).
 */
int	 simulate_write_html(const char *path, const char *contacts_name,
	    const char *proposed_name, const struct simulate_result *proposed,
	    const char *current_name, const struct simulate_result *current,
	    char **cause);

#endif /* PACER_SIMULATE_H */
