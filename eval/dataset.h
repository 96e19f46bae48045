/* Labelled image datasets, decoded to 8-bit pixels.
 *
 * Every loader produces the same thing: n images of c x h x w bytes, planar
 * (NCHW, the layout the models take), one label per image and, when the
 * format carries them, class names.  Conversion to floats (pixel/255, mean,
 * std, grey<->RGB) is a separate step (eval/preprocess.h) because it
 * depends on the model, not on the file.
 *
 * Formats (one file each):
 *   dataset_idx.c    IDX (MNIST, Fashion-MNIST): images idx3 u8, gzip or
 *                    plain; labels idx1 found beside the images file
 *   dataset_cifar.c  CIFAR-10 binary: 3073-byte records, class names from
 *                    batches.meta.txt beside it
 *   dataset_png.c    a folder of class-named subfolders of PNG and JPEG
 *                    files, and single PNG files (xbar classify)
 *   dataset_jpeg.c   JPEG files through libjpeg
 *   image_resize.c   --resize / --center-crop of decoded image files
 * A new format is one more file with one more xb_dataset_load_* function,
 * plus a branch in xb_dataset_open (dataset.c) that recognises it.
 *
 * Loaders trust nothing in the file: every size is checked against the
 * bytes actually present before anything is allocated or indexed, and every
 * failure is one message naming the file and the cause. */
#ifndef XBAR_DATASET_H
#define XBAR_DATASET_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "runtime/status.h"

/* Hard limits on what a dataset file may claim: far beyond any real test
 * set, small enough that a lying header cannot make us allocate gigabytes. */
#define XB_DATASET_MAX_IMAGES 10000000
#define XB_DATASET_MAX_SIDE 4096
#define XB_DATASET_MAX_BYTES ((size_t)1 << 31)

/* Geometry changes applied to images read from files (PNG and JPEG alike,
 * eval/image_resize.c); 0: off.
 *   resize N       scale so the shorter side is N (the longer one keeps
 *                  the aspect ratio, rounded down), bilinear;
 *   center-crop M  then keep the central M x M.
 * The final size is computed from each file's header and checked against
 * the model's input before any pixel is decoded. */
typedef struct xb_image_opts {
    int resize, crop;
} xb_image_opts;

typedef struct xb_dataset {
    char *name;          /* what the user asked for: "mnist", a path... */
    char *path;          /* the file or folder actually read */
    int64_t n;           /* images */
    int c, h, w;         /* channels (1 grey, 3 RGB), height, width */
    uint8_t *images;     /* [n][c][h][w], or NULL: read file by file (below) */
    int32_t *labels;     /* [n]: class index */
    int n_classes;       /* number of class names (0 when the format has none) */
    char **class_names;  /* [n_classes] or NULL */
    char **files;        /* image folders only: [n] file of each image, else NULL */
    xb_image_opts io;    /* image folders: --resize/--center-crop of each file */
    FILE *file;          /* uncompressed IDX / CIFAR: the open file, or NULL */
    int64_t file_off, file_stride; /* image i's pixels at file_off + i x file_stride */
} xb_dataset;

/* Only gzipped IDX and CIFAR files are held decoded in `images`.  Other
 * datasets are read image by image when a run asks (xb_dataset_pixels), so
 * they cost memory for their labels (and a folder's file names) plus one
 * image per thread, whatever their size:
 *   - uncompressed IDX and CIFAR files stay open; an image is one pread
 *     (the loader checked the file's size against its header or records);
 *   - image folders: the loader reads every file's header (size, grey or
 *     colour) and keeps the file list; an image is decoded from its file
 *     (ImageNet's 50,000 validation JPEGs would be 7.5 GB of pixels at
 *     224 x 224 held whole). */

/* Image i in memory, or NULL when the dataset is read file by file: use
 * xb_dataset_pixels, which works for both. */
static inline const uint8_t *xb_dataset_image(const xb_dataset *d, int64_t i) {
    if (!d->images) return NULL;
    return d->images + (size_t)i * (size_t)d->c * (size_t)d->h * (size_t)d->w;
}

/* Bytes of one image: c x h x w. */
static inline size_t xb_dataset_image_bytes(const xb_dataset *d) {
    return (size_t)d->c * (size_t)d->h * (size_t)d->w;
}

/* Image i's c x h x w pixels: in memory, or decoded from its file into buf
 * (xb_dataset_image_bytes(d) bytes; a grey file of a colour folder is
 * replicated to R, G and B).  NULL when the file cannot be read or no
 * longer has the header the folder was listed with; the message names the
 * file.  Safe from several threads with separate buffers. */
const uint8_t *xb_dataset_pixels(const xb_dataset *d, int64_t i, uint8_t *buf, xb_ctx *ctx);

void xb_dataset_free(xb_dataset *d);

/* IDX: `images_path` is an idx3 u8 file (".gz" or plain, detected by the
 * gzip magic, not the name).  Its labels file is found beside it by the
 * standard name mapping "*-images-idx3-ubyte*" -> "*-labels-idx1-ubyte*"
 * (MNIST's "t10k-images.idx3-ubyte" spelling works too). */
xb_status xb_dataset_load_idx(const char *images_path, xb_dataset **out, xb_ctx *ctx);
/* The same keeping only the first n_max images (< 0: all): a gzipped file
 * is still decompressed and checked whole, but only they are held (the
 * calibration images of a training split: 100 of MNIST's 60,000). */
xb_status xb_dataset_load_idx_head(const char *images_path, int64_t n_max, xb_dataset **out,
                                   xb_ctx *ctx);

/* CIFAR-10 binary version: any number of 3073-byte records (label byte, then
 * 1024 R, 1024 G, 1024 B bytes).  Class names come from batches.meta.txt in
 * the same folder when it exists. */
xb_status xb_dataset_load_cifar(const char *path, xb_dataset **out, xb_ctx *ctx);

/* A folder whose subfolders are the classes, each holding PNG files.
 * Classes and files are taken in byte-wise (strcmp) sorted order, so the
 * label numbering is the same on every machine.  Files not ending in ".png"
 * (case-insensitive) and hidden entries are ignored.  All images must have
 * the same size; if some are colour and some grey, the grey ones are
 * replicated to RGB. */
xb_status xb_dataset_load_png_dir(const char *dir, xb_dataset **out, xb_ctx *ctx);

/* One PNG of any valid kind (1/2/4/8/16-bit; grey, grey+alpha, RGB, RGBA,
 * palette; tRNS; interlaced) decoded to 8-bit grey (c = 1) or RGB (c = 3),
 * planar [c][h][w] in *pixels (caller frees).
 *   - 16-bit samples are scaled to 8 bits with rounding (png_set_scale_16);
 *   - palette images become RGB, low-bit grey is expanded to 0..255;
 *   - alpha (an alpha channel or tRNS) is composited onto black:
 *     v' = round(v * a / 255).  Black is the background the datasets we
 *     serve were drawn on (MNIST digits are white on black), so a transparent
 *     background reads the way the model was trained.
 *   - no gamma correction: pixel values are taken as stored. */
xb_status xb_png_load(const char *path, uint8_t **pixels, int *c, int *h, int *w, xb_ctx *ctx);
/* The same, refusing (XB_ERR_INVALID) an image whose header says it is not
 * want_w x want_h before decoding it; 0, 0: any size.  Only regular files
 * are opened (a FIFO would block). */
xb_status xb_png_load_sized(const char *path, int want_h, int want_w, uint8_t **pixels, int *c,
                            int *h, int *w, xb_ctx *ctx);
/* A PNG folder whose images must all be want_w x want_h (0, 0: any). */
xb_status xb_dataset_load_png_dir_sized(const char *dir, int want_h, int want_w, xb_dataset **out,
                                        xb_ctx *ctx);
/* A folder of class-named subfolders of PNG and JPEG files (".png",
 * ".jpg", ".jpeg", any case; regular files only), each resized/cropped by
 * `io` (may be NULL) and then required to be want_w x want_h (0, 0: any);
 * the size is checked from each file's header before it is decoded. */
xb_status xb_dataset_load_image_dir(const char *dir, int want_h, int want_w, const xb_image_opts *io,
                                    xb_dataset **out, xb_ctx *ctx);
/* One PNG or JPEG file (chosen by its extension), checked and transformed
 * as in a folder.  pixels NULL: read the header only and give the channels
 * and the size decoding would give (after io), nothing decoded. */
xb_status xb_image_load(const char *path, int want_h, int want_w, const xb_image_opts *io,
                        uint8_t **pixels, int *c, int *h, int *w, xb_ctx *ctx);

/* Resolve a --data SPEC and load it:
 *   "mnist", "fashion-mnist"  t10k-images-idx3-ubyte.gz in the data dir
 *   "cifar10"                 test_batch.bin in the data dir
 *   a path                    a directory (PNG folder), a ".bin" file (CIFAR),
 *                             or anything else as an IDX images file.
 * Data dir: $XBAR_DATA/<name>/ when XBAR_DATA is set, else
 * <source tree>/datasets/data/<name>/.  A missing named dataset fails with a
 * message naming where it looked and how to fetch it. */
xb_status xb_dataset_open(const char *spec, xb_dataset **out, xb_ctx *ctx);
/* The file or folder a spec names, without opening it: a built-in name's
 * test file in its data dir (as xb_dataset_open looks for it), else the
 * spec itself.  Into buf; returns buf. */
const char *xb_dataset_path(const char *spec, char *buf, size_t n);
/* One of the built-in dataset names (mnist, fashion-mnist, cifar10): the
 * only values a model's xbar.dataset metadata may hold, never a path. */
bool xb_dataset_is_builtin(const char *name);
/* The same for a model taking want_w x want_h images (0, 0: any): PNG
 * images of another size are refused from their header, before decoding. */
xb_status xb_dataset_open_sized(const char *spec, int want_h, int want_w, xb_dataset **out,
                                xb_ctx *ctx);
/* The file `path` (not a name or folder) keeping only its first n_max
 * images (< 0: all) where that saves memory: a gzipped IDX file
 * (xb_dataset_load_idx_head); other files are read image by image anyway. */
xb_status xb_dataset_open_head(const char *path, int want_h, int want_w, int64_t n_max,
                               xb_dataset **out, xb_ctx *ctx);
/* The same, image folders resized/cropped by io (may be NULL); io set for
 * a non-folder spec (IDX, CIFAR) is an error: those hold fixed-size images. */
xb_status xb_dataset_open_opts(const char *spec, int want_h, int want_w, const xb_image_opts *io,
                               xb_dataset **out, xb_ctx *ctx);

/* Whether a file path names CIFAR binary records (".bin" or ".bin.gz"):
 * anything else that is not a folder is read as IDX. */
bool xb_dataset_is_cifar_name(const char *path);

/* The training split stored beside a test-set file, if there is one:
 * "...t10k-images-idx3-ubyte[.gz]" -> "...train-images-idx3-ubyte[.gz]",
 * ".../test_batch.bin" -> ".../data_batch_1.bin".  Returns buf, or NULL
 * when the name does not follow those conventions or the file is absent.
 * (xbar run calibrates on it when the test data has no images to spare.) */
const char *xb_dataset_train_split(const char *test_path, char *buf, size_t n);

/* "<XBAR_DATA or repo/datasets/data>/<name>" into buf. */
const char *xb_data_dir(const char *name, char *buf, size_t n);

/* Relabel the dataset so labels index the model's class list.
 *   - every dataset class name found among `model_classes`: labels are
 *     mapped by name (the usual case for PNG folders named after classes);
 *   - no dataset class name found: keep the dataset's own order, which is
 *     what IDX/CIFAR (numeric labels) and folders named 0..9 expect; *note
 *     (may be NULL) receives a sentence to show the user when the dataset
 *     had names that did not match;
 *   - some found, some not: an error listing the unmatched names.
 * Labels >= n_model_classes fail in any case. */
xb_status xb_dataset_match_classes(xb_dataset *d, char *const *model_classes, int n_model_classes,
                                   char *note, size_t note_n, xb_ctx *ctx);

/* Split "a,b,c" into a NULL-terminated, malloc'd array of trimmed strings;
 * *n receives the count.  Used for the xbar.classes metadata. */
char **xb_split_list(const char *s, int *n, xb_ctx *ctx);
void xb_free_list(char **list, int n);

#endif
