/* LayCO's layer-centric co-optimisation of supply voltage and converter
 * bits (JCST 2023; the seed gives the abstract only, so the search below
 * is a reconstruction, docs/REPRODUCTION.md "LayCO").
 *
 * Given a session whose evaluated images are a validation split (not the
 * test images) and whose model is quantized, and a base architecture with
 * analog buffers (the `layco` preset):
 *   1. the base runs once: validation accuracy A0, energy E0;
 *   2. sensitivity: each layer alone is set to the lowest voltage and bits
 *      of the ladder; its accuracy drop and energy saving rank the layers,
 *      least sensitive (then most saving) first;
 *   3. greedy, in that order: the layer's voltage goes down the ladder
 *      (v_nominal - k v_step, down to v_min), then its converter bits (down
 *      to bits_min), each step kept only while the validation accuracy stays
 *      within max_loss points of A0 (the lowest step is tried first, then a
 *      bisection of the ladder).
 * Every evaluation is a full analog run of the validation images (noise
 * seeded as the arch says), so the result is deterministic.  The tuned
 * architecture is the base with buffer.layer_voltage and buffer.layer_bits
 * set. */
#ifndef XBAR_OPTIMIZE_LAYCO_H
#define XBAR_OPTIMIZE_LAYCO_H

#include <stdbool.h>

#include "backend/arch.h"
#include "eval/session.h"

typedef struct {
    double max_loss;   /* top-1 points on the validation images, against the base (1.0) */
    double v_min;      /* lowest supply voltage tried (0.5 V) */
    double v_step;     /* voltage ladder step (0.1 V) */
    int bits_min;      /* lowest converter bits tried (3) */
    bool progress;     /* a line per evaluation on stderr */
} xb_layco_opts;

typedef struct {
    int layers;
    int evaluations;
    int64_t images;                      /* validation images */
    int64_t base_correct, tuned_correct; /* top-1 on them */
    double base_energy_pj, tuned_energy_pj;
} xb_layco_result;

static inline xb_layco_opts xb_layco_opts_default(void) {
    return (xb_layco_opts){.max_loss = 1.0, .v_min = 0.5, .v_step = 0.1, .bits_min = 3};
}

/* Runs the search; *tuned receives the tuned architecture. */
xb_status xb_optimize_layco(xb_session *s, const xb_arch *base, const xb_layco_opts *o,
                            xb_arch *tuned, xb_layco_result *r, xb_ctx *ctx);

#endif
