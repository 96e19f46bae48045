/* Crossbar compiler (see compile.h for the mapping rules). */
#include "backend/compile.h"

#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/buffer_cost.h"
#include "backend/dac.h"
#include "backend/crossbar/geometry.h"
#include "backend/raella.h"
#include "backend/replicate_milp.h"
#include "backend/rowmap.h"

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

double xb_layer_cycle_ns(const xb_arch *a, const xb_layer_map *l) {
    /* Conversions one crossbar performs per read: its busiest one. */
    int64_t cols = l->groups_per_xbar * l->s.N * l->w_slices * l->cols_per_slice;
    if (cols > l->units_per_xbar * l->cols_per_slice) cols = l->units_per_xbar * l->cols_per_slice;
    cols = xb_conversions_per_block(xb_arch_pair_columns(a) && a->adc_signed, cols);
    double conv_ns = (double)cols / (a->adcs_per_crossbar * a->adc_gsps);
    return conv_ns > a->xbar_read_ns ? conv_ns : a->xbar_read_ns;
}

double xb_layer_bus_bytes(const xb_arch *a, const xb_layer_map *l) {
    int bits = l->input_bits > 0 ? l->input_bits : a->input_bits; /* per-layer precision */
    return (double)l->s.P * (double)l->s.K * (double)l->s.groups * ((bits + 7) / 8);
}

double xb_layer_bus_ns(const xb_arch *a, const xb_layer_map *l) {
    if (a->bus_bytes_per_ns <= 0) return 0;
    int64_t parts = ceil_div(xb_layer_copy_xbars(l), a->xbars_per_partition);
    int64_t tiles = ceil_div(parts, a->partitions_per_tile);
    return xb_layer_bus_bytes(a, l) / (a->bus_bytes_per_ns * (double)tiles);
}

double xb_layer_latency_ns(const xb_arch *a, const xb_layer_map *l) {
    double t = (double)ceil_div(l->s.P, l->replicas) * l->input_slices * xb_layer_cycle_ns(a, l);
    double bus = xb_layer_bus_ns(a, l);
    return bus > t ? bus : t;
}

/* Crossbars, partitions and tiles of every layer for the current replica
 * counts: layers in order, each from a fresh partition. */
static void place(const xb_arch *a, xb_mapping *m) {
    int64_t part = 0, xbar = 0;
    for (int i = 0; i < m->n; i++) {
        xb_layer_map *l = &m->layers[i];
        l->xbars = l->replicas * xb_layer_copy_xbars(l);
        l->first_xbar = xbar;
        l->first_partition = part;
        l->partitions = ceil_div(l->xbars, a->xbars_per_partition);
        l->first_tile = part / a->partitions_per_tile;
        l->tiles = (part + l->partitions - 1) / a->partitions_per_tile - l->first_tile + 1;
        part += l->partitions;
        xbar += l->xbars;
    }
    m->xbars = xbar;
    m->partitions = part;
    m->tiles = ceil_div(part, a->partitions_per_tile);
    m->fits = m->tiles <= a->tiles;
}

/* Give the slowest stage one more copy while the budget holds (see
 * compile.h).  A layer with one position per copy cannot get faster, and
 * then neither can the pipeline. */
static void balance(const xb_arch *a, xb_mapping *m) {
    int64_t budget = a->budget_tiles ? a->budget_tiles : a->tiles;
    if (m->n == 0 || m->tiles > budget) return;
    for (;;) {
        int b = 0;
        double worst = -1;
        for (int i = 0; i < m->n; i++) {
            double t = xb_layer_latency_ns(a, &m->layers[i]);
            if (t > worst) {
                worst = t;
                b = i;
            }
        }
        xb_layer_map *l = &m->layers[b];
        /* Bus-bound (xb_layer_bus_ns): no number of copies is faster. */
        if (l->replicas >= l->s.P || xb_layer_bus_ns(a, l) >= worst) break;
        l->replicas++;
        place(a, m);
        if (m->tiles > budget) {
            l->replicas--;
            place(a, m);
            break;
        }
    }
}

/* Groups per crossbar when packing block-diagonally (compile.h), else 1. */
static int64_t pack_factor(const xb_arch *a, const xb_layer_shape *s, int64_t units, int S) {
    if (a->pack_groups == XB_PACK_FALSE || s->groups < 2) return 1;
    if (a->pack_groups == XB_PACK_AUTO && !xb_arch_groups_independent(a)) return 1;
    int64_t per_group = s->N * S + (a->flip ? 1 : 0); /* slice units, + ISAAC's unit column */
    if (s->K > a->rows || per_group > units) return 1;
    int64_t g = a->rows / s->K, gc = units / per_group;
    if (gc < g) g = gc;
    if (g > s->groups) g = s->groups;
    return g < 1 ? 1 : g;
}

xb_mapping *xb_compile_shapes(const xb_arch *a, const xb_layer_shape *shapes, int n, xb_ctx *ctx) {
    if (xb_arch_validate(a, ctx) != XB_OK || xb_arch_check_layer_bits(a, n, ctx) != XB_OK ||
        xb_raella_check_layers(a, n, ctx) != XB_OK ||
        xb_arch_check_layer_precision(a, n, ctx) != XB_OK)
        return NULL;
    xb_mapping *m = xb_calloc(ctx, 1, sizeof *m);
    if (!m) return NULL;
    m->arch = *a;
    m->n = n;
    m->layers = xb_calloc(ctx, (size_t)(n ? n : 1), sizeof *m->layers);
    if (!m->layers) {
        free(m);
        return NULL;
    }
    int u = xb_arch_cols_per_slice(a);
    /* A signed ADC on a differential pair converts the difference of the
     * two column currents: one conversion per pair. */
    int conv_per_unit = (xb_arch_pair_columns(a) && a->adc_signed) ? 1 : u;
    for (int i = 0; i < n; i++) {
        xb_arch la; /* this layer's weight and input bits (arch_layers.c) */
        xb_arch_layer_view(a, i, n, &la);
        xb_layer_shape phys;
        int Jl = xb_arch_input_slices(&la); /* row rename may widen the inputs (backend/rowmap.h) */
        const xb_layer_shape *s = xb_rowmap_physical_shape(&la, &shapes[i], &phys, &Jl);
        xb_layer_map *l = &m->layers[i];
        /* crossbar.layer_slices, else the global slicing of this layer's weight bits */
        int S = xb_raella_layer_weight_slices(&la, i, n);
        l->weight_bits = la.weight_bits;
        l->input_bits = la.input_bits;
        if (s->K < 1 || s->N < 1 || s->groups < 1 || s->P < 1) {
            xb_fail(ctx, XB_ERR_INVALID, "layer '%s': empty matrix (K=%lld N=%lld groups=%lld P=%lld)",
                    s->name, (long long)s->K, (long long)s->N, (long long)s->groups,
                    (long long)s->P);
            xb_mapping_free(m);
            return NULL;
        }
        l->s = shapes[i];
        l->rows_stored = s->K;
        l->w_slices = S;
        l->cols_per_slice = u;
        l->input_slices = Jl;
        l->units_per_xbar = a->cols / u;
        l->row_blocks = xb_row_blocks(s->K, a->rows);
        l->col_blocks = ceil_div(s->N * S, l->units_per_xbar);
        l->xbars_per_group = l->row_blocks * l->col_blocks;
        l->replicas = 1;
        l->groups_per_xbar = pack_factor(a, s, l->units_per_xbar, S);
        l->xbars_unrenamed = s == &shapes[i] ? xb_layer_copy_xbars(l)
                                             : xb_row_blocks(shapes[i].K, a->rows) * l->col_blocks *
                                                   s->groups;
        double cells = (double)s->K * s->N * S * u * s->groups;
        l->utilisation = cells / ((double)xb_layer_copy_xbars(l) * a->rows * a->cols);
        int64_t GP = s->groups * s->P;
        l->macs = shapes[i].K * s->N * GP;
        /* a read of a packed crossbar serves all its groups */
        l->xbar_reads = xb_layer_copy_xbars(l) * Jl * s->P;
        /* Cells on driven rows: every row of a row block is driven for
         * each of its column blocks; the programmed ones are the K x N x S
         * x u weight cells, the rest of those columns stay at G_off. */
        l->cells_driven = (double)s->K * s->N * S * u * Jl * GP;
        l->cells_idle = (double)s->K * ((double)l->col_blocks * a->cols - (double)s->N * S * u) *
                        Jl * GP;
        l->unit_cells = a->flip ? (double)s->K * Jl * GP : 0;
        l->dac_acts = s->K * l->col_blocks * Jl * GP;
        l->col_samples = l->row_blocks * s->N * S * u * Jl * GP;
        /* Flip: each row block also converts ISAAC's unit column, sum(x). */
        l->conversions = l->row_blocks * (s->N * S * conv_per_unit + (a->flip ? 1 : 0)) * Jl * GP;
        int64_t klev = xb_block_rows(s->K, a->rows, a->row_split == XB_SPLIT_EVEN, 0) *
                       ((1 << a->bits_per_cell) - 1);
        l->max_column_sum = (a->flip ? klev / 2 : klev) * ((1 << a->dac_bits) - 1);
        l->adc_bits = xb_arch_layer_adc_bits(a, i, n, NULL);
        l->adc_cycle_frac = 1;
        xb_dac_map_layer(a, l);    /* dac.model = pulse: expected pulses */
        xb_raella_map_layer(a, l); /* dac.speculation: both passes' cycles */
        xb_buffer_map_layer(a, l);
    }
    place(a, m);
    if (xb_replication_check_budget(a, m, ctx) != XB_OK) {
        xb_mapping_free(m);
        return NULL;
    }
    if (a->replication == XB_REP_BALANCE) balance(a, m);
    if (a->replication == XB_REP_MILP) {
        if (xb_replicate_milp(a, m, a->budget_tiles ? a->budget_tiles : a->tiles, ctx) != XB_OK) {
            xb_mapping_free(m);
            return NULL;
        }
        place(a, m);
    }
    return m;
}

void xb_mapping_free(xb_mapping *m) {
    if (!m) return;
    free(m->layers);
    free(m);
}

void xb_layer_xbar_usage(const xb_arch *a, const xb_layer_map *l, int64_t x, int64_t *rows_used,
                         int64_t *cols_used) {
    if (l->groups_per_xbar > 1) {
        /* packed: crossbar x holds groups x g .. x g + g - 1 (fewer in the
         * last), drawn as the rectangle their diagonal blocks span */
        int64_t first = (x % xb_layer_copy_xbars(l)) * l->groups_per_xbar;
        int64_t ng = l->s.groups - first < l->groups_per_xbar ? l->s.groups - first
                                                              : l->groups_per_xbar;
        *rows_used = ng * l->rows_stored;
        *cols_used = ng * l->s.N * l->w_slices * l->cols_per_slice;
        return;
    }
    int64_t in_group = x % l->xbars_per_group;
    int64_t rb = in_group / l->col_blocks, cb = in_group % l->col_blocks;
    *rows_used = xb_block_rows(l->rows_stored, a->rows, a->row_split == XB_SPLIT_EVEN, rb);
    int64_t units = l->s.N * l->w_slices - cb * l->units_per_xbar;
    if (units > l->units_per_xbar) units = l->units_per_xbar;
    *cols_used = units * l->cols_per_slice;
}

/* Twelve well-separated colours; later layers reuse them darker. */
static void layer_color(int i, png_byte rgb[3]) {
    static const png_byte pal[12][3] = {
        {230, 25, 75},  {60, 180, 75},  {0, 130, 200},  {245, 130, 48}, {145, 30, 180}, {70, 240, 240},
        {240, 50, 230}, {210, 245, 60}, {0, 128, 128},  {170, 110, 40}, {128, 0, 0},    {0, 0, 128}};
    int shade = 4 - (i / 12) % 3; /* 4/4, 3/4, 2/4 brightness */
    for (int c = 0; c < 3; c++) rgb[c] = (png_byte)(pal[i % 12][c] * shade / 4);
}

xb_status xb_mapping_heatmap(const xb_mapping *m, const char *path, xb_ctx *ctx) {
    const xb_arch *a = &m->arch;
    int64_t total = m->xbars > 0 ? m->xbars : 1;
    /* Crossbars in a near-square grid, each drawn downscaled by an integer
     * factor so the image stays under ~2400 pixels wide. */
    int64_t gcols = 1;
    while (gcols * gcols < total) gcols++;
    int64_t grows = (total + gcols - 1) / gcols;
    int64_t big = a->rows > a->cols ? a->rows : a->cols;
    int64_t f = 1;
    while (gcols * (big / f + 2) > 2400 && f < big) f++;
    int64_t bw = (a->cols + f - 1) / f, bh = (a->rows + f - 1) / f, gap = 2;
    int64_t W = gcols * (bw + gap) + gap, H = grows * (bh + gap) + gap;
    if (W * H > 40000000)
        return xb_fail(ctx, XB_ERR_INVALID, "%s: heatmap of %lld crossbars would be too large",
                       path, (long long)m->xbars);
    png_byte *img = xb_malloc(ctx, (size_t)(W * H * 3));
    if (!img) return ctx->status;
    memset(img, 255, (size_t)(W * H * 3));
    for (int li = 0; li < m->n; li++) {
        const xb_layer_map *l = &m->layers[li];
        png_byte rgb[3];
        layer_color(li, rgb);
        for (int64_t x = 0; x < l->xbars; x++) {
            int64_t gx = l->first_xbar + x, ru, cu;
            xb_layer_xbar_usage(a, l, x, &ru, &cu);
            int64_t ox = gap + (gx % gcols) * (bw + gap), oy = gap + (gx / gcols) * (bh + gap);
            for (int64_t py = 0; py < bh; py++)
                for (int64_t px = 0; px < bw; px++) {
                    png_byte *d = img + ((oy + py) * W + ox + px) * 3;
                    bool used = py * f < ru && px * f < cu;
                    if (used) memcpy(d, rgb, 3);
                    else d[0] = d[1] = d[2] = 200;
                }
        }
    }
    FILE *fp = fopen(path, "wb");
    if (!fp) {
        free(img);
        return xb_fail(ctx, XB_ERR_IO, "%s: cannot write heatmap", path);
    }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(fp);
        free(img);
        return xb_fail(ctx, XB_ERR_IO, "%s: libpng failed writing the heatmap", path);
    }
    png_init_io(png, fp);
    png_set_IHDR(png, info, (png_uint_32)W, (png_uint_32)H, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int64_t y = 0; y < H; y++) png_write_row(png, img + y * W * 3);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(img);
    if (fclose(fp) != 0) return xb_fail(ctx, XB_ERR_IO, "%s: write failed", path);
    return XB_OK;
}
