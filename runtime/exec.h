/* Execution of a prepared graph.
 *
 * An xb_exec is one worker's state: a buffer for every tensor (constants
 * point at the graph's data, activations are allocated once when the exec
 * is created) and one scratch area sized for the hungriest op.  Nothing is
 * allocated while running.  A prepared graph is read-only during execution,
 * so any number of execs (one per thread) may run it concurrently; images
 * are independent, which is why results never depend on the thread count. */
#ifndef XBAR_EXEC_H
#define XBAR_EXEC_H

#include "runtime/ir.h"

struct xb_exec;

/* Matrix-layer engine: how XbarQConv / XbarQGemm turn quantized inputs into
 * int32 accumulators.  NULL means the int8 reference kernel.  The RRAM
 * backend installs its analog crossbar simulation here (the way TFLite
 * Micro's optimized kernels replace reference ones), per exec.
 *
 * qmatmul computes, for one matrix layer (`layer` = index among the graph's
 * matrix layers, `group` = conv group):
 *     acc[n * P + p] = sum_k w[n * K + k] * x[k * P + p]
 * where x holds unsigned activation codes (zero point NOT subtracted) and w
 * the int8 weights of that group.  The caller applies zero-point correction,
 * scales and bias. */
typedef struct xb_engine {
    void *self;
    /* Per-worker state (statistics, scratch): created for each xb_exec by the
     * runner, merged into `self` after the run in worker order, then freed.
     * Counters are integers, so the merged totals do not depend on how images
     * were split across threads.  Any of these may be NULL. */
    void *(*state_new)(void *self, xb_ctx *ctx);
    void (*state_merge)(void *self, void *state);
    void (*state_free)(void *state);
    xb_status (*qmatmul)(void *self, struct xb_exec *e, const xb_node *node, int layer, int group,
                         const uint8_t *x, const int8_t *w, int64_t K, int64_t N, int64_t P,
                         int32_t *acc, xb_ctx *ctx);
    /* Optional, asked before each qmatmul call with the same arguments.
     * True means that call would return exactly the int8 reference product
     * (the engine proved at compile time that nothing can clip, add noise
     * or round, and it records no per-value statistics for this image), so
     * the layer runs its own pre-packed int8 kernel and skips qmatmul; the
     * engine has already booked what the call would have (conversion
     * counts).  This is what lets an ideal crossbar run at int8 speed: the
     * int8 path writes its input matrix straight into the packed layout,
     * while qmatmul needs the plain [K][P] matrix.  The answer must be the
     * same for every group of one layer and image.  NULL: always call. */
    bool (*exact)(void *self, struct xb_exec *e, int layer, int group, int64_t K, int64_t N,
                  int64_t P);
} xb_engine;

typedef struct xb_exec {
    const xb_graph *g;
    void **buf;            /* per tensor */
    void **blocks;         /* [n_blocks] the activation memory buf[] points into */
    int n_blocks;
    void *scratch;
    size_t scratch_bytes;
    const xb_engine *engine; /* NULL: reference int8 */
    void *engine_state;      /* per-exec state for the engine (stats, RNG) */
    int64_t image_index;     /* which dataset image is running: keys seeded noise */
    int thread;              /* worker index, for per-thread stats only */
    bool keeps_all;          /* xb_exec_new_keep: every activation keeps its value */
    /* Non-NULL: the u8 codes of graph input 0, computed by the caller the
     * way the one node reading that input would quantize it (that node
     * reads these and skips its quantization; the float buffer is then not
     * written).  For callers that can compute the codes more cheaply than
     * the floats (eval/runner.c: a table per pixel value); see
     * xb_qlayer_input_quant in kernels/qlayer.h for when it applies. */
    const uint8_t *input_codes;
    void **block_mem;      /* [n_blocks] the allocations blocks[] sit in (exec_new) */
    void *scratch_mem;     /* the allocation scratch sits in (on a cache line) */
} xb_exec;

/* Activations share memory by lifetime: a tensor's buffer may be reused by
 * tensors computed after its last reader, so after a run only the graph's
 * inputs and outputs hold their values (a chain of many nodes costs the
 * largest few activations, not all of them).  A node's inputs and outputs
 * never share memory. */
xb_exec *xb_exec_new(const xb_graph *g, xb_ctx *ctx);
/* Every activation has its own buffer and keeps its value after the run:
 * for callers that read intermediate tensors (calibration, tests). */
xb_exec *xb_exec_new_keep(const xb_graph *g, xb_ctx *ctx);
void xb_exec_free(xb_exec *e);
/* Bytes each activation block and the scratch allocate beyond their size,
 * so that they can start on a 64-byte cache line (exec.c, block_alloc);
 * counted by the plan functions below. */
#define XB_EXEC_BLOCK_SLACK 63

/* The bytes xb_exec_new(g) would allocate for activations and scratch
 * (the lifetime-shared blocks plus the largest node scratch), computed
 * without allocating them: what --max-memory charges per thread
 * (eval/membudget.h).  SIZE_MAX when the sum overflows. */
xb_status xb_exec_plan_bytes(const xb_graph *g, size_t *bytes, xb_ctx *ctx);
/* Run all nodes.  Inputs must already be written to buffers of g->inputs. */
xb_status xb_exec_run(xb_exec *e, xb_ctx *ctx);
/* Run nodes [from, to): used by constant folding and calibration. */
xb_status xb_exec_run_range(xb_exec *e, int from, int to, xb_ctx *ctx);

/* The bytes xb_exec_new_keep(g) would allocate (one buffer per activation,
 * plus the scratch), computed without allocating them. */
xb_status xb_exec_plan_bytes_keep(const xb_graph *g, size_t *bytes, xb_ctx *ctx);

/* Re-running a graph after one node changed, against a base run.
 *
 * `base` is a keep exec (xb_exec_new_keep) that has run the graph; a delta
 * re-runs node `changed` with its own exec (whose engine may compute that
 * node differently) and then only the nodes that read a tensor whose value
 * now differs from base's (compared byte for byte); every other tensor is
 * read from base.  This gives exactly what a full run of the delta's exec
 * would, provided the delta's exec computes every node other than
 * `changed` as base's did from the same inputs (same engine otherwise,
 * same image_index): nodes are functions of their inputs.  What it saves:
 * every node before `changed`, and every node after it whose inputs came
 * out identical (e.g. the changed node's output rounded to the same
 * codes).  The diagnosis (eval/diagnose.c) runs one delta per matrix layer
 * made exact, per image. */
typedef struct xb_exec_delta {
    xb_exec *e;            /* runs the recomputed nodes: set its engine, state, image_index */
    const xb_exec *base;
    void **own;            /* [n_tensors] e's own buffers */
    size_t *bytes;         /* [n_tensors] value bytes of each activation */
    uint8_t *dirty;        /* [n_tensors] differs from base after the last run */
    int64_t nodes_run;     /* nodes recomputed by the last run */
} xb_exec_delta;

xb_exec_delta *xb_exec_delta_new(const xb_exec *base, xb_ctx *ctx);
void xb_exec_delta_free(xb_exec_delta *d);
/* Node `changed` and what depends on a changed value; afterwards
 * d->e->buf[t] holds every tensor's value (pointing into base's buffers
 * for the unchanged ones) and dirty[t] says which differ from base. */
xb_status xb_exec_delta_run(xb_exec_delta *d, int changed, xb_ctx *ctx);

static inline void *xb_buf(const xb_exec *e, int tensor) { return e->buf[tensor]; }
#define XB_IN_F32(e, n, i) ((const float *)(e)->buf[(n)->in[i]])
#define XB_OUT_F32(e, n, i) ((float *)(e)->buf[(n)->out[i]])

#endif
