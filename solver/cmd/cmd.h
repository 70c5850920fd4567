/*
 * The pacer command: one file per subcommand, each a thin shell around the
 * libraries. Every subcommand returns the process exit status: 0 success,
 * 1 bad input or config (message names file:line or field), 2 a required
 * service (Redis) cannot be reached.
 */
#ifndef PACER_CMD_H
#define PACER_CMD_H

#include "pacer/clock.h"
#include "pacer/intern.h"
#include "pacer/str.h"

#define CMD_OK		0
#define CMD_BAD_INPUT	1
#define CMD_NO_SERVICE	2

#include <stddef.h>
#include <stdint.h>

struct conf;
struct cmd_redis;
struct redisReply;

/* cmd_util.c */
#define CMD_OUT_BUF (1 << 20)

/* A buffered file writer: faster than stdio for millions of short lines. */
struct cmd_out {
	int		 fd;
	const char	*path;		/* borrowed */
	char		*buf;
	size_t		 len;
	int		 failed;	/* errno of the first failed write */
};

/* Rate limiter for progress lines on stderr. */
struct cmd_progress {
	double	 start;
	double	 last;
};

/* One "pacer CMD: message" line on stderr. */
void		 cmd_log(const char *cmd, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
/* Whether a progress line is due (at most two a second). */
int		 cmd_progress_due(struct cmd_progress *);
/* Print "what done/total (pct) rate/s elapsed" on stderr. */
void		 cmd_progress_line(struct cmd_progress *, const char *cmd,
		    const char *what, uint64_t done, uint64_t total);
/* Create path for writing; NULL with *cause (caller frees). */
struct cmd_out	*cmd_out_open(const char *path, char **cause);
/* Write the buffer out; 0 or -1 (remembered until close). */
int		 cmd_out_flush(struct cmd_out *);
/* Append n bytes. */
void		 cmd_out_put(struct cmd_out *, const char *s, size_t n);
/* Append a string. */
void		 cmd_out_str(struct cmd_out *, const char *s);
/* Append one character. */
void		 cmd_out_char(struct cmd_out *, char c);
/* Append an unsigned decimal. */
void		 cmd_out_u64(struct cmd_out *, uint64_t v);
/* Append v with a fixed number of decimals (0..8). */
void		 cmd_out_fixed(struct cmd_out *, double v, int decimals);
/* Flush, close and free; 0 or -1 with *cause if any write failed. */
int		 cmd_out_close(struct cmd_out *, char **cause);
/* mkdir -p; 0 or -1 with *cause (caller frees). */
int		 cmd_mkdirs(const char *path, char **cause);
/* 64 random bits from the system (not for the demo data: that is seeded). */
uint64_t	 cmd_random64(void);
/* A run id: UTC time of when plus a random suffix, "20261123T020000Z-1a2b". */
void		 cmd_run_id(int64_t when, char *buf, size_t len);
/* Whether s is 1..max bytes of [A-Za-z0-9_.:@-]. */
int		 cmd_valid_name(const char *s, size_t max);

/* cmd_redis.c */
#define CMD_PIPE_BATCH 4096	/* commands in flight before reading replies */

/*
 * A pipeline of write commands whose replies only need checking: append
 * many, read the replies in batches of CMD_PIPE_BATCH.
 */
struct cmd_pipe {
	struct cmd_redis	*ctx;		/* borrowed */
	int			 pending;	/* replies not yet read */
	uint64_t		 sent;		/* commands appended in total */
	int			 noscript;	/* NOSCRIPT or "Function not
						   found" replies read: Redis
						   lost a script or the library */
	uint8_t			*lost;		/* when set, lost[i] = 1 for the
						   i-th command (from 0) whose
						   reply was such a loss, which
						   is then not an error */
	uint64_t		 nread;		/* replies read in total */
};

/*
 * Connect to the config's Redis (AUTH when a password is set, then PING),
 * or with [redis] nodes to the Redis Cluster they belong to (its slot map
 * and every master). Returns the connection (caller frees with
 * cmd_redis_free) or NULL with *cause. Every command below goes to the
 * master of its key's slot; a command of no key (SCRIPT LOAD) to each.
 */
struct cmd_redis *cmd_redis_connect(const struct conf *, char **cause);
/* Close every connection; accepts NULL. */
void		 cmd_redis_free(struct cmd_redis *);
/* Whether the store is a Redis Cluster ([redis] nodes). */
int		 cmd_redis_is_cluster(const struct cmd_redis *);
/* How many Redis servers hold keys: 1, or a cluster's masters. */
int		 cmd_redis_nodes(const struct cmd_redis *);
/*
 * Run a command of no key (SCAN) on node 0..cmd_redis_nodes()-1 and return
 * its reply (caller frees), or NULL with *cause (also for an error reply).
 */
struct redisReply *cmd_redis_command_on(struct cmd_redis *, int node, int argc,
		    const char **argv, char **cause);
/* Why a connection failed (borrowed). */
const char	*cmd_redis_errstr(const struct cmd_redis *);
/*
 * Append one command (argv borrowed) to its master's pipeline; its reply
 * comes from cmd_redis_reply, in the order of appending. 0 or -1.
 */
int		 cmd_redis_append(struct cmd_redis *, int argc, const char **argv,
		    const size_t *argvlen, char **cause);
/* Append one command (argv borrowed); reads replies when a batch is full. */
int		 cmd_pipe_append(struct cmd_pipe *, int argc, const char **argv,
		    const size_t *argvlen, char **cause);
/* Read every outstanding reply; 0, or -1 naming the first error reply. */
int		 cmd_pipe_flush(struct cmd_pipe *, char **cause);
/* Run one command and return its reply (caller frees with freeReplyObject). */
struct redisReply *cmd_redis_command(struct cmd_redis *, int argc,
		    const char **argv, char **cause);
/*
 * Read the next reply of a pipeline into *reply (caller frees), following
 * a cluster's MOVED and ASK; 0, or -1 with *cause when the connection
 * failed.
 */
int		 cmd_redis_reply(struct cmd_redis *, struct redisReply **reply,
		    char **cause);
/* A string reply's text, or NULL (nil, error, other types); borrowed. */
const char	*cmd_reply_str(const struct redisReply *);

/* cmd_scores.c */
struct offers;

/*
 * scores.csv as compressed rows: the pairs of customer c (named
 * ids.arena + ids.off[c]) are start[c] .. start[c+1]-1.
 */
struct cmd_scores {
	struct intern	 ids;		/* customer ids */
	int64_t		*start;		/* ids.n + 1 */
	uint16_t	*offer;		/* index into the offers */
	float		*prop;		/* propensity in [0,1] */
	int64_t		 npairs;
	long		 lines;
};

/*
 * Read scores.csv; offers borrowed. Fills out (release with
 * cmd_scores_free), or returns -1 with *cause naming file:line: field.
 * Keeps only the customers whose Redis Cluster slot is in [slot_lo,
 * slot_hi) (one process's shard of pacer optimize; SLOT_COUNT for all):
 * every line is still read, the others' are not checked past their
 * customer field. A large file is read by up to threads threads (0: one
 * per CPU), with the same result.
 */
int		 cmd_scores_load_shard(const char *path, const struct offers *,
		    int slot_lo, int slot_hi, int threads, struct cmd_scores *out,
		    char **cause);
/* Free the arrays of s (not the struct); accepts NULL. */
void		 cmd_scores_free(struct cmd_scores *s);
/*
 * Free the rows (start, offer, prop) once the instance holds what it
 * needs of them: ids, npairs and lines stay.
 */
void		 cmd_scores_drop_rows(struct cmd_scores *s);

/* cmd_history.c */
struct rules_contact;

/*
 * The contacts of packed history h (len bytes, borrowed) with a time in
 * (from, to], the first max of them, into out in stored order; channel and
 * campaign as indexes into conf's channels and the offers' campaigns (-1:
 * unknown). Returns how many are in the window, more than max when out
 * was too small (read again with room for all), or -1 when h is malformed
 * (checked in full).
 */
int		 cmd_history_contacts(const char *h, size_t len,
		    const struct conf *, const struct offers *, int64_t from,
		    int64_t to, struct rules_contact *out, int max);

/* cmd_state.c */
/*
 * Each scores customer's state at the run's start t, read from Redis:
 * consent per channel, segments, contacts in the longest window, and the
 * remaining room under every cap (SOLVER_ROOM_NONE: no cap).
 */
struct cmd_state {
	int		 n;		/* customers, as in the scores */
	int		 nchannels;
	int		 ncampaigns;	/* the offers' campaigns */
	int64_t		 t;
	uint16_t	*consent;	/* bit ch: may be contacted on ch */
	uint32_t	*segments;	/* bit i: conf->segments[i] */
	uint64_t	*segment_names;	/* bit i: names.arena + names.off[i] */
	struct intern	 names;		/* segment names seen (first 64) */
	uint16_t	*room_all;	/* all-channel and segment caps and
					   max_offers_per_customer */
	uint16_t	*room_caps_all;	/* the caps alone (saturation) */
	uint16_t	*room_channel;	/* n * nchannels */
	uint16_t	*room_campaign;	/* n * ncampaigns */
	int		 ncategories;	/* the config's [category NAME] */
	uint16_t	*room_category;	/* n * ncategories */
	uint16_t	*contacts;	/* in (t - longest window, t] */
	int		 parts;		/* readers (threads, connections) */
};

/*
 * Read the state of every customer of scores (borrowed) in pipelined
 * batches, in parts on threads CPUs (0: every one), each part on a
 * connection of its own (ctx the first's).
 * Returns CMD_OK (release st with cmd_state_free), or with *cause
 * CMD_NO_SERVICE (Redis failed) or CMD_BAD_INPUT (a customer's stored
 * history is malformed; the message names the customer).
 */
int		 cmd_state_read(struct cmd_redis *, const struct conf *,
		    const struct offers *, const struct cmd_scores *,
		    int64_t t, int threads, struct cmd_state *st, char **cause);
/* Free the arrays of st (not the struct); accepts NULL. */
void		 cmd_state_free(struct cmd_state *st);
/*
 * Renumber the segment name bits of customers [b, e): bit g (of the first
 * n names) becomes bit map[g], or goes when map[g] is not 0-63.
 */
void		 cmd_state_renumber(struct cmd_state *st, int b, int e,
		    const int32_t *map, int n);

/* world.c and mpi.c */
#include "pacer/solver.h"

/*
 * The processes of one pacer optimize run: rank 0 .. size-1, each owning
 * the customers whose Redis Cluster slot is in [slot_lo, slot_hi). With
 * one process (no launcher, or pacer built without MPI) comm is NULL and
 * the run is exactly a single process's.
 */
struct cmd_world {
	int			 rank;
	int			 size;
	int			 slot_lo, slot_hi;
	int			 threads;	/* solver threads per rank, 0:
						   every CPU */
	int			 mpi;		/* MPI_Init was called */
	int			 err_fd;	/* rank > 0: the real stderr
						   (chatter goes to /dev/null),
						   else -1 */
	struct solver_comm	 comm;		/* the collective calls */
	const struct solver_comm *solver;	/* &comm when size > 1, or
						   NULL */
};

/* Rank r of size owns the slots [*lo, *hi): contiguous ranges. */
void		 cmd_world_slots(int rank, int size, int *lo, int *hi);
/* The Redis Cluster slot of a customer id (n bytes). */
int		 cmd_world_slot(const char *id, size_t n);
/* The world size a launcher (mpirun) gave this process; 1 without one. */
int		 cmd_world_launched(void);
/*
 * Join the run's processes: MPI only when a launcher started this one.
 * 0, or -1 with *cause (caller frees).
 */
int		 cmd_world_start(struct cmd_world *, char **cause);
/* Leave the world (MPI_Finalize); accepts a world never started. */
void		 cmd_world_end(struct cmd_world *);
/* Stop every process of the world with status (a rank failed alone). */
void		 cmd_world_abort(struct cmd_world *, int status);

/* optimize.c */
int	 cmd_optimize(int argc, char **argv);
/* plan.c */
int	 cmd_plan(int argc, char **argv);
/*
 * Make run_id the live plan after checking (atomically, in Redis) that it
 * exists, is complete and has not expired, and, unless force, that it does
 * not need --force (cmd_plan_needs_force; then *refused is 1); who is
 * recorded in the run's hash. Returns CMD_OK, CMD_BAD_INPUT or
 * CMD_NO_SERVICE with *cause set (caller frees).
 */
int	 cmd_plan_publish(struct cmd_redis *, const struct conf *,
	    const char *run_id, const char *who, int force, int *refused,
	    char **cause);
/*
 * Whether publishing a run needs --force (SPEC section 1): its solver
 * status (may be NULL) is not optimal or gap_reached, or it plans nothing
 * (assignments) while the live run (live, NULL when none, planning
 * live_assignments sends, -1 when unknown) plans something. 1 with the
 * reason in why (len bytes), or 0.
 */
int	 cmd_plan_needs_force(const char *solver_status, long assignments,
	    const char *live, long live_assignments, char *why, size_t len);
/*
 * The assignments of run_id's hash into *n (-1 when run_id is NULL or the
 * field is missing); 0, or -1 with *cause when Redis failed.
 */
int	 cmd_plan_assignments(struct cmd_redis *, const struct conf *,
	    const char *run_id, long *n, char **cause);
/*
 * The live and candidate run ids (each a new string the caller frees, or
 * NULL when unset); 0, or -1 with *cause when Redis failed.
 */
int	 cmd_plan_current(struct cmd_redis *, const struct conf *, char **live,
	    char **candidate, char **cause);
/* Who is publishing: $USER, $LOGNAME or "unknown" (static or environment). */
const char *cmd_plan_who(void);
/* simulate.c */
int	 cmd_simulate(int argc, char **argv);
/* load.c */
int	 cmd_load(int argc, char **argv);
/* demo.c */
int	 cmd_demo_data(int argc, char **argv);
/* report_cmd.c */
int	 cmd_report(int argc, char **argv);
/* consent.c */
int	 cmd_consent(int argc, char **argv);

#endif /* PACER_CMD_H */
