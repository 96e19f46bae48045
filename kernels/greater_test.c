#include <criterion/criterion.h>
#include <math.h>

#include "tests/test_util.h"

static xb_status build(xb_test_graph *tg, int opset, xb_dtype dt, int ra, const int64_t *da,
                       int rb, const int64_t *db) {
    xb_test_begin(tg);
    int in[2] = {xb_test_input(tg, "a", dt, ra, da), xb_test_input(tg, "b", dt, rb, db)};
    int y = xb_test_tensor(tg, "y");
    xb_test_node(tg, "Greater", opset, in, 2, &y, 1);
    xb_test_output(tg, y);
    return xb_test_prepare(tg);
}

Test(greater, f32_and_u8_broadcast) {
    xb_test_graph tg;
    int64_t da[] = {2, 1}, db[] = {3};
    cr_assert_eq(build(&tg, 13, XB_F32, 2, da, 1, db), XB_OK, "%s", tg.ctx.msg);
    const xb_tensor *yt = &tg.g->tensors[tg.g->outputs[0]];
    cr_assert_eq(yt->dtype, XB_BOOL);
    cr_assert(yt->shape.rank == 2 && yt->shape.d[0] == 2 && yt->shape.d[1] == 3);
    float a[2] = {0.0f, 2.0f}, b[3] = {-1.0f, 1.0f, NAN};
    const void *in[2] = {a, b};
    uint8_t *y = xb_test_run(&tg, in, 0);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    uint8_t want[6] = {1, 0, 0, 1, 1, 0};
    for (int i = 0; i < 6; i++) cr_assert_eq(y[i], want[i], "at %d", i);
    xb_test_end(&tg);
    int64_t d[] = {2};
    cr_assert_eq(build(&tg, 9, XB_U8, 1, d, 1, d), XB_OK, "%s", tg.ctx.msg);
    uint8_t au[2] = {255, 0}, bu[2] = {0, 255};
    const void *inu[2] = {au, bu};
    y = xb_test_run(&tg, inu, 0);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    cr_assert_eq(y[0], 1);
    cr_assert_eq(y[1], 0);
    xb_test_end(&tg);
}

Test(greater, errors) {
    xb_test_graph tg;
    int64_t d[] = {2}, d3[] = {3};
    cr_assert_eq(build(&tg, 7, XB_I64, 1, d, 1, d), XB_ERR_UNSUPPORTED);
    xb_test_end(&tg);
    cr_assert_eq(build(&tg, 13, XB_F32, 1, d, 1, d3), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "broadcast"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}
