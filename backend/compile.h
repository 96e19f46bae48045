/* Crossbar compiler: how each matrix layer is sliced and tiled onto
 * crossbars, partitions and tiles.
 *
 * A layer is a K x N weight matrix per group (Conv as im2col: K =
 * Cin/group * kh * kw, N = Cout/group; Gemm/MatMul: K inputs, N outputs),
 * applied at P output positions per image.  Each weight is encoded
 * (offset or differential, see arch.h) and cut into `w_slices` cell slices
 * of bits_per_cell bits; a slice occupies `cols_per_slice` physical columns
 * (2 for differential: positive and negative).  Row blocks hold up to
 * `rows` consecutive k, filled or split evenly (mapping.row_split,
 * backend/crossbar/geometry.h); column blocks hold as many whole slice units as fit in
 * `cols`.  Groups get their own crossbars, unless several fit on one
 * (mapping.pack_groups, default auto): a group with K <= rows and its N x
 * S slice units (+1 unit column with flip) fitting the columns is packed
 * block-diagonally, g = min(rows / K, units / units_per_group, groups) per
 * crossbar, group j on rows j K.. and its own columns; the cells between
 * the blocks stay unprogrammed (level 0).  One read then serves g groups
 * (crossbar reads drop g-fold) while every group's columns are still
 * converted (conversions, driven rows and cells unchanged), so a
 * crossbar's ADCs convert g times the columns per read (the cycle time
 * follows).  Depthwise convs (K = 9, N = 1) pack 14 to a 128-row crossbar.
 * Each layer starts on a fresh
 * partition (ISAAC assigns IMAs to layers), partitions fill tiles in
 * order.
 *
 * Replication (arch mapping.replication = balance): a layer may hold r
 * copies of its weights, each computing 1/r of the output positions, so
 * its time per image drops to ceil(P / r) position steps.  As in LRMP
 * (Frontiers in AI 2024), copies go to the layer that limits a layer
 * pipeline (the slowest stage) one at a time while the mapping stays
 * within the tile budget.  Each step is forced (no mapping under the budget
 * has a faster slowest stage without giving that layer another copy), so
 * this greedy reaches the smallest slowest-stage time the budget allows. */
#ifndef XBAR_COMPILE_H
#define XBAR_COMPILE_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/ir.h"
#include "backend/arch.h"

typedef struct {
    char name[128];
    int64_t K, N, groups, P;
    int64_t in_elems, out_elems; /* per image, for eDRAM traffic */
    int x_bits, w_bits;          /* from the quantized layer */
    /* Row rename (mapping.row_rename, backend/rowmap.h), known only when the
     * weights are: rows stored and bits of the largest summed input code;
     * 0 = unknown (a float graph), the layer is then mapped unrenamed. */
    int64_t rename_rows;
    int rename_in_bits;
} xb_layer_shape;

typedef struct {
    xb_layer_shape s;
    int w_slices, cols_per_slice, input_slices;
    int64_t units_per_xbar; /* slice units (cols_per_slice columns) per crossbar */
    int64_t row_blocks, col_blocks, xbars_per_group, xbars; /* xbars: all groups and replicas */
    int64_t replicas;       /* copies of the weights, each for 1/replicas of the positions */
    int64_t groups_per_xbar; /* groups packed block-diagonally per crossbar (1: not packed) */
    int64_t first_xbar, first_partition, partitions, first_tile, tiles;
    double utilisation; /* programmed cells / cells of the crossbars used */
    /* Per image, analytic (the hardware runs every slice whatever the data). */
    int64_t macs;
    int64_t xbar_reads;      /* crossbar activations */
    double cells_driven;     /* programmed cells on driven rows, summed over reads */
    double cells_idle;       /* unprogrammed cells on driven rows (conduct G_off) */
    double unit_cells;       /* flip: ISAAC's unit-column cells on driven rows */
    int64_t dac_acts;        /* row activations */
    int64_t col_samples;     /* column samples (S+H) */
    int64_t conversions;     /* ADC conversions */
    int adc_bits;            /* effective resolution charged by the cost model */
    double adc_cycle_frac;   /* ADC energy per conversion / a full conversion's, from the SAR
                                trials run (backend/adc_sar.h; 1 unless adc.skip_cycles or
                                adc.quantizer and the backend knows the weights) */
    int64_t max_column_sum;  /* largest possible pre-ADC sum in this layer's crossbars */
    double dac_extra_pj;     /* RAELLA speculation: multi-bit DAC levels beyond dac.bits */
    double dac_pulses;       /* dac.model=pulse: unit pulses per image over all column
                                blocks; expected for uniform digits until the backend
                                has counted the inputs run (backend/dac.h) */
    /* Rows programmed per group (K, or fewer with mapping.row_rename) and
     * the crossbars one copy would take without renaming. */
    int64_t rows_stored, xbars_unrenamed;
    int weight_bits, input_bits; /* the arch's for this layer (layer_weight_bits,
                                    layer_input_bits; xb_arch_layer_view) */
    /* analog buffers (backend/buffer_cost.h): conversions a chain of
     * crossbars saves by adding its psums in analog, per image */
    int64_t conversions_saved;
} xb_layer_map;

typedef struct {
    xb_arch arch;
    int n;
    xb_layer_map *layers;
    int64_t xbars, partitions, tiles;
    bool fits; /* tiles <= arch.tiles */
} xb_mapping;

/* Crossbars of one copy of a layer's weights (all groups). */
static inline int64_t xb_layer_copy_xbars(const xb_layer_map *l) {
    return l->xbars_per_group * ((l->s.groups + l->groups_per_xbar - 1) / l->groups_per_xbar);
}

/* Map the given layer shapes.  Returns NULL with ctx set on failure. */
xb_mapping *xb_compile_shapes(const xb_arch *a, const xb_layer_shape *shapes, int n, xb_ctx *ctx);
/* Map every XbarQConv / XbarQGemm of a prepared, quantized graph. */
xb_mapping *xb_compile_graph(const xb_arch *a, const xb_graph *g, xb_ctx *ctx);
void xb_mapping_free(xb_mapping *m);
/* One position step of a layer: max(crossbar read, conversions of its
 * busiest crossbar / ADC throughput). */
double xb_layer_cycle_ns(const xb_arch *a, const xb_layer_map *l);
/* Time per image of a layer: ceil(P / replicas) positions x input slices
 * x cycle (all crossbars of the layer work in parallel), but no less than
 * the time its inputs take over the eDRAM-to-IMA bus (xb_layer_bus_ns). */
double xb_layer_latency_ns(const xb_arch *a, const xb_layer_map *l);
/* Bytes a layer moves over the tile bus per image: each position's K
 * input codes per group (broadcast to the column blocks, the same for any
 * number of replicas). */
double xb_layer_bus_bytes(const xb_arch *a, const xb_layer_map *l);
/* Those bytes over the bandwidth of the tiles one copy of the layer
 * occupies (at least one): the eDRAM holding the layer's inputs feeds
 * every replica, so replication stops paying once this dominates. */
double xb_layer_bus_ns(const xb_arch *a, const xb_layer_map *l);
/* Layer shapes of a prepared graph: its XbarQ layers when quantized, else
 * its float Conv / Gemm / MatMul layers.  Caller frees *out. */
xb_status xb_layer_shapes_of_graph(const xb_graph *g, xb_layer_shape **out, int *n, xb_ctx *ctx);

/* Column occupancy of crossbar `x` (0 <= x < layer xbars) of a layer:
 * rows and columns used (occupied cells are the top-left rows x cols). */
void xb_layer_xbar_usage(const xb_arch *a, const xb_layer_map *l, int64_t x, int64_t *rows_used,
                         int64_t *cols_used);

/* Crossbar-occupancy heatmap: one block per crossbar, cells coloured by
 * layer, unused cells grey.  Written with libpng. */
xb_status xb_mapping_heatmap(const xb_mapping *m, const char *path, xb_ctx *ctx);

#endif
