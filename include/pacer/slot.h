/*
 * Redis Cluster slots, shared by pacerd (daemon/cluster.c) and the pacer
 * command (solver/cmd/cmd_redis.c): pacer routes its own calls, since the
 * hiredis of Debian 12 (0.14) knows nothing of a cluster.
 */
#ifndef PACER_SLOT_H
#define PACER_SLOT_H

#include <stddef.h>
#include <stdint.h>

#define SLOT_COUNT	16384	/* hash slots of a Redis Cluster */
#define SLOT_TAG_MAX	8	/* bytes of a slot's tag, with its NUL */
#define SLOT_HOST_MAX	256	/* bytes of a node's host name, with its NUL */

/* slot.c */
/* CRC16 (XMODEM) of len bytes, the checksum Redis Cluster hashes keys with. */
uint16_t	 slot_crc16(const char *buf, size_t len);
/*
 * The slot of a key: the CRC16 of its hash tag (the bytes between the
 * first "{" and the next "}", when not empty) or of the whole key.
 */
int		 slot_of_key(const char *key, size_t len);
/*
 * A short tag of slot s: a string of at most 4 bytes whose CRC16 falls in
 * slot s, so "PREFIX:audit:{TAG}" lives in slot s. The table of every
 * slot's is found once per process (trying strings in order, a few
 * hundred thousand CRCs), on the first call, from any thread.
 */
const char	*slot_tag(int s);
/*
 * Read the next "host:port" of a comma-separated list at *pos into host
 * (SLOT_HOST_MAX bytes) and *port, and move *pos past it: 1 when one was
 * read, 0 at the end, -1 when malformed. Spaces around items are skipped;
 * an IPv6 host is written "[::1]:7000".
 */
int		 slot_next_node(const char *list, size_t *pos, char *host,
		    int *port);

#endif /* PACER_SLOT_H */
