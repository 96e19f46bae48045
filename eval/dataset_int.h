/* Helpers shared by the dataset loaders (not part of the public API). */
#ifndef XBAR_DATASET_INT_H
#define XBAR_DATASET_INT_H

#include <stdbool.h>
#include <stddef.h>

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

/* A zeroed dataset with name/path copied and room for n images of c*h*w
 * bytes and n labels. */
xb_dataset *xb_dataset_alloc(const char *path, int64_t n, int c, int h, int w, xb_ctx *ctx);

/* Folder part of `path` ("." when none) into buf. */
void xb_dirname(const char *path, char *buf, size_t n);

#endif
