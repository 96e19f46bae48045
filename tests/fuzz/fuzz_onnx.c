/* libFuzzer harness: ONNX model bytes -> xb_onnx_load_buffer (parse, build,
 * passes, prepare with constant folding), then, when the model loads and
 * its activations are small, one run on zero inputs: prepare promises that
 * run cannot fail on a prepared graph except on data-dependent errors, so a
 * crash there is a loader/prepare bug too. */
#include <stdlib.h>

#include "frontend/onnx.h"
#include "kernels/layer_stats.h"
#include "runtime/exec.h"
#include "tests/fuzz/fuzz_util.h"

/* Skip the run above this much activation memory: the point is the code
 * paths, not big buffers, and big ones only slow the fuzzer down. */
#define FZ_RUN_MAX_BYTES ((size_t)16 << 20)

/* ... and above this many multiply-accumulates: a 350 M-MAC Conv takes over
 * 10 s under ASan and was reported as a timeout (session 4), which is the
 * model's size, not a hang. */
#define FZ_RUN_MAX_MACS ((int64_t)20 << 20)

static bool small_compute(const xb_graph *g) {
    xb_ctx c = {0};
    xb_layer_stat *ls = NULL;
    int n = 0;
    if (xb_layer_stats(g, &ls, &n, &c) != XB_OK) return false;
    int64_t macs = 0;
    for (int i = 0; i < n && macs <= FZ_RUN_MAX_MACS; i++)
        macs += ls[i].macs > FZ_RUN_MAX_MACS ? FZ_RUN_MAX_MACS + 1 : ls[i].macs;
    free(ls);
    return macs <= FZ_RUN_MAX_MACS;
}

static size_t activation_bytes(const xb_graph *g) {
    size_t total = 0;
    for (int t = 0; t < g->n_tensors; t++) {
        const xb_tensor *ten = &g->tensors[t];
        if (ten->is_const) continue;
        size_t b;
        if (xb_mul_overflow((size_t)xb_shape_numel(&ten->shape), xb_dtype_size(ten->dtype), &b))
            return SIZE_MAX;
        total += b;
        if (total > FZ_RUN_MAX_BYTES) return total;
    }
    return total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    xb_ctx ctx = {0};
    xb_graph *g = NULL;
    xb_status st = xb_onnx_load_buffer(data, size, "fuzz.onnx", 1, &g, &ctx);
    fz_check_fail(st, &ctx, "fuzz.onnx: ");
    if (st != XB_OK) {
        if (g) abort(); /* failure must not hand out a graph */
        return 0;
    }
    if (activation_bytes(g) <= FZ_RUN_MAX_BYTES && small_compute(g)) {
        xb_ctx rctx = {0};
        xb_exec *e = xb_exec_new(g, &rctx);
        if (e) {
            /* Inputs are zero (xb_exec_new callocs); data-dependent
             * failures (Gather index out of range) are allowed. */
            xb_status rs = xb_exec_run(e, &rctx);
            if (rs != XB_OK && rs != XB_ERR_RUNTIME) {
                fprintf(stderr, "fuzz: run of a prepared graph failed with %s: %s\n",
                        xb_status_name(rs), rctx.msg);
                abort();
            }
            xb_exec_free(e);
        }
    }
    xb_graph_free(g);
    return 0;
}
