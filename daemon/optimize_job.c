/*
 * Optimizer runs as child processes (declared in pacerd.h).
 */
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "pacerd.h"

#define JOB_KEEP 32		/* finished runs remembered for status */

enum job_state { JOB_RUNNING, JOB_DONE, JOB_FAILED };

struct optimize_job {
	char			 run_id[80];
	pid_t			 pid;
	enum job_state		 state;
	int			 exit_code;
	time_t			 started, finished;
	char			 progress[512];	/* last progress line */
	double			 gap;		/* relative; -1: not known yet */
	double			 objective;	/* last reported */
	int			 has_objective;
	const char		*trigger;	/* "schedule" or "api" */
	struct bufferevent	*out;		/* child's stderr */
	struct optimize_job	*next;
};

/*
 * The module's state: runs newest first, the schedule's timer, the SIGCHLD
 * watch, and the count that, with the salt, makes run ids unique.
 */
struct optimize_jobs {
	struct optimize_job	*jobs;
	struct event		*schedule;
	struct event		*sigchld;
	uint64_t		 seq;
};

/* The pacer command next to this pacerd, or from $PACER_BIN, or on PATH. */
static void
job_pacer_path(char *buf, size_t len)
{
	char		 self[PATH_MAX - 64];
	ssize_t		 n;
	const char	*env = getenv("PACER_BIN");

	if (env != NULL && *env != '\0') {
		snprintf(buf, len, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = '\0';
			snprintf(buf, len, "%s/pacer", self);
			if (access(buf, X_OK) == 0)
				return;
			snprintf(buf, len, "%s/../solver/pacer", self);
			if (access(buf, X_OK) == 0)
				return;
		}
	}
	snprintf(buf, len, "pacer");
}

/*
 * In the child, before exec: close every descriptor from lowfd up. pacerd's
 * own (the listening socket, client connections, Redis, the event loop's
 * epoll and signal pipes) are opened by libevent and hiredis, not all with
 * close-on-exec; one left open would keep the port bound and the Redis
 * connection alive in the optimizer, or let it write into them.
 */
static void
job_close_from(int lowfd)
{
	DIR		*dir;
	struct dirent	*de;
	long		 max;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)lowfd, ~0U, 0) == 0)
		return;
#endif
	/* Kernels before 5.9: the descriptors /proc lists, else all of them. */
	if ((dir = opendir("/proc/self/fd")) != NULL) {
		while ((de = readdir(dir)) != NULL) {
			int	 fd = atoi(de->d_name);

			if (fd >= lowfd && fd != dirfd(dir))
				close(fd);
		}
		closedir(dir);
		return;
	}
	if ((max = sysconf(_SC_OPEN_MAX)) < 0 || max > 65536)
		max = 65536;
	for (int fd = lowfd; fd < max; fd++)
		close(fd);
}

/* Find a job by run id. */
static struct optimize_job *
job_find(struct pacerd *d, const char *run_id)
{
	for (struct optimize_job *j = d->optimizer->jobs; j != NULL; j = j->next)
		if (!strcmp(j->run_id, run_id))
			return j;
	return NULL;
}

/* The child wrote to stderr: keep its last progress line, log the rest. */
static void
job_read_cb(struct bufferevent *bev, void *arg)
{
	struct optimize_job	*j = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	char			*line;
	size_t			 n;

	while ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF)) != NULL) {
		const char *g;
		char	*end;

		snprintf(j->progress, sizeof j->progress, "%s", line);
		/* The progress line says "gap=0.00100%": keep it relative. */
		if ((g = strstr(line, "gap=")) != NULL) {
			j->gap = strtod(g + 4, &end);
			if (*end == '%')
				j->gap /= 100;
		}
		if ((g = strstr(line, "objective=")) != NULL) {
			j->objective = strtod(g + 10, NULL);
			j->has_objective = 1;
		}
		log_debug("optimizer", "run_id=%s line=\"%s\"", j->run_id, line);
		free(line);
	}
}

/* The child's stderr closed. */
static void
job_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct optimize_job	*j = arg;

	(void)what;
	job_read_cb(bev, arg);
	bufferevent_free(bev);
	j->out = NULL;
}

/* Tell the metrics about a run that finished. */
static void
job_report(struct pacerd *d, const struct optimize_job *j)
{
	struct metrics_optimizer_run	 r;

	memset(&r, 0, sizeof r);
	r.ok = j->state == JOB_DONE;
	r.exit_code = j->exit_code;
	r.gap = j->gap;
	r.objective = j->objective;
	r.has_objective = j->has_objective;
	r.duration_seconds = difftime(j->finished, j->started);
	r.finished = (int64_t)j->finished;
	metrics_optimizer_run(d->metrics, &r);
}

/* Reap finished children. */
static void
job_sigchld_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct pacerd	*d = arg;
	pid_t		 pid;
	int		 status;

	(void)sig;
	(void)ev;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (struct optimize_job *j = d->optimizer->jobs; j != NULL; j = j->next) {
			if (j->pid != pid)
				continue;
			j->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 +
			    (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
			j->state = j->exit_code == 0 ? JOB_DONE : JOB_FAILED;
			j->finished = time(NULL);
			job_report(d, j);
			if (j->exit_code == 0)
				log_info("optimizer run finished", "run_id=%s", j->run_id);
			else
				log_warn("optimizer run failed", "run_id=%s exit=%d "
				    "last=\"%s\"", j->run_id, j->exit_code, j->progress);
		}
	}
}

/* Drop the oldest finished records beyond JOB_KEEP. */
static void
job_trim(struct pacerd *d)
{
	int	 n = 0;

	for (struct optimize_job **pp = &d->optimizer->jobs; *pp != NULL;) {
		struct optimize_job *j = *pp;

		if (++n > JOB_KEEP && j->state != JOB_RUNNING) {
			*pp = j->next;
			if (j->out != NULL)
				bufferevent_free(j->out);
			free(j);
			continue;
		}
		pp = &j->next;
	}
}

/* Start one run; the job, or NULL with *cause (static string). */
static struct optimize_job *
job_spawn(struct pacerd *d, const char *trigger, const char **cause)
{
	struct optimize_job	*j;
	char			 pacer[PATH_MAX], suffix[8];
	struct tm		 tm;
	time_t			 now = time(NULL);
	int			 fds[2];

	for (struct optimize_job *r = d->optimizer->jobs; r != NULL; r = r->next) {
		if (r->state == JOB_RUNNING) {
			*cause = "a run is already in progress";
			return NULL;
		}
	}
	if ((j = calloc(1, sizeof *j)) == NULL) {
		*cause = "out of memory";
		return NULL;
	}
	gmtime_r(&now, &tm);
	snprintf(suffix, sizeof suffix, "%04x", (unsigned)(d->salt ^
	    (uint64_t)now ^ d->optimizer->seq++) & 0xffff);
	strftime(j->run_id, sizeof j->run_id, "%Y%m%dT%H%M%SZ", &tm);
	strncat(j->run_id, "-", sizeof j->run_id - strlen(j->run_id) - 1);
	strncat(j->run_id, suffix, sizeof j->run_id - strlen(j->run_id) - 1);
	j->gap = -1;
	j->started = now;
	j->trigger = trigger;
	job_pacer_path(pacer, sizeof pacer);
	if (pipe(fds) != 0) {
		free(j);
		*cause = "cannot make a pipe";
		return NULL;
	}
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);	/* dup2 makes the child's copy */
	if ((j->pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		free(j);
		*cause = "cannot fork";
		return NULL;
	}
	if (j->pid == 0) {
		/* stdin and stdout /dev/null, stderr the progress pipe, no more. */
		int devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, STDIN_FILENO);
			dup2(devnull, STDOUT_FILENO);
		}
		if (fds[1] == STDERR_FILENO)
			fcntl(fds[1], F_SETFD, 0);
		else
			dup2(fds[1], STDERR_FILENO);
		job_close_from(STDERR_FILENO + 1);
		/* pacerd ignores SIGPIPE; the optimizer runs as from a shell. */
		signal(SIGPIPE, SIG_DFL);
		execl(pacer, "pacer", "optimize", "-c", d->conf_path, "--run-id",
		    j->run_id, (char *)NULL);
		execlp("pacer", "pacer", "optimize", "-c", d->conf_path, "--run-id",
		    j->run_id, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	evutil_make_socket_nonblocking(fds[0]);
	j->out = bufferevent_socket_new(d->base, fds[0], BEV_OPT_CLOSE_ON_FREE);
	if (j->out != NULL) {
		bufferevent_setcb(j->out, job_read_cb, NULL, job_event_cb, j);
		bufferevent_enable(j->out, EV_READ);
	} else
		close(fds[0]);
	j->next = d->optimizer->jobs;
	d->optimizer->jobs = j;
	job_trim(d);
	log_info("optimizer run started", "run_id=%s trigger=%s pid=%d", j->run_id,
	    trigger, (int)j->pid);
	return j;
}

/* A job's status as JSON (new reference). */
static json_t *
job_json(const struct optimize_job *j)
{
	static const char *const names[] = { "running", "done", "failed" };
	json_t	*o = json_pack("{s:s,s:s,s:s,s:I}", "run_id", j->run_id, "status",
	    names[j->state], "trigger", j->trigger, "started", (json_int_t)j->started);

	json_object_set_new(o, "progress", json_string(j->progress));
	json_object_set_new(o, "gap", j->gap >= 0 ? json_real(j->gap) : json_null());
	if (j->state != JOB_RUNNING) {
		json_object_set_new(o, "exit_code", json_integer(j->exit_code));
		json_object_set_new(o, "finished", json_integer(j->finished));
	}
	return o;
}

void
optimize_job_start_http(struct pacerd *d, struct http_request *req)
{
	struct optimize_job	*j;
	const char		*cause;
	json_t			*o;

	if ((j = job_spawn(d, "api", &cause)) == NULL) {
		http_error(d, req, strstr(cause, "progress") ? 409 : 500, "%s", cause);
		return;
	}
	log_audit("admin action", "action=optimize by=%s run_id=%s",
	    routes_caller(d, req), j->run_id);
	o = json_pack("{s:s}", "run_id", j->run_id);
	http_json(d, req, 202, o);
	json_decref(o);
}

void
optimize_job_status_http(struct pacerd *d, struct http_request *req,
    const char *run_id)
{
	struct optimize_job	*j = job_find(d, run_id);
	json_t			*o;

	if (j == NULL) {
		http_error(d, req, 404, "no run \"%.80s\" started by this daemon", run_id);
		return;
	}
	o = job_json(j);
	http_json(d, req, 200, o);
	json_decref(o);
}

/* Seconds until the next scheduled run, or -1 when none is configured. */
static long
job_next_delay(const struct conf *c, time_t now)
{
	struct tm	 tm;
	long		 at, secs;

	if (c->optimizer.every > 0)
		return (long)c->optimizer.every;
	if (c->optimizer.run_at < 0)
		return -1;
	localtime_r(&now, &tm);
	secs = tm.tm_hour * 3600L + tm.tm_min * 60L + tm.tm_sec;
	at = c->optimizer.run_at * 60L;
	return at > secs ? at - secs : 86400 - secs + at;
}

/* The schedule fired: start a run and re-arm. */
static void
job_schedule_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct pacerd	*d = arg;
	const char	*cause;

	(void)fd;
	(void)ev;
	if (job_spawn(d, "schedule", &cause) == NULL)
		log_warn("scheduled optimizer run not started", "error=\"%s\"", cause);
	optimize_job_reschedule(d);
}

void
optimize_job_reschedule(struct pacerd *d)
{
	long		 delay = job_next_delay(d->rules->conf, time(NULL));
	struct timeval	 tv = { delay, 0 };

	evtimer_del(d->optimizer->schedule);
	if (delay < 0)
		return;
	evtimer_add(d->optimizer->schedule, &tv);
	log_debug("optimizer scheduled", "in_seconds=%ld", delay);
}

int
optimize_job_init(struct pacerd *d)
{
	struct optimize_jobs	*o;

	if ((o = calloc(1, sizeof *o)) == NULL)
		return -1;
	d->optimizer = o;
	o->sigchld = evsignal_new(d->base, SIGCHLD, job_sigchld_cb, d);
	o->schedule = evtimer_new(d->base, job_schedule_cb, d);
	if (o->sigchld == NULL || o->schedule == NULL ||
	    evsignal_add(o->sigchld, NULL) != 0)
		return -1;
	optimize_job_reschedule(d);
	return 0;
}

void
optimize_job_free_all(struct pacerd *d)
{
	struct optimize_jobs	*o = d->optimizer;

	if (o == NULL)
		return;
	while (o->jobs != NULL) {
		struct optimize_job *j = o->jobs;

		o->jobs = j->next;
		if (j->out != NULL)
			bufferevent_free(j->out);
		free(j);
	}
	if (o->sigchld != NULL)
		event_free(o->sigchld);
	if (o->schedule != NULL)
		event_free(o->schedule);
	free(o);
	d->optimizer = NULL;
}
