/* Tile (ai.onnx 6, 13): repeat the input repeats[k] times along each axis k,
 * so out.d[k] = in.d[k] * repeats[k] (numpy.tile with one repeat per axis).
 * `repeats` is a 1-D i64 input of length rank, constant after folding, each
 * value >= 0.  Any element type.  Run builds each output block from the
 * innermost axis out: the input's rows are placed, then every block is
 * replicated by memcpy of the part already written. */
#include <string.h>

#include "kernels/kutil.h"
#include "kernels/registry.h"

typedef struct {
    int rank;                  /* >= 1 (a scalar is run as [1]) */
    size_t es;                 /* element size */
    int64_t d[XB_MAX_RANK];    /* input dims */
    int64_t rep[XB_MAX_RANK];
    int64_t isz[XB_MAX_RANK + 1]; /* input elements of a block from axis k on */
    int64_t osz[XB_MAX_RANK + 1]; /* output elements of a block from axis k on */
} tile_params;

xb_status xb_op_tile_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 2, 2, 1, 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    if (!xb_k_dtype_ok(x->dtype))
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "Tile on %s tensors", xb_dtype_name(x->dtype));
    int64_t rep[XB_MAX_RANK];
    int cnt = 0, r = x->shape.rank;
    XB_TRY(xb_k_const_ints(g, n, 1, "repeats", 0, rep, XB_MAX_RANK, &cnt, ctx));
    if (cnt != r)
        return xb_fail(ctx, XB_ERR_INVALID, "repeats has %d values, expected the input rank %d",
                       cnt, r);
    tile_params *p = xb_calloc(ctx, 1, sizeof *p);
    if (!p) return ctx->status;
    n->params = p;
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = x->dtype;
    y->shape.rank = r;
    double total = 1;
    for (int k = 0; k < r; k++) {
        if (rep[k] < 0 || rep[k] > ((int64_t)1 << 30))
            return xb_fail(ctx, XB_ERR_INVALID, "repeats[%d] = %lld is out of range", k,
                           (long long)rep[k]);
        y->shape.d[k] = x->shape.d[k] * rep[k];
        total *= (double)y->shape.d[k];
    }
    if (total > (double)(XB_MAX_TENSOR_BYTES / 8))
        return xb_fail(ctx, XB_ERR_NOMEM, "output of %.0f elements is too large", total);
    p->es = xb_dtype_size(x->dtype);
    p->rank = r > 0 ? r : 1;
    for (int k = 0; k < p->rank; k++) {
        p->d[k] = r > 0 ? x->shape.d[k] : 1;
        p->rep[k] = r > 0 ? rep[k] : 1;
    }
    p->isz[p->rank] = p->osz[p->rank] = 1;
    for (int k = p->rank - 1; k >= 0; k--) {
        p->isz[k] = p->isz[k + 1] * p->d[k];
        p->osz[k] = p->osz[k + 1] * p->d[k] * p->rep[k];
    }
    return XB_OK;
}

/* Write the output block of axis k (osz[k] elements) from the input block
 * (isz[k] elements): first the d[k] sub-blocks, then rep[k] - 1 copies. */
static void tile_block(const tile_params *p, int k, const uint8_t *src, uint8_t *dst) {
    const size_t es = p->es;
    if (k == p->rank - 1) {
        memcpy(dst, src, (size_t)p->d[k] * es);
    } else {
        for (int64_t i = 0; i < p->d[k]; i++)
            tile_block(p, k + 1, src + (size_t)(i * p->isz[k + 1]) * es,
                       dst + (size_t)(i * p->osz[k + 1]) * es);
    }
    size_t block = (size_t)(p->d[k] * p->osz[k + 1]) * es;
    for (int64_t t = 1; t < p->rep[k]; t++) memcpy(dst + t * block, dst, block);
}

xb_status xb_op_tile_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)g, (void)ctx;
    const tile_params *p = n->params;
    if (p->osz[0] == 0) return XB_OK;
    tile_block(p, 0, e->buf[n->in[0]], e->buf[n->out[0]]);
    return XB_OK;
}
