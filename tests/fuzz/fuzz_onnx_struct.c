/* libFuzzer harness: the ONNX target (fuzz_onnx.c) with a structure-aware
 * mutator.  Byte-level mutation of protobuf mostly breaks the wire format
 * and stops in the parser; this one unpacks the model with protobuf-c,
 * changes one thing a kernel's prepare must validate (an attribute value,
 * an op type, a graph input dimension, a node's inputs, initializer bytes)
 * and packs it again, so the fuzzer spends its time in shape inference,
 * attribute checks, constant folding and the passes.  Half the time it
 * falls back to libFuzzer's byte mutations, which keeps the wire-format
 * coverage. */
#include "tests/fuzz/fuzz_onnx.c"

#include "onnx.pb-c.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

static uint64_t rng_state;
static uint64_t rnd(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static size_t pick(size_t n) { return n ? (size_t)(rnd() % n) : 0; }

static int64_t interesting(void) {
    static const int64_t v[] = {0, 1, -1, 2, -2, 3, 4, 7, 8, 16, 100, 255, 256, -128, 127,
                                65535, 1 << 20, INT32_MAX, INT32_MIN, (int64_t)INT32_MAX + 1,
                                INT64_MAX, INT64_MIN, INT64_MAX / 2, -(INT64_MAX / 2), 1LL << 32};
    if (rnd() & 1) return v[pick(sizeof v / sizeof v[0])];
    return (int64_t)pick(12) - 4;
}

static const char *const ops[] = {
    "Relu", "Conv", "Gemm", "MatMul", "MaxPool", "AveragePool", "GlobalAveragePool",
    "BatchNormalization", "Softmax", "Identity", "Dropout", "Reshape", "Flatten", "Squeeze",
    "Unsqueeze", "Constant", "ConstantOfShape", "Shape", "Gather", "Concat", "Cast", "Add", "Sub",
    "Mul", "Div", "Clip", "LeakyRelu", "Sigmoid", "Tanh", "Transpose", "Pad", "Slice",
    "QuantizeLinear", "DequantizeLinear", "ConvInteger", "MatMulInteger", "QLinearConv",
    "QLinearMatMul", "XbarQConv", "XbarQGemm", "Expand", "Resize", "Where", "ReduceMean"};
static const char *const attrs[] = {
    "allowzero", "alpha", "auto_pad", "axes", "axis", "beta", "count_include_pad", "dilations",
    "end", "epsilon", "is_test", "kernel_shape", "max", "min", "mode", "pads", "perm", "spatial",
    "start", "storage_order", "to", "training_mode", "value", "w_bits", "x_bits", "group",
    "strides", "transA", "transB", "ceil_mode", "keepdims", "x_scale", "x_zero_point"};

static char *dupstr(const char *s) {
    char *p = malloc(strlen(s) + 1);
    if (p) strcpy(p, s);
    return p;
}

/* protobuf-c's default allocator is malloc/free, so fields of an unpacked
 * message may be replaced with malloc'ed ones and free_unpacked still frees
 * them correctly. */
static void mutate_attr(Onnx__AttributeProto *a) {
    switch (pick(4)) {
    case 0:
        if (a->n_ints) {
            a->ints[pick(a->n_ints)] = interesting();
            return;
        }
        /* fallthrough */
    case 1: {
        size_t n = pick(9);
        int64_t *v = malloc((n + 1) * sizeof *v);
        if (!v) return;
        for (size_t i = 0; i < n; i++) v[i] = interesting();
        free(a->ints);
        a->ints = v;
        a->n_ints = n;
        a->has_type = 1;
        a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
        return;
    }
    case 2:
        a->has_i = 1;
        a->i = interesting();
        a->has_type = 1;
        a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
        return;
    default: {
        static const float fv[] = {0.0f, -0.0f, 1.0f, -1.0f, 1e-30f, 1e30f, 3.4e38f, -3.4e38f,
                                   0.5f, 1e-45f, __builtin_inff(), -__builtin_inff(),
                                   __builtin_nanf("")};
        a->has_f = 1;
        a->f = fv[pick(sizeof fv / sizeof fv[0])];
        a->has_type = 1;
        a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
        return;
    }
    }
}

static void add_attr(Onnx__NodeProto *np) {
    Onnx__AttributeProto *a = malloc(sizeof *a);
    Onnx__AttributeProto **v = realloc(np->attribute, (np->n_attribute + 1) * sizeof *v);
    if (!a || !v) {
        free(a);
        if (v) np->attribute = v;
        return;
    }
    np->attribute = v;
    onnx__attribute_proto__init(a);
    a->name = dupstr(attrs[pick(sizeof attrs / sizeof attrs[0])]);
    v[np->n_attribute++] = a;
    mutate_attr(a);
}

static int mutate_model(Onnx__ModelProto *m) {
    Onnx__GraphProto *gp = m->graph;
    if (!gp) return 0;
    switch (pick(8)) {
    case 0:
    case 1: { /* an attribute value */
        if (!gp->n_node) return 0;
        Onnx__NodeProto *np = gp->node[pick(gp->n_node)];
        if (!np->n_attribute || pick(4) == 0)
            add_attr(np);
        else
            mutate_attr(np->attribute[pick(np->n_attribute)]);
        return 1;
    }
    case 2: { /* op type */
        if (!gp->n_node) return 0;
        Onnx__NodeProto *np = gp->node[pick(gp->n_node)];
        const char *op = ops[pick(sizeof ops / sizeof ops[0])];
        free(np->op_type);
        np->op_type = dupstr(op);
        if (!strncmp(op, "Xbar", 4)) {
            free(np->domain);
            np->domain = dupstr("xbar");
        }
        return 1;
    }
    case 3: { /* a graph input dimension */
        if (!gp->n_input) return 0;
        Onnx__ValueInfoProto *vi = gp->input[pick(gp->n_input)];
        if (!vi->type || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
            !vi->type->tensor_type || !vi->type->tensor_type->shape ||
            !vi->type->tensor_type->shape->n_dim)
            return 0;
        Onnx__TensorShapeProto *s = vi->type->tensor_type->shape;
        if (pick(4) == 0 && s->n_dim > 1) {
            s->n_dim--;
            protobuf_c_message_free_unpacked(&s->dim[s->n_dim]->base, NULL);
            return 1;
        }
        Onnx__TensorShapeProto__Dimension *d = s->dim[pick(s->n_dim)];
        if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM) free(d->dim_param);
        d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        d->dim_value = pick(3) ? (int64_t)pick(70) : interesting();
        return 1;
    }
    case 4: { /* a node input rewired to another tensor name */
        if (!gp->n_node) return 0;
        Onnx__NodeProto *np = gp->node[pick(gp->n_node)];
        Onnx__NodeProto *src = gp->node[pick(gp->n_node)];
        if (!np->n_input) return 0;
        const char *name = NULL;
        if (src->n_output && pick(2)) name = src->output[pick(src->n_output)];
        else if (gp->n_initializer && pick(2)) name = gp->initializer[pick(gp->n_initializer)]->name;
        else if (gp->n_input) name = gp->input[pick(gp->n_input)]->name;
        if (!name) name = "";
        size_t k = pick(np->n_input);
        char *nn = dupstr(name);
        if (!nn) return 0;
        free(np->input[k]);
        np->input[k] = nn;
        return 1;
    }
    case 5: { /* drop a node input */
        if (!gp->n_node) return 0;
        Onnx__NodeProto *np = gp->node[pick(gp->n_node)];
        if (!np->n_input) return 0;
        free(np->input[np->n_input - 1]);
        np->n_input--;
        return 1;
    }
    case 6: { /* initializer contents */
        if (!gp->n_initializer) return 0;
        Onnx__TensorProto *tp = gp->initializer[pick(gp->n_initializer)];
        if (tp->has_raw_data && tp->raw_data.len) {
            size_t i = pick(tp->raw_data.len);
            tp->raw_data.data[i] = (uint8_t)rnd();
            if (pick(2) && tp->raw_data.len >= 8) {
                int64_t v = interesting();
                size_t at = pick(tp->raw_data.len / 8) * 8;
                memcpy(tp->raw_data.data + at, &v, 8);
            }
            return 1;
        }
        if (tp->n_int64_data) {
            tp->int64_data[pick(tp->n_int64_data)] = interesting();
            return 1;
        }
        if (tp->n_int32_data) {
            tp->int32_data[pick(tp->n_int32_data)] = (int32_t)interesting();
            return 1;
        }
        return 0;
    }
    default: { /* an initializer's dims, keeping the element count when the data allows */
        if (!gp->n_initializer) return 0;
        Onnx__TensorProto *tp = gp->initializer[pick(gp->n_initializer)];
        if (!tp->n_dims) return 0;
        if (tp->n_dims >= 2 && pick(2)) { /* swap two dims: same count, new shape */
            size_t a = pick(tp->n_dims), b = pick(tp->n_dims);
            int64_t t = tp->dims[a];
            tp->dims[a] = tp->dims[b];
            tp->dims[b] = t;
        } else {
            tp->dims[pick(tp->n_dims)] = pick(2) ? (int64_t)pick(5) : interesting();
        }
        return 1;
    }
    }
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed) {
    rng_state = seed;
    if (pick(2) == 0) return LLVMFuzzerMutate(data, size, max_size);
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, size, data);
    if (!m) return LLVMFuzzerMutate(data, size, max_size);
    int changed = 0;
    for (int k = 0, n = 1 + (int)pick(3); k < n; k++) changed |= mutate_model(m);
    size_t out = 0;
    if (changed) {
        size_t need = onnx__model_proto__get_packed_size(m);
        if (need <= max_size) out = onnx__model_proto__pack(m, data);
    }
    onnx__model_proto__free_unpacked(m, NULL);
    return out ? out : LLVMFuzzerMutate(data, size, max_size);
}
