#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/onnx.h"
#include "frontend/onnx_internal.h"
#include "frontend/quantize.h"
#include "kernels/qlayer.h"
#include "runtime/exec.h"

static float *random_images(int64_t n, int64_t isz) {
    float *imgs = malloc((size_t)(n * isz) * sizeof(float));
    uint64_t s = 11;
    for (int64_t i = 0; i < n * isz; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        imgs[i] = (float)((s >> 40) % 2001) / 1000.0f - 1.0f;
    }
    return imgs;
}

static bool chained(const xb_node *n) { return xb_attr_find(n, "y_scale") != NULL; }

/* The quantized graph with the y_* attributes removed and prepared again:
 * every layer writes floats and quantizes its input itself, the graph
 * before this pass. */
static xb_graph *unchained(const xb_graph *q) {
    xb_ctx ctx = {0};
    xb_graph *u = xb_graph_clone(q, &ctx);
    cr_assert_not_null(u, "%s", ctx.msg);
    for (int i = 0; i < u->n_nodes; i++) {
        xb_node *n = &u->nodes[i];
        int k = 0;
        for (int a = 0; a < n->n_attr; a++) {
            if (!strncmp(n->attr[a].name, "y_", 2))
                xb_attr_free(&n->attr[a]);
            else
                n->attr[k++] = n->attr[a];
        }
        n->n_attr = k;
    }
    const xb_tensor *in = &u->tensors[u->inputs[0]];
    cr_assert_eq(xb_graph_prepare(u, in->shape.d[0], &ctx), XB_OK, "%s", ctx.msg);
    return u;
}

static void logits(const xb_graph *q, const float *imgs, int n, int64_t isz, float *out,
                   int64_t k) {
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

/* Which layers pass codes on, and that doing so changes no bit of the
 * logits: LeNet-5 (conv -> MaxPool -> conv -> MaxPool -> Flatten -> three
 * Gemms: every layer but the last), VGG-small (every conv; the Gemm is
 * last) and ResNet-20 (only the first conv of each block: the others feed
 * a residual Add, and the last pools through GlobalAveragePool). */
Test(chain_qcodes, models_pass_codes_with_identical_logits) {
    const struct {
        const char *model;
        int want;
    } cases[] = {{"/models/lenet5_mnist.onnx", 4},
                 {"/models/vgg_small_cifar10.onnx", 6},
                 {"/models/resnet20_cifar10.onnx", 9}};
    for (size_t mi = 0; mi < sizeof cases / sizeof *cases; mi++) {
        char path[512];
        snprintf(path, sizeof path, "%s%s", XBAR_SOURCE_DIR, cases[mi].model);
        xb_ctx ctx = {0};
        xb_graph *g = NULL, *q = NULL;
        cr_assert_eq(xb_onnx_load(path, 1, &g, &ctx), XB_OK, "%s", ctx.msg);
        const int n = 6;
        const int64_t isz = xb_shape_numel(&g->tensors[g->inputs[0]].shape);
        const int64_t k = xb_shape_numel(&g->tensors[g->outputs[0]].shape);
        float *imgs = random_images(n, isz);
        cr_assert_eq(xb_quantize_default(g, imgs, 4, &q, &ctx), XB_OK, "%s", ctx.msg);
        int count = 0;
        for (int i = 0; i < q->n_nodes; i++) {
            const xb_node *nd = &q->nodes[i];
            if (!chained(nd)) continue;
            count++;
            cr_assert_eq(q->tensors[nd->out[0]].dtype, XB_U8, "%s", nd->name);
            /* The codes are the consumer's: same scale, zero point, bits. */
            int t = nd->out[0], c = -1;
            for (int guard = 0; guard < q->n_nodes && c < 0; guard++)
                for (int j = 0; j < q->n_nodes; j++) {
                    const xb_node *r = &q->nodes[j];
                    if (r->n_in < 1 || r->in[0] != t) continue;
                    if (!strcmp(r->domain, "xbar")) c = j;
                    else t = r->out[0];
                    break;
                }
            cr_assert(c >= 0, "%s: no consumer", nd->name);
            const xb_node *cn = &q->nodes[c];
            cr_assert_eq(xb_attr_float(nd, "y_scale", 0), xb_attr_float(cn, "x_scale", 1));
            cr_assert_eq(xb_attr_int(nd, "y_zero_point", -1), xb_attr_int(cn, "x_zero_point", 0));
            cr_assert_eq(xb_attr_int(nd, "y_bits", -1), xb_attr_int(cn, "x_bits", 8));
            cr_assert_eq(q->tensors[cn->in[0]].dtype, XB_U8);
        }
        cr_assert_eq(count, cases[mi].want, "%s: %d layers pass codes", cases[mi].model, count);
        xb_graph *u = unchained(q);
        float *a = malloc((size_t)(n * k) * sizeof(float));
        float *b = malloc((size_t)(n * k) * sizeof(float));
        logits(q, imgs, n, isz, a, k);
        logits(u, imgs, n, isz, b, k);
        cr_assert_eq(memcmp(a, b, (size_t)(n * k) * sizeof(float)), 0, "%s", cases[mi].model);
        free(a), free(b), free(imgs);
        xb_graph_free(u);
        xb_graph_free(q);
        xb_graph_free(g);
    }
}

/* A layer whose outputs could be NaN (a non-finite bias) keeps writing
 * floats: a float MaxPool skips a NaN, its code would be 0. */
Test(chain_qcodes, non_finite_bias_is_not_chained) {
    xb_ctx ctx = {0};
    xb_graph *g = NULL, *q = NULL;
    cr_assert_eq(xb_onnx_load(XBAR_SOURCE_DIR "/models/lenet5_mnist.onnx", 1, &g, &ctx), XB_OK,
                 "%s", ctx.msg);
    float *imgs = random_images(2, 28 * 28);
    cr_assert_eq(xb_quantize_default(g, imgs, 2, &q, &ctx), XB_OK, "%s", ctx.msg);
    xb_graph *u = unchained(q);
    xb_node *first = &u->nodes[0];
    cr_assert_str_eq(first->op_type, "XbarQConv");
    float *bias = u->tensors[first->in[3]].data;
    bias[1] = INFINITY;
    int count = -1;
    cr_assert_eq(xb_pass_chain_qcodes(u, &count, &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_eq(count, 3);
    cr_assert(!chained(first));
    xb_graph_free(u);
    xb_graph_free(q);
    xb_graph_free(g);
    free(imgs);
}

/* A u8 input that is not some layer's codes is refused at prepare: the
 * backend indexes tables by codes below 2^x_bits. */
Test(chain_qcodes, u8_input_must_be_codes) {
    xb_ctx ctx = {0};
    xb_graph *g = NULL, *q = NULL;
    cr_assert_eq(xb_onnx_load(XBAR_SOURCE_DIR "/models/lenet5_mnist.onnx", 1, &g, &ctx), XB_OK,
                 "%s", ctx.msg);
    float *imgs = random_images(2, 28 * 28);
    cr_assert_eq(xb_quantize_default(g, imgs, 2, &q, &ctx), XB_OK, "%s", ctx.msg);
    xb_graph *u = xb_graph_clone(q, &ctx);
    cr_assert_not_null(u);
    /* conv1 writes 8-bit codes; claim conv2 reads 4-bit ones. */
    for (int i = 0; i < u->n_nodes; i++) {
        xb_node *n = &u->nodes[i];
        if (strcmp(n->op_type, "XbarQConv") || n->in[0] == u->inputs[0]) continue;
        for (int a = 0; a < n->n_attr; a++)
            if (!strcmp(n->attr[a].name, "x_bits")) n->attr[a].i = 4;
        for (int a = 0; a < n->n_attr; a++)
            if (!strcmp(n->attr[a].name, "x_zero_point")) n->attr[a].i = 0;
        break;
    }
    xb_ctx c2 = {0};
    cr_assert_neq(xb_graph_prepare(u, 1, &c2), XB_OK);
    cr_assert(strstr(c2.msg, "codes of a quantized layer"), "%s", c2.msg);
    xb_graph_free(u);
    xb_graph_free(q);
    xb_graph_free(g);
    free(imgs);
}
