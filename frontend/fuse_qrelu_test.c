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
 * fused (relu = 1 on the layer); each block's residual Add and the Relu
 * behind it go into the layer that feeds the Add (input 4), so no Relu or
 * Add is left, and the layers keep their count and order. */
Test(fuse_qrelu, resnet20_fuses_the_relus_and_residual_adds) {
    xb_ctx ctx = {0};
    xb_graph *g = NULL, *q = NULL, *u = NULL;
    cr_assert_eq(xb_onnx_load(XBAR_SOURCE_DIR "/models/resnet20_cifar10.onnx", 1, &g, &ctx), XB_OK,
                 "%s", ctx.msg);
    const int64_t isz = 3 * 32 * 32, n = 2;
    float *imgs = random_images(n, isz);
    cr_assert_eq(xb_quantize_default(g, imgs, (int)n, &q, &ctx), XB_OK, "%s", ctx.msg);
    xb_quant_opts o = xb_quant_opts_default();
    o.no_fuse = true;
    cr_assert_eq(xb_quantize(g, imgs, (int)n, &o, &u, &ctx), XB_OK, "%s", ctx.msg);
    int relu_before = 0, add_before = 0, relu_after = 0, add_after = 0, fused = 0, res = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        relu_before += xb_node_is_onnx(&g->nodes[i], "Relu");
        add_before += xb_node_is_onnx(&g->nodes[i], "Add");
    }
    for (int i = 0; i < q->n_nodes; i++) {
        const xb_node *nd = &q->nodes[i];
        relu_after += xb_node_is_onnx(nd, "Relu");
        add_after += xb_node_is_onnx(nd, "Add");
        fused += xb_attr_int(nd, "relu", 0) == 1;
        res += nd->n_in == 5 && nd->in[4] >= 0;
    }
    cr_assert_eq(relu_before, 19);
    cr_assert_eq(add_before, 9);
    cr_assert_eq(fused, 19);
    cr_assert_eq(res, 9);
    cr_assert_eq(relu_after, 0);
    cr_assert_eq(add_after, 0);
    cr_assert_eq(xb_qlayer_count(q), 22);
    cr_assert_eq(xb_qlayer_count(u), 22);
    for (int l = 0; l < 22; l++) { /* the same layers in the same order */
        const xb_node *a = NULL, *b = NULL;
        xb_qlayer_get(q, l, &a);
        xb_qlayer_get(u, l, &b);
        cr_assert_str_eq(a->name, b->name, "layer %d", l);
    }
    xb_graph_free(u);
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

/* Each model's int8 logits on random images, quantized and run two ways
 * (way 0 and 1 of `setup`), must be the same bits. */
typedef void (*way_fn)(int way, xb_quant_opts *o);

static void same_bits_two_ways(way_fn setup) {
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
        for (int way = 0; way < 2; way++) {
            xb_quant_opts o = xb_quant_opts_default();
            setup(way, &o);
            xb_graph *q = NULL;
            cr_assert_eq(xb_quantize(g, imgs, n, &o, &q, &ctx), XB_OK, "%s", ctx.msg);
            logits(q, imgs, n, isz, way ? b : a, k);
            xb_graph_free(q);
        }
        xb_igemm_set_portable(false);
        cr_assert_eq(memcmp(a, b, (size_t)(n * k) * sizeof(float)), 0, "%s", models[mi]);
        free(a), free(b), free(imgs);
        xb_graph_free(g);
    }
}

/* Prepared under the setting too: prepare picks the layer's path (direct
 * convolution or unfolding) from it. */
static void portable_way(int way, xb_quant_opts *o) {
    (void)o;
    xb_igemm_set_portable(way);
}

Test(fuse_qrelu, int8_models_identical_on_every_kernel_set) {
    same_bits_two_ways(portable_way);
}

/* The folded graph (Relu and residual Add in the layers' epilogues) and the
 * unfolded one. */
static void unfolded_way(int way, xb_quant_opts *o) {
    o->no_fuse = way;
}

Test(fuse_qrelu, folded_and_unfolded_graphs_same_bits) {
    same_bits_two_ways(unfolded_way);
}

/* Stronger than the logits (which the next layer's quantization would hide
 * a one-ulp slip from): every block output of ResNet-20 that the folded
 * layers write holds the same float bits as the unfolded graph's Relu
 * wrote, on a few images. */
Test(fuse_qrelu, folded_block_outputs_same_bits) {
    xb_ctx ctx = {0};
    xb_graph *g = NULL, *q[2] = {NULL, NULL};
    cr_assert_eq(xb_onnx_load(XBAR_SOURCE_DIR "/models/resnet20_cifar10.onnx", 1, &g, &ctx), XB_OK,
                 "%s", ctx.msg);
    const int n = 3;
    const int64_t isz = 3 * 32 * 32;
    float *imgs = random_images(n, isz);
    xb_exec *e[2];
    for (int way = 0; way < 2; way++) {
        xb_quant_opts o = xb_quant_opts_default();
        o.no_fuse = way;
        cr_assert_eq(xb_quantize(g, imgs, n, &o, &q[way], &ctx), XB_OK, "%s", ctx.msg);
        e[way] = xb_exec_new_keep(q[way], &ctx);
        cr_assert_not_null(e[way], "%s", ctx.msg);
    }
    int compared = 0;
    for (int i = 0; i < n; i++) {
        for (int way = 0; way < 2; way++) {
            memcpy(e[way]->buf[q[way]->inputs[0]], imgs + i * isz, (size_t)isz * sizeof(float));
            cr_assert_eq(xb_exec_run(e[way], &ctx), XB_OK, "%s", ctx.msg);
        }
        for (int k = 0; k < q[0]->n_nodes; k++) {
            const xb_node *nd = &q[0]->nodes[k];
            if (nd->n_in != 5) continue;
            const xb_tensor *t = &q[0]->tensors[nd->out[0]];
            int u = xb_graph_find_tensor(q[1], t->name);
            cr_assert(u >= 0, "%s", t->name);
            size_t bytes = (size_t)xb_shape_numel(&t->shape) * sizeof(float);
            cr_assert_eq(memcmp(e[0]->buf[nd->out[0]], e[1]->buf[u], bytes), 0, "%s", t->name);
            compared++;
        }
    }
    cr_assert_eq(compared, 9 * n);
    for (int way = 0; way < 2; way++) {
        xb_exec_free(e[way]);
        xb_graph_free(q[way]);
    }
    xb_graph_free(g);
    free(imgs);
}
