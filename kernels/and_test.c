#include <criterion/criterion.h>
#include <math.h>

#include "tests/test_util.h"

static xb_status build(xb_test_graph *tg, const char *op, int opset, xb_dtype dt, int ra,
                       const int64_t *da, int rb, const int64_t *db) {
    xb_test_begin(tg);
    int in[2] = {xb_test_input(tg, "a", dt, ra, da), xb_test_input(tg, "b", dt, rb, db)};
    int y = xb_test_tensor(tg, "y");
    xb_test_node(tg, op, opset, in, 2, &y, 1);
    xb_test_output(tg, y);
    return xb_test_prepare(tg);
}

Test(and, truth_table_and_broadcast) {
    xb_test_graph tg;
    int64_t d[] = {4}, d21[] = {2, 1}, d12[] = {1, 2};
    cr_assert_eq(build(&tg, "And", 7, XB_BOOL, 1, d, 1, d), XB_OK, "%s", tg.ctx.msg);
    uint8_t a[4] = {0, 0, 1, 7}, b[4] = {0, 1, 0, 1}; /* any nonzero byte is true */
    const void *in[2] = {a, b};
    uint8_t *y = xb_test_run(&tg, in, 0);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    const uint8_t w[4] = {0,0,0,1};
    for (int i = 0; i < 4; i++) cr_assert_eq(y[i], w[i], "element %d", i);
    xb_test_end(&tg);
    /* [2,1] op [1,2] -> [2,2] = the same table */
    cr_assert_eq(build(&tg, "And", 7, XB_BOOL, 2, d21, 2, d12), XB_OK, "%s", tg.ctx.msg);
    const xb_tensor *yt = &tg.g->tensors[tg.g->outputs[0]];
    cr_assert_eq(yt->shape.rank, 2);
    cr_assert_eq(yt->shape.d[0], 2);
    cr_assert_eq(yt->shape.d[1], 2);
    uint8_t a2[2] = {0, 1}, b2[2] = {0, 1};
    const void *in2[2] = {a2, b2};
    y = xb_test_run(&tg, in2, 0);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    for (int i = 0; i < 4; i++) cr_assert_eq(y[i], w[i], "broadcast element %d", i);
    xb_test_end(&tg);
}

Test(and, errors) {
    xb_test_graph tg;
    int64_t d[] = {2};
    cr_assert_eq(build(&tg, "And", 7, XB_F32, 1, d, 1, d), XB_ERR_UNSUPPORTED, "bool only");
    xb_test_end(&tg);
}
