/* Per-layer statistics of a prepared graph: op, parameters, MACs, matrix
 * shape and quantization, the facts every report and the compiler read. */
#ifndef XBAR_LAYER_STATS_H
#define XBAR_LAYER_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/ir.h"

/* --- per-layer statistics ----------------------------------------------------- */
typedef struct {
    int node;            /* index in g->nodes */
    const char *name;
    const char *op;
    int64_t params;      /* weight and bias elements (quantization scales not counted) */
    int64_t macs;        /* multiply-accumulates per image (matrix layers) */
    bool matrix;         /* Conv, Gemm, MatMul, XbarQConv, XbarQGemm */
    bool quantized;      /* XbarQConv / XbarQGemm */
    int64_t K, N;        /* weight matrix per group: K rows (Cin/group*kh*kw), N columns */
    int64_t groups;
    int x_bits, w_bits;  /* quantized layers */
    float x_scale;
    int x_zero_point;
    float w_scale_min, w_scale_max;
} xb_layer_stat;

/* One entry per node of a prepared graph (caller frees *out). */
xb_status xb_layer_stats(const xb_graph *g, xb_layer_stat **out, int *n, xb_ctx *ctx);
int xb_graph_count_quantized(const xb_graph *g);

#endif
