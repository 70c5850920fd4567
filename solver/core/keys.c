/*
 * Redis key names and encodings (layout documented in pacer/keys.h).
 */
#include <stdio.h>
#include <string.h>

#include "pacer/keys.h"
#include "pacer/str.h"

int
keys_valid_customer(const char *s)
{
	return str_valid_id(s, KEYS_CUSTOMER_MAX);
}

int
keys_valid_send_id(const char *s)
{
	return str_valid_id(s, KEYS_SEND_ID_MAX);
}

size_t
keys_customer(char *buf, size_t len, const char *prefix, const char *customer,
    const char *suffix)
{
	int	 n = snprintf(buf, len, "%s:{%s}:%s", prefix, customer, suffix);

	return n < 0 ? 0 : (size_t)n;
}

size_t
keys_global(char *buf, size_t len, const char *prefix, const char *name)
{
	int	 n = snprintf(buf, len, "%s:%s", prefix, name);

	return n < 0 ? 0 : (size_t)n;
}

size_t
keys_contact_member(char *buf, size_t len, const char *channel,
    const char *campaign, const char *send_id)
{
	int	 n = snprintf(buf, len, "%s|%s|%s", channel, campaign ? campaign : "",
	    send_id);

	return n < 0 ? 0 : (size_t)n;
}

int
keys_in_holdout(const char *customer, double share)
{
	uint64_t	 h = 1469598103934665603ULL;

	if (share <= 0)
		return 0;
	for (const unsigned char *p = (const unsigned char *)customer; *p; p++) {
		h ^= *p;
		h *= 1099511628211ULL;
	}
	/* Mix the high bits down: FNV's low bits are weak for similar ids. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (double)(h % 1000000ULL) < share * 1000000.0;
}
