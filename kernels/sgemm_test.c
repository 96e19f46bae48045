#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "kernels/sgemm.h"

static uint64_t rng_state;
static float frand(void) {
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((rng_state >> 40) & 0xFFFFFF) / (float)0x800000 - 1.0f; /* [-1, 1) */
}

/* Check C against a double-precision product; the bound scales with
 * sum_k |a||b| because cancellation makes plain relative error meaningless. */
static void check_case(bool ta, bool tb, int64_t M, int64_t N, int64_t K, bool acc, int pad) {
    int64_t lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
    int64_t arows = ta ? K : M, brows = tb ? N : K;
    float *A = malloc(sizeof(float) * (size_t)(arows * lda + 1));
    float *B = malloc(sizeof(float) * (size_t)(brows * ldb + 1));
    float *C = malloc(sizeof(float) * (size_t)(M * ldc + 1));
    float *C0 = malloc(sizeof(float) * (size_t)(M * ldc + 1));
    for (int64_t i = 0; i < arows * lda; i++) A[i] = frand();
    for (int64_t i = 0; i < brows * ldb; i++) B[i] = frand();
    for (int64_t i = 0; i < M * ldc; i++) C0[i] = C[i] = frand();
    void *scratch = malloc(xb_sgemm_scratch_bytes(M, N, K));
    xb_sgemm(ta, tb, M, N, K, A, lda, B, ldb, C, ldc, acc, scratch);
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double s = acc ? C0[i * ldc + j] : 0.0, mag = fabs(s);
            for (int64_t k = 0; k < K; k++) {
                double a = ta ? A[k * lda + i] : A[i * lda + k];
                double b = tb ? B[j * ldb + k] : B[k * ldb + j];
                s += a * b;
                mag += fabs(a * b);
            }
            cr_assert(fabs(C[i * ldc + j] - s) <= 1e-5 * mag + 1e-30,
                      "ta=%d tb=%d M=%ld N=%ld K=%ld acc=%d: C[%ld][%ld] = %.9g, want %.9g", ta,
                      tb, (long)M, (long)N, (long)K, acc, (long)i, (long)j, C[i * ldc + j], s);
        }
    /* Padding columns of C are never touched. */
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = N; j < ldc; j++) cr_assert_eq(C[i * ldc + j], C0[i * ldc + j]);
    /* Pre-packed A gives the same bits. */
    float *Ap = malloc(xb_sgemm_packed_a_bytes(M, K));
    xb_sgemm_pack_a(ta, M, K, A, lda, Ap);
    float *C2 = malloc(sizeof(float) * (size_t)(M * ldc + 1));
    memcpy(C2, C0, sizeof(float) * (size_t)(M * ldc));
    void *s2 = malloc(xb_sgemm_prepacked_scratch_bytes(M, N, K));
    xb_sgemm_prepacked(M, N, K, Ap, tb, B, ldb, C2, ldc, acc, s2);
    if (M > 1 && !tb) {
        /* Panel by panel, with the caller packing B, gives the same bits. */
        float *C3 = malloc(sizeof(float) * (size_t)(M * ldc + 1));
        memcpy(C3, C0, sizeof(float) * (size_t)(M * ldc));
        float *panel = malloc(sizeof(float) * (size_t)(K * XB_SGEMM_NR + 1));
        for (int64_t j0 = 0; j0 < N; j0 += XB_SGEMM_NR) {
            int64_t nr = N - j0 < XB_SGEMM_NR ? N - j0 : XB_SGEMM_NR;
            for (int64_t k = 0; k < K; k++)
                for (int64_t j = 0; j < XB_SGEMM_NR; j++)
                    panel[k * XB_SGEMM_NR + j] = j < nr ? B[k * ldb + j0 + j] : 0.0f;
            xb_sgemm_panel(M, K, Ap, panel, C3 + j0, ldc, nr, acc);
        }
        /* Rows read in place (offsets into B, whole NR-vectors): same bits.
         * Pad B's copy so the last panel's full-width reads stay inside. */
        float *C4 = malloc(sizeof(float) * (size_t)(M * ldc + 1));
        memcpy(C4, C0, sizeof(float) * (size_t)(M * ldc));
        float *Bp = calloc((size_t)(K * ldb + XB_SGEMM_NR), sizeof(float));
        memcpy(Bp, B, sizeof(float) * (size_t)(K * ldb));
        int64_t *koff = malloc(sizeof(int64_t) * (size_t)(K + 1));
        for (int64_t k = 0; k < K; k++) koff[k] = k * ldb;
        for (int64_t j0 = 0; j0 < N; j0 += XB_SGEMM_NR) {
            int64_t nr = N - j0 < XB_SGEMM_NR ? N - j0 : XB_SGEMM_NR;
            xb_sgemm_rows(M, K, Ap, Bp + j0, koff, C4 + j0, ldc, nr, acc);
        }
        cr_assert(memcmp(C, C4, sizeof(float) * (size_t)(M * ldc)) == 0,
                  "rows path differs: M=%ld N=%ld K=%ld", (long)M, (long)N, (long)K);
        free(C4), free(Bp), free(koff);
        cr_assert(memcmp(C, C3, sizeof(float) * (size_t)(M * ldc)) == 0,
                  "panel path differs: M=%ld N=%ld K=%ld", (long)M, (long)N, (long)K);
        free(C3), free(panel);
    }
    cr_assert(memcmp(C, C2, sizeof(float) * (size_t)(M * ldc)) == 0,
              "prepacked differs: ta=%d tb=%d M=%ld N=%ld K=%ld: %.9g vs %.9g", ta, tb, (long)M,
              (long)N, (long)K, C[0], C2[0]);
    free(A), free(B), free(C), free(C0), free(C2), free(Ap), free(scratch), free(s2);
}

Test(sgemm, hand_computed_2x2x3) {
    /* [1 2 3; 4 5 6] * [1 0; 0 1; 1 1] = [4 5; 10 11] */
    float A[6] = {1, 2, 3, 4, 5, 6}, B[6] = {1, 0, 0, 1, 1, 1}, C[4];
    float Bt[6] = {1, 0, 1, 0, 1, 1};
    void *s = malloc(xb_sgemm_scratch_bytes(2, 2, 3));
    xb_sgemm(false, false, 2, 2, 3, A, 3, B, 2, C, 2, false, s);
    cr_assert(C[0] == 4 && C[1] == 5 && C[2] == 10 && C[3] == 11);
    xb_sgemm(false, true, 2, 2, 3, A, 3, Bt, 3, C, 2, true, s);
    cr_assert(C[0] == 8 && C[1] == 10 && C[2] == 20 && C[3] == 22);
    free(s);
}

Test(sgemm, random_shapes_all_transposes) {
    rng_state = 42;
    int64_t dims[] = {1, 2, 3, 7, 8, 9, 16, 31, 33, 64};
    for (int t = 0; t < 4; t++)
        for (int mi = 0; mi < 10; mi++)
            for (int ni = 0; ni < 10; ni += 3)
                for (int ki = 0; ki < 10; ki += 2)
                    check_case(t & 1, t >> 1, dims[mi], dims[ni] + 1, dims[ki], (mi + ki) & 1,
                               (ni & 1) * 3);
}

Test(sgemm, conv_like_and_blocked_shapes) {
    rng_state = 7;
    /* K > KC (several K blocks), N > NC (several N blocks), ragged edges. */
    check_case(false, false, 16, 1024, 144, false, 0);
    check_case(false, false, 64, 64, 576, false, 0);
    check_case(false, false, 6, 784, 25, false, 0);
    check_case(false, false, 17, 600, 700, true, 5);
    check_case(true, true, 13, 530, 513, false, 2);
    check_case(false, true, 1, 120, 400, false, 0);
    check_case(false, false, 1, 130, 600, true, 0);
    check_case(true, false, 1, 70, 300, false, 1);
    check_case(false, false, 5, 9, 0, false, 0);
    check_case(false, false, 5, 9, 0, true, 0);
}

/* Rows read in place with an epilogue, computed with whichever tile
 * xb_sgemm_set_avx512(allow) selects; returns C (caller frees). */
static float *rows_ep_case(bool allow, int64_t M, int64_t N, int64_t K, const float *Ap,
                           const float *Bp, const int64_t *koff, const float *C0,
                           const xb_sgemm_epilogue *ep, bool acc, int64_t gap) {
    bool old = xb_sgemm_set_avx512(allow);
    float *C = malloc(sizeof(float) * (size_t)(M * N + 1));
    memcpy(C, C0, sizeof(float) * (size_t)(M * N));
    for (int64_t j0 = 0; j0 < N; j0 += XB_SGEMM_NR) {
        int64_t nr = N - j0 < XB_SGEMM_NR ? N - j0 : XB_SGEMM_NR;
        xb_sgemm_rows_ep(M, K, Ap, Bp + j0, koff, gap, C + j0, N, nr, acc, ep);
    }
    xb_sgemm_set_avx512(old);
    return C;
}

/* The hand-written AVX-512 tile (when this CPU runs it) and the portable
 * tile give the same bits, with and without the epilogue; and the fused
 * epilogue equals a bias pass and a Relu pass (kernels/relu.c's rule) over
 * the plain product.  Shapes cover ragged M and N, several K blocks, the
 * second half of each row read 0-2 floats further (gap, as SHIFT's
 * half-row panels do), and inputs that produce exact zeros and negative
 * zeros. */
Test(sgemm, avx512_tile_and_epilogue_match_portable) {
    rng_state = 11;
    if (!xb_sgemm_avx512_active())
        cr_log_warn("this CPU has no AVX-512F: both runs use the portable tile");
    int64_t shapes[][3] = {{16, 100, 144}, {13, 47, 288}, {8, 16, 9},
                           {5, 33, 600},   {64, 64, 25},  {40, 20, 30}};
    for (int s = 0; s < 6; s++) {
        int64_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2], gap = s % 3;
        float *A = malloc(sizeof(float) * (size_t)(M * K + 1));
        float *B = calloc((size_t)(K * N + XB_SGEMM_NR + 2), sizeof(float));
        float *C0 = malloc(sizeof(float) * (size_t)(M * N + 1));
        float *bias = malloc(sizeof(float) * (size_t)M);
        for (int64_t i = 0; i < M * K; i++) A[i] = frand();
        for (int64_t i = 0; i < K * N; i++) B[i] = (i % 7 == 0) ? 0.0f : frand();
        for (int64_t i = 0; i < M * N; i++) C0[i] = frand();
        for (int64_t i = 0; i < M; i++) bias[i] = frand();
        for (int64_t j = 0; j < M; j += 4) /* rows of zeros: products are +-0 */
            for (int64_t k = 0; k < K; k++) A[j * K + k] = j % 8 ? 0.0f : -0.0f;
        float *Ap = malloc(xb_sgemm_packed_a_bytes(M, K));
        xb_sgemm_pack_a(false, M, K, A, K, Ap);
        int64_t *koff = malloc(sizeof(int64_t) * (size_t)K);
        for (int64_t k = 0; k < K; k++) koff[k] = k * N;
        for (int e = 0; e < 4; e++) {
            bool acc = e & 1;
            xb_sgemm_epilogue ep = {.bias = (e & 2) ? bias : NULL, .relu = true};
            float *Cp = rows_ep_case(false, M, N, K, Ap, B, koff, C0, &ep, acc, gap);
            float *Cv = rows_ep_case(true, M, N, K, Ap, B, koff, C0, &ep, acc, gap);
#if defined(__FMA__) || !XB_SGEMM_AVX512_TILE
            cr_assert(memcmp(Cp, Cv, sizeof(float) * (size_t)(M * N)) == 0,
                      "AVX-512 tile differs from portable: M=%ld N=%ld K=%ld e=%d", (long)M,
                      (long)N, (long)K, e);
#else
            /* A build without FMA (no -march, e.g. the sanitizer build): the
             * portable tile rounds each product, the AVX-512 tile does not;
             * they agree to rounding (|a|, |b| < 1, so the sums of K terms
             * differ by at most about K ulps of 1). */
            for (int64_t i = 0; i < M * N; i++)
                cr_assert(fabsf(Cp[i] - Cv[i]) <= 1e-6f * (float)K + 1e-6f,
                          "AVX-512 vs portable at %ld: %g vs %g (K=%ld)", (long)i, Cp[i], Cv[i],
                          (long)K);
#endif
            float *Cu = rows_ep_case(true, M, N, K, Ap, B, koff, C0, NULL, acc, gap);
            for (int64_t i = 0; i < M; i++)
                for (int64_t j = 0; j < N; j++) {
                    float v = Cu[i * N + j];
                    if (ep.bias) v = v + bias[i];
                    v = v > 0.0f ? v : 0.0f;
                    cr_assert(memcmp(&v, &Cv[i * N + j], sizeof v) == 0,
                              "fused epilogue differs at (%ld, %ld): %a vs %a", (long)i, (long)j,
                              Cv[i * N + j], v);
                }
            free(Cp), free(Cv), free(Cu);
        }
        free(A), free(B), free(C0), free(bias), free(Ap), free(koff);
    }
}

/* Rows read under lane masks (xb_sgemm_rows_masked_ep) equal the same
 * rows copied into a packed panel with zeros at the masked lanes, bit for
 * bit, on both tiles; the rows point anywhere in X, before its start or
 * past its end wherever their lanes are masked out.  X is allocated to
 * its exact size, so a read outside it shows up under ASan (the portable
 * tile reads lane by lane; the AVX-512 masked loads cannot fault there). */
Test(sgemm, masked_rows_equal_zero_filled_panels) {
    rng_state = 5;
    const int64_t L = 200;
    float *X = malloc(sizeof(float) * (size_t)L);
    for (int64_t i = 0; i < L; i++) X[i] = frand();
    /* M covers the AVX-512 tall tiles' row groups (masked_tall in
     * sgemm.c): 16, 13 -> one 16-row group (part of it stored), 64 ->
     * 24 + 24 + 16, 40 -> 24 + 16, 21 -> one 24-row group, 27 -> 16 + 16;
     * and 8 and 5 the 8 x 32 tile.  nr 20 and 17 cut the second half. */
    int64_t shapes[][3] = {{16, 32, 144}, {13, 29, 300}, {8, 16, 9},   {5, 7, 40},
                           {64, 32, 40},  {40, 20, 30},  {21, 32, 12}, {27, 17, 260}};
    const int nshapes = (int)(sizeof shapes / sizeof shapes[0]);
    /* Rows of each kind the AVX-512 tile loads differently: both halves
     * whole (plain loads), one half whole, neither (masked loads). */
    int64_t kinds[3] = {0, 0, 0};
    for (int s = 0; s < nshapes; s++) {
        int64_t M = shapes[s][0], nr = shapes[s][1], K = shapes[s][2];
        float *A = malloc(sizeof(float) * (size_t)(M * K));
        for (int64_t i = 0; i < M * K; i++) A[i] = frand();
        float *Ap = malloc(xb_sgemm_packed_a_bytes(M, K));
        xb_sgemm_pack_a(false, M, K, A, K, Ap);
        int64_t *koff = malloc(sizeof(int64_t) * (size_t)K);
        uint16_t *km = malloc(sizeof(uint16_t) * (size_t)(2 * K));
        float *panel = calloc((size_t)(K * XB_SGEMM_NR), sizeof(float));
        float *bias = malloc(sizeof(float) * (size_t)M), *res = malloc(sizeof(float) * (size_t)(M * nr));
        for (int64_t i = 0; i < M; i++) bias[i] = frand();
        for (int64_t i = 0; i < M * nr; i++) res[i] = frand();
        for (int64_t k = 0; k < K; k++) {
            rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
            koff[k] = (int64_t)((rng_state >> 33) % (uint64_t)(L + 64)) - 40; /* -40 .. L+23 */
            uint32_t m = 0;
            for (int64_t j = 0; j < XB_SGEMM_NR; j++) {
                int64_t at = koff[k] + j;
                bool in = at >= 0 && at < L && j < nr && (k % 5 == 0 || frand() > -0.6f);
                if (in) m |= 1u << j, panel[k * XB_SGEMM_NR + j] = X[at];
            }
            km[2 * k] = (uint16_t)(m & 0xFFFF), km[2 * k + 1] = (uint16_t)(m >> 16);
            kinds[2 - (km[2 * k] == 0xFFFF) - (km[2 * k + 1] == 0xFFFF)]++;
        }
        for (int e = 0; e < 2; e++) {
            xb_sgemm_epilogue ep = {.bias = e ? bias : NULL, .res = e ? res : NULL, .relu = e};
            for (int allow = 0; allow < 2; allow++) {
                bool old = xb_sgemm_set_avx512(allow);
                float *Cm = malloc(sizeof(float) * (size_t)(M * nr));
                float *Cp = malloc(sizeof(float) * (size_t)(M * nr));
                xb_sgemm_rows_masked_ep(M, K, Ap, X, koff, km, Cm, nr, nr, false, &ep);
                xb_sgemm_panel_ep(M, K, Ap, panel, Cp, nr, nr, false, &ep);
                xb_sgemm_set_avx512(old);
                /* The same tile both times (the portable masked tile fuses
                 * exactly when the portable panel tile does), so the same
                 * bits in any build. */
                cr_assert(memcmp(Cm, Cp, sizeof(float) * (size_t)(M * nr)) == 0,
                          "masked rows differ from the panel: M=%ld nr=%ld K=%ld e=%d avx=%d",
                          (long)M, (long)nr, (long)K, e, allow);
                free(Cm), free(Cp);
            }
        }
        free(A), free(Ap), free(koff), free(km), free(panel), free(bias), free(res);
    }
    cr_assert(kinds[0] > 0 && kinds[1] > 0 && kinds[2] > 0, "row kinds %ld %ld %ld",
              (long)kinds[0], (long)kinds[1], (long)kinds[2]);
    free(X);
}
