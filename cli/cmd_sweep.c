/* xbar sweep MODEL --data SPEC --arch A --vary KEY=SPEC...: the analog run
 * over a grid of architecture settings, one CSV row per configuration.
 *
 * One session (eval/session.h) holds the model, the data and the
 * calibration images, chosen as xbar run chooses them; the model is
 * quantized once per (weight_bits, input_bits) pair (with those bits, as
 * xbar run does), every configuration runs the same images, and each row
 * carries the int8 accuracy of its quantized model so the analog loss can
 * be read off directly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/arch_opts.h"
#include "cli/args.h"
#include "cli/cli.h"
#include "eval/report.h"
#include "eval/session.h"

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

typedef struct {
    xb_cli_arch ao;
    vary vs[MAX_VARY];
    int nv;
    const char *model, *data, *csv;
    long long limit, calib, threads;
} sweep_args;

static int64_t n_configs(const sweep_args *sa) {
    int64_t n = 1;
    for (int i = 0; i < sa->nv; i++) n *= sa->vs[i].n;
    return n;
}

/* -1: go on; else the exit code. */
static int parse(int argc, char **argv, sweep_args *sa) {
    xb_args a;
    xb_args_init(&a, argc, argv);
    const char *v;
    sa->calib = 100;
    while (xb_args_next(&a)) {
        if (xb_args_help(&a)) {
            usage(stdout);
            return 0;
        } else if (xb_cli_arch_opt(&a, &sa->ao)) {
        } else if (xb_args_opt(&a, "--vary", &v)) {
            if (!v) break;
            if (sa->nv >= MAX_VARY) {
                xb_args_fail(&a, "at most %d --vary options", MAX_VARY);
                break;
            }
            if (!parse_vary(&a, v, &sa->vs[sa->nv])) break;
            sa->nv++;
        } else if (xb_args_opt(&a, "--data", &v)) {
            sa->data = v;
        } else if (xb_args_opt(&a, "--csv", &v)) {
            sa->csv = v;
        } else if (xb_args_opt(&a, "--limit", &v)) {
            xb_args_int(&a, v, 1, XB_DATASET_MAX_IMAGES, &sa->limit);
        } else if (xb_args_opt(&a, "--calib", &v)) {
            xb_args_int(&a, v, 1, 100000, &sa->calib);
        } else if (xb_args_opt(&a, "--threads", &v)) {
            xb_args_int(&a, v, 1, 1024, &sa->threads);
        } else if (xb_args_one(&a, "MODEL", &sa->model)) {
        } else {
            return xb_args_unknown(&a);
        }
    }
    if (a.error) return 2;
    if (!sa->model || !sa->data || sa->nv == 0) {
        xb_args_fail(&a, "MODEL, --data and at least one --vary are required (see --help)");
        return 2;
    }
    if (n_configs(sa) > 4096) {
        xb_args_fail(&a, "%lld configurations: too many (at most 4096)", (long long)n_configs(sa));
        return 2;
    }
    return -1;
}

/* Configuration ci: base with the varied values applied; vals[i] receives
 * the value of --vary i. */
static xb_status config_arch(const sweep_args *sa, const xb_arch *base, int64_t ci, xb_arch *t,
                             const char **vals, xb_ctx *ctx) {
    *t = *base;
    int64_t r = ci;
    for (int i = sa->nv - 1; i >= 0; i--) {
        const vary *v = &sa->vs[i];
        char as[256];
        vals[i] = v->vals[r % v->n];
        snprintf(as, sizeof as, "%s=%s", v->key, vals[i]);
        r /= v->n;
        XB_TRY(xb_arch_set(t, as, ctx));
    }
    return XB_OK;
}

/* Check every configuration before running anything; 0 or the exit code. */
static int check_configs(const sweep_args *sa, xb_arch *base, xb_ctx *ctx) {
    if (xb_cli_arch_build(&sa->ao, base, ctx) != XB_OK) {
        xb_report_error(ctx);
        return 2;
    }
    int64_t ncfg = n_configs(sa);
    for (int64_t ci = 0; ci < ncfg; ci++) {
        xb_arch t;
        const char *vals[MAX_VARY];
        if (config_arch(sa, base, ci, &t, vals, ctx) != XB_OK) {
            xb_report_error(ctx);
            return 2;
        }
        if (xb_arch_check_simulable(&t, ctx) != XB_OK) {
            xb_report_error(ctx);
            return 2;
        }
    }
    return 0;
}

static void write_header(FILE *out, const sweep_args *sa) {
    for (int i = 0; i < sa->nv; i++) fprintf(out, "%s,", sa->vs[i].key);
    fprintf(out, "images,analog_correct,analog_accuracy,int8_accuracy,energy_pj_per_inference,"
                 "adc_energy_share,conversions_per_mac,adc_conversions,saturation_rate,latency_ns,"
                 "tops_per_w,images_per_s,crossbars,tiles,pipelined_images_per_s,adc_energy_pj\n");
    fflush(out);
}

static void write_row(FILE *out, const sweep_args *sa, const char **vals, const xb_session *s) {
    const xb_run_result *ra = xb_session_result(s, XB_SESSION_ANALOG),
                        *rq = xb_session_result(s, XB_SESSION_INT8);
    const xb_cost *c = xb_session_cost(s);
    const xb_mapping *m = xb_session_mapping(s);
    int64_t conv, sat;
    xb_session_adc_counts(s, &conv, &sat);
    for (int i = 0; i < sa->nv; i++) fprintf(out, "%s,", vals[i]);
    fprintf(out, "%lld,%lld,%.6f,%.6f,%.6g,%.6f,%.6f,%lld,%.6g,%.6g,%.6g,%.2f,%lld,%lld,%.6g,%.6g\n",
            (long long)ra->total, (long long)ra->correct1,
            ra->total ? (double)ra->correct1 / (double)ra->total : 0.0,
            rq->total ? (double)rq->correct1 / (double)rq->total : 0.0, c->energy_pj, c->adc_share,
            c->conversions_per_mac, (long long)c->conversions,
            conv ? (double)sat / (double)conv : 0.0, c->latency_ns, c->tops_per_w,
            ra->images_per_s, (long long)m->xbars, (long long)m->tiles, c->pipelined_ips,
            c->pj[XB_E_ADC]);
    fflush(out);
}

/* One configuration: quantization (redone only when its bits change), int8
 * run (idem), backend, ADC calibration, analog run, cost. */
static xb_status run_config(xb_session *s, const xb_arch *t, xb_ctx *ctx) {
    xb_quant_opts qo = xb_quant_opts_default();
    qo.w_bits = t->weight_bits;
    qo.x_bits = t->input_bits < 2 ? 2 : t->input_bits;
    XB_TRY(xb_session_quantize(s, &qo, ctx));
    XB_TRY(xb_session_run_int8(s, ctx));
    XB_TRY(xb_session_build_backend(s, t, ctx));
    if (xb_arch_needs_calibration(t)) XB_TRY(xb_session_calibrate_adc(s, ctx));
    return xb_session_run_analog(s, ctx);
}

static xb_status open_session(const sweep_args *sa, xb_session **s, xb_ctx *ctx) {
    xb_session_opts so = {.threads = (int)sa->threads, .progress = true, .profile_images = -1};
    XB_TRY(xb_session_open(sa->model, &so, s, ctx));
    XB_TRY(xb_session_open_data(*s, sa->data, sa->limit, ctx));
    XB_TRY(xb_session_choose_calibration(*s, sa->calib, ctx));
    const xb_session_calib *c = xb_session_calibration(*s);
    xb_report_note("calibration on %lld images #%lld..#%lld of %s (%s)", (long long)c->n,
                   (long long)c->first, (long long)(c->first + c->n - 1), c->source, c->how);
    return XB_OK;
}

int xb_cmd_sweep(int argc, char **argv) {
    sweep_args sa = {0};
    int rc = parse(argc, argv, &sa);
    if (rc >= 0) return rc;
    xb_ctx ctx = {0};
    xb_arch base;
    if ((rc = check_configs(&sa, &base, &ctx)) != 0) return rc;
    rc = 1;
    xb_session *s = NULL;
    FILE *out = stdout;
    if (open_session(&sa, &s, &ctx) != XB_OK) goto done;
    if (sa.csv && strcmp(sa.csv, "-")) {
        out = fopen(sa.csv, "w");
        if (!out) {
            xb_fail(&ctx, XB_ERR_IO, "%s: cannot write", sa.csv);
            out = stdout;
            goto done;
        }
    }
    write_header(out, &sa);
    for (int64_t ci = 0; ci < n_configs(&sa); ci++) {
        xb_arch t;
        const char *vals[MAX_VARY];
        if (config_arch(&sa, &base, ci, &t, vals, &ctx) != XB_OK) goto done; /* checked above */
        if (run_config(s, &t, &ctx) != XB_OK) goto done;
        write_row(out, &sa, vals, s);
    }
    rc = 0;
done:
    if (rc) xb_report_error(&ctx);
    if (out != stdout && fclose(out) != 0 && rc == 0) {
        fprintf(stderr, "xbar sweep: %s: write failed\n", sa.csv);
        rc = 1;
    }
    xb_session_free(s);
    return rc;
}
