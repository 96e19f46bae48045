/* libFuzzer harness: the command-line parsers of `run`, `sweep`,
 * `compile`, `merge`, `meta`, `plot`, `report`, `info`, `optimize`,
 * `classify` and `check-onnx` (cli/args.c, cli/arch_opts.c, each command's parse and the
 * checks that need no model: architecture presets and --set, --vary value
 * lists and ranges; the output paths of merge, meta and report, by stat
 * and access), through xb_cmd_*_args (cli/cli.h), which open no model and
 * write nothing.
 *
 * Input: the first byte picks the command (modulo 11, in the order of
 * `cmds` below), the rest is split at NUL bytes
 * into arguments (at most 64), so "\x01--vary\0adc.bits=4:8" is
 * `xbar sweep --vary adc.bits=4:8`.  Contract: the parser returns -1 (would
 * run), 0 (--help) or 2 (usage error); anything else, a crash, a sanitizer
 * report or a leak is a finding. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    /* New commands go at the end, so seeds for 0-2 keep their meaning. */
    static int (*const cmds[])(int, char **) = {
        xb_cmd_run_args,  xb_cmd_sweep_args, xb_cmd_compile_args, xb_cmd_merge_args,
        xb_cmd_meta_args, xb_cmd_plot_args,  xb_cmd_report_args,  xb_cmd_info_args,
        xb_cmd_optimize_args, xb_cmd_classify_args, xb_cmd_check_onnx_args};
    static const char *const names[] = {"run",    "sweep", "compile",  "merge",
                                        "meta",   "plot",  "report",   "info",
                                        "optimize", "classify", "check-onnx"};
    enum { NCMD = sizeof names / sizeof names[0] };
    _Static_assert(sizeof cmds / sizeof cmds[0] == NCMD, "one name per command");
    int which = data[0] % NCMD;
    /* A private NUL-terminated copy: the parsers see real C strings, and
     * ASan sees reads past an argument's end. */
    char *buf = malloc(size);
    if (!buf) return 0;
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = (char *)names[which];
    for (size_t i = 0; i < size - 1 && argc <= MAX_ARGS;) {
        argv[argc++] = buf + i;
        i += strlen(buf + i) + 1;
    }
    argv[argc] = NULL;
    int rc = cmds[which](argc, argv);
    if (rc != -1 && rc != 0 && rc != 2) {
        fprintf(stderr, "fuzz: xbar %s parse returned %d\n", names[which], rc);
        abort();
    }
    free(buf);
    return 0;
}
