/* Progress reports on stderr, for any long loop (the runner's images, a
 * sweep's configurations).
 *
 *   p = xb_progress_start(mode, "analog", total);
 *   for (...) xb_progress_update(p, done);      // as often as you like
 *   xb_progress_done(p);                        // final line, frees p
 *
 * Modes: bar (redrawn in place: label, bar, k/N, rate, ETA), lines (one
 * line "label: k/N (P%), R/s, ETA T" at most every `XB_PROGRESS_LINE_S`
 * seconds, for logs, nohup and batch schedulers), none, and auto (bar when
 * stderr is a terminal, else lines).  Updates are rate-limited inside (a
 * bar at most ~10 times a second), so calling per item is cheap.  Not
 * thread-safe: callers serialize updates (the runner does it under a
 * critical section).  A NULL progress is accepted by every function. */
#ifndef XBAR_PROGRESS_H
#define XBAR_PROGRESS_H

#include <stdint.h>

typedef enum {
    XB_PROGRESS_AUTO = 0,
    XB_PROGRESS_BAR,
    XB_PROGRESS_LINES,
    XB_PROGRESS_NONE
} xb_progress_mode;

#define XB_PROGRESS_LINE_S 10.0

typedef struct xb_progress xb_progress;

/* NULL for mode none, a total <= 0, or no memory. */
xb_progress *xb_progress_start(xb_progress_mode mode, const char *label, int64_t total);
void xb_progress_update(xb_progress *p, int64_t done);
/* Like update, but a lines-mode report also names the item that just
 * finished (e.g. a sweep's "config 3/12 (adc.bits=5)"). */
void xb_progress_note(xb_progress *p, int64_t done, const char *what);
/* The same, but in lines mode the line is printed now whatever the
 * interval (e.g. one line per finished sweep configuration). */
void xb_progress_note_now(xb_progress *p, int64_t done, const char *what);
void xb_progress_done(xb_progress *p);
/* "auto", "bar", "lines", "none" -> mode; -1 when none of them. */
int xb_progress_parse(const char *s);

/* For tests: the time source (seconds) and the line interval; NULL/<=0
 * restore the defaults.  The clock is per progress object. */
void xb_progress_set_clock(xb_progress *p, double (*clock)(void), double line_s);

#endif
