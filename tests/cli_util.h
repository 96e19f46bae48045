/* Running the xbar executable from tests: one helper for every CLI test
 * file, so they agree on how the binary is found and output captured. */
#ifndef XBAR_TEST_CLI_UTIL_H
#define XBAR_TEST_CLI_UTIL_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* Output of the last xb_cli_run, NUL-terminated (truncated if longer). */
extern char xb_cli_out[1 << 17], xb_cli_err[1 << 16];

/* The xbar binary: $XBAR_BUILD_DIR/xbar (ctest), else beside the test
 * binary. */
const char *xb_cli_path(void);
/* Run "xbar ARGS" (ARGS is shell text) with 2 threads; returns the exit
 * status, fails the test if it did not exit normally. */
int xb_cli_run(const char *args);
/* The file's bytes into buf, NUL-terminated ("" if it cannot be read). */
void xb_slurp(const char *path, char *buf, size_t n);
/* The same, without the leading '#' lines of a CSV (provenance, shard
 * tags): what is left is the header and the rows. */
void xb_slurp_csv(const char *path, char *buf, size_t n);
/* Parse a JSON file (up to 1 MiB), failing the test if it is not JSON. */
cJSON *xb_cli_json(const char *path);
/* A number field of o, failing the test if missing. */
double xb_cli_num(const cJSON *o, const char *key);

#endif
