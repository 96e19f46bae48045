/* mapping.replication = milp (see replicate_milp.c and docs/BACKEND.md,
 * "Replication"): replica counts minimising the slowest layer's time per
 * image under a tile budget, solved exactly as a MILP with GLPK. */
#ifndef XBAR_REPLICATE_MILP_H
#define XBAR_REPLICATE_MILP_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/compile.h"

/* Set m->layers[*].replicas (the caller re-places the mapping).  Leaves
 * every layer at one copy when even that exceeds budget_tiles.  Fails
 * cleanly (ctx message) when built without GLPK or when GLPK fails. */
xb_status xb_replicate_milp(const xb_arch *a, xb_mapping *m, int64_t budget_tiles, xb_ctx *ctx);
/* Time per image of layer l with k copies (xb_layer_latency_ns at k). */
double xb_replica_time_ns(const xb_arch *a, const xb_layer_map *l, int64_t k);
/* With replication on and mapping.budget_tiles > 0, fails when one copy
 * of every layer (the mapping m as placed) already needs more tiles: a
 * budget below the minimum mapping is an error, never a larger mapping. */
xb_status xb_replication_check_budget(const xb_arch *a, const xb_mapping *m, xb_ctx *ctx);
/* Whether this build has GLPK (tests skip the milp checks otherwise). */
bool xb_have_milp(void);

#endif
