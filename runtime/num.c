#include "runtime/num.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool xb_parse_int(const char *s, long long min, long long max, long long *out) {
    if (!s) return false;
    bool neg = *s == '-';
    if (*s == '-' || *s == '+') s++;
    if (!is_digit(*s)) return false;
    /* Accumulate towards the bound on the value's side, checking before
     * every step: no overflow, whatever the length. */
    long long v = 0;
    for (; is_digit(*s); s++) {
        int d = *s - '0';
        if (neg) {
            if (v < (LLONG_MIN + d) / 10) return false;
            v = v * 10 - d;
        } else {
            if (v > (LLONG_MAX - d) / 10) return false;
            v = v * 10 + d;
        }
    }
    if (*s || v < min || v > max) return false;
    *out = v;
    return true;
}

bool xb_parse_u64(const char *s, uint64_t max, uint64_t *out) {
    if (!s || !is_digit(*s)) return false;
    uint64_t v = 0;
    for (; is_digit(*s); s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    if (*s || v > max) return false;
    *out = v;
    return true;
}

bool xb_parse_bytes(const char *s, uint64_t max, uint64_t *out) {
    if (!s) return false;
    size_t n = strlen(s);
    unsigned shift = 0;
    if (n > 1) {
        switch (s[n - 1]) {
        case 'k': case 'K': shift = 10; break;
        case 'm': case 'M': shift = 20; break;
        case 'g': case 'G': shift = 30; break;
        default: break;
        }
    }
    char digits[32];
    size_t nd = shift ? n - 1 : n;
    if (nd == 0 || nd >= sizeof digits) return false; /* 31 digits overflow u64 anyway */
    memcpy(digits, s, nd);
    digits[nd] = '\0';
    uint64_t v;
    if (!xb_parse_u64(digits, UINT64_MAX, &v) || v > (UINT64_MAX >> shift)) return false;
    v <<= shift;
    if (v > max) return false;
    *out = v;
    return true;
}

/* The decimal grammar xb_parse_real accepts; strtod alone would also take
 * hex floats, "inf", "nan" and leading spaces. */
static bool decimal_syntax(const char *s) {
    if (*s == '+' || *s == '-') s++;
    int digits = 0;
    while (is_digit(*s)) s++, digits++;
    if (*s == '.') {
        s++;
        while (is_digit(*s)) s++, digits++;
    }
    if (!digits) return false;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-') s++;
        if (!is_digit(*s)) return false;
        while (is_digit(*s)) s++;
    }
    return *s == '\0';
}

bool xb_parse_real(const char *s, double *out) {
    if (!s || !decimal_syntax(s)) return false;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    /* ERANGE: beyond a double, or so small it became 0 or subnormal. */
    if (*end || errno == ERANGE || !isfinite(v)) return false;
    *out = v;
    return true;
}

size_t xb_json_number_len(const char *s, size_t n) {
    size_t i = 0;
    if (i < n && s[i] == '-') i++;
    if (i >= n || !is_digit(s[i])) return 0;
    if (s[i] == '0') i++;
    else
        while (i < n && is_digit(s[i])) i++;
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || !is_digit(s[i])) return 0;
        while (i < n && is_digit(s[i])) i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= n || !is_digit(s[i])) return 0;
        while (i < n && is_digit(s[i])) i++;
    }
    return i;
}

bool xb_is_int_literal(const char *s) {
    if (*s == '-') s++;
    if (!is_digit(*s)) return false;
    while (is_digit(*s)) s++;
    return *s == '\0';
}

void xb_fmt_real(double v, char *buf, size_t n) {
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
}
