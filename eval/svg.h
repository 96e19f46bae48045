/* A small SVG writer for the plots (eval/plots.h): a growing string, text
 * escaping, a colour-blind-safe palette with hatch patterns (so series stay
 * apart in black and white), and linear axes with "nice" ticks.  No
 * dependency; the output is plain SVG 1.1 that browsers and vector editors
 * read, with no scripts and no external references. */
#ifndef XBAR_SVG_H
#define XBAR_SVG_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *s;
    size_t len, cap;
    bool oom;
    char id[32];   /* prefix of this image's pattern ids (unique when inlined in HTML) */
} xb_svg;

/* Start a w x h image titled `title` (also drawn at the top); `id` prefixes
 * the pattern ids (letters, digits, '-'). */
void xb_svg_begin(xb_svg *g, double w, double h, const char *id, const char *title);
void xb_svg_add(xb_svg *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Text at (x, y); anchor "start" | "middle" | "end"; rotated by rot
 * degrees about (x, y); XML-escaped. */
void xb_svg_text(xb_svg *g, double x, double y, const char *anchor, double size, double rot,
                 const char *text);
/* Close the image; returns the owned text, or NULL when out of memory
 * (the buffer is freed either way). */
char *xb_svg_end(xb_svg *g);
void xb_svg_free(xb_svg *g);

/* Okabe & Ito (2008) "Color Universal Design": 8 colours that stay
 * distinct for the common colour-vision deficiencies (its black replaced by
 * a mid grey, so black hatching stays visible on it). */
#define XB_SVG_NCOLORS 8
const char *xb_svg_color(int i);
/* fill="..." value for series i: colour i % 8 with hatch pattern (none,
 * diagonal, dots, horizontal, cross, vertical, ...), so 16 series differ
 * in colour or hatch. */
void xb_svg_fill(const xb_svg *g, int i, char *buf, size_t n);
/* A marker for series i (circle, square, triangle, diamond) centred at x,y. */
void xb_svg_marker(xb_svg *g, int i, double x, double y, double r, const char *fill);

/* Linear axes: plot area (x, y, w, h) in pixels, data ranges. */
typedef struct {
    double x, y, w, h;
    double x0, x1, y0, y1;
} xb_svg_axes;
double xb_svg_ax(const xb_svg_axes *a, double v);
double xb_svg_ay(const xb_svg_axes *a, double v);
/* Round y0/y1 (and x0/x1 when `x_numeric`) outward to nice ticks. */
void xb_svg_axes_nice(xb_svg_axes *a, bool x_numeric);
/* Frame, grid, y ticks, axis labels (with units); x ticks only when
 * `x_numeric` (category axes label their own bars). */
void xb_svg_axes_draw(xb_svg *g, const xb_svg_axes *a, const char *xlabel, const char *ylabel,
                      bool x_numeric);
/* A legend box at (x, y): n entries, swatch i drawn with xb_svg_fill(i)
 * (or a marker when `markers`). */
void xb_svg_legend(xb_svg *g, double x, double y, int n, const char *const *names, bool markers);

/* Number with up to 3 significant digits, no trailing zeros. */
void xb_svg_num(double v, char *buf, size_t n);

#endif
