#include <criterion/criterion.h>
#include <stdlib.h>

#include "tests/test_util.h"

static uint64_t rng_next(uint64_t *s) {
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

Test(matmul_integer, onnx_example) {
    uint8_t A[12] = {11, 7, 3, 10, 6, 2, 9, 5, 1, 8, 4, 0}, B[6] = {1, 4, 2, 5, 3, 6};
    uint8_t az = 12, bz = 0;
    int32_t want[8] = {-38, -83, -44, -98, -50, -113, -56, -128};
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t ad[2] = {4, 3}, bd[2] = {3, 2}, one[1] = {1};
    int in[4] = {xb_test_input(&tg, "A", XB_U8, 2, ad), xb_test_input(&tg, "B", XB_U8, 2, bd),
                 xb_test_input(&tg, "az", XB_U8, 1, one), xb_test_input(&tg, "bz", XB_U8, 1, one)};
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "MatMulInteger", 10, in, 4, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    const void *ins[4] = {A, B, &az, &bz};
    int32_t *out = xb_test_run(&tg, ins, 0);
    cr_assert_not_null(out, "%s", tg.ctx.msg);
    for (int i = 0; i < 8; i++) cr_assert_eq(out[i], want[i], "i=%d: %d", i, out[i]);
    xb_test_end(&tg);
}

Test(matmul_integer, random_broadcast_per_row_and_column) {
    /* A i8 [2,1,5,70] x B u8 [3,70,9]: batch broadcasts to [2,3]; a zero
     * point per row ([5,1]), b per column ([9]). */
    const int64_t M = 5, K = 70, N = 9;
    uint64_t seed = 3;
    uint8_t A[2 * 5 * 70], B[3 * 70 * 9], az[5], bz[9];
    for (size_t i = 0; i < sizeof A; i++) A[i] = (uint8_t)rng_next(&seed);
    for (size_t i = 0; i < sizeof B; i++) B[i] = (uint8_t)rng_next(&seed);
    for (int i = 0; i < 5; i++) az[i] = (uint8_t)rng_next(&seed);
    for (int i = 0; i < 9; i++) bz[i] = (uint8_t)rng_next(&seed);
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t ad[4] = {2, 1, 5, 70}, bd[3] = {3, 70, 9}, azd[2] = {5, 1}, bzd[1] = {9};
    int in[4] = {xb_test_input(&tg, "A", XB_I8, 4, ad), xb_test_const(&tg, "B", XB_U8, 3, bd, B),
                 xb_test_const(&tg, "az", XB_I8, 2, azd, az), xb_test_const(&tg, "bz", XB_U8, 1, bzd, bz)};
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "MatMulInteger", 10, in, 4, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    const xb_shape *ys = &tg.g->tensors[y].shape;
    cr_assert_eq(ys->rank, 4);
    cr_assert_eq(ys->d[0], 2);
    cr_assert_eq(ys->d[1], 3);
    cr_assert_eq(ys->d[2], 5);
    cr_assert_eq(ys->d[3], 9);
    int32_t *out = xb_test_run1(&tg, A);
    cr_assert_not_null(out, "%s", tg.ctx.msg);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int m = 0; m < M; m++)
                for (int n = 0; n < N; n++) {
                    int64_t acc = 0;
                    for (int k = 0; k < K; k++)
                        acc += ((int64_t)(int8_t)A[(i * M + m) * K + k] - (int8_t)az[m]) *
                               ((int64_t)B[(j * K + k) * N + n] - bz[n]);
                    cr_assert_eq(out[((i * 3 + j) * M + m) * N + n], (int32_t)acc);
                }
    xb_test_end(&tg);
}

Test(matmul_integer, vector_operands) {
    /* 1-D A [K] times 2-D B [K,N] gives [N]; 2-D A times 1-D B gives [M]. */
    uint8_t a[3] = {1, 2, 3}, B[6] = {1, 2, 3, 4, 5, 6};
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t ad[1] = {3}, bd[2] = {3, 2};
    int in[2] = {xb_test_input(&tg, "a", XB_U8, 1, ad), xb_test_const(&tg, "B", XB_U8, 2, bd, B)};
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "MatMulInteger", 10, in, 2, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(tg.g->tensors[y].shape.rank, 1);
    int32_t *out = xb_test_run1(&tg, a);
    cr_assert_not_null(out, "%s", tg.ctx.msg);
    cr_assert_eq(out[0], 1 * 1 + 2 * 3 + 3 * 5);
    cr_assert_eq(out[1], 1 * 2 + 2 * 4 + 3 * 6);
    xb_test_end(&tg);

    xb_test_begin(&tg);
    int64_t a2[2] = {2, 3}, b1[1] = {3};
    int in2[2] = {xb_test_input(&tg, "a", XB_U8, 2, a2), xb_test_const(&tg, "b", XB_U8, 1, b1, a)};
    y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "MatMulInteger", 10, in2, 2, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(tg.g->tensors[y].shape.rank, 1);
    cr_assert_eq(tg.g->tensors[y].shape.d[0], 2);
    out = xb_test_run1(&tg, B);
    cr_assert_not_null(out, "%s", tg.ctx.msg);
    cr_assert_eq(out[0], 1 + 4 + 9);
    cr_assert_eq(out[1], 4 + 10 + 18);
    xb_test_end(&tg);
}

Test(matmul_integer, rejects_k_mismatch) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t ad[2] = {2, 3}, bd[2] = {4, 2};
    int in[2] = {xb_test_input(&tg, "a", XB_U8, 2, ad), xb_test_input(&tg, "b", XB_U8, 2, bd)};
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "MatMulInteger", 10, in, 2, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "agree on K") != NULL, "%s", tg.ctx.msg);
    xb_test_end(&tg);
}

/* Fuzz finding 11: batch dimension 0 against an unbatched B is an empty
 * batch (numpy: 1 against 0 gives 0), not one batch read from A's empty
 * buffer; the same with the zero on B's side. */
Test(matmul_integer, batch_zero_is_empty) {
    uint8_t one[1] = {0}, B[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t ad[3] = {0, 1, 3}, bd[2] = {3, 3};
    int in[2] = {xb_test_input(&tg, "A", XB_U8, 3, ad), xb_test_const(&tg, "B", XB_U8, 2, bd, B)};
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "MatMulInteger", 10, in, 2, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    const xb_shape *ys = &tg.g->tensors[y].shape;
    cr_assert_eq(ys->rank, 3);
    cr_assert_eq(ys->d[0], 0);
    cr_assert_not_null(xb_test_run1(&tg, one), "%s", tg.ctx.msg);
    xb_test_end(&tg);

    xb_test_begin(&tg);
    int64_t a2[3] = {1, 2, 3}, b2[3] = {0, 3, 2};
    int in2[2] = {xb_test_input(&tg, "A", XB_U8, 3, a2), xb_test_input(&tg, "B", XB_U8, 3, b2)};
    y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "MatMulInteger", 10, in2, 2, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(tg.g->tensors[y].shape.d[0], 0);
    const void *ins[2] = {B, one};
    cr_assert_not_null(xb_test_run(&tg, ins, 0), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}
