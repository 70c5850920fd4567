/*
 * pacerd: answers "may we contact this customer now?" before every send.
 */
#include <sys/random.h>

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#ifdef PACER_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "pacerd.h"
#include "pacer/version.h"

#define PACERD_DRAIN_MAX_S	10	/* longest wait for requests in flight */
#define PACERD_PLAN_POLL_MS	1000	/* how often the live plan id is read */

/* Print usage (and what each option does) to fp and exit with status. */
static void __attribute__((noreturn))
pacerd_usage(FILE *fp, int status)
{
	fprintf(fp, "usage: pacerd -c FILE [-t] [-d]\n"
	    "  -c, --config FILE  the configuration file (pacer.conf(5)); paths\n"
	    "                     in it are relative to its folder\n"
	    "  -t, --test         check the configuration (and the offers and\n"
	    "                     tokens files it names), print \"configuration\n"
	    "                     OK\" or file:line: message, exit 0 or 1\n"
	    "  -d, --debug        debug logging\n"
	    "  -h, --help         print this help and exit\n"
	    "  -V, --version      print the version and the git commit, exit\n"
	    "Signals: SIGHUP reloads the configuration, SIGTERM and SIGINT\n"
	    "drain requests in flight and exit 0. See pacerd(8).\n");
	exit(status);
}

/*
 * Tell systemd (Type=notify) what pacerd is doing: "READY=1",
 * "RELOADING=1", "STOPPING=1". Nothing without libsystemd or outside
 * systemd (no NOTIFY_SOCKET).
 */
static void
pacerd_notify(const char *state)
{
#ifdef PACER_HAVE_SYSTEMD
	struct timespec	 ts;

	/* systemd 253+ wants the monotonic time beside RELOADING=1. */
	if (!strcmp(state, "RELOADING=1") &&
	    clock_gettime(CLOCK_MONOTONIC, &ts) == 0) {
		sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
		    (unsigned long long)ts.tv_sec * 1000000ULL +
		    (unsigned long long)ts.tv_nsec / 1000ULL);
		return;
	}
	sd_notify(0, state);
#else
	(void)state;
#endif
}

/* SIGHUP: reload the configuration; keep the old one if the new is bad. */
static void
pacerd_sighup(evutil_socket_t sig, short ev, void *arg)
{
	struct pacerd	*d = arg;
	char		*cause = NULL;

	(void)sig;
	(void)ev;
	pacerd_notify("RELOADING=1");
	if (pacerd_reload_by(d, "signal", &cause) != 0)
		free(cause);
	pacerd_notify("READY=1");
}

/* While draining: leave once nothing waits on the store. */
static void
pacerd_drain_check(evutil_socket_t fd, short ev, void *arg)
{
	struct pacerd	*d = arg;
	static int	 ticks;

	(void)fd;
	(void)ev;
	if (http_inflight(d) == 0 || ++ticks > PACERD_DRAIN_MAX_S * 100) {
		if (http_inflight(d) > 0)
			log_warn("exiting with requests in flight", "inflight=%d",
			    http_inflight(d));
		/* One more turn lets the last replies reach their sockets. */
		struct timeval tv = { 0, 20000 };
		event_base_loopexit(d->base, &tv);
		event_del(d->drain_timer);
	}
}

/* SIGTERM/SIGINT: stop accepting, finish what is in flight, exit 0. */
static void
pacerd_sigterm(evutil_socket_t sig, short ev, void *arg)
{
	struct pacerd	*d = arg;
	struct timeval	 tv = { 0, 10000 };

	(void)ev;
	if (d->draining)
		return;
	log_info("draining", "signal=%d inflight=%d", (int)sig, http_inflight(d));
	pacerd_notify("STOPPING=1");
	d->draining = 1;
	http_stop_accepting(d);
	d->drain_timer = event_new(d->base, -1, EV_PERSIST, pacerd_drain_check, d);
	event_add(d->drain_timer, &tv);
}

/*
 * A run's id known with where its entries are (stem, or NULL: fields of
 * PREFIX:{C}:o): the role's run from now on.
 */
static void
pacerd_plan_set(struct pacerd *d, enum pacerd_role role, const char *id,
    const char *stem)
{
	struct pacerd_run	*r = &d->run[role];

	if (strcmp(r->id, id) != 0 && role == PACERD_LIVE)
		log_info("live plan changed", "run_id=%s%s", id[0] ? id : "none",
		    id[0] && stem == NULL ? " entries=per-customer" : "");
	snprintf(r->id, sizeof r->id, "%s", id);
	snprintf(r->stem, sizeof r->stem, "%s", stem != NULL ? stem : "");
}

/* Reply to HGET PREFIX:run:RUN plan: where the run's entries are. */
static void
pacerd_plan_stem_cb(const struct store_reply *sr, void *arg)
{
	struct pacerd_poll	*p = arg;
	const char		*v;
	size_t			 n = 0;

	if (!sr->ok)
		return;
	v = store_text(sr->value, &n);
	pacerd_plan_set(p->d, p->role, p->id, v != NULL && n > 0 &&
	    n < KEYS_STEM_MAX ? v : NULL);
}

/* Reply to GET PREFIX:plan:live (or :candidate): a new run, its stem. */
static void
pacerd_plan_cb(const struct store_reply *sr, void *arg)
{
	struct pacerd_poll	*p = arg;
	struct pacerd		*d = p->d;
	const char		*id, *argv[3];
	char			 key[KEYS_MAX + KEYS_RUN_MAX];
	size_t			 argvlen[3];

	if (!sr->ok)
		return;
	id = store_text(sr->value, NULL);
	if (id == NULL || *id == '\0' || strlen(id) > KEYS_RUN_MAX) {
		pacerd_plan_set(d, p->role, "", NULL);
		return;
	}
	if (strcmp(id, d->run[p->role].id) == 0)
		return;
	snprintf(p->id, sizeof p->id, "%s", id);
	snprintf(key, sizeof key, "%s:run:%s", d->rules->conf->redis.prefix, id);
	argv[0] = "HGET";
	argv[1] = key;
	argv[2] = "plan";
	for (int i = 0; i < 3; i++)
		argvlen[i] = strlen(argv[i]);
	store_command(d->store, 3, argv, argvlen, pacerd_plan_stem_cb, p);
}

/*
 * Timer: read which plans are live and candidate (pacer plan publish
 * switches the live one), and, for a new one, where its entries are.
 */
static void
pacerd_plan_poll(evutil_socket_t fd, short ev, void *arg)
{
	static const char *const name[PACERD_ROLES] = { "plan:live",
	    "plan:candidate" };
	struct pacerd	*d = arg;
	char		 key[KEYS_MAX];
	const char	*argv[2] = { "GET", key };
	size_t		 argvlen[2];

	(void)fd;
	(void)ev;
	if (!store_ready(d->store))
		return;
	for (int role = 0; role < PACERD_ROLES; role++) {
		keys_global(key, sizeof key, d->rules->conf->redis.prefix,
		    name[role]);
		argvlen[0] = 3;
		argvlen[1] = strlen(key);
		store_command(d->store, 2, argv, argvlen, pacerd_plan_cb,
		    &d->poll[role]);
	}
}

/*
 * The command line into d->conf_path (exits on --help, --version and bad
 * usage); whether only to check the configuration.
 */
static int
pacerd_args(int argc, char **argv, struct pacerd *d)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int	 ch, check_only = 0;

	while ((ch = getopt_long(argc, argv, "c:tdhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': d->conf_path = optarg; break;
		case 't': check_only = 1; break;
		case 'd': log_threshold = LOG_DEBUG; break;
		case 'h': pacerd_usage(stdout, 0);
		case 'V':
			printf("pacerd %s (git %s)\n", PACER_VERSION,
			    PACER_GIT_COMMIT);
			exit(0);
		default: pacerd_usage(stderr, 1);
		}
	}
	if (d->conf_path == NULL || optind != argc)
		pacerd_usage(stderr, 1);
	return check_only;
}

/* The event loop and every module on it; exits when one cannot start. */
static void
pacerd_start(struct pacerd *d)
{
	struct timeval		 plan_tv = { 0, PACERD_PLAN_POLL_MS * 1000 };
	struct event_config	*cfg;
	char			*cause = NULL;

	signal(SIGPIPE, SIG_IGN);
	log_libevent();
	/*
	 * Precise timers: the store's deadlines (decide.lua) are compared with
	 * Redis's clock, and a coarse clock could fire a timer a tick early.
	 */
	if ((cfg = event_config_new()) == NULL ||
	    event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER) != 0 ||
	    (d->base = event_base_new_with_config(cfg)) == NULL)
		fatalx("cannot start the event loop", NULL);
	event_config_free(cfg);
	if ((d->metrics = metrics_new()) == NULL)
		fatalx("out of memory", NULL);
	if ((d->store = store_new(d->base, d->rules->conf, &cause)) == NULL)
		fatalx("cannot set up the store", "error=\"%s\"", cause);
	if (http_start(d, &cause) != 0)
		fatalx("cannot start HTTP", "error=\"%s\"", cause);
	if (decide_init(d) != 0)
		fatalx("out of memory", NULL);
	if (optimize_job_init(d) != 0)
		fatalx("cannot start the optimizer scheduler", NULL);
	d->sig_hup = evsignal_new(d->base, SIGHUP, pacerd_sighup, d);
	d->sig_term = evsignal_new(d->base, SIGTERM, pacerd_sigterm, d);
	d->sig_int = evsignal_new(d->base, SIGINT, pacerd_sigterm, d);
	for (int role = 0; role < PACERD_ROLES; role++) {
		d->poll[role].d = d;
		d->poll[role].role = (enum pacerd_role)role;
	}
	d->plan_timer = event_new(d->base, -1, EV_PERSIST, pacerd_plan_poll, d);
	if (d->sig_hup == NULL || d->sig_term == NULL || d->sig_int == NULL ||
	    d->plan_timer == NULL)
		fatalx("out of memory", NULL);
	evsignal_add(d->sig_hup, NULL);
	evsignal_add(d->sig_term, NULL);
	evsignal_add(d->sig_int, NULL);
	event_add(d->plan_timer, &plan_tv);
}

/* Free what pacerd_start made, the store first (its callbacks answer). */
static void
pacerd_stop(struct pacerd *d)
{
	event_free(d->sig_hup);
	event_free(d->sig_term);
	event_free(d->sig_int);
	event_free(d->plan_timer);
	if (d->drain_timer != NULL)
		event_free(d->drain_timer);
	optimize_job_free_all(d);
	decide_shutdown(d);
	store_free(d->store);
	http_free(d);
	metrics_free(d->metrics);
	pacerd_rules_unref(d->rules);
	event_base_free(d->base);
}

int
main(int argc, char **argv)
{
	struct pacerd	 d;
	struct conf	*conf;
	char		*cause = NULL;
	int		 check_only;

	memset(&d, 0, sizeof d);
	check_only = pacerd_args(argc, argv, &d);
	if ((conf = conf_load(d.conf_path, &cause)) == NULL ||
	    (d.rules = pacerd_rules_new(conf, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		return 1;
	}
	if (check_only) {
		printf("configuration OK\n");
		pacerd_rules_unref(d.rules);
		return 0;
	}
	if (getrandom(&d.salt, sizeof d.salt, 0) != sizeof d.salt)
		d.salt = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	pacerd_start(&d);
	log_info("pacerd started", "listen=%s:%d redis=%s:%d version=%s",
	    d.rules->conf->server.listen_host, d.rules->conf->server.listen_port,
	    d.rules->conf->redis.host, d.rules->conf->redis.port, PACER_VERSION);
	pacerd_notify("READY=1");
	event_base_dispatch(d.base);
	log_info("pacerd stopped", NULL);
	pacerd_stop(&d);
	return 0;
}
