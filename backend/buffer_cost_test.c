/* Analog buffers in the mapping, cost model and endurance (buffer_cost.h),
 * and their arch fields (analog_buffer.h): checked against the formulas. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "backend/analog_buffer.h"
#include "backend/buffer_cost.h"

static xb_layer_shape shape(const char *name, int64_t K, int64_t N, int64_t P) {
    xb_layer_shape s;
    memset(&s, 0, sizeof s);
    snprintf(s.name, sizeof s.name, "%s", name);
    s.K = K;
    s.N = N;
    s.groups = 1;
    s.P = P;
    s.in_elems = K * P;
    s.out_elems = N * P;
    s.x_bits = s.w_bits = 8;
    return s;
}

static void buffered(xb_arch *a, int chain) {
    xb_ctx ctx = {0};
    cr_assert_eq(xb_arch_load(a, "layco", &ctx), XB_OK, "%s", ctx.msg);
    a->buf_chain = chain;
}

/* K = 2560 on 256-row crossbars: 10 row blocks; chains of 4 convert 3 times
 * per column instead of 10. */
Test(buffer_cost, chain_saves_conversions) {
    xb_ctx ctx = {0};
    xb_arch a;
    buffered(&a, 4);
    xb_layer_shape s = shape("l", 2560, 16, 7);
    xb_mapping *m = xb_compile_shapes(&a, &s, 1, &ctx);
    cr_assert_not_null(m, "%s", ctx.msg);
    const xb_layer_map *l = &m->layers[0];
    cr_assert_eq(l->row_blocks, 10);
    int64_t per_block = 16 * l->w_slices * l->input_slices * 7;
    cr_assert_eq(l->conversions, 3 * per_block);
    cr_assert_eq(l->conversions_saved, 7 * per_block);
    xb_mapping_free(m);
    a.buf_on = false;
    m = xb_compile_shapes(&a, &s, 1, &ctx);
    cr_assert_eq(m->layers[0].conversions, 10 * per_block);
    cr_assert_eq(m->layers[0].conversions_saved, 0);
    xb_mapping_free(m);
}

/* A layer at half the nominal voltage: every analog term at 1/4, the
 * digital ones unchanged; the TDC follows 2^(bits - 8). */
Test(buffer_cost, voltage_and_bits_scale_energy) {
    xb_ctx ctx = {0};
    xb_arch a, b;
    buffered(&a, 12);
    b = a;
    cr_assert_eq(xb_arch_set(&b, "buffer.layer_voltage=0=0.5", &ctx), XB_OK, "%s", ctx.msg);
    xb_layer_shape s = shape("l", 600, 40, 9);
    xb_mapping *ma = xb_compile_shapes(&a, &s, 1, &ctx), *mb = xb_compile_shapes(&b, &s, 1, &ctx);
    xb_cost *ca = xb_cost_compute(ma, &ctx), *cb = xb_cost_compute(mb, &ctx);
    cr_assert(ca && cb, "%s", ctx.msg);
    static const int analog[] = {XB_E_ADC, XB_E_DAC, XB_E_XBAR, XB_E_SH};
    for (int k = 0; k < 4; k++)
        cr_assert_float_eq(cb->pj[analog[k]], ca->pj[analog[k]] / 4, 1e-9 * ca->pj[analog[k]]);
    cr_assert_float_eq(cb->pj[XB_E_EDRAM], ca->pj[XB_E_EDRAM], 1e-9);
    cr_assert_float_eq(cb->pj[XB_E_ALU], ca->pj[XB_E_ALU], 1e-9);
    /* TDC + charging/comparator per conversion at 8 bits */
    cr_assert_float_eq(ca->pj[XB_E_ADC], (double)ma->layers[0].conversions * (0.145 + 0.0417),
                       1e-9);
    cr_assert_float_eq(xb_buffer_tdc_pj(&a, 5), 0.145 / 8, 1e-15);
    /* noise: sigma x full scale x (V_nom / V) */
    double fs = 256.0 * 255 * 15;
    cr_assert_float_eq(xb_buffer_stage_sigma(&b, 0, 1), 2 * a.buf_sigma * fs, 1e-9);
    xb_cost_free(ca);
    xb_cost_free(cb);
    xb_mapping_free(ma);
    xb_mapping_free(mb);
}

/* Two layers (P = 100 and 4); endurance from the definitions. */
Test(buffer_cost, endurance_with_and_without_swapping) {
    xb_ctx ctx = {0};
    xb_arch a;
    buffered(&a, 12);
    xb_layer_shape s[2] = {shape("a", 300, 20, 100), shape("b", 100, 300, 4)};
    xb_mapping *m = xb_compile_shapes(&a, s, 2, &ctx);
    cr_assert_not_null(m, "%s", ctx.msg);
    xb_endurance e;
    xb_buffer_endurance(m, &e);
    double w = 0;
    for (int i = 0; i < 2; i++) {
        const xb_layer_map *l = &m->layers[i];
        w += (double)l->col_samples + (double)l->s.K * l->col_blocks * l->s.P * l->input_slices;
    }
    cr_assert_float_eq(e.writes, w, 1e-9);
    cr_assert_eq(e.partitions, m->partitions);
    cr_assert_float_eq(e.cells_per_partition, 8.0 * (256 + 256), 1e-12);
    cr_assert_float_eq(e.peak_cell_writes_no_swap, 100, 1e-12);
    cr_assert_float_eq(e.lifetime_no_swap, a.buf_endurance / 100, 1e-6);
    cr_assert_float_eq(e.lifetime,
                       a.buf_endurance * (double)e.partitions * e.cells_per_partition / w, 1e-3);
    cr_assert_float_eq(e.lifetime_partition_swap,
                       a.buf_endurance * (double)e.partitions / 104.0, 1e-3);
    xb_mapping_free(m);
}

Test(buffer_cost, layer_voltage_field) {
    xb_ctx ctx = {0};
    xb_arch a;
    buffered(&a, 12);
    cr_assert_eq(xb_arch_set(&a, "buffer.layer_voltage=0=0.7/-1=0.6", &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_float_eq(xb_buffer_layer_voltage(&a, 0, 3), 0.7, 1e-12);
    cr_assert_float_eq(xb_buffer_layer_voltage(&a, 1, 3), 1.0, 1e-12);
    cr_assert_float_eq(xb_buffer_layer_voltage(&a, 2, 3), 0.6, 1e-12);
    cr_assert_eq(xb_buffer_check_layers(&a, 3, &ctx), XB_OK);
    cr_assert_neq(xb_buffer_check_layers(&a, 0, &ctx), XB_OK);
    static const char *bad[] = {"buffer.layer_voltage=0=0", "buffer.layer_voltage=0=x",
                                "buffer.layer_voltage=0=0.5/", "buffer.layer_voltage=a=1",
                                "buffer.layer_bits=0=99"};
    for (int i = 0; i < 5; i++) {
        cr_assert_neq(xb_arch_set(&a, bad[i], &ctx), XB_OK, "%s accepted", bad[i]);
        cr_assert(strstr(ctx.msg, "buffer.layer_"), "%s", ctx.msg);
    }
    cr_assert_eq(xb_arch_set(&a, "buffer.layer_bits=1=5", &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_eq(xb_arch_layer_adc_bits(&a, 1, 3, NULL), 5);
    cr_assert_eq(xb_arch_layer_adc_bits(&a, 0, 3, NULL), 8);
}
