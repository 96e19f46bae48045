/* Numbers from text: the one parser for every flag, --set value, JSON
 * number and list of numbers the project reads.
 *
 * Decimal only (no hex, octal, "inf" or "nan": `adc.bits=0x8` is an error,
 * not 8), the whole string must be the number, and integers are read digit
 * by digit with the bound checked before each step, so no input, however
 * long, can overflow or silently saturate (strtoull turns
 * 99999999999999999999999999 into 2^64-1; this says "out of range"). */
#ifndef XBAR_NUM_H
#define XBAR_NUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* `s`: optional sign, decimal digits; in min..max. */
bool xb_parse_int(const char *s, long long min, long long max, long long *out);
/* `s`: decimal digits (no sign); at most max. */
bool xb_parse_u64(const char *s, uint64_t max, uint64_t *out);
/* `s`: a byte count: decimal digits, optionally followed by one of K, M, G
 * (either case; binary: 2^10, 2^20, 2^30), e.g. "512M"; at most max.
 * Used by --max-memory. */
bool xb_parse_bytes(const char *s, uint64_t max, uint64_t *out);
/* `s`: a finite decimal real: [+-] digits [. digits] [e|E [+-] digits], or
 * with the digits only after the point (".5"); a value that overflows or
 * underflows a double is refused, not rounded to inf or 0. */
bool xb_parse_real(const char *s, double *out);
/* Length of the JSON number (RFC 8259: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?)
 * at the start of s[0..n), or 0 when there is none. */
size_t xb_json_number_len(const char *s, size_t n);
/* Whether the text (of a JSON number) is an integer literal: digits with an
 * optional '-', no fraction or exponent. */
bool xb_is_int_literal(const char *s);
/* Shortest of %.15g, %.16g, %.17g that reads back as exactly `v` (finite):
 * what every writer of reals that are read again uses. */
void xb_fmt_real(double v, char *buf, size_t n);

#endif
