/* Reports of the backend: mapping table, per-layer ADC activity and cost,
 * as text, JSON (cJSON), CSV and histogram files.
 *
 * What the ADC numbers mean:
 *   conversions      every conversion of every image run (analytic count,
 *                    equal to the mapping's per-image count x images);
 *   saturation_rate  saturated / conversions over all images: exact on every
 *                    execution path (the exact path cannot saturate by its
 *                    compile-time bound; the correction path finds each
 *                    clipped conversion; the full path sees all);
 *   zero_share, max_value, bits_needed, histogram
 *                    measured on `observed_conversions` column sums: all
 *                    conversions of the images that ran the full simulation
 *                    (every image when noise or a rounding ADC forces it,
 *                    else the profile images: the first profile_images
 *                    of the evaluated window, from profile_first on). */
#ifndef XBAR_PROFILE_H
#define XBAR_PROFILE_H

#include <stdio.h>

#include "backend/cost.h"
#include "backend/engine.h"

struct cJSON;

void xb_profile_print_mapping(FILE *f, const xb_mapping *m);
struct cJSON *xb_profile_json_mapping(const xb_mapping *m, const xb_cost *c);

/* Run reports: `b` may be NULL (mapping and cost only). */
void xb_profile_print_layers(FILE *f, const xb_mapping *m, const xb_cost *c, const xb_backend *b);
struct cJSON *xb_profile_json_layers(const xb_mapping *m, const xb_cost *c, const xb_backend *b);
struct cJSON *xb_profile_json_totals(const xb_mapping *m, const xb_cost *c, const xb_backend *b);
xb_status xb_profile_write_csv(const char *path, const xb_mapping *m, const xb_cost *c,
                               const xb_backend *b, xb_ctx *ctx);
/* CSV: layer,value_lo,value_hi,count for every non-empty bin. */
xb_status xb_profile_write_hist(const char *path, const xb_backend *b, xb_ctx *ctx);

/* Bits an ADC needs to convert v losslessly (sign bit for signed pairs). */
int xb_profile_bits_needed(int64_t max_abs, bool is_signed);

#endif
