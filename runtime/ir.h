/* xbar intermediate representation.
 *
 * A graph is a flat array of tensors and a topologically sorted array of
 * nodes that refer to tensors by index.  Shapes are static once a graph is
 * prepared: a symbolic batch dimension in a graph input is bound to a concrete
 * value (1 unless the caller says otherwise) before shape inference, because
 * the runtime executes one image per worker and parallelises across images.
 *
 * Constant tensors (initializers, Constant nodes, folded subgraphs) own their
 * data in `data`.  Activations have data == NULL here; their buffers live in
 * a per-thread xb_exec (runtime/exec.h), so one prepared graph can be run by
 * many threads at once. */
#ifndef XBAR_IR_H
#define XBAR_IR_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/status.h"

typedef enum {
    XB_UNDEF = 0,
    XB_F32,
    XB_U8,
    XB_I8,
    XB_I32,
    XB_I64,
    XB_BOOL, /* one byte per element: ops write 0 or 1, readers take nonzero as true */
} xb_dtype;

size_t xb_dtype_size(xb_dtype t);
const char *xb_dtype_name(xb_dtype t);

#define XB_MAX_RANK 8

typedef struct {
    int rank;
    int64_t d[XB_MAX_RANK];
} xb_shape;

int64_t xb_shape_numel(const xb_shape *s); /* 1 for rank 0 */
bool xb_shape_eq(const xb_shape *a, const xb_shape *b);
/* "[1,3,32,32]" into buf; returns buf. */
char *xb_shape_str(const xb_shape *s, char *buf, size_t n);

/* Quantization parameters of an integer tensor: per tensor (axis = -1, n = 1)
 * or per axis (n = d[axis]). */
typedef struct {
    int axis;
    int n;
    float *scale;
    int32_t *zero_point;
} xb_qparams;

typedef struct {
    char *name;
    xb_dtype dtype;
    xb_shape shape;
    bool is_const;
    bool shape_known; /* set by shape inference (or by the loader for inputs/consts) */
    void *data;       /* constants only; owned; numel * dtype_size bytes */
    int producer;     /* node index, or -1 for graph inputs and constants */
    xb_qparams q;     /* n == 0 when the tensor carries no quantization */
} xb_tensor;

typedef enum {
    XB_ATTR_UNDEF = 0,
    XB_ATTR_FLOAT,
    XB_ATTR_INT,
    XB_ATTR_STRING,
    XB_ATTR_TENSOR,
    XB_ATTR_FLOATS,
    XB_ATTR_INTS,
    XB_ATTR_STRINGS,
} xb_attr_type;

typedef struct {
    char *name;
    xb_attr_type type;
    float f;
    int64_t i;
    char *s;       /* STRING */
    int n;         /* element count of FLOATS / INTS / STRINGS */
    float *floats;
    int64_t *ints;
    char **strings;
    xb_tensor *t;  /* TENSOR: owned, dims and data */
} xb_attr;

struct xb_node;
struct xb_graph;
struct xb_exec;

typedef struct xb_node {
    char *name;    /* never NULL: loader invents "<op>_<index>" when absent */
    char *op_type;
    char *domain;  /* "" for ai.onnx */
    int opset;     /* the model's opset for this node's domain */
    int op;        /* index into the graph's op set (runtime/op.h) */
    int n_in, n_out;
    int *in;       /* tensor indices; -1 marks an absent optional input */
    int *out;
    int n_attr;
    xb_attr *attr;
    void *params;  /* op-private, filled by prepare; freed with params_free or free() */
    void (*params_free)(void *params);
    size_t scratch_bytes; /* per-run scratch the op asks for (set by prepare) */
} xb_node;

typedef struct {
    char *key;
    char *value;
} xb_meta;

struct xb_op_set; /* runtime/op.h */

typedef struct xb_graph {
    const struct xb_op_set *ops; /* the ops nodes resolve to (runtime/op.h) */
    char *path;    /* file it came from, for messages */
    int n_tensors, cap_tensors;
    xb_tensor *tensors;
    int n_nodes, cap_nodes;
    xb_node *nodes;
    int n_inputs, n_outputs;
    int *inputs;   /* non-constant graph inputs */
    int *outputs;
    int n_meta;
    xb_meta *meta;
    int64_t ir_version;
    int64_t opset_onnx; /* default-domain opset */
    char *producer;
} xb_graph;

/* --- construction ------------------------------------------------------ */
/* `ops` is the op set the graph's nodes resolve to (the kernels' table,
 * kernels/registry.h: xb_kernel_ops). */
xb_graph *xb_graph_new(const struct xb_op_set *ops, xb_ctx *ctx);
void xb_graph_free(xb_graph *g);
/* Deep copy (tensors with data, nodes with attributes); params are not
 * copied: call xb_graph_prepare on the copy. */
xb_graph *xb_graph_clone(const xb_graph *g, xb_ctx *ctx);
/* Returns the new tensor index or -1 (ctx set). Name is copied. */
int xb_graph_add_tensor(xb_graph *g, const char *name, xb_dtype dt, const xb_shape *shape,
                        xb_ctx *ctx);
int xb_graph_find_tensor(const xb_graph *g, const char *name);
/* Appends a node; in/out arrays and strings are copied. Returns index or -1. */
int xb_graph_add_node(xb_graph *g, const char *name, const char *op_type, const char *domain,
                      int opset, const int *in, int n_in, const int *out, int n_out, xb_ctx *ctx);
/* Attach constant data (takes ownership of `data`). */
void xb_tensor_set_const(xb_tensor *t, void *data);
void xb_tensor_free_data(xb_tensor *t);
const char *xb_graph_meta(const xb_graph *g, const char *key); /* NULL if absent */
xb_status xb_graph_set_meta(xb_graph *g, const char *key, const char *value, xb_ctx *ctx);

/* Remove nodes with remove[i] true and compact; tensor indices stay valid. */
void xb_graph_remove_nodes(xb_graph *g, const bool *remove);
/* Sort nodes topologically; fails naming a node on a cycle or an input that
 * nothing produces. */
xb_status xb_graph_toposort(xb_graph *g, xb_ctx *ctx);
/* Number of nodes reading tensor t (plus 1 if it is a graph output). */
int xb_graph_consumers(const xb_graph *g, int t);

/* --- attributes -------------------------------------------------------- */
/* Free everything an attribute owns (strings, arrays, tensor) and zero it. */
void xb_attr_free(xb_attr *a);
const xb_attr *xb_attr_find(const xb_node *n, const char *name);
int64_t xb_attr_int(const xb_node *n, const char *name, int64_t dflt);
float xb_attr_float(const xb_node *n, const char *name, float dflt);
const char *xb_attr_str(const xb_node *n, const char *name, const char *dflt);
/* INTS attribute: returns count (or -1 when absent) and sets *vals. */
int xb_attr_ints(const xb_node *n, const char *name, const int64_t **vals);

/* --- preparation -------------------------------------------------------- */
/* Bind symbolic (-1) dims of graph inputs to `batch`, resolve every node to a
 * registry op (listing *all* unsupported nodes in one message), run each
 * op's prepare in order (shape inference and attribute validation), and fold
 * nodes whose inputs are all constant. */
xb_status xb_graph_prepare(xb_graph *g, int64_t batch, xb_ctx *ctx);

/* The default ONNX domain is spelled "" or "ai.onnx". */
bool xb_domain_is_onnx(const char *domain);
/* Node `n` is the default-domain op `op_type`. */
bool xb_node_is_onnx(const xb_node *n, const char *op_type);
/* Free the op-private params prepare stored in the node (params_free or
 * free) and clear them, so the node can be prepared again. */
void xb_node_free_params(xb_node *n);

/* Convenience accessors used by kernels. */
static inline const xb_tensor *xb_in_tc(const xb_graph *g, const xb_node *n, int i) {
    return (i < n->n_in && n->in[i] >= 0) ? &g->tensors[n->in[i]] : (const xb_tensor *)0;
}
static inline xb_tensor *xb_in_t(xb_graph *g, const xb_node *n, int i) {
    return (i < n->n_in && n->in[i] >= 0) ? &g->tensors[n->in[i]] : (xb_tensor *)0;
}
static inline xb_tensor *xb_out_t(xb_graph *g, const xb_node *n, int i) {
    return &g->tensors[n->out[i]];
}

#endif
