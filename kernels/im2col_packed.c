#include "kernels/im2col_packed.h"

#include <string.h>

#include "kernels/igemm.h"

/* memcpy for rows of a few dozen bytes: fixed-size chunks inline to plain
 * vector moves, where a libc call per row cost more than the copy.  GCC's
 * loop-distribution pass would turn the chunk loop back into a memcpy call
 * (perf showed __memmove_avx512_unaligned_erms at 11 % of LeNet-5 int8),
 * so that pass is off for this function. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif
static inline void copy_row(uint8_t *restrict d, const uint8_t *restrict s, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) memcpy(d + i, s + i, 16);
    if (i + 8 <= n) memcpy(d + i, s + i, 8), i += 8;
    if (i + 4 <= n) memcpy(d + i, s + i, 4), i += 4;
    for (; i < n; i++) d[i] = s[i];
}

void xb_pad_planes_u8(const xb_conv_geom *cg, int64_t channels, const uint8_t *x, uint8_t flip,
                      uint8_t pad, uint8_t *planes) {
    const int64_t H = cg->h, W = cg->w, Hp = xb_padded_h(cg), Wq = xb_phase_w(cg), sw = cg->sw;
    const int64_t plane = xb_plane_bytes(cg);
    /* The planes are small next to the unfolded matrix; filling them whole
     * is simpler and no slower than painting only the border. */
    memset(planes, pad, (size_t)(channels * plane));
    for (int64_t c = 0; c < channels; c++)
        for (int64_t y = 0; y < H; y++) {
            const uint8_t *s = x + (c * H + y) * W;
            uint8_t *row = planes + c * plane + (y + cg->pt) * Wq;
            if (sw == 1) {
                uint8_t *d = row + cg->pl;
                if (flip)
                    for (int64_t i = 0; i < W; i++) d[i] = s[i] ^ flip;
                else
                    copy_row(d, s, W);
            } else {
                /* Phase f gets the inputs i with (i + pl) % sw == f, in
                 * order: a strided read into a contiguous row. */
                for (int64_t f = 0; f < sw; f++) {
                    int64_t i0 = ((f - cg->pl) % sw + sw) % sw;
                    uint8_t *d = row + f * Hp * Wq + (i0 + cg->pl) / sw;
                    int64_t cnt = i0 < W ? (W - i0 + sw - 1) / sw : 0;
                    if (sw == 2) /* constant stride: vectorised even/odd split */
                        for (int64_t m = 0; m < cnt; m++) d[m] = s[i0 + 2 * m] ^ flip;
                    else
                        for (int64_t m = 0; m < cnt; m++) d[m] = s[i0 + sw * m] ^ flip;
                }
            }
        }
}

/* d[i] = bytes (a[i], b[i], c[i], e[i]) for a stride-1 output row.  Rows
 * are short (8 to 32 positions in the CIFAR and MNIST nets), too short for
 * the loop vectoriser's 32- or 64-byte steps, so chunks of 16, then 8,
 * interleaved explicitly with GCC vector shuffles (punpck*bw / punpck*wd),
 * then 4; only a tail under 4 is scalar. */
typedef uint8_t xb_v16u8 __attribute__((vector_size(16)));
typedef uint16_t xb_v8u16 __attribute__((vector_size(16)));
typedef uint64_t xb_v2u64 __attribute__((vector_size(16)));

/* 8 bytes into the low half of a vector through a register (vmovq); a
 * memcpy into a zeroed vector would go through the stack and stall on
 * store forwarding. */
static inline xb_v16u8 load8(const uint8_t *p) {
    uint64_t t;
    memcpy(&t, p, 8);
    return (xb_v16u8)(xb_v2u64){t, 0};
}
static inline xb_v16u8 load4(const uint8_t *p) {
    uint32_t t;
    memcpy(&t, p, 4);
    return (xb_v16u8)(xb_v2u64){t, 0};
}

#if defined(__clang__)
/* clang has no __builtin_shuffle (GCC's two-vector shuffle with a mask
 * vector).  The same operation element by element, so the clang build
 * (-DXBAR_FUZZ=ON, tests/fuzz) compiles; GCC builds are unaffected. */
static inline xb_v16u8 xb_shuffle_u8(xb_v16u8 a, xb_v16u8 b, xb_v16u8 m) {
    xb_v16u8 r;
    for (int i = 0; i < 16; i++) r[i] = (m[i] & 16) ? b[m[i] & 15] : a[m[i] & 15];
    return r;
}
static inline xb_v8u16 xb_shuffle_u16(xb_v8u16 a, xb_v8u16 b, xb_v8u16 m) {
    xb_v8u16 r;
    for (int i = 0; i < 8; i++) r[i] = (m[i] & 8) ? b[m[i] & 7] : a[m[i] & 7];
    return r;
}
#define __builtin_shuffle(a, b, m) _Generic((a), xb_v16u8: xb_shuffle_u8, xb_v8u16: xb_shuffle_u16)(a, b, m)
#endif

/* Interleave the first 4 * quarters (4, 8 or 16) bytes of a, b, c, e into
 * 16 * quarters bytes at d. */
static inline void zip16(xb_v16u8 a, xb_v16u8 b, xb_v16u8 c, xb_v16u8 e, uint8_t *d, int quarters) {
    const xb_v16u8 lo = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23};
    const xb_v16u8 hi = {8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
    const xb_v8u16 wlo = {0, 8, 1, 9, 2, 10, 3, 11}, whi = {4, 12, 5, 13, 6, 14, 7, 15};
    for (int h = 0; 2 * h < quarters; h++) {
        xb_v16u8 ab = __builtin_shuffle(a, b, h ? hi : lo);
        xb_v16u8 ce = __builtin_shuffle(c, e, h ? hi : lo);
        xb_v8u16 r0 = __builtin_shuffle((xb_v8u16)ab, (xb_v8u16)ce, wlo);
        memcpy(d + 32 * h, &r0, 16);
        if (quarters == 1) break;
        xb_v8u16 r1 = __builtin_shuffle((xb_v8u16)ab, (xb_v8u16)ce, whi);
        memcpy(d + 32 * h + 16, &r1, 16);
    }
}

static void interleave4(uint8_t *restrict d, const uint8_t *restrict a, const uint8_t *restrict b,
                        const uint8_t *restrict c, const uint8_t *restrict e, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        xb_v16u8 va, vb, vc, ve;
        memcpy(&va, a + i, 16), memcpy(&vb, b + i, 16), memcpy(&vc, c + i, 16), memcpy(&ve, e + i, 16);
        zip16(va, vb, vc, ve, d + 4 * i, 4);
    }
    if (i + 8 <= n) {
        zip16(load8(a + i), load8(b + i), load8(c + i), load8(e + i), d + 4 * i, 2);
        i += 8;
    }
    if (i + 4 <= n) {
        zip16(load4(a + i), load4(b + i), load4(c + i), load4(e + i), d + 4 * i, 1);
        i += 4;
    }
    for (; i < n; i++) {
        d[4 * i] = a[i];
        d[4 * i + 1] = b[i];
        d[4 * i + 2] = c[i];
        d[4 * i + 3] = e[i];
    }
}

void xb_im2col_u8_packed(const xb_conv_geom *cg, const uint8_t *planes, uint8_t *xp) {
    const int64_t Hp = xb_padded_h(cg), Wq = xb_phase_w(cg), plane = xb_plane_bytes(cg);
    const int64_t HO = cg->hout, WO = cg->wout, sh = cg->sh, sw = cg->sw;
    const int64_t K = cg->K, P = cg->P, Pp = xb_igemm_ppad(P), Kq = xb_igemm_kpad(K) / 4;
    /* Taps k >= K of the last quad read zeros (any value would do: their
     * weights are zero), so a partial quad takes the same path. */
    static const uint8_t zeros[1024];
    /* Offset of tap (c, i, j) in the planes, walked incrementally: integer
     * division per tap would cost more than the copying for small layers. */
    int64_t c = 0, i = 0, j = 0;
    for (int64_t q = 0; q < Kq; q++) {
        /* Tap t of the quad reads base[t][oy * rstep[t] + ox]: padded column
         * ox*sw + j*dw lies in phase (j*dw) % sw at index ox + (j*dw) / sw.
         * Every read is inside the plane because the output size was
         * computed from the padded extent. */
        const uint8_t *base[4];
        int64_t rstep[4];
        bool contiguous = true;
        for (int t = 0; t < 4; t++) {
            if (4 * q + t >= K) {
                base[t] = zeros, rstep[t] = 0;
                contiguous = contiguous && WO <= (int64_t)sizeof zeros;
                continue;
            }
            int64_t col = j * cg->dw;
            int64_t ph = sw == 1 ? 0 : col % sw, ix = sw == 1 ? col : col / sw;
            base[t] = planes + c * plane + ph * Hp * Wq + i * cg->dh * Wq + ix;
            rstep[t] = sh * Wq;
            if (++j == cg->kw) {
                j = 0;
                if (++i == cg->kh) i = 0, c++;
            }
        }
        uint8_t *dq = xp + q * Pp * 4;
        if (contiguous) {
            for (int64_t oy = 0; oy < HO; oy++)
                interleave4(dq + oy * WO * 4, base[0] + oy * rstep[0], base[1] + oy * rstep[1],
                            base[2] + oy * rstep[2], base[3] + oy * rstep[3], WO);
        } else {
            /* Only a partial quad with rows longer than the zero row. */
            for (int64_t oy = 0; oy < HO; oy++) {
                uint8_t *d = dq + oy * WO * 4;
                for (int t = 0; t < 4; t++) {
                    const uint8_t *r = base[t] + oy * rstep[t];
                    for (int64_t ox = 0; ox < WO; ox++) d[ox * 4 + t] = base[t] == zeros ? 0 : r[ox];
                }
            }
        }
        if (Pp > P) memset(dq + P * 4, 0, (size_t)(Pp - P) * 4);
    }
}

/* d[m] = s[i0 + 2 m] for m < cnt (i0 0 or 1) from a row of W bytes: even or
 * odd bytes picked by a shuffle from two 16-byte loads, never reading past
 * the row; rows here are 16 to 64 bytes, too short for the loop
 * vectoriser. */
static inline void split2(const uint8_t *s, int64_t W, int64_t i0, uint8_t *d, int64_t cnt) {
    const xb_v16u8 even = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30};
    const xb_v16u8 odd = {1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31};
    const xb_v16u8 sel = i0 ? odd : even;
    int64_t m = 0;
    for (; m + 16 <= cnt && 2 * m + 32 <= W; m += 16) {
        xb_v16u8 a, b;
        memcpy(&a, s + 2 * m, 16), memcpy(&b, s + 2 * m + 16, 16);
        xb_v16u8 r = __builtin_shuffle(a, b, sel);
        memcpy(d + m, &r, 16);
    }
    if (m + 8 <= cnt && 2 * m + 16 <= W) {
        xb_v16u8 a;
        memcpy(&a, s + 2 * m, 16);
        xb_v16u8 r = __builtin_shuffle(a, a, sel);
        memcpy(d + m, &r, 8);
        m += 8;
    }
    for (; m < cnt; m++) d[m] = s[i0 + 2 * m];
}

/* Longest phase row split through the stack in xb_pad_planes4_u8. */
enum { PHASE_MAX = 256 };

/* Where phase f of a stride-sw row starts: its first input column i0, how
 * many columns it takes, and its offset in the row's planes (bytes).
 * Computed once per call, not per row: these are 64-bit divisions, and
 * per row and phase they cost more than the copying (perf, ResNet-20's
 * stride-2 layers, docs/PERFORMANCE.md). */
typedef struct {
    int64_t i0, cnt, at;
} phase_span;
enum { PHASE_SPANS = 8 }; /* strides up to this use the table */

static phase_span phase_of(const xb_conv_geom *cg, int64_t f) {
    const int64_t sw = cg->sw, W = cg->w;
    phase_span p;
    p.i0 = ((f - cg->pl) % sw + sw) % sw;
    p.cnt = p.i0 < W ? (W - p.i0 + sw - 1) / sw : 0;
    p.at = (f * xb_padded_h(cg) * xb_phase_w(cg) + (p.i0 + cg->pl) / sw) * 4;
    return p;
}

void xb_pad_planes4_u8(const xb_conv_geom *cg, const uint8_t *x, uint8_t pad, uint8_t *planes4) {
    const int64_t H = cg->h, W = cg->w, Wq = xb_phase_w(cg), sw = cg->sw;
    const int64_t quad = 4 * xb_plane_bytes(cg); /* bytes per 4 channels */
    const int64_t cin_g = cg->cin_g, nq = xb_c4_channels(cg) / 4;
    phase_span ps[PHASE_SPANS];
    for (int64_t f = 0; f < sw && f < PHASE_SPANS; f++) ps[f] = phase_of(cg, f);
    memset(planes4, pad, (size_t)xb_c4_planes_bytes(cg));
    for (int64_t g = 0; g < cg->group; g++)
        for (int64_t cq = 0; cq < nq; cq++) {
            const uint8_t *ch[4];
            for (int t = 0; t < 4; t++) {
                int64_t c = 4 * cq + t < cin_g ? 4 * cq + t : cin_g - 1;
                ch[t] = x + (g * cin_g + c) * H * W;
            }
            uint8_t *pq = planes4 + (g * nq + cq) * quad;
            for (int64_t y = 0; y < H; y++) {
                uint8_t *row = pq + (y + cg->pt) * Wq * 4;
                const int64_t o = y * W;
                if (sw == 1) {
                    interleave4(row + cg->pl * 4, ch[0] + o, ch[1] + o, ch[2] + o, ch[3] + o, W);
                    continue;
                }
                for (int64_t f = 0; f < sw; f++) {
                    const phase_span p = f < PHASE_SPANS ? ps[f] : phase_of(cg, f);
                    const int64_t i0 = p.i0, cnt = p.cnt;
                    uint8_t *d = row + p.at;
                    if (sw == 2 && cnt <= PHASE_MAX) {
                        /* Split each channel's row by phase with a
                         * constant-stride loop the compiler vectorises,
                         * then interleave the four: a byte-at-a-time
                         * gather here cost more than the rest of the
                         * layer's input preparation. */
                        uint8_t ph[4][PHASE_MAX];
                        for (int t = 0; t < 4; t++) split2(ch[t] + o, W, i0, ph[t], cnt);
                        interleave4(d, ph[0], ph[1], ph[2], ph[3], cnt);
                        continue;
                    }
                    for (int64_t i = i0, m = 0; i < W; i += sw, m++)
                        for (int t = 0; t < 4; t++) d[4 * m + t] = ch[t][o + i];
                }
            }
        }
}

void xb_im2col_u8_packed4(const xb_conv_geom *cg, const uint8_t *planes4, int64_t g, uint8_t *xp) {
    const int64_t Hp = xb_padded_h(cg), Wq = xb_phase_w(cg), sw = cg->sw;
    const int64_t quad = 4 * xb_plane_bytes(cg), nq = xb_c4_channels(cg) / 4;
    const int64_t HO = cg->hout, WO = cg->wout, rstep = cg->sh * Wq * 4;
    const int64_t P = cg->P, Pp = xb_igemm_ppad(P), Kq = nq * cg->kh * cg->kw;
    const uint8_t *pg = planes4 + g * nq * quad;
    int64_t cq = 0, i = 0, j = 0;
    for (int64_t q = 0; q < Kq; q++) {
        const int64_t col = j * cg->dw;
        const int64_t ph = sw == 1 ? 0 : col % sw, ix = sw == 1 ? col : col / sw;
        const uint8_t *src = pg + cq * quad + ((ph * Hp + i * cg->dh) * Wq + ix) * 4;
        uint8_t *dq = xp + q * Pp * 4;
        for (int64_t oy = 0; oy < HO; oy++) copy_row(dq + oy * WO * 4, src + oy * rstep, WO * 4);
        if (Pp > P) memset(dq + P * 4, 0, (size_t)(Pp - P) * 4);
        if (++j == cg->kw) {
            j = 0;
            if (++i == cg->kh) i = 0, cq++;
        }
    }
}

void xb_c4_direct_offsets(const xb_conv_geom *cg, int64_t *xoff) {
    const int64_t Hp = xb_padded_h(cg), Wq = xb_phase_w(cg), quad = 4 * xb_plane_bytes(cg);
    const int64_t nq = xb_c4_channels(cg) / 4, sw = cg->sw;
    int64_t q = 0;
    for (int64_t cq = 0; cq < nq; cq++)
        for (int64_t i = 0; i < cg->kh; i++)
            for (int64_t j = 0; j < cg->kw; j++) {
                /* As in xb_im2col_u8_packed4: padded column j*dw lies in
                 * phase (j*dw) % sw at index (j*dw) / sw. */
                const int64_t col = j * cg->dw, ph = col % sw, ix = col / sw;
                xoff[q++] = cq * quad + ((ph * Hp + i * cg->dh) * Wq + ix) * 4;
            }
}

void xb_sh4_build(const xb_conv_geom *cg, const uint8_t *x, int64_t g, uint8_t pad, uint8_t *plane,
                  uint8_t *words) {
    const int64_t H = cg->h, W = cg->w, Wp = xb_padded_w(cg), L = xb_sh4_words(cg);
    const int64_t pb = xb_sh4_plane_bytes(cg), D = cg->dh * Wp, na = xb_sh4_arrays(cg);
    /* H word p = bytes p .. p+3: one byte shuffle makes 4 words of 16 bytes. */
    const xb_v16u8 m = {0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 6};
    for (int64_t c = 0; c < cg->cin_g; c++) {
        const uint8_t *s = x + (g * cg->cin_g + c) * H * W;
        memset(plane, pad, (size_t)pb);
        for (int64_t y = 0; y < H; y++) copy_row(plane + (y + cg->pt) * Wp + cg->pl, s + y * W, W);
        uint8_t *d = words + 4 * c * na * L;
        if (cg->kw >= 4) {
            /* L is a multiple of 4 and the plane has 32 bytes past L. */
            for (int64_t p = 0; p < L; p += 4) {
                xb_v16u8 v;
                memcpy(&v, plane + p, 16);
                v = __builtin_shuffle(v, v, m);
                memcpy(d + 4 * p, &v, 16);
            }
            d += 4 * L;
        }
        if (cg->kw % 4) interleave4(d, plane, plane + D, plane + 2 * D, plane + 3 * D, L);
    }
}

void xb_sh4_plan(const xb_conv_geom *cg, int64_t *xoff, int64_t *widx) {
    const int64_t Wp = xb_padded_w(cg), L = xb_sh4_words(cg), D = cg->dh * Wp;
    const int64_t full = xb_sh4_full(cg), na = xb_sh4_arrays(cg), kh = cg->kh, kw = cg->kw;
    int64_t q = 0;
    for (int64_t c = 0; c < cg->cin_g; c++) {
        const int64_t hbase = 4 * c * na * L, vbase = hbase + (full > 0 ? 4 * L : 0);
        for (int64_t i = 0; i < kh; i++)
            for (int64_t j = 0; j < full; j++, q++) {
                xoff[q] = hbase + 4 * (i * D + 4 * j);
                for (int t = 0; t < 4; t++) widx[4 * q + t] = (c * kh + i) * kw + 4 * j + t;
            }
        for (int64_t col = 4 * full; col < kw; col++)
            for (int64_t v = 0; 4 * v < kh; v++, q++) {
                xoff[q] = vbase + 4 * (4 * v * D + col);
                for (int t = 0; t < 4; t++)
                    widx[4 * q + t] = 4 * v + t < kh ? (c * kh + 4 * v + t) * kw + col : -1;
            }
    }
}
