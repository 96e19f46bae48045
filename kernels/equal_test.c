#include <criterion/criterion.h>
#include <math.h>

#include "tests/bcast_ref.h"
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

static uint8_t *run2(xb_test_graph *tg, const void *a, const void *b) {
    const void *in[2] = {a, b};
    uint8_t *y = xb_test_run(tg, in, 0);
    cr_assert_not_null(y, "%s", tg->ctx.msg);
    return y;
}

/* Equal, Less and Greater on random small integers in f32 against the
 * naive broadcast reference. */
Test(compare, random_broadcast_f32) {
    const char *ops[3] = {"Equal", "Less", "Greater"};
    uint32_t seed = 5;
    for (int trial = 0; trial < 30; trial++) {
        xb_shape so = {.rank = 1 + (int)(xb_ref_rand(&seed) % 4)}, sa, sb;
        for (int k = 0; k < so.rank; k++) so.d[k] = 1 + xb_ref_rand(&seed) % 3;
        xb_shape *s2[2] = {&sa, &sb};
        for (int j = 0; j < 2; j++) {
            s2[j]->rank = (int)(xb_ref_rand(&seed) % (unsigned)(so.rank + 1));
            for (int k = 0; k < s2[j]->rank; k++) {
                s2[j]->d[k] = so.d[so.rank - s2[j]->rank + k];
                if (xb_ref_rand(&seed) % 3 == 0) s2[j]->d[k] = 1;
            }
        }
        const char *op = ops[trial % 3];
        xb_test_graph tg;
        cr_assert_eq(build(&tg, op, 13, XB_F32, sa.rank, sa.d, sb.rank, sb.d), XB_OK, "%s",
                     tg.ctx.msg);
        const xb_tensor *yt = &tg.g->tensors[tg.g->outputs[0]];
        cr_assert_eq(yt->dtype, XB_BOOL);
        float a[128], b[128];
        for (int64_t i = 0; i < xb_shape_numel(&sa); i++) a[i] = (float)(xb_ref_rand(&seed) % 3);
        for (int64_t i = 0; i < xb_shape_numel(&sb); i++) b[i] = (float)(xb_ref_rand(&seed) % 3);
        uint8_t *y = run2(&tg, a, b);
        for (int64_t i = 0; i < xb_shape_numel(&yt->shape); i++) {
            float va = a[xb_ref_bcast_index(&yt->shape, &sa, i)];
            float vb = b[xb_ref_bcast_index(&yt->shape, &sb, i)];
            int ref = trial % 3 == 0 ? va == vb : trial % 3 == 1 ? va < vb : va > vb;
            cr_assert_eq(y[i], ref, "%s trial %d at %lld", op, trial, (long long)i);
        }
        xb_test_end(&tg);
    }
}

Test(equal, nan_ints_and_bool) {
    xb_test_graph tg;
    int64_t d[] = {3};
    cr_assert_eq(build(&tg, "Equal", 11, XB_F32, 1, d, 1, d), XB_OK, "%s", tg.ctx.msg);
    float a[3] = {NAN, 1.0f, -0.0f}, b[3] = {NAN, 1.0f, 0.0f};
    uint8_t *y = run2(&tg, a, b);
    cr_assert_eq(y[0], 0);
    cr_assert_eq(y[1], 1);
    cr_assert_eq(y[2], 1);
    xb_test_end(&tg);
    cr_assert_eq(build(&tg, "Equal", 7, XB_I64, 1, d, 0, NULL), XB_OK, "%s", tg.ctx.msg);
    int64_t ai[3] = {4, INT64_MIN, 4}, bi = 4;
    y = run2(&tg, ai, &bi);
    cr_assert_eq(y[0], 1);
    cr_assert_eq(y[1], 0);
    cr_assert_eq(y[2], 1);
    xb_test_end(&tg);
    cr_assert_eq(build(&tg, "Equal", 7, XB_BOOL, 1, d, 1, d), XB_OK, "%s", tg.ctx.msg);
    uint8_t ab[3] = {1, 0, 1}, bb[3] = {1, 0, 0};
    y = run2(&tg, ab, bb);
    cr_assert_eq(y[0], 1);
    cr_assert_eq(y[1], 1);
    cr_assert_eq(y[2], 0);
    xb_test_end(&tg);
}

Test(equal, float_needs_opset_11) {
    xb_test_graph tg;
    int64_t d[] = {2};
    cr_assert_eq(build(&tg, "Equal", 10, XB_F32, 1, d, 1, d), XB_ERR_UNSUPPORTED);
    cr_assert(strstr(tg.ctx.msg, "opset 10"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}
