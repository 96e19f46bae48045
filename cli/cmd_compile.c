/* xbar compile MODEL --arch A: how every matrix layer maps onto crossbars. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "backend/profile.h"
#include "cli/arch_opts.h"
#include "cli/args.h"
#include "cli/cli.h"
#include "eval/outfile.h"
#include "eval/report.h"
#include "eval/session.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: xbar compile MODEL.onnx [--arch A] [--set KEY=VALUE]... [--json F]\n"
            "                    [--heatmap F.png]\n\n"
            "Slice and tile every matrix layer (Conv as im2col, Gemm, MatMul) onto the\n"
            "architecture's crossbars: weight slices, row and column blocks, crossbars,\n"
            "cell utilisation, partitions and tiles per layer, then totals and the\n"
            "analytic cost per inference (energy, ADC share, latency, area).\n\n" XB_CLI_ARCH_HELP
            "                      (default --arch isaac)\n"
            "  --json F            write the mapping as JSON (\"-\" for stdout)\n"
            "  --heatmap F.png     crossbar occupancy: one block per crossbar, cells\n"
            "                      coloured by layer, unused cells grey\n\n"
            "Output files are written aside and renamed into place when complete; they must\n"
            "not be an input (model, arch).\n"
            "Exit status: 0 ok, 1 the job failed, 2 usage error.\n");
}

typedef struct {
    xb_cli_arch ao;
    const char *model, *json, *heatmap;
} compile_args;

/* -1: go on; else the exit code. */
static int parse(int argc, char **argv, compile_args *c) {
    xb_args a;
    xb_args_init(&a, argc, argv);
    const char *v;
    *c = (compile_args){0};
    while (xb_args_next(&a)) {
        if (xb_args_help(&a)) {
            usage(stdout);
            return 0;
        } else if (xb_cli_arch_opt(&a, &c->ao)) {
        } else if (xb_args_opt(&a, "--json", &v)) {
            c->json = v;
        } else if (xb_args_opt(&a, "--heatmap", &v)) {
            c->heatmap = v;
        } else if (xb_args_one(&a, "MODEL", &c->model)) {
        } else {
            return xb_args_unknown(&a);
        }
    }
    if (a.error || !xb_args_need(&a, "MODEL", c->model)) return 2;
    return -1;
}

int xb_cmd_compile_args(int argc, char **argv) {
    compile_args c;
    int rc = parse(argc, argv, &c);
    if (rc >= 0) return rc;
    xb_ctx ctx = {0};
    xb_arch arch;
    c.ao.out = NULL; /* parse only: nothing written */
    if (xb_cli_arch_build(&c.ao, &arch, &ctx) != XB_OK) {
        xb_report_error(&ctx);
        return 2;
    }
    return -1;
}

int xb_cmd_compile(int argc, char **argv) {
    compile_args ca;
    int rc = parse(argc, argv, &ca);
    if (rc >= 0) return rc;
    xb_cli_arch ao = ca.ao;
    const char *model = ca.model, *json = ca.json, *heatmap = ca.heatmap;
    xb_ctx ctx = {0};
    xb_arch arch;
    xb_session *s = NULL;
    rc = 1;
    const char *in[] = {model, xb_cli_arch_file(&ao)};
    if (xb_outfile_check("--json", json, in, 2, &ctx) != XB_OK ||
        xb_outfile_check("--heatmap", heatmap, in, 2, &ctx) != XB_OK ||
        xb_outfile_check("--arch-out", ao.out, in, 2, &ctx) != XB_OK) {
        rc = 2;
        goto done;
    }
    ao.model = model;
    if (xb_cli_arch_build(&ao, &arch, &ctx) != XB_OK) {
        rc = 2;
        goto done;
    }
    if (xb_session_open(model, NULL, &s, &ctx) != XB_OK) goto done;
    if (xb_session_map(s, &arch, &ctx) != XB_OK) goto done;
    const xb_mapping *m = xb_session_mapping(s);
    const xb_cost *c = xb_session_cost(s);
    printf("model %s\n", model);
    xb_profile_print_mapping(stdout, m);
    printf("\nanalytic cost per inference (every slice of every crossbar runs):\n");
    xb_profile_print_layers(stdout, m, c, NULL);
    if (heatmap) {
        /* backend/compile.c writes to a path: a temporary one, moved into
         * place once complete */
        xb_outfile o;
        if (xb_outfile_open_path(&o, heatmap, &ctx) != XB_OK) goto done;
        if (xb_mapping_heatmap(m, o.tmp, &ctx) != XB_OK) {
            xb_outfile_abort(&o);
            goto done;
        }
        if (xb_outfile_commit(&o, &ctx) != XB_OK) goto done;
        printf("heatmap: %s (layer colours in order: red, green, blue, orange, purple, cyan, "
               "magenta, lime, teal, brown, maroon, navy; repeated darker)\n",
               heatmap);
    }
    if (json) {
        cJSON *root = xb_profile_json_mapping(m, c);
        cJSON_AddStringToObject(root, "model", model);
        cJSON_AddItemToObject(root, "cost_layers", xb_profile_json_layers(m, c, NULL));
        cJSON_AddItemToObject(root, "cost_totals", xb_profile_json_totals(m, c, NULL));
        xb_status st = xb_json_write(root, json, &ctx);
        cJSON_Delete(root);
        if (st != XB_OK) goto done;
    }
    rc = 0;
done:
    if (rc) xb_report_error(&ctx);
    xb_session_free(s);
    return rc;
}
