#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "backend/cost.h"

static xb_layer_shape full_xbar(int64_t P) {
    xb_layer_shape s;
    memset(&s, 0, sizeof s);
    snprintf(s.name, sizeof s.name, "full");
    /* 128 rows x 32 weights x 4 slices = one full 128x128 crossbar. */
    s.K = 128;
    s.N = 32;
    s.groups = 1;
    s.P = P;
    s.in_elems = 128 * P;
    s.out_elems = 32 * P;
    s.x_bits = s.w_bits = 8;
    return s;
}

/* One fully used ISAAC crossbar for P positions: 8 input cycles of 100 ns
 * each.  Table I powers / 8 (one of an IMA's 8 crossbars) x 800 ns per
 * position give the same energies as the per-event figures. */
Test(cost, full_crossbar_reproduces_table_one) {
    xb_ctx ctx = {0};
    xb_arch a;
    xb_arch_defaults(&a);
    xb_layer_shape s = full_xbar(10);
    xb_mapping *m = xb_compile_shapes(&a, &s, 1, &ctx);
    cr_assert_not_null(m, "%s", ctx.msg);
    cr_assert_float_eq(m->layers[0].utilisation, 1.0, 1e-12);
    xb_cost *c = xb_cost_compute(m, &ctx);
    cr_assert_not_null(c, "%s", ctx.msg);
    const double *e = c->layers[0].pj;
    double ns = 10 * 800e-9; /* seconds the crossbar is busy */
    cr_assert_float_eq(e[XB_E_ADC], 10 * 1024 * 1.67, 1e-6);
    cr_assert_float_eq(e[XB_E_DAC], 4e-3 / 8 * ns * 1e12, 1e-6);
    cr_assert_float_eq(e[XB_E_XBAR], 2.4e-3 / 8 * ns * 1e12, 1e-6);
    cr_assert_float_eq(e[XB_E_SH], 10e-6 / 8 * ns * 1e12, 1e-9);
    cr_assert_float_eq(e[XB_E_SA], 0.2e-3 / 8 * ns * 1e12, 1e-6);
    cr_assert_float_eq(e[XB_E_IR], 1.24e-3 / 8 * ns * 1e12, 1e-6);
    cr_assert_float_eq(e[XB_E_OR], 0.23e-3 / 8 * ns * 1e12, 1e-6);
    cr_assert_float_eq(c->latency_ns, 10 * 8 * 100.0, 1e-9);
    cr_assert_float_eq(c->conversions_per_mac, 0.25, 1e-12);
    xb_cost_free(c);

    /* With Table I's own ADC energy (1.5625 pJ) and no eDRAM/ALU traffic,
     * the ADC share equals Table I's IMA share 16 / 24.08 mW. */
    a.adc_pj[8 - XB_ADC_TAB_MIN] = 1.5625;
    a.edram_pj_per_byte = 0;
    a.alu_pj = 0;
    a.tile_bus_mw = 0;
    a.router_pj_per_byte = 0;
    m->arch = a;
    c = xb_cost_compute(m, &ctx);
    cr_assert_float_eq(c->adc_share, 16.0 / (16 + 4 + 2.4 + 0.01 + 0.2 + 1.24 + 0.23), 1e-9);
    /* TOPS/W = 2 MACs / pJ. */
    cr_assert_float_eq(c->tops_per_w, 2.0 * 128 * 32 * 10 / c->energy_pj, 1e-9);
    xb_cost_free(c);
    xb_mapping_free(m);
}

Test(cost, tile_area_matches_table_one) {
    xb_arch a;
    xb_arch_defaults(&a);
    /* Table I: 12 IMAs (ADC 0.0096, DAC 0.00017, S+H 0.00004, arrays 0.0002,
     * S+A 0.00024, IR 0.0021, OR 0.00077 mm^2) + eDRAM 0.083, bus 0.090,
     * router 0.151 / 4, sigmoid 0.0006, S+A 0.00006, max-pool 0.00024,
     * OR 0.0032 mm^2 = ISAAC's 0.372 mm^2 tile. */
    double ima = 0.0096 + 0.00017 + 0.00004 + 0.0002 + 0.00024 + 0.0021 + 0.00077;
    cr_assert_float_eq(xb_cost_partitions_area_um2(&a) * 1e-6, 12 * ima, 1e-9);
    double tile = 12 * ima + 0.083 + 0.090 + 0.151 / 4 + 0.0006 + 0.00006 + 0.00024 + 0.0032;
    cr_assert_float_eq(xb_cost_tile_area_um2(&a) * 1e-6, tile, 1e-9);
    cr_assert(fabs(tile / 0.372 - 1) < 0.001, "%g", tile);
}

/* The peak figures at full utilisation come within 5% of ISAAC's Table I:
 * 330 mW and 0.372 mm^2 per tile, ADCs 58% of the power; with Table I's
 * own 1.5625 pJ per 8-bit conversion the power is Table I's sum. */
Test(cost, peak_matches_table_one) {
    xb_arch a;
    xb_arch_defaults(&a);
    xb_cost_peak p;
    xb_cost_peak_compute(&a, &p);
    cr_assert(fabs(p.tile_power_mw / 330 - 1) < 0.05, "%g mW", p.tile_power_mw);
    cr_assert(fabs(p.tile_area_mm2 / 0.372 - 1) < 0.05, "%g mm2", p.tile_area_mm2);
    cr_assert(fabs(p.adc_power_share / 0.58 - 1) < 0.05, "%g", p.adc_power_share);
    cr_assert_float_eq(p.cycle_ns, 100, 1e-12);
    a.adc_pj[8 - XB_ADC_TAB_MIN] = 1.5625;
    xb_cost_peak_compute(&a, &p);
    double ima = 16 + 4 + 0.01 + 2.4 + 0.2 + 1.24 + 0.23;
    cr_assert_float_eq(p.partition_power_mw, ima, 1e-3);
    cr_assert_float_eq(p.tile_power_mw, 12 * ima + 20.7 + 7 + 42 / 4.0 + 2.65, 1e-3);
}

/* Crossbar and DAC energy per inference follow the cells and rows driven,
 * so 512 x 512 arrays cost about what 128 x 128 ones do (not 16x). */
Test(cost, large_arrays_cost_what_they_drive) {
    xb_ctx ctx = {0};
    xb_arch a;
    xb_arch_defaults(&a);
    xb_layer_shape s = full_xbar(10);
    s.K = 300;
    s.N = 100;
    xb_mapping *m = xb_compile_shapes(&a, &s, 1, &ctx);
    xb_cost *c = xb_cost_compute(m, &ctx);
    a.rows = a.cols = 512;
    xb_mapping *m2 = xb_compile_shapes(&a, &s, 1, &ctx);
    xb_cost *c2 = xb_cost_compute(m2, &ctx);
    /* Programmed cells are the same; with an ideal on/off ratio the idle
     * ones draw nothing. */
    cr_assert_float_eq(c2->pj[XB_E_XBAR], c->pj[XB_E_XBAR], 1e-9 * c->pj[XB_E_XBAR]);
    double r = c2->pj[XB_E_DAC] / c->pj[XB_E_DAC];
    cr_assert(r > 0.25 && r < 2, "DAC 512 / 128: %g", r);
    xb_cost_free(c);
    xb_cost_free(c2);
    xb_mapping_free(m);
    xb_mapping_free(m2);
}
