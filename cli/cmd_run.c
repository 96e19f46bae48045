/* xbar run MODEL --data SPEC: accuracy and speed, float and int8 side by
 * side on the same images, then the matrix layers.
 *
 * Flow: load model (batch 1) -> preprocessing from its metadata -> load
 * dataset, match class names -> [int8: preprocess calibration images,
 * xb_quantize] -> xb_run_dataset per mode -> text report (+ JSON). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/args.h"
#include "eval/dataset.h"
#include "eval/preprocess.h"
#include "eval/report.h"
#include "eval/runner.h"
#include "cli/cli.h"

/* RRAM backend: the analog mode (--arch). */
#include "backend/cost.h"
#include "backend/engine.h"
#include "backend/profile.h"
#include "cli/arch_opts.h"

#include "frontend/quantize.h"

#ifndef XBAR_SOURCE_DIR
#define XBAR_SOURCE_DIR "."
#endif

#define DEFAULT_MODEL XBAR_SOURCE_DIR "/models/lenet5_mnist.onnx"

enum { MODE_FLOAT = 0, MODE_INT8 = 1, MODE_ALL = 2, MODE_ANALOG = 3 };
enum { CALIB_MINMAX = 0, CALIB_PERCENTILE = 1 };

typedef struct {
    const char *model, *data, *json;
    long long limit, calib, w_bits, x_bits, threads;
    int mode, calib_method;
    double percentile;
    /* analog mode */
    xb_cli_arch arch;
    const char *csv, *adc_hist;
    long long profile_images;
    bool w_bits_set, x_bits_set;
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
            "                      folder of class-named subfolders of PNGs (read round robin\n"
            "                      over the classes, so --limit keeps them balanced).\n"
            "                      Default: the model's xbar.dataset if installed, else its\n"
            "                      bundled sample.\n"
            "  --limit N           evaluate the first N images (default: all)\n"
            "  --mode M            float | int8 | all (default all)\n"
            "  --json FILE         also write a JSON report (\"-\" for stdout)\n"
            "  --threads T         worker threads (default: OMP_NUM_THREADS or all cores)\n"
            "int8 (post-training quantization; a model that is already quantized, e.g. QDQ,\n"
            "runs as it is):\n"
            "  --calib N           calibration images (default 100): the N images right after\n"
            "                      the evaluated ones when the data has them, else the first\n"
            "                      N of the training split beside the data file (train-images-\n"
            "                      idx3-ubyte, data_batch_1.bin) when present, else the first N\n"
            "                      images of the data itself (the report says which)\n"
            "  --w-bits B          weight bits, 2..8, per output channel (default 8)\n"
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
            "  --profile-images N  images (from #0) whose every column sum is recorded for\n"
            "                      the zero share, max and histograms (default 16)\n\n"
            "Exit status: 0 ok, 1 the job failed, 2 usage error.\n",
            DEFAULT_MODEL);
}

static int parse(int argc, char **argv, run_args *r) {
    static const char *modes[] = {"float", "int8", "all", "analog", NULL};
    static const char *methods[] = {"minmax", "percentile", NULL};
    *r = (run_args){.calib = 100, .w_bits = 8, .x_bits = 8, .mode = MODE_ALL, .percentile = 99.99,
                    .profile_images = 16};
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
            xb_args_int(&a, v, 2, 8, &r->w_bits);
            r->w_bits_set = true;
        } else if (xb_args_opt(&a, "--x-bits", &v)) {
            xb_args_int(&a, v, 2, 8, &r->x_bits);
            r->x_bits_set = true;
        } else if (xb_cli_arch_opt(&a, &r->arch)) {
        } else if (xb_args_opt(&a, "--csv", &v)) {
            r->csv = v;
        } else if (xb_args_opt(&a, "--adc-hist", &v)) {
            r->adc_hist = v;
        } else if (xb_args_opt(&a, "--profile-images", &v)) {
            xb_args_int(&a, v, 0, XB_DATASET_MAX_IMAGES, &r->profile_images);
        } else if (xb_args_opt(&a, "--threads", &v)) {
            xb_args_int(&a, v, 1, 1024, &r->threads);
        } else if (xb_args_opt(&a, "--mode", &v)) {
            r->mode = xb_args_choice(&a, v, modes);
        } else if (xb_args_opt(&a, "--calib-method", &v)) {
            r->calib_method = xb_args_choice(&a, v, methods);
        } else if (xb_args_opt(&a, "--percentile", &v)) {
            char *end;
            r->percentile = v ? strtod(v, &end) : 0;
            if (v && (end == v || *end || !(r->percentile > 50.0) || !(r->percentile <= 100.0)))
                xb_args_fail(&a, "--percentile: '%s' is not a number in (50, 100]", v);
        } else if (xb_args_one(&a, "MODEL", &r->model)) {
        } else {
            return xb_args_unknown(&a);
        }
    }
    return a.error ? 2 : -1;
}

static int exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* No --data: the model's own dataset when installed, else its bundled
 * sample.  Returns a static string or NULL. */
static const char *default_data(const xb_preproc *pp) {
    static char buf[4096];
    const char *ds = pp->dataset;
    if (!ds) return NULL;
    const char *file = !strcmp(ds, "cifar10") ? "test_batch.bin" : "t10k-images-idx3-ubyte.gz";
    char dir[2048];
    xb_data_dir(ds, dir, sizeof dir);
    snprintf(buf, sizeof buf, "%s/%s", dir, file);
    if (exists(buf)) return ds;
    if (!strcmp(ds, "mnist") || !strcmp(ds, "cifar10")) {
        snprintf(buf, sizeof buf, "%s/datasets/samples/%s/%s", XBAR_SOURCE_DIR, ds, file);
        if (exists(buf)) return buf;
    }
    return ds; /* let the loader explain what is missing */
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
    printf("\nmatrix layers (K x N weight matrix per group; MACs per image)\n");
    xb_table_print(&t, stdout, "  ");
    printf("  total: %d matrix layers, %s MACs per image\n", k, xb_fmt_count((double)macs, nb, sizeof nb));
    xb_table_free(&t);
    free(ls);
}

int xb_cmd_run(int argc, char **argv) {
    run_args ra;
    int rc = parse(argc, argv, &ra);
    if (rc >= 0) return rc;
    if (!ra.model) {
        ra.model = DEFAULT_MODEL;
        xb_report_note("no MODEL given: using %s", ra.model);
    }
    xb_ctx ctx = {0};
    xb_graph *fg = NULL, *qg = NULL;
    xb_preproc pp = {0};
    xb_dataset *d = NULL, *td = NULL;
    float *calib = NULL;
    cJSON *json = NULL;
    xb_arch arch;
    xb_backend *be = NULL;
    xb_cost *cost = NULL;
    rc = 1;
    bool do_analog = ra.mode == MODE_ANALOG || (ra.mode == MODE_ALL && ra.arch.arch);
    if (do_analog) {
        if (xb_cli_arch_build(&ra.arch, &arch, &ctx) != XB_OK) {
            rc = 2;
            goto done;
        }
        if (arch.weight_bits > 8 || arch.input_bits > 8) {
            xb_fail(&ctx, XB_ERR_UNSUPPORTED,
                    "arch %s: analog runs the int8 model, so weight_bits and input_bits must be "
                    "<= 8 (got %d and %d); xbar compile accepts up to 16",
                    arch.name, arch.weight_bits, arch.input_bits);
            rc = 2;
            goto done;
        }
        /* The same integers on both paths: the int8 model is quantized to the
         * precision the crossbars hold. */
        if (!ra.w_bits_set) ra.w_bits = arch.weight_bits;
        if (!ra.x_bits_set) ra.x_bits = arch.input_bits < 2 ? 2 : arch.input_bits;
    } else if (ra.arch.arch || ra.arch.n_sets) {
        xb_report_note("--arch/--set only apply to the analog mode (--mode all or analog)");
    }
    if (xb_model_load(ra.model, &fg, &pp, &ctx) != XB_OK) goto done;
    if (!ra.data) {
        ra.data = default_data(&pp);
        if (!ra.data) {
            fprintf(stderr, "xbar run: no --data given and %s names no dataset (metadata "
                    "xbar.dataset); see xbar run --help\n", ra.model);
            rc = 2;
            goto done;
        }
        xb_report_note("no --data given: using %s", ra.data);
    }
    if (xb_dataset_open(ra.data, &d, &ctx) != XB_OK) goto done;
    char note[512];
    if (xb_dataset_match_classes(d, pp.class_names, pp.n_classes, note, sizeof note, &ctx) != XB_OK)
        goto done;
    if (note[0]) xb_report_note("%s", note);
    if (xb_preproc_check(&pp, d->c, d->h, d->w, d->path, &ctx) != XB_OK) goto done;
    if (d->c != pp.c)
        xb_report_note("%s has %s images, the model takes %s: converting (%s)", d->path,
                       d->c == 1 ? "grey" : "RGB", pp.c == 1 ? "grey" : "RGB",
                       pp.c == 1 ? "ITU-R BT.601 luma" : "grey replicated to R, G, B");

    int64_t count = d->n;
    if (ra.limit > 0 && ra.limit < count) count = ra.limit;
    bool already_q = xb_graph_count_quantized(fg) > 0;
    bool do_float = ra.mode == MODE_FLOAT || ra.mode == MODE_ALL;
    bool do_int8 = ra.mode == MODE_INT8 || ra.mode == MODE_ALL;
    bool need_q = do_int8 || do_analog; /* the analog mode runs the int8 graph */
    if (already_q && do_float) {
        if (ra.mode == MODE_FLOAT) {
            xb_fail(&ctx, XB_ERR_UNSUPPORTED,
                    "%s is already quantized (%d integer matrix layers): there is no float version "
                    "to run; use --mode int8",
                    ra.model, xb_graph_count_quantized(fg));
            goto done;
        }
        xb_report_note("%s is already quantized: float mode skipped, int8 runs the model as it is",
                       ra.model);
        do_float = false;
    }

    printf("model    %s", ra.model);
    if (pp.dataset) printf("  (trained on %s)", pp.dataset);
    printf("\ndata     %s: %lld images %dx%dx%d, evaluating %lld (#0..#%lld)\n", d->path,
           (long long)d->n, d->c, d->h, d->w, (long long)count, (long long)count - 1);

    int64_t calib_first = 0, calib_n = 0;
    const char *calib_how = "", *calib_src = "";
    const xb_dataset *calib_set = d; /* d, or the training split td */
    if (need_q && already_q) {
        qg = fg;
        printf("int8     model quantized in the file (%d integer matrix layers), run as it is\n",
               xb_graph_count_quantized(fg));
    } else if (need_q) {
        /* Calibration images, in order of preference: the ones right after
         * the evaluated range (disjoint, same distribution); the training
         * split stored beside the file (disjoint); the first ones of the
         * same data (overlapping the evaluation; said so). */
        const xb_dataset *cd = d;
        char train[4096];
        calib_n = ra.calib < d->n ? ra.calib : d->n;
        if (count + calib_n <= d->n) {
            calib_first = count;
            calib_how = "after the evaluated ones: disjoint from them";
        } else if (xb_dataset_train_split(d->path, train, sizeof train)) {
            if (xb_dataset_open(train, &td, &ctx) != XB_OK) goto done;
            if (td->c != d->c || td->h != d->h || td->w != d->w) {
                xb_fail(&ctx, XB_ERR_INVALID, "%s: training images are %dx%dx%d, test images %dx%dx%d",
                        td->path, td->c, td->h, td->w, d->c, d->h, d->w);
                goto done;
            }
            cd = td;
            calib_n = ra.calib < td->n ? ra.calib : td->n;
            calib_first = 0;
            calib_how = "of the training split: disjoint from the evaluated images";
        } else {
            calib_first = 0;
            calib_how = "of the same data: they overlap the evaluated images";
        }
        calib_src = cd->path;
        calib_set = cd;
        size_t per = (size_t)pp.c * (size_t)pp.h * (size_t)pp.w;
        calib = xb_calloc(&ctx, (size_t)calib_n * per, sizeof(float));
        if (!calib) goto done;
        for (int64_t i = 0; i < calib_n; i++)
            xb_preproc_image(&pp, xb_dataset_image(cd, calib_first + i), cd->c, calib + (size_t)i * per);
        xb_quant_opts qo = xb_quant_opts_default();
        qo.w_bits = (int)ra.w_bits;
        qo.x_bits = (int)ra.x_bits;
        qo.calib_images = (int)calib_n;
        qo.method = ra.calib_method == CALIB_PERCENTILE ? XB_QUANT_PERCENTILE : XB_QUANT_MINMAX;
        qo.percentile = ra.percentile;
        if (xb_quantize(fg, calib, (int)calib_n, &qo, &qg, &ctx) != XB_OK) goto done;
        printf("int8     post-training quantization: weights %lld-bit per output channel, "
               "activations %lld-bit per tensor,\n         %s calibration on %lld images #%lld..#%lld "
               "of %s\n         (%s)\n",
               ra.w_bits, ra.x_bits,
               ra.calib_method == CALIB_PERCENTILE ? "percentile" : "min/max", (long long)calib_n,
               (long long)calib_first, (long long)(calib_first + calib_n - 1), calib_src, calib_how);
    }
    putchar('\n');
    fflush(stdout);

    xb_run_opts o;
    xb_run_opts_init(&o);
    o.limit = count;
    o.threads = (int)ra.threads;
    o.progress = true;
    xb_run_result rf = {0}, rq = {0};
    if (do_float) {
        o.label = "float";
        if (xb_run_dataset(fg, &pp, d, &o, &rf, &ctx) != XB_OK) goto done;
    }
    if (do_int8) {
        o.label = "int8";
        if (xb_run_dataset(qg, &pp, d, &o, &rq, &ctx) != XB_OK) goto done;
    }
    xb_run_result ran = {0};
    if (do_analog) {
        be = xb_backend_new(qg, &arch, &ctx);
        if (!be) goto done;
        be->profile_images = ra.profile_images;
        printf("analog   arch %s: %dx%d crossbars, %d b/cell, %d-bit DAC, ", arch.name, arch.rows,
               arch.cols, arch.bits_per_cell, arch.dac_bits);
        if (arch.adc_bits) printf("%d-bit %s ADC", arch.adc_bits,
                                  arch.adc_range == XB_ADC_CLIP ? "clip"
                                  : arch.adc_range == XB_ADC_MAX ? "max-range" : "calibrated");
        else printf("lossless ADC");
        if (arch.layer_adc_bits[0]) printf(" (per layer: %s)", arch.layer_adc_bits);
        printf(", %s encoding%s, %d crossbars\n", xb_arch_encoding_name(&arch),
               arch.flip ? " with flipped columns" : "", (int)be->map->xbars);
        if (xb_arch_needs_calibration(&arch)) {
            /* Full scale per layer from the quantization's calibration images. */
            int64_t cf = calib_n ? calib_first : 0, cn = calib_n ? calib_n : (count < 100 ? count : 100);
            xb_backend_calibration_begin(be);
            xb_run_opts oc = o;
            oc.first = cf;
            oc.limit = cn;
            oc.engine = xb_backend_engine(be);
            oc.label = "adc-cal";
            xb_run_result rc_ = {0};
            /* the quantization's calibration images: they may come from the
             * training split (calib_set), not from d */
            if (xb_run_dataset(qg, &pp, calib_n ? calib_set : d, &oc, &rc_, &ctx) != XB_OK) goto done;
            if (xb_backend_calibration_end(be, &ctx) != XB_OK) goto done;
            printf("         ADC full scale calibrated at the %g percentile on images #%lld..#%lld "
                   "of %s\n",
                   arch.adc_percentile, (long long)cf, (long long)(cf + cn - 1),
                   calib_n ? calib_set->path : d->path);
        }
        fflush(stdout);
        xb_run_opts oa = o;
        oa.engine = xb_backend_engine(be);
        oa.label = "analog";
        if (xb_run_dataset(qg, &pp, d, &oa, &ran, &ctx) != XB_OK) goto done;
        cost = xb_cost_compute(be->map, &ctx);
        if (!cost) goto done;
    }
    static const char *heads[] = {"mode", ">top-1", ">", ">top-5", ">", ">images/s", ">threads"};
    xb_table t;
    xb_table_init(&t, 7, heads);
    if (do_float) print_result_row(&t, "float", &rf);
    if (do_int8) print_result_row(&t, "int8", &rq);
    if (do_analog) print_result_row(&t, "analog", &ran);
    xb_table_print(&t, stdout, "");
    xb_table_free(&t);
    if (do_float && do_int8)
        printf("int8 - float: %+.2f points top-1\n",
               100.0 * ((double)rq.correct1 - (double)rf.correct1) / (double)(count ? count : 1));
    if (do_analog && do_int8)
        printf("analog - int8: %+.2f points top-1\n",
               100.0 * ((double)ran.correct1 - (double)rq.correct1) / (double)(count ? count : 1));
    print_layers(need_q ? qg : fg, need_q, &ctx);
    if (do_analog) {
        printf("\nanalog: crossbar mapping (arch %s)\n", arch.name);
        xb_profile_print_mapping(stdout, be->map);
        printf("\nanalog: ADC activity and cost per inference\n");
        xb_profile_print_layers(stdout, be->map, cost, be);
        if (ra.csv && xb_profile_write_csv(ra.csv, be->map, cost, be, &ctx) != XB_OK) goto done;
        if (ra.adc_hist && xb_profile_write_hist(ra.adc_hist, be, &ctx) != XB_OK) goto done;
    }

    if (ra.json) {
        json = cJSON_CreateObject();
        cJSON_AddStringToObject(json, "model", ra.model);
        cJSON_AddStringToObject(json, "dataset", ra.data);
        cJSON_AddStringToObject(json, "dataset_path", d->path);
        cJSON_AddNumberToObject(json, "images", (double)count);
        if (do_float) cJSON_AddItemToObject(json, "float", xb_json_run_result(&rf));
        if (do_int8) {
            cJSON *q = xb_json_run_result(&rq);
            cJSON_AddBoolToObject(q, "prequantized", already_q);
            if (!already_q) {
                cJSON_AddNumberToObject(q, "w_bits", (double)ra.w_bits);
                cJSON_AddNumberToObject(q, "x_bits", (double)ra.x_bits);
                cJSON_AddStringToObject(q, "calib_method",
                                        ra.calib_method == CALIB_PERCENTILE ? "percentile" : "minmax");
                cJSON_AddNumberToObject(q, "calib_images", (double)calib_n);
                cJSON_AddNumberToObject(q, "calib_first", (double)calib_first);
                cJSON_AddStringToObject(q, "calib_source", calib_src);
            }
            cJSON_AddItemToObject(json, "int8", q);
        }
        if (do_analog) {
            cJSON *an = xb_json_run_result(&ran);
            cJSON_AddStringToObject(an, "arch", arch.name);
            cJSON_AddItemToObject(json, "analog", an);
            cJSON_AddItemToObject(json, "layers", xb_profile_json_layers(be->map, cost, be));
            cJSON_AddItemToObject(json, "totals", xb_profile_json_totals(be->map, cost, be));
        }
        if (xb_json_write(json, ra.json, &ctx) != XB_OK) goto done;
    }
    rc = 0;
done:
    /* rc 2 with a message in ctx: a bad --arch/--set (usage) */
    if (rc != 0 && ctx.status != XB_OK) xb_report_error(&ctx);
    cJSON_Delete(json);
    free(calib);
    xb_cost_free(cost);
    xb_backend_free(be);
    if (qg != fg) xb_graph_free(qg);
    xb_graph_free(fg);
    xb_preproc_free(&pp);
    xb_dataset_free(d);
    xb_dataset_free(td);
    return rc;
}
