/* Graph toposort: any listing order of a valid graph sorts, in time that
 * does not grow with the square of the node count, and the order an
 * exporter wrote is kept when it is already valid. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "tests/test_util.h"

/* x -> Relu -> t0 -> Relu ... -> t[n-1], listed last node first. */
static void chain(xb_test_graph *tg, int n, bool reversed, int *t) {
    xb_test_begin(tg);
    int64_t d[] = {2};
    int x = xb_test_input(tg, "x", XB_F32, 1, d);
    for (int i = 0; i < n; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "t%d", i);
        t[i] = xb_test_tensor(tg, nm);
    }
    for (int k = 0; k < n; k++) {
        int i = reversed ? n - 1 - k : k;
        xb_test_node(tg, "Relu", 13, i ? &t[i - 1] : &x, 1, &t[i], 1);
    }
    xb_test_output(tg, t[n - 1]);
}

Test(ir, toposort_reversed_long_chain) {
    enum { N = 20000 };
    static int t[N];
    xb_test_graph tg;
    chain(&tg, N, true, t);
    cr_assert_eq(xb_graph_toposort(tg.g, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(tg.g->nodes[i].out[0], t[i], "node %d", i);
        cr_assert_eq(tg.g->tensors[t[i]].producer, i);
    }
    xb_test_end(&tg);
}

Test(ir, toposort_keeps_valid_order) {
    /* Two independent branches x->a->b and x->c: a valid listing c, a, b
     * must stay c, a, b (not regrouped by depth). */
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t d[] = {2};
    int x = xb_test_input(&tg, "x", XB_F32, 1, d);
    int a = xb_test_tensor(&tg, "a"), b = xb_test_tensor(&tg, "b"), c = xb_test_tensor(&tg, "c");
    xb_test_node(&tg, "Relu", 13, &x, 1, &c, 1);
    xb_test_node(&tg, "Relu", 13, &x, 1, &a, 1);
    xb_test_node(&tg, "Relu", 13, &a, 1, &b, 1);
    xb_test_output(&tg, b);
    xb_test_output(&tg, c);
    cr_assert_eq(xb_graph_toposort(tg.g, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(tg.g->nodes[0].out[0], c);
    cr_assert_eq(tg.g->nodes[1].out[0], a);
    cr_assert_eq(tg.g->nodes[2].out[0], b);
    xb_test_end(&tg);
}

Test(ir, toposort_names_cycle_and_undefined_input) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t d[] = {2};
    int x = xb_test_input(&tg, "x", XB_F32, 1, d);
    int a = xb_test_tensor(&tg, "a"), b = xb_test_tensor(&tg, "b");
    int ab[2] = {x, b};
    xb_test_node(&tg, "Add", 13, ab, 2, &a, 1);
    xb_test_node(&tg, "Relu", 13, &a, 1, &b, 1);
    xb_test_output(&tg, b);
    cr_assert_eq(xb_graph_toposort(tg.g, &tg.ctx), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "cycle through tensor 'b'"), "%s", tg.ctx.msg);
    xb_test_end(&tg);

    xb_test_begin(&tg);
    x = xb_test_input(&tg, "x", XB_F32, 1, d);
    int u = xb_test_tensor(&tg, "u");
    a = xb_test_tensor(&tg, "a");
    int xu[2] = {x, u};
    xb_test_node(&tg, "Add", 13, xu, 2, &a, 1);
    xb_test_output(&tg, a);
    cr_assert_eq(xb_graph_toposort(tg.g, &tg.ctx), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "undefined tensor 'u'"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}
