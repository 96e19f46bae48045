#include "eval/progress.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct xb_progress {
    bool bar;
    char label[48];
    int64_t total, done;
    double t0, last;      /* start, last draw or line */
    double line_s;
    double (*clock)(void);
};

/* When the last line went out, from any progress in this process (real
 * clock only).  A sweep runs one runner after another; timing each from its
 * own start would let the gap between lines reach twice the interval, so a
 * new one continues the cadence: its first line comes `line_s` after the
 * previous one, not after its own start.  Only the cadence is shared. */
static _Atomic double last_line_any;

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int xb_progress_parse(const char *s) {
    static const char *names[] = {"auto", "bar", "lines", "none"};
    for (int i = 0; i < 4; i++)
        if (s && !strcmp(s, names[i])) return i;
    return -1;
}

xb_progress *xb_progress_start(xb_progress_mode mode, const char *label, int64_t total) {
    if (mode == XB_PROGRESS_NONE || total <= 0) return NULL;
    xb_progress *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->bar = mode == XB_PROGRESS_BAR || (mode == XB_PROGRESS_AUTO && isatty(STDERR_FILENO));
    snprintf(p->label, sizeof p->label, "%s", label ? label : "run");
    p->total = total;
    p->clock = mono_s;
    p->line_s = XB_PROGRESS_LINE_S;
    p->t0 = p->last = p->clock();
    /* the first progress of the process starts the cadence */
    double prev = atomic_load(&last_line_any);
    if (prev == 0) atomic_compare_exchange_strong(&last_line_any, &prev, p->last);
    else if (!p->bar && prev < p->last) p->last = prev;
    return p;
}

void xb_progress_set_clock(xb_progress *p, double (*clock)(void), double line_s) {
    if (!p) return;
    p->clock = clock ? clock : mono_s;
    p->line_s = line_s > 0 ? line_s : XB_PROGRESS_LINE_S;
    p->t0 = p->last = p->clock();
}

/* "1h02m", "3m05s", "12s" */
static void fmt_dur(double s, char *buf, size_t n) {
    long t = s < 0 ? 0 : s > 3.6e8 ? 360000000L : (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60) snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
    else snprintf(buf, n, "%lds", t);
}

static void rate_eta(const xb_progress *p, double now, double *rate, char *eta, size_t n) {
    double el = now - p->t0;
    *rate = el > 0 ? (double)p->done / el : 0.0;
    if (*rate > 0 && p->done < p->total) fmt_dur((double)(p->total - p->done) / *rate, eta, n);
    else snprintf(eta, n, "%s", p->done >= p->total ? "0s" : "?");
}

static void draw_bar(const xb_progress *p, double now) {
    int width = 30, fill = (int)(width * p->done / p->total);
    double rate;
    char eta[48];
    rate_eta(p, now, &rate, eta, sizeof eta);
    fprintf(stderr, "\r%-8s [", p->label);
    for (int i = 0; i < width; i++) fputc(i < fill ? '#' : '.', stderr);
    fprintf(stderr, "] %lld/%lld  %.1f/s  ETA %s   ", (long long)p->done, (long long)p->total,
            rate, eta);
    fflush(stderr);
}

static void print_line(const xb_progress *p, double now, const char *what) {
    double rate;
    char eta[48], el[48];
    rate_eta(p, now, &rate, eta, sizeof eta);
    fmt_dur(now - p->t0, el, sizeof el);
    fprintf(stderr, "%s: %lld/%lld (%.0f%%)%s%s, %.2f/s, elapsed %s, ETA %s\n", p->label,
            (long long)p->done, (long long)p->total, 100.0 * (double)p->done / (double)p->total,
            what ? " " : "", what ? what : "", rate, el, eta);
    fflush(stderr);
    if (p->clock == mono_s) atomic_store(&last_line_any, now);
}

void xb_progress_note(xb_progress *p, int64_t done, const char *what) {
    if (!p) return;
    p->done = done > p->total ? p->total : done;
    double now = p->clock();
    if (p->bar) {
        if (now - p->last >= 0.1 || p->done == p->total) {
            draw_bar(p, now);
            p->last = now;
        }
    } else if (now - p->last >= p->line_s) {
        print_line(p, now, what);
        p->last = now;
    }
}

void xb_progress_update(xb_progress *p, int64_t done) { xb_progress_note(p, done, NULL); }

void xb_progress_note_now(xb_progress *p, int64_t done, const char *what) {
    if (!p) return;
    if (p->bar) {
        xb_progress_note(p, done, what);
        return;
    }
    p->done = done > p->total ? p->total : done;
    double now = p->clock();
    print_line(p, now, what);
    p->last = now;
}

void xb_progress_done(xb_progress *p) {
    if (!p) return;
    double now = p->clock();
    if (p->bar) {
        draw_bar(p, now);
        fputc('\n', stderr);
    } else if (now - p->t0 >= p->line_s) {
        /* short runs stay quiet in logs; long ones end with a final line */
        print_line(p, now, "done");
    }
    free(p);
}
