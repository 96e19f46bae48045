/* The engine's side of row rename and row reorder (ORSS'23; the row map
 * itself is backend/rowmap.h): each layer's crossbars hold the stored rows,
 * each call sums and orders the input codes first, and an activity pass on
 * the calibration images gives reorder its counts. */
#include <stdlib.h>
#include <string.h>

#include "backend/engine.h"
#include "backend/adc_sar.h"
#include "backend/analog_buffer.h"
#include "backend/crossbar/from_arch.h"
#include "backend/raella.h"
#include "kernels/qlayer.h"

static bool uses_rowmap(const xb_arch *a) { return a->row_rename || a->row_reorder; }

xb_status xb_backend_build_layer(xb_backend *b, const xb_graph *g, int i,
                                 const xb_noise_table *table, xb_ctx *ctx) {
    const xb_node *node = NULL;
    const xb_qlayer *q = xb_qlayer_get(g, i, &node);
    xb_crossbar_config c;
    xb_arch la; /* the layer's weight and input bits (layer_*_bits) */
    xb_arch_layer_view(&b->arch, i, b->n, &la);
    xb_crossbar_config_from_arch(&la, q, i, &c);
    xb_raella_config(&b->arch, i, b->n, &c); /* per-layer slicing, speculation */
    xb_buffer_configure(&b->arch, i, b->n, &c); /* analog buffer chain (TIMELY/LayCO) */
    c.table = table;
    const int8_t *w = q->w;
    if (uses_rowmap(&b->arch)) {
        if (!b->rowmaps && !(b->rowmaps = xb_calloc(ctx, (size_t)b->n, sizeof *b->rowmaps)))
            return ctx->status;
        xb_rowmap_free(b->rowmaps[i]);
        const int64_t *act = b->activity ? b->activity[i] : NULL;
        b->rowmaps[i] = xb_rowmap_new(q->w, q->groups, q->N, q->K, q->x_bits, b->arch.row_rename,
                                      b->arch.row_reorder, act, ctx);
        if (!b->rowmaps[i]) return ctx->status;
        c.K = b->rowmaps[i]->Ks;
        /* summed codes may need more input bits than one code (rowmap.h) */
        int need = (b->rowmaps[i]->in_bits + c.dac_bits - 1) / c.dac_bits;
        if (need > c.input_slices) c.input_slices = need;
        w = b->rowmaps[i]->w;
    }
    xb_crossbar_layer_free(b->layers[i]);
    b->layers[i] = xb_crossbar_layer_new(&c, w, ctx);
    if (!b->layers[i]) {
        xb_ctx_prefix(ctx, "layer '%s'", node ? node->name : "?");
        return ctx->status;
    }
    return XB_OK;
}

const uint8_t *xb_backend_layer_input(xb_backend *b, int i, const uint8_t *x, int64_t P,
                                      int64_t *activity, uint8_t *xr) {
    const xb_rowmap *m = b->rowmaps ? b->rowmaps[i] : NULL;
    if (!m) return x;
    if (activity)
        for (int64_t k = 0; k < m->K; k++)
            for (int64_t p = 0; p < P; p++) activity[k] += x[k * P + p] != 0;
    xb_rowmap_apply(m, x, P, xr);
    return xr;
}

xb_status xb_backend_worker_rowmap(const xb_backend *b, uint8_t **xr, int64_t ***act, xb_ctx *ctx) {
    *xr = NULL;
    *act = NULL;
    if (!b->rowmaps) return XB_OK;
    size_t bytes = 64;
    for (int i = 0; i < b->n; i++)
        if (b->rowmaps[i] && (size_t)(b->rowmaps[i]->Ks * b->P[i]) > bytes)
            bytes = (size_t)(b->rowmaps[i]->Ks * b->P[i]);
    if (!(*xr = xb_malloc(ctx, bytes))) return ctx->status;
    if (!b->recording) return XB_OK;
    if (!(*act = xb_calloc(ctx, (size_t)b->n, sizeof **act))) return ctx->status;
    for (int i = 0; i < b->n; i++)
        if (b->rowmaps[i] &&
            !((*act)[i] = xb_calloc(ctx, (size_t)b->rowmaps[i]->K, sizeof(int64_t))))
            return ctx->status;
    return XB_OK;
}

void xb_backend_worker_rowmap_free(int n, uint8_t *xr, int64_t **act) {
    free(xr);
    if (act)
        for (int i = 0; i < n; i++) free(act[i]);
    free(act);
}

void xb_backend_merge_activity(xb_backend *b, int64_t **act) {
    if (!act || !b->activity) return;
    for (int i = 0; i < b->n; i++)
        if (act[i] && b->activity[i])
            for (int64_t k = 0; k < b->rowmaps[i]->K; k++) b->activity[i][k] += act[i][k];
}

static void free_activity(xb_backend *b) {
    if (b->activity)
        for (int i = 0; i < b->n; i++) free(b->activity[i]);
    free(b->activity);
    b->activity = NULL;
}

void xb_backend_rowmap_free(xb_backend *b) {
    if (b->rowmaps)
        for (int i = 0; i < b->n; i++) xb_rowmap_free(b->rowmaps[i]);
    free(b->rowmaps);
    b->rowmaps = NULL;
    free_activity(b);
}

xb_status xb_backend_activity_begin(xb_backend *b, xb_ctx *ctx) {
    if (!b->rowmaps) return XB_OK;
    free_activity(b);
    if (!(b->activity = xb_calloc(ctx, (size_t)b->n, sizeof *b->activity))) return ctx->status;
    for (int i = 0; i < b->n; i++)
        if (b->rowmaps[i] &&
            !(b->activity[i] = xb_calloc(ctx, (size_t)b->rowmaps[i]->K, sizeof(int64_t))))
            return ctx->status;
    b->recording = true;
    return XB_OK;
}

xb_status xb_backend_activity_end(xb_backend *b, const xb_graph *g, xb_ctx *ctx) {
    b->recording = false;
    if (!b->activity) return XB_OK;
    xb_noise_table *table = NULL;
    if (b->arch.noise_table[0] && !(table = xb_noise_table_load(b->arch.noise_table, ctx)))
        return ctx->status;
    xb_status st = XB_OK;
    for (int i = 0; i < b->n && st == XB_OK; i++) {
        st = xb_backend_build_layer(b, g, i, table, ctx);
        if (st == XB_OK) st = xb_backend_sar_attach(b, i, ctx); /* the new layer's SAR state */
        if (st != XB_OK) break;
        xb_crossbar_stats_free(&b->stats[i]);
        st = xb_crossbar_stats_init(&b->stats[i], b->layers[i], ctx);
    }
    xb_noise_table_free(table);
    free_activity(b);
    if (st != XB_OK) return st;
    /* the new crossbars take the arch's ADC setting again (and the ADC
     * calibration, when the arch asks for one, runs after this) */
    xb_backend_calibration_begin(b);
    b->calibrating = false;
    return XB_OK;
}
