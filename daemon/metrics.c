/*
 * Metrics in the Prometheus text exposition format (version 0.0.4): HELP
 * and TYPE for every family, counters ending in _total, seconds as the unit.
 * Beside pacer's own families, the process_* ones every Prometheus client
 * library exports (read from /proc/self at each scrape).
 */
#include <sys/resource.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <http_parser.h>

#include "pacerd.h"
#include "pacer/version.h"

#define METRICS_MAX_SHADOW 64
#define METRICS_NBUCKETS 14
#define METRICS_NMETHODS 8	/* GET POST PUT DELETE HEAD OPTIONS PATCH, other */
#define METRICS_NSTATUS	32	/* distinct statuses counted per route */

/*
 * The route label of pacer_http_requests_total: the paths of the OpenAPI
 * document, with ids as their template, so the label stays bounded.
 */
/* Routes' paths (routes.c), then "unknown" (any other path: 404) and
   "invalid" (refused before routing: malformed, too large, too slow). */
#define METRICS_NROUTES (ROUTES_NPATHS + 2)
#define METRICS_ROUTE_UNKNOWN ROUTES_UNKNOWN
#define METRICS_ROUTE_INVALID (METRICS_NROUTES - 1)

static const unsigned metrics_methods[METRICS_NMETHODS - 1] = {
	HTTP_GET, HTTP_POST, HTTP_PUT, HTTP_DELETE, HTTP_HEAD, HTTP_OPTIONS,
	HTTP_PATCH,
};

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
	/* Requests by route, method and status (a slot per status seen). */
	uint64_t		 requests[METRICS_NROUTES][METRICS_NMETHODS][METRICS_NSTATUS];
	unsigned char		 status_slot[600];	/* 0: none yet, else slot + 1 */
	int			 status_of[METRICS_NSTATUS];
	int			 nstatus;
	/* The last finished optimizer run this daemon started. */
	struct metrics_optimizer_run last_run;
	int			 has_last_run;
	uint64_t		 runs_done, runs_failed;
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
metrics_http_request(struct metrics *m, int route, unsigned method, int status)
{
	int	 mi = METRICS_NMETHODS - 1, slot;

	if (route < 0 || route >= METRICS_NROUTES)
		route = METRICS_ROUTE_INVALID;
	for (int i = 0; i < METRICS_NMETHODS - 1; i++)
		if (metrics_methods[i] == method)
			mi = i;
	if (status < 100 || status >= 600)
		return;
	if ((slot = m->status_slot[status]) == 0) {
		if (m->nstatus == METRICS_NSTATUS)
			return;		/* HTTP has fewer statuses that pacerd answers */
		m->status_of[m->nstatus++] = status;
		slot = m->status_slot[status] = (unsigned char)m->nstatus;
	}
	m->requests[route][mi][slot - 1]++;
}

void
metrics_optimizer_run(struct metrics *m, const struct metrics_optimizer_run *r)
{
	m->last_run = *r;
	m->has_last_run = 1;
	if (r->ok)
		m->runs_done++;
	else
		m->runs_failed++;
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

/* A route's label: its path, "unknown" or "invalid". */
static const char *
metrics_route_name(int r)
{
	return r < ROUTES_NPATHS ? routes_path(r) : r == METRICS_ROUTE_UNKNOWN ?
	    "unknown" : "invalid";
}

/* The request counters, every route, method and status seen. */
static void
metrics_write_requests(struct evbuffer *b, const struct metrics *m)
{
	evbuffer_add_printf(b, "# HELP pacer_http_requests_total HTTP requests "
	    "answered, by route (the OpenAPI path; unknown: any other path; "
	    "invalid: refused before routing), method and status.\n"
	    "# TYPE pacer_http_requests_total counter\n");
	for (int r = 0; r < METRICS_NROUTES; r++)
		for (int mi = 0; mi < METRICS_NMETHODS; mi++)
			for (int s = 0; s < m->nstatus; s++)
				if (m->requests[r][mi][s] > 0)
					evbuffer_add_printf(b, "pacer_http_requests_total{route="
					    "\"%s\",method=\"%s\",status=\"%d\"} %llu\n",
					    metrics_route_name(r), mi < METRICS_NMETHODS - 1 ?
					    http_method_str((enum http_method)metrics_methods[mi]) :
					    "other", m->status_of[s],
					    (unsigned long long)m->requests[r][mi][s]);
}

/* The last optimizer run's figures (families without samples before one). */
static void
metrics_write_optimizer(struct evbuffer *b, const struct metrics *m)
{
	const struct metrics_optimizer_run *r = &m->last_run;

	evbuffer_add_printf(b, "# HELP pacer_optimizer_runs_total Optimizer runs "
	    "this daemon started that finished, by result.\n"
	    "# TYPE pacer_optimizer_runs_total counter\n"
	    "pacer_optimizer_runs_total{result=\"done\"} %llu\n"
	    "pacer_optimizer_runs_total{result=\"failed\"} %llu\n",
	    (unsigned long long)m->runs_done, (unsigned long long)m->runs_failed);
	evbuffer_add_printf(b, "# HELP pacer_optimizer_last_run_success Whether "
	    "the last finished optimizer run succeeded (exit 0).\n"
	    "# TYPE pacer_optimizer_last_run_success gauge\n");
	if (m->has_last_run)
		evbuffer_add_printf(b, "pacer_optimizer_last_run_success %d\n",
		    r->ok);
	evbuffer_add_printf(b, "# HELP pacer_optimizer_last_run_exit_code Exit "
	    "status of the last finished optimizer run.\n"
	    "# TYPE pacer_optimizer_last_run_exit_code gauge\n");
	if (m->has_last_run)
		evbuffer_add_printf(b, "pacer_optimizer_last_run_exit_code %d\n",
		    r->exit_code);
	evbuffer_add_printf(b, "# HELP pacer_optimizer_last_run_gap_ratio "
	    "Certified relative gap of the last finished run (0.001 = 0.1%%).\n"
	    "# TYPE pacer_optimizer_last_run_gap_ratio gauge\n");
	if (m->has_last_run && r->gap >= 0)
		evbuffer_add_printf(b, "pacer_optimizer_last_run_gap_ratio %.9g\n",
		    r->gap);
	evbuffer_add_printf(b, "# HELP pacer_optimizer_last_run_objective "
	    "Expected net value of the last finished run's plan.\n"
	    "# TYPE pacer_optimizer_last_run_objective gauge\n");
	if (m->has_last_run && r->has_objective)
		evbuffer_add_printf(b, "pacer_optimizer_last_run_objective %.6f\n",
		    r->objective);
	evbuffer_add_printf(b, "# HELP pacer_optimizer_last_run_duration_seconds "
	    "Wall time of the last finished run.\n"
	    "# TYPE pacer_optimizer_last_run_duration_seconds gauge\n");
	if (m->has_last_run)
		evbuffer_add_printf(b, "pacer_optimizer_last_run_duration_seconds "
		    "%.3f\n", r->duration_seconds);
	evbuffer_add_printf(b, "# HELP pacer_optimizer_last_run_finish_timestamp_"
	    "seconds When the last run finished (unix time).\n"
	    "# TYPE pacer_optimizer_last_run_finish_timestamp_seconds gauge\n");
	if (m->has_last_run)
		evbuffer_add_printf(b, "pacer_optimizer_last_run_finish_timestamp_"
		    "seconds %lld\n", (long long)r->finished);
}

/*
 * process_* from /proc/self, as Prometheus's client libraries name them.
 * A file that cannot be read leaves its family without a sample.
 */
static void
metrics_write_process(struct evbuffer *b)
{
	FILE		*f;
	char		 line[1024], *p;
	unsigned long	 utime = 0, stime = 0, vsize = 0;
	unsigned long long start = 0, btime = 0;
	long		 rss = 0, tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	int		 have_stat = 0, nfd = -1;
	DIR		*dir;
	struct dirent	*de;
	struct rlimit	 rl;

	/* Fields after the command's ")": state is the 3rd, utime the 14th. */
	if ((f = fopen("/proc/self/stat", "r")) != NULL) {
		if (fgets(line, sizeof line, f) != NULL &&
		    (p = strrchr(line, ')')) != NULL && sscanf(p + 2,
		    "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d "
		    "%*d %*d %*d %*d %llu %lu %ld", &utime, &stime, &start, &vsize,
		    &rss) == 5)
			have_stat = tick > 0;
		fclose(f);
	}
	if ((f = fopen("/proc/stat", "r")) != NULL) {
		while (fgets(line, sizeof line, f) != NULL)
			if (sscanf(line, "btime %llu", &btime) == 1)
				break;
		fclose(f);
	}
	if ((dir = opendir("/proc/self/fd")) != NULL) {
		nfd = 0;
		while ((de = readdir(dir)) != NULL)
			nfd += de->d_name[0] != '.';
		nfd--;		/* the directory's own descriptor */
		closedir(dir);
	}
	evbuffer_add_printf(b, "# HELP process_cpu_seconds_total User and system "
	    "CPU time spent.\n# TYPE process_cpu_seconds_total counter\n");
	if (have_stat)
		evbuffer_add_printf(b, "process_cpu_seconds_total %.2f\n",
		    (double)(utime + stime) / (double)tick);
	evbuffer_add_printf(b, "# HELP process_resident_memory_bytes Resident "
	    "memory size.\n# TYPE process_resident_memory_bytes gauge\n");
	if (have_stat)
		evbuffer_add_printf(b, "process_resident_memory_bytes %lld\n",
		    (long long)rss * page);
	evbuffer_add_printf(b, "# HELP process_virtual_memory_bytes Virtual "
	    "memory size.\n# TYPE process_virtual_memory_bytes gauge\n");
	if (have_stat)
		evbuffer_add_printf(b, "process_virtual_memory_bytes %lu\n", vsize);
	evbuffer_add_printf(b, "# HELP process_start_time_seconds Start time of "
	    "the process since the epoch.\n"
	    "# TYPE process_start_time_seconds gauge\n");
	if (have_stat && btime > 0)
		evbuffer_add_printf(b, "process_start_time_seconds %.2f\n",
		    (double)btime + (double)start / (double)tick);
	evbuffer_add_printf(b, "# HELP process_open_fds Open file descriptors.\n"
	    "# TYPE process_open_fds gauge\n");
	if (nfd >= 0)
		evbuffer_add_printf(b, "process_open_fds %d\n", nfd);
	evbuffer_add_printf(b, "# HELP process_max_fds Limit of open file "
	    "descriptors.\n# TYPE process_max_fds gauge\n");
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		evbuffer_add_printf(b, "process_max_fds %llu\n",
		    (unsigned long long)rl.rlim_cur);
}

/* Decisions by channel and reason, and those that failed open. */
static void
metrics_write_decisions(struct evbuffer *b, const struct metrics *m,
    const struct conf *c)
{
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
}

/* The store: round trips, calls, errors, readiness, clock, memory. */
static void
metrics_write_store(struct evbuffer *b, struct pacerd *d)
{
	const struct metrics	*m = d->metrics;
	uint64_t		 calls, errors, timeouts;

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
	    "%d\n", http_inflight(d));
	evbuffer_add_printf(b, "# HELP pacer_http_connections Open HTTP connections."
	    "\n# TYPE pacer_http_connections gauge\npacer_http_connections %d\n",
	    http_connections(d));
}

/* HTTP errors by status, reloads, and shadow rules' would-deny counts. */
static void
metrics_write_http(struct evbuffer *b, const struct metrics *m,
    const struct conf *c)
{
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
}

void
metrics_handle(struct pacerd *d, struct http_request *req)
{
	struct metrics		*m = d->metrics;
	const struct conf	*c = d->rules->conf;
	struct evbuffer		*b = evbuffer_new();

	evbuffer_add_printf(b, "# HELP pacer_build_info The version of pacerd and "
	    "the commit it was built from.\n# TYPE pacer_build_info gauge\n"
	    "pacer_build_info{version=\"%s\",commit=\"%s\"} 1\n", PACER_VERSION,
	    PACER_GIT_COMMIT);
	metrics_write_decisions(b, m, c);
	metrics_write_store(b, d);
	metrics_write_http(b, m, c);
	evbuffer_add_printf(b, "# HELP pacer_plan_live Whether a plan is live.\n"
	    "# TYPE pacer_plan_live gauge\npacer_plan_live %d\n", d->run[PACERD_LIVE].id[0] != 0);
	metrics_write_requests(b, m);
	metrics_write_optimizer(b, m);
	metrics_write_process(b);
	http_send_text(d, req, 200, (const char *)evbuffer_pullup(b, -1),
	    evbuffer_get_length(b), "text/plain; version=0.0.4; charset=utf-8");
	evbuffer_free(b);
}
