/*
 * Metrics in the Prometheus text exposition format (version 0.0.4): HELP
 * and TYPE for every family, counters ending in _total, seconds as the unit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "pacerd.h"

#define METRICS_MAX_SHADOW 64
#define METRICS_NBUCKETS 14

/* Histogram bucket bounds in seconds. */
static const double metrics_bounds[METRICS_NBUCKETS] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
	0.25, 0.5, 1, 2.5,
};

struct metrics_histogram {
	uint64_t	 bucket[METRICS_NBUCKETS];
	uint64_t	 count;
	double		 sum;
};

struct metrics {
	uint64_t		 decisions[CONF_MAX_CHANNELS][RULES_NREASONS];
	uint64_t		 fail_open[CONF_MAX_CHANNELS];
	char			 channel[CONF_MAX_CHANNELS][CONF_NAME_MAX];
	struct metrics_histogram decide_seconds;
	struct metrics_histogram store_seconds;
	uint64_t		 store_failures;
	uint64_t		 http_errors[600];
	uint64_t		 reloads_ok, reloads_failed;
	char			 shadow_rule[METRICS_MAX_SHADOW][160];
	uint64_t		 shadow_count[METRICS_MAX_SHADOW];
	int			 nshadow;
};

struct metrics *
metrics_new(void)
{
	return calloc(1, sizeof(struct metrics));
}

void
metrics_free(struct metrics *m)
{
	free(m);
}

/* Add one observation to a histogram. */
static void
metrics_observe(struct metrics_histogram *h, double seconds)
{
	for (int i = 0; i < METRICS_NBUCKETS; i++)
		if (seconds <= metrics_bounds[i])
			h->bucket[i]++;
	h->count++;
	h->sum += seconds;
}

void
metrics_decision(struct metrics *m, int channel, enum rules_reason reason,
    double seconds)
{
	if (channel < 0 || channel >= CONF_MAX_CHANNELS)
		return;
	m->decisions[channel][reason]++;
	metrics_observe(&m->decide_seconds, seconds);
}

void
metrics_fail_open(struct metrics *m, int channel)
{
	if (channel >= 0 && channel < CONF_MAX_CHANNELS)
		m->fail_open[channel]++;
}

void
metrics_http_error(struct metrics *m, int status)
{
	if (status >= 0 && status < 600)
		m->http_errors[status]++;
}

void
metrics_store_rtt(struct metrics *m, double seconds, int ok)
{
	if (ok)
		metrics_observe(&m->store_seconds, seconds);
	else
		m->store_failures++;
}

void
metrics_shadow(struct metrics *m, const char *rule)
{
	for (int i = 0; i < m->nshadow; i++) {
		if (!strcmp(m->shadow_rule[i], rule)) {
			m->shadow_count[i]++;
			return;
		}
	}
	if (m->nshadow == METRICS_MAX_SHADOW)
		return;
	snprintf(m->shadow_rule[m->nshadow], sizeof m->shadow_rule[0], "%s", rule);
	m->shadow_count[m->nshadow++] = 1;
}

void
metrics_reload(struct metrics *m, int ok)
{
	if (ok)
		m->reloads_ok++;
	else
		m->reloads_failed++;
}

/* Write a histogram family. */
static void
metrics_write_histogram(struct evbuffer *b, const char *name, const char *help,
    const struct metrics_histogram *h)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (int i = 0; i < METRICS_NBUCKETS; i++)
		evbuffer_add_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name,
		    metrics_bounds[i], (unsigned long long)h->bucket[i]);
	evbuffer_add_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name,
	    (unsigned long long)h->count);
	evbuffer_add_printf(b, "%s_sum %.9f\n%s_count %llu\n", name, h->sum, name,
	    (unsigned long long)h->count);
}

void
metrics_handle(struct pacerd *d, struct http_request *req)
{
	struct metrics		*m = d->metrics;
	const struct conf	*c = d->rules->conf;
	struct evbuffer		*b = evbuffer_new();
	uint64_t		 calls, errors, timeouts;

	evbuffer_add_printf(b, "# HELP pacer_decisions_total Decisions answered, by "
	    "channel and reason.\n# TYPE pacer_decisions_total counter\n");
	for (int ch = 0; ch < c->nchannels; ch++)
		for (int r = 0; r < RULES_NREASONS; r++)
			evbuffer_add_printf(b, "pacer_decisions_total{channel=\"%s\","
			    "reason=\"%s\"} %llu\n", c->channels[ch].name,
			    rules_reason_name((enum rules_reason)r),
			    (unsigned long long)m->decisions[ch][r]);
	evbuffer_add_printf(b, "# HELP pacer_fail_open_total Decisions allowed "
	    "without a check because Redis could not answer in time "
	    "(on_store_failure = allow).\n# TYPE pacer_fail_open_total counter\n");
	for (int ch = 0; ch < c->nchannels; ch++)
		evbuffer_add_printf(b, "pacer_fail_open_total{channel=\"%s\"} %llu\n",
		    c->channels[ch].name, (unsigned long long)m->fail_open[ch]);
	metrics_write_histogram(b, "pacer_decision_duration_seconds",
	    "Time from a parsed request to its answer.", &m->decide_seconds);
	metrics_write_histogram(b, "pacer_store_round_trip_seconds",
	    "Redis round trip of one script call.", &m->store_seconds);
	store_stats(d->store, &calls, &errors, &timeouts);
	evbuffer_add_printf(b, "# HELP pacer_store_calls_total Calls sent to Redis.\n"
	    "# TYPE pacer_store_calls_total counter\npacer_store_calls_total %llu\n",
	    (unsigned long long)calls);
	evbuffer_add_printf(b, "# HELP pacer_store_errors_total Redis calls that "
	    "failed, by kind.\n# TYPE pacer_store_errors_total counter\n"
	    "pacer_store_errors_total{kind=\"error\"} %llu\n"
	    "pacer_store_errors_total{kind=\"timeout\"} %llu\n",
	    (unsigned long long)errors, (unsigned long long)timeouts);
	evbuffer_add_printf(b, "# HELP pacer_store_up Whether Redis is reachable and "
	    "the scripts are loaded.\n# TYPE pacer_store_up gauge\npacer_store_up %d\n",
	    store_ready(d->store));
	{
		int64_t	 unc, off = store_clock_offset_ms(d->store, &unc);

		evbuffer_add_printf(b, "# HELP pacer_store_clock_offset_seconds "
		    "Redis's clock minus pacerd's (decisions follow Redis's).\n"
		    "# TYPE pacer_store_clock_offset_seconds gauge\n"
		    "pacer_store_clock_offset_seconds %.3f\n", (double)off / 1000);
	}
	evbuffer_add_printf(b, "# HELP pacer_store_oom Whether Redis refuses writes "
	    "for lack of memory.\n# TYPE pacer_store_oom gauge\npacer_store_oom %d\n",
	    store_oom(d->store));
	evbuffer_add_printf(b, "# HELP pacer_inflight_requests Requests waiting on "
	    "Redis.\n# TYPE pacer_inflight_requests gauge\npacer_inflight_requests "
	    "%d\n", d->inflight);
	evbuffer_add_printf(b, "# HELP pacer_http_connections Open HTTP connections."
	    "\n# TYPE pacer_http_connections gauge\npacer_http_connections %d\n",
	    d->nconn);
	evbuffer_add_printf(b, "# HELP pacer_http_errors_total Requests answered "
	    "with an error, by status.\n# TYPE pacer_http_errors_total counter\n");
	for (int s = 400; s < 600; s++)
		if (m->http_errors[s] > 0)
			evbuffer_add_printf(b, "pacer_http_errors_total{status=\"%d\"} "
			    "%llu\n", s, (unsigned long long)m->http_errors[s]);
	evbuffer_add_printf(b, "# HELP pacer_reloads_total Configuration reloads, by "
	    "result.\n# TYPE pacer_reloads_total counter\n"
	    "pacer_reloads_total{result=\"ok\"} %llu\n"
	    "pacer_reloads_total{result=\"failed\"} %llu\n",
	    (unsigned long long)m->reloads_ok, (unsigned long long)m->reloads_failed);
	evbuffer_add_printf(b, "# HELP pacer_shadow_denials_total Decisions a "
	    "shadow rule would have denied.\n# TYPE pacer_shadow_denials_total "
	    "counter\n");
	for (int i = 0; i < c->nshadow; i++) {
		uint64_t n = 0;

		for (int j = 0; j < m->nshadow; j++)
			if (!strcmp(m->shadow_rule[j], c->shadow[i].cap.text))
				n = m->shadow_count[j];
		evbuffer_add_printf(b, "pacer_shadow_denials_total{rule=\"%s\"} %llu\n",
		    c->shadow[i].cap.text, (unsigned long long)n);
	}
	evbuffer_add_printf(b, "# HELP pacer_plan_live Whether a plan is live.\n"
	    "# TYPE pacer_plan_live gauge\npacer_plan_live %d\n", d->live_run[0] != 0);
	http_send_text(d, req, 200, (const char *)evbuffer_pullup(b, -1),
	    evbuffer_get_length(b), "text/plain; version=0.0.4; charset=utf-8");
	evbuffer_free(b);
}
