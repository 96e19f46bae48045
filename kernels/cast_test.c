#include <criterion/criterion.h>
#include <math.h>

#include "tests/test_util.h"

enum { ONNX_FLOAT = 1, ONNX_UINT8 = 2, ONNX_INT8 = 3, ONNX_INT32 = 6, ONNX_INT64 = 7, ONNX_BOOL = 9 };

static void *run_cast(xb_test_graph *tg, xb_dtype from, int to, int n, const void *x) {
    int64_t dims[] = {n};
    xb_test_unary_begin(tg, "Cast", 13, from, 1, dims);
    xb_test_attr_int(tg, 0, "to", to);
    cr_assert_eq(xb_test_prepare(tg), XB_OK, "%s", tg->ctx.msg);
    void *y = xb_test_run1(tg, x);
    cr_assert_not_null(y, "%s", tg->ctx.msg);
    return y;
}

static const float F[8] = {1.9f, -1.9f, 300.0f, -300.0f, 0.0f, -0.5f, 3e10f, -3e10f};

Test(cast, float_to_ints_truncate_and_saturate) {
    xb_test_graph tg;
    int32_t *i32 = run_cast(&tg, XB_F32, ONNX_INT32, 8, F);
    int32_t w32[8] = {1, -1, 300, -300, 0, 0, INT32_MAX, INT32_MIN};
    for (int i = 0; i < 8; i++) cr_assert_eq(i32[i], w32[i], "at %d", i);
    cr_assert_eq(tg.g->tensors[tg.g->outputs[0]].dtype, XB_I32);
    xb_test_end(&tg);

    uint8_t *u8 = run_cast(&tg, XB_F32, ONNX_UINT8, 8, F);
    uint8_t wu8[8] = {1, 0, 255, 0, 0, 0, 255, 0};
    for (int i = 0; i < 8; i++) cr_assert_eq(u8[i], wu8[i], "at %d", i);
    xb_test_end(&tg);

    int8_t *i8 = run_cast(&tg, XB_F32, ONNX_INT8, 8, F);
    int8_t wi8[8] = {1, -1, 127, -128, 0, 0, 127, -128};
    for (int i = 0; i < 8; i++) cr_assert_eq(i8[i], wi8[i], "at %d", i);
    xb_test_end(&tg);

    int64_t *i64 = run_cast(&tg, XB_F32, ONNX_INT64, 8, F);
    int64_t w64[8] = {1, -1, 300, -300, 0, 0, 30000001024LL, -30000001024LL};
    for (int i = 0; i < 8; i++) cr_assert_eq(i64[i], w64[i], "at %d", i);
    xb_test_end(&tg);

    float special[3] = {NAN, INFINITY, -INFINITY};
    i64 = run_cast(&tg, XB_F32, ONNX_INT64, 3, special);
    cr_assert_eq(i64[0], 0);
    cr_assert_eq(i64[1], INT64_MAX);
    cr_assert_eq(i64[2], INT64_MIN);
    xb_test_end(&tg);
}

Test(cast, ints_wrap_like_numpy) {
    xb_test_graph tg;
    int64_t x[4] = {300, -1, 128, (int64_t)1 << 40};
    uint8_t *u8 = run_cast(&tg, XB_I64, ONNX_UINT8, 4, x);
    uint8_t wu[4] = {44, 255, 128, 0};
    for (int i = 0; i < 4; i++) cr_assert_eq(u8[i], wu[i], "at %d", i);
    xb_test_end(&tg);
    int8_t *i8 = run_cast(&tg, XB_I64, ONNX_INT8, 4, x);
    int8_t wi[4] = {44, -1, -128, 0};
    for (int i = 0; i < 4; i++) cr_assert_eq(i8[i], wi[i], "at %d", i);
    xb_test_end(&tg);
    int32_t *i32 = run_cast(&tg, XB_I64, ONNX_INT32, 4, x);
    int32_t w32[4] = {300, -1, 128, 0};
    for (int i = 0; i < 4; i++) cr_assert_eq(i32[i], w32[i], "at %d", i);
    xb_test_end(&tg);
    uint8_t u[3] = {0, 200, 255};
    int64_t *i64 = run_cast(&tg, XB_U8, ONNX_INT64, 3, u);
    cr_assert_eq(i64[1], 200);
    cr_assert_eq(i64[2], 255);
    xb_test_end(&tg);
    int8_t s[2] = {-128, 5};
    float *f = run_cast(&tg, XB_I8, ONNX_FLOAT, 2, s);
    cr_assert_float_eq(f[0], -128.0f, 0.0f);
    cr_assert_float_eq(f[1], 5.0f, 0.0f);
    xb_test_end(&tg);
}

Test(cast, bool_both_ways) {
    xb_test_graph tg;
    float x[4] = {0.0f, -0.0f, 0.1f, NAN};
    uint8_t *b = run_cast(&tg, XB_F32, ONNX_BOOL, 4, x);
    uint8_t wb[4] = {0, 0, 1, 1};
    for (int i = 0; i < 4; i++) cr_assert_eq(b[i], wb[i], "at %d", i);
    cr_assert_eq(tg.g->tensors[tg.g->outputs[0]].dtype, XB_BOOL);
    xb_test_end(&tg);
    int32_t xi[3] = {0, 256, -1};
    b = run_cast(&tg, XB_I32, ONNX_BOOL, 3, xi);
    cr_assert_eq(b[0], 0);
    cr_assert_eq(b[1], 1, "256 is true, not truncated to 0");
    cr_assert_eq(b[2], 1);
    xb_test_end(&tg);
    uint8_t xb[3] = {0, 1, 7};
    float *f = run_cast(&tg, XB_BOOL, ONNX_FLOAT, 3, xb);
    cr_assert_float_eq(f[0], 0.0f, 0.0f);
    cr_assert_float_eq(f[1], 1.0f, 0.0f);
    cr_assert_float_eq(f[2], 1.0f, 0.0f);
    xb_test_end(&tg);
}

Test(cast, unsupported_target_and_missing_to) {
    xb_test_graph tg;
    int64_t dims[] = {2};
    xb_test_unary_begin(&tg, "Cast", 13, XB_F32, 1, dims);
    xb_test_attr_int(&tg, 0, "to", 11); /* DOUBLE */
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    cr_assert(strstr(tg.ctx.msg, "11"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    xb_test_unary_begin(&tg, "Cast", 9, XB_F32, 1, dims);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "'to'"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}
