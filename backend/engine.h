/* The analog mode's engine: installs the crossbar simulation
 * (backend/crossbar/crossbar.h) as the xb_engine of every XbarQConv /
 * XbarQGemm, one crossbar layer per matrix layer, configured from an
 * architecture description.
 *
 * Use: b = xb_backend_new(graph, arch); exec->engine = xb_backend_engine(b);
 * the runner creates one state per worker (engine->state_new), sets
 * exec->engine_state and exec->image_index, and merges the states after the
 * run.  Merged statistics are in b->stats[layer]. */
#ifndef XBAR_ENGINE_H
#define XBAR_ENGINE_H

#include "backend/crossbar/crossbar.h"
#include "runtime/exec.h"
#include "backend/arch.h"
#include "backend/compile.h"
#include "backend/rowmap.h"

typedef struct xb_backend {
    xb_arch arch;
    xb_mapping *map;
    int n;
    xb_crossbar_layer **layers;
    int64_t *P;                 /* positions per layer (scratch sizing) */
    xb_crossbar_stats *stats;   /* merged, per layer */
    int64_t images;             /* images merged */
    int64_t profile_images;     /* how many images record every column sum: those with index */
    int64_t profile_first;      /* profile_first .. profile_first + profile_images - 1 (the
                                   session sets the evaluated window's first; default 0) */
    bool calibrating;
    double *full_scale;         /* calibrated full scale per layer (unit levels), or 0 */
    xb_engine engine;
    struct xb_autoslice *autos; /* crossbar.slices = auto (backend/raella.h), or NULL */
    /* ORSS'23 row rename / reorder (engine_rowmap.c): the stored rows of each
     * layer (NULL when neither switch is on), and the activity pass. */
    xb_rowmap **rowmaps;
    int64_t **activity;         /* [layer][K] nonzero input codes seen while recording */
    bool recording;
} xb_backend;

/* Compiles the mapping and builds the crossbar layers.  Fails when a layer's
 * weights or input bits do not fit the architecture. */
xb_backend *xb_backend_new(const xb_graph *g, const xb_arch *a, xb_ctx *ctx);
void xb_backend_free(xb_backend *b);
const xb_engine *xb_backend_engine(xb_backend *b);

/* Calibrated ADC range: between begin and end, every image runs with a
 * lossless ADC and records column sums; end sets each layer's full scale to
 * the arch's percentile of them and clears the statistics. */
void xb_backend_calibration_begin(xb_backend *b);
xb_status xb_backend_calibration_end(xb_backend *b, xb_ctx *ctx);
/* The arch's ADC on a built layer (full_scale <= 0: not calibrated yet);
 * the layer's SAR-trial share for the cost model is xb_backend_sar_charge
 * (adc_sar.h). */
void xb_backend_configure_adc(const xb_arch *a, xb_crossbar_layer *l, double full_scale,
                              int layer, int n);
/* Zero the merged statistics (e.g. between sweep points). */
void xb_backend_reset_stats(xb_backend *b);

/* Row reorder (mapping.row_reorder, engine_rowmap.c): between begin and end
 * the images run as usual and every layer counts, per weight row, the
 * positions whose input code is nonzero; end reorders each layer's stored
 * rows by that count and rebuilds its crossbars (g: the graph the backend
 * was built from). */
xb_status xb_backend_activity_begin(xb_backend *b, xb_ctx *ctx);
xb_status xb_backend_activity_end(xb_backend *b, const xb_graph *g, xb_ctx *ctx);
/* Layer i's crossbars with its row map (built from the weights, and the
 * activity counts when present): internal to the engine files. */
xb_status xb_backend_build_layer(xb_backend *b, const xb_graph *g, int i,
                                 const xb_noise_table *table, xb_ctx *ctx);
/* Inputs of layer i as the crossbars see them (summed and ordered rows),
 * counting activity while recording; returns x itself without a row map. */
const uint8_t *xb_backend_layer_input(xb_backend *b, int i, const uint8_t *x, int64_t P,
                                      int64_t *activity, uint8_t *xr);
/* Per-worker row-map buffers (none without row maps) and their merge. */
xb_status xb_backend_worker_rowmap(const xb_backend *b, uint8_t **xr, int64_t ***act, xb_ctx *ctx);
void xb_backend_worker_rowmap_free(int n, uint8_t *xr, int64_t **act);
void xb_backend_merge_activity(xb_backend *b, int64_t **act);
void xb_backend_rowmap_free(xb_backend *b);

#endif
