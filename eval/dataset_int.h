/* Helpers shared by the dataset loaders (not part of the public API). */
#ifndef XBAR_DATASET_INT_H
#define XBAR_DATASET_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "eval/dataset.h"

/* Whole contents of a file, transparently gunzipped when it starts with the
 * gzip magic.  Fails naming the file when it is missing, unreadable, a
 * corrupt or truncated gzip stream, or larger than `max` bytes. */
xb_status xb_read_file_gz(const char *path, size_t max, unsigned char **data, size_t *len,
                          xb_ctx *ctx);
/* The same, but more than `max` bytes is not an error: reading stops at
 * `max` (nothing beyond is decompressed or allocated) and *more says
 * whether the file had more.  Reads a header: xb_read_file_gz_upto(p, 16). */
xb_status xb_read_file_gz_upto(const char *path, size_t max, unsigned char **data, size_t *len,
                               bool *more, xb_ctx *ctx);

/* Exactly skip + total bytes of a gzipped (or plain) file, of which the
 * `keep` after the first `skip` go to dst (keep <= total) and the rest is
 * decompressed into a small buffer and dropped: the whole stream is read,
 * so its CRC is checked and a truncated file or one with more data fails as
 * in xb_read_file_gz, while only dst is allocated (by the caller, once). */
xb_status xb_read_gz_into(const char *path, size_t skip, uint8_t *dst, size_t keep, size_t total,
                          xb_ctx *ctx);

/* A zeroed dataset with name/path copied and room for n images of c*h*w
 * bytes and n labels. */
xb_dataset *xb_dataset_alloc(const char *path, int64_t n, int c, int h, int w, xb_ctx *ctx);
/* The same without pixels (images NULL): an image folder, whose files are
 * decoded one at a time by xb_dataset_pixels. */
xb_dataset *xb_dataset_alloc_files(const char *path, int64_t n, int c, int h, int w,
                                   xb_ctx *ctx);

/* The file starts with the gzip magic (1f 8b); false when unreadable. */
bool xb_file_is_gzip(const char *path);

/* Open for reading only a regular file (a FIFO would block, a device
 * might never end); NULL with the message in ctx. */
FILE *xb_open_regular(const char *path, xb_ctx *ctx);

/* --- image geometry (image_resize.c) --- */
/* Size of an h x w image after io's resize and crop (io may be NULL);
 * false when the crop does not fit or the size is out of range. */
bool xb_image_geometry(const xb_image_opts *io, int h, int w, int *oh, int *ow);
/* Will an h x w image be want_h x want_w after io? (want 0: any size) */
bool xb_image_fits(const xb_image_opts *io, int h, int w, int want_h, int want_w);
/* Why it does not, into buf. */
void xb_image_size_error(char *buf, size_t n, const xb_image_opts *io, int h, int w, int want_h,
                         int want_w);
/* Resize and crop planar [c][h][w] pixels in place of *pixels (which the
 * caller frees in every case). */
xb_status xb_image_transform(const xb_image_opts *io, uint8_t **pixels, int c, int *h, int *w,
                             const char *path, xb_ctx *ctx);

/* --- image files --- */
/* PNG / JPEG decoded to planar 8-bit grey or RGB, the header checked with
 * xb_image_fits before decoding, then transformed by io. */
xb_status xb_png_load_opts(const char *path, int want_h, int want_w, const xb_image_opts *io,
                           uint8_t **pixels, int *c, int *h, int *w, xb_ctx *ctx);
xb_status xb_jpeg_load_opts(const char *path, int want_h, int want_w, const xb_image_opts *io,
                            uint8_t **pixels, int *c, int *h, int *w, xb_ctx *ctx);

/* Folder part of `path` ("." when none) into buf. */
void xb_dirname(const char *path, char *buf, size_t n);

#endif
