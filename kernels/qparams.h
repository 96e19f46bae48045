/* Scale / zero-point inputs of the ONNX quantization ops.
 *
 * QuantizeLinear and DequantizeLinear take a scale and an optional zero
 * point that are either per tensor (a scalar, or a 1-D tensor of one
 * element, which ONNX Runtime also accepts as per tensor) or, from opset 13,
 * per axis: a 1-D tensor with x.shape[axis] elements.  The values may be
 * graph inputs rather than constants (ONNX's own node tests feed them as
 * inputs), so prepare checks only shapes and types and run reads the data.
 *
 * The QLinear and Integer ops have fixed rules of their own (a per-tensor x,
 * a per-output-channel w) and use xb_qp_count below. */
#ifndef XBAR_QPARAMS_H
#define XBAR_QPARAMS_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/exec.h"
#include "runtime/ir.h"

typedef struct {
    int64_t outer, C, inner; /* x viewed as [outer][C][inner]; C = 1 per tensor */
    xb_dtype zdt;            /* zero point type, XB_UNDEF when absent */
} xb_qaxis;

/* Validate inputs si (scale, f32) and zi (zero point, optional; any of
 * `zdt_ok` types when present) against x.  `axis_ok`: opset >= 13. */
xb_status xb_qaxis_init(const xb_graph *g, const xb_node *n, const xb_shape *x, int si, int zi,
                        bool axis_ok, xb_qaxis *qa, xb_ctx *ctx);

/* Zero point element c (0 when absent) from the exec buffer. */
int32_t xb_qp_zero_point(const xb_exec *e, const xb_node *n, int zi, xb_dtype zdt, int64_t c);

/* Element count of input i that must be a scalar or 1-D, or -1 (ctx set)
 * when its rank is larger; `what` names it. */
int64_t xb_qp_count(const xb_graph *g, const xb_node *n, int i, const char *what, xb_ctx *ctx);

#endif
