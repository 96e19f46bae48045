/* Command-line parsing shared by every `xbar` command.
 *
 * A command walks its argv with xb_args_next(); options take their value as
 * "--opt VALUE" or "--opt=VALUE".  Helpers print "xbar CMD: ..." usage
 * errors to stderr themselves and report failure, so a command reads:
 *
 *     xb_args a;
 *     xb_args_init(&a, argc, argv);
 *     while (xb_args_next(&a)) {
 *         if (xb_args_help(&a)) { usage(stdout); return 0; }
 *         else if (xb_args_opt(&a, "--limit", &v)) { if (!xb_args_int(&a, v, 1, MAX, &n)) return 2; }
 *         else if (xb_args_positional(&a)) ...
 *         else return xb_args_unknown(&a);
 *     }
 *     if (a.error) return 2;
 */
#ifndef XBAR_ARGS_H
#define XBAR_ARGS_H

#include <stdbool.h>

#include "runtime/num.h"

typedef struct {
    int argc;
    char **argv;
    int i;              /* index of the current argument */
    const char *cmd;    /* argv[0]: the command name */
    const char *cur;    /* current argument */
    const char *opt;    /* option being parsed, for messages */
    bool error;         /* a usage error was printed */
    bool no_more_opts;  /* after "--" everything is positional */
} xb_args;

void xb_args_init(xb_args *a, int argc, char **argv);
/* Advance to the next argument; false at the end or after an error. */
bool xb_args_next(xb_args *a);
/* "-h" / "--help" */
bool xb_args_help(xb_args *a);
/* Current argument is `name` (a flag without value). */
bool xb_args_flag(xb_args *a, const char *name);
/* Current argument is `name` with a value (consumed); on a missing value
 * prints an error, sets a->error and returns true with *val = NULL. */
bool xb_args_opt(xb_args *a, const char *name, const char **val);
/* Current argument is not an option (or follows "--"). */
bool xb_args_positional(xb_args *a);
/* The current argument is positional and fills the single-valued *slot
 * (e.g. MODEL); a second one is a usage error ("one MODEL only"). */
bool xb_args_one(xb_args *a, const char *what, const char **slot);
/* *slot is set; else prints "missing WHAT" and returns false. */
bool xb_args_need(xb_args *a, const char *what, const char *slot);
/* Print "unknown option" and return 2. */
int xb_args_unknown(xb_args *a);
/* --- numbers: runtime/num.h is the one parser (xb_parse_int, xb_parse_real:
 * decimal only, overflow-checked); these wrap it with messages naming the
 * option. */
/* Parse an integer / choice for the current option; print an error naming
 * the option and return false when it is not valid. */
bool xb_args_int(xb_args *a, const char *val, long long min, long long max, long long *out);
/* A finite number with lo < v <= hi (lo_open) or lo <= v <= hi. */
bool xb_args_real(xb_args *a, const char *val, double lo, double hi, bool lo_open, double *out);
/* Worker threads: 1..1024, then clamped to the processors this process may
 * use (a note on stderr says so); *out = 0 when `val` is NULL. */
bool xb_args_threads(xb_args *a, const char *val, long long *out);
/* A byte count for --max-memory: digits with an optional K, M or G suffix
 * (binary), at least 1 MiB, at most 2^50 (xb_parse_bytes, runtime/num.h). */
bool xb_args_bytes(xb_args *a, const char *val, uint64_t *out);
#define XB_ARGS_MAX_MEMORY_HELP                                                                    \
    "  --max-memory B      refuse, before allocating, a run whose model, threads or dataset\n"    \
    "                      would need more than B bytes (K/M/G suffixes: 512M, 2G); see\n"       \
    "                      docs/arch-eval.md, \"Memory per run\"\n"
/* The threads a run will use: `requested` (> 0) or OpenMP's default, at most
 * the processors available (with a note when clamped). */
int xb_args_clamp_threads(long long requested);

/* A value list for the current option: "LO:HI" or "LO:HI:STEP" (integers in
 * min..max, expanded) or "V1,V2,..." (each at most XB_ARGS_VALUE_LEN-1
 * characters); at most max_n values.  Errors name the option and `what`. */
#define XB_ARGS_VALUE_LEN 64
bool xb_args_values(xb_args *a, const char *what, const char *spec, long long min, long long max,
                    char (*vals)[XB_ARGS_VALUE_LEN], int max_n, int *n);
/* a * b into *out unless it exceeds max (or overflows): false then. */
bool xb_mul_capped(long long a, long long b, long long max, long long *out);
/* Index of `val` in the NULL-terminated `choices`, or -1 (error printed). */
int xb_args_choice(xb_args *a, const char *val, const char *const *choices);
/* Print "xbar CMD: <message>" as a usage error and set a->error. */
void xb_args_fail(xb_args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
