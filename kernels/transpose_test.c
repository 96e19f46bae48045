#include <criterion/criterion.h>

#include "tests/test_util.h"

static xb_status build(xb_test_graph *tg, xb_dtype dt, int r, const int64_t *dims,
                       const int64_t *perm) {
    xb_test_unary_begin(tg, "Transpose", 13, dt, r, dims);
    if (perm) xb_test_attr_ints(tg, 0, "perm", r, perm);
    return xb_test_prepare(tg);
}

Test(transpose, default_reverses_axes) {
    xb_test_graph tg;
    int64_t d[] = {2, 3, 4};
    cr_assert_eq(build(&tg, XB_F32, 3, d, NULL), XB_OK, "%s", tg.ctx.msg);
    const xb_shape *s = &tg.g->tensors[tg.g->outputs[0]].shape;
    cr_assert(s->d[0] == 4 && s->d[1] == 3 && s->d[2] == 2);
    float x[24];
    for (int i = 0; i < 24; i++) x[i] = (float)i;
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    /* numpy: np.arange(24).reshape(2,3,4).T.flatten() */
    float want[24] = {0, 12, 4, 16, 8, 20, 1, 13, 5, 17, 9, 21, 2, 14, 6, 18, 10, 22, 3, 15, 7, 19, 11, 23};
    for (int i = 0; i < 24; i++) cr_assert_float_eq(y[i], want[i], 0.0f, "at %d", i);
    xb_test_end(&tg);
}

Test(transpose, nchw_to_nhwc_i64) {
    xb_test_graph tg;
    int64_t d[] = {2, 3, 2, 2};
    int64_t perm[] = {0, 2, 3, 1};
    cr_assert_eq(build(&tg, XB_I64, 4, d, perm), XB_OK, "%s", tg.ctx.msg);
    int64_t x[24];
    for (int i = 0; i < 24; i++) x[i] = i;
    int64_t *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    int64_t want[24] = {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11, 12, 16, 20, 13, 17, 21, 14, 18, 22, 15, 19, 23};
    for (int i = 0; i < 24; i++) cr_assert_eq(y[i], want[i], "at %d", i);
    xb_test_end(&tg);
}

/* Naive reference: for each output index, compute the input offset. */
static void check_against_reference(int r, const int64_t *dims, const int64_t *perm) {
    xb_test_graph tg;
    cr_assert_eq(build(&tg, XB_U8, r, dims, perm), XB_OK, "%s", tg.ctx.msg);
    int64_t total = 1, stride[8];
    for (int k = r - 1; k >= 0; k--) {
        stride[k] = total;
        total *= dims[k];
    }
    uint8_t x[256];
    for (int64_t i = 0; i < total; i++) x[i] = (uint8_t)(i * 37 + 11);
    uint8_t *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    for (int64_t o = 0; o < total; o++) {
        int64_t rem = o, off = 0;
        for (int k = r - 1; k >= 0; k--) {
            int64_t c = rem % dims[perm[k]];
            rem /= dims[perm[k]];
            off += c * stride[perm[k]];
        }
        cr_assert_eq(y[o], x[off], "output %lld", (long long)o);
    }
    xb_test_end(&tg);
}

Test(transpose, matches_reference_with_unit_and_mergeable_axes) {
    int64_t d1[] = {2, 1, 3, 4};
    int64_t p1[] = {2, 3, 0, 1}; /* (3,4) stays contiguous: merges */
    check_against_reference(4, d1, p1);
    int64_t p2[] = {1, 0, 2, 3}; /* only moves a unit axis: a copy */
    check_against_reference(4, d1, p2);
    int64_t p3[] = {3, 1, 2, 0};
    check_against_reference(4, d1, p3);
    int64_t d2[] = {3, 2, 2, 2, 2};
    int64_t p4[] = {4, 2, 0, 3, 1};
    check_against_reference(5, d2, p4);
    int64_t d3[] = {5};
    int64_t p5[] = {0};
    check_against_reference(1, d3, p5);
}

Test(transpose, invalid_perm) {
    xb_test_graph tg;
    int64_t d[] = {2, 3};
    int64_t dup[] = {0, 0};
    cr_assert_eq(build(&tg, XB_F32, 2, d, dup), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "permutation"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    xb_test_unary_begin(&tg, "Transpose", 13, XB_F32, 2, d);
    int64_t three[] = {0, 1, 2};
    xb_test_attr_ints(&tg, 0, "perm", 3, three);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_INVALID);
    xb_test_end(&tg);
}
