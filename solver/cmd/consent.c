/*
 * pacer consent export: every stored consent record of every customer, as
 * CSV on stdout, for an auditor. The records are the profile hash fields
 * cr:CHANNEL (lines "AT|GRANTED|SOURCE|BY\n", newest first) that the
 * daemon's profile function keeps; the customers are found with SCAN and
 * their records read with pipelined HMGETs.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "pacer/conf.h"
#include "pacer/keys.h"

#include "cmd.h"

#define CONSENT_SCAN_COUNT "1000"	/* keys asked of each SCAN step */

/* What one export run counts, for the closing line. */
struct consent_totals {
	uint64_t	 customers;	/* profile keys read */
	uint64_t	 records;	/* CSV rows written */
	uint64_t	 malformed;	/* lines skipped */
};

/* Print the usage line; returns CMD_BAD_INPUT. */
static int
consent_usage(void)
{
	fprintf(stderr, "usage: pacer consent export [-c FILE]\n");
	return CMD_BAD_INPUT;
}

/* Write s as one CSV cell, quoted when it holds a comma, quote or newline. */
static void
consent_cell(FILE *out, const char *s, size_t n)
{
	if (strcspn(s, ",\"\r\n") >= n) {
		fwrite(s, 1, n, out);
		return;
	}
	fputc('"', out);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			fputc('"', out);
		fputc(s[i], out);
	}
	fputc('"', out);
}

/*
 * Write the rows of one channel's records (text, borrowed) of customer id
 * (n bytes); lines that do not parse are counted, not written.
 */
static void
consent_rows(FILE *out, const char *id, size_t n, const char *channel,
    const char *text, struct consent_totals *tot)
{
	while (*text != '\0') {
		const char	*end = strchr(text, '\n');
		const char	*bar[3];
		size_t		 len = end ? (size_t)(end - text) : strlen(text);
		int		 k = 0;

		for (const char *p = text; p < text + len && k < 3; p++)
			if (*p == '|')
				bar[k++] = p;
		if (k < 3 || bar[0] == text || bar[1] != bar[0] + 2 ||
		    (bar[0][1] != '0' && bar[0][1] != '1')) {
			tot->malformed++;
		} else {
			consent_cell(out, id, n);
			fprintf(out, ",%s,%s,", channel, bar[0][1] == '1' ?
			    "true" : "false");
			consent_cell(out, bar[1] + 1, (size_t)(bar[2] - bar[1] - 1));
			fputc(',', out);
			consent_cell(out, text, (size_t)(bar[0] - text));
			fputc(',', out);
			consent_cell(out, bar[2] + 1, (size_t)(text + len - bar[2] - 1));
			fputc('\n', out);
			tot->records++;
		}
		text = end ? end + 1 : text + len;
	}
}

/*
 * The customer id of a profile key "PREFIX:{ID}:p" into *id (borrowed from
 * key) and *n; 0, or -1 when the key has another shape.
 */
static int
consent_key_id(const struct conf *conf, const char *key, size_t len,
    const char **id, size_t *n)
{
	size_t	 pl = strlen(conf->redis.prefix);

	if (len < pl + 6 || strncmp(key, conf->redis.prefix, pl) != 0 ||
	    strncmp(key + pl, ":{", 2) != 0 || strcmp(key + len - 3, "}:p") != 0)
		return -1;
	*id = key + pl + 2;
	*n = len - pl - 5;
	return 0;
}

/*
 * Read the records of the profile keys of one SCAN step (keys, borrowed)
 * with one pipelined HMGET each and write their rows; 0, or -1 with *cause.
 */
static int
consent_batch(struct cmd_redis *ctx, const struct conf *conf,
    const redisReply *keys, FILE *out, struct consent_totals *tot,
    char **cause)
{
	const char	*argv[CONF_MAX_CHANNELS + 2], *id;
	char		 field[CONF_MAX_CHANNELS][CONF_NAME_MAX + 4];
	redisReply	*r = NULL;
	size_t		 n;
	int		 nch = conf->nchannels;

	argv[0] = "HMGET";
	for (int ch = 0; ch < nch; ch++) {
		snprintf(field[ch], sizeof field[ch], "cr:%s", conf->channels[ch].name);
		argv[ch + 2] = field[ch];
	}
	for (size_t i = 0; i < keys->elements; i++) {
		argv[1] = keys->element[i]->str;
		if (cmd_redis_append(ctx, nch + 2, argv, NULL, cause) != 0)
			return -1;
	}
	for (size_t i = 0; i < keys->elements; i++) {
		if (cmd_redis_reply(ctx, &r, cause) != 0)
			return -1;
		if (r->type == REDIS_REPLY_ERROR) {
			*cause = str_printf("redis: HMGET %s: %s",
			    keys->element[i]->str, r->str);
			freeReplyObject(r);
			return -1;
		}
		tot->customers++;
		if (r->type == REDIS_REPLY_ARRAY && r->elements == (size_t)nch &&
		    consent_key_id(conf, keys->element[i]->str,
		    keys->element[i]->len, &id, &n) == 0) {
			for (int ch = 0; ch < nch; ch++) {
				const char *v = cmd_reply_str(r->element[ch]);

				if (v != NULL)
					consent_rows(out, id, n,
					    conf->channels[ch].name, v, tot);
			}
		}
		freeReplyObject(r);
		r = NULL;
	}
	return 0;
}

/* The SCAN pattern of every profile key: "PREFIX:{*}:p", prefix escaped. */
static char *
consent_pattern(const struct conf *conf)
{
	const char	*p = conf->redis.prefix;
	char		*pat, *o;

	if ((pat = malloc(2 * strlen(p) + 8)) == NULL)
		return NULL;
	for (o = pat; *p != '\0'; p++) {
		if (strchr("*?[]\\", *p) != NULL)
			*o++ = '\\';
		*o++ = *p;
	}
	memcpy(o, ":{*}:p", 7);
	return pat;
}

/*
 * Walk every profile key with SCAN and write the CSV to out; CMD_OK, or
 * CMD_NO_SERVICE with *cause.
 */
static int
consent_export(struct cmd_redis *ctx, const struct conf *conf, FILE *out,
    char **cause)
{
	struct consent_totals	 tot = { 0, 0, 0 };
	struct cmd_progress	 prog = { 0, 0 };
	char			 cursor[32] = "0", *pat;
	const char		*argv[6];
	redisReply		*r;
	int			 rc = CMD_NO_SERVICE;

	if ((pat = consent_pattern(conf)) == NULL) {
		*cause = strdup("out of memory");
		return rc;
	}
	fputs("customer,channel,granted,source,at,by\n", out);
	/* SCAN walks one server: on a cluster, each master in turn. */
	for (int node = 0; node < cmd_redis_nodes(ctx); node++) {
		snprintf(cursor, sizeof cursor, "0");
		do {
			argv[0] = "SCAN";
			argv[1] = cursor;
			argv[2] = "MATCH";
			argv[3] = pat;
			argv[4] = "COUNT";
			argv[5] = CONSENT_SCAN_COUNT;
			r = cmd_redis_command_on(ctx, node, 6, argv, cause);
			if (r == NULL)
				goto done;
			if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
			    cmd_reply_str(r->element[0]) == NULL ||
			    r->element[1]->type != REDIS_REPLY_ARRAY) {
				*cause = strdup("redis: SCAN: unexpected reply");
				freeReplyObject(r);
				goto done;
			}
			snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
			if (consent_batch(ctx, conf, r->element[1], out, &tot,
			    cause) != 0) {
				freeReplyObject(r);
				goto done;
			}
			freeReplyObject(r);
			if (cmd_progress_due(&prog))
				cmd_progress_line(&prog, "consent", "customers read",
				    tot.customers, 0);
		} while (strcmp(cursor, "0") != 0);
	}
	if (fflush(out) != 0) {
		*cause = strdup("stdout: write failed");
		rc = CMD_BAD_INPUT;
		goto done;
	}
	cmd_log("consent", "%llu consent records of %llu customers exported",
	    (unsigned long long)tot.records, (unsigned long long)tot.customers);
	if (tot.malformed)
		cmd_log("consent", "%llu malformed records skipped",
		    (unsigned long long)tot.malformed);
	rc = CMD_OK;
done:
	free(pat);
	return rc;
}

/* pacer consent export [-c FILE]. */
int
cmd_consent(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*conf_path = "conf/pacer.conf";
	struct conf	*conf = NULL;
	struct cmd_redis *ctx = NULL;
	char		*cause = NULL;
	int		 ch, rc = CMD_BAD_INPUT;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		if (ch == 'c')
			conf_path = optarg;
		else
			return consent_usage();
	}
	if (optind + 1 != argc || strcmp(argv[optind], "export") != 0)
		return consent_usage();
	if ((conf = conf_load(conf_path, &cause)) == NULL)
		goto fail;
	if ((ctx = cmd_redis_connect(conf, &cause)) == NULL) {
		rc = CMD_NO_SERVICE;
		goto fail;
	}
	if ((rc = consent_export(ctx, conf, stdout, &cause)) != CMD_OK)
		goto fail;
	goto done;
fail:
	cmd_log("consent", "%s", cause ? cause : "out of memory");
done:
	free(cause);
	cmd_redis_free(ctx);
	conf_free(conf);
	return rc;
}
