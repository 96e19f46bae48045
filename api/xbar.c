/* The C API (include/xbar.h): handles, options, model, data and arch.
 * Runs and results are in run.c and results.c. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/handle.h"
#include "eval/dataset_int.h"
#include "eval/installed.h"

#ifndef XBAR_VERSION
#define XBAR_VERSION "0.0.0"
#endif
#ifndef XBAR_VERSION_NUMBER
#define XBAR_VERSION_NUMBER 0
#endif

_Static_assert(XBAR_OK == (int)XB_OK && XBAR_ERR_IO == (int)XB_ERR_IO &&
                   XBAR_ERR_PARSE == (int)XB_ERR_PARSE &&
                   XBAR_ERR_UNSUPPORTED == (int)XB_ERR_UNSUPPORTED &&
                   XBAR_ERR_INVALID == (int)XB_ERR_INVALID && XBAR_ERR_NOMEM == (int)XB_ERR_NOMEM &&
                   XBAR_ERR_RUNTIME == (int)XB_ERR_RUNTIME,
               "xbar_status mirrors xb_status");

const char *xbar_version(void) { return XBAR_VERSION; }
int xbar_version_number(void) { return XBAR_VERSION_NUMBER; }

const char *xbar_status_name(xbar_status st) {
    static const char *const names[] = {"ok", "io", "parse", "unsupported", "invalid", "nomem",
                                        "runtime"};
    return (int)st >= 0 && (int)st <= XBAR_ERR_RUNTIME ? names[st] : "unknown";
}

/* --- handles ------------------------------------------------------------- */

xbar *xbar_new(void) {
    xbar *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    if (pthread_mutex_init(&h->lock, NULL) != 0) {
        free(h);
        return NULL;
    }
    h->opts = (xb_session_opts){.profile_images = 16};
    h->calib = 100;
    h->method = XB_QUANT_MINMAX;
    h->percentile = 99.99;
    return h;
}

void xbar_close(xbar *h) {
    if (!h) return;
    xb_session_free(h->s);
    free(h->data_label);
    free(h->opt_mean);
    free(h->opt_std);
    free(h->opt_classes);
    cJSON_free(h->json);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

const char *xbar_last_error(xbar *h) {
    if (!h) return "xbar: NULL handle (xbar_new failed: out of memory)";
    return h->ctx.status == XB_OK ? "" : h->ctx.msg;
}

void xb_api_enter(xbar *h) {
    pthread_mutex_lock(&h->lock);
    xb_ctx_clear(&h->ctx);
}

xbar_status xb_api_leave(xbar *h, xb_status st) {
    if (st != XB_OK && h->ctx.status == XB_OK) xb_fail(&h->ctx, st, "failed");
    pthread_mutex_unlock(&h->lock);
    return (xbar_status)st;
}

xb_status xb_api_session(xbar *h, xb_session **s) {
    *s = h->s;
    return h->s ? XB_OK : xb_fail(&h->ctx, XB_ERR_INVALID, "no model open (xbar_open_model)");
}

xb_status xb_api_arch(xbar *h, xb_arch **a) {
    *a = &h->arch;
    if (h->arch_loaded) return XB_OK;
    XB_TRY(xb_arch_open(&h->arch, "isaac", &h->ctx));
    h->arch_loaded = true;
    return XB_OK;
}

/* --- options --------------------------------------------------------------- */

xbar_status xbar_set_threads(xbar *h, int threads) {
    if (!h) return XBAR_ERR_INVALID;
    xb_api_enter(h);
    h->opts.threads = threads > 0 ? threads : 0;
    if (h->s) xb_session_set_opts(h->s, &h->opts);
    return xb_api_leave(h, XB_OK);
}

static xb_status set_quant(xbar *h, int w_bits, int x_bits, int64_t calib, const char *method,
                           double percentile) {
    xb_ctx *ctx = &h->ctx;
    if ((w_bits && (w_bits < 1 || w_bits > 8)) || (x_bits && (x_bits < 2 || x_bits > 8)))
        return xb_fail(ctx, XB_ERR_INVALID,
                       "quantization: weight bits must be 1..8, input bits 2..8, or 0 (got %d, %d)",
                       w_bits, x_bits);
    if (calib < 1 || calib > 100000)
        return xb_fail(ctx, XB_ERR_INVALID, "quantization: %lld calibration images is not in "
                       "1..100000", (long long)calib);
    xb_quant_method m = h->method;
    if (method && !strcmp(method, "minmax")) m = XB_QUANT_MINMAX;
    else if (method && !strcmp(method, "percentile")) m = XB_QUANT_PERCENTILE;
    else if (method)
        return xb_fail(ctx, XB_ERR_INVALID, "quantization: method '%s' is not minmax or "
                       "percentile", method);
    if (m == XB_QUANT_PERCENTILE && !(percentile > 50.0 && percentile <= 100.0))
        return xb_fail(ctx, XB_ERR_INVALID, "quantization: percentile %g is not in (50, 100]",
                       percentile);
    h->w_bits = w_bits;
    h->x_bits = x_bits;
    h->calib = calib;
    h->method = m;
    if (m == XB_QUANT_PERCENTILE) h->percentile = percentile;
    return XB_OK;
}

xbar_status xbar_set_quantization(xbar *h, int w_bits, int x_bits, int64_t calib_images,
                                  const char *method, double percentile) {
    if (!h) return XBAR_ERR_INVALID;
    xb_api_enter(h);
    return xb_api_leave(h, set_quant(h, w_bits, x_bits, calib_images, method, percentile));
}

/* --- model and data ------------------------------------------------------- */

xbar_status xbar_open_model(xbar *h, const char *path) {
    if (!h) return XBAR_ERR_INVALID;
    xb_api_enter(h);
    xb_status st;
    if (h->s) st = xb_fail(&h->ctx, XB_ERR_INVALID, "a model is already open in this handle");
    else if (!path) st = xb_fail(&h->ctx, XB_ERR_INVALID, "xbar_open_model: NULL path");
    else st = xb_session_open(path, &h->opts, &h->s, &h->ctx);
    return xb_api_leave(h, st);
}

static xb_status set_label(xbar *h, const char *label) {
    free(h->data_label);
    h->data_label = xb_strdup(&h->ctx, label);
    return h->data_label ? XB_OK : h->ctx.status;
}

static xb_status open_data(xbar *h, const char *spec, int64_t limit) {
    xb_session *s;
    XB_TRY(xb_api_session(h, &s));
    if (xb_session_data(s)) return xb_fail(&h->ctx, XB_ERR_INVALID, "data already open");
    if (!spec) {
        spec = xb_session_default_data(s);
        if (!spec)
            return xb_fail(&h->ctx, XB_ERR_INVALID, "%s names no dataset (metadata xbar.dataset): "
                           "give a data spec", xb_session_model(s));
    }
    XB_TRY(set_label(h, spec));
    return xb_session_open_data(s, spec, limit, &h->ctx);
}

xbar_status xbar_open_data(xbar *h, const char *spec, int64_t limit) {
    if (!h) return XBAR_ERR_INVALID;
    xb_api_enter(h);
    return xb_api_leave(h, open_data(h, spec, limit));
}

/* Copy caller images into a dataset: u8 as they are, floats rounded to
 * 8-bit levels.  Checks the geometry and labels first. */
static xb_status memory_dataset(xbar *h, const void *images, bool f32, const int32_t *labels,
                                int64_t n, int c, int hh, int w, xb_dataset **out) {
    xb_ctx *ctx = &h->ctx;
    *out = NULL;
    if (!images || !labels || n < 1)
        return xb_fail(ctx, XB_ERR_INVALID, "images: need at least one image and its label");
    if ((c != 1 && c != 3) || hh < 1 || w < 1 || hh > XB_DATASET_MAX_SIDE || w > XB_DATASET_MAX_SIDE)
        return xb_fail(ctx, XB_ERR_INVALID, "images: %dx%dx%d: expected 1 or 3 channels and sides "
                       "1..%d", c, hh, w, XB_DATASET_MAX_SIDE);
    for (int64_t i = 0; i < n; i++)
        if (labels[i] < 0)
            return xb_fail(ctx, XB_ERR_INVALID, "images: image %lld has label %d (labels are class "
                           "indices >= 0)", (long long)i, labels[i]);
    xb_dataset *d = xb_dataset_alloc("<memory>", n, c, hh, w, ctx);
    if (!d) return ctx->status;
    size_t count = (size_t)n * (size_t)c * (size_t)hh * (size_t)w;
    if (!f32) {
        memcpy(d->images, images, count);
    } else {
        const float *src = images;
        for (size_t i = 0; i < count; i++) {
            float v = src[i];
            if (!(v >= 0.0f && v <= 1.0f)) {
                xb_dataset_free(d);
                return xb_fail(ctx, XB_ERR_INVALID, "images: value %g at element %zu is not a "
                               "pixel in [0, 1]", (double)v, i);
            }
            d->images[i] = (uint8_t)lrintf(v * 255.0f);
        }
    }
    memcpy(d->labels, labels, (size_t)n * sizeof *labels);
    *out = d;
    return XB_OK;
}

static xb_status open_images(xbar *h, const void *images, bool f32, const int32_t *labels,
                             int64_t n, int c, int hh, int w, int64_t limit) {
    xb_session *s;
    xb_dataset *d;
    XB_TRY(xb_api_session(h, &s));
    if (xb_session_data(s)) return xb_fail(&h->ctx, XB_ERR_INVALID, "data already open");
    XB_TRY(memory_dataset(h, images, f32, labels, n, c, hh, w, &d));
    int k = xb_session_preproc(s)->n_outputs;
    for (int64_t i = 0; i < n; i++)
        if (labels[i] >= k) {
            xb_dataset_free(d);
            return xb_fail(&h->ctx, XB_ERR_INVALID, "images: image %lld has label %d but the "
                           "model has %d outputs", (long long)i, labels[i], k);
        }
    if (set_label(h, "<memory>") != XB_OK) {
        xb_dataset_free(d);
        return h->ctx.status;
    }
    return xb_session_set_data(s, d, limit, &h->ctx);
}

xbar_status xbar_open_images_u8(xbar *h, const uint8_t *images, const int32_t *labels, int64_t n,
                                int c, int height, int width, int64_t limit) {
    if (!h) return XBAR_ERR_INVALID;
    xb_api_enter(h);
    return xb_api_leave(h, open_images(h, images, false, labels, n, c, height, width, limit));
}

xbar_status xbar_open_images_f32(xbar *h, const float *images, const int32_t *labels, int64_t n,
                                 int c, int height, int width, int64_t limit) {
    if (!h) return XBAR_ERR_INVALID;
    xb_api_enter(h);
    return xb_api_leave(h, open_images(h, images, true, labels, n, c, height, width, limit));
}

/* --- architecture --------------------------------------------------------- */

static xb_status set_arch(xbar *h, const char *spec) {
    if (!spec) return xb_fail(&h->ctx, XB_ERR_INVALID, "xbar_set_arch: NULL spec");
    xb_arch a;
    XB_TRY(xb_arch_open(&a, spec, &h->ctx));
    h->arch = a;
    h->arch_loaded = true;
    return XB_OK;
}

xbar_status xbar_set_arch(xbar *h, const char *spec) {
    if (!h) return XBAR_ERR_INVALID;
    xb_api_enter(h);
    return xb_api_leave(h, set_arch(h, spec));
}

static xb_status set_one(xbar *h, const char *assignment) {
    xb_arch *a;
    if (!assignment) return xb_fail(&h->ctx, XB_ERR_INVALID, "xbar_set: NULL assignment");
    XB_TRY(xb_api_arch(h, &a));
    xb_arch tmp = *a; /* a failed override leaves the arch as it was */
    XB_TRY(xb_arch_set(&tmp, assignment, &h->ctx));
    *a = tmp;
    return XB_OK;
}

xbar_status xbar_set(xbar *h, const char *assignment) {
    if (!h) return XBAR_ERR_INVALID;
    xb_api_enter(h);
    return xb_api_leave(h, set_one(h, assignment));
}

const char *xbar_get(xbar *h, const char *key) {
    if (!h) return NULL;
    xb_api_enter(h);
    xb_arch *a;
    const char *out = NULL;
    xb_status st = xb_api_arch(h, &a);
    if (st == XB_OK && key && xb_arch_get(a, key, h->get_buf, sizeof h->get_buf))
        out = h->get_buf;
    else if (st == XB_OK)
        st = xb_fail(&h->ctx, XB_ERR_INVALID, "arch: no field '%s'", key ? key : "(null)");
    xb_api_leave(h, st);
    return out;
}
