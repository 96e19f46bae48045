/* RRAM accelerator architecture description.
 *
 * One flat struct holds every parameter the compiler, the crossbar simulation
 * and the cost model read.  Files (backend/arch/<name>.json) and command-line
 * overrides (--set adc.bits=6) address fields by dotted key; the key table in
 * arch.c is the single list of fields, so loading, overriding, validating and
 * printing cannot drift apart.  docs/ARCH.md documents each field, its unit
 * and the source of its default.  Built-in defaults are the ISAAC preset, so
 * a file only needs to list what differs. */
#ifndef XBAR_ARCH_H
#define XBAR_ARCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "runtime/status.h"

typedef enum { XB_ADC_CLIP = 0, XB_ADC_MAX = 1, XB_ADC_CALIBRATED = 2 } xb_adc_range;
/* Weight encodings (docs/ARCH.md, "encoding"):
 *   offset       - w + 2^(b-1) in b unsigned bits, one column per slice
 *                  (ISAAC's bias); 2^(b-1) * sum(x) subtracted digitally;
 *   differential - |w| in b-1 bits on a positive or negative column;
 *   center       - RAELLA's Center+Offset: w = c_n + o per output, the
 *                  offset o differential, c_n * sum(x) added digitally;
 *                  c_n balances the positive and negative column sums. */
typedef enum { XB_ENC_OFFSET = 0, XB_ENC_DIFFERENTIAL = 1, XB_ENC_CENTER = 2 } xb_encoding;

/* Layer replication (docs/BACKEND.md, "Replication"): none, LRMP-style
 * greedy balancing of the layer pipeline under a tile budget, or the same
 * objective solved as a MILP with GLPK (backend/replicate_milp.h). */
typedef enum { XB_REP_NONE = 0, XB_REP_BALANCE = 1, XB_REP_MILP = 2 } xb_replication;

/* Row blocks (mapping.row_split): fill each crossbar's rows, or spread K
 * equally over the same number of blocks (backend/crossbar/geometry.h). */
typedef enum { XB_SPLIT_FILL = 0, XB_SPLIT_EVEN = 1 } xb_row_split;
/* mapping.pack_groups: several groups of a grouped (e.g. depthwise) conv
 * on one crossbar, block-diagonally (backend/compile.h).  auto: when it
 * saves crossbars and the device model keeps groups independent
 * (xb_arch_groups_independent). */
typedef enum { XB_PACK_AUTO = 0, XB_PACK_TRUE = 1, XB_PACK_FALSE = 2 } xb_pack_groups;

/* adc.skip_cycles: the names' order is the field's value ("true", the
 * old boolean spelling, is static: xb_arch_sar_skip). */
typedef enum {
    XB_SKIP_OFF = 0,
    XB_SKIP_STATIC = 1,
    XB_SKIP_DATA = 2,
    XB_SKIP_TRUE = 3,
    XB_SKIP_COLUMN = 4 /* data bounds without the running partial sums (ablation) */
} xb_sar_skip;
typedef enum { XB_QUANT_UNIFORM = 0, XB_QUANT_NONUNIFORM = 1 } xb_adc_quantizer;
/* dac.model: what one row activation costs (backend/dac.c, docs/ARCH.md "DAC energy"). */
typedef enum { XB_DAC_LEVEL = 0, XB_DAC_PULSE = 1 } xb_dac_model;

/* ADC energy/area table covers 4..10 bits (Accelergy ISAAC library). */
#define XB_ADC_TAB_MIN 4
#define XB_ADC_TAB_MAX 10
#define XB_ADC_TAB_N (XB_ADC_TAB_MAX - XB_ADC_TAB_MIN + 1)

typedef struct xb_arch {
    char name[64];
    /* crossbar */
    int rows, cols, bits_per_cell;
    char slices[64]; /* weight slice widths MSB first, "4/2/2"; "" = bits_per_cell each */
    double on_off_ratio; /* 0 = ideal (an off cell conducts nothing) */
    /* converters */
    int dac_bits;
    int adc_bits; /* 0 = lossless: as many bits as the largest possible sum needs */
    char layer_adc_bits[64]; /* per-layer overrides "I=B/I=B...", "" = none (see below) */
    bool adc_signed;
    int adc_skip_cycles; /* SAR trial skipping, xb_sar_skip (0 off; "true" reads as static) */
    xb_adc_range adc_range;
    double adc_percentile; /* calibrated mode */
    int adcs_per_crossbar;
    double adc_gsps;
    /* number format */
    int weight_bits, input_bits;
    xb_encoding encoding;
    bool flip; /* ISAAC's flipped columns (offset encoding), see backend/crossbar/crossbar.h */
    /* hierarchy */
    int xbars_per_partition, partitions_per_tile, tiles;
    /* mapping */
    xb_replication replication;
    int budget_tiles; /* replication budget; 0 = every tile of the chip */
    xb_pack_groups pack_groups; /* mapping.pack_groups */
    /* timing */
    double xbar_read_ns, clock_ghz;
    /* energy (pJ per event) and area (um^2 per instance) */
    double adc_pj[XB_ADC_TAB_N], adc_um2[XB_ADC_TAB_N];
    double dac_pj, dac_um2;         /* DAC driver per row activation at 1 bit (the row
                                       line is added, see below) / per DAC */
    double sh_pj, sh_um2;           /* per column sample / per sample-and-hold */
    double sa_pj, sa_um2;           /* per conversion / per partition */
    double ir_pj_per_byte, ir_um2;  /* input register read / per partition */
    double or_pj, or_um2;           /* per conversion / per partition */
    double edram_pj_per_byte, edram_um2; /* per byte / per tile */
    double alu_pj;                  /* per digital op */
    /* --- cost and device model (docs/ARCH.md, "Component models") --- */
    xb_row_split row_split;         /* mapping.row_split */
    double read_v;                  /* crossbar.read_voltage, V */
    double cell_fj_v2;              /* crossbar read energy per driven cell / V^2 */
    double cell_um2;                /* area per cell (pitch^2) */
    double wire_ff_per_um;          /* row-line wire capacitance */
    double adc_bit_pj, adc_fom_fj;  /* ADC fit E = bit_pj * b + fom_fj * 2^b (table first) */
    double adc_bit_um2, adc_cap_um2; /* ADC area fit A = bit_um2 * b + cap_um2 * 2^b */
    double adc_ref_gsps;            /* rate the ADC table and fit hold at */
    double tile_edram_mw, tile_bus_mw, tile_router_mw, tile_digital_mw; /* Table I per tile */
    double tile_bus_um2, tile_router_um2, tile_digital_um2;
    int tiles_per_router;
    double bus_bytes_per_ns;        /* eDRAM-to-IMA bus bandwidth per tile */
    double router_pj_per_byte;      /* a layer's output through a router */
    /* non-idealities */
    double prog_sigma, read_sigma, stuck_low, stuck_high;
    uint64_t seed;
    /* --- device and circuit non-idealities (docs/ARCH.md, "Device and
     * circuit non-idealities"); every one off at 0 except off_compensation,
     * which only acts with a finite on/off ratio --- */
    bool off_compensation;    /* subtract G_off x digit sum digitally */
    double prog_floor;        /* programming sigma floor, fraction of G_on */
    double read_current_sigma; /* E of sigma = E sqrt(column current), levels^0.5 */
    double read_row_sigma;    /* sigma per active row (DAC level), unit levels */
    double drift_seconds;     /* time since programming (0 = no drift) */
    double drift_nu;          /* 0 = PCM per-level exponents (aihwkit), else constant */
    double drift_t0;          /* first read after programming, s */
    bool drift_compensation;  /* global per-layer drift compensation */
    double ir_drop;           /* wire segment resistance / R_on */
    double adc_offset_lsb, adc_gain_sigma, adc_inl_lsb; /* per-ADC errors */
    char noise_table[256];    /* measured (mean, sigma) per column sum, "" = none */
    /* Explicit conductances (docs/ARCH.md, "Conductances"): any two of
     * G_on, G_off and on_off_ratio define the third; 0 = not given. */
    double g_on_us, g_off_us; /* crossbar.g_on_us, crossbar.g_off_us */
    double g_ref_us;          /* G_on at which energy.crossbar_cell_fj_per_v2 holds */
    /* --- RAELLA (Andrulis et al., ISCA 2023; backend/raella.h, docs/ARCH.md) --- */
    char layer_slices[512];   /* crossbar.layer_slices "I=4/2/1;I=2/2/2/1", "" = none */
    double slice_error;       /* crossbar.slice_error: budget of crossbar.slices=auto */
    bool dac_speculation;     /* dac.speculation: speculative input slices + recovery */
    char spec_slices[64];     /* dac.speculation_slices, MSB first, e.g. "4/2/2" */
    /* DATE'24 ADC co-design (backend/crossbar/sar.h) */
    int adc_quantizer;        /* xb_adc_quantizer */
    double adc_nu_error;      /* relative RMS error budget of the non-uniform transfer */
    /* ORSS'23 (backend/rowmap.h): identical weight rows stored once with
     * their inputs summed digitally; rows ordered by input activity; row
     * blocks whose input digits are all zero not converted. */
    bool row_rename, row_reorder, input_control;
    /* Per-layer mixed precision (LRMP; backend/arch_layers.c): "I=B/..."
     * overrides of weight_bits and input_bits, "" = none. */
    char layer_weight_bits[256], layer_input_bits[256];
    /* --- analog buffers, time-domain converters, per-layer supply voltage
     * and bit-width, buffer endurance (TIMELY, LayCO; backend/analog_buffer.h,
     * docs/ARCH.md "Analog buffers") --- */
    bool buf_on;              /* buffer.enabled: psums accumulated in analog along a chain */
    int buf_chain;            /* buffer.chain: crossbars (row blocks) per conversion */
    double buf_sigma;         /* buffer.sigma: per-stage noise at v_nominal, fraction of
                                 one crossbar's full-scale column sum */
    double buf_noise_exp;     /* buffer.noise_exp: sigma(V) = sigma (V_nom / V)^exp */
    double buf_v_nom, buf_v;  /* buffer.v_nominal, buffer.voltage (V) */
    char buf_layer_v[256];    /* buffer.layer_voltage "L=V/..." */
    char buf_layer_bits[256]; /* buffer.layer_bits "L=B/...": converter bits per layer */
    bool time_domain;         /* buffer.time_domain: DTC/TDC instead of DAC/ADC (cost) */
    bool buf_rram;            /* buffer.rram: RRAM buffer cells (they wear: endurance) */
    double buf_endurance;     /* buffer.endurance: writes per RRAM buffer cell */
    int buf_partitions;       /* buffer.partitions: rotation span, 0 = the network's */
    double dtc_pj, tdc_pj, xsub_pj, psub_pj, iadder_pj, chcmp_pj;       /* energy.* */
    double dtc_um2, tdc_um2, xsub_um2, psub_um2, iadder_um2, chcmp_um2; /* area.* */
    /* dac.model: XB_DAC_LEVEL charges every driven row and cycle one
     * dac.bits-wide level (ISAAC's constant-power DAC); XB_DAC_PULSE charges
     * per unit pulse of a pulse-train DAC (RAELLA), a digit d costing d
     * 1-bit activations, counted from the inputs actually run. */
    int dac_model;
} xb_arch;

/* Built-in defaults: the ISAAC preset (arch_defaults.c). */
void xb_arch_defaults(xb_arch *a);
/* Load a preset by name (backend/arch/<name>.json found through
 * $XBAR_ARCH_DIR, then the source tree) or by path (contains '/' or ends in
 * .json).  Fields absent from the file keep the built-in defaults. */
xb_status xb_arch_load(xb_arch *a, const char *spec, xb_ctx *ctx);
/* Apply a JSON text (object with nested sections) on top of *a.  Strict
 * JSON (runtime/json_read.h): duplicate keys, text after the object and
 * control characters are errors naming the origin and the key; integer
 * fields take decimal integer literals only. */
xb_status xb_arch_apply_json(xb_arch *a, const char *text, const char *origin, xb_ctx *ctx);
/* "key=value" with a dotted key: adc.bits=6, energy.adc_pj.8=1.5.  Numbers
 * are read by runtime/num.h: decimal only (adc.bits=0x8 is an error), and
 * integers exactly (nonideal.seed is any integer in 0..2^64-1). */
xb_status xb_arch_set(xb_arch *a, const char *assignment, xb_ctx *ctx);
/* Range and cross-field checks; load and set call it. */
xb_status xb_arch_validate(const xb_arch *a, xb_ctx *ctx);
/* The device and circuit non-idealities' own checks (arch_device.c). */
xb_status xb_arch_validate_device(const xb_arch *a, xb_ctx *ctx);
/* G_on / G_off in effect: g_on_us / g_off_us when both are given, else
 * crossbar.on_off_ratio (0 = ideal); arch_device.c. */
double xb_arch_on_off_ratio(const xb_arch *a);
/* G_on in uS in effect (g_on_us, or g_off_us x ratio); g_ref_us when the
 * conductances are relative (only the ratio given). */
double xb_arch_g_on_us(const xb_arch *a);

/* Derived quantities used by compiler, crossbar simulation and cost model. */
int xb_arch_input_slices(const xb_arch *a);  /* ceil(input_bits / dac_bits) */
/* Magnitude bits of a stored weight: weight_bits for offset, weight_bits - 1
 * for the column pairs, 1 for binary weights (weight_bits 1) in either. */
int xb_arch_magnitude_bits(const xb_arch *a);
int xb_arch_weight_slices(const xb_arch *a); /* ceil(magnitude bits / bits_per_cell) */
int xb_arch_cols_per_slice(const xb_arch *a);
/* Slice widths of crossbar.slices, LSB first, into w[16]; returns their
 * count, or 0 when the slices are uniform (bits_per_cell each). */
int xb_arch_slice_widths(const xb_arch *a, int *w);
/* True when each weight (or offset) is stored as a magnitude on one of a
 * column pair (differential and center encodings). */
bool xb_arch_pair_columns(const xb_arch *a);
/* "offset", "differential" or "center". */
const char *xb_arch_encoding_name(const xb_arch *a); /* 2 if differential, else 1 */
/* Bits the ADC resolves: adc_bits, or for lossless the bits the largest
 * possible column sum of a full crossbar needs. */
int xb_arch_adc_eff_bits(const xb_arch *a);
/* ADC bits of matrix layer `layer` of `n`: its entry in adc.layer_bits
 * ("I=B" pairs separated by '/', I counted from 0, or from the end when
 * negative: -1 is the last layer; B = 0 lossless), else adc.bits.  The
 * effective resolution is returned (lossless: what the largest sum needs);
 * *lossless (may be NULL) says which. */
int xb_arch_layer_adc_bits(const xb_arch *a, int layer, int n, bool *lossless);
/* The arch wants a calibrated full scale: adc.range = calibrated and some
 * layer's ADC is not lossless (adc.bits, or an adc.layer_bits entry). */
bool xb_arch_needs_calibration(const xb_arch *a);
/* Every adc.layer_bits index names one of the model's `n` matrix layers
 * (0..n-1 or -n..-1); the compiler calls it (the arch alone cannot know n). */
xb_status xb_arch_check_layer_bits(const xb_arch *a, int n, xb_ctx *ctx);
/* The analog mode's crossbar simulation runs the int8 layers: fails
 * (XB_ERR_UNSUPPORTED) unless weight_bits and input_bits are at most 8.
 * The compiler and the cost model accept up to 16. */
xb_status xb_arch_check_simulable(const xb_arch *a, xb_ctx *ctx);
/* Do groups packed on one crossbar compute exactly what they compute on
 * crossbars of their own?  True when an unprogrammed cell conducts nothing
 * and nothing depends on other rows or on which ADC a column uses: no
 * finite on/off ratio, programming floor, stuck-high cells, row-dependent
 * read noise, IR drop, drift, or per-ADC errors.  The simulation runs each
 * group on its own block, which is then the packed crossbar exactly. */
bool xb_arch_groups_independent(const xb_arch *a);
/* adc.skip_cycles as off (0), static (1), data (2) or column (3). */
int xb_arch_sar_skip(const xb_arch *a);
/* Bits an unsigned value v >= 0 needs (0 for 0). */
int xb_arch_bits_for(int64_t v);
/* Largest possible column sum of a full crossbar in unit levels. */
int64_t xb_arch_max_column_sum(const xb_arch *a);
/* ADC energy per conversion and area at `bits` and the arch's sample rate:
 * the table entry when it is > 0 (4..10 bits), else the survey fit
 * bit_pj * b + fom_fj * 2^b; both times max(1, rate / adc_ref_gsps). */
double xb_arch_adc_energy_pj(const xb_arch *a, int bits);
double xb_arch_adc_area_um2(const xb_arch *a, int bits);
/* Component models (docs/ARCH.md): crossbar area from the cell pitch; the
 * energy of one dac_bits-bit row activation (driver + row line across all
 * columns); the energy one driven cell at mean level `level` (in unit
 * levels, 0 = unprogrammed) takes per read. */
double xb_arch_crossbar_um2(const xb_arch *a);
double xb_arch_row_activation_pj(const xb_arch *a);
double xb_arch_cell_read_pj(const xb_arch *a, double level);
/* Mean level summed over the weight slices when each slice uses its
 * levels uniformly: sum_s (2^width_s - 1) / 2. */
double xb_arch_slice_mean_levels(const xb_arch *a);

/* Print every field as JSON ("name": {...}) to f; the inverse of load. */
void xb_arch_write_json(const xb_arch *a, FILE *f, int indent);
/* Iterate over field keys (for docs/tests): NULL past the end. */
const char *xb_arch_key(int i);
/* Format the value of a key into buf; returns 0 if the key is unknown. */
int xb_arch_get(const xb_arch *a, const char *key, char *buf, size_t n);

/* --- per-layer precision (arch_layers.c) ---------------------------------------
 * layer_weight_bits / layer_input_bits use the syntax of adc.layer_bits
 * ("I=B" pairs separated by '/', I from the end when negative; B 2..8).
 * Weight bits of matrix layer `layer` of `n` (its entry, else weight_bits),
 * and the same for input bits. */
int xb_arch_layer_weight_bits(const xb_arch *a, int layer, int n);
int xb_arch_layer_input_bits(const xb_arch *a, int layer, int n);
/* The arch as layer `layer` of `n` sees it: weight_bits and input_bits
 * replaced by the layer's.  Everything that slices, sizes, times or costs
 * one layer reads this view. */
void xb_arch_layer_view(const xb_arch *a, int layer, int n, xb_arch *out);
/* Syntax and ranges of the two strings (xb_arch_validate calls it), and
 * their indices against a model of n matrix layers (the compiler). */
xb_status xb_arch_validate_layers(const xb_arch *a, xb_ctx *ctx);
xb_status xb_arch_check_layer_precision(const xb_arch *a, int n, xb_ctx *ctx);
/* The "I=B/..." walker of adc.layer_bits: calls fn per pair (stops when it
 * returns true); false with *bad at the offending text on a syntax error. */
bool xb_arch_layer_spec_each(const char *s, bool (*fn)(long i, long b, void *u), void *u,
                             const char **bad);

#endif
