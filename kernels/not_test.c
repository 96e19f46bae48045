#include <criterion/criterion.h>

#include "tests/test_util.h"

Test(not, bool_bytes) {
    xb_test_graph tg;
    int64_t d[] = {2, 2};
    xb_test_unary_begin(&tg, "Not", 13, XB_BOOL, 2, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(tg.g->tensors[tg.g->outputs[0]].dtype, XB_BOOL);
    /* Any nonzero byte is true; the output is exactly 0 or 1. */
    uint8_t x[4] = {0, 1, 7, 0};
    uint8_t *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    cr_assert_eq(y[0], 1);
    cr_assert_eq(y[1], 0);
    cr_assert_eq(y[2], 0);
    cr_assert_eq(y[3], 1);
    xb_test_end(&tg);
}

Test(not, rejects_non_bool) {
    xb_test_graph tg;
    int64_t d[] = {2};
    xb_test_unary_begin(&tg, "Not", 13, XB_U8, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    cr_assert(strstr(tg.ctx.msg, "bool"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}
