#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/onnx.h"
#include "frontend/quantize.h"
#include "kernels/igemm.h"
#include "kernels/qlayer.h"
#include "runtime/exec.h"

static float *random_images(int64_t n, int64_t isz) {
    float *imgs = malloc((size_t)(n * isz) * sizeof(float));
    uint64_t s = 7;
    for (int64_t i = 0; i < n * isz; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        imgs[i] = (float)((s >> 40) % 2001) / 1000.0f - 1.0f;
    }
    return imgs;
}

/* ResNet-20 after quantization: the Relu behind the stem conv and behind
 * the first conv of each of the 9 blocks reads only that conv, so it is
 * fused (relu = 1 on the layer); the Relu behind each residual Add stays. */
Test(fuse_qrelu, resnet20_fuses_exactly_the_relus_after_a_layer) {
    xb_ctx ctx = {0};
    xb_graph *g = NULL, *q = NULL;
    cr_assert_eq(xb_onnx_load(XBAR_SOURCE_DIR "/models/resnet20_cifar10.onnx", 1, &g, &ctx), XB_OK,
                 "%s", ctx.msg);
    const int64_t isz = 3 * 32 * 32, n = 2;
    float *imgs = random_images(n, isz);
    cr_assert_eq(xb_quantize_default(g, imgs, (int)n, &q, &ctx), XB_OK, "%s", ctx.msg);
    int relu_before = 0, relu_after = 0, fused = 0;
    for (int i = 0; i < g->n_nodes; i++) relu_before += xb_node_is_onnx(&g->nodes[i], "Relu");
    for (int i = 0; i < q->n_nodes; i++) {
        const xb_node *nd = &q->nodes[i];
        if (xb_node_is_onnx(nd, "Relu")) {
            relu_after++;
            /* What is left reads an Add. */
            int producer = -1;
            for (int j = 0; j < q->n_nodes; j++)
                if (q->nodes[j].n_out > 0 && q->nodes[j].out[0] == nd->in[0]) producer = j;
            cr_assert(producer >= 0 && xb_node_is_onnx(&q->nodes[producer], "Add"),
                      "Relu '%s' not behind an Add", nd->name);
        }
        fused += xb_attr_int(nd, "relu", 0) == 1;
    }
    cr_assert_eq(relu_before, 19);
    cr_assert_eq(fused, 10);
    cr_assert_eq(relu_after, 9);
    cr_assert_eq(xb_qlayer_count(q), 22);
    xb_graph_free(q);
    xb_graph_free(g);
    free(imgs);
}

/* The int8 logits of whole models, prepared and run once on the kernels the
 * CPU's features select (AVX-512 VNNI here: packed, direct-convolution and
 * few-row kernels) and once on the portable ones, are the same bits. */
static void logits(const xb_graph *q, const float *imgs, int n, int64_t isz, float *out, int64_t k) {
    xb_ctx ctx = {0};
    xb_exec *e = xb_exec_new(q, &ctx);
    cr_assert_not_null(e, "%s", ctx.msg);
    for (int i = 0; i < n; i++) {
        memcpy(e->buf[q->inputs[0]], imgs + i * isz, (size_t)isz * sizeof(float));
        cr_assert_eq(xb_exec_run(e, &ctx), XB_OK, "%s", ctx.msg);
        memcpy(out + i * k, e->buf[q->outputs[0]], (size_t)k * sizeof(float));
    }
    xb_exec_free(e);
}

Test(fuse_qrelu, int8_models_identical_on_every_kernel_set) {
    const char *models[] = {"/models/resnet20_cifar10.onnx", "/models/vgg_small_cifar10.onnx",
                            "/models/lenet5_mnist.onnx"};
    for (size_t mi = 0; mi < sizeof models / sizeof *models; mi++) {
        char path[512];
        snprintf(path, sizeof path, "%s%s", XBAR_SOURCE_DIR, models[mi]);
        xb_ctx ctx = {0};
        xb_graph *g = NULL;
        cr_assert_eq(xb_onnx_load(path, 1, &g, &ctx), XB_OK, "%s", ctx.msg);
        const int n = 3;
        const int64_t isz = xb_shape_numel(&g->tensors[g->inputs[0]].shape);
        const int64_t k = xb_shape_numel(&g->tensors[g->outputs[0]].shape);
        float *imgs = random_images(n, isz);
        float *a = malloc((size_t)(n * k) * sizeof(float)), *b = malloc((size_t)(n * k) * sizeof(float));
        for (int portable = 0; portable < 2; portable++) {
            /* Prepared under the setting too: prepare picks the layer's
             * path (direct convolution or unfolding) from it. */
            xb_igemm_set_portable(portable);
            xb_graph *q = NULL;
            cr_assert_eq(xb_quantize_default(g, imgs, n, &q, &ctx), XB_OK, "%s", ctx.msg);
            logits(q, imgs, n, isz, portable ? b : a, k);
            xb_graph_free(q);
        }
        xb_igemm_set_portable(false);
        cr_assert_eq(memcmp(a, b, (size_t)(n * k) * sizeof(float)), 0, "%s", models[mi]);
        free(a), free(b), free(imgs);
        xb_graph_free(g);
    }
}
