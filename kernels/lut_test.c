/* Byte table lookup: every length from 0 to 200 (whole and partial
 * vectors), every byte value, against the plain lookup; the guard bytes
 * around dst stay untouched; on a CPU with AVX-512 VBMI the vector form is
 * the one that runs. */
#include <criterion/criterion.h>
#include <string.h>

#include "kernels/lut.h"

Test(lut, every_length_and_value) {
#if defined(__x86_64__) && defined(__GNUC__)
    cr_assert_eq(xb_lut_u8_vbmi(),
                 __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi"));
#endif
    uint8_t table[256], src[256], buf[256 + 2 * 64];
    for (int i = 0; i < 256; i++) {
        table[i] = (uint8_t)(i * 167 + 91);
        src[i] = (uint8_t)(i * 73 + 5);
    }
    for (int64_t n = 0; n <= 200; n++)
        for (int off = 0; off < 3; off++) {
            memset(buf, 0xA5, sizeof buf);
            uint8_t *dst = buf + 64;
            xb_lut_u8(table, src + off, n, dst);
            for (int64_t i = 0; i < n; i++)
                cr_assert_eq(dst[i], table[src[off + i]], "n %lld i %lld", (long long)n,
                             (long long)i);
            for (int64_t i = n; i < n + 64; i++)
                cr_assert_eq(dst[i], 0xA5, "n %lld: byte %lld past the end", (long long)n,
                             (long long)i);
            for (int i = 0; i < 64; i++) cr_assert_eq(buf[i], 0xA5, "n %lld: before", (long long)n);
        }
}
