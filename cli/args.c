#include "cli/args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void xb_args_init(xb_args *a, int argc, char **argv) {
    memset(a, 0, sizeof *a);
    a->argc = argc;
    a->argv = argv;
    a->i = 0;
    a->cmd = argc > 0 ? argv[0] : "?";
}

bool xb_args_next(xb_args *a) {
    if (a->error) return false;
    a->i++;
    if (a->i >= a->argc) return false;
    a->cur = a->argv[a->i];
    a->opt = a->cur;
    if (!a->no_more_opts && !strcmp(a->cur, "--")) {
        a->no_more_opts = true;
        return xb_args_next(a);
    }
    return true;
}

void xb_args_fail(xb_args *a, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "xbar %s: ", a->cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see xbar %s --help)\n", a->cmd);
    a->error = true;
}

bool xb_args_help(xb_args *a) {
    return !a->no_more_opts && (!strcmp(a->cur, "-h") || !strcmp(a->cur, "--help"));
}

bool xb_args_flag(xb_args *a, const char *name) {
    return !a->no_more_opts && !strcmp(a->cur, name);
}

bool xb_args_opt(xb_args *a, const char *name, const char **val) {
    if (a->no_more_opts) return false;
    size_t n = strlen(name);
    if (strncmp(a->cur, name, n) != 0) return false;
    if (a->cur[n] == '=') {
        *val = a->cur + n + 1;
        a->opt = name;
        return true;
    }
    if (a->cur[n] != '\0') return false;
    a->opt = name;
    if (a->i + 1 >= a->argc) {
        xb_args_fail(a, "%s needs a value", name);
        *val = NULL;
        return true;
    }
    *val = a->argv[++a->i];
    return true;
}

bool xb_args_positional(xb_args *a) {
    return a->no_more_opts || a->cur[0] != '-' || a->cur[1] == '\0';
}

bool xb_args_one(xb_args *a, const char *what, const char **slot) {
    if (!xb_args_positional(a)) return false;
    if (*slot)
        xb_args_fail(a, "one %s only ('%s' and '%s')", what, *slot, a->cur);
    else
        *slot = a->cur;
    return true;
}

bool xb_args_need(xb_args *a, const char *what, const char *slot) {
    if (slot) return true;
    xb_args_fail(a, "missing %s", what);
    return false;
}

int xb_args_unknown(xb_args *a) {
    xb_args_fail(a, "unknown option '%s'", a->cur);
    return 2;
}

bool xb_args_int(xb_args *a, const char *val, long long min, long long max, long long *out) {
    if (!val) return false;
    char *end;
    errno = 0;
    long long v = strtoll(val, &end, 10);
    if (end == val || *end || errno == ERANGE || v < min || v > max) {
        xb_args_fail(a, "%s: '%s' is not an integer in %lld..%lld", a->opt, val, min, max);
        return false;
    }
    *out = v;
    return true;
}

int xb_args_choice(xb_args *a, const char *val, const char *const *choices) {
    if (!val) return -1;
    for (int i = 0; choices[i]; i++)
        if (!strcmp(val, choices[i])) return i;
    char list[256];
    size_t off = 0;
    list[0] = '\0';
    for (int i = 0; choices[i] && off < sizeof list - 40; i++)
        off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", i ? ", " : "", choices[i]);
    xb_args_fail(a, "%s: '%s' is not one of %s", a->opt, val, list);
    return -1;
}
