/* Private to igemm.c and its instruction-set variants: the kernels behind
 * igemm.h's entry points, one set per instruction set.  igemm.c picks a set
 * once per call from the CPU's features at run time
 * (__builtin_cpu_supports), so a build without -march=native still runs the
 * AVX-512 VNNI kernels on a CPU that has them, and a build on such a CPU
 * still runs on one that has not.  Every variant computes the same exact
 * int32 sums (integer arithmetic, no rounding), so the choice never changes
 * a result; kernels/igemm_test.c compares them bit for bit.
 *
 * Arguments are those of the igemm.h function of the same name. */
#ifndef XBAR_IGEMM_ISA_H
#define XBAR_IGEMM_ISA_H

#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
#define XB_IGEMM_X86 1
#endif

void xb_igemm_packed_portable(const int8_t *wp, const uint8_t *xp, int64_t K, int64_t N, int64_t P,
                              int32_t *acc);
void xb_igemm_direct_portable(const int8_t *wp, const uint8_t *x, const int64_t *xoff, int64_t Kq,
                              int64_t N, int64_t HO, int64_t WO, int64_t rstride, int32_t *acc);
void xb_igemm_rows_portable(const int8_t *wp, const uint8_t *xr, int64_t ld, int64_t K, int64_t N,
                            int64_t M, int32_t *acc);
void xb_igemm_rows_t_portable(const int8_t *wt, const uint8_t *xr, int64_t ld, int64_t K,
                              int64_t N, int64_t M, int32_t *acc);

#ifdef XB_IGEMM_X86
/* kernels/igemm_vnni.c: AVX-512 F/BW/VL + VNNI (512-bit vpdpbusd). */
void xb_igemm_packed_vnni512(const int8_t *wp, const uint8_t *xp, int64_t K, int64_t N, int64_t P,
                             int32_t *acc);
void xb_igemm_direct_vnni512(const int8_t *wp, const uint8_t *x, const int64_t *xoff, int64_t Kq,
                             int64_t N, int64_t HO, int64_t WO, int64_t rstride, int32_t *acc);
void xb_igemm_rows_t_vnni512(const int8_t *wt, const uint8_t *xr, int64_t ld, int64_t K, int64_t N,
                             int64_t M, int32_t *acc);
/* kernels/igemm_avxvnni.c: AVX2 + AVX-VNNI (256-bit, VEX-encoded). */
void xb_igemm_packed_avxvnni(const int8_t *wp, const uint8_t *xp, int64_t K, int64_t N, int64_t P,
                             int32_t *acc);
#endif

#endif
