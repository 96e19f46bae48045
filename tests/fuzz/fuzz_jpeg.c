/* libFuzzer harness: a JPEG in a class folder, beside a fixed valid 28x28
 * grey JPEG in another, loaded with xb_dataset_load_image_dir (the class-
 * folder loader of --data DIR): the fuzzed file goes through
 * eval/dataset_jpeg.c (header, size check before decoding, libjpeg's
 * errors and corrupt-data warnings turned into errors, CMYK refused,
 * interleaved -> planar) and, when it decodes, through the folder logic
 * (size mismatch, grey replicated to RGB) and the --resize/--center-crop
 * transform.
 *
 * Input: the first byte picks the image options (modulo 3): 0 none,
 * 1 --resize 32 --center-crop 28, 2 --resize 28; the rest is the file.
 * The model size is 28x28 in every mode, so the fixed image always fits. */
/* jpeglib.h uses size_t and FILE without including their headers */
#include <stdio.h>
#include <stdlib.h>
#include <jpeglib.h>

#include "eval/dataset.h"
#include "tests/fuzz/fuzz_util.h"

/* 28x28 8-bit grey, every pixel 0x80, with libjpeg at quality 100: a flat
 * block has only a DC term, which decodes back to exactly 0x80. */
static void write_fixed_jpeg(const char *path) {
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr jerr;
    ci.err = jpeg_std_error(&jerr); /* default error_exit: exits on failure, fine in setup */
    jpeg_create_compress(&ci);
    jpeg_stdio_dest(&ci, f);
    ci.image_width = 28;
    ci.image_height = 28;
    ci.input_components = 1;
    ci.in_color_space = JCS_GRAYSCALE;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, 100, TRUE);
    jpeg_start_compress(&ci, TRUE);
    JSAMPLE row[28];
    memset(row, 0x80, sizeof row);
    while (ci.next_scanline < 28) {
        JSAMPROW r = row;
        jpeg_write_scanlines(&ci, &r, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    if (fclose(f) != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char root[300], file[300];
    if (!root[0]) fz_class_folder(root, sizeof root, file, sizeof file, "jpeg", "jpg", write_fixed_jpeg);
    if (size < 1) return 0;
    static const xb_image_opts modes[3] = {{0, 0}, {32, 28}, {28, 0}};
    const xb_image_opts *io = data[0] % 3 ? &modes[data[0] % 3] : NULL;
    fz_write(file, data + 1, size - 1);
    xb_ctx ctx = {0};
    xb_dataset *d = NULL;
    xb_status st = xb_dataset_load_image_dir(root, 28, 28, io, &d, &ctx);
    fz_check_fail(st, &ctx, root);
    fz_check_class_folder(st, d);
    return 0;
}
