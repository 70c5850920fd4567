/*
 * hiredis replies built in place, for the unit tests of what reads them
 * (test_store_value, test_cluster_slots). Nothing is allocated.
 */
#ifndef PACER_TEST_REPLIES_H
#define PACER_TEST_REPLIES_H

#include <string.h>

#include <hiredis/hiredis.h>

static inline void
reply_int(redisReply *r, long long n)
{
	memset(r, 0, sizeof *r);
	r->type = REDIS_REPLY_INTEGER;
	r->integer = n;
}

static inline void
reply_str(redisReply *r, const char *s)
{
	/* hiredis's str is not const; nothing writes it here. */
	union { const char *c; char *m; } unconst = { s };

	memset(r, 0, sizeof *r);
	r->type = REDIS_REPLY_STRING;
	r->str = unconst.m;
	r->len = strlen(s);
}

static inline void
reply_list(redisReply *r, redisReply **items, size_t n)
{
	memset(r, 0, sizeof *r);
	r->type = REDIS_REPLY_ARRAY;
	r->element = items;
	r->elements = n;
}

#endif /* PACER_TEST_REPLIES_H */
