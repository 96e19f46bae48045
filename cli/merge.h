/* xbar merge: shard outputs joined into what the unsharded command writes
 * (cli/shard.h, docs/SCALE.md).  Both refuse, naming the file and the
 * cause, rather than approximate: shards of different jobs, a shard twice,
 * a missing shard or configuration.  The output is written aside and moved
 * into place (eval/outfile.h). */
#ifndef XBAR_CLI_MERGE_H
#define XBAR_CLI_MERGE_H

#include "runtime/status.h"

/* The CSVs of `xbar sweep --shard K/N`: the header, then every row in the
 * order the unsharded sweep writes them; comment lines ('#') other than the
 * shard's own are copied from shard 0's file, never compared. */
xb_status xb_merge_csv(const char *out, const char *const *files, int n, xb_ctx *ctx);
/* The --json reports of `xbar run --shard K/N` (merge_json.c says how each
 * field combines). */
xb_status xb_merge_json(const char *out, const char *const *files, int n, xb_ctx *ctx);

#endif
