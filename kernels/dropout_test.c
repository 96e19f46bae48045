#include <criterion/criterion.h>

#include "tests/test_util.h"

/* x [2,2] -> Dropout -> (y, mask) */
static void build(xb_test_graph *tg, int opset, int n_in_extra, const int *extra) {
    xb_test_begin(tg);
    int64_t dims[] = {2, 2};
    int in[3] = {xb_test_input(tg, "x", XB_F32, 2, dims), -1, -1};
    for (int i = 0; i < n_in_extra; i++) in[1 + i] = extra[i];
    int out[2] = {xb_test_tensor(tg, "y"), xb_test_tensor(tg, "mask")};
    xb_test_node(tg, "Dropout", opset, in, 1 + n_in_extra, out, 2);
    xb_test_output(tg, out[0]);
    xb_test_output(tg, out[1]);
}

Test(dropout, opset13_copies_and_mask_is_bool_true) {
    xb_test_graph tg;
    build(&tg, 13, 0, NULL);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float x[4] = {1, -2, 3, 0.5f};
    const void *in[1] = {x};
    float *y = xb_test_run(&tg, in, 0);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    for (int i = 0; i < 4; i++) cr_assert_float_eq(y[i], x[i], 0.0f);
    cr_assert_eq(tg.g->tensors[tg.g->outputs[1]].dtype, XB_BOOL);
    uint8_t *m = tg.e->buf[tg.g->outputs[1]];
    for (int i = 0; i < 4; i++) cr_assert_eq(m[i], 1);
    xb_test_end(&tg);
}

Test(dropout, opset7_mask_has_data_type) {
    xb_test_graph tg;
    build(&tg, 7, 0, NULL);
    xb_test_attr_float(&tg, 0, "ratio", 0.3f);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(tg.g->tensors[tg.g->outputs[1]].dtype, XB_F32);
    float x[4] = {1, 2, 3, 4};
    const void *in[1] = {x};
    cr_assert_not_null(xb_test_run(&tg, in, 0), "%s", tg.ctx.msg);
    float *m = tg.e->buf[tg.g->outputs[1]];
    for (int i = 0; i < 4; i++) cr_assert_float_eq(m[i], 1.0f, 0.0f);
    xb_test_end(&tg);
}

Test(dropout, opset12_ratio_input_and_training_false) {
    xb_test_graph tg;
    float r = 0.9f;
    uint8_t t = 0;
    int64_t dims[] = {2, 2};
    xb_test_begin(&tg);
    int x = xb_test_input(&tg, "x", XB_F32, 2, dims);
    int in[3] = {x, xb_test_const(&tg, "r", XB_F32, 0, NULL, &r),
                 xb_test_const(&tg, "t", XB_BOOL, 0, NULL, &t)};
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "Dropout", 12, in, 3, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float xv[4] = {7, 8, 9, 10};
    float *yv = xb_test_run1(&tg, xv);
    cr_assert_not_null(yv, "%s", tg.ctx.msg);
    for (int i = 0; i < 4; i++) cr_assert_float_eq(yv[i], xv[i], 0.0f);
    xb_test_end(&tg);
}

Test(dropout, training_mode_true_is_unsupported) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t dims[] = {2, 2};
    uint8_t t = 1;
    int in[3] = {xb_test_input(&tg, "x", XB_F32, 2, dims), -1,
                 xb_test_const(&tg, "t", XB_BOOL, 0, NULL, &t)};
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "Dropout", 13, in, 3, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    cr_assert(strstr(tg.ctx.msg, "training_mode"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}

Test(dropout, training_mode_fed_at_run_is_checked) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t dims[] = {2};
    int in[3] = {xb_test_input(&tg, "x", XB_F32, 1, dims), -1,
                 xb_test_input(&tg, "t", XB_BOOL, 0, NULL)};
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "Dropout", 13, in, 3, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float xv[2] = {1, 2};
    uint8_t off = 0, on = 1;
    const void *a[2] = {xv, &off};
    cr_assert_not_null(xb_test_run(&tg, a, 0), "%s", tg.ctx.msg);
    const void *b[2] = {xv, &on};
    cr_assert_null(xb_test_run(&tg, b, 0));
    cr_assert_eq(tg.ctx.status, XB_ERR_UNSUPPORTED);
    xb_test_end(&tg);
}

Test(dropout, training_with_ratio_zero_is_identity) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t dims[] = {3};
    float r = 0.0f;
    uint8_t t = 1;
    int in[3] = {xb_test_input(&tg, "x", XB_F32, 1, dims), xb_test_const(&tg, "r", XB_F32, 0, NULL, &r),
                 xb_test_const(&tg, "t", XB_BOOL, 0, NULL, &t)};
    int out[2] = {xb_test_tensor(&tg, "y"), xb_test_tensor(&tg, "mask")};
    xb_test_node(&tg, "Dropout", 13, in, 3, out, 2);
    xb_test_output(&tg, out[0]);
    xb_test_output(&tg, out[1]);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float x[3] = {1, -2, 3};
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    for (int i = 0; i < 3; i++) cr_assert_float_eq(y[i], x[i], 0.0f);
    uint8_t *m = tg.e->buf[tg.g->outputs[1]];
    for (int i = 0; i < 3; i++) cr_assert_eq(m[i], 1);
    xb_test_end(&tg);
}
