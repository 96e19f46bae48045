/* Bytes through a 256-entry table: dst[i] = table[src[i]].  The runner
 * turns pixels into a quantized first layer's codes this way
 * (eval/preprocess.h, xb_preproc_image_codes). */
#ifndef XBAR_LUT_H
#define XBAR_LUT_H

#include <stdbool.h>
#include <stdint.h>

void xb_lut_u8(const uint8_t table[256], const uint8_t *src, int64_t n, uint8_t *dst);

/* Whether xb_lut_u8 takes its 64-byte vector form (AVX-512 VBMI, chosen
 * from the CPU at run time); for its tests. */
bool xb_lut_u8_vbmi(void);

#endif
