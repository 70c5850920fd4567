/*
 * Unit tests for solver/model/conf.c: the example configuration, every error
 * path with its "file:line: message", defaults and the value parsers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pacer/conf.h"

/* Parse text named "t.conf"; fails the test unless it parses. */
static struct conf *
load_ok(const char *text)
{
	char		*cause = NULL;
	struct conf	*c = conf_load_string(text, "t.conf", &cause);

	if (c == NULL)
		fail_msg("unexpected error: %s", cause);
	assert_null(cause);
	return c;
}

/* Parse text named "t.conf" and check it fails with exactly want. */
static void
expect_error(const char *text, const char *want)
{
	char		*cause = NULL;
	struct conf	*c = conf_load_string(text, "t.conf", &cause);

	if (c != NULL) {
		conf_free(c);
		fail_msg("parsed, but expected \"%s\" for:\n%s", want, text);
	}
	assert_non_null(cause);
	assert_string_equal(cause, want);
	free(cause);
}

/* The path of a file in the source tree. */
static void
source_path(char *buf, size_t len, const char *rel)
{
	const char	*dir = getenv("PACER_SOURCE_DIR");

	snprintf(buf, len, "%s/%s", dir != NULL ? dir : ".", rel);
}

/*
 * conf/pacer.conf parses and every value lands where expected. Long on
 * purpose: one assertion per documented value, in the file's order.
 */
static void
test_example(void **state)
{
	char		 path[1024], dir[1024], want[2048], *cause = NULL;
	struct conf	*c;
	int		 e, s, p;

	(void)state;
	source_path(path, sizeof path, "conf/pacer.conf");
	source_path(want, sizeof want, "conf");
	assert_non_null(realpath(want, dir));
	c = conf_load(path, &cause);
	if (c == NULL)
		fail_msg("%s", cause);
	assert_string_equal(c->path, path);
	assert_string_equal(c->server.listen_host, "127.0.0.1");
	assert_int_equal(c->server.listen_port, 8425);
	assert_int_equal(c->server.max_body_bytes, 65536);
	assert_null(c->server.tokens_file);
	assert_int_equal(c->server.allow_client_time, 0);
	assert_int_equal(c->server.max_connections, 4096);
	assert_string_equal(c->redis.host, "127.0.0.1");
	assert_int_equal(c->redis.port, 6379);
	assert_null(c->redis.password);
	assert_string_equal(c->redis.prefix, "pacer");
	assert_int_equal(c->redis.timeout_ms, 50);
	assert_int_equal(c->consent_default_allow, 0);

	assert_int_equal(c->nchannels, 3);
	e = conf_channel_index(c, "email");
	s = conf_channel_index(c, "sms");
	p = conf_channel_index(c, "push");
	assert_int_equal(e, 0);
	assert_int_equal(s, 1);
	assert_int_equal(p, 2);
	assert_int_equal(conf_channel_index(c, "fax"), -1);
	assert_int_equal(c->channels[e].ncaps, 2);
	assert_int_equal(c->channels[e].caps[0].limit, 3);
	assert_int_equal(c->channels[e].caps[0].window, 7 * 86400);
	assert_string_equal(c->channels[e].caps[0].text, "email 3/7d");
	assert_int_equal(c->channels[e].caps[1].limit, 1);
	assert_int_equal(c->channels[e].caps[1].window, 86400);
	assert_string_equal(c->channels[e].caps[1].text, "email 1/1d");
	assert_int_equal(c->channels[e].quiet_start, 21 * 60);
	assert_int_equal(c->channels[e].quiet_end, 8 * 60);
	assert_int_equal(c->channels[e].on_store_failure, CONF_FAIL_DENY);
	assert_int_equal(c->channels[s].ncaps, 1);
	assert_string_equal(c->channels[s].caps[0].text, "sms 1/1d");
	assert_int_equal(c->channels[s].quiet_start, 20 * 60);
	assert_int_equal(c->channels[s].quiet_end, 9 * 60);
	assert_int_equal(c->channels[s].on_store_failure, CONF_FAIL_DENY);
	assert_int_equal(c->channels[p].ncaps, 1);
	assert_int_equal(c->channels[p].caps[0].limit, 2);
	assert_int_equal(c->channels[p].caps[0].window, 86400);
	assert_int_equal(c->channels[p].quiet_start, -1);
	assert_int_equal(c->channels[p].quiet_end, -1);
	assert_int_equal(c->channels[p].on_store_failure, CONF_FAIL_ALLOW);

	assert_int_equal(c->nall_caps, 1);
	assert_int_equal(c->all_caps[0].limit, 5);
	assert_int_equal(c->all_caps[0].window, 7 * 86400);
	assert_string_equal(c->all_caps[0].text, "all 5/7d");
	assert_int_equal(c->ncampaign_caps, 1);
	assert_int_equal(c->campaign_caps[0].limit, 1);
	assert_int_equal(c->campaign_caps[0].window, 86400);
	assert_string_equal(c->campaign_caps[0].text, "campaign 1/1d");

	assert_int_equal(c->nsegments, 1);
	assert_int_equal(conf_segment_index(c, "vulnerable"), 0);
	assert_int_equal(conf_segment_index(c, "other"), -1);
	assert_int_equal(c->segments[0].ncaps, 1);
	assert_int_equal(c->segments[0].caps[0].limit, 1);
	assert_int_equal(c->segments[0].caps[0].window, 7 * 86400);
	assert_string_equal(c->segments[0].caps[0].text, "segment vulnerable 1/7d");
	assert_int_equal(c->segments[0].nexclude, 1);
	assert_string_equal(c->segments[0].exclude[0], "credit");

	assert_int_equal(c->nshadow, 1);
	assert_int_equal(c->shadow[0].channel, e);
	assert_int_equal(c->shadow[0].cap.limit, 2);
	assert_int_equal(c->shadow[0].cap.window, 7 * 86400);
	assert_string_equal(c->shadow[0].cap.text, "shadow email 2/7d");

	snprintf(want, sizeof want, "%s/offers.csv", dir);
	assert_string_equal(c->optimizer.offers, want);
	snprintf(want, sizeof want, "%s/../data/scores.csv", dir);
	assert_string_equal(c->optimizer.scores, want);
	assert_int_equal(c->optimizer.run_at, 120);
	assert_int_equal(c->optimizer.every, 0);
	assert_int_equal(c->optimizer.horizon, 86400);
	assert_int_equal(c->optimizer.max_offers_per_customer, 4);
	assert_int_equal(c->optimizer.time_limit_s, 600);
	assert_float_equal(c->optimizer.gap, 0.001, 1e-12);
	snprintf(want, sizeof want, "%s/../reports", dir);
	assert_string_equal(c->optimizer.out_dir, want);
	assert_int_equal(c->optimizer.auto_publish, 0);
	assert_float_equal(c->optimizer.holdout, 0.05, 1e-12);
	assert_int_equal(c->optimizer.enforce_plan, 1);

	assert_int_equal(conf_longest_window(c), 7 * 86400);
	conf_free(c);
}

/* With only a channel, every key takes its documented default. */
static void
test_defaults(void **state)
{
	struct conf	*c = load_ok("[channel email]\n");

	(void)state;
	assert_int_equal(c->nchannels, 1);
	assert_string_equal(c->channels[0].name, "email");
	assert_int_equal(c->channels[0].ncaps, 0);
	assert_int_equal(c->channels[0].quiet_start, -1);
	assert_int_equal(c->channels[0].quiet_end, -1);
	assert_int_equal(c->channels[0].on_store_failure, CONF_FAIL_DENY);
	assert_string_equal(c->path, "t.conf");
	assert_string_equal(c->server.listen_host, "127.0.0.1");
	assert_int_equal(c->server.listen_port, 8425);
	assert_int_equal(c->server.max_body_bytes, 65536);
	assert_null(c->server.tokens_file);
	assert_int_equal(c->server.allow_client_time, 0);
	assert_int_equal(c->server.max_connections, 4096);
	assert_string_equal(c->redis.host, "127.0.0.1");
	assert_int_equal(c->redis.port, 6379);
	assert_null(c->redis.password);
	assert_string_equal(c->redis.prefix, "pacer");
	assert_int_equal(c->redis.timeout_ms, 50);
	assert_int_equal(c->consent_default_allow, 0);
	assert_int_equal(c->nall_caps, 0);
	assert_int_equal(c->ncampaign_caps, 0);
	assert_int_equal(c->nsegments, 0);
	assert_int_equal(c->nshadow, 0);
	assert_string_equal(c->optimizer.offers, "offers.csv");
	assert_string_equal(c->optimizer.scores, "scores.csv");
	assert_int_equal(c->optimizer.run_at, -1);
	assert_int_equal(c->optimizer.every, 0);
	assert_int_equal(c->optimizer.horizon, 86400);
	assert_int_equal(c->optimizer.max_offers_per_customer, 4);
	assert_int_equal(c->optimizer.time_limit_s, 600);
	assert_float_equal(c->optimizer.gap, 0.001, 1e-12);
	assert_string_equal(c->optimizer.out_dir, "reports");
	assert_int_equal(c->optimizer.auto_publish, 0);
	assert_float_equal(c->optimizer.holdout, 0.0, 0.0);
	assert_int_equal(c->optimizer.enforce_plan, 0);
	assert_int_equal(conf_longest_window(c), 0);
	conf_free(c);
}

/* Values of every type land in their fields; optional keys can be set. */
static void
test_values(void **state)
{
	struct conf	*c;

	(void)state;
	c = load_ok("[server]\n"
	    "listen = 0.0.0.0:0\n"
	    "max_body_bytes = 256\n"
	    "tokens_file = conf/tokens\n"
	    "allow_client_time = yes\n"
	    "max_connections = 100000\n"
	    "[redis]\n"
	    "host = redis.local\n"
	    "port = 65535\n"
	    "password = s3cret\n"
	    "prefix = p.x-1_\n"
	    "timeout_ms = 60000\n"
	    "[consent]\n"
	    "default = allow\n"
	    "[channel email]\n"
	    "quiet_hours = 01:00-05:30\n"
	    "[optimizer]\n"
	    "every = 6h\n"
	    "horizon = 2w\n"
	    "gap = 0.5\n"
	    "holdout = 0.99\n"
	    "auto_publish = on\n"
	    "enforce_plan = 1\n"
	    "max_offers_per_customer = 1000\n"
	    "time_limit_s = 1\n");
	assert_string_equal(c->server.listen_host, "0.0.0.0");
	assert_int_equal(c->server.listen_port, 0);
	assert_int_equal(c->server.max_body_bytes, 256);
	assert_string_equal(c->server.tokens_file, "conf/tokens");
	assert_int_equal(c->server.allow_client_time, 1);
	assert_int_equal(c->server.max_connections, 100000);
	assert_string_equal(c->redis.host, "redis.local");
	assert_int_equal(c->redis.port, 65535);
	assert_string_equal(c->redis.password, "s3cret");
	assert_string_equal(c->redis.prefix, "p.x-1_");
	assert_int_equal(c->redis.timeout_ms, 60000);
	assert_int_equal(c->consent_default_allow, 1);
	assert_int_equal(c->channels[0].quiet_start, 60);
	assert_int_equal(c->channels[0].quiet_end, 5 * 60 + 30);
	assert_int_equal(c->optimizer.run_at, -1);
	assert_int_equal(c->optimizer.every, 6 * 3600);
	assert_int_equal(c->optimizer.horizon, 14 * 86400);
	assert_float_equal(c->optimizer.gap, 0.5, 0);
	assert_float_equal(c->optimizer.holdout, 0.99, 0);
	assert_int_equal(c->optimizer.auto_publish, 1);
	assert_int_equal(c->optimizer.enforce_plan, 1);
	assert_int_equal(c->optimizer.max_offers_per_customer, 1000);
	assert_int_equal(c->optimizer.time_limit_s, 1);
	conf_free(c);

	/* Empty optional values mean "none". */
	c = load_ok("[server]\ntokens_file =\n[redis]\npassword =\n"
	    "[channel sms]\nquiet_hours =\n[optimizer]\nrun_at =\nevery =\n");
	assert_null(c->server.tokens_file);
	assert_null(c->redis.password);
	assert_int_equal(c->channels[0].quiet_start, -1);
	assert_int_equal(c->optimizer.run_at, -1);
	assert_int_equal(c->optimizer.every, 0);
	conf_free(c);

	/* run_at with an empty every (or the reverse) is no contradiction. */
	c = load_ok("[channel e]\n[optimizer]\nrun_at = 23:59\nevery =\n");
	assert_int_equal(c->optimizer.run_at, 23 * 60 + 59);
	conf_free(c);
}

/* Syntax details: comments, CRLF, a byte order mark, blank lines. */
static void
test_syntax_ok(void **state)
{
	struct conf	*c;

	(void)state;
	c = load_ok("\xEF\xBB\xBF[channel email]\r\n"
	    "; a comment\r\n"
	    "# another comment\r\n"
	    "\r\n"
	    "  cap = 3/7d   ; trailing comment\r\n"
	    "cap=1/1d\r\n"
	    "[channel sms]\r\n"
	    "[segment quiet.ones-2]\r\n"
	    "exclude_offers = credit, loans,travel\r\n");
	assert_int_equal(c->nchannels, 2);
	assert_int_equal(c->channels[0].ncaps, 2);
	assert_int_equal(c->channels[0].caps[0].limit, 3);
	assert_int_equal(c->channels[0].caps[1].window, 86400);
	/* A channel section without keys still declares the channel. */
	assert_int_equal(conf_channel_index(c, "sms"), 1);
	assert_int_equal(c->channels[1].ncaps, 0);
	assert_int_equal(c->nsegments, 1);
	assert_int_equal(c->segments[0].nexclude, 3);
	assert_string_equal(c->segments[0].exclude[0], "credit");
	assert_string_equal(c->segments[0].exclude[1], "loans");
	assert_string_equal(c->segments[0].exclude[2], "travel");
	conf_free(c);

	/* A section may be reopened; its caps accumulate. */
	c = load_ok("[channel email]\ncap = 1/1d\n[all]\ncap = 5/7d\n"
	    "[channel email]\ncap = 3/7d\n[all]\ncap = 9/30d\n");
	assert_int_equal(c->nchannels, 1);
	assert_int_equal(c->channels[0].ncaps, 2);
	assert_int_equal(c->nall_caps, 2);
	assert_int_equal(conf_longest_window(c), 30 * 86400);
	conf_free(c);

	/* Eight caps per section are allowed, and a limit of 0 too. */
	c = load_ok("[channel e]\ncap = 0/1s\ncap = 1/2s\ncap = 1/3s\ncap = 1/4s\n"
	    "cap = 1/5s\ncap = 1/6s\ncap = 1/7s\ncap = 1/8s\n");
	assert_int_equal(c->channels[0].ncaps, 8);
	assert_int_equal(c->channels[0].caps[0].limit, 0);
	assert_string_equal(c->channels[0].caps[7].text, "e 1/8s");
	conf_free(c);
}

/* Unknown sections, keys, and keys outside any section. */
static void
test_error_unknown(void **state)
{
	(void)state;
	expect_error("[channel email]\n[bogus]\nx = 1\n",
	    "t.conf:2: unknown section [bogus]");
	/* Even without keys. */
	expect_error("[channel email]\n\n[bogus]\n",
	    "t.conf:3: unknown section [bogus]");
	expect_error("[channel email]\n[server ]\n",
	    "t.conf:2: unknown section [server ]");
	expect_error("[channel]\ncap = 1/1d\n", "t.conf:1: unknown section [channel]");
	expect_error("[widget email]\n", "t.conf:1: unknown section [widget email]");
	expect_error("[server]\nlisten = 1.2.3.4:5\nfoo = 1\n",
	    "t.conf:3: unknown key \"foo\" in [server]");
	expect_error("[redis]\nhostname = x\n",
	    "t.conf:2: unknown key \"hostname\" in [redis]");
	expect_error("[consent]\nemail = allow\n",
	    "t.conf:2: unknown key \"email\" in [consent]");
	expect_error("[optimizer]\nrun_every = 6h\n",
	    "t.conf:2: unknown key \"run_every\" in [optimizer]");
	expect_error("[channel email]\ncap = 1/1d\nquiet = 21:00-08:00\n",
	    "t.conf:3: unknown key \"quiet\" in [channel email]");
	expect_error("[segment vip]\ncaps = 1/1d\n",
	    "t.conf:2: unknown key \"caps\" in [segment vip]");
	expect_error("[all]\nlimit = 1/1d\n", "t.conf:2: unknown key \"limit\" in [all]");
	expect_error("[campaign]\nCap = 1/1d\n",
	    "t.conf:2: unknown key \"Cap\" in [campaign]");
	expect_error("[shadow]\nlimit = email 1/1d\n",
	    "t.conf:2: unknown key \"limit\" in [shadow]");
	expect_error("; top\ncap = 1/1d\n[channel email]\n",
	    "t.conf:2: \"cap\" is outside any section");
}

/* Lines inih cannot read as a section or a key = value. */
static void
test_error_syntax(void **state)
{
	char	 text[512];

	(void)state;
	expect_error("[channel email]\ncap 1/1d\n",
	    "t.conf:2: syntax error: expected [section] or key = value");
	expect_error("[channel email\ncap = 1/1d\n",
	    "t.conf:1: syntax error: expected [section] or key = value");
	expect_error("[channel email]\ncap = 1/1d\n  indented continuation\n",
	    "t.conf:3: syntax error: expected [section] or key = value");
	/* The longest line that fits: 198 bytes and its newline. */
	snprintf(text, sizeof text, "[channel email]\ncap = 1/1d ;%0186d\n[x]\n", 0);
	expect_error(text, "t.conf:3: unknown section [x]");
	snprintf(text, sizeof text, "[channel email]\ncap = 1/1d ;%0187d\n[x]\n", 0);
	expect_error(text, "t.conf:2: line longer than 198 bytes");
	/* A line longer than inih's buffer is an error, not two lines. */
	snprintf(text, sizeof text, "[channel email]\ncap = 1/1d ; %0300d\ncap = 2/2d\n", 0);
	expect_error(text, "t.conf:2: line longer than 198 bytes");
	snprintf(text, sizeof text, "[channel email]\n; %0300d\n[bogus]\n", 0);
	expect_error(text, "t.conf:2: line longer than 198 bytes");
}

/* Malformed durations, caps, clocks, booleans and numbers. */
static void
test_error_malformed(void **state)
{
	(void)state;
	expect_error("[optimizer]\nhorizon = 7x\n",
	    "t.conf:2: horizon: \"7x\" is not a duration (like 30s, 15m, 6h, 7d, 2w)");
	expect_error("[optimizer]\nhorizon = 7\n",
	    "t.conf:2: horizon: \"7\" is not a duration (like 30s, 15m, 6h, 7d, 2w)");
	expect_error("[optimizer]\nevery = 0h\n",
	    "t.conf:2: every: \"0h\" is not a duration (like 30s, 15m, 6h, 7d, 2w)");
	expect_error("[optimizer]\nhorizon =\n",
	    "t.conf:2: horizon: \"\" is not a duration (like 30s, 15m, 6h, 7d, 2w)");
	expect_error("[channel email]\ncap = 3/7\n",
	    "t.conf:2: cap: \"3/7\" is not N/DURATION (like 3/7d)");
	expect_error("[channel email]\ncap = 3\n",
	    "t.conf:2: cap: \"3\" is not N/DURATION (like 3/7d)");
	expect_error("[channel email]\ncap = -1/7d\n",
	    "t.conf:2: cap: \"-1/7d\" is not N/DURATION (like 3/7d)");
	expect_error("[channel email]\ncap = 1/0d\n",
	    "t.conf:2: cap: \"1/0d\" is not N/DURATION (like 3/7d)");
	expect_error("[all]\ncap = three/7d\n",
	    "t.conf:2: cap: \"three/7d\" is not N/DURATION (like 3/7d)");
	expect_error("[campaign]\ncap = 1/1d extra\n",
	    "t.conf:2: cap: \"1/1d extra\" is not N/DURATION (like 3/7d)");
	expect_error("[segment v]\ncap = 1/\n",
	    "t.conf:2: cap: \"1/\" is not N/DURATION (like 3/7d)");
	expect_error("[optimizer]\nrun_at = 24:00\n",
	    "t.conf:2: run_at: \"24:00\" is not a time HH:MM");
	expect_error("[optimizer]\nrun_at = 2:00\n",
	    "t.conf:2: run_at: \"2:00\" is not a time HH:MM");
	expect_error("[channel email]\nquiet_hours = 21:00\n",
	    "t.conf:2: quiet_hours: \"21:00\" is not HH:MM-HH:MM");
	expect_error("[channel email]\nquiet_hours = 21:00-8:00\n",
	    "t.conf:2: quiet_hours: \"21:00-8:00\" is not HH:MM-HH:MM");
	expect_error("[channel email]\nquiet_hours = 21:00-08:60\n",
	    "t.conf:2: quiet_hours: \"21:00-08:60\" is not HH:MM-HH:MM");
	expect_error("[channel email]\nquiet_hours = 21:00-08:00 daily\n",
	    "t.conf:2: quiet_hours: \"21:00-08:00 daily\" is not HH:MM-HH:MM");
	expect_error("[server]\nallow_client_time = maybe\n",
	    "t.conf:2: allow_client_time: \"maybe\" is not true or false");
	expect_error("[optimizer]\nauto_publish = TRUE\n",
	    "t.conf:2: auto_publish: \"TRUE\" is not true or false");
	expect_error("[consent]\ndefault = yes\n",
	    "t.conf:2: default: \"yes\" is not allow or deny");
	expect_error("[channel email]\non_store_failure = retry\n",
	    "t.conf:2: on_store_failure: \"retry\" is not deny or allow");
	expect_error("[server]\nmax_body_bytes = 64k\n",
	    "t.conf:2: max_body_bytes: \"64k\" is not a whole number");
	expect_error("[redis]\nport = \n",
	    "t.conf:2: port: \"\" is not a whole number");
	expect_error("[redis]\nport = 99999999999999999999\n",
	    "t.conf:2: port: \"99999999999999999999\" is not a whole number");
	expect_error("[redis]\ntimeout_ms = 1.5\n",
	    "t.conf:2: timeout_ms: \"1.5\" is not a whole number");
	expect_error("[optimizer]\ngap = small\n",
	    "t.conf:2: gap: \"small\" is not a number");
	expect_error("[optimizer]\ngap = nan\n", "t.conf:2: gap: \"nan\" is not a number");
	expect_error("[optimizer]\nholdout = 1e999\n",
	    "t.conf:2: holdout: \"1e999\" is not a number");
	expect_error("[server]\nlisten = 8425\n",
	    "t.conf:2: listen: \"8425\" is not host:port");
	expect_error("[server]\nlisten = :8425\n",
	    "t.conf:2: listen: \":8425\" is not host:port");
	expect_error("[server]\nlisten = localhost:\n",
	    "t.conf:2: listen: bad port in \"localhost:\"");
	expect_error("[server]\nlisten = localhost:65536\n",
	    "t.conf:2: listen: bad port in \"localhost:65536\"");
	expect_error("[server]\nlisten = localhost:-1\n",
	    "t.conf:2: listen: bad port in \"localhost:-1\"");
	expect_error("[server]\nlisten = localhost:80x\n",
	    "t.conf:2: listen: bad port in \"localhost:80x\"");
}

/* Numbers and durations outside their bounds. */
static void
test_error_range(void **state)
{
	(void)state;
	expect_error("[server]\nmax_body_bytes = 255\n",
	    "t.conf:2: max_body_bytes: 255 is outside 256..67108864");
	expect_error("[server]\nmax_body_bytes = -1\n",
	    "t.conf:2: max_body_bytes: -1 is outside 256..67108864");
	expect_error("[server]\nmax_connections = 0\n",
	    "t.conf:2: max_connections: 0 is outside 1..100000");
	expect_error("[redis]\nport = 0\n", "t.conf:2: port: 0 is outside 1..65535");
	expect_error("[redis]\nport = 65536\n",
	    "t.conf:2: port: 65536 is outside 1..65535");
	expect_error("[redis]\ntimeout_ms = 60001\n",
	    "t.conf:2: timeout_ms: 60001 is outside 1..60000");
	expect_error("[optimizer]\nmax_offers_per_customer = 0\n",
	    "t.conf:2: max_offers_per_customer: 0 is outside 1..1000");
	expect_error("[optimizer]\ntime_limit_s = 86401\n",
	    "t.conf:2: time_limit_s: 86401 is outside 1..86400");
	expect_error("[optimizer]\ngap = 0\n", "t.conf:2: gap: 0 is outside 1e-09..0.5");
	expect_error("[optimizer]\ngap = 0.6\n", "t.conf:2: gap: 0.6 is outside 1e-09..0.5");
	expect_error("[optimizer]\nholdout = 1\n",
	    "t.conf:2: holdout: 1 is outside 0..0.99");
	expect_error("[optimizer]\nholdout = -0.1\n",
	    "t.conf:2: holdout: -0.1 is outside 0..0.99");
	expect_error("[optimizer]\nhorizon = 59s\n",
	    "t.conf:2: horizon: 59s is out of range");
	expect_error("[optimizer]\nhorizon = 367d\n",
	    "t.conf:2: horizon: 367d is out of range");
	expect_error("[optimizer]\nevery = 30s\n", "t.conf:2: every: 30s is out of range");
	expect_error("[channel email]\ncap = 1000001/1d\n",
	    "t.conf:2: cap: \"1000001/1d\" is not N/DURATION (like 3/7d)");
	expect_error("[channel email]\ncap = 1/100000001s\n",
	    "t.conf:2: cap: \"1/100000001s\" is not N/DURATION (like 3/7d)");
}

/* Keys set twice, caps that contradict, limits on counts. */
static void
test_error_duplicates(void **state)
{
	(void)state;
	expect_error("[redis]\nport = 1\nport = 2\n",
	    "t.conf:3: port: set twice in [redis]");
	expect_error("[redis]\nport = 1\n[server]\n[redis]\nport = 1\n",
	    "t.conf:5: port: set twice in [redis]");
	expect_error("[optimizer]\nhorizon = 1d\nhorizon = 1d\n",
	    "t.conf:3: horizon: set twice in [optimizer]");
	expect_error("[consent]\ndefault = deny\ndefault = allow\n",
	    "t.conf:3: default: set twice in [consent]");
	expect_error("[channel email]\nquiet_hours = 21:00-08:00\n"
	    "quiet_hours = 22:00-07:00\n",
	    "t.conf:3: quiet_hours: set twice in [channel email] (first on line 2)");
	expect_error("[channel email]\nquiet_hours = 21:00-08:00\n[channel sms]\n"
	    "[channel email]\nquiet_hours =\n",
	    "t.conf:5: quiet_hours: set twice in [channel email] (first on line 2)");
	expect_error("[channel email]\non_store_failure = deny\n"
	    "on_store_failure = allow\n",
	    "t.conf:3: on_store_failure: set twice in [channel email] "
	    "(first on line 2)");
	expect_error("[channel email]\ncap = 3/7d\ncap = 2/1w\n",
	    "t.conf:3: cap: two caps with the same window (2/1w) contradict each other");
	expect_error("[channel email]\ncap = 3/7d\n[channel email]\ncap = 3/168h\n",
	    "t.conf:4: cap: two caps with the same window (3/168h) contradict each "
	    "other");
	expect_error("[all]\ncap = 5/7d\ncap = 1/7d\n",
	    "t.conf:3: cap: two caps with the same window (1/7d) contradict each other");
	expect_error("[campaign]\ncap = 1/1d\ncap = 1/24h\n",
	    "t.conf:3: cap: two caps with the same window (1/24h) contradict each "
	    "other");
	expect_error("[segment vulnerable]\ncap = 1/7d\ncap = 2/7d\n",
	    "t.conf:3: cap: two caps with the same window (2/7d) contradict each "
	    "other");
	expect_error("[channel e]\ncap = 1/1s\ncap = 1/2s\ncap = 1/3s\ncap = 1/4s\n"
	    "cap = 1/5s\ncap = 1/6s\ncap = 1/7s\ncap = 1/8s\ncap = 1/9s\n",
	    "t.conf:10: cap: more than 8 caps in one section");
	expect_error("[channel c1]\n[channel c2]\n[channel c3]\n[channel c4]\n"
	    "[channel c5]\n[channel c6]\n[channel c7]\n[channel c8]\n[channel c9]\n"
	    "[channel c10]\n[channel c11]\n[channel c12]\n[channel c13]\n"
	    "[channel c14]\n[channel c15]\n[channel c16]\n[channel c17]\n",
	    "t.conf:17: too many channels (at most 16)");
	expect_error("[channel e]\n[segment v]\nexclude_offers = a,b,c,d,e,f,g,h,"
	    "i,j,k,l,m,n,o,p,q\n",
	    "t.conf:3: exclude_offers: more than 16 categories");
}

/* Contradictions found once the whole file is read. */
static void
test_error_contradictions(void **state)
{
	struct conf	*c;

	(void)state;
	expect_error("[channel email]\nquiet_hours = 08:00-08:00\n",
	    "t.conf:2: quiet_hours: \"08:00-08:00\" starts and ends at the same minute");
	expect_error("[channel email]\ncap = 1/1d\n[shadow]\ncap = fax 1/1d\n",
	    "t.conf:4: cap: shadow cap names unknown channel \"fax\"");
	/* The channel is resolved at the end: names declared anywhere. */
	expect_error("[shadow]\ncap = sms 1/1d\ncap = fax 2/1d\n[channel sms]\n",
	    "t.conf:3: cap: shadow cap names unknown channel \"fax\"");
	c = load_ok("[shadow]\ncap = sms 1/1d\ncap = 4/7d\n[channel email]\n"
	    "[channel sms]\n");
	assert_int_equal(c->nshadow, 2);
	assert_int_equal(c->shadow[0].channel, 1);
	assert_string_equal(c->shadow[0].cap.text, "shadow sms 1/1d");
	assert_int_equal(c->shadow[1].channel, -1);
	assert_string_equal(c->shadow[1].cap.text, "shadow all 4/7d");
	assert_int_equal(conf_longest_window(c), 7 * 86400);
	conf_free(c);
	expect_error("[channel email]\n[shadow]\ncap = email\n",
	    "t.conf:3: cap: \"email\" is not [CHANNEL] N/DURATION");
	expect_error("[channel email]\n[shadow]\ncap = email 2/7x\n",
	    "t.conf:3: cap: \"email 2/7x\" is not [CHANNEL] N/DURATION");
	expect_error("[channel email]\n[shadow]\ncap = email 2/7d now\n",
	    "t.conf:3: cap: \"email 2/7d now\" is not [CHANNEL] N/DURATION");
	expect_error("[channel email]\n[shadow]\ncap =\n",
	    "t.conf:3: cap: \"\" is not [CHANNEL] N/DURATION");
	expect_error("[channel email]\n[optimizer]\nrun_at = 02:00\nhorizon = 1d\n"
	    "every = 6h\n",
	    "t.conf:5: every: run_at and every contradict each other; set one");
	expect_error("[channel email]\n[optimizer]\nevery = 6h\nrun_at = 02:00\n",
	    "t.conf:3: every: run_at and every contradict each other; set one");
	expect_error("[server]\nlisten = 127.0.0.1:1\n",
	    "t.conf:2: no [channel NAME] section: at least one channel is needed");
	expect_error("", "t.conf:0: no [channel NAME] section: at least one channel "
	    "is needed");
	expect_error("[channel e]\n[redis]\nprefix = a b\n",
	    "t.conf:3: prefix: must be letters, digits, \"_.-\"");
	expect_error("[channel e]\n[redis]\nprefix =\n",
	    "t.conf:3: prefix: must not be empty");
	expect_error("[channel e]\n[redis]\nhost =\n", "t.conf:3: host: must not be empty");
	expect_error("[channel e]\n[optimizer]\noffers =\n",
	    "t.conf:3: offers: must not be empty");
}

/* Channel, segment and category names. */
static void
test_error_names(void **state)
{
	char	 text[256];

	(void)state;
	expect_error("[channel e/mail]\n", "t.conf:1: [channel e/mail]: bad channel name");
	expect_error("[channel email sms]\ncap = 1/1d\n",
	    "t.conf:1: [channel email sms]: bad channel name");
	expect_error("[channel all]\ncap = 1/1d\n",
	    "t.conf:1: [channel all]: \"all\" is reserved");
	expect_error("[segment a;b]\n", "t.conf:1: [segment a;b]: bad segment name");
	expect_error("[channel e]\n[segment vip]\nexclude_offers = credit, cr$dit\n",
	    "t.conf:3: exclude_offers: bad category \"cr$dit\"");
	/* 63 bytes is the longest name; 64 is too long, also past inih's 50. */
	snprintf(text, sizeof text, "[channel %063d]\n", 0);
	{
		struct conf *c = load_ok(text);

		assert_int_equal(strlen(c->channels[0].name), 63);
		conf_free(c);
	}
	snprintf(text, sizeof text, "[channel %064d]\ncap = 1/1d\n", 0);
	{
		char	 want[256];

		snprintf(want, sizeof want, "t.conf:1: [channel %064d]: bad channel "
		    "name", 0);
		expect_error(text, want);
	}
}

/* conf_load: a missing file and a directory exit with a message. */
static void
test_load_file_errors(void **state)
{
	char		*cause = NULL, path[1024], want[1100];
	struct conf	*c;

	(void)state;
	c = conf_load("/nonexistent/pacer.conf", &cause);
	assert_null(c);
	assert_string_equal(cause, "/nonexistent/pacer.conf:0: cannot open: "
	    "No such file or directory");
	free(cause);
	cause = NULL;

	source_path(path, sizeof path, "conf");
	c = conf_load(path, &cause);
	assert_null(c);
	snprintf(want, sizeof want, "%s:0: cannot read the file", path);
	assert_string_equal(cause, want);
	free(cause);
	conf_free(NULL);
}

/* Write text to a temporary file and load it with conf_load. */
static struct conf *
load_file(const char *text, char *path, size_t len, char **cause)
{
	FILE		*fp;
	struct conf	*c;
	int		 fd;

	snprintf(path, len, "/tmp/pacer-conf-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	c = conf_load(path, cause);
	unlink(path);
	return c;
}

/* The file reader counts lines and refuses long ones like the string one. */
static void
test_load_file_lines(void **state)
{
	char		 text[1024], path[64], want[256], *cause = NULL;
	struct conf	*c;

	(void)state;
	c = load_file("\xEF\xBB\xBF[channel email]\r\ncap = 3/7d\r\n[channel sms]",
	    path, sizeof path, &cause);
	assert_non_null(c);
	assert_int_equal(c->nchannels, 2);
	assert_int_equal(c->channels[0].ncaps, 1);
	conf_free(c);

	snprintf(text, sizeof text, "[channel email]\ncap = 1/1d ; %0300d\n"
	    "[bogus]\n", 0);
	assert_null(load_file(text, path, sizeof path, &cause));
	snprintf(want, sizeof want, "%s:2: line longer than 198 bytes", path);
	assert_string_equal(cause, want);
	free(cause);

	/* The longest line that fits: 198 bytes and its newline. */
	snprintf(text, sizeof text, "[channel email]\ncap = 1/1d ;%0186d\n[x]\n", 0);
	assert_null(load_file(text, path, sizeof path, &cause));
	snprintf(want, sizeof want, "%s:3: unknown section [x]", path);
	assert_string_equal(cause, want);
	free(cause);
	snprintf(text, sizeof text, "[channel email]\ncap = 1/1d ;%0187d\n[x]\n", 0);
	assert_null(load_file(text, path, sizeof path, &cause));
	snprintf(want, sizeof want, "%s:2: line longer than 198 bytes", path);
	assert_string_equal(cause, want);
	free(cause);
}

/*
 * Relative paths, defaults included, are taken from the config file's
 * folder whatever the working directory; conf_check_file names the line
 * that points at a missing file.
 */
static void
test_load_file_paths(void **state)
{
	char		 path[64], want[512], *cause = NULL;
	struct conf	*c;

	(void)state;
	c = load_file("[server]\ntokens_file = sub/tokens\n[channel email]\n"
	    "[optimizer]\nscores = /abs/scores.csv\n", path, sizeof path, &cause);
	assert_non_null(c);
	assert_string_equal(c->server.tokens_file, "/tmp/sub/tokens");
	assert_string_equal(c->optimizer.scores, "/abs/scores.csv");
	assert_string_equal(c->optimizer.offers, "/tmp/offers.csv");
	assert_string_equal(c->optimizer.out_dir, "/tmp/reports");

	assert_int_equal(conf_check_file(c, "server", "tokens_file", &cause), -1);
	snprintf(want, sizeof want, "%s:2: tokens_file: cannot open "
	    "/tmp/sub/tokens: No such file or directory", path);
	assert_string_equal(cause, want);
	free(cause);
	assert_int_equal(conf_check_file(c, "optimizer", "scores", &cause), -1);
	snprintf(want, sizeof want, "%s:5: scores: cannot open /abs/scores.csv: "
	    "No such file or directory", path);
	assert_string_equal(cause, want);
	free(cause);
	/* A default names the key instead of a line. */
	free(c->optimizer.offers);
	c->optimizer.offers = strdup("/nonexistent/offers.csv");
	assert_int_equal(conf_check_file(c, "optimizer", "offers", &cause), -1);
	snprintf(want, sizeof want, "%s: [optimizer] offers (default offers.csv): "
	    "cannot open /nonexistent/offers.csv: No such file or directory", path);
	assert_string_equal(cause, want);
	free(cause);
	free(c->optimizer.offers);
	c->optimizer.offers = strdup("/dev/null");
	assert_int_equal(conf_check_file(c, "optimizer", "offers", &cause), 0);
	assert_null(cause);
	conf_free(c);

	/* From a string, relative paths stay as written. */
	c = load_ok("[server]\ntokens_file = sub/tokens\n[channel email]\n");
	assert_string_equal(c->server.tokens_file, "sub/tokens");
	conf_free(c);
}

/* conf_parse_duration: units, zero, overflow and junk. */
static void
test_parse_duration(void **state)
{
	int64_t	 s = -5;

	(void)state;
	assert_int_equal(conf_parse_duration("30s", &s), 0);
	assert_int_equal(s, 30);
	assert_int_equal(conf_parse_duration("15m", &s), 0);
	assert_int_equal(s, 900);
	assert_int_equal(conf_parse_duration("6h", &s), 0);
	assert_int_equal(s, 6 * 3600);
	assert_int_equal(conf_parse_duration("7d", &s), 0);
	assert_int_equal(s, 7 * 86400);
	assert_int_equal(conf_parse_duration("2w", &s), 0);
	assert_int_equal(s, 14 * 86400);
	assert_int_equal(conf_parse_duration("007d", &s), 0);
	assert_int_equal(s, 7 * 86400);
	assert_int_equal(conf_parse_duration("100000000w", &s), 0);
	assert_int_equal(s, 100000000LL * 7 * 86400);
	s = 42;
	assert_int_equal(conf_parse_duration("0s", &s), -1);
	assert_int_equal(conf_parse_duration("0d", &s), -1);
	assert_int_equal(conf_parse_duration("7", &s), -1);
	assert_int_equal(conf_parse_duration("7x", &s), -1);
	assert_int_equal(conf_parse_duration("7D", &s), -1);
	assert_int_equal(conf_parse_duration("7dd", &s), -1);
	assert_int_equal(conf_parse_duration("7d ", &s), -1);
	assert_int_equal(conf_parse_duration(" 7d", &s), -1);
	assert_int_equal(conf_parse_duration("+7d", &s), -1);
	assert_int_equal(conf_parse_duration("-7d", &s), -1);
	assert_int_equal(conf_parse_duration("d", &s), -1);
	assert_int_equal(conf_parse_duration("", &s), -1);
	assert_int_equal(conf_parse_duration(NULL, &s), -1);
	assert_int_equal(conf_parse_duration("100000001s", &s), -1);
	assert_int_equal(conf_parse_duration("99999999999999999999s", &s), -1);
	assert_int_equal(conf_parse_duration("1.5h", &s), -1);
	assert_int_equal(s, 42);
}

/* conf_parse_cap: limits, windows, zero and junk. */
static void
test_parse_cap(void **state)
{
	struct conf_cap	 cap;

	(void)state;
	memset(&cap, 'x', sizeof cap);
	assert_int_equal(conf_parse_cap("3/7d", &cap), 0);
	assert_int_equal(cap.limit, 3);
	assert_int_equal(cap.window, 7 * 86400);
	assert_string_equal(cap.text, "");
	assert_int_equal(conf_parse_cap("0/1d", &cap), 0);
	assert_int_equal(cap.limit, 0);
	assert_int_equal(conf_parse_cap("1000000/1s", &cap), 0);
	assert_int_equal(cap.limit, 1000000);
	assert_int_equal(conf_parse_cap("1/0d", &cap), -1);
	assert_int_equal(conf_parse_cap("1000001/1d", &cap), -1);
	assert_int_equal(conf_parse_cap("99999999999999999999/1d", &cap), -1);
	assert_int_equal(conf_parse_cap("7", &cap), -1);
	assert_int_equal(conf_parse_cap("7x", &cap), -1);
	assert_int_equal(conf_parse_cap("3/7", &cap), -1);
	assert_int_equal(conf_parse_cap("3/", &cap), -1);
	assert_int_equal(conf_parse_cap("/7d", &cap), -1);
	assert_int_equal(conf_parse_cap("3 /7d", &cap), -1);
	assert_int_equal(conf_parse_cap("3/ 7d", &cap), -1);
	assert_int_equal(conf_parse_cap("-3/7d", &cap), -1);
	assert_int_equal(conf_parse_cap("3/7d/", &cap), -1);
	assert_int_equal(conf_parse_cap("", &cap), -1);
	assert_int_equal(conf_parse_cap(NULL, &cap), -1);
}

/* conf_parse_clock: the whole day and nothing else. */
static void
test_parse_clock(void **state)
{
	int	 m = -7;

	(void)state;
	assert_int_equal(conf_parse_clock("00:00", &m), 0);
	assert_int_equal(m, 0);
	assert_int_equal(conf_parse_clock("23:59", &m), 0);
	assert_int_equal(m, 1439);
	assert_int_equal(conf_parse_clock("08:05", &m), 0);
	assert_int_equal(m, 485);
	m = -7;
	assert_int_equal(conf_parse_clock("24:00", &m), -1);
	assert_int_equal(conf_parse_clock("12:60", &m), -1);
	assert_int_equal(conf_parse_clock("1:00", &m), -1);
	assert_int_equal(conf_parse_clock("01:0", &m), -1);
	assert_int_equal(conf_parse_clock("01:000", &m), -1);
	assert_int_equal(conf_parse_clock("0100", &m), -1);
	assert_int_equal(conf_parse_clock("01-00", &m), -1);
	assert_int_equal(conf_parse_clock("ab:cd", &m), -1);
	assert_int_equal(conf_parse_clock("-1:00", &m), -1);
	assert_int_equal(conf_parse_clock(" 1:00", &m), -1);
	assert_int_equal(conf_parse_clock("1 :00", &m), -1);
	assert_int_equal(conf_parse_clock("01: 5", &m), -1);
	assert_int_equal(conf_parse_clock("01:+5", &m), -1);
	assert_int_equal(conf_parse_clock("01:5a", &m), -1);
	assert_int_equal(conf_parse_clock("0a:05", &m), -1);
	assert_int_equal(conf_parse_clock("", &m), -1);
	assert_int_equal(m, -7);
}

/* conf_format_duration writes the largest whole unit. */
static void
test_format_duration(void **state)
{
	char	 buf[32];

	(void)state;
	conf_format_duration(7 * 86400, buf, sizeof buf);
	assert_string_equal(buf, "7d");
	conf_format_duration(86400, buf, sizeof buf);
	assert_string_equal(buf, "1d");
	conf_format_duration(7200, buf, sizeof buf);
	assert_string_equal(buf, "2h");
	conf_format_duration(90 * 60, buf, sizeof buf);
	assert_string_equal(buf, "90m");
	conf_format_duration(45, buf, sizeof buf);
	assert_string_equal(buf, "45s");
	conf_format_duration(86400 + 1, buf, sizeof buf);
	assert_string_equal(buf, "86401s");
}

/* Run every test of this file. */
/* Only the table's restart-only keys are reported and kept on reload. */
static void
test_restart_keys(void **state)
{
	struct conf	*a, *b;
	char		*cause = NULL;

	(void)state;
	a = load_ok("[channel email]\ncap = 1/1d\n[redis]\nport = 6379\n"
	    "timeout_ms = 50\n");
	b = load_ok("[channel email]\ncap = 2/1d\n[redis]\nport = 6379\n"
	    "timeout_ms = 80\n");
	assert_null(conf_restart_key(a, b));
	conf_free(b);
	b = load_ok("[server]\nlisten = 127.0.0.1:9000\n[channel email]\n"
	    "cap = 2/1d\n[redis]\nport = 6380\nprefix = other\n");
	assert_string_equal(conf_restart_key(b, a), "listen");
	conf_keep_restart_keys(b, a, &cause);
	assert_null(cause);
	assert_null(conf_restart_key(b, a));
	assert_int_equal(b->redis.port, 6379);
	assert_string_equal(b->redis.prefix, "pacer");
	assert_int_equal(b->server.listen_port, 8425);
	/* What may change on reload did. */
	assert_int_equal(b->channels[0].caps[0].limit, 2);
	conf_free(a);
	conf_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restart_keys),
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_syntax_ok),
		cmocka_unit_test(test_error_unknown),
		cmocka_unit_test(test_error_syntax),
		cmocka_unit_test(test_error_malformed),
		cmocka_unit_test(test_error_range),
		cmocka_unit_test(test_error_duplicates),
		cmocka_unit_test(test_error_contradictions),
		cmocka_unit_test(test_error_names),
		cmocka_unit_test(test_load_file_errors),
		cmocka_unit_test(test_load_file_lines),
		cmocka_unit_test(test_load_file_paths),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_parse_cap),
		cmocka_unit_test(test_parse_clock),
		cmocka_unit_test(test_format_duration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
