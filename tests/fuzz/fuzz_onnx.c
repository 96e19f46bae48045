/* libFuzzer harness: ONNX model bytes -> xb_onnx_load_buffer (parse, build,
 * passes, prepare with constant folding), then, when the model loads and
 * its activations are small, one run on zero inputs: prepare promises that
 * run cannot fail on a prepared graph except on data-dependent errors, so a
 * crash there is a loader/prepare bug too. */
#include <stdlib.h>
#include <string.h>

#include "frontend/onnx.h"
#include "kernels/layer_stats.h"
#include "runtime/exec.h"
#include "tests/fuzz/fuzz_util.h"

/* Skip the run above this much activation memory: the point is the code
 * paths, not big buffers, and big ones only slow the fuzzer down. */
#define FZ_RUN_MAX_BYTES ((size_t)16 << 20)

/* ... and above this much work (multiply-accumulates, window taps and
 * elements touched, estimated per node below).  Session 4 capped only the
 * MACs of Conv/Gemm/MatMul, at 20 M: a 350 M-MAC Conv had taken over 10 s
 * under ASan.  A profile of fuzz_onnx_struct (session 5, `perf record` on
 * 90 s from the session-4 corpus) still put 64% of the time in running
 * models, most of it in ConvTranspose and MaxPool, which that count left
 * out, at 85 executions/s.  The kernels take the same branches at 1 M as at
 * 20 M (sizes only change loop trip counts), so the cap is 1 M units and
 * covers every op. */
#define FZ_RUN_MAX_WORK ((int64_t)1 << 20)

#define FZ_SAT (FZ_RUN_MAX_WORK + 1)

/* Saturating at FZ_SAT: kernel_shape and shapes come from the fuzzed file
 * (a kernel_shape of 2^62 is a valid attribute until prepare rejects it). */
static int64_t sat(int64_t v) { return v < 0 || v > FZ_SAT ? FZ_SAT : v; }
/* Both factors saturated first: (2^20 + 1)^2 fits int64.  Returning a * b
 * unsaturated overflowed for a kernel_shape of 2^63 - 1 (session 6). */
static int64_t sat_mul(int64_t a, int64_t b) {
    int64_t p = sat(a) * sat(b);
    return p > FZ_SAT ? FZ_SAT : p;
}

static int64_t numel_of(const xb_graph *g, int t) {
    return t >= 0 && t < g->n_tensors ? sat(xb_shape_numel(&g->tensors[t].shape)) : 0;
}

/* A node's work: the elements it reads and writes, plus the taps per
 * output element of a window op (pooling, ConvTranspose) times its outputs
 * (inputs for ConvTranspose) and the MACs of a matrix op (from
 * xb_layer_stats).  Saturates at FZ_SAT. */
static int64_t node_work(const xb_graph *g, const xb_node *n, int64_t macs) {
    int64_t w = sat(macs);
    for (int j = 0; j < n->n_in; j++) w = sat(w + numel_of(g, n->in[j]));
    for (int j = 0; j < n->n_out; j++) w = sat(w + numel_of(g, n->out[j]));
    int64_t y = n->n_out > 0 ? numel_of(g, n->out[0]) : 0;
    int64_t x = n->n_in > 0 ? numel_of(g, n->in[0]) : 0;
    const int64_t *ks = NULL;
    int nk = xb_attr_ints(n, "kernel_shape", &ks);
    int64_t taps = 1;
    for (int k = 0; k < nk; k++) taps = sat_mul(taps, ks[k] > 1 ? ks[k] : 1);
    if (strstr(n->op_type, "Pool")) w = sat(w + sat_mul(y, taps));
    /* The weight input of the integer matrix ops (xb_layer_stats counts
     * only Conv, Gemm, MatMul and xbar's own ops): QLinearConv and
     * QLinearMatMul take it third, after x's scale and zero point. */
    bool qlin = !strncmp(n->op_type, "QLinear", 7);
    int wi = qlin ? 3 : 1;
    const xb_tensor *wt =
        n->n_in > wi && n->in[wi] >= 0 && n->in[wi] < g->n_tensors ? &g->tensors[n->in[wi]] : NULL;
    if (wt && !strcmp(n->op_type, "ConvTranspose")) {
        int64_t per = wt->shape.rank > 0 && wt->shape.d[0] > 0
                          ? sat(xb_shape_numel(&wt->shape) / wt->shape.d[0]) : 0;
        w = sat(w + sat_mul(x, per));
    }
    /* ConvInteger, QLinearConv: K = C/group x kh x kw per output element;
     * MatMulInteger, QLinearMatMul: K = A's last dimension (session 7: a
     * ConvInteger of 65,536 x 4,096 positions and taps, uncounted, took
     * 30 s under ASan). */
    bool iconv = !strcmp(n->op_type, "ConvInteger") || !strcmp(n->op_type, "QLinearConv");
    bool imm = !strcmp(n->op_type, "MatMulInteger") || !strcmp(n->op_type, "QLinearMatMul");
    if (wt && iconv && wt->shape.rank > 0 && wt->shape.d[0] > 0)
        w = sat(w + sat_mul(y, sat(xb_shape_numel(&wt->shape) / wt->shape.d[0])));
    if (imm && n->n_in > 0 && n->in[0] >= 0 && n->in[0] < g->n_tensors) {
        const xb_shape *xs = &g->tensors[n->in[0]].shape;
        w = sat(w + sat_mul(y, xs->rank > 0 ? xs->d[xs->rank - 1] : 1));
    }
    return w;
}

static bool small_compute(const xb_graph *g) {
    xb_ctx c = {0};
    xb_layer_stat *ls = NULL;
    int n = 0;
    if (xb_layer_stats(g, &ls, &n, &c) != XB_OK) return false;
    int64_t work = 0;
    for (int i = 0; i < n && work <= FZ_RUN_MAX_WORK; i++)
        work = sat(work + node_work(g, &g->nodes[ls[i].node], ls[i].macs));
    free(ls);
    return work <= FZ_RUN_MAX_WORK;
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
    /* plus the largest node scratch the executor allocates (a strided
     * Conv's padded planes can dwarf its input and output: session 7) */
    size_t scratch = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].scratch_bytes > scratch) scratch = g->nodes[i].scratch_bytes;
    return total > SIZE_MAX - scratch ? SIZE_MAX : total + scratch;
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
