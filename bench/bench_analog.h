/* The analog rows of xbar_bench (bench_analog.c): the crossbar simulation's
 * images/s against xbar's int8 path measured in the same run, the full
 * CIFAR-10 ResNet-20 wall time, and Sandia CrossSim when a checkout is
 * given. */
#ifndef XBAR_BENCH_ANALOG_H
#define XBAR_BENCH_ANALOG_H

#include <stdbool.h>

typedef struct {
    int threads, reps, calib;
    const char *crosssim;   /* CrossSim checkout (contains simulator/), or NULL */
    int crosssim_images;    /* LeNet-5 images for CrossSim (ResNet-20 gets a tenth) */
    const char *only;       /* run only the models whose name contains this, or NULL */
} bench_analog_opts;

void bench_analog_usage(void *file);
/* Median of v[0..n) (sorts v in place); shared with xbar_bench.c. */
double bench_median(double *v, int n);
/* Prints the table on stdout; returns 0, or 1 if some row failed. */
int bench_analog_run(const bench_analog_opts *o);

#endif
