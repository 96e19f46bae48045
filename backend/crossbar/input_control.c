/* Sparsity-aware input control (after Weinstock, Tan, Li, Yu, ORSS'23): the
 * chip activates only row groups with non-zero inputs.  Here the group is a
 * row block of one crossbar and the input is one DAC digit plane at one
 * position: when every digit of the block is zero nothing is driven, the
 * column carries no signal and no read noise, and its conversion is left
 * out (the value is exactly 0).  Without noise that value is 0 anyway, so
 * the switch cannot change a noise-free result; with noise it removes the
 * noise of idle blocks, which row reorder (backend/rowmap.h) makes more
 * common by packing rarely active rows into the same blocks. */
#include <string.h>

#include "backend/crossbar/internal.h"

int64_t xb_input_control(const xb_crossbar_config *c, const uint8_t *x, int64_t P, int64_t k0,
                         int64_t kb, int64_t p0, int64_t pt, int64_t ncc, uint8_t *ictl,
                         float *vbuf) {
    int J = c->input_slices, d = c->dac_bits;
    unsigned dm = (1u << d) - 1;
    int64_t cols = (int64_t)J * pt;
    memset(ictl, 1, (size_t)cols);
    for (int64_t k = 0; k < kb; k++) {
        const uint8_t *xr = x + (k0 + k) * P + p0;
        for (int j = 0; j < J; j++)
            for (int64_t q = 0; q < pt; q++)
                if ((xr[q] >> (j * d)) & dm) ictl[j * pt + q] = 0;
    }
    int64_t idle = 0;
    for (int64_t i = 0; i < cols; i++) idle += ictl[i];
    if (vbuf && idle)
        for (int64_t cc = 0; cc < ncc; cc++)
            for (int64_t i = 0; i < cols; i++)
                if (ictl[i]) vbuf[cc * cols + i] = 0.0f;
    return idle * ncc;
}
