/* ONNX backend-test conformance: run one directory in the layout of ONNX's
 * node tests (model.onnx, test_data_set_N/input_J.pb, output_J.pb) and say
 * whether our outputs match.  `xbar check-onnx` and the Criterion test
 * tests/onnx_node_test.c both call this, so the list of node tests we claim
 * to pass is checked by exactly the code users run. */
#ifndef XBAR_CONFORMANCE_H
#define XBAR_CONFORMANCE_H

#include <stdbool.h>

#include "runtime/status.h"

/* Tolerances of the check: float outputs must satisfy
 * |got - want| <= atol + rtol * |want| elementwise (numpy's assert_allclose
 * rule, which ONNX's backend test runner uses); integer and bool outputs
 * must be bit-exact. */
#define XB_CONF_RTOL 1e-3
#define XB_CONF_ATOL 1e-5

typedef struct {
    bool pass;
    int n_sets;          /* data sets checked (all of them when pass) */
    double max_abs_err;  /* largest |got - want| over float outputs */
    char reason[XB_MSG_MAX]; /* why it failed; "" on pass */
} xb_conformance_result;

/* Check every test_data_set_* in `dir`.  Never fails in any other way than
 * by returning false with r->reason set (load error, missing or malformed
 * .pb files, input/output mismatch, value error). */
bool xb_conformance_run_dir(const char *dir, xb_conformance_result *r);

/* Read a list of test names: one per line, first whitespace-delimited word;
 * '#' starts a comment, blank lines are skipped.  Returns the count and
 * sets *names (free with xb_conformance_free_list), or -1 with ctx set. */
int xb_conformance_read_list(const char *path, char ***names, xb_ctx *ctx);
void xb_conformance_free_list(char **names, int n);

#endif
