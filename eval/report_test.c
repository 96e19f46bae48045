/* Layer statistics, tables, argument parsing. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "eval/report.h"
#include "tests/test_util.h"

Test(report, layer_stats_conv_gemm_matmul) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t xd[4] = {1, 4, 5, 5}, wd[4] = {6, 2, 3, 3}, bd[1] = {6};
    float w[108] = {0}, b[6] = {0}, m[7 * 3] = {0};
    int x = xb_test_input(&tg, "x", XB_F32, 4, xd);
    int wt = xb_test_const(&tg, "w", XB_F32, 4, wd, w);
    int bt = xb_test_const(&tg, "b", XB_F32, 1, bd, b);
    int y = xb_test_tensor(&tg, "y");
    int cin[3] = {x, wt, bt};
    int c = xb_test_node(&tg, "Conv", 13, cin, 3, &y, 1);
    xb_test_attr_int(&tg, c, "group", 2);
    int64_t pads[4] = {1, 1, 1, 1};
    xb_test_attr_ints(&tg, c, "pads", 4, pads);
    /* [1,6,5,5] -> Flatten [1,150] -> Gemm [1,7] -> MatMul [1,3] */
    int f = xb_test_tensor(&tg, "f");
    xb_test_node(&tg, "Flatten", 13, &y, 1, &f, 1);
    int64_t gd[2] = {150, 7};
    float *gw = calloc(150 * 7, sizeof(float));
    int gt = xb_test_const(&tg, "gw", XB_F32, 2, gd, gw);
    free(gw);
    int h = xb_test_tensor(&tg, "h");
    int gin[2] = {f, gt};
    xb_test_node(&tg, "Gemm", 13, gin, 2, &h, 1);
    int64_t md[2] = {7, 3};
    int mt = xb_test_const(&tg, "mw", XB_F32, 2, md, m);
    int o = xb_test_tensor(&tg, "o");
    int min[2] = {h, mt};
    xb_test_node(&tg, "MatMul", 13, min, 2, &o, 1);
    xb_test_output(&tg, o);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    xb_layer_stat *ls;
    int n;
    cr_assert_eq(xb_layer_stats(tg.g, &ls, &n, &tg.ctx), XB_OK);
    cr_assert_eq(n, 4);
    /* Conv: per group K = 2*3*3, N = 6/2; MACs = 6*5*5 outputs x 18 */
    cr_assert(ls[0].matrix);
    cr_assert_eq(ls[0].K, 18);
    cr_assert_eq(ls[0].N, 3);
    cr_assert_eq(ls[0].groups, 2);
    cr_assert_eq(ls[0].macs, 6 * 25 * 18);
    cr_assert_eq(ls[0].params, 108 + 6);
    cr_assert_not(ls[1].matrix);
    cr_assert_eq(ls[1].params, 0);
    cr_assert_eq(ls[2].K, 150);
    cr_assert_eq(ls[2].N, 7);
    cr_assert_eq(ls[2].macs, 1050);
    cr_assert_eq(ls[2].params, 1050);
    cr_assert_eq(ls[3].K, 7);
    cr_assert_eq(ls[3].N, 3);
    cr_assert_eq(ls[3].macs, 21);
    cr_assert_eq(xb_graph_count_quantized(tg.g), 0);
    free(ls);
    xb_test_end(&tg);
}

Test(report, table_alignment) {
    static const char *heads[] = {"name", ">n", "last"};
    xb_table t;
    xb_table_init(&t, 3, heads);
    xb_table_row(&t);
    xb_table_cell(&t, "a");
    xb_table_cell(&t, "%d", 12345);
    xb_table_cell(&t, "x");
    xb_table_row(&t);
    xb_table_cell(&t, "longer");
    xb_table_cell(&t, "%d", 7);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    xb_table_print(&t, f, "> ");
    fclose(f);
    cr_assert_str_eq(buf, "> name        n  last\n"
                          "> a       12345  x\n"
                          "> longer      7\n");
    free(buf);
    xb_table_free(&t);
    char nb[16];
    cr_assert_str_eq(xb_fmt_count(840, nb, sizeof nb), "840");
    cr_assert_str_eq(xb_fmt_count(117600, nb, sizeof nb), "117.6K");
    cr_assert_str_eq(xb_fmt_count(40550000, nb, sizeof nb), "40.55M");
}
