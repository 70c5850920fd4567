/*
 * Redis Cluster's slot map as CLUSTER SLOTS answers it, read in one place
 * for pacerd (daemon/cluster.c) and the pacer command (cmd_redis.c).
 */
#ifndef PACER_CLUSTER_SLOTS_H
#define PACER_CLUSTER_SLOTS_H

struct redisReply;

/* One range of the map: slots first..last, served by host:port. */
struct slot_range {
	int		 first, last;	/* within 0 .. SLOT_COUNT - 1 */
	const char	*host;		/* borrowed from the reply; "" when the
					   node names no endpoint of its own
					   ("" or "?": the one asked knows it
					   by the address it was asked at) */
	int		 port;
};

/*
 * Call fn for each range of a CLUSTER SLOTS reply, in order (ranges
 * clipped to the slots there are; none left: skipped). 0, or -1 when the
 * reply is not a slot map or fn returned nonzero (then it stops there).
 */
int	cluster_slots_walk(const struct redisReply *,
	    int (*fn)(void *arg, const struct slot_range *), void *arg);

#endif /* PACER_CLUSTER_SLOTS_H */
