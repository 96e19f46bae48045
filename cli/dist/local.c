/* cli/dist.h for a build without MPI: one process, rank 0 of 1. */
#include <stdlib.h>
#include <string.h>

#include "cli/dist.h"

void xb_dist_start(xb_dist *d) { *d = (xb_dist){.rank = 0, .size = 1}; }
void xb_dist_end(xb_dist *d) { d->started = false; }
bool xb_dist_available(void) { return false; }
void xb_dist_bcast_int(const xb_dist *d, int *v) { (void)d, (void)v; }

xb_status xb_dist_gather(const xb_dist *d, const char *mine, size_t n, char **all, size_t **lens,
                         xb_ctx *ctx) {
    (void)d;
    *all = xb_malloc(ctx, n + 1);
    *lens = xb_malloc(ctx, sizeof **lens);
    if (!*all || !*lens) {
        free(*all);
        free(*lens);
        *all = NULL;
        *lens = NULL;
        return ctx->status;
    }
    if (n) memcpy(*all, mine, n);
    (*all)[n] = '\0';
    (*lens)[0] = n;
    return XB_OK;
}
