/*
 * The processes of one pacer optimize run (mpirun -np K): which customers
 * each owns, and whether a launcher started several. With MPI built in,
 * mpi.c joins them; without it, this file stands in for mpi.c and a
 * launch of several processes is refused (each would run the whole
 * problem and write the same run).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pacer/slot.h"

#include "cmd.h"

/* Environment variables through which launchers give the world's size. */
static const char *const world_size_vars[] = {
	"OMPI_COMM_WORLD_SIZE",		/* Open MPI's mpirun */
	"PMI_SIZE",			/* MPICH's hydra, Slurm's PMI */
	"PMIX_SIZE",
	NULL
};

/* Rank r of size owns the slots [*lo, *hi): contiguous, as a cluster's. */
void
cmd_world_slots(int rank, int size, int *lo, int *hi)
{
	*lo = (int)((long)rank * SLOT_COUNT / size);
	*hi = (int)((long)(rank + 1) * SLOT_COUNT / size);
}

/* The Redis Cluster slot of a customer id (n bytes): its keys' slot. */
int
cmd_world_slot(const char *id, size_t n)
{
	return slot_crc16(id, n) & (SLOT_COUNT - 1);
}

/* The size a launcher gave this process's world; 1 without a launcher. */
int
cmd_world_launched(void)
{
	const char	*v;
	int		 i, n;

	for (i = 0; world_size_vars[i] != NULL; i++) {
		if ((v = getenv(world_size_vars[i])) != NULL &&
		    (n = atoi(v)) > 0)
			return n;
	}
	return 1;
}

#ifndef PACER_HAVE_MPI
/* Without MPI: one process, unless a launcher started more (refused). */
int
cmd_world_start(struct cmd_world *w, char **cause)
{
	memset(w, 0, sizeof *w);
	w->size = 1;
	cmd_world_slots(0, 1, &w->slot_lo, &w->slot_hi);
	if (cmd_world_launched() > 1) {
		*cause = str_printf("this pacer was built without MPI "
		    "(PACER_MPI): mpirun -np %d would run the whole problem %d "
		    "times; rebuild with libopenmpi-dev, or run one process",
		    cmd_world_launched(), cmd_world_launched());
		return -1;
	}
	return 0;
}

/* Nothing to end. */
void
cmd_world_end(struct cmd_world *w)
{
	(void)w;
}

/* One process: nothing else to stop. */
void
cmd_world_abort(struct cmd_world *w, int status)
{
	(void)w;
	(void)status;
}
#endif
