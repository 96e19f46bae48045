/* SHA-256 of a file, for the provenance block (eval/provenance.h).
 * Written from the specification: FIPS 180-4, sections 4.1.2, 4.2.2, 5.3.3
 * and 6.2. */
#ifndef XBAR_SHA256_H
#define XBAR_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/status.h"

typedef struct {
    uint32_t h[8];
    uint64_t bytes;
    uint8_t block[64];
    size_t fill;
} xb_sha256;

void xb_sha256_init(xb_sha256 *s);
void xb_sha256_update(xb_sha256 *s, const void *data, size_t n);
/* The digest as 64 lowercase hex digits and a NUL. */
void xb_sha256_hex(xb_sha256 *s, char hex[65]);
/* Hash the file at `path` into hex; XB_ERR_IO naming the file on failure. */
xb_status xb_sha256_file(const char *path, char hex[65], xb_ctx *ctx);

#endif
