/* The C API's runs (include/xbar.h): xbar_run does what `xbar run --mode`
 * does, through the session, and xbar_compile what `xbar compile` does. */
#include "api/handle.h"
#include "eval/mixed_precision.h"
#include "eval/report.h"

/* The modes to run: the model quantized in the file has no float version
 * (skipped with others, an error alone), as in `xbar run`. */
static xb_status check_modes(xbar *h, xb_session *s, int *modes) {
    xb_ctx *ctx = &h->ctx;
    if (*modes <= 0 || (*modes & ~XBAR_ALL))
        return xb_fail(ctx, XB_ERR_INVALID, "xbar_run: modes %d is not an OR of XBAR_FLOAT, "
                       "XBAR_INT8 and XBAR_ANALOG", *modes);
    if (!xb_session_prequantized(s) || !(*modes & XBAR_FLOAT)) return XB_OK;
    if (*modes == XBAR_FLOAT)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "%s is already quantized (%d integer matrix "
                       "layers): there is no float version to run; run XBAR_INT8",
                       xb_session_model(s), xb_graph_count_quantized(xb_session_graph(s)));
    xb_report_note("%s is already quantized: float mode skipped, int8 runs the model as it is",
                   xb_session_model(s));
    *modes &= ~XBAR_FLOAT;
    return XB_OK;
}

/* The analog arch: int8 computes on the integers the crossbars hold. */
static xb_status analog_arch(xbar *h, xb_arch **a) {
    XB_TRY(xb_api_arch(h, a));
    if ((*a)->weight_bits > 8 || (*a)->input_bits > 8)
        return xb_fail(&h->ctx, XB_ERR_UNSUPPORTED,
                       "arch %s: analog runs the int8 model, so weight_bits and input_bits must "
                       "be <= 8 (got %d and %d); xbar_compile accepts up to 16",
                       (*a)->name, (*a)->weight_bits, (*a)->input_bits);
    return XB_OK;
}

/* Calibration images (once per session) and the int8 model; bits from the
 * options, else from the arch when one is set (always for analog), else 8. */
static xb_status quantize(xbar *h, xb_session *s, bool analog) {
    xb_ctx *ctx = &h->ctx;
    bool preq = xb_session_prequantized(s);
    const xb_arch *a = h->arch_loaded ? &h->arch : NULL;
    if (!xb_session_calibration(s) &&
        (!preq || (analog && (xb_arch_needs_calibration(a) || a->row_reorder)))) /* row activity */
        XB_TRY(xb_session_choose_calibration(s, h->calib, ctx));
    xb_quant_opts qo = xb_quant_opts_default();
    qo.w_bits = h->w_bits ? h->w_bits : a ? a->weight_bits : 8;
    qo.x_bits = h->x_bits ? h->x_bits : a ? (a->input_bits < 2 ? 2 : a->input_bits) : 8;
    qo.method = h->method;
    qo.percentile = h->percentile;
    XB_TRY(xb_quant_opts_layers_from_arch(xb_session_graph(s), a, &qo, ctx));
    XB_TRY(xb_session_quantize(s, &qo, ctx));
    h->qw_bits = qo.w_bits;
    h->qx_bits = qo.x_bits;
    return XB_OK;
}

static xb_status run_analog(xbar *h, xb_session *s, const xb_arch *a) {
    XB_TRY(xb_session_build_backend(s, a, &h->ctx));
    if (xb_arch_needs_calibration(a)) XB_TRY(xb_session_calibrate_adc(s, &h->ctx));
    return xb_session_run_analog(s, &h->ctx);
}

static xb_status run(xbar *h, int modes) {
    xb_session *s;
    xb_arch *a = NULL;
    xb_ctx *ctx = &h->ctx;
    XB_TRY(xb_api_session(h, &s));
    if (!xb_session_data(s)) return xb_fail(ctx, XB_ERR_INVALID, "no data open (xbar_open_data)");
    XB_TRY(check_modes(h, s, &modes));
    h->last_modes = 0;
    h->compiled = false;
    if (modes & XBAR_ANALOG) XB_TRY(analog_arch(h, &a));
    if (modes & (XBAR_INT8 | XBAR_ANALOG)) XB_TRY(quantize(h, s, modes & XBAR_ANALOG));
    if (modes & XBAR_FLOAT) XB_TRY(xb_session_run_float(s, ctx));
    if (modes & XBAR_INT8) XB_TRY(xb_session_run_int8(s, ctx));
    if (modes & XBAR_ANALOG) XB_TRY(run_analog(h, s, a));
    h->last_modes = modes;
    return XB_OK;
}

xbar_status xbar_run(xbar *h, int modes) {
    if (!h) return XBAR_ERR_INVALID;
    xb_api_enter(h);
    return xb_api_leave(h, run(h, modes));
}

static xb_status compile(xbar *h) {
    xb_session *s;
    xb_arch *a;
    XB_TRY(xb_api_session(h, &s));
    XB_TRY(xb_api_arch(h, &a));
    h->last_modes = 0;
    h->compiled = false;
    XB_TRY(xb_session_map(s, a, &h->ctx));
    h->compiled = true;
    return XB_OK;
}

xbar_status xbar_compile(xbar *h) {
    if (!h) return XBAR_ERR_INVALID;
    xb_api_enter(h);
    return xb_api_leave(h, compile(h));
}
