/* The report files every command that makes a JSON report can write:
 * --json (with the provenance block), --plot DIR (SVG), --html F. */
#ifndef XBAR_CLI_REPORTS_H
#define XBAR_CLI_REPORTS_H

#include "eval/provenance.h"
#include "runtime/status.h"

struct cJSON;

typedef struct {
    const char *json, *html, *plot_dir;
} xb_cli_reports;

static inline bool xb_cli_reports_any(const xb_cli_reports *r) {
    return r->json || r->html || r->plot_dir;
}
/* Adds "provenance" to `report` (taking nothing else), then writes each
 * requested file. */
xb_status xb_cli_write_reports(struct cJSON *report, const xb_provenance *p, const xb_cli_reports *r,
                               xb_ctx *ctx);

#endif
