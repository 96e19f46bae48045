#include "im2col_packed.h"

#include <string.h>

#include "igemm.h"

void xb_pad_border_u8(const xb_conv_geom *cg, int64_t channels, uint8_t value, uint8_t *xpad) {
    const int64_t Hp = xb_padded_h(cg), Wp = xb_padded_w(cg);
    for (int64_t c = 0; c < channels; c++) {
        uint8_t *pl = xpad + c * Hp * Wp;
        memset(pl, value, (size_t)(cg->pt * Wp));
        memset(pl + (cg->pt + cg->h) * Wp, value, (size_t)(cg->pb * Wp));
        if (cg->pl == 0 && cg->pr == 0) continue;
        for (int64_t y = cg->pt; y < cg->pt + cg->h; y++) {
            memset(pl + y * Wp, value, (size_t)cg->pl);
            memset(pl + y * Wp + cg->pl + cg->w, value, (size_t)cg->pr);
        }
    }
}

void xb_pad_copy_u8(const xb_conv_geom *cg, int64_t channels, const uint8_t *x, uint8_t flip,
                    uint8_t *xpad) {
    const int64_t Hp = xb_padded_h(cg), Wp = xb_padded_w(cg), H = cg->h, W = cg->w;
    for (int64_t c = 0; c < channels; c++)
        for (int64_t y = 0; y < H; y++) {
            const uint8_t *s = x + (c * H + y) * W;
            uint8_t *d = xpad + (c * Hp + y + cg->pt) * Wp + cg->pl;
            if (flip)
                for (int64_t i = 0; i < W; i++) d[i] = s[i] ^ flip;
            else
                memcpy(d, s, (size_t)W);
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

void xb_im2col_u8_packed(const xb_conv_geom *cg, const uint8_t *xpad, uint8_t *xp) {
    const int64_t Hp = xb_padded_h(cg), Wp = xb_padded_w(cg);
    const int64_t HO = cg->hout, WO = cg->wout, sh = cg->sh, sw = cg->sw;
    const int64_t K = cg->K, P = cg->P, Pp = xb_igemm_ppad(P), Kq = xb_igemm_kpad(K) / 4;
    /* Taps k >= K of the last quad read zeros: a zero row lets a partial
     * quad take the same interleaving path as the others. */
    static const uint8_t zeros[1024];
    const bool zrow_ok = WO <= (int64_t)sizeof zeros;
    for (int64_t q = 0; q < Kq; q++) {
        /* Tap t of the quad reads base[t][oy*sh*Wp + ox*sw]: every read is
         * inside the padded plane because the output size was computed
         * from the padded extent. */
        const uint8_t *base[4];
        int64_t rstep[4], cstep[4];
        bool full = true;
        for (int t = 0; t < 4; t++) {
            int64_t k = 4 * q + t;
            if (k >= K) {
                base[t] = zeros, rstep[t] = 0, cstep[t] = zrow_ok ? 1 : 0;
                full = full && zrow_ok;
                continue;
            }
            int64_t c = k / (cg->kh * cg->kw), i = (k / cg->kw) % cg->kh, j = k % cg->kw;
            base[t] = xpad + (c * Hp + i * cg->dh) * Wp + j * cg->dw;
            rstep[t] = sh * Wp;
            cstep[t] = sw;
        }
        uint8_t *dq = xp + q * Pp * 4;
        if (full && sw == 1) {
            for (int64_t oy = 0; oy < HO; oy++) {
                const int64_t o = oy * sh * Wp;
                interleave4(dq + oy * WO * 4, base[0] + o, base[1] + o, base[2] + o,
                            base[3] + o, WO);
            }
        } else {
            for (int64_t oy = 0; oy < HO; oy++) {
                uint8_t *d = dq + oy * WO * 4;
                for (int t = 0; t < 4; t++) {
                    const uint8_t *r = base[t] + oy * rstep[t];
                    for (int64_t ox = 0; ox < WO; ox++) d[ox * 4 + t] = r[ox * cstep[t]];
                }
            }
        }
        if (Pp > P) memset(dq + P * 4, 0, (size_t)(Pp - P) * 4);
    }
}
