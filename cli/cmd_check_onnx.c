/* xbar check-onnx: ONNX backend-test directories -> PASS/FAIL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/conformance.h"
#include "cli/cli.h"

static void help(FILE *f) {
    fprintf(f,
            "usage: xbar check-onnx [-q] [--list FILE [--root DIR]] [DIR...]\n\n"
            "Run ONNX backend-test directories (the layout of ONNX's node tests: model.onnx and\n"
            "test_data_set_N/input_J.pb, output_J.pb) and compare our outputs with the expected\n"
            "ones: float within rtol %g, atol %g; integer outputs exactly.  The batch is taken\n"
            "from the first input of each data set when the model's batch is symbolic.\n\n"
            "Prints PASS (with the largest absolute float error) or FAIL (with the reason) per\n"
            "directory and a summary; exits 0 only if every directory passes.\n\n"
            "  --list FILE  also run the tests named in FILE (one name per line, '#' comments),\n"
            "               e.g. tests/onnx_node_tests.txt\n"
            "  --root DIR   directory holding the listed tests (default: the list's names are\n"
            "               paths)\n"
            "  -q           print only failures and the summary\n",
            1e-3, 1e-5);
}

typedef struct {
    const char *list, *root;
    int quiet;
    char **dirs; /* [argc] (caller frees) */
    int n_dirs;
} check_opts;

/* -1: go on, 0: --help printed, 1: out of memory, 2: usage error; o->dirs
 * is the caller's to free in every case. */
static int parse(int argc, char **argv, check_opts *o) {
    memset(o, 0, sizeof *o);
    o->dirs = calloc((size_t)argc + 1, sizeof *o->dirs);
    if (!o->dirs) {
        fprintf(stderr, "xbar check-onnx: out of memory\n");
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            help(stdout);
            return 0;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            o->quiet = 1;
        } else if ((!strcmp(a, "--list") || !strcmp(a, "--root")) && i + 1 < argc) {
            if (a[2] == 'l')
                o->list = argv[++i];
            else
                o->root = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "xbar check-onnx: unknown or incomplete option '%s'\n\n", a);
            help(stderr);
            return 2;
        } else {
            o->dirs[o->n_dirs++] = argv[i];
        }
    }
    if (o->n_dirs == 0 && !o->list) {
        fprintf(stderr, "xbar check-onnx: no test directories given\n\n");
        help(stderr);
        return 2;
    }
    return -1;
}

int xb_cmd_check_onnx_args(int argc, char **argv) {
    check_opts o;
    int rc = parse(argc, argv, &o);
    free(o.dirs);
    return rc;
}

int xb_cmd_check_onnx(int argc, char **argv) {
    check_opts o;
    int rc = parse(argc, argv, &o);
    if (rc >= 0) {
        free(o.dirs);
        return rc;
    }
    const char *list = o.list, *root = o.root;
    int quiet = o.quiet, n_dirs = o.n_dirs;
    char **dirs = o.dirs;
    char **names = NULL;
    int n_names = 0;
    if (list) {
        xb_ctx ctx = {0};
        n_names = xb_conformance_read_list(list, &names, &ctx);
        if (n_names < 0) {
            fprintf(stderr, "xbar check-onnx: %s\n", ctx.msg);
            free(dirs);
            return 2;
        }
    }
    if (n_dirs + n_names == 0) {
        fprintf(stderr, "xbar check-onnx: no test directories given\n\n");
        help(stderr);
        free(dirs);
        return 2;
    }
    /* One result struct reused: it carries a 4 KiB message. */
    xb_conformance_result *r = malloc(sizeof *r);
    if (!r) {
        fprintf(stderr, "xbar check-onnx: out of memory\n");
        free(dirs);
        xb_conformance_free_list(names, n_names);
        return 1;
    }
    int passed = 0, total = n_dirs + n_names;
    char path[4096];
    for (int i = 0; i < total; i++) {
        const char *d = i < n_dirs ? dirs[i] : names[i - n_dirs];
        if (i >= n_dirs && root) {
            snprintf(path, sizeof path, "%s/%s", root, d);
            d = path;
        }
        if (xb_conformance_run_dir(d, r)) {
            passed++;
            if (!quiet) printf("PASS %s (max abs error %.3g)\n", d, r->max_abs_err);
        } else {
            printf("FAIL %s: %s\n", d, r->reason);
        }
        fflush(stdout);
    }
    printf("%d/%d passed\n", passed, total);
    free(r);
    free(dirs);
    xb_conformance_free_list(names, n_names);
    return passed == total ? 0 : 1;
}
