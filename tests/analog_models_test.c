/* Every shipped model (every .onnx file in models/; XBAR_MODELS overrides the folder):
 * the analog path with the ideal preset equals the int8 reference bit for
 * bit, for both encodings and other slicings; with a clipping 8-bit ADC
 * (isaac) and a noisy ADC, the fast execution paths equal the full
 * simulation of the same images.  Float models are quantized first (w8a8,
 * calibrated on a few random images: only the integers matter here). */
#include <criterion/criterion.h>
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/engine.h"
#include "kernels/qlayer.h"
#include "runtime/exec.h"
#include "frontend/quantize.h"
#include "eval/report.h"

static const char *models_dir(void) {
    const char *e = getenv("XBAR_MODELS");
    return e && e[0] ? e : XBAR_SOURCE_DIR "/models";
}

static uint64_t rs;
static float rnd_normal(void) {
    double s = 0;
    for (int i = 0; i < 4; i++) {
        rs = rs * 6364136223846793005ull + 1442695040888963407ull;
        s += (double)(rs >> 11) * 0x1.0p-53 - 0.5;
    }
    return (float)(s * 1.7);
}

/* Output of graph output 0 for `img` with `eng` (NULL = int8 reference). */
static void run_once(const xb_graph *g, xb_exec *e, const float *img, int64_t index, float *out,
                     int64_t n_out) {
    xb_ctx ctx = {0};
    int64_t n_in = xb_shape_numel(&g->tensors[g->inputs[0]].shape);
    memcpy(e->buf[g->inputs[0]], img, (size_t)n_in * sizeof(float));
    e->image_index = index;
    cr_assert_eq(xb_exec_run(e, &ctx), XB_OK, "%s", ctx.msg);
    memcpy(out, e->buf[g->outputs[0]], (size_t)n_out * sizeof(float));
}

/* Analog buffers (timely and layco presets) with the buffer noise off and
 * lossless converters: a chain of crossbars adding psums in analog before
 * one conversion is still the int8 product, bit for bit. */
static void check_buffers_exact(const xb_graph *qg, xb_exec *e, const float *imgs,
                                const float *ref, int nimg, int64_t n_in, int64_t n_out,
                                const char *path) {
    static const char *const variants[][5] = {
        {"timely", "buffer.sigma=0", "adc.bits=0", NULL},
        {"layco", "buffer.sigma=0", "adc.bits=0", NULL},
        {"layco", "buffer.sigma=0", "adc.bits=0", "crossbar.rows=32", "buffer.chain=3"},
    };
    xb_ctx ctx = {0};
    float *got = malloc((size_t)n_out * sizeof(float));
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        xb_arch a;
        cr_assert_eq(xb_arch_load(&a, variants[v][0], &ctx), XB_OK, "%s", ctx.msg);
        for (int k = 1; k < 5 && variants[v][k]; k++)
            cr_assert_eq(xb_arch_set(&a, variants[v][k], &ctx), XB_OK, "%s", ctx.msg);
        xb_backend *b = xb_backend_new(qg, &a, &ctx);
        cr_assert_not_null(b, "%s: %s", path, ctx.msg);
        b->profile_images = 1;
        e->engine = xb_backend_engine(b);
        e->engine_state = b->engine.state_new(b, &ctx);
        for (int i = 0; i < nimg; i++) {
            run_once(qg, e, imgs + i * n_in, i, got, n_out); /* image 0: full simulation */
            cr_assert_eq(memcmp(got, ref + i * n_out, (size_t)n_out * sizeof(float)), 0,
                         "%s, buffer variant %zu, image %d: analog differs from int8", path, v, i);
        }
        b->engine.state_free(e->engine_state);
        e->engine_state = NULL;
        e->engine = NULL;
        xb_backend_free(b);
    }
    free(got);
}

static void check_model(const char *path) {
    xb_ctx ctx = {0};
    xb_graph *fg = NULL, *qg = NULL;
    xb_preproc pp = {0};
    cr_assert_eq(xb_model_load(path, NULL, &fg, &pp, &ctx), XB_OK, "%s", ctx.msg);
    int64_t n_in = xb_shape_numel(&fg->tensors[fg->inputs[0]].shape);
    int64_t n_out = xb_shape_numel(&fg->tensors[fg->outputs[0]].shape);
    enum { NIMG = 3 };
    float *imgs = malloc((size_t)(n_in * NIMG) * sizeof(float));
    rs = 2024;
    for (int64_t i = 0; i < n_in * NIMG; i++) imgs[i] = rnd_normal();
    if (xb_qlayer_count(fg) > 0) {
        qg = fg;
    } else {
        xb_quant_opts qo = xb_quant_opts_default();
        cr_assert_eq(xb_quantize(fg, imgs, NIMG, &qo, &qg, &ctx), XB_OK, "%s", ctx.msg);
    }
    cr_assert_gt(xb_qlayer_count(qg), 0, "%s: no matrix layers", path);
    xb_exec *e = xb_exec_new(qg, &ctx);
    cr_assert_not_null(e, "%s", ctx.msg);
    float *ref = malloc((size_t)(n_out * NIMG) * sizeof(float));
    float *got = malloc((size_t)n_out * sizeof(float)), *got2 = malloc((size_t)n_out * sizeof(float));
    for (int i = 0; i < NIMG; i++) run_once(qg, e, imgs + i * n_in, i, ref + i * n_out, n_out);

    /* Ideal arch: exact, on the fast path (index >= profile) and the full
     * simulation (index 0), for several slicings. */
    static const char *const variants[][4] = {
        {"encoding=offset", NULL},
        {"encoding=differential", NULL},
        {"encoding=differential", "adc.signed=true", NULL},
        {"dac.bits=3", "crossbar.bits_per_cell=1", "crossbar.rows=64", NULL},
        {"dac.bits=2", "crossbar.bits_per_cell=3", "crossbar.rows=100", "crossbar.cols=50"},
        {"mapping.row_split=even", "crossbar.rows=100", NULL},
    };
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        xb_arch a;
        cr_assert_eq(xb_arch_load(&a, "ideal", &ctx), XB_OK, "%s", ctx.msg);
        for (int k = 0; k < 4 && variants[v][k]; k++)
            cr_assert_eq(xb_arch_set(&a, variants[v][k], &ctx), XB_OK, "%s", ctx.msg);
        xb_backend *b = xb_backend_new(qg, &a, &ctx);
        cr_assert_not_null(b, "%s: %s", path, ctx.msg);
        b->profile_images = 1;
        e->engine = xb_backend_engine(b);
        e->engine_state = b->engine.state_new(b, &ctx);
        for (int i = 0; i < NIMG; i++) {
            run_once(qg, e, imgs + i * n_in, i, got, n_out); /* image 0 runs the full simulation */
            cr_assert_eq(memcmp(got, ref + i * n_out, (size_t)n_out * sizeof(float)), 0,
                         "%s, variant %zu, image %d: analog differs from int8", path, v, i);
        }
        b->engine.state_free(e->engine_state);
        e->engine_state = NULL;
        e->engine = NULL;
        xb_backend_free(b);
    }

    check_buffers_exact(qg, e, imgs, ref, NIMG, n_in, n_out, path);

    /* Lossy and noisy ADCs: the fast path equals the full simulation. */
    static const char *const lossy[][3] = {
        {"adc.bits=8", NULL},
        {"adc.bits=5", NULL},
        {"adc.bits=5", "mapping.row_split=even", NULL},
        {"adc.bits=6", "encoding=differential", "adc.signed=true"},
        {"adc.bits=6", "adc.range=max", NULL},
        {"nonideal.read_sigma=0.5", NULL},
    };
    for (size_t v = 0; v < sizeof lossy / sizeof lossy[0]; v++) {
        xb_arch a;
        cr_assert_eq(xb_arch_load(&a, "isaac", &ctx), XB_OK, "%s", ctx.msg);
        for (int k = 0; k < 3 && lossy[v][k]; k++)
            cr_assert_eq(xb_arch_set(&a, lossy[v][k], &ctx), XB_OK, "%s", ctx.msg);
        xb_backend *b = xb_backend_new(qg, &a, &ctx);
        cr_assert_not_null(b, "%s", ctx.msg);
        e->engine = xb_backend_engine(b);
        e->engine_state = b->engine.state_new(b, &ctx);
        /* Two images: the full simulation of large models is slow under
         * the sanitizers. */
        for (int i = 0; i < 2; i++) {
            b->profile_images = 0;
            run_once(qg, e, imgs + i * n_in, i, got, n_out);
            b->profile_images = 1000;
            run_once(qg, e, imgs + i * n_in, i, got2, n_out);
            cr_assert_eq(memcmp(got, got2, (size_t)n_out * sizeof(float)), 0,
                         "%s, lossy variant %zu, image %d: fast path != full simulation", path, v,
                         i);
        }
        b->engine.state_free(e->engine_state);
        e->engine_state = NULL;
        e->engine = NULL;
        xb_backend_free(b);
    }
    free(got);
    free(got2);
    free(ref);
    free(imgs);
    xb_exec_free(e);
    if (qg != fg) xb_graph_free(qg);
    xb_graph_free(fg);
    xb_preproc_free(&pp);
}

Test(analog_models, ideal_is_exact_on_every_model, .timeout = 600) {
    glob_t gl;
    char pat[1024];
    snprintf(pat, sizeof pat, "%s/*.onnx", models_dir());
    if (glob(pat, 0, NULL, &gl) != 0) cr_skip_test("no models/*.onnx");
    for (size_t i = 0; i < gl.gl_pathc; i++) check_model(gl.gl_pathv[i]);
    globfree(&gl);
}
