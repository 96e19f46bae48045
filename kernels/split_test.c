#include <criterion/criterion.h>

#include "tests/test_util.h"

/* x [2,6] split along `axis` into n_out outputs; sizes (ns < 0: none) as the
 * attribute before opset 13 and as an input from 13. */
static xb_status build(xb_test_graph *tg, int opset, int axis, int n_out, int ns,
                       const int64_t *sizes) {
    xb_test_begin(tg);
    int in[2] = {xb_test_input(tg, "x", XB_F32, 2, (int64_t[]){2, 6}), -1};
    if (opset >= 13 && ns >= 0)
        in[1] = xb_test_const(tg, "split", XB_I64, 1, (int64_t[]){ns}, sizes);
    int out[4];
    for (int i = 0; i < n_out; i++) {
        char nm[8] = {'y', (char)('0' + i), 0};
        out[i] = xb_test_tensor(tg, nm);
    }
    int nd = xb_test_node(tg, "Split", opset, in, in[1] >= 0 ? 2 : 1, out, n_out);
    xb_test_attr_int(tg, nd, "axis", axis);
    if (opset < 13 && ns >= 0) xb_test_attr_ints(tg, nd, "split", ns, sizes);
    for (int i = 0; i < n_out; i++) xb_test_output(tg, out[i]);
    return xb_test_prepare(tg);
}

static float x[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};

Test(split, attribute_input_and_equal_forms) {
    const int64_t sizes[3] = {1, 0, 5};
    for (int form = 0; form < 3; form++) {
        xb_test_graph tg;
        int opset = form == 0 ? 11 : 13;
        cr_assert_eq(build(&tg, opset, -1, 3, form == 2 ? -1 : 3, sizes), XB_OK, "%s", tg.ctx.msg);
        const int64_t *len = form == 2 ? (const int64_t[]){2, 2, 2} : sizes;
        float *y0 = xb_test_run1(&tg, x);
        cr_assert_not_null(y0, "%s", tg.ctx.msg);
        int64_t start = 0;
        for (int k = 0; k < 3; k++) {
            const xb_tensor *t = &tg.g->tensors[tg.g->outputs[k]];
            cr_assert(t->shape.d[0] == 2 && t->shape.d[1] == len[k]);
            const float *y = tg.e->buf[tg.g->outputs[k]];
            for (int r = 0; r < 2; r++)
                for (int64_t c = 0; c < len[k]; c++)
                    cr_assert_eq(y[r * len[k] + c], x[r * 6 + start + c]);
            start += len[k];
        }
        xb_test_end(&tg);
    }
}

Test(split, errors) {
    xb_test_graph tg;
    cr_assert_eq(build(&tg, 13, 1, 4, -1, NULL), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "equal parts"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    cr_assert_eq(build(&tg, 13, 1, 2, 2, (int64_t[]){2, 3}), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "sum to 5"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    cr_assert_eq(build(&tg, 11, 0, 3, 2, (int64_t[]){1, 1}), XB_ERR_INVALID);
    xb_test_end(&tg);
}
