/* The processes of one command: MPI ranks in the MPI build
 * (cmake -DXBAR_MPI=ON: cli/dist/mpi.c), else a single process
 * (cli/dist/local.c).  CMake compiles exactly one of the two, so the commands
 * call these functions unconditionally and no #ifdef reaches them.
 *
 * Only the main thread calls these (OpenMP threads inside a rank never do:
 * MPI_THREAD_FUNNELED).  Every rank must make the same sequence of calls
 * (they are collective), also when it failed: a failed rank still takes part
 * in the gather, carrying its status, so no rank waits forever. */
#ifndef XBAR_CLI_DIST_H
#define XBAR_CLI_DIST_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime/status.h"

typedef struct {
    int rank, size; /* this process, and how many (1 without MPI) */
    bool started;   /* xb_dist_start initialised MPI (so xb_dist_end finalises it) */
} xb_dist;

/* Join the job (MPI_Init_thread when built with MPI; a process started
 * without mpirun is a job of one).  Ranks other than 0 send their stderr to
 * /dev/null unless XBAR_MPI_VERBOSE is set: rank 0 reports for all (their
 * errors reach it through xb_dist_gather). */
void xb_dist_start(xb_dist *d);
/* Leave the job (MPI_Finalize). */
void xb_dist_end(xb_dist *d);
/* True when this binary was built with MPI. */
bool xb_dist_available(void);
/* Rank 0's *v on every rank. */
void xb_dist_bcast_int(const xb_dist *d, int *v);
/* Every rank's `n` bytes to rank 0.  At rank 0, *all (malloc'd, NUL
 * terminated) is their concatenation in rank order and (*lens)[r] (malloc'd,
 * d->size entries) the length of rank r's part; other ranks get NULL.
 * Fails (all ranks alike) when a part exceeds 2^31 - 2 bytes. */
xb_status xb_dist_gather(const xb_dist *d, const char *mine, size_t n, char **all, size_t **lens,
                         xb_ctx *ctx);

#endif
