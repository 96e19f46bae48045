/* Tests for the CLI argument parser (cli/args.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>

#include "cli/args.h"
#include "cli/cli.h"

Test(args, forms) {
    char *argv[] = {"run", "m.onnx", "--limit=5", "--data", "mnist", "--", "--odd", NULL};
    xb_args a;
    xb_args_init(&a, 7, argv);
    const char *v, *pos[2] = {0};
    long long limit = 0;
    int np = 0;
    while (xb_args_next(&a)) {
        if (xb_args_opt(&a, "--limit", &v))
            cr_assert(xb_args_int(&a, v, 1, 10, &limit));
        else if (xb_args_opt(&a, "--data", &v))
            cr_assert_str_eq(v, "mnist");
        else if (xb_args_positional(&a))
            pos[np++] = a.cur;
        else
            cr_assert_fail("unexpected %s", a.cur);
    }
    cr_assert_not(a.error);
    cr_assert_eq(limit, 5);
    cr_assert_eq(np, 2);
    cr_assert_str_eq(pos[0], "m.onnx");
    cr_assert_str_eq(pos[1], "--odd");
}

/* One parser for every number: no input overflows, ranges are counted
 * before they are expanded. */
Test(args, integers_never_overflow) {
    long long v;
    cr_assert(xb_parse_int("9223372036854775807", LLONG_MIN, LLONG_MAX, &v) && v == LLONG_MAX);
    cr_assert(xb_parse_int("-9223372036854775808", LLONG_MIN, LLONG_MAX, &v) && v == LLONG_MIN);
    cr_assert_not(xb_parse_int("9223372036854775808", LLONG_MIN, LLONG_MAX, &v));
    cr_assert_not(xb_parse_int("-9223372036854775809", LLONG_MIN, LLONG_MAX, &v));
    cr_assert_not(xb_parse_int("99999999999999999999999999999", 0, 10, &v));
    const char *bad[] = {"", "-", "+", "1x", " 1", "1 ", "0x10", NULL};
    for (int i = 0; bad[i]; i++) cr_assert_not(xb_parse_int(bad[i], -100, 100, &v), "%s", bad[i]);
    cr_assert(xb_parse_int("+7", 0, 10, &v) && v == 7);
    cr_assert_not(xb_parse_int("11", 0, 10, &v));
    cr_assert(xb_mul_capped(64, 64, 4096, &v) && v == 4096);
    cr_assert_not(xb_mul_capped(LLONG_MAX, 3, LLONG_MAX, &v));
}

Test(args, ranges_and_lists) {
    char *argv[] = {"sweep", NULL};
    xb_args a;
    xb_args_init(&a, 1, argv);
    a.opt = "--vary";
    char vals[8][XB_ARGS_VALUE_LEN];
    int n;
    cr_assert(xb_args_values(&a, "k", "4:8:2", INT_MIN, INT_MAX, vals, 8, &n) && n == 3);
    cr_assert_str_eq(vals[2], "8");
    cr_assert(xb_args_values(&a, "k", "3:1:-1", INT_MIN, INT_MAX, vals, 8, &n) && n == 3);
    cr_assert_str_eq(vals[2], "1");
    cr_assert(xb_args_values(&a, "k", "a,b", INT_MIN, INT_MAX, vals, 8, &n) && n == 2);
    const char *bad[] = {"1:9", "1:2:0", "2:1", "1:2:3:4", "99999999999999999999:99999999999999999999",
                         "-2147483648:2147483647", "a,,b", "a,", "", ":", NULL};
    for (int i = 0; bad[i]; i++) {
        a.error = false;
        cr_assert_not(xb_args_values(&a, "k", bad[i], INT_MIN, INT_MAX, vals, 8, &n), "%s", bad[i]);
        cr_assert(a.error);
    }
}

/* The parse-only entry points the argv fuzzer calls: -1 (would run), 0
 * (--help), 2 (usage error); --arch-out is never written. */
Test(args, parse_only_commands) {
    char out[] = "/tmp/xbar_args_test_arch_out.json";
    remove(out);
    char *run_ok[] = {"run", "m.onnx", "--mode", "analog", "--set", "adc.bits=6", "--arch-out", out,
                      NULL};
    cr_assert_eq(xb_cmd_run_args(8, run_ok), -1);
    char *run_bad[] = {"run", "m.onnx", "--mode", "analog", "--set", "adc.bits=0x8", NULL};
    cr_assert_eq(xb_cmd_run_args(6, run_bad), 2);
    char *sweep_bad[] = {"sweep", "m.onnx", "--data", "d", "--vary",
                         "adc.bits=99999999999999999999:99999999999999999999", NULL};
    cr_assert_eq(xb_cmd_sweep_args(6, sweep_bad), 2);
    char *sweep_bad_val[] = {"sweep", "m.onnx", "--data", "d", "--vary", "adc.bits=6,0x8", NULL};
    cr_assert_eq(xb_cmd_sweep_args(6, sweep_bad_val), 2);
    char *sweep_ok[] = {"sweep", "m.onnx", "--data", "d", "--vary", "adc.bits=4:8", NULL};
    cr_assert_eq(xb_cmd_sweep_args(6, sweep_ok), -1);
    char *compile_seed[] = {"compile", "m.onnx", "--set", "nonideal.seed=99999999999999999999999999",
                            "--arch-out", out, NULL};
    cr_assert_eq(xb_cmd_compile_args(6, compile_seed), 2);
    char *compile_help[] = {"compile", "--help", NULL};
    cr_assert_eq(xb_cmd_compile_args(2, compile_help), 0);
    FILE *f = fopen(out, "r");
    cr_assert_null(f, "parse-only wrote --arch-out");
}

/* The same for the commands on saved files: merge, meta and report check
 * their output path (never the input, folder exists) without creating it;
 * plot and info only parse. */
Test(args, parse_only_file_commands) {
    char out[] = "/tmp/xbar_args_test_merged.csv";
    remove(out);
    char *merge_ok[] = {"merge", "--csv", out, "a.csv", "b.csv", NULL};
    cr_assert_eq(xb_cmd_merge_args(5, merge_ok), -1);
    char *merge_both[] = {"merge", "--csv", out, "--json", "x.json", "a.csv", NULL};
    cr_assert_eq(xb_cmd_merge_args(6, merge_both), 2);
    char *merge_none[] = {"merge", "--csv", out, NULL};
    cr_assert_eq(xb_cmd_merge_args(3, merge_none), 2);
    char *merge_dir[] = {"merge", "--json", "/tmp", "a.json", NULL};
    cr_assert_eq(xb_cmd_merge_args(4, merge_dir), 2);
    char *merge_nofolder[] = {"merge", "--csv", "/nonexistent_xbar/o.csv", "a.csv", NULL};
    cr_assert_eq(xb_cmd_merge_args(4, merge_nofolder), 2);
    char *meta_ok[] = {"meta", "m.onnx", "--set-mean", "0.5", "-o", out, NULL};
    cr_assert_eq(xb_cmd_meta_args(6, meta_ok), -1);
    char kv[] = "k=v";
    char *meta_no_out[] = {"meta", "m.onnx", "--set", kv, NULL};
    cr_assert_eq(xb_cmd_meta_args(4, meta_no_out), 2);
    /* meta's --set splits KEY=VALUE in place (argv is writable) */
    char kv_bad[] = "=v";
    char *meta_bad_set[] = {"meta", "m.onnx", "--set", kv_bad, "-o", out, NULL};
    cr_assert_eq(xb_cmd_meta_args(6, meta_bad_set), 2);
    /* xbar.dataset names a built-in dataset, never a path */
    char kv_path[] = "xbar.dataset=/etc/passwd", kv_ds[] = "xbar.dataset=cifar10";
    char *meta_path[] = {"meta", "m.onnx", "--set", kv_path, "-o", out, NULL};
    cr_assert_eq(xb_cmd_meta_args(6, meta_path), 2);
    char *meta_path2[] = {"meta", "m.onnx", "--set-dataset", "../x", "-o", out, NULL};
    cr_assert_eq(xb_cmd_meta_args(6, meta_path2), 2);
    char *meta_ds[] = {"meta", "m.onnx", "--set", kv_ds, "-o", out, NULL};
    cr_assert_eq(xb_cmd_meta_args(6, meta_ds), -1);
    char *plot_ok[] = {"plot", "r.json", "-o", "/tmp/xbar_args_test_plots", NULL};
    cr_assert_eq(xb_cmd_plot_args(4, plot_ok), -1);
    char *plot_no_file[] = {"plot", "-o", "d", NULL};
    cr_assert_eq(xb_cmd_plot_args(3, plot_no_file), 2);
    char *report_ok[] = {"report", "r.json", "-o", out, NULL};
    cr_assert_eq(xb_cmd_report_args(4, report_ok), -1);
    char *report_two[] = {"report", "r.json", "s.csv", "-o", out, NULL};
    cr_assert_eq(xb_cmd_report_args(5, report_two), 2);
    char *info_help[] = {"info", "--help", NULL};
    cr_assert_eq(xb_cmd_info_args(2, info_help), 0);
    char *info_none[] = {"info", NULL};
    cr_assert_eq(xb_cmd_info_args(1, info_none), 2);
    char *cls_ok[] = {"classify", "m.onnx", "a.png", "--json", out, "--mean", "0.5", NULL};
    cr_assert_eq(xb_cmd_classify_args(7, cls_ok), -1);
    char *cls_no_image[] = {"classify", "m.onnx", NULL};
    cr_assert_eq(xb_cmd_classify_args(2, cls_no_image), 2);
    char *cls_offset[] = {"classify", "m.onnx", "a.png", "--offset", "3", NULL};
    cr_assert_eq(xb_cmd_classify_args(5, cls_offset), 2);
    /* --json may not name the model it reads */
    char model[] = "/tmp/xbar_args_test_model.onnx";
    FILE *mf = fopen(model, "w");
    cr_assert_not_null(mf);
    fclose(mf);
    char *cls_self[] = {"classify", model, "a.png", "--json", model, NULL};
    cr_assert_eq(xb_cmd_classify_args(5, cls_self), 2);
    remove(model);
    char *chk_ok[] = {"check-onnx", "-q", "d1", "d2", NULL};
    cr_assert_eq(xb_cmd_check_onnx_args(4, chk_ok), -1);
    char *chk_none[] = {"check-onnx", "-q", NULL};
    cr_assert_eq(xb_cmd_check_onnx_args(2, chk_none), 2);
    char *chk_bad[] = {"check-onnx", "--root", NULL};
    cr_assert_eq(xb_cmd_check_onnx_args(2, chk_bad), 2);
    FILE *f = fopen(out, "r");
    cr_assert_null(f, "parse-only created an output");
    f = fopen("/tmp/xbar_args_test_plots", "r");
    cr_assert_null(f, "parse-only created the plot folder");
}

/* --max-memory: a byte count with K/M/G, 1M to 2^50, on run and sweep. */
Test(args, max_memory_values) {
    const char *ok[] = {"1M", "512M", "2G", "1048576", "4096K", "1048576G", NULL};
    const char *bad[] = {"1K", "1048575", "0", "1.5G", "-1G", "2T", "1048577G", "G", "",
                         "99999999999999999999G", NULL};
    for (int i = 0; ok[i]; i++) {
        char *run[] = {"run", "m.onnx", "--max-memory", (char *)ok[i], NULL};
        cr_assert_eq(xb_cmd_run_args(4, run), -1, "%s", ok[i]);
    }
    for (int i = 0; bad[i]; i++) {
        char *run[] = {"run", "m.onnx", "--max-memory", (char *)bad[i], NULL};
        cr_assert_eq(xb_cmd_run_args(4, run), 2, "%s", bad[i]);
        char *sweep[] = {"sweep", "m.onnx", "--data", "d", "--vary", "adc.bits=4:5",
                         "--max-memory", (char *)bad[i], NULL};
        cr_assert_eq(xb_cmd_sweep_args(8, sweep), 2, "%s", bad[i]);
    }
}
