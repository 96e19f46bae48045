/* xbar sweep MODEL --data SPEC --arch A --vary KEY=SPEC...: the analog run
 * over a grid of architecture settings, one CSV row per configuration.
 *
 * The model is quantized once per (weight_bits, input_bits) pair (with
 * those bits, as xbar run does), every configuration runs the same images,
 * and each row carries the int8 accuracy of its quantized model so the
 * analog loss can be read off directly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend/cost.h"
#include "backend/engine.h"
#include "cli/args.h"
#include "eval/dataset.h"
#include "eval/preprocess.h"
#include "frontend/quantize.h"
#include "eval/report.h"
#include "eval/runner.h"
#include "cli/arch_opts.h"
#include "cli/cli.h"

#define MAX_VARY 8
#define MAX_VALUES 64

typedef struct {
    char key[128];
    int n;
    char vals[MAX_VALUES][64];
} vary;

static void usage(FILE *f) {
    fprintf(f,
            "usage: xbar sweep MODEL.onnx --data SPEC [--arch A] [--set KEY=VALUE]...\n"
            "                  --vary KEY=SPEC [--vary KEY=SPEC]... [options]\n\n"
            "Run the analog mode for every combination of the varied architecture fields and\n"
            "write one CSV row per configuration: the varied values, analog and int8 accuracy,\n"
            "energy per inference, ADC energy share, conversions per MAC, saturation rate,\n"
            "latency, TOPS/W, images/s (simulation speed), crossbars, tiles and\n"
            "layer-pipelined images/s of the modelled chip.\n\n" XB_CLI_ARCH_HELP
            "  --vary KEY=SPEC     SPEC is LO:HI or LO:HI:STEP (integers) or V1,V2,... ;\n"
            "                      e.g. --vary adc.bits=4:8 --vary encoding=offset,differential,center\n"
            "  --data SPEC         as for xbar run (mnist, cifar10, a path)\n"
            "  --limit N           evaluate the first N images (default: all)\n"
            "  --calib N           quantization / ADC calibration images (default 100)\n"
            "  --csv F             output file (default: stdout)\n"
            "  --threads T         worker threads\n\n"
            "Exit status: 0 ok, 1 the job failed, 2 usage error.\n");
}

static bool parse_vary(xb_args *a, const char *spec, vary *v) {
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || (size_t)(eq - spec) >= sizeof v->key) {
        xb_args_fail(a, "--vary '%s': expected KEY=LO:HI or KEY=V1,V2,...", spec);
        return false;
    }
    memcpy(v->key, spec, (size_t)(eq - spec));
    v->key[eq - spec] = '\0';
    const char *s = eq + 1;
    if (strchr(s, ':')) {
        char *e1, *e2, *e3;
        long lo = strtol(s, &e1, 10), hi = 0, step = 1;
        bool ok = e1 != s && *e1 == ':';
        if (ok) {
            hi = strtol(e1 + 1, &e2, 10);
            ok = e2 != e1 + 1 && (*e2 == '\0' || *e2 == ':');
            if (ok && *e2 == ':') {
                step = strtol(e2 + 1, &e3, 10);
                ok = e3 != e2 + 1 && *e3 == '\0';
            }
        }
        if (!ok || step == 0 || (hi - lo) / step < 0 || (hi - lo) / step >= MAX_VALUES) {
            xb_args_fail(a, "--vary %s: '%s' is not a range LO:HI[:STEP] of at most %d values",
                         v->key, s, MAX_VALUES);
            return false;
        }
        v->n = 0;
        for (long x = lo; step > 0 ? x <= hi : x >= hi; x += step)
            snprintf(v->vals[v->n++], sizeof v->vals[0], "%ld", x);
        return true;
    }
    v->n = 0;
    while (*s) {
        const char *c = strchr(s, ',');
        size_t len = c ? (size_t)(c - s) : strlen(s);
        if (len == 0 || len >= sizeof v->vals[0] || v->n >= MAX_VALUES) {
            xb_args_fail(a, "--vary %s: bad value list '%s'", v->key, eq + 1);
            return false;
        }
        memcpy(v->vals[v->n], s, len);
        v->vals[v->n++][len] = '\0';
        s += len + (c ? 1 : 0);
    }
    if (v->n == 0) {
        xb_args_fail(a, "--vary %s: no values", v->key);
        return false;
    }
    return true;
}

int xb_cmd_sweep(int argc, char **argv) {
    xb_args a;
    xb_args_init(&a, argc, argv);
    xb_cli_arch ao = {0};
    static vary vs[MAX_VARY];
    int nv = 0;
    const char *model = NULL, *data = NULL, *csv = NULL, *v;
    long long limit = 0, calib = 100, threads = 0;
    while (xb_args_next(&a)) {
        if (xb_args_help(&a)) {
            usage(stdout);
            return 0;
        } else if (xb_cli_arch_opt(&a, &ao)) {
        } else if (xb_args_opt(&a, "--vary", &v)) {
            if (!v) break;
            if (nv >= MAX_VARY) {
                xb_args_fail(&a, "at most %d --vary options", MAX_VARY);
                break;
            }
            if (!parse_vary(&a, v, &vs[nv])) break;
            nv++;
        } else if (xb_args_opt(&a, "--data", &v)) {
            data = v;
        } else if (xb_args_opt(&a, "--csv", &v)) {
            csv = v;
        } else if (xb_args_opt(&a, "--limit", &v)) {
            xb_args_int(&a, v, 1, XB_DATASET_MAX_IMAGES, &limit);
        } else if (xb_args_opt(&a, "--calib", &v)) {
            xb_args_int(&a, v, 1, 100000, &calib);
        } else if (xb_args_opt(&a, "--threads", &v)) {
            xb_args_int(&a, v, 1, 1024, &threads);
        } else if (xb_args_one(&a, "MODEL", &model)) {
        } else {
            return xb_args_unknown(&a);
        }
    }
    if (a.error) return 2;
    if (!model || !data || nv == 0) {
        xb_args_fail(&a, "MODEL, --data and at least one --vary are required (see --help)");
        return 2;
    }
    xb_ctx ctx = {0};
    xb_arch base;
    if (xb_cli_arch_build(&ao, &base, &ctx) != XB_OK) {
        xb_report_error(&ctx);
        return 2;
    }
    /* Check every configuration before running anything. */
    int64_t ncfg = 1;
    for (int i = 0; i < nv; i++) ncfg *= vs[i].n;
    if (ncfg > 4096) {
        xb_args_fail(&a, "%lld configurations: too many (at most 4096)", (long long)ncfg);
        return 2;
    }
    for (int64_t ci = 0; ci < ncfg; ci++) {
        xb_arch t = base;
        int64_t r = ci;
        for (int i = nv - 1; i >= 0; i--) {
            char as[256];
            snprintf(as, sizeof as, "%s=%s", vs[i].key, vs[i].vals[r % vs[i].n]);
            r /= vs[i].n;
            if (xb_arch_set(&t, as, &ctx) != XB_OK) {
                xb_report_error(&ctx);
                return 2;
            }
        }
        if (t.weight_bits > 8 || t.input_bits > 8) {
            fprintf(stderr, "xbar sweep: analog runs need weight_bits and input_bits <= 8\n");
            return 2;
        }
    }

    int rc = 1;
    xb_graph *fg = NULL, *qg = NULL;
    xb_preproc pp = {0};
    xb_dataset *d = NULL;
    float *cal = NULL;
    FILE *out = stdout;
    int qw = -1, qx = -1;
    xb_run_result rq = {0};
    if (xb_model_load(model, &fg, &pp, &ctx) != XB_OK) goto done;
    if (xb_dataset_open(data, &d, &ctx) != XB_OK) goto done;
    char note[512];
    if (xb_dataset_match_classes(d, pp.class_names, pp.n_classes, note, sizeof note, &ctx) != XB_OK)
        goto done;
    if (xb_preproc_check(&pp, d->c, d->h, d->w, d->path, &ctx) != XB_OK) goto done;
    int64_t count = d->n;
    if (limit > 0 && limit < count) count = limit;
    int64_t calib_n = calib < d->n ? calib : d->n;
    int64_t calib_first = count + calib_n <= d->n ? count : 0;
    size_t per = (size_t)pp.c * (size_t)pp.h * (size_t)pp.w;
    bool already_q = xb_graph_count_quantized(fg) > 0;
    if (!already_q) {
        cal = xb_calloc(&ctx, (size_t)calib_n * per, sizeof(float));
        if (!cal) goto done;
        for (int64_t i = 0; i < calib_n; i++)
            xb_preproc_image(&pp, xb_dataset_image(d, calib_first + i), d->c, cal + (size_t)i * per);
    }
    if (csv && strcmp(csv, "-")) {
        out = fopen(csv, "w");
        if (!out) {
            xb_fail(&ctx, XB_ERR_IO, "%s: cannot write", csv);
            out = stdout;
            goto done;
        }
    }
    for (int i = 0; i < nv; i++) fprintf(out, "%s,", vs[i].key);
    fprintf(out, "images,analog_correct,analog_accuracy,int8_accuracy,energy_pj_per_inference,"
                 "adc_energy_share,conversions_per_mac,adc_conversions,saturation_rate,latency_ns,"
                 "tops_per_w,images_per_s,crossbars,tiles,pipelined_images_per_s,adc_energy_pj\n");
    fflush(out);
    xb_run_opts o;
    xb_run_opts_init(&o);
    o.limit = count;
    o.threads = (int)threads;
    o.progress = true;
    for (int64_t ci = 0; ci < ncfg; ci++) {
        xb_arch t = base;
        int64_t r = ci;
        const char *vals[MAX_VARY];
        for (int i = nv - 1; i >= 0; i--) {
            char as[256];
            vals[i] = vs[i].vals[r % vs[i].n];
            snprintf(as, sizeof as, "%s=%s", vs[i].key, vals[i]);
            r /= vs[i].n;
            xb_arch_set(&t, as, &ctx); /* checked above */
        }
        if (already_q) {
            qg = fg;
        } else if (t.weight_bits != qw || t.input_bits != qx) {
            if (qg && qg != fg) xb_graph_free(qg);
            qg = NULL;
            xb_quant_opts qo = xb_quant_opts_default();
            qo.w_bits = t.weight_bits;
            qo.x_bits = t.input_bits < 2 ? 2 : t.input_bits;
            qo.calib_images = (int)calib_n;
            if (xb_quantize(fg, cal, (int)calib_n, &qo, &qg, &ctx) != XB_OK) goto done;
            qw = t.weight_bits;
            qx = t.input_bits;
            o.engine = NULL;
            o.label = "int8";
            if (xb_run_dataset(qg, &pp, d, &o, &rq, &ctx) != XB_OK) goto done;
        }
        if (already_q && rq.total == 0) {
            o.engine = NULL;
            o.label = "int8";
            if (xb_run_dataset(qg, &pp, d, &o, &rq, &ctx) != XB_OK) goto done;
        }
        xb_backend *b = xb_backend_new(qg, &t, &ctx);
        if (!b) goto done;
        xb_cost *c = NULL;
        xb_run_result ra = {0};
        xb_status st = XB_OK;
        if (xb_arch_needs_calibration(&t)) {
            xb_backend_calibration_begin(b);
            xb_run_opts oc = o;
            oc.first = calib_first;
            oc.limit = calib_n;
            oc.engine = xb_backend_engine(b);
            oc.label = "adc-cal";
            xb_run_result rr = {0};
            st = xb_run_dataset(qg, &pp, d, &oc, &rr, &ctx);
            if (st == XB_OK) st = xb_backend_calibration_end(b, &ctx);
        }
        if (st == XB_OK) {
            xb_run_opts oa = o;
            oa.engine = xb_backend_engine(b);
            oa.label = "analog";
            st = xb_run_dataset(qg, &pp, d, &oa, &ra, &ctx);
        }
        if (st == XB_OK) c = xb_cost_compute(b->map, &ctx);
        if (st != XB_OK || !c) {
            xb_backend_free(b);
            goto done;
        }
        int64_t conv = 0, sat = 0;
        for (int i = 0; i < b->n; i++) {
            conv += b->stats[i].conversions;
            sat += b->stats[i].saturated;
        }
        for (int i = 0; i < nv; i++) fprintf(out, "%s,", vals[i]);
        fprintf(out, "%lld,%lld,%.6f,%.6f,%.6g,%.6f,%.6f,%lld,%.6g,%.6g,%.6g,%.2f,%lld,%lld,%.6g,%.6g\n",
                (long long)ra.total, (long long)ra.correct1,
                ra.total ? (double)ra.correct1 / (double)ra.total : 0.0,
                rq.total ? (double)rq.correct1 / (double)rq.total : 0.0, c->energy_pj,
                c->adc_share, c->conversions_per_mac, (long long)c->conversions,
                conv ? (double)sat / (double)conv : 0.0, c->latency_ns, c->tops_per_w,
                ra.images_per_s, (long long)b->map->xbars, (long long)b->map->tiles,
                c->pipelined_ips, c->pj[XB_E_ADC]);
        fflush(out);
        xb_cost_free(c);
        xb_backend_free(b);
    }
    rc = 0;
done:
    if (rc) xb_report_error(&ctx);
    if (out != stdout && fclose(out) != 0 && rc == 0) {
        fprintf(stderr, "xbar sweep: %s: write failed\n", csv);
        rc = 1;
    }
    free(cal);
    if (qg && qg != fg) xb_graph_free(qg);
    xb_graph_free(fg);
    xb_preproc_free(&pp);
    xb_dataset_free(d);
    return rc;
}
