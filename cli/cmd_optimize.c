/* xbar optimize MODEL --data SPEC --arch A --budget-tiles T --max-loss L
 * --out tuned.json: per-layer precision and replication under an area and
 * an accuracy-loss budget (eval/optimize.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/arch_opts.h"
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/data_opts.h"
#include "eval/optimize.h"
#include "eval/outfile.h"
#include "eval/report.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: xbar optimize MODEL.onnx --data SPEC --out TUNED.json [--arch A]\n"
            "                     [--set KEY=VALUE]... [--budget-tiles T] [--max-loss L]\n"
            "                     [--method lrmp] [--val-data SPEC] [--val-images N]\n\n"
            "Choose per-layer weight and input bits and layer replication so that the layer\n"
            "pipeline is as fast as possible within a tile budget while the top-1 accuracy\n"
            "on validation images drops by at most L points, and write the architecture\n"
            "(per-layer bits, mapping.replication=milp, mapping.budget_tiles) to TUNED.json;\n"
            "`xbar run MODEL --data SPEC --arch TUNED.json` then measures it on the test\n"
            "images. Progress goes to stderr, the summary to stdout.\n\n"
            "  --data SPEC         the test data: only the training split stored beside it\n"
            "                      (train-images-idx3-ubyte, data_batch_1.bin) is read, as\n"
            "                      validation images; the test images are never opened\n"
            "  --val-data SPEC     validation images instead (must not be the test images;\n"
            "                      e.g. a folder of training images)\n"
            "  --val-images N      validation images evaluated (default 1000); the next\n"
            "                      --calib (100) calibrate quantization and the ADC range\n"
            "  --out F.json        the tuned architecture (required)\n" XB_CLI_ARCH_HELP
            "                      (default --arch isaac)\n"
            "  --budget-tiles T    tile budget (default: the tiles of the unreplicated mapping)\n"
            "  --max-loss L        accuracy-loss budget in points of top-1 (default 1.0)\n"
            "  --method M          search method:");
    for (int i = 0; xb_optimize_method(i); i++)
        fprintf(f, " %s%s", xb_optimize_method(i), i ? "" : " (default)");
    fprintf(f,
            "\n"
            "                      lrmp: LRMP (arXiv 2312.03146) reconstructed: measured\n"
            "                      per-layer sensitivities and an exact knapsack replace its\n"
            "                      RL agent; replication is the GLPK MILP (docs/REPRODUCTION.md)\n"
            "                      layco: LayCO's per-layer voltage and bit-width search, with\n"
            "                      its own options (xbar optimize --method layco --help)\n"
            "  --w-choices LIST    candidate weight bits (default 6,4: 3 and 2 slices of\n"
            "                      2-bit cells instead of 4 for offset weights)\n"
            "  --x-choices LIST    candidate input bits (default 6,5,4,3)\n"
            "  --threads N         worker threads\n\n" XB_CLI_DATA_HELP
            "\nExit status: 0 ok, 1 the search failed, 2 usage error.\n");
}

typedef struct {
    xb_cli_arch ao;
    xb_cli_data data;
    const char *model, *data_spec, *val_data, *out, *method;
    long long val_images, calib, budget, threads;
    double max_loss;
    int w[XB_OPT_MAX_CHOICES], nw, x[XB_OPT_MAX_CHOICES], nx;
} opt_args;

static bool bits_list(xb_args *a, const char *v, int *out, int *n) {
    char vals[XB_OPT_MAX_CHOICES][XB_ARGS_VALUE_LEN];
    if (!xb_args_values(a, "bits", v, 2, 8, vals, XB_OPT_MAX_CHOICES, n)) return false;
    for (int i = 0; i < *n; i++) {
        long long b;
        if (!xb_args_int(a, vals[i], 2, 8, &b)) return false;
        out[i] = (int)b;
    }
    return true;
}

static bool parse_value(xb_args *a, opt_args *o) {
    const char *v;
    if (xb_args_opt(a, "--data", &v)) o->data_spec = v;
    else if (xb_args_opt(a, "--val-data", &v)) o->val_data = v;
    else if (xb_args_opt(a, "--out", &v)) o->out = v;
    else if (xb_args_opt(a, "--method", &v)) o->method = v;
    else if (xb_args_opt(a, "--val-images", &v)) xb_args_int(a, v, 1, 1LL << 40, &o->val_images);
    else if (xb_args_opt(a, "--calib", &v)) xb_args_int(a, v, 1, 1LL << 30, &o->calib);
    else if (xb_args_opt(a, "--budget-tiles", &v)) xb_args_int(a, v, 0, 1 << 24, &o->budget);
    else if (xb_args_opt(a, "--max-loss", &v)) xb_args_real(a, v, 0, 100, false, &o->max_loss);
    else if (xb_args_opt(a, "--threads", &v)) xb_args_threads(a, v, &o->threads);
    else if (xb_args_opt(a, "--w-choices", &v)) bits_list(a, v, o->w, &o->nw);
    else if (xb_args_opt(a, "--x-choices", &v)) bits_list(a, v, o->x, &o->nx);
    else return false;
    return true;
}

/* -1: go on; else the exit code. */
static int parse(int argc, char **argv, opt_args *o) {
    xb_args a;
    xb_args_init(&a, argc, argv);
    *o = (opt_args){.val_images = 1000, .calib = 100, .max_loss = 1.0, .nw = 2, .nx = 4,
                    .w = {6, 4}, .x = {6, 5, 4, 3}};
    while (xb_args_next(&a)) {
        if (xb_args_help(&a)) {
            usage(stdout);
            return 0;
        } else if (xb_cli_arch_opt(&a, &o->ao) || xb_cli_data_opt(&a, &o->data) ||
                   parse_value(&a, o)) {
        } else if (xb_args_one(&a, "MODEL", &o->model)) {
        } else {
            return xb_args_unknown(&a);
        }
    }
    if (a.error || !xb_args_need(&a, "MODEL", o->model) || !xb_args_need(&a, "--out", o->out))
        return 2;
    if (!o->data_spec && !o->val_data) {
        xb_args_fail(&a, "give --data SPEC (its training split is the validation set) or "
                         "--val-data SPEC");
        return 2;
    }
    if (o->method) { /* an unknown method is a usage error, before any data is read */
        bool known = false;
        for (int i = 0; xb_optimize_method(i); i++)
            known |= strcmp(o->method, xb_optimize_method(i)) == 0;
        if (!known) {
            xb_args_fail(&a, "--method %s: unknown (lrmp or layco)", o->method);
            return 2;
        }
    }
    if (!o->ao.arch) o->ao.arch = "isaac";
    return -1;
}

static void print_summary(const opt_args *oa, const xb_optimize_result *r) {
    printf("model %s\nvalidation: %lld images of %s\n  (%s)\n", oa->model, (long long)r->val_n,
           r->val_source, r->val_how);
    printf("budget: %d tiles (unreplicated mapping at the arch's precision: %lld tiles)\n",
           r->budget_tiles, (long long)r->base_tiles);
    printf("validation top-1: base %.2f%%, tuned %.2f%% (loss %.2f points, budget %.2f)\n",
           r->val_base, r->val_tuned, r->val_base - r->val_tuned, oa->max_loss);
    printf("layer_weight_bits \"%s\"\nlayer_input_bits  \"%s\"\n", r->tuned.layer_weight_bits,
           r->tuned.layer_input_bits);
    printf("%-34s %14s %12s %14s %8s\n", "", "interval (us)", "images/s", "latency (us)", "tiles");
    printf("%-34s %14.1f %12.4g %14.1f %8lld\n", "no replication, arch's precision",
           r->base_interval_ns / 1e3, 1e9 / r->base_interval_ns, r->base_latency_ns / 1e3,
           (long long)r->base_tiles);
    printf("%-34s %14.1f %12.4g %14s %8d\n", "replication (milp) alone",
           r->milp_same_prec_interval_ns / 1e3, 1e9 / r->milp_same_prec_interval_ns, "",
           r->budget_tiles);
    printf("%-34s %14.1f %12.4g %14.1f %8lld\n", "tuned: precision + replication",
           r->tuned_interval_ns / 1e3, 1e9 / r->tuned_interval_ns, r->tuned_latency_ns / 1e3,
           (long long)r->tuned_tiles);
    printf("throughput %.2fx, latency %.2fx the unreplicated mapping; %d validation runs\n",
           r->base_interval_ns / r->tuned_interval_ns, r->base_latency_ns / r->tuned_latency_ns,
           r->evaluations);
}

/* --method layco has its own options (cli/optimize_layco_cmd.c). */
static bool wants_layco(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--method=layco") == 0) return true;
        if (strcmp(argv[i], "--method") == 0 && i + 1 < argc && strcmp(argv[i + 1], "layco") == 0)
            return true;
    }
    return false;
}

int xb_cmd_optimize_args(int argc, char **argv) {
    opt_args oa;
    int rc = parse(argc, argv, &oa);
    if (rc >= 0) return rc;
    xb_ctx ctx = {0};
    xb_arch arch;
    oa.ao.out = NULL; /* parse only: nothing written */
    if (xb_cli_arch_build(&oa.ao, &arch, &ctx) != XB_OK) {
        xb_report_error(&ctx);
        return 2;
    }
    return -1;
}

int xb_cmd_optimize(int argc, char **argv) {
    if (wants_layco(argc, argv)) return xb_cmd_optimize_layco(argc, argv);
    opt_args oa;
    int rc = parse(argc, argv, &oa);
    if (rc >= 0) return rc;
    xb_ctx ctx = {0};
    xb_optimize_opts o = {.model = oa.model, .data = oa.data_spec, .val_data = oa.val_data,
                          .val_images = oa.val_images, .calib = oa.calib, .method = oa.method,
                          .budget_tiles = (int)oa.budget, .max_loss = oa.max_loss,
                          .threads = (int)oa.threads, .n_w = oa.nw, .n_x = oa.nx};
    memcpy(o.w_choices, oa.w, sizeof o.w_choices);
    memcpy(o.x_choices, oa.x, sizeof o.x_choices);
    xb_cli_data_apply(&oa.data, &o.so);
    const char *in[] = {oa.model, xb_cli_arch_file(&oa.ao)};
    oa.ao.model = oa.model;
    if (xb_outfile_check("--out", oa.out, in, 2, &ctx) != XB_OK ||
        xb_cli_arch_build(&oa.ao, &o.arch, &ctx) != XB_OK) {
        xb_report_error(&ctx);
        return 2;
    }
    xb_optimize_result *r = calloc(1, sizeof *r);
    xb_outfile f;
    if (!r) return 1;
    if (xb_optimize(&o, r, &ctx) != XB_OK || xb_outfile_open(&f, oa.out, &ctx) != XB_OK) {
        xb_report_error(&ctx);
        free(r);
        return 1;
    }
    xb_arch_write_json(&r->tuned, f.f, 0);
    fputc('\n', f.f);
    if (xb_outfile_commit(&f, &ctx) != XB_OK) {
        xb_report_error(&ctx);
        free(r);
        return 1;
    }
    print_summary(&oa, r);
    printf("wrote %s\n", oa.out);
    free(r);
    return 0;
}
