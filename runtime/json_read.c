#include "runtime/json_read.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/num.h"

/* Bounds that keep a hostile file cheap: duplicate checks are quadratic in
 * the members of one object, and every value is a node. */
#define MAX_DEPTH 64
#define MAX_MEMBERS 4096
#define MAX_NODES 100000

typedef struct {
    const char *s;
    size_t n, i;
    int line;
    long nodes;
    const char *origin;
    char path[512]; /* dotted key path of the value being read, for messages */
    xb_ctx *ctx;
} parser;

static xb_status fail(parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static xb_status fail(parser *p, const char *fmt, ...) {
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->path[0])
        return xb_fail(p->ctx, XB_ERR_PARSE, "%s: line %d: malformed JSON: %s (in '%s')",
                       p->origin, p->line, msg, p->path);
    return xb_fail(p->ctx, XB_ERR_PARSE, "%s: line %d: malformed JSON: %s", p->origin, p->line,
                   msg);
}

static void skip_ws(parser *p) {
    for (; p->i < p->n; p->i++) {
        char c = p->s[p->i];
        if (c == '\n') p->line++;
        else if (c != ' ' && c != '\t' && c != '\r') break;
    }
}

static bool is_control(unsigned long cp) { return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f); }

/* The UTF-8 sequence at u (u[0] >= 0x80, `left` bytes available): its code
 * point and *len, or -1 when it is not well-formed (overlong, surrogate,
 * beyond U+10FFFF, cut). */
static long utf8_decode(const unsigned char *u, size_t left, int *len) {
    int l = u[0] >= 0xf0 && u[0] <= 0xf4 ? 4 : u[0] >= 0xe0 && u[0] < 0xf0 ? 3
            : u[0] >= 0xc2 && u[0] < 0xe0 ? 2 : 0;
    if (!l || (size_t)l > left) return -1;
    unsigned long cp = u[0] & (0x7f >> l);
    for (int k = 1; k < l; k++) {
        if ((u[k] & 0xc0) != 0x80) return -1;
        cp = cp << 6 | (u[k] & 0x3f);
    }
    static const unsigned long min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[l] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return -1;
    *len = l;
    return (long)cp;
}

static long utf8_seq(parser *p) {
    int len;
    long cp = utf8_decode((const unsigned char *)p->s + p->i, p->n - p->i, &len);
    if (cp >= 0) p->i += (size_t)len;
    return cp;
}

bool xb_text_printable(const char *s) {
    const unsigned char *u = (const unsigned char *)s;
    size_t left = strlen(s);
    while (left) {
        int len = 1;
        long cp = u[0] < 0x80 ? u[0] : utf8_decode(u, left, &len);
        if (cp < 0 || is_control((unsigned long)cp)) return false;
        u += len;
        left -= (size_t)len;
    }
    return true;
}

static size_t put_utf8(char *o, unsigned long cp) {
    if (cp < 0x80) return (size_t)(o[0] = (char)cp, 1);
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

static long hex4(parser *p) {
    if (p->n - p->i < 4) return -1;
    long v = 0;
    for (int k = 0; k < 4; k++) {
        char c = p->s[p->i + (size_t)k];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    p->i += 4;
    return v;
}

/* After a backslash: the escaped code point, or -1. */
static long escape(parser *p) {
    if (p->i >= p->n) return -1;
    char c = p->s[p->i++];
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *k = strchr(from, c);
    if (c && k) return (unsigned char)to[k - from];
    if (c != 'u') return -1;
    long cp = hex4(p);
    if (cp >= 0xdc00 && cp <= 0xdfff) return -1; /* a low surrogate first */
    if (cp >= 0xd800 && cp <= 0xdbff) {           /* needs its low half */
        if (p->n - p->i < 2 || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u') return -1;
        p->i += 2;
        long lo = hex4(p);
        if (lo < 0xdc00 || lo > 0xdfff) return -1;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    return cp;
}

/* A string at p->s[p->i] == '"', decoded into a new buffer. */
static xb_status read_string(parser *p, const char *what, char **out) {
    size_t start = ++p->i;
    size_t end = start;
    while (end < p->n && p->s[end] != '"') end += p->s[end] == '\\' ? 2 : 1;
    if (end >= p->n) return fail(p, "unterminated %s", what);
    char *o = xb_malloc(p->ctx, end - start + 1); /* decoding never grows the text */
    if (!o) return p->ctx->status;
    size_t k = 0;
    while (p->s[p->i] != '"') {
        unsigned char c = (unsigned char)p->s[p->i];
        long cp;
        if (c == '\\') {
            p->i++;
            cp = escape(p);
            if (cp < 0) {
                free(o);
                return fail(p, "invalid escape in a %s", what);
            }
        } else if (c >= 0x80) {
            cp = utf8_seq(p);
            if (cp < 0) {
                free(o);
                return fail(p, "invalid UTF-8 in a %s", what);
            }
        } else {
            cp = c;
            p->i++;
        }
        if (is_control((unsigned long)cp)) {
            free(o);
            return fail(p, "control character U+%04lX in a %s (terminal escape codes and "
                           "control characters are not accepted)", (unsigned long)cp, what);
        }
        k += put_utf8(o + k, (unsigned long)cp);
    }
    p->i++;
    o[k] = '\0';
    *out = o;
    return XB_OK;
}

static xb_status read_value(parser *p, xb_jnode *v, int depth);

/* The members of an object after '{'; duplicate keys are refused. */
static xb_status read_object(parser *p, xb_jnode *v, int depth) {
    xb_jnode **tail = &v->child;
    size_t plen = strlen(p->path);
    int count = 0;
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == '}') return p->i++, XB_OK;
    for (;;) {
        skip_ws(p);
        if (p->i >= p->n || p->s[p->i] != '"') return fail(p, "expected a key in quotes");
        char *key;
        XB_TRY(read_string(p, "key", &key));
        xb_jnode *m = calloc(1, sizeof *m);
        if (!m) {
            free(key);
            return xb_fail(p->ctx, XB_ERR_NOMEM, "%s: out of memory", p->origin);
        }
        m->key = key;
        *tail = m;
        tail = &m->next;
        snprintf(p->path + plen, sizeof p->path - plen, "%s%s", plen ? "." : "", key);
        for (const xb_jnode *o = v->child; o != m; o = o->next)
            if (!strcmp(o->key, key)) {
                char dup[sizeof p->path];
                memcpy(dup, p->path, sizeof dup);
                p->path[0] = '\0'; /* named in the message itself */
                return fail(p, "duplicate key '%s' (first on line %d): each key may appear once",
                            dup, o->line);
            }
        if (++count > MAX_MEMBERS) return fail(p, "more than %d keys in one object", MAX_MEMBERS);
        skip_ws(p);
        if (p->i >= p->n || p->s[p->i] != ':') return fail(p, "expected ':' after the key");
        p->i++;
        XB_TRY(read_value(p, m, depth + 1));
        p->path[plen] = '\0';
        skip_ws(p);
        if (p->i < p->n && p->s[p->i] == ',') {
            p->i++;
            continue;
        }
        if (p->i < p->n && p->s[p->i] == '}') return p->i++, XB_OK;
        return fail(p, "expected ',' or '}' in an object");
    }
}

static xb_status read_array(parser *p, xb_jnode *v, int depth) {
    xb_jnode **tail = &v->child;
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == ']') return p->i++, XB_OK;
    for (;;) {
        xb_jnode *e = calloc(1, sizeof *e);
        if (!e) return xb_fail(p->ctx, XB_ERR_NOMEM, "%s: out of memory", p->origin);
        *tail = e;
        tail = &e->next;
        XB_TRY(read_value(p, e, depth + 1));
        skip_ws(p);
        if (p->i < p->n && p->s[p->i] == ',') {
            p->i++;
            continue;
        }
        if (p->i < p->n && p->s[p->i] == ']') return p->i++, XB_OK;
        return fail(p, "expected ',' or ']' in an array");
    }
}

static bool literal(parser *p, const char *word) {
    size_t l = strlen(word);
    if (p->n - p->i < l || memcmp(p->s + p->i, word, l)) return false;
    p->i += l;
    return true;
}

static xb_status read_value(parser *p, xb_jnode *v, int depth) {
    if (depth > MAX_DEPTH) return fail(p, "nested deeper than %d levels", MAX_DEPTH);
    if (++p->nodes > MAX_NODES) return fail(p, "more than %d values", MAX_NODES);
    skip_ws(p);
    v->line = p->line;
    if (p->i >= p->n) return fail(p, "unexpected end of the text");
    char c = p->s[p->i];
    if (c == '{') return p->i++, v->kind = XB_JOBJECT, read_object(p, v, depth);
    if (c == '[') return p->i++, v->kind = XB_JARRAY, read_array(p, v, depth);
    if (c == '"') return v->kind = XB_JSTRING, read_string(p, "string", &v->text);
    if (literal(p, "true")) return v->kind = XB_JTRUE, XB_OK;
    if (literal(p, "false")) return v->kind = XB_JFALSE, XB_OK;
    if (literal(p, "null")) return v->kind = XB_JNULL, XB_OK;
    size_t len = xb_json_number_len(p->s + p->i, p->n - p->i);
    if (!len) {
        unsigned char u = (unsigned char)c;
        return u >= 0x20 && u < 0x7f ? fail(p, "unexpected character '%c'", c)
                                     : fail(p, "unexpected byte 0x%02x", u);
    }
    v->kind = XB_JNUMBER;
    v->text = xb_malloc(p->ctx, len + 1);
    if (!v->text) return p->ctx->status;
    memcpy(v->text, p->s + p->i, len);
    v->text[len] = '\0';
    p->i += len;
    return XB_OK;
}

xb_status xb_json_read(const char *text, size_t len, const char *origin, xb_jnode **out,
                       xb_ctx *ctx) {
    *out = NULL;
    parser p = {.s = text, .n = len, .line = 1, .origin = origin, .ctx = ctx};
    xb_jnode *root = calloc(1, sizeof *root);
    if (!root) return xb_fail(ctx, XB_ERR_NOMEM, "%s: out of memory", origin);
    xb_status st = read_value(&p, root, 0);
    if (st == XB_OK) {
        p.path[0] = '\0';
        skip_ws(&p);
        if (p.i < p.n) st = fail(&p, "text after the end of the JSON value");
    }
    if (st != XB_OK) {
        xb_json_free(root);
        return st;
    }
    *out = root;
    return XB_OK;
}

void xb_json_free(xb_jnode *n) {
    while (n) {
        xb_jnode *next = n->next;
        xb_json_free(n->child);
        free(n->key);
        free(n->text);
        free(n);
        n = next;
    }
}
