/* Exact histogram in bit-sliced counters (hist.h).
 *
 * A group is 256 values as 16 vectors of 16 lanes.  Each value v with
 * u = v - base - 32 w < 32 sets bit u of its lane's one-hot word in window
 * w; Harley-Seal carry-save adders (CSA: a + b + c = sum + 2 carry,
 * bitwise) fold the 16 one-hot words of a lane into the running planes
 * ones, twos, fours, eights (each one bit per (lane, value)) and one carry
 * of weight 16; four groups' carries go through two more CSA levels
 * (planes of weight 16 and 32) and their weight-64 carry is added into the
 * binary counter big[] (XB_HIST_BIG bits).  So after any number of groups,
 * lane i's count of value base + 32 w + b is
 *   sum_p weight_p x bit b of plane p, lane i,
 * read out (folded into h) when big could overflow and at the end.  A
 * group costs about 2.3 ternary-logic operations per vector and window
 * instead of 16 scalar read-modify-writes of a histogram word.  Two windows
 * of 32 values hold 93-98% of the sums.  The values outside both (level 0)
 * are compressed out of the vector and, with AVX-512, counted in whole
 * groups by a second level of the same counters, [base + 64, base + 128)
 * (a third window over all values cost as much as it saved on ResNet-20
 * and VGG-small; the second level sees only the 5% outliers); what is
 * outside that (0.2%) is counted one by one into h. */
#include <string.h>

#include "backend/crossbar/bitsums_simd.h"
#include "backend/crossbar/hist.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define XB_HIST_X86 1
#endif

void xb_hist_init(xb_hist_bits *b, int32_t base, uint32_t *h, int32_t stride, int32_t *ovf) {
    b->stride = stride;
    for (int lvl = 0; lvl < 2; lvl++) {
        memset(b->lv[lvl].pl, 0, sizeof b->lv[lvl].pl);
        b->lv[lvl].groups = 0;
        b->lv[lvl].base = base + lvl * XB_HIST_NWIN * XB_HIST_WIN;
    }
    b->npend = 0;
    b->ovf = ovf;
    b->novf = 0;
    b->cap = XB_HIST_CAP;
    b->h = h;
}

/* The planes into h, then empty.  Per plane the lanes' bits are counted
 * per bin first (a loop over the 32 bins that vectorises, no branch per
 * set bit). */
static void fold(xb_hist_bits *b, int lvl) {
    xb_hist_level *L = &b->lv[lvl];
    for (int w = 0; w < XB_HIST_NWIN; w++) {
        uint32_t cnt[XB_HIST_WIN] = {0};
        for (int p = 0; p < XB_HIST_PLANES; p++) {
            uint32_t any = 0; /* the high planes of a short call are empty */
            for (int i = 0; i < XB_HIST_LANES; i++) any |= L->pl[w][p][i];
            if (!any) continue;
            uint32_t wt = p < 6 ? 1u << p : 64u << (p - 6), c[XB_HIST_WIN] = {0};
            for (int i = 0; i < XB_HIST_LANES; i++)
                for (int k = 0; k < XB_HIST_WIN; k++) c[k] += (L->pl[w][p][i] >> k) & 1;
            for (int k = 0; k < XB_HIST_WIN; k++) cnt[k] += c[k] * wt;
        }
        for (int k = 0; k < XB_HIST_WIN; k++)
            if (cnt[k]) b->h[L->base + w * XB_HIST_WIN + k] += cnt[k];
    }
    memset(L->pl, 0, sizeof L->pl);
    L->groups = 0;
}

/* The Harley-Seal network over 16 inputs IN(0) .. IN(15) (IN evaluated in
 * order, once each), with CSA(h, l, a, b, c): l = a ^ b ^ c, h = majority.
 * Afterwards ones + 2 twos + 4 fours + 8 eights + 16 sixteens equals the
 * old planes' total plus the inputs, per bit. */
#define HS_NETWORK(T)                                                                              \
    do {                                                                                           \
        T twosA, twosB, foursA, foursB, eightsA, eightsB;                                          \
        CSA(twosA, ones, ones, IN(0), IN(1));                                                      \
        CSA(twosB, ones, ones, IN(2), IN(3));                                                      \
        CSA(foursA, twos, twos, twosA, twosB);                                                     \
        CSA(twosA, ones, ones, IN(4), IN(5));                                                      \
        CSA(twosB, ones, ones, IN(6), IN(7));                                                      \
        CSA(foursB, twos, twos, twosA, twosB);                                                     \
        CSA(eightsA, fours, fours, foursA, foursB);                                                \
        CSA(twosA, ones, ones, IN(8), IN(9));                                                      \
        CSA(twosB, ones, ones, IN(10), IN(11));                                                    \
        CSA(foursA, twos, twos, twosA, twosB);                                                     \
        CSA(twosA, ones, ones, IN(12), IN(13));                                                    \
        CSA(twosB, ones, ones, IN(14), IN(15));                                                    \
        CSA(foursB, twos, twos, twosA, twosB);                                                     \
        CSA(eightsB, fours, fours, foursA, foursB);                                                \
        CSA(sixteens, eights, eights, eightsA, eightsB);                                           \
    } while (0)

/* --- portable: the same network per lane on 32-bit words ----------------- */

#define CSA(h, l, a, b, c)                                                                         \
    do {                                                                                           \
        uint32_t a_ = (a), b_ = (b), c_ = (c);                                                     \
        h = (a_ & b_) | ((a_ ^ b_) & c_);                                                          \
        l = a_ ^ b_ ^ c_;                                                                          \
    } while (0)
#define IN(j) x[j]

/* One lane's 16 one-hot words of window w into its planes: the weight-16
 * carries rippled through the planes of weight 16, 32 and the binary
 * counter (the AVX-512 kernel adds four groups' carries at a time; the
 * planes mean the same). */
static void lane_add(uint32_t pl[XB_HIST_PLANES][XB_HIST_LANES], int i, const uint32_t *x) {
    uint32_t ones = pl[0][i], twos = pl[1][i], fours = pl[2][i], eights = pl[3][i], sixteens;
    HS_NETWORK(uint32_t);
    pl[0][i] = ones, pl[1][i] = twos, pl[2][i] = fours, pl[3][i] = eights;
    for (int k = 4; k < XB_HIST_PLANES; k++) {
        uint32_t t = pl[k][i] & sixteens;
        pl[k][i] ^= sixteens;
        sixteens = t;
    }
}

static void groups_portable(xb_hist_bits *b, const int32_t *Sp, const int32_t *Sn, int64_t ng) {
    xb_hist_level *L = &b->lv[0]; /* level 0 only: its outliers one by one */
    uint32_t base = (uint32_t)L->base;
    for (int64_t g = 0; g < ng; g++) {
        const int32_t *p = Sp + g * XB_HIST_BLOCK, *q = Sn ? Sn + g * XB_HIST_BLOCK : NULL;
        for (int i = 0; i < XB_HIST_LANES; i++) {
            uint32_t x[XB_HIST_NWIN][16];
            for (int j = 0; j < 16; j++) {
                int32_t v = q ? p[j * 16 + i] - q[j * 16 + i] : p[j * 16 + i];
                uint32_t u = (uint32_t)v - base;
                for (int w = 0; w < XB_HIST_NWIN; w++) {
                    uint32_t uw = u - (uint32_t)(w * XB_HIST_WIN);
                    x[w][j] = uw < XB_HIST_WIN ? 1u << uw : 0;
                }
                if (u >= XB_HIST_NWIN * XB_HIST_WIN) b->h[v + i * b->stride]++;
            }
            for (int w = 0; w < XB_HIST_NWIN; w++) lane_add(L->pl[w], i, x[w]);
        }
        if (++L->groups >= b->cap) fold(b, 0);
    }
}
#undef CSA
#undef IN

/* --- AVX-512F ---------------------------------------------------------- */

#ifdef XB_HIST_X86
#define XB_HIST_TARGET __attribute__((target("avx512f")))

/* One input vector: its one-hot words in window w (VPSLLVD gives 0 for
 * counts >= 32: values below the window wrap to large counts); in window 0
 * also the values outside the level's windows, compressed into ovf (level
 * 0: as they are, for level 1; level 1: plus their lane's row offset voff,
 * to be counted one by one). */
XB_HIST_TARGET static inline __attribute__((always_inline)) __m512i
onehot(const int32_t *p, const int32_t *q, __m512i vbase, __m512i voff, int lvl, int w, bool det,
       bool zb, int32_t *ovf, int64_t *no) {
    __m512i v = _mm512_loadu_si512((const void *)p);
    if (q) v = _mm512_sub_epi32(v, _mm512_loadu_si512((const void *)q));
    /* vbase: base + 32 w; zb: it is 0 (window 0 of unsigned sums), no
     * subtraction */
    __m512i u = zb ? v : _mm512_sub_epi32(v, vbase);
    if (w == 0 && det) {
        __mmask16 out = _mm512_cmpge_epu32_mask(u, _mm512_set1_epi32(XB_HIST_NWIN * XB_HIST_WIN));
        /* always stored (no branch on the mask): the next vector's outliers
         * overwrite the slots past this one's */
        _mm512_storeu_si512((void *)(ovf + *no),
                            _mm512_maskz_compress_epi32(out, lvl ? _mm512_add_epi32(v, voff) : v));
        *no += __builtin_popcount(out);
    }
    return _mm512_sllv_epi32(_mm512_set1_epi32(1), u);
}


#define CSA(h, l, a, b, c)                                                                         \
    do {                                                                                           \
        __m512i a_ = (a), b_ = (b), c_ = (c);                                                      \
        h = _mm512_ternarylogic_epi32(a_, b_, c_, 0xe8);                                           \
        l = _mm512_ternarylogic_epi32(a_, b_, c_, 0x96);                                           \
    } while (0)
#define IN(j) onehot(p + (j) * 16, q ? q + (j) * 16 : NULL, vbase, voff, lvl, w, det, zb, ovf, &no)

/* One group's 16 vectors into ones .. eights; returns the weight-16
 * carries. */
XB_HIST_TARGET static inline __attribute__((always_inline)) __m512i
group16(__m512i *o, __m512i *t, __m512i *f, __m512i *e, const int32_t *p, const int32_t *q,
        __m512i vbase, __m512i voff, int lvl, int w, bool det, bool zb, int32_t *ovf, int64_t *nop) {
    __m512i ones = *o, twos = *t, fours = *f, eights = *e, sixteens;
    int64_t no = *nop;
    HS_NETWORK(__m512i);
    *o = ones, *t = twos, *f = fours, *e = eights, *nop = no;
    return sixteens;
}

/* x (weight 64) rippled into the binary counter. */
#define RIPPLE(x)                                                                                  \
    do {                                                                                           \
        __m512i c_ = (x);                                                                          \
        for (int k = 0; k < XB_HIST_BIG; k++) {                                                    \
            __m512i t_ = _mm512_and_si512(big[k], c_);                                             \
            big[k] = _mm512_xor_si512(big[k], c_);                                                 \
            c_ = t_;                                                                               \
        }                                                                                          \
    } while (0)

static void groups_avx512(xb_hist_bits *b, int lvl, const int32_t *Sp, const int32_t *Sn,
                          int64_t ng);

/* Level 0's outliers: whole groups of b->ovf into level 1, the rest moved
 * to the front; returns the new fill. */
static int64_t ovf_groups(xb_hist_bits *b, int64_t no) {
    int64_t ng = no / XB_HIST_BLOCK, rest = no - ng * XB_HIST_BLOCK;
    groups_avx512(b, 1, b->ovf, NULL, ng);
    memmove(b->ovf, b->ovf + ng * XB_HIST_BLOCK, (size_t)rest * sizeof *b->ovf);
    return rest;
}

/* Level 1's outliers one by one (lane rows: no increment waits on the
 * previous one's store to the same word). */
static void count_each(uint32_t *h, const int32_t *v, int64_t n) {
    for (int64_t i = 0; i < n; i++) h[v[i]]++;
}

/* ng groups (ng + groups <= cap) into window w of level lvl, its planes
 * kept in registers meanwhile; window 0 also collects the outliers (level
 * 0 into b->ovf for level 1, level 1 into a local buffer counted one by
 * one).  Four groups' carries go through two more carry-save levels
 * (weights 16, 32) before one ripple into the binary counter: a quarter of
 * the ripples. */
XB_HIST_TARGET static inline __attribute__((always_inline)) void
window_avx512(xb_hist_bits *b, int lvl, int w, bool det, bool zb, const int32_t *Sp, const int32_t *Sn,
              int64_t ng) {
    xb_hist_level *L = &b->lv[lvl];
    const __m512i vbase = _mm512_set1_epi32(L->base + w * XB_HIST_WIN),
                  voff = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                                              12, 13, 14, 15),
                                            _mm512_set1_epi32(b->stride));
    /* level 1's outliers collected over many groups, then counted in one
     * loop (a loop per group mispredicts its exit about once a group) */
    int32_t own[XB_HIST_OVF_BUF]; /* level 1's outliers: the same cap as level 0's */
    int32_t *ovf = lvl ? own : b->ovf;
    int64_t no = lvl ? 0 : b->novf, lim = XB_HIST_OVF_CAP;
    uint32_t(*pl)[XB_HIST_LANES] = L->pl[w];
    __m512i P[6], big[XB_HIST_BIG];
    for (int k = 0; k < 6; k++) P[k] = _mm512_loadu_si512((const void *)pl[k]);
    for (int k = 0; k < XB_HIST_BIG; k++) big[k] = _mm512_loadu_si512((const void *)pl[6 + k]);
    const int64_t gs = XB_HIST_BLOCK; /* values per group */
#define GROUP(g)                                                                                   \
    group16(&P[0], &P[1], &P[2], &P[3], Sp + (g) * gs, Sn ? Sn + (g) * gs : NULL, vbase, voff,      \
            lvl, w, det, zb, ovf, &no)
    int64_t g = 0;
    for (; g + 4 <= ng; g += 4) {
        __m512i t32a, t32b, f64;
        CSA(t32a, P[4], P[4], GROUP(g), GROUP(g + 1));
        CSA(t32b, P[4], P[4], GROUP(g + 2), GROUP(g + 3));
        CSA(f64, P[5], P[5], t32a, t32b);
        RIPPLE(f64);
        if (w == 0 && det && no > lim) {
            if (lvl) {
                count_each(b->h, ovf, no);
                no = 0;
            } else {
                no = ovf_groups(b, no);
            }
        }
    }
    for (; g < ng; g++) { /* the last groups one at a time: half adders */
        __m512i x = GROUP(g), c = _mm512_and_si512(P[4], x);
        P[4] = _mm512_xor_si512(P[4], x);
        x = _mm512_and_si512(P[5], c);
        P[5] = _mm512_xor_si512(P[5], c);
        RIPPLE(x);
    }
#undef GROUP
    for (int k = 0; k < 6; k++) _mm512_storeu_si512((void *)pl[k], P[k]);
    for (int k = 0; k < XB_HIST_BIG; k++) _mm512_storeu_si512((void *)pl[6 + k], big[k]);
    if (w == 0 && det && lvl) count_each(b->h, ovf, no);
    if (w == 0 && det && !lvl) /* at most XB_HIST_OVF_CAP left for the next call */
        b->novf = no > lim ? ovf_groups(b, no) : no;
}

#define WINDOW(lvl, w, det, zb, name)                                                              \
    XB_HIST_TARGET static void name(xb_hist_bits *b, const int32_t *Sp, const int32_t *Sn,        \
                                    int64_t ng) {                                                  \
        window_avx512(b, lvl, w, det, zb, Sp, Sn, ng);                                             \
    }
WINDOW(0, 0, true, false, window00_avx512)
WINDOW(0, 1, true, false, window01_avx512)
WINDOW(1, 0, true, false, window10_avx512)
WINDOW(1, 1, true, false, window11_avx512)
/* window 0 of values known to be below base + 64: no outlier test */
WINDOW(0, 0, false, false, window00n_avx512)
/* the same two with base 0 (unsigned sums) */
WINDOW(0, 0, true, true, window00z_avx512)
WINDOW(0, 0, false, true, window00nz_avx512)
#undef WINDOW

/* Window by window over runs of groups that fit the big counters (the data
 * is read once per window: each pass keeps its planes in registers). */
static void groups_avx512(xb_hist_bits *b, int lvl, const int32_t *Sp, const int32_t *Sn,
                          int64_t ng) {
    _Static_assert(XB_HIST_NWIN == 2, "one pass per window");
    xb_hist_level *L = &b->lv[lvl];
    while (ng > 0) {
        int64_t m = b->cap - L->groups < ng ? b->cap - L->groups : ng;
        if (lvl) {
            window10_avx512(b, Sp, Sn, m);
            window11_avx512(b, Sp, Sn, m);
        } else {
            if (L->base == 0)
                window00z_avx512(b, Sp, Sn, m);
            else
                window00_avx512(b, Sp, Sn, m);
            window01_avx512(b, Sp, Sn, m);
        }
        Sp += m * XB_HIST_BLOCK;
        if (Sn) Sn += m * XB_HIST_BLOCK;
        ng -= m;
        L->groups += m;
        if (L->groups >= b->cap) fold(b, lvl);
    }
}

static void groups0_avx512(xb_hist_bits *b, const int32_t *Sp, const int32_t *Sn, int64_t ng) {
    groups_avx512(b, 0, Sp, Sn, ng);
}
#undef CSA
#undef IN
#endif

bool xb_hist_avx512(void) {
#ifdef XB_HIST_X86
    return __builtin_cpu_supports("avx512f");
#else
    return false;
#endif
}

typedef void (*groups_fn)(xb_hist_bits *, const int32_t *, const int32_t *, int64_t);

/* Whole groups straight from Sp / Sn, the rest through b->pend. */
static void add(xb_hist_bits *b, const int32_t *Sp, const int32_t *Sn, int64_t n, groups_fn fn) {
    int64_t i = 0;
    if (b->npend) {
        i = XB_HIST_BLOCK - b->npend < n ? XB_HIST_BLOCK - b->npend : n;
        if (Sn)
            for (int64_t k = 0; k < i; k++) b->pend[b->npend + k] = Sp[k] - Sn[k];
        else /* a vector copy (the fused sums' calls leave up to 255 values) */
            memcpy(b->pend + b->npend, Sp, (size_t)i * sizeof *Sp);
        b->npend += i;
        if (b->npend < XB_HIST_BLOCK) return;
        fn(b, b->pend, NULL, 1);
        b->npend = 0;
    }
    int64_t ng = (n - i) / XB_HIST_BLOCK;
    if (ng) fn(b, Sp + i, Sn ? Sn + i : NULL, ng);
    i += ng * XB_HIST_BLOCK;
    if (Sn) {
        for (; i < n; i++) b->pend[b->npend++] = Sp[i] - Sn[i];
    } else {
        memcpy(b->pend + b->npend, Sp + i, (size_t)(n - i) * sizeof *Sp);
        b->npend += n - i;
    }
}

void xb_hist_add_portable(xb_hist_bits *b, const int32_t *Sp, const int32_t *Sn, int64_t n) {
    add(b, Sp, Sn, n, groups_portable);
}

void xb_hist_add(xb_hist_bits *b, const int32_t *Sp, const int32_t *Sn, int64_t n) {
#ifdef XB_HIST_X86
    if (xb_hist_avx512()) {
        add(b, Sp, Sn, n, groups0_avx512);
        return;
    }
#endif
    add(b, Sp, Sn, n, groups_portable);
}

#ifdef XB_HIST_X86
/* Values buffered before they are counted (16 KB: stays in L1). */
#define FUSE_VALUES 4096

/* Positions sorted by their digit sum X1 (the rows set in their mask),
 * which bounds every column sum: S <= X1 x top, top = 2^planes - 1 the
 * largest level the planes hold.  Class A: S < 32 (window 0 only, no
 * outlier test), B: S < 64 (both windows, no outlier test), C: any (the
 * full counters).  X1 = 0 positions hold only zero sums and are counted as
 * such.  (ResNet-20's profile images: 8% of the positions the runs held
 * were X1 = 0 and 46% class A; LeNet-5 27% and 44%.) */
enum { CLS_Z, CLS_A, CLS_B, CLS_C, NCLS };
#define CLS_POS 256 /* positions a class buffers before its sums (a multiple of 16) */

/* Whole groups of buf[0..n) counted as class cls allows, the rest moved to
 * the front; returns how many are left. */
static int64_t cls_count(xb_hist_bits *b, int cls, int32_t *buf, int64_t n) {
    int64_t ng = n / XB_HIST_BLOCK, rest = n - ng * XB_HIST_BLOCK;
    xb_hist_level *L = &b->lv[0];
    if (cls == CLS_C) {
        groups0_avx512(b, buf, NULL, ng);
    } else {
        const int32_t *p = buf;
        for (int64_t left = ng; left > 0;) {
            int64_t m = b->cap - L->groups < left ? b->cap - L->groups : left;
            if (L->base == 0)
                window00nz_avx512(b, p, NULL, m);
            else
                window00n_avx512(b, p, NULL, m);
            if (cls == CLS_B) window01_avx512(b, p, NULL, m);
            p += m * XB_HIST_BLOCK;
            left -= m;
            L->groups += m;
            if (L->groups >= b->cap) fold(b, 0);
        }
    }
    memmove(buf, buf + ng * XB_HIST_BLOCK, (size_t)rest * sizeof *buf);
    return rest;
}

/* bitsums.c's col_sums over the K mask halves Mz that have a row set in
 * some position (32-bit word hw[k] of each plane's 2W words): a zero half
 * adds popcount(0) = 0.  Blocks of fewer than 128 rows (ResNet-20's 72 and
 * 96) and runs of sparse digits leave halves empty. */
XB_BITS_TARGET static inline __attribute__((always_inline)) __m512i
sums_nz(const uint64_t *lc, int planes, int64_t W, const __m512i *Mz, const int *hw, int K) {
    __m512i a = _mm512_setzero_si512();
    for (int p = planes - 1; p >= 0; p--) {
        a = _mm512_add_epi32(a, a);
        for (int k = 0; k < K; k++) {
            int32_t half; /* a broadcast from memory, as col_sums */
            memcpy(&half, (const char *)(lc + p * W) + 4 * hw[k], sizeof half);
            a = _mm512_add_epi32(
                a, _mm512_popcnt_epi32(_mm512_and_si512(Mz[k], _mm512_set1_epi32(half))));
        }
    }
    return a;
}

/* One run's C columns (K constant where called) appended to buf[n..],
 * counted as class cls whenever the buffer is full; returns the new fill. */
XB_BITS_TARGET static inline __attribute__((always_inline)) int64_t
run_cols(xb_hist_bits *b, int cls, const uint64_t *lb, int64_t C, int planes, int64_t W,
         const __m512i *Mz, const int *hw, int K, int64_t wd, int32_t *buf, int64_t n) {
    for (int64_t c = 0; c < C; c++) {
        if (n + wd > FUSE_VALUES) n = cls_count(b, cls, buf, n);
        _mm512_storeu_si512((void *)(buf + n), sums_nz(lb + c * planes * W, planes, W, Mz, hw, K));
        n += wd;
    }
    return n;
}

/* The column sums of class cls's np positions (masks m[w][i]), 16 lanes a
 * run, into an aligned L1 buffer with full 16-lane stores (a last run of
 * wd < 16 lanes is stored packed: each column's store overwrites the
 * previous one's lanes past wd), counted in whole groups as the class
 * allows; the last partial group through add (every value tested).  No
 * masked stores into the strided [C][nsel] rows, no re-read from L2.
 * PLANES and W are compile-time where the callers pass constants. */
XB_BITS_TARGET static inline __attribute__((always_inline)) void
cls_sums(xb_hist_bits *b, int cls, const uint64_t *lb, int64_t C, int planes, int64_t W,
         uint64_t (*m)[CLS_POS + 32], int64_t np, int32_t *buf) {
    int64_t n = 0;
    for (int64_t w = 0; w < W && np % 16; w++) /* lanes past np: no rows (a last call) */
        memset(m[w] + np, 0, 16 * sizeof(uint64_t));
    for (int64_t i0 = 0; i0 < np; i0 += 16) {
        int64_t wd = np - i0 < 16 ? np - i0 : 16;
        __m512i M[2][2], Mz[4];
        int hw[4], K = 0;
        for (int64_t w = 0; w < W; w++) {
            halves(m[w] + i0, M[w]);
            for (int h = 0; h < 2; h++)
                if (_mm512_test_epi32_mask(M[w][h], M[w][h])) {
                    Mz[K] = M[w][h];
                    hw[K++] = (int)(2 * w + h);
                }
        }
        switch (K) {
        case 0: n = run_cols(b, cls, lb, C, planes, W, Mz, hw, 0, wd, buf, n); break;
        case 1: n = run_cols(b, cls, lb, C, planes, W, Mz, hw, 1, wd, buf, n); break;
        case 2: n = run_cols(b, cls, lb, C, planes, W, Mz, hw, 2, wd, buf, n); break;
        case 3: n = run_cols(b, cls, lb, C, planes, W, Mz, hw, 3, wd, buf, n); break;
        default: n = run_cols(b, cls, lb, C, planes, W, Mz, hw, 4, wd, buf, n); break;
        }
    }
    n = cls_count(b, cls, buf, n);
    add(b, buf, NULL, n, groups0_avx512);
}

XB_BITS_TARGET static void cls_w2p2(xb_hist_bits *b, int cls, const uint64_t *lb, int64_t C,
                                    uint64_t (*m)[CLS_POS + 32], int64_t np, int32_t *buf) {
    cls_sums(b, cls, lb, C, 2, 2, m, np, buf);
}

XB_BITS_TARGET static void cls_any(xb_hist_bits *b, int cls, const uint64_t *lb, int64_t C,
                                   int planes, int64_t W, uint64_t (*m)[CLS_POS + 32], int64_t np,
                                   int32_t *buf) {
    cls_sums(b, cls, lb, C, planes, W, m, np, buf);
}

typedef struct {
    uint64_t m[NCLS][2][CLS_POS + 32]; /* class, mask word (W <= 2: 128 rows), position */
    int64_t n[NCLS];
} cls_buf;

typedef struct {
    const uint64_t *lb; /* the block's level planes */
    int64_t C, W;
    int planes;
} cls_layer;

/* Class cls's first np positions counted, the rest moved to the front. */
static void cls_flush(xb_hist_bits *b, int cls, const cls_layer *y, cls_buf *cb, int64_t np,
                      int32_t *buf) {
    if (y->planes == 2 && y->W == 2)
        cls_w2p2(b, cls, y->lb, y->C, cb->m[cls], np, buf);
    else
        cls_any(b, cls, y->lb, y->C, y->planes, y->W, cb->m[cls], np, buf);
    int64_t rest = cb->n[cls] - np;
    for (int64_t w = 0; w < y->W; w++)
        memmove(cb->m[cls][w], cb->m[cls][w] + np, (size_t)rest * sizeof(uint64_t));
    cb->n[cls] = rest;
}

/* The runs' positions sorted into the classes by vector compares and
 * compresses (X1 varies from position to position: no branch on it), each
 * class counted when it has CLS_POS positions and at the end; returns the
 * X1 = 0 positions. */
XB_BITS_TARGET __attribute__((target("avx512vl"))) static int64_t
runs_classed(xb_hist_bits *b, const cls_layer *y, const uint64_t *bm, int64_t pp, int64_t pt,
             const uint8_t *qj, const int32_t *qcols, int64_t nr, const uint8_t *x1) {
    _Alignas(64) int32_t buf[FUSE_VALUES + 16];
    cls_buf cb;
    memset(cb.n, 0, sizeof cb.n);
    int top = (1 << y->planes) - 1; /* X1 <= lim: S <= 31 (A), 63 (B) */
    const __m128i limA = _mm_set1_epi8((char)(31 / top)), limB = _mm_set1_epi8((char)(63 / top));
    int64_t zpos = 0, W = y->W;
    for (int64_t ri = 0; ri < nr && pt == 1; ri++) { /* one position a run: one class */
        int x = x1[qj[ri]], c = (x > 0) + (x > 31 / top) + (x > 63 / top);
        const uint64_t *m = bm + (int64_t)qj[ri] * W * pp;
        int64_t n = cb.n[c]++;
        for (int64_t w = 0; w < W; w++) cb.m[c][w][n] = m[w * pp];
        if (c == CLS_Z) {
            zpos++;
            cb.n[c] = 0;
        } else if (n + 1 >= CLS_POS) {
            cls_flush(b, c, y, &cb, CLS_POS, buf);
        }
    }
    for (int64_t ri = 0; ri < nr && pt > 1; ri++) {
        int64_t q0 = qcols[ri], wd = pt - q0 < 16 ? pt - q0 : 16;
        __mmask16 in = (__mmask16)(wd >= 16 ? 0xffff : (1u << wd) - 1);
        __m128i x = _mm_maskz_loadu_epi8(in, (const void *)(x1 + (int64_t)qj[ri] * pt + q0));
        __mmask16 nz = _mm_mask_test_epi8_mask(in, x, x),
                  gA = _mm_mask_cmpgt_epu8_mask(in, x, limA),
                  gB = _mm_mask_cmpgt_epu8_mask(in, x, limB);
        zpos += __builtin_popcount((unsigned)(in & ~nz));
        const __mmask16 k[NCLS] = {0, (__mmask16)(nz & ~gA), (__mmask16)(gA & ~gB), gB};
        const uint64_t *m = bm + (int64_t)qj[ri] * W * pp + q0;
        for (int c = CLS_A; c < NCLS; c++) {
            int64_t n = cb.n[c];
            unsigned lo = k[c] & 0xff, hi = k[c] >> 8;
            int64_t plo = __builtin_popcount(lo);
            for (int64_t w = 0; w < W; w++) { /* register compresses, plain stores */
                uint64_t *d = cb.m[c][w] + n;
                _mm512_storeu_si512((void *)d, _mm512_maskz_compress_epi64(
                                                   (__mmask8)lo, _mm512_loadu_si512(m + w * pp)));
                _mm512_storeu_si512((void *)(d + plo),
                                    _mm512_maskz_compress_epi64(
                                        (__mmask8)hi, _mm512_loadu_si512(m + w * pp + 8)));
            }
            cb.n[c] = n + plo + __builtin_popcount(hi);
            if (cb.n[c] >= CLS_POS) cls_flush(b, c, y, &cb, CLS_POS, buf);
        }
    }
    for (int c = CLS_A; c < NCLS; c++)
        if (cb.n[c]) cls_flush(b, c, y, &cb, cb.n[c], buf);
    return zpos;
}
#endif

int64_t xb_hist_add_bitsums(xb_hist_bits *b, const uint64_t *lb, int64_t C,
                            int planes, int64_t W, const uint64_t *bm, int64_t pp, int64_t pt,
                            const uint8_t *qj, const int32_t *qcols, int64_t nr,
                            const uint8_t *x1) {
#ifdef XB_HIST_X86
    cls_layer y = {.lb = lb, .C = C, .W = W, .planes = planes};
    return runs_classed(b, &y, bm, pp, pt, qj, qcols, nr, x1) * C;
#else
    (void)b, (void)lb, (void)C, (void)planes, (void)W, (void)bm, (void)pp, (void)pt,
        (void)qj, (void)qcols, (void)nr, (void)x1;
    return 0;
#endif
}

void xb_hist_flush(xb_hist_bits *b) {
    for (int64_t i = 0; i < b->npend; i++) b->h[b->pend[i]]++;
    b->npend = 0;
    for (int64_t i = 0; i < b->novf; i++) b->h[b->ovf[i]]++;
    b->novf = 0;
    for (int lvl = 0; lvl < 2; lvl++) /* no groups since the last fold: all planes zero */
        if (b->lv[lvl].groups) fold(b, lvl);
}
