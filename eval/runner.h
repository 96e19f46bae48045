/* Run a prepared graph over a dataset and count correct answers.
 *
 * Images are independent, so the runner parallelises across them with
 * OpenMP: each thread creates one xb_exec (and, with an engine, one engine
 * state) before the loop and reuses it for every image it runs; nothing is
 * allocated per image.  Per-image outcomes are written to per-image slots
 * and the counts are integer sums, so the results are identical for any
 * thread count and any scheduling. */
#ifndef XBAR_RUNNER_H
#define XBAR_RUNNER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "eval/dataset.h"
#include "runtime/exec.h"
#include "eval/preprocess.h"

/* Per-image hook: more work on every image, done by the runner's workers
 * (threads, execs, label checks and the lowest-failing-image error stay in
 * one place).  Each worker makes its own hook state after its exec and
 * engine state exist; after image `image` has run and been scored,
 * `image_done` is called on that worker's thread with the worker's exec
 * (its buffers hold the image's input and scores, and every activation
 * when keep_activations is set: e.g. to run delta variants of the image,
 * runtime/exec.h).  A failure stops the run as a failing image does.  When
 * the run succeeds the states are merged in worker order, then all are
 * freed.  Which worker gets which image depends on the scheduling, so for
 * results identical at any thread count `merge` must combine exact counts
 * (integer sums) or per-image slots.  Any callback but image_done may be
 * NULL; without worker_new every worker's state is NULL, and worker_free
 * is called only on non-NULL states (also after a failed worker_new). */
typedef struct xb_run_hook {
    void *self;
    xb_status (*worker_new)(void *self, xb_exec *e, void **worker, xb_ctx *ctx);
    xb_status (*image_done)(void *self, void *worker, xb_exec *e, int64_t image, int label,
                            xb_ctx *ctx);
    void (*merge)(void *self, void *worker);
    void (*worker_free)(void *self, void *worker);
} xb_run_hook;

typedef struct xb_run_opts {
    int64_t first;            /* first image index (default 0) */
    int64_t limit;            /* images to run from `first`; <= 0: to the end */
    int threads;              /* <= 0: OpenMP's default (OMP_NUM_THREADS) */
    const xb_engine *engine;  /* NULL: the reference kernels */
    const char *label;        /* progress bar label ("float", "int8"...) */
    bool progress;            /* report progress on stderr (eval/progress.h) */
    int progress_mode;        /* xb_progress_mode: 0 auto (bar on a terminal, else lines) */
    float *logits;            /* optional [count][n_outputs]: scores of every image */
    int32_t *pred;            /* optional [count]: top-1 class of every image */
    /* optional: checked before every image; once non-zero the run stops
     * (images in flight finish) and returns XB_ERR_INTERRUPTED saying how
     * many images were done.  The caller owns it (e.g. a signal handler's
     * flag): the library keeps no global state. */
    const volatile sig_atomic_t *cancel;
    const xb_run_hook *hook;  /* optional: called for every image (above) */
    bool keep_activations;    /* execs keep every activation (xb_exec_new_keep), for the hook */
} xb_run_opts;

typedef struct xb_run_result {
    int64_t total;            /* images run */
    int64_t correct1;         /* top-1 correct */
    int64_t correct5;         /* top-5 correct (top-k when the model has k < 5 classes) */
    double seconds;           /* wall time of the image loop */
    double images_per_s;
    int threads;              /* threads actually used */
    bool input_codes;         /* the images went in as u8 codes through a table per pixel
                               * value, not as floats (runner.c, plan_codes) */
} xb_run_result;

static inline void xb_run_opts_init(xb_run_opts *o) {
    *o = (xb_run_opts){0};
}

/* `g` must be prepared with batch 1 and `pp` initialised from it; images of
 * `d` must pass xb_preproc_check.  Labels must index the model's outputs
 * (see xb_dataset_match_classes).  A failure on some image reports the
 * lowest failing image index, whatever the thread count. */
xb_status xb_run_dataset(const xb_graph *g, const xb_preproc *pp, const xb_dataset *d,
                         const xb_run_opts *o, xb_run_result *r, xb_ctx *ctx);

/* Rank of class `label` among `k` scores: the number of scores above it,
 * plus equal scores at lower indices (so rank 0 is the first argmax).  NaN
 * scores make the rank k (never correct). */
int xb_score_rank(const float *scores, int k, int label);
/* Index of the first maximum. */
int xb_argmax(const float *scores, int k);

#endif
