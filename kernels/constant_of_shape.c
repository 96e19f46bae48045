/* ConstantOfShape (ai.onnx 9, 20): a tensor of the shape given by input 0,
 * filled with the one element of the `value` attribute (default f32 0).
 * PyTorch's QDQ exports build the zero point of every int32 bias this way
 * (ConstantOfShape -> Cast -> DequantizeLinear).  Shapes are static here,
 * so the shape input must be constant after folding; prepare then produces
 * the output as a constant and the node folds away, like Shape. */
#include <string.h>

#include "kernels/kutil.h"
#include "kernels/registry.h"

xb_status xb_op_constant_of_shape_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 1, 1, 1, 1, ctx));
    int64_t dims[XB_MAX_RANK];
    int rank = 0;
    XB_TRY(xb_k_const_ints(g, n, 0, "shape", 0, dims, XB_MAX_RANK, &rank, ctx));
    if (xb_in_t(g, n, 0)->shape.rank != 1)
        return xb_fail(ctx, XB_ERR_INVALID, "shape input must be 1-D");
    xb_shape s = {.rank = rank};
    size_t numel = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0) return xb_fail(ctx, XB_ERR_INVALID, "shape[%d] = %lld is negative", i, (long long)dims[i]);
        s.d[i] = dims[i];
        if (xb_mul_overflow(numel, (size_t)dims[i], &numel))
            return xb_fail(ctx, XB_ERR_INVALID, "shape is too large");
    }
    xb_dtype dt = XB_F32;
    uint8_t elem[8] = {0};
    const xb_attr *a = xb_attr_find(n, "value");
    if (a) {
        if (a->type != XB_ATTR_TENSOR || !a->t)
            return xb_fail(ctx, XB_ERR_INVALID, "attribute value must be a tensor");
        if (xb_shape_numel(&a->t->shape) != 1 || !a->t->data)
            return xb_fail(ctx, XB_ERR_INVALID, "attribute value must hold exactly one element");
        dt = a->t->dtype;
        if (!xb_k_dtype_ok(dt))
            return xb_fail(ctx, XB_ERR_UNSUPPORTED, "value of type %s", xb_dtype_name(dt));
        memcpy(elem, a->t->data, xb_dtype_size(dt));
    }
    size_t es = xb_dtype_size(dt), bytes;
    if (xb_mul_overflow(numel, es, &bytes) || bytes > XB_MAX_BUILT_CONST_BYTES)
        return xb_fail(ctx, XB_ERR_INVALID, "output of %zu elements is larger than the %zu MiB "
                       "allowed for a constant built at load", numel,
                       (size_t)XB_MAX_BUILT_CONST_BYTES >> 20);
    uint8_t *data = xb_malloc(ctx, bytes ? bytes : 1);
    if (!data) return ctx->status;
    for (size_t i = 0; i < numel; i++) memcpy(data + i * es, elem, es);
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = dt;
    y->shape = s;
    xb_tensor_set_const(y, data);
    return XB_OK;
}

/* The output is a constant made by prepare; nothing to do per image. */
xb_status xb_op_constant_of_shape_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)g, (void)n, (void)e, (void)ctx;
    return XB_OK;
}
