/* Who runs which configuration of an `xbar sweep`, and bringing the rows of
 * every MPI rank to rank 0 (docs/SCALE.md).
 *
 * The configurations of this shard (--shard K/N: cli/shard.h) that are not
 * already done (--resume) are dealt to the ranks the same way: the j-th of
 * them goes to rank xb_deal(j, P) (snake order).  With one process (no MPI, or mpirun -n 1) rows
 * are written to the output as they complete; with several, each rank keeps
 * its rows in memory ("i<TAB>row" records) and xb_sweep_dist_collect hands
 * rank 0 every row in configuration order, so the file equals the
 * single-process one. */
#ifndef XBAR_CLI_SWEEP_DIST_H
#define XBAR_CLI_SWEEP_DIST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/dist.h"
#include "cli/shard.h"
#include "runtime/status.h"

typedef struct {
    xb_shard shard;
    xb_dist dist;
    int64_t n_configs;
    int *owner;         /* [n_configs]: the rank that runs it, -1: not run here */
    int64_t n_mine, n_run; /* this rank's configurations, and how many completed */
    FILE *rows;         /* size > 1: this rank's records (open_memstream) */
    char *rows_text;
    size_t rows_len;
} xb_sweep_dist;

/* Deal the configurations (done: NULL or [n_configs], already present). */
xb_status xb_sweep_dist_plan(xb_sweep_dist *p, int64_t n_configs, const bool *done, xb_ctx *ctx);
static inline bool xb_sweep_dist_mine(const xb_sweep_dist *p, int64_t i) {
    return p->owner[i] == p->dist.rank;
}
/* Where configuration i's row goes: `out` with one process, else this
 * rank's record buffer (the record's prefix is written). */
FILE *xb_sweep_dist_row(xb_sweep_dist *p, int64_t i, FILE *out);
/* The row of configuration i is complete (progress note at rank 0 when
 * distributed). */
void xb_sweep_dist_done(xb_sweep_dist *p, int64_t i);

/* Collective (every rank, whatever its rc): with several ranks, rank 0
 * writes every rank's rows to `out` in configuration order, flushing each
 * (n_written counts them) and reports the other ranks' failures on stderr;
 * the job's exit code (rank 0's own `rc` first, then the first failing
 * rank's) is returned on rank 0, `rc` elsewhere.  `msg` is this rank's error
 * message when rc != 0. */
int xb_sweep_dist_collect(xb_sweep_dist *p, int rc, const char *msg, FILE *out,
                          int64_t *n_written, xb_ctx *ctx);
void xb_sweep_dist_free(xb_sweep_dist *p);

#endif
