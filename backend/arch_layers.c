/* Per-layer mixed precision (LRMP, Frontiers in AI 2024, arXiv 2312.03146):
 * layer_weight_bits and layer_input_bits override weight_bits and
 * input_bits for the matrix layers they name, with the syntax of
 * adc.layer_bits.  A layer's weight bits set its weight slices (crossbar
 * columns, so area), its input bits its bit-serial input slices (time per
 * position); the compiler, the crossbar simulation and the cost model read
 * one layer through xb_arch_layer_view, so nothing else needs to know. */
#include "backend/arch.h"

#include <limits.h>
#include <string.h>

typedef struct {
    int layer, n;
    long bits; /* -1: no entry */
} query;

static bool match(long i, long b, void *u) {
    query *q = u;
    if (i == q->layer || (i < 0 && q->n + i == q->layer)) q->bits = b; /* the last entry wins */
    return false;
}

static int lookup(const char *spec, int layer, int n, int dflt) {
    query q = {layer, n, -1};
    const char *bad;
    if (!spec[0]) return dflt;
    xb_arch_layer_spec_each(spec, match, &q, &bad);
    return q.bits >= 0 ? (int)q.bits : dflt;
}

int xb_arch_layer_weight_bits(const xb_arch *a, int layer, int n) {
    return lookup(a->layer_weight_bits, layer, n, a->weight_bits);
}

int xb_arch_layer_input_bits(const xb_arch *a, int layer, int n) {
    return lookup(a->layer_input_bits, layer, n, a->input_bits);
}

void xb_arch_layer_view(const xb_arch *a, int layer, int n, xb_arch *out) {
    if (out != a) *out = *a;
    out->weight_bits = xb_arch_layer_weight_bits(a, layer, n);
    out->input_bits = xb_arch_layer_input_bits(a, layer, n);
}

/* Bits outside 2..8: the quantizer and the crossbar simulation run 2..8. */
static bool bad_bits(long i, long b, void *u) {
    (void)i;
    long *out = u;
    if (b < 2 || b > 8) {
        *out = b;
        return true;
    }
    return false;
}

static xb_status check_one(const xb_arch *a, const char *key, const char *spec, xb_ctx *ctx) {
    const char *bad = NULL;
    long b = -1;
    if (!spec[0]) return XB_OK;
    if (!xb_arch_layer_spec_each(spec, bad_bits, &b, &bad))
        return xb_fail(ctx, XB_ERR_INVALID,
                       "arch: %s = '%s': expected LAYER=BITS pairs separated by '/' (LAYER an "
                       "index, negative from the end; BITS 2..8), at '%s'",
                       key, spec, bad);
    if (b >= 0)
        return xb_fail(ctx, XB_ERR_INVALID, "arch: %s = '%s': %ld bits; per-layer bits are 2..8",
                       key, spec, b);
    (void)a;
    return XB_OK;
}

/* The smallest input bits any entry gives (INT_MAX when none). */
static bool min_bits(long i, long b, void *u) {
    (void)i;
    long *m = u;
    if (b < *m) *m = b;
    return false;
}

xb_status xb_arch_validate_layers(const xb_arch *a, xb_ctx *ctx) {
    XB_TRY(check_one(a, "layer_weight_bits", a->layer_weight_bits, ctx));
    XB_TRY(check_one(a, "layer_input_bits", a->layer_input_bits, ctx));
    /* crossbar.slices lists widths adding up to one weight width. */
    if (a->slices[0] && a->layer_weight_bits[0])
        return xb_fail(ctx, XB_ERR_INVALID,
                       "arch: crossbar.slices = '%s' fixes the slicing of every layer's %d-bit "
                       "weights; layer_weight_bits needs uniform slices (crossbar.slices = \"\")",
                       a->slices, a->weight_bits);
    long m = INT_MAX;
    const char *bad;
    xb_arch_layer_spec_each(a->layer_input_bits, min_bits, &m, &bad);
    if (m < a->dac_bits)
        return xb_fail(ctx, XB_ERR_INVALID,
                       "arch: layer_input_bits = '%s': %ld-bit inputs are narrower than dac.bits = %d",
                       a->layer_input_bits, m, a->dac_bits);
    return XB_OK;
}

typedef struct {
    int n, bad;
} range_q;

static bool out_of_range(long i, long b, void *u) {
    (void)b;
    range_q *q = u;
    if (i >= q->n || i < -q->n) {
        q->bad = (int)i;
        return true;
    }
    return false;
}

xb_status xb_arch_check_layer_precision(const xb_arch *a, int n, xb_ctx *ctx) {
    const char *keys[2] = {"layer_weight_bits", "layer_input_bits"};
    const char *specs[2] = {a->layer_weight_bits, a->layer_input_bits};
    for (int k = 0; k < 2; k++) {
        range_q q = {n, INT_MIN};
        const char *bad;
        xb_arch_layer_spec_each(specs[k], out_of_range, &q, &bad);
        if (q.bad != INT_MIN)
            return xb_fail(ctx, XB_ERR_INVALID,
                           "arch: %s = '%s': layer %d does not exist: the model has %d matrix "
                           "layers (LAYER is 0..%d, or -%d..-1 from the end)",
                           keys[k], specs[k], q.bad, n, n - 1, n);
    }
    return XB_OK;
}
