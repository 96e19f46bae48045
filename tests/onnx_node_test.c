/* ONNX's own node tests, through the same code as `xbar check-onnx`.
 *
 * tests/onnx_node_tests.txt lists the cases we claim to pass; each becomes
 * one parameterized test, so a regression names its case.  The cases are
 * generated in the build tree (tests/tests.cmake); without python3-onnx
 * they are absent and these tests are skipped with a message, not failed. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "eval/conformance.h"

#define LIST_PATH XBAR_SOURCE_DIR "/tests/onnx_node_tests.txt"
#define MAX_CASES 4096

static const char *node_dir(char *buf, size_t n) {
    const char *env = getenv("XBAR_ONNX_NODE_DIR");
    if (env && *env) return env;
    env = getenv("XBAR_BUILD_DIR");
    if (env && *env) {
        snprintf(buf, n, "%s/onnx-node-tests/node", env);
        return buf;
    }
#ifdef XBAR_ONNX_NODE_DIR
    return XBAR_ONNX_NODE_DIR;
#else
    return NULL;
#endif
}

ParameterizedTestParameters(onnx_node, listed) {
    /* Indices into the list: plain ints survive Criterion's fork without
     * cr_malloc; each test re-reads the list to get its name. */
    static int idx[MAX_CASES];
    char **names = NULL;
    xb_ctx ctx = {0};
    int n = xb_conformance_read_list(LIST_PATH, &names, &ctx);
    if (n < 0) n = 0;
    xb_conformance_free_list(names, n);
    if (n > MAX_CASES) n = MAX_CASES;
    for (int i = 0; i < n; i++) idx[i] = i;
    return cr_make_param_array(int, idx, (size_t)n);
}

ParameterizedTest(int *i, onnx_node, listed) {
    char **names = NULL;
    xb_ctx ctx = {0};
    int n = xb_conformance_read_list(LIST_PATH, &names, &ctx);
    cr_assert(n > *i, "%s", ctx.msg);
    char buf[4096], dir[8192];
    const char *root = node_dir(buf, sizeof buf);
    struct stat st;
    if (!root || stat(root, &st) != 0) {
        xb_conformance_free_list(names, n);
        cr_skip_test("ONNX node tests not generated (%s missing; needs /usr/bin/python3 with onnx)",
                     root ? root : "build dir unknown");
    }
    snprintf(dir, sizeof dir, "%s/%s", root, names[*i]);
    xb_conformance_result *r = malloc(sizeof *r);
    cr_assert_not_null(r);
    bool ok = xb_conformance_run_dir(dir, r);
    cr_expect(ok, "%s: %s", names[*i], r->reason);
    free(r);
    xb_conformance_free_list(names, n);
}

/* The list must be readable and honest about its format: a typo'd name
 * would otherwise surface only as a confusing "no such file" failure. */
Test(onnx_node, list_is_readable) {
    char **names = NULL;
    xb_ctx ctx = {0};
    int n = xb_conformance_read_list(LIST_PATH, &names, &ctx);
    cr_assert(n > 0, "%s: %s", LIST_PATH, n < 0 ? ctx.msg : "empty");
    for (int i = 0; i < n; i++)
        cr_expect(!strncmp(names[i], "test_", 5), "list entry '%s' is not a node test name",
                  names[i]);
    xb_conformance_free_list(names, n);
}

/* The checker itself must reject: a missing directory, and a directory
 * without data sets. */
Test(onnx_node, checker_reports_missing_model) {
    xb_conformance_result *r = malloc(sizeof *r);
    cr_assert_not_null(r);
    cr_assert(!xb_conformance_run_dir("/nonexistent/xbar/test_relu", r));
    cr_assert(strstr(r->reason, "model.onnx") != NULL, "%s", r->reason);
    free(r);
}

/* The checker on cases with known answers (tools/gen_node_tests.py writes
 * them next to ONNX's, in ../xbar): a symbolic batch bound from the data, and
 * wrong float, integer and shape outputs that must be caught. */
static void run_xbar_case(const char *name, bool want_pass, const char *want_in_reason) {
    char buf[4096], dir[8192];
    const char *root = node_dir(buf, sizeof buf);
    struct stat st;
    if (!root || stat(root, &st) != 0)
        cr_skip_test("ONNX node tests not generated (needs /usr/bin/python3 with onnx)");
    snprintf(dir, sizeof dir, "%s/../xbar/%s", root, name);
    xb_conformance_result *r = malloc(sizeof *r);
    cr_assert_not_null(r);
    bool ok = xb_conformance_run_dir(dir, r);
    cr_expect_eq(ok, want_pass, "%s: %s", name, ok ? "passed" : r->reason);
    if (want_in_reason)
        cr_expect(strstr(r->reason, want_in_reason) != NULL, "%s: reason '%s' lacks '%s'", name,
                  r->reason, want_in_reason);
    free(r);
}

Test(onnx_node, symbolic_batch_bound_from_data) { run_xbar_case("test_symbolic_batch3", true, NULL); }
Test(onnx_node, integer_output_exact) { run_xbar_case("test_quantize_exact", true, NULL); }
Test(onnx_node, float_mismatch_fails) {
    run_xbar_case("test_wrong_float", false, "1 of 6 elements differ (rtol 1e-3, atol 1e-5); max abs error 1");
}
Test(onnx_node, integer_off_by_one_fails) {
    run_xbar_case("test_wrong_int", false, "integers must be exact");
}
Test(onnx_node, shape_mismatch_fails) {
    run_xbar_case("test_wrong_shape", false, "shape [3,2], expected [6,1]");
}
