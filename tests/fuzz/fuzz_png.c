/* libFuzzer harness: bytes -> <tmp>/png/a/x.png, beside a fixed valid 28x28
 * grey PNG in <tmp>/png/b/, loaded with xb_dataset_load_png_dir: the fuzzed
 * file goes through xb_png_load (every colour type, depth, interlacing,
 * corrupt chunks) and, when it decodes, through the folder logic (size
 * mismatch, grey replicated to RGB). */
#include <zlib.h>

#include "eval/dataset.h"
#include "tests/fuzz/fuzz_util.h"

static void be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* A chunk: length, type, data, CRC over type and data (PNG spec 5.3). */
static size_t chunk(uint8_t *out, const char *type, const uint8_t *d, uint32_t n) {
    be32(out, n);
    memcpy(out + 4, type, 4);
    if (n) memcpy(out + 8, d, n);
    be32(out + 8 + n, (uint32_t)crc32(0, out + 4, 4 + n));
    return 12 + n;
}

/* 28x28 8-bit grey, every pixel 0x80, built with zlib. */
static void write_fixed_png(const char *path) {
    uint8_t raw[28 * 29], z[2048], png[4096];
    for (int y = 0; y < 28; y++) {
        raw[y * 29] = 0; /* filter: none */
        memset(raw + y * 29 + 1, 0x80, 28);
    }
    uLongf zl = sizeof z;
    if (compress(z, &zl, raw, sizeof raw) != Z_OK) abort();
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t ihdr[13] = {0};
    be32(ihdr, 28);
    be32(ihdr + 4, 28);
    ihdr[8] = 8; /* depth; colour type 0, compression 0, filter 0, no interlace */
    size_t n = 0;
    memcpy(png, sig, 8);
    n = 8;
    n += chunk(png + n, "IHDR", ihdr, 13);
    n += chunk(png + n, "IDAT", z, (uint32_t)zl);
    n += chunk(png + n, "IEND", NULL, 0);
    fz_write(path, png, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char root[300], file[300];
    if (!root[0]) fz_class_folder(root, sizeof root, file, sizeof file, "png", "png", write_fixed_png);
    fz_write(file, data, size);
    xb_ctx ctx = {0};
    xb_dataset *d = NULL;
    xb_status st = xb_dataset_load_png_dir(root, &d, &ctx);
    fz_check_fail(st, &ctx, root);
    fz_check_class_folder(st, d);
    return 0;
}
