#include "tests/onnx_builder.h"

#include <stdlib.h>
#include <string.h>

void *ob_alloc(ob_model *m, size_t n) {
    if (m->n_arena == m->cap_arena) {
        m->cap_arena = m->cap_arena ? m->cap_arena * 2 : 64;
        m->arena = realloc(m->arena, m->cap_arena * sizeof(void *));
    }
    void *p = calloc(1, n ? n : 1);
    m->arena[m->n_arena++] = p;
    return p;
}

char *ob_str(ob_model *m, const char *s) {
    size_t n = strlen(s);
    char *p = ob_alloc(m, n + 1);
    memcpy(p, s, n);
    return p;
}

/* Append to a protobuf-c repeated pointer field (arena-allocated arrays).
 * Arrays grow only through here, so capacity is implied: reallocate (to
 * double) exactly when the count reaches a power of two. */
#define OB_PUSH(m, count, arr, item)                                                              \
    do {                                                                                          \
        size_t c_ = (count);                                                                      \
        if (c_ == 0 || (c_ & (c_ - 1)) == 0) {                                                    \
            void *np_ = ob_alloc((m), (c_ ? 2 * c_ : 1) * sizeof(*(arr)));                        \
            if (c_) memcpy(np_, (arr), c_ * sizeof(*(arr)));                                      \
            (arr) = np_;                                                                          \
        }                                                                                         \
        (arr)[(count)++] = (item);                                                                \
    } while (0)

void ob_begin(ob_model *m, int64_t opset) {
    memset(m, 0, sizeof *m);
    onnx__model_proto__init(&m->model);
    onnx__graph_proto__init(&m->graph);
    m->model.has_ir_version = 1;
    m->model.ir_version = 8;
    m->model.graph = &m->graph;
    m->graph.name = ob_str(m, "test");
    m->model.producer_name = ob_str(m, "xbar-test");
    if (opset > 0) ob_opset(m, "", opset);
}

void ob_opset(ob_model *m, const char *domain, int64_t version) {
    Onnx__OperatorSetIdProto *o = ob_alloc(m, sizeof *o);
    onnx__operator_set_id_proto__init(o);
    o->domain = ob_str(m, domain);
    o->has_version = 1;
    o->version = version;
    OB_PUSH(m, m->model.n_opset_import, m->model.opset_import, o);
}

Onnx__ValueInfoProto *ob_input(ob_model *m, const char *name, int elem_type, int rank,
                               const int64_t *dims) {
    Onnx__ValueInfoProto *v = ob_alloc(m, sizeof *v);
    onnx__value_info_proto__init(v);
    v->name = ob_str(m, name);
    Onnx__TypeProto *tp = ob_alloc(m, sizeof *tp);
    onnx__type_proto__init(tp);
    Onnx__TypeProto__Tensor *tt = ob_alloc(m, sizeof *tt);
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = 1;
    tt->elem_type = elem_type;
    Onnx__TensorShapeProto *sp = ob_alloc(m, sizeof *sp);
    onnx__tensor_shape_proto__init(sp);
    for (int i = 0; i < rank; i++) {
        Onnx__TensorShapeProto__Dimension *d = ob_alloc(m, sizeof *d);
        onnx__tensor_shape_proto__dimension__init(d);
        if (dims[i] < 0) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d->dim_param = ob_str(m, "N");
        } else {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value = dims[i];
        }
        OB_PUSH(m, sp->n_dim, sp->dim, d);
    }
    tt->shape = sp;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    v->type = tp;
    OB_PUSH(m, m->graph.n_input, m->graph.input, v);
    return v;
}

void ob_output(ob_model *m, const char *name) {
    Onnx__ValueInfoProto *v = ob_alloc(m, sizeof *v);
    onnx__value_info_proto__init(v);
    v->name = ob_str(m, name);
    OB_PUSH(m, m->graph.n_output, m->graph.output, v);
}

static Onnx__TensorProto *tensor_head(ob_model *m, const char *name, int dtype, int rank,
                                      const int64_t *dims) {
    Onnx__TensorProto *t = ob_alloc(m, sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = ob_str(m, name);
    t->has_data_type = 1;
    t->data_type = dtype;
    t->n_dims = (size_t)rank;
    t->dims = ob_alloc(m, (size_t)rank * sizeof(int64_t) + 1);
    if (rank) memcpy(t->dims, dims, (size_t)rank * sizeof(int64_t));
    return t;
}

Onnx__TensorProto *ob_tensor_raw(ob_model *m, const char *name, int dtype, int rank,
                                 const int64_t *dims, const void *bytes, size_t nbytes) {
    Onnx__TensorProto *t = tensor_head(m, name, dtype, rank, dims);
    t->has_raw_data = 1;
    t->raw_data.len = nbytes;
    t->raw_data.data = ob_alloc(m, nbytes);
    if (nbytes) memcpy(t->raw_data.data, bytes, nbytes);
    return t;
}

Onnx__TensorProto *ob_tensor_f32(ob_model *m, const char *name, int rank, const int64_t *dims,
                                 const float *v, size_t n) {
    Onnx__TensorProto *t = tensor_head(m, name, OB_FLOAT, rank, dims);
    t->n_float_data = n;
    t->float_data = ob_alloc(m, n * sizeof(float));
    if (n) memcpy(t->float_data, v, n * sizeof(float));
    return t;
}

Onnx__TensorProto *ob_tensor_i32(ob_model *m, const char *name, int dtype, int rank,
                                 const int64_t *dims, const int32_t *v, size_t n) {
    Onnx__TensorProto *t = tensor_head(m, name, dtype, rank, dims);
    t->n_int32_data = n;
    t->int32_data = ob_alloc(m, n * sizeof(int32_t));
    if (n) memcpy(t->int32_data, v, n * sizeof(int32_t));
    return t;
}

Onnx__TensorProto *ob_tensor_i64(ob_model *m, const char *name, int rank, const int64_t *dims,
                                 const int64_t *v, size_t n) {
    Onnx__TensorProto *t = tensor_head(m, name, OB_INT64, rank, dims);
    t->n_int64_data = n;
    t->int64_data = ob_alloc(m, n * sizeof(int64_t));
    if (n) memcpy(t->int64_data, v, n * sizeof(int64_t));
    return t;
}

void ob_initializer(ob_model *m, Onnx__TensorProto *t) {
    OB_PUSH(m, m->graph.n_initializer, m->graph.initializer, t);
}

void ob_init_f32(ob_model *m, const char *name, int rank, const int64_t *dims, const float *v) {
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= (size_t)dims[i];
    /* The test machines are little-endian, as raw_data is. */
    ob_initializer(m, ob_tensor_raw(m, name, OB_FLOAT, rank, dims, v, n * sizeof(float)));
}

static char **name_list(ob_model *m, const char *const *names, size_t *n) {
    size_t c = 0;
    while (names && names[c]) c++;
    char **arr = ob_alloc(m, (c + 1) * sizeof(char *));
    for (size_t i = 0; i < c; i++) arr[i] = ob_str(m, names[i]);
    *n = c;
    return arr;
}

Onnx__NodeProto *ob_node(ob_model *m, const char *op, const char *name, const char *const *in,
                         const char *const *out) {
    Onnx__NodeProto *n = ob_alloc(m, sizeof *n);
    onnx__node_proto__init(n);
    n->op_type = ob_str(m, op);
    n->name = ob_str(m, name ? name : "");
    n->domain = ob_str(m, "");
    n->input = name_list(m, in, &n->n_input);
    n->output = name_list(m, out, &n->n_output);
    OB_PUSH(m, m->graph.n_node, m->graph.node, n);
    return n;
}

void ob_node_domain(ob_model *m, Onnx__NodeProto *n, const char *domain) {
    n->domain = ob_str(m, domain);
}

static Onnx__AttributeProto *attr(ob_model *m, Onnx__NodeProto *n, const char *name, int type) {
    Onnx__AttributeProto *a = ob_alloc(m, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = ob_str(m, name);
    a->has_type = 1;
    a->type = type;
    OB_PUSH(m, n->n_attribute, n->attribute, a);
    return a;
}

void ob_attr_int(ob_model *m, Onnx__NodeProto *n, const char *name, int64_t v) {
    Onnx__AttributeProto *a = attr(m, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    a->has_i = 1;
    a->i = v;
}

void ob_attr_float(ob_model *m, Onnx__NodeProto *n, const char *name, float v) {
    Onnx__AttributeProto *a = attr(m, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    a->has_f = 1;
    a->f = v;
}

void ob_attr_str(ob_model *m, Onnx__NodeProto *n, const char *name, const char *v) {
    Onnx__AttributeProto *a = attr(m, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    a->has_s = 1;
    a->s.len = strlen(v);
    a->s.data = (uint8_t *)ob_str(m, v);
}

void ob_attr_ints(ob_model *m, Onnx__NodeProto *n, const char *name, int cnt, const int64_t *v) {
    Onnx__AttributeProto *a = attr(m, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a->n_ints = (size_t)cnt;
    a->ints = ob_alloc(m, (size_t)cnt * sizeof(int64_t));
    if (cnt) memcpy(a->ints, v, (size_t)cnt * sizeof(int64_t));
}

void ob_attr_floats(ob_model *m, Onnx__NodeProto *n, const char *name, int cnt, const float *v) {
    Onnx__AttributeProto *a = attr(m, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
    a->n_floats = (size_t)cnt;
    a->floats = ob_alloc(m, (size_t)cnt * sizeof(float));
    if (cnt) memcpy(a->floats, v, (size_t)cnt * sizeof(float));
}

void ob_attr_strings(ob_model *m, Onnx__NodeProto *n, const char *name, int cnt,
                     const char *const *v) {
    Onnx__AttributeProto *a = attr(m, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS);
    a->n_strings = (size_t)cnt;
    a->strings = ob_alloc(m, (size_t)cnt * sizeof(ProtobufCBinaryData) + 1);
    for (int i = 0; i < cnt; i++) {
        a->strings[i].len = strlen(v[i]);
        a->strings[i].data = (uint8_t *)ob_str(m, v[i]);
    }
}

void ob_attr_tensor(ob_model *m, Onnx__NodeProto *n, const char *name, Onnx__TensorProto *t) {
    Onnx__AttributeProto *a = attr(m, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
    a->t = t;
}

void ob_attr_graph(ob_model *m, Onnx__NodeProto *n, const char *name) {
    Onnx__AttributeProto *a = attr(m, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH);
    Onnx__GraphProto *g = ob_alloc(m, sizeof *g);
    onnx__graph_proto__init(g);
    g->name = ob_str(m, "body");
    a->g = g;
}

Onnx__NodeProto *ob_constant(ob_model *m, const char *out, Onnx__TensorProto *t) {
    const char *outs[] = {out, NULL};
    Onnx__NodeProto *n = ob_node(m, "Constant", "", NULL, outs);
    ob_attr_tensor(m, n, "value", t);
    return n;
}

void ob_meta(ob_model *m, const char *key, const char *value) {
    Onnx__StringStringEntryProto *p = ob_alloc(m, sizeof *p);
    onnx__string_string_entry_proto__init(p);
    p->key = ob_str(m, key);
    p->value = ob_str(m, value);
    OB_PUSH(m, m->model.n_metadata_props, m->model.metadata_props, p);
}

const uint8_t *ob_pack(ob_model *m, size_t *len) {
    size_t n = onnx__model_proto__get_packed_size(&m->model);
    m->packed = ob_alloc(m, n);
    m->packed_len = onnx__model_proto__pack(&m->model, m->packed);
    *len = m->packed_len;
    return m->packed;
}

void ob_end(ob_model *m) {
    for (size_t i = 0; i < m->n_arena; i++) free(m->arena[i]);
    free(m->arena);
    memset(m, 0, sizeof *m);
}
