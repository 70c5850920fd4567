/*
 * Redis for the pacer command: a synchronous hiredis connection and a
 * pipeline that appends many commands and reads their replies in batches
 * (one round trip per batch, not per command).
 *
 * With [redis] nodes set, the store is a Redis Cluster, and pacer routes
 * its own commands (Debian's hiredis 0.14 has no cluster support): the
 * slot map comes from CLUSTER SLOTS, each master has a connection, and a
 * command goes to the master of its key's slot. Replies are read in the
 * order the commands were appended, whichever node answers; before
 * waiting on one node every node's pipeline is written out, so the
 * masters work in parallel. A MOVED or ASK reply is followed on a second
 * connection to the node it names (the pipeline's own connection has
 * replies owed), so the caller sees the reply of the right master.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "pacer/cluster_slots.h"
#include "pacer/conf.h"
#include "pacer/slot.h"

#include "cmd.h"
#include "pacer/str.h"

#define CMD_REDIRECTS_MAX	8	/* MOVED/ASK/TRYAGAIN followed per command */
#define CMD_RETRY_MS		100	/* before asking a cluster again */
#define CMD_NODES_MAX		256

/* One master of a cluster (or the one Redis). */
struct cmd_node {
	redisContext	*ctx;		/* the pipeline's connection */
	redisContext	*side;		/* redirected commands, NULL until one */
	char		 host[SLOT_HOST_MAX];
	int		 port;
};

/* A command whose reply is owed, kept to send it again on a redirect. */
struct cmd_owed {
	int		 node;
	int		 slot;		/* -1: no key */
	char		*cmd;		/* RESP text (redisFormatCommandArgv) */
	size_t		 len;
};

struct cmd_redis {
	const struct conf	*conf;		/* borrowed */
	int			 cluster;
	struct cmd_node		 node[CMD_NODES_MAX];
	int			 nnode;
	int16_t			 slot_node[SLOT_COUNT];	/* -1: no master known */
	struct cmd_owed		*owed;		/* ring of replies owed */
	size_t			 head, count, cap;
	char			 errstr[256];
};

/* Connect to one Redis with the command's timeouts, and AUTH; NULL, *cause. */
static redisContext *
cmd_redis_open(const struct conf *conf, const char *host, int port, char **cause)
{
	redisContext	*ctx;
	redisReply	*r;
	struct timeval	 tv;
	/*
	 * The config's timeout_ms is for the daemon's request path; bulk
	 * commands move millions of records, so give them seconds.
	 */
	int		 connect_ms = conf->redis.timeout_ms > 2000 ?
			    conf->redis.timeout_ms : 2000;

	tv.tv_sec = connect_ms / 1000;
	tv.tv_usec = (connect_ms % 1000) * 1000;
	ctx = redisConnectWithTimeout(host, port, tv);
	if (ctx == NULL || ctx->err) {
		*cause = str_printf("redis %s:%d: cannot connect: %s", host, port,
		    ctx ? ctx->errstr : "out of memory");
		redisFree(ctx);
		return NULL;
	}
	tv.tv_sec = 60;
	tv.tv_usec = 0;
	redisSetTimeout(ctx, tv);
	if (conf->redis.password != NULL && *conf->redis.password != '\0') {
		r = redisCommand(ctx, "AUTH %s", conf->redis.password);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			*cause = str_printf("redis %s:%d: AUTH: %s", host, port,
			    r != NULL ? r->str : ctx->errstr);
			if (r != NULL)
				freeReplyObject(r);
			redisFree(ctx);
			return NULL;
		}
		freeReplyObject(r);
	}
	return ctx;
}

/* The node at host:port, connecting to it when new; its index or -1. */
static int
cmd_redis_node(struct cmd_redis *rd, const char *host, int port, char **cause)
{
	struct cmd_node	*n;

	for (int i = 0; i < rd->nnode; i++)
		if (rd->node[i].port == port && !strcmp(rd->node[i].host, host))
			return i;
	if (rd->nnode == CMD_NODES_MAX) {
		*cause = str_printf("redis: more than %d cluster masters",
		    CMD_NODES_MAX);
		return -1;
	}
	n = &rd->node[rd->nnode];
	memset(n, 0, sizeof *n);
	snprintf(n->host, sizeof n->host, "%s", host);
	n->port = port;
	if ((n->ctx = cmd_redis_open(rd->conf, host, port, cause)) == NULL)
		return -1;
	return rd->nnode++;
}

/* A slot map being read: the asked node's host, and the first failure. */
struct cmd_redis_map {
	struct cmd_redis	*rd;
	const char		*host;
	char			*cause;
};

/* One range of CLUSTER SLOTS into the map; 0, or -1 (cannot connect). */
static int
cmd_redis_map_range(void *arg, const struct slot_range *g)
{
	struct cmd_redis_map	*m = arg;
	int			 idx;

	/* No endpoint of its own: the node we asked knows it by ours. */
	idx = cmd_redis_node(m->rd, *g->host ? g->host : m->host, g->port,
	    &m->cause);
	if (idx < 0)
		return -1;
	for (int s = g->first; s <= g->last; s++)
		m->rd->slot_node[s] = (int16_t)idx;
	return 0;
}

/*
 * Read the slot map from CLUSTER SLOTS on ctx (at host, which stands for
 * a node that names no endpoint of its own); 0, or -1 with *cause.
 */
static int
cmd_redis_slots_from(struct cmd_redis *rd, redisContext *ctx, const char *host,
    char **cause)
{
	struct cmd_redis_map	 m = { rd, host, NULL };
	redisReply		*r;
	int			 rc = -1;

	if ((r = redisCommand(ctx, "CLUSTER SLOTS")) == NULL) {
		*cause = str_printf("redis: CLUSTER SLOTS: %s", ctx->errstr);
		return -1;
	}
	if (r->type != REDIS_REPLY_ARRAY) {
		*cause = str_printf("redis: CLUSTER SLOTS: %s", r->type ==
		    REDIS_REPLY_ERROR ? r->str : "unexpected reply");
		goto done;
	}
	for (int s = 0; s < SLOT_COUNT; s++)
		rd->slot_node[s] = -1;
	if (cluster_slots_walk(r, cmd_redis_map_range, &m) != 0) {
		*cause = m.cause != NULL ? m.cause :
		    strdup("redis: CLUSTER SLOTS: unexpected reply");
		goto done;
	}
	rc = 0;
done:
	freeReplyObject(r);
	return rc;
}

/* Read the slot map again from any node that answers; 0 or -1 (*cause). */
static int
cmd_redis_slots(struct cmd_redis *rd, char **cause)
{
	char	*why = NULL;

	for (int i = 0; i < rd->nnode; i++) {
		redisContext	*ctx = rd->node[i].side;

		/* The side connection: the pipeline's may have replies owed. */
		if (ctx == NULL && (ctx = rd->node[i].side = cmd_redis_open(rd->conf,
		    rd->node[i].host, rd->node[i].port, &why)) == NULL) {
			free(why);
			why = NULL;
			continue;
		}
		if (cmd_redis_slots_from(rd, ctx, rd->node[i].host, &why) == 0)
			return 0;
		free(why);
		why = NULL;
	}
	*cause = strdup("redis: no cluster node answers CLUSTER SLOTS");
	return -1;
}

/* Connect to the cluster's seeds until one gives the slot map. */
static int
cmd_redis_cluster_connect(struct cmd_redis *rd, char **cause)
{
	const char	*list = rd->conf->redis.nodes;
	char		 host[SLOT_HOST_MAX], *why = NULL;
	size_t		 pos = 0;
	int		 port;

	while (slot_next_node(list, &pos, host, &port) == 1) {
		redisContext	*ctx;

		free(why);
		why = NULL;
		if ((ctx = cmd_redis_open(rd->conf, host, port, &why)) == NULL)
			continue;
		if (cmd_redis_slots_from(rd, ctx, host, &why) == 0) {
			redisFree(ctx);
			for (int s = 0; s < SLOT_COUNT; s++)
				if (rd->slot_node[s] < 0) {
					*cause = str_printf("redis: cluster slot %d has "
					    "no master (cluster_state not ok?)", s);
					return -1;
				}
			return 0;
		}
		redisFree(ctx);
	}
	*cause = why != NULL ? str_printf("%s (no seed of [redis] nodes gave "
	    "the slot map)", why) : strdup("redis: [redis] nodes names no node");
	free(why);
	return -1;
}

struct cmd_redis *
cmd_redis_connect(const struct conf *conf, char **cause)
{
	struct cmd_redis	*rd;
	redisReply		*r;
	const char		*argv[1] = { "PING" };

	if ((rd = calloc(1, sizeof *rd)) == NULL) {
		*cause = strdup("out of memory");
		return NULL;
	}
	rd->conf = conf;
	if (conf->redis.nodes != NULL) {
		rd->cluster = 1;
		if (cmd_redis_cluster_connect(rd, cause) != 0)
			goto fail;
		return rd;
	}
	if ((rd->node[0].ctx = cmd_redis_open(conf, conf->redis.host,
	    conf->redis.port, cause)) == NULL)
		goto fail;
	rd->nnode = 1;
	if ((r = cmd_redis_command(rd, 1, argv, cause)) == NULL)
		goto fail;
	freeReplyObject(r);
	return rd;
fail:
	cmd_redis_free(rd);
	return NULL;
}

void
cmd_redis_free(struct cmd_redis *rd)
{
	if (rd == NULL)
		return;
	for (int i = 0; i < rd->nnode; i++) {
		redisFree(rd->node[i].ctx);
		redisFree(rd->node[i].side);
	}
	while (rd->count > 0) {
		redisFreeCommand(rd->owed[rd->head].cmd);
		rd->head = (rd->head + 1) % rd->cap;
		rd->count--;
	}
	free(rd->owed);
	free(rd);
}

int
cmd_redis_is_cluster(const struct cmd_redis *rd)
{
	return rd->cluster;
}

const char *
cmd_redis_errstr(const struct cmd_redis *rd)
{
	for (int i = 0; i < rd->nnode; i++)
		if (rd->node[i].ctx != NULL && rd->node[i].ctx->err)
			return rd->node[i].ctx->errstr;
	return rd->errstr[0] ? rd->errstr : "connection lost";
}

/*
 * The key a command routes by (argv index), or -1 for a command of no key
 * (SCRIPT LOAD, PING: every master runs it). Scripts name theirs after
 * numkeys.
 */
static int
cmd_redis_key_index(int argc, const char **argv)
{
	static const char *const keyless[] = { "PING", "SCRIPT", "FUNCTION",
	    "INFO", "TIME", "CLUSTER", "DBSIZE", "FLUSHALL", "FLUSHDB", "CONFIG",
	    "AUTH", "ASKING" };

	if (argc < 2)
		return -1;
	for (size_t i = 0; i < sizeof keyless / sizeof keyless[0]; i++)
		if (!strcasecmp(argv[0], keyless[i]))
			return -1;
	if (!strcasecmp(argv[0], "EVAL") || !strcasecmp(argv[0], "EVALSHA") ||
	    !strcasecmp(argv[0], "FCALL") || !strcasecmp(argv[0], "FCALL_RO"))
		return argc > 3 && strcmp(argv[2], "0") != 0 ? 3 : -1;
	return 1;
}

/* The slot of a command's key, or -1 when it names none. */
static int
cmd_redis_slot(int argc, const char **argv, const size_t *argvlen)
{
	int	 k = cmd_redis_key_index(argc, argv);

	if (k < 0)
		return -1;
	return slot_of_key(argv[k], argvlen != NULL ? argvlen[k] : strlen(argv[k]));
}

/* The master of a slot as the map says (node 0 for no slot or none known). */
static int
cmd_redis_master(const struct cmd_redis *rd, int slot)
{
	return slot >= 0 && rd->slot_node[slot] >= 0 ? rd->slot_node[slot] : 0;
}

int
cmd_redis_append(struct cmd_redis *rd, int argc, const char **argv,
    const size_t *argvlen, char **cause)
{
	struct cmd_owed	*o;
	char		*cmd;
	int		 len, node, slot;

	if (!rd->cluster) {
		if (redisAppendCommandArgv(rd->node[0].ctx, argc, argv,
		    argvlen) != REDIS_OK) {
			*cause = str_printf("redis: %s", rd->node[0].ctx->errstr);
			return -1;
		}
		return 0;
	}
	if (rd->count == rd->cap) {
		size_t		 cap = rd->cap ? rd->cap * 2 : 1024;
		struct cmd_owed	*n = malloc(cap * sizeof *n);

		if (n == NULL)
			goto oom;
		for (size_t i = 0; i < rd->count; i++)
			n[i] = rd->owed[(rd->head + i) % rd->cap];
		free(rd->owed);
		rd->owed = n;
		rd->head = 0;
		rd->cap = cap;
	}
	if ((len = redisFormatCommandArgv(&cmd, argc, argv, argvlen)) < 0)
		goto oom;
	slot = cmd_redis_slot(argc, argv, argvlen);
	node = cmd_redis_master(rd, slot);
	if (redisAppendFormattedCommand(rd->node[node].ctx, cmd,
	    (size_t)len) != REDIS_OK) {
		*cause = str_printf("redis %s:%d: %s", rd->node[node].host,
		    rd->node[node].port, rd->node[node].ctx->errstr);
		redisFreeCommand(cmd);
		return -1;
	}
	o = &rd->owed[(rd->head + rd->count++) % rd->cap];
	o->node = node;
	o->slot = slot;
	o->cmd = cmd;
	o->len = (size_t)len;
	return 0;
oom:
	*cause = strdup("out of memory");
	return -1;
}

/* Write out every node's pipeline, so that all masters work at once. */
static int
cmd_redis_write_all(struct cmd_redis *rd, char **cause)
{
	int	 done;

	for (int i = 0; i < rd->nnode; i++)
		do {
			if (redisBufferWrite(rd->node[i].ctx, &done) != REDIS_OK) {
				*cause = str_printf("redis %s:%d: %s", rd->node[i].host,
				    rd->node[i].port, rd->node[i].ctx->errstr);
				return -1;
			}
		} while (!done);
	return 0;
}

static redisReply *cmd_redis_side(struct cmd_redis *, int, const char *, size_t,
		    int, char **);

int
cmd_redis_nodes(const struct cmd_redis *rd)
{
	return rd->cluster ? rd->nnode : 1;
}

redisReply *
cmd_redis_command_on(struct cmd_redis *rd, int node, int argc, const char **argv,
    char **cause)
{
	redisReply	*r;
	char		*cmd;
	int		 len;

	if (!rd->cluster)
		return cmd_redis_command(rd, argc, argv, cause);
	if ((len = redisFormatCommandArgv(&cmd, argc, argv, NULL)) < 0) {
		*cause = strdup("out of memory");
		return NULL;
	}
	/* The side connection: no pipeline is owed a reply there. */
	r = cmd_redis_side(rd, node, cmd, (size_t)len, 0, cause);
	redisFreeCommand(cmd);
	if (r != NULL && r->type == REDIS_REPLY_ERROR) {
		*cause = str_printf("redis %s:%d: %s: %s", rd->node[node].host,
		    rd->node[node].port, argv[0], r->str);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

/* Run a formatted command on a node's side connection; its reply or NULL. */
static redisReply *
cmd_redis_side(struct cmd_redis *rd, int node, const char *cmd, size_t len,
    int asking, char **cause)
{
	struct cmd_node	*n = &rd->node[node];
	void		*r = NULL;

	if (n->side == NULL && (n->side = cmd_redis_open(rd->conf, n->host, n->port,
	    cause)) == NULL)
		return NULL;
	if ((asking && redisAppendCommand(n->side, "ASKING") != REDIS_OK) ||
	    redisAppendFormattedCommand(n->side, cmd, len) != REDIS_OK)
		goto lost;
	if (asking) {
		if (redisGetReply(n->side, &r) != REDIS_OK)
			goto lost;
		freeReplyObject(r);
		r = NULL;
	}
	if (redisGetReply(n->side, &r) != REDIS_OK || r == NULL)
		goto lost;
	return r;
lost:
	*cause = str_printf("redis %s:%d: %s", n->host, n->port, n->side->errstr);
	redisFree(n->side);
	n->side = NULL;
	return NULL;
}

/*
 * Follow a cluster's redirections of reply r to the command cmd (of slot):
 * MOVED (the slot has a new master: read the map again and send there),
 * ASK (the slot is being moved: ASKING and the command at the importing
 * node), TRYAGAIN and CLUSTERDOWN (wait, read the map, try again), a few
 * times. Takes r; returns the final reply, or NULL with *cause.
 */
static redisReply *
cmd_redis_follow(struct cmd_redis *rd, redisReply *r, int slot, const char *cmd,
    size_t len, char **cause)
{
	char	 host[SLOT_HOST_MAX], addr[SLOT_HOST_MAX + 16];
	int	 to, port, node, asking;
	size_t	 pos;

	for (int tries = 0; r != NULL && r->type == REDIS_REPLY_ERROR &&
	    tries < CMD_REDIRECTS_MAX; tries++) {
		asking = 0;
		if ((!strncmp(r->str, "MOVED ", 6) || !strncmp(r->str, "ASK ", 4)) &&
		    sscanf(r->str, "%*s %d %271s", &to, addr) == 2) {
			asking = r->str[0] == 'A';
			pos = 0;
			if (slot_next_node(addr, &pos, host, &port) != 1 ||
			    to < 0 || to >= SLOT_COUNT)
				break;
			if ((node = cmd_redis_node(rd, host, port, cause)) < 0)
				goto fail;
			if (!asking) {
				/* Several slots moved, as a rule: the whole map. */
				rd->slot_node[to] = (int16_t)node;
				if (cmd_redis_slots(rd, cause) != 0)
					goto fail;
				node = cmd_redis_master(rd, slot);
			}
		} else if (!strncmp(r->str, "TRYAGAIN", 8) ||
		    !strncmp(r->str, "CLUSTERDOWN", 11)) {
			usleep(CMD_RETRY_MS * 1000);
			if (cmd_redis_slots(rd, cause) != 0)
				goto fail;
			node = cmd_redis_master(rd, slot);
		} else
			break;
		freeReplyObject(r);
		r = cmd_redis_side(rd, node, cmd, len, asking, cause);
	}
	return r;
fail:
	freeReplyObject(r);
	return NULL;
}

int
cmd_redis_reply(struct cmd_redis *rd, struct redisReply **reply, char **cause)
{
	struct cmd_owed	 o = { 0, -1, NULL, 0 };
	redisContext	*ctx = rd->node[0].ctx;
	void		*r = NULL;

	if (rd->cluster) {
		if (rd->count == 0) {
			*cause = strdup("redis: no reply is owed");
			return -1;
		}
		o = rd->owed[rd->head];
		rd->head = (rd->head + 1) % rd->cap;
		rd->count--;
		ctx = rd->node[o.node].ctx;
		if (cmd_redis_write_all(rd, cause) != 0) {
			redisFreeCommand(o.cmd);
			return -1;
		}
	}
	if (redisGetReply(ctx, &r) != REDIS_OK || r == NULL) {
		*cause = str_printf("redis: %s", ctx->errstr[0] ? ctx->errstr :
		    "connection lost");
		if (rd->cluster)
			redisFreeCommand(o.cmd);
		return -1;
	}
	if (rd->cluster) {
		r = cmd_redis_follow(rd, r, o.slot, o.cmd, o.len, cause);
		redisFreeCommand(o.cmd);
		if (r == NULL)
			return -1;
	}
	*reply = r;
	return 0;
}

struct redisReply *
cmd_redis_command(struct cmd_redis *rd, int argc, const char **argv,
    char **cause)
{
	redisReply	*r = NULL, *first = NULL;
	int		 nodes = 1;

	/* A command of no key runs on every master (SCRIPT LOAD). */
	if (rd->cluster && cmd_redis_slot(argc, argv, NULL) < 0)
		nodes = rd->nnode;
	for (int i = 0; i < nodes; i++) {
		if (rd->cluster && nodes > 1) {
			char	*cmd;
			int	 len;

			if ((len = redisFormatCommandArgv(&cmd, argc, argv,
			    NULL)) < 0) {
				*cause = strdup("out of memory");
				goto fail;
			}
			/* The side connection: no pipeline is owed a reply there. */
			r = cmd_redis_side(rd, i, cmd, (size_t)len, 0, cause);
			redisFreeCommand(cmd);
			if (r == NULL)
				goto fail;
		} else if (cmd_redis_append(rd, argc, argv, NULL, cause) != 0 ||
		    cmd_redis_reply(rd, &r, cause) != 0)
			goto fail;
		if (r->type == REDIS_REPLY_ERROR) {
			*cause = str_printf("redis: %s: %s", argv[0], r->str);
			freeReplyObject(r);
			goto fail;
		}
		if (first == NULL)
			first = r;
		else
			freeReplyObject(r);
	}
	return first;
fail:
	if (first != NULL)
		freeReplyObject(first);
	return NULL;
}

const char *
cmd_reply_str(const struct redisReply *r)
{
	if (r == NULL)
		return NULL;
	if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
		return r->str;
	return NULL;
}

static int	cmd_pipe_read(struct cmd_pipe *, int, char **);

int
cmd_pipe_append(struct cmd_pipe *p, int argc, const char **argv,
    const size_t *argvlen, char **cause)
{
	if (cmd_redis_append(p->ctx, argc, argv, argvlen, cause) != 0)
		return -1;
	p->pending++;
	p->sent++;
	/*
	 * Reading a reply sends everything appended so far; read only the
	 * oldest batch, so the newest stays in flight while we append more
	 * (Redis works while we build commands).
	 */
	if (p->pending >= 2 * CMD_PIPE_BATCH)
		return cmd_pipe_read(p, CMD_PIPE_BATCH, cause);
	return 0;
}

/* Read n replies (or all pending); 0, or -1 naming the first error reply. */
static int
cmd_pipe_read(struct cmd_pipe *p, int n, char **cause)
{
	redisReply	*r;
	int		 failed = 0;

	/* Read every reply even after an error, so the connection stays usable. */
	while (p->pending > 0 && n-- > 0) {
		if (cmd_redis_reply(p->ctx, &r, cause) != 0) {
			p->pending = 0;
			return -1;
		}
		p->pending--;
		if (r->type == REDIS_REPLY_ERROR &&
		    (strncmp(r->str, "NOSCRIPT", 8) == 0 ||
		    strstr(r->str, "Function not found") != NULL)) {
			p->noscript++;
			if (p->lost != NULL) {
				p->lost[p->nread++] = 1;
				freeReplyObject(r);
				continue;
			}
		}
		p->nread++;
		if (r->type == REDIS_REPLY_ERROR && !failed) {
			*cause = str_printf("redis: %s", r->str);
			failed = 1;
		}
		freeReplyObject(r);
	}
	return failed ? -1 : 0;
}

int
cmd_pipe_flush(struct cmd_pipe *p, char **cause)
{
	return cmd_pipe_read(p, p->pending, cause);
}
