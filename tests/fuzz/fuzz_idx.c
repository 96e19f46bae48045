/* libFuzzer harness: IDX images + labels (MNIST format, plain or gzip).
 * Input layout: 2-byte little-endian length L, L bytes of the labels file,
 * then the images file (tests/fuzz/fuzz_util.h: fz_split). */
#include "eval/dataset.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char images[300], labels[300];
    if (!images[0]) {
        fz_path(images, sizeof images, "t10k-images-idx3-ubyte");
        fz_path(labels, sizeof labels, "t10k-labels-idx1-ubyte");
    }
    const uint8_t *lb, *ib;
    size_t ll, il;
    fz_split(data, size, &lb, &ll, &ib, &il);
    fz_write(labels, lb, ll);
    fz_write(images, ib, il);
    xb_ctx ctx = {0};
    xb_dataset *d = NULL;
    xb_status st = xb_dataset_load_idx(images, &d, &ctx);
    fz_check_fail(st, &ctx, fz_tmpdir());
    if (st == XB_OK) {
        if (!d || d->n < 1 || d->c != 1 || d->h < 1 || d->w < 1) abort();
        volatile uint32_t sum = 0;
        for (int64_t i = 0; i < d->n; i++) sum += (uint32_t)d->labels[i];
        /* every image, from memory (gzip) or read from the open file */
        uint8_t *buf = malloc(xb_dataset_image_bytes(d));
        if (!buf) abort();
        for (int64_t i = 0; i < d->n; i++) {
            xb_ctx rc = {0};
            const uint8_t *px = xb_dataset_pixels(d, i, buf, &rc);
            if (!px) abort(); /* the file did not change since it was checked */
            for (size_t k = 0; k < xb_dataset_image_bytes(d); k++) sum += px[k];
        }
        free(buf);
        (void)sum;
        xb_dataset_free(d);
    } else if (d) {
        abort();
    }
    return 0;
}
