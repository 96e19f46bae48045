/* Tests for the CLI argument parser (cli/args.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/args.h"

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
