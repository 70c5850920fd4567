/*
 * pacerd private header: one section of prototypes per file.
 */
#ifndef PACERD_H
#define PACERD_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <jansson.h>

#include "pacer/conf.h"
#include "pacer/keys.h"
#include "pacer/offers.h"
#include "pacer/rules.h"
#include "pacer/slot.h"

struct store;
struct metrics;
struct auth;
struct http_server;
struct http_request;
struct decide_call;
struct ssl_ctx_st;		/* OpenSSL's SSL_CTX */

#define DECIDE_BATCH_MAX	1000
#define DECIDE_LOG_LEN		50	/* recent decisions an explanation shows */
#define DECIDE_AUDIT_LEN	100000	/* entries kept in the audit stream */
#define DECIDE_IDEMPOTENCY_S	(2 * 86400) /* records kept at least, or the longest window */

/* Checks for one channel, with and without a campaign, ready for the script. */
struct decide_program {
	struct rules_check	 check[RULES_MAX_CHECKS];
	int			 ncheck;
	/*
	 * The script's program argument (daemon/decide.lua): the channel's
	 * fixed values, then "scope:limit:window:segment:shadow;..."
	 */
	char			 packed[128 + CONF_NAME_MAX + RULES_MAX_CHECKS * (CONF_NAME_MAX + 40)];
	size_t			 packedlen;
	/* The checks in the program's order: the script's answers name them. */
	int			 order[RULES_MAX_CHECKS];
	int			 norder;
};

/* Everything a running configuration needs, swapped as one on reload. */
struct pacerd_rules {
	struct conf		*conf;
	struct offers		*offers;	/* NULL when the offers file is absent */
	struct decide_program	 program[CONF_MAX_CHANNELS][2];
	char			**suppress;	/* per offer: decide_suppress_build */
	struct auth		*auth;		/* NULL: no tokens_file */
	struct ssl_ctx_st	*tls;		/* NULL: no tls_cert (plain HTTP) */
	int			 refs;		/* requests holding it, +1 while live */
};

/* A plan run pacerd knows of: the live one, the candidate. */
enum pacerd_role { PACERD_LIVE, PACERD_CANDIDATE, PACERD_ROLES };
struct pacerd_run {
	char		 id[KEYS_RUN_MAX + 1];	/* "" none */
	char		 stem[KEYS_STEM_MAX];	/* its plan's keys; "" for a
						   run without (its entries
						   are PREFIX:{C}:o fields) */
};
/* A poll of one role's run id (pacerd.c). */
struct pacerd_poll {
	struct pacerd	*d;
	enum pacerd_role role;
	char		 id[KEYS_RUN_MAX + 1];	/* being looked up */
};

/* The daemon. */
struct pacerd {
	struct event_base	*base;
	struct http_server	*http;
	struct pacerd_rules	*rules;		/* live configuration */
	const char		*conf_path;
	struct store		*store;
	struct metrics		*metrics;
	struct pacerd_run	 run[PACERD_ROLES]; /* read every second */
	struct pacerd_poll	 poll[PACERD_ROLES];
	struct event		*plan_timer;
	struct event		*sig_hup, *sig_term, *sig_int;
	struct event		*drain_timer;
	int			 draining;
	uint64_t		 salt;		/* random, drawn once at start:
						   what makes send and run ids
						   of this process its own */
	struct decide_queue	*decide;	/* decide.c's */
	struct optimize_jobs	*optimizer;	/* optimize_job.c's */
};

/* log.c */
enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
extern enum log_level log_threshold;
/* Log "level=L msg="..." key=value..." to stderr, if level passes. */
void	 log_at(enum log_level, const char *msg, const char *fmt, ...)
	     __attribute__((format(printf, 3, 4)));
#define log_debug(...) do { if (log_threshold <= LOG_DEBUG) log_at(LOG_DEBUG, __VA_ARGS__); } while (0)
#define log_info(...) do { if (log_threshold <= LOG_INFO) log_at(LOG_INFO, __VA_ARGS__); } while (0)
#define log_warn(...) log_at(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_at(LOG_ERROR, __VA_ARGS__)
/*
 * One log line, no newline (caller frees; NULL when out of memory): ts of
 * now_ms (unix ms), level, msg, then fmt's key=value pairs, every string
 * value escaped and quoted as logfmt needs.
 */
char	*log_format(int64_t now_ms, enum log_level, const char *msg,
	     const char *fmt, va_list ap);
/*
 * The admin audit trail: one info line whatever the log level (profile and
 * consent changes, erasures, reloads, optimizer runs), with who did it.
 */
void	 log_audit(const char *msg, const char *fmt, ...)
	     __attribute__((format(printf, 2, 3)));
/* Log and exit 1: start-up failures and broken invariants only. */
void	 fatalx(const char *msg, const char *fmt, ...)
	     __attribute__((format(printf, 2, 3), noreturn));
/* Route libevent's own messages into the log. */
void	 log_libevent(void);

/* rules_live.c */
/* Build a running configuration from a loaded conf (takes ownership). */
struct pacerd_rules *pacerd_rules_new(struct conf *, char **cause);
/* Take a reference on the live rules for one request. */
struct pacerd_rules *pacerd_rules_ref(struct pacerd *);
/* Drop a reference; frees the rules when the last one goes. */
void	 pacerd_rules_unref(struct pacerd_rules *);
/*
 * The one reload of SIGHUP and POST /v1/admin/reload: pacerd_reload, then
 * its metrics, the optimizer schedule, the log and the admin audit trail
 * (by: who asked); 0, or -1 with *cause (caller frees).
 */
int	 pacerd_reload_by(struct pacerd *, const char *by, char **cause);
/* Reload the config file: swap only if it validates; 0 or -1 (*cause). */
int	 pacerd_reload(struct pacerd *, char **cause);
/* A request starts or stops waiting on the store (a drain waits for none). */
void	 http_hold(struct pacerd *);
void	 http_release(struct pacerd *);
int	 http_inflight(const struct pacerd *);
/* Format a check for answers: "email 3/7d", "segment vulnerable 1/7d". */
void	 pacerd_rule_text(const char *desc, const char *channel, int shadow,
	     char *buf, size_t len);

/* http.c */
/*
 * A request handed to a handler is borrowed: it stays valid until the
 * handler answers it, exactly once, with http_send_text, http_json or
 * http_error (now or from a store callback). If the client has gone by
 * then, the answer is dropped.
 */
/* Listen and serve; 0 or -1 (*cause). */
int	 http_start(struct pacerd *, char **cause);
/* Stop accepting new connections (open ones are served on). */
void	 http_stop_accepting(struct pacerd *);
/* Close every connection and free the server; requests still held by
 * handlers become invalid, so the store goes first. */
void	 http_free(struct pacerd *);
int	 http_connections(const struct pacerd *);
/*
 * The stable machine-readable code of an error answer ({"code": ...}
 * beside "error"): from the message's head ("unknown field" →
 * unknown_field, "channel: unknown ..." → unknown_channel, "customer: ..."
 * → bad_customer, JSON → bad_json), else from the status (too_large,
 * not_found, store_unavailable, ...). README lists them.
 */
#define HTTP_CODE_MAX	48
void	 http_error_code(int status, const char *msg, char *code, size_t len);
/* The one place that writes {"error": ..., "code": ...} and its status. */
void	 http_error(struct pacerd *, struct http_request *, int status,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* routes.c: the route table. */
/* Routes' paths: routes_path(0 .. ROUTES_NPATHS - 1), as OpenAPI names them. */
#define ROUTES_NPATHS	11
#define ROUTES_UNKNOWN	ROUTES_NPATHS		/* a path of no route */
/* Answer a complete request: the route that takes it, or the error. */
void	 routes_dispatch(struct pacerd *, struct http_request *);
/* The index of the route path of uri (its query ignored), or ROUTES_UNKNOWN. */
int	 routes_of(const char *uri);
/* The path of route index i ("/v1/customers/{id}"), NULL past the last. */
const char *routes_path(int i);
/* Who calls: the name of the request's token, "open" without a tokens file. */
const char *routes_caller(struct pacerd *, const struct http_request *);
/* The name of the request's token when it is a known one, else NULL. */
const char *routes_token(struct pacerd *, const struct http_request *);
/* http_error with its stable code given (send_id_conflict, ...). */
void	 http_error_coded(struct pacerd *, struct http_request *, int status,
	     const char *code, const char *fmt, ...)
	     __attribute__((format(printf, 5, 6)));
/* Send a JSON document (borrowed) with status. */
void	 http_json(struct pacerd *, struct http_request *, int status, json_t *);
/* Send a prepared body (borrowed) with status and content type. */
void	 http_send_text(struct pacerd *, struct http_request *, int status,
	     const char *body, size_t len, const char *content_type);
/*
 * Parse the request body (at most server.max_body_bytes) as a JSON object;
 * new reference, or NULL after answering 4xx. batch: word a 413 for it.
 */
json_t	*http_body_json(struct pacerd *, struct http_request *, int batch);
/* A request header's value (borrowed, valid until the answer), or NULL. */
const char *http_header(const struct http_request *, const char *name);
/* The request target as sent: path, then "?query" or not. */
const char *http_target(const struct http_request *);
/* The request's method (http_parser's enum http_method). */
unsigned http_method_of(const struct http_request *);
/* Note the request's route (routes_of) for the request counters. */
void	 http_set_route(struct http_request *, int route);
/* Close the connection once this request is answered. */
void	 http_close_after(struct http_request *);
/* The longest request path routed (414 past it). */
#define HTTP_PATH_MAX	512
/* Copy a query parameter, percent-decoded, into buf; buf, or NULL when
 * absent or longer than len - 1. */
const char *http_query(const struct http_request *, const char *name, char *buf,
	     size_t len);

/* tls.c */
/*
 * The listener's TLS context from [server] tls_cert and tls_key: 0 with
 * *out set (NULL when TLS is off), or -1 with *cause "file:line: message"
 * (caller frees) for an unreadable, malformed or mismatched file. The
 * caller frees *out with tls_ctx_free.
 */
int	 tls_ctx_new(const struct conf *, struct ssl_ctx_st **out, char **cause);
/* Drop a reference to a context (connections hold their own); accepts NULL. */
void	 tls_ctx_free(struct ssl_ctx_st *);

/* decide.c */
/*
 * A decision's script argument: numbers, ids, names, the plan run id and
 * the suppressing segments (";seg;...;", at most every segment).
 */
#define DECIDE_ARG_MAX (64 + KEYS_SEND_ID_MAX + KEYS_CUSTOMER_MAX + \
	3 * CONF_NAME_MAX + KEYS_PLAN_MAX + 2 + \
	CONF_MAX_SEGMENTS * (CONF_NAME_MAX + 1))
/* A script answer: reason, retry, the rule, every shadow rule. */
#define DECIDE_ANSWER_MAX (64 + (RULES_MAX_CHECKS + 1) * (32 + CONF_NAME_MAX))
/* A parsed, validated decision request. */
struct decide_request {
	char		 customer[KEYS_CUSTOMER_MAX + 1];
	int		 channel;
	int		 campaign;	/* offers campaign index, -1: none */
	char		 campaign_name[CONF_NAME_MAX];
	int		 offer;		/* offers index, -1: none */
	char		 send_id[KEYS_SEND_ID_MAX + 1];
	int		 has_send_id;
	int64_t		 time;		/* the client's, when has_time */
	int		 has_time;	/* else Redis's clock decides */
	int		 dry_run;
	int		 schedule;	/* hold a curable denial: reserve later */
	enum conf_priority priority;	/* the request's or its campaign's */
	int		 exempt;	/* its campaign skips caps and quiet hours */
	int		 counts;	/* an exempt contact counts toward caps */
};
/*
 * Validate one decision object against the rules; 0, or -1 with a message
 * in cause (what is wrong, for a 400).
 */
int	 decide_parse(const struct pacerd_rules *, json_t *, int64_t now,
	     struct decide_request *, char *cause, size_t causelen);
/*
 * One decision's script argument (daemon/decide.lua) into buf: r (parsed
 * by decide_parse) with program prog (1-based, of the call) and plan, the
 * live run's (decide_plan_arg); its length.
 */
size_t	 decide_pack(const struct pacerd_rules *, const struct decide_request *r,
	     int prog, const char *plan, char *buf, size_t len);
/*
 * The plan bucket of stem (a run's) holding customer's entry,
 * "PREFIX:plan:{TAG}:STEM:K", into buf (KEYS_PLAN_MAX bytes).
 */
void	 decide_plan_key(const struct pacerd *, const char *stem,
	     const char *customer, char *buf, size_t len);
/*
 * decide.lua's PLAN for a decision on customer's offer: the live run's
 * bucket (decide_plan_key), "=RUN" for a legacy run, "-" when none is live.
 */
void	 decide_plan_arg(const struct pacerd *, const char *customer, char *buf,
	     size_t len);
/*
 * The script's deadline argument for a call whose first decision arrived
 * at first (unix ms, decide_now_ms): on Redis's clock, as text in buf.
 */
void	 decide_deadline(struct pacerd *, const struct conf *, int64_t first,
	     char *buf, size_t len);
/* The event loop's cached wall clock, unix ms. */
int64_t	 decide_now_ms(struct pacerd *);
/*
 * Split a script answer (decide.lua's "reason|retry|rule|shadow|duplicate|
 * next_allowed|reserved_for", or "ok") into f (missing fields ""), in buf;
 * -1 for "conflict", else 0.
 */
#define DECIDE_ANSWER_FIELDS 7
int	 decide_answer_split(const char *answer, char *buf, size_t len,
	     char *f[DECIDE_ANSWER_FIELDS]);
/* The reason a script answer names (store_unavailable when unknown). */
enum rules_reason decide_reason(const char *);
const struct rules_check *decide_rule(const struct decide_program *,
	     const char *rule, const char *channel, char *buf, size_t len);
/* Fill the program of channel ch (with or without a campaign). */
/*
 * The script's suppression argument for an offer category: ";seg;seg;" of
 * the segments whose exclusions name it, or "" (allocated; NULL: no memory).
 */
char	*decide_suppress_build(const struct conf *, const char *category);
void	 decide_program_build(const struct conf *, int ch, int has_campaign,
	     struct decide_program *);
/* Set up the per-turn script call; 0 or -1. */
int	 decide_init(struct pacerd *);
/* Send what waits and free the set-up (before the store goes). */
void	 decide_shutdown(struct pacerd *);
/* POST /v1/decide */
void	 decide_handle(struct pacerd *, struct http_request *);
/* POST /v1/decide/batch */
void	 decide_batch_handle(struct pacerd *, struct http_request *);
/* POST /v1/cancel */
void	 decide_cancel_handle(struct pacerd *, struct http_request *);

/* customer.c */
/* PUT /v1/customers/{id} */
void	 customer_put(struct pacerd *, struct http_request *, const char *id);
/* GET /v1/customers/{id} */
void	 customer_get(struct pacerd *, struct http_request *, const char *id);
/* DELETE /v1/customers/{id} */
void	 customer_delete(struct pacerd *, struct http_request *, const char *id);

/* store.c */
struct store_link;
#define STORE_LINKS_MAX	64	/* Redis servers: one, or a cluster's masters */
/*
 * A value a store call answered: read through the store_* accessors below,
 * so that no handler walks hiredis's replies. Borrowed, valid during the
 * callback; every accessor takes NULL (none) and answers "nothing".
 */
struct store_value;
enum store_type { STORE_NONE, STORE_TEXT, STORE_INTEGER, STORE_LIST };
/* One reply of a store call. */
struct store_reply {
	int		 ok;		/* 0: timeout, disconnect or error */
	const char	*error;		/* why not ok */
	const struct store_value *value; /* the reply when ok */
};
enum store_type store_type(const struct store_value *);
/* A text (a string or status reply) and its length, or NULL. */
const char *store_text(const struct store_value *, size_t *len);
/* An integer reply into *out: 0, or -1 for anything else. */
int	 store_integer(const struct store_value *, long long *out);
/* A list's length (0 for anything else), and item i (NULL past the end). */
size_t	 store_count(const struct store_value *);
const struct store_value *store_item(const struct store_value *, size_t i);
/* The text of a list's item i, or NULL. */
const char *store_item_text(const struct store_value *, size_t i);
/* The value of field name in a flat field/value list (HGETALL), or NULL. */
const char *store_field(const struct store_value *, const char *name);
typedef void (*store_cb)(const struct store_reply *, void *arg);
/* Connect (asynchronously; reconnects with backoff). NULL on setup error. */
struct store *store_new(struct event_base *, const struct conf *, char **cause);
/* Close and free; pending callbacks get a failure. Accepts NULL. */
void	 store_free(struct store *);
/* Whether the store is connected and its function library is loaded. */
int	 store_ready(const struct store *);
/* Change the per-call timeout. */
void	 store_set_timeout(struct store *, int timeout_ms);
/*
 * Call one of the library's functions (daemon/NAME.lua, as FCALL) with
 * keys and args (copied). cb runs exactly once: with the reply, or a
 * failure after timeout_ms (-1: the configured redis.timeout_ms).
 */
enum store_script { STORE_DECIDE, STORE_CANCEL, STORE_READ, STORE_ERASE,
	STORE_ERASE_AUDIT, STORE_EXPLAIN, STORE_PROFILE, STORE_NSCRIPTS };
int	 store_script(struct store *, enum store_script, int nkeys, int argc,
	     const char **argv, const size_t *argvlen, int timeout_ms, store_cb,
	     void *arg);
/* Functions beyond store_script's: decide_cluster (daemon/cluster.lua). */
#define STORE_DECIDE_CLUSTER	((int)STORE_NSCRIPTS)
#define STORE_NFUNCTIONS	(STORE_DECIDE_CLUSTER + 1)
/*
 * Make a call of function script (-1: a plain command) on link pin, or
 * with pin NULL on the Redis of its first key's slot (a cluster follows
 * MOVED and ASK); argv copied, cb as for store_script. For cluster.c.
 */
int	 store_call_on(struct store *, struct store_link *pin, int script,
	     int nkeys, int argc, const char **argv, const size_t *argvlen,
	     int timeout_ms, store_cb, void *arg);
/* The link to host:port, connecting when new (borrowed; NULL: no memory). */
struct store_link *store_link_get(struct store *, const char *host, int port);
/* Whether a link is connected, its library loaded, writes taken. */
int	 store_link_ready(const struct store_link *);
/* Inside a store callback: the link whose reply it is (NULL: none). */
struct store_link *store_replying(const struct store *);
/* A link's index, 0 .. STORE_LINKS_MAX - 1. */
int	 store_link_id(const struct store_link *);
/* [redis] wait_replicas. */
int	 store_wait_replicas(const struct store *);
/* Whether the store is a Redis Cluster. */
int	 store_clustered(const struct store *);
/* PREFIX:audit, the one Redis's audit stream (borrowed). */
const char *store_audit_key(const struct store *);
/* The event loop (borrowed). */
struct event_base *store_base(const struct store *);
/* Send one command (argv copied); cb as for store_script. */
int	 store_command(struct store *, int argc, const char **argv,
	     const size_t *argvlen, store_cb, void *arg);
/*
 * Redis's clock minus ours in ms, as last measured (TIME, halfway through
 * its round trip), and the measure's uncertainty (half the round trip);
 * 0 before the first measure, which readiness waits for.
 */
int64_t	 store_clock_offset_ms(const struct store *, int64_t *uncertainty_ms);
/* Whether Redis refuses writes for lack of memory (OOM) right now. */
int	 store_oom(const struct store *);
/* Round-trip statistics for metrics. */
void	 store_stats(const struct store *, uint64_t *calls, uint64_t *errors,
	     uint64_t *timeouts);

/* cluster.c */
struct cluster;
/* An empty slot map with a tag per slot; NULL when out of memory. */
struct cluster *cluster_new(const char *prefix);
/* Free the map; accepts NULL. */
void	 cluster_free(struct cluster *);
/* The master of slot (borrowed), NULL when none is known. */
struct store_link *cluster_link(const struct cluster *, int slot);
/* Note slot's new master (a MOVED answer). */
void	 cluster_set_slot(struct cluster *, int slot, struct store_link *);
/* Read a CLUSTER SLOTS reply (redisReply *) into the map; 0 or -1. */
int	 cluster_read_slots(struct cluster *, struct store *, const void *reply);
/* Whether every slot has a master that is ready (store_link_ready). */
int	 cluster_ready(const struct cluster *);
/* The audit stream of a master (borrowed): PREFIX:audit:{TAG}. */
const char *cluster_audit_key(const struct cluster *, const struct store_link *);
/*
 * A decide call (decide.c's arguments) split over the masters of its
 * customers (cl NULL: one Redis, for wait_replicas), each decision's
 * answer in its place; cb as for store_script. 0 or -1.
 */
int	 cluster_decide(struct store *, struct cluster *cl, int nkeys, int argc,
	     const char **argv, const size_t *argvlen, int timeout_ms, store_cb,
	     void *arg);
/*
 * An erase_audit slice (customer.c's arguments) over every master's audit
 * stream: the cursor "SLOT/ENTRY" walks them all, "" at the end. 0 or -1.
 */
int	 cluster_erase_audit(struct store *, const struct cluster *, int argc,
	     const char **argv, const size_t *argvlen, int timeout_ms, store_cb,
	     void *arg);

/* metrics.c */
struct metrics *metrics_new(void);
void	 metrics_free(struct metrics *);
/* Count one decision. */
void	 metrics_decision(struct metrics *, int channel, enum rules_reason,
	     double seconds);
/* Count a decision allowed unchecked (store failure, on_store_failure allow). */
void	 metrics_fail_open(struct metrics *, int channel);
/* Count one answered HTTP error. */
void	 metrics_http_error(struct metrics *, int status);
/* Count a store round trip. */
void	 metrics_store_rtt(struct metrics *, double seconds, int ok);
/* Count a shadow rule's would-deny. */
void	 metrics_shadow(struct metrics *, const char *rule);
/* Count a reload. */
void	 metrics_reload(struct metrics *, int ok);
/* Count one answered request (route: routes_of's index, -1: refused
   before routing). */
void	 metrics_http_request(struct metrics *, int route, unsigned method,
	     int status);
/* A finished optimizer run, as the metrics show the last one. */
struct metrics_optimizer_run {
	int		 ok;		/* exit status 0 */
	int		 exit_code;
	double		 gap;		/* relative, -1: never reported */
	double		 objective;
	int		 has_objective;
	double		 duration_seconds;
	int64_t		 finished;	/* unix seconds */
};
/* Record the last finished optimizer run (copied). */
void	 metrics_optimizer_run(struct metrics *, const struct metrics_optimizer_run *);
/* GET /metrics */
void	 metrics_handle(struct pacerd *, struct http_request *);

/*
 * auth.c: bearer tokens with roles (server.tokens_file).
 */
enum auth_role {
	AUTH_NONE = -1,		/* no or unknown token */
	AUTH_DECIDE = 0,	/* decide, batch, cancel, customer read */
	AUTH_ADMIN = 1,		/* everything */
};

#define AUTH_NAME_MAX	64	/* a token's name, with its NUL */

/* Read "TOKEN ROLE [NAME]" lines; NULL with *cause "file:line: message" (caller frees). */
struct auth	*auth_load(const char *path, char **cause);
/* Free; accepts NULL. */
void		 auth_free(struct auth *);
/* The role of an Authorization header value ("Bearer TOKEN"), in constant time. */
enum auth_role	 auth_role(const struct auth *, const char *header);
/*
 * The name of the token an Authorization header value carries (the third
 * column of its line, else its role; borrowed), or NULL: no such token, or
 * no tokens file (a may be NULL).
 */
const char	*auth_name(const struct auth *, const char *header);

/*
 * optimize_job.c: optimizer runs started by pacerd, on schedule
 * (optimizer.run_at or optimizer.every) and on POST /v1/optimize. Each run
 * is a child process (`pacer optimize`), so the event loop never blocks;
 * its progress lines are read from a pipe.
 */
/* Start watching children and arm the schedule; 0 or -1. */
int	 optimize_job_init(struct pacerd *);
/* Re-arm the schedule after a reload. */
void	 optimize_job_reschedule(struct pacerd *);
/* POST /v1/optimize */
void	 optimize_job_start_http(struct pacerd *, struct http_request *);
/* GET /v1/optimize/{run_id} */
void	 optimize_job_status_http(struct pacerd *, struct http_request *,
	     const char *run_id);
/* Free every job record (children are left to finish on their own). */
void	 optimize_job_free_all(struct pacerd *);

#endif /* PACERD_H */
