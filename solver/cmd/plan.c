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

#define PLAN_PUBLISH_TRIES	5	/* the live plan changed under us */

/*
 * Check and switch in one step (Redis runs a script alone): the run must
 * exist, be complete, its plan entries must not have expired, and the live
 * plan must still be the one the caller judged the run against (whether
 * it needs --force is decided in C, by cmd_plan_needs_force, alone).
 * KEYS: 1 run hash, 2 live key. ARGV: 1 run id, 2 now, 3 who, 4 the live
 * run id expected ("" none), 5 "1" when forced.
 * Returns {code, detail}: 0 no such run, 1 not complete (status), 2 expired
 * (expiry time), 3 published (previous live run id or ""), 4 the live plan
 * changed (the live run id now).
 */
static const char plan_publish_lua[] =
    "local st = redis.call('HGET', KEYS[1], 'status')\n"
    "if not st then return {0, ''} end\n"
    "if st ~= 'complete' then return {1, st} end\n"
    "local exp = tonumber(redis.call('HGET', KEYS[1], 'expires') or '0')\n"
    "if exp > 0 and exp <= tonumber(ARGV[2]) then return {2, tostring(exp)} end\n"
    "local prev = redis.call('GET', KEYS[2]) or ''\n"
    "if prev ~= ARGV[4] then return {4, prev} end\n"
    "redis.call('SET', KEYS[2], ARGV[1])\n"
    "redis.call('HSET', KEYS[1], 'published_at', ARGV[2], 'published_by', ARGV[3],"
    " 'previous_live', prev, 'forced', ARGV[5])\n"
    "return {3, prev}\n";

/* One attempt to publish: the keys, the run and what it was judged by. */
struct plan_switch {
	const char	*krun;		/* the run's hash */
	const char	*klive;		/* PREFIX:plan:live */
	const char	*run_id;
	const char	*now;		/* unix seconds, as text */
	const char	*who;
	const char	*live;		/* the live run judged by, or NULL */
	int		 force;
};

static int	plan_get(struct cmd_redis *, const struct conf *, const char *,
		    char **, char **);
static int	plan_publish_cluster(struct cmd_redis *,
		    const struct plan_switch *, long long *, char **, char **);
static int	plan_publish_eval(struct cmd_redis *,
		    const struct plan_switch *, long long *, char **, char **);
static int	plan_publish_result(const struct plan_switch *, long long,
		    const char *, char **);

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
cmd_plan_needs_force(const char *solver_status, long assignments,
    const char *live, long live_assignments, char *why, size_t len)
{
	int	 uncertified, emptier, n = 0;

	uncertified = solver_status == NULL || (strcmp(solver_status,
	    "optimal") != 0 && strcmp(solver_status, "gap_reached") != 0);
	emptier = assignments <= 0 && live != NULL && live_assignments > 0;
	why[0] = '\0';
	if (uncertified)
		n = snprintf(why, len, "its solver status is \"%s\", not optimal "
		    "or gap_reached", solver_status ? solver_status : "unknown");
	if (emptier && n >= 0 && (size_t)n < len)
		snprintf(why + n, len - (size_t)n, "%sit plans nothing while the "
		    "live plan (run %s) plans %ld sends", n > 0 ? ", and " : "",
		    live, live_assignments);
	return uncertified || emptier;
}

/*
 * HMGET fields of run_id's hash into v (n values, each a new string the
 * caller frees, NULL when unset); 0, or -1 with *cause when Redis failed.
 */
static int
plan_run_fields(struct cmd_redis *ctx, const struct conf *conf, const char *run_id,
    const char *const *fields, int n, char **v, char **cause)
{
	char		 krun[KEYS_MAX + 128];
	const char	*argv[2 + 16];
	redisReply	*r;
	const char	*s;

	snprintf(krun, sizeof krun, "%s:run:%s", conf->redis.prefix, run_id);
	argv[0] = "HMGET";
	argv[1] = krun;
	for (int i = 0; i < n && i < 16; i++)
		argv[2 + i] = fields[i];
	if ((r = cmd_redis_command(ctx, 2 + n, argv, cause)) == NULL)
		return -1;
	for (int i = 0; i < n; i++) {
		s = r->type == REDIS_REPLY_ARRAY && (size_t)i < r->elements ?
		    cmd_reply_str(r->element[i]) : NULL;
		v[i] = s != NULL ? strdup(s) : NULL;
	}
	freeReplyObject(r);
	return 0;
}

int
cmd_plan_assignments(struct cmd_redis *ctx, const struct conf *conf,
    const char *run_id, long *n, char **cause)
{
	static const char *const field[] = { "assignments" };
	char		*v = NULL;

	*n = -1;
	if (run_id == NULL)
		return 0;
	if (plan_run_fields(ctx, conf, run_id, field, 1, &v, cause) != 0)
		return -1;
	if (v != NULL)
		*n = strtol(v, NULL, 10);
	free(v);
	return 0;
}

/*
 * Whether run_id needs --force against the live plan now: 1 with why set,
 * 0, or -1 with *cause (Redis). *live is the live run id (caller frees),
 * NULL when none. A run that is missing or not complete is left to the
 * publish script to refuse, with its own message.
 */
static int
plan_check_force(struct cmd_redis *ctx, const struct conf *conf,
    const char *run_id, char **live, char *why, size_t len, char **cause)
{
	static const char *const fields[] = { "status", "solver_status",
	    "assignments" };
	char		*v[3] = { NULL, NULL, NULL };
	long		 live_n = -1;
	int		 rv = -1;

	*live = NULL;
	if (plan_get(ctx, conf, "plan:live", live, cause) != 0 ||
	    plan_run_fields(ctx, conf, run_id, fields, 3, v, cause) != 0)
		goto done;
	if (*live != NULL && strcmp(*live, run_id) != 0 &&
	    cmd_plan_assignments(ctx, conf, *live, &live_n, cause) != 0)
		goto done;
	rv = v[0] != NULL && !strcmp(v[0], "complete") &&
	    cmd_plan_needs_force(v[1], v[2] ? strtol(v[2], NULL, 10) : 0,
	    *live, live_n, why, len);
done:
	for (int i = 0; i < 3; i++)
		free(v[i]);
	if (rv < 0) {
		free(*live);
		*live = NULL;
	}
	return rv;
}

/*
 * Publish by plan_publish_lua, in one step (one Redis): *code and *detail
 * (caller frees) as the script answers. 0, or -1 with *cause.
 */
static int
plan_publish_eval(struct cmd_redis *ctx, const struct plan_switch *sw,
    long long *code, char **detail, char **cause)
{
	const char	*argv[10];
	redisReply	*r;

	argv[0] = "EVAL";
	argv[1] = plan_publish_lua;
	argv[2] = "2";
	argv[3] = sw->krun;
	argv[4] = sw->klive;
	argv[5] = sw->run_id;
	argv[6] = sw->now;
	argv[7] = sw->who;
	argv[8] = sw->live != NULL ? sw->live : "";
	argv[9] = sw->force ? "1" : "0";
	if ((r = cmd_redis_command(ctx, 10, argv, cause)) == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER) {
		*cause = strdup("redis: unexpected answer to the "
		    "publish script");
		freeReplyObject(r);
		return -1;
	}
	*code = r->element[0]->integer;
	*detail = strdup(cmd_reply_str(r->element[1]) ?
	    r->element[1]->str : "");
	freeReplyObject(r);
	return 0;
}

/*
 * What the publish script's last answer (code, detail) means: the exit
 * code, with *cause set unless the run was published.
 */
static int
plan_publish_result(const struct plan_switch *sw, long long code,
    const char *detail, char **cause)
{
	const char	*run_id = sw->run_id;

	switch (code) {
	case 0:
		*cause = str_printf("run %s: no such run (key %s)", run_id,
		    sw->krun);
		return CMD_BAD_INPUT;
	case 1:
		*cause = str_printf("run %s: status is \"%s\", only a complete run "
		    "can be published", run_id, detail ? detail : "");
		return CMD_BAD_INPUT;
	case 2:
		*cause = str_printf("run %s: its plan entries expired (horizon "
		    "passed); run the optimizer again", run_id);
		return CMD_BAD_INPUT;
	case 4:
		*cause = str_printf("run %s: the live plan kept changing; try "
		    "again", run_id);
		return CMD_NO_SERVICE;
	default:
		cmd_log("plan", "published %s (live before: %s) by %s%s", run_id,
		    detail && *detail ? detail : "none", sw->who,
		    sw->force ? " (forced)" : "");
		return CMD_OK;
	}
}

/*
 * The publish script's check and switch on a Redis Cluster, where the run
 * hash and the live key live in different slots (no script may hold both):
 * the run is checked first (its status and expiry only ever move on from
 * complete), then the live key is switched by a script on its own slot if
 * it still holds the run judged against, then the run records who
 * published it. Same codes as plan_publish_lua; *detail (caller frees).
 */
static const char plan_switch_lua[] =
    "local prev = redis.call('GET', KEYS[1]) or ''\n"
    "if prev ~= ARGV[2] then return {4, prev} end\n"
    "redis.call('SET', KEYS[1], ARGV[1])\n"
    "return {3, prev}\n";

static int
plan_publish_cluster(struct cmd_redis *ctx, const struct plan_switch *sw,
    long long *code, char **detail, char **cause)
{
	const char	*krun = sw->krun, *now = sw->now;
	const char	*argv[12];
	redisReply	*r;

	argv[0] = "HMGET";
	argv[1] = krun;
	argv[2] = "status";
	argv[3] = "expires";
	if ((r = cmd_redis_command(ctx, 4, argv, cause)) == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
		freeReplyObject(r);
		*cause = strdup("redis: unexpected answer to HMGET");
		return -1;
	}
	if (cmd_reply_str(r->element[0]) == NULL)
		*code = 0;
	else if (strcmp(r->element[0]->str, "complete") != 0)
		*code = 1;
	else if (cmd_reply_str(r->element[1]) != NULL &&
	    strtoll(r->element[1]->str, NULL, 10) > 0 &&
	    strtoll(r->element[1]->str, NULL, 10) <= strtoll(now, NULL, 10))
		*code = 2;
	else
		*code = -1;
	if (*code >= 0) {
		*detail = strdup(*code == 1 ? r->element[0]->str : *code == 2 ?
		    r->element[1]->str : "");
		freeReplyObject(r);
		return 0;
	}
	freeReplyObject(r);
	argv[0] = "EVAL";
	argv[1] = plan_switch_lua;
	argv[2] = "1";
	argv[3] = sw->klive;
	argv[4] = sw->run_id;
	argv[5] = sw->live != NULL ? sw->live : "";
	if ((r = cmd_redis_command(ctx, 6, argv, cause)) == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER) {
		freeReplyObject(r);
		*cause = strdup("redis: unexpected answer to the publish script");
		return -1;
	}
	*code = r->element[0]->integer;
	*detail = strdup(cmd_reply_str(r->element[1]) ? r->element[1]->str : "");
	freeReplyObject(r);
	if (*code != 3)
		return 0;
	argv[0] = "HSET";
	argv[1] = krun;
	argv[2] = "published_at";
	argv[3] = now;
	argv[4] = "published_by";
	argv[5] = sw->who;
	argv[6] = "previous_live";
	argv[7] = *detail != NULL ? *detail : "";
	argv[8] = "forced";
	argv[9] = sw->force ? "1" : "0";
	if ((r = cmd_redis_command(ctx, 10, argv, cause)) == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

/* Publish a reviewed run, judged again if the live plan moves; see cmd.h. */
int
cmd_plan_publish(struct cmd_redis *ctx, const struct conf *conf,
    const char *run_id, const char *who, int force, int *refused, char **cause)
{
	char		 krun[KEYS_MAX + 128], klive[KEYS_MAX], now[32], why[256];
	char		*live = NULL, *detail = NULL;
	struct plan_switch sw = { krun, klive, run_id, now, who, NULL, force };
	long long	 code = -1;
	int		 rc, tries;

	*refused = 0;
	if (!cmd_valid_name(run_id, 100)) {
		*cause = str_printf("\"%.100s\" is not a run id", run_id);
		return CMD_BAD_INPUT;
	}
	snprintf(krun, sizeof krun, "%s:run:%s", conf->redis.prefix, run_id);
	keys_global(klive, sizeof klive, conf->redis.prefix, "plan:live");
	for (tries = 0; tries < PLAN_PUBLISH_TRIES; tries++) {
		switch (plan_check_force(ctx, conf, run_id, &live, why, sizeof why,
		    cause)) {
		case -1:
			return CMD_NO_SERVICE;
		case 1:
			if (force)
				break;
			*refused = 1;
			*cause = str_printf("run %s: publishing it needs --force: %s "
			    "(pacer plan publish %s --force)", run_id, why, run_id);
			free(live);
			return CMD_BAD_INPUT;
		}
		snprintf(now, sizeof now, "%lld", (long long)time(NULL));
		free(detail);
		detail = NULL;
		sw.live = live;
		if (cmd_redis_is_cluster(ctx))
			rc = plan_publish_cluster(ctx, &sw, &code, &detail, cause);
		else
			rc = plan_publish_eval(ctx, &sw, &code, &detail, cause);
		free(live);
		live = NULL;
		if (rc != 0)
			return CMD_NO_SERVICE;
		/* 4: the live plan changed since we judged: judge again. */
		if (code != 4)
			break;
	}
	rc = plan_publish_result(&sw, code, detail, cause);
	free(detail);
	return rc;
}

/*
 * Print one run ("live", "candidate") and its figures; a candidate that is
 * not live also says whether publishing it needs --force, and why, against
 * the live run (live, with live_assignments sends). 0 or -1 (Redis).
 */
static int
plan_show_run(struct cmd_redis *ctx, const struct conf *conf, const char *role,
    const char *run_id, const char *other, const char *live,
    long live_assignments, char **cause)
{
	static const char *const fields[] = { "status", "created", "method",
	    "solver_status", "objective", "bound", "gap", "customers",
	    "assignments", "folder", "published_at", "published_by", "expires",
	    "forced" };
	enum { F_STATUS, F_CREATED, F_METHOD, F_SOLVER, F_OBJ, F_BOUND, F_GAP,
	    F_CUST, F_ASSIGN, F_FOLDER, F_PUBAT, F_PUBBY, F_EXPIRES, F_FORCED,
	    F_N };
	char		 when[40], pub[40], exp[40], why[256];
	char		*v[F_N];

	if (run_id == NULL) {
		printf("%-10s (none)\n", role);
		return 0;
	}
	if (plan_run_fields(ctx, conf, run_id, fields, F_N, v, cause) != 0)
		return -1;
	if (v[F_STATUS] == NULL) {
		printf("%-10s %s (run metadata missing)\n", role, run_id);
		goto done;
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
		printf("%-10s published=%s by=%s%s\n", "", pub,
		    v[F_PUBBY] ? v[F_PUBBY] : "-", v[F_FORCED] != NULL &&
		    !strcmp(v[F_FORCED], "1") ? " (forced)" : "");
	}
	if (!strcmp(role, "candidate") && (live == NULL ||
	    strcmp(live, run_id) != 0) && !strcmp(v[F_STATUS], "complete")) {
		if (cmd_plan_needs_force(v[F_SOLVER], v[F_ASSIGN] ?
		    strtol(v[F_ASSIGN], NULL, 10) : 0, live, live_assignments, why,
		    sizeof why))
			printf("%-10s not published: publishing it needs --force: "
			    "%s\n", "", why);
		else
			printf("%-10s publishable: pacer plan publish %s\n", "",
			    run_id);
	}
done:
	for (int i = 0; i < F_N; i++)
		free(v[i]);
	return 0;
}

/* GET PREFIX:name into a new string (caller frees), NULL when unset. */
static int
plan_get(struct cmd_redis *ctx, const struct conf *conf, const char *name,
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
cmd_plan_current(struct cmd_redis *ctx, const struct conf *conf, char **live,
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
	fprintf(stderr, "usage: pacer plan publish RUN_ID [--force] [-c FILE] | "
	    "pacer plan show [-c FILE]\n");
	return CMD_BAD_INPUT;
}

int
cmd_plan(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*conf_path = "conf/pacer.conf", *verb, *run_id = NULL;
	struct conf	*conf = NULL;
	struct cmd_redis	*ctx = NULL;
	char		*cause = NULL, *live = NULL, *candidate = NULL;
	int		 ch, rc = CMD_BAD_INPUT, force = 0, refused;
	long		 live_n = -1;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+c:", longopts, NULL)) != -1) {
		if (ch == 'f')
			force = 1;
		else if (ch == 'c')
			conf_path = optarg;
		else
			return plan_usage();
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
		else if (!strcmp(argv[optind], "--force"))
			force = 1;
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
		if ((rc = cmd_plan_publish(ctx, conf, run_id, cmd_plan_who(), force,
		    &refused, &cause)) != CMD_OK)
			goto fail;
		goto done;
	}
	if (force)
		return plan_usage();
	rc = CMD_NO_SERVICE;
	if (cmd_plan_current(ctx, conf, &live, &candidate, &cause) != 0 ||
	    cmd_plan_assignments(ctx, conf, live, &live_n, &cause) != 0)
		goto fail;
	if (plan_show_run(ctx, conf, "live", live, candidate, live, live_n,
	    &cause) != 0)
		goto fail;
	if (candidate == NULL || live == NULL || strcmp(candidate, live) != 0) {
		if (plan_show_run(ctx, conf, "candidate", candidate, NULL, live,
		    live_n, &cause) != 0)
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
	cmd_redis_free(ctx);
	conf_free(conf);
	return rc;
}
