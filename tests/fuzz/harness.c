/*
 * The fuzz targets' daemon (harness.h). daemon/http.c is included so that
 * connections can be made without a listener: each input is a socketpair
 * handed to http_accept_cb, as a real accept would.
 */
#include "../../daemon/http.c"

#include <signal.h>

#include "harness.h"

static struct pacerd	 fuzz_d;
static int		 fuzz_ready;

const char	*__asan_default_options(void);

/*
 * ASan's defaults for these targets: a smaller quarantine, since every
 * input frees a connection (8 KB), and fresh pages for each cost more time
 * than the fuzzing; a use after free is still caught over many inputs.
 */
const char *
__asan_default_options(void)
{
	return "quarantine_size_mb=16";
}

/* Stand-ins for optimize_job.c: a fuzzer must not fork optimizer runs. */
int
optimize_job_init(struct pacerd *d)
{
	(void)d;
	return 0;
}

/* Stand-in: no schedule to re-arm. */
void
optimize_job_reschedule(struct pacerd *d)
{
	(void)d;
}

/* Stand-in for POST /v1/optimize. */
void
optimize_job_start_http(struct pacerd *d, struct http_request *req)
{
	http_error(d, req, 503, "no optimizer runs while fuzzing");
}

/* Stand-in for GET /v1/optimize/{run_id}. */
void
optimize_job_status_http(struct pacerd *d, struct http_request *req,
    const char *run_id)
{
	http_error(d, req, 404, "no such run: %.64s", run_id);
}

/* Stand-in: no job records. */
void
optimize_job_free_all(struct pacerd *d)
{
	(void)d;
}

/* Set up the daemon as pacerd's main does, without a listener. */
struct pacerd *
fuzz_daemon(void)
{
	struct pacerd		*d = &fuzz_d;
	struct conf		*conf;
	struct http_server	*srv;
	char			*cause = NULL;

	if (fuzz_ready)
		return d;
	signal(SIGPIPE, SIG_IGN);
	log_threshold = LOG_ERROR;
	d->conf_path = PACER_FUZZ_CONF;
	if ((conf = conf_load(d->conf_path, &cause)) == NULL ||
	    (d->rules = pacerd_rules_new(conf, &cause)) == NULL) {
		fprintf(stderr, "fuzz: %s\n", cause);
		abort();
	}
	d->salt = 0x5eed;
	if ((d->base = event_base_new()) == NULL ||
	    (d->metrics = metrics_new()) == NULL ||
	    (d->store = store_new(d->base, d->rules->conf, &cause)) == NULL ||
	    decide_init(d) != 0 || (srv = calloc(1, sizeof *srv)) == NULL ||
	    (srv->reap = event_new(d->base, -1, 0, http_reap_cb, srv)) == NULL) {
		fprintf(stderr, "fuzz: cannot set up the daemon\n");
		abort();
	}
	srv->d = d;
	d->http = srv;
	fuzz_ready = 1;
	return d;
}

/* Read and check what the daemon answered so far on the client's end. */
static void
fuzz_drain(int fd, char *seen, size_t *nseen)
{
	static char	 buf[65536];	/* not on the stack: ASan poisons it per call */
	ssize_t		 n;

	while ((n = read(fd, buf, sizeof buf)) > 0) {
		/* The first bytes of the first answer are a status line. */
		for (ssize_t i = 0; i < n && *nseen < 9; i++)
			seen[(*nseen)++] = buf[i];
		if (*nseen == 9 && memcmp(seen, "HTTP/1.1 ", 9) != 0)
			abort();
	}
}

/* Whether a connection still has its socket (orphans wait on the store). */
static int
fuzz_open(const struct http_server *srv)
{
	for (const struct http_conn *c = srv->conns; c != NULL; c = c->next)
		if (c->fd >= 0)
			return 1;
	return 0;
}

/* Run the loop until nothing is left to do (bounded). */
static void
fuzz_run(struct pacerd *d, int fd, char *seen, size_t *nseen, int turns)
{
	for (int i = 0; i < turns; i++) {
		event_base_loop(d->base, EVLOOP_NONBLOCK);
		fuzz_drain(fd, seen, nseen);
		if (!fuzz_open(d->http) && d->http->dead == NULL)
			break;
	}
}

void
fuzz_http_feed(const uint8_t *data, size_t size, size_t split)
{
	struct pacerd	*d = fuzz_daemon();
	int		 sv[2];
	size_t		 off = 0, nseen = 0;
	char		 seen[9];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0)
		abort();
	http_accept_cb(NULL, sv[0], NULL, 0, d->http);
	if (split == 0)
		split = size;
	while (off < size) {
		size_t	 len = size - off < split ? size - off : split;
		ssize_t	 n = write(sv[1], data + off, len);

		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno != EAGAIN)
			break;		/* the daemon closed its end */
		fuzz_run(d, sv[1], seen, &nseen, 1);
		if (!fuzz_open(d->http))
			break;
	}
	shutdown(sv[1], SHUT_WR);
	fuzz_run(d, sv[1], seen, &nseen, 64);
	/*
	 * Whatever still waits is cut off, as at shutdown; a request with a
	 * handler becomes an orphan, buried when its (failed) store call ends.
	 */
	for (struct http_conn *c = d->http->conns, *next; c != NULL; c = next) {
		next = c->next;
		if (c->fd >= 0)
			http_conn_close(c);
	}
	fuzz_run(d, sv[1], seen, &nseen, 8);
	close(sv[1]);
}

void
fuzz_http_request(const char *method, const char *target, const uint8_t *body,
    size_t len)
{
	static const char	 fmt[] = "%s %s HTTP/1.1\r\nHost: fuzz\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n";
	size_t			 cap = sizeof fmt + strlen(method) + strlen(target) + 24;
	uint8_t			*msg;
	int			 n;

	if ((msg = malloc(cap + len)) == NULL)
		abort();
	n = snprintf((char *)msg, cap, fmt, method, target, len);
	if (n < 0 || (size_t)n >= cap)
		abort();
	if (len > 0)
		memcpy(msg + n, body, len);
	fuzz_http_feed(msg, (size_t)n + len, 0);
	free(msg);
}

void
fuzz_http_query(const char *url, const char *const *names)
{
	struct http_request	 req;
	char			 buf[24];

	memset(&req, 0, sizeof req);
	req.head = (char *)(uintptr_t)url;	/* http_query only reads it */
	for (int i = 0; names[i] != NULL; i++)
		for (size_t len = 1; len <= sizeof buf; len++) {
			const char *v = http_query(&req, names[i], buf, len);

			if (v != NULL && (v != buf || strlen(buf) >= len))
				abort();
		}
}
