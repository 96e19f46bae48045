/* The analog rows of xbar_bench (bench_analog.c): the crossbar simulation's
 * images/s against xbar's int8 path measured in the same run, the full
 * CIFAR-10 ResNet-20 wall time, and Sandia CrossSim when a checkout is
 * given. */
#ifndef XBAR_BENCH_ANALOG_H
#define XBAR_BENCH_ANALOG_H

#include <stdbool.h>

#include "eval/dataset.h"
#include "eval/runner.h"
#include "runtime/ir.h"

typedef struct {
    int threads, reps, calib;
    const char *crosssim;   /* CrossSim checkout (contains simulator/), or NULL */
    int crosssim_images;    /* LeNet-5 images for CrossSim (ResNet-20 gets a tenth) */
    const char *only;       /* run only the models whose name contains this, or NULL */
} bench_analog_opts;

void bench_analog_usage(void *file);
/* Shared with xbar_bench.c.  Median of v[0..n) (sorts v in place); and
 * with the smallest and largest. */
double bench_median(double *v, int n);
void bench_spread(double *v, int n, double *med, double *lo, double *hi);
/* Passes of a rep to last about target_s, from one pass's secs (1..1000). */
int bench_passes(double target_s, double secs);
/* One rep: `passes` runs of g over the dataset (xb_run_dataset, the code
 * `xbar run` times); images/s, or < 0 on failure (ctx says why); *secs
 * the rep's run time, *acc the last run's top-1. */
double bench_rep(const xb_graph *g, const xb_preproc *pp, const xb_dataset *d,
                 const xb_run_opts *o, int passes, double *acc, double *secs, xb_ctx *ctx);
/* Prints the table on stdout; returns 0, or 1 if some row failed. */
int bench_analog_run(const bench_analog_opts *o);

#endif
