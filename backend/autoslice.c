/* crossbar.slices = auto: RAELLA's adaptive weight slicing (Andrulis et
 * al., ISCA 2023, section 4.2).  Per layer, candidate slicings from the
 * fewest slices to one bit per slice are built with the arch's ADC; on the
 * calibration images each converts the layer's exact input, and its
 * layer-output error is measured against the exact product:
 *     e = sqrt(sum (acc_cand - acc)^2 / sum (acc - zp_x * rowsum_w)^2)
 * over every output of every calibration image (the denominator is the
 * layer's true integer output, before scales).  The layer gets the
 * candidate with the fewest slices whose e <= crossbar.slice_error (0.09
 * by default, RAELLA's budget), else the one with the smallest e.  The
 * metric is our reconstruction: the paper states the budget, not the
 * exact norm (docs/ARCH.md).  Sums are integers added under a lock, so the
 * choice does not depend on the thread count or the order of images. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/adc_sar.h"
#include "backend/crossbar/from_arch.h"
#include "backend/engine.h"
#include "backend/raella.h"
#include "kernels/igemm.h"
#include "kernels/qlayer.h"

#define MAXC 6

__extension__ typedef unsigned __int128 u128;

struct xb_autoslice {
    xb_backend *b;
    const xb_graph *g;
    int n;
    int *ncand;                   /* [n] */
    int (*wd)[MAXC][16];          /* [n][k] widths LSB first, count in nw */
    int (*nw)[MAXC];
    xb_crossbar_layer *(*cand)[MAXC];
    u128 (*err)[MAXC], *ref;      /* [n][k], [n] */
    size_t scratch;
};

/* Candidate slicings of mb magnitude bits, MSB first: one slice, two
 * halves, a wide top with two halves below (4/2/2 for 8 bits, 4/2/1 for
 * 7), four even slices (2/2/2/2), one bit each.  Those wider than a cell
 * are dropped, duplicates too; returns the count. */
static int candidates(int mb, int cb, int w[MAXC][16], int nw[MAXC]) {
    int msb[MAXC][16], ns[MAXC], c = 0;
    int S_list[5] = {1, 2, 3, 4, mb};
    for (int t = 0; t < 5; t++) {
        int S = S_list[t];
        if (S > mb) continue;
        int *m = msb[c];
        if (S == 3) {
            int top = (mb + 1) / 2, rest = mb - top;
            m[0] = top, m[1] = (rest + 1) / 2, m[2] = rest / 2;
            if (m[2] == 0) continue;
        } else {
            for (int s = 0; s < S; s++) m[s] = mb / S + (s < mb % S ? 1 : 0);
        }
        bool ok = true, dup = false;
        for (int s = 0; s < S; s++) ok = ok && m[s] <= cb && m[s] >= 1;
        for (int d = 0; d < c; d++) dup = dup || (ns[d] == S && !memcmp(msb[d], m, sizeof(int) * (size_t)S));
        if (!ok || dup) continue;
        ns[c++] = S;
    }
    for (int k = 0; k < c; k++) {
        nw[k] = ns[k];
        for (int s = 0; s < ns[k]; s++) w[k][s] = msb[k][ns[k] - 1 - s];
    }
    return c;
}

static xb_status build_layer(xb_autoslice *s, int i, xb_ctx *ctx) {
    xb_backend *b = s->b;
    const xb_arch *a = &b->arch;
    const xb_node *node = NULL;
    const xb_qlayer *q = xb_qlayer_get(s->g, i, &node);
    int mb = a->encoding == XB_ENC_OFFSET ? a->weight_bits : a->weight_bits - 1;
    s->ncand[i] = candidates(mb, a->bits_per_cell, s->wd[i], s->nw[i]);
    for (int k = 0; k < s->ncand[i]; k++) {
        xb_crossbar_config c;
        xb_crossbar_config_from_arch(a, q, i, &c);
        xb_raella_config(a, i, s->n, &c);
        /* Without read noise, recovery reconverts every saturated unit in
         * the narrow slices, so speculation changes the count of
         * conversions, not the output: candidates run without it (the
         * fast clip-correction path); the chosen one is rebuilt with it. */
        if (!(c.read_sigma > 0 || c.read_current_sigma > 0)) c.spec_n = 0;
        memset(c.slice_bits, 0, sizeof c.slice_bits);
        for (int t = 0; t < s->nw[i][k]; t++) c.slice_bits[t] = (int8_t)s->wd[i][k][t];
        c.w_slices = s->nw[i][k];
        s->cand[i][k] = xb_crossbar_layer_new(&c, q->w, ctx);
        if (!s->cand[i][k]) {
            xb_ctx_prefix(ctx, "layer '%s', crossbar.slices=auto", node->name);
            return ctx->status;
        }
        xb_backend_configure_adc(a, s->cand[i][k], 0, i, s->n);
        size_t need = xb_crossbar_scratch_bytes(s->cand[i][k], q->P) + 64 +
                      2 * (size_t)(q->N * q->P) * sizeof(int32_t) +
                      xb_igemm_xpack_bytes(q->K, q->P) + 64;
        if (need > s->scratch) s->scratch = need;
    }
    return XB_OK;
}

xb_autoslice *xb_autoslice_new(xb_backend *b, const xb_graph *g, xb_ctx *ctx) {
    xb_autoslice *s = xb_calloc(ctx, 1, sizeof *s);
    if (!s) return NULL;
    s->b = b;
    s->g = g;
    s->n = b->n;
    size_t n1 = (size_t)(b->n ? b->n : 1);
    s->ncand = xb_calloc(ctx, n1, sizeof *s->ncand);
    s->wd = xb_calloc(ctx, n1, sizeof *s->wd);
    s->nw = xb_calloc(ctx, n1, sizeof *s->nw);
    s->cand = xb_calloc(ctx, n1, sizeof *s->cand);
    s->err = xb_calloc(ctx, n1, sizeof *s->err);
    s->ref = xb_calloc(ctx, n1, sizeof *s->ref);
    if (!s->ncand || !s->wd || !s->nw || !s->cand || !s->err || !s->ref) goto fail;
    for (int i = 0; i < b->n; i++)
        if (build_layer(s, i, ctx) != XB_OK) goto fail;
    return s;
fail:
    xb_autoslice_free(s);
    return NULL;
}

void xb_autoslice_free(xb_autoslice *s) {
    if (!s) return;
    for (int i = 0; s->cand && i < s->n; i++)
        for (int k = 0; k < MAXC; k++) xb_crossbar_layer_free(s->cand[i][k]);
    free(s->ncand);
    free(s->wd);
    free(s->nw);
    free(s->cand);
    free(s->err);
    free(s->ref);
    free(s);
}

size_t xb_autoslice_scratch_bytes(const xb_autoslice *s) { return s ? s->scratch : 0; }

static uint8_t *align(uint8_t *p) { return (uint8_t *)(((uintptr_t)p + 63) & ~(uintptr_t)63); }

void xb_autoslice_observe(xb_autoslice *s, int layer, int group, const uint8_t *x, int64_t P,
                          int64_t image, int32_t *acc, void *scratch) {
    const xb_crossbar_layer *main = s->b->layers[layer];
    const xb_crossbar_config *c = xb_crossbar_cfg(main);
    const xb_qlayer *q = xb_qlayer_get(s->g, layer, NULL);
    int64_t N = c->N, K = c->K;
    uint8_t *base = align(scratch);
    int32_t *ex = (int32_t *)(void *)base;
    int32_t *ca = ex + N * P;
    uint8_t *xp = align((uint8_t *)(ca + N * P));
    uint8_t *cs = xp + xb_igemm_xpack_bytes(K, P);
    /* the exact product from the weights packed at build */
    xb_igemm_pack_x(x, K, P, xp);
    xb_igemm_packed(main->wpack + (size_t)group * xb_igemm_wpack_bytes(K, N), xp, K, N, P, ex);
    u128 ref = 0, err[MAXC] = {0};
    for (int64_t n = 0; n < N; n++) {
        int64_t off = (int64_t)q->x_zp * q->w_rowsum[group * N + n];
        for (int64_t p = 0; p < P; p++) {
            int64_t y = (int64_t)ex[n * P + p] - off;
            uint64_t ay = (uint64_t)(y < 0 ? -y : y);
            ref += (u128)ay * ay;
        }
    }
    for (int k = 0; k < s->ncand[layer]; k++) {
        xb_crossbar_matmul(s->cand[layer][k], group, x, P, image, false, ca, cs, NULL);
        for (int64_t i = 0; i < N * P; i++) {
            int64_t d = (int64_t)ca[i] - ex[i];
            uint64_t ad = (uint64_t)(d < 0 ? -d : d);
            err[k] += (u128)ad * ad;
        }
    }
    memcpy(acc, ex, (size_t)(N * P) * sizeof *acc);
    /* integer sums: the order threads add them in does not matter */
#pragma omp critical(xb_autoslice)
    {
        s->ref[layer] += ref;
        for (int k = 0; k < s->ncand[layer]; k++) s->err[layer][k] += err[k];
    }
}

int xb_autoslice_candidates(const xb_autoslice *s, int layer) {
    return s && layer >= 0 && layer < s->n ? s->ncand[layer] : 0;
}

double xb_autoslice_error(const xb_autoslice *s, int layer, int k, char *slicing, size_t n) {
    size_t off = 0;
    slicing[0] = '\0';
    for (int t = s->nw[layer][k] - 1; t >= 0 && off < n; t--)
        off += (size_t)snprintf(slicing + off, n - off, "%s%d", t == s->nw[layer][k] - 1 ? "" : "/",
                                s->wd[layer][k][t]);
    if (s->ref[layer] == 0) return s->err[layer][k] == 0 ? 0 : INFINITY;
    return sqrt((double)s->err[layer][k] / (double)s->ref[layer]);
}

/* The fewest-slice candidate within the budget, else the most accurate. */
static int choose(const xb_autoslice *s, int i, double budget) {
    char sl[64];
    int best = 0;
    double best_e = INFINITY;
    for (int k = 0; k < s->ncand[i]; k++) {
        double e = xb_autoslice_error(s, i, k, sl, sizeof sl);
        if (e <= budget) return k;
        if (e < best_e) best_e = e, best = k;
    }
    return best;
}

/* Layer i rebuilt with candidate k's slicing and every other field of
 * the arch (speculation included). */
static xb_crossbar_layer *rebuild(const xb_autoslice *s, int i, int k, xb_ctx *ctx) {
    const xb_arch *a = &s->b->arch;
    const xb_node *node = NULL;
    const xb_qlayer *q = xb_qlayer_get(s->g, i, &node);
    xb_crossbar_config c;
    xb_crossbar_config_from_arch(a, q, i, &c);
    xb_raella_config(a, i, s->n, &c);
    memset(c.slice_bits, 0, sizeof c.slice_bits);
    for (int t = 0; t < s->nw[i][k]; t++) c.slice_bits[t] = (int8_t)s->wd[i][k][t];
    c.w_slices = s->nw[i][k];
    xb_crossbar_layer *l = xb_crossbar_layer_new(&c, q->w, ctx);
    if (!l) xb_ctx_prefix(ctx, "layer '%s', crossbar.slices=auto", node->name);
    return l;
}

xb_status xb_autoslice_finish(xb_backend *b, xb_ctx *ctx) {
    xb_autoslice *s = b->autos;
    char text[sizeof b->arch.layer_slices], sl[64];
    size_t off = 0;
    text[0] = '\0';
    for (int i = 0; i < s->n; i++) {
        int k = choose(s, i, b->arch.slice_error);
        xb_crossbar_layer *l = rebuild(s, i, k, ctx);
        if (!l) return ctx->status;
        xb_crossbar_layer_free(b->layers[i]);
        b->layers[i] = l;
        for (int t = 0; t < MAXC; t++) { /* the candidates are no longer needed */
            xb_crossbar_layer_free(s->cand[i][t]);
            s->cand[i][t] = NULL;
        }
        xb_autoslice_error(s, i, k, sl, sizeof sl);
        int w = snprintf(text + off, sizeof text - off, "%s%d=%s", i ? ";" : "", i, sl);
        if (w < 0 || (size_t)w >= sizeof text - off)
            return xb_fail(ctx, XB_ERR_INVALID,
                           "crossbar.slices=auto: the per-layer slicing of %d layers does not fit "
                           "crossbar.layer_slices (%zu characters)",
                           s->n, sizeof text - 1);
        off += (size_t)w;
    }
    snprintf(b->arch.layer_slices, sizeof b->arch.layer_slices, "%s", text);
    xb_mapping *m = xb_compile_graph(&b->arch, s->g, ctx);
    if (!m) return ctx->status;
    xb_mapping_free(b->map);
    b->map = m;
    for (int i = 0; i < b->n; i++) {
        xb_backend_configure_adc(&b->arch, b->layers[i], b->full_scale[i], i, b->n);
        xb_backend_sar_charge(b, i);
        xb_crossbar_stats_free(&b->stats[i]);
        XB_TRY(xb_crossbar_stats_init(&b->stats[i], b->layers[i], ctx));
    }
    return XB_OK;
}
