/* Helpers for building tiny graphs in op tests. */
#ifndef XBAR_TEST_UTIL_H
#define XBAR_TEST_UTIL_H

#include <string.h>

#include "kernels/registry.h"
#include "runtime/exec.h"
#include "runtime/ir.h"

typedef struct {
    xb_ctx ctx;
    xb_graph *g;
    xb_exec *e;
} xb_test_graph;

void xb_test_begin(xb_test_graph *tg);
/* Graph input / constant / plain tensor; return the tensor index. */
int xb_test_input(xb_test_graph *tg, const char *name, xb_dtype dt, int rank, const int64_t *dims);
int xb_test_const(xb_test_graph *tg, const char *name, xb_dtype dt, int rank, const int64_t *dims,
                  const void *data);
int xb_test_tensor(xb_test_graph *tg, const char *name);
void xb_test_output(xb_test_graph *tg, int tensor);
int xb_test_node(xb_test_graph *tg, const char *op_type, int opset, const int *in, int n_in,
                 const int *out, int n_out);
void xb_test_attr_int(xb_test_graph *tg, int node, const char *name, int64_t v);
void xb_test_attr_float(xb_test_graph *tg, int node, const char *name, float v);
void xb_test_attr_ints(xb_test_graph *tg, int node, const char *name, int n, const int64_t *v);
void xb_test_attr_str(xb_test_graph *tg, int node, const char *name, const char *s);
/* One input "x" -> op -> graph output "y". */
void xb_test_unary_begin(xb_test_graph *tg, const char *op_type, int opset, xb_dtype dt, int rank,
                         const int64_t *dims);
xb_status xb_test_prepare(xb_test_graph *tg); /* batch 1 */
/* Copy inputs (in graph-input order) into a fresh exec, run, and return the
 * buffer of graph output `k` (NULL on failure, message in tg->ctx). */
void *xb_test_run(xb_test_graph *tg, const void *const *inputs, int k);
void *xb_test_run1(xb_test_graph *tg, const void *x);
void xb_test_end(xb_test_graph *tg);

#endif
