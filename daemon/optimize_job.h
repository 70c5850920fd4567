/*
 * Optimizer runs started by pacerd: on schedule (optimizer.run_at or
 * optimizer.every) and on POST /v1/optimize. Each run is a child process
 * (`pacer optimize`), so the event loop never blocks; its progress lines are
 * read from a pipe.
 */
#ifndef PACERD_OPTIMIZE_JOB_H
#define PACERD_OPTIMIZE_JOB_H

struct pacerd;
struct http_request;

/* optimize_job.c */
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

#endif /* PACERD_OPTIMIZE_JOB_H */
