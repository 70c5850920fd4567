/*
 * Redis for the pacer command: a synchronous hiredis connection and a
 * pipeline that appends many commands and reads their replies in batches
 * (one round trip per batch, not per command).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "pacer/conf.h"

#include "cmd.h"
#include "pacer/str.h"

struct redisContext *
cmd_redis_connect(const struct conf *conf, char **cause)
{
	redisContext	*ctx;
	redisReply	*r;
	struct timeval	 tv;
	const char	*argv[2];
	/*
	 * The config's timeout_ms is for the daemon's request path; bulk
	 * commands move millions of records, so give them seconds.
	 */
	int		 connect_ms = conf->redis.timeout_ms > 2000 ?
			    conf->redis.timeout_ms : 2000;

	tv.tv_sec = connect_ms / 1000;
	tv.tv_usec = (connect_ms % 1000) * 1000;
	ctx = redisConnectWithTimeout(conf->redis.host, conf->redis.port, tv);
	if (ctx == NULL || ctx->err) {
		*cause = str_printf("redis %s:%d: cannot connect: %s",
		    conf->redis.host, conf->redis.port,
		    ctx ? ctx->errstr : "out of memory");
		redisFree(ctx);
		return NULL;
	}
	tv.tv_sec = 60;
	tv.tv_usec = 0;
	redisSetTimeout(ctx, tv);
	if (conf->redis.password != NULL && *conf->redis.password != '\0') {
		argv[0] = "AUTH";
		argv[1] = conf->redis.password;
		if ((r = cmd_redis_command(ctx, 2, argv, cause)) == NULL)
			goto fail;
		freeReplyObject(r);
	}
	argv[0] = "PING";
	if ((r = cmd_redis_command(ctx, 1, argv, cause)) == NULL)
		goto fail;
	freeReplyObject(r);
	return ctx;
fail:
	redisFree(ctx);
	return NULL;
}

struct redisReply *
cmd_redis_command(struct redisContext *ctx, int argc, const char **argv,
    char **cause)
{
	redisReply	*r;

	r = redisCommandArgv(ctx, argc, argv, NULL);
	if (r == NULL) {
		*cause = str_printf("redis: %s", ctx->errstr[0] ? ctx->errstr :
		    "connection lost");
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		*cause = str_printf("redis: %s: %s", argv[0], r->str);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

int
cmd_redis_reply(struct redisContext *ctx, struct redisReply **reply, char **cause)
{
	void	*r = NULL;

	if (redisGetReply(ctx, &r) != REDIS_OK || r == NULL) {
		*cause = str_printf("redis: %s", ctx->errstr[0] ? ctx->errstr :
		    "connection lost");
		return -1;
	}
	*reply = r;
	return 0;
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
	if (redisAppendCommandArgv(p->ctx, argc, argv, argvlen) != REDIS_OK) {
		*cause = str_printf("redis: %s", p->ctx->errstr);
		return -1;
	}
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
		    strncmp(r->str, "NOSCRIPT", 8) == 0)
			p->noscript++;
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
