/* Collapse diagnosis: when the analog accuracy falls more than a threshold
 * below int8, say which layers are responsible and which switches help.
 *
 * Per layer: the saturation share (all images), the ADC bits a lossless
 * conversion needed (measured on the profile images) against the bits
 * given, and the error the layer injects, measured by re-running a subset
 * of the evaluated images with that one layer made exact (it computes the
 * int8 product; every other layer stays analog) and reading the top-1
 * accuracy it recovers.  Suggestions (each applied alone on top of the arch
 * as run, when it changes something): adc.range=calibrated,
 * adc.layer_bits with the bits the worst layers need, encoding=differential,
 * crossbar.off_compensation=true; each measured on the same subset.
 *
 * Cost: one analog baseline run of the subset, then per image and layer a
 * delta run (runtime/exec.h) from that layer's node: only the layer and
 * the nodes whose inputs changed are recomputed (the per-layer dataset
 * runs, each recomputing every node before the layer, remain as the
 * reference path, per_run, and the path taken when the delta runs' kept
 * activations would not fit in --max-memory); plus, per suggestion, an ADC calibration when
 * it needs one and one run.  The report gives the seconds it took.  The
 * analog results of the session are not changed: the runs use a wrapper
 * engine whose statistics are discarded, and suggestions build their own
 * backends.  The report's "layer_pass" says which way the per-layer runs
 * went: "delta" or "per_run". */
#ifndef XBAR_DIAGNOSE_H
#define XBAR_DIAGNOSE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "eval/session.h"

struct cJSON;

typedef struct {
    double threshold;   /* top-1 points below int8 that trigger it (default 5) */
    int64_t images;     /* evaluated images (from #0) for the measurements (default 50) */
    bool suggest;       /* measure the suggestions too (default true) */
    int threads;        /* runner threads (<= 0: OpenMP's default) */
    int progress;       /* xb_progress_mode of the step count (eval/progress.h) */
    /* One dataset run per layer made exact (the reference the tests compare
     * the default image-major delta runs against; also taken when keeping
     * every activation of two execs per thread would need too much memory). */
    bool per_run;
} xb_diag_opts;

static inline xb_diag_opts xb_diag_opts_default(void) {
    return (xb_diag_opts){.threshold = 5.0, .images = 50, .suggest = true};
}

/* After xb_session_run_int8 and xb_session_run_analog.  Returns the
 * "diagnosis" object ({"triggered": false, ...} when the drop is within the
 * threshold), or NULL with the message in ctx. */
struct cJSON *xb_diagnose(xb_session *s, const xb_diag_opts *o, xb_ctx *ctx);
/* The diagnosis as text (nothing when it did not trigger). */
void xb_diagnose_print(FILE *f, const struct cJSON *d);

#endif
