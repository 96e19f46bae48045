#include <criterion/criterion.h>

#include "tests/test_util.h"

/* a (input) op b (input) -> y */
static xb_status bin(xb_test_graph *tg, const char *op, int opset, xb_dtype dt, int ra,
                     const int64_t *da, int rb, const int64_t *db) {
    xb_test_begin(tg);
    int in[2] = {xb_test_input(tg, "a", dt, ra, da), xb_test_input(tg, "b", dt, rb, db)};
    int y = xb_test_tensor(tg, "y");
    xb_test_node(tg, op, opset, in, 2, &y, 1);
    xb_test_output(tg, y);
    return xb_test_prepare(tg);
}

static void *run2(xb_test_graph *tg, const void *a, const void *b) {
    const void *in[2] = {a, b};
    void *y = xb_test_run(tg, in, 0);
    cr_assert_not_null(y, "%s", tg->ctx.msg);
    return y;
}

Test(add, f32_broadcast_234_plus_31) {
    xb_test_graph tg;
    int64_t da[] = {2, 3, 4}, db[] = {3, 1};
    cr_assert_eq(bin(&tg, "Add", 14, XB_F32, 3, da, 2, db), XB_OK, "%s", tg.ctx.msg);
    float a[24], b[3] = {100, 200, 300};
    for (int i = 0; i < 24; i++) a[i] = (float)i;
    float *y = run2(&tg, a, b);
    for (int i = 0; i < 24; i++) {
        int row = (i / 4) % 3;
        cr_assert_float_eq(y[i], (float)i + b[row], 0.0f, "at %d", i);
    }
    xb_test_end(&tg);
}

Test(add, f32_scalar_and_rank1) {
    xb_test_graph tg;
    int64_t da[] = {2, 2}, one[] = {1};
    cr_assert_eq(bin(&tg, "Add", 7, XB_F32, 0, NULL, 2, da), XB_OK, "%s", tg.ctx.msg);
    float s = 0.5f, a[4] = {1, 2, 3, 4};
    float *y = run2(&tg, &s, a);
    for (int i = 0; i < 4; i++) cr_assert_float_eq(y[i], a[i] + 0.5f, 0.0f);
    cr_assert_eq(tg.g->tensors[tg.g->outputs[0]].shape.rank, 2);
    xb_test_end(&tg);
    cr_assert_eq(bin(&tg, "Add", 13, XB_F32, 2, da, 1, one), XB_OK, "%s", tg.ctx.msg);
    float o = -1.0f;
    y = run2(&tg, a, &o);
    for (int i = 0; i < 4; i++) cr_assert_float_eq(y[i], a[i] - 1.0f, 0.0f);
    xb_test_end(&tg);
}

Test(add, i64_and_i32_wrap) {
    xb_test_graph tg;
    int64_t d[] = {2};
    cr_assert_eq(bin(&tg, "Add", 14, XB_I64, 1, d, 1, d), XB_OK, "%s", tg.ctx.msg);
    int64_t a[2] = {INT64_MAX, -5}, b[2] = {1, 3};
    int64_t *y = run2(&tg, a, b);
    cr_assert_eq(y[0], INT64_MIN);
    cr_assert_eq(y[1], -2);
    xb_test_end(&tg);
    cr_assert_eq(bin(&tg, "Add", 14, XB_I32, 1, d, 0, NULL), XB_OK, "%s", tg.ctx.msg);
    int32_t a32[2] = {7, INT32_MAX}, b32 = 1;
    int32_t *y32 = run2(&tg, a32, &b32);
    cr_assert_eq(y32[0], 8);
    cr_assert_eq(y32[1], INT32_MIN);
    xb_test_end(&tg);
}

Test(add, errors) {
    xb_test_graph tg;
    int64_t da[] = {2, 3}, db[] = {2};
    cr_assert_eq(bin(&tg, "Add", 13, XB_F32, 2, da, 1, db), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "broadcast") && strstr(tg.ctx.msg, "[2,3]"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    cr_assert_eq(bin(&tg, "Add", 13, XB_BOOL, 1, db, 1, db), XB_ERR_UNSUPPORTED);
    cr_assert(strstr(tg.ctx.msg, "bool"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    /* mixed dtypes */
    xb_test_begin(&tg);
    int in[2] = {xb_test_input(&tg, "a", XB_F32, 1, db), xb_test_input(&tg, "b", XB_I64, 1, db)};
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "Add", 13, in, 2, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "differ"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}

Test(add, folds_constants) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t d[] = {2};
    int64_t a[2] = {3, 4}, b = 10;
    int in[2] = {xb_test_const(&tg, "a", XB_I64, 1, d, a), xb_test_const(&tg, "b", XB_I64, 0, NULL, &b)};
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "Add", 13, in, 2, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(tg.g->n_nodes, 0);
    cr_assert_eq(((int64_t *)tg.g->tensors[y].data)[1], 14);
    xb_test_end(&tg);
}

Test(add, u8_and_i8_wrap) {
    xb_test_graph tg;
    int64_t d[] = {3};
    cr_assert_eq(bin(&tg, "Add", 14, XB_U8, 1, d, 1, d), XB_OK, "%s", tg.ctx.msg);
    uint8_t a[3] = {250, 1, 0}, b[3] = {10, 2, 255};
    uint8_t *y = run2(&tg, a, b);
    cr_assert_eq(y[0], 4);
    cr_assert_eq(y[1], 3);
    cr_assert_eq(y[2], 255);
    xb_test_end(&tg);
    cr_assert_eq(bin(&tg, "Add", 14, XB_I8, 1, d, 0, NULL), XB_OK, "%s", tg.ctx.msg);
    int8_t a8[3] = {127, -128, -5}, b8 = 1;
    int8_t *y8 = run2(&tg, a8, &b8);
    cr_assert_eq(y8[0], -128);
    cr_assert_eq(y8[1], -127);
    cr_assert_eq(y8[2], -4);
    xb_test_end(&tg);
}
