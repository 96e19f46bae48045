/* xbar optimize: choose per-layer precision and replication under an area
 * budget and an accuracy-loss budget, and write the tuned architecture.
 *
 * A search method gets a context (the model, validation images that are
 * not the test images, the base arch, the tile budget) and helpers to
 * measure the validation accuracy of a per-layer precision; it returns the
 * tuned arch.  Methods are listed in one table in optimize.c:
 *   lrmp  (default, optimize_lrmp.c) LRMP (Frontiers in AI 2024, arXiv
 *         2312.03146) reconstructed: per-layer weight and input bits and
 *         layer replication, jointly, under a tile budget.  The paper's
 *         reinforcement-learning agent is replaced by measured per-layer
 *         sensitivities and an exact knapsack over them; replication is the
 *         GLPK MILP (mapping.replication=milp).
 * Another method (LayCO's per-layer search) is one more table row. */
#ifndef XBAR_OPTIMIZE_H
#define XBAR_OPTIMIZE_H

#include <stdint.h>

#include "backend/arch.h"
#include "backend/compile.h"
#include "eval/session.h"

#define XB_OPT_MAX_CHOICES 8

typedef struct {
    const char *model;
    const char *data;        /* the test data: only its training split is read (when
                                val_data is NULL), never its images */
    const char *val_data;    /* validation images: a dataset spec that is NOT the test set */
    int64_t val_images;      /* evaluated validation images (the next `calib` calibrate) */
    int64_t calib;           /* calibration images for quantization and the ADC range */
    const char *method;      /* "lrmp" (NULL: the default) */
    int budget_tiles;        /* 0: the tiles of the unreplicated mapping at the base arch */
    double max_loss;         /* accuracy-loss budget, percentage points of top-1 */
    int threads;
    int w_choices[XB_OPT_MAX_CHOICES], n_w; /* candidate weight bits below weight_bits */
    int x_choices[XB_OPT_MAX_CHOICES], n_x; /* candidate input bits below input_bits */
    xb_arch arch;            /* the base architecture */
    xb_session_opts so;      /* preprocessing flags etc. (threads/progress set here) */
} xb_optimize_opts;

typedef struct {
    xb_arch tuned;           /* what --out gets */
    int budget_tiles;
    double val_base, val_tuned; /* validation top-1 (%) at the base arch and tuned */
    int64_t val_n;
    char val_source[512], val_how[160];
    double base_interval_ns, base_latency_ns; /* unreplicated, base precision */
    int64_t base_tiles;
    double tuned_interval_ns, tuned_latency_ns;
    int64_t tuned_tiles, tuned_xbars;
    double milp_same_prec_interval_ns; /* replication alone (base precision) at the budget */
    int evaluations;
} xb_optimize_result;

/* Internal context handed to a method. */
typedef struct xb_opt_ctx {
    const xb_optimize_opts *o;
    xb_session *s;
    int n;                   /* matrix layers */
    xb_layer_shape *shapes;
    int budget_tiles;
    double base_acc;         /* validation top-1 (%) at the base arch */
    double tuned_acc;        /* the method's: validation top-1 (%) of what it returns */
    int evals;
} xb_opt_ctx;

/* Validation top-1 (%) with per-layer bits wb[i], xb[i] (0: the arch's). */
xb_status xb_opt_accuracy(xb_opt_ctx *c, const signed char *wb, const signed char *xb,
                          double *acc, xb_ctx *ctx);
/* base arch + "I=B" strings for the layers whose bits differ from it. */
xb_status xb_opt_arch_with_bits(const xb_arch *base, int n, const signed char *wb,
                                const signed char *xb, xb_arch *out, xb_ctx *ctx);

typedef xb_status (*xb_opt_method_fn)(xb_opt_ctx *c, xb_arch *tuned, xb_ctx *ctx);
/* The lrmp method (optimize_lrmp.c). */
xb_status xb_opt_lrmp(xb_opt_ctx *c, xb_arch *tuned, xb_ctx *ctx);

/* Name of method i (NULL past the end), for --help. */
const char *xb_optimize_method(int i);
/* Run the search, fill *r (r->tuned is the arch to write). */
xb_status xb_optimize(const xb_optimize_opts *o, xb_optimize_result *r, xb_ctx *ctx);

#endif
