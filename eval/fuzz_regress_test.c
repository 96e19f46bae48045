/* Regression tests for what fuzzing and the review around it (tests/fuzz)
 * found in the dataset loaders.  Each reproduces its finding from bytes or
 * files built here. */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "eval/dataset.h"
#include "tests/test_tmp.h"

static void fini(void) { xb_tmp_cleanup(); }

/* A sparse 3 GiB CIFAR file: the loader used to cap its read at
 * 10M records (30 GB), so it allocated and read the whole file (or, gzip'd,
 * inflated it) before finding it had more images than it would ever accept.
 * Now the cap is what xb_dataset_alloc accepts, and a plain file's size is
 * checked before any read.  The address-space cap (plain builds; ASan
 * needs terabytes of shadow) turns the old behaviour into a failure. */
Test(fuzz_regress, cifar_file_beyond_the_limit_fails_before_reading, .fini = fini) {
    const char *path = xb_tmp("big.bin");
    xb_write_bytes(path, "", 0);
    cr_assert_eq(truncate(path, (off_t)3 << 30), 0);
#ifndef XB_HAVE_ASAN
    struct rlimit r = {(rlim_t)1 << 30, (rlim_t)1 << 30};
    cr_assert_eq(setrlimit(RLIMIT_AS, &r), 0);
#endif
    xb_ctx ctx = {0};
    xb_dataset *d = NULL;
    cr_assert_eq(xb_dataset_load_cifar(path, &d, &ctx), XB_ERR_INVALID, "%s", ctx.msg);
    cr_assert_null(d);
    cr_assert(strncmp(ctx.msg, path, strlen(path)) == 0, "%s", ctx.msg);
    /* 699050 records of 3073 bytes: the most whose pixels fit 2 GiB */
    cr_assert(strstr(ctx.msg, ": larger than the 2148180650-byte limit"), "%s", ctx.msg);
}
