/* Resizing and centre cropping of decoded images (--resize, --center-crop),
 * applied to PNG and JPEG alike after decoding, and the geometry check that
 * runs on a file's header before decoding.
 *
 * Resize: the shorter side becomes N, the longer one N * long / short
 * rounded down (torchvision's Resize(N) with an int N).  Interpolation is
 * bilinear with half-pixel centres (source x = (x' + 0.5) * in / out - 0.5,
 * clamped to the edges; OpenCV's INTER_LINEAR, torchvision with
 * antialias=False), rounded to the nearest byte.  There is no antialiasing
 * filter: shrinking by much more than 2x skips pixels, so such images are
 * better shrunk beforehand with a filtering tool.
 * Centre crop M: the central M x M, the offset (size - M) / 2 rounded half
 * to even (torchvision's center_crop).  A crop larger than the image is an
 * error (torchvision would pad with zeros). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/dataset.h"
#include "eval/dataset_int.h"

bool xb_image_geometry(const xb_image_opts *io, int h, int w, int *oh, int *ow) {
    *oh = h;
    *ow = w;
    if (!io) return true;
    if (io->resize > 0) {
        int64_t s = h < w ? h : w, l = h < w ? w : h;
        int64_t nl = l * io->resize / s;
        if (nl < 1 || nl > XB_DATASET_MAX_SIDE) return false;
        *oh = h < w ? io->resize : (int)nl;
        *ow = h < w ? (int)nl : io->resize;
    }
    if (io->crop > 0) {
        if (io->crop > *oh || io->crop > *ow) return false;
        *oh = *ow = io->crop;
    }
    return true;
}

void xb_image_size_error(char *buf, size_t n, const xb_image_opts *io, int h, int w, int want_h,
                         int want_w) {
    int oh, ow;
    bool any = io && (io->resize > 0 || io->crop > 0);
    if (!any)
        snprintf(buf, n, "image is %dx%d (width x height) but the model takes %dx%d; use --resize "
                 "and/or --center-crop to fit it", w, h, want_w, want_h);
    else if (!xb_image_geometry(io, h, w, &oh, &ow))
        snprintf(buf, n, "image is %dx%d (width x height): after --resize %d it is larger than "
                 "%d pixels a side or smaller than --center-crop %d", w, h, io->resize,
                 XB_DATASET_MAX_SIDE, io->crop);
    else
        snprintf(buf, n, "image is %dx%d (width x height), %dx%d after --resize %d --center-crop "
                 "%d, but the model takes %dx%d", w, h, ow, oh, io->resize, io->crop, want_w,
                 want_h);
}

bool xb_image_fits(const xb_image_opts *io, int h, int w, int want_h, int want_w) {
    int oh, ow;
    if (!xb_image_geometry(io, h, w, &oh, &ow)) return false;
    return want_h <= 0 || (oh == want_h && ow == want_w);
}

/* One plane, bilinear, half-pixel centres. */
static void resize_plane(const uint8_t *src, int h, int w, uint8_t *dst, int oh, int ow) {
    double sy = (double)h / oh, sx = (double)w / ow;
    for (int y = 0; y < oh; y++) {
        double fy = (y + 0.5) * sy - 0.5;
        if (fy < 0) fy = 0;
        if (fy > h - 1) fy = h - 1;
        int y0 = (int)fy, y1 = y0 + 1 < h ? y0 + 1 : y0;
        double ay = fy - y0;
        for (int x = 0; x < ow; x++) {
            double fx = (x + 0.5) * sx - 0.5;
            if (fx < 0) fx = 0;
            if (fx > w - 1) fx = w - 1;
            int x0 = (int)fx, x1 = x0 + 1 < w ? x0 + 1 : x0;
            double ax = fx - x0;
            double top = src[(size_t)y0 * w + x0] * (1 - ax) + src[(size_t)y0 * w + x1] * ax;
            double bot = src[(size_t)y1 * w + x0] * (1 - ax) + src[(size_t)y1 * w + x1] * ax;
            double v = top * (1 - ay) + bot * ay;
            dst[(size_t)y * ow + x] = (uint8_t)floor(v + 0.5);
        }
    }
}

/* Offset of a centred crop: (size - m) / 2, half rounded to even. */
static int crop_offset(int size, int m) {
    int d = size - m, q = d / 2;
    return (d % 2 == 0 || q % 2 == 0) ? q : q + 1;
}

xb_status xb_image_transform(const xb_image_opts *io, uint8_t **pixels, int c, int *h, int *w,
                             const char *path, xb_ctx *ctx) {
    int oh, ow;
    if (!io || (io->resize <= 0 && io->crop <= 0)) return XB_OK;
    if (!xb_image_geometry(io, *h, *w, &oh, &ow)) {
        char m[256];
        xb_image_size_error(m, sizeof m, io, *h, *w, 0, 0);
        return xb_fail(ctx, XB_ERR_INVALID, "%s: %s", path, m);
    }
    int rh = *h, rw = *w;
    uint8_t *cur = *pixels;
    if (io->resize > 0) {
        xb_image_opts r = {.resize = io->resize};
        xb_image_geometry(&r, *h, *w, &rh, &rw);
        if (rh != *h || rw != *w) {
            uint8_t *out = xb_malloc(ctx, (size_t)c * (size_t)rh * (size_t)rw);
            if (!out) return ctx->status;
            for (int k = 0; k < c; k++)
                resize_plane(cur + (size_t)k * (size_t)*h * (size_t)*w, *h, *w,
                             out + (size_t)k * (size_t)rh * (size_t)rw, rh, rw);
            free(cur);
            cur = out;
        }
    }
    if (io->crop > 0 && (io->crop != rh || io->crop != rw)) {
        int m = io->crop, top = crop_offset(rh, m), left = crop_offset(rw, m);
        uint8_t *out = xb_malloc(ctx, (size_t)c * (size_t)m * (size_t)m);
        if (!out) {
            *pixels = cur;
            *h = rh;
            *w = rw;
            return ctx->status;
        }
        for (int k = 0; k < c; k++)
            for (int y = 0; y < m; y++)
                memcpy(out + ((size_t)k * m + y) * m,
                       cur + ((size_t)k * rh + (size_t)(top + y)) * rw + left, (size_t)m);
        free(cur);
        cur = out;
        rh = rw = m;
    }
    *pixels = cur;
    *h = rh;
    *w = rw;
    return XB_OK;
}
