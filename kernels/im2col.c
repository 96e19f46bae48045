#include "kernels/im2col.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

size_t xb_im2col_elems(const xb_conv_geom *cg) { return (size_t)cg->K * (size_t)cg->P; }

/* Output columns ow whose input column ow*sw - pl + off lies in [0, w):
 * [*lo, *hi).  Computed once per kernel column j instead of testing every
 * element, so the inner loop is a plain strided copy. */
static void valid_cols(const xb_conv_geom *cg, int64_t off, int64_t *lo, int64_t *hi) {
    /* ow*sw >= pl - off  and  ow*sw <= w - 1 + pl - off */
    int64_t a = cg->pl - off;
    int64_t l = a <= 0 ? 0 : (a + cg->sw - 1) / cg->sw;
    int64_t b = cg->w - 1 + cg->pl - off;
    int64_t h = b < 0 ? 0 : b / cg->sw + 1;
    if (h > cg->wout) h = cg->wout;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

/* One body for both element types; T is the element type, PAD the fill. */
#define IM2COL_BODY(T, PAD)                                                                        \
    const int64_t H = cg->h, W = cg->w, HO = cg->hout, WO = cg->wout;                              \
    T *dst = col;                                                                                  \
    for (int64_t c = 0; c < cg->cin_g; c++) {                                                      \
        const T *xc = x + c * H * W;                                                               \
        for (int64_t i = 0; i < cg->kh; i++) {                                                     \
            for (int64_t j = 0; j < cg->kw; j++) {                                                 \
                int64_t off = j * cg->dw, lo, hi;                                                  \
                valid_cols(cg, off, &lo, &hi);                                                     \
                for (int64_t oh = 0; oh < HO; oh++, dst += WO) {                                   \
                    int64_t ih = oh * cg->sh - cg->pt + i * cg->dh;                                \
                    if (ih < 0 || ih >= H) {                                                       \
                        for (int64_t ow = 0; ow < WO; ow++) dst[ow] = PAD;                         \
                        continue;                                                                  \
                    }                                                                              \
                    /* Index, not pointer: base may be negative (left pad). */                     \
                    const int64_t base = ih * W - cg->pl + off;                                    \
                    for (int64_t ow = 0; ow < lo; ow++) dst[ow] = PAD;                             \
                    if (cg->sw == 1 && hi > lo)                                                    \
                        memcpy(dst + lo, xc + (base + lo), (size_t)(hi - lo) * sizeof(T));         \
                    else                                                                           \
                        for (int64_t ow = lo; ow < hi; ow++) dst[ow] = xc[base + ow * cg->sw];     \
                    for (int64_t ow = hi; ow < WO; ow++) dst[ow] = PAD;                            \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

void xb_im2col_f32(const xb_conv_geom *cg, const float *x, float *col) { IM2COL_BODY(float, 0.0f) }

#if defined(__x86_64__) && defined(__GNUC__)
/* Output rows of at most 64 bytes, stride 1 (the analog engine's input,
 * backend/engine.c): each row is one masked load of its valid span, the
 * pad value in the other lanes, and one masked store, where the generic
 * body spends a memcpy call and two fill loops on a row of 8-32 bytes.
 * The load address is formed as an integer: base may point before the
 * plane (left pad), and the lanes outside [lo, hi) are never read. */
__attribute__((target("avx512f,avx512bw"))) static void im2col_u8_rows64(const xb_conv_geom *cg,
                                                                         const uint8_t *x,
                                                                         uint8_t pad,
                                                                         uint8_t *col) {
    const int64_t H = cg->h, W = cg->w, HO = cg->hout, WO = cg->wout;
    const __m512i pv = _mm512_set1_epi8((char)pad);
    const __mmask64 all = WO >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << WO) - 1;
    uint8_t *dst = col;
    for (int64_t c = 0; c < cg->cin_g; c++) {
        const uint8_t *xc = x + c * H * W;
        for (int64_t i = 0; i < cg->kh; i++)
            for (int64_t j = 0; j < cg->kw; j++) {
                int64_t off = j * cg->dw, lo, hi;
                valid_cols(cg, off, &lo, &hi);
                __mmask64 in = hi > lo ? ~(__mmask64)0 >> (64 - (hi - lo)) << lo : 0;
                for (int64_t oh = 0; oh < HO; oh++, dst += WO) {
                    int64_t ih = oh * cg->sh - cg->pt + i * cg->dh;
                    __m512i v = pv;
                    if (ih >= 0 && ih < H && in) {
                        uintptr_t a = (uintptr_t)xc + (uintptr_t)(ih * W - cg->pl + off);
                        v = _mm512_mask_loadu_epi8(pv, in, (const void *)a);
                    }
                    _mm512_mask_storeu_epi8(dst, all, v);
                }
            }
    }
}

/* Strided output rows whose input span fits 64 bytes ((wout - 1) sw < 64,
 * e.g. ResNet's stride-2 layers): one masked load of the row's span from
 * the first valid column's byte to the last's (every byte in between lies
 * in the same input row), one byte permute picking every sw-th (VPERMB),
 * the pad value outside [lo, hi), one masked store; the generic body
 * copies such rows byte by byte. */
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) static void
im2col_u8_strided64(const xb_conv_geom *cg, const uint8_t *x, uint8_t pad, uint8_t *col) {
    const int64_t H = cg->h, W = cg->w, HO = cg->hout, WO = cg->wout, sw = cg->sw;
    const __m512i pv = _mm512_set1_epi8((char)pad);
    const __mmask64 all = WO >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << WO) - 1;
    uint8_t ib[64];
    for (int64_t i = 0; i < 64; i++) ib[i] = (uint8_t)(i < WO ? ((i * sw) & 63) : 0);
    const __m512i idx = _mm512_loadu_si512((const void *)ib);
    uint8_t *dst = col;
    for (int64_t c = 0; c < cg->cin_g; c++) {
        const uint8_t *xc = x + c * H * W;
        for (int64_t i = 0; i < cg->kh; i++)
            for (int64_t j = 0; j < cg->kw; j++) {
                int64_t off = j * cg->dw, lo, hi;
                valid_cols(cg, off, &lo, &hi);
                /* output lanes [lo, hi); input bytes [lo sw, (hi - 1) sw] of the row */
                __mmask64 out = hi > lo ? ~(__mmask64)0 >> (64 - (hi - lo)) << lo : 0;
                int64_t nb = hi > lo ? (hi - 1 - lo) * sw + 1 : 0;
                __mmask64 in = nb ? ~(__mmask64)0 >> (64 - nb) << (lo * sw) : 0;
                for (int64_t oh = 0; oh < HO; oh++, dst += WO) {
                    int64_t ih = oh * cg->sh - cg->pt + i * cg->dh;
                    __m512i v = pv;
                    if (ih >= 0 && ih < H && out) {
                        uintptr_t a = (uintptr_t)xc + (uintptr_t)(ih * W - cg->pl + off);
                        __m512i r = _mm512_maskz_loadu_epi8(in, (const void *)a);
                        v = _mm512_mask_permutexvar_epi8(pv, out, idx, r);
                    }
                    _mm512_mask_storeu_epi8(dst, all, v);
                }
            }
    }
}

/* Stride 1 with output rows as wide as the input's (W == wout, "same"
 * padding) and 64 a multiple of W: for each kernel tap (c, i, j) the
 * unfolded row is the input plane shifted by (i dh - pt) W + j dw - pl, with
 * the columns and rows that fall in the padding replaced by the pad value.
 * So 64 / W output rows are one masked load (the valid columns' mask
 * repeats every W lanes; rows outside the plane are masked off too) and
 * one store, instead of one load and store per row. */
__attribute__((target("avx512f,avx512bw"))) static void im2col_u8_planes(const xb_conv_geom *cg,
                                                                         const uint8_t *x,
                                                                         uint8_t pad,
                                                                         uint8_t *col) {
    const int64_t H = cg->h, W = cg->w, HO = cg->hout, P = HO * W;
    const __m512i pv = _mm512_set1_epi8((char)pad);
    uint8_t *dst = col;
    for (int64_t c = 0; c < cg->cin_g; c++) {
        const uint8_t *xc = x + c * H * W;
        for (int64_t i = 0; i < cg->kh; i++)
            for (int64_t j = 0; j < cg->kw; j++, dst += P) {
                int64_t off = j * cg->dw, lo, hi;
                valid_cols(cg, off, &lo, &hi);
                /* valid columns [lo, hi) of one row, repeated every W lanes */
                __mmask64 cm = hi > lo ? ~(__mmask64)0 >> (64 - (hi - lo)) << lo : 0;
                for (int64_t r = W; r < 64; r *= 2) cm |= cm << r;
                /* rows oh with ih = oh + i dh - pt inside [0, H) */
                int64_t sh = i * cg->dh - cg->pt, r0 = sh < 0 ? -sh : 0, r1 = H - sh;
                if (r1 > HO) r1 = HO;
                const int64_t shift = sh * W - cg->pl + off;
                for (int64_t p0 = 0; p0 < P; p0 += 64) {
                    int64_t a = r0 * W - p0, b = r1 * W - p0; /* valid lanes [a, b) */
                    if (a < 0) a = 0;
                    if (b > 64) b = 64;
                    __mmask64 rm = b > a ? ~(__mmask64)0 >> (64 - (b - a)) << a : 0;
                    __m512i v = pv;
                    if (rm & cm) {
                        uintptr_t ad = (uintptr_t)xc + (uintptr_t)(p0 + shift);
                        v = _mm512_mask_loadu_epi8(pv, rm & cm, (const void *)ad);
                    }
                    if (P - p0 >= 64)
                        _mm512_storeu_si512((void *)(dst + p0), v);
                    else
                        _mm512_mask_storeu_epi8(dst + p0, ~(__mmask64)0 >> (64 - (P - p0)), v);
                }
            }
    }
}
#endif

void xb_im2col_u8(const xb_conv_geom *cg, const uint8_t *x, uint8_t pad_value, uint8_t *col) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (cg->sw == 1 && cg->sh == 1 && cg->wout == cg->w && cg->w > 0 && 64 % cg->w == 0 &&
        cg->hout > 0 && __builtin_cpu_supports("avx512bw")) {
        im2col_u8_planes(cg, x, pad_value, col);
        return;
    }
    if (cg->sw == 1 && cg->wout <= 64 && cg->wout > 0 && __builtin_cpu_supports("avx512bw")) {
        im2col_u8_rows64(cg, x, pad_value, col);
        return;
    }
    if (cg->sw > 1 && cg->wout > 0 && (cg->wout - 1) * cg->sw < 64 &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi")) {
        im2col_u8_strided64(cg, x, pad_value, col);
        return;
    }
#endif
    IM2COL_BODY(uint8_t, pad_value)
}

#define PANEL_MAX 64

void xb_im2col_panel_f32(const xb_conv_geom *cg, const float *x, int64_t p0, int64_t np, int64_t ld,
                         float *panel) {
    const int64_t H = cg->h, W = cg->w, WO = cg->wout;
    /* The panel's columns split into runs along output rows; the runs are
     * the same for every k, so find them once. */
    int64_t seg_oh[PANEL_MAX], seg_ow[PANEL_MAX], seg_q[PANEL_MAX], seg_n[PANEL_MAX];
    int nseg = 0;
    for (int64_t q = 0; q < np && nseg < PANEL_MAX;) {
        int64_t p = p0 + q, ow = p % WO, run = WO - ow;
        if (run > np - q) run = np - q;
        seg_oh[nseg] = p / WO, seg_ow[nseg] = ow, seg_q[nseg] = q, seg_n[nseg] = run;
        nseg++;
        q += run;
    }
    float *dst = panel;
    for (int64_t c = 0; c < cg->cin_g; c++) {
        const float *xc = x + c * H * W;
        for (int64_t i = 0; i < cg->kh; i++) {
            for (int64_t j = 0; j < cg->kw; j++, dst += ld) {
                int64_t off = j * cg->dw, lo, hi;
                valid_cols(cg, off, &lo, &hi);
                for (int s = 0; s < nseg; s++) {
                    /* Run s covers output columns [a, b) of row seg_oh[s];
                     * column ow goes to d[ow - a]. */
                    float *d = dst + seg_q[s];
                    int64_t a = seg_ow[s], b = seg_ow[s] + seg_n[s];
                    int64_t ih = seg_oh[s] * cg->sh - cg->pt + i * cg->dh;
                    if (ih < 0 || ih >= H) {
                        for (int64_t q = 0; q < b - a; q++) d[q] = 0.0f;
                        continue;
                    }
                    int64_t l = lo > a ? lo : a, h = hi < b ? hi : b;
                    if (l > b) l = b;
                    if (h < l) h = l;
                    for (int64_t ow = a; ow < l; ow++) d[ow - a] = 0.0f;
                    const int64_t base = ih * W - cg->pl + off;
                    if (cg->sw == 1) {
                        if (h > l)
                            memcpy(d + (l - a), xc + (base + l), (size_t)(h - l) * sizeof(float));
                    } else {
                        for (int64_t ow = l; ow < h; ow++) d[ow - a] = xc[base + ow * cg->sw];
                    }
                    for (int64_t ow = h; ow < b; ow++) d[ow - a] = 0.0f;
                }
                for (int64_t q = np; q < ld; q++) dst[q] = 0.0f;
            }
        }
    }
}
