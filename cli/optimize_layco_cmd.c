/* xbar optimize MODEL --data SPEC --method layco [--arch layco] --out F.json
 * (dispatched from cmd_optimize.c):
 * search an architecture and write it as a file --arch reads back.
 *
 * LayCO's method (eval/optimize_layco.h): per-layer supply voltage and
 * converter bits on a validation split of the data. */
#include <stdio.h>
#include <string.h>

#include "cli/arch_opts.h"
#include "cli/args.h"
#include "cli/cli.h"
#include "eval/optimize_layco.h"
#include "eval/outfile.h"
#include "eval/report.h"
#include "eval/session.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: xbar optimize MODEL.onnx --data SPEC --method layco [--arch A] --out F.json\n"
            "                     [options]\n\n"
            "LayCO (JCST 2023, reconstructed): lower each layer's supply voltage, then its\n"
            "converter bits, least sensitive layers first, while the analog top-1 on a\n"
            "validation split stays within --max-loss points of the untuned arch; write the\n"
            "tuned architecture (buffer.layer_voltage, buffer.layer_bits) to F.json.\n\n"
            "  --method layco      this method (--method lrmp: see xbar optimize --help)\n"
            "  --arch A            starting architecture with analog buffers (default layco)\n"
            "  --set KEY=VALUE     override one field of it (repeatable)\n"
            "  --data SPEC         as for xbar run (mnist, cifar10, a path)\n"
            "  --val-offset N      the validation split: images N .. N+L-1 of the data\n"
            "                      (default 5000); keep it away from the test images you\n"
            "                      report (xbar run evaluates from image 0 and calibrates\n"
            "                      on the images right after them)\n"
            "  --val-limit L       validation images (default 500)\n"
            "  --calib N           quantization / ADC calibration images (default 100),\n"
            "                      the ones right after the validation split\n"
            "  --max-loss P        accuracy loss budget in top-1 points (default 1)\n"
            "  --v-min V           lowest supply voltage tried (default 0.5)\n"
            "  --v-step V          voltage ladder step (default 0.1)\n"
            "  --bits-min B        lowest converter bits tried (default 3)\n"
            "  --out F.json        the tuned architecture (required)\n"
            "  --threads T         worker threads\n\n"
            "Exit status: 0 ok, 1 the job failed, 2 usage error.\n");
}

typedef struct {
    xb_cli_arch ao;
    const char *model, *data, *out, *method;
    long long val_offset, val_limit, calib, threads, bits_min;
    double max_loss, v_min, v_step;
} opt_args;

static bool parse_opt(xb_args *a, opt_args *o) {
    const char *v;
    if (xb_args_opt(a, "--method", &v)) o->method = v;
    else if (xb_args_opt(a, "--data", &v)) o->data = v;
    else if (xb_args_opt(a, "--out", &v)) o->out = v;
    else if (xb_args_opt(a, "--val-offset", &v)) xb_args_int(a, v, 0, XB_DATASET_MAX_IMAGES, &o->val_offset);
    else if (xb_args_opt(a, "--val-limit", &v)) xb_args_int(a, v, 1, XB_DATASET_MAX_IMAGES, &o->val_limit);
    else if (xb_args_opt(a, "--calib", &v)) xb_args_int(a, v, 1, 100000, &o->calib);
    else if (xb_args_opt(a, "--max-loss", &v)) xb_args_real(a, v, 0, 100, false, &o->max_loss);
    else if (xb_args_opt(a, "--v-min", &v)) xb_args_real(a, v, 0, 10, true, &o->v_min);
    else if (xb_args_opt(a, "--v-step", &v)) xb_args_real(a, v, 0, 10, true, &o->v_step);
    else if (xb_args_opt(a, "--bits-min", &v)) xb_args_int(a, v, 1, 24, &o->bits_min);
    else if (xb_args_opt(a, "--threads", &v)) xb_args_threads(a, v, &o->threads);
    else return false;
    return true;
}

/* -1: go on; else the exit code. */
static int parse(int argc, char **argv, opt_args *o) {
    xb_args a;
    xb_args_init(&a, argc, argv);
    xb_layco_opts d = xb_layco_opts_default();
    *o = (opt_args){.method = "layco", .val_offset = 5000, .val_limit = 500, .calib = 100,
                    .bits_min = d.bits_min, .max_loss = d.max_loss, .v_min = d.v_min,
                    .v_step = d.v_step};
    o->ao.arch = "layco";
    while (xb_args_next(&a)) {
        if (xb_args_help(&a)) {
            usage(stdout);
            return 0;
        } else if (xb_cli_arch_opt(&a, &o->ao) || parse_opt(&a, o)) {
        } else if (xb_args_one(&a, "MODEL", &o->model)) {
        } else {
            return xb_args_unknown(&a);
        }
    }
    if (a.error) return 2;
    if (!o->model || !o->data || !o->out) {
        xb_args_fail(&a, "MODEL, --data and --out are required (see --help)");
        return 2;
    }
    if (strcmp(o->method, "layco") != 0) {
        xb_args_fail(&a, "--method %s: expected layco here", o->method);
        return 2;
    }
    if (!o->threads) o->threads = xb_args_clamp_threads(0);
    return -1;
}

static xb_status run(const opt_args *o, xb_ctx *ctx) {
    xb_arch base, tuned;
    XB_TRY(xb_cli_arch_build(&o->ao, &base, ctx));
    const char *in[] = {o->model, o->data};
    XB_TRY(xb_outfile_check("--out", o->out, in, 2, ctx));
    xb_session_opts so = {.threads = (int)o->threads, .offset = o->val_offset};
    xb_session *s = NULL;
    xb_status st = xb_session_open(o->model, &so, &s, ctx);
    if (st == XB_OK) st = xb_session_open_data(s, o->data, o->val_limit, ctx);
    if (st == XB_OK) st = xb_session_choose_calibration(s, o->calib, ctx);
    xb_quant_opts qo = xb_quant_opts_default();
    qo.w_bits = base.weight_bits;
    qo.x_bits = base.input_bits < 2 ? 2 : base.input_bits;
    if (st == XB_OK) st = xb_session_quantize(s, &qo, ctx);
    if (st == XB_OK) st = xb_session_run_int8(s, ctx);
    xb_layco_opts lo = {.max_loss = o->max_loss, .v_min = o->v_min, .v_step = o->v_step,
                        .bits_min = (int)o->bits_min, .progress = true};
    xb_layco_result r;
    if (st == XB_OK) st = xb_optimize_layco(s, &base, &lo, &tuned, &r, ctx);
    if (st == XB_OK) {
        xb_outfile f;
        st = xb_outfile_open(&f, o->out, ctx);
        if (st == XB_OK) {
            xb_arch_write_json(&tuned, f.f, 0);
            st = xb_outfile_commit(&f, ctx);
        }
    }
    if (st == XB_OK) {
        const xb_run_result *q = xb_session_result(s, XB_SESSION_INT8);
        double n = (double)r.images;
        printf("validation: images %lld..%lld of %s (%lld images); int8 top-1 %.2f%%\n",
               o->val_offset, o->val_offset + r.images - 1, o->data, (long long)r.images,
               100.0 * (double)q->correct1 / n);
        printf("base  %-10s top-1 %.2f%% (%lld), %.4g pJ per inference\n", base.name,
               100.0 * (double)r.base_correct / n, (long long)r.base_correct, r.base_energy_pj);
        printf("tuned %-10s top-1 %.2f%% (%lld), %.4g pJ per inference: %.2fx less energy, "
               "%.2f points lost (budget %.2f), %d evaluations\n",
               tuned.name, 100.0 * (double)r.tuned_correct / n, (long long)r.tuned_correct,
               r.tuned_energy_pj, r.base_energy_pj / r.tuned_energy_pj,
               100.0 * (double)(r.base_correct - r.tuned_correct) / n, o->max_loss, r.evaluations);
        printf("buffer.layer_voltage = %s\nbuffer.layer_bits = %s\nwritten: %s\n",
               tuned.buf_layer_v, tuned.buf_layer_bits, o->out);
    }
    xb_session_free(s);
    return st;
}

int xb_cmd_optimize_layco(int argc, char **argv) {
    opt_args o;
    int rc = parse(argc, argv, &o);
    if (rc >= 0) return rc;
    xb_ctx ctx = {0};
    if (run(&o, &ctx) != XB_OK) {
        xb_report_error(&ctx);
        return 1;
    }
    return 0;
}
