/* ONNX frontend: .onnx file -> prepared xbar graph.
 *
 * Pipeline (frontend/onnx_load.c drives it; docs/arch-frontend.md explains it):
 *   1. parse the protobuf (protobuf-c, code generated from onnx.proto)
 *   2. build the IR: initializers and Constant nodes become constant tensors,
 *      graph inputs (minus initializers), nodes with their attributes, outputs,
 *      metadata; every structural defect is reported naming the file
 *   3. structural passes: Identity / inference Dropout removed
 *   4. xb_graph_prepare: op resolution (all unsupported nodes listed at once),
 *      batch binding, shape inference, constant folding
 *   5. graph passes: BatchNormalization folded into Conv, QDQ patterns lowered
 *      to XbarQConv / XbarQGemm, dead nodes removed
 *   6. xb_graph_prepare again
 * On failure *out is NULL and ctx holds one message starting with the file
 * name. */
#ifndef XBAR_ONNX_H
#define XBAR_ONNX_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/ir.h"

/* Parse, validate, lower and prepare an ONNX model; the graph is ready to run
 * with the batch bound. */
xb_status xb_onnx_load(const char *path, int64_t batch, xb_graph **out, xb_ctx *ctx);
xb_status xb_onnx_load_buffer(const uint8_t *data, size_t len, const char *name, int64_t batch,
                              xb_graph **out, xb_ctx *ctx);

/* Read a serialized TensorProto (.pb file of ONNX backend tests) into a
 * standalone tensor (name, dtype, shape, data malloc'ed; caller frees name
 * and data). */
xb_status xb_onnx_read_tensor_file(const char *path, xb_tensor *out, xb_ctx *ctx);

/* xb_onnx_load_buffer with the graph inputs named by in[j] (for every j with
 * frozen[j]) turned into initializers holding in[j]'s data (int64 or
 * float).  On return frozen[j] says whether in[j] named a graph input and
 * was moved. */
xb_status xb_onnx_load_frozen(const uint8_t *data, size_t len, const char *name, int64_t batch,
                              const xb_tensor *in, int n_in, bool *frozen, xb_graph **out,
                              xb_ctx *ctx);

/* Set frozen[j] for every float in[j] that the model feeds to a node as an
 * operand deciding an output shape: Resize's `scales` (input 2) or
 * Upsample's (input 1).  Leaves the other entries alone; a malformed model
 * sets nothing (loading it reports the error). */
void xb_onnx_mark_shape_floats(const uint8_t *data, size_t len, const xb_tensor *in, int n_in,
                               bool *frozen);

/* Options for callers (tests, tools) that want to see the graph before the
 * optimisation passes change it. */
typedef struct {
    /* 1: parse, build, remove Identity/Dropout, prepare once: no BN folding,
     * no QDQ lowering, no dead-node removal (the QDQ graph then runs its
     * QuantizeLinear / DequantizeLinear ops in float: a reference for the
     * lowered graph). */
    int no_passes;
    /* 1: parse and build the graph only: no pass, no op resolution, no
     * prepare.  Nodes keep op = -1 and tensors only the shapes the file
     * declares; the graph can be listed (xbar info on a model with
     * unsupported ops), not run. */
    int parse_only;
} xb_onnx_options;

xb_status xb_onnx_load_buffer_opts(const uint8_t *data, size_t len, const char *name, int64_t batch,
                                   const xb_onnx_options *opts, xb_graph **out, xb_ctx *ctx);
xb_status xb_onnx_load_opts(const char *path, int64_t batch, const xb_onnx_options *opts,
                            xb_graph **out, xb_ctx *ctx);

/* --- metadata_props (frontend/onnx_meta.c, xbar meta) --- */
/* All key/value pairs of the file, in file order: kv[2i] key, kv[2i+1]
 * value (free each and the array). */
xb_status xb_onnx_meta_list(const char *path, char ***kv, int *n, xb_ctx *ctx);
/* One edit: set key to value, or remove key when value is NULL. */
typedef struct {
    const char *key, *value;
} xb_onnx_meta_edit;
/* The file re-serialized with the edits applied (kept keys in their order,
 * then the set ones); *out is malloc'd.  Nothing else changes. */
xb_status xb_onnx_meta_apply(const char *path, const xb_onnx_meta_edit *e, int n, uint8_t **out,
                            size_t *out_len, xb_ctx *ctx);

/* The graph float inference runs: a prepared copy of the prepared graph g
 * in which every float Conv whose only reader is a Relu, or an Add of a
 * residual (then maybe a Relu), is one XbarConv node (kernels/xbar_conv.c),
 * so the activations are written once.  Same
 * outputs, bit for bit.  *out is NULL (and XB_OK) when nothing fuses: run g
 * itself.  g stays as it is: quantization and the analog backends need the
 * Relu nodes. */
xb_status xb_float_run_graph(const xb_graph *g, xb_graph **out, xb_ctx *ctx);

#endif
