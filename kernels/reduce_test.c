/* ReduceMean, ReduceSum, ReduceMax, ReduceMin, ReduceL2 (kernels/reduce.c). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "tests/test_util.h"

static uint64_t rs;
static float frand(void) {
    rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((rs >> 40) & 0xFFFFFF) / (float)0x800000 - 1.0f;
}

static const char *const ops[] = {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceL2"};

/* x -> op -> y; axes (n < 0: none) as attribute, or as an i64 input for
 * ReduceSum from opset 13.  keep < 0 leaves keepdims at its default. */
static xb_status build(xb_test_graph *tg, const char *op, int opset, int rank, const int64_t *dims,
                       int n, const int64_t *axes, int keep, int noop) {
    xb_test_begin(tg);
    bool input_form = strcmp(op, "ReduceSum") == 0 && opset >= 13;
    int in[2] = {xb_test_input(tg, "x", XB_F32, rank, dims), -1};
    if (input_form && n >= 0) in[1] = xb_test_const(tg, "axes", XB_I64, 1, (int64_t[]){n}, axes);
    int y = xb_test_tensor(tg, "y");
    int nd = xb_test_node(tg, op, opset, in, in[1] >= 0 ? 2 : 1, &y, 1);
    if (!input_form && n >= 0) xb_test_attr_ints(tg, nd, "axes", n, axes);
    if (keep >= 0) xb_test_attr_int(tg, nd, "keepdims", keep);
    if (noop) xb_test_attr_int(tg, nd, "noop_with_empty_axes", 1);
    xb_test_output(tg, y);
    return xb_test_prepare(tg);
}

Test(reduce, hand_computed_all_kinds) {
    /* x = [[1, -2, 3], [4, 5, -6]], reduced over axis 1 (keepdims default). */
    float x[6] = {1, -2, 3, 4, 5, -6};
    float want[5][2] = {{2.0f / 3, 1}, {2, 3}, {3, 5}, {-2, -6}, {sqrtf(14), sqrtf(77)}};
    for (int k = 0; k < 5; k++)
        for (int opset = 11; opset <= 13; opset += 2) {
            xb_test_graph tg;
            cr_assert_eq(build(&tg, ops[k], opset, 2, (int64_t[]){2, 3}, 1, (int64_t[]){-1}, -1, 0),
                         XB_OK, "%s: %s", ops[k], tg.ctx.msg);
            const xb_shape *s = &tg.g->tensors[tg.g->outputs[0]].shape;
            cr_assert(s->rank == 2 && s->d[0] == 2 && s->d[1] == 1);
            float *y = xb_test_run1(&tg, x);
            cr_assert_not_null(y, "%s", tg.ctx.msg);
            for (int i = 0; i < 2; i++)
                cr_assert_float_eq(y[i], want[k][i], 1e-5f, "%s[%d] = %g", ops[k], i, y[i]);
            xb_test_end(&tg);
        }
}

Test(reduce, keepdims_and_default_axes) {
    xb_test_graph tg;
    int64_t dims[3] = {2, 3, 4};
    cr_assert_eq(build(&tg, "ReduceMax", 13, 3, dims, 2, (int64_t[]){0, 2}, 0, 0), XB_OK);
    const xb_shape *s = &tg.g->tensors[tg.g->outputs[0]].shape;
    cr_assert(s->rank == 1 && s->d[0] == 3);
    xb_test_end(&tg);
    /* No axes: everything, to [1,1,1] or a scalar. */
    cr_assert_eq(build(&tg, "ReduceMean", 13, 3, dims, -1, NULL, -1, 0), XB_OK);
    s = &tg.g->tensors[tg.g->outputs[0]].shape;
    cr_assert(s->rank == 3 && s->d[0] == 1 && s->d[1] == 1 && s->d[2] == 1);
    float x[24];
    for (int i = 0; i < 24; i++) x[i] = (float)i;
    float *y = xb_test_run1(&tg, x);
    cr_assert_float_eq(y[0], 11.5f, 1e-6f);
    xb_test_end(&tg);
    cr_assert_eq(build(&tg, "ReduceSum", 13, 3, dims, -1, NULL, 0, 0), XB_OK);
    cr_assert_eq(tg.g->tensors[tg.g->outputs[0]].shape.rank, 0);
    y = xb_test_run1(&tg, x);
    cr_assert_float_eq(y[0], 276.0f, 1e-6f);
    xb_test_end(&tg);
}

Test(reduce, reducesum_noop_with_empty_axes) {
    xb_test_graph tg;
    int64_t dims[2] = {2, 2};
    float x[4] = {1, 2, 3, 4};
    /* An empty axes input with noop_with_empty_axes = 1: the identity. */
    cr_assert_eq(build(&tg, "ReduceSum", 13, 2, dims, 0, NULL, 1, 1), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(tg.g->tensors[tg.g->outputs[0]].shape.d[1], 2);
    float *y = xb_test_run1(&tg, x);
    for (int i = 0; i < 4; i++) cr_assert_eq(y[i], x[i]);
    xb_test_end(&tg);
    /* Without the flag, empty axes reduce everything. */
    cr_assert_eq(build(&tg, "ReduceSum", 13, 2, dims, 0, NULL, 1, 0), XB_OK, "%s", tg.ctx.msg);
    y = xb_test_run1(&tg, x);
    cr_assert_float_eq(y[0], 10.0f, 0.0f);
    xb_test_end(&tg);
}

/* Random shapes and axis sets against a naive reference. */
Test(reduce, randomized_against_reference) {
    rs = 11;
    for (int it = 0; it < 60; it++) {
        int k = it % 5, rank = 1 + (int)((rs >> 20) % 4);
        int64_t dims[4], total = 1;
        for (int i = 0; i < rank; i++)
            dims[i] = 1 + (int64_t)((frand() + 1.0f) * 2.5f), total *= dims[i];
        int64_t axes[4];
        int na = 0;
        bool red[4] = {false};
        for (int i = 0; i < rank; i++)
            if (frand() > 0.0f) axes[na++] = i - (frand() > 0.0f ? rank : 0), red[i] = true;
        if (na == 0) for (int i = 0; i < rank; i++) red[i] = true;
        xb_test_graph tg;
        cr_assert_eq(build(&tg, ops[k], 13, rank, dims, na ? na : -1, axes, 1, 0), XB_OK, "%s",
                     tg.ctx.msg);
        float *x = malloc(sizeof(float) * (size_t)total);
        for (int64_t i = 0; i < total; i++) x[i] = frand();
        float *y = xb_test_run1(&tg, x);
        cr_assert_not_null(y, "%s", tg.ctx.msg);
        int64_t ostr[4], on = 1;
        for (int i = rank - 1; i >= 0; i--) ostr[i] = red[i] ? 0 : on, on *= red[i] ? 1 : dims[i];
        for (int64_t o = 0; o < on; o++) {
            double acc = k == 2 ? -INFINITY : k == 3 ? INFINITY : 0.0;
            int64_t cnt = 0;
            for (int64_t i = 0; i < total; i++) {
                int64_t rem = i, oi = 0;
                for (int a = rank - 1; a >= 0; a--) oi += (rem % dims[a]) * ostr[a], rem /= dims[a];
                if (oi != o) continue;
                cnt++;
                if (k == 2) acc = fmax(acc, x[i]);
                else if (k == 3) acc = fmin(acc, x[i]);
                else if (k == 4) acc += (double)x[i] * x[i];
                else acc += x[i];
            }
            if (k == 0) acc /= (double)cnt;
            if (k == 4) acc = sqrt(acc);
            cr_assert_float_eq(y[o], (float)acc, 1e-5, "it %d %s [%lld]: %g vs %g", it, ops[k],
                               (long long)o, y[o], acc);
        }
        free(x);
        xb_test_end(&tg);
    }
}

Test(reduce, errors) {
    xb_test_graph tg;
    int64_t dims[2] = {2, 3};
    cr_assert_eq(build(&tg, "ReduceMean", 13, 2, dims, 2, (int64_t[]){1, -1}, -1, 0),
                 XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "twice"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    cr_assert_eq(build(&tg, "ReduceMin", 13, 2, dims, 1, (int64_t[]){2}, -1, 0), XB_ERR_INVALID);
    xb_test_end(&tg);
    /* noop_with_empty_axes belongs to ReduceSum-13 only in our window. */
    cr_assert_eq(build(&tg, "ReduceMax", 13, 2, dims, -1, NULL, -1, 1), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "noop_with_empty_axes"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    /* ReduceSum-13's axes must be a constant input. */
    xb_test_begin(&tg);
    int in[2] = {xb_test_input(&tg, "x", XB_F32, 2, dims),
                 xb_test_input(&tg, "a", XB_I64, 1, (int64_t[]){1})};
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "ReduceSum", 13, in, 2, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    cr_assert(strstr(tg.ctx.msg, "not constant"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    xb_test_unary_begin(&tg, "ReduceL2", 13, XB_I32, 2, dims);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    xb_test_end(&tg);
}
