/* The shipped models (models/NAME.onnx, trained by models/train.py) load with
 * no unsupported node, BatchNormalization folded, and, for the QDQ export,
 * every Conv/Gemm lowered to the integer matrix ops.  A model not (yet)
 * present is skipped. */
#include <criterion/criterion.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "frontend/onnx.h"
#include "runtime/exec.h"

static int count_op(const xb_graph *g, const char *op) {
    int c = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].op_type, op) == 0) c++;
    return c;
}

static void check_model(const char *path, bool qdq) {
    xb_ctx ctx = {0};
    xb_graph *g;
    cr_assert_eq(xb_onnx_load(path, 1, &g, &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_eq(count_op(g, "BatchNormalization"), 0, "%s: BN left", path);
    cr_assert_eq(count_op(g, "Identity") + count_op(g, "Dropout"), 0, "%s", path);
    cr_assert_eq(g->n_inputs, 1);
    cr_assert_eq(g->tensors[g->inputs[0]].shape.d[0], 1);
    if (qdq) {
        cr_assert_gt(count_op(g, "XbarQConv"), 0, "%s: no QConv", path);
        cr_assert_gt(count_op(g, "XbarQGemm"), 0, "%s: no QGemm", path);
        cr_assert_eq(count_op(g, "Conv") + count_op(g, "Gemm") + count_op(g, "MatMul"), 0,
                     "%s: float matrix layers left", path);
    }
    /* It runs (the logits are checked against the golden files by the
     * runtime's model tests), and a deep copy prepared again computes the
     * same logits bit for bit. */
    float *y[2] = {NULL, NULL};
    size_t ny = 0;
    xb_graph *c = xb_graph_clone(g, &ctx);
    cr_assert_not_null(c, "%s", ctx.msg);
    cr_assert_eq(xb_graph_prepare(c, 1, &ctx), XB_OK, "%s", ctx.msg);
    for (int k = 0; k < 2; k++) {
        xb_graph *gk = k ? c : g;
        xb_exec *e = xb_exec_new(gk, &ctx);
        cr_assert_not_null(e, "%s", ctx.msg);
        const xb_tensor *x = &gk->tensors[gk->inputs[0]];
        float *xi = e->buf[gk->inputs[0]];
        for (int64_t i = 0; i < xb_shape_numel(&x->shape); i++) xi[i] = (float)(i % 17) / 8.0f - 1.0f;
        cr_assert_eq(xb_exec_run(e, &ctx), XB_OK, "%s", ctx.msg);
        const xb_tensor *o = &gk->tensors[gk->outputs[0]];
        ny = (size_t)xb_shape_numel(&o->shape);
        y[k] = malloc(ny * sizeof(float));
        memcpy(y[k], e->buf[gk->outputs[0]], ny * sizeof(float));
        xb_exec_free(e);
    }
    for (size_t i = 0; i < ny; i++) cr_assert_eq(y[0][i], y[1][i], "%s: logit %zu", path, i);
    free(y[0]);
    free(y[1]);
    xb_graph_free(c);
    xb_graph_free(g);
}

/* XBAR_MODELS overrides the models folder (as in tests/models_test.c). */
static const char *models_dir(void) {
    const char *e = getenv("XBAR_MODELS");
    return e && e[0] ? e : XBAR_SOURCE_DIR "/models";
}

static void check_named(const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.onnx", models_dir(), name);
    if (access(path, R_OK) != 0) cr_skip_test("%s not present", path);
    check_model(path, strstr(name, "_qdq") != NULL);
}

Test(frontend_models, lenet5_mnist) { check_named("lenet5_mnist"); }
Test(frontend_models, lenet5_mnist_qdq) { check_named("lenet5_mnist_qdq"); }
Test(frontend_models, resnet20_cifar10) { check_named("resnet20_cifar10"); }

/* Any other model dropped into models/ is held to the same standard. */
Test(frontend_models, every_onnx_file) {
    glob_t gl;
    char pat[1024];
    snprintf(pat, sizeof pat, "%s/*.onnx", models_dir());
    if (glob(pat, 0, NULL, &gl) != 0) cr_skip_test("no models/*.onnx yet");
    for (size_t i = 0; i < gl.gl_pathc; i++)
        check_model(gl.gl_pathv[i], strstr(gl.gl_pathv[i], "_qdq") != NULL);
    globfree(&gl);
}
