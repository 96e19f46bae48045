/* libFuzzer harness: CIFAR-10 binary batch plus its batches.meta.txt.
 * Input layout: 2-byte little-endian length L, L bytes of batches.meta.txt
 * (no meta file when L is 0), then the .bin file (plain or gzip). */
#include "eval/dataset.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char bin[300], meta[300];
    if (!bin[0]) {
        fz_path(bin, sizeof bin, "test_batch.bin");
        fz_path(meta, sizeof meta, "batches.meta.txt");
    }
    const uint8_t *mb, *bb;
    size_t ml, bl;
    fz_split(data, size, &mb, &ml, &bb, &bl);
    if (ml)
        fz_write(meta, mb, ml);
    else
        unlink(meta);
    fz_write(bin, bb, bl);
    xb_ctx ctx = {0};
    xb_dataset *d = NULL;
    xb_status st = xb_dataset_open(bin, &d, &ctx);
    fz_check_fail(st, &ctx, fz_tmpdir());
    if (st == XB_OK) {
        if (!d || d->n < 1 || d->c != 3 || d->h != 32 || d->w != 32) abort();
        for (int64_t i = 0; i < d->n; i++)
            if (d->labels[i] < 0 || (d->n_classes > 0 && d->labels[i] >= d->n_classes)) abort();
        for (int k = 0; k < d->n_classes; k++)
            if (!d->class_names[k] || !d->class_names[k][0]) abort();
        /* the first and last image, from memory (gzip) or the open file */
        uint8_t px[3 * 32 * 32];
        xb_ctx rc = {0};
        if (!xb_dataset_pixels(d, 0, px, &rc) || !xb_dataset_pixels(d, d->n - 1, px, &rc)) abort();
        xb_dataset_free(d);
    } else if (d) {
        abort();
    }
    return 0;
}
