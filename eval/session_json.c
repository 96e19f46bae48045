/* The run report as JSON (`xbar run --json`, xbar_report_json in the C API):
 * one builder, so the CLI and the library write the same keys. */
#include <cjson/cJSON.h>

#include "backend/profile.h"
#include "eval/report.h"
#include "eval/session.h"

static cJSON *json_int8(const xb_session *s, const xb_quant_opts *qo) {
    bool preq = xb_session_prequantized(s);
    cJSON *q = xb_json_run_result(xb_session_result(s, XB_SESSION_INT8));
    cJSON_AddBoolToObject(q, "prequantized", preq);
    const xb_session_calib *c = xb_session_calibration(s);
    if (!preq && c && qo) {
        cJSON_AddNumberToObject(q, "w_bits", qo->w_bits);
        cJSON_AddNumberToObject(q, "x_bits", qo->x_bits);
        cJSON_AddStringToObject(q, "calib_method",
                                qo->method == XB_QUANT_PERCENTILE ? "percentile" : "minmax");
        cJSON_AddNumberToObject(q, "calib_images", (double)c->n);
        cJSON_AddNumberToObject(q, "calib_first", (double)c->first);
        cJSON_AddStringToObject(q, "calib_source", c->source);
    }
    return q;
}

/* The pre-ADC column-sum histogram of each layer, merged to at most 96 bins
 * over the observed span (the plots read it), and the ADC's range in the
 * same units (code range x LSB; absent when lossless). */
#define HIST_JSON_BINS 96
static void add_histograms(cJSON *layers, const xb_backend *be) {
    int i = 0;
    for (cJSON *o = layers ? layers->child : NULL; o && i < be->n; o = o->next, i++) {
        const xb_crossbar_stats *st = &be->stats[i];
        const xb_crossbar_config *c = xb_crossbar_cfg(be->layers[i]);
        if (!c->lossless) {
            cJSON_AddNumberToObject(o, "adc_range_lo", (double)c->code_lo * c->lsb);
            cJSON_AddNumberToObject(o, "adc_range_hi", (double)c->code_hi * c->lsb);
        }
        if (!st->hist || !st->observed) continue;
        int first = -1, last = -1;
        for (int k = 0; k < st->hist_bins; k++)
            if (st->hist[k]) {
                if (first < 0) first = k;
                last = k;
            }
        if (first < 0) continue;
        int span = last - first + 1, merge = (span + HIST_JSON_BINS - 1) / HIST_JSON_BINS;
        cJSON *h = cJSON_AddObjectToObject(o, "adc_histogram");
        cJSON_AddNumberToObject(h, "lo", (double)(st->hist_lo + (int64_t)first * st->hist_width));
        cJSON_AddNumberToObject(h, "width", (double)(st->hist_width * merge));
        cJSON *counts = cJSON_AddArrayToObject(h, "counts");
        for (int k = first; k <= last; k += merge) {
            int64_t sum = 0;
            for (int j = k; j < k + merge && j <= last; j++) sum += st->hist[j];
            cJSON_AddItemToArray(counts, cJSON_CreateNumber((double)sum));
        }
    }
}

cJSON *xb_session_run_json(const xb_session *s, const char *model, const char *dataset) {
    cJSON *json = cJSON_CreateObject();
    cJSON_AddStringToObject(json, "model", model ? model : xb_session_model(s));
    cJSON_AddStringToObject(json, "dataset", dataset ? dataset : "");
    cJSON_AddStringToObject(json, "dataset_path", xb_session_data(s)->path);
    cJSON_AddNumberToObject(json, "images", (double)xb_session_count(s));
    if (xb_session_result(s, XB_SESSION_FLOAT)->total)
        cJSON_AddItemToObject(json, "float",
                              xb_json_run_result(xb_session_result(s, XB_SESSION_FLOAT)));
    if (xb_session_result(s, XB_SESSION_INT8)->total)
        cJSON_AddItemToObject(json, "int8", json_int8(s, xb_session_quant_opts(s)));
    const xb_backend *be = xb_session_backend(s);
    if (be && xb_session_cost(s) && xb_session_result(s, XB_SESSION_ANALOG)->total) {
        const xb_mapping *map = xb_session_mapping(s);
        const xb_cost *cost = xb_session_cost(s);
        cJSON *an = xb_json_run_result(xb_session_result(s, XB_SESSION_ANALOG));
        cJSON_AddStringToObject(an, "arch", xb_session_arch(s)->name);
        cJSON_AddItemToObject(json, "analog", an);
        cJSON *layers = xb_profile_json_layers(map, cost, be);
        add_histograms(layers, be);
        cJSON_AddItemToObject(json, "layers", layers);
        cJSON_AddItemToObject(json, "totals", xb_profile_json_totals(map, cost, be));
    }
    return json;
}
