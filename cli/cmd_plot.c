/* xbar plot FILE... -o DIR: SVG plots from saved reports. */
#include <cjson/cJSON.h>
#include <stdio.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "eval/plots.h"
#include "eval/report.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: xbar plot FILE.json|FILE.csv... -o DIR\n\n"
            "SVG plots (vector, paper-ready; colour-blind-safe Okabe-Ito palette with hatching\n"
            "so they read in black and white) from reports xbar saved:\n"
            "  run --json:     accuracy.svg (top-1 per mode), energy_layers.svg (energy per\n"
            "                  layer stacked by component), adc_histograms.svg (pre-ADC column\n"
            "                  sums per layer, the ADC range dashed, the clipped part shaded\n"
            "                  and its share written), saturation.svg, adc_bits.svg (bits\n"
            "                  needed vs given), crossbar_heatmap.svg, and diagnosis_layers.svg\n"
            "                  when the report has a collapse diagnosis\n"
            "  compile --json: energy_layers.svg, crossbar_heatmap.svg\n"
            "  sweep CSV:      sweep_pareto.svg (analog accuracy vs energy, Pareto front,\n"
            "                  each point labelled by its varied values)\n"
            "Several files write into the same DIR; a later file's plot of the same name\n"
            "replaces an earlier one.\n\n"
            "  -o, --out DIR       output folder (created if missing)\n"
            "Exit status: 0 ok, 1 a file could not be read or written, 2 usage error.\n");
}

typedef struct {
    const char *dir, *files[64];
    int nf;
} plot_args;

/* -1: go on, 0: --help printed, 2: usage error. */
static int parse(int argc, char **argv, plot_args *p) {
    xb_args a;
    xb_args_init(&a, argc, argv);
    const char *dir = NULL, *v, **files = p->files;
    int nf = 0;
    while (xb_args_next(&a)) {
        if (xb_args_help(&a)) {
            usage(stdout);
            return 0;
        } else if (xb_args_opt(&a, "-o", &v) || xb_args_opt(&a, "--out", &v)) {
            dir = v;
        } else if (xb_args_positional(&a)) {
            if (nf == 64) {
                xb_args_fail(&a, "at most 64 files");
                break;
            }
            files[nf++] = a.cur;
        } else {
            return xb_args_unknown(&a);
        }
    }
    if (a.error || !xb_args_need(&a, "-o DIR", dir)) return 2;
    if (!nf) {
        xb_args_fail(&a, "missing FILE (a run/compile JSON or a sweep CSV)");
        return 2;
    }
    p->dir = dir;
    p->nf = nf;
    return -1;
}

int xb_cmd_plot_args(int argc, char **argv) {
    plot_args p;
    return parse(argc, argv, &p);
}

int xb_cmd_plot(int argc, char **argv) {
    plot_args pa;
    int rc = parse(argc, argv, &pa);
    if (rc >= 0) return rc;
    const char *dir = pa.dir, *const *files = pa.files;
    int nf = pa.nf;
    xb_ctx ctx = {0};
    for (int i = 0; i < nf; i++) {
        cJSON *json;
        xb_sweep_csv csv;
        xb_plots p = {0};
        xb_status st = xb_report_file_load(files[i], &json, &csv, &ctx);
        if (st == XB_OK) st = json ? xb_plots_from_report(json, &p, &ctx) : xb_plots_from_sweep(&csv, &p, &ctx);
        if (st == XB_OK) st = xb_plots_write_dir(&p, dir, &ctx);
        if (st == XB_OK) {
            fprintf(stderr, "%s:", files[i]);
            for (int k = 0; k < p.n; k++) fprintf(stderr, " %s", p.p[k].name);
            fprintf(stderr, "%s\n", p.n ? "" : " nothing to plot");
        }
        cJSON_Delete(json);
        xb_sweep_csv_free(&csv);
        xb_plots_free(&p);
        if (st != XB_OK) {
            xb_report_error(&ctx);
            return 1;
        }
    }
    return 0;
}
