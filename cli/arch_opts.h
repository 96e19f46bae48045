/* --arch A, --set key=value and --arch-out F, shared by compile, run and
 * sweep. */
#ifndef XBAR_CLI_ARCH_OPTS_H
#define XBAR_CLI_ARCH_OPTS_H

#include "backend/arch.h"
#include "cli/args.h"

#define XB_CLI_MAX_SETS 64

typedef struct {
    const char *arch;
    const char *sets[XB_CLI_MAX_SETS];
    int n_sets;
    const char *out; /* --arch-out: write the effective arch here */
    const char *model; /* set by the command: --arch-out must not be it */
} xb_cli_arch;

/* Consumes --arch / --set at the current argument; true if it did. */
bool xb_cli_arch_opt(xb_args *a, xb_cli_arch *o);
/* Load the preset and apply the overrides in order; with --arch-out, write
 * the result as JSON that --arch reads back (every field, so a run can be
 * reproduced from its file alone). */
xb_status xb_cli_arch_build(const xb_cli_arch *o, xb_arch *out, xb_ctx *ctx);
/* The --arch value when it names a file (not a preset), else NULL. */
const char *xb_cli_arch_file(const xb_cli_arch *o);
/* Help text lines for the two options. */
#define XB_CLI_ARCH_HELP                                                                           \
    "  --arch A            architecture: a preset name (isaac, ideal; backend/arch/A.json)\n"     \
    "                      or a JSON file; fields in docs/ARCH.md\n"                              \
    "  --arch-out F.json   write the effective architecture (preset + --set) as JSON\n"     \
    "  --set KEY=VALUE     override one field (repeatable), e.g. --set adc.bits=6\n"

#endif
