/* Activation memory planning (runtime/exec.c): shared blocks by lifetime,
 * same results as one buffer per tensor. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "tests/test_util.h"

/* x -> Relu ("side") -> a chain of `len` Add(t, c) nodes, then y = chain + side
 * (so one early tensor stays live to the end). */
static void build_chain(xb_test_graph *tg, int len) {
    xb_test_begin(tg);
    int64_t d[] = {1, 64};
    float one[64];
    for (int i = 0; i < 64; i++) one[i] = 0.5f;
    int x = xb_test_input(tg, "x", XB_F32, 2, d);
    int c = xb_test_const(tg, "c", XB_F32, 2, d, one);
    int side = xb_test_tensor(tg, "side");
    xb_test_node(tg, "Relu", 13, &x, 1, &side, 1);
    int prev = side;
    char name[32];
    for (int i = 0; i < len; i++) {
        snprintf(name, sizeof name, "t%d", i);
        int t = xb_test_tensor(tg, name);
        int in[2] = {prev, c};
        xb_test_node(tg, "Add", 13, in, 2, &t, 1);
        prev = t;
    }
    int y = xb_test_tensor(tg, "y");
    int in[2] = {prev, side};
    xb_test_node(tg, "Add", 13, in, 2, &y, 1);
    xb_test_output(tg, y);
}

Test(exec, chain_shares_blocks_and_matches_private_buffers) {
    xb_test_graph tg;
    build_chain(&tg, 200);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    xb_exec *shared = xb_exec_new(tg.g, &tg.ctx), *keep = xb_exec_new_keep(tg.g, &tg.ctx);
    cr_assert(shared && keep, "%s", tg.ctx.msg);
    /* x, side (live to the end) and two alternating chain tensors; the
     * output may take x's block once x is dead. */
    cr_assert_leq(shared->n_blocks, 4, "%d blocks", shared->n_blocks);
    cr_assert_eq(keep->n_blocks, 202 + 1);
    float xin[64];
    for (int i = 0; i < 64; i++) xin[i] = (float)(i - 32) / 8.0f;
    xb_exec *es[2] = {shared, keep};
    for (int k = 0; k < 2; k++) {
        memcpy(es[k]->buf[tg.g->inputs[0]], xin, sizeof xin);
        cr_assert_eq(xb_exec_run(es[k], &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    }
    const float *a = shared->buf[tg.g->outputs[0]], *b = keep->buf[tg.g->outputs[0]];
    for (int i = 0; i < 64; i++) {
        float want = 2.0f * (xin[i] > 0 ? xin[i] : 0.0f) + 100.0f;
        cr_assert_float_eq(a[i], want, 1e-4f, "y[%d] = %g, want %g", i, (double)a[i], (double)want);
        cr_assert_eq(a[i], b[i]);
    }
    /* A node's inputs and outputs never share memory. */
    for (int i = 0; i < tg.g->n_nodes; i++) {
        const xb_node *n = &tg.g->nodes[i];
        for (int j = 0; j < n->n_in; j++)
            for (int o = 0; o < n->n_out; o++)
                cr_assert_neq(shared->buf[n->in[j]], shared->buf[n->out[o]], "node %d", i);
    }
    xb_exec_free(shared);
    xb_exec_free(keep);
    xb_test_end(&tg);
}
