/* Default architecture values: ISAAC (Shafiee et al., ISCA 2016, Table I)
 * at 32 nm, turned into per-event energies with ISAAC's own cycle (one
 * 100 ns crossbar read, 128 columns converted per ADC at 1.28 GS/s), and the
 * cost and device model block.  The derivations are in docs/ARCH.md next to
 * each field; backend/arch/isaac.json holds the same values (a test checks). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "backend/arch.h"
#include "backend/analog_buffer.h"

/* The cost and device model block (docs/ARCH.md, "Component models"). */
static void cost_model_defaults(xb_arch *a) {
    a->row_split = XB_SPLIT_FILL;
    a->read_v = 0.2; /* CiMLoop ISAAC macro */
    /* Table I: 2.4 mW for 8 arrays, 100 ns per read, all 128 x 128 cells
     * driven: 30 pJ per read, 1.83 fJ per cell, at 0.2 V. */
    a->cell_fj_v2 = 2.4e-3 / 8 * 100e-9 * 1e15 / (128.0 * 128.0) / (0.2 * 0.2);
    a->cell_um2 = 0.0002e6 / 8 / (128.0 * 128.0); /* Table I 25 um^2 per 128x128 array */
    a->wire_ff_per_um = 0.2;                       /* NeuroSim's unit-length wire capacitance */
    /* DAC driver: Table I's 4 mW over 8 x 128 activations per 100 ns
     * (0.390625 pJ) less the 128-column row line, so one activation at
     * 128 columns is Table I's figure. */
    a->dac_pj = 4e-3 * 100e-9 / 1024 * 1e12 -
                128 * sqrt(a->cell_um2) * a->wire_ff_per_um * 1e-3 * a->read_v * a->read_v;
    /* Least-squares fit of the Accelergy ISAAC ADC table, 4..10 bits. */
    a->adc_bit_pj = 0.19551695;
    a->adc_fom_fj = 0.41351;
    a->adc_bit_um2 = 81.72857931;
    a->adc_cap_um2 = 2.13350031;
    a->adc_ref_gsps = 1.28;
    /* ISAAC Table I, per tile: eDRAM, eDRAM-to-IMA bus, router (one per 4
     * tiles), and sigmoid + S+A + max-pool + output register. */
    a->tile_edram_mw = 20.7;
    a->tile_bus_mw = 7;
    a->tile_router_mw = 42;
    a->tiles_per_router = 4;
    a->tile_digital_mw = 0.52 + 0.05 + 0.4 + 1.68;
    a->tile_bus_um2 = 0.090e6;
    a->tile_router_um2 = 0.151e6;
    a->tile_digital_um2 = (0.0006 + 0.00006 + 0.00024 + 0.0032) * 1e6;
    a->bus_bytes_per_ns = 384 / 8.0 * 1.2; /* 384 wires at the 1.2 GHz clock */
    a->router_pj_per_byte = 20.74 / 32;    /* CiMLoop ISAAC router: 20.74 pJ per 256 b */
}

void xb_arch_defaults(xb_arch *a) {
    memset(a, 0, sizeof *a);
    snprintf(a->name, sizeof a->name, "isaac");
    a->rows = 128;
    a->cols = 128;
    a->bits_per_cell = 2;
    a->on_off_ratio = 0;
    a->dac_bits = 1;
    a->adc_bits = 8;
    a->adc_signed = false;
    a->adc_range = XB_ADC_CLIP;
    a->adc_percentile = 99.99;
    a->adcs_per_crossbar = 1;
    a->adc_gsps = 1.28;
    a->weight_bits = 8;
    a->input_bits = 8;
    a->encoding = XB_ENC_OFFSET;
    a->xbars_per_partition = 8;
    a->partitions_per_tile = 12;
    a->tiles = 168;
    a->replication = XB_REP_NONE;
    a->budget_tiles = 0;
    a->pack_groups = XB_PACK_AUTO;
    a->xbar_read_ns = 100;
    a->clock_ghz = 1.2;
    /* Accelergy/CiMLoop ISAAC library ADC table, 32 nm, 4..10 bits. */
    static const double e[XB_ADC_TAB_N] = {0.79, 0.99, 1.20, 1.42, 1.67, 1.97, 2.38};
    static const double ar[XB_ADC_TAB_N] = {361, 477, 627, 845, 1200, 1828, 3002};
    memcpy(a->adc_pj, e, sizeof e);
    memcpy(a->adc_um2, ar, sizeof ar);
    /* ISAAC Table I per IMA, divided over one 100 ns read cycle. */
    a->dac_um2 = 0.00017e6 / 1024;                    /* 0.166 um^2 */
    a->sh_pj = 10e-6 * 100e-9 / 1024 * 1e12;          /* 10 uW, 8x128 S+H */
    a->sh_um2 = 0.00004e6 / 1024;
    a->sa_pj = 0.2e-3 / (8 * 1.28e9) * 1e12;          /* 0.2 mW over 8 ADCs' conversions */
    a->sa_um2 = 0.00024e6;
    a->ir_pj_per_byte = 1.24e-3 * 100e-9 / 128 * 1e12; /* 1.24 mW; 1024 bits read per cycle */
    a->ir_um2 = 0.0021e6;
    a->or_pj = 0.23e-3 * 100e-9 / 1024 * 1e12;        /* 0.23 mW over 1024 conversions */
    a->or_um2 = 0.00077e6;
    a->edram_pj_per_byte = 20.45 / 32;                /* CiMLoop ISAAC eDRAM: 20.45 pJ/256 b */
    a->edram_um2 = 0.083e6;
    a->alu_pj = 0.1; /* 32-bit integer add, 45 nm (Horowitz, ISSCC 2014) */
    cost_model_defaults(a);
    a->prog_sigma = 0;
    a->read_sigma = 0;
    a->stuck_low = 0;
    a->stuck_high = 0;
    a->seed = 1;
    /* device and circuit non-idealities: off (docs/ARCH.md) */
    a->off_compensation = true;
    a->drift_t0 = 20; /* aihwkit PCMLikeNoiseModel t_0 */
    a->drift_compensation = true;
    /* Table I's crossbar power taken at CiMLoop's ISAAC cell, R_on = 1333
     * ohm (docs/ARCH.md, "Conductances"). */
    a->g_ref_us = 750; /* 1 / 1333 ohm = 750.2 uS */
    /* RAELLA's switches, off (docs/ARCH.md) */
    a->slice_error = 0.09; /* RAELLA's per-layer error budget */
    a->dac_speculation = false;
    snprintf(a->spec_slices, sizeof a->spec_slices, "4/2/2");
    /* DATE'24 ADC co-design: off; the non-uniform transfer's error budget
     * (our choice, docs/ARCH.md) */
    a->adc_nu_error = 0.01;
    xb_buffer_defaults(a);
}

