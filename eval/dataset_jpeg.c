/* JPEG images through libjpeg (libjpeg-turbo on Debian).
 *
 * The header is read first (jpeg_read_header) and the size the image will
 * have after --resize/--center-crop checked against the model's input
 * before any pixel is decoded or allocated, as for PNG.  Decoding uses
 * libjpeg's defaults (islow DCT, fancy upsampling), the settings Pillow
 * uses too, so pixels equal what a Python pipeline reading the same file
 * sees.  Grey JPEGs stay grey (c = 1), colour ones (YCbCr, RGB) become RGB;
 * CMYK/YCCK are refused.
 *
 * libjpeg reports errors through error_exit, which must not return: it
 * longjmps back.  The state that must be released after the jump lives in a
 * heap block reached through a pointer set before setjmp (see the same note
 * in dataset_png.c). */
/* jpeglib.h uses size_t and FILE without including their headers */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <setjmp.h>

#include "eval/dataset.h"
#include "eval/dataset_int.h"

typedef struct {
    struct jpeg_error_mgr pub;  /* first: libjpeg's error manager */
    jmp_buf jb;
    char err[JMSG_LENGTH_MAX + 64];
    int mismatch;               /* the header failed the size check (err says so) */
    int header_only;            /* stop after the checks (xb_image_probe) */
    unsigned char *raw;         /* interleaved rows */
} jpeg_state;

static void on_jpeg_error(j_common_ptr cinfo) {
    jpeg_state *s = (jpeg_state *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, s->err);
    longjmp(s->jb, 1);
}

/* Corrupt-data warnings (premature end, bad Huffman code) leave a partly
 * grey image behind without an error: treat them as errors, a test set
 * with damaged files should not be scored silently. */
static void on_jpeg_message(j_common_ptr cinfo, int level) {
    if (level < 0) on_jpeg_error(cinfo);
}

/* Header, size check, decode into s->raw.  Called under setjmp. */
static void decode(struct jpeg_decompress_struct *ci, jpeg_state *s, int want_h, int want_w,
                   const xb_image_opts *io, int *c, int *h, int *w) {
    jpeg_read_header(ci, TRUE);
    int ih = (int)ci->image_height, iw = (int)ci->image_width;
    if (ih > XB_DATASET_MAX_SIDE || iw > XB_DATASET_MAX_SIDE || ih < 1 || iw < 1) {
        s->mismatch = 1;
        snprintf(s->err, sizeof s->err, "image is %dx%d, beyond the %d-pixel side limit", iw, ih,
                 XB_DATASET_MAX_SIDE);
        longjmp(s->jb, 1);
    }
    if (!xb_image_fits(io, ih, iw, want_h, want_w)) {
        s->mismatch = 1;
        xb_image_size_error(s->err, sizeof s->err, io, ih, iw, want_h, want_w);
        longjmp(s->jb, 1);
    }
    if (ci->jpeg_color_space == JCS_CMYK || ci->jpeg_color_space == JCS_YCCK) {
        snprintf(s->err, sizeof s->err, "CMYK JPEGs are not supported (convert to RGB)");
        longjmp(s->jb, 1);
    }
    if (s->header_only) { /* what decoding would give */
        *c = ci->num_components == 1 ? 1 : 3;
        *h = ih;
        *w = iw;
        return;
    }
    ci->out_color_space = ci->num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(ci);
    int ch = ci->output_components;
    size_t row = (size_t)ci->output_width * (size_t)ch;
    s->raw = malloc(row * ci->output_height);
    if (!s->raw) {
        snprintf(s->err, sizeof s->err, "out of memory");
        longjmp(s->jb, 1);
    }
    while (ci->output_scanline < ci->output_height) {
        JSAMPROW r = s->raw + (size_t)ci->output_scanline * row;
        jpeg_read_scanlines(ci, &r, 1);
    }
    jpeg_finish_decompress(ci);
    *c = ch;
    *h = (int)ci->output_height;
    *w = (int)ci->output_width;
}

xb_status xb_jpeg_load_opts(const char *path, int want_h, int want_w, const xb_image_opts *io,
                            uint8_t **pixels, int *c, int *h, int *w, xb_ctx *ctx) {
    if (pixels) *pixels = NULL;
    FILE *f = xb_open_regular(path, ctx);
    if (!f) return ctx->status;
    struct jpeg_decompress_struct *ci = calloc(1, sizeof *ci);
    jpeg_state *s = calloc(1, sizeof *s);
    if (!ci || !s) {
        free(ci);
        free(s);
        fclose(f);
        return xb_fail(ctx, XB_ERR_NOMEM, "%s: out of memory", path);
    }
    s->header_only = pixels == NULL;
    ci->err = jpeg_std_error(&s->pub);
    s->pub.error_exit = on_jpeg_error;
    s->pub.emit_message = on_jpeg_message;
    if (setjmp(s->jb)) {
        if (s->mismatch) xb_fail(ctx, XB_ERR_INVALID, "%s: %s", path, s->err);
        else xb_fail(ctx, XB_ERR_PARSE, "%s: corrupt JPEG: %s", path, s->err);
        jpeg_destroy_decompress(ci);
        free(s->raw);
        free(s);
        free(ci);
        fclose(f);
        return ctx->status;
    }
    jpeg_create_decompress(ci);
    jpeg_stdio_src(ci, f);
    int ic = 0, ih = 0, iw = 0;
    decode(ci, s, want_h, want_w, io, &ic, &ih, &iw);
    jpeg_destroy_decompress(ci);
    free(ci);
    fclose(f);
    if (!pixels) { /* header only: the size after io (checked to fit) */
        free(s);
        *c = ic;
        xb_image_geometry(io, ih, iw, h, w);
        return XB_OK;
    }
    /* interleaved -> planar */
    size_t plane = (size_t)ih * (size_t)iw;
    uint8_t *out = malloc(plane * (size_t)ic);
    if (!out) {
        free(s->raw);
        free(s);
        return xb_fail(ctx, XB_ERR_NOMEM, "%s: out of memory", path);
    }
    for (size_t p = 0; p < plane; p++)
        for (int k = 0; k < ic; k++) out[(size_t)k * plane + p] = s->raw[p * (size_t)ic + (size_t)k];
    free(s->raw);
    free(s);
    if (xb_image_transform(io, &out, ic, &ih, &iw, path, ctx) != XB_OK) {
        free(out);
        return ctx->status;
    }
    *pixels = out;
    *c = ic;
    *h = ih;
    *w = iw;
    return XB_OK;
}
