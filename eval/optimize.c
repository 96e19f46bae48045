/* xbar optimize: the driver shared by the search methods (optimize.h). */
#include "eval/optimize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend/cost.h"
#include "eval/mixed_precision.h"

typedef struct {
    const char *name;
    xb_opt_method_fn fn;
} method;

/* The one list of search methods; the first is the default. */
static const method methods[] = {
    {"lrmp", xb_opt_lrmp},
};
#define NMETHODS ((int)(sizeof methods / sizeof methods[0]))

const char *xb_optimize_method(int i) { return i >= 0 && i < NMETHODS ? methods[i].name : NULL; }

/* "I=B/..." for the entries that differ from dflt. */
static xb_status bits_string(int n, const signed char *b, int dflt, char *out, size_t cap,
                             const char *key, xb_ctx *ctx) {
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (!b[i] || b[i] == dflt) continue;
        int w = snprintf(out + len, cap - len, "%s%d=%d", len ? "/" : "", i, b[i]);
        if (w < 0 || (size_t)w >= cap - len)
            return xb_fail(ctx, XB_ERR_UNSUPPORTED, "optimize: %s does not fit in %zu characters",
                           key, cap - 1);
        len += (size_t)w;
    }
    return XB_OK;
}

xb_status xb_opt_arch_with_bits(const xb_arch *base, int n, const signed char *wb,
                                const signed char *xb, xb_arch *out, xb_ctx *ctx) {
    *out = *base;
    XB_TRY(bits_string(n, wb, base->weight_bits, out->layer_weight_bits,
                       sizeof out->layer_weight_bits, "layer_weight_bits", ctx));
    XB_TRY(bits_string(n, xb, base->input_bits, out->layer_input_bits,
                       sizeof out->layer_input_bits, "layer_input_bits", ctx));
    return xb_arch_validate(out, ctx);
}

xb_status xb_opt_accuracy(xb_opt_ctx *c, const signed char *wb, const signed char *xb,
                          double *acc, xb_ctx *ctx) {
    xb_arch a;
    XB_TRY(xb_opt_arch_with_bits(&c->o->arch, c->n, wb, xb, &a, ctx));
    a.replication = XB_REP_NONE; /* accuracy does not depend on the copies */
    a.budget_tiles = 0;
    xb_quant_opts qo = xb_quant_opts_default();
    qo.w_bits = a.weight_bits;
    qo.x_bits = a.input_bits < 2 ? 2 : a.input_bits;
    XB_TRY(xb_quant_opts_layers_from_arch(xb_session_graph(c->s), &a, &qo, ctx));
    XB_TRY(xb_session_quantize(c->s, &qo, ctx));
    XB_TRY(xb_session_build_backend(c->s, &a, ctx));
    if (xb_arch_needs_calibration(&a)) XB_TRY(xb_session_calibrate_adc(c->s, ctx));
    XB_TRY(xb_session_run_analog(c->s, ctx));
    const xb_run_result *r = xb_session_result(c->s, XB_SESSION_ANALOG);
    *acc = r->total ? 100.0 * (double)r->correct1 / (double)r->total : 0;
    c->evals++;
    return XB_OK;
}

/* Interval, latency, tiles and crossbars of `a` on the model's layers. */
static xb_status map_cost(const xb_opt_ctx *c, const xb_arch *a, double *interval,
                          double *latency, int64_t *tiles, int64_t *xbars, xb_ctx *ctx) {
    xb_mapping *m = xb_compile_shapes(a, c->shapes, c->n, ctx);
    if (!m) return ctx->status;
    xb_cost *k = xb_cost_compute(m, ctx);
    if (!k) {
        xb_mapping_free(m);
        return ctx->status;
    }
    *interval = k->pipeline_ns;
    *latency = k->latency_ns;
    *tiles = m->tiles;
    if (xbars) *xbars = m->xbars;
    xb_cost_free(k);
    xb_mapping_free(m);
    return XB_OK;
}

/* Session on the validation images (the test images are never opened). */
static xb_status open_validation(const xb_optimize_opts *o, xb_opt_ctx *c, xb_optimize_result *r,
                                 xb_ctx *ctx) {
    xb_session_opts so = o->so;
    so.threads = o->threads;
    so.progress = false;
    /* No image fully profiled: statistics are not reported, and exact
     * layers then run the int8 kernel on every image (same integers). */
    so.profile_images = 0;
    XB_TRY(xb_session_open(o->model, &so, &c->s, ctx));
    if (xb_session_prequantized(c->s))
        return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                       "optimize: %s is quantized in the file; the search re-quantizes each layer "
                       "at its own bits and needs the float model",
                       o->model);
    char train[4096];
    const char *val = o->val_data;
    if (!val) {
        if (!o->data)
            return xb_fail(ctx, XB_ERR_INVALID, "optimize: give --data or --val-data");
        /* Only the test set's name is needed, not its images (nor the
         * memory --max-memory would have to charge for them). */
        char test[4096];
        struct stat sb;
        if (stat(xb_dataset_path(o->data, test, sizeof test), &sb) != 0) {
            xb_dataset *d = NULL; /* fails, saying where it looked and how to fetch it */
            XB_TRY(xb_dataset_open(o->data, &d, ctx));
            xb_dataset_free(d);
        }
        val = xb_dataset_train_split(test, train, sizeof train);
        if (!val)
            return xb_fail(ctx, XB_ERR_INVALID,
                           "optimize: %s has no training split beside it (train-images-idx3-ubyte, "
                           "data_batch_1.bin); give validation images that are not the test "
                           "images with --val-data (e.g. a folder of training images)",
                           o->data);
    }
    XB_TRY(xb_session_open_data(c->s, val, o->val_images, ctx));
    XB_TRY(xb_session_choose_calibration(c->s, o->calib, ctx));
    const xb_dataset *d = xb_session_data(c->s);
    const xb_session_calib *cal = xb_session_calibration(c->s);
    r->val_n = xb_session_evaluated(c->s);
    snprintf(r->val_source, sizeof r->val_source, "%s", d->path);
    snprintf(r->val_how, sizeof r->val_how, "calibration: %lld images #%lld.. of %s (%s)",
             (long long)cal->n, (long long)cal->first, cal->source, cal->how);
    return XB_OK;
}

/* Budget: the tiles of the unreplicated mapping unless given; the base
 * figures and replication alone at that budget. */
static xb_status baseline(xb_opt_ctx *c, xb_optimize_result *r, xb_ctx *ctx) {
    xb_arch a = c->o->arch;
    a.replication = XB_REP_NONE;
    a.budget_tiles = 0;
    XB_TRY(map_cost(c, &a, &r->base_interval_ns, &r->base_latency_ns, &r->base_tiles, NULL, ctx));
    c->budget_tiles = c->o->budget_tiles > 0 ? c->o->budget_tiles : (int)r->base_tiles;
    r->budget_tiles = c->budget_tiles;
    a.replication = XB_REP_MILP;
    a.budget_tiles = c->budget_tiles;
    double lat;
    int64_t t;
    return map_cost(c, &a, &r->milp_same_prec_interval_ns, &lat, &t, NULL, ctx);
}

xb_status xb_optimize(const xb_optimize_opts *o, xb_optimize_result *r, xb_ctx *ctx) {
    memset(r, 0, sizeof *r);
    const method *m = NULL;
    for (int i = 0; i < NMETHODS; i++)
        if (!o->method || !strcmp(o->method, methods[i].name)) {
            m = &methods[i];
            break;
        }
    if (!m) return xb_fail(ctx, XB_ERR_INVALID, "optimize: unknown --method '%s'", o->method);
    XB_TRY(xb_arch_validate(&o->arch, ctx));
    if (o->arch.layer_weight_bits[0] || o->arch.layer_input_bits[0])
        return xb_fail(ctx, XB_ERR_INVALID,
                       "optimize: the arch already sets layer_weight_bits / layer_input_bits; the "
                       "search starts from uniform weight_bits and input_bits");
    xb_opt_ctx c = {.o = o};
    xb_status st = open_validation(o, &c, r, ctx);
    if (st == XB_OK)
        st = xb_layer_shapes_of_graph(xb_session_graph(c.s), &c.shapes, &c.n, ctx);
    if (st == XB_OK) st = baseline(&c, r, ctx);
    if (st == XB_OK) {
        signed char *z = calloc((size_t)c.n + 1, 1);
        if (!z) st = xb_fail(ctx, XB_ERR_NOMEM, "optimize: out of memory");
        if (st == XB_OK) st = xb_opt_accuracy(&c, z, z, &c.base_acc, ctx);
        free(z);
        r->val_base = c.base_acc;
        fprintf(stderr, "optimize: validation top-1 at the base arch %.2f%% (%lld images)\n",
                c.base_acc, (long long)r->val_n);
    }
    if (st == XB_OK) st = m->fn(&c, &r->tuned, ctx);
    if (st == XB_OK) {
        r->tuned.replication = XB_REP_MILP;
        r->tuned.budget_tiles = c.budget_tiles;
        st = map_cost(&c, &r->tuned, &r->tuned_interval_ns, &r->tuned_latency_ns,
                      &r->tuned_tiles, &r->tuned_xbars, ctx);
    }
    r->val_tuned = c.tuned_acc;
    snprintf(r->tuned.name, sizeof r->tuned.name, "%.40s+%s", o->arch.name, m->name);
    r->evaluations = c.evals;
    free(c.shapes);
    xb_session_free(c.s);
    return st;
}
