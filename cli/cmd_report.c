/* xbar report FILE -o F.html: the HTML report of a saved run / compile JSON
 * or sweep CSV. */
#include <cjson/cJSON.h>
#include <stdio.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "eval/html.h"
#include "eval/outfile.h"
#include "eval/plots.h"
#include "eval/report.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: xbar report FILE.json|FILE.csv -o F.html\n\n"
            "One self-contained HTML file (inline CSS and SVG; no scripts, no network, no\n"
            "external files) from a report xbar saved:\n"
            "  run / compile --json: summary, accuracy per mode, the collapse diagnosis,\n"
            "                  the per-layer table, the plots of xbar plot, the\n"
            "                  architecture as run and the provenance\n"
            "  sweep CSV:      the accuracy-vs-energy plot with its Pareto front, every\n"
            "                  configuration, and the CSV's provenance lines\n\n"
            "  -o, --out F     output file (written aside, renamed into place when complete)\n"
            "Exit status: 0 ok, 1 the file could not be read or written, 2 usage error.\n");
}

/* -1: go on (the output path checked, nothing created), 0: --help
 * printed, 2: usage error. */
static int parse(int argc, char **argv, const char **inp, const char **outpp) {
    xb_args a;
    xb_args_init(&a, argc, argv);
    const char *in = NULL, *outp = NULL, *v;
    while (xb_args_next(&a)) {
        if (xb_args_help(&a)) {
            usage(stdout);
            return 0;
        } else if (xb_args_opt(&a, "-o", &v) || xb_args_opt(&a, "--out", &v)) {
            outp = v;
        } else if (xb_args_one(&a, "FILE", &in)) {
        } else {
            return xb_args_unknown(&a);
        }
    }
    if (a.error || !xb_args_need(&a, "FILE", in) || !xb_args_need(&a, "-o F.html", outp)) return 2;
    xb_ctx ctx = {0};
    const char *inputs[] = {in};
    if (xb_outfile_check("-o", outp, inputs, 1, &ctx) != XB_OK) {
        xb_report_error(&ctx);
        return 2;
    }
    *inp = in;
    *outpp = outp;
    return -1;
}

int xb_cmd_report_args(int argc, char **argv) {
    const char *in, *outp;
    return parse(argc, argv, &in, &outp);
}

int xb_cmd_report(int argc, char **argv) {
    const char *in = NULL, *outp = NULL;
    int rc = parse(argc, argv, &in, &outp);
    if (rc >= 0) return rc;
    xb_ctx ctx = {0};
    cJSON *json;
    xb_sweep_csv csv;
    xb_plots p = {0};
    xb_status st = xb_report_file_load(in, &json, &csv, &ctx);
    if (st == XB_OK) st = json ? xb_plots_from_report(json, &p, &ctx) : xb_plots_from_sweep(&csv, &p, &ctx);
    if (st == XB_OK)
        st = json ? xb_html_write_report(json, &p, outp, &ctx) : xb_html_write_sweep(&csv, &p, in, outp, &ctx);
    cJSON_Delete(json);
    xb_sweep_csv_free(&csv);
    xb_plots_free(&p);
    if (st != XB_OK) {
        xb_report_error(&ctx);
        return 1;
    }
    return 0;
}
