/* Integer read noise (dnoise.h): the discretized normal by a threshold
 * table, and one conversion column of a row block converted with it,
 * 16 positions at a time with AVX-512 when the CPU has it (asked at run
 * time), else the portable loop; both give the same integers (test
 * crossbar/dnoise_avx512_matches_portable). */
#include "backend/crossbar/dnoise.h"

#include <math.h>
#include <string.h>

#include "backend/crossbar/rng.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include "backend/crossbar/bitsums_simd.h"
#endif

#define DN_G 0x9e3779b97f4a7c15ull
#define DN_RUN 16 /* positions per zero-run flag (bitsums.c's run) */

bool xb_dnoise_init(xb_dnoise *d, double sigma) {
    memset(d, 0, sizeof *d);
    if (!(sigma > 0) || !isfinite(sigma)) return false;
    /* |n| >= k exactly when |sigma z| >= k - 1/2 (the ties of round have
     * probability 0), so P(|n| >= k) = erfc((k - 1/2) / (sigma sqrt 2)).
     * Stop at the first k whose probability rounds to 0 in 2^-31. */
    for (int k = 1;; k++) {
        double p = erfc(((double)k - 0.5) / (sigma * 1.4142135623730951));
        double t = nearbyint(ldexp(p, 31));
        if (t < 1) break;
        if (k > XB_DNOISE_KMAX) return false;
        d->t[k - 1] = t >= 2147483648.0 ? 2147483648u : (uint32_t)t;
        d->kmax = k;
    }
    return true;
}

double xb_dnoise_pmf(const xb_dnoise *d, int k) {
    int a = k < 0 ? -k : k;
    if (a > d->kmax) return 0;
    if (a == 0) return (2147483648.0 - (double)(d->kmax ? d->t[0] : 0)) * 0x1p-31;
    double next = a < d->kmax ? (double)d->t[a] : 0;
    return ((double)d->t[a - 1] - next) * 0x1p-32; /* half of each |n| goes to each sign */
}

uint64_t xb_dnoise_stream(uint64_t kr, int64_t cc, int J, int j) {
    return kr + (((uint64_t)cc * (uint64_t)J + (uint64_t)j) << 32) * DN_G;
}

uint32_t xb_dnoise_bits(uint64_t key, uint64_t p) {
    uint64_t h = xb_mix64(key + (p >> 1) * DN_G);
    return (uint32_t)(h >> ((p & 1) * 32));
}

int32_t xb_dnoise_value(const xb_dnoise *d, uint32_t u) {
    uint32_t v = u & 0x7fffffffu;
    int32_t m = 0;
    while (m < d->kmax && v < d->t[m]) m++; /* thresholds decrease */
    return (u >> 31) ? -m : m;
}

void xb_dnoise_stats(xb_crossbar_stats *s, const int32_t *v, int64_t n) {
    stat_ints_clamped(s, v, NULL, n);
}

void xb_dnoise_stat_begin(xb_dnoise_stat *d, const xb_crossbar_stats *s, void *hsub,
                          size_t hsub_bytes) {
    memset(d, 0, sizeof *d);
    d->on = xb_stat_acc_begin(&d->a, s, hsub, hsub_bytes);
}

void xb_dnoise_stat_add(xb_dnoise_stat *d, xb_crossbar_stats *s, int32_t *v, int64_t n) {
    if (!d->on) {
        xb_dnoise_stats(s, v, n);
        return;
    }
    /* The copies bin values inside [lo, hi] only: clamp (stat_value puts
     * values past either end in the end bins too), keeping the largest
     * magnitude and the non-zero values the clamp turned into 0 aside:
     * xb_stat_acc_end counts the zero bin as zeros. */
    int32_t lo = (int32_t)d->a.lo, hi = (int32_t)(d->a.lo + d->a.bins - 1), mx = d->mx;
    int64_t fake0 = 0;
    for (int64_t i = 0; i < n; i++) {
        int32_t r = v[i], ab = r < 0 ? -r : r, c = r < lo ? lo : r > hi ? hi : r;
        mx = ab > mx ? ab : mx;
        fake0 += (c == 0) & (r != 0);
        v[i] = c;
    }
    d->mx = mx;
    d->fake0 += fake0;
    xb_stat_acc_ints(&d->a, v, NULL, n);
}

void xb_dnoise_stat_end(xb_dnoise_stat *d, xb_crossbar_stats *s) {
    if (!d->on) return;
    xb_stat_acc_end(&d->a, s);
    s->zeros -= d->fake0;
    if (d->mx > s->max_abs) s->max_abs = d->mx;
}

static int64_t column_portable(const xb_dnoise_col *a, uint64_t kr, int64_t cc, const int32_t *Sp,
                               const int32_t *Sn, const uint8_t *zero, int32_t *acc,
                               int32_t *pre) {
    int64_t pt = a->pt, nruns = (pt + DN_RUN - 1) / DN_RUN, sat = 0;
    for (int64_t q = 0; q < pt; q++) acc[q] = 0;
    for (int j = 0; j < a->J; j++) {
        uint64_t key = xb_dnoise_stream(kr, cc, a->J, j);
        int32_t w = (int32_t)(1u << (j * a->dshift));
        const int32_t *sp = Sp + (int64_t)j * pt, *sn = Sn ? Sn + (int64_t)j * pt : NULL;
        for (int64_t q = 0; q < pt; q++) {
            int32_t s = 0;
            if (!(zero && zero[j * nruns + q / DN_RUN])) s = sn ? sp[q] - sn[q] : sp[q];
            int32_t v = s + xb_dnoise_value(a->d, xb_dnoise_bits(key, (uint64_t)(a->p0 + q)));
            int32_t y = v < a->lo ? a->lo : v > a->hi ? a->hi : v;
            sat += y != v;
            if (pre) pre[(int64_t)j * pt + q] = v;
            acc[q] += y * w;
        }
    }
    return sat;
}

#if defined(__x86_64__) && defined(__GNUC__)
#define DN_AVX512 __attribute__((target("avx512f,avx512dq,popcnt")))
#define DN_FUSED __attribute__((target("avx512f,avx512dq,avx512bw,avx512vpopcntdq,popcnt")))

bool xb_dnoise_avx512_usable(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
}

/* splitmix64's finalizer on 8 lanes (rng.h's xb_mix64) after its first
 * step, z += G, which the caller folds into the broadcast key. */
DN_AVX512 static inline __m512i dn_mix64x8_added(__m512i z) {
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)),
                           _mm512_set1_epi64((long long)0xbf58476d1ce4e5b9ull));
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)),
                           _mm512_set1_epi64((long long)0x94d049bb133111ebull));
    return _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
}

/* 16 positions per step, every digit while the step's acc stays in a
 * register.  The 8 hashes of pairs m0 .. m0+7 read as 16 x u32 are the
 * draws of positions 2 m0 .. 2 m0 + 15 in order (lane 2i the low half of
 * hash i, lane 2i+1 its high half), as xb_dnoise_bits defines them.  NT > 0:
 * the table has at most NT thresholds, held in registers (missing ones 0,
 * which no value is below); NT = 0: any kmax, read from the table. */
#define DN_INLINE __attribute__((always_inline)) inline

/* Lane i of a key vector is i steps G past lane 0: pairs m0 .. m0 + 7. */
DN_AVX512 static DN_INLINE __m512i dn_lane_steps(void) {
    return _mm512_set_epi64((long long)(7 * DN_G), (long long)(6 * DN_G), (long long)(5 * DN_G),
                            (long long)(4 * DN_G), (long long)(3 * DN_G), (long long)(2 * DN_G),
                            (long long)DN_G, 0);
}

/* The 16 signed draws of hash vector h: |n| is the number of thresholds
 * its low 31 bits are below (NT > 0: T[0..NT) in registers, missing ones 0;
 * NT = 0: t[0..kmax) read from the table), bit 31 the sign. */
DN_AVX512 static DN_INLINE __m512i dn_draw16(__m512i h, const __m512i *T, const uint32_t *t,
                                             int kmax, const int NT) {
    const __m512i one = _mm512_set1_epi32(1), zv = _mm512_setzero_si512();
    __m512i v = _mm512_and_si512(h, _mm512_set1_epi32(0x7fffffff)), mag = zv;
    if (NT)
        for (int k = 0; k < NT; k++)
            mag = _mm512_mask_add_epi32(mag, _mm512_cmplt_epu32_mask(v, T[k]), mag, one);
    else
        for (int k = 0; k < kmax; k++)
            mag = _mm512_mask_add_epi32(mag, _mm512_cmplt_epu32_mask(v, _mm512_set1_epi32((int)t[k])),
                                        mag, one);
    return _mm512_mask_sub_epi32(mag, _mm512_movepi32_mask(h), zv, mag);
}
DN_AVX512 static DN_INLINE int64_t column_avx512_nt(const xb_dnoise_col *a, uint64_t kr,
                                                    int64_t cc, const int32_t *Sp,
                                                    const int32_t *Sn, const uint8_t *zero,
                                                    int32_t *acc, int32_t *pre, const int NT) {
    const __m512i iG = dn_lane_steps(), one = _mm512_set1_epi32(1), zv = _mm512_setzero_si512(),
                  lo = _mm512_set1_epi32(a->lo), hi = _mm512_set1_epi32(a->hi);
    const uint32_t *t = a->d->t;
    int kmax = a->d->kmax, J = a->J;
    __m512i T[4];
    for (int k = 0; k < 4; k++) T[k] = _mm512_set1_epi32(k < kmax ? (int)t[k] : 0);
    int64_t pt = a->pt, nruns = (pt + DN_RUN - 1) / DN_RUN;
    __m512i satv = zv;
    uint64_t keys[64];
    __m128i sh[64];
    for (int j = 0; j < J; j++) {
        keys[j] = xb_dnoise_stream(kr, cc, J, j);
        sh[j] = _mm_cvtsi32_si128(j * a->dshift);
    }
    for (int64_t q0 = 0; q0 < pt; q0 += DN_RUN) {
        __mmask16 km = (__mmask16)(pt - q0 >= 16 ? 0xffff : (1u << (pt - q0)) - 1);
        uint64_t m0 = (uint64_t)(a->p0 + q0) >> 1;
        const uint8_t *zr = zero ? zero + q0 / DN_RUN : NULL;
        __m512i ac = zv;
        for (int j = 0; j < J; j++) {
            __m512i h = dn_mix64x8_added(
                _mm512_add_epi64(_mm512_set1_epi64((long long)(keys[j] + (m0 + 1) * DN_G)), iG));
            __m512i n = dn_draw16(h, T, t, kmax, NT);
            __m512i s = zv;
            if (!(zr && zr[j * nruns])) {
                s = _mm512_maskz_loadu_epi32(km, Sp + (int64_t)j * pt + q0);
                if (Sn)
                    s = _mm512_sub_epi32(s, _mm512_maskz_loadu_epi32(km, Sn + (int64_t)j * pt + q0));
            }
            __m512i pv = _mm512_add_epi32(s, n);
            __m512i y = _mm512_min_epi32(_mm512_max_epi32(pv, lo), hi);
            satv = _mm512_mask_add_epi32(satv, _mm512_mask_cmpneq_epi32_mask(km, y, pv), satv, one);
            if (pre) _mm512_mask_storeu_epi32(pre + (int64_t)j * pt + q0, km, pv);
            ac = _mm512_add_epi32(ac, _mm512_sll_epi32(y, sh[j]));
        }
        _mm512_mask_storeu_epi32(acc + q0, km, ac);
    }
    return _mm512_reduce_add_epi32(satv);
}

DN_AVX512 static int64_t column_avx512(const xb_dnoise_col *a, uint64_t kr, int64_t cc,
                                       const int32_t *Sp, const int32_t *Sn, const uint8_t *zero,
                                       int32_t *acc, int32_t *pre) {
    /* one instance per small table size, so no compare is wasted */
    switch (a->d->kmax) {
    case 1: return column_avx512_nt(a, kr, cc, Sp, Sn, zero, acc, pre, 1);
    case 2: return column_avx512_nt(a, kr, cc, Sp, Sn, zero, acc, pre, 2);
    case 3: return column_avx512_nt(a, kr, cc, Sp, Sn, zero, acc, pre, 3);
    case 4: return column_avx512_nt(a, kr, cc, Sp, Sn, zero, acc, pre, 4);
    default: return column_avx512_nt(a, kr, cc, Sp, Sn, zero, acc, pre, 0);
    }
}

/* The fused block (dnoise.h, xb_dnoise_block): the sums of bitsums.c's
 * col_sums and column_avx512_nt's draws, conversion and combine in one
 * pass, the sums never stored.  Loop order (run, digit, column): the run's
 * masks of one digit stay in registers (split into halves once) and each
 * column's level words are broadcast into its ANDs, the columns' combined
 * values kept in acc (a run's [C][16] int32, in L1) between digits.  Same
 * keys, thresholds, sums and clamp as xb_bits_sums followed by
 * xb_dnoise_column, so the same integers
 * (crossbar/int_read_noise_fused_matches_unfused).  PL > 0: PL planes and
 * two mask words (128-row blocks) as constants, so col_sums unrolls; NH of
 * their four 32-row halves summed (a block of at most 32 NH rows: ResNet-20's
 * 16-, 32- and 64-row last blocks; the others hold no level bit). */
DN_FUSED static DN_INLINE int64_t block_fused_nt(const xb_dnoise_col *a, uint64_t kr,
                                                  const xb_dnoise_planes *b, int32_t *acc,
                                                  int32_t *pre, const int NT, const int PL,
                                                  const int NH) {
    const __m512i iG = dn_lane_steps(), one = _mm512_set1_epi32(1), zv = _mm512_setzero_si512(),
                  lo = _mm512_set1_epi32(a->lo), hi = _mm512_set1_epi32(a->hi);
    const uint32_t *t = a->d->t;
    int kmax = a->d->kmax, J = a->J, planes = PL ? PL : b->planes;
    int64_t W = PL ? 2 : b->W, pt = a->pt, pp = b->pp, C = b->C;
    const int nh = PL ? NH : 2 * (int)W;
    /* locals: the stores to acc could alias *b, and b->lb was reloaded per column */
    const uint64_t *lb = b->lb, *bm = b->bm;
    __m512i T[4];
    for (int k = 0; k < 4; k++) T[k] = _mm512_set1_epi32(k < kmax ? (int)t[k] : 0);
    __m512i satv = zv;
    /* xb_dnoise_stream(kr, cc, J, j) = kr + (cc J + j) GS: the next column's
     * key is J GS further */
    const uint64_t GS = DN_G << 32;
    const __m512i colstep = _mm512_set1_epi64((long long)((uint64_t)J * GS));
    for (int64_t q0 = 0; q0 < pt; q0 += DN_RUN) {
        __mmask16 km = (__mmask16)(pt - q0 >= 16 ? 0xffff : (1u << (pt - q0)) - 1);
        uint64_t step = ((uint64_t)(a->p0 + q0) / 2 + 1) * DN_G;
        for (int j = 0; j < J; j++) {
            __m512i M[2][2] = {{zv, zv}, {zv, zv}}, any = zv;
            for (int64_t w = 0; 2 * w < nh; w++) {
                halves(bm + (j * W + w) * pp + q0, M[w]);
                any = _mm512_or_si512(any, M[w][0]);
                if (2 * w + 1 < nh) any = _mm512_or_si512(any, M[w][1]);
            }
            /* a run without an active row: S = 0 (also what the sums give) */
            bool act = _mm512_test_epi32_mask(any, any) != 0;
            __m128i sh = _mm_cvtsi32_si128(j * a->dshift);
            __m512i hk = _mm512_add_epi64(
                _mm512_set1_epi64((long long)(kr + (uint64_t)j * GS + step)), iG);
            for (int64_t c = 0; c < C; c++, hk = _mm512_add_epi64(hk, colstep)) {
                __m512i h = dn_mix64x8_added(hk);
                __m512i n = dn_draw16(h, T, t, kmax, NT);
                __m512i s = act ? col_sums_nh(lb + c * planes * W, planes, W, M, nh) : zv;
                __m512i pv = _mm512_add_epi32(s, n);
                __m512i y = _mm512_min_epi32(_mm512_max_epi32(pv, lo), hi);
                satv = _mm512_mask_add_epi32(satv, _mm512_mask_cmpneq_epi32_mask(km, y, pv), satv,
                                             one);
                if (pre) _mm512_mask_storeu_epi32(pre + (c * J + j) * pt + q0, km, pv);
                int32_t *ap = acc + c * pt + q0;
                __m512i ac = _mm512_sll_epi32(y, sh);
                if (j) ac = _mm512_add_epi32(ac, _mm512_maskz_loadu_epi32(km, ap));
                _mm512_mask_storeu_epi32(ap, km, ac);
            }
        }
    }
    return _mm512_reduce_add_epi32(satv);
}

/* isaac's 2-bit cells in 128-row blocks: the table size and the halves
 * a block of b->rows rows fills as constants.  PRE is NULL (a literal, so
 * the stores of S + n vanish from the loop) or the profile images' pre,
 * whose blocks took the general loop until session 15 (ResNet-20, every
 * image profiled: 42.3 images/s then, 47.1 with these; PERFORMANCE.md). */
#define DN_NT_CASES(NH, PRE)                                                                       \
    switch (a->d->kmax) {                                                                          \
    case 1: return block_fused_nt(a, kr, b, acc, PRE, 1, 2, NH);                                   \
    case 2: return block_fused_nt(a, kr, b, acc, PRE, 2, 2, NH);                                   \
    case 3: return block_fused_nt(a, kr, b, acc, PRE, 3, 2, NH);                                   \
    case 4: return block_fused_nt(a, kr, b, acc, PRE, 4, 2, NH);                                   \
    default: return block_fused_nt(a, kr, b, acc, PRE, 0, 2, NH);                                  \
    }
#define DN_SHAPES(PRE)                                                                             \
    if (b->planes == 2 && b->W == 2) {                                                             \
        if (b->rows > 0 && b->rows <= 32) DN_NT_CASES(1, PRE)                                      \
        if (b->rows > 0 && b->rows <= 64) DN_NT_CASES(2, PRE)                                      \
        DN_NT_CASES(4, PRE)                                                                        \
    }

DN_FUSED static int64_t block_fused(const xb_dnoise_col *a, uint64_t kr, const xb_dnoise_planes *b,
                                    int32_t *acc, int32_t *pre) {
    if (pre) {
        DN_SHAPES(pre)
        return block_fused_nt(a, kr, b, acc, pre, 0, 0, 0);
    }
    DN_SHAPES(NULL)
    switch (a->d->kmax) {
    case 1: return block_fused_nt(a, kr, b, acc, NULL, 1, 0, 0);
    case 2: return block_fused_nt(a, kr, b, acc, NULL, 2, 0, 0);
    case 3: return block_fused_nt(a, kr, b, acc, NULL, 3, 0, 0);
    case 4: return block_fused_nt(a, kr, b, acc, NULL, 4, 0, 0);
    default: return block_fused_nt(a, kr, b, acc, NULL, 0, 0, 0);
    }
}
#undef DN_SHAPES
#undef DN_NT_CASES

bool xb_dnoise_fused_usable(void) {
    __builtin_cpu_init();
    return xb_dnoise_avx512_usable() && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vpopcntdq");
}

/* The CPU is asked once, before any thread starts (as rng.c does). */
static int dn_avx512_ok = -1, dn_fused_ok = -1;
__attribute__((constructor)) static void dnoise_dispatch_init(void) {
    dn_avx512_ok = xb_dnoise_avx512_usable();
    dn_fused_ok = xb_dnoise_fused_usable();
}
#else
bool xb_dnoise_avx512_usable(void) { return false; }
bool xb_dnoise_fused_usable(void) { return false; }
#endif

static bool fused_off; /* xb_dnoise_set_fused(false): tests compare both paths */
void xb_dnoise_set_fused(bool on) { fused_off = !on; }

bool xb_dnoise_fused_ok(const xb_dnoise_col *a, int planes, int64_t W) {
#if defined(__x86_64__) && defined(__GNUC__)
    bool cpu = dn_fused_ok >= 0 ? dn_fused_ok : xb_dnoise_fused_usable();
    return !fused_off && cpu && !(a->p0 & 1) && a->J <= 64 && W >= 1 && W <= 2 && planes >= 1 &&
           planes <= 8;
#else
    (void)a, (void)planes, (void)W;
    return false;
#endif
}

int64_t xb_dnoise_block(const xb_dnoise_col *a, uint64_t kr, const xb_dnoise_planes *b,
                        int32_t *acc, int32_t *pre) {
#if defined(__x86_64__) && defined(__GNUC__)
    return block_fused(a, kr, b, acc, pre);
#else
    (void)a, (void)kr, (void)b, (void)acc, (void)pre;
    return 0;
#endif
}

int64_t xb_dnoise_column_impl(xb_dnoise_impl impl, const xb_dnoise_col *a, uint64_t kr,
                              int64_t cc, const int32_t *Sp, const int32_t *Sn,
                              const uint8_t *zero, int32_t *acc, int32_t *pre) {
#if defined(__x86_64__) && defined(__GNUC__)
    bool vec = impl == XB_DNOISE_AVX512 ||
               (impl == XB_DNOISE_AUTO &&
                (dn_avx512_ok >= 0 ? dn_avx512_ok : xb_dnoise_avx512_usable()));
    /* the vector path starts each step on a pair: p0 even (always, in
     * convert.c: chunks start at multiples of 16) and J <= 64 */
    if (vec && !(a->p0 & 1) && a->J <= 64)
        return column_avx512(a, kr, cc, Sp, Sn, zero, acc, pre);
#else
    (void)impl;
#endif
    return column_portable(a, kr, cc, Sp, Sn, zero, acc, pre);
}

int64_t xb_dnoise_column(const xb_dnoise_col *a, uint64_t kr, int64_t cc, const int32_t *Sp,
                         const int32_t *Sn, const uint8_t *zero, int32_t *acc, int32_t *pre) {
    return xb_dnoise_column_impl(XB_DNOISE_AUTO, a, kr, cc, Sp, Sn, zero, acc, pre);
}
