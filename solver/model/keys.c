/*
 * Redis key names and encodings (layout documented in pacer/keys.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <string.h>

#include "pacer/keys.h"
#include "pacer/slot.h"
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
	struct str_buf	 b;

	/* On every decision: no format to parse. */
	str_buf_init(&b, buf, len);
	str_buf_cat(&b, prefix);
	str_buf_lit(&b, ":{");
	str_buf_cat(&b, customer);
	str_buf_lit(&b, "}:");
	str_buf_cat(&b, suffix);
	str_buf_end(&b);
	return b.len;
}

size_t
keys_global(char *buf, size_t len, const char *prefix, const char *name)
{
	int	 n = snprintf(buf, len, "%s:%s", prefix, name);

	return n < 0 ? 0 : (size_t)n;
}

/*
 * FNV-1a of a customer id, its high bits mixed down (FNV's low bits are
 * weak for similar ids): every process and every run agree.
 */
static uint64_t
keys_hash(const char *customer)
{
	uint64_t	 h = 1469598103934665603ULL;

	for (const unsigned char *p = (const unsigned char *)customer; *p; p++) {
		h ^= *p;
		h *= 1099511628211ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

size_t
keys_plan(char *buf, size_t len, const char *prefix, int slot,
    const char *stem, int part)
{
	struct str_buf	 b;

	str_buf_init(&b, buf, len);
	str_buf_cat(&b, prefix);
	str_buf_lit(&b, ":plan:{");
	str_buf_cat(&b, slot_tag(slot));
	str_buf_lit(&b, "}:");
	str_buf_cat(&b, stem);
	str_buf_lit(&b, ":");
	str_buf_hex(&b, (unsigned long long)part, 1);
	str_buf_end(&b);
	return b.len;
}

size_t
keys_contact_entry(char *buf, size_t len, int64_t time, const char *channel,
    const char *campaign, const char *send_id, const char *category)
{
	int	 has = category != NULL && *category != '\0';
	int	 n = snprintf(buf, len, "%lld|%s|%s|%s%s%s\n", (long long)time,
	    channel, campaign ? campaign : "", send_id, has ? "|" : "",
	    has ? category : "");

	return n < 0 ? 0 : (size_t)n;
}

/* Length of the field at h[from] ending before stop (or at end): -1 if none. */
static ssize_t
keys_field(const char *h, size_t end, size_t from, char stop)
{
	const char	*e = memchr(h + from, stop, end - from);

	return e == NULL ? -1 : (ssize_t)(e - (h + from));
}

int
keys_history_next(const char *h, size_t len, size_t *pos, struct keys_contact *c)
{
	size_t		 at = *pos, end;
	const char	*nl;
	ssize_t		 n[3];
	int64_t		 t = 0;

	if (at >= len)
		return 0;
	if ((nl = memchr(h + at, '\n', len - at)) == NULL)
		return -1;
	end = (size_t)(nl - h);
	if (h[at] == '-' || h[at] == '|')
		return -1;
	for (; at < end && h[at] != '|'; at++) {
		if (h[at] < '0' || h[at] > '9' || t > (INT64_MAX - 9) / 10)
			return -1;
		t = t * 10 + (h[at] - '0');
	}
	if (at++ >= end)
		return -1;
	for (int i = 0; i < 2; i++) {
		if ((n[i] = keys_field(h, end, at, '|')) < 0)
			return -1;
		if (i == 0)
			c->channel = h + at, c->channel_len = (size_t)n[i];
		else
			c->campaign = h + at, c->campaign_len = (size_t)n[i];
		at += (size_t)n[i] + 1;
	}
	/* SEND_ID, or SEND_ID|CATEGORY. */
	c->send_id = h + at;
	c->category = h + end;
	c->category_len = 0;
	if ((n[2] = keys_field(h, end, at, '|')) >= 0) {
		c->category = h + at + n[2] + 1;
		c->category_len = end - (at + (size_t)n[2] + 1);
		if (c->category_len == 0 ||
		    memchr(c->category, '|', c->category_len) != NULL)
			return -1;
	} else
		n[2] = (ssize_t)(end - at);
	if (c->channel_len == 0)
		return -1;
	c->send_id_len = (size_t)n[2];
	c->time = t;
	*pos = end + 1;
	return 1;
}

int
keys_in_holdout(const char *customer, double share)
{
	if (share <= 0)
		return 0;
	return (double)(keys_hash(customer) % 1000000ULL) < share * 1000000.0;
}

int
keys_plan_part(const char *customer)
{
	return (int)(keys_hash(customer) >> 60);
}
