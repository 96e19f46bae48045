/* Architecture description: key table, JSON loading, overrides, checks.
 *
 * Default values are ISAAC (Shafiee et al., ISCA 2016, Table I) at 32 nm,
 * turned into per-event energies with ISAAC's own cycle: one 100 ns crossbar
 * read, 128 columns converted per ADC at 1.28 GS/s.  The derivations are in
 * docs/ARCH.md next to each field. */
#include "backend/arch.h"
#include "backend/analog_buffer.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "backend/raella.h"
#include "runtime/json_read.h"
#include "runtime/num.h"

typedef enum { F_INT, F_DBL, F_BOOL, F_ENUM, F_U64, F_STR } ftype;

typedef struct {
    const char *key;
    ftype type;
    size_t off;
    double lo, hi;          /* inclusive range for numbers */
    const char *const *names; /* enum spellings, NULL-terminated */
} field;

static const char *const range_names[] = {"clip", "max", "calibrated", NULL};
static const char *const enc_names[] = {"offset", "differential", "center", NULL};
static const char *const rep_names[] = {"none", "balance", "milp", NULL};
static const char *const split_names[] = {"fill", "even", NULL};
static const char *const pack_names[] = {"auto", "true", "false", NULL};
static const char *const skip_names[] = {"false", "static", "data", "true", "column", NULL};
static const char *const quant_names[] = {"uniform", "nonuniform", NULL};
static const char *const dac_model_names[] = {"level", "pulse", NULL};

#define O(m) offsetof(xb_arch, m)
#define ADC_ROW(b)                                                                                 \
    {"energy.adc_pj." #b, F_DBL, O(adc_pj) + (b - XB_ADC_TAB_MIN) * sizeof(double), 0, 1e6, NULL}, \
    {"area.adc_um2." #b, F_DBL, O(adc_um2) + (b - XB_ADC_TAB_MIN) * sizeof(double), 0, 1e9, NULL}

/* energy.K_pj and area.K_um2 of one analog-buffer component (member m_pj, m_um2) */
#define BUF_ROW(k, m)                                                                              \
    {"energy." #k "_pj", F_DBL, O(m##_pj), 0, 1e6, NULL}, {"area." #k "_um2", F_DBL, O(m##_um2), 0, 1e9, NULL}

static const field fields[] = {
    {"name", F_STR, O(name), 0, 0, NULL},
    {"crossbar.rows", F_INT, O(rows), 1, 4096, NULL},
    {"crossbar.cols", F_INT, O(cols), 1, 4096, NULL},
    {"crossbar.bits_per_cell", F_INT, O(bits_per_cell), 1, 7, NULL},
    {"crossbar.slices", F_STR, O(slices), 0, 0, NULL},
    {"crossbar.on_off_ratio", F_DBL, O(on_off_ratio), 0, 1e12, NULL},
    {"dac.bits", F_INT, O(dac_bits), 1, 8, NULL},
    {"adc.bits", F_INT, O(adc_bits), 0, 24, NULL},
    {"adc.layer_bits", F_STR, O(layer_adc_bits), 0, 0, NULL},
    {"adc.signed", F_BOOL, O(adc_signed), 0, 1, NULL},
    {"adc.skip_cycles", F_ENUM, O(adc_skip_cycles), 0, 0, skip_names},
    {"adc.range", F_ENUM, O(adc_range), 0, 0, range_names},
    {"adc.percentile", F_DBL, O(adc_percentile), 50, 100, NULL},
    {"adc.per_crossbar", F_INT, O(adcs_per_crossbar), 1, 4096, NULL},
    {"adc.sample_rate_gsps", F_DBL, O(adc_gsps), 1e-6, 1e6, NULL},
    {"weight_bits", F_INT, O(weight_bits), 1, 16, NULL},
    {"input_bits", F_INT, O(input_bits), 1, 16, NULL},
    {"encoding", F_ENUM, O(encoding), 0, 0, enc_names},
    {"flip", F_BOOL, O(flip), 0, 1, NULL},
    {"hierarchy.crossbars_per_partition", F_INT, O(xbars_per_partition), 1, 1 << 20, NULL},
    {"hierarchy.partitions_per_tile", F_INT, O(partitions_per_tile), 1, 1 << 20, NULL},
    {"hierarchy.tiles", F_INT, O(tiles), 1, 1 << 24, NULL},
    {"mapping.replication", F_ENUM, O(replication), 0, 0, rep_names},
    {"mapping.budget_tiles", F_INT, O(budget_tiles), 0, 1 << 24, NULL},
    {"mapping.pack_groups", F_ENUM, O(pack_groups), 0, 0, pack_names},
    {"timing.crossbar_read_ns", F_DBL, O(xbar_read_ns), 1e-6, 1e9, NULL},
    {"timing.clock_ghz", F_DBL, O(clock_ghz), 1e-6, 1e6, NULL},
    ADC_ROW(4), ADC_ROW(5), ADC_ROW(6), ADC_ROW(7), ADC_ROW(8), ADC_ROW(9), ADC_ROW(10),
    {"energy.dac_pj", F_DBL, O(dac_pj), 0, 1e6, NULL},
    {"energy.sample_hold_pj", F_DBL, O(sh_pj), 0, 1e6, NULL},
    {"energy.shift_add_pj", F_DBL, O(sa_pj), 0, 1e6, NULL},
    {"energy.input_reg_pj_per_byte", F_DBL, O(ir_pj_per_byte), 0, 1e6, NULL},
    {"energy.output_reg_pj", F_DBL, O(or_pj), 0, 1e6, NULL},
    {"energy.edram_pj_per_byte", F_DBL, O(edram_pj_per_byte), 0, 1e6, NULL},
    {"energy.alu_pj", F_DBL, O(alu_pj), 0, 1e6, NULL},
    {"area.dac_um2", F_DBL, O(dac_um2), 0, 1e9, NULL},
    {"area.sample_hold_um2", F_DBL, O(sh_um2), 0, 1e9, NULL},
    {"area.shift_add_um2", F_DBL, O(sa_um2), 0, 1e9, NULL},
    {"area.input_reg_um2", F_DBL, O(ir_um2), 0, 1e9, NULL},
    {"area.output_reg_um2", F_DBL, O(or_um2), 0, 1e9, NULL},
    {"area.edram_um2", F_DBL, O(edram_um2), 0, 1e12, NULL},
    /* --- cost and device model --- */
    {"mapping.row_split", F_ENUM, O(row_split), 0, 0, split_names},
    {"crossbar.read_voltage", F_DBL, O(read_v), 0, 10, NULL},
    {"energy.crossbar_cell_fj_per_v2", F_DBL, O(cell_fj_v2), 0, 1e9, NULL},
    {"energy.row_wire_ff_per_um", F_DBL, O(wire_ff_per_um), 0, 1e6, NULL},
    {"energy.adc_bit_pj", F_DBL, O(adc_bit_pj), 0, 1e6, NULL},
    {"energy.adc_fom_fj", F_DBL, O(adc_fom_fj), 0, 1e9, NULL},
    {"energy.adc_ref_gsps", F_DBL, O(adc_ref_gsps), 1e-6, 1e6, NULL},
    {"area.cell_um2", F_DBL, O(cell_um2), 0, 1e6, NULL},
    {"area.adc_bit_um2", F_DBL, O(adc_bit_um2), 0, 1e9, NULL},
    {"area.adc_cap_um2", F_DBL, O(adc_cap_um2), 0, 1e9, NULL},
    {"tile.edram_mw", F_DBL, O(tile_edram_mw), 0, 1e9, NULL},
    {"tile.bus_mw", F_DBL, O(tile_bus_mw), 0, 1e9, NULL},
    {"tile.router_mw", F_DBL, O(tile_router_mw), 0, 1e9, NULL},
    {"tile.digital_mw", F_DBL, O(tile_digital_mw), 0, 1e9, NULL},
    {"tile.bus_um2", F_DBL, O(tile_bus_um2), 0, 1e12, NULL},
    {"tile.router_um2", F_DBL, O(tile_router_um2), 0, 1e12, NULL},
    {"tile.digital_um2", F_DBL, O(tile_digital_um2), 0, 1e12, NULL},
    {"tile.tiles_per_router", F_INT, O(tiles_per_router), 1, 1 << 20, NULL},
    {"tile.bus_bytes_per_ns", F_DBL, O(bus_bytes_per_ns), 0, 1e9, NULL},
    {"energy.router_pj_per_byte", F_DBL, O(router_pj_per_byte), 0, 1e6, NULL},
    {"nonideal.programming_sigma", F_DBL, O(prog_sigma), 0, 10, NULL},
    {"nonideal.read_sigma", F_DBL, O(read_sigma), 0, 1e6, NULL},
    {"nonideal.stuck_low_rate", F_DBL, O(stuck_low), 0, 1, NULL},
    {"nonideal.stuck_high_rate", F_DBL, O(stuck_high), 0, 1, NULL},
    {"nonideal.seed", F_U64, O(seed), 0, 0, NULL},
    /* device and circuit non-idealities (backend/crossbar/device.c, table.c) */
    {"crossbar.off_compensation", F_BOOL, O(off_compensation), 0, 1, NULL},
    {"nonideal.programming_sigma_floor", F_DBL, O(prog_floor), 0, 10, NULL},
    {"nonideal.read_current_sigma", F_DBL, O(read_current_sigma), 0, 1e6, NULL},
    {"nonideal.read_row_sigma", F_DBL, O(read_row_sigma), 0, 1e6, NULL},
    {"nonideal.drift_seconds", F_DBL, O(drift_seconds), 0, 1e12, NULL},
    {"nonideal.drift_nu", F_DBL, O(drift_nu), 0, 1, NULL},
    {"nonideal.drift_t0", F_DBL, O(drift_t0), 1e-9, 1e12, NULL},
    {"nonideal.drift_compensation", F_BOOL, O(drift_compensation), 0, 1, NULL},
    {"nonideal.ir_drop", F_DBL, O(ir_drop), 0, 1, NULL},
    {"adc.offset_sigma_lsb", F_DBL, O(adc_offset_lsb), 0, 1e6, NULL},
    {"adc.gain_sigma", F_DBL, O(adc_gain_sigma), 0, 1, NULL},
    {"adc.inl_lsb", F_DBL, O(adc_inl_lsb), 0, 1e6, NULL},
    {"nonideal.table", F_STR, O(noise_table), 0, sizeof((xb_arch *)0)->noise_table, NULL},
    {"crossbar.g_on_us", F_DBL, O(g_on_us), 0, 1e9, NULL},
    {"crossbar.g_off_us", F_DBL, O(g_off_us), 0, 1e9, NULL},
    {"energy.crossbar_g_ref_us", F_DBL, O(g_ref_us), 1e-9, 1e9, NULL},
    /* RAELLA (backend/raella.h) */
    {"crossbar.layer_slices", F_STR, O(layer_slices), 0, sizeof((xb_arch *)0)->layer_slices, NULL},
    {"crossbar.slice_error", F_DBL, O(slice_error), 0, 1e6, NULL},
    {"dac.speculation", F_BOOL, O(dac_speculation), 0, 1, NULL},
    {"dac.speculation_slices", F_STR, O(spec_slices), 0, 0, NULL},
    {"adc.quantizer", F_ENUM, O(adc_quantizer), 0, 0, quant_names},
    {"adc.nonuniform_error", F_DBL, O(adc_nu_error), 0, 1, NULL},
    /* ORSS'23 row rename / reorder / sparsity-aware input control (backend/rowmap.h) */
    {"mapping.row_rename", F_BOOL, O(row_rename), 0, 1, NULL},
    {"mapping.row_reorder", F_BOOL, O(row_reorder), 0, 1, NULL},
    {"mapping.input_control", F_BOOL, O(input_control), 0, 1, NULL},
    {"layer_weight_bits", F_STR, O(layer_weight_bits), 0, sizeof((xb_arch *)0)->layer_weight_bits, NULL},
    {"layer_input_bits", F_STR, O(layer_input_bits), 0, sizeof((xb_arch *)0)->layer_input_bits, NULL},
    /* analog buffers, DTC/TDC, per-layer voltage and bits (backend/analog_buffer.c) */
    {"buffer.enabled", F_BOOL, O(buf_on), 0, 1, NULL},
    {"buffer.chain", F_INT, O(buf_chain), 1, 64, NULL},
    {"buffer.sigma", F_DBL, O(buf_sigma), 0, 1, NULL},
    {"buffer.noise_exp", F_DBL, O(buf_noise_exp), 0, 8, NULL},
    {"buffer.v_nominal", F_DBL, O(buf_v_nom), 0.05, 10, NULL},
    {"buffer.voltage", F_DBL, O(buf_v), 0.05, 10, NULL},
    {"buffer.layer_voltage", F_STR, O(buf_layer_v), 0, sizeof((xb_arch *)0)->buf_layer_v, NULL},
    {"buffer.layer_bits", F_STR, O(buf_layer_bits), 0, sizeof((xb_arch *)0)->buf_layer_bits, NULL},
    {"buffer.time_domain", F_BOOL, O(time_domain), 0, 1, NULL},
    {"buffer.rram", F_BOOL, O(buf_rram), 0, 1, NULL},
    {"buffer.endurance", F_DBL, O(buf_endurance), 1, 1e18, NULL},
    {"buffer.partitions", F_INT, O(buf_partitions), 0, 1 << 24, NULL},
    BUF_ROW(dtc, dtc), BUF_ROW(tdc, tdc), BUF_ROW(xsubbuf, xsub), BUF_ROW(psubbuf, psub),
    BUF_ROW(iadder, iadder), BUF_ROW(charge_compare, chcmp),
    {"dac.model", F_ENUM, O(dac_model), 0, 0, dac_model_names}, /* backend/dac.c */
};
#define NFIELDS ((int)(sizeof fields / sizeof fields[0]))

static const field *find_field(const char *key) {
    for (int i = 0; i < NFIELDS; i++)
        if (!strcmp(fields[i].key, key)) return &fields[i];
    return NULL;
}

const char *xb_arch_key(int i) { return i >= 0 && i < NFIELDS ? fields[i].key : NULL; }

static xb_status set_number(xb_arch *a, const field *f, double v, const char *origin,
                            xb_ctx *ctx) {
    void *p = (char *)a + f->off;
    if (!isfinite(v))
        return xb_fail(ctx, XB_ERR_INVALID, "%s: %s must be a finite number", origin, f->key);
    switch (f->type) {
    case F_INT:
        if (v != floor(v))
            return xb_fail(ctx, XB_ERR_INVALID, "%s: %s must be an integer, got %g", origin,
                           f->key, v);
        /* fallthrough */
    case F_DBL:
    case F_BOOL:
        if (v < f->lo || v > f->hi)
            return xb_fail(ctx, XB_ERR_INVALID, "%s: %s = %g is out of range [%g, %g]", origin,
                           f->key, v, f->lo, f->hi);
        if (f->type == F_INT) *(int *)p = (int)v;
        else if (f->type == F_DBL) *(double *)p = v;
        else *(bool *)p = v != 0;
        return XB_OK;
    default:
        return xb_fail(ctx, XB_ERR_INVALID, "%s: %s takes a string, not a number", origin, f->key);
    }
}

/* String fields are char[64], like name, unless the table row gives
 * another capacity in `hi` (set_string relies on it). */
_Static_assert(sizeof ((xb_arch *)0)->name == 64 && sizeof ((xb_arch *)0)->layer_adc_bits == 64 &&
                   sizeof ((xb_arch *)0)->slices == 64,
               "string fields are 64 bytes");
static size_t str_capacity(const field *f) { return f->hi > 0 ? (size_t)f->hi : 64; }

/* The next '/'-separated item of *s copied into buf (at most n-1
 * characters); false at the end or when an item is too long (*s then
 * points at it). */
static bool next_item(const char **s, char *buf, size_t n, bool *too_long) {
    *too_long = false;
    if (!**s) return false;
    const char *e = strchr(*s, '/');
    size_t len = e ? (size_t)(e - *s) : strlen(*s);
    if (len >= n) return !(*too_long = true);
    memcpy(buf, *s, len);
    buf[len] = '\0';
    *s = e ? e + 1 : *s + len;
    return true;
}

/* "4/2/2" -> widths LSB first; -1 on a syntax error or more than 16. */
static int parse_slices(const char *s, int *w) {
    int n = 0, msb[16];
    char item[32];
    bool too_long;
    long long v;
    while (next_item(&s, item, sizeof item, &too_long)) {
        if (n == 16 || !xb_parse_int(item, 1, 64, &v)) return -1;
        msb[n++] = (int)v;
    }
    if (too_long || (n && s[-1] == '/')) return -1; /* an item too long, a trailing '/' */
    for (int i = 0; i < n; i++) w[i] = msb[n - 1 - i];
    return n;
}

/* Walks "I=B/I=B/...": calls back with each pair; returns false (with *bad
 * at the offending text) on a syntax or range error. */
static bool layer_bits_each(const char *s, bool (*fn)(long i, long b, void *u), void *u,
                            const char **bad) {
    char item[40];
    bool too_long;
    const char *start = s;
    for (const char *at = s; next_item(&s, item, sizeof item, &too_long); at = s) {
        char *eq = strchr(item, '=');
        long long i, b;
        if (eq) *eq = '\0';
        if (!eq || !xb_parse_int(item, -4096, 4096, &i) || !xb_parse_int(eq + 1, 0, 24, &b)) {
            *bad = at;
            return false;
        }
        if (fn && fn((long)i, (long)b, u)) return true;
    }
    *bad = s;
    if (!too_long && !(s[0] == '\0' && s > start && s[-1] == '/')) return true;
    if (!too_long) *bad = s - 1; /* a trailing '/': an empty last item */
    return false;
}

typedef struct {
    int layer, n;
    long bits; /* -1: no entry */
} layer_query;

static bool layer_match(long i, long b, void *u) {
    layer_query *q = u;
    if (i == q->layer || (i < 0 && q->n + i == q->layer)) q->bits = b; /* the last entry wins */
    return false;
}

int xb_arch_layer_adc_bits(const xb_arch *a, int layer, int n, bool *lossless) {
    layer_query q = {layer, n, -1};
    const char *bad;
    layer_bits_each(a->layer_adc_bits, layer_match, &q, &bad);
    /* LayCO's per-layer converter bits (buffer.layer_bits) come last. */
    layer_bits_each(a->buf_layer_bits, layer_match, &q, &bad);
    int b = q.bits >= 0 ? (int)q.bits : a->adc_bits;
    if (lossless) *lossless = b == 0;
    return b > 0 ? b : xb_arch_bits_for(xb_arch_max_column_sum(a)) + (a->adc_signed ? 1 : 0);
}

static bool layer_in_range(long i, long b, void *u) {
    (void)b;
    layer_query *q = u;
    if (i >= q->n || i < -q->n) {
        q->layer = (int)i;
        return true; /* stop at the first index out of range */
    }
    return false;
}

xb_status xb_arch_check_layer_bits(const xb_arch *a, int n, xb_ctx *ctx) {
    layer_query q = {0, n, -1};
    const char *bad;
    q.layer = INT_MIN;
    layer_bits_each(a->layer_adc_bits, layer_in_range, &q, &bad);
    if (q.layer == INT_MIN) layer_bits_each(a->buf_layer_bits, layer_in_range, &q, &bad);
    if (q.layer == INT_MIN) return xb_buffer_check_layers(a, n, ctx);
    return xb_fail(ctx, XB_ERR_INVALID,
                   "arch: adc.layer_bits = '%s': layer %d does not exist: the model has %d matrix "
                   "layers (LAYER is 0..%d, or -%d..-1 from the end)",
                   a->layer_adc_bits, q.layer, n, n - 1, n);
}

bool xb_arch_needs_calibration(const xb_arch *a) {
    /* crossbar.slices=auto measures its candidates on the calibration images;
     * the non-uniform transfer comes from the calibration histograms */
    return (a->adc_range == XB_ADC_CALIBRATED &&
            (a->adc_bits > 0 || a->layer_adc_bits[0] || a->buf_layer_bits[0])) ||
           xb_raella_auto_slices(a) || a->adc_quantizer == XB_QUANT_NONUNIFORM;
}

int xb_arch_sar_skip(const xb_arch *a) {
    return a->adc_skip_cycles == XB_SKIP_TRUE     ? XB_SKIP_STATIC
           : a->adc_skip_cycles == XB_SKIP_COLUMN ? 3
                                                  : a->adc_skip_cycles;
}

xb_status xb_arch_check_simulable(const xb_arch *a, xb_ctx *ctx) {
    if (a->weight_bits <= 8 && a->input_bits <= 8) return XB_OK;
    return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                   "arch: analog execution runs the int8 layers: weight_bits and input_bits must "
                   "be <= 8 (got %d and %d); the compiler and cost model accept up to 16",
                   a->weight_bits, a->input_bits);
}

/* A number field from its text: a --set value or a JSON literal, both read
 * by runtime/num.h (decimal only, exact integers: a seed above 2^53 keeps
 * every digit, and one beyond 2^64-1 is an error, not 2^64-1). */
static xb_status set_number_text(xb_arch *a, const field *f, const char *s, const char *origin,
                                 xb_ctx *ctx) {
    void *p = (char *)a + f->off;
    long long i;
    uint64_t u;
    double v;
    switch (f->type) {
    case F_INT:
        if (xb_parse_int(s, LLONG_MIN, LLONG_MAX, &i) && (i < f->lo || i > f->hi))
            return xb_fail(ctx, XB_ERR_INVALID, "%s: %s = %lld is out of range [%g, %g]", origin,
                           f->key, i, f->lo, f->hi);
        if (!xb_parse_int(s, (long long)f->lo, (long long)f->hi, &i))
            return xb_fail(ctx, XB_ERR_INVALID, "%s: %s must be a decimal integer in %lld..%lld, "
                           "got '%s'", origin, f->key, (long long)f->lo, (long long)f->hi, s);
        *(int *)p = (int)i;
        return XB_OK;
    case F_U64:
        if (!xb_parse_u64(s, UINT64_MAX, &u))
            return xb_fail(ctx, XB_ERR_INVALID, "%s: %s must be a decimal integer in "
                           "0..18446744073709551615, got '%s'", origin, f->key, s);
        *(uint64_t *)p = u;
        return XB_OK;
    case F_BOOL:
        if (!strcmp(s, "1") || !strcmp(s, "0")) return set_number(a, f, s[0] == '1', origin, ctx);
        return xb_fail(ctx, XB_ERR_INVALID, "%s: %s must be true or false, got '%s'", origin,
                       f->key, s);
    case F_DBL:
        if (!xb_parse_real(s, &v))
            return xb_fail(ctx, XB_ERR_INVALID, "%s: %s needs a finite decimal number, got '%s'",
                           origin, f->key, s);
        return set_number(a, f, v, origin, ctx);
    default:
        return xb_fail(ctx, XB_ERR_INVALID, "%s: %s takes a string, not a number", origin, f->key);
    }
}

bool xb_arch_groups_independent(const xb_arch *a) {
    return a->on_off_ratio == 0 && a->prog_floor == 0 && a->stuck_high == 0 &&
           a->read_row_sigma == 0 && a->ir_drop == 0 && a->drift_seconds == 0 &&
           a->adc_offset_lsb == 0 && a->adc_gain_sigma == 0 && a->adc_inl_lsb == 0;
}

static xb_status set_string(xb_arch *a, const field *f, const char *s, const char *origin,
                            xb_ctx *ctx) {
    void *p = (char *)a + f->off;
    if (f->type == F_STR) {
        size_t cap = str_capacity(f);
        if (strlen(s) >= cap)
            return xb_fail(ctx, XB_ERR_INVALID, "%s: %s is longer than %zu characters", origin,
                           f->key, cap - 1);
        /* names are printed in reports: no terminal escape codes */
        if (!xb_text_printable(s))
            return xb_fail(ctx, XB_ERR_INVALID, "%s: %s contains control characters (terminal "
                           "escape codes) or invalid UTF-8", origin, f->key);
        snprintf((char *)p, cap, "%s", s);
        return XB_OK;
    }
    if (f->type == F_ENUM) {
        for (int i = 0; f->names[i]; i++)
            if (!strcmp(f->names[i], s)) {
                *(int *)p = i;
                return XB_OK;
            }
        char list[128] = "";
        for (int i = 0; f->names[i]; i++) {
            strncat(list, i ? "|" : "", sizeof list - strlen(list) - 1);
            strncat(list, f->names[i], sizeof list - strlen(list) - 1);
        }
        return xb_fail(ctx, XB_ERR_INVALID, "%s: %s = '%s' is not one of %s", origin, f->key, s,
                       list);
    }
    if (f->type == F_BOOL) {
        if (!strcmp(s, "true") || !strcmp(s, "1")) return set_number(a, f, 1, origin, ctx);
        if (!strcmp(s, "false") || !strcmp(s, "0")) return set_number(a, f, 0, origin, ctx);
        return xb_fail(ctx, XB_ERR_INVALID, "%s: %s must be true or false, got '%s'", origin,
                       f->key, s);
    }
    return set_number_text(a, f, s, origin, ctx);
}

static xb_status apply_node(xb_arch *a, const xb_jnode *node, const char *prefix,
                            const char *origin, xb_ctx *ctx) {
    for (const xb_jnode *c = node->child; c; c = c->next) {
        char key[256];
        if (strlen(prefix) + strlen(c->key) + 2 > sizeof key)
            return xb_fail(ctx, XB_ERR_INVALID, "%s: line %d: unknown key '%.60s...'", origin,
                           c->line, c->key);
        size_t pl = strlen(prefix);
        memcpy(key, prefix, pl);
        if (pl) key[pl++] = '.';
        memcpy(key + pl, c->key, strlen(c->key) + 1);
        if (!prefix[0] && !strcmp(c->key, "comment")) continue; /* free text for humans */
        if (c->kind == XB_JOBJECT) {
            XB_TRY(apply_node(a, c, key, origin, ctx));
            continue;
        }
        const field *f = find_field(key);
        if (!f)
            return xb_fail(ctx, XB_ERR_INVALID, "%s: line %d: unknown key '%s'", origin, c->line,
                           key);
        if (c->kind == XB_JNUMBER) {
            XB_TRY(set_number_text(a, f, c->text, origin, ctx));
        } else if (c->kind == XB_JSTRING) {
            if (f->type != F_STR && f->type != F_ENUM)
                return xb_fail(ctx, XB_ERR_INVALID, "%s: %s takes a %s, not a string", origin, key,
                               f->type == F_BOOL ? "boolean" : "number");
            XB_TRY(set_string(a, f, c->text, origin, ctx));
        } else if ((c->kind == XB_JTRUE || c->kind == XB_JFALSE) && f->type == F_ENUM) {
            /* an enum spelling "true"/"false" (adc.skip_cycles, pack_groups) */
            XB_TRY(set_string(a, f, c->kind == XB_JTRUE ? "true" : "false", origin, ctx));
        } else if (c->kind == XB_JTRUE || c->kind == XB_JFALSE) {
            if (f->type != F_BOOL)
                return xb_fail(ctx, XB_ERR_INVALID, "%s: %s does not take a boolean", origin, key);
            *(bool *)((char *)a + f->off) = c->kind == XB_JTRUE;
        } else {
            return xb_fail(ctx, XB_ERR_INVALID, "%s: %s has an unsupported value type", origin,
                           key);
        }
    }
    return XB_OK;
}

/* Strict JSON (runtime/json_read.h): duplicate keys, text after the
 * object and control characters are errors naming the file and the key. */
xb_status xb_arch_apply_json(xb_arch *a, const char *text, const char *origin, xb_ctx *ctx) {
    xb_jnode *root;
    XB_TRY(xb_json_read(text, strlen(text), origin, &root, ctx));
    xb_status st = XB_OK;
    if (root->kind != XB_JOBJECT)
        st = xb_fail(ctx, XB_ERR_PARSE, "%s: the top level must be an object", origin);
    else
        st = apply_node(a, root, "", origin, ctx);
    xb_json_free(root);
    if (st == XB_OK) st = xb_arch_validate(a, ctx);
    if (st != XB_OK && ctx->msg[0] && strncmp(ctx->msg, origin, strlen(origin)))
        xb_ctx_prefix(ctx, "%s", origin);
    return st;
}

static char *read_text(const char *path, xb_ctx *ctx) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return NULL;
    }
    long n = ftell(f);
    if (n < 0 || n > (1 << 24)) {
        fclose(f);
        xb_fail(ctx, XB_ERR_IO, "%s: not a readable architecture file", path);
        return NULL;
    }
    rewind(f);
    char *buf = xb_malloc(ctx, (size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
        xb_fail(ctx, XB_ERR_IO, "%s: short read", path);
    }
    if (buf) buf[n] = '\0';
    /* the text is parsed up to its end; a NUL would hide what follows */
    if (buf && memchr(buf, '\0', (size_t)n)) {
        free(buf);
        buf = NULL;
        xb_fail(ctx, XB_ERR_PARSE, "%s: a NUL byte in the text: not a JSON file", path);
    }
    fclose(f);
    return buf;
}

xb_status xb_arch_load(xb_arch *a, const char *spec, xb_ctx *ctx) {
    xb_arch_defaults(a);
    size_t len = strlen(spec);
    bool is_path = strchr(spec, '/') || (len > 5 && !strcmp(spec + len - 5, ".json"));
    char path[4096];
    char *text = NULL;
    if (is_path) {
        snprintf(path, sizeof path, "%s", spec);
        text = read_text(path, ctx);
        if (!text) /* read_text's own message (too large, a NUL byte), else this one */
            return ctx->status != XB_OK
                       ? ctx->status
                       : xb_fail(ctx, XB_ERR_IO, "%s: cannot open architecture file", spec);
    } else {
        for (const char *c = spec; *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '_' || *c == '-'))
                return xb_fail(ctx, XB_ERR_INVALID, "arch '%s': a preset name is letters, digits, "
                                                    "'_' and '-'; give a path for files",
                               spec);
        const char *dirs[2] = {getenv("XBAR_ARCH_DIR"), NULL};
#ifdef XBAR_SOURCE_DIR
        dirs[1] = XBAR_SOURCE_DIR "/backend/arch";
#endif
        for (int i = 0; i < 2 && !text; i++) {
            if (!dirs[i] || !dirs[i][0]) continue;
            snprintf(path, sizeof path, "%s/%s.json", dirs[i], spec);
            text = read_text(path, ctx);
            if (ctx->status != XB_OK) return ctx->status;
        }
        if (!text)
            return xb_fail(ctx, XB_ERR_IO,
                           "arch '%s': no preset of that name (looked in $XBAR_ARCH_DIR and "
                           "backend/arch/); presets: isaac, ideal",
                           spec);
    }
    xb_status st = xb_arch_apply_json(a, text, path, ctx);
    free(text);
    return st;
}

xb_status xb_arch_set(xb_arch *a, const char *assignment, xb_ctx *ctx) {
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        return xb_fail(ctx, XB_ERR_INVALID, "--set '%s': expected key=value", assignment);
    char key[256];
    size_t kl = (size_t)(eq - assignment);
    if (kl >= sizeof key) return xb_fail(ctx, XB_ERR_INVALID, "--set: key too long");
    memcpy(key, assignment, kl);
    key[kl] = '\0';
    const field *f = find_field(key);
    if (!f) {
        /* Suggest keys sharing the section, since a typo is the usual cause. */
        char hint[1024] = "";
        const char *dot = strchr(key, '.');
        size_t sl = dot ? (size_t)(dot - key) + 1 : 0;
        for (int i = 0; sl && i < NFIELDS; i++)
            if (!strncmp(fields[i].key, key, sl) && strlen(hint) < sizeof hint - 64) {
                strcat(hint, hint[0] ? ", " : " (known in this section: ");
                strcat(hint, fields[i].key);
            }
        if (hint[0]) strcat(hint, ")");
        return xb_fail(ctx, XB_ERR_INVALID, "--set: unknown architecture key '%s'%s", key, hint);
    }
    char origin[300];
    snprintf(origin, sizeof origin, "--set %s", key);
    xb_arch tmp = *a;
    XB_TRY(set_string(&tmp, f, eq + 1, origin, ctx));
    XB_TRY(xb_arch_validate(&tmp, ctx));
    *a = tmp;
    return XB_OK;
}

int64_t xb_arch_max_column_sum(const xb_arch *a) {
    /* A flipped column holds at most half of rows x the top level.  With
     * analog buffers one conversion sums a chain of crossbars. */
    int64_t lev = (int64_t)a->rows * (a->buf_on ? a->buf_chain : 1) *
                  ((1 << a->bits_per_cell) - 1);
    return (a->flip ? lev / 2 : lev) * ((1 << a->dac_bits) - 1);
}

int xb_arch_bits_for(int64_t v) {
    int b = 0;
    while (b < 62 && ((int64_t)1 << b) - 1 < v) b++;
    return b;
}

int xb_arch_adc_eff_bits(const xb_arch *a) {
    if (a->adc_bits > 0) return a->adc_bits;
    int b = xb_arch_bits_for(xb_arch_max_column_sum(a));
    /* A signed ADC spends one bit on the sign. */
    return a->adc_signed ? b + 1 : b;
}

xb_status xb_arch_validate(const xb_arch *a, xb_ctx *ctx) {
    for (int i = 0; i < NFIELDS; i++) {
        const field *f = &fields[i];
        const void *p = (const char *)a + f->off;
        double v;
        if (f->type == F_INT) v = *(const int *)p;
        else if (f->type == F_DBL) v = *(const double *)p;
        else continue;
        if (!(v >= f->lo && v <= f->hi))
            return xb_fail(ctx, XB_ERR_INVALID, "arch: %s = %g is out of range [%g, %g]", f->key,
                           v, f->lo, f->hi);
    }
    if (a->on_off_ratio != 0 && a->on_off_ratio <= 1)
        return xb_fail(ctx, XB_ERR_INVALID,
                       "arch: crossbar.on_off_ratio = %g must be > 1 (or 0 for ideal)",
                       a->on_off_ratio);
    if (a->stuck_low + a->stuck_high > 1)
        return xb_fail(ctx, XB_ERR_INVALID,
                       "arch: nonideal.stuck_low_rate + stuck_high_rate = %g exceeds 1",
                       a->stuck_low + a->stuck_high);
    XB_TRY(xb_arch_validate_device(a, ctx));
    if (a->adcs_per_crossbar > a->cols)
        return xb_fail(ctx, XB_ERR_INVALID, "arch: adc.per_crossbar = %d exceeds crossbar.cols = %d",
                       a->adcs_per_crossbar, a->cols);
    if (xb_arch_pair_columns(a) && a->cols < 2)
        return xb_fail(ctx, XB_ERR_INVALID, "arch: %s encoding needs crossbar.cols >= 2",
                       xb_arch_encoding_name(a));
    if (a->flip && a->encoding != XB_ENC_OFFSET)
        return xb_fail(ctx, XB_ERR_INVALID,
                       "arch: flip complements offset-encoded columns; it needs encoding = offset "
                       "(got %s)",
                       xb_arch_encoding_name(a));
    XB_TRY(xb_raella_validate(a, ctx));
    if (a->slices[0] && strcmp(a->slices, "auto")) {
        int w[16], n = parse_slices(a->slices, w), sum = 0, ok = n > 0;
        for (int i = 0; ok && i < n; i++) {
            ok = w[i] <= a->bits_per_cell;
            sum += w[i];
        }
        int mb = xb_arch_magnitude_bits(a);
        if (!ok || sum != mb)
            return xb_fail(ctx, XB_ERR_INVALID,
                           "arch: crossbar.slices = '%s': widths MSB first separated by '/', each "
                           "1..bits_per_cell (%d), adding up to the %d magnitude bits of %d-bit %s "
                           "weights",
                           a->slices, a->bits_per_cell, mb, a->weight_bits,
                           xb_arch_encoding_name(a));
    }
    const char *bad = NULL;
    if (!layer_bits_each(a->layer_adc_bits, NULL, NULL, &bad))
        return xb_fail(ctx, XB_ERR_INVALID,
                       "arch: adc.layer_bits = '%s': expected LAYER=BITS pairs separated by '/' "
                       "(LAYER an index, negative from the end; BITS 0..24), at '%s'",
                       a->layer_adc_bits, bad);
    if (!layer_bits_each(a->buf_layer_bits, NULL, NULL, &bad))
        return xb_fail(ctx, XB_ERR_INVALID,
                       "arch: buffer.layer_bits = '%s': expected LAYER=BITS pairs separated by "
                       "'/' (LAYER an index, negative from the end; BITS 0..24), at '%s'",
                       a->buf_layer_bits, bad);
    XB_TRY(xb_buffer_validate(a, ctx));
    if (a->adc_signed && a->adc_bits == 1)
        return xb_fail(ctx, XB_ERR_INVALID, "arch: a signed ADC needs adc.bits >= 2");
    if (a->weight_bits == 1 && a->encoding == XB_ENC_CENTER)
        return xb_fail(ctx, XB_ERR_INVALID,
                       "arch: weight_bits = 1 (binary +/-1) has no center to take out; use encoding "
                       "= offset or differential");
    XB_TRY(xb_arch_validate_layers(a, ctx));
    if (a->dac_bits > a->input_bits)
        return xb_fail(ctx, XB_ERR_INVALID, "arch: dac.bits = %d exceeds input_bits = %d",
                       a->dac_bits, a->input_bits);
    /* Column sums are accumulated in 32-bit integers by the crossbar simulation. */
    if (xb_arch_max_column_sum(a) > ((int64_t)1 << 30))
        return xb_fail(ctx, XB_ERR_INVALID,
                       "arch: rows x (2^dac.bits - 1) x (2^bits_per_cell - 1) = %lld is too large",
                       (long long)xb_arch_max_column_sum(a));
    return XB_OK;
}

int xb_arch_input_slices(const xb_arch *a) { return (a->input_bits + a->dac_bits - 1) / a->dac_bits; }

int xb_arch_slice_widths(const xb_arch *a, int *w) {
    int n = parse_slices(a->slices, w);
    return n < 0 ? 0 : n;
}

int xb_arch_weight_slices(const xb_arch *a) {
    int w[16], n = xb_arch_slice_widths(a, w);
    if (n > 0) return n;
    /* Offset encoding stores w + 2^(b-1) in b unsigned bits; differential
     * stores |w| <= 2^(b-1) - 1 in b-1 bits, the sign choosing the column;
     * center stores |w - c_n|, kept within the same b-1 bits. */
    int mb = xb_arch_magnitude_bits(a);
    return (mb + a->bits_per_cell - 1) / a->bits_per_cell;
}

int xb_arch_cols_per_slice(const xb_arch *a) { return xb_arch_pair_columns(a) ? 2 : 1; }

bool xb_arch_pair_columns(const xb_arch *a) { return a->encoding != XB_ENC_OFFSET; }

const char *xb_arch_encoding_name(const xb_arch *a) {
    _Static_assert(sizeof enc_names / sizeof enc_names[0] == XB_ENC_CENTER + 2,
                   "one spelling per xb_encoding");
    return enc_names[a->encoding];
}

static void format_field(const xb_arch *a, const field *f, char *buf, size_t n) {
    const void *p = (const char *)a + f->off;
    switch (f->type) {
    case F_INT: snprintf(buf, n, "%d", *(const int *)p); break;
    case F_DBL: xb_fmt_real(*(const double *)p, buf, n); break;
    case F_BOOL: snprintf(buf, n, "%s", *(const bool *)p ? "true" : "false"); break;
    case F_ENUM: snprintf(buf, n, "\"%s\"", f->names[*(const int *)p]); break;
    case F_U64: snprintf(buf, n, "%llu", (unsigned long long)*(const uint64_t *)p); break;
    case F_STR: snprintf(buf, n, "\"%s\"", (const char *)p); break;
    }
}

int xb_arch_get(const xb_arch *a, const char *key, char *buf, size_t n) {
    const field *f = find_field(key);
    if (!f) return 0;
    format_field(a, f, buf, n);
    return 1;
}

/* Nested JSON from the flat dotted keys: keys sharing a prefix are adjacent
 * in the table except the ADC rows, so emit section by section. */
void xb_arch_write_json(const xb_arch *a, FILE *f, int indent) {
    cJSON *root = cJSON_CreateObject();
    for (int i = 0; i < NFIELDS; i++) {
        char key[256];
        snprintf(key, sizeof key, "%s", fields[i].key);
        cJSON *node = root;
        char *s = key, *dot;
        while ((dot = strchr(s, '.'))) {
            *dot = '\0';
            cJSON *child = cJSON_GetObjectItemCaseSensitive(node, s);
            if (!child) child = cJSON_AddObjectToObject(node, s);
            node = child;
            s = dot + 1;
        }
        const void *p = (const char *)a + fields[i].off;
        /* Numbers as exact text (format_field: integers as integers, reals
         * in the shortest form that reads back to the same double), not
         * cJSON's doubles: a 64-bit seed above 2^53 keeps every digit. */
        char num[64];
        switch (fields[i].type) {
        case F_INT:
        case F_DBL:
        case F_U64:
            format_field(a, &fields[i], num, sizeof num);
            cJSON_AddRawToObject(node, s, num);
            break;
        case F_BOOL: cJSON_AddBoolToObject(node, s, *(const bool *)p); break;
        case F_ENUM: cJSON_AddStringToObject(node, s, fields[i].names[*(const int *)p]); break;
        case F_STR: cJSON_AddStringToObject(node, s, (const char *)p); break;
        }
    }
    char *text = cJSON_Print(root);
    if (text) {
        /* cJSON indents with tabs; re-indent each line by `indent` spaces. */
        for (char *line = text; *line;) {
            char *nl = strchr(line, '\n');
            size_t len = nl ? (size_t)(nl - line) : strlen(line);
            if (line != text) fprintf(f, "%*s", indent, "");
            for (size_t i = 0; i < len; i++) {
                if (line[i] == '\t') fputs("  ", f);
                else fputc(line[i], f);
            }
            if (!nl) break;
            fputc('\n', f);
            line = nl + 1;
        }
    }
    free(text);
    cJSON_Delete(root);
}

bool xb_arch_layer_spec_each(const char *s, bool (*fn)(long i, long b, void *u), void *u,
                             const char **bad) {
    return layer_bits_each(s, fn, u, bad);
}
