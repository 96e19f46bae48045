/* ONNX model -> xbar IR, then the frontend pipeline (see onnx.h).
 *
 * The builder trusts nothing in the file: every name reference is resolved
 * and checked (duplicate producers, undefined inputs, missing outputs), every
 * tensor goes through xb_onnx_decode_tensor's size checks, and every failure
 * is one message that starts with the file name.
 *
 * Constant nodes are turned into constant tensors here rather than left for
 * kernels/constant.c: the same decoder (and the same error messages) then
 * serves initializers and Constant values, the toposort sees them as
 * available from the start, and the passes find weights, scales and zero
 * points of PyTorch's QDQ exports (which are all Constant nodes) as plain
 * constants.  Only the value forms we represent are converted (value,
 * value_float(s), value_int(s)); any other Constant stays a node and is
 * resolved like every other op. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/registry.h"
#include "frontend/onnx.h"
#include "frontend/onnx_internal.h"

typedef struct {
    char *domain; /* "" for ai.onnx */
    int version;
} opset_entry;

typedef struct {
    xb_graph *g;
    const Onnx__ModelProto *m;
    int n_opsets;
    opset_entry *opsets;
    bool *is_input; /* per tensor, grown with the graph */
    int is_input_cap;
    /* Name -> tensor index (open addressing, index + 1, 0 = empty), sized
     * once for every name the file can mention, so building stays linear
     * even for files with very many nodes. */
    int *slots;
    size_t mask;
} loader;

static uint64_t name_hash(const char *s) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h;
}

static int find_tensor(const loader *L, const char *name) {
    for (size_t i = name_hash(name) & L->mask;; i = (i + 1) & L->mask) {
        int v = L->slots[i];
        if (v == 0) return -1;
        if (strcmp(L->g->tensors[v - 1].name, name) == 0) return v - 1;
    }
}

/* Add a tensor and index its name (names are unique in the loader). */
static int new_tensor(loader *L, const char *name, xb_dtype dt, const xb_shape *s, xb_ctx *ctx) {
    int t = xb_graph_add_tensor(L->g, name, dt, s, ctx);
    if (t < 0) return -1;
    size_t i = name_hash(name) & L->mask;
    while (L->slots[i]) i = (i + 1) & L->mask;
    L->slots[i] = t + 1;
    return t;
}

static xb_status size_index(loader *L, const Onnx__GraphProto *gp, xb_ctx *ctx) {
    size_t names = gp->n_initializer + gp->n_input + gp->n_output + 16;
    for (size_t i = 0; i < gp->n_node; i++) {
        names += gp->node[i]->n_input + gp->node[i]->n_output;
        if (names > ((size_t)1 << 28))
            return xb_fail(ctx, XB_ERR_NOMEM, "the graph names more tensors than is sane");
    }
    size_t cap = 64;
    while (cap < 2 * names) cap *= 2;
    L->slots = xb_calloc(ctx, cap, sizeof(int));
    if (!L->slots) return ctx->status;
    L->mask = cap - 1;
    return XB_OK;
}

static const char *S(const char *s) { return s ? s : ""; }

static const char *norm_domain(const char *d) {
    if (!d || strcmp(d, "ai.onnx") == 0) return "";
    return d;
}

static int opset_for(const loader *L, const char *domain) {
    for (int i = 0; i < L->n_opsets; i++)
        if (strcmp(L->opsets[i].domain, domain) == 0) return L->opsets[i].version;
    /* IR versions before 3 had no opset_import and meant opset 1; an unknown
     * domain gets 0, and resolution lists the node either way. */
    return domain[0] == '\0' ? 1 : 0;
}

static xb_status load_opsets(loader *L, xb_ctx *ctx) {
    const Onnx__ModelProto *m = L->m;
    L->opsets = xb_calloc(ctx, m->n_opset_import + 1, sizeof(opset_entry));
    if (!L->opsets) return ctx->status;
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = m->opset_import[i];
        const char *d = norm_domain(o->domain);
        if (!o->has_version || o->version < 0 || o->version > INT_MAX)
            return xb_fail(ctx, XB_ERR_PARSE, "opset_import for domain '%s' has no valid version",
                           d[0] ? d : "ai.onnx");
        for (int j = 0; j < L->n_opsets; j++)
            if (strcmp(L->opsets[j].domain, d) == 0)
                return xb_fail(ctx, XB_ERR_PARSE, "opset_import lists domain '%s' twice",
                               d[0] ? d : "ai.onnx");
        L->opsets[L->n_opsets].domain = xb_strdup(ctx, d);
        if (!L->opsets[L->n_opsets].domain) return ctx->status;
        L->opsets[L->n_opsets++].version = (int)o->version;
    }
    L->g->opset_onnx = opset_for(L, "");
    return XB_OK;
}

static xb_status mark_input(loader *L, int t, xb_ctx *ctx) {
    if (t >= L->is_input_cap) {
        int nc = L->is_input_cap ? L->is_input_cap * 2 : 64;
        while (nc <= t) nc *= 2;
        bool *p = realloc(L->is_input, (size_t)nc);
        if (!p) return xb_fail(ctx, XB_ERR_NOMEM, "out of memory");
        memset(p + L->is_input_cap, 0, (size_t)(nc - L->is_input_cap));
        L->is_input = p;
        L->is_input_cap = nc;
    }
    L->is_input[t] = true;
    return XB_OK;
}

static bool is_input(const loader *L, int t) { return t < L->is_input_cap && L->is_input[t]; }

/* Add a tensor holding a decoded constant; takes ownership of dec's data. */
static int add_const(loader *L, const char *name, xb_tensor *dec, xb_ctx *ctx) {
    int t = new_tensor(L, name, dec->dtype, &dec->shape, ctx);
    if (t < 0) {
        free(dec->data);
        return -1;
    }
    xb_tensor_set_const(&L->g->tensors[t], dec->data);
    dec->data = NULL;
    return t;
}

static xb_status load_initializers(loader *L, const Onnx__GraphProto *gp, xb_ctx *ctx) {
    if (gp->n_sparse_initializer > 0)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "sparse initializers are not supported ('%s')",
                       S(gp->sparse_initializer[0]->values ? gp->sparse_initializer[0]->values->name
                                                           : NULL));
    for (size_t i = 0; i < gp->n_initializer; i++) {
        const Onnx__TensorProto *tp = gp->initializer[i];
        const char *name = S(tp->name);
        if (!name[0]) return xb_fail(ctx, XB_ERR_PARSE, "initializer %zu has no name", i);
        if (find_tensor(L, name) >= 0)
            return xb_fail(ctx, XB_ERR_INVALID, "initializer '%s' is defined twice", name);
        char what[400];
        snprintf(what, sizeof what, "initializer '%s'", name);
        xb_tensor dec;
        XB_TRY(xb_onnx_decode_tensor(tp, what, &dec, ctx));
        if (add_const(L, name, &dec, ctx) < 0) return ctx->status;
    }
    return XB_OK;
}

static xb_dtype input_dtype(int32_t et) {
    switch (et) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: return XB_F32;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: return XB_U8;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: return XB_I8;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: return XB_I32;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: return XB_I64;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: return XB_BOOL;
    default: return XB_UNDEF;
    }
}

static xb_status load_inputs(loader *L, const Onnx__GraphProto *gp, xb_ctx *ctx) {
    xb_graph *g = L->g;
    g->inputs = xb_calloc(ctx, gp->n_input + 1, sizeof(int));
    if (!g->inputs) return ctx->status;
    for (size_t i = 0; i < gp->n_input; i++) {
        const Onnx__ValueInfoProto *vi = gp->input[i];
        const char *name = S(vi->name);
        if (!name[0]) return xb_fail(ctx, XB_ERR_PARSE, "graph input %zu has no name", i);
        int existing = find_tensor(L, name);
        if (existing >= 0) {
            /* Listed as input and initializer: before IR 4 every initializer
             * had to be an input too; the initializer is the value. */
            if (g->tensors[existing].is_const) continue;
            return xb_fail(ctx, XB_ERR_INVALID, "graph input '%s' is listed twice", name);
        }
        const Onnx__TypeProto *tp = vi->type;
        if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
            return xb_fail(ctx, XB_ERR_UNSUPPORTED, "graph input '%s' is not a tensor", name);
        const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
        char tb[32];
        xb_dtype dt = input_dtype(tt->has_elem_type ? tt->elem_type : 0);
        if (dt == XB_UNDEF)
            return xb_fail(ctx, XB_ERR_UNSUPPORTED, "graph input '%s': element type %s is not supported",
                           name, xb_onnx_dtype_name(tt->has_elem_type ? tt->elem_type : 0, tb, sizeof tb));
        if (!tt->shape)
            return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                           "graph input '%s' has no shape (xbar needs static shapes but a batch "
                           "dimension)",
                           name);
        if (tt->shape->n_dim > XB_MAX_RANK)
            return xb_fail(ctx, XB_ERR_UNSUPPORTED, "graph input '%s': rank %zu exceeds the maximum %d",
                           name, tt->shape->n_dim, XB_MAX_RANK);
        xb_shape s = {.rank = (int)tt->shape->n_dim};
        for (size_t d = 0; d < tt->shape->n_dim; d++) {
            const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[d];
            if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
                if (dim->dim_value < 0)
                    return xb_fail(ctx, XB_ERR_PARSE, "graph input '%s': dimension %zu is negative (%lld)",
                                   name, d, (long long)dim->dim_value);
                if (dim->dim_value > (int64_t)XB_MAX_TENSOR_BYTES)
                    return xb_fail(ctx, XB_ERR_NOMEM, "graph input '%s': dimension %zu (%lld) is absurdly large",
                                   name, d, (long long)dim->dim_value);
                s.d[d] = dim->dim_value;
            } else {
                s.d[d] = -1; /* symbolic: xb_graph_prepare binds it (batch only) */
            }
        }
        /* Each dim is bounded above, but their product must be too: every
         * later size computation (kernels, exec buffers) multiplies them in
         * int64 and trusts the result. */
        size_t numel = 1;
        for (int d = 0; d < s.rank; d++)
            if (s.d[d] >= 0 && (xb_mul_overflow(numel, (size_t)s.d[d], &numel) ||
                                numel > XB_MAX_TENSOR_BYTES / xb_dtype_size(dt)))
                return xb_fail(ctx, XB_ERR_NOMEM,
                               "graph input '%s': dims describe more than the %zu-byte limit",
                               name, (size_t)XB_MAX_TENSOR_BYTES);
        int t = new_tensor(L, name, dt, &s, ctx);
        if (t < 0) return ctx->status;
        XB_TRY(mark_input(L, t, ctx));
        g->inputs[g->n_inputs++] = t;
    }
    return XB_OK;
}

static char *bytes_str(const ProtobufCBinaryData *b, xb_ctx *ctx) {
    char *s = xb_malloc(ctx, b->len + 1);
    if (!s) return NULL;
    if (b->len) memcpy(s, b->data, b->len);
    s[b->len] = '\0';
    return s;
}

static int attr_kind(const Onnx__AttributeProto *a) {
    if (a->has_type && a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED) return (int)a->type;
    /* IR 1 files may leave the type out; infer it from the field present. */
    if (a->n_floats) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
    if (a->n_ints) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
    if (a->n_strings) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS;
    if (a->t) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
    if (a->g) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH;
    if (a->has_f) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    if (a->has_i) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    if (a->has_s) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
    return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED;
}

/* Convert one attribute; *skipped is set for kinds the IR does not hold
 * (graphs, sparse tensors, type protos, tensor lists). */
static xb_status convert_attr(const Onnx__AttributeProto *a, xb_attr *x, bool *skipped, xb_ctx *ctx) {
    memset(x, 0, sizeof *x);
    *skipped = false;
    x->name = xb_strdup(ctx, S(a->name));
    if (!x->name) return ctx->status;
    switch (attr_kind(a)) {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: x->type = XB_ATTR_FLOAT; x->f = a->f; break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: x->type = XB_ATTR_INT; x->i = a->i; break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
        x->type = XB_ATTR_STRING;
        x->s = bytes_str(&a->s, ctx);
        if (!x->s) return ctx->status;
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: {
        if (!a->t) return xb_fail(ctx, XB_ERR_PARSE, "attribute '%s' of type TENSOR has no tensor", x->name);
        x->type = XB_ATTR_TENSOR;
        x->t = xb_calloc(ctx, 1, sizeof(xb_tensor));
        if (!x->t) return ctx->status;
        char what[300];
        snprintf(what, sizeof what, "attribute '%s'", x->name);
        XB_TRY(xb_onnx_decode_tensor(a->t, what, x->t, ctx));
        x->t->name = xb_strdup(ctx, S(a->t->name));
        if (!x->t->name) return ctx->status;
        break;
    }
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
        if (a->n_floats > INT_MAX) return xb_fail(ctx, XB_ERR_PARSE, "attribute '%s' is too long", x->name);
        x->type = XB_ATTR_FLOATS;
        x->n = (int)a->n_floats;
        x->floats = xb_malloc(ctx, a->n_floats * sizeof(float) + 1);
        if (!x->floats) return ctx->status;
        if (a->n_floats) memcpy(x->floats, a->floats, a->n_floats * sizeof(float));
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
        if (a->n_ints > INT_MAX) return xb_fail(ctx, XB_ERR_PARSE, "attribute '%s' is too long", x->name);
        x->type = XB_ATTR_INTS;
        x->n = (int)a->n_ints;
        x->ints = xb_malloc(ctx, a->n_ints * sizeof(int64_t) + 1);
        if (!x->ints) return ctx->status;
        if (a->n_ints) memcpy(x->ints, a->ints, a->n_ints * sizeof(int64_t));
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS:
        if (a->n_strings > INT_MAX) return xb_fail(ctx, XB_ERR_PARSE, "attribute '%s' is too long", x->name);
        x->type = XB_ATTR_STRINGS;
        x->strings = xb_calloc(ctx, a->n_strings + 1, sizeof(char *));
        if (!x->strings) return ctx->status;
        for (size_t k = 0; k < a->n_strings; k++) {
            x->strings[k] = bytes_str(&a->strings[k], ctx);
            if (!x->strings[k]) return ctx->status;
            x->n = (int)k + 1;
        }
        break;
    default: *skipped = true; break;
    }
    return XB_OK;
}

/* Constant node -> constant tensor, for the value forms the IR holds.
 * Returns XB_OK with *done false when the node should stay a node. */
static xb_status constant_to_tensor(loader *L, const Onnx__NodeProto *np, const char *nname,
                                    bool *done, xb_ctx *ctx) {
    *done = false;
    if (np->n_output != 1 || np->n_input != 0 || np->n_attribute != 1) return XB_OK;
    const Onnx__AttributeProto *a = np->attribute[0];
    const char *an = S(a->name);
    const char *oname = S(np->output[0]);
    if (!oname[0]) return XB_OK;
    char what[400];
    snprintf(what, sizeof what, "node '%s' (Constant): attribute '%s'", nname, an);
    xb_tensor dec;
    memset(&dec, 0, sizeof dec);
    int kind = attr_kind(a);
    if (strcmp(an, "value") == 0 && kind == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR && a->t) {
        XB_TRY(xb_onnx_decode_tensor(a->t, what, &dec, ctx));
    } else if (strcmp(an, "value_float") == 0 && kind == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT) {
        dec.dtype = XB_F32;
        dec.data = xb_malloc(ctx, sizeof(float));
        if (!dec.data) return ctx->status;
        *(float *)dec.data = a->f;
    } else if (strcmp(an, "value_int") == 0 && kind == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT) {
        dec.dtype = XB_I64;
        dec.data = xb_malloc(ctx, sizeof(int64_t));
        if (!dec.data) return ctx->status;
        *(int64_t *)dec.data = a->i;
    } else if (strcmp(an, "value_floats") == 0 && kind == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS) {
        dec.dtype = XB_F32;
        dec.shape.rank = 1;
        dec.shape.d[0] = (int64_t)a->n_floats;
        dec.data = xb_malloc(ctx, a->n_floats * sizeof(float) + 1);
        if (!dec.data) return ctx->status;
        if (a->n_floats) memcpy(dec.data, a->floats, a->n_floats * sizeof(float));
    } else if (strcmp(an, "value_ints") == 0 && kind == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS) {
        dec.dtype = XB_I64;
        dec.shape.rank = 1;
        dec.shape.d[0] = (int64_t)a->n_ints;
        dec.data = xb_malloc(ctx, a->n_ints * sizeof(int64_t) + 1);
        if (!dec.data) return ctx->status;
        if (a->n_ints) memcpy(dec.data, a->ints, a->n_ints * sizeof(int64_t));
    } else {
        return XB_OK;
    }
    int existing = find_tensor(L, oname);
    if (existing >= 0) {
        const xb_tensor *t = &L->g->tensors[existing];
        /* A placeholder made by a consumer listed earlier is fine (node
         * order is not trusted); anything else already has a value. */
        if (t->is_const || t->producer >= 0 || is_input(L, existing)) {
            free(dec.data);
            return xb_fail(ctx, XB_ERR_INVALID,
                           "node '%s' (Constant) writes tensor '%s', which already has a producer",
                           nname, oname);
        }
        xb_tensor *w = &L->g->tensors[existing];
        w->dtype = dec.dtype;
        w->shape = dec.shape;
        xb_tensor_set_const(w, dec.data);
    } else if (add_const(L, oname, &dec, ctx) < 0) {
        return ctx->status;
    }
    *done = true;
    return XB_OK;
}

/* Tensor indices of a node's inputs (-1 for an absent optional input);
 * a name not seen yet becomes a new activation tensor. */
static xb_status node_inputs(loader *L, const Onnx__NodeProto *np, int *ins, xb_ctx *ctx) {
    for (size_t j = 0; j < np->n_input; j++) {
        const char *tn = S(np->input[j]);
        if (!tn[0]) {
            ins[j] = -1; /* absent optional input */
            continue;
        }
        int t = find_tensor(L, tn);
        if (t < 0) t = new_tensor(L, tn, XB_UNDEF, NULL, ctx);
        if (t < 0) return ctx->status;
        ins[j] = t;
    }
    return XB_OK;
}

/* Tensor indices of a node's outputs.  Each tensor has one producer: an
 * output that is a constant, a graph input, produced by another node or
 * listed twice by this one is an error naming both parties. */
static xb_status node_outputs(loader *L, const Onnx__NodeProto *np, const char *nname,
                              const char *op, int *outs, xb_ctx *ctx) {
    const xb_graph *g = L->g;
    for (size_t j = 0; j < np->n_output; j++) {
        const char *tn = S(np->output[j]);
        if (!tn[0]) {
            outs[j] = -1;
            continue;
        }
        int t = find_tensor(L, tn);
        if (t < 0) {
            t = new_tensor(L, tn, XB_UNDEF, NULL, ctx);
            if (t < 0) return ctx->status;
            outs[j] = t;
            continue;
        }
        const xb_tensor *ten = &g->tensors[t];
        bool dup_here = false;
        for (size_t k = 0; k < j; k++)
            if (outs[k] == t) dup_here = true;
        if (!(ten->is_const || ten->producer >= 0 || is_input(L, t) || dup_here)) {
            outs[j] = t;
            continue;
        }
        if (ten->producer >= 0 && !dup_here)
            return xb_fail(ctx, XB_ERR_INVALID,
                           "tensor '%s' is produced by both node '%s' and node '%s'", tn,
                           g->nodes[ten->producer].name, nname);
        const char *who = ten->is_const    ? "it is an initializer or Constant"
                          : is_input(L, t) ? "it is a graph input"
                          : dup_here       ? "the node lists it twice"
                                           : "another node produces it";
        return xb_fail(ctx, XB_ERR_INVALID, "node '%s' (%s) writes tensor '%s', but %s", nname,
                       op, tn, who);
    }
    return XB_OK;
}

/* Convert the node's attributes into n->attr.  Graph, sparse-tensor and
 * type attributes are skipped; control flow (If, Loop, Scan) carries
 * subgraphs, and those ops are not in the registry, so resolution lists
 * them with every other unsupported node.  A registered op with such an
 * attribute would be silently wrong, so it fails here. */
static xb_status node_attrs(const Onnx__NodeProto *np, xb_node *n, xb_ctx *ctx) {
    if (!np->n_attribute) return XB_OK;
    n->attr = xb_calloc(ctx, np->n_attribute, sizeof(xb_attr));
    if (!n->attr) return ctx->status;
    const char *skipped_attr = NULL;
    for (size_t a = 0; a < np->n_attribute; a++) {
        bool skipped;
        if (convert_attr(np->attribute[a], &n->attr[n->n_attr], &skipped, ctx) != XB_OK) {
            xb_attr_free(&n->attr[n->n_attr]);
            xb_ctx_prefix(ctx, "node '%s' (%s)", n->name, n->op_type);
            return ctx->status;
        }
        if (skipped) {
            if (!skipped_attr) skipped_attr = S(np->attribute[a]->name);
            xb_attr_free(&n->attr[n->n_attr]);
            continue;
        }
        n->n_attr++;
    }
    if (skipped_attr && xb_op_lookup(n->op_type, n->domain, n->opset, NULL) >= 0)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                       "node '%s' (%s): attribute '%s' (graph, sparse tensor or type) is not "
                       "supported",
                       n->name, n->op_type, skipped_attr);
    return XB_OK;
}

/* One NodeProto into the graph (a Constant may become a tensor instead).
 * ins/outs are scratch of at least max(n_input, n_output) + 1 ints. */
static xb_status load_node(loader *L, const Onnx__NodeProto *np, size_t i, int *ins, int *outs,
                           xb_ctx *ctx) {
    const char *op = S(np->op_type);
    if (!op[0]) return xb_fail(ctx, XB_ERR_PARSE, "node %zu ('%s') has no op_type", i, S(np->name));
    char nbuf[300];
    const char *nname = S(np->name);
    if (!nname[0]) {
        snprintf(nbuf, sizeof nbuf, "%s_%zu", op, i);
        nname = nbuf;
    }
    const char *dom = norm_domain(np->domain);
    if (dom[0] == '\0' && strcmp(op, "Constant") == 0) {
        bool done;
        xb_status st = constant_to_tensor(L, np, nname, &done, ctx);
        if (st != XB_OK || done) return st;
    }
    XB_TRY(node_inputs(L, np, ins, ctx));
    XB_TRY(node_outputs(L, np, nname, op, outs, ctx));
    int ni = xb_graph_add_node(L->g, nname, op, dom, opset_for(L, dom), ins, (int)np->n_input,
                               outs, (int)np->n_output, ctx);
    if (ni < 0) return ctx->status;
    return node_attrs(np, &L->g->nodes[ni], ctx);
}

static xb_status load_nodes(loader *L, const Onnx__GraphProto *gp, xb_ctx *ctx) {
    int *ins = NULL, *outs = NULL;
    size_t cap = 0;
    xb_status st = XB_OK;
    for (size_t i = 0; i < gp->n_node && st == XB_OK; i++) {
        const Onnx__NodeProto *np = gp->node[i];
        if (np->n_input > INT_MAX / 2 || np->n_output > INT_MAX / 2) {
            st = xb_fail(ctx, XB_ERR_PARSE, "node %zu ('%s') has too many inputs or outputs", i,
                         S(np->name));
            break;
        }
        size_t need = (np->n_input > np->n_output ? np->n_input : np->n_output) + 1;
        if (need > cap) {
            free(ins);
            free(outs);
            ins = xb_calloc(ctx, need, sizeof(int));
            outs = xb_calloc(ctx, need, sizeof(int));
            if (!ins || !outs) {
                st = ctx->status;
                break;
            }
            cap = need;
        }
        st = load_node(L, np, i, ins, outs, ctx);
    }
    free(ins);
    free(outs);
    return st;
}

static xb_status load_outputs(loader *L, const Onnx__GraphProto *gp, xb_ctx *ctx) {
    xb_graph *g = L->g;
    if (gp->n_output == 0) return xb_fail(ctx, XB_ERR_INVALID, "graph has no outputs");
    g->outputs = xb_calloc(ctx, gp->n_output, sizeof(int));
    if (!g->outputs) return ctx->status;
    for (size_t i = 0; i < gp->n_output; i++) {
        const char *name = S(gp->output[i]->name);
        int t = name[0] ? find_tensor(L, name) : -1;
        if (t < 0)
            return xb_fail(ctx, XB_ERR_INVALID,
                           "graph output '%s' is not produced by any node, input or initializer",
                           name);
        g->outputs[g->n_outputs++] = t;
    }
    return XB_OK;
}

/* Every tensor a node reads must come from somewhere; checked here (rather
 * than left to the toposort) so the message can say which node. */
static xb_status check_defined(loader *L, xb_ctx *ctx) {
    xb_graph *g = L->g;
    for (int i = 0; i < g->n_nodes; i++) {
        const xb_node *n = &g->nodes[i];
        for (int j = 0; j < n->n_in; j++) {
            int t = n->in[j];
            if (t < 0) continue;
            const xb_tensor *ten = &g->tensors[t];
            if (!ten->is_const && ten->producer < 0 && !is_input(L, t))
                return xb_fail(ctx, XB_ERR_INVALID,
                               "node '%s' (%s) reads tensor '%s', which no node, input or "
                               "initializer defines",
                               n->name, n->op_type, ten->name);
        }
    }
    for (int i = 0; i < g->n_outputs; i++) {
        const xb_tensor *ten = &g->tensors[g->outputs[i]];
        if (!ten->is_const && ten->producer < 0 && !is_input(L, g->outputs[i]))
            return xb_fail(ctx, XB_ERR_INVALID, "graph output '%s' is never produced", ten->name);
    }
    return XB_OK;
}

static xb_status build(loader *L, xb_ctx *ctx) {
    const Onnx__ModelProto *m = L->m;
    const Onnx__GraphProto *gp = m->graph;
    if (!gp) return xb_fail(ctx, XB_ERR_PARSE, "the model has no graph (not an ONNX model?)");
    xb_graph *g = L->g;
    g->ir_version = m->has_ir_version ? m->ir_version : 0;
    if (m->producer_name) {
        g->producer = xb_strdup(ctx, m->producer_name);
        if (!g->producer) return ctx->status;
    }
    XB_TRY(size_index(L, gp, ctx));
    XB_TRY(load_opsets(L, ctx));
    XB_TRY(load_initializers(L, gp, ctx));
    XB_TRY(load_inputs(L, gp, ctx));
    XB_TRY(load_nodes(L, gp, ctx));
    XB_TRY(load_outputs(L, gp, ctx));
    XB_TRY(check_defined(L, ctx));
    for (size_t i = 0; i < m->n_metadata_props; i++) {
        const Onnx__StringStringEntryProto *p = m->metadata_props[i];
        XB_TRY(xb_graph_set_meta(g, S(p->key), S(p->value), ctx));
    }
    return XB_OK;
}

static xb_status pipeline(xb_graph *g, int64_t batch, const xb_onnx_options *opts, xb_ctx *ctx) {
    if (opts && opts->parse_only) return XB_OK;
    XB_TRY(xb_pass_remove_identity(g, NULL, ctx));
    if (opts && opts->no_passes) return xb_graph_prepare(g, batch, ctx);
    xb_dq_table tab = {0};
    xb_status st = xb_pass_record_const_dq(g, &tab, ctx);
    if (st == XB_OK) st = xb_graph_prepare(g, batch, ctx);
    int changed = 0, c;
    if (st == XB_OK) st = xb_pass_fold_bn(g, &c, ctx), changed += c;
    if (st == XB_OK) st = xb_pass_lower_qdq(g, &tab, &c, ctx), changed += c;
    if (st == XB_OK) st = xb_pass_remove_dead(g, &c, ctx), changed += c;
    xb_dq_table_free(&tab);
    /* Prepare again even when nothing changed would be wasted work; a
     * rewritten node needs its params and shapes rebuilt. */
    if (st == XB_OK && changed) st = xb_graph_prepare(g, batch, ctx);
    return st;
}

xb_status xb_onnx_load_buffer_opts(const uint8_t *data, size_t len, const char *name, int64_t batch,
                                   const xb_onnx_options *opts, xb_graph **out, xb_ctx *ctx) {
    *out = NULL;
    name = name ? name : "<buffer>";
    if (!data || len == 0) return xb_fail(ctx, XB_ERR_PARSE, "%s: file is empty", name);
    if (batch < 1)
        return xb_fail(ctx, XB_ERR_INVALID, "%s: batch must be >= 1 (got %lld)", name, (long long)batch);
    if (!xb_pb_depth_ok(&onnx__model_proto__descriptor, data, len))
        return xb_fail(ctx, XB_ERR_PARSE,
                       "%s: messages nested more than 64 levels deep (corrupt or hostile file)",
                       name);
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, data);
    if (!m)
        return xb_fail(ctx, XB_ERR_PARSE,
                       "%s: not a valid ONNX model (protobuf parse failed: truncated or corrupt "
                       "file?)",
                       name);
    loader L;
    memset(&L, 0, sizeof L);
    L.m = m;
    L.g = xb_graph_new(&xb_kernel_ops, ctx);
    xb_status st = L.g ? XB_OK : ctx->status;
    if (st == XB_OK) {
        L.g->path = xb_strdup(ctx, name);
        if (!L.g->path) st = ctx->status;
    }
    if (st == XB_OK) st = build(&L, ctx);
    onnx__model_proto__free_unpacked(m, NULL);
    for (int i = 0; i < L.n_opsets; i++) free(L.opsets[i].domain);
    free(L.opsets);
    free(L.is_input);
    free(L.slots);
    if (st == XB_OK) st = pipeline(L.g, batch, opts, ctx);
    if (st != XB_OK) {
        xb_ctx_prefix(ctx, "%s", name);
        xb_graph_free(L.g);
        return st;
    }
    *out = L.g;
    return XB_OK;
}

xb_status xb_onnx_load_buffer(const uint8_t *data, size_t len, const char *name, int64_t batch,
                              xb_graph **out, xb_ctx *ctx) {
    return xb_onnx_load_buffer_opts(data, len, name, batch, NULL, out, ctx);
}

xb_status xb_onnx_load_opts(const char *path, int64_t batch, const xb_onnx_options *opts,
                            xb_graph **out, xb_ctx *ctx) {
    *out = NULL;
    uint8_t *buf;
    size_t len;
    XB_TRY(xb_onnx_read_file(path, &buf, &len, ctx));
    xb_status st = xb_onnx_load_buffer_opts(buf, len, path, batch, opts, out, ctx);
    free(buf);
    return st;
}

xb_status xb_onnx_load(const char *path, int64_t batch, xb_graph **out, xb_ctx *ctx) {
    return xb_onnx_load_opts(path, batch, NULL, out, ctx);
}
