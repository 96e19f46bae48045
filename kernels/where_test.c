#include <criterion/criterion.h>

#include "tests/bcast_ref.h"
#include "tests/test_util.h"

static xb_status build(xb_test_graph *tg, xb_dtype tc, xb_dtype dt, const xb_shape *s) {
    xb_test_begin(tg);
    int in[3] = {xb_test_input(tg, "c", tc, s[0].rank, s[0].d),
                 xb_test_input(tg, "x", dt, s[1].rank, s[1].d),
                 xb_test_input(tg, "y", dt, s[2].rank, s[2].d)};
    int o = xb_test_tensor(tg, "o");
    xb_test_node(tg, "Where", 16, in, 3, &o, 1);
    xb_test_output(tg, o);
    return xb_test_prepare(tg);
}

/* Three-way broadcasting against the naive reference, for 1-, 4- and
 * 8-byte element types. */
Test(where, random_broadcast) {
    const xb_dtype types[3] = {XB_F32, XB_I64, XB_U8};
    uint32_t seed = 13;
    for (int trial = 0; trial < 45; trial++) {
        xb_dtype dt = types[trial % 3];
        size_t es = xb_dtype_size(dt);
        xb_shape so = {.rank = (int)(xb_ref_rand(&seed) % 5)}, s[3];
        for (int k = 0; k < so.rank; k++) so.d[k] = 1 + xb_ref_rand(&seed) % 3;
        for (int j = 0; j < 3; j++) {
            s[j].rank = (int)(xb_ref_rand(&seed) % (unsigned)(so.rank + 1));
            for (int k = 0; k < s[j].rank; k++) {
                s[j].d[k] = so.d[so.rank - s[j].rank + k];
                if (xb_ref_rand(&seed) % 3 == 0) s[j].d[k] = 1;
            }
        }
        xb_test_graph tg;
        cr_assert_eq(build(&tg, XB_BOOL, dt, s), XB_OK, "%s", tg.ctx.msg);
        const xb_tensor *ot = &tg.g->tensors[tg.g->outputs[0]];
        cr_assert_eq(ot->dtype, dt);
        uint8_t c[128], x[128 * 8], y[128 * 8];
        for (int64_t i = 0; i < xb_shape_numel(&s[0]); i++) c[i] = (uint8_t)(xb_ref_rand(&seed) % 2);
        for (size_t i = 0; i < sizeof x; i++) {
            x[i] = (uint8_t)xb_ref_rand(&seed);
            y[i] = (uint8_t)xb_ref_rand(&seed);
        }
        const void *in[3] = {c, x, y};
        uint8_t *o = xb_test_run(&tg, in, 0);
        cr_assert_not_null(o, "%s", tg.ctx.msg);
        for (int64_t i = 0; i < xb_shape_numel(&ot->shape); i++) {
            int cv = c[xb_ref_bcast_index(&ot->shape, &s[0], i)];
            const uint8_t *src = cv ? x + es * (size_t)xb_ref_bcast_index(&ot->shape, &s[1], i)
                                    : y + es * (size_t)xb_ref_bcast_index(&ot->shape, &s[2], i);
            cr_assert(!memcmp(o + es * (size_t)i, src, es), "trial %d at %lld", trial, (long long)i);
        }
        xb_test_end(&tg);
    }
}

Test(where, nonzero_condition_bytes_are_true) {
    xb_test_graph tg;
    xb_shape s[3] = {{1, {3}}, {1, {3}}, {0, {0}}};
    cr_assert_eq(build(&tg, XB_BOOL, XB_F32, s), XB_OK, "%s", tg.ctx.msg);
    uint8_t c[3] = {0, 1, 9};
    float x[3] = {1, 2, 3}, y = -1;
    const void *in[3] = {c, x, &y};
    float *o = xb_test_run(&tg, in, 0);
    cr_assert_not_null(o, "%s", tg.ctx.msg);
    cr_assert_float_eq(o[0], -1.0f, 0.0f);
    cr_assert_float_eq(o[1], 2.0f, 0.0f);
    cr_assert_float_eq(o[2], 3.0f, 0.0f);
    xb_test_end(&tg);
}

Test(where, errors) {
    xb_test_graph tg;
    xb_shape s[3] = {{1, {3}}, {1, {3}}, {1, {3}}};
    cr_assert_eq(build(&tg, XB_F32, XB_F32, s), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "bool"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    xb_shape bad[3] = {{1, {3}}, {1, {2}}, {1, {3}}};
    cr_assert_eq(build(&tg, XB_BOOL, XB_F32, bad), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "broadcast"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    /* X and Y types differ */
    xb_test_begin(&tg);
    int64_t d[] = {2};
    int in[3] = {xb_test_input(&tg, "c", XB_BOOL, 1, d), xb_test_input(&tg, "x", XB_F32, 1, d),
                 xb_test_input(&tg, "y", XB_I32, 1, d)};
    int o = xb_test_tensor(&tg, "o");
    xb_test_node(&tg, "Where", 9, in, 3, &o, 1);
    xb_test_output(&tg, o);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "differ"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}
