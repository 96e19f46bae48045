/* MaxPool (ai.onnx 1, 8, 10, 11, 12): max over each window, padding ignored
 * (it never wins), with pads, strides, auto_pad, dilations (10+) and
 * ceil_mode (10+) from kernels/conv_geom.h.  f32, and u8/i8 (12+), since a
 * max is exact in any type.
 *
 * The optional Indices output (8+, i64, same shape as Y) gives the position
 * of each selected value in the input flattened as a whole, counting the
 * batch and channel offsets: ((n*C + c)*H + h)*W + w with storage_order = 0
 * (row major), (n*C + c)*H*W + w*H + h with storage_order = 1 (ONNX
 * operator spec).  Ties go to the first maximum in row-major window order,
 * as in ONNX Runtime; a window with no tap inside the input (possible with
 * dilations) gets -1. */
#include <float.h>
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "kernels/conv_geom.h"
#include "kernels/kutil.h"
#include "kernels/maxpool.h"
#include "kernels/registry.h"

typedef struct {
    xb_conv_geom cg;
    bool indices;      /* the Indices output is wanted */
    bool column_major; /* storage_order = 1 */
    /* The u8 2x2/2 pool over whole 64-byte vectors (pool2x2_u8_vbmi):
     * row pairs per block of at most 128 input bytes, 0 when not taken;
     * idx[t][j]: the input byte of block output j's tap t (top left, top
     * right, bottom left, bottom right). */
    int blk;
    uint8_t idx[4][64];
} maxpool_params;

static bool pool2x2_u8_fits(const xb_conv_geom *cg);
static void plan_pool2x2_u8_vbmi(maxpool_params *p);

xb_status xb_op_maxpool_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 1, 1, 1, n->opset >= 8 ? 2 : 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    if (x->dtype != XB_F32 && x->dtype != XB_U8 && x->dtype != XB_I8)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "MaxPool on %s tensors", xb_dtype_name(x->dtype));
    int64_t so = xb_attr_int(n, "storage_order", 0);
    if (so != 0 && so != 1)
        return xb_fail(ctx, XB_ERR_INVALID, "storage_order = %lld must be 0 or 1", (long long)so);
    maxpool_params *p = xb_calloc(ctx, 1, sizeof *p);
    if (!p) return ctx->status;
    n->params = p;
    XB_TRY(xb_conv_geom_init(&p->cg, n, &x->shape, NULL, true, ctx));
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = x->dtype;
    xb_conv_geom_out_shape(&p->cg, &y->shape);
    p->indices = n->n_out == 2 && n->out[1] >= 0;
    p->column_major = so == 1;
    if (x->dtype == XB_U8 && !p->indices) plan_pool2x2_u8_vbmi(p);
    if (p->indices) {
        xb_tensor *ind = xb_out_t(g, n, 1);
        ind->dtype = XB_I64;
        ind->shape = y->shape;
    }
    return XB_OK;
}

/* With Indices: the plain window loop, tracking where the maximum was. */
#define MAXPOOL_INDICES_BODY(T, LOWEST)                                                            \
    const int64_t H = cg->h, W = cg->w;                                                            \
    for (int64_t pl = 0; pl < cg->n * cg->cin; pl++) {                                             \
        const T *xp = x + pl * H * W;                                                              \
        for (int64_t oh = 0; oh < cg->hout; oh++) {                                                \
            int64_t hs = oh * cg->sh - cg->pt, ilo, ihi;                                           \
            xb_window_taps(hs, cg->kh, cg->dh, H, &ilo, &ihi);                                     \
            for (int64_t ow = 0; ow < cg->wout; ow++) {                                            \
                int64_t ws = ow * cg->sw - cg->pl, jlo, jhi, best = -1;                            \
                xb_window_taps(ws, cg->kw, cg->dw, W, &jlo, &jhi);                                 \
                T m = LOWEST;                                                                      \
                for (int64_t i = ilo; i < ihi; i++)                                                \
                    for (int64_t j = jlo; j < jhi; j++) {                                          \
                        int64_t h = hs + i * cg->dh, w = ws + j * cg->dw;                          \
                        T v = xp[h * W + w];                                                       \
                        if (v > m || best < 0) {                                                   \
                            m = v;                                                                 \
                            best = p->column_major ? w * H + h : h * W + w;                        \
                        }                                                                          \
                    }                                                                              \
                int64_t o = pl * cg->P + oh * cg->wout + ow;                                       \
                y[o] = m;                                                                          \
                ind[o] = best < 0 ? -1 : pl * H * W + best;                                        \
            }                                                                                      \
        }                                                                                          \
    }

static void maxpool_indices(const xb_graph *g, const xb_node *n, xb_exec *e) {
    const maxpool_params *p = n->params;
    const xb_conv_geom *cg = &p->cg;
    int64_t *ind = e->buf[n->out[1]];
    xb_dtype dt = g->tensors[n->in[0]].dtype;
    if (dt == XB_F32) {
        const float *x = e->buf[n->in[0]];
        float *y = e->buf[n->out[0]];
        MAXPOOL_INDICES_BODY(float, -FLT_MAX)
    } else if (dt == XB_U8) {
        const uint8_t *x = e->buf[n->in[0]];
        uint8_t *y = e->buf[n->out[0]];
        MAXPOOL_INDICES_BODY(uint8_t, 0)
    } else {
        const int8_t *x = e->buf[n->in[0]];
        int8_t *y = e->buf[n->out[0]];
        MAXPOOL_INDICES_BODY(int8_t, INT8_MIN)
    }
}

/* Windows fully inside the input (the interior, which for unpadded pools is
 * everything) skip the per-window tap range computation; only border
 * windows pay for xb_window_taps. */
#define MAXPOOL_BODY(T, LOWEST)                                                                    \
    const int64_t H = cg->h, W = cg->w, WO = cg->wout;                                             \
    const int64_t ekw = (cg->kw - 1) * cg->dw + 1;                                                 \
    const bool pool2x2 = cg->kh == 2 && cg->kw == 2 && cg->sh == 2 && cg->sw == 2 &&               \
                         cg->dh == 1 && cg->dw == 1;                                               \
    int64_t in_lo = (cg->pl + cg->sw - 1) / cg->sw; /* first ow with ws >= 0 */                    \
    int64_t in_hi = W - ekw + cg->pl < 0 ? 0 : (W - ekw + cg->pl) / cg->sw + 1;                   \
    if (in_hi > WO) in_hi = WO;                                                                    \
    if (in_lo > in_hi) in_lo = in_hi;                                                              \
    for (int64_t pl = 0; pl < cg->n * cg->cin; pl++) {                                             \
        const T *xp = x + pl * H * W;                                                              \
        T *yp = y + pl * cg->P;                                                                    \
        for (int64_t oh = 0; oh < cg->hout; oh++) {                                                \
            int64_t hs = oh * cg->sh - cg->pt, ilo, ihi;                                           \
            xb_window_taps(hs, cg->kh, cg->dh, H, &ilo, &ihi);                                     \
            T *yr = yp + oh * WO;                                                                  \
            for (int64_t ow = 0; ow < WO; ow++) {                                                  \
                if (ow == in_lo && in_lo < in_hi) {                                                \
                    if (pool2x2 && ihi - ilo == 2) {                                               \
                        /* The LeNet/VGG 2x2 stride-2 pool: a form the compiler      */            \
                        /* vectorises (x > y ? x : y is exactly the SIMD max).       */            \
                        const T *r0 = xp + hs * W + (2 * in_lo - cg->pl), *r1 = r0 + W;            \
                        T *yo = yr + in_lo;                                                        \
                        for (int64_t q = 0; q < in_hi - in_lo; q++) {                              \
                            T a = r0[2 * q] > r0[2 * q + 1] ? r0[2 * q] : r0[2 * q + 1];           \
                            T b = r1[2 * q] > r1[2 * q + 1] ? r1[2 * q] : r1[2 * q + 1];           \
                            yo[q] = a > b ? a : b;                                                 \
                        }                                                                          \
                        ow = in_hi;                                                                \
                    }                                                                              \
                    for (; ow < in_hi; ow++) {                                                     \
                        const int64_t ws = ow * cg->sw - cg->pl;                                   \
                        T m = LOWEST;                                                              \
                        for (int64_t i = ilo; i < ihi; i++) {                                      \
                            const T *xr = xp + (hs + i * cg->dh) * W + ws;                         \
                            for (int64_t j = 0; j < cg->kw; j++) {                                 \
                                T v = xr[j * cg->dw];                                              \
                                if (v > m) m = v;                                                  \
                            }                                                                      \
                        }                                                                          \
                        yr[ow] = m;                                                                \
                    }                                                                              \
                    if (ow >= WO) break;                                                           \
                }                                                                                  \
                int64_t ws = ow * cg->sw - cg->pl, jlo, jhi;                                       \
                xb_window_taps(ws, cg->kw, cg->dw, W, &jlo, &jhi);                                 \
                T m = LOWEST;                                                                      \
                for (int64_t i = ilo; i < ihi; i++) {                                              \
                    /* An index, not a pointer: it is negative in the left pad. */                 \
                    const int64_t base = (hs + i * cg->dh) * W + ws;                               \
                    for (int64_t j = jlo; j < jhi; j++) {                                          \
                        T v = xp[base + j * cg->dw];                                               \
                        if (v > m) m = v;                                                          \
                    }                                                                              \
                }                                                                                  \
                yr[ow] = m;                                                                        \
            }                                                                                      \
        }                                                                                          \
    }

/* The 2x2 stride-2 pool of u8 codes with every window inside the input
 * (what a quantized LeNet-5 or VGG runs between layers,
 * frontend/chain_qcodes.c), in 16-byte vectors: a vertical byte max, then
 * the max of each byte pair as 16-bit lanes, packed back to bytes.  Rows
 * of 14 or 5 outputs are too short for the loop vectoriser, so each row
 * takes chunks of 8 (or 4) outputs, the last one overlapping its
 * predecessor (a max is idempotent); x86-64 always has SSE2. */
static bool pool2x2_u8_fits(const xb_conv_geom *cg) {
    return cg->kh == 2 && cg->kw == 2 && cg->sh == 2 && cg->sw == 2 && cg->dh == 1 &&
           cg->dw == 1 && cg->pt == 0 && cg->pl == 0 && 2 * cg->hout <= cg->h &&
           2 * cg->wout <= cg->w && cg->wout >= 4;
}

#if defined(__SSE2__)
/* n (4 or 8) outputs from 2n bytes of rows r0 and r1. */
static inline void pool8_u8(const uint8_t *r0, const uint8_t *r1, uint8_t *d, int n) {
    __m128i a, b;
    if (n == 8) {
        a = _mm_loadu_si128((const __m128i *)r0), b = _mm_loadu_si128((const __m128i *)r1);
    } else {
        a = _mm_loadl_epi64((const __m128i *)r0), b = _mm_loadl_epi64((const __m128i *)r1);
    }
    const __m128i v = _mm_max_epu8(a, b);
    const __m128i m = _mm_max_epi16(_mm_and_si128(v, _mm_set1_epi16(0xff)), _mm_srli_epi16(v, 8));
    const __m128i p = _mm_packus_epi16(m, m);
    if (n == 8) {
        _mm_storel_epi64((__m128i *)d, p);
    } else {
        int32_t w = _mm_cvtsi128_si32(p);
        memcpy(d, &w, 4);
    }
}
#endif

/* When the input is exactly twice the output in both directions (LeNet-5's
 * 28x28 -> 14x14 and 10x10 -> 5x5, VGG's 32 -> 16 ...), output row oy of
 * plane pl reads the 2W input bytes right after those of the row before,
 * across planes too: the whole tensor is one stream of row pairs of 4 WO
 * bytes, each giving WO outputs.  A block of `blk` row pairs (at most 128
 * bytes: two 64-byte vectors) then gives up to 64 outputs with four byte
 * permutations (AVX-512 VBMI, one per window tap) and three maxima, where
 * the 16-byte chunks take a load pair, four operations and a store per 8
 * (LeNet-5's 5-wide rows: per 4) outputs. */
static void plan_pool2x2_u8_vbmi(maxpool_params *p) {
    p->blk = 0;
#if defined(__x86_64__) && defined(__GNUC__)
    const xb_conv_geom *cg = &p->cg;
    if (!pool2x2_u8_fits(cg) || cg->h != 2 * cg->hout || cg->w != 2 * cg->wout ||
        cg->wout > 32 || !__builtin_cpu_supports("avx512bw") ||
        !__builtin_cpu_supports("avx512vbmi"))
        return;
    const int64_t WO = cg->wout, G = 128 / (4 * WO);
    for (int64_t j = 0; j < 64; j++) {
        /* lanes past the block's G * WO outputs are never stored */
        const int64_t g = j / WO < G ? j / WO : 0, o = j % WO, at = g * 4 * WO + 2 * o;
        p->idx[0][j] = (uint8_t)at, p->idx[1][j] = (uint8_t)(at + 1);
        p->idx[2][j] = (uint8_t)(at + 2 * WO), p->idx[3][j] = (uint8_t)(at + 2 * WO + 1);
    }
    p->blk = (int)G;
#endif
}

bool xb_maxpool_u8_vbmi(const xb_node *n) {
    const maxpool_params *p = n->params;
    return p && p->blk > 0;
}

#if defined(__x86_64__) && defined(__GNUC__)
/* Masked loads read no byte past the stream's end (and cannot fault on the
 * lanes they leave out). */
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) static void
pool2x2_u8_vbmi(const maxpool_params *p, const uint8_t *x, uint8_t *y) {
    const xb_conv_geom *cg = &p->cg;
    const int64_t WO = cg->wout, R = cg->n * cg->cin * cg->hout, G = p->blk;
    const __m512i i0 = _mm512_loadu_si512(p->idx[0]), i1 = _mm512_loadu_si512(p->idx[1]);
    const __m512i i2 = _mm512_loadu_si512(p->idx[2]), i3 = _mm512_loadu_si512(p->idx[3]);
    for (int64_t r = 0; r < R; r += G) {
        const int64_t in = ((R - r < G ? R - r : G)) * 4 * WO, out = in / 4;
        const uint8_t *s = x + r * 4 * WO;
        const __mmask64 m0 = in >= 64 ? ~(__mmask64)0 : ~(__mmask64)0 >> (64 - in);
        const __mmask64 m1 = in >= 128 ? ~(__mmask64)0 : in > 64 ? ~(__mmask64)0 >> (128 - in) : 0;
        const __m512i a = _mm512_maskz_loadu_epi8(m0, s), b = _mm512_maskz_loadu_epi8(m1, s + 64);
        const __m512i top = _mm512_max_epu8(_mm512_permutex2var_epi8(a, i0, b),
                                            _mm512_permutex2var_epi8(a, i1, b));
        const __m512i bot = _mm512_max_epu8(_mm512_permutex2var_epi8(a, i2, b),
                                            _mm512_permutex2var_epi8(a, i3, b));
        _mm512_mask_storeu_epi8(y + r * WO, ~(__mmask64)0 >> (64 - out),
                                _mm512_max_epu8(top, bot));
    }
}
#endif

static void pool2x2_u8(const xb_conv_geom *cg, const uint8_t *x, uint8_t *y) {
    const int64_t H = cg->h, W = cg->w, HO = cg->hout, WO = cg->wout;
    for (int64_t pl = 0; pl < cg->n * cg->cin; pl++)
        for (int64_t oy = 0; oy < HO; oy++) {
            const uint8_t *r0 = x + (pl * H + 2 * oy) * W, *r1 = r0 + W;
            uint8_t *d = y + (pl * HO + oy) * WO;
#if defined(__SSE2__)
            const int c = WO >= 8 ? 8 : 4;
            for (int64_t o = 0;; o += c) {
                if (o + c > WO) o = WO - c;
                pool8_u8(r0 + 2 * o, r1 + 2 * o, d + o, c);
                if (o + c >= WO) break;
            }
#else
            for (int64_t o = 0; o < WO; o++) {
                uint8_t a = r0[2 * o] > r0[2 * o + 1] ? r0[2 * o] : r0[2 * o + 1];
                uint8_t b = r1[2 * o] > r1[2 * o + 1] ? r1[2 * o] : r1[2 * o + 1];
                d[o] = a > b ? a : b;
            }
#endif
        }
}

xb_status xb_op_maxpool_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    const maxpool_params *mp = n->params;
    if (mp->indices) {
        maxpool_indices(g, n, e);
        return XB_OK;
    }
    const xb_conv_geom *cg = &mp->cg;
    xb_dtype dt = g->tensors[n->in[0]].dtype;
    if (dt == XB_F32) {
        const float *x = e->buf[n->in[0]];
        float *y = e->buf[n->out[0]];
        /* A window whose taps all fall in padding (dilated windows can) gives
         * the lowest finite float, as ONNX Runtime does. */
        MAXPOOL_BODY(float, -FLT_MAX)
    } else if (dt == XB_U8) {
        const uint8_t *x = e->buf[n->in[0]];
        uint8_t *y = e->buf[n->out[0]];
#if defined(__x86_64__) && defined(__GNUC__)
        if (mp->blk > 0) {
            pool2x2_u8_vbmi(mp, x, y);
            return XB_OK;
        }
#endif
        if (pool2x2_u8_fits(cg)) {
            pool2x2_u8(cg, x, y);
            return XB_OK;
        }
        MAXPOOL_BODY(uint8_t, 0)
    } else {
        const int8_t *x = e->buf[n->in[0]];
        int8_t *y = e->buf[n->out[0]];
        MAXPOOL_BODY(int8_t, INT8_MIN)
    }
    return XB_OK;
}
