/* xbar command-line interface: one file per command (cli/cmd_*.c),
 * listed once in cli/commands.def. */
#ifndef XBAR_CLI_H
#define XBAR_CLI_H

/* Each command parses its own arguments (argv[0] is the command name),
 * prints results to stdout, errors to stderr, and returns the process exit
 * code: 0 success, 1 failure of the job, 2 usage error. */
#define XB_CMD(name, fn, summary) int fn(int argc, char **argv);
#include "cli/commands.def"
#undef XB_CMD

/* Option parsing alone, for the argv fuzzer (tests/fuzz/fuzz_argv.c) and
 * tests: the command's own parser plus the checks that need no model (the
 * architecture from its preset or file and --set, every --vary value), with
 * no model or data opened and nothing written (--arch-out is not written).
 * Returns -1 when the command would go on to run, 0 after --help, 2 on a
 * usage error (printed to stderr). */
int xb_cmd_run_args(int argc, char **argv);
int xb_cmd_sweep_args(int argc, char **argv);
int xb_cmd_compile_args(int argc, char **argv);
int xb_cmd_optimize_args(int argc, char **argv);

/* xbar optimize --method layco (cli/optimize_layco_cmd.c): its own options;
 * xb_cmd_optimize hands argv over when --method layco is given. */
int xb_cmd_optimize_layco(int argc, char **argv);
/* The same for the commands that read saved files (no model is opened by
 * these either): merge, meta and report also check their output path
 * (stat and access only, nothing created), info and plot parse only. */
int xb_cmd_merge_args(int argc, char **argv);
int xb_cmd_meta_args(int argc, char **argv);
int xb_cmd_plot_args(int argc, char **argv);
int xb_cmd_report_args(int argc, char **argv);
int xb_cmd_info_args(int argc, char **argv);
/* classify checks its --json path the same way; check-onnx parses only
 * (its --list file is read when it runs). */
int xb_cmd_classify_args(int argc, char **argv);
int xb_cmd_check_onnx_args(int argc, char **argv);

#endif
