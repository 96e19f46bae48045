/* cli/dist.h over MPI (built with -DXBAR_MPI=ON; Debian's OpenMPI). */
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/dist.h"

void xb_dist_start(xb_dist *d) {
    *d = (xb_dist){.rank = 0, .size = 1};
    int init = 0, fin = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (fin) return; /* a second command in one process (tests): alone */
    if (!init) {
        int provided;
        MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
        d->started = true;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &d->size);
    /* Notes would repeat once per rank: rank 0 speaks for the job. */
    if (d->rank > 0 && !getenv("XBAR_MPI_VERBOSE")) (void)!freopen("/dev/null", "w", stderr);
}

void xb_dist_end(xb_dist *d) {
    if (d->started) MPI_Finalize();
    d->started = false;
}

bool xb_dist_available(void) { return true; }

void xb_dist_bcast_int(const xb_dist *d, int *v) {
    if (d->size > 1) MPI_Bcast(v, 1, MPI_INT, 0, MPI_COMM_WORLD);
}

/* Wait for every rank without spinning.  OpenMPI's blocking collectives
 * poll at full speed; a rank that finished early would take a core from the
 * ranks still computing (on a shared or small node that is most of them). */
static void idle_barrier(void) {
    MPI_Request r;
    int done = 0;
    MPI_Ibarrier(MPI_COMM_WORLD, &r);
    for (;;) {
        MPI_Test(&r, &done, MPI_STATUS_IGNORE);
        if (done) return;
        nanosleep(&(struct timespec){.tv_nsec = 5000000}, NULL); /* 5 ms */
    }
}

xb_status xb_dist_gather(const xb_dist *d, const char *mine, size_t n, char **all, size_t **lens,
                         xb_ctx *ctx) {
    *all = NULL;
    if (d->size > 1) idle_barrier();
    *lens = NULL;
    int len = n < (size_t)INT_MAX - 1 ? (int)n : -1;
    int *lv = d->rank == 0 ? calloc((size_t)d->size, sizeof *lv) : NULL;
    int *off = d->rank == 0 ? calloc((size_t)d->size, sizeof *off) : NULL;
    if (d->rank == 0 && (!lv || !off)) {
        /* the other ranks are already sending: the job cannot go on */
        fprintf(stderr, "xbar: out of memory gathering results at rank 0\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    MPI_Gather(&len, 1, MPI_INT, lv, 1, MPI_INT, 0, MPI_COMM_WORLD);
    int bad = 0;
    long long total = 0;
    if (d->rank == 0)
        for (int r = 0; r < d->size; r++) {
            if (lv[r] < 0 || total + lv[r] > INT_MAX - 1) bad = 1;
            off[r] = bad ? 0 : (int)total;
            total += bad ? 0 : lv[r];
        }
    MPI_Bcast(&bad, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (bad) {
        free(lv);
        free(off);
        return xb_fail(ctx, XB_ERR_INVALID, "results too large to gather at rank 0 (2 GiB)");
    }
    char *buf = d->rank == 0 ? malloc((size_t)total + 1) : NULL;
    if (d->rank == 0 && !buf) {
        fprintf(stderr, "xbar: out of memory gathering results at rank 0\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    MPI_Gatherv(mine, len, MPI_CHAR, buf, lv, off, MPI_CHAR, 0, MPI_COMM_WORLD);
    if (d->rank == 0) {
        buf[total] = '\0';
        size_t *l = malloc((size_t)d->size * sizeof *l);
        if (!l) {
            free(buf);
            free(lv);
            free(off);
            return xb_fail(ctx, XB_ERR_NOMEM, "out of memory");
        }
        for (int r = 0; r < d->size; r++) l[r] = (size_t)lv[r];
        *all = buf;
        *lens = l;
    }
    free(lv);
    free(off);
    return XB_OK;
}
