/* Energy, latency and area of a mapped network (per inference).
 *
 * Analytic: every event count comes from the mapping (compile.h), because
 * the hardware runs every input slice of every crossbar whatever the data.
 * Per-event energies and per-instance areas come from the arch (ARCH.md).
 *
 * Latency is a layer-by-layer model: the crossbars of a layer (all groups,
 * row and column blocks, replicas) work in parallel; each output position
 * takes input_slices cycles of max(crossbar read, conversions per crossbar
 * / ADC throughput), replicas splitting the positions.  Two figures:
 * latency_ns, one image through layers that run one after another, and
 * pipeline_ns, the interval between images when every layer is a pipeline
 * stage working on its own image (ISAAC's inter-layer pipeline), i.e. the
 * slowest layer's time; pipelined_ips is its inverse. */
#ifndef XBAR_COST_H
#define XBAR_COST_H

#include "backend/compile.h"

enum {
    XB_E_ADC, XB_E_DAC, XB_E_XBAR, XB_E_SH, XB_E_SA, XB_E_IR, XB_E_OR, XB_E_EDRAM, XB_E_ALU,
    XB_E_BUS, XB_E_ROUTER, XB_E_COUNT
};
extern const char *const xb_energy_names[XB_E_COUNT];

typedef struct {
    double pj[XB_E_COUNT];
    double total_pj;
    double cycle_ns, latency_ns;
} xb_layer_cost;

typedef struct {
    int n;
    xb_layer_cost *layers;
    double pj[XB_E_COUNT];
    double energy_pj;      /* per inference */
    double adc_share;
    double latency_ns;
    double pipeline_ns;    /* slowest layer: interval between images, layer-pipelined */
    int bottleneck;        /* that layer */
    double pipelined_ips;  /* images per second, layer-pipelined */
    int64_t macs, conversions;
    double conversions_per_mac;
    double tops_per_w;     /* 2 ops per MAC */
    double gops;           /* 2 * MACs / latency */
    double area_mm2_used;  /* tiles the network occupies */
    double area_mm2_chip;  /* all arch tiles */
    double gops_per_mm2;   /* on the used area */
} xb_cost;

/* Peak figures of one tile at full utilisation (every crossbar of every
 * partition reading all rows and columns each cycle, the tile-level units
 * at their Table I powers): what ISAAC's Table I reports. */
typedef struct {
    double tile_power_mw, tile_area_mm2;
    double adc_power_share, adc_area_share;
    double partition_power_mw; /* one partition (ISAAC IMA) */
    double pj_per_cycle[XB_E_COUNT]; /* per crossbar cycle of one tile, by component */
    double cycle_ns;
} xb_cost_peak;

xb_cost *xb_cost_compute(const xb_mapping *m, xb_ctx *ctx);
void xb_cost_free(xb_cost *c);
/* Area of a tile: eDRAM, bus, router share, tile digital units and the
 * partitions, each with S+A, IR, OR and its crossbars (array + DACs + S+H
 * + ADCs). */
double xb_cost_tile_area_um2(const xb_arch *a);
/* The partitions' part of the tile area alone (ISAAC's 12 IMAs). */
double xb_cost_partitions_area_um2(const xb_arch *a);
void xb_cost_peak_compute(const xb_arch *a, xb_cost_peak *p);

#endif
