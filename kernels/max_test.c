#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "tests/bcast_ref.h"
#include "tests/test_util.h"

/* Variadic op over n inputs "x0".."x{n-1}" of the given shapes. */
static xb_status build(xb_test_graph *tg, const char *op, int opset, xb_dtype dt, int n,
                       const xb_shape *s) {
    xb_test_begin(tg);
    int in[8];
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "x%d", i);
        in[i] = xb_test_input(tg, name, dt, s[i].rank, s[i].d);
    }
    int y = xb_test_tensor(tg, "y");
    xb_test_node(tg, op, opset, in, n, &y, 1);
    xb_test_output(tg, y);
    return xb_test_prepare(tg);
}

/* Max, Min, Sum, Mean over 1..4 inputs of random broadcastable shapes
 * (the first input is often smaller than the output, which exercises the
 * broadcast first copy), against a naive left fold. */
Test(variadic, random_broadcast) {
    const char *ops[4] = {"Max", "Min", "Sum", "Mean"};
    uint32_t seed = 9;
    for (int trial = 0; trial < 60; trial++) {
        int op = trial % 4, n = 1 + (int)(xb_ref_rand(&seed) % 4);
        xb_shape so = {.rank = (int)(xb_ref_rand(&seed) % 4)}, s[4];
        for (int k = 0; k < so.rank; k++) so.d[k] = 1 + xb_ref_rand(&seed) % 3;
        for (int j = 0; j < n; j++) {
            s[j].rank = (int)(xb_ref_rand(&seed) % (unsigned)(so.rank + 1));
            for (int k = 0; k < s[j].rank; k++) {
                s[j].d[k] = so.d[so.rank - s[j].rank + k];
                if (xb_ref_rand(&seed) % 3 == 0) s[j].d[k] = 1;
            }
        }
        xb_test_graph tg;
        cr_assert_eq(build(&tg, ops[op], 13, XB_F32, n, s), XB_OK, "%s", tg.ctx.msg);
        const xb_tensor *yt = &tg.g->tensors[tg.g->outputs[0]];
        float data[4][64];
        const void *in[4];
        for (int j = 0; j < n; j++) {
            for (int64_t i = 0; i < xb_shape_numel(&s[j]); i++) data[j][i] = xb_ref_randf(&seed);
            in[j] = data[j];
        }
        float *y = xb_test_run(&tg, in, 0);
        cr_assert_not_null(y, "%s", tg.ctx.msg);
        for (int64_t i = 0; i < xb_shape_numel(&yt->shape); i++) {
            float acc = data[0][xb_ref_bcast_index(&yt->shape, &s[0], i)];
            for (int j = 1; j < n; j++) {
                float v = data[j][xb_ref_bcast_index(&yt->shape, &s[j], i)];
                acc = op == 0 ? fmaxf(acc, v) : op == 1 ? fminf(acc, v) : acc + v;
            }
            if (op == 3) acc /= (float)n;
            cr_assert_float_eq(y[i], acc, 0.0f, "%s n %d trial %d at %lld", ops[op], n, trial,
                               (long long)i);
        }
        xb_test_end(&tg);
    }
}

Test(max, nan_propagates) {
    xb_test_graph tg;
    xb_shape s[2] = {{1, {3}}, {1, {3}}};
    cr_assert_eq(build(&tg, "Max", 13, XB_F32, 2, s), XB_OK, "%s", tg.ctx.msg);
    float a[3] = {NAN, 1.0f, 2.0f}, b[3] = {1.0f, NAN, 3.0f};
    const void *in[2] = {a, b};
    float *y = xb_test_run(&tg, in, 0);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    cr_assert(isnan(y[0]) && isnan(y[1]));
    cr_assert_float_eq(y[2], 3.0f, 0.0f);
    xb_test_end(&tg);
}

Test(max, ints_from_opset_12) {
    xb_test_graph tg;
    xb_shape s[3] = {{1, {3}}, {0, {0}}, {2, {2, 1}}};
    cr_assert_eq(build(&tg, "Max", 12, XB_I64, 3, s), XB_OK, "%s", tg.ctx.msg);
    int64_t a[3] = {1, INT64_MIN, 7}, b = 2, c[2] = {0, 5};
    const void *in[3] = {a, &b, c};
    int64_t *y = xb_test_run(&tg, in, 0);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    int64_t want[6] = {2, 2, 7, 5, 5, 7};
    for (int i = 0; i < 6; i++) cr_assert_eq(y[i], want[i], "at %d", i);
    xb_test_end(&tg);
    cr_assert_eq(build(&tg, "Max", 11, XB_I64, 3, s), XB_ERR_UNSUPPORTED);
    cr_assert(strstr(tg.ctx.msg, "opset 11"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}

Test(max, errors) {
    xb_test_graph tg;
    /* version 6 (opset 7) does not broadcast */
    xb_shape s[2] = {{1, {3}}, {2, {2, 3}}};
    cr_assert_eq(build(&tg, "Max", 7, XB_F32, 2, s), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "opset 8"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    cr_assert_eq(build(&tg, "Max", 8, XB_F32, 2, s), XB_OK, "%s", tg.ctx.msg);
    xb_test_end(&tg);
    xb_shape bad[2] = {{1, {3}}, {1, {2}}};
    cr_assert_eq(build(&tg, "Max", 13, XB_F32, 2, bad), XB_ERR_INVALID);
    xb_test_end(&tg);
    cr_assert_eq(build(&tg, "Max", 13, XB_F32, 0, s), XB_ERR_INVALID);
    xb_test_end(&tg);
    /* mixed dtypes */
    xb_test_begin(&tg);
    int64_t d[] = {2};
    int in[2] = {xb_test_input(&tg, "a", XB_F32, 1, d), xb_test_input(&tg, "b", XB_I32, 1, d)};
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "Max", 13, in, 2, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "differ"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}
