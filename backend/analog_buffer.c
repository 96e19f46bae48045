/* Analog buffers: arch fields, per-layer voltage, the simulation's chain
 * configuration, area (see analog_buffer.h; sources in docs/ARCH.md). */
#include "backend/analog_buffer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/crossbar/crossbar.h"
#include "runtime/num.h"

void xb_buffer_defaults(xb_arch *a) {
    a->buf_on = false;
    a->buf_chain = 12;       /* TIMELY: up to 12 cascaded sub-buffers */
    a->buf_sigma = 1e-4;     /* [reconstructed] 0.01% of a crossbar's full scale per stage */
    a->buf_noise_exp = 1;    /* fixed noise charge against a swing that scales with V */
    a->buf_v_nom = 1.0;      /* [assumption] nominal supply of the 65 nm analog blocks */
    a->buf_v = 1.0;
    a->time_domain = false;
    a->buf_rram = false;
    a->buf_endurance = 1e8;  /* [assumption] RRAM cell endurance, writes */
    a->buf_partitions = 0;
    /* TIMELY Table II (65 nm, per 8-bit event), via the Accelergy library
     * (accelergy-library-plug-in, library/timely, one CSV per component): energy in pJ, area
     * in um^2. */
    a->dtc_pj = 0.0375;
    a->tdc_pj = 0.145;
    a->xsub_pj = 0.00062;
    a->psub_pj = 0.0023;
    a->iadder_pj = 0.0368;
    a->chcmp_pj = 0.0417;
    a->dtc_um2 = 240;
    a->tdc_um2 = 310;
    a->xsub_um2 = 5;
    a->psub_um2 = 5;
    a->iadder_um2 = 40;
    a->chcmp_um2 = 40;
}

/* Walks "L=V/L=V": calls fn for each pair; false (with *bad) on a syntax
 * error.  Voltages are decimal numbers in (0, 10]. */
static bool layer_v_each(const char *s, bool (*fn)(long l, double v, void *u), void *u,
                         const char **bad) {
    const char *p = s;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char item[48];
        if (len == 0 || len >= sizeof item) {
            *bad = p;
            return false;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        char *eq = strchr(item, '=');
        long long li;
        double v;
        if (eq) *eq = '\0';
        if (!eq || !xb_parse_int(item, -4096, 4096, &li) || !xb_parse_real(eq + 1, &v) ||
            !(v > 0 && v <= 10)) {
            *bad = p;
            return false;
        }
        if (fn && fn((long)li, v, u)) return true;
        if (!e) break;
        p = e + 1;
        if (!*p) { /* trailing '/' */
            *bad = p - 1;
            return false;
        }
    }
    return true;
}

typedef struct {
    int layer, n;
    double v;
    long bad_layer;
    bool found_bad;
} vquery;

static bool v_match(long l, double v, void *u) {
    vquery *q = u;
    if (l == q->layer || (l < 0 && q->n + l == q->layer)) q->v = v;
    return false;
}

static bool v_range(long l, double v, void *u) {
    (void)v;
    vquery *q = u;
    if (l >= q->n || l < -q->n) {
        q->bad_layer = l;
        q->found_bad = true;
        return true;
    }
    return false;
}

xb_status xb_buffer_validate(const xb_arch *a, xb_ctx *ctx) {
    const char *bad = NULL;
    if (!layer_v_each(a->buf_layer_v, NULL, NULL, &bad))
        return xb_fail(ctx, XB_ERR_INVALID,
                       "arch: buffer.layer_voltage = '%s': expected LAYER=VOLTS pairs separated "
                       "by '/' (LAYER an index, negative from the end; VOLTS in (0, 10]), at '%s'",
                       a->buf_layer_v, bad);
    if (a->buf_on && (a->ir_drop > 0 || a->noise_table[0]))
        return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                       "arch: buffer.enabled simulates a chain of crossbars as one block; "
                       "nonideal.ir_drop and nonideal.table (per physical crossbar) are not "
                       "simulated with it");
    return XB_OK;
}

xb_status xb_buffer_check_layers(const xb_arch *a, int n, xb_ctx *ctx) {
    vquery q = {0, n, 0, 0, false};
    const char *bad;
    layer_v_each(a->buf_layer_v, v_range, &q, &bad);
    if (!q.found_bad) return XB_OK;
    return xb_fail(ctx, XB_ERR_INVALID,
                   "arch: buffer.layer_voltage = '%s': layer %ld does not exist: the model has %d "
                   "matrix layers (LAYER is 0..%d, or -%d..-1 from the end)",
                   a->buf_layer_v, q.bad_layer, n, n - 1, n);
}

double xb_buffer_layer_voltage(const xb_arch *a, int layer, int n) {
    vquery q = {layer, n, a->buf_v, 0, false};
    const char *bad;
    layer_v_each(a->buf_layer_v, v_match, &q, &bad);
    return q.v;
}

double xb_buffer_energy_scale(const xb_arch *a, int layer, int n) {
    double r = xb_buffer_layer_voltage(a, layer, n) / a->buf_v_nom;
    return r * r;
}

double xb_buffer_stage_sigma(const xb_arch *a, int layer, int n) {
    if (!a->buf_on || a->buf_sigma <= 0) return 0;
    /* One crossbar's full-scale column sum: rows x top input digit x top
     * level (the swing one stage's buffer must hold). */
    double fs = (double)a->rows * ((1 << a->dac_bits) - 1) * ((1 << a->bits_per_cell) - 1);
    double v = xb_buffer_layer_voltage(a, layer, n);
    return a->buf_sigma * fs * pow(a->buf_v_nom / v, a->buf_noise_exp);
}

double xb_buffer_tdc_pj(const xb_arch *a, int bits) {
    /* [reconstructed] a counting TDC's energy follows its 2^b clock
     * periods per conversion; TIMELY gives 145 fJ at 8 bits. */
    return a->tdc_pj * ldexp(1.0, bits - 8);
}

void xb_buffer_configure(const xb_arch *a, int layer, int n, xb_crossbar_config *c) {
    if (!a->buf_on) return;
    c->xbar_rows = a->rows;
    c->rows = a->rows * a->buf_chain;
    c->buf_sigma = xb_buffer_stage_sigma(a, layer, n);
}

double xb_buffer_partitions_area_um2(const xb_arch *a) {
    /* Per crossbar: the array, an X-subBuf per row, a P-subBuf and an
     * I-adder per column, the converters of its columns (TDC + charging
     * and comparator at TIMELY's 8-bit area, or the arch's ADCs), and its rows' input converters
     * shared along the chain ([reconstructed]: one DTC per row of a chain,
     * forwarded by X-subBufs). */
    int bits = xb_arch_adc_eff_bits(a);
    double conv = a->time_domain ? a->tdc_um2 + a->chcmp_um2 : xb_arch_adc_area_um2(a, bits);
    double in = a->time_domain ? a->dtc_um2 / a->buf_chain : a->dac_um2;
    double xbar = xb_arch_crossbar_um2(a) + a->rows * (in + a->xsub_um2) +
                  a->cols * (a->psub_um2 + a->iadder_um2) + a->adcs_per_crossbar * conv;
    double part = a->sa_um2 + a->ir_um2 + a->or_um2 + a->xbars_per_partition * xbar;
    return a->partitions_per_tile * part;
}
