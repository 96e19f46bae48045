#include "cli/reports.h"

#include <cjson/cJSON.h>

#include "eval/html.h"
#include "eval/plots.h"
#include "eval/report.h"

xb_status xb_cli_write_reports(cJSON *report, const xb_provenance *p, const xb_cli_reports *r,
                               xb_ctx *ctx) {
    cJSON_AddItemToObject(report, "provenance", xb_provenance_json(p));
    xb_plots plots = {0};
    xb_status st = XB_OK;
    if (r->html || r->plot_dir) st = xb_plots_from_report(report, &plots, ctx);
    if (st == XB_OK && r->plot_dir) st = xb_plots_write_dir(&plots, r->plot_dir, ctx);
    if (st == XB_OK && r->html) st = xb_html_write_report(report, &plots, r->html, ctx);
    /* JSON last: on stdout it is the final output */
    if (st == XB_OK && r->json) st = xb_json_write(report, r->json, ctx);
    xb_plots_free(&plots);
    return st;
}
