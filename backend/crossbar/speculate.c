/* RAELLA's speculative input slicing with recovery (Andrulis et al., ISCA
 * 2023, section 5; docs/BACKEND.md "Speculation").
 *
 * Each input x enters in cfg.spec_n wide slices (spec_bits, LSB first, a
 * multi-bit DAC per slice): digit j = (x >> shift_j) & (2^width_j - 1).
 * Every (row block, conversion column, position) is first converted once
 * per speculative slice.  If any of those conversions saturates, the column
 * is flagged and, in the recovery cycles, recomputed for that row block and
 * position with the narrow slices of dac_bits bits (bit-serial for
 * dac.bits = 1); the speculative values of a flagged column are discarded.
 * Only flagged columns are converted in recovery, so the conversions counted
 * are ncc x spec_n per unit plus input_slices per flagged unit.  Everything
 * else is the full path of convert.c: shift-and-add by the weight slice's
 * place value, signed pairs converted as S+ - S-, offset encoding's bias or
 * the center's c_n x sum(x) added digitally.
 *
 * With a lossless ADC nothing saturates and the result is the integer
 * product (sum_j 2^shift_j digit_j = x).  Supported: ideal cells, read noise
 * (read_sigma, read_current_sigma), clipping or rounding ADCs; the build
 * refuses the rest (xb_spec_check). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "backend/crossbar/internal.h"
#include "backend/crossbar/rng.h"
#include "kernels/igemm.h"

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }

xb_status xb_spec_check(const xb_crossbar_config *c, xb_ctx *ctx) {
    if (!c->spec_n) return XB_OK;
    int sum = 0;
    for (int j = 0; j < c->spec_n; j++) {
        if (c->spec_bits[j] < 1 || c->spec_bits[j] > 8)
            return xb_fail(ctx, XB_ERR_INVALID, "analog layer: speculative slices of 1..8 bits");
        sum += c->spec_bits[j];
    }
    if (sum < (c->input_slices - 1) * c->dac_bits + 1) /* must reach every input bit */
        return xb_fail(ctx, XB_ERR_INVALID,
                       "analog layer: speculative slices must cover the input bits");
    if (c->flip || !xb_cells_ideal(c) || c->read_row_sigma > 0 || c->table || c->adc_offset > 0 ||
        c->adc_gain > 0 || c->adc_inl > 0)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                       "analog layer: dac.speculation runs with ideal cells, read_sigma and "
                       "read_current_sigma only (no flip, device non-idealities, row noise, "
                       "noise tables or per-ADC errors)");
    return XB_OK;
}

typedef struct {
    uint8_t *dig;   /* [rows][Jm * pt] digits */
    uint8_t *dp;    /* packed digits */
    int32_t *S;     /* [C][Jm * pt] column sums */
    float *z;       /* [ncc][Jm * pt] standard normals */
    double *val;    /* [ncc][pt] converted value per unit */
    uint8_t *flag;  /* [ncc][pt] */
    double *accd;   /* [N][pt] */
    int64_t *xsum;  /* [pt] */
} spec_scratch;

static int max_slices(const xb_crossbar_config *c) {
    return c->spec_n > c->input_slices ? c->spec_n : c->input_slices;
}

static int64_t spec_chunk(const xb_crossbar_layer *l, int64_t P) {
    int64_t per = l->C * max_slices(&l->cfg);
    int64_t pt = (131072 / (per > 0 ? per : 1)) & ~(int64_t)15;
    if (pt < 16) pt = 16;
    return pt > P ? P : pt;
}

static size_t spec_carve(const xb_crossbar_layer *l, int64_t P, uint8_t *base, spec_scratch *s) {
    const xb_crossbar_config *c = &l->cfg;
    int64_t pt = spec_chunk(l, P), cols = max_slices(c) * pt,
            ncc = xb_crossbar_convs_per_block(l);
    size_t off = 0;
#define TAKE(field, bytes)                                                                         \
    do {                                                                                           \
        if (s) s->field = (void *)(base + off);                                                    \
        off += align64(bytes);                                                                     \
    } while (0)
    TAKE(dig, (size_t)(c->rows * cols));
    TAKE(dp, xb_igemm_xpack_bytes(c->rows, cols));
    TAKE(S, (size_t)(l->C * cols) * sizeof(int32_t));
    TAKE(z, (size_t)(ncc * cols) * sizeof(float));
    TAKE(val, (size_t)(ncc * pt) * sizeof(double));
    TAKE(flag, (size_t)(ncc * pt));
    TAKE(accd, (size_t)(c->N * pt) * sizeof(double));
    TAKE(xsum, (size_t)pt * sizeof(int64_t));
#undef TAKE
    return off;
}

size_t xb_spec_scratch_bytes(const xb_crossbar_layer *l, int64_t P) {
    return spec_carve(l, P, NULL, NULL);
}

/* One pass over a row block: J slices of the given widths and shifts. */
typedef struct {
    int J;
    int width[16], shift[16];
} pass_t;

typedef struct {
    const xb_crossbar_layer *l;
    const xb_crossbar_config *c;
    const uint8_t *x;
    spec_scratch s;
    xb_crossbar_stats *st;
    bool profile;
    int64_t g, P, p0, pt, r, k0, kb, ncc, nchunks, ptmax;
    uint64_t key;
    int64_t convs, sat, units, recovered;
} spec_run;

/* Column sums of every column for the pass's digits: S[col][j * pt + q]. */
static void pass_sums(spec_run *f, const pass_t *ps) {
    const xb_crossbar_layer *l = f->l;
    int64_t pt = f->pt, cols = ps->J * pt;
    for (int64_t k = 0; k < f->kb; k++) {
        const uint8_t *xr = f->x + (f->k0 + k) * f->P + f->p0;
        uint8_t *d = f->s.dig + k * cols;
        for (int j = 0; j < ps->J; j++) {
            unsigned m = (1u << ps->width[j]) - 1;
            for (int64_t q = 0; q < pt; q++) d[j * pt + q] = (uint8_t)((xr[q] >> ps->shift[j]) & m);
        }
    }
    xb_igemm_pack_x(f->s.dig, f->kb, cols, f->s.dp);
    int64_t blk = f->g * l->R + f->r;
    xb_igemm_packed(l->levp + (size_t)blk * l->levp_stride, f->s.dp, f->kb, l->C, cols, f->s.S);
}

/* Normals for the pass (keyed by group, row block, chunk and pass). */
static void pass_noise(spec_run *f, int pass, int J) {
    const xb_crossbar_layer *l = f->l;
    if (!l->read_noise) return;
    uint64_t per = (uint64_t)(f->ncc * max_slices(f->c) * f->ptmax);
    uint64_t idx = ((((uint64_t)f->g * (uint64_t)l->R + (uint64_t)f->r) * (uint64_t)f->nchunks +
                     (uint64_t)(f->p0 / f->ptmax)) * 2 + (uint64_t)pass) * per;
    xb_fast_normals(f->key, idx, f->ncc * J * f->pt, f->s.z);
}

/* The ADC on one analog value of conversion (cc, j, q): returns the
 * reconstructed value, counts saturation into *sat. */
static double convert(const spec_run *f, int64_t cc, int J, int j, int64_t q, int *sat) {
    const xb_crossbar_config *c = f->c;
    int64_t cols = (int64_t)J * f->pt, i = (int64_t)j * f->pt + q;
    int64_t col = xb_conversion_col(c->signed_pair, c->N, cc);
    const int32_t *S = f->s.S;
    int64_t sp = S[col * cols + i], sn = c->signed_pair ? S[(col + c->N) * cols + i] : 0;
    double v = (double)(sp - sn);
    if (f->l->read_noise) {
        double var = c->read_sigma * c->read_sigma +
                     c->read_current_sigma * c->read_current_sigma * (double)(sp + sn);
        v += sqrt(var) * (double)f->s.z[cc * cols + i];
    }
    if (f->profile && f->st) stat_value(f->st, v);
    if (c->lossless) return f->l->read_noise ? nearbyint(v) : v;
    double code = nearbyint(v / c->lsb);
    double y = code > (double)c->code_hi ? (double)c->code_hi
               : code < (double)c->code_lo ? (double)c->code_lo : code;
    *sat += y != code;
    return y * c->lsb;
}

/* Speculative pass of one row block: val and flag per unit. */
static void speculate_block(spec_run *f, const pass_t *ps) {
    pass_sums(f, ps);
    pass_noise(f, 0, ps->J);
    for (int64_t cc = 0; cc < f->ncc; cc++)
        for (int64_t q = 0; q < f->pt; q++) {
            int sat = 0;
            double v = 0;
            for (int j = 0; j < ps->J; j++) v += ldexp(convert(f, cc, ps->J, j, q, &sat), ps->shift[j]);
            f->s.val[cc * f->pt + q] = v;
            f->s.flag[cc * f->pt + q] = sat > 0;
            f->recovered += sat > 0;
        }
    f->convs += f->ncc * ps->J * f->pt;
    f->units += f->ncc * f->pt;
}

/* Recovery pass: flagged units recomputed with the narrow slices; their
 * clipped conversions are the ones counted as saturated. */
static void recover_block(spec_run *f, const pass_t *pr) {
    bool any = false;
    for (int64_t i = 0; i < f->ncc * f->pt && !any; i++) any = f->s.flag[i];
    if (!any) return;
    pass_sums(f, pr);
    pass_noise(f, 1, pr->J);
    for (int64_t cc = 0; cc < f->ncc; cc++)
        for (int64_t q = 0; q < f->pt; q++) {
            if (!f->s.flag[cc * f->pt + q]) continue;
            int sat = 0;
            double v = 0;
            for (int j = 0; j < pr->J; j++) v += ldexp(convert(f, cc, pr->J, j, q, &sat), pr->shift[j]);
            f->s.val[cc * f->pt + q] = v;
            f->sat += sat;
            f->convs += pr->J;
        }
}

/* Shift-and-add of every unit of the block into accd. */
static void accumulate(spec_run *f) {
    const xb_crossbar_layer *l = f->l;
    const xb_crossbar_config *c = f->c;
    for (int64_t cc = 0; cc < f->ncc; cc++) {
        int64_t col = xb_conversion_col(c->signed_pair, c->N, cc);
        double coef = ldexp(c->signed_pair ? 1.0 : (double)l->col_sign[col], (int)l->col_shift[col]);
        double *an = f->s.accd + l->col_n[col] * f->pt;
        const double *v = f->s.val + cc * f->pt;
        for (int64_t q = 0; q < f->pt; q++) an[q] += coef * v[q];
    }
}

/* One chunk of positions: every row block, then the digital term. */
static void spec_chunk_run(spec_run *f, const pass_t *ps, const pass_t *pr, int32_t *acc) {
    const xb_crossbar_layer *l = f->l;
    const xb_crossbar_config *c = f->c;
    int64_t pt = f->pt, N = c->N;
    for (int64_t q = 0; q < pt; q++) f->s.xsum[q] = 0;
    for (int64_t k = 0; k < c->K; k++)
        for (int64_t q = 0; q < pt; q++) f->s.xsum[q] += f->x[k * f->P + f->p0 + q];
    memset(f->s.accd, 0, (size_t)(N * pt) * sizeof(double));
    for (f->r = 0; f->r < l->R; f->r++) {
        f->k0 = xb_block_start(c->K, c->rows, c->even_rows, f->r);
        f->kb = xb_block_rows(c->K, c->rows, c->even_rows, f->r);
        speculate_block(f, ps);
        recover_block(f, pr);
        accumulate(f);
    }
    xb_full_outputs(l, f->g, f->s.accd, f->s.xsum, pt, f->P, f->p0, acc);
}

void xb_spec_run(const xb_crossbar_layer *l, int64_t g, const uint8_t *x, int64_t P,
                 int64_t image, bool profile, int32_t *acc, void *scratch, xb_crossbar_stats *st) {
    const xb_crossbar_config *c = &l->cfg;
    spec_run f = {.l = l, .c = c, .x = x, .st = st, .profile = profile, .g = g, .P = P,
                  .ncc = xb_crossbar_convs_per_block(l), .ptmax = spec_chunk(l, P)};
    spec_carve(l, P, scratch, &f.s);
    f.nchunks = (P + f.ptmax - 1) / f.ptmax;
    f.key = xb_hash4(c->seed, layer_key(c, TAG_SPEC), (uint64_t)image, (uint64_t)c->layer_id);
    pass_t ps = {.J = c->spec_n}, pr = {.J = c->input_slices};
    for (int j = 0, sh = 0; j < c->spec_n; sh += c->spec_bits[j], j++) {
        ps.width[j] = c->spec_bits[j];
        ps.shift[j] = sh;
    }
    for (int j = 0; j < c->input_slices; j++) {
        pr.width[j] = c->dac_bits;
        pr.shift[j] = j * c->dac_bits;
    }
    for (f.p0 = 0; f.p0 < P; f.p0 += f.ptmax) {
        f.pt = P - f.p0 < f.ptmax ? P - f.p0 : f.ptmax;
        spec_chunk_run(&f, &ps, &pr, acc);
    }
    if (st) {
        st->conversions += f.convs;
        st->saturated += f.sat;
        st->spec_units += f.units;
        st->spec_recovered += f.recovered;
    }
}
