#include "eval/svg.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const palette[XB_SVG_NCOLORS] = {"#0072B2", "#E69F00", "#009E73", "#CC79A7",
                                                    "#56B4E9", "#D55E00", "#F0E442", "#999999"};
#define NHATCH 6
#define NFILLS 16

const char *xb_svg_color(int i) { return palette[((i % XB_SVG_NCOLORS) + XB_SVG_NCOLORS) % XB_SVG_NCOLORS]; }

static int hatch_of(int i) {
    i %= NFILLS;
    return i < 8 ? i % NHATCH : (i + 3) % NHATCH;
}

void xb_svg_add(xb_svg *g, const char *fmt, ...) {
    if (g->oom) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (g->len + (size_t)n + 1 > g->cap) {
        size_t cap = g->cap ? g->cap : 4096;
        while (cap < g->len + (size_t)n + 1) cap *= 2;
        char *s = realloc(g->s, cap);
        if (!s) {
            g->oom = true;
            return;
        }
        g->s = s;
        g->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(g->s + g->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    g->len += (size_t)n;
}

/* Hatch marks drawn over the colour, in black at partial opacity: visible
 * on every palette colour and in a grey-scale print. */
static void pattern_defs(xb_svg *g) {
    static const char *marks[NHATCH] = {
        "",
        "<path d='M0,8 L8,0' stroke='#000' stroke-opacity='0.6' stroke-width='1.2'/>",
        "<circle cx='4' cy='4' r='1.4' fill='#000' fill-opacity='0.6'/>",
        "<path d='M0,4 L8,4' stroke='#000' stroke-opacity='0.6' stroke-width='1.2'/>",
        "<path d='M0,8 L8,0 M0,0 L8,8' stroke='#000' stroke-opacity='0.55' stroke-width='1'/>",
        "<path d='M4,0 L4,8' stroke='#000' stroke-opacity='0.6' stroke-width='1.2'/>"};
    xb_svg_add(g, "<defs>");
    for (int i = 0; i < NFILLS; i++)
        xb_svg_add(g,
                   "<pattern id='%s-f%d' width='8' height='8' patternUnits='userSpaceOnUse'>"
                   "<rect width='8' height='8' fill='%s'/>%s</pattern>",
                   g->id, i, xb_svg_color(i), marks[hatch_of(i)]);
    xb_svg_add(g, "</defs>\n");
}

void xb_svg_begin(xb_svg *g, double w, double h, const char *id, const char *title) {
    memset(g, 0, sizeof *g);
    snprintf(g->id, sizeof g->id, "%s", id);
    xb_svg_add(g,
               "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' "
               "viewBox='0 0 %.0f %.0f' font-family='Helvetica, Arial, sans-serif' "
               "role='img'>\n<title>",
               w, h, w, h);
    xb_svg_text(g, 0, 0, NULL, 0, 0, title);
    xb_svg_add(g, "</title>\n<rect width='100%%' height='100%%' fill='#fff'/>\n");
    pattern_defs(g);
    xb_svg_text(g, w / 2, 22, "middle", 15, 0, title);
}

static void escape(xb_svg *g, const char *t) {
    for (; t && *t; t++) {
        switch (*t) {
        case '<': xb_svg_add(g, "&lt;"); break;
        case '>': xb_svg_add(g, "&gt;"); break;
        case '&': xb_svg_add(g, "&amp;"); break;
        case '\'': xb_svg_add(g, "&#39;"); break;
        case '"': xb_svg_add(g, "&quot;"); break;
        default:
            if ((unsigned char)*t >= 0x20 || *t == '\t') xb_svg_add(g, "%c", *t);
        }
    }
}

void xb_svg_text(xb_svg *g, double x, double y, const char *anchor, double size, double rot,
                 const char *text) {
    if (!anchor) { /* bare: inside <title> */
        escape(g, text);
        return;
    }
    xb_svg_add(g, "<text x='%.1f' y='%.1f' font-size='%.1f' text-anchor='%s'", x, y, size, anchor);
    if (rot != 0) xb_svg_add(g, " transform='rotate(%.0f %.1f %.1f)'", rot, x, y);
    xb_svg_add(g, ">");
    escape(g, text);
    xb_svg_add(g, "</text>\n");
}

char *xb_svg_end(xb_svg *g) {
    xb_svg_add(g, "</svg>\n");
    if (g->oom) {
        xb_svg_free(g);
        return NULL;
    }
    char *s = g->s;
    g->s = NULL;
    return s;
}

void xb_svg_free(xb_svg *g) {
    free(g->s);
    g->s = NULL;
    g->len = g->cap = 0;
}

void xb_svg_fill(const xb_svg *g, int i, char *buf, size_t n) {
    snprintf(buf, n, "url(#%s-f%d)", g->id, ((i % NFILLS) + NFILLS) % NFILLS);
}

void xb_svg_marker(xb_svg *g, int i, double x, double y, double r, const char *fill) {
    const char *st = "stroke='#000' stroke-width='1'";
    switch (((i % 4) + 4) % 4) {
    case 0: xb_svg_add(g, "<circle cx='%.1f' cy='%.1f' r='%.1f' fill='%s' %s/>\n", x, y, r, fill, st); break;
    case 1:
        xb_svg_add(g, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='%s' %s/>\n", x - r,
                   y - r, 2 * r, 2 * r, fill, st);
        break;
    case 2:
        xb_svg_add(g, "<path d='M%.1f,%.1f L%.1f,%.1f L%.1f,%.1f Z' fill='%s' %s/>\n", x, y - r * 1.2,
                   x + r * 1.1, y + r * 0.8, x - r * 1.1, y + r * 0.8, fill, st);
        break;
    default:
        xb_svg_add(g, "<path d='M%.1f,%.1f L%.1f,%.1f L%.1f,%.1f L%.1f,%.1f Z' fill='%s' %s/>\n", x,
                   y - r * 1.3, x + r, y, x, y + r * 1.3, x - r, y, fill, st);
    }
}

double xb_svg_ax(const xb_svg_axes *a, double v) {
    double d = a->x1 - a->x0;
    return a->x + (d > 0 ? (v - a->x0) / d : 0.5) * a->w;
}

double xb_svg_ay(const xb_svg_axes *a, double v) {
    double d = a->y1 - a->y0;
    return a->y + a->h - (d > 0 ? (v - a->y0) / d : 0.5) * a->h;
}

/* 1, 2 or 5 times a power of ten, about (hi - lo) / 5. */
static double nice_step(double lo, double hi, double ticks) {
    double span = hi - lo;
    if (!(span > 0) || !isfinite(span)) return 1;
    double raw = span / ticks, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

static void nice_range(double *lo, double *hi) {
    if (!isfinite(*lo) || !isfinite(*hi)) *lo = 0, *hi = 1;
    if (*hi <= *lo) *hi = *lo + (*lo != 0 ? fabs(*lo) * 0.1 : 1);
    double st = nice_step(*lo, *hi, 5);
    *lo = floor(*lo / st + 1e-9) * st;
    *hi = ceil(*hi / st - 1e-9) * st;
}

void xb_svg_axes_nice(xb_svg_axes *a, bool x_numeric) {
    nice_range(&a->y0, &a->y1);
    if (x_numeric) nice_range(&a->x0, &a->x1);
}

void xb_svg_num(double v, char *buf, size_t n) {
    if (fabs(v) < 1e-12) v = 0;
    if (fabs(v) >= 1000 && fabs(v) < 1e7 && v == round(v)) snprintf(buf, n, "%.0f", v);
    else snprintf(buf, n, "%.3g", v);
}

void xb_svg_axes_draw(xb_svg *g, const xb_svg_axes *a, const char *xlabel, const char *ylabel,
                      bool x_numeric) {
    char num[32];
    double st = nice_step(a->y0, a->y1, a->h < 120 ? 3 : 5);
    for (double v = a->y0; v <= a->y1 + st * 1e-6; v += st) {
        double y = xb_svg_ay(a, v);
        xb_svg_add(g, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#ddd'/>\n", a->x, y,
                   a->x + a->w, y);
        xb_svg_num(v, num, sizeof num);
        xb_svg_text(g, a->x - 6, y + 4, "end", 11, 0, num);
    }
    if (x_numeric) {
        double sx = nice_step(a->x0, a->x1, a->w < 250 ? 3 : 5);
        for (double v = a->x0; v <= a->x1 + sx * 1e-6; v += sx) {
            double x = xb_svg_ax(a, v);
            xb_svg_add(g, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#ddd'/>\n", x,
                       a->y, x, a->y + a->h);
            xb_svg_num(v, num, sizeof num);
            xb_svg_text(g, x, a->y + a->h + 16, "middle", 11, 0, num);
        }
    }
    xb_svg_add(g,
               "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='none' stroke='#000'/>\n",
               a->x, a->y, a->w, a->h);
    if (xlabel) xb_svg_text(g, a->x + a->w / 2, a->y + a->h + (x_numeric ? 36 : 0), "middle", 12, 0, xlabel);
    if (ylabel) xb_svg_text(g, a->x - 46, a->y + a->h / 2, "middle", 12, -90, ylabel);
}

void xb_svg_legend(xb_svg *g, double x, double y, int n, const char *const *names, bool markers) {
    char fill[64];
    for (int i = 0; i < n; i++) {
        double yy = y + 18.0 * i;
        if (markers) {
            xb_svg_marker(g, i, x + 7, yy + 7, 5, xb_svg_color(i));
        } else {
            xb_svg_fill(g, i, fill, sizeof fill);
            xb_svg_add(g,
                       "<rect x='%.1f' y='%.1f' width='14' height='14' fill='%s' stroke='#000'/>\n",
                       x, yy, fill);
        }
        xb_svg_text(g, x + 20, yy + 11.5, "start", 11, 0, names[i]);
    }
}
