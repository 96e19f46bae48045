#include <criterion/criterion.h>

#include "kernels/broadcast.h"
#include "tests/test_util.h"

static xb_shape mk(int rank, const int64_t *d) {
    xb_shape s = {.rank = rank};
    for (int i = 0; i < rank; i++) s.d[i] = d[i];
    return s;
}

Test(broadcast, shape_rules) {
    xb_ctx ctx = {0};
    xb_shape out;
    int64_t a[] = {2, 3, 4}, b[] = {3, 1};
    xb_shape sa = mk(3, a), sb = mk(2, b);
    cr_assert_eq(xb_bcast_shape(&sa, &sb, &out, &ctx), XB_OK);
    cr_assert_eq(out.rank, 3);
    cr_assert(out.d[0] == 2 && out.d[1] == 3 && out.d[2] == 4);
    /* scalar (rank 0) with anything */
    xb_shape sc = mk(0, NULL);
    cr_assert_eq(xb_bcast_shape(&sc, &sa, &out, &ctx), XB_OK);
    cr_assert(xb_shape_eq(&out, &sa));
    /* 1 vs 0 -> 0 */
    int64_t z[] = {0, 1}, o[] = {1, 5};
    xb_shape sz = mk(2, z), so = mk(2, o);
    cr_assert_eq(xb_bcast_shape(&sz, &so, &out, &ctx), XB_OK);
    cr_assert(out.d[0] == 0 && out.d[1] == 5);
    /* trailing 4 vs 3 fails and names both shapes */
    int64_t c[] = {3};
    xb_shape scc = mk(1, c);
    cr_assert_eq(xb_bcast_shape(&sa, &scc, &out, &ctx), XB_ERR_INVALID);
    cr_assert(strstr(ctx.msg, "[2,3,4]") && strstr(ctx.msg, "[3]"), "%s", ctx.msg);
}

Test(broadcast, plan_collapses_common_cases) {
    int64_t a[] = {2, 3, 4, 5};
    xb_shape sa = mk(4, a);
    xb_bcast p;
    xb_bcast_plan(&sa, &sa, &p);
    cr_assert_eq(p.rank, 1);
    cr_assert_eq(p.d[0], 120);
    cr_assert(p.sa[0] == 1 && p.sb[0] == 1);
    int64_t one[] = {1};
    xb_shape s1 = mk(1, one);
    xb_bcast_plan(&sa, &s1, &p);
    cr_assert_eq(p.rank, 1);
    cr_assert(p.sa[0] == 1 && p.sb[0] == 0);
    int64_t ch[] = {3, 1, 1};
    xb_shape sch = mk(3, ch);
    xb_bcast_plan(&sa, &sch, &p);
    cr_assert_eq(p.rank, 3);
    cr_assert(p.d[0] == 2 && p.d[1] == 3 && p.d[2] == 20);
    cr_assert(p.sb[0] == 0 && p.sb[1] == 1 && p.sb[2] == 0);
    cr_assert_eq(p.n, 120);
}

/* Reference: index each operand from the full output coordinate. */
static int64_t ref_offset(const xb_shape *in, const xb_shape *out, int64_t flat) {
    int64_t off = 0, stride = 1;
    for (int k = out->rank - 1; k >= 0; k--) {
        int64_t c = flat % out->d[k];
        flat /= out->d[k];
        int ki = k - (out->rank - in->rank);
        if (ki < 0) continue;
        if (in->d[ki] != 1) off += c * stride;
        stride *= in->d[ki];
    }
    return off;
}

Test(broadcast, loop_matches_reference_on_many_shape_pairs) {
    static const struct {
        int ra, rb;
        int64_t a[4], b[4];
    } cases[] = {
        {3, 2, {2, 3, 4}, {3, 1}},       {2, 3, {3, 1}, {2, 3, 4}},
        {4, 3, {2, 3, 4, 5}, {3, 1, 1}}, {2, 2, {3, 1}, {1, 4}},
        {0, 3, {0}, {2, 3, 4}},          {3, 1, {2, 3, 4}, {1}},
        {3, 3, {2, 1, 4}, {1, 3, 1}},    {4, 4, {1, 3, 1, 5}, {2, 1, 4, 1}},
        {3, 3, {2, 3, 4}, {2, 3, 4}},    {1, 1, {5}, {5}},
        {3, 2, {1, 1, 6}, {6, 1}},       {4, 1, {2, 1, 3, 1}, {7}},
    };
    xb_ctx ctx = {0};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        xb_shape sa = mk(cases[c].ra, cases[c].a), sb = mk(cases[c].rb, cases[c].b), so;
        cr_assert_eq(xb_bcast_shape(&sa, &sb, &so, &ctx), XB_OK, "case %zu: %s", c, ctx.msg);
        xb_bcast p;
        xb_bcast_plan(&sa, &sb, &p);
        int64_t na = xb_shape_numel(&sa), nb = xb_shape_numel(&sb), no = xb_shape_numel(&so);
        cr_assert_eq(p.n, no);
        float A[256], B[256], Y[512];
        for (int64_t i = 0; i < na; i++) A[i] = (float)(i * 7 % 13) - 3.0f;
        for (int64_t i = 0; i < nb; i++) B[i] = (float)(i * 5 % 11) * 0.5f;
        XB_BCAST_LOOP(&p, float, A, B, Y, a * 10.0f + b);
        for (int64_t i = 0; i < no; i++) {
            float want = A[ref_offset(&sa, &so, i)] * 10.0f + B[ref_offset(&sb, &so, i)];
            cr_assert_float_eq(Y[i], want, 0.0f, "case %zu elem %lld", c, (long long)i);
        }
    }
}

/* Fuzz finding (fuzz_onnx_struct, session 6): [2^32, 1] against [1, 2^32]
 * broadcast to 2^64 elements and the plan's product overflowed; the shape
 * rule now refuses it.  An empty input whose other dims multiply past 2^63
 * ([0, 2^32, 2^32]) is legal and plans as empty, before any product. */
Test(broadcast, plan_of_empty_tensor_with_huge_dims) {
    int64_t a[] = {0, (int64_t)1 << 32, (int64_t)1 << 32}, b[] = {(int64_t)1 << 32, 1};
    xb_shape sa = mk(3, a), sb = mk(2, b), out;
    xb_ctx ctx = {0};
    cr_assert_eq(xb_bcast_shape(&sa, &sb, &out, &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_eq(out.d[0], 0);
    xb_bcast p;
    xb_bcast_plan(&sa, &sb, &p);
    cr_assert_eq(p.n, 0);
    xb_bcast_plan(&sb, &sa, &p);
    cr_assert_eq(p.n, 0);
    int64_t c[] = {(int64_t)1 << 32, 1}, d[] = {1, (int64_t)1 << 32};
    xb_shape sc = mk(2, c), sd = mk(2, d);
    cr_assert_eq(xb_bcast_shape(&sc, &sd, &out, &ctx), XB_ERR_INVALID);
    cr_assert(strstr(ctx.msg, "more than 2^63 elements"), "%s", ctx.msg);
}
