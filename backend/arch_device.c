/* Checks of the device and circuit non-idealities block of the
 * architecture (arch.h); xb_arch_validate calls them. */
#include <math.h>
#include <stddef.h>

#include "backend/arch.h"

/* Device and circuit non-idealities: a measured table replaces the
 * parametric device and read-noise model, so the two cannot be mixed. */
double xb_arch_on_off_ratio(const xb_arch *a) {
    if (a->g_on_us > 0 && a->g_off_us > 0) return a->g_on_us / a->g_off_us;
    return a->on_off_ratio;
}

double xb_arch_g_on_us(const xb_arch *a) {
    if (a->g_on_us > 0) return a->g_on_us;
    if (a->g_off_us > 0) return a->g_off_us * a->on_off_ratio; /* checked: ratio > 1 */
    return a->g_ref_us;
}

/* Any two of G_on, G_off and the ratio define the third; all three given
 * must agree (to rounding), and G_off alone defines nothing. */
static xb_status validate_conductances(const xb_arch *a, xb_ctx *ctx) {
    double r = a->on_off_ratio;
    if (a->g_off_us > 0 && a->g_on_us == 0 && r == 0)
        return xb_fail(ctx, XB_ERR_INVALID,
                       "arch: crossbar.g_off_us = %g needs crossbar.g_on_us or "
                       "crossbar.on_off_ratio to define G_on",
                       a->g_off_us);
    if (a->g_on_us > 0 && a->g_off_us > 0) {
        double gr = a->g_on_us / a->g_off_us;
        if (gr <= 1)
            return xb_fail(ctx, XB_ERR_INVALID,
                           "arch: crossbar.g_off_us = %g must be below crossbar.g_on_us = %g",
                           a->g_off_us, a->g_on_us);
        if (r != 0 && fabs(r - gr) > 1e-9 * gr)
            return xb_fail(ctx, XB_ERR_INVALID,
                           "arch: crossbar.on_off_ratio = %g conflicts with crossbar.g_on_us / "
                           "crossbar.g_off_us = %g / %g = %g; give two of the three",
                           r, a->g_on_us, a->g_off_us, gr);
    }
    return XB_OK;
}

xb_status xb_arch_validate_device(const xb_arch *a, xb_ctx *ctx) {
    XB_TRY(validate_conductances(a, ctx));
    if (!a->noise_table[0]) return XB_OK;
    if (xb_arch_on_off_ratio(a) != 0)
        return xb_fail(ctx, XB_ERR_INVALID,
                       "arch: nonideal.table replaces the parametric device model; "
                       "crossbar.g_on_us / g_off_us must not set a finite on/off ratio with it");
    static const struct {
        const char *key;
        size_t off;
    } para[] = {{"crossbar.on_off_ratio", offsetof(xb_arch, on_off_ratio)},
                {"nonideal.programming_sigma", offsetof(xb_arch, prog_sigma)},
                {"nonideal.programming_sigma_floor", offsetof(xb_arch, prog_floor)},
                {"nonideal.read_sigma", offsetof(xb_arch, read_sigma)},
                {"nonideal.read_current_sigma", offsetof(xb_arch, read_current_sigma)},
                {"nonideal.read_row_sigma", offsetof(xb_arch, read_row_sigma)},
                {"nonideal.stuck_low_rate", offsetof(xb_arch, stuck_low)},
                {"nonideal.stuck_high_rate", offsetof(xb_arch, stuck_high)},
                {"nonideal.drift_seconds", offsetof(xb_arch, drift_seconds)},
                {"nonideal.ir_drop", offsetof(xb_arch, ir_drop)}};
    for (size_t i = 0; i < sizeof para / sizeof para[0]; i++)
        if (*(const double *)((const char *)a + para[i].off) != 0)
            return xb_fail(ctx, XB_ERR_INVALID,
                           "arch: nonideal.table replaces the parametric device model; %s must "
                           "be 0 with it",
                           para[i].key);
    return XB_OK;
}

