/* Frontend pass tests.
 *
 * Two layers: passes run directly on hand-built IR (no kernels needed, exact
 * hand-computed expectations), and whole-model loads that run the result
 * against the same model loaded without passes.  The latter need kernels
 * other helpers deliver (Conv, Gemm, QuantizeLinear, QConv, ...); until those
 * are in the build they skip, naming the missing op. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "frontend/onnx.h"
#include "frontend/onnx_internal.h"
#include "tests/onnx_builder.h"
#include "tests/test_util.h"

/* ---- helpers -------------------------------------------------------------- */

static int tensor_of(xb_test_graph *tg, const char *name, xb_dtype dt, int rank, const int64_t *d) {
    int t = xb_test_tensor(tg, name);
    xb_tensor *x = &tg->g->tensors[t];
    x->dtype = dt;
    x->shape.rank = rank;
    for (int i = 0; i < rank; i++) x->shape.d[i] = d[i];
    x->shape_known = true;
    return t;
}

static int count_op(const xb_graph *g, const char *op) {
    int c = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].op_type, op) == 0) c++;
    return c;
}

static const xb_node *find_op(const xb_graph *g, const char *op) {
    for (int i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].op_type, op) == 0) return &g->nodes[i];
    return NULL;
}

/* Skip (naming the op) when a kernel this test needs is not built in. */
#define NEED_OPS(...)                                                                              \
    do {                                                                                           \
        const char *need_[] = {__VA_ARGS__, NULL};                                                 \
        for (int k_ = 0; need_[k_]; k_++) {                                                        \
            const char *dom_ = strncmp(need_[k_], "Xbar", 4) == 0 ? "xbar" : "";                    \
            if (xb_op_lookup(need_[k_], dom_, dom_[0] ? 1 : 13, NULL) < 0)                         \
                cr_skip_test("kernel %s not in this build yet", need_[k_]);                        \
        }                                                                                          \
    } while (0)

/* ---- BatchNormalization folding on IR ------------------------------------ */

/* conv(x, W[2,2,1,1], B) -> y -> BN -> z, with eps 0 so s = gamma/sqrt(var)
 * = [3/2, 1/0.5] = [1.5, 2] exactly. */
static void bn_graph(xb_test_graph *tg, bool with_bias) {
    xb_test_begin(tg);
    int64_t xd[] = {1, 2, 3, 3}, wd[] = {2, 2, 1, 1}, cd[] = {2};
    int x = xb_test_input(tg, "x", XB_F32, 4, xd);
    float W[4] = {1, 2, 3, 4}, B[2] = {10, 20};
    float gamma[2] = {3, 1}, beta[2] = {0.5f, 0}, mean[2] = {1, -1}, var[2] = {4, 0.25f};
    int w = xb_test_const(tg, "W", XB_F32, 4, wd, W);
    int b = with_bias ? xb_test_const(tg, "B", XB_F32, 1, cd, B) : -1;
    int ga = xb_test_const(tg, "gamma", XB_F32, 1, cd, gamma);
    int be = xb_test_const(tg, "beta", XB_F32, 1, cd, beta);
    int mu = xb_test_const(tg, "mean", XB_F32, 1, cd, mean);
    int va = xb_test_const(tg, "var", XB_F32, 1, cd, var);
    int y = xb_test_tensor(tg, "y"), z = xb_test_tensor(tg, "z");
    int cin[3] = {x, w, b};
    xb_test_node(tg, "Conv", 13, cin, with_bias ? 3 : 2, &y, 1);
    int bin[5] = {y, ga, be, mu, va};
    int bn = xb_test_node(tg, "BatchNormalization", 13, bin, 5, &z, 1);
    xb_test_attr_float(tg, bn, "epsilon", 0.0f);
    xb_test_output(tg, z);
}

Test(passes, bn_folds_into_conv_with_bias) {
    xb_test_graph tg;
    bn_graph(&tg, true);
    int n;
    cr_assert_eq(xb_pass_fold_bn(tg.g, &n, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(n, 1);
    cr_assert_eq(tg.g->n_nodes, 1);
    const xb_node *c = &tg.g->nodes[0];
    cr_assert_str_eq(c->op_type, "Conv");
    cr_assert_eq(c->out[0], tg.g->outputs[0], "conv now writes the BN output");
    cr_assert_eq(tg.g->tensors[c->out[0]].producer, 0);
    const float *w = tg.g->tensors[c->in[1]].data, *b = tg.g->tensors[c->in[2]].data;
    /* W' = W * s[c]: row 0 * 1.5, row 1 * 2 */
    float ww[4] = {1.5f, 3.0f, 6.0f, 8.0f};
    for (int i = 0; i < 4; i++) cr_assert_float_eq(w[i], ww[i], 0.0f);
    /* B' = (B - mean) * s + beta = (10-1)*1.5+0.5, (20+1)*2+0 */
    cr_assert_float_eq(b[0], 14.0f, 0.0f);
    cr_assert_float_eq(b[1], 42.0f, 0.0f);
    /* The original weights are untouched (they may be shared). */
    cr_assert_float_eq(((float *)tg.g->tensors[xb_graph_find_tensor(tg.g, "W")].data)[3], 4.0f, 0.0f);
    xb_test_end(&tg);
}

Test(passes, bn_folds_into_conv_without_bias) {
    xb_test_graph tg;
    bn_graph(&tg, false);
    int n;
    cr_assert_eq(xb_pass_fold_bn(tg.g, &n, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(n, 1);
    const xb_node *c = &tg.g->nodes[0];
    cr_assert_eq(c->n_in, 3);
    const float *b = tg.g->tensors[c->in[2]].data;
    cr_assert_float_eq(b[0], -1.0f, 0.0f); /* (0-1)*1.5+0.5 */
    cr_assert_float_eq(b[1], 2.0f, 0.0f);  /* (0+1)*2 */
    xb_test_end(&tg);
}

Test(passes, bn_not_folded_when_conv_output_has_other_readers) {
    xb_test_graph tg;
    bn_graph(&tg, true);
    xb_test_output(&tg, xb_graph_find_tensor(tg.g, "y"));
    int n;
    cr_assert_eq(xb_pass_fold_bn(tg.g, &n, &tg.ctx), XB_OK);
    cr_assert_eq(n, 0);
    cr_assert_eq(tg.g->n_nodes, 2, "standalone BN stays an op");
    xb_test_end(&tg);
}

Test(passes, bn_not_folded_with_non_constant_weight) {
    xb_test_graph tg;
    bn_graph(&tg, true);
    int64_t wd[] = {2, 2, 1, 1};
    int w2 = xb_test_input(&tg, "W2", XB_F32, 4, wd);
    tg.g->nodes[0].in[1] = w2;
    int n;
    cr_assert_eq(xb_pass_fold_bn(tg.g, &n, &tg.ctx), XB_OK);
    cr_assert_eq(n, 0);
    xb_test_end(&tg);
}

/* ---- Identity removal on IR ---------------------------------------------- */

Test(passes, identity_from_input_to_output_is_kept_and_from_constant_becomes_constant) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t d[] = {2};
    float v[2] = {5, 6};
    int x = xb_test_input(&tg, "x", XB_F32, 1, d);
    int c = xb_test_const(&tg, "c", XB_F32, 1, d, v);
    int y1 = xb_test_tensor(&tg, "y1"), y2 = xb_test_tensor(&tg, "y2");
    xb_test_node(&tg, "Identity", 13, &x, 1, &y1, 1);
    xb_test_node(&tg, "Identity", 13, &c, 1, &y2, 1);
    xb_test_output(&tg, y1);
    xb_test_output(&tg, y2);
    int n;
    cr_assert_eq(xb_pass_remove_identity(tg.g, &n, &tg.ctx), XB_OK);
    cr_assert_eq(n, 1);
    cr_assert_eq(tg.g->n_nodes, 1);
    cr_assert_eq(tg.g->nodes[0].in[0], x);
    cr_assert(tg.g->tensors[y2].is_const);
    cr_assert_float_eq(((float *)tg.g->tensors[y2].data)[1], 6.0f, 0.0f);
    cr_assert_eq(tg.g->outputs[1], y2);
    xb_test_end(&tg);
}

/* ---- QDQ lowering on IR -------------------------------------------------- */

typedef struct {
    xb_test_graph tg;
    int x;      /* float input */
    int node;   /* the matrix node */
    float xs;
} qdq_ir;

/* x -> Q(xs, zp) -> Cast(same) -> DQ(xs2, zp2) -> a; returns a. */
static int act_qdq(xb_test_graph *tg, int x, const int64_t *shape, int rank, float xs, int zpv,
                   xb_dtype zdt, float xs2, int zpv2) {
    int64_t one[] = {1};
    int s1 = xb_test_const(tg, "s1", XB_F32, 0, one, &xs);
    int s2 = xb_test_const(tg, "s2", XB_F32, 0, one, &xs2);
    uint8_t z1u = (uint8_t)zpv, z2u = (uint8_t)zpv2;
    int8_t z1i = (int8_t)zpv, z2i = (int8_t)zpv2;
    int z1 = xb_test_const(tg, "z1", zdt, 0, one, zdt == XB_U8 ? (void *)&z1u : (void *)&z1i);
    int z2 = xb_test_const(tg, "z2", zdt, 0, one, zdt == XB_U8 ? (void *)&z2u : (void *)&z2i);
    int q = tensor_of(tg, "xq", zdt, rank, shape);
    int qc = tensor_of(tg, "xqc", zdt, rank, shape);
    int a = tensor_of(tg, "xd", XB_F32, rank, shape);
    int qin[3] = {x, s1, z1};
    xb_test_node(tg, "QuantizeLinear", 13, qin, 3, &q, 1);
    int cn = xb_test_node(tg, "Cast", 13, &q, 1, &qc, 1);
    xb_test_attr_int(tg, cn, "to", zdt == XB_U8 ? 2 : 3);
    int dqin[3] = {qc, s2, z2};
    xb_test_node(tg, "DequantizeLinear", 13, dqin, 3, &a, 1);
    return a;
}

/* W = DQ(const int8 codes, scale[ns], zero) -> returns the DQ output. */
static int weight_dq(xb_test_graph *tg, const char *name, int rank, const int64_t *wd,
                     const int8_t *codes, int ns, const float *scale, int axis) {
    int64_t sd[] = {ns};
    int8_t zeros[16] = {0};
    char nm[64];
    snprintf(nm, sizeof nm, "%s_q", name);
    int q = xb_test_const(tg, nm, XB_I8, rank, wd, codes);
    snprintf(nm, sizeof nm, "%s_s", name);
    int s = xb_test_const(tg, nm, XB_F32, ns > 1 ? 1 : 0, sd, scale);
    snprintf(nm, sizeof nm, "%s_z", name);
    int z = xb_test_const(tg, nm, XB_I8, ns > 1 ? 1 : 0, sd, zeros);
    int out = tensor_of(tg, name, XB_F32, rank, wd);
    int in[3] = {q, s, z};
    int n = xb_test_node(tg, "DequantizeLinear", 13, in, 3, &out, 1);
    if (axis != 1) xb_test_attr_int(tg, n, "axis", axis);
    return out;
}

static void lower_and_clean(xb_test_graph *tg, int *lowered) {
    xb_dq_table tab = {0};
    cr_assert_eq(xb_pass_record_const_dq(tg->g, &tab, &tg->ctx), XB_OK);
    cr_assert_eq(xb_pass_lower_qdq(tg->g, &tab, lowered, &tg->ctx), XB_OK, "%s", tg->ctx.msg);
    xb_dq_table_free(&tab);
    int dead;
    cr_assert_eq(xb_pass_remove_dead(tg->g, &dead, &tg->ctx), XB_OK);
}

Test(passes, qdq_conv_lowered_to_qconv_per_tensor) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t xd[] = {1, 1, 3, 3}, wd[] = {2, 1, 1, 1}, bd[] = {2}, yd[] = {1, 2, 3, 3};
    int x = xb_test_input(&tg, "x", XB_F32, 4, xd);
    int a = act_qdq(&tg, x, xd, 4, 0.25f, 10, XB_U8, 0.25f, 10);
    int8_t codes[2] = {3, -5};
    float ws = 0.5f;
    int w = weight_dq(&tg, "w", 4, wd, codes, 1, &ws, 1);
    float bias[2] = {1, 2};
    int b = xb_test_const(&tg, "bias", XB_F32, 1, bd, bias);
    int y = tensor_of(&tg, "y", XB_F32, 4, yd);
    int cin[3] = {a, w, b};
    int cn = xb_test_node(&tg, "Conv", 13, cin, 3, &y, 1);
    int64_t ks[] = {1, 1};
    xb_test_attr_ints(&tg, cn, "kernel_shape", 2, ks);
    xb_test_output(&tg, y);
    int lowered;
    lower_and_clean(&tg, &lowered);
    cr_assert_eq(lowered, 1);
    cr_assert_eq(tg.g->n_nodes, 1, "Q, Cast, DQ and the weight DQ are dead");
    const xb_node *n = &tg.g->nodes[0];
    cr_assert_str_eq(n->op_type, "XbarQConv");
    cr_assert_str_eq(n->domain, "xbar");
    cr_assert_str_eq(n->name, "Conv_4", "keeps the layer name");
    cr_assert_eq(n->n_in, 4);
    cr_assert_eq(n->in[0], x, "reads the float input of QuantizeLinear");
    const xb_tensor *wq = &tg.g->tensors[n->in[1]];
    cr_assert_eq(wq->dtype, XB_I8);
    cr_assert_eq(((int8_t *)wq->data)[1], -5);
    const xb_tensor *wst = &tg.g->tensors[n->in[2]];
    cr_assert_eq(wst->shape.rank, 1);
    cr_assert_eq(wst->shape.d[0], 2, "per-tensor scale broadcast per output channel");
    cr_assert_float_eq(((float *)wst->data)[1], 0.5f, 0.0f);
    cr_assert_eq(n->in[3], b);
    cr_assert_float_eq(xb_attr_float(n, "x_scale", 0), 0.25f, 0.0f);
    cr_assert_eq(xb_attr_int(n, "x_zero_point", -1), 10);
    cr_assert_eq(xb_attr_int(n, "x_bits", 0), 8);
    cr_assert_eq(xb_attr_int(n, "w_bits", 0), 8);
    const int64_t *k;
    cr_assert_eq(xb_attr_ints(n, "kernel_shape", &k), 2, "conv attributes kept");
    xb_test_end(&tg);
}

Test(passes, qdq_weight_code_minus_128_clamped_and_counted) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t xd[] = {1, 1, 3, 3}, wd[] = {2, 1, 1, 1}, yd[] = {1, 2, 3, 3};
    int x = xb_test_input(&tg, "x", XB_F32, 4, xd);
    int a = act_qdq(&tg, x, xd, 4, 0.25f, 0, XB_U8, 0.25f, 0);
    int8_t codes[2] = {-128, 127};
    float ws = 0.5f;
    int w = weight_dq(&tg, "w", 4, wd, codes, 1, &ws, 1);
    int y = tensor_of(&tg, "y", XB_F32, 4, yd);
    int cin[2] = {a, w};
    xb_test_node(&tg, "Conv", 13, cin, 2, &y, 1);
    xb_test_output(&tg, y);
    int lowered;
    lower_and_clean(&tg, &lowered);
    cr_assert_eq(lowered, 1);
    const int8_t *wq = tg.g->tensors[tg.g->nodes[0].in[1]].data;
    cr_assert_eq(wq[0], -127);
    cr_assert_eq(wq[1], 127);
    cr_assert_str_eq(xb_graph_meta(tg.g, "xbar.qdq_clamped_weights"), "1");
    xb_test_end(&tg);
}

Test(passes, qdq_not_lowered_when_activation_pair_disagrees) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t xd[] = {1, 1, 3, 3}, wd[] = {2, 1, 1, 1}, yd[] = {1, 2, 3, 3};
    int x = xb_test_input(&tg, "x", XB_F32, 4, xd);
    int a = act_qdq(&tg, x, xd, 4, 0.25f, 10, XB_U8, 0.5f, 10);
    int8_t codes[2] = {3, -5};
    float ws = 0.5f;
    int w = weight_dq(&tg, "w", 4, wd, codes, 1, &ws, 1);
    int y = tensor_of(&tg, "y", XB_F32, 4, yd);
    int cin[2] = {a, w};
    xb_test_node(&tg, "Conv", 13, cin, 2, &y, 1);
    xb_test_output(&tg, y);
    int lowered;
    lower_and_clean(&tg, &lowered);
    cr_assert_eq(lowered, 0);
    cr_assert_eq(count_op(tg.g, "Conv"), 1);
    cr_assert_eq(count_op(tg.g, "QuantizeLinear"), 1, "plain Q/DQ ops remain");
    cr_assert_eq(count_op(tg.g, "DequantizeLinear"), 2);
    xb_test_end(&tg);
}

Test(passes, qdq_gemm_folds_alpha_beta_transposes_and_per_axis_scale) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    /* A [1,3] x W [K=3,N=2] (transB 0), per-axis scale along axis 1 (N). */
    int64_t xd[] = {1, 3}, wd[] = {3, 2}, cd[] = {2}, yd[] = {1, 2};
    int x = xb_test_input(&tg, "x", XB_F32, 2, xd);
    int a = act_qdq(&tg, x, xd, 2, 0.5f, -3, XB_I8, 0.5f, -3);
    int8_t codes[6] = {1, 2, 3, 4, 5, 6}; /* [[1,2],[3,4],[5,6]] */
    float ws[2] = {0.25f, 0.125f};
    int w = weight_dq(&tg, "w", 2, wd, codes, 2, ws, 1);
    float cv[2] = {1, -1};
    int c = xb_test_const(&tg, "C", XB_F32, 1, cd, cv);
    int y = tensor_of(&tg, "y", XB_F32, 2, yd);
    int in[3] = {a, w, c};
    int gn = xb_test_node(&tg, "Gemm", 13, in, 3, &y, 1);
    xb_test_attr_float(&tg, gn, "alpha", 2.0f);
    xb_test_attr_float(&tg, gn, "beta", 3.0f);
    xb_test_output(&tg, y);
    int lowered;
    lower_and_clean(&tg, &lowered);
    cr_assert_eq(lowered, 1);
    cr_assert_eq(tg.g->n_nodes, 1);
    const xb_node *n = &tg.g->nodes[0];
    cr_assert_str_eq(n->op_type, "XbarQGemm");
    cr_assert_null(xb_attr_find(n, "alpha"), "Gemm attributes are folded away");
    cr_assert_null(xb_attr_find(n, "transB"));
    const xb_tensor *wq = &tg.g->tensors[n->in[1]];
    cr_assert_eq(wq->shape.d[0], 2);
    cr_assert_eq(wq->shape.d[1], 3);
    int8_t want[6] = {1, 3, 5, 2, 4, 6}; /* [N,K] */
    for (int i = 0; i < 6; i++) cr_assert_eq(((int8_t *)wq->data)[i], want[i]);
    const float *s = tg.g->tensors[n->in[2]].data;
    cr_assert_float_eq(s[0], 0.5f, 0.0f);  /* 0.25 * alpha */
    cr_assert_float_eq(s[1], 0.25f, 0.0f); /* 0.125 * alpha */
    const float *b = tg.g->tensors[n->in[3]].data;
    cr_assert_float_eq(b[0], 3.0f, 0.0f);
    cr_assert_float_eq(b[1], -3.0f, 0.0f);
    cr_assert_eq(xb_attr_int(n, "x_zero_point", 0), 125, "int8 zp -3 shifted to unsigned code");
    xb_test_end(&tg);
}

Test(passes, qdq_gemm_transA_and_wrong_axis_not_lowered) {
    for (int variant = 0; variant < 2; variant++) {
        xb_test_graph tg;
        xb_test_begin(&tg);
        int64_t xd[] = {3, 3}, wd[] = {3, 2}, yd[] = {3, 2};
        int x = xb_test_input(&tg, "x", XB_F32, 2, xd);
        int a = act_qdq(&tg, x, xd, 2, 0.5f, 0, XB_U8, 0.5f, 0);
        int8_t codes[6] = {1, 2, 3, 4, 5, 6};
        float ws[3] = {0.25f, 0.125f, 1};
        /* variant 0: transA=1; variant 1: per-axis scale along K (axis 0) */
        int w = variant == 0 ? weight_dq(&tg, "w", 2, wd, codes, 1, ws, 1)
                             : weight_dq(&tg, "w", 2, wd, codes, 3, ws, 0);
        int y = tensor_of(&tg, "y", XB_F32, 2, yd);
        int in[2] = {a, w};
        int gn = xb_test_node(&tg, "Gemm", 13, in, 2, &y, 1);
        if (variant == 0) xb_test_attr_int(&tg, gn, "transA", 1);
        xb_test_output(&tg, y);
        int lowered;
        lower_and_clean(&tg, &lowered);
        cr_assert_eq(lowered, 0, "variant %d", variant);
        cr_assert_eq(count_op(tg.g, "Gemm"), 1);
        xb_test_end(&tg);
    }
}

Test(passes, qdq_matmul_lowered_to_qgemm) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t xd[] = {2, 2}, wd[] = {2, 3}, yd[] = {2, 3};
    int x = xb_test_input(&tg, "x", XB_F32, 2, xd);
    int a = act_qdq(&tg, x, xd, 2, 0.125f, 7, XB_U8, 0.125f, 7);
    int8_t codes[6] = {-1, 0, 1, 2, -2, 3};
    float ws = 0.5f;
    int w = weight_dq(&tg, "w", 2, wd, codes, 1, &ws, 1);
    int y = tensor_of(&tg, "y", XB_F32, 2, yd);
    int in[2] = {a, w};
    xb_test_node(&tg, "MatMul", 13, in, 2, &y, 1);
    xb_test_output(&tg, y);
    int lowered;
    lower_and_clean(&tg, &lowered);
    cr_assert_eq(lowered, 1);
    const xb_node *n = &tg.g->nodes[0];
    cr_assert_str_eq(n->op_type, "XbarQGemm");
    cr_assert_eq(n->n_in, 3, "no bias");
    int8_t want[6] = {-1, 2, 0, -2, 1, 3};
    for (int i = 0; i < 6; i++) cr_assert_eq(((int8_t *)tg.g->tensors[n->in[1]].data)[i], want[i]);
    cr_assert_eq(xb_attr_int(n, "x_zero_point", 0), 7);
    xb_test_end(&tg);
}

Test(passes, dead_code_removal_frees_unread_constants) {
    xb_test_graph tg;
    int64_t d[] = {2};
    xb_test_unary_begin(&tg, "Relu", 13, XB_F32, 1, d);
    float v[2] = {1, 2};
    int c = xb_test_const(&tg, "unused", XB_F32, 1, d, v);
    int x = tg.g->inputs[0];
    int z = xb_test_tensor(&tg, "z");
    xb_test_node(&tg, "Relu", 13, &x, 1, &z, 1); /* nobody reads z */
    int n;
    cr_assert_eq(xb_pass_remove_dead(tg.g, &n, &tg.ctx), XB_OK);
    cr_assert_eq(n, 1);
    cr_assert_eq(tg.g->n_nodes, 1);
    cr_assert_null(tg.g->tensors[c].data);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    xb_test_end(&tg);
}

/* ---- whole models through the loader (need other helpers' kernels) -------- */

static const char *const X[] = {"x", NULL};

static xb_graph *load_model(ob_model *m, int64_t batch, int no_passes) {
    size_t len;
    const uint8_t *buf = ob_pack(m, &len);
    xb_onnx_options o = {.no_passes = no_passes};
    xb_ctx ctx = {0};
    xb_graph *g = NULL;
    xb_status st = xb_onnx_load_buffer_opts(buf, len, "m.onnx", batch, &o, &g, &ctx);
    cr_assert_eq(st, XB_OK, "%s", ctx.msg);
    return g;
}

static float *run_graph(xb_graph *g, const float *x, size_t *n_out) {
    xb_test_graph tg = {.g = g};
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    const xb_tensor *t = &g->tensors[g->outputs[0]];
    size_t n = (size_t)xb_shape_numel(&t->shape);
    float *copy = malloc(n * sizeof(float));
    memcpy(copy, y, n * sizeof(float));
    xb_exec_free(tg.e);
    *n_out = n;
    return copy;
}

Test(passes_model, conv_bn_folded_and_computes_the_same) {
    NEED_OPS("Conv", "BatchNormalization");
    ob_model m;
    ob_begin(&m, 13);
    int64_t xd[] = {-1, 2, 2, 2}, wd[] = {2, 2, 1, 1}, cd[] = {2};
    ob_input(&m, "x", OB_FLOAT, 4, xd);
    float W[4] = {1, 2, 3, 4}, B[2] = {10, 20};
    float gamma[2] = {3, 1}, beta[2] = {0.5f, 0}, mean[2] = {1, -1}, var[2] = {4, 0.25f};
    ob_init_f32(&m, "W", 4, wd, W);
    ob_init_f32(&m, "B", 1, cd, B);
    ob_init_f32(&m, "gamma", 1, cd, gamma);
    ob_init_f32(&m, "beta", 1, cd, beta);
    ob_init_f32(&m, "mean", 1, cd, mean);
    ob_init_f32(&m, "var", 1, cd, var);
    const char *cin[] = {"x", "W", "B", NULL}, *cy[] = {"c", NULL};
    Onnx__NodeProto *cv = ob_node(&m, "Conv", "conv", cin, cy);
    int64_t ks[] = {1, 1};
    ob_attr_ints(&m, cv, "kernel_shape", 2, ks);
    const char *bin[] = {"c", "gamma", "beta", "mean", "var", NULL}, *by[] = {"y", NULL};
    ob_attr_float(&m, ob_node(&m, "BatchNormalization", "bn", bin, by), "epsilon", 0.0f);
    ob_output(&m, "y");
    xb_graph *g = load_model(&m, 1, 0);
    ob_end(&m);
    cr_assert_eq(g->n_nodes, 1);
    cr_assert_str_eq(g->nodes[0].op_type, "Conv");
    cr_assert_str_eq(g->tensors[g->outputs[0]].name, "y");
    /* x channel 0 = [1,2,3,4], channel 1 = [0,1,0,-1] (per pixel) */
    float x[8] = {1, 2, 3, 4, 0, 1, 0, -1};
    size_t n;
    float *y = run_graph(g, x, &n);
    cr_assert_eq(n, 8);
    for (int p = 0; p < 4; p++) {
        /* conv: c0 = 1*x0 + 2*x1 + 10, c1 = 3*x0 + 4*x1 + 20; BN: (c-mean)*s+beta */
        double c0 = 1 * x[p] + 2 * x[4 + p] + 10, c1 = 3 * x[p] + 4 * x[4 + p] + 20;
        cr_assert_float_eq(y[p], (c0 - 1) * 1.5 + 0.5, 1e-5);
        cr_assert_float_eq(y[4 + p], (c1 + 1) * 2.0, 1e-5);
    }
    free(y);
    xb_graph_free(g);
}

/* The PyTorch 1.13 eager-mode QDQ export shape: Q -> Cast -> DQ around every
 * layer, Constant scales and zero points, int8 weights and int32 bias through
 * DequantizeLinear.  Scales are powers of two, so the lowered integer path
 * and the unlowered float path of Q/DQ ops are exactly equal. */
static void qdq_model(ob_model *m, int8_t act_zp_signed) {
    ob_begin(m, 13);
    int64_t xd[] = {-1, 1, 4, 4};
    ob_input(m, "x", OB_FLOAT, 4, xd);
    int zdt = act_zp_signed ? OB_INT8 : OB_UINT8;
    int32_t zx = act_zp_signed ? -5 : 128, zr = act_zp_signed ? -128 : 0, zero = 0;
    float sx = 1.0f / 16, sw = 1.0f / 32, sb = sx * sw, sr = 1.0f / 8;
    int64_t one[] = {1};
    (void)one;
#define CONST_F(name, v) ob_constant(m, name, ob_tensor_f32(m, "", 0, NULL, &(v), 1))
#define CONST_I(name, dt, v) ob_constant(m, name, ob_tensor_i32(m, "", dt, 0, NULL, &(v), 1))
    CONST_F("sx", sx);
    CONST_I("zx", zdt, zx);
    CONST_F("sx2", sx);
    CONST_I("zx2", zdt, zx);
    const char *q1in[] = {"x", "sx", "zx", NULL}, *q1[] = {"xq", NULL};
    ob_node(m, "QuantizeLinear", "quant", q1in, q1);
    const char *c1[] = {"xqc", NULL};
    ob_attr_int(m, ob_node(m, "Cast", "cast1", q1, c1), "to", zdt);
    const char *d1in[] = {"xqc", "sx2", "zx2", NULL}, *d1[] = {"xd", NULL};
    ob_node(m, "DequantizeLinear", "dq1", d1in, d1);
    /* conv weights [2,1,3,3] int8, per-tensor */
    int64_t wd[] = {2, 1, 3, 3};
    int32_t wv[18];
    for (int i = 0; i < 18; i++) wv[i] = (i * 37 % 29) - 14;
    ob_constant(m, "wq", ob_tensor_i32(m, "", OB_INT8, 4, wd, wv, 18));
    CONST_F("ws", sw);
    CONST_I("wz", OB_INT8, zero);
    const char *dwin[] = {"wq", "ws", "wz", NULL}, *dw[] = {"wd", NULL};
    ob_node(m, "DequantizeLinear", "dqw", dwin, dw);
    int64_t bd[] = {2};
    int32_t bv[2] = {300, -200};
    ob_constant(m, "bq", ob_tensor_i32(m, "", OB_INT32, 1, bd, bv, 2));
    CONST_F("bs", sb);
    CONST_I("bz", OB_INT32, zero);
    const char *dbin[] = {"bq", "bs", "bz", NULL}, *dbo[] = {"bd", NULL};
    ob_node(m, "DequantizeLinear", "dqb", dbin, dbo);
    const char *cin[] = {"xd", "wd", "bd", NULL}, *co[] = {"conv_out", NULL};
    Onnx__NodeProto *cv = ob_node(m, "Conv", "conv1", cin, co);
    int64_t ks[] = {3, 3}, pads[] = {1, 1, 1, 1};
    ob_attr_ints(m, cv, "kernel_shape", 2, ks);
    ob_attr_ints(m, cv, "pads", 4, pads);
    const char *ro[] = {"relu_out", NULL};
    ob_node(m, "Relu", "relu1", co, ro);
    CONST_F("sr", sr);
    CONST_I("zr", zdt, zr);
    const char *q2in[] = {"relu_out", "sr", "zr", NULL}, *q2[] = {"rq", NULL};
    ob_node(m, "QuantizeLinear", "q2", q2in, q2);
    const char *c2[] = {"rqc", NULL};
    ob_attr_int(m, ob_node(m, "Cast", "cast2", q2, c2), "to", zdt);
    const char *d2in[] = {"rqc", "sr", "zr", NULL}, *d2[] = {"rd", NULL};
    ob_node(m, "DequantizeLinear", "dq2", d2in, d2);
    const char *fo[] = {"flat", NULL};
    ob_attr_int(m, ob_node(m, "Flatten", "flatten", d2, fo), "axis", 1);
    const char *q3in[] = {"flat", "sr", "zr", NULL}, *q3[] = {"fq", NULL};
    ob_node(m, "QuantizeLinear", "q3", q3in, q3);
    const char *c3[] = {"fqc", NULL};
    ob_attr_int(m, ob_node(m, "Cast", "cast3", q3, c3), "to", zdt);
    const char *d3in[] = {"fqc", "sr", "zr", NULL}, *d3[] = {"fd", NULL};
    ob_node(m, "DequantizeLinear", "dq3", d3in, d3);
    /* fc weights [3,32] int8 per-axis along 0, transB=1 */
    int64_t fwd[] = {3, 32}, three[] = {3};
    int32_t fw[96];
    for (int i = 0; i < 96; i++) fw[i] = (i * 53 % 41) - 20;
    ob_constant(m, "fwq", ob_tensor_i32(m, "", OB_INT8, 2, fwd, fw, 96));
    float fs[3] = {1.0f / 64, 1.0f / 128, 1.0f / 32};
    ob_constant(m, "fws", ob_tensor_f32(m, "", 1, three, fs, 3));
    int32_t fz[3] = {0, 0, 0};
    ob_constant(m, "fwz", ob_tensor_i32(m, "", OB_INT8, 1, three, fz, 3));
    const char *dfin[] = {"fwq", "fws", "fwz", NULL}, *dfo[] = {"fwd", NULL};
    Onnx__NodeProto *dqf = ob_node(m, "DequantizeLinear", "dqfw", dfin, dfo);
    ob_attr_int(m, dqf, "axis", 0);
    float fc_b[3] = {0.5f, -0.25f, 1.0f};
    ob_init_f32(m, "fc_b", 1, three, fc_b);
    const char *gin[] = {"fd", "fwd", "fc_b", NULL}, *go[] = {"logits", NULL};
    Onnx__NodeProto *gm = ob_node(m, "Gemm", "fc", gin, go);
    ob_attr_int(m, gm, "transB", 1);
    ob_attr_float(m, gm, "alpha", 0.5f);
    ob_attr_float(m, gm, "beta", 2.0f);
    ob_output(m, "logits");
#undef CONST_F
#undef CONST_I
}

static void check_qdq_model(int8_t signed_act) {
    NEED_OPS("QuantizeLinear", "DequantizeLinear", "Cast", "Conv", "Flatten", "Gemm", "XbarQConv",
             "XbarQGemm");
    ob_model m;
    qdq_model(&m, signed_act);
    xb_graph *low = load_model(&m, 2, 0);
    xb_graph *ref = load_model(&m, 2, 1);
    ob_end(&m);
    cr_assert_eq(count_op(low, "XbarQConv"), 1);
    cr_assert_eq(count_op(low, "XbarQGemm"), 1);
    cr_assert_eq(count_op(low, "Conv"), 0);
    cr_assert_eq(count_op(low, "Gemm"), 0);
    /* The input Q/Cast/DQ and the one before the Gemm are dead; the pair
     * around nothing-but-Flatten still runs as ops. */
    cr_assert_eq(count_op(low, "QuantizeLinear"), 1);
    cr_assert_eq(count_op(low, "DequantizeLinear"), 1);
    const xb_node *qc = find_op(low, "XbarQConv");
    cr_assert_str_eq(qc->name, "conv1");
    cr_assert_eq(xb_attr_int(qc, "x_zero_point", -1), signed_act ? 123 : 128);
    cr_assert_float_eq(xb_attr_float(qc, "x_scale", 0), 1.0f / 16, 0.0f);
    const float *b = low->tensors[qc->in[3]].data;
    cr_assert_float_eq(b[0], 300.0f / 512, 0.0f, "int32 bias dequantized");
    const xb_node *qg = find_op(low, "XbarQGemm");
    const float *ws = low->tensors[qg->in[2]].data;
    cr_assert_float_eq(ws[1], 0.5f / 128, 0.0f, "alpha folded into the per-row scale");
    float x[32];
    for (int i = 0; i < 32; i++) x[i] = (float)((i * 13 % 23) - 9) / 7.0f;
    size_t n1, n2;
    float *y1 = run_graph(low, x, &n1), *y2 = run_graph(ref, x, &n2);
    cr_assert_eq(n1, 6);
    cr_assert_eq(n2, 6);
    for (size_t i = 0; i < n1; i++) cr_assert_float_eq(y1[i], y2[i], 1e-6, "logit %zu", i);
    free(y1);
    free(y2);
    xb_graph_free(low);
    xb_graph_free(ref);
}

Test(passes_model, pytorch_style_qdq_lowered_uint8_activations) { check_qdq_model(0); }
Test(passes_model, pytorch_style_qdq_lowered_int8_activations) { check_qdq_model(1); }

/* x.view(x.size(0), -1) as exported with a dynamic batch:
 * Shape -> Gather(0) -> Unsqueeze -> Concat([N], [-1]) -> Reshape. */
Test(passes_model, dynamic_batch_reshape_chain_folds) {
    NEED_OPS("Shape", "Gather", "Unsqueeze", "Concat", "Reshape");
    ob_model m;
    ob_begin(&m, 13);
    int64_t xd[] = {-1, 2, 3};
    ob_input(&m, "x", OB_FLOAT, 3, xd);
    const char *so[] = {"shape", NULL};
    ob_node(&m, "Shape", "shape", X, so);
    int64_t zero = 0, minus1 = -1, one[] = {1};
    ob_constant(&m, "idx0", ob_tensor_i64(&m, "", 0, NULL, &zero, 1));
    const char *gin[] = {"shape", "idx0", NULL}, *go[] = {"n", NULL};
    ob_attr_int(&m, ob_node(&m, "Gather", "gather", gin, go), "axis", 0);
    ob_constant(&m, "axes0", ob_tensor_i64(&m, "", 1, one, &zero, 1));
    const char *uin[] = {"n", "axes0", NULL}, *uo[] = {"n1", NULL};
    ob_node(&m, "Unsqueeze", "unsq", uin, uo);
    ob_constant(&m, "m1", ob_tensor_i64(&m, "", 1, one, &minus1, 1));
    const char *cin[] = {"n1", "m1", NULL}, *co[] = {"newshape", NULL};
    ob_attr_int(&m, ob_node(&m, "Concat", "concat", cin, co), "axis", 0);
    const char *rin[] = {"x", "newshape", NULL}, *ro[] = {"y", NULL};
    ob_node(&m, "Reshape", "reshape", rin, ro);
    ob_output(&m, "y");
    xb_graph *g = load_model(&m, 3, 0);
    ob_end(&m);
    cr_assert_eq(g->n_nodes, 1, "only the Reshape of the activation remains");
    cr_assert_str_eq(g->nodes[0].op_type, "Reshape");
    const xb_tensor *s = &g->tensors[g->nodes[0].in[1]];
    cr_assert(s->is_const);
    cr_assert_eq(((int64_t *)s->data)[0], 3, "batch bound into the folded shape");
    cr_assert_eq(((int64_t *)s->data)[1], -1);
    const xb_tensor *y = &g->tensors[g->outputs[0]];
    cr_assert_eq(y->shape.rank, 2);
    cr_assert_eq(y->shape.d[0], 3);
    cr_assert_eq(y->shape.d[1], 6);
    xb_graph_free(g);
}

/* x -> Relu -> t0 -> Identity x 1000 -> t1000 (graph output): one Relu that
 * writes the output tensor, whatever the order the nodes are listed in. */
Test(passes, long_identity_chain_collapses_in_any_order) {
    for (int reversed = 0; reversed < 2; reversed++) {
        xb_test_graph tg;
        xb_test_begin(&tg);
        int64_t d[] = {2};
        int x = xb_test_input(&tg, "x", XB_F32, 1, d);
        int t[1001];
        for (int i = 0; i <= 1000; i++) {
            char nm[16];
            snprintf(nm, sizeof nm, "t%d", i);
            t[i] = xb_test_tensor(&tg, nm);
        }
        if (!reversed) xb_test_node(&tg, "Relu", 13, &x, 1, &t[0], 1);
        for (int k = 0; k < 1000; k++) {
            int i = reversed ? 999 - k : k;
            xb_test_node(&tg, "Identity", 13, &t[i], 1, &t[i + 1], 1);
        }
        if (reversed) xb_test_node(&tg, "Relu", 13, &x, 1, &t[0], 1);
        xb_test_output(&tg, t[1000]);
        int n;
        cr_assert_eq(xb_pass_remove_identity(tg.g, &n, &tg.ctx), XB_OK);
        cr_assert_eq(n, 1000);
        cr_assert_eq(tg.g->n_nodes, 1);
        cr_assert_str_eq(tg.g->nodes[0].op_type, "Relu");
        cr_assert_eq(tg.g->nodes[0].out[0], t[1000]);
        cr_assert_eq(tg.g->outputs[0], t[1000]);
        cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
        float in[2] = {-1, 3};
        float *y = xb_test_run1(&tg, in);
        cr_assert_not_null(y, "%s", tg.ctx.msg);
        cr_assert_float_eq(y[0], 0.0f, 0.0f);
        cr_assert_float_eq(y[1], 3.0f, 0.0f);
        xb_test_end(&tg);
    }
}

/* ---- Conv + Relu fusion for float inference -------------------------------- */

/* Uniform values in [-2, 2) from a fixed LCG seed. */
static void rng_fill(float *x, size_t n, unsigned seed) {
    uint64_t st = seed;
    for (size_t i = 0; i < n; i++) {
        st = st * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = (float)((st >> 40) & 0xFFFFFF) / (float)0x400000 - 2.0f;
    }
}

/* The bundled CNNs through xb_float_run_graph: Conv -> Relu and Conv ->
 * Add [-> Relu] are fused (and nothing else changes), the loaded graph is untouched, and the
 * fused graph's logits equal the unfused ones bit for bit on random inputs,
 * at batch 1 and 3 (several images per run). */
static void check_fused_model(const char *file, int want_min_fused) {
    char path[4096];
    snprintf(path, sizeof path, "%s/models/%s", XBAR_SOURCE_DIR, file);
    FILE *f = fopen(path, "rb");
    if (!f) cr_skip_test("%s not in this tree", path);
    fclose(f);
    for (int64_t batch = 1; batch <= 3; batch += 2) {
        xb_ctx ctx = {0};
        xb_graph *g = NULL, *fz = NULL;
        cr_assert_eq(xb_onnx_load(path, batch, &g, &ctx), XB_OK, "%s", ctx.msg);
        int relus = count_op(g, "Relu"), adds = count_op(g, "Add"), convs = count_op(g, "Conv");
        int nodes = g->n_nodes;
        cr_assert_eq(xb_float_run_graph(g, &fz, &ctx), XB_OK, "%s", ctx.msg);
        cr_assert_not_null(fz, "%s: nothing fused", file);
        int fused = count_op(fz, "XbarConv");
        cr_assert_geq(fused, want_min_fused, "%s: %d fused", file, fused);
        /* Every Conv is still there once; only Relu and Add nodes went. */
        cr_assert_eq(count_op(fz, "Conv") + fused, convs);
        cr_assert_eq(nodes - fz->n_nodes,
                     (relus - count_op(fz, "Relu")) + (adds - count_op(fz, "Add")));
        cr_assert_eq(g->n_nodes, nodes, "the loaded graph must not change");
        const xb_tensor *in = &g->tensors[g->inputs[0]];
        size_t n_in = (size_t)xb_shape_numel(&in->shape);
        float *x = malloc(n_in * sizeof(float));
        rng_fill(x, n_in, 1234 + (unsigned)batch);
        size_t n1, n2;
        float *y1 = run_graph(g, x, &n1), *y2 = run_graph(fz, x, &n2);
        cr_assert_eq(n1, n2);
        cr_assert(memcmp(y1, y2, n1 * sizeof(float)) == 0, "%s batch %ld: fused logits differ",
                  file, (long)batch);
        free(x), free(y1), free(y2);
        xb_graph_free(fz);
        xb_graph_free(g);
    }
}

Test(passes_model, conv_relu_fused_resnet20_same_bits) { check_fused_model("resnet20_cifar10.onnx", 19); }
Test(passes_model, conv_relu_fused_vgg_small_same_bits) { check_fused_model("vgg_small_cifar10.onnx", 4); }
Test(passes_model, conv_relu_fused_lenet5_same_bits) { check_fused_model("lenet5_mnist.onnx", 2); }

/* A Conv whose output is also a graph output, or is read by two nodes,
 * keeps its Relu. */
Test(passes, conv_relu_not_fused_with_other_readers) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t xd[] = {1, 1, 3, 3}, wd[] = {1, 1, 1, 1};
    float w = 2.0f;
    int x = xb_test_input(&tg, "x", XB_F32, 4, xd);
    int wt = xb_test_const(&tg, "w", XB_F32, 4, wd, &w);
    int c = xb_test_tensor(&tg, "c"), y = xb_test_tensor(&tg, "y");
    int cin[] = {x, wt};
    xb_test_node(&tg, "Conv", 13, cin, 2, &c, 1);
    xb_test_node(&tg, "Relu", 13, &c, 1, &y, 1);
    xb_test_output(&tg, y);
    xb_test_output(&tg, c);
    int n = -1;
    cr_assert_eq(xb_pass_fuse_conv_relu(tg.g, &n, &tg.ctx), XB_OK);
    cr_assert_eq(n, 0);
    cr_assert_eq(count_op(tg.g, "Relu"), 1);
    xb_test_end(&tg);
}
