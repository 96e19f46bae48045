/* im2col of uint8 codes written straight into igemm's packed x layout
 * ([Kq][Pp][4], igemm.h), from input planes that already carry their
 * padding.
 *
 * Two choices make this the cheap part of a quantized conv:
 *   - the unfolded matrix is built once, in the layout the kernel reads,
 *     instead of im2col followed by a packing pass;
 *   - the codes are first copied into planes of (H + pt + pb) x (W + pl + pr)
 *     whose border holds the zero point's code, split into column phases
 *     by the horizontal stride, so the unfolding has no bounds tests and
 *     every output row of every kernel tap is a contiguous run of bytes:
 *     four taps at a time are interleaved by vector shuffles.
 * Rows k >= K and positions p >= P of the packed matrix are zero; the
 * result is byte-identical to xb_im2col_u8 + xb_igemm_pack_x. */
#ifndef XBAR_IM2COL_PACKED_H
#define XBAR_IM2COL_PACKED_H

#include <stdbool.h>
#include <stdint.h>

#include "kernels/conv_geom.h"

/* igemm.h's position padding (16), here so this header stays standalone. */
static inline int64_t xb_igemm_ppad_16(int64_t P) { return (P + 15) & ~(int64_t)15; }

static inline int64_t xb_padded_h(const xb_conv_geom *cg) { return cg->h + cg->pt + cg->pb; }
static inline int64_t xb_padded_w(const xb_conv_geom *cg) { return cg->w + cg->pl + cg->pr; }
/* A padded channel is stored as sw column phases: phase f holds padded
 * columns f, f + sw, f + 2 sw, ... in rows of xb_phase_w() bytes.  A kernel
 * tap then reads consecutive bytes for consecutive outputs whatever the
 * stride.  For sw = 1 this is the plain padded plane. */
static inline int64_t xb_phase_w(const xb_conv_geom *cg) {
    return (xb_padded_w(cg) + cg->sw - 1) / cg->sw;
}
static inline int64_t xb_plane_bytes(const xb_conv_geom *cg) {
    return cg->sw * xb_padded_h(cg) * xb_phase_w(cg);
}

/* Build `channels` padded, phase-split planes from plain planes x
 * [channels][H][W], XOR-ing every code with `flip` (0x80 turns int8 into
 * offset uint8, 0 copies); everything outside the input is `pad`. */
void xb_pad_planes_u8(const xb_conv_geom *cg, int64_t channels, const uint8_t *x, uint8_t flip,
                      uint8_t pad, uint8_t *planes);
/* Unfold one group: planes points at the group's first plane. */
void xb_im2col_u8_packed(const xb_conv_geom *cg, const uint8_t *planes, uint8_t *xp);

/* Channels-interleaved variant: the codes of 4 channels are stored together
 * (phase-split padded planes of 4-byte words, [groups][Cp/4][sw][Hp][Wq][4]
 * with Cp = Cin/group rounded up to 4) and the unfolding uses the k order
 *     k' = 4 * ((cq * kh + i) * kw + j) + t,   channel c = 4 cq + t
 * so a k-quad is 4 channels of one tap and every output row of a quad is
 * one contiguous copy of 4 * wout bytes: the interleaving happens once per
 * input element instead of once per tap.  Channels c >= Cin/group repeat
 * the group's last channel; their weights must be zero.  K' = Cp*kh*kw. */
static inline int64_t xb_c4_channels(const xb_conv_geom *cg) { return (cg->cin_g + 3) & ~(int64_t)3; }
/* Used when padding the channels to a multiple of 4 adds at most a third
 * more multiplications (3 -> 4 channels, 6 -> 8, 7 -> 8, any multiple of 4):
 * since the direct kernel (igemm.h, xb_igemm_direct) reads these planes in
 * place, that extra work costs less than the per-tap unfolding it replaces
 * (LeNet-5's conv2, 6 channels, and the 3-channel first layers of the CIFAR
 * nets; measured with tools/bench_int8.c, docs/PERFORMANCE.md).  Before
 * the direct kernel, padding 6 channels to 8 measured slightly slower. */
static inline bool xb_c4_useful(const xb_conv_geom *cg) {
    return xb_c4_channels(cg) * 3 <= cg->cin_g * 4;
}
/* Channel and offset (c*kh*kw + i*kw + j, valid when c < Cin/group) of
 * row k' in the weights of one output channel. */
static inline int64_t xb_c4_weight_index(const xb_conv_geom *cg, int64_t kprime, int64_t *c) {
    int64_t t = kprime & 3, q = kprime >> 2;
    int64_t j = q % cg->kw, i = (q / cg->kw) % cg->kh, cq = q / (cg->kw * cg->kh);
    *c = 4 * cq + t;
    return (*c * cg->kh + i) * cg->kw + j;
}
/* Bytes of the planes of all groups. */
static inline int64_t xb_c4_planes_bytes(const xb_conv_geom *cg) {
    return cg->group * xb_c4_channels(cg) * xb_plane_bytes(cg);
}
/* From plain codes x [Cin][H][W]. */
void xb_pad_planes4_u8(const xb_conv_geom *cg, const uint8_t *x, uint8_t pad, uint8_t *planes4);
/* Unfold group g. */
void xb_im2col_u8_packed4(const xb_conv_geom *cg, const uint8_t *planes4, int64_t g, uint8_t *xp);

/* Direct convolution (igemm.h, xb_igemm_direct) over the same planes, with
 * no unfolded matrix.  The column phases make every stride look like
 * stride 1 along a row, so k-quad q' of output (oy, ox) is always the 4-byte
 * word at planes4 + g * xb_c4_group_bytes + xoff[q'] + oy * xb_c4_row_bytes
 * + 4 * ox: exactly the bytes xb_im2col_u8_packed4 copies. */
static inline int64_t xb_c4_group_bytes(const xb_conv_geom *cg) {
    return xb_c4_channels(cg) * xb_plane_bytes(cg);
}
static inline int64_t xb_c4_row_bytes(const xb_conv_geom *cg) { return cg->sh * xb_phase_w(cg) * 4; }
/* xoff[K'/4] in the k order of xb_im2col_u8_packed4. */
void xb_c4_direct_offsets(const xb_conv_geom *cg, int64_t *xoff);

/* Wide direct convolution: in planes whose rows are R words apart (R =
 * xb_c4_row_bytes / 4 here, or the padded width for the shifted words
 * below), output (oy, ox) is word oy * R + ox past xoff[q], so all outputs
 * are one row of xb_wide_positions() words: the direct kernel runs it at
 * full vector width whatever wout is, and the R - wout columns past each
 * output row are computed and thrown away.  Rows of 10 or 28 outputs
 * (LeNet-5) would otherwise be unfolded. */
static inline int64_t xb_wide_positions(const xb_conv_geom *cg, int64_t R) {
    return xb_igemm_ppad_16((cg->hout - 1) * R + cg->wout);
}

/* Shifted-word planes, for convolutions with few input channels (LeNet-5's
 * conv1 has one), stride 1 and no column dilation.  From a channel's
 * padded plane B (rows Wp bytes apart) two word arrays are built: H, whose
 * word p holds bytes B[p], B[p+1], B[p+2], B[p+3], and V, whose word p holds
 * B[p], B[p + D], B[p + 2D], B[p + 3D] with D = dh * Wp.  For output
 * p' = oy * Wp + ox the 4 taps (i, 4j .. 4j+3) are the H word at
 * i * D + 4 j + p', and the taps (4v .. 4v+3, col) of a column left over
 * when kw is not a multiple of 4 are the V word at 4 v D + col + p': the
 * direct kernel reads both in place with the wide layout above.  A 5 x 5
 * kernel takes 5 H quads and 2 V quads (28 k for 25 taps); taps past the
 * kernel (rows of the last V quad) have zero weight. */
static inline int64_t xb_sh4_full(const xb_conv_geom *cg) { return cg->kw / 4; }
static inline int64_t xb_sh4_arrays(const xb_conv_geom *cg) {
    return (cg->kw >= 4) + (cg->kw % 4 != 0);
}
static inline int64_t xb_sh4_quads(const xb_conv_geom *cg) {
    return cg->cin_g * (cg->kh * xb_sh4_full(cg) + (cg->kw % 4) * ((cg->kh + 3) / 4));
}
static inline bool xb_sh4_possible(const xb_conv_geom *cg) {
    return cg->sw == 1 && cg->sh == 1 && cg->dw == 1;
}
/* Words per array (every read of the wide kernel stays inside). */
static inline int64_t xb_sh4_words(const xb_conv_geom *cg) {
    const int64_t Wp = xb_padded_w(cg);
    return ((cg->kh - 1) * cg->dh * Wp + cg->kw + xb_wide_positions(cg, Wp) + 3) & ~(int64_t)3;
}
/* Bytes of one group's words, and of the byte plane they are built from
 * (V words read 3 D bytes further; 16-byte loads a little more). */
static inline int64_t xb_sh4_group_bytes(const xb_conv_geom *cg) {
    return 4 * cg->cin_g * xb_sh4_arrays(cg) * xb_sh4_words(cg);
}
static inline int64_t xb_sh4_plane_bytes(const xb_conv_geom *cg) {
    int64_t a = xb_padded_h(cg) * xb_padded_w(cg);
    int64_t b = xb_sh4_words(cg) + 3 * cg->dh * xb_padded_w(cg);
    return (a > b ? a : b) + 32;
}
/* The quads in k order: xoff[q] (bytes into a group's words) and, for tap
 * t of quad q, widx[4 q + t] = the weight's offset (c * kh + i) * kw + j in
 * its output channel's row, or -1 for a zero weight. */
void xb_sh4_plan(const xb_conv_geom *cg, int64_t *xoff, int64_t *widx);
/* Words of group g from plain codes x [Cin][H][W], padding `pad`; `plane`
 * is scratch of xb_sh4_plane_bytes. */
void xb_sh4_build(const xb_conv_geom *cg, const uint8_t *x, int64_t g, uint8_t pad, uint8_t *plane,
                  uint8_t *words);

#endif
