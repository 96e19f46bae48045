#include <criterion/criterion.h>

#include "tests/test_util.h"

static xb_status build(xb_test_graph *tg, xb_dtype dt, int rank, const int64_t *dims, int n,
                       const int64_t *rep) {
    xb_test_begin(tg);
    int in[2] = {xb_test_input(tg, "x", dt, rank, dims),
                 xb_test_const(tg, "repeats", XB_I64, 1, (int64_t[]){n}, rep)};
    int y = xb_test_tensor(tg, "y");
    xb_test_node(tg, "Tile", 13, in, 2, &y, 1);
    xb_test_output(tg, y);
    return xb_test_prepare(tg);
}

Test(tile, matches_numpy_tile) {
    /* [2,3] tiled (2,3) -> [4,9]: y[i][j] = x[i % 2][j % 3]. */
    xb_test_graph tg;
    cr_assert_eq(build(&tg, XB_F32, 2, (int64_t[]){2, 3}, 2, (int64_t[]){2, 3}), XB_OK, "%s",
                 tg.ctx.msg);
    const xb_shape *s = &tg.g->tensors[tg.g->outputs[0]].shape;
    cr_assert(s->rank == 2 && s->d[0] == 4 && s->d[1] == 9);
    float x[6] = {1, 2, 3, 4, 5, 6};
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 9; j++) cr_assert_eq(y[i * 9 + j], x[(i % 2) * 3 + j % 3]);
    xb_test_end(&tg);
    /* Rank 3, one-byte elements, a repeat of 1 in the middle. */
    cr_assert_eq(build(&tg, XB_I8, 3, (int64_t[]){2, 2, 1}, 3, (int64_t[]){2, 1, 3}), XB_OK);
    int8_t xi[4] = {1, 2, 3, 4};
    int8_t *yi = xb_test_run1(&tg, xi);
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 2; b++)
            for (int c = 0; c < 3; c++) cr_assert_eq(yi[(a * 2 + b) * 3 + c], xi[(a % 2) * 2 + b]);
    xb_test_end(&tg);
    /* A zero repeat gives an empty output. */
    cr_assert_eq(build(&tg, XB_F32, 1, (int64_t[]){3}, 1, (int64_t[]){0}), XB_OK);
    cr_assert_eq(tg.g->tensors[tg.g->outputs[0]].shape.d[0], 0);
    xb_test_end(&tg);
}

Test(tile, errors) {
    xb_test_graph tg;
    cr_assert_eq(build(&tg, XB_F32, 2, (int64_t[]){2, 3}, 1, (int64_t[]){2}), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "rank"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    cr_assert_eq(build(&tg, XB_F32, 1, (int64_t[]){3}, 1, (int64_t[]){-1}), XB_ERR_INVALID);
    xb_test_end(&tg);
}
