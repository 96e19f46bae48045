#include "cli/args.h"

#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/num.h"

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
    if (!xb_parse_int(val, min, max, out)) {
        xb_args_fail(a, "%s: '%s' is not an integer in %lld..%lld", a->opt, val, min, max);
        return false;
    }
    return true;
}

bool xb_args_real(xb_args *a, const char *val, double lo, double hi, bool lo_open, double *out) {
    if (!val) return false;
    double v = 0;
    bool ok = xb_parse_real(val, &v);
    bool in = lo_open ? v > lo : v >= lo;
    if (!ok || !in || !(v <= hi)) {
        xb_args_fail(a, "%s: '%s' is not a decimal number in %s%g, %g]", a->opt, val,
                     lo_open ? "(" : "[", lo, hi);
        return false;
    }
    *out = v;
    return true;
}

bool xb_args_bytes(xb_args *a, const char *val, uint64_t *out) {
    if (!val) return false;
    uint64_t v = 0;
    if (!xb_parse_bytes(val, (uint64_t)1 << 50, &v) || v < ((uint64_t)1 << 20)) {
        xb_args_fail(a, "%s: '%s' is not a byte count from 1M to 1048576G (digits with an optional "
                     "K, M or G suffix)", a->opt, val);
        return false;
    }
    *out = v;
    return true;
}

int xb_args_clamp_threads(long long requested) {
    int procs = omp_get_num_procs();
    if (procs < 1) procs = 1;
    long long t = requested > 0 ? requested : omp_get_max_threads();
    if (t > procs) {
        fprintf(stderr, "xbar: note: %lld threads requested, %d processors available: using %d\n",
                t, procs, procs);
        t = procs;
    }
    return t < 1 ? 1 : (int)t;
}

bool xb_args_threads(xb_args *a, const char *val, long long *out) {
    if (!xb_args_int(a, val, 1, 1024, out)) return false;
    *out = xb_args_clamp_threads(*out);
    return true;
}

bool xb_mul_capped(long long a, long long b, long long max, long long *out) {
    if (a < 0 || b < 0) return false;
    if (a != 0 && b > max / a) return false;
    *out = a * b;
    return *out <= max;
}

/* LO:HI[:STEP] expanded; the count is computed before anything is written. */
static bool parse_range(xb_args *a, const char *what, const char *spec, long long min,
                        long long max, char (*vals)[XB_ARGS_VALUE_LEN], int max_n, int *n) {
    char part[3][32];
    int np = 0;
    const char *s = spec;
    for (;;) {
        const char *c = strchr(s, ':');
        size_t len = c ? (size_t)(c - s) : strlen(s);
        if (np == 3 || len >= sizeof part[0]) np = 4;
        if (np == 4) break;
        memcpy(part[np], s, len);
        part[np++][len] = '\0';
        if (!c) break;
        s = c + 1;
    }
    long long lo = 0, hi = 0, step = 1;
    bool ok = (np == 2 || np == 3) && xb_parse_int(part[0], min, max, &lo) &&
              xb_parse_int(part[1], min, max, &hi) &&
              (np == 2 || xb_parse_int(part[2], -(max - min), max - min, &step));
    /* |hi - lo| <= max - min, which the caller keeps far below LLONG_MAX. */
    long long count = ok && step != 0 && (hi - lo) / step >= 0 ? (hi - lo) / step + 1 : 0;
    if (!ok || count < 1 || count > max_n) {
        xb_args_fail(a, "%s: %s='%s' is not a range LO:HI[:STEP] of integers in %lld..%lld with "
                        "1..%d values",
                     a->opt, what, spec, min, max, max_n);
        return false;
    }
    for (long long k = 0; k < count; k++)
        snprintf(vals[k], XB_ARGS_VALUE_LEN, "%lld", lo + k * step);
    *n = (int)count;
    return true;
}

bool xb_args_values(xb_args *a, const char *what, const char *spec, long long min, long long max,
                    char (*vals)[XB_ARGS_VALUE_LEN], int max_n, int *n) {
    *n = 0;
    if (!spec) return false;
    if (max - min > (long long)1 << 40) max = min + ((long long)1 << 40);
    if (strchr(spec, ':')) return parse_range(a, what, spec, min, max, vals, max_n, n);
    const char *s = spec;
    for (;;) {
        const char *c = strchr(s, ',');
        size_t len = c ? (size_t)(c - s) : strlen(s);
        if (len == 0 || len >= XB_ARGS_VALUE_LEN || *n >= max_n) {
            xb_args_fail(a, "%s: %s='%s' is not a list V1,V2,... of 1..%d non-empty values of at "
                            "most %d characters",
                         a->opt, what, spec, max_n, XB_ARGS_VALUE_LEN - 1);
            *n = 0;
            return false;
        }
        memcpy(vals[*n], s, len);
        vals[(*n)++][len] = '\0';
        if (!c) break;
        s = c + 1;
    }
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
