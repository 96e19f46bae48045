/* Activation memory planning (runtime/exec.c): shared blocks by lifetime,
 * same results as one buffer per tensor. */
#include <criterion/criterion.h>
#include <stdint.h>
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

/* Every activation buffer starts on a cache line (block_alloc), shared or
 * kept, so the conv tiles' 64-byte row loads and stores do not split. */
Test(exec, activation_buffers_start_on_a_cache_line) {
    xb_test_graph tg;
    build_chain(&tg, 8);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    xb_exec *es[2] = {xb_exec_new(tg.g, &tg.ctx), xb_exec_new_keep(tg.g, &tg.ctx)};
    cr_assert(es[0] && es[1], "%s", tg.ctx.msg);
    for (int k = 0; k < 2; k++) {
        for (int t = 0; t < tg.g->n_tensors; t++)
            if (!tg.g->tensors[t].is_const && es[k]->buf[t])
                cr_assert_eq((uintptr_t)es[k]->buf[t] % 64, 0, "exec %d tensor %d", k, t);
        cr_assert_eq((uintptr_t)es[k]->scratch % 64, 0, "exec %d scratch", k);
        xb_exec_free(es[k]);
    }
    xb_test_end(&tg);
}

/* Keep-plan bytes: one buffer per activation plus the largest scratch. */
Test(exec, keep_plan_bytes_count_every_activation) {
    xb_test_graph tg;
    build_chain(&tg, 8);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    size_t keep = 0, shared = 0, scratch = 0;
    cr_assert_eq(xb_exec_plan_bytes_keep(tg.g, &keep, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(xb_exec_plan_bytes(tg.g, &shared, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    for (int i = 0; i < tg.g->n_nodes; i++)
        if (tg.g->nodes[i].scratch_bytes > scratch) scratch = tg.g->nodes[i].scratch_bytes;
    /* x, side, t0..t7, y: 11 activations of 64 floats, each in its own
     * block with the alignment slack */
    cr_assert_eq(keep, 11 * (64 * sizeof(float) + XB_EXEC_BLOCK_SLACK) + scratch + XB_EXEC_BLOCK_SLACK,
                 "%zu", keep);
    cr_assert_lt(shared, keep);
    xb_test_end(&tg);
}

/* Delta runs (exec.h): only the changed node and what reads a changed value
 * are recomputed, and the values are those of a full run. */
Test(exec, delta_reruns_only_what_changed) {
    xb_test_graph tg;
    build_chain(&tg, 8); /* node 0: side = Relu(x); nodes 1..8: t0..t7; node 9: y */
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(tg.g->n_nodes, 10);
    const xb_graph *g = tg.g;
    xb_exec *base = xb_exec_new_keep(g, &tg.ctx), *full = xb_exec_new(g, &tg.ctx);
    cr_assert(base && full, "%s", tg.ctx.msg);
    xb_ctx c2 = {0};
    cr_assert_null(xb_exec_delta_new(full, &c2), "a shared exec keeps no values");
    cr_assert_eq(c2.status, XB_ERR_INVALID);
    xb_exec_delta *d = xb_exec_delta_new(base, &tg.ctx);
    cr_assert(d, "%s", tg.ctx.msg);
    float xin[64];
    for (int i = 0; i < 64; i++) xin[i] = (float)(i - 32) / 8.0f;
    memcpy(base->buf[g->inputs[0]], xin, sizeof xin);
    memcpy(full->buf[g->inputs[0]], xin, sizeof xin);
    cr_assert_eq(xb_exec_run(base, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(xb_exec_run(full, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    int y = g->outputs[0], t3 = g->nodes[4].out[0], side = g->nodes[0].out[0];
    /* Recomputed to the same bytes: nothing downstream runs. */
    cr_assert_eq(xb_exec_delta_run(d, 4, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(d->nodes_run, 1);
    cr_assert_eq(d->e->buf[y], base->buf[y]);
    cr_assert_eq(d->e->buf[t3], base->buf[t3], "an equal value is read from base");
    /* Base as if its node 4 had computed otherwise (t3 and what follows):
     * the delta's node 4 now differs, so t4..t7 and y are recomputed (6
     * nodes) and y is a full run's; side (node 0) is still base's. */
    ((float *)base->buf[t3])[5] += 1.0f;
    cr_assert_eq(xb_exec_run_range(base, 5, 10, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(xb_exec_delta_run(d, 4, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(d->nodes_run, 6);
    cr_assert(d->dirty[t3] && d->dirty[y]);
    cr_assert(!d->dirty[side]);
    cr_assert_eq(d->e->buf[side], base->buf[side]);
    cr_assert_neq(d->e->buf[y], base->buf[y]);
    cr_assert_eq(memcmp(d->e->buf[y], full->buf[y], sizeof xin), 0);
    /* The last node alone: only y. */
    cr_assert_eq(xb_exec_run(base, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    ((float *)base->buf[y])[0] += 1.0f;
    cr_assert_eq(xb_exec_delta_run(d, 9, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(d->nodes_run, 1);
    cr_assert(d->dirty[y] && !d->dirty[t3], "each run starts from base");
    cr_assert_eq(memcmp(d->e->buf[y], full->buf[y], sizeof xin), 0);
    cr_assert_eq(xb_exec_delta_run(d, 10, &c2), XB_ERR_INVALID);
    xb_exec_delta_free(d);
    xb_exec_free(base);
    xb_exec_free(full);
    xb_test_end(&tg);
}
