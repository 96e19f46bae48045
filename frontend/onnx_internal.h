/* Frontend internals shared by the loader, the passes and their tests. */
#ifndef XBAR_ONNX_INTERNAL_H
#define XBAR_ONNX_INTERNAL_H

#include <stdbool.h>

#include "runtime/ir.h"
#include "onnx.pb-c.h"

/* Decode a TensorProto into `out` (name left NULL, is_const set, data
 * owned by out).  `what` names the tensor in messages, e.g. "initializer
 * 'conv1.weight'"; the caller prefixes the file name. */
xb_status xb_onnx_decode_tensor(const Onnx__TensorProto *tp, const char *what, xb_tensor *out,
                                xb_ctx *ctx);
/* Whole file into a malloc'ed buffer; missing, unreadable and empty files
 * fail with a message naming the path. */
xb_status xb_onnx_read_file(const char *path, uint8_t **data, size_t *len, xb_ctx *ctx);
/* 0 when protobuf data nests messages deeper than any real model (64
 * levels), which would overflow the stack in protobuf-c's recursive unpack;
 * 1 otherwise (including malformed data, left for the unpacker to report). */
int xb_pb_depth_ok(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len);
/* Name of an ONNX TensorProto.DataType value ("FLOAT16", "type 99"). */
const char *xb_onnx_dtype_name(int32_t dt, char *buf, size_t n);

/* A DequantizeLinear whose data input is a constant integer tensor.  Recorded
 * before the first prepare, because prepare folds such nodes into float
 * constants; the QDQ lowering needs the integer codes and scales back.
 * Tensor indices stay valid across prepare (tensors are never removed). */
typedef struct {
    int out;   /* the DequantizeLinear output tensor */
    int q;     /* const int8/int32 codes */
    int scale; /* scale tensor (const f32 at record time) */
    int zp;    /* zero point tensor or -1 */
    int axis;  /* the node's axis attribute (default 1), not normalised */
} xb_dq_record;

typedef struct {
    int n, cap;
    xb_dq_record *r;
} xb_dq_table;

void xb_dq_table_free(xb_dq_table *t);

/* Passes (frontend/passes.c, frontend/lower_qdq.c).  Each returns XB_OK and
 * leaves the graph consistent (but not prepared) when it changed something;
 * the count of rewrites goes to *count when count is not NULL. */

/* Identity, and Dropout in inference mode, rewired away (before prepare). */
xb_status xb_pass_remove_identity(xb_graph *g, int *count, xb_ctx *ctx);
/* Record constant DequantizeLinear nodes (before the first prepare). */
xb_status xb_pass_record_const_dq(const xb_graph *g, xb_dq_table *tab, xb_ctx *ctx);
/* BatchNormalization folded into the Conv feeding it (after prepare). */
xb_status xb_pass_fold_bn(xb_graph *g, int *count, xb_ctx *ctx);
/* A float Conv whose only reader is a Relu, or an Add of a same-shape
 * residual (and that Add's only reader a Relu) -> one XbarConv; only for
 * the graph float inference runs (xb_float_run_graph), never before
 * quantization, which must see the Relu and Add nodes. */
xb_status xb_pass_fuse_conv_relu(xb_graph *g, int *count, xb_ctx *ctx);
/* QDQ -> XbarQConv / XbarQGemm (after prepare). */
xb_status xb_pass_lower_qdq(xb_graph *g, const xb_dq_table *tab, int *count, xb_ctx *ctx);
/* Bit widths of a lowered QDQ layer (frontend/qdq_bits.c): activation bits
 * from a Clip before the QuantizeLinear that feeds `x` (8 without one),
 * weight bits 1 when every code of `q` is +/-1 (else 8); set them on n. */
int xb_qdq_x_bits(const xb_graph *g, int x, float scale, int32_t zp);
int xb_qdq_w_bits(const xb_tensor *q);
void xb_qdq_set_bits(xb_node *n, int x_bits, int w_bits);
/* A Relu that only reads an XbarQConv / XbarQGemm output folded into that
 * layer (attribute relu = 1; frontend/fuse_qrelu.c). */
xb_status xb_pass_fuse_qrelu(xb_graph *g, int *count, xb_ctx *ctx);
/* An Add of an earlier same-shape float tensor that only reads an
 * XbarQConv output (and that Add's only reader, a Relu) folded into that
 * layer (input 4, relu = 1; frontend/fuse_qrelu.c).  Before
 * xb_pass_fuse_qrelu, on a graph cloned from a prepared one. */
xb_status xb_pass_fuse_qresidual(xb_graph *g, int *count, xb_ctx *ctx);
/* A layer whose output reaches the next layer only through MaxPool /
 * Flatten / Reshape / Identity writes that layer's u8 codes (attributes
 * y_scale, y_zero_point, y_bits; frontend/chain_qcodes.c). */
xb_status xb_pass_chain_qcodes(xb_graph *g, int *count, xb_ctx *ctx);
/* Nodes none of whose outputs are read, and constants nobody reads. */
xb_status xb_pass_remove_dead(xb_graph *g, int *count, xb_ctx *ctx);

/* Helpers for passes. */
int xb_pass_unique_tensor(xb_graph *g, const char *base, const char *suffix, xb_dtype dt,
                          const xb_shape *shape, xb_ctx *ctx);
/* Make every node input and graph output that reads `from` read `to`. */
void xb_pass_replace_uses(xb_graph *g, int from, int to);
bool xb_pass_is_graph_output(const xb_graph *g, int t);
/* The one node reading tensor t (t no graph output), or -1. */
int xb_pass_only_reader(const xb_graph *g, int t);
/* The other input of Add node a when it adds tensor y to a tensor of the
 * same f32 shape (no broadcasting), else -1: a residual to fold into y's
 * producer (passes.c for float Conv, fuse_qrelu.c for XbarQConv). */
int xb_pass_residual_of(const xb_graph *g, const xb_node *a, int y);
bool xb_pass_is_graph_input(const xb_graph *g, int t);

#endif
