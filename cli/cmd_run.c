/* xbar run MODEL --data SPEC: accuracy and speed, float and int8 side by
 * side on the same images, then the matrix layers.
 *
 * Flow (eval/session.h does every step; this file parses and prints): load
 * model and data -> [int8: calibration images, PTQ] -> float / int8 runs ->
 * [analog: backend, ADC calibration, run, cost] -> text report (+ JSON). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/profile.h"
#include "cli/arch_opts.h"
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/data_opts.h"
#include "cli/interrupt.h"
#include "cli/shard.h"
#include "cli/reports.h"
#include "eval/diagnose.h"
#include "eval/mixed_precision.h"
#include "eval/outfile.h"
#include "eval/progress.h"
#include "eval/report.h"
#include "eval/session.h"

#ifndef XBAR_SOURCE_DIR
#define XBAR_SOURCE_DIR "."
#endif

#define DEFAULT_MODEL XBAR_SOURCE_DIR "/models/lenet5_mnist.onnx"

/* The text report: stdout, or stderr when the JSON goes to stdout (--json -)
 * so that stdout is pure JSON. */
static FILE *out;

enum { MODE_FLOAT = 0, MODE_INT8 = 1, MODE_ALL = 2, MODE_ANALOG = 3 };
enum { CALIB_MINMAX = 0, CALIB_PERCENTILE = 1 };

typedef struct {
    const char *model, *data, *json;
    long long limit, calib, w_bits, x_bits, threads;
    uint64_t max_memory; /* --max-memory, 0: none */
    int mode, calib_method;
    double percentile;
    /* analog mode */
    xb_cli_arch arch;
    const char *csv, *adc_hist;
    long long profile_images;
    /* reports (eval/plots.h, eval/html.h, eval/diagnose.h) */
    const char *html, *plot_dir;
    int progress;
    double diag_threshold;
    long long diag_images;
    int argc;
    char **argv;
    bool w_bits_set, x_bits_set;
    xb_cli_data dopt; /* preprocessing, image geometry, --offset, --predictions */
    xb_shard shard;
} run_args;

static void usage(FILE *f) {
    fprintf(f,
            "usage: xbar run [MODEL.onnx] [--data SPEC] [options]\n\n"
            "Top-1/top-5 accuracy and images/s of the float model and its int8 version,\n"
            "side by side on the same images, then the matrix layers (K x N weight\n"
            "matrices, MACs, int8 quantization).\n\n"
            "  MODEL               default: %s\n"
            "  --data SPEC         mnist | fashion-mnist | cifar10 (from $XBAR_DATA/NAME or\n"
            "                      datasets/data/NAME, see datasets/fetch.sh), or a path: an IDX\n"
            "                      images file (labels beside it), a CIFAR .bin file, or a\n"
            "                      folder of class-named subfolders of PNG/JPEG files (read\n"
            "                      round robin"
            " over the classes, so --limit keeps them balanced).\n"
            "                      Default: the model's xbar.dataset if installed, else its\n"
            "                      bundled sample.\n"
            "  --limit N           evaluate the first N images (default: all)\n"
            "  --mode M            float | int8 | analog | all (default all)\n"
            "  --json FILE         also write a JSON report (\"-\" for stdout: the text report\n"
            "                      then goes to stderr, so stdout is pure JSON); it carries a\n"
            "                      \"provenance\" block (version, commit, model sha256, command)\n"
            "  --html F            a self-contained HTML report (tables, plots, diagnosis,\n"
            "                      arch, provenance; no scripts, no network)\n"
            "  --plot DIR          the plots as SVG files in DIR (see xbar plot --help)\n"
            "  --progress P        auto | bar | lines | none (default auto: a bar with rate\n"
            "                      and ETA on a terminal, else a line every 10 s)\n"
            "  --diagnose-threshold P  analog top-1 this many points below int8 triggers the\n"
            "                      collapse diagnosis (default 5; 100 turns it off)\n"
            "  --diagnose-images N images (from #0) the diagnosis re-runs per layer (default 50)\n"
            "  --threads T         worker threads (default: OMP_NUM_THREADS or all cores)\n"
            XB_ARGS_MAX_MEMORY_HELP
            XB_CLI_DATA_HELP
            "  --shard K/N         evaluate only the K-th of N contiguous parts of the images\n"
            "                      (0 <= K < N; calibration as without --shard); `xbar merge\n"
            "                      --json` joins the N --json reports into the whole run's\n"
            "                      (docs/SCALE.md).  Not with --csv / --adc-hist\n"
            "int8 (post-training quantization; a model that is already quantized, e.g. QDQ,\n"
            "runs as it is):\n"
            "  --calib N           calibration images (default 100): the N images right after\n"
            "                      the evaluated ones when the data has them, else the first\n"
            "                      N of the training split beside the data file (train-images-\n"
            "                      idx3-ubyte, data_batch_1.bin) when present, else the first N\n"
            "                      images of the data itself (the report says which)\n"
            "  --w-bits B          weight bits, 1..8, per output channel (default 8; 1 = binary\n"
            "                      +/-1 with scale mean |w|)\n"
            "  --x-bits B          activation bits, 2..8, per tensor (default 8)\n"
            "  --calib-method M    minmax | percentile (default minmax)\n"
            "  --percentile P      percentile of |activations| kept by the percentile\n"
            "                      method (default 99.99)\n"
            "analog (the int8 model on simulated RRAM crossbars; --mode all adds it when\n"
            "--arch is given, --mode analog runs it alone):\n" XB_CLI_ARCH_HELP
            "                      --w-bits/--x-bits default to the arch's weight_bits and\n"
            "                      input_bits, so int8 and analog compute on the same integers\n"
            "  --csv F             per-layer table (ADC activity, energy, latency) as CSV\n"
            "  --adc-hist F        histograms of pre-ADC column sums per layer, as CSV\n"
            "  --profile-images N  images (the first evaluated, from --offset on) whose every\n"
            "                      column sum is recorded for the zero share, max and\n"
            "                      histograms (default 16)\n\n"
            "Output files are written aside and renamed into place when complete; they must\n"
            "not be an input (model, data, arch).  Ctrl-C / SIGTERM stop within about a\n"
            "second, printing the results of the modes that completed.\n"
            "Exit status: 0 ok, 1 the job failed or the model DOES NOT FIT the chip (the\n"
            "results are still printed and written), 2 usage error, 130/143 interrupted by\n"
            "SIGINT/SIGTERM.\n",
            DEFAULT_MODEL);
}

static int parse(int argc, char **argv, run_args *r) {
    static const char *modes[] = {"float", "int8", "all", "analog", NULL};
    static const char *methods[] = {"minmax", "percentile", NULL};
    *r = (run_args){.calib = 100, .w_bits = 8, .x_bits = 8, .mode = MODE_ALL, .percentile = 99.99,
                    .profile_images = 16, .diag_threshold = 5.0, .diag_images = 50,
                    .argc = argc, .argv = argv};
    xb_args a;
    xb_args_init(&a, argc, argv);
    const char *v;
    while (xb_args_next(&a)) {
        if (xb_args_help(&a)) {
            usage(stdout);
            return 0;
        } else if (xb_args_opt(&a, "--data", &v)) {
            r->data = v;
        } else if (xb_args_opt(&a, "--json", &v)) {
            r->json = v;
        } else if (xb_args_opt(&a, "--limit", &v)) {
            xb_args_int(&a, v, 1, XB_DATASET_MAX_IMAGES, &r->limit);
        } else if (xb_args_opt(&a, "--calib", &v)) {
            xb_args_int(&a, v, 1, 100000, &r->calib);
        } else if (xb_args_opt(&a, "--w-bits", &v)) {
            xb_args_int(&a, v, 1, 8, &r->w_bits);
            r->w_bits_set = true;
        } else if (xb_args_opt(&a, "--x-bits", &v)) {
            xb_args_int(&a, v, 2, 8, &r->x_bits);
            r->x_bits_set = true;
        } else if (xb_cli_arch_opt(&a, &r->arch)) {
        } else if (xb_cli_data_opt(&a, &r->dopt)) {
        } else if (xb_args_opt(&a, "--html", &v)) {
            r->html = v;
        } else if (xb_args_opt(&a, "--plot", &v)) {
            r->plot_dir = v;
        } else if (xb_args_opt(&a, "--progress", &v)) {
            static const char *pm[] = {"auto", "bar", "lines", "none", NULL};
            r->progress = xb_args_choice(&a, v, pm);
        } else if (xb_args_opt(&a, "--diagnose-threshold", &v)) {
            xb_args_real(&a, v, 0.0, 100.0, false, &r->diag_threshold);
        } else if (xb_args_opt(&a, "--diagnose-images", &v)) {
            xb_args_int(&a, v, 1, XB_DATASET_MAX_IMAGES, &r->diag_images);
        } else if (xb_args_opt(&a, "--csv", &v)) {
            r->csv = v;
        } else if (xb_args_opt(&a, "--adc-hist", &v)) {
            r->adc_hist = v;
        } else if (xb_args_opt(&a, "--profile-images", &v)) {
            xb_args_int(&a, v, 0, XB_DATASET_MAX_IMAGES, &r->profile_images);
        } else if (xb_args_opt(&a, "--threads", &v)) {
            xb_args_threads(&a, v, &r->threads);
        } else if (xb_args_opt(&a, "--max-memory", &v)) {
            xb_args_bytes(&a, v, &r->max_memory);
        } else if (xb_args_opt(&a, "--shard", &v)) {
            xb_args_shard(&a, v, &r->shard);
        } else if (xb_args_opt(&a, "--mode", &v)) {
            r->mode = xb_args_choice(&a, v, modes);
        } else if (xb_args_opt(&a, "--calib-method", &v)) {
            r->calib_method = xb_args_choice(&a, v, methods);
        } else if (xb_args_opt(&a, "--percentile", &v)) {
            xb_args_real(&a, v, 50.0, 100.0, true, &r->percentile);
        } else if (xb_args_one(&a, "MODEL", &r->model)) {
        } else {
            return xb_args_unknown(&a);
        }
    }
    if (!a.error && r->shard.n && (r->csv || r->adc_hist))
        xb_args_fail(&a, "--shard: per-layer --csv / --adc-hist of a shard cannot be merged; use "
                         "--json (xbar merge --json)");
    return a.error ? 2 : -1;
}

static void print_result_row(xb_table *t, const char *mode, const xb_run_result *r) {
    xb_table_row(t);
    xb_table_cell(t, "%s", mode);
    xb_table_cell(t, "%.2f%%", r->total ? 100.0 * (double)r->correct1 / (double)r->total : 0.0);
    xb_table_cell(t, "%lld/%lld", (long long)r->correct1, (long long)r->total);
    xb_table_cell(t, "%.2f%%", r->total ? 100.0 * (double)r->correct5 / (double)r->total : 0.0);
    xb_table_cell(t, "%lld/%lld", (long long)r->correct5, (long long)r->total);
    xb_table_cell(t, "%.1f", r->images_per_s);
    xb_table_cell(t, "%d", r->threads);
}

/* Matrix layers of `g` (the int8 graph when there is one: it has the
 * quantization parameters; K, N and MACs are the same as the float one's). */
static void print_layers(const xb_graph *g, bool quant, xb_ctx *ctx) {
    xb_layer_stat *ls;
    int n;
    if (xb_layer_stats(g, &ls, &n, ctx) != XB_OK) return;
    static const char *hf[] = {">#", "layer", "op", ">K", ">N", ">groups", ">MACs"};
    static const char *hq[] = {">#", "layer", "op", ">K", ">N", ">groups", ">MACs",
                               ">x_bits", ">x_scale", ">x_zp", ">w_bits", "w_scale (min..max)"};
    xb_table t;
    xb_table_init(&t, quant ? 12 : 7, quant ? hq : hf);
    int k = 0;
    int64_t macs = 0;
    char nb[32];
    for (int i = 0; i < n; i++) {
        const xb_layer_stat *L = &ls[i];
        if (!L->matrix) continue;
        xb_table_row(&t);
        xb_table_cell(&t, "%d", k++);
        xb_table_cell(&t, "%s", L->name);
        xb_table_cell(&t, "%s", L->op);
        xb_table_cell(&t, "%lld", (long long)L->K);
        xb_table_cell(&t, "%lld", (long long)L->N);
        xb_table_cell(&t, "%lld", (long long)L->groups);
        xb_table_cell(&t, "%s", xb_fmt_count((double)L->macs, nb, sizeof nb));
        macs += L->macs;
        if (quant) {
            if (L->quantized) {
                xb_table_cell(&t, "%d", L->x_bits);
                xb_table_cell(&t, "%.4g", L->x_scale);
                xb_table_cell(&t, "%d", L->x_zero_point);
                xb_table_cell(&t, "%d", L->w_bits);
                xb_table_cell(&t, "%.3g..%.3g", L->w_scale_min, L->w_scale_max);
            } else {
                for (int c = 0; c < 4; c++) xb_table_cell(&t, "float");
                xb_table_cell(&t, "-");
            }
        }
    }
    fprintf(out, "\nmatrix layers (K x N weight matrix per group; MACs per image)\n");
    xb_table_print(&t, out, "  ");
    fprintf(out, "  total: %d matrix layers, %s MACs per image\n", k, xb_fmt_count((double)macs, nb, sizeof nb));
    xb_table_free(&t);
    free(ls);
}


/* Which modes run: float / int8 / analog. */
typedef struct {
    bool flt, int8, analog, need_q, already_q;
} run_modes;

/* The analog arch from --arch/--set (usage errors: rc 2). */
static int build_arch(run_args *ra, xb_arch *arch, xb_ctx *ctx) {
    ra->arch.model = ra->model;
    if (xb_cli_arch_build(&ra->arch, arch, ctx) != XB_OK) return 2;
    if (xb_arch_check_simulable(arch, ctx) != XB_OK) return 2;
    /* The same integers on both paths: the int8 model is quantized to the
     * precision the crossbars hold. */
    if (!ra->w_bits_set) ra->w_bits = arch->weight_bits;
    if (!ra->x_bits_set) ra->x_bits = arch->input_bits < 2 ? 2 : arch->input_bits;
    return 0;
}

static xb_status choose_modes(const run_args *ra, const xb_session *s, run_modes *m, xb_ctx *ctx) {
    m->analog = ra->mode == MODE_ANALOG || (ra->mode == MODE_ALL && ra->arch.arch);
    m->already_q = xb_session_prequantized(s);
    m->flt = ra->mode == MODE_FLOAT || ra->mode == MODE_ALL;
    m->int8 = ra->mode == MODE_INT8 || ra->mode == MODE_ALL;
    m->need_q = m->int8 || m->analog; /* the analog mode runs the int8 graph */
    if (m->already_q && m->flt) {
        int nq = xb_graph_count_quantized(xb_session_graph(s));
        if (ra->mode == MODE_FLOAT)
            return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                           "%s is already quantized (%d integer matrix layers): there is no float "
                           "version to run; use --mode int8",
                           ra->model, nq);
        xb_report_note("%s is already quantized: float mode skipped, int8 runs the model as it is",
                       ra->model);
        m->flt = false;
    }
    return XB_OK;
}

/* Calibration images (when quantizing or calibrating the ADC) and the int8
 * model, with its report line. */
static xb_status prepare_int8(const run_args *ra, const run_modes *m, const xb_arch *arch,
                              xb_session *s, xb_ctx *ctx) {
    if (!m->already_q ||
        (m->analog && (xb_arch_needs_calibration(arch) || arch->row_reorder))) /* row activity */
        XB_TRY(xb_session_choose_calibration(s, ra->calib, ctx));
    xb_quant_opts qo = xb_quant_opts_default();
    qo.w_bits = (int)ra->w_bits;
    qo.x_bits = (int)ra->x_bits;
    qo.method = ra->calib_method == CALIB_PERCENTILE ? XB_QUANT_PERCENTILE : XB_QUANT_MINMAX;
    qo.percentile = ra->percentile;
    XB_TRY(xb_quant_opts_layers_from_arch(xb_session_graph(s), arch, &qo, ctx));
    XB_TRY(xb_session_quantize(s, &qo, ctx));
    if (m->already_q) {
        fprintf(out, "int8     model quantized in the file (%d integer matrix layers), run as it is\n",
               xb_graph_count_quantized(xb_session_graph(s)));
        return XB_OK;
    }
    const xb_session_calib *c = xb_session_calibration(s);
    fprintf(out, "int8     post-training quantization: weights %lld-bit per output channel, "
           "activations %lld-bit per tensor,\n         %s calibration on %lld images #%lld..#%lld "
           "of %s\n         (%s)\n",
           ra->w_bits, ra->x_bits, ra->calib_method == CALIB_PERCENTILE ? "percentile" : "min/max",
           (long long)c->n, (long long)c->first, (long long)(c->first + c->n - 1), c->source,
           c->how);
    if (arch->layer_weight_bits[0] || arch->layer_input_bits[0])
        fprintf(out, "         per-layer bits from the arch (mixed precision): weights \"%s\", "
                     "inputs \"%s\"\n",
                arch->layer_weight_bits, arch->layer_input_bits);
    return XB_OK;
}

/* Backend, its report line, ADC calibration when the arch needs it, the
 * analog run and its cost. */
static xb_status run_analog(xb_session *s, const xb_arch *arch, xb_ctx *ctx) {
    XB_TRY(xb_session_build_backend(s, arch, ctx));
    fprintf(out, "analog   arch %s: %dx%d crossbars, %d b/cell, %d-bit DAC, ", arch->name, arch->rows,
           arch->cols, arch->bits_per_cell, arch->dac_bits);
    if (arch->adc_bits)
        fprintf(out, "%d-bit %s ADC", arch->adc_bits,
               arch->adc_range == XB_ADC_CLIP  ? "clip"
               : arch->adc_range == XB_ADC_MAX ? "max-range"
                                               : "calibrated");
    else
        fprintf(out, "lossless ADC");
    if (arch->layer_adc_bits[0]) fprintf(out, " (per layer: %s)", arch->layer_adc_bits);
    fprintf(out, ", %s encoding%s, %d crossbars\n", xb_arch_encoding_name(arch),
           arch->flip ? " with flipped columns" : "", (int)xb_session_mapping(s)->xbars);
    if (xb_arch_needs_calibration(arch)) {
        /* Full scale per layer from the calibration images. */
        XB_TRY(xb_session_calibrate_adc(s, ctx));
        const xb_session_calib *c = xb_session_calibration(s);
        fprintf(out, "         ADC full scale calibrated at the %g percentile on images #%lld..#%lld "
               "of %s\n",
               arch->adc_percentile, (long long)c->first, (long long)(c->first + c->n - 1),
               c->source);
    }
    fflush(out);
    return xb_session_run_analog(s, ctx);
}

static void print_results(const xb_session *s, const run_modes *m) {
    const xb_run_result *rf = xb_session_result(s, XB_SESSION_FLOAT),
                        *rq = xb_session_result(s, XB_SESSION_INT8),
                        *ran = xb_session_result(s, XB_SESSION_ANALOG);
    static const char *heads[] = {"mode", ">top-1", ">", ">top-5", ">", ">images/s", ">threads"};
    xb_table t;
    xb_table_init(&t, 7, heads);
    if (m->flt) print_result_row(&t, "float", rf);
    if (m->int8) print_result_row(&t, "int8", rq);
    if (m->analog) print_result_row(&t, "analog", ran);
    xb_table_print(&t, out, "");
    xb_table_free(&t);
    int64_t count = xb_session_count(s);
    if (m->flt && m->int8)
        fprintf(out, "int8 - float: %+.2f points top-1\n",
               100.0 * ((double)rq->correct1 - (double)rf->correct1) / (double)(count ? count : 1));
    if (m->analog && m->int8)
        fprintf(out, "analog - int8: %+.2f points top-1\n",
               100.0 * ((double)ran->correct1 - (double)rq->correct1) / (double)(count ? count : 1));
}

static xb_status print_analog(const run_args *ra, const xb_session *s, xb_ctx *ctx) {
    const xb_mapping *map = xb_session_mapping(s);
    const xb_cost *cost = xb_session_cost(s);
    const xb_backend *be = xb_session_backend(s);
    fprintf(out, "\nanalog: crossbar mapping (arch %s)\n", xb_session_arch(s)->name);
    xb_profile_print_mapping(out, map);
    fprintf(out, "\nanalog: ADC activity and cost per inference\n");
    xb_profile_print_layers(out, map, cost, be);
    /* backend/profile.c writes to a path: give it a temporary one, moved
     * into place once it succeeded. */
    xb_outfile o;
    if (ra->csv) {
        XB_TRY(xb_outfile_open_path(&o, ra->csv, ctx));
        if (xb_profile_write_csv(o.tmp, map, cost, be, ctx) != XB_OK) {
            xb_ctx_prefix(ctx, "--csv %s", ra->csv); /* the message names the temporary file */
            xb_outfile_abort(&o);
            return ctx->status;
        }
        XB_TRY(xb_outfile_commit(&o, ctx));
    }
    if (ra->adc_hist) {
        XB_TRY(xb_outfile_open_path(&o, ra->adc_hist, ctx));
        if (xb_profile_write_hist(o.tmp, be, ctx) != XB_OK) {
            xb_ctx_prefix(ctx, "--adc-hist %s", ra->adc_hist);
            xb_outfile_abort(&o);
            return ctx->status;
        }
        XB_TRY(xb_outfile_commit(&o, ctx));
    }
    return XB_OK;
}

/* The diagnosis (analog vs int8), the JSON report with its provenance, the
 * plots and the HTML page. */
static xb_status write_reports(const run_args *ra, const run_modes *m, xb_session *s, xb_ctx *ctx) {
    cJSON *diag = NULL;
    if (m->analog && m->int8) {
        xb_diag_opts dopt = xb_diag_opts_default();
        dopt.threshold = ra->diag_threshold;
        dopt.images = ra->diag_images;
        dopt.threads = (int)ra->threads;
        dopt.progress = ra->progress;
        if (!(diag = xb_diagnose(s, &dopt, ctx))) return ctx->status;
        xb_diagnose_print(out, diag);
    }
    xb_cli_reports rep = {.json = ra->json, .html = ra->html, .plot_dir = ra->plot_dir};
    if (!xb_cli_reports_any(&rep)) {
        cJSON_Delete(diag);
        return XB_OK;
    }
    cJSON *json = xb_session_run_json(s, ra->model, ra->data);
    xb_shard_run_json(&ra->shard, s, json);
    if (diag) cJSON_AddItemToObject(json, "diagnosis", diag);
    xb_provenance pv = {.model = ra->model, .data = ra->data,
                        .arch = m->analog ? xb_session_arch(s) : NULL, .argc = ra->argc,
                        .argv = ra->argv, .threads = (int)ra->threads};
    xb_status st = xb_cli_write_reports(json, &pv, &rep, ctx);
    cJSON_Delete(json);
    return st;
}

/* Model and data into a new session (*s); rc 2 when no data can be chosen. */
static int open_session(run_args *ra, xb_session **s, xb_ctx *ctx) {
    xb_session_opts so = {.threads = (int)ra->threads, .progress = ra->progress != XB_PROGRESS_NONE,
                          .progress_mode = ra->progress,
                          .profile_images = ra->profile_images, .cancel = &xb_cli_stop,
                          .max_memory = ra->max_memory};
    xb_cli_data_apply(&ra->dopt, &so);
    if (xb_session_open(ra->model, &so, s, ctx) != XB_OK) return 1;
    if (!ra->data) {
        ra->data = xb_session_default_data(*s);
        if (!ra->data) {
            fprintf(stderr, "xbar run: no --data given and %s names no dataset (metadata "
                    "xbar.dataset); see xbar run --help\n", ra->model);
            return 2;
        }
        xb_report_note("no --data given: using %s", ra->data);
    }
    if (xb_session_open_data(*s, ra->data, ra->limit, ctx) != XB_OK) return 1;
    if (xb_shard_select(&ra->shard, *s, ctx) != XB_OK) return 2;
    /* Outputs are checked before anything runs: writable, and not an input. */
    const char *in[] = {ra->model, xb_session_data(*s)->path, ra->data,
                        xb_cli_arch_file(&ra->arch)};
    const char *outs[][2] = {{"--json", ra->json}, {"--csv", ra->csv}, {"--adc-hist", ra->adc_hist},
                             {"--predictions", ra->dopt.predictions},

                             {"--html", ra->html}};
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++)
        if (xb_outfile_check(outs[i][0], outs[i][1], in, 4, ctx) != XB_OK) return 2;
    return 0;
}

static void print_header(const run_args *ra, const xb_session *s) {
    const xb_preproc *pp = xb_session_preproc(s);
    const xb_dataset *d = xb_session_data(s);
    long long count = (long long)xb_session_count(s), first = (long long)xb_session_first(s);
    fprintf(out, "model    %s", ra->model);
    if (pp->dataset) fprintf(out, "  (trained on %s)", pp->dataset);
    fprintf(out, "\ndata     %s: %lld images %dx%dx%d, evaluating %lld (#%lld..#%lld)", d->path,
           (long long)d->n, d->c, d->h, d->w, count, first, first + count - 1);
    if (ra->shard.n)
        fprintf(out, ", shard %lld/%lld of %lld", ra->shard.k, ra->shard.n,
               (long long)xb_session_evaluated(s));
    fprintf(out, "\n");
}

int xb_cmd_run_args(int argc, char **argv) {
    run_args ra;
    int rc = parse(argc, argv, &ra);
    if (rc >= 0) return rc;
    if (ra.mode == MODE_ANALOG || (ra.mode == MODE_ALL && ra.arch.arch)) {
        xb_ctx ctx = {0};
        xb_arch arch;
        ra.arch.out = NULL; /* parse only: nothing written */
        if (build_arch(&ra, &arch, &ctx) != 0) {
            xb_report_error(&ctx);
            return 2;
        }
    }
    return -1;
}

int xb_cmd_run(int argc, char **argv) {
    xb_cli_trap_signals();
    run_args ra;
    int rc = parse(argc, argv, &ra);
    if (rc >= 0) return rc;
    out = ra.json && !strcmp(ra.json, "-") ? stderr : stdout;
    if (!ra.threads) ra.threads = xb_args_clamp_threads(0);
    if (!ra.model) {
        ra.model = DEFAULT_MODEL;
        xb_report_note("no MODEL given: using %s", ra.model);
    }
    xb_ctx ctx = {0};
    xb_session *s = NULL;
    xb_arch arch = {0};
    run_modes m;
    bool analog = ra.mode == MODE_ANALOG || (ra.mode == MODE_ALL && ra.arch.arch);
    if (analog) {
        if ((rc = build_arch(&ra, &arch, &ctx)) != 0) goto done;
    } else if (ra.mode == MODE_ALL && ra.arch.n_sets) {
        /* --mode all adds the analog mode only with --arch: a --set alone
         * would be silently ignored */
        fprintf(stderr, "xbar run: --set needs --arch under --mode all (e.g. --arch isaac); the "
                        "analog mode runs only with an architecture\n");
        return 2;
    } else if (ra.arch.arch || ra.arch.n_sets) {
        xb_report_note("--arch/--set only apply to the analog mode (--mode all or analog)");
    }
    if ((rc = open_session(&ra, &s, &ctx)) != 0) goto done;
    rc = 1;
    if (choose_modes(&ra, s, &m, &ctx) != XB_OK) goto done;
    print_header(&ra, s);
    if (m.need_q && prepare_int8(&ra, &m, &arch, s, &ctx) != XB_OK) goto done;
    fputc('\n', out);
    fflush(out);
    if (m.flt && xb_session_run_float(s, &ctx) != XB_OK) goto done;
    if (m.int8 && xb_session_run_int8(s, &ctx) != XB_OK) goto done;
    if (m.analog && run_analog(s, &arch, &ctx) != XB_OK) goto done;
    print_results(s, &m);
    print_layers(m.need_q ? xb_session_int8_graph(s) : xb_session_graph(s), m.need_q, &ctx);
    if (m.analog && print_analog(&ra, s, &ctx) != XB_OK) goto done;
    if (write_reports(&ra, &m, s, &ctx) != XB_OK) goto done;
    if (ra.dopt.predictions && xb_session_write_predictions(s, ra.dopt.predictions, &ctx) != XB_OK)
        goto done;
    if (m.analog && !xb_session_mapping(s)->fits) {
        /* results and reports are out; the exit status says the chip is too small */
        xb_fail(&ctx, XB_ERR_INVALID, "%s DOES NOT FIT arch %s: %lld tiles needed, the chip has %d",
                ra.model, arch.name, (long long)xb_session_mapping(s)->tiles, arch.tiles);
        goto done;
    }
    rc = 0;
done:
    if (ctx.status == XB_ERR_INTERRUPTED || (rc != 0 && xb_cli_stop)) {
        /* what was completed: the results printed so far, and the count */
        fprintf(stderr, "\nxbar run: %s\n", ctx.status == XB_ERR_INTERRUPTED ? ctx.msg : "interrupted");
        if (s) {
            run_modes done_m = {.flt = xb_session_result(s, XB_SESSION_FLOAT)->total > 0,
                                .int8 = xb_session_result(s, XB_SESSION_INT8)->total > 0,
                                .analog = xb_session_result(s, XB_SESSION_ANALOG)->total > 0};
            if (done_m.flt || done_m.int8 || done_m.analog) {
                fprintf(out, "completed before the interrupt:\n");
                print_results(s, &done_m);
            }
        }
        rc = xb_cli_interrupt_status();
        ctx = (xb_ctx){0};
    }
    /* rc 2 with a message in ctx: a bad --arch/--set (usage) */
    if (rc != 0 && ctx.status != XB_OK) xb_report_error(&ctx);
    xb_session_free(s);
    return rc;
}
