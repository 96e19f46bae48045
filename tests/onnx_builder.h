/* Test helper: build small ONNX models in C with the protobuf-c structs and
 * serialize them, so frontend tests need no files and no Python.  Every
 * allocation is kept in an arena freed by ob_end. */
#ifndef XBAR_ONNX_BUILDER_H
#define XBAR_ONNX_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#include "onnx.pb-c.h"

typedef struct {
    Onnx__ModelProto model;
    Onnx__GraphProto graph;
    void **arena;
    size_t n_arena, cap_arena;
    uint8_t *packed;
    size_t packed_len;
} ob_model;

/* ONNX TensorProto.DataType values used by tests. */
enum { OB_FLOAT = 1, OB_UINT8 = 2, OB_INT8 = 3, OB_INT32 = 6, OB_INT64 = 7, OB_BOOL = 9,
       OB_FLOAT16 = 10, OB_DOUBLE = 11 };

void ob_begin(ob_model *m, int64_t opset);
void ob_opset(ob_model *m, const char *domain, int64_t version);
void *ob_alloc(ob_model *m, size_t n); /* zeroed, arena-owned */
char *ob_str(ob_model *m, const char *s);

/* dims entries < 0 become dim_param "N". */
Onnx__ValueInfoProto *ob_input(ob_model *m, const char *name, int elem_type, int rank,
                               const int64_t *dims);
void ob_output(ob_model *m, const char *name);
/* A tensor with raw_data (little-endian, `bytes` of it copied). */
Onnx__TensorProto *ob_tensor_raw(ob_model *m, const char *name, int dtype, int rank,
                                 const int64_t *dims, const void *bytes, size_t nbytes);
/* A tensor with float_data / int32_data / int64_data filled from values. */
Onnx__TensorProto *ob_tensor_f32(ob_model *m, const char *name, int rank, const int64_t *dims,
                                 const float *v, size_t n);
Onnx__TensorProto *ob_tensor_i32(ob_model *m, const char *name, int dtype, int rank,
                                 const int64_t *dims, const int32_t *v, size_t n);
Onnx__TensorProto *ob_tensor_i64(ob_model *m, const char *name, int rank, const int64_t *dims,
                                 const int64_t *v, size_t n);
void ob_initializer(ob_model *m, Onnx__TensorProto *t);
/* Convenience: float initializer via raw_data. */
void ob_init_f32(ob_model *m, const char *name, int rank, const int64_t *dims, const float *v);

/* inputs/outputs: NULL-terminated name lists ("" = absent optional). */
Onnx__NodeProto *ob_node(ob_model *m, const char *op, const char *name, const char *const *in,
                         const char *const *out);
void ob_node_domain(ob_model *m, Onnx__NodeProto *n, const char *domain);
void ob_attr_int(ob_model *m, Onnx__NodeProto *n, const char *name, int64_t v);
void ob_attr_float(ob_model *m, Onnx__NodeProto *n, const char *name, float v);
void ob_attr_str(ob_model *m, Onnx__NodeProto *n, const char *name, const char *v);
void ob_attr_ints(ob_model *m, Onnx__NodeProto *n, const char *name, int cnt, const int64_t *v);
void ob_attr_floats(ob_model *m, Onnx__NodeProto *n, const char *name, int cnt, const float *v);
void ob_attr_strings(ob_model *m, Onnx__NodeProto *n, const char *name, int cnt,
                     const char *const *v);
void ob_attr_tensor(ob_model *m, Onnx__NodeProto *n, const char *name, Onnx__TensorProto *t);
void ob_attr_graph(ob_model *m, Onnx__NodeProto *n, const char *name);
/* Constant node producing `out` with a tensor value. */
Onnx__NodeProto *ob_constant(ob_model *m, const char *out, Onnx__TensorProto *t);
void ob_meta(ob_model *m, const char *key, const char *value);

/* Serialize (arena-owned buffer). */
const uint8_t *ob_pack(ob_model *m, size_t *len);
void ob_end(ob_model *m);

#endif
