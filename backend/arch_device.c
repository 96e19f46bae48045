/* Checks of the device and circuit non-idealities block of the
 * architecture (arch.h); xb_arch_validate calls them. */
#include <stddef.h>

#include "backend/arch.h"

/* Device and circuit non-idealities: a measured table replaces the
 * parametric device and read-noise model, so the two cannot be mixed. */
xb_status xb_arch_validate_device(const xb_arch *a, xb_ctx *ctx) {
    if (!a->noise_table[0]) return XB_OK;
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

