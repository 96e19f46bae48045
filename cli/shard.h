/* --shard K/N: splitting one job into N independent processes (a Slurm job
 * array, any batch scheduler) whose outputs `xbar merge` combines into
 * exactly what the unsharded job writes (docs/SCALE.md).
 *
 *   xbar sweep: configuration i (in the order the unsharded sweep writes
 *               its rows) belongs to shard xb_deal(i, N): dealt like cards
 *               in snake order, 0, 1, .., N-1, N-1, .., 1, 0, 0, 1, ..
 *               Neighbouring configurations land on different shards, and
 *               unlike plain i mod N, a shard does not always get the same
 *               value of the last --vary when N divides its count (with
 *               encoding=offset,differential and N = 2, i mod N would give
 *               one shard every differential, the costlier, configuration).
 *   xbar run:   shard K evaluates the contiguous images
 *               [K*count/N, (K+1)*count/N) of the evaluated set; the
 *               calibration images are those of the unsharded run.
 *
 * A sharded sweep CSV starts with comment lines that say which sweep and
 * shard it is (XB_SHARD_CSV_TAG); `xbar merge` checks them and leaves them
 * out of the merged file.  Every other line starting with '#' is a comment
 * the merge copies from shard 0 without comparing it. */
#ifndef XBAR_CLI_SHARD_H
#define XBAR_CLI_SHARD_H

#include <stdbool.h>
#include <stdint.h>

#include "cli/args.h"
#include "runtime/status.h"

#define XB_SHARD_MAX 1000000
/* "# xbar-shard K/N configurations=C sweep=FINGERPRINT", then one
 * "# xbar-shard-vary KEY=V1,V2,..." per --vary. */
#define XB_SHARD_CSV_TAG "# xbar-shard "
#define XB_SHARD_CSV_VARY "# xbar-shard-vary "

typedef struct {
    long long k, n; /* shard k of n; n == 0: not sharded */
} xb_shard;

/* Parse the current option's value "K/N" (0 <= K < N, 1 <= N <= XB_SHARD_MAX)
 * with the checked integer parser; prints a usage error naming the option. */
bool xb_args_shard(xb_args *a, const char *val, xb_shard *out);
/* The same without messages: 0, -1 not K/N, -2 K >= N. */
int xb_shard_parse(const char *val, xb_shard *out);
/* Which of n takers gets item i, dealt in snake order (above). */
static inline int64_t xb_deal(int64_t i, int64_t n) {
    int64_t round = i / n, pos = i % n;
    return round % 2 == 0 ? pos : n - 1 - pos;
}
/* Configuration i of a sharded sweep belongs to this shard (always, when
 * not sharded). */
static inline bool xb_shard_owns(const xb_shard *s, int64_t i) {
    return s->n <= 1 || xb_deal(i, s->n) == s->k;
}
/* The contiguous part [*first, *first + *count) of `total` items that shard
 * s evaluates (everything when not sharded). */
void xb_shard_range(const xb_shard *s, int64_t total, int64_t *first, int64_t *count);

/* xbar run --shard: the session runs this shard's images (all when not
 * sharded); fails when there are fewer images than shards. */
struct xb_session;
struct cJSON;
xb_status xb_shard_select(const xb_shard *sh, struct xb_session *s, xb_ctx *ctx);
/* The "shard" object of a shard's run report (what xbar merge --json
 * checks): index, count, first, images, evaluated.  Nothing when not
 * sharded. */
void xb_shard_run_json(const xb_shard *sh, const struct xb_session *s, struct cJSON *json);

/* 64-bit FNV-1a, chained: a fingerprint of the options that define a sweep,
 * so shards of different sweeps are not merged. */
uint64_t xb_fnv1a(uint64_t h, const char *s);
#define XB_FNV1A_INIT 0xcbf29ce484222325ull

#endif
