/*
 * pacer plan: make a reviewed candidate plan live (one atomic switch of
 * PREFIX:plan:live), and show the live and candidate runs.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "pacer/conf.h"
#include "pacer/keys.h"

#include "cmd.h"
#include "pacer/str.h"

/*
 * Check and switch in one step (Redis runs a script alone): the run must
 * exist, be complete, and its plan entries must not have expired.
 * KEYS: 1 run hash, 2 live key. ARGV: 1 run id, 2 now, 3 who.
 * Returns {code, detail}: 0 no such run, 1 not complete (status), 2 expired
 * (expiry time), 3 published (previous live run id or "").
 */
static const char plan_publish_lua[] =
    "local st = redis.call('HGET', KEYS[1], 'status')\n"
    "if not st then return {0, ''} end\n"
    "if st ~= 'complete' then return {1, st} end\n"
    "local exp = tonumber(redis.call('HGET', KEYS[1], 'expires') or '0')\n"
    "if exp > 0 and exp <= tonumber(ARGV[2]) then return {2, tostring(exp)} end\n"
    "local prev = redis.call('GET', KEYS[2]) or ''\n"
    "redis.call('SET', KEYS[2], ARGV[1])\n"
    "redis.call('HSET', KEYS[1], 'published_at', ARGV[2], 'published_by', ARGV[3],"
    " 'previous_live', prev)\n"
    "return {3, prev}\n";

/* Format unix seconds as "2026-11-23T02:00:00Z" into buf. */
static void
plan_time(const char *secs, char *buf, size_t len)
{
	time_t		 t;
	struct tm	 tm;

	if (secs == NULL || *secs == '\0') {
		snprintf(buf, len, "-");
		return;
	}
	t = (time_t)strtoll(secs, NULL, 10);
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

const char *
cmd_plan_who(void)
{
	const char	*u = getenv("USER");

	if (u == NULL || *u == '\0')
		u = getenv("LOGNAME");
	return u != NULL && *u != '\0' ? u : "unknown";
}

int
cmd_plan_publish(struct redisContext *ctx, const struct conf *conf,
    const char *run_id, const char *who, char **cause)
{
	char		 krun[KEYS_MAX + 128], klive[KEYS_MAX], now[32];
	const char	*argv[8];
	redisReply	*r;
	long long	 code;
	int		 rc;

	if (!cmd_valid_name(run_id, 100)) {
		*cause = str_printf("\"%.100s\" is not a run id", run_id);
		return CMD_BAD_INPUT;
	}
	snprintf(krun, sizeof krun, "%s:run:%s", conf->redis.prefix, run_id);
	keys_global(klive, sizeof klive, conf->redis.prefix, "plan:live");
	snprintf(now, sizeof now, "%lld", (long long)time(NULL));
	argv[0] = "EVAL";
	argv[1] = plan_publish_lua;
	argv[2] = "2";
	argv[3] = krun;
	argv[4] = klive;
	argv[5] = run_id;
	argv[6] = now;
	argv[7] = who;
	if ((r = cmd_redis_command(ctx, 8, argv, cause)) == NULL)
		return CMD_NO_SERVICE;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER) {
		*cause = strdup("redis: unexpected answer to the publish script");
		freeReplyObject(r);
		return CMD_NO_SERVICE;
	}
	code = r->element[0]->integer;
	switch (code) {
	case 0:
		*cause = str_printf("run %s: no such run (key %s)", run_id, krun);
		rc = CMD_BAD_INPUT;
		break;
	case 1:
		*cause = str_printf("run %s: status is \"%s\", only a complete run "
		    "can be published", run_id, cmd_reply_str(r->element[1]));
		rc = CMD_BAD_INPUT;
		break;
	case 2:
		*cause = str_printf("run %s: its plan entries expired (horizon "
		    "passed); run the optimizer again", run_id);
		rc = CMD_BAD_INPUT;
		break;
	default: {
		const char *prev = cmd_reply_str(r->element[1]);

		cmd_log("plan", "published %s (live before: %s) by %s", run_id,
		    prev && *prev ? prev : "none", who);
		rc = CMD_OK;
		break;
	}
	}
	freeReplyObject(r);
	return rc;
}

/* Print one run ("live", "candidate") and its figures; 0 or -1 (Redis). */
static int
plan_show_run(redisContext *ctx, const struct conf *conf, const char *role,
    const char *run_id, const char *other, char **cause)
{
	static const char *const fields[] = { "status", "created", "method",
	    "solver_status", "objective", "bound", "gap", "customers",
	    "assignments", "folder", "published_at", "published_by", "expires" };
	enum { F_STATUS, F_CREATED, F_METHOD, F_SOLVER, F_OBJ, F_BOUND, F_GAP,
	    F_CUST, F_ASSIGN, F_FOLDER, F_PUBAT, F_PUBBY, F_EXPIRES, F_N };
	const char	*argv[2 + F_N];
	char		 krun[KEYS_MAX + 128], when[40], pub[40], exp[40];
	const char	*v[F_N];
	redisReply	*r;

	if (run_id == NULL) {
		printf("%-10s (none)\n", role);
		return 0;
	}
	snprintf(krun, sizeof krun, "%s:run:%s", conf->redis.prefix, run_id);
	argv[0] = "HMGET";
	argv[1] = krun;
	for (int i = 0; i < F_N; i++)
		argv[2 + i] = fields[i];
	if ((r = cmd_redis_command(ctx, 2 + F_N, argv, cause)) == NULL)
		return -1;
	for (int i = 0; i < F_N; i++)
		v[i] = r->type == REDIS_REPLY_ARRAY && (size_t)i < r->elements ?
		    cmd_reply_str(r->element[i]) : NULL;
	if (v[F_STATUS] == NULL) {
		printf("%-10s %s (run metadata missing)\n", role, run_id);
		freeReplyObject(r);
		return 0;
	}
	plan_time(v[F_CREATED], when, sizeof when);
	plan_time(v[F_EXPIRES], exp, sizeof exp);
	printf("%-10s %s%s\n", role, run_id, other != NULL &&
	    !strcmp(other, run_id) ? " (also the candidate)" : "");
	printf("%-10s status=%s solver=%s method=%s created=%s entries_expire=%s\n",
	    "", v[F_STATUS], v[F_SOLVER] ? v[F_SOLVER] : "-",
	    v[F_METHOD] ? v[F_METHOD] : "-", when, exp);
	printf("%-10s objective=%s bound=%s gap=%s customers=%s assignments=%s\n",
	    "", v[F_OBJ] ? v[F_OBJ] : "-", v[F_BOUND] ? v[F_BOUND] : "-",
	    v[F_GAP] ? v[F_GAP] : "-", v[F_CUST] ? v[F_CUST] : "-",
	    v[F_ASSIGN] ? v[F_ASSIGN] : "-");
	if (v[F_FOLDER] != NULL)
		printf("%-10s folder=%s\n", "", v[F_FOLDER]);
	if (v[F_PUBAT] != NULL) {
		plan_time(v[F_PUBAT], pub, sizeof pub);
		printf("%-10s published=%s by=%s\n", "", pub,
		    v[F_PUBBY] ? v[F_PUBBY] : "-");
	}
	freeReplyObject(r);
	return 0;
}

/* GET PREFIX:name into a new string (caller frees), NULL when unset. */
static int
plan_get(redisContext *ctx, const struct conf *conf, const char *name,
    char **out, char **cause)
{
	char		 key[KEYS_MAX];
	const char	*argv[2] = { "GET", key };
	redisReply	*r;
	const char	*s;

	*out = NULL;
	keys_global(key, sizeof key, conf->redis.prefix, name);
	if ((r = cmd_redis_command(ctx, 2, argv, cause)) == NULL)
		return -1;
	if ((s = cmd_reply_str(r)) != NULL && *s != '\0')
		*out = strdup(s);
	freeReplyObject(r);
	return 0;
}

int
cmd_plan_current(struct redisContext *ctx, const struct conf *conf, char **live,
    char **candidate, char **cause)
{
	*live = *candidate = NULL;
	if (plan_get(ctx, conf, "plan:live", live, cause) != 0)
		return -1;
	if (plan_get(ctx, conf, "plan:candidate", candidate, cause) != 0) {
		free(*live);
		*live = NULL;
		return -1;
	}
	return 0;
}

/* Usage line. */
static int
plan_usage(void)
{
	fprintf(stderr, "usage: pacer plan publish RUN_ID [-c FILE] | "
	    "pacer plan show [-c FILE]\n");
	return CMD_BAD_INPUT;
}

int
cmd_plan(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*conf_path = "conf/pacer.conf", *verb, *run_id = NULL;
	struct conf	*conf = NULL;
	redisContext	*ctx = NULL;
	char		*cause = NULL, *live = NULL, *candidate = NULL;
	int		 ch, rc = CMD_BAD_INPUT;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+c:", longopts, NULL)) != -1) {
		if (ch != 'c')
			return plan_usage();
		conf_path = optarg;
	}
	if (optind >= argc)
		return plan_usage();
	verb = argv[optind++];
	/* Options may also follow the verb: plan publish RUN_ID -c FILE. */
	for (; optind < argc; optind++) {
		if (!strcmp(argv[optind], "-c") && optind + 1 < argc)
			conf_path = argv[++optind];
		else if (!strncmp(argv[optind], "--config=", 9))
			conf_path = argv[optind] + 9;
		else if (run_id == NULL && argv[optind][0] != '-')
			run_id = argv[optind];
		else
			return plan_usage();
	}
	if (strcmp(verb, "publish") != 0 && strcmp(verb, "show") != 0)
		return plan_usage();
	if (!strcmp(verb, "publish") == (run_id == NULL))
		return plan_usage();
	if ((conf = conf_load(conf_path, &cause)) == NULL)
		goto fail;
	if ((ctx = cmd_redis_connect(conf, &cause)) == NULL) {
		rc = CMD_NO_SERVICE;
		goto fail;
	}
	if (!strcmp(verb, "publish")) {
		if ((rc = cmd_plan_publish(ctx, conf, run_id, cmd_plan_who(), &cause))
		    != CMD_OK)
			goto fail;
		goto done;
	}
	rc = CMD_NO_SERVICE;
	if (cmd_plan_current(ctx, conf, &live, &candidate, &cause) != 0)
		goto fail;
	if (plan_show_run(ctx, conf, "live", live, candidate, &cause) != 0)
		goto fail;
	if (candidate == NULL || live == NULL || strcmp(candidate, live) != 0) {
		if (plan_show_run(ctx, conf, "candidate", candidate, NULL, &cause) != 0)
			goto fail;
	}
	rc = CMD_OK;
	goto done;
fail:
	cmd_log("plan", "%s", cause ? cause : "out of memory");
done:
	free(cause);
	free(live);
	free(candidate);
	redisFree(ctx);
	conf_free(conf);
	return rc;
}
