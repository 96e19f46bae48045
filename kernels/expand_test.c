#include <criterion/criterion.h>

#include "tests/test_util.h"

static xb_status build(xb_test_graph *tg, xb_dtype dt, int rank, const int64_t *dims, int n,
                       const int64_t *shape) {
    xb_test_begin(tg);
    int in[2] = {xb_test_input(tg, "x", dt, rank, dims),
                 xb_test_const(tg, "shape", XB_I64, 1, (int64_t[]){n}, shape)};
    int y = xb_test_tensor(tg, "y");
    xb_test_node(tg, "Expand", 13, in, 2, &y, 1);
    xb_test_output(tg, y);
    return xb_test_prepare(tg);
}

Test(expand, broadcasts_both_ways) {
    /* [3,1] with shape [2,1,4]: rank grows, the 1 in `shape` keeps 3. */
    xb_test_graph tg;
    cr_assert_eq(build(&tg, XB_F32, 2, (int64_t[]){3, 1}, 3, (int64_t[]){2, 1, 4}), XB_OK, "%s",
                 tg.ctx.msg);
    const xb_shape *s = &tg.g->tensors[tg.g->outputs[0]].shape;
    cr_assert(s->rank == 3 && s->d[0] == 2 && s->d[1] == 3 && s->d[2] == 4);
    float x[3] = {1, 2, 3};
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    for (int i = 0; i < 24; i++) cr_assert_eq(y[i], x[(i / 4) % 3], "%d", i);
    xb_test_end(&tg);
    /* Smaller `shape` than the input, i64 data. */
    cr_assert_eq(build(&tg, XB_I64, 2, (int64_t[]){1, 2}, 1, (int64_t[]){1}), XB_OK);
    int64_t xi[2] = {7, -8};
    int64_t *yi = xb_test_run1(&tg, xi);
    cr_assert(yi[0] == 7 && yi[1] == -8);
    xb_test_end(&tg);
    /* Scalar to [2]. */
    cr_assert_eq(build(&tg, XB_U8, 0, NULL, 1, (int64_t[]){2}), XB_OK, "%s", tg.ctx.msg);
    uint8_t xu = 5;
    uint8_t *yu = xb_test_run1(&tg, &xu);
    cr_assert(yu[0] == 5 && yu[1] == 5);
    xb_test_end(&tg);
}

Test(expand, errors) {
    xb_test_graph tg;
    cr_assert_eq(build(&tg, XB_F32, 1, (int64_t[]){3}, 1, (int64_t[]){2}), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "broadcast"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    xb_test_begin(&tg);
    int in[2] = {xb_test_input(&tg, "x", XB_F32, 1, (int64_t[]){3}),
                 xb_test_input(&tg, "s", XB_I64, 1, (int64_t[]){1})};
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "Expand", 13, in, 2, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    cr_assert(strstr(tg.ctx.msg, "not constant"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}
