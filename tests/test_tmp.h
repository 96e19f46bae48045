/* Temporary files for tests that exercise file loaders. */
#ifndef XBAR_TEST_TMP_H
#define XBAR_TEST_TMP_H

#include <stddef.h>

/* mkdtemp under $TMPDIR (or /tmp); returns a static path (one per process,
 * which is one per test under Criterion's forking runner). */
const char *xb_tmpdir(void);
/* "<tmpdir>/<name>" into a static rotating buffer (8 live results). */
const char *xb_tmp(const char *name);
void xb_write_bytes(const char *path, const void *data, size_t n);
/* gzip-compressed write. */
void xb_write_gz(const char *path, const void *data, size_t n);
void xb_mkdir(const char *path);
/* Remove the temp dir and everything in it. */
void xb_tmp_cleanup(void);

/* Image i of a loaded dataset, from memory or read from its file
 * (xb_dataset_pixels) into a buffer kept until the next call; a failed
 * read fails the test with the loader's message. */
struct xb_dataset;
const unsigned char *xb_test_pixels(const struct xb_dataset *d, long long i);

/* XB_HAVE_ASAN: built with AddressSanitizer (gcc or clang), for tests that
 * cap the address space, which ASan's shadow memory cannot live with. */
#if defined(__SANITIZE_ADDRESS__)
#define XB_HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XB_HAVE_ASAN 1
#endif
#endif

#endif
