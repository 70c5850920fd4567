/*
 * The Redis key layout, shared by pacerd and the pacer command. Every key of
 * one customer carries the hash tag {CUSTOMER} so that a Redis Cluster keeps
 * them in one slot (a script may touch them together).
 *
 *   PREFIX:{C}:p       hash   profile: c:CHANNEL = 1|0, tz = IANA zone,
 *                             tzt = UTC-offset table (tz_table), seg = "a;b"
 *   PREFIX:{C}:h       zset   contact history: member CHANNEL|CAMPAIGN|SEND_ID,
 *                             score = unix seconds; trimmed to the longest window
 *   PREFIX:{C}:d       hash   decisions: SEND_ID -> the first answer, as
 *                             "reason|retry|rule|shadow|channel|campaign|time|
 *                             offer|state"; idempotency and recent decisions
 *   PREFIX:{C}:o       hash   plan entries: RUN_ID -> "offer1,offer2"
 *   PREFIX:plan:live       string  the live run id
 *   PREFIX:plan:candidate  string  the newest candidate run id
 *   PREFIX:run:RUN_ID      hash    run metadata (status, objective, gap, ...)
 *   PREFIX:audit           stream  global decision audit, bounded
 */
#ifndef PACER_KEYS_H
#define PACER_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define KEYS_CUSTOMER_MAX 128	/* bytes in a customer id */
#define KEYS_SEND_ID_MAX  128	/* bytes in a send id */
#define KEYS_MAX	  (KEYS_CUSTOMER_MAX + 96)

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
/* Write a history member "CHANNEL|CAMPAIGN|SEND_ID"; returns its length. */
size_t		 keys_contact_member(char *buf, size_t len, const char *channel,
		    const char *campaign, const char *send_id);
/*
 * Whether customer falls in the holdout share (deterministic: FNV-1a of the
 * id, so every process and every run agree).
 */
int		 keys_in_holdout(const char *customer, double share);

#endif /* PACER_KEYS_H */
