/* xbar compile MODEL --arch A: how every matrix layer maps onto crossbars. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/profile.h"
#include "backend/raella.h"
#include "cli/arch_opts.h"
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/reports.h"
#include "eval/outfile.h"
#include "eval/report.h"
#include "eval/session.h"
#include "frontend/quantize.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: xbar compile MODEL.onnx [--arch A] [--set KEY=VALUE]... [--json F]\n"
            "                    [--heatmap F.png]\n\n"
            "Slice and tile every matrix layer (Conv as im2col, Gemm, MatMul) onto the\n"
            "architecture's crossbars: weight slices, row and column blocks, crossbars,\n"
            "cell utilisation, partitions and tiles per layer, then totals and the\n"
            "analytic cost per inference (energy, ADC share, latency, area).\n\n" XB_CLI_ARCH_HELP
            "                      (default --arch isaac)\n"
            "  --json F            write the mapping as JSON (\"-\" for stdout: the text\n"
            "                      report then goes to stderr); with a \"provenance\" block\n"
            "  --plot DIR          SVG plots in DIR: energy per layer by component and the\n"
            "                      crossbar heatmap with legend and layer labels\n"
            "  --html F            a self-contained HTML report (tables, plots, arch,\n"
            "                      provenance)\n"
            "  --heatmap F.png     crossbar occupancy: one block per crossbar, cells\n"
            "                      coloured by layer, unused cells grey\n\n"
            "Output files are written aside and renamed into place when complete; they must\n"
            "not be an input (model, arch).\n"
            "Exit status: 0 ok, 1 the job failed or the model DOES NOT FIT the chip (more\n"
            "tiles than it has; the reports are still written), 2 usage error.\n");
}

typedef struct {
    xb_cli_arch ao;
    const char *model, *heatmap;
    xb_cli_reports rep;
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
            c->rep.json = v;
        } else if (xb_args_opt(&a, "--plot", &v)) {
            c->rep.plot_dir = v;
        } else if (xb_args_opt(&a, "--html", &v)) {
            c->rep.html = v;
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

/* encoding = center: the centers the build chooses per layer (RAELLA's
 * Center+Offset).  They depend on the quantized weights only, which are
 * per-channel symmetric and need no activations: a float model is
 * quantized here on one constant image (its activation ranges are unused). */
static cJSON *compile_centers(xb_session *s, const xb_arch *a, xb_ctx *ctx) {
    const xb_graph *fg = xb_session_graph(s);
    xb_graph *qg = NULL;
    if (!xb_session_prequantized(s)) {
        int64_t n = xb_shape_numel(&fg->tensors[fg->inputs[0]].shape);
        float *img = xb_malloc(ctx, (size_t)n * sizeof *img);
        if (!img) return NULL;
        for (int64_t i = 0; i < n; i++) img[i] = 0.5f;
        xb_quant_opts o = xb_quant_opts_default();
        o.w_bits = a->weight_bits > 8 ? 8 : a->weight_bits;
        o.x_bits = a->input_bits > 8 ? 8 : a->input_bits;
        xb_status st = xb_quantize(fg, img, 1, &o, &qg, ctx);
        free(img);
        if (st != XB_OK) return NULL;
    }
    cJSON *j = xb_raella_centers_json(a, qg ? qg : fg, ctx);
    xb_graph_free(qg);
    return j;
}

int xb_cmd_compile(int argc, char **argv) {
    compile_args ca;
    int rc = parse(argc, argv, &ca);
    if (rc >= 0) return rc;
    xb_cli_arch ao = ca.ao;
    const char *model = ca.model, *heatmap = ca.heatmap;
    xb_cli_reports rep = ca.rep;
    xb_ctx ctx = {0};
    xb_arch arch;
    xb_session *s = NULL;
    rc = 1;
    const char *in[] = {model, xb_cli_arch_file(&ao)};
    /* --json -: stdout is pure JSON, the text report goes to stderr */
    FILE *out = rep.json && !strcmp(rep.json, "-") ? stderr : stdout;
    if (xb_outfile_check("--json", rep.json, in, 2, &ctx) != XB_OK ||
        xb_outfile_check("--html", rep.html, in, 2, &ctx) != XB_OK ||
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
    fprintf(out, "model %s\n", model);
    xb_profile_print_mapping(out, m);
    fprintf(out, "\nanalytic cost per inference (every slice of every crossbar runs):\n");
    xb_profile_print_layers(out, m, c, NULL);
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
        fprintf(out, "heatmap: %s (layer colours in order: red, green, blue, orange, purple, cyan, "
               "magenta, lime, teal, brown, maroon, navy; repeated darker)\n",
               heatmap);
    }
    if (xb_cli_reports_any(&rep)) {
        cJSON *root = xb_profile_json_mapping(m, c);
        cJSON_AddStringToObject(root, "model", model);
        cJSON_AddItemToObject(root, "cost_layers", xb_profile_json_layers(m, c, NULL));
        cJSON_AddItemToObject(root, "cost_totals", xb_profile_json_totals(m, c, NULL));
        if (arch.encoding == XB_ENC_CENTER) {
            cJSON *cj = compile_centers(s, &arch, &ctx);
            if (!cj) {
                cJSON_Delete(root);
                goto done;
            }
            cJSON_AddItemToObject(root, "centers", cj);
        }
        xb_provenance pv = {.model = model, .arch = &arch, .argc = argc, .argv = argv};
        xb_status st = xb_cli_write_reports(root, &pv, &rep, &ctx);
        cJSON_Delete(root);
        if (st != XB_OK) goto done;
    }
    /* the reports are written; the verdict is the exit status */
    if (!m->fits) {
        xb_fail(&ctx, XB_ERR_INVALID, "%s DOES NOT FIT arch %s: %lld tiles needed, the chip has %d",
                model, arch.name, (long long)m->tiles, arch.tiles);
        goto done;
    }
    rc = 0;
done:
    if (rc) xb_report_error(&ctx);
    xb_session_free(s);
    return rc;
}
