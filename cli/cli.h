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

#endif
