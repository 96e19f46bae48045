#include <criterion/criterion.h>

#include "tests/test_util.h"

/* a [2,2] and b [2,1] inputs concatenated along axis 1 (or -1). */
Test(concat, axis1_and_negative_axis) {
    for (int neg = 0; neg < 2; neg++) {
        xb_test_graph tg;
        xb_test_begin(&tg);
        int64_t da[] = {2, 2}, db[] = {2, 1};
        int in[2] = {xb_test_input(&tg, "a", XB_F32, 2, da), xb_test_input(&tg, "b", XB_F32, 2, db)};
        int y = xb_test_tensor(&tg, "y");
        int node = xb_test_node(&tg, "Concat", neg ? 11 : 7, in, 2, &y, 1);
        xb_test_attr_int(&tg, node, "axis", neg ? -1 : 1);
        xb_test_output(&tg, y);
        cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
        const xb_shape *s = &tg.g->tensors[y].shape;
        cr_assert_eq(s->d[0], 2);
        cr_assert_eq(s->d[1], 3);
        float a[4] = {1, 2, 3, 4}, b[2] = {9, 8};
        const void *inp[2] = {a, b};
        float *out = xb_test_run(&tg, inp, 0);
        cr_assert_not_null(out, "%s", tg.ctx.msg);
        float want[6] = {1, 2, 9, 3, 4, 8};
        for (int i = 0; i < 6; i++) cr_assert_float_eq(out[i], want[i], 0.0f);
        xb_test_end(&tg);
    }
}

Test(concat, axis0_i64_folds_and_empty_input) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t d1[] = {1}, d0[] = {0}, d2[] = {2};
    int64_t a[] = {5}, c[] = {-1, 7};
    int in[3] = {xb_test_const(&tg, "a", XB_I64, 1, d1, a), xb_test_const(&tg, "e", XB_I64, 1, d0, a),
                 xb_test_const(&tg, "c", XB_I64, 1, d2, c)};
    int y = xb_test_tensor(&tg, "y");
    int node = xb_test_node(&tg, "Concat", 13, in, 3, &y, 1);
    xb_test_attr_int(&tg, node, "axis", 0);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(tg.g->n_nodes, 0);
    const xb_tensor *t = &tg.g->tensors[y];
    cr_assert_eq(t->shape.d[0], 3);
    int64_t want[3] = {5, -1, 7};
    for (int i = 0; i < 3; i++) cr_assert_eq(((int64_t *)t->data)[i], want[i]);
    xb_test_end(&tg);
}

Test(concat, axis_middle_3d) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t da[] = {2, 1, 2}, db[] = {2, 2, 2};
    int in[2] = {xb_test_input(&tg, "a", XB_I32, 3, da), xb_test_input(&tg, "b", XB_I32, 3, db)};
    int y = xb_test_tensor(&tg, "y");
    int node = xb_test_node(&tg, "Concat", 13, in, 2, &y, 1);
    xb_test_attr_int(&tg, node, "axis", 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    int32_t a[4] = {1, 2, 3, 4}, b[8] = {10, 11, 12, 13, 14, 15, 16, 17};
    const void *inp[2] = {a, b};
    int32_t *out = xb_test_run(&tg, inp, 0);
    cr_assert_not_null(out, "%s", tg.ctx.msg);
    int32_t want[12] = {1, 2, 10, 11, 12, 13, 3, 4, 14, 15, 16, 17};
    for (int i = 0; i < 12; i++) cr_assert_eq(out[i], want[i]);
    xb_test_end(&tg);
}

Test(concat, errors) {
    int64_t da[] = {2, 2}, db[] = {3, 1};
    struct {
        xb_dtype tb;
        const int64_t *db;
        int rank_b;
        int set_axis;
        int64_t axis;
    } cases[] = {
        {XB_F32, db, 2, 1, 1},    /* dim 0 mismatch */
        {XB_I64, da, 2, 1, 1},    /* dtype mismatch */
        {XB_F32, da, 1, 1, 0},    /* rank mismatch */
        {XB_F32, da, 2, 0, 0},    /* no axis */
        {XB_F32, da, 2, 1, 2},    /* axis out of range */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        xb_test_graph tg;
        xb_test_begin(&tg);
        int in[2] = {xb_test_input(&tg, "a", XB_F32, 2, da),
                     xb_test_input(&tg, "b", cases[k].tb, cases[k].rank_b, cases[k].db)};
        int y = xb_test_tensor(&tg, "y");
        int node = xb_test_node(&tg, "Concat", 13, in, 2, &y, 1);
        if (cases[k].set_axis) xb_test_attr_int(&tg, node, "axis", cases[k].axis);
        xb_test_output(&tg, y);
        cr_assert_eq(xb_test_prepare(&tg), XB_ERR_INVALID, "case %zu: %s", k, tg.ctx.msg);
        xb_test_end(&tg);
    }
}
