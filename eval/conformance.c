/* ONNX backend-test directories -> pass/fail.  See conformance.h.
 *
 * The model is loaded once per data set with the batch taken from that
 * set's first input: node-test models mostly have fixed shapes (binding a
 * batch then changes nothing), and where the first dimension is symbolic
 * the data decide it.
 *
 * int64 inputs are frozen: xbar executes static shapes only, so operands
 * that decide a shape (Reshape's shape, Squeeze/Unsqueeze axes, Pad's pads)
 * must be constants at load time, as exporters emit them.  ONNX's node tests
 * feed those operands as graph inputs instead, so before loading we move
 * every int64 data input into the model as an initializer holding the test's
 * value.  Float inputs are frozen only where they decide an output shape:
 * Resize's and Upsample's `scales` (xb_onnx_mark_shape_floats).  The
 * outputs are still compared with ONNX's; only the moment the operand
 * becomes known changes.  No other float input and no 8-bit input is ever
 * frozen. */
#include "eval/conformance.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "frontend/onnx.h"
#include "runtime/exec.h"
#include "runtime/ir.h"

#define MAX_IO 64

static void set_reason(xb_conformance_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_reason(xb_conformance_result *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->reason, sizeof r->reason, fmt, ap);
    va_end(ap);
    r->pass = false;
}

static bool is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static void tensor_release(xb_tensor *t) {
    free(t->name);
    free(t->q.scale);
    free(t->q.zero_point);
    xb_tensor_free_data(t);
    memset(t, 0, sizeof *t);
}

/* Read prefix_0.pb, prefix_1.pb, ... until one is missing.  Returns the
 * count or -1 (reason set). */
static int read_pbs(const char *set_dir, const char *prefix, xb_tensor *ts,
                    xb_conformance_result *r) {
    int n = 0;
    char path[4096];
    for (;;) {
        snprintf(path, sizeof path, "%s/%s_%d.pb", set_dir, prefix, n);
        if (!is_file(path)) break;
        if (n == MAX_IO) {
            set_reason(r, "%s: more than %d %s files", set_dir, MAX_IO, prefix);
            return -1;
        }
        xb_ctx ctx = {0};
        memset(&ts[n], 0, sizeof ts[n]);
        if (xb_onnx_read_tensor_file(path, &ts[n], &ctx) != XB_OK) {
            tensor_release(&ts[n]);
            set_reason(r, "%s", ctx.msg); /* names the file already */
            return -1;
        }
        n++;
    }
    return n;
}

/* Graph tensor (among `ids`) that data tensor j feeds: by name when the .pb
 * names it (ONNX's generator always does), else by position. */
static int match_io(const xb_graph *g, const int *ids, int n_ids, const xb_tensor *data, int j) {
    if (data->name && data->name[0]) {
        for (int i = 0; i < n_ids; i++)
            if (g->tensors[ids[i]].name && !strcmp(g->tensors[ids[i]].name, data->name))
                return ids[i];
        return -1;
    }
    return j < n_ids ? ids[j] : -1;
}

static bool same_shape(const xb_shape *a, const xb_shape *b) {
    if (a->rank != b->rank) return false;
    for (int i = 0; i < a->rank; i++)
        if (a->d[i] != b->d[i]) return false;
    return true;
}

static double as_double(const void *p, xb_dtype dt, int64_t i) {
    switch (dt) {
    case XB_F32: return ((const float *)p)[i];
    case XB_U8: return ((const uint8_t *)p)[i];
    case XB_I8: return ((const int8_t *)p)[i];
    case XB_I32: return ((const int32_t *)p)[i];
    case XB_I64: return (double)((const int64_t *)p)[i];
    case XB_BOOL: return ((const uint8_t *)p)[i];
    default: return NAN;
    }
}

/* Compare one output; false with reason set on mismatch. */
static bool compare_output(const xb_tensor *mt, const void *got, const xb_tensor *want, int set,
                           xb_conformance_result *r) {
    char s1[128], s2[128];
    if (mt->dtype != want->dtype) {
        set_reason(r, "set %d output '%s': dtype %s, expected %s", set, mt->name,
                   xb_dtype_name(mt->dtype), xb_dtype_name(want->dtype));
        return false;
    }
    if (!same_shape(&mt->shape, &want->shape)) {
        set_reason(r, "set %d output '%s': shape %s, expected %s", set, mt->name,
                   xb_shape_str(&mt->shape, s1, sizeof s1),
                   xb_shape_str(&want->shape, s2, sizeof s2));
        return false;
    }
    int64_t n = xb_shape_numel(&want->shape);
    int64_t bad = 0, worst = -1;
    double out_max = 0; /* max |got - want| over this output's finite elements */
    double worst_excess = -1.0;
    if (want->dtype == XB_F32) {
        const float *a = got, *b = want->data;
        for (int64_t i = 0; i < n; i++) {
            double x = a[i], y = b[i];
            bool ok;
            if (isnan(y))
                ok = isnan(x);
            else if (isinf(y))
                ok = x == y;
            else {
                double d = fabs(x - y);
                ok = d <= XB_CONF_ATOL + XB_CONF_RTOL * fabs(y); /* false for NaN x */
                if (d > r->max_abs_err) r->max_abs_err = d;
                if (d > out_max) out_max = d;
            }
            if (!ok) {
                /* Report the element furthest outside its tolerance. */
                double excess = isfinite(x) && isfinite(y)
                                    ? fabs(x - y) - (XB_CONF_ATOL + XB_CONF_RTOL * fabs(y))
                                    : INFINITY;
                if (excess > worst_excess || worst < 0) worst_excess = excess, worst = i;
                bad++;
            }
        }
    } else {
        size_t es = xb_dtype_size(want->dtype);
        for (int64_t i = 0; i < n; i++)
            if (memcmp((const char *)got + (size_t)i * es, (const char *)want->data + (size_t)i * es,
                       es)) {
                if (worst < 0) worst = i;
                bad++;
            }
    }
    if (bad) {
        char maxerr[64] = "";
        if (want->dtype == XB_F32) snprintf(maxerr, sizeof maxerr, "; max abs error %.3g", out_max);
        set_reason(r,
                   "set %d output '%s' %s: %lld of %lld elements differ (%s)%s; worst at flat "
                   "index %lld: got %.9g, expected %.9g",
                   set, mt->name, xb_shape_str(&want->shape, s1, sizeof s1), (long long)bad,
                   (long long)n,
                   want->dtype == XB_F32 ? "rtol 1e-3, atol 1e-5" : "integers must be exact",
                   maxerr, (long long)worst, as_double(got, want->dtype, worst),
                   as_double(want->data, want->dtype, worst));
        return false;
    }
    return true;
}

static uint8_t *read_file(const char *path, size_t *len, xb_conformance_result *r) {
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    if (!f) {
        set_reason(r, "%s: cannot open", path);
        return NULL;
    }
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0) {
        set_reason(r, "%s: cannot determine size", path);
    } else if (!(buf = malloc((size_t)n + 1))) {
        set_reason(r, "%s: out of memory", path);
    } else if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        set_reason(r, "%s: short read", path);
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Load `model` with the int64 and scales inputs frozen[j] turned into
 * initializers (see the top of the file; the protobuf editing is the
 * frontend's, frontend/onnx_freeze.c). */
static xb_status load_frozen(const char *model, int64_t batch, const xb_tensor *in, int n_in,
                             bool *frozen, xb_graph **g, xb_ctx *ctx, xb_conformance_result *r) {
    size_t len = 0;
    uint8_t *bytes = read_file(model, &len, r);
    if (!bytes) return xb_fail(ctx, XB_ERR_IO, "%s", r->reason);
    for (int j = 0; j < n_in; j++) frozen[j] = in[j].dtype == XB_I64 && in[j].name && in[j].name[0];
    xb_onnx_mark_shape_floats(bytes, len, in, n_in, frozen);
    xb_status st = xb_onnx_load_frozen(bytes, len, model, batch, in, n_in, frozen, g, ctx);
    free(bytes);
    return st;
}

static bool run_set(const char *dir, const char *set_dir, int set, xb_conformance_result *r) {
    xb_tensor in[MAX_IO], out[MAX_IO];
    bool frozen[MAX_IO] = {false};
    int n_in = read_pbs(set_dir, "input", in, r);
    if (n_in < 0) return false;
    int n_out = read_pbs(set_dir, "output", out, r);
    bool ok = false;
    xb_graph *g = NULL;
    xb_exec *e = NULL;
    xb_ctx ctx = {0};
    char model[4096], s1[128], s2[128];
    if (n_out < 0) goto done;
    if (n_out == 0) {
        set_reason(r, "%s: no output_0.pb", set_dir);
        goto done;
    }
    snprintf(model, sizeof model, "%s/model.onnx", dir);
    int64_t batch = n_in > 0 && in[0].shape.rank > 0 && in[0].shape.d[0] > 0 ? in[0].shape.d[0] : 1;
    if (load_frozen(model, batch, in, n_in, frozen, &g, &ctx, r) != XB_OK) {
        set_reason(r, "load: %s", ctx.msg);
        g = NULL;
        goto done;
    }
    int n_live = 0;
    for (int j = 0; j < n_in; j++) n_live += !frozen[j];
    if (n_live != g->n_inputs) {
        set_reason(r, "set %d: %d input files (not counting frozen ones), model has %d "
                   "non-constant inputs", set, n_live, g->n_inputs);
        goto done;
    }
    if (n_out != g->n_outputs) {
        set_reason(r, "set %d: %d output files, model has %d outputs", set, n_out, g->n_outputs);
        goto done;
    }
    e = xb_exec_new(g, &ctx);
    if (!e) {
        set_reason(r, "exec: %s", ctx.msg);
        goto done;
    }
    for (int j = 0; j < n_in; j++) {
        if (frozen[j]) continue;
        int t = match_io(g, g->inputs, g->n_inputs, &in[j], j);
        if (t < 0) {
            set_reason(r, "set %d: input_%d.pb names '%s', not a graph input", set, j,
                       in[j].name ? in[j].name : "");
            goto done;
        }
        const xb_tensor *mt = &g->tensors[t];
        if (mt->dtype != in[j].dtype || !same_shape(&mt->shape, &in[j].shape)) {
            set_reason(r, "set %d input '%s': data %s %s, model %s %s", set, mt->name,
                       xb_dtype_name(in[j].dtype), xb_shape_str(&in[j].shape, s1, sizeof s1),
                       xb_dtype_name(mt->dtype), xb_shape_str(&mt->shape, s2, sizeof s2));
            goto done;
        }
        size_t bytes = (size_t)xb_shape_numel(&mt->shape) * xb_dtype_size(mt->dtype);
        if (bytes) memcpy(e->buf[t], in[j].data, bytes);
    }
    if (xb_exec_run(e, &ctx) != XB_OK) {
        set_reason(r, "run: %s", ctx.msg);
        goto done;
    }
    ok = true;
    for (int j = 0; j < n_out && ok; j++) {
        int t = match_io(g, g->outputs, g->n_outputs, &out[j], j);
        if (t < 0) {
            set_reason(r, "set %d: output_%d.pb names '%s', not a graph output", set, j,
                       out[j].name ? out[j].name : "");
            ok = false;
            break;
        }
        ok = compare_output(&g->tensors[t], e->buf[t], &out[j], set, r);
    }
done:
    xb_exec_free(e);
    xb_graph_free(g);
    for (int j = 0; j < n_in; j++) tensor_release(&in[j]);
    for (int j = 0; j < (n_out > 0 ? n_out : 0); j++) tensor_release(&out[j]);
    return ok;
}

bool xb_conformance_run_dir(const char *dir, xb_conformance_result *r) {
    memset(r, 0, sizeof *r);
    char path[4096];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    if (!is_file(path)) {
        set_reason(r, "%s: no such file", path);
        return false;
    }
    for (int set = 0;; set++) {
        snprintf(path, sizeof path, "%s/test_data_set_%d", dir, set);
        if (!is_dir(path)) {
            if (set == 0) {
                set_reason(r, "%s: no test_data_set_0", dir);
                return false;
            }
            break;
        }
        if (!run_set(dir, path, set, r)) return false;
        r->n_sets++;
    }
    r->pass = true;
    r->reason[0] = '\0';
    return true;
}

int xb_conformance_read_list(const char *path, char ***names, xb_ctx *ctx) {
    *names = NULL;
    FILE *f = fopen(path, "r");
    if (!f) return xb_fail(ctx, XB_ERR_IO, "%s: cannot open", path), -1;
    char line[1024];
    int n = 0, cap = 0;
    char **v = NULL;
    while (fgets(line, sizeof line, f)) {
        char *p = line;
        while (isspace((unsigned char)*p)) p++;
        if (*p == '#' || *p == '\0') continue;
        char *q = p;
        while (*q && !isspace((unsigned char)*q) && *q != '#') q++;
        *q = '\0';
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **nv = realloc(v, (size_t)cap * sizeof *nv);
            if (!nv) goto nomem;
            v = nv;
        }
        if (!(v[n] = xb_strdup(ctx, p))) goto fail;
        n++;
    }
    fclose(f);
    *names = v;
    return n;
nomem:
    xb_fail(ctx, XB_ERR_NOMEM, "%s: out of memory", path);
fail:
    fclose(f);
    xb_conformance_free_list(v, n);
    return -1;
}

void xb_conformance_free_list(char **names, int n) {
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}
