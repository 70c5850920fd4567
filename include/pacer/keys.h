/*
 * The Redis key layout, shared by pacerd and the pacer command. Every key of
 * one customer carries the hash tag {CUSTOMER} so that a Redis Cluster keeps
 * them in one slot (a script may touch them together).
 *
 *   PREFIX:{C}:p       hash   everything a decision reads or writes, so that a
 *                             decision is one HMGET and one HSET:
 *       c:CHANNEL = 1|0       consent
 *       tz, tzt, seg          IANA zone, its UTC-offset table (tz_table), "a;b"
 *       pv = 1                a profile is stored (PUT or load); without it
 *                             the key holds only decisions and expires after
 *                             the record retention
 *       h                     contact history: "TIME|CHANNEL|CAMPAIGN|SEND_ID\n"
 *                             per contact (unix seconds), with "|CATEGORY"
 *                             before the newline for an offer of a category
 *                             (category caps count it), trimmed to the
 *                             longest window when a decision writes it
 *       d:SEND_ID             the first answer to SEND_ID, as "reason|retry|
 *                             rule|shadow|channel|campaign|time|offer|state";
 *                             idempotency and recent decisions
 *       n = "COUNT OLDEST"    number of d: fields and the oldest one's time
 *                             (records are pruned past the retention, newest
 *                             256 kept once there are more than 512)
 *   PREFIX:plan:{TAG}:STEM:K  string  a run's plan entries of the customers
 *                             of one cluster slot and part K (0-f,
 *                             keys_plan_part): "\nCUSTOMER\toffer1,offer2"
 *                             per customer. TAG is the slot's tag
 *                             (slot_tag), so the bucket lies in its
 *                             customers' slot; STEM is the run's field
 *                             plan, "RUN_ID:NONCE", new at each write of
 *                             the run. Keys per slot and run, not per
 *                             customer: a plan of millions is a few
 *                             hundred thousand SETs, each with its expiry,
 *                             and a decision reads one short string
 *   PREFIX:{C}:o       hash   plan entries RUN_ID -> "offer1,offer2" of runs
 *                             whose hash has no field plan (written by a
 *                             pacer before the buckets); still read for them
 *   PREFIX:plan:live       string  the live run id
 *   PREFIX:plan:candidate  string  the newest candidate run id
 *   PREFIX:plan:runs       sorted set  the STEM of every plan written,
 *                                      scored by its expiry (an erasure
 *                                      removes the customer from each)
 *   PREFIX:run:RUN_ID      hash    run metadata (status, objective, gap,
 *                                  plan = STEM, ...)
 *   PREFIX:audit           stream  global decision audit, bounded
 */
#ifndef PACER_KEYS_H
#define PACER_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define KEYS_CUSTOMER_MAX 128	/* bytes in a customer id */
#define KEYS_SEND_ID_MAX  128	/* bytes in a send id */
#define KEYS_MAX	  (KEYS_CUSTOMER_MAX + 96)
#define KEYS_RUN_MAX	  100	/* bytes in a run id */
#define KEYS_STEM_MAX	  (128 + 10)	/* RUN_ID:NONCE */
#define KEYS_PLAN_MAX	  (KEYS_MAX + KEYS_STEM_MAX + 4)	/* a bucket */
#define KEYS_PLAN_PARTS	  16	/* buckets per slot and run */

/* keys.c */
/* Whether s is a valid customer id: 1-128 bytes of [A-Za-z0-9_.:@-]. */
int		 keys_valid_customer(const char *s);
/* Whether s is a valid send id (same alphabet, 1-128 bytes). */
int		 keys_valid_send_id(const char *s);
/* Write "PREFIX:{CUSTOMER}:SUFFIX" into buf; returns its length. */
size_t		 keys_customer(char *buf, size_t len, const char *prefix,
		    const char *customer, const char *suffix);
/* Write "PREFIX:NAME" into buf; returns its length. */
size_t		 keys_global(char *buf, size_t len, const char *prefix,
		    const char *name);
/*
 * Write "PREFIX:plan:{TAG}:STEM:K", the bucket of stem (a run's plan) for
 * slot (TAG its slot_tag) and part K; its length.
 */
size_t		 keys_plan(char *buf, size_t len, const char *prefix,
		    int slot, const char *stem, int part);
/* The part (0 .. KEYS_PLAN_PARTS - 1) of a run's slot holding customer. */
int		 keys_plan_part(const char *customer);
/* One contact of a packed history (field h); pointers into the history. */
struct keys_contact {
	int64_t		 time;
	const char	*channel, *campaign, *send_id, *category;
	size_t		 channel_len, campaign_len, send_id_len, category_len;
};

/*
 * Write a history entry "TIME|CHANNEL|CAMPAIGN|SEND_ID\n", or
 * "TIME|CHANNEL|CAMPAIGN|SEND_ID|CATEGORY\n" for a contact of an offer with
 * a category (campaign and category may be NULL or empty); returns its
 * length, as snprintf does.
 */
size_t		 keys_contact_entry(char *buf, size_t len, int64_t time,
		    const char *channel, const char *campaign, const char *send_id,
		    const char *category);
/*
 * Read the entry of history h (len bytes) at *pos into c and move *pos past
 * it: 1 when one was read, 0 at the end, -1 when the text is malformed.
 */
int		 keys_history_next(const char *h, size_t len, size_t *pos,
		    struct keys_contact *c);
/*
 * Whether customer falls in the holdout share (deterministic: FNV-1a of the
 * id, so every process and every run agree).
 */
int		 keys_in_holdout(const char *customer, double share);

#endif /* PACER_KEYS_H */
