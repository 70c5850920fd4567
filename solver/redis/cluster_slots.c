/*
 * CLUSTER SLOTS: an array of ranges, each [first, last, master, replica...]
 * where a node is [host, port, id, ...]. Only the master serves pacer.
 */
#include <string.h>

#include <hiredis/hiredis.h>

#include "pacer/cluster_slots.h"
#include "pacer/slot.h"

/* Whether range e is [int, int, [string, int, ...], ...]. */
static int
cluster_slots_range_ok(const redisReply *e)
{
	const redisReply	*m;

	if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
	    e->element[0]->type != REDIS_REPLY_INTEGER ||
	    e->element[1]->type != REDIS_REPLY_INTEGER)
		return 0;
	m = e->element[2];
	return m->type == REDIS_REPLY_ARRAY && m->elements >= 2 &&
	    m->element[0]->type == REDIS_REPLY_STRING &&
	    m->element[1]->type == REDIS_REPLY_INTEGER;
}

int
cluster_slots_walk(const redisReply *r,
    int (*fn)(void *arg, const struct slot_range *), void *arg)
{
	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return -1;
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply	*e = r->element[i], *m;
		struct slot_range	 g;
		long long		 first, last;

		if (!cluster_slots_range_ok(e))
			return -1;
		m = e->element[2];
		first = e->element[0]->integer;
		last = e->element[1]->integer;
		if (first < 0)
			first = 0;
		if (last >= SLOT_COUNT)
			last = SLOT_COUNT - 1;
		if (first > last)
			continue;
		g.first = (int)first;
		g.last = (int)last;
		g.host = strcmp(m->element[0]->str, "?") ? m->element[0]->str : "";
		g.port = (int)m->element[1]->integer;
		if (fn(arg, &g) != 0)
			return -1;
	}
	return 0;
}
