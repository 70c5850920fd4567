/*
 * mpirun -np K pacer optimize: the run's processes joined by MPI (built
 * only with PACER_MPI; world.c stands in without it). This file is the
 * only one that knows MPI: it implements the optimizer's collective calls
 * (struct solver_comm) on MPI_COMM_WORLD, and optimize.c uses the same
 * calls for its own sums (report figures, the plan file's offsets).
 *
 * MPI is started only when a launcher started this process: a plain
 * `pacer optimize` (pacerd's scheduler, a shell) never initialises MPI and
 * runs exactly as a build without it.
 */
#define _GNU_SOURCE	/* sched_getaffinity, CPU_COUNT */

#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mpi.h>

#include "cmd.h"

#define MPI_CHUNK	(1 << 30)	/* bytes per call: MPI counts are int */
#define MPI_SPIN_S	0.002		/* busy wait before napping */
#define MPI_NAP_NS	500000		/* then a test every 0.5 ms */

/*
 * Wait for a nonblocking collective. MPI's blocking calls poll at full
 * speed, so a rank waiting while rank 0 solves the polish or exact mode
 * alone (seconds to minutes) would burn a core that rank 0, the solver's
 * threads or Redis on the same machine could use. A sweep's sums come
 * within the spin; a longer wait naps between tests.
 */
static int
mpi_wait(MPI_Request *req)
{
	struct timespec	 nap = { 0, MPI_NAP_NS };
	double		 start = MPI_Wtime();
	int		 done = 0;

	for (;;) {
		if (MPI_Test(req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS)
			return -1;
		if (done)
			return 0;
		if (MPI_Wtime() - start > MPI_SPIN_S)
			nanosleep(&nap, NULL);
	}
}

/*
 * Sum of n doubles over the ranks, in place: reduced on rank 0 and
 * broadcast, so every rank holds the very same bits. An allreduce may add
 * in another order on each rank, and the solver's decisions (a better
 * bound, a plan kept, the gap reached) must be the same everywhere or the
 * ranks part ways in their collective calls.
 */
static int
mpi_sum_double(void *arg, double *v, int n)
{
	struct cmd_world	*w = arg;

	MPI_Request		 req;

	if (MPI_Ireduce(w->rank == 0 ? MPI_IN_PLACE : v, v, n, MPI_DOUBLE,
	    MPI_SUM, 0, MPI_COMM_WORLD, &req) != MPI_SUCCESS ||
	    mpi_wait(&req) != 0 ||
	    MPI_Ibcast(v, n, MPI_DOUBLE, 0, MPI_COMM_WORLD, &req) !=
	    MPI_SUCCESS || mpi_wait(&req) != 0)
		return -1;
	return 0;
}

/* Max of n doubles over the ranks, in place (exact: the same on all). */
static int
mpi_max_double(void *arg, double *v, int n)
{
	MPI_Request	 req;

	(void)arg;
	if (MPI_Iallreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_MAX,
	    MPI_COMM_WORLD, &req) != MPI_SUCCESS)
		return -1;
	return mpi_wait(&req);
}

/* Sum of n int64s over the ranks, in place (exact: the same on all). */
static int
mpi_sum_int64(void *arg, int64_t *v, int n)
{
	MPI_Request	 req;

	(void)arg;
	if (MPI_Iallreduce(MPI_IN_PLACE, v, n, MPI_INT64_T, MPI_SUM,
	    MPI_COMM_WORLD, &req) != MPI_SUCCESS)
		return -1;
	return mpi_wait(&req);
}

/* The sum over the lower ranks; MPI leaves rank 0's undefined: 0. */
static int
mpi_exscan_int64(void *arg, int64_t *v, int n)
{
	struct cmd_world	*w = arg;
	MPI_Request		 req;

	if (MPI_Iexscan(MPI_IN_PLACE, v, n, MPI_INT64_T, MPI_SUM,
	    MPI_COMM_WORLD, &req) != MPI_SUCCESS || mpi_wait(&req) != 0)
		return -1;
	if (w->rank == 0)
		memset(v, 0, n * sizeof *v);
	return 0;
}

/* len bytes of buf from root to every rank, in chunks MPI can count. */
static int
mpi_bcast(void *arg, void *buf, size_t len, int root)
{
	MPI_Request	 req;
	size_t		 off, n;

	(void)arg;
	for (off = 0; off < len; off += n) {
		n = len - off < MPI_CHUNK ? len - off : MPI_CHUNK;
		if (MPI_Ibcast((char *)buf + off, (int)n, MPI_BYTE, root,
		    MPI_COMM_WORLD, &req) != MPI_SUCCESS || mpi_wait(&req) != 0)
			return -1;
	}
	return 0;
}

/*
 * Every rank's bytes to root (or, root < 0, to all): the lengths first,
 * then the bytes (MPI_Gatherv counts in int: at most 2 GiB in all).
 */
static int
mpi_gather(void *arg, const void *buf, size_t len, int root, void **out,
    size_t *lens)
{
	struct cmd_world	*w = arg;
	MPI_Request		 req;
	uint64_t		 mine = len, *all;
	int			*counts = NULL, *displs = NULL, r, rv = -1;
	int			 here = root < 0 || root == w->rank;
	size_t			 total = 0;

	*out = NULL;
	if ((all = calloc(w->size, sizeof *all)) == NULL)
		return -1;
	if (MPI_Iallgather(&mine, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T,
	    MPI_COMM_WORLD, &req) != MPI_SUCCESS || mpi_wait(&req) != 0)
		goto done;
	counts = calloc(w->size, sizeof *counts);
	displs = calloc(w->size, sizeof *displs);
	if (counts == NULL || displs == NULL)
		goto done;
	for (r = 0; r < w->size; r++) {
		if (total + all[r] > INT_MAX)
			goto done;	/* every rank sees it: none calls */
		displs[r] = (int)total;
		counts[r] = (int)all[r];
		total += all[r];
		if (here)
			lens[r] = all[r];
	}
	if (here && (*out = malloc(total + 1)) == NULL)
		goto done;	/* the others wait: see solver_comm */
	if (root < 0)
		rv = MPI_Iallgatherv(buf, (int)len, MPI_BYTE, *out, counts,
		    displs, MPI_BYTE, MPI_COMM_WORLD, &req);
	else
		rv = MPI_Igatherv(buf, (int)len, MPI_BYTE, *out, counts,
		    displs, MPI_BYTE, root, MPI_COMM_WORLD, &req);
	rv = rv == MPI_SUCCESS ? mpi_wait(&req) : -1;
done:
	if (rv != 0) {
		free(*out);
		*out = NULL;
	}
	free(all);
	free(counts);
	free(displs);
	return rv;
}

/*
 * Solver threads for each of the ranks on this machine: its CPUs shared
 * among them, and no more than the CPUs this rank may run on (mpirun binds
 * each rank to one core unless told --bind-to none).
 */
static int
mpi_threads(int per_node)
{
	cpu_set_t	 set;
	long		 ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int		 n = ncpu > per_node ? (int)(ncpu / per_node) : 1;

	if (sched_getaffinity(0, sizeof set, &set) == 0 &&
	    CPU_COUNT(&set) < n)
		n = CPU_COUNT(&set) > 0 ? CPU_COUNT(&set) : 1;
	return n;
}

/*
 * Start MPI when a launcher started this process. Solver threads per
 * rank: see mpi_threads (one rank keeps the default of every CPU, so that
 * -np 1 is a single process's run). Ranks past 0 send their chatter to
 * /dev/null (progress and the report are rank 0's) and keep the real
 * stderr for a failure. 0 or -1 with *cause.
 */
int
cmd_world_start(struct cmd_world *w, char **cause)
{
	const char	*local;
	int		 provided, null_fd, per_node;

	memset(w, 0, sizeof *w);
	w->size = 1;
	w->err_fd = -1;
	cmd_world_slots(0, 1, &w->slot_lo, &w->slot_hi);
	if (cmd_world_launched() <= 1 && getenv("OMPI_COMM_WORLD_RANK") == NULL)
		return 0;
	/* The solver's threads never call MPI: FUNNELED is enough. */
	if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) !=
	    MPI_SUCCESS) {
		*cause = strdup("MPI_Init failed");
		return -1;
	}
	w->mpi = 1;
	MPI_Comm_rank(MPI_COMM_WORLD, &w->rank);
	MPI_Comm_size(MPI_COMM_WORLD, &w->size);
	cmd_world_slots(w->rank, w->size, &w->slot_lo, &w->slot_hi);
	if (w->size < 2)
		return 0;
	w->comm.rank = w->rank;
	w->comm.size = w->size;
	w->comm.arg = w;
	w->comm.sum_double = mpi_sum_double;
	w->comm.max_double = mpi_max_double;
	w->comm.sum_int64 = mpi_sum_int64;
	w->comm.exscan_int64 = mpi_exscan_int64;
	w->comm.gather = mpi_gather;
	w->comm.bcast = mpi_bcast;
	w->solver = &w->comm;
	local = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
	per_node = local != NULL && atoi(local) > 0 ? atoi(local) : w->size;
	w->threads = mpi_threads(per_node);
	if (w->rank > 0 && (null_fd = open("/dev/null", O_WRONLY)) >= 0) {
		w->err_fd = dup(STDERR_FILENO);
		dup2(null_fd, STDERR_FILENO);
		close(null_fd);
	}
	return 0;
}

/* MPI_Finalize, once every rank is done. */
void
cmd_world_end(struct cmd_world *w)
{
	if (w->mpi)
		MPI_Finalize();
	w->mpi = 0;
	if (w->err_fd >= 0) {
		dup2(w->err_fd, STDERR_FILENO);
		close(w->err_fd);
		w->err_fd = -1;
	}
}

/* A rank failed where the others wait in a collective: stop them all. */
void
cmd_world_abort(struct cmd_world *w, int status)
{
	if (w->mpi && w->size > 1)
		MPI_Abort(MPI_COMM_WORLD, status);
}
