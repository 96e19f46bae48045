#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/onnx.h"
#include "frontend/quantize.h"
#include "kernels/qlayer.h"

/* ResNet-20 after quantization: the Relu behind the stem conv and behind
 * the first conv of each of the 9 blocks reads only that conv, so it is
 * fused (relu = 1 on the layer); the Relu behind each residual Add stays. */
Test(fuse_qrelu, resnet20_fuses_exactly_the_relus_after_a_layer) {
    xb_ctx ctx = {0};
    xb_graph *g = NULL, *q = NULL;
    cr_assert_eq(xb_onnx_load(XBAR_SOURCE_DIR "/models/resnet20_cifar10.onnx", 1, &g, &ctx), XB_OK,
                 "%s", ctx.msg);
    const int64_t isz = 3 * 32 * 32, n = 2;
    float *imgs = malloc((size_t)(n * isz) * sizeof(float));
    uint64_t s = 7;
    for (int64_t i = 0; i < n * isz; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        imgs[i] = (float)((s >> 40) % 2001) / 1000.0f - 1.0f;
    }
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
