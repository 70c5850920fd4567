/*
 * Unit tests for the one reader of CLUSTER SLOTS (solver/redis): ranges in
 * order, clipped to the slots there are, "?" read as no endpoint, and any
 * other shape refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "replies.h"

#include "pacer/cluster_slots.h"

/* A range [first, last, [host, port]] built in place. */
struct range {
	redisReply	 top, first, last, node, host, port;
	redisReply	*items[3], *nitems[2];
};

static void
range(struct range *g, long long first, long long last, const char *host,
    int port)
{
	reply_int(&g->first, first);
	reply_int(&g->last, last);
	reply_str(&g->host, host);
	reply_int(&g->port, port);
	g->nitems[0] = &g->host;
	g->nitems[1] = &g->port;
	reply_list(&g->node, g->nitems, 2);
	g->items[0] = &g->first;
	g->items[1] = &g->last;
	g->items[2] = &g->node;
	reply_list(&g->top, g->items, 3);
}

struct seen {
	int		 n;
	struct slot_range g[4];
	char		 host[4][32];
	int		 stop_at;	/* fn fails at this call; -1 never */
};

static int
collect(void *arg, const struct slot_range *g)
{
	struct seen	*s = arg;

	if (s->n == s->stop_at)
		return -1;
	s->g[s->n] = *g;
	strncpy(s->host[s->n], g->host, sizeof s->host[0] - 1);
	s->n++;
	return 0;
}

static void
test_ranges(void **state)
{
	struct range	 a, b, c;
	redisReply	 top, *items[3] = { &a.top, &b.top, &c.top };
	struct seen	 s = { .stop_at = -1 };

	(void)state;
	range(&a, -5, 99, "10.0.0.1", 7000);
	range(&b, 100, 20000, "?", 7001);	/* past the last slot */
	range(&c, 16384, 16400, "10.0.0.3", 7002); /* nothing left: skipped */
	reply_list(&top, items, 3);
	assert_int_equal(cluster_slots_walk(&top, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.g[0].first, 0);
	assert_int_equal(s.g[0].last, 99);
	assert_string_equal(s.host[0], "10.0.0.1");
	assert_int_equal(s.g[0].port, 7000);
	assert_int_equal(s.g[1].first, 100);
	assert_int_equal(s.g[1].last, 16383);
	assert_string_equal(s.host[1], "");
	assert_int_equal(s.g[1].port, 7001);
	/* fn's failure stops the walk. */
	memset(&s, 0, sizeof s);
	s.stop_at = 1;
	assert_int_equal(cluster_slots_walk(&top, collect, &s), -1);
	assert_int_equal(s.n, 1);
}

static void
test_bad_shapes(void **state)
{
	struct range	 a;
	redisReply	 top, err, *items[1] = { &a.top };
	struct seen	 s = { .stop_at = -1 };

	(void)state;
	assert_int_equal(cluster_slots_walk(NULL, collect, &s), -1);
	reply_str(&err, "ERR This instance has cluster support disabled");
	err.type = REDIS_REPLY_ERROR;
	assert_int_equal(cluster_slots_walk(&err, collect, &s), -1);
	/* A port given as text. */
	range(&a, 0, 10, "h", 1);
	reply_str(&a.port, "7000");
	reply_list(&top, items, 1);
	assert_int_equal(cluster_slots_walk(&top, collect, &s), -1);
	/* A range without its node. */
	range(&a, 0, 10, "h", 1);
	a.top.elements = 2;
	assert_int_equal(cluster_slots_walk(&top, collect, &s), -1);
	assert_int_equal(s.n, 0);
	/* No ranges: an empty map, not an error. */
	reply_list(&top, items, 0);
	assert_int_equal(cluster_slots_walk(&top, collect, &s), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_bad_shapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
