#include <criterion/criterion.h>
#include <stdlib.h>

#include "kernels/igemm.h"

/* xorshift64*: seeded, so every run draws the same numbers. */
static uint64_t rng_next(uint64_t *s) {
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static void naive(const int8_t *w, const uint8_t *x, int64_t K, int64_t N, int64_t P, int32_t *acc) {
    for (int64_t n = 0; n < N; n++)
        for (int64_t p = 0; p < P; p++) {
            int64_t s = 0;
            for (int64_t k = 0; k < K; k++) s += (int64_t)w[n * K + k] * x[k * P + p];
            acc[n * P + p] = (int32_t)s;
        }
}

Test(igemm, hand_computed_2x3x2) {
    /* w = [[1,-2,3],[-128,127,0]], x = [[1,2],[3,4],[255,0]] (K=3 rows). */
    int8_t w[6] = {1, -2, 3, -128, 127, 0};
    uint8_t x[6] = {1, 2, 3, 4, 255, 0};
    int32_t acc[4];
    void *scratch = malloc(xb_igemm_scratch_bytes(3, 2, 2));
    xb_igemm(w, x, 3, 2, 2, acc, scratch);
    cr_assert_eq(acc[0], 1 - 6 + 765);
    cr_assert_eq(acc[1], 2 - 8 + 0);
    cr_assert_eq(acc[2], -128 + 381);
    cr_assert_eq(acc[3], -256 + 508);
    free(scratch);
}

/* Every shape on the instruction set the CPU offers and on the portable
 * kernels (igemm_isa.h), both against the naive sums: the run-time dispatch
 * must not change a bit. */
static void random_shapes(bool portable) {
    /* Edge sizes around the 4/5/6/8-row blocks, the 16-position vectors
     * and 48/64-position slabs, and the k-quads. */
    const int64_t Ks[] = {1, 3, 4, 5, 27, 64, 150, 577};
    const int64_t Ns[] = {1, 5, 6, 7, 8, 13, 16, 20, 23};
    const int64_t Ps[] = {1, 2, 15, 16, 17, 48, 64, 65, 130};
    xb_igemm_set_portable(portable);
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    for (size_t a = 0; a < sizeof Ks / sizeof *Ks; a++)
        for (size_t b = 0; b < sizeof Ns / sizeof *Ns; b++)
            for (size_t c = 0; c < sizeof Ps / sizeof *Ps; c++) {
                int64_t K = Ks[a], N = Ns[b], P = Ps[c];
                int8_t *w = malloc((size_t)(N * K));
                uint8_t *x = malloc((size_t)(K * P));
                int32_t *got = malloc((size_t)(N * P) * 4), *want = malloc((size_t)(N * P) * 4);
                void *scratch = malloc(xb_igemm_scratch_bytes(K, N, P));
                for (int64_t i = 0; i < N * K; i++) w[i] = (int8_t)(rng_next(&seed) >> 56);
                for (int64_t i = 0; i < K * P; i++) x[i] = (uint8_t)(rng_next(&seed) >> 56);
                naive(w, x, K, N, P, want);
                xb_igemm(w, x, K, N, P, got, scratch);
                for (int64_t i = 0; i < N * P; i++)
                    cr_assert_eq(got[i], want[i], "K=%lld N=%lld P=%lld i=%lld: %d vs %d",
                                 (long long)K, (long long)N, (long long)P, (long long)i, got[i],
                                 want[i]);
                free(w), free(x), free(got), free(want), free(scratch);
            }
    xb_igemm_set_portable(false);
}

Test(igemm, random_shapes_match_naive) { random_shapes(false); }
Test(igemm, random_shapes_match_naive_portable) { random_shapes(true); }

Test(igemm, dispatch_reports_an_isa) {
    /* On this project's x86 machines the CPU reports AVX-512 VNNI; the
     * test only checks the answer is consistent with the override. */
    xb_igemm_set_portable(true);
    cr_assert_eq(xb_igemm_isa_used(), XB_IGEMM_PORTABLE);
    xb_igemm_set_portable(false);
    cr_assert_str_neq(xb_igemm_isa_name(xb_igemm_isa_used()), "");
}

Test(igemm, extremes_at_kmax_do_not_overflow) {
    /* The worst case the int32 bound allows: K = KMAX, w = -128, x = 255. */
    int64_t K = XB_IGEMM_KMAX, N = 1, P = 1;
    int8_t *w = malloc((size_t)K);
    uint8_t *x = malloc((size_t)K);
    memset(w, 0x80, (size_t)K);
    memset(x, 0xff, (size_t)K);
    int32_t acc;
    void *scratch = malloc(xb_igemm_scratch_bytes(K, N, P));
    xb_igemm(w, x, K, N, P, &acc, scratch);
    cr_assert_eq(acc, (int32_t)(-128LL * 255 * K));
    free(w), free(x), free(scratch);
}

Test(igemm, pack_paths_agree) {
    /* The three ways of building packed x (from [K][P], from rows per
     * position, element-wise through xpack_index) give the same result. */
    int64_t K = 70, N = 7, P = 37;
    int8_t w[7 * 70];
    uint8_t x[70 * 37], xr[37 * 70];
    uint64_t seed = 42;
    for (int i = 0; i < 7 * 70; i++) w[i] = (int8_t)(rng_next(&seed) >> 56);
    for (int k = 0; k < K; k++)
        for (int p = 0; p < P; p++) xr[p * K + k] = x[k * P + p] = (uint8_t)(rng_next(&seed) >> 56);
    int8_t *wp = malloc(xb_igemm_wpack_bytes(K, N));
    size_t xb = xb_igemm_xpack_bytes(K, P);
    uint8_t *xp1 = malloc(xb), *xp2 = malloc(xb), *xp3 = malloc(xb);
    memset(xp3, 0xAB, xb); /* padding must be cleared, not assumed zero */
    xb_igemm_pack_w(w, K, N, wp);
    xb_igemm_pack_x(x, K, P, xp1);
    xb_igemm_pack_xrows(xr, K, K, P, xp2);
    for (int k = 0; k < K; k++)
        for (int p = 0; p < P; p++) xp3[xb_igemm_xpack_index(k, p, xb_igemm_ppad(P))] = x[k * P + p];
    xb_igemm_pack_x_clear(xp3, K, P);
    cr_assert_eq(memcmp(xp1, xp2, xb), 0);
    cr_assert_eq(memcmp(xp1, xp3, xb), 0);
    int32_t got[7 * 37], want[7 * 37];
    xb_igemm_packed(wp, xp3, K, N, P, got);
    naive(w, x, K, N, P, want);
    for (int i = 0; i < N * P; i++) cr_assert_eq(got[i], want[i]);
    free(wp), free(xp1), free(xp2), free(xp3);
}

Test(igemm, rows_form_matches_naive) {
    const int64_t Ks[] = {1, 5, 64, 150, 401};
    uint64_t seed = 4242;
    for (size_t a = 0; a < sizeof Ks / sizeof *Ks; a++)
        for (int64_t N = 1; N <= 137; N += N < 9 ? 4 : 64)
            for (int64_t M = 1; M <= XB_IGEMM_ROWS_MAX_M; M++) {
                int64_t K = Ks[a];
                int8_t *w = malloc((size_t)(N * K)), *wp = malloc(xb_igemm_wpack_bytes(K, N));
                uint8_t *xr = malloc((size_t)(M * K)), *x = malloc((size_t)(K * M));
                int32_t got[137 * 4], want[137 * 4];
                for (int64_t i = 0; i < N * K; i++) w[i] = (int8_t)(rng_next(&seed) >> 56);
                for (int64_t m = 0; m < M; m++)
                    for (int64_t k = 0; k < K; k++)
                        x[k * M + m] = xr[m * K + k] = (uint8_t)(rng_next(&seed) >> 56);
                xb_igemm_pack_w(w, K, N, wp);
                xb_igemm_rows(wp, xr, K, K, N, M, got);
                naive(w, x, K, N, M, want);
                for (int64_t i = 0; i < N * M; i++) cr_assert_eq(got[i], want[i]);
                /* The transposed form, dispatched and portable. */
                int8_t *wt = malloc(xb_igemm_wt_bytes(K, N));
                xb_igemm_pack_wt(w, K, N, wt);
                for (int portable = 0; portable < 2; portable++) {
                    xb_igemm_set_portable(portable);
                    memset(got, 0x5a, sizeof got);
                    xb_igemm_rows_t(wt, xr, K, K, N, M, got);
                    for (int64_t i = 0; i < N * M; i++)
                        cr_assert_eq(got[i], want[i], "rows_t portable %d K %lld N %lld M %lld",
                                     portable, (long long)K, (long long)N, (long long)M);
                }
                xb_igemm_set_portable(false);
                free(w), free(wp), free(xr), free(x), free(wt);
            }
}
