/* Row rename and reorder (rowmap.h). */
#include "backend/rowmap.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t h;
    int64_t k;
} hashed_row;

typedef struct {
    int64_t first; /* lowest logical row of the chunk */
    int64_t act;   /* summed activity of its rows */
    int64_t cls;   /* chunk index in build order */
} chunk;

static int cmp_hashed(const void *a, const void *b) {
    const hashed_row *x = a, *y = b;
    if (x->h != y->h) return x->h < y->h ? -1 : 1;
    return x->k < y->k ? -1 : x->k > y->k;
}

static int cmp_first(const void *a, const void *b) {
    const chunk *x = a, *y = b;
    return x->first < y->first ? -1 : x->first > y->first;
}

static int cmp_active(const void *a, const void *b) {
    const chunk *x = a, *y = b;
    if (x->act != y->act) return x->act > y->act ? -1 : 1;
    return cmp_first(a, b);
}

/* Row k's weights over every output of every group, compared in place. */
static bool rows_equal(const int8_t *w, int64_t GN, int64_t K, int64_t a, int64_t b) {
    for (int64_t j = 0; j < GN; j++)
        if (w[j * K + a] != w[j * K + b]) return false;
    return true;
}

static uint64_t row_hash(const int8_t *w, int64_t GN, int64_t K, int64_t k) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (int64_t j = 0; j < GN; j++) h = (h ^ (uint8_t)w[j * K + k]) * 1099511628211ull;
    return h;
}

static int bits_for(int64_t v) {
    int b = 0;
    while (b < 62 && ((int64_t)1 << b) <= v) b++;
    return b;
}

/* Class of every row (cls[k]: the lowest row with the same weights) from
 * hashes sorted so equal rows are adjacent; exact compare inside a run. */
static xb_status classes(const int8_t *w, int64_t GN, int64_t K, int64_t *cls, xb_ctx *ctx) {
    hashed_row *hr = xb_malloc(ctx, (size_t)K * sizeof *hr);
    if (!hr) return ctx->status;
    for (int64_t k = 0; k < K; k++) hr[k] = (hashed_row){row_hash(w, GN, K, k), k};
    qsort(hr, (size_t)K, sizeof *hr, cmp_hashed);
    for (int64_t i = 0; i < K; i++) {
        int64_t k = hr[i].k;
        cls[k] = k;
        /* earlier rows of the same hash run are lower rows: join the first equal one */
        for (int64_t j = i - 1; j >= 0 && hr[j].h == hr[i].h; j--)
            if (cls[hr[j].k] == hr[j].k && rows_equal(w, GN, K, k, hr[j].k)) cls[k] = hr[j].k;
    }
    free(hr);
    return XB_OK;
}

/* Chunks of at most `cap` rows per class, in row order: chunk_of[k]. */
static int64_t make_chunks(const int64_t *cls, int64_t K, int64_t cap, int64_t *chunk_of,
                           int64_t *fill, int64_t *open_chunk, chunk *ch) {
    int64_t n = 0;
    for (int64_t k = 0; k < K; k++) open_chunk[k] = -1;
    for (int64_t k = 0; k < K; k++) {
        int64_t c = cls[k], o = open_chunk[c];
        if (o < 0 || fill[o] >= cap) {
            o = open_chunk[c] = n;
            fill[n] = 0;
            ch[n] = (chunk){.first = k, .act = 0, .cls = n};
            n++;
        }
        fill[o]++;
        chunk_of[k] = o;
    }
    return n;
}

xb_status xb_rowmap_count(const int8_t *w, int64_t groups, int64_t N, int64_t K, int x_bits,
                          int64_t *rows, int *in_bits, xb_ctx *ctx) {
    xb_rowmap *m = xb_rowmap_new(w, groups, N, K, x_bits, true, false, NULL, ctx);
    if (!m) return ctx->status;
    *rows = m->Ks;
    *in_bits = m->in_bits;
    xb_rowmap_free(m);
    return XB_OK;
}

static xb_status fill_map(xb_rowmap *m, const int8_t *w, const int64_t *chunk_of, chunk *ch,
                          int64_t n, bool reorder, const int64_t *activity, xb_ctx *ctx) {
    int64_t K = m->K, GN = m->groups * m->N;
    if (reorder && activity)
        for (int64_t k = 0; k < K; k++) ch[chunk_of[k]].act += activity[k];
    qsort(ch, (size_t)n, sizeof *ch, reorder && activity ? cmp_active : cmp_first);
    int64_t *pos = xb_malloc(ctx, (size_t)n * sizeof *pos);
    int64_t *cnt = xb_calloc(ctx, (size_t)n, sizeof *cnt);
    m->w = xb_malloc(ctx, (size_t)(GN * n) + 1);
    if (!pos || !cnt || !m->w) {
        free(pos);
        free(cnt);
        return ctx->status;
    }
    for (int64_t u = 0; u < n; u++) pos[ch[u].cls] = u;
    for (int64_t k = 0; k < K; k++) {
        m->dest[k] = pos[chunk_of[k]];
        cnt[m->dest[k]]++;
    }
    for (int64_t u = 0; u < n; u++) {
        if (cnt[u] > m->max_merge) m->max_merge = cnt[u];
        for (int64_t j = 0; j < GN; j++) m->w[j * n + u] = w[j * K + ch[u].first];
    }
    free(pos);
    free(cnt);
    return XB_OK;
}

xb_rowmap *xb_rowmap_new(const int8_t *w, int64_t groups, int64_t N, int64_t K, int x_bits,
                         bool rename, bool reorder, const int64_t *activity, xb_ctx *ctx) {
    xb_rowmap *m = xb_calloc(ctx, 1, sizeof *m);
    int64_t *cls = xb_malloc(ctx, (size_t)K * 4 * sizeof(int64_t) + 1);
    chunk *ch = xb_malloc(ctx, (size_t)K * sizeof *ch + 1);
    if (!m || !cls || !ch) goto fail;
    m->K = K;
    m->groups = groups;
    m->N = N;
    m->dest = xb_malloc(ctx, (size_t)K * sizeof *m->dest + 1);
    if (!m->dest) goto fail;
    int64_t *chunk_of = cls + K, *fill = cls + 2 * K, *open = cls + 3 * K;
    int64_t xmax = ((int64_t)1 << x_bits) - 1;
    int64_t cap = rename && xmax > 0 ? 255 / xmax : 1;
    if (rename) {
        if (classes(w, groups * N, K, cls, ctx) != XB_OK) goto fail;
    } else {
        for (int64_t k = 0; k < K; k++) cls[k] = k;
    }
    m->Ks = make_chunks(cls, K, cap < 1 ? 1 : cap, chunk_of, fill, open, ch);
    if (fill_map(m, w, chunk_of, ch, m->Ks, reorder, activity, ctx) != XB_OK) goto fail;
    m->in_bits = bits_for(m->max_merge * xmax);
    if (m->in_bits < x_bits) m->in_bits = x_bits;
    free(cls);
    free(ch);
    return m;
fail:
    free(cls);
    free(ch);
    xb_rowmap_free(m);
    return NULL;
}

void xb_rowmap_free(xb_rowmap *m) {
    if (!m) return;
    free(m->dest);
    free(m->w);
    free(m);
}

void xb_rowmap_apply(const xb_rowmap *m, const uint8_t *x, int64_t P, uint8_t *xr) {
    memset(xr, 0, (size_t)(m->Ks * P));
    for (int64_t k = 0; k < m->K; k++) {
        uint8_t *d = xr + m->dest[k] * P;
        const uint8_t *s = x + k * P;
        for (int64_t p = 0; p < P; p++) d[p] = (uint8_t)(d[p] + s[p]);
    }
}

const xb_layer_shape *xb_rowmap_physical_shape(const xb_arch *a, const xb_layer_shape *s,
                                               xb_layer_shape *phys, int *J) {
    if (!a->row_rename || s->rename_rows <= 0) return s;
    *phys = *s;
    phys->K = s->rename_rows;
    int need = (s->rename_in_bits + a->dac_bits - 1) / a->dac_bits;
    if (need > *J) *J = need;
    return phys;
}
